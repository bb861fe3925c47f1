//! `kong.nginx`: the nginx facts Kong's `kong/pdk/nginx.lua` exposes that a proxy-wasm
//! filter can answer.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table};

use crate::pdk::{lua_string, raise, set_function, Pdk};

/// Builds the `kong.nginx` table.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "get_subsystem", pdk, get_subsystem);
    set_function(ctx, t, "get_statistics", pdk, get_statistics);
    t
}

/// The counters of Kong's `get_statistics` and the nginx variables of
/// ngx_http_stub_status_module that hold them (the other three, `connections_accepted`,
/// `connections_handled` and `total_requests`, have no variable).
const STATISTICS: [(&str, &str); 4] = [
    ("connections_active", "connections_active"),
    ("connections_reading", "connections_reading"),
    ("connections_writing", "connections_writing"),
    ("connections_waiting", "connections_waiting"),
];

/// `kong.nginx.get_statistics()`: Kong reads nginx's stub_status counters through FFI.
/// A filter reaches them only where the host answers nginx variables as properties
/// (Kong's engine: `ngx.connections_active` ... when nginx has the stub_status module, as
/// Kong's build does): there the table holds those four, and `connections_accepted`,
/// `connections_handled` and `total_requests` (no variable holds them) are absent.
/// Elsewhere (Envoy) it raises "kong.nginx.get_statistics: not available on this host
/// ...", rather than numbers that would not be nginx's.
fn get_statistics<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let read: Vec<(&str, Option<i64>)> = {
        let scope = pdk.scope();
        STATISTICS
            .iter()
            .map(|(field, variable)| {
                let value = if scope.host_kind.is_nginx() { scope.host.property(&["ngx", variable]) } else { None };
                (*field, value.and_then(|v| String::from_utf8_lossy(&v).trim().parse().ok()))
            })
            .collect()
    };
    if read.iter().all(|(_, v)| v.is_none()) {
        return raise(ctx, &exec, "kong.nginx.get_statistics: not available on this host: nginx's connection counters \
                                   are not host properties here (on Kong's engine they are the ngx.connections_* variables)");
    }
    let t = Table::new(&ctx);
    for (field, value) in read {
        if let Some(value) = value {
            t.set(ctx, field, value).ok();
        }
    }
    stack.replace(ctx, t);
    Ok(CallbackReturn::Return)
}

/// `kong.nginx.get_subsystem()`: `"http"`, the only subsystem a proxy-wasm HTTP filter
/// runs in (Kong's `kong.nginx.subsystem` property says the same on Kong).
fn get_subsystem<'gc>(_pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    stack.replace(ctx, lua_string(ctx, b"http"));
    Ok(CallbackReturn::Return)
}
