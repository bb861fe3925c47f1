//! The harness's JSON formats: chain files, request files and results.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One filter of a chain file: `{"name", "module", "config"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    /// The filter's name; given to the filter as its `plugin_name` property, and as
    /// `plugin_root_id` unless `root_id` says otherwise.
    pub name: String,
    /// Path to the `.wasm` module; relative paths resolve against the chain file's folder.
    pub module: PathBuf,
    /// The plugin configuration: an object is passed JSON-encoded, a string as is.
    #[serde(default)]
    pub config: Value,
    /// Envoy: the plugin's `root_id` when it is not its `name` (the `plugin_root_id`
    /// property; `plugin_name` stays `name`, Envoy `context.cc` `Context::getProperty`).
    /// `None`: the name. Kong's engine answers `plugin_root_id` "0" either way.
    #[serde(default)]
    pub root_id: Option<String>,
}

/// A chain file: `{"filters": [...], "vm_config": <optional>, "properties": <optional>}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    /// The filters, in request order.
    pub filters: Vec<FilterSpec>,
    /// The VM configuration handed to `proxy_on_vm_start`: object JSON-encoded, string as is.
    #[serde(default)]
    pub vm_config: Value,
    /// Host properties by dotted path (`"kong.configuration.untrusted_lua": "strict"`),
    /// answered by `proxy_get_property` for the path's segments joined with dots.
    #[serde(default)]
    pub properties: std::collections::BTreeMap<String, String>,
    /// Which host the harness behaves like (`"envoy"`, the default, or `"kong"`).
    #[serde(default)]
    pub profile: HostProfile,
    /// Deliver request and upstream response bodies in chunks of this many bytes (the
    /// last one with `end_of_stream`); absent: the request body in one chunk, the
    /// response body in one chunk followed by an empty end-of-stream chunk.
    #[serde(default)]
    pub body_chunk_size: Option<usize>,
    /// The level `proxy_get_log_level` answers: `trace` (the default), `debug`, `info`,
    /// `warn`, `error` or `critical`.
    #[serde(default)]
    pub log_level: Option<String>,
    /// Kong profile: nginx's `client_body_buffer_size`, in bytes; a request body larger
    /// than this is "buffered to a temp file" and cannot be read by filters
    /// (kong-engine.md "Request bodies"; ngx_proxy_wasm_host.c
    /// `ngx_proxy_wasm_get_buffer_helper`). Absent: [`DEFAULT_CLIENT_BODY_BUFFER_SIZE`]
    /// (nginx's default on 64-bit platforms, `ngx_http_core_module.c`).
    #[serde(default)]
    pub client_body_buffer_size: Option<usize>,
    /// Kong profile: the `shm_kv` zones declared in `wasm{}` (`"*"` is the default zone).
    /// A shared-data key resolves to the zone named before its first `/`, else `*`; with
    /// no such zone, shared-data calls trap (ngx_wa_shm_kv.c `ngx_wa_shm_kv_resolve_key`,
    /// ngx_proxy_wasm_host.c). Absent or empty: no zone at all. Ignored by `envoy`.
    #[serde(default)]
    pub shm_zones: Vec<String>,
    /// Where `proxy_http_call` upstreams go: an upstream name (an Envoy cluster name, or
    /// the `host:port` Kong's engine would resolve) -> the loopback `127.0.0.1:PORT` the
    /// harness sends the call to. Unmapped, `127.0.0.1:PORT` and `localhost:PORT` go
    /// there and `echo` is the built-in echo upstream; any other name is an unknown
    /// cluster (Envoy: `BadArgument` at call time) or a host the harness cannot resolve
    /// (Kong: `:dispatch_status: resolver failure`).
    #[serde(default)]
    pub call_targets: std::collections::BTreeMap<String, String>,
    /// Envoy profile: which Envoy, and whether the plugins set
    /// `allow_on_headers_stop_iteration` (see [`EnvoyMode`]). Ignored by `kong`.
    #[serde(default)]
    pub envoy: EnvoyMode,
    /// Kong profile: nginx with ngx_wasm_module alone, outside Kong Gateway. Kong
    /// Gateway registers the `kong.*` properties (`kong/runloop/wasm/properties.lua`,
    /// through ngx_wasm_module's Lua bridge); without it they do not exist (reads and
    /// writes answer NotFound, nothing is logged: checked by hand 2026-12-07,
    /// docs/hosts.md), and the engine's own host
    /// namespace `wasmx.*` holds per-request values (kong-engine.md, "Measured again
    /// 2026-12-07"; `ngx_proxy_wasm_properties.c`). Default false: Kong Gateway.
    #[serde(default)]
    pub plain_nginx: bool,
    /// Kong profile: nginx's `default_type` in the filters' location, which nginx gives a
    /// filter's local response that sets no `Content-Type` (checked by hand in the
    /// engine, docs/hosts.md). `None` (the default): Kong Gateway's proxy locations,
    /// which set `default_type ''` (kong/templates/nginx_kong.lua): no Content-Type.
    #[serde(default)]
    pub default_type: Option<String>,
    /// Envoy profile: the listener's `per_connection_buffer_limit_bytes` (default
    /// [`ENVOY_BUFFER_LIMIT_BYTES`]): a body a filter buffers (StopIterationAndBuffer)
    /// past it ends the stream (413 on the request side, 500 or a reset on the response
    /// side; `filter_manager.cc` `requestDataTooLarge`, `responseDataTooLarge`).
    #[serde(default)]
    pub buffer_limit_bytes: Option<usize>,
    /// Envoy profile: the connection manager's `upgrade_configs[].upgrade_type`s, e.g.
    /// `["websocket"]` (what `envoy/envoy.yaml` sets). An upgrade request of any other
    /// type is answered 403 before the filters see it (`conn_manager_impl.cc`: the
    /// filter chain refuses the upgrade, `sendLocalReply(Forbidden, ..., upgrade_failed)`).
    /// Default none, as Envoy's.
    #[serde(default)]
    pub upgrade_types: Vec<String>,
    /// Envoy profile: the plugins' `fail_open` (`failure_policy: FAIL_OPEN`). Once a trap
    /// failed the VM, every later stream skips the Wasm filters and goes on without them
    /// (`wasm_filter.cc`: `createFilter` answers no filter, "fail open skips adding this
    /// filter"); default false (`FAIL_CLOSED`, as our `envoy.yaml`): 503 from
    /// `wasm_fail_stream`.
    #[serde(default)]
    pub fail_open: bool,
    /// Envoy profile: the route table ([`RouteSpec`], first match wins). The connection
    /// manager picks the route before the filters run; a filter's request-header write
    /// (`:path` included) clears the route cache and the router picks again from the
    /// headers as the filters left them; no matching route: the router answers **404**
    /// with an empty body (`route_not_found`) after the request filters ran. The echo
    /// upstream answers for every cluster; [`UpstreamRequest::cluster`] names the one
    /// chosen. Empty (the default): one catch-all route `harness-route` to `echo`.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    /// Envoy profile: leave out the configuration canary. Envoy runs it once per
    /// configuration load, on the main thread, not per worker; benchmarks that measure one
    /// worker's VM start + configure set this. Tests keep the canary (the default).
    #[serde(default)]
    pub skip_canary: bool,
}

