//! The `os` functions Kong's sandboxes allow: `clock`, `date`, `difftime`, `time`.
//!
//! Time comes from the host clock (WASI `clock_time_get` inside the filter). There is no
//! time zone database in the filter, so local time is UTC: `os.date("%H")` and
//! `os.date("!%H")` agree, and `os.time{...}` reads its table as UTC.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use piccolo::{Callback, CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use super::args::{arg_error, check_number, number_value, opt_number};
use crate::lua::error_at;
pub use crate::codec::date::{civil_from_days, days_from_civil, gmtime, Tm};

/// Builds the `os` table.
pub fn table<'gc>(ctx: Context<'gc>) -> Table<'gc> {
    let t = Table::new(&ctx);
    t.set(ctx, "clock", Callback::from_fn(&ctx, clock)).ok();
    t.set(ctx, "date", Callback::from_fn(&ctx, date)).ok();
    t.set(ctx, "difftime", Callback::from_fn(&ctx, difftime)).ok();
    t.set(ctx, "time", Callback::from_fn(&ctx, time)).ok();
    t
}

fn now_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as f64).unwrap_or(0.0)
}

fn clock<'gc>(ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = START.get_or_init(Instant::now);
    stack.replace(ctx, start.elapsed().as_secs_f64());
    Ok(CallbackReturn::Return)
}

fn difftime<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t2 = check_number(ctx, &exec, &stack, 0, "difftime")?;
    let t1 = opt_number(ctx, &exec, &stack, 1, "difftime", 0.0)?;
    stack.replace(ctx, number_value(t2 - t1));
    Ok(CallbackReturn::Return)
}

const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
];

/// C's `strftime` in the C locale for UTC.
pub fn strftime(format: &[u8], tm: &Tm) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < format.len() {
        let c = format[i];
        i += 1;
        if c != b'%' || i >= format.len() {
            out.push(c);
            continue;
        }
        let spec = format[i];
        i += 1;
        let day_name = DAYS[tm.wday as usize % 7];
        let month_name = MONTHS[(tm.month - 1).clamp(0, 11) as usize];
        let hour12 = if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 };
        let text = match spec {
            b'a' => day_name[..3].to_string(),
            b'A' => day_name.to_string(),
            b'b' | b'h' => month_name[..3].to_string(),
            b'B' => month_name.to_string(),
            b'c' => format!("{} {} {:>2} {:02}:{:02}:{:02} {}", &day_name[..3], &month_name[..3], tm.day, tm.hour, tm.min, tm.sec, tm.year),
            b'C' => format!("{:02}", tm.year.div_euclid(100)),
            b'd' => format!("{:02}", tm.day),
            b'D' | b'x' => format!("{:02}/{:02}/{:02}", tm.month, tm.day, tm.year.rem_euclid(100)),
            b'e' => format!("{:>2}", tm.day),
            b'F' => format!("{}-{:02}-{:02}", tm.year, tm.month, tm.day),
            b'H' => format!("{:02}", tm.hour),
            b'I' => format!("{:02}", hour12),
            b'j' => format!("{:03}", tm.yday),
            b'k' => format!("{:>2}", tm.hour),
            b'l' => format!("{:>2}", hour12),
            b'm' => format!("{:02}", tm.month),
            b'M' => format!("{:02}", tm.min),
            b'n' => "\n".into(),
            b'p' => if tm.hour < 12 { "AM" } else { "PM" }.into(),
            b'P' => if tm.hour < 12 { "am" } else { "pm" }.into(),
            b'r' => format!("{:02}:{:02}:{:02} {}", hour12, tm.min, tm.sec, if tm.hour < 12 { "AM" } else { "PM" }),
            b'R' => format!("{:02}:{:02}", tm.hour, tm.min),
            b's' => (days_from_civil(tm.year, tm.month, tm.day) * 86_400 + tm.hour * 3600 + tm.min * 60 + tm.sec).to_string(),
            b'S' => format!("{:02}", tm.sec),
            b't' => "\t".into(),
            b'T' | b'X' => format!("{:02}:{:02}:{:02}", tm.hour, tm.min, tm.sec),
            b'u' => (if tm.wday == 0 { 7 } else { tm.wday }).to_string(),
            b'U' => format!("{:02}", (tm.yday - 1 + 7 - tm.wday) / 7),
            b'w' => tm.wday.to_string(),
            b'W' => format!("{:02}", (tm.yday - 1 + 7 - (tm.wday + 6) % 7) / 7),
            b'y' => format!("{:02}", tm.year.rem_euclid(100)),
            b'Y' => tm.year.to_string(),
            b'z' => "+0000".into(),
            b'Z' => "GMT".into(),
            b'%' => "%".into(),
            other => format!("%{}", other as char),
        };
        out.extend_from_slice(text.as_bytes());
    }
    out
}

