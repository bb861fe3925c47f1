//! Per-request Lua tables: the storage behind `kong.ctx.shared`, `kong.ctx.plugin` and
//! `ngx.ctx` (Kong's `kong/pdk/ctx.lua`). Each is created on first use in a request and
//! dropped with the request's state, so nothing leaks from one request to the next.

use piccolo::{Callback, CallbackReturn, Context, MetaMethod, Table, Value};

use crate::pdk::{lua_string, Pdk};
use crate::lua::format;
use crate::properties::{ctx_shared_path, HostKind};

/// The table named `name` (e.g. `"kong.ctx.shared"`) of the request being served,
/// created empty on first use.
pub fn request_table<'gc>(pdk: &Pdk, ctx: Context<'gc>, name: &'static str) -> Table<'gc> {
    if let Some((_, stashed)) = pdk.scope().request.lua_tables.iter().find(|(n, _)| *n == name) {
        return ctx.fetch(stashed);
    }
    let table = Table::new(&ctx);
    pdk.scope_mut().request.lua_tables.push((name, ctx.stash(table)));
    table
}

/// `ngx.ctx` for the request being served, with the fields Kong's runloop puts there
/// before plugins run (`kong/runloop/handler.lua`, `kong/init.lua`), filled in as far as
/// this filter can know them:
///
/// - `KONG_PROCESSING_START`: when the request arrived (ms since the epoch);
/// - from `access` on: `balancer_data` as Kong's `balancer_prepare` makes it (`scheme`,
///   `host`, `port`, `try_count` 0, `tries` `{}`, `retries`, `connect_timeout`,
///   `send_timeout`, `read_timeout` from the matched service, Kong's defaults 5 and
///   60000 ms otherwise), and `service` / `route` (the entities, where the host names
///   them);
/// - once the upstream answered (`header_filter`, `body_filter`, `log`): `KONG_PROXIED`
///   true, `KONG_ACCESS_ENDED_AT` (ms), `KONG_PROXY_LATENCY` (request start to the end of
///   `access`, ms, as Kong's `access.after`), `KONG_WAITING_TIME` (end of `access` to the
///   response headers, ms).
///
/// A field is only set while absent, so a chunk's own value stays. Changing
/// `balancer_data` does not reach the host's proxying (no proxy-wasm host lets a filter
/// set timeouts or retries: `kong.service.set_timeouts` says so).
pub fn ngx_ctx<'gc>(pdk: &Pdk, ctx: Context<'gc>) -> Table<'gc> {
    let table = request_table(pdk, ctx, "ngx.ctx");
    let set = |key: &'static str, value: Value<'gc>| {
        if table.get(ctx, key).is_nil() && !value.is_nil() {
            table.set(ctx, key, value).ok();
        }
    };
    let start = crate::pdk::kong::request::start_time_ms(pdk);
    let (phase, access_ended, response_started) = {
        let scope = pdk.scope();
        let r = &scope.request;
        (scope.phase, r.access_ended_ms, r.response_started_ms)
    };
    if start > 0 {
        set("KONG_PROCESSING_START", Value::Integer(start as i64));
    }
    if phase != crate::phase::Phase::Rewrite && table.get(ctx, "balancer_data").is_nil() {
        let service = crate::pdk::kong::router::service(pdk);
        let route = crate::pdk::kong::router::route(pdk);
        set("balancer_data", Value::Table(balancer_data(pdk, ctx, service.as_ref())));
        if let Some(service) = &service {
            set("service", crate::pdk::lua_json::to_lua(ctx, service));
        }
        if let Some(route) = &route {
            set("route", crate::pdk::lua_json::to_lua(ctx, route));
        }
    }
    if let (Some(ended), Some(answered)) = (access_ended, response_started) {
        set("KONG_PROXIED", Value::Boolean(true));
        set("KONG_ACCESS_ENDED_AT", Value::Integer(ended as i64));
        set("KONG_PROXY_LATENCY", Value::Integer(ended.saturating_sub(start) as i64));
        set("KONG_WAITING_TIME", Value::Integer(answered.saturating_sub(ended) as i64));
    }
    table
}

