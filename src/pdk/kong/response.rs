//! `kong.response`: the response the client gets, as Kong's `kong/pdk/response.lua`.
//!
//! Where the response lives depends on the phase: in `rewrite`/`access` it does not exist
//! yet, so header changes are recorded and applied to whichever response is sent; after
//! `kong.response.exit` it is the filter's own local response; in `header_filter` and
//! later it is the upstream's response, read and changed through the host.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::{json, lua_string, raise, set_function, validate_header, HeaderValue, Pdk, Scope};
use crate::host::LogLevel;
use crate::phase::{kong_phase, Phase};
use crate::properties::{HostKind, Need};
use crate::runtime::{HeaderOp, LocalResponse, RequestState};

const MIN_STATUS_CODE: i64 = 100;
const MAX_STATUS_CODE: i64 = 599;
const MIN_ERR_STATUS_CODE: i64 = 400;
const MIN_HEADERS: i64 = 1;
const MAX_HEADERS: i64 = 1000;
const DEFAULT_MAX_HEADERS: i64 = 100;
const CONTENT_TYPE_JSON: &[u8] = b"application/json; charset=utf-8";
const CONTENT_TYPE_GRPC: &str = "application/grpc";

/// Kong's `rewrite_access_header` phase mask.
pub(crate) const REWRITE_ACCESS_HEADER: u32 = kong_phase::REWRITE
    | kong_phase::ACCESS
    | kong_phase::RESPONSE
    | kong_phase::BALANCER
    | kong_phase::HEADER_FILTER
    | kong_phase::ERROR
    | kong_phase::ADMIN_API;

/// Kong's `header_body_log` phase mask.
pub(crate) const HEADER_BODY_LOG: u32 = kong_phase::RESPONSE
    | kong_phase::HEADER_FILTER
    | kong_phase::BODY_FILTER
    | kong_phase::LOG
    | kong_phase::ERROR
    | kong_phase::ADMIN_API;

/// Builds the `kong.response` table.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "exit", pdk, exit);
    set_function(ctx, t, "error", pdk, error);
    set_function(ctx, t, "set_header", pdk, set_header);
    set_function(ctx, t, "add_header", pdk, add_header);
    set_function(ctx, t, "clear_header", pdk, clear_header);
    set_function(ctx, t, "set_headers", pdk, set_headers);
    set_function(ctx, t, "get_header", pdk, get_header);
    set_function(ctx, t, "get_headers", pdk, get_headers);
    set_function(ctx, t, "get_status", pdk, get_status);
    set_function(ctx, t, "set_status", pdk, set_status);
    set_function(ctx, t, "get_source", pdk, get_source);
    set_function(ctx, t, "get_raw_body", pdk, get_raw_body);
    set_function(ctx, t, "set_raw_body", pdk, set_raw_body);
    t
}

// ---------------------------------------------------------------------------------------
// Status

/// A status argument as Kong checks it: a number between `min` and 599 ("code must be a
/// number", "code must be a number between <min> and 599"). Fractions are cut.
fn check_status<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, value: Value<'gc>, min: i64) -> Result<u16, Error<'gc>> {
    let status = match value {
        v @ (Value::Integer(_) | Value::Number(_)) => v.to_number().unwrap_or(0.0),
        _ => return raise(ctx, exec, "code must be a number"),
    };
    if !(status >= min as f64 && status <= MAX_STATUS_CODE as f64) {
        return raise(ctx, exec, &format!("code must be a number between {min} and {MAX_STATUS_CODE}"));
    }
    Ok(status as u16)
}

/// The status the client gets now, as `ngx.status` reads it: the filter's own response,
/// else the upstream's `:status`, else a status set before the response exists, else 0.
pub(crate) fn current_status(scope: &Scope) -> i64 {
    if let Some(response) = scope.request.exit.as_ref() {
        return i64::from(response.status);
    }
    if !matches!(scope.phase, Phase::Rewrite | Phase::Access) {
        if let Some(status) = scope
            .host
            .response_header(":status")
            .and_then(|s| String::from_utf8_lossy(&s).trim().parse::<i64>().ok())
        {
            return status;
        }
    }
    scope.request.status.map(i64::from).unwrap_or(0)
}

/// Changes the status the client gets (`kong.response.set_status`, `ngx.status = n`):
/// on the filter's own response when there is one, recorded in `RequestState::status`
/// before a response exists, and on the upstream's `:status` in `header_filter`.
pub(crate) fn change_status(scope: &mut Scope, status: u16) {
    if let Some(response) = scope.request.exit.as_mut() {
        response.status = status;
    } else if matches!(scope.phase, Phase::Rewrite | Phase::Access) {
        scope.request.status = Some(status);
    } else {
        scope.request.status = Some(status);
        scope.host.set_response_header(":status", Some(status.to_string().as_bytes()));
    }
}

