//! Hostile requests through the shipped `.wasm`, both host profiles: each ends in one
//! clear answer, and the same instance serves the next request. A trap would kill every
//! request the host runs on the instance (the developers' guide), so none may happen.

mod common;

use common::{chain, chain_with_vm, send, PROFILES};
use serde_json::json;
use wasm_harness::{Chain, HostProfile, Outcome, RequestSpec};

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
kong.log.notice("read ", n, " headers and arguments; body: ", body and "parsed" or tostring(err))
"#;

fn post(path: &str, content_type: &str, body: String) -> RequestSpec {
    let mut request = RequestSpec::get(path).header("content-type", content_type).header("content-length", &body.len().to_string());
    request.method = Some("POST".into());
    request.body = Some(body.into());
    request
}

/// The next plain request on `chain` is served by the upstream.
fn still_serves(chain: &mut Chain, name: &str) {
    let plain = send(chain, &RequestSpec::get("/after"));
    assert_eq!(plain.status, 200, "{name}: the next request failed: {:?}", plain.logs);
    assert!(plain.upstream.is_some(), "{name}: the next request was not proxied");
}

/// No trap, nor any other host complaint (a trap on Kong's engine shows as a `[wasm]`
/// error) but the engine's own line for a body it buffered to a file, which the PDK then
/// answers with Kong's error for a body in a file.
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
            assert!(out.messages().iter().any(|m| m.contains(&format!("read {counted} headers and arguments"))), "{name}: {:?}", out.logs);
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
            // nil and an error for what it cannot decode, or for a body a host keeps in a
            // file, as Kong's engine does: "request body did not fit ..."); never a crash.
            // Envoy buffers at most per_connection_buffer_limit_bytes (1 MiB by default)
            // for a filter that reads the body: past it Envoy itself answers 413
            // (filter_manager.cc requestDataTooLarge; docs/hosts.md "Buffer limit").
            if profile == HostProfile::Envoy && request.body.as_ref().is_some_and(|b| b.0.len() > wasm_harness::ENVOY_BUFFER_LIMIT_BYTES) {
                assert_eq!((out.status, out.body.as_str()), (413, "Payload Too Large"), "{name}");
                still_serves(&mut chain, &name);
                continue;
            }
            assert_eq!(out.status, 200, "{name}: {:?}", out.logs);
            let body = out.header("x-body").unwrap_or_default().to_string();
            assert!(!body.is_empty(), "{name}");
            assert!(out.messages().iter().any(|m| m.ends_with(&format!("body: {body}"))), "{name}: {:?}", out.logs);
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
    // 100,000 writes to 50 names are under `header_names`; the wall-clock budget is raised
    // so a slow machine cannot end them (tests/envoy_modes.rs checks that budget).
    let vm = json!({ "untrusted_lua": "on", "limits": { "exit_body_bytes": 65536, "phase_time_ms": 600000 } });
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

