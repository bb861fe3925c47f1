//! The stream state machine on a fake host, per host kind. Expected results come from
//! Kong's behaviour (its serverless plugin docs and PDK source) and, for how each host
//! must be driven, from `shared/design/kong-engine.md` (Kong's engine, measured) and the
//! proxy-wasm ABI / Envoy (the others).

use std::rc::Rc;

use super::*;
use crate::config::{PluginConfig, Role};
use crate::pdk::testing::FakeHost;
use crate::vm_config::VmConfig;

/// The seed walkthrough's chunk (Kong's Serverless Functions docs).
const CUSTOM_AUTH: &str = include_str!("../../examples/custom-auth/custom-auth.lua");

/// A host of `kind`, as it answers properties inside a request.
fn host_of(kind: HostKindName, headers: &[(&str, &str)]) -> Rc<FakeHost> {
    let host = FakeHost::with_request(headers);
    let host = match kind {
        HostKindName::Kong => host.with_property("ngx.nginx_version", "1.27.4").with_property("kong.version", "3.9.1"),
        HostKindName::Envoy => host.with_property("plugin_vm_id", "vm"),
    };
    Rc::new(host)
}

#[derive(Clone, Copy)]
enum HostKindName {
    Kong,
    Envoy,
}

fn instance(config: serde_json::Value, role: Option<Role>, host: &Rc<FakeHost>) -> Rc<RefCell<Runtime>> {
    let config = PluginConfig::parse(config.to_string().as_bytes()).unwrap();
    Rc::new(RefCell::new(Runtime::configure(&config, role, host.clone(), &VmConfig::default()).unwrap()))
}

/// [`instance`] where the VM configuration says whether Envoy's plugins set
/// `allow_on_headers_stop_iteration`.
fn instance_held(config: serde_json::Value, host: &Rc<FakeHost>, hold: bool) -> Rc<RefCell<Runtime>> {
    let config = PluginConfig::parse(config.to_string().as_bytes()).unwrap();
    let vm = VmConfig { envoy_allow_on_headers_stop_iteration: hold, ..VmConfig::default() };
    Rc::new(RefCell::new(Runtime::configure(&config, Some(Role::PreFunction), host.clone(), &vm).unwrap()))
}

fn stream(runtime: &Rc<RefCell<Runtime>>, host: &Rc<FakeHost>) -> Stream {
    Stream::new(Some(runtime.clone()), host.clone())
}

fn request_header(host: &FakeHost, name: &str) -> Option<String> {
    host.request.borrow().iter().find(|(n, _)| n == name).map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

#[test]
fn configure_asks_the_host_nothing() {
    let host = host_of(HostKindName::Kong, &[]);
    let _runtime = instance(serde_json::json!({"access": [CUSTOM_AUTH], "log": ["kong.log.info(kong.version)"]}), None, &host);
    assert!(host.reads.borrow().is_empty(), "read at configure: {:?}", host.reads.borrow());
}

#[test]
fn the_walkthrough_on_each_host() {
    for kind in [HostKindName::Kong, HostKindName::Envoy] {
        // Without the credential: 401, the upstream never asked.
        let host = host_of(kind, &[(":path", "/")]);
        let runtime = instance(serde_json::json!({"access": [CUSTOM_AUTH]}), Some(Role::PreFunction), &host);
        assert_eq!(stream(&runtime, &host).on_request_headers(false), Flow::Pause);
        let sent = host.sent.borrow();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, 401);
        assert_eq!(sent[0].2, b"Invalid Credentials");

        // With it: the value never reaches the upstream, and Lua reads it as gone.
        let host = host_of(kind, &[(":path", "/"), ("x-custom-auth", "demo")]);
        let log = "kong.log.info('after: ', tostring(kong.request.get_header('x-custom-auth')))";
        let runtime = instance(serde_json::json!({"access": [CUSTOM_AUTH], "log": [log]}), Some(Role::PreFunction), &host);
        let mut s = stream(&runtime, &host);
        assert_eq!(s.on_request_headers(true), Flow::Continue);
        let upstream = request_header(&host, "x-custom-auth");
        assert!(upstream.as_deref().unwrap_or("").is_empty(), "forwarded {upstream:?}");
        s.on_log();
        assert!(host.messages().contains(&"[pre-function] after: nil".to_string()), "{:?}", host.messages());
    }
}

#[test]
fn the_role_comes_from_plugin_name_on_the_first_request() {
    let host = host_of(HostKindName::Kong, &[(":path", "/")]);
    host.properties.borrow_mut().insert("plugin_name".into(), b"post-function".to_vec());
    let runtime = instance(serde_json::json!({"access": ["kong.log.info('hi')"]}), None, &host);
    stream(&runtime, &host).on_request_headers(false);
    assert_eq!(host.messages(), ["[post-function] hi"]);
    // The configuration's role wins over the host's name.
    let host = host_of(HostKindName::Kong, &[(":path", "/")]);
    host.properties.borrow_mut().insert("plugin_name".into(), b"kong_functions".to_vec());
    let runtime = instance(serde_json::json!({"role": "post-function", "access": ["kong.log.info('hi')"]}), None, &host);
    stream(&runtime, &host).on_request_headers(false);
    assert_eq!(host.messages(), ["[post-function] hi"]);
}

