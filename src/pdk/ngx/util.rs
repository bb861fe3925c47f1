//! The pure `ngx.*` utilities of lua-nginx-module (with lua-resty-core's argument rules,
//! which is what Kong runs): time (`ngx.now`, `ngx.time`, `ngx.today`, `ngx.localtime`,
//! `ngx.utctime`, `ngx.update_time`, `ngx.http_time`, `ngx.cookie_time`,
//! `ngx.parse_http_time`), encodings (`ngx.encode_base64`, `ngx.decode_base64`,
//! `ngx.escape_uri`, `ngx.unescape_uri`, `ngx.quote_sql_str`), digests (`ngx.md5`,
//! `ngx.md5_bin`, `ngx.sha1_bin`, `ngx.hmac_sha1`, `ngx.crc32_short`, `ngx.crc32_long`),
//! `ngx.null`, `ngx.get_phase`, `ngx.sleep` and `ngx.worker.{pid,id,count}`.
//!
//! Differences from nginx, all forced by proxy-wasm:
//! - time comes from the host clock (`proxy_get_current_time_nanoseconds`), read on each
//!   call (so `ngx.update_time` has nothing to do); there is no time zone, so
//!   `ngx.localtime`/`ngx.today` are UTC, as nginx with `TZ=UTC`.
//! - `ngx.sleep(0)` is a no-op (there is no other light thread to yield to); a longer
//!   sleep in `rewrite`/`access` suspends the chunk and holds the request until a tick
//!   of the plugin instance wakes it (`crate::pdk::callout::sleep`), so it lasts at
//!   least the duration, up to a tick period more; elsewhere it raises
//!   lua-nginx-module's "API disabled in the context of ...".
//! - `ngx.worker.pid()` is nginx's `$pid` on nginx's engine (Kong), 0 elsewhere;
//!   `ngx.worker.id()` is 0, `ngx.worker.count()` 1 and `ngx.worker.exiting()` false
//!   everywhere: no host tells a filter its worker's number or how many there are.

use gc_arena::{Collect, Rootable};
use hmac::Mac;
use md5::Digest;
use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, UserData, Value};

use crate::codec::date;
use crate::pdk::{lua_string, raise, set_function, Pdk};
use crate::lua::format;
use crate::phase::Phase;

/// Sets the utilities into the `ngx` table.
pub fn install<'gc>(ctx: Context<'gc>, ngx: Table<'gc>, pdk: &Pdk) {
    let fns: [(&'static str, crate::pdk::PdkFn); 23] = [
        ("now", now),
        ("time", time),
        ("today", today),
        ("localtime", localtime),
        ("utctime", localtime),
        ("update_time", update_time),
        ("http_time", http_time),
        ("cookie_time", cookie_time),
        ("parse_http_time", parse_http_time),
        ("encode_base64", encode_base64),
        ("decode_base64", decode_base64),
        ("escape_uri", escape_uri),
        ("unescape_uri", unescape_uri),
        ("quote_sql_str", quote_sql_str),
        ("md5", md5_hex),
        ("md5_bin", md5_bin),
        ("sha1_bin", sha1_bin),
        ("hmac_sha1", hmac_sha1),
        ("crc32_short", crc32),
        ("crc32_long", crc32),
        ("get_phase", get_phase),
        ("get_raw_phase", get_phase),
        ("sleep", sleep),
    ];
    for (name, f) in fns {
        set_function(ctx, ngx, name, pdk, f);
    }
    ngx.set(ctx, "null", null(ctx)).ok();
    let worker = Table::new(&ctx);
    set_function(ctx, worker, "pid", pdk, worker_pid);
    set_function(ctx, worker, "id", pdk, worker_id);
    set_function(ctx, worker, "count", pdk, worker_count);
    set_function(ctx, worker, "exiting", pdk, worker_exiting);
    set_function(ctx, worker, "pids", pdk, worker_pids);
    ngx.set(ctx, "worker", worker).ok();
    ngx.set(ctx, "config", config_table(ctx, pdk)).ok();
}

