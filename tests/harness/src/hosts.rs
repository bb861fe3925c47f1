//! Chains read from the host configurations we ship, as well as from chain files.
//!
//! [`load`] accepts, detected by content (and extension for YAML):
//! - a harness chain file (JSON with `"filters"`), as [`ChainSpec::from_file`];
//! - an Envoy bootstrap (`static_resources`, e.g. `envoy/envoy.yaml`): the HTTP filters of
//!   type `envoy.filters.http.wasm` of the first HTTP connection manager that has any, in
//!   order; per filter, `config.name` (else `config.root_id`) is the filter's name (its
//!   `plugin_name`) and `config.root_id` its `plugin_root_id`, `config.configuration` (a `google.protobuf.StringValue`) the plugin config,
//!   `config.vm_config.configuration` the VM config and `config.vm_config.code.local.filename`
//!   the module; profile [`HostProfile::Envoy`]; the bootstrap's `node.id` and
//!   `node.cluster` (`""` without a `node:` block) become those properties;
//! - a Kong declarative config (`_format_version`, `services`, `routes`, `filter_chains` or
//!   `plugins`, e.g. `kong-wasm/kong.yml` or `kong-plugins.yml`): the filters of the first
//!   route (or service) that has any, in Kong's order (kong/runloop/wasm.lua): the
//!   service's, then the route's; per entity, its enabled filter chain's enabled filters
//!   (Kong 3.4+), then its plugins that are Wasm filters (Kong 3.9+: `pre_function`,
//!   `post_function`, or a name with a module in the filters path) sorted by name; the module
//!   of filter `NAME` is `NAME.wasm` in the filters path (Kong's `wasm_filters_path` rule,
//!   see `kong-wasm/kong.conf`); profile [`HostProfile::Kong`]; the `untrusted_lua*` lines
//!   of `kong.conf` (beside the declarative file, or [`LoadOptions::kong_conf`]) become the
//!   `kong.configuration.*` properties; its `nginx_wasm_shm_kv_<name>` lines declare
//!   `shm_kv` zone `<name>` and `nginx_wasm_main_shm_kv` the zone `*`
//!   (`ChainSpec.shm_zones`); `nginx_http_client_body_buffer_size` sets
//!   `ChainSpec.client_body_buffer_size` (Kong's default 8k otherwise);
//! - the same file written for Kong's own Lua plugins (a decK or DB-less file with
//!   `plugins: [{name: pre-function, config: {access: [...]}}]` and no Wasm filter): the
//!   `pre-function` and `post-function` instances that apply to the first route that has
//!   any (Kong's precedence: route, then service, then global), as the filters
//!   `pre-function` then `post-function` (Kong's priority order), each config with its
//!   `role`, module `kong_functions.wasm` as above, profile [`HostProfile::Envoy`] (these
//!   plugins do not run on Kong's Wasm engine), kong.conf's `untrusted_lua*` lines as
//!   the VM configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use wasmtime::{bail, format_err, Result};

use crate::spec::{ChainSpec, FilterSpec, HostProfile};

/// What kind of file a chain came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A harness chain file.
    ChainFile,
    /// An Envoy bootstrap.
    Envoy,
    /// A Kong declarative config.
    Kong,
}

/// Options for [`load`].
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Use this module for every filter instead of the path the config names.
    pub module: Option<PathBuf>,
    /// Kong's `wasm_filters_path`: where `NAME.wasm` is looked up. Default: `target/`
    /// (the working directory's, then the one beside the config's folder).
    pub filters_path: Option<PathBuf>,
    /// The `kong.conf` to read properties from. Default: `kong.conf` beside the
    /// declarative config, when present.
    pub kong_conf: Option<PathBuf>,
}

/// A chain and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The chain, modules resolved.
    pub spec: ChainSpec,
    /// The kind of source.
    pub kind: SourceKind,
    /// Notes worth telling the user (module fallbacks, skipped entries).
    pub notes: Vec<String>,
}

