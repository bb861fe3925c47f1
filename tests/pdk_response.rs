//! `kong.response`, `kong.service.request` and the `ngx` output functions through the
//! real `kong_functions.wasm` (build it first: `make build`).

mod common;

use common::{harness, module_path};

use serde_json::{json, Value};
use wasm_harness::{Chain, ChainSpec, FilterSpec, Outcome, RequestSpec};

fn chain(config: Value) -> Chain {
    let filters = vec![FilterSpec { name: "pre-function".into(), module: module_path(), config, root_id: None }];
    harness()
        .chain(&common::shipped(ChainSpec { filters, vm_config: Value::Null, ..ChainSpec::default() }))
        .unwrap_or_else(|e| panic!("{e:#}"))
}

fn send(chain: &mut Chain, request: RequestSpec) -> Outcome {
    chain.run(&request).unwrap_or_else(|e| panic!("filter trapped: {e:#}"))
}

fn echoed(outcome: &Outcome) -> Value {
    serde_json::from_str(&outcome.body).unwrap_or_else(|e| panic!("echo body: {e}: {}", outcome.body))
}

#[test]
fn exit_with_a_table_answers_json_without_the_upstream() {
    let mut chain = chain(json!({ "access": ["return kong.response.exit(403, { message = 'Forbidden here' }, { ['X-Reason'] = 'policy' })"] }));
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 403);
    assert_eq!(outcome.body, r#"{"message":"Forbidden here"}"#);
    assert_eq!(outcome.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(outcome.header("x-reason"), Some("policy"));
    assert!(outcome.upstream.is_none());
}

#[test]
fn error_negotiates_html_from_accept() {
    let mut chain = chain(json!({ "access": ["return kong.response.error(401)"] }));
    let html = send(&mut chain, RequestSpec::get("/").header("accept", "text/html"));
    assert_eq!(html.status, 401);
    assert_eq!(html.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(html.body.contains("<p>Unauthorized.</p>"), "{}", html.body);
    let json = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(json.header("content-type"), Some("application/json; charset=utf-8"));
    assert!(json.body.contains("\"message\":\"Unauthorized\""), "{}", json.body);
}

#[test]
fn header_filter_sets_and_adds_response_headers() {
    let source = "kong.response.set_header('X-Set', 'one')\nkong.response.add_header('X-Added', 'a')\nkong.response.add_header('X-Added', 'b')\nkong.response.clear_header('Content-Type')";
    let mut chain = chain(json!({ "header_filter": [source] }));
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 200);
    assert_eq!(outcome.header("x-set"), Some("one"));
    let added: Vec<&str> = outcome.headers.iter().filter(|(n, _)| n == "x-added").map(|(_, v)| v.as_str()).collect();
    assert_eq!(added, ["a", "b"]);
    assert_eq!(outcome.header("content-type"), None);
}

#[test]
fn service_request_changes_reach_the_upstream() {
    let source = "kong.service.request.set_path('/rewritten/path')\nkong.service.request.set_query({ b = 'x y', a = '1' })\nkong.service.request.set_method('POST')\nkong.service.request.set_header('X-To-Upstream', 'yes')";
    let mut chain = chain(json!({ "access": [source] }));
    let outcome = send(&mut chain, RequestSpec::get("/original?drop=me"));
    assert_eq!(outcome.status, 200);
    let upstream = outcome.upstream.clone().expect("proxied");
    assert_eq!(upstream.path, "/rewritten/path?a=1&b=x%20y");
    assert_eq!(upstream.method, "POST");
    assert_eq!(upstream.header("x-to-upstream"), Some("yes"));
    assert_eq!(echoed(&outcome)["path"], "/rewritten/path?a=1&b=x%20y");
}

#[test]
fn clear_query_arg_and_raw_query_reach_the_upstream() {
    let mut chain = chain(json!({ "rewrite": ["kong.service.request.clear_query_arg('secret')"], "access": ["kong.service.request.set_raw_query(kong.request.get_header('x-q') or 'keep=1&secret=2')"] }));
    let outcome = send(&mut chain, RequestSpec::get("/p?secret=1&x=2"));
    assert_eq!(outcome.upstream.expect("proxied").path, "/p?keep=1&secret=2");
    let mut chain_two = self::chain(json!({ "access": ["kong.service.request.clear_query_arg('secret')"] }));
    let outcome = send(&mut chain_two, RequestSpec::get("/p?secret=1&x=2"));
    assert_eq!(outcome.upstream.expect("proxied").path, "/p?x=2");
}

#[test]
fn ngx_status_then_exit_in_the_next_chunk_sends_kongs_bad_request() {
    let mut chain = chain(json!({ "access": ["ngx.status = 400", "ngx.exit(ngx.status)"] }));
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 400);
    assert!(outcome.body.contains("Bad request"), "{}", outcome.body);
    assert!(outcome.upstream.is_none());
}

#[test]
fn ngx_say_then_exit_sends_the_output() {
    let mut chain = chain(json!({ "access": ["ngx.status = 404\nngx.say('Not Found')\nngx.exit(ngx.status)"] }));
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 404);
    assert_eq!(outcome.body, "Not Found\n");
    assert!(outcome.upstream.is_none());
}

