//! `kong.request`: the client's request, as Kong's `kong/pdk/request.lua`.
//!
//! Facts come from the request headers (pseudo-headers `:method`, `:path`, `:scheme`,
//! `:authority` included) and from host properties through [`Need`]. What differs from
//! Kong on proxy-wasm hosts:
//! - `get_forwarded_*`: Kong's default `trusted_ips` is empty, so outside Kong the
//!   `X-Forwarded-*` headers are never trusted and the non-forwarded values are returned;
//!   on Kong the host's own `kong.request.forwarded_*` properties answer.
//! - `get_uri_captures`: no router captures reach a proxy-wasm filter; the result has
//!   Kong's shape with empty tables, `{ unnamed = {}, named = {} }`.
//! - `get_raw_body`/`get_body`: the body is the one the glue buffered before the phase
//!   ran (`RequestState::request_body`); when it was not buffered they return `nil` and
//!   "request body was not buffered". `max_allowed_file_size` is accepted and ignored
//!   (bodies are never in temporary files here); a body larger than the
//!   `request_body_bytes` limit raises an error.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::args::{self, DEFAULT_MAX_ARGS};
use crate::pdk::{lua_string, raise, set_function, Pdk};
use crate::phase::kong_phase;
use crate::properties::Need;

/// Default and bounds of `get_headers(max_headers)`, as Kong's.
const DEFAULT_MAX_HEADERS: i64 = 100;
const MIN_HEADERS: i64 = 1;
const MAX_HEADERS: i64 = 1000;
/// Bounds of `get_query(max_args)` and `get_body(_, max_args)`, as Kong's.
const MIN_ARGS: f64 = 1.0;
const MAX_ARGS: f64 = 1000.0;

/// Kong's content types (`kong.tools.http.CONTENT_TYPES`).
const CONTENT_TYPE_POST: &str = "application/x-www-form-urlencoded";
const CONTENT_TYPE_JSON: &str = "application/json";
const CONTENT_TYPE_FORM_DATA: &str = "multipart/form-data";

/// Kong's `before_content` phase mask (`get_raw_body`, `get_body`).
const BEFORE_CONTENT: u32 =
    kong_phase::REWRITE | kong_phase::ACCESS | kong_phase::RESPONSE | kong_phase::ERROR | kong_phase::ADMIN_API;

/// The second value of the body functions when the glue did not buffer the body.
pub const NOT_BUFFERED: &str = "request body was not buffered";

/// Builds the `kong.request` table.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "get_scheme", pdk, get_scheme);
    set_function(ctx, t, "get_host", pdk, get_host);
    set_function(ctx, t, "get_port", pdk, get_port);
    set_function(ctx, t, "get_forwarded_scheme", pdk, get_forwarded_scheme);
    set_function(ctx, t, "get_forwarded_host", pdk, get_forwarded_host);
    set_function(ctx, t, "get_forwarded_port", pdk, get_forwarded_port);
    set_function(ctx, t, "get_forwarded_path", pdk, get_forwarded_path);
    set_function(ctx, t, "get_forwarded_prefix", pdk, get_forwarded_prefix);
    set_function(ctx, t, "get_http_version", pdk, get_http_version);
    set_function(ctx, t, "get_method", pdk, get_method);
    set_function(ctx, t, "get_path", pdk, get_path);
    set_function(ctx, t, "get_raw_path", pdk, get_raw_path);
    set_function(ctx, t, "get_path_with_query", pdk, get_path_with_query);
    set_function(ctx, t, "get_raw_query", pdk, get_raw_query);
    set_function(ctx, t, "get_query_arg", pdk, get_query_arg);
    set_function(ctx, t, "get_query", pdk, get_query);
    set_function(ctx, t, "get_header", pdk, get_header);
    set_function(ctx, t, "get_headers", pdk, get_headers);
    set_function(ctx, t, "get_raw_body", pdk, get_raw_body);
    set_function(ctx, t, "get_body", pdk, get_body);
    set_function(ctx, t, "get_start_time", pdk, get_start_time);
    set_function(ctx, t, "get_uri_captures", pdk, get_uri_captures);
    t
}

type Ret<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

fn ret<'gc>(ctx: Context<'gc>, mut stack: Stack<'gc, '_>, value: impl piccolo::IntoMultiValue<'gc>) -> Ret<'gc> {
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

fn text<'gc>(ctx: Context<'gc>, bytes: &[u8]) -> Value<'gc> {
    lua_string(ctx, bytes)
}

// ---------------------------------------------------------------------------------
// Facts about the request, shared with `ngx.req` and `ngx.var`.

/// The first value of request header `name` (any case, `_` for `-`); `host` falls back
/// to `:authority`, where HTTP/2 and Envoy keep it.
pub fn header(pdk: &Pdk, name: &[u8]) -> Option<Vec<u8>> {
    let name = normalize_header_name(name);
    let host = pdk.scope().host.clone();
    match host.request_header(&name) {
        Some(v) => Some(v),
        None if name == "host" => host.request_header(":authority"),
        None => None,
    }
}

/// The request headers without pseudo-headers, with `host` from `:authority` when the
/// host keeps it there (first, as nginx lists it).
pub fn header_list(pdk: &Pdk) -> Vec<(String, Vec<u8>)> {
    let all = pdk.scope().host.request_headers();
    let mut list = Vec::with_capacity(all.len());
    if !all.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        if let Some((_, authority)) = all.iter().find(|(n, _)| n == ":authority") {
            list.push(("host".to_string(), authority.clone()));
        }
    }
    list.extend(all.into_iter().filter(|(n, _)| !n.starts_with(':')));
    list
}

/// The `:path` the upstream gets now (path and query), `/` when absent.
pub fn current_path(pdk: &Pdk) -> Vec<u8> {
    pdk.scope().host.request_header(":path").unwrap_or_else(|| b"/".to_vec())
}

