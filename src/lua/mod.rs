//! The Lua environment on piccolo: the base state, LuaJIT-style value formatting, and the
//! small overrides Kong users rely on (`error` with `chunk:line:` positions, `print` to the
//! log). The full Lua 5.1/LuaJIT standard library grows here, one file per library.

pub mod compile;
pub mod format;
pub mod limits;
pub mod modules;
pub mod script;
pub mod stdlib;
#[cfg(test)]
mod piccolo_patch_tests;
pub mod syntax;

use piccolo::{Callback, CallbackReturn, Context, Execution, Lua, Value};

/// A new piccolo state with the Lua 5.1 / LuaJIT standard library ([`stdlib`]), and
/// `error` prefixing string messages with `chunkname:line:` as Lua 5.1 does.
pub fn new_state() -> Lua {
    let mut lua = core_state();
    lua.enter(load_libraries);
    lua
}

/// piccolo's `Lua::core()` without its `string` and `table` libraries, which
/// [`load_libraries`] replaces with ours (Lua 5.1's): not loading them keeps their code out
/// of the module. `base`, `coroutine` and `math` are piccolo's, completed by ours.
pub fn core_state() -> Lua {
    let mut lua = Lua::empty();
    lua.enter(|ctx| {
        piccolo::stdlib::load_base(ctx);
        piccolo::stdlib::load_coroutine(ctx);
        piccolo::stdlib::load_math(ctx);
    });
    lua
}

/// What [`new_state`] adds to [`core_state`]'s globals: the standard library and Lua's
/// `error`.
pub fn load_libraries(ctx: Context<'_>) {
    stdlib::load(ctx);
    ctx.set_global("error", error_function(ctx)).ok();
}

/// `chunkname:line: ` of the Lua code calling the running callback, as Lua's `error(msg, 1)`
/// and Kong's `error(msg, 2)` inside a PDK function report it. Empty when unknown.
pub fn caller_position(exec: &Execution<'_, '_>) -> String {
    match exec.upper_lua_frame() {
        Some(frame) => format!(
            "{}:{}: ",
            frame.chunk_name.to_str_lossy(),
            frame.current_line
        ),
        None => String::new(),
    }
}

/// The message of an error piccolo's VM raised, in LuaJIT's words. An error an instruction
/// raised carries `chunkname:line: ` and, when our patched piccolo could describe it, the
/// message LuaJIT gives, naming the variable as LuaJIT does (`attempt to call global 'f' (a
/// nil value)`, `attempt to index local 't' (a nil value)`; `PositionedError`, patches 4
/// and 7 in vendor/piccolo/PATCHES.md). Otherwise piccolo's words are translated where they
/// differ: "type error, expected function, found nil" is Lua's "attempt to call a nil
/// value", "... expected table, found X" is "attempt to index a X value".
pub fn runtime_error_text(error: &piccolo::RuntimeError) -> String {
    match error.downcast::<piccolo::thread::PositionedError>() {
        Some(positioned) => match &positioned.message {
            Some(message) => format!("{}{}", positioned.position, message),
            None => format!("{}{}", positioned.position, lua_words(positioned.error.to_string())),
        },
        None => lua_words(error.to_string()),
    }
}

/// LuaJIT's `attempt to <verb> <kind> '<name>' (a <type> value)` for `value`, the
/// `arg`-th argument of the call to the built-in `callee` that is running, named as LuaJIT
/// names an operand (`local 's'`, `field 'x'`; `attempt to <verb> a <type> value` when
/// LuaJIT would name none). For the built-ins the compile rewrite calls in place of an
/// operator (`compile::METHOD_CALL`, `compile::CONCAT`).
pub fn operand_error(exec: &Execution<'_, '_>, callee: &str, arg: usize, verb: &str, value: Value<'_>) -> String {
    match exec.caller_argument_name(callee, arg) {
        Some((kind, name)) => format!("attempt to {verb} {kind} '{name}' (a {} value)", value.type_name()),
        None => format!("attempt to {verb} a {} value", value.type_name()),
    }
}

fn lua_words(text: String) -> String {
    let Some(rest) = text.strip_prefix("type error, expected ") else { return text };
    let Some((expected, found)) = rest.split_once(", found ") else { return text };
    let found = if found == "integer" { "number" } else { found };
    match expected {
        "function" => format!("attempt to call a {found} value"),
        "table" => format!("attempt to index a {found} value"),
        _ => text,
    }
}

/// A Lua error for a built-in that stands for an operator (`compile::CONCAT`,
/// `compile::METHOD_CALL`): `msg` prefixed with the position of the Lua code that used
/// the operator, also when the rewrite made it a tail call (`return a .. b`), since in
/// LuaJIT an operator is not a call and its error has the line it is on.
pub fn operator_error_at<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, msg: &str) -> piccolo::Error<'gc> {
    let position = match exec.calling_lua_frame() {
        Some(frame) => format!("{}:{}: ", frame.chunk_name.to_str_lossy(), frame.current_line),
        None => String::new(),
    };
    Value::String(ctx.intern(format!("{position}{msg}").as_bytes())).into()
}

/// A Lua error whose message is `msg` prefixed with the caller's position.
pub fn error_at<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    msg: &str,
) -> piccolo::Error<'gc> {
    let text = format!("{}{}", caller_position(exec), msg);
    Value::String(ctx.intern(text.as_bytes())).into()
}

/// Lua 5.1's `error(message [, level])`: a string message at level 1 (the default) gets
/// the position of the calling Lua code. piccolo does not expose the frames further up,
/// so level 2 and above add no position (LuaJIT adds the caller's caller's); level 0 and
/// non-string values pass as is.
fn error_function<'gc>(ctx: Context<'gc>) -> Callback<'gc> {
    Callback::from_fn(&ctx, |ctx, exec, stack| {
        let message = stack.get(0);
        let level = stack.get(1).to_integer().unwrap_or(1);
        let level = if level == 1 { 1 } else { 0 };
        let value = match message {
            Value::String(s) if level > 0 => {
                let mut text = caller_position(&exec).into_bytes();
                text.extend_from_slice(s.as_bytes());
                Value::String(ctx.intern(&text))
            }
            Value::Integer(_) | Value::Number(_) if level > 0 => {
                let text = format!("{}{}", caller_position(&exec), format::number(message));
                Value::String(ctx.intern(text.as_bytes()))
            }
            other => other,
        };
        Err::<CallbackReturn, _>(value.into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use piccolo::Executor;

    fn run_error(source: &str) -> String {
        let mut lua = new_state();
        let executor = lua.enter(|ctx| {
            let closure = compile::load(ctx, "access[1]", source.as_bytes(), ctx.globals()).unwrap();
            ctx.stash(Executor::start(ctx, closure.into(), ()))
        });
        lua.execute::<()>(&executor).unwrap_err().to_string()
    }

    #[test]
    fn error_carries_chunk_and_line() {
        assert_eq!(run_error("\n\nerror('boom')"), "lua error: access[1]:3: boom");
    }

    #[test]
    fn error_level_zero_and_tables_pass_unchanged() {
        assert_eq!(run_error("error('plain', 0)"), "lua error: plain");
        assert!(run_error("error({code = 1})").starts_with("lua error: <table"));
        assert_eq!(run_error("error(('x'):rep(3), 0)"), "lua error: xxx");
    }
}
