//! The shipped module in the harness's `kong` profile, which reproduces Kong's real Wasm
//! engine (nginx + ngx_wasm_module) as measured in `shared/design/kong-engine.md`:
//! start-up refusals, removed headers still forwarded, `:path` ignored, one body
//! callback, shared-data zones. Each test is a behaviour a Kong user sees.

mod common;

use common::{chain, send, ROLES};
use serde_json::json;
use wasm_harness::{ChainSpec, FilterSpec, HostProfile, RequestSpec};

/// The seed walkthrough's chunk (Kong's Serverless Functions docs).
const CUSTOM_AUTH: &str = include_str!("../examples/custom-auth/custom-auth.lua");

fn is_problem(level: &str) -> bool {
    matches!(level, "error" | "critical" | "alert" | "crit" | "emerg")
}

#[test]
fn the_walkthrough_in_both_roles_never_forwards_the_credential() {
    for role in ROLES {
        let config = json!({ "access": [CUSTOM_AUTH], "log": ["kong.log.notice('x-custom-auth=', tostring(kong.request.get_header('x-custom-auth')))"] });
        let mut chain = chain(role, HostProfile::Kong, config);
        let refused = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(refused.status, 401, "{role}");
        assert_eq!(refused.body.trim_end(), "Invalid Credentials", "{role}");
        assert!(refused.upstream.is_none(), "{role}");

        let allowed = send(&mut chain, &RequestSpec::get("/").header("x-custom-auth", "demo"));
        assert_eq!(allowed.status, 200, "{role}: {:?}", allowed.logs);
        let upstream = allowed.upstream.clone().expect("proxied");
        let forwarded = upstream.header("x-custom-auth");
        assert!(forwarded.unwrap_or("").is_empty(), "{role}: the upstream got the credential {forwarded:?}");
        // Kong's clear_header: the header is gone for the rest of the request.
        let prefix = format!("[{role}] ");
        assert!(allowed.messages().contains(&format!("{prefix}x-custom-auth=nil").as_str()), "{role}: {:?}", allowed.messages());
    }
}

#[test]
fn the_role_comes_from_the_config_when_kong_names_both_filters_after_the_file() {
    let filter = |role: &str| FilterSpec {
        name: "kong_functions".into(),
        module: common::module_path(),
        config: json!({ "role": role, "access": ["kong.log.notice('here')"] }),
    };
    let spec = ChainSpec { filters: vec![filter("pre-function"), filter("post-function")], profile: HostProfile::Kong, ..ChainSpec::default() };
    let mut chain = common::harness().chain(&spec).unwrap_or_else(|e| panic!("{e:#}"));
    let out = send(&mut chain, &RequestSpec::get("/"));
    assert_eq!(out.messages(), ["[pre-function] here", "[post-function] here"]);
}

#[test]
fn start_up_and_a_plain_request_log_no_errors() {
    for role in ROLES {
        let config = json!({ "access": [CUSTOM_AUTH], "header_filter": ["kong.response.set_header('x-v', kong.version)"] });
        let mut chain = chain(role, HostProfile::Kong, config);
        let problems: Vec<_> = chain.startup_logs.iter().filter(|l| is_problem(&l.level)).collect();
        assert!(problems.is_empty(), "{role}: start-up logged {problems:?}");
        let out = send(&mut chain, &RequestSpec::get("/").header("x-custom-auth", "demo"));
        assert_eq!(out.status, 200, "{role}");
        let problems: Vec<_> = out.logs.iter().filter(|l| is_problem(&l.level)).collect();
        assert!(problems.is_empty(), "{role}: the request logged {problems:?}");
    }
}

#[test]
fn path_and_query_setters_change_what_the_upstream_receives() {
    let cases = [
        ("kong.service.request.set_path('/other')", "/p?a=1", "/other?a=1"),
        ("kong.service.request.set_raw_query('c=d')", "/p?a=1", "/p?c=d"),
        ("kong.service.request.clear_query_arg('a')", "/p?a=1&b=2", "/p?b=2"),
        ("ngx.var.args = nil", "/p?a=1", "/p"),
        ("ngx.req.set_uri('/u')", "/p?a=1", "/u?a=1"),
    ];
    for (chunk, path, expected) in cases {
        let mut chain = chain("pre-function", HostProfile::Kong, json!({ "access": [chunk] }));
        let out = send(&mut chain, &RequestSpec::get(path));
        assert_eq!(out.status, 200, "{chunk}: {:?}", out.logs);
        assert_eq!(out.upstream.expect("proxied").path, expected, "{chunk}");
    }
}

#[test]
fn a_chunk_that_reads_the_body_gets_it_and_the_request_completes() {
    let chunk = "local body = kong.request.get_raw_body()\nkong.service.request.set_raw_body(body:upper())";
    let mut chain = chain("pre-function", HostProfile::Kong, json!({ "access": [chunk] }));
    let mut request = RequestSpec::get("/").header("content-length", "5");
    request.method = Some("POST".into());
    request.body = Some("hello".into());
    let out = send(&mut chain, &request);
    assert_eq!(out.status, 200, "{:?}", out.logs);
    let upstream = out.upstream.expect("proxied");
    assert_eq!(upstream.body, "HELLO");
    assert_eq!(upstream.header("content-length"), Some("5"));
    // A GET without a body runs at the headers and does not wait for a body callback.
    let out = send(&mut chain, &RequestSpec::get("/"));
    assert_eq!(out.status, 200, "{:?}", out.logs);
}

#[test]
fn cache_and_node_id_work_without_a_declared_zone() {
    let chunk = "local v = kong.cache:get('k', nil, function() return 'val' end)\n\
                 return kong.response.exit(200, v .. ' ' .. #kong.node.get_id())";
    let mut chain = chain("pre-function", HostProfile::Kong, json!({ "access": [chunk] }));
    for _ in 0..3 {
        let out = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!((out.status, out.body.trim_end()), (200, "val 36"), "{:?}", out.logs);
    }
}
