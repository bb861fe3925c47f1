//! The VM configuration (node-wide settings, `proxy_on_vm_start`): the sandbox mode and
//! the resource limits for every plugin instance in the VM.
//!
//! Shape (every field optional, unknown fields are errors, empty means the defaults):
//!
//! ```json
//! {"untrusted_lua": "sandbox",
//!  "untrusted_lua_sandbox_requires": ["cjson"],
//!  "untrusted_lua_sandbox_environment": ["os.getenv"],
//!  "limits": {"instructions": 20000000, "memory_bytes": 67108864, "string_bytes": 16777216,
//!             "header_value_bytes": 65536, "exit_body_bytes": 8388608, "log_line_bytes": 4096,
//!             "request_body_bytes": 8388608, "response_body_bytes": 8388608,
//!             "cache_entries": 10000, "cache_bytes": 16777216,
//!             "chunks": 1000, "source_bytes": 4194304,
//!             "calls_per_request": 10, "call_timeout_ms": 10000, "call_wait_ms": 30000,
//!             "call_response_bytes": 8388608, "pending_timers": 256},
//!  "upstreams": {"auth.internal:8080": "auth_cluster"},
//!  "shared_data_zone": "kong_functions",
//!  "shared_dicts": {"my_counters": "512k"}}
//! ```
//!
//! `shared_dicts` declares `ngx.shared` dictionaries besides Kong's own (see
//! `pdk::ngx::shared`), sized as nginx's `lua_shared_dict`.
//!
//! `shared_data_zone` opts into the host's shared data on Kong's engine, which traps on a
//! key whose zone is not declared (`shm_kv NAME SIZE;` in nginx's `wasm{}`, Kong's
//! `nginx_wasm_shm_kv_NAME` in kong.conf): keys become `NAME/...`. Without it, there
//! `kong.cache` and the generated node id live in module memory (per worker). Envoy's
//! shared data needs no zone and the setting is ignored there.
//!
//! The three `untrusted_lua*` keys are Kong's `kong.conf` settings of the same names; in
//! Kong the host properties `kong.configuration.untrusted_lua*` take precedence (see
//! `glue::root`).

use serde::Deserialize;

use crate::sandbox::{Mode, SandboxSettings};

