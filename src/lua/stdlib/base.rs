//! Lua 5.1's base library where piccolo's differs from LuaJIT: `tostring` (LuaJIT number
//! format), `tonumber` (bases, Lua's number syntax), `pcall`/`xpcall` (errors as strings),
//! `unpack`, `rawequal`, `rawlen`, `getmetatable`/`setmetatable` (`__metatable`, the string
//! metatable), `load`/`loadstring`, `_VERSION`, `_G`, and the method-call helper the
//! compiler rewrite targets (see `crate::lua::compile`).

use gc_arena::Collect;
use piccolo::{
    meta_ops::{self, MetaResult}, BoxSequence, Callback, CallbackReturn, Context, Error, Execution, Function, IntoValue,
    MetaMethod, Sequence, SequencePoll, Stack, Table, Value, Variadic,
};

use super::args::{arg_error, check_any, check_table, type_of};
use crate::lua::{compile, error_at, format};

/// Installs the base functions into the globals; `string` is the string library table,
/// whose metatable-like role `getmetatable("")` and method calls on strings use.
pub fn load<'gc>(ctx: Context<'gc>, string: Table<'gc>) {
    let g = ctx.globals();
    let set = |name: &'static str, f: Callback<'gc>| {
        g.set(ctx, name, f).ok();
    };
    set("tostring", Callback::from_fn(&ctx, tostring));
    set("tonumber", Callback::from_fn(&ctx, tonumber));
    set("pcall", Callback::from_fn(&ctx, pcall));
    set("xpcall", Callback::from_fn(&ctx, xpcall));
    set("rawequal", Callback::from_fn(&ctx, rawequal));
    set("rawlen", Callback::from_fn(&ctx, rawlen));
    set("loadstring", Callback::from_fn(&ctx, loadstring));
    set("load", Callback::from_fn(&ctx, loadstring));
    set("setmetatable", Callback::from_fn(&ctx, setmetatable));
    set("require", Callback::from_fn(&ctx, require));
    set("assert", Callback::from_fn(&ctx, assert));
    set("select", Callback::from_fn(&ctx, select));
    set("next", Callback::from_fn(&ctx, next));
    set("collectgarbage", Callback::from_fn(&ctx, collectgarbage));

    let string_meta = Table::new(&ctx);
    string_meta.set(ctx, MetaMethod::Index, string).ok();
    // `s.len`, `("x").rep` and `s[1]` index through it, as LuaJIT's string metatable
    // (piccolo patch 13); `getmetatable("")` returns the same table.
    ctx.set_string_metatable(Some(string_meta));
    set("getmetatable", Callback::from_fn_with(&ctx, string_meta, getmetatable));
    set(compile::METHOD_CALL, method_call_function(ctx, string));
    set(compile::CONCAT, Callback::from_fn(&ctx, concat));
    set(compile::FIRST_VALUE, Callback::from_fn(&ctx, |ctx, _, mut stack| {
        let first = stack.get(0);
        stack.replace(ctx, first);
        Ok(CallbackReturn::Return)
    }));
    g.set(ctx, "_VERSION", "Lua 5.1").ok();
    g.set(ctx, "_G", g).ok();
}

/// The value Lua code sees for an error: Rust-side (runtime) errors become their message
/// string, as every error is a string in Lua 5.1's standard library.
pub fn error_value<'gc>(ctx: Context<'gc>, error: Error<'gc>) -> Value<'gc> {
    match error {
        Error::Lua(e) => e.0,
        Error::Runtime(e) => Value::String(ctx.intern(crate::lua::runtime_error_text(&e).as_bytes())),
    }
}

/// `tostring` for values without `__tostring`: LuaJIT's formats.
pub fn tostring_plain<'gc>(ctx: Context<'gc>, value: Value<'gc>) -> Value<'gc> {
    match value {
        Value::String(_) => value,
        Value::Nil => "nil".into_value(ctx),
        Value::Boolean(b) => if b { "true" } else { "false" }.into_value(ctx),
        other => Value::String(ctx.intern(tostring_text(other).as_bytes())),
    }
}

