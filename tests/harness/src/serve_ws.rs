//! `wasm-harness serve`: WebSocket upgrades (RFC 6455) through the chain.
//!
//! A handshake request runs through the filters (`Chain::ws_open`) to the upstream:
//! with `--upstream`, the real one (the handshake sent as HTTP/1.1 over TCP, its answer's
//! status and headers back through the filters; a refusal's body is not read); without,
//! the built-in WebSocket echo upstream (`ws::upstream_handshake`, then
//! `ws::EchoUpstream`). When the stream upgrades, the client gets the 101 and hyper hands
//! over the connection; bytes from each side then go through the filters as the host
//! profile delivers them (`Chain::ws_deliver`) to the other, and the stream ends
//! (`Chain::ws_finish`, log lines on stderr) when a side closes (the echo upstream:
//! after its close frame), or after [`SESSION_LIMIT`] / [`IDLE_LIMIT`]. While a stream is upgraded the chain's single
//! stream state is taken: other requests get `503`.

use std::time::{Duration, Instant};

use hyper::body::Bytes;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use wasm_harness::chain::Delivered;
use wasm_harness::ws::{self, EchoUpstream, Receiver, Side, UpstreamMode};
use wasm_harness::{Chain, LogEntry, Outcome, RequestSpec};

use crate::serve::{Job, UpstreamTarget};
use wasm_harness::{UpstreamRequest, upstream::UpstreamResponse};

/// A handshake answer the chain thread can call: it hands the request to the task that
/// talks to the real upstream and waits for the answer.
pub type SendHandshake = Box<dyn FnMut(&UpstreamRequest) -> UpstreamResponse + Send>;

/// The upstream side of an upgraded stream: the socket, and bytes read past the 101.
pub struct Tunnel {
    stream: tokio::net::TcpStream,
    early: Vec<u8>,
}

/// Largest response head accepted from an upstream.
const MAX_HEAD: usize = 64 * 1024;

fn refusal(status: u16, message: String) -> UpstreamResponse {
    eprintln!("wasm-harness: {message}");
    let body = format!("{message}\n").into_bytes();
    UpstreamResponse { status, headers: vec![("content-type".into(), "text/plain".into()), ("content-length".into(), body.len().to_string().into_bytes())], body }
}

/// Sends the handshake `request` to `target` as HTTP/1.1 and reads the answer's head.
async fn upstream_handshake(target: &UpstreamTarget, request: &UpstreamRequest) -> Result<(UpstreamResponse, Tunnel), String> {
    let mut stream = tokio::net::TcpStream::connect((target.host.as_str(), target.port)).await.map_err(|e| format!("connect: {e}"))?;
    let path = format!("{}{}", target.prefix, if request.path.is_empty() { "/" } else { &request.path });
    let mut head = format!("{} {path} HTTP/1.1\r\nhost: {}:{}\r\n", request.method, target.host, target.port);
    for (name, value) in request.headers.iter().filter(|(n, _)| n != "host") {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.map_err(|e| format!("send: {e}"))?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if got.len() > MAX_HEAD {
            return Err(format!("response head over {MAX_HEAD} bytes"));
        }
        let n = stream.read(&mut buf).await.map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("closed before a response".into());
        }
        got.extend_from_slice(&buf[..n]);
    };
    let text = String::from_utf8_lossy(&got[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).ok_or("no status line")?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().as_bytes().to_vec()))
        .filter(|(n, _)| n != "content-length" && n != "transfer-encoding")
        .collect();
    Ok((UpstreamResponse { status, headers, body: Vec::new() }, Tunnel { stream, early: got[end..].to_vec() }))
}

/// What a request gets while an upgraded stream holds the chain.
pub const BUSY: &str = "busy: a WebSocket stream holds the filter chain (the harness serves one stream at a time)";
/// The longest an upgraded stream lasts.
pub const SESSION_LIMIT: Duration = Duration::from_secs(60);
/// The longest an upgraded stream waits for the client.
pub const IDLE_LIMIT: Duration = Duration::from_secs(10);

