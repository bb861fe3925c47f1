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
use wasmtime::{Caller, Extern, Linker, Memory, TypedFunc};
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::dispatch::{self, CallResponse, HttpCall};
use crate::props::{self, SetRule};
use crate::spec::{HostProfile, LogEntry};

/// ABI `WasmResult` values.
pub mod status {
    pub const OK: i32 = 0;
    pub const NOT_FOUND: i32 = 1;
    pub const BAD_ARGUMENT: i32 = 2;
    pub const PARSE_FAILURE: i32 = 4;
    pub const EMPTY: i32 = 7;
    pub const CAS_MISMATCH: i32 = 8;
    /// ngx_wasm_module's `NGX_PROXY_WASM_RESULT_INTERNAL_FAILURE` (ngx_proxy_wasm.h).
    pub const INTERNAL_FAILURE: i32 = 10;
    pub const UNIMPLEMENTED: i32 = 12;
}

/// Header maps as a stream has them: `(lowercase name, value)` in order.
pub type HeaderMap = Vec<(String, Vec<u8>)>;

/// The HTTP exchange the chain is driving; shared by every filter of the chain.
#[derive(Debug, Default)]
pub struct StreamData {
    pub request_headers: HeaderMap,
    /// Envoy: a filter wrote the request headers, which clears the route cache: the
    /// router picks the route again (see `write_map`).
    pub route_cache_cleared: bool,
    /// Envoy with a route table ([`crate::spec::ChainSpec::routes`]): the route picked
    /// (by the connection manager before the filters, again by the router after a
    /// filter cleared the route cache), `Some(None)` when none matched. `None` without a
    /// route table.
    pub route: Option<Option<crate::spec::RouteSpec>>,
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
    /// Envoy: the response code details (`response.code_details`): `via_upstream` once
    /// the upstream answered, a filter's local reply's details with whitespace turned
    /// into `_` (`context.cc` `sendLocalResponse`, `StringUtil::replaceAllEmptySpace`).
    pub response_code_details: Option<String>,
    /// How long the upstream took to answer, in nanoseconds, once it did (nginx's
    /// `$upstream_response_time`; the in-process upstream answers whole, so its header
    /// time is the same and its connect time 0).
    pub upstream_elapsed_ns: Option<u64>,
    /// Bytes the client got, status line and headers included (nginx's `$bytes_sent`,
    /// Envoy's `response.total_size`), and of them the body's (`$body_bytes_sent`,
    /// `response.size`): set when the response went out, before the log phase.
    pub response_sizes: Option<(u64, u64)>,
    /// Kong: the client's request URI (`$request_uri`), never changed.
    pub request_uri: Vec<u8>,
    /// Kong: nginx's `r->uri` (`$uri`): the path without the query. A `:path` set changes
    /// it (ngx_proxy_wasm_maps.c `ngx_proxy_wasm_maps_set_path`), without effect upstream
    /// unless the URI is marked changed.
    pub ngx_uri: Vec<u8>,
    /// Kong: nginx's `r->args` (`$args`), set by a `:path` with a query or `ngx.args`.
    pub ngx_args: Vec<u8>,
    /// Kong: set by a write of `ngx.args`; the upstream then gets `ngx_uri?ngx_args`
    /// instead of the client's URI (kong-engine.md "Request headers").
    pub uri_changed: bool,
    /// Kong: `ngx.upstream_uri` (Kong's `$upstream_uri`, what Kong's `proxy_pass` sends)
    /// once a filter set it.
    pub upstream_uri: Option<Vec<u8>>,
    /// Kong: request headers a filter removed: nginx only marks them (`hash = 0`,
    /// ngx_http_wasm_headers.c) and its proxy module still forwards them; a single-value
    /// read still finds them, the pairs read does not.
    pub removed_request_headers: HeaderMap,
    /// Kong: a `content-length` request header a filter set itself; it wins over the
    /// length the host recomputes after a body change.
    pub content_length_set: Option<Vec<u8>>,
    /// Kong: the request body is larger than `client_body_buffer_size` ("buffered to a
    /// temp file"): filters cannot read it.
    pub request_body_in_file: bool,
    /// Kong: the client sent a body (nginx then sends a `content-length` upstream).
    pub request_had_body: bool,
    /// Kong: a filter set the request body during request headers (even to empty):
    /// nginx then sends a `content-length` upstream (docs/hosts.md, "Checked by hand").
    pub request_body_set_in_headers: bool,
    /// The downstream connection the stream runs on (`connection.*`, `ngx.ssl_*`).
    pub connection: crate::connection::ConnectionInfo,
}

/// A response a filter produced with `proxy_send_local_response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// Envoy: the gRPC status the filter passed when it is a known one (0 to 16);
    /// `None` for the SDKs' -1 ("not set") or any other value (`context.cc`
    /// `Context::sendLocalResponse`: outside `Ok..=MaximumKnown` is `nullopt`).
    pub grpc_status: Option<u32>,
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
    /// Metrics of every filter: `(name, kind, value)`, one per name (Envoy keeps stats
    /// per scope by name).
    pub metrics: Arc<Mutex<Vec<(String, i32, i64)>>>,
    /// Envoy: metric ids handed out, each the index of its stat in `metrics`
    /// (`context.cc` `defineMetric` returns a new id on every call, a name defined twice
    /// gets two ids for one stat). Kong: unused, the id is the stat's index.
    pub metric_ids: Arc<Mutex<Vec<usize>>>,
    /// The level `proxy_get_log_level` answers (0 trace ... 5 critical).
    pub log_level: i32,
    /// Kong: the `shm_kv` zones declared (`ChainSpec.shm_zones`).
    pub shm_zones: Arc<Vec<String>>,
    /// Kong: set when a host call would crash the nginx worker (the chain cannot go on).
    pub crashed: Arc<Mutex<Option<String>>>,
    /// `proxy_http_call` upstream names -> loopback addresses (`ChainSpec.call_targets`).
    pub call_targets: Arc<std::collections::BTreeMap<String, String>>,
    /// Kong: nginx with ngx_wasm_module alone (`ChainSpec.plain_nginx`): no `kong.*`.
    pub plain_nginx: bool,
    /// Envoy: the route table (`ChainSpec.routes`).
    pub routes: Arc<Vec<crate::spec::RouteSpec>>,
    /// Envoy: the shared queues of the chain's `vm_id` ([`SharedQueues`]).
    pub queues: Arc<Mutex<SharedQueues>>,
}