/// `kong.response.get_status()`: the status the client gets.
fn get_status<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let status = current_status(&pdk.scope());
    stack.replace(ctx, status);
    Ok(CallbackReturn::Return)
}

/// `kong.response.set_status(status)`: changes the status the client gets (100-599).
/// Before the upstream answered it is kept in `RequestState::status` (the glue applies it
/// to the upstream's response); in `header_filter` it rewrites the upstream's `:status`.
fn set_status<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, REWRITE_ACCESS_HEADER)?;
    let status = check_status(ctx, &exec, stack.get(0), MIN_STATUS_CODE)?;
    change_status(&mut pdk.scope_mut(), status);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.response.get_source()`: `"exit"` when the filter produced the response,
/// `"service"` when the upstream did, `"error"` after an error (the filter's 500 for a
/// Lua error, or no response at all). When the filter did not answer, on Kong the
/// gateway's own answer (property `kong.response.source`) comes first.
fn get_source<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let scope = pdk.scope();
    // The filter knows when it answered itself; otherwise Kong's own answer (its exit or
    // error before the filter chain ran) wins, then whether an upstream answered.
    let own = match scope.request.exit.as_ref() {
        Some(r) if *r == LocalResponse::internal_error() => Some("error"),
        Some(_) => Some("exit"),
        None => None,
    };
    let from_host = || match scope.host_kind {
        HostKind::Kong => Need::ResponseSource
            .read_text(scope.host.as_ref(), scope.host_kind)
            .filter(|s| matches!(s.as_str(), "exit" | "error" | "service")),
        _ => None,
    };
    let source = own.map(str::to_owned).or_else(from_host).unwrap_or_else(|| {
        if scope.host.response_header(":status").is_some() { "service" } else { "error" }.to_string()
    });
    drop(scope);
    stack.replace(ctx, lua_string(ctx, source.as_bytes()));
    Ok(CallbackReturn::Return)
}

// ---------------------------------------------------------------------------------------
// Headers

/// A response header name as `ngx.header` keys it: lowercase, `_` read as `-`.
pub(crate) fn response_header_name(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// Kong's `normalize_multi_header`: an empty value is sent as a single space.
fn normalize_value(value: HeaderValue) -> HeaderValue {
    let fix = |v: Vec<u8>| if v.is_empty() { b" ".to_vec() } else { v };
    match value {
        HeaderValue::One(v) => HeaderValue::One(fix(v)),
        HeaderValue::Many(vs) => HeaderValue::Many(vs.into_iter().map(fix).collect()),
    }
}

/// How a response header changes.
pub(crate) enum HeaderChange {
    /// Replace every value (`None` clears the header).
    Set(Option<HeaderValue>),
    /// Append values.
    Add(HeaderValue),
}

/// Applies a header change to the response the client gets now: the filter's own response
/// if there is one, pending ops before a response exists (`rewrite`/`access`), else the
/// upstream's response through the host. `name` must be normalized already.
pub(crate) fn change_response_header(scope: &mut Scope, name: &str, change: HeaderChange) {
    let values = |v: HeaderValue| match v {
        HeaderValue::One(v) => vec![v],
        HeaderValue::Many(vs) => vs,
    };
    let (clear, add) = match change {
        HeaderChange::Set(None) => (true, Vec::new()),
        HeaderChange::Set(Some(HeaderValue::One(v))) => {
            // One value: a plain replace.
            let before_response = matches!(scope.phase, Phase::Rewrite | Phase::Access);
            if let Some(response) = scope.request.exit.as_mut() {
                response.set_header(name, Some(&v));
            } else if before_response {
                scope.request.response_header_ops.push(HeaderOp::Set(name.to_owned(), Some(v)));
            } else {
                scope.host.set_response_header(name, Some(&v));
            }
            return;
        }
        HeaderChange::Set(Some(many)) => (true, values(many)),
        HeaderChange::Add(v) => (false, values(v)),
    };
    let before_response = matches!(scope.phase, Phase::Rewrite | Phase::Access);
    if let Some(response) = scope.request.exit.as_mut() {
        if clear {
            response.set_header(name, None);
        }
        for v in add {
            response.add_header(name, &v);
        }
    } else if before_response {
        let ops = &mut scope.request.response_header_ops;
        if clear {
            ops.push(HeaderOp::Set(name.to_owned(), None));
        }
        ops.extend(add.into_iter().map(|v| HeaderOp::Add(name.to_owned(), v)));
    } else {
        if clear {
            scope.host.set_response_header(name, None);
        }
        for v in add {
            scope.host.add_response_header(name, &v);
        }
    }
}

/// The response headers the client would get now (see [`change_response_header`]):
/// the local response's, the pending ones before a response exists, else the host's.
pub(crate) fn current_response_headers(scope: &Scope) -> Vec<(String, Vec<u8>)> {
    if let Some(response) = scope.request.exit.as_ref() {
        return response.headers.clone();
    }
    if matches!(scope.phase, Phase::Rewrite | Phase::Access) {
        let mut pending = LocalResponse::default();
        scope.request.apply_header_ops(&mut pending);
        return pending.headers;
    }
    scope.host.response_headers()
}

fn is_transfer_encoding(name: &str) -> bool {
    name == "transfer-encoding"
}

fn warn(scope: &Scope, message: &str) {
    crate::pdk::log_line(scope, LogLevel::Warn, format!("{}{message}", scope.log_prefix()));
}

/// `kong.response.set_header(name, value)`: replaces the header on the client's response
/// (`_` in the name stands for `-`, as nginx's `ngx.header`; an empty value is sent as a
/// space). `Transfer-Encoding` is ignored with a warning, as Kong does.
fn set_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, REWRITE_ACCESS_HEADER)?;
    let (name, value) = validate_header(ctx, &exec, stack.get(0), stack.get(1))?;
    let name = response_header_name(&name);
    let mut scope = pdk.scope_mut();
    if is_transfer_encoding(&name) {
        warn(&scope, "manually setting Transfer-Encoding. Ignored.");
    } else {
        change_response_header(&mut scope, &name, HeaderChange::Set(Some(normalize_value(value))));
    }
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.response.add_header(name, value)`: adds a value to the header, keeping the
/// existing ones.
fn add_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, REWRITE_ACCESS_HEADER)?;
    let (name, value) = validate_header(ctx, &exec, stack.get(0), stack.get(1))?;
    let name = response_header_name(&name);
    change_response_header(&mut pdk.scope_mut(), &name, HeaderChange::Add(normalize_value(value)));
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.response.clear_header(name)`: removes every value of the header.
fn clear_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, REWRITE_ACCESS_HEADER)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "header name must be a string");
    };
    let name = response_header_name(&name.to_str_lossy());
    change_response_header(&mut pdk.scope_mut(), &name, HeaderChange::Set(None));
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// Kong's `checks.validate_headers(headers)`: a table of string names to a string, number,
/// boolean or array of strings, with Kong's messages. Returns the pairs sorted by name
/// (Kong documents the headers as produced in lexicographical order).
pub(crate) fn validate_headers<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, headers: Value<'gc>) -> Result<Vec<(String, HeaderValue)>, Error<'gc>> {
    let Value::Table(table) = headers else {
        return raise(ctx, exec, "headers must be a table");
    };
    let mut out = Vec::new();
    for (name, value) in table.iter() {
        if let (Value::String(n), v) = (name, value) {
            if !matches!(v, Value::String(_) | Value::Integer(_) | Value::Number(_) | Value::Boolean(_) | Value::Table(_)) {
                return raise(ctx, exec, &format!(
                    "invalid header value for \"{}\": got {}, expected string, number, boolean or array of strings",
                    n.to_str_lossy(),
                    v.type_name()
                ));
            }
        }
        out.push(validate_header(ctx, exec, name, value)?);
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// `kong.response.set_headers(headers)`: [`set_header`] for each pair of the table.
fn set_headers<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, REWRITE_ACCESS_HEADER)?;
    let headers = validate_headers(ctx, &exec, stack.get(0))?;
    let mut scope = pdk.scope_mut();
    for (name, value) in headers {
        let name = response_header_name(&name);
        if is_transfer_encoding(&name) {
            warn(&scope, "manually setting Transfer-Encoding. Ignored.");
        } else {
            change_response_header(&mut scope, &name, HeaderChange::Set(Some(normalize_value(value))));
        }
    }
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.response.get_header(name)`: the first value of the header on the client's response.
fn get_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "header name must be a string");
    };
    let name = crate::pdk::kong::request::normalize_header_name(name.as_bytes());
    let headers = current_response_headers(&pdk.scope());
    let value = headers.into_iter().find(|(n, _)| n.to_ascii_lowercase() == name).map(|(_, v)| v);
    stack.replace(ctx, value.map(|v| lua_string(ctx, &v)).unwrap_or(Value::Nil));
    Ok(CallbackReturn::Return)
}

