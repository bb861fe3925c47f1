//! The `envoy` profile against Envoy as its source says it behaves
//! (`shared/design/envoy-host.md`; Envoy `source/extensions/common/wasm/context.cc`,
//! proxy-wasm-cpp-host `src/context.cc`, `source/common/http/`): one test per behaviour,
//! through the probe filter (`filters/probe`), in each Envoy mode where the mode matters.
//! Sources are listed in `docs/hosts.md`.

mod common;

use common::{harness, probe};

use wasm_harness::{Chain, ChainSpec, EnvoyMode, FilterSpec, Outcome, RequestSpec};

fn envoy(mode: EnvoyMode, filters: Vec<FilterSpec>) -> Chain {
    harness().chain(&ChainSpec { filters, envoy: mode, ..ChainSpec::default() }).expect("chain")
}

fn run(chain: &mut Chain, request: RequestSpec) -> Outcome {
    chain.run(&request).expect("request runs")
}

fn messages(outcome: &Outcome, filter: &str) -> Vec<String> {
    outcome.logs.iter().filter(|l| l.filter == filter).map(|l| l.message.clone()).collect()
}

fn post(path: &str, body: &str) -> RequestSpec {
    RequestSpec { method: Some("POST".into()), body: Some(body.into()), ..RequestSpec::get(path) }
}

// Stream control.

#[test]
fn a_paused_request_headers_callback_gets_no_body_before_1_35_or_without_the_flag() {
    // cpp-host convertVmCallResultToFilterHeadersStatus: StopIteration becomes
    // StopAllIterationAndWatermark; the stream waits for the idle timeout.
    for mode in [EnvoyMode::V1_31, EnvoyMode::V1_35] {
        let mut chain = envoy(mode, vec![probe("a", "")]);
        let outcome = run(&mut chain, post("/", "hello").header("x-pause", "forever"));
        assert_eq!(outcome.status, 504, "{mode:?}: idle timeout of a complete request");
        assert_eq!(outcome.body, "stream timeout");
        assert!(outcome.hung.as_deref().is_some_and(|h| h.contains("StopAllIterationAndWatermark")), "{:?}", outcome.hung);
        assert!(outcome.upstream.is_none());
        let lines = messages(&outcome, "a");
        assert!(!lines.iter().any(|l| l.starts_with("request_body")), "{mode:?}: no body callback: {lines:#?}");
        assert!(lines.iter().any(|l| l.starts_with("log")), "on_log still runs");
    }
}

#[test]
fn with_allow_on_headers_stop_iteration_the_held_filter_gets_the_body() {
    // cpp-host #434 (Envoy 1.35+): StopIteration as written; Continue from the last
    // body callback resumes the held headers.
    let mut chain = envoy(EnvoyMode::V1_35_HOLD, vec![probe("a", "")]);
    let outcome = run(&mut chain, post("/", "hello").header("x-pause", "forever"));
    assert_eq!(outcome.hung, None);
    assert_eq!(outcome.status, 200);
    // The HTTP/1 codec: the data, then an empty end-of-stream callback.
    let body: Vec<String> = messages(&outcome, "a").into_iter().filter(|m| m.starts_with("request_body")).collect();
    assert_eq!(body, ["request_body size=5 eos=false body=hello", "request_body size=0 eos=true body="]);
    assert_eq!(outcome.upstream.expect("upstream").body, "hello");
}

#[test]
fn a_bodiless_request_held_for_good_times_out_in_every_mode() {
    for mode in EnvoyMode::ALL {
        let mut chain = envoy(mode, vec![probe("a", "")]);
        let outcome = run(&mut chain, RequestSpec::get("/").header("x-pause", "forever"));
        assert_eq!((outcome.status, outcome.body.as_str()), (504, "stream timeout"), "{mode:?}");
        assert!(outcome.hung.is_some());
    }
}

#[test]
fn request_headers_are_gone_after_continue_until_on_log() {
    // Context::decodeHeaders nulls request_headers_ once the callback continues.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-map-probe", "set-request-in-response-headers"));
    assert!(messages(&outcome, "a").contains(&"late set status=2".to_string()), "BadArgument: {:#?}", outcome.logs);
}

#[test]
fn response_headers_are_gone_after_continue() {
    // Context::encodeHeaders nulls response_headers_ the same way.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-map-probe", "set-response-in-response-body"));
    assert!(messages(&outcome, "a").contains(&"late set status=2".to_string()), "{:#?}", outcome.logs);
}

#[test]
fn set_buffer_bytes_follows_envoys_copy_from() {
    // Buffer::copyFrom: start 0 replaces a prefix, start >= length appends, a range in
    // the middle is BadArgument (2).
    let cases = [("0,5,bye", "bye", "0"), ("5,0,!", "hello!", "0"), ("1,2,xx", "hello", "2"), ("0,0,>", ">hello", "0")];
    for (spec, upstream_body, status) in cases {
        let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
        let outcome = run(&mut chain, post("/", "hello").header("x-set-body", spec));
        assert!(messages(&outcome, "a").contains(&format!("set_body status={status}")), "{spec}: {:#?}", outcome.logs);
        assert_eq!(outcome.upstream.expect("upstream").body, upstream_body, "{spec}");
    }
}

#[test]
fn an_http1_request_body_ends_with_an_empty_end_of_stream_callback() {
    // http1/codec_impl.cc: onBody decodes each read with end_stream false,
    // onMessageComplete an empty buffer with end_stream true; a bodiless request ends
    // at its headers (deferred_end_stream_headers_).
    let spec = ChainSpec { filters: vec![probe("a", "")], body_chunk_size: Some(3), ..ChainSpec::default() };
    let mut chain = harness().chain(&spec).expect("chain");
    let outcome = run(&mut chain, post("/", "hello"));
    let body: Vec<String> = messages(&outcome, "a").into_iter().filter(|m| m.starts_with("request_")).collect();
    assert_eq!(
        body,
        [
            "request_headers headers=6 eos=false",
            "request_body size=3 eos=false body=hel",
            "request_body size=2 eos=false body=lo",
            "request_body size=0 eos=true body=",
        ]
    );
    assert_eq!(outcome.upstream.expect("upstream").body, "hello");
}

#[test]
fn a_buffered_body_past_the_buffer_limit_ends_the_stream() {
    // filter_manager.cc: a StopIterationAndBuffer buffer past
    // per_connection_buffer_limit_bytes: requestDataTooLarge answers 413
    // `Payload Too Large`; responseDataTooLarge resets a stream whose headers went out.
    let spec = ChainSpec { filters: vec![probe("a", "")], body_chunk_size: Some(4), buffer_limit_bytes: Some(8), ..ChainSpec::default() };
    let mut chain = harness().chain(&spec).expect("chain");
    let outcome = run(&mut chain, post("/", "0123456789").header("x-buffer", "request"));
    assert_eq!((outcome.status, outcome.body.as_str()), (413, "Payload Too Large"));
    assert_eq!(outcome.header("content-type"), Some("text/plain"));
    assert!(outcome.upstream.is_none());
    // Within the limit, the same buffering passes.
    let outcome = run(&mut chain, post("/", "01234567").header("x-buffer", "request"));
    assert_eq!(outcome.status, 200);
    assert_eq!(outcome.upstream.expect("upstream").body, "01234567");
    // The response side, once the headers went out: a reset.
    let upstream = wasm_harness::UpstreamSpec { body: Some("0123456789".into()), ..Default::default() };
    let request = RequestSpec { upstream: Some(upstream), ..RequestSpec::get("/").header("x-buffer", "response") };
    let outcome = run(&mut chain, request);
    assert!(outcome.reset, "{outcome:?}");
    assert_eq!(wasm_harness::ENVOY_BUFFER_LIMIT_BYTES, 1 << 20, "Envoy's default");
}

// Local replies.

#[test]
fn a_local_reply_with_a_body_gets_text_plain() {
    // http/utility.cc prepareLocalReply: content-type text/plain when none was given.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-local", "request_headers"));
    assert_eq!(outcome.status, 418);
    assert_eq!(outcome.header("content-type"), Some("text/plain"));
    assert_eq!(outcome.header("content-length"), Some("26"));
    assert_eq!(outcome.body, "local from request_headers");
}

#[test]
fn a_local_reply_from_response_headers_skips_the_filters_after_it() {
    // sendDirectLocalReply: straight to the client. The response path runs "b" (last in
    // request order) first; "a" never sees the response.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", ""), probe("b", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-local", "response_headers").header("x-local-only", "b"));
    assert_eq!(outcome.status, 418);
    assert_eq!(outcome.body, "local from response_headers");
    assert!(!messages(&outcome, "a").iter().any(|l| l.starts_with("response_")), "{:#?}", outcome.logs);
    assert!(messages(&outcome, "a").iter().any(|l| l.starts_with("log")));
}

#[test]
fn a_local_reply_from_a_response_body_resets_the_stream() {
    // DownstreamFilterManager::sendLocalReply once the headers were encoded: a reset.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-local", "response_body"));
    assert!(outcome.reset, "{outcome:?}");
    assert_eq!(outcome.status, 200, "the upstream's headers went out first");
    assert_ne!(outcome.body, "local from response_body");
}