/// Kong's `balancer_prepare` table for `service` (the matched service entity).
fn balancer_data<'gc>(pdk: &Pdk, ctx: Context<'gc>, service: Option<&serde_json::Value>) -> Table<'gc> {
    let t = Table::new(&ctx);
    let field = |name: &str| service.and_then(|s| s.get(name)).filter(|v| !v.is_null());
    let number = |name: &str, default: i64| field(name).and_then(serde_json::Value::as_i64).unwrap_or(default);
    let (authority, scheme) = {
        let scope = pdk.scope();
        let authority = scope.host.request_header(":authority").map(|v| String::from_utf8_lossy(&v).into_owned());
        let scheme = scope.host.request_header(":scheme").map(|v| String::from_utf8_lossy(&v).into_owned());
        (authority, scheme)
    };
    let scheme = field("protocol").and_then(serde_json::Value::as_str).map(str::to_owned).or(scheme).unwrap_or_else(|| "http".into());
    let (host, port) = match field("host").and_then(serde_json::Value::as_str) {
        Some(host) => (host.to_owned(), number("port", if scheme == "https" { 443 } else { 80 })),
        None => {
            let authority = authority.unwrap_or_default();
            match authority.rsplit_once(':') {
                Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => (h.to_owned(), p.parse().unwrap_or(80)),
                _ => (authority, if scheme == "https" { 443 } else { 80 }),
            }
        }
    };
    t.set(ctx, "scheme", lua_string(ctx, scheme.as_bytes())).ok();
    let kind: &[u8] = if host.parse::<std::net::Ipv4Addr>().is_ok() { b"ipv4" } else if host.parse::<std::net::Ipv6Addr>().is_ok() { b"ipv6" } else { b"name" };
    t.set(ctx, "type", lua_string(ctx, kind)).ok();
    t.set(ctx, "host", lua_string(ctx, host.as_bytes())).ok();
    t.set(ctx, "port", port).ok();
    t.set(ctx, "try_count", 0).ok();
    t.set(ctx, "tries", Table::new(&ctx)).ok();
    t.set(ctx, "retries", number("retries", 5)).ok();
    t.set(ctx, "connect_timeout", number("connect_timeout", 60_000)).ok();
    t.set(ctx, "send_timeout", number("write_timeout", 60_000)).ok();
    t.set(ctx, "read_timeout", number("read_timeout", 60_000)).ok();
    t
}

/// Builds `kong.ctx`, as Kong's `kong/pdk/ctx.lua`: a table whose metatable resolves
/// `shared` and `plugin` to the tables of the request being served, so copies of it (the
/// sandbox copies module tables, keeping metatables) all reach the same request state.
///
/// - `kong.ctx.shared`: one table per request, shared by every chunk of this plugin
///   instance. The pre-function and post-function instances run in separate Lua states,
///   so writes of strings, numbers and booleans are also mirrored into a host property
///   ([`crate::properties::ctx_shared_path`]: Kong's `kong.ctx.shared.*` namespace, or
///   a filter-state property elsewhere), and a key missing from the table is looked up
///   there: `kong.ctx.shared.user = "bob"` in pre-function's `access` is read in
///   post-function's `log`. Every value crosses with its type: nil stays nil, strings,
///   numbers and booleans keep theirs, a table crosses as a copy (as cjson encodes it,
///   taken when it is assigned: later changes to it stay in the writing role), a function
///   crosses as nil. On Kong, the plain value also goes to Kong's own
///   `kong.ctx.shared.<key>`, where Kong's Lua plugins read it (`tostring` of a scalar),
///   and a key only they wrote reads as a string. `kong.ctx.shared` is a proxy: `pairs`
///   works (`__pairs`), `next`/`rawget` on it see nothing.
/// - `kong.ctx.plugin`: one table per request and plugin instance (per role).
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let kong_ctx = Table::new(&ctx);
    let meta = Table::new(&ctx);
    let pdk = pdk.clone();
    let index = Callback::from_fn(&ctx, move |ctx, _exec, mut stack| {
        let value = match stack.get(1) {
            Value::String(k) if k.as_bytes() == b"shared" => Value::Table(shared_proxy(&pdk, ctx)),
            Value::String(k) if k.as_bytes() == b"plugin" => Value::Table(request_table(&pdk, ctx, "kong.ctx.plugin")),
            _ => Value::Nil,
        };
        stack.replace(ctx, value);
        Ok(CallbackReturn::Return)
    });
    meta.set(ctx, MetaMethod::Index, index).ok();
    kong_ctx.set_metatable(&ctx, Some(meta));
    kong_ctx
}

