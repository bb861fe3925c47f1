//! Lua 5.1's `math` library, completing piccolo's: `atan2 cosh sinh tanh frexp ldexp
//! log10 pow mod`, `log(x [, base])`, `fmod`/`modf` with Lua 5.1 results, and
//! `floor`/`ceil` returning numbers that print as LuaJIT's.

use piccolo::{Callback, CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use super::args::{check_number, number_value, opt_number};

/// Adds the functions piccolo lacks to `math` (created by `Lua::core()`).
pub fn extend<'gc>(ctx: Context<'gc>) {
    let math = match ctx.get_global("math") {
        Value::Table(t) => t,
        _ => {
            let t = Table::new(&ctx);
            ctx.set_global("math", t).ok();
            t
        }
    };
    let unary = |name: &'static str, f: fn(f64) -> f64| {
        let cb = Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
            let x = check_number(ctx, &exec, &stack, 0, name)?;
            stack.replace(ctx, number_value(f(x)));
            Ok(CallbackReturn::Return)
        });
        math.set(ctx, name, cb).ok();
    };
    unary("abs", f64::abs);
    unary("ceil", f64::ceil);
    unary("floor", f64::floor);
    unary("sqrt", f64::sqrt);
    unary("sin", f64::sin);
    unary("cos", f64::cos);
    unary("tan", f64::tan);
    unary("asin", f64::asin);
    unary("acos", f64::acos);
    unary("exp", f64::exp);
    unary("cosh", f64::cosh);
    unary("sinh", f64::sinh);
    unary("tanh", f64::tanh);
    unary("log10", f64::log10);
    unary("deg", f64::to_degrees);
    unary("rad", f64::to_radians);
    let binary = |name: &'static str, f: fn(f64, f64) -> f64| {
        let cb = Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
            let x = check_number(ctx, &exec, &stack, 0, name)?;
            let y = check_number(ctx, &exec, &stack, 1, name)?;
            stack.replace(ctx, number_value(f(x, y)));
            Ok(CallbackReturn::Return)
        });
        math.set(ctx, name, cb).ok();
    };
    binary("atan2", f64::atan2);
    binary("pow", f64::powf);
    binary("fmod", c_fmod);
    binary("mod", c_fmod);
    binary("ldexp", |m, e| m * 2f64.powi(e as i32));
    math.set(ctx, "atan", Callback::from_fn(&ctx, atan)).ok();
    math.set(ctx, "max", Callback::from_fn(&ctx, |ctx, exec, stack| min_max(ctx, exec, stack, "max", |a, b| b > a))).ok();
    math.set(ctx, "min", Callback::from_fn(&ctx, |ctx, exec, stack| min_max(ctx, exec, stack, "min", |a, b| b < a))).ok();
    math.set(ctx, "log", Callback::from_fn(&ctx, log)).ok();
    math.set(ctx, "frexp", Callback::from_fn(&ctx, frexp)).ok();
    math.set(ctx, "modf", Callback::from_fn(&ctx, modf)).ok();
    math.set(ctx, "huge", f64::INFINITY).ok();
    math.set(ctx, "pi", std::f64::consts::PI).ok();
    // Lua 5.3 additions LuaJIT does not have.
    for name in ["maxinteger", "mininteger", "tointeger", "type", "ult"] {
        math.set(ctx, name, Value::Nil).ok();
    }
}

/// C's `fmod`: the result has the sign of the dividend.
fn c_fmod(x: f64, y: f64) -> f64 {
    x % y
}

fn atan<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let y = check_number(ctx, &exec, &stack, 0, "atan")?;
    let result = if stack.get(1).is_nil() { y.atan() } else { y.atan2(check_number(ctx, &exec, &stack, 1, "atan")?) };
    stack.replace(ctx, number_value(result));
    Ok(CallbackReturn::Return)
}

fn log<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let x = check_number(ctx, &exec, &stack, 0, "log")?;
    let result = if stack.get(1).is_nil() {
        x.ln()
    } else {
        let base = opt_number(ctx, &exec, &stack, 1, "log", std::f64::consts::E)?;
        if base == 2.0 {
            x.log2()
        } else if base == 10.0 {
            x.log10()
        } else {
            x.ln() / base.ln()
        }
    };
    stack.replace(ctx, number_value(result));
    Ok(CallbackReturn::Return)
}

/// C's `frexp`: `x = m * 2^e` with `0.5 <= |m| < 1`.
fn frexp_parts(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    if exp == 0 {
        // Subnormal: scale into the normal range first.
        let (m, e) = frexp_parts(x * 2f64.powi(64));
        return (m, e - 64);
    }
    let e = exp - 1022;
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, e)
}

fn frexp<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let x = check_number(ctx, &exec, &stack, 0, "frexp")?;
    let (m, e) = frexp_parts(x);
    stack.replace(ctx, (number_value(m), e));
    Ok(CallbackReturn::Return)
}

fn modf<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let x = check_number(ctx, &exec, &stack, 0, "modf")?;
    let int = if x.is_infinite() { x } else { x.trunc() };
    let frac = if x.is_infinite() { 0.0 } else { x - int };
    stack.replace(ctx, (number_value(int), number_value(frac)));
    Ok(CallbackReturn::Return)
}

#[cfg(test)]
mod tests {
    use super::frexp_parts;

    #[test]
    fn frexp_matches_c() {
        assert_eq!(frexp_parts(8.0), (0.5, 4));
        assert_eq!(frexp_parts(-3.0), (-0.75, 2));
        assert_eq!(frexp_parts(0.0), (0.0, 0));
        assert_eq!(frexp_parts(1.0), (0.5, 1));
    }
}

/// `math.max`/`math.min`: at least one number; `better(current, candidate)` picks.
fn min_max<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, name: &str, better: fn(f64, f64) -> bool) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let mut best = check_number(ctx, &exec, &stack, 0, name)?;
    for i in 1..stack.len() {
        let x = check_number(ctx, &exec, &stack, i, name)?;
        if better(best, x) {
            best = x;
        }
    }
    stack.replace(ctx, number_value(best));
    Ok(CallbackReturn::Return)
}
