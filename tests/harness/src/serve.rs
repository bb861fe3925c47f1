//! `wasm-harness serve`: an HTTP/1.1 server that runs the chain for every request.
//!
//! The filters are not thread-safe, so one dedicated thread owns the chain and serves
//! requests one at a time from a channel; connections are accepted and parsed on a
//! tokio current-thread runtime. Requests reach the built-in echo upstream, or a real
//! upstream (`--upstream http://HOST:PORT[/PREFIX]`) over HTTP/1.1 with a bounded time.

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;
use wasm_harness::upstream::UpstreamResponse;
use wasm_harness::{ChainSpec, Harness, HeadersSpec, LogEntry, Outcome, RequestSpec, UpstreamRequest};

/// Largest request or upstream response body accepted, in bytes.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// How long in-flight connections get to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// `serve` options from the command line.
pub struct ServeOptions {
    /// Address to bind; port 0 picks a free port (the bound address is printed on stdout).
    pub listen: SocketAddr,
    /// A real upstream to forward to instead of the echo upstream.
    pub upstream: Option<String>,
    /// Bound on one upstream exchange (connect, send, whole response).
    pub upstream_timeout: Duration,
}

/// Work for the chain thread.
pub(crate) enum Job {
    /// One HTTP request.
    Http(RequestSpec, oneshot::Sender<Result<Outcome, String>>),
    /// A WebSocket handshake (`ws_open`), answered by the given function (a real
    /// upstream) or the built-in echo upstream: the outcome and whether it upgraded.
    WsOpen(RequestSpec, Option<crate::serve_ws::SendHandshake>, oneshot::Sender<Result<(Outcome, bool), String>>),
    /// Bytes from one side of the upgraded stream (`ws_deliver`), `true` at its end.
    WsData(wasm_harness::ws::Side, Vec<u8>, bool, oneshot::Sender<Result<wasm_harness::chain::Delivered, String>>),
    /// The end of the upgraded stream (`ws_finish`): its log lines.
    WsFinish(oneshot::Sender<Result<Vec<LogEntry>, String>>),
}

/// Where `--upstream` points: `host:port` and a path prefix.
#[derive(Clone, Debug)]
pub(crate) struct UpstreamTarget {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) prefix: String,
}