/// The client's original request target (nginx's `$request_uri`): path and query as
/// received, unchanged by `ngx.req.set_uri*`.
pub fn request_uri(pdk: &Pdk) -> Vec<u8> {
    if let Some(original) = pdk.scope().request.original_path.clone() {
        return original;
    }
    current_path(pdk)
}

/// Splits `path?query` into the path and the query (`None` without `?`).
pub fn split_query(target: &[u8]) -> (&[u8], Option<&[u8]>) {
    match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], Some(&target[q + 1..])),
        None => (target, None),
    }
}

/// The current query string (nginx's `$args`), `None` when the target has no `?`.
pub fn current_query(pdk: &Pdk) -> Option<Vec<u8>> {
    let path = current_path(pdk);
    split_query(&path).1.map(<[u8]>::to_vec)
}

/// Rewrites the `:path` sent upstream, remembering the client's original first.
pub fn set_current_path(pdk: &Pdk, target: &[u8]) {
    let before = current_path(pdk);
    let mut scope = pdk.scope_mut();
    if scope.request.original_path.is_none() {
        scope.request.original_path = Some(before);
    }
    scope.host.set_request_header(":path", Some(target));
}

/// Replaces the query of the upstream request; `None` or empty removes the `?`.
pub fn set_current_query(pdk: &Pdk, query: Option<&[u8]>) {
    let path = current_path(pdk);
    let mut target = split_query(&path).0.to_vec();
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        target.push(b'?');
        target.extend_from_slice(q);
    }
    set_current_path(pdk, &target);
}

/// The request scheme (`http`/`https`): the host's `request.scheme`, else `:scheme`.
pub fn scheme(pdk: &Pdk) -> String {
    let (host, kind) = host_and_kind(pdk);
    Need::Scheme
        .read_text(host.as_ref(), kind)
        .or_else(|| host.request_header(":scheme").map(|v| String::from_utf8_lossy(&v).into_owned()))
        .unwrap_or_else(|| "http".into())
        .to_ascii_lowercase()
}

/// nginx's `$host`: the request's host name, lowercase, without the port.
pub fn host_name(pdk: &Pdk) -> Vec<u8> {
    let authority = header(pdk, b"host").unwrap_or_default();
    let authority = match authority.iter().rposition(|&b| b == b'@') {
        Some(at) => authority[at + 1..].to_vec(),
        None => authority,
    };
    let host: &[u8] = if authority.first() == Some(&b'[') {
        match authority.iter().position(|&b| b == b']') {
            Some(end) => &authority[..=end],
            None => &authority,
        }
    } else {
        match authority.iter().position(|&b| b == b':') {
            Some(colon) => &authority[..colon],
            None => &authority,
        }
    };
    host.to_ascii_lowercase()
}

/// nginx's `$server_port`: the port the request came in on (the host's property; else
/// the `Host` port, else the scheme's default).
pub fn server_port(pdk: &Pdk) -> Option<i64> {
    let (host, kind) = host_and_kind(pdk);
    if let Some(port) = Need::ServerPort.read_text(host.as_ref(), kind).and_then(|p| p.trim().parse().ok()) {
        return Some(port);
    }
    let authority = header(pdk, b"host").unwrap_or_default();
    if authority.first() != Some(&b'[') || authority.contains(&b']') {
        let after = match authority.iter().rposition(|&b| b == b']') {
            Some(end) => &authority[end + 1..],
            None => &authority[..],
        };
        if let Some(colon) = after.iter().rposition(|&b| b == b':') {
            if let Ok(port) = std::str::from_utf8(&after[colon + 1..]).unwrap_or("").parse::<i64>() {
                return Some(port);
            }
        }
    }
    Some(if scheme(pdk) == "https" { 443 } else { 80 })
}

/// The HTTP version as nginx's `ngx.req.http_version()`: 0.9, 1.0, 1.1, 2.0 or 3.0;
/// `None` for anything else.
pub fn http_version(pdk: &Pdk) -> Option<f64> {
    let (host, kind) = host_and_kind(pdk);
    let protocol = Need::Protocol.read_text(host.as_ref(), kind)?;
    match protocol.trim().to_ascii_uppercase().as_str() {
        "HTTP/0.9" => Some(0.9),
        "HTTP/1.0" => Some(1.0),
        "HTTP/1.1" => Some(1.1),
        "HTTP/2" | "HTTP/2.0" => Some(2.0),
        "HTTP/3" | "HTTP/3.0" => Some(3.0),
        _ => None,
    }
}

/// The method the upstream gets now (`:method`), `GET` when absent.
pub fn method(pdk: &Pdk) -> Vec<u8> {
    pdk.scope().host.request_header(":method").unwrap_or_else(|| b"GET".to_vec())
}

/// The buffered request body: `Ok(None)` when the glue did not buffer it, an error
/// when it is larger than the `request_body_bytes` limit.
pub fn body(pdk: &Pdk) -> Result<Option<Vec<u8>>, String> {
    let scope = pdk.scope();
    let Some(body) = scope.request.request_body.as_ref() else {
        return Ok(None);
    };
    let limit = crate::lua::limits::current().request_body_bytes;
    if body.len() > limit {
        return Err(format!("request body too large ({} bytes, limit {limit})", body.len()));
    }
    Ok(Some(body.clone()))
}

/// The request's start in milliseconds since the epoch: the host's `request.time`
/// property when it has one, else the host clock, read on first use in a request and
/// kept in `RequestState::start_time_ms` (0 until then), so requests that never ask
/// make no host call for it.
pub fn start_time_ms(pdk: &Pdk) -> u64 {
    let known = pdk.scope().request.start_time_ms;
    if known != 0 {
        return known;
    }
    let ms = {
        let scope = pdk.scope();
        let host = scope.host.as_ref();
        Need::RequestTime
            .read(host, crate::properties::HostKind::Generic)
            .and_then(|bytes| crate::properties::time_ms(&bytes))
            .unwrap_or_else(|| host.now_nanos() / 1_000_000)
    };
    pdk.scope_mut().request.start_time_ms = ms;
    ms
}