/// One route of the Envoy profile's route table (`ChainSpec.routes`): requests whose
/// path (query left out) starts with `prefix` go to `cluster`, as a `RouteConfiguration`
/// virtual host's `routes: [{name, match: {prefix}, route: {cluster}}]`; first match wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// The route's `name` (the `route_name` property); default empty, as Envoy's.
    #[serde(default)]
    pub name: String,
    /// `match.prefix`.
    pub prefix: String,
    /// `route.cluster` (the `cluster_name` property and [`UpstreamRequest::cluster`]).
    pub cluster: String,
}

impl RouteSpec {
    /// The first route of `routes` whose prefix starts `path` (its query left out), as
    /// Envoy's `RouteMatcher` with prefix matches.
    pub fn pick(routes: &[RouteSpec], path: &[u8]) -> Option<usize> {
        let end = path.iter().position(|&b| b == b'?').unwrap_or(path.len());
        routes.iter().position(|r| path[..end].starts_with(r.prefix.as_bytes()))
    }
}

/// Envoy's default `per_connection_buffer_limit_bytes`: 1 MiB
/// (`envoy/config/listener/v3/listener.proto`, `envoy/config/cluster/v3/cluster.proto`).
pub const ENVOY_BUFFER_LIMIT_BYTES: usize = 1024 * 1024;

