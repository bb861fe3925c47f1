//! `kong.service` and `kong.service.request`: where and what Kong sends upstream, as
//! Kong's `kong/pdk/service.lua` and `kong/pdk/service/request.lua`.
//!
//! On proxy-wasm hosts, changing the request headers in the request-headers callback
//! changes what goes upstream: the path and query through `:path`, the method through
//! `:method`, the scheme through `:scheme` (Kong: its `kong.service.request.scheme`
//! property). A new body is left in `RequestState::request_body` with
//! `request_body_changed`, for the glue to send with a matching Content-Length. Choosing
//! the upstream (`set_target`, `set_upstream`) goes through Kong's `kong.service.*`
//! properties; other hosts have no such switch and raise "not supported by this host".

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::codec::form::unescape;
use crate::pdk::kong::response::validate_headers;
use crate::pdk::{json, lua_string, raise, set_function, validate_header, HeaderValue, Pdk, Scope};
use crate::lua::format;
use crate::phase::kong_phase;
use crate::properties::HostKind;

const ACCESS_AND_REWRITE: u32 = kong_phase::REWRITE | kong_phase::ACCESS;
const ACCESS_REWRITE_BALANCER: u32 = kong_phase::REWRITE | kong_phase::ACCESS | kong_phase::BALANCER;
const ACCESS_REWRITE_BALANCER_PREREAD: u32 =
    kong_phase::REWRITE | kong_phase::ACCESS | kong_phase::BALANCER | kong_phase::PREREAD;

const CONTENT_TYPE_POST: &str = "application/x-www-form-urlencoded";
const CONTENT_TYPE_JSON: &str = "application/json";
const CONTENT_TYPE_FORM_DATA: &str = "multipart/form-data";

/// Builds the `kong.service` table with its `request` and `response` namespaces.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let request = Table::new(&ctx);
    set_function(ctx, request, "set_header", pdk, set_header);
    set_function(ctx, request, "add_header", pdk, add_header);
    set_function(ctx, request, "clear_header", pdk, clear_header);
    set_function(ctx, request, "set_headers", pdk, set_headers);
    set_function(ctx, request, "set_scheme", pdk, set_scheme);
    set_function(ctx, request, "set_path", pdk, set_path);
    set_function(ctx, request, "set_raw_query", pdk, set_raw_query);
    set_function(ctx, request, "set_query", pdk, set_query);
    set_function(ctx, request, "clear_query_arg", pdk, clear_query_arg);
    set_function(ctx, request, "set_method", pdk, set_method);
    set_function(ctx, request, "set_raw_body", pdk, set_raw_body);
    set_function(ctx, request, "set_body", pdk, set_body);
    set_function(ctx, request, "enable_buffering", pdk, enable_buffering);
    let service = Table::new(&ctx);
    service.set(ctx, "request", request).ok();
    service.set(ctx, "response", crate::pdk::kong::service_response::table(ctx, pdk)).ok();
    set_function(ctx, service, "set_target", pdk, set_target);
    set_function(ctx, service, "set_upstream", pdk, set_upstream);
    set_function(ctx, service, "set_retries", pdk, set_retries);
    set_function(ctx, service, "set_timeouts", pdk, set_timeouts);
    set_function(ctx, service, "set_tls_cert_key", pdk, set_tls_cert_key);
    set_function(ctx, service, "set_tls_verify", pdk, set_tls_verify);
    set_function(ctx, service, "set_tls_verify_depth", pdk, set_tls_verify_depth);
    service
}

// ---------------------------------------------------------------------------------------
// kong.service

fn not_supported<'gc, T>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, scope_kind: HostKind, name: &str) -> Result<T, Error<'gc>> {
    raise(ctx, exec, &format!("kong.service.{name} is not supported by this host ({})", scope_kind.name()))
}

