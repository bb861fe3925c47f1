//! `kong.service.response`: the upstream's response as it arrived, as Kong's
//! `kong/pdk/service/response.lua`. Status and headers come from the host's response
//! headers (Kong: the `kong.service.response.status` property for the status); the body
//! only when the response was buffered (`kong.service.request.enable_buffering()`,
//! `RequestState::response_body`).

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::{lua_string, raise, set_function, Pdk, Scope};
use crate::phase::kong_phase;
use crate::properties::Need;

/// Kong's `header_body_log` mask for this module (no `error`/`admin_api`).
const HEADER_BODY_LOG: u32 = kong_phase::RESPONSE | kong_phase::HEADER_FILTER | kong_phase::BODY_FILTER | kong_phase::LOG;

const MIN_POST_ARGS: i64 = 1;
const MAX_POST_ARGS_DEFAULT: i64 = 100;
const MAX_POST_ARGS: i64 = 1000;
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
/// asked).
fn upstream_headers(scope: &Scope) -> Vec<(String, Vec<u8>)> {
    if scope.request.exit.is_some() {
        return Vec::new();
    }
    scope.host.response_headers()
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
/// hosts keep one header map).
fn get_headers<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let max = crate::pdk::kong::response::max_headers_arg(ctx, &exec, stack.get(0))?;
    let headers = upstream_headers(&pdk.scope());
    let table = crate::pdk::kong::request::header_table(ctx, &headers, max);
    stack.replace(ctx, table);
    Ok(CallbackReturn::Return)
}

/// `kong.service.response.get_header(name)`: the first value of the upstream's header.
fn get_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "name must be a string");
    };
    let name = crate::pdk::kong::request::normalize_header_name(name.as_bytes());
    let value = upstream_headers(&pdk.scope()).into_iter().find(|(n, _)| n.to_ascii_lowercase() == name).map(|(_, v)| v);
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
/// table (`null` reads as `nil`), multipart -> table of part values. Returns `value,
/// nil, mimetype`, or `nil, err[, mimetype]` ("missing content type", "invalid json
/// body", "unable to decode multipart body", "unsupported content type 'x'").
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
        let max = match stack.get(1) {
            Value::Nil => MAX_POST_ARGS_DEFAULT,
            v @ (Value::Integer(_) | Value::Number(_)) => {
                let n = v.to_number().unwrap_or(0.0);
                if n < MIN_POST_ARGS as f64 {
                    return raise(ctx, &exec, &format!("max_args must be >= {MIN_POST_ARGS}"));
                }
                if n > MAX_POST_ARGS as f64 {
                    return raise(ctx, &exec, &format!("max_args must be <= {MAX_POST_ARGS}"));
                }
                n as i64
            }
            _ => return raise(ctx, &exec, "max_args must be a number"),
        };
        let args = decode_args(ctx, &body, max);
        stack.replace(ctx, (args, Value::Nil, lua_string(ctx, b"application/x-www-form-urlencoded")));
    } else if bare.starts_with("application/json") {
        let decoded = serde_json::from_slice::<serde_json::Value>(&body).ok().map(|v| json_to_lua(ctx, &v, 0));
        match decoded {
            Some(t @ Value::Table(_)) => stack.replace(ctx, (t, Value::Nil, lua_string(ctx, b"application/json"))),
            _ => stack.replace(ctx, err(ctx, "invalid json body", "application/json")),
        }
    } else if bare.starts_with("multipart/form-data") {
        match decode_multipart(ctx, &body, &content_type) {
            Some(t) => stack.replace(ctx, (t, Value::Nil, lua_string(ctx, b"multipart/form-data"))),
            None => stack.replace(ctx, err(ctx, "unable to decode multipart body", "multipart/form-data")),
        }
    } else {
        let msg = format!("unsupported content type '{content_type}'");
        stack.replace(ctx, err(ctx, &msg, &bare));
    }
    Ok(CallbackReturn::Return)
}

