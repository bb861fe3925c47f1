//! `kong.request`, `ngx.req` and `ngx.var` through the real `kong_functions.wasm`.
//!
//! Build the module first (`make build`); `KONG_FUNCTIONS_WASM` overrides its path.
//! Body reading needs the glue to buffer the body and is tested natively
//! (`src/pdk/kong/request/`, `src/pdk/ngx/req.rs`).

mod common;

use common::{harness, module_path};

use serde_json::{json, Value};
use wasm_harness::{Chain, ChainSpec, FilterSpec, Outcome, RequestSpec};

fn chain(config: Value) -> Chain {
    let filter = FilterSpec { name: "pre-function".into(), module: module_path(), config, root_id: None };
    harness()
        .chain(&common::shipped(ChainSpec { filters: vec![filter], vm_config: Value::Null, ..ChainSpec::default() }))
        .unwrap_or_else(|e| panic!("{e:#}"))
}

fn send(chain: &mut Chain, request: RequestSpec) -> Outcome {
    chain.run(&request).unwrap_or_else(|e| panic!("filter trapped: {e:#}"))
}

#[test]
fn query_args_decode_as_kong() {
    let source = r#"
        local q = kong.request.get_query()
        return kong.response.exit(200, table.concat({
            q.foo, q.bar[1], q.bar[2], tostring(q.zzz), q.blo,
            tostring(kong.request.get_query_arg("bar")), kong.request.get_raw_query(),
        }, "|"))
    "#;
    let mut chain = chain(json!({ "access": [source] }));
    let out = send(&mut chain, RequestSpec::get("/test?foo=hello%20world&bar=baz&zzz&blo=&bar=bla"));
    assert_eq!(out.status, 200, "{:?}", out.logs);
    assert_eq!(out.body, "hello world|baz|bla|true||baz|foo=hello%20world&bar=baz&zzz&blo=&bar=bla");
}

#[test]
fn headers_are_case_insensitive_and_host_comes_from_authority() {
    let source = r#"
        local h = kong.request.get_headers()
        return kong.response.exit(200, table.concat({
            kong.request.get_header("X_Custom_Header"), h["X-CUSTOM-HEADER"], h.x_custom_header,
            h.host, kong.request.get_host(), kong.request.get_scheme(), kong.request.get_method(),
            kong.request.get_path(),
        }, "|"))
    "#;
    let mut chain = chain(json!({ "access": [source] }));
    let out = send(&mut chain, RequestSpec::get("/a//b/../c").header("X-Custom-Header", "bla").header("Host", "Example.com:8000"));
    assert_eq!(out.status, 200, "{:?}", out.logs);
    assert_eq!(out.body, "bla|bla|bla|Example.com:8000|example.com|http|GET|/a/c");
}

#[test]
fn ngx_var_reads_headers_cookies_and_args() {
    let source = r#"
        return kong.response.exit(200, table.concat({
            ngx.var.http_x_foo, ngx.var.cookie_sid, ngx.var.arg_a, ngx.var.uri, ngx.var.request_uri,
            ngx.var.request_method, tostring(ngx.var.not_a_variable),
        }, "|"))
    "#;
    let mut chain = chain(json!({ "access": [source] }));
    let out = send(&mut chain, RequestSpec::get("/p%20q?a=1&b=2").header("x-foo", "bar").header("cookie", "sid=s1; x=y"));
    assert_eq!(out.status, 200, "{:?}", out.logs);
    assert_eq!(out.body, "bar|s1|1|/p q|/p%20q?a=1&b=2|GET|nil");
}

#[test]
fn set_uri_args_set_uri_set_method_and_set_header_reach_the_upstream() {
    let source = r#"
        ngx.req.set_uri_args({ q = "a b" })
        ngx.req.set_uri("/new")
        ngx.req.set_method(ngx.HTTP_PUT)
        ngx.req.set_header("X-Added", "yes")
        ngx.req.clear_header("x-drop")
        kong.response.set_header("x-original", kong.request.get_path_with_query())
    "#;
    let mut chain = chain(json!({ "access": [source] }));
    let out = send(&mut chain, RequestSpec::get("/old?x=1").header("x-drop", "1"));
    assert_eq!(out.status, 200, "{:?}", out.logs);
    let upstream = out.upstream.clone().expect("forwarded upstream");
    assert_eq!(upstream.path, "/new?q=a%20b");
    assert_eq!(upstream.method, "PUT");
    assert_eq!(upstream.header("x-added"), Some("yes"));
    assert_eq!(upstream.header("x-drop"), None);
    assert_eq!(out.header("x-original"), Some("/old?x=1"));
}

