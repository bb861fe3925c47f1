//! `kong.request` path and query: the raw and normalised path, the query string and its
//! arguments, and the `:path` rewrites `ngx.req.set_uri*` make.

use super::*;
use crate::codec::path;

/// The `:path` the upstream gets now (path and query), `/` when absent.
pub fn current_path(pdk: &Pdk) -> Vec<u8> {
    pdk.scope().host.request_header(":path").unwrap_or_else(|| b"/".to_vec())
}

/// The client's original request target (nginx's `$request_uri`): path and query as
/// received, unchanged by `ngx.req.set_uri*`.
pub fn request_uri(pdk: &Pdk) -> Vec<u8> {
    if let Some(original) = pdk.scope().request.original_path.clone() {
        return original;
    }
    current_path(pdk)
}

/// Splits `path?query` into the path and the query (`None` without `?`).
pub fn split_query(target: &[u8]) -> (&[u8], Option<&[u8]>) {
    match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], Some(&target[q + 1..])),
        None => (target, None),
    }
}

/// The current query string (nginx's `$args`), `None` when the target has no `?`.
pub fn current_query(pdk: &Pdk) -> Option<Vec<u8>> {
    let path = current_path(pdk);
    split_query(&path).1.map(<[u8]>::to_vec)
}

/// Rewrites the `:path` sent upstream, remembering the client's original first.
pub fn set_current_path(pdk: &Pdk, target: &[u8]) {
    let before = current_path(pdk);
    let mut scope = pdk.scope_mut();
    if scope.request.original_path.is_none() {
        scope.request.original_path = Some(before);
    }
    scope.host.set_request_header(":path", Some(target));
}

/// Replaces the query of the upstream request; `None` or empty removes the `?`.
pub fn set_current_query(pdk: &Pdk, query: Option<&[u8]>) {
    let path = current_path(pdk);
    let mut target = split_query(&path).0.to_vec();
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        target.push(b'?');
        target.extend_from_slice(q);
    }
    set_current_path(pdk, &target);
}

/// `kong.request.get_forwarded_path()`: the first `X-Forwarded-Path` as sent when the
/// client's address is in `trusted_ips` (kong/pdk/request.lua; none with Kong's default,
/// empty `trusted_ips`, and on hosts without the setting), else the normalized path.
pub(super) fn get_forwarded_path<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    if let Some(path) = super::trusted_forwarded_header(pdk, b"x-forwarded-path") {
        return ret(ctx, stack, text(ctx, &path));
    }
    let raw = raw_path(pdk);
    ret(ctx, stack, text(ctx, &path::normalize(&raw)))
}

/// `kong.request.get_path()`: the normalized path, without the query string.
pub(super) fn get_path<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let raw = raw_path(pdk);
    ret(ctx, stack, text(ctx, &path::normalize(&raw)))
}

/// `kong.request.get_raw_path()`: the path as the client sent it, without the query.
pub(super) fn get_raw_path<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let raw = raw_path(pdk);
    ret(ctx, stack, text(ctx, &raw))
}

/// `kong.request.get_path_with_query()`: path and query as the client sent them.
pub(super) fn get_path_with_query<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let uri = request_uri(pdk);
    ret(ctx, stack, text(ctx, &uri))
}

/// `kong.request.get_raw_query()`: the query string without `?`, not decoded; `""`
/// when there is none (nginx's `$args`, so a query changed by `ngx.req.set_uri_args`).
pub(super) fn get_raw_query<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let q = current_query(pdk).unwrap_or_default();
    ret(ctx, stack, text(ctx, &q))
}

/// `kong.request.get_query_arg(name)`: the first value of query argument `name`
/// (a string, `true` for a key without `=`), or `nil`.
pub(super) fn get_query_arg<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let Value::String(name) = stack.get(0) else {
        return raise(ctx, &exec, "query argument name must be a string");
    };
    let query = current_query(pdk).unwrap_or_default();
    let decoded = args::decode(&query, DEFAULT_MAX_ARGS);
    let value = decoded
        .pairs
        .iter()
        .find(|(k, _)| k.as_slice() == name.as_bytes())
        .map(|(_, v)| match v {
            args::ArgValue::Flag => Value::Boolean(true),
            args::ArgValue::Text(t) => text(ctx, t),
        })
        .unwrap_or(Value::Nil);
    ret(ctx, stack, value)
}

/// `kong.request.get_query([max_args])`: the decoded query arguments (a repeated key
/// gives an array; a key without `=` gives `true`), at most `max_args` (default 100,
/// 1 to 1000); a second value `"truncated"` when there were more.
pub(super) fn get_query<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let max = count_arg(ctx, &exec, stack.get(0), "max_args")? as usize;
    let query = current_query(pdk).unwrap_or_default();
    let decoded = args::decode(&query, max);
    let table = args::to_table(ctx, &decoded.pairs);
    let err = if decoded.truncated { text(ctx, b"truncated") } else { Value::Nil };
    ret(ctx, stack, (table, err))
}

fn raw_path(pdk: &Pdk) -> Vec<u8> {
    // As Kong: the client's request target up to the first `?` after its first byte.
    let uri = request_uri(pdk);
    match uri.iter().skip(1).position(|&b| b == b'?') {
        Some(q) => uri[..q + 1].to_vec(),
        None => uri,
    }
}
