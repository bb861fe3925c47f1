//! `kong.request` headers: `get_header`, `get_headers`, and the header facts `ngx.req`
//! and the response side share (name normalisation, Kong's headers table).

use std::borrow::Cow;

use super::*;

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

/// `kong.request.get_header(name)`: the first value of the header, or `nil`. Names are
/// case-insensitive, and `_` stands for `-` as in Kong.
pub(super) fn get_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "header name must be a string");
    };
    // As `header`, without copying the value out of the host view's headers (issue 28).
    let name = normalize_header_name(name.as_bytes());
    let host = pdk.scope().host.clone();
    let mut value = Value::Nil;
    host.with_request_header(&name, &mut |v| value = v.map_or(Value::Nil, |v| text(ctx, v)));
    if value.is_nil() && name == "host" {
        value = host.request_header(":authority").map_or(Value::Nil, |v| text(ctx, &v));
    }
    ret(ctx, stack, value)
}

/// `kong.request.get_headers([max_headers])`: a table of lowercase names to a value, or
/// to an array of values for a repeated header; lookups accept any case and `_` for `-`.
/// At most `max_headers` (default 100, 1 to 1000); a second value `"truncated"` when
/// there were more.
pub(super) fn get_headers<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let max = count_arg(ctx, &exec, stack.get(0), "max_headers")?;
    let headers = header_list(pdk);
    let truncated = headers.len() as i64 > max;
    let table = header_table(ctx, &headers, max);
    let err = if truncated { text(ctx, b"truncated") } else { Value::Nil };
    ret(ctx, stack, (table, err))
}

/// A header name as proxy-wasm hosts key them: lowercase, `_` read as `-`.
/// Borrowed when `name` is already in that form (the usual case: no allocation).
pub fn normalize_header_name(name: &[u8]) -> Cow<'_, str> {
    if !name.is_ascii() {
        return Cow::Owned(String::from_utf8_lossy(name).to_ascii_lowercase().replace('_', "-"));
    }
    if !name.iter().any(|&b| b == b'_' || b.is_ascii_uppercase()) {
        // ASCII, so UTF-8.
        if let Ok(text) = std::str::from_utf8(name) {
            return Cow::Borrowed(text);
        }
    }
    // In one pass and one allocation (this runs for every header read).
    Cow::Owned(name.iter().map(|&b| if b == b'_' { '-' } else { b.to_ascii_lowercase() as char }).collect())
}

/// How many header lines Kong's `get_headers()` returns without `max_headers`
/// (lua-nginx-module's `NGX_HTTP_LUA_MAX_HEADERS`, Kong's `lua_max_*_headers` default).
pub const DEFAULT_MAX_HEADERS: usize = 100;

/// [`header_table`] and whether header lines were left out past `max` (lua-nginx-module's
/// `"truncated"`, the second value of `ngx.req.get_headers` / `ngx.resp.get_headers`,
/// which Kong's `get_headers` functions pass on).
pub fn header_table_truncated<'gc>(ctx: Context<'gc>, headers: &[(String, Vec<u8>)], max: i64) -> (Table<'gc>, Value<'gc>) {
    let count = headers.iter().filter(|(n, _)| !n.starts_with(':')).count() as i64;
    let table = header_table(ctx, headers, max);
    let err = if count > max { Value::String(ctx.intern(b"truncated")) } else { Value::Nil };
    (table, err)
}

/// The first value of header `name` (already normalized: lowercase, `-`) among the first
/// `max` header lines (pseudo-headers left out), as Kong's `get_header` functions read
/// it from `get_headers()[name]` (default 100 lines: a header past them is `nil`).
pub fn first_value_within(headers: Vec<(String, Vec<u8>)>, name: &str, max: usize) -> Option<Vec<u8>> {
    headers
        .into_iter()
        .filter(|(n, _)| !n.starts_with(':'))
        .take(max)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Builds Kong's headers table (at most `max` header lines, pseudo-headers left out),
/// with the `__index` that accepts any case and `_` for `-`.
pub fn header_table<'gc>(ctx: Context<'gc>, headers: &[(String, Vec<u8>)], max: i64) -> Table<'gc> {
    let table = Table::new(&ctx);
    for (name, value) in headers.iter().filter(|(n, _)| !n.starts_with(':')).take(max as usize) {
        let key = Value::String(ctx.intern(name.to_ascii_lowercase().as_bytes()));
        let value = lua_string(ctx, value);
        crate::pdk::args::add_value(ctx, table, key, value);
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
