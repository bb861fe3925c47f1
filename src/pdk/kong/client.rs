//! `kong.client`: who sent the request, as Kong's `kong/pdk/client.lua`.
//!
//! Addresses and ports come from host properties ([`Need`]): on Kong the nginx variables
//! (`realip_remote_addr` for `get_ip`, `remote_addr` for `get_forwarded_ip`), elsewhere
//! Envoy's `source.address` / `source.port`. Outside Kong there are no trusted IPs (Kong's
//! default `trusted_ips` is empty), so the forwarded variants answer what the plain ones
//! do, as Kong itself does with no trusted IPs.
//!
//! Kong's `get_ip` and `get_port` never fail on nginx; a host that does not provide the
//! property raises a clear error instead of handing Lua a `nil` it cannot expect.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::{lua_string, raise, set_function, Pdk};
use crate::phase::kong_phase;
use crate::properties::{HostKind, Need};

/// Every request phase: Kong only refuses `init_worker` (`check_not_phase`).
const ANY_REQUEST_PHASE: u32 = kong_phase::REQUEST | kong_phase::CERTIFICATE;

/// Kong's `AUTH_AND_LATER`: access, header_filter, response, body_filter, log.
const AUTH_AND_LATER: u32 = kong_phase::ACCESS
    | kong_phase::HEADER_FILTER
    | kong_phase::RESPONSE
    | kong_phase::BODY_FILTER
    | kong_phase::LOG;

/// Builds the `kong.client` table.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "get_ip", pdk, get_ip);
    set_function(ctx, t, "get_forwarded_ip", pdk, get_forwarded_ip);
    set_function(ctx, t, "get_port", pdk, get_port);
    set_function(ctx, t, "get_forwarded_port", pdk, get_forwarded_port);
    set_function(ctx, t, "get_protocol", pdk, get_protocol);
    let tls = Table::new(&ctx);
    set_function(ctx, tls, "get_full_client_certificate_chain", pdk, get_full_client_certificate_chain);
    t.set(ctx, "tls", tls).ok();
    t
}

/// Kong's `REWRITE_AND_LATER` (`kong/pdk/client/tls.lua`): rewrite, access, response,
/// balancer, log (and so the websocket phases, which pass the access and log checks).
const REWRITE_AND_LATER: u32 =
    kong_phase::REWRITE | kong_phase::ACCESS | kong_phase::RESPONSE | kong_phase::BALANCER | kong_phase::LOG;

/// `kong.client.tls.get_full_client_certificate_chain()`: the client certificate in PEM,
/// or `nil` when the client presented none. On nginx's engine it is `ssl_client_raw_cert`
/// (the client's own certificate; nginx has no variable with the intermediates Kong's
/// `resty.kong.tls` adds). Envoy has no attribute with the PEM: the call raises there.
fn get_full_client_certificate_chain<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, REWRITE_AND_LATER)?;
    let pem = {
        let scope = pdk.scope();
        scope.host_kind.is_nginx().then(|| scope.host.property(&["ngx", "ssl_client_raw_cert"])).flatten()
    };
    if pem.is_none() && !pdk.scope().host_kind.is_nginx() {
        let message = "kong.client.tls.get_full_client_certificate_chain: not supported by this host: only nginx's \
                       engine has a property with the client certificate in PEM";
        return raise(ctx, &exec, message);
    }
    let pem = pem.filter(|pem| !pem.is_empty());
    stack.replace(ctx, pem.map_or(Value::Nil, |pem| lua_string(ctx, &pem)));
    Ok(CallbackReturn::Return)
}

/// Reads `need` as text, or raises "kong.client.<function>: the host does not provide the
/// <what> (<property>)".
fn required<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: &Execution<'gc, '_>, need: Need, function: &str, what: &str) -> Result<String, Error<'gc>> {
    let scope = pdk.scope();
    if let Some(text) = need.read_text(scope.host.as_ref(), scope.host_kind) {
        return Ok(text);
    }
    let property = need.paths(scope.host_kind).first().map(|p| p.join(".")).unwrap_or_else(|| "none".into());
    drop(scope);
    raise(ctx, exec, &format!("kong.client.{function}: the host does not provide the {what} ({property})"))
}

