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
fn envoy_holds_the_headers_until_the_whole_body() {
    let host = host_of(HostKindName::Envoy, &[(":method", "POST"), (":path", "/"), ("content-length", "5")]);
    *host.request_body.borrow_mut() = Some(b"hello".to_vec());
    let runtime = instance(serde_json::json!({"access": [READ_BODY]}), Some(Role::PreFunction), &host);
    let mut s = stream(&runtime, &host);
    assert_eq!(s.on_request_headers(false), Flow::Pause);
    assert_eq!(s.on_request_body(3, false), Flow::Pause);
    assert_eq!(s.on_request_body(5, true), Flow::Continue);
    assert_eq!(host.request_body.borrow().as_deref(), Some(&b"hello!"[..]));
    assert_eq!(request_header(&host, "content-length").as_deref(), Some("6"));
}

#[test]
fn a_body_over_the_limit_or_out_of_reach_gets_413_before_any_copy() {
    let host = host_of(HostKindName::Kong, &[(":method", "POST"), (":path", "/"), ("transfer-encoding", "chunked")]);
    let runtime = instance(serde_json::json!({"access": [READ_BODY]}), Some(Role::PreFunction), &host);
    let mut s = stream(&runtime, &host);
    s.on_request_headers(false);
    // No body buffer at all: reading it would fail, so the size alone must decide.
    assert_eq!(s.on_request_body(9 * 1024 * 1024, true), Flow::Pause);
    assert_eq!(host.sent.borrow()[0].0, 413);
    assert!(host.messages().iter().any(|m| m.contains("too large")), "{:?}", host.messages());

    // The host holds the body in a temp file and cannot hand it over: fail closed.
    let host = host_of(HostKindName::Kong, &[(":method", "POST"), (":path", "/"), ("content-length", "20000")]);
    let runtime = instance(serde_json::json!({"access": [READ_BODY]}), Some(Role::PreFunction), &host);
    let mut s = stream(&runtime, &host);
    s.on_request_headers(false);
    assert_eq!(s.on_request_body(20000, true), Flow::Pause);
    assert_eq!(host.sent.borrow()[0].0, 413);
    assert!(host.messages().iter().any(|m| m.contains("cannot hand over")), "{:?}", host.messages());
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
    for (kind, holds) in [(HostKindName::Envoy, true), (HostKindName::Kong, false)] {
        let host = host_of(kind, &[(":path", "/")]);
        *host.response.borrow_mut() = vec![(":status".into(), b"200".to_vec()), ("content-length".into(), b"3".to_vec())];
        *host.response_body.borrow_mut() = Some(b"abc".to_vec());
        let runtime = instance(config.clone(), Some(Role::PreFunction), &host);
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
