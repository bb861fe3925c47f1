use std::rc::Rc;

use super::*;
use crate::config::{PluginConfig, Role};
use crate::host::Host;
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};

fn run(phase: Phase, source: &str, host: &Rc<FakeHost>, request: &mut RequestState) -> PhaseOutcome {
    let config = serde_json::json!({ phase.name(): [source] }).to_string();
    let config = PluginConfig::parse(config.as_bytes()).unwrap();
    let mut rt = Runtime::new(&config, Role::PreFunction, host.clone()).unwrap();
    rt.run_phase(phase, request)
}

fn access(source: &str, host: &Rc<FakeHost>) -> RequestState {
    let mut request = RequestState::default();
    let outcome = run(Phase::Access, source, host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Continue, "{source}: {:?}", host.messages());
    request
}

/// The last error line `source` logs in `phase`.
fn error_of(phase: Phase, source: &str, host: FakeHost) -> String {
    let host = Rc::new(host);
    assert_eq!(run(phase, source, &host, &mut RequestState::default()), PhaseOutcome::Failed);
    host.messages().pop().unwrap()
}

fn path(host: &FakeHost) -> String {
    String::from_utf8(host.request_header(":path").unwrap()).unwrap()
}

#[test]
fn paths_escape_as_kong() {
    assert_eq!(escape_path(b"/a b/\xc3\xb8/%41?x=1"), b"/a%20b/%C3%B8/%41?x=1");
    assert_eq!(escape_path(b"/{x}|\"<>"), b"/%7Bx%7D%7C%22%3C%3E");
}

#[test]
fn form_components_decode() {
    assert_eq!(form_decode(b"a+b%20c%2"), b"a b c%2");
    assert_eq!(form_decode(b"%zz%41"), b"%zzA");
}

#[test]
fn set_path_keeps_the_query_and_set_raw_query_keeps_the_path() {
    let host = Rc::new(FakeHost::with_request(&[(":path", "/old?a=1")]));
    access("kong.service.request.set_path('/new path')", &host);
    assert_eq!(path(&host), "/new%20path?a=1");
    access("kong.service.request.set_raw_query('x=1&y')", &host);
    assert_eq!(path(&host), "/new%20path?x=1&y");
    access("kong.service.request.set_raw_query('')", &host);
    assert_eq!(path(&host), "/new%20path");
    assert!(error_of(Phase::Access, "kong.service.request.set_path('relative')", FakeHost::default()).ends_with("path must start with /"));
    assert!(error_of(Phase::Access, "kong.service.request.set_path(1)", FakeHost::default()).ends_with("path must be a string"));
    assert!(error_of(Phase::HeaderFilter, "kong.service.request.set_path('/')", FakeHost::default())
        .ends_with("function cannot be called in header_filter phase (only in: rewrite, access, balancer)"));
}

#[test]
fn set_query_sorts_and_encodes_as_ngx_encode_args() {
    let host = Rc::new(FakeHost::with_request(&[(":path", "/p?old=1")]));
    access("kong.service.request.set_query({ b = 'x y', a = { '1', 2 }, flag = true, off = false, ['k&'] = 'v=' })", &host);
    assert_eq!(path(&host), "/p?&a=1&a=2&b=x%20y&flag&k%26=v%3D");
    assert!(error_of(Phase::Access, "kong.service.request.set_query({ [1] = 'x' })", FakeHost::default()).ends_with("arg keys must be strings"));
    assert!(error_of(Phase::Access, "kong.service.request.set_query({ a = print })", FakeHost::default())
        .ends_with("attempt to use function as query arg value"));
    assert!(error_of(Phase::Access, "kong.service.request.set_query('a=1')", FakeHost::default()).ends_with("args must be a table"));
}

#[test]
fn clear_query_arg_removes_every_occurrence() {
    let host = Rc::new(FakeHost::with_request(&[(":path", "/p?a=1&b=x+y&a=2&c")]));
    access("kong.service.request.clear_query_arg('a')", &host);
    assert_eq!(path(&host), "/p?b=x%20y&c=");
    let host = Rc::new(FakeHost::with_request(&[(":path", "/p")]));
    access("kong.service.request.clear_query_arg('a')", &host);
    assert_eq!(path(&host), "/p");
}

#[test]
fn method_and_scheme_go_to_pseudo_headers() {
    let host = Rc::new(FakeHost::with_request(&[(":method", "GET"), (":scheme", "http")]));
    access("kong.service.request.set_method('PATCH')\nkong.service.request.set_scheme('https')", &host);
    assert_eq!(host.request_header(":method"), Some(b"PATCH".to_vec()));
    assert_eq!(host.request_header(":scheme"), Some(b"https".to_vec()));
    assert!(error_of(Phase::Access, "kong.service.request.set_method('get')", FakeHost::default()).ends_with("invalid method: get"));
    assert!(error_of(Phase::Access, "kong.service.request.set_scheme('ftp')", FakeHost::default()).ends_with("invalid scheme: ftp"));
    let kong = Rc::new(FakeHost::default().with_property("ngx.nginx_version", "1.27.4").with_property("kong.version", "3.9.0"));
    access("kong.service.request.set_scheme('https')", &kong);
    assert_eq!(kong.properties.borrow().get("kong.service.request.scheme"), Some(&b"https".to_vec()));
}