/// The text of [`tostring_plain`] (strings lossy UTF-8): numbers as LuaJIT prints them,
/// `table: 0x...`, `function: 0x...`, and `userdata: NULL` for `ngx.null` (OpenResty's
/// light userdata NULL, as LuaJIT prints it; Kong's t/01-pdk/02-log/01-sanity.t TEST 18).
pub fn tostring_text(value: Value<'_>) -> String {
    match value {
        Value::Nil | Value::Boolean(_) | Value::Integer(_) | Value::Number(_) | Value::String(_) => format::display(value),
        v if crate::pdk::ngx::util::is_null(v) => "userdata: NULL".into(),
        other => {
            let text = format::display(other);
            // piccolo shows `<table 0x...>`; LuaJIT shows `table: 0x...`.
            match text.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
                Some(inner) => inner.replacen(' ', ": ", 1),
                None => text,
            }
        }
    }
}

/// Whether `tostring(value)` would call a `__tostring` metamethod.
pub fn has_tostring_meta<'gc>(ctx: Context<'gc>, value: Value<'gc>) -> bool {
    let meta = match value {
        Value::Table(t) => t.metatable(),
        Value::UserData(u) => u.metatable(),
        _ => None,
    };
    meta.is_some_and(|mt| !mt.get(ctx, MetaMethod::ToString).is_nil())
}

fn tostring<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let value = check_any(ctx, &exec, &stack, 0, "tostring")?;
    if let Some(mt) = match value {
        Value::Table(t) => t.metatable(),
        Value::UserData(u) => u.metatable(),
        _ => None,
    } {
        let f = mt.get(ctx, MetaMethod::ToString);
        if !f.is_nil() {
            stack.replace(ctx, value);
            return Ok(CallbackReturn::Call { function: meta_ops::call(ctx, f)?, then: None });
        }
    }
    stack.replace(ctx, tostring_plain(ctx, value));
    Ok(CallbackReturn::Return)
}

/// Lua's number syntax (`lua_str2number`, LuaJIT's `lj_strscan` for decimal and hex):
/// optional surrounding whitespace, optional sign, decimal with fraction and exponent, or
/// `0x` hex. `inf`, `nan` and empty strings are not numbers.
pub fn parse_number(bytes: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let value = if lower == "inf" || lower == "infinity" {
        f64::INFINITY
    } else if lower == "nan" {
        f64::NAN
    } else if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        parse_hex(hex)?
    } else if let Some(bin) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        // LuaJIT 2.1 also reads binary literals.
        if bin.is_empty() {
            return None;
        }
        bin.chars().try_fold(0f64, |acc, c| Some(acc * 2.0 + f64::from(c.to_digit(2)?)))?
    } else {
        let valid = !body.is_empty()
            && body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            && body.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'.');
        if !valid {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if negative { -value } else { value })
}

fn parse_hex(hex: &str) -> Option<f64> {
    let (mantissa, exponent) = match hex.find(['p', 'P']) {
        Some(i) => (&hex[..i], Some(hex[i + 1..].parse::<i32>().ok()?)),
        None => (hex, None),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in int_part.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(value * 2f64.powi(exponent.unwrap_or(0)))
}

/// Digits of `text` in `base` (2-36), as Lua 5.1's `tonumber(s, base)`: whitespace around,
/// an optional `-`, at least one digit, nothing else.
fn parse_in_base(bytes: &[u8], base: u32) -> Option<f64> {
    let text = std::str::from_utf8(bytes).ok()?.trim_matches(|c: char| c.is_ascii_whitespace());
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in digits.chars() {
        value = value * f64::from(base) + f64::from(c.to_digit(base)?);
    }
    Some(if negative { -value } else { value })
}

fn tonumber<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let value = check_any(ctx, &exec, &stack, 0, "tonumber")?;
    let base = stack.get(1);
    let result = if base.is_nil() {
        match value {
            Value::Integer(_) | Value::Number(_) => Some(value),
            Value::String(s) => parse_number(s.as_bytes()).map(super::args::number_value),
            _ => None,
        }
    } else {
        let base = super::args::check_integer(ctx, &exec, &stack, 1, "tonumber")?;
        if !(2..=36).contains(&base) {
            return Err(arg_error(ctx, &exec, 1, "tonumber", "base out of range"));
        }
        let text = super::args::check_bytes(ctx, &exec, &stack, 0, "tonumber")?;
        if base == 10 {
            parse_number(&text).map(super::args::number_value)
        } else {
            parse_in_base(&text, base as u32).map(super::args::number_value)
        }
    };
    stack.replace(ctx, result.unwrap_or(Value::Nil));
    Ok(CallbackReturn::Return)
}

