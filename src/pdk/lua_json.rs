//! Lua values to and from [`serde_json::Value`]: how `kong.cache` stores values in shared
//! data, and how `kong.log.serialize` builds its table and applies
//! `kong.log.set_serialize_value` edits.

use piccolo::{Context, Table, Value};

use super::json;

/// Encodes `value` as cjson would ([`json::encode`]) and parses the result.
///
/// Errors: cjson's message for values JSON cannot hold (functions, excessive nesting,
/// sparse arrays ...).
pub fn from_lua<'gc>(ctx: Context<'gc>, value: Value<'gc>) -> Result<serde_json::Value, String> {
    let text = json::encode(ctx, value)?;
    serde_json::from_str(&text).map_err(|e| format!("could not serialize value: {e}"))
}

/// A Lua value for `value`: objects and arrays become tables (arrays 1-based), `null`
/// becomes `nil` (a hole in an array, an absent key in an object), integers that fit
/// stay integers.
pub fn to_lua<'gc>(ctx: Context<'gc>, value: &serde_json::Value) -> Value<'gc> {
    match value {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Number(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::String(piccolo::String::from_slice(&ctx, s.as_bytes())),
        serde_json::Value::Array(items) => {
            let table = Table::new(&ctx);
            for (i, item) in items.iter().enumerate() {
                table.set(ctx, i as i64 + 1, to_lua(ctx, item)).ok();
            }
            Value::Table(table)
        }
        serde_json::Value::Object(map) => {
            let table = Table::new(&ctx);
            for (key, item) in map {
                let key = piccolo::String::from_slice(&ctx, key.as_bytes());
                table.set(ctx, key, to_lua(ctx, item)).ok();
            }
            Value::Table(table)
        }
    }
}
