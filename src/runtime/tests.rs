use std::rc::Rc;

use super::*;
use crate::pdk::testing::FakeHost;

fn runtime(config: &str, host: &Rc<FakeHost>) -> Runtime {
    let config = PluginConfig::parse(config.as_bytes()).unwrap();
    Runtime::new(&config, Role::PreFunction, host.clone()).unwrap()
}

fn config_of(phase: &str, chunks: &[&str]) -> String {
    serde_json::json!({ phase: chunks }).to_string()
}

#[test]
fn custom_auth_exits_without_header_and_clears_it_with() {
    let source = r#"
        local custom_auth = kong.request.get_header("x-custom-auth")
        if not custom_auth then
          return kong.response.exit(401, "Invalid Credentials")
        end
        kong.service.request.clear_header('x-custom-auth')
    "#;
    let config = config_of("access", &[source, "kong.log.err('Hi there Access!')"]);

    let host = Rc::new(FakeHost::with_request(&[(":path", "/test")]));
    let mut rt = runtime(&config, &host);
    let mut request = RequestState::default();
    assert_eq!(rt.run_phase(Phase::Access, &mut request), PhaseOutcome::Exited);
    let exit = request.exit.unwrap();
    assert_eq!(exit.status, 401);
    assert_eq!(exit.body, b"Invalid Credentials");
    assert_eq!(exit.header("content-length"), Some(&b"19"[..]));
    assert!(host.messages().is_empty(), "second chunk must not run: {:?}", host.messages());

    let host = Rc::new(FakeHost::with_request(&[(":path", "/test"), ("x-custom-auth", "demo")]));
    let mut rt = runtime(&config, &host);
    let mut request = RequestState::default();
    assert_eq!(rt.run_phase(Phase::Access, &mut request), PhaseOutcome::Continue);
    assert_eq!(host.request_header("x-custom-auth"), None);
    assert_eq!(host.messages(), ["[pre-function] Hi there Access!"]);
}

#[test]
fn returned_function_keeps_upvalues_across_requests() {
    let source = "local count = 0\nreturn function()\n count = count + 1\n kong.log.info('n=', count)\nend";
    let host = Rc::new(FakeHost::default());
    let mut rt = runtime(&config_of("access", &[source]), &host);
    for _ in 0..3 {
        rt.run_phase(Phase::Access, &mut RequestState::default());
    }
    assert_eq!(host.messages(), ["[pre-function] n=1", "[pre-function] n=2", "[pre-function] n=3"]);
}

#[test]
fn exit_during_first_run_makes_the_chunk_itself_run_every_time() {
    // Kong's rule: the first run counts even when it exits; the returned function is never seen.
    let source = "kong.log.info('chunk')\nif kong.request.get_header('x-stop') then return kong.response.exit(403) end\nreturn function() kong.log.info('handler') end";
    let host = Rc::new(FakeHost::with_request(&[("x-stop", "1")]));
    let mut rt = runtime(&config_of("access", &[source]), &host);
    assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Exited);
    host.set_request_header("x-stop", None);
    assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Continue);
    assert_eq!(host.messages(), ["[pre-function] chunk", "[pre-function] chunk"]);
}

#[test]
fn exit_inside_pcall_still_ends_the_chunk() {
    let source = "pcall(kong.response.exit, 418, {message = 'teapot'})\nkong.log.err('after')";
    let host = Rc::new(FakeHost::default());
    let mut rt = runtime(&config_of("access", &[source]), &host);
    let mut request = RequestState::default();
    assert_eq!(rt.run_phase(Phase::Access, &mut request), PhaseOutcome::Exited);
    let exit = request.exit.unwrap();
    assert_eq!(exit.body, br#"{"message":"teapot"}"#);
    assert_eq!(exit.header("content-type"), Some(&b"application/json; charset=utf-8"[..]));
    assert!(host.messages().is_empty());
}

#[test]
fn runtime_error_fails_the_request_and_logs_position() {
    let host = Rc::new(FakeHost::default());
    let mut rt = runtime(&config_of("access", &["local x = 1\nerror('boom')"]), &host);
    assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Failed);
    assert_eq!(host.messages(), ["[pre-function] access[1]:2: boom"]);
    // The VM keeps serving.
    assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Failed);
}