fn ip_result<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, need: Need, function: &str) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ANY_REQUEST_PHASE)?;
    let ip = required(pdk, ctx, &exec, need, function, "client address")?;
    stack.replace(ctx, lua_string(ctx, ip.as_bytes()));
    Ok(CallbackReturn::Return)
}

fn port_result<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, need: Need, function: &str) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ANY_REQUEST_PHASE)?;
    let port = required(pdk, ctx, &exec, need, function, "client port")?;
    // Kong: `tonumber(ngx.var.remote_port)`: nil when the variable is not a number.
    let value = port.trim().parse::<i64>().map(Value::Integer).unwrap_or(Value::Nil);
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

/// `kong.client.get_ip()`: the address of the peer that connected, as a string, without
/// honouring `X-Forwarded-For` (Kong's `realip_remote_addr`; Envoy's `source.address`
/// without its port).
fn get_ip<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    ip_result(pdk, ctx, exec, stack, Need::RealClientAddress, "get_ip")
}

/// `kong.client.get_forwarded_ip()`: the client address as rewritten from trusted
/// `X-Forwarded-For` (Kong's `remote_addr`); with no trusted IPs the same as `get_ip`.
fn get_forwarded_ip<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    ip_result(pdk, ctx, exec, stack, Need::ClientAddress, "get_forwarded_ip")
}

/// `kong.client.get_port()`: the peer's source port, a number.
fn get_port<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    port_result(pdk, ctx, exec, stack, Need::RealClientPort, "get_port")
}

/// `kong.client.get_forwarded_port()`: the port as rewritten from trusted forwarding
/// headers (Kong's `remote_port`); with no trusted IPs the same as `get_port`.
fn get_forwarded_port<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    port_result(pdk, ctx, exec, stack, Need::ClientPort, "get_forwarded_port")
}

/// `kong.client.get_protocol([allow_terminated])`: `http`, `https`, `grpc` or `grpcs`.
///
/// Kong answers its own `kong.client.protocol` property (`nil, "No active route found"`
/// when it has none). Elsewhere the protocol is derived from the request: the scheme
/// (`request.scheme`, else `:scheme`) and `content-type: application/grpc...` for gRPC.
/// `allow_terminated` has no effect outside Kong: with no trusted IPs,
/// `X-Forwarded-Proto` is never trusted.
fn get_protocol<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, AUTH_AND_LATER)?;
    let protocol = protocol(pdk);
    match protocol {
        Some(p) => stack.replace(ctx, lua_string(ctx, p.as_bytes())),
        None => stack.replace(ctx, (Value::Nil, lua_string(ctx, b"No active route found"))),
    }
    Ok(CallbackReturn::Return)
}

/// The client protocol as [`get_protocol`] answers it; `None` on Kong without a route.
pub fn protocol(pdk: &Pdk) -> Option<String> {
    let scope = pdk.scope();
    let host = scope.host.as_ref();
    if scope.host_kind == HostKind::Kong {
        return Need::ClientProtocol.read_text(host, scope.host_kind).filter(|p| !p.is_empty());
    }
    let scheme = Need::Scheme
        .read_text(host, scope.host_kind)
        .or_else(|| host.request_header(":scheme").map(|s| String::from_utf8_lossy(&s).into_owned()))
        .unwrap_or_else(|| "http".into())
        .to_ascii_lowercase();
    let tls = scheme == "https";
    let grpc = host
        .request_header("content-type")
        .map(|ct| ct.to_ascii_lowercase().starts_with(b"application/grpc"))
        .unwrap_or(false);
    Some(match (grpc, tls) {
        (true, true) => "grpcs",
        (true, false) => "grpc",
        (false, true) => "https",
        (false, false) => "http",
    }
    .into())
}
