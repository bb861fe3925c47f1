//! nginx's output side as lua-nginx-module exposes it: `ngx.exit`, `ngx.say`,
//! `ngx.print`, `ngx.status`, `ngx.header`, `ngx.ctx`, `ngx.headers_sent`,
//! `ngx.resp.get_headers`, and the `ngx.HTTP_*` / `ngx.OK` ... constants.
//!
//! Output (`ngx.say`/`ngx.print`) collects in `RequestState::output` and becomes the
//! response (see [`take_output_response`]) when `ngx.exit` runs or, through the glue, when
//! the phase ends. `ngx.status`, `ngx.ctx` and `ngx.headers_sent` are read and written
//! through a metatable on the `ngx` table (`__index`/`__newindex`), as in OpenResty, so
//! they keep working on the per-chunk copies the sandbox makes of `ngx`.

use piccolo::{CallbackReturn, Context, Error, Execution, MetaMethod, Stack, Table, Value};

use crate::pdk::kong::response::{change_response_header, change_status, current_response_headers, current_status, ngx_exit_response, response_header_name, HeaderChange};
use crate::pdk::{function, lua_string, raise, set_function, HeaderValue, Pdk, Scope};
use crate::host::LogLevel;
use crate::phase::Phase;
use crate::runtime::{LocalResponse, RequestState};

/// lua-nginx-module's status constants (`ngx.HTTP_OK` ...).
const STATUS_CONSTANTS: [(&str, i64); 36] = [
    ("HTTP_CONTINUE", 100),
    ("HTTP_SWITCHING_PROTOCOLS", 101),
    ("HTTP_OK", 200),
    ("HTTP_CREATED", 201),
    ("HTTP_ACCEPTED", 202),
    ("HTTP_NO_CONTENT", 204),
    ("HTTP_PARTIAL_CONTENT", 206),
    ("HTTP_SPECIAL_RESPONSE", 300),
    ("HTTP_MOVED_PERMANENTLY", 301),
    ("HTTP_MOVED_TEMPORARILY", 302),
    ("HTTP_SEE_OTHER", 303),
    ("HTTP_NOT_MODIFIED", 304),
    ("HTTP_TEMPORARY_REDIRECT", 307),
    ("HTTP_PERMANENT_REDIRECT", 308),
    ("HTTP_BAD_REQUEST", 400),
    ("HTTP_UNAUTHORIZED", 401),
    ("HTTP_PAYMENT_REQUIRED", 402),
    ("HTTP_FORBIDDEN", 403),
    ("HTTP_NOT_FOUND", 404),
    ("HTTP_NOT_ALLOWED", 405),
    ("HTTP_NOT_ACCEPTABLE", 406),
    ("HTTP_REQUEST_TIMEOUT", 408),
    ("HTTP_CONFLICT", 409),
    ("HTTP_GONE", 410),
    ("HTTP_UPGRADE_REQUIRED", 426),
    ("HTTP_TOO_MANY_REQUESTS", 429),
    ("HTTP_CLOSE", 444),
    ("HTTP_ILLEGAL", 451),
    ("HTTP_INTERNAL_SERVER_ERROR", 500),
    ("HTTP_METHOD_NOT_IMPLEMENTED", 501),
    ("HTTP_NOT_IMPLEMENTED", 501),
    ("HTTP_BAD_GATEWAY", 502),
    ("HTTP_SERVICE_UNAVAILABLE", 503),
    ("HTTP_GATEWAY_TIMEOUT", 504),
    ("HTTP_VERSION_NOT_SUPPORTED", 505),
    ("HTTP_INSUFFICIENT_STORAGE", 507),
];

/// lua-nginx-module's method constants (`ngx.HTTP_GET` ...).
const METHOD_CONSTANTS: [(&str, i64); 15] = [
    ("HTTP_GET", 2),
    ("HTTP_HEAD", 4),
    ("HTTP_POST", 8),
    ("HTTP_PUT", 16),
    ("HTTP_DELETE", 32),
    ("HTTP_MKCOL", 64),
    ("HTTP_COPY", 128),
    ("HTTP_MOVE", 256),
    ("HTTP_OPTIONS", 512),
    ("HTTP_PROPFIND", 1024),
    ("HTTP_PROPPATCH", 2048),
    ("HTTP_LOCK", 4096),
    ("HTTP_UNLOCK", 8192),
    ("HTTP_PATCH", 16384),
    ("HTTP_TRACE", 32768),
];