/// Runs a WebSocket job on the chain thread; `upgraded` tracks whether a stream is open.
pub fn run_job(chain: Option<&mut Chain>, job: Job, upgraded: &mut bool) {
    let Some(chain) = chain else {
        let message = "the filters could not be restarted after a trap".to_string();
        match job {
            Job::Http(_, reply) => drop(reply.send(Err(message))),
            Job::WsOpen(_, _, reply) => drop(reply.send(Err(message))),
            Job::WsData(_, _, _, reply) => drop(reply.send(Err(message))),
            Job::WsFinish(reply) => drop(reply.send(Err(message))),
        }
        return;
    };
    let text = |e: wasmtime::Error| format!("filter trapped: {e:#}");
    match job {
        Job::Http(_, reply) => drop(reply.send(Err(BUSY.into()))),
        Job::WsOpen(_, _, reply) if *upgraded => drop(reply.send(Err(BUSY.into()))),
        Job::WsOpen(request, handshake, reply) => {
            let handshake: wasm_harness::chain::HandshakeFn = match handshake {
                Some(real) => real,
                None => Box::new(ws::upstream_handshake),
            };
            let result = chain.ws_open(&request, handshake).map_err(text);
            *upgraded = matches!(result, Ok((_, true)));
            let _ = reply.send(result);
        }
        Job::WsData(side, bytes, end, reply) => drop(reply.send(chain.ws_deliver(side, bytes, end).map_err(text))),
        Job::WsFinish(reply) => {
            *upgraded = false;
            let _ = reply.send(chain.ws_finish().map_err(text));
        }
    }
}

async fn ask<T>(jobs: &std::sync::mpsc::Sender<Job>, make: impl FnOnce(oneshot::Sender<Result<T, String>>) -> Job) -> Result<T, String> {
    let (tx, rx) = oneshot::channel();
    jobs.send(make(tx)).map_err(|_| "the chain thread stopped".to_string())?;
    rx.await.unwrap_or_else(|_| Err("the chain thread stopped".into()))
}

/// The handshake through the chain: its outcome, whether the stream upgraded, and the
/// real upstream's socket when there is one (`target`, each exchange bounded by `timeout`).
pub async fn open(
    jobs: &std::sync::mpsc::Sender<Job>,
    request: RequestSpec,
    target: Option<&UpstreamTarget>,
    timeout: Duration,
) -> Result<(Outcome, bool, Option<Tunnel>), String> {
    let Some(target) = target else {
        let (outcome, open) = ask(jobs, |tx| Job::WsOpen(request, None, tx)).await?;
        return Ok((outcome, open, None));
    };
    let (request_tx, mut request_rx) = tokio::sync::mpsc::unbounded_channel::<UpstreamRequest>();
    let (answer_tx, answer_rx) = std::sync::mpsc::channel::<UpstreamResponse>();
    let wait = timeout + Duration::from_secs(1);
    let handshake: SendHandshake = Box::new(move |upstream: &UpstreamRequest| {
        if request_tx.send(upstream.clone()).is_err() {
            return refusal(502, "websocket upstream: the connection task stopped".into());
        }
        answer_rx.recv_timeout(wait).unwrap_or_else(|_| refusal(504, format!("websocket upstream: no answer within {wait:?}")))
    });
    let (tx, mut reply) = oneshot::channel();
    jobs.send(Job::WsOpen(request, Some(handshake), tx)).map_err(|_| "the chain thread stopped".to_string())?;
    let mut tunnel = None;
    tokio::select! {
        Some(upstream) = request_rx.recv() => {
            let label = format!("websocket upstream {}:{}", target.host, target.port);
            let answer = match tokio::time::timeout(timeout, upstream_handshake(target, &upstream)).await {
                Ok(Ok((answer, socket))) => {
                    tunnel = Some(socket);
                    answer
                }
                Ok(Err(e)) => refusal(502, format!("{label}: {e}")),
                Err(_) => refusal(504, format!("{label}: no response within {timeout:?}")),
            };
            let _ = answer_tx.send(answer);
        }
        result = &mut reply => {
            let (outcome, open) = result.unwrap_or_else(|_| Err("the chain thread stopped".into()))?;
            return Ok((outcome, open, None));
        }
    }
    let (outcome, open) = reply.await.unwrap_or_else(|_| Err("the chain thread stopped".into()))?;
    Ok((outcome, open, tunnel.filter(|_| open)))
}

/// Completes the 101 (hop-by-hop `Upgrade`/`Connection` put back) and serves the
/// upgraded connection on a task of its own.
pub fn accept(response: &mut hyper::Response<http_body_util::Full<Bytes>>, on_upgrade: OnUpgrade, jobs: std::sync::mpsc::Sender<Job>, tunnel: Option<Tunnel>) {
    let headers = response.headers_mut();
    headers.insert(hyper::header::UPGRADE, hyper::header::HeaderValue::from_static("websocket"));
    headers.insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("Upgrade"));
    tokio::spawn(async move {
        let logs = match on_upgrade.await {
            Ok(io) => match tunnel {
                Some(tunnel) => relay(TokioIo::new(io), tunnel, &jobs).await,
                None => pump(TokioIo::new(io), &jobs).await,
            },
            Err(e) => {
                eprintln!("wasm-harness: websocket upgrade: {e}");
                Ok(())
            }
        };
        if let Err(e) = logs {
            eprintln!("wasm-harness: websocket: {e}");
        }
        match ask(&jobs, Job::WsFinish).await {
            Ok(lines) => print_logs(&lines),
            Err(e) => eprintln!("wasm-harness: websocket: {e}"),
        }
    });
}