/// The Envoy the `envoy` profile behaves like: `{"version": "1.35",
/// "allow_on_headers_stop_iteration": true}`.
///
/// proxy-wasm-cpp-host `ContextBase::convertVmCallResultToFilterHeadersStatus` turns a
/// filter's `StopIteration` from a headers callback into `StopAllIterationAndWatermark`:
/// the filter then gets no body callback until it calls `proxy_continue_stream`, and a
/// filter that waits for the body hangs until the stream idle timeout. Since cpp-host #434
/// (Envoy 1.35), a plugin whose Wasm config sets `allow_on_headers_stop_iteration: true`
/// gets `StopIteration` as written: headers held, body callbacks delivered
/// (`shared/design/envoy-host.md`, "Stream control").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvoyMode {
    /// Envoy's minor version as `"1.MINOR"`; the flag below exists from `"1.35"` on.
    /// Default `"1.35"`.
    #[serde(rename = "version", with = "envoy_version")]
    pub minor: u32,
    /// The plugins' `allow_on_headers_stop_iteration` (default false, as Envoy's).
    pub allow_on_headers_stop_iteration: bool,
}

impl Default for EnvoyMode {
    fn default() -> Self {
        EnvoyMode { minor: 35, allow_on_headers_stop_iteration: false }
    }
}

impl EnvoyMode {
    /// Envoy 1.31 (what `envoy/envoy.yaml` targeted before): no flag.
    pub const V1_31: EnvoyMode = EnvoyMode { minor: 31, allow_on_headers_stop_iteration: false };
    /// Envoy 1.35+ without the flag (its default).
    pub const V1_35: EnvoyMode = EnvoyMode { minor: 35, allow_on_headers_stop_iteration: false };
    /// Envoy 1.35+ with `allow_on_headers_stop_iteration: true` (the shipped config).
    pub const V1_35_HOLD: EnvoyMode = EnvoyMode { minor: 35, allow_on_headers_stop_iteration: true };
    /// Every mode the tests run in.
    pub const ALL: [EnvoyMode; 3] = [EnvoyMode::V1_31, EnvoyMode::V1_35, EnvoyMode::V1_35_HOLD];

    /// Whether a `Pause` from a headers callback holds only the headers and still
    /// delivers this filter's body callbacks (`StopIteration`), rather than stopping them
    /// too (`StopAllIterationAndWatermark`).
    pub fn headers_pause_delivers_body(&self) -> bool {
        self.minor >= 35 && self.allow_on_headers_stop_iteration
    }
}

/// `"1.35"` <-> 35.
mod envoy_version {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(minor: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("1.{minor}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let text = String::deserialize(d)?;
        text.strip_prefix("1.")
            .and_then(|m| m.split('.').next())
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| serde::de::Error::custom(format!("envoy version {text:?}: expected \"1.MINOR\", e.g. \"1.35\"")))
    }
}

/// nginx's `client_body_buffer_size` default on 64-bit platforms (2 pages: 16 KiB).
pub const DEFAULT_CLIENT_BODY_BUFFER_SIZE: usize = 16 * 1024;

/// The proxy-wasm host the harness imitates for a run.
///
/// `envoy`: Envoy's attribute names and filter order, `end_of_stream` as sent.
/// `kong`: Kong Gateway's Wasm engine (nginx 1.27.4 + ngx_wasm_module 3bed278), as
/// measured in `shared/design/kong-engine.md`; every modelled behaviour is listed in
/// `docs/hosts.md` with its source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostProfile {
    /// Envoy (the default).
    #[default]
    Envoy,
    /// Kong Gateway's Wasm engine.
    Kong,
}

impl ChainSpec {
    /// Reads a chain file, resolving module paths against its folder.
    ///
    /// Errors: unreadable file, invalid JSON, or a field of the wrong shape; the message
    /// names the file.
    pub fn from_file(path: &Path) -> wasmtime::Result<ChainSpec> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| wasmtime::format_err!("{}: cannot read: {e}", path.display()))?;
        let mut spec: ChainSpec = serde_json::from_str(&text)
            .map_err(|e| wasmtime::format_err!("{}: invalid chain file: {e}", path.display()))?;
        if spec.filters.is_empty() {
            wasmtime::bail!("{}: invalid chain file: \"filters\" is empty", path.display());
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for filter in &mut spec.filters {
            if filter.module.is_relative() {
                filter.module = base.join(&filter.module);
            }
        }
        Ok(spec)
    }
}