// VM, traps, properties.

#[test]
fn a_trap_fails_the_vm_for_every_later_stream() {
    // FailState::RuntimeError: the VM stays failed; fail closed answers 503, empty body.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", ""), probe("b", "")]);
    assert!(chain.run(&RequestSpec::get("/").header("x-trap", "1")).is_err(), "the trap itself is reported");
    let outcome = run(&mut chain, RequestSpec::get("/"));
    assert_eq!((outcome.status, outcome.body.as_str()), (503, ""));
    assert!(outcome.upstream.is_none());
}

#[test]
fn filter_state_crosses_filters_under_a_single_segment_path_only() {
    // Context::setProperty stores `wasm.<path>`; findValue looks up the first segment.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-set-property", "my_key=v1").header("x-property", "my_key"));
    assert_eq!(outcome.header("x-probe-property"), Some("v1"), "a single-segment path reads back");
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-set-property", "my.key=v1").header("x-property", "my.key"));
    assert_eq!(outcome.header("x-probe-set-status"), Some("0"));
    assert_eq!(outcome.header("x-probe-property"), Some("<missing>"), "a multi-segment path does not read back");
}

#[test]
fn filter_state_never_shadows_a_built_in_attribute() {
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-set-property", "plugin_name=other").header("x-property", "plugin_name"));
    assert_eq!(outcome.header("x-probe-property"), Some("a"));
}

#[test]
fn plugins_of_one_module_share_one_vm() {
    // cpp-host WasmBase: one VM per vm_id per worker, one root context per root_id
    // (`WasmBase::start`); our envoy.yaml gives both roles one vm_id. The probe counts
    // requests in a module-level counter: both filters of a stream see one counter.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", ""), probe("b", "")]);
    let filters = chain.filters_mut();
    assert!(filters[0].shares_vm_with(&filters[1]));
    assert_ne!(filters[0].root_context_id(), filters[1].root_context_id());
    let outcome = run(&mut chain, RequestSpec::get("/"));
    let mut seen: Vec<&str> = outcome.headers.iter().filter(|(n, _)| n == "x-probe-instance-requests").map(|(_, v)| v.as_str()).collect();
    seen.sort();
    assert_eq!(seen, ["1", "2"], "one module-level counter for both filters");
    // Each root context keeps its own configuration and ticks; the names stay apart.
    assert!(messages(&outcome, "a").iter().any(|m| m.starts_with("request_headers")));
    assert!(messages(&outcome, "b").iter().any(|m| m.starts_with("request_headers")));
    // Kong's engine: one instance per filter here (kong-engine.md: a trap re-creates the
    // trapped filter's instance alone).
    let spec = ChainSpec { filters: vec![probe("a", ""), probe("b", "")], profile: wasm_harness::HostProfile::Kong, ..ChainSpec::default() };
    let mut kong = harness().chain(&spec).expect("chain");
    let outcome = run(&mut kong, RequestSpec::get("/"));
    let seen: Vec<&str> = outcome.headers.iter().filter(|(n, _)| n == "x-probe-instance-requests").map(|(_, v)| v.as_str()).collect();
    assert_eq!(seen, ["1", "1"]);
}

// Before any filter runs, and after.

#[test]
fn the_connection_manager_mutates_request_and_response_headers() {
    // conn_manager_utility.cc mutateRequestHeaders: hop-by-hop headers go, x-request-id
    // and x-forwarded-proto come; router.cc adds x-envoy-upstream-service-time before the
    // response filters; encodeHeaders adds server and date after them.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let request = RequestSpec::get("/").header("keep-alive", "timeout=5").header("connection", "keep-alive").header("proxy-connection", "x");
    let outcome = run(&mut chain, request);
    let upstream = outcome.upstream.clone().expect("upstream");
    let names: Vec<&str> = upstream.headers.iter().map(|(n, _)| n.as_str()).collect();
    for gone in ["keep-alive", "connection", "proxy-connection"] {
        assert!(!names.contains(&gone), "{gone} removed: {names:?}");
    }
    assert_eq!(upstream.headers.iter().find(|(n, _)| n == "x-forwarded-proto").map(|(_, v)| v.as_str()), Some("http"));
    let id = upstream.headers.iter().find(|(n, _)| n == "x-request-id").map(|(_, v)| v.clone()).expect("x-request-id");
    assert_eq!((id.len(), &id[14..15]), (36, "4"), "a UUID v4: {id}");
    assert!(messages(&outcome, "a").contains(&"request_headers headers=6 eos=true".to_string()), "the filter sees them: {:#?}", outcome.logs);
    assert!(outcome.header("x-envoy-upstream-service-time").is_some_and(|v| v.parse::<u64>().is_ok()));
    assert_eq!(outcome.header("server"), Some("envoy"));
    assert!(outcome.header("date").is_some_and(|d| d.ends_with(" GMT") && d.len() == 29), "{:?}", outcome.header("date"));
    // A client's own x-request-id is kept.
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-request-id", "mine"));
    assert_eq!(outcome.upstream.expect("upstream").headers.iter().find(|(n, _)| n == "x-request-id").map(|(_, v)| v.as_str()), Some("mine"));
}

#[test]
fn an_upgrade_without_upgrade_configs_is_refused_before_the_filters() {
    // conn_manager_impl.cc: upgrade_failed, 403 with an empty body; the filters' contexts
    // still get proxy_on_log.
    let upgrade = || RequestSpec::get("/ws").header("connection", "Upgrade").header("upgrade", "websocket");
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, upgrade());
    assert_eq!((outcome.status, outcome.body.as_str()), (403, ""));
    assert!(outcome.upstream.is_none());
    let seen = messages(&outcome, "a");
    assert!(!seen.iter().any(|m| m.starts_with("request_headers")), "{seen:#?}");
    assert!(seen.iter().any(|m| m.starts_with("log")), "on_log for a stream the filter never saw: {seen:#?}");
    // With upgrade_configs: [{upgrade_type: websocket}] the request reaches the filter.
    let spec = ChainSpec { filters: vec![probe("a", "")], upgrade_types: vec!["websocket".into()], ..ChainSpec::default() };
    let mut chain = harness().chain(&spec).expect("chain");
    let outcome = run(&mut chain, upgrade());
    assert!(messages(&outcome, "a").iter().any(|m| m.starts_with("request_headers")));
}

#[test]
fn a_codec_error_still_logs_in_every_filter() {
    // http1 codec error via the connection manager (early_errors_via_hcm): 400, and the
    // stream's filters get proxy_on_log only.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", ""), probe("b", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("bad header", "x"));
    assert_eq!(outcome.status, 400);
    for filter in ["a", "b"] {
        let seen = messages(&outcome, filter);
        assert!(seen.iter().any(|m| m.starts_with("log")) && !seen.iter().any(|m| m.starts_with("request_")), "{filter}: {seen:#?}");
    }
}

// Logging, metrics, foreign functions, local replies from the root context.

