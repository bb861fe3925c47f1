//! Query strings and `application/x-www-form-urlencoded` bodies, as lua-nginx-module
//! parses and builds them (`ngx.decode_args`, `ngx.encode_args`,
//! `ngx.req.get_uri_args`, `ngx.req.get_post_args`, `ngx.req.set_uri_args`).
//!
//! Decoding (`ngx_http_lua_parse_args`): pairs split on `&`, key and value on the first
//! `=`; both unescaped with `+` as a space and `%XX` decoded (an invalid `%` is kept);
//! a key without `=` is `true`; pairs with an empty key are ignored; a repeated key
//! becomes an array of its values in order; at most `max_args` pairs (0 = no limit).
//!
//! Encoding (`ngx_http_lua_process_args_option`): every string key with a string or
//! number value gives `key=value`, `true` gives `key`, `false` nothing, an array one
//! pair per element; keys and values escaped as nginx's `NGX_ESCAPE_URI_COMPONENT`.

use piccolo::{Context, Table, Value};

use super::lua_string;

/// lua-nginx-module's default for `max_args` (`NGX_HTTP_LUA_MAX_ARGS`).
pub const DEFAULT_MAX_ARGS: usize = 100;

/// One decoded argument value: `true` (a key without `=`) or a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgValue {
    /// `?flag`: the key had no `=`.
    Flag,
    /// `?key=value`, unescaped (possibly empty).
    Text(Vec<u8>),
}

/// What [`decode`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    /// The pairs in order, keys unescaped; empty keys already left out.
    pub pairs: Vec<(Vec<u8>, ArgValue)>,
    /// More pairs followed than `max_args` allowed (lua-nginx-module's `"truncated"`).
    pub truncated: bool,
}

/// Percent-decoding as lua-nginx-module's `ngx_http_lua_unescape_uri` for URI components:
/// `+` is a space, `%XX` the byte, a `%` not followed by two hex digits stays as is.
pub fn unescape(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && hex(bytes[i + 1]).is_some() && hex(bytes[i + 2]).is_some() => {
                out.push(hex(bytes[i + 1]).unwrap_or(0) * 16 + hex(bytes[i + 2]).unwrap_or(0));
                i += 3;
                continue;
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// nginx's `NGX_ESCAPE_URI_COMPONENT` table, as bit sets per 32 bytes: what
/// `ngx.escape_uri` and `ngx.encode_args` escape (everything but ASCII letters, digits
/// and `-._~!'()*`).
const URI_COMPONENT: [u32; 8] = [
    0xffff_ffff, 0xfc00_987d, 0x7800_0001, 0xb800_0001, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff,
];

/// nginx's `NGX_ESCAPE_URI` table: what nginx escapes in a rewritten path
/// (space, `#`, `%`, `?`, control bytes and bytes >= 0x7f).
const URI: [u32; 8] = [
    0xffff_ffff, 0x8000_0029, 0x0000_0000, 0x8000_0000, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff,
];

fn escape_with(table: &[u32; 8], bytes: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(bytes.len());
    for &b in bytes {
        if table[(b >> 5) as usize] & (1 << (b & 0x1f)) != 0 {
            out.extend_from_slice(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]);
        } else {
            out.push(b);
        }
    }
    out
}

/// Escapes a query key or value as `ngx.escape_uri` (uppercase hex).
pub fn escape_component(bytes: &[u8]) -> Vec<u8> {
    escape_with(&URI_COMPONENT, bytes)
}

/// Escapes a path as nginx does when it sends a rewritten URI upstream
/// (`ngx.req.set_uri`): space, `#`, `%`, `?`, control bytes and non-ASCII bytes.
pub fn escape_path(bytes: &[u8]) -> Vec<u8> {
    escape_with(&URI, bytes)
}

/// Parses a query string or form body; `max_args` 0 means no limit.
pub fn decode(query: &[u8], max_args: usize) -> Decoded {
    let mut decoded = Decoded::default();
    let segments: Vec<&[u8]> = query.split(|&b| b == b'&').collect();
    let last = segments.len() - 1;
    let mut count = 0;
    for (i, segment) in segments.iter().enumerate() {
        if i == last && segment.is_empty() {
            break;
        }
        let (key, value) = match segment.iter().position(|&b| b == b'=') {
            Some(eq) => (unescape(&segment[..eq]), ArgValue::Text(unescape(&segment[eq + 1..]))),
            None => (unescape(segment), ArgValue::Flag),
        };
        if !key.is_empty() {
            decoded.pairs.push((key, value));
        }
        // As nginx: every `&`-terminated pair counts, empty keys included.
        count += 1;
        if max_args > 0 && count == max_args && i < last {
            decoded.truncated = segments[i + 1..].iter().any(|s| !s.is_empty());
            break;
        }
    }
    decoded
}

/// A Lua table of decoded pairs: a key seen once maps to its value (`true` or a
/// string), a repeated key to an array of its values in order.
pub fn to_table<'gc>(ctx: Context<'gc>, pairs: &[(Vec<u8>, ArgValue)]) -> Table<'gc> {
    let table = Table::new(&ctx);
    fill_table(ctx, table, pairs);
    table
}

