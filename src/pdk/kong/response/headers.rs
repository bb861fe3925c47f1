//! `kong.response` headers: `set_header`, `add_header`, `clear_header`, `set_headers`,
//! `get_header(s)`, and the header changes `ngx.header` shares.

use super::*;

/// A response header name as `ngx.header` keys it: lowercase, `_` read as `-`.
pub(crate) fn response_header_name(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// Kong's `normalize_multi_header`: an empty value is sent as a single space.
pub(super) fn normalize_value(value: HeaderValue) -> HeaderValue {
    let fix = |v: Vec<u8>| if v.is_empty() { b" ".to_vec() } else { v };
    match value {
        HeaderValue::One(v) => HeaderValue::One(fix(v)),
        HeaderValue::Many(vs) => HeaderValue::Many(vs.into_iter().map(fix).collect()),
    }
}

/// How a response header changes.
pub(crate) enum HeaderChange {
    /// Replace every value (`None` clears the header).
    Set(Option<HeaderValue>),
    /// Append values.
    Add(HeaderValue),
}

/// Applies a header change to the response the client gets now: the filter's own response
/// if there is one, pending ops before a response exists (`rewrite`/`access`), else the
/// upstream's response through the host. `name` must be normalized already.
pub(crate) fn change_response_header(scope: &mut Scope, name: &str, change: HeaderChange) {
    let values = |v: HeaderValue| match v {
        HeaderValue::One(v) => vec![v],
        HeaderValue::Many(vs) => vs,
    };
    let (clear, add) = match change {
        HeaderChange::Set(None) => (true, Vec::new()),
        HeaderChange::Set(Some(HeaderValue::One(v))) => {
            // One value: a plain replace.
            let before_response = matches!(scope.phase, Phase::Rewrite | Phase::Access);
            if let Some(response) = scope.request.exit.as_mut() {
                response.set_header(name, Some(&v));
            } else if before_response {
                scope.request.response_header_ops.push(HeaderOp::Set(name.to_owned(), Some(v)));
            } else {
                scope.host.set_response_header(name, Some(&v));
            }
            return;
        }
        HeaderChange::Set(Some(many)) => (true, values(many)),
        HeaderChange::Add(v) => (false, values(v)),
    };
    let before_response = matches!(scope.phase, Phase::Rewrite | Phase::Access);
    if let Some(response) = scope.request.exit.as_mut() {
        if clear {
            response.set_header(name, None);
        }
        for v in add {
            response.add_header(name, &v);
        }
    } else if before_response {
        let ops = &mut scope.request.response_header_ops;
        if clear {
            ops.push(HeaderOp::Set(name.to_owned(), None));
        }
        ops.extend(add.into_iter().map(|v| HeaderOp::Add(name.to_owned(), v)));
    } else {
        if clear {
            scope.host.set_response_header(name, None);
        }
        for v in add {
            scope.host.add_response_header(name, &v);
        }
    }
}

/// The response headers the client would get now (see [`change_response_header`]):
/// the local response's, the pending ones before a response exists, else the host's.
pub(crate) fn current_response_headers(scope: &Scope) -> Vec<(String, Vec<u8>)> {
    if let Some(response) = scope.request.exit.as_ref() {
        return response.headers.clone();
    }
    if matches!(scope.phase, Phase::Rewrite | Phase::Access) {
        let mut pending = LocalResponse::default();
        scope.request.apply_header_ops(&mut pending);
        return pending.headers;
    }
    scope.host.response_headers()
}

pub(super) fn is_transfer_encoding(name: &str) -> bool {
    name == "transfer-encoding"
}

pub(super) fn warn(scope: &Scope, message: &str) {
    crate::pdk::log_line(scope, LogLevel::Warn, format!("{}{message}", scope.log_prefix()));
}

/// `kong.response.set_header(name, value)`: replaces the header on the client's response
/// (`_` in the name stands for `-`, as nginx's `ngx.header`; an empty value is sent as a
/// space). `Transfer-Encoding` is ignored with a warning, as Kong does.
pub(super) fn set_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    check_phase_unsent(pdk, ctx, &exec)?;
    let (name, value) = validate_header(ctx, &exec, stack.get(0), stack.get(1))?;
    set_one(&mut pdk.scope_mut(), &name, value);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// Sets one header as `set_header` and `set_headers` do: `Transfer-Encoding` is ignored
/// with Kong's warning.
fn set_one(scope: &mut Scope, name: &str, value: HeaderValue) {
    let name = response_header_name(name);
    if is_transfer_encoding(&name) {
        warn(scope, "manually setting Transfer-Encoding. Ignored.");
    } else {
        change_response_header(scope, &name, HeaderChange::Set(Some(normalize_value(value))));
    }
}

/// `kong.response.add_header(name, value)`: adds a value to the header, keeping the
/// existing ones.
pub(super) fn add_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    check_phase_unsent(pdk, ctx, &exec)?;
    let (name, value) = validate_header(ctx, &exec, stack.get(0), stack.get(1))?;
    let name = response_header_name(&name);
    change_response_header(&mut pdk.scope_mut(), &name, HeaderChange::Add(normalize_value(value)));
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.response.clear_header(name)`: removes every value of the header.
pub(super) fn clear_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    check_phase_unsent(pdk, ctx, &exec)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "header name must be a string");
    };
    let name = response_header_name(&name.to_str_lossy());
    change_response_header(&mut pdk.scope_mut(), &name, HeaderChange::Set(None));
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// Kong's `checks.validate_headers(headers)`: a table of string names to a string, number,
/// boolean or array of strings, with Kong's messages. Returns the pairs sorted by name
/// (Kong documents the headers as produced in lexicographical order).
pub(crate) fn validate_headers<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, headers: Value<'gc>) -> Result<Vec<(String, HeaderValue)>, Error<'gc>> {
    let Value::Table(table) = headers else {
        return raise(ctx, exec, "headers must be a table");
    };
    let mut out = Vec::new();
    for (name, value) in table.iter() {
        if let (Value::String(n), v) = (name, value) {
            if !matches!(v, Value::String(_) | Value::Integer(_) | Value::Number(_) | Value::Boolean(_) | Value::Table(_)) {
                return raise(ctx, exec, &format!(
                    "invalid header value for \"{}\": got {}, expected string, number, boolean or array of strings",
                    n.to_str_lossy(),
                    v.type_name()
                ));
            }
        }
        out.push(validate_header(ctx, exec, name, value)?);
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// `kong.response.set_headers(headers)`: [`set_header`] for each pair of the table.
pub(super) fn set_headers<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    check_phase_unsent(pdk, ctx, &exec)?;
    let headers = validate_headers(ctx, &exec, stack.get(0))?;
    let mut scope = pdk.scope_mut();
    for (name, value) in headers {
        set_one(&mut scope, &name, value);
    }
    drop(scope);
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `kong.response.get_header(name)`: the first value of the header on the client's response.
pub(super) fn get_header<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "header name must be a string");
    };
    let name = crate::pdk::kong::request::normalize_header_name(name.as_bytes());
    let headers = current_response_headers(&pdk.scope());
    // Kong: `get_headers()[name]`, so only within the default 100 header lines.
    let value = crate::pdk::kong::request::first_value_within(headers, &name, crate::pdk::kong::request::DEFAULT_MAX_HEADERS);
    stack.replace(ctx, value.map(|v| lua_string(ctx, &v)).unwrap_or(Value::Nil));
    Ok(CallbackReturn::Return)
}

/// `kong.response.get_headers([max_headers])`: the client's response headers as Kong's
/// headers table (lowercase names, arrays for repeated headers, lookups by any case and
/// `_` for `-`); a second value `"truncated"` when there were more than `max_headers`
/// (default 100) lines, as `ngx.resp.get_headers` returns it to Kong.
pub(super) fn get_headers<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pdk.check_phase(ctx, &exec, HEADER_BODY_LOG)?;
    let max = crate::pdk::kong::count_arg(ctx, &exec, stack.get(0), "max_headers")?;
    let headers = current_response_headers(&pdk.scope());
    let (table, err) = crate::pdk::kong::request::header_table_truncated(ctx, &headers, max);
    stack.replace(ctx, (table, err));
    Ok(CallbackReturn::Return)
}
