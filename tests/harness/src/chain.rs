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
//! Profiles ([`HostProfile`]): `envoy` as described; `kong` as ngx_wasm_module
//! (`docs/PROXY_WASM.md`, "Current Limitations" and "Response Body Buffering"):
//! `end_of_stream` false in both header callbacks (a request without a body still gets
//! one `on_http_request_body` with an empty body and `end_of_stream` true; an empty
//! response one `on_http_response_body` with `end_of_stream` true); `Pause` from
//! `on_http_response_headers` is not allowed (logged as an error and treated as
//! `Continue`); `Pause` from `on_http_response_body` enables body buffering: the chunks
//! are accumulated until the end of the body or until [`KONG_RESPONSE_BUFFER_BYTES`]
//! (`wasm_response_body_buffers 4 4096`, the default) are buffered, then the filter is
//! called again with the buffered body; a second `Pause` is ignored (error logged); a
//! local response from `on_http_response_headers` overrides only the status and the body
//! (a linefeed appended to a non-empty body) and keeps the upstream's headers; one from
//! `on_http_response_body` traps ("response already sent").

use wasmtime::Result;

use crate::abi::{LocalReply, Shared};
use crate::dispatch;
use crate::filter::{Action, Filter};
use crate::spec::{ChainSpec, HostProfile, LogEntry, Outcome, RequestSpec, UpstreamRequest};
use crate::{upstream, Harness};

