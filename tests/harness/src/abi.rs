//! The proxy-wasm ABI 0.2.1 host functions, registered on a wasmtime `Linker`, and the
//! guest-memory helpers they need (strings, header-map encoding, returned buffers).
//!
//! Returned data is written into memory the guest allocates through its exported
//! `proxy_on_memory_allocate`, as the ABI specifies. Statuses are the ABI's `WasmResult`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use wasmtime::error::Context as _;
use wasmtime::{bail, format_err as anyhow, Result};
use wasmtime::{Caller, Extern, Linker, Memory};
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::dispatch::{CallResponse, HttpCall};
use crate::props::{self, SetRule};
use crate::spec::{HostProfile, LogEntry};

/// ABI `WasmResult` values.
pub mod status {
    pub const OK: i32 = 0;
    pub const NOT_FOUND: i32 = 1;
    pub const BAD_ARGUMENT: i32 = 2;
    pub const EMPTY: i32 = 7;
    pub const CAS_MISMATCH: i32 = 8;
    pub const UNIMPLEMENTED: i32 = 12;
}

/// Header maps as a stream has them: `(lowercase name, value)` in order.
pub type HeaderMap = Vec<(String, Vec<u8>)>;

/// The HTTP exchange the chain is driving; shared by every filter of the chain.
#[derive(Debug, Default)]
pub struct StreamData {
    pub request_headers: HeaderMap,
    pub request_body: Vec<u8>,
    pub request_trailers: HeaderMap,
    pub response_headers: HeaderMap,
    /// The response body chunk being delivered to `proxy_on_response_body`.
    pub response_body: Vec<u8>,
    pub response_trailers: HeaderMap,
    /// Values filters stored with `proxy_set_property` during this stream (Envoy's
    /// filter state, Kong's `kong.ctx.shared.*`), by dotted path; every filter sees them.
    pub filter_state: std::collections::BTreeMap<String, Vec<u8>>,
    /// When the request arrived, in nanoseconds since the epoch (`request.time`).
    pub request_time_ns: u64,
    /// The response status once the response started (`response.code`).
    pub response_code: Option<u16>,
    /// Whether the upstream answered (Kong's `kong.response.source` = `service`).
    pub upstream_answered: bool,
}

/// A response a filter produced with `proxy_send_local_response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// State shared by every filter of a chain: the stream, the log, shared data.
#[derive(Clone, Default)]
pub struct Shared {
    pub stream: Arc<Mutex<StreamData>>,
    pub logs: Arc<Mutex<Vec<LogEntry>>>,
    pub shared_data: Arc<Mutex<HashMap<String, (Vec<u8>, u32)>>>,
    /// Host properties by dotted path, from the chain file.
    pub properties: Arc<std::collections::BTreeMap<String, String>>,
    /// The host the chain imitates.
    pub profile: HostProfile,
    /// Properties set from root contexts (e.g. Kong's `wasmx.*` in `on_configure`).
    pub root_properties: Arc<Mutex<std::collections::BTreeMap<String, Vec<u8>>>>,
    /// Metrics of every filter, by id: `(name, kind, value)`; ids are indexes. Envoy
    /// keeps stats per host, so a name defined twice yields the same id.
    pub metrics: Arc<Mutex<Vec<(String, i32, i64)>>>,
    /// The level `proxy_get_log_level` answers (0 trace ... 5 critical).
    pub log_level: i32,
}

/// The callback a filter instance is running, for rules that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Callback {
    /// A root-context callback (start, configure, tick, done...).
    #[default]
    Root,
    /// `proxy_on_request_headers`.
    RequestHeaders,
    /// `proxy_on_request_body`.
    RequestBody,
    /// `proxy_on_response_headers`.
    ResponseHeaders,
    /// `proxy_on_response_body`.
    ResponseBody,
    /// `proxy_on_http_call_response`.
    HttpCallResponse,
    /// `proxy_on_log` and the end of the stream.
    Log,
}

/// The root context id every filter instance uses.
pub const ROOT_CONTEXT_ID: i32 = 1;