/// Bytes a JSON config value stands for: strings as is, anything else JSON-encoded,
/// `null` as empty.
pub fn config_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::Null => Vec::new(),
        Value::String(s) => s.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    }
}

/// Bytes written in a chain or request file: a JSON string stands for its UTF-8 bytes;
/// `{"hex": "ff00"}` for any bytes at all (JSON strings cannot hold non-UTF-8 bytes, and
/// `\u00ff` is the two UTF-8 bytes of U+00FF).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The bytes as text, invalid UTF-8 replaced by U+FFFD.
    pub fn lossy(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&str> for Bytes {
    fn from(s: &str) -> Bytes {
        Bytes(s.as_bytes().to_vec())
    }
}

impl From<String> for Bytes {
    fn from(s: String) -> Bytes {
        Bytes(s.into_bytes())
    }
}

impl From<&String> for Bytes {
    fn from(s: &String) -> Bytes {
        Bytes(s.as_bytes().to_vec())
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Bytes {
        Bytes(bytes)
    }
}

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Bytes {
        Bytes(bytes.to_vec())
    }
}

/// Decodes `{"hex": ...}`: two hex digits per byte, whitespace ignored.
fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(format!("hex bytes {text:?}: odd number of digits"));
    }
    let nibble = |d: u8| (d as char).to_digit(16).map(|n| n as u8).ok_or_else(|| format!("hex bytes {text:?}: {:?} is not a hex digit", d as char));
    digits.chunks(2).map(|pair| Ok(nibble(pair[0])? << 4 | nibble(pair[1])?)).collect()
}

impl Bytes {
    /// A JSON value in either form (see [`Bytes`]); other values are JSON-encoded.
    fn from_value(value: &Value) -> Result<Bytes, String> {
        match value {
            Value::String(s) => Ok(s.as_str().into()),
            Value::Object(o) if o.len() == 1 && o.get("hex").is_some_and(Value::is_string) => {
                from_hex(o["hex"].as_str().unwrap_or_default()).map(Bytes)
            }
            other => Ok(other.to_string().into()),
        }
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match &value {
            Value::String(_) | Value::Object(_) => Bytes::from_value(&value).map_err(serde::de::Error::custom),
            _ => Err(serde::de::Error::custom("expected a string or {\"hex\": \"...\"}")),
        }
    }
}

/// `bytes` for a transcript or a message: valid UTF-8 as is, every other byte as `\xNN`
/// (and a literal backslash as `\\`), so binary bytes stay visible and unambiguous.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                c if c.is_ascii_control() && c != '\n' && c != '\t' => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Headers as `[[name, value], ...]` or `{name: value}`; names and values are [`Bytes`].
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(untagged)]
pub enum HeadersSpec {
    /// Ordered pairs; names may repeat.
    Pairs(Vec<(Bytes, Bytes)>),
    /// An object; one value per name.
    Map(serde_json::Map<String, Value>),
    #[default]
    #[serde(skip)]
    /// No headers.
    None,
}

impl HeadersSpec {
    /// The headers as ordered pairs with ASCII-lowercased names, byte for byte.
    pub fn byte_pairs(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        match self {
            HeadersSpec::Pairs(p) => p.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.0.clone())).collect(),
            HeadersSpec::Map(m) => m
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase().into_bytes(), Bytes::from_value(v).unwrap_or_else(|e| e.into()).0))
                .collect(),
            HeadersSpec::None => Vec::new(),
        }
    }

    /// [`HeadersSpec::byte_pairs`] as text (invalid UTF-8 replaced by U+FFFD).
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.byte_pairs()
            .into_iter()
            .map(|(n, v)| (String::from_utf8_lossy(&n).into_owned(), String::from_utf8_lossy(&v).into_owned()))
            .collect()
    }
}

/// A scripted upstream response: `{"status", "headers", "body"}`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSpec {
    /// Status; 200 when absent.
    #[serde(default)]
    pub status: Option<u16>,
    /// Response headers.
    #[serde(default)]
    pub headers: HeadersSpec,
    /// Response body ([`Bytes`]).
    #[serde(default)]
    pub body: Option<Bytes>,
}

