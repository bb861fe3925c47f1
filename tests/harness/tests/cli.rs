//! The `wasm-harness run` command line: output shape and exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn filter_module() -> PathBuf {
    let path = std::env::var_os("KONG_FUNCTIONS_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/wasm32-wasip1/release/kong_functions.wasm"));
    assert!(path.is_file(), "{} is missing: run `make build` first", path.display());
    path
}

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasm-harness")).args(args).output().expect("run wasm-harness")
}

fn write_temp(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasm-harness-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn chain_file(name: &str, config: Value) -> PathBuf {
    let chain = serde_json::json!({
        "filters": [{ "name": "pre-function", "module": filter_module(), "config": config }]
    });
    write_temp(name, &chain.to_string())
}

#[test]
fn run_prints_one_result_per_request() {
    let chain = repo().join("examples/custom-auth/chain.json");
    let requests = repo().join("examples/custom-auth/requests.json");
    let out = harness(&["run", chain.to_str().unwrap(), requests.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = results.as_array().expect("an array for an array of requests");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["status"], 401);
    assert_eq!(results[0]["body"], "Invalid Credentials");
    assert_eq!(results[0]["upstream"], Value::Null);
    assert_eq!(results[0]["logs"][0]["filter"], "pre-function");
    assert_eq!(results[0]["logs"][0]["level"], "error");
    assert_eq!(results[1]["status"], 200);
    assert_eq!(results[1]["upstream"]["path"], "/test");
    let echoed: Value = serde_json::from_str(results[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["method"], "GET");
}

#[test]
fn a_single_request_gives_a_single_result_and_headers_may_be_pairs() {
    let chain = chain_file("single.json", serde_json::json!({ "access": ["kong.service.request.set_header('x-seen', kong.request.get_header('x-in'))"] }));
    let request = write_temp("single-req.json", r#"{"method": "POST", "path": "/p?q=1", "headers": [["X-In", "a"]], "body": "hi"}"#);
    let out = harness(&["run", chain.to_str().unwrap(), request.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["upstream"]["method"], "POST");
    assert_eq!(result["upstream"]["path"], "/p?q=1");
    assert_eq!(result["upstream"]["body"], "hi");
    assert!(result["upstream"]["headers"].as_array().unwrap().contains(&serde_json::json!(["x-seen", "a"])));
}

#[test]
fn scripted_upstream_responses_are_returned() {
    let chain = chain_file("scripted.json", serde_json::json!({ "header_filter": ["kong.response.set_header('x-status', kong.response.get_status())"] }));
    let request = write_temp(
        "scripted-req.json",
        r#"{"path": "/", "upstream": {"status": 404, "headers": {"content-type": "text/plain"}, "body": "missing"}}"#,
    );
    let out = harness(&["run", chain.to_str().unwrap(), request.to_str().unwrap()]);
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["status"], 404);
    assert_eq!(result["body"], "missing");
    assert!(result["headers"].as_array().unwrap().contains(&serde_json::json!(["x-status", "404"])));
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let chain = repo().join("examples/custom-auth/chain.json");
    let bad = write_temp("bad-req.json", r#"{"method": "GET"}"#);
    let out = harness(&["run", chain.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad-req.json") && stderr.contains("path"), "{stderr}");

    let missing_module = write_temp("no-module.json", r#"{"filters": [{"name": "x", "module": "nowhere.wasm"}]}"#);
    let out = harness(&["run", missing_module.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn rejected_configuration_exits_1_with_the_filters_message() {
    let chain = chain_file("rejected.json", serde_json::json!({ "access": ["if then"] }));
    let request = write_temp("rejected-req.json", r#"{"path": "/"}"#);
    let out = harness(&["run", chain.to_str().unwrap(), request.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // LuaJIT's words for the chunk, as Kong's schema reports them.
    assert!(stderr.contains("error parsing pre-function: [string \"if then\"]:1: unexpected symbol near 'then'"), "{stderr}");
}

#[test]
fn request_files_take_connection_and_websocket_items() {
    // examples/websocket: a TLS connection carrying a request and a WebSocket chat.
    let chain = repo().join("examples/websocket/chain.json");
    let requests = repo().join("examples/websocket/requests.json");
    let module = filter_module();
    let out = harness(&["run", chain.to_str().unwrap(), requests.to_str().unwrap(), "--module", module.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    let connection = &results[0];
    assert_eq!(connection["connection"], 1);
    let outcomes = connection["outcomes"].as_array().expect("the connection's outcomes");
    assert_eq!(outcomes[0]["status"], 200);
    let ws = &outcomes[1];
    assert_eq!(ws["handshake"]["status"], 101);
    // RFC 6455 1.3: the accept value of the sample key.
    let accept = ws["handshake"]["headers"].as_array().unwrap().iter().find(|h| h[0] == "sec-websocket-accept").map(|h| h[1].clone());
    assert_eq!(accept, Some(Value::from("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")));
    assert_eq!(ws["established"], true);
    let got = |side: &str| -> Vec<(String, bool)> {
        ws[side].as_array().unwrap().iter().map(|f| (f["opcode"].as_str().unwrap().to_string(), f["masked"].as_bool().unwrap())).collect()
    };
    // RFC 6455 5.1: toward the upstream masked, toward the client not.
    assert!(got("upstream_received").iter().all(|(_, masked)| *masked));
    assert!(got("client_received").iter().all(|(_, masked)| !*masked));
    assert_eq!(got("upstream_received").last().map(|(o, _)| o.as_str()), Some("close"));
    let text = harness(&["run", chain.to_str().unwrap(), requests.to_str().unwrap(), "--module", module.to_str().unwrap(), "--format", "text"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.starts_with("connection 1\n"), "{text}");
    assert!(text.contains("upstream got close fin=true masked code=1000 \"bye\""), "{text}");
}

/// A decK file for Kong's own Lua plugins (`plugins: [{name: pre-function, config:
/// {access: [...]}}]`) runs through the filter: Kong's precedence picks the route's
/// instance over its service's and the global one (kong/runloop/plugins_iterator.lua),
/// pre-function runs first. Expected results: Kong's Serverless Functions docs
/// (custom-auth walkthrough: 401 "Invalid Credentials" without `x-custom-auth`, the
/// header removed upstream with it) and the PDK's `kong.response.set_header`.
#[test]
fn run_takes_a_deck_file_for_kong_lua_plugins() {
    let deck = write_temp(
        "deck-kong.yml",
        r#"_format_version: "3.0"
services:
  - name: svc
    url: http://127.0.0.1:9000
    plugins:
      - name: post-function
        config:
          header_filter: ['kong.response.set_header("x-post-function", "service")']
    routes:
      - name: first
        paths: ["/"]
        plugins:
          - name: pre-function
            protocols: [http, https]
            config:
              access:
                - |-
                  local custom_auth = kong.request.get_header("x-custom-auth")
                  if not custom_auth then
                    return kong.response.exit(401, "Invalid Credentials")
                  end
                  kong.service.request.clear_header("x-custom-auth")
              body_filter: []
              certificate: []
              header_filter: []
              log: []
              rewrite: []
              ws_client_frame: []
              ws_close: []
              ws_handshake: []
              ws_upstream_frame: []
          - name: post-function
            config:
              header_filter: ['kong.response.set_header("x-post-function", "route")']
plugins:
  - name: post-function
    config:
      header_filter: ['kong.response.set_header("x-post-function", "global")']
  - name: rate-limiting
    config: {minute: 5}
"#,
    );
    let requests = repo().join("examples/custom-auth/requests.json");
    let module = filter_module();
    let out = harness(&["run", deck.to_str().unwrap(), requests.to_str().unwrap(), "--module", module.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("serving route \"first\""), "{stderr}");
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    let header = |r: &Value, name: &str| {
        r["headers"].as_array().unwrap().iter().find(|h| h[0] == name).map(|h| h[1].as_str().unwrap().to_string())
    };
    assert_eq!(results[0]["status"], 401);
    assert_eq!(results[0]["body"], "Invalid Credentials");
    assert_eq!(results[0]["upstream"], Value::Null);
    assert_eq!(results[1]["status"], 200);
    let upstream_headers = results[1]["upstream"]["headers"].to_string().to_ascii_lowercase();
    assert!(!upstream_headers.contains("x-custom-auth"), "{upstream_headers}");
    // The route's post-function, not the service's or the global one. (Only on the
    // proxied response: on proxy-wasm hosts pre-function's local 401 travels back
    // through the filters already entered, so post-function's header_filter does not
    // see it; docs/harness.md.)
    assert_eq!(header(&results[1], "x-post-function").as_deref(), Some("route"));

    // The shipped example (a global post-function) runs the same way from the repo root.
    let example = repo().join("examples/deck/kong.yml");
    let out = harness(&["run", example.to_str().unwrap(), requests.to_str().unwrap(), "--module", module.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results[0]["status"], 401);
    assert_eq!(results[1]["status"], 200);
    assert_eq!(header(&results[1], "x-post-function").as_deref(), Some("ran"));

    // --profile kong: the same file on the model of Kong's Wasm engine, where a cleared
    // request header still reaches the upstream, with an empty value (docs/hosts.md,
    // "Removing a request header only marks it"; docs/deploy.md, "What the upstream sees
    // of a cleared header").
    let out = harness(&[
        "run",
        example.to_str().unwrap(),
        requests.to_str().unwrap(),
        "--module",
        module.to_str().unwrap(),
        "--profile",
        "kong",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results[0]["status"], 401);
    assert_eq!(results[1]["status"], 200);
    let upstream_headers = results[1]["upstream"]["headers"].to_string().to_ascii_lowercase();
    assert!(upstream_headers.contains("x-custom-auth"), "{upstream_headers}");
    assert!(!upstream_headers.contains("demo"), "the old value never reaches the upstream: {upstream_headers}");

    // No pre-/post-function and no Wasm filter at all: bad input, named.
    let none = write_temp("deck-none.yml", "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config: {minute: 5}\n");
    let out = harness(&["run", none.to_str().unwrap(), requests.to_str().unwrap(), "--module", module.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pre-function/post-function plugin"));
}