#[test]
fn pdk_errors_carry_kong_messages_and_the_callers_line() {
    let host = Rc::new(FakeHost::default());
    let mut rt = runtime(&config_of("body_filter", &["\nkong.response.exit(200)"]), &host);
    assert_eq!(rt.run_phase(Phase::BodyFilter, &mut RequestState::default()), PhaseOutcome::Failed);
    assert_eq!(
        host.messages(),
        ["[pre-function] body_filter[1]:2: function cannot be called in body_filter phase \
          (only in: rewrite, access, balancer, response, header_filter, error, admin_api)"]
    );
}

#[test]
fn syntax_errors_name_phase_index_and_line() {
    let config = PluginConfig::parse(br#"{"access":["return 1", "local x = \n\n = 2"]}"#).unwrap();
    let host = Rc::new(FakeHost::default());
    let Some(ConfigureError::Compile(err)) = Runtime::new(&config, Role::PreFunction, host).err() else {
        panic!("a compile error expected");
    };
    assert_eq!((err.phase, err.index, err.line), (Phase::Access, 2, 3));
    assert!(err.to_string().starts_with("access[2]:3: "), "{err}");
}

#[test]
fn chunks_have_separate_globals() {
    let host = Rc::new(FakeHost::default());
    let mut rt = runtime(&config_of("access", &["shared = 'one'", "kong.log.info(tostring(shared))"]), &host);
    rt.run_phase(Phase::Access, &mut RequestState::default());
    assert_eq!(host.messages(), ["[pre-function] nil"]);
}

#[test]
fn infinite_loops_hit_the_instruction_limit() {
    let host = Rc::new(FakeHost::default());
    let mut rt = runtime(&config_of("access", &["while true do end"]), &host);
    assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Failed);
    assert_eq!(host.messages(), ["[pre-function] access[1]: instruction limit exceeded"]);
}

#[test]
fn response_headers_set_in_access_reach_the_exit_response() {
    let source = "kong.response.set_header('X-Trace', 'abc')\nreturn kong.response.exit(200, 'ok', { ['X-Extra'] = 1 })";
    let host = Rc::new(FakeHost::default());
    let mut rt = runtime(&config_of("access", &[source]), &host);
    let mut request = RequestState::default();
    rt.run_phase(Phase::Access, &mut request);
    let exit = request.exit.unwrap();
    assert_eq!(exit.header("x-trace"), Some(&b"abc"[..]));
    assert_eq!(exit.header("x-extra"), Some(&b"1"[..]));
}

#[test]
fn headers_table_is_case_and_underscore_insensitive() {
    let source = "local h = kong.request.get_headers()\nkong.log.info(h.x_one, ' ', h['X-ONE'], ' ', h.multi[2], ' ', kong.request.get_method(), ' ', kong.request.get_path())";
    let host = Rc::new(FakeHost::with_request(&[
        (":method", "POST"),
        (":path", "/a/../b?q=1"),
        ("x-one", "1"),
        ("multi", "a"),
        ("multi", "b"),
    ]));
    let mut rt = runtime(&config_of("access", &[source]), &host);
    rt.run_phase(Phase::Access, &mut RequestState::default());
    assert_eq!(host.messages(), ["[pre-function] 1 1 b POST /b"]);
}

#[test]
fn ngx_log_concatenates_and_maps_levels() {
    let host = Rc::new(FakeHost::default());
    let mut rt = runtime(&config_of("log", &["ngx.log(ngx.ERR, 'hello world: ', 10/2, nil, true)"]), &host);
    rt.run_phase(Phase::Log, &mut RequestState::default());
    assert_eq!(host.logs.borrow()[0], (LogLevel::Error, "[pre-function] hello world: 5niltrue".to_string()));
}