#[test]
fn body_filter_rewrites_the_whole_body() {
    let source = "local body = kong.response.get_raw_body()\nif body then kong.response.set_raw_body(body:upper()) end";
    let mut chain = chain(json!({ "body_filter": [source] }));
    let outcome = send(&mut chain, RequestSpec::get("/shout"));
    assert_eq!(outcome.status, 200);
    assert!(outcome.body.contains("\"PATH\":\"/SHOUT\""), "{}", outcome.body);
}

/// `kong.response.exit` encodes a table body with the `cjson.safe` settings Kong installs
/// at start (kong/globalpatches.lua: `encode_number_precision(16)`, Kong's
/// `CJSON_MAX_PRECISION`): `2^53` is `9007199254740992`, as Kong's
/// t/01-pdk/08-response/11-exit.t TEST 45 expects, not lua-cjson's default 14 digits.
#[test]
fn exit_encodes_numbers_with_kongs_16_digit_precision() {
    let mut chain = chain(json!({ "access": ["return kong.response.exit(200, { n = 9007199254740992, f = 0.1 })"] }));
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 200, "{:?}", outcome.logs);
    let body: Value = serde_json::from_str(&outcome.body).unwrap_or_else(|e| panic!("{e}: {}", outcome.body));
    assert_eq!(body, json!({ "n": 9007199254740992u64, "f": 0.1 }));
    assert!(outcome.body.contains(r#""n":9007199254740992"#), "{}", outcome.body);
    // kong.response.error with a table message goes through the same encoder.
    let mut chain = self::chain(json!({ "access": ["return kong.response.error(400, { n = 2^53 })"] }));
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 400, "{:?}", outcome.logs);
    assert!(outcome.body.contains("9007199254740992"), "{}", outcome.body);
}

/// After `ngx.send_headers()` (nginx sent the response headers), `kong.response.exit`
/// fails with Kong's "headers have already been sent" and the printed output is the
/// response: Kong's t/01-pdk/08-response/11-exit.t TEST 4 (status 200, body the error).
/// The setters check the same (kong/pdk/response.lua `if ngx.headers_sent then error(...)`).
#[test]
fn exit_after_send_headers_fails_as_kong() {
    let source = r#"
        ngx.send_headers()
        local ok, err = pcall(kong.response.exit, 200)
        if not ok then ngx.say(err) end
        local ok2, err2 = pcall(kong.response.set_header, "x-late", "1")
        ngx.say(tostring(ok2), " ", err2)
    "#;
    let mut chain = chain(json!({ "access": [source] }));
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.status, 200, "{:?}", outcome.logs);
    assert_eq!(outcome.body, "headers have already been sent\nfalse headers have already been sent\n");
    assert!(outcome.upstream.is_none());
    assert!(outcome.header("x-late").is_none());
}

/// Kong's t/01-pdk/07-service-response/02-get_headers.t TEST 5 and 08-response/03-get_headers.t
/// TEST 5 (200 headers: `get_headers()` returns `"truncated"` second), 03-get_header.t TEST 4
/// and 08-response/02-get_header.t TEST 4 (a header past the first 100 lines: `nil`),
/// 07-service-response/02-get_headers.t TEST 10 and 03-get_header.t TESTs 6, 7 (a header the
/// filter set in access is not the service's: `nil`, while `ngx.header` still has it).
#[test]
fn get_headers_truncates_and_service_response_answers_only_the_upstreams_headers() {
    let mut pairs: Vec<(wasm_harness::Bytes, wasm_harness::Bytes)> =
        (1..=200).map(|i| (format!("x-header-{i}").into(), "test".into())).collect();
    pairs.push(("accept".into(), "text/html".into()));
    pairs.push(("x-service-header".into(), "test".into()));
    let access = "ngx.header['X-Non-Service-Header'] = 'test'";
    let header_filter = "local _, err1 = kong.service.response.get_headers()\n\
        local _, err2 = kong.response.get_headers()\n\
        local h = kong.service.response.get_headers(1000)\n\
        kong.response.set_header('X-Result', table.concat({ tostring(err1), tostring(err2),\n\
          type(kong.service.response.get_header('Accept')), type(kong.response.get_header('Accept')),\n\
          h['X-Service-Header'], type(h['X-Non-Service-Header']), type(kong.service.response.get_header('X-Non-Service-Header')),\n\
          ngx.header['X-Non-Service-Header'] }, ' '))";
    let mut chain = chain(json!({ "access": [access], "header_filter": [header_filter] }));
    let mut request = RequestSpec::get("/");
    request.upstream = Some(wasm_harness::UpstreamSpec {
        status: Some(200),
        headers: wasm_harness::HeadersSpec::Pairs(pairs),
        body: Some("ok".into()),
    });
    let outcome = send(&mut chain, request);
    assert_eq!(outcome.status, 200, "{:?}", outcome.logs);
    assert_eq!(outcome.header("x-result"), Some("truncated truncated nil nil test nil nil test"));
}

/// Kong's t/01-pdk/06-service-request/10-add_header.t TESTs 5, 6: `add_header("Host", v)`
/// sets `upstream_host`, so the upstream gets one Host, the last one added.
#[test]
fn service_request_add_header_host_replaces_the_upstream_host() {
    let source = "kong.service.request.add_header('Host', 'example.com')\nkong.service.request.add_header('Host', 'example2.com')";
    let mut chain = chain(json!({ "access": [source] }));
    let outcome = send(&mut chain, RequestSpec::get("/t"));
    let upstream = outcome.upstream.clone().expect("proxied");
    assert_eq!(upstream.authority.as_deref(), Some("example2.com"), "{upstream:?}");
}
