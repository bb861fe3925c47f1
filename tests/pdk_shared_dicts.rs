//! `ngx.shared.DICT` through the real `kong_functions.wasm` in the wasmtime harness, under
//! both host profiles: a dictionary keeps its values across requests and between the
//! pre-function and the post-function of one chain (lua-nginx-module: "Shared memory
//! zones are always shared by all the Nginx worker processes"; here, by every filter
//! whose shared data is the same: Envoy's `vm_id`, Kong's `shm_kv` zone).
//!
//! Build the module first (`make wasm`); `KONG_FUNCTIONS_WASM` overrides its path.

mod common;

use common::{harness, module_path, PROFILES};

use serde_json::{json, Value};
use wasm_harness::{Chain, ChainSpec, FilterSpec, HostProfile, Outcome, RequestSpec};

fn filter(name: &str, config: Value) -> FilterSpec {
    FilterSpec { name: name.into(), module: module_path(), config, root_id: None }
}

/// A pre-function and post-function chain on `profile`, with a dictionary `counters`;
/// on Kong's engine the filter's keys go to the `kong_functions` `shm_kv` zone.
fn chain(profile: HostProfile, pre: Value, post: Value) -> Chain {
    let spec = ChainSpec {
        filters: vec![filter("pre-function", pre), filter("post-function", post)],
        vm_config: json!({ "shared_dicts": { "counters": "1m" }, "shared_data_zone": "kong_functions" }),
        profile,
        shm_zones: vec!["kong_functions".into()],
        ..ChainSpec::default()
    };
    harness().chain(&spec).map_err(|e| format!("{e:#}")).unwrap()
}

fn send(chain: &mut Chain, request: RequestSpec) -> Outcome {
    chain.run(&request).unwrap_or_else(|e| panic!("filter trapped: {e:#}"))
}

#[test]
fn a_counter_crosses_requests_and_roles() {
    for profile in PROFILES {
        let mut chain = chain(
            profile,
            json!({ "access": ["local hits = ngx.shared.counters:incr('hits', 1, 0) kong.service.request.set_header('x-hits', hits)"] }),
            json!({ "header_filter": ["kong.response.set_header('x-seen', ngx.shared.counters:get('hits'))"] }),
        );
        for n in 1..=3 {
            let outcome = send(&mut chain, RequestSpec::get("/"));
            assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.messages());
            assert_eq!(outcome.header("x-seen"), Some(n.to_string().as_str()), "{profile:?}");
        }
    }
}

#[test]
fn add_and_expiry_answer_as_lua_nginx_module() {
    // add: `false, "exists"` on a live key; ttl: 0 for a key set without exptime.
    for profile in PROFILES {
        let mut chain = chain(
            profile,
            json!({ "access": [r#"
                local d = ngx.shared.counters
                local ok, err = d:add("first", ngx.var.request_uri)
                kong.response.set_header("x-add", tostring(ok) .. " " .. tostring(err))
                kong.response.set_header("x-first", d:get("first"))
                kong.response.set_header("x-ttl", d:ttl("first"))
                kong.response.set_header("x-keys", #d:get_keys())
                kong.response.set_header("x-kong", type(ngx.shared.kong) .. " " .. tostring(ngx.shared.nope))
            "#] }),
            json!({ "log": ["return"] }),
        );
        let first = send(&mut chain, RequestSpec::get("/one"));
        assert_eq!(first.status, 200, "{profile:?}: {:?}", first.messages());
        assert_eq!(first.header("x-add"), Some("true nil"), "{profile:?}");
        let second = send(&mut chain, RequestSpec::get("/two"));
        assert_eq!(second.header("x-add"), Some("false exists"), "{profile:?}");
        assert_eq!(second.header("x-first"), Some("/one"), "{profile:?}");
        assert_eq!(second.header("x-ttl"), Some("0"), "{profile:?}");
        assert_eq!(second.header("x-keys"), Some("1"), "{profile:?}");
        assert_eq!(second.header("x-kong"), Some("table nil"), "{profile:?}");
    }
}

#[test]
fn without_a_zone_kongs_engine_keeps_dictionaries_in_module_memory() {
    // kong-engine.md: a key in no declared shm_kv zone traps the instance; without
    // `shared_data_zone` the dictionaries live in module memory (per module instance), so
    // no request traps. Whether the post-function sees the pre-function's counter then
    // depends on the two sharing an instance (the harness gives each filter its own).
    let spec = ChainSpec {
        filters: vec![
            filter("pre-function", json!({ "access": ["kong.response.set_header('x-pre', ngx.shared.kong:incr('n', 1, 0))"] })),
            filter("post-function", json!({ "header_filter": ["kong.response.set_header('x-post', tostring(ngx.shared.kong:get('n')))"] })),
        ],
        vm_config: Value::Null,
        profile: HostProfile::Kong,
        ..ChainSpec::default()
    };
    let mut chain = harness().chain(&spec).map_err(|e| format!("{e:#}")).unwrap();
    for n in 1..=2 {
        let outcome = send(&mut chain, RequestSpec::get("/"));
        assert_eq!(outcome.status, 200, "{:?}", outcome.messages());
        assert_eq!(outcome.header("x-pre"), Some(n.to_string().as_str()));
        assert!(outcome.header("x-post").is_some());
    }
}
