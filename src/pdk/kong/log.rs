//! `kong.log`: leveled logging, as Kong's `kong/pdk/log.lua`, plus Lua's `print`.
//!
//! Arguments are concatenated with no separator, each converted as `tostring` would
//! (numbers as LuaJIT prints them, `nil`, `true`/`false`), and the line is prefixed with
//! the plugin's namespace: `[pre-function] ` or `[post-function] `. That is Kong's
//! namespaced format `[kong] %file_src:%line_src [%namespace] %message` without its first
//! part: `[kong]` is Kong's error-log tag and the source position is where the host's log
//! already says which filter wrote. `kong.log.new(namespace[, format])` makes loggers of
//! other namespaces and formats (see [`new_log`]).

use std::cell::Cell;
use std::rc::Rc;

use piccolo::{Callback, CallbackReturn, Context, Error, Execution, MetaMethod, Stack, Table, Value};

use crate::pdk::{raise, set_function, Pdk};
use crate::phase::kong_phase;
use crate::properties::{HostKind, Need};
use crate::runtime::SerializeValue;
use crate::host::LogLevel;
use crate::lua::format;
use crate::lua::stdlib::base::{self, ToStrings};

/// Builds the `kong.log` table: `debug info notice warn err crit alert emerg`.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    // `None`: the plugin's own format, `[<role>] <message>`; `set_format` replaces it.
    let custom: Rc<std::cell::RefCell<Option<LogFormat>>> = Rc::new(std::cell::RefCell::new(None));
    let level_function = |level: LogLevel, from: usize| {
        let (pdk, custom) = (pdk.clone(), custom.clone());
        Callback::from_fn(&ctx, move |ctx, exec, stack| {
            // The format as it is at the call, with the caller's position when it uses it.
            let format = custom.borrow().clone().map(|f| {
                let position = f.position(&exec);
                (f, position)
            });
            let pdk = pdk.clone();
            log_call(ctx, stack, from, move |message| {
                let scope = pdk.scope();
                let line = match &format {
                    None => format!("{}{message}", scope.log_prefix()),
                    Some((format, position)) => format.render(position, &message),
                };
                emit(&scope, level, line);
            })
        })
    };
    for (name, level) in LEVELS {
        t.set(ctx, name, level_function(level, 0)).ok();
    }
    // Kong's `set_format` on the plugin's logger (`kong.log` is a `new_log` instance).
    let set_format = {
        let (pdk, custom) = (pdk.clone(), custom.clone());
        Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
            let format = match stack.get(0) {
                Value::Nil | Value::Boolean(false) => None,
                Value::String(s) => Some(s.to_str_lossy().into_owned()),
                _ => return Err(crate::lua::error_at(ctx, &exec, "format must be a string")),
            };
            let role = pdk.scope().role.name().to_owned();
            *custom.borrow_mut() = format.map(|f| LogFormat::parse(&role, Some(&f)));
            stack.clear();
            Ok(CallbackReturn::Return)
        })
    };
    t.set(ctx, "set_format", set_format).ok();
    t.set(ctx, "inspect", inspect_table(ctx, pdk, None)).ok();
    set_function(ctx, t, "new", pdk, new_log);
    set_function(ctx, t, "set_serialize_value", pdk, set_serialize_value);
    set_function(ctx, t, "serialize", pdk, serialize);
    t.set(ctx, "deprecation", deprecation_table(ctx, pdk)).ok();
    // `kong.log(...)` is `kong.log.notice(...)` (Kong's kong/pdk/log.lua `__call`); the
    // table itself is argument 0.
    let meta = Table::new(&ctx);
    meta.set(ctx, piccolo::MetaMethod::Call, level_function(LogLevel::Info, 1)).ok();
    t.set_metatable(&ctx, Some(meta));
    t
}