#[derive(Collect)]
#[collect(require_static)]
struct PCall;

impl<'gc> Sequence<'gc> for PCall {
    fn poll(&mut self, _ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        stack.push_front(Value::Boolean(true));
        Ok(SequencePoll::Return)
    }

    fn error(&mut self, ctx: Context<'gc>, _exec: Execution<'gc, '_>, error: Error<'gc>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        stack.clear();
        stack.extend([Value::Boolean(false), error_value(ctx, error)]);
        Ok(SequencePoll::Return)
    }
}

fn pcall<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let f = check_any(ctx, &exec, &stack, 0, "pcall")?;
    let function = match meta_ops::call(ctx, f) {
        Ok(function) => function,
        Err(_) => {
            let message = format!("attempt to call a {} value", f.type_name());
            stack.replace(ctx, (false, message));
            return Ok(CallbackReturn::Return);
        }
    };
    stack.pop_front();
    Ok(CallbackReturn::Call { function, then: Some(BoxSequence::new(&ctx, PCall)) })
}

/// `xpcall(f, handler, ...)`: on error, calls `handler(err)` and returns `false` and
/// its result (LuaJIT passes the extra arguments to `f`).
#[derive(Collect)]
#[collect(no_drop)]
struct XPCall<'gc> {
    handler: Function<'gc>,
    handling: bool,
}

impl<'gc> Sequence<'gc> for XPCall<'gc> {
    fn poll(&mut self, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        if self.handling {
            let result = stack.get(0);
            stack.replace(ctx, (false, result));
        } else {
            stack.push_front(Value::Boolean(true));
        }
        Ok(SequencePoll::Return)
    }

    fn error(&mut self, ctx: Context<'gc>, _exec: Execution<'gc, '_>, error: Error<'gc>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        if self.handling {
            // An error inside the handler: Lua reports it as the result.
            stack.replace(ctx, (false, error_value(ctx, error)));
            return Ok(SequencePoll::Return);
        }
        self.handling = true;
        stack.replace(ctx, error_value(ctx, error));
        Ok(SequencePoll::Call { function: self.handler, is_tail: false })
    }
}

fn xpcall<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let f = check_any(ctx, &exec, &stack, 0, "xpcall")?;
    let handler = check_any(ctx, &exec, &stack, 1, "xpcall")?;
    let handler = meta_ops::call(ctx, handler).map_err(|_| arg_error(ctx, &exec, 1, "xpcall", "function expected"))?;
    let function = meta_ops::call(ctx, f)?;
    stack.drain(0..2);
    Ok(CallbackReturn::Call { function, then: Some(BoxSequence::new(&ctx, XPCall { handler, handling: false })) })
}

fn rawequal<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let a = check_any(ctx, &exec, &stack, 0, "rawequal")?;
    let b = check_any(ctx, &exec, &stack, 1, "rawequal")?;
    let equal = match (a, b) {
        (Value::Table(x), Value::Table(y)) => x == y,
        (Value::Integer(_) | Value::Number(_), Value::Integer(_) | Value::Number(_)) => a.to_number() == b.to_number(),
        (Value::String(x), Value::String(y)) => x.as_bytes() == y.as_bytes(),
        (Value::Nil, Value::Nil) => true,
        (Value::Boolean(x), Value::Boolean(y)) => x == y,
        (Value::Function(x), Value::Function(y)) => x == y,
        (Value::Thread(x), Value::Thread(y)) => x == y,
        (Value::UserData(x), Value::UserData(y)) => x == y,
        _ => false,
    };
    stack.replace(ctx, equal);
    Ok(CallbackReturn::Return)
}

fn rawlen<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let len = match stack.get(0) {
        Value::Table(t) => t.length(),
        Value::String(s) => s.len(),
        _ => return Err(arg_error(ctx, &exec, 0, "rawlen", "table or string expected")),
    };
    stack.replace(ctx, len);
    Ok(CallbackReturn::Return)
}

