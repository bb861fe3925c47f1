//! `kong.request` body: `get_raw_body`, `get_body` (form, JSON, multipart as Kong's
//! lua-multipart), and the buffered body `ngx.req` reads too.

use super::*;

/// Kong's content types (`kong.tools.http.CONTENT_TYPES`).
const CONTENT_TYPE_POST: &str = "application/x-www-form-urlencoded";
const CONTENT_TYPE_JSON: &str = "application/json";
const CONTENT_TYPE_FORM_DATA: &str = "multipart/form-data";

/// Kong's `before_content` phase mask (`get_raw_body`, `get_body`).
const BEFORE_CONTENT: u32 =
    kong_phase::REWRITE | kong_phase::ACCESS | kong_phase::RESPONSE | kong_phase::ERROR | kong_phase::ADMIN_API;

/// The second value of the body functions when the glue did not buffer the body.
pub const NOT_BUFFERED: &str = "request body was not buffered";

/// The buffered request body: `Ok(None)` when the glue did not buffer it, an error
/// when it is larger than the `request_body_bytes` limit.
pub fn body(pdk: &Pdk) -> Result<Option<Vec<u8>>, String> {
    let scope = pdk.scope();
    let Some(body) = scope.request.request_body.as_ref() else {
        return Ok(None);
    };
    let limit = crate::lua::limits::current().request_body_bytes;
    if body.len() > limit {
        return Err(format!("request body too large ({} bytes, limit {limit})", body.len()));
    }
    Ok(Some(body.clone()))
}

/// `kong.request.get_raw_body([max_allowed_file_size])`: the whole body as a string
/// (`""` when empty); `nil, "request body was not buffered"` when the glue did not
/// buffer it. Raises when the body exceeds the `request_body_bytes` limit.
pub(super) fn get_raw_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, BEFORE_CONTENT)?;
    match body(pdk) {
        Ok(Some(b)) => ret(ctx, stack, text(ctx, &b)),
        Ok(None) => ret(ctx, stack, (Value::Nil, text(ctx, NOT_BUFFERED.as_bytes()))),
        Err(e) => raise(ctx, &exec, &e),
    }
}

/// `kong.request.get_body([mimetype[, max_args[, max_allowed_file_size]]])`: the body
/// parsed by its content type (or `mimetype`): form-urlencoded (as
/// `ngx.req.get_post_args`), JSON (objects and arrays only) or multipart/form-data (as
/// lua-multipart's `get_all_with_arrays`). Returns `body, nil, mimetype`, or
/// `nil, err, mimetype` with Kong's messages ("missing content type" has no mimetype).
pub(super) fn get_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, BEFORE_CONTENT)?;
    let content_type = match stack.get(0) {
        Value::Nil => header(pdk, b"content-type"),
        Value::String(s) => Some(s.as_bytes().to_vec()),
        v @ (Value::Integer(_) | Value::Number(_)) => Some(crate::lua::format::number(v).into_bytes()),
        other => {
            return raise(ctx, &exec, &format!(
                "bad argument #1 to 'lower' (string expected, got {})",
                other.type_name()
            ))
        }
    };
    let Some(content_type) = content_type else {
        return ret(ctx, stack, (Value::Nil, text(ctx, b"missing content type")));
    };
    let mut lower = content_type.to_ascii_lowercase();
    if let Some(semi) = lower.iter().position(|&b| b == b';') {
        lower.truncate(semi);
    }

    if lower.starts_with(CONTENT_TYPE_POST.as_bytes()) {
        let max = check_max_args(ctx, &exec, stack.get(1))?;
        let mime = text(ctx, CONTENT_TYPE_POST.as_bytes());
        return match body(pdk) {
            Ok(Some(b)) => {
                let decoded = args::decode(&b, max);
                ret(ctx, stack, (args::to_table(ctx, &decoded.pairs), Value::Nil, mime))
            }
            Ok(None) => ret(ctx, stack, (Value::Nil, text(ctx, NOT_BUFFERED.as_bytes()), mime)),
            Err(e) => raise(ctx, &exec, &e),
        };
    }
    if lower.starts_with(CONTENT_TYPE_JSON.as_bytes()) {
        let mime = text(ctx, CONTENT_TYPE_JSON.as_bytes());
        return match body(pdk) {
            Ok(Some(b)) => match serde_json::from_slice::<serde_json::Value>(&b) {
                Ok(json @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                    ret(ctx, stack, (crate::pdk::lua_json::to_lua(ctx, &json), Value::Nil, mime))
                }
                _ => ret(ctx, stack, (Value::Nil, text(ctx, b"invalid json body"), mime)),
            },
            Ok(None) => ret(ctx, stack, (Value::Nil, text(ctx, NOT_BUFFERED.as_bytes()), mime)),
            Err(e) => raise(ctx, &exec, &e),
        };
    }
    if lower.starts_with(CONTENT_TYPE_FORM_DATA.as_bytes()) {
        let mime = text(ctx, CONTENT_TYPE_FORM_DATA.as_bytes());
        return match body(pdk) {
            Ok(Some(b)) => {
                let parts = multipart(&b, &content_type);
                ret(ctx, stack, (multipart_table(ctx, &parts), Value::Nil, mime))
            }
            Ok(None) => ret(ctx, stack, (Value::Nil, text(ctx, NOT_BUFFERED.as_bytes()), mime)),
            Err(e) => raise(ctx, &exec, &e),
        };
    }
    let mut msg = b"unsupported content type '".to_vec();
    msg.extend_from_slice(&content_type);
    msg.push(b'\'');
    ret(ctx, stack, (Value::Nil, text(ctx, &msg), text(ctx, &lower)))
}