/// One request: `{"method", "path", "headers", "body", "upstream"}`; only `path` is required.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// Method; `GET` when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Path with optional query string ([`Bytes`]).
    pub path: Bytes,
    /// Request headers.
    #[serde(default)]
    pub headers: HeadersSpec,
    /// Request body ([`Bytes`]).
    #[serde(default)]
    pub body: Option<Bytes>,
    /// The upstream's response; the echo upstream answers when absent.
    #[serde(default)]
    pub upstream: Option<UpstreamSpec>,
    /// The client sends the headers and `body`, then stops without ending the request
    /// (a slow or stalled upload): the host's timeout ends the stream with 408 (Envoy:
    /// the stream idle timeout, `conn_manager_impl.cc` `onIdleTimeout`; nginx:
    /// `client_body_timeout`), unless a filter answered first. Only for a request that
    /// announces a body (`content-length` or `transfer-encoding`): one without ends at its
    /// headers.
    #[serde(default)]
    pub incomplete: bool,
}

impl RequestSpec {
    /// A GET of `path` with no headers.
    pub fn get(path: impl Into<Bytes>) -> RequestSpec {
        RequestSpec { method: None, path: path.into(), headers: HeadersSpec::None, body: None, upstream: None, incomplete: false }
    }

    /// This request with one more header.
    pub fn header(self, name: &str, value: &str) -> RequestSpec {
        self.header_bytes(name.as_bytes(), value.as_bytes())
    }

    /// This request with one more header, name and value as any bytes.
    pub fn header_bytes(mut self, name: &[u8], value: &[u8]) -> RequestSpec {
        let mut pairs: Vec<(Bytes, Bytes)> = self.headers.byte_pairs().into_iter().map(|(n, v)| (n.into(), v.into())).collect();
        pairs.push((name.to_ascii_lowercase().into(), value.into()));
        self.headers = HeadersSpec::Pairs(pairs);
        self
    }
}

/// One captured log line.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LogEntry {
    /// The filter's name from the chain file.
    pub filter: String,
    /// `trace`, `debug`, `info`, `warn`, `error` or `critical`.
    pub level: String,
    /// The message.
    pub message: String,
}

/// What the upstream received.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UpstreamRequest {
    /// Method.
    pub method: String,
    /// Path with query string.
    pub path: String,
    /// Headers (pseudo-headers left out), in order.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
    /// The path with query string, byte for byte (`path` is it as text).
    #[serde(skip)]
    pub path_bytes: Vec<u8>,
    /// The headers, values byte for byte (`headers` has them as text).
    #[serde(skip)]
    pub raw_headers: Vec<(String, Vec<u8>)>,
    /// The body, byte for byte (`body` is it as text).
    #[serde(skip)]
    pub body_bytes: Vec<u8>,
    /// The `Host` the upstream received, which `headers` leaves out with the other
    /// pseudo-headers: the stream's `:authority` when the request went upstream (Envoy's
    /// HTTP/1 codec writes `:authority` as `Host`, `source/common/http/http1/codec_impl.cc`
    /// `StreamEncoderImpl::encodeHeaders`). Absent when unknown (not serialized then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// The body as lowercase hex when it is not valid UTF-8 (`body` then has U+FFFD in
    /// place of the invalid bytes); absent otherwise (not serialized then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_hex: Option<String>,
    /// Envoy with a route table (`ChainSpec.routes`): the cluster of the route the
    /// request went to. Absent otherwise (not serialized then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

impl UpstreamRequest {
    /// What the upstream received: `path`, `headers` (pseudo-headers left out) and `body`
    /// byte for byte, and as text (invalid UTF-8 replaced by U+FFFD).
    pub fn new(method: String, path: Vec<u8>, headers: Vec<(String, Vec<u8>)>, body: Vec<u8>) -> UpstreamRequest {
        let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        UpstreamRequest {
            method,
            path: text(&path),
            headers: headers.iter().map(|(n, v)| (n.clone(), text(v))).collect(),
            body: text(&body),
            path_bytes: path,
            raw_headers: headers,
            body_hex: std::str::from_utf8(&body).is_err().then(|| body.iter().map(|b| format!("{b:02x}")).collect()),
            body_bytes: body,
            authority: None,
            cluster: None,
        }
    }

