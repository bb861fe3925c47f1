//! Host calls whose proxy-wasm SDK wrappers panic (trap) on statuses they do not expect.
//!
//! The Rust SDK's `get_property`, `set_property`, `get_shared_data` and `set_shared_data`
//! `panic!` on any status outside a short list; hosts do answer others (Kong's engine
//! answers `BadArgument` for a read-only property, Envoy `NotFound` for an unknown one
//! on set). A trap kills every request in the host, so these calls are made here against
//! the raw ABI 0.2.1 imports, and every status other than `Ok` reads as "absent/refused".

use std::ptr::{null, null_mut};

/// `Ok` in proxy-wasm ABI 0.2.1.
const STATUS_OK: u32 = 0;
/// `CasMismatch` in proxy-wasm ABI 0.2.1.
const STATUS_CAS_MISMATCH: u32 = 8;

#[allow(clashing_extern_declarations)]
#[link(wasm_import_module = "env")]
extern "C" {
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
        None
    } else {
        Some(Vec::from_raw_parts(data, size, size))
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