/// What `ngx.config` reports where the host does not say: the versions of the OpenResty
/// that Kong [`KONG_VERSION`](crate::pdk::kong::node::KONG_VERSION) ships (3.10.0:
/// OpenResty 1.27.1.2, so nginx 1.27.1 and lua-nginx-module 0.10.28, Kong's
/// `.requirements` and `build/openresty/patches`), so `kong.version` and `ngx.config` agree.
const DEFAULT_NGINX_VERSION: i64 = 1_027_001;
const NGX_LUA_VERSION: i64 = 10_028;

/// `ngx.config`: what lua-nginx-module reports about the build. `subsystem` is `"http"`
/// (the only one served), `debug` false; `nginx_version` is the host's (nginx's
/// `$nginx_version`, read when first asked in a request) on nginx's engine, else
/// [`DEFAULT_NGINX_VERSION`]; `ngx_lua_version` is always [`NGX_LUA_VERSION`] (no host
/// says it).
fn config_table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let config = Table::new(&ctx);
    config.set(ctx, "subsystem", "http").ok();
    config.set(ctx, "debug", false).ok();
    config.set(ctx, "ngx_lua_version", NGX_LUA_VERSION).ok();
    let meta = Table::new(&ctx);
    meta.set(ctx, piccolo::MetaMethod::Index, crate::pdk::function(ctx, pdk, config_index)).ok();
    config.set_metatable(&ctx, Some(meta));
    config
}

/// `ngx.config.nginx_version` on demand: `1.27.4` becomes 1027004, as nginx's
/// `nginx_version` number (`major * 1000000 + minor * 1000 + patch`).
fn config_index<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let value = match stack.get(1) {
        Value::String(key) if key.as_bytes() == b"nginx_version" => Value::Integer(nginx_version(pdk)),
        _ => Value::Nil,
    };
    ret(ctx, stack, value)
}

fn nginx_version(pdk: &Pdk) -> i64 {
    let scope = pdk.scope();
    let text = crate::properties::Need::NginxVersion.read_text(scope.host.as_ref(), scope.host_kind);
    text.and_then(|t| {
        let mut parts = t.trim().split('.').map(|p| p.parse::<i64>().ok());
        Some(parts.next()?? * 1_000_000 + parts.next().flatten().unwrap_or(0) * 1_000 + parts.next().flatten().unwrap_or(0))
    })
    .unwrap_or(DEFAULT_NGINX_VERSION)
}

/// The nginx worker's pid on nginx's engine (`$pid`), else 0: a wasm VM elsewhere has no
/// process id to read.
pub fn worker_pid_of(pdk: &Pdk) -> i64 {
    let scope = pdk.scope();
    crate::properties::Need::WorkerPid
        .read_text(scope.host.as_ref(), scope.host_kind)
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0)
}

/// `ngx.worker.pids()`: the one "worker" a filter instance is, as `{ngx.worker.pid()}`.
fn worker_pids<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let pids = Table::new(&ctx);
    pids.set(ctx, 1, worker_pid_of(pdk)).ok();
    ret(ctx, stack, Value::Table(pids))
}

// ---------------------------------------------------------------------------------------
// ngx.null

/// The type of the `ngx.null` userdata.
struct NullMarker;

#[derive(Collect)]
#[collect(no_drop)]
struct NullSentinel<'gc>(UserData<'gc>);

impl<'gc> piccolo::Singleton<'gc> for NullSentinel<'gc> {
    fn create(ctx: Context<'gc>) -> Self {
        NullSentinel(UserData::new_static(&ctx, NullMarker))
    }
}

