//! The harness's probe filter: each request header below asks it to exercise one host
//! call; results come back as response headers (`x-probe-*`) and log lines. Every
//! callback logs `<callback> ...` at info level so tests can check order and flags.
//!
//! Request headers (read in `on_http_request_headers`):
//! - `x-property: a.b.c` → `x-probe-property: <value>` (`hex:<bytes>` when the value is
//!   not printable text, `<missing>` when not found).
//! - `x-set-property: a.b.c=value` → `proxy_set_property`; status in `x-probe-set-status`.
//!   `x-set-property-only: <filter name>` limits the write to the named filter.
//! - `x-local: <callback>` → `proxy_send_local_response(418, body "local from <callback>")`
//!   from `request_headers`, `request_body`, `response_headers`, `response_body` or
//!   `http_call_response`.
//!   `x-local-only: <filter name>` limits that to the named filter of the chain.
//!   `x-local-details: TEXT` sends it with those response code details, no headers.
//!   `x-local-continue: 1` makes `on_http_request_headers` return `Continue` after it.
//!   `x-local-grpc-status: N` sends it with no headers and gRPC status `N` (else -1, with
//!   `x-local-from: <callback>`).
//! - `x-call: <upstream>` → `proxy_http_call` GET `/probe-call` and `Pause`; the response
//!   callback records `x-probe-call-status`, `x-probe-call-body` (the body, up to 200
//!   bytes) and resumes.
//!   `x-call-omit: NAME` leaves that call header out; `x-call-empty: NAME` sends it with
//!   an empty value; `x-call-timeout: MS` replaces the 2000 ms timeout (a `u32`: 4294967295
//!   is -1 for a host reading it as `int`).
//! - `x-pause: tick` → `Pause`; the root context's next tick resumes the stream.
//!   `x-pause: forever` → `Pause` and nothing resumes it.
//! - `x-cas: key` → reads shared data `key`, writes it with the read CAS (must succeed),
//!   then again with the same, now stale, CAS (must be refused);
//!   `x-probe-cas: <first write>,<second write>` (`ok`/`mismatch`).
//! - `x-buffer: request|response` → the body callbacks return `Pause` until the end of
//!   the stream (buffering).
//! - `x-pause-response-headers: 1` → `Pause` from `on_http_response_headers`.
//! - `x-remove: name` → `proxy_remove_header_map_value` on the request headers, then
//!   `x-probe-after-remove: <single-value read>` and `x-probe-pairs-have: true|false`
//!   (whether the pairs read still lists it).
//! - `x-set-pairs-drop: name` → the request header pairs read, `name` dropped, written
//!   back with `proxy_set_header_map_pairs`.
//! - `x-set-header: name=value` → `proxy_replace_header_map_value` on the request headers
//!   (value may be empty); status in `x-probe-set-header-status`.
//! - `x-set-path: /p?q` → sets `:path`; `x-probe-path-after: <:path read back>`. Runs
//!   before `x-set-property`, so both can be combined.
//! - `x-set-body: start,size,data` → `proxy_set_buffer_bytes(HttpRequestBody, start,
//!   size, data)` in the first `on_http_request_body`; status logged (`set_body status=N`).
//! - `x-get-empty: 1` → in a body callback of size 0, `proxy_get_buffer_bytes(request
//!   body, 0, 0)`; logs `get_empty status=N size=M`.
//! - `x-map-probe: get-response-in-request` (`x-probe-map-status` = status of reading
//!   response header `content-type` during request headers), `pairs-trailers` (status of
//!   the request trailers pairs read), `set-request-in-response-headers` (replaces
//!   request header `x-late` in `on_http_response_headers`), `set-response-in-response-body`
//!   (replaces response header `x-late` in `on_http_response_body`),
//!   `read-request-later` (in `on_http_response_headers` logs `late read status=N
//!   pairs=M` for request header `x-map-probe` and the pairs read; in `on_log` logs
//!   `log read status=N value=V`).
//! - `x-shared: key` → `proxy_set_shared_data(key, "v")` then get; `x-probe-shared`.
//! - `x-queue: name` → `proxy_register_shared_queue(name)`; status in `x-probe-queue`.
//! - `x-queue-ops: op;op...` → each of `register:NAME`, `resolve:NAME`,
//!   `resolve-vm:VM_ID:NAME` (`STATUS:TOKEN`), `enqueue:TOKEN:DATA` (`STATUS`),
//!   `dequeue:TOKEN` (`STATUS:DATA`), `grpc:CLUSTER` or `grpc:hex:BYTES`
//!   (`proxy_grpc_call` to that service, `STATUS`); results `,`-joined in
//!   `x-probe-queue-ops`. The root context's `on_queue_ready` logs `queue_ready token=T`,
//!   drains the queue (`queue_item data=D` each) and logs `queue_drained status=S`.
//! - `x-properties: a.b,c` → each read, `x-probe-properties: <v1>|<v2>`.
//! - `x-trap: 1` → the filter traps (`unreachable`) in `on_http_request_headers`.
//! - `x-log: LEVEL,message` → `proxy_log(LEVEL, message)`; status in `x-probe-log-status`.
//! - `x-foreign: name` → `proxy_call_foreign_function(name, "")`; status in `x-probe-foreign`.
//! - `x-metric: name` → `proxy_define_metric(counter, name)` twice, an increment by 0, a
//!   record of 5, an increment by 1; `x-probe-metric: <same id>,<increment 0 status>,<value>`.
//! - `x-log-property: a.b` → `on_log` logs `log property a.b = <value>`.
//! - `x-gauge: name` → `proxy_define_metric(gauge, name)`, records 5 then 3;
//!   `x-probe-gauge: <value>`.
//! The probe does not import `proxy_get_log_level`, which Kong's engine declares with
//! another signature (a module importing it does not load there); the harness's tests
//! read the level with generated modules.
//! Always: counter `probe_requests` incremented, its value in `x-probe-requests`;
//! `x-probe-time-ok` (current time after 2020),
//! `x-probe-instance-requests` (requests this instance has seen: restarts reset it).
//!
//! Property reads answer the value, `<missing>` (NotFound) or `<status N>`.
//!
//! Plugin configuration, `;`-separated: `tick=<ms>` sets the tick period in
//! `on_configure` (each tick increments counter `probe_ticks`, sets root property
//! `wasmx.ticks`, and resumes the streams waiting on a tick); `read=a.b,c` reads those
//! properties in `on_configure` and `vm_read=a.b,c` in `on_vm_start`, logging
//! `configure property a.b = <value>` / `vm_start property ...`; `configure=false` makes
//! `on_configure` return false; `root_local=1` calls `proxy_send_local_response` (403;
//! `root_local=CODE` with that status) from the root context in `on_configure` and logs
//! `root local status=N`; `log_write=1`
//! makes `on_log` replace request header `x-log-write` and log `log write status=N`. `on_configure`
//! always logs `configure`.

