//! `kong.request` path and query: the raw and normalised path, the query string and its
//! arguments, and the `:path` rewrites `ngx.req.set_uri*` make.

use super::*;

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

/// `kong.request.get_forwarded_path()`: the normalized path (no trusted
/// `X-Forwarded-Path` with Kong's default `trusted_ips`).
pub(super) fn get_forwarded_path<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let raw = raw_path(pdk);
    ret(ctx, stack, text(ctx, &normalize_path(&raw)))
}

/// `kong.request.get_path()`: the normalized path, without the query string.
pub(super) fn get_path<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::REQUEST)?;
    let raw = raw_path(pdk);
    ret(ctx, stack, text(ctx, &normalize_path(&raw)))
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
    let max = check_max_args(ctx, &exec, stack.get(0))?;
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

/// Kong's path normalization (`kong.tools.uri.normalize(path, true)`): percent-decodes
/// unreserved characters, upper-cases the remaining escapes, removes `.` and `..`
/// segments (RFC 3986 5.2.4) and merges repeated slashes.
pub fn normalize_path(raw: &[u8]) -> Vec<u8> {
    let decoded = decode_unreserved(raw);
    let mut segments: Vec<&[u8]> = Vec::new();
    let trailing_slash = decoded.ends_with(b"/")
        || decoded.ends_with(b"/.")
        || decoded.ends_with(b"/..");
    for segment in decoded.split(|&b| b == b'/') {
        match segment {
            b"" | b"." => {}
            b".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = Vec::with_capacity(decoded.len());
    for s in &segments {
        out.push(b'/');
        out.extend_from_slice(s);
    }
    if out.is_empty() || (trailing_slash && !segments.is_empty()) {
        out.push(b'/');
    }
    out
}

/// Kong's `kong.tools.uri.normalize` decoding: every `%XX` triplet is decoded except the
/// reserved characters `!#$%&'()*+,/:;=?@[]`, which stay encoded with uppercase hex.
fn decode_unreserved(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && i + 2 < raw.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(raw[i + 1]), hex(raw[i + 2])) {
                let byte = (h * 16 + l) as u8;
                if !b"!#$%&'()*+,/:;=?@[]".contains(&byte) {
                    out.push(byte);
                } else {
                    out.push(b'%');
                    out.extend(raw[i + 1..i + 3].iter().map(|b| b.to_ascii_uppercase()));
                }
                i += 3;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}
