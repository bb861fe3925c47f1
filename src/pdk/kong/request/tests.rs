//! Tests of `kong.request`; `run_in` and `lines` serve `ngx.req`'s tests too.

use super::*;

#[test]
fn header_names_normalize() {
    assert_eq!(normalize_header_name(b"X_Custom_Auth"), "x-custom-auth");
}

use std::rc::Rc;

use crate::config::{PluginConfig, Role};
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};

/// Runs `source` in `phase` against `host` with `request`; returns the outcome, the
/// log messages (prefix removed) and the request state after the phase.
pub(crate) fn run_in(phase: Phase, source: &str, host: &Rc<FakeHost>, request: RequestState) -> (PhaseOutcome, Vec<String>, RequestState) {
    let config = serde_json::json!({ phase.name(): [source] }).to_string();
    let config = PluginConfig::parse(config.as_bytes()).unwrap();
    let mut rt = Runtime::new(&config, Role::PreFunction, host.clone()).unwrap();
    let mut request = request;
    let outcome = rt.run_phase(phase, &mut request);
    let messages = host.messages().into_iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect();
    (outcome, messages, request)
}

/// [`run_in`] in `access` with no body; the messages only.
pub(crate) fn lines(headers: &[(&str, &str)], source: &str) -> Vec<String> {
    let host = Rc::new(FakeHost::with_request(headers));
    run_in(Phase::Access, source, &host, RequestState::default()).1
}

fn with_body(headers: &[(&str, &str)], body: Option<&str>, source: &str) -> Vec<String> {
    let host = Rc::new(FakeHost::with_request(headers));
    let request = RequestState { request_body: body.map(|b| b.as_bytes().to_vec()), ..RequestState::default() };
    run_in(Phase::Access, source, &host, request).1
}

fn last_error(messages: &[String]) -> String {
    messages.last().cloned().unwrap_or_default()
}

const REQ: &[(&str, &str)] = &[
    (":method", "POST"),
    (":path", "/t/Abc%20123%C3%B8%2f/parent/..//test/./?foo=hello%20world&bar=baz&zzz&blo=&bar=bla&bar"),
    (":authority", "Example.COM:8443"),
    (":scheme", "https"),
    ("x-custom-header", "bla"),
    ("x-another", "foo bar"),
    ("x-another", "baz"),
];

