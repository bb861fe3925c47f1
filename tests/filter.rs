//! Integration tests: the real `kong_functions.wasm` driven through the wasmtime harness.
//!
//! Build the module first (`make build`, or `cargo build --release --target wasm32-wasip1`);
//! `KONG_FUNCTIONS_WASM` overrides its path.

mod common;

use common::{harness, module_path};
use std::path::PathBuf;

use serde_json::{json, Value};
use wasm_harness::{Chain, ChainSpec, FilterSpec, HostProfile, Outcome, RequestSpec, UpstreamSpec};

fn filter(name: &str, config: Value) -> FilterSpec {
    FilterSpec { name: name.into(), module: module_path(), config, root_id: None }
}

/// The chain, or the harness's full error text (`{:#}`) when a filter rejected it.
fn chain_of(filters: Vec<FilterSpec>) -> Result<Chain, String> {
    harness().chain(&common::shipped(ChainSpec { filters, vm_config: Value::Null, ..ChainSpec::default() })).map_err(|e| format!("{e:#}"))
}

fn chain(config: Value) -> Chain {
    chain_of(vec![filter("pre-function", config)]).unwrap()
}

trait ChainExt {
    fn send(&mut self, request: RequestSpec) -> Outcome;
}

impl ChainExt for Chain {
    fn send(&mut self, request: RequestSpec) -> Outcome {
        self.run(&request).unwrap_or_else(|e| panic!("filter trapped: {e:#}"))
    }
}

#[test]
fn seed_walkthrough_without_a_database() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/custom-auth/chain.json");
    let mut spec = ChainSpec::from_file(&path).unwrap();
    spec.filters[0].module = module_path();
    let mut chain = harness().chain(&spec).unwrap();

    let denied = chain.send(RequestSpec::get("/test"));
    assert_eq!(denied.status, 401);
    assert_eq!(denied.body, "Invalid Credentials");
    assert!(denied.upstream.is_none(), "the upstream must not be called");
    assert_eq!(
        denied.messages(),
        [
            "[pre-function] Hi there Header_Filter!",
            "[pre-function] Hi there Body_Filter!",
            "[pre-function] Hi there Body_Filter!",
            "[pre-function] Hi there Log!",
        ]
    );
    assert!(denied.logs.iter().all(|l| l.level == "error"));

    let allowed = chain.send(RequestSpec::get("/test").header("x-custom-auth", "demo"));
    assert_eq!(allowed.status, 200);
    let upstream = allowed.upstream.clone().expect("forwarded upstream");
    assert_eq!(upstream.path, "/test");
    assert_eq!(upstream.header("x-custom-auth"), None, "the credential must be stripped");
    assert_eq!(allowed.messages()[0], "[pre-function] Hi there Access!");
    assert!(allowed.messages().contains(&"[pre-function] Hi there Log!"));
}

#[test]
fn upvalue_counter_counts_across_fifty_requests() {
    let counter = "local count = 0\nreturn function()\n  count = count + 1\n  kong.response.set_header('x-count', count)\nend";
    let mut chain = chain(json!({ "access": [counter] }));
    let counts: Vec<String> = (0..50)
        .map(|_| chain.send(RequestSpec::get("/")).header("x-count").expect("x-count").to_string())
        .collect();
    let expected: Vec<String> = (1..=50).map(|n| n.to_string()).collect();
    assert_eq!(counts, expected);
}

#[test]
fn syntax_error_rejects_the_configuration() {
    let config = json!({ "access": ["kong.log.info('fine')", "local x = 1\n\nif x then\n"] });
    let error = chain_of(vec![filter("pre-function", config)]).err().expect("configuration must be rejected");
    assert!(
        // LuaJIT's words as Kong's schema reports them (luajit2:
        // `print(loadstring("local x = 1\n\nif x then\n"))`).
        error.contains("error parsing pre-function: [string \"local x = 1...\"]:4: 'end' expected (to close 'if' at line 3) near '<eof>'"),
        "message names the chunk and line as LuaJIT does: {error}"
    );
    assert!(error.contains("proxy_on_configure returned false"), "{error}");
}

#[test]
fn schema_errors_reject_the_configuration() {
    for (config, expected) in [
        (json!({ "acces": ["x = 1"] }), "config.acces: unknown field"),
        (json!({ "access": [] }), "at least one of these fields must be non-empty"),
        (json!({ "access": [42] }), "config.access[1]: expected a string"),
    ] {
        let error = chain_of(vec![filter("pre-function", config)]).err().expect("rejected");
        assert!(error.contains(expected), "{expected:?} not in {error}");
    }
}