/// `loadstring(s [, chunkname])` / `load(s [, chunkname])` for string sources: the
/// compiled function, or `nil` and the error message (a syntax error in LuaJIT's words,
/// `crate::lua::syntax::reason`). Binary chunks are refused.
fn loadstring<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let source = match stack.get(0) {
        Value::String(s) => s.as_bytes().to_vec(),
        _ => return Err(arg_error(ctx, &exec, 0, "loadstring", &format!("string expected, got {}", type_of(&stack, 0)))),
    };
    let name = match stack.get(1) {
        Value::String(s) => s.to_str_lossy().into_owned(),
        _ => format!("[string \"{}\"]", chunk_title(&source)),
    };
    if source.first() == Some(&0x1b) {
        stack.replace(ctx, (Value::Nil, "attempt to load a binary chunk"));
        return Ok(CallbackReturn::Return);
    }
    match compile::load(ctx, &name, &source[..], ctx.globals()) {
        Ok(closure) => stack.replace(ctx, closure),
        Err(e) => {
            let (line, reason) = match e {
                // LuaJIT's words, as Kong's schema reports a chunk that does not compile.
                piccolo::PrototypeError::Parser(e) => (e.line_number.to_string(), crate::lua::syntax::reason(&e)),
                piccolo::PrototypeError::Compiler(e) => (e.line_number.to_string(), e.kind.to_string()),
            };
            stack.replace(ctx, (Value::Nil, format!("{name}:{line}: {reason}")));
        }
    }
    Ok(CallbackReturn::Return)
}

/// Lua's short source title: the first line, cut at 60 bytes with `...`.
fn chunk_title(source: &[u8]) -> String {
    let first = source.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let text = String::from_utf8_lossy(first);
    if text.len() > 60 || first.len() < source.len() {
        format!("{}...", text.chars().take(60).collect::<String>())
    } else {
        text.into_owned()
    }
}

fn getmetatable<'gc>(string_meta: &Table<'gc>, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let value = check_any(ctx, &exec, &stack, 0, "getmetatable")?;
    let meta = match value {
        Value::Table(t) => t.metatable(),
        Value::UserData(u) => u.metatable(),
        Value::String(_) => Some(*string_meta),
        _ => None,
    };
    let result = match meta {
        Some(mt) => {
            let protected = mt.get(ctx, "__metatable");
            if protected.is_nil() {
                Value::Table(mt)
            } else {
                protected
            }
        }
        None => Value::Nil,
    };
    stack.replace(ctx, result);
    Ok(CallbackReturn::Return)
}

fn setmetatable<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let table = check_table(ctx, &exec, &stack, 0, "setmetatable")?;
    let meta = match stack.get(1) {
        Value::Nil => None,
        Value::Table(t) => Some(t),
        _ => return Err(arg_error(ctx, &exec, 1, "setmetatable", "nil or table expected")),
    };
    if let Some(current) = table.metatable() {
        if !current.get(ctx, "__metatable").is_nil() {
            return Err(error_at(ctx, &exec, "cannot change a protected metatable"));
        }
    }
    table.set_metatable(&ctx, meta);
    stack.replace(ctx, table);
    Ok(CallbackReturn::Return)
}

/// Calls `function` with `(receiver, args...)` once it is known.
#[derive(Collect)]
#[collect(no_drop)]
struct CallMethod<'gc> {
    name: piccolo::String<'gc>,
    args: Vec<Value<'gc>>,
}

impl<'gc> Sequence<'gc> for CallMethod<'gc> {
    fn poll(&mut self, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        let method = stack.get(0);
        let function = callable(ctx, &exec, method, self.name)?;
        stack.clear();
        stack.extend(std::mem::take(&mut self.args));
        Ok(SequencePoll::Call { function, is_tail: true })
    }
}

fn callable<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, method: Value<'gc>, name: piccolo::String<'gc>) -> Result<Function<'gc>, Error<'gc>> {
    meta_ops::call(ctx, method).map_err(|_| {
        crate::lua::operator_error_at(ctx, exec, &format!("attempt to call method '{}' (a {} value)", name.to_str_lossy(), method.type_name()))
    })
}

