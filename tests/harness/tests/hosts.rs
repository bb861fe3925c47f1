//! The shipped host configs (envoy/envoy.yaml, kong-wasm/kong.yml, kong-plugins.yml)
//! loaded by the harness, and `wasm-harness serve` answering real HTTP requests.
//!
//! Needs the built filter: `make build`, then `KONG_FUNCTIONS_WASM=$PWD/target/kong_functions.wasm`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use wasm_harness::hosts::{self, LoadOptions, SourceKind};
use wasm_harness::{ChainSpec, Harness, HostProfile, Outcome, RequestSpec};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn filter_module() -> PathBuf {
    let path = std::env::var_os("KONG_FUNCTIONS_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/kong_functions.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run `make build` first, or point KONG_FUNCTIONS_WASM at the built kong_functions.wasm",
        path.display()
    );
    path
}

fn with_module() -> LoadOptions {
    LoadOptions { module: Some(filter_module()), ..LoadOptions::default() }
}

/// The custom-auth walkthrough: 401 without the header (upstream not called), 200 with
/// it (the credential never reaches the upstream: removed on Envoy; on Kong's engine,
/// which forwards removed headers, sent with an empty value), the post-function's header
/// on the 200.
fn walkthrough(spec: &ChainSpec) {
    let harness = Harness::new();
    let mut chain = harness.chain(spec).expect("the shipped config starts");

    let denied: Outcome = chain.run(&RequestSpec::get("/")).unwrap();
    assert_eq!(denied.status, 401, "{denied:?}");
    assert!(denied.body.contains("Invalid Credentials"), "{denied:?}");
    assert!(denied.upstream.is_none(), "the upstream must not be called: {denied:?}");

    let allowed = chain.run(&RequestSpec::get("/test").header("x-custom-auth", "demo").header("x-other", "kept")).unwrap();
    assert_eq!(allowed.status, 200, "{allowed:?}");
    let upstream = allowed.upstream.as_ref().expect("the request reaches the upstream");
    assert_eq!(upstream.path, "/test");
    assert!(upstream.header("x-custom-auth").unwrap_or("").is_empty(), "the credential was forwarded: {upstream:?}");
    assert_eq!(upstream.header("x-other"), Some("kept"));
    assert_eq!(allowed.header("x-post-function"), Some("ran"), "{allowed:?}");
    let echoed: Value = serde_json::from_str(&allowed.body).unwrap();
    let echoed_auth = echoed["headers"].get("x-custom-auth").and_then(Value::as_str).unwrap_or("");
    assert!(echoed_auth.is_empty(), "{echoed}");
}

#[test]
fn envoy_yaml_loads_in_order_with_its_configs_and_runs_the_walkthrough() {
    let loaded = hosts::load(&repo().join("envoy/envoy.yaml"), &with_module()).unwrap();
    assert_eq!(loaded.kind, SourceKind::Envoy);
    let spec = &loaded.spec;
    assert_eq!(spec.profile, HostProfile::Envoy);
    let names: Vec<&str> = spec.filters.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["pre-function", "post-function"]);
    let vm: Value = serde_json::from_str(spec.vm_config.as_str().unwrap()).unwrap();
    assert_eq!(vm["untrusted_lua"], "sandbox");
    let pre: Value = serde_json::from_str(spec.filters[0].config.as_str().unwrap()).unwrap();
    assert!(pre["access"][0].as_str().unwrap().contains("x-custom-auth"));
    walkthrough(spec);
}

#[test]
fn envoy_yaml_maps_the_container_path_to_the_built_module() {
    // /etc/envoy/kong_functions.wasm is docker-compose's mount of ../target/kong_functions.wasm.
    let built = repo().join("target/kong_functions.wasm");
    if !built.is_file() {
        // Only meaningful where `make build` put the module in target/.
        filter_module();
        return;
    }
    let loaded = hosts::load(&repo().join("envoy/envoy.yaml"), &LoadOptions::default()).unwrap();
    for filter in &loaded.spec.filters {
        assert_eq!(filter.module.canonicalize().unwrap(), built.canonicalize().unwrap());
    }
}