#[test]
fn the_wasm_logger_drops_lines_below_its_level_and_refuses_unknown_levels() {
    // cpp-host exports.cc `log`; Envoy's Wasm logger level (default info).
    let spec = ChainSpec { filters: vec![probe("a", "")], log_level: Some("info".into()), ..ChainSpec::default() };
    let mut chain = harness().chain(&spec).expect("chain");
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-log", "1,a debug line"));
    assert_eq!(outcome.header("x-probe-log-status"), Some("0"));
    assert!(!messages(&outcome, "a").contains(&"a debug line".to_string()), "dropped below info");
    // proxy_get_log_level answers the logger's level (info: 2), read by a module that
    // logs it from on_configure (canary, then worker).
    let reader = FilterSpec { name: "lvl".into(), module: common::log_level_module(1), config: serde_json::Value::Null, root_id: None };
    let spec = ChainSpec { filters: vec![reader], log_level: Some("info".into()), ..ChainSpec::default() };
    let levels = harness().chain(&spec).expect("chain");
    let lines: Vec<&str> = levels.startup_logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(lines, ["2", "2"]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-log", "3,a warning"));
    assert!(messages(&outcome, "a").contains(&"a warning".to_string()));
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-log", "7,past critical"));
    assert_eq!(outcome.header("x-probe-log-status"), Some("2"), "BadArgument");
}

#[test]
fn metrics_get_a_new_id_per_definition_and_counters_only_grow() {
    // context.cc defineMetric (a new id each call, one stat per name), incrementMetric
    // (a counter's offset must be > 0), recordMetric (a counter adds, a gauge sets).
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-metric", "m"));
    assert_eq!(outcome.header("x-probe-metric"), Some("false,2,6"));
    assert_eq!(chain.metric("m"), Some(6));
}

#[test]
fn unknown_foreign_functions_are_not_found() {
    // cpp-host exports.cc call_foreign_function: NotFound for an unregistered name;
    // Envoy registers compress, set_envoy_filter_state, declare_property, expr_* ...
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-foreign", "no_such_function"));
    assert_eq!(outcome.header("x-probe-foreign"), Some("1"));
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-foreign", "compress"));
    assert_ne!(outcome.header("x-probe-foreign"), Some("1"), "a registered name exists");
}

#[test]
fn a_local_reply_from_the_root_context_is_ok_and_does_nothing() {
    let chain = envoy(EnvoyMode::V1_35, vec![probe("a", "root_local=1")]);
    assert!(chain.startup_logs.iter().any(|l| l.message == "root local status=0"), "{:#?}", chain.startup_logs);
}

#[test]
fn a_head_request_gets_no_body_even_from_a_local_reply() {
    // filter_manager.cc: a local reply to HEAD is encoded without its body.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let request = RequestSpec { method: Some("HEAD".into()), ..RequestSpec::get("/").header("x-local", "request_headers") };
    let outcome = run(&mut chain, request);
    assert_eq!((outcome.status, outcome.body.as_str()), (418, ""));
}

// The Envoy mode in chain files and in the shipped envoy.yaml.

#[test]
fn chain_files_name_the_envoy_version_and_flag() {
    let spec: ChainSpec = serde_json::from_str(r#"{"filters": [], "envoy": {"version": "1.31"}}"#).unwrap();
    assert_eq!(spec.envoy, EnvoyMode::V1_31);
    assert!(!spec.envoy.headers_pause_delivers_body());
    // The flag exists from 1.35 on: set on 1.31 it changes nothing.
    let old: ChainSpec =
        serde_json::from_str(r#"{"filters": [], "envoy": {"version": "1.31", "allow_on_headers_stop_iteration": true}}"#).unwrap();
    assert!(!old.envoy.headers_pause_delivers_body());
    let held: ChainSpec =
        serde_json::from_str(r#"{"filters": [], "envoy": {"version": "1.35", "allow_on_headers_stop_iteration": true}}"#).unwrap();
    assert!(held.envoy.headers_pause_delivers_body());
    let bad = serde_json::from_str::<ChainSpec>(r#"{"filters": [], "envoy": {"version": "two"}}"#).unwrap_err();
    assert!(bad.to_string().contains("expected \"1.MINOR\""), "{bad}");
}

#[test]
fn the_shipped_envoy_yaml_runs_on_1_35_with_the_flag() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../envoy/envoy.yaml");
    let options = wasm_harness::hosts::LoadOptions { module: Some(common::probe_module()), ..Default::default() };
    let loaded = wasm_harness::hosts::load(&path, &options).expect("envoy.yaml loads");
    assert_eq!(loaded.spec.envoy, EnvoyMode::V1_35_HOLD);
    let vm: serde_json::Value = serde_json::from_str(loaded.spec.vm_config.as_str().expect("a StringValue")).unwrap();
    assert_eq!(vm["envoy_allow_on_headers_stop_iteration"], true, "the filter is told what its plugins set");
}

// Upstream response framing.

fn upstream_answer(headers: Vec<(&str, &str)>, body: &str) -> RequestSpec {
    let pairs = headers.into_iter().map(|(n, v)| (n.into(), v.into())).collect();
    RequestSpec {
        upstream: Some(wasm_harness::UpstreamSpec {
            status: Some(200),
            headers: wasm_harness::HeadersSpec::Pairs(pairs),
            body: Some(body.into()),
        }),
        ..RequestSpec::get("/")
    }
}

#[test]
fn an_empty_chunked_answer_gets_an_empty_end_of_stream_body_callback() {
    // http1/codec_impl.cc: ClientConnectionImpl::cannotHaveBody is false for a chunked
    // response, so the headers go on with end_stream false and onMessageCompleteBase
    // dispatches an empty buffer with end_stream true, which FilterManager::encodeData
    // hands to every encoder filter.
    let mut chain = envoy(EnvoyMode::V1_35_HOLD, vec![probe("a", "")]);
    let outcome = run(&mut chain, upstream_answer(vec![("transfer-encoding", "chunked")], ""));
    let lines = messages(&outcome, "a");
    assert!(lines.iter().any(|l| l.starts_with("response_headers") && l.ends_with("eos=false")), "{lines:#?}");
    assert!(lines.contains(&"response_body size=0 eos=true body=".to_string()), "{lines:#?}");
    assert!(!outcome.headers.iter().any(|(n, _)| n == "content-length"), "a chunked answer has no length: {:?}", outcome.headers);
}

#[test]
fn an_empty_answer_with_a_length_ends_at_the_headers() {
    // cannotHaveBody: Content-Length 0 (not chunked): decodeHeaders(..., true), no data.
    let mut chain = envoy(EnvoyMode::V1_35_HOLD, vec![probe("a", "")]);
    let outcome = run(&mut chain, upstream_answer(vec![], ""));
    let lines = messages(&outcome, "a");
    assert!(lines.iter().any(|l| l.starts_with("response_headers") && l.ends_with("eos=true")), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.starts_with("response_body")), "{lines:#?}");
}

#[test]
fn the_upstream_record_names_the_host_it_received() {
    // http1/codec_impl.cc StreamEncoderImpl::encodeHeaders writes :authority as Host.
    let mut chain = envoy(EnvoyMode::V1_35_HOLD, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("host", "example.com"));
    let upstream = outcome.upstream.expect("upstream");
    assert_eq!(upstream.authority.as_deref(), Some("example.com"));
    assert!(upstream.header("host").is_none(), "pseudo-headers stay out of the header list");
}

// The configuration canary.

/// The shipped filter (`make wasm`; `KONG_FUNCTIONS_WASM` names another build).
fn shipped_module() -> std::path::PathBuf {
    let path = std::env::var_os("KONG_FUNCTIONS_WASM")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/kong_functions.wasm"));
    assert!(path.is_file(), "{} is missing: run `make wasm` first", path.display());
    path
}

fn start_lines(chain: &Chain, filter: &str) -> Vec<String> {
    chain.startup_logs.iter().filter(|l| l.filter == filter).map(|l| l.message.clone()).collect()
}

#[test]
fn a_canary_vm_configures_each_plugin_once_before_the_worker_vm() {
    // cpp-host wasm.cc createWasm -> WasmHandleBase::canary: a clone of the base VM is
    // started and configured for each plugin, then killed; the worker's VM starts and
    // configures it again. Kong's engine has no canary: one on_configure per filter.
    let chain = envoy(EnvoyMode::V1_35, vec![probe("a", ""), probe("b", "")]);
    for filter in ["a", "b"] {
        let configured = start_lines(&chain, filter).iter().filter(|m| *m == "configure").count();
        assert_eq!(configured, 2, "{filter}: canary, then the worker: {:#?}", chain.startup_logs);
    }
    let spec = ChainSpec { filters: vec![probe("a", "")], profile: wasm_harness::HostProfile::Kong, ..ChainSpec::default() };
    let kong = harness().chain(&spec).expect("chain");
    assert_eq!(start_lines(&kong, "a").iter().filter(|m| *m == "configure").count(), 1);
    // The canary's module state died with it: the worker VM's counter starts at 1.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    assert_eq!(run(&mut chain, RequestSpec::get("/")).header("x-probe-instance-requests"), Some("1"));
}

#[test]
fn a_configuration_the_canary_rejects_never_reaches_a_stream() {
    // canary: configure false -> fail(ConfigureFailed, "Failed to configure base Wasm
    // plugin"), logged by Envoy's Wasm::error as `Wasm VM failed ...`; wasm_filter.cc
    // FilterConfig throws "Unable to create Wasm HTTP filter NAME" (Envoy exits at start-up,
    // an xDS update is rejected). Kong's engine: `[emerg] ... failed initializing`.
    let error = harness().chain(&ChainSpec { filters: vec![probe("ok", ""), probe("picky", "configure=false")], ..ChainSpec::default() });
    let text = format!("{:#}", error.err().expect("rejected at load"));
    assert!(text.starts_with("Unable to create Wasm HTTP filter picky"), "{text}");
    assert!(text.contains("[error] Wasm VM failed Failed to configure base Wasm plugin"), "{text}");
    let kong = ChainSpec { filters: vec![probe("picky", "configure=false")], profile: wasm_harness::HostProfile::Kong, ..ChainSpec::default() };
    let text = format!("{:#}", harness().chain(&kong).err().expect("rejected at load"));
    assert!(text.contains("[emerg] [proxy-wasm] failed initializing \"picky\" filter (on_configure failure)"), "{text}");
    assert!(!text.contains("Unable to create Wasm HTTP filter"), "{text}");
}

#[test]
fn the_shipped_filter_with_a_syntax_error_is_refused_at_load_on_both_hosts() {
    // What an admin sees for a chunk with a syntax error: the filter's on_configure logs
    // Kong's `error parsing pre-function: ...` (critical) and answers false. Envoy: the
    // canary fails the filter config; Kong's engine: the worker fails initializing it.
    let filter = FilterSpec {
        name: "pre-function".into(),
        module: shipped_module(),
        config: serde_json::json!({ "access": ["local x = 1\n\nif x then\n"] }),
        root_id: None,
    };
    let parse = "error parsing pre-function: [string \"local x = 1...\"]:4: 'end' expected (to close 'if' at line 3) near '<eof>'";
    let envoy_spec = ChainSpec { filters: vec![filter.clone()], ..ChainSpec::default() };
    let text = format!("{:#}", harness().chain(&envoy_spec).err().expect("rejected at load"));
    assert!(text.starts_with("Unable to create Wasm HTTP filter pre-function"), "{text}");
    assert!(text.contains(&format!("[critical] {parse}")), "{text}");
    assert!(text.contains("[error] Wasm VM failed Failed to configure base Wasm plugin"), "{text}");
    let kong_spec = ChainSpec { filters: vec![filter], profile: wasm_harness::HostProfile::Kong, ..ChainSpec::default() };
    let text = format!("{:#}", harness().chain(&kong_spec).err().expect("rejected at load"));
    assert!(text.contains("[emerg] [proxy-wasm] failed initializing \"pre-function\" filter (on_configure failure)"), "{text}");
    assert!(text.contains(parse), "{text}");
}

// Routing.

fn routed(routes: serde_json::Value) -> Chain {
    let routes = serde_json::from_value(routes).expect("routes");
    harness().chain(&ChainSpec { filters: vec![probe("a", "")], routes, ..ChainSpec::default() }).expect("chain")
}

#[test]
fn a_path_rewrite_re_routes_because_header_writes_clear_the_route_cache() {
    // The connection manager picks the route before the filters (conn_manager_impl.cc
    // refreshCachedRoute); context.cc's request-header writes call clearRouteCache()
    // (Envoy PR #14318; since 1.33, PR #36671, not for ABIs newer than 0.2.1, which
    // proxy-wasm-cpp-host cannot load), so the router picks again from the new :path.
    let mut chain = routed(serde_json::json!([
        {"name": "api", "prefix": "/api", "cluster": "api_cluster"},
        {"name": "web", "prefix": "/", "cluster": "web_cluster"}
    ]));
    let outcome = run(&mut chain, RequestSpec::get("/home").header("x-property", "cluster_name"));
    let upstream = outcome.upstream.clone().expect("upstream");
    assert_eq!((upstream.cluster.as_deref(), upstream.path.as_str()), (Some("web_cluster"), "/home"));
    assert_eq!(outcome.header("x-probe-property"), Some("web_cluster"), "cluster_name is the route's");
    let outcome = run(&mut chain, RequestSpec::get("/home").header("x-set-path", "/api/v1?x=1"));
    let upstream = outcome.upstream.expect("upstream");
    assert_eq!((upstream.cluster.as_deref(), upstream.path.as_str()), (Some("api_cluster"), "/api/v1?x=1"));
    // Any request-header write clears the cache; the route picked again is the same.
    let outcome = run(&mut chain, RequestSpec::get("/api/x").header("x-set-header", "x-a=1"));
    assert_eq!(outcome.upstream.expect("upstream").cluster.as_deref(), Some("api_cluster"));
}

#[test]
fn no_matching_route_is_a_404_from_the_router_after_the_filters() {
    // router.cc Filter::decodeHeaders: no route -> sendLocalReply(NotFound, "", ...,
    // route_not_found), through every filter's response callbacks.
    let mut chain = routed(serde_json::json!([{"name": "api", "prefix": "/api", "cluster": "api_cluster"}]));
    let outcome = run(&mut chain, RequestSpec::get("/home"));
    assert_eq!((outcome.status, outcome.body.as_str()), (404, ""));
    assert!(outcome.upstream.is_none());
    let lines = messages(&outcome, "a");
    assert!(lines.iter().any(|l| l.starts_with("request_headers")) && lines.iter().any(|l| l.starts_with("response_headers")), "{lines:#?}");
    // The filter's rewrite into the table routes it.
    let outcome = run(&mut chain, RequestSpec::get("/home").header("x-set-path", "/api/home"));
    assert_eq!(outcome.status, 200);
    assert_eq!(outcome.upstream.expect("upstream").cluster.as_deref(), Some("api_cluster"));
    // And out of it: a request that matched before the filters, rewritten away, is a 404.
    let outcome = run(&mut chain, RequestSpec::get("/api/x").header("x-set-path", "/elsewhere"));
    assert_eq!(outcome.status, 404);
}

// gRPC local replies.

fn grpc(path: &str) -> RequestSpec {
    RequestSpec { method: Some("POST".into()), ..RequestSpec::get(path).header("content-type", "application/grpc") }
}

#[test]
fn a_local_reply_to_a_grpc_request_is_trailers_only() {
    // http/utility.cc prepareLocalReply (is_grpc_): :status 200, content-type
    // application/grpc, grpc-status from the filter's status or httpToGrpcStatus(code),
    // grpc-message the percent-encoded body, no content-length; encodeLocalReply sends
    // the headers with end_stream (no body).
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, grpc("/pkg.Svc/Call").header("x-local", "request_headers"));
    assert_eq!((outcome.status, outcome.body.as_str()), (200, ""));
    assert_eq!(outcome.header("content-type"), Some("application/grpc"));
    assert_eq!(outcome.header("grpc-status"), Some("2"), "httpToGrpcStatus(418) is Unknown");
    assert_eq!(outcome.header("grpc-message"), Some("local from request_headers"));
    assert_eq!(outcome.header("content-length"), None);
    assert_eq!(outcome.header("x-local-from"), Some("request_headers"), "the filter's headers stay");
    // The response callbacks see a bodiless answer.
    assert!(messages(&outcome, "a").iter().any(|l| l.starts_with("response_headers") && l.ends_with("eos=true")), "{:#?}", outcome.logs);
    // A known gRPC status from the filter wins over the mapping; -1 (not set) does not.
    let outcome = run(&mut chain, grpc("/x").header("x-local", "request_headers").header("x-local-grpc-status", "16"));
    assert_eq!(outcome.header("grpc-status"), Some("16"));
    let outcome = run(&mut chain, grpc("/x").header("x-local", "request_headers").header("x-local-grpc-status", "99"));
    assert_eq!(outcome.header("grpc-status"), Some("2"), "out of range: as if not set");
    // From response headers (sendDirectLocalReply) the same shape.
    let outcome = run(&mut chain, grpc("/x").header("x-local", "response_headers"));
    assert_eq!((outcome.status, outcome.header("grpc-status")), (200, Some("2")));
    // application/grpc-web is not gRPC: an ordinary local reply.
    let web = RequestSpec { method: Some("POST".into()), ..RequestSpec::get("/x").header("content-type", "application/grpc-web") };
    let outcome = run(&mut chain, web.header("x-local", "request_headers"));
    assert_eq!((outcome.status, outcome.body.as_str()), (418, "local from request_headers"));
    assert_eq!(outcome.header("grpc-status"), None);
}

#[test]
fn envoys_own_local_replies_to_grpc_requests_are_trailers_only_too() {
    // onIdleTimeout: sendLocalReply(504, "stream timeout", ..., nullopt) -> 200,
    // grpc-status httpToGrpcStatus(504) = 14, grpc-message "stream timeout".
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, grpc("/x").header("x-pause", "forever"));
    assert!(outcome.hung.is_some());
    assert_eq!((outcome.status, outcome.body.as_str()), (200, ""));
    assert_eq!((outcome.header("grpc-status"), outcome.header("grpc-message")), (Some("14"), Some("stream timeout")));
    // wasm_fail_stream after a trap: sendLocalReply(503, "", ..., Unavailable).
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    assert!(chain.run(&RequestSpec::get("/").header("x-trap", "1")).is_err());
    let outcome = run(&mut chain, grpc("/x"));
    assert_eq!((outcome.status, outcome.header("grpc-status"), outcome.header("grpc-message")), (200, Some("14"), None));
    assert_eq!(run(&mut chain, RequestSpec::get("/")).status, 503, "plain requests keep the 503");
}

#[test]
fn the_routers_404_on_a_grpc_request_is_unimplemented() {
    // router.cc route_not_found through prepareLocalReply: 200, grpc-status 12.
    let mut chain = routed(serde_json::json!([{"name": "api", "prefix": "/api", "cluster": "api_cluster"}]));
    let outcome = run(&mut chain, grpc("/pkg.Svc/Call"));
    assert_eq!((outcome.status, outcome.header("grpc-status")), (200, Some("12")));
}

#[test]
fn kong_response_exit_on_a_grpc_request_through_each_host() {
    // Kong's kong.response.exit (kong/pdk/response.lua `send`): gRPC framing only when
    // `is_grpc_request()`: content-type application/grpc... AND `ngx.req.http_version()
    // == 2`. The harness's requests are HTTP/1.1 (`request.protocol`), so the filter
    // answers as Kong does over HTTP/1.1: 403 with the body. On Envoy that local reply
    // then goes through prepareLocalReply, which keys on the content-type alone: HTTP 200,
    // grpc-status httpToGrpcStatus(403) = 7 (PermissionDenied), grpc-message the body.
    let filter = FilterSpec {
        name: "pre-function".into(),
        module: shipped_module(),
        config: serde_json::json!({ "access": ["kong.response.exit(403, 'nope')"] }),
        root_id: None,
    };
    let request = || grpc("/pkg.Svc/Call");
    let mut on_envoy = harness().chain(&ChainSpec { filters: vec![filter.clone()], ..ChainSpec::default() }).expect("chain");
    let envoy = run(&mut on_envoy, request());
    assert_eq!((envoy.status, envoy.body.as_str()), (200, ""), "Envoy's trailers-only reply");
    assert_eq!(envoy.header("content-type"), Some("application/grpc"));
    assert_eq!(envoy.header("grpc-status"), Some("7"));
    assert_eq!(envoy.header("grpc-message"), Some("nope"));
    let spec = ChainSpec { filters: vec![filter], profile: wasm_harness::HostProfile::Kong, ..ChainSpec::default() };
    let mut on_kong = harness().chain(&spec).expect("chain");
    let kong = run(&mut on_kong, request());
    // ngx_wasm_module appends its linefeed to the body (kong-engine.md "Responses").
    assert_eq!((kong.status, kong.body.as_str()), (403, "nope\n"));
    assert_eq!(kong.header("grpc-status"), None, "HTTP/1.1: not gRPC for Kong's send");
}

// Stat names.

#[test]
fn custom_metrics_live_under_the_wasmcustom_namespace() {
    // context.cc defineMetric: {custom_stat_namespace_, name} ("wasmcustom",
    // stats_handler.h) in the filter's root scope: admin /stats lists `wasmcustom.NAME`;
    // /stats/prometheus strips the namespace, adds no `envoy_`, applies the default tag
    // extractors (well_known_names.cc `_rq(_(\d{3}))$`), sanitizes, and drops a name
    // starting with a digit (prometheus_stats.cc metricName).
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    for name in ["api.calls", "login_rq_403", "9lives"] {
        run(&mut chain, RequestSpec::get("/").header("x-metric", name));
    }
    let stats = chain.stats();
    let names: Vec<&str> = stats.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["wasmcustom.api.calls", "wasmcustom.probe_requests", "wasmcustom.login_rq_403", "wasmcustom.9lives"], "definition order");
    assert!(stats.contains(&("wasmcustom.api.calls".to_string(), 6)));
    assert_eq!(chain.metric("api.calls"), Some(6), "the filter's own name still finds it");
    let text = chain.prometheus_stats();
    assert!(text.contains("# TYPE api_calls counter\napi_calls{} 6\n"), "{text}");
    assert!(text.contains("login_rq{envoy_response_code=\"403\"} 6\n"), "{text}");
    assert!(text.contains("probe_requests{} 3\n"), "{text}");
    assert!(!text.contains("9lives") && !text.contains("envoy_api") && !text.contains("wasmcustom"), "{text}");
    // Kong's profile keeps the names as defined (its own naming is not modelled).
    let spec = ChainSpec { filters: vec![probe("a", "")], profile: wasm_harness::HostProfile::Kong, ..ChainSpec::default() };
    let mut kong = harness().chain(&spec).expect("chain");
    run(&mut kong, RequestSpec::get("/"));
    assert_eq!(kong.stats(), [("probe_requests".to_string(), 1)]);
}