#[test]
fn runtime_error_gives_500_and_the_next_request_is_served() {
    let source = "if kong.request.get_header('x-fail') then\n  local t = nil\n  error('exploded')\nend";
    let mut chain = chain(json!({ "access": [source] }));

    let failed = chain.send(RequestSpec::get("/").header("x-fail", "1"));
    assert_eq!(failed.status, 500);
    assert_eq!(failed.body, r#"{"message":"An unexpected error occurred"}"#);
    assert!(failed.upstream.is_none());
    assert!(
        failed.logs.iter().any(|l| l.level == "error" && l.message == "[pre-function] access[1]:3: exploded"),
        "{:?}",
        failed.logs
    );

    let next = chain.send(RequestSpec::get("/"));
    assert_eq!(next.status, 200);
    assert!(next.upstream.is_some());
}

#[test]
fn chunks_run_in_array_order() {
    let step = |n: u32| format!("local v = kong.request.get_header('x-order') or ''\nkong.service.request.set_header('x-order', v .. '{n}')");
    let mut chain = chain(json!({ "access": [step(1), step(2), step(3)], "rewrite": [step(0)] }));
    let outcome = chain.send(RequestSpec::get("/"));
    assert_eq!(outcome.upstream.unwrap().header("x-order"), Some("0123"));
}

#[test]
fn exit_in_the_first_access_chunk_skips_the_second() {
    let mut chain = chain(json!({
        "access": [
            "return kong.response.exit(403, { message = 'forbidden' }, { ['X-Reason'] = 'policy' })",
            "kong.log.err('second chunk ran')"
        ]
    }));
    let outcome = chain.send(RequestSpec::get("/"));
    assert_eq!(outcome.status, 403);
    assert_eq!(outcome.body, r#"{"message":"forbidden"}"#);
    assert_eq!(outcome.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(outcome.header("x-reason"), Some("policy"));
    assert!(outcome.upstream.is_none());
    assert!(outcome.logs.is_empty(), "{:?}", outcome.logs);
}

#[test]
fn pre_and_post_function_in_one_chain() {
    let config = |who: &str| {
        json!({
            "access": [format!("kong.log.info('{who} access')")],
            "header_filter": [format!("kong.log.info('{who} header_filter')")],
            "log": [format!("kong.log.info('{who} log')")],
        })
    };
    let mut chain = chain_of(vec![filter("pre-function", config("pre")), filter("post-function", config("post"))]).unwrap();
    let outcome = chain.send(RequestSpec::get("/"));
    assert_eq!(outcome.status, 200);
    let lines: Vec<(String, String)> = outcome.logs.iter().map(|l| (l.filter.clone(), l.message.clone())).collect();
    let expected = [
        ("pre-function", "[pre-function] pre access"),
        ("post-function", "[post-function] post access"),
        // The response path runs the chain backwards, as Envoy does.
        ("post-function", "[post-function] post header_filter"),
        ("pre-function", "[pre-function] pre header_filter"),
        ("pre-function", "[pre-function] pre log"),
        ("post-function", "[post-function] post log"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(f, m)| (f.to_string(), m.to_string())).collect();
    assert_eq!(lines, expected);
}

#[test]
fn role_comes_from_the_host_name_or_the_config() {
    let mut by_name = chain_of(vec![filter("kong_post_function", json!({ "log": ["kong.log.info('hi')"] }))]).unwrap();
    assert_eq!(by_name.send(RequestSpec::get("/")).messages(), ["[post-function] hi"]);
    let mut by_config =
        chain_of(vec![filter("serverless", json!({ "role": "post-function", "log": ["kong.log.info('hi')"] }))]).unwrap();
    assert_eq!(by_config.send(RequestSpec::get("/")).messages(), ["[post-function] hi"]);
}

#[test]
fn response_headers_from_access_and_header_filter_reach_the_client() {
    let mut chain = chain(json!({
        "access": ["kong.response.set_header('X-From-Access', 'a')"],
        "header_filter": ["kong.response.set_header('X-Status-Seen', kong.response.get_status())"],
    }));
    let outcome = chain.send(RequestSpec::get("/"));
    assert_eq!(outcome.header("x-from-access"), Some("a"));
    assert_eq!(outcome.header("x-status-seen"), Some("200"));
}

#[test]
fn header_filter_runs_on_the_exit_response() {
    let mut chain = chain(json!({
        "access": ["return kong.response.exit(401, 'nope')"],
        "header_filter": ["kong.response.set_header('X-Seen-Status', kong.response.get_status())"],
    }));
    let outcome = chain.send(RequestSpec::get("/"));
    assert_eq!(outcome.status, 401);
    assert_eq!(outcome.header("x-seen-status"), Some("401"));
}

#[test]
fn legacy_functions_run_in_access() {
    let mut chain = chain(json!({ "functions": ["return kong.response.exit(204)"] }));
    assert_eq!(chain.send(RequestSpec::get("/")).status, 204);
}

#[test]
fn print_and_ngx_log_reach_the_host_log() {
    let mut chain = chain(json!({ "access": ["print('a', 1)\nngx.log(ngx.WARN, 'hello world: ', 10/2)"] }));
    let outcome = chain.send(RequestSpec::get("/"));
    let logs: Vec<(&str, &str)> = outcome.logs.iter().map(|l| (l.level.as_str(), l.message.as_str())).collect();
    // lua-nginx-module's print is ngx.log(ngx.NOTICE, ...): its arguments joined with no
    // separator (ngx_http_lua_log.c log_wrapper), unlike standard Lua's tabs.
    assert_eq!(logs, [("info", "[pre-function] a1"), ("warn", "[pre-function] hello world: 5")]);
}

#[test]
fn standard_library_works_in_a_real_snippet() {
    // Query parsing, string.format, table.sort and os.date inside an access chunk.
    let snippet = r#"
        local args, keys = {}, {}
        local query = kong.request.get_header("x-query") or ""
        for k, v in query:gmatch("([^&=]+)=([^&]*)") do
          args[k] = v:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
          keys[#keys + 1] = k
        end
        table.sort(keys)
        local parts = {}
        for _, k in ipairs(keys) do parts[#parts + 1] = string.format("%s=%q", k, args[k]) end
        return kong.response.exit(200, { args = table.concat(parts, ","), n = #keys, day = os.date("!%Y", 0), half = 10 / 4 })
    "#;
    // os.date is outside the default `sandbox` environment (the documents keep only
    // os.clock/difftime/time), so this runs in `on` mode.
    let spec = common::shipped(ChainSpec { filters: vec![filter("pre-function", json!({ "access": [snippet] }))], vm_config: json!({ "untrusted_lua": "on" }), ..ChainSpec::default() });
    let mut chain = harness().chain(&spec).unwrap();
    let outcome = chain.send(RequestSpec::get("/").header("x-query", "b=two%20words&a=1"));
    assert_eq!(outcome.status, 200);
    let body: Value = serde_json::from_str(&outcome.body).expect("JSON body");
    assert_eq!(body["args"], r#"a="1",b="two words""#);
    assert_eq!(body["n"], 2);
    assert_eq!(body["day"], "1970");
    assert_eq!(body["half"], 2.5);
}

#[test]
fn vm_configuration_limits_apply_and_the_filter_keeps_serving() {
    let bomb = "if kong.request.get_header('x-bomb') then\n  local t, s = {}, 'x'\n  for _ = 1, 10 do s = s .. s end\n  while true do t[#t + 1] = s .. #t end\nend";
    let spec = common::shipped(ChainSpec {
        filters: vec![filter("pre-function", json!({ "access": [bomb, "while kong.request.get_header('x-spin') do end"] }))],
        vm_config: json!({ "limits": { "memory_bytes": 4194304, "instructions": 5000000 } }),
        ..ChainSpec::default()
    });
    let mut chain = harness().chain(&spec).unwrap();
    let bombed = chain.send(RequestSpec::get("/").header("x-bomb", "1"));
    assert_eq!(bombed.status, 500);
    assert!(bombed.messages().contains(&"[pre-function] access[1]: memory limit exceeded"), "{:?}", bombed.logs);
    let spun = chain.send(RequestSpec::get("/").header("x-spin", "1"));
    assert_eq!(spun.status, 500);
    assert!(spun.messages().contains(&"[pre-function] access[2]: instruction limit exceeded"), "{:?}", spun.logs);
    assert_eq!(chain.send(RequestSpec::get("/")).status, 200);

    let bad = common::shipped(ChainSpec { filters: vec![filter("pre-function", json!({ "access": ["x = 1"] }))], vm_config: json!({ "limitz": {} }), ..ChainSpec::default() });
    let error = harness().chain(&bad).err().map(|e| format!("{e:#}")).expect("rejected");
    assert!(error.contains("invalid VM configuration") && error.contains("proxy_on_vm_start returned false"), "{error}");
}

#[test]
fn kong_node_settings_take_precedence_over_the_vm_configuration() {
    // Kong exposes its kong.conf as `kong.configuration.*` properties; they win. Kong's
    // engine answers them only inside a request, so they apply from the first request.
    // Kong's sandbox (kong/tools/sandbox/init.lua): `require` is denied in `sandbox` unless
    // named in untrusted_lua_sandbox_requires; `on` and `strict` (the handler's require
    // list names cjson) load it.
    let snippet = "return kong.response.exit(200, tostring((pcall(require, 'cjson'))))";
    let spec = |properties: &[(&str, &str)], vm_config: Value| common::shipped(ChainSpec {
        filters: vec![filter("pre-function", json!({ "access": [snippet] }))],
        vm_config,
        properties: properties.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        profile: HostProfile::Kong,
        ..ChainSpec::default()
    });
    // Kong's engine appends "\n" to a local response body: compare without it.
    let body = |chain: &mut Chain| chain.send(RequestSpec::get("/")).body.trim_end().to_owned();
    let mut on = harness().chain(&spec(&[], json!({ "untrusted_lua": "on" }))).unwrap();
    assert_eq!(body(&mut on), "true");

    let strict = spec(&[("kong.configuration.untrusted_lua", "strict")], json!({ "untrusted_lua": "on" }));
    assert_eq!(body(&mut harness().chain(&strict).unwrap()), "true");
    let sandbox = spec(&[("kong.configuration.untrusted_lua", "sandbox")], json!({ "untrusted_lua": "on" }));
    let mut sandboxed = harness().chain(&sandbox).unwrap();
    assert_eq!(body(&mut sandboxed), "false", "require is denied in the sandbox");

    let with_env = spec(
        &[("kong.configuration.untrusted_lua", "sandbox"), ("kong.configuration.untrusted_lua_sandbox_requires", "cjson")],
        Value::Null,
    );
    assert_eq!(body(&mut harness().chain(&with_env).unwrap()), "true");

    // A node with `untrusted_lua = off`: no chunk runs, every request fails with Kong's reason logged.
    let off = spec(&[("kong.configuration.untrusted_lua", "off")], json!({ "untrusted_lua": "on" }));
    let mut off = harness().chain(&off).unwrap();
    for _ in 0..2 {
        let refused = off.send(RequestSpec::get("/"));
        assert_eq!(refused.status, 500);
        assert!(refused.upstream.is_none());
        let reason = "loading of untrusted Lua code disabled because 'untrusted_lua' config option is set to 'off'";
        assert!(refused.messages().iter().any(|m| m.contains(reason)), "{:?}", refused.logs);
    }
}

fn with_upstream(request: RequestSpec, status: u16, body: &str) -> RequestSpec {
    RequestSpec { upstream: Some(UpstreamSpec { status: Some(status), body: Some(body.into()), ..UpstreamSpec::default() }), ..request }
}

#[test]
fn body_filter_rewrites_the_body_through_ngx_arg() {
    let rewrite = "ngx.arg[1] = ngx.arg[1]:gsub('secret', '******')\nif ngx.arg[2] then ngx.arg[1] = ngx.arg[1] .. '<!-- filtered -->' end";
    let mut rewriting = chain(json!({ "body_filter": [rewrite] }));
    let outcome = rewriting.send(with_upstream(RequestSpec::get("/"), 200, "the secret is secret"));
    assert_eq!(outcome.status, 200);
    assert_eq!(outcome.body, "the ****** is ******<!-- filtered -->");
    assert_eq!(outcome.header("content-length"), None, "a stale Content-Length would corrupt the response");

    // Setting ngx.arg[2] ends the body at that chunk.
    let mut cut = chain(json!({ "body_filter": ["if #ngx.arg[1] > 0 then ngx.arg[1] = 'short'; ngx.arg[2] = true end"] }));
    assert_eq!(cut.send(with_upstream(RequestSpec::get("/"), 200, "a long body")).body, "short");

    // kong.response.exit bodies go through body_filter too, with a matching Content-Length.
    let mut exited = chain(json!({
        "access": ["return kong.response.exit(403, 'forbidden')"],
        "body_filter": ["ngx.arg[1] = ngx.arg[1]:upper()"],
    }));
    let outcome = exited.send(RequestSpec::get("/"));
    assert_eq!((outcome.status, outcome.body.as_str()), (403, "FORBIDDEN"));
    assert_eq!(outcome.header("content-length"), Some("9"));
}

#[test]
fn ngx_arg_outside_body_filter_reads_nil_and_refuses_writes() {
    let mut filter = chain(json!({ "access": ["kong.log.info(type(ngx.arg[1]))\nngx.arg[1] = 'x'"] }));
    let outcome = filter.send(RequestSpec::get("/"));
    assert_eq!(outcome.status, 500);
    assert_eq!(outcome.messages()[0], "[pre-function] nil");
    assert!(outcome.messages()[1].ends_with("access[1]:2: ngx.arg can only be assigned in body_filter"), "{:?}", outcome.logs);
}