/// `kong.log.deprecation(...)` and `kong.log.deprecation.write(...)`: a warning made of
/// every argument (as Kong's `kong.log.deprecation` concatenates them), where a last
/// argument that is a table holds the options, `after`/`removal` rendered as Kong's
/// deprecation module does (`msg (deprecated after 2.8.0, scheduled for removal in 4.0.0)`).
fn deprecation_table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "write", pdk, |p, c, e, s| deprecation_write(p, c, e, s, 0));
    let meta = Table::new(&ctx);
    // Called as `kong.log.deprecation(...)`: the table itself is argument 0.
    meta.set(ctx, piccolo::MetaMethod::Call, crate::pdk::function(ctx, pdk, |p, c, e, s| deprecation_write(p, c, e, s, 1))).ok();
    t.set_metatable(&ctx, Some(meta));
    t
}

fn deprecation_write<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, first: usize) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let text = |v: piccolo::Value<'gc>| crate::lua::format::display(v);
    let mut last = stack.len();
    let opts = match stack.len().checked_sub(1).map(|i| stack.get(i)) {
        Some(piccolo::Value::Table(opts)) if stack.len() > first + 1 => {
            last -= 1;
            Some(opts)
        }
        _ => None,
    };
    let mut message: String = (first..last).map(|i| text(stack.get(i))).collect();
    if let Some(opts) = opts {
        let after = opts.get(ctx, "after");
        let removal = opts.get(ctx, "removal");
        match (after.is_nil(), removal.is_nil()) {
            (false, false) => message.push_str(&format!(" (deprecated after {}, scheduled for removal in {})", text(after), text(removal))),
            (false, true) => message.push_str(&format!(" (deprecated after {})", text(after))),
            (true, false) => message.push_str(&format!(" (scheduled for removal in {})", text(removal))),
            (true, true) => {}
        }
    }
    let scope = pdk.scope();
    let line = format!("{}{}", scope.log_prefix(), message);
    emit(&scope, LogLevel::Warn, line);
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `print(...)` as lua-nginx-module replaces it (`ngx_http_lua_print`, "equivalent to
/// ngx.log(ngx.NOTICE, ...)"): arguments converted with `tostring` (metamethods
/// included) and joined with no separator (ngx_http_lua_log.c `log_wrapper`), logged at
/// notice level.
pub fn print<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let values = (0..stack.len()).map(|i| stack.get(i)).collect();
    let pdk = pdk.clone();
    ToStrings::start(ctx, values, Box::new(move |parts| {
        let scope = pdk.scope();
        let line = format!("{}{}", scope.log_prefix(), String::from_utf8_lossy(&parts.concat()));
        emit(&scope, LogLevel::Info, line);
    }), stack)
}

/// Kong's `gen_log_func` message: `stack[from..]` each through `tostring` (`__tostring`
/// metamethods called, `table: 0x...`, `userdata: NULL` for `ngx.null`), concatenated,
/// then handed to `write`.
fn log_call<'gc>(ctx: Context<'gc>, stack: Stack<'gc, '_>, from: usize, write: impl FnOnce(String) + 'static) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let values: Vec<Value<'gc>> = (from..stack.len()).map(|i| stack.get(i)).collect();
    if values.iter().any(|&v| base::has_tostring_meta(ctx, v)) {
        return ToStrings::start(ctx, values, Box::new(move |parts| write(String::from_utf8_lossy(&parts.concat()).into_owned())), stack);
    }
    let mut stack = stack;
    write(values.iter().map(|&v| base::tostring_text(v)).collect());
    stack.clear();
    Ok(CallbackReturn::Return)
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
pub fn emit(scope: &crate::pdk::Scope, level: LogLevel, mut line: String) {
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

/// `kong.log.inspect`: a callable table, as Kong's `new_inspect`. `kong.log.inspect(...)`
/// formats its arguments with [`crate::pdk::kong::inspect::inspect`], separated by
/// spaces, and logs them at notice level in Kong's box ([`inspect_box`]): a header
/// `<chunk>:<function>:<line> [<namespace>]` ruled to 122 columns, then the dump in
/// `|`-framed lines of 120 columns, then a closing rule. The namespace is the plugin's
/// (`pre-function` / `post-function`) or the one given to `kong.log.new`. Kong's header
/// starts with `[kong] `, its error-log tag, which no line of ours carries; the function
/// name is `?` (Kong's value when the caller has none, as a chunk's main function).
/// `kong.log.inspect.off()` turns it into a no-op for this logger, `on()` back.
fn inspect_table<'gc>(ctx: Context<'gc>, pdk: &Pdk, namespace: Option<String>) -> Table<'gc> {
    let enabled = Rc::new(Cell::new(true));
    let t = Table::new(&ctx);
    let on = enabled.clone();
    t.set(ctx, "on", Callback::from_fn(&ctx, move |_, _, mut stack| {
        on.set(true);
        stack.clear();
        Ok(CallbackReturn::Return)
    }))
    .ok();
    let off = enabled.clone();
    t.set(ctx, "off", Callback::from_fn(&ctx, move |_, _, mut stack| {
        off.set(false);
        stack.clear();
        Ok(CallbackReturn::Return)
    }))
    .ok();
    let pdk = pdk.clone();
    let call = Callback::from_fn(&ctx, move |_ctx, exec, mut stack| {
        if enabled.get() {
            // stack[0] is the inspect table itself (`__call`).
            let parts: Vec<String> = (1..stack.len()).map(|i| crate::pdk::kong::inspect::inspect(stack.get(i))).collect();
            let scope = pdk.scope();
            let namespace = namespace.clone().unwrap_or_else(|| scope.role.name().to_owned());
            let (file, line) = caller(&exec);
            let header = format!("{file}:?:{line} [{namespace}]");
            for line in inspect_box(&header, &parts.join(" ")) {
                emit(&scope, LogLevel::Info, line);
            }
        }
        stack.clear();
        Ok(CallbackReturn::Return)
    });
    let meta = Table::new(&ctx);
    meta.set(ctx, MetaMethod::Call, call).ok();
    t.set_metatable(&ctx, Some(meta));
    t
}

