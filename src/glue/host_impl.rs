//! [`Host`] on proxy-wasm ABI 0.2.1 host calls.
//!
//! Uses the `_bytes` host calls only: header values need not be UTF-8, and the SDK's
//! string variants would panic (trap) on one that is not. Host statuses other than the
//! documented ones are treated as "absent" rather than trapping.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{LogLevel as WasmLevel, MapType};

use super::abi;
use crate::host::{Host, LogLevel, SharedDataError};

/// The proxy-wasm host: stateless, as every call refers to the stream whose callback runs.
pub struct ProxyWasmHost;

impl ProxyWasmHost {
    fn get(map: MapType, name: &str) -> Option<Vec<u8>> {
        hostcalls::get_map_value_bytes(map, name).ok().flatten()
    }

    fn pairs(map: MapType) -> Vec<(String, Vec<u8>)> {
        hostcalls::get_map_bytes(map).unwrap_or_default()
    }

    fn set(map: MapType, name: &str, value: Option<&[u8]>) {
        let _ = hostcalls::set_map_value_bytes(map, name, value);
    }

    fn add(map: MapType, name: &str, value: &[u8]) {
        let _ = hostcalls::add_map_value_bytes(map, name, value);
    }
}

impl Host for ProxyWasmHost {
    fn request_header(&self, name: &str) -> Option<Vec<u8>> {
        Self::get(MapType::HttpRequestHeaders, name)
    }
    fn request_headers(&self) -> Vec<(String, Vec<u8>)> {
        Self::pairs(MapType::HttpRequestHeaders)
    }
    fn set_request_header(&self, name: &str, value: Option<&[u8]>) {
        Self::set(MapType::HttpRequestHeaders, name, value)
    }
    fn add_request_header(&self, name: &str, value: &[u8]) {
        Self::add(MapType::HttpRequestHeaders, name, value)
    }
    fn response_header(&self, name: &str) -> Option<Vec<u8>> {
        Self::get(MapType::HttpResponseHeaders, name)
    }
    fn response_headers(&self) -> Vec<(String, Vec<u8>)> {
        Self::pairs(MapType::HttpResponseHeaders)
    }
    fn set_response_header(&self, name: &str, value: Option<&[u8]>) {
        Self::set(MapType::HttpResponseHeaders, name, value)
    }
    fn add_response_header(&self, name: &str, value: &[u8]) {
        Self::add(MapType::HttpResponseHeaders, name, value)
    }
    fn log(&self, level: LogLevel, message: &str) {
        let level = match level {
            LogLevel::Trace => WasmLevel::Trace,
            LogLevel::Debug => WasmLevel::Debug,
            LogLevel::Info => WasmLevel::Info,
            LogLevel::Warn => WasmLevel::Warn,
            LogLevel::Error => WasmLevel::Error,
            LogLevel::Critical => WasmLevel::Critical,
        };
        let _ = hostcalls::log(level, message);
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
        hostcalls::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    }
}