#[test]
fn memory_bombs_hit_the_memory_limit_and_the_vm_recovers() {
    let bomb = "if kong.request.get_header('x-bomb') then\n  local t = {}\n  while true do t[#t + 1] = ('x'):upper() .. #t end\nend\nkong.log.info('ok')";
    let config = PluginConfig::parse(config_of("access", &[bomb]).as_bytes()).unwrap();
    let host = Rc::new(FakeHost::with_request(&[("x-bomb", "1")]));
    let limits = Limits { instructions: 1_000_000_000, memory_bytes: 4 * 1024 * 1024, ..Limits::default() };
    let vm = VmConfig { limits, ..VmConfig::default() };
    let mut rt = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), &vm).unwrap();
    assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Failed);
    assert_eq!(host.messages(), ["[pre-function] access[1]: memory limit exceeded"]);
    // The garbage is collected and the next request runs normally.
    host.set_request_header("x-bomb", None);
    assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Continue);
    assert_eq!(host.messages().last().map(String::as_str), Some("[pre-function] ok"));
    assert!(rt.lua.total_memory() < 4 * 1024 * 1024);
}

#[test]
fn typical_snippets_use_a_sliver_of_the_default_limits() {
    // The seed walkthrough's access chunk, with the credential present.
    let walkthrough = "local custom_auth = kong.request.get_header('x-custom-auth')\nif not custom_auth then\n  return kong.response.exit(401, 'Invalid Credentials')\nend\nkong.service.request.clear_header('x-custom-auth')";
    let host = Rc::new(FakeHost::with_request(&[("x-custom-auth", "demo")]));
    let mut rt = runtime(&config_of("access", &[walkthrough]), &host);
    rt.run_phase(Phase::Access, &mut RequestState::default());
    let used = rt.last_instructions();
    let limits = Limits::default();
    println!("walkthrough: {used} instructions, heap {} bytes", rt.heap_bytes());
    assert!(used > 0 && used * 10_000 < limits.instructions, "{used} instructions");
    assert!(rt.heap_bytes() * 100 < limits.memory_bytes, "{} bytes", rt.heap_bytes());
}

#[test]
fn long_log_lines_are_cut_with_a_marker() {
    let host = Rc::new(FakeHost::default());
    let source = "local s = 'x'\nfor _ = 1, 13 do s = s .. s end\nkong.log.err(s)\nprint('short')";
    let mut rt = runtime(&config_of("access", &[source]), &host);
    rt.run_phase(Phase::Access, &mut RequestState::default());
    let messages = host.messages();
    let limit = Limits::default().log_line_bytes;
    assert!(messages[0].starts_with("[pre-function] xxx"));
    let dropped = "[pre-function] ".len() + 8192 - limit;
    assert!(messages[0].ends_with(&format!("x...[truncated {dropped} bytes]")), "{}", &messages[0][messages[0].len() - 40..]);
    assert_eq!(messages[1], "[pre-function] short");
}

#[test]
fn configurations_past_the_size_limits_are_rejected_with_the_numbers() {
    let host = Rc::new(FakeHost::default());
    let config = PluginConfig::parse(config_of("access", &["local a = 1", "local b = 2", "local c = 3"]).as_bytes()).unwrap();
    let vm = VmConfig { limits: Limits { chunks: 2, ..Limits::default() }, ..VmConfig::default() };
    let error = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), &vm).err().expect("rejected");
    assert_eq!(error.to_string(), "too many chunks (3, limit 2)");
    let vm = VmConfig { limits: Limits { source_bytes: 20, ..Limits::default() }, ..VmConfig::default() };
    let error = Runtime::with_vm_config(&config, Role::PreFunction, host, &vm).err().expect("rejected");
    assert_eq!(error.to_string(), "too many bytes of Lua source (33, limit 20)");
}

#[test]
fn the_connection_record_is_bounded_and_forgets_the_oldest() {
    let host = Rc::new(FakeHost::default());
    let mut rt = runtime(&config_of("certificate", &["x = 1"]), &host);
    for i in 0..MAX_CONNECTIONS + 1 {
        rt.record_connection(i.to_le_bytes().to_vec(), i % 2 == 0);
    }
    // The first was overwritten by the newest; the rest keep their outcome.
    assert_eq!(rt.connection_seen(&0usize.to_le_bytes()), None);
    assert_eq!(rt.connection_seen(&1usize.to_le_bytes()), Some(false));
    assert_eq!(rt.connection_seen(&2usize.to_le_bytes()), Some(true));
    assert_eq!(rt.connection_seen(&MAX_CONNECTIONS.to_le_bytes()), Some(true));
    assert_eq!(rt.connections.len(), MAX_CONNECTIONS);
}