#[test]
fn nginx_is_never_asked_plugin_vm_id() {
    let host = host_of(HostKindName::Kong, &[(":path", "/")]);
    let runtime = instance(serde_json::json!({"access": ["kong.log.info(kong.version)"]}), Some(Role::PreFunction), &host);
    stream(&runtime, &host).on_request_headers(false);
    assert!(!host.reads.borrow().iter().any(|p| p == "plugin_vm_id"), "{:?}", host.reads.borrow());
    // kong.version is the node's, read in the request.
    assert_eq!(host.messages(), ["[pre-function] 3.9.1"]);
}

#[test]
fn a_kong_node_with_untrusted_lua_off_fails_every_request() {
    let host = host_of(HostKindName::Kong, &[(":path", "/")]);
    host.properties.borrow_mut().insert("kong.configuration.untrusted_lua".into(), b"off".to_vec());
    let runtime = instance(serde_json::json!({"access": ["kong.log.info('ran')"]}), Some(Role::PreFunction), &host);
    for _ in 0..2 {
        assert_eq!(stream(&runtime, &host).on_request_headers(false), Flow::Pause);
    }
    let sent = host.sent.borrow();
    assert_eq!(sent.iter().map(|r| r.0).collect::<Vec<_>>(), [500, 500]);
    assert!(!host.messages().iter().any(|m| m.contains("ran")));
    assert!(host.messages().iter().any(|m| m.contains("untrusted_lua")), "{:?}", host.messages());
}

const READ_BODY: &str = r#"
local body = kong.request.get_raw_body()
kong.log.info('body=', body)
kong.service.request.set_raw_body(body .. '!')
"#;

#[test]
fn kong_runs_body_phases_in_its_single_body_callback() {
    let host = host_of(HostKindName::Kong, &[(":method", "POST"), (":path", "/"), ("content-length", "5")]);
    *host.request_body.borrow_mut() = Some(b"hello".to_vec());
    let runtime = instance(serde_json::json!({"access": [READ_BODY]}), Some(Role::PreFunction), &host);
    let mut s = stream(&runtime, &host);
    // Kong's engine never resumes held request headers: Continue, the host reads the body.
    assert_eq!(s.on_request_headers(false), Flow::Continue);
    assert!(host.messages().is_empty());
    assert_eq!(s.on_request_body(5, true), Flow::Continue);
    assert_eq!(host.messages(), ["[pre-function] body=hello"]);
    assert_eq!(host.request_body.borrow().as_deref(), Some(&b"hello!"[..]));
    // The host frames the new body itself: no Content-Length of ours.
    assert_eq!(request_header(&host, "content-length").as_deref(), Some("5"));
}

#[test]
fn kong_without_an_announced_body_runs_at_the_headers() {
    let host = host_of(HostKindName::Kong, &[(":method", "GET"), (":path", "/")]);
    let runtime = instance(serde_json::json!({"access": ["kong.log.info('body=', kong.request.get_raw_body())"]}), Some(Role::PreFunction), &host);
    let mut s = stream(&runtime, &host);
    assert_eq!(s.on_request_headers(false), Flow::Continue);
    assert_eq!(host.messages(), ["[pre-function] body="]);
}

#[test]
fn envoy_without_the_flag_lets_the_headers_go_and_runs_access_on_the_body() {
    // Before 1.35, or without allow_on_headers_stop_iteration, a hold stops the body too
    // (StopAllIterationAndWatermark): never Pause from the request headers.
    let host = host_of(HostKindName::Envoy, &[(":method", "POST"), (":path", "/"), ("content-length", "5")]);
    *host.request_body.borrow_mut() = Some(b"hello".to_vec());
    let config = "kong.log.info('body=', kong.request.get_raw_body(), ' path=', kong.request.get_path()) \
                  kong.service.request.set_header('x-late', '1')";
    let runtime = instance(serde_json::json!({"access": [config]}), Some(Role::PreFunction), &host);
    let mut s = stream(&runtime, &host);
    assert_eq!(s.on_request_headers(false), Flow::Continue);
    assert!(host.messages().iter().any(|m| m.contains("allow_on_headers_stop_iteration")), "one line names the fix");
    assert_eq!(s.on_request_body(3, false), Flow::Pause, "StopIterationAndBuffer");
    assert_eq!(s.on_request_body(5, true), Flow::Continue);
    assert!(host.messages().contains(&"[pre-function] body=hello path=/".to_string()), "{:?}", host.messages());
    assert_eq!(request_header(&host, "x-late"), None, "the headers already went upstream");
}

