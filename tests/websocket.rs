//! The WebSocket phases and the certificate phase through the shipped module
//! (`target/kong_functions.wasm`), under both host profiles.
//!
//! Expectations come from Kong's documents, not from our output:
//! - Pre-Function docs (`shared/seeds/000_80ee1f37f91e5a3b.txt`, "Phases"): the ten
//!   phases, `ws_handshake`, `ws_client_frame`, `ws_upstream_frame`, `ws_close` and
//!   `certificate` among them.
//! - Kong's `kong.websocket.client` / `kong.websocket.upstream` PDK docs: `get_frame()`
//!   returns the frame's data and type (`"text"`, `"binary"`...); `set_frame_data(data)`
//!   replaces the payload of the frame being processed; `drop_frame()` keeps it from
//!   reaching the other side.
//! - Kong's plugin contexts: `ws_handshake` runs on the handshake request where `access`
//!   runs for HTTP, and `kong.response.exit` there refuses it; `certificate` runs during
//!   the TLS handshake, once per connection, before any request on it.
//! - RFC 6455: frames toward the upstream masked (5.1), toward the client not; a close
//!   answered by a close (5.5.1).
//! - Hosts (docs/hosts.md): Envoy passes the upgrade payload through the HTTP filters;
//!   Kong's engine tunnels it (nginx's `ngx_http_upstream_upgrade`), so there the frame
//!   phases cannot run and the filter says so once, naming the phase and the host.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use wasm_harness::connection::TlsSpec;
use wasm_harness::ws::{ReceivedFrame, WebSocketOutcome, WebSocketSpec};
use wasm_harness::{HostProfile, RequestSpec};

fn ws(value: Value) -> WebSocketSpec {
    serde_json::from_value(value).expect("websocket spec")
}

fn frames(list: &[ReceivedFrame]) -> Vec<(String, String)> {
    list.iter().map(|f| (f.opcode.clone(), f.payload.clone())).collect()
}

fn pair(opcode: &str, payload: &str) -> (String, String) {
    (opcode.into(), payload.into())
}

/// A chat room: client text is shouted (set_frame_data), upstream frames mentioning a
/// secret are dropped (drop_frame), the close is logged.
fn chat_config() -> Value {
    json!({
        "ws_handshake": ["kong.log.err('handshake ', kong.request.get_path())"],
        "ws_client_frame": ["local data, typ = kong.websocket.client.get_frame()\nif typ == 'text' then kong.websocket.client.set_frame_data(data:upper()) end"],
        "ws_upstream_frame": ["local data, typ = kong.websocket.upstream.get_frame()\nif typ == 'text' and data:lower():find('secret') then kong.websocket.upstream.drop_frame() end"],
        "ws_close": ["kong.log.err('ws closed')"]
    })
}

fn chat_exchange() -> WebSocketSpec {
    ws(json!({"path": "/chat", "frames": [
        {"from": "client", "payload": "hello"},
        {"from": "client", "payload": "the secret plan"},
        {"from": "client", "opcode": "close", "code": 1000, "payload": "bye"}
    ]}))
}

fn run_ws(chain: &mut wasm_harness::Chain, spec: &WebSocketSpec) -> WebSocketOutcome {
    chain.run_websocket(spec).unwrap_or_else(|e| panic!("the filter trapped: {e:#}"))
}

#[test]
fn chat_on_envoy_rewrites_client_text_drops_an_upstream_frame_and_logs_the_close() {
    for role in ROLES {
        let mut chain = chain(role, HostProfile::Envoy, chat_config());
        let out = run_ws(&mut chain, &chat_exchange());
        assert!(out.established, "{role}: {:?}", out.handshake);
        assert_eq!(out.errors, Vec::<String>::new(), "{role}");
        // set_frame_data: the upstream gets the new text, re-masked (RFC 6455 5.1).
        assert_eq!(frames(&out.upstream_received)[..2], [pair("text", "HELLO"), pair("text", "THE SECRET PLAN")], "{role}");
        assert!(out.upstream_received.iter().all(|f| f.masked), "{role}: client-to-upstream frames are masked");
        assert_eq!(out.upstream_received.last().map(|f| (f.opcode.as_str(), f.close_code)), Some(("close", Some(1000))), "{role}");
        // The echo upstream sends both texts back; drop_frame keeps the secret one away.
        let to_client = frames(&out.client_received);
        assert_eq!(to_client[0], pair("text", "HELLO"), "{role}");
        assert!(!to_client.iter().any(|(_, p)| p.to_lowercase().contains("secret")), "{role}: {to_client:?}");
        assert!(out.client_received.iter().all(|f| !f.masked), "{role}: upstream-to-client frames are not masked");
        assert_eq!(out.client_received.last().map(|f| (f.opcode.as_str(), f.close_code)), Some(("close", Some(1000))), "{role}");
        let prefix = format!("[{role}] ");
        let messages = out.handshake.messages();
        assert_eq!(messages.iter().filter(|m| **m == format!("{prefix}handshake /chat")).count(), 1, "{role}: {messages:#?}");
        assert_eq!(messages.iter().filter(|m| **m == format!("{prefix}ws closed")).count(), 1, "{role}: ws_close runs once: {messages:#?}");
    }
}

