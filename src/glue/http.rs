//! The HTTP context: one per stream. Runs Kong's phases on the proxy-wasm callbacks:
//! `rewrite` and `access` on the request headers, `header_filter` on the response
//! headers, `body_filter` per response body chunk, `log` when the stream is done.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, MapType};

use crate::phase::Phase;
use crate::runtime::{BodyChunk, HeaderOp, LocalResponse, PhaseOutcome, RequestState, Runtime};

/// One stream through the plugin instance.
pub struct FunctionsHttp {
    runtime: Option<Rc<RefCell<Runtime>>>,
    request: RequestState,
    /// The filter sent its own response; the host's response callbacks have nothing to do.
    responded_locally: bool,
    /// A `body_filter` chunk set `ngx.arg[2] = true`: the rest of the body is dropped.
    body_ended: bool,
    /// `rewrite`/`access` wait for the whole request body (a chunk reads or replaces it).
    request_phases_pending: bool,
    /// `kong.service.request.enable_buffering()` ran and the response is being buffered:
    /// `header_filter` and `body_filter` run once the whole body is in.
    buffering_response: bool,
    /// Buffering on Kong's engine, which cannot hold response headers: `header_filter`
    /// ran on the headers, `body_filter` runs once on the whole buffered body.
    buffering_body_only: bool,
}

impl FunctionsHttp {
    /// A stream served by `runtime`; `None` when the instance is not configured.
    pub fn new(runtime: Option<Rc<RefCell<Runtime>>>) -> FunctionsHttp {
        FunctionsHttp {
            runtime,
            request: RequestState::default(),
            responded_locally: false,
            body_ended: false,
            request_phases_pending: false,
            buffering_response: false,
            buffering_body_only: false,
        }
    }

    fn run(&mut self, phase: Phase) -> PhaseOutcome {
        match &self.runtime {
            Some(runtime) => runtime.borrow_mut().run_phase(phase, &mut self.request),
            None => PhaseOutcome::Continue,
        }
    }

    fn has_phase(&self, phase: Phase) -> bool {
        self.runtime.as_ref().is_some_and(|r| r.borrow().has_phase(phase))
    }

    /// Sends the filter's own response (from `kong.response.exit`), after running
    /// `header_filter` and `body_filter` on it as Kong does for an exited request.
    fn respond_with_exit(&mut self, run_header_filter: bool) -> Action {
        if run_header_filter && self.run(Phase::HeaderFilter) == PhaseOutcome::Failed {
            return self.respond_with_error();
        }
        if self.has_phase(Phase::BodyFilter) {
            let body = self.request.exit.as_mut().map(|r| std::mem::take(&mut r.body)).unwrap_or_default();
            let mut filtered = Vec::new();
            if !body.is_empty() {
                let chunk = self.filter_body(body, false);
                filtered.extend(chunk.data);
                self.body_ended = chunk.eof;
            }
            if !self.body_ended {
                filtered.extend(self.filter_body(Vec::new(), true).data);
            }
            if let Some(exit) = self.request.exit.as_mut() {
                exit.set_header("content-length", Some(filtered.len().to_string().as_bytes()));
                exit.body = filtered;
            }
        }
        let response = self.request.exit.clone().unwrap_or_else(LocalResponse::internal_error);
        self.send(&response)
    }

    /// Runs `body_filter` on one chunk; returns the chunk as the chunks left it. An error
    /// is logged by the runtime; changes made before it stand.
    fn filter_body(&mut self, data: Vec<u8>, eof: bool) -> BodyChunk {
        self.request.body = Some(BodyChunk::new(data, eof));
        self.run(Phase::BodyFilter);
        self.request.body.take().unwrap_or_default()
    }

    /// Replaces whatever response was coming with Kong's 500 for an unexpected error.
    fn respond_with_error(&mut self) -> Action {
        let response = LocalResponse::internal_error();
        self.request.exit = Some(response.clone());
        self.send(&response)
    }

    fn send(&mut self, response: &LocalResponse) -> Action {
        // The host sets Content-Length from the body; a second one would be invalid.
        let headers: Vec<(String, String)> = response
            .headers
            .iter()
            .filter(|(name, _)| name != "content-length")
            .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        let headers = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        if let Err(status) = hostcalls::send_http_response(u32::from(response.status), headers, Some(&response.body)) {
            let message = format!("could not send local response: {status:?}");
            let _ = hostcalls::log(proxy_wasm::types::LogLevel::Error, &message);
        }
        self.responded_locally = true;
        Action::Pause
    }

