//! `ngx.req.*`, `ngx.var`, `ngx.encode_args` and `ngx.decode_args`, as lua-nginx-module
//! (and lua-resty-core) define them, on proxy-wasm request headers and host properties.
//!
//! The request sent upstream is changed through the host's request headers: the query
//! and path through `:path` (`ngx.req.set_uri`, `set_uri_args`, `ngx.var.args = ...`),
//! the method through `:method`. The client's original target stays readable as
//! `ngx.var.request_uri` (kept in `RequestState::original_path`).
//!
//! The body functions work on the body the glue buffered before `rewrite`/`access`
//! (`RequestState::request_body`); `ngx.req.read_body()` is then a no-op,
//! `ngx.req.get_body_file()` is always `nil` (a body nginx wrote to a temporary file
//! cannot be read through proxy-wasm: `get_body_data` gives `nil` for it, as nginx) and
//! `ngx.req.discard_body()` does nothing (the body is proxied as usual).
//! `ngx.req.set_body_data` replaces the buffered body and sets
//! `RequestState::request_body_changed`: the glue sends it upstream with a matching
//! `Content-Length`.
//!
//! Header and URI setters are accepted in every phase, as nginx accepts them, but only
//! change the upstream request in `rewrite` and `access` (before it is sent).

use piccolo::{CallbackReturn, Context, Error, Execution, MetaMethod, Stack, Table, Value};

use crate::codec::cookie;
use crate::pdk::args::{self, arg_type_name};
use crate::pdk::kong::request::{self, header, header_list, normalize_header_name};
use crate::pdk::{function, lua_string, raise, set_function, Pdk};
use crate::properties::Need;

/// Functions whose use means a chunk reads or replaces the request body: the glue
/// buffers the body before `rewrite`/`access` when a chunk's source mentions one of them.
pub const BODY_FUNCTIONS: &[&str] = &[
    "get_raw_body",
    "get_body",
    "read_body",
    "get_body_data",
    "get_post_args",
    "set_body_data",
    "request_body",
    "set_raw_body",
    "set_body",
];

/// nginx's method numbers (`ngx.HTTP_GET` ...), as `ngx.req.set_method` takes them.
pub const METHODS: [(&str, i64); 15] = [
    ("GET", 0x0002),
    ("HEAD", 0x0004),
    ("POST", 0x0008),
    ("PUT", 0x0010),
    ("DELETE", 0x0020),
    ("MKCOL", 0x0040),
    ("COPY", 0x0080),
    ("MOVE", 0x0100),
    ("OPTIONS", 0x0200),
    ("PROPFIND", 0x0400),
    ("PROPPATCH", 0x0800),
    ("LOCK", 0x1000),
    ("UNLOCK", 0x2000),
    ("PATCH", 0x4000),
    ("TRACE", 0x8000),
];

/// lua-nginx-module's default for `max_headers`.
const DEFAULT_MAX_HEADERS: usize = 100;

type Ret<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

fn ret<'gc>(ctx: Context<'gc>, mut stack: Stack<'gc, '_>, value: impl piccolo::IntoMultiValue<'gc>) -> Ret<'gc> {
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

/// Adds `req`, `var`, `encode_args`, `decode_args` and the `HTTP_<METHOD>` numbers to
/// the `ngx` table.
pub fn install<'gc>(ctx: Context<'gc>, ngx: Table<'gc>, pdk: &Pdk) {
    let req = Table::new(&ctx);
    set_function(ctx, req, "get_headers", pdk, get_headers);
    set_function(ctx, req, "get_method", pdk, get_method);
    set_function(ctx, req, "get_uri_args", pdk, get_uri_args);
    set_function(ctx, req, "get_post_args", pdk, get_post_args);
    set_function(ctx, req, "read_body", pdk, read_body);
    set_function(ctx, req, "discard_body", pdk, discard_body);
    set_function(ctx, req, "get_body_data", pdk, get_body_data);
    set_function(ctx, req, "get_body_file", pdk, get_body_file);
    set_function(ctx, req, "set_body_data", pdk, set_body_data);
    set_function(ctx, req, "set_header", pdk, set_header);
    set_function(ctx, req, "clear_header", pdk, clear_header);
    set_function(ctx, req, "set_uri", pdk, set_uri);
    set_function(ctx, req, "set_uri_args", pdk, set_uri_args);
    set_function(ctx, req, "set_method", pdk, set_method);
    set_function(ctx, req, "http_version", pdk, http_version);
    set_function(ctx, req, "start_time", pdk, start_time);
    set_function(ctx, req, "is_internal", pdk, is_internal);
    set_function(ctx, req, "raw_header", pdk, raw_header);
    set_function(ctx, req, "init_body", pdk, init_body);
    set_function(ctx, req, "append_body", pdk, append_body);
    set_function(ctx, req, "finish_body", pdk, finish_body);
    ngx.set(ctx, "req", req).ok();
    ngx.set(ctx, "var", var_table(ctx, pdk)).ok();
    set_function(ctx, ngx, "encode_args", pdk, args::ngx_encode_args);
    set_function(ctx, ngx, "decode_args", pdk, args::ngx_decode_args);
    for (name, number) in METHODS {
        ngx.set(ctx, ctx.intern(format!("HTTP_{name}").as_bytes()), number).ok();
    }
}

/// `max_args`/`max_headers` of the `ngx.req.get_*` functions: `nil` for the default,
/// 0 or less for no limit.
fn limit_arg<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, value: Value<'gc>, default: usize, func: &str) -> Result<usize, Error<'gc>> {
    match value {
        Value::Nil => Ok(default),
        v => match args::max_args_of(v) {
            Ok(n) => Ok(n),
            Err(e) => raise(ctx, exec, &format!("bad argument #1 to '{func}' ({e})")),
        },
    }
}