fn host_and_kind(pdk: &Pdk) -> (std::rc::Rc<dyn crate::host::Host>, crate::properties::HostKind) {
    let scope = pdk.scope();
    (scope.host.clone(), scope.host_kind)
}

fn forwarded(pdk: &Pdk, need: Need) -> Option<String> {
    let (host, kind) = host_and_kind(pdk);
    need.read_text(host.as_ref(), kind).filter(|v| !v.is_empty())
}

/// Kong's `max_args` check (`get_query`, `get_body`): `nil` or a number in 1..=1000.
fn check_max_args<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, value: Value<'gc>) -> Result<usize, Error<'gc>> {
    match value {
        Value::Nil => Ok(DEFAULT_MAX_ARGS),
        v @ (Value::Integer(_) | Value::Number(_)) => {
            let n = v.to_number().unwrap_or(0.0);
            if n < MIN_ARGS {
                return raise(ctx, exec, &format!("max_args must be >= {}", MIN_ARGS as i64));
            }
            if n > MAX_ARGS {
                return raise(ctx, exec, &format!("max_args must be <= {}", MAX_ARGS as i64));
            }
            Ok(n as usize)
        }
        _ => raise(ctx, exec, "max_args must be a number"),
    }
}

// ---------------------------------------------------------------------------------
// The functions.

/// `kong.request.get_scheme()`: `"http"` or `"https"`, lowercase.
fn get_scheme<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let s = scheme(pdk);
    ret(ctx, stack, text(ctx, s.as_bytes()))
}

/// `kong.request.get_host()`: the host name, lowercase, without the port.
fn get_host<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let h = host_name(pdk);
    ret(ctx, stack, text(ctx, &h))
}

/// `kong.request.get_port()`: the port the request came in on, a number.
fn get_port<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    // Kong: every phase but init_worker, which never runs here.
    let port = server_port(pdk).map(Value::Integer).unwrap_or(Value::Nil);
    ret(ctx, stack, port)
}

/// `kong.request.get_forwarded_scheme()`: Kong's trusted `X-Forwarded-Proto`, else the
/// scheme (see the module notes).
fn get_forwarded_scheme<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let s = forwarded(pdk, Need::ForwardedScheme).map(|s| s.to_ascii_lowercase()).unwrap_or_else(|| scheme(pdk));
    ret(ctx, stack, text(ctx, s.as_bytes()))
}

/// `kong.request.get_forwarded_host()`: Kong's trusted `X-Forwarded-Host`, else the host.
fn get_forwarded_host<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let h = forwarded(pdk, Need::ForwardedHost).map(|h| h.to_ascii_lowercase().into_bytes()).unwrap_or_else(|| host_name(pdk));
    ret(ctx, stack, text(ctx, &h))
}

/// `kong.request.get_forwarded_port()`: Kong's trusted `X-Forwarded-Port`, else the port.
fn get_forwarded_port<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let port = forwarded(pdk, Need::ForwardedPort)
        .and_then(|p| p.trim().parse::<i64>().ok())
        .or_else(|| server_port(pdk))
        .map(Value::Integer)
        .unwrap_or(Value::Nil);
    ret(ctx, stack, port)
}

/// `kong.request.get_forwarded_path()`: the normalized path (no trusted
/// `X-Forwarded-Path` with Kong's default `trusted_ips`).
fn get_forwarded_path<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let raw = raw_path(pdk);
    ret(ctx, stack, text(ctx, &normalize_path(&raw)))
}

/// `kong.request.get_forwarded_prefix()`: the prefix Kong's router stripped (Kong's
/// `upstream_x_forwarded_prefix`), `nil` elsewhere or when nothing was stripped.
fn get_forwarded_prefix<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let prefix = forwarded(pdk, Need::ForwardedPrefix).map(|p| text(ctx, p.as_bytes())).unwrap_or(Value::Nil);
    ret(ctx, stack, prefix)
}

/// `kong.request.get_http_version()`: 1.0, 1.1, 2.0 ... as a number, `nil` if unknown.
fn get_http_version<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let v = http_version(pdk).map(Value::Number).unwrap_or(Value::Nil);
    ret(ctx, stack, v)
}

/// `kong.request.get_method()`: the request method, e.g. `GET`.
fn get_method<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let m = method(pdk);
    ret(ctx, stack, text(ctx, &m))
}

/// `kong.request.get_path()`: the normalized path, without the query string.
fn get_path<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let raw = raw_path(pdk);
    ret(ctx, stack, text(ctx, &normalize_path(&raw)))
}

/// `kong.request.get_raw_path()`: the path as the client sent it, without the query.
fn get_raw_path<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let raw = raw_path(pdk);
    ret(ctx, stack, text(ctx, &raw))
}

/// `kong.request.get_path_with_query()`: path and query as the client sent them.
fn get_path_with_query<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let uri = request_uri(pdk);
    ret(ctx, stack, text(ctx, &uri))
}

/// `kong.request.get_raw_query()`: the query string without `?`, not decoded; `""`
/// when there is none (nginx's `$args`, so a query changed by `ngx.req.set_uri_args`).
fn get_raw_query<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let q = current_query(pdk).unwrap_or_default();
    ret(ctx, stack, text(ctx, &q))
}

/// `kong.request.get_query_arg(name)`: the first value of query argument `name`
/// (a string, `true` for a key without `=`), or `nil`.
fn get_query_arg<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "query argument name must be a string");
    };
    let query = current_query(pdk).unwrap_or_default();
    let decoded = args::decode(&query, DEFAULT_MAX_ARGS);
    let value = decoded
        .pairs
        .iter()
        .find(|(k, _)| k.as_slice() == name.as_bytes())
        .map(|(_, v)| match v {
            args::ArgValue::Flag => Value::Boolean(true),
            args::ArgValue::Text(t) => text(ctx, t),
        })
        .unwrap_or(Value::Nil);
    ret(ctx, stack, value)
}