#[test]
fn request_headers_set_add_clear() {
    let host = Rc::new(FakeHost::with_request(&[("x-old", "1"), ("x-gone", "1")]));
    access(
        "kong.service.request.set_header('X-Old', '2')\nkong.service.request.add_header('X-Old', {'3', '4'})\nkong.service.request.set_headers({ ['X-Empty'] = '', Host = 'example.test' })\nkong.service.request.clear_header('X-Gone')",
        &host,
    );
    let values: Vec<Vec<u8>> = host.request_headers().into_iter().filter(|(n, _)| n == "x-old").map(|(_, v)| v).collect();
    assert_eq!(values, [b"2".to_vec(), b"3".to_vec(), b"4".to_vec()]);
    assert_eq!(host.request_header("x-empty"), Some(b" ".to_vec()));
    assert_eq!(host.request_header(":authority"), Some(b"example.test".to_vec()));
    assert_eq!(host.request_header("x-gone"), None);
    let host = Rc::new(FakeHost::default());
    access("local ok, err = kong.service.request.set_header(':authority', 'x')\nkong.log.info(tostring(ok), ' ', err)", &host);
    assert_eq!(host.messages(), ["[pre-function] nil cannot set :authority pseudo-header on non-grpc requests"]);
    assert!(error_of(Phase::Access, "kong.service.request.set_headers(1)", FakeHost::default()).ends_with("headers must be a table"));
}

#[test]
fn raw_body_and_buffering_land_in_the_request_state() {
    let host = Rc::new(FakeHost::default());
    let request = access("kong.service.request.set_raw_body('hello')\nkong.service.request.enable_buffering()", &host);
    assert_eq!(request.request_body.as_deref(), Some(&b"hello"[..]));
    assert!(request.request_body_changed && request.buffer_response);
    assert!(error_of(Phase::Access, "kong.service.request.set_raw_body({})", FakeHost::default()).ends_with("body must be a string"));
    assert!(error_of(Phase::Log, "kong.service.request.enable_buffering()", FakeHost::default()).contains("cannot be called in log phase"));
}

#[test]
fn set_body_encodes_by_content_type() {
    let host = Rc::new(FakeHost::with_request(&[("content-type", "application/json")]));
    let request = access("assert(kong.service.request.set_body({ name = 'x', list = { 1, 2 } }) == true)", &host);
    let body: serde_json::Value = serde_json::from_slice(request.request_body.as_deref().unwrap()).unwrap();
    assert_eq!(body, serde_json::json!({ "name": "x", "list": [1, 2] }));

    let host = Rc::new(FakeHost::default());
    let request = access("kong.service.request.set_body({ b = 2, a = 'x y' }, 'application/x-www-form-urlencoded')", &host);
    assert_eq!(request.request_body.as_deref(), Some(&b"a=x%20y&b=2"[..]));
    assert_eq!(host.request_header("content-type"), Some(b"application/x-www-form-urlencoded".to_vec()));

    let host = Rc::new(FakeHost::default());
    let request = access("kong.service.request.set_body({ b = true, a = 'one' }, 'multipart/form-data; boundary=XYZ')", &host);
    assert_eq!(
        String::from_utf8(request.request_body.unwrap()).unwrap(),
        "--XYZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\none\r\n--XYZ\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\ntrue\r\n--XYZ--\r\n"
    );
    assert_eq!(host.request_header("content-type"), Some(b"multipart/form-data; boundary=XYZ".to_vec()));

    let host = Rc::new(FakeHost::default());
    access("local ok, err = kong.service.request.set_body({})\nkong.log.info(tostring(ok), ' ', err)", &host);
    assert_eq!(host.messages(), ["[pre-function] nil content type was neither explicitly given as an argument or received as a header"]);
    assert!(error_of(Phase::Access, "kong.service.request.set_body({}, 'text/csv')", FakeHost::default()).ends_with("unsupported content type text/csv"));
}

#[test]
fn multipart_boundary_is_made_when_missing() {
    let host = Rc::new(FakeHost::default());
    host.now.set(123_456_789);
    let request = access("kong.service.request.set_body({ a = '1' }, 'multipart/form-data')", &host);
    let content_type = String::from_utf8(host.request_header("content-type").unwrap()).unwrap();
    let boundary = content_type.strip_prefix("multipart/form-data; boundary=").unwrap();
    assert!(!boundary.is_empty() && boundary.bytes().all(|b| b.is_ascii_digit()), "{boundary}");
    let body = String::from_utf8(request.request_body.unwrap()).unwrap();
    assert!(body.starts_with(&format!("--{boundary}\r\n")) && body.ends_with(&format!("--{boundary}--\r\n")));
}