/// One filter instance's store data.
pub struct HostState {
    pub wasi: WasiP1Ctx,
    /// The filter's name (its `plugin_root_id` and `plugin_name` properties).
    pub filter_name: String,
    pub vm_config: Vec<u8>,
    pub plugin_config: Vec<u8>,
    pub shared: Shared,
    /// Set by `proxy_send_local_response` during the current callback.
    pub local_reply: Option<LocalReply>,
    /// Set by `proxy_continue_stream` during the current callback (from a stream
    /// context, or a root context after `proxy_set_effective_context` on a stream).
    pub continued: bool,
    /// Period set with `proxy_set_tick_period_milliseconds` (0: no ticks).
    pub tick_period_ms: u32,
    /// The context the current callback runs for (`proxy_set_effective_context` changes it).
    pub context_id: i32,
    /// The callback being run.
    pub callback: Callback,
    /// Calls dispatched with `proxy_http_call`, not performed yet.
    pub pending_calls: std::collections::VecDeque<HttpCall>,
    /// The last token handed out by `proxy_http_call`.
    pub last_token: u32,
    /// The response `proxy_on_http_call_response` is reading (map types 6/7, buffer 4).
    pub call_response: Option<CallResponse>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// proxy-wasm log level names by number.
pub fn level_name(level: i32) -> &'static str {
    match level {
        0 => "trace",
        1 => "debug",
        2 => "info",
        3 => "warn",
        4 => "error",
        _ => "critical",
    }
}

fn memory(caller: &mut Caller<'_, HostState>) -> Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => bail!("module exports no memory"),
    }
}

fn read(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> Result<Vec<u8>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let mem = memory(caller)?;
    let mut buf = vec![0u8; len as u32 as usize];
    mem.read(&*caller, ptr as u32 as usize, &mut buf).map_err(|e| anyhow!("bad guest pointer: {e}"))?;
    Ok(buf)
}

fn read_string(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> Result<String> {
    Ok(String::from_utf8_lossy(&read(caller, ptr, len)?).into_owned())
}

fn write_u32(caller: &mut Caller<'_, HostState>, ptr: i32, value: u32) -> Result<()> {
    let mem = memory(caller)?;
    mem.write(&mut *caller, ptr as u32 as usize, &value.to_le_bytes()).map_err(|e| anyhow!("bad guest pointer: {e}"))
}

fn write_u64(caller: &mut Caller<'_, HostState>, ptr: i32, value: u64) -> Result<()> {
    let mem = memory(caller)?;
    mem.write(&mut *caller, ptr as u32 as usize, &value.to_le_bytes()).map_err(|e| anyhow!("bad guest pointer: {e}"))
}

/// Copies `data` into guest memory from `proxy_on_memory_allocate` and stores its
/// address and size at `ret_ptr`/`ret_size`.
fn return_bytes(caller: &mut Caller<'_, HostState>, data: &[u8], ret_ptr: i32, ret_size: i32) -> Result<i32> {
    let alloc = caller
        .get_export("proxy_on_memory_allocate")
        .and_then(Extern::into_func)
        .context("module exports no proxy_on_memory_allocate")?
        .typed::<i32, i32>(&*caller)?;
    let addr = alloc.call(&mut *caller, data.len() as i32)?;
    if addr == 0 && !data.is_empty() {
        bail!("proxy_on_memory_allocate({}) returned null", data.len());
    }
    let mem = memory(caller)?;
    mem.write(&mut *caller, addr as u32 as usize, data).map_err(|e| anyhow!("bad guest pointer: {e}"))?;
    write_u32(caller, ret_ptr, addr as u32)?;
    write_u32(caller, ret_size, data.len() as u32)?;
    Ok(status::OK)
}

/// The ABI's header map encoding: count, then (name size, value size) pairs, then each
/// name and value followed by a NUL.
pub fn serialize_map(map: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(map.len() as u32).to_le_bytes());
    for (name, value) in map {
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    }
    for (name, value) in map {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value);
        out.push(0);
    }
    out
}

