//! The `kong` profile against Kong's real Wasm engine (nginx 1.27.4 + ngx_wasm_module
//! 3bed278) as measured in `shared/design/kong-engine.md`: one test per behaviour, through
//! the probe filter (`filters/probe`). Each test fails if the harness stops modelling it.
//! Sources are listed in `docs/hosts.md`.

mod common;

use common::{harness, probe, probe_module};

use wasm_harness::{Chain, ChainSpec, FilterSpec, HostProfile, Outcome, RequestSpec};


fn kong_spec(filters: Vec<FilterSpec>) -> ChainSpec {
    ChainSpec { filters, profile: HostProfile::Kong, ..ChainSpec::default() }
}

fn kong(names: &[&str]) -> Chain {
    harness().chain(&kong_spec(names.iter().map(|n| probe(n, "")).collect())).expect("chain")
}

fn run(chain: &mut Chain, request: RequestSpec) -> Outcome {
    chain.run(&request).expect("request runs")
}

fn lines(outcome: &Outcome) -> Vec<String> {
    outcome.logs.iter().map(|l| format!("{}: [{}] {}", l.filter, l.level, l.message)).collect()
}

fn post(path: &str, body: &str) -> RequestSpec {
    RequestSpec { method: Some("POST".into()), body: Some(body.into()), ..RequestSpec::get(path) }
}

// 1. Start-up.

#[test]
fn startup_refuses_dotted_properties_and_answers_root_id_0() {
    let config = "read=kong.version,kong.configuration.untrusted_lua,ngx.nginx_version,plugin_root_id,plugin_vm_id;vm_read=kong.version";
    let mut spec = kong_spec(vec![probe("a", config)]);
    spec.properties.insert("kong.configuration.untrusted_lua".into(), "sandbox".into());
    let chain = harness().chain(&spec).unwrap();
    let logs: Vec<String> = chain.startup_logs.iter().map(|l| format!("[{}] {}", l.level, l.message)).collect();
    let refused = "[error] [wasm] cannot get scoped properties outside of a request";
    assert_eq!(logs.iter().filter(|l| *l == refused).count(), 4, "one line per dotted read: {logs:#?}");
    // NGX_ERROR without a message: InternalFailure (10).
    assert!(logs.contains(&"[info] configure property kong.version = <status 10>".to_string()), "{logs:#?}");
    assert!(logs.contains(&"[info] vm_start property kong.version = <status 10>".to_string()), "{logs:#?}");
    assert!(logs.contains(&"[info] configure property kong.configuration.untrusted_lua = <status 10>".to_string()));
    assert!(logs.contains(&"[info] configure property plugin_root_id = 0".to_string()));
    assert!(logs.contains(&"[alert] [wasm] NYI - \"plugin_vm_id\" property".to_string()), "{logs:#?}");
    assert!(logs.contains(&"[info] configure property plugin_vm_id = <missing>".to_string()));
}

