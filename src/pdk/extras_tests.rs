//! Tests of the smaller ngx/kong functions: ngx.redirect, ngx.eof, ngx.flush,
//! ngx.req.raw_header, ngx.req.init_body/append_body/finish_body, ngx.config,
//! kong.nginx.get_subsystem, kong.log.deprecation.

use std::rc::Rc;

use crate::config::{PluginConfig, Role};
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};

fn run(phase: Phase, source: &str, host: &Rc<FakeHost>, request: &mut RequestState) -> PhaseOutcome {
    let config = serde_json::json!({ phase.name(): [source] }).to_string();
    let mut rt = Runtime::new(&PluginConfig::parse(config.as_bytes()).unwrap(), Role::PreFunction, host.clone()).unwrap();
    rt.run_phase(phase, request)
}

#[test]
fn redirect_sends_a_location_and_skips_the_upstream() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    let outcome = run(Phase::Access, "ngx.redirect('/login?next=%2F', ngx.HTTP_MOVED_PERMANENTLY)\nkong.log.err('not reached')", &host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Exited);
    let exit = request.exit.unwrap();
    assert_eq!(exit.status, 301);
    assert_eq!(exit.header("location"), Some(&b"/login?next=%2F"[..]));
    assert!(host.messages().is_empty());

    let mut request = RequestState::default();
    assert_eq!(run(Phase::Access, "ngx.redirect('/x', 200)", &host, &mut request), PhaseOutcome::Failed);
    assert!(host.messages()[0].contains("only ngx.HTTP_MOVED_TEMPORARILY"), "{:?}", host.messages());
}

#[test]
fn eof_sends_the_printed_output_as_the_response() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    let outcome = run(Phase::Access, "ngx.status = 201\nngx.say('made')\nassert(ngx.flush() == 1)\nngx.eof()", &host, &mut request);
    assert_eq!(outcome, PhaseOutcome::Exited, "{:?}", host.messages());
    let exit = request.exit.unwrap();
    assert_eq!((exit.status, exit.body.as_slice()), (201, &b"made\n"[..]));
}

#[test]
fn raw_header_rebuilds_the_request_head() {
    let host = Rc::new(FakeHost::with_request(&[(":method", "POST"), (":path", "/a?b=1"), (":authority", "example.test"), ("x-one", "1")]));
    let mut request = RequestState::default();
    let source = "local h = ngx.req.raw_header()\nkong.log.info(h)\nkong.log.info(ngx.req.raw_header(true))";
    assert_eq!(run(Phase::Access, source, &host, &mut request), PhaseOutcome::Continue, "{:?}", host.messages());
    let logs = host.messages();
    assert!(logs[0].starts_with("[pre-function] POST /a?b=1 HTTP/1.1\r\nhost: example.test\r\nx-one: 1\r\n\r\n"), "{logs:?}");
    assert_eq!(logs[1], "[pre-function] host: example.test\r\nx-one: 1\r\n\r\n");
}

#[test]
fn init_append_finish_body_replace_the_buffered_body() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState { request_body: Some(b"old".to_vec()), ..RequestState::default() };
    let source = "ngx.req.read_body()\nngx.req.init_body()\nngx.req.append_body('new ')\nngx.req.append_body(42)\nngx.req.finish_body()";
    assert_eq!(run(Phase::Access, source, &host, &mut request), PhaseOutcome::Continue, "{:?}", host.messages());
    assert_eq!(request.request_body.as_deref(), Some(&b"new 42"[..]));
    assert!(request.request_body_changed);

    let mut unread = RequestState::default();
    assert_eq!(run(Phase::Access, "ngx.req.init_body()", &host, &mut unread), PhaseOutcome::Failed);
    assert!(host.messages().last().unwrap().contains("request body not read"));
}

#[test]
fn nginx_facts_and_deprecation_warnings() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    let source = "kong.log.info(kong.nginx.get_subsystem(), ' ', ngx.config.subsystem, ' ', ngx.config.nginx_version, ' ', ngx.get_raw_phase(), ' ', #ngx.worker.pids())\n\
                  kong.log.deprecation('old thing', { after = '2.8.0', removal = '4.0.0' })\n\
                  kong.log.deprecation.write('other thing')";
    assert_eq!(run(Phase::Access, source, &host, &mut request), PhaseOutcome::Continue, "{:?}", host.messages());
    let logs = host.logs.borrow();
    // Outside nginx: the nginx of the OpenResty Kong 3.10.0 ships (1.27.1.2, .requirements).
    assert_eq!(logs[0].1, "[pre-function] http http 1027001 access 1");
    assert_eq!(logs[1].1, "[pre-function] old thing (deprecated after 2.8.0, scheduled for removal in 4.0.0)");
    assert_eq!(logs[1].0, crate::host::LogLevel::Warn);
    assert_eq!(logs[2].1, "[pre-function] other thing");
}

#[test]
fn memory_stats_report_this_vms_heap_in_kongs_shape() {
    let host = Rc::new(FakeHost::default());
    let mut request = RequestState::default();
    // Kong's kong/pdk/node.lua: lua_shared_dicts[name] = { allocated_slabs, capacity };
    // `kong` is 5m in Kong's template; one entry set counts 64 + 1 + 8 bytes here.
    let source = "ngx.shared.kong:set('k', 1)\n\
                  local s = kong.node.get_memory_stats()\n\
                  local w = s.workers_lua_vms[1]\n\
                  kong.log.info(type(w.http_allocated_gc), ' ', w.pid, ' ', s.lua_shared_dicts.kong.capacity == 5 * 1024 * 1024, ' ', s.lua_shared_dicts.kong.allocated_slabs)\n\
                  kong.log.info(kong.node.get_memory_stats('m', 1).workers_lua_vms[1].http_allocated_gc)\n\
                  kong.node.get_memory_stats('x')";
    assert_eq!(run(Phase::Access, source, &host, &mut request), PhaseOutcome::Failed);
    let logs = host.messages();
    assert_eq!(logs[0], "[pre-function] number 0 true 73");
    assert!(logs[1].ends_with(" MiB") && logs[1].contains('.'), "{logs:?}");
    assert!(logs[2].contains("invalid unit 'x' (expected 'k/K', 'm/M', or 'g/G')"), "{logs:?}");
}
