use std::rc::Rc;

use super::*;
use crate::config::{PluginConfig, Role};
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{ConfigureError, PhaseOutcome, RequestState, Runtime};
use crate::vm_config::VmConfig;

fn vm(mode: Mode) -> VmConfig {
    VmConfig { untrusted_lua: mode, ..VmConfig::default() }
}

/// Runs `chunks` in access under `vm`; returns the outcome and the log messages.
fn run_with(vm: &VmConfig, chunks: &[&str]) -> (PhaseOutcome, Vec<String>) {
    let config = PluginConfig::parse(serde_json::json!({ "access": chunks }).to_string().as_bytes()).unwrap();
    let host = Rc::new(FakeHost::default());
    let mut rt = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), vm).unwrap();
    let outcome = rt.run_phase(Phase::Access, &mut RequestState::default());
    let messages = host.messages().into_iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect();
    (outcome, messages)
}

fn run(mode: Mode, source: &str) -> (PhaseOutcome, Vec<String>) {
    run_with(&vm(mode), &[source])
}

/// What `probe` (a Lua expression) evaluates to under `mode`, via `type(...)`.
fn type_of(mode: Mode, probe: &str) -> String {
    let (outcome, messages) = run(mode, &format!("kong.log.info(type({probe}))"));
    assert_eq!(outcome, PhaseOutcome::Continue, "{mode:?} {probe}: {messages:?}");
    messages[0].clone()
}

