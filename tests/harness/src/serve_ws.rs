//! `wasm-harness serve`: WebSocket upgrades (RFC 6455) through the chain.
//!
//! A handshake request runs through the filters (`Chain::ws_open`) to the built-in
//! WebSocket echo upstream (`ws::upstream_handshake`, then `ws::EchoUpstream`; also with
//! `--upstream`, which carries plain HTTP only). When the stream upgrades, the client
//! gets the 101 and hyper hands over the connection; its bytes then go through the
//! filters as the host profile delivers them (`Chain::ws_deliver`), the echo upstream's
//! answers come back the same way, and the stream ends (`Chain::ws_finish`, log lines on
//! stderr) when the upstream has sent its close, the client closes, or after
//! [`SESSION_LIMIT`] / [`IDLE_LIMIT`]. While a stream is upgraded the chain's single
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

use crate::serve::Job;

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
            Job::WsOpen(_, reply) => drop(reply.send(Err(message))),
            Job::WsData(_, _, _, reply) => drop(reply.send(Err(message))),
            Job::WsFinish(reply) => drop(reply.send(Err(message))),
        }
        return;
    };
    let text = |e: wasmtime::Error| format!("filter trapped: {e:#}");
    match job {
        Job::Http(_, reply) => drop(reply.send(Err(BUSY.into()))),
        Job::WsOpen(_, reply) if *upgraded => drop(reply.send(Err(BUSY.into()))),
        Job::WsOpen(request, reply) => {
            let result = chain.ws_open(&request, Box::new(ws::upstream_handshake)).map_err(text);
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

/// The handshake through the chain: its outcome and whether the stream upgraded.
pub async fn open(jobs: &std::sync::mpsc::Sender<Job>, request: RequestSpec) -> Result<(Outcome, bool), String> {
    ask(jobs, |tx| Job::WsOpen(request, tx)).await
}

/// Completes the 101 (hop-by-hop `Upgrade`/`Connection` put back) and serves the
/// upgraded connection on a task of its own.
pub fn accept(response: &mut hyper::Response<http_body_util::Full<Bytes>>, on_upgrade: OnUpgrade, jobs: std::sync::mpsc::Sender<Job>) {
    let headers = response.headers_mut();
    headers.insert(hyper::header::UPGRADE, hyper::header::HeaderValue::from_static("websocket"));
    headers.insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("Upgrade"));
    tokio::spawn(async move {
        let logs = match on_upgrade.await {
            Ok(io) => pump(TokioIo::new(io), &jobs).await,
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
