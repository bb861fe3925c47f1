//! JSON encoding of Lua values as Kong's `cjson.safe.encode` does it: a table whose keys
//! are all positive integers is an array (holes become `null`), any other table an
//! object, an empty table `{}`; numbers as `%.14g`; `/` escaped as `\/`.

use std::fmt::Write;

use piccolo::{Context, Table, Value};

use crate::lua::format;

/// Nesting depth at which cjson refuses to go on.
const MAX_DEPTH: usize = 1000;

/// Encodes `value`; errors with cjson's messages ("Cannot serialise function: type not
/// supported", "Cannot serialise, excessive nesting (1001)", "Cannot serialise table:
/// excessively sparse array").
pub fn encode<'gc>(ctx: Context<'gc>, value: Value<'gc>) -> Result<String, String> {
    let mut out = String::new();
    encode_value(ctx, value, 1, &mut out)?;
    Ok(out)
}

fn encode_value<'gc>(ctx: Context<'gc>, value: Value<'gc>, depth: usize, out: &mut String) -> Result<(), String> {
    match value {
        Value::Nil => out.push_str("null"),
        v if super::ngx_util::is_null(v) => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if b { "true" } else { "false" }),
        Value::Integer(_) | Value::Number(_) => {
            let n = value.to_number().unwrap_or(0.0);
            if !n.is_finite() {
                return Err("Cannot serialise number: must not be NaN or Infinity".into());
            }
            out.push_str(&format::number(value));
        }
        Value::String(s) => encode_string(s.as_bytes(), out),
        Value::Table(t) => {
            if depth > MAX_DEPTH {
                return Err(format!("Cannot serialise, excessive nesting ({depth})"));
            }
            encode_table(ctx, t, depth, out)?;
        }
        other => return Err(format!("Cannot serialise {}: type not supported", other.type_name())),
    }
    Ok(())
}

/// The array length when every key is a positive integer, as cjson's `lua_array_length`.
fn array_length(table: Table<'_>) -> Result<Option<i64>, String> {
    let mut max = 0i64;
    let mut count = 0i64;
    for (key, _) in table.iter() {
        let index = match key {
            Value::Integer(i) if i >= 1 => i,
            Value::Number(n) if n >= 1.0 && n.fract() == 0.0 => n as i64,
            _ => return Ok(None),
        };
        max = max.max(index);
        count += 1;
    }
    // cjson's default sparse-array rule: ratio 2, safe up to 10 elements.
    if max > 10 && max > count * 2 {
        return Err("Cannot serialise table: excessively sparse array".into());
    }
    Ok(Some(max))
}

fn encode_table<'gc>(ctx: Context<'gc>, table: Table<'gc>, depth: usize, out: &mut String) -> Result<(), String> {
    match array_length(table)? {
        Some(len) if len > 0 => {
            out.push('[');
            for i in 1..=len {
                if i > 1 {
                    out.push(',');
                }
                encode_value(ctx, table.get(ctx, i), depth + 1, out)?;
            }
            out.push(']');
        }
        _ if table.iter().next().is_none() => out.push_str("{}"),
        _ => {
            out.push('{');
            let mut first = true;
            for (key, value) in table.iter() {
                if !first {
                    out.push(',');
                }
                first = false;
                match key {
                    Value::String(s) => encode_string(s.as_bytes(), out),
                    Value::Integer(_) | Value::Number(_) => {
                        encode_string(format::number(key).as_bytes(), out)
                    }
                    other => {
                        return Err(format!("Cannot serialise {}: table key must be a number or string", other.type_name()))
                    }
                }
                out.push(':');
                encode_value(ctx, value, depth + 1, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn encode_string(bytes: &[u8], out: &mut String) {
    out.push('"');
    for ch in String::from_utf8_lossy(bytes).chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