/// `kong.request.get_query([max_args])`: the decoded query arguments (a repeated key
/// gives an array; a key without `=` gives `true`), at most `max_args` (default 100,
/// 1 to 1000); a second value `"truncated"` when there were more.
fn get_query<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let max = check_max_args(ctx, &exec, stack.get(0))?;
    let query = current_query(pdk).unwrap_or_default();
    let decoded = args::decode(&query, max);
    let table = args::to_table(ctx, &decoded.pairs);
    let err = if decoded.truncated { text(ctx, b"truncated") } else { Value::Nil };
    ret(ctx, stack, (table, err))
}

/// `kong.request.get_header(name)`: the first value of the header, or `nil`. Names are
/// case-insensitive, and `_` stands for `-` as in Kong.
fn get_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "header name must be a string");
    };
    let value = header(pdk, name.as_bytes());
    ret(ctx, stack, value.map(|v| text(ctx, &v)).unwrap_or(Value::Nil))
}

/// `kong.request.get_headers([max_headers])`: a table of lowercase names to a value, or
/// to an array of values for a repeated header; lookups accept any case and `_` for `-`.
/// At most `max_headers` (default 100, 1 to 1000); a second value `"truncated"` when
/// there were more.
fn get_headers<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let max = match stack.get(0) {
        Value::Nil => DEFAULT_MAX_HEADERS,
        v @ (Value::Integer(_) | Value::Number(_)) => {
            let n = v.to_number().unwrap_or(0.0);
            if n < MIN_HEADERS as f64 {
                return raise(ctx, &exec, &format!("max_headers must be >= {MIN_HEADERS}"));
            }
            if n > MAX_HEADERS as f64 {
                return raise(ctx, &exec, &format!("max_headers must be <= {MAX_HEADERS}"));
            }
            n as i64
        }
        _ => return raise(ctx, &exec, "max_headers must be a number"),
    };
    let headers = header_list(pdk);
    let truncated = headers.len() as i64 > max;
    let table = header_table(ctx, &headers, max);
    let err = if truncated { text(ctx, b"truncated") } else { Value::Nil };
    ret(ctx, stack, (table, err))
}

/// `kong.request.get_raw_body([max_allowed_file_size])`: the whole body as a string
/// (`""` when empty); `nil, "request body was not buffered"` when the glue did not
/// buffer it. Raises when the body exceeds the `request_body_bytes` limit.
fn get_raw_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, BEFORE_CONTENT)?;
    match body(pdk) {
        Ok(Some(b)) => ret(ctx, stack, text(ctx, &b)),
        Ok(None) => ret(ctx, stack, (Value::Nil, text(ctx, NOT_BUFFERED.as_bytes()))),
        Err(e) => raise(ctx, &exec, &e),
    }
}

/// `kong.request.get_body([mimetype[, max_args[, max_allowed_file_size]]])`: the body
/// parsed by its content type (or `mimetype`): form-urlencoded (as
/// `ngx.req.get_post_args`), JSON (objects and arrays only) or multipart/form-data (as
/// lua-multipart's `get_all_with_arrays`). Returns `body, nil, mimetype`, or
/// `nil, err, mimetype` with Kong's messages ("missing content type" has no mimetype).
fn get_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, BEFORE_CONTENT)?;
    let content_type = match stack.get(0) {
        Value::Nil => header(pdk, b"content-type"),
        Value::String(s) => Some(s.as_bytes().to_vec()),
        v @ (Value::Integer(_) | Value::Number(_)) => Some(crate::lua::format::number(v).into_bytes()),
        other => {
            return raise(ctx, &exec, &format!(
                "bad argument #1 to 'lower' (string expected, got {})",
                other.type_name()
            ))
        }
    };
    let Some(content_type) = content_type else {
        return ret(ctx, stack, (Value::Nil, text(ctx, b"missing content type")));
    };
    let mut lower = content_type.to_ascii_lowercase();
    if let Some(semi) = lower.iter().position(|&b| b == b';') {
        lower.truncate(semi);
    }

    if lower.starts_with(CONTENT_TYPE_POST.as_bytes()) {
        let max = check_max_args(ctx, &exec, stack.get(1))?;
        let mime = text(ctx, CONTENT_TYPE_POST.as_bytes());
        return match body(pdk) {
            Ok(Some(b)) => {
                let decoded = args::decode(&b, max);
                ret(ctx, stack, (args::to_table(ctx, &decoded.pairs), Value::Nil, mime))
            }
            Ok(None) => ret(ctx, stack, (Value::Nil, text(ctx, NOT_BUFFERED.as_bytes()), mime)),
            Err(e) => raise(ctx, &exec, &e),
        };
    }
    if lower.starts_with(CONTENT_TYPE_JSON.as_bytes()) {
        let mime = text(ctx, CONTENT_TYPE_JSON.as_bytes());
        return match body(pdk) {
            Ok(Some(b)) => match serde_json::from_slice::<serde_json::Value>(&b) {
                Ok(json @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                    ret(ctx, stack, (crate::pdk::lua_json::to_lua(ctx, &json), Value::Nil, mime))
                }
                _ => ret(ctx, stack, (Value::Nil, text(ctx, b"invalid json body"), mime)),
            },
            Ok(None) => ret(ctx, stack, (Value::Nil, text(ctx, NOT_BUFFERED.as_bytes()), mime)),
            Err(e) => raise(ctx, &exec, &e),
        };
    }
    if lower.starts_with(CONTENT_TYPE_FORM_DATA.as_bytes()) {
        let mime = text(ctx, CONTENT_TYPE_FORM_DATA.as_bytes());
        return match body(pdk) {
            Ok(Some(b)) => {
                let parts = multipart(&b, &content_type);
                ret(ctx, stack, (multipart_table(ctx, &parts), Value::Nil, mime))
            }
            Ok(None) => ret(ctx, stack, (Value::Nil, text(ctx, NOT_BUFFERED.as_bytes()), mime)),
            Err(e) => raise(ctx, &exec, &e),
        };
    }
    let mut msg = b"unsupported content type '".to_vec();
    msg.extend_from_slice(&content_type);
    msg.push(b'\'');
    ret(ctx, stack, (Value::Nil, text(ctx, &msg), text(ctx, &lower)))
}

