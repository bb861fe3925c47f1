//! Integration tests of `kong.client`, `kong.ctx`, `kong.cache` and `kong.log.serialize`
//! through the real `kong_functions.wasm` in the wasmtime harness.
//!
//! Build the module first (`make build`); `KONG_FUNCTIONS_WASM` overrides its path.

mod common;

use common::{harness, module_path};

use serde_json::{json, Value};
use wasm_harness::{Chain, ChainSpec, FilterSpec, Outcome, RequestSpec};

fn filter(name: &str, config: Value) -> FilterSpec {
    FilterSpec { name: name.into(), module: module_path(), config, root_id: None }
}

/// A pre-function chain with these host properties.
fn chain_with(config: Value, properties: &[(&str, &str)]) -> Chain {
    let spec = common::shipped(ChainSpec {
        filters: vec![filter("pre-function", config)],
        vm_config: Value::Null,
        properties: properties.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..ChainSpec::default()
    });
    harness().chain(&spec).map_err(|e| format!("{e:#}")).unwrap()
}

fn send(chain: &mut Chain, request: RequestSpec) -> Outcome {
    chain.run(&request).unwrap_or_else(|e| panic!("filter trapped: {e:#}"))
}

#[test]
fn client_ip_comes_from_source_address() {
    let mut chain = chain_with(
        json!({ "access": ["kong.response.set_header('x-client', kong.client.get_ip() .. ' ' .. kong.client.get_forwarded_ip())"] }),
        &[("source.address", "198.51.100.4:41000")],
    );
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 200, "{:?}", outcome.messages());
    assert_eq!(outcome.header("x-client"), Some("198.51.100.4 198.51.100.4"));
}

#[test]
fn client_ip_defaults_to_the_peer_the_host_reports() {
    // The harness, like Envoy, always reports the peer (`source.address` as ip:port); a
    // host without it is covered natively (misc_tests: a clear error, not a trap).
    let mut chain = chain_with(json!({ "access": ["kong.response.set_header('x-client', kong.client.get_ip() .. ':' .. kong.client.get_port())"] }), &[]);
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 200, "{:?}", outcome.messages());
    let client = outcome.header("x-client").expect("x-client set");
    let (ip, port) = client.rsplit_once(':').expect("ip:port");
    assert!(ip.parse::<std::net::IpAddr>().is_ok(), "{client}");
    assert!(port.parse::<u16>().is_ok(), "{client}");
}

#[test]
fn ctx_shared_carries_from_rewrite_to_header_filter_per_request() {
    let mut chain = chain_with(
        json!({
            "rewrite": ["kong.ctx.shared.seen = (kong.ctx.shared.seen or 0) + 1; kong.ctx.shared.path = kong.request.get_path()"],
            "access": ["kong.ctx.plugin.flag = 'on'"],
            "header_filter": ["kong.response.set_header('x-ctx', kong.ctx.shared.path .. ' ' .. kong.ctx.shared.seen .. ' ' .. kong.ctx.plugin.flag)"],
        }),
        &[],
    );
    for path in ["/one", "/two"] {
        let outcome = send(&mut chain, RequestSpec::get(path));
        assert_eq!(outcome.status, 200, "{:?}", outcome.messages());
        // `seen` is 1 each time: every request starts with empty tables.
        assert_eq!(outcome.header("x-ctx"), Some(format!("{path} 1 on").as_str()));
    }
}

#[test]
fn cache_runs_the_callback_once_across_requests() {
    let source = r#"
        local value, err, level = kong.cache:get("greeting", { ttl = 60 }, function(name)
          kong.log.notice("callback ran")
          return { text = "hello " .. name }
        end, "world")
        kong.response.set_header("x-cached", value.text .. " " .. level)
    "#;
    let mut chain = chain_with(json!({ "access": [source] }), &[]);
    let first = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(first.header("x-cached"), Some("hello world 3"), "{:?}", first.messages());
    assert_eq!(first.messages(), ["[pre-function] callback ran"]);
    let second = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(second.header("x-cached"), Some("hello world 2"), "{:?}", second.messages());
    assert!(second.messages().is_empty(), "the callback must not run again: {:?}", second.messages());
}

#[test]
fn serialize_in_the_log_phase() {
    let source = r#"
        local s = kong.log.serialize()
        kong.log.notice("serialized ", s.request.method, " ", s.request.uri, " ", s.response.status, " ",
          s.client_ip, " ", s.request.headers["x-trace"], " ", s.request.querystring.q, " ", s.custom)
    "#;
    let mut chain = chain_with(
        json!({
            "access": ["kong.log.set_serialize_value('custom', 'yes')"],
            "log": [source],
        }),
        &[("source.address", "203.0.113.5:1234")],
    );
    let outcome = send(&mut chain, RequestSpec::get("/items?q=42").header("x-trace", "t-1"));
    assert_eq!(outcome.status, 200, "{:?}", outcome.messages());
    let line = outcome.messages().into_iter().find(|m| m.contains("serialized")).unwrap_or_else(|| panic!("{:?}", outcome.messages()));
    assert_eq!(line, "[pre-function] serialized GET /items?q=42 200 203.0.113.5 t-1 42 yes");
}

