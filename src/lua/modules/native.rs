//! The native helpers Lua modules here receive (their chunk's second argument): address
//! parsing as `inet_pton(3)` does it, which resty.ipmatcher reaches through FFI, and
//! resty.http's outbound calls ([`crate::pdk::callout::natives`]).

use std::net::{Ipv4Addr, Ipv6Addr};

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use super::function;

type Res<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

/// `{ parse_ipv4 = f, parse_ipv6 = f }`.
pub fn natives(ctx: Context<'_>) -> Table<'_> {
    let t = Table::new(&ctx);
    t.set(ctx, "parse_ipv4", function(ctx, parse_ipv4)).ok();
    t.set(ctx, "parse_ipv6", function(ctx, parse_ipv6)).ok();
    crate::pdk::callout::natives(ctx, t);
    t
}

fn text<'gc>(stack: &Stack<'gc, '_>) -> Option<String> {
    match stack.get(0) {
        Value::String(s) => std::str::from_utf8(s.as_bytes()).ok().map(str::to_owned),
        _ => None,
    }
}

/// resty.ipmatcher's `parse_ipv4(ip)`: the address as a host-order 32-bit number, or
/// false. Dotted quads only, no leading zeros (glibc's `inet_pton(AF_INET)`, which Rust's
/// `Ipv4Addr` parser matches).
fn parse_ipv4<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let parsed = text(&stack).and_then(|t| t.parse::<Ipv4Addr>().ok());
    match parsed {
        Some(ip) => stack.replace(ctx, Value::Integer(i64::from(u32::from(ip)))),
        None => stack.replace(ctx, false),
    }
    Ok(CallbackReturn::Return)
}

/// resty.ipmatcher's `parse_ipv6(ip)`: the four host-order 32-bit words of the address
/// (`[...]` brackets allowed), or false.
fn parse_ipv6<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let parsed = text(&stack).and_then(|t| {
        let inner = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(&t);
        inner.parse::<Ipv6Addr>().ok()
    });
    match parsed {
        Some(ip) => {
            let words = Table::new(&ctx);
            for (i, chunk) in ip.octets().chunks(4).enumerate() {
                let word = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                words.set(ctx, i as i64 + 1, Value::Integer(i64::from(word))).ok();
            }
            stack.replace(ctx, words);
        }
        None => stack.replace(ctx, false),
    }
    Ok(CallbackReturn::Return)
}