/// `__kf_method(receiver, name, args...)`: `receiver:name(args...)`.
fn method_call<'gc>(string: &Table<'gc>, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let receiver = stack.get(0);
    let Value::String(name) = stack.get(1) else {
        return Err(error_at(ctx, &exec, "bad method call"));
    };
    stack.drain(1..2);
    let method = match receiver {
        Value::String(_) => {
            super::args::note_method_call(&exec, name);
            let method = string.get(ctx, name);
            // The string library's functions are callbacks: run the method here, on the
            // receiver and arguments already in place, instead of handing the executor a
            // call to make (a round trip through its loop for every `s:lower()`).
            if let Value::Function(Function::Callback(callback)) = method {
                return callback.call(ctx, exec, stack);
            }
            method
        }
        Value::Table(_) | Value::UserData(_) => match meta_ops::index(ctx, receiver, Value::String(name)) {
            Ok(MetaResult::Value(v)) => v,
            Ok(MetaResult::Call(call)) => {
                let args: Vec<Value<'gc>> = stack.drain(..).collect();
                stack.extend(call.args);
                return Ok(CallbackReturn::Call {
                    function: call.function,
                    then: Some(BoxSequence::new(&ctx, CallMethod { name, args })),
                });
            }
            Err(_) => Value::Nil,
        },
        other => {
            let message = crate::lua::operand_error(&exec, crate::lua::compile::METHOD_CALL, 0, "index", other);
            return Err(crate::lua::operator_error_at(ctx, &exec, &message));
        }
    };
    let function = callable(ctx, &exec, method, name)?;
    Ok(CallbackReturn::Call { function, then: None })
}

/// `unpack(t [, i [, j]])`, Lua 5.1's global (also `table.unpack`).
pub fn unpack<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let table = check_table(ctx, &exec, &stack, 0, "unpack")?;
    let i = super::args::opt_integer(ctx, &exec, &stack, 1, "unpack", 1)?;
    let j = if stack.get(2).is_nil() { table.length() } else { super::args::check_integer(ctx, &exec, &stack, 2, "unpack")? };
    if i > j {
        stack.clear();
        return Ok(CallbackReturn::Return);
    }
    if j.saturating_sub(i) >= 8_000_000 {
        return Err(error_at(ctx, &exec, "too many results to unpack"));
    }
    let values: Vec<Value<'gc>> = (i..=j).map(|k| table.get(ctx, k)).collect();
    stack.replace(ctx, Variadic(values));
    Ok(CallbackReturn::Return)
}

/// Converts values to strings as Lua's `tostring` does, calling `__tostring` metamethods,
/// then hands the strings to `finish`: the engine of `print`.
#[derive(Collect)]
#[collect(no_drop)]
pub struct ToStrings<'gc> {
    values: Vec<Value<'gc>>,
    next: usize,
    #[collect(require_static)]
    parts: Vec<Vec<u8>>,
    #[collect(require_static)]
    finish: Option<Box<dyn FnOnce(Vec<Vec<u8>>)>>,
    waiting: bool,
}

impl<'gc> ToStrings<'gc> {
    /// Starts converting `values`; `finish` receives their string forms in order.
    pub fn start(ctx: Context<'gc>, values: Vec<Value<'gc>>, finish: Box<dyn FnOnce(Vec<Vec<u8>>)>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
        let mut this = ToStrings { values, next: 0, parts: Vec::new(), finish: Some(finish), waiting: false };
        match this.step(ctx, &mut stack)? {
            SequencePoll::Return => Ok(CallbackReturn::Return),
            SequencePoll::Call { function, .. } => Ok(CallbackReturn::Call { function, then: Some(BoxSequence::new(&ctx, this)) }),
            _ => Ok(CallbackReturn::Return),
        }
    }

    fn step(&mut self, ctx: Context<'gc>, stack: &mut Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        if self.waiting {
            self.waiting = false;
            match stack.get(0) {
                Value::String(s) => self.parts.push(s.as_bytes().to_vec()),
                v @ (Value::Integer(_) | Value::Number(_)) => self.parts.push(format::number(v).into_bytes()),
                _ => return Err("'tostring' must return a string to 'print'".into_value(ctx).into()),
            }
        }
        while let Some(&value) = self.values.get(self.next) {
            self.next += 1;
            let meta = match value {
                Value::Table(t) => t.metatable(),
                Value::UserData(u) => u.metatable(),
                _ => None,
            };
            if let Some(f) = meta.map(|mt| mt.get(ctx, MetaMethod::ToString)).filter(|f| !f.is_nil()) {
                self.waiting = true;
                stack.replace(ctx, value);
                return Ok(SequencePoll::Call { function: meta_ops::call(ctx, f)?, is_tail: false });
            }
            if let Value::String(s) = tostring_plain(ctx, value) {
                self.parts.push(s.as_bytes().to_vec());
            }
        }
        if let Some(finish) = self.finish.take() {
            finish(std::mem::take(&mut self.parts));
        }
        stack.clear();
        Ok(SequencePoll::Return)
    }
}