// Shared queues and gRPC calls.

#[test]
fn shared_queues_answer_as_cpp_hosts_shared_queue() {
    // cpp-host shared_queue.cc: tokens from 1, one per (vm_id, name); resolve NotFound
    // for an unknown name (context.cc lookupSharedQueue, an empty vm_id is the VM's own);
    // dequeue NotFound/Empty; enqueue NotFound for an unknown token, else Ok and
    // proxy_on_queue_ready(root, token) on the registering root context, later.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let ops = "resolve:jobs;register:jobs;register:jobs;resolve:jobs;resolve-vm:other:jobs;dequeue:1;dequeue:99;enqueue:99:x;enqueue:1:hello";
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-queue-ops", ops));
    assert_eq!(outcome.header("x-probe-queue-ops"), Some("1:0,0:1,0:1,0:1,1:0,7:,1:,1,0"));
    let lines = messages(&outcome, "a");
    let queue: Vec<&String> = lines.iter().filter(|l| l.starts_with("queue_")).collect();
    assert_eq!(queue, ["queue_ready token=1", "queue_item data=hello", "queue_drained status=7"], "{lines:#?}");
    // The queue outlives the stream: a later request finds it, items wait for a dequeue.
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-queue-ops", "resolve:jobs;enqueue:1:a;enqueue:1:b"));
    assert_eq!(outcome.header("x-probe-queue-ops"), Some("0:1,0,0"));
    let queue: Vec<String> = messages(&outcome, "a").into_iter().filter(|l| l.starts_with("queue_")).collect();
    assert_eq!(queue, ["queue_ready token=1", "queue_item data=a", "queue_item data=b", "queue_drained status=7", "queue_ready token=1", "queue_drained status=7"]);
}

