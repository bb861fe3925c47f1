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
    [HostProfile::Envoy, HostProfile::Kong]
        .into_iter()
        .map(|profile| {
            let filters = vec![FilterSpec { name: "pre-function".into(), module: module_path(), config: config.clone() }];
            let spec = common::shipped(ChainSpec { filters, profile, ..ChainSpec::default() });
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
