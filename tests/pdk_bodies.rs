//! Request and response bodies through the real `kong_functions.wasm` under both host
//! profiles: the request body buffered for `access` only when a chunk reads or replaces
//! it, a replaced body sent upstream with its own `Content-Length`, and buffered
//! upstream responses (`enable_buffering`) read in `header_filter`, replaced in `body_filter`.
//!
//! Build the module first (`make build`); `KONG_FUNCTIONS_WASM` overrides its path.

mod common;

use common::{harness, module_path};
use serde_json::{json, Value};
use wasm_harness::{Chain, ChainSpec, FilterSpec, HostProfile, Outcome, RequestSpec, UpstreamSpec};

fn chains(config: Value) -> Vec<(HostProfile, Chain)> {
    chains_with_vm(config, Value::Null)
}

fn chains_with_vm(config: Value, vm_config: Value) -> Vec<(HostProfile, Chain)> {
    [HostProfile::Envoy, HostProfile::Kong]
        .into_iter()
        .map(|profile| {
            let filters = vec![FilterSpec { name: "pre-function".into(), module: module_path(), config: config.clone(), root_id: None }];
            let spec = common::shipped(ChainSpec { filters, profile, vm_config: vm_config.clone(), ..ChainSpec::default() });
            (profile, harness().chain(&spec).unwrap_or_else(|e| panic!("{e:#}")))
        })
        .collect()
}

fn send(chain: &mut Chain, request: RequestSpec) -> Outcome {
    chain.run(&request).unwrap_or_else(|e| panic!("filter trapped: {e:#}"))
}

fn post(path: &str, content_type: &str, body: &str) -> RequestSpec {
    let mut request = RequestSpec::get(path)
        .header("content-type", content_type)
        .header("content-length", &body.len().to_string());
    request.method = Some("POST".into());
    request.body = Some(body.into());
    request
}