#[test]
fn handshake_refused_with_403_never_reaches_the_upstream() {
    for profile in PROFILES {
        let config = json!({"ws_handshake": ["kong.response.exit(403, { message = 'no websockets here' })"], "ws_close": ["kong.log.err('never')"]});
        let mut chain = chain("pre-function", profile, config);
        let out = run_ws(&mut chain, &ws(json!({"path": "/chat", "frames": [{"from": "client", "payload": "hi"}]})));
        assert_eq!(out.handshake.status, 403, "{profile:?}");
        assert!(!out.established && out.handshake.upstream.is_none(), "{profile:?}");
        assert!(out.upstream_received.is_empty() && out.client_received.is_empty(), "{profile:?}");
        let body: Value = serde_json::from_str(out.handshake.body.trim_end()).expect("JSON body");
        assert_eq!(body, json!({"message": "no websockets here"}), "{profile:?}");
    }
}

#[test]
fn kong_runs_the_handshake_phase_not_the_frame_phases_and_says_so_once() {
    let mut chain = chain("pre-function", HostProfile::Kong, chat_config());
    let mut all = Vec::new();
    for _ in 0..2 {
        let out = run_ws(&mut chain, &chat_exchange());
        assert!(out.established);
        // nginx's tunnel: frames pass untouched, both ways.
        assert_eq!(frames(&out.upstream_received)[..2], [pair("text", "hello"), pair("text", "the secret plan")]);
        assert_eq!(frames(&out.client_received)[..2], [pair("text", "hello"), pair("text", "the secret plan")]);
        assert!(out.handshake.messages().contains(&"[pre-function] handshake /chat"));
        all.extend(out.handshake.logs);
    }
    all.extend(chain.startup_logs.clone());
    let notes: Vec<_> = all.iter().filter(|l| l.message.contains("ws_client_frame") && l.message.contains("ws_upstream_frame")).collect();
    assert_eq!(notes.len(), 1, "one line for the instance: {all:#?}");
    assert!(notes[0].message.contains("kong"), "it names the host: {}", notes[0].message);
}