#[test]
fn registering_a_queue_again_moves_its_notifications_to_the_new_root_context() {
    // registerQueue keeps the token and the data and sets context_id to the caller's root
    // (a stream context's parent); enqueue captures the registrant when it is called and
    // posts proxy_on_queue_ready there. Filters a then b run the same ops in one stream:
    // a's item notifies a, b's (after b registered) notifies b; both run after the
    // stream, when both items are queued.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", ""), probe("b", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-queue-ops", "register:jobs;enqueue:1:x"));
    let queue = |filter: &str| -> Vec<String> { messages(&outcome, filter).into_iter().filter(|l| l.starts_with("queue_")).collect() };
    assert_eq!(queue("a"), ["queue_ready token=1", "queue_item data=x", "queue_item data=x", "queue_drained status=7"]);
    assert_eq!(queue("b"), ["queue_ready token=1", "queue_drained status=7"]);
}

#[test]
fn grpc_call_answers_for_unknown_clusters_and_is_not_performed_otherwise() {
    // context.cc Context::grpcCall: bytes that do not parse as a GrpcService are a
    // cluster name; an unknown cluster is ParseFailure (4). A known cluster (or a
    // GrpcService) would be called: the harness does not, Unimplemented (12).
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-queue-ops", "grpc:nowhere;grpc:echo;grpc:hex:"));
    assert_eq!(outcome.header("x-probe-queue-ops"), Some("4,12,12"));
    assert!(wasm_harness::abi::parses_as_protobuf(b""));
    assert!(wasm_harness::abi::parses_as_protobuf(&[0x0a, 0x02, 0x0a, 0x00]), "envoy_grpc {{cluster_name: \"\"}}");
    for name in ["nowhere", "echo", "httpbin", "127.0.0.1:8080", "outbound|80||svc.ns.svc.cluster.local"] {
        assert!(!wasm_harness::abi::parses_as_protobuf(name.as_bytes()), "{name}");
    }
}

// Kong's engine's proxy_get_log_level.

#[test]
fn kong_declares_proxy_get_log_level_with_two_parameters() {
    // ngx_wasm_module 3bed278 ngx_proxy_wasm_host.c: `proxy_get_log_level`,
    // ngx_wavm_arity_i32x2, ngx_proxy_wasm_hfuncs_nop. A module importing the ABI's
    // one-parameter form does not instantiate (checked by hand, docs/hosts.md); the
    // two-parameter form links and traps when called (ngx_wavm_host.c NGX_WAVM_NYI: "host
    // function not yet implemented: proxy_get_log_level").
    let kong = |params: usize| ChainSpec {
        filters: vec![FilterSpec { name: "lvl".into(), module: common::log_level_module(params), config: serde_json::Value::Null, root_id: None }],
        profile: wasm_harness::HostProfile::Kong,
        ..ChainSpec::default()
    };
    let text = format!("{:#}", harness().chain(&kong(1)).err().expect("does not instantiate"));
    assert!(text.contains("[emerg] failed instantiating \"wasm-harness-log-level-1-"), "{text}");
    assert!(text.contains("incompatible import type") && text.contains("proxy_get_log_level"), "{text}");
    assert!(text.contains("[emerg] [proxy-wasm] failed initializing \"lvl\" filter (unknown error)"), "{text}");
    let text = format!("{:#}", harness().chain(&kong(2)).err().expect("traps in on_configure"));
    assert!(text.contains("host function not yet implemented: proxy_get_log_level"), "{text}");
    // The probe does not import it, so it loads on both profiles.
    let probe_only = ChainSpec { filters: vec![probe("a", "")], profile: wasm_harness::HostProfile::Kong, ..ChainSpec::default() };
    assert!(harness().chain(&probe_only).is_ok());
}

// One fact each of envoy-host.md that the tests above leave open (issue 23).

#[test]
fn request_header_reads_after_continue_are_bad_argument_and_readable_again_in_on_log() {
    // context.cc Context::decodeHeaders nulls request_headers_ once the callback
    // continues: getHeaderMapValue answers BadArgument (2), getHeaderMapPairs an empty
    // Ok; getMap hands the map out again in the access-log phase (access_log_phase_).
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-map-probe", "read-request-later"));
    let lines = messages(&outcome, "a");
    assert!(lines.contains(&"late read status=2 pairs=0".to_string()), "{lines:#?}");
    assert!(lines.contains(&"log read status=0 value=read-request-later".to_string()), "{lines:#?}");
}

