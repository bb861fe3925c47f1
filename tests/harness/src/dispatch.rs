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
    /// The context that dispatched it (root context id 1, or a stream context).
    pub context_id: i32,
    /// The upstream argument: a cluster name (answered by the echo upstream) or
    /// `127.0.0.1:PORT` / `localhost:PORT` (a real server).
    pub upstream: String,
    /// Request headers incl. `:method`, `:path`, `:authority`.
    pub headers: HeaderMap,
    /// Request body.
    pub body: Vec<u8>,
    /// Timeout in milliseconds as the filter gave it (0: [`MAX_TIMEOUT_MS`]).
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

/// Performs `call`; `Err` carries a failure reason (`"timeout"`, `"connection refused"`...).
pub fn perform(call: &HttpCall) -> Result<CallResponse, String> {
    let target = call.upstream.trim();
    let loopback = target.strip_prefix("127.0.0.1:").or_else(|| target.strip_prefix("localhost:"));
    match loopback {
        Some(port) => {
            let port: u16 = port.parse().map_err(|_| format!("bad port in {target:?}"))?;
            let timeout = match call.timeout_ms {
                0 => MAX_TIMEOUT_MS,
                t => u64::from(t).min(MAX_TIMEOUT_MS),
            };
            loopback_call(port, call, Duration::from_millis(timeout))
        }
        None => Ok(echo_call(call)),
    }
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
    let body = response.into_body().collect().await.map_err(|e| format!("broken connection: {e}"))?.to_bytes();
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
        HttpCall { token: 1, context_id: 1, upstream: format!("127.0.0.1:{port}"), headers, body: Vec::new(), timeout_ms: 2000 }
    }

    #[test]
    fn reads_chunked_and_sized_responses() {
        let port = one_shot(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: b\r\n\r\nhi");
        let r = perform(&call(port)).unwrap();
        assert_eq!(r.body, b"hi");
        assert_eq!(header(&r.headers, ":status"), Some(&b"201"[..]));
        assert_eq!(header(&r.headers, "x-a"), Some(&b"b"[..]));
        let port = one_shot(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        assert_eq!(perform(&call(port)).unwrap().body, b"abcde");
    }

    #[test]
    fn a_closed_port_is_refused() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        assert_eq!(perform(&call(port)).unwrap_err(), "connection refused");
    }
}