/// [`to_table`] into an existing table (`ngx.req.get_uri_args(max, tab)`).
pub fn fill_table<'gc>(ctx: Context<'gc>, table: Table<'gc>, pairs: &[(Vec<u8>, ArgValue)]) {
    for (key, value) in pairs {
        let key = lua_string(ctx, key);
        let value = match value {
            ArgValue::Flag => Value::Boolean(true),
            ArgValue::Text(t) => lua_string(ctx, t),
        };
        match table.get_value(key) {
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
}

/// Builds a query string from a Lua table as `ngx.encode_args`. Errors with
/// lua-nginx-module's messages: `attempt to use a non-string key in the "args" option
/// table`, `attempt to use <type> as query arg value`.
pub fn encode<'gc>(table: Table<'gc>) -> Result<Vec<u8>, String> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for (key, value) in table.iter() {
        let Value::String(key) = key else {
            return Err("attempt to use a non-string key in the \"args\" option table".into());
        };
        let key = escape_component(key.as_bytes());
        match value {
            Value::Boolean(true) => parts.push(key),
            Value::Boolean(false) => {}
            Value::String(_) | Value::Integer(_) | Value::Number(_) => parts.push(pair(&key, value)),
            Value::Table(list) => {
                // lua_next order: the array part first, in index order.
                let mut entries: Vec<(Value, Value)> = list.iter().collect();
                entries.sort_by_key(|(k, _)| match k {
                    Value::Integer(i) => (0, *i),
                    _ => (1, 0),
                });
                for (_, element) in entries {
                    match element {
                        Value::Boolean(true) => parts.push(key.clone()),
                        Value::Boolean(false) => {}
                        Value::String(_) | Value::Integer(_) | Value::Number(_) => parts.push(pair(&key, element)),
                        other => return Err(format!("attempt to use {} as query arg value", other.type_name())),
                    }
                }
            }
            other => return Err(format!("attempt to use {} as query arg value", other.type_name())),
        }
    }
    Ok(parts.join(&b'&'))
}

fn pair(key: &[u8], value: Value<'_>) -> Vec<u8> {
    let text = match value {
        Value::String(s) => s.as_bytes().to_vec(),
        other => crate::lua::format::number(other).into_bytes(),
    };
    let mut out = key.to_vec();
    out.push(b'=');
    out.extend(escape_component(&text));
    out
}

/// `max_args` as `ngx.decode_args`/`ngx.req.get_*_args` take it: `nil` is the
/// default (100), 0 or less is no limit.
pub fn max_args_of(value: Value<'_>) -> Result<usize, String> {
    match value {
        Value::Nil => Ok(DEFAULT_MAX_ARGS),
        v => match v.to_number() {
            Some(n) if !matches!(v, Value::Boolean(_)) => Ok(if n <= 0.0 { 0 } else { n as usize }),
            _ => Err(format!("number expected, got {}", arg_type_name(v))),
        },
    }
}

/// Lua's type name for an argument (`no value` is not distinguished from `nil`).
pub fn arg_type_name(value: Value<'_>) -> &'static str {
    value.type_name()
}

/// `ngx.decode_args(str, max_args?)`: the table of [`decode`].
pub fn ngx_decode_args<'gc>(
    _pdk: &super::Pdk,
    ctx: Context<'gc>,
    exec: piccolo::Execution<'gc, '_>,
    mut stack: piccolo::Stack<'gc, '_>,
) -> Result<piccolo::CallbackReturn<'gc>, piccolo::Error<'gc>> {
    let query = match stack.get(0) {
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => crate::lua::format::number(v).into_bytes(),
        other => {
            return super::raise(ctx, &exec, &format!(
                "bad argument #1 to 'decode_args' (string expected, got {})",
                arg_type_name(other)
            ))
        }
    };
    let max = match max_args_of(stack.get(1)) {
        Ok(m) => m,
        Err(e) => return super::raise(ctx, &exec, &format!("bad argument #2 to 'decode_args' ({e})")),
    };
    let decoded = decode(&query, max);
    stack.replace(ctx, to_table(ctx, &decoded.pairs));
    Ok(piccolo::CallbackReturn::Return)
}