    /// Runs `rewrite` then `access`; `buffered_size` is the size of the request body the
    /// host holds (0 when the phases run on the headers). A body the chunks replaced is
    /// sent upstream with a matching `Content-Length`.
    fn run_request_phases(&mut self, buffered_size: usize) -> Action {
        for phase in [Phase::Rewrite, Phase::Access] {
            match self.run(phase) {
                PhaseOutcome::Continue => {}
                PhaseOutcome::Exited => return self.respond_with_exit(true),
                PhaseOutcome::Failed => return self.respond_with_error(),
            }
        }
        // Output printed with ngx.say/ngx.print and no ngx.exit: nginx sends it as the
        // response (content output), and nothing goes upstream.
        if let Some(response) = crate::pdk::ngx_resp::take_output_response(&mut self.request) {
            self.request.exit = Some(response);
            return self.respond_with_exit(true);
        }
        if self.request.request_body_changed {
            let body = self.request.request_body.clone().unwrap_or_default();
            let _ = hostcalls::set_buffer(BufferType::HttpRequestBody, 0, buffered_size, &body);
            let length = body.len().to_string();
            let _ = hostcalls::set_map_value_bytes(MapType::HttpRequestHeaders, "content-length", Some(length.as_bytes()));
        }
        Action::Continue
    }

    /// Runs `header_filter` and `body_filter` once on the whole buffered upstream response
    /// (`kong.service.request.enable_buffering`), then writes the result back in place:
    /// status, headers and body with a matching `Content-Length`. An exit replaces the
    /// response the same way, so no local response is sent from a body callback (Kong's
    /// engine traps on that).
    fn filter_buffered_response(&mut self, body: Vec<u8>, buffered_size: usize) -> Action {
        self.request.response_body = Some(body.clone());
        self.apply_response_header_ops();
        let outcome = self.run(Phase::HeaderFilter);
        let mut final_body = match outcome {
            PhaseOutcome::Continue => body,
            PhaseOutcome::Exited => {
                let exit = self.request.exit.clone().unwrap_or_else(LocalResponse::internal_error);
                self.replace_response_headers(&exit);
                exit.body
            }
            PhaseOutcome::Failed => {
                let error = LocalResponse::internal_error();
                self.request.exit = Some(error.clone());
                self.replace_response_headers(&error);
                error.body
            }
        };
        if self.request.response_body_changed {
            final_body = self.request.response_body.clone().unwrap_or_default();
        }
        if self.has_phase(Phase::BodyFilter) {
            let chunk = self.filter_body(final_body, true);
            final_body = chunk.data;
        }
        let _ = hostcalls::set_buffer(BufferType::HttpResponseBody, 0, buffered_size, &final_body);
        let length = final_body.len().to_string();
        let _ = hostcalls::set_map_value_bytes(MapType::HttpResponseHeaders, "content-length", Some(length.as_bytes()));
        Action::Continue
    }

    /// Makes the upstream's response headers those of `response`, status included.
    fn replace_response_headers(&mut self, response: &LocalResponse) {
        let names: Vec<String> = hostcalls::get_map_bytes(MapType::HttpResponseHeaders)
            .unwrap_or_default()
            .into_iter()
            .map(|(name, _)| name)
            .filter(|name| !name.starts_with(':'))
            .collect();
        for name in names {
            let _ = hostcalls::set_map_value_bytes(MapType::HttpResponseHeaders, &name, None);
        }
        let status = response.status.to_string();
        let _ = hostcalls::set_map_value_bytes(MapType::HttpResponseHeaders, ":status", Some(status.as_bytes()));
        for (name, value) in &response.headers {
            let _ = hostcalls::add_map_value_bytes(MapType::HttpResponseHeaders, name, value);
        }
    }

    /// Response header changes recorded in `rewrite`/`access` land on the upstream's response.
    fn apply_response_header_ops(&mut self) {
        for op in std::mem::take(&mut self.request.response_header_ops) {
            let _ = match op {
                HeaderOp::Set(name, value) => {
                    hostcalls::set_map_value_bytes(MapType::HttpResponseHeaders, &name, value.as_deref())
                }
                HeaderOp::Add(name, value) => {
                    hostcalls::add_map_value_bytes(MapType::HttpResponseHeaders, &name, &value)
                }
            };
        }
    }
}

impl Context for FunctionsHttp {}

/// When the request arrived, in ms since the Unix epoch: the host's `request.time`
/// property when it has one, else the host clock now.
fn request_start_ms() -> u64 {
    use crate::host::Host;
    let host = super::host_impl::ProxyWasmHost;
    crate::properties::Need::RequestTime
        .read(&host, crate::properties::HostKind::Generic)
        .and_then(|bytes| crate::properties::time_ms(&bytes))
        .unwrap_or_else(|| host.now_nanos() / 1_000_000)
}