/// `ngx.req.get_headers(max_headers?, raw?)`: names lowercase (lookups accept any case
/// and `_` for `-`, unless `raw`), repeated headers as arrays; a second value
/// `"truncated"` past `max_headers` (default 100, 0 = no limit).
fn get_headers<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let max = limit_arg(ctx, &exec, stack.get(0), DEFAULT_MAX_HEADERS, "get_headers")?;
    let raw = stack.get(1).to_bool();
    let headers = header_list(pdk);
    let limit = if max == 0 { headers.len() } else { max };
    let truncated = headers.len() > limit;
    let table = request::header_table(ctx, &headers, limit as i64);
    if raw {
        table.set_metatable(&ctx, None);
    }
    let err = if truncated { lua_string(ctx, b"truncated") } else { Value::Nil };
    ret(ctx, stack, (table, err))
}

/// `ngx.req.get_method()`: the method the upstream gets (after `set_method`).
fn get_method<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let m = request::method(pdk);
    ret(ctx, stack, lua_string(ctx, &m))
}

/// `ngx.req.get_uri_args(max_args?, tab?)`: the current query decoded (see
/// [`args::decode`]), into `tab` when given; `"truncated"` second past `max_args`.
fn get_uri_args<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let max = limit_arg(ctx, &exec, stack.get(0), args::DEFAULT_MAX_ARGS, "get_uri_args")?;
    let query = request::current_query(pdk).unwrap_or_default();
    let decoded = args::decode(&query, max);
    let table = match stack.get(1) {
        Value::Table(t) => {
            let keys: Vec<Value> = t.iter().map(|(k, _)| k).collect();
            for k in keys {
                t.set_value(&ctx, k, Value::Nil).ok();
            }
            args::fill_table(ctx, t, &decoded.pairs);
            t
        }
        _ => args::to_table(ctx, &decoded.pairs),
    };
    let err = if decoded.truncated { lua_string(ctx, b"truncated") } else { Value::Nil };
    ret(ctx, stack, (table, err))
}

/// `ngx.req.get_post_args(max_args?)`: the buffered body decoded as a form; raises
/// when the body was not buffered (nginx: "no request body found"); `nil, "request body in
/// temp file not supported"` for a body the host wrote to a temp file, as nginx.
fn get_post_args<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let max = limit_arg(ctx, &exec, stack.get(0), args::DEFAULT_MAX_ARGS, "get_post_args")?;
    if request::in_file(pdk).is_some() {
        return ret(ctx, stack, (Value::Nil, lua_string(ctx, request::IN_TEMP_FILE.as_bytes())));
    }
    let body = match request::body(pdk) {
        Ok(Some(b)) => b,
        Ok(None) => return raise(ctx, &exec, "no request body found (the request body was not buffered)"),
        Err(e) => return raise(ctx, &exec, &e),
    };
    let decoded = args::decode(&body, max);
    let table = args::to_table(ctx, &decoded.pairs);
    let err = if decoded.truncated { lua_string(ctx, b"truncated") } else { Value::Nil };
    ret(ctx, stack, (table, err))
}

/// `ngx.req.read_body()`: nothing to do, the glue buffered the body already.
fn read_body<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    ret(ctx, stack, ())
}

/// `ngx.req.discard_body()`: a no-op; the body is proxied as usual.
fn discard_body<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    ret(ctx, stack, ())
}

/// `ngx.req.get_body_data(max_bytes?)`: the buffered body, `nil` when it is empty or
/// was not buffered (as nginx); at most `max_bytes` bytes when given.
fn get_body_data<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let max = match stack.get(0) {
        Value::Nil => None,
        v => match v.to_integer() {
            Some(n) if n > 0 && !matches!(v, Value::String(_)) => Some(n as usize),
            _ => {
                return raise(ctx, &exec, &format!(
                    "bad argument #1 to 'get_body_data' (positive number expected, got {})",
                    crate::lua::format::display(v)
                ))
            }
        },
    };
    let body = match request::body(pdk) {
        Ok(b) => b,
        Err(e) => return raise(ctx, &exec, &e),
    };
    let value = match body {
        Some(b) if !b.is_empty() => {
            let end = max.map_or(b.len(), |m| m.min(b.len()));
            lua_string(ctx, &b[..end])
        }
        _ => Value::Nil,
    };
    ret(ctx, stack, value)
}

/// `ngx.req.get_body_file()`: always `nil`; proxy-wasm names no temp file (nginx's body
/// in a file reads as `nil` from `get_body_data` and the PDK answers Kong's error for it).
fn get_body_file<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    ret(ctx, stack, Value::Nil)
}

/// `ngx.req.set_body_data(data)`: replaces the request body sent upstream. Errors:
/// not a string, body not buffered ("request body not read"), over the
/// `request_body_bytes` limit.
fn set_body_data<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let data = match stack.get(0) {
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => crate::lua::format::number(v).into_bytes(),
        other => {
            return raise(ctx, &exec, &format!(
                "bad argument #1 to 'set_body_data' (string expected, got {})",
                arg_type_name(other)
            ))
        }
    };
    let limit = crate::lua::limits::current().request_body_bytes;
    if data.len() > limit {
        return raise(ctx, &exec, &format!("request body too large ({} bytes, limit {limit})", data.len()));
    }
    let mut scope = pdk.scope_mut();
    if scope.request.request_body.is_none() {
        drop(scope);
        return raise(ctx, &exec, "request body not read");
    }
    scope.request.request_body = Some(data);
    scope.request.request_body_changed = true;
    drop(scope);
    ret(ctx, stack, ())
}

