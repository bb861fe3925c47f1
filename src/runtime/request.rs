//! Per-request state kept by the HTTP context between phases.

/// A response produced by the filter itself (`kong.response.exit`, or a 500 after a Lua
/// error), sent with proxy-wasm's `proxy_send_local_response`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalResponse {
    /// HTTP status, 100-599.
    pub status: u16,
    /// Header pairs in order, names lowercase; a name may repeat.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl LocalResponse {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    /// Replaces every value of header `name` with `value`, or removes it when `None`.
    pub fn set_header(&mut self, name: &str, value: Option<&[u8]>) {
        self.headers.retain(|(n, _)| n != name);
        if let Some(value) = value {
            self.headers.push((name.to_owned(), value.to_vec()));
        }
    }

    /// Appends a value to header `name`.
    pub fn add_header(&mut self, name: &str, value: &[u8]) {
        self.headers.push((name.to_owned(), value.to_vec()));
    }

    /// The response to a request body over the `request_body_bytes` limit: 413,
    /// `{"message":"Request size limit exceeded"}` (Kong's wording for 413).
    pub fn payload_too_large() -> LocalResponse {
        let body = br#"{"message":"Request size limit exceeded"}"#.to_vec();
        LocalResponse {
            status: 413,
            headers: vec![
                ("content-type".into(), b"application/json; charset=utf-8".to_vec()),
                ("content-length".into(), body.len().to_string().into_bytes()),
            ],
            body,
        }
    }

    /// Kong's response for an unexpected error: 500, `{"message":"An unexpected error occurred"}`.
    pub fn internal_error() -> LocalResponse {
        let body = br#"{"message":"An unexpected error occurred"}"#.to_vec();
        LocalResponse {
            status: 500,
            headers: vec![
                ("content-type".into(), b"application/json; charset=utf-8".to_vec()),
                ("content-length".into(), body.len().to_string().into_bytes()),
            ],
            body,
        }
    }
}

/// A response header change made before the response exists (in `rewrite`/`access`),
/// applied to whichever response the client gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderOp {
    /// Replace (or with `None`, remove) every value of the header.
    Set(String, Option<Vec<u8>>),
    /// Append one value.
    Add(String, Vec<u8>),
}

/// The response body chunk `body_filter` sees (`ngx.arg[1]`, `ngx.arg[2]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyChunk {
    /// The chunk's bytes (`ngx.arg[1]`).
    pub data: Vec<u8>,
    /// Whether this is the last chunk (`ngx.arg[2]`); a chunk that sets it ends the body.
    pub eof: bool,
    /// Set when Lua replaced `data` or `eof`.
    pub changed: bool,
}

impl BodyChunk {
    /// A chunk as the proxy delivered it.
    pub fn new(data: Vec<u8>, eof: bool) -> BodyChunk {
        BodyChunk { data, eof, changed: false }
    }
}

/// The WebSocket frame a `ws_client_frame`/`ws_upstream_frame` chunk works on, as Kong's
/// `kong.websocket.<side>` functions see and change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsFrame {
    /// Which peer sent it.
    pub side: crate::websocket::Side,
    /// The frame (a whole data message, or a control frame), as the chunks left it.
    pub message: crate::websocket::Message,
    /// `drop_frame` or `close` ran: the frame is not sent on, later chunks are skipped.
    pub drop: bool,
    /// `close(status, message, peer_status, peer_message)` ran: the close frames to send
    /// to the sender (`status`, `message`) and to its peer.
    pub close: Option<WsClose>,
}

/// The close frames a `kong.websocket.<side>.close` call asked for; `None` fields take
/// the defaults (1000, no reason).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WsClose {
    /// Status of the close frame to the frame's sender.
    pub status: Option<u16>,
    /// Reason of the close frame to the frame's sender.
    pub message: Option<Vec<u8>>,
    /// Status of the close frame to the other peer.
    pub peer_status: Option<u16>,
    /// Reason of the close frame to the other peer.
    pub peer_message: Option<Vec<u8>>,
}

/// One `kong.log.set_serialize_value(key, value, {mode = ...})` call.
#[derive(Debug, Clone, PartialEq)]
pub struct SerializeValue {
    /// The key as given: dots separate levels, `\.` is a literal dot.
    pub key: String,
    /// The value as JSON (`Null` for `nil`: the field is removed); `None` when the value
    /// cannot be serialized (a function, a self-referencing table ...), which
    /// `kong.log.serialize` reports as Kong does.
    pub value: Option<serde_json::Value>,
    /// `set` (always), `add` (only when absent) or `replace` (only when present).
    pub mode: &'static str,
}

