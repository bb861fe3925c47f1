//! `kong.response`: the response the client gets, as Kong's `kong/pdk/response.lua`.
//!
//! Where the response lives depends on the phase: in `rewrite`/`access` it does not exist
//! yet, so header changes are recorded and applied to whichever response is sent; after
//! `kong.response.exit` it is the filter's own local response; in `header_filter` and
//! later it is the upstream's response, read and changed through the host.//!
//! Laid out as Kong's module reads: status and body here; [`headers`] (the header
//! changes), [`exit`] (`exit` and `error`) and [`error_pages`] (Kong's and nginx's error
//! bodies) in their own files.

mod error_pages;
mod exit;
mod headers;

pub use error_pages::*;
use exit::*;
pub(crate) use headers::*;

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::{json, lua_string, raise, set_function, validate_header, HeaderValue, Pdk, Scope};
use crate::host::LogLevel;
use crate::phase::{kong_phase, Phase};
use crate::properties::{HostKind, Need};
use crate::runtime::{HeaderOp, LocalResponse, RequestState};

const MIN_STATUS_CODE: i64 = 100;
const MAX_STATUS_CODE: i64 = 599;
const MIN_ERR_STATUS_CODE: i64 = 400;
const CONTENT_TYPE_JSON: &[u8] = b"application/json; charset=utf-8";
const CONTENT_TYPE_GRPC: &str = "application/grpc";

pub(crate) use crate::phase::kong_phase::{HEADER_BODY_LOG, REWRITE_ACCESS_HEADER};

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

/// Kong's opening of the response setters, `exit` and `error`:
/// `check_phase(rewrite_access_header)`, then "headers have already been sent" once
/// nginx would have sent them (`ngx.headers_sent`: output printed, `ngx.send_headers()`
/// or `ngx.flush()` in `rewrite`/`access`; Kong's t/01-pdk/08-response/11-exit.t TEST 4).
pub(super) fn check_phase_unsent<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: &Execution<'gc, '_>) -> Result<(), Error<'gc>> {
    pdk.check_phase(ctx, exec, REWRITE_ACCESS_HEADER)?;
    if crate::pdk::ngx::resp::headers_sent(&pdk.scope()) {
        return raise(ctx, exec, "headers have already been sent");
    }
    Ok(())
}

/// `kong.response.set_status(status)`: changes the status the client gets (100-599).
/// Before the upstream answered it is kept in `RequestState::status` (the glue applies it
/// to the upstream's response); in `header_filter` it rewrites the upstream's `:status`.
fn set_status<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    check_phase_unsent(pdk, ctx, &exec)?;
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

#[cfg(test)]
mod tests;