/// `kong.request.get_start_time()`: when the request arrived, in milliseconds since
/// the Unix epoch.
fn get_start_time<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let ms = start_time_ms(pdk);
    ret(ctx, stack, Value::Integer(ms as i64))
}

/// `kong.request.get_uri_captures()`: `{ unnamed = {}, named = {} }`; proxy-wasm hosts
/// pass no router captures to filters.
fn get_uri_captures<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let t = Table::new(&ctx);
    t.set(ctx, "unnamed", Table::new(&ctx)).ok();
    t.set(ctx, "named", Table::new(&ctx)).ok();
    ret(ctx, stack, t)
}

fn raw_path(pdk: &Pdk) -> Vec<u8> {
    // As Kong: the client's request target up to the first `?` after its first byte.
    let uri = request_uri(pdk);
    match uri.iter().skip(1).position(|&b| b == b'?') {
        Some(q) => uri[..q + 1].to_vec(),
        None => uri,
    }
}

/// The boundary of a multipart content type, as lua-multipart finds it
/// (`;%s*boundary=(%S+)`, surrounding quotes removed).
fn multipart_boundary(content_type: &[u8]) -> Option<Vec<u8>> {
    let mut i = 0;
    while let Some(semi) = content_type[i..].iter().position(|&b| b == b';') {
        let mut j = i + semi + 1;
        while j < content_type.len() && content_type[j].is_ascii_whitespace() {
            j += 1;
        }
        if content_type[j..].starts_with(b"boundary=") {
            let start = j + b"boundary=".len();
            let end = content_type[start..].iter().position(|b| b.is_ascii_whitespace()).map_or(content_type.len(), |e| start + e);
            let mut boundary = &content_type[start..end];
            if boundary.is_empty() {
                i = i + semi + 1;
                continue;
            }
            if boundary.len() >= 2
                && ((boundary[0] == b'"' && boundary[boundary.len() - 1] == b'"')
                    || (boundary[0] == b'\'' && boundary[boundary.len() - 1] == b'\''))
            {
                boundary = &boundary[1..boundary.len() - 1];
            }
            return (!boundary.is_empty()).then(|| boundary.to_vec());
        }
        i = i + semi + 1;
    }
    None
}

/// `%S:%s*%S`: lua-multipart's test for a header line.
fn is_header_line(line: &[u8]) -> bool {
    line.iter().enumerate().any(|(i, &b)| {
        b == b':' && i > 0 && !line[i - 1].is_ascii_whitespace() && {
            let rest = &line[i + 1..];
            rest.iter().find(|c| !c.is_ascii_whitespace()).is_some()
        }
    })
}

/// The part name of a `Content-Disposition` line, as lua-multipart extracts it.
fn disposition_name(line: &[u8]) -> Option<Vec<u8>> {
    let mut name = None;
    for piece in line.split(|&b| b == b';').filter(|p| !p.is_empty()) {
        if is_header_line(piece) {
            continue;
        }
        let trimmed_start = piece.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(piece.len());
        let rest = &piece[trimmed_start..];
        if rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(b"name=") {
            let value = &rest[5..];
            let value = &value[value.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(value.len())..];
            let value = &value[..value.iter().position(|&b| b == b'=').unwrap_or(value.len())];
            let end = value.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |e| e + 1);
            let value = &value[..end];
            name = Some(if value.len() >= 2 { value[1..value.len() - 1].to_vec() } else { Vec::new() });
        }
    }
    name
}

/// Decodes a multipart/form-data body into `(name, value)` parts in order, following
/// lua-multipart's line-based parser (Kong's `multipart` module).
pub fn multipart(body: &[u8], content_type: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut parts: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let Some(boundary) = multipart_boundary(content_type) else {
        return parts;
    };
    let mut name: Option<Vec<u8>> = None;
    let mut value: Vec<Vec<u8>> = Vec::new();
    let mut in_value = false;
    let mut position = 0;
    loop {
        let newline = body[position.min(body.len())..].iter().position(|&b| b == b'\r' || b == b'\n').map(|p| position + p);
        let line = match newline {
            Some(s) => &body[position..s],
            None => &body[position.min(body.len())..],
        };
        if let Some(s) = newline {
            position = s + 1;
        }
        if line.is_empty() {
            if let (Some(s), true) = (newline, in_value) {
                value.push(vec![body[s]]);
            }
        } else if line.starts_with(b"--") && line[2..].starts_with(&boundary) {
            in_value = false;
            if let Some(n) = name.take() {
                let count = value.len();
                if count >= 1 && value[count - 1] == b"\n" {
                    value.pop();
                }
                if count >= 2 && value[count - 2] == b"\r" {
                    value.remove(count - 2);
                }
                parts.push((n, value.concat()));
                value.clear();
            }
        } else if !in_value && line.len() >= 19 && line[..19].eq_ignore_ascii_case(b"content-disposition") {
            if let Some(n) = disposition_name(line) {
                name = Some(n);
            }
            if let Some(s) = newline {
                if body[s..].starts_with(b"\r\n\r\n") {
                    in_value = true;
                    position = s + 4;
                }
            }
        } else if !in_value && is_header_line(line) {
            if let Some(s) = newline {
                if body[s..].starts_with(b"\r\n\r\n") {
                    in_value = true;
                    position = s + 4;
                }
            }
        } else {
            in_value = true;
            value.push(line.to_vec());
            if let Some(s) = newline {
                value.push(vec![body[s]]);
            }
        }
        if newline.is_none() {
            break;
        }
    }
    if let Some(n) = name {
        // lua-multipart: an unterminated last part replaces earlier parts of its name.
        parts.retain(|(existing, _)| existing != &n);
        parts.push((n, value.concat()));
    }
    parts
}