/// `kong.log(...)` converts each argument with `tostring`, as Kong's `gen_log_func`
/// does: a table as `table: 0x...`, `ngx.null` as `userdata: NULL` (Kong's
/// t/01-pdk/02-log/01-sanity.t TESTS 17 and 18), a `__tostring` metamethod called; the
/// same for a `kong.log.new` logger.
#[test]
fn kong_log_converts_arguments_with_tostring() {
    let source = r#"
        kong.log({})
        kong.log(ngx.null)
        kong.log.info("obj=", setmetatable({}, { __tostring = function() return "custom" end }), " n=", 1.5)
        kong.log.new("ns").warn("t=", {})
    "#;
    let spec = common::shipped(ChainSpec {
        filters: vec![filter("pre-function", json!({ "access": [source] }))],
        vm_config: json!({ "untrusted_lua": "on" }),
        ..ChainSpec::default()
    });
    let mut chain = harness().chain(&spec).map_err(|e| format!("{e:#}")).unwrap();
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 200, "{:?}", outcome.messages());
    let messages = outcome.messages();
    let table = regex_like(&messages, "[pre-function] table: 0x");
    assert!(table, "{messages:?}");
    assert!(messages.contains(&"[pre-function] userdata: NULL"), "{messages:?}");
    assert!(messages.contains(&"[pre-function] obj=custom n=1.5"), "{messages:?}");
    assert!(messages.iter().any(|m| m.starts_with("[ns] t=table: 0x")), "{messages:?}");
}

/// A message starting with `prefix` and a hexadecimal address after it.
fn regex_like(messages: &[&str], prefix: &str) -> bool {
    messages.iter().any(|m| m.strip_prefix(prefix).is_some_and(|hex| !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())))
}

/// `require "inspect"` (kikito's inspect.lua, which Kong ships) with its `newline` and
/// `indent` options, as Kong's t/01-pdk/01-table.t TEST 3 uses it on `kong.table.merge`
/// results (expected lines from that test), and `depth`.
#[test]
fn require_inspect_formats_as_inspect_lua() {
    let source = r#"
        local inspect = require "inspect"
        local function insp(x) return inspect(x, { newline = "", indent = "" }) end
        return kong.response.exit(200, table.concat({
            insp(kong.table.merge({ x = "hello" }, { y = "world" })),
            insp(kong.table.merge({1, 2, 3, 4, 5}, {6, 7, 8})),
            insp(kong.table.merge(nil, { y = "world" })),
            inspect.inspect({ a = { b = { c = 1 } } }, { depth = 1 }),
            inspect({ 1, k = true }),
        }, "\n"))
    "#;
    let spec = common::shipped(ChainSpec {
        filters: vec![filter("pre-function", json!({ "access": [source] }))],
        vm_config: json!({ "untrusted_lua": "on" }),
        ..ChainSpec::default()
    });
    let mut chain = harness().chain(&spec).map_err(|e| format!("{e:#}")).unwrap();
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 200, "{:?}", outcome.messages());
    assert_eq!(
        outcome.body,
        "{x = \"hello\",y = \"world\"}\n{ 6, 7, 8, 4, 5 }\n{y = \"world\"}\n{\n  a = {...}\n}\n{ 1,\n  k = true\n}"
    );
}

/// Kong's t/01-pdk/09-service/03-set-tls-cert-key.t TEST 1: a chain that is not cdata
/// fails with "chain must be a parsed cdata object" (kong/pdk/service.lua); the checks of
/// `set_tls_verify` ("argument must be a boolean") and `set_tls_verify_depth` ("argument
/// must be a number") are Kong's too.
#[test]
fn service_tls_setters_check_arguments_as_kong() {
    let source = "local _, e1 = pcall(kong.service.set_tls_cert_key, 'foo', 'bar')\n\
        local _, e2 = pcall(kong.service.set_tls_verify, 'yes')\n\
        local _, e3 = pcall(kong.service.set_tls_verify_depth, 'deep')\n\
        local ok, e4 = kong.service.set_tls_verify(true)\n\
        return kong.response.exit(200, table.concat({ e1, e2, e3, tostring(ok), tostring(e4 ~= nil) }, '|'))";
    let mut chain = chain_with(json!({ "access": [source] }), &[]);
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 200, "{:?}", outcome.messages());
    assert_eq!(
        outcome.body,
        "chain must be a parsed cdata object|argument must be a boolean|argument must be a number|nil|true"
    );
}

/// Kong's t/01-pdk/02-log/05-set_serialize_value.t TEST 3: every `set_serialize_value`
/// call adds one `{ key, value, mode }` entry to `ngx.ctx.serialize_values`
/// (kong/pdk/log.lua keeps its list there).
#[test]
fn set_serialize_value_keeps_kongs_list_in_ngx_ctx() {
    let source = "kong.log.set_serialize_value('val1', 1)\n\
        local n1 = #ngx.ctx.serialize_values\n\
        kong.log.set_serialize_value('val1', 2)\n\
        kong.log.set_serialize_value('val2', 1, { mode = 'add' })\n\
        local last = ngx.ctx.serialize_values[3]\n\
        return kong.response.exit(200, table.concat({ n1, #ngx.ctx.serialize_values, last.key, last.value, last.mode }, ' '))";
    let mut chain = chain_with(json!({ "access": [source] }), &[]);
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 200, "{:?}", outcome.messages());
    assert_eq!(outcome.body, "1 3 val2 1 add");
}

/// Kong's t/01-pdk/15-tracing/01-context.t TESTs 2, 3: `kong.tracing.new("t")` is a
/// recording tracer (kong/pdk/tracing.lua new_tracer); the span it makes active in access
/// is `kong.tracing("t").active_span()` in a later phase, with its tracer.
#[test]
fn tracing_active_span_carries_across_phases() {
    let access = "local tracer = kong.tracing.new('t')\nlocal span = tracer.start_span('access')\ntracer.set_active_span(span)";
    let header_filter = "local span = kong.tracing('t').active_span()\nkong.response.set_header('x-span', span.name .. ' ' .. span.tracer.name)";
    let mut chain = chain_with(json!({ "access": [access], "header_filter": [header_filter] }), &[]);
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 200, "{:?}", outcome.messages());
    assert_eq!(outcome.header("x-span"), Some("access t"));
}