/// `ngx.null` (= `cjson.null`): one userdata per Lua state, so `v == ngx.null` compares
/// identity as in OpenResty. JSON code should decode JSON `null` to this value and encode
/// it back as `null` (see [`is_null`]).
pub fn null<'gc>(ctx: Context<'gc>) -> Value<'gc> {
    Value::UserData(ctx.singleton::<Rootable![NullSentinel<'_>]>().0)
}

/// Whether `value` is `ngx.null`.
pub fn is_null(value: Value<'_>) -> bool {
    matches!(value, Value::UserData(u) if u.is_static::<NullMarker>())
}

// ---------------------------------------------------------------------------------------
// Arguments

type Res<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

/// lua-resty-core's coercion for the string utilities: a string as is, `nil`/`false` as
/// `""`, anything else through `tostring`.
fn coerce_bytes(value: Value<'_>) -> Vec<u8> {
    match value {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Nil | Value::Boolean(false) => Vec::new(),
        other => format::display(other).into_bytes(),
    }
}

/// `luaL_checklstring` with the function's name in the message.
fn check_bytes<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, fname: &str) -> Result<Vec<u8>, Error<'gc>> {
    crate::lua::stdlib::args::check_bytes(ctx, exec, stack, i, fname)
}

fn ret<'gc>(ctx: Context<'gc>, mut stack: Stack<'gc, '_>, value: Value<'gc>) -> Res<'gc> {
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

fn ret_bytes<'gc>(ctx: Context<'gc>, stack: Stack<'gc, '_>, bytes: &[u8]) -> Res<'gc> {
    ret(ctx, stack, lua_string(ctx, bytes))
}

// ---------------------------------------------------------------------------------------
// Time

fn now_nanos(pdk: &Pdk) -> u64 {
    pdk.scope().host.now_nanos()
}

/// `ngx.now()`: seconds since the epoch as a float with millisecond precision.
fn now<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let ms = now_nanos(pdk) / 1_000_000;
    ret(ctx, stack, Value::Number(ms as f64 / 1000.0))
}

/// `ngx.time()`: whole seconds since the epoch.
fn time<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    ret(ctx, stack, Value::Integer((now_nanos(pdk) / 1_000_000_000) as i64))
}

/// `ngx.today()`: `yyyy-mm-dd` (UTC).
fn today<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let t = date::gmtime((now_nanos(pdk) / 1_000_000_000) as i64);
    ret_bytes(ctx, stack, format!("{:04}-{:02}-{:02}", t.year, t.month, t.day).as_bytes())
}

/// `ngx.localtime()` and `ngx.utctime()`: `yyyy-mm-dd hh:mm:ss` (both UTC).
fn localtime<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let t = date::gmtime((now_nanos(pdk) / 1_000_000_000) as i64);
    let text = format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year, t.month, t.day, t.hour, t.min, t.sec);
    ret_bytes(ctx, stack, text.as_bytes())
}

/// `ngx.update_time()`: nothing to do, the clock is read on every call.
fn update_time<'gc>(_pdk: &Pdk, _ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// The seconds argument of `http_time`/`cookie_time` (lua-resty-core: "number argument only").
fn seconds_arg<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>) -> Result<i64, Error<'gc>> {
    match stack.get(0) {
        Value::Integer(i) => Ok(i),
        Value::Number(n) if n.is_finite() => Ok(n.trunc() as i64),
        Value::Number(_) => Ok(0),
        _ => raise(ctx, exec, "number argument only"),
    }
}

/// `ngx.http_time(sec)`: `Thu, 01 Jan 1970 00:00:00 GMT`.
fn http_time<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let secs = seconds_arg(ctx, &exec, &stack)?;
    ret_bytes(ctx, stack, date::http_time(secs).as_bytes())
}

/// `ngx.cookie_time(sec)`: `Thu, 18-Nov-10 11:27:35 GMT` (4-digit years after 2037, as nginx).
fn cookie_time<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let secs = seconds_arg(ctx, &exec, &stack)?;
    ret_bytes(ctx, stack, date::cookie_time(secs).as_bytes())
}

/// `ngx.parse_http_time(str)`: seconds since the epoch, or `nil` when the text is not an
/// HTTP date (RFC 1123, RFC 850 or asctime format, as nginx's `ngx_parse_http_time`).
fn parse_http_time<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let Value::String(s) = stack.get(0) else {
        return raise(ctx, &exec, "string argument only");
    };
    let value = match date::parse_http_time(s.as_bytes()) {
        Some(t) => Value::Integer(t),
        None => Value::Nil,
    };
    ret(ctx, stack, value)
}

