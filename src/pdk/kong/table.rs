//! `kong.table`: `new`, `clear`, `merge`, as Kong's `kong/pdk/table.lua` (LuaJIT's
//! `table.new` / `table.clear`, and `kong.tools.table.table_merge`).

use piccolo::{Callback, CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::raise;

/// Builds the `kong.table` table. `new` and `clear` are the state's own `table.new` and
/// `table.clear` (LuaJIT's), so `kong.table.new(narr, nrec)` ignores its size hints and
/// `kong.table.clear(t)` empties `t` in place.
pub fn table<'gc>(ctx: Context<'gc>) -> Table<'gc> {
    let t = Table::new(&ctx);
    if let Value::Table(lib) = ctx.get_global("table") {
        t.set(ctx, "new", lib.get(ctx, "new")).ok();
        t.set(ctx, "clear", lib.get(ctx, "clear")).ok();
    }
    t.set(ctx, "merge", Callback::from_fn(&ctx, merge)).ok();
    t
}

/// `kong.table.merge(t1, t2)`: a new table with the raw entries of `t1`, then those of
/// `t2` (later wins); either may be `nil` (or `false`). A shallow copy: nested tables
/// are shared. Another value errors as Kong's `pairs` does.
fn merge<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let result = Table::new(&ctx);
    for i in 0..2 {
        match stack.get(i) {
            Value::Nil | Value::Boolean(false) => {}
            Value::Table(t) => {
                for (k, v) in t.iter() {
                    result.set(ctx, k, v)?;
                }
            }
            other => {
                return raise(ctx, &exec, &format!("bad argument #1 to 'pairs' (table expected, got {})", other.type_name()));
            }
        }
    }
    stack.replace(ctx, result);
    Ok(CallbackReturn::Return)
}
