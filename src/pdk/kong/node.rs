//! `kong.node` (as Kong's `kong/pdk/node.lua`) and the `kong.version` /
//! `kong.version_num` fields.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table};

use crate::pdk::{lua_string, set_function, Pdk};
use crate::properties::Need;

/// The Kong PDK this filter follows (Kong's `kong/meta.lua` of the source we mirror):
/// `kong.version` outside Kong. On Kong the gateway's own `kong.version` is used.
pub const KONG_VERSION: &str = "3.10.0";

/// Shared-data key of the generated node id (as Kong's `kong:node_id` shm key).
const NODE_ID_KEY: &str = "kong_functions.node_id";

/// Builds the `kong.node` table: `get_id`, `get_hostname`.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "get_id", pdk, get_id);
    set_function(ctx, t, "get_hostname", pdk, get_hostname);
    set_function(ctx, t, "get_memory_stats", pdk, get_memory_stats);
    t
}

/// `kong.node.get_memory_stats([unit[, scale]])`, in Kong's shape:
/// `{ workers_lua_vms = { { pid = <pid>, http_allocated_gc = n } }, lua_shared_dicts = { [name] =
/// { allocated_slabs = n, capacity = n } } }`.
/// A proxy-wasm filter instance is one Lua VM: its heap (piccolo's allocation count,
/// what the `memory_bytes` limit measures) is the one worker entry, its `pid` nginx's
/// `$pid` on nginx's engine (0 elsewhere); `lua_shared_dicts` lists the `ngx.shared`
/// dictionaries (`pdk::ngx::shared`), `allocated_slabs` being what their entries count. `unit` `b` (default) gives integers; `k`, `m`, `g` give strings such as
/// `"1.19 MiB"` with `scale` decimals (default 2), as Kong's `bytes_to_str`.
fn get_memory_stats<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let unit = match stack.get(0) {
        piccolo::Value::Nil => "b".to_string(),
        piccolo::Value::String(s) => s.to_str_lossy().into_owned(),
        other => crate::lua::format::display(other),
    };
    let scale = match stack.get(1) {
        piccolo::Value::Nil => 2,
        v => match v.to_number() {
            Some(n) if n >= 0.0 => n as usize,
            _ => return crate::pdk::raise(ctx, &exec, "scale must be equal or greater than 0"),
        },
    };
    let bytes = ctx.metrics().total_allocation();
    let value = match bytes_to_str(bytes, &unit, scale) {
        Some(text) if unit.eq_ignore_ascii_case("b") => piccolo::Value::Integer(text.parse().unwrap_or(0)),
        Some(text) => lua_string(ctx, text.as_bytes()),
        None => return crate::pdk::raise(ctx, &exec, &format!("invalid unit '{unit}' (expected 'k/K', 'm/M', or 'g/G')")),
    };
    let worker = Table::new(&ctx);
    worker.set(ctx, "pid", crate::pdk::ngx::util::worker_pid_of(pdk)).ok();
    worker.set(ctx, "http_allocated_gc", value).ok();
    let workers = Table::new(&ctx);
    workers.set(ctx, 1, worker).ok();
    let stats = Table::new(&ctx);
    stats.set(ctx, "workers_lua_vms", workers).ok();
    // Kong: `{ [name] = { allocated_slabs = capacity - free_space, capacity } }` for
    // every dictionary, in the unit asked for.
    let dicts = Table::new(&ctx);
    let (host, list) = {
        let scope = pdk.scope();
        (scope.host.clone(), scope.shared_dicts.clone())
    };
    for (name, capacity) in list.iter() {
        let used = crate::pdk::ngx::shared::used_bytes(host.as_ref(), name).min(*capacity);
        let convert = |n: usize| match bytes_to_str(n, &unit, scale) {
            Some(_) if unit.eq_ignore_ascii_case("b") => piccolo::Value::Integer(n as i64),
            Some(text) => lua_string(ctx, text.as_bytes()),
            None => piccolo::Value::Nil,
        };
        let entry = Table::new(&ctx);
        entry.set(ctx, "allocated_slabs", convert(used)).ok();
        entry.set(ctx, "capacity", convert(*capacity)).ok();
        dicts.set(ctx, lua_string(ctx, name.as_bytes()), entry).ok();
    }
    stats.set(ctx, "lua_shared_dicts", dicts).ok();
    stack.replace(ctx, stats);
    Ok(CallbackReturn::Return)
}