/// Name of the per-request proxy table that Lua sees as `kong.ctx.shared`.
const SHARED_PROXY: &str = "kong.ctx.shared#proxy";

/// The request's `kong.ctx.shared` proxy, built on first use over the request's
/// `"kong.ctx.shared"` storage table.
fn shared_proxy<'gc>(pdk: &Pdk, ctx: Context<'gc>) -> Table<'gc> {
    if let Some((_, stashed)) = pdk.scope().request.lua_tables.iter().find(|(n, _)| *n == SHARED_PROXY) {
        return ctx.fetch(stashed);
    }
    let store = request_table(pdk, ctx, "kong.ctx.shared");
    let proxy = Table::new(&ctx);
    let meta = Table::new(&ctx);
    let reader = pdk.clone();
    let index = Callback::from_fn_with(&ctx, store, move |store, ctx, _exec, mut stack| {
        let key = stack.get(1);
        let mut value = store.get(ctx, key);
        if value.is_nil() {
            if let Value::String(k) = key {
                value = read_mirror(&reader, ctx, &k.to_str_lossy());
            }
        }
        stack.replace(ctx, value);
        Ok(CallbackReturn::Return)
    });
    let writer = pdk.clone();
    let new_index = Callback::from_fn_with(&ctx, store, move |store, ctx, _exec, mut stack| {
        let (key, value) = (stack.get(1), stack.get(2));
        store.set(ctx, key, value)?;
        if let Value::String(k) = key {
            write_mirror(&writer, ctx, &k.to_str_lossy(), value);
        }
        stack.clear();
        Ok(CallbackReturn::Return)
    });
    let pairs = Callback::from_fn_with(&ctx, store, |store, ctx, _exec, mut stack| {
        stack.replace(ctx, (ctx.get_global("next"), *store, Value::Nil));
        Ok(CallbackReturn::Return)
    });
    let len = Callback::from_fn_with(&ctx, store, |store, ctx, _exec, mut stack| {
        stack.replace(ctx, store.length());
        Ok(CallbackReturn::Return)
    });
    meta.set(ctx, MetaMethod::Index, index).ok();
    meta.set(ctx, MetaMethod::NewIndex, new_index).ok();
    meta.set(ctx, MetaMethod::Pairs, pairs).ok();
    meta.set(ctx, MetaMethod::Len, len).ok();
    proxy.set_metatable(&ctx, Some(meta));
    pdk.scope_mut().request.lua_tables.push((SHARED_PROXY, ctx.stash(proxy)));
    proxy
}

/// Mirrors a `kong.ctx.shared` write for the other role: a typed copy (see [`encode`])
/// in our own property, and on Kong also the plain value in Kong's namespace, as Kong's
/// Lua plugins read it (`tostring` of a scalar; removed for anything else).
fn write_mirror<'gc>(pdk: &Pdk, ctx: Context<'gc>, key: &str, value: Value<'gc>) {
    let scope = pdk.scope();
    let typed = encode(ctx, value);
    set(&scope, &typed_path(scope.host_kind, key), Some(&typed));
    if scope.host_kind == HostKind::Kong {
        let plain = match value {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Integer(_) | Value::Number(_) | Value::Boolean(_) => Some(format::display(value).into_bytes()),
            _ => None,
        };
        set(&scope, &ctx_shared_path(HostKind::Kong, key), plain.as_deref());
    }
}

fn set(scope: &crate::pdk::Scope, path: &[String], value: Option<&[u8]>) {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    scope.host.set_property(&path, value);
}