/// Kong's `max_headers` argument: nil (100), or a number in 1..=1000.
pub(crate) fn max_headers_arg<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, value: Value<'gc>) -> Result<i64, Error<'gc>> {
    match value {
        Value::Nil => Ok(DEFAULT_MAX_HEADERS),
        v @ (Value::Integer(_) | Value::Number(_)) => {
            let n = v.to_number().unwrap_or(0.0);
            if n < MIN_HEADERS as f64 {
                return raise(ctx, exec, &format!("max_headers must be >= {MIN_HEADERS}"));
            }
            if n > MAX_HEADERS as f64 {
                return raise(ctx, exec, &format!("max_headers must be <= {MAX_HEADERS}"));
            }
            Ok(n as i64)
        }
        _ => raise(ctx, exec, "max_headers must be a number"),
    }
}

/// `kong.response.get_headers([max_headers])`: the client's response headers as Kong's
/// headers table (lowercase names, arrays for repeated headers, lookups by any case and
/// `_` for `-`).
fn get_headers<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let max = max_headers_arg(ctx, &exec, stack.get(0))?;
    let headers = current_response_headers(&pdk.scope());
    let table = crate::pdk::kong::request::header_table(ctx, &headers, max);
    stack.replace(ctx, table);
    Ok(CallbackReturn::Return)
}