fn date<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let format = if stack.get(0).is_nil() { b"%c".to_vec() } else { super::args::check_bytes(ctx, &exec, &stack, 0, "date")? };
    let t = if stack.get(1).is_nil() { now_seconds() } else { check_number(ctx, &exec, &stack, 1, "date")? };
    let tm = gmtime(t.floor() as i64);
    let format = format.strip_prefix(b"!").unwrap_or(&format);
    if format.starts_with(b"*t") {
        let table = Table::new(&ctx);
        for (key, value) in [
            ("year", tm.year),
            ("month", tm.month),
            ("day", tm.day),
            ("hour", tm.hour),
            ("min", tm.min),
            ("sec", tm.sec),
            ("wday", tm.wday + 1),
            ("yday", tm.yday),
        ] {
            table.set(ctx, key, value)?;
        }
        table.set(ctx, "isdst", false)?;
        stack.replace(ctx, table);
    } else {
        stack.replace(ctx, Value::String(piccolo::String::from_slice(&ctx, strftime(format, &tm))));
    }
    Ok(CallbackReturn::Return)
}

fn field<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, table: Table<'gc>, key: &'static str, default: Option<i64>) -> Result<i64, Error<'gc>> {
    match table.get(ctx, key) {
        v @ (Value::Integer(_) | Value::Number(_)) => Ok(v.to_number().unwrap_or(0.0) as i64),
        Value::String(s) => match super::base::parse_number(s.as_bytes()) {
            Some(n) => Ok(n as i64),
            None => Err(error_at(ctx, exec, &format!("field '{key}' is not an integer"))),
        },
        _ => default.ok_or_else(|| error_at(ctx, exec, &format!("field '{key}' missing in date table"))),
    }
}

fn time<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let result = match stack.get(0) {
        Value::Nil => now_seconds(),
        Value::Table(t) => {
            // Lua 5.1's order of reading (and so of "missing" errors).
            let sec = field(ctx, &exec, t, "sec", Some(0))?;
            let min = field(ctx, &exec, t, "min", Some(0))?;
            let hour = field(ctx, &exec, t, "hour", Some(12))?;
            let day = field(ctx, &exec, t, "day", None)?;
            let month = field(ctx, &exec, t, "month", None)?;
            let year = field(ctx, &exec, t, "year", None)?;
            // Normalise the month as mktime does; days, hours ... carry through the sum.
            let y = year + (month - 1).div_euclid(12);
            let m = (month - 1).rem_euclid(12) + 1;
            let days = days_from_civil(y, m, 1) + day - 1;
            (days * 86_400 + hour * 3600 + min * 60 + sec) as f64
        }
        _ => return Err(arg_error(ctx, &exec, 0, "time", &format!("table expected, got {}", super::args::type_of(&stack, 0)))),
    };
    stack.replace(ctx, number_value(result));
    Ok(CallbackReturn::Return)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strftime_in_the_c_locale() {
        let tm = gmtime(0);
        assert_eq!(strftime(b"%Y-%m-%d %H:%M:%S", &tm), b"1970-01-01 00:00:00");
        assert_eq!(strftime(b"%c", &tm), b"Thu Jan  1 00:00:00 1970");
        assert_eq!(strftime(b"%A %B %j %p %y %%", &tm), b"Thursday January 001 AM 70 %");
        let tm = gmtime(1_700_000_000);
        assert_eq!(strftime(b"%F %T %a %U %W", &tm), b"2023-11-14 22:13:20 Tue 46 46");
    }
}