/// nginx's handler return codes.
const OK: i64 = 0;
const ERROR: i64 = -1;
const CODES: [(&str, i64); 5] = [("OK", OK), ("ERROR", ERROR), ("AGAIN", -2), ("DONE", -4), ("DECLINED", -5)];

/// Adds the output functions, constants, `ngx.header`, `ngx.resp.get_headers` and the
/// metatable for `ngx.status`/`ngx.ctx`/`ngx.headers_sent` to the `ngx` table.
pub fn install<'gc>(ctx: Context<'gc>, pdk: &Pdk, ngx: Table<'gc>) {
    for (name, value) in STATUS_CONSTANTS.iter().chain(METHOD_CONSTANTS.iter()).chain(CODES.iter()) {
        ngx.set(ctx, *name, *value).ok();
    }
    set_function(ctx, ngx, "exit", pdk, exit);
    set_function(ctx, ngx, "say", pdk, say);
    set_function(ctx, ngx, "print", pdk, print);
    set_function(ctx, ngx, "redirect", pdk, redirect);
    set_function(ctx, ngx, "flush", pdk, flush);
    set_function(ctx, ngx, "send_headers", pdk, flush);
    set_function(ctx, ngx, "eof", pdk, eof);
    ngx.set(ctx, "header", header_table(ctx, pdk)).ok();
    let resp = match ngx.get(ctx, "resp") {
        Value::Table(t) => t,
        _ => {
            let t = Table::new(&ctx);
            ngx.set(ctx, "resp", t).ok();
            t
        }
    };
    set_function(ctx, resp, "get_headers", pdk, resp_get_headers);
    let meta = match ngx.metatable() {
        Some(meta) => meta,
        None => {
            let meta = Table::new(&ctx);
            ngx.set_metatable(&ctx, Some(meta));
            meta
        }
    };
    meta.set(ctx, MetaMethod::Index, function(ctx, pdk, ngx_index)).ok();
    meta.set(ctx, MetaMethod::NewIndex, function(ctx, pdk, ngx_newindex)).ok();
}

/// lua-nginx-module's message for an API called in a phase it is not available in, with
/// the nginx context a Kong phase runs in.
fn disabled<'gc, T>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, phase: Phase) -> Result<T, Error<'gc>> {
    let context = match phase {
        Phase::Rewrite => "rewrite_by_lua*",
        Phase::Access => "access_by_lua*",
        Phase::HeaderFilter => "header_filter_by_lua*",
        Phase::BodyFilter => "body_filter_by_lua*",
        Phase::Log => "log_by_lua*",
        _ => "this phase",
    };
    raise(ctx, exec, &format!("API disabled in the context of {context}"))
}

fn before_response(phase: Phase) -> bool {
    matches!(phase, Phase::Rewrite | Phase::Access)
}

/// Whether nginx would have sent the response headers by now (`ngx.headers_sent`):
/// output was printed or `ngx.send_headers()`/`ngx.flush()` ran, or the phase comes
/// after the headers went out. Kong's `kong.response` setters and `exit`/`error` fail
/// with "headers have already been sent" then.
pub fn headers_sent(scope: &Scope) -> bool {
    match scope.phase {
        Phase::Rewrite | Phase::Access | Phase::WsHandshake => !scope.request.output.is_empty() || scope.request.output_started,
        Phase::Certificate | Phase::HeaderFilter => false,
        Phase::BodyFilter | Phase::Log | Phase::WsClientFrame | Phase::WsUpstreamFrame | Phase::WsClose => true,
    }
}