#[test]
fn in_a_request_plugin_name_is_the_filter_and_root_id_0_and_vm_id_nyi() {
    let mut chain = kong(&["first", "second"]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-properties", "plugin_name,plugin_root_id,plugin_vm_id"));
    let seen: Vec<&str> = outcome.headers.iter().filter(|(n, _)| n == "x-probe-properties").map(|(_, v)| v.as_str()).collect();
    assert_eq!(seen, ["second|0|<missing>", "first|0|<missing>"]);
    assert!(lines(&outcome).contains(&"first: [alert] [wasm] NYI - \"plugin_vm_id\" property".to_string()));
}

#[test]
fn plugin_name_in_on_configure_crashes_the_worker() {
    let error = harness().chain(&kong_spec(vec![probe("crashy", "read=plugin_name")])).err().expect("crash");
    let text = format!("{error:#}");
    assert!(text.contains("nginx worker crashed (SIGSEGV): plugin_name read in on_configure"), "{text}");
    assert!(text.contains("ngx_proxy_wasm_properties.c"), "{text}");
    assert!(wasm_harness::chain::is_host_crash(&error));
    // Also in on_vm_start.
    let error = harness().chain(&kong_spec(vec![probe("crashy", "vm_read=plugin_name")])).err().expect("crash");
    assert!(wasm_harness::chain::is_host_crash(&error));
    // Envoy answers it.
    let spec = ChainSpec { filters: vec![probe("fine", "read=plugin_name")], ..ChainSpec::default() };
    assert!(harness().chain(&spec).is_ok());
}

#[test]
fn plugin_name_crash_exits_the_cli_with_2() {
    let dir = std::env::temp_dir().join(format!("kong-engine-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chain = dir.join("chain.json");
    let spec = serde_json::json!({"profile": "kong", "filters": [{"name": "crashy", "module": probe_module(), "config": "read=plugin_name"}]});
    std::fs::write(&chain, spec.to_string()).unwrap();
    let requests = dir.join("req.json");
    std::fs::write(&requests, r#"{"path": "/"}"#).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wasm-harness")).args(["run", chain.to_str().unwrap(), requests.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nginx worker crashed (SIGSEGV)"));
}

// 2. on_configure returning false.

#[test]
fn on_configure_false_fails_initializing_with_the_startup_logs() {
    let error = harness().chain(&kong_spec(vec![probe("ok", ""), probe("picky", "configure=false;read=kong.version")])).err().expect("rejected");
    let text = format!("{error:#}");
    assert!(text.contains("[emerg] [proxy-wasm] failed initializing \"picky\" filter (on_configure failure)"), "{text}");
    assert!(text.contains("[info] configure"), "start-up logs follow: {text}");
    assert!(text.contains("[error] [wasm] cannot get scoped properties outside of a request"), "{text}");
    assert!(!wasm_harness::chain::is_host_crash(&error));
}

// 3. end_of_stream false in request headers; 6. one body callback, none for no body.

#[test]
fn request_headers_eos_false_and_no_body_callback_without_a_body() {
    let mut chain = kong(&["a"]);
    let outcome = run(&mut chain, RequestSpec::get("/"));
    let trace = lines(&outcome);
    assert!(trace.contains(&"a: [info] request_headers headers=4 eos=false".to_string()), "{trace:#?}");
    assert!(!trace.iter().any(|l| l.contains("request_body")), "no body, no callback: {trace:#?}");
    let empty = run(&mut chain, RequestSpec { body: Some("".into()), ..RequestSpec::get("/").header("content-length", "0") });
    assert!(!lines(&empty).iter().any(|l| l.contains("request_body")));
}

#[test]
fn the_body_arrives_once_whole_with_eos_whatever_the_chunk_size() {
    let spec = ChainSpec { body_chunk_size: Some(3), ..kong_spec(vec![probe("a", ""), probe("b", "")]) };
    let mut chain = harness().chain(&spec).unwrap();
    let outcome = run(&mut chain, post("/", "abcdefghij"));
    let bodies: Vec<String> = lines(&outcome).into_iter().filter(|l| l.contains("request_body")).collect();
    assert_eq!(bodies, ["a: [info] request_body size=10 eos=true body=abcdefghij", "b: [info] request_body size=10 eos=true body=abcdefghij"]);
    assert_eq!(outcome.upstream.unwrap().body, "abcdefghij");
}

#[test]
fn paused_request_headers_are_never_resumed_by_the_body() {
    let mut chain = kong(&["a", "b"]);
    let outcome = run(&mut chain, post("/", "payload").header("x-pause", "forever"));
    assert_eq!(outcome.status, 408, "{outcome:#?}");
    assert!(outcome.body.starts_with("hung: request headers paused and never resumed"), "{}", outcome.body);
    assert!(outcome.upstream.is_none());
    let trace = lines(&outcome);
    assert!(!trace.iter().any(|l| l.contains("request_body")), "no body callback: {trace:#?}");
    assert!(!trace.iter().any(|l| l.starts_with("b: [info] request_headers")));
    // A dispatch response still wakes it; then the body is read.
    let outcome = run(&mut chain, post("/", "payload").header("x-call", "echo"));
    assert_eq!(outcome.status, 200);
    assert!(lines(&outcome).contains(&"b: [info] request_body size=7 eos=true body=payload".to_string()));
}

// 7. Bodies over client_body_buffer_size.

#[test]
fn a_body_over_client_body_buffer_size_cannot_be_read() {
    let mut chain = kong(&["a"]);
    let big = "x".repeat(16 * 1024 + 1);
    let outcome = run(&mut chain, post("/", &big));
    let trace = lines(&outcome);
    assert!(trace.contains(&format!("a: [info] request_body size={} eos=true body=", big.len())), "{trace:#?}");
    assert!(trace.iter().any(|l| l.starts_with("a: [error] [wasm] cannot read request body buffered to file")), "{trace:#?}");
    assert_eq!(outcome.upstream.unwrap().body.len(), big.len(), "still proxied");
    // 16 KiB exactly is in memory; the limit is a ChainSpec field.
    let exact = run(&mut chain, post("/", &"y".repeat(16 * 1024)));
    assert!(!lines(&exact).iter().any(|l| l.contains("buffered to file")));
    let spec = ChainSpec { client_body_buffer_size: Some(4), ..kong_spec(vec![probe("a", "")]) };
    let small = run(&mut harness().chain(&spec).unwrap(), post("/", "hello"));
    assert!(lines(&small).iter().any(|l| l.contains("buffered to file")));
}

// 8. Replacing the body.

fn set_body(body: &str, spec: &str) -> Outcome {
    run(&mut kong(&["a"]), post("/", body).header("x-set-body", spec))
}

#[test]
fn set_buffer_bytes_size_caps_the_new_body_and_content_length_follows() {
    let grown = set_body("abc", "0,9,123456789");
    let upstream = grown.upstream.unwrap();
    assert_eq!((upstream.body.as_str(), upstream.header("content-length")), ("123456789", Some("9")));
    let shrunk = set_body("abcdef", "0,2,xy").upstream.unwrap();
    assert_eq!((shrunk.body.as_str(), shrunk.header("content-length")), ("xy", Some("2")));
    let emptied = set_body("abcdef", "0,0,").upstream.unwrap();
    assert_eq!((emptied.body.as_str(), emptied.header("content-length")), ("", Some("0")));
    // The old size with longer data: truncated to the old size.
    let truncated = set_body("abc", "0,3,123456789").upstream.unwrap();
    assert_eq!((truncated.body.as_str(), truncated.header("content-length")), ("123", Some("3")));
}

#[test]
fn a_content_length_the_filter_set_wins_even_when_wrong() {
    let outcome = run(&mut kong(&["a"]), post("/", "abc").header("x-set-body", "0,5,12345").header("x-set-header", "content-length=3"));
    let upstream = outcome.upstream.unwrap();
    assert_eq!((upstream.body.as_str(), upstream.header("content-length")), ("12345", Some("3")));
}

// 4. Removing request headers only marks them.

#[test]
fn removed_request_headers_still_reach_the_upstream() {
    let mut chain = kong(&["a"]);
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-secret", "s3").header("x-remove", "x-secret"));
    assert_eq!(outcome.header("x-probe-after-remove"), Some("s3"), "a single-value read still finds it");
    assert_eq!(outcome.header("x-probe-pairs-have"), Some("false"), "the pairs read omits it");
    assert_eq!(outcome.upstream.unwrap().header("x-secret"), Some("s3"));
    // Replacing the map so that the header disappears: same.
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-secret", "s3").header("x-set-pairs-drop", "x-secret"));
    assert_eq!(outcome.upstream.unwrap().header("x-secret"), Some("s3"));
    // Replacing the value with "" works: an empty header.
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-secret", "s3").header("x-set-header", "x-secret="));
    assert_eq!(outcome.upstream.unwrap().header("x-secret"), Some(""));
    // Replacing and adding work.
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-secret", "s3").header("x-set-header", "x-secret=new"));
    assert_eq!(outcome.upstream.unwrap().header("x-secret"), Some("new"));
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-set-header", "x-added=1"));
    assert_eq!(outcome.upstream.unwrap().header("x-added"), Some("1"));
}

// 5. :path, ngx.args, ngx.upstream_uri.

fn upstream_path(request: RequestSpec) -> (String, Outcome) {
    let outcome = run(&mut kong(&["a"]), request);
    (outcome.upstream.clone().expect("proxied").path, outcome)
}

#[test]
fn setting_path_changes_nothing_upstream_and_reads_back_old() {
    let (path, outcome) = upstream_path(RequestSpec::get("/orig?a=b").header("x-set-path", "/other"));
    assert_eq!(path, "/orig?a=b");
    assert_eq!(outcome.header("x-probe-path-after"), Some("/orig?a=b"));
}

#[test]
fn ngx_args_marks_the_uri_changed() {
    assert_eq!(upstream_path(RequestSpec::get("/orig?a=b").header("x-set-property", "ngx.args=c=d")).0, "/orig?c=d");
    assert_eq!(upstream_path(RequestSpec::get("/orig?a=b").header("x-set-property", "ngx.args=")).0, "/orig");
    let (path, _) = upstream_path(RequestSpec::get("/orig?a=b").header("x-set-path", "/other").header("x-set-property", "ngx.args="));
    assert_eq!(path, "/other");
}

#[test]
fn ngx_upstream_uri_sets_the_whole_uri_and_wins() {
    let (path, _) = upstream_path(RequestSpec::get("/orig?a=b").header("x-set-property", "ngx.upstream_uri=/up?x=1"));
    assert_eq!(path, "/up?x=1");
    let (path, outcome) = upstream_path(
        RequestSpec::get("/orig?a=b")
            .header("x-set-path", "/other?q=1")
            .header("x-set-property", "ngx.upstream_uri=/up")
            .header("x-properties", "ngx.uri,ngx.args,ngx.request_uri,ngx.upstream_uri"),
    );
    assert_eq!(path, "/up");
    assert_eq!(outcome.header("x-probe-properties"), Some("/other|q=1|/orig?a=b|/up"));
}

#[test]
fn nginx_variables_read_back_current_values() {
    let (_, outcome) =
        upstream_path(RequestSpec::get("/p?a=b").header("x-set-property", "ngx.args=z=9").header("x-properties", "ngx.args,ngx.uri,ngx.request_uri,ngx.upstream_uri"));
    assert_eq!(outcome.header("x-probe-properties"), Some("z=9|/p|/p?a=b|/p?a=b"));
}

// 9. Local responses: a linefeed after a non-empty body, from every callback.

#[test]
fn local_responses_get_a_linefeed_counted_in_content_length() {
    let mut chain = kong(&["a"]);
    for (callback, request) in [
        ("request_headers", RequestSpec::get("/")),
        ("request_body", post("/", "payload")),
        ("http_call_response", RequestSpec::get("/").header("x-call", "echo")),
    ] {
        let outcome = run(&mut chain, request.header("x-local", callback));
        let body = format!("local from {callback}\n");
        assert_eq!((outcome.status, outcome.body.as_str()), (418, body.as_str()), "{callback}");
        assert_eq!(outcome.header("content-length"), Some(body.len().to_string().as_str()), "{callback}");
    }
}

// 10. Response headers cannot be held.

#[test]
fn pause_from_response_headers_is_ignored() {
    let outcome = run(&mut kong(&["a"]), RequestSpec::get("/").header("x-pause-response-headers", "1"));
    assert_eq!(outcome.status, 200);
    assert!(outcome.logs.iter().any(|l| l.level == "error" && l.message.contains("on_http_response_headers")));
}

// 11. Shared data zones; a trap gives 500 and a fresh instance.

#[test]
fn shared_data_without_a_zone_traps_500_and_the_next_request_runs_a_fresh_instance() {
    let mut chain = kong(&["a"]);
    let first = run(&mut chain, RequestSpec::get("/"));
    assert_eq!(first.header("x-probe-instance-requests"), Some("1"));
    assert_eq!(run(&mut chain, RequestSpec::get("/")).header("x-probe-instance-requests"), Some("2"));
    let trapped = run(&mut chain, RequestSpec::get("/").header("x-shared", "counter"));
    assert_eq!(trapped.status, 500);
    assert!(trapped.body.contains("500 Internal Server Error"));
    assert!(trapped.upstream.is_none());
    assert!(
        lines(&trapped).contains(&"a: [error] [wasm] failed setting value to shm (could not resolve namespace)".to_string()),
        "{:#?}",
        lines(&trapped)
    );
    // Next request: on_configure again, state from the first run lost.
    let next = run(&mut chain, RequestSpec::get("/"));
    assert_eq!(next.status, 200);
    assert!(lines(&next).contains(&"a: [info] configure".to_string()), "{:#?}", lines(&next));
    assert_eq!(next.header("x-probe-instance-requests"), Some("1"));
}

#[test]
fn keys_resolve_to_their_zone_or_star() {
    let spec = ChainSpec { shm_zones: vec!["kong_functions".into()], ..kong_spec(vec![probe("a", "")]) };
    let mut chain = harness().chain(&spec).unwrap();
    assert_eq!(run(&mut chain, RequestSpec::get("/").header("x-shared", "kong_functions/k")).header("x-probe-shared"), Some("v"));
    assert_eq!(run(&mut chain, RequestSpec::get("/").header("x-shared", "other/k")).status, 500, "no `*` zone");
    let spec = ChainSpec { shm_zones: vec!["*".into()], ..kong_spec(vec![probe("a", "")]) };
    let mut chain = harness().chain(&spec).unwrap();
    assert_eq!(run(&mut chain, RequestSpec::get("/").header("x-shared", "plain")).header("x-probe-shared"), Some("v"));
    assert_eq!(run(&mut chain, RequestSpec::get("/").header("x-shared", "unknown/k")).header("x-probe-shared"), Some("v"));
    assert_eq!(chain.shared_data("unknown/k").map(|(v, _)| v), Some(b"v".to_vec()));
}

#[test]
fn queue_calls_trap() {
    let spec = ChainSpec { shm_zones: vec!["*".into()], ..kong_spec(vec![probe("a", "")]) };
    let outcome = run(&mut harness().chain(&spec).unwrap(), RequestSpec::get("/").header("x-queue", "q"));
    assert_eq!(outcome.status, 500);
    assert!(lines(&outcome).contains(&"a: [error] [wasm] could not find queue".to_string()));
}

#[test]
fn the_kong_loader_reads_shm_zones_and_the_body_buffer_size() {
    let dir = std::env::temp_dir().join(format!("kong-engine-loader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("probe.wasm"), std::fs::read(probe_module()).unwrap()).unwrap();
    std::fs::write(
        dir.join("kong.yml"),
        "_format_version: \"3.0\"\nservices:\n- name: s\n  url: http://127.0.0.1:1\n  routes:\n  - name: r\n    paths: [\"/\"]\n    filter_chains:\n    - filters:\n      - name: probe\n",
    )
    .unwrap();
    std::fs::write(dir.join("kong.conf"), "wasm = on\nnginx_wasm_shm_kv_kong_functions = 1m\nnginx_wasm_main_shm_kv = 1m\nnginx_http_client_body_buffer_size = 4k\n").unwrap();
    let options = wasm_harness::hosts::LoadOptions { filters_path: Some(dir.clone()), ..Default::default() };
    let loaded = wasm_harness::hosts::load(&dir.join("kong.yml"), &options).unwrap();
    assert_eq!(loaded.spec.shm_zones, ["kong_functions", "*"]);
    assert_eq!(loaded.spec.client_body_buffer_size, Some(4096));
    std::fs::write(dir.join("kong.conf"), "wasm = on\n").unwrap();
    let loaded = wasm_harness::hosts::load(&dir.join("kong.yml"), &options).unwrap();
    assert!(loaded.spec.shm_zones.is_empty());
    assert_eq!(loaded.spec.client_body_buffer_size, Some(8192), "Kong's default");
}

// 12. Properties in a request.

#[test]
fn request_properties_are_strings_with_ngx_and_kong_namespaces() {
    let outcome = run(&mut kong(&["a"]), RequestSpec::get("/").header("x-properties", "ngx.nginx_version,kong.version,route_name,cluster_name,source.port"));
    assert_eq!(outcome.header("x-probe-properties"), Some("1.27.4|3.10.0|<missing>|<missing>|54321"));
    let trace = lines(&outcome);
    assert!(trace.contains(&"a: [error] [wasm] \"route_name\" property not supported".to_string()), "{trace:#?}");
    assert!(trace.contains(&"a: [error] [wasm] \"cluster_name\" property not supported".to_string()));
}

// 13. Header maps outside their callback.

#[test]
fn header_maps_outside_their_callback_answer_as_ngx_wasm_module() {
    let mut chain = kong(&["a"]);
    let read = run(&mut chain, RequestSpec::get("/").header("x-map-probe", "get-response-in-request"));
    assert_eq!(read.header("x-probe-map-status"), Some("1"), "NotFound: no response headers yet");
    let trailers = run(&mut chain, RequestSpec::get("/").header("x-map-probe", "pairs-trailers"));
    assert_eq!(trailers.header("x-probe-map-status"), Some("2"), "BadArgument (NYI map type)");
    assert!(lines(&trailers).contains(&"a: [alert] [wasm] NYI - get_map bad map_type: 1".to_string()));
    let late = run(&mut chain, RequestSpec::get("/").header("x-map-probe", "set-request-in-response-headers"));
    assert_eq!(late.status, 500, "a trap");
    assert!(lines(&late).contains(&"a: [error] [wasm] can only set request headers before response is produced".to_string()), "{:#?}", lines(&late));
    let late = run(&mut chain, RequestSpec::get("/").header("x-map-probe", "set-response-in-response-body"));
    assert_eq!(late.status, 500);
    assert!(lines(&late).contains(&"a: [error] [wasm] can only set response headers before \"on_response_body\"".to_string()));
}

// nginx with ngx_wasm_module alone (no Kong Gateway).

#[test]
fn plain_nginx_has_no_kong_properties_and_keeps_wasmx_values_per_request() {
    // kong-engine.md "Measured again 2026-12-07": kong.* exists only inside Kong Gateway;
    // ngx_proxy_wasm_properties.c: the host namespace `wasmx.*` stores per-request values
    // (ngx_proxy_wasm_properties_set_host) every filter of the request reads.
    let spec = ChainSpec { plain_nginx: true, ..kong_spec(vec![probe("a", "")]) };
    let mut chain = harness().chain(&spec).unwrap();
    let outcome = run(&mut chain, RequestSpec::get("/").header("x-property", "kong.version"));
    assert_eq!(outcome.header("x-probe-property"), Some("<missing>"));
    // ngx_proxy_wasm_properties.c: `kong.*` matches no table entry, prefix or host
    // namespace (NGX_DECLINED, NotFound, no log line); observed in nginx 1.27.4 +
    // ngx_wasm_module 3bed278 + wasmtime 26.0.1 on 2026-12-07 (docs/hosts.md).
    assert!(!lines(&outcome).iter().any(|l| l.contains("property not supported")), "{:#?}", lines(&outcome));
    let set = run(&mut chain, RequestSpec::get("/").header("x-set-property", "kong.ctx.shared.k=v"));
    assert_eq!(set.header("x-probe-set-status"), Some("1"), "nothing handles kong.* (NGX_DECLINED)");
    let stored = run(&mut chain, RequestSpec::get("/").header("x-set-property", "wasmx.k=v").header("x-property", "wasmx.k"));
    assert_eq!((stored.header("x-probe-set-status"), stored.header("x-probe-property")), (Some("0"), Some("v")));
    let next = run(&mut chain, RequestSpec::get("/").header("x-property", "wasmx.k"));
    assert_eq!(next.header("x-probe-property"), Some("<missing>"), "per request");
}