/// A filters path with the module installed under both filter names, as kong.conf says.
fn kong_filters_path(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasm-harness-kong-filters-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["pre_function", "post_function"] {
        std::fs::copy(filter_module(), dir.join(format!("{name}.wasm"))).unwrap();
    }
    dir
}

#[test]
fn kong_yml_filter_chain_loads_with_the_naming_rule_and_kong_conf() {
    let dir = kong_filters_path("load");
    let options = LoadOptions { filters_path: Some(dir.clone()), ..LoadOptions::default() };
    let loaded = hosts::load(&repo().join("kong-wasm/kong.yml"), &options).unwrap();
    assert_eq!(loaded.kind, SourceKind::Kong);
    let spec = &loaded.spec;
    assert_eq!(spec.profile, HostProfile::Kong);
    let names: Vec<&str> = spec.filters.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["pre_function", "post_function"]);
    assert_eq!(spec.filters[0].module, dir.join("pre_function.wasm"));
    assert_eq!(spec.filters[1].module, dir.join("post_function.wasm"));
    assert_eq!(spec.properties.get("kong.configuration.untrusted_lua").map(String::as_str), Some("sandbox"));
    walkthrough(spec);
}

#[test]
fn kong_plugins_yml_loads_the_wasm_filter_plugins() {
    let loaded = hosts::load(&repo().join("kong-wasm/kong-plugins.yml"), &with_module()).unwrap();
    let spec = &loaded.spec;
    assert_eq!(spec.profile, HostProfile::Kong);
    let names: Vec<&str> = spec.filters.iter().map(|f| f.name.as_str()).collect();
    // Kong 3.9+ runs filter plugins sorted by name, whatever the file's order.
    assert_eq!(names, ["post_function", "pre_function"]);
    walkthrough(spec);
}

#[test]
fn unknown_files_and_missing_modules_are_reported_clearly() {
    let dir = std::env::temp_dir().join(format!("wasm-harness-hosts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let other = dir.join("other.yaml");
    std::fs::write(&other, "a: 1\n").unwrap();
    let e = hosts::load(&other, &LoadOptions::default()).unwrap_err().to_string();
    assert!(e.contains("other.yaml") && e.contains("not a chain file"), "{e}");

    let empty = dir.join("empty-filters");
    std::fs::create_dir_all(&empty).unwrap();
    let options = LoadOptions { filters_path: Some(empty), ..LoadOptions::default() };
    let e = hosts::load(&repo().join("kong-wasm/kong.yml"), &options).unwrap_err().to_string();
    assert!(e.contains("pre_function.wasm") && e.contains("--filters-path"), "{e}");
}

// ---- `wasm-harness serve` over real sockets ----

/// The server child; killed (by its PID) when dropped.
struct Server {
    child: Child,
    addr: String,
    stderr: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wasm-harness"))
            .arg("serve")
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start wasm-harness serve");
        let stdout = child.stdout.take().unwrap();
        let (addr_tx, addr_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = addr_tx.send(line);
        });
        let stderr = child.stderr.take().unwrap();
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
        });
        let mut server = Server { child, addr: String::new(), stderr: err_rx };
        // Compiling the module takes a few seconds in a debug build.
        let line = addr_rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let addr = line.trim().strip_prefix("listening on http://").map(str::to_string);
        match addr {
            Some(addr) => server.addr = addr,
            None => panic!("serve did not print its address (got {line:?}); stderr: {}", server.stderr_text()),
        }
        server
    }

    fn stderr_text(&self) -> String {
        let mut out = Vec::new();
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_millis(200)) {
            out.push(line);
        }
        out.join("\n")
    }

    /// Sends SIGTERM and waits (bounded) for a clean exit.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("serve did not stop within 5 s of SIGTERM");
    }
}

