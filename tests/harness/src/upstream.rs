//! The built-in upstream: echoes the request as JSON unless the request scripts a response.

use serde_json::json;

use crate::spec::{UpstreamRequest, UpstreamSpec};

/// An upstream response: status, headers (lowercase names), body.
pub struct UpstreamResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// Answers `request`: the scripted response when given, else 200 `application/json`
/// with `{"method","path","headers","body"}` (headers as an object; a repeated header's
/// values joined with `, `).
pub fn respond(request: &UpstreamRequest, scripted: Option<&UpstreamSpec>) -> UpstreamResponse {
    if let Some(spec) = scripted {
        let body = spec.body.clone().unwrap_or_default().into_bytes();
        let mut headers = spec.headers.pairs();
        if !headers.iter().any(|(n, _)| n == "content-length") {
            headers.push(("content-length".into(), body.len().to_string()));
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
            ("content-type".into(), "application/json".into()),
            ("content-length".into(), body.len().to_string()),
        ],
        body,
    }
}