#[cfg(target_arch = "wasm32")]
mod filter {
    use std::cell::RefCell;
    use std::time::{Duration, UNIX_EPOCH};

    use proxy_wasm::hostcalls;
    use proxy_wasm::traits::{Context, HttpContext, RootContext};
    use proxy_wasm::types::{Action, ContextType, LogLevel, MapType, MetricType};

    #[allow(clashing_extern_declarations)]
    extern "C" {
        fn proxy_set_property(path_data: *const u8, path_size: usize, value_data: *const u8, value_size: usize) -> u32;
        fn proxy_get_property(path_data: *const u8, path_size: usize, data: *mut *mut u8, size: *mut usize) -> u32;
        fn proxy_get_header_map_value(map_type: u32, key: *const u8, key_size: usize, data: *mut *mut u8, size: *mut usize) -> u32;
        fn proxy_get_header_map_pairs(map_type: u32, data: *mut *mut u8, size: *mut usize) -> u32;
        fn proxy_replace_header_map_value(map_type: u32, key: *const u8, key_size: usize, value: *const u8, value_size: usize) -> u32;
        fn proxy_set_buffer_bytes(buffer_type: u32, start: usize, size: usize, data: *const u8, data_size: usize) -> u32;
        fn proxy_get_buffer_bytes(buffer_type: u32, start: usize, size: usize, data: *mut *mut u8, size_out: *mut usize) -> u32;
        fn proxy_register_shared_queue(name: *const u8, name_size: usize, token: *mut u32) -> u32;
        fn proxy_resolve_shared_queue(vm_id: *const u8, vm_id_size: usize, name: *const u8, name_size: usize, token: *mut u32) -> u32;
        fn proxy_enqueue_shared_queue(token: u32, data: *const u8, size: usize) -> u32;
        fn proxy_dequeue_shared_queue(token: u32, data: *mut *mut u8, size: *mut usize) -> u32;
        #[allow(clippy::too_many_arguments)]
        fn proxy_grpc_call(
            service: *const u8,
            service_size: usize,
            service_name: *const u8,
            service_name_size: usize,
            method: *const u8,
            method_size: usize,
            metadata: *const u8,
            metadata_size: usize,
            message: *const u8,
            message_size: usize,
            timeout_ms: u32,
            token: *mut u32,
        ) -> u32;
        fn proxy_log(level: u32, message: *const u8, size: usize) -> u32;
        fn proxy_call_foreign_function(
            name: *const u8,
            name_size: usize,
            argument: *const u8,
            argument_size: usize,
            results: *mut *mut u8,
            results_size: *mut usize,
        ) -> u32;
        fn proxy_send_local_response(
            status_code: u32,
            details: *const u8,
            details_size: usize,
            body: *const u8,
            body_size: usize,
            headers: *const u8,
            headers_size: usize,
            grpc_status: i32,
        ) -> u32;
        fn proxy_define_metric(kind: u32, name: *const u8, name_size: usize, id: *mut u32) -> u32;
        fn proxy_increment_metric(id: u32, offset: i64) -> u32;
        fn proxy_record_metric(id: u32, value: u64) -> u32;
    }

