//! `ngx.timer.at`, `ngx.timer.every`, `ngx.timer.running_count`,
//! `ngx.timer.pending_count` (lua-nginx-module, `ngx_http_lua_timer.c`) on the plugin
//! instance's ticks: a timer is kept in the instance's queue and its callback runs from
//! the root context's `proxy_on_tick` once due, after the request that made it (the
//! usual `ngx.timer.at(0, ...)` in `log` runs at the next tick). The callback gets
//! `premature` (always `false`: instances are not shut down gracefully) and the extra
//! arguments; it may make outbound calls (`resty.http`), as in nginx's timer context.
//! Bounds: at most `limits.pending_timers` pending (past it `nil, "too many pending
//! timers"`, lua-nginx-module's answer past `lua_max_pending_timers`), and each run is
//! a chunk invocation for the `instructions`/`memory_bytes` limits.

use piccolo::{CallbackReturn, Context, Error, Execution, StashedFunction, StashedTable, Stack, Table, Value};

use crate::pdk::{raise, set_function, Pdk};

/// One pending timer.
pub struct Timer {
    /// When it is due (ns since the epoch, the host's clock).
    pub due_ns: u64,
    /// `every`'s period in ns (`None` for `at`).
    pub every_ns: Option<u64>,
    /// The callback.
    pub function: StashedFunction,
    /// Its arguments: `premature` (false) then the extra ones, `n` the count.
    pub args: StashedTable,
}

/// The instance's timers.
#[derive(Default)]
pub struct Timers {
    /// Pending timers, in creation order.
    pub pending: Vec<Timer>,
    /// Callbacks running now (suspended on a call included).
    pub running: usize,
    /// A timer callback is what runs now (not a request's chunk).
    pub in_timer: bool,
}

/// Sets `ngx.timer` into the `ngx` table.
pub fn install<'gc>(ctx: Context<'gc>, ngx: Table<'gc>, pdk: &Pdk) {
    let t = Table::new(&ctx);
    set_function(ctx, t, "at", pdk, at);
    set_function(ctx, t, "every", pdk, every);
    set_function(ctx, t, "running_count", pdk, running_count);
    set_function(ctx, t, "pending_count", pdk, pending_count);
    ngx.set(ctx, "timer", t).ok();
}

type Res<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

fn at<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    add(pdk, ctx, exec, stack, false)
}

fn every<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    add(pdk, ctx, exec, stack, true)
}

/// `at(delay, callback, ...)` / `every(delay, callback, ...)`: `1` once queued; errors
/// as lua-nginx-module raises them (`ngx_http_lua_ngx_timer_helper`).
fn add<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, repeat: bool) -> Res<'gc> {
    let name = if repeat { "every" } else { "at" };
    let Some(delay) = crate::lua::stdlib::args::to_number(stack.get(0)) else {
        let got = crate::lua::stdlib::args::type_of(&stack, 0);
        return raise(ctx, &exec, &format!("bad argument #1 to '{name}' (number expected, got {got})"));
    };
    let Value::Function(function) = stack.get(1) else {
        let got = crate::lua::stdlib::args::type_of(&stack, 1);
        return raise(ctx, &exec, &format!("bad argument #2 to '{name}' (function expected, got {got})"));
    };
    if delay < 0.0 {
        return raise(ctx, &exec, "invalid delay");
    }
    if repeat && delay == 0.0 {
        return raise(ctx, &exec, "delay cannot be zero");
    }
    let limit = crate::lua::limits::current().pending_timers;
    if pdk.scope().timers.pending.len() >= limit {
        stack.replace(ctx, (Value::Nil, crate::pdk::lua_string(ctx, b"too many pending timers")));
        return Ok(CallbackReturn::Return);
    }
    let args = Table::new(&ctx);
    args.set(ctx, 1, false).ok();
    let extra = stack.len().saturating_sub(2);
    for i in 0..extra {
        args.set(ctx, i as i64 + 2, stack.get(i + 2)).ok();
    }
    args.set(ctx, "n", extra as i64 + 1).ok();
    let delay_ns = (delay * 1e9) as u64;
    let mut scope = pdk.scope_mut();
    let now = scope.host.now_nanos();
    let timer = Timer {
        due_ns: now + delay_ns,
        every_ns: repeat.then_some(delay_ns),
        function: ctx.stash(function),
        args: ctx.stash(args),
    };
    scope.timers.pending.push(timer);
    drop(scope);
    stack.replace(ctx, 1);
    Ok(CallbackReturn::Return)
}

fn running_count<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let n = pdk.scope().timers.running as i64;
    stack.replace(ctx, n);
    Ok(CallbackReturn::Return)
}

fn pending_count<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let n = pdk.scope().timers.pending.len() as i64;
    stack.replace(ctx, n);
    Ok(CallbackReturn::Return)
}