/// Per-plugin-instance resource limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// VM instructions one chunk invocation may run (about 1 per instruction, 8 per
    /// library call); past it the request fails with "instruction limit exceeded".
    pub instructions: i64,
    /// Bytes the plugin instance's Lua heap may hold (piccolo's allocation metrics,
    /// compiled chunks included); past it, after a full collection, the request fails
    /// with "memory limit exceeded".
    pub memory_bytes: usize,
    /// The longest string one operation may build (`..`, `string.rep`, `gsub`, `format`,
    /// `table.concat`); past it the operation raises "resulting string too large".
    pub string_bytes: usize,
    /// The longest header value a chunk may set (`kong.response.set_header`,
    /// `kong.service.request.set_header`, ...); past it the call raises an error.
    pub header_value_bytes: usize,
    /// The largest body `kong.response.exit` accepts; past it the call raises an error.
    pub exit_body_bytes: usize,
    /// The longest log line (`kong.log.*`, `ngx.log`, `print`); longer lines are cut and
    /// end with `...[truncated N bytes]`, as nginx cuts its own error log lines.
    pub log_line_bytes: usize,
    /// The largest request body the filter buffers for `rewrite`/`access` (when a chunk
    /// reads or replaces it); a larger body is answered 413, never truncated.
    pub request_body_bytes: usize,
    /// The largest upstream response body buffered for `kong.service.request.enable_buffering`;
    /// a larger one is passed through unfiltered and the request logs an error.
    pub response_body_bytes: usize,
    /// Entries `kong.cache` keeps per module instance; past it the least recently used
    /// entry is evicted.
    pub cache_entries: usize,
    /// Bytes (keys plus stored values) `kong.cache` keeps per module instance; past it the
    /// least recently used entries are evicted.
    pub cache_bytes: usize,
    /// Chunks one plugin configuration may hold, all phases together; past it the
    /// configuration is rejected.
    pub chunks: usize,
    /// Bytes of Lua source one plugin configuration may hold, all chunks together; past
    /// it the configuration is rejected.
    pub source_bytes: usize,
    /// Outbound calls (`resty.http`) one request may make, all phases together; past it
    /// a call returns `nil, "too many outbound calls in this request (limit N)"`.
    pub calls_per_request: usize,
    /// The timeout of an outbound call when the chunk sets none, in ms. lua-resty-http's
    /// 60 s (lua-nginx-module's `lua_socket_*_timeout` defaults) would hold a gateway's
    /// request and its worker memory for a minute; 10 s is the upper end of what a
    /// client behind a gateway waits for a token check (Kong's own plugins use 10 s for
    /// their calls out, e.g. `http-log`'s and `openid-connect`'s default `timeout` 10000).
    pub call_timeout_ms: u64,
    /// The total time one request may wait on its outbound calls, in ms; a call made
    /// past it returns `nil, "timeout"` at once, and each call's timeout is cut to what
    /// is left.
    pub call_wait_ms: u64,
    /// The largest response body an outbound call may return; a larger one gives
    /// `nil, "response body too large (N bytes, limit M)"`, never a truncated body.
    pub call_response_bytes: usize,
    /// `ngx.timer.at`/`every` timers one plugin instance may have pending; past it they
    /// return `nil, "too many pending timers"` (lua-nginx-module's answer past
    /// `lua_max_pending_timers`, whose default 1024 is per nginx worker; this is per
    /// instance).
    pub pending_timers: usize,
    /// Wall-clock milliseconds one phase of one request may run, time spent in host calls
    /// included (the instruction limit does not see it); past it the request fails with
    /// Kong's 500 and "time limit exceeded". Checked where the instruction limit is
    /// (every fuel slice, about 16,000 instructions).
    pub phase_time_ms: u64,
    /// Distinct header names (request and response headers together) one request may
    /// set or add; past it the request fails with Kong's 500 and "header name limit
    /// exceeded". Kong's engine scans the header list on every write, so a chunk adding
    /// 100,000 headers held its worker for about 30 s (`shared/design/kong-engine.md`);
    /// with the list bounded, each write stays cheap and `phase_time_ms` bounds the rest.
    pub header_names: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            instructions: 20_000_000,
            memory_bytes: 64 * 1024 * 1024,
            string_bytes: 16 * 1024 * 1024,
            header_value_bytes: 64 * 1024,
            exit_body_bytes: 8 * 1024 * 1024,
            log_line_bytes: 4096,
            request_body_bytes: 8 * 1024 * 1024,
            response_body_bytes: 8 * 1024 * 1024,
            cache_entries: 10_000,
            cache_bytes: 16 * 1024 * 1024,
            chunks: 1_000,
            source_bytes: 4 * 1024 * 1024,
            calls_per_request: 10,
            call_timeout_ms: 10_000,
            call_wait_ms: 30_000,
            call_response_bytes: 8 * 1024 * 1024,
            pending_timers: 256,
            // The 20,000,000-instruction limit ends a loop of pure Lua or of library
            // calls within about 1 s in the harness (wasmtime) on a loaded 2-core machine;
            // 5 s lets that limit answer first for any Lua, so this one only ends time spent
            // in host calls, and well before Envoy's 15 s route timeout.
            phase_time_ms: 5_000,
            // Envoy accepts at most 100 headers on a request by default
            // (`max_headers_count`) and nginx's proxy buffers a few hundred: 1,000 new
            // names is far past any real request, and 1,000 writes to a list that long
            // take Kong's engine a few milliseconds.
            header_names: 1_000,
        }
    }
}

/// The parsed VM configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VmConfig {
    /// Kong's `untrusted_lua`: off, strict, lax, sandbox (the default) or on.
    pub untrusted_lua: Mode,
    /// Kong's `untrusted_lua_sandbox_requires`: modules `require` may load in the
    /// restricted modes.
    pub untrusted_lua_sandbox_requires: Vec<String>,
    /// Kong's `untrusted_lua_sandbox_environment`: extra globals (dotted paths such as
    /// `os.getenv`) the restricted modes expose.
    pub untrusted_lua_sandbox_environment: Vec<String>,
    /// Resource limits.
    pub limits: Limits,
    /// The shared-data zone to use on hosts that need one (see the module docs).
    pub shared_data_zone: Option<String>,
    /// `ngx.shared` dictionaries besides Kong's (name to nginx size: `"512k"`, `"1m"`),
    /// as nginx's `lua_shared_dict NAME SIZE;` (see `pdk::ngx::shared`).
    pub shared_dicts: std::collections::BTreeMap<String, String>,
    /// Where outbound calls (`resty.http`) go: a URL authority (`host:port`, or `host`)
    /// -> the `proxy_http_call` upstream. Envoy needs a cluster name there; without an
    /// entry the authority itself is given (Kong's engine resolves it).
    pub upstreams: std::collections::BTreeMap<String, String>,
    /// Set when the Envoy plugins running this module set `allow_on_headers_stop_iteration:
    /// true` (Envoy 1.35+): Envoy then delivers the request body to a filter holding the
    /// request headers, so `rewrite`/`access` can read the body and still change the
    /// headers. Without it, Envoy turns that hold into `StopAllIterationAndWatermark` and
    /// delivers no body (proxy-wasm-cpp-host `convertVmCallResultToFilterHeadersStatus`):
    /// the filter then lets the headers go and runs those phases on the body.
    pub envoy_allow_on_headers_stop_iteration: bool,
}

