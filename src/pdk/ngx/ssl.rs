//! `ngx.ssl`'s read functions, as lua-resty-core's `ngx/ssl.lua`: `server_name()`,
//! `get_tls1_version()`, `get_tls1_version_str()`, backed by host properties (nginx's
//! `ssl_server_name`/`ssl_protocol`, Envoy's `connection.requested_server_name`/
//! `connection.tls_version`). They read the connection's TLS facts in any phase,
//! `certificate` included; the functions that change the handshake (`set_der_cert`,
//! `clear_certs` ...) have no host call on proxy-wasm and are not here.

use piccolo::{Callback, CallbackReturn, Context, Error, Stack, Table, Value};

use crate::pdk::{lua_string, Pdk};
use crate::properties::Need;

type Ret<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

/// Adds `ngx.ssl` to the `ngx` table: one callback body for its three functions (the
/// module is size-bound).
pub fn install<'gc>(ctx: Context<'gc>, ngx: Table<'gc>, pdk: &Pdk) {
    let t = Table::new(&ctx);
    for (name, op) in [("server_name", 0u8), ("get_tls1_version", 1), ("get_tls1_version_str", 2)] {
        let pdk = pdk.clone();
        t.set(ctx, name, Callback::from_fn(&ctx, move |ctx, _exec, stack| call(&pdk, op, ctx, stack))).ok();
    }
    ngx.set(ctx, "ssl", t).ok();
}

/// TLS version names and the protocol numbers OpenSSL gives them.
const VERSIONS: [(&str, i64); 5] =
    [("SSLv3", 0x0300), ("TLSv1", 0x0301), ("TLSv1.1", 0x0302), ("TLSv1.2", 0x0303), ("TLSv1.3", 0x0304)];

/// - `server_name()`: the SNI name, or `nil` when the client sent none (or no TLS);
/// - `get_tls1_version()`: the protocol number (`0x0303` for TLS 1.2), or `nil, err`;
/// - `get_tls1_version_str()`: `"TLSv1.2"`, `"TLSv1.3"` ..., or `nil, err`.
fn call<'gc>(pdk: &Pdk, op: u8, ctx: Context<'gc>, mut stack: Stack<'gc, '_>) -> Ret<'gc> {
    let read = |need: Need| {
        let scope = pdk.scope();
        need.read_text(scope.host.as_ref(), scope.host_kind).filter(|v| !v.is_empty())
    };
    if op == 0 {
        let name = read(Need::TlsServerName).map_or(Value::Nil, |n| lua_string(ctx, n.as_bytes()));
        stack.replace(ctx, name);
        return Ok(CallbackReturn::Return);
    }
    let version = match read(Need::TlsVersion) {
        None => Err("failed to get TLS1 version: not a TLS connection or the host does not say"),
        Some(text) => VERSIONS.iter().find(|(name, _)| *name == text).ok_or("unknown version"),
    };
    match version {
        Ok((_, number)) if op == 1 => stack.replace(ctx, *number),
        Ok((name, _)) => stack.replace(ctx, lua_string(ctx, name.as_bytes())),
        Err(e) => stack.replace(ctx, (Value::Nil, lua_string(ctx, e.as_bytes()))),
    }
    Ok(CallbackReturn::Return)
}
