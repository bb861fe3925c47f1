use std::rc::Rc;

use super::*;
use crate::config::{PluginConfig, Role};
use crate::host::Host;
use crate::pdk::testing::FakeHost;
use crate::runtime::{BodyChunk, PhaseOutcome, Runtime};

fn run_chunks(phase: Phase, sources: &[&str], host: &Rc<FakeHost>, request: &mut RequestState) -> PhaseOutcome {
    let config = serde_json::json!({ phase.name(): sources }).to_string();
    let config = PluginConfig::parse(config.as_bytes()).unwrap();
    let mut rt = Runtime::new(&config, Role::PreFunction, host.clone()).unwrap();
    rt.run_phase(phase, request)
}

fn run(phase: Phase, source: &str, host: &Rc<FakeHost>, request: &mut RequestState) -> PhaseOutcome {
    run_chunks(phase, &[source], host, request)
}

/// Runs `source` and returns the single error line it logged.
fn error_of(phase: Phase, source: &str) -> String {
    let host = Rc::new(FakeHost::default());
    let outcome = run(phase, source, &host, &mut RequestState::default());
    assert_eq!(outcome, PhaseOutcome::Failed, "{:?}", host.messages());
    host.messages().pop().unwrap()
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

#[test]
fn exit_with_a_table_sends_json() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    let outcome = run(Phase::Access, "return kong.response.exit(406, { message = 'Invalid' })", &host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Exited);
    let exit = request.exit.unwrap();
    assert_eq!(exit.status, 406);
    assert_eq!(exit.body, br#"{"message":"Invalid"}"#);
    assert_eq!(exit.header("content-type"), Some(CONTENT_TYPE_JSON));
    assert_eq!(exit.header("content-length"), Some(&b"21"[..]));
}

#[test]
fn exit_json_content_type_follows_kong_headers_argument_rule() {
    // A Content-Type from the headers argument wins; one set earlier with set_header does
    // not (Kong overrides it for a table body).
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    let source = "kong.response.set_header('Content-Type', 'text/plain')\nkong.response.exit(200, {1, 2}, { ['Content-Type'] = 'application/x-custom' })";
    run(Phase::Access, source, &host, &mut request);
    assert_eq!(request.exit.unwrap().header("content-type"), Some(&b"application/x-custom"[..]));
    let mut request = RequestState::default();
    run(Phase::Access, "kong.response.set_header('Content-Type', 'text/plain')\nkong.response.exit(200, {1, 2})", &host, &mut request);
    let exit = request.exit.unwrap();
    assert_eq!(exit.header("content-type"), Some(CONTENT_TYPE_JSON));
    assert_eq!(exit.body, b"[1,2]");
}

#[test]
fn exit_without_body_has_zero_length_and_ignores_transfer_encoding() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    run(Phase::Access, "kong.response.exit(204, nil, { ['Transfer-Encoding'] = 'chunked', x_custom = 'a' })", &host, &mut request);
    let exit = request.exit.unwrap();
    assert_eq!(exit.header("content-length"), Some(&b"0"[..]));
    assert_eq!(exit.header("transfer-encoding"), None);
    assert_eq!(exit.header("x-custom"), Some(&b"a"[..]));
    assert_eq!(host.messages(), ["[pre-function] manually setting Transfer-Encoding. Ignored."]);
}

#[test]
fn exit_on_grpc_requests_uses_grpc_headers() {
    let host = Rc::new(FakeHost::with_request(&[("content-type", "application/grpc")]));
    let mut request = RequestState::default();
    run(Phase::Access, "kong.response.exit(401, { message = 'no way' })", &host, &mut request);
    let exit = request.exit.unwrap();
    assert_eq!(exit.header("grpc-status"), Some(&b"16"[..]));
    assert_eq!(exit.header("grpc-message"), Some(&b"no way"[..]));
    assert!(exit.body.is_empty());
}