/// An integer argument as Kong checks it: "<what> must be an integer", then
/// "<what> must be an integer between <min> and <max>: given <n>".
fn integer_arg<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, value: Value<'gc>, what: &str, min: i64, max: i64) -> Result<i64, Error<'gc>> {
    let n = match value {
        Value::Integer(i) => i as f64,
        Value::Number(n) => n,
        _ => return raise(ctx, exec, &format!("{what} must be an integer")),
    };
    if n.fract() != 0.0 || !n.is_finite() {
        return raise(ctx, exec, &format!("{what} must be an integer"));
    }
    if n < min as f64 || n > max as f64 {
        return raise(ctx, exec, &format!("{what} must be an integer between {min} and {max}: given {}", format::number(value)));
    }
    Ok(n as i64)
}

/// `kong.service.set_target(host, port)`: sends the request to `host:port` instead of the
/// service's target. On Kong this sets the `kong.service.target` property (Kong calls
/// its own `set_target`); other hosts raise "kong.service.set_target is not supported
/// by this host (envoy)" after the argument checks.
fn set_target<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_REWRITE_BALANCER_PREREAD)?;
    let Value::String(host) = stack.get(0) else {
        return raise(ctx, &exec, "host must be a string");
    };
    let port = integer_arg(ctx, &exec, stack.get(1), "port", 0, 65535)?;
    let scope = pdk.scope();
    if scope.host_kind != HostKind::Kong {
        return not_supported(ctx, &exec, scope.host_kind, "set_target");
    }
    let target = format!("{}:{port}", host.to_str_lossy());
    let ok = scope.host.set_property(&["kong", "service", "target"], Some(target.as_bytes()));
    drop(scope);
    if !ok {
        return raise(ctx, &exec, &format!("could not set the target to {target}"));
    }
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.service.set_upstream(name)`: sends the request to the Upstream entity `name`.
/// Returns `true`, or `nil, "could not find an Upstream named 'x'"`. On Kong through the
/// `kong.service.upstream` property; other hosts raise "not supported by this host".
fn set_upstream<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, kong_phase::ACCESS)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "host must be a string");
    };
    let scope = pdk.scope();
    if scope.host_kind != HostKind::Kong {
        return not_supported(ctx, &exec, scope.host_kind, "set_upstream");
    }
    let ok = scope.host.set_property(&["kong", "service", "upstream"], Some(name.as_bytes()));
    drop(scope);
    if ok {
        stack.replace(ctx, true);
    } else {
        let message = format!("could not find an Upstream named '{}'", name.to_str_lossy());
        stack.replace(ctx, (Value::Nil, lua_string(ctx, message.as_bytes())));
    }
    Ok(CallbackReturn::Return)
}

/// `kong.service.set_retries(retries)`: checks its argument as Kong (an integer
/// 0-32767), then raises "not supported by this host": no proxy-wasm host lets a filter
/// change the retry count.
fn set_retries<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, _stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, kong_phase::ACCESS)?;
    integer_arg(ctx, &exec, _stack.get(0), "retries", 0, 32767)?;
    let kind = pdk.scope().host_kind;
    not_supported(ctx, &exec, kind, "set_retries")
}

/// `kong.service.set_tls_cert_key(chain, key)`: Kong's checks (`kong/pdk/service.lua`):
/// "chain must be a parsed cdata object", then "key must be a parsed cdata object". A
/// filter's Lua has no FFI, so no value is cdata and the call always fails with the
/// first: no proxy-wasm host lets a filter choose the upstream client certificate.
fn set_tls_cert_key<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, _stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_REWRITE_BALANCER_PREREAD)?;
    raise(ctx, &exec, "chain must be a parsed cdata object")
}

/// `kong.service.set_tls_verify(on)`: Kong's check ("argument must be a boolean"), then
/// `nil, "kong.service.set_tls_verify is not supported by this host (...)"` in Kong's
/// `ok, err` shape: no host property turns upstream certificate verification on or off.
fn set_tls_verify<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_REWRITE_BALANCER_PREREAD)?;
    if !matches!(stack.get(0), Value::Boolean(_)) {
        return raise(ctx, &exec, "argument must be a boolean");
    }
    let message = format!("kong.service.set_tls_verify is not supported by this host ({})", pdk.scope().host_kind.name());
    stack.replace(ctx, (Value::Nil, lua_string(ctx, message.as_bytes())));
    Ok(CallbackReturn::Return)
}

/// `kong.service.set_tls_verify_depth(depth)`: Kong's check ("argument must be a
/// number"), then `nil, "... is not supported by this host (...)"` as
/// [`set_tls_verify`].
fn set_tls_verify_depth<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_REWRITE_BALANCER_PREREAD)?;
    if !matches!(stack.get(0), Value::Integer(_) | Value::Number(_)) {
        return raise(ctx, &exec, "argument must be a number");
    }
    let message = format!("kong.service.set_tls_verify_depth is not supported by this host ({})", pdk.scope().host_kind.name());
    stack.replace(ctx, (Value::Nil, lua_string(ctx, message.as_bytes())));
    Ok(CallbackReturn::Return)
}

/// `kong.service.set_timeouts(connect, write, read)`: checks its arguments as Kong
/// (integers 1-2147483646, milliseconds), then raises "not supported by this host".
fn set_timeouts<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, kong_phase::ACCESS)?;
    for (i, what) in ["connect_timeout", "write_timeout", "read_timeout"].iter().enumerate() {
        integer_arg(ctx, &exec, stack.get(i), what, 1, 2147483646)?;
    }
    let kind = pdk.scope().host_kind;
    not_supported(ctx, &exec, kind, "set_timeouts")
}

// ---------------------------------------------------------------------------------------
// kong.service.request: headers

/// Kong's `normalize_multi_header`: an empty value is sent as a single space.
fn values_of(value: HeaderValue) -> Vec<Vec<u8>> {
    let fix = |v: Vec<u8>| if v.is_empty() { b" ".to_vec() } else { v };
    match value {
        HeaderValue::One(v) => vec![fix(v)],
        HeaderValue::Many(vs) => vs.into_iter().map(fix).collect(),
    }
}

/// Where the upstream `Host` goes: Envoy and others carry it in `:authority`, Kong's
/// nginx in `host`.
fn host_header_name(scope: &Scope) -> &'static str {
    if scope.host_kind.is_nginx() {
        "host"
    } else {
        ":authority"
    }
}

fn is_grpc_request(scope: &Scope) -> bool {
    scope.host.request_header("content-type").is_some_and(|ct| ct.starts_with(b"application/grpc"))
}

fn replace_request_header(scope: &Scope, name: &str, values: Vec<Vec<u8>>) {
    let mut values = values.into_iter();
    scope.host.set_request_header(name, values.next().as_deref());
    for v in values {
        scope.host.add_request_header(name, &v);
    }
}

/// `kong.service.request.set_header(name, value)`: replaces the header sent upstream
/// (a string, number, boolean or array of strings; `Host` sets the upstream host).
/// Setting `:authority` is only possible on gRPC requests; otherwise it returns `nil`
/// and "cannot set :authority pseudo-header on non-grpc requests", as Kong.
fn set_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_REWRITE_BALANCER)?;
    // The usual call, a lowercase name and a non-empty string: no copies (issue 28).
    if let Some((name, value)) = crate::pdk::plain_header(stack.get(0), stack.get(1)) {
        if name != ":authority" && name != "host" {
            pdk.scope().host.set_request_header(name, Some(value));
            stack.clear();
            return Ok(CallbackReturn::Return);
        }
    }
    let (name, value) = validate_header(ctx, &exec, stack.get(0), stack.get(1))?;
    let name = name.to_ascii_lowercase();
    let scope = pdk.scope();
    let values = values_of(value);
    if name == ":authority" {
        if !is_grpc_request(&scope) {
            drop(scope);
            let msg = lua_string(ctx, b"cannot set :authority pseudo-header on non-grpc requests");
            stack.replace(ctx, (Value::Nil, msg));
            return Ok(CallbackReturn::Return);
        }
        replace_request_header(&scope, ":authority", values);
    } else if name == "host" {
        replace_request_header(&scope, host_header_name(&scope), values);
    } else {
        replace_request_header(&scope, &name, values);
    }
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.service.request.add_header(name, value)`: adds a value to the header sent
/// upstream, keeping the existing ones; `Host` is replaced instead (Kong sets
/// `upstream_host`, the one Host the upstream gets).
fn add_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_AND_REWRITE)?;
    let (name, value) = validate_header(ctx, &exec, stack.get(0), stack.get(1))?;
    let name = name.to_ascii_lowercase();
    let scope = pdk.scope();
    if name == "host" {
        // Kong sets `ngx.var.upstream_host` to the value, which is the Host the upstream
        // gets (`proxy_set_header Host $upstream_host`): a second Host replaces the first.
        let last: Vec<Vec<u8>> = values_of(value).into_iter().last().into_iter().collect();
        replace_request_header(&scope, host_header_name(&scope), last);
    } else {
        for v in values_of(value) {
            scope.host.add_request_header(&name, &v);
        }
    }
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.service.request.clear_header(name)`: removes every occurrence of the header.
fn clear_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_AND_REWRITE)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "header must be a string");
    };
    let name = String::from_utf8_lossy(name.as_bytes()).to_ascii_lowercase();
    pdk.scope().host.set_request_header(&name, None);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.service.request.set_headers(headers)`: [`set_header`] for every pair of the
