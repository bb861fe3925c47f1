//! `kong.response`: the response the client gets, as Kong's `kong/pdk/response.lua`.
//!
//! Where the response lives depends on the phase: in `rewrite`/`access` it does not exist
//! yet, so header changes are recorded and applied to whichever response is sent; after
//! `kong.response.exit` it is the filter's own local response; in `header_filter` and
//! later it is the upstream's response, read and changed through the host.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use super::{json, lua_string, raise, set_function, validate_header, HeaderValue, Pdk};
use crate::phase::{kong_phase, Phase};
use crate::runtime::{HeaderOp, LocalResponse};

const MIN_STATUS_CODE: i64 = 100;
const MAX_STATUS_CODE: i64 = 599;
const CONTENT_TYPE_JSON: &[u8] = b"application/json; charset=utf-8";

/// Kong's `rewrite_access_header` phase mask.
const REWRITE_ACCESS_HEADER: u32 = kong_phase::REWRITE
    | kong_phase::ACCESS
    | kong_phase::RESPONSE
    | kong_phase::BALANCER
    | kong_phase::HEADER_FILTER
    | kong_phase::ERROR
    | kong_phase::ADMIN_API;

/// Kong's `header_body_log` phase mask.
const HEADER_BODY_LOG: u32 = kong_phase::RESPONSE
    | kong_phase::HEADER_FILTER
    | kong_phase::BODY_FILTER
    | kong_phase::LOG
    | kong_phase::ERROR
    | kong_phase::ADMIN_API;

/// Builds the `kong.response` table.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "exit", pdk, exit);
    set_function(ctx, t, "set_header", pdk, set_header);
    set_function(ctx, t, "get_header", pdk, get_header);
    set_function(ctx, t, "get_status", pdk, get_status);
    t
}

/// `kong.response.exit(status[, body[, headers]])`: ends the phase with a response made
/// here. A table body is sent as JSON (`Content-Type: application/json; charset=utf-8`
/// unless the headers set one); `Content-Length` is set unless given. Does not return:
/// the rest of the phase's chunks are skipped, and the request never reaches the upstream.
fn exit<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, REWRITE_ACCESS_HEADER)?;
    let status = match stack.get(0) {
        v @ (Value::Integer(_) | Value::Number(_)) => v.to_number().unwrap_or(0.0),
        _ => return raise(ctx, &exec, "code must be a number"),
    };
    if status < MIN_STATUS_CODE as f64 || status > MAX_STATUS_CODE as f64 || status.fract() != 0.0 {
        return raise(ctx, &exec, &format!(
            "code must be a number between {MIN_STATUS_CODE} and {MAX_STATUS_CODE}"
        ));
    }
    let body = stack.get(1);
    if !matches!(body, Value::Nil | Value::String(_) | Value::Table(_)) {
        return raise(ctx, &exec, "body must be a nil, string or table");
    }
    let headers = match stack.get(2) {
        Value::Nil => None,
        Value::Table(t) => Some(t),
        _ => return raise(ctx, &exec, "headers must be a nil or table"),
    };

    let mut response = LocalResponse { status: status as u16, ..LocalResponse::default() };
    pdk.scope().request.apply_header_ops(&mut response);
    if let Some(headers) = headers {
        for (name, value) in headers.iter() {
            let (name, value) = validate_header(ctx, &exec, name, value)?;
            set_local_header(&mut response, &name.to_ascii_lowercase(), value);
        }
    }
    let body = match body {
        Value::Table(t) => {
            let encoded = match json::encode(ctx, Value::Table(t)) {
                Ok(s) => s,
                Err(e) => return raise(ctx, &exec, &format!("body encoding failed while flushing response: {e}")),
            };
            if response.header("content-type").is_none() {
                response.set_header("content-type", Some(CONTENT_TYPE_JSON));
            }
            encoded.into_bytes()
        }
        Value::String(s) => s.as_bytes().to_vec(),
        _ => Vec::new(),
    };
    let limit = crate::lua::limits::current().exit_body_bytes;
    if body.len() > limit {
        return raise(ctx, &exec, &format!("body too large ({} bytes, limit {limit})", body.len()));
    }
    if response.header("content-length").is_none() {
        response.set_header("content-length", Some(body.len().to_string().as_bytes()));
    }
    response.body = body;
    pdk.scope_mut().request.exit = Some(response);
    // Yielding the main thread ends the chunk where it stands, even inside `pcall`, as
    // Kong's exit does (it yields the plugin's coroutine).
    Ok(CallbackReturn::Yield { to_thread: None, then: None })
}

/// `kong.response.set_header(name, value)`: replaces the header on the client's response.
fn set_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, REWRITE_ACCESS_HEADER)?;
    let (name, value) = validate_header(ctx, &exec, stack.get(0), stack.get(1))?;
    let name = name.to_ascii_lowercase();
    let mut scope = pdk.scope_mut();
    let before_response = matches!(scope.phase, Phase::Rewrite | Phase::Access);
    if let Some(response) = scope.request.exit.as_mut() {
        set_local_header(response, &name, value);
    } else if before_response {
        let ops = &mut scope.request.response_header_ops;
        match value {
            HeaderValue::One(v) => ops.push(HeaderOp::Set(name, Some(v))),
            HeaderValue::Many(values) => {
                ops.push(HeaderOp::Set(name.clone(), None));
                ops.extend(values.into_iter().map(|v| HeaderOp::Add(name.clone(), v)));
            }
        }
    } else {
        let host = scope.host.clone();
        drop(scope);
        match value {
            HeaderValue::One(v) => host.set_response_header(&name, Some(&v)),
            HeaderValue::Many(values) => {
                host.set_response_header(&name, None);
                for v in values {
                    host.add_response_header(&name, &v);
                }
            }
        }
    }
    Ok(CallbackReturn::Return)
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

/// `kong.response.get_header(name)`: the first value of the header on the client's response.
fn get_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "header name must be a string");
    };
    let name = super::request::normalize_header_name(name.as_bytes());
    let scope = pdk.scope();
    let value = match scope.request.exit.as_ref() {
        Some(response) => response.header(&name).map(<[u8]>::to_vec),
        None => scope.host.response_header(&name),
    };
    drop(scope);
    stack.replace(ctx, value.map(|v| lua_string(ctx, &v)).unwrap_or(Value::Nil));
    Ok(CallbackReturn::Return)
}

/// `kong.response.get_status()`: the status the client gets.
fn get_status<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let scope = pdk.scope();
    let status = match scope.request.exit.as_ref() {
        Some(response) => i64::from(response.status),
        None => scope
            .host
            .response_header(":status")
            .and_then(|s| String::from_utf8_lossy(&s).trim().parse().ok())
            .unwrap_or(0),
    };
    drop(scope);
    stack.replace(ctx, status);
    Ok(CallbackReturn::Return)
}