#[test]
fn header_writes_in_on_log_of_a_stream_no_filter_saw_are_bad_argument() {
    // envoy-host.md "Before any filter runs": proxy_on_log runs for the connection
    // manager's own 400; its request headers cannot be written (context.cc
    // replaceHeaderMapValue on a missing or access-log map: BadArgument).
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "log_write=1")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("bad header", "x"));
    assert_eq!(outcome.status, 400);
    assert!(messages(&outcome, "a").contains(&"log write status=2".to_string()), "{:#?}", outcome.logs);
}

#[test]
fn a_held_response_buffered_past_the_limit_is_a_500() {
    // filter_manager.cc ActiveStreamEncoderFilter::responseDataTooLarge: while the
    // response headers have not been encoded, a 500 local reply (the reset case is in
    // a_buffered_body_past_the_buffer_limit_ends_the_stream).
    let spec = ChainSpec {
        filters: vec![probe("a", "")],
        envoy: EnvoyMode::V1_35_HOLD,
        body_chunk_size: Some(4),
        buffer_limit_bytes: Some(8),
        ..ChainSpec::default()
    };
    let mut chain = harness().chain(&spec).expect("chain");
    let upstream = wasm_harness::UpstreamSpec { body: Some("0123456789".into()), ..Default::default() };
    let request = RequestSpec { upstream: Some(upstream), ..RequestSpec::get("/").header("x-buffer", "response").header("x-pause-response-headers", "1") };
    let outcome = run(&mut chain, request);
    assert!(!outcome.reset, "{outcome:?}");
    assert_eq!(outcome.status, 500, "{outcome:?}");
}

#[test]
fn http_call_needs_method_path_and_authority_present_and_empty_values_pass() {
    // Envoy context.cc Context::httpCall: `Path() == nullptr || Method() == nullptr ||
    // Host() == nullptr` -> BadArgument; a present header with an empty value is not null.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    for name in [":method", ":path", ":authority"] {
        let outcome = run(&mut chain, RequestSpec::get("/").header("x-call", "echo").header("x-call-omit", name));
        assert_eq!(outcome.header("x-probe-call-status"), Some("dispatch failed BadArgument"), "{name} missing");
        let outcome = run(&mut chain, RequestSpec::get("/").header("x-call", "echo").header("x-call-empty", name));
        assert_eq!(outcome.header("x-probe-call-status"), Some("200"), "{name} empty passes");
    }
}

#[test]
fn http_call_timeouts_zero_is_none_negative_is_bad_argument_and_expiry_is_a_504() {
    // Envoy context.cc Context::httpCall: `timeout_milliseconds < 0` -> BadArgument (the
    // ABI's u32 read as int, so 4294967295 is -1); 0 sets no timeout; the router's timeout
    // answers 504 `upstream request timeout` (router.cc onResponseTimeout) as an ordinary
    // response.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-call", "echo").header("x-call-timeout", "4294967295"));
    assert_eq!(outcome.header("x-probe-call-status"), Some("dispatch failed BadArgument"));
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-call", "echo").header("x-call-timeout", "0"));
    assert_eq!(outcome.header("x-probe-call-status"), Some("200"), "no timeout, an answer");
    // A loopback server that accepts and never answers (held 2 s at most).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = std::thread::spawn(move || {
        let held = listener.accept().map(|(socket, _)| socket);
        std::thread::sleep(std::time::Duration::from_millis(2000));
        drop(held);
    });
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-call", &format!("127.0.0.1:{port}")).header("x-call-timeout", "200"));
    silent.join().unwrap();
    assert_eq!(outcome.header("x-probe-call-status"), Some("504"));
    assert_eq!(outcome.header("x-probe-call-body"), Some("upstream request timeout"));
}

/// A proxy-wasm module that dispatches `proxy_http_call` to cluster `echo` from its
/// request headers (and pauses), and in `proxy_on_http_call_response` logs `root` when
/// the context id it is called with is its root context's, `stream` otherwise, then
/// resumes the stream (`proxy_set_effective_context`, `proxy_continue_stream`).
fn call_context_module() -> std::path::PathBuf {
    use wasm_encoder::{
        BlockType, CodeSection, ConstExpr, DataSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalSection,
        GlobalType, ImportSection, Instruction as I, MemorySection, MemoryType, Module, TypeSection, ValType,
    };
    let i32s = |n: usize| vec![ValType::I32; n];
    let mut types = TypeSection::new();
    types.ty().function(i32s(10), i32s(1)); // 0: proxy_http_call
    types.ty().function(i32s(3), i32s(1)); // 1: proxy_log, on_request_headers and the other stream callbacks
    types.ty().function(i32s(1), i32s(1)); // 2: set_effective_context, continue_stream, on_done
    types.ty().function(i32s(2), []); // 3: on_context_create
    types.ty().function(i32s(2), i32s(1)); // 4: on_vm_start, on_configure
    types.ty().function(i32s(5), []); // 5: on_http_call_response
    types.ty().function(i32s(1), []); // 6: on_log, on_delete
    let mut imports = ImportSection::new();
    imports.import("env", "proxy_http_call", EntityType::Function(0)); // f0
    imports.import("env", "proxy_log", EntityType::Function(1)); // f1
    imports.import("env", "proxy_set_effective_context", EntityType::Function(2)); // f2
    imports.import("env", "proxy_continue_stream", EntityType::Function(2)); // f3
    let mut functions = FunctionSection::new();
    for ty in [3, 4, 1, 1, 5, 6, 2] {
        functions.function(ty); // f4 create, f5 start/configure, f6 request headers, f7 continue, f8 call response, f9 log/delete, f10 done
    }
    let mut memories = MemorySection::new();
    memories.memory(MemoryType { minimum: 1, maximum: None, memory64: false, shared: false, page_size_log2: None });
    let mut globals = GlobalSection::new();
    for _ in 0..2 {
        globals.global(GlobalType { val_type: ValType::I32, mutable: true, shared: false }, &ConstExpr::i32_const(0)); // 0 root, 1 stream
    }
    let headers = wasm_harness::abi::serialize_map(&[
        (":method".into(), b"GET".to_vec()),
        (":path".into(), b"/".to_vec()),
        (":authority".into(), b"echo".to_vec()),
    ]);
    let mut data = DataSection::new();
    data.active(0, &ConstExpr::i32_const(100), b"echo".to_vec());
    data.active(0, &ConstExpr::i32_const(200), headers.clone());
    data.active(0, &ConstExpr::i32_const(600), b"rootstream".to_vec());
    let mut exports = ExportSection::new();
    exports
        .export("memory", ExportKind::Memory, 0)
        .export("proxy_on_context_create", ExportKind::Func, 4)
        .export("proxy_on_vm_start", ExportKind::Func, 5)
        .export("proxy_on_configure", ExportKind::Func, 5)
        .export("proxy_on_request_headers", ExportKind::Func, 6)
        .export("proxy_on_request_body", ExportKind::Func, 7)
        .export("proxy_on_response_headers", ExportKind::Func, 7)
        .export("proxy_on_response_body", ExportKind::Func, 7)
        .export("proxy_on_http_call_response", ExportKind::Func, 8)
        .export("proxy_on_log", ExportKind::Func, 9)
        .export("proxy_on_delete", ExportKind::Func, 9)
        .export("proxy_on_done", ExportKind::Func, 10);
    let mut code = CodeSection::new();
    let body = |instructions: &[I]| {
        let mut f = Function::new([]);
        for i in instructions {
            f.instruction(i);
        }
        f
    };
    // on_context_create(id, parent): parent 0 is the root.
    code.function(&body(&[
        I::LocalGet(1),
        I::I32Eqz,
        I::If(BlockType::Empty),
        I::LocalGet(0),
        I::GlobalSet(0),
        I::Else,
        I::LocalGet(0),
        I::GlobalSet(1),
        I::End,
        I::End,
    ]));
    code.function(&body(&[I::I32Const(1), I::End]));
    // on_request_headers: proxy_http_call("echo", headers, no body, no trailers, 1000 ms, token at 400); Pause (1).
    code.function(&body(&[
        I::I32Const(100),
        I::I32Const(4),
        I::I32Const(200),
        I::I32Const(headers.len() as i32),
        I::I32Const(0),
        I::I32Const(0),
        I::I32Const(0),
        I::I32Const(0),
        I::I32Const(1000),
        I::I32Const(400),
        I::Call(0),
        I::Drop,
        I::I32Const(1),
        I::End,
    ]));
    code.function(&body(&[I::I32Const(0), I::End]));
    // on_http_call_response(context, token, ...): log which context, then resume.
    code.function(&body(&[
        I::LocalGet(0),
        I::GlobalGet(0),
        I::I32Eq,
        I::If(BlockType::Result(ValType::I32)),
        I::I32Const(2),
        I::I32Const(600),
        I::I32Const(4),
        I::Call(1),
        I::Else,
        I::I32Const(2),
        I::I32Const(604),
        I::I32Const(6),
        I::Call(1),
        I::End,
        I::Drop,
        I::GlobalGet(1),
        I::Call(2),
        I::Drop,
        I::I32Const(0),
        I::Call(3),
        I::Drop,
        I::End,
    ]));
    code.function(&body(&[I::End]));
    code.function(&body(&[I::I32Const(1), I::End]));
    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&functions)
        .section(&memories)
        .section(&globals)
        .section(&exports)
        .section(&code)
        .section(&data);
    let path = std::env::temp_dir().join(format!("wasm-harness-call-context-{}.wasm", std::process::id()));
    std::fs::write(&path, module.finish()).expect("write the generated module");
    path
}