/// The calling Lua chunk's name and current line (`?` for both when there is none), as
/// Kong's `%file_src` and `%line_src`.
fn caller(exec: &Execution<'_, '_>) -> (String, String) {
    match exec.upper_lua_frame() {
        Some(frame) => (frame.chunk_name.to_str_lossy().into_owned(), frame.current_line.to_string()),
        None => ("?".into(), "?".into()),
    }
}

/// Kong's inspect box (`gen_log_func` with `inspect`, `kong/pdk/log.lua`): the header
/// followed by dashes to column 121 and `+`; the message cut at each newline and every
/// 120 bytes, each piece padded to 120 and framed in `|`; then `+`, 120 dashes, `+`.
pub(crate) fn inspect_box(header: &str, message: &str) -> Vec<String> {
    const WRAP: usize = 120;
    let full = format!("{header}\n{message}").into_bytes();
    let nl = header.len();
    let mut lines = vec![format!("{header}{}+", "-".repeat((WRAP + 1).saturating_sub(nl)))];
    let mut i = nl + 1;
    while i < full.len() {
        let end = (i + WRAP).min(full.len());
        let part = match full[i..end].iter().position(|&b| b == b'\n') {
            Some(p) => {
                let piece = &full[i..i + p];
                i += p + 1;
                piece
            }
            None => {
                let piece = &full[i..end];
                i += WRAP;
                piece
            }
        };
        let text = String::from_utf8_lossy(part);
        lines.push(format!("|{text}{}|", " ".repeat(WRAP.saturating_sub(part.len()))));
        if i >= full.len() {
            lines.push(format!("+{}+", "-".repeat(WRAP)));
        }
    }
    lines
}

/// A parsed log format (Kong's `parse_modifiers`): text and the modifiers
/// `%file_src`, `%line_src`, `%func_name`, `%message`, with `%namespace` already put in.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    FileSrc,
    LineSrc,
    FuncName,
    Message,
}

/// A `kong.log.new` logger's format: `None` is Kong's default namespaced format
/// (`%file_src:%line_src [%namespace] %message`), written as every line of ours is:
/// `[<namespace>] <message>` (the host's log has the source position; see the module
/// docs).
#[derive(Debug, Clone, PartialEq)]
struct LogFormat {
    namespace: String,
    pieces: Option<Vec<Piece>>,
}

