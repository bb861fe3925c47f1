//! The `cjson` and `cjson.safe` modules: OpenResty's lua-cjson (2.1.0.x, `lua_cjson.c`)
//! on the codec in [`super::json`].
//!
//! `require "cjson"` gives `encode decode new null empty_array array_mt empty_array_mt
//! _NAME _VERSION` and the settings functions (`encode_empty_table_as_object`,
//! `decode_array_with_array_mt`, `encode_sparse_array`, `encode_number_precision`,
//! `encode_escape_forward_slash`, `encode_max_depth`, `decode_max_depth`,
//! `encode_invalid_numbers`, `decode_invalid_numbers`, `encode_keep_buffer`,
//! `encode_skip_unsupported_value_types`). `cjson.safe` is a separate instance whose
//! `encode`/`decode` return `nil, message` instead of raising.
//!
//! As in lua-cjson, each instance (`require "cjson"`, `require "cjson.safe"`, each
//! `cjson.new()`) has its own settings, held by its functions (the C upvalue), not by the
//! module table, so they work through the sandbox's read-only copies of the module. The
//! two required instances live once per Lua state, i.e. per plugin instance: a setting
//! changed by one chunk holds for the plugin's other chunks and later requests, as a
//! setting on Kong's (per-worker) cjson module does.
//!
//! `cjson.null` is `ngx.null`. Encoding output is bounded by the filter's string limit
//! ("resulting string too large", raised by `cjson.safe` too, as the limit is the
//! filter's, not a conversion error), decoding by the memory limit (the same bound as
//! `limits::check_string_size`: the heap, garbage included, past twice `memory_bytes`)
//! and nesting by [`json::MAX_NESTING`].

use std::cell::Cell;
use std::rc::Rc;

use gc_arena::Rootable;
use piccolo::{Callback, CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use super::json::{self, DecodeConfig, EncodeConfig, EncodeError};
use super::ngx;
use crate::lua::stdlib::args::{arg_error, check_integer, type_of};
use crate::lua::{error_at, format, limits};

/// `CJSON_MODNAME` and `CJSON_VERSION` of `lua_cjson.c`.
const NAME: &str = "cjson";
const VERSION: &str = "2.1.0.11";

#[derive(Clone, Copy, Default)]
struct Settings {
    encode: EncodeConfig,
    decode: DecodeConfig,
    keep_buffer: bool,
}

type Shared = Rc<Cell<Settings>>;

// The module tables `require` hands out are built on first use and kept in the state's
// one table of loaded modules.
use crate::lua::modules::Loaded;

/// `require(name)` for `cjson` / `cjson.safe`: this state's instance; nil otherwise.
pub fn module<'gc>(ctx: Context<'gc>, name: &str) -> Value<'gc> {
    let safe = match name {
        "cjson" => false,
        "cjson.safe" => true,
        _ => return Value::Nil,
    };
    let loaded = ctx.singleton::<Rootable![Loaded<'_>]>().0;
    let key = ctx.intern(name.as_bytes());
    if let Value::Table(t) = loaded.get(ctx, key) {
        return Value::Table(t);
    }
    let t = instance(ctx, safe);
    loaded.set(ctx, key, t).ok();
    Value::Table(t)
}

type Res<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

/// A module function: the callback's arguments, the instance's settings, and whether the
/// instance is `cjson.safe`.
type Handler = for<'g, 'a, 'b> fn(Context<'g>, Execution<'g, 'a>, Stack<'g, 'b>, &Shared, bool) -> Res<'g>;