#[test]
fn targets_and_upstreams_go_through_kong_properties() {
    let kong = Rc::new(FakeHost::default().with_property("ngx.nginx_version", "1.27.4").with_property("kong.version", "3.9.0"));
    access("kong.service.set_target('10.0.0.2', 8080)\nkong.log.info(kong.service.set_upstream('backend'))", &kong);
    assert_eq!(kong.properties.borrow().get("kong.service.target"), Some(&b"10.0.0.2:8080".to_vec()));
    assert_eq!(kong.properties.borrow().get("kong.service.upstream"), Some(&b"backend".to_vec()));
    assert_eq!(kong.messages(), ["[pre-function] true"]);

    let envoy = || FakeHost::default().with_property("plugin_vm_id", "vm");
    assert!(error_of(Phase::Access, "kong.service.set_target('a', 80)", envoy()).ends_with("kong.service.set_target is not supported by this host (envoy)"));
    assert!(error_of(Phase::Access, "kong.service.set_upstream('a')", envoy()).ends_with("kong.service.set_upstream is not supported by this host (envoy)"));
    assert!(error_of(Phase::Access, "kong.service.set_target('a', 70000)", envoy()).ends_with("port must be an integer between 0 and 65535: given 70000"));
    assert!(error_of(Phase::Access, "kong.service.set_target('a', 1.5)", envoy()).ends_with("port must be an integer"));
    assert!(error_of(Phase::Access, "kong.service.set_target(1, 80)", envoy()).ends_with("host must be a string"));
    assert!(error_of(Phase::Access, "kong.service.set_retries(-1)", envoy()).ends_with("retries must be an integer between 0 and 32767: given -1"));
    assert!(error_of(Phase::Access, "kong.service.set_retries(3)", envoy()).ends_with("kong.service.set_retries is not supported by this host (envoy)"));
    assert!(error_of(Phase::Access, "kong.service.set_timeouts(1, 2, 0)", envoy()).ends_with("read_timeout must be an integer between 1 and 2147483646: given 0"));
    assert!(error_of(Phase::Rewrite, "kong.service.set_upstream('a')", envoy()).ends_with("function cannot be called in rewrite phase (only in: access)"));
}

#[test]
fn service_response_reads_the_upstream_response() {
    let host = Rc::new(FakeHost::default());
    host.set_response_header(":status", Some(b"201"));
    host.set_response_header("content-type", Some(b"application/json"));
    host.set_response_header("x-up", Some(b"1"));
    let mut request = RequestState { buffer_response: true, response_body: Some(br#"{"a":[1,2],"b":"x"}"#.to_vec()), ..RequestState::default() };
    let source = "local r = kong.service.response\nlocal body, err, mime = r.get_body()\nkong.log.info(r.get_status(), ' ', r.get_header('X_Up'), ' ', r.get_headers()['content-type'], ' ', body.a[2], body.b, ' ', mime, ' ', #r.get_raw_body())";
    let outcome = run(Phase::HeaderFilter, source, &host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Continue, "{:?}", host.messages());
    assert_eq!(host.messages(), ["[pre-function] 201 1 application/json 2x application/json 19"]);
}

#[test]
fn service_response_body_needs_buffering_and_decodes_forms_and_multipart() {
    let host = FakeHost::default();
    assert!(error_of(Phase::Log, "kong.service.response.get_raw_body()", host).ends_with(
        "service body is only available with buffered proxying (see: kong.service.request.enable_buffering function)"
    ));
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState { buffer_response: true, response_body: Some(b"a=1&b=x+y&a=2&flag".to_vec()), ..RequestState::default() };
    run(Phase::Log, "local t = kong.service.response.get_body('application/x-www-form-urlencoded')\nkong.log.info(t.a[1], t.a[2], ' ', t.b, ' ', tostring(t.flag))", &host, &mut request);
    request.response_body = Some(b"--B\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nvalue\r\n--B--\r\n".to_vec());
    run(Phase::Log, "local t = kong.service.response.get_body('multipart/form-data; boundary=B')\nkong.log.info(t.f)", &host, &mut request);
    run(Phase::Log, "local t, err, mime = kong.service.response.get_body('text/csv')\nkong.log.info(tostring(t), ' ', err, ' ', mime)", &host, &mut request);
    request.response_body = Some(b"[1".to_vec());
    run(Phase::Log, "local t, err = kong.service.response.get_body('application/json')\nkong.log.info(err)", &host, &mut request);
    assert_eq!(
        host.messages(),
        [
            "[pre-function] 12 x y true",
            "[pre-function] value",
            "[pre-function] nil unsupported content type 'text/csv' text/csv",
            "[pre-function] invalid json body",
        ]
    );
}

#[test]
fn service_response_is_empty_when_the_filter_answered() {
    let host = Rc::new(FakeHost::default());
    host.set_response_header(":status", Some(b"403"));
    let mut request = RequestState { exit: Some(crate::runtime::LocalResponse { status: 403, ..Default::default() }), ..RequestState::default() };
    run(Phase::Log, "kong.log.info(tostring(kong.service.response.get_status()), ' ', tostring(next(kong.service.response.get_headers())))", &host, &mut request);
    assert_eq!(host.messages(), ["[pre-function] nil nil"]);
}