impl LogFormat {
    /// Kong's `set_format`: `%namespace` (not after a `%`) becomes the namespace, then
    /// every `%name` not after a `%` is a modifier when it is one of Kong's, text
    /// otherwise.
    fn parse(namespace: &str, format: Option<&str>) -> LogFormat {
        let Some(format) = format else {
            return LogFormat { namespace: namespace.to_owned(), pieces: None };
        };
        let mut substituted = String::new();
        let mut rest = format;
        let mut prev: Option<char> = Some(' '); // Kong's `[kong] ` prefix comes before.
        while let Some(at) = rest.find("%namespace") {
            let before = &rest[..at];
            let prev_char = before.chars().last().or(prev);
            substituted.push_str(before);
            if prev_char == Some('%') {
                substituted.push_str("%namespace");
            } else {
                substituted.push_str(namespace);
            }
            rest = &rest[at + "%namespace".len()..];
            prev = substituted.chars().last();
        }
        substituted.push_str(rest);
        let mut pieces = Vec::new();
        let mut text = String::new();
        let bytes = substituted.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && (i == 0 || bytes[i - 1] != b'%') {
                let end = (i + 1..bytes.len()).find(|&j| !(bytes[j].is_ascii_lowercase() || bytes[j] == b'_')).unwrap_or(bytes.len());
                if end > i + 1 {
                    let piece = match &substituted[i..end] {
                        "%file_src" => Some(Piece::FileSrc),
                        "%line_src" => Some(Piece::LineSrc),
                        "%func_name" => Some(Piece::FuncName),
                        "%message" => Some(Piece::Message),
                        _ => None,
                    };
                    if let Some(piece) = piece {
                        if !text.is_empty() {
                            pieces.push(Piece::Text(std::mem::take(&mut text)));
                        }
                        pieces.push(piece);
                        i = end;
                        continue;
                    }
                }
            }
            let ch_len = substituted[i..].chars().next().map_or(1, char::len_utf8);
            text.push_str(&substituted[i..i + ch_len]);
            i += ch_len;
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        LogFormat { namespace: namespace.to_owned(), pieces: Some(pieces) }
    }

    /// The caller's `(file, line)` when the format shows them (`%file_src`, `%line_src`).
    fn position(&self, exec: &Execution<'_, '_>) -> (String, String) {
        let uses = self.pieces.as_ref().is_some_and(|p| p.iter().any(|p| matches!(p, Piece::FileSrc | Piece::LineSrc)));
        if uses {
            caller(exec)
        } else {
            (String::new(), String::new())
        }
    }

    /// The line for `message`, with the caller's `position` ([`LogFormat::position`]).
    fn render(&self, position: &(String, String), message: &str) -> String {
        let Some(pieces) = &self.pieces else {
            return format!("[{}] {message}", self.namespace);
        };
        let (file, line) = position;
        pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.as_str(),
                Piece::FileSrc => file.as_str(),
                Piece::LineSrc => line.as_str(),
                Piece::FuncName => "?",
                Piece::Message => message,
            })
            .collect()
    }
}

/// The levels of a logger, as Kong's `_LEVELS` names them, with their host levels.
const LEVELS: [(&str, LogLevel); 8] = [
    ("debug", LogLevel::Debug),
    ("info", LogLevel::Info),
    ("notice", LogLevel::Info),
    ("warn", LogLevel::Warn),
    ("err", LogLevel::Error),
    ("crit", LogLevel::Critical),
    ("alert", LogLevel::Critical),
    ("emerg", LogLevel::Critical),
];

/// `kong.log.new(namespace[, format])`: a logger as Kong's `new_log`, with its checks and
/// messages: the level functions and `kong.log(...)` (notice) writing lines in the
/// logger's format, `set_format(fmt)` (`nil`: back to the default), `inspect` under the
/// namespace, `deprecation`, `trace` (a no-op, as Kong outside its test suite),
/// `set_serialize_value`, `serialize` and `new`.
fn new_log<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    // Called as `kong.log.new(...)`; as a method (`log:new(...)`) the logger comes first.
    let first = usize::from(matches!(stack.get(0), Value::Table(_)));
    let namespace = match stack.get(first) {
        Value::String(s) => s.to_str_lossy().into_owned(),
        _ => return raise(ctx, &exec, "namespace must be a string"),
    };
    if namespace.is_empty() {
        return raise(ctx, &exec, "namespace cannot be an empty string");
    }
    let format = match stack.get(first + 1) {
        Value::Nil | Value::Boolean(false) => None,
        Value::String(s) if s.as_bytes().is_empty() => return raise(ctx, &exec, "format cannot be an empty string if specified"),
        Value::String(s) => Some(s.to_str_lossy().into_owned()),
        _ => return raise(ctx, &exec, "format must be a string if specified"),
    };
    let logger = logger(ctx, pdk, &namespace, format.as_deref());
    stack.replace(ctx, logger);
    Ok(CallbackReturn::Return)
}