fn tls() -> TlsSpec {
    serde_json::from_value(json!({
        "server_name": "api.example.com",
        "version": "TLSv1.2",
        "peer_certificate": {"subject": "CN=alice,O=Example", "issuer": "CN=Example CA", "serial": "1A2B",
                             "pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
    }))
    .unwrap()
}

#[test]
fn certificate_runs_once_per_connection_before_its_first_request() {
    for profile in PROFILES {
        let config = json!({
            "certificate": ["kong.log.err('certificate ', ngx.ssl.server_name(), ' ', ngx.ssl.get_tls1_version_str())"],
            "rewrite": ["kong.log.err('rewrite ', kong.request.get_path())"]
        });
        let mut chain = chain("pre-function", profile, config);
        chain.connect(None, Some(tls()));
        let outs: Vec<_> = ["/1", "/2", "/3"].iter().map(|p| send(&mut chain, &RequestSpec::get(*p))).collect();
        chain.disconnect();
        assert_eq!(
            outs[0].messages(),
            ["[pre-function] certificate api.example.com TLSv1.2", "[pre-function] rewrite /1"],
            "{profile:?}: certificate first, then the request"
        );
        for (out, path) in outs[1..].iter().zip(["/2", "/3"]) {
            assert_eq!(out.messages(), [format!("[pre-function] rewrite {path}")], "{profile:?}: not again on the same connection");
            assert_eq!(out.status, 200);
        }
        // A second connection runs it again.
        chain.connect(None, Some(TlsSpec { server_name: Some("other.example.com".into()), ..tls() }));
        let next = send(&mut chain, &RequestSpec::get("/4"));
        chain.disconnect();
        assert_eq!(next.messages()[0], "[pre-function] certificate other.example.com TLSv1.2", "{profile:?}");
    }
}

#[test]
fn kong_client_tls_reads_the_client_certificate_on_kong() {
    // kong.client.tls.get_full_client_certificate_chain: the PEM (nginx's
    // $ssl_client_raw_cert on Kong's engine).
    let config = json!({"access": ["kong.response.exit(200, kong.client.tls.get_full_client_certificate_chain() or 'none')"]});
    let mut chain = chain("pre-function", HostProfile::Kong, config);
    chain.connect(None, Some(tls()));
    let out = send(&mut chain, &RequestSpec::get("/"));
    chain.disconnect();
    // The body as the chunk gave it (the engine's own linefeed after a local response
    // body, docs/hosts.md, is not doubled).
    assert_eq!(out.body, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    let plain = send(&mut chain, &RequestSpec::get("/"));
    assert_eq!(plain.body.trim_end(), "none", "no client certificate without TLS");
}

// `wasm-harness serve` on loopback: one short exchange, bounded in time.

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn harness_binary() -> std::path::PathBuf {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| root.join("target"));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&root)
        .args(["build", "--quiet", "-p", "wasm-harness", "--bin", "wasm-harness"])
        .status()
        .expect("cargo build the harness");
    assert!(status.success());
    target.join("debug/wasm-harness")
}

fn start_server(chain_file: &std::path::Path, extra: &[&str]) -> (Server, String) {
    let mut child = Command::new(harness_binary())
        .args(["serve", chain_file.to_str().unwrap(), "--listen", "127.0.0.1:0", "--upstream-timeout", "5"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start wasm-harness serve");
    let mut line = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    while !line.ends_with('\n') {
        if stdout.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        line.push(byte[0] as char);
    }
    let address = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("serve printed {line:?}")).to_string();
    (Server(child), address)
}

/// Reads until `done` says the bytes so far are enough, or the deadline.
fn read_until(stream: &mut TcpStream, deadline: Instant, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !done(&got) && Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    got
}

/// `serve` for the chat chain (with `extra` arguments), and a client that completed the
/// handshake for `path` through it: RFC 6455 1.3's accept value for the sample key. The
/// server lives as long as the returned guard; reads give up at the returned deadline.
fn open_through_serve(tag: &str, extra: &[&str], path: &str) -> (Server, TcpStream, Instant) {
    let dir = std::env::temp_dir().join(format!("kf-ws-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chain_file = dir.join("chain.json");
    // `upgrade_types`: envoy.yaml's upgrade_configs; Envoy answers a handshake 403 without it.
    let chain = json!({"upgrade_types": ["websocket"], "filters": [{"name": "pre-function", "module": module_path(), "config": chat_config()}]});
    std::fs::write(&chain_file, chain.to_string()).unwrap();
    let (server, address) = start_server(&chain_file, extra);
    // `serve` has read its chain once it listens.
    let _ = std::fs::remove_dir_all(&dir);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut stream = TcpStream::connect(&address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let handshake = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\r\n",
        wasm_harness::ws::SAMPLE_KEY
    );
    stream.write_all(handshake.as_bytes()).unwrap();
    let head = read_until(&mut stream, deadline, |b| b.windows(4).any(|w| w == b"\r\n\r\n"));
    let head = String::from_utf8_lossy(&head).to_string();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.to_ascii_lowercase().contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="), "{head}");
    (server, stream, deadline)
}

#[test]
fn serve_upgrades_a_websocket_through_the_filter_on_loopback() {
    let (_server, mut stream, deadline) = open_through_serve("serve", &[], "/chat");
    let frame = wasm_harness::ws::Frame { mask: Some(wasm_harness::ws::CLIENT_MASK), ..wasm_harness::ws::Frame::new(wasm_harness::ws::opcode::TEXT, "hello") };
    stream.write_all(&frame.encode()).unwrap();
    let mut client = wasm_harness::ws::Receiver::new(wasm_harness::ws::Side::Client);
    let echoed = read_until(&mut stream, deadline, |b| matches!(wasm_harness::ws::parse(b), wasm_harness::ws::Parsed::Frame(..)));
    client.push(&echoed);
    // ws_client_frame shouted it, the echo upstream sent it back.
    assert_eq!(frames(&client.frames), [pair("text", "HELLO")]);
    let close = wasm_harness::ws::Frame { mask: Some(wasm_harness::ws::CLIENT_MASK), ..wasm_harness::ws::Frame::close(1000, "") };
    stream.write_all(&close.encode()).unwrap();
    let closed = read_until(&mut stream, deadline, |b| matches!(wasm_harness::ws::parse(b), wasm_harness::ws::Parsed::Frame(..)));
    let mut client = wasm_harness::ws::Receiver::new(wasm_harness::ws::Side::Client);
    client.push(&closed);
    assert_eq!(client.frames.first().map(|f| (f.opcode.as_str(), f.close_code)), Some(("close", Some(1000))));
}

/// A WebSocket server on loopback for one connection: answers the handshake as RFC 6455
/// 4.2.2 says, replies `upstream saw: <text>` to each text message, answers a close with
/// a close and closes. Returns its port and the frames it received.
fn loopback_ws_upstream() -> (u16, std::thread::JoinHandle<Vec<ReceivedFrame>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("the harness connects");
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        let head = read_until(&mut stream, deadline, |b| b.windows(4).any(|w| w == b"\r\n\r\n"));
        let head = String::from_utf8_lossy(&head).to_string();
        let key = head
            .lines()
            .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-key")).map(|(_, v)| v.trim().to_string()))
            .expect("a Sec-WebSocket-Key");
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            wasm_harness::ws::accept_key(&key)
        );
        stream.write_all(answer.as_bytes()).unwrap();
        let mut receiver = wasm_harness::ws::Receiver::new(wasm_harness::ws::Side::Upstream);
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline && !receiver.closed {
            let n = match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(_) => break,
            };
            let done = receiver.push(&buf[..n]);
            let start = receiver.messages.len() - done;
            for (code, payload) in receiver.messages[start..].to_vec() {
                let reply = match code {
                    wasm_harness::ws::opcode::TEXT => wasm_harness::ws::Frame::new(code, format!("upstream saw: {}", String::from_utf8_lossy(&payload))),
                    wasm_harness::ws::opcode::CLOSE => wasm_harness::ws::Frame::new(code, payload.get(..2).unwrap_or_default().to_vec()),
                    _ => continue,
                };
                stream.write_all(&reply.encode()).unwrap();
            }
        }
        let _ = stream.shutdown(std::net::Shutdown::Both);
        receiver.frames
    });
    (port, handle)
}