/// Envoy's shared queues for one `vm_id` (proxy-wasm-cpp-host `src/shared_queue.cc`
/// `SharedQueue`; every filter of a chain has the same, empty, `vm_id`): a queue per name,
/// its token handed out from 1 up (`nextQueueToken`, 0 is illegal), registering a name
/// again keeps its token and data and moves `proxy_on_queue_ready` to the new registrant.
#[derive(Debug, Default)]
pub struct SharedQueues {
    tokens: std::collections::BTreeMap<Vec<u8>, u32>,
    queues: HashMap<u32, SharedQueue>,
    next_token: u32,
    /// `proxy_on_queue_ready` calls owed, in enqueue order: `(filter, root context, token)`.
    /// Envoy posts each to the registering VM's dispatcher (`call_on_thread`), so it runs
    /// after the current callback; the chain delivers them ([`crate::Chain`]).
    pub ready: std::collections::VecDeque<(String, i32, u32)>,
}

/// One queue: who is told when an item arrives, and the items.
#[derive(Debug, Default)]
struct SharedQueue {
    filter: String,
    root_context_id: i32,
    items: std::collections::VecDeque<Vec<u8>>,
}

impl SharedQueues {
    /// `SharedQueue::registerQueue`: the token of `name`, new or existing; the queue's
    /// `proxy_on_queue_ready` goes to `root_context_id` of `filter` from now on.
    pub fn register(&mut self, name: &[u8], filter: &str, root_context_id: i32) -> u32 {
        let token = match self.tokens.get(name) {
            Some(token) => *token,
            None => {
                self.next_token += 1;
                self.tokens.insert(name.to_vec(), self.next_token);
                self.next_token
            }
        };
        let queue = self.queues.entry(token).or_default();
        queue.filter = filter.to_string();
        queue.root_context_id = root_context_id;
        token
    }

    /// `SharedQueue::resolveQueue`: the token of `name`, if registered.
    pub fn resolve(&self, name: &[u8]) -> Option<u32> {
        self.tokens.get(name).copied()
    }

    /// `SharedQueue::enqueue`: NotFound for an unknown token; else the item is queued and
    /// a `proxy_on_queue_ready` is owed to the registrant.
    pub fn enqueue(&mut self, token: u32, item: Vec<u8>) -> i32 {
        let Some(queue) = self.queues.get_mut(&token) else { return status::NOT_FOUND };
        queue.items.push_back(item);
        self.ready.push_back((queue.filter.clone(), queue.root_context_id, token));
        status::OK
    }

    /// `SharedQueue::dequeue`: the oldest item, or NotFound (unknown token) / Empty.
    pub fn dequeue(&mut self, token: u32) -> std::result::Result<Vec<u8>, i32> {
        let queue = self.queues.get_mut(&token).ok_or(status::NOT_FOUND)?;
        queue.items.pop_front().ok_or(status::EMPTY)
    }
}

/// Whether `bytes` parse as a protobuf message at the top level (what Envoy's
/// `GrpcService::ParseFromString` in `Context::grpcCall` first decides): a sequence of
/// fields with a tag of field number >= 1 and wire type varint, fixed64, length-delimited
/// (within bounds), a group (closed by its end tag) or fixed32. Nested messages are not
/// checked. The empty string parses (an empty message).
pub fn parses_as_protobuf(bytes: &[u8]) -> bool {
    fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
        let mut value = 0u64;
        for shift in 0..10 {
            let b = *bytes.get(*at)?;
            *at += 1;
            value |= u64::from(b & 0x7f) << (7 * shift);
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    /// Fields until the end (`group` None) or the end tag of `group`.
    fn fields(bytes: &[u8], at: &mut usize, group: Option<u64>, depth: usize) -> bool {
        while *at < bytes.len() {
            let Some(tag) = varint(bytes, at) else { return false };
            let (field, wire) = (tag >> 3, tag & 7);
            if field == 0 {
                return false;
            }
            let skip = match wire {
                0 => varint(bytes, at).map(|_| 0),
                1 => Some(8),
                2 => varint(bytes, at).and_then(|n| usize::try_from(n).ok()),
                3 if depth < 32 => {
                    if !fields(bytes, at, Some(field), depth + 1) {
                        return false;
                    }
                    Some(0)
                }
                4 => return group == Some(field),
                5 => Some(4),
                _ => None,
            };
            match skip {
                Some(n) if bytes.len() - *at >= n => *at += n,
                _ => return false,
            }
        }
        group.is_none()
    }
    fields(bytes, &mut 0, None, 0)
}

/// The callback a filter instance is running, for rules that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Callback {
    /// A root-context callback (done, a root context's http call response...).
    #[default]
    Root,
    /// `proxy_on_vm_start` and `proxy_on_configure` (no request exists).
    Configure,
    /// `proxy_on_tick`.
    Tick,
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
    /// The filter's name (its `plugin_name` property).
    pub filter_name: String,
    /// Its `plugin_root_id` (Envoy: the plugin's `root_id`, else its name).
    pub root_id: String,
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
    /// This filter's root context (its plugin instance): one per filter, several in a
    /// VM that filters share (Envoy).
    pub root_context_id: i32,
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
    /// The module's `memory` export, looked up on the first host call that needs it: a
    /// host resolves its exports once (Envoy's and ngx_wasm_module's wasm VMs keep them
    /// per instance), not by name on every call.
    pub memory: Option<Memory>,
    /// The module's `proxy_on_memory_allocate`, looked up once as `memory` is.
    pub allocate: Option<TypedFunc<i32, i32>>,
    /// Envoy: this filter's request headers continued (its headers callback returned
    /// Continue, or it called `proxy_continue_stream`): Envoy's `Context` drops its
    /// handle on them, so reads and writes fail until `proxy_on_log`
    /// (`source/extensions/common/wasm/context.cc` `Context::decodeHeaders`,
    /// `continueStream`; envoy-host.md "Header maps are gone after Continue").
    pub request_headers_released: bool,
    /// Envoy: the same for the response headers (`Context::encodeHeaders`).
    pub response_headers_released: bool,
    /// Envoy: this filter's request headers callback ran for the stream (`Context`'s
    /// `request_headers_` was set); with [`HostState::request_headers_released`] it
    /// says whether a write in `proxy_on_log` finds a map.
    pub request_headers_seen: bool,
    /// Envoy: the same for the response headers.
    pub response_headers_seen: bool,
}

impl HostState {
    /// Whether the current callback runs for the root context (not a stream).
    pub fn is_root(&self) -> bool {
        self.context_id == self.root_context_id
    }
}