/// Decodes [`serialize_map`]'s format; names are lowercased.
pub fn deserialize_map(bytes: &[u8]) -> Result<HeaderMap> {
    let u32_at = |i: usize| -> Result<usize> {
        let b = bytes.get(i..i + 4).context("truncated header map")?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let count = u32_at(0)?;
    let mut sizes = Vec::with_capacity(count.min(1024));
    for i in 0..count {
        sizes.push((u32_at(4 + i * 8)?, u32_at(8 + i * 8)?));
    }
    let mut pos = 4 + count * 8;
    let mut map = Vec::with_capacity(sizes.len());
    for (name_len, value_len) in sizes {
        let name = bytes.get(pos..pos + name_len).context("truncated header map")?;
        pos += name_len + 1;
        let value = bytes.get(pos..pos + value_len).context("truncated header map")?;
        pos += value_len + 1;
        map.push((String::from_utf8_lossy(name).to_ascii_lowercase(), value.to_vec()));
    }
    Ok(map)
}

/// Which header map a `MapType` names, in the shared stream.
fn with_map<R>(state: &mut HostState, map_type: i32, f: impl FnOnce(&mut HeaderMap) -> R) -> Option<R> {
    if map_type == 6 || map_type == 7 {
        let response = state.call_response.as_mut()?;
        return Some(f(if map_type == 6 { &mut response.headers } else { &mut response.trailers }));
    }
    let shared = state.shared.clone();
    let mut stream = lock(&shared.stream);
    let map = match map_type {
        0 => &mut stream.request_headers,
        1 => &mut stream.request_trailers,
        2 => &mut stream.response_headers,
        3 => &mut stream.response_trailers,
        _ => return None,
    };
    Some(f(map))
}

/// Envoy's `setBuffer` rule: `start == 0 && size == 0` prepends, a range covering the
/// buffer replaces it, `start >= len` appends, anything else splices.
fn splice(buffer: &mut Vec<u8>, start: usize, size: usize, data: &[u8]) {
    if start == 0 && size == 0 {
        buffer.splice(0..0, data.iter().copied());
    } else if start >= buffer.len() {
        buffer.extend_from_slice(data);
    } else {
        let end = start.saturating_add(size).min(buffer.len());
        buffer.splice(start..end, data.iter().copied());
    }
}

/// Registers every proxy-wasm ABI 0.2.1 host function on `linker` (module `env`).
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap("env", "proxy_log", |mut c: Caller<'_, HostState>, level: i32, ptr: i32, len: i32| -> Result<i32> {
        let message = read_string(&mut c, ptr, len)?;
        let entry = LogEntry { filter: c.data().filter_name.clone(), level: level_name(level).into(), message };
        lock(&c.data().shared.logs).push(entry);
        Ok(status::OK)
    })?;
    linker.func_wrap("env", "proxy_get_log_level", |mut c: Caller<'_, HostState>, ret: i32| -> Result<i32> {
        let level = c.data().shared.log_level;
        write_u32(&mut c, ret, level as u32)?;
        Ok(status::OK)
    })?;
    linker.func_wrap("env", "proxy_get_current_time_nanoseconds", |mut c: Caller<'_, HostState>, ret: i32| -> Result<i32> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        write_u64(&mut c, ret, now)?;
        Ok(status::OK)
    })?;
    linker.func_wrap("env", "proxy_set_tick_period_milliseconds", |mut c: Caller<'_, HostState>, period: i32| -> Result<i32> {
        let state = c.data();
        if state.shared.profile == HostProfile::Kong {
            // ngx_wasm_module's rules (ngx_proxy_wasm_host.c).
            if state.context_id != ROOT_CONTEXT_ID {
                bail!("can only set tick_period in root context");
            }
            if period != 0 && state.tick_period_ms != 0 {
                bail!("tick_period already set");
            }
        }
        c.data_mut().tick_period_ms = period as u32;
        Ok(status::OK)
    })?;
    linker.func_wrap(
        "env",
        "proxy_get_buffer_bytes",
        |mut c: Caller<'_, HostState>, kind: i32, start: i32, max: i32, ret_ptr: i32, ret_size: i32| -> Result<i32> {
            let data = {
                let state = c.data();
                let stream = lock(&state.shared.stream);
                match kind {
                    0 => stream.request_body.clone(),
                    1 => stream.response_body.clone(),
                    4 => match &state.call_response {
                        Some(response) => response.body.clone(),
                        None => return Ok(status::NOT_FOUND),
                    },
                    6 => state.vm_config.clone(),
                    7 => state.plugin_config.clone(),
                    _ => return Ok(status::NOT_FOUND),
                }
            };
            let start = (start as u32 as usize).min(data.len());
            let end = start.saturating_add(max as u32 as usize).min(data.len());
            if start == end {
                return Ok(status::NOT_FOUND);
            }
            return_bytes(&mut c, &data[start..end], ret_ptr, ret_size)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_buffer_bytes",
        |mut c: Caller<'_, HostState>, kind: i32, start: i32, size: i32, ptr: i32, len: i32| -> Result<i32> {
            let data = read(&mut c, ptr, len)?;
            let mut stream = lock(&c.data().shared.stream);
            let buffer = match kind {
                0 => &mut stream.request_body,
                1 => &mut stream.response_body,
                _ => return Ok(status::BAD_ARGUMENT),
            };
            splice(buffer, start as u32 as usize, size as u32 as usize, &data);
            Ok(status::OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_pairs",
        |mut c: Caller<'_, HostState>, map_type: i32, ret_ptr: i32, ret_size: i32| -> Result<i32> {
            let Some(bytes) = with_map(c.data_mut(), map_type, |m| serialize_map(m)) else {
                return Ok(status::BAD_ARGUMENT);
            };
            return_bytes(&mut c, &bytes, ret_ptr, ret_size)
        },
    )?;
    linker.func_wrap("env", "proxy_set_header_map_pairs", |mut c: Caller<'_, HostState>, map_type: i32, ptr: i32, len: i32| -> Result<i32> {
        let new_map = deserialize_map(&read(&mut c, ptr, len)?)?;
        match with_map(c.data_mut(), map_type, |m| *m = new_map) {
            Some(()) => Ok(status::OK),
            None => Ok(status::BAD_ARGUMENT),
        }
    })?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_value",
        |mut c: Caller<'_, HostState>, map_type: i32, key_ptr: i32, key_len: i32, ret_ptr: i32, ret_size: i32| -> Result<i32> {
            let key = read_string(&mut c, key_ptr, key_len)?.to_ascii_lowercase();
            let value = with_map(c.data_mut(), map_type, |m| m.iter().find(|(n, _)| *n == key).map(|(_, v)| v.clone()));
            match value {
                None => Ok(status::BAD_ARGUMENT),
                Some(None) => Ok(status::NOT_FOUND),
                Some(Some(v)) => return_bytes(&mut c, &v, ret_ptr, ret_size),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_replace_header_map_value",
        |mut c: Caller<'_, HostState>, map_type: i32, key_ptr: i32, key_len: i32, val_ptr: i32, val_len: i32| -> Result<i32> {
            let key = read_string(&mut c, key_ptr, key_len)?.to_ascii_lowercase();
            let value = read(&mut c, val_ptr, val_len)?;
            let done = with_map(c.data_mut(), map_type, |m| {
                match m.iter().position(|(n, _)| *n == key) {
                    Some(first) => {
                        m[first].1 = value;
                        let mut i = 0;
                        m.retain(|(n, _)| {
                            i += 1;
                            i - 1 == first || *n != key
                        });
                    }
                    None => m.push((key, value)),
                }
            });
            Ok(if done.is_some() { status::OK } else { status::BAD_ARGUMENT })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_remove_header_map_value",
        |mut c: Caller<'_, HostState>, map_type: i32, key_ptr: i32, key_len: i32| -> Result<i32> {
            let key = read_string(&mut c, key_ptr, key_len)?.to_ascii_lowercase();
            let done = with_map(c.data_mut(), map_type, |m| m.retain(|(n, _)| *n != key));
            Ok(if done.is_some() { status::OK } else { status::BAD_ARGUMENT })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_add_header_map_value",
        |mut c: Caller<'_, HostState>, map_type: i32, key_ptr: i32, key_len: i32, val_ptr: i32, val_len: i32| -> Result<i32> {
            let key = read_string(&mut c, key_ptr, key_len)?.to_ascii_lowercase();
            let value = read(&mut c, val_ptr, val_len)?;
            let done = with_map(c.data_mut(), map_type, |m| m.push((key, value)));
            Ok(if done.is_some() { status::OK } else { status::BAD_ARGUMENT })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_property",
        |mut c: Caller<'_, HostState>, path_ptr: i32, path_len: i32, ret_ptr: i32, ret_size: i32| -> Result<i32> {
            let path = read(&mut c, path_ptr, path_len)?;
            let key = property_key(&path);
            match property(c.data(), &key) {
                Some(value) => return_bytes(&mut c, &value, ret_ptr, ret_size),
                None => Ok(status::NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_property",
        |mut c: Caller<'_, HostState>, path_ptr: i32, path_len: i32, val_ptr: i32, val_len: i32| -> Result<i32> {
            let path = read(&mut c, path_ptr, path_len)?;
            let value = read(&mut c, val_ptr, val_len)?;
            let key = property_key(&path);
            if key.is_empty() {
                return Ok(status::BAD_ARGUMENT);
            }
            let state = c.data();
            match props::set_rule(state.shared.profile, &key) {
                SetRule::Refuse => return Ok(status::BAD_ARGUMENT),
                SetRule::Trap => bail!("cannot set immutable nginx variable \"{key}\""),
                SetRule::Target if !props::valid_target(&value) => return Ok(status::BAD_ARGUMENT),
                SetRule::Target | SetRule::Store => {}
            }
            if state.context_id == ROOT_CONTEXT_ID {
                lock(&state.shared.root_properties).insert(key, value);
            } else {
                lock(&state.shared.stream).filter_state.insert(key, value);
            }
            Ok(status::OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_shared_data",
        |mut c: Caller<'_, HostState>, key_ptr: i32, key_len: i32, ret_ptr: i32, ret_size: i32, ret_cas: i32| -> Result<i32> {
            let key = read_string(&mut c, key_ptr, key_len)?;
            let entry = lock(&c.data().shared.shared_data).get(&key).cloned();
            let Some((value, cas)) = entry else { return Ok(status::NOT_FOUND) };
            return_bytes(&mut c, &value, ret_ptr, ret_size)?;
            write_u32(&mut c, ret_cas, cas)?;
            Ok(status::OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_shared_data",
        |mut c: Caller<'_, HostState>, key_ptr: i32, key_len: i32, val_ptr: i32, val_len: i32, cas: i32| -> Result<i32> {
            let key = read_string(&mut c, key_ptr, key_len)?;
            let value = read(&mut c, val_ptr, val_len)?;
            let mut data = lock(&c.data().shared.shared_data);
            // Envoy's SharedData::set: a non-zero cas must match an existing entry's.
            let current = data.get(&key).map(|(_, cas)| *cas);
            if let Some(current) = current {
                if cas != 0 && cas as u32 != current {
                    return Ok(status::CAS_MISMATCH);
                }
            }
            let current = current.unwrap_or(0);
            data.insert(key, (value, current.wrapping_add(1).max(1)));
            Ok(status::OK)
        },
    )?;
    linker.func_wrap("env", "proxy_continue_stream", |mut c: Caller<'_, HostState>, stream_type: i32| -> Result<i32> {
        // 0 HttpRequest, 1 HttpResponse, 2 Downstream, 3 Upstream (no L4 streams here).
        if !(0..=1).contains(&stream_type) {
            return Ok(status::BAD_ARGUMENT);
        }
        Ok(continue_current(&mut c))
    })?;
    // ABI 0.1.0 names, still imported by older SDKs.
    linker.func_wrap("env", "proxy_continue_request", |mut c: Caller<'_, HostState>| -> Result<i32> { Ok(continue_current(&mut c)) })?;
    linker.func_wrap("env", "proxy_continue_response", |mut c: Caller<'_, HostState>| -> Result<i32> { Ok(continue_current(&mut c)) })?;
    linker.func_wrap("env", "proxy_close_stream", |_c: Caller<'_, HostState>, _stream_type: i32| -> Result<i32> { Ok(status::OK) })?;
    linker.func_wrap(
        "env",
        "proxy_send_local_response",
        |mut c: Caller<'_, HostState>,
         code: i32,
         _details_ptr: i32,
         _details_len: i32,
         body_ptr: i32,
         body_len: i32,
         headers_ptr: i32,
         headers_len: i32,
         _grpc_status: i32|
         -> Result<i32> {
            let body = read(&mut c, body_ptr, body_len)?;
            let headers = deserialize_map(&read(&mut c, headers_ptr, headers_len)?)?;
            let state = c.data();
            if state.context_id == ROOT_CONTEXT_ID {
                return Ok(status::NOT_FOUND);
            }
            if !(100..=999).contains(&code) {
                return Ok(status::BAD_ARGUMENT);
            }
            if state.shared.profile == HostProfile::Kong {
                // ngx_wasm_module's rules (ngx_proxy_wasm_host.c): the response is on its
                // way once the body filter runs; only one local response per request.
                if state.callback == Callback::ResponseBody || state.callback == Callback::Log {
                    bail!("response already sent");
                }
                if state.local_reply.is_some() {
                    bail!("local response already stashed");
                }
            }
            c.data_mut().local_reply = Some(LocalReply { status: code as u16, headers, body });
            Ok(status::OK)
        },
    )?;
    linker.func_wrap("env", "proxy_set_effective_context", |mut c: Caller<'_, HostState>, id: i32| -> Result<i32> {
        c.data_mut().context_id = id;
        Ok(status::OK)
    })?;
    linker.func_wrap("env", "proxy_done", |_c: Caller<'_, HostState>| -> Result<i32> { Ok(status::OK) })?;
    linker.func_wrap(
        "env",
        "proxy_get_status",
        |mut c: Caller<'_, HostState>, ret_code: i32, _ret_ptr: i32, ret_size: i32| -> Result<i32> {
            write_u32(&mut c, ret_code, 0)?;
            write_u32(&mut c, ret_size, 0)?;
            Ok(status::NOT_FOUND)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_define_metric",
        |mut c: Caller<'_, HostState>, kind: i32, name_ptr: i32, name_len: i32, ret_id: i32| -> Result<i32> {
            // 0 counter, 1 gauge, 2 histogram.
            if !(0..=2).contains(&kind) {
                return Ok(status::BAD_ARGUMENT);
            }
            let name = read_string(&mut c, name_ptr, name_len)?;
            let id = {
                let mut metrics = lock(&c.data().shared.metrics);
                match metrics.iter().position(|(n, _, _)| *n == name) {
                    Some(i) => i,
                    None => {
                        metrics.push((name, kind, 0));
                        metrics.len() - 1
                    }
                }
            };
            write_u32(&mut c, ret_id, id as u32)?;
            Ok(status::OK)
        },
    )?;
    linker.func_wrap("env", "proxy_increment_metric", |c: Caller<'_, HostState>, id: i32, offset: i64| -> Result<i32> {
        let mut metrics = lock(&c.data().shared.metrics);
        match metrics.get_mut(id as u32 as usize) {
            // Histograms are recorded, not incremented; counters only go up.
            Some((_, 2, _)) => Ok(status::BAD_ARGUMENT),
            Some((_, 0, _)) if offset < 0 => Ok(status::BAD_ARGUMENT),
            Some((_, _, v)) => {
                *v = v.saturating_add(offset);
                Ok(status::OK)
            }
            None => Ok(status::NOT_FOUND),
        }
    })?;
    linker.func_wrap("env", "proxy_record_metric", |c: Caller<'_, HostState>, id: i32, value: i64| -> Result<i32> {
        let mut metrics = lock(&c.data().shared.metrics);
        match metrics.get_mut(id as u32 as usize) {
            Some((_, _, v)) => {
                *v = value;
                Ok(status::OK)
            }
            None => Ok(status::NOT_FOUND),
        }
    })?;
    linker.func_wrap("env", "proxy_get_metric", |mut c: Caller<'_, HostState>, id: i32, ret: i32| -> Result<i32> {
        let value = lock(&c.data().shared.metrics).get(id as u32 as usize).map(|(_, kind, v)| (*kind, *v));
        match value {
            // Envoy cannot read a histogram back.
            Some((2, _)) => Ok(status::BAD_ARGUMENT),
            Some((_, v)) => {
                write_u64(&mut c, ret, v as u64)?;
                Ok(status::OK)
            }
            None => Ok(status::NOT_FOUND),
        }
    })?;
    linker.func_wrap(
        "env",
        "proxy_http_call",
        |mut c: Caller<'_, HostState>,
         upstream_ptr: i32,
         upstream_len: i32,
         headers_ptr: i32,
         headers_len: i32,
         body_ptr: i32,
         body_len: i32,
         _trailers_ptr: i32,
         _trailers_len: i32,
         timeout_ms: i32,
         ret_token: i32|
         -> Result<i32> {
            let upstream = read_string(&mut c, upstream_ptr, upstream_len)?;
            let Ok(headers) = deserialize_map(&read(&mut c, headers_ptr, headers_len)?) else {
                return Ok(status::BAD_ARGUMENT);
            };
            let body = read(&mut c, body_ptr, body_len)?;
            let has = |name: &str| headers.iter().any(|(n, v)| n == name && !v.is_empty());
            // Envoy requires :method, :path and :authority; ngx_wasm_module a host to connect to.
            if upstream.trim().is_empty() || !has(":method") || !has(":path") {
                return Ok(status::BAD_ARGUMENT);
            }
            let state = c.data_mut();
            state.last_token = state.last_token.wrapping_add(1).max(1);
            let token = state.last_token;
            let context_id = state.context_id;
            state.pending_calls.push_back(HttpCall { token, context_id, upstream, headers, body, timeout_ms: timeout_ms as u32 });
            write_u32(&mut c, ret_token, token)?;
            Ok(status::OK)
        },
    )?;
    add_unimplemented(linker)?;
    Ok(())
}

