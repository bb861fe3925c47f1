//! The seam between the Lua runtime and the proxy: what the PDK needs from a host, nothing more.
//!
//! The proxy-wasm glue (`crate::glue`) implements [`Host`] with proxy-wasm ABI 0.2.1 host
//! calls; unit tests implement it with plain maps. Everything above this trait (config,
//! runtime, PDK) is plain Rust and never imports `proxy_wasm`.

/// Log levels as the proxy-wasm ABI 0.2.1 numbers them (`proxy_log`'s `level` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// 0: `trace`.
    Trace,
    /// 1: `debug`; Kong's `kong.log.debug`, nginx `ngx.DEBUG`.
    Debug,
    /// 2: `info`; Kong's `info` and `notice`.
    Info,
    /// 3: `warn`.
    Warn,
    /// 4: `error`; Kong's `kong.log.err`, nginx `ngx.ERR`.
    Error,
    /// 5: `critical`; Kong's `crit`, `alert` and `emerg`.
    Critical,
}

/// A proxy as the PDK sees it during one HTTP stream.
///
/// Header names are passed lowercase (HTTP/2 and proxy-wasm convention); values are raw
/// bytes, because HTTP header values need not be UTF-8. Pseudo-headers (`:method`, `:path`,
/// `:authority`, `:scheme`, `:status`) are read through the same calls, as proxy-wasm
/// hosts expose them. All calls refer to the stream whose callback is running: proxy-wasm
/// hosts set the effective context before calling into the filter.
pub trait Host {
    /// The first value of request header `name`, `None` when absent.
    fn request_header(&self, name: &str) -> Option<Vec<u8>>;
    /// [`Host::request_header`] handed to `f` (called exactly once) as a borrowed slice:
    /// hosts that keep the headers in memory override it so a read copies nothing. `f`
    /// must not call the host (it may run while the host's state is borrowed).
    fn with_request_header(&self, name: &str, f: &mut dyn FnMut(Option<&[u8]>)) {
        f(self.request_header(name).as_deref())
    }
    /// Every request header in order, pseudo-headers included.
    fn request_headers(&self) -> Vec<(String, Vec<u8>)>;
    /// Replaces request header `name` (all its values), or removes it when `value` is `None`.
    fn set_request_header(&self, name: &str, value: Option<&[u8]>);
    /// Appends a value to request header `name`, keeping existing values.
    fn add_request_header(&self, name: &str, value: &[u8]);
    /// The first value of upstream response header `name`, `None` when absent.
    fn response_header(&self, name: &str) -> Option<Vec<u8>>;
    /// Every upstream response header in order, `:status` included.
    fn response_headers(&self) -> Vec<(String, Vec<u8>)>;
    /// Replaces response header `name`, or removes it when `value` is `None`.
    fn set_response_header(&self, name: &str, value: Option<&[u8]>);
    /// Appends a value to response header `name`, keeping existing values.
    fn add_response_header(&self, name: &str, value: &[u8]);
    /// Writes one line to the host's log.
    fn log(&self, level: LogLevel, message: &str);
    /// A host property (`proxy_get_property`), its path given as segments, e.g.
    /// `["source", "address"]`; `None` when the host does not have it. See
    /// [`crate::properties`] for which paths each host answers.
    fn property(&self, path: &[&str]) -> Option<Vec<u8>>;
    /// Sets a host property (`proxy_set_property`); `false` when the host refused it.
    fn set_property(&self, path: &[&str], value: Option<&[u8]>) -> bool;
    /// A value of the VM's shared data (`proxy_get_shared_data`) and its CAS token
    /// (0 when absent).
    fn shared_data(&self, key: &str) -> (Option<Vec<u8>>, u32);
    /// Writes shared data (`proxy_set_shared_data`). `cas` 0 writes unconditionally;
    /// otherwise the write fails with [`SharedDataError::CasMismatch`] when another
    /// writer came first.
    fn set_shared_data(&self, key: &str, value: Option<&[u8]>, cas: u32) -> Result<(), SharedDataError>;
    /// Wall-clock time in nanoseconds since the Unix epoch
    /// (`proxy_get_current_time_nanoseconds`).
    fn now_nanos(&self) -> u64;
    /// The first `size` bytes of the request body the host holds now
    /// (`proxy_get_buffer_bytes(HttpRequestBody, 0, size)`, in `proxy_on_request_body`).
    fn request_body(&self, size: usize) -> BodyRead;
    /// Replaces the first `replace` bytes of the held request body with `body`
    /// (`proxy_set_buffer_bytes(HttpRequestBody, 0, replace, body)`); `false` when refused.
    fn set_request_body(&self, replace: usize, body: &[u8]) -> bool;
    /// The first `size` bytes of the response body the host holds now
    /// (`proxy_get_buffer_bytes(HttpResponseBody, 0, size)`, in `proxy_on_response_body`).
    fn response_body(&self, size: usize) -> BodyRead;
    /// Replaces the first `replace` bytes of the held response body with `body`; `false`
    /// when refused.
    fn set_response_body(&self, replace: usize, body: &[u8]) -> bool;
    /// Sends the filter's own response (`proxy_send_local_response`); the host frames the
    /// body (Content-Length) itself. `false` when the host refused it.
    fn send_local_response(&self, status: u16, headers: &[(String, Vec<u8>)], body: &[u8]) -> bool;
    /// Dispatches an outbound HTTP call (`proxy_http_call`): `upstream` is what the host
    /// connects to (Envoy: a cluster name; Kong's engine: `host[:port]`, resolved by its
    /// resolver), `headers` carry `:method`, `:path`, `:authority` (and `:scheme`).
    /// Returns the call's token; its answer comes in `proxy_on_http_call_response`.
    /// The default (hosts without outbound calls, unit-test fakes) refuses every call.
    fn dispatch_http_call(&self, upstream: &str, headers: &[(String, Vec<u8>)], body: &[u8], timeout_ms: u32) -> Result<u32, DispatchError> {
        let _ = (upstream, headers, body, timeout_ms);
        Err(DispatchError::Unsupported)
    }
    /// The answer of the call being delivered, read inside `proxy_on_http_call_response`:
    /// its headers (`proxy_get_header_map_pairs(HttpCallResponseHeaders)`, `:status`
    /// included) and the first `body_size` bytes of its body
    /// (`proxy_get_buffer_bytes(HttpCallResponseBody)`).
    fn http_call_response(&self, body_size: usize) -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
        let _ = body_size;
        (Vec::new(), Vec::new())
    }
    /// Resumes the paused request (`proxy_continue_stream(HttpRequest)`); `false` when
    /// the host refused.
    fn resume_request(&self) -> bool {
        false
    }
}

/// Why `proxy_http_call` refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchError {
    /// `BadArgument`: Envoy's answer for an unknown cluster or a missing `:method`,
    /// `:path` or `:authority` (envoy-host.md "Outbound calls").
    BadArgument,
    /// `InternalFailure` or another refusal.
    Refused,
    /// This host (or test fake) makes no outbound calls.
    Unsupported,
}

/// What reading a body buffer gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRead {
    /// The bytes (possibly empty).
    Bytes(Vec<u8>),
    /// The host holds the body but cannot hand it over (Kong's engine: a body buffered
    /// to a temp file answers `NotFound`), or refused the read.
    Unavailable,
}

/// Why a shared-data write failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedDataError {
    /// The CAS token was stale: someone else wrote the key since it was read.
    CasMismatch,
    /// The host refused the write (out of memory, or no shared data on this host).
    Refused,
}
