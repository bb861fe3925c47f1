//! The HTTP stream state machine: Kong's phases on a proxy-wasm stream, in plain Rust.
//!
//! One [`Stream`] per HTTP stream. The proxy-wasm glue forwards each callback
//! (`proxy_on_request_headers`, `..._request_body`, `..._response_headers`,
//! `..._response_body`, `proxy_on_log`) and returns the [`Flow`] it gets as the
//! proxy-wasm `Action`. The stream decides, from the host's [`HostBehaviour`]:
//! - when `rewrite`/`access` run: on the request headers, or on the whole request body
//!   when a chunk reads or replaces it (held headers on Envoy; on Kong's engine, which
//!   never resumes held headers, in its single body callback);
//! - what Kong does after an exit or an error: `header_filter` and `body_filter` on the
//!   exit response, Kong's 500 for an error, content output (`ngx.say`) as the response;
//! - how replaced bodies are framed (Content-Length rules), and how buffered responses
//!   (`kong.service.request.enable_buffering`) are filtered;
//! - `log` at the end.
//!
//! Everything goes through [`Host`], so the whole machine runs natively in unit tests.

mod behaviour;
mod callout;
mod view;
mod websocket;

use std::cell::RefCell;
use std::rc::Rc;

pub use behaviour::{BodyReplace, HeaderDrop, HostBehaviour, RequestBodyDelivery, UriChange};
pub use view::{HostView, RequestView, Writable};

use crate::host::{BodyRead, Host, LogLevel};
use crate::phase::Phase;
use crate::runtime::{BodyChunk, HeaderOp, LocalResponse, PhaseOutcome, RequestState, Runtime};

/// What the host should do after a callback (proxy-wasm ABI 0.2.1 `Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// `Continue`: pass the headers or data on.
    Continue,
    /// `Pause`: hold them (StopIteration; on a body callback, StopIterationAndBuffer), or
    /// the filter answered locally and the stream goes no further.
    Pause,
}

/// How the upstream response is being handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseMode {
    /// Headers and body chunks filtered as they come.
    Streaming,
    /// `enable_buffering` on a host that holds response headers: `header_filter` and
    /// `body_filter` run once the whole body is in.
    Buffered,
    /// `enable_buffering` on a host that cannot hold response headers: `header_filter`
    /// ran on the headers, `body_filter` runs once on the whole buffered body.
    BodyOnlyBuffered,
}

