//! `kong.response.exit` and `kong.response.error`: the local response, its body (JSON or
//! Kong's error page) and gRPC framing.

use super::*;

/// A body argument of `send`.
pub(super) enum Body {
    None,
    Bytes(Vec<u8>),
    Json(String),
}

/// gRPC codes for HTTP statuses (Kong's `HTTP_TO_GRPC_STATUS`).
pub(super) fn grpc_status_of(status: u16) -> u8 {
    match status {
        200 => 0,
        400 => 3,
        401 => 16,
        403 => 7,
        404 => 5,
        409 => 6,
        429 => 8,
        499 => 1,
        500 => 13,
        501 => 12,
        503 => 14,
        504 => 4,
        500..=599 => 13,
        400..=499 => 3,
        200..=299 => 0,
        _ => 2,
    }
}

pub(super) fn grpc_message(code: u8) -> &'static str {
    const MESSAGES: [&str; 17] = [
        "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
        "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
        "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
    ];
    MESSAGES.get(usize::from(code)).copied().unwrap_or("Unknown")
}

/// Kong's `is_grpc_request`: the client's Content-Type starts with `application/grpc`
/// (and the request is HTTP/2, when the host tells the protocol).
pub(super) fn is_grpc_request(scope: &Scope) -> bool {
    let grpc_type = scope
        .host
        .request_header("content-type")
        .is_some_and(|ct| ct.starts_with(CONTENT_TYPE_GRPC.as_bytes()));
    grpc_type
        && Need::Protocol
            .read_text(scope.host.as_ref(), scope.host_kind)
            .map_or(true, |p| p.contains("HTTP/2") || p == "2" || p == "2.0")
}

/// Whether the response is gRPC (`is_grpc`) and whether its own Content-Type says so
/// (`is_grpc_output`), as Kong's `send` decides after applying `headers`.
pub(super) fn grpc_mode(scope: &Scope, headers: &[(String, HeaderValue)]) -> (bool, bool) {
    let given = headers.iter().rev().find(|(n, _)| response_header_name(n) == "content-type").map(|(_, v)| match v {
        HeaderValue::One(v) => v.clone(),
        HeaderValue::Many(vs) => vs.first().cloned().unwrap_or_default(),
    });
    let content_type = given.or_else(|| {
        current_response_headers(scope).into_iter().find(|(n, _)| n == "content-type").map(|(_, v)| v)
    });
    match content_type {
        Some(ct) => {
            let grpc = ct.starts_with(CONTENT_TYPE_GRPC.as_bytes());
            (grpc, grpc)
        }
        None => (is_grpc_request(scope), false),
    }
}

/// Kong's `send(status, body, headers)`: builds the filter's response on top of the
/// headers set so far and stores it in `RequestState::exit`.
pub(super) fn send<'gc>(
    pdk: &Pdk,
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    status: u16,
    body: Body,
    headers: Vec<(String, HeaderValue)>,
) -> Result<(), Error<'gc>> {
    let limit = crate::lua::limits::current().exit_body_bytes;
    let size = match &body {
        Body::None => 0,
        Body::Bytes(b) => b.len(),
        Body::Json(j) => j.len(),
    };
    if size > limit {
        return raise(ctx, exec, &format!("body too large ({size} bytes, limit {limit})"));
    }
    let mut scope = pdk.scope_mut();
    let mut response = match scope.request.exit.take() {
        Some(previous) => LocalResponse { status, ..previous },
        None => {
            let mut r = LocalResponse { status, ..LocalResponse::default() };
            scope.request.apply_header_ops(&mut r);
            r
        }
    };
    let mut has_content_type = false;
    let mut has_content_length = false;
    for (name, value) in headers {
        let name = response_header_name(&name);
        if is_transfer_encoding(&name) {
            warn(&scope, "manually setting Transfer-Encoding. Ignored.");
        } else {
            set_local_header(&mut response, &name, normalize_value(value));
        }
        has_content_type |= name == "content-type";
        has_content_length |= name == "content-length";
    }
    let (is_grpc, is_grpc_output) = match response.header("content-type") {
        Some(ct) => {
            let grpc = ct.starts_with(CONTENT_TYPE_GRPC.as_bytes());
            (grpc, grpc)
        }
        None => (is_grpc_request(&scope), false),
    };
    let mut grpc_status = None;
    if is_grpc && response.header("grpc-status").is_none() {
        let code = grpc_status_of(status);
        grpc_status = Some(code);
        response.set_header("grpc-status", Some(code.to_string().as_bytes()));
    }
    let set_grpc_message = |response: &mut LocalResponse| {
        if let Some(code) = grpc_status {
            if response.header("grpc-message").is_none() {
                response.set_header("grpc-message", Some(grpc_message(code).as_bytes()));
            }
        }
    };
    let content_length = |response: &mut LocalResponse, len: usize| {
        if !has_content_length {
            response.set_header("content-length", Some(len.to_string().as_bytes()));
        }
    };
    let body = match body {
        Body::Json(json) => {
            if !has_content_type {
                response.set_header("content-type", Some(CONTENT_TYPE_JSON));
            }
            content_length(&mut response, json.len());
            json.into_bytes()
        }
        Body::Bytes(bytes) if is_grpc && !is_grpc_output => {
            response.set_header("content-length", Some(b"0"));
            response.set_header("grpc-message", Some(&bytes));
            Vec::new()
        }
        Body::Bytes(bytes) => {
            content_length(&mut response, bytes.len());
            set_grpc_message(&mut response);
            bytes
        }
        Body::None => {
            content_length(&mut response, 0);
            set_grpc_message(&mut response);
            Vec::new()
        }
    };
    response.body = body;
    scope.request.exit = Some(response);
    Ok(())
}

