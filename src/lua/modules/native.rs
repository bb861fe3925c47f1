//! The native helpers Lua modules here receive (their chunk's second argument): address
//! parsing as `inet_pton(3)` does it, which resty.ipmatcher reaches through FFI; random
//! bytes (WASI `random_get`) for resty.random, resty.jit-uuid and kong.tools.rand; gzip
//! for kong.tools.gzip (miniz_oxide, where Kong has zlib through lua-ffi-zlib);
//! ngx.re.split's search step ([`crate::pdk::ngx::re::split_exec`], which lua-resty-core
//! reaches through FFI); and resty.http's outbound calls ([`crate::pdk::callout::natives`]).

use std::net::{Ipv4Addr, Ipv6Addr};

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use super::function;

type Res<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

/// `{ parse_ipv4, parse_ipv6, random_bytes, deflate_gzip, inflate_gzip, re_split_exec }`
/// and resty.http's.
pub fn natives(ctx: Context<'_>) -> Table<'_> {
    let t = Table::new(&ctx);
    t.set(ctx, "parse_ipv4", function(ctx, parse_ipv4)).ok();
    t.set(ctx, "parse_ipv6", function(ctx, parse_ipv6)).ok();
    t.set(ctx, "random_bytes", function(ctx, random_bytes)).ok();
    t.set(ctx, "deflate_gzip", function(ctx, deflate_gzip)).ok();
    t.set(ctx, "inflate_gzip", function(ctx, inflate_gzip)).ok();
    t.set(ctx, "re_split_exec", function(ctx, crate::pdk::ngx::re::split_exec)).ok();
    crate::pdk::callout::natives(ctx, t);
    super::crypto::natives(ctx, t);
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

/// `random_bytes(n)`: `n` bytes from WASI's `random_get` (through `getrandom`; every
/// proxy-wasm host provides it: Envoy and Kong's engine on wasmtime/V8 read the OS
/// CSPRNG), or `nil` when the host refused, or `n` is not a count up to the string limit.
fn random_bytes<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let n = stack.get(0).to_integer().unwrap_or(-1);
    let limit = crate::lua::limits::current().string_bytes;
    let value = match usize::try_from(n) {
        Ok(n) if n <= limit => {
            let mut bytes = vec![0u8; n];
            match getrandom::fill(&mut bytes) {
                Ok(()) => Value::String(piccolo::String::from_slice(&ctx, &bytes)),
                Err(_) => Value::Nil,
            }
        }
        _ => Value::Nil,
    };
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

/// The gzip header zlib's `deflateInit2(windowBits = 15 + 16)` writes: no name, no
/// mtime, OS 3 (Unix).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];

/// Gzip-compresses `data` at zlib's default level (6), as lua-ffi-zlib's `deflateGzip`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = GZIP_HEADER.to_vec();
    out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(data, 6));
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// Inflates a gzip or zlib stream (zlib's `inflateInit2(windowBits = 15 + 32)`, header
/// detected), at most `limit` bytes out. Errors as lua-ffi-zlib's `inflateGzip` words
/// them: `"Data error, no input bytes"` for empty or truncated input, zlib's
/// `"data error"` for a bad header, stream or check value; past `limit`,
/// `"output too large"`.
pub fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, &'static str> {
    use miniz_oxide::inflate::{decompress_to_vec_with_limit, decompress_to_vec_zlib_with_limit, TINFLStatus};
    const NO_INPUT: &str = "Data error, no input bytes";
    const DATA: &str = "data error";
    let map = |e: miniz_oxide::inflate::DecompressError| match e.status {
        TINFLStatus::FailedCannotMakeProgress => NO_INPUT,
        TINFLStatus::HasMoreOutput => "output too large",
        _ => DATA,
    };
    if data.is_empty() {
        return Err(NO_INPUT);
    }
    if data.len() >= 2 && data[0] != 0x1f {
        // zlib: CMF/FLG check (RFC 1950).
        if (u16::from(data[0]) << 8 | u16::from(data[1])) % 31 != 0 || data[0] & 0x0f != 8 {
            return Err(DATA);
        }
        return decompress_to_vec_zlib_with_limit(data, limit).map_err(map);
    }
    if data.len() < 10 {
        return Err(if GZIP_HEADER[..data.len()].iter().zip(data).all(|(a, b)| a == b) || data.len() < 3 { NO_INPUT } else { DATA });
    }
    if data[1] != 0x8b || data[2] != 8 {
        return Err(DATA);
    }
    let flags = data[3];
    let mut at = 10;
    if flags & 4 != 0 {
        let len = data.get(at..at + 2).ok_or(NO_INPUT)?;
        at += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for bit in [8u8, 16] {
        if flags & bit != 0 {
            let end = data.get(at..).ok_or(NO_INPUT)?.iter().position(|&b| b == 0).ok_or(NO_INPUT)?;
            at += end + 1;
        }
    }
    if flags & 2 != 0 {
        at += 2;
    }
    let body = data.get(at..).ok_or(NO_INPUT)?;
    let out = decompress_to_vec_with_limit(body, limit).map_err(map)?;
    // The trailer: CRC-32 and size mod 2^32. miniz does not say where the stream ended,
    // so the trailer is taken as the last 8 bytes (zlib ignores nothing after it either
    // when the caller feeds one member, as Kong's helper does).
    let trailer = body.len().checked_sub(8).and_then(|i| body.get(i..)).ok_or(NO_INPUT)?;
    let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if crc != crc32fast::hash(&out) || size != out.len() as u32 {
        return Err(DATA);
    }
    Ok(out)
}

fn bytes_arg<'gc>(stack: &Stack<'gc, '_>) -> Option<Vec<u8>> {
    match stack.get(0) {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => Some(crate::lua::format::display(stack.get(0)).into_bytes()),
        _ => None,
    }
}

