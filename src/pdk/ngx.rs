//! The `ngx.*` subset: `ngx.log` and nginx's log-level constants (lua-nginx-module).

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use super::{log::write_line, raise, set_function, Pdk};
use crate::host::LogLevel;

/// nginx log levels, as `ngx.STDERR` ... `ngx.DEBUG`.
const LEVELS: [(&str, i64); 9] = [
    ("STDERR", 0),
    ("EMERG", 1),
    ("ALERT", 2),
    ("CRIT", 3),
    ("ERR", 4),
    ("WARN", 5),
    ("NOTICE", 6),
    ("INFO", 7),
    ("DEBUG", 8),
];

/// Builds the `ngx` table.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    for (name, level) in LEVELS {
        t.set(ctx, name, level).ok();
    }
    set_function(ctx, t, "log", pdk, log);
    t
}

/// The proxy-wasm level of an nginx level number.
fn level_of(nginx_level: i64) -> LogLevel {
    match nginx_level {
        0..=3 => LogLevel::Critical,
        4 => LogLevel::Error,
        5 => LogLevel::Warn,
        6 | 7 => LogLevel::Info,
        _ => LogLevel::Debug,
    }
}

/// `ngx.log(level, ...)`: the arguments concatenated, at the nginx level given.
fn log<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let level = match stack.get(0) {
        v @ (Value::Integer(_) | Value::Number(_)) => v.to_integer().unwrap_or(-1),
        other => {
            return raise(ctx, &exec, &format!(
                "bad argument #1 to 'log' (number expected, got {})",
                other.type_name()
            ))
        }
    };
    if !(0..=8).contains(&level) {
        return raise(ctx, &exec, &format!("bad log level: {level}"));
    }
    write_line(pdk, level_of(level), &stack, 1, "");
    stack.clear();
    Ok(CallbackReturn::Return)
}
