//! A fake [`Host`] for native unit tests: header maps and a log in memory.

use std::cell::RefCell;

use crate::host::{BodyRead, DispatchError, Host, LogLevel, SharedDataError};

/// A local response the filter sent: status, headers, body.
pub type SentResponse = (u16, Vec<(String, Vec<u8>)>, Vec<u8>);

/// Request and response header maps plus captured log lines.
#[derive(Default)]
pub struct FakeHost {
    pub request: RefCell<Vec<(String, Vec<u8>)>>,
    pub response: RefCell<Vec<(String, Vec<u8>)>>,
    pub logs: RefCell<Vec<(LogLevel, String)>>,
    /// Properties by dotted path (`source.address`), as the harness keys them.
    pub properties: RefCell<std::collections::BTreeMap<String, Vec<u8>>>,
    /// Shared data: key to (value, CAS token).
    pub shared: RefCell<std::collections::BTreeMap<String, (Vec<u8>, u32)>>,
    /// What `now_nanos` answers (0 unless a test sets it).
    pub now: std::cell::Cell<u64>,
    /// Every property path read, dotted, in order (to prove what is never read).
    pub reads: RefCell<Vec<String>>,
    /// The request body the host holds; `None` answers [`BodyRead::Unavailable`].
    pub request_body: RefCell<Option<Vec<u8>>>,
    /// The response body the host holds; `None` answers [`BodyRead::Unavailable`].
    pub response_body: RefCell<Option<Vec<u8>>>,
    /// Local responses sent, in order.
    pub sent: RefCell<Vec<SentResponse>>,
    /// Host calls made for request headers: (one header by name, the whole map).
    pub request_header_calls: std::cell::Cell<(u32, u32)>,
    /// Outbound calls dispatched, in order; the token of each is its index + 1.
    pub calls: RefCell<Vec<FakeCall>>,
    /// The answer `http_call_response` hands over: headers (`:status` included), body.
    pub call_response: RefCell<(Vec<(String, Vec<u8>)>, Vec<u8>)>,
    /// How many times the request was resumed (`proxy_continue_stream`).
    pub resumed: std::cell::Cell<u32>,
}

/// An outbound call a [`FakeHost`] took: upstream, headers, body, timeout (ms).
pub type FakeCall = (String, Vec<(String, Vec<u8>)>, Vec<u8>, u32);

impl FakeHost {
    /// A host whose request has these headers (`:method`/`:path` included if wanted).
    pub fn with_request(headers: &[(&str, &str)]) -> FakeHost {
        let host = FakeHost::default();
        *host.request.borrow_mut() = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect();
        host
    }

    /// Sets a property by its dotted path, e.g. `with_property("source.address", "10.0.0.1")`.
    pub fn with_property(self, path: &str, value: &str) -> FakeHost {
        self.properties.borrow_mut().insert(path.to_string(), value.as_bytes().to_vec());
        self
    }

    /// The log messages so far.
    pub fn messages(&self) -> Vec<String> {
        self.logs.borrow().iter().map(|(_, m)| m.clone()).collect()
    }
}

// Header names compare without case, as in every proxy-wasm host (Envoy keeps them
// lowercase, nginx compares them case-insensitively).
fn get(map: &RefCell<Vec<(String, Vec<u8>)>>, name: &str) -> Option<Vec<u8>> {
    map.borrow().iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
}

fn set(map: &RefCell<Vec<(String, Vec<u8>)>>, name: &str, value: Option<&[u8]>) {
    let mut map = map.borrow_mut();
    map.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    if let Some(v) = value {
        map.push((name.to_string(), v.to_vec()));
    }
}