/// Turns the pending `ngx.say`/`ngx.print` output into the response the client gets:
/// status `RequestState::status` (set by `ngx.status = n`) or 200, the response headers
/// set so far (`ngx.header`, `kong.response.set_header`), no Content-Type (Kong's nginx
/// has `default_type ''`), a Content-Length for the body. `None` when nothing was
/// printed and the headers were not sent (`ngx.send_headers`). The output is taken out
/// of the state.
///
/// The glue calls this at the end of `rewrite`/`access` when no chunk exited, as nginx
/// sends content output; `ngx.exit` calls it for output printed before it.
pub fn take_output_response(request: &mut RequestState) -> Option<LocalResponse> {
    if request.output.is_empty() && !request.output_started {
        return None;
    }
    let mut response = LocalResponse { status: request.status.unwrap_or(200), ..LocalResponse::default() };
    request.apply_header_ops(&mut response);
    response.body = std::mem::take(&mut request.output);
    let length = response.body.len().to_string();
    response.set_header("content-length", Some(length.as_bytes()));
    Some(response)
}

/// `ngx.exit(status)`: ends the chunk (and, with a response, the phase), as lua-nginx-module:
///
/// - after `ngx.say`/`ngx.print`, the printed output is the response, with `ngx.status`
///   (or 200): the headers went out with the first output, so `status` no longer counts;
/// - `status` 200 and up with no output: the response nginx makes for it under Kong
///   (Kong's error handler for 400, 404, 405, 408, 411-414, 417, 494, 500, 502-504,
///   nginx's page for other statuses from 300, an empty body below); above 599 it is
///   sent as 500;
/// - `ngx.ERROR`: Kong's 500;
/// - `ngx.OK` (0) or another code below 200: only the running chunk ends, the request
///   goes on (Kong's later chunks of the phase still run).
///
/// Allowed in `rewrite`, `access` and `header_filter` (where a status replaces the
/// upstream's response with the one above); elsewhere "API disabled in the context of
/// body_filter_by_lua*" and so on.
fn exit<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let phase = pdk.scope().phase;
    let status = match stack.get(0) {
        v @ (Value::Integer(_) | Value::Number(_)) => v.to_number().unwrap_or(0.0) as i64,
        Value::String(s) => match crate::lua::stdlib::base::parse_number(s.as_bytes()) {
            Some(n) => n as i64,
            None => return raise(ctx, &exec, "bad argument #1 to 'exit' (number expected, got string)"),
        },
        other => {
            return raise(ctx, &exec, &format!("bad argument #1 to 'exit' (number expected, got {})", other.type_name()))
        }
    };
    if !matches!(phase, Phase::Rewrite | Phase::Access | Phase::HeaderFilter) {
        return disabled(ctx, &exec, phase);
    }
    let mut scope = pdk.scope_mut();
    let response = if before_response(phase) && (!scope.request.output.is_empty() || scope.request.output_started) {
        take_output_response(&mut scope.request)
    } else if status == ERROR {
        Some(LocalResponse::internal_error())
    } else if status >= 600 {
        Some(ngx_exit_response(&scope, 500))
    } else if status >= 200 {
        Some(ngx_exit_response(&scope, status as u16))
    } else {
        None
    };
    if let Some(response) = response {
        scope.request.exit = Some(response);
    }
    drop(scope);
    Ok(CallbackReturn::Yield { to_thread: None, then: None })
}

