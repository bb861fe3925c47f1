//! `ngx.shared.DICT` through a [`Runtime`] on a [`FakeHost`]. Expected values are
//! lua-nginx-module's (README "ngx.shared.DICT.*" and `src/ngx_http_lua_shdict.c`) and
//! lua-resty-core's (`lib/resty/core/shdict.lua`) return values and error strings.

use std::rc::Rc;

use crate::config::{PluginConfig, Role};
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};
use crate::sandbox::Mode;
use crate::vm_config::VmConfig;

const SECOND: u64 = 1_000_000_000;

fn vm(dicts: &str, mode: Mode) -> VmConfig {
    let mut vm = VmConfig::parse(format!(r##"{{"shared_dicts": {dicts}}}"##).as_bytes()).unwrap();
    vm.untrusted_lua = mode;
    vm
}

fn runtime(host: &Rc<FakeHost>, role: Role, vm: &VmConfig, phase: Phase, source: &str) -> Runtime {
    let config = PluginConfig::parse(serde_json::json!({ phase.name(): [source] }).to_string().as_bytes()).unwrap();
    Runtime::with_vm_config(&config, role, host.clone(), vm).unwrap()
}

/// Runs `source` in access (default sandbox, a dict `d` of 1m) and returns the log lines
/// without their prefix.
fn run_on(host: &Rc<FakeHost>, vm: &VmConfig, source: &str) -> Vec<String> {
    let before = host.messages().len();
    let mut rt = runtime(host, Role::PreFunction, vm, Phase::Access, source);
    let outcome = rt.run_phase(Phase::Access, &mut RequestState::default());
    let lines: Vec<String> = host.messages()[before..].iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect();
    assert_eq!(outcome, PhaseOutcome::Continue, "{lines:?}");
    lines
}

fn run(host: &Rc<FakeHost>, source: &str) -> Vec<String> {
    run_on(host, &vm(r##"{"d": "1m"}"##, Mode::Sandbox), source)
}

#[test]
fn set_and_get_keep_types_and_flags() {
    let host = Rc::new(FakeHost::default());
    let out = run(&host, r##"
        local d = ngx.shared.d
        kong.log.info(d:set("n", 1.5), " ", d:set("i", 42), " ", d:set("s", "x y", 0, 7), " ", d:set("b", false))
        local s, flags = d:get("s")
        kong.log.info(d:get("n"), " ", d:get("i"), " ", s, " ", flags, " ", tostring(d:get("b")), " ", select("#", d:get("i")))
        kong.log.info(tostring(d:get("missing")), " ", select("#", d:get("missing")))
        kong.log.info(tostring(ngx.shared.nope), " ", type(ngx.shared.kong_rate_limiting_counters))
    "##);
    // set returns true, nil, false (forcible); flags come back only when non-zero.
    assert_eq!(out, ["true true true truenilfalse", "1.5 42 x y 7 false 1", "nil 1", "nil table"]);
}

#[test]
fn add_replace_and_delete_answer_as_lua_nginx_module() {
    let host = Rc::new(FakeHost::default());
    let out = run(&host, r##"
        local d = ngx.shared.d
        kong.log.info(d:add("k", "v"))
        kong.log.info(d:add("k", "w"))
        kong.log.info(d:safe_add("k", "w"))
        kong.log.info(d:replace("nope", 1))
        kong.log.info(d:replace("k", "r"), " ", d:get("k"))
        kong.log.info(d:add("z", nil))
        kong.log.info(d:delete("k"), " ", tostring(d:get("k")))
        kong.log.info(d:get(nil))
        kong.log.info(d:set("", 1))
        kong.log.info(d:set("t", {}))
        kong.log.info(d:set(12, "numkey"), " ", d:get("12"))
    "##);
    assert_eq!(out, [
        "truenilfalse",
        "falseexistsfalse",
        "falseexistsfalse",
        "falsenot foundfalse",
        "true r",
        "falseattempt to add or replace nil valuesfalse",
        "true nil",
        "nilnil key",
        "nilempty key",
        "nilbad value type",
        "true numkey",
    ]);
}

#[test]
fn incr_with_and_without_init() {
    let host = Rc::new(FakeHost::default());
    let out = run(&host, r##"
        local d = ngx.shared.d
        kong.log.info(d:incr("c", 1))
        kong.log.info(d:incr("c", 1, 0))
        kong.log.info(d:incr("c", 2), " ", select("#", d:incr("c", 0)))
        kong.log.info(d:incr("c", 0.5))
        d:set("s", "text")
        kong.log.info(d:incr("s", 1))
        kong.log.info(d:incr("t", "3", "10"))
        kong.log.info(pcall(d.incr, d, "c", 1, nil, 5))
        kong.log.info(pcall(d.incr, d, "c", 1, 0, -1))
        kong.log.info(pcall(d.incr, d, "c", 1, {}))
    "##);
    assert_eq!(out, [
        "nilnot found",
        "1nilfalse",
        "3 1",
        "3.5",
        "nilnot a number",
        "13nilfalse",
        // Raised at level 2: the caller is pcall, so no position (as in LuaJIT).
        "falsemust provide \"init\" when providing \"init_ttl\"",
        "falsebad \"init_ttl\" argument",
        "falsebad init arg: number expected, got table",
    ]);
}

#[test]
fn expiry_ttl_expire_and_stale_reads() {
    let host = Rc::new(FakeHost::default());
    host.now.set(1000 * SECOND);
    run(&host, r##"
        local d = ngx.shared.d
        d:set("a", "A", 10)
        d:set("b", "B")
        d:incr("c", 1, 0, 2)
    "##);
    host.now.set(1005 * SECOND);
    let out = run(&host, r##"
        local d = ngx.shared.d
        kong.log.info(d:ttl("a"), " ", d:ttl("b"), " ", d:ttl("nope"))
        kong.log.info(tostring(d:get("c")), " ", d:get_stale("c"))
        kong.log.info(d:add("c", "again"))
        kong.log.info(d:expire("b", 1), " ", d:expire("nope", 1))
        kong.log.info(pcall(d.expire, d, "b"))
        kong.log.info(pcall(d.set, d, "b", 1, -1))
    "##);
    assert_eq!(out, [
        "5 0 nilnot found",
        "nil 1niltrue",
        "truenilfalse",
        "true nilnot found",
        "falsebad \"exptime\" argument",
        "falsebad \"exptime\" argument",
    ]);
    host.now.set(1007 * SECOND);
    let out = run(&host, "kong.log.info(tostring(ngx.shared.d:get('b')), ' ', ngx.shared.d:get('a'))");
    assert_eq!(out, ["nil A"]);
}

#[test]
fn keys_flush_all_and_flush_expired() {
    let host = Rc::new(FakeHost::default());
    host.now.set(1000 * SECOND);
    let out = run(&host, r##"
        local d = ngx.shared.d
        for i = 1, 5 do d:set("k" .. i, i) end
        d:set("short", 1, 1)
        kong.log.info(table.concat(d:get_keys(), ","), " ", #d:get_keys(2), " ", #d:get_keys(0))
        kong.log.info(pcall(d.get_keys, d, 1, 2))
    "##);
    assert_eq!(out, ["k1,k2,k3,k4,k5,short 2 6", "falseexpecting 1 or 2 argument(s), but saw 3"]);
    host.now.set(1002 * SECOND);
    let out = run(&host, r##"
        local d = ngx.shared.d
        kong.log.info(#d:get_keys(), " ", d:flush_expired())
        d:flush_all()
        kong.log.info(#d:get_keys(), " ", tostring(d:get("k1")), " ", d:get_stale("k1"))
        kong.log.info(d:flush_expired(2), " ", d:flush_expired())
        kong.log.info(d:free_space() == d:capacity(), " ", d:capacity())
    "##);
    assert_eq!(out, ["5 1", "0 nil 1niltrue", "2 3", "true 1048576"]);
}

#[test]
fn a_full_dictionary_evicts_or_refuses() {
    let host = Rc::new(FakeHost::default());
    // 4 entries of 64 + 2 + 8 bytes fit in 300 bytes; a fifth does not.
    let out = run_on(&host, &vm(r##"{"small": "300"}"##, Mode::Sandbox), r##"
        local d = ngx.shared.small
        for i = 1, 4 do assert(d:set("k" .. i, i)) end
        kong.log.info(d:free_space(), " ", d:capacity())
        kong.log.info(d:safe_set("k5", 5))
        kong.log.info(d:safe_add("k5", 5))
        kong.log.info(d:set("k5", 5))
        kong.log.info(tostring(d:get("k1")), " ", d:get("k5"), " ", #d:get_keys())
        kong.log.info(d:set("k5", 6), " ", d:get("k5"))
        kong.log.info(d:set("big", string.rep("x", 400)))
    "##);
    assert_eq!(out, [
        "4 300",
        "falseno memoryfalse",
        "falseno memoryfalse",
        "trueniltrue",
        "nil 5 4",
        "true 6",
        "falseno memoryfalse",
    ]);
}

#[test]
fn bad_self_and_unknown_dicts() {
    let host = Rc::new(FakeHost::default());
    let out = run(&host, r##"
        kong.log.info(pcall(ngx.shared.d.get, "k"))
        kong.log.info(ngx.shared.d[1])
        local n = 0
        for name in pairs(ngx.shared) do n = n + 1 end
        kong.log.info(n)
    "##);
    // Kong's ten dictionaries and `d`.
    assert_eq!(out, ["falsebad \"zone\" argument", "d", "11"]);
}

#[test]
fn dictionaries_cross_roles_and_instances_through_shared_data() {
    let host = Rc::new(FakeHost::default());
    let vm = vm(r##"{"d": "1m"}"##, Mode::Sandbox);
    let mut pre = runtime(&host, Role::PreFunction, &vm, Phase::Access, "ngx.shared.d:incr('hits', 1, 0)");
    let mut post = runtime(&host, Role::PostFunction, &vm, Phase::Log, "kong.log.info('hits ', ngx.shared.d:get('hits'))");
    for _ in 0..3 {
        let mut request = RequestState::default();
        assert_eq!(pre.run_phase(Phase::Access, &mut request), PhaseOutcome::Continue);
        assert_eq!(post.run_phase(Phase::Log, &mut request), PhaseOutcome::Continue);
    }
    assert_eq!(host.messages(), ["[post-function] hits 1", "[post-function] hits 2", "[post-function] hits 3"]);
    // Kept in the host's shared data, in the stored form of `pdk::ngx::shared`.
    assert!(host.shared.borrow().contains_key("kong_functions.shdict:d:hits"));
}

#[test]
fn every_mode_but_strict_sees_ngx_shared() {
    // Kong's sandbox hands the whole `ngx` to sandbox/lax chunks; strict's handler list
    // (`kong/tools/sandbox/environment/handler.lua`) has no `ngx.shared`.
    for mode in [Mode::Sandbox, Mode::Lax, Mode::On] {
        let host = Rc::new(FakeHost::default());
        let out = run_on(&host, &vm("{}", mode), "ngx.shared.kong:set('x', 1) kong.log.info(ngx.shared.kong:get('x'))");
        assert_eq!(out, ["1"], "{mode:?}");
    }
    let host = Rc::new(FakeHost::default());
    let out = run_on(&host, &vm("{}", Mode::Strict), "kong.log.info(type(ngx.shared))");
    assert_eq!(out, ["nil"]);
}

#[test]
fn lists_push_pop_and_refuse_other_values_as_lua_nginx_module() {
    // t/145-shdict-list.t: lpush/rpush return the new length; lpop/rpop the head/tail
    // (numbers as numbers); the last pop removes the entry (llen 0, lpop nil); get of a
    // list is nil, "value is a list"; incr of a list nil, "not a number"; pushing onto a
    // key-value pair, popping it or llen of it nil, "value not a list"; set replaces a
    // list; a table value is nil, "bad value type" (ngx_http_lua_shdict.c push_helper).
    let host = Rc::new(FakeHost::default());
    let out = run(&host, r##"
        local d = ngx.shared.d
        kong.log.info(d:lpush("l", "a"), " ", d:rpush("l", 2), " ", d:lpush("l", "z"), " ", d:llen("l"))
        kong.log.info(d:get("l"))
        kong.log.info(d:incr("l", 1))
        kong.log.info(d:rpop("l"), " ", math.type and "" or "", d:lpop("l"), " ", d:lpop("l"), " ", d:llen("l"), " ", tostring(d:lpop("l")))
        d:set("kv", 1)
        kong.log.info(d:lpush("kv", "x"))
        kong.log.info(d:lpop("kv"))
        kong.log.info(d:llen("kv"))
        kong.log.info(d:lpush("t", {}))
        d:rpush("l2", "x")
        kong.log.info(d:set("l2", "v"), " ", d:get("l2"), " ", #d:get_keys())
    "##);
    assert_eq!(
        out,
        [
            "1 2 3 3",
            "nilvalue is a list",
            "nilnot a number",
            "2 z a 0 nil",
            "nilvalue not a list",
            "nilvalue not a list",
            "nilvalue not a list",
            "nilbad value type",
            "true v 2",
        ]
    );
}
