//! `kong.log.new`, `set_format`, `kong.log.inspect`'s box, `kong.tracing` (tracing off)
//! and `kong.nginx.get_statistics`, with expectations from Kong's `kong/pdk/log.lua`,
//! `kong/pdk/tracing.lua`, `kong/pdk/nginx.lua` and `t/01-pdk/02-log/`.

use std::rc::Rc;

use crate::config::{PluginConfig, Role};
use crate::pdk::kong::log::inspect_box;
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};

fn run_on(host: FakeHost, source: &str) -> (PhaseOutcome, Vec<String>) {
    let host = Rc::new(host);
    let config = PluginConfig::parse(serde_json::json!({ "access": [source] }).to_string().as_bytes()).unwrap();
    let mut rt = Runtime::new(&config, Role::PreFunction, host.clone()).unwrap();
    let outcome = rt.run_phase(Phase::Access, &mut RequestState::default());
    (outcome, host.messages())
}

fn run(source: &str) -> Vec<String> {
    let (outcome, out) = run_on(FakeHost::default(), source);
    assert_eq!(outcome, PhaseOutcome::Continue, "{out:?}");
    out
}

#[test]
fn new_checks_its_arguments_with_kongs_messages() {
    let out = run(r##"
        for _, args in ipairs({ {}, { 1 }, { "" }, { "ns", 1 }, { "ns", "" } }) do
          local ok, err = pcall(kong.log.new, unpack(args))
          kong.log.info(err)
        end
        local log = kong.log.new("ns")
        kong.log.info(select(2, pcall(log.set_format, 1)))
    "##);
    assert_eq!(out, [
        "[pre-function] namespace must be a string",
        "[pre-function] namespace must be a string",
        "[pre-function] namespace cannot be an empty string",
        "[pre-function] format must be a string if specified",
        "[pre-function] format cannot be an empty string if specified",
        "[pre-function] format must be a string",
    ]);
}

#[test]
fn a_new_logger_writes_its_namespace_and_format() {
    // t/01-pdk/02-log/05-set_format.t: set_format("%message") writes the bare message;
    // "%namespace" is put in; "%file_src:%line_src" the calling chunk and line; an
    // unknown modifier stays as text. set_format(nil) goes back to the default.
    let out = run("local log = kong.log.new('my-ns')\n\
        log.err('hello ', 'world')\n\
        log.set_format('%message')\n\
        log.warn('bare')\n\
        log.set_format('<%namespace> %file_src:%line_src %unknown %message')\n\
        log.info('placed')\n\
        log('called')\n\
        log.set_format()\n\
        log.debug(1, nil, true)\n\
        local other = log.new('other')\n\
        other.notice('x')\n\
        log.trace('never')");
    assert_eq!(out, [
        "[my-ns] hello world",
        "bare",
        "<my-ns> access[1]:6 %unknown placed",
        "<my-ns> access[1]:7 %unknown called",
        "[my-ns] 1niltrue",
        "[other] x",
    ]);
}

#[test]
fn inspect_writes_kongs_box() {
    // kong/pdk/log.lua gen_log_func with inspect: the header ruled with dashes to column
    // 121 and "+", each line of the dump framed "|...|" at 120 columns, a closing rule.
    let lines = inspect_box("h", "ab\ncd");
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0], format!("h{}+", "-".repeat(120)));
    assert_eq!(lines[1], format!("|ab{}|", " ".repeat(118)));
    assert_eq!(lines[2], format!("|cd{}|", " ".repeat(118)));
    assert_eq!(lines[3], format!("+{}+", "-".repeat(120)));
    assert!(lines.iter().all(|l| l.len() == 122));
    // A line longer than 120 wraps.
    let long = inspect_box("h", &"x".repeat(130));
    assert_eq!(long[1], format!("|{}|", "x".repeat(120)));
    assert_eq!(long[2], format!("|{}{}|", "x".repeat(10), " ".repeat(110)));

    let out = run("kong.log.inspect({1, a = 'x'}, 'hi')\nkong.log.new('ns').inspect(3)");
    assert_eq!(out[0], format!("access[1]:?:1 [pre-function]{}+", "-".repeat(121 - 28)));
    assert_eq!(out[1].trim_end_matches(|c| c == ' ' || c == '|'), "|{ 1,");
    assert_eq!(out[2].trim_end_matches(|c| c == ' ' || c == '|'), "|  a = \"x\"");
    assert_eq!(out[3].trim_end_matches(|c| c == ' ' || c == '|'), "|} \"hi\"");
    assert_eq!(out[4], format!("+{}+", "-".repeat(120)));
    assert!(out[5].starts_with("access[1]:?:2 [ns]---"), "{out:?}");
    assert_eq!(out[6].trim_end_matches(|c| c == ' ' || c == '|'), "|3");
}