#[test]
fn http_call_responses_arrive_on_the_root_context() {
    // proxy-wasm-cpp-host exports.cc http_call: `contextOrEffectiveContext()->root_context()`
    // makes the call, so Envoy calls proxy_on_http_call_response(root id, token, ...);
    // ngx_wasm_module calls it on the stream's context.
    let module = call_context_module();
    let filter = FilterSpec { name: "caller".into(), module, config: serde_json::Value::Null, root_id: None };
    for (profile, expected) in [(wasm_harness::HostProfile::Envoy, "root"), (wasm_harness::HostProfile::Kong, "stream")] {
        let spec = ChainSpec { filters: vec![filter.clone()], profile, ..ChainSpec::default() };
        let mut chain = harness().chain(&spec).expect("chain");
        let outcome = run(&mut chain, RequestSpec::get("/"));
        assert_eq!(outcome.status, 200, "{profile:?}: resumed: {outcome:?}");
        assert!(messages(&outcome, "caller").contains(&expected.to_string()), "{profile:?}: {:#?}", outcome.logs);
    }
}

#[test]
fn filter_state_one_filter_sets_is_read_by_the_next() {
    // context.cc Context::setProperty: filter state of the stream (`wasm.<path>`), one
    // per stream, so the next filter reads what the first set.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", ""), probe("b", "")]);
    let request = RequestSpec::get("/").header("x-set-property", "my_key=v1").header("x-set-property-only", "a").header("x-property", "my_key");
    let outcome = run(&mut chain, request);
    let read: Vec<&str> = outcome.headers.iter().filter(|(n, _)| n == "x-probe-property").map(|(_, v)| v.as_str()).collect();
    assert_eq!(read, ["v1", "v1"], "b reads a's value");
    let set: Vec<&str> = outcome.headers.iter().filter(|(n, _)| n == "x-probe-set-status").map(|(_, v)| v.as_str()).collect();
    assert_eq!(set, ["0"], "only a wrote");
}

#[test]
fn record_metric_sets_a_gauge() {
    // context.cc recordMetric: a gauge is set to the value (a counter adds: see
    // metrics_get_a_new_id_per_definition_and_counters_only_grow).
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-gauge", "level"));
    assert_eq!(outcome.header("x-probe-gauge"), Some("3"));
}

#[test]
fn ticks_belong_to_each_root_context() {
    // cpp-host: proxy_set_tick_period sets the period of the calling root context
    // (Envoy context.cc setTickPeriod on root_context_id_); a filter that set none
    // never ticks.
    let spec = ChainSpec { filters: vec![probe("a", "tick=10"), probe("b", "")], ..ChainSpec::default() };
    let mut chain = harness().chain(&spec).expect("chain");
    chain.take_logs();
    assert_eq!(chain.tick().unwrap(), 1);
    let ticked: Vec<String> = chain.take_logs().into_iter().filter(|l| l.message.starts_with("tick")).map(|l| l.filter).collect();
    assert_eq!(ticked, ["a"]);
}

#[test]
fn properties_name_the_plugin_the_route_and_encode_values_as_envoy() {
    // context.cc: plugin_root_id is the root_id, plugin_vm_id the vm_id (the harness's
    // chain has an empty one), route_name the picked route's; `request.time` a timestamp
    // in ns as an 8-byte little-endian integer; `request.headers` a map value
    // serialized as the ABI's pairs (serializeValue); an unknown path NotFound.
    let routes = serde_json::from_value(serde_json::json!([{"name": "api", "prefix": "/", "cluster": "api_cluster"}])).unwrap();
    let spec = ChainSpec { filters: vec![probe("a", "")], routes, ..ChainSpec::default() };
    let mut chain = harness().chain(&spec).expect("chain");
    let read = "plugin_root_id,plugin_vm_id,route_name,cluster_name,no.such.path";
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-properties", read));
    assert_eq!(outcome.header("x-probe-properties"), Some("a||api|api_cluster|<missing>"));
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-property", "request.time"));
    let hex = outcome.header("x-probe-property").and_then(|v| v.strip_prefix("hex:")).expect("bytes").to_string();
    let bytes: Vec<u8> = (0..16).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    assert_eq!(hex.len(), 16, "8 bytes");
    let ns = u64::from_le_bytes(bytes.try_into().unwrap());
    assert!(ns > 1_577_836_800_000_000_000, "after 2020, in ns: {ns}");
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-property", "request.headers"));
    let hex = outcome.header("x-probe-property").and_then(|v| v.strip_prefix("hex:")).expect("bytes").to_string();
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    let pairs = wasm_harness::abi::deserialize_map(&bytes).expect("serialized pairs");
    assert!(pairs.iter().any(|(n, v)| n == ":path" && v == b"/"), "{pairs:?}");
    assert!(pairs.iter().any(|(n, v)| n == "x-property" && v == b"request.headers"), "{pairs:?}");
}

#[test]
fn plugin_name_is_the_name_and_plugin_root_id_the_root_id() {
    // Envoy context.cc Context::getProperty: `plugin_name` is the plugin's `name`,
    // `plugin_root_id` its `root_id`; they differ when the configuration says so.
    let mut filter = probe("auth", "");
    filter.root_id = Some("pre-function".into());
    let mut chain = envoy(EnvoyMode::default(), vec![filter]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-properties", "plugin_name,plugin_root_id"));
    assert_eq!(outcome.header("x-probe-properties"), Some("auth|pre-function"));
    // The shipped filter takes its role from `plugin_root_id` at configure (src/glue/root.rs).
    let shipped = FilterSpec {
        name: "auth".into(),
        module: shipped_module(),
        config: serde_json::json!({ "access": ["kong.log.notice('here')"] }),
        root_id: Some("post-function".into()),
    };
    let mut chain = envoy(EnvoyMode::default(), vec![shipped]);
    let outcome = run(&mut chain, RequestSpec::get("/"));
    assert!(messages(&outcome, "auth").iter().any(|m| m == "[post-function] here"), "{:?}", outcome.logs);
}

#[test]
fn a_request_the_client_never_finishes_ends_at_the_idle_timeout_with_408() {
    // conn_manager_impl.cc onIdleTimeout: 408 while the request is incomplete (504 once it
    // was complete, a_bodiless_request_held_for_good_times_out_in_every_mode): the filter
    // saw the body it got, never an end of stream, and the upstream nothing.
    let partial = || {
        let mut request = RequestSpec::get("/upload").header("content-length", "100");
        request.method = Some("POST".into());
        request.body = Some("first part".into());
        request.incomplete = true;
        request
    };
    for (name, request) in [("streaming", partial()), ("held", partial().header("x-pause", "forever"))] {
        let mut chain = envoy(EnvoyMode::default(), vec![probe("a", "")]);
        let outcome = run(&mut chain, request);
        assert_eq!((outcome.status, outcome.body.as_str()), (408, "stream timeout"), "{name}");
        assert!(outcome.upstream.is_none() && outcome.hung.is_some(), "{name}");
    }
    // nginx: client_body_timeout, 408 as well, the body callback never called.
    let spec = ChainSpec { filters: vec![probe("a", "")], profile: wasm_harness::HostProfile::Kong, ..ChainSpec::default() };
    let mut chain = harness().chain(&spec).expect("chain");
    let outcome = run(&mut chain, partial());
    assert_eq!(outcome.status, 408);
    assert!(outcome.upstream.is_none());
    // A request without Content-Length or Transfer-Encoding ends at its headers: complete.
    let mut chain = envoy(EnvoyMode::default(), vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec { incomplete: true, ..RequestSpec::get("/") });
    assert_eq!(outcome.status, 200);
}

#[test]
fn a_local_reply_forces_the_callback_to_stop() {
    // Envoy context.cc Context::sendLocalResponse marks `local_reply_sent_` and holds the
    // reply (`local_reply_hold_`) until the VM call returns; the headers callback then
    // stops whatever the module returned (envoy-host.md "Local replies"): the request
    // never goes on, the later filter only logs.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", ""), probe("b", "")]);
    let request = RequestSpec::get("/").header("x-local", "request_headers").header("x-local-only", "a").header("x-local-continue", "1");
    let outcome = run(&mut chain, request);
    assert_eq!((outcome.status, outcome.body.as_str()), (418, "local from request_headers"));
    assert!(outcome.upstream.is_none());
    let b = messages(&outcome, "b");
    assert!(!b.iter().any(|l| l.starts_with("request_") || l.starts_with("response_")), "{b:#?}");
}

#[test]
fn get_buffer_bytes_on_an_empty_range_is_ok_with_size_0() {
    // Envoy context.cc Buffer::copyTo: an empty range of the (empty) end-of-stream body
    // copies nothing and answers Ok with size 0.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, post("/", "hello").header("x-get-empty", "1"));
    assert!(messages(&outcome, "a").contains(&"get_empty status=0 size=0".to_string()), "{:#?}", outcome.logs);
}

#[test]
fn a_local_reply_from_the_root_context_has_no_status_range_check() {
    // context.cc Context::sendLocalResponse: from a root context (no decoder callbacks)
    // it answers Ok without looking at the status.
    let chain = envoy(EnvoyMode::V1_35, vec![probe("a", "root_local=999")]);
    assert!(chain.startup_logs.iter().any(|l| l.message == "root local status=0"), "{:#?}", chain.startup_logs);
    let mut chain = chain;
    assert_eq!(run(&mut chain, RequestSpec::get("/")).status, 200, "nothing happened to later streams");
}

// The fact index in docs/hosts.md.

#[test]
fn the_fact_index_names_existing_tests() {
    // docs/hosts.md "Fact index (envoy-host.md)": each row names `path.rs` `test_name`
    // pairs (paths from the repository root), or says the fact is not modelled. Every
    // named test must be a #[test] function in that file, so the index cannot rot.
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/hosts.md")).expect("docs/hosts.md");
    let section = doc.split("### Fact index (envoy-host.md)").nth(1).expect("the fact index section");
    let rows: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with("| Fact (envoy-host.md) | Test |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(rows.len() >= 60, "one row per fact: {} rows", rows.len());
    let mut named = 0;
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").collect();
        assert_eq!(cells.len(), 2, "two cells: {row}");
        let pieces: Vec<&str> = cells[1].split('`').collect();
        let mut pairs = Vec::new();
        // Code spans are the odd pieces; a `file.rs` span followed (after blanks only) by
        // another span names a test.
        let mut i = 1;
        while i + 2 < pieces.len() {
            if pieces[i].ends_with(".rs") && pieces[i + 1].trim().is_empty() {
                pairs.push((pieces[i], pieces[i + 2]));
                i += 4;
            } else {
                i += 2;
            }
        }
        assert!(!pairs.is_empty() || cells[1].starts_with("not modelled"), "a row names a test or says it is not modelled: {row}");
        for (file, name) in pairs {
            let text = std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("{file}: {e} (row: {row})"));
            let at = text.find(&format!("fn {name}()")).unwrap_or_else(|| panic!("{file} has no fn {name} (row: {row})"));
            let before = &text[..at];
            let attribute = before.rfind("#[test]").unwrap_or_else(|| panic!("{file}: {name} is not a #[test]"));
            assert!(!before[attribute..].contains("\n}\n"), "{file}: {name} is not a #[test]");
            named += 1;
        }
    }
    assert!(named >= 60, "{named} tests named");
}

