//! Query strings and `application/x-www-form-urlencoded` bodies on the Lua side, as
//! lua-nginx-module parses and builds them (`ngx.decode_args`, `ngx.encode_args`,
//! `ngx.req.get_uri_args`, `ngx.req.get_post_args`, `ngx.req.set_uri_args`). The byte
//! level lives in [`crate::codec::form`]; this module turns it into tables and back.
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
pub use crate::codec::form::{decode, escape_component, escape_path, unescape, ArgValue, Decoded, DEFAULT_MAX_ARGS};

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
        add_value(ctx, table, key, value);
    }
}

/// Sets `value` under `key`, or appends it when `key` is already there: a key seen once
/// maps to its value, a repeated one to an array of its values in order. The shape of
/// `ngx.decode_args`, Kong's headers tables and lua-multipart's `get_all_with_arrays`.
/// Reads raw (the tables it fills have no metatable yet, or one only for lookups).
pub fn add_value<'gc>(ctx: Context<'gc>, table: Table<'gc>, key: Value<'gc>, value: Value<'gc>) {
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

/// Multipart parts as lua-multipart's `get_all_with_arrays`: a name seen once maps to
/// its value, a repeated name to an array of its values.
pub fn parts_table<'gc>(ctx: Context<'gc>, parts: &[(Vec<u8>, Vec<u8>)]) -> Table<'gc> {
    let pairs: Vec<(Vec<u8>, ArgValue)> =
        parts.iter().map(|(n, v)| (n.clone(), ArgValue::Text(v.clone()))).collect();
    to_table(ctx, &pairs)
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
            Value::Table(list) => {
                // lua_next order: the array part first, in index order.
                let mut entries: Vec<(Value, Value)> = list.iter().collect();
                entries.sort_by_key(|(k, _)| match k {
                    Value::Integer(i) => (0, *i),
                    _ => (1, 0),
                });
                for (_, element) in entries {
                    push_scalar(&mut parts, &key, element)?;
                }
            }
            other => push_scalar(&mut parts, &key, other)?,
        }
    }
    Ok(parts.join(&b'&'))
}

/// One `key`, `key=value` or nothing for a boolean, string or number value.
fn push_scalar(parts: &mut Vec<Vec<u8>>, key: &[u8], value: Value<'_>) -> Result<(), String> {
    match value {
        Value::Boolean(true) => parts.push(key.to_vec()),
        Value::Boolean(false) => {}
        Value::String(_) | Value::Integer(_) | Value::Number(_) => parts.push(pair(key, value)),
        other => return Err(format!("attempt to use {} as query arg value", other.type_name())),
    }
    Ok(())
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