    thread_local! {
        static WAITING: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
        static INSTANCE_REQUESTS: RefCell<u64> = const { RefCell::new(0) };
    }

    fn take(data: *mut u8, size: usize) -> Vec<u8> {
        if data.is_null() {
            Vec::new()
        } else {
            unsafe { Vec::from_raw_parts(data, size, size) }
        }
    }

    /// `proxy_get_property` with its raw status: the value, `<missing>` or `<status N>`.
    fn property_raw(path: &str) -> String {
        let mut encoded = Vec::new();
        for segment in path.split('.') {
            encoded.extend_from_slice(segment.as_bytes());
            encoded.push(0);
        }
        // As the SDK's serialize_property_path: segments joined by NUL, none after the last.
        encoded.pop();
        let mut data = std::ptr::null_mut();
        let mut size = 0;
        let status = unsafe { proxy_get_property(encoded.as_ptr(), encoded.len(), &mut data, &mut size) };
        let bytes = take(data, size);
        match status {
            0 => Probe::printable(&bytes),
            1 => "<missing>".into(),
            other => format!("<status {other}>"),
        }
    }

    /// `proxy_get_header_map_value` with its raw status.
    fn map_value_raw(map_type: u32, key: &str) -> (u32, Option<String>) {
        let mut data = std::ptr::null_mut();
        let mut size = 0;
        let status = unsafe { proxy_get_header_map_value(map_type, key.as_ptr(), key.len(), &mut data, &mut size) };
        let bytes = take(data, size);
        (status, (status == 0).then(|| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// The status of `proxy_get_header_map_pairs(map_type)`.
    fn pairs_status(map_type: u32) -> u32 {
        let mut data = std::ptr::null_mut();
        let mut size = 0;
        let status = unsafe { proxy_get_header_map_pairs(map_type, &mut data, &mut size) };
        drop(take(data, size));
        status
    }

    fn replace_raw(map_type: u32, key: &str, value: &str) -> u32 {
        unsafe { proxy_replace_header_map_value(map_type, key.as_ptr(), key.len(), value.as_ptr(), value.len()) }
    }

    fn config_text() -> String {
        hostcalls::get_buffer(proxy_wasm::types::BufferType::PluginConfiguration, 0, usize::MAX)
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The value of directive `name=` in the `;`-separated plugin configuration.
    fn directive(config: &str, name: &str) -> Option<String> {
        config.split(';').find_map(|d| d.trim().strip_prefix(name).and_then(|rest| rest.strip_prefix('=')).map(str::to_string))
    }

    fn read_properties(config: &str, name: &str, label: &str) {
        if let Some(list) = directive(config, name) {
            for path in list.split(',').filter(|p| !p.is_empty()) {
                info(format!("{label} property {path} = {}", property_raw(path)));
            }
        }
    }

    proxy_wasm::main! {{
        proxy_wasm::set_log_level(LogLevel::Trace);
        proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(ProbeRoot::default()) });
    }}

    fn info(message: String) {
        let _ = hostcalls::log(LogLevel::Info, &message);
    }

    fn counter(name: &str) -> Option<u32> {
        hostcalls::define_metric(MetricType::Counter, name).ok()
    }

    #[derive(Default)]
    struct ProbeRoot {
        /// `log_write=1` in the plugin configuration (read in `on_configure`, the only
        /// callback Envoy hands the configuration to).
        log_write: bool,
    }

    impl Context for ProbeRoot {}

    /// `proxy_dequeue_shared_queue(token)`: the status and the item (empty unless Ok).
    fn dequeue(token: u32) -> (u32, String) {
        let mut data = std::ptr::null_mut();
        let mut size = 0;
        let status = unsafe { proxy_dequeue_shared_queue(token, &mut data, &mut size) };
        (status, String::from_utf8_lossy(&take(data, size)).into_owned())
    }

    /// One `x-queue-ops` step (see the module docs): its result.
    fn queue_op(op: &str) -> String {
        let mut parts = op.splitn(3, ':');
        let (verb, a, b) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let mut token = 0u32;
        match verb {
            "register" => {
                let status = unsafe { proxy_register_shared_queue(a.as_ptr(), a.len(), &mut token) };
                format!("{status}:{token}")
            }
            "resolve" | "resolve-vm" => {
                let (vm, name) = if verb == "resolve" { ("", a) } else { (a, b) };
                let status = unsafe { proxy_resolve_shared_queue(vm.as_ptr(), vm.len(), name.as_ptr(), name.len(), &mut token) };
                format!("{status}:{token}")
            }
            "enqueue" => {
                let status = unsafe { proxy_enqueue_shared_queue(a.parse().unwrap_or(0), b.as_ptr(), b.len()) };
                status.to_string()
            }
            "dequeue" => {
                let (status, item) = dequeue(a.parse().unwrap_or(0));
                format!("{status}:{item}")
            }
            "grpc" => {
                // grpc:SERVICE (a cluster name, or `hex:` bytes).
                let service = match a.strip_prefix("hex") {
                    Some(_) => (0..b.len() / 2).filter_map(|i| u8::from_str_radix(&b[2 * i..2 * i + 2], 16).ok()).collect::<Vec<u8>>(),
                    None => a.as_bytes().to_vec(),
                };
                let (svc, method, empty) = ("pkg.Svc", "Call", [0u8; 4]);
                let status = unsafe {
                    proxy_grpc_call(service.as_ptr(), service.len(), svc.as_ptr(), svc.len(), method.as_ptr(), method.len(), empty.as_ptr(), 4, b"m".as_ptr(), 1, 1000, &mut token)
                };
                status.to_string()
            }
            _ => "?".into(),
        }
    }

    impl RootContext for ProbeRoot {
        /// Logs `queue_ready token=T`, then drains the queue: `queue_item data=D` per item
        /// and `queue_drained status=S` (Empty is 7).
        fn on_queue_ready(&mut self, token: u32) {
            info(format!("queue_ready token={token}"));
            loop {
                let (status, item) = dequeue(token);
                if status != 0 {
                    info(format!("queue_drained status={status}"));
                    break;
                }
                info(format!("queue_item data={item}"));
            }
        }

        fn on_vm_start(&mut self, _size: usize) -> bool {
            read_properties(&config_text(), "vm_read", "vm_start");
            true
        }

        fn on_configure(&mut self, _size: usize) -> bool {
            let config = config_text();
            info("configure".into());
            if let Some(ms) = directive(&config, "tick").and_then(|v| v.parse::<u64>().ok()) {
                let _ = hostcalls::set_tick_period(Duration::from_millis(ms));
            }
            read_properties(&config, "read", "configure");
            self.log_write = directive(&config, "log_write").is_some();
            if let Some(code) = directive(&config, "root_local") {
                // `root_local=1`: 403; any other number is the status itself.
                let code = code.parse::<u32>().ok().filter(|c| *c != 1).unwrap_or(403);
                let status = unsafe { proxy_send_local_response(code, core::ptr::null(), 0, b"no".as_ptr(), 2, [0u8; 4].as_ptr(), 4, -1) };
                info(format!("root local status={status}"));
            }
            directive(&config, "configure").as_deref() != Some("false")
        }

        fn on_tick(&mut self) {
            let ticks = counter("probe_ticks").map(|id| {
                let _ = hostcalls::increment_metric(id, 1);
                hostcalls::get_metric(id).unwrap_or(0)
            });
            info(format!("tick {}", ticks.unwrap_or(0)));
            let value = ticks.unwrap_or(0).to_string();
            set_property_raw("wasmx.ticks", value.as_bytes());
            let waiting = WAITING.with(|w| std::mem::take(&mut *w.borrow_mut()));
            for id in waiting {
                if hostcalls::set_effective_context(id).is_ok() {
                    let _ = hostcalls::resume_http_request();
                }
            }
        }

        fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(Probe { id: context_id, log_write: self.log_write, ..Probe::default() }))
        }

        fn get_type(&self) -> Option<ContextType> {
            Some(ContextType::HttpContext)
        }
    }