/// What one request carries from phase to phase; owned by the proxy-wasm HTTP context.
#[derive(Debug, Default)]
pub struct RequestState {
    /// The body chunk in `body_filter`; `None` in the other phases.
    pub body: Option<BodyChunk>,
    /// The filter's own response, once `kong.response.exit` ran (or a 500 replaced it).
    pub exit: Option<LocalResponse>,
    /// Response header changes from `rewrite`/`access`, in call order.
    pub response_header_ops: Vec<HeaderOp>,
    /// The whole request body, when the filter buffered it before `rewrite`/`access`
    /// (a chunk of the phase reads or replaces it); `None` when not buffered.
    pub request_body: Option<Vec<u8>>,
    /// The host holds the request body but cannot hand it over: nginx wrote it to a temp
    /// file (larger than `client_body_buffer_size`; ngx_wasm_module answers `NotFound`).
    /// Its size in bytes, as the body callback gave it; `request_body` is then `None`, and
    /// the body functions answer as Kong does for a body in a file ("request body did not
    /// fit into client body buffer ...").
    pub request_body_in_file: Option<usize>,
    /// Lua replaced the request body (`kong.service.request.set_raw_body`/`set_body`,
    /// `ngx.req.set_body_data`): the glue sends `request_body` upstream with a
    /// matching `Content-Length`.
    pub request_body_changed: bool,
    /// The client's `:path` before `ngx.req.set_uri`/`set_uri_args`/`ngx.var.args = ...`
    /// first rewrote it (Kong's `request_uri`); `None` while unchanged.
    pub original_path: Option<Vec<u8>>,
    /// `kong.service.request.enable_buffering()` ran: the glue buffers the whole
    /// upstream response before `header_filter`.
    pub buffer_response: bool,
    /// The whole upstream response body, when buffered (`kong.service.response.get_raw_body`,
    /// `kong.response.get_raw_body`).
    pub response_body: Option<Vec<u8>>,
    /// Lua replaced the buffered response body (`kong.response.set_raw_body`).
    pub response_body_changed: bool,
    /// Chunks `kong.response.get_raw_body` collected in `body_filter` before the last one.
    pub response_body_buffer: Option<Vec<u8>>,
    /// A status set before a response exists (`ngx.status = n`, `kong.response.set_status`
    /// in `rewrite`/`access`): used by `ngx.exit`/`ngx.say` and Kong's exit rules.
    pub status: Option<u16>,
    /// Output of `ngx.say`/`ngx.print` before the response exists, sent by `ngx.exit` or
    /// at the end of the phase (as lua-nginx-module's content output).
    pub output: Vec<u8>,
    /// `ngx.send_headers()`/`ngx.flush()` ran in `rewrite`/`access`: nginx sent the
    /// response headers then, so `ngx.headers_sent` is true and the printed output (even
    /// none) is the response, as after `ngx.say`.
    pub output_started: bool,
    /// Milliseconds since the Unix epoch when the request arrived
    /// (`kong.request.get_start_time`).
    pub start_time_ms: u64,
    /// When `rewrite`/`access` ended and the request went upstream (ms since the epoch);
    /// kept only when a chunk uses `ngx.ctx` (Kong's `KONG_ACCESS_ENDED_AT`).
    pub access_ended_ms: Option<u64>,
    /// When the upstream's response headers arrived (ms since the epoch); kept only when a
    /// chunk uses `ngx.ctx`.
    pub response_started_ms: Option<u64>,
    /// The upstream's response status, as its headers came (nginx's `$upstream_status`);
    /// kept when `response_started_ms` is.
    pub upstream_status: Option<u16>,
    /// Per-request Lua tables by name (`kong.ctx.shared`, `kong.ctx.plugin`, `ngx.ctx`),
    /// created on first use and dropped with the request.
    pub lua_tables: Vec<(&'static str, piccolo::StashedTable)>,
    /// The header names the upstream's response came with (lowercase), noted before the
    /// filter's own response header changes land on it, when a chunk names
    /// `service.response` (`kong.service.response.get_header(s)` answers only for these,
    /// as Kong does); `None` otherwise.
    pub upstream_header_names: Option<Vec<String>>,
    /// Values set with `kong.log.set_serialize_value`, in call order (applied in that
    /// order by `kong.log.serialize`).
    pub serialize_values: Vec<SerializeValue>,
    /// The frame in `ws_client_frame`/`ws_upstream_frame`; `None` in the other phases.
    pub ws_frame: Option<WsFrame>,
    /// Maximum message payloads set in `ws_handshake` (`set_max_payload_size`) for
    /// client and upstream frames; `None` keeps the default.
    pub ws_max_payload: [Option<usize>; 2],
    /// What this request changed that the host cannot be asked back (dropped headers,
    /// the new path), swapped into the [`HostView`](crate::stream::HostView) per phase.
    pub view: crate::stream::RequestView,
    /// Outbound calls (`resty.http`) this request made so far.
    pub calls_made: usize,
    /// Milliseconds this request waited on outbound calls so far.
    pub call_wait_ms: u64,
    /// What the request waits on while a chunk is suspended (set by the native that
    /// suspends it, taken by the runtime).
    pub wait: Option<crate::pdk::callout::Wait>,
}

impl RequestState {
    /// Applies the pending response header changes to a local response.
    pub fn apply_header_ops(&self, response: &mut LocalResponse) {
        for op in &self.response_header_ops {
            match op {
                HeaderOp::Set(name, value) => response.set_header(name, value.as_deref()),
                HeaderOp::Add(name, value) => response.add_header(name, value),
            }
        }
    }
}