/// The host's name for a request header set through `ngx.req`: `host` is `:authority`.
fn wire_name(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    if name == "host" {
        ":authority".into()
    } else {
        name
    }
}

/// nginx escapes control bytes in header values it is given (`%00`-`%08`, `%0A`-`%1F`,
/// `%7F`), so a value can never split a header.
fn escape_header_value(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        if (b < 0x20 && b != b'\t') || b == 0x7f {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

fn header_name_arg(value: Value<'_>) -> Vec<u8> {
    match value {
        Value::String(s) => s.as_bytes().to_vec(),
        other => crate::lua::format::display(other).into_bytes(),
    }
}

fn value_text<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, value: Value<'gc>) -> Result<Vec<u8>, Error<'gc>> {
    let bytes = match value {
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_) | Value::Boolean(_)) => crate::lua::format::display(v).into_bytes(),
        other => return raise(ctx, exec, &format!("invalid header value: got {}", other.type_name())),
    };
    let limit = crate::lua::limits::current().header_value_bytes;
    if bytes.len() > limit {
        return raise(ctx, exec, &format!("header value too long ({} bytes, limit {limit})", bytes.len()));
    }
    Ok(escape_header_value(&bytes))
}

/// `ngx.req.set_header(name, value)`: replaces the request header; `nil` or an empty
/// table removes it, a table sets one line per element. `Host` sets `:authority`.
fn set_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let name = wire_name(&header_name_arg(stack.get(0)));
    if name.is_empty() {
        return raise(ctx, &exec, "bad argument #1 to 'set_header' (header name is empty)");
    }
    let values = match stack.get(1) {
        Value::Nil | Value::Boolean(false) => Vec::new(),
        Value::Table(t) => {
            let mut values = Vec::new();
            for i in 1..=t.length() {
                values.push(value_text(ctx, &exec, t.get(ctx, i))?);
            }
            values
        }
        v => vec![value_text(ctx, &exec, v)?],
    };
    let host = pdk.scope().host.clone();
    host.set_request_header(&name, None);
    for v in values {
        host.add_request_header(&name, &v);
    }
    ret(ctx, stack, ())
}

/// `ngx.req.clear_header(name)`: removes every line of the request header.
fn clear_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let name = wire_name(&header_name_arg(stack.get(0)));
    if name != ":authority" {
        pdk.scope().host.set_request_header(&name, None);
    }
    ret(ctx, stack, ())
}

/// `ngx.req.set_uri(uri, jump?, binary?)`: replaces the path sent upstream (the query
/// is kept). `uri` is unescaped text: nginx escapes space, `#`, `%`, `?` and non-ASCII
/// bytes when it sends it. Errors as lua-nginx-module: empty uri, control bytes unless
/// `binary`; `jump = true` (an internal redirect) is not possible on proxy-wasm hosts.
fn set_uri<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let uri = match stack.get(0) {
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => crate::lua::format::number(v).into_bytes(),
        other => {
            return raise(ctx, &exec, &format!(
                "bad argument #1 to 'set_uri' (string expected, got {})",
                arg_type_name(other)
            ))
        }
    };
    if uri.is_empty() {
        return raise(ctx, &exec, "attempt to use zero-length uri");
    }
    if stack.get(1).to_bool() {
        return raise(ctx, &exec, "ngx.req.set_uri: jump (an internal redirect) is not supported on proxy-wasm hosts");
    }
    if !stack.get(2).to_bool() {
        if let Some(&b) = uri.iter().find(|&&b| b < 0x20 || b == 0x7f) {
            return raise(ctx, &exec, &format!(
                "unsafe byte \"0x{b:02x}\" in uri \"{}\"",
                String::from_utf8_lossy(&args::escape_path(&uri))
            ));
        }
    }
    let mut target = args::escape_path(&uri);
    if let Some(query) = request::current_query(pdk) {
        if !query.is_empty() {
            target.push(b'?');
            target.extend_from_slice(&query);
        }
    }
    request::set_current_path(pdk, &target);
    ret(ctx, stack, ())
}

/// `ngx.req.set_uri_args(args)`: replaces the query sent upstream: a string (or number)
/// as is, a table encoded as `ngx.encode_args`; an empty result removes the `?`.
fn set_uri_args<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let query = match stack.get(0) {
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => crate::lua::format::number(v).into_bytes(),
        Value::Table(t) => match args::encode(t) {
            Ok(q) => q,
            Err(e) => return raise(ctx, &exec, &e),
        },
        other => {
            return raise(ctx, &exec, &format!(
                "bad argument #1 to 'set_uri_args' (string, number, or table expected, but got {})",
                arg_type_name(other)
            ))
        }
    };
    request::set_current_query(pdk, Some(&query));
    ret(ctx, stack, ())
}

/// `ngx.req.set_method(ngx.HTTP_POST)`: changes the method sent upstream. Errors as
/// lua-resty-core: "bad method number", "unsupported HTTP method: <n>".
fn set_method<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let number = match stack.get(0) {
        v @ (Value::Integer(_) | Value::Number(_)) => v,
        _ => return raise(ctx, &exec, "bad method number"),
    };
    let id = number.to_integer();
    let Some((name, _)) = METHODS.iter().find(|(_, n)| Some(*n) == id) else {
        return raise(ctx, &exec, &format!("unsupported HTTP method: {}", crate::lua::format::number(number)));
    };
    pdk.scope().host.set_request_header(":method", Some(name.as_bytes()));
    ret(ctx, stack, ())
}

