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
//!
//! The authenticated consumer, credential and consumer groups are `ngx.ctx` fields, as in
//! Kong (`authenticated_consumer`, `authenticated_credential`,
//! `authenticated_consumer_groups`, `authenticated_consumer_group`): a chunk that sets
//! `ngx.ctx.authenticated_consumer` itself is read back by `get_consumer`. The setters
//! also carry the value to the other role of the request the way `kong.ctx.shared` crosses
//! (`kong::ctx::carry`: a copy, as cjson encodes it), so a consumer the pre-function
//! authenticates is what the post-function's `get_consumer` returns. The consumer-group
//! functions follow Kong 3.4's `kong/pdk/client.lua`, where they were last in Kong's open
//! source PDK (Kong's sandbox still lists them). There is no database here:
//! `authenticate_consumer_group_by_consumer_id` finds no group mapping (as for a consumer
//! in no group) and `load_consumer` answers `nil, err` after Kong's argument checks.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::{lua_string, raise, set_function, Pdk};
use crate::phase::kong_phase::{self, AUTH_AND_LATER};
use crate::properties::{HostKind, Need};

/// Every request phase: Kong only refuses `init_worker` (`check_not_phase`).
const ANY_REQUEST_PHASE: u32 = kong_phase::REQUEST | kong_phase::CERTIFICATE;

/// Builds the `kong.client` table.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "get_ip", pdk, get_ip);
    set_function(ctx, t, "get_forwarded_ip", pdk, get_forwarded_ip);
    set_function(ctx, t, "get_port", pdk, get_port);
    set_function(ctx, t, "get_forwarded_port", pdk, get_forwarded_port);
    set_function(ctx, t, "get_protocol", pdk, get_protocol);
    set_function(ctx, t, "authenticate", pdk, authenticate);
    set_function(ctx, t, "get_consumer", pdk, get_consumer);
    set_function(ctx, t, "get_credential", pdk, get_credential);
    set_function(ctx, t, "load_consumer", pdk, load_consumer);
    set_function(ctx, t, "authenticate_consumer_group_by_consumer_id", pdk, authenticate_consumer_group_by_consumer_id);
    set_function(ctx, t, "set_authenticated_consumer_groups", pdk, set_authenticated_consumer_groups);
    set_function(ctx, t, "set_authenticated_consumer_group", pdk, set_authenticated_consumer_group);
    set_function(ctx, t, "get_consumer_groups", pdk, get_consumer_groups);
    set_function(ctx, t, "get_consumer_group", pdk, get_consumer_group);
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

/// Kong's `ACCESS_AND_WS_HANDSHAKE` (`authenticate`, `authenticate_consumer_group_by_consumer_id`).
const ACCESS_AND_WS_HANDSHAKE: u32 = kong_phase::ACCESS | kong_phase::WS_HANDSHAKE;

/// The `ngx.ctx` field `field`, else what the other role carried under it (kept in this
/// role's `ngx.ctx` from then on, so later reads give the same table).
fn auth_field<'gc>(pdk: &Pdk, ctx: Context<'gc>, field: &'static str) -> Value<'gc> {
    let ngx_ctx = crate::pdk::kong::ctx::ngx_ctx(pdk, ctx);
    let value = ngx_ctx.get(ctx, field);
    if !value.is_nil() {
        return value;
    }
    let carried = crate::pdk::kong::ctx::carried(pdk, ctx, field);
    if !carried.is_nil() {
        ngx_ctx.set(ctx, field, carried).ok();
    }
    carried
}

/// Sets the `ngx.ctx` field `field` and carries it to the other role.
fn set_auth_field<'gc>(pdk: &Pdk, ctx: Context<'gc>, field: &'static str, value: Value<'gc>) {
    crate::pdk::kong::ctx::ngx_ctx(pdk, ctx).set(ctx, field, value).ok();
    crate::pdk::kong::ctx::carry(pdk, ctx, field, value);
}

fn return_field<'gc>(pdk: &Pdk, ctx: Context<'gc>, mut stack: Stack<'gc, '_>, field: &'static str) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let value = auth_field(pdk, ctx, field);
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

/// `kong.client.get_consumer()`: `ngx.ctx.authenticated_consumer`, or `nil`.
fn get_consumer<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, AUTH_AND_LATER)?;
    return_field(pdk, ctx, stack, "authenticated_consumer")
}

/// `kong.client.get_credential()`: `ngx.ctx.authenticated_credential`, or `nil`.
fn get_credential<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, AUTH_AND_LATER)?;
    return_field(pdk, ctx, stack, "authenticated_credential")
}

/// `kong.client.get_consumer_groups()`: `ngx.ctx.authenticated_consumer_groups`, or `nil`.
fn get_consumer_groups<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, AUTH_AND_LATER)?;
    return_field(pdk, ctx, stack, "authenticated_consumer_groups")
}

/// Kong 3.4's deprecation warning for the single-group functions.
fn deprecated(pdk: &Pdk, message: &str) {
    let scope = pdk.scope();
    let line = format!("{}{message} (deprecated after 3.4.0.0, scheduled for removal in 3.5.0.0)", scope.log_prefix());
    crate::pdk::kong::log::emit(&scope, crate::host::LogLevel::Warn, line);
}

/// `kong.client.get_consumer_group()` (deprecated in Kong 3.4): `ngx.ctx.authenticated_consumer_group`.
fn get_consumer_group<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, AUTH_AND_LATER)?;
    deprecated(pdk, "this function is deprecated in favor of `get_consumer_groups`");
    return_field(pdk, ctx, stack, "authenticated_consumer_group")
}