// ---------------------------------------------------------------------------------------
// Body (body_filter)

/// `kong.response.get_raw_body()`: in `body_filter`, the whole response body once the
/// last chunk arrived, else `nil`. As Kong, it buffers each chunk it sees (in
/// `RequestState::response_body_buffer`) and empties the chunk passed on (`ngx.arg[1] =
/// nil`), so the client gets the whole body with the last chunk. When the glue buffered
/// the response (`RequestState::response_body`), that body is returned at once.
fn get_raw_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, kong_phase::BODY_FILTER)?;
    let body = raw_body(&mut pdk.scope_mut().request);
    stack.replace(ctx, body.map(|b| lua_string(ctx, &b)).unwrap_or(Value::Nil));
    Ok(CallbackReturn::Return)
}

fn raw_body(request: &mut RequestState) -> Option<Vec<u8>> {
    if let Some(body) = request.response_body.as_ref() {
        return Some(body.clone());
    }
    let buffer = &mut request.response_body_buffer;
    let chunk = request.body.as_mut()?;
    if chunk.eof && buffer.is_none() {
        return Some(chunk.data.clone());
    }
    if !chunk.data.is_empty() {
        buffer.get_or_insert_with(Vec::new).extend_from_slice(&chunk.data);
    }
    chunk.changed = true;
    if chunk.eof {
        let whole = buffer.take().unwrap_or_default();
        chunk.data = whole.clone();
        return Some(whole);
    }
    chunk.data.clear();
    None
}

/// `kong.response.set_raw_body(body)`: in `body_filter`, replaces the response body with
/// `body` and ends it there (`ngx.arg[1] = body; ngx.arg[2] = true`; an empty body is
/// sent as `"\n"`, as Kong does for nginx). When the response is buffered
/// (`RequestState::response_body`), the whole buffered body is replaced
/// (`response_body_changed`). The glue frames the new body itself (it drops the
/// upstream's `Content-Length` when `body_filter` runs), so the response stays well-formed.
fn set_raw_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, kong_phase::BODY_FILTER)?;
    let Value::String(body) = stack.get(0) else {
        return raise(ctx, &exec, "body must be a string");
    };
    let data = if body.as_bytes().is_empty() { b"\n".to_vec() } else { body.as_bytes().to_vec() };
    let mut scope = pdk.scope_mut();
    let request = &mut scope.request;
    if request.response_body.is_some() {
        request.response_body = Some(data.clone());
        request.response_body_changed = true;
    }
    if let Some(chunk) = request.body.as_mut() {
        chunk.data = data;
        chunk.eof = true;
        chunk.changed = true;
    }
    request.response_body_buffer = None;
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

// ---------------------------------------------------------------------------------------
// exit / error

/// A body argument of `send`.
enum Body {
    None,
    Bytes(Vec<u8>),
    Json(String),
}

/// gRPC codes for HTTP statuses (Kong's `HTTP_TO_GRPC_STATUS`).
fn grpc_status_of(status: u16) -> u8 {
    match status {
        200 => 0,
        400 => 3,
        401 => 16,
        403 => 7,
        404 => 5,
        409 => 6,
        429 => 8,
        499 => 1,
        500 => 13,
        501 => 12,
        503 => 14,
        504 => 4,
        500..=599 => 13,
        400..=499 => 3,
        200..=299 => 0,
        _ => 2,
    }
}

fn grpc_message(code: u8) -> &'static str {
    const MESSAGES: [&str; 17] = [
        "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
        "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
        "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
    ];
    MESSAGES.get(usize::from(code)).copied().unwrap_or("Unknown")
}

