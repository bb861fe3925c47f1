//! `--format text`: each request and its result as an HTTP-style transcript.

use std::fmt::Write;

use wasm_harness::chain::ItemOutcome;
use wasm_harness::connection::RequestItem;
use wasm_harness::ws::ReceivedFrame;
use wasm_harness::{escape_bytes, Outcome, RequestSpec};

/// The reason phrase of common statuses.
fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Renders one request and what came of it.
pub fn render(request: &RequestSpec, outcome: &Outcome) -> String {
    let mut out = String::new();
    let method = request.method.as_deref().unwrap_or("GET");
    let _ = writeln!(out, "> {method} {}", escape_bytes(&request.path));
    for (name, value) in request.headers.byte_pairs() {
        let _ = writeln!(out, "> {}: {}", escape_bytes(&name), escape_bytes(&value));
    }
    let _ = writeln!(out, "< HTTP/1.1 {} {}", outcome.status, reason(outcome.status));
    for (name, value) in &outcome.raw_headers {
        let _ = writeln!(out, "< {name}: {}", escape_bytes(value));
    }
    if !outcome.body_bytes.is_empty() {
        let _ = writeln!(out, "<\n{}", escape_bytes(&outcome.body_bytes));
    }
    match &outcome.upstream {
        None => {
            let _ = writeln!(out, "upstream: not called");
        }
        Some(up) => {
            let headers: Vec<String> = up.raw_headers.iter().map(|(n, v)| format!("{n}: {}", escape_bytes(v))).collect();
            let _ = writeln!(out, "upstream: {} {} [{}]", up.method, escape_bytes(&up.path_bytes), headers.join(", "));
        }
    }
    for log in &outcome.logs {
        let _ = writeln!(out, "log [{}] {:<8} {}", log.filter, log.level, log.message);
    }
    out.push('\n');
    out
}

fn frame_line(out: &mut String, arrow: &str, frame: &ReceivedFrame) {
    let code = frame.close_code.map(|c| format!(" code={c}")).unwrap_or_default();
    let masked = if frame.masked { " masked" } else { "" };
    let _ = writeln!(out, "{arrow} {} fin={}{masked}{code} {:?}", frame.opcode, frame.fin, frame.payload);
}

/// Renders one request-file item: a request as [`render`]; a WebSocket stream as its
/// handshake, then `upstream got` / `client got` lines per frame; a connection as its
/// streams under a `connection N` line.
pub fn render_item(item: &RequestItem, outcome: &ItemOutcome) -> String {
    match (item, outcome) {
        (RequestItem::Request(request), ItemOutcome::Request(outcome)) => render(request, outcome),
        (RequestItem::WebSocket(spec), ItemOutcome::WebSocket(ws)) => {
            let mut out = render(&spec.handshake(), &ws.handshake);
            out.pop();
            for frame in &ws.upstream_received {
                frame_line(&mut out, "upstream got", frame);
            }
            for frame in &ws.client_received {
                frame_line(&mut out, "client got", frame);
            }
            for error in &ws.errors {
                let _ = writeln!(out, "protocol error: {error}");
            }
            if let Some(reset) = &ws.reset {
                let _ = writeln!(out, "reset: {reset}");
            }
            out.push('\n');
            out
        }
        (RequestItem::Connection(spec), ItemOutcome::Connection { connection, outcomes }) => {
            let mut out = format!("connection {connection}\n");
            for (value, outcome) in spec.requests.iter().zip(outcomes) {
                if let Ok(item) = RequestItem::from_value(value.clone()) {
                    out.push_str(&render_item(&item, outcome));
                }
            }
            out
        }
        _ => String::new(),
    }
}