impl<'gc> Sequence<'gc> for ToStrings<'gc> {
    fn poll(&mut self, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        self.step(ctx, &mut stack)
    }
}

/// `require(name)` for the modules built in: `string table math os bit coroutine jit`,
/// `ngx` (the `ngx` table, as lua-nginx-module registers `package.loaded.ngx`),
/// `cjson cjson.safe`, and LuaJIT's `table.new` / `table.clear` functions. Anything else is not found.
pub fn require<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let name = super::args::check_bytes(ctx, &exec, &stack, 0, "require")?;
    let name = String::from_utf8_lossy(&name).into_owned();
    let value = provided_module(ctx, &name);
    if value.is_nil() {
        return Err(error_at(ctx, &exec, &format!("module '{name}' not found")));
    }
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

/// Lua 5.1's `collectgarbage([opt [, arg]])`. The filter collects between fuel slices
/// on its own schedule, so the requests that steer the collector ("collect", "step",
/// "stop", "restart", "setpause", "setstepmul") are accepted and return 0; "count"
/// gives the heap size in KiB, as Lua does.
fn collectgarbage<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let option = match stack.get(0) {
        Value::Nil => "collect".to_string(),
        Value::String(s) => s.to_str_lossy().into_owned(),
        _ => return Err(arg_error(ctx, &exec, 0, "collectgarbage", &format!("string expected, got {}", type_of(&stack, 0)))),
    };
    let result = match option.as_str() {
        "count" => Value::Number(ctx.metrics().total_allocation() as f64 / 1024.0),
        "collect" | "step" | "stop" | "restart" | "setpause" | "setstepmul" => Value::Integer(0),
        other => return Err(arg_error(ctx, &exec, 0, "collectgarbage", &format!("invalid option '{other}'"))),
    };
    stack.replace(ctx, result);
    Ok(CallbackReturn::Return)
}

/// The module `require(name)` gives in this filter, from the state's built-ins: the
/// standard libraries by name, LuaJIT's `table.new` / `table.clear` style sub-modules,
/// OpenResty's `cjson` / `cjson.safe` ([`crate::pdk::cjson`]), and the pure modules of
/// Kong's require allowlists in [`super::resty`] (`ngx.base64`, `resty.string`,
/// `resty.sha256` ...) and, in Lua, [`crate::lua::modules`] (`kong.tools.*`, `pl.*`,
/// `resty.lrucache` ...). Nil when the filter provides no such module (there are no files).
pub fn provided_module<'gc>(ctx: Context<'gc>, name: &str) -> Value<'gc> {
    match name {
        "string" | "table" | "math" | "os" | "bit" | "coroutine" | "jit" => ctx.globals().get(ctx, ctx.intern(name.as_bytes())),
        "ngx" => crate::pdk::ngx_global(ctx),
        "cjson" | "cjson.safe" => crate::pdk::cjson::module(ctx, name),
        "inspect" => inspect_module(ctx),
        _ if super::resty::MODULES.contains(&name) => super::resty::module(ctx, name),
        _ if crate::lua::modules::provides(name) => crate::lua::modules::module(ctx, name).unwrap_or(Value::Nil),
        _ => match name.split_once('.') {
            Some(("table", f)) => match ctx.get_global("table") {
                Value::Table(t) => t.get(ctx, ctx.intern(f.as_bytes())),
                _ => Value::Nil,
            },
            _ => Value::Nil,
        },
    }
}

/// `require "inspect"`: built on first use, then the same table (as `package.loaded`).
fn inspect_module<'gc>(ctx: Context<'gc>) -> Value<'gc> {
    let loaded = ctx.singleton::<gc_arena::Rootable![crate::lua::modules::Loaded<'_>]>().0;
    let key = ctx.intern(b"inspect");
    if let Value::Table(t) = loaded.get(ctx, key) {
        return Value::Table(t);
    }
    let module = crate::pdk::kong::inspect::module(ctx);
    loaded.set(ctx, key, module).ok();
    module
}