/// The boundary of a multipart content type, as lua-multipart finds it
/// (`;%s*boundary=(%S+)`, surrounding quotes removed).
fn multipart_boundary(content_type: &[u8]) -> Option<Vec<u8>> {
    let mut i = 0;
    while let Some(semi) = content_type[i..].iter().position(|&b| b == b';') {
        let mut j = i + semi + 1;
        while j < content_type.len() && content_type[j].is_ascii_whitespace() {
            j += 1;
        }
        if content_type[j..].starts_with(b"boundary=") {
            let start = j + b"boundary=".len();
            let end = content_type[start..].iter().position(|b| b.is_ascii_whitespace()).map_or(content_type.len(), |e| start + e);
            let mut boundary = &content_type[start..end];
            if boundary.is_empty() {
                i = i + semi + 1;
                continue;
            }
            if boundary.len() >= 2
                && ((boundary[0] == b'"' && boundary[boundary.len() - 1] == b'"')
                    || (boundary[0] == b'\'' && boundary[boundary.len() - 1] == b'\''))
            {
                boundary = &boundary[1..boundary.len() - 1];
            }
            return (!boundary.is_empty()).then(|| boundary.to_vec());
        }
        i = i + semi + 1;
    }
    None
}

/// `%S:%s*%S`: lua-multipart's test for a header line.
fn is_header_line(line: &[u8]) -> bool {
    line.iter().enumerate().any(|(i, &b)| {
        b == b':' && i > 0 && !line[i - 1].is_ascii_whitespace() && {
            let rest = &line[i + 1..];
            rest.iter().find(|c| !c.is_ascii_whitespace()).is_some()
        }
    })
}

/// The part name of a `Content-Disposition` line, as lua-multipart extracts it.
fn disposition_name(line: &[u8]) -> Option<Vec<u8>> {
    let mut name = None;
    for piece in line.split(|&b| b == b';').filter(|p| !p.is_empty()) {
        if is_header_line(piece) {
            continue;
        }
        let trimmed_start = piece.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(piece.len());
        let rest = &piece[trimmed_start..];
        if rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(b"name=") {
            let value = &rest[5..];
            let value = &value[value.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(value.len())..];
            let value = &value[..value.iter().position(|&b| b == b'=').unwrap_or(value.len())];
            let end = value.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |e| e + 1);
            let value = &value[..end];
            name = Some(if value.len() >= 2 { value[1..value.len() - 1].to_vec() } else { Vec::new() });
        }
    }
    name
}

/// Decodes a multipart/form-data body into `(name, value)` parts in order, following
/// lua-multipart's line-based parser (Kong's `multipart` module).
pub fn multipart(body: &[u8], content_type: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut parts: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let Some(boundary) = multipart_boundary(content_type) else {
        return parts;
    };
    let mut name: Option<Vec<u8>> = None;
    let mut value: Vec<Vec<u8>> = Vec::new();
    let mut in_value = false;
    let mut position = 0;
    loop {
        let newline = body[position.min(body.len())..].iter().position(|&b| b == b'\r' || b == b'\n').map(|p| position + p);
        let line = match newline {
            Some(s) => &body[position..s],
            None => &body[position.min(body.len())..],
        };
        if let Some(s) = newline {
            position = s + 1;
        }
        if line.is_empty() {
            if let (Some(s), true) = (newline, in_value) {
                value.push(vec![body[s]]);
            }
        } else if line.starts_with(b"--") && line[2..].starts_with(&boundary) {
            in_value = false;
            if let Some(n) = name.take() {
                let count = value.len();
                if count >= 1 && value[count - 1] == b"\n" {
                    value.pop();
                }
                if count >= 2 && value[count - 2] == b"\r" {
                    value.remove(count - 2);
                }
                parts.push((n, value.concat()));
                value.clear();
            }
        } else if !in_value && line.len() >= 19 && line[..19].eq_ignore_ascii_case(b"content-disposition") {
            if let Some(n) = disposition_name(line) {
                name = Some(n);
            }
            if let Some(s) = newline {
                if body[s..].starts_with(b"\r\n\r\n") {
                    in_value = true;
                    position = s + 4;
                }
            }
        } else if !in_value && is_header_line(line) {
            if let Some(s) = newline {
                if body[s..].starts_with(b"\r\n\r\n") {
                    in_value = true;
                    position = s + 4;
                }
            }
        } else {
            in_value = true;
            value.push(line.to_vec());
            if let Some(s) = newline {
                value.push(vec![body[s]]);
            }
        }
        if newline.is_none() {
            break;
        }
    }
    if let Some(n) = name {
        // lua-multipart: an unterminated last part replaces earlier parts of its name.
        parts.retain(|(existing, _)| existing != &n);
        parts.push((n, value.concat()));
    }
    parts
}

/// Multipart parts as lua-multipart's `get_all_with_arrays`: a name seen once maps to
/// its value, a repeated name to an array of its values.
fn multipart_table<'gc>(ctx: Context<'gc>, parts: &[(Vec<u8>, Vec<u8>)]) -> Table<'gc> {
    let pairs: Vec<(Vec<u8>, args::ArgValue)> =
        parts.iter().map(|(n, v)| (n.clone(), args::ArgValue::Text(v.clone()))).collect();
    args::to_table(ctx, &pairs)
}