impl VmConfig {
    /// Parses the VM configuration bytes; empty or whitespace means the defaults.
    ///
    /// Errors: invalid JSON, unknown fields, an unknown `untrusted_lua` mode, or a limit
    /// that is not a positive number.
    pub fn parse(bytes: &[u8]) -> Result<VmConfig, String> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(VmConfig::default());
        }
        let config: VmConfig = serde_json::from_slice(bytes).map_err(|e| format!("invalid VM configuration: {e}"))?;
        let l = &config.limits;
        let sizes = [
            l.memory_bytes,
            l.string_bytes,
            l.header_value_bytes,
            l.exit_body_bytes,
            l.log_line_bytes,
            l.request_body_bytes,
            l.response_body_bytes,
            l.cache_entries,
            l.cache_bytes,
            l.chunks,
            l.source_bytes,
            l.calls_per_request,
            l.call_response_bytes,
            l.pending_timers,
        ];
        if l.call_timeout_ms == 0 || l.call_wait_ms == 0 {
            return Err("invalid VM configuration: limits must be positive".into());
        }
        if l.instructions <= 0 || sizes.contains(&0) || l.phase_time_ms == 0 || l.header_names == 0 {
            return Err("invalid VM configuration: limits must be positive".into());
        }
        config.dictionaries()?;
        Ok(config)
    }

    /// The `ngx.shared` dictionaries: Kong's and the configured ones, with their sizes in
    /// bytes. Errors: a size nginx would not read, or a name that is empty or holds `/`
    /// or `:` (they separate shared-data keys).
    pub fn dictionaries(&self) -> Result<Vec<(String, usize)>, String> {
        let mut sizes = std::collections::BTreeMap::new();
        for (name, size) in &self.shared_dicts {
            if name.is_empty() || name.contains(['/', ':', '#']) {
                return Err(format!("invalid VM configuration: shared_dicts: bad dictionary name {name:?}"));
            }
            match crate::pdk::ngx::shared::parse_size(size) {
                Some(bytes) if bytes > 0 => sizes.insert(name.clone(), bytes),
                _ => return Err(format!("invalid VM configuration: shared_dicts.{name}: invalid size {size:?}")),
            };
        }
        Ok(crate::pdk::ngx::shared::dictionaries(&sizes))
    }

    /// The sandbox settings this configuration selects.
    pub fn sandbox(&self) -> SandboxSettings {
        SandboxSettings {
            mode: self.untrusted_lua,
            requires: self.untrusted_lua_sandbox_requires.clone(),
            environment: self.untrusted_lua_sandbox_environment.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(VmConfig::parse(b"").unwrap(), VmConfig::default());
        assert_eq!(VmConfig::default().untrusted_lua, Mode::Sandbox);
        let c = VmConfig::parse(br#"{"limits": {"memory_bytes": 1048576}, "untrusted_lua": "strict"}"#).unwrap();
        assert_eq!(c.limits.memory_bytes, 1_048_576);
        assert_eq!(c.limits.instructions, Limits::default().instructions);
        assert_eq!(c.untrusted_lua, Mode::Strict);
        let c = VmConfig::parse(br#"{"untrusted_lua_sandbox_requires": ["cjson"]}"#).unwrap();
        assert_eq!(c.sandbox().requires, ["cjson"]);
    }

    #[test]
    fn unknown_fields_and_bad_values_are_rejected() {
        assert!(VmConfig::parse(br#"{"untrusted_lua": "maybe"}"#).unwrap_err().contains("unknown variant"));
        assert!(VmConfig::parse(br#"{"untrusted": "on"}"#).unwrap_err().contains("unknown field"));
        assert!(VmConfig::parse(br#"{"limits": {"instructions": 0}}"#).is_err());
        assert!(VmConfig::parse(br#"{"limits": {"log_line_bytes": 0}}"#).is_err());
        assert!(VmConfig::parse(b"nope").is_err());
        assert!(VmConfig::parse(br#"{"shared_dicts": {"a": "1x"}}"#).unwrap_err().contains("invalid size"));
        assert!(VmConfig::parse(br#"{"shared_dicts": {"a/b": "1m"}}"#).unwrap_err().contains("bad dictionary name"));
    }

    #[test]
    fn shared_dicts_add_to_kongs() {
        let c = VmConfig::parse(br#"{"shared_dicts": {"my_counters": "512k", "kong": "1m"}}"#).unwrap();
        let dicts = c.dictionaries().unwrap();
        assert!(dicts.contains(&("my_counters".into(), 512 * 1024)));
        assert!(dicts.contains(&("kong".into(), 1 << 20)));
        assert!(dicts.contains(&("kong_rate_limiting_counters".into(), 12 << 20)));
        assert_eq!(dicts.iter().filter(|(n, _)| n == "kong").count(), 1);
    }
}
