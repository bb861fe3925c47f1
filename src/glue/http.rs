//! The HTTP context: one per stream, a thin translation of proxy-wasm callbacks into
//! [`Stream`] calls and of its [`Flow`] back into `Action`s.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use super::host_impl::ProxyWasmHost;
use crate::runtime::Runtime;
use crate::stream::{Flow, Stream};

/// One stream through the plugin instance; shared with the root context's
/// [`Streams`], which wakes it on ticks and hands it answers the SDK routed to the root.
pub struct FunctionsHttp {
    stream: Rc<RefCell<Stream>>,
}

/// The live streams of a plugin instance, by context id (weak: the SDK owns them).
pub type Streams = Rc<RefCell<Vec<(u32, Weak<RefCell<Stream>>)>>>;

impl FunctionsHttp {
    /// Stream `context_id` served by `runtime` (`None` when the instance is not
    /// configured), registered in `streams`.
    pub fn new(runtime: Option<Rc<RefCell<Runtime>>>, context_id: u32, streams: &Streams) -> FunctionsHttp {
        let stream = Rc::new(RefCell::new(Stream::new(runtime, Rc::new(ProxyWasmHost))));
        let mut list = streams.borrow_mut();
        list.retain(|(_, s)| s.strong_count() > 0);
        list.push((context_id, Rc::downgrade(&stream)));
        FunctionsHttp { stream }
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
        self.stream.borrow_mut().on_http_call_response(token, body_size);
    }
}

impl HttpContext for FunctionsHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        action(self.stream.borrow_mut().on_request_headers(end_of_stream))
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(self.stream.borrow_mut().on_request_body(body_size, end_of_stream))
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        action(self.stream.borrow_mut().on_response_headers(end_of_stream))
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(self.stream.borrow_mut().on_response_body(body_size, end_of_stream))
    }

    fn on_log(&mut self) {
        self.stream.borrow_mut().on_log();
    }
}