/// `ngx.redirect(uri[, status])`: ends the request with a redirect, as lua-nginx-module:
/// `status` 301, 302 (the default), 303, 307 or 308, a `Location` header with `uri`
/// as given, nginx's HTML page for the status as the body. Only in `rewrite`/`access`.
fn redirect<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let phase = pdk.scope().phase;
    if !before_response(phase) {
        return disabled(ctx, &exec, phase);
    }
    let uri = match stack.get(0) {
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => crate::lua::format::number(v).into_bytes(),
        other => {
            return raise(ctx, &exec, &format!("bad argument #1 to 'redirect' (string expected, got {})", other.type_name()))
        }
    };
    if uri.iter().any(|b| *b == b'\r' || *b == b'\n') {
        return raise(ctx, &exec, "unsafe byte in the redirect uri");
    }
    let status = match stack.get(1) {
        Value::Nil => 302,
        v => v.to_integer().unwrap_or(0),
    };
    if ![301, 302, 303, 307, 308].contains(&status) {
        return raise(ctx, &exec, &format!("only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, ngx.HTTP_PERMANENT_REDIRECT, ngx.HTTP_SEE_OTHER, and ngx.HTTP_TEMPORARY_REDIRECT are allowed (got {status})"));
    }
    let mut scope = pdk.scope_mut();
    let mut response = ngx_exit_response(&scope, status as u16);
    response.set_header("location", Some(&uri));
    scope.request.exit = Some(response);
    drop(scope);
    Ok(CallbackReturn::Yield { to_thread: None, then: None })
}

/// `ngx.flush()` and `ngx.send_headers()`: return 1. In nginx they send the response
/// headers if not sent yet: here `ngx.headers_sent` becomes true and the output printed
/// by the end of the phase (even none) is the response, with the status and headers set
/// so far. A proxy-wasm filter sends its own response in one piece (at `ngx.exit` or the
/// end of the phase), so nothing goes out earlier.
fn flush<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let phase = pdk.scope().phase;
    if !before_response(phase) {
        return disabled(ctx, &exec, phase);
    }
    pdk.scope_mut().request.output_started = true;
    stack.replace(ctx, 1);
    Ok(CallbackReturn::Return)
}

/// `ngx.eof()`: the output printed so far is the whole response; it is sent when the
/// phase ends, and the request does not go upstream. Returns 1.
fn eof<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let phase = pdk.scope().phase;
    if !before_response(phase) {
        return disabled(ctx, &exec, phase);
    }
    let mut scope = pdk.scope_mut();
    if scope.request.output.is_empty() {
        // An empty body still ends the response: status (or 200) with no content.
        let response = LocalResponse {
            status: scope.request.status.unwrap_or(200),
            headers: vec![("content-length".into(), b"0".to_vec())],
            body: Vec::new(),
        };
        scope.request.exit = Some(response);
    } else if let Some(response) = take_output_response(&mut scope.request) {
        scope.request.exit = Some(response);
    }
    drop(scope);
    stack.replace(ctx, 1);
    Ok(CallbackReturn::Return)
}

/// Appends the `ngx.say`/`ngx.print` rendering of `value` (argument `index`) to `out`.
fn render<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, name: &str, index: usize, value: Value<'gc>, out: &mut Vec<u8>, depth: usize) -> Result<(), Error<'gc>> {
    match value {
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        Value::Integer(_) | Value::Number(_) => out.extend_from_slice(crate::lua::format::number(value).as_bytes()),
        Value::Boolean(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Value::Nil => out.extend_from_slice(b"nil"),
        Value::Table(t) => {
            if depth > 100 {
                return raise(ctx, exec, &format!("bad argument #{index} to '{name}' (table nested too deeply)"));
            }
            let len = t.length();
            let array = t.iter().all(|(k, _)| matches!(k.to_integer(), Some(i) if i >= 1 && i <= len));
            if !array {
                return raise(ctx, exec, &format!("bad argument #{index} to '{name}' (non-array table found)"));
            }
            for i in 1..=len {
                render(ctx, exec, name, index, t.get(ctx, i), out, depth + 1)?;
            }
        }
        other => {
            return raise(ctx, exec, &format!(
                "bad argument #{index} to '{name}' (string, number, boolean, nil, ngx.null, or array table expected, but got {})",
                other.type_name()
            ))
        }
    }
    Ok(())
}

fn output<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, name: &str, newline: bool) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let phase = pdk.scope().phase;
    if !before_response(phase) {
        return disabled(ctx, &exec, phase);
    }
    let mut text = Vec::new();
    for i in 0..stack.len() {
        render(ctx, &exec, name, i + 1, stack.get(i), &mut text, 0)?;
    }
    if newline {
        text.push(b'\n');
    }
    let limit = crate::lua::limits::current().exit_body_bytes;
    let mut scope = pdk.scope_mut();
    let total = scope.request.output.len() + text.len();
    if total > limit {
        drop(scope);
        return raise(ctx, &exec, &format!("output too large ({total} bytes, limit {limit})"));
    }
    scope.request.output.extend_from_slice(&text);
    drop(scope);
    stack.replace(ctx, 1);
    Ok(CallbackReturn::Return)
}

