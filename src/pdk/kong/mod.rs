//! The `kong.*` namespaces: one file per module of Kong's `kong/pdk/*.lua` (request,
//! response, service with its request and response, client, ctx, log, node, ...), plus
//! `kong.cache` and `kong.configuration`, which Kong builds outside `kong/pdk/`.

pub(crate) mod cache;
pub(crate) mod client;
pub mod configuration;
pub mod ctx;
pub(crate) mod inspect;
pub(crate) mod ip;
pub(crate) mod log;
pub(crate) mod nginx;
pub(crate) mod node;
pub mod request;
pub(crate) mod response;
pub(crate) mod router;
pub(crate) mod service;
pub(crate) mod service_response;
pub(crate) mod table;
pub(crate) mod tracing;
pub(crate) mod websocket;

use piccolo::{Context, Error, Execution, Value};

/// Kong's count arguments (`max_headers` of `kong.request.get_headers`,
/// `kong.response.get_headers`, `kong.service.response.get_headers`; `max_args` of
/// `kong.request.get_query`, `kong.request.get_body`, `kong.service.response.get_body`):
/// `nil` is 100, otherwise a number from 1 to 1000, fractions cut. Errors with Kong's
/// messages: `<name> must be a number`, `<name> must be >= 1`, `<name> must be <= 1000`.
pub(crate) fn count_arg<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, value: Value<'gc>, name: &str) -> Result<i64, Error<'gc>> {
    const DEFAULT: i64 = 100;
    const MIN: i64 = 1;
    const MAX: i64 = 1000;
    match value {
        Value::Nil => Ok(DEFAULT),
        v @ (Value::Integer(_) | Value::Number(_)) => {
            let n = v.to_number().unwrap_or(0.0);
            if n < MIN as f64 {
                return crate::pdk::raise(ctx, exec, &format!("{name} must be >= {MIN}"));
            }
            if n > MAX as f64 {
                return crate::pdk::raise(ctx, exec, &format!("{name} must be <= {MAX}"));
            }
            Ok(n as i64)
        }
        _ => crate::pdk::raise(ctx, exec, &format!("{name} must be a number")),
    }
}
