//! `kong.nginx`: the nginx facts Kong's `kong/pdk/nginx.lua` exposes that a proxy-wasm
//! filter can answer.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table};

use crate::pdk::{lua_string, set_function, Pdk};

/// Builds the `kong.nginx` table.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "get_subsystem", pdk, get_subsystem);
    t
}

/// `kong.nginx.get_subsystem()`: `"http"`, the only subsystem a proxy-wasm HTTP filter
/// runs in (Kong's `kong.nginx.subsystem` property says the same on Kong).
fn get_subsystem<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    stack.replace(ctx, lua_string(ctx, b"http"));
    Ok(CallbackReturn::Return)
}