impl Host for FakeHost {
    fn dispatch_http_call(&self, upstream: &str, headers: &[(String, Vec<u8>)], body: &[u8], timeout_ms: u32) -> Result<u32, DispatchError> {
        let mut calls = self.calls.borrow_mut();
        calls.push((upstream.to_string(), headers.to_vec(), body.to_vec(), timeout_ms));
        Ok(calls.len() as u32)
    }
    fn http_call_response(&self, body_size: usize) -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
        let (headers, body) = self.call_response.borrow().clone();
        (headers, body[..body_size.min(body.len())].to_vec())
    }
    fn resume_request(&self) -> bool {
        self.resumed.set(self.resumed.get() + 1);
        true
    }
    fn request_header(&self, name: &str) -> Option<Vec<u8>> {
        let (one, all) = self.request_header_calls.get();
        self.request_header_calls.set((one + 1, all));
        get(&self.request, name)
    }
    fn request_headers(&self) -> Vec<(String, Vec<u8>)> {
        let (one, all) = self.request_header_calls.get();
        self.request_header_calls.set((one, all + 1));
        self.request.borrow().clone()
    }
    fn set_request_header(&self, name: &str, value: Option<&[u8]>) {
        set(&self.request, name, value)
    }
    fn add_request_header(&self, name: &str, value: &[u8]) {
        self.request.borrow_mut().push((name.to_string(), value.to_vec()))
    }
    fn response_header(&self, name: &str) -> Option<Vec<u8>> {
        get(&self.response, name)
    }
    fn response_headers(&self) -> Vec<(String, Vec<u8>)> {
        self.response.borrow().clone()
    }
    fn set_response_header(&self, name: &str, value: Option<&[u8]>) {
        set(&self.response, name, value)
    }
    fn add_response_header(&self, name: &str, value: &[u8]) {
        self.response.borrow_mut().push((name.to_string(), value.to_vec()))
    }
    fn log(&self, level: LogLevel, message: &str) {
        self.logs.borrow_mut().push((level, message.to_string()))
    }
    fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        self.reads.borrow_mut().push(path.join("."));
        self.properties.borrow().get(&path.join(".")).cloned()
    }
    fn set_property(&self, path: &[&str], value: Option<&[u8]>) -> bool {
        let mut props = self.properties.borrow_mut();
        match value {
            Some(v) => props.insert(path.join("."), v.to_vec()),
            None => props.remove(&path.join(".")),
        };
        true
    }
    fn shared_data(&self, key: &str) -> (Option<Vec<u8>>, u32) {
        match self.shared.borrow().get(key) {
            Some((v, cas)) => (Some(v.clone()), *cas),
            None => (None, 0),
        }
    }
    fn set_shared_data(&self, key: &str, value: Option<&[u8]>, cas: u32) -> Result<(), SharedDataError> {
        let mut shared = self.shared.borrow_mut();
        let current = shared.get(key).map(|(_, c)| *c).unwrap_or(0);
        if cas != 0 && cas != current {
            return Err(SharedDataError::CasMismatch);
        }
        match value {
            Some(v) => shared.insert(key.to_string(), (v.to_vec(), current + 1)),
            None => shared.remove(key),
        };
        Ok(())
    }
    fn now_nanos(&self) -> u64 {
        self.now.get()
    }
    fn request_body(&self, size: usize) -> BodyRead {
        read_body(&self.request_body, size)
    }
    fn set_request_body(&self, replace: usize, body: &[u8]) -> bool {
        write_body(&self.request_body, replace, body)
    }
    fn response_body(&self, size: usize) -> BodyRead {
        read_body(&self.response_body, size)
    }
    fn set_response_body(&self, replace: usize, body: &[u8]) -> bool {
        write_body(&self.response_body, replace, body)
    }
    fn send_local_response(&self, status: u16, headers: &[(String, Vec<u8>)], body: &[u8]) -> bool {
        self.sent.borrow_mut().push((status, headers.to_vec(), body.to_vec()));
        true
    }
}

fn read_body(buffer: &RefCell<Option<Vec<u8>>>, size: usize) -> BodyRead {
    match &*buffer.borrow() {
        Some(bytes) => BodyRead::Bytes(bytes[..size.min(bytes.len())].to_vec()),
        None => BodyRead::Unavailable,
    }
}

/// The ABI's `proxy_set_buffer_bytes(0, replace, body)`: the first `replace` bytes give
/// way to `body`.
fn write_body(buffer: &RefCell<Option<Vec<u8>>>, replace: usize, body: &[u8]) -> bool {
    let mut buffer = buffer.borrow_mut();
    let bytes = buffer.get_or_insert_with(Vec::new);
    let end = replace.min(bytes.len());
    bytes.splice(..end, body.iter().copied());
    true
}
