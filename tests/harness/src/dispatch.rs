//! `proxy_http_call` transport: the built-in echo upstream, or a real HTTP/1.1 server on
//! the loopback interface through hyper's client, with a bounded timeout.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use crate::abi::HeaderMap;
use crate::spec::UpstreamRequest;
use crate::upstream;

/// The longest a real loopback call may take, whatever timeout the filter asked for.
pub const MAX_TIMEOUT_MS: u64 = 5000;

/// A call a filter dispatched with `proxy_http_call`, waiting to be performed.
#[derive(Debug, Clone)]
pub struct HttpCall {
    /// The token `proxy_http_call` returned.
    pub token: u32,
    /// The context `proxy_on_http_call_response` runs on: on Envoy the dispatching
    /// filter's root context (cpp-host `exports.cc` `http_call` calls on
    /// `root_context()`), on Kong's engine the context that dispatched it.
    pub context_id: i32,
    /// The upstream argument: a cluster name (answered by the echo upstream) or
    /// `127.0.0.1:PORT` / `localhost:PORT` (a real server).
    pub upstream: String,
    /// Where the harness sends it ([`target`]): `echo`, a loopback `127.0.0.1:PORT`, or
    /// `None` for a name it cannot resolve.
    pub target: Option<String>,
    /// Request headers incl. `:method`, `:path`, `:authority`.
    pub headers: HeaderMap,
    /// Request body.
    pub body: Vec<u8>,
    /// Timeout in milliseconds as the filter gave it (0: none, Envoy's `context.cc`
    /// `httpCall` sets no timeout; the harness bounds it by [`MAX_TIMEOUT_MS`]).
    pub timeout_ms: u32,
}

/// The answer to an [`HttpCall`]: headers incl. `:status`, body, trailers.
#[derive(Debug, Clone, Default)]
pub struct CallResponse {
    /// Headers incl. the `:status` pseudo-header; on failure, none (Envoy) or a
    /// `:dispatch_status` pseudo-header (Kong's extension).
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
    /// Trailers (always empty here).
    pub trailers: HeaderMap,
}

fn header<'a>(map: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    map.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
}

/// Where a call to `upstream` goes: its entry in the chain's `call_targets`, else
/// `echo` or a loopback `127.0.0.1:PORT` / `localhost:PORT` as named; `None` otherwise.
pub fn target(targets: &std::collections::BTreeMap<String, String>, upstream: &str) -> Option<String> {
    let upstream = upstream.trim();
    if let Some(mapped) = targets.get(upstream) {
        return Some(mapped.clone());
    }
    let loopback = upstream.strip_prefix("127.0.0.1:").or_else(|| upstream.strip_prefix("localhost:"));
    match loopback {
        Some(port) if port.parse::<u16>().is_ok() => Some(format!("127.0.0.1:{port}")),
        _ if upstream == "echo" => Some("echo".into()),
        _ => None,
    }
}

/// Performs `call`; `Err` carries a failure reason (`"timeout"`, `"connection refused"`,
/// `"resolver failure"`, `"tls handshake failure"`, `"broken connection: ..."`). `kong`:
/// ngx_wasm_module makes TLS connections for `:scheme: https`, which the harness cannot
/// (a `tls handshake failure`); Envoy's TLS is the cluster's, and the harness's targets
/// are plain.
pub fn perform(call: &HttpCall, kong: bool) -> Result<CallResponse, String> {
    let Some(target) = call.target.as_deref() else { return Err("resolver failure".into()) };
    if target == "echo" {
        return Ok(echo_call(call));
    }
    if kong && header(&call.headers, ":scheme") == Some(b"https") {
        return Err("tls handshake failure".into());
    }
    let port = target.strip_prefix("127.0.0.1:").and_then(|p| p.parse::<u16>().ok()).ok_or_else(|| "resolver failure".to_string())?;
    let timeout = match call.timeout_ms {
        0 => MAX_TIMEOUT_MS,
        t => u64::from(t).min(MAX_TIMEOUT_MS),
    };
    loopback_call(port, call, Duration::from_millis(timeout))
}

/// A failed call as ngx_wasm_module reports it: no response, a `:dispatch_status`
/// pseudo-header with its socket status string (`ngx_wasm_socket_tcp.c`); a refused
/// connect is `broken connection` (its test `130-proxy_dispatch_http.t`, "connection
/// refused").
pub fn kong_failure(reason: &str) -> CallResponse {
    let status = match reason {
        "timeout" | "resolver failure" | "tls handshake failure" => reason,
        _ => "broken connection",
    };
    CallResponse { headers: vec![(":dispatch_status".into(), status.as_bytes().to_vec())], ..Default::default() }
}

/// The failure reason of a call whose connection broke after the response headers.
pub const RESET_AFTER_HEADERS: &str = "reset after headers";

