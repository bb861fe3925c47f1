//! Error bodies as Kong's `kong/tools/http.lua` and `kong/error_handlers.lua` build them,
//! and nginx's own pages for `ngx.exit`.

use super::*;

/// Kong's default message for an error status (`kong.response.error`).
pub fn http_error_message(status: u16) -> String {
    let text = match status {
        400 => "Bad request",
        401 => "Unauthorized",
        402 => "Payment required",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        406 => "Not acceptable",
        407 => "Proxy authentication required",
        408 => "Request timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length required",
        412 => "Precondition failed",
        413 => "Payload too large",
        414 => "URI too long",
        415 => "Unsupported media type",
        416 => "Range not satisfiable",
        417 => "Expectation failed",
        418 => "I'm a teapot",
        421 => "Misdirected request",
        422 => "Unprocessable entity",
        423 => "Locked",
        424 => "Failed dependency",
        425 => "Too early",
        426 => "Upgrade required",
        428 => "Precondition required",
        429 => "Too many requests",
        431 => "Request header fields too large",
        451 => "Unavailable for legal reasons",
        494 => "Request header or cookie too large",
        500 => "An unexpected error occurred",
        501 => "Not implemented",
        502 => "An invalid response was received from the upstream server",
        503 => "The upstream server is currently unavailable",
        504 => "The upstream server is timing out",
        505 => "HTTP version not supported",
        506 => "Variant also negotiates",
        507 => "Insufficient storage",
        508 => "Loop detected",
        510 => "Not extended",
        511 => "Network authentication required",
        _ => return format!("The upstream server responded with {status}"),
    };
    text.to_string()
}

pub(super) const MIME_HTML: &str = "text/html; charset=utf-8";
pub(super) const MIME_JSON: &str = "application/json; charset=utf-8";
pub(super) const MIME_PLAIN: &str = "text/plain; charset=utf-8";
pub(super) const MIME_XML: &str = "application/xml; charset=utf-8";

/// Kong's `get_mime_type(media_type)`: the response type for one media range, JSON when
/// unknown.
pub(super) fn mime_type(media: &str) -> &'static str {
    let media = media.split(';').next().unwrap_or("").trim();
    let mut parts = media.splitn(3, '/');
    let (Some(kind), Some(sub)) = (parts.next(), parts.next()) else {
        return MIME_JSON;
    };
    let known = |t: &str| match t {
        "application/grpc" => Some(""),
        "text/html" => Some(MIME_HTML),
        "application/json" => Some(MIME_JSON),
        "text/plain" => Some(MIME_PLAIN),
        "application/xml" => Some(MIME_XML),
        "application" => Some(MIME_JSON),
        "text" => Some(MIME_PLAIN),
        _ => None,
    };
    let found = if sub == "*" {
        if kind == "*" { Some(MIME_JSON) } else { known(kind) }
    } else {
        known(media)
    };
    found.unwrap_or(MIME_JSON)
}

/// Kong's `get_response_type(accept)`: the type of the highest-quality media range of
/// an `Accept` header (first one wins a tie), JSON without one.
pub fn response_type(accept: Option<&str>) -> &'static str {
    let mut content_type = MIME_JSON;
    let Some(accept) = accept else { return content_type };
    let mut max_quality = 0.0;
    for entry in accept.split(',') {
        let entry = entry.trim();
        let Some((media, quality)) = parse_accept_entry(entry) else { continue };
        if quality > max_quality {
            max_quality = quality;
            content_type = mime_type(media);
        }
    }
    content_type
}

/// One `Accept` entry as Kong's pattern reads it: `type/subtype` (each token at least two
/// characters, or `*`) and its `q` (1 when absent).
pub(super) fn parse_accept_entry(entry: &str) -> Option<(&str, f64)> {
    let token_ok = |t: &str| {
        t == "*"
            || (t.len() >= 2
                && t.as_bytes()[0].is_ascii_alphanumeric()
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-!#$&^_+.".contains(&b)))
    };
    let mut params = entry.split(';');
    let media = params.next()?.trim();
    let (kind, sub) = media.split_once('/')?;
    if !token_ok(&kind.to_ascii_lowercase()) || !token_ok(&sub.to_ascii_lowercase()) {
        return None;
    }
    let mut quality = 1.0;
    for param in params {
        let param = param.trim();
        if let Some(q) = param.strip_prefix("q=").or_else(|| param.strip_prefix("Q=")) {
            if let Ok(q) = q.trim().parse::<f64>() {
                if (0.0..=1.0).contains(&q) {
                    quality = q;
                }
            }
        }
    }
    Some((media, quality))
}

/// Kong's error templates by response type (`get_error_template`).
pub(super) fn error_template(mime: &str) -> Option<&'static str> {
    match mime {
        "application/json" | MIME_JSON => Some("{\n  \"message\":\"%s\",\n  \"request_id\":\"%s\"\n}"),
        "text/html" | MIME_HTML => Some(
            "<!doctype html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n    <p>%s.</p>\n    <p>request_id: %s</p>\n  </body>\n</html>\n",
        ),
        "application/xml" | MIME_XML => Some(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error>\n  <message>%s</message>\n  <requestid>%s</requestid>\n</error>\n",
        ),
        "text/plain" | MIME_PLAIN => Some("%s\nrequest_id: %s\n"),
        _ => None,
    }
}

