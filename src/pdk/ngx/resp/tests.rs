use std::rc::Rc;

use super::*;
use crate::config::{PluginConfig, Role};
use crate::host::Host;
use crate::pdk::testing::FakeHost;
use crate::runtime::{PhaseOutcome, Runtime};
use crate::sandbox::Mode;
use crate::vm_config::VmConfig;

fn runtime_with(mode: Mode, phase: Phase, sources: &[&str], host: &Rc<FakeHost>) -> Runtime {
    let config = serde_json::json!({ phase.name(): sources }).to_string();
    let config = PluginConfig::parse(config.as_bytes()).unwrap();
    let vm = VmConfig { untrusted_lua: mode, ..VmConfig::default() };
    Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), &vm).unwrap()
}

fn run_chunks(phase: Phase, sources: &[&str], host: &Rc<FakeHost>, request: &mut RequestState) -> PhaseOutcome {
    runtime_with(Mode::Sandbox, phase, sources, host).run_phase(phase, request)
}

fn run(phase: Phase, source: &str, host: &Rc<FakeHost>, request: &mut RequestState) -> PhaseOutcome {
    run_chunks(phase, &[source], host, request)
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

// Kong's serverless access spec, in our words: each case is one route's chunks.

#[test]
fn spec_status_then_exit_with_it_sends_kongs_error_page() {
    // ngx.status = 503; ngx.exit(ngx.status) -> 503 from Kong's error handler.
    let host = Rc::new(FakeHost::with_request(&[("accept", "application/json")]));
    let mut request = RequestState::default();
    let outcome = run(Phase::Access, "ngx.status = 503\nngx.exit(ngx.status)", &host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Exited);
    let exit = request.exit.unwrap();
    assert_eq!(exit.status, 503);
    assert!(text(&exit.body).contains("\"message\":\"The upstream server is currently unavailable\""));
}

#[test]
fn spec_status_say_exit_sends_the_output() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    run(Phase::Access, "ngx.status = 404\nngx.say('Not Found')\nngx.exit(ngx.status)", &host, &mut request);
    let exit = request.exit.unwrap();
    assert_eq!((exit.status, text(&exit.body)), (404, "Not Found\n"));
    assert_eq!(exit.header("content-length"), Some(&b"10"[..]));
    assert_eq!(exit.header("content-type"), None);
}

#[test]
fn spec_status_in_one_chunk_exit_in_the_next() {
    // Cascading functions: `ngx.status = 400` then `ngx.exit(ngx.status)` -> "Bad request".
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    let outcome = run_chunks(Phase::Access, &["ngx.status = 400", "ngx.exit(ngx.status)"], &host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Exited);
    let exit = request.exit.unwrap();
    assert_eq!(exit.status, 400);
    assert_eq!(text(&exit.body), "Bad request\nrequest_id: \n");
}

#[test]
fn spec_upvalue_counter_says_and_exits_200() {
    let source = "local count = 0\nreturn function()\n count = count + 1\n ngx.status = 200\n ngx.say(count)\n ngx.exit(ngx.status)\nend";
    let host = Rc::new(FakeHost::default());
    let mut rt = runtime_with(Mode::Sandbox, Phase::Access, &[source], &host);
    for expected in ["1\n", "2\n", "3\n"] {
        let mut request = RequestState::default();
        assert_eq!(rt.run_phase(Phase::Access, &mut request), PhaseOutcome::Exited);
        let exit = request.exit.unwrap();
        assert_eq!((exit.status, text(&exit.body)), (200, expected));
    }
}

#[test]
fn spec_kong_response_exit_with_a_message_table() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    run(Phase::Access, "return kong.response.exit(400, { message = 'Bad input' })", &host, &mut request);
    let exit = request.exit.unwrap();
    assert_eq!((exit.status, text(&exit.body)), (400, r#"{"message":"Bad input"}"#));
}

#[test]
fn exit_ok_ends_only_the_chunk() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    let outcome = run_chunks(Phase::Access, &["ngx.exit(ngx.OK)\nkong.log.info('skipped')", "kong.log.info('next chunk')"], &host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Continue);
    assert!(request.exit.is_none());
    assert_eq!(host.messages(), ["[pre-function] next chunk"]);
}