/// `ngx.say(...)`: the arguments (strings, numbers, booleans, nil, arrays of those)
/// concatenated, plus a newline, added to the response output. Returns 1. Only in
/// `rewrite`/`access`; the output becomes the response when the phase ends or at `ngx.exit`.
fn say<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    output(pdk, ctx, exec, stack, "say", true)
}

/// `ngx.print(...)`: [`say`] without the newline.
fn print<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    output(pdk, ctx, exec, stack, "print", false)
}

/// `__index` of `ngx`: `status`, `ctx`, `headers_sent`, `is_subrequest`.
fn ngx_index<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let key = stack.get(1);
    let value = match key {
        Value::String(s) => match s.as_bytes() {
            b"status" => Value::Integer(current_status(&pdk.scope())),
            b"ctx" => Value::Table(crate::pdk::kong::ctx::ngx_ctx(pdk, ctx)),
            b"headers_sent" => Value::Boolean(headers_sent(&pdk.scope())),
            b"is_subrequest" => Value::Boolean(false),
            _ => Value::Nil,
        },
        _ => Value::Nil,
    };
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

/// `__newindex` of `ngx`: `ngx.status = n` (100-599; after the headers went out it is
/// ignored with nginx's error log line), `ngx.ctx = table` (replaces the request's
/// context table); any other key is stored in the table as usual.
fn ngx_newindex<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (table, key, value) = (stack.get(0), stack.get(1), stack.get(2));
    match key {
        Value::String(s) if s.as_bytes() == b"status" => {
            let status = match value {
                v @ (Value::Integer(_) | Value::Number(_)) => v.to_number().unwrap_or(0.0) as i64,
                Value::String(s) => match crate::lua::stdlib::base::parse_number(s.as_bytes()) {
                    Some(n) => n as i64,
                    None => return raise(ctx, &exec, "bad argument to set ngx.status (number expected, got string)"),
                },
                other => {
                    return raise(ctx, &exec, &format!("bad argument to set ngx.status (number expected, got {})", other.type_name()))
                }
            };
            let mut scope = pdk.scope_mut();
            if headers_sent(&scope) {
                let line = format!("{}attempt to set ngx.status after sending out response headers", scope.log_prefix());
                crate::pdk::log_line(&scope, LogLevel::Error, line);
            } else if !(100..=599).contains(&status) {
                drop(scope);
                return raise(ctx, &exec, &format!("invalid ngx.status: {status} (must be between 100 and 599)"));
            } else {
                change_status(&mut scope, status as u16);
            }
        }
        Value::String(s) if s.as_bytes() == b"ctx" => {
            let Value::Table(new) = value else {
                return raise(ctx, &exec, "ctx should be a table while setting ngx.ctx");
            };
            let stashed = ctx.stash(new);
            let mut scope = pdk.scope_mut();
            let tables = &mut scope.request.lua_tables;
            match tables.iter_mut().find(|(n, _)| *n == "ngx.ctx") {
                Some(entry) => entry.1 = stashed,
                None => tables.push(("ngx.ctx", stashed)),
            }
        }
        _ => {
            if let Value::Table(t) = table {
                if let Err(e) = t.set(ctx, key, value) {
                    return raise(ctx, &exec, &e.to_string());
                }
            }
        }
    }
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `ngx.header`: the response headers. `ngx.header["X-Foo"]` (any case, `_` for `-`)
/// reads a value (an array for a repeated header, `nil` when absent);
/// `ngx.header.x_foo = v` sets it (a string, number, boolean or array; `nil` or `{}`
/// clears it), on the same response `kong.response.set_header` changes. After the headers
/// went out (`body_filter`, `log`, or after output) a write is ignored with nginx's error
/// log line.
fn header_table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    let meta = Table::new(&ctx);
    meta.set(ctx, MetaMethod::Index, function(ctx, pdk, header_get)).ok();
    meta.set(ctx, MetaMethod::NewIndex, function(ctx, pdk, header_set)).ok();
    t.set_metatable(&ctx, Some(meta));
    t
}