fn print_logs(lines: &[LogEntry]) {
    for entry in lines {
        eprintln!("[{}] {}: {}", entry.filter, entry.level, entry.message);
    }
}

/// Moves bytes between the client and the echo upstream through the chain until a
/// side closes or a limit passes.
async fn pump<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut client: T, jobs: &std::sync::mpsc::Sender<Job>) -> Result<(), String> {
    let started = Instant::now();
    let mut received = Receiver::new(Side::Upstream);
    let mut upstream = EchoUpstream::new(UpstreamMode::Echo);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let left = SESSION_LIMIT.saturating_sub(started.elapsed()).min(IDLE_LIMIT);
        let n = match tokio::time::timeout(left, client.read(&mut buf)).await {
            Err(_) => return Err(format!("no client data within {left:?}; closing")),
            Ok(Err(e)) => return Err(format!("client read: {e}")),
            Ok(Ok(n)) => n,
        };
        let delivered: Delivered = ask(jobs, |tx| Job::WsData(Side::Client, buf[..n].to_vec(), n == 0, tx)).await?;
        if n == 0 || delivered.reset.is_some() {
            return delivered.reset.map_or(Ok(()), Err);
        }
        let completed = received.push(&delivered.bytes);
        if !received.errors.is_empty() {
            return Err(received.errors.join("; "));
        }
        let answer = upstream.answer(&received.messages[received.messages.len() - completed..]);
        if !answer.is_empty() {
            let back: Delivered = ask(jobs, |tx| Job::WsData(Side::Upstream, answer, false, tx)).await?;
            client.write_all(&back.bytes).await.map_err(|e| format!("client write: {e}"))?;
            client.flush().await.map_err(|e| format!("client write: {e}"))?;
            if let Some(reset) = back.reset {
                return Err(reset);
            }
        }
        if upstream.sent_close {
            // RFC 6455 7.1.1: the server closes the TCP connection after the close handshake.
            let _ = client.shutdown().await;
            return Ok(());
        }
    }
}

/// Moves bytes between the client and the real upstream through the chain until a side
/// closes or a limit passes.
async fn relay<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut client: T, mut upstream: Tunnel, jobs: &std::sync::mpsc::Sender<Job>) -> Result<(), String> {
    let started = Instant::now();
    if !upstream.early.is_empty() {
        let early = std::mem::take(&mut upstream.early);
        let back: Delivered = ask(jobs, |tx| Job::WsData(Side::Upstream, early, false, tx)).await?;
        client.write_all(&back.bytes).await.map_err(|e| format!("client write: {e}"))?;
    }
    let mut from_client = vec![0u8; 16 * 1024];
    let mut from_upstream = vec![0u8; 16 * 1024];
    loop {
        let left = SESSION_LIMIT.saturating_sub(started.elapsed()).min(IDLE_LIMIT);
        let read = tokio::time::timeout(left, async {
            tokio::select! {
                n = client.read(&mut from_client) => (Side::Client, n),
                n = upstream.stream.read(&mut from_upstream) => (Side::Upstream, n),
            }
        });
        let (side, n) = match read.await {
            Err(_) => return Err(format!("no data within {left:?}; closing")),
            Ok((side, Err(e))) => return Err(format!("{side:?} read: {e}")),
            Ok((side, Ok(n))) => (side, n),
        };
        let bytes = match side {
            Side::Client => from_client[..n].to_vec(),
            Side::Upstream => from_upstream[..n].to_vec(),
        };
        let out: Delivered = ask(jobs, |tx| Job::WsData(side, bytes, n == 0, tx)).await?;
        let written = match side {
            Side::Client => upstream.stream.write_all(&out.bytes).await,
            Side::Upstream => client.write_all(&out.bytes).await,
        };
        written.map_err(|e| format!("write: {e}"))?;
        if let Some(reset) = out.reset {
            return Err(reset);
        }
        if n == 0 {
            // One side closed: close the other (nginx and Envoy end the tunnel so).
            let _ = client.shutdown().await;
            let _ = upstream.stream.shutdown().await;
            return Ok(());
        }
    }
}