/// Where the typed copy of `kong.ctx.shared.<key>` lives: on Kong a key of our own in
/// Kong's namespace (`kong.ctx.shared.kong_functions:<key>`), elsewhere our filter-state
/// property.
fn typed_path(kind: HostKind, key: &str) -> Vec<String> {
    match kind {
        HostKind::Kong => ctx_shared_path(kind, &format!("kong_functions:{key}")),
        _ => ctx_shared_path(kind, key),
    }
}

/// The typed form of a value crossing roles: `z` nil, `s<bytes>` string, `n<number>`,
/// `b<true|false>`, `j<JSON>` a table (a copy as cjson encodes it, taken when assigned);
/// a value JSON cannot hold (a function, a table holding one) crosses as nil.
fn encode<'gc>(ctx: Context<'gc>, value: Value<'gc>) -> Vec<u8> {
    match value {
        Value::String(s) => [b"s".as_slice(), s.as_bytes()].concat(),
        Value::Integer(_) | Value::Number(_) => format!("n{}", format::number(value)).into_bytes(),
        Value::Boolean(b) => format!("b{b}").into_bytes(),
        Value::Table(_) => match crate::pdk::lua_json::from_lua(ctx, value) {
            Ok(json) => format!("j{json}").into_bytes(),
            Err(_) => b"z".to_vec(),
        },
        _ => b"z".to_vec(),
    }
}

/// Reads a `kong.ctx.shared` key written by the other role: its typed copy when there is
/// one, else (on Kong) the plain string a Lua plugin stored; `nil` when absent.
fn read_mirror<'gc>(pdk: &Pdk, ctx: Context<'gc>, key: &str) -> Value<'gc> {
    let scope = pdk.scope();
    let read = |path: Vec<String>| {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        scope.host.property(&path)
    };
    if let Some(typed) = read(typed_path(scope.host_kind, key)).filter(|t| !t.is_empty()) {
        return decode(ctx, &typed);
    }
    match scope.host_kind {
        HostKind::Kong => read(ctx_shared_path(HostKind::Kong, key)).filter(|v| !v.is_empty()).map_or(Value::Nil, |v| lua_string(ctx, &v)),
        _ => Value::Nil,
    }
}

/// The value [`encode`] wrote; an untagged value (written by someone else) is a string.
fn decode<'gc>(ctx: Context<'gc>, bytes: &[u8]) -> Value<'gc> {
    match bytes.split_first() {
        Some((b'z', [])) => Value::Nil,
        Some((b's', rest)) => lua_string(ctx, rest),
        Some((b'n', rest)) => {
            let text = String::from_utf8_lossy(rest);
            match text.parse::<i64>() {
                Ok(i) => Value::Integer(i),
                Err(_) => text.parse::<f64>().map(Value::Number).unwrap_or(Value::Nil),
            }
        }
        Some((b'b', rest)) => Value::Boolean(rest == b"true"),
        Some((b'j', rest)) => match serde_json::from_slice(rest) {
            Ok(json) => crate::pdk::lua_json::to_lua(ctx, &json),
            Err(_) => Value::Nil,
        },
        _ => lua_string(ctx, bytes),
    }
}

/// Carries a per-request value to the other role under `key` (a name of ours, such as
/// `authenticated_consumer`), the way `kong.ctx.shared` crosses: a typed copy in the
/// host property [`typed_path`] names (`kong_functions:<key>` on Kong, the filter-state
/// property elsewhere), a table as cjson encodes it, taken now. Nothing goes to Kong's
/// own `kong.ctx.shared` namespace.
pub fn carry<'gc>(pdk: &Pdk, ctx: Context<'gc>, key: &str, value: Value<'gc>) {
    let scope = pdk.scope();
    let typed = encode(ctx, value);
    set(&scope, &typed_path(scope.host_kind, &format!("kong_functions.{key}")), Some(&typed));
}

/// What the other role [`carry`]-ed under `key` in this request; `nil` when nothing was.
pub fn carried<'gc>(pdk: &Pdk, ctx: Context<'gc>, key: &str) -> Value<'gc> {
    let scope = pdk.scope();
    let path = typed_path(scope.host_kind, &format!("kong_functions.{key}"));
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match scope.host.property(&path).filter(|t| !t.is_empty()) {
        Some(typed) => decode(ctx, &typed),
        None => Value::Nil,
    }
}
