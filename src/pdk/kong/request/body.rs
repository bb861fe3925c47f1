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
        let max = count_arg(ctx, &exec, stack.get(1), "max_args")? as usize;
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
                let parts = crate::codec::multipart::parse(&b, &content_type);
                ret(ctx, stack, (args::parts_table(ctx, &parts), Value::Nil, mime))
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

