//! Per-request Lua tables: the storage behind `kong.ctx.shared`, `kong.ctx.plugin` and
//! `ngx.ctx` (Kong's `kong/pdk/ctx.lua`). Each is created on first use in a request and
//! dropped with the request's state, so nothing leaks from one request to the next.

use piccolo::{Callback, CallbackReturn, Context, MetaMethod, Table, Value};

use super::{lua_string, Pdk};
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
///   post-function's `log`. Tables, functions and other values stay in the writing
///   instance (writing one clears the mirrored property). On Kong, the property is a
///   string (Kong's handler stores `tostring(value)`), so a number written by the other
///   role reads back as a string; elsewhere the type survives. `kong.ctx.shared` is a
///   proxy: `pairs` works (`__pairs`), `next`/`rawget` on it see nothing.
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
            write_mirror(&writer, &k.to_str_lossy(), value);
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

/// Mirrors a `kong.ctx.shared` write into the host property: scalars are stored (on
/// Kong as `tostring` would show them; elsewhere tagged with their type), anything else
/// removes the property so the other role never reads a stale value.
fn write_mirror(pdk: &Pdk, key: &str, value: Value<'_>) {
    let scope = pdk.scope();
    let kong = scope.host_kind == HostKind::Kong;
    let encoded: Option<Vec<u8>> = match value {
        Value::String(s) if kong => Some(s.as_bytes().to_vec()),
        Value::String(s) => Some([b"s".as_slice(), s.as_bytes()].concat()),
        Value::Integer(_) | Value::Number(_) if kong => Some(format::number(value).into_bytes()),
        Value::Integer(_) | Value::Number(_) => Some(format!("n{}", format::number(value)).into_bytes()),
        Value::Boolean(b) if kong => Some(b.to_string().into_bytes()),
        Value::Boolean(b) => Some(format!("b{b}").into_bytes()),
        _ => None,
    };
    let path = ctx_shared_path(scope.host_kind, key);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    scope.host.set_property(&path, encoded.as_deref());
}

/// Reads a `kong.ctx.shared` key mirrored by the other role; `nil` when absent.
fn read_mirror<'gc>(pdk: &Pdk, ctx: Context<'gc>, key: &str) -> Value<'gc> {
    let scope = pdk.scope();
    let path = ctx_shared_path(scope.host_kind, key);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let Some(bytes) = scope.host.property(&path) else { return Value::Nil };
    if scope.host_kind == HostKind::Kong {
        return lua_string(ctx, &bytes);
    }
    match bytes.split_first() {
        Some((b's', rest)) => lua_string(ctx, rest),
        Some((b'n', rest)) => {
            let text = String::from_utf8_lossy(rest);
            match text.parse::<i64>() {
                Ok(i) => Value::Integer(i),
                Err(_) => text.parse::<f64>().map(Value::Number).unwrap_or(Value::Nil),
            }
        }
        Some((b'b', rest)) => Value::Boolean(rest == b"true"),
        // Written by someone else: a string as is.
        _ => lua_string(ctx, &bytes),
    }
}
