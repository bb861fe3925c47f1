//! `--format text`: each request and its result as an HTTP-style transcript.

use std::fmt::Write;

use wasm_harness::{escape_bytes, Outcome, RequestSpec};

/// The reason phrase of common statuses.
fn reason(status: u16) -> &'static str {
    match status {
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
