//! A request suspended on outbound calls, on the fake host: what is dispatched, how the
//! answer resumes the chunk, and what the request does after. Expected results: the
//! proxy-wasm ABI (`proxy_http_call` headers `:method`, `:path`, `:authority`;
//! `Pause` then `proxy_continue_stream`), lua-resty-http 0.17.2 (`request_uri` results).

use std::cell::RefCell;
use std::rc::Rc;

use super::super::{Flow, Stream};
use crate::config::PluginConfig;
use crate::pdk::testing::FakeHost;
use crate::runtime::Runtime;
use crate::vm_config::VmConfig;

fn setup(config: serde_json::Value) -> (Rc<FakeHost>, Stream, Rc<RefCell<Runtime>>) {
    let host = Rc::new(FakeHost::with_request(&[(":method", "GET"), (":path", "/"), (":authority", "gw")]).with_property("plugin_vm_id", "vm"));
    let config = PluginConfig::parse(config.to_string().as_bytes()).unwrap();
    let vm = VmConfig::parse(br#"{"untrusted_lua": "on"}"#).unwrap();
    let runtime = Rc::new(RefCell::new(Runtime::configure(&config, Some(crate::config::Role::PreFunction), host.clone(), &vm).unwrap()));
    let stream = Stream::new(Some(runtime.clone()), host.clone());
    (host, stream, runtime)
}

fn answer(host: &FakeHost, status: &str, headers: &[(&str, &str)], body: &str) -> usize {
    let mut pairs = vec![(":status".to_string(), status.as_bytes().to_vec())];
    pairs.extend(headers.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())));
    *host.call_response.borrow_mut() = (pairs, body.as_bytes().to_vec());
    body.len()
}

fn header(host: &FakeHost, name: &str) -> Option<String> {
    host.request.borrow().iter().find(|(n, _)| n == name).map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

#[test]
fn a_call_pauses_the_request_and_its_answer_resumes_the_chunk() {
    let chunk = r#"
        local res, err = require("resty.http").new():request_uri("http://auth.internal:8080/check?x=1", {
            method = "POST", body = "token=abc", headers = { ["X-Api"] = "k" } })
        kong.service.request.set_header("x-result", res.status .. " " .. res.headers["X-Answer"] .. " " .. res.body)"#;
    let (host, mut stream, _runtime) = setup(serde_json::json!({ "access": [chunk] }));
    assert_eq!(stream.on_request_headers(true), Flow::Pause);
    {
        let calls = host.calls.borrow();
        assert_eq!(calls.len(), 1);
        let (upstream, headers, body, timeout) = &calls[0];
        assert_eq!(upstream, "auth.internal:8080");
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| String::from_utf8_lossy(v).into_owned());
        assert_eq!(get(":method").as_deref(), Some("POST"));
        assert_eq!(get(":path").as_deref(), Some("/check?x=1"));
        assert_eq!(get(":authority").as_deref(), Some("auth.internal:8080"));
        assert_eq!(get("x-api").as_deref(), Some("k"));
        assert_eq!(body, b"token=abc");
        // The default per-call timeout (VM configuration `limits.call_timeout_ms`).
        assert_eq!(*timeout, 10_000);
    }
    assert_eq!(header(&host, "x-result"), None, "nothing after the call ran yet");
    let size = answer(&host, "200", &[("x-answer", "yes")], "ok");
    stream.on_http_call_response(1, size);
    assert_eq!(header(&host, "x-result").as_deref(), Some("200 yes ok"));
    assert_eq!(host.resumed.get(), 1, "proxy_continue_stream once the phases are done");
}

#[test]
fn another_request_runs_while_one_waits() {
    let chunk = r#"
        if kong.request.get_header("x-call") then
            local res = require("resty.http").new():request_uri("http://127.0.0.1:9/")
            kong.service.request.set_header("x-status", res.status)
        else
            kong.service.request.set_header("x-plain", "1")
        end"#;
    let (host, mut waiting, runtime) = setup(serde_json::json!({ "access": [chunk] }));
    host.request.borrow_mut().push(("x-call".into(), b"1".to_vec()));
    assert_eq!(waiting.on_request_headers(true), Flow::Pause);
    host.request.borrow_mut().retain(|(n, _)| n != "x-call");
    let mut other = Stream::new(Some(runtime.clone()), host.clone());
    assert_eq!(other.on_request_headers(true), Flow::Continue);
    assert_eq!(header(&host, "x-plain").as_deref(), Some("1"));
    let size = answer(&host, "204", &[], "");
    waiting.on_http_call_response(1, size);
    assert_eq!(header(&host, "x-status").as_deref(), Some("204"));
}

#[test]
fn an_exit_after_a_call_sends_the_local_response() {
    let chunk = r#"
        local res = require("resty.http").new():request_uri("http://127.0.0.1:9/")
        if res.status ~= 200 then return kong.response.exit(403, { message = "denied" }) end"#;
    let (host, mut stream, _runtime) = setup(serde_json::json!({ "access": [chunk] }));
    assert_eq!(stream.on_request_headers(true), Flow::Pause);
    let size = answer(&host, "401", &[], "");
    stream.on_http_call_response(1, size);
    let sent = host.sent.borrow();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, 403);
    assert_eq!(host.resumed.get(), 0, "a local response, not a resumed request");
}

#[test]
fn first_run_handler_and_pcall_survive_a_suspension() {
    // Kong's first-run rule: the function the chunk returns is called at once; a call
    // inside pcall yields through it.
    let chunk = r#"
        return function()
            local ok, res = pcall(function()
                return require("resty.http").new():request_uri("http://127.0.0.1:9/")
            end)
            kong.service.request.set_header("x-pcall", tostring(ok) .. " " .. res.status)
        end"#;
    let (host, mut stream, _runtime) = setup(serde_json::json!({ "access": [chunk] }));
    for round in 1..=2u32 {
        assert_eq!(stream.on_request_headers(true), Flow::Pause, "round {round}");
        let size = answer(&host, "202", &[], "");
        stream.on_http_call_response(round, size);
        assert_eq!(header(&host, "x-pcall").as_deref(), Some("true 202"), "round {round}");
        host.request.borrow_mut().retain(|(n, _)| n != "x-pcall");
        stream = Stream::new(Some(_runtime.clone()), host.clone());
    }
}

#[test]
fn a_failure_answer_is_nil_and_the_error() {
    let chunk = r#"
        local res, err = require("resty.http").new():request_uri("http://127.0.0.1:9/")
        kong.service.request.set_header("x-err", tostring(res) .. " " .. err)"#;
    let (host, mut stream, _runtime) = setup(serde_json::json!({ "access": [chunk] }));
    assert_eq!(stream.on_request_headers(true), Flow::Pause);
    *host.call_response.borrow_mut() = (vec![(":dispatch_status".into(), b"timeout".to_vec())], Vec::new());
    stream.on_http_call_response(1, 0);
    assert_eq!(header(&host, "x-err").as_deref(), Some("nil timeout"));
}

#[test]
fn an_answer_nobody_waits_on_is_ignored() {
    let (host, mut stream, _runtime) = setup(serde_json::json!({ "access": ["kong.service.request.set_header('x-ran', '1')"] }));
    assert_eq!(stream.on_request_headers(true), Flow::Continue);
    stream.on_http_call_response(7, 0);
    assert_eq!(host.resumed.get(), 0);
}