fn logger<'gc>(ctx: Context<'gc>, pdk: &Pdk, namespace: &str, format: Option<&str>) -> Table<'gc> {
    let t = Table::new(&ctx);
    let current = Rc::new(std::cell::RefCell::new(LogFormat::parse(namespace, format)));
    for (name, level) in LEVELS {
        let (pdk, current) = (pdk.clone(), current.clone());
        let f = Callback::from_fn(&ctx, move |ctx, exec, stack| {
            let format = current.borrow().clone();
            let position = format.position(&exec);
            let pdk = pdk.clone();
            log_call(ctx, stack, 0, move |message| {
                let scope = pdk.scope();
                emit(&scope, level, format.render(&position, &message));
            })
        });
        t.set(ctx, name, f).ok();
    }
    let set_format = {
        let (current, namespace) = (current.clone(), namespace.to_owned());
        Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
            let format = match stack.get(0) {
                Value::Nil | Value::Boolean(false) => None,
                Value::String(s) => Some(s.to_str_lossy().into_owned()),
                _ => return Err(crate::lua::error_at(ctx, &exec, "format must be a string")),
            };
            *current.borrow_mut() = LogFormat::parse(&namespace, format.as_deref());
            stack.clear();
            Ok(CallbackReturn::Return)
        })
    };
    t.set(ctx, "set_format", set_format).ok();
    t.set(ctx, "inspect", inspect_table(ctx, pdk, Some(namespace.to_owned()))).ok();
    t.set(ctx, "deprecation", deprecation_table(ctx, pdk)).ok();
    t.set(ctx, "trace", Callback::from_fn(&ctx, |_, _, mut stack| {
        stack.clear();
        Ok(CallbackReturn::Return)
    }))
    .ok();
    set_function(ctx, t, "set_serialize_value", pdk, set_serialize_value);
    set_function(ctx, t, "serialize", pdk, serialize);
    set_function(ctx, t, "new", pdk, new_log);
    // `log(...)` is `log.notice(...)` (Kong's `_log_mt.__call`).
    let meta = Table::new(&ctx);
    let notice = t.get(ctx, "notice");
    let call = Callback::from_fn_with(&ctx, notice, |notice, ctx, _exec, mut stack| {
        let Value::Function(notice) = *notice else {
            stack.clear();
            return Ok(CallbackReturn::Return);
        };
        // Drop the logger itself (argument 0) and call `notice` with the rest.
        let args: Vec<Value> = (1..stack.len()).map(|i| stack.get(i)).collect();
        stack.clear();
        stack.extend(args);
        let _ = ctx;
        Ok(CallbackReturn::Call { function: notice, then: None })
    });
    meta.set(ctx, MetaMethod::Call, call).ok();
    t.set_metatable(&ctx, Some(meta));
    t
}

/// Kong's `phases_with_ctx`: rewrite, access, header_filter, response, body_filter, log.
const PHASES_WITH_CTX: u32 = kong_phase::REWRITE
    | kong_phase::ACCESS
    | kong_phase::HEADER_FILTER
    | kong_phase::RESPONSE
    | kong_phase::BODY_FILTER
    | kong_phase::LOG;

/// Kong's message for a value `serialize` cannot use.
const INVALID_VALUE: &str = "value must be nil, a number, string, boolean or a non-self-referencial table \
                             containing numbers, string and booleans";

