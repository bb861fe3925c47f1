//! Drives HTTP streams through a chain of filters, as Envoy (or Kong's Wasm engine)
//! orders its HTTP filters.
//!
//! Request path: filters first to last, headers then body; the response path last to
//! first. A filter that returns `Pause` (StopIteration) from a headers callback holds the
//! stream: the harness then performs the calls it dispatched (`proxy_http_call`), runs
//! their `proxy_on_http_call_response`, and fires its ticks, until it resumes
//! (`proxy_continue_stream`: the next filter runs), answers locally, or has nothing left
//! to wait for (the client gets a 504, as on a stream timeout). A body callback returning
//! `Pause` on a chunk that is not the last buffers it (StopIterationAndBuffer): the
//! filter's next body callback gets the whole buffered body.
//!
//! Profiles ([`HostProfile`]): `envoy` as described; `kong` as Kong Gateway's engine
//! (nginx 1.27.4 + ngx_wasm_module 3bed278, `shared/design/kong-engine.md`; every rule
//! with its source in `docs/hosts.md`): `end_of_stream` false in both header callbacks;
//! the request body read whole and delivered once (`end_of_stream` true) after every
//! filter's request headers continued, no body callback without a body, a Pause in
//! request headers nothing resumes hangs the request (outcome 408 `hung: ...`), a body
//! over `client_body_buffer_size` unreadable; `Pause` from `on_http_response_headers`
//! is not allowed (logged as an error and treated as `Continue`); `Pause` from
//! `on_http_response_body` enables body buffering: the chunks are accumulated until the
//! end of the body or until [`KONG_RESPONSE_BUFFER_BYTES`] (`wasm_response_body_buffers
//! 4 4096`, the default) are buffered, then the filter is called again with the
//! buffered body; a second `Pause` is ignored (error logged); a local response gets a
//! linefeed after a non-empty body; one from `on_http_response_headers` overrides only
//! the status and the body and keeps the upstream's headers; one from
//! `on_http_response_body` traps ("response already sent"). A trap answers nginx's 500
//! page and the trapped filter gets a fresh instance at the next request.

use wasmtime::Result;

mod upgrade;
pub use upgrade::{Delivered, HandshakeFn, ItemOutcome};

use crate::abi::{HostCrash, LocalReply, Shared};
use crate::dispatch;
use crate::filter::{Action, Filter, StartFailure};
use crate::spec::{ChainSpec, FilterSpec, HostProfile, LogEntry, Outcome, RequestSpec, UpstreamRequest, DEFAULT_CLIENT_BODY_BUFFER_SIZE, ENVOY_BUFFER_LIMIT_BYTES};
use crate::{upstream, Harness};

/// Kong's response body buffer bound: `wasm_response_body_buffers` defaults to 4 buffers
/// of 4096 bytes (ngx_wasm_module `docs/DIRECTIVES.md`).
pub const KONG_RESPONSE_BUFFER_BYTES: usize = 4 * 4096;

/// How many `proxy_on_queue_ready` calls [`Chain::deliver_queue_ready`] runs at most.
pub const MAX_QUEUE_READY_PER_DELIVERY: usize = 1000;

/// How many ticks the harness fires, back to back, while a filter holds a stream.
pub const MAX_TICKS_WHILE_PAUSED: usize = 100;

/// Filters instantiated and configured, ready to serve requests in order.
pub struct Chain {
    filters: Vec<Filter>,
    shared: Shared,
    chunk_size: Option<usize>,
    /// Log lines written while the filters started and configured.
    pub startup_logs: Vec<LogEntry>,
    upstream_fn: Option<UpstreamFn>,
    /// What a trapped filter is re-created from (Kong replaces trapped instances).
    engine: wasmtime::Engine,
    modules: Vec<wasmtime::Module>,
    specs: Vec<FilterSpec>,
    vm_config: serde_json::Value,
    client_body_buffer_size: usize,
    /// Envoy: `per_connection_buffer_limit_bytes` (see [`ChainSpec::buffer_limit_bytes`]).
    buffer_limit: usize,
    /// Envoy: the upgrade types the connection manager accepts ([`ChainSpec::upgrade_types`]).
    upgrade_types: Vec<String>,
    /// Envoy: [`ChainSpec::fail_open`].
    fail_open: bool,
    /// Kong: [`ChainSpec::default_type`].
    default_type: Option<String>,
    /// Envoy: request ids handed out (`x-request-id`).
    request_ids: u64,
    /// What the upstream received in the request being run, once it did.
    last_upstream: Option<UpstreamRequest>,
    /// The downstream connection of the stream being run ([`Chain::connect`]).
    connection: crate::connection::ConnectionInfo,
    next_connection_id: u64,
    on_connection: bool,
    /// Set while a WebSocket handshake runs ([`Chain::ws_open`]): answers it upstream.
    ws_handshake: Option<upgrade::HandshakeFn>,
    /// The upgraded stream, between its 101 and [`Chain::ws_finish`].
    ws_open: Option<upgrade::OpenUpgrade>,
    /// Envoy profile: the Envoy version and plugin flag modelled.
    envoy: crate::spec::EnvoyMode,
    /// Why the stream being run hung (see [`Outcome::hung`]), once it did.
    hang: Option<String>,
    /// The stream being run is a request the client never finished ([`RequestSpec::incomplete`]).
    request_incomplete: bool,
    /// Envoy: a filter answered from a response body after the headers went out: the
    /// stream was reset (`DownstreamFilterManager::sendLocalReply`).
    reset: bool,
    /// Envoy: the trap that failed the VM. Every filter of the chain shares one VM
    /// (one `vm_id`), which stays failed on the worker: later streams get 503.
    vm_failed: Option<String>,
}

/// Whether `error` is (or wraps) a [`HostCrash`]: the host would have crashed
/// (`wasm-harness run` exits with 2).
pub fn is_host_crash(error: &wasmtime::Error) -> bool {
    error.chain().any(|e| e.downcast_ref::<HostCrash>().is_some())
}

/// nginx's own 500 page (ngx_http_special_response.c), what the client gets when a
/// filter traps on Kong's engine.
pub const NGINX_500_PAGE: &str = "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx/1.27.4</center>\r\n</body>\r\n</html>\r\n";

/// How the request path ended.
enum RequestEnd {
    /// The request goes upstream.
    Upstream,
    /// Filter `i` answered locally.
    Reply(usize, LocalReply),
    /// Kong: a filter paused and nothing can resume it; the client times out.
    Hung(String),
}

/// An upstream that answers in place of the built-in echo upstream (see [`Chain::set_upstream`]).
pub type UpstreamFn = Box<dyn FnMut(&UpstreamRequest) -> upstream::UpstreamResponse>;

/// Where the response being sent back came from.
struct Response {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Response {
    /// Whether the body is framed `Transfer-Encoding: chunked` (an HTTP/1.1 answer with
    /// no Content-Length, such as nginx's from a content phase). Envoy's HTTP/1 codec
    /// then cannot know at the headers that the body is empty: it sends the headers with
    /// `end_stream` false and the end as an empty DATA with `end_stream` true
    /// (`source/common/http/http1/codec_impl.cc`, `ClientConnectionImpl::cannotHaveBody`
    /// and `onMessageCompleteBase`), and the filter manager hands that empty DATA to every
    /// encoder filter (`filter_manager.cc` `FilterManager::encodeData`).
    fn chunked(&self) -> bool {
        self.headers.iter().any(|(n, v)| n == "transfer-encoding" && String::from_utf8_lossy(v).to_ascii_lowercase().contains("chunked"))
    }