/// `ngx.req.http_version()`: 1.0, 1.1, 2.0 ... or `nil`.
fn http_version<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let v = request::http_version(pdk).map(Value::Number).unwrap_or(Value::Nil);
    ret(ctx, stack, v)
}

/// `ngx.req.start_time()`: when the request arrived, in seconds since the epoch with
/// millisecond precision.
fn start_time<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let ms = request::start_time_ms(pdk);
    ret(ctx, stack, Value::Number(ms as f64 / 1000.0))
}

/// `ngx.req.is_internal()`: always `false`, there are no internal redirects here.
fn is_internal<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    ret(ctx, stack, false)
}

/// `ngx.req.raw_header([no_request_line])`: the request head as HTTP/1.1 text, rebuilt
/// from the host's header map (`METHOD PATH HTTP/x.y`, then `name: value` lines, then an
/// empty line, CRLF-separated). proxy-wasm hosts hand over lowercase names and no
/// original bytes, so names are lowercase and `Host` comes from `:authority`.
fn raw_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let no_request_line = stack.get(0).to_bool();
    let headers = pdk.scope().host.request_headers();
    let get = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let mut out = Vec::new();
    if !no_request_line {
        let version = request::http_version(pdk).unwrap_or(1.1);
        out.extend(get(":method").unwrap_or_else(|| b"GET".to_vec()));
        out.push(b' ');
        out.extend(get(":path").unwrap_or_else(|| b"/".to_vec()));
        out.extend(format!(" HTTP/{version:.1}\r\n").into_bytes());
    }
    if let Some(host) = get(":authority") {
        if get("host").is_none() {
            out.extend_from_slice(b"host: ");
            out.extend(host);
            out.extend_from_slice(b"\r\n");
        }
    }
    for (name, value) in headers.iter().filter(|(n, _)| !n.starts_with(':')) {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    ret(ctx, stack, Value::String(piccolo::String::from_slice(&ctx, &out)))
}

/// The buffered body `init_body`/`append_body`/`finish_body` build on: the request body
/// must have been read (buffered before the phase), as nginx requires.
fn new_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: &Execution<'gc, '_>, edit: impl FnOnce(&mut Vec<u8>)) -> Result<(), piccolo::Error<'gc>> {
    let limit = crate::lua::limits::current().request_body_bytes;
    let mut scope = pdk.scope_mut();
    let Some(body) = scope.request.request_body.as_mut() else {
        drop(scope);
        return raise(ctx, exec, "request body not read");
    };
    edit(body);
    if body.len() > limit {
        let len = body.len();
        body.truncate(0);
        drop(scope);
        return raise(ctx, exec, &format!("request body too large ({len} bytes, limit {limit})"));
    }
    scope.request.request_body_changed = true;
    Ok(())
}

/// `ngx.req.init_body()`: starts a new, empty request body (what goes upstream once the
/// phase ends); `append_body` adds to it, `finish_body` ends it.
fn init_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    new_body(pdk, ctx, &exec, Vec::clear)?;
    ret(ctx, stack, ())
}

/// `ngx.req.append_body(data)`: appends `data` (a string) to the body `init_body` began.
fn append_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let data = match stack.get(0) {
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => crate::lua::format::number(v).into_bytes(),
        other => {
            return raise(ctx, &exec, &format!("bad argument #1 to 'append_body' (string expected, got {})", arg_type_name(other)))
        }
    };
    new_body(pdk, ctx, &exec, |body| body.extend_from_slice(&data))?;
    ret(ctx, stack, ())
}

/// `ngx.req.finish_body()`: ends the body `init_body` began; it goes upstream with its
/// own `Content-Length`.
fn finish_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    new_body(pdk, ctx, &exec, |_| {})?;
    ret(ctx, stack, ())
}

// ---------------------------------------------------------------------------------
// ngx.var

fn var_table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    let meta = Table::new(&ctx);
    meta.set(ctx, MetaMethod::Index, function(ctx, pdk, var_get)).ok();
    meta.set(ctx, MetaMethod::NewIndex, function(ctx, pdk, var_set)).ok();
    t.set_metatable(&ctx, Some(meta));
    t
}

/// The value of `$arg_<name>`: the raw (not decoded) value of the first `name=` pair,
/// the name matched case-insensitively, as nginx's `ngx_http_arg`.
fn arg(query: &[u8], name: &[u8]) -> Option<Vec<u8>> {
    query.split(|&b| b == b'&').find_map(|pair| {
        let eq = pair.iter().position(|&b| b == b'=')?;
        pair[..eq].eq_ignore_ascii_case(name).then(|| pair[eq + 1..].to_vec())
    })
}

/// Every value of request header `name`, joined as nginx's `$http_<name>` joins them
/// (`; ` for `Cookie`, `, ` otherwise).
fn joined_header(pdk: &Pdk, name: &str) -> Option<Vec<u8>> {
    let name = normalize_header_name(name.as_bytes());
    let values: Vec<Vec<u8>> = header_list(pdk).into_iter().filter(|(n, _)| n.eq_ignore_ascii_case(&name)).map(|(_, v)| v).collect();
    if values.is_empty() {
        return None;
    }
    let separator: &[u8] = if name == "cookie" { b"; " } else { b", " };
    Some(values.join(separator))
}

fn need_text(pdk: &Pdk, need: Need) -> Option<Vec<u8>> {
    let scope = pdk.scope();
    need.read_text(scope.host.as_ref(), scope.host_kind).map(String::into_bytes)
}