/// `kong.log.set_serialize_value(key, value[, options])`: records a change to the table
/// `kong.log.serialize` returns. `key` is dotted (`a.b.c`; `\.` is a literal dot);
/// `options.mode` is `set` (default), `add` (only when absent) or `replace` (only when
/// present); a `nil` value removes the field. The value is captured now (Kong keeps a
/// reference, so later changes to a table would show); an unusable value (a function,
/// a self-referencing table) fails at `serialize` time, as in Kong. Each call is also
/// appended to `ngx.ctx.serialize_values` as `{ key, value, mode }`, as Kong keeps it.
fn set_serialize_value<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, PHASES_WITH_CTX)?;
    let Value::String(key) = stack.get(0) else {
        return raise(ctx, &exec, "key must be a string");
    };
    let mode = match stack.get(2) {
        Value::Table(options) => options.get(ctx, "mode"),
        _ => Value::Nil,
    };
    let mode = match mode {
        Value::Nil | Value::Boolean(false) => "set",
        Value::String(m) if m.as_bytes() == b"set" => "set",
        Value::String(m) if m.as_bytes() == b"add" => "add",
        Value::String(m) if m.as_bytes() == b"replace" => "replace",
        _ => return raise(ctx, &exec, "mode must be 'set', 'add' or 'replace'"),
    };
    let lua_value = stack.get(1);
    let value = match lua_value {
        v @ (Value::Nil | Value::Boolean(_) | Value::Integer(_) | Value::Number(_) | Value::String(_) | Value::Table(_)) => {
            crate::pdk::lua_json::from_lua(ctx, v).ok()
        }
        _ => None,
    };
    // Kong keeps its list in `ngx.ctx.serialize_values` ({ key, value, mode } each, in call
    // order; kong/pdk/log.lua): the same list is there for chunks that read it.
    // `serialize` applies the values captured here.
    let ngx_ctx = crate::pdk::kong::ctx::ngx_ctx(pdk, ctx);
    let list = match ngx_ctx.get(ctx, "serialize_values") {
        Value::Table(list) => list,
        _ => {
            let list = Table::new(&ctx);
            ngx_ctx.set(ctx, "serialize_values", list).ok();
            list
        }
    };
    let data = Table::new(&ctx);
    data.set(ctx, "key", Value::String(key)).ok();
    data.set(ctx, "value", lua_value).ok();
    data.set(ctx, "mode", mode).ok();
    list.set(ctx, list.length() + 1, data).ok();
    let entry = SerializeValue { key: key.to_str_lossy().into_owned(), value, mode };
    pdk.scope_mut().request.serialize_values.push(entry);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.log.serialize()` (log phase only): the request summary Kong's logging plugins
/// write, as Kong's `kong/pdk/log.lua` builds it, from host headers and properties:
///
/// - `request`: `id` (`x-request-id` / `request.id`, else `""`), `uri` (`:path` with its
///   query), `url` (`scheme://host[:port]uri`), `querystring` (table as
///   `kong.request.get_query`), `method`, `headers` (`authorization` and
///   `proxy-authorization` as `"REDACTED"`), `size` (bytes received, when the host
///   says: Envoy `request.total_size`, Kong `request_length`);
/// - `upstream_uri`: the path as sent upstream (`:path` now);
/// - `response`: `status`, `headers` (the filter's own response when it exited), `size`
///   (bytes sent, when the host says: Envoy `response.total_size`, Kong `bytes_sent`);
/// - `latencies`: `request` (ms since the request started), `kong` 0, `proxy` -1 and
///   `receive` 0 (Kong's values when it did not measure: proxy-wasm hosts do not say);
/// - `client_ip`, `started_at` (ms since the epoch), `route` and `service` (as
///   `kong.router`), `source` (`exit` when the filter answered, `service` otherwise;
///   Kong's own `kong.response.source` on Kong).
///
/// Left out (no host provides them to a filter): `tries`, `authenticated_entity`,
/// `consumer`, `request.tls`, `upstream_status`, `workspace`, `workspace_name`,
/// `trace_id`, `correlation_id`. Then `set_serialize_value` changes apply, in order.
fn serialize<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, kong_phase::LOG)?;
    let mut root = summary(pdk);
    let edits = pdk.scope().request.serialize_values.clone();
    if let Err(message) = apply_serialize_values(&mut root, &edits) {
        return raise(ctx, &exec, &message);
    }
    stack.replace(ctx, crate::pdk::lua_json::to_lua(ctx, &root));
    Ok(CallbackReturn::Return)
}