fn parse_upstream(url: &str) -> Result<UpstreamTarget, String> {
    let uri: Uri = url.parse().map_err(|e| format!("--upstream {url:?}: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("--upstream {url:?}: only http:// upstreams are supported"));
    }
    let host = uri.host().ok_or_else(|| format!("--upstream {url:?}: no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let prefix = uri.path().trim_end_matches('/').to_string();
    Ok(UpstreamTarget { host, port: uri.port_u16().unwrap_or(80), prefix })
}

/// Runs the server until SIGINT or SIGTERM. Exit codes: 0 after a clean shutdown, 1 when
/// the chain cannot start, 2 for bad options or an address that cannot be bound.
pub fn serve(spec: ChainSpec, options: ServeOptions) -> ExitCode {
    let target = match options.upstream.as_deref().map(parse_upstream).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("wasm-harness: {e}");
            return ExitCode::from(2);
        }
    };
    let (jobs, ready) = match start_chain_thread(spec, target.clone(), options.upstream_timeout) {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("wasm-harness: {e}");
            return ExitCode::from(1);
        }
    };
    for line in &ready {
        eprintln!("{}", log_line(line));
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wasm-harness: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(accept_loop(options.listen, jobs, target, options.upstream_timeout))
}

/// Builds the chain on its own thread; returns the job channel and the start-up log lines.
fn start_chain_thread(
    spec: ChainSpec,
    target: Option<UpstreamTarget>,
    timeout: Duration,
) -> Result<(std::sync::mpsc::Sender<Job>, Vec<LogEntry>), String> {
    let (jobs_tx, jobs_rx) = std::sync::mpsc::channel::<Job>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<Vec<LogEntry>, String>>();
    std::thread::Builder::new()
        .name("chain".into())
        .spawn(move || {
            let forwarder = match &target {
                None => None,
                Some(t) => match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => Some((std::rc::Rc::new(rt), t.clone())),
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("cannot start the upstream client: {e}")));
                        return;
                    }
                },
            };
            let harness = Harness::new();
            let build = || -> Result<wasm_harness::Chain, String> {
                let mut chain = harness.chain(&spec).map_err(|e| format!("{e:#}"))?;
                if let Some((rt, t)) = &forwarder {
                    let (rt, t) = (rt.clone(), t.clone());
                    chain.set_upstream(Box::new(move |request: &UpstreamRequest| rt.block_on(forward(&t, request, timeout))));
                }
                Ok(chain)
            };
            let mut chain = match build() {
                Ok(chain) => chain,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(std::mem::take(&mut chain.startup_logs)));
            let mut chain = Some(chain);
            // Set while an upgraded stream holds the chain's single stream state.
            let mut upgraded = false;
            while let Ok(job) = jobs_rx.recv() {
                let (request, reply) = match job {
                    Job::Http(request, reply) if !upgraded => (request, reply),
                    Job::Http(_, reply) => {
                        let _ = reply.send(Err(crate::serve_ws::BUSY.into()));
                        continue;
                    }
                    other => {
                        crate::serve_ws::run_job(chain.as_mut(), other, &mut upgraded);
                        continue;
                    }
                };
                let result = match chain.as_mut() {
                    Some(c) => c.run(&request).map_err(|e| format!("filter trapped: {e:#}")),
                    None => Err("the filters could not be restarted after a trap".to_string()),
                };
                if result.is_err() && chain.is_some() {
                    // A trapped instance must not serve again: start fresh filters, as a
                    // proxy restarts a failed VM.
                    chain = match build() {
                        Ok(mut c) => {
                            for line in std::mem::take(&mut c.startup_logs) {
                                eprintln!("{}", log_line(&line));
                            }
                            Some(c)
                        }
                        Err(e) => {
                            eprintln!("wasm-harness: cannot restart the filters: {e}");
                            None
                        }
                    };
                }
                let _ = reply.send(result);
            }
        })
        .map_err(|e| format!("cannot start the chain thread: {e}"))?;
    let startup = ready_rx.recv().map_err(|_| "the chain thread stopped while starting".to_string())??;
    Ok((jobs_tx, startup))
}

async fn accept_loop(listen: SocketAddr, jobs: std::sync::mpsc::Sender<Job>, target: Option<UpstreamTarget>, timeout: Duration) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("wasm-harness: cannot listen on {listen}: {e}");
            return ExitCode::from(2);
        }
    };
    let bound = listener.local_addr().unwrap_or(listen);
    println!("listening on http://{bound}");
    let _ = std::io::stdout().flush();
    match &target {
        Some(t) => eprintln!("wasm-harness: serving on http://{bound}, upstream http://{}:{}{}", t.host, t.port, t.prefix),
        None => eprintln!("wasm-harness: serving on http://{bound}, built-in echo upstream"),
    }
    let mut sigterm = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wasm-harness: cannot watch SIGTERM: {e}");
            return ExitCode::from(1);
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        eprintln!("wasm-harness: accept: {e}");
                        continue;
                    }
                };
                while connections.try_join_next().is_some() {}
                let jobs = jobs.clone();
                let ws_target = target.clone();
                let service = service_fn(move |request| handle(request, peer, jobs.clone(), ws_target.clone(), timeout));
                // `with_upgrades`: WebSocket handshakes (serve_ws). hyper-util's graceful
                // watcher does not take upgradeable connections, so shutdown is signalled
                // to each connection task here.
                let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service).with_upgrades();
                let mut stop = stop_rx.clone();
                connections.spawn(async move {
                    let mut connection = std::pin::pin!(connection);
                    let result = tokio::select! {
                        result = connection.as_mut() => result,
                        _ = stop.changed() => {
                            connection.as_mut().graceful_shutdown();
                            connection.await
                        }
                    };
                    if let Err(e) = result {
                        eprintln!("wasm-harness: {peer}: {e}");
                    }
                });
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = sigterm.recv() => break,
        }
    }
    drop(listener);
    eprintln!("wasm-harness: shutting down");
    tokio::select! {
        _ = async {
            let _ = stop_tx.send(true);
            while connections.join_next().await.is_some() {}
        } => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => eprintln!("wasm-harness: connections still open after {SHUTDOWN_GRACE:?}; closing them"),
    }
    ExitCode::SUCCESS
}