#[test]
fn ngx_var_args_nil_clears_the_upstream_query() {
    // Kong's serverless spec (mock_fn_ten).
    let mut chain = chain(json!({ "access": ["ngx.var.args = nil"] }));
    let out = send(&mut chain, RequestSpec::get("/status/200?a=1&b=2"));
    assert_eq!(out.status, 200, "{:?}", out.logs);
    assert_eq!(out.upstream.expect("forwarded upstream").path, "/status/200");
}

/// `kong.request.get_uri_captures()` reads `ngx.ctx.router_matches.uri_captures` and
/// marks the unnamed captures with `cjson.array_mt`, as Kong's `capture_wrap`; expected
/// values from Kong's t/01-pdk/04-request/21-get_uri_captures.t TEST 1. Without router
/// matches (no proxy-wasm host passes them) both tables are empty.
#[test]
fn uri_captures_read_router_matches_with_array_mt() {
    let source = r#"
        local empty = kong.request.get_uri_captures()
        local m = ngx.re.match(ngx.var.uri, [[^\/t((\/\d+)(?P<tag>\/\w+))?]], "jo")
        ngx.ctx.router_matches = { uri_captures = m }
        local c = kong.request.get_uri_captures()
        return kong.response.exit(200, table.concat({
            "tag: " .. c.named["tag"], "0: " .. c.unnamed[0], "1: " .. c.unnamed[1],
            "2: " .. c.unnamed[2], "3: " .. c.unnamed[3],
            tostring(getmetatable(c.unnamed) == require("cjson").array_mt),
            tostring(next(empty.unnamed) == nil and next(empty.named) == nil),
        }, ", "))
    "#;
    // `require "cjson"` needs the `on` mode (the `sandbox` mode's list is empty by default).
    let filter = FilterSpec { name: "pre-function".into(), module: module_path(), config: json!({ "access": [source] }), root_id: None };
    let spec = common::shipped(ChainSpec { filters: vec![filter], vm_config: json!({ "untrusted_lua": "on" }), ..ChainSpec::default() });
    let mut chain = harness().chain(&spec).unwrap_or_else(|e| panic!("{e:#}"));
    let out = send(&mut chain, RequestSpec::get("/t/01/ok"));
    assert_eq!(out.status, 200, "{:?}", out.logs);
    assert_eq!(out.body, "tag: /ok, 0: /t/01/ok, 1: /01/ok, 2: /01, 3: /ok, true, true");
}

/// Kong's t/01-pdk/04-request/04-06, 18, 19 (`get_forwarded_*` "when trusted" and
/// 06 TEST 7 "returns published port when configured") on Kong's engine, where
/// `trusted_ips` and `host_ports` are Kong's configuration: trusted, the first
/// `X-Forwarded-Path`/`-Prefix` as sent; the forwarded scheme, host and port are Kong's
/// own properties (the harness answers them as kong/pdk/request.lua computes them).
/// Untrusted (no `trusted_ips`), the headers are ignored and the port is the published one.
#[test]
fn forwarded_getters_honour_trusted_ips_and_host_ports_on_kong() {
    let source = "return kong.response.exit(200, table.concat({ kong.request.get_forwarded_path(), tostring(kong.request.get_forwarded_prefix()), \
        kong.request.get_forwarded_scheme(), kong.request.get_forwarded_host(), kong.request.get_forwarded_port() }, ' '))";
    let request = || {
        RequestSpec::get("/t")
            .header("x-forwarded-path", "/first")
            .header("x-forwarded-path", "/second")
            .header("x-forwarded-prefix", "/prefix")
            .header("x-forwarded-proto", "HTTPS")
            .header("x-forwarded-host", "user@Example.com:8443")
    };
    for (trusted, expected) in [(true, "/first /prefix https example.com 8443"), (false, "/t nil http localhost 29181")] {
        let mut properties = std::collections::BTreeMap::new();
        if trusted {
            properties.insert("kong.configuration.trusted_ips".to_string(), r#"["0.0.0.0/0", "::/0"]"#.to_string());
        }
        properties.insert("kong.configuration.host_ports".to_string(), r#"{"8000": 29181}"#.to_string());
        let filter = FilterSpec { name: "pre-function".into(), module: module_path(), config: json!({ "access": [source] }), root_id: None };
        let spec = common::shipped(ChainSpec {
            filters: vec![filter],
            profile: wasm_harness::HostProfile::Kong,
            properties,
            vm_config: Value::Null,
            ..ChainSpec::default()
        });
        let mut chain = harness().chain(&spec).unwrap_or_else(|e| panic!("{e:#}"));
        let outcome = send(&mut chain, request());
        assert_eq!(outcome.body.trim_end(), expected, "trusted: {trusted}");
    }
}
