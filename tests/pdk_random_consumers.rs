//! Through the real `kong_functions.wasm` in the wasmtime harness, both host profiles:
//! random bytes and UUIDs from WASI `random_get` (`resty.random`, `resty.jit-uuid`,
//! `kong.tools.uuid`, `kong.tools.rand`), `kong.tools.gzip`, and the authenticated
//! consumer crossing from the pre-function to the post-function (Kong keeps it in
//! `ngx.ctx`, which every plugin of a request shares: `kong/pdk/client.lua`).
//!
//! Build the module first (`make wasm`); `KONG_FUNCTIONS_WASM` overrides its path.

mod common;

use common::{harness, module_path, PROFILES};

use serde_json::{json, Value};
use wasm_harness::{Chain, ChainSpec, FilterSpec, HostProfile, Outcome, RequestSpec};

fn filter(name: &str, config: Value) -> FilterSpec {
    FilterSpec { name: name.into(), module: module_path(), config, root_id: None }
}

fn chain(profile: HostProfile, filters: Vec<FilterSpec>, mode: &str) -> Chain {
    let spec = ChainSpec { filters, vm_config: json!({ "untrusted_lua": mode }), profile, ..ChainSpec::default() };
    harness().chain(&spec).map_err(|e| format!("{e:#}")).unwrap()
}

fn send(chain: &mut Chain, request: RequestSpec) -> Outcome {
    chain.run(&request).unwrap_or_else(|e| panic!("filter trapped: {e:#}"))
}

fn is_v4(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { *c == b'-' } else { c.is_ascii_hexdigit() && !c.is_ascii_uppercase() })
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

#[test]
fn uuids_and_random_bytes_come_from_the_host() {
    // Kong's handler require list (strict) allows all four modules.
    let source = r#"
        local uuid = require("kong.tools.uuid").uuid()
        local jit = require("resty.jit-uuid").generate_v4()
        local bytes = require("resty.random").bytes(32)
        local s = require("kong.tools.rand").random_string()
        kong.response.set_header("x-uuid", uuid)
        kong.response.set_header("x-jit", jit)
        kong.response.set_header("x-bytes", #bytes)
        kong.response.set_header("x-rand", #s)
    "#;
    for profile in PROFILES {
        let mut chain = chain(profile, vec![filter("pre-function", json!({ "access": [source] }))], "strict");
        let first = send(&mut chain, RequestSpec::get("/"));
        let second = send(&mut chain, RequestSpec::get("/"));
        assert_eq!(first.status, 200, "{profile:?}: {:?}", first.messages());
        for outcome in [&first, &second] {
            assert!(is_v4(outcome.header("x-uuid").unwrap()), "{profile:?}: {:?}", outcome.header("x-uuid"));
            assert!(is_v4(outcome.header("x-jit").unwrap()), "{profile:?}");
            assert_eq!(outcome.header("x-bytes"), Some("32"));
            assert_eq!(outcome.header("x-rand"), Some("32"));
        }
        assert_ne!(first.header("x-uuid"), second.header("x-uuid"));
        assert_ne!(first.header("x-uuid"), first.header("x-jit"));
    }
}

#[test]
fn gzip_round_trips() {
    let source = r#"
        local gzip = require "kong.tools.gzip"
        local gz = gzip.deflate_gzip(string.rep("hello ", 50))
        local back, err = gzip.inflate_gzip(gz)
        local _, bad = gzip.inflate_gzip("not gzip")
        kong.response.set_header("x-gzip", gz:byte(1) .. " " .. gz:byte(2) .. " " .. #back .. " " .. tostring(err) .. " " .. bad)
    "#;
    for profile in PROFILES {
        let mut chain = chain(profile, vec![filter("pre-function", json!({ "access": [source] }))], "strict");
        let outcome = send(&mut chain, RequestSpec::get("/"));
        assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.messages());
        assert_eq!(outcome.header("x-gzip"), Some("31 139 300 nil INFLATE: data error"), "{profile:?}");
    }
}

#[test]
fn the_consumer_crosses_from_pre_to_post_function() {
    let pre = json!({ "access": [r#"
        if kong.request.get_header("x-auth") then
          kong.client.authenticate({ id = "c1", username = "alice" }, { id = "k1" })
        end
        local ok, err = pcall(kong.client.authenticate)
        kong.response.set_header("x-pre-error", err)
    "#] });
    let post = json!({ "access": [r#"
        local consumer = kong.client.get_consumer()
        if consumer then
          kong.response.set_header("x-consumer", consumer.username .. " " .. kong.client.get_credential().id)
        else
          kong.response.set_header("x-consumer", "none")
        end
    "#] });
    for profile in PROFILES {
        let mut chain = chain(profile, vec![filter("pre-function", pre.clone()), filter("post-function", post.clone())], "sandbox");
        let outcome = send(&mut chain, RequestSpec::get("/").header("x-auth", "1"));
        assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.messages());
        assert_eq!(outcome.header("x-pre-error"), Some("either credential or consumer must be provided"));
        assert_eq!(outcome.header("x-consumer"), Some("alice k1"), "{profile:?}");
        // The next request, not authenticated, sees no consumer.
        let outcome = send(&mut chain, RequestSpec::get("/"));
        assert_eq!(outcome.header("x-consumer"), Some("none"), "{profile:?}");
    }
}