// ---------------------------------------------------------------------------------------
// Base64

pub use crate::codec::base64::{decode as base64_decode, encode as base64_encode};

/// `ngx.encode_base64(str, no_padding?)`.
fn encode_base64<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let src = coerce_bytes(stack.get(0));
    let pad = match stack.get(1) {
        Value::Nil | Value::Boolean(false) => true,
        Value::Boolean(true) => false,
        other => return raise(ctx, &exec, &format!("bad no_padding: boolean expected, got {}", other.type_name())),
    };
    ret_bytes(ctx, stack, &base64_encode(&src, pad))
}

/// `ngx.decode_base64(str)`: the bytes, or `nil` when `str` is not base64.
fn decode_base64<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let Value::String(s) = stack.get(0) else {
        return raise(ctx, &exec, "string argument only");
    };
    match base64_decode(s.as_bytes()) {
        Some(bytes) => ret_bytes(ctx, stack, &bytes),
        None => ret(ctx, stack, Value::Nil),
    }
}

// ---------------------------------------------------------------------------------------
// URI escaping

/// lua-nginx-module's escape bitmaps (bit set = escape), indexed by the `type` argument of
/// `ngx.escape_uri`: 0 uri, 1 args, 2 uri component (the default), 3 html, 4 refresh,
/// 5 memcached, 6 mail_auth, 7 header name, 8 header value.
const ESCAPE_MAPS: [[u32; 8]; 9] = {
    const HIGH: [u32; 4] = [0xffffffff; 4];
    const fn map(low: [u32; 4], high: [u32; 4]) -> [u32; 8] {
        [low[0], low[1], low[2], low[3], high[0], high[1], high[2], high[3]]
    }
    let memcached = map([0xffffffff, 0x00000021, 0, 0], [0; 4]);
    [
        map([0xffffffff, 0x80000029, 0, 0x80000000], HIGH),
        map([0xffffffff, 0x80000829, 0, 0x80000000], HIGH),
        map([0xffffffff, 0xfc00987d, 0x78000001, 0xb8000001], HIGH),
        map([0xffffffff, 0x000000ad, 0, 0x80000000], HIGH),
        map([0xffffffff, 0x00000085, 0, 0x80000000], HIGH),
        memcached,
        memcached,
        map([0xffffffff, 0xfc009305, 0x38000001, 0xa8000000], HIGH),
        map([0xfffffdff, 0, 0, 0x80000000], [0; 4]),
    ]
};

/// Percent-escapes the bytes `map` marks, with upper-case hex digits.
pub fn escape_uri_bytes(src: &[u8], kind: usize) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let map = &ESCAPE_MAPS[kind.min(ESCAPE_MAPS.len() - 1)];
    let mut out = Vec::with_capacity(src.len());
    for &c in src {
        if map[usize::from(c >> 5)] & (1 << (c & 0x1f)) != 0 {
            out.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 0xf)]]);
        } else {
            out.push(c);
        }
    }
    out
}

/// lua-nginx-module's `ngx_http_lua_unescape_uri` for URI components: `%XX` decoded (a
/// `%` not followed by two hex digits stays), `+` becomes a space.
pub fn unescape_uri_bytes(src: &[u8]) -> Vec<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(src.len());
    let mut i = 0;
    while i < src.len() {
        match src[i] {
            b'%' => match (src.get(i + 1).and_then(|&c| hex(c)), src.get(i + 2).and_then(|&c| hex(c))) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// `ngx.escape_uri(str, type?)`: `type` 2 (URI component, the default: everything but
/// `A-Za-z0-9-._~`) or 0 (full URI: spaces, `#`, `%`, `?`, controls and non-ASCII), and the
/// other lua-nginx-module types up to 8.
fn escape_uri<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let src = coerce_bytes(stack.get(0));
    let kind = match stack.get(1) {
        Value::Nil => 2,
        v => match crate::lua::stdlib::args::to_number(v) {
            Some(n) if (0.0..=8.0).contains(&n) => n as usize,
            _ => {
                return raise(ctx, &exec, &format!("\"type\" {} out of range", format::display(v)));
            }
        },
    };
    ret_bytes(ctx, stack, &escape_uri_bytes(&src, kind))
}

/// `ngx.unescape_uri(str)`.
fn unescape_uri<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let src = coerce_bytes(stack.get(0));
    ret_bytes(ctx, stack, &unescape_uri_bytes(&src))
}