    fn from_reply(reply: LocalReply) -> Response {
        let mut headers: Vec<(String, Vec<u8>)> = reply.headers.into_iter().filter(|(n, _)| n != "content-length").collect();
        headers.push(("content-length".into(), reply.body.len().to_string().into_bytes()));
        Response { status: reply.status, headers, body: reply.body }
    }
}

/// How a held stream ended.
enum Wake {
    /// `proxy_continue_stream`.
    Resumed,
    /// `proxy_send_local_response`.
    Reply(LocalReply),
    /// Nothing left that could resume it.
    Stuck,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// The end of a body pass: the body that came out, or a local response from filter `i`.
enum BodyEnd {
    Done(Vec<u8>),
    Reply(usize, LocalReply),
}

fn level_number(name: Option<&str>) -> i32 {
    match name.unwrap_or("trace") {
        "debug" => 1,
        "info" => 2,
        "warn" => 3,
        "error" => 4,
        "critical" => 5,
        _ => 0,
    }
}

impl Chain {
    /// Instantiates and configures every filter in order (see [`Harness::chain`]).
    ///
    /// Kong profile (kong-engine.md "Start-up"): `on_configure` returning false fails
    /// with `[emerg] [proxy-wasm] failed initializing "NAME" filter (on_configure failure)`
    /// followed by every start-up log line (ngx_proxy_wasm.c; the nginx worker exits and
    /// serves nothing); a host call that would crash nginx (`plugin_name` read in
    /// `on_configure`) fails with a [`HostCrash`] ([`is_host_crash`]).
    pub fn new(harness: &Harness, spec: &ChainSpec) -> Result<Chain> {
        let shared = Shared {
            properties: std::sync::Arc::new(spec.properties.clone()),
            profile: spec.profile,
            log_level: level_number(spec.log_level.as_deref()),
            shm_zones: std::sync::Arc::new(spec.shm_zones.clone()),
            call_targets: std::sync::Arc::new(spec.call_targets.clone()),
            plain_nginx: spec.plain_nginx,
            routes: std::sync::Arc::new(if spec.profile == HostProfile::Envoy { spec.routes.clone() } else { Vec::new() }),
            ..Shared::default()
        };
        let mut filters = Vec::with_capacity(spec.filters.len());
        let mut modules = Vec::with_capacity(spec.filters.len());
        // Envoy: plugins with the same `vm_id` and code share one VM per worker (our
        // envoy.yaml gives pre- and post-function one `vm_id`); Kong's engine: one
        // instance per filter (kong-engine.md, traps re-create one filter's instance).
        let mut vms: Vec<(std::path::PathBuf, std::rc::Rc<std::cell::RefCell<crate::filter::Vm>>)> = Vec::new();
        if spec.profile == HostProfile::Envoy && !spec.skip_canary {
            for filter_spec in &spec.filters {
                canary(harness, filter_spec, &spec.vm_config, &shared)?;
            }
        }
        for filter_spec in &spec.filters {
            let module = harness.module(&filter_spec.module)?;
            let joined = match vms.iter().find(|(path, _)| *path == filter_spec.module) {
                Some((_, vm)) if spec.profile == HostProfile::Envoy => Filter::join(vm.clone(), filter_spec),
                _ => Filter::new_vm(harness.engine(), &module, filter_spec, &spec.vm_config, shared.clone()).and_then(|vm| {
                    vms.push((filter_spec.module.clone(), vm.clone()));
                    Filter::join(vm, filter_spec)
                }),
            };
            match joined {
                Ok(filter) => filters.push(filter),
                Err(e) => return Err(start_error(&shared, filter_spec, e)),
            }
            modules.push(module);
        }
        let startup_logs = std::mem::take(&mut *shared.logs.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(Chain {
            filters,
            shared,
            chunk_size: spec.body_chunk_size.filter(|n| *n > 0),
            startup_logs,
            upstream_fn: None,
            engine: harness.engine().clone(),
            modules,
            specs: spec.filters.clone(),
            vm_config: spec.vm_config.clone(),
            client_body_buffer_size: spec.client_body_buffer_size.unwrap_or(DEFAULT_CLIENT_BODY_BUFFER_SIZE),
            default_type: spec.default_type.clone(),
            buffer_limit: spec.buffer_limit_bytes.unwrap_or(ENVOY_BUFFER_LIMIT_BYTES),
            upgrade_types: spec.upgrade_types.iter().map(|t| t.to_ascii_lowercase()).collect(),
            fail_open: spec.fail_open,
            request_ids: 0,
            last_upstream: None,
            connection: Default::default(),
            next_connection_id: 1,
            on_connection: false,
            ws_handshake: None,
            ws_open: None,
            envoy: spec.envoy,
            hang: None,
            request_incomplete: false,
            reset: false,
            vm_failed: None,
        })
    }

    /// Kong: re-creates every filter whose instance trapped (ngx_proxy_wasm.c
    /// `get_instance`: "invalidating trapped instance"): a fresh instance runs
    /// `on_vm_start` and `on_configure` again; its log lines go to the current request.
    fn restart_trapped(&mut self) -> Result<()> {
        for i in 0..self.filters.len() {
            if !self.filters[i].trapped {
                continue;
            }
            match Filter::instantiate(&self.engine, &self.modules[i], &self.specs[i], &self.vm_config, self.shared.clone()) {
                Ok(filter) => self.filters[i] = filter,
                Err(e) => return Err(start_error(&self.shared, &self.specs[i], e)),
            }
        }
        Ok(())
    }

    /// Sends requests that reach the upstream (and do not script an `upstream` response)
    /// to `upstream` instead of the built-in echo upstream; `wasm-harness serve --upstream`.
    pub fn set_upstream(&mut self, upstream: UpstreamFn) {
        self.upstream_fn = Some(upstream);
    }

    /// The filters, in request order.
    pub fn filters_mut(&mut self) -> &mut [Filter] {
        &mut self.filters
    }

    /// The host profile the chain runs with.
    pub fn profile(&self) -> HostProfile {
        self.shared.profile
    }

    /// The value of metric `name` (defined by any filter), or `None` when undefined.
    pub fn metric(&self, name: &str) -> Option<i64> {
        let metrics = self.shared.metrics.lock().unwrap_or_else(|e| e.into_inner());
        metrics.iter().find(|(n, _, _)| n == name).map(|(_, _, v)| *v)
    }

    /// The filters' metrics as the host's stats view lists them: `(name, value)`, in
    /// definition order. Envoy (admin `/stats`): every name under the custom stat
    /// namespace, `wasmcustom.<name>` (`context.cc` `defineMetric`:
    /// `counterFromElements(*scope_, {custom_stat_namespace_, stat_name})`,
    /// `stats_handler.h` `CustomStatNamespace = "wasmcustom"`; the Wasm filter's scope is
    /// the listener's root, `wasm_filter.cc` `createScope("")`). Kong: the names as the
    /// filter defined them (ngx_wasm_module's own naming is not modelled). Histograms
    /// (no single value) are left out.
    pub fn stats(&self) -> Vec<(String, i64)> {
        let metrics = self.shared.metrics.lock().unwrap_or_else(|e| e.into_inner());
        let prefix = if self.kong() { "" } else { ENVOY_CUSTOM_STAT_NAMESPACE };
        metrics.iter().filter(|(_, kind, _)| *kind != 2).map(|(n, _, v)| (format!("{prefix}{n}"), *v)).collect()
    }

    /// Envoy: the filters' counters and gauges as admin `/stats/prometheus` prints them
    /// (`source/server/admin/prometheus_stats.cc`): the `wasmcustom.` namespace stripped
    /// and no `envoy_` prefix (`CustomStatNamespaces::stripRegisteredPrefix`, Envoy PR
    /// #17357); the default tag extractors applied first
    /// (`source/common/config/well_known_names.cc`; of them only the response-code rules,
    /// `_rq(_(\d{3}))$` and `_rq_((\d))xx$`, are not tied to an Envoy stat prefix, so only
    /// they can match a custom name: `foo_rq_200` is `foo_rq{envoy_response_code="200"}`);
    /// then every character outside `[a-zA-Z0-9_]` becomes `_`
    /// (`PrometheusStatsFormatter::sanitizeName`), and a custom name that is then empty or
    /// starts with a digit is not exported at all (`metricName` answers `nullopt`).
    /// One `# TYPE name counter|gauge` line per name, then `name{tags} value`, names sorted.
    /// Empty on Kong's profile.
    pub fn prometheus_stats(&self) -> String {
        if self.kong() {
            return String::new();
        }
        let metrics = self.shared.metrics.lock().unwrap_or_else(|e| e.into_inner());
        let mut lines: Vec<(String, &'static str, String, i64)> = metrics
            .iter()
            .filter(|(_, kind, _)| *kind != 2)
            .filter_map(|(name, kind, value)| {
                let (name, tags) = envoy_extract_tags(name);
                let name = prometheus_sanitize(&name);
                if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                    return None;
                }
                let tags: Vec<String> = tags.iter().map(|(k, v)| format!("{}=\"{v}\"", prometheus_sanitize(k))).collect();
                Some((name, if *kind == 0 { "counter" } else { "gauge" }, tags.join(","), *value))
            })
            .collect();
        lines.sort();
        let mut out = String::new();
        let mut last: Option<String> = None;
        for (name, kind, tags, value) in lines {
            if last.as_deref() != Some(name.as_str()) {
                out.push_str(&format!("# TYPE {name} {kind}\n"));
                last = Some(name.clone());
            }
            out.push_str(&format!("{name}{{{tags}}} {value}\n"));
        }
        out
    }

    /// Shared data entry `key`: value and CAS, as `proxy_get_shared_data` returns it.
    pub fn shared_data(&self, key: &str) -> Option<(Vec<u8>, u32)> {
        self.shared.shared_data.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    /// A property set from a root context (`proxy_set_property` in `on_configure`,
    /// `on_tick`...), e.g. Kong's `wasmx.*`.
    pub fn root_property(&self, key: &str) -> Option<Vec<u8>> {
        self.shared.root_properties.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    /// Log lines written since the last request or [`Chain::take_logs`] (e.g. by ticks).
    pub fn take_logs(&mut self) -> Vec<LogEntry> {
        std::mem::take(&mut *self.shared.logs.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Envoy: runs the `proxy_on_queue_ready` calls owed for items enqueued so far
    /// ([`crate::abi::SharedQueues::ready`]), each on the root context that registered the
    /// queue, in enqueue order, with the calls they dispatch performed. Envoy posts them
    /// to the registering VM's dispatcher (cpp-host `SharedQueue::enqueue`,
    /// `call_on_thread`): the harness runs them while a stream is held, after each request
    /// and at each [`Chain::tick`]. At most [`MAX_QUEUE_READY_PER_DELIVERY`] per call (a
    /// filter that enqueues from `proxy_on_queue_ready` would otherwise never stop); the
    /// rest stay owed. Returns how many ran.
    ///
    /// Errors: a trap in a filter.
    pub fn deliver_queue_ready(&mut self) -> Result<usize> {
        let mut delivered = 0;
        while delivered < MAX_QUEUE_READY_PER_DELIVERY {
            let next = self.shared.queues.lock().unwrap_or_else(|e| e.into_inner()).ready.pop_front();
            let Some((filter, root, token)) = next else { return Ok(delivered) };
            let Some(i) = self.filters.iter().position(|f| f.name == filter && f.root_context_id() == root) else { continue };
            delivered += 1;
            self.filters[i].on_queue_ready(token)?;
            while let Some(call) = self.filters[i].next_pending_call() {
                self.deliver(i, &call)?;
            }
        }
        Ok(delivered)
    }

    fn queue_ready_owed(&self) -> bool {
        !self.shared.queues.lock().unwrap_or_else(|e| e.into_inner()).ready.is_empty()
    }

    /// Fires `proxy_on_tick` once on every filter that set a tick period, then performs
    /// the calls those ticks dispatched and runs their `proxy_on_http_call_response` on
    /// the root context. Returns how many filters ticked. Log lines stay for
    /// [`Chain::take_logs`].
    ///
    /// Errors: a trap in a filter.
    pub fn tick(&mut self) -> Result<usize> {
        let mut ticked = 0;
        for i in 0..self.filters.len() {
            if self.filters[i].tick_period_ms() == 0 {
                continue;
            }
            ticked += 1;
            self.filters[i].on_tick()?;
            while let Some(call) = self.filters[i].next_pending_call() {
                self.deliver(i, &call)?;
            }
            self.filters[i].take_local_reply();
            self.filters[i].take_continued();
        }
        if !self.kong() {
            self.deliver_queue_ready()?;
        }
        Ok(ticked)
    }

    /// Runs one request through the chain and the upstream.
    ///
    /// Header names the host's HTTP/1.1 server would not accept never reach a filter
    /// ([`crate::codec`]): Envoy answers 400 itself, Kong's nginx drops the header.
    ///
    /// Errors: a trap in any filter (the chain should not be used after that).
    ///
    /// Kong profile: a trap answers the client nginx's 500 page, logs the trap as
    /// `[wasm] <message>` (error), skips the rest of the request, and the trapped
    /// filter runs on a fresh instance from the next request on (kong-engine.md "Shared
    /// data and queues"); a request paused for good ends as [`Outcome`] status 408 (the
    /// client gave up) with body `hung: ...`.
    pub fn run(&mut self, request: &RequestSpec) -> Result<Outcome> {
        self.shared.logs.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.last_upstream = None;
        // Only a request that announces a body can be left unfinished: without
        // Content-Length or Transfer-Encoding an HTTP/1 request ends at its headers.
        self.request_incomplete = request.incomplete
            && request.headers.byte_pairs().iter().any(|(n, _)| n.eq_ignore_ascii_case(b"content-length") || n.eq_ignore_ascii_case(b"transfer-encoding"));
        self.next_stream_connection();
        // The host's HTTP/1.1 server checks header names before any filter runs.
        let admitted;
        let request = match crate::codec::admit(self.shared.profile, request) {
            crate::codec::Admission::AsIs => request,
            crate::codec::Admission::Rejected(outcome) => return self.unseen_stream(outcome),
            crate::codec::Admission::Dropped(spec, lines) => {
                self.shared.logs.lock().unwrap_or_else(|e| e.into_inner()).extend(lines);
                admitted = spec;
                &admitted
            }
        };
        if !self.kong() {
            let head = request.method.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("HEAD"));
            let finish = |outcome: Outcome| envoy_response(outcome, head);
            if self.vm_failed.is_some() && self.fail_open {
                // wasm_filter.cc: a failed VM with fail_open adds no Wasm filter to the
                // stream; it goes on as if the chain had none.
                let filters = std::mem::take(&mut self.filters);
                let result = self.run_inner(request);
                self.filters = filters;
                return result.map(finish);
            }
            if let Some(trap) = &self.vm_failed {
                let grpc = request_is_grpc(request);
                return Ok(finish(self.failed_vm_outcome(trap.clone(), grpc)));
            }
            if let Some(refused) = self.refused_upgrade(request) {
                return self.unseen_stream(refused).map(finish);
            }
            let result = self.run_inner(request).and_then(|mut outcome| {
                // Queue notifications posted during the stream run after it; their log
                // lines join the stream's.
                self.deliver_queue_ready()?;
                outcome.logs.extend(std::mem::take(&mut *self.shared.logs.lock().unwrap_or_else(|e| e.into_inner())));
                Ok(outcome)
            });
            if let Err(e) = &result {
                if !is_host_crash(e) {
                    self.vm_failed = Some(e.root_cause().to_string());
                }
            }
            return result.map(finish);
        }
        self.restart_trapped()?;
        match self.run_inner(request) {
            Ok(outcome) => Ok(outcome),
            Err(e) if is_host_crash(&e) => Err(e),
            Err(e) => Ok(self.trap_outcome(&e)),
        }
    }

    /// Envoy: an upgrade request whose type the connection manager does not accept
    /// ([`ChainSpec::upgrade_types`]) gets 403 with an empty body before any filter sees
    /// it (`conn_manager_impl.cc` `ActiveStream::decodeHeaders`: the filter chain
    /// refuses the upgrade, `sendLocalReply(Code::Forbidden, "", ..., upgrade_failed)`).
    fn refused_upgrade(&self, request: &RequestSpec) -> Option<Outcome> {
        let pairs = request.headers.byte_pairs();
        let value = |name: &str| pairs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| String::from_utf8_lossy(v).to_ascii_lowercase());
        let upgrade = value("upgrade")?;
        if !value("connection").is_some_and(|c| names_upgrade(c.as_bytes())) {
            return None;
        }
        if self.upgrade_types.iter().any(|t| *t == upgrade) {
            return None;
        }
        let line = format!("upgrade_failed: upgrade type {upgrade:?} not in the connection manager's upgrade_configs");
        Some(Outcome::new(403, Vec::new(), Vec::new(), None, vec![LogEntry { filter: String::new(), level: "debug".into(), message: line }]))
    }

    /// Envoy: a stream the connection manager answered itself (a codec 400, a refused
    /// upgrade): every filter still gets a context and `proxy_on_log`, with no request
    /// headers to read (envoy-host.md "Before any filter runs, and after").
    fn unseen_stream(&mut self, outcome: Outcome) -> Result<Outcome> {
        if self.kong() {
            return Ok(outcome);
        }
        let connection = self.connection.clone();
        *self.lock_stream() = Default::default();
        self.lock_stream().connection = connection;
        let ids: Vec<i32> = self.filters.iter_mut().map(Filter::create_stream).collect::<Result<_>>()?;
        for (filter, id) in self.filters.iter_mut().zip(&ids) {
            filter.finish_stream(*id)?;
        }
        let mut outcome = outcome;
        outcome.logs.extend(std::mem::take(&mut *self.shared.logs.lock().unwrap_or_else(|e| e.into_inner())));
        Ok(outcome)
    }

    /// Envoy: a stream after a trap failed the VM. With `fail_open: false` (what our
    /// `envoy.yaml` sets) the filter answers 503 with an empty body
    /// (`wasm_fail_stream`) and the VM stays failed (`FailState::RuntimeError`) for every
    /// plugin in it (envoy-host.md "VM, traps, properties").
    ///
    /// On a gRPC request (`grpc`) that local reply is trailers-only: `wasm_fail_stream`
    /// passes `Grpc::Status::WellKnownGrpcStatus::Unavailable`, so 200 with
    /// `grpc-status: 14` ([`Chain::envoy_reply`]).
    fn failed_vm_outcome(&mut self, trap: String, grpc: bool) -> Outcome {
        self.shared.logs.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.log(0, "critical", format!("wasm_fail_stream: the VM failed earlier ({trap}) and serves no stream until it is reloaded"));
        let logs = std::mem::take(&mut *self.shared.logs.lock().unwrap_or_else(|e| e.into_inner()));
        if grpc {
            let reply = LocalReply { status: 503, headers: Vec::new(), body: Vec::new(), grpc_status: Some(14) };
            let response = grpc_trailers_only(reply, false);
            return Outcome::new(response.status, response.headers, response.body, None, logs);
        }
        Outcome::new(503, Vec::new(), Vec::new(), None, logs)
    }

    /// Kong: the outcome of a request during which a filter trapped.
    fn trap_outcome(&mut self, error: &wasmtime::Error) -> Outcome {
        let culprit = self.filters.iter().position(|f| f.trapped).unwrap_or(0);
        if !self.filters.iter().any(|f| f.trapped) {
            self.filters[culprit].trapped = true;
        }
        self.log(culprit, "error", format!("[wasm] {}", error.root_cause()));
        let logs = std::mem::take(&mut *self.shared.logs.lock().unwrap_or_else(|e| e.into_inner()));
        let headers = vec![("content-type".into(), b"text/html".to_vec()), ("content-length".into(), NGINX_500_PAGE.len().to_string().into_bytes())];
        Outcome::new(500, headers, NGINX_500_PAGE.into(), self.last_upstream.take(), logs)
    }

    fn run_inner(&mut self, request: &RequestSpec) -> Result<Outcome> {
        self.hang = None;
        self.reset = false;
        self.load_request(request);
        let ids: Vec<i32> = self.filters.iter_mut().map(Filter::create_stream).collect::<Result<_>>()?;

        let end = if self.kong() {
            self.kong_request_path(&ids)?
        } else {
            self.request_path(request, &ids)?
        };
        let (mut response, first_responder, upstream) = match end {
            RequestEnd::Hung(message) => {
                // The client gives up; nginx finalizes the request (log phase).
                for (filter, id) in self.filters.iter_mut().zip(&ids) {
                    filter.finish_stream(*id)?;
                }
                let logs = std::mem::take(&mut *self.shared.logs.lock().unwrap_or_else(|e| e.into_inner()));
                if self.kong() {
                    return Ok(Outcome::new(408, Vec::new(), message.clone().into_bytes(), None, logs).with_hang(message));
                }
                // conn_manager_impl.cc onIdleTimeout's local reply (trailers-only on gRPC).
                let response = self.envoy_reply(idle_timeout_reply(!self.request_incomplete));
                return Ok(Outcome::new(response.status, response.headers, response.body, None, logs).with_hang(message));
            }
            RequestEnd::Reply(index, mut reply) => {
                if self.kong() && !reply.body.is_empty() {
                    // ngx_http_wasm_local_response.c: a linefeed after a non-empty body.
                    reply.body.push(b'\n');
                }
                if self.kong() && !reply.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
                    // nginx's `default_type` of the location, as measured in the engine.
                    if let Some(default_type) = self.default_type.as_deref().filter(|t| !t.is_empty()) {
                        reply.headers.push(("content-type".into(), default_type.as_bytes().to_vec()));
                    }
                }
                if !self.kong() {
                    let response = self.envoy_reply(reply);
                    (response, index, None)
                } else {
                    (Response::from_reply(reply), index, None)
                }
            }
            RequestEnd::Upstream if self.route_not_found() => {
                // router.cc `Filter::decodeHeaders`: no route, `sendLocalReply(NotFound, "",
                // ..., route_not_found)`; the reply goes back through every filter.
                let reply = LocalReply { status: 404, headers: Vec::new(), body: Vec::new(), grpc_status: None };
                self.log(self.filters.len().saturating_sub(1), "debug", "route_not_found: no route matched the request".into());
                (self.envoy_reply(reply), self.filters.len().saturating_sub(1), None)
            }
            RequestEnd::Upstream => {
                let upstream_request = self.upstream_request();
                self.last_upstream = Some(upstream_request.clone());
                let started = std::time::Instant::now();
                let answer = match (&mut self.ws_handshake, &mut self.upstream_fn, &request.upstream) {
                    (Some(handshake), _, _) => handshake(&upstream_request),
                    (None, Some(forward), None) => forward(&upstream_request),
                    _ => upstream::respond(&upstream_request, request.upstream.as_ref()),
                };
                let mut stream = self.lock_stream();
                stream.upstream_answered = true;
                stream.response_code_details = Some("via_upstream".into());
                stream.upstream_elapsed_ns = Some(started.elapsed().as_nanos() as u64);
                drop(stream);
                let mut headers = answer.headers;
                if !self.kong() {
                    // router.cc `onUpstreamHeaders`: the upstream's time, in ms, before
                    // the response filters run.
                    let ms = started.elapsed().as_millis().to_string().into_bytes();
                    headers.push(("x-envoy-upstream-service-time".into(), ms));
                }
                let response = Response { status: answer.status, headers, body: answer.body };
                (response, self.filters.len().saturating_sub(1), Some(upstream_request))
            }
        };
        if self.upgrading() && upstream.is_some() && response.status == 101 {
            if self.upgrade_headers(&mut response, &ids)? {
                // Upgraded: the stream goes on (ws_deliver, ws_finish).
                let logs = std::mem::take(&mut *self.shared.logs.lock().unwrap_or_else(|e| e.into_inner()));
                return Ok(Outcome::new(response.status, response.headers, Vec::new(), upstream, logs));
            }
        } else if !self.filters.is_empty() {
            self.response_path(&mut response, first_responder, &ids)?;
        }
        // Calls dispatched without holding the stream still get their answers.
        for i in 0..self.filters.len() {
            while let Some(call) = self.filters[i].next_pending_call() {
                self.deliver(i, &call)?;
            }
            self.filters[i].take_local_reply();
        }
        {
            // What went out to the client, for the log phase's size properties.
            let head: usize = response.headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
            let status_line = format!("HTTP/1.1 {} X\r\n", response.status).len();
            let body = response.body.len() as u64;
            self.lock_stream().response_sizes = Some(((status_line + head + 2) as u64 + body, body));
        }
        for (filter, id) in self.filters.iter_mut().zip(&ids) {
            filter.finish_stream(*id)?;
        }
        let logs = std::mem::take(&mut *self.shared.logs.lock().unwrap_or_else(|e| e.into_inner()));
        let mut outcome = Outcome::new(response.status, response.headers, response.body, upstream, logs);
        outcome.hung = self.hang.take();
        outcome.reset = std::mem::take(&mut self.reset);
        Ok(outcome)
    }

    /// Envoy: the reply the client gets when filter `i` holds the stream and nothing
    /// resumes it; the reason is kept for [`Outcome::hung`].
    fn idle_timeout(&mut self, i: usize, what: &str) -> LocalReply {
        let reason = format!(
            "hung: filter {:?} paused {what} and nothing resumed it; Envoy ends the stream at its idle timeout (300 s)",
            self.filters[i].name
        );
        self.log(i, "warn", reason.clone());
        self.hang = Some(reason);
        idle_timeout_reply(!self.request_incomplete)
    }

    fn lock_stream(&self) -> std::sync::MutexGuard<'_, crate::abi::StreamData> {
        self.shared.stream.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn kong(&self) -> bool {
        self.shared.profile == HostProfile::Kong
    }

    fn log(&self, filter: usize, level: &str, message: String) {
        let entry = LogEntry { filter: self.filters[filter].name.clone(), level: level.into(), message };
        self.shared.logs.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
    }

    /// Kong's request path (kong-engine.md "Request headers", "Request bodies";
    /// ngx_http_proxy_wasm.c): request headers through every filter with
    /// `end_of_stream` false; a Pause nothing resumes (no call, tick or local response)
    /// hangs the request; then, only when there is a body, the host reads it whole and
    /// calls `on_request_body` once per filter with its full size and `end_of_stream`
    /// true. A body over `client_body_buffer_size` is in a temp file: unreadable.
    fn kong_request_path(&mut self, ids: &[i32]) -> Result<RequestEnd> {
        let body = std::mem::take(&mut self.lock_stream().request_body);
        for i in 0..self.filters.len() {
            let count = self.lock_stream().request_headers.len();
            let action = self.filters[i].on_request_headers(ids[i], count, false)?;
            if let Some(reply) = self.filters[i].take_local_reply() {
                return Ok(RequestEnd::Reply(i, reply));
            }
            if action == Action::Pause {
                match self.wait(i)? {
                    Wake::Resumed => {}
                    Wake::Reply(reply) => return Ok(RequestEnd::Reply(i, reply)),
                    Wake::Stuck => {
                        let message = format!(
                            "hung: request headers paused and never resumed by filter {:?} (ngx_wasm_module calls no body callback while \
                             request headers are paused; only proxy_continue_stream, a dispatch response or a local response wake it)",
                            self.filters[i].name
                        );
                        return Ok(RequestEnd::Hung(message));
                    }
                }
            }
        }
        // A body a filter set during request headers (`proxy_set_buffer_bytes`) is the
        // request body from then on, measured in the engine (docs/hosts.md, "Checked by
        // hand"): on a request without one, nginx sends it with a Content-Length of its
        // length and calls `on_request_body` with it; a client's body is replaced, its
        // Content-Length kept, and the upstream gets that many bytes of the new one.
        if self.request_incomplete {
            // nginx reads the whole body before the body callback and the upstream
            // (`proxy_request_buffering on`): a body that never ends meets
            // `client_body_timeout` (60 s), 408.
            return Ok(RequestEnd::Hung(self.client_stalled("nginx's client_body_timeout (60 s)")));
        }
        let (set_in_headers, was_set) = {
            let mut stream = self.lock_stream();
            stream.request_had_body |= stream.request_body_set_in_headers;
            (std::mem::take(&mut stream.request_body), stream.request_body_set_in_headers)
        };
        let body = if !was_set {
            body
        } else if body.is_empty() {
            set_in_headers
        } else {
            let mut kept = set_in_headers;
            kept.truncate(body.len());
            kept
        };
        if body.is_empty() {
            return Ok(RequestEnd::Upstream);
        }
        {
            let mut stream = self.lock_stream();
            stream.request_body_in_file = body.len() > self.client_body_buffer_size;
            stream.request_had_body = true;
            stream.request_body = body;
        }
        for i in 0..self.filters.len() {
            let size = self.lock_stream().request_body.len();
            let action = self.filters[i].on_request_body(ids[i], size, true)?;
            if let Some(reply) = self.filters[i].take_local_reply() {
                return Ok(RequestEnd::Reply(i, reply));
            }
            if action == Action::Pause {
                match self.wait(i)? {
                    Wake::Resumed => {}
                    Wake::Reply(reply) => return Ok(RequestEnd::Reply(i, reply)),
                    Wake::Stuck => {
                        let message = format!("hung: request body paused and never resumed by filter {:?}", self.filters[i].name);
                        return Ok(RequestEnd::Hung(message));
                    }
                }
            }
        }
        Ok(RequestEnd::Upstream)
    }

    fn load_request(&mut self, request: &RequestSpec) {
        let connection = self.connection.clone();
        self.request_ids += 1;
        let request_number = self.request_ids;
        let mut stream = self.lock_stream();
        *stream = Default::default();
        stream.connection = connection;
        stream.request_time_ns =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        // Header names that reach here are valid tokens (see `codec::invalid_header_name`),
        // hence UTF-8; values, the path and the body are carried byte for byte.
        let headers: Vec<(String, Vec<u8>)> =
            request.headers.byte_pairs().into_iter().map(|(n, v)| (String::from_utf8_lossy(&n).into_owned(), v)).collect();
        let authority = headers.iter().find(|(n, _)| n == "host").map(|(_, v)| v.clone()).unwrap_or_else(|| b"localhost".to_vec());
        let method = request.method.clone().unwrap_or_else(|| "GET".into());
        let path = request.path.0.clone();
        stream.request_headers = vec![
            (":method".into(), method.into_bytes()),
            (":path".into(), path.clone()),
            (":authority".into(), authority),
            (":scheme".into(), b"http".to_vec()),
        ];
        stream.request_headers.extend(headers.into_iter().filter(|(n, _)| n != "host"));
        if self.shared.profile == HostProfile::Envoy {
            envoy_request_headers(&mut stream.request_headers, request_number);
            // The connection manager picks the route before any filter runs
            // (`conn_manager_impl.cc` `ActiveStream::decodeHeaders` → `refreshCachedRoute`).
            if !self.shared.routes.is_empty() {
                stream.route = Some(crate::spec::RouteSpec::pick(&self.shared.routes, &path).map(|i| self.shared.routes[i].clone()));
            }
        }
        stream.request_body = request.body.clone().unwrap_or_default().0;
        stream.request_uri = path.clone();
        match path.iter().position(|&b| b == b'?') {
            Some(q) => {
                stream.ngx_uri = path[..q].to_vec();
                stream.ngx_args = path[q + 1..].to_vec();
            }
            None => stream.ngx_uri = path,
        }
    }

    /// Performs `call` (dispatched by filter `i`) and runs its response callback.
    fn deliver(&mut self, i: usize, call: &dispatch::HttpCall) -> Result<()> {
        let kong = self.kong();
        let response = match dispatch::perform(call, kong) {
            Ok(response) => response,
            // ngx_wasm_module's extension: no response, the failure as `:dispatch_status`.
            Err(reason) if kong => dispatch::kong_failure(&reason),
            // Envoy's async client answers connect failures and timeouts itself.
            Err(reason) => dispatch::envoy_failure(&reason),
        };
        self.filters[i].on_http_call_response(call, response)
    }

    /// Holds the stream while filter `i` (stream context `id`) is paused: performs its
    /// dispatched calls, then fires its ticks, until it resumes or answers.
    fn wait(&mut self, i: usize) -> Result<Wake> {
        let mut ticks = 0;
        let mut queue_rounds = 0;
        loop {
            if !self.kong() && queue_rounds < 10 && self.queue_ready_owed() {
                queue_rounds += 1;
                self.deliver_queue_ready()?;
            } else if let Some(call) = self.filters[i].next_pending_call() {
                self.deliver(i, &call)?;
            } else if self.filters[i].tick_period_ms() > 0 && ticks < MAX_TICKS_WHILE_PAUSED {
                ticks += 1;
                // Ticks come a period apart on the wall clock (Envoy and nginx timers),
                // which is what a filter waiting for a time (`ngx.sleep`) reads.
                std::thread::sleep(std::time::Duration::from_millis(u64::from(self.filters[i].tick_period_ms())));
                self.filters[i].on_tick()?;
            } else {
                return Ok(Wake::Stuck);
            }
            if let Some(reply) = self.filters[i].take_local_reply() {
                return Ok(Wake::Reply(reply));
            }
            if self.filters[i].take_continued() {
                return Ok(Wake::Resumed);
            }
        }
    }

    /// Request headers then body through filters first to last. Returns the index of
    /// the filter that answered locally, and its reply, when one did.
    ///
    /// Envoy (`shared/design/envoy-host.md`, "Stream control"): a `Pause` from request
    /// headers is `StopAllIterationAndWatermark` unless the mode delivers the body
    /// ([`crate::spec::EnvoyMode::headers_pause_delivers_body`]): the filter then gets no
    /// body callback until `proxy_continue_stream`, and with nothing to resume it the
    /// stream hangs until the idle timeout.
    fn request_path(&mut self, request: &RequestSpec, ids: &[i32]) -> Result<RequestEnd> {
        let body = request.body.clone().unwrap_or_default().0;
        let has_body = !body.is_empty();
        // Envoy's HTTP/1 codec never ends an upgrade request at its headers.
        let end_of_stream = !has_body && !self.kong() && !self.upgrading() && !self.request_incomplete;
        let mut chunks = self.request_chunks(body);
        if self.request_incomplete {
            // The client stops before the end: no end-of-stream callback ever comes.
            chunks.retain(|(_, end_of_stream)| !end_of_stream);
        }
        // Filters before this index have already been handed the body.
        let mut body_seen_by = 0;
        for i in 0..self.filters.len() {
            let count = self.lock_stream().request_headers.len();
            let action = self.filters[i].on_request_headers(ids[i], count, end_of_stream)?;
            if let Some(reply) = self.filters[i].take_local_reply() {
                return Ok(RequestEnd::Reply(i, reply));
            }
            if action == Action::Pause {
                match self.wait(i)? {
                    Wake::Resumed => {}
                    Wake::Reply(reply) => return Ok(RequestEnd::Reply(i, reply)),
                    Wake::Stuck if chunks.is_empty() || !self.envoy.headers_pause_delivers_body() => {
                        let what = if chunks.is_empty() {
                            "the request headers of a request without a body"
                        } else {
                            "the request headers (StopAllIterationAndWatermark: no body callback follows before Envoy 1.35, \
                             or without allow_on_headers_stop_iteration)"
                        };
                        self.idle_timeout(i, what);
                        return Ok(RequestEnd::Hung(self.hang.clone().unwrap_or_default()));
                    }
                    Wake::Stuck => {
                        // Envoy's StopIteration holds the headers from the next filters,
                        // not the body from this one: the body still reaches filters
                        // 0..=i, and Continue from the last body callback resumes.
                        let order: Vec<usize> = (body_seen_by..=i).collect();
                        match self.body_pass(Direction::Request, &order, ids, std::mem::take(&mut chunks))? {
                            BodyEnd::Done(body) => {
                                self.lock_stream().request_body = body.clone();
                                chunks = self.request_chunks(body);
                                body_seen_by = i + 1;
                            }
                            BodyEnd::Reply(j, reply) => return Ok(self.request_reply(j, reply)),
                        }
                    }
                }
            }
        }
        if !(chunks.is_empty() || body_seen_by == self.filters.len()) {
            let order: Vec<usize> = (body_seen_by..self.filters.len()).collect();
            match self.body_pass(Direction::Request, &order, ids, chunks)? {
                BodyEnd::Done(body) => self.lock_stream().request_body = body,
                BodyEnd::Reply(i, reply) => return Ok(self.request_reply(i, reply)),
            }
        }
        if self.request_incomplete {
            return Ok(RequestEnd::Hung(self.client_stalled("Envoy's stream idle timeout (300 s)")));
        }
        Ok(RequestEnd::Upstream)
    }

    /// The reason a stream the client never finished ends: at `timeout`, with 408.
    fn client_stalled(&mut self, timeout: &str) -> String {
        let reason = format!("hung: the client did not finish the request; {timeout} ends it with 408");
        self.hang = Some(reason.clone());
        reason
    }

    /// A reply from a request body pass: a hang when it is the idle timeout's.
    fn request_reply(&mut self, i: usize, reply: LocalReply) -> RequestEnd {
        match &self.hang {
            Some(reason) => RequestEnd::Hung(reason.clone()),
            None => RequestEnd::Reply(i, reply),
        }
    }

    /// The request body as Envoy's HTTP/1 codec delivers it: none for a request without
    /// a body (its headers carry `end_of_stream`); else each chunk with `end_of_stream`
    /// false, then one empty chunk with `end_of_stream` true, the message's end
    /// (`http1/codec_impl.cc` `ServerConnectionImpl::onBody` decodes data with
    /// `end_stream` false, `onMessageComplete` an empty buffer with true).
    fn request_chunks(&self, body: Vec<u8>) -> Vec<(Vec<u8>, bool)> {
        if body.is_empty() {
            return Vec::new();
        }
        let size = self.chunk_size.unwrap_or(body.len());
        let mut chunks: Vec<(Vec<u8>, bool)> = body.chunks(size).map(|c| (c.to_vec(), false)).collect();
        chunks.push((Vec::new(), true));
        chunks
    }

    /// `body` as delivered chunks. Envoy: as its HTTP/1 codec delivers a message's body
    /// (see [`Chain::request_chunks`]; `ClientConnectionImpl::onBody`/`onMessageComplete`
    /// for a response). Kong: of `chunk_size` bytes when set, the last one with
    /// `end_of_stream`; else one chunk, followed by an empty end-of-stream chunk when
    /// `trailing_eos` (nginx's response body delivery).
    fn split(&self, body: Vec<u8>, trailing_eos: bool) -> Vec<(Vec<u8>, bool)> {
        if !self.kong() && !body.is_empty() {
            return self.request_chunks(body);
        }
        match self.chunk_size {
            Some(size) => {
                let mut chunks: Vec<(Vec<u8>, bool)> = body.chunks(size).map(|c| (c.to_vec(), false)).collect();
                match chunks.last_mut() {
                    Some(last) => last.1 = true,
                    None => chunks.push((Vec::new(), true)),
                }
                chunks
            }
            None if trailing_eos => vec![(body, false), (Vec::new(), true)],
            None => vec![(body, true)],
        }
    }

    fn set_buffer(&self, direction: Direction, data: Vec<u8>) {
        let mut stream = self.lock_stream();
        match direction {
            Direction::Request => stream.request_body = data,
            Direction::Response => stream.response_body = data,
        }
    }

    fn take_buffer(&self, direction: Direction) -> Vec<u8> {
        let mut stream = self.lock_stream();
        match direction {
            Direction::Request => std::mem::take(&mut stream.request_body),
            Direction::Response => std::mem::take(&mut stream.response_body),
        }
    }

    /// Runs body `chunks` through the filters of `order`, chunk by chunk, with Envoy's
    /// (or Kong's) buffering rules. A local response (or a hold nothing resumes) ends the
    /// pass: on the request path the reply travels back; on the response path (Envoy)
    /// its status and body become the response, the later filters do not see it.
    fn body_pass(&mut self, direction: Direction, order: &[usize], ids: &[i32], chunks: Vec<(Vec<u8>, bool)>) -> Result<BodyEnd> {
        let kong_response = self.kong() && direction == Direction::Response;
        let mut buffered: Vec<Option<Vec<u8>>> = vec![None; order.len()];
        let mut buffering_done = vec![false; order.len()];
        let mut accumulating = vec![false; order.len()];
        let mut output = Vec::new();
        for chunk in chunks {
            let mut pending = vec![chunk];
            for (k, &i) in order.iter().enumerate() {
                let mut next = Vec::new();
                for (data, end_of_stream) in pending {
                    let data = match buffered[k].take() {
                        Some(mut held) => {
                            held.extend_from_slice(&data);
                            held
                        }
                        None => data,
                    };
                    if accumulating[k] {
                        if !end_of_stream && data.len() < KONG_RESPONSE_BUFFER_BYTES {
                            // Kong accumulates without calling the filter until eof or full buffers.
                            buffered[k] = Some(data);
                            continue;
                        }
                        accumulating[k] = false;
                    }
                    let size = data.len();
                    self.set_buffer(direction, data);
                    let action = match direction {
                        Direction::Request => self.filters[i].on_request_body(ids[i], size, end_of_stream)?,
                        Direction::Response => self.filters[i].on_response_body(ids[i], size, end_of_stream)?,
                    };
                    if let Some(reply) = self.filters[i].take_local_reply() {
                        self.take_buffer(direction);
                        return Ok(BodyEnd::Reply(i, reply));
                    }
                    let now = self.take_buffer(direction);
                    if action == Action::Continue {
                        next.push((now, end_of_stream));
                        continue;
                    }
                    if kong_response {
                        if buffering_done[k] || end_of_stream {
                            self.log(i, "error", format!("filter {:?}: Pause from on_http_response_body ignored (body already buffered or complete)", self.filters[i].name));
                            next.push((now, end_of_stream));
                        } else {
                            buffering_done[k] = true;
                            accumulating[k] = true;
                            buffered[k] = Some(now);
                        }
                        continue;
                    }
                    if !end_of_stream {
                        // StopIterationAndBuffer: the next callback gets everything so far,
                        // up to the buffer limit (`filter_manager.cc`: the buffer's high
                        // watermark is the limit; past it `requestDataTooLarge` answers 413,
                        // `responseDataTooLarge` 500, or resets once the headers went out).
                        if now.len() > self.buffer_limit {
                            let (status, body) = match direction {
                                Direction::Request => (413, "Payload Too Large"),
                                Direction::Response => (500, "Internal Server Error"),
                            };
                            self.log(i, "debug", format!("{} data too large watermark exceeded", if status == 413 { "request" } else { "response" }));
                            return Ok(BodyEnd::Reply(i, LocalReply { status, headers: Vec::new(), body: body.as_bytes().to_vec(), grpc_status: None }));
                        }
                        buffered[k] = Some(now);
                        continue;
                    }
                    self.set_buffer(direction, now);
                    let wake = self.wait(i)?;
                    let now = self.take_buffer(direction);
                    match wake {
                        Wake::Resumed => next.push((now, end_of_stream)),
                        Wake::Reply(reply) => return Ok(BodyEnd::Reply(i, reply)),
                        Wake::Stuck => return Ok(BodyEnd::Reply(i, self.idle_timeout(i, "a body at its end"))),
                    }
                }
                pending = next;
            }
            for (data, _) in pending {
                output.extend(data);
            }
        }
        Ok(BodyEnd::Done(output))
    }

    /// Envoy: a local reply as `Utility::prepareLocalReply` builds it
    /// (`source/common/http/utility.cc`). For a gRPC request (the request headers'
    /// `content-type` is `application/grpc` or `application/grpc+...`:
    /// `Grpc::Common::hasGrpcContentType`, as `filter_manager.cc` sets `is_grpc_request`)
    /// a **trailers-only** reply: `:status` 200, `content-type: application/grpc`,
    /// `grpc-status` kept when the filter's headers carry one, else the filter's known
    /// gRPC status, else `Grpc::Utility::httpToGrpcStatus` of the HTTP status;
    /// `grpc-message` the percent-encoded body when there is one (not for HEAD); no
    /// `content-length`, no body (`encodeLocalReply`: headers with end_stream). Otherwise
    /// [`envoy_local_reply`].
    fn envoy_reply(&self, reply: LocalReply) -> Response {
        let (grpc, head) = {
            let stream = self.lock_stream();
            let value = |name: &str| stream.request_headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            let grpc = value("content-type").is_some_and(|ct| is_grpc_content_type(&ct));
            (grpc, value(":method").is_some_and(|m| m.eq_ignore_ascii_case(b"HEAD")))
        };
        if !grpc {
            return Response::from_reply(envoy_local_reply(reply));
        }
        grpc_trailers_only(reply, head)
    }

    /// Envoy with a route table: the route the router uses, picked again from the request
    /// headers as the filters left them when a filter cleared the route cache (a
    /// request-header write, see `abi::write_map`), else the one the connection manager
    /// picked before the filters; stored in the stream. True when none matched.
    fn route_not_found(&mut self) -> bool {
        if self.kong() || self.shared.routes.is_empty() {
            return false;
        }
        let routes = self.shared.routes.clone();
        let mut stream = self.lock_stream();
        if stream.route_cache_cleared {
            let path = stream.request_headers.iter().find(|(n, _)| n == ":path").map(|(_, v)| v.clone()).unwrap_or_default();
            stream.route = Some(crate::spec::RouteSpec::pick(&routes, &path).map(|i| routes[i].clone()));
            stream.route_cache_cleared = false;
        }
        matches!(stream.route, Some(None))
    }

    fn upstream_request(&self) -> UpstreamRequest {
        if self.kong() {
            return self.kong_upstream_request();
        }
        let stream = self.lock_stream();
        let cluster = stream.route.clone().flatten().map(|r| r.cluster);
        let get = |name: &str| stream.request_headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let authority = stream.request_headers.iter().find(|(n, _)| n == ":authority").map(|(_, v)| v.as_slice());
        UpstreamRequest::new(
            String::from_utf8_lossy(&get(":method")).into_owned(),
            get(":path"),
            stream.request_headers.iter().filter(|(n, _)| !n.starts_with(':')).cloned().collect(),
            stream.request_body.clone(),
        )
        .with_authority(authority)
        .with_cluster(cluster)
    }

    /// What nginx's proxy module sends upstream on Kong (kong-engine.md "Request
    /// headers", "Request bodies"): the URI is `ngx.upstream_uri` when set (Kong's
    /// `proxy_pass ...$upstream_uri`), else `$uri?$args` once `ngx.args` marked it
    /// changed, else the client's URI (`:path` writes alone change nothing); every header
    /// entry including removed ones (ngx_http_proxy_module.c forwards the whole list;
    /// removed entries come last here); `content-length` the body's length, unless a
    /// filter set that header itself.
    fn kong_upstream_request(&self) -> UpstreamRequest {
        let stream = self.lock_stream();
        let path = match &stream.upstream_uri {
            Some(uri) => uri.clone(),
            None if stream.uri_changed => {
                let mut path = stream.ngx_uri.clone();
                if !stream.ngx_args.is_empty() {
                    path.push(b'?');
                    path.extend_from_slice(&stream.ngx_args);
                }
                path
            }
            None => stream.request_uri.clone(),
        };
        let method = stream.request_headers.iter().find(|(n, _)| n == ":method").map(|(_, v)| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
        let entries = stream.request_headers.iter().chain(stream.removed_request_headers.iter());
        let had_length = entries.clone().any(|(n, _)| n == "content-length");
        let mut headers: Vec<(String, Vec<u8>)> = entries.filter(|(n, _)| !n.starts_with(':') && n != "content-length").cloned().collect();
        match &stream.content_length_set {
            Some(value) => headers.push(("content-length".into(), value.clone())),
            None if had_length || stream.request_had_body => {
                headers.push(("content-length".into(), stream.request_body.len().to_string().into_bytes()))
            }
            None => {}
        }
        // The Host nginx sends: a `host` entry a filter wrote, else the client's.
        let authority = stream
            .request_headers
            .iter()
            .find(|(n, _)| n == "host")
            .or_else(|| stream.request_headers.iter().find(|(n, _)| n == ":authority"))
            .map(|(_, v)| v.clone());
        UpstreamRequest::new(method, path, headers, stream.request_body.clone()).with_authority(authority.as_deref())
    }

    fn load_response_headers(&self, response: &Response) {
        let mut stream = self.lock_stream();
        stream.response_headers = vec![(":status".into(), response.status.to_string().into_bytes())];
        stream.response_headers.extend(response.headers.iter().cloned());
        stream.response_code = Some(response.status);
    }

    /// Kong: a local response from `on_http_response_headers` overrides the status and
    /// the body (with a linefeed appended), keeping the headers.
    fn kong_override(&self, response: &mut Response, reply: LocalReply) {
        let mut body = reply.body;
        if !body.is_empty() {
            body.push(b'\n');
        }
        let mut stream = self.lock_stream();
        for (name, value) in stream.response_headers.iter_mut() {
            if name == ":status" {
                *value = reply.status.to_string().into_bytes();
            } else if name == "content-length" {
                *value = body.len().to_string().into_bytes();
            }
        }
        stream.response_code = Some(reply.status);
        response.status = reply.status;
        response.body = body;
    }

    /// Response headers then body through filters `first` down to `0`.
    ///
    /// Envoy (`shared/design/envoy-host.md`, "Local replies", "Stream control"): a local
    /// reply from response headers goes straight to the client
    /// (`sendDirectLocalReply`), skipping the filters after it; from a response body
    /// once the headers went out, the stream is reset; a `Pause` from response headers
    /// stops this filter's body callbacks too unless the mode delivers them.
    fn response_path(&mut self, response: &mut Response, first: usize, ids: &[i32]) -> Result<()> {
        self.load_response_headers(response);
        let kong = self.kong();
        // Filters from this index up to `first` have already been handed the body.
        let mut body_seen_from = first + 1;
        // Envoy: an empty body ends the stream at the headers unless it is chunked.
        let chunked = response.chunked();
        for i in (0..=first).rev() {
            let end_of_stream = response.body.is_empty() && !kong && !chunked;
            let count = self.lock_stream().response_headers.len();
            let action = self.filters[i].on_response_headers(ids[i], count, end_of_stream)?;
            let mut reply = self.filters[i].take_local_reply();
            if reply.is_none() && action == Action::Pause {
                if kong {
                    self.log(i, "error", format!("filter {:?}: Pause from on_http_response_headers is not supported, continuing", self.filters[i].name));
                } else {
                    reply = match self.wait(i)? {
                        Wake::Resumed => None,
                        Wake::Reply(reply) => Some(reply),
                        Wake::Stuck if (response.body.is_empty() && !chunked) || !self.envoy.headers_pause_delivers_body() => {
                            Some(self.idle_timeout(i, "the response headers"))
                        }
                        Wake::Stuck => {
                            // StopIteration (1.35+ with the flag) holds the headers from the
                            // next filters, not the body from this one: the body reaches
                            // filters first..=i, and Continue from the last body callback
                            // resumes.
                            let order: Vec<usize> = (i..body_seen_from).rev().collect();
                            let held = std::mem::take(&mut response.body);
                            let chunks = if held.is_empty() { vec![(Vec::new(), true)] } else { self.split(held, true) };
                            body_seen_from = i;
                            match self.body_pass(Direction::Response, &order, ids, chunks)? {
                                BodyEnd::Done(body) => {
                                    response.body = body;
                                    None
                                }
                                // The headers were still held: an ordinary local reply.
                                BodyEnd::Reply(_, reply) => Some(reply),
                            }
                        }
                    };
                }
            }
            if let Some(reply) = reply {
                if kong {
                    self.kong_override(response, reply);
                } else {
                    // sendDirectLocalReply: to the client, past the filters after this one.
                    *response = self.envoy_reply(reply);
                    return Ok(());
                }
            }
        }
        let body = std::mem::take(&mut response.body);
        let chunks: Vec<(Vec<u8>, bool)> = if body.is_empty() {
            // Kong: nginx's body filter runs for the last (empty) buffer; Envoy: the
            // empty end-of-stream DATA of a chunked body (see `Response::chunked`).
            if (kong || chunked) && body_seen_from > first {
                vec![(Vec::new(), true)]
            } else {
                Vec::new()
            }
        } else {
            self.split(body.clone(), true)
        };
        let order: Vec<usize> = (0..body_seen_from.min(first + 1)).rev().collect();
        let (delivered, status) = if order.is_empty() || chunks.is_empty() {
            (body, 0)
        } else {
            match self.body_pass(Direction::Response, &order, ids, chunks)? {
                BodyEnd::Done(body) => (body, 0),
                BodyEnd::Reply(_, _) if !kong && self.hang.is_none() => {
                    // The headers went out already: Envoy resets the stream.
                    self.reset = true;
                    (Vec::new(), 0)
                }
                BodyEnd::Reply(_, reply) => (reply.body, reply.status),
            }
        };
        let stream = self.lock_stream();
        response.headers = stream.response_headers.iter().filter(|(n, _)| !n.starts_with(':')).cloned().collect();
        if let Some((_, value)) = stream.response_headers.iter().find(|(n, _)| n == ":status") {
            if let Ok(s) = String::from_utf8_lossy(value).parse() {
                response.status = s;
            }
        }
        if status != 0 {
            response.status = status;
        }
        response.body = delivered;
        Ok(())
    }
}

/// What the client gets when Envoy ends a stream at its idle timeout
/// (`conn_manager_impl.cc` `onIdleTimeout`: `stream timeout`; 504 since the harness's
/// requests are complete, `Utility::maybeRequestTimeoutCode`), with Envoy's local reply
/// headers.
/// Envoy's custom stat namespace for Wasm metrics, with its separator
/// (`source/extensions/common/wasm/stats_handler.h` `CustomStatNamespace`).
pub const ENVOY_CUSTOM_STAT_NAMESPACE: &str = "wasmcustom.";

/// Envoy's default tag extraction on a custom metric name (see
/// [`Chain::prometheus_stats`]): the name left, and the tags taken out of it.
fn envoy_extract_tags(name: &str) -> (String, Vec<(&'static str, String)>) {
    // `_rq(_(\d{3}))$`: the outer group leaves the name, the inner is the value.
    let bytes = name.as_bytes();
    let n = bytes.len();
    if n >= 8 && name[..n - 4].ends_with("_rq") && bytes[n - 4] == b'_' && bytes[n - 3..].iter().all(u8::is_ascii_digit) {
        return (name[..n - 4].to_string(), vec![("envoy.response_code", name[n - 3..].to_string())]);
    }
    // `_rq_((\d))xx$`: the digit leaves the name.
    if n >= 7 && name.ends_with("xx") && bytes[n - 3].is_ascii_digit() && name[..n - 3].ends_with("_rq_") {
        return (format!("{}xx", &name[..n - 3]), vec![("envoy.response_code_class", name[n - 3..n - 2].to_string())]);
    }
    (name.to_string(), Vec::new())
}

/// `PrometheusStatsFormatter::sanitizeName`: `[^a-zA-Z0-9_]` to `_`.
fn prometheus_sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// Envoy's trailers-only local reply to a gRPC request (`utility.cc` `prepareLocalReply`,
/// `is_grpc_`; see [`Chain::envoy_reply`]).
fn grpc_trailers_only(reply: LocalReply, head: bool) -> Response {
    let mut headers: Vec<(String, Vec<u8>)> = reply.headers.into_iter().filter(|(n, _)| n != "content-length" && n != "content-type").collect();
    headers.push(("content-type".into(), b"application/grpc".to_vec()));
    if !headers.iter().any(|(n, _)| n == "grpc-status") {
        let code = reply.grpc_status.unwrap_or_else(|| http_to_grpc_status(reply.status));
        headers.push(("grpc-status".into(), code.to_string().into_bytes()));
    }
    if !reply.body.is_empty() && !head {
        headers.retain(|(n, _)| n != "grpc-message");
        headers.push(("grpc-message".into(), grpc_percent_encode(&reply.body)));
    }
    Response { status: 200, headers, body: Vec::new() }
}

/// Whether a request file's request is gRPC for Envoy (its `content-type`, see
/// [`is_grpc_content_type`]).
fn request_is_grpc(request: &RequestSpec) -> bool {
    request.headers.byte_pairs().iter().any(|(n, v)| n.eq_ignore_ascii_case(b"content-type") && is_grpc_content_type(v))
}

/// Envoy's `Grpc::Common::hasGrpcContentType` (`source/common/grpc/common.cc`): exactly
/// `application/grpc`, or `application/grpc+...` (`application/grpc-web` is not gRPC).
fn is_grpc_content_type(value: &[u8]) -> bool {
    let grpc = b"application/grpc";
    value.starts_with(grpc) && (value.len() == grpc.len() || value[grpc.len()] == b'+')
}

/// Envoy's `Grpc::Utility::httpToGrpcStatus` (`source/common/grpc/status.cc`, after
/// grpc's `doc/http-grpc-status-mapping.md`).
fn http_to_grpc_status(status: u16) -> u32 {
    match status {
        400 => 13,                   // Internal
        401 => 16,                   // Unauthenticated
        403 => 7,                    // PermissionDenied
        404 => 12,                   // Unimplemented
        429 | 502 | 503 | 504 => 14, // Unavailable
        _ => 2,                      // Unknown
    }
}

/// Envoy's `Http::Utility::PercentEncoding::encode(value)` for `grpc-message`
/// (`source/common/http/utility.cc`, reserved chars `%`): `ch < ' ' || ch >= '~'` on a
/// signed `char`, so control bytes, `~`, DEL, every byte from 0x80 and `%` become `%XX`
/// (uppercase hex).
fn grpc_percent_encode(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        if !(b' '..b'~').contains(&b) || b == b'%' {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

/// Envoy's idle timeout reply (`conn_manager_impl.cc` `onIdleTimeout`): 504 once the
/// request was complete, 408 while the client had not finished it.
fn idle_timeout_reply(request_complete: bool) -> LocalReply {
    let status = if request_complete { 504 } else { 408 };
    envoy_local_reply(LocalReply { status, headers: Vec::new(), body: b"stream timeout".to_vec(), grpc_status: None })
}

/// A local reply's headers as Envoy sends them (`source/common/http/utility.cc`
/// `Utility::prepareLocalReply`): the filter's headers first; a non-empty body gets
/// `content-length` and, when no `content-type` was given, `content-type: text/plain`;
/// an empty body loses both.
pub fn envoy_local_reply(mut reply: LocalReply) -> LocalReply {
    reply.headers.retain(|(n, _)| n != "content-length");
    if reply.body.is_empty() {
        reply.headers.retain(|(n, _)| n != "content-type");
    } else if !reply.headers.iter().any(|(n, _)| n == "content-type") {
        reply.headers.push(("content-type".into(), b"text/plain".to_vec()));
    }
    reply
}

/// Envoy: the configuration canary of one plugin, before any worker VM exists
/// (proxy-wasm-cpp-host `src/wasm.cc` `createWasm` → `WasmHandleBase::canary`, run for
/// each plugin whether its base VM is new or reused): a clone of the base VM is
/// initialized (`_initialize`), started (`proxy_on_context_create`, `proxy_on_vm_start`)
/// and configured (`proxy_on_configure`), then killed. Its log lines stay in the start-up
/// log, and what it wrote to shared data or metrics stays (those belong to the `vm_id`
/// and the stats store, not to the VM); its module state is gone.
///
/// Errors: what Envoy's filter factory throws when the canary fails
/// (`source/extensions/filters/http/wasm/wasm_filter.cc` `FilterConfig`: `WasmException`
/// "Unable to create Wasm HTTP filter NAME"), after the host line `Wasm VM failed <why>`
/// (`source/extensions/common/wasm/wasm.cc` `Wasm::error`, at error level), where `why`
/// is cpp-host's `Failed to start base Wasm` (`proxy_on_vm_start` false) or `Failed to
/// configure base Wasm plugin` (`proxy_on_configure` false). At start-up Envoy exits with
/// it; over xDS the listener update is rejected: no stream ever runs the configuration.
fn canary(harness: &Harness, spec: &FilterSpec, vm_config: &serde_json::Value, shared: &Shared) -> Result<()> {
    let module = harness.module(&spec.module)?;
    let (error, why) = match Filter::new_vm(harness.engine(), &module, spec, vm_config, shared.clone()) {
        Err(e) => (e, "Failed to initialize Wasm code"),
        Ok(vm) => match Filter::join(vm, spec) {
            // Dropping the filter drops its VM: cpp-host's `configuration_canary_handle->kill()`.
            Ok(_killed) => return Ok(()),
            Err(e) => {
                // A trap fails the VM: cpp-host's `onStart`/`onConfigure` then answer false too.
                let in_configure = e.chain().any(|c| c.to_string().contains(crate::filter::TRAP_IN_CONFIGURE));
                let step = e.chain().find_map(|c| c.downcast_ref::<StartFailure>()).map(|f| f.step);
                let why = if step == Some("on_configure") || in_configure { "Failed to configure base Wasm plugin" } else { "Failed to start base Wasm" };
                (e, why)
            }
        },
    };
    shared.logs.lock().unwrap_or_else(|e| e.into_inner()).push(LogEntry {
        filter: spec.name.clone(),
        level: "error".into(),
        message: format!("Wasm VM failed {why}"),
    });
    Err(start_error(shared, spec, error).context(format!("Unable to create Wasm HTTP filter {}", spec.name)))
}

/// The error for a filter that failed to start (see [`Chain::new`]).
fn start_error(shared: &Shared, spec: &FilterSpec, e: wasmtime::Error) -> wasmtime::Error {
    let logs = std::mem::take(&mut *shared.logs.lock().unwrap_or_else(|e| e.into_inner()));
    if let Some(message) = shared.crashed.lock().unwrap_or_else(|e| e.into_inner()).clone() {
        return wasmtime::Error::new(HostCrash(message));
    }
    if shared.profile == HostProfile::Kong {
        let lines: Vec<String> = logs.iter().map(|l| format!("[{}] {}", l.level, l.message)).collect();
        let failure = e.chain().find_map(|c| c.downcast_ref::<StartFailure>()).cloned();
        let link_error = e.chain().map(|c| c.to_string()).find(|m| m.contains("incompatible import type"));
        let headline = match (failure, link_error) {
            (Some(f), _) => format!("[emerg] [proxy-wasm] failed initializing \"{}\" filter ({} failure)", spec.name, f.step),
            // ngx_proxy_wasm.c: a module that does not instantiate (checked by hand,
            // docs/hosts.md: `failed instantiating "probe" module: incompatible import
            // type for env::proxy_get_log_level`, then `(unknown error)`).
            (None, Some(link)) => {
                let module = spec.module.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                format!("[emerg] failed instantiating \"{module}\" module: {link}\n[emerg] [proxy-wasm] failed initializing \"{}\" filter (unknown error)", spec.name)
            }
            (None, None) => format!("[emerg] [proxy-wasm] failed initializing \"{}\" filter: {}", spec.name, e.root_cause()),
        };
        let mut text = headline;
        for line in lines {
            text.push('\n');
            text.push_str(&line);
        }
        return e.context(text);
    }
    let detail: Vec<String> =
        logs.iter().filter(|l| l.level == "error" || l.level == "critical").map(|l| format!("[{}] {}", l.level, l.message)).collect();
    if detail.is_empty() {
        return e;
    }
    e.context(detail.join("\n"))
}

/// What Envoy's connection manager does to request headers before any filter runs
/// (`conn_manager_utility.cc` `ConnectionManagerUtility::mutateRequestHeaders`, with
/// `use_remote_address` false as in our envoy.yaml): hop-by-hop headers removed
/// (`connection` and `upgrade` kept on an upgrade request), `x-forwarded-proto` set to
/// the scheme when absent, `x-request-id` generated when absent (a UUID v4).
fn envoy_request_headers(headers: &mut Vec<(String, Vec<u8>)>, n: u64) {
    let has = |headers: &Vec<(String, Vec<u8>)>, name: &str| headers.iter().any(|(h, _)| h == name);
    let upgrade = has(headers, "upgrade")
        && headers.iter().any(|(h, v)| h == "connection" && names_upgrade(v));
    headers.retain(|(h, _)| match h.as_str() {
        "keep-alive" | "proxy-connection" | "transfer-encoding" => false,
        "connection" | "upgrade" => upgrade,
        _ => true,
    });
    if !has(headers, "x-forwarded-proto") {
        headers.push(("x-forwarded-proto".into(), b"http".to_vec()));
    }
    if !has(headers, "x-request-id") {
        headers.push(("x-request-id".into(), request_id(n).into_bytes()));
    }
}

/// Whether a `connection` header value lists the `upgrade` token (RFC 9110 7.6.1,
/// case-insensitive).
fn names_upgrade(connection: &[u8]) -> bool {
    connection.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(b"upgrade"))
}

/// A UUID v4 for `x-request-id`, unique per chain and request (Envoy's
/// `UUIDRequestIDExtension` draws it at random; tests need only its shape).
fn request_id(n: u64) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let a = nanos ^ n.rotate_left(32);
    let b = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ nanos.rotate_left(17);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a as u16) & 0x0fff,
        ((b >> 48) as u16 & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// What Envoy's connection manager does to every response after the filters ran
/// (`conn_manager_impl.cc` `ActiveStream::encodeHeaders` via
/// `ConnectionManagerUtility::mutateResponseHeaders`): `date` (the date provider's) and
/// `server: envoy` (`server_header_transformation` OVERWRITE, the default); the answer
/// to a HEAD request goes out without its body, a local reply's included
/// (`filter_manager.cc` `sendLocalReplyViaFilterChain`, `is_head_request`).
fn envoy_response(mut outcome: Outcome, head: bool) -> Outcome {
    if head {
        outcome.body.clear();
        outcome.body_bytes.clear();
    }
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    for (name, value) in [("date", date), ("server", "envoy".to_string())] {
        outcome.headers.retain(|(n, _)| n != name);
        outcome.raw_headers.retain(|(n, _)| n != name);
        outcome.headers.push((name.into(), value.clone()));
        outcome.raw_headers.push((name.into(), value.into_bytes()));
    }
    outcome
}