/// `kong.response.exit(status[, body[, headers]])`: ends the phase with a response made
/// here. A table body is sent as JSON (`Content-Type: application/json; charset=utf-8`
/// unless the headers set one); `Content-Length` is set unless given. On a gRPC request
/// (or a gRPC Content-Type), `grpc-status`/`grpc-message` are set as Kong does and a
/// string body travels in `grpc-message`. Does not return: the rest of the phase's
/// chunks are skipped, and the request never reaches the upstream.
pub(super) fn exit<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    check_phase_unsent(pdk, ctx, &exec)?;
    let status = check_status(ctx, &exec, stack.get(0), MIN_STATUS_CODE)?;
    let body = stack.get(1);
    if !matches!(body, Value::Nil | Value::String(_) | Value::Table(_)) {
        return raise(ctx, &exec, "body must be a nil, string or table");
    }
    let headers = match stack.get(2) {
        Value::Nil => Vec::new(),
        v @ Value::Table(_) => validate_headers(ctx, &exec, v)?,
        _ => return raise(ctx, &exec, "headers must be a nil or table"),
    };
    let body = match body {
        Value::Table(t) => match grpc_mode(&pdk.scope(), &headers) {
            (true, true) => return raise(ctx, &exec, "table body encoding with gRPC is not supported"),
            (true, false) => match t.get(ctx, "message") {
                Value::String(m) => Body::Bytes(m.as_bytes().to_vec()),
                _ => {
                    warn(&pdk.scope(), "body was removed because table body encoding with gRPC is not supported");
                    Body::None
                }
            },
            _ => match json::encode_kong(ctx, Value::Table(t)) {
                Ok(s) => Body::Json(s),
                Err(e) => return raise(ctx, &exec, &format!("body encoding failed while flushing response: {e}")),
            },
        },
        Value::String(s) => Body::Bytes(s.as_bytes().to_vec()),
        _ => Body::None,
    };
    send(pdk, ctx, &exec, status, body, headers)?;
    // Yielding the main thread ends the chunk where it stands, even inside `pcall`, as
    // Kong's exit does (it yields the plugin's coroutine).
    Ok(CallbackReturn::Yield { to_thread: None, then: None })
}

/// `kong.response.error(status[, message[, headers]])`: ends the phase with an error
/// response (status 400-599) formatted as Kong does: the Content-Type given in `headers`
/// (key `Content-Type` exactly, as Kong looks it up), else `application/grpc` for a gRPC
/// request, else negotiated from the request's `Accept` header (JSON, HTML, XML or plain
/// text; JSON by default). The body is Kong's template for that type with the message
/// (default: Kong's text for the status, e.g. 404 "Not found") and the request id.
pub(super) fn error<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    check_phase_unsent(pdk, ctx, &exec)?;
    let status = check_status(ctx, &exec, stack.get(0), MIN_ERR_STATUS_CODE)?;
    let message = match stack.get(1) {
        Value::Nil => None,
        Value::String(s) => Some(s.as_bytes().to_vec()),
        t @ Value::Table(_) => match json::encode_kong(ctx, t) {
            Ok(s) => Some(s.into_bytes()),
            Err(e) => return raise(ctx, &exec, &format!("could not JSON encode the error message: {e}")),
        },
        _ => return raise(ctx, &exec, "message must be a nil, a string or a table"),
    };
    let headers_arg = stack.get(2);
    let mut headers = match headers_arg {
        Value::Nil => Vec::new(),
        v @ Value::Table(_) => validate_headers(ctx, &exec, v)?,
        _ => return raise(ctx, &exec, "headers must be a nil or table"),
    };
    let given = headers.iter().find(|(n, _)| n == "Content-Type").map(|(_, v)| match v {
        HeaderValue::One(v) => v.clone(),
        HeaderValue::Many(vs) => vs.first().cloned().unwrap_or_default(),
    });
    let content_type = match given {
        Some(ct) => String::from_utf8_lossy(&ct).into_owned(),
        None => {
            let scope = pdk.scope();
            if is_grpc_request(&scope) {
                CONTENT_TYPE_GRPC.to_string()
            } else {
                response_type(accept_header(&scope).as_deref()).to_string()
            }
        }
    };
    headers.retain(|(n, _)| n != "Content-Type");
    headers.push(("Content-Type".to_string(), HeaderValue::One(content_type.clone().into_bytes())));
    let body = if content_type == CONTENT_TYPE_GRPC || content_type.is_empty() {
        Body::None
    } else {
        let Some(template) = error_template(&content_type) else {
            return raise(ctx, &exec, "bad argument #1 to 'format' (string expected, got nil)");
        };
        let message = message.unwrap_or_else(|| http_error_message(status).into_bytes());
        Body::Bytes(fill_template(template, &message, request_id(&pdk.scope()).as_bytes()))
    };
    send(pdk, ctx, &exec, status, body, headers)?;
    Ok(CallbackReturn::Yield { to_thread: None, then: None })
}

pub(super) fn set_local_header(response: &mut LocalResponse, name: &str, value: HeaderValue) {
    match value {
        HeaderValue::One(v) => response.set_header(name, Some(&v)),
        HeaderValue::Many(values) => {
            response.set_header(name, None);
            for v in values {
                response.add_header(name, &v);
            }
        }
    }
}