/// Multipart parts as lua-multipart's `get_all_with_arrays`: a name seen once maps to
/// its value, a repeated name to an array of its values.
fn multipart_table<'gc>(ctx: Context<'gc>, parts: &[(Vec<u8>, Vec<u8>)]) -> Table<'gc> {
    let pairs: Vec<(Vec<u8>, args::ArgValue)> =
        parts.iter().map(|(n, v)| (n.clone(), args::ArgValue::Text(v.clone()))).collect();
    args::to_table(ctx, &pairs)
}

/// A header name as proxy-wasm hosts key them: lowercase, `_` read as `-`.
pub fn normalize_header_name(name: &[u8]) -> String {
    String::from_utf8_lossy(name).to_ascii_lowercase().replace('_', "-")
}

/// Builds Kong's headers table (at most `max` header lines, pseudo-headers left out),
/// with the `__index` that accepts any case and `_` for `-`.
pub fn header_table<'gc>(ctx: Context<'gc>, headers: &[(String, Vec<u8>)], max: i64) -> Table<'gc> {
    let table = Table::new(&ctx);
    for (name, value) in headers.iter().filter(|(n, _)| !n.starts_with(':')).take(max as usize) {
        let key = Value::String(ctx.intern(name.to_ascii_lowercase().as_bytes()));
        let value = lua_string(ctx, value);
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
    let meta = Table::new(&ctx);
    let index = piccolo::Callback::from_fn(&ctx, |ctx, _, mut stack| {
        let (table, key): (Table, Value) = stack.consume(ctx)?;
        let value = match key {
            Value::String(s) => table.get(ctx, ctx.intern(normalize_header_name(s.as_bytes()).as_bytes())),
            _ => Value::Nil,
        };
        stack.replace(ctx, value);
        Ok(CallbackReturn::Return)
    });
    meta.set(ctx, "__index", index).ok();
    table.set_metatable(&ctx, Some(meta));
    table
}