impl HttpContext for FunctionsHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if self.runtime.is_none() {
            let _ = hostcalls::log(proxy_wasm::types::LogLevel::Error, "kong-functions: plugin is not configured");
            return self.respond_with_error();
        }
        self.request.start_time_ms = request_start_ms();
        let uses_body = self.runtime.as_ref().is_some_and(|r| r.borrow().uses_request_body());
        if uses_body && !end_of_stream {
            // Hold the headers (StopIteration): rewrite/access run on the whole body.
            self.request_phases_pending = true;
            return Action::Pause;
        }
        if uses_body {
            self.request.request_body = Some(Vec::new());
        }
        self.run_request_phases(0)
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if !self.request_phases_pending {
            return Action::Continue;
        }
        if !end_of_stream {
            // StopIterationAndBuffer: the host keeps the chunks and hands us all of them.
            return Action::Pause;
        }
        self.request_phases_pending = false;
        let body = match hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size) {
            Ok(Some(bytes)) => bytes,
            _ => Vec::new(),
        };
        let limit = crate::lua::limits::current().request_body_bytes;
        if body.len() > limit {
            let message = format!("kong-functions: request body too large ({} bytes, limit {limit})", body.len());
            let _ = hostcalls::log(proxy_wasm::types::LogLevel::Error, &message);
            return self.send(&LocalResponse::payload_too_large());
        }
        self.request.request_body = Some(body);
        self.run_request_phases(body_size)
    }
    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if self.responded_locally {
            return Action::Continue;
        }
        if self.request.buffer_response && !end_of_stream {
            let kong = self.runtime.as_ref().is_some_and(|r| r.borrow().host_kind() == crate::properties::HostKind::Kong);
            if kong {
                // Kong's engine cannot hold response headers (a Pause there is ignored):
                // header_filter runs now, body_filter on the whole buffered body.
                self.buffering_body_only = true;
            } else {
                // Hold the headers until the whole body is in (Kong's buffered proxying).
                self.buffering_response = true;
                return Action::Pause;
            }
        }
        self.apply_response_header_ops();
        if self.has_phase(Phase::BodyFilter) {
            // body_filter may change the body's length: the host frames the body instead
            // (chunked), as nginx does when a body filter is installed.
            let _ = hostcalls::set_map_value_bytes(MapType::HttpResponseHeaders, "content-length", None);
        }
        match self.run(Phase::HeaderFilter) {
            PhaseOutcome::Continue => {}
            PhaseOutcome::Exited => return self.respond_with_exit(false),
            PhaseOutcome::Failed => return self.respond_with_error(),
        }
        if end_of_stream && self.has_phase(Phase::BodyFilter) {
            // No body callback will come: Kong still runs body_filter once, at the end.
            self.filter_body(Vec::new(), true);
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.buffering_body_only && !self.responded_locally {
            if !end_of_stream {
                return Action::Pause;
            }
            self.buffering_body_only = false;
            let body = match hostcalls::get_buffer(BufferType::HttpResponseBody, 0, body_size) {
                Ok(Some(bytes)) => bytes,
                _ => Vec::new(),
            };
            self.request.response_body = Some(body.clone());
            if self.has_phase(Phase::BodyFilter) {
                let chunk = self.filter_body(body, true);
                let _ = hostcalls::set_buffer(BufferType::HttpResponseBody, 0, body_size, &chunk.data);
            }
            return Action::Continue;
        }
        if self.buffering_response {
            if !end_of_stream {
                return Action::Pause;
            }
            self.buffering_response = false;
            let limit = crate::lua::limits::current().response_body_bytes;
            if body_size > limit {
                let message = format!(
                    "kong-functions: buffered response body too large ({body_size} bytes, limit {limit}): \
                     header_filter and body_filter skipped, response passed through"
                );
                let _ = hostcalls::log(proxy_wasm::types::LogLevel::Error, &message);
                return Action::Continue;
            }
            let body = match hostcalls::get_buffer(BufferType::HttpResponseBody, 0, body_size) {
                Ok(Some(bytes)) => bytes,
                _ => Vec::new(),
            };
            return self.filter_buffered_response(body, body_size);
        }
        if self.responded_locally || !self.has_phase(Phase::BodyFilter) {
            return Action::Continue;
        }
        if self.body_ended {
            let _ = hostcalls::set_buffer(BufferType::HttpResponseBody, 0, body_size, &[]);
            return Action::Continue;
        }
        let data = match hostcalls::get_buffer(BufferType::HttpResponseBody, 0, body_size) {
            Ok(Some(bytes)) => bytes,
            _ => Vec::new(),
        };
        // A body_filter error cannot change a response already under way: it is logged.
        let chunk = self.filter_body(data, end_of_stream);
        if chunk.changed {
            let _ = hostcalls::set_buffer(BufferType::HttpResponseBody, 0, body_size, &chunk.data);
            self.body_ended = chunk.eof && !end_of_stream;
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        self.run(Phase::Log);
    }
}