/// `ngx.quote_sql_str(str)`: a MySQL string literal, in single quotes, with `\0 \b \n \r
/// \t \Z \\ \' \"` escaped.
fn quote_sql_str<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    if stack.len() != 1 {
        return raise(ctx, &exec, "expecting one argument");
    }
    let src = check_bytes(ctx, &exec, &stack, 0, "quote_sql_str")?;
    let mut out = Vec::with_capacity(src.len() + 2);
    out.push(b'\'');
    for c in src {
        let escaped: &[u8] = match c {
            0 => b"\\0",
            8 => b"\\b",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x1a => b"\\Z",
            b'\\' => b"\\\\",
            b'\'' => b"\\'",
            b'"' => b"\\\"",
            _ => {
                out.push(c);
                continue;
            }
        };
        out.extend_from_slice(escaped);
    }
    out.push(b'\'');
    ret_bytes(ctx, stack, &out)
}

// ---------------------------------------------------------------------------------------
// Digests

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `ngx.md5(str)`: the MD5 digest in lower-case hex.
fn md5_hex<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let digest = md5::Md5::digest(coerce_bytes(stack.get(0)));
    ret_bytes(ctx, stack, hex(&digest).as_bytes())
}

/// `ngx.md5_bin(str)`: the 16-byte MD5 digest.
fn md5_bin<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let digest = md5::Md5::digest(coerce_bytes(stack.get(0)));
    ret_bytes(ctx, stack, &digest)
}

/// `ngx.sha1_bin(str)`: the 20-byte SHA-1 digest.
fn sha1_bin<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let digest = sha1::Sha1::digest(coerce_bytes(stack.get(0)));
    ret_bytes(ctx, stack, &digest)
}

/// `ngx.hmac_sha1(secret, str)`: the 20-byte HMAC-SHA1 (both arguments strings or numbers).
fn hmac_sha1<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    if stack.len() != 2 {
        return raise(ctx, &exec, &format!("expecting 2 arguments, but got {}", stack.len()));
    }
    let key = check_bytes(ctx, &exec, &stack, 0, "hmac_sha1")?;
    let data = check_bytes(ctx, &exec, &stack, 1, "hmac_sha1")?;
    let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key) else {
        return raise(ctx, &exec, "hmac_sha1: bad key");
    };
    mac.update(&data);
    ret_bytes(ctx, stack, &mac.finalize().into_bytes())
}

/// `ngx.crc32_short(str)` / `ngx.crc32_long(str)`: the CRC-32 (IEEE) as a number.
fn crc32<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    let sum = crc32fast::hash(&coerce_bytes(stack.get(0)));
    ret(ctx, stack, Value::Integer(i64::from(sum)))
}

// ---------------------------------------------------------------------------------------
// Misc

/// `ngx.get_phase()`: lua-nginx-module's name of the running phase.
fn get_phase<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    if pdk.scope().timers.in_timer {
        return ret_bytes(ctx, stack, b"timer");
    }
    let name = match pdk.scope().phase {
        Phase::Certificate => "ssl_cert",
        Phase::Rewrite => "rewrite",
        Phase::Access | Phase::WsHandshake => "access",
        Phase::HeaderFilter => "header_filter",
        Phase::BodyFilter => "body_filter",
        Phase::Log => "log",
        Phase::WsClientFrame | Phase::WsUpstreamFrame | Phase::WsClose => "content",
    };
    ret_bytes(ctx, stack, name.as_bytes())
}