/// The key of a property path: its NUL-separated segments joined with dots (a path
/// without NULs is taken as already dotted).
pub fn property_key(path: &[u8]) -> String {
    let segments: Vec<String> = path.split(|&b| b == 0).map(|s| String::from_utf8_lossy(s).into_owned()).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).filter(|s| !s.is_empty()).collect();
    segments.join(".")
}

/// The value of property `key` for this filter (see [`crate::props`] for the order).
pub fn property(state: &HostState, key: &str) -> Option<Vec<u8>> {
    let stream = lock(&state.shared.stream);
    if let Some(value) = stream.filter_state.get(key) {
        return Some(value.clone());
    }
    if let Some(value) = lock(&state.shared.root_properties).get(key) {
        return Some(value.clone());
    }
    if let Some(value) = state.shared.properties.get(key) {
        return Some(value.clone().into_bytes());
    }
    props::computed(state.shared.profile, key, &state.filter_name, &stream)
}

/// `proxy_continue_stream`: marks the current (or effective) stream context resumed.
fn continue_current(c: &mut Caller<'_, HostState>) -> i32 {
    if c.data().context_id == ROOT_CONTEXT_ID {
        return status::NOT_FOUND;
    }
    c.data_mut().continued = true;
    status::OK
}

/// Calls this harness does not serve (gRPC, queues, foreign
/// functions): they answer `Unimplemented`, as a host without the feature does.
fn add_unimplemented(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap(
        "env",
        "proxy_grpc_call",
        |_c: Caller<'_, HostState>, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32| -> i32 {
            status::UNIMPLEMENTED
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_stream",
        |_c: Caller<'_, HostState>, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32| -> i32 {
            status::UNIMPLEMENTED
        },
    )?;
    linker.func_wrap("env", "proxy_grpc_send", |_c: Caller<'_, HostState>, _: i32, _: i32, _: i32, _: i32| -> i32 {
        status::UNIMPLEMENTED
    })?;
    linker.func_wrap("env", "proxy_grpc_cancel", |_c: Caller<'_, HostState>, _: i32| -> i32 { status::UNIMPLEMENTED })?;
    linker.func_wrap("env", "proxy_grpc_close", |_c: Caller<'_, HostState>, _: i32| -> i32 { status::UNIMPLEMENTED })?;
    linker.func_wrap("env", "proxy_register_shared_queue", |_c: Caller<'_, HostState>, _: i32, _: i32, _: i32| -> i32 {
        status::UNIMPLEMENTED
    })?;
    linker.func_wrap(
        "env",
        "proxy_resolve_shared_queue",
        |_c: Caller<'_, HostState>, _: i32, _: i32, _: i32, _: i32, _: i32| -> i32 { status::UNIMPLEMENTED },
    )?;
    linker.func_wrap("env", "proxy_dequeue_shared_queue", |_c: Caller<'_, HostState>, _: i32, _: i32, _: i32| -> i32 {
        status::UNIMPLEMENTED
    })?;
    linker.func_wrap("env", "proxy_enqueue_shared_queue", |_c: Caller<'_, HostState>, _: i32, _: i32, _: i32| -> i32 {
        status::UNIMPLEMENTED
    })?;
    linker.func_wrap(
        "env",
        "proxy_call_foreign_function",
        |_c: Caller<'_, HostState>, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32| -> i32 { status::UNIMPLEMENTED },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_maps_round_trip() {
        let map = vec![(":path".to_string(), b"/x".to_vec()), ("x-a".to_string(), b"".to_vec())];
        assert_eq!(deserialize_map(&serialize_map(&map)).unwrap(), map);
        assert!(deserialize_map(&[5, 0, 0, 0]).is_err());
    }

    #[test]
    fn set_buffer_follows_envoy() {
        let mut b = b"world".to_vec();
        splice(&mut b, 0, 0, b"hello ");
        assert_eq!(b, b"hello world");
        splice(&mut b, 0, 100, b"new");
        assert_eq!(b, b"new");
        splice(&mut b, 3, 0, b"er");
        assert_eq!(b, b"newer");
    }
}