/// The stat behind metric `id`: Envoy maps ids to stats, Kong's ids are the stats.
fn stat_of(state: &HostState, id: i32) -> Option<usize> {
    let id = id as u32 as usize;
    if kong(state) {
        Some(id)
    } else {
        lock(&state.shared.metric_ids).get(id).copied()
    }
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

/// The error a host call raises when nginx itself would crash: the harness ends the run
/// (see [`crate::Chain::new`]); the CLI exits with 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCrash(pub String);

impl std::fmt::Display for HostCrash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostCrash {}

/// Logs a line the host itself writes (ngx_wasm_module's `[wasm]` lines) under the
/// filter's name, at nginx's level name (`error`, `alert`, `emerg`...).
pub fn host_log(state: &HostState, level: &str, message: String) {
    let entry = LogEntry { filter: state.filter_name.clone(), level: level.into(), message };
    lock(&state.shared.logs).push(entry);
}

fn kong(state: &HostState) -> bool {
    state.shared.profile == HostProfile::Kong
}

/// Kong: may the current callback change header map `map_type`? `Ok(None)`: yes;
/// `Ok(Some(status))`: answer that; `Err`: trap. ngx_proxy_wasm_host.c
/// `ngx_proxy_wasm_hfuncs_set_header_check` (kong-engine.md item: header maps outside
/// their callback).
fn kong_set_check(state: &HostState, map_type: i32) -> Result<Option<i32>> {
    let response_started = lock(&state.shared.stream).response_code.is_some();
    match map_type {
        0 => match state.callback {
            Callback::RequestHeaders | Callback::RequestBody => Ok(None),
            Callback::HttpCallResponse if !response_started => Ok(None),
            _ if state.is_root() => Ok(Some(status::BAD_ARGUMENT)),
            _ => bail!("can only set request headers before response is produced"),
        },
        2 => match state.callback {
            Callback::RequestHeaders | Callback::RequestBody | Callback::ResponseHeaders => Ok(None),
            Callback::HttpCallResponse if !response_started => Ok(None),
            _ if state.is_root() => Ok(Some(status::BAD_ARGUMENT)),
            _ => bail!("can only set response headers before \"on_response_body\""),
        },
        _ => {
            host_log(state, "alert", format!("[wasm] NYI - set_map bad map_type: {map_type}"));
            Ok(Some(status::BAD_ARGUMENT))
        }
    }
}

/// Kong: whether map `map_type` exists for reading now; `false` logs ngx_wasm_module's
/// NYI line (trailers) or is a call-response map outside a call response
/// (ngx_proxy_wasm_maps.c `ngx_proxy_wasm_maps_get_map`).
fn kong_map_readable(state: &HostState, map_type: i32) -> bool {
    match map_type {
        0 | 2 => !state.is_root(),
        6 => state.call_response.is_some(),
        7 => false,
        _ => {
            host_log(state, "alert", format!("[wasm] NYI - get_map bad map_type: {map_type}"));
            false
        }
    }
}

/// Kong's `proxy_set_buffer_bytes` on a body (ngx_proxy_wasm_host.c
/// `ngx_proxy_wasm_hfuncs_set_buffer`, ngx_http_wasm_util.c `ngx_http_wasm_set_req_body`,
/// ngx_wasm_util.c `ngx_wasm_chain_append`): `start == 0 && size == 0` with data
/// prepends; otherwise the body becomes its first `start` bytes followed by at most
/// `size` bytes of the data (`size` 0 with `start > 0` means the data's length).
pub fn kong_set_body(buffer: &mut Vec<u8>, start: usize, size: usize, data: &[u8]) {
    if start == 0 && size == 0 && !data.is_empty() {
        buffer.splice(0..0, data.iter().copied());
        return;
    }
    let size = if start > 0 && size == 0 { data.len() } else { size };
    buffer.truncate(start.min(buffer.len()));
    buffer.extend_from_slice(&data[..data.len().min(size)]);
}

fn memory(caller: &mut Caller<'_, HostState>) -> Result<Memory> {
    if let Some(memory) = caller.data().memory {
        return Ok(memory);
    }
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => {
            caller.data_mut().memory = Some(m);
            Ok(m)
        }
        _ => bail!("module exports no memory"),
    }
}