#[test]
fn off_rejects_any_code_with_kongs_message() {
    let config = PluginConfig::parse(br#"{"access": ["return"]}"#).unwrap();
    let err = Runtime::with_vm_config(&config, Role::PreFunction, Rc::new(FakeHost::default()), &vm(Mode::Off)).err().unwrap();
    assert_eq!(err, ConfigureError::Disabled);
    assert_eq!(
        err.to_string(),
        "loading of untrusted Lua code disabled because 'untrusted_lua' config option is set to 'off'"
    );
}

#[test]
fn reachability_per_mode() {
    // (expression, strict, lax, sandbox, on): strict is Kong's handler environment, lax
    // and sandbox its backward-compatible one (both from kong/tools/sandbox/).
    let table = [
        ("string.rep", "function", "function", "function", "function"),
        ("string.dump", "nil", "nil", "nil", "nil"),
        ("getmetatable", "nil", "nil", "nil", "function"),
        ("setmetatable", "nil", "nil", "nil", "function"),
        ("rawget", "nil", "nil", "nil", "function"),
        ("rawequal", "nil", "nil", "nil", "function"),
        ("loadstring", "nil", "nil", "nil", "function"),
        ("load", "nil", "nil", "nil", "function"),
        ("collectgarbage", "nil", "nil", "nil", "function"),
        ("math.randomseed", "nil", "nil", "nil", "function"),
        ("math.floor", "function", "function", "function", "function"),
        ("os.time", "function", "function", "function", "function"),
        ("os.date", "function", "function", "function", "function"),
        ("table.concat", "function", "function", "function", "function"),
        ("table.new", "function", "function", "function", "function"),
        ("coroutine.wrap", "function", "function", "function", "function"),
        ("bit.band", "function", "function", "function", "function"),
        ("kong.request.get_header", "function", "function", "function", "function"),
        ("kong.service.request.clear_header", "function", "function", "function", "function"),
        ("kong.response.get_source", "function", "function", "function", "function"),
        ("kong.licensing", "nil", "table", "table", "nil"),
        ("ngx.log", "function", "function", "function", "function"),
        ("ngx.ERR", "number", "number", "number", "number"),
        ("ngx.var", "table", "table", "table", "table"),
        ("_G", "table", "table", "table", "table"),
        ("_G.string", "table", "nil", "nil", "table"),
        ("_G.kong", "table", "table", "table", "table"),
        ("_G.require", "function", "function", "function", "function"),
        ("debug", "nil", "nil", "nil", "nil"),
        ("getfenv", "nil", "nil", "nil", "nil"),
        ("print", "function", "function", "function", "function"),
    ];
    for (probe, strict, lax, sandbox, on) in table {
        for (mode, expected) in [(Mode::Strict, strict), (Mode::Lax, lax), (Mode::Sandbox, sandbox), (Mode::On, on)] {
            assert_eq!(type_of(mode, probe), expected, "{probe} in {mode:?}");
        }
    }
}

#[test]
fn string_methods_work_in_every_mode() {
    for mode in [Mode::Strict, Mode::Lax, Mode::Sandbox, Mode::On] {
        let (outcome, messages) = run(mode, "kong.log.info(('ab'):rep(2), ('ab'):upper(), ('%d'):format(7))");
        assert_eq!((outcome, messages), (PhaseOutcome::Continue, vec!["ababAB7".to_string()]), "{mode:?}");
    }
}

#[test]
fn modules_are_read_only_with_kongs_names() {
    // Kong's environment/init.lua protects every module as `protect_modules(env, "_G")`
    // names it: "_G.string", "_G.kong.request" ...
    for mode in [Mode::Strict, Mode::Lax, Mode::Sandbox] {
        for (source, message) in [
            ("string.x = 1", "Cannot modify _G.string.x. Protected by the sandbox."),
            ("table.insert = nil", "Cannot modify _G.table.insert. Protected by the sandbox."),
            ("math.pi = 3", "Cannot modify _G.math.pi. Protected by the sandbox."),
        ] {
            let (outcome, messages) = run(mode, source);
            assert_eq!(outcome, PhaseOutcome::Failed, "{mode:?} {source}");
            assert_eq!(messages, [format!("access[1]: {message}")], "{mode:?} {source}");
        }
    }
    for (source, message) in [
        ("kong.request.get_header = print", "Cannot modify _G.kong.request.get_header. Protected by the sandbox."),
        ("_G.string.len = nil", "Cannot modify _G.string.len. Protected by the sandbox."),
        ("kong.x = 1", "Cannot modify _G.kong.x. Protected by the sandbox."),
        ("ngx.req.x = 1", "Cannot modify _G.ngx.req.x. Protected by the sandbox."),
        ("kong.configuration.x = 1", "Cannot modify kong.configuration.x. Protected by the sandbox."),
        ("kong.ctx.x = 1", "Cannot modify kong.ctx.x. Protected by the sandbox."),
    ] {
        let (outcome, messages) = run(Mode::Strict, source);
        assert_eq!(outcome, PhaseOutcome::Failed, "{source}");
        assert_eq!(messages, [format!("access[1]: {message}")], "{source}");
    }
    // Strict: ngx itself, ngx.var/ngx.ctx and kong.ctx.shared stay writable.
    let (outcome, messages) = run(Mode::Strict, "ngx.x = 1 kong.ctx.shared.y = 2 kong.log.info(ngx.x, kong.ctx.shared.y)");
    assert_eq!((outcome, messages), (PhaseOutcome::Continue, vec!["12".to_string()]));
    // Reading through the proxies works, pairs included.
    let (_, messages) = run(Mode::Sandbox, "local n = 0 for k in pairs(string) do n = n + 1 end kong.log.info(n > 10, string.len('abc'))");
    assert_eq!(messages, ["true3"]);
}

#[test]
fn backward_compatible_kong_and_ngx_are_the_chunks_own() {
    // sandbox / lax: the whole kong (Kong's get_backward_compatible_sandboxed_kong) and
    // the whole ngx, writable; here each chunk writes into its own copy.
    for mode in [Mode::Lax, Mode::Sandbox] {
        let (outcome, messages) = run_with(
            &vm(mode),
            &["kong.x = 1; kong.request.get_header = nil; ngx.custom = 1", "kong.log.info(type(kong.x), type(kong.request.get_header), type(ngx.custom))"],
        );
        assert_eq!((outcome, messages), (PhaseOutcome::Continue, vec!["nilfunctionnil".to_string()]), "{mode:?}");
        // kong.licensing is Kong's denied table.
        let (outcome, messages) = run(mode, "kong.log.info(tostring(kong.licensing)) kong.licensing.x = 1");
        assert_eq!(outcome, PhaseOutcome::Failed);
        assert_eq!(messages, ["nil", "access[1]: Cannot modify kong.licensing.x. Protected by the sandbox."], "{mode:?}");
        let (_, messages) = run(mode, "kong.log.info(pcall(function() kong.cache.cluster_events.x = 1 end))");
        assert_eq!(messages, ["falseCannot modify kong.cache.cluster_events.x. Protected by the sandbox."], "{mode:?}");
        // _G is Kong's environment table: require, kong, ngx, _G; globals fall back to it.
        let (_, messages) = run(mode, "_G.answer = 42 kong.log.info(answer, type(_G.print), _G._G == _G)");
        assert_eq!(messages, ["42niltrue"], "{mode:?}");
    }
}

#[test]
fn chunks_have_their_own_globals_and_modules() {
    for mode in [Mode::Strict, Mode::Lax, Mode::Sandbox, Mode::On] {
        let (_, messages) = run_with(&vm(mode), &["shared = 'one'; _G.other = 1", "kong.log.info(type(shared), type(other))"]);
        assert_eq!(messages, ["nilnil"], "{mode:?}");
    }
    let (_, messages) = run_with(&vm(Mode::Strict), &["ngx.custom = 1", "kong.log.info(type(ngx.custom))"]);
    assert_eq!(messages, ["nil"]);
}

#[test]
fn require_is_denied_unless_allowed() {
    let (outcome, messages) = run(Mode::Sandbox, "local s = require('string')");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert_eq!(messages, ["access[1]:1: require 'string' not allowed within sandbox"]);
    let (_, messages) = run(Mode::Lax, "kong.log.info(pcall(require, 'resty.http'))");
    assert_eq!(messages, ["falserequire 'resty.http' not allowed within sandbox"]);
    let (_, messages) = run(Mode::Sandbox, "kong.log.info(pcall(require, 'table.new'))");
    assert_eq!(messages, ["falserequire 'table.new' not allowed within sandbox"]);
    // Strict allows Kong's require/handler.lua list, as far as this filter has them.
    let (_, messages) = run(Mode::Strict, "local new = require('table.new') kong.log.info(type(new), type(require('bit').band))");
    assert_eq!(messages, ["functionfunction"]);
    let (_, messages) = run(Mode::Strict, "kong.log.info(pcall(require, 'os'))");
    assert_eq!(messages, ["falserequire 'os' not allowed within sandbox"]);
    // untrusted_lua_sandbox_requires extends sandbox (and lax); required modules are
    // read-only copies here.
    for mode in [Mode::Sandbox, Mode::Lax] {
        let vm = VmConfig { untrusted_lua_sandbox_requires: vec!["os".into()], ..vm(mode) };
        let (_, messages) = run_with(&vm, &["local os = require('os') kong.log.info(type(os.date), pcall(function() os.x = 1 end))"]);
        assert_eq!(messages, ["functionfalseCannot modify os.x. Protected by the sandbox."]);
    }
    // Kong's sandbox_handler ignores it: strict keeps its own list.
    let strict = VmConfig { untrusted_lua_sandbox_requires: vec!["os".into()], ..vm(Mode::Strict) };
    let (_, messages) = run_with(&strict, &["kong.log.info(pcall(require, 'os'))"]);
    assert_eq!(messages, ["falserequire 'os' not allowed within sandbox"]);
    // In `on` mode require loads whatever the filter provides.
    let (_, messages) = run(Mode::On, "kong.log.info(type(require('os').date))");
    assert_eq!(messages, ["function"]);
}

#[test]
fn sandbox_environment_setting_links_globals_as_kong_does() {
    // A name the lua.lua environment lacks is added.
    let vm_with = |names: &[&str]| VmConfig { untrusted_lua_sandbox_environment: names.iter().map(|s| s.to_string()).collect(), ..vm(Mode::Sandbox) };
    let (_, messages) = run_with(&vm_with(&["getmetatable", "kong.version"]), &["kong.log.info(type(getmetatable), type(_G.getmetatable))"]);
    assert_eq!(messages, ["functionfunction"]);
    // A member of a module the environment already has replaces that module with a table
    // holding just the linked names (kong.lua's create_lua_env prefers the environment's
    // value for every name): Kong's code, not its documents.
    let (_, messages) = run_with(&vm_with(&["string.rep", "os.date"]), &["kong.log.info(string.rep('a', 3), type(os.date), type(os.time), type(string.format), ('x'):upper())"]);
    assert_eq!(messages, ["aaafunctionnilnilX"]);
    // A whole table is linked as a view: writes stay in the view.
    let (_, messages) = run_with(&vm_with(&["os"]), &["os.x = 1 kong.log.info(type(os.time), os.x)", "kong.log.info(type(os.x))"]);
    assert_eq!(messages, ["function1", "nil"]);
    // Strict and on ignore the setting (Kong reads it only in sandbox_backward_compatible).
    let strict = VmConfig { untrusted_lua_sandbox_environment: vec!["getmetatable".into()], ..vm(Mode::Strict) };
    let (_, messages) = run_with(&strict, &["kong.log.info(type(getmetatable))"]);
    assert_eq!(messages, ["nil"]);
}

#[test]
fn list_properties_parse_as_kong_writes_them() {
    assert_eq!(parse_list(r#"["cjson", "resty.http"]"#), ["cjson", "resty.http"]);
    assert_eq!(parse_list("cjson, resty.http"), ["cjson", "resty.http"]);
    assert_eq!(parse_list(""), Vec::<String>::new());
    assert_eq!(Mode::from_name("lax"), Some(Mode::Lax));
    assert_eq!(Mode::from_name("yes"), None);
}

/// The adversarial corpus (`tests/sandbox/*.lua`, run through the `.wasm` by
/// tests/sandbox.rs) checked natively here too, so its per-mode expectations hold for the
/// runtime itself: same chunks, same tighter limits, same matching rules.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn adversarial_corpus_expectations_hold_natively() {
    const PROBE: &str =
        "probe_chunk_global = true\nif kong.request.get_header('x-probe') then return kong.response.exit(200, 'alive') end";
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sandbox");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "lua")).collect();
    files.sort();
    let mut failures = Vec::new();
    for path in &files {
        let source = std::fs::read_to_string(path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        for line in source.lines().filter_map(|l| l.strip_prefix("-- expect ")) {
            let (modes, outcome) = line.split_once(": ").unwrap();
            let (status, text) = outcome.split_once(' ').unwrap_or((outcome, ""));
            let modes: Vec<&str> = if modes == "all" { vec!["strict", "lax", "sandbox", "on"] } else { modes.split(',').collect() };
            for mode in modes {
                let mut vm = vm(Mode::from_name(mode).unwrap());
                vm.limits.instructions = 5_000_000;
                vm.limits.memory_bytes = 33_554_432;
                let config = PluginConfig::parse(serde_json::json!({ "access": [PROBE, source.as_str()] }).to_string().as_bytes()).unwrap();
                let host = Rc::new(FakeHost::default());
                let mut rt = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), &vm).unwrap();
                let mut state = RequestState::default();
                let result = rt.run_phase(Phase::Access, &mut state);
                let messages = host.messages();
                let ok = if status == "200" {
                    result == PhaseOutcome::Exited && state.exit.as_ref().is_some_and(|e| e.status == 200 && e.body == text.as_bytes())
                } else {
                    result == PhaseOutcome::Failed && messages.iter().any(|m| m.contains(text))
                };
                if !ok {
                    let body = state.exit.as_ref().map(|e| String::from_utf8_lossy(&e.body).into_owned());
                    failures.push(format!("{name} [{mode}]: expected {status} {text:?}, got {result:?} {body:?} {messages:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}


#[test]
fn shared_module_proxies_cannot_be_changed_or_reached_behind() {
    // The lua.lua modules are one set of read-only proxies per Lua state, shared by its
    // sandbox / lax chunks (as Kong's ENVIRONMENT.lua is built once per worker). Nothing
    // a chunk tries reaches the next chunk: writes raise Kong's message, and what `pairs`
    // hands back is the module itself (Kong's `pairs(string)` gives `next, string`), not
    // the table behind the proxy.
    for mode in [Mode::Lax, Mode::Sandbox] {
        let (outcome, messages) = run_with(
            &vm(mode),
            &[
                "local _, behind = pairs(string) \
                 kong.log.info(behind == string, pcall(function() behind.x = 1 end)) \
                 kong.log.info(pcall(function() string.len = nil end)) \
                 kong.log.info(pcall(function() math.floor = print end))",
                "local n, rep = 0, nil for k, v in pairs(string) do n = n + 1 if k == 'rep' then rep = v end end \
                 kong.log.info(type(string.x), type(string.len), math.floor(1.5), n > 10, rep == string.rep)",
            ],
        );
        assert_eq!(outcome, PhaseOutcome::Continue, "{mode:?} {messages:?}");
        assert_eq!(
            messages,
            [
                "truefalseCannot modify _G.string.x. Protected by the sandbox.",
                "falseCannot modify _G.string.len. Protected by the sandbox.",
                "falseCannot modify _G.math.floor. Protected by the sandbox.",
                "nilfunction1truetrue",
            ],
            "{mode:?}"
        );
    }
}

#[test]
fn each_chunks_kong_and_ngx_are_made_on_first_use_and_stay_its_own() {
    // Kong's environment table (init.lua's `environment`) holds require, kong, ngx and _G
    // from the start: `pairs(_G)` lists them before the chunk used kong or ngx.
    for mode in [Mode::Lax, Mode::Sandbox] {
        let (_, messages) = run(mode, "local names = {} for k in pairs(_G) do names[#names + 1] = k end table.sort(names) kong.log.info(table.concat(names, ','))");
        assert_eq!(messages, ["_G,kong,ngx,require"], "{mode:?}");
        // Removing kong through _G before using it removes it, as from Kong's plain table.
        let (_, messages) = run(mode, "_G.kong = nil ngx.log(ngx.ERR, type(kong), type(_G.kong), type(ngx.say))");
        assert_eq!(messages, ["nilnilfunction"], "{mode:?}");
        // A new _G name, then kong: both there.
        let (_, messages) = run(mode, "_G.answer = 42 kong.log.info(answer, type(kong.request.get_header))");
        assert_eq!(messages, ["42function"], "{mode:?}");
        // Writes into one chunk's kong / ngx (deep ones too) reach neither the next chunk
        // nor the PDK itself.
        let (outcome, messages) = run_with(
            &vm(mode),
            &[
                "kong.request.x = 1 kong.response.get_status = nil ngx.req.y = 2 ngx.HTTP_OK = 0",
                "kong.log.info(type(kong.request.x), type(kong.response.get_status), type(ngx.req.y), ngx.HTTP_OK)",
            ],
        );
        assert_eq!((outcome, messages), (PhaseOutcome::Continue, vec!["nilfunctionnil200".to_string()]), "{mode:?}");
        // ngx keeps the built-in ngx's metatable (ngx.ctx, ngx.status) when made lazily.
        let (_, messages) = run(mode, "ngx.ctx.a = 1 kong.log.info(ngx.ctx.a, type(ngx.status))");
        assert_eq!(messages, ["1number"], "{mode:?}");
    }
}

#[test]
fn ngx_built_on_first_use_serves_modules_and_chunks() {
    // In the default sandbox the state's `ngx` is built on first use. A module allowed by
    // untrusted_lua_sandbox_requires that reads the `ngx` global (lua-resty-core's
    // ngx.re.split over ngx.re.find) finds it although no chunk touched ngx yet, and a
    // chunk's own ngx (a copy) is still the chunk's.
    for mode in [Mode::Lax, Mode::Sandbox] {
        let vm = VmConfig { untrusted_lua_sandbox_requires: vec!["ngx.re".into()], ..vm(mode) };
        let (outcome, messages) = run_with(
            &vm,
            &[
                "local parts = require('ngx.re').split('a,b,c', ',') kong.log.info(table.concat(parts, '|'))",
                "ngx.custom = 1 kong.log.info(type(ngx.re.find), ngx.HTTP_OK)",
                "kong.log.info(type(ngx.custom))",
            ],
        );
        assert_eq!((outcome, messages), (PhaseOutcome::Continue, vec!["a|b|c".into(), "function200".into(), "nil".into()]), "{mode:?}");
    }
}