#[test]
fn tracing_is_kongs_noop_tracer() {
    // kong/pdk/tracing.lua's noop_tracer and noop_span (tracing_instrumentations = off);
    // a new field written to the span is dropped (its `__newindex` is a no-op).
    // `new(name)` / `kong.tracing(name)` are Kong's new_tracer (see the next test).
    let out = run("local span = kong.tracing.start_span('x')\n\
        kong.log.info(kong.tracing.name, ' ', tostring(span.is_recording), ' ', select('#', span:finish()), ' ', type(span:each_baggage_item()))\n\
        span.extra = true\n\
        kong.log.info(tostring(span.extra), ' ', select('#', kong.tracing.get_root_span()), ' ', select('#', kong.tracing.active_span()))\n\
        kong.log.info(kong.tracing.new('mine').name, ' ', kong.tracing('mine').name, ' ', kong.tracing.create_span() == span)\n\
        kong.log.info(select(2, pcall(kong.tracing.set_global_tracer, {})))\n\
        kong.tracing.set_global_tracer(kong.tracing)");
    assert_eq!(out, [
        "[pre-function] noop false 0 function",
        "[pre-function] nil 0 0",
        // kong/pdk/tracing.lua's new_tracer: a recording tracer of that name (one per name)
        "[pre-function] mine mine true",
        "[pre-function] invalid tracer",
    ]);
}

#[test]
fn tracing_new_builds_kongs_recording_tracer() {
    // kong/pdk/tracing.lua new_tracer: memoized per name, `set_active_span` keeps the span
    // in ngx.ctx for `active_span`, spans link to their parent and tracer; options.noop
    // gives the no-op tracer; start_span's checks ("invalid span name").
    let out = run("local t = kong.tracing.new('t')\n\
        local root = t.start_span('root')\n\
        t.set_active_span(root)\n\
        local child = t.start_span('child')\n\
        kong.log.info(t == kong.tracing('t'), ' ', t.active_span().name, ' ', child.parent == root, ' ', child.trace_id == root.trace_id, ' ', #child.span_id, ' ', child.tracer.name, ' ', tostring(child.is_recording))\n\
        t.set_active_span(child)\n\
        child:finish()\n\
        kong.log.info(t.active_span().name, ' ', t.get_spans()[0], ' ', kong.tracing.new('n', { noop = true }).name)\n\
        kong.log.info(select(2, pcall(t.start_span, '')))");
    assert_eq!(out, [
        "[pre-function] true root true true 8 t true",
        "[pre-function] root 2 noop",
        "[pre-function] invalid span name",
    ]);
}

#[test]
fn get_statistics_answers_where_nginx_variables_are_properties() {
    let (outcome, out) = run_on(FakeHost::default().with_property("plugin_vm_id", ""), "kong.nginx.get_statistics()");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert!(out[0].contains("kong.nginx.get_statistics: not available on this host"), "{out:?}");
    let host = FakeHost::default()
        .with_property("ngx.nginx_version", "1.27.4")
        .with_property("kong.version", "3.9.1")
        .with_property("ngx.connections_active", "3")
        .with_property("ngx.connections_reading", "0")
        .with_property("ngx.connections_writing", "1")
        .with_property("ngx.connections_waiting", "2");
    let (outcome, out) = run_on(host, "local s = kong.nginx.get_statistics()\n\
        kong.log.info(s.connections_active, ' ', s.connections_reading, ' ', s.connections_writing, ' ', s.connections_waiting, ' ', tostring(s.total_requests))");
    assert_eq!(outcome, PhaseOutcome::Continue, "{out:?}");
    assert_eq!(out.last().unwrap(), "[pre-function] 3 0 1 2 nil");
}

#[test]
fn the_plugins_own_logger_takes_a_format_too() {
    // kong.log is a new_log instance in Kong, so it has set_format; nil restores the default.
    let out = run("kong.log.set_format('%namespace says %message')\n\
        kong.log.err('hi')\n\
        kong.log('called')\n\
        kong.log.set_format()\n\
        kong.log.warn('back')\n\
        kong.log.info(select(2, pcall(kong.log.set_format, {})))");
    assert_eq!(out, ["pre-function says hi", "pre-function says called", "[pre-function] back", "[pre-function] format must be a string"]);
}
