//! The harness's host surface through its own probe filter (`filters/probe`), per host
//! profile: pause and resume, local replies through entered filters, body buffering,
//! shared data CAS, properties, http calls, metrics, ticks, log level.
//!
//! The probe is built for wasm32-wasip1 on first use
//! (`cargo build --release --target wasm32-wasip1 -p harness-probe-filter`), or taken
//! from `HARNESS_PROBE_WASM`.

mod common;

use common::{harness, probe};
use std::io::{Read, Write};
use std::net::TcpListener;

use wasm_harness::{Chain, ChainSpec, FilterSpec, HostProfile, Outcome, RequestSpec, UpstreamSpec};


fn chain_of(profile: HostProfile, names: &[&str]) -> Chain {
    let spec = ChainSpec { filters: names.iter().map(|n| probe(n, "")).collect(), profile, ..ChainSpec::default() };
    harness().chain(&spec).expect("chain")
}

fn run(chain: &mut Chain, request: RequestSpec) -> Outcome {
    chain.run(&request).expect("request runs")
}

/// `filter: message` of every log line, in order.
fn trace(outcome: &Outcome) -> Vec<String> {
    outcome.logs.iter().map(|l| format!("{}: {}", l.filter, l.message)).collect()
}

fn position(lines: &[String], needle: &str) -> usize {
    lines.iter().position(|l| l.starts_with(needle)).unwrap_or_else(|| panic!("no {needle:?} in {lines:#?}"))
}

fn with_upstream_body(request: RequestSpec, body: &str) -> RequestSpec {
    RequestSpec {
        upstream: Some(UpstreamSpec { status: Some(200), body: Some(body.into()), headers: wasm_harness::HeadersSpec::Pairs(vec![("content-type".into(), "text/plain".into())]) }),
        ..request
    }
}

#[test]
fn http_call_to_the_echo_upstream_pauses_then_resumes_the_request() {
    for profile in [HostProfile::Envoy, HostProfile::Kong] {
        let mut chain = chain_of(profile, &["a", "b"]);
        let outcome = run(&mut chain, RequestSpec::get("/x").header("x-call", "echo"));
        assert_eq!(outcome.status, 200, "{profile:?}: {outcome:#?}");
        assert!(outcome.upstream.is_some(), "resumed requests reach the upstream");
        assert_eq!(outcome.header("x-probe-call-status"), Some("200"));
        let body = outcome.header("x-probe-call-body").unwrap();
        assert!(body.contains("\"path\":\"/probe-call\"") && body.contains("\"x-probe\":\"1\""), "{body}");
        let lines = trace(&outcome);
        // Filter b only starts once a resumed.
        assert!(position(&lines, "a: http_call_response") < position(&lines, "b: request_headers"), "{lines:#?}");
    }
}

#[test]
fn http_call_to_a_real_loopback_server_and_a_refused_port() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        socket.write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello").unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    let mut chain = chain_of(HostProfile::Envoy, &["a"]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-call", &format!("127.0.0.1:{port}")));
    let seen = server.join().unwrap();
    assert!(seen.starts_with("GET /probe-call HTTP/1.1\r\n"), "{seen}");
    assert_eq!(outcome.header("x-probe-call-status"), Some("201"));
    assert_eq!(outcome.header("x-probe-call-body"), Some("hello"));

    // A port nobody listens on: Envoy's async client answers 503 itself (envoy-host.md
    // "Outbound calls"); ngx_wasm_module calls back without a response and
    // `:dispatch_status: broken connection` (its 130-proxy_dispatch_http.t, TEST 9).
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = closed.local_addr().unwrap().port();
    drop(closed);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-call", &format!("127.0.0.1:{dead}")));
    assert_eq!(outcome.status, 200);
    assert_eq!(outcome.header("x-probe-call-status"), Some("503"));
    let mut kong = chain_of(HostProfile::Kong, &["a"]);
    let outcome = run(&mut kong, RequestSpec::get("/").header("x-call", &format!("127.0.0.1:{dead}")));
    assert_eq!(outcome.header("x-probe-dispatch-status"), Some("broken connection"));
    // Envoy: an unknown cluster is BadArgument at call time.
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-call", "no_such_cluster"));
    assert_eq!(outcome.header("x-probe-call-status"), Some("dispatch failed BadArgument"));
}