/// Reads a chain from `path` (chain file, Envoy bootstrap or Kong declarative config).
///
/// Errors: unreadable or unparsable file, a file of none of these kinds, no Wasm filter in
/// it, a filter the harness cannot load (remote code, a non-StringValue configuration), or
/// a module that cannot be found; messages name the file.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Loaded> {
    let text = std::fs::read_to_string(path).map_err(|e| format_err!("{}: cannot read: {e}", path.display()))?;
    let is_yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    let value: Value = if is_yaml {
        serde_norway::from_str(&text).map_err(|e| format_err!("{}: invalid YAML: {e}", path.display()))?
    } else {
        serde_json::from_str(&text).map_err(|e| format_err!("{}: invalid JSON: {e}", path.display()))?
    };
    let Value::Object(top) = &value else {
        bail!("{}: expected an object at the top level", path.display());
    };
    if top.contains_key("filters") && !is_yaml {
        let mut spec = ChainSpec::from_file(path)?;
        if let Some(module) = &options.module {
            for filter in &mut spec.filters {
                filter.module = module.clone();
            }
        }
        return Ok(Loaded { spec, kind: SourceKind::ChainFile, notes: Vec::new() });
    }
    if top.contains_key("static_resources") {
        return envoy(path, &value, options);
    }
    if ["_format_version", "services", "routes", "filter_chains", "plugins"].iter().any(|k| top.contains_key(*k)) {
        return kong(path, &value, options);
    }
    bail!(
        "{}: not a chain file (\"filters\"), an Envoy bootstrap (\"static_resources\") or a Kong declarative config (\"_format_version\")",
        path.display()
    )
}

const WASM_FILTER_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const HCM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const STRING_VALUE_TYPE: &str = "type.googleapis.com/google.protobuf.StringValue";

/// The text of a `google.protobuf.StringValue` Any (`{"@type", "value"}`); empty when absent.
fn string_value(any: Option<&Value>, what: &str, file: &Path) -> Result<Value> {
    let Some(any) = any else { return Ok(Value::Null) };
    let ty = any.get("@type").and_then(Value::as_str).unwrap_or("");
    if ty != STRING_VALUE_TYPE {
        bail!("{}: {what}: only {STRING_VALUE_TYPE} is supported, found {ty:?}", file.display());
    }
    match any.get("value") {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(Value::String(s)) => Ok(Value::String(s.clone())),
        Some(other) => bail!("{}: {what}: \"value\" must be a string, found {other}", file.display()),
    }
}

