//! The cases of Kong's own serverless-functions test suite that need no database
//! (`spec/03-plugins/33-serverless-functions/02-access_spec.lua`), in our words, through
//! the real `kong_functions.wasm` in both roles and under both host profiles.
//!
//! Build the module first (`make build`); `KONG_FUNCTIONS_WASM` overrides its path.

mod common;

use common::{harness, module_path};

use serde_json::{json, Value};
use wasm_harness::{Chain, ChainSpec, FilterSpec, HostProfile, Outcome, RequestSpec};

const ROLES: [&str; 2] = ["pre-function", "post-function"];
const PROFILES: [HostProfile; 2] = [HostProfile::Envoy, HostProfile::Kong];

/// One chain per role and profile, each with `access` = `chunks`.
fn chains(chunks: &[&str]) -> Vec<(String, Chain)> {
    chains_with(chunks, Default::default())
}

fn chains_with(chunks: &[&str], properties: std::collections::BTreeMap<String, String>) -> Vec<(String, Chain)> {
    let mut out = Vec::new();
    for role in ROLES {
        for profile in PROFILES {
            let spec = common::shipped(ChainSpec {
                filters: vec![FilterSpec { name: role.into(), module: module_path(), config: json!({ "access": chunks }), root_id: None }],
                vm_config: Value::Null,
                properties: properties.clone(),
                profile,
                ..ChainSpec::default()
            });
            let chain = harness().chain(&spec).unwrap_or_else(|e| panic!("{role} under {profile:?}: {e:#}"));
            out.push((format!("{role} under {profile:?}"), chain));
        }
    }
    out
}

fn send(chain: &mut Chain, request: RequestSpec) -> Outcome {
    chain.run(&request).unwrap_or_else(|e| panic!("filter trapped: {e:#}"))
}

fn post(path: &str, body: &str) -> RequestSpec {
    let mut request = RequestSpec::get(path).header("content-length", &body.len().to_string());
    request.method = Some("POST".into());
    request.body = Some(body.into());
    request
}

#[test]
fn ngx_exit_with_the_status_set_before() {
    for (name, mut chain) in chains(&["ngx.status = 503\nngx.exit(ngx.status)"]) {
        let out = send(&mut chain, RequestSpec::get("/status/200"));
        assert_eq!(out.status, 503, "{name}");
        assert!(out.upstream.is_none(), "{name}: the upstream must not be called");
    }
}

#[test]
fn ngx_say_then_exit_sends_the_text() {
    for (name, mut chain) in chains(&["ngx.status = 404\nngx.say(\"Not Found\")\nngx.exit(ngx.status)"]) {
        let out = send(&mut chain, RequestSpec::get("/status/200"));
        assert_eq!(out.status, 404, "{name}");
        assert_eq!(out.body.trim_end(), "Not Found", "{name}");
    }
}

#[test]
fn kong_response_exit_with_a_table_sends_json() {
    for (name, mut chain) in chains(&["return kong.response.exit(406, { message = \"Invalid\" })"]) {
        let out = send(&mut chain, RequestSpec::get("/status/200"));
        assert_eq!(out.status, 406, "{name}");
        let body: Value = serde_json::from_str(&out.body).unwrap_or_else(|e| panic!("{name}: {e}: {}", out.body));
        assert_eq!(body["message"], "Invalid", "{name}");
    }
}

#[test]
fn a_status_set_in_one_chunk_is_the_exit_status_of_the_next() {
    for (name, mut chain) in chains(&["ngx.status = 400", "ngx.exit(ngx.status)"]) {
        let out = send(&mut chain, RequestSpec::get("/status/200"));
        assert_eq!(out.status, 400, "{name}");
        assert!(out.body.contains("Bad request"), "{name}: Kong's default body for 400: {}", out.body);
    }
}