/// Kong's path normalization (`kong.tools.uri.normalize(path, true)`): percent-decodes
/// unreserved characters, upper-cases the remaining escapes, removes `.` and `..`
/// segments (RFC 3986 5.2.4) and merges repeated slashes.
pub fn normalize_path(raw: &[u8]) -> Vec<u8> {
    let decoded = decode_unreserved(raw);
    let mut segments: Vec<&[u8]> = Vec::new();
    let trailing_slash = decoded.ends_with(b"/")
        || decoded.ends_with(b"/.")
        || decoded.ends_with(b"/..");
    for segment in decoded.split(|&b| b == b'/') {
        match segment {
            b"" | b"." => {}
            b".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = Vec::with_capacity(decoded.len());
    for s in &segments {
        out.push(b'/');
        out.extend_from_slice(s);
    }
    if out.is_empty() || (trailing_slash && !segments.is_empty()) {
        out.push(b'/');
    }
    out
}

/// Kong's `kong.tools.uri.normalize` decoding: every `%XX` triplet is decoded except the
/// reserved characters `!#$%&'()*+,/:;=?@[]`, which stay encoded with uppercase hex.
fn decode_unreserved(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && i + 2 < raw.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(raw[i + 1]), hex(raw[i + 2])) {
                let byte = (h * 16 + l) as u8;
                if !b"!#$%&'()*+,/:;=?@[]".contains(&byte) {
                    out.push(byte);
                } else {
                    out.push(b'%');
                    out.extend(raw[i + 1..i + 3].iter().map(|b| b.to_ascii_uppercase()));
                }
                i += 3;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn paths_normalize_as_kong() {
        assert_eq!(normalize_path(b"/"), b"/");
        assert_eq!(normalize_path(b""), b"/");
        assert_eq!(normalize_path(b"/a//b/./c/../d"), b"/a/b/d");
        // Kong's kong.request.get_path @usage (kong/pdk/request.lua): decoded but for the
        // reserved characters.
        assert_eq!(normalize_path(b"/t/Abc%20123%C3%B8%2f/parent/..//test/./"), "/t/Abc 123ø%2F/test/".as_bytes());
        assert_eq!(normalize_path(b"/a%3fb%2a"), b"/a%3Fb%2A");
        assert_eq!(normalize_path(b"/%7euser/%41"), b"/~user/A");
        assert_eq!(normalize_path(b"/../.."), b"/");
    }

    #[test]
    fn header_names_normalize() {
        assert_eq!(normalize_header_name(b"X_Custom_Auth"), "x-custom-auth");
    }

    use std::rc::Rc;

    use crate::config::{PluginConfig, Role};
    use crate::pdk::testing::FakeHost;
    use crate::phase::Phase;
    use crate::runtime::{PhaseOutcome, RequestState, Runtime};

    /// Runs `source` in `phase` against `host` with `request`; returns the outcome, the
    /// log messages (prefix removed) and the request state after the phase.
    pub(crate) fn run_in(phase: Phase, source: &str, host: &Rc<FakeHost>, request: RequestState) -> (PhaseOutcome, Vec<String>, RequestState) {
        let config = serde_json::json!({ phase.name(): [source] }).to_string();
        let config = PluginConfig::parse(config.as_bytes()).unwrap();
        let mut rt = Runtime::new(&config, Role::PreFunction, host.clone()).unwrap();
        let mut request = request;
        let outcome = rt.run_phase(phase, &mut request);
        let messages = host.messages().into_iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect();
        (outcome, messages, request)
    }

    /// [`run_in`] in `access` with no body; the messages only.
    pub(crate) fn lines(headers: &[(&str, &str)], source: &str) -> Vec<String> {
        let host = Rc::new(FakeHost::with_request(headers));
        run_in(Phase::Access, source, &host, RequestState::default()).1
    }

    fn with_body(headers: &[(&str, &str)], body: Option<&str>, source: &str) -> Vec<String> {
        let host = Rc::new(FakeHost::with_request(headers));
        let request = RequestState { request_body: body.map(|b| b.as_bytes().to_vec()), ..RequestState::default() };
        run_in(Phase::Access, source, &host, request).1
    }

    fn last_error(messages: &[String]) -> String {
        messages.last().cloned().unwrap_or_default()
    }

    const REQ: &[(&str, &str)] = &[
        (":method", "POST"),
        (":path", "/t/Abc%20123%C3%B8%2f/parent/..//test/./?foo=hello%20world&bar=baz&zzz&blo=&bar=bla&bar"),
        (":authority", "Example.COM:8443"),
        (":scheme", "https"),
        ("x-custom-header", "bla"),
        ("x-another", "foo bar"),
        ("x-another", "baz"),
    ];

    #[test]
    fn url_parts_as_kong_documents_them() {
        let out = lines(REQ, r#"
            kong.log.info(kong.request.get_scheme(), " ", kong.request.get_host(), " ", kong.request.get_port())
            kong.log.info(kong.request.get_forwarded_scheme(), " ", kong.request.get_forwarded_host(), " ", kong.request.get_forwarded_port())
            kong.log.info(kong.request.get_raw_path())
            kong.log.info(kong.request.get_path(), " ", kong.request.get_forwarded_path())
            kong.log.info(kong.request.get_path_with_query())
            kong.log.info(kong.request.get_raw_query())
            kong.log.info(kong.request.get_method(), " ", tostring(kong.request.get_forwarded_prefix()))
        "#);
        assert_eq!(out, [
            "https example.com 8443",
            "https example.com 8443",
            "/t/Abc%20123%C3%B8%2f/parent/..//test/./",
            "/t/Abc 123ø%2F/test/ /t/Abc 123ø%2F/test/",
            "/t/Abc%20123%C3%B8%2f/parent/..//test/./?foo=hello%20world&bar=baz&zzz&blo=&bar=bla&bar",
            "foo=hello%20world&bar=baz&zzz&blo=&bar=bla&bar",
            "POST nil",
        ]);
    }

    #[test]
    fn host_facts_come_from_properties() {
        let host = Rc::new(
            FakeHost::with_request(&[(":authority", "a.test"), ("x-forwarded-host", "evil.test")])
                .with_property("ngx.nginx_version", "1.27.4").with_property("kong.version", "3.9.0")
                .with_property("request.scheme", "HTTPS")
                .with_property("kong.request.port", "8000")
                .with_property("request.protocol", "HTTP/2")
                .with_property("kong.request.forwarded_host", "Front.Test")
                .with_property("kong.request.forwarded_port", "443")
                .with_property("ngx.upstream_x_forwarded_prefix", "/prefix"),
        );
        let (_, out, _) = run_in(Phase::Access, r#"
            kong.log.info(kong.request.get_scheme(), " ", kong.request.get_port(), " ", kong.request.get_http_version())
            kong.log.info(kong.request.get_forwarded_host(), " ", kong.request.get_forwarded_port(), " ", kong.request.get_forwarded_prefix())
        "#, &host, RequestState::default());
        assert_eq!(out, ["https 8000 2", "front.test 443 /prefix"]);

        // Elsewhere X-Forwarded-* is untrusted (Kong's default trusted_ips is empty).
        let out = lines(&[(":authority", "a.test:80"), ("x-forwarded-host", "evil.test"), ("x-forwarded-proto", "https")],
            "kong.log.info(kong.request.get_forwarded_host(), ' ', kong.request.get_forwarded_scheme(), ' ', kong.request.get_forwarded_port(), ' ', tostring(kong.request.get_http_version()))");
        assert_eq!(out, ["a.test http 80 nil"]);
    }

    #[test]
    fn query_as_kong_documents_it() {
        let out = lines(REQ, r#"
            local q = kong.request.get_query()
            kong.log.info(q.foo, "|", q.bar[1], ",", q.bar[2], ",", tostring(q.bar[3]), "|", tostring(q.zzz), "|", q.blo, "|")
            kong.log.info(kong.request.get_query_arg("foo"), "|", kong.request.get_query_arg("bar"), "|", tostring(kong.request.get_query_arg("zzz")), "|", kong.request.get_query_arg("blo"), "|", tostring(kong.request.get_query_arg("nope")))
            local q2, err = kong.request.get_query(2)
            kong.log.info(q2.foo, " ", q2.bar, " ", tostring(q2.zzz), " ", err)
        "#);
        assert_eq!(out, [
            "hello world|baz,bla,true|true||",
            "hello world|baz|true||nil",
            "hello world baz nil truncated",
        ]);
    }

    #[test]
    fn argument_errors_use_kongs_messages() {
        for (call, message) in [
            ("kong.request.get_query('x')", "max_args must be a number"),
            ("kong.request.get_query(0)", "max_args must be >= 1"),
            ("kong.request.get_query(1001)", "max_args must be <= 1000"),
            ("kong.request.get_query_arg(1)", "query argument name must be a string"),
            ("kong.request.get_header(nil)", "header name must be a string"),
            ("kong.request.get_headers(0)", "max_headers must be >= 1"),
            ("kong.request.get_headers(1001)", "max_headers must be <= 1000"),
            ("kong.request.get_headers({})", "max_headers must be a number"),
            ("kong.request.get_body('application/x-www-form-urlencoded', 'x')", "max_args must be a number"),
            ("kong.request.get_body('application/x-www-form-urlencoded', 1001)", "max_args must be <= 1000"),
        ] {
            let out = with_body(&[], Some(""), &format!("\n{call}"));
            assert_eq!(last_error(&out), format!("access[1]:2: {message}"), "{call}");
        }
    }

    #[test]
    fn phase_errors_use_kongs_messages() {
        let host = Rc::new(FakeHost::with_request(&[]));
        let (outcome, out, _) = run_in(Phase::HeaderFilter, "kong.request.get_raw_body()", &host, RequestState::default());
        assert_eq!(outcome, PhaseOutcome::Failed);
        assert_eq!(
            last_error(&out),
            "header_filter[1]:1: function cannot be called in header_filter phase (only in: rewrite, access, response, error, admin_api)"
        );
        let (_, out, _) = run_in(Phase::Log, "kong.request.get_body()", &host, RequestState::default());
        assert!(last_error(&out).contains("function cannot be called in log phase"), "{out:?}");
        // Request facts are readable in every phase with a request.
        let (outcome, _, _) = run_in(Phase::Log, "kong.request.get_query(); kong.request.get_uri_captures(); kong.request.get_start_time()", &host, RequestState::default());
        assert_eq!(outcome, PhaseOutcome::Continue);
    }

    #[test]
    fn headers_ignore_case_and_dashes_and_include_host() {
        let out = lines(REQ, r#"
            local h, err = kong.request.get_headers()
            kong.log.info(h.host, " ", h.x_custom_header, " ", h["X-Another"][1], " ", h.x_another[2], " ", tostring(err))
            kong.log.info(kong.request.get_header("Host"), " ", kong.request.get_header("X_ANOTHER"), " ", tostring(h[":path"]))
            local one, err2 = kong.request.get_headers(1)
            kong.log.info(one.host, " ", tostring(one.x_custom_header), " ", err2)
        "#);
        assert_eq!(out, [
            "Example.COM:8443 bla foo bar baz nil",
            "Example.COM:8443 foo bar nil",
            "Example.COM:8443 nil truncated",
        ]);
    }

    #[test]
    fn raw_body_and_parsed_bodies() {
        let src = r#"
            local raw, rerr = kong.request.get_raw_body()
            local body, err, mime = kong.request.get_body()
            kong.log.info(tostring(raw), " ", tostring(rerr), " ", tostring(err), " ", tostring(mime))
            if body then kong.log.info(kong.log.inspect and "" or "", body.a, "|", type(body.b) == "table" and (body.b[1] .. "," .. body.b[2]) or tostring(body.b)) end
        "#;
        let form = with_body(&[("content-type", "application/x-www-form-urlencoded; charset=utf-8")], Some("a=1+2&b=x&b=y"), src);
        assert_eq!(form, ["a=1+2&b=x&b=y nil nil application/x-www-form-urlencoded", "1 2|x,y"]);

        let json = with_body(&[("content-type", "application/json")], Some(r#"{"a":"A","b":[1,2.5]}"#), src);
        assert_eq!(json, [r#"{"a":"A","b":[1,2.5]} nil nil application/json"#, "A|1,2.5"]);

        let bad = with_body(&[("content-type", "application/json")], Some("42"), src);
        assert_eq!(bad, ["42 nil invalid json body application/json"]);

        let missing = with_body(&[], Some("x"), src);
        assert_eq!(missing, ["x nil missing content type nil"]);

        let other = with_body(&[("content-type", "Text/Plain; q=1")], Some("x"), src);
        assert_eq!(other, ["x nil unsupported content type 'Text/Plain; q=1' text/plain"]);

        let unbuffered = with_body(&[("content-type", "application/json")], None, src);
        assert_eq!(unbuffered, ["nil request body was not buffered request body was not buffered application/json"]);

        let empty = with_body(&[], Some(""), "kong.log.info('[', kong.request.get_raw_body(), ']')");
        assert_eq!(empty, ["[]"]);

        let forced = with_body(&[("content-type", "text/plain")], Some("a=1"), "local b, e, m = kong.request.get_body('application/x-www-form-urlencoded') kong.log.info(b.a, ' ', m)");
        assert_eq!(forced, ["1 application/x-www-form-urlencoded"]);
    }

    #[test]
    fn multipart_bodies_as_lua_multipart() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nfirst\r\nline\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\nfile body\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nsecond\r\n--XyZ--\r\n";
        let parts = multipart(body.as_bytes(), b"multipart/form-data; boundary=\"XyZ\"");
        let parts: Vec<(String, String)> = parts.into_iter().map(|(n, v)| (String::from_utf8(n).unwrap(), String::from_utf8(v).unwrap())).collect();
        assert_eq!(parts, [("a".into(), "first\r\nline".into()), ("f".into(), "file body".into()), ("a".into(), "second".into())]);
        assert!(multipart(body.as_bytes(), b"multipart/form-data").is_empty());

        let out = with_body(&[("content-type", "multipart/form-data; boundary=XyZ")], Some(body), r#"
            local b, err, mime = kong.request.get_body()
            kong.log.info(b.a[1], "|", b.a[2], "|", b.f, "|", tostring(err), "|", mime)
        "#);
        assert_eq!(out, ["first\r\nline|second|file body|nil|multipart/form-data"]);
    }

    #[test]
    fn body_over_the_limit_raises() {
        let big = "x".repeat(crate::vm_config::Limits::default().request_body_bytes + 1);
        let out = with_body(&[], Some(&big), "kong.request.get_raw_body()");
        assert!(last_error(&out).contains("request body too large"), "{out:?}");
    }

    #[test]
    fn start_time_and_captures() {
        let host = Rc::new(FakeHost::default());
        host.now.set(1_700_000_000_123_456_789);
        let (_, out, _) = run_in(Phase::Access, "kong.log.info(kong.request.get_start_time())", &host, RequestState::default());
        assert_eq!(out, ["1700000000123"]);
        let request = RequestState { start_time_ms: 1_650_000_000_000, ..RequestState::default() };
        let host = Rc::new(FakeHost::default());
        let (_, out, _) = run_in(Phase::Log, r#"
            kong.log.info(kong.request.get_start_time())
            local c = kong.request.get_uri_captures()
            kong.log.info(type(c.unnamed), " ", type(c.named), " ", #c.unnamed, " ", tostring(next(c.named)))
        "#, &host, request);
        assert_eq!(out, ["1650000000000", "table table 0 nil"]);
    }
}