fn envoy(path: &Path, root: &Value, options: &LoadOptions) -> Result<Loaded> {
    let mut notes = Vec::new();
    let listeners = root.pointer("/static_resources/listeners").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut chains: Vec<(String, Vec<Value>, Vec<String>)> = Vec::new();
    for listener in &listeners {
        let listener_name = listener.get("name").and_then(Value::as_str).unwrap_or("?").to_string();
        for fc in listener.get("filter_chains").and_then(Value::as_array).into_iter().flatten() {
            for nf in fc.get("filters").and_then(Value::as_array).into_iter().flatten() {
                let typed = nf.get("typed_config");
                if typed.and_then(|t| t.get("@type")).and_then(Value::as_str) != Some(HCM_TYPE) {
                    continue;
                }
                let wasm: Vec<Value> = typed
                    .and_then(|t| t.get("http_filters"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|f| {
                        f.pointer("/typed_config/@type").and_then(Value::as_str) == Some(WASM_FILTER_TYPE)
                            && f.get("disabled").and_then(Value::as_bool) != Some(true)
                    })
                    .cloned()
                    .collect();
                let upgrades: Vec<String> = typed
                    .and_then(|t| t.get("upgrade_configs"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|u| u.get("enabled").and_then(Value::as_bool) != Some(false))
                    .filter_map(|u| u.get("upgrade_type").and_then(Value::as_str).map(str::to_ascii_lowercase))
                    .collect();
                if !wasm.is_empty() {
                    chains.push((listener_name.clone(), wasm, upgrades));
                }
            }
        }
    }
    let Some((listener, filters, upgrade_types)) = chains.first().cloned() else {
        bail!("{}: no HTTP connection manager with an envoy.filters.http.wasm filter", path.display());
    };
    if chains.len() > 1 {
        notes.push(format!("{} filter chains have Wasm filters; using the first (listener {listener:?})", chains.len()));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut specs = Vec::new();
    let mut vm_config = Value::Null;
    // Envoy 1.35+'s per-plugin `allow_on_headers_stop_iteration` (default false); the
    // harness models it for the chain: on when every Wasm filter sets it.
    let flags: Vec<bool> = filters
        .iter()
        .map(|f| f.pointer("/typed_config/config/allow_on_headers_stop_iteration").and_then(Value::as_bool).unwrap_or(false))
        .collect();
    let allow_on_headers_stop_iteration = flags.iter().all(|f| *f);
    if flags.iter().any(|f| *f) && !allow_on_headers_stop_iteration {
        notes.push("only some Wasm filters set allow_on_headers_stop_iteration; the harness models it off for all".into());
    }
    // `failure_policy: FAIL_OPEN` (or the older `fail_open: true`) on every plugin: the
    // chain fails open ([`ChainSpec::fail_open`]).
    let fail_open = !filters.is_empty()
        && filters.iter().all(|f| {
            let config = f.pointer("/typed_config/config");
            config.and_then(|c| c.get("failure_policy")).and_then(Value::as_str) == Some("FAIL_OPEN")
                || config.and_then(|c| c.get("fail_open")).and_then(Value::as_bool) == Some(true)
        });
    for (i, f) in filters.iter().enumerate() {
        let config = f.pointer("/typed_config/config").cloned().unwrap_or(Value::Null);
        let what = format!("wasm filter {}", i + 1);
        // `plugin_name` is the plugin's `name`, `plugin_root_id` its `root_id` (Envoy
        // `context.cc`); either stands for the other when one is missing.
        let text = |key: &str| config.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        let root_id = text("root_id");
        let name = text("name").or_else(|| root_id.clone()).unwrap_or_default();
        let root_id = root_id.filter(|r| *r != name);
        let plugin_config = string_value(config.get("configuration"), &format!("{what} ({name}): configuration"), path)?;
        let vm = config.get("vm_config").cloned().unwrap_or(Value::Null);
        let this_vm_config = string_value(vm.get("configuration"), &format!("{what} ({name}): vm_config.configuration"), path)?;
        if i == 0 {
            vm_config = this_vm_config;
        } else if this_vm_config != vm_config {
            notes.push(format!("{what} ({name}) has another vm_config.configuration; the harness uses the first filter's"));
        }
        let module = match &options.module {
            Some(m) => m.clone(),
            None => {
                let Some(filename) = vm.pointer("/code/local/filename").and_then(Value::as_str) else {
                    bail!("{}: {what} ({name}): only vm_config.code.local.filename is supported; pass --module", path.display());
                };
                find_module(Path::new(filename), base, &mut notes).ok_or_else(|| {
                    format_err!(
                        "{}: {what} ({name}): module {filename} not found (nor {} in target/); build it with `make build` or pass --module",
                        path.display(),
                        Path::new(filename).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
                    )
                })?
            }
        };
        specs.push(FilterSpec { name, module, config: plugin_config, root_id });
    }
    let envoy = crate::spec::EnvoyMode { allow_on_headers_stop_iteration, ..Default::default() };
    // `node.*` comes from the bootstrap's `node:` block (Envoy `context.cc` `findValue`,
    // `local_info.node()`); without one `node.id` (and `node.cluster`) is "".
    let mut properties = BTreeMap::new();
    for field in ["id", "cluster"] {
        let value = root.pointer(&format!("/node/{field}")).and_then(Value::as_str).unwrap_or("");
        properties.insert(format!("node.{field}"), value.to_string());
    }
    let spec =
        ChainSpec { filters: specs, vm_config, properties, profile: HostProfile::Envoy, envoy, upgrade_types, fail_open, ..ChainSpec::default() };
    Ok(Loaded { spec, kind: SourceKind::Envoy, notes })
}

/// The module an Envoy `filename` stands for: the file itself when it exists, else a
/// file of the same name in `target/` beside the config's folder (as
/// envoy/docker-compose.yml mounts `../target/kong_functions.wasm`) or the working
/// directory's `target/`.
fn find_module(filename: &Path, base: &Path, notes: &mut Vec<String>) -> Option<PathBuf> {
    let direct = if filename.is_relative() { base.join(filename) } else { filename.to_path_buf() };
    if direct.is_file() {
        return Some(direct);
    }
    let file_name = filename.file_name()?;
    for dir in [base.join("../target"), PathBuf::from("target")] {
        let candidate = dir.join(file_name);
        if candidate.is_file() {
            notes.push(format!("module {} mapped to {}", filename.display(), candidate.display()));
            return Some(candidate);
        }
    }
    None
}

/// A Kong entity's `enabled` flag (true when absent).
fn enabled(entity: &Value) -> bool {
    entity.get("enabled").and_then(Value::as_bool) != Some(false)
}

fn kong(path: &Path, root: &Value, options: &LoadOptions) -> Result<Loaded> {
    let mut notes = Vec::new();
    let base = path.parent().unwrap_or(Path::new("."));
    let filters_dirs: Vec<PathBuf> = match &options.filters_path {
        Some(dir) => vec![dir.clone()],
        None => vec![PathBuf::from("target"), base.join("../target")],
    };
    let resolve = |name: &str, notes: &mut Vec<String>| -> Option<PathBuf> {
        if let Some(m) = &options.module {
            return Some(m.clone());
        }
        for dir in &filters_dirs {
            let named = dir.join(format!("{name}.wasm"));
            if named.is_file() {
                return Some(named);
            }
        }
        // Not installed under its name: the module we build, which is what the
        // install step copies to NAME.wasm.
        for dir in &filters_dirs {
            let built = dir.join("kong_functions.wasm");
            if built.is_file() {
                notes.push(format!("filter {name}: no {name}.wasm, using {}", built.display()));
                return Some(built);
            }
        }
        None
    };

    // Kong builds a route's filter list as its service's filters, then the route's
    // (kong/runloop/wasm.lua build_filter_list); each entity's list is its enabled
    // filter chain's enabled filters, then its filter plugins (3.9+) sorted by name.
    // The harness serves one route: the first in the file that has filters, with the
    // filters of the service it sits in.
    let is_filter = |name: &str| {
        name == "pre_function"
            || name == "post_function"
            || filters_dirs.iter().any(|d| d.join(format!("{name}.wasm")).is_file())
    };
    let own_filters = |entity: &Value, notes: &mut Vec<String>| -> Vec<(String, Value)> {
        let mut out = Vec::new();
        let chains: Vec<&Value> =
            entity.get("filter_chains").and_then(Value::as_array).into_iter().flatten().filter(|c| enabled(c)).collect();
        if chains.len() > 1 {
            notes.push(format!("{} enabled filter chains on one entity; using the first", chains.len()));
        }
        if let Some(chain) = chains.first() {
            for filter in chain.get("filters").and_then(Value::as_array).into_iter().flatten().filter(|f| enabled(f)) {
                let name = filter.get("name").and_then(Value::as_str).unwrap_or("").to_string();
                out.push((name, filter.get("config").cloned().unwrap_or(Value::Null)));
            }
        }
        let mut plugins: Vec<(String, Value)> = Vec::new();
        for plugin in entity.get("plugins").and_then(Value::as_array).into_iter().flatten().filter(|p| enabled(p)) {
            let name = plugin.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            if is_filter(&name) {
                plugins.push((name, plugin.get("config").cloned().unwrap_or(Value::Null)));
            } else {
                notes.push(format!("plugin {name} is not a Wasm filter; skipped"));
            }
        }
        // Kong 3.9+ runs filter plugins sorted by name (filter_plugin_compare).
        plugins.sort_by(|a, b| a.0.cmp(&b.0));
        out.extend(plugins);
        out
    };
    let mut entries: Vec<(String, Value)> = Vec::new();
    let mut candidates: Vec<(Option<&Value>, &Value)> = Vec::new();
    for service in root.get("services").and_then(Value::as_array).into_iter().flatten() {
        for route in service.get("routes").and_then(Value::as_array).into_iter().flatten() {
            candidates.push((Some(service), route));
        }
        candidates.push((None, service));
    }
    for route in root.get("routes").and_then(Value::as_array).into_iter().flatten() {
        candidates.push((None, route));
    }
    candidates.push((None, root));
    for (service, entity) in candidates {
        let mut scratch = Vec::new();
        let own = own_filters(entity, &mut scratch);
        if own.is_empty() {
            continue;
        }
        if let Some(service) = service {
            entries.extend(own_filters(service, &mut notes));
        }
        notes.extend(scratch);
        entries.extend(own);
        if let Some(name) = entity.get("name").and_then(Value::as_str) {
            notes.push(format!("serving the filters of {name:?}"));
        }
        break;
    }
    let mut lua_form = false;
    if entries.is_empty() {
        // Kong's own Lua plugins (`pre-function`/`post-function`, a decK or DB-less file
        // written for Kong without Wasm): their configs run as our filters.
        let (lua, lua_notes) = kong_lua_plugins(root);
        if lua.is_empty() {
            bail!(
                "{}: no filter chain, no Wasm filter plugin (pre_function/post_function) and no pre-function/post-function plugin found",
                path.display()
            );
        }
        notes = lua_notes;
        entries = lua;
        lua_form = true;
    }
    let mut filters = Vec::new();
    for (name, config) in entries {
        if name.is_empty() {
            bail!("{}: a filter without a name", path.display());
        }
        let module = resolve(&name, &mut notes).ok_or_else(|| {
            let dirs: Vec<String> = filters_dirs.iter().map(|d| d.display().to_string()).collect();
            format_err!(
                "{}: filter {name}: neither {name}.wasm nor kong_functions.wasm in {}; build it with `make build`, or pass --filters-path or --module",
                path.display(),
                dirs.join(", ")
            )
        })?;
        filters.push(FilterSpec { name, module, config, root_id: None });
    }

    let conf_path = options.kong_conf.clone().or_else(|| Some(base.join("kong.conf")).filter(|p| p.is_file()));
    let mut properties = BTreeMap::new();
    let mut shm_zones = Vec::new();
    // Kong's own default (kong/templates/kong_defaults.lua `nginx_http_client_body_buffer_size = 8k`).
    let mut client_body_buffer_size = Some(KONG_CLIENT_BODY_BUFFER_SIZE);
    if let Some(conf) = conf_path {
        let text = std::fs::read_to_string(&conf).map_err(|e| format_err!("{}: cannot read: {e}", conf.display()))?;
        for (key, value) in parse_kong_conf(&text) {
            if key.starts_with("untrusted_lua") {
                properties.insert(format!("kong.configuration.{key}"), value);
            } else if let Some(zone) = shm_zone(&key) {
                shm_zones.push(zone);
            } else if key == "nginx_http_client_body_buffer_size" || key == "client_body_buffer_size" {
                client_body_buffer_size = Some(parse_nginx_size(&value).ok_or_else(|| {
                    format_err!("{}: {key} = {value:?}: not an nginx size", conf.display())
                })?);
            }
        }
    }
    if lua_form {
        // Kong's Lua plugins run on nginx with lua-nginx-module, not on Kong's Wasm engine,
        // so the engine's quirks (the `kong` profile) do not belong to them: the chain runs
        // on the `envoy` profile, where the filter behaves as Kong's Lua plugins do, and
        // kong.conf's untrusted_lua* settings become the VM configuration.
        let vm_config: serde_json::Map<String, Value> = properties
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix("kong.configuration.")?;
                let value = if key == "untrusted_lua" {
                    Value::String(v.clone())
                } else {
                    // untrusted_lua_sandbox_requires/_environment: comma-separated lists.
                    Value::Array(v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.into())).collect())
                };
                Some((key.to_string(), value))
            })
            .collect();
        notes.push(
            "Kong's Lua pre-function/post-function plugins: run as the filters pre-function, post-function on the envoy profile".into(),
        );
        let spec = ChainSpec {
            filters,
            vm_config: if vm_config.is_empty() { Value::Null } else { Value::Object(vm_config) },
            profile: HostProfile::Envoy,
            ..ChainSpec::default()
        };
        return Ok(Loaded { spec, kind: SourceKind::Kong, notes });
    }
    let spec = ChainSpec {
        filters,
        vm_config: Value::Null,
        properties,
        profile: HostProfile::Kong,
        shm_zones,
        client_body_buffer_size,
        ..ChainSpec::default()
    };
    Ok(Loaded { spec, kind: SourceKind::Kong, notes })
}