#[test]
fn node_properties_come_from_the_bootstrap() {
    // Envoy context.cc findValue: `node` is local_info.node(), the bootstrap's `node:`
    // block; without one its fields are empty (`node.id` "").
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../envoy/envoy.yaml");
    let options = wasm_harness::hosts::LoadOptions { module: Some(common::probe_module()), ..Default::default() };
    let loaded = wasm_harness::hosts::load(&path, &options).expect("envoy.yaml loads");
    let read = |spec: &ChainSpec| {
        let mut chain = harness().chain(spec).expect("chain");
        let outcome = run(&mut chain, RequestSpec::get("/").header("x-properties", "node.id,node.cluster"));
        outcome.header("x-probe-properties").map(str::to_string)
    };
    assert_eq!(read(&loaded.spec).as_deref(), Some("kong-functions-demo|kong-functions"));
    // The same bootstrap without its node block.
    let text = std::fs::read_to_string(&path).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !(l.starts_with("node:") || l.starts_with("  id: kong-functions-demo") || l.starts_with("  cluster: kong-functions")))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!without.contains("kong-functions-demo"));
    let copy = std::env::temp_dir().join(format!("wasm-harness-no-node-{}", std::process::id()));
    std::fs::create_dir_all(&copy).unwrap();
    let file = copy.join("envoy.yaml");
    std::fs::write(&file, without).unwrap();
    let loaded = wasm_harness::hosts::load(&file, &options).expect("the copy loads");
    assert_eq!(read(&loaded.spec).as_deref(), Some("|"));
    let _ = std::fs::remove_dir_all(&copy);
}

#[test]
fn with_fail_open_a_failed_vm_lets_streams_skip_the_filters() {
    // wasm_filter.cc createFilter: a failed VM with fail_open (failure_policy FAIL_OPEN)
    // adds no Wasm filter to the stream, which goes on to the upstream without them;
    // fail closed answers 503 (a_trap_fails_the_vm_for_every_later_stream).
    let spec = ChainSpec { filters: vec![probe("a", ""), probe("b", "")], fail_open: true, ..ChainSpec::default() };
    let mut chain = harness().chain(&spec).expect("chain");
    assert!(chain.run(&RequestSpec::get("/").header("x-trap", "1")).is_err());
    let outcome = run(&mut chain, RequestSpec::get("/next").header("x-trap", "1"));
    assert_eq!(outcome.status, 200, "{outcome:?}");
    assert!(outcome.logs.iter().all(|l| l.filter != "a" && l.filter != "b"), "no filter ran: {:#?}", outcome.logs);
    assert_eq!(outcome.header("x-probe-requests"), None);
    assert_eq!(outcome.upstream.expect("upstream").path, "/next");
    // The shipped envoy.yaml fails closed.
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../envoy/envoy.yaml");
    let options = wasm_harness::hosts::LoadOptions { module: Some(common::probe_module()), ..Default::default() };
    assert!(!wasm_harness::hosts::load(&path, &options).expect("envoy.yaml loads").spec.fail_open);
}

#[test]
fn a_local_replys_details_become_the_response_code_details() {
    // Envoy context.cc Context::sendLocalResponse: the details with whitespace turned
    // into `_` (StringUtil::replaceAllEmptySpace) go to sendLocalReply as the response
    // code details (`response.code_details`); an upstream answer is `via_upstream`.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let request = RequestSpec::get("/").header("x-local", "request_headers").header("x-local-details", "not allowed here").header("x-log-property", "response.code_details");
    let outcome = run(&mut chain, request);
    assert_eq!(outcome.status, 418);
    assert!(messages(&outcome, "a").contains(&"log property response.code_details = not_allowed_here".to_string()), "{:#?}", outcome.logs);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-log-property", "response.code_details"));
    assert!(messages(&outcome, "a").contains(&"log property response.code_details = via_upstream".to_string()), "{:#?}", outcome.logs);
}

#[test]
fn a_call_reset_after_its_headers_answers_zero_headers() {
    // Envoy context.cc Context::onHttpCallFailure (the async client's onFailure, reason
    // Reset): onHttpCallResponse(token, 0, 0, 0). A connection that breaks before the
    // headers is the router's ordinary 503 instead (abi.rs, the refused port).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut socket, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = socket.read(&mut buf);
        // Headers promising 100 bytes, 3 sent, then the connection closes.
        socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc").unwrap();
    });
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-call", &format!("127.0.0.1:{port}")));
    server.join().unwrap();
    assert_eq!(outcome.status, 200, "the stream goes on");
    assert_eq!(outcome.header("x-probe-call-status"), Some("none"), "no :status");
    assert!(messages(&outcome, "a").iter().any(|l| l.starts_with("http_call_response") && l.ends_with("headers=0 body=0")), "{:#?}", outcome.logs);
}

#[test]
fn the_connection_manager_strips_upgrade_and_transfer_encoding_unless_upgrading() {
    // conn_manager_utility.cc mutateRequestHeaders: `transfer-encoding` always goes;
    // `upgrade` (and `connection`) unless the request is an upgrade (Utility::isUpgrade:
    // `connection: upgrade` and an `upgrade` header).
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let request = post("/", "hello").header("transfer-encoding", "chunked").header("upgrade", "foo");
    let outcome = run(&mut chain, request);
    let upstream = outcome.upstream.expect("upstream");
    for gone in ["transfer-encoding", "upgrade"] {
        assert!(upstream.header(gone).is_none(), "{gone} removed: {:?}", upstream.headers);
    }
    assert_eq!(upstream.body, "hello");
}

#[test]
fn response_headers_read_as_a_property_are_serialized_pairs() {
    // context.cc serializeValue of the `response.headers` map, read in on_log.
    let mut chain = envoy(EnvoyMode::V1_35, vec![probe("a", "")]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-log-property", "response.headers"));
    let line = messages(&outcome, "a").into_iter().find(|l| l.starts_with("log property response.headers = ")).expect("logged");
    let hex = line.rsplit("hex:").next().expect("bytes").to_string();
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    let pairs = wasm_harness::abi::deserialize_map(&bytes).expect("serialized pairs");
    assert!(pairs.iter().any(|(n, v)| n == ":status" && v == b"200"), "{pairs:?}");
}