fn allocate(caller: &mut Caller<'_, HostState>) -> Result<TypedFunc<i32, i32>> {
    if let Some(allocate) = &caller.data().allocate {
        return Ok(allocate.clone());
    }
    let allocate = caller
        .get_export("proxy_on_memory_allocate")
        .and_then(Extern::into_func)
        .context("module exports no proxy_on_memory_allocate")?
        .typed::<i32, i32>(&*caller)?;
    caller.data_mut().allocate = Some(allocate.clone());
    Ok(allocate)
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
    let alloc = allocate(caller)?;
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
    if envoy_map_released(state, map_type) {
        return None;
    }
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

/// [`with_map`] for a write. Envoy: a write to the request headers clears the stream's
/// route cache (`context.cc` `addHeaderMapValue`, `replaceHeaderMapValue`,
/// `removeHeaderMapValue`, `setHeaderMapPairs` → `clearRouteCache()`, Envoy PR #14318;
/// since Envoy 1.33, PR #36671, only for modules of an ABI newer than 0.2.1, which
/// proxy-wasm-cpp-host cannot load: every loadable module is 0.1.0, 0.2.0 or 0.2.1), so
/// the router picks the route again from the headers as they are then
/// ([`StreamData::route_cache_cleared`]).
///
/// In `proxy_on_log` Envoy writes through `Context::getMap`, which knows only the live
/// `request_headers_`/`response_headers_` (the access-log maps are read-only,
/// `getConstMap`): a write there is BadArgument unless the filter got that map and never
/// continued it (a stream the filters never saw, e.g. the connection manager's 400).
fn write_map<R>(state: &mut HostState, map_type: i32, f: impl FnOnce(&mut HeaderMap) -> R) -> Option<R> {
    if state.shared.profile == HostProfile::Envoy && state.callback == Callback::Log {
        let live = match map_type {
            0 => state.request_headers_seen && !state.request_headers_released,
            2 => state.response_headers_seen && !state.response_headers_released,
            _ => true,
        };
        if !live {
            return None;
        }
    }
    let done = with_map(state, map_type, f)?;
    if map_type == 0 && state.shared.profile == HostProfile::Envoy {
        lock(&state.shared.stream).route_cache_cleared = true;
    }
    Some(done)
}

/// Envoy: whether `map_type` is a header map this filter's context no longer holds
/// (see [`HostState::request_headers_released`]); `proxy_on_log` reads them again
/// (`access_log_phase_`).
fn envoy_map_released(state: &HostState, map_type: i32) -> bool {
    if state.shared.profile != HostProfile::Envoy || state.callback == Callback::Log {
        return false;
    }
    match map_type {
        0 => state.request_headers_released,
        2 => state.response_headers_released,
        _ => false,
    }
}

/// Envoy's `Buffer::copyFrom` (`source/extensions/common/wasm/context.cc`): with
/// `start == 0`, `size == 0` prepends, otherwise the first `size` bytes are replaced
/// (all of them when `size` covers the buffer); `start >= len` appends; a range in the
/// middle is `BadArgument` (returns false).
fn splice(buffer: &mut Vec<u8>, start: usize, size: usize, data: &[u8]) -> bool {
    if start == 0 {
        let end = size.min(buffer.len());
        buffer.splice(0..end, data.iter().copied());
    } else if start >= buffer.len() {
        buffer.extend_from_slice(data);
    } else {
        return false;
    }
    true
}

/// Registers every proxy-wasm ABI 0.2.1 host function on `linker` (module `env`), as
/// `profile`'s host declares it (Kong's engine: `proxy_get_log_level` with two
/// parameters).
pub fn add_to_linker(linker: &mut Linker<HostState>, profile: HostProfile) -> Result<()> {
    linker.func_wrap("env", "proxy_log", |mut c: Caller<'_, HostState>, level: i32, ptr: i32, len: i32| -> Result<i32> {
        if !kong(c.data()) {
            // cpp-host `exports.cc` `log`: a level outside trace..critical is BadArgument;
            // Envoy's Wasm logger drops lines below its level (`context.cc` `Context::log`).
            if !(0..=5).contains(&level) {
                return Ok(status::BAD_ARGUMENT);
            }
            if level < c.data().shared.log_level {
                return Ok(status::OK);
            }
        }
        let message = read_string(&mut c, ptr, len)?;
        let entry = LogEntry { filter: c.data().filter_name.clone(), level: level_name(level).into(), message };
        lock(&c.data().shared.logs).push(entry);
        Ok(status::OK)
    })?;
    if profile == HostProfile::Kong {
        // ngx_wasm_module 3bed278 declares it with two i32 parameters
        // (`ngx_proxy_wasm_host.c`: `ngx_wavm_arity_i32x2`, `ngx_proxy_wasm_hfuncs_nop`), so
        // a module importing the ABI's one-parameter form does not instantiate
        // ("incompatible import type", docs/hosts.md "Checked by hand in the engine"); a
        // call of the two-parameter form traps (`NGX_WAVM_NYI`, `src/wasm/vm/ngx_wavm_host.c`: "host
        // function not yet implemented: <name>").
        linker.func_wrap("env", "proxy_get_log_level", |_c: Caller<'_, HostState>, _: i32, _: i32| -> Result<i32> {
            bail!("host function not yet implemented: proxy_get_log_level")
        })?;
    } else {
        linker.func_wrap("env", "proxy_get_log_level", |mut c: Caller<'_, HostState>, ret: i32| -> Result<i32> {
            let level = c.data().shared.log_level;
            write_u32(&mut c, ret, level as u32)?;
            Ok(status::OK)
        })?;
    }
    linker.func_wrap("env", "proxy_get_current_time_nanoseconds", |mut c: Caller<'_, HostState>, ret: i32| -> Result<i32> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        write_u64(&mut c, ret, now)?;
        Ok(status::OK)
    })?;
    linker.func_wrap("env", "proxy_set_tick_period_milliseconds", |mut c: Caller<'_, HostState>, period: i32| -> Result<i32> {
        let state = c.data();
        if state.shared.profile == HostProfile::Kong {
            // ngx_wasm_module's rules (ngx_proxy_wasm_host.c).
            if !state.is_root() {
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
            if kong(c.data()) {
                return kong_get_buffer(&mut c, kind, max, ret_ptr, ret_size);
            }
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
            // proxy-wasm-cpp-host `exports.cc` `get_buffer_bytes`: a range that overflows
            // is BadArgument; one clamped to nothing answers Ok with pointer and size 0.
            if (start as u32).checked_add(max as u32).is_none() {
                return Ok(status::BAD_ARGUMENT);
            }
            let start = (start as u32 as usize).min(data.len());
            let end = start.saturating_add(max as u32 as usize).min(data.len());
            if start == end {
                write_u32(&mut c, ret_ptr, 0)?;
                write_u32(&mut c, ret_size, 0)?;
                return Ok(status::OK);
            }
            return_bytes(&mut c, &data[start..end], ret_ptr, ret_size)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_buffer_bytes",
        |mut c: Caller<'_, HostState>, kind: i32, start: i32, size: i32, ptr: i32, len: i32| -> Result<i32> {
            let data = read(&mut c, ptr, len)?;
            if kong(c.data()) {
                return kong_set_buffer(c.data(), kind, start as u32 as usize, size as u32 as usize, &data);
            }
            let mut stream = lock(&c.data().shared.stream);
            let buffer = match kind {
                0 => &mut stream.request_body,
                1 => &mut stream.response_body,
                _ => return Ok(status::BAD_ARGUMENT),
            };
            Ok(if splice(buffer, start as u32 as usize, size as u32 as usize, &data) { status::OK } else { status::BAD_ARGUMENT })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_pairs",
        |mut c: Caller<'_, HostState>, map_type: i32, ret_ptr: i32, ret_size: i32| -> Result<i32> {
            if kong(c.data()) && !kong_map_readable(c.data(), map_type) {
                return Ok(status::BAD_ARGUMENT);
            }
            if envoy_map_released(c.data(), map_type) {
                // cpp-host `getHeaderMapPairs` on a null map: an empty Ok.
                return return_bytes(&mut c, &serialize_map(&[]), ret_ptr, ret_size);
            }
            let Some(bytes) = with_map(c.data_mut(), map_type, |m| serialize_map(m)) else {
                return Ok(status::BAD_ARGUMENT);
            };
            return_bytes(&mut c, &bytes, ret_ptr, ret_size)
        },
    )?;
    linker.func_wrap("env", "proxy_set_header_map_pairs", |mut c: Caller<'_, HostState>, map_type: i32, ptr: i32, len: i32| -> Result<i32> {
        let new_map = deserialize_map(&read(&mut c, ptr, len)?)?;
        if kong(c.data()) {
            if let Some(answer) = kong_set_check(c.data(), map_type)? {
                return Ok(answer);
            }
            if map_type == 0 {
                kong_replace_request_headers(c.data(), new_map);
                return Ok(status::OK);
            }
        }
        match write_map(c.data_mut(), map_type, |m| *m = new_map) {
            Some(()) => Ok(status::OK),
            None => Ok(status::BAD_ARGUMENT),
        }
    })?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_value",
        |mut c: Caller<'_, HostState>, map_type: i32, key_ptr: i32, key_len: i32, ret_ptr: i32, ret_size: i32| -> Result<i32> {
            let key = read_string(&mut c, key_ptr, key_len)?.to_ascii_lowercase();
            if kong(c.data()) && !kong_map_readable(c.data(), map_type) {
                return Ok(status::NOT_FOUND);
            }
            let mut value = with_map(c.data_mut(), map_type, |m| m.iter().find(|(n, _)| *n == key).map(|(_, v)| v.clone()));
            if kong(c.data()) && map_type == 0 && value == Some(None) {
                // A removed entry is only marked: ngx_wasm_get_list_elem still finds it.
                let stream = lock(&c.data().shared.stream);
                value = Some(stream.removed_request_headers.iter().find(|(n, _)| *n == key).map(|(_, v)| v.clone()));
            }
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
            if kong(c.data()) {
                if let Some(answer) = kong_set_check(c.data(), map_type)? {
                    return Ok(answer);
                }
                if map_type == 0 && kong_request_header_set(c.data(), &key, &value) {
                    return Ok(status::OK);
                }
            }
            let done = write_map(c.data_mut(), map_type, |m| {
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
            if kong(c.data()) {
                if let Some(answer) = kong_set_check(c.data(), map_type)? {
                    return Ok(answer);
                }
                if map_type == 0 {
                    let mut stream = lock(&c.data().shared.stream);
                    let stream = &mut *stream;
                    let (gone, kept): (HeaderMap, HeaderMap) =
                        std::mem::take(&mut stream.request_headers).into_iter().partition(|(n, _)| *n == key && !n.starts_with(':'));
                    stream.request_headers = kept;
                    stream.removed_request_headers.extend(gone);
                    return Ok(status::OK);
                }
            }
            let done = write_map(c.data_mut(), map_type, |m| m.retain(|(n, _)| *n != key));
            Ok(if done.is_some() { status::OK } else { status::BAD_ARGUMENT })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_add_header_map_value",
        |mut c: Caller<'_, HostState>, map_type: i32, key_ptr: i32, key_len: i32, val_ptr: i32, val_len: i32| -> Result<i32> {
            let key = read_string(&mut c, key_ptr, key_len)?.to_ascii_lowercase();
            let value = read(&mut c, val_ptr, val_len)?;
            if kong(c.data()) {
                if let Some(answer) = kong_set_check(c.data(), map_type)? {
                    return Ok(answer);
                }
                if map_type == 0 && kong_request_header_set(c.data(), &key, &value) {
                    return Ok(status::OK);
                }
            }
            let done = write_map(c.data_mut(), map_type, |m| m.push((key, value)));
            Ok(if done.is_some() { status::OK } else { status::BAD_ARGUMENT })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_property",
        |mut c: Caller<'_, HostState>, path_ptr: i32, path_len: i32, ret_ptr: i32, ret_size: i32| -> Result<i32> {
            let path = read(&mut c, path_ptr, path_len)?;
            let key = property_key(&path);
            if c.data().shared.profile == HostProfile::Envoy {
                if let Some(answer) = envoy_filter_state(c.data(), &path) {
                    return match answer {
                        Some(value) => return_bytes(&mut c, &value, ret_ptr, ret_size),
                        None => Ok(status::NOT_FOUND),
                    };
                }
            }
            if kong(c.data()) {
                match kong_get_property(c.data(), &key)? {
                    Some(Ok(value)) => return return_bytes(&mut c, &value, ret_ptr, ret_size),
                    Some(Err(code)) => return Ok(code),
                    None => {}
                }
            }
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
            if kong(state) {
                if state.is_root() && key.contains('.') {
                    // ngx_proxy_wasm_properties.c `ngx_proxy_wasm_properties_set`.
                    host_log(state, "error", "[wasm] cannot set scoped properties outside of a request".into());
                    return Ok(status::INTERNAL_FAILURE);
                }
                let mut stream = lock(&state.shared.stream);
                match key.as_str() {
                    "ngx.args" => {
                        // nginx's `$args` setter: the URI is marked changed (kong-engine.md).
                        stream.ngx_args = value;
                        stream.uri_changed = true;
                        return Ok(status::OK);
                    }
                    "ngx.upstream_uri" => {
                        stream.upstream_uri = Some(value);
                        return Ok(status::OK);
                    }
                    _ => {}
                }
            }
            if kong(state) && state.shared.plain_nginx && key.starts_with("kong.") {
                // No Kong Gateway: nothing handles its namespace (NGX_DECLINED).
                return Ok(status::NOT_FOUND);
            }
            match props::set_rule(state.shared.profile, &key) {
                SetRule::Refuse => return Ok(status::BAD_ARGUMENT),
                SetRule::Trap => bail!("cannot set immutable nginx variable \"{key}\""),
                SetRule::Target if !props::valid_target(&value) => return Ok(status::BAD_ARGUMENT),
                SetRule::Target | SetRule::Store => {}
            }
            if state.shared.profile == HostProfile::Envoy {
                // `Context::setProperty`: filter state `wasm.<path>` of the stream; a root
                // context has none (NotFound). The raw path is the key, so a
                // multi-segment path never reads back (getProperty looks up only its
                // first segment).
                if state.is_root() {
                    return Ok(status::NOT_FOUND);
                }
                lock(&state.shared.stream).filter_state.insert(envoy_state_key(&path), value);
                return Ok(status::OK);
            }
            if state.is_root() {
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
            if kong(c.data()) && !kong_zone_declared(c.data(), &key) {
                // ngx_proxy_wasm_host.c `ngx_proxy_wasm_hfuncs_get_shared_data`: a trap.
                bail!("failed getting value from shm (could not resolve namespace)");
            }
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
            if kong(c.data()) && !kong_zone_declared(c.data(), &key) {
                // ngx_proxy_wasm_host.c `ngx_proxy_wasm_hfuncs_set_shared_data`: a trap.
                bail!("failed setting value to shm (could not resolve namespace)");
            }
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
        // Envoy's `Context::continueStream` drops the map of the stream it continues.
        if stream_type == 0 {
            c.data_mut().request_headers_released = true;
        } else {
            c.data_mut().response_headers_released = true;
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
         details_ptr: i32,
         details_len: i32,
         body_ptr: i32,
         body_len: i32,
         headers_ptr: i32,
         headers_len: i32,
         grpc_status: i32|
         -> Result<i32> {
            let body = read(&mut c, body_ptr, body_len)?;
            let headers = deserialize_map(&read(&mut c, headers_ptr, headers_len)?)?;
            let state = c.data();
            if state.is_root() {
                // Envoy: Ok, and nothing happens (`context.cc` `sendLocalResponse` has no
                // stream to answer); Kong: NotFound.
                return Ok(if kong(state) { status::NOT_FOUND } else { status::OK });
            }
            if kong(state) && !(100..=999).contains(&code) {
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
            if !kong(c.data()) {
                let details = read(&mut c, details_ptr, details_len)?;
                let details: String = String::from_utf8_lossy(&details).chars().map(|ch| if ch.is_ascii_whitespace() { '_' } else { ch }).collect();
                lock(&c.data().shared.stream).response_code_details = Some(details);
            }
            let grpc_status = u32::try_from(grpc_status).ok().filter(|s| *s <= 16);
            c.data_mut().local_reply = Some(LocalReply { status: code as u16, headers, body, grpc_status });
            Ok(status::OK)
        },
    )?;
    linker.func_wrap("env", "proxy_set_effective_context", |mut c: Caller<'_, HostState>, id: i32| -> Result<i32> {
        // Kong's engine answers Ok and changes nothing (ngx_proxy_wasm_host.c
        // `ngx_proxy_wasm_hfuncs_set_effective_context`).
        if c.data().shared.profile != HostProfile::Kong {
            c.data_mut().context_id = id;
        }
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
            let stat = {
                let mut metrics = lock(&c.data().shared.metrics);
                match metrics.iter().position(|(n, _, _)| *n == name) {
                    Some(i) => i,
                    None => {
                        metrics.push((name, kind, 0));
                        metrics.len() - 1
                    }
                }
            };
            let id = if kong(c.data()) {
                stat
            } else {
                let mut ids = lock(&c.data().shared.metric_ids);
                ids.push(stat);
                ids.len() - 1
            };
            write_u32(&mut c, ret_id, id as u32)?;
            Ok(status::OK)
        },
    )?;
    linker.func_wrap("env", "proxy_increment_metric", |c: Caller<'_, HostState>, id: i32, offset: i64| -> Result<i32> {
        let envoy = !kong(c.data());
        let stat = stat_of(c.data(), id);
        let mut metrics = lock(&c.data().shared.metrics);
        match stat.and_then(|i| metrics.get_mut(i)) {
            // Histograms are recorded, not incremented; counters only go up (Envoy:
            // `context.cc` `incrementMetric`, a counter's offset must be > 0).
            Some((_, 2, _)) => Ok(status::BAD_ARGUMENT),
            Some((_, 0, _)) if offset < 0 || (envoy && offset == 0) => Ok(status::BAD_ARGUMENT),
            Some((_, _, v)) => {
                *v = v.saturating_add(offset);
                Ok(status::OK)
            }
            None => Ok(status::NOT_FOUND),
        }
    })?;
    linker.func_wrap("env", "proxy_record_metric", |c: Caller<'_, HostState>, id: i32, value: i64| -> Result<i32> {
        let envoy = !kong(c.data());
        let stat = stat_of(c.data(), id);
        let mut metrics = lock(&c.data().shared.metrics);
        match stat.and_then(|i| metrics.get_mut(i)) {
            // Envoy (`context.cc` `recordMetric`): a counter adds, a gauge sets.
            Some((_, 0, v)) if envoy => {
                *v = v.saturating_add(value);
                Ok(status::OK)
            }
            Some((_, _, v)) => {
                *v = value;
                Ok(status::OK)
            }
            None => Ok(status::NOT_FOUND),
        }
    })?;
    linker.func_wrap("env", "proxy_get_metric", |mut c: Caller<'_, HostState>, id: i32, ret: i32| -> Result<i32> {
        let stat = stat_of(c.data(), id);
        let value = stat.and_then(|i| lock(&c.data().shared.metrics).get(i).map(|(_, kind, v)| (*kind, *v)));
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
            let envoy = c.data().shared.profile == HostProfile::Envoy;
            let present = |name: &str| headers.iter().any(|(n, _)| n == name);
            let has = |name: &str| headers.iter().any(|(n, v)| n == name && !v.is_empty());
            let target = dispatch::target(&c.data().shared.call_targets, &upstream);
            if envoy {
                // Envoy `context.cc` `Context::httpCall`, in its order: a negative timeout
                // (the ABI's u32 read as `int`), an unknown cluster, then a missing
                // `:path`, `:method` or `:authority` (`Path() == nullptr ...`: present,
                // empty values pass) are each BadArgument at call time.
                if timeout_ms < 0 || target.is_none() || !present(":method") || !present(":path") || !present(":authority") {
                    return Ok(status::BAD_ARGUMENT);
                }
            } else if upstream.trim().is_empty() || !has(":method") || !has(":path") {
                // ngx_wasm_module needs a host to connect to, a method and a path; it
                // resolves the host when the call runs (a failure is `:dispatch_status:
                // resolver failure`).
                return Ok(status::BAD_ARGUMENT);
            }
            let state = c.data_mut();
            state.last_token = state.last_token.wrapping_add(1).max(1);
            let token = state.last_token;
            // cpp-host `exports.cc` `http_call` makes the call on
            // `contextOrEffectiveContext()->root_context()`, so Envoy answers with
            // `proxy_on_http_call_response(root context, token, ...)`; ngx_wasm_module on
            // the context that dispatched it.
            let context_id = if envoy { state.root_context_id } else { state.context_id };
            state.pending_calls.push_back(HttpCall { token, context_id, upstream, target, headers, body, timeout_ms: timeout_ms as u32 });
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

/// The first-segment names Envoy's `Context::findValue` answers itself
/// (`PROPERTY_TOKENS` in `source/extensions/common/wasm/context.cc`): a filter-state value
/// never shadows them.
const ENVOY_PROPERTY_TOKENS: &[&str] = &[
    "metadata", "request", "response", "connection", "upstream", "node", "source", "destination",
    "listener_direction", "listener_metadata", "cluster_name", "cluster_metadata", "route_name",
    "route_metadata", "plugin_name", "upstream_host_metadata", "plugin_root_id", "plugin_vm_id",
    "connection_id", "filter_state",
];

/// Envoy's key for a `proxy_set_property` path: `wasm.` + the raw path (segments joined
/// by NUL, as the ABI passes them).
fn envoy_state_key(path: &[u8]) -> String {
    format!("wasm.{}", String::from_utf8_lossy(path))
}

/// Envoy: a `proxy_get_property` served from filter state: `Some(Some(value))` found,
/// `Some(None)` not found, `None` when the first segment is a built-in attribute (the
/// ordinary lookup answers). Only the first segment is looked up as a filter-state key
/// (`Context::findValue`), and a bytes value has no fields below it.
fn envoy_filter_state(state: &HostState, path: &[u8]) -> Option<Option<Vec<u8>>> {
    let mut segments = path.split(|&b| b == 0).filter(|s| !s.is_empty());
    let first = segments.next()?;
    // Built-in attributes, and values the chain file gives as host properties, answer
    // through the ordinary lookup.
    if ENVOY_PROPERTY_TOKENS.contains(&String::from_utf8_lossy(first).as_ref()) || state.shared.properties.contains_key(&property_key(path)) {
        return None;
    }
    if segments.next().is_some() {
        return Some(None);
    }
    if state.is_root() && state.callback != Callback::Log {
        return Some(None);
    }
    Some(lock(&state.shared.stream).filter_state.get(&envoy_state_key(first)).cloned())
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
    if state.shared.profile == crate::spec::HostProfile::Kong {
        if let Some(value) = props::kong_forwarded(key, &stream, &state.shared.properties) {
            return Some(value);
        }
    }
    props::computed(state.shared.profile, key, &state.filter_name, &state.root_id, &stream)
}

/// Kong: whether shared-data `key` resolves to a declared `shm_kv` zone: the zone named
/// before its first `/` when declared, else `*` (ngx_wa_shm_kv.c `ngx_wa_shm_kv_resolve_key`).
pub fn kong_zone_declared(state: &HostState, key: &str) -> bool {
    let zones = &state.shared.shm_zones;
    if let Some((namespace, _)) = key.split_once('/') {
        if !namespace.is_empty() && zones.iter().any(|z| z == namespace) {
            return true;
        }
    }
    zones.iter().any(|z| z == "*")
}

/// Kong: the properties ngx_wasm_module answers itself before any lookup
/// (ngx_proxy_wasm_properties.c `ngx_proxy_wasm_properties_get` and its table):
/// `Some(Ok(value))`, `Some(Err(status))`, or `None` for the ordinary lookup.
fn kong_get_property(state: &HostState, key: &str) -> Result<Option<std::result::Result<Vec<u8>, i32>>> {
    const NOT_SUPPORTED: &[&str] = &[
        "node",
        "cluster_name",
        "cluster_metadata",
        "listener_direction",
        "listener_metadata",
        "route_name",
        "route_metadata",
        "upstream_host_metadata",
        "response.code_details",
        "response.flags",
        "connection.termination_details",
    ];
    const NYI: &[&str] = &[
        "plugin_vm_id",
        "response.grpc_status",
        "response.trailers",
        "upstream.tls_version",
        "upstream.local_address",
        "upstream.transport_failure_reason",
        "connection.subject_peer_certificate",
        // ngx_proxy_wasm_properties.c: the SAN and digest attributes are `nyi` too.
        "connection.dns_san_local_certificate",
        "connection.dns_san_peer_certificate",
        "connection.uri_san_local_certificate",
        "connection.uri_san_peer_certificate",
        "connection.sha256_peer_certificate_digest",
    ];
    let in_request = !state.is_root();
    if !in_request && key.contains('.') {
        host_log(state, "error", "[wasm] cannot get scoped properties outside of a request".into());
        return Ok(Some(Err(status::INTERNAL_FAILURE)));
    }
    if NYI.contains(&key) {
        host_log(state, "alert", format!("[wasm] NYI - \"{key}\" property"));
        return Ok(Some(Err(status::NOT_FOUND)));
    }
    if NOT_SUPPORTED.contains(&key) {
        host_log(state, "error", format!("[wasm] \"{key}\" property not supported"));
        return Ok(Some(Err(status::NOT_FOUND)));
    }
    if state.shared.plain_nginx && key.starts_with("kong.") {
        // No Kong Gateway: `kong.*` is neither in the property table, nor `ngx.*`, nor the
        // host namespace `wasmx.*`, so `ngx_proxy_wasm_properties_get` returns NGX_DECLINED
        // and `ngx_proxy_wasm_hfuncs_get_property` answers NotFound without a log line.
        // Observed in nginx 1.27.4 + ngx_wasm_module 3bed278 + wasmtime 26.0.1
        // (2026-12-07): reading `kong.version` logs nothing (`route_name` logs "not supported").
        return Ok(Some(Err(status::NOT_FOUND)));
    }
    match key {
        // `pwctx->root_id`: every filter's root context is 0 (get_filter_root_id).
        "plugin_root_id" => Ok(Some(Ok(b"0".to_vec()))),
        "plugin_name" if state.callback == Callback::Configure => {
            let message = format!(
                "nginx worker crashed (SIGSEGV): plugin_name read in on_configure of filter {:?} \
                 (ngx_proxy_wasm_properties.c get_filter_name: no request in the root context)",
                state.filter_name
            );
            *lock(&state.shared.crashed) = Some(message.clone());
            Err(wasmtime::Error::new(HostCrash(message)))
        }
        "plugin_name" => Ok(Some(Ok(state.filter_name.as_bytes().to_vec()))),
        _ => Ok(None),
    }
}

/// Kong: a `:path` or `content-length` write to the request headers, and clears a
/// removed entry being set again. Returns true when the write is fully handled
/// (`:path` never changes the map: reading it back gives the old value).
fn kong_request_header_set(state: &HostState, key: &str, value: &[u8]) -> bool {
    let mut stream = lock(&state.shared.stream);
    stream.removed_request_headers.retain(|(n, _)| n != key);
    match key {
        ":path" => {
            // ngx_proxy_wasm_maps.c `ngx_proxy_wasm_maps_set_path`: r->uri, and r->args
            // when the value has a query; the upstream still gets the client's URI.
            match value.iter().position(|&b| b == b'?') {
                Some(i) => {
                    stream.ngx_uri = value[..i].to_vec();
                    stream.ngx_args = value[i + 1..].to_vec();
                }
                None => stream.ngx_uri = value.to_vec(),
            }
            true
        }
        "content-length" => {
            stream.content_length_set = Some(value.to_vec());
            false
        }
        _ => false,
    }
}

/// Kong: `proxy_set_header_map_pairs` on the request headers: every entry is marked
/// removed (ngx_http_wasm_clear_req_headers; still forwarded), then each new pair set.
fn kong_replace_request_headers(state: &HostState, new_map: HeaderMap) {
    {
        let mut stream = lock(&state.shared.stream);
        let stream = &mut *stream;
        let old = std::mem::take(&mut stream.request_headers);
        let (pseudo, regular): (HeaderMap, HeaderMap) = old.into_iter().partition(|(n, _)| n.starts_with(':'));
        stream.request_headers = pseudo;
        for (name, value) in regular {
            if !new_map.iter().any(|(n, _)| *n == name) {
                stream.removed_request_headers.push((name, value));
            }
        }
    }
    for (name, value) in new_map {
        if kong_request_header_set(state, &name, &value) || name.starts_with(':') {
            // `:path` handled; other pseudo-headers are read-only (`:method` aside).
            if name == ":method" {
                let mut stream = lock(&state.shared.stream);
                if let Some(entry) = stream.request_headers.iter_mut().find(|(n, _)| n == ":method") {
                    entry.1 = value;
                }
            }
            continue;
        }
        lock(&state.shared.stream).request_headers.push((name, value));
    }
}

/// Kong's `proxy_get_buffer_bytes` (ngx_proxy_wasm_host.c `ngx_proxy_wasm_hfuncs_get_buffer`
/// and `ngx_proxy_wasm_get_buffer_helper`): bodies only in their callbacks (else a
/// trap), a request body "buffered to file" refused, no body NotFound, and the `start`
/// argument ignored (the host copies from the buffer's start, at most `max` bytes).
fn kong_get_buffer(c: &mut Caller<'_, HostState>, kind: i32, max: i32, ret_ptr: i32, ret_size: i32) -> Result<i32> {
    let data = {
        let state = c.data();
        let stream = lock(&state.shared.stream);
        match kind {
            0 => {
                if !matches!(state.callback, Callback::RequestHeaders | Callback::RequestBody | Callback::Log) {
                    bail!("can only get request body during \"on_request_body\", \"on_log\"");
                }
                if stream.request_body.is_empty() {
                    return Ok(status::NOT_FOUND);
                }
                if stream.request_body_in_file {
                    host_log(
                        state,
                        "error",
                        "[wasm] cannot read request body buffered to file at \"/usr/local/kong/client_body_temp/0000000001\"".into(),
                    );
                    return Ok(status::NOT_FOUND);
                }
                stream.request_body.clone()
            }
            1 => {
                if state.callback != Callback::ResponseBody {
                    bail!("can only get response body during \"on_response_body\"");
                }
                if stream.response_body.is_empty() {
                    return Ok(status::NOT_FOUND);
                }
                stream.response_body.clone()
            }
            4 => match &state.call_response {
                Some(response) if !response.body.is_empty() => response.body.clone(),
                Some(_) => return Ok(status::NOT_FOUND),
                None => return Ok(status::BAD_ARGUMENT),
            },
            6 => state.vm_config.clone(),
            7 => state.plugin_config.clone(),
            _ => {
                host_log(state, "alert", format!("[wasm] NYI - get_buffer bad buf_type: {kind}"));
                return Ok(status::BAD_ARGUMENT);
            }
        }
    };
    let len = data.len().min(max as u32 as usize);
    if len == 0 {
        // "eof": Ok, nothing returned.
        return Ok(status::OK);
    }
    return_bytes(c, &data[..len], ret_ptr, ret_size)
}

/// Kong's `proxy_set_buffer_bytes` (see [`kong_set_body`]): request body only during
/// the request callbacks, response body only in `on_response_body`, else a trap.
fn kong_set_buffer(state: &HostState, kind: i32, start: usize, size: usize, data: &[u8]) -> Result<i32> {
    let mut stream = lock(&state.shared.stream);
    match kind {
        0 => {
            if !matches!(state.callback, Callback::RequestHeaders | Callback::RequestBody) {
                bail!("can only set request body during \"on_request_body\"");
            }
            kong_set_body(&mut stream.request_body, start, size, data);
            stream.request_body_set_in_headers |= state.callback == Callback::RequestHeaders;
        }
        1 => {
            if state.callback != Callback::ResponseBody {
                bail!("can only set response body during \"on_response_body\"");
            }
            kong_set_body(&mut stream.response_body, start, size, data);
        }
        _ => {
            host_log(state, "alert", format!("[wasm] NYI - set_buffer bad buf_type: {kind}"));
            return Ok(status::BAD_ARGUMENT);
        }
    }
    Ok(status::OK)
}

/// `proxy_continue_stream`: marks the current (or effective) stream context resumed.
fn continue_current(c: &mut Caller<'_, HostState>) -> i32 {
    if c.data().is_root() {
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
        |mut c: Caller<'_, HostState>,
         service_ptr: i32,
         service_len: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32|
         -> Result<i32> {
            if kong(c.data()) {
                return Ok(status::UNIMPLEMENTED);
            }
            // Envoy `context.cc` `Context::grpcCall`: the service is a serialized
            // `GrpcService`, or else a cluster name; an unknown cluster is ParseFailure
            // (kept for ABI 0.1 callers, says the source). A call to a known cluster, or
            // a `GrpcService`, is not performed by the harness: Unimplemented.
            let service = read(&mut c, service_ptr, service_len)?;
            if parses_as_protobuf(&service) {
                return Ok(status::UNIMPLEMENTED);
            }
            let name = String::from_utf8_lossy(&service).into_owned();
            if crate::dispatch::target(&c.data().shared.call_targets, &name).is_none() {
                return Ok(status::PARSE_FAILURE);
            }
            Ok(status::UNIMPLEMENTED)
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
    // Kong: no `shm_queue` zone is ever declared here, so every queue call traps
    // ("could not find queue", ngx_proxy_wasm_host.c); `proxy_resolve_shared_queue` is a
    // no-op answering Ok there. Envoy: cpp-host `exports.cc` and `context.cc`
    // (`registerSharedQueue` keys on the VM's `vm_id` and the root context, a stream
    // context's parent; `lookupSharedQueue` takes an empty `vm_id` as its own, answers
    // NotFound for a name never registered) over [`SharedQueues`].
    linker.func_wrap("env", "proxy_register_shared_queue", |mut c: Caller<'_, HostState>, name_ptr: i32, name_len: i32, token_ptr: i32| -> Result<i32> {
        if kong(c.data()) {
            bail!("could not find queue");
        }
        let name = read(&mut c, name_ptr, name_len)?;
        let state = c.data();
        let token = lock(&state.shared.queues).register(&name, &state.filter_name, state.root_context_id);
        write_u32(&mut c, token_ptr, token)?;
        Ok(status::OK)
    })?;
    linker.func_wrap(
        "env",
        "proxy_resolve_shared_queue",
        |mut c: Caller<'_, HostState>, vm_id_ptr: i32, vm_id_len: i32, name_ptr: i32, name_len: i32, token_ptr: i32| -> Result<i32> {
            if kong(c.data()) {
                return Ok(status::OK);
            }
            let vm_id = read(&mut c, vm_id_ptr, vm_id_len)?;
            let name = read(&mut c, name_ptr, name_len)?;
            // The chain's one `vm_id` is empty (`plugin_vm_id`): another names no queue.
            let token = if vm_id.is_empty() { lock(&c.data().shared.queues).resolve(&name) } else { None };
            match token {
                Some(token) => {
                    write_u32(&mut c, token_ptr, token)?;
                    Ok(status::OK)
                }
                None => Ok(status::NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap("env", "proxy_dequeue_shared_queue", |mut c: Caller<'_, HostState>, token: i32, ret_ptr: i32, ret_size: i32| -> Result<i32> {
        if kong(c.data()) {
            bail!("could not find queue");
        }
        let item = lock(&c.data().shared.queues).dequeue(token as u32);
        match item {
            Ok(item) => return_bytes(&mut c, &item, ret_ptr, ret_size),
            Err(status) => Ok(status),
        }
    })?;
    linker.func_wrap("env", "proxy_enqueue_shared_queue", |mut c: Caller<'_, HostState>, token: i32, data_ptr: i32, data_len: i32| -> Result<i32> {
        if kong(c.data()) {
            bail!("could not find queue");
        }
        let data = read(&mut c, data_ptr, data_len)?;
        let answer = lock(&c.data().shared.queues).enqueue(token as u32, data);
        Ok(answer)
    })?;
    linker.func_wrap(
        "env",
        "proxy_call_foreign_function",
        |mut c: Caller<'_, HostState>, name_ptr: i32, name_len: i32, _: i32, _: i32, _: i32, _: i32| -> Result<i32> {
            if kong(c.data()) {
                return Ok(status::UNIMPLEMENTED);
            }
            // Envoy registers these (`source/extensions/common/wasm/foreign.cc`); the
            // harness runs none of them. Any other name is NotFound (cpp-host
            // `exports.cc` `call_foreign_function`).
            let name = read_string(&mut c, name_ptr, name_len)?;
            let known = matches!(name.as_str(), "compress" | "uncompress" | "set_envoy_filter_state" | "declare_property" | "clear_route_cache")
                || name.starts_with("expr_");
            Ok(if known { status::UNIMPLEMENTED } else { status::NOT_FOUND })
        },
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