/// Kong's `is_grpc_request`: the client's Content-Type starts with `application/grpc`
/// (and the request is HTTP/2, when the host tells the protocol).
fn is_grpc_request(scope: &Scope) -> bool {
    let grpc_type = scope
        .host
        .request_header("content-type")
        .is_some_and(|ct| ct.starts_with(CONTENT_TYPE_GRPC.as_bytes()));
    grpc_type
        && Need::Protocol
            .read_text(scope.host.as_ref(), scope.host_kind)
            .map_or(true, |p| p.contains("HTTP/2") || p == "2" || p == "2.0")
}

/// Whether the response is gRPC (`is_grpc`) and whether its own Content-Type says so
/// (`is_grpc_output`), as Kong's `send` decides after applying `headers`.
fn grpc_mode(scope: &Scope, headers: &[(String, HeaderValue)]) -> (bool, bool) {
    let given = headers.iter().rev().find(|(n, _)| response_header_name(n) == "content-type").map(|(_, v)| match v {
        HeaderValue::One(v) => v.clone(),
        HeaderValue::Many(vs) => vs.first().cloned().unwrap_or_default(),
    });
    let content_type = given.or_else(|| {
        current_response_headers(scope).into_iter().find(|(n, _)| n == "content-type").map(|(_, v)| v)
    });
    match content_type {
        Some(ct) => {
            let grpc = ct.starts_with(CONTENT_TYPE_GRPC.as_bytes());
            (grpc, grpc)
        }
        None => (is_grpc_request(scope), false),
    }
}

/// Kong's `send(status, body, headers)`: builds the filter's response on top of the
/// headers set so far and stores it in `RequestState::exit`.
fn send<'gc>(
    pdk: &Pdk,
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    status: u16,
    body: Body,
    headers: Vec<(String, HeaderValue)>,
) -> Result<(), Error<'gc>> {
    let limit = crate::lua::limits::current().exit_body_bytes;
    let size = match &body {
        Body::None => 0,
        Body::Bytes(b) => b.len(),
        Body::Json(j) => j.len(),
    };
    if size > limit {
        return raise(ctx, exec, &format!("body too large ({size} bytes, limit {limit})"));
    }
    let mut scope = pdk.scope_mut();
    let mut response = match scope.request.exit.take() {
        Some(previous) => LocalResponse { status, ..previous },
        None => {
            let mut r = LocalResponse { status, ..LocalResponse::default() };
            scope.request.apply_header_ops(&mut r);
            r
        }
    };
    let mut has_content_type = false;
    let mut has_content_length = false;
    for (name, value) in headers {
        let name = response_header_name(&name);
        if is_transfer_encoding(&name) {
            warn(&scope, "manually setting Transfer-Encoding. Ignored.");
        } else {
            set_local_header(&mut response, &name, normalize_value(value));
        }
        has_content_type |= name == "content-type";
        has_content_length |= name == "content-length";
    }
    let (is_grpc, is_grpc_output) = match response.header("content-type") {
        Some(ct) => {
            let grpc = ct.starts_with(CONTENT_TYPE_GRPC.as_bytes());
            (grpc, grpc)
        }
        None => (is_grpc_request(&scope), false),
    };
    let mut grpc_status = None;
    if is_grpc && response.header("grpc-status").is_none() {
        let code = grpc_status_of(status);
        grpc_status = Some(code);
        response.set_header("grpc-status", Some(code.to_string().as_bytes()));
    }
    let set_grpc_message = |response: &mut LocalResponse| {
        if let Some(code) = grpc_status {
            if response.header("grpc-message").is_none() {
                response.set_header("grpc-message", Some(grpc_message(code).as_bytes()));
            }
        }
    };
    let content_length = |response: &mut LocalResponse, len: usize| {
        if !has_content_length {
            response.set_header("content-length", Some(len.to_string().as_bytes()));
        }
    };
    let body = match body {
        Body::Json(json) => {
            if !has_content_type {
                response.set_header("content-type", Some(CONTENT_TYPE_JSON));
            }
            content_length(&mut response, json.len());
            json.into_bytes()
        }
        Body::Bytes(bytes) if is_grpc && !is_grpc_output => {
            response.set_header("content-length", Some(b"0"));
            response.set_header("grpc-message", Some(&bytes));
            Vec::new()
        }
        Body::Bytes(bytes) => {
            content_length(&mut response, bytes.len());
            set_grpc_message(&mut response);
            bytes
        }
        Body::None => {
            content_length(&mut response, 0);
            set_grpc_message(&mut response);
            Vec::new()
        }
    };
    response.body = body;
    scope.request.exit = Some(response);
    Ok(())
}