#[test]
fn json_body_is_parsed_and_a_replaced_body_goes_upstream_with_its_length() {
    let source = "local body, err, mime = kong.request.get_body()\n\
                  if not body then return kong.response.exit(400, { message = err }) end\n\
                  body.seen = true\n\
                  kong.service.request.set_raw_body(string.format('{\"user\":\"%s\",\"seen\":%s}', body.user, tostring(body.seen)))";
    for (profile, mut chain) in chains(json!({ "access": [source] })) {
        let outcome = send(&mut chain, post("/echo", "application/json", r#"{"user":"ana"}"#));
        assert_eq!(outcome.status, 200, "{profile:?}: {}", outcome.body);
        let upstream = outcome.upstream.expect("proxied");
        assert_eq!(upstream.body, r#"{"user":"ana","seen":true}"#, "{profile:?}");
        assert_eq!(upstream.header("content-length"), Some("26"), "{profile:?}");

        let bad = send(&mut chain, post("/echo", "application/json", "{not json"));
        assert_eq!(bad.status, 400, "{profile:?}: {}", bad.body);
        assert!(bad.upstream.is_none(), "{profile:?}");
    }
}

#[test]
fn form_bodies_parse_as_kong_and_chunks_that_never_read_the_body_leave_it_alone() {
    let reads = "local args = kong.request.get_body()\nkong.service.request.set_header('x-name', args.name)";
    for (profile, mut chain) in chains(json!({ "access": [reads] })) {
        let outcome = send(&mut chain, post("/f", "application/x-www-form-urlencoded", "name=J%C3%BA+Li&x=1"));
        assert_eq!(outcome.status, 200, "{profile:?}: {}", outcome.body);
        let upstream = outcome.upstream.expect("proxied");
        assert_eq!(upstream.header("x-name"), Some("Jú Li"), "{profile:?}");
        assert_eq!(upstream.body, "name=J%C3%BA+Li&x=1", "{profile:?}: the body is passed on as it came");
    }
    for (profile, mut chain) in chains(json!({ "access": ["kong.service.request.set_header('x-seen', 'yes')"] })) {
        let outcome = send(&mut chain, post("/f", "text/plain", "untouched"));
        let upstream = outcome.upstream.expect("proxied");
        assert_eq!((upstream.header("x-seen"), upstream.body.as_str()), (Some("yes"), "untouched"), "{profile:?}");
    }
}

#[test]
fn buffered_upstream_response_is_read_in_header_filter_and_replaced_in_body_filter() {
    let config = json!({
        "access": ["kong.service.request.enable_buffering()"],
        "header_filter": ["local body = kong.service.response.get_raw_body()\n\
                           kong.response.set_header('x-upstream-length', #body)"],
        "body_filter": ["local body = kong.response.get_raw_body()\n\
                         if body then kong.response.set_raw_body(body:upper() .. '!') end"],
    });
    for (profile, mut chain) in chains(config) {
        let mut request = RequestSpec::get("/");
        request.upstream = Some(UpstreamSpec { status: Some(200), body: Some("hello upstream".into()), ..UpstreamSpec::default() });
        let outcome = send(&mut chain, request);
        assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.logs);
        assert_eq!(outcome.body, "HELLO UPSTREAM!", "{profile:?}");
        if common::behaviour(profile).holds_response_headers {
            // A host that cannot hold response headers (Kong's engine) runs header_filter
            // before the body arrives, and only body_filter sees it.
            assert_eq!(outcome.header("x-upstream-length"), Some("14"));
            assert_eq!(outcome.header("content-length"), Some("15"));
        } else {
            // Never the upstream's stale 14: the host frames the body itself.
            assert!(matches!(outcome.header("content-length"), None | Some("15")), "{:?}", outcome.headers);
        }
    }
}

/// `kong.request.get_body` decodes JSON as Kong's `kong.tools.cjson.decode_with_array_mt`:
/// arrays carry `cjson.array_mt` (Kong's t/01-pdk/04-request/16-get_body.t TEST 14: an
/// empty array body is a table whose metatable is `require("cjson").array_mt`), so they
/// encode back as arrays, `[]` included; `null` is `cjson.null`.
#[test]
fn json_arrays_from_get_body_carry_cjson_array_mt() {
    let source = r#"
        local body = kong.request.get_body()
        local array_mt = require("cjson").array_mt
        return kong.response.exit(200, table.concat({
            tostring(getmetatable(body.list) == array_mt),
            tostring(getmetatable(body.empty) == array_mt),
            tostring(getmetatable(body) == nil),
            tostring(body.none == ngx.null),
            require("cjson").encode({ body.empty, body.list }),
        }, "|"))
    "#;
    let vm = json!({ "untrusted_lua": "on" });
    for (profile, mut chain) in chains_with_vm(json!({ "access": [source] }), vm.clone()) {
        let outcome = send(&mut chain, post("/", "application/json", r#"{"list":[1,2],"empty":[],"none":null}"#));
        assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.logs);
        // Kong's engine appends a linefeed to a local response body (kong-engine.md).
        assert_eq!(outcome.body.trim_end(), "true|true|true|true|[[],[1,2]]", "{profile:?}");
    }
    // The body itself an empty array (Kong's TEST 14).
    let top = "local b = kong.request.get_body() return kong.response.exit(200, tostring(getmetatable(b) == require('cjson').array_mt))";
    for (profile, mut chain) in chains_with_vm(json!({ "access": [top] }), vm.clone()) {
        let outcome = send(&mut chain, post("/", "application/json", "[]"));
        assert_eq!((outcome.status, outcome.body.trim_end()), (200, "true"), "{profile:?}: {:?}", outcome.logs);
    }
}

/// A body larger than nginx's `client_body_buffer_size` is in a temp file on Kong's
/// engine, where no filter can read it: the phases run and the body functions answer as
/// Kong's kong/pdk/request.lua does for a body in a file (t/01-pdk/04-request/
/// 15-get_raw_body.t TESTS 5 and 7, 16-get_body.t TEST 24), and the body goes upstream
/// untouched. Envoy keeps the body in memory: the chunk reads it.
#[test]
fn a_body_nginx_keeps_in_a_file_answers_kongs_errors() {
    let source = r#"
        local body, e1 = kong.request.get_raw_body()
        local _, e2 = kong.request.get_raw_body(19999)
        local _, e3 = kong.request.get_body("application/x-www-form-urlencoded")
        kong.service.request.set_header("x-read", body and #body or (e1 .. "|" .. e2 .. "|" .. e3))
    "#;
    let body = "a".repeat(20000);
    for (profile, mut chain) in chains(json!({ "access": [source] })) {
        let outcome = send(&mut chain, post("/", "text/plain", &body));
        assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.logs);
        let upstream = outcome.upstream.expect("proxied");
        assert_eq!(upstream.body.len(), 20000, "{profile:?}");
        let expected = match profile {
            HostProfile::Kong => "request body did not fit into client body buffer, consider raising 'client_body_buffer_size'|\
                                  request body file too big: 20000 > 19999|request body in temp file not supported",
            _ => "20000",
        };
        assert_eq!(upstream.header("x-read"), Some(expected), "{profile:?}");
    }
}

/// `kong.service.request.set_body` takes the Content-Type a chunk set before it (Kong
/// reads the request's header, which `set_header` changed): Kong's
/// t/01-pdk/06-service-request/07-set_body.t TEST 19 (an empty table as JSON: `{}`,
/// Content-Length 2) and TEST 7 (as a form: an empty body).
#[test]
fn set_body_uses_the_content_type_a_chunk_set() {
    for (mime, body) in [("application/json", "{}"), ("application/x-www-form-urlencoded", "")] {
        let source = format!("kong.service.request.set_header('Content-Type', '{mime}')\nassert(kong.service.request.set_body({{}}))");
        for (profile, mut chain) in chains(json!({ "access": [source] })) {
            let outcome = send(&mut chain, post("/t", "text/plain", "foo=hello%20world"));
            assert_eq!(outcome.status, 200, "{profile:?} {mime}: {:?}", outcome.logs);
            let upstream = outcome.upstream.expect("proxied");
            assert_eq!(upstream.body, body, "{profile:?} {mime}");
            assert_eq!(upstream.header("content-type"), Some(mime), "{profile:?}");
            assert_eq!(upstream.header("content-length"), Some(body.len().to_string().as_str()), "{profile:?} {mime}");
        }
    }
}