/// Kong's `kong.tools.string.bytes_to_str`; `None` for an unknown unit.
fn bytes_to_str(bytes: usize, unit: &str, scale: usize) -> Option<String> {
    let (divisor, suffix) = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => return Some(bytes.to_string()),
        "k" => (1024f64, "KiB"),
        "m" => (1024f64 * 1024.0, "MiB"),
        "g" => (1024f64 * 1024.0 * 1024.0, "GiB"),
        _ => return None,
    };
    Some(format!("{:.*} {suffix}", scale, bytes as f64 / divisor))
}

/// `kong.version` and `kong.version_num` for this host: Kong's version property when on
/// Kong, else [`KONG_VERSION`]. `version_num` is Kong's `%d%03d%03d` of major, minor,
/// patch (3.4.1 is 3004001).
pub fn version(pdk: &Pdk) -> (String, i64) {
    let scope = pdk.scope();
    let text = Need::Version
        .read_text(scope.host.as_ref(), scope.host_kind)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| KONG_VERSION.to_string());
    let num = version_num(&text).or_else(|| version_num(KONG_VERSION)).unwrap_or(0);
    (text, num)
}

/// `"3.4.1"` (suffixes like `-alpha.1` or `.0-enterprise` ignored) to `3004001`.
fn version_num(text: &str) -> Option<i64> {
    let mut parts = text.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty());
    let major: i64 = parts.next()?.parse().ok()?;
    let minor: i64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let patch: i64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some(major * 1_000_000 + minor.min(999) * 1_000 + patch.min(999))
}

/// `kong.node.get_id()`: the node's id. Kong's `kong.node.id` on Kong, the host's
/// `node.id` elsewhere; a host without one gets a random UUID (v4) generated once and
/// kept in the VM's shared data, so every filter instance of the VM answers the same
/// (as Kong keeps its generated id in the `kong` shm).
fn get_id<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let id = node_id(pdk);
    stack.replace(ctx, lua_string(ctx, id.as_bytes()));
    Ok(CallbackReturn::Return)
}

/// The node id [`get_id`] answers.
pub fn node_id(pdk: &Pdk) -> String {
    let host = pdk.scope().host.clone();
    let kind = pdk.scope().host_kind;
    if let Some(id) = Need::NodeId.read_text(host.as_ref(), kind).filter(|id| !id.is_empty()) {
        return id;
    }
    if let (Some(id), _) = host.shared_data(NODE_ID_KEY) {
        return String::from_utf8_lossy(&id).into_owned();
    }
    let fresh = uuid_v4(host.now_nanos());
    // proxy-wasm has no "add if absent": write, then answer what the store holds, so
    // racing writers settle on the last one.
    let _ = host.set_shared_data(NODE_ID_KEY, Some(fresh.as_bytes()), 0);
    match host.shared_data(NODE_ID_KEY) {
        (Some(id), _) => String::from_utf8_lossy(&id).into_owned(),
        (None, _) => fresh,
    }
}

/// A random version 4 UUID, lowercase and hyphenated as Kong's `utils.uuid()`. The
/// bytes come from WASI's `random_get` (through `getrandom`; Kong's Wasm engine, Envoy
/// and wasmtime all provide it); should that fail, from the clock `seed`, which is
/// still unique per VM start, what the node id needs.
fn uuid_v4(seed: u64) -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        bytes[8..].copy_from_slice(&seed.rotate_left(29).wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    }
    uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string()
}

/// `kong.node.get_hostname()`: the host name (`ngx.hostname` on Kong, Envoy's
/// `node.metadata.hostname`). Kong answers `""` when `gethostname` fails; so does this
/// function when the host does not say.
fn get_hostname<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let name = {
        let scope = pdk.scope();
        Need::Hostname.read_text(scope.host.as_ref(), scope.host_kind).unwrap_or_default()
    };
    stack.replace(ctx, lua_string(ctx, name.as_bytes()));
    Ok(CallbackReturn::Return)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_numbers_as_kong_computes_them() {
        assert_eq!(version_num("3.4.1"), Some(3_004_001));
        assert_eq!(version_num("3.10.0"), Some(3_010_000));
        assert_eq!(version_num("3.9.1.0-enterprise-edition"), Some(3_009_001));
        assert_eq!(version_num("x"), None);
    }

    #[test]
    fn generated_ids_are_v4_uuids() {
        let id = uuid_v4(1);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(uuid_v4(1), uuid_v4(1), "random, not from the seed");
        assert_eq!(id, id.to_ascii_lowercase());
    }
}
