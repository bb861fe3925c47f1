//! Every host call the filter makes, on the raw proxy-wasm ABI 0.2.1 imports.
//!
//! The Rust SDK 0.2.5 wrappers (`proxy_wasm::hostcalls`) `panic!` on any status outside
//! a short list, and hosts do answer others: Kong's engine answers `BadArgument` for a
//! read-only property or a header map outside its callback, `NotFound` for a body
//! buffered to a temp file; Envoy `NotFound` for an unknown property on set. A panic is
//! a trap, and a trap kills every request the instance serves, so every call is made
//! here and every status other than `Ok` reads as "absent" or "refused".

use std::ptr::{null, null_mut};

/// `Ok` in proxy-wasm ABI 0.2.1.
const STATUS_OK: u32 = 0;
/// `CasMismatch` in proxy-wasm ABI 0.2.1.
const STATUS_CAS_MISMATCH: u32 = 8;

/// Header maps (`MapType` in proxy-wasm ABI 0.2.1).
#[derive(Debug, Clone, Copy)]
pub enum Map {
    /// `HttpRequestHeaders` (0).
    RequestHeaders = 0,
    /// `HttpResponseHeaders` (2).
    ResponseHeaders = 2,
    /// `HttpCallResponseHeaders` (6): the answer of an outbound call, inside
    /// `proxy_on_http_call_response`.
    CallResponseHeaders = 6,
}

/// Buffers (`BufferType` in proxy-wasm ABI 0.2.1).
#[derive(Debug, Clone, Copy)]
pub enum Buffer {
    /// `HttpRequestBody` (0).
    RequestBody = 0,
    /// `HttpResponseBody` (1).
    ResponseBody = 1,
    /// `HttpCallResponseBody` (4): the answer of an outbound call.
    CallResponseBody = 4,
    /// `VmConfiguration` (6).
    VmConfiguration = 6,
    /// `PluginConfiguration` (7).
    PluginConfiguration = 7,
}

#[allow(clashing_extern_declarations)]
#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
    fn proxy_get_current_time_nanoseconds(return_time: *mut u64) -> u32;
    fn proxy_get_property(path_data: *const u8, path_size: usize, return_data: *mut *mut u8, return_size: *mut usize) -> u32;
    fn proxy_set_property(path_data: *const u8, path_size: usize, value_data: *const u8, value_size: usize) -> u32;
    fn proxy_get_shared_data(
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
        return_cas: *mut u32,
    ) -> u32;
    fn proxy_set_shared_data(key_data: *const u8, key_size: usize, value_data: *const u8, value_size: usize, cas: u32) -> u32;
    fn proxy_get_header_map_pairs(map_type: u32, return_map_data: *mut *mut u8, return_map_size: *mut usize) -> u32;
    fn proxy_get_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    fn proxy_replace_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_add_header_map_value(map_type: u32, key_data: *const u8, key_size: usize, value_data: *const u8, value_size: usize) -> u32;
    fn proxy_remove_header_map_value(map_type: u32, key_data: *const u8, key_size: usize) -> u32;
    fn proxy_get_buffer_bytes(
        buffer_type: u32,
        start: usize,
        max_size: usize,
        return_buffer_data: *mut *mut u8,
        return_buffer_size: *mut usize,
    ) -> u32;
    fn proxy_set_buffer_bytes(buffer_type: u32, start: usize, size: usize, buffer_data: *const u8, buffer_size: usize) -> u32;
    fn proxy_continue_stream(stream_type: u32) -> u32;
    fn proxy_set_effective_context(context_id: u32) -> u32;
    fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
    #[allow(clippy::too_many_arguments)]
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        additional_headers_map_data: *const u8,
        additional_headers_size: usize,
        grpc_status: i32,
    ) -> u32;
}

/// A property path as hosts read it: segments separated by NUL bytes (no trailing NUL,
/// as the SDK sends it).
fn serialize_path(path: &[&str]) -> Vec<u8> {
    path.join("\0").into_bytes()
}

/// Takes ownership of a buffer the host allocated through `proxy_on_memory_allocate`.
///
/// # Safety
/// `data`/`size` must come from a successful host call that returned memory allocated by
/// this module's allocator (the SDK's `proxy_on_memory_allocate`).
unsafe fn take_buffer(data: *mut u8, size: usize) -> Option<Vec<u8>> {
    if data.is_null() {
        // Hosts answer an empty value with a null pointer.
        Some(Vec::new())
    } else {
        Some(Vec::from_raw_parts(data, size, size))
    }
}

/// `proxy_log`; a refusal is dropped (there is nowhere else to report it).
pub fn log(level: u32, message: &str) {
    // SAFETY: the pointer is valid for the duration of the call.
    unsafe {
        proxy_log(level, message.as_ptr(), message.len());
    }
}