#[test]
fn envoy_holds_the_headers_until_the_whole_body_where_its_plugins_allow_it() {
    // Envoy 1.35+ with allow_on_headers_stop_iteration: the held filter gets the body.
    let host = host_of(HostKindName::Envoy, &[(":method", "POST"), (":path", "/"), ("content-length", "5")]);
    *host.request_body.borrow_mut() = Some(b"hello".to_vec());
    let runtime = instance_held(serde_json::json!({"access": [READ_BODY]}), &host, true);
    let mut s = stream(&runtime, &host);
    assert_eq!(s.on_request_headers(false), Flow::Pause);
    assert_eq!(s.on_request_body(3, false), Flow::Pause);
    assert_eq!(s.on_request_body(5, true), Flow::Continue);
    assert_eq!(host.request_body.borrow().as_deref(), Some(&b"hello!"[..]));
    assert_eq!(request_header(&host, "content-length").as_deref(), Some("6"));
}

#[test]
fn a_body_over_the_limit_gets_413_before_any_copy() {
    let host = host_of(HostKindName::Kong, &[(":method", "POST"), (":path", "/"), ("transfer-encoding", "chunked")]);
    let runtime = instance(serde_json::json!({"access": [READ_BODY]}), Some(Role::PreFunction), &host);
    let mut s = stream(&runtime, &host);
    s.on_request_headers(false);
    // No body buffer at all: reading it would fail, so the size alone must decide.
    assert_eq!(s.on_request_body(9 * 1024 * 1024, true), Flow::Pause);
    assert_eq!(host.sent.borrow()[0].0, 413);
    assert!(host.messages().iter().any(|m| m.contains("too large")), "{:?}", host.messages());

}

/// A body the host holds in a temp file (nginx, larger than `client_body_buffer_size`)
/// and cannot hand over: the phases run, and the body functions answer as Kong's
/// kong/pdk/request.lua `get_raw_body` does for a body in a file (its message, and
/// "request body file too big: %d > %d" under a smaller `max_allowed_file_size`); forms
/// answer lua-nginx-module's `get_post_args` error. Expected texts: Kong's
/// t/01-pdk/04-request/15-get_raw_body.t TESTS 5 and 7, 16-get_body.t TEST 24.
#[test]
fn a_body_in_a_temp_file_answers_kongs_errors() {
    let chunk = r#"
        local _, e1 = kong.request.get_raw_body()
        local _, e2 = kong.request.get_raw_body(19999)
        local _, e3 = kong.request.get_body("application/x-www-form-urlencoded")
        local _, e4, mime = kong.request.get_body("application/json", nil, 100)
        local _, e5 = ngx.req.get_post_args()
        kong.response.exit(200, table.concat({ e1, e2, e3, e4, mime, e5, tostring(ngx.req.get_body_data()) }, "\n"))
    "#;
    let host = host_of(HostKindName::Kong, &[(":method", "POST"), (":path", "/"), ("content-length", "20000")]);
    let runtime = instance(serde_json::json!({"access": [chunk]}), Some(Role::PreFunction), &host);
    let mut s = stream(&runtime, &host);
    s.on_request_headers(false);
    // The fake host has no body buffer: reading it answers Unavailable, as a file would.
    assert_eq!(s.on_request_body(20000, true), Flow::Pause);
    let sent = host.sent.borrow();
    assert_eq!(sent[0].0, 200, "{:?}", host.messages());
    assert_eq!(
        String::from_utf8_lossy(&sent[0].2),
        "request body did not fit into client body buffer, consider raising 'client_body_buffer_size'\n\
         request body file too big: 20000 > 19999\n\
         request body in temp file not supported\n\
         request body file too big: 20000 > 100\n\
         application/json\n\
         request body in temp file not supported\n\
         nil"
    );
}

#[test]
fn an_exit_runs_header_filter_and_body_filter_on_the_exit_response() {
    let host = host_of(HostKindName::Envoy, &[(":path", "/")]);
    let config = serde_json::json!({
        "access": ["return kong.response.exit(403, 'no')"],
        "header_filter": ["kong.response.set_header('x-source', kong.response.get_source())"],
        "body_filter": ["if ngx.arg[1] ~= '' then ngx.arg[1] = ngx.arg[1]:upper() end"],
    });
    let runtime = instance(config, Some(Role::PreFunction), &host);
    assert_eq!(stream(&runtime, &host).on_request_headers(true), Flow::Pause);
    let sent = host.sent.borrow();
    let (status, headers, body) = &sent[0];
    assert_eq!(*status, 403);
    assert_eq!(body, b"NO");
    assert!(headers.iter().any(|(n, v)| n == "x-source" && v == b"exit"), "{headers:?}");
    // The host frames the body: no Content-Length goes with a local response.
    assert!(!headers.iter().any(|(n, _)| n == "content-length"));
}