/// Adds `value` under `key`, turning a repeated key into an array (as `ngx.decode_args`).
fn add_arg<'gc>(ctx: Context<'gc>, table: Table<'gc>, key: Value<'gc>, value: Value<'gc>) {
    match table.get(ctx, key) {
        Value::Nil => {
            table.set(ctx, key, value).ok();
        }
        Value::Table(list) => {
            list.set(ctx, list.length() + 1, value).ok();
        }
        first => {
            let list = Table::new(&ctx);
            list.set(ctx, 1, first).ok();
            list.set(ctx, 2, value).ok();
            table.set(ctx, key, list).ok();
        }
    }
}

/// `ngx.decode_args(body, max)`: `a=1&b&a=2` -> `{ a = { "1", "2" }, b = true }`.
fn decode_args<'gc>(ctx: Context<'gc>, body: &[u8], max: i64) -> Table<'gc> {
    let table = Table::new(&ctx);
    let pairs = body.split(|&b| b == b'&').filter(|p| !p.is_empty()).take(max as usize);
    for pair in pairs {
        let (key, value) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (&pair[..eq], Some(&pair[eq + 1..])),
            None => (pair, None),
        };
        let key = crate::pdk::kong::service::form_decode(key);
        if key.is_empty() {
            continue;
        }
        let value = match value {
            Some(v) => lua_string(ctx, &crate::pdk::kong::service::form_decode(v)),
            None => Value::Boolean(true),
        };
        add_arg(ctx, table, lua_string(ctx, &key), value);
    }
    table
}

/// A decoded JSON value as a Lua value (cjson: objects and arrays are tables, `null`
/// reads as `nil` here).
fn json_to_lua<'gc>(ctx: Context<'gc>, value: &serde_json::Value, depth: usize) -> Value<'gc> {
    use serde_json::Value as J;
    match value {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Number(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => lua_string(ctx, s.as_bytes()),
        J::Array(items) => {
            let t = Table::new(&ctx);
            if depth < 1000 {
                for (i, item) in items.iter().enumerate() {
                    t.set(ctx, i as i64 + 1, json_to_lua(ctx, item, depth + 1)).ok();
                }
            }
            Value::Table(t)
        }
        J::Object(map) => {
            let t = Table::new(&ctx);
            if depth < 1000 {
                for (k, v) in map {
                    t.set(ctx, lua_string(ctx, k.as_bytes()), json_to_lua(ctx, v, depth + 1)).ok();
                }
            }
            Value::Table(t)
        }
    }
}

/// lua-multipart's `get_all_with_arrays`: each part's value by its form-data name,
/// repeated names as arrays. `None` when the body does not parse.
fn decode_multipart<'gc>(ctx: Context<'gc>, body: &[u8], content_type: &str) -> Option<Value<'gc>> {
    let at = content_type.to_ascii_lowercase().find("boundary=")?;
    let raw = &content_type[at + 9..];
    let boundary = match raw.strip_prefix('"') {
        Some(q) => q.split('"').next()?,
        None => raw.split(';').next()?.trim(),
    };
    if boundary.is_empty() {
        return None;
    }
    let delimiter = format!("--{boundary}");
    let table = Table::new(&ctx);
    let mut rest = body;
    let start = find(rest, delimiter.as_bytes())?;
    rest = &rest[start + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        rest = rest.strip_prefix(b"\r\n").or_else(|| rest.strip_prefix(b"\n"))?;
        let next = find(rest, delimiter.as_bytes())?;
        let mut part = &rest[..next];
        part = part.strip_suffix(b"\r\n").or_else(|| part.strip_suffix(b"\n")).unwrap_or(part);
        let (head, value) = match find(part, b"\r\n\r\n") {
            Some(i) => (&part[..i], &part[i + 4..]),
            None => {
                let i = find(part, b"\n\n")?;
                (&part[..i], &part[i + 2..])
            }
        };
        let head = String::from_utf8_lossy(head);
        let name = head.lines().find_map(|line| {
            let (field, rest) = line.split_once(':')?;
            if !field.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            rest.split(';').find_map(|p| {
                let p = p.trim();
                let v = p.strip_prefix("name=")?;
                Some(v.trim_matches('"').to_string())
            })
        })?;
        add_arg(ctx, table, lua_string(ctx, name.as_bytes()), lua_string(ctx, value));
        rest = &rest[next + delimiter.len()..];
    }
    Some(Value::Table(table))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}