/// table (names in lexicographical order).
fn set_headers<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_AND_REWRITE)?;
    let headers = validate_headers(ctx, &exec, stack.get(0))?;
    let scope = pdk.scope();
    for (name, value) in headers {
        let mut name = name.to_ascii_lowercase();
        if name == "host" {
            name = host_header_name(&scope).to_string();
        }
        replace_request_header(&scope, &name, values_of(value));
    }
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

// ---------------------------------------------------------------------------------------
// kong.service.request: scheme, path, query, method

/// `kong.service.request.set_scheme(scheme)`: `http` or `https` for the upstream
/// connection ("invalid scheme: x" otherwise). Kong: the `kong.service.request.scheme`
/// property; other hosts: the `:scheme` pseudo-header.
fn set_scheme<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_REWRITE_BALANCER)?;
    let Value::String(scheme) = stack.get(0) else {
        return raise(ctx, &exec, "scheme must be a string");
    };
    let scheme = scheme.as_bytes();
    if scheme != b"http" && scheme != b"https" {
        return raise(ctx, &exec, &format!("invalid scheme: {}", String::from_utf8_lossy(scheme)));
    }
    let scope = pdk.scope();
    let by_property = scope.host_kind == HostKind::Kong
        && scope.host.set_property(&["kong", "service", "request", "scheme"], Some(scheme));
    if !by_property {
        scope.host.set_request_header(":scheme", Some(scheme));
    }
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// The upstream `:path` split into path and query (without the `?`).
fn path_and_query(scope: &Scope) -> (Vec<u8>, Vec<u8>) {
    let full = scope.host.request_header(":path").unwrap_or_else(|| b"/".to_vec());
    match full.iter().position(|&b| b == b'?') {
        Some(q) => (full[..q].to_vec(), full[q + 1..].to_vec()),
        None => (full, Vec::new()),
    }
}