#[test]
fn exit_argument_errors_are_kongs() {
    assert!(error_of(Phase::Access, "kong.response.exit('200')").ends_with("access[1]:1: code must be a number"));
    assert!(error_of(Phase::Access, "kong.response.exit(600)").ends_with("code must be a number between 100 and 599"));
    assert!(error_of(Phase::Access, "kong.response.exit(200, 1)").ends_with("body must be a nil, string or table"));
    assert!(error_of(Phase::Access, "kong.response.exit(200, nil, 'x')").ends_with("headers must be a nil or table"));
    assert!(error_of(Phase::Access, "kong.response.exit(200, nil, { a = print })")
        .ends_with("invalid header value for \"a\": got function, expected string, number, boolean or array of strings"));
    assert!(error_of(Phase::BodyFilter, "kong.response.exit(200)").ends_with(
        "function cannot be called in body_filter phase (only in: rewrite, access, balancer, response, header_filter, error, admin_api)"
    ));
}

#[test]
fn error_defaults_to_json_with_kongs_message_and_request_id() {
    let host = Rc::new(FakeHost::with_request(&[("x-request-id", "abc")]));
    let mut request = RequestState::default();
    let outcome = run(Phase::Access, "do return kong.response.error(404) end\nkong.log.err('not reached')", &host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Exited);
    let exit = request.exit.unwrap();
    assert_eq!(exit.status, 404);
    assert_eq!(text(&exit.body), "{\n  \"message\":\"Not found\",\n  \"request_id\":\"abc\"\n}");
    assert_eq!(exit.header("content-type"), Some(CONTENT_TYPE_JSON));
    assert!(host.messages().is_empty());
}

#[test]
fn error_negotiates_the_accept_header() {
    let cases = [
        ("text/html", "text/html; charset=utf-8", "<p>Forbidden.</p>"),
        ("application/xml;q=0.9, text/plain;q=0.1", "application/xml; charset=utf-8", "<message>Forbidden</message>"),
        ("text/*", "text/plain; charset=utf-8", "Forbidden\nrequest_id: \n"),
        ("*/*", "application/json; charset=utf-8", "\"message\":\"Forbidden\""),
        ("image/png", "application/json; charset=utf-8", "\"message\":\"Forbidden\""),
    ];
    for (accept, content_type, snippet) in cases {
        let host = Rc::new(FakeHost::with_request(&[("accept", accept)]));
        let mut request = RequestState::default();
        run(Phase::Access, "kong.response.error(403)", &host, &mut request);
        let exit = request.exit.unwrap();
        assert_eq!(exit.header("content-type"), Some(content_type.as_bytes()), "{accept}");
        assert!(text(&exit.body).contains(snippet), "{accept}: {}", text(&exit.body));
    }
}

#[test]
fn error_takes_message_and_content_type_from_arguments() {
    let host = Rc::new(FakeHost::with_request(&[("accept", "text/html")]));
    let mut request = RequestState::default();
    run(Phase::Access, "kong.response.error(503, 'Try later', { ['Content-Type'] = 'text/plain', ['Retry-After'] = 5 })", &host, &mut request);
    let exit = request.exit.unwrap();
    assert_eq!(exit.status, 503);
    assert_eq!(text(&exit.body), "Try later\nrequest_id: \n");
    assert_eq!(exit.header("retry-after"), Some(&b"5"[..]));
    assert_eq!(exit.header("content-length"), Some(exit.body.len().to_string().as_bytes()));
    assert!(error_of(Phase::Access, "kong.response.error(302)").ends_with("code must be a number between 400 and 599"));
    assert!(error_of(Phase::Access, "kong.response.error(500, 12)").ends_with("message must be a nil, a string or a table"));
}

#[test]
fn error_on_grpc_requests_has_no_body() {
    let host = Rc::new(FakeHost::with_request(&[("content-type", "application/grpc+proto")]));
    let mut request = RequestState::default();
    run(Phase::Access, "kong.response.error(429)", &host, &mut request);
    let exit = request.exit.unwrap();
    assert!(exit.body.is_empty());
    assert_eq!(exit.header("grpc-status"), Some(&b"8"[..]));
    assert_eq!(exit.header("grpc-message"), Some(&b"ResourceExhausted"[..]));
}

