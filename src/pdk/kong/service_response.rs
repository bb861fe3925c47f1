//! `kong.service.response`: the upstream's response as it arrived, as Kong's
//! `kong/pdk/service/response.lua`. Status and headers come from the host's response
//! headers (Kong: the `kong.service.response.status` property for the status); the body
//! only when the response was buffered (`kong.service.request.enable_buffering()`,
//! `RequestState::response_body`).

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::{args, lua_string, raise, set_function, Pdk, Scope};
use crate::phase::kong_phase;
use crate::properties::Need;

/// Kong's `header_body_log` mask for this module (no `error`/`admin_api`).
const HEADER_BODY_LOG: u32 = kong_phase::RESPONSE | kong_phase::HEADER_FILTER | kong_phase::BODY_FILTER | kong_phase::LOG;

const NOT_BUFFERED: &str =
    "service body is only available with buffered proxying (see: kong.service.request.enable_buffering function)";

/// Builds the `kong.service.response` table.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "get_status", pdk, get_status);
    set_function(ctx, t, "get_headers", pdk, get_headers);
    set_function(ctx, t, "get_header", pdk, get_header);
    set_function(ctx, t, "get_raw_body", pdk, get_raw_body);
    set_function(ctx, t, "get_body", pdk, get_body);
    t
}

/// The upstream's headers; none when the filter answered itself (the upstream was never
/// asked). Headers the upstream did not send (set by the filter with
/// `kong.response.set_header` / `ngx.header` before or while the response came) are left
/// out, as Kong answers `nil` for a name without `$upstream_http_<name>`
/// (`kong/pdk/service/response.lua`, `resp_headers_mt`); the names the upstream sent are
/// noted when its headers arrive (`RequestState::upstream_header_names`).
fn upstream_headers(scope: &Scope) -> Vec<(String, Vec<u8>)> {
    if scope.request.exit.is_some() {
        return Vec::new();
    }
    let mut headers = scope.host.response_headers();
    if let Some(names) = scope.request.upstream_header_names.as_ref() {
        headers.retain(|(n, _)| n.starts_with(':') || names.iter().any(|u| u.eq_ignore_ascii_case(n)));
    }
    headers
}

/// `kong.service.response.get_status()`: the upstream's status as a number, `nil` when
/// the request was not proxied.
fn get_status<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let scope = pdk.scope();
    let from_property = Need::ServiceResponseStatus.read_text(scope.host.as_ref(), scope.host_kind);
    let text = from_property.or_else(|| {
        if scope.request.exit.is_some() {
            return None;
        }
        scope.host.response_header(":status").map(|s| String::from_utf8_lossy(&s).into_owned())
    });
    drop(scope);
    // nginx's $upstream_status lists every try ("502, 200"): Kong reads the last three digits.
    let status = text.and_then(|t| {
        let t = t.trim();
        t.get(t.len().saturating_sub(3)..).and_then(|s| s.parse::<i64>().ok())
    });
    stack.replace(ctx, status.map(Value::Integer).unwrap_or(Value::Nil));
    Ok(CallbackReturn::Return)
}

/// `kong.service.response.get_headers([max_headers])`: the upstream's response headers
/// as Kong's headers table (any case, `_` for `-`); empty when the request was not
/// proxied. Headers changed by plugins in `header_filter` show as changed (proxy-wasm
/// hosts keep one header map). A second value `"truncated"` when the upstream sent more
/// than `max_headers` (default 100) lines, as Kong passes on `ngx.resp.get_headers`'s.
fn get_headers<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let max = super::count_arg(ctx, &exec, stack.get(0), "max_headers")?;
    let headers = upstream_headers(&pdk.scope());
    let (table, err) = crate::pdk::kong::request::header_table_truncated(ctx, &headers, max);
    stack.replace(ctx, (table, err));
    Ok(CallbackReturn::Return)
}