/// Reads nginx variable `name` (lowercase); `None` for an unknown or absent variable.
pub fn variable(pdk: &Pdk, name: &str) -> Option<Vec<u8>> {
    if let Some(h) = name.strip_prefix("http_") {
        return joined_header(pdk, h);
    }
    if let Some(c) = name.strip_prefix("cookie_") {
        return cookie::value(&joined_header(pdk, "cookie")?, c.as_bytes());
    }
    if let Some(a) = name.strip_prefix("arg_") {
        return arg(&request::current_query(pdk)?, a.as_bytes());
    }
    match name {
        "uri" => {
            let path = request::current_path(pdk);
            Some(crate::codec::path::nginx_uri(request::split_query(&path).0))
        }
        "document_uri" => variable(pdk, "uri"),
        "args" | "query_string" => request::current_query(pdk),
        "is_args" => Some(if request::current_query(pdk).is_some_and(|q| !q.is_empty()) { b"?".to_vec() } else { Vec::new() }),
        "request_uri" => Some(request::request_uri(pdk)),
        "upstream_uri" => Some(request::current_path(pdk)),
        "request_method" => Some(request::method(pdk)),
        "host" => Some(request::host_name(pdk)),
        "hostname" => need_text(pdk, Need::Hostname),
        "scheme" => Some(request::scheme(pdk).into_bytes()),
        "https" => Some(if request::scheme(pdk) == "https" { b"on".to_vec() } else { Vec::new() }),
        "server_port" => request::server_port(pdk).map(|p| p.to_string().into_bytes()),
        "server_protocol" => need_text(pdk, Need::Protocol),
        "remote_addr" => need_text(pdk, Need::ClientAddress),
        "binary_remote_addr" => {
            let ip: std::net::IpAddr = String::from_utf8(need_text(pdk, Need::ClientAddress)?).ok()?.parse().ok()?;
            Some(match ip {
                std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
                std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
            })
        }
        "remote_port" => need_text(pdk, Need::ClientPort),
        "request_id" => need_text(pdk, Need::RequestId).or_else(|| header(pdk, b"x-request-id")),
        "content_type" => header(pdk, b"content-type"),
        "content_length" => header(pdk, b"content-length"),
        "request_body" => request::body(pdk).ok().flatten().filter(|b| !b.is_empty()),
        // nginx's time variables (ngx_http_variables.c): `$msec` the current time in
        // seconds with millisecond resolution, `$request_time` the seconds since the
        // request arrived, both "%T.%03M"; from the host's clock and `request.time`.
        "msec" => {
            let ms = pdk.scope().host.now_nanos() / 1_000_000;
            Some(format!("{}.{:03}", ms / 1000, ms % 1000).into_bytes())
        }
        "request_time" => {
            let (now, start) = {
                let scope = pdk.scope();
                (scope.host.now_nanos() / 1_000_000, Need::RequestTime.read(scope.host.as_ref(), scope.host_kind))
            };
            let start = start.and_then(|b| crate::properties::time_ms(&b))?;
            let ms = now.saturating_sub(start);
            Some(format!("{}.{:03}", ms / 1000, ms % 1000).into_bytes())
        }
        // `$status`: the response status, "000" before there is one
        // (ngx_http_variable_status); Kong's engine reads nginx's own below.
        "status" if !pdk.scope().host_kind.is_nginx() => {
            let status = crate::pdk::kong::response::current_status(&pdk.scope());
            Some(if status > 0 { status.to_string().into_bytes() } else { b"000".to_vec() })
        }
        // `$bytes_sent`: what the client got, headers included (Kong's nginx variable;
        // Envoy's `response.total_size`), known once the response went out.
        "bytes_sent" => need_text(pdk, Need::ResponseSize),
        // The upstream variables on hosts without nginx's (Kong's engine reads them below):
        // `$upstream_addr` from Envoy's `upstream.address`, `$upstream_status` as the
        // upstream's response headers came, `$upstream_header_time` from the request going
        // upstream to those headers, `$upstream_response_time` to now in `log` (the
        // response is complete then); "%T.%03M" seconds. No host tells the connect time:
        // `$upstream_connect_time` stays nil. All nil for a response the filter made.
        "upstream_addr" | "upstream_status" | "upstream_header_time" | "upstream_response_time"
            if !pdk.scope().host_kind.is_nginx() =>
        {
            let scope = pdk.scope();
            let request = &scope.request;
            let (started, answered) = (request.access_ended_ms?, request.response_started_ms?);
            let seconds = |ms: u64| format!("{}.{:03}", ms / 1000, ms % 1000).into_bytes();
            match name {
                "upstream_addr" => scope.host.property(&["upstream", "address"]),
                "upstream_status" => request.upstream_status.map(|s| s.to_string().into_bytes()),
                "upstream_header_time" => Some(seconds(answered.saturating_sub(started))),
                _ => {
                    let end = if scope.phase == crate::phase::Phase::Log { scope.host.now_nanos() / 1_000_000 } else { answered };
                    Some(seconds(end.saturating_sub(started)))
                }
            }
        }
        // The TLS variables, from Envoy's connection attributes where nginx's are absent.
        "ssl_server_name" => need_text(pdk, Need::TlsServerName),
        "ssl_protocol" => need_text(pdk, Need::TlsVersion),
        "ssl_client_s_dn" => need_text(pdk, Need::PeerSubject),
        "request" => {
            let protocol = need_text(pdk, Need::Protocol).unwrap_or_else(|| b"HTTP/1.1".to_vec());
            let mut line = request::method(pdk);
            line.push(b' ');
            line.extend(request::request_uri(pdk));
            line.push(b' ');
            line.extend(protocol);
            Some(line)
        }
        _ => {
            // Kong's Wasm engine exposes every nginx variable as an `ngx.*` property.
            let scope = pdk.scope();
            scope.host_kind.is_nginx().then(|| scope.host.property(&["ngx", name])).flatten()
        }
    }
}