/// The log summary before `set_serialize_value` edits (see [`serialize`]).
pub fn summary(pdk: &Pdk) -> serde_json::Value {
    use serde_json::{json, Map, Value as J};
    let route = crate::pdk::kong::router::route(pdk);
    let service = crate::pdk::kong::router::service(pdk);
    let scope = pdk.scope();
    let host = scope.host.as_ref();
    let kind = scope.host_kind;
    let text = |name: &str| host.request_header(name).map(|v| String::from_utf8_lossy(&v).into_owned());
    let number = |need: Need| -> Option<J> {
        let t = need.read_text(host, kind)?;
        t.trim().parse::<i64>().ok().map(J::from).or_else(|| t.trim().parse::<f64>().ok().map(J::from))
    };

    let uri = text(":path").unwrap_or_else(|| "/".into());
    let scheme = Need::Scheme.read_text(host, kind).or_else(|| text(":scheme")).unwrap_or_else(|| "http".into());
    let authority = text(":authority").or_else(|| text("host")).unwrap_or_default();
    let host_name = crate::properties::strip_port(&authority).to_ascii_lowercase();
    let authority_port = authority.rsplit_once(':').and_then(|(h, p)| (!h.ends_with(':')).then(|| p.parse::<u16>().ok()).flatten());
    let port = Need::ServerPort
        .read_text(host, kind)
        .and_then(|p| p.trim().parse::<u16>().ok())
        .or(authority_port);
    let url = match port {
        Some(port) => format!("{scheme}://{host_name}:{port}{uri}"),
        None => format!("{scheme}://{host_name}{uri}"),
    };
    let query = uri.split_once('?').map(|(_, q)| q).unwrap_or("");

    let mut request_headers = headers_json(&host.request_headers());
    for secret in ["authorization", "proxy-authorization"] {
        if let Some(v) = request_headers.get_mut(secret) {
            *v = J::from("REDACTED");
        }
    }
    let request_id = text("x-request-id").or_else(|| Need::RequestId.read_text(host, kind)).unwrap_or_default();

    let mut request = Map::new();
    request.insert("id".into(), J::from(request_id));
    request.insert("uri".into(), J::from(uri.clone()));
    request.insert("url".into(), J::from(url));
    request.insert("querystring".into(), J::Object(query_json(query)));
    request.insert("method".into(), J::from(text(":method").unwrap_or_else(|| "GET".into())));
    request.insert("headers".into(), J::Object(request_headers));
    if let Some(size) = number(Need::RequestSize) {
        request.insert("size".into(), size);
    }

    let exit = scope.request.exit.as_ref();
    let response_headers = match exit {
        Some(local) => local.headers.clone(),
        None => host.response_headers(),
    };
    let status = exit
        .map(|e| e.status)
        .or_else(|| host.response_header(":status").and_then(|s| String::from_utf8_lossy(&s).trim().parse().ok()))
        .or(scope.request.status);
    let mut response = Map::new();
    if let Some(status) = status {
        response.insert("status".into(), J::from(status));
    }
    response.insert("headers".into(), J::Object(headers_json(&response_headers)));
    if let Some(size) = number(Need::ResponseSize) {
        response.insert("size".into(), size);
    }

    let now_ms = host.now_nanos() / 1_000_000;
    let started_at = match scope.request.start_time_ms {
        0 => Need::RequestTime.read(host, kind).and_then(|b| crate::properties::time_ms(&b)),
        ms => Some(ms),
    };
    let request_latency = started_at.map(|s| now_ms.saturating_sub(s)).unwrap_or(0);
    let source = if exit.is_some() {
        "exit".to_string()
    } else if kind == HostKind::Kong {
        Need::ResponseSource.read_text(host, kind).unwrap_or_else(|| "service".into())
    } else {
        "service".into()
    };

    let mut root = Map::new();
    root.insert("request".into(), J::Object(request));
    root.insert("upstream_uri".into(), J::from(uri));
    root.insert("response".into(), J::Object(response));
    root.insert("latencies".into(), json!({ "request": request_latency, "kong": 0, "proxy": -1, "receive": 0 }));
    if let Some(ip) = Need::ClientAddress.read_text(host, kind) {
        root.insert("client_ip".into(), J::from(ip));
    }
    if let Some(started_at) = started_at {
        root.insert("started_at".into(), J::from(started_at));
    }
    if let Some(route) = route {
        root.insert("route".into(), route);
    }
    if let Some(service) = service {
        root.insert("service".into(), service);
    }
    root.insert("source".into(), J::from(source));
    J::Object(root)
}

