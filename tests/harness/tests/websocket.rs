//! WebSocket streams and downstream connections through the probe filter (`filters/probe`),
//! under both host profiles. Expectations: RFC 6455 for the frames and the handshake;
//! Envoy's HTTP upgrades docs for the body callbacks on `envoy`; nginx's upstream tunnel
//! (`ngx_http_upstream_upgrade`) and ngx_wasm_module for `kong`; Envoy's attribute table
//! and ngx_wasm_module's property table for the connection properties (see
//! `docs/hosts.md` and `src/chain/upgrade.rs`, `src/connection.rs`).

mod common;

use common::{harness, probe};

use serde_json::json;
use wasm_harness::connection::{ConnectionSpec, PeerCertificate, TlsSpec};
use wasm_harness::chain::ItemOutcome;
use wasm_harness::ws::{ReceivedFrame, WebSocketSpec};
use wasm_harness::{Chain, ChainSpec, HostProfile, Outcome, RequestSpec};

fn chain(profile: HostProfile, chunk: Option<usize>) -> Chain {
    let spec = ChainSpec { filters: vec![probe("a", "")], profile, body_chunk_size: chunk, upgrade_types: vec!["websocket".into()], ..ChainSpec::default() };
    harness().chain(&spec).expect("chain")
}

fn ws(value: serde_json::Value) -> WebSocketSpec {
    serde_json::from_value(value).expect("websocket spec")
}

fn chat() -> WebSocketSpec {
    ws(json!({"path": "/chat", "frames": [
        {"from": "client", "payload": "hello"},
        {"from": "client", "opcode": "binary", "payload_hex": "00ff"},
        {"from": "client", "opcode": "close", "code": 1000, "payload": "bye"}
    ]}))
}

fn messages(outcome: &wasm_harness::ws::WebSocketOutcome) -> Vec<String> {
    outcome.handshake.messages().iter().map(|m| m.to_string()).collect()
}

fn summary(frames: &[ReceivedFrame]) -> Vec<(String, bool, String)> {
    frames.iter().map(|f| (f.opcode.clone(), f.masked, f.payload.clone())).collect()
}

