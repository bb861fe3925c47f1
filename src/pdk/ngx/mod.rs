//! The `ngx.*` subset: `ngx.log`, nginx's log-level constants and `ngx.arg` in
//! `body_filter` (lua-nginx-module), with the `ngx.req`, `ngx.resp`, `ngx.re` and
//! utility tables in the modules below.

pub mod pcre;
pub mod re;
pub mod req;
pub mod resp;
pub mod shared;
pub mod ssl;
pub mod timer;
pub mod util;

use piccolo::{CallbackReturn, Context, Error, Execution, MetaMethod, Stack, Table, Value};

use crate::pdk::kong::log::write_line;
use crate::pdk::{function, lua_string, raise, set_function, Pdk};
use crate::host::LogLevel;
use crate::phase::Phase;

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
    t.set(ctx, "arg", arg_table(ctx, pdk)).ok();
    t.set(ctx, "shared", shared::table(ctx, pdk)).ok();
    crate::pdk::ngx::resp::install(ctx, pdk, t);
    crate::pdk::ngx::req::install(ctx, t, pdk);
    crate::pdk::ngx::util::install(ctx, t, pdk);
    crate::pdk::ngx::re::install(ctx, t, pdk);
    crate::pdk::ngx::ssl::install(ctx, t, pdk);
    crate::pdk::ngx::timer::install(ctx, t, pdk);
    t
}

/// `ngx.arg`: in `body_filter`, `ngx.arg[1]` is the response body chunk and `ngx.arg[2]`
/// whether it is the last one; assigning either replaces it (a string or `nil` for the
/// chunk; setting `ngx.arg[2] = true` ends the body there), as lua-nginx-module's
/// `body_filter_by_lua`. Elsewhere both read `nil`, and assigning is an error.
fn arg_table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    let meta = Table::new(&ctx);
    meta.set(ctx, MetaMethod::Index, function(ctx, pdk, arg_get)).ok();
    meta.set(ctx, MetaMethod::NewIndex, function(ctx, pdk, arg_set)).ok();
    t.set_metatable(&ctx, Some(meta));
    t
}

fn arg_get<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let index = stack.get(1).to_integer();
    let value = match (&pdk.scope().request.body, index) {
        (Some(chunk), Some(1)) => lua_string(ctx, &chunk.data),
        (Some(chunk), Some(2)) => Value::Boolean(chunk.eof),
        _ => Value::Nil,
    };
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

fn arg_set<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    if pdk.scope().phase != Phase::BodyFilter {
        return raise(ctx, &exec, "ngx.arg can only be assigned in body_filter");
    }
    let index = stack.get(1).to_integer();
    let value = stack.get(2);
    let mut scope = pdk.scope_mut();
    let Some(chunk) = scope.request.body.as_mut() else {
        return raise(ctx, &exec, "no response body chunk in this phase");
    };
    match (index, value) {
        (Some(1), Value::String(s)) => chunk.data = s.as_bytes().to_vec(),
        (Some(1), Value::Nil) => chunk.data.clear(),
        (Some(1), v @ (Value::Integer(_) | Value::Number(_))) => {
            chunk.data = crate::lua::format::number(v).into_bytes()
        }
        (Some(1), other) => {
            drop(scope);
            return raise(ctx, &exec, &format!("attempt to use {} as response body chunk", other.type_name()));
        }
        (Some(2), v) => chunk.eof = v.to_bool(),
        _ => {
            drop(scope);
            return raise(ctx, &exec, "ngx.arg has only the indexes 1 and 2");
        }
    }
    chunk.changed = true;
    stack.clear();
    Ok(CallbackReturn::Return)
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