/// Kong's response body buffer bound: `wasm_response_body_buffers` defaults to 4 buffers
/// of 4096 bytes (ngx_wasm_module `docs/DIRECTIVES.md`).
pub const KONG_RESPONSE_BUFFER_BYTES: usize = 4 * 4096;

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
    pub fn new(harness: &Harness, spec: &ChainSpec) -> Result<Chain> {
        let shared = Shared {
            properties: std::sync::Arc::new(spec.properties.clone()),
            profile: spec.profile,
            log_level: level_number(spec.log_level.as_deref()),
            ..Shared::default()
        };
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
        Ok(Chain { filters, shared, chunk_size: spec.body_chunk_size.filter(|n| *n > 0), startup_logs, upstream_fn: None })
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
        Ok(ticked)
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
                self.lock_stream().upstream_answered = true;
                let response = Response {
                    status: answer.status,
                    headers: answer.headers.into_iter().map(|(n, v)| (n, v.into_bytes())).collect(),
                    body: answer.body,
                };
                (response, self.filters.len() - 1, Some(upstream_request))
            }
        };
        self.response_path(&mut response, first_responder, &ids)?;
        // Calls dispatched without holding the stream still get their answers.
        for i in 0..self.filters.len() {
            while let Some(call) = self.filters[i].next_pending_call() {
                self.deliver(i, &call)?;
            }
            self.filters[i].take_local_reply();
        }
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

    fn load_request(&mut self, request: &RequestSpec) {
        let mut stream = self.lock_stream();
        *stream = Default::default();
        stream.request_time_ns =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
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

    /// Performs `call` (dispatched by filter `i`) and runs its response callback.
    fn deliver(&mut self, i: usize, call: &dispatch::HttpCall) -> Result<()> {
        let response = match dispatch::perform(call) {
            Ok(response) => response,
            Err(reason) => {
                if self.kong() {
                    // ngx_wasm_module's extension: the failure as `:dispatch_status`.
                    dispatch::CallResponse { headers: vec![(":dispatch_status".into(), reason.into_bytes())], ..Default::default() }
                } else {
                    dispatch::CallResponse::default()
                }
            }
        };
        self.filters[i].on_http_call_response(call, response)
    }

    /// Holds the stream while filter `i` (stream context `id`) is paused: performs its
    /// dispatched calls, then fires its ticks, until it resumes or answers.
    fn wait(&mut self, i: usize) -> Result<Wake> {
        let mut ticks = 0;
        loop {
            if let Some(call) = self.filters[i].next_pending_call() {
                self.deliver(i, &call)?;
            } else if self.filters[i].tick_period_ms() > 0 && ticks < MAX_TICKS_WHILE_PAUSED {
                ticks += 1;
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
    fn request_path(&mut self, request: &RequestSpec, ids: &[i32]) -> Result<Option<(usize, LocalReply)>> {
        let body = request.body.clone().unwrap_or_default().into_bytes();
        let has_body = !body.is_empty();
        let end_of_stream = !has_body && !self.kong();
        let mut chunks = self.request_chunks(body);
        // Filters before this index have already been handed the body.
        let mut body_seen_by = 0;
        for i in 0..self.filters.len() {
            let count = self.lock_stream().request_headers.len();
            let action = self.filters[i].on_request_headers(ids[i], count, end_of_stream)?;
            if let Some(reply) = self.filters[i].take_local_reply() {
                return Ok(Some((i, reply)));
            }
            if action == Action::Pause {
                match self.wait(i)? {
                    Wake::Resumed => {}
                    Wake::Reply(reply) => return Ok(Some((i, reply))),
                    Wake::Stuck if chunks.is_empty() => return Ok(Some((i, paused_reply(&self.filters[i].name)))),
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
                            BodyEnd::Reply(j, reply) => return Ok(Some((j, reply))),
                        }
                    }
                }
            }
        }
        if chunks.is_empty() || body_seen_by == self.filters.len() {
            return Ok(None);
        }
        let order: Vec<usize> = (body_seen_by..self.filters.len()).collect();
        match self.body_pass(Direction::Request, &order, ids, chunks)? {
            BodyEnd::Done(body) => {
                self.lock_stream().request_body = body;
                Ok(None)
            }
            BodyEnd::Reply(i, reply) => Ok(Some((i, reply))),
        }
    }

    /// The request body as delivered chunks: none for a request without a body, except
    /// in the kong profile, which always ends the stream with an (empty) body callback.
    fn request_chunks(&self, body: Vec<u8>) -> Vec<(Vec<u8>, bool)> {
        if !body.is_empty() {
            self.split(body, false)
        } else if self.kong() {
            vec![(Vec::new(), true)]
        } else {
            Vec::new()
        }
    }

    /// `body` as delivered chunks: of `chunk_size` bytes when set, the last one with
    /// `end_of_stream`; else one chunk, followed by an empty end-of-stream chunk when
    /// `trailing_eos` (nginx's response body delivery).
    fn split(&self, body: Vec<u8>, trailing_eos: bool) -> Vec<(Vec<u8>, bool)> {
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
                        // StopIterationAndBuffer: the next callback gets everything so far.
                        buffered[k] = Some(now);
                        continue;
                    }
                    self.set_buffer(direction, now);
                    let wake = self.wait(i)?;
                    let now = self.take_buffer(direction);
                    match wake {
                        Wake::Resumed => next.push((now, end_of_stream)),
                        Wake::Reply(reply) => return Ok(BodyEnd::Reply(i, reply)),
                        Wake::Stuck => return Ok(BodyEnd::Reply(i, paused_reply(&self.filters[i].name))),
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

    fn upstream_request(&self) -> UpstreamRequest {
        let stream = self.lock_stream();
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
    fn response_path(&mut self, response: &mut Response, first: usize, ids: &[i32]) -> Result<()> {
        self.load_response_headers(response);
        let kong = self.kong();
        // Filters from this index up to `first` have already been handed the body.
        let mut body_seen_from = first + 1;
        // Set when a filter's body pass ended in a local reply: its status wins.
        let mut replied_status = 0;
        for i in (0..=first).rev() {
            let end_of_stream = response.body.is_empty() && !kong;
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
                        Wake::Stuck if response.body.is_empty() => Some(paused_reply(&self.filters[i].name)),
                        Wake::Stuck => {
                            // Envoy's StopIteration holds the headers from the next filters,
                            // not the body from this one: the body reaches filters
                            // first..=i, and Continue from the last body callback resumes.
                            let order: Vec<usize> = (i..body_seen_from).rev().collect();
                            let chunks = self.split(std::mem::take(&mut response.body), true);
                            match self.body_pass(Direction::Response, &order, ids, chunks)? {
                                BodyEnd::Done(body) => response.body = body,
                                BodyEnd::Reply(_, reply) => {
                                    replied_status = reply.status;
                                    response.body = reply.body;
                                }
                            }
                            body_seen_from = i;
                            None
                        }
                    };
                }
            }
            if let Some(reply) = reply {
                if kong {
                    self.kong_override(response, reply);
                } else {
                    // The filter replaced the response: the filters after it see the new one.
                    *response = Response::from_reply(reply);
                    self.load_response_headers(response);
                }
            }
        }
        let body = std::mem::take(&mut response.body);
        let chunks: Vec<(Vec<u8>, bool)> = if body.is_empty() {
            if kong && body_seen_from > first {
                vec![(Vec::new(), true)]
            } else {
                Vec::new()
            }
        } else {
            self.split(body.clone(), true)
        };
        let order: Vec<usize> = (0..body_seen_from.min(first + 1)).rev().collect();
        let (delivered, status) = if order.is_empty() || chunks.is_empty() {
            (body, replied_status)
        } else {
            match self.body_pass(Direction::Response, &order, ids, chunks)? {
                BodyEnd::Done(body) => (body, replied_status),
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

/// What the client gets when a filter pauses a request and nothing resumes it: the
/// harness answers as a proxy would on a stream timeout.
fn paused_reply(filter: &str) -> LocalReply {
    let body = format!("filter {filter:?} paused the request and did not resume it").into_bytes();
    LocalReply { status: 504, headers: vec![("content-type".into(), b"text/plain".to_vec())], body }
}