/// `ngx.encode_args(table)`: the query string of [`encode`].
pub fn ngx_encode_args<'gc>(
    _pdk: &super::Pdk,
    ctx: Context<'gc>,
    exec: piccolo::Execution<'gc, '_>,
    mut stack: piccolo::Stack<'gc, '_>,
) -> Result<piccolo::CallbackReturn<'gc>, piccolo::Error<'gc>> {
    let Value::Table(table) = stack.get(0) else {
        return super::raise(ctx, &exec, &format!(
            "bad argument #1 to 'encode_args' (table expected, got {})",
            arg_type_name(stack.get(0))
        ));
    };
    match encode(table) {
        Ok(query) => {
            stack.replace(ctx, lua_string(ctx, &query));
            Ok(piccolo::CallbackReturn::Return)
        }
        Err(e) => super::raise(ctx, &exec, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> ArgValue {
        ArgValue::Text(s.as_bytes().to_vec())
    }

    fn keys(d: &Decoded) -> Vec<(String, ArgValue)> {
        d.pairs.iter().map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.clone())).collect()
    }

    #[test]
    fn decodes_as_lua_nginx_module() {
        let d = decode(b"foo=hello%20world&bar=baz&zzz&blo=&bar=bla&bar", 100);
        assert_eq!(
            keys(&d),
            [
                ("foo".into(), text("hello world")),
                ("bar".into(), text("baz")),
                ("zzz".into(), ArgValue::Flag),
                ("blo".into(), text("")),
                ("bar".into(), text("bla")),
                ("bar".into(), ArgValue::Flag),
            ]
        );
        assert!(!d.truncated);
        assert_eq!(keys(&decode(b"a+b=c+d%2B&=x&&%zz=1%", 0)), [("a b".into(), text("c d+")), ("%zz".into(), text("1%"))]);
        assert_eq!(decode(b"", 100).pairs, []);
        assert_eq!(keys(&decode(b"a=1=2", 100)), [("a".into(), text("1=2"))]);
    }

    #[test]
    fn max_args_truncates() {
        let d = decode(b"a=1&b=2&c=3", 2);
        assert_eq!(keys(&d), [("a".into(), text("1")), ("b".into(), text("2"))]);
        assert!(d.truncated);
        let d = decode(b"a=1&b=2", 2);
        assert_eq!(d.pairs.len(), 2);
        assert!(!d.truncated);
        assert_eq!(decode(b"a&b&c&d", 0).pairs.len(), 4);
    }

    #[test]
    fn escapes_as_nginx() {
        assert_eq!(escape_component(b"a b&c=d/\xc3\xa9~!*'()"), b"a%20b%26c%3Dd%2F%C3%A9~!*'()");
        assert_eq!(escape_path(b"/a b/%?#\x01"), b"/a%20b/%25%3F%23%01");
        assert_eq!(unescape(b"%41%4a%4A+%"), b"AJJ %");
    }

    #[test]
    fn encodes_tables() {
        let mut lua = piccolo::Lua::core();
        lua.enter(|ctx| {
            let t = Table::new(&ctx);
            t.set(ctx, "a b", "x&y").unwrap();
            assert_eq!(encode(t).unwrap(), b"a%20b=x%26y");
            let t = Table::new(&ctx);
            let list = Table::new(&ctx);
            list.set(ctx, 1, "1").unwrap();
            list.set(ctx, 2, true).unwrap();
            list.set(ctx, 3, false).unwrap();
            list.set(ctx, 4, 2.5).unwrap();
            t.set(ctx, "k", list).unwrap();
            assert_eq!(encode(t).unwrap(), b"k=1&k&k=2.5");
            let t = Table::new(&ctx);
            t.set(ctx, "off", false).unwrap();
            assert_eq!(encode(t).unwrap(), b"");
            let t = Table::new(&ctx);
            t.set(ctx, 1, "x").unwrap();
            assert_eq!(encode(t).unwrap_err(), "attempt to use a non-string key in the \"args\" option table");
            let t = Table::new(&ctx);
            t.set(ctx, "f", Table::new(&ctx)).unwrap();
            let inner = Table::new(&ctx);
            inner.set(ctx, 1, Table::new(&ctx)).unwrap();
            t.set(ctx, "f", inner).unwrap();
            assert_eq!(encode(t).unwrap_err(), "attempt to use table as query arg value");
        });
    }
}
