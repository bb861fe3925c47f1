//! `ngx.ssl`'s read functions, as lua-resty-core's `ngx/ssl.lua`: `server_name()`,
//! `get_tls1_version()`, `get_tls1_version_str()`, backed by host properties (nginx's
//! `ssl_server_name`/`ssl_protocol`, Envoy's `connection.requested_server_name`/
//! `connection.tls_version`). They read the connection's TLS facts in any phase,
//! `certificate` included; the functions that change the handshake (`set_der_cert`,
//! `clear_certs` ...) have no host call on proxy-wasm and are not here.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::{lua_string, set_function, Pdk};
use crate::properties::Need;

type Ret<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

/// Adds `ngx.ssl` to the `ngx` table.
pub fn install<'gc>(ctx: Context<'gc>, ngx: Table<'gc>, pdk: &Pdk) {
    let t = Table::new(&ctx);
    set_function(ctx, t, "server_name", pdk, server_name);
    set_function(ctx, t, "get_tls1_version", pdk, get_tls1_version);
    set_function(ctx, t, "get_tls1_version_str", pdk, get_tls1_version_str);
    ngx.set(ctx, "ssl", t).ok();
}

fn read(pdk: &Pdk, need: Need) -> Option<String> {
    let scope = pdk.scope();
    need.read_text(scope.host.as_ref(), scope.host_kind).filter(|v| !v.is_empty())
}

/// TLS version names and the protocol numbers OpenSSL gives them.
const VERSIONS: [(&str, i64); 5] =
    [("SSLv3", 0x0300), ("TLSv1", 0x0301), ("TLSv1.1", 0x0302), ("TLSv1.2", 0x0303), ("TLSv1.3", 0x0304)];

fn version(pdk: &Pdk) -> Result<(&'static str, i64), &'static str> {
    let text = read(pdk, Need::TlsVersion).ok_or("failed to get TLS1 version: not a TLS connection or the host does not say")?;
    VERSIONS.iter().find(|(name, _)| *name == text).copied().ok_or("unknown version")
}

/// `ngx.ssl.server_name()`: the SNI name, or `nil` when the client sent none (or the
/// connection is not TLS).
fn server_name<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Ret<'gc> {
    let name = read(pdk, Need::TlsServerName).map_or(Value::Nil, |n| lua_string(ctx, n.as_bytes()));
    stack.replace(ctx, name);
    Ok(CallbackReturn::Return)
}

/// `ngx.ssl.get_tls1_version()`: the protocol number (`0x0303` for TLS 1.2), or `nil, err`.
fn get_tls1_version<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Ret<'gc> {
    match version(pdk) {
        Ok((_, number)) => stack.replace(ctx, number),
        Err(e) => stack.replace(ctx, (Value::Nil, lua_string(ctx, e.as_bytes()))),
    }
    Ok(CallbackReturn::Return)
}

/// `ngx.ssl.get_tls1_version_str()`: `"TLSv1.2"`, `"TLSv1.3"` ..., or `nil, err`.
fn get_tls1_version_str<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Ret<'gc> {
    match version(pdk) {
        Ok((name, _)) => stack.replace(ctx, lua_string(ctx, name.as_bytes())),
        Err(e) => stack.replace(ctx, (Value::Nil, lua_string(ctx, e.as_bytes()))),
    }
    Ok(CallbackReturn::Return)
}
