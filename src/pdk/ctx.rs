//! Per-request Lua tables: the storage behind `kong.ctx.shared`, `kong.ctx.plugin` and
//! `ngx.ctx` (Kong's `kong/pdk/ctx.lua`). Each is created on first use in a request and
//! dropped with the request's state, so nothing leaks from one request to the next.

use piccolo::{Context, Table};

use super::Pdk;

/// The table named `name` (e.g. `"kong.ctx.shared"`) of the request being served,
/// created empty on first use.
pub fn request_table<'gc>(pdk: &Pdk, ctx: Context<'gc>, name: &'static str) -> Table<'gc> {
    if let Some((_, stashed)) = pdk.scope().request.lua_tables.iter().find(|(n, _)| *n == name) {
        return ctx.fetch(stashed);
    }
    let table = Table::new(&ctx);
    pdk.scope_mut().request.lua_tables.push((name, ctx.stash(table)));
    table
}
