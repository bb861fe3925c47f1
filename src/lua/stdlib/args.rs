//! Argument checks with Lua 5.1's messages (`luaL_check*`): "bad argument #1 to 'rep'
//! (string expected, got no value)", positioned at the calling Lua line.

use piccolo::{Context, Error, Execution, Stack, Table, Value};

use crate::lua::{error_at, format};

/// Lua's type name for error messages: `no value` for a missing argument.
pub fn type_of(stack: &Stack<'_, '_>, i: usize) -> &'static str {
    if i >= stack.len() {
        "no value"
    } else {
        stack.get(i).type_name()
    }
}

/// The method call `__kf_method` just made on a string, so argument errors count as
/// LuaJIT does for `s:name(...)`: the method's name and the calling Lua code's chunk and
/// line. The buffers are reused: recording a call allocates nothing once they have grown.
#[derive(Default)]
struct MethodCall {
    noted: bool,
    name: Vec<u8>,
    chunk: Vec<u8>,
    line: u64,
}

thread_local! {
    static METHOD_CALL: std::cell::RefCell<MethodCall> = std::cell::RefCell::new(MethodCall::default());
}

/// Records that `name` is being called as a method from the current Lua line.
pub fn note_method_call(exec: &Execution<'_, '_>, name: piccolo::String<'_>) {
    let frame = exec.upper_lua_frame();
    METHOD_CALL.with(|m| {
        let mut m = m.borrow_mut();
        m.noted = frame.is_some();
        if let Some(frame) = frame {
            m.name.clear();
            m.name.extend_from_slice(name.as_bytes());
            m.chunk.clear();
            m.chunk.extend_from_slice(frame.chunk_name.as_bytes());
            m.line = frame.current_line.0;
        }
    });
}

fn called_as_method(exec: &Execution<'_, '_>, fname: &str) -> bool {
    let Some(frame) = exec.upper_lua_frame() else { return false };
    METHOD_CALL.with(|m| {
        let m = m.borrow();
        m.noted && m.name == fname.as_bytes() && m.line == frame.current_line.0 && m.chunk == frame.chunk_name.as_bytes()
    })
}

/// `bad argument #<n> to '<fname>' (<msg>)`; `i` is 0-based. As LuaJIT: the name is `?`
/// and there is no position when the caller is not Lua code (e.g. `pcall(string.rep)`),
/// and a method call does not count `self` (`s:rep()` complains about argument #1).
pub fn arg_error<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, i: usize, fname: &str, msg: &str) -> Error<'gc> {
    if exec.upper_lua_frame().is_none() {
        return error_at(ctx, exec, &format!("bad argument #{} to '?' ({})", i + 1, msg));
    }
    if called_as_method(exec, fname) {
        if i == 0 {
            return error_at(ctx, exec, &format!("calling '{fname}' on bad self ({msg})"));
        }
        return error_at(ctx, exec, &format!("bad argument #{} to '{}' ({})", i, fname, msg));
    }
    error_at(ctx, exec, &format!("bad argument #{} to '{}' ({})", i + 1, fname, msg))
}

fn expected<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, fname: &str, what: &str) -> Error<'gc> {
    arg_error(ctx, exec, i, fname, &format!("{what} expected, got {}", type_of(stack, i)))
}

/// `luaL_checklstring`: a string, or a number converted as `tostring` does.
pub fn check_bytes<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, fname: &str) -> Result<Vec<u8>, Error<'gc>> {
    match stack.get(i) {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        v @ (Value::Integer(_) | Value::Number(_)) => Ok(format::number(v).into_bytes()),
        _ => Err(expected(ctx, exec, stack, i, fname, "string")),
    }
}

/// `luaL_checkstring` returning the interned Lua string (no copy for strings).
pub fn check_string<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, fname: &str) -> Result<piccolo::String<'gc>, Error<'gc>> {
    match stack.get(i) {
        Value::String(s) => Ok(s),
        v @ (Value::Integer(_) | Value::Number(_)) => Ok(ctx.intern(format::number(v).as_bytes())),
        _ => Err(expected(ctx, exec, stack, i, fname, "string")),
    }
}

/// A number from a value: numbers, and strings that convert (`luaL_checknumber`).
pub fn to_number(value: Value<'_>) -> Option<f64> {
    match value {
        Value::Integer(i) => Some(i as f64),
        Value::Number(n) => Some(n),
        Value::String(s) => super::base::parse_number(s.as_bytes()),
        _ => None,
    }
}

/// `luaL_checknumber`.
pub fn check_number<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, fname: &str) -> Result<f64, Error<'gc>> {
    to_number(stack.get(i)).ok_or_else(|| expected(ctx, exec, stack, i, fname, "number"))
}

/// `luaL_optnumber`.
pub fn opt_number<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, fname: &str, default: f64) -> Result<f64, Error<'gc>> {
    if stack.get(i).is_nil() {
        Ok(default)
    } else {
        check_number(ctx, exec, stack, i, fname)
    }
}

/// `luaL_checkinteger`: a number truncated toward zero, as LuaJIT's `lj_lib_checkint`.
pub fn check_integer<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, fname: &str) -> Result<i64, Error<'gc>> {
    check_number(ctx, exec, stack, i, fname).map(to_int)
}

/// `luaL_optinteger`.
pub fn opt_integer<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, fname: &str, default: i64) -> Result<i64, Error<'gc>> {
    if stack.get(i).is_nil() {
        Ok(default)
    } else {
        check_integer(ctx, exec, stack, i, fname)
    }
}

/// A double to an integer as C's cast does on the platforms Kong runs on, saturating.
pub fn to_int(n: f64) -> i64 {
    if n.is_nan() {
        0
    } else {
        n as i64
    }
}

/// `luaL_checktype(L, i, LUA_TTABLE)`.
pub fn check_table<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, fname: &str) -> Result<Table<'gc>, Error<'gc>> {
    match stack.get(i) {
        Value::Table(t) => Ok(t),
        _ => Err(expected(ctx, exec, stack, i, fname, "table")),
    }
}

/// `luaL_checkany`.
pub fn check_any<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, fname: &str) -> Result<Value<'gc>, Error<'gc>> {
    if i >= stack.len() {
        Err(arg_error(ctx, exec, i, fname, "value expected"))
    } else {
        Ok(stack.get(i))
    }
}

/// A Lua number value for an f64 result: integral values within ±2^53 as integers, so
/// they index tables and print like LuaJIT's doubles do.
pub fn number_value<'gc>(n: f64) -> Value<'gc> {
    if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0 && !(n == 0.0 && n.is_sign_negative()) {
        Value::Integer(n as i64)
    } else {
        Value::Number(n)
    }
}