fn text_response(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain"));
    response
}

fn log_line(entry: &LogEntry) -> String {
    format!("[{}] {}: {}", entry.filter, entry.level, entry.message)
}

/// Headers a proxy does not pass on (RFC 9110 7.6.1) plus the length, recomputed.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding" | "upgrade" | "te" | "trailer" | "content-length"
    )
}

async fn handle(
    mut request: Request<Incoming>,
    peer: SocketAddr,
    jobs: std::sync::mpsc::Sender<Job>,
    ws_target: Option<UpstreamTarget>,
    timeout: Duration,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let version = format!("{:?}", request.version());
    let mut headers: Vec<(wasm_harness::Bytes, wasm_harness::Bytes)> = Vec::new();
    for (name, value) in request.headers() {
        headers.push((name.as_str().into(), value.as_bytes().into()));
    }
    if !headers.iter().any(|(n, _)| n.0 == b"host") {
        if let Some(authority) = request.uri().authority() {
            headers.push(("host".into(), authority.to_string().into()));
        }
    }
    // RFC 6455 4.1: a WebSocket handshake; the upgraded connection is taken after our 101.
    let text_headers: Vec<(String, String)> = headers.iter().map(|(n, v)| (n.lossy(), v.lossy())).collect();
    let on_upgrade = wasm_harness::ws::is_handshake(&text_headers).then(|| hyper::upgrade::on(&mut request));
    let access = |status: u16, bytes: usize, upstream: &str| {
        eprintln!(
            "{peer} \"{method} {path} {version}\" {status} {bytes} upstream={upstream} {:.1}ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
    };
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let response = text_response(StatusCode::PAYLOAD_TOO_LARGE, format!("request body: {e}\n"));
            access(413, 0, "no");
            return Ok(response);
        }
    };
    let spec = RequestSpec {
        method: Some(method.clone()),
        path: path.clone().into(),
        headers: HeadersSpec::Pairs(headers),
        body: if body.is_empty() { None } else { Some(body.to_vec().into()) },
        upstream: None,
        incomplete: false,
    };
    let mut upgraded = false;
    let mut tunnel = None;
    let result = match &on_upgrade {
        Some(_) => crate::serve_ws::open(&jobs, spec, ws_target.as_ref(), timeout).await.map(|(outcome, open, to_upstream)| {
            upgraded = open;
            tunnel = to_upstream;
            outcome
        }),
        None => {
            let (reply_tx, reply_rx) = oneshot::channel();
            match jobs.send(Job::Http(spec, reply_tx)) {
                Ok(()) => reply_rx.await.unwrap_or_else(|_| Err("the chain thread stopped".into())),
                Err(_) => Err("the chain thread stopped".into()),
            }
        }
    };
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) if e == crate::serve_ws::BUSY => {
            access(503, e.len(), "no");
            return Ok(text_response(StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")));
        }
        Err(e) => {
            eprintln!("wasm-harness: {e}");
            let body = format!("{e}\n");
            let len = body.len();
            access(500, len, "?");
            return Ok(text_response(StatusCode::INTERNAL_SERVER_ERROR, body));
        }
    };
    for line in &outcome.logs {
        eprintln!("{}", log_line(line));
    }
    let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body_len = outcome.body_bytes.len();
    let mut response = Response::new(Full::new(Bytes::from(outcome.body_bytes)));
    *response.status_mut() = status;
    for (name, value) in &outcome.raw_headers {
        if hop_by_hop(name) {
            continue;
        }
        match (hyper::header::HeaderName::from_bytes(name.as_bytes()), hyper::header::HeaderValue::from_bytes(value)) {
            (Ok(n), Ok(v)) => {
                response.headers_mut().append(n, v);
            }
            _ => eprintln!("wasm-harness: response header {name:?} is not valid HTTP; dropped"),
        }
    }
    access(status.as_u16(), body_len, if outcome.upstream.is_some() { "yes" } else { "no" });
    if let (true, Some(on_upgrade)) = (upgraded, on_upgrade) {
        crate::serve_ws::accept(&mut response, on_upgrade, jobs, tunnel);
    }
    Ok(response)
}