/// `kong.service.response.get_header(name)`: the first value of the upstream's header;
/// `nil` past the first 100 header lines (Kong reads `get_headers()[name]`).
fn get_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "name must be a string");
    };
    let name = crate::pdk::kong::request::normalize_header_name(name.as_bytes());
    let headers = upstream_headers(&pdk.scope());
    let value = crate::pdk::kong::request::first_value_within(headers, &name, crate::pdk::kong::request::DEFAULT_MAX_HEADERS);
    stack.replace(ctx, value.map(|v| lua_string(ctx, &v)).unwrap_or(Value::Nil));
    Ok(CallbackReturn::Return)
}

fn buffered_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: &Execution<'gc, '_>) -> Result<Vec<u8>, Error<'gc>> {
    let scope = pdk.scope();
    if !scope.request.buffer_response {
        drop(scope);
        return raise(ctx, exec, NOT_BUFFERED);
    }
    Ok(scope.request.response_body.clone().unwrap_or_default())
}

/// `kong.service.response.get_raw_body()`: the upstream's whole body (empty string when
/// it had none). Raises "service body is only available with buffered proxying (see:
/// kong.service.request.enable_buffering function)" unless buffering was enabled.
fn get_raw_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let body = buffered_body(pdk, ctx, &exec)?;
    stack.replace(ctx, lua_string(ctx, &body));
    Ok(CallbackReturn::Return)
}

/// `kong.service.response.get_body([mimetype[, max_args]])`: the buffered upstream body
/// decoded by content type (the argument, else the upstream's `Content-Type`):
/// form-urlencoded -> table of arguments (at most `max_args`, default 100), JSON ->
/// table (arrays with `cjson.array_mt`, `null` as `cjson.null`), multipart -> table of part values (as lua-multipart,
/// the same parser as `kong.request.get_body`). Returns `value, nil, mimetype`, or
/// `nil, err[, mimetype]` ("missing content type", "invalid json body", "unsupported
/// content type 'x'").
fn get_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let body = buffered_body(pdk, ctx, &exec)?;
    let content_type = match stack.get(0) {
        Value::String(s) => Some(s.to_str_lossy().into_owned()),
        _ => {
            let scope = pdk.scope();
            upstream_headers(&scope)
                .into_iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
        }
    };
    let Some(content_type) = content_type else {
        stack.replace(ctx, (Value::Nil, lua_string(ctx, b"missing content type")));
        return Ok(CallbackReturn::Return);
    };
    let lower = content_type.to_ascii_lowercase();
    let bare = lower.split(';').next().unwrap_or("").to_string();
    let err = |ctx: Context<'gc>, msg: &str, mime: &str| (Value::Nil, lua_string(ctx, msg.as_bytes()), lua_string(ctx, mime.as_bytes()));
    if bare.starts_with("application/x-www-form-urlencoded") {
        let max = super::count_arg(ctx, &exec, stack.get(1), "max_args")? as usize;
        // Kong: ngx.decode_args(body, max_args or 100).
        let args = args::to_table(ctx, &args::decode(&body, max).pairs);
        stack.replace(ctx, (args, Value::Nil, lua_string(ctx, b"application/x-www-form-urlencoded")));
    } else if bare.starts_with("application/json") {
        // Kong: `cjson.decode_with_array_mt(body)` (kong/pdk/service/response.lua).
        let decoded = crate::pdk::json::decode_with_array_mt(ctx, &body).map_err(|e| crate::lua::error_at(ctx, &exec, &e))?;
        match decoded {
            Some(t @ Value::Table(_)) => stack.replace(ctx, (t, Value::Nil, lua_string(ctx, b"application/json"))),
            _ => stack.replace(ctx, err(ctx, "invalid json body", "application/json")),
        }
    } else if bare.starts_with("multipart/form-data") {
        // Kong: lua-multipart's get_all_with_arrays, which never fails (no boundary, no parts).
        let parts = crate::codec::multipart::parse(&body, content_type.as_bytes());
        stack.replace(ctx, (args::parts_table(ctx, &parts), Value::Nil, lua_string(ctx, b"multipart/form-data")));
    } else {
        let msg = format!("unsupported content type '{content_type}'");
        stack.replace(ctx, err(ctx, &msg, &bare));
    }
    Ok(CallbackReturn::Return)
}