    /// `proxy_set_property` without the SDK's panic on a non-OK status; returns the status.
    fn set_property_raw(path: &str, value: &[u8]) -> u32 {
        let mut encoded = Vec::new();
        for segment in path.split('.') {
            encoded.extend_from_slice(segment.as_bytes());
            encoded.push(0);
        }
        // As the SDK's serialize_property_path: segments joined by NUL, none after the last.
        encoded.pop();
        unsafe { proxy_set_property(encoded.as_ptr(), encoded.len(), value.as_ptr(), value.len()) }
    }

    #[derive(Default)]
    struct Probe {
        id: u32,
        local: Option<String>,
        local_grpc_status: Option<i32>,
        buffer: Option<String>,
        pause_response_headers: bool,
        set_body: Option<String>,
        map_probe: Option<String>,
        out: Vec<(String, String)>,
        body_calls: usize,
        log_write: bool,
        get_empty: bool,
        local_details: Option<String>,
        log_property: Option<String>,
    }

    impl Probe {
        fn local_from(&mut self, callback: &str) -> bool {
            if self.local.as_deref() == Some(callback) {
                info(format!("local response from {callback}"));
                let body = format!("local from {callback}");
                if let Some(details) = &self.local_details {
                    unsafe {
                        proxy_send_local_response(418, details.as_ptr(), details.len(), body.as_ptr(), body.len(), [0u8; 4].as_ptr(), 4, -1);
                    }
                    return true;
                }
                match self.local_grpc_status {
                    // No headers (an empty map), the gRPC status as given.
                    Some(grpc) => unsafe {
                        proxy_send_local_response(418, core::ptr::null(), 0, body.as_ptr(), body.len(), [0u8; 4].as_ptr(), 4, grpc);
                    },
                    None => self.send_http_response(418, vec![("x-local-from", callback)], Some(body.as_bytes())),
                }
                true
            } else {
                false
            }
        }

