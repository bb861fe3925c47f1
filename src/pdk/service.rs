//! `kong.service.request`: the request Kong sends to the upstream, as Kong's
//! `kong/pdk/service/request.lua`. On proxy-wasm hosts, changing the request headers in
//! the request-headers callback changes what goes upstream.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use super::{raise, set_function, validate_header, HeaderValue, Pdk};
use crate::phase::kong_phase;

const ACCESS_AND_REWRITE: u32 = kong_phase::REWRITE | kong_phase::ACCESS;
const ACCESS_REWRITE_BALANCER: u32 = kong_phase::REWRITE | kong_phase::ACCESS | kong_phase::BALANCER;

/// Builds the `kong.service` table with its `request` namespace.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let request = Table::new(&ctx);
    set_function(ctx, request, "set_header", pdk, set_header);
    set_function(ctx, request, "clear_header", pdk, clear_header);
    let service = Table::new(&ctx);
    service.set(ctx, "request", request).ok();
    service
}

/// `kong.service.request.set_header(name, value)`: replaces the header sent upstream.
fn set_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_REWRITE_BALANCER)?;
    let (name, value) = validate_header(ctx, &exec, stack.get(0), stack.get(1))?;
    let name = name.to_ascii_lowercase();
    let host = pdk.scope().host.clone();
    match value {
        HeaderValue::One(v) => host.set_request_header(&name, Some(&v)),
        HeaderValue::Many(values) => {
            host.set_request_header(&name, None);
            for v in values {
                host.add_request_header(&name, &v);
            }
        }
    }
    Ok(CallbackReturn::Return)
}

/// `kong.service.request.clear_header(name)`: removes every occurrence of the header.
fn clear_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, ACCESS_AND_REWRITE)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "header must be a string");
    };
    let name = String::from_utf8_lossy(name.as_bytes()).to_ascii_lowercase();
    pdk.scope().host.set_request_header(&name, None);
    Ok(CallbackReturn::Return)
}
