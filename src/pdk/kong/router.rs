//! `kong.router`: the matched route and service, as Kong's `kong/pdk/router.lua`.
//!
//! On Kong the entities come from Kong's `kong.router.route` / `kong.router.service`
//! properties (the entities JSON-encoded); on Envoy a table with the `name` Envoy knows:
//! `route_name` for the route, the upstream `cluster_name` for the service. `nil` when
//! the host has no route or service for the request.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::lua_json::to_lua;
use crate::pdk::{set_function, Pdk};
use crate::phase::kong_phase;
use crate::properties::{HostKind, Need};

/// Kong's `ROUTER_PHASES`: access, header_filter, response, body_filter, log.
const ROUTER_PHASES: u32 = kong_phase::ACCESS
    | kong_phase::HEADER_FILTER
    | kong_phase::RESPONSE
    | kong_phase::BODY_FILTER
    | kong_phase::LOG;

/// Builds the `kong.router` table.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "get_route", pdk, get_route);
    set_function(ctx, t, "get_service", pdk, get_service);
    t
}

/// `kong.router.get_route()`: the route entity table, or `nil`.
fn get_route<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ROUTER_PHASES)?;
    let route = entity(pdk, Need::RouteJson, Need::RouteName);
    stack.replace(ctx, route.map(|r| to_lua(ctx, &r)).unwrap_or(Value::Nil));
    Ok(CallbackReturn::Return)
}

/// `kong.router.get_service()`: the service entity table, or `nil`.
fn get_service<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ROUTER_PHASES)?;
    let service = entity(pdk, Need::ServiceJson, Need::ServiceName);
    stack.replace(ctx, service.map(|s| to_lua(ctx, &s)).unwrap_or(Value::Nil));
    Ok(CallbackReturn::Return)
}

/// The matched route as JSON (see the module docs); `None` when the host has none.
pub fn route(pdk: &Pdk) -> Option<serde_json::Value> {
    entity(pdk, Need::RouteJson, Need::RouteName)
}

/// The matched service as JSON (see the module docs); `None` when the host has none.
pub fn service(pdk: &Pdk) -> Option<serde_json::Value> {
    entity(pdk, Need::ServiceJson, Need::ServiceName)
}

fn entity(pdk: &Pdk, json: Need, name: Need) -> Option<serde_json::Value> {
    let scope = pdk.scope();
    let host = scope.host.as_ref();
    if scope.host_kind == HostKind::Kong {
        let bytes = json.read(host, scope.host_kind)?;
        return match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(map)) => Some(serde_json::Value::Object(map)),
            _ => None,
        };
    }
    let name = name.read_text(host, scope.host_kind).filter(|n| !n.is_empty())?;
    Some(serde_json::json!({ "name": name }))
}
