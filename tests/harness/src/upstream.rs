//! The built-in upstream: echoes the request as JSON unless the request scripts a response.

use serde_json::json;

use crate::spec::{UpstreamRequest, UpstreamSpec};

/// An upstream response: status, headers (lowercase names), body.
pub struct UpstreamResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, in order; values byte for byte.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// Answers `request`: the scripted response when given (with a `content-length` added
/// unless it has one or says `transfer-encoding`), else 200 `application/json`
/// with `{"method","path","headers","body"}` (headers as an object; a repeated header's
/// values joined with `, `).
pub fn respond(request: &UpstreamRequest, scripted: Option<&UpstreamSpec>) -> UpstreamResponse {
    if let Some(spec) = scripted {
        let body = spec.body.clone().unwrap_or_default().0;
        let mut headers: Vec<(String, Vec<u8>)> =
            spec.headers.byte_pairs().into_iter().map(|(n, v)| (String::from_utf8_lossy(&n).into_owned(), v)).collect();
        // A chunked response carries no Content-Length (RFC 9112 section 6.3).
        if !headers.iter().any(|(n, _)| n == "content-length" || n == "transfer-encoding") {
            headers.push(("content-length".into(), body.len().to_string().into_bytes()));
        }
        return UpstreamResponse { status: spec.status.unwrap_or(200), headers, body };
    }
    let mut header_object = serde_json::Map::new();
    for (name, value) in &request.headers {
        let joined = match header_object.get(name).and_then(|v| v.as_str()) {
            Some(previous) => format!("{previous}, {value}"),
            None => value.clone(),
        };
        header_object.insert(name.clone(), joined.into());
    }
    let body = json!({
        "method": request.method,
        "path": request.path,
        "headers": header_object,
        "body": request.body,
    })
    .to_string()
    .into_bytes();
    UpstreamResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), b"application/json".to_vec()),
            ("content-length".into(), body.len().to_string().into_bytes()),
        ],
        body,
    }
}
