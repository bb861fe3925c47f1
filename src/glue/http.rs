//! The HTTP context: one per stream, a thin translation of proxy-wasm callbacks into
//! [`Stream`] calls and of its [`Flow`] back into `Action`s.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use super::host_impl::ProxyWasmHost;
use crate::runtime::Runtime;
use crate::stream::{Flow, Stream};

/// One stream through the plugin instance.
pub struct FunctionsHttp {
    stream: Stream,
}

impl FunctionsHttp {
    /// A stream served by `runtime`; `None` when the instance is not configured.
    pub fn new(runtime: Option<Rc<RefCell<Runtime>>>) -> FunctionsHttp {
        FunctionsHttp { stream: Stream::new(runtime, Rc::new(ProxyWasmHost)) }
    }
}

fn action(flow: Flow) -> Action {
    match flow {
        Flow::Continue => Action::Continue,
        Flow::Pause => Action::Pause,
    }
}

impl Context for FunctionsHttp {
    /// The answer to a call a suspended chunk made (`resty.http`): the SDK's dispatcher
    /// routes the token to the context that dispatched it, the effective context set to
    /// it; the stream resumes the chunk, and the request once its phases are done.
    fn on_http_call_response(&mut self, token: u32, _num_headers: usize, body_size: usize, _num_trailers: usize) {
        self.stream.on_http_call_response(token, body_size);
    }
}

impl HttpContext for FunctionsHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        action(self.stream.on_request_headers(end_of_stream))
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(self.stream.on_request_body(body_size, end_of_stream))
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        action(self.stream.on_response_headers(end_of_stream))
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(self.stream.on_response_body(body_size, end_of_stream))
    }

    fn on_log(&mut self) {
        self.stream.on_log();
    }
}