#[test]
fn serve_relays_a_websocket_to_a_loopback_upstream_through_the_filter() {
    let (port, upstream) = loopback_ws_upstream();
    let upstream_url = format!("http://127.0.0.1:{port}");
    let (_server, mut stream, deadline) = open_through_serve("relay", &["--upstream", &upstream_url], "/room");
    let masked = |frame: wasm_harness::ws::Frame| wasm_harness::ws::Frame { mask: Some(wasm_harness::ws::CLIENT_MASK), ..frame }.encode();
    stream.write_all(&masked(wasm_harness::ws::Frame::new(wasm_harness::ws::opcode::TEXT, "hi"))).unwrap();
    let got = read_until(&mut stream, deadline, |b| matches!(wasm_harness::ws::parse(b), wasm_harness::ws::Parsed::Frame(..)));
    let mut client = wasm_harness::ws::Receiver::new(wasm_harness::ws::Side::Client);
    client.push(&got);
    // ws_client_frame shouted it on the way up; the upstream's answer came back unmasked.
    assert_eq!(frames(&client.frames), [pair("text", "upstream saw: HI")]);
    stream.write_all(&masked(wasm_harness::ws::Frame::close(1000, ""))).unwrap();
    let closed = read_until(&mut stream, deadline, |b| matches!(wasm_harness::ws::parse(b), wasm_harness::ws::Parsed::Frame(..)));
    let mut client = wasm_harness::ws::Receiver::new(wasm_harness::ws::Side::Client);
    client.push(&closed);
    assert_eq!(client.frames.first().map(|f| (f.opcode.as_str(), f.close_code)), Some(("close", Some(1000))));
    let received = upstream.join().expect("upstream thread");
    assert_eq!(frames(&received)[0], pair("text", "HI"));
    assert!(received.iter().all(|f| f.masked), "frames toward the upstream are masked (RFC 6455 5.1)");
}