/// `lua_cjson_new` / `lua_cjson_safe_new`: a module table with fresh default settings.
fn instance<'gc>(ctx: Context<'gc>, safe: bool) -> Table<'gc> {
    let settings: Shared = Rc::new(Cell::new(Settings { keep_buffer: true, ..Settings::default() }));
    let t = Table::new(&ctx);
    let set = |name: &'static str, f: Handler| {
        let settings = settings.clone();
        t.set(ctx, name, Callback::from_fn(&ctx, move |ctx, exec, stack| f(ctx, exec, stack, &settings, safe))).ok();
    };
    set("encode", encode);
    set("decode", decode);
    set("new", |ctx, _, mut stack, _, safe| {
        stack.replace(ctx, instance(ctx, safe));
        Ok(CallbackReturn::Return)
    });
    set("encode_empty_table_as_object", |ctx, exec, stack, s, _| {
        bool_setting(ctx, exec, stack, s, "encode_empty_table_as_object", |s| &mut s.encode.empty_table_as_object)
    });
    set("decode_array_with_array_mt", |ctx, exec, stack, s, _| {
        bool_setting(ctx, exec, stack, s, "decode_array_with_array_mt", |s| &mut s.decode.array_with_array_mt)
    });
    set("encode_escape_forward_slash", |ctx, exec, stack, s, _| {
        bool_setting(ctx, exec, stack, s, "encode_escape_forward_slash", |s| &mut s.encode.escape_forward_slash)
    });
    set("decode_invalid_numbers", |ctx, exec, stack, s, _| {
        bool_setting(ctx, exec, stack, s, "decode_invalid_numbers", |s| &mut s.decode.invalid_numbers)
    });
    set("encode_keep_buffer", |ctx, exec, stack, s, _| {
        // Only a setting here: there is no C buffer to keep.
        bool_setting(ctx, exec, stack, s, "encode_keep_buffer", |s| &mut s.keep_buffer)
    });
    set("encode_skip_unsupported_value_types", |ctx, exec, stack, s, _| {
        bool_setting(ctx, exec, stack, s, "encode_skip_unsupported_value_types", |s| &mut s.encode.skip_unsupported)
    });
    set("encode_invalid_numbers", encode_invalid_numbers);
    set("encode_sparse_array", encode_sparse_array);
    set("encode_max_depth", |ctx, exec, stack, s, _| {
        int_setting(ctx, exec, stack, s, "encode_max_depth", 1, i32::MAX as i64, |s| &mut s.encode.max_depth)
    });
    set("decode_max_depth", |ctx, exec, stack, s, _| {
        int_setting(ctx, exec, stack, s, "decode_max_depth", 1, i32::MAX as i64, |s| &mut s.decode.max_depth)
    });
    set("encode_number_precision", |ctx, exec, mut stack, s, _| {
        arg_init(ctx, &exec, &stack, 1, "encode_number_precision")?;
        let mut settings = s.get();
        let mut precision = settings.encode.number_precision as i64;
        integer_option(ctx, &exec, &stack, 0, "encode_number_precision", &mut precision, 1, 16)?;
        settings.encode.number_precision = precision as u8;
        s.set(settings);
        stack.replace(ctx, precision);
        Ok(CallbackReturn::Return)
    });

    let markers = json::markers(ctx);
    t.set(ctx, "null", ngx::util::null(ctx)).ok();
    t.set(ctx, "empty_array_mt", markers.empty_array_mt).ok();
    t.set(ctx, "array_mt", markers.array_mt).ok();
    t.set(ctx, "empty_array", markers.empty_array).ok();
    t.set(ctx, "_NAME", NAME).ok();
    t.set(ctx, "_VERSION", VERSION).ok();
    t
}

/// A conversion error: raised with the caller's position by `cjson`, returned as
/// `nil, message` by `cjson.safe` (whose C wrapper calls the function in protected mode,
/// so the message carries no position).
fn fail<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, mut stack: Stack<'gc, '_>, safe: bool, message: &str) -> Res<'gc> {
    if safe {
        stack.replace(ctx, (Value::Nil, ctx.intern(message.as_bytes())));
        return Ok(CallbackReturn::Return);
    }
    Err(error_at(ctx, exec, message))
}

/// `json_encode` (and `json_protect_conversion` around it for `cjson.safe`).
fn encode<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, s: &Shared, safe: bool) -> Res<'gc> {
    if stack.len() != 1 {
        return Err(arg_error(ctx, &exec, 0, "encode", "expected 1 argument"));
    }
    let mut config = s.get().encode;
    config.max_bytes = limits::current().string_bytes;
    match json::encode_with(ctx, stack.get(0), &config) {
        Ok(bytes) => {
            limits::check_string_size(ctx, &exec, bytes.len())?;
            stack.replace(ctx, piccolo::String::from_slice(&ctx, &bytes));
            Ok(CallbackReturn::Return)
        }
        Err(EncodeError::TooLarge) => Err(error_at(ctx, &exec, "resulting string too large")),
        Err(EncodeError::Message(m)) => fail(ctx, &exec, stack, safe, &m),
    }
}

/// `json_decode` (and `json_protect_conversion` around it for `cjson.safe`).
fn decode<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, s: &Shared, safe: bool) -> Res<'gc> {
    if stack.len() != 1 {
        return Err(arg_error(ctx, &exec, 0, "decode", "expected 1 argument"));
    }
    let text = match stack.get(0) {
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => format::number(v).into_bytes(),
        _ => {
            let got = type_of(&stack, 0);
            if safe {
                // Raised inside the protected call, where the caller is C: no name.
                return fail(ctx, &exec, stack, true, &format!("bad argument #1 to '?' (string expected, got {got})"));
            }
            return Err(arg_error(ctx, &exec, 0, "decode", &format!("string expected, got {got}")));
        }
    };
    let mut config = s.get().decode;
    config.max_heap_bytes = limits::current().memory_bytes.saturating_mul(2);
    match json::decode(ctx, &text, &config) {
        Ok(value) => {
            stack.replace(ctx, value);
            Ok(CallbackReturn::Return)
        }
        // The filter's limit, as check_string_size words it: raised by cjson.safe too.
        Err(m) if m == json::MEMORY_EXCEEDED => Err(error_at(ctx, &exec, &m)),
        Err(m) => fail(ctx, &exec, stack, safe, &m),
    }
}

/// `json_arg_init`: at most `args` arguments.
fn arg_init<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, args: usize, fname: &str) -> Result<(), Error<'gc>> {
    if stack.len() > args {
        return Err(arg_error(ctx, exec, args, fname, "found too many arguments"));
    }
    Ok(())
}