        fn printable(bytes: &[u8]) -> String {
            match std::str::from_utf8(bytes) {
                Ok(text) if text.chars().all(|c| !c.is_control()) => text.to_string(),
                _ => format!("hex:{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()),
            }
        }
    }

    impl Context for Probe {
        fn on_http_call_response(&mut self, token: u32, headers: usize, body_size: usize, _trailers: usize) {
            info(format!("http_call_response token={token} headers={headers} body={body_size}"));
            let status = self.get_http_call_response_header(":status").unwrap_or_else(|| "none".into());
            self.out.push(("x-probe-call-status".into(), status));
            if let Some(reason) = self.get_http_call_response_header(":dispatch_status") {
                self.out.push(("x-probe-dispatch-status".into(), reason));
            }
            let body = self.get_http_call_response_body(0, body_size).unwrap_or_default();
            let shown = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            self.out.push(("x-probe-call-body".into(), shown));
            if self.local_from("http_call_response") {
                return;
            }
            self.resume_http_request();
        }
    }

    impl HttpContext for Probe {
        fn on_http_request_headers(&mut self, headers: usize, end_of_stream: bool) -> Action {
            info(format!("request_headers headers={headers} eos={end_of_stream}"));
            let header = |name: &str| hostcalls::get_map_value(MapType::HttpRequestHeaders, name).ok().flatten();
            self.local = header("x-local");
            // `x-local-only: <filter name>`: only that filter of the chain answers.
            if let Some(only) = header("x-local-only") {
                let name = hostcalls::get_property(vec!["plugin_name"]).ok().flatten().unwrap_or_default();
                if only.as_bytes() != name.as_slice() {
                    self.local = None;
                }
            }
            self.local_grpc_status = header("x-local-grpc-status").and_then(|v| v.parse().ok());
            self.local_details = header("x-local-details");
            self.log_property = header("x-log-property");
            self.buffer = header("x-buffer");
            self.pause_response_headers = header("x-pause-response-headers").is_some();
            self.set_body = header("x-set-body");
            self.get_empty = header("x-get-empty").is_some();
            self.map_probe = header("x-map-probe");
            if header("x-trap").is_some() {
                core::arch::wasm32::unreachable();
            }
            let seen = INSTANCE_REQUESTS.with(|n| {
                *n.borrow_mut() += 1;
                *n.borrow()
            });
            self.out.push(("x-probe-instance-requests".into(), seen.to_string()));
            match self.map_probe.as_deref() {
                Some("get-response-in-request") => {
                    let (status, _) = map_value_raw(2, "content-type");
                    self.out.push(("x-probe-map-status".into(), status.to_string()));
                }
                Some("pairs-trailers") => self.out.push(("x-probe-map-status".into(), pairs_status(1).to_string())),
                _ => {}
            }
            if let Some(name) = header("x-remove") {
                let _ = hostcalls::remove_map_value(MapType::HttpRequestHeaders, &name);
                let (_, value) = map_value_raw(0, &name);
                self.out.push(("x-probe-after-remove".into(), value.unwrap_or_else(|| "<missing>".into())));
                let listed = hostcalls::get_map(MapType::HttpRequestHeaders).unwrap_or_default().iter().any(|(n, _)| *n == name);
                self.out.push(("x-probe-pairs-have".into(), listed.to_string()));
            }
            if let Some(name) = header("x-set-pairs-drop") {
                let pairs = hostcalls::get_map(MapType::HttpRequestHeaders).unwrap_or_default();
                let kept: Vec<(&str, &str)> = pairs.iter().filter(|(n, _)| *n != name).map(|(n, v)| (n.as_str(), v.as_str())).collect();
                let _ = hostcalls::set_map(MapType::HttpRequestHeaders, kept);
            }
            if let Some(spec) = header("x-set-header") {
                let (name, value) = spec.split_once('=').unwrap_or((spec.as_str(), ""));
                self.out.push(("x-probe-set-header-status".into(), replace_raw(0, name, value).to_string()));
            }
            if let Some(path) = header("x-set-path") {
                let _ = replace_raw(0, ":path", &path);
                let (_, value) = map_value_raw(0, ":path");
                self.out.push(("x-probe-path-after".into(), value.unwrap_or_else(|| "<missing>".into())));
            }
            if let Some(key) = header("x-shared") {
                let _ = hostcalls::set_shared_data(&key, Some(b"v"), None);
                let (value, _) = hostcalls::get_shared_data(&key).unwrap_or((None, None));
                self.out.push(("x-probe-shared".into(), String::from_utf8_lossy(&value.unwrap_or_default()).into_owned()));
            }
            if let Some(spec) = header("x-log") {
                let (level, message) = spec.split_once(',').unwrap_or(("2", spec.as_str()));
                let status = unsafe { proxy_log(level.parse().unwrap_or(2), message.as_ptr(), message.len()) };
                self.out.push(("x-probe-log-status".into(), status.to_string()));
            }
            if let Some(name) = header("x-foreign") {
                let (mut data, mut size) = (core::ptr::null_mut(), 0usize);
                let status = unsafe { proxy_call_foreign_function(name.as_ptr(), name.len(), b"".as_ptr(), 0, &mut data, &mut size) };
                self.out.push(("x-probe-foreign".into(), status.to_string()));
            }
            if let Some(name) = header("x-metric") {
                let (mut first, mut second) = (0u32, 0u32);
                unsafe {
                    proxy_define_metric(0, name.as_ptr(), name.len(), &mut first);
                    proxy_define_metric(0, name.as_ptr(), name.len(), &mut second);
                }
                let zero = unsafe { proxy_increment_metric(second, 0) };
                unsafe {
                    proxy_record_metric(second, 5);
                    proxy_increment_metric(first, 1);
                }
                let value = hostcalls::get_metric(first).unwrap_or(0);
                self.out.push(("x-probe-metric".into(), format!("{},{zero},{value}", first == second)));
            }
            if let Some(name) = header("x-gauge") {
                let mut id = 0u32;
                unsafe {
                    proxy_define_metric(1, name.as_ptr(), name.len(), &mut id);
                    proxy_record_metric(id, 5);
                    proxy_record_metric(id, 3);
                }
                self.out.push(("x-probe-gauge".into(), hostcalls::get_metric(id).unwrap_or(0).to_string()));
            }
            if let Some(ops) = header("x-queue-ops") {
                let results: Vec<String> = ops.split(';').map(queue_op).collect();
                self.out.push(("x-probe-queue-ops".into(), results.join(",")));
            }
            if let Some(name) = header("x-queue") {
                let mut token = 0u32;
                let status = unsafe { proxy_register_shared_queue(name.as_ptr(), name.len(), &mut token) };
                self.out.push(("x-probe-queue".into(), status.to_string()));
            }
            if let Some(id) = counter("probe_requests") {
                let _ = hostcalls::increment_metric(id, 1);
                let value = hostcalls::get_metric(id).unwrap_or(0);
                self.out.push(("x-probe-requests".into(), value.to_string()));
            }
            let recent = self.get_current_time().duration_since(UNIX_EPOCH).map(|d| d.as_secs() > 1_577_836_800).unwrap_or(false);
            self.out.push(("x-probe-time-ok".into(), recent.to_string()));
            let set_here = match header("x-set-property-only") {
                Some(only) => only.as_bytes() == hostcalls::get_property(vec!["plugin_name"]).ok().flatten().unwrap_or_default().as_slice(),
                None => true,
            };
            if let Some(path) = header("x-set-property").filter(|_| set_here) {
                let (key, value) = path.split_once('=').unwrap_or((path.as_str(), ""));
                let status = set_property_raw(key, value.as_bytes());
                self.out.push(("x-probe-set-status".into(), status.to_string()));
            }
            if let Some(path) = header("x-property") {
                self.out.push(("x-probe-property".into(), property_raw(&path)));
            }
            if let Some(list) = header("x-properties") {
                let values: Vec<String> = list.split(',').map(property_raw).collect();
                self.out.push(("x-probe-properties".into(), values.join("|")));
            }
            if let Some(key) = header("x-cas") {
                let (_, cas) = hostcalls::get_shared_data(&key).unwrap_or((None, None));
                let word = |r: Result<(), proxy_wasm::types::Status>| match r {
                    Ok(()) => "ok".to_string(),
                    Err(proxy_wasm::types::Status::CasMismatch) => "mismatch".to_string(),
                    Err(other) => format!("{other:?}"),
                };
                let first = word(hostcalls::set_shared_data(&key, Some(b"first"), cas.or(Some(0))));
                let second = word(hostcalls::set_shared_data(&key, Some(b"stale"), Some(cas.unwrap_or(0).wrapping_add(1000))));
                self.out.push(("x-probe-cas".into(), format!("{first},{second}")));
            }
            if self.local_from("request_headers") {
                // `x-local-continue`: answer Continue anyway (Envoy forces Stop).
                return if header("x-local-continue").is_some() { Action::Continue } else { Action::Pause };
            }
            if let Some(upstream) = header("x-call") {
                let omit = header("x-call-omit").unwrap_or_default();
                let empty = header("x-call-empty").unwrap_or_default();
                let headers: Vec<(&str, &str)> = [(":method", "GET"), (":path", "/probe-call"), (":authority", "probe"), ("x-probe", "1")]
                    .into_iter()
                    .filter(|(n, _)| *n != omit)
                    .map(|(n, v)| if n == empty { (n, "") } else { (n, v) })
                    .collect();
                let timeout = header("x-call-timeout").and_then(|t| t.parse::<u32>().ok()).unwrap_or(2000);
                let sent = self.dispatch_http_call(&upstream, headers, None, vec![], Duration::from_millis(u64::from(timeout)));
                match sent {
                    Ok(token) => {
                        info(format!("dispatched token={token}"));
                        return Action::Pause;
                    }
                    Err(status) => self.out.push(("x-probe-call-status".into(), format!("dispatch failed {status:?}"))),
                }
            }
            match header("x-pause").as_deref() {
                Some("tick") => {
                    WAITING.with(|w| w.borrow_mut().push(self.id));
                    return Action::Pause;
                }
                Some("forever") => return Action::Pause,
                _ => {}
            }
            Action::Continue
        }

        fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> Action {
            let body = self.get_http_request_body(0, size).unwrap_or_default();
            info(format!("request_body size={size} eos={end_of_stream} body={}", String::from_utf8_lossy(&body)));
            if self.get_empty && size == 0 {
                let (mut data, mut got) = (core::ptr::null_mut(), usize::MAX);
                let status = unsafe { proxy_get_buffer_bytes(0, 0, 0, &mut data, &mut got) };
                drop(take(data, if status == 0 { got } else { 0 }));
                info(format!("get_empty status={status} size={got}"));
            }
            if let Some(spec) = self.set_body.take() {
                let mut parts = spec.splitn(3, ',');
                let start = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                let size = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                let data = parts.next().unwrap_or("");
                let status = unsafe { proxy_set_buffer_bytes(0, start, size, data.as_ptr(), data.len()) };
                info(format!("set_body status={status}"));
            }
            if self.local_from("request_body") {
                return Action::Pause;
            }
            if self.buffer.as_deref() == Some("request") && !end_of_stream {
                return Action::Pause;
            }
            Action::Continue
        }

        fn on_http_response_headers(&mut self, headers: usize, end_of_stream: bool) -> Action {
            info(format!("response_headers headers={headers} eos={end_of_stream}"));
            for (name, value) in std::mem::take(&mut self.out) {
                self.add_http_response_header(&name, &value);
            }
            if self.map_probe.as_deref() == Some("read-request-later") {
                let (status, _) = map_value_raw(0, "x-map-probe");
                let pairs = hostcalls::get_map(MapType::HttpRequestHeaders).map(|p| p.len().to_string()).unwrap_or_else(|e| format!("{e:?}"));
                info(format!("late read status={status} pairs={pairs}"));
            }
            if self.map_probe.as_deref() == Some("set-request-in-response-headers") {
                info(format!("late set status={}", replace_raw(0, "x-late", "1")));
            }
            if self.local_from("response_headers") {
                return Action::Pause;
            }
            if self.pause_response_headers {
                return Action::Pause;
            }
            Action::Continue
        }

        fn on_http_response_body(&mut self, size: usize, end_of_stream: bool) -> Action {
            self.body_calls += 1;
            let body = self.get_http_response_body(0, size).unwrap_or_default();
            info(format!("response_body size={size} eos={end_of_stream} body={}", String::from_utf8_lossy(&body)));
            if self.map_probe.as_deref() == Some("set-response-in-response-body") {
                info(format!("late set status={}", replace_raw(2, "x-late", "1")));
            }
            if self.local_from("response_body") {
                return Action::Pause;
            }
            if self.buffer.as_deref() == Some("response") && !end_of_stream {
                return Action::Pause;
            }
            Action::Continue
        }

        fn on_log(&mut self) {
            info(format!("log body_calls={}", self.body_calls));
            if self.map_probe.as_deref() == Some("read-request-later") {
                let (status, value) = map_value_raw(0, "x-map-probe");
                info(format!("log read status={status} value={}", value.unwrap_or_default()));
            }
            if let Some(path) = &self.log_property {
                info(format!("log property {path} = {}", property_raw(path)));
            }
            if self.log_write {
                info(format!("log write status={}", replace_raw(0, "x-log-write", "1")));
            }
        }
    }
}