/// `proxy_get_current_time_nanoseconds`; 0 when refused.
pub fn now_nanos() -> u64 {
    let mut time: u64 = 0;
    // SAFETY: `time` is valid for the call.
    match unsafe { proxy_get_current_time_nanoseconds(&mut time) } {
        STATUS_OK => time,
        _ => 0,
    }
}

/// `proxy_get_property`: the value, or `None` for any status but `Ok`.
pub fn get_property(path: &[&str]) -> Option<Vec<u8>> {
    let path = serialize_path(path);
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    // SAFETY: the pointers are valid for the call; on Ok the host hands us a buffer from
    // our allocator.
    unsafe {
        match proxy_get_property(path.as_ptr(), path.len(), &mut data, &mut size) {
            STATUS_OK => take_buffer(data, size),
            _ => None,
        }
    }
}

/// `proxy_set_property`: whether the host accepted it.
pub fn set_property(path: &[&str], value: Option<&[u8]>) -> bool {
    let path = serialize_path(path);
    // SAFETY: the pointers are valid for the duration of the call.
    unsafe {
        proxy_set_property(
            path.as_ptr(),
            path.len(),
            value.map_or(null(), <[u8]>::as_ptr),
            value.map_or(0, <[u8]>::len),
        ) == STATUS_OK
    }
}

/// `proxy_get_shared_data`: value and CAS token; `(None, 0)` when absent or refused.
pub fn get_shared_data(key: &str) -> (Option<Vec<u8>>, u32) {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    let mut cas: u32 = 0;
    // SAFETY: as in `get_property`.
    unsafe {
        match proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut size, &mut cas) {
            STATUS_OK => (take_buffer(data, size), cas),
            _ => (None, 0),
        }
    }
}

/// `proxy_set_shared_data`. `Err(true)` on a CAS mismatch, `Err(false)` on any other refusal.
pub fn set_shared_data(key: &str, value: Option<&[u8]>, cas: u32) -> Result<(), bool> {
    // SAFETY: the pointers are valid for the duration of the call.
    let status = unsafe {
        proxy_set_shared_data(
            key.as_ptr(),
            key.len(),
            value.map_or(null(), <[u8]>::as_ptr),
            value.map_or(0, <[u8]>::len),
            cas,
        )
    };
    match status {
        STATUS_OK => Ok(()),
        STATUS_CAS_MISMATCH => Err(true),
        _ => Err(false),
    }
}

/// `proxy_get_header_map_value`: the first value of `name`, `None` when absent or refused.
pub fn header(map: Map, name: &str) -> Option<Vec<u8>> {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    // SAFETY: as in `get_property`.
    unsafe {
        match proxy_get_header_map_value(map as u32, name.as_ptr(), name.len(), &mut data, &mut size) {
            STATUS_OK => take_buffer(data, size),
            _ => None,
        }
    }
}

/// `proxy_get_header_map_pairs`: every pair in order; empty when refused or malformed.
pub fn header_pairs(map: Map) -> Vec<(String, Vec<u8>)> {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    // SAFETY: as in `get_property`.
    let bytes = unsafe {
        match proxy_get_header_map_pairs(map as u32, &mut data, &mut size) {
            STATUS_OK => take_buffer(data, size),
            _ => None,
        }
    };
    bytes.map(|b| deserialize_pairs(&b)).unwrap_or_default()
}

/// `proxy_replace_header_map_value` (with a value) or `proxy_remove_header_map_value`.
pub fn set_header(map: Map, name: &str, value: Option<&[u8]>) -> bool {
    // SAFETY: the pointers are valid for the duration of the call.
    let status = unsafe {
        match value {
            Some(v) => proxy_replace_header_map_value(map as u32, name.as_ptr(), name.len(), v.as_ptr(), v.len()),
            None => proxy_remove_header_map_value(map as u32, name.as_ptr(), name.len()),
        }
    };
    status == STATUS_OK
}

/// `proxy_add_header_map_value`.
pub fn add_header(map: Map, name: &str, value: &[u8]) -> bool {
    // SAFETY: the pointers are valid for the duration of the call.
    unsafe { proxy_add_header_map_value(map as u32, name.as_ptr(), name.len(), value.as_ptr(), value.len()) == STATUS_OK }
}

/// `proxy_get_buffer_bytes(buffer, 0, size)`: `None` when the host refused (or has no
/// such buffer now).
pub fn buffer(buffer: Buffer, size: usize) -> Option<Vec<u8>> {
    let mut data: *mut u8 = null_mut();
    let mut len: usize = 0;
    // SAFETY: as in `get_property`.
    unsafe {
        match proxy_get_buffer_bytes(buffer as u32, 0, size, &mut data, &mut len) {
            STATUS_OK => take_buffer(data, len),
            _ => None,
        }
    }
}