/// `ngx.sleep(sec)`: only `0` (a no-op); a filter cannot pause in the middle of a phase.
fn sleep<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    match crate::lua::stdlib::args::to_number(stack.get(0)) {
        Some(n) if n < 0.0 => raise(ctx, &exec, "invalid sleep duration"),
        Some(n) => crate::pdk::callout::sleep(pdk, ctx, exec, stack, n),
        None => raise(ctx, &exec, &format!(
            "bad argument #1 to 'sleep' (number expected, got {})",
            crate::lua::stdlib::args::type_of(&stack, 0)
        )),
    }
}

/// `ngx.worker.pid()`: see [`worker_pid_of`].
fn worker_pid<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    ret(ctx, stack, Value::Integer(worker_pid_of(pdk)))
}

fn worker_id<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    ret(ctx, stack, Value::Integer(0))
}

fn worker_exiting<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    ret(ctx, stack, Value::Boolean(false))
}

fn worker_count<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    ret(ctx, stack, Value::Integer(1))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::config::{PluginConfig, Role};
    use crate::pdk::testing::FakeHost;
    use crate::runtime::{PhaseOutcome, RequestState, Runtime};

    /// `say(...)` logs its arguments through `tostring`, joined by spaces.
    const PRELUDE: &str = "local function say(...) local t = {} for i = 1, select('#', ...) do \
        t[i] = tostring((select(i, ...))) end kong.log.err(table.concat(t, ' ')) end\n";

    /// Runs `source` (after [`PRELUDE`], so its line numbers are 1 more) in `phase` and
    /// returns the outcome and the log lines without the plugin prefix.
    pub fn run_in(phase: Phase, source: &str, now_nanos: u64) -> (PhaseOutcome, Vec<String>) {
        let host = Rc::new(FakeHost::default());
        host.now.set(now_nanos);
        let config = serde_json::json!({ phase.name(): [format!("{PRELUDE}{source}")] }).to_string();
        let config = PluginConfig::parse(config.as_bytes()).unwrap();
        let mut rt = Runtime::new(&config, Role::PreFunction, host.clone()).unwrap();
        let outcome = rt.run_phase(phase, &mut RequestState::default());
        let lines = host.messages().iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect();
        (outcome, lines)
    }

    /// Runs `source` in access; it must not fail.
    pub fn run(source: &str) -> Vec<String> {
        let (outcome, lines) = run_in(Phase::Access, source, 0);
        assert_eq!(outcome, PhaseOutcome::Continue, "{lines:?}");
        lines
    }

    /// Runs `source` in access; it must fail: the error line.
    pub fn run_err(source: &str) -> String {
        let (outcome, lines) = run_in(Phase::Access, source, 0);
        assert_eq!(outcome, PhaseOutcome::Failed, "{lines:?}");
        lines.last().cloned().unwrap_or_default()
    }


    #[test]
    fn time_functions_read_the_host_clock() {
        // 2010-11-18 11:27:35.123456 UTC
        let (outcome, lines) = run_in(
            Phase::Access,
            "say(ngx.now(), ngx.time(), ngx.today())\nsay(ngx.localtime())\nsay(ngx.utctime())\n\
             ngx.update_time()\nsay(ngx.http_time(ngx.time()), ngx.cookie_time(1290079655))\n\
             say(ngx.parse_http_time('Thu, 18 Nov 2010 11:27:35 GMT'), ngx.parse_http_time('nope'))",
            1_290_079_655_123_456_789,
        );
        assert_eq!(outcome, PhaseOutcome::Continue, "{lines:?}");
        assert_eq!(lines, [
            "1290079655.123 1290079655 2010-11-18",
            "2010-11-18 11:27:35",
            "2010-11-18 11:27:35",
            "Thu, 18 Nov 2010 11:27:35 GMT Thu, 18-Nov-10 11:27:35 GMT",
            "1290079655 nil",
        ]);
    }

    #[test]
    fn time_argument_errors_are_lua_errors() {
        assert_eq!(run_err("ngx.http_time('x')"), "access[1]:2: number argument only");
        assert_eq!(run_err("ngx.cookie_time()"), "access[1]:2: number argument only");
        assert_eq!(run_err("ngx.parse_http_time(42)"), "access[1]:2: string argument only");
    }

    #[test]
    fn base64_round_trips_and_rejects_invalid_text() {
        assert_eq!(base64_encode(b"hello", true), b"aGVsbG8=");
        assert_eq!(base64_encode(b"hello", false), b"aGVsbG8");
        assert_eq!(base64_encode(b"", true), b"");
        assert_eq!(base64_encode(&[0xff, 0xfe], true), b"//4=");
        assert_eq!(base64_decode(b"aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(base64_decode(b"aGVsbG8"), Some(b"hello".to_vec()));
        assert_eq!(base64_decode(b"//4="), Some(vec![0xff, 0xfe]));
        assert_eq!(base64_decode(b"aGVsbG8*"), None);
        assert_eq!(base64_decode(b"aGVsb"), None, "one symbol short of a byte");
        for n in 0..40u8 {
            let data: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(base64_decode(&base64_encode(&data, n % 2 == 0)), Some(data));
        }
        assert_eq!(
            run("say(ngx.encode_base64('hello'), ngx.encode_base64('hello', true), ngx.encode_base64(nil), ngx.encode_base64(12))\n\
                 say(ngx.decode_base64('aGVsbG8='), ngx.decode_base64('%%%'))"),
            ["aGVsbG8= aGVsbG8  MTI=", "hello nil"]
        );
        assert_eq!(run_err("ngx.decode_base64(nil)"), "access[1]:2: string argument only");
        assert_eq!(run_err("ngx.encode_base64('x', 1)"), "access[1]:2: bad no_padding: boolean expected, got number");
    }

    #[test]
    fn uri_escaping_follows_lua_nginx_module_tables() {
        assert_eq!(escape_uri_bytes(b"a b/c?d=e&f~g_h.i-j", 2), b"a%20b%2Fc%3Fd%3De%26f~g_h.i-j");
        assert_eq!(escape_uri_bytes(b"/a b?c#d%\xe2\x82\xac", 0), b"/a%20b%3Fc%23d%25%E2%82%AC");
        assert_eq!(unescape_uri_bytes(b"a%20b+c%2Fd%zz%4"), b"a b c/d%zz%4");
        assert_eq!(
            run("say(ngx.escape_uri('a b/é'), ngx.escape_uri('a b/c', 0), ngx.unescape_uri('a%2Fb+c'), ngx.escape_uri(nil) == '')"),
            ["a%20b%2F%C3%A9 a%20b/c a/b c true"]
        );
        assert_eq!(run_err("ngx.escape_uri('x', 42)"), "access[1]:2: \"type\" 42 out of range");
    }

    #[test]
    fn quote_sql_str_escapes_as_mysql() {
        assert_eq!(run(r#"say(ngx.quote_sql_str("it's a \"test\"\n\0\\"))"#), [r#"'it\'s a \"test\"\n\0\\'"#]);
        assert_eq!(run_err("ngx.quote_sql_str({})"), "access[1]:2: bad argument #1 to 'quote_sql_str' (string expected, got table)");
        assert_eq!(run_err("ngx.quote_sql_str()"), "access[1]:2: expecting one argument");
    }

    #[test]
    fn digests_match_known_values() {
        let lines = run(
            "local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end\n\
             say(ngx.md5('hello'), ngx.md5(nil), ngx.md5(42) == ngx.md5('42'))\n\
             say(hex(ngx.md5_bin('hello')), #ngx.md5_bin(''))\n\
             say(hex(ngx.sha1_bin('hello')))\n\
             say(hex(ngx.hmac_sha1('key', 'The quick brown fox jumps over the lazy dog')))\n\
             say(ngx.crc32_short('hello'), ngx.crc32_long('The quick brown fox jumps over the lazy dog'))",
        );
        assert_eq!(lines, [
            "5d41402abc4b2a76b9719d911017c592 d41d8cd98f00b204e9800998ecf8427e true",
            "5d41402abc4b2a76b9719d911017c592 16",
            "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
            "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9",
            "907060870 1095738169",
        ]);
        assert_eq!(run_err("ngx.hmac_sha1('k')"), "access[1]:2: expecting 2 arguments, but got 1");
        assert_eq!(run_err("ngx.hmac_sha1(nil, 'x')"), "access[1]:2: bad argument #1 to 'hmac_sha1' (string expected, got nil)");
    }

    #[test]
    fn null_is_one_sentinel_that_json_encodes_as_null() {
        assert_eq!(run("say(ngx.null == ngx.null, ngx.null ~= nil, type(ngx.null), ngx.null == false)"), ["true true userdata false"]);
        let host = Rc::new(FakeHost::default());
        let config = PluginConfig::parse(br#"{"access": ["kong.response.exit(200, {a = ngx.null, b = 1})"]}"#).unwrap();
        let mut rt = Runtime::new(&config, Role::PreFunction, host.clone()).unwrap();
        let mut request = RequestState::default();
        assert_eq!(rt.run_phase(Phase::Access, &mut request), PhaseOutcome::Exited);
        let body = String::from_utf8(request.exit.unwrap().body).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed, serde_json::json!({"a": null, "b": 1}));
    }

    #[test]
    fn get_phase_names_the_running_phase() {
        for (phase, name) in [
            (Phase::Rewrite, "rewrite"),
            (Phase::Access, "access"),
            (Phase::HeaderFilter, "header_filter"),
            (Phase::BodyFilter, "body_filter"),
            (Phase::Log, "log"),
        ] {
            let (outcome, lines) = run_in(phase, "say(ngx.get_phase())", 0);
            assert_eq!(outcome, PhaseOutcome::Continue);
            assert_eq!(lines, [name]);
        }
    }

    #[test]
    fn sleep_zero_is_a_no_op_and_sleeps_outside_rewrite_and_access_are_disabled() {
        assert_eq!(run("ngx.sleep(0) say('after')"), ["after"]);
        // lua-nginx-module's context check (ngx_http_lua_sleep.c: rewrite, access,
        // content, timer, ssl_cert, ssl_session_fetch).
        let (outcome, lines) = run_in(Phase::HeaderFilter, "ngx.sleep(1)", 0);
        assert_eq!(outcome, PhaseOutcome::Failed);
        assert_eq!(lines.last().map(String::as_str), Some("header_filter[1]:2: API disabled in the context of header_filter_by_lua*"));
        assert_eq!(run_err("ngx.sleep()"), "access[1]:2: bad argument #1 to 'sleep' (number expected, got no value)");
    }

    #[test]
    fn worker_reports_a_single_worker() {
        assert_eq!(run("say(ngx.worker.pid(), ngx.worker.id(), ngx.worker.count(), ngx.worker.exiting())"), ["0 0 1 false"]);
    }

    #[test]
    fn on_nginx_the_pid_and_version_are_the_hosts() {
        // ngx_wasm_module: every nginx variable is an `ngx.*` property ($pid, $nginx_version);
        // shared/design/kong-engine.md measured ngx.nginx_version = 1.27.4.
        let host = Rc::new(
            FakeHost::default()
                .with_property("ngx.nginx_version", "1.27.4")
                .with_property("kong.version", "3.10.0")
                .with_property("ngx.pid", "4242"),
        );
        let source = format!("{PRELUDE}say(ngx.worker.pid(), ngx.worker.pids()[1], ngx.config.nginx_version, kong.node.get_memory_stats().workers_lua_vms[1].pid)");
        let config = serde_json::json!({ "access": [source] }).to_string();
        let mut rt = Runtime::new(&PluginConfig::parse(config.as_bytes()).unwrap(), Role::PreFunction, host.clone()).unwrap();
        assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Continue, "{:?}", host.messages());
        assert_eq!(host.messages().last().unwrap(), "[pre-function] 4242 4242 1027004 4242");
    }
}