#[test]
fn exit_codes_map_to_responses() {
    for (source, status, snippet) in [
        ("ngx.exit(401)", 401, "<h1>401 Authorization Required</h1>"),
        ("ngx.exit(ngx.HTTP_NOT_FOUND)", 404, "Not found"),
        ("ngx.exit(ngx.ERROR)", 500, "An unexpected error occurred"),
        ("ngx.exit(204)", 204, ""),
        ("ngx.exit(1000)", 500, "An unexpected error occurred"),
    ] {
        let host = Rc::new(FakeHost::default());
        let mut request = RequestState::default();
        assert_eq!(run(Phase::Access, source, &host, &mut request), PhaseOutcome::Exited, "{source}");
        let exit = request.exit.unwrap();
        assert_eq!(exit.status, status, "{source}");
        assert!(text(&exit.body).contains(snippet), "{source}: {}", text(&exit.body));
    }
}

#[test]
fn exit_in_header_filter_replaces_the_response_and_is_refused_later() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    assert_eq!(run(Phase::HeaderFilter, "ngx.exit(403)", &host, &mut request), PhaseOutcome::Exited);
    assert_eq!(request.exit.unwrap().status, 403);
    for (phase, context) in [(Phase::BodyFilter, "body_filter_by_lua*"), (Phase::Log, "log_by_lua*")] {
        let host = Rc::new(FakeHost::default());
        assert_eq!(run(phase, "ngx.exit(200)", &host, &mut RequestState::default()), PhaseOutcome::Failed);
        assert!(host.messages()[0].ends_with(&format!(":1: API disabled in the context of {context}")), "{:?}", host.messages());
    }
    let host = Rc::new(FakeHost::default());
    run(Phase::Access, "ngx.exit('x')", &host, &mut RequestState::default());
    assert!(host.messages()[0].ends_with("bad argument #1 to 'exit' (number expected, got string)"));
}

#[test]
fn say_and_print_render_values_and_arrays() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    let outcome = run(Phase::Access, "ngx.print('a', 1, 2.5, true, nil, {'x', {'y', 3}})\nlocal ok = ngx.say()\nngx.print(ok)", &host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Continue, "{:?}", host.messages());
    assert_eq!(text(&request.output), "a12.5truenilxy3\n1");
    let response = take_output_response(&mut request).unwrap();
    assert_eq!((response.status, text(&response.body)), (200, "a12.5truenilxy3\n1"));
    assert!(request.output.is_empty());
    assert!(take_output_response(&mut request).is_none());

    let host = Rc::new(FakeHost::default());
    run(Phase::Access, "ngx.say({a = 1})", &host, &mut RequestState::default());
    assert!(host.messages()[0].ends_with("bad argument #1 to 'say' (non-array table found)"));
    let host = Rc::new(FakeHost::default());
    run(Phase::HeaderFilter, "ngx.print('x')", &host, &mut RequestState::default());
    assert!(host.messages()[0].ends_with("API disabled in the context of header_filter_by_lua*"));
}

#[test]
fn output_response_carries_status_and_pending_headers() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    run(Phase::Access, "ngx.status = 201\nngx.header['X-Made'] = 'here'\nngx.say('done')", &host, &mut request);
    assert!(request.exit.is_none());
    let response = take_output_response(&mut request).unwrap();
    assert_eq!(response.status, 201);
    assert_eq!(response.header("x-made"), Some(&b"here"[..]));
}

#[test]
fn status_reads_and_writes_by_phase() {
    let host = Rc::new(FakeHost::default());
    host.set_response_header(":status", Some(b"200"));
    let mut request = RequestState::default();
    run(Phase::Access, "kong.log.info(ngx.status)\nngx.status = ngx.HTTP_CREATED\nkong.log.info(ngx.status)", &host, &mut request);
    run(Phase::HeaderFilter, "kong.log.info(ngx.status)\nngx.status = 202\nkong.log.info(ngx.status)", &host, &mut request);
    run(Phase::Log, "ngx.status = 500\nkong.log.info(ngx.status, ' ', tostring(ngx.headers_sent))", &host, &mut request);
    assert_eq!(
        host.messages(),
        [
            "[pre-function] 0",
            "[pre-function] 201",
            "[pre-function] 200",
            "[pre-function] 202",
            "[pre-function] attempt to set ngx.status after sending out response headers",
            "[pre-function] 202 true",
        ]
    );
    assert_eq!(host.response_header(":status"), Some(b"202".to_vec()));
    let host = Rc::new(FakeHost::default());
    run(Phase::Access, "ngx.status = 'abc'", &host, &mut RequestState::default());
    assert!(host.messages()[0].ends_with("bad argument to set ngx.status (number expected, got string)"));
}