fn upstream_error(status: u16, message: String) -> UpstreamResponse {
    eprintln!("wasm-harness: {message}");
    let body = format!("{message}\n").into_bytes();
    UpstreamResponse {
        status,
        headers: vec![("content-type".into(), "text/plain".into()), ("content-length".into(), body.len().to_string().into_bytes())],
        body,
    }
}

/// Sends `request` to the upstream; 502 when it cannot be reached or answers badly,
/// 504 when it takes longer than `timeout`.
async fn forward(target: &UpstreamTarget, request: &UpstreamRequest, timeout: Duration) -> UpstreamResponse {
    let label = format!("upstream {}:{}", target.host, target.port);
    match tokio::time::timeout(timeout, exchange(target, request)).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => upstream_error(502, format!("{label}: {e}")),
        Err(_) => upstream_error(504, format!("{label}: no response within {timeout:?}")),
    }
}

async fn exchange(target: &UpstreamTarget, request: &UpstreamRequest) -> Result<UpstreamResponse, String> {
    let stream = tokio::net::TcpStream::connect((target.host.as_str(), target.port)).await.map_err(|e| format!("connect: {e}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(connection);
    let authority = if target.host.contains(':') { format!("[{}]:{}", target.host, target.port) } else { format!("{}:{}", target.host, target.port) };
    let path = format!("{}{}", target.prefix, if request.path.is_empty() { "/" } else { &request.path });
    let mut builder = Request::builder().method(request.method.as_str()).uri(path).header(hyper::header::HOST, authority);
    for (name, value) in &request.raw_headers {
        if name == "host" || hop_by_hop(name) {
            continue;
        }
        builder = builder.header(name.as_str(), value.as_slice());
    }
    let body = request.body_bytes.clone();
    if !body.is_empty() {
        builder = builder.header(hyper::header::CONTENT_LENGTH, body.len());
    }
    let outgoing = builder.body(Full::new(Bytes::from(body))).map_err(|e| format!("request: {e}"))?;
    let response = sender.send_request(outgoing).await.map_err(|e| format!("{e}"))?;
    let status = response.status().as_u16();
    let mut headers: Vec<(String, Vec<u8>)> = response
        .headers()
        .iter()
        .filter(|(n, _)| !hop_by_hop(n.as_str()))
        .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
        .collect();
    let body = Limited::new(response.into_body(), MAX_BODY).collect().await.map_err(|e| format!("response body: {e}"))?.to_bytes();
    headers.push(("content-length".into(), body.len().to_string().into_bytes()));
    Ok(UpstreamResponse { status, headers, body: body.to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls() {
        let t = parse_upstream("http://127.0.0.1:9000").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.prefix.as_str()), ("127.0.0.1", 9000, ""));
        let t = parse_upstream("http://localhost/api/").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.prefix.as_str()), ("localhost", 80, "/api"));
        assert!(parse_upstream("https://example.com").unwrap_err().contains("only http://"));
    }
}