/// A reference to a Kong entity as declarative files write it: `"name-or-id"`,
/// `{name: ...}` or `{id: ...}`. Returns the names and ids it can match.
fn entity_ref(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("name").or_else(|| o.get("id")).and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// Whether `entity` (a service or route) is the one `reference` names.
fn is_entity(entity: &Value, reference: &str) -> bool {
    ["name", "id"].iter().any(|k| entity.get(*k).and_then(Value::as_str) == Some(reference))
}

/// Kong's Lua `pre-function`/`post-function` plugins of a declarative (decK or DB-less)
/// file, as the filters `pre-function` and `post-function`, in Kong's run order
/// (pre-function's priority 1000000 first, post-function's -1000 last:
/// kong/plugins/pre-function/handler.lua, post-function/handler.lua).
///
/// Plugins sit on a route, a service or globally (top-level `plugins` without a
/// `route`/`service`/`consumer`, or a top-level plugin naming its `route`/`service`).
/// For a request on a route, Kong runs one instance of each plugin, the most specific:
/// the route's, else its service's, else the global one (Kong's plugin iterator,
/// kong/runloop/plugins_iterator.lua). The harness serves one route: the first in the
/// file for which either plugin applies (or, without routes, the first service; else
/// the global plugins). Consumer-scoped instances need an authenticated consumer and are
/// skipped. Each config gets `role` (this filter's extension) so the role never depends
/// on the host's naming. Returns the filters and notes.
fn kong_lua_plugins(root: &Value) -> (Vec<(String, Value)>, Vec<String>) {
    const NAMES: [&str; 2] = ["pre-function", "post-function"];
    let mut notes = Vec::new();
    let plugins_of = |entity: &Value| -> Vec<Value> {
        entity
            .get("plugins")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|p| enabled(p) && NAMES.contains(&p.get("name").and_then(Value::as_str).unwrap_or("")))
            .cloned()
            .collect()
    };
    // Top-level plugins: global, or naming their route/service/consumer.
    let top: Vec<Value> = plugins_of(root);
    let global: Vec<&Value> = top
        .iter()
        .filter(|p| ["route", "service", "consumer"].iter().all(|k| p.get(*k).is_none_or(Value::is_null)))
        .collect();
    let consumer_scoped = top.iter().filter(|p| p.get("consumer").is_some_and(|c| !c.is_null())).count()
        + root
            .get("consumers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| plugins_of(c).len())
            .sum::<usize>();
    if consumer_scoped > 0 {
        notes.push(format!("{consumer_scoped} consumer-scoped pre-/post-function instance(s) skipped (no consumer in the harness)"));
    }
    let attached = |entity: &Value, key: &str| -> Vec<Value> {
        let mut own = plugins_of(entity);
        own.extend(
            top.iter()
                .filter(|p| p.get("consumer").is_none_or(Value::is_null))
                .filter(|p| entity_ref(p.get(key)).is_some_and(|r| is_entity(entity, &r)))
                .cloned(),
        );
        own
    };
    let services: Vec<&Value> = root.get("services").and_then(Value::as_array).into_iter().flatten().collect();
    // (route, its service) in file order: nested routes, then top-level ones.
    let mut routes: Vec<(&Value, Option<&Value>)> = Vec::new();
    for service in &services {
        for route in service.get("routes").and_then(Value::as_array).into_iter().flatten() {
            routes.push((route, Some(service)));
        }
    }
    for route in root.get("routes").and_then(Value::as_array).into_iter().flatten() {
        let service = entity_ref(route.get("service")).and_then(|r| services.iter().copied().find(|s| is_entity(s, &r)));
        routes.push((route, service));
    }
    let pick = |route: Option<&Value>, service: Option<&Value>| -> Vec<(String, Value)> {
        let route_plugins = route.map(|r| attached(r, "route")).unwrap_or_default();
        let service_plugins = service.map(|s| attached(s, "service")).unwrap_or_default();
        let mut out = Vec::new();
        for name in NAMES {
            let named = |list: &[Value]| list.iter().find(|p| p.get("name").and_then(Value::as_str) == Some(name)).cloned();
            let chosen = named(&route_plugins)
                .or_else(|| named(&service_plugins))
                .or_else(|| global.iter().find(|p| p.get("name").and_then(Value::as_str) == Some(name)).map(|p| (*p).clone()));
            if let Some(plugin) = chosen {
                let mut config = plugin.get("config").cloned().unwrap_or_else(|| Value::Object(Default::default()));
                if let Value::Object(map) = &mut config {
                    map.entry("role").or_insert_with(|| Value::String(name.to_string()));
                }
                out.push((name.to_string(), config));
            }
        }
        out
    };
    for (route, service) in &routes {
        let chosen = pick(Some(route), *service);
        if !chosen.is_empty() {
            let label = route.get("name").or_else(|| route.get("id")).and_then(Value::as_str).unwrap_or("(unnamed)");
            notes.push(format!("serving route {label:?}"));
            return (chosen, notes);
        }
    }
    for service in &services {
        let chosen = pick(None, Some(service));
        if !chosen.is_empty() {
            let label = service.get("name").or_else(|| service.get("id")).and_then(Value::as_str).unwrap_or("(unnamed)");
            notes.push(format!("serving service {label:?}"));
            return (chosen, notes);
        }
    }
    (pick(None, None), notes)
}

/// Kong's default `client_body_buffer_size` (kong/templates/kong_defaults.lua: 8k).
pub const KONG_CLIENT_BODY_BUFFER_SIZE: usize = 8 * 1024;

/// The `shm_kv` zone a kong.conf key declares: `nginx_wasm_shm_kv_<name>` declares zone
/// `<name>` (Kong's conf_loader prefix `nginx_wasm_shm_kv_` → `shm_kv <name> <size>;` in
/// `wasm{}`, kong/templates/nginx.lua), `nginx_wasm_main_shm_kv` the default zone `*`
/// (Kong 3.7, #12663: shared data "without namespaced keys").
pub fn shm_zone(key: &str) -> Option<String> {
    if key == "nginx_wasm_main_shm_kv" {
        return Some("*".into());
    }
    key.strip_prefix("nginx_wasm_shm_kv_").filter(|name| !name.is_empty()).map(str::to_string)
}

/// An nginx size (`16k`, `1m`, `8192`) in bytes.
pub fn parse_nginx_size(value: &str) -> Option<usize> {
    let value = value.trim().to_ascii_lowercase();
    let (digits, unit) = match value.as_bytes().last()? {
        b'k' => (&value[..value.len() - 1], 1024),
        b'm' => (&value[..value.len() - 1], 1024 * 1024),
        b'g' => (&value[..value.len() - 1], 1024 * 1024 * 1024),
        _ => (value.as_str(), 1),
    };
    digits.parse::<usize>().ok().map(|n| n * unit)
}

/// `key = value` lines of a kong.conf, `#` comments removed (Kong's own rule: a `#` starts
/// a comment unless escaped as `\#`), keys lowercased.
pub fn parse_kong_conf(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut clean = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'#') => {
                    clean.push('#');
                    chars.next();
                }
                '#' => break,
                other => clean.push(other),
            }
        }
        if let Some((key, value)) = clean.split_once('=') {
            let key = key.trim();
            if !key.is_empty() {
                out.push((key.to_ascii_lowercase(), value.trim().to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kong_conf_shm_zones_and_sizes() {
        assert_eq!(shm_zone("nginx_wasm_shm_kv_kong_functions").as_deref(), Some("kong_functions"));
        assert_eq!(shm_zone("nginx_wasm_main_shm_kv").as_deref(), Some("*"));
        assert_eq!(shm_zone("nginx_wasm_shm_kv_"), None);
        assert_eq!(shm_zone("nginx_http_foo"), None);
        assert_eq!(parse_nginx_size("16k"), Some(16384));
        assert_eq!(parse_nginx_size("1M"), Some(1 << 20));
        assert_eq!(parse_nginx_size("100"), Some(100));
        assert_eq!(parse_nginx_size("x"), None);
    }

    #[test]
    fn kong_conf_lines_comments_and_escapes() {
        let parsed = parse_kong_conf("# c\nwasm = on\nuntrusted_lua = sandbox   # mode\nX = a\\#b\n\n");
        assert_eq!(
            parsed,
            vec![("wasm".into(), "on".into()), ("untrusted_lua".into(), "sandbox".into()), ("x".into(), "a#b".into())]
        );
    }
}