/// The method-call helper of the compile rewrite, resolving string methods in `string`.
pub fn method_call_function<'gc>(ctx: Context<'gc>, string: Table<'gc>) -> Callback<'gc> {
    Callback::from_fn_with(&ctx, string, method_call)
}

/// `a .. b .. c`, as the compile rewrite calls it (`__kf_concat(a, b, c)`): strings and
/// numbers (LuaJIT's number format) joined, the result bounded by the string limit.
/// Errors as LuaJIT's: "attempt to concatenate local 'x' (a nil value)", naming the
/// operand LuaJIT's `lj_meta_cat` reports (see `concat_culprit`).
fn concat<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let mut out = Vec::new();
    for i in 0..stack.len() {
        match stack.get(i) {
            Value::String(s) => out.extend_from_slice(s.as_bytes()),
            value @ (Value::Integer(_) | Value::Number(_)) => out.extend_from_slice(format::number(value).as_bytes()),
            _ if (0..stack.len()).any(|j| concat_handler(ctx, stack.get(j)).is_some()) => {
                return concat_with_metamethods(ctx, exec, stack)
            }
            _ => return Err(concat_error(ctx, &exec, &stack)),
        }
        crate::lua::limits::check_string_size(ctx, &exec, out.len())?;
    }
    stack.replace(ctx, Value::String(piccolo::String::from_slice(&ctx, &out)));
    Ok(CallbackReturn::Return)
}

fn joinable(value: Value<'_>) -> bool {
    matches!(value, Value::String(_) | Value::Integer(_) | Value::Number(_))
}

/// A value's `__concat` metamethod (strings through the strings' metatable).
fn concat_handler<'gc>(ctx: Context<'gc>, value: Value<'gc>) -> Option<Value<'gc>> {
    let metatable = match value {
        Value::Table(t) => t.metatable(),
        Value::UserData(u) => u.metatable(),
        Value::String(_) => ctx.string_metatable(),
        _ => None,
    };
    metatable.map(|mt| mt.get(ctx, "__concat")).filter(|h| !h.is_nil())
}

/// `a .. b .. c` where some operand has a `__concat` metamethod, as Lua 5.1's
/// `luaV_concat`: from the right, a run of strings and numbers is joined into one string,
/// and a pair with another operand is handed to the left operand's `__concat`, else the
/// right one's; its result takes the pair's place. No metamethod for such a pair is
/// LuaJIT's `attempt to concatenate` error.
#[derive(Collect)]
#[collect(no_drop)]
struct Concat<'gc> {
    /// The operands not joined yet; a metamethod's result is pushed back at the end.
    values: Vec<Value<'gc>>,
}

fn concat_with_metamethods<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let mut sequence = Concat { values: (0..stack.len()).map(|i| stack.get(i)).collect() };
    stack.clear();
    match sequence.step(ctx, &exec, &mut stack)? {
        SequencePoll::Return => Ok(CallbackReturn::Return),
        SequencePoll::Call { function, .. } => Ok(CallbackReturn::Call { function, then: Some(BoxSequence::new(&ctx, sequence)) }),
        _ => Ok(CallbackReturn::Return),
    }
}

impl<'gc> Concat<'gc> {
    fn step(&mut self, ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &mut Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        loop {
            let n = self.values.len();
            if n <= 1 {
                stack.replace(ctx, self.values.first().copied().unwrap_or(Value::Nil));
                return Ok(SequencePoll::Return);
            }
            let (a, b) = (self.values[n - 2], self.values[n - 1]);
            if joinable(a) && joinable(b) {
                let mut first = n - 2;
                while first > 0 && joinable(self.values[first - 1]) {
                    first -= 1;
                }
                let mut out = Vec::new();
                for value in self.values.drain(first..) {
                    match value {
                        Value::String(s) => out.extend_from_slice(s.as_bytes()),
                        number => out.extend_from_slice(format::number(number).as_bytes()),
                    }
                    crate::lua::limits::check_string_size(ctx, exec, out.len())?;
                }
                self.values.push(Value::String(piccolo::String::from_slice(&ctx, &out)));
                continue;
            }
            let Some(handler) = concat_handler(ctx, a).or_else(|| concat_handler(ctx, b)) else {
                let i = if joinable(a) { n - 1 } else { n - 2 };
                let message = crate::lua::operand_error(exec, crate::lua::compile::CONCAT, i, "concatenate", self.values[i]);
                return Err(crate::lua::operator_error_at(ctx, exec, &message));
            };
            let function = meta_ops::call(ctx, handler)?;
            self.values.truncate(n - 2);
            stack.replace(ctx, (a, b));
            return Ok(SequencePoll::Call { function, is_tail: false });
        }
    }
}

