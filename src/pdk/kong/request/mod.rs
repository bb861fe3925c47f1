//! `kong.request`: the client's request, as Kong's `kong/pdk/request.lua`.
//!
//! Facts come from the request headers (pseudo-headers `:method`, `:path`, `:scheme`,
//! `:authority` included) and from host properties through [`Need`]. What differs from
//! Kong on proxy-wasm hosts:
//! - `get_forwarded_*`: Kong's default `trusted_ips` is empty, so outside Kong the
//!   `X-Forwarded-*` headers are never trusted and the non-forwarded values are returned;
//!   on Kong the host's own `kong.request.forwarded_*` properties answer.
//! - `get_uri_captures`: no router captures reach a proxy-wasm filter; the result has
//!   Kong's shape, `{ unnamed = {}, named = {} }`, empty unless a chunk set
//!   `ngx.ctx.router_matches.uri_captures`.
//! - `get_raw_body`/`get_body`: the body is the one the glue buffered before the phase
//!   ran (`RequestState::request_body`); when it was not buffered they return `nil` and
//!   "request body was not buffered". A body the host keeps in a temporary file (Kong's
//!   engine, over nginx's `client_body_buffer_size`) answers Kong's errors for a body in a
//!   file, `max_allowed_file_size` deciding which; a body larger than the
//!   `request_body_bytes` limit raises an error.
//!
//! Laid out as Kong's module reads: the scheme, host, port, method and forwarded facts
//! here; [`headers`], [`uri`] (path and query) and [`body`] in their own files.

mod body;
mod headers;
mod uri;

pub use body::*;
pub use headers::*;
pub use uri::*;

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::args::{self, DEFAULT_MAX_ARGS};
use crate::pdk::kong::count_arg;
use crate::pdk::{lua_string, raise, set_function, Pdk};
use crate::phase::kong_phase;
use crate::properties::Need;


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

/// `kong.request.get_forwarded_port()`: Kong's trusted `X-Forwarded-Port`, else the port
/// (the published one where Kong's `port_maps` map it: [`published_port`]).
fn get_forwarded_port<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let port = forwarded(pdk, Need::ForwardedPort)
        .and_then(|p| p.trim().parse::<i64>().ok())
        .or_else(|| server_port(pdk).map(|port| published_port(pdk, port)))
        .map(Value::Integer)
        .unwrap_or(Value::Nil);
    ret(ctx, stack, port)
}

/// Kong's `HOST_PORTS[port] or port`: the port the client used when Kong's `port_maps`
/// (its `host_ports`, [`Need::HostPorts`]) map the one Kong listens on, else `port`.
fn published_port(pdk: &Pdk, port: i64) -> i64 {
    let (host, kind) = host_and_kind(pdk);
    let Some(setting) = Need::HostPorts.read_text(host.as_ref(), kind) else { return port };
    host_ports_lookup(&setting, port).unwrap_or(port)
}

/// `port`'s entry in a `host_ports` value: a JSON object (`{"8000": 80}`) or Kong's
/// `port_maps` list (`80:8000, 443:8443`, host port first).
pub fn host_ports_lookup(setting: &str, port: i64) -> Option<i64> {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(setting) {
        return map.get(&port.to_string()).and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())));
    }
    setting.split(',').find_map(|entry| {
        let (published, listen) = entry.trim().split_once(':')?;
        (listen.trim().parse::<i64>().ok()? == port).then(|| published.trim().parse().ok()).flatten()
    })
}

/// The first value of request header `name` when the client's address (the peer's,
/// `kong.client.get_ip`) is in `trusted_ips` ([`crate::pdk::kong::ip::trusted`]), as
/// Kong's `is_trusted_ip()` guards the `X-Forwarded-*` headers; `None` otherwise.
pub(super) fn trusted_forwarded_header(pdk: &Pdk, name: &[u8]) -> Option<Vec<u8>> {
    let (host, kind) = host_and_kind(pdk);
    let client = Need::RealClientAddress.read_text(host.as_ref(), kind)?;
    if !crate::pdk::kong::ip::trusted(pdk, &client) {
        return None;
    }
    header(pdk, name)
}

/// `kong.request.get_forwarded_prefix()`: the first `X-Forwarded-Prefix` when the client
/// is trusted (see [`trusted_forwarded_header`]), else the prefix Kong's router stripped
/// (Kong's `upstream_x_forwarded_prefix`), `nil` elsewhere or when nothing was stripped.
fn get_forwarded_prefix<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    if let Some(prefix) = trusted_forwarded_header(pdk, b"x-forwarded-prefix") {
        return ret(ctx, stack, text(ctx, &prefix));
    }
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

/// `kong.request.get_start_time()`: when the request arrived, in milliseconds since
/// the Unix epoch.
fn get_start_time<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let ms = start_time_ms(pdk);
    ret(ctx, stack, Value::Integer(ms as i64))
}

/// `kong.request.get_uri_captures([ctx])`: `{ unnamed = {...}, named = {...} }` from
/// `ctx.router_matches.uri_captures` (`ctx` defaults to `ngx.ctx`), number keys in
/// `unnamed` (with `cjson.array_mt`), string keys in `named`, as Kong's `capture_wrap`.
/// Proxy-wasm hosts pass no router captures to filters, so unless a chunk put
/// `router_matches` there both tables are empty.
fn get_uri_captures<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let source = match stack.get(0) {
        Value::Table(t) => Some(t),
        // `ngx.ctx`, only when a chunk has used it (it is made on first use).
        _ => {
            let stashed = pdk.scope().request.lua_tables.iter().find(|(n, _)| *n == "ngx.ctx").map(|(_, t)| t.clone());
            stashed.map(|t| ctx.fetch(&t))
        }
    };
    let captures = match source.map(|t| t.get(ctx, "router_matches")) {
        Some(Value::Table(matches)) => match matches.get(ctx, "uri_captures") {
            Value::Table(c) => Some(c),
            _ => None,
        },
        _ => None,
    };
    let (unnamed, named) = (Table::new(&ctx), Table::new(&ctx));
    if let Some(captures) = captures {
        for (k, v) in captures.iter() {
            match k {
                Value::Integer(_) | Value::Number(_) => unnamed.set(ctx, k, v).ok(),
                Value::String(_) => named.set(ctx, k, v).ok(),
                // Kong logs "unknown capture key type" and goes on.
                _ => None,
            };
        }
    }
    unnamed.set_metatable(&ctx, Some(crate::pdk::json::markers(ctx).array_mt));
    let t = Table::new(&ctx);
    t.set(ctx, "unnamed", unnamed).ok();
    t.set(ctx, "named", named).ok();
    ret(ctx, stack, t)
}

#[cfg(test)]
pub(crate) mod tests;