#[test]
fn a_pause_nothing_resumes_answers_504_without_reaching_the_upstream() {
    let mut chain = chain_of(HostProfile::Envoy, &["a", "b"]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-pause", "forever"));
    assert_eq!(outcome.status, 504);
    assert!(outcome.upstream.is_none());
    assert!(!trace(&outcome).iter().any(|l| l.starts_with("b: request_headers")), "b never entered");
}

#[test]
fn ticks_resume_a_paused_stream_and_fire_from_the_chain_api() {
    let spec = ChainSpec { filters: vec![probe("ticker", "tick=10")], ..ChainSpec::default() };
    let mut chain = harness().chain(&spec).unwrap();
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-pause", "tick"));
    assert_eq!(outcome.status, 200, "{outcome:#?}");
    assert!(outcome.upstream.is_some());
    assert_eq!(chain.metric("probe_ticks"), Some(1));
    assert_eq!(chain.tick().unwrap(), 1);
    assert_eq!(chain.tick().unwrap(), 1);
    assert_eq!(chain.metric("probe_ticks"), Some(3));
    // Envoy's Context::setProperty needs a stream: from a root context it is NotFound.
    assert_eq!(chain.root_property("wasmx.ticks"), None);
    assert!(chain.take_logs().iter().any(|l| l.message == "tick 3"));
    // A chain without tick periods ticks nothing.
    assert_eq!(chain_of(HostProfile::Envoy, &["a"]).tick().unwrap(), 0);
}

#[test]
fn envoy_local_reply_travels_back_through_the_entered_filters_only() {
    let mut chain = chain_of(HostProfile::Envoy, &["a", "b", "c"]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-local", "request_headers").header("x-local-only", "b"));
    assert_eq!(outcome.status, 418);
    assert_eq!(outcome.body, "local from request_headers");
    assert_eq!(outcome.header("x-local-from"), Some("request_headers"));
    assert!(outcome.upstream.is_none());
    let lines = trace(&outcome);
    // Envoy creates every filter of the chain when the stream starts and calls each one's
    // on_log when it ends; c sees nothing else.
    assert!(!lines.iter().any(|l| l.starts_with("c: ") && !l.starts_with("c: log")), "c never entered: {lines:#?}");
    assert!(position(&lines, "b: response_headers") < position(&lines, "a: response_headers"));
    assert!(position(&lines, "b: response_body") < position(&lines, "a: response_body"));
}

#[test]
fn local_replies_from_every_request_callback() {
    for profile in [HostProfile::Envoy, HostProfile::Kong] {
        let mut chain = chain_of(profile, &["a"]);
        // Kong appends a linefeed to a local response's body (ngx_http_wasm_local_response.c).
        let lf = if profile == HostProfile::Kong { "\n" } else { "" };
        let outcome = run(&mut chain, RequestSpec { body: Some("payload".into()), ..RequestSpec::get("/").header("x-local", "request_body") });
        assert_eq!((outcome.status, outcome.body.as_str()), (418, format!("local from request_body{lf}").as_str()), "{profile:?}");
        let outcome = run(&mut chain, RequestSpec::get("/").header("x-call", "echo").header("x-local", "http_call_response"));
        assert_eq!((outcome.status, outcome.body.as_str()), (418, format!("local from http_call_response{lf}").as_str()), "{profile:?}");
        assert!(outcome.upstream.is_none());
    }
}

#[test]
fn local_reply_from_response_headers_envoy_replaces_kong_overrides_status_and_body() {
    let request = with_upstream_body(RequestSpec::get("/").header("x-local", "response_headers"), "upstream body");
    let envoy = run(&mut chain_of(HostProfile::Envoy, &["a"]), request.clone());
    assert_eq!((envoy.status, envoy.body.as_str()), (418, "local from response_headers"));
    assert_eq!(envoy.header("x-local-from"), Some("response_headers"));
    // The local reply's headers, plus Envoy's text/plain for a body with no content-type
    // (http/utility.cc `prepareLocalReply`).
    assert_eq!(envoy.header("content-type"), Some("text/plain"));

    let kong = run(&mut chain_of(HostProfile::Kong, &["a"]), request);
    assert_eq!((kong.status, kong.body.as_str()), (418, "local from response_headers\n"));
    assert_eq!(kong.header("content-type"), Some("text/plain"), "Kong keeps the upstream's headers");
    assert_eq!(kong.header("x-local-from"), None);
    assert_eq!(kong.header("content-length"), Some("28"));
}

#[test]
fn local_reply_from_response_body_traps_on_kong() {
    let request = with_upstream_body(RequestSpec::get("/").header("x-local", "response_body"), "upstream body");
    // Envoy: the headers went out already, so the stream is reset
    // (DownstreamFilterManager::sendLocalReply).
    let envoy = run(&mut chain_of(HostProfile::Envoy, &["a"]), request.clone());
    assert!(envoy.reset);
    assert_eq!(envoy.status, 200);
    // Kong: a trap, answered with nginx's 500 page.
    let kong = run(&mut chain_of(HostProfile::Kong, &["a"]), request);
    assert_eq!(kong.status, 500);
    assert!(kong.logs.iter().any(|l| l.level == "error" && l.message.contains("response already sent")), "{kong:#?}");
}

#[test]
fn end_of_stream_flags_per_profile() {
    let envoy = run(&mut chain_of(HostProfile::Envoy, &["a"]), RequestSpec::get("/"));
    let lines = trace(&envoy);
    // Four pseudo-headers, then x-forwarded-proto and x-request-id from the connection
    // manager (conn_manager_utility.cc mutateRequestHeaders).
    assert!(lines.contains(&"a: request_headers headers=6 eos=true".to_string()), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains("request_body")), "no body, no body callback on Envoy");

    let kong = run(&mut chain_of(HostProfile::Kong, &["a"]), RequestSpec::get("/"));
    let lines = trace(&kong);
    assert!(lines.contains(&"a: request_headers headers=4 eos=false".to_string()), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains("request_body")), "no body, no body callback on Kong either: {lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("a: response_headers") && l.ends_with("eos=false")));
}

#[test]
fn paused_body_callbacks_buffer_until_the_end_of_the_stream() {
    let spec = ChainSpec { filters: vec![probe("a", ""), probe("b", "")], body_chunk_size: Some(4), ..ChainSpec::default() };
    let mut chain = harness().chain(&spec).unwrap();
    let request = RequestSpec { body: Some("abcdefghij".into()), ..RequestSpec::get("/").header("x-buffer", "request") };
    let outcome = run(&mut chain, request);
    let a: Vec<String> = trace(&outcome).into_iter().filter(|l| l.starts_with("a: request_body")).collect();
    assert_eq!(
        a,
        // Envoy's HTTP/1 codec ends the body with an empty end-of-stream callback
        // (`ServerConnectionImpl::onMessageComplete`): the whole body comes with it.
        [
            "a: request_body size=4 eos=false body=abcd",
            "a: request_body size=8 eos=false body=abcdefgh",
            "a: request_body size=10 eos=false body=abcdefghij",
            "a: request_body size=10 eos=true body=abcdefghij"
        ]
    );
    // b sees the released buffer once, whole.
    let b: Vec<String> = trace(&outcome).into_iter().filter(|l| l.starts_with("b: request_body")).collect();
    assert_eq!(b, ["b: request_body size=10 eos=true body=abcdefghij"]);
    assert_eq!(outcome.upstream.unwrap().body, "abcdefghij");
}

fn response_body_calls(outcome: &Outcome) -> Vec<String> {
    outcome
        .logs
        .iter()
        .filter(|l| l.message.starts_with("response_body"))
        .map(|l| l.message.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn kong_response_buffering_is_bounded_by_its_buffers() {
    let run_kong = |body_len: usize, chunk: usize| {
        let spec = ChainSpec { filters: vec![probe("a", "")], body_chunk_size: Some(chunk), profile: HostProfile::Kong, ..ChainSpec::default() };
        let mut chain = harness().chain(&spec).unwrap();
        run(&mut chain, with_upstream_body(RequestSpec::get("/").header("x-buffer", "response"), &"x".repeat(body_len)))
    };
    // Under the bound: the second call has the whole body.
    let small = run_kong(5_000, 1_000);
    assert_eq!(response_body_calls(&small), ["response_body size=1000 eos=false", "response_body size=5000 eos=true"]);
    assert_eq!(small.body.len(), 5_000);
    // Over 4 x 4096 bytes: the full buffers are delivered without eos; pausing again is ignored.
    let big = run_kong(40_000, 10_000);
    assert_eq!(
        response_body_calls(&big),
        [
            "response_body size=10000 eos=false",
            "response_body size=20000 eos=false",
            "response_body size=10000 eos=false",
            "response_body size=10000 eos=true",
        ]
    );
    assert_eq!(big.body.len(), 40_000);
    assert!(big.logs.iter().any(|l| l.level == "error" && l.message.contains("Pause from on_http_response_body ignored")));
}

#[test]
fn pause_from_response_headers_holds_on_envoy_and_is_refused_on_kong() {
    let request = RequestSpec::get("/").header("x-pause-response-headers", "1");
    // Envoy: the held headers wait for the filter; the body still reaches it, and its
    // Continue from the last body callback lets the response go on.
    // (Envoy 1.35+ with allow_on_headers_stop_iteration; without it the hold stops the
    // body too and the stream times out.)
    let held = ChainSpec { filters: vec![probe("a", "")], envoy: wasm_harness::EnvoyMode::V1_35_HOLD, ..ChainSpec::default() };
    let no_flag = run(&mut chain_of(HostProfile::Envoy, &["a"]), request.clone());
    assert_eq!((no_flag.status, no_flag.body.as_str()), (504, "stream timeout"));
    assert!(no_flag.hung.is_some());
    let envoy = run(&mut harness().chain(&held).unwrap(), request.clone());
    assert_eq!(envoy.status, 200);
    let calls = response_body_calls(&envoy);
    assert_eq!(calls.last().map(String::as_str), Some("response_body size=0 eos=true"), "{calls:?}");
    // With no body to deliver, nothing resumes the held headers: a stream timeout.
    let mut empty = request.clone();
    empty.upstream = Some(UpstreamSpec { status: Some(204), ..UpstreamSpec::default() });
    assert_eq!(run(&mut harness().chain(&held).unwrap(), empty).status, 504);
    let kong = run(&mut chain_of(HostProfile::Kong, &["a"]), request);
    assert_eq!(kong.status, 200);
    assert!(kong.logs.iter().any(|l| l.level == "error" && l.message.contains("on_http_response_headers")));
}

#[test]
fn shared_data_cas_mismatch() {
    let mut chain = chain_of(HostProfile::Envoy, &["a"]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-cas", "counter"));
    assert_eq!(outcome.header("x-probe-cas"), Some("ok,mismatch"));
    let (value, cas) = chain.shared_data("counter").unwrap();
    assert_eq!(value, b"first");
    let again = run(&mut chain, RequestSpec::get("/").header("x-cas", "counter"));
    assert_eq!(again.header("x-probe-cas"), Some("ok,mismatch"));
    assert!(chain.shared_data("counter").unwrap().1 > cas, "every write bumps the CAS");
}

fn property(profile: HostProfile, path: &str) -> String {
    let mut chain = chain_of(profile, &["a"]);
    let outcome = run(&mut chain, RequestSpec::get("/p/q?x=1").header("host", "example.com").header("x-foo", "bar").header("x-property", path));
    outcome.header("x-probe-property").unwrap().to_string()
}

#[test]
fn properties_per_profile() {
    use HostProfile::{Envoy, Kong};
    assert_eq!(property(Envoy, "request.path"), "/p/q?x=1");
    assert_eq!(property(Kong, "request.url_path"), "/p/q");
    assert_eq!(property(Envoy, "request.host"), "example.com");
    assert_eq!(property(Envoy, "request.headers.x-foo"), "bar");
    assert_eq!(property(Envoy, "source.address"), "127.0.0.1:54321");
    assert_eq!(property(Kong, "source.address"), "127.0.0.1");
    // 54321 as Envoy's 8-byte little-endian integer, as Kong's string.
    assert_eq!(property(Envoy, "source.port"), "hex:31d4000000000000");
    assert_eq!(property(Kong, "source.port"), "54321");
    assert_eq!(property(Envoy, "plugin_name"), "a");
    assert_eq!(property(Envoy, "node.id"), "wasm-harness");
    assert_eq!(property(Kong, "node.id"), "<missing>");
    assert_eq!(property(Envoy, "kong.version"), "<missing>");
    assert_eq!(property(Kong, "kong.version"), "3.10.0");
    assert_eq!(property(Kong, "kong.request.forwarded_host"), "example.com");
    assert_eq!(property(Kong, "ngx.remote_port"), "54321");
    assert_eq!(property(Kong, "ngx.request_uri"), "/p/q?x=1");
    assert_eq!(property(Kong, "kong.client.protocol"), "http");
}

#[test]
fn set_property_is_shared_by_the_filters_of_a_stream() {
    let mut chain = chain_of(HostProfile::Envoy, &["a", "b"]);
    // A single-segment path: Envoy reads filter state back only under one
    // (context.cc `findValue`; envoy_host.rs has the multi-segment case).
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-set-property", "my_key=v1").header("x-property", "my_key"));
    assert_eq!(outcome.header("x-probe-set-status"), Some("0"));
    assert_eq!(outcome.header("x-probe-property"), Some("v1"));
    // Filter state ends with the stream.
    let next = run(&mut chain, RequestSpec::get("/").header("x-property", "my_key"));
    assert_eq!(next.header("x-probe-property"), Some("<missing>"));

    let mut kong = chain_of(HostProfile::Kong, &["a"]);
    let shared = run(&mut kong, RequestSpec::get("/").header("x-set-property", "kong.ctx.shared.k=v").header("x-property", "kong.ctx.shared.k"));
    assert_eq!((shared.header("x-probe-set-status"), shared.header("x-probe-property")), (Some("0"), Some("v")));
    let read_only = run(&mut kong, RequestSpec::get("/").header("x-set-property", "kong.configuration.x=1"));
    assert_eq!(read_only.header("x-probe-set-status"), Some("2"), "BadArgument");
    let target = run(&mut kong, RequestSpec::get("/").header("x-set-property", "kong.service.target=no-port"));
    assert_eq!(target.header("x-probe-set-status"), Some("2"));
    let trapped = run(&mut kong, RequestSpec::get("/").header("x-set-property", "ngx.remote_addr=1.2.3.4"));
    assert_eq!(trapped.status, 500, "a trap");
    assert!(trapped.logs.iter().any(|l| l.message.contains("immutable nginx variable")), "{trapped:#?}");
}

#[test]
fn chain_properties_override_computed_values() {
    let mut properties = std::collections::BTreeMap::new();
    properties.insert("source.address".to_string(), "10.0.0.9:1234".to_string());
    let spec = ChainSpec { filters: vec![probe("a", "")], properties, ..ChainSpec::default() };
    let mut chain = harness().chain(&spec).unwrap();
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-property", "source.address"));
    assert_eq!(outcome.header("x-probe-property"), Some("10.0.0.9:1234"));
}

#[test]
fn metrics_are_per_host_and_count_across_requests() {
    let mut chain = chain_of(HostProfile::Envoy, &["a", "b"]);
    run(&mut chain, RequestSpec::get("/"));
    let second = run(&mut chain, RequestSpec::get("/"));
    // Both filters increment the same counter: 4 after two requests, the last read by b.
    assert_eq!(chain.metric("probe_requests"), Some(4));
    let seen: Vec<&str> = second.headers.iter().filter(|(n, _)| n == "x-probe-requests").map(|(_, v)| v.as_str()).collect();
    assert_eq!(seen, ["4", "3"], "b (response first) then a");
    assert_eq!(chain.metric("nope"), None);
}

#[test]
fn log_level_and_clock() {
    let spec = ChainSpec { filters: vec![probe("a", "")], log_level: Some("warn".into()), ..ChainSpec::default() };
    let outcome = run(&mut harness().chain(&spec).unwrap(), RequestSpec::get("/"));
    // proxy_get_log_level answers ChainSpec.log_level (warn: 3), read by a generated
    // module that logs it from on_configure (the probe does not import it).
    let reader = FilterSpec { name: "lvl".into(), module: common::log_level_module(1), config: serde_json::Value::Null, root_id: None };
    let levels = harness().chain(&ChainSpec { filters: vec![reader], log_level: Some("warn".into()), ..ChainSpec::default() }).unwrap();
    assert!(levels.startup_logs.iter().all(|l| l.message == "3") && !levels.startup_logs.is_empty(), "{:?}", levels.startup_logs);
    assert_eq!(outcome.header("x-probe-time-ok"), Some("true"));
}