/// `string.format(template, message, request_id)` for the two `%s` of a template.
pub(super) fn fill_template(template: &str, message: &[u8], request_id: &[u8]) -> Vec<u8> {
    let mut parts = template.splitn(3, "%s");
    let mut out = Vec::with_capacity(template.len() + message.len() + request_id.len());
    out.extend_from_slice(parts.next().unwrap_or("").as_bytes());
    out.extend_from_slice(message);
    out.extend_from_slice(parts.next().unwrap_or("").as_bytes());
    out.extend_from_slice(request_id);
    out.extend_from_slice(parts.next().unwrap_or("").as_bytes());
    out
}

/// The request's `Accept` header, repeated values joined with `,` as Kong does.
pub(super) fn accept_header(scope: &Scope) -> Option<String> {
    let values: Vec<String> = scope
        .host
        .request_headers()
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("accept"))
        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// Kong's request id (`request_id.get()`), or empty.
pub(super) fn request_id(scope: &Scope) -> String {
    Need::RequestId
        .read_text(scope.host.as_ref(), scope.host_kind)
        .or_else(|| scope.host.request_header("x-request-id").map(|v| String::from_utf8_lossy(&v).into_owned()))
        .unwrap_or_default()
}

/// The statuses Kong's nginx template sends to its error handler (`error_page`).
pub(super) const KONG_ERROR_PAGE_STATUSES: [u16; 14] = [400, 404, 405, 408, 411, 412, 413, 414, 417, 494, 500, 502, 503, 504];

/// The response nginx sends for `ngx.exit(status)` with no output, as Kong is set up:
/// for the statuses of Kong's `error_page` list, Kong's error handler
/// (`kong/error_handlers.lua`: type from `Accept`, else the request's `Content-Type`,
/// else Kong's default `text/plain`; its shorter message list; 494 sent as 400); for
/// other statuses from 300 up, nginx's own HTML page (`<h1>401 Authorization
/// Required</h1>`...), or an empty body when nginx has none; below 300 an empty body.
pub fn ngx_exit_response(scope: &Scope, status: u16) -> LocalResponse {
    let mut response = LocalResponse { status, ..LocalResponse::default() };
    scope.request.apply_header_ops(&mut response);
    if KONG_ERROR_PAGE_STATUSES.contains(&status) {
        // Every status of the list has its text in Kong's error handler, the same as
        // `kong.response.error`'s.
        let message = http_error_message(status);
        if status == 494 {
            response.status = 400;
        }
        let accept = accept_header(scope)
            .or_else(|| scope.host.request_header("content-type").map(|v| String::from_utf8_lossy(&v).into_owned()))
            .unwrap_or_else(|| "text/plain".to_string());
        if accept.starts_with(CONTENT_TYPE_GRPC) {
            let body = format!("{{\"message\":\"{message}\"}}");
            response.set_header("content-type", Some(CONTENT_TYPE_JSON));
            response.body = body.into_bytes();
        } else {
            let mime = response_type(Some(&accept));
            let template = error_template(mime).unwrap_or("%s\nrequest_id: %s\n");
            response.body = fill_template(template, message.as_bytes(), request_id(scope).as_bytes());
            response.set_header("content-type", Some(if mime.is_empty() { MIME_PLAIN } else { mime }.as_bytes()));
        }
    } else if let Some(title) = nginx_status_title(status) {
        let line = format!("{status} {title}");
        response.body = format!(
            "<html>\r\n<head><title>{line}</title></head>\r\n<body>\r\n<center><h1>{line}</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n"
        )
        .into_bytes();
        response.set_header("content-type", Some(b"text/html"));
    }
    let length = response.body.len().to_string();
    response.set_header("content-length", Some(length.as_bytes()));
    response
}

/// The status lines of nginx's built-in error pages.
pub(super) fn nginx_status_title(status: u16) -> Option<&'static str> {
    Some(match status {
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        401 => "Authorization Required",
        402 => "Payment Required",
        403 => "Forbidden",
        406 => "Not Acceptable",
        409 => "Conflict",
        410 => "Gone",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        421 => "Misdirected Request",
        429 => "Too Many Requests",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        _ => return None,
    })
}