/// `json_integer_option`: a nil argument keeps the setting. (As in C, the range error
/// names argument #1 whichever argument it is.)
#[allow(clippy::too_many_arguments)]
fn integer_option<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    stack: &Stack<'gc, '_>,
    i: usize,
    fname: &str,
    setting: &mut i64,
    min: i64,
    max: i64,
) -> Result<(), Error<'gc>> {
    if stack.get(i).is_nil() {
        return Ok(());
    }
    let value = check_integer(ctx, exec, stack, i, fname)?;
    if value < min || value > max {
        return Err(arg_error(ctx, exec, 0, fname, &format!("expected integer between {min} and {max}")));
    }
    *setting = value;
    Ok(())
}

/// `json_enum_option`: a nil argument keeps the setting; a boolean sets it (`true` is
/// `bool_true`); a string must be one of `options` (`luaL_checkoption`).
fn enum_option<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    stack: &Stack<'gc, '_>,
    i: usize,
    fname: &str,
    setting: &mut u8,
    options: &[&str],
) -> Result<Value<'gc>, Error<'gc>> {
    match stack.get(i) {
        Value::Nil => {}
        Value::Boolean(b) => *setting = b as u8,
        v @ (Value::String(_) | Value::Integer(_) | Value::Number(_)) => {
            let name = match v {
                Value::String(s) => s.to_str_lossy().into_owned(),
                other => format::number(other),
            };
            match options.iter().position(|o| *o == name) {
                Some(index) => *setting = index as u8,
                None => return Err(arg_error(ctx, exec, i, fname, &format!("invalid option '{name}'"))),
            }
        }
        _ => return Err(arg_error(ctx, exec, i, fname, &format!("string expected, got {}", type_of(stack, i)))),
    }
    Ok(if *setting <= 1 { Value::Boolean(*setting == 1) } else { Value::String(ctx.intern(options[*setting as usize].as_bytes())) })
}

const BOOL_OPTIONS: [&str; 2] = ["off", "on"];

fn bool_setting<'gc>(
    ctx: Context<'gc>,
    exec: Execution<'gc, '_>,
    mut stack: Stack<'gc, '_>,
    s: &Shared,
    fname: &str,
    field: fn(&mut Settings) -> &mut bool,
) -> Res<'gc> {
    arg_init(ctx, &exec, &stack, 1, fname)?;
    let mut settings = s.get();
    let mut value = *field(&mut settings) as u8;
    let result = enum_option(ctx, &exec, &stack, 0, fname, &mut value, &BOOL_OPTIONS)?;
    *field(&mut settings) = value == 1;
    s.set(settings);
    stack.replace(ctx, result);
    Ok(CallbackReturn::Return)
}

#[allow(clippy::too_many_arguments)]
fn int_setting<'gc>(
    ctx: Context<'gc>,
    exec: Execution<'gc, '_>,
    mut stack: Stack<'gc, '_>,
    s: &Shared,
    fname: &str,
    min: i64,
    max: i64,
    field: fn(&mut Settings) -> &mut i64,
) -> Res<'gc> {
    arg_init(ctx, &exec, &stack, 1, fname)?;
    let mut settings = s.get();
    integer_option(ctx, &exec, &stack, 0, fname, field(&mut settings), min, max)?;
    s.set(settings);
    stack.replace(ctx, *field(&mut settings));
    Ok(CallbackReturn::Return)
}

/// `encode_sparse_array([convert [, ratio [, safe]]])`: returns all three settings.
fn encode_sparse_array<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, s: &Shared, _: bool) -> Res<'gc> {
    const NAME: &str = "encode_sparse_array";
    arg_init(ctx, &exec, &stack, 3, NAME)?;
    let mut settings = s.get();
    let mut convert = settings.encode.sparse_convert as u8;
    let convert = enum_option(ctx, &exec, &stack, 0, NAME, &mut convert, &BOOL_OPTIONS).map(|v| (v, convert == 1))?;
    settings.encode.sparse_convert = convert.1;
    integer_option(ctx, &exec, &stack, 1, NAME, &mut settings.encode.sparse_ratio, 0, i32::MAX as i64)?;
    integer_option(ctx, &exec, &stack, 2, NAME, &mut settings.encode.sparse_safe, 0, i32::MAX as i64)?;
    s.set(settings);
    stack.replace(ctx, (convert.0, settings.encode.sparse_ratio, settings.encode.sparse_safe));
    Ok(CallbackReturn::Return)
}

/// `encode_invalid_numbers([true|false|"on"|"off"|"null"])`.
fn encode_invalid_numbers<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, s: &Shared, _: bool) -> Res<'gc> {
    const NAME: &str = "encode_invalid_numbers";
    arg_init(ctx, &exec, &stack, 1, NAME)?;
    let mut settings = s.get();
    let result = enum_option(ctx, &exec, &stack, 0, NAME, &mut settings.encode.invalid_numbers, &["off", "on", "null"])?;
    s.set(settings);
    stack.replace(ctx, result);
    Ok(CallbackReturn::Return)
}

#[cfg(test)]
mod tests;