/// A chunk that reads the parts a client can fill with any bytes and says what it saw,
/// in a log line and a response header: `x-bin`'s value, the path, the `a` argument.
const SEE_BYTES: &str = r#"
local value = kong.request.get_header("x-bin")
local path = kong.request.get_path()
local a = kong.request.get_query()["a"]
kong.log.notice("saw x-bin=", value and #value or "none", " path=", #path, " a=", type(a) == "string" and #a or tostring(a))
kong.response.set_header("x-saw", (value and #value or 0) .. "/" .. #path)
"#;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn non_utf8_bytes_in_header_names_values_path_and_query() {
    let value: &[u8] = b"\xff\xfe\x80 caf\xe9";
    let path: &[u8] = b"/caf\xe9/\xff\xfe";
    let query: &[u8] = b"/q?a=\xff\xfe&b=%ff%fe";
    for profile in PROFILES {
        let mut chain = chain("pre-function", profile, json!({ "access": [SEE_BYTES] }));

        // A header name that is not a token never reaches a filter: Envoy's HTTP/1 codec
        // answers 400, Kong's nginx (ignore_invalid_headers) drops the header and logs it.
        let name = format!("invalid header name under {profile:?}");
        let out = send(&mut chain, &RequestSpec::get("/").header_bytes(b"x-\xff\xfe", b"v"));
        match behaviour_of_codec(profile) {
            Codec::Rejects => {
                assert_eq!(out.status, 400, "{name}: {:?}", out.logs);
                assert!(out.upstream.is_none(), "{name}");
                assert!(out.messages().iter().any(|m| m.contains("http1.codec_error")), "{name}: {:?}", out.logs);
            }
            Codec::Drops => {
                assert_eq!(out.status, 200, "{name}: {:?}", out.logs);
                let upstream = out.upstream.as_ref().expect("proxied");
                assert!(upstream.raw_headers.iter().all(|(n, _)| n.starts_with(':') || n.is_ascii()), "{name}");
                assert!(out.messages().iter().any(|m| m.contains(r#"client sent invalid header line: "x-\xff\xfe: v""#)), "{name}: {:?}", out.logs);
            }
        }
        still_serves(&mut chain, &name);

        // A value, a path and a query of non-UTF-8 bytes: the chunk reads them (its log
        // line counts their bytes), and the upstream gets them byte for byte.
        for (what, request, saw, log) in [
            ("a non-UTF-8 header value", RequestSpec::get("/").header_bytes(b"x-bin", value), "8/1", "saw x-bin=8 path=1 a=nil"),
            ("a non-UTF-8 path", RequestSpec::get(path), "0/8", "saw x-bin=none path=8 a=nil"),
            ("a non-UTF-8 query", RequestSpec::get(query), "0/2", "saw x-bin=none path=2 a=2"),
        ] {
            let name = format!("{what} under {profile:?}");
            let out = send(&mut chain, &request);
            no_trap(&out, &name);
            assert_eq!((out.status, out.header("x-saw")), (200, Some(saw)), "{name}: {:?}", out.logs);
            assert!(out.messages().iter().any(|m| m.ends_with(log)), "{name}: {:?}", out.logs);
            let upstream = out.upstream.as_ref().expect("proxied");
            assert_eq!(hex(&upstream.path_bytes), hex(&request.path), "{name}: path");
            if what.contains("header") {
                assert_eq!(upstream.header_bytes("x-bin").map(hex), Some(hex(value)), "{name}");
            }
            still_serves(&mut chain, &name);
        }
    }
}

/// What the host's HTTP/1.1 server does with an invalid header name (wasm_harness::codec).
enum Codec {
    Rejects,
    Drops,
}

fn behaviour_of_codec(profile: wasm_harness::HostProfile) -> Codec {
    match profile {
        // Envoy's http-parser: HPE_INVALID_HEADER_TOKEN, a 400 from the codec.
        wasm_harness::HostProfile::Envoy => Codec::Rejects,
        // nginx: ignore_invalid_headers on (the default, kept by Kong's template).
        wasm_harness::HostProfile::Kong => Codec::Drops,
    }
}

/// Every byte value once: what a binary body must carry unchanged.
fn all_bytes() -> Vec<u8> {
    (0..=255u8).collect()
}

/// Binary header bytes as HTTP allows them in a value (obs-text and visible ASCII;
/// control bytes are not field content, RFC 9110 section 5.5).
const BINARY_VALUE: &[u8] = b"\x80\x81\xfe\xff caf\xe9 \xc3\x28";

#[test]
fn binary_header_values_and_bodies_survive_byte_for_byte() {
    let scripted = |request: RequestSpec| RequestSpec {
        upstream: Some(wasm_harness::UpstreamSpec {
            status: Some(200),
            headers: wasm_harness::HeadersSpec::Pairs(vec![("x-up-bin".into(), BINARY_VALUE.into())]),
            body: Some(all_bytes().into()),
        }),
        ..request
    };
    let binary_post = |path: &str| {
        let mut request = RequestSpec::get(path).header_bytes(b"x-bin", BINARY_VALUE).header("content-length", "256");
        request.method = Some("POST".into());
        request.body = Some(all_bytes().into());
        scripted(request)
    };
    // Lua builds the same bytes: \128\129\254\255 caf\233 \195( and string.char(0..255).
    let lua_value = r#""\128\129\254\255 caf\233 \195(""#;
    let lua_body = "(function() local t = {} for i = 0, 255 do t[#t + 1] = string.char(i) end return table.concat(t) end)()";
    let passthrough = json!({ "access": ["kong.log.info('passing through')"], "header_filter": ["kong.log.info('headers')"] });
    let rewrite = json!({
        "access": [format!("kong.service.request.set_raw_body(kong.request.get_raw_body()) kong.service.request.set_header('x-set', {lua_value})")],
        "header_filter": [format!("kong.response.set_header('x-set', {lua_value}) kong.response.set_header('x-copied', kong.request.get_header('x-bin') or '-')")],
    });
    let exit = json!({ "access": [format!("if kong.request.get_path() == '/exit' then return kong.response.exit(200, {lua_body}, {{ ['x-exit'] = {lua_value} }}) end")] });
    for profile in PROFILES {
        let kong_linefeed = |mut body: Vec<u8>| {
            // ngx_wasm_module appends a linefeed to a non-empty local response body.
            if profile == wasm_harness::HostProfile::Kong {
                body.push(b'\n');
            }
            body
        };
        for (what, config, filter_sets_headers) in [("passthrough", passthrough.clone(), false), ("set_raw_body and set_header", rewrite.clone(), true)] {
            let name = format!("{what} under {profile:?}");
            let mut chain = chain("pre-function", profile, config);
            let out = send(&mut chain, &binary_post("/bin"));
            no_trap(&out, &name);
            assert_eq!(out.status, 200, "{name}: {:?}", out.logs);
            let upstream = out.upstream.as_ref().expect("proxied");
            assert_eq!(hex(&upstream.body_bytes), hex(&all_bytes()), "{name}: request body upstream");
            assert_eq!(upstream.header_bytes("x-bin").map(hex), Some(hex(BINARY_VALUE)), "{name}: request header upstream");
            assert_eq!(hex(&out.body_bytes), hex(&all_bytes()), "{name}: response body");
            assert_eq!(out.header_bytes("x-up-bin").map(hex), Some(hex(BINARY_VALUE)), "{name}: response header");
            if filter_sets_headers {
                assert_eq!(upstream.header_bytes("x-set").map(hex), Some(hex(BINARY_VALUE)), "{name}: service set_header");
                assert_eq!(out.header_bytes("x-set").map(hex), Some(hex(BINARY_VALUE)), "{name}: response set_header");
                assert_eq!(out.header_bytes("x-copied").map(hex), Some(hex(BINARY_VALUE)), "{name}: get_header copied");
            }
            still_serves(&mut chain, &name);
        }

        let name = format!("kong.response.exit with binary under {profile:?}");
        let mut chain = chain("pre-function", profile, exit.clone());
        let out = send(&mut chain, &RequestSpec::get("/exit"));
        no_trap(&out, &name);
        assert_eq!(out.status, 200, "{name}: {:?}", out.logs);
        assert!(out.upstream.is_none(), "{name}");
        assert_eq!(hex(&out.body_bytes), hex(&kong_linefeed(all_bytes())), "{name}: body");
        assert_eq!(out.header_bytes("x-exit").map(hex), Some(hex(BINARY_VALUE)), "{name}: header");
        still_serves(&mut chain, &name);
    }
}