#[test]
fn ngx_ctx_is_per_request_and_assignable() {
    let host = Rc::new(FakeHost::default());
    let config = serde_json::json!({
        "access": ["ngx.ctx.a = (ngx.ctx.a or 0) + 1\nif kong.request.get_header('x-replace') then ngx.ctx = { a = 10 } end"],
        "log": ["kong.log.info(ngx.ctx.a)"],
    })
    .to_string();
    let mut rt = Runtime::new(&PluginConfig::parse(config.as_bytes()).unwrap(), Role::PreFunction, host.clone()).unwrap();
    for _ in 0..2 {
        let mut request = RequestState::default();
        rt.run_phase(Phase::Access, &mut request);
        rt.run_phase(Phase::Log, &mut request);
    }
    host.set_request_header("x-replace", Some(b"1"));
    let mut request = RequestState::default();
    rt.run_phase(Phase::Access, &mut request);
    rt.run_phase(Phase::Log, &mut request);
    assert_eq!(host.messages(), ["[pre-function] 1", "[pre-function] 1", "[pre-function] 10"]);
    let host = Rc::new(FakeHost::default());
    run(Phase::Access, "ngx.ctx = 1", &host, &mut RequestState::default());
    assert!(host.messages()[0].ends_with("ctx should be a table while setting ngx.ctx"));
}

#[test]
fn ngx_header_reads_and_writes_response_headers() {
    let host = Rc::new(FakeHost::default());
    host.set_response_header("x-up", Some(b"1"));
    host.add_response_header("x-up", b"2");
    let mut request = RequestState::default();
    let source = "kong.log.info(ngx.header['X-Up'][2], ' ', tostring(ngx.header.missing))\nngx.header.x_new = 5\nngx.header['X-List'] = {'a', 'b'}\nngx.header['x-up'] = nil\nlocal h, err = ngx.resp.get_headers()\nkong.log.info(h.x_new, ' ', h['X-List'][2], ' ', tostring(h.x_up), ' ', tostring(err))";
    let outcome = run(Phase::HeaderFilter, source, &host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Continue, "{:?}", host.messages());
    assert_eq!(host.messages(), ["[pre-function] 2 nil", "[pre-function] 5 b nil nil"]);
    run(Phase::BodyFilter, "ngx.header.late = 'x'", &host, &mut request);
    assert_eq!(host.response_header("late"), None);
    assert!(host.messages()[2].ends_with("attempt to set ngx.header.HEADER after sending out response headers"));
    let host = Rc::new(FakeHost::default());
    for i in 0..3 {
        host.add_response_header(&format!("h{i}"), b"v");
    }
    let source = "local h, err = ngx.resp.get_headers(2)\nkong.log.info(tostring(h.h1), ' ', tostring(h.h2), ' ', err)";
    run(Phase::Log, source, &host, &mut RequestState::default());
    let h = host.messages()[0].clone();
    assert_eq!(h, "[pre-function] v nil truncated");
}

#[test]
fn constants_match_lua_nginx_module() {
    let host = Rc::new(FakeHost::default());
    run(Phase::Access, "kong.log.info(ngx.HTTP_OK, ngx.HTTP_NOT_FOUND, ngx.HTTP_GET, ngx.HTTP_POST, ngx.OK, ngx.ERROR, ngx.DECLINED, ngx.HTTP_INTERNAL_SERVER_ERROR)", &host, &mut RequestState::default());
    assert_eq!(host.messages(), ["[pre-function] 200404280-1-5500"]);
}

#[test]
fn ngx_status_and_ctx_work_in_every_sandbox_mode() {
    for mode in [Mode::Sandbox, Mode::Lax, Mode::On, Mode::Strict] {
        let host = Rc::new(FakeHost::default());
        let mut rt = runtime_with(mode, Phase::Access, &["ngx.ctx.x = 'kept'\nngx.status = 418\nngx.say(ngx.status, ' ', ngx.ctx.x)\nngx.exit(ngx.HTTP_OK)"], &host);
        let mut request = RequestState::default();
        let outcome = rt.run_phase(Phase::Access, &mut request);
        assert_eq!(outcome, PhaseOutcome::Exited, "{mode:?}: {:?}", host.messages());
        let exit = request.exit.unwrap();
        assert_eq!((exit.status, text(&exit.body)), (418, "418 kept\n"), "{mode:?}");
    }
}