/// A failed call as Envoy's async client answers it (envoy-host.md "Outbound calls"):
/// a timeout is the router's 504 `upstream request timeout`; a connect failure its 503
/// `upstream connect error or disconnect/reset before headers. reset reason: remote
/// connection failure, ...` (`source/common/router/router.cc`), a broken connection the
/// same with `connection termination`.
///
/// A stream reset once the headers came ([`RESET_AFTER_HEADERS`]) is the async client's
/// `onFailure(Reset)`: `context.cc` `Context::onHttpCallFailure` calls
/// `onHttpCallResponse(token, 0, 0, 0)`, zero headers and no body.
pub fn envoy_failure(reason: &str) -> CallResponse {
    if reason.starts_with(RESET_AFTER_HEADERS) {
        return CallResponse::default();
    }
    let (status, body) = match reason {
        "timeout" => (504, "upstream request timeout".to_string()),
        "connection refused" => (
            503,
            "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, \
             transport failure reason: delayed connect error: Connection refused"
                .to_string(),
        ),
        _ => (503, "upstream connect error or disconnect/reset before headers. reset reason: connection termination".to_string()),
    };
    let headers = vec![
        (":status".into(), status.to_string().into_bytes()),
        ("content-length".into(), body.len().to_string().into_bytes()),
        ("content-type".into(), b"text/plain".to_vec()),
    ];
    CallResponse { headers, body: body.into_bytes(), trailers: Vec::new() }
}

fn echo_call(call: &HttpCall) -> CallResponse {
    let request = UpstreamRequest::new(
        String::from_utf8_lossy(header(&call.headers, ":method").unwrap_or_default()).into_owned(),
        header(&call.headers, ":path").unwrap_or_default().to_vec(),
        call.headers.iter().filter(|(n, _)| !n.starts_with(':')).cloned().collect(),
        call.body.clone(),
    );
    let answer = upstream::respond(&request, None);
    let mut headers: HeaderMap = vec![(":status".into(), answer.status.to_string().into_bytes())];
    headers.extend(answer.headers);
    CallResponse { headers, body: answer.body, trailers: Vec::new() }
}

/// Sends `call` to `127.0.0.1:port` with hyper's HTTP/1.1 client, on a current-thread
/// runtime in a thread of its own (the caller may already be inside `serve`'s runtime,
/// where a nested `block_on` would panic). The whole exchange is bounded by `timeout`.
fn loopback_call(port: u16, call: &HttpCall, timeout: Duration) -> Result<CallResponse, String> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("runtime: {e}"))?;
                runtime.block_on(async {
                    match tokio::time::timeout(timeout, exchange(port, call)).await {
                        Ok(result) => result,
                        Err(_) => Err("timeout".to_string()),
                    }
                })
            })
            .join()
            .unwrap_or_else(|_| Err("dispatch thread failed".to_string()))
    })
}

/// One request and its whole response over a fresh connection.
async fn exchange(port: u16, call: &HttpCall) -> Result<CallResponse, String> {
    let stream = tokio::net::TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        _ => format!("broken connection: {e}"),
    })?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("broken connection: {e}"))?;
    tokio::spawn(connection);
    let text = |v: Option<&[u8]>, default: &str| match v {
        Some(v) if !v.is_empty() => String::from_utf8_lossy(v).into_owned(),
        _ => default.to_string(),
    };
    let mut builder = hyper::Request::builder()
        .method(text(header(&call.headers, ":method"), "GET").as_str())
        .uri(text(header(&call.headers, ":path"), "/"))
        .header(hyper::header::HOST, text(header(&call.headers, ":authority"), &format!("127.0.0.1:{port}")));
    for (name, value) in call.headers.iter().filter(|(n, _)| !n.starts_with(':') && n != "host" && n != "content-length" && n != "connection") {
        builder = builder.header(name.as_str(), value.as_slice());
    }
    let request = builder
        .header(hyper::header::CONTENT_LENGTH, call.body.len())
        .body(Full::new(Bytes::from(call.body.clone())))
        .map_err(|e| format!("bad request: {e}"))?;
    let response = sender.send_request(request).await.map_err(|e| format!("broken connection: {e}"))?;
    let mut headers: HeaderMap = vec![(":status".into(), response.status().as_u16().to_string().into_bytes())];
    headers.extend(response.headers().iter().map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec())));
    let body = response.into_body().collect().await.map_err(|e| format!("{RESET_AFTER_HEADERS}: {e}"))?.to_bytes();
    Ok(CallResponse { headers, body: body.to_vec(), trailers: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// Serves one canned response on a loopback port; returns the port.
    fn one_shot(response: &'static [u8]) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            conn.write_all(response).unwrap();
        });
        port
    }

    fn call(port: u16) -> HttpCall {
        let headers = vec![(":method".into(), b"GET".to_vec()), (":path".into(), b"/x".to_vec())];
        HttpCall { token: 1, context_id: 1, upstream: format!("127.0.0.1:{port}"), target: Some(format!("127.0.0.1:{port}")), headers, body: Vec::new(), timeout_ms: 2000 }
    }

    #[test]
    fn reads_chunked_and_sized_responses() {
        let port = one_shot(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: b\r\n\r\nhi");
        let r = perform(&call(port), false).unwrap();
        assert_eq!(r.body, b"hi");
        assert_eq!(header(&r.headers, ":status"), Some(&b"201"[..]));
        assert_eq!(header(&r.headers, "x-a"), Some(&b"b"[..]));
        let port = one_shot(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        assert_eq!(perform(&call(port), false).unwrap().body, b"abcde");
    }

    #[test]
    fn a_closed_port_is_refused() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        assert_eq!(perform(&call(port), false).unwrap_err(), "connection refused");
    }
}
