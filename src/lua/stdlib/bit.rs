//! LuaJIT's `bit` module: 32-bit operations on numbers (`tobit tohex bnot band bor bxor
//! lshift rshift arshift rol ror bswap`), results as signed 32-bit integers.

use piccolo::{Callback, CallbackReturn, Context, Error, Execution, Stack, Table};

use super::args::check_number;

/// Lua number to a 32-bit value as LuaJIT's `lj_num2bit` (modulo 2^32, via the 2^52+2^51 trick).
pub fn tobit(n: f64) -> i32 {
    let adjusted = n + 6_755_399_441_055_744.0; // 2^52 + 2^51
    adjusted.to_bits() as u32 as i32
}

fn arg<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, name: &str) -> Result<i32, Error<'gc>> {
    check_number(ctx, exec, stack, i, name).map(tobit)
}

/// Builds the `bit` table.
pub fn table<'gc>(ctx: Context<'gc>) -> Table<'gc> {
    let t = Table::new(&ctx);
    let unary = |name: &'static str, f: fn(i32) -> i32| {
        let cb = Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
            let x = arg(ctx, &exec, &stack, 0, name)?;
            stack.replace(ctx, i64::from(f(x)));
            Ok(CallbackReturn::Return)
        });
        t.set(ctx, name, cb).ok();
    };
    unary("tobit", |x| x);
    unary("bnot", |x| !x);
    unary("bswap", |x| x.swap_bytes());
    let fold = |name: &'static str, f: fn(i32, i32) -> i32| {
        let cb = Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
            let mut acc = arg(ctx, &exec, &stack, 0, name)?;
            for i in 1..stack.len() {
                acc = f(acc, arg(ctx, &exec, &stack, i, name)?);
            }
            stack.replace(ctx, i64::from(acc));
            Ok(CallbackReturn::Return)
        });
        t.set(ctx, name, cb).ok();
    };
    fold("band", |a, b| a & b);
    fold("bor", |a, b| a | b);
    fold("bxor", |a, b| a ^ b);
    let shift = |name: &'static str, f: fn(i32, u32) -> i32| {
        let cb = Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
            let x = arg(ctx, &exec, &stack, 0, name)?;
            let n = arg(ctx, &exec, &stack, 1, name)? as u32 & 31;
            stack.replace(ctx, i64::from(f(x, n)));
            Ok(CallbackReturn::Return)
        });
        t.set(ctx, name, cb).ok();
    };
    shift("lshift", |x, n| ((x as u32) << n) as i32);
    shift("rshift", |x, n| ((x as u32) >> n) as i32);
    shift("arshift", |x, n| x >> n);
    shift("rol", |x, n| (x as u32).rotate_left(n) as i32);
    shift("ror", |x, n| (x as u32).rotate_right(n) as i32);
    let tohex = Callback::from_fn(&ctx, |ctx, exec, mut stack| {
        let x = arg(ctx, &exec, &stack, 0, "tohex")?;
        let n = if stack.get(1).is_nil() { 8 } else { arg(ctx, &exec, &stack, 1, "tohex")? };
        let upper = n < 0;
        let digits = n.unsigned_abs().min(8) as usize;
        let value = if digits < 8 { (x as u32) & ((1u32 << (4 * digits)) - 1) } else { x as u32 };
        let text = if upper { format!("{:0width$X}", value, width = digits) } else { format!("{:0width$x}", value, width = digits) };
        stack.replace(ctx, text);
        Ok(CallbackReturn::Return)
    });
    t.set(ctx, "tohex", tohex).ok();
    t
}

#[cfg(test)]
mod tests {
    use super::tobit;

    #[test]
    fn tobit_wraps_like_luajit() {
        assert_eq!(tobit(4294967295.0), -1);
        assert_eq!(tobit(4294967296.0), 0);
        assert_eq!(tobit(-1.0), -1);
        assert_eq!(tobit(2147483648.0), -2147483648);
        assert_eq!(tobit(1.5), 2); // rounds to nearest even, as LuaJIT
    }
}