/// `kong.response.exit(status[, body[, headers]])`: ends the phase with a response made
/// here. A table body is sent as JSON (`Content-Type: application/json; charset=utf-8`
/// unless the headers set one); `Content-Length` is set unless given. On a gRPC request
/// (or a gRPC Content-Type), `grpc-status`/`grpc-message` are set as Kong does and a
/// string body travels in `grpc-message`. Does not return: the rest of the phase's
/// chunks are skipped, and the request never reaches the upstream.
fn exit<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, REWRITE_ACCESS_HEADER)?;
    let status = check_status(ctx, &exec, stack.get(0), MIN_STATUS_CODE)?;
    let body = stack.get(1);
    if !matches!(body, Value::Nil | Value::String(_) | Value::Table(_)) {
        return raise(ctx, &exec, "body must be a nil, string or table");
    }
    let headers = match stack.get(2) {
        Value::Nil => Vec::new(),
        v @ Value::Table(_) => validate_headers(ctx, &exec, v)?,
        _ => return raise(ctx, &exec, "headers must be a nil or table"),
    };
    let body = match body {
        Value::Table(t) => match grpc_mode(&pdk.scope(), &headers) {
            (true, true) => return raise(ctx, &exec, "table body encoding with gRPC is not supported"),
            (true, false) => match t.get(ctx, "message") {
                Value::String(m) => Body::Bytes(m.as_bytes().to_vec()),
                _ => {
                    warn(&pdk.scope(), "body was removed because table body encoding with gRPC is not supported");
                    Body::None
                }
            },
            _ => match json::encode(ctx, Value::Table(t)) {
                Ok(s) => Body::Json(s),
                Err(e) => return raise(ctx, &exec, &format!("body encoding failed while flushing response: {e}")),
            },
        },
        Value::String(s) => Body::Bytes(s.as_bytes().to_vec()),
        _ => Body::None,
    };
    send(pdk, ctx, &exec, status, body, headers)?;
    // Yielding the main thread ends the chunk where it stands, even inside `pcall`, as
    // Kong's exit does (it yields the plugin's coroutine).
    Ok(CallbackReturn::Yield { to_thread: None, then: None })
}

/// `kong.response.error(status[, message[, headers]])`: ends the phase with an error
/// response (status 400-599) formatted as Kong does: the Content-Type given in `headers`
/// (key `Content-Type` exactly, as Kong looks it up), else `application/grpc` for a gRPC
/// request, else negotiated from the request's `Accept` header (JSON, HTML, XML or plain
/// text; JSON by default). The body is Kong's template for that type with the message
/// (default: Kong's text for the status, e.g. 404 "Not found") and the request id.
fn error<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, REWRITE_ACCESS_HEADER)?;
    let status = check_status(ctx, &exec, stack.get(0), MIN_ERR_STATUS_CODE)?;
    let message = match stack.get(1) {
        Value::Nil => None,
        Value::String(s) => Some(s.as_bytes().to_vec()),
        t @ Value::Table(_) => match json::encode(ctx, t) {
            Ok(s) => Some(s.into_bytes()),
            Err(e) => return raise(ctx, &exec, &format!("could not JSON encode the error message: {e}")),
        },
        _ => return raise(ctx, &exec, "message must be a nil, a string or a table"),
    };
    let headers_arg = stack.get(2);
    let mut headers = match headers_arg {
        Value::Nil => Vec::new(),
        v @ Value::Table(_) => validate_headers(ctx, &exec, v)?,
        _ => return raise(ctx, &exec, "headers must be a nil or table"),
    };
    let given = headers.iter().find(|(n, _)| n == "Content-Type").map(|(_, v)| match v {
        HeaderValue::One(v) => v.clone(),
        HeaderValue::Many(vs) => vs.first().cloned().unwrap_or_default(),
    });
    let content_type = match given {
        Some(ct) => String::from_utf8_lossy(&ct).into_owned(),
        None => {
            let scope = pdk.scope();
            if is_grpc_request(&scope) {
                CONTENT_TYPE_GRPC.to_string()
            } else {
                response_type(accept_header(&scope).as_deref()).to_string()
            }
        }
    };
    headers.retain(|(n, _)| n != "Content-Type");
    headers.push(("Content-Type".to_string(), HeaderValue::One(content_type.clone().into_bytes())));
    let body = if content_type == CONTENT_TYPE_GRPC || content_type.is_empty() {
        Body::None
    } else {
        let Some(template) = error_template(&content_type) else {
            return raise(ctx, &exec, "bad argument #1 to 'format' (string expected, got nil)");
        };
        let message = message.unwrap_or_else(|| http_error_message(status).into_bytes());
        Body::Bytes(fill_template(template, &message, request_id(&pdk.scope()).as_bytes()))
    };
    send(pdk, ctx, &exec, status, body, headers)?;
    Ok(CallbackReturn::Yield { to_thread: None, then: None })
}

