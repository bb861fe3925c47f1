//! `proxy_http_call` transport: the built-in echo upstream, or a real HTTP/1.1 server on
//! the loopback interface with a bounded timeout.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

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

fn loopback_call(port: u16, call: &HttpCall, timeout: Duration) -> Result<CallResponse, String> {
    let describe = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => "timeout".to_string(),
        std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        _ => format!("broken connection: {e}"),
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(describe)?;
    stream.set_read_timeout(Some(timeout)).map_err(describe)?;
    stream.set_write_timeout(Some(timeout)).map_err(describe)?;
    let text = |v: Option<&[u8]>, default: &str| match v {
        Some(v) if !v.is_empty() => String::from_utf8_lossy(v).into_owned(),
        _ => default.to_string(),
    };
    let mut out = format!(
        "{} {} HTTP/1.1\r\nhost: {}\r\n",
        text(header(&call.headers, ":method"), "GET"),
        text(header(&call.headers, ":path"), "/"),
        text(header(&call.headers, ":authority"), &format!("127.0.0.1:{port}")),
    )
    .into_bytes();
    for (name, value) in call.headers.iter().filter(|(n, _)| !n.starts_with(':') && n != "host" && n != "content-length" && n != "connection") {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\nconnection: close\r\n\r\n", call.body.len()).as_bytes());
    out.extend_from_slice(&call.body);
    stream.write_all(&out).map_err(describe)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(describe)?;
    parse_response(&raw).ok_or_else(|| "invalid HTTP response".to_string())
}

/// Parses an HTTP/1.x response read to the end of the connection (content-length and
/// chunked bodies).
pub fn parse_response(raw: &[u8]) -> Option<CallResponse> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let mut headers: HeaderMap = vec![(":status".into(), status.to_string().into_bytes())];
    for line in lines {
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().as_bytes().to_vec()));
    }
    let rest = &raw[end + 4..];
    let chunked = header(&headers, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"));
    let body = if chunked {
        let mut body = Vec::new();
        let mut pos = 0;
        loop {
            let line_end = pos + rest.get(pos..)?.windows(2).position(|w| w == b"\r\n")?;
            let size = usize::from_str_radix(std::str::from_utf8(&rest[pos..line_end]).ok()?.split(';').next()?.trim(), 16).ok()?;
            pos = line_end + 2;
            if size == 0 {
                break;
            }
            body.extend_from_slice(rest.get(pos..pos + size)?);
            pos += size + 2;
        }
        body
    } else {
        match header(&headers, "content-length").and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<usize>().ok()) {
            Some(len) => rest.get(..len.min(rest.len()))?.to_vec(),
            None => rest.to_vec(),
        }
    };
    Some(CallResponse { headers, body, trailers: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chunked_and_sized_responses() {
        let r = parse_response(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: b\r\n\r\nhi").unwrap();
        assert_eq!(r.body, b"hi");
        assert_eq!(header(&r.headers, ":status"), Some(&b"201"[..]));
        assert_eq!(header(&r.headers, "x-a"), Some(&b"b"[..]));
        let c = parse_response(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!(c.body, b"abcde");
    }
}
