//! The Lua 5.1 / LuaJIT standard library on piccolo, one file per library.
//!
//! piccolo's `Lua::core()` provides the VM-level pieces (`pairs`, `ipairs`, `next`,
//! `select`, `type`, `rawget`, `rawset`, `assert`, `coroutine`, part of `math`); this
//! module replaces or completes everything else so scripts see what LuaJIT 2.1 offers.

pub mod args;
pub mod base;
pub mod bit;
pub mod math;
pub mod misc;
pub mod os;
pub mod pattern;
pub mod resty;
pub mod sprintf;
pub mod string;
pub mod table;

use piccolo::Context;

/// Installs the whole library into the state's globals.
pub fn load<'gc>(ctx: Context<'gc>) {
    let string = string::table(ctx);
    ctx.set_global("string", string).ok();
    base::load(ctx, string);
    let table = table::table(ctx);
    ctx.set_global("table", table).ok();
    ctx.set_global("unpack", piccolo::Callback::from_fn(&ctx, base::unpack)).ok();
    math::extend(ctx);
    ctx.set_global("os", os::table(ctx)).ok();
    ctx.set_global("bit", bit::table(ctx)).ok();
    misc::extend_coroutine(ctx);
    ctx.set_global("jit", misc::jit_table(ctx)).ok();
}