/// Writes `:path` back: the path, and `?query` when the query is not empty (nginx's
/// `$is_args`).
fn set_path_and_query(scope: &Scope, path: &[u8], query: &[u8]) {
    let mut full = path.to_vec();
    if !query.is_empty() {
        full.push(b'?');
        full.extend_from_slice(query);
    }
    scope.host.set_request_header(":path", Some(&full));
}

/// Kong's `kong.tools.uri.escape`: percent-encodes every byte but letters, digits and
/// `!#$&'()*+,/:;=?@[]-_.~%`.
fn escape_path(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    for &b in path {
        if b.is_ascii_alphanumeric() || b"!#$&'()*+,/:;=?@[]-_.~%".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

/// `kong.service.request.set_path(path)`: the upstream path (must start with `/`),
/// escaped as Kong does; the query string is kept.
fn set_path<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_REWRITE_BALANCER)?;
    let Value::String(path) = stack.get(0) else {
        return raise(ctx, &exec, "path must be a string");
    };
    if path.as_bytes().first() != Some(&b'/') {
        return raise(ctx, &exec, "path must start with /");
    }
    let scope = pdk.scope();
    let (_, query) = path_and_query(&scope);
    set_path_and_query(&scope, &escape_path(path.as_bytes()), &query);
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.service.request.set_raw_query(query)`: the upstream query string, as given
/// (no `?`).
fn set_raw_query<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_AND_REWRITE)?;
    let Value::String(query) = stack.get(0) else {
        return raise(ctx, &exec, "query must be a string");
    };
    let scope = pdk.scope();
    let (path, _) = path_and_query(&scope);
    set_path_and_query(&scope, &path, query.as_bytes());
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// lua-nginx-module's `ngx.escape_uri` (component): everything but letters, digits and
/// `-._~` percent-encoded.
pub(crate) fn escape_component(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
}

/// One query value as `ngx.encode_args` writes it: `None` for `false` (left out),
/// `Some(None)` for `true` (the bare key).
fn encode_arg_value<'gc>(value: Value<'gc>) -> Result<Option<Option<Vec<u8>>>, String> {
    match value {
        Value::String(s) => Ok(Some(Some(s.as_bytes().to_vec()))),
        Value::Integer(_) | Value::Number(_) => Ok(Some(Some(format::number(value).into_bytes()))),
        Value::Boolean(true) => Ok(Some(None)),
        Value::Boolean(false) => Ok(None),
        other => Err(format!("attempt to use {} as query arg value", other.type_name())),
    }
}

/// `ngx.encode_args({[key] = value})` for one pair.
fn encode_pair<'gc>(ctx: Context<'gc>, key: &[u8], value: Value<'gc>) -> Result<Vec<u8>, String> {
    let mut encoded_key = Vec::new();
    escape_component(key, &mut encoded_key);
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut push = |v: Option<Option<Vec<u8>>>| {
        if let Some(v) = v {
            let mut part = encoded_key.clone();
            if let Some(v) = v {
                part.push(b'=');
                escape_component(&v, &mut part);
            }
            parts.push(part);
        }
    };
    match value {
        Value::Table(t) => {
            for i in 1..=t.length() {
                push(encode_arg_value(t.get(ctx, i))?);
            }
        }
        v => push(encode_arg_value(v)?),
    }
    Ok(parts.join(&b'&'))
}

/// Kong's `make_ordered_args`: each pair encoded by `ngx.encode_args`, sorted, joined
/// with `&`.
fn ordered_args<'gc>(ctx: Context<'gc>, args: Table<'gc>) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for (key, value) in args.iter() {
        let Value::String(key) = key else {
            return Err("arg keys must be strings".into());
        };
        out.push(encode_pair(ctx, key.as_bytes(), value)?);
    }
    out.sort();
    Ok(out.join(&b'&'))
}

/// `kong.service.request.set_query(args)`: the upstream query string built from a table
/// (`{ a = "1", b = { "x", "y" }, c = true }` -> `a=1&b=x&b=y&c`), pairs sorted, values
/// escaped as `ngx.encode_args`.
fn set_query<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_AND_REWRITE)?;
    let Value::Table(args) = stack.get(0) else {
        return raise(ctx, &exec, "args must be a table");
    };
    let query = match ordered_args(ctx, args) {
        Ok(q) => q,
        Err(e) => return raise(ctx, &exec, &e),
    };
    let scope = pdk.scope();
    let (path, _) = path_and_query(&scope);
    set_path_and_query(&scope, &path, &query);
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// The URL Standard's `application/x-www-form-urlencoded` serializer (what Kong's
/// `resty.ada.search` writes), with spaces as `%20` as Kong then rewrites them.
fn form_encode(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"*-._".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
}

/// `kong.service.request.clear_query_arg(name)`: removes every `name` argument from the
/// upstream query string. As Kong (which re-serializes the query with `ada`), the
/// remaining arguments come out form-encoded, spaces as `%20`.
fn clear_query_arg<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_AND_REWRITE)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "query argument name must be a string");
    };
    let scope = pdk.scope();
    let (path, query) = path_and_query(&scope);
    if !query.is_empty() {
        let mut kept: Vec<Vec<u8>> = Vec::new();
        for pair in query.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (key, value) = match pair.iter().position(|&b| b == b'=') {
                Some(eq) => (&pair[..eq], &pair[eq + 1..]),
                None => (pair, &b""[..]),
            };
            let key = unescape(key);
            if key == name.as_bytes() {
                continue;
            }
            let mut encoded = Vec::new();
            form_encode(&key, &mut encoded);
            encoded.push(b'=');
            form_encode(&unescape(value), &mut encoded);
            kept.push(encoded);
        }
        set_path_and_query(&scope, &path, &kept.join(&b'&'));
    }
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// The methods `set_method` accepts (Kong's list).
const METHODS: [&str; 15] = [
    "GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "MKCOL", "COPY", "MOVE", "PROPFIND", "PROPPATCH", "LOCK",
    "UNLOCK", "PATCH", "TRACE",
];

/// `kong.service.request.set_method(method)`: the upstream method, one of Kong's list in
/// upper case ("invalid method: x" otherwise).
fn set_method<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_AND_REWRITE)?;
    let Value::String(method) = stack.get(0) else {
        return raise(ctx, &exec, "method must be a string");
    };
    let method_text = method.to_str_lossy();
    if !METHODS.contains(&method_text.as_ref()) {
        return raise(ctx, &exec, &format!("invalid method: {method_text}"));
    }
    pdk.scope().host.set_request_header(":method", Some(method.as_bytes()));
    stack.clear();
    Ok(CallbackReturn::Return)
}

// ---------------------------------------------------------------------------------------
// kong.service.request: body

fn store_body(pdk: &Pdk, body: Vec<u8>) {
    let mut scope = pdk.scope_mut();
    scope.request.request_body = Some(body);
    scope.request.request_body_changed = true;
}

/// `kong.service.request.set_raw_body(body)`: the body sent upstream, as given. Kept in
/// `RequestState::request_body` (`request_body_changed`); the glue sends it with a
/// matching Content-Length.
fn set_raw_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_REWRITE_BALANCER)?;
    let Value::String(body) = stack.get(0) else {
        return raise(ctx, &exec, "body must be a string");
    };
    let limit = crate::lua::limits::current().exit_body_bytes;
    if body.as_bytes().len() > limit {
        return raise(ctx, &exec, &format!("body too large ({} bytes, limit {limit})", body.as_bytes().len()));
    }
    store_body(pdk, body.as_bytes().to_vec());
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// A multipart boundary for `set_body`: pseudo-random digits, as Kong's
/// `math.random(1e10)`, from the clock and a counter.
fn new_boundary(scope: &Scope, attempt: u64) -> String {
    let seed = scope.host.now_nanos() ^ (attempt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut x = seed | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x % 10_000_000_000 + 1).to_string()
}

/// Kong's multipart encoder: one part per key (sorted), values as `tostring`.
fn encode_multipart<'gc>(scope: &Scope, args: Table<'gc>, mime: &str) -> Result<(Vec<u8>, String), String> {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (key, value) in args.iter() {
        let Value::String(k) = key else {
            return Err(format!("invalid key \"{}\": got {}, expected string", format::display(key), key.type_name()));
        };
        let v = match value {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Integer(_) | Value::Number(_) | Value::Boolean(_) => format::display(value).into_bytes(),
            other => {
                return Err(format!(
                    "invalid value \"{}\": got {}, expected string, number or boolean",
                    k.to_str_lossy(),
                    other.type_name()
                ))
            }
        };
        pairs.push((k.as_bytes().to_vec(), v));
    }
    pairs.sort();
    let given = mime.find("boundary=").map(|at| {
        let rest = &mime[at + 9..];
        match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next().unwrap_or("").to_string(),
            None => rest.to_string(),
        }
    });
    let contains = |boundary: &str| {
        let check = format!("\n--{boundary}");
        pairs.iter().any(|(_, v)| v.windows(check.len()).any(|w| w == check.as_bytes()))
    };
    let mut boundary = given.unwrap_or_else(|| new_boundary(scope, 0));
    let mut attempt = 1;
    while contains(&boundary) {
        boundary = new_boundary(scope, attempt);
        attempt += 1;
    }
    let mut out = Vec::new();
    for (k, v) in &pairs {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        out.extend_from_slice(b"Content-Disposition: form-data; name=\"");
        out.extend_from_slice(k);
        out.extend_from_slice(b"\"\r\n\r\n");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok((out, format!("{CONTENT_TYPE_FORM_DATA}; boundary={boundary}")))
}

/// `kong.service.request.set_body(args[, mimetype])`: encodes `args` for the content
/// type given (or the request's `Content-Type`) and sends it upstream:
/// `application/x-www-form-urlencoded` (as [`set_query`]), `application/json` (as
/// cjson), `multipart/form-data` (one part per key, the given boundary or a new one).
/// Sets the upstream `Content-Type`. Returns `true`, or `nil` and "content type was
/// neither explicitly given as an argument or received as a header"; another type
/// raises "unsupported content type x".
fn set_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_AND_REWRITE)?;
    let Value::Table(args) = stack.get(0) else {
        return raise(ctx, &exec, "args must be a table");
    };
    let mime = match stack.get(1) {
        Value::Nil | Value::Boolean(false) => None,
        Value::String(s) => Some(s.to_str_lossy().into_owned()),
        _ => return raise(ctx, &exec, "mime must be a string"),
    };
    let mime = match mime.or_else(|| {
        pdk.scope().host.request_header("content-type").map(|v| String::from_utf8_lossy(&v).into_owned())
    }) {
        Some(m) => m,
        None => {
            let msg = lua_string(ctx, b"content type was neither explicitly given as an argument or received as a header");
            stack.replace(ctx, (Value::Nil, msg));
            return Ok(CallbackReturn::Return);
        }
    };
    let bare = mime.split(';').next().unwrap_or("");
    let encoded = match bare {
        CONTENT_TYPE_POST => ordered_args(ctx, args).map(|q| (q, mime.clone())),
        CONTENT_TYPE_JSON => json::encode_kong(ctx, Value::Table(args)).map(|j| (j.into_bytes(), mime.clone())),
        CONTENT_TYPE_FORM_DATA => encode_multipart(&pdk.scope(), args, &mime),
        _ => return raise(ctx, &exec, &format!("unsupported content type {mime}")),
    };
    let (body, content_type) = match encoded {
        Ok(e) => e,
        Err(e) => return raise(ctx, &exec, &e),
    };
    let limit = crate::lua::limits::current().exit_body_bytes;
    if body.len() > limit {
        return raise(ctx, &exec, &format!("body too large ({} bytes, limit {limit})", body.len()));
    }
    pdk.scope().host.set_request_header("content-type", Some(content_type.as_bytes()));
    store_body(pdk, body);
    stack.replace(ctx, true);
    Ok(CallbackReturn::Return)
}

/// `kong.service.request.enable_buffering()`: asks for the whole upstream response
/// before `header_filter` (`RequestState::buffer_response`), so that
/// `kong.service.response.get_raw_body` can read it.
fn enable_buffering<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_REWRITE_BALANCER)?;
    pdk.scope_mut().request.buffer_response = true;
    stack.clear();
    Ok(CallbackReturn::Return)
}

#[cfg(test)]
mod tests;