#[test]
fn default_messages_are_kongs() {
    assert_eq!(http_error_message(400), "Bad request");
    assert_eq!(http_error_message(401), "Unauthorized");
    assert_eq!(http_error_message(500), "An unexpected error occurred");
    assert_eq!(http_error_message(599), "The upstream server responded with 599");
}

#[test]
fn accept_parsing_follows_quality_then_order() {
    assert_eq!(response_type(None), MIME_JSON);
    assert_eq!(response_type(Some("text/html;q=0.2, application/xml")), MIME_XML);
    assert_eq!(response_type(Some("text/html, application/xml")), MIME_HTML);
    assert_eq!(response_type(Some("garbage")), MIME_JSON);
    assert_eq!(response_type(Some("application/*")), MIME_JSON);
}

#[test]
fn headers_set_in_access_are_pending_and_readable_in_header_filter() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    let source = "kong.response.set_header('X-One', '1')\nkong.response.add_header('X-Multi', 'a')\nkong.response.add_header('X-Multi', {'b', 'c'})\nkong.response.set_headers({ X_Two = 2, ['X-Gone'] = 'x' })\nkong.response.clear_header('x-gone')";
    run(Phase::Access, source, &host, &mut request);
    let mut pending = LocalResponse::default();
    request.apply_header_ops(&mut pending);
    assert_eq!(pending.header("x-one"), Some(&b"1"[..]));
    assert_eq!(pending.header("x-two"), Some(&b"2"[..]));
    assert_eq!(pending.header("x-gone"), None);
    let multi: Vec<&[u8]> = pending.headers.iter().filter(|(n, _)| n == "x-multi").map(|(_, v)| v.as_slice()).collect();
    assert_eq!(multi, [&b"a"[..], b"b", b"c"]);
}

#[test]
fn header_filter_changes_the_upstream_response() {
    let host = Rc::new(FakeHost::default());
    host.set_response_header(":status", Some(b"200"));
    host.set_response_header("x-up", Some(b"1"));
    let mut request = RequestState::default();
    let source = "kong.response.set_header('X-Added', '')\nkong.response.add_header('X-Up', '2')\nkong.response.set_status(201)\nlocal h = kong.response.get_headers()\nkong.log.info(kong.response.get_status(), ' ', h.x_up[2], ' [', kong.response.get_header('x_added'), '] ', kong.response.get_source())";
    let outcome = run(Phase::HeaderFilter, source, &host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Continue, "{:?}", host.messages());
    assert_eq!(host.messages(), ["[pre-function] 201 2 [ ] service"]);
    assert_eq!(host.response_header(":status"), Some(b"201".to_vec()));
}

#[test]
fn set_status_before_the_response_is_kept_in_the_state() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    run(Phase::Access, "kong.response.set_status(418)", &host, &mut request);
    assert_eq!(request.status, Some(418));
    assert!(error_of(Phase::Access, "kong.response.set_status(99)").ends_with("code must be a number between 100 and 599"));
    assert!(error_of(Phase::Log, "kong.response.set_status(200)").contains("function cannot be called in log phase"));
    assert!(error_of(Phase::Access, "kong.response.get_status()").ends_with(
        "function cannot be called in access phase (only in: response, header_filter, body_filter, log, error, admin_api)"
    ));
}

#[test]
fn get_source_tells_exit_error_and_service() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState { exit: Some(LocalResponse { status: 403, ..LocalResponse::default() }), ..RequestState::default() };
    run(Phase::Log, "kong.log.info(kong.response.get_source())", &host, &mut request);
    request.exit = Some(LocalResponse::internal_error());
    run(Phase::Log, "kong.log.info(kong.response.get_source())", &host, &mut request);
    request.exit = None;
    run(Phase::Log, "kong.log.info(kong.response.get_source())", &host, &mut request);
    host.set_response_header(":status", Some(b"200"));
    run(Phase::Log, "kong.log.info(kong.response.get_source())", &host, &mut request);
    assert_eq!(host.messages(), ["[pre-function] exit", "[pre-function] error", "[pre-function] error", "[pre-function] service"]);
    let kong = Rc::new(FakeHost::default().with_property("ngx.nginx_version", "1.27.4").with_property("kong.version", "3.9.0").with_property("kong.response.source", "exit"));
    run(Phase::Log, "kong.log.info(kong.response.get_source())", &kong, &mut RequestState::default());
    assert_eq!(kong.messages(), ["[pre-function] exit"]);
}