#[test]
fn a_lua_error_answers_kongs_500_and_logs_the_position() {
    let host = host_of(HostKindName::Envoy, &[(":path", "/")]);
    let runtime = instance(serde_json::json!({"access": ["error('boom')"]}), Some(Role::PreFunction), &host);
    assert_eq!(stream(&runtime, &host).on_request_headers(true), Flow::Pause);
    let sent = host.sent.borrow();
    assert_eq!(sent[0].0, 500);
    assert_eq!(sent[0].2, br#"{"message":"An unexpected error occurred"}"#);
    assert!(host.messages().iter().any(|m| m.starts_with("[pre-function] access[1]:1: boom")), "{:?}", host.messages());
}

#[test]
fn content_output_is_sent_exactly_where_the_host_appends_a_newline() {
    for (kind, expected) in [(HostKindName::Kong, &b"hello"[..]), (HostKindName::Envoy, &b"hello\n"[..])] {
        let host = host_of(kind, &[(":path", "/")]);
        let runtime = instance(serde_json::json!({"access": ["ngx.say('hello')"]}), Some(Role::PreFunction), &host);
        stream(&runtime, &host).on_request_headers(true);
        // Kong's engine appends "\n" itself (ngx_http_wasm_local_response.c).
        assert_eq!(host.sent.borrow()[0].2, expected);
    }
}

#[test]
fn path_and_query_setters_reach_the_upstream_on_kong() {
    let host = host_of(HostKindName::Kong, &[(":path", "/old?a=1")]);
    let chunk = "kong.service.request.set_path('/new') kong.service.request.set_raw_query('b=2')";
    let runtime = instance(serde_json::json!({"access": [chunk]}), Some(Role::PreFunction), &host);
    stream(&runtime, &host).on_request_headers(false);
    assert_eq!(host.property(&["ngx", "upstream_uri"]).as_deref(), Some(&b"/new?b=2"[..]));
}

#[test]
fn buffered_responses_follow_what_the_host_can_hold() {
    let config = serde_json::json!({
        "access": ["kong.service.request.enable_buffering()"],
        "header_filter": ["kong.response.set_header('x-len', #(kong.service.response.get_raw_body() or ''))"],
        "body_filter": ["ngx.arg[1] = (kong.response.get_raw_body() or ngx.arg[1]):upper()"],
    });
    // Envoy holds response headers only with allow_on_headers_stop_iteration (without
    // it the hold would stop the body too); Kong's engine never does.
    for (kind, flag, holds) in [(HostKindName::Envoy, true, true), (HostKindName::Envoy, false, false), (HostKindName::Kong, false, false)] {
        let host = host_of(kind, &[(":path", "/")]);
        *host.response.borrow_mut() = vec![(":status".into(), b"200".to_vec()), ("content-length".into(), b"3".to_vec())];
        *host.response_body.borrow_mut() = Some(b"abc".to_vec());
        let runtime = instance_held(config.clone(), &host, flag);
        let mut s = stream(&runtime, &host);
        s.on_request_headers(true);
        let expected = if holds { Flow::Pause } else { Flow::Continue };
        assert_eq!(s.on_response_headers(false), expected);
        assert_eq!(s.on_response_body(3, true), Flow::Continue);
        assert_eq!(host.response_body.borrow().as_deref(), Some(&b"ABC"[..]));
    }
}

#[test]
fn after_an_error_header_filter_and_body_filter_run_on_kongs_500() {
    // Kong's spec (serverless functions): `X-Source: error` set in header_filter from
    // kong.response.get_source() after access failed.
    for kind in [HostKindName::Kong, HostKindName::Envoy] {
        let host = host_of(kind, &[(":path", "/")]);
        let config = serde_json::json!({
            "access": ["error('boom')"],
            "header_filter": ["kong.response.set_header('x-source', kong.response.get_source())"],
            "body_filter": ["kong.log.notice('body_filter ', ngx.arg[2])"],
        });
        let runtime = instance(config, Some(Role::PreFunction), &host);
        assert_eq!(stream(&runtime, &host).on_request_headers(true), Flow::Pause);
        let sent = host.sent.borrow();
        let (status, headers, body) = &sent[0];
        assert_eq!(*status, 500);
        assert_eq!(body, br#"{"message":"An unexpected error occurred"}"#);
        assert!(headers.iter().any(|(n, v)| n == "x-source" && v == b"error"), "{headers:?}");
        assert!(host.messages().iter().any(|m| m.ends_with("body_filter true")), "{:?}", host.messages());
    }
}

#[test]
fn ngx_ctx_has_kongs_runloop_fields() {
    // Kong's pre-function example "run in access phase" sets
    // ngx.ctx.balancer_data.connect_timeout; Kong's header_filter sees KONG_PROXIED and the
    // latencies (kong/runloop/handler.lua access.after, header_filter.before).
    let host = host_of(HostKindName::Envoy, &[(":path", "/"), (":authority", "example.test:8080"), (":scheme", "http")]);
    let config = serde_json::json!({
        "access": ["local b = ngx.ctx.balancer_data\nb.connect_timeout = 100\n\
                    kong.log.notice(b.host, ' ', b.port, ' ', b.retries, ' ', b.read_timeout, ' ', tostring(ngx.ctx.KONG_PROXIED))"],
        "header_filter": ["local c = ngx.ctx\nkong.log.notice(tostring(c.KONG_PROXIED), ' ', type(c.KONG_PROXY_LATENCY), ' ', \
                           type(c.KONG_WAITING_TIME), ' ', c.balancer_data.connect_timeout)"],
    });
    let runtime = instance(config, Some(Role::PreFunction), &host);
    let mut s = stream(&runtime, &host);
    assert_eq!(s.on_request_headers(true), Flow::Continue);
    *host.response.borrow_mut() = vec![(":status".into(), b"200".to_vec())];
    assert_eq!(s.on_response_headers(true), Flow::Continue);
    assert_eq!(
        host.messages(),
        ["[pre-function] example.test 8080 5 60000 nil", "[pre-function] true number number 100"]
    );
}

// ---------------------------------------------------------------------------------
// WebSocket streams and the certificate phase. Expected behaviour: Kong Enterprise's
// WebSocket PDK (`kong/enterprise_edition/pdk/websocket.lua` and its documentation at
// developer.konghq.com/gateway/pdk/reference/kong.websocket.client), RFC 6455 for the
// frames, Kong's plugin documents for when the phases run.

mod ws {
    use super::*;
    use crate::websocket::{encode, Decoder, Kind, Message, Side};

    const KEY: [u8; 4] = [1, 2, 3, 4];

    fn handshake_host(kind: HostKindName) -> Rc<FakeHost> {
        host_of(kind, &[(":method", "GET"), (":path", "/chat"), ("upgrade", "websocket"), ("connection", "Upgrade")])
    }

    fn client_frame(kind: Kind, text: &str) -> Vec<u8> {
        encode(&Message::new(kind, text.as_bytes().to_vec()), Some(KEY))
    }

    fn upstream_frame(kind: Kind, text: &str) -> Vec<u8> {
        encode(&Message::new(kind, text.as_bytes().to_vec()), None)
    }

    /// Hands `bytes` to the filter as client data; returns what goes upstream, decoded.
    fn from_client(s: &mut Stream, host: &FakeHost, bytes: &[u8]) -> Vec<(Kind, String, Option<u16>)> {
        *host.request_body.borrow_mut() = Some(bytes.to_vec());
        assert_eq!(s.on_request_body(bytes.len(), false), Flow::Continue);
        let sent = host.request_body.borrow().clone().unwrap_or_default();
        decoded(Side::Client, &sent)
    }

    /// Hands `bytes` to the filter as upstream data; returns what goes to the client.
    fn from_upstream(s: &mut Stream, host: &FakeHost, bytes: &[u8]) -> Vec<(Kind, String, Option<u16>)> {
        *host.response_body.borrow_mut() = Some(bytes.to_vec());
        assert_eq!(s.on_response_body(bytes.len(), false), Flow::Continue);
        let sent = host.response_body.borrow().clone().unwrap_or_default();
        decoded(Side::Upstream, &sent)
    }

    /// Decodes what the filter sent on: toward the upstream it must be masked (decoded as
    /// client frames), toward the client unmasked.
    fn decoded(side: Side, bytes: &[u8]) -> Vec<(Kind, String, Option<u16>)> {
        let (messages, error) = Decoder::new(side, 1 << 20).push(bytes);
        assert_eq!(error, None, "the filter sent malformed frames: {bytes:?}");
        messages.into_iter().map(|m| (m.kind, String::from_utf8_lossy(&m.payload).into_owned(), m.status)).collect()
    }

    fn upgraded(config: serde_json::Value) -> (Rc<FakeHost>, Stream) {
        let host = handshake_host(HostKindName::Envoy);
        let runtime = instance(config, Some(Role::PreFunction), &host);
        let mut s = stream(&runtime, &host);
        assert_eq!(s.on_request_headers(false), Flow::Continue);
        *host.response.borrow_mut() = vec![(":status".into(), b"101".to_vec()), ("upgrade".into(), b"websocket".to_vec())];
        assert_eq!(s.on_response_headers(false), Flow::Continue);
        (host, s)
    }

    #[test]
    fn a_handshake_refused_with_403_never_goes_upstream() {
        for kind in [HostKindName::Envoy, HostKindName::Kong] {
            let host = handshake_host(kind);
            let config = serde_json::json!({
                "access": ["kong.log.err('access ran')"],
                "ws_handshake": ["if not kong.request.get_header('x-token') then return kong.response.exit(403, 'no token') end"],
                "ws_client_frame": ["kong.log.info('frame')"],
            });
            let runtime = instance(config, Some(Role::PreFunction), &host);
            assert_eq!(stream(&runtime, &host).on_request_headers(false), Flow::Pause);
            let sent = host.sent.borrow();
            assert_eq!(sent.len(), 1);
            assert_eq!((sent[0].0, &sent[0].2[..]), (403, &b"no token"[..]));
            // ws_handshake ran where access would: access itself did not.
            assert!(!host.messages().iter().any(|m| m.contains("access ran")), "{:?}", host.messages());
        }
    }

    #[test]
    fn on_kongs_engine_the_frame_phases_are_named_once_and_the_handshake_still_runs() {
        let host = handshake_host(HostKindName::Kong);
        host.properties.borrow_mut().insert("ngx.upstream_uri".into(), b"/chat".to_vec());
        let config = serde_json::json!({
            "ws_handshake": ["kong.log.info('handshake')"],
            "ws_client_frame": ["kong.log.info('frame')"],
            "ws_close": ["kong.log.info('closed')"],
        });
        let runtime = instance(config, Some(Role::PreFunction), &host);
        assert_eq!(stream(&runtime, &host).on_request_headers(false), Flow::Continue);
        assert_eq!(stream(&runtime, &host).on_request_headers(false), Flow::Continue);
        let messages = host.messages();
        let notes: Vec<&String> = messages.iter().filter(|m| m.contains("will not run on this host")).collect();
        assert_eq!(notes.len(), 1, "{messages:?}");
        assert!(notes[0].contains("ws_client_frame, ws_close") && notes[0].contains("(kong)"), "{}", notes[0]);
        assert_eq!(messages.iter().filter(|m| m.ends_with("handshake")).count(), 2, "{messages:?}");
    }

    #[test]
    fn a_chat_exchange_rewritten_dropped_and_closed() {
        let config = serde_json::json!({
            "ws_client_frame": ["local data, typ = kong.websocket.client.get_frame()\n\
                                 if typ == 'text' then kong.websocket.client.set_frame_data(data:upper()) end"],
            "ws_upstream_frame": ["local data = kong.websocket.upstream.get_frame()\n\
                                   if data:find('secret') then kong.websocket.upstream.drop_frame() end"],
            "ws_close": ["kong.log.notice('closed')"],
            "log": ["kong.log.notice('log')"],
        });
        let (host, mut s) = upgraded(config);
        // The client says hello; the upstream gets it upper-cased, masked, length recomputed.
        assert_eq!(from_client(&mut s, &host, &client_frame(Kind::Text, "hello")), [(Kind::Text, "HELLO".into(), None)]);
        // The upstream answers twice; the frame with the secret never reaches the client.
        let mut answers = upstream_frame(Kind::Text, "welcome");
        answers.extend(upstream_frame(Kind::Text, "the secret is 42"));
        answers.extend(upstream_frame(Kind::Ping, ""));
        assert_eq!(
            from_upstream(&mut s, &host, &answers),
            [(Kind::Text, "welcome".into(), None), (Kind::Ping, String::new(), None)]
        );
        // A frame split across two callbacks: nothing goes on until it is whole.
        let frame = client_frame(Kind::Text, "a longer line of chat");
        assert_eq!(from_client(&mut s, &host, &frame[..7]), []);
        assert_eq!(from_client(&mut s, &host, &frame[7..]), [(Kind::Text, "A LONGER LINE OF CHAT".into(), None)]);
        assert!(!host.messages().iter().any(|m| m.contains("closed")));
        // The client closes: the close goes on with its status, and ws_close runs once.
        let close = encode(&Message::close(1000, b"bye"), Some(KEY));
        assert_eq!(from_client(&mut s, &host, &close), [(Kind::Close, "bye".into(), Some(1000))]);
        from_upstream(&mut s, &host, &encode(&Message::close(1000, b""), None));
        s.on_log();
        assert_eq!(host.messages(), ["[pre-function] closed", "[pre-function] log"]);
    }

    #[test]
    fn a_malformed_frame_closes_with_1002_after_the_good_ones() {
        let (host, mut s) = upgraded(serde_json::json!({ "ws_client_frame": ["kong.log.info('frame ', (kong.websocket.client.get_frame()))"] }));
        let mut bytes = client_frame(Kind::Text, "one");
        bytes.extend(upstream_frame(Kind::Text, "unmasked from a client"));
        let sent = from_client(&mut s, &host, &bytes);
        assert_eq!(sent, [(Kind::Text, "one".into(), None), (Kind::Close, String::new(), Some(1002))]);
        assert!(host.messages().iter().any(|m| m.contains("websocket client frame refused: malformed frame: client frame not masked")));
        // The client gets its close frame on the next upstream callback; nothing else passes.
        assert_eq!(from_upstream(&mut s, &host, &upstream_frame(Kind::Text, "late")), [(Kind::Close, String::new(), Some(1002))]);
        assert_eq!(from_client(&mut s, &host, &client_frame(Kind::Text, "more")), []);
    }

    #[test]
    fn a_message_over_the_handshakes_limit_closes_with_1009() {
        let (host, mut s) = upgraded(serde_json::json!({
            "ws_handshake": ["kong.websocket.upstream.set_max_payload_size(8)"],
            "ws_upstream_frame": ["kong.log.info('frame')"],
        }));
        assert_eq!(from_upstream(&mut s, &host, &upstream_frame(Kind::Text, "12345678")).len(), 1);
        let sent = from_upstream(&mut s, &host, &upstream_frame(Kind::Binary, "123456789"));
        assert_eq!(sent, [(Kind::Close, String::new(), Some(1009))]);
        assert!(host.messages().iter().any(|m| m.contains("message payload too large (9 bytes, limit 8)")), "{:?}", host.messages());
    }

    #[test]
    fn close_from_a_chunk_sends_both_close_frames() {
        let (host, mut s) = upgraded(serde_json::json!({
            "ws_client_frame": ["kong.websocket.client.close(4000, 'not allowed', 1001, 'client went away')", "kong.log.err('skipped')"],
        }));
        assert_eq!(from_client(&mut s, &host, &client_frame(Kind::Text, "x")), [(Kind::Close, "client went away".into(), Some(1001))]);
        assert_eq!(from_upstream(&mut s, &host, &[]), [(Kind::Close, "not allowed".into(), Some(4000))]);
        assert!(!host.messages().iter().any(|m| m.contains("skipped")));
    }

    #[test]
    fn the_websocket_functions_check_phase_side_and_arguments_as_kong() {
        let checks = "local function e(f, ...) local ok, err = pcall(f, ...) kong.log.info(tostring(err)) end\n\
                      e(kong.websocket.upstream.get_frame)\n\
                      e(kong.websocket.client.set_frame_data, 1)\n\
                      e(kong.websocket.client.set_status, 1000)\n\
                      e(kong.websocket.client.close, 'x')\n\
                      e(kong.websocket.client.close, nil, nil, nil, 2)\n\
                      e(kong.websocket.client.set_max_payload_size, 1)";
        let (host, mut s) = upgraded(serde_json::json!({ "ws_client_frame": [checks] }));
        from_client(&mut s, &host, &client_frame(Kind::Text, "x"));
        let lines: Vec<String> = host.messages().iter().map(|m| m.trim_start_matches("[pre-function] ").to_owned()).collect();
        assert_eq!(
            lines,
            [
                "calling kong.websocket.upstream method from the wrong thread",
                "frame payload must be a string",
                "cannot override status code of non-close frame",
                "client status must be nil or a number",
                "upstream message must be nil or a string",
                "function cannot be called in ws_client_frame phase (only in: ws_handshake)",
            ]
        );
    }

    #[test]
    fn set_max_payload_size_argument_errors() {
        let host = handshake_host(HostKindName::Envoy);
        let chunk = "for _, v in ipairs({'a', -1, 1e12}) do local ok, err = pcall(kong.websocket.client.set_max_payload_size, v) \
                     kong.log.info(err) end\nlocal ok, err = pcall(kong.websocket.client.get_frame) kong.log.info(err)";
        let runtime = instance(serde_json::json!({ "ws_handshake": [chunk] }), Some(Role::PreFunction), &host);
        stream(&runtime, &host).on_request_headers(false);
        let lines: Vec<String> = host.messages().iter().map(|m| m.trim_start_matches("[pre-function] ").to_owned()).collect();
        assert_eq!(
            lines,
            [
                "`size` must be a number",
                "`size` must be >= 0",
                "`size` must be <= 1048576",
                "function cannot be called in ws_handshake phase (only in: ws_client_frame, ws_upstream_frame)",
            ]
        );
    }

    #[test]
    fn an_upgrade_without_websocket_phases_is_plain_http() {
        let host = handshake_host(HostKindName::Envoy);
        let runtime = instance(serde_json::json!({ "access": ["kong.log.info('access')"] }), Some(Role::PreFunction), &host);
        assert_eq!(stream(&runtime, &host).on_request_headers(false), Flow::Continue);
        assert_eq!(host.messages(), ["[pre-function] access"]);
    }
}

mod certificate {
    use super::*;

    fn connection(host: &FakeHost, id: &str) {
        host.properties.borrow_mut().insert("connection.id".into(), id.as_bytes().to_vec());
    }

    /// Makes the downstream connection a TLS one (Envoy's `connection.tls_version`).
    fn tls(host: &FakeHost) {
        host.properties.borrow_mut().insert("connection.tls_version".into(), b"TLSv1.3".to_vec());
    }

    #[test]
    fn a_plain_http_connection_runs_no_certificate_phase() {
        // Kong runs `certificate` during the TLS handshake only (ssl_certificate_by_lua).
        let host = host_of(HostKindName::Envoy, &[(":path", "/")]);
        let config = serde_json::json!({ "certificate": ["kong.log.notice('certificate')"], "rewrite": ["kong.log.notice('rewrite')"] });
        let runtime = instance(config, Some(Role::PreFunction), &host);
        connection(&host, "3");
        for _ in 0..2 {
            assert_eq!(stream(&runtime, &host).on_request_headers(true), Flow::Continue);
        }
        assert_eq!(host.messages(), ["[pre-function] rewrite", "[pre-function] rewrite"]);
    }

    #[test]
    fn certificate_chunks_run_once_for_a_three_request_connection() {
        let host = Rc::new(
            FakeHost::with_request(&[(":path", "/")])
                .with_property("plugin_vm_id", "vm")
                .with_property("connection.requested_server_name", "api.example.test")
                .with_property("connection.tls_version", "TLSv1.3"),
        );
        let config = serde_json::json!({
            "certificate": ["kong.log.notice('certificate ', ngx.ssl.server_name(), ' ', ngx.ssl.get_tls1_version_str())"],
            "rewrite": ["kong.log.notice('rewrite')"],
        });
        let runtime = instance(config, Some(Role::PreFunction), &host);
        connection(&host, "7");
        for _ in 0..3 {
            assert_eq!(stream(&runtime, &host).on_request_headers(true), Flow::Continue);
        }
        assert_eq!(
            host.messages(),
            ["[pre-function] certificate api.example.test TLSv1.3", "[pre-function] rewrite", "[pre-function] rewrite", "[pre-function] rewrite"]
        );
        // A new connection runs it again.
        connection(&host, "8");
        stream(&runtime, &host).on_request_headers(true);
        assert_eq!(host.messages().iter().filter(|m| m.contains("certificate")).count(), 2);
    }

    #[test]
    fn a_failed_certificate_phase_refuses_every_request_of_its_connection() {
        let host = host_of(HostKindName::Envoy, &[(":path", "/")]);
        let runtime = instance(serde_json::json!({ "certificate": ["error('no cert for you')"] }), Some(Role::PreFunction), &host);
        connection(&host, "9");
        tls(&host);
        for _ in 0..2 {
            assert_eq!(stream(&runtime, &host).on_request_headers(true), Flow::Pause);
        }
        assert_eq!(host.sent.borrow().iter().map(|r| r.0).collect::<Vec<_>>(), [500, 500]);
        assert_eq!(host.messages().iter().filter(|m| m.contains("no cert for you")).count(), 1, "{:?}", host.messages());
    }

    #[test]
    fn without_a_connection_id_it_runs_per_request_and_says_so_once() {
        let host = host_of(HostKindName::Envoy, &[(":path", "/")]);
        let runtime = instance(serde_json::json!({ "certificate": ["kong.log.notice('cert ', tostring(ngx.ssl.server_name()))"] }), Some(Role::PreFunction), &host);
        tls(&host);
        stream(&runtime, &host).on_request_headers(true);
        stream(&runtime, &host).on_request_headers(true);
        let messages = host.messages();
        assert_eq!(messages.iter().filter(|m| m.contains("no connection.id")).count(), 1);
        assert_eq!(messages.iter().filter(|m| m.ends_with("cert nil")).count(), 2, "{messages:?}");
    }

    #[test]
    fn tls_reads_per_host() {
        // Kong's engine: nginx's variables; kong.client.tls gives the PEM there.
        let host = host_of(HostKindName::Kong, &[(":path", "/")]);
        for (k, v) in [("ngx.ssl_server_name", "k.example"), ("ngx.ssl_protocol", "TLSv1.2"), ("ngx.ssl_client_s_dn", "CN=client"), ("ngx.ssl_client_raw_cert", "-----BEGIN CERTIFICATE-----")] {
            host.properties.borrow_mut().insert(k.into(), v.as_bytes().to_vec());
        }
        host.properties.borrow_mut().insert("ngx.upstream_uri".into(), b"/".to_vec());
        let chunk = "kong.log.notice(ngx.ssl.server_name(), ' ', ngx.ssl.get_tls1_version(), ' ', ngx.var.ssl_client_s_dn, ' ', \
                     kong.client.tls.get_full_client_certificate_chain())";
        let runtime = instance(serde_json::json!({ "access": [chunk] }), Some(Role::PreFunction), &host);
        stream(&runtime, &host).on_request_headers(true);
        assert_eq!(host.messages(), ["[pre-function] k.example 771 CN=client -----BEGIN CERTIFICATE-----"]);
        // Envoy: its connection attributes; no PEM, so kong.client.tls raises.
        let host = Rc::new(
            FakeHost::with_request(&[(":path", "/")])
                .with_property("plugin_vm_id", "vm")
                .with_property("connection.subject_peer_certificate", "CN=envoy-client"),
        );
        let chunk = "kong.log.notice(ngx.var.ssl_client_s_dn, ' ', tostring(ngx.ssl.server_name()))\n\
                     local ok, err = pcall(kong.client.tls.get_full_client_certificate_chain) kong.log.notice(err)";
        let runtime = instance(serde_json::json!({ "access": [chunk] }), Some(Role::PreFunction), &host);
        stream(&runtime, &host).on_request_headers(true);
        let messages = host.messages();
        assert_eq!(messages[0], "[pre-function] CN=envoy-client nil");
        assert!(messages[1].ends_with("get_full_client_certificate_chain: not supported by this host: only nginx's engine has a property with the client certificate in PEM"), "{}", messages[1]);
    }
}