/// `kong.client.authenticate(consumer, credential)`: sets both (either may be `nil`, not
/// both), after `authenticate_consumer_group_by_consumer_id(consumer.id)`. Access only.
fn authenticate<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_AND_WS_HANDSHAKE)?;
    let (consumer, credential) = (stack.get(0), stack.get(1));
    if !matches!(consumer, Value::Table(_) | Value::Nil) {
        return raise(ctx, &exec, "consumer must be a table or nil");
    }
    if !matches!(credential, Value::Table(_) | Value::Nil) {
        return raise(ctx, &exec, "credential must be a table or nil");
    }
    if consumer.is_nil() && credential.is_nil() {
        return raise(ctx, &exec, "either credential or consumer must be provided");
    }
    // authenticate_consumer_group_by_consumer_id(consumer and consumer.id): no mapping
    // without a database (see the module docs), so the groups stay as they are.
    set_auth_field(pdk, ctx, "authenticated_consumer", consumer);
    set_auth_field(pdk, ctx, "authenticated_credential", credential);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.client.authenticate_consumer_group_by_consumer_id(consumer_id)`: Kong looks the
/// consumer's groups up in its database; there is none here, so it finds no mapping and
/// changes nothing, as for a consumer in no group. Kong's checks and message (its typo
/// included).
fn authenticate_consumer_group_by_consumer_id<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_AND_WS_HANDSHAKE)?;
    if !matches!(stack.get(0), Value::String(_) | Value::Nil) {
        return raise(ctx, &exec, "consumer_id must be a sting or nil");
    }
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.client.set_authenticated_consumer_groups(groups)`: a list of group tables
/// (`nil` clears), sorted by `name` as Kong does (`table.sort` by `a.name < b.name`).
fn set_authenticated_consumer_groups<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, AUTH_AND_LATER)?;
    let groups = stack.get(0);
    let list = match groups {
        Value::Table(t) => t,
        Value::Nil => {
            set_auth_field(pdk, ctx, "authenticated_consumer_groups", Value::Nil);
            stack.clear();
            return Ok(CallbackReturn::Return);
        }
        _ => return raise(ctx, &exec, "consumer group must be a table or nil"),
    };
    let n = list.length();
    let mut items: Vec<(Value<'gc>, Value<'gc>)> = (1..=n).map(|i| {
        let item = list.get(ctx, i);
        let name = match item {
            Value::Table(t) => t.get(ctx, "name"),
            _ => Value::Nil,
        };
        (name, item)
    }).collect();
    if items.len() > 1 {
        // LuaJIT's message when `a.name < b.name` meets a non-string (a missing name, or a
        // group that is not a table: indexing it fails first, with its own message).
        if let Some((_, bad)) = items.iter().find(|(_, item)| !matches!(item, Value::Table(_))) {
            return raise(ctx, &exec, &format!("attempt to index local 'a' (a {} value)", bad.type_name()));
        }
        if let Some((name, _)) = items.iter().find(|(name, _)| !matches!(name, Value::String(_))) {
            return raise(ctx, &exec, &format!("attempt to compare two {} values", name.type_name()));
        }
        items.sort_by(|(a, _), (b, _)| match (a, b) {
            (Value::String(a), Value::String(b)) => a.as_bytes().cmp(b.as_bytes()),
            _ => std::cmp::Ordering::Equal,
        });
        for (i, (_, item)) in items.into_iter().enumerate() {
            list.set(ctx, i as i64 + 1, item).ok();
        }
    }
    set_auth_field(pdk, ctx, "authenticated_consumer_groups", groups);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.client.set_authenticated_consumer_group(group)` (deprecated in Kong 3.4).
fn set_authenticated_consumer_group<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, AUTH_AND_LATER)?;
    deprecated(pdk, "this function is deprecated in favor of `set_authenticated_consumer_groups`.Note that setting a consumer_group using this function will not affect the plugin execution logic.");
    let group = stack.get(0);
    if !matches!(group, Value::Table(_) | Value::Nil) {
        return raise(ctx, &exec, "consumer group must be a table or nil");
    }
    set_auth_field(pdk, ctx, "authenticated_consumer_group", group);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.client.load_consumer(consumer_id, search_by_username)`: Kong's checks
/// ("consumer_id must be a string", "cannot load a consumer with an id that is not a
/// uuid"), then `nil, err`: consumers live in Kong's database, which a proxy-wasm filter
/// cannot reach (Kong returns `nil, err` when its DAO fails, too).
fn load_consumer<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, AUTH_AND_LATER)?;
    let Value::String(id) = stack.get(0) else {
        return raise(ctx, &exec, "consumer_id must be a string");
    };
    if !is_uuid(id.as_bytes()) && !stack.get(1).to_bool() {
        return raise(ctx, &exec, "cannot load a consumer with an id that is not a uuid");
    }
    let err = "kong.client.load_consumer: no database: consumers live in Kong's database, which this filter cannot reach";
    stack.replace(ctx, (Value::Nil, lua_string(ctx, err.as_bytes())));
    Ok(CallbackReturn::Return)
}

/// Kong's `is_valid_uuid`: 8-4-4-4-12 hex digits, either case.
fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &c)| if matches!(i, 8 | 13 | 18 | 23) { c == b'-' } else { c.is_ascii_hexdigit() })
}
