//! [`Host`] on proxy-wasm ABI 0.2.1 host calls.
//!
//! Uses the `_bytes` host calls only: header values need not be UTF-8, and the SDK's
//! string variants would panic (trap) on one that is not. Host statuses other than the
//! documented ones are treated as "absent" rather than trapping.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{LogLevel as WasmLevel, MapType};

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
        hostcalls::get_property(path.to_vec()).ok().flatten()
    }
    fn set_property(&self, path: &[&str], value: Option<&[u8]>) -> bool {
        // The SDK's `hostcalls::set_property` panics (traps) on any status but Ok, and
        // hosts refuse properties they do not know (`Unimplemented`, `NotFound`): call
        // the import directly. Path serialization as the SDK's: segments NUL-separated.
        #[link(wasm_import_module = "env")]
        extern "C" {
            fn proxy_set_property(path_data: *const u8, path_size: usize, value_data: *const u8, value_size: usize) -> u32;
        }
        let serialized = path.join("\0");
        let (data, size) = value.map_or((std::ptr::null(), 0), |v| (v.as_ptr(), v.len()));
        // SAFETY: pointers and sizes describe live buffers for the duration of the call.
        unsafe { proxy_set_property(serialized.as_ptr(), serialized.len(), data, size) == 0 }
    }
    fn shared_data(&self, key: &str) -> (Option<Vec<u8>>, u32) {
        match hostcalls::get_shared_data(key) {
            Ok((value, cas)) => (value, cas.unwrap_or(0)),
            Err(_) => (None, 0),
        }
    }
    fn set_shared_data(&self, key: &str, value: Option<&[u8]>, cas: u32) -> Result<(), SharedDataError> {
        let cas = if cas == 0 { None } else { Some(cas) };
        match hostcalls::set_shared_data(key, value, cas) {
            Ok(()) => Ok(()),
            Err(proxy_wasm::types::Status::CasMismatch) => Err(SharedDataError::CasMismatch),
            Err(_) => Err(SharedDataError::Refused),
        }
    }
    fn now_nanos(&self) -> u64 {
        hostcalls::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    }
}
