//! The HTTP context: one per stream. Runs Kong's phases on the proxy-wasm callbacks:
//! `rewrite` and `access` on the request headers, `header_filter` on the response
//! headers, `body_filter` per response body chunk, `log` when the stream is done.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};

use crate::phase::Phase;
use crate::runtime::{HeaderOp, LocalResponse, PhaseOutcome, RequestState, Runtime};

/// One stream through the plugin instance.
pub struct FunctionsHttp {
    runtime: Option<Rc<RefCell<Runtime>>>,
    request: RequestState,
    /// The filter sent its own response; the host's response callbacks have nothing to do.
    responded_locally: bool,
}

impl FunctionsHttp {
    /// A stream served by `runtime`; `None` when the instance is not configured.
    pub fn new(runtime: Option<Rc<RefCell<Runtime>>>) -> FunctionsHttp {
        FunctionsHttp { runtime, request: RequestState::default(), responded_locally: false }
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
            let has_body = self.request.exit.as_ref().is_some_and(|r| !r.body.is_empty());
            if has_body {
                self.run(Phase::BodyFilter);
            }
            self.run(Phase::BodyFilter);
        }
        let response = self.request.exit.clone().unwrap_or_else(LocalResponse::internal_error);
        self.send(&response)
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

impl HttpContext for FunctionsHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if self.runtime.is_none() {
            let _ = hostcalls::log(proxy_wasm::types::LogLevel::Error, "kong-functions: plugin is not configured");
            return self.respond_with_error();
        }
        for phase in [Phase::Rewrite, Phase::Access] {
            match self.run(phase) {
                PhaseOutcome::Continue => {}
                PhaseOutcome::Exited => return self.respond_with_exit(true),
                PhaseOutcome::Failed => return self.respond_with_error(),
            }
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if self.responded_locally {
            return Action::Continue;
        }
        self.apply_response_header_ops();
        match self.run(Phase::HeaderFilter) {
            PhaseOutcome::Continue => {}
            PhaseOutcome::Exited => return self.respond_with_exit(false),
            PhaseOutcome::Failed => return self.respond_with_error(),
        }
        if end_of_stream {
            // No body callback will come: Kong still runs body_filter once, at the end.
            self.run(Phase::BodyFilter);
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, _body_size: usize, _end_of_stream: bool) -> Action {
        if !self.responded_locally {
            // A body_filter error cannot change a response already under way: it is logged.
            self.run(Phase::BodyFilter);
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        self.run(Phase::Log);
    }
}