#[test]
fn envoy_carries_frames_as_body_callbacks_and_both_sides_get_rfc_frames() {
    let mut chain = chain(HostProfile::Envoy, None);
    let out = chain.run_websocket(&chat()).unwrap();
    assert_eq!(out.handshake.status, 101);
    // RFC 6455 1.3: the accept value for the sample key.
    assert_eq!(out.handshake.header("sec-websocket-accept"), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert!(out.established);
    assert_eq!(out.errors, Vec::<String>::new());
    let up = out.handshake.upstream.as_ref().expect("handshake went upstream");
    assert_eq!(up.header("upgrade"), Some("websocket"));
    // Client frames reach the upstream masked (RFC 6455 5.1), whole.
    assert_eq!(
        summary(&out.upstream_received),
        [("text".into(), true, "hello".into()), ("binary".into(), true, "\0\u{fffd}".into()), ("close".into(), true, "bye".into())]
    );
    assert_eq!(out.upstream_received[2].close_code, Some(1000));
    // The echo upstream's answers reach the client unmasked.
    assert_eq!(summary(&out.client_received)[..2], [("text".into(), false, "hello".into()), ("binary".into(), false, "\0\u{fffd}".into())]);
    assert_eq!(out.client_received[2].close_code, Some(1000));
    let logs = messages(&out);
    // Envoy's codec does not end an upgrade request at its headers; the 101 goes on too.
    // Ten headers: the handshake's eight, then x-forwarded-proto and x-request-id from the
    // connection manager (mutateRequestHeaders keeps connection/upgrade on an upgrade);
    // the 101 gains x-envoy-upstream-service-time.
    assert_eq!(logs[0], "request_headers headers=10 eos=false");
    assert!(logs.contains(&"response_headers headers=5 eos=false".to_string()), "{logs:#?}");
    // One request-body callback per client frame (7 + 6 bytes masked header + payload),
    // the upstream's frames as response-body callbacks, end_of_stream only at the close.
    let bodies: Vec<&String> = logs.iter().filter(|l| l.starts_with("request_body") || l.starts_with("response_body")).collect();
    assert!(bodies[0].starts_with("request_body size=11 eos=false"), "{bodies:#?}");
    assert!(bodies[1].starts_with("response_body size=7 eos=false"), "{bodies:#?}");
    assert!(bodies.iter().rev().take(2).any(|l| l.starts_with("response_body size=0 eos=true")), "{bodies:#?}");
    assert!(bodies.last().unwrap().starts_with("request_body size=0 eos=true"), "{bodies:#?}");
    assert_eq!(bodies.len(), 3 + 3 + 2, "three frames each way and one end per side: {bodies:#?}");
    assert_eq!(logs.last().unwrap(), "log body_calls=4");
}

#[test]
fn envoy_partial_frames_arrive_in_chunks_and_still_reach_the_upstream_whole() {
    let mut chain = chain(HostProfile::Envoy, Some(4));
    let spec = ws(json!({"path": "/", "frames": [{"from": "client", "payload": "fragmented", "fragments": 2}]}));
    let out = chain.run_websocket(&spec).unwrap();
    let sizes: Vec<String> = messages(&out).into_iter().filter(|l| l.starts_with("request_body size=")).collect();
    // 2 frames of 2 + 4 + 5 bytes = 22 bytes in 4-byte callbacks: 4,4,4,4,4,2, then the end.
    assert_eq!(sizes.iter().map(|l| l.split_whitespace().nth(1).unwrap().to_string()).collect::<Vec<_>>(), ["size=4", "size=4", "size=4", "size=4", "size=4", "size=2", "size=0"]);
    assert_eq!(summary(&out.upstream_received), [("text".into(), true, "fragm".into()), ("continuation".into(), true, "ented".into())]);
    assert!(!out.upstream_received[0].fin && out.upstream_received[1].fin);
    // The echo upstream answers the reassembled message (RFC 6455 5.4) in one frame.
    assert_eq!(summary(&out.client_received), [("text".into(), false, "fragmented".into())]);
}

#[test]
fn kong_tunnels_the_frames_past_the_filters() {
    let mut chain = chain(HostProfile::Kong, None);
    let out = chain.run_websocket(&chat()).unwrap();
    assert!(out.established);
    assert_eq!(summary(&out.upstream_received).len(), 3);
    assert_eq!(out.client_received.len(), 3);
    let logs = messages(&out);
    // Headers both ways, then nothing until nginx finalizes: one empty last body call.
    assert_eq!(logs[0], "request_headers headers=8 eos=false");
    let bodies: Vec<&String> = logs.iter().filter(|l| l.contains("_body ")).collect();
    assert_eq!(bodies, ["response_body size=0 eos=true body="], "{logs:#?}");
    assert_eq!(logs.last().unwrap(), "log body_calls=1");
}

#[test]
fn a_refused_handshake_exchanges_no_frames() {
    for profile in [HostProfile::Envoy, HostProfile::Kong] {
        let mut chain = chain(profile, None);
        // x-local: the probe answers 418 from the request headers.
        let spec = ws(json!({"path": "/", "headers": {"x-local": "request_headers"}, "frames": [{"from": "client", "payload": "x"}]}));
        let out = chain.run_websocket(&spec).unwrap();
        assert_eq!(out.handshake.status, 418, "{profile:?}");
        assert!(!out.established && out.upstream_received.is_empty() && out.client_received.is_empty());
        assert!(out.handshake.upstream.is_none());
        // RFC 6455 4.4: a version the server does not speak gets 426, no upgrade.
        let spec = ws(json!({"path": "/", "headers": {"sec-websocket-version": "8"}, "frames": [{"from": "client", "payload": "x"}]}));
        let out = chain.run_websocket(&spec).unwrap();
        assert_eq!((out.handshake.status, out.established), (426, false), "{profile:?}");
        assert_eq!(out.handshake.header("sec-websocket-version"), Some("13"));
    }
}

#[test]
fn scripted_upstream_and_a_server_close_answered_by_the_client() {
    let mut chain = chain(HostProfile::Envoy, None);
    let spec = ws(json!({"path": "/", "upstream": "script", "frames": [
        {"from": "client", "payload": "ignored by a scripted upstream"},
        {"from": "upstream", "payload": "news"},
        {"from": "upstream", "opcode": "ping", "payload": "p"},
        {"from": "upstream", "opcode": "close", "code": 1001}
    ]}));
    let out = chain.run_websocket(&spec).unwrap();
    assert_eq!(summary(&out.client_received), [("text".into(), false, "news".into()), ("ping".into(), false, "p".into()), ("close".into(), false, "".into())]);
    // The client answers the close with the same code (RFC 6455 5.5.1), masked.
    let last = out.upstream_received.last().unwrap();
    assert_eq!((last.opcode.as_str(), last.masked, last.close_code), ("close", true, Some(1001)));
}

#[test]
fn malformed_bytes_are_reported_by_the_receiver() {
    let mut chain = chain(HostProfile::Kong, None);
    // An unmasked client frame: the server must fail the connection (RFC 6455 5.1).
    let spec = ws(json!({"path": "/", "frames": [{"from": "client", "payload": "x", "mask": false}]}));
    let out = chain.run_websocket(&spec).unwrap();
    assert_eq!(out.errors, ["upstream: unmasked frame from the client (RFC 6455 5.1)"]);
}

fn property_values(outcome: &Outcome) -> String {
    outcome.header("x-probe-properties").unwrap_or("<no header>").to_string()
}

fn tls() -> TlsSpec {
    serde_json::from_value(json!({"server_name": "api.example.com", "version": "TLSv1.2",
        "peer_certificate": {"subject": "CN=alice,O=Example", "issuer": "CN=Example CA", "serial": "1A2B"}}))
    .unwrap()
}

#[test]
fn three_requests_on_one_tls_connection_envoy() {
    let mut chain = chain(HostProfile::Envoy, None);
    let request = RequestSpec::get("/").header("x-properties", "connection.id,connection.requested_server_name,connection.tls_version,connection.subject_peer_certificate,connection.mtls");
    let id = chain.connect(Some(42), Some(tls()));
    assert_eq!(id, 42);
    let outs: Vec<Outcome> = (0..3).map(|_| chain.run(&request).unwrap()).collect();
    chain.disconnect();
    // uint64 little-endian (the probe prints non-text bytes as hex), strings as bytes, bool one byte.
    for out in &outs {
        assert_eq!(property_values(out), "hex:2a00000000000000|api.example.com|TLSv1.2|CN=alice,O=Example|hex:01");
    }
    let plain = chain.run(&request).unwrap();
    assert_eq!(property_values(&plain), "hex:2b00000000000000||<missing>|<missing>|hex:00", "a new connection, plain HTTP");
}

#[test]
fn three_requests_on_one_tls_connection_kong_from_a_request_file_item() {
    let mut chain = chain(HostProfile::Kong, None);
    let read = "connection.id,ngx.connection,ngx.connection_requests,ngx.ssl_server_name,ngx.ssl_protocol,ngx.ssl_client_s_dn,ngx.ssl_client_serial,connection.mtls,connection.subject_peer_certificate";
    let item: ConnectionSpec = serde_json::from_value(json!({
        "connection": {"tls": {"server_name": "api.example.com", "peer_certificate": {"subject": "CN=alice", "serial": "1A2B"}}},
        "requests": [
            {"path": "/1", "headers": {"x-properties": read}},
            {"path": "/2", "headers": {"x-properties": read}},
            {"websocket": {"path": "/3", "headers": {"x-properties": read}}}
        ]
    }))
    .unwrap();
    let ItemOutcome::Connection { connection, outcomes } = chain.run_connection(&item).unwrap() else { panic!("connection outcome") };
    assert_eq!(connection, 1);
    let values: Vec<String> = outcomes
        .iter()
        .map(|o| match o {
            ItemOutcome::Request(o) => property_values(o),
            ItemOutcome::WebSocket(w) => property_values(&w.handshake),
            ItemOutcome::Connection { .. } => unreachable!(),
        })
        .collect();
    // connection.subject_peer_certificate is NYI in ngx_wasm_module (logged, NotFound).
    for (n, value) in values.iter().enumerate() {
        assert_eq!(value, &format!("1|1|{}|api.example.com|TLSv1.3|CN=alice|1A2B|true|<missing>", n + 1));
    }
    let ItemOutcome::Request(first) = &outcomes[0] else { panic!() };
    assert!(first.logs.iter().any(|l| l.level == "alert" && l.message == "[wasm] NYI - \"connection.subject_peer_certificate\" property"));
    // The next stream is a new, plain connection: nginx's ssl variables are not found.
    let plain = chain.run(&RequestSpec::get("/").header("x-properties", "connection.id,ngx.https,ngx.ssl_server_name,connection.mtls")).unwrap();
    assert_eq!(property_values(&plain), "2||<missing>|<missing>");
}

#[test]
fn tls_spec_defaults() {
    let t: TlsSpec = serde_json::from_value(json!({})).unwrap();
    assert_eq!((t.version.as_str(), t.peer_certificate), ("TLSv1.3", None::<PeerCertificate>));
}