#[test]
fn upvalues_give_each_request_a_new_count() {
    let source = "local count = 0\nngx.log(ngx.ERR, 'initialization ran')\nreturn function()\n  count = count + 1\n  ngx.status = 200\n  ngx.say(ngx.worker.pid() * 1000 + count)\n  ngx.exit(ngx.status)\nend";
    for (name, mut chain) in chains(&[source]) {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let out = send(&mut chain, RequestSpec::get("/status/200"));
            assert_eq!(out.status, 200, "{name}");
            assert!(seen.insert(out.body.clone()), "{name}: body {:?} repeated", out.body);
        }
    }
}

#[test]
fn runtime_error_aborts_with_kongs_500() {
    for (name, mut chain) in chains(&["error(\"this should stop the request with a 500\")"]) {
        let out = send(&mut chain, RequestSpec::get("/status/200"));
        assert_eq!(out.status, 500, "{name}");
        let body: Value = serde_json::from_str(&out.body).unwrap();
        assert_eq!(body["message"], "An unexpected error occurred", "{name}");
        assert!(out.upstream.is_none(), "{name}");
    }
}

#[test]
fn read_body_counts_across_requests_with_and_without_upvalues() {
    let counter = "ngx.req.read_body()\nlocal count = tonumber(ngx.req.get_body_data())\ncount = count + 1\nngx.status = 200\nngx.say(count)\nngx.exit(ngx.status)";
    let with_upvalues = format!("return function()\n{counter}\nend");
    for source in [counter.to_string(), with_upvalues] {
        for (name, mut chain) in chains(&[&source]) {
            let first = send(&mut chain, post("/status/200", "0"));
            assert_eq!(first.status, 200, "{name}: {}", first.body);
            assert_eq!(first.body.trim_end(), "1", "{name}");
            let mut count = String::from("0");
            for _ in 0..10 {
                let out = send(&mut chain, post("/status/200", &count));
                count = out.body.trim_end().to_string();
            }
            assert_eq!(count, "10", "{name}");
        }
    }
}

#[test]
fn kong_cache_is_readable_and_hides_gateway_internals() {
    let cache = "local ok, err = kong.cache:get(\"foo\", nil, function() return \"val\" end)\nif err then ngx.exit(500) end\nlocal v = kong.cache:get(\"foo\")\nngx.status = 200\nngx.say(v)\nngx.exit(ngx.status)";
    for (name, mut chain) in chains(&[cache]) {
        let out = send(&mut chain, RequestSpec::get("/status/200"));
        assert_eq!((out.status, out.body.trim_end()), (200, "val"), "{name}");
    }
    let internals = "ngx.status = 200\nngx.say(tostring(kong.cache.cluster_events))\nngx.exit(ngx.status)";
    for (name, mut chain) in chains(&[internals]) {
        let out = send(&mut chain, RequestSpec::get("/status/200"));
        assert_eq!((out.status, out.body.trim_end()), (200, "nil"), "{name}");
    }
}

#[test]
fn kong_configuration_is_readable_with_secrets_redacted() {
    let mut properties = std::collections::BTreeMap::new();
    properties.insert("kong.configuration.plugins".to_string(), r#"["bundled"]"#.to_string());
    properties.insert("kong.configuration.pg_password".to_string(), "hunter2".to_string());
    let source = "ngx.status = 200\nngx.say(kong.configuration.plugins[1], ' ', kong.configuration.pg_password)\nngx.exit(ngx.status)";
    for (name, mut chain) in chains_with(&[source], properties) {
        let out = send(&mut chain, RequestSpec::get("/status/200"));
        assert_eq!((out.status, out.body.trim_end()), (200, "bundled ******"), "{name}");
    }
}

#[test]
fn clearing_ngx_var_args_empties_the_upstream_query() {
    for (name, mut chain) in chains(&["ngx.var.args = nil"]) {
        let out = send(&mut chain, RequestSpec::get("/status/200?a=b"));
        assert_eq!(out.status, 200, "{name}: {}", out.body);
        let upstream = out.upstream.expect("proxied");
        assert_eq!(upstream.path, "/status/200", "{name}");
    }
}
