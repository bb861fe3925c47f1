//! Drives HTTP streams through a chain of filters, as Envoy orders its HTTP filters.

use wasmtime::Result;

use crate::abi::{LocalReply, Shared};
use crate::filter::{Action, Filter};
use crate::spec::{ChainSpec, LogEntry, Outcome, RequestSpec, UpstreamRequest};
use crate::{upstream, Harness};

/// Filters instantiated and configured, ready to serve requests in order.
pub struct Chain {
    filters: Vec<Filter>,
    shared: Shared,
    /// Log lines written while the filters started and configured.
    pub startup_logs: Vec<LogEntry>,
    upstream_fn: Option<UpstreamFn>,
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
    fn from_reply(reply: LocalReply) -> Response {
        let mut headers: Vec<(String, Vec<u8>)> = reply.headers.into_iter().filter(|(n, _)| n != "content-length").collect();
        headers.push(("content-length".into(), reply.body.len().to_string().into_bytes()));
        Response { status: reply.status, headers, body: reply.body }
    }
}

impl Chain {
    /// Instantiates and configures every filter in order (see [`Harness::chain`]).
    pub fn new(harness: &Harness, spec: &ChainSpec) -> Result<Chain> {
        let shared = Shared { properties: std::sync::Arc::new(spec.properties.clone()), ..Shared::default() };
        let mut filters = Vec::with_capacity(spec.filters.len());
        for filter_spec in &spec.filters {
            match Filter::new(harness, filter_spec, &spec.vm_config, shared.clone()) {
                Ok(filter) => filters.push(filter),
                Err(e) => {
                    let logs = std::mem::take(&mut *shared.logs.lock().unwrap_or_else(|e| e.into_inner()));
                    let detail: Vec<String> = logs
                        .iter()
                        .filter(|l| l.level == "error" || l.level == "critical")
                        .map(|l| format!("[{}] {}", l.level, l.message))
                        .collect();
                    if detail.is_empty() {
                        return Err(e);
                    }
                    return Err(e.context(detail.join("\n")));
                }
            }
        }
        let startup_logs = std::mem::take(&mut *shared.logs.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(Chain { filters, shared, startup_logs, upstream_fn: None })
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

    /// Runs one request through the chain and the upstream.
    ///
    /// Errors: a trap in any filter (the chain should not be used after that).
    pub fn run(&mut self, request: &RequestSpec) -> Result<Outcome> {
        self.shared.logs.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.load_request(request);
        let ids: Vec<i32> = self.filters.iter_mut().map(Filter::create_stream).collect::<Result<_>>()?;

        let (mut response, first_responder, upstream) = match self.request_path(request, &ids)? {
            Some((index, reply)) => (Response::from_reply(reply), index, None),
            None => {
                let upstream_request = self.upstream_request();
                let answer = match (&mut self.upstream_fn, &request.upstream) {
                    (Some(forward), None) => forward(&upstream_request),
                    _ => upstream::respond(&upstream_request, request.upstream.as_ref()),
                };
                let response = Response {
                    status: answer.status,
                    headers: answer.headers.into_iter().map(|(n, v)| (n, v.into_bytes())).collect(),
                    body: answer.body,
                };
                (response, self.filters.len() - 1, Some(upstream_request))
            }
        };
        self.response_path(&mut response, first_responder, &ids)?;
        for (filter, id) in self.filters.iter_mut().zip(&ids) {
            filter.finish_stream(*id)?;
        }
        let logs = std::mem::take(&mut *self.shared.logs.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(Outcome {
            status: response.status,
            headers: response.headers.iter().map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned())).collect(),
            body: String::from_utf8_lossy(&response.body).into_owned(),
            upstream,
            logs,
        })
    }

    fn load_request(&mut self, request: &RequestSpec) {
        let mut stream = self.shared.stream.lock().unwrap_or_else(|e| e.into_inner());
        *stream = Default::default();
        let headers = request.headers.pairs();
        let authority = headers.iter().find(|(n, _)| n == "host").map(|(_, v)| v.clone()).unwrap_or_else(|| "localhost".into());
        let method = request.method.clone().unwrap_or_else(|| "GET".into());
        stream.request_headers = vec![
            (":method".into(), method.into_bytes()),
            (":path".into(), request.path.clone().into_bytes()),
            (":authority".into(), authority.into_bytes()),
            (":scheme".into(), b"http".to_vec()),
        ];
        stream.request_headers.extend(headers.into_iter().filter(|(n, _)| n != "host").map(|(n, v)| (n, v.into_bytes())));
        stream.request_body = request.body.clone().unwrap_or_default().into_bytes();
    }

    /// Request headers then body through filters first to last. Returns the index of
    /// the filter that answered locally, and its reply, when one did.
    fn request_path(&mut self, request: &RequestSpec, ids: &[i32]) -> Result<Option<(usize, LocalReply)>> {
        let has_body = request.body.as_deref().is_some_and(|b| !b.is_empty());
        for (i, filter) in self.filters.iter_mut().enumerate() {
            let count = self.shared.stream.lock().unwrap_or_else(|e| e.into_inner()).request_headers.len();
            let action = filter.on_request_headers(ids[i], count, !has_body)?;
            if let Some(reply) = filter.take_local_reply() {
                return Ok(Some((i, reply)));
            }
            if action == Action::Pause {
                return Ok(Some((i, paused_reply(&filter.name))));
            }
        }
        if has_body {
            for (i, filter) in self.filters.iter_mut().enumerate() {
                let size = self.shared.stream.lock().unwrap_or_else(|e| e.into_inner()).request_body.len();
                let action = filter.on_request_body(ids[i], size, true)?;
                if let Some(reply) = filter.take_local_reply() {
                    return Ok(Some((i, reply)));
                }
                if action == Action::Pause {
                    return Ok(Some((i, paused_reply(&filter.name))));
                }
            }
        }
        Ok(None)
    }

    fn upstream_request(&self) -> UpstreamRequest {
        let stream = self.shared.stream.lock().unwrap_or_else(|e| e.into_inner());
        let get = |name: &str| {
            stream.request_headers.iter().find(|(n, _)| n == name).map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        UpstreamRequest {
            method: get(":method").unwrap_or_default(),
            path: get(":path").unwrap_or_default(),
            headers: stream
                .request_headers
                .iter()
                .filter(|(n, _)| !n.starts_with(':'))
                .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
                .collect(),
            body: String::from_utf8_lossy(&stream.request_body).into_owned(),
        }
    }

    /// Response headers then body (one chunk, then an empty end-of-stream chunk, as
    /// nginx delivers it) through filters `first` down to `0`.
    fn response_path(&mut self, response: &mut Response, first: usize, ids: &[i32]) -> Result<()> {
        {
            let mut stream = self.shared.stream.lock().unwrap_or_else(|e| e.into_inner());
            stream.response_headers = vec![(":status".into(), response.status.to_string().into_bytes())];
            stream.response_headers.extend(response.headers.iter().cloned());
        }
        let has_body = !response.body.is_empty();
        for i in (0..=first).rev() {
            let count = self.shared.stream.lock().unwrap_or_else(|e| e.into_inner()).response_headers.len();
            self.filters[i].on_response_headers(ids[i], count, !has_body)?;
            if let Some(reply) = self.filters[i].take_local_reply() {
                // The filter replaced the response: the filters after it see the new one.
                *response = Response::from_reply(reply);
                let mut stream = self.shared.stream.lock().unwrap_or_else(|e| e.into_inner());
                stream.response_headers = vec![(":status".into(), response.status.to_string().into_bytes())];
                stream.response_headers.extend(response.headers.iter().cloned());
            }
        }
        let body = std::mem::take(&mut response.body);
        let mut delivered = Vec::new();
        let chunks: Vec<(Vec<u8>, bool)> = if body.is_empty() && !has_body { vec![] } else { vec![(body, false), (Vec::new(), true)] };
        for (chunk, end_of_stream) in chunks {
            self.shared.stream.lock().unwrap_or_else(|e| e.into_inner()).response_body = chunk;
            for i in (0..=first).rev() {
                let size = self.shared.stream.lock().unwrap_or_else(|e| e.into_inner()).response_body.len();
                self.filters[i].on_response_body(ids[i], size, end_of_stream)?;
                if let Some(reply) = self.filters[i].take_local_reply() {
                    self.shared.stream.lock().unwrap_or_else(|e| e.into_inner()).response_body = reply.body.clone();
                    response.status = reply.status;
                }
            }
            delivered.extend(std::mem::take(&mut self.shared.stream.lock().unwrap_or_else(|e| e.into_inner()).response_body));
        }
        let stream = self.shared.stream.lock().unwrap_or_else(|e| e.into_inner());
        response.headers = stream.response_headers.iter().filter(|(n, _)| !n.starts_with(':')).cloned().collect();
        if let Some((_, status)) = stream.response_headers.iter().find(|(n, _)| n == ":status") {
            if let Ok(s) = String::from_utf8_lossy(status).parse() {
                response.status = s;
            }
        }
        response.body = delivered;
        Ok(())
    }
}

/// What the client gets when a filter pauses a request and never resumes it: the harness
/// has no timer to wait on, so it answers as a proxy would on a stream timeout.
fn paused_reply(filter: &str) -> LocalReply {
    let body = format!("filter {filter:?} paused the request and did not resume it").into_bytes();
    LocalReply { status: 504, headers: vec![("content-type".into(), b"text/plain".to_vec())], body }
}
