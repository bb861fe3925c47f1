//! `kong.request`: the client's request, as Kong's `kong/pdk/request.lua`.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use super::{lua_string, raise, set_function, Pdk};
use crate::phase::kong_phase;

/// Default and bounds of `get_headers(max_headers)`, as Kong's.
const DEFAULT_MAX_HEADERS: i64 = 100;
const MIN_HEADERS: i64 = 1;
const MAX_HEADERS: i64 = 1000;

/// Builds the `kong.request` table.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "get_header", pdk, get_header);
    set_function(ctx, t, "get_headers", pdk, get_headers);
    set_function(ctx, t, "get_method", pdk, get_method);
    set_function(ctx, t, "get_path", pdk, get_path);
    set_function(ctx, t, "get_raw_path", pdk, get_raw_path);
    t
}

/// `kong.request.get_header(name)`: the first value of the header, or `nil`. Names are
/// case-insensitive, and `_` stands for `-` as in Kong.
fn get_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "header name must be a string");
    };
    let name = normalize_header_name(name.as_bytes());
    let value = pdk.scope().host.request_header(&name);
    stack.replace(ctx, value.map(|v| lua_string(ctx, &v)).unwrap_or(Value::Nil));
    Ok(CallbackReturn::Return)
}

/// `kong.request.get_headers([max_headers])`: a table of lowercase names to a value, or
/// to an array of values for a repeated header; lookups accept any case and `_` for `-`.
fn get_headers<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
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
    let headers = pdk.scope().host.request_headers();
    let table = header_table(ctx, &headers, max);
    stack.replace(ctx, table);
    Ok(CallbackReturn::Return)
}

/// `kong.request.get_method()`: the request method, e.g. `GET`.
fn get_method<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let method = pdk.scope().host.request_header(":method").unwrap_or_else(|| b"GET".to_vec());
    stack.replace(ctx, lua_string(ctx, &method));
    Ok(CallbackReturn::Return)
}

/// `kong.request.get_path()`: the normalized path, without the query string.
fn get_path<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let raw = raw_path(pdk);
    stack.replace(ctx, lua_string(ctx, &normalize_path(&raw)));
    Ok(CallbackReturn::Return)
}

/// `kong.request.get_raw_path()`: the path as received, without the query string.
fn get_raw_path<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let raw = raw_path(pdk);
    stack.replace(ctx, lua_string(ctx, &raw));
    Ok(CallbackReturn::Return)
}

fn raw_path(pdk: &Pdk) -> Vec<u8> {
    let mut path = pdk.scope().host.request_header(":path").unwrap_or_else(|| b"/".to_vec());
    if let Some(q) = path.iter().position(|&b| b == b'?') {
        path.truncate(q);
    }
    path
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

fn decode_unreserved(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && i + 2 < raw.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(raw[i + 1]), hex(raw[i + 2])) {
                let byte = (h * 16 + l) as u8;
                if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
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
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_as_kong() {
        assert_eq!(normalize_path(b"/"), b"/");
        assert_eq!(normalize_path(b""), b"/");
        assert_eq!(normalize_path(b"/a//b/./c/../d"), b"/a/b/d");
        assert_eq!(normalize_path(b"/t/Abc%20123%C3%B8%2f/parent/..//test/./"), b"/t/Abc%20123%C3%B8%2F/test/");
        assert_eq!(normalize_path(b"/%7euser/%41"), b"/~user/A");
        assert_eq!(normalize_path(b"/../.."), b"/");
    }

    #[test]
    fn header_names_normalize() {
        assert_eq!(normalize_header_name(b"X_Custom_Auth"), "x-custom-auth");
    }
}
