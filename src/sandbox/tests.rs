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
    // (expression, strict, lax, sandbox, on)
    let table = [
        ("string.rep", "function", "function", "nil", "function"),
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
        ("os.date", "function", "function", "nil", "function"),
        ("table.concat", "function", "function", "function", "function"),
        ("coroutine.wrap", "function", "function", "function", "function"),
        ("bit.band", "function", "function", "function", "function"),
        ("kong.request.get_header", "function", "function", "function", "function"),
        ("kong.service.request.clear_header", "function", "function", "function", "function"),
        ("ngx.log", "function", "function", "function", "function"),
        ("ngx.ERR", "number", "number", "number", "number"),
        ("_G", "table", "table", "table", "table"),
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
fn string_methods_follow_the_environment() {
    let (outcome, messages) = run(Mode::Sandbox, "local s = ('ab'):rep(3)");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert!(messages[0].contains("attempt to call method 'rep'"), "{messages:?}");
    let (outcome, messages) = run(Mode::Sandbox, "kong.log.info(('ab'):upper(), ('%d'):format(7))");
    assert_eq!((outcome, messages), (PhaseOutcome::Continue, vec!["AB7".to_string()]));
    let (_, messages) = run(Mode::Strict, "kong.log.info(('ab'):rep(2))");
    assert_eq!(messages, ["abab"]);
}

#[test]
fn modules_are_read_only_with_kongs_message() {
    for mode in [Mode::Strict, Mode::Lax, Mode::Sandbox] {
        for (source, message) in [
            ("string.x = 1", "Cannot modify string.x. Protected by the sandbox."),
            ("table.insert = nil", "Cannot modify table.insert. Protected by the sandbox."),
            ("kong.request.get_header = print", "Cannot modify kong.request.get_header. Protected by the sandbox."),
            ("_G.string.len = nil", "Cannot modify string.len. Protected by the sandbox."),
            ("kong.x = 1", "Cannot modify kong.x. Protected by the sandbox."),
        ] {
            let (outcome, messages) = run(mode, source);
            assert_eq!(outcome, PhaseOutcome::Failed, "{mode:?} {source}");
            assert_eq!(messages, [format!("access[1]: {message}")], "{mode:?} {source}");
        }
    }
    // Reading through the proxies works, pairs included.
    let (_, messages) = run(Mode::Sandbox, "local n = 0 for k in pairs(string) do n = n + 1 end kong.log.info(n > 10, string.len('abc'))");
    assert_eq!(messages, ["true3"]);
}

#[test]
fn chunks_have_their_own_globals_and_modules() {
    for mode in [Mode::Strict, Mode::Lax, Mode::Sandbox, Mode::On] {
        let (_, messages) = run_with(&vm(mode), &["shared = 'one'; _G.other = 1", "kong.log.info(type(shared), type(other))"]);
        assert_eq!(messages, ["nilnil"], "{mode:?}");
    }
    let (_, messages) = run_with(&vm(Mode::Lax), &["ngx.custom = 1", "kong.log.info(type(ngx.custom))"]);
    assert_eq!(messages, ["nil"]);
}

#[test]
fn require_is_denied_unless_allowed() {
    let (outcome, messages) = run(Mode::Sandbox, "local s = require('string')");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert_eq!(messages, ["access[1]:1: require 'string' not allowed within sandbox"]);
    let (_, messages) = run(Mode::Lax, "kong.log.info(pcall(require, 'resty.http'))");
    assert_eq!(messages, ["falserequire 'resty.http' not allowed within sandbox"]);
    // Strict allows Kong's list of requirable modules, as far as this filter has them.
    let (_, messages) = run(Mode::Strict, "local new = require('table.new') kong.log.info(type(new), type(require('bit').band))");
    assert_eq!(messages, ["functionfunction"]);
    let (_, messages) = run(Mode::Strict, "kong.log.info(pcall(require, 'os'))");
    assert_eq!(messages, ["falserequire 'os' not allowed within sandbox"]);
    // untrusted_lua_sandbox_requires extends the list; required modules are read-only too.
    let vm = VmConfig { untrusted_lua_sandbox_requires: vec!["os".into()], ..vm(Mode::Sandbox) };
    let (_, messages) = run_with(&vm, &["local os = require('os') kong.log.info(type(os.date), pcall(function() os.x = 1 end))"]);
    assert_eq!(messages, ["functionfalseCannot modify os.x. Protected by the sandbox."]);
    // In `on` mode require loads whatever the filter provides.
    let (_, messages) = run(Mode::On, "kong.log.info(type(require('os').date))");
    assert_eq!(messages, ["function"]);
}

#[test]
fn sandbox_environment_setting_adds_globals() {
    let vm = VmConfig { untrusted_lua_sandbox_environment: vec!["string.rep".into(), "os.date".into()], ..vm(Mode::Sandbox) };
    let (_, messages) = run_with(&vm, &["kong.log.info(string.rep('a', 3), type(os.date), type(os.time))"]);
    assert_eq!(messages, ["aaafunctionfunction"]);
}

#[test]
fn list_properties_parse_as_kong_writes_them() {
    assert_eq!(parse_list(r#"["cjson", "resty.http"]"#), ["cjson", "resty.http"]);
    assert_eq!(parse_list("cjson, resty.http"), ["cjson", "resty.http"]);
    assert_eq!(parse_list(""), Vec::<String>::new());
    assert_eq!(Mode::from_name("lax"), Some(Mode::Lax));
    assert_eq!(Mode::from_name("yes"), None);
}
