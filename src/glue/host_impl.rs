//! [`Host`] on proxy-wasm ABI 0.2.1 host calls, every one through [`abi`] so that no
//! host status can trap the instance. Header values are bytes: they need not be UTF-8.

use super::abi::{self, Buffer, Map};
use crate::host::{BodyRead, DispatchError, Host, LogLevel, SharedDataError};

/// The proxy-wasm host: stateless, as every call refers to the stream whose callback runs.
pub struct ProxyWasmHost;

impl Host for ProxyWasmHost {
    fn request_header(&self, name: &str) -> Option<Vec<u8>> {
        abi::header(Map::RequestHeaders, name)
    }
    fn request_headers(&self) -> Vec<(String, Vec<u8>)> {
        abi::header_pairs(Map::RequestHeaders)
    }
    fn set_request_header(&self, name: &str, value: Option<&[u8]>) {
        abi::set_header(Map::RequestHeaders, name, value);
    }
    fn add_request_header(&self, name: &str, value: &[u8]) {
        abi::add_header(Map::RequestHeaders, name, value);
    }
    fn response_header(&self, name: &str) -> Option<Vec<u8>> {
        abi::header(Map::ResponseHeaders, name)
    }
    fn response_headers(&self) -> Vec<(String, Vec<u8>)> {
        abi::header_pairs(Map::ResponseHeaders)
    }
    fn set_response_header(&self, name: &str, value: Option<&[u8]>) {
        abi::set_header(Map::ResponseHeaders, name, value);
    }
    fn add_response_header(&self, name: &str, value: &[u8]) {
        abi::add_header(Map::ResponseHeaders, name, value);
    }
    fn log(&self, level: LogLevel, message: &str) {
        // proxy-wasm ABI 0.2.1 log levels: trace 0 ... critical 5.
        let level = match level {
            LogLevel::Trace => 0,
            LogLevel::Debug => 1,
            LogLevel::Info => 2,
            LogLevel::Warn => 3,
            LogLevel::Error => 4,
            LogLevel::Critical => 5,
        };
        abi::log(level, message);
    }
    fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        abi::get_property(path)
    }
    fn set_property(&self, path: &[&str], value: Option<&[u8]>) -> bool {
        abi::set_property(path, value)
    }
    fn shared_data(&self, key: &str) -> (Option<Vec<u8>>, u32) {
        abi::get_shared_data(key)
    }
    fn set_shared_data(&self, key: &str, value: Option<&[u8]>, cas: u32) -> Result<(), SharedDataError> {
        abi::set_shared_data(key, value, cas).map_err(|cas_mismatch| {
            if cas_mismatch {
                SharedDataError::CasMismatch
            } else {
                SharedDataError::Refused
            }
        })
    }
    fn now_nanos(&self) -> u64 {
        abi::now_nanos()
    }
    fn request_body(&self, size: usize) -> BodyRead {
        abi::buffer(Buffer::RequestBody, size).map_or(BodyRead::Unavailable, BodyRead::Bytes)
    }
    fn set_request_body(&self, replace: usize, body: &[u8]) -> bool {
        abi::set_buffer(Buffer::RequestBody, replace, body)
    }
    fn response_body(&self, size: usize) -> BodyRead {
        abi::buffer(Buffer::ResponseBody, size).map_or(BodyRead::Unavailable, BodyRead::Bytes)
    }
    fn set_response_body(&self, replace: usize, body: &[u8]) -> bool {
        abi::set_buffer(Buffer::ResponseBody, replace, body)
    }
    fn send_local_response(&self, status: u16, headers: &[(String, Vec<u8>)], body: &[u8]) -> bool {
        abi::send_local_response(status, headers, body)
    }
    fn dispatch_http_call(&self, upstream: &str, headers: &[(String, Vec<u8>)], body: &[u8], timeout_ms: u32) -> Result<u32, DispatchError> {
        abi::dispatch_http_call(upstream, headers, body, timeout_ms)
            .map_err(|bad_argument| if bad_argument { DispatchError::BadArgument } else { DispatchError::Refused })
    }
    fn http_call_response(&self, body_size: usize) -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
        let headers = abi::header_pairs(Map::CallResponseHeaders);
        let body = if body_size == 0 { Vec::new() } else { abi::buffer(Buffer::CallResponseBody, body_size).unwrap_or_default() };
        (headers, body)
    }
    fn resume_request(&self) -> bool {
        abi::continue_request()
    }
}