#[test]
fn get_raw_body_buffers_chunks_until_the_last() {
    let host = Rc::new(FakeHost::default());
    let config = serde_json::json!({ "body_filter": ["local b = kong.response.get_raw_body()\nif b then kong.response.set_raw_body(b:upper()) end"] }).to_string();
    let mut rt = Runtime::new(&PluginConfig::parse(config.as_bytes()).unwrap(), Role::PreFunction, host.clone()).unwrap();
    let mut request = RequestState::default();
    let mut sent = Vec::new();
    for (data, eof) in [("hello ", false), ("wor", false), ("ld", true)] {
        request.body = Some(BodyChunk::new(data.as_bytes().to_vec(), eof));
        rt.run_phase(Phase::BodyFilter, &mut request);
        let chunk = request.body.take().unwrap();
        assert!(chunk.changed);
        sent.extend(chunk.data);
    }
    assert_eq!(text(&sent), "HELLO WORLD");
    assert_eq!(request.response_body_buffer, None);
}

#[test]
fn raw_body_of_a_single_last_chunk_and_of_a_buffered_response() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState { body: Some(BodyChunk::new(b"only".to_vec(), true)), ..RequestState::default() };
    run(Phase::BodyFilter, "kong.log.info(kong.response.get_raw_body())", &host, &mut request);
    let mut buffered = RequestState {
        body: Some(BodyChunk::new(b"whole".to_vec(), true)),
        response_body: Some(b"whole".to_vec()),
        ..RequestState::default()
    };
    run(Phase::BodyFilter, "kong.log.info(kong.response.get_raw_body())\nkong.response.set_raw_body('')", &host, &mut buffered);
    assert_eq!(host.messages(), ["[pre-function] only", "[pre-function] whole"]);
    assert_eq!(buffered.response_body.as_deref(), Some(&b"\n"[..]));
    assert!(buffered.response_body_changed);
    let chunk = buffered.body.unwrap();
    assert!(chunk.eof && chunk.changed);
    assert!(error_of(Phase::Access, "kong.response.get_raw_body()").ends_with(
        "function cannot be called in access phase (only in: body_filter)"
    ));
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState { body: Some(BodyChunk::new(Vec::new(), true)), ..RequestState::default() };
    assert_eq!(run(Phase::BodyFilter, "kong.response.set_raw_body(1)", &host, &mut request), PhaseOutcome::Failed);
    assert!(host.messages()[0].ends_with("body must be a string"));
}

#[test]
fn exit_in_header_filter_builds_on_an_earlier_exit() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    run(Phase::Access, "kong.response.exit(403, 'no', { ['X-A'] = 'a' })", &host, &mut request);
    let outcome = run(Phase::HeaderFilter, "kong.response.exit(451, 'gone')", &host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Exited);
    let exit = request.exit.unwrap();
    assert_eq!((exit.status, text(&exit.body)), (451, "gone"));
    assert_eq!(exit.header("x-a"), Some(&b"a"[..]));
}

#[test]
fn ngx_exit_pages_follow_kongs_error_page_setup() {
    let host = Rc::new(FakeHost::default());
    let scope = Scope::on_host(host.clone(), Role::PreFunction);
    let page = ngx_exit_response(&scope, 400);
    assert_eq!(text(&page.body), "Bad request\nrequest_id: \n");
    assert_eq!(page.header("content-type"), Some(MIME_PLAIN.as_bytes()));
    let page = ngx_exit_response(&scope, 401);
    assert!(text(&page.body).contains("<h1>401 Authorization Required</h1>"));
    let page = ngx_exit_response(&scope, 494);
    assert_eq!(page.status, 400);
    assert!(ngx_exit_response(&scope, 204).body.is_empty());
    let json = Rc::new(FakeHost::with_request(&[("accept", "application/json")]));
    let page = ngx_exit_response(&Scope::on_host(json, Role::PreFunction), 500);
    assert!(text(&page.body).contains("\"message\":\"An unexpected error occurred\""));
}