    /// This record with the `Host` the upstream received (see [`UpstreamRequest::authority`]).
    pub fn with_authority(mut self, authority: Option<&[u8]>) -> UpstreamRequest {
        self.authority = authority.map(|a| String::from_utf8_lossy(a).into_owned());
        self
    }

    /// This record with the cluster the request was routed to (see [`UpstreamRequest::cluster`]).
    pub fn with_cluster(mut self, cluster: Option<String>) -> UpstreamRequest {
        self.cluster = cluster;
        self
    }

    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The first value of header `name` (lowercase), byte for byte.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.raw_headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
}

/// The result of one request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Outcome {
    /// The status the client got.
    pub status: u16,
    /// The response headers the client got, in order.
    pub headers: Vec<(String, String)>,
    /// The response body.
    pub body: String,
    /// What the upstream received, or `null` when the request never reached it.
    pub upstream: Option<UpstreamRequest>,
    /// Every filter's log lines, in the order they were written.
    pub logs: Vec<LogEntry>,
    /// The response headers, values byte for byte (`headers` has them as text).
    #[serde(skip)]
    pub raw_headers: Vec<(String, Vec<u8>)>,
    /// The response body, byte for byte (`body` is it as text).
    #[serde(skip)]
    pub body_bytes: Vec<u8>,
    /// Set when the stream never completed and the host ended it on its stream idle
    /// timeout (Envoy) or the client gave up (Kong): why it hung. A filter that causes
    /// this would hold a real request for minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hung: Option<String>,
    /// Envoy: the stream was reset after the response headers went out (a local reply
    /// from a response body callback): the client got the headers and no complete body.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
}

impl Outcome {
    /// An outcome from the bytes the client got; `headers` and `body` as text.
    pub fn new(status: u16, headers: Vec<(String, Vec<u8>)>, body: Vec<u8>, upstream: Option<UpstreamRequest>, logs: Vec<LogEntry>) -> Outcome {
        Outcome {
            status,
            headers: headers.iter().map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned())).collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
            upstream,
            logs,
            raw_headers: headers,
            body_bytes: body,
            hung: None,
            reset: false,
        }
    }

    /// This outcome marked as a stream that hung for `reason` (see [`Outcome::hung`]).
    pub fn with_hang(mut self, reason: String) -> Outcome {
        self.hung = Some(reason);
        self
    }

    /// The first value of response header `name` (lowercase), byte for byte.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.raw_headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    /// The first value of response header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The messages of every log line, in order.
    pub fn messages(&self) -> Vec<&str> {
        self.logs.iter().map(|l| l.message.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_files_write_any_bytes_with_hex() {
        let text = r#"{"path": {"hex": "2f636166e9"}, "headers": [["x-bin", {"hex": "ff 00 fe"}], ["x-text", "caf\u00e9"]],
                       "body": {"hex": "00ff"}}"#;
        let request: RequestSpec = serde_json::from_str(text).expect("a request file");
        assert_eq!(request.path.0, b"/caf\xe9");
        // A JSON string is its UTF-8 bytes: \u00e9 is two bytes, not 0xe9.
        assert_eq!(request.headers.byte_pairs(), vec![(b"x-bin".to_vec(), b"\xff\x00\xfe".to_vec()), (b"x-text".to_vec(), "café".as_bytes().to_vec())]);
        assert_eq!(request.body.map(|b| b.0), Some(b"\x00\xff".to_vec()));
        let map: RequestSpec = serde_json::from_str(r#"{"path": "/", "headers": {"x-bin": {"hex": "80"}}}"#).expect("map form");
        assert_eq!(map.headers.byte_pairs(), vec![(b"x-bin".to_vec(), b"\x80".to_vec())]);
        let odd = serde_json::from_str::<RequestSpec>(r#"{"path": {"hex": "abc"}}"#).unwrap_err().to_string();
        assert!(odd.contains("odd number of digits"), "{odd}");
    }

    #[test]
    fn transcripts_escape_what_is_not_utf8() {
        assert_eq!(escape_bytes(b"caf\xc3\xa9 \xe9\xff\\ \x01\n"), "café \\xe9\\xff\\\\ \\x01\n");
    }
}