fn var_name<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, key: Value<'gc>) -> Result<String, Error<'gc>> {
    match key {
        Value::String(s) => Ok(String::from_utf8_lossy(s.as_bytes()).to_ascii_lowercase()),
        other => raise(ctx, exec, &format!("bad variable name: expected string, got {}", other.type_name())),
    }
}

/// `ngx.var.<name>`: the variable's value as a string, `nil` when absent or unknown.
fn var_get<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let name = var_name(ctx, &exec, stack.get(1))?;
    let value = variable(pdk, &name).map(|v| lua_string(ctx, &v)).unwrap_or(Value::Nil);
    ret(ctx, stack, value)
}

/// `ngx.var.<name> = value`: `args` (and Kong's `upstream_uri`) change the upstream
/// request (`nil` or `""` clears the query); on Kong other variables go to the host's
/// `ngx.*` properties; anything else fails as nginx's "variable not found for writing".
fn var_set<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let name = var_name(ctx, &exec, stack.get(1))?;
    let value = match stack.get(2) {
        Value::Nil => None,
        Value::String(s) => Some(s.as_bytes().to_vec()),
        v @ (Value::Integer(_) | Value::Number(_)) => Some(crate::lua::format::number(v).into_bytes()),
        other => {
            return raise(ctx, &exec, &format!(
                "bad variable value: expected string, number or nil, got {}",
                other.type_name()
            ))
        }
    };
    match name.as_str() {
        "args" | "query_string" => request::set_current_query(pdk, value.as_deref()),
        "upstream_uri" => {
            let Some(target) = value.filter(|v| !v.is_empty()) else {
                return raise(ctx, &exec, "ngx.var.upstream_uri must be a non-empty string");
            };
            request::set_current_path(pdk, &target);
        }
        // Kong's nginx template sends these as `proxy_set_header X-Forwarded-*
        // $upstream_x_forwarded_*` (an empty value omits the header); hosts without
        // nginx variables get the request header itself.
        forwarded if forwarded.starts_with("upstream_x_forwarded_") && !pdk.scope().host_kind.is_nginx() => {
            let header = format!("x-forwarded-{}", forwarded["upstream_x_forwarded_".len()..].replace('_', "-"));
            pdk.scope().host.set_request_header(&header, value.as_deref().filter(|v| !v.is_empty()));
        }
        _ => {
            let scope = pdk.scope();
            let written = scope.host_kind.is_nginx() && scope.host.set_property(&["ngx", &name], value.as_deref());
            drop(scope);
            if !written {
                return raise(ctx, &exec, &format!(
                    "variable \"{name}\" not found for writing; maybe it is a built-in variable that is not \
                     changeable or you forgot to use \"set ${name} '';\" in the config file to define it first"
                ));
            }
        }
    }
    ret(ctx, stack, ())
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::host::Host;
    use crate::pdk::kong::request::tests::{lines, run_in};
    use crate::pdk::testing::FakeHost;
    use crate::phase::Phase;
    use crate::runtime::{PhaseOutcome, RequestState};

    const REQ: &[(&str, &str)] = &[
        (":method", "GET"),
        (":path", "/a%20b/./c//d?x=1&y=a+b&Flag&x=2"),
        (":authority", "Api.Test:8000"),
        (":scheme", "http"),
        ("x-foo", "bar"),
        ("cookie", "sid=abc; theme=dark"),
        ("accept", "a"),
        ("accept", "b"),
    ];

    fn access(headers: &[(&str, &str)], source: &str) -> (Vec<String>, Rc<FakeHost>, RequestState) {
        access_with(headers, RequestState::default(), source)
    }

    fn access_with(headers: &[(&str, &str)], request: RequestState, source: &str) -> (Vec<String>, Rc<FakeHost>, RequestState) {
        let host = Rc::new(FakeHost::with_request(headers));
        let (_, out, request) = run_in(Phase::Access, source, &host, request);
        (out, host, request)
    }

    fn header(host: &FakeHost, name: &str) -> Option<String> {
        host.request_header(name).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn ngx_var_reads_request_facts() {
        let out = lines(REQ, r#"
            local v = ngx.var
            kong.log.info(v.uri, "|", v.args, "|", v.is_args, "|", v.request_uri, "|", v.request_method)
            kong.log.info(v.host, "|", v.scheme, "|", v.server_port, "|", v.http_x_foo, "|", v.HTTP_X_FOO, "|", v.http_accept)
            kong.log.info(v.cookie_theme, "|", v.arg_y, "|", v.arg_X, "|", tostring(v.arg_flag), "|", tostring(v.nope), "|", tostring(v.http_nope))
        "#);
        assert_eq!(out, [
            "/a b/c/d|x=1&y=a+b&Flag&x=2|?|/a%20b/./c//d?x=1&y=a+b&Flag&x=2|GET",
            "api.test|http|8000|bar|bar|a, b",
            "dark|a+b|1|nil|nil|nil",
        ]);
        let no_query = lines(&[(":path", "/p")], "kong.log.info(tostring(ngx.var.args), '|', ngx.var.is_args, '|', kong.request.get_raw_query(), '|')");
        assert_eq!(no_query, ["nil|||"]);
    }

    #[test]
    fn ngx_var_reads_properties() {
        let host = Rc::new(
            FakeHost::with_request(&[(":path", "/")])
                .with_property("source.address", "10.0.0.7:5000")
                .with_property("request.id", "rid-1")
                .with_property("node.metadata.hostname", "node-a"),
        );
        let (_, out, _) = run_in(Phase::Log, r#"
            kong.log.info(ngx.var.remote_addr, " ", ngx.var.request_id, " ", ngx.var.hostname, " ", #ngx.var.binary_remote_addr)
        "#, &host, RequestState::default());
        assert_eq!(out, ["10.0.0.7 rid-1 node-a 4"]);
    }

    #[test]
    fn ngx_var_args_nil_clears_the_upstream_query() {
        let (out, host, request) = access(REQ, "ngx.var.args = nil\nkong.log.info(tostring(ngx.var.args), ' ', ngx.var.request_uri)");
        assert_eq!(header(&host, ":path").as_deref(), Some("/a%20b/./c//d"));
        assert_eq!(out, ["nil /a%20b/./c//d?x=1&y=a+b&Flag&x=2"]);
        assert_eq!(request.original_path.as_deref(), Some(&b"/a%20b/./c//d?x=1&y=a+b&Flag&x=2"[..]));
        let (_, host, _) = access(REQ, "ngx.var.args = 'q=1'");
        assert_eq!(header(&host, ":path").as_deref(), Some("/a%20b/./c//d?q=1"));
        let (_, host, _) = access(REQ, "ngx.var.args = ''");
        assert_eq!(header(&host, ":path").as_deref(), Some("/a%20b/./c//d"));
    }

    #[test]
    fn ngx_var_unknown_write_fails_as_nginx() {
        let (out, _, _) = access(REQ, "\nngx.var.foo = 'x'");
        assert_eq!(
            out.last().unwrap(),
            "access[1]:2: variable \"foo\" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use \"set $foo '';\" in the config file to define it first"
        );
        let (out, _, _) = access(REQ, "ngx.var.args = {}");
        assert!(out.last().unwrap().contains("bad variable value"), "{out:?}");
    }

    #[test]
    fn get_headers_and_method() {
        let out = lines(REQ, r#"
            local h, err = ngx.req.get_headers()
            kong.log.info(h.host, " ", h.X_Foo, " ", h.accept[2], " ", tostring(err), " ", ngx.req.get_method())
            local raw = ngx.req.get_headers(0, true)
            kong.log.info(tostring(raw.X_Foo), " ", raw["x-foo"])
            local two, err2 = ngx.req.get_headers(2)
            kong.log.info(two.host, " ", two["x-foo"], " ", tostring(two.cookie), " ", err2)
        "#);
        assert_eq!(out, ["Api.Test:8000 bar b nil GET", "nil bar", "Api.Test:8000 bar nil truncated"]);
        let (out, _, _) = access(REQ, "\nngx.req.get_headers('many')");
        assert_eq!(out.last().unwrap(), "access[1]:2: bad argument #1 to 'get_headers' (number expected, got string)");
    }

    #[test]
    fn uri_args_get_and_set() {
        let out = lines(REQ, r#"
            local a = ngx.req.get_uri_args()
            kong.log.info(a.x[1], a.x[2], " ", a.y, " ", tostring(a.Flag))
            local t = { stale = 1 }
            local same = ngx.req.get_uri_args(1, t)
            kong.log.info(tostring(same == t), " ", tostring(t.stale), " ", t.x, " ", tostring(t.y))
            local d = ngx.decode_args("a=1&a=2&b&c=%41", 2)
            kong.log.info(d.a[1], d.a[2], " ", tostring(d.b), " ", tostring(d.c))
            kong.log.info(ngx.encode_args({ k = { "1", true, false } }))
        "#);
        assert_eq!(out, ["12 a b true", "true nil 1 nil", "12 nil nil", "k=1&k"]);

        let (_, host, _) = access(REQ, "ngx.req.set_uri_args({ q = 'a b&c' })");
        assert_eq!(header(&host, ":path").as_deref(), Some("/a%20b/./c//d?q=a%20b%26c"));
        let (out, host, _) = access(REQ, "ngx.req.set_uri_args('raw=%20')\nkong.log.info(kong.request.get_raw_query(), ' ', kong.request.get_path_with_query())");
        assert_eq!(header(&host, ":path").as_deref(), Some("/a%20b/./c//d?raw=%20"));
        assert_eq!(out, ["raw=%20 /a%20b/./c//d?x=1&y=a+b&Flag&x=2"]);
        let (out, _, _) = access(REQ, "\nngx.req.set_uri_args(true)");
        assert_eq!(out.last().unwrap(), "access[1]:2: bad argument #1 to 'set_uri_args' (string, number, or table expected, but got boolean)");
        let (out, _, _) = access(REQ, "\nngx.encode_args('x')");
        assert_eq!(out.last().unwrap(), "access[1]:2: bad argument #1 to 'encode_args' (table expected, got string)");
        let (out, _, _) = access(REQ, "\nngx.encode_args({ [1] = 'x' })");
        assert_eq!(out.last().unwrap(), "access[1]:2: attempt to use a non-string key in the \"args\" option table");
    }

    #[test]
    fn set_uri_and_set_method() {
        let (_, host, _) = access(REQ, "ngx.req.set_uri('/new path?')\nngx.req.set_method(ngx.HTTP_POST)");
        assert_eq!(header(&host, ":path").as_deref(), Some("/new%20path%3F?x=1&y=a+b&Flag&x=2"));
        assert_eq!(header(&host, ":method").as_deref(), Some("POST"));
        for (call, message) in [
            ("ngx.req.set_uri('')", "attempt to use zero-length uri"),
            ("ngx.req.set_uri({})", "bad argument #1 to 'set_uri' (string expected, got table)"),
            ("ngx.req.set_uri('/a\\nb')", "unsafe byte \"0x0a\" in uri \"/a%0Ab\""),
            ("ngx.req.set_method('POST')", "bad method number"),
            ("ngx.req.set_method(3)", "unsupported HTTP method: 3"),
        ] {
            let (out, _, _) = access(REQ, &format!("\n{call}"));
            assert_eq!(out.last().unwrap(), &format!("access[1]:2: {message}"), "{call}");
        }
        let (out, _, _) = access(REQ, "ngx.req.set_uri('/x', true)");
        assert!(out.last().unwrap().contains("jump (an internal redirect) is not supported"), "{out:?}");
    }

    #[test]
    fn set_and_clear_headers() {
        let (_, host, _) = access(REQ, r#"
            ngx.req.set_header("X-Foo", "new")
            ngx.req.set_header("X-Multi", { "1", "2" })
            ngx.req.set_header("X-Num", 42)
            ngx.req.set_header("X-Bad", "a\r\nb")
            ngx.req.set_header("Host", "other.test")
            ngx.req.clear_header("Accept")
            ngx.req.set_header("Cookie", nil)
        "#);
        let request = host.request.borrow().clone();
        let values = |name: &str| -> Vec<String> {
            request.iter().filter(|(n, _)| n == name).map(|(_, v)| String::from_utf8(v.clone()).unwrap()).collect()
        };
        assert_eq!(values("x-foo"), ["new"]);
        assert_eq!(values("x-multi"), ["1", "2"]);
        assert_eq!(values("x-num"), ["42"]);
        assert_eq!(values("x-bad"), ["a%0D%0Ab"]);
        assert_eq!(values(":authority"), ["other.test"]);
        assert!(values("accept").is_empty());
        assert!(values("cookie").is_empty());
    }

    #[test]
    fn body_functions() {
        let buffered = RequestState { request_body: Some(b"a=1&b=2&c".to_vec()), ..RequestState::default() };
        let (out, _, request) = access_with(REQ, buffered, r#"
            ngx.req.read_body()
            kong.log.info(ngx.req.get_body_data(), " ", ngx.req.get_body_data(3), " ", tostring(ngx.req.get_body_file()))
            local p, err = ngx.req.get_post_args()
            kong.log.info(p.a, p.b, tostring(p.c), " ", tostring(err))
            local _, err1 = ngx.req.get_post_args(1)
            kong.log.info(err1)
            ngx.req.set_body_data("replaced")
            kong.log.info(ngx.req.get_body_data(), " ", kong.request.get_raw_body())
            ngx.req.discard_body()
        "#);
        assert_eq!(out, ["a=1&b=2&c a=1 nil", "12true nil", "truncated", "replaced replaced"]);
        assert_eq!(request.request_body.as_deref(), Some(&b"replaced"[..]));
        assert!(request.request_body_changed);

        let empty = RequestState { request_body: Some(Vec::new()), ..RequestState::default() };
        let (out, _, _) = access_with(REQ, empty, "kong.log.info(tostring(ngx.req.get_body_data()))");
        assert_eq!(out, ["nil"]);

        let (out, _, request) = access(REQ, "\nngx.req.set_body_data('x')");
        assert_eq!(out.last().unwrap(), "access[1]:2: request body not read");
        assert!(!request.request_body_changed);
        let (out, _, _) = access(REQ, "\nngx.req.get_post_args()");
        assert_eq!(out.last().unwrap(), "access[1]:2: no request body found (the request body was not buffered)");
        let (out, _, _) = access(REQ, "kong.log.info(tostring(ngx.req.get_body_data()))");
        assert_eq!(out, ["nil"]);
        let (out, _, _) = access(REQ, "\nngx.req.set_body_data({})");
        assert_eq!(out.last().unwrap(), "access[1]:2: bad argument #1 to 'set_body_data' (string expected, got table)");
    }

    #[test]
    fn serverless_spec_mock_fn_seven_counts_from_the_body() {
        // Kong's 02-access_spec.lua mock_fn_seven, without ngx.say/exit (another module).
        let body = RequestState { request_body: Some(b"41".to_vec()), ..RequestState::default() };
        let (out, _, _) = access_with(REQ, body, "ngx.req.read_body()\nlocal count = tonumber(ngx.req.get_body_data())\nkong.log.info(count + 1)");
        assert_eq!(out, ["42"]);
    }

    #[test]
    fn method_constants_and_misc() {
        let host = Rc::new(FakeHost::with_request(REQ).with_property("request.protocol", "HTTP/1.1"));
        host.now.set(1_500_000_000_250_000_000);
        let (outcome, out, _) = run_in(Phase::Rewrite, r#"
            kong.log.info(ngx.HTTP_GET, " ", ngx.HTTP_POST, " ", ngx.HTTP_PATCH, " ", ngx.req.http_version(), " ", ngx.req.start_time(), " ", tostring(ngx.req.is_internal()))
        "#, &host, RequestState::default());
        assert_eq!(outcome, PhaseOutcome::Continue);
        assert_eq!(out, ["2 8 16384 1.1 1500000000.25 false"]);
    }

    #[test]
    fn args_are_found_as_nginx() {
        assert_eq!(arg(b"a&b=1&B=2", b"b"), Some(b"1".to_vec()));
        assert_eq!(arg(b"a&b=1", b"a"), None);
    }
}