/// Header pairs as Kong's headers table: lowercase names, pseudo-headers left out, a
/// repeated header as an array of its values.
fn headers_json(headers: &[(String, Vec<u8>)]) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value as J;
    let mut map = serde_json::Map::new();
    for (name, value) in headers.iter().filter(|(n, _)| !n.starts_with(':')) {
        let value = J::from(String::from_utf8_lossy(value).into_owned());
        match map.get_mut(&name.to_ascii_lowercase()) {
            None => {
                map.insert(name.to_ascii_lowercase(), value);
            }
            Some(J::Array(values)) => values.push(value),
            Some(first) => *first = J::Array(vec![first.take(), value]),
        }
    }
    map
}

/// A query string as `ngx.req.get_uri_args` reads it: `a=1&b&c=` is
/// `{a = "1", b = true, c = ""}`; a repeated key gives an array; `+` and `%XX` decoded.
fn query_json(query: &str) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value as J;
    let mut map = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = match pair.split_once('=') {
            Some((k, v)) => (decode_component(k), J::from(decode_component(v))),
            None => (decode_component(pair), J::Bool(true)),
        };
        if key.is_empty() {
            continue;
        }
        match map.get_mut(&key) {
            None => {
                map.insert(key, value);
            }
            Some(J::Array(values)) => values.push(value),
            Some(first) => *first = J::Array(vec![first.take(), value]),
        }
    }
    map
}

fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Kong's `edit_result`: applies the `set_serialize_value` changes in order. Errors
/// with Kong's messages for an unusable value or a path through a non-table.
pub fn apply_serialize_values(root: &mut serde_json::Value, edits: &[SerializeValue]) -> Result<(), String> {
    use serde_json::Value as J;
    for edit in edits {
        let Some(new_value) = edit.value.clone() else {
            return Err(INVALID_VALUE.to_string());
        };
        let (path, last) = split_key(&edit.key);
        let set_or_add = edit.mode != "replace";
        let mut node = Some(&mut *root);
        for subkey in &path {
            let Some(J::Object(map)) = node else {
                node = None;
                break;
            };
            let present = map.get(subkey).is_some_and(|v| !v.is_null());
            if !present {
                if !set_or_add {
                    node = None;
                    break;
                }
                map.insert(subkey.clone(), J::Object(serde_json::Map::new()));
            }
            let child = map.get_mut(subkey).expect("present or inserted");
            if !matches!(child, J::Object(_) | J::Array(_)) {
                return Err(format!(
                    "The key '{}' could not be used as a serialize value. Subkey '{subkey}' is not a table. It's {}",
                    edit.key,
                    json_tostring(child)
                ));
            }
            node = Some(child);
        }
        // Arrays cannot take Kong's string subkeys: such a change has no effect.
        if let Some(J::Object(map)) = node {
            let exists = map.get(&last).is_some_and(|v| !v.is_null());
            let apply = match edit.mode {
                "add" => !exists,
                "replace" => exists,
                _ => true,
            };
            if apply {
                if new_value.is_null() {
                    map.remove(&last);
                } else {
                    map.insert(last, new_value);
                }
            }
        }
    }
    Ok(())
}

/// Splits a serialize key on dots not preceded by `\`, turning `\.` into `.`; a dot in
/// the first position is part of the first subkey (as Kong's loop starts at byte 2).
fn split_key(key: &str) -> (Vec<String>, String) {
    let bytes = key.as_bytes();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..bytes.len() {
        if bytes[i] == b'.' && bytes[i - 1] != b'\\' {
            parts.push(key[start..i].replace("\\.", "."));
            start = i + 1;
        }
    }
    let last = key.get(start..).unwrap_or("").replace("\\.", ".");
    (parts, last)
}

/// `tostring` of a JSON scalar as Lua would show the decoded value.
fn json_tostring(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "nil".into(),
        other => other.to_string(),
    }
}