fn set_local_header(response: &mut LocalResponse, name: &str, value: HeaderValue) {
    match value {
        HeaderValue::One(v) => response.set_header(name, Some(&v)),
        HeaderValue::Many(values) => {
            response.set_header(name, None);
            for v in values {
                response.add_header(name, &v);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Error bodies (kong/tools/http.lua, kong/error_handlers.lua, nginx)

/// Kong's default message for an error status (`kong.response.error`).
pub fn http_error_message(status: u16) -> String {
    let text = match status {
        400 => "Bad request",
        401 => "Unauthorized",
        402 => "Payment required",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        406 => "Not acceptable",
        407 => "Proxy authentication required",
        408 => "Request timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length required",
        412 => "Precondition failed",
        413 => "Payload too large",
        414 => "URI too long",
        415 => "Unsupported media type",
        416 => "Range not satisfiable",
        417 => "Expectation failed",
        418 => "I'm a teapot",
        421 => "Misdirected request",
        422 => "Unprocessable entity",
        423 => "Locked",
        424 => "Failed dependency",
        425 => "Too early",
        426 => "Upgrade required",
        428 => "Precondition required",
        429 => "Too many requests",
        431 => "Request header fields too large",
        451 => "Unavailable for legal reasons",
        494 => "Request header or cookie too large",
        500 => "An unexpected error occurred",
        501 => "Not implemented",
        502 => "An invalid response was received from the upstream server",
        503 => "The upstream server is currently unavailable",
        504 => "The upstream server is timing out",
        505 => "HTTP version not supported",
        506 => "Variant also negotiates",
        507 => "Insufficient storage",
        508 => "Loop detected",
        510 => "Not extended",
        511 => "Network authentication required",
        _ => return format!("The upstream server responded with {status}"),
    };
    text.to_string()
}

const MIME_HTML: &str = "text/html; charset=utf-8";
const MIME_JSON: &str = "application/json; charset=utf-8";
const MIME_PLAIN: &str = "text/plain; charset=utf-8";
const MIME_XML: &str = "application/xml; charset=utf-8";

/// Kong's `get_mime_type(media_type)`: the response type for one media range, JSON when
/// unknown.
fn mime_type(media: &str) -> &'static str {
    let media = media.split(';').next().unwrap_or("").trim();
    let mut parts = media.splitn(3, '/');
    let (Some(kind), Some(sub)) = (parts.next(), parts.next()) else {
        return MIME_JSON;
    };
    let known = |t: &str| match t {
        "application/grpc" => Some(""),
        "text/html" => Some(MIME_HTML),
        "application/json" => Some(MIME_JSON),
        "text/plain" => Some(MIME_PLAIN),
        "application/xml" => Some(MIME_XML),
        "application" => Some(MIME_JSON),
        "text" => Some(MIME_PLAIN),
        _ => None,
    };
    let found = if sub == "*" {
        if kind == "*" { Some(MIME_JSON) } else { known(kind) }
    } else {
        known(media)
    };
    found.unwrap_or(MIME_JSON)
}

/// Kong's `get_response_type(accept)`: the type of the highest-quality media range of
/// an `Accept` header (first one wins a tie), JSON without one.
pub fn response_type(accept: Option<&str>) -> &'static str {
    let mut content_type = MIME_JSON;
    let Some(accept) = accept else { return content_type };
    let mut max_quality = 0.0;
    for entry in accept.split(',') {
        let entry = entry.trim();
        let Some((media, quality)) = parse_accept_entry(entry) else { continue };
        if quality > max_quality {
            max_quality = quality;
            content_type = mime_type(media);
        }
    }
    content_type
}

/// One `Accept` entry as Kong's pattern reads it: `type/subtype` (each token at least two
/// characters, or `*`) and its `q` (1 when absent).
fn parse_accept_entry(entry: &str) -> Option<(&str, f64)> {
    let token_ok = |t: &str| {
        t == "*"
            || (t.len() >= 2
                && t.as_bytes()[0].is_ascii_alphanumeric()
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-!#$&^_+.".contains(&b)))
    };
    let mut params = entry.split(';');
    let media = params.next()?.trim();
    let (kind, sub) = media.split_once('/')?;
    if !token_ok(&kind.to_ascii_lowercase()) || !token_ok(&sub.to_ascii_lowercase()) {
        return None;
    }
    let mut quality = 1.0;
    for param in params {
        let param = param.trim();
        if let Some(q) = param.strip_prefix("q=").or_else(|| param.strip_prefix("Q=")) {
            if let Ok(q) = q.trim().parse::<f64>() {
                if (0.0..=1.0).contains(&q) {
                    quality = q;
                }
            }
        }
    }
    Some((media, quality))
}

/// Kong's error templates by response type (`get_error_template`).
fn error_template(mime: &str) -> Option<&'static str> {
    match mime {
        "application/json" | MIME_JSON => Some("{\n  \"message\":\"%s\",\n  \"request_id\":\"%s\"\n}"),
        "text/html" | MIME_HTML => Some(
            "<!doctype html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n    <p>%s.</p>\n    <p>request_id: %s</p>\n  </body>\n</html>\n",
        ),
        "application/xml" | MIME_XML => Some(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error>\n  <message>%s</message>\n  <requestid>%s</requestid>\n</error>\n",
        ),
        "text/plain" | MIME_PLAIN => Some("%s\nrequest_id: %s\n"),
        _ => None,
    }
}

/// `string.format(template, message, request_id)` for the two `%s` of a template.
fn fill_template(template: &str, message: &[u8], request_id: &[u8]) -> Vec<u8> {
    let mut parts = template.splitn(3, "%s");
    let mut out = Vec::with_capacity(template.len() + message.len() + request_id.len());
    out.extend_from_slice(parts.next().unwrap_or("").as_bytes());
    out.extend_from_slice(message);
    out.extend_from_slice(parts.next().unwrap_or("").as_bytes());
    out.extend_from_slice(request_id);
    out.extend_from_slice(parts.next().unwrap_or("").as_bytes());
    out
}

/// The request's `Accept` header, repeated values joined with `,` as Kong does.
fn accept_header(scope: &Scope) -> Option<String> {
    let values: Vec<String> = scope
        .host
        .request_headers()
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("accept"))
        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// Kong's request id (`request_id.get()`), or empty.
fn request_id(scope: &Scope) -> String {
    Need::RequestId
        .read_text(scope.host.as_ref(), scope.host_kind)
        .or_else(|| scope.host.request_header("x-request-id").map(|v| String::from_utf8_lossy(&v).into_owned()))
        .unwrap_or_default()
}

/// The statuses Kong's nginx template sends to its error handler (`error_page`).
const KONG_ERROR_PAGE_STATUSES: [u16; 14] = [400, 404, 405, 408, 411, 412, 413, 414, 417, 494, 500, 502, 503, 504];

/// The response nginx sends for `ngx.exit(status)` with no output, as Kong is set up:
/// for the statuses of Kong's `error_page` list, Kong's error handler
/// (`kong/error_handlers.lua`: type from `Accept`, else the request's `Content-Type`,
/// else Kong's default `text/plain`; its shorter message list; 494 sent as 400); for
/// other statuses from 300 up, nginx's own HTML page (`<h1>401 Authorization
/// Required</h1>`...), or an empty body when nginx has none; below 300 an empty body.
pub fn ngx_exit_response(scope: &Scope, status: u16) -> LocalResponse {
    let mut response = LocalResponse { status, ..LocalResponse::default() };
    scope.request.apply_header_ops(&mut response);
    if KONG_ERROR_PAGE_STATUSES.contains(&status) {
        // Every status of the list has its text in Kong's error handler, the same as
        // `kong.response.error`'s.
        let message = http_error_message(status);
        if status == 494 {
            response.status = 400;
        }
        let accept = accept_header(scope)
            .or_else(|| scope.host.request_header("content-type").map(|v| String::from_utf8_lossy(&v).into_owned()))
            .unwrap_or_else(|| "text/plain".to_string());
        if accept.starts_with(CONTENT_TYPE_GRPC) {
            let body = format!("{{\"message\":\"{message}\"}}");
            response.set_header("content-type", Some(CONTENT_TYPE_JSON));
            response.body = body.into_bytes();
        } else {
            let mime = response_type(Some(&accept));
            let template = error_template(mime).unwrap_or("%s\nrequest_id: %s\n");
            response.body = fill_template(template, message.as_bytes(), request_id(scope).as_bytes());
            response.set_header("content-type", Some(if mime.is_empty() { MIME_PLAIN } else { mime }.as_bytes()));
        }
    } else if let Some(title) = nginx_status_title(status) {
        let line = format!("{status} {title}");
        response.body = format!(
            "<html>\r\n<head><title>{line}</title></head>\r\n<body>\r\n<center><h1>{line}</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n"
        )
        .into_bytes();
        response.set_header("content-type", Some(b"text/html"));
    }
    let length = response.body.len().to_string();
    response.set_header("content-length", Some(length.as_bytes()));
    response
}

/// The status lines of nginx's built-in error pages.
fn nginx_status_title(status: u16) -> Option<&'static str> {
    Some(match status {
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        401 => "Authorization Required",
        402 => "Payment Required",
        403 => "Forbidden",
        406 => "Not Acceptable",
        409 => "Conflict",
        410 => "Gone",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        421 => "Misdirected Request",
        429 => "Too Many Requests",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
