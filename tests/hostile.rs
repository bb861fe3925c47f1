//! Hostile requests through the shipped `.wasm`, both host profiles: each ends in one
//! clear answer, and the same instance serves the next request. A trap would kill every
//! request the host runs on the instance (the developers' guide), so none may happen.

mod common;

use common::{chain, chain_with_vm, send, PROFILES};
use serde_json::json;
use wasm_harness::{Chain, Outcome, RequestSpec};

/// A chunk that touches what hostile input feeds: every header, every query argument,
/// the parsed body.
const READ_ALL: &str = r#"
local headers = kong.request.get_headers(1000)
local args = kong.request.get_query(1000)
local n = 0
for _ in pairs(headers) do n = n + 1 end
for _ in pairs(args) do n = n + 1 end
local body, err = kong.request.get_body()
kong.response.set_header("x-seen", n)
kong.response.set_header("x-body", body and "parsed" or tostring(err))
"#;

fn post(path: &str, content_type: &str, body: String) -> RequestSpec {
    let mut request = RequestSpec::get(path).header("content-type", content_type).header("content-length", &body.len().to_string());
    request.method = Some("POST".into());
    request.body = Some(body);
    request
}

/// The next plain request on `chain` is served by the upstream.
fn still_serves(chain: &mut Chain, name: &str) {
    let plain = send(chain, &RequestSpec::get("/after"));
    assert_eq!(plain.status, 200, "{name}: the next request failed: {:?}", plain.logs);
    assert!(plain.upstream.is_some(), "{name}: the next request was not proxied");
}

/// No trap, nor any other host complaint (a trap on Kong's engine shows as a `[wasm]`
/// error) but the engine's own line for a body it buffered to a file, which the filter
/// then refuses with 413.
fn no_trap(out: &Outcome, name: &str) {
    let host_errors: Vec<_> = out
        .logs
        .iter()
        .filter(|l| l.message.starts_with("[wasm]") && !l.message.contains("cannot read request body buffered to file"))
        .collect();
    assert!(host_errors.is_empty(), "{name}: {host_errors:?}");
}

#[test]
fn many_and_large_headers_and_arguments() {
    let many_headers = (0..10_000).fold(RequestSpec::get("/"), |r, i| r.header(&format!("x-h{i}"), "v"));
    let large_header = RequestSpec::get("/").header("x-large", &"a".repeat(1024 * 1024));
    let query: Vec<String> = (0..100_000).map(|i| format!("a{i}={i}")).collect();
    let many_args = RequestSpec::get(&format!("/?{}", query.join("&")));
    for profile in PROFILES {
        let mut chain = chain("pre-function", profile, json!({ "access": [READ_ALL] }));
        for (what, request, seen) in [
            ("10,000 headers", many_headers.clone(), "1000"),
            ("a 1 MiB header", large_header.clone(), "1"),
            ("100,000 query arguments", many_args.clone(), "1000"),
        ] {
            let name = format!("{what} under {profile:?}");
            let out = send(&mut chain, &request);
            no_trap(&out, &name);
            assert_eq!(out.status, 200, "{name}: {:?}", out.logs);
            // Kong's get_headers/get_query stop at max_headers/max_args (1000 here).
            let counted: usize = out.header("x-seen").and_then(|v| v.parse().ok()).unwrap_or(0);
            assert!(counted >= seen.parse().unwrap_or(0) && counted <= 2000, "{name}: counted {counted}");
            still_serves(&mut chain, &name);
        }
    }
}

#[test]
fn bodies_nested_and_split_past_reason() {
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let boundary = "XyZ";
    let mut multipart = String::new();
    for i in 0..100_000 {
        multipart.push_str(&format!("--{boundary}\r\ncontent-disposition: form-data; name=\"f{i}\"\r\n\r\nv\r\n"));
    }
    multipart.push_str(&format!("--{boundary}--\r\n"));
    for profile in PROFILES {
        let mut chain = chain("pre-function", profile, json!({ "access": [READ_ALL] }));
        for (what, request) in [
            ("JSON nested 100,000 deep", post("/", "application/json", deep_json.clone())),
            ("multipart with 100,000 parts", post("/", &format!("multipart/form-data; boundary={boundary}"), multipart.clone())),
        ] {
            let name = format!("{what} under {profile:?}");
            let out = send(&mut chain, &request);
            no_trap(&out, &name);
            // Parsed within the limits, or refused with a reason (Kong's get_body answers
            // nil and an error for what it cannot decode); a host that keeps large bodies
            // in a file (Kong's engine) gets 413 with the filter's reason; never a crash.
            match out.status {
                200 => assert!(out.header("x-body").is_some(), "{name}"),
                413 => assert!(out.messages().iter().any(|m| m.contains("cannot hand over the request body")), "{name}: {:?}", out.logs),
                other => panic!("{name}: {other} {:?}", out.logs),
            }
            still_serves(&mut chain, &name);
        }
    }
}

#[test]
fn bodies_at_and_over_the_limit() {
    let vm = json!({ "limits": { "request_body_bytes": 1024 } });
    let chunk = "local body = kong.request.get_raw_body() kong.response.set_header('x-len', #(body or ''))";
    for profile in PROFILES {
        let mut chain = chain_with_vm("pre-function", profile, json!({ "access": [chunk] }), vm.clone());
        let at = send(&mut chain, &post("/", "text/plain", "a".repeat(1024)));
        assert_eq!((at.status, at.header("x-len")), (200, Some("1024")), "{profile:?}: {:?}", at.logs);
        let over = send(&mut chain, &post("/", "text/plain", "a".repeat(1025)));
        assert_eq!(over.status, 413, "{profile:?}: {:?}", over.logs);
        assert!(over.messages().iter().any(|m| m.contains("request body too large")), "{profile:?}: {:?}", over.logs);
        assert!(over.upstream.is_none(), "{profile:?}");
        still_serves(&mut chain, &format!("over the limit under {profile:?}"));
    }
}

#[test]
fn a_chunk_setting_100000_headers_and_an_exit_body_at_the_limit() {
    let vm = json!({ "untrusted_lua": "on", "limits": { "exit_body_bytes": 65536 } });
    let headers = "for i = 1, 100000 do kong.service.request.set_header('x-s' .. (i % 50), i) end";
    let exit_at = "return kong.response.exit(200, string.rep('b', 65536))";
    let exit_over = "return kong.response.exit(200, string.rep('b', 65537))";
    for profile in PROFILES {
        let mut chain = chain_with_vm("pre-function", profile, json!({ "access": [headers] }), vm.clone());
        let out = send(&mut chain, &RequestSpec::get("/"));
        no_trap(&out, "100,000 header writes");
        assert_eq!(out.status, 200, "{profile:?}: {:?}", out.logs);
        assert_eq!(out.upstream.as_ref().and_then(|u| u.header("x-s0")), Some("100000"), "{profile:?}");
        still_serves(&mut chain, "100,000 header writes");

        let mut chain = chain_with_vm("pre-function", profile, json!({ "access": [exit_at] }), vm.clone());
        let out = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!((out.status, out.body.trim_end().len()), (200, 65536), "{profile:?}: {:?}", out.logs);
        let mut chain = chain_with_vm("pre-function", profile, json!({ "access": [exit_over] }), vm.clone());
        let out = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(out.status, 500, "{profile:?}");
        assert!(out.messages().iter().any(|m| m.contains("body too large")), "{profile:?}: {:?}", out.logs);
    }
}
