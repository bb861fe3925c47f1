//! `coroutine.wrap` and errors-as-strings for `coroutine.resume` (piccolo's coroutine
//! library otherwise), and LuaJIT's `jit` table with this runtime's own values.

use gc_arena::Collect;
use piccolo::{BoxSequence, Callback, CallbackReturn, Context, Error, Execution, Sequence, SequencePoll, Stack, Table, Thread, Value};

use super::args::arg_error;
use super::base::error_value;

/// Completes `coroutine` (created by `Lua::core()`) with `wrap` and a `resume` whose
/// error values are strings.
pub fn extend_coroutine<'gc>(ctx: Context<'gc>) {
    let Value::Table(co) = ctx.get_global("coroutine") else { return };
    co.set(ctx, "resume", Callback::from_fn(&ctx, resume)).ok();
    co.set(ctx, "wrap", Callback::from_fn(&ctx, wrap)).ok();
    co.set(ctx, "continue", Value::Nil).ok();
    co.set(ctx, "yieldto", Value::Nil).ok();
}

#[derive(Collect)]
#[collect(require_static)]
struct Resumed;

impl<'gc> Sequence<'gc> for Resumed {
    fn poll(&mut self, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        stack.into_front(ctx, true);
        Ok(SequencePoll::Return)
    }

    fn error(&mut self, ctx: Context<'gc>, _exec: Execution<'gc, '_>, error: Error<'gc>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        stack.replace(ctx, (false, error_value(ctx, error)));
        Ok(SequencePoll::Return)
    }
}

fn resume<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let Value::Thread(thread) = stack.get(0) else {
        return Err(arg_error(ctx, &exec, 0, "resume", &format!("coroutine expected, got {}", super::args::type_of(&stack, 0))));
    };
    stack.pop_front();
    if thread.mode() != piccolo::ThreadMode::Suspended {
        let message = if thread.mode() == piccolo::ThreadMode::Stopped || thread.mode() == piccolo::ThreadMode::Result {
            "cannot resume dead coroutine"
        } else {
            "cannot resume non-suspended coroutine"
        };
        stack.replace(ctx, (false, message));
        return Ok(CallbackReturn::Return);
    }
    Ok(CallbackReturn::Resume { thread, then: Some(BoxSequence::new(&ctx, Resumed)) })
}

/// Rethrows a wrapped coroutine's error as a string.
#[derive(Collect)]
#[collect(require_static)]
struct WrapErrors;

impl<'gc> Sequence<'gc> for WrapErrors {
    fn poll(&mut self, _ctx: Context<'gc>, _exec: Execution<'gc, '_>, _stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        Ok(SequencePoll::Return)
    }

    fn error(&mut self, ctx: Context<'gc>, _exec: Execution<'gc, '_>, error: Error<'gc>, _stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        Err(error_value(ctx, error).into())
    }
}

fn wrap<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let Value::Function(function) = stack.get(0) else {
        return Err(arg_error(ctx, &exec, 0, "wrap", &format!("function expected, got {}", super::args::type_of(&stack, 0))));
    };
    let thread = Thread::new(ctx);
    thread.start_suspended(&ctx, function).map_err(|e| Error::from(e))?;
    let resumer = Callback::from_fn_with(&ctx, thread, |thread, ctx, exec, stack| {
        if thread.mode() != piccolo::ThreadMode::Suspended {
            let _ = stack;
            return Err(crate::lua::error_at(ctx, &exec, "cannot resume dead coroutine"));
        }
        Ok(CallbackReturn::Resume { thread: *thread, then: Some(BoxSequence::new(&ctx, WrapErrors)) })
    });
    stack.replace(ctx, resumer);
    Ok(CallbackReturn::Return)
}

/// LuaJIT's `jit` table with honest values: no JIT compiler, running on wasm32.
pub fn jit_table<'gc>(ctx: Context<'gc>) -> Table<'gc> {
    let t = Table::new(&ctx);
    t.set(ctx, "os", "Other").ok();
    t.set(ctx, "arch", "wasm32").ok();
    t.set(ctx, "version", "piccolo 0.3.3 (kong-functions, Lua 5.1, no JIT)").ok();
    t.set(ctx, "version_num", 0).ok();
    t.set(ctx, "status", Callback::from_fn(&ctx, |ctx, _, mut stack| {
        stack.replace(ctx, false);
        Ok(CallbackReturn::Return)
    }))
    .ok();
    t
}
