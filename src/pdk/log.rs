//! `kong.log`: leveled logging, as Kong's `kong/pdk/log.lua`, plus Lua's `print`.
//!
//! Arguments are concatenated with no separator, each converted as `tostring` would
//! (numbers as LuaJIT prints them, `nil`, `true`/`false`), and the line is prefixed with
//! the plugin's namespace: `[pre-function] ` or `[post-function] `.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table};

use super::{set_function, Pdk};
use crate::host::LogLevel;
use crate::lua::format;
use crate::lua::stdlib::base::ToStrings;

/// Builds the `kong.log` table: `debug info notice warn err crit alert emerg`.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "debug", pdk, |p, c, e, s| log_at(p, c, e, s, LogLevel::Debug));
    set_function(ctx, t, "info", pdk, |p, c, e, s| log_at(p, c, e, s, LogLevel::Info));
    set_function(ctx, t, "notice", pdk, |p, c, e, s| log_at(p, c, e, s, LogLevel::Info));
    set_function(ctx, t, "warn", pdk, |p, c, e, s| log_at(p, c, e, s, LogLevel::Warn));
    set_function(ctx, t, "err", pdk, |p, c, e, s| log_at(p, c, e, s, LogLevel::Error));
    set_function(ctx, t, "crit", pdk, |p, c, e, s| log_at(p, c, e, s, LogLevel::Critical));
    set_function(ctx, t, "alert", pdk, |p, c, e, s| log_at(p, c, e, s, LogLevel::Critical));
    set_function(ctx, t, "emerg", pdk, |p, c, e, s| log_at(p, c, e, s, LogLevel::Critical));
    t
}

fn log_at<'gc>(pdk: &Pdk, _ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, level: LogLevel) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    write_line(pdk, level, &stack, 0, "");
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// Lua's `print(...)`: arguments converted with `tostring` (metamethods included) and
/// separated by tabs, logged at notice level as OpenResty does.
pub fn print<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let values = (0..stack.len()).map(|i| stack.get(i)).collect();
    let pdk = pdk.clone();
    ToStrings::start(ctx, values, Box::new(move |parts| {
        let scope = pdk.scope();
        let line = format!("{}{}", scope.log_prefix(), String::from_utf8_lossy(&parts.join(&b'\t')));
        emit(&scope, LogLevel::Info, line);
    }), stack)
}

/// Logs `stack[from..]` joined by `separator`, with the role prefix.
pub fn write_line(pdk: &Pdk, level: LogLevel, stack: &Stack<'_, '_>, from: usize, separator: &str) {
    let scope = pdk.scope();
    let mut line = scope.log_prefix();
    for i in from..stack.len() {
        if i > from {
            line.push_str(separator);
        }
        line.push_str(&format::display(stack.get(i)));
    }
    emit(&scope, level, line);
}

/// Hands a log line to the host, cut to the `log_line_bytes` limit: a longer line keeps
/// its first bytes (on a character boundary) and ends with `...[truncated N bytes]`,
/// so a runaway log call cannot flood the host's log.
pub fn emit(scope: &super::Scope, level: LogLevel, mut line: String) {
    let limit = crate::lua::limits::current().log_line_bytes;
    if line.len() > limit {
        let mut cut = limit;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        let dropped = line.len() - cut;
        line.truncate(cut);
        line.push_str(&format!("...[truncated {dropped} bytes]"));
    }
    scope.host.log(level, &line);
}
