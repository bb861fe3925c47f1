//! What the host's HTTP/1.1 server does with a client's request line and header names
//! before any filter runs: a name that is not a valid token never reaches a filter.
//!
//! - `envoy`: the HTTP/1 codec rejects the request (http-parser's
//!   `HPE_INVALID_HEADER_TOKEN`, RFC 9110 `tchar`): the client gets `400 Bad Request`,
//!   response code details `http1.codec_error`, and no filter sees the stream.
//! - `kong`: nginx's `ignore_invalid_headers on` (its default, and Kong's template
//!   keeps it) drops the header and logs `client sent invalid header line` at info level
//!   (ngx_http_request.c `ngx_http_process_request_headers`); valid names are letters,
//!   digits, `-`, and `_` (Kong's template sets `underscores_in_headers on`).
//!
//! Header values, the path and the body are not checked here: both hosts hand their bytes
//! (obs-text included) to the filters as they came.

use crate::spec::{escape_bytes, Bytes, HeadersSpec, HostProfile, LogEntry, Outcome, RequestSpec};

/// RFC 9110 `tchar`, what Envoy's codec accepts in a header name.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// What nginx's header parser accepts in a name with `underscores_in_headers on`.
fn is_nginx_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn valid_name(profile: HostProfile, name: &[u8]) -> bool {
    let ok = match profile {
        HostProfile::Envoy => is_token_byte,
        HostProfile::Kong => is_nginx_name_byte,
    };
    !name.is_empty() && name.iter().all(|&b| ok(b))
}

/// What the host's server makes of the client's request.
pub enum Admission {
    /// Every header name is valid: the request goes to the filters as it is.
    AsIs,
    /// Kong: the request goes on without the headers whose names were invalid; the line
    /// nginx logs for each.
    Dropped(RequestSpec, Vec<LogEntry>),
    /// Envoy: the codec answered the client itself.
    Rejected(Outcome),
}

fn host_log(level: &str, message: String) -> LogEntry {
    LogEntry { filter: "host".into(), level: level.into(), message }
}

/// Checks the header names of `request` as the `profile`'s HTTP/1.1 server does.
pub fn admit(profile: HostProfile, request: &RequestSpec) -> Admission {
    let pairs = request.headers.byte_pairs();
    let (valid, invalid): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(n, _)| valid_name(profile, n));
    if invalid.is_empty() {
        return Admission::AsIs;
    }
    match profile {
        HostProfile::Envoy => {
            let body = b"Bad Request".to_vec();
            let headers = vec![
                ("content-length".into(), body.len().to_string().into_bytes()),
                ("content-type".into(), b"text/plain".to_vec()),
                ("connection".into(), b"close".to_vec()),
            ];
            let line = format!("http1.codec_error: invalid header name \"{}\"", escape_bytes(&invalid[0].0));
            Outcome::new(400, headers, body, None, vec![host_log("debug", line)]).into()
        }
        HostProfile::Kong => {
            let logs = invalid
                .iter()
                .map(|(n, v)| host_log("info", format!("client sent invalid header line: \"{}: {}\"", escape_bytes(n), escape_bytes(v))))
                .collect();
            let headers = HeadersSpec::Pairs(valid.into_iter().map(|(n, v)| (Bytes(n), Bytes(v))).collect());
            Admission::Dropped(RequestSpec { headers, ..request.clone() }, logs)
        }
    }
}

impl From<Outcome> for Admission {
    fn from(outcome: Outcome) -> Admission {
        Admission::Rejected(outcome)
    }
}