#[test]
fn url_parts_as_kong_documents_them() {
    let out = lines(REQ, r#"
        kong.log.info(kong.request.get_scheme(), " ", kong.request.get_host(), " ", kong.request.get_port())
        kong.log.info(kong.request.get_forwarded_scheme(), " ", kong.request.get_forwarded_host(), " ", kong.request.get_forwarded_port())
        kong.log.info(kong.request.get_raw_path())
        kong.log.info(kong.request.get_path(), " ", kong.request.get_forwarded_path())
        kong.log.info(kong.request.get_path_with_query())
        kong.log.info(kong.request.get_raw_query())
        kong.log.info(kong.request.get_method(), " ", tostring(kong.request.get_forwarded_prefix()))
    "#);
    assert_eq!(out, [
        "https example.com 8443",
        "https example.com 8443",
        "/t/Abc%20123%C3%B8%2f/parent/..//test/./",
        "/t/Abc 123ø%2F/test/ /t/Abc 123ø%2F/test/",
        "/t/Abc%20123%C3%B8%2f/parent/..//test/./?foo=hello%20world&bar=baz&zzz&blo=&bar=bla&bar",
        "foo=hello%20world&bar=baz&zzz&blo=&bar=bla&bar",
        "POST nil",
    ]);
}

#[test]
fn host_facts_come_from_properties() {
    let host = Rc::new(
        FakeHost::with_request(&[(":authority", "a.test"), ("x-forwarded-host", "evil.test")])
            .with_property("ngx.nginx_version", "1.27.4").with_property("kong.version", "3.9.0")
            .with_property("request.scheme", "HTTPS")
            .with_property("kong.request.port", "8000")
            .with_property("request.protocol", "HTTP/2")
            .with_property("kong.request.forwarded_host", "Front.Test")
            .with_property("kong.request.forwarded_port", "443")
            .with_property("ngx.upstream_x_forwarded_prefix", "/prefix"),
    );
    let (_, out, _) = run_in(Phase::Access, r#"
        kong.log.info(kong.request.get_scheme(), " ", kong.request.get_port(), " ", kong.request.get_http_version())
        kong.log.info(kong.request.get_forwarded_host(), " ", kong.request.get_forwarded_port(), " ", kong.request.get_forwarded_prefix())
    "#, &host, RequestState::default());
    assert_eq!(out, ["https 8000 2", "front.test 443 /prefix"]);

    // Elsewhere X-Forwarded-* is untrusted (Kong's default trusted_ips is empty).
    let out = lines(&[(":authority", "a.test:80"), ("x-forwarded-host", "evil.test"), ("x-forwarded-proto", "https")],
        "kong.log.info(kong.request.get_forwarded_host(), ' ', kong.request.get_forwarded_scheme(), ' ', kong.request.get_forwarded_port(), ' ', tostring(kong.request.get_http_version()))");
    assert_eq!(out, ["a.test http 80 nil"]);
}

#[test]
fn query_as_kong_documents_it() {
    let out = lines(REQ, r#"
        local q = kong.request.get_query()
        kong.log.info(q.foo, "|", q.bar[1], ",", q.bar[2], ",", tostring(q.bar[3]), "|", tostring(q.zzz), "|", q.blo, "|")
        kong.log.info(kong.request.get_query_arg("foo"), "|", kong.request.get_query_arg("bar"), "|", tostring(kong.request.get_query_arg("zzz")), "|", kong.request.get_query_arg("blo"), "|", tostring(kong.request.get_query_arg("nope")))
        local q2, err = kong.request.get_query(2)
        kong.log.info(q2.foo, " ", q2.bar, " ", tostring(q2.zzz), " ", err)
    "#);
    assert_eq!(out, [
        "hello world|baz,bla,true|true||",
        "hello world|baz|true||nil",
        "hello world baz nil truncated",
    ]);
}

#[test]
fn argument_errors_use_kongs_messages() {
    for (call, message) in [
        ("kong.request.get_query('x')", "max_args must be a number"),
        ("kong.request.get_query(0)", "max_args must be >= 1"),
        ("kong.request.get_query(1001)", "max_args must be <= 1000"),
        ("kong.request.get_query_arg(1)", "query argument name must be a string"),
        ("kong.request.get_header(nil)", "header name must be a string"),
        ("kong.request.get_headers(0)", "max_headers must be >= 1"),
        ("kong.request.get_headers(1001)", "max_headers must be <= 1000"),
        ("kong.request.get_headers({})", "max_headers must be a number"),
        ("kong.request.get_body('application/x-www-form-urlencoded', 'x')", "max_args must be a number"),
        ("kong.request.get_body('application/x-www-form-urlencoded', 1001)", "max_args must be <= 1000"),
    ] {
        let out = with_body(&[], Some(""), &format!("\n{call}"));
        assert_eq!(last_error(&out), format!("access[1]:2: {message}"), "{call}");
    }
}

#[test]
fn phase_errors_use_kongs_messages() {
    let host = Rc::new(FakeHost::with_request(&[]));
    let (outcome, out, _) = run_in(Phase::HeaderFilter, "kong.request.get_raw_body()", &host, RequestState::default());
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert_eq!(
        last_error(&out),
        "header_filter[1]:1: function cannot be called in header_filter phase (only in: rewrite, access, response, error, admin_api)"
    );
    let (_, out, _) = run_in(Phase::Log, "kong.request.get_body()", &host, RequestState::default());
    assert!(last_error(&out).contains("function cannot be called in log phase"), "{out:?}");
    // Request facts are readable in every phase with a request.
    let (outcome, _, _) = run_in(Phase::Log, "kong.request.get_query(); kong.request.get_uri_captures(); kong.request.get_start_time()", &host, RequestState::default());
    assert_eq!(outcome, PhaseOutcome::Continue);
}

#[test]
fn headers_ignore_case_and_dashes_and_include_host() {
    let out = lines(REQ, r#"
        local h, err = kong.request.get_headers()
        kong.log.info(h.host, " ", h.x_custom_header, " ", h["X-Another"][1], " ", h.x_another[2], " ", tostring(err))
        kong.log.info(kong.request.get_header("Host"), " ", kong.request.get_header("X_ANOTHER"), " ", tostring(h[":path"]))
        local one, err2 = kong.request.get_headers(1)
        kong.log.info(one.host, " ", tostring(one.x_custom_header), " ", err2)
    "#);
    assert_eq!(out, [
        "Example.COM:8443 bla foo bar baz nil",
        "Example.COM:8443 foo bar nil",
        "Example.COM:8443 nil truncated",
    ]);
}

#[test]
fn raw_body_and_parsed_bodies() {
    let src = r#"
        local raw, rerr = kong.request.get_raw_body()
        local body, err, mime = kong.request.get_body()
        kong.log.info(tostring(raw), " ", tostring(rerr), " ", tostring(err), " ", tostring(mime))
        if body then kong.log.info(kong.log.inspect and "" or "", body.a, "|", type(body.b) == "table" and (body.b[1] .. "," .. body.b[2]) or tostring(body.b)) end
    "#;
    let form = with_body(&[("content-type", "application/x-www-form-urlencoded; charset=utf-8")], Some("a=1+2&b=x&b=y"), src);
    assert_eq!(form, ["a=1+2&b=x&b=y nil nil application/x-www-form-urlencoded", "1 2|x,y"]);

    let json = with_body(&[("content-type", "application/json")], Some(r#"{"a":"A","b":[1,2.5]}"#), src);
    assert_eq!(json, [r#"{"a":"A","b":[1,2.5]} nil nil application/json"#, "A|1,2.5"]);

    let bad = with_body(&[("content-type", "application/json")], Some("42"), src);
    assert_eq!(bad, ["42 nil invalid json body application/json"]);

    let missing = with_body(&[], Some("x"), src);
    assert_eq!(missing, ["x nil missing content type nil"]);

    let other = with_body(&[("content-type", "Text/Plain; q=1")], Some("x"), src);
    assert_eq!(other, ["x nil unsupported content type 'Text/Plain; q=1' text/plain"]);

    let unbuffered = with_body(&[("content-type", "application/json")], None, src);
    assert_eq!(unbuffered, ["nil request body was not buffered request body was not buffered application/json"]);

    let empty = with_body(&[], Some(""), "kong.log.info('[', kong.request.get_raw_body(), ']')");
    assert_eq!(empty, ["[]"]);

    let forced = with_body(&[("content-type", "text/plain")], Some("a=1"), "local b, e, m = kong.request.get_body('application/x-www-form-urlencoded') kong.log.info(b.a, ' ', m)");
    assert_eq!(forced, ["1 application/x-www-form-urlencoded"]);
}

#[test]
fn multipart_bodies_as_lua_multipart() {
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nfirst\r\nline\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\nfile body\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nsecond\r\n--XyZ--\r\n";
    let parts = crate::codec::multipart::parse(body.as_bytes(), b"multipart/form-data; boundary=\"XyZ\"");
    let parts: Vec<(String, String)> = parts.into_iter().map(|(n, v)| (String::from_utf8(n).unwrap(), String::from_utf8(v).unwrap())).collect();
    assert_eq!(parts, [("a".into(), "first\r\nline".into()), ("f".into(), "file body".into()), ("a".into(), "second".into())]);
    assert!(crate::codec::multipart::parse(body.as_bytes(), b"multipart/form-data").is_empty());

    let out = with_body(&[("content-type", "multipart/form-data; boundary=XyZ")], Some(body), r#"
        local b, err, mime = kong.request.get_body()
        kong.log.info(b.a[1], "|", b.a[2], "|", b.f, "|", tostring(err), "|", mime)
    "#);
    assert_eq!(out, ["first\r\nline|second|file body|nil|multipart/form-data"]);
}

#[test]
fn body_over_the_limit_raises() {
    let big = "x".repeat(crate::vm_config::Limits::default().request_body_bytes + 1);
    let out = with_body(&[], Some(&big), "kong.request.get_raw_body()");
    assert!(last_error(&out).contains("request body too large"), "{out:?}");
}

#[test]
fn start_time_and_captures() {
    let host = Rc::new(FakeHost::default());
    host.now.set(1_700_000_000_123_456_789);
    let (_, out, _) = run_in(Phase::Access, "kong.log.info(kong.request.get_start_time())", &host, RequestState::default());
    assert_eq!(out, ["1700000000123"]);
    let request = RequestState { start_time_ms: 1_650_000_000_000, ..RequestState::default() };
    let host = Rc::new(FakeHost::default());
    let (_, out, _) = run_in(Phase::Log, r#"
        kong.log.info(kong.request.get_start_time())
        local c = kong.request.get_uri_captures()
        kong.log.info(type(c.unnamed), " ", type(c.named), " ", #c.unnamed, " ", tostring(next(c.named)))
    "#, &host, request);
    assert_eq!(out, ["1650000000000", "table table 0 nil"]);
}