fn have_curl() -> bool {
    Command::new("curl").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// `curl -s -i` (or, without curl, the same request over a raw socket): the response as text.
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> String {
    if have_curl() {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-i", "--max-time", "10"]);
        for (n, v) in headers {
            cmd.args(["-H", &format!("{n}: {v}")]);
        }
        let out = cmd.arg(format!("http://{addr}{path}")).output().expect("run curl");
        assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
        return String::from_utf8_lossy(&out.stdout).into_owned();
    }
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (n, v) in headers {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or("")
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("")
}

#[test]
fn serve_answers_curl_with_the_envoy_yaml_walkthrough_and_stops_on_sigterm() {
    let module = filter_module();
    let envoy = repo().join("envoy/envoy.yaml");
    let mut server = Server::start(&[envoy.to_str().unwrap(), "--module", module.to_str().unwrap()]);

    let denied = get(&server.addr, "/", &[]);
    assert!(status_line(&denied).starts_with("HTTP/1.1 401"), "{denied}");
    assert!(body(&denied).contains("Invalid Credentials"), "{denied}");

    let allowed = get(&server.addr, "/hello?x=1", &[("x-custom-auth", "demo")]);
    assert!(status_line(&allowed).starts_with("HTTP/1.1 200"), "{allowed}");
    assert!(allowed.to_ascii_lowercase().contains("\r\nx-post-function: ran\r\n"), "{allowed}");
    let echoed: Value = serde_json::from_str(body(&allowed)).expect("the echo upstream's JSON");
    assert_eq!(echoed["path"], "/hello?x=1");
    let echoed_auth = echoed["headers"].get("x-custom-auth").and_then(Value::as_str).unwrap_or("");
    assert!(echoed_auth.is_empty(), "{echoed}");

    let status = server.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let log = server.stderr_text();
    assert!(log.contains("\"GET / HTTP/1.1\" 401"), "access log: {log}");
    assert!(log.contains("\"GET /hello?x=1 HTTP/1.1\" 200"), "access log: {log}");
}

#[test]
fn serve_forwards_to_a_real_upstream_with_kong_yml() {
    // A one-shot upstream on loopback that records the request it got.
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_addr = upstream.local_addr().unwrap();
    let (seen_tx, seen_rx) = mpsc::channel();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = upstream.accept() {
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let _ = seen_tx.send(String::from_utf8_lossy(&head).into_owned());
            let _ = stream.write_all(b"HTTP/1.1 203 Non-Authoritative Information\r\ncontent-type: text/plain\r\ncontent-length: 9\r\nconnection: close\r\n\r\nfrom-real");
        }
    });

    let dir = kong_filters_path("serve");
    let kong = repo().join("kong-wasm/kong.yml");
    let server = Server::start(&[
        kong.to_str().unwrap(),
        "--filters-path",
        dir.to_str().unwrap(),
        "--upstream",
        &format!("http://{upstream_addr}"),
        "--upstream-timeout",
        "5",
    ]);

    let denied = get(&server.addr, "/", &[]);
    assert!(status_line(&denied).starts_with("HTTP/1.1 401"), "{denied}");
    assert!(seen_rx.try_recv().is_err(), "the upstream must not be called on a 401");

    let allowed = get(&server.addr, "/api", &[("x-custom-auth", "demo")]);
    assert!(status_line(&allowed).starts_with("HTTP/1.1 203"), "{allowed}");
    assert_eq!(body(&allowed), "from-real");
    assert!(allowed.to_ascii_lowercase().contains("\r\nx-post-function: ran\r\n"), "{allowed}");
    let seen = seen_rx.recv_timeout(Duration::from_secs(5)).expect("the upstream got the request").to_ascii_lowercase();
    assert!(seen.starts_with("get /api http/1.1\r\n"), "{seen}");
    assert!(!seen.contains("x-custom-auth: demo"), "the credential was forwarded: {seen}");
}