/// `proxy_set_buffer_bytes(buffer, 0, replace, data)`.
pub fn set_buffer(buffer: Buffer, replace: usize, data: &[u8]) -> bool {
    // SAFETY: the pointers are valid for the duration of the call.
    unsafe { proxy_set_buffer_bytes(buffer as u32, 0, replace, data.as_ptr(), data.len()) == STATUS_OK }
}

/// `proxy_continue_stream(HttpRequest)` (stream type 0): resumes a paused request.
pub fn continue_request() -> bool {
    // SAFETY: no pointers.
    unsafe { proxy_continue_stream(0) == STATUS_OK }
}

/// `proxy_set_effective_context`: later host calls refer to context `id`.
pub fn set_effective_context(id: u32) -> bool {
    // SAFETY: no pointers.
    unsafe { proxy_set_effective_context(id) == STATUS_OK }
}

/// `proxy_set_tick_period_milliseconds` (from a root context only).
pub fn set_tick_period(ms: u32) -> bool {
    // SAFETY: no pointers.
    unsafe { proxy_set_tick_period_milliseconds(ms) == STATUS_OK }
}

/// `proxy_http_call` through the SDK (`proxy_wasm::hostcalls::dispatch_http_call`),
/// which records the token against the context running now, so that its dispatcher
/// hands `proxy_on_http_call_response` (which Envoy calls on the root context) to that
/// context, the effective context set to it. The SDK takes header values as text: a
/// value that is not UTF-8 is sent lossily. The SDK panics on a status other than `Ok`,
/// `BadArgument` and `InternalFailure`; no host answers another (proxy-wasm-cpp-host
/// `exports.cc` `http_call`, ngx_wasm_module `ngx_http_proxy_wasm_dispatch.c`).
pub fn dispatch_http_call(upstream: &str, headers: &[(String, Vec<u8>)], body: &[u8], timeout_ms: u32) -> Result<u32, bool> {
    let values: Vec<std::borrow::Cow<'_, str>> = headers.iter().map(|(_, v)| String::from_utf8_lossy(v)).collect();
    let pairs: Vec<(&str, &str)> = headers.iter().zip(&values).map(|((n, _), v)| (n.as_str(), v.as_ref())).collect();
    let body = if body.is_empty() { None } else { Some(body) };
    let timeout = std::time::Duration::from_millis(u64::from(timeout_ms));
    proxy_wasm::hostcalls::dispatch_http_call(upstream, pairs, body, Vec::new(), timeout)
        .map_err(|status| status == proxy_wasm::types::Status::BadArgument)
}

/// `proxy_send_local_response` with no gRPC status (-1) and no details.
pub fn send_local_response(status: u16, headers: &[(String, Vec<u8>)], body: &[u8]) -> bool {
    let map = serialize_pairs(headers);
    // SAFETY: the pointers are valid for the duration of the call.
    unsafe {
        proxy_send_local_response(u32::from(status), null(), 0, body.as_ptr(), body.len(), map.as_ptr(), map.len(), -1)
            == STATUS_OK
    }
}

/// The ABI's header map encoding: a u32 count, then each pair's key and value lengths
/// (u32 each), then each key and value followed by a NUL (all little-endian).
pub fn serialize_pairs(pairs: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (name, value) in pairs {
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    }
    for (name, value) in pairs {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value);
        out.push(0);
    }
    out
}

/// Decodes [`serialize_pairs`]' format; a truncated map yields the pairs before the cut.
/// Names that are not UTF-8 are decoded lossily (the PDK matches names as text).
pub fn deserialize_pairs(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let word = |at: usize| bytes.get(at..at + 4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as usize);
    let Some(count) = word(0) else { return Vec::new() };
    let mut sizes = Vec::new();
    for i in 0..count {
        match (word(4 + i * 8), word(8 + i * 8)) {
            (Some(k), Some(v)) => sizes.push((k, v)),
            _ => return Vec::new(),
        }
    }
    let mut at = 4 + count * 8;
    let mut pairs = Vec::with_capacity(count);
    for (k, v) in sizes {
        let (Some(name), Some(value)) = (bytes.get(at..at + k), bytes.get(at + k + 1..at + k + 1 + v)) else {
            break;
        };
        let name = match std::str::from_utf8(name) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(name).into_owned(),
        };
        pairs.push((name, value.to_vec()));
        at += k + v + 2;
    }
    pairs
}