/// Logs, once per module instance, why request header changes made on the body are lost
/// on this Envoy, and the setting that fixes it.
fn log_headers_went_ahead_once(host: &dyn Host) {
    thread_local! {
        static LOGGED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if LOGGED.with(|l| l.replace(true)) {
        return;
    }
    host.log(
        LogLevel::Warn,
        "kong-functions: rewrite/access read the request body, and this Envoy delivers no body to a filter \
         holding the request headers (before Envoy 1.35, or without allow_on_headers_stop_iteration): \
         the headers go upstream first and those phases run on the body, so their request header changes \
         are not sent. Set allow_on_headers_stop_iteration: true on the Wasm plugins (Envoy 1.35+) and \
         \"envoy_allow_on_headers_stop_iteration\": true in the VM configuration.",
    );
}

/// One HTTP stream through the plugin instance.
pub struct Stream {
    runtime: Option<Rc<RefCell<Runtime>>>,
    /// The host as it is, for bodies and local responses.
    host: Rc<dyn Host>,
    behaviour: HostBehaviour,
    /// The runtime's host view, once the first request bound it.
    view: Option<Rc<HostView>>,
    request: RequestState,
    /// The filter sent its own response: the host's response callbacks have nothing to do.
    responded_locally: bool,
    /// A `body_filter` chunk set `ngx.arg[2] = true`: the rest of the body is dropped.
    body_ended: bool,
    /// `rewrite`/`access` wait for the request body (a chunk reads or replaces it).
    request_phases_pending: bool,
    response_mode: ResponseMode,
    /// A host callback began since the last phase run.
    callback_started: bool,
    /// The WebSocket state of a handshake that went upstream (see [`websocket`]).
    ws: Option<websocket::WsStream>,
    /// A request phase suspended waiting on the host (an outbound call, see [`callout`]).
    suspended: Option<callout::Suspended>,
    /// The request headers went upstream before `rewrite`/`access` ran on the body
    /// ([`RequestBodyDelivery::StreamedAfterHeaders`]): request header writes are refused.
    headers_went_ahead: bool,
}

impl Stream {
    /// A stream served by `runtime` (`None` when the instance is not configured: every
    /// request then fails closed with a 500) on `host`.
    pub fn new(runtime: Option<Rc<RefCell<Runtime>>>, host: Rc<dyn Host>) -> Stream {
        Stream {
            runtime,
            host,
            behaviour: HostBehaviour::of(crate::properties::HostKind::Generic),
            view: None,
            request: RequestState::default(),
            responded_locally: false,
            body_ended: false,
            request_phases_pending: false,
            response_mode: ResponseMode::Streaming,
            callback_started: true,
            ws: None,
            suspended: None,
            headers_went_ahead: false,
        }
    }

    /// `proxy_on_request_headers`: binds the instance to the host on its first request,
    /// then runs `rewrite` and `access`, or arranges to run them on the request body.
    pub fn on_request_headers(&mut self, end_of_stream: bool) -> Flow {
        let flow = self.request_headers(end_of_stream);
        if flow == Flow::Continue && !self.responded_locally {
            self.keep_request_headers();
        }
        flow
    }

    /// Keeps the request headers for later phases on hosts that drop them once they
    /// continue (see [`HostView::keep_request_headers`]), when a later phase could read
    /// them.
    fn keep_request_headers(&mut self) {
        // Most hosts keep the map: nothing to decide per request there.
        if self.behaviour.request_headers_after_continue {
            return;
        }
        let later = [Phase::HeaderFilter, Phase::BodyFilter, Phase::Log, Phase::WsClientFrame, Phase::WsUpstreamFrame, Phase::WsClose];
        if let Some(view) = self.view.clone() {
            if self.request_phases_pending || later.iter().any(|p| self.has_phase(*p)) {
                view.keep_request_headers(&mut self.request.view);
            }
        }
    }

    fn request_headers(&mut self, end_of_stream: bool) -> Flow {
        let Some(runtime) = self.runtime.clone() else {
            self.host.log(LogLevel::Error, "kong-functions: plugin is not configured");
            return self.respond_with_error();
        };
        runtime.borrow_mut().bind_host();
        let (disabled, uses_body, view) = {
            let runtime = runtime.borrow();
            (runtime.disabled().map(str::to_owned), runtime.uses_request_body(), runtime.view())
        };
        self.behaviour = view.behaviour();
        self.view = Some(view);
        if let Some(reason) = disabled {
            self.host.log(LogLevel::Error, &reason);
            return self.respond_with_error();
        }
        if self.has_phase(Phase::Certificate) {
            if let Some(flow) = self.run_certificate() {
                return flow;
            }
        }
        if self.is_ws_handshake() {
            return self.run_handshake();
        }
        if !uses_body {
            return self.run_request_phases(0, Phase::Access);
        }
        let body_follows = match self.behaviour.request_body {
            RequestBodyDelivery::Streamed | RequestBodyDelivery::StreamedAfterHeaders => !end_of_stream,
            // end_of_stream is always false there: the headers say whether a body comes.
            RequestBodyDelivery::OnceAfterHeaders => self.body_announced(),
        };
        if !body_follows {
            self.request.request_body = Some(Vec::new());
            return self.run_request_phases(0, Phase::Access);
        }
        self.request_phases_pending = true;
        match self.behaviour.request_body {
            // Hold the headers (StopIteration): the body callbacks resume the stream.
            RequestBodyDelivery::Streamed => Flow::Pause,
            // A held request is never resumed there: let the host read the body.
            RequestBodyDelivery::OnceAfterHeaders => Flow::Continue,
            // A hold would stop the body too (StopAllIterationAndWatermark): the headers
            // go ahead, and the phases run on the body.
            RequestBodyDelivery::StreamedAfterHeaders => {
                self.headers_went_ahead = true;
                log_headers_went_ahead_once(self.host.as_ref());
                Flow::Continue
            }
        }
    }

    /// `proxy_on_request_body`: once the whole body is in, runs the pending request phases
    /// on it. A body over the `request_body_bytes` limit is refused with 413 before any
    /// copy; one the host cannot hand over (nginx's temp file) runs the phases with
    /// `RequestState::request_body_in_file` set.
    pub fn on_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Flow {
        self.callback_started = true;
        if self.ws_carries(crate::websocket::Side::Client) {
            return self.ws_bytes(crate::websocket::Side::Client, body_size, end_of_stream);
        }
        if !self.request_phases_pending {
            return Flow::Continue;
        }
        let limit = crate::lua::limits::current().request_body_bytes;
        if body_size > limit {
            self.request_phases_pending = false;
            let message = format!("kong-functions: request body too large ({body_size} bytes, limit {limit})");
            self.host.log(LogLevel::Error, &message);
            return self.send(&LocalResponse::payload_too_large());
        }
        if !end_of_stream {
            // StopIterationAndBuffer: the host keeps the chunks and hands us all of them.
            return Flow::Pause;
        }
        self.request_phases_pending = false;
        // An empty buffer is not worth a host call (some hosts answer NotFound for it).
        let read = if body_size == 0 { BodyRead::Bytes(Vec::new()) } else { self.host.request_body(body_size) };
        let body = match read {
            // nginx wrote the body to a temp file (ngx_wasm_module answers NotFound and
            // logs why): the phases run, and reading the body answers as Kong does for
            // a body in a file (kong/pdk/request.lua `get_raw_body`).
            BodyRead::Unavailable => {
                self.request.request_body_in_file = Some(body_size);
                None
            }
            BodyRead::Bytes(bytes) => Some(bytes),
        };
        self.request.request_body = body;
        let flow = self.run_request_phases(body_size, Phase::Access);
        if flow == Flow::Continue && !self.responded_locally {
            // Held headers (Envoy 1.35+ with the flag) continue with this body.
            self.keep_request_headers();
        }
        flow
    }

    /// `proxy_on_response_headers`: `header_filter` (and, without a body to come, one
    /// `body_filter` at the end), or the start of response buffering.
    pub fn on_response_headers(&mut self, end_of_stream: bool) -> Flow {
        self.callback_started = true;
        if self.responded_locally {
            return Flow::Continue;
        }
        if self.ws.is_some() {
            self.ws_response_headers();
        }
        if self.uses_ngx_ctx() {
            self.request.response_started_ms = Some(self.host.now_nanos() / 1_000_000);
            self.request.upstream_status = self
                .host
                .response_header(":status")
                .and_then(|s| String::from_utf8_lossy(&s).trim().parse().ok());
        }
        if self.request.buffer_response && !end_of_stream {
            if self.behaviour.holds_response_headers {
                // Hold the headers until the whole body is in (Kong's buffered proxying).
                self.response_mode = ResponseMode::Buffered;
                return Flow::Pause;
            }
            self.response_mode = ResponseMode::BodyOnlyBuffered;
        }
        self.apply_response_header_ops();
        if self.has_phase(Phase::BodyFilter) {
            // body_filter may change the body's length: the host frames the body instead
            // (chunked), as nginx does when a body filter is installed.
            self.host.set_response_header("content-length", None);
        }
        match self.run(Phase::HeaderFilter) {
            PhaseOutcome::Continue => {}
            PhaseOutcome::Exited => return self.respond_with_exit(false),
            PhaseOutcome::Failed => return self.respond_with_error(),
        }
        if !end_of_stream && self.has_phase(Phase::BodyFilter) {
            if let Some(view) = self.view.clone() {
                view.keep_response_headers(&mut self.request.view);
            }
        }
        if end_of_stream && self.has_phase(Phase::BodyFilter) {
            // No body callback will come: Kong still runs body_filter once, at the end.
            self.filter_body(Vec::new(), true);
        }
        Flow::Continue
    }

    /// `proxy_on_response_body`: `body_filter` per chunk, or on the whole buffered body.
    pub fn on_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Flow {
        self.callback_started = true;
        if self.responded_locally {
            return Flow::Continue;
        }
        if self.ws_carries(crate::websocket::Side::Upstream) {
            return self.ws_bytes(crate::websocket::Side::Upstream, body_size, end_of_stream);
        }
        match self.response_mode {
            ResponseMode::Buffered | ResponseMode::BodyOnlyBuffered if !end_of_stream => Flow::Pause,
            ResponseMode::Buffered => {
                self.response_mode = ResponseMode::Streaming;
                self.filter_buffered_response(body_size)
            }
            ResponseMode::BodyOnlyBuffered => {
                self.response_mode = ResponseMode::Streaming;
                self.filter_buffered_body(body_size)
            }
            ResponseMode::Streaming => self.filter_streamed_chunk(body_size, end_of_stream),
        }
    }

    /// `proxy_on_log`: the `log` phase.
    pub fn on_log(&mut self) {
        self.callback_started = true;
        if self.runtime.is_some() {
            self.ws_finish();
            self.run(Phase::Log);
        }
    }

    /// The request state as the phases left it (for tests and the glue's diagnostics).
    pub fn request(&self) -> &RequestState {
        &self.request
    }

    /// Runs `phase`, telling the PDK which header maps the host takes writes to then.
    /// The request header map read in an earlier callback is not trusted in this one.
    fn run(&mut self, phase: Phase) -> PhaseOutcome {
        if self.callback_started {
            self.callback_started = false;
            self.request.view.new_callback();
        }
        let Some(runtime) = &self.runtime else { return PhaseOutcome::Continue };
        if let Some(view) = &self.view {
            view.set_writable(self.writable_in(phase));
        }
        runtime.borrow_mut().run_phase(phase, &mut self.request)
    }

    /// Header maps the host lets a phase change: request headers until the request goes
    /// upstream; response headers until they are sent (through the body, where the host
    /// holds them for a buffered response).
    fn writable_in(&self, phase: Phase) -> Writable {
        match phase {
            Phase::Rewrite | Phase::Access | Phase::WsHandshake => Writable { request: !self.headers_went_ahead, response: true },
            Phase::HeaderFilter => Writable { request: false, response: true },
            _ => Writable { request: false, response: self.response_mode == ResponseMode::Buffered },
        }
    }

    fn has_phase(&self, phase: Phase) -> bool {
        self.runtime.as_ref().is_some_and(|r| r.borrow().has_phase(phase))
    }

    /// Whether the request headers announce a body: `content-length` above 0, or any
    /// `transfer-encoding` (chunked).
    fn body_announced(&self) -> bool {
        if self.host.request_header("transfer-encoding").is_some() {
            return true;
        }
        self.host
            .request_header("content-length")
            .and_then(|v| String::from_utf8_lossy(&v).trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
    }

    /// Runs `rewrite` then `second` (`access`, or `ws_handshake` on a WebSocket
    /// handshake); `buffered_size` is the size of the request body the host holds (0 when
    /// the phases run on the headers). A body the chunks replaced is sent upstream framed
    /// as the host requires.
    fn run_request_phases(&mut self, buffered_size: usize, second: Phase) -> Flow {
        for phase in [Phase::Rewrite, second] {
            // A chunk waiting on an outbound call holds the request (see [`callout`]).
            match self.run_suspendable(phase, buffered_size, second) {
                Some(PhaseOutcome::Continue) => {}
                Some(PhaseOutcome::Exited) => return self.respond_with_exit(true),
                Some(PhaseOutcome::Failed) => return self.fail_request(),
                None => return Flow::Pause,
            }
        }
        self.finish_request_phases(buffered_size)
    }

    /// What follows `rewrite` and `access` once both ran to their end.
    fn finish_request_phases(&mut self, buffered_size: usize) -> Flow {
        // Output printed with ngx.say/ngx.print and no ngx.exit: nginx sends it as the
        // response (content output), and nothing goes upstream.
        if let Some(response) = crate::pdk::ngx::resp::take_output_response(&mut self.request) {
            self.request.exit = Some(response);
            return self.respond_with_exit(true);
        }
        if self.request.request_body_changed {
            let body = self.request.request_body.clone().unwrap_or_default();
            if self.headers_went_ahead && body.len() != buffered_size {
                // The upstream already has the client's Content-Length: a body of another
                // length would be cut or hang it.
                let message = format!(
                    "kong-functions: cannot send a request body of {} bytes in place of {buffered_size}: this Envoy sent \
                     the request headers (Content-Length) before rewrite/access ran (set allow_on_headers_stop_iteration)",
                    body.len()
                );
                self.host.log(LogLevel::Error, &message);
                return self.fail_request();
            }
            self.replace_request_body(buffered_size, &body);
        }
        if self.uses_ngx_ctx() {
            self.request.access_ended_ms = Some(self.host.now_nanos() / 1_000_000);
        }
        Flow::Continue
    }

    fn uses_ngx_ctx(&self) -> bool {
        self.runtime.as_ref().is_some_and(|r| r.borrow().uses_ngx_ctx())
    }

    /// Replaces the response body chunk the host holds (`held` bytes) with `body`.
    fn replace_response_body(&self, held: usize, body: &[u8]) {
        let replace = match self.behaviour.body_replace {
            BodyReplace::WholeBuffer => held,
            // The size argument caps the new data there: it is the new length.
            BodyReplace::NewLength => body.len(),
        };
        self.host.set_response_body(replace, body);
    }

    fn replace_request_body(&mut self, buffered_size: usize, body: &[u8]) {
        match self.behaviour.body_replace {
            BodyReplace::WholeBuffer => {
                self.host.set_request_body(buffered_size, body);
                if !self.headers_went_ahead {
                    let length = body.len().to_string();
                    self.host.set_request_header("content-length", Some(length.as_bytes()));
                }
            }
            // The size argument is the new length; the host sets Content-Length.
            BodyReplace::NewLength => {
                self.host.set_request_body(body.len(), body);
            }
        }
    }

    /// Sends the filter's own response (from `kong.response.exit`), after running
    /// `header_filter` and `body_filter` on it as Kong does for an exited request.
    fn respond_with_exit(&mut self, run_header_filter: bool) -> Flow {
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

    /// After an error in `rewrite`/`access`: Kong's 500, on which Kong still runs
    /// `header_filter` and `body_filter` (`kong.response.get_source()` says `error`
    /// there); an error in those sends the plain 500.
    fn fail_request(&mut self) -> Flow {
        self.request.exit = Some(LocalResponse::internal_error());
        self.respond_with_exit(true)
    }

    /// Replaces whatever response was coming with Kong's 500 for an unexpected error.
    fn respond_with_error(&mut self) -> Flow {
        let response = LocalResponse::internal_error();
        self.request.exit = Some(response.clone());
        self.send(&response)
    }

    /// `proxy_send_local_response`. The host frames the body, so no Content-Length goes
    /// with it; where the host appends `\n` to a body, a body that already ends with one
    /// gives it up, so the client gets exactly the chunk's bytes.
    fn send(&mut self, response: &LocalResponse) -> Flow {
        let headers: Vec<(String, Vec<u8>)> =
            response.headers.iter().filter(|(name, _)| name != "content-length").cloned().collect();
        let mut body = response.body.as_slice();
        if self.behaviour.local_body_newline {
            body = body.strip_suffix(b"\n").unwrap_or(body);
        }
        if !self.host.send_local_response(response.status, &headers, body) {
            self.host.log(LogLevel::Error, "kong-functions: the host refused the local response");
        }
        self.responded_locally = true;
        Flow::Pause
    }

    /// Runs `body_filter` on one chunk; returns the chunk as the chunks left it. An error
    /// is logged by the runtime; changes made before it stand.
    fn filter_body(&mut self, data: Vec<u8>, eof: bool) -> BodyChunk {
        self.request.body = Some(BodyChunk::new(data, eof));
        self.run(Phase::BodyFilter);
        self.request.body.take().unwrap_or_default()
    }

    fn filter_streamed_chunk(&mut self, body_size: usize, end_of_stream: bool) -> Flow {
        if !self.has_phase(Phase::BodyFilter) {
            return Flow::Continue;
        }
        if self.body_ended {
            self.replace_response_body(body_size, &[]);
            return Flow::Continue;
        }
        let data = self.read_response_body(body_size);
        // A body_filter error cannot change a response already under way: it is logged.
        let chunk = self.filter_body(data, end_of_stream);
        if chunk.changed {
            self.replace_response_body(body_size, &chunk.data);
            self.body_ended = chunk.eof && !end_of_stream;
        }
        Flow::Continue
    }

    fn read_response_body(&self, body_size: usize) -> Vec<u8> {
        if body_size == 0 {
            return Vec::new();
        }
        match self.host.response_body(body_size) {
            BodyRead::Bytes(bytes) => bytes,
            BodyRead::Unavailable => Vec::new(),
        }
    }

    /// `body_filter` once on the whole buffered body, headers already sent.
    fn filter_buffered_body(&mut self, body_size: usize) -> Flow {
        let body = self.read_response_body(body_size);
        self.request.response_body = Some(body.clone());
        if self.has_phase(Phase::BodyFilter) {
            let chunk = self.filter_body(body, true);
            self.replace_response_body(body_size, &chunk.data);
        }
        Flow::Continue
    }

    /// Runs `header_filter` and `body_filter` once on the whole buffered upstream response
    /// (`kong.service.request.enable_buffering`), then writes the result back in place:
    /// status, headers and body with a matching `Content-Length`. An exit replaces the
    /// response the same way, so no local response is sent from a body callback.
    fn filter_buffered_response(&mut self, body_size: usize) -> Flow {
        let limit = crate::lua::limits::current().response_body_bytes;
        if body_size > limit {
            let message = format!(
                "kong-functions: buffered response body too large ({body_size} bytes, limit {limit}): \
                 header_filter and body_filter skipped, response passed through"
            );
            self.host.log(LogLevel::Error, &message);
            return Flow::Continue;
        }
        let body = self.read_response_body(body_size);
        self.request.response_body = Some(body.clone());
        self.apply_response_header_ops();
        let mut final_body = match self.run(Phase::HeaderFilter) {
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
            final_body = self.filter_body(final_body, true).data;
        }
        self.replace_response_body(body_size, &final_body);
        let length = final_body.len().to_string();
        self.host.set_response_header("content-length", Some(length.as_bytes()));
        Flow::Continue
    }

    /// Makes the upstream's response headers those of `response`, status included.
    fn replace_response_headers(&mut self, response: &LocalResponse) {
        for (name, _) in self.host.response_headers() {
            if !name.starts_with(':') {
                self.host.set_response_header(&name, None);
            }
        }
        self.host.set_response_header(":status", Some(response.status.to_string().as_bytes()));
        for (name, value) in &response.headers {
            self.host.add_response_header(name, value);
        }
    }

    /// Response header changes recorded in `rewrite`/`access` land on the upstream's response.
    fn apply_response_header_ops(&mut self) {
        if self.runtime.as_ref().is_some_and(|r| r.borrow().uses_service_response()) {
            // what the upstream sent, before the filter's own changes land on it
            let names = self.host.response_headers().into_iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
            self.request.upstream_header_names = Some(names);
        }
        for op in std::mem::take(&mut self.request.response_header_ops) {
            match op {
                HeaderOp::Set(name, value) => self.host.set_response_header(&name, value.as_deref()),
                HeaderOp::Add(name, value) => self.host.add_response_header(&name, &value),
            }
        }
    }
}

#[cfg(test)]
mod tests;