impl<'gc> Sequence<'gc> for Concat<'gc> {
    fn poll(&mut self, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        self.values.push(stack.get(0));
        stack.clear();
        self.step(ctx, &exec, &mut stack)
    }
}

/// The error for a concatenation of `stack` where some operand is neither a string nor a
/// number, naming the operand LuaJIT names (`concat_culprit`).
fn concat_error<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>) -> Error<'gc> {
    let values: Vec<Value<'gc>> = (0..stack.len()).map(|i| stack.get(i)).collect();
    let joinable = |v: Value<'gc>| matches!(v, Value::String(_) | Value::Integer(_) | Value::Number(_));
    let i = concat_culprit(&values, joinable).unwrap_or(0);
    let value = values.get(i).copied().unwrap_or(Value::Nil);
    let message = crate::lua::operand_error(exec, crate::lua::compile::CONCAT, i, "concatenate", value);
    crate::lua::operator_error_at(ctx, exec, &message)
}

/// The operand of `a .. b .. c` LuaJIT's `lj_meta_cat` (lj_meta.c) reports when some are
/// neither strings nor numbers: it works from the right, on the top two operands first
/// (the left one of them if it is bad, else the right one), then joining runs of strings
/// leftwards until it meets a bad operand. So: the second-to-last operand if it is bad,
/// else the rightmost bad one. `None` when all can be joined.
fn concat_culprit<T: Copy>(values: &[T], joinable: impl Fn(T) -> bool) -> Option<usize> {
    let n = values.len();
    if n >= 2 && !joinable(values[n - 2]) {
        return Some(n - 2);
    }
    (0..n).rev().find(|&i| !joinable(values[i]))
}

/// Lua 5.1's `assert(v [, message])`: returns its arguments when `v` is true; otherwise
/// raises `message` (default "assertion failed!") with the caller's position, as
/// `luaL_error` does. A non-string message is raised as is.
fn assert<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    check_any(ctx, &exec, &stack, 0, "assert")?;
    if stack.get(0).to_bool() {
        return Ok(CallbackReturn::Return);
    }
    match stack.get(1) {
        Value::Nil => Err(error_at(ctx, &exec, "assertion failed!")),
        Value::String(s) => Err(error_at(ctx, &exec, &s.to_str_lossy())),
        v @ (Value::Integer(_) | Value::Number(_)) => Err(error_at(ctx, &exec, &format::number(v))),
        other => Err(other.into()),
    }
}

/// `select(n, ...)` / `select('#', ...)`; a negative `n` counts from the end.
fn select<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let count = stack.len().saturating_sub(1) as i64;
    if let Value::String(s) = stack.get(0) {
        if s.as_bytes().first() == Some(&b'#') {
            stack.replace(ctx, count);
            return Ok(CallbackReturn::Return);
        }
    }
    let n = super::args::check_integer(ctx, &exec, &stack, 0, "select")?;
    let start = if n < 0 { count + n } else { n - 1 };
    if n == 0 || start < 0 {
        return Err(arg_error(ctx, &exec, 0, "select", "index out of range"));
    }
    let start = (start as usize + 1).min(stack.len());
    stack.drain(..start);
    Ok(CallbackReturn::Return)
}

/// `next(t [, k])`: the entry after `k`, or a single `nil` at the end.
fn next<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let table = check_table(ctx, &exec, &stack, 0, "next")?;
    match table.next(stack.get(1)) {
        piccolo::table::NextValue::Found { key, value } => stack.replace(ctx, (key, value)),
        piccolo::table::NextValue::Last => stack.replace(ctx, Value::Nil),
        piccolo::table::NextValue::NotFound => return Err(error_at(ctx, &exec, "invalid key to 'next'")),
    }
    Ok(CallbackReturn::Return)
}