/// `deflate_gzip(str)`: the gzip bytes, or `nil, err`.
fn deflate_gzip<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    match bytes_arg(&stack) {
        Some(data) => {
            let out = gzip(&data);
            stack.replace(ctx, Value::String(piccolo::String::from_slice(&ctx, &out)));
        }
        None => {
            let err = format!("DEFLATE: bad argument (string expected, got {})", stack.get(0).type_name());
            stack.replace(ctx, (Value::Nil, Value::String(piccolo::String::from_slice(&ctx, err.as_bytes()))));
        }
    }
    Ok(CallbackReturn::Return)
}

/// `inflate_gzip(gz)`: the inflated bytes (at most the string limit), or `nil, err`
/// with lua-ffi-zlib's `INFLATE: ` prefix.
fn inflate_gzip<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let limit = crate::lua::limits::current().string_bytes;
    let result = match bytes_arg(&stack) {
        Some(data) => gunzip(&data, limit),
        None => Err("Data error, no input bytes"),
    };
    match result {
        Ok(out) => stack.replace(ctx, Value::String(piccolo::String::from_slice(&ctx, &out))),
        Err(e) => {
            let err = format!("INFLATE: {e}");
            stack.replace(ctx, (Value::Nil, Value::String(piccolo::String::from_slice(&ctx, err.as_bytes()))));
        }
    }
    Ok(CallbackReturn::Return)
}

#[cfg(test)]
mod gzip_tests {
    use super::*;

    #[test]
    fn gzip_round_trips_and_reads_zlib_and_gzip_from_elsewhere() {
        let text = b"hello hello hello hello, gzip".repeat(20);
        let gz = gzip(&text);
        assert_eq!(&gz[..3], &[0x1f, 0x8b, 8]);
        assert!(gz.len() < text.len());
        assert_eq!(gunzip(&gz, 1 << 20).unwrap(), text);
        // `printf 'hi\n' | gzip -n | xxd -i` (GNU gzip 1.12): a stream we did not write.
        let gnu = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0xc8, 0xe4, 0x02, 0x00, 0x7a, 0x7a, 0x6f, 0xed, 0x03, 0x00, 0x00, 0x00];
        assert_eq!(gunzip(&gnu, 100).unwrap(), b"hi\n");
        // zlib.compress(b"hi\n") (Python 3): header 78 9c, detected as zlib.
        let zlib = [0x78, 0x9c, 0xcb, 0xc8, 0xe4, 0x02, 0x00, 0x02, 0x17, 0x00, 0xdc];
        assert_eq!(gunzip(&zlib, 100).unwrap(), b"hi\n");
    }

    #[test]
    fn gunzip_errors_as_lua_ffi_zlib() {
        assert_eq!(gunzip(b"", 10), Err("Data error, no input bytes"));
        assert_eq!(gunzip(b"not gzip at all", 10), Err("data error"));
        let gz = gzip(b"some text to compress");
        assert_eq!(gunzip(&gz[..gz.len() - 12], 100), Err("Data error, no input bytes"));
        let mut bad = gz.clone();
        let n = bad.len();
        bad[n - 8] ^= 1;
        assert_eq!(gunzip(&bad, 100), Err("data error"));
        assert_eq!(gunzip(&gzip(&[b'a'; 1000]), 10), Err("output too large"));
    }
}
