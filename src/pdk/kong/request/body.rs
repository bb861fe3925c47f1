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

/// Kong's error for a body nginx wrote to a temp file, when `get_raw_body` is not allowed
/// to read files (kong/pdk/request.lua `get_raw_body`).
pub const DID_NOT_FIT: &str =
    "request body did not fit into client body buffer, consider raising 'client_body_buffer_size'";

/// lua-nginx-module's error from `ngx.req.get_post_args` for a body in a temp file
/// (`ngx_http_lua_ngx_req_get_post_args`), which `kong.request.get_body` returns for forms.
pub const IN_TEMP_FILE: &str = "request body in temp file not supported";

/// The size of a request body the host wrote to a temp file (nginx, larger than
/// `client_body_buffer_size`), which no filter can read; `None` otherwise.
pub fn in_file(pdk: &Pdk) -> Option<usize> {
    pdk.scope().request.request_body_in_file
}

/// What Kong's `get_raw_body(max_allowed_file_size)` answers for a body of `size` bytes in
/// a temp file: [`DID_NOT_FIT`] without a limit (`nil`, `false` or below 0); "request
/// body file too big: <size> > <limit>" over a positive limit; otherwise Kong reads the
/// file, which a filter cannot (the host does not hand it over): an error saying so,
/// worded as Kong's failure to open the file. A limit that is not a number fails as
/// Kong's comparison `max_allowed_file_size < 0` does.
fn in_file_error<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, size: usize, limit: Value<'gc>) -> Result<String, Error<'gc>> {
    let limit = match limit {
        Value::Nil | Value::Boolean(false) => return Ok(DID_NOT_FIT.into()),
        v @ (Value::Integer(_) | Value::Number(_)) => v.to_number().unwrap_or(0.0),
        other => {
            let msg = format!("attempt to compare {} with number", args::arg_type_name(other));
            return Err(crate::lua::error_at(ctx, exec, &msg));
        }
    };
    if limit < 0.0 {
        return Ok(DID_NOT_FIT.into());
    }
    if limit > 0.0 && size as f64 > limit {
        // Kong's `("%d"):format(max_allowed_file_size)`.
        return Ok(format!("request body file too big: {size} > {}", limit.trunc() as i64));
    }
    Ok("failed to open cached request body: the host does not hand a request body buffered to a file to filters".into())
}

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
/// buffer it; for a body the host wrote to a temp file, `nil` and Kong's error
/// ([`in_file_error`]). Raises when the body exceeds the `request_body_bytes` limit.
pub(super) fn get_raw_body<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, BEFORE_CONTENT)?;
    if let Some(size) = in_file(pdk) {
        let err = in_file_error(ctx, &exec, size, stack.get(0))?;
        return ret(ctx, stack, (Value::Nil, text(ctx, err.as_bytes())));
    }
    match body(pdk) {
        Ok(Some(b)) => ret(ctx, stack, text(ctx, &b)),
        Ok(None) => ret(ctx, stack, (Value::Nil, text(ctx, NOT_BUFFERED.as_bytes()))),
        Err(e) => raise(ctx, &exec, &e),
    }
}

/// `kong.request.get_body([mimetype[, max_args[, max_allowed_file_size]]])`: the body
/// parsed by its content type (or `mimetype`): form-urlencoded (as
/// `ngx.req.get_post_args`), JSON (objects and arrays only, as Kong's `cjson.decode_with_array_mt`: arrays carry `cjson.array_mt`, `null` is `cjson.null`) or multipart/form-data (as
/// lua-multipart's `get_all_with_arrays`). Returns `body, nil, mimetype`, or
/// `nil, err, mimetype` with Kong's messages ("missing content type" has no mimetype;
/// a body in a temp file: [`IN_TEMP_FILE`] for forms, as `get_raw_body` otherwise).
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
        if in_file(pdk).is_some() {
            return ret(ctx, stack, (Value::Nil, text(ctx, IN_TEMP_FILE.as_bytes()), mime));
        }
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
        if let Some(size) = in_file(pdk) {
            let err = in_file_error(ctx, &exec, size, stack.get(2))?;
            return ret(ctx, stack, (Value::Nil, text(ctx, err.as_bytes()), mime));
        }
        return match body(pdk) {
            // Kong: `cjson.decode_with_array_mt(body)`, a table or "invalid json body".
            Ok(Some(b)) => match crate::pdk::json::decode_with_array_mt(ctx, &b) {
                Ok(Some(json @ Value::Table(_))) => ret(ctx, stack, (json, Value::Nil, mime)),
                Ok(_) => ret(ctx, stack, (Value::Nil, text(ctx, b"invalid json body"), mime)),
                Err(e) => raise(ctx, &exec, &e),
            },
            Ok(None) => ret(ctx, stack, (Value::Nil, text(ctx, NOT_BUFFERED.as_bytes()), mime)),
            Err(e) => raise(ctx, &exec, &e),
        };
    }
    if lower.starts_with(CONTENT_TYPE_FORM_DATA.as_bytes()) {
        let mime = text(ctx, CONTENT_TYPE_FORM_DATA.as_bytes());
        if let Some(size) = in_file(pdk) {
            let err = in_file_error(ctx, &exec, size, stack.get(2))?;
            return ret(ctx, stack, (Value::Nil, text(ctx, err.as_bytes()), mime));
        }
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