fn header_get<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let Value::String(name) = stack.get(1) else {
        stack.replace(ctx, Value::Nil);
        return Ok(CallbackReturn::Return);
    };
    let name = response_header_name(&name.to_str_lossy());
    let values: Vec<Vec<u8>> = current_response_headers(&pdk.scope())
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(&name))
        .map(|(_, v)| v)
        .collect();
    let value = match values.len() {
        0 => Value::Nil,
        1 => lua_string(ctx, &values[0]),
        _ => {
            let list = Table::new(&ctx);
            for (i, v) in values.iter().enumerate() {
                list.set(ctx, i as i64 + 1, lua_string(ctx, v)).ok();
            }
            Value::Table(list)
        }
    };
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

fn header_set<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (key, value) = (stack.get(1), stack.get(2));
    let Value::String(name) = key else {
        return raise(ctx, &exec, &format!("bad argument #2 to '__newindex' (string expected, got {})", key.type_name()));
    };
    let text = |v: Value<'gc>| -> Option<Vec<u8>> {
        match v {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Integer(_) | Value::Number(_) => Some(crate::lua::format::number(v).into_bytes()),
            Value::Boolean(b) => Some(if b { b"true".to_vec() } else { b"false".to_vec() }),
            _ => None,
        }
    };
    let change = match value {
        Value::Nil => HeaderChange::Set(None),
        Value::Table(t) => {
            let mut values = Vec::new();
            for i in 1..=t.length() {
                match text(t.get(ctx, i)) {
                    Some(v) => values.push(v),
                    None => return raise(ctx, &exec, "attempt to set ngx.header with an array holding non-string values"),
                }
            }
            if values.is_empty() { HeaderChange::Set(None) } else { HeaderChange::Set(Some(HeaderValue::Many(values))) }
        }
        v => match text(v) {
            Some(v) => HeaderChange::Set(Some(HeaderValue::One(v))),
            None => return raise(ctx, &exec, &format!("attempt to set ngx.header.{} to a {} value", name.to_str_lossy(), v.type_name())),
        },
    };
    let name_text = response_header_name(&name.to_str_lossy());
    let mut scope = pdk.scope_mut();
    if headers_sent(&scope) {
        let line = format!(
            "{}attempt to set ngx.header.HEADER after sending out response headers",
            scope.log_prefix()
        );
        crate::pdk::log_line(&scope, LogLevel::Error, line);
    } else {
        change_response_header(&mut scope, &name_text, change);
    }
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `ngx.resp.get_headers([max_headers[, raw]])`: the response headers as a table
/// (lowercase names, arrays for repeated headers, lookups by any case and `_` for `-`);
/// at most `max_headers` (default 100, 0 for no limit), with `"truncated"` as second
/// result when more were left out.
fn resp_get_headers<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let max = match stack.get(0) {
        Value::Nil => 100,
        v @ (Value::Integer(_) | Value::Number(_)) => v.to_number().unwrap_or(0.0) as i64,
        other => {
            return raise(ctx, &exec, &format!("bad argument #1 to 'get_headers' (number expected, got {})", other.type_name()))
        }
    };
    let headers = current_response_headers(&pdk.scope());
    let count = headers.iter().filter(|(n, _)| !n.starts_with(':')).count() as i64;
    let limit = if max <= 0 { i64::from(u32::MAX) } else { max };
    let table = crate::pdk::kong::request::header_table(ctx, &headers, limit);
    if count > limit {
        stack.replace(ctx, (table, lua_string(ctx, b"truncated")));
    } else {
        stack.replace(ctx, table);
    }
    Ok(CallbackReturn::Return)
}

#[cfg(test)]
mod tests;
