//! [`HostView`]: the host as the PDK sees it, with the host's real behaviour applied.
//!
//! Every PDK function talks to the host through this one [`Host`]. It follows the
//! [`HostBehaviour`] of the detected host so the PDK never asks which host it is in:
//! - a dropped request header is removed where the host can remove it, and elsewhere
//!   blanked and remembered, so the PDK reads it as absent for the rest of the request;
//! - a new `:path` goes to the upstream the way the host honours (`:path`, `ngx.args`,
//!   `ngx.upstream_uri`), and the PDK reads back what it set;
//! - shared data goes to the configured zone (`<zone>/key`) on hosts that need one, and
//!   without a zone lives in module memory there, since such a host traps on an
//!   undeclared zone.
//!
//! What one request changed lives in a [`RequestView`], moved in for each phase run
//! (several streams share one instance, one phase run at a time). It also holds the
//! request's header map, read from the host once per callback
//! (`proxy_get_header_map_pairs`) and kept in step with the view's own writes, so a chunk
//! reading five headers makes one host call, not five.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use super::behaviour::{HeaderDrop, HostBehaviour, UriChange};
use crate::host::{BodyRead, Host, LogLevel, SharedDataError};
use crate::properties::HostKind;

/// What one request changed that the host cannot be asked back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestView {
    /// Request headers dropped on a host that cannot remove them (lowercase names).
    pub dropped: Vec<String>,
    /// The `:path` (path and query) the upstream gets, once changed.
    pub path: Option<Vec<u8>>,
    /// The host's request headers as read in the running callback (`None`: not read yet,
    /// or a new callback began: see [`RequestView::new_callback`]).
    headers: Option<Vec<(String, Vec<u8>)>>,
    /// Headers read one by one from the host in the running callback, before the map.
    single_reads: u8,
    /// The request headers as the request phases left them, kept when they continued on
    /// a host that then drops its handle on them (Envoy: see
    /// [`HostBehaviour::request_headers_after_continue`]): later phases read these, as
    /// Kong's later phases read `ngx.req.get_headers()`.
    kept_request: Option<Vec<(String, Vec<u8>)>>,
    /// The same for the response headers once `header_filter` let them go.
    kept_response: Option<Vec<(String, Vec<u8>)>>,
    /// The header names this request set or added, request and response together,
    /// lowercase (see `Limits::header_names`).
    header_names: std::collections::BTreeSet<String>,
    /// A write was refused for a name past `Limits::header_names`.
    header_names_exceeded: bool,
}

impl RequestView {
    /// Forgets the header map read in an earlier callback: other filters may have
    /// changed it since.
    pub fn new_callback(&mut self) {
        self.headers = None;
        self.single_reads = 0;
    }

    /// Whether this request tried to set more distinct header names than its limit.
    pub fn header_names_exceeded(&self) -> bool {
        self.header_names_exceeded
    }
}

/// Which header maps the host lets the filter change in the callback running now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writable {
    /// Request headers: until the request goes upstream (Kong's engine traps on a write
    /// after that: "can only set request headers before response is produced").
    pub request: bool,
    /// Response headers: until they are sent (Kong's engine traps on a write from the
    /// body callback: "can only set response headers before on_response_body").
    pub response: bool,
}

/// Header reads per callback served by single-header host calls before the whole map is
/// read (see `HostView::read_one_by_one`).
const SINGLE_HEADER_READS: u8 = 2;

/// The host with its behaviour applied; see the module docs.
pub struct HostView {
    inner: Rc<dyn Host>,
    kind: Cell<HostKind>,
    behaviour: Cell<HostBehaviour>,
    writable: Cell<Writable>,
    /// The VM configuration's `shared_data_zone`.
    zone: Option<String>,
    /// The VM configuration's `envoy_allow_on_headers_stop_iteration`.
    envoy_hold: Cell<bool>,
    request: RefCell<RequestView>,
}

thread_local! {
    /// Shared data kept in module memory on hosts that need a zone when none is
    /// configured: shared by every plugin instance of this module instance (one per
    /// nginx worker), key to (value, CAS token).
    static LOCAL_SHARED: RefCell<BTreeMap<String, (Vec<u8>, u32)>> = const { RefCell::new(BTreeMap::new()) };
}

impl HostView {
    /// A view of `inner`, as a generic ABI host until [`HostView::bind`] names the host.
    /// `zone` is the VM configuration's `shared_data_zone`.
    pub fn new(inner: Rc<dyn Host>, zone: Option<String>) -> HostView {
        HostView {
            inner,
            kind: Cell::new(HostKind::Generic),
            behaviour: Cell::new(HostBehaviour::of(HostKind::Generic)),
            writable: Cell::new(Writable { request: true, response: true }),
            zone: zone.filter(|z| !z.is_empty()),
            envoy_hold: Cell::new(false),
            request: RefCell::new(RequestView::default()),
        }
    }

    /// Applies the behaviour of the detected host.
    pub fn bind(&self, kind: HostKind) {
        self.kind.set(kind);
        self.behaviour.set(HostBehaviour::with_envoy_hold(kind, self.envoy_hold.get()));
    }

    /// Applies the VM configuration's `envoy_allow_on_headers_stop_iteration` (before
    /// [`HostView::bind`]).
    pub fn set_envoy_hold(&self, hold: bool) {
        self.envoy_hold.set(hold);
    }

    /// The behaviour in force.
    pub fn behaviour(&self) -> HostBehaviour {
        self.behaviour.get()
    }

    /// Says which header maps the running callback may change (set by the stream).
    pub fn set_writable(&self, writable: Writable) {
        self.writable.set(writable);
    }

    /// Whether request header writes may reach the host now; a late write is dropped
    /// (the request already went upstream, as a late `ngx.req.set_header` in nginx) and
    /// logged at debug level.
    fn request_writable(&self, name: &str) -> bool {
        self.writable_or_log(self.writable.get().request, "request", name, "the request already went upstream")
    }

    /// Whether response header writes may reach the host now (see [`Writable`]).
    fn response_writable(&self, name: &str) -> bool {
        self.writable_or_log(self.writable.get().response, "response", name, "the headers were already sent")
    }

    fn writable_or_log(&self, writable: bool, map: &str, name: &str, why: &str) -> bool {
        if !writable {
            let message = format!("kong-functions: {map} header '{name}' not changed: {why}");
            self.inner.log(LogLevel::Debug, &message);
        }
        writable
    }

    /// The host underneath, for calls the view does not change.
    pub fn inner(&self) -> &Rc<dyn Host> {
        &self.inner
    }

    /// Swaps the request's view in (before a phase run) or out (after it).
    pub fn swap_request(&self, view: &mut RequestView) {
        std::mem::swap(&mut *self.request.borrow_mut(), view);
    }

    /// Runs `f` on the request's header map, reading it from the host on first use.
    fn with_headers<R>(&self, f: impl FnOnce(&mut Vec<(String, Vec<u8>)>) -> R) -> R {
        let mut view = self.request.borrow_mut();
        if view.headers.is_none() {
            let read = match &view.kept_request {
                Some(kept) => kept.clone(),
                None => self.inner.request_headers(),
            };
            view.headers = Some(read);
        }
        f(view.headers.get_or_insert_with(Vec::new))
    }

    /// Called (between phase runs) as the request headers of `request` continue: keeps
    /// them for the later phases where the host drops its handle on them once they
    /// continued (Envoy), so `kong.request.get_header` reads in `header_filter`,
    /// `body_filter` and `log` what the request phases left, as in Kong. One pairs read
    /// (none when this callback read the map already); nothing on other hosts.
    pub fn keep_request_headers(&self, request: &mut RequestView) {
        self.swap_request(request);
        if !self.behaviour.get().request_headers_after_continue && self.request.borrow().kept_request.is_none() {
            let headers = self.with_headers(|headers| headers.clone());
            self.request.borrow_mut().kept_request = Some(headers);
        }
        self.swap_request(request);
    }

    /// Called (between phase runs) as the response headers continue with a
    /// `body_filter` to come: keeps them where the host drops them (Envoy), so
    /// `kong.response.get_header` still reads them there.
    pub fn keep_response_headers(&self, request: &mut RequestView) {
        if !self.behaviour.get().response_headers_after_continue {
            request.kept_response = Some(self.inner.response_headers());
        }
    }

    /// Notes a header write of `name`; false when it would take the request past
    /// `Limits::header_names` distinct names (the write is not made, and the runtime
    /// fails the request). A host's cost per write grows with the header list (Kong's
    /// engine scans it), so the list, not the number of writes, is what is bounded;
    /// rewriting the same names stays cheap and only the time budget limits it.
    fn note_header_name(&self, name: &str) -> bool {
        let mut view = self.request.borrow_mut();
        // Names are mostly lowercase already: look them up without a copy.
        let lowercase = if name.bytes().any(|b| b.is_ascii_uppercase()) { std::borrow::Cow::Owned(name.to_ascii_lowercase()) } else { std::borrow::Cow::Borrowed(name) };
        if view.header_names.contains(lowercase.as_ref()) {
            return true;
        }
        if view.header_names.len() >= crate::lua::limits::current().header_names as usize {
            view.header_names_exceeded = true;
            return false;
        }
        view.header_names.insert(lowercase.into_owned());
        true
    }

    /// Whether this request went past `Limits::header_names` (checked by the runtime
    /// where it checks the instruction limit).
    pub fn header_names_exceeded(&self) -> bool {
        self.request.borrow().header_names_exceeded()
    }

    /// Whether the next header read should ask the host for that one header
    /// (`proxy_get_header_map_value`) rather than read the whole map
    /// (`proxy_get_header_map_pairs`) and serve it from there. A chunk that reads a header
    /// or two (the custom-auth walkthrough: its header, then `kong.response.exit`'s gRPC
    /// check of `content-type`) pays one small host call each; from the third read in a
    /// callback on, the map is read once and serves the rest. Only on hosts where both
    /// reads answer the same (`HostBehaviour::single_header_reads`; not nginx's engine):
    /// the host's first value for the name, with our own writes of this callback applied
    /// (the host has them; the map is kept in step by `cache_write`).
    fn read_one_by_one(&self) -> bool {
        if !self.behaviour.get().single_header_reads {
            return false;
        }
        let mut view = self.request.borrow_mut();
        if view.headers.is_some() || view.kept_request.is_some() || view.single_reads >= SINGLE_HEADER_READS {
            return false;
        }
        view.single_reads += 1;
        true
    }

    /// Keeps the cached map in step with a write the host accepted.
    fn cache_write(&self, name: &str, value: Option<&[u8]>, append: bool) {
        let mut view = self.request.borrow_mut();
        let Some(headers) = view.headers.as_mut() else { return };
        if !append {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
        if let Some(value) = value {
            headers.push((name.to_owned(), value.to_vec()));
        }
    }

    fn is_dropped(&self, name: &str) -> bool {
        self.request.borrow().dropped.iter().any(|n| n == name)
    }

    fn undrop(&self, name: &str) -> bool {
        let mut view = self.request.borrow_mut();
        let before = view.dropped.len();
        view.dropped.retain(|n| n != name);
        view.dropped.len() != before
    }

    fn drop_header(&self, name: &str) {
        match self.behaviour.get().header_drop {
            HeaderDrop::Remove => {
                self.inner.set_request_header(name, None);
                self.cache_write(name, None, false);
            }
            HeaderDrop::BlankValue => {
                let present = self.with_headers(|headers| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)));
                if present {
                    self.inner.set_request_header(name, Some(b""));
                    self.cache_write(name, Some(b""), false);
                }
                if !self.is_dropped(name) {
                    self.request.borrow_mut().dropped.push(name.to_owned());
                }
            }
        }
    }

    /// Sends `target` (path and query) upstream the way the host honours.
    fn set_target(&self, target: &[u8]) {
        self.request.borrow_mut().path = Some(target.to_vec());
        let (path, query) = match target.iter().position(|&b| b == b'?') {
            Some(q) => (&target[..q], &target[q + 1..]),
            None => (target, &b""[..]),
        };
        match self.behaviour.get().uri_change {
            UriChange::PseudoHeader => self.inner.set_request_header(":path", Some(target)),
            UriChange::UpstreamUri if self.inner.set_property(&["ngx", "upstream_uri"], Some(target)) => {}
            UriChange::UpstreamUri | UriChange::PathAndArgs => {
                self.inner.set_request_header(":path", Some(path));
                if !self.inner.set_property(&["ngx", "args"], Some(query)) {
                    self.inner.log(LogLevel::Error, "kong-functions: the host refused the new query (ngx.args)");
                }
            }
        }
    }

    /// The shared-data key on this host, or `None` when shared data lives in module memory.
    fn shared_key(&self, key: &str) -> Option<String> {
        if !self.behaviour.get().shared_data_needs_zone {
            return Some(key.to_owned());
        }
        self.zone.as_ref().map(|zone| format!("{zone}/{key}"))
    }
}

impl Host for HostView {
    fn request_header(&self, name: &str) -> Option<Vec<u8>> {
        if name == ":path" {
            if let Some(path) = self.request.borrow().path.clone() {
                return Some(path);
            }
        }
        if self.is_dropped(name) {
            return None;
        }
        if self.read_one_by_one() {
            return self.inner.request_header(name);
        }
        let cached = self.with_headers(|headers| {
            headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
        });
        match cached {
            // Hosts need not list pseudo-headers among the pairs: ask for those.
            None if name.starts_with(':') && self.request.borrow().kept_request.is_none() => self.inner.request_header(name),
            found => found,
        }
    }
    fn with_request_header(&self, name: &str, f: &mut dyn FnMut(Option<&[u8]>)) {
        // `request_header`'s cases, reading the kept pairs in place (`f` runs while the
        // view is borrowed: it must not call the host).
        if name == ":path" {
            return f(self.request_header(name).as_deref());
        }
        if self.is_dropped(name) {
            return f(None);
        }
        if self.read_one_by_one() {
            return f(self.inner.request_header(name).as_deref());
        }
        let found = self.with_headers(|headers| match headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some((_, v)) => {
                f(Some(v));
                true
            }
            None => false,
        });
        if !found {
            match name.starts_with(':') && self.request.borrow().kept_request.is_none() {
                true => f(self.inner.request_header(name).as_deref()),
                false => f(None),
            }
        }
    }
    fn request_headers(&self) -> Vec<(String, Vec<u8>)> {
        let mut headers = self.with_headers(|headers| headers.clone());
        let view = self.request.borrow();
        headers.retain(|(n, _)| !view.dropped.iter().any(|d| d == n));
        if let Some(path) = &view.path {
            for (name, value) in headers.iter_mut() {
                if name == ":path" {
                    *value = path.clone();
                }
            }
        }
        headers
    }
    fn set_request_header(&self, name: &str, value: Option<&[u8]>) {
        if !self.request_writable(name) || !self.note_header_name(name) {
            return;
        }
        match (name, value) {
            (":path", Some(target)) => self.set_target(target),
            (_, None) => self.drop_header(name),
            (_, Some(value)) => {
                self.undrop(name);
                self.inner.set_request_header(name, Some(value));
                self.cache_write(name, Some(value), false);
            }
        }
    }
    fn add_request_header(&self, name: &str, value: &[u8]) {
        if !self.request_writable(name) || !self.note_header_name(name) {
            return;
        }
        if self.undrop(name) {
            // The blanked value must not travel beside the new one.
            self.inner.set_request_header(name, Some(value));
            self.cache_write(name, Some(value), false);
        } else {
            self.inner.add_request_header(name, value);
            self.cache_write(name, Some(value), true);
        }
    }
    fn response_header(&self, name: &str) -> Option<Vec<u8>> {
        if let Some(kept) = &self.request.borrow().kept_response {
            return kept.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        }
        self.inner.response_header(name)
    }
    fn response_headers(&self) -> Vec<(String, Vec<u8>)> {
        if let Some(kept) = &self.request.borrow().kept_response {
            return kept.clone();
        }
        self.inner.response_headers()
    }
    fn set_response_header(&self, name: &str, value: Option<&[u8]>) {
        if self.response_writable(name) && self.note_header_name(name) {
            self.inner.set_response_header(name, value)
        }
    }
    fn add_response_header(&self, name: &str, value: &[u8]) {
        if self.response_writable(name) && self.note_header_name(name) {
            self.inner.add_response_header(name, value)
        }
    }
    fn log(&self, level: LogLevel, message: &str) {
        self.inner.log(level, message)
    }
    fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        self.inner.property(path)
    }
    fn set_property(&self, path: &[&str], value: Option<&[u8]>) -> bool {
        self.inner.set_property(path, value)
    }
    fn shared_data(&self, key: &str) -> (Option<Vec<u8>>, u32) {
        match self.shared_key(key) {
            Some(key) => self.inner.shared_data(&key),
            None => LOCAL_SHARED.with(|store| match store.borrow().get(key) {
                Some((value, cas)) => (Some(value.clone()), *cas),
                None => (None, 0),
            }),
        }
    }
    fn set_shared_data(&self, key: &str, value: Option<&[u8]>, cas: u32) -> Result<(), SharedDataError> {
        match self.shared_key(key) {
            Some(key) => self.inner.set_shared_data(&key, value, cas),
            None => LOCAL_SHARED.with(|store| {
                let mut store = store.borrow_mut();
                let current = store.get(key).map_or(0, |(_, c)| *c);
                if cas != 0 && cas != current {
                    return Err(SharedDataError::CasMismatch);
                }
                match value {
                    Some(v) => store.insert(key.to_owned(), (v.to_vec(), current.wrapping_add(1).max(1))),
                    None => store.remove(key),
                };
                Ok(())
            }),
        }
    }
    fn now_nanos(&self) -> u64 {
        self.inner.now_nanos()
    }
    fn request_body(&self, size: usize) -> BodyRead {
        self.inner.request_body(size)
    }
    fn set_request_body(&self, replace: usize, body: &[u8]) -> bool {
        self.inner.set_request_body(replace, body)
    }
    fn response_body(&self, size: usize) -> BodyRead {
        self.inner.response_body(size)
    }
    fn set_response_body(&self, replace: usize, body: &[u8]) -> bool {
        self.inner.set_response_body(replace, body)
    }
    fn send_local_response(&self, status: u16, headers: &[(String, Vec<u8>)], body: &[u8]) -> bool {
        self.inner.send_local_response(status, headers, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdk::testing::FakeHost;

    fn view_of(kind: HostKind, headers: &[(&str, &str)]) -> (Rc<FakeHost>, HostView) {
        let host = Rc::new(FakeHost::with_request(headers));
        let view = HostView::new(host.clone(), None);
        view.bind(kind);
        (host, view)
    }

    #[test]
    fn envoy_removes_headers() {
        let (host, view) = view_of(HostKind::Envoy, &[("x-custom-auth", "demo")]);
        view.set_request_header("x-custom-auth", None);
        assert_eq!(host.request_header("x-custom-auth"), None);
        assert_eq!(view.request_header("x-custom-auth"), None);
    }

    #[test]
    fn kong_blanks_a_dropped_header_and_reads_it_as_absent() {
        let (host, view) = view_of(HostKind::Kong, &[("x-custom-auth", "demo"), ("x-other", "1")]);
        view.set_request_header("x-custom-auth", None);
        // The value never reaches the upstream: the host forwards a removed entry.
        assert_eq!(host.request_header("x-custom-auth").as_deref(), Some(&b""[..]));
        assert_eq!(view.request_header("x-custom-auth"), None);
        assert!(!view.request_headers().iter().any(|(n, _)| n == "x-custom-auth"));
        // Adding it back replaces the blank instead of travelling beside it.
        view.add_request_header("x-custom-auth", b"again");
        assert_eq!(host.request.borrow().iter().filter(|(n, _)| n == "x-custom-auth").count(), 1);
        assert_eq!(view.request_header("x-custom-auth").as_deref(), Some(&b"again"[..]));
    }

    #[test]
    fn path_changes_reach_the_upstream_the_hosts_way() {
        let (host, view) = view_of(HostKind::Envoy, &[(":path", "/a?x=1")]);
        view.set_request_header(":path", Some(b"/b?y=2"));
        assert_eq!(host.request_header(":path").as_deref(), Some(&b"/b?y=2"[..]));

        let (host, view) = view_of(HostKind::Nginx, &[(":path", "/a?x=1")]);
        view.set_request_header(":path", Some(b"/b?y=2"));
        assert_eq!(host.request_header(":path").as_deref(), Some(&b"/b"[..]));
        assert_eq!(host.property(&["ngx", "args"]).as_deref(), Some(&b"y=2"[..]));
        assert_eq!(view.request_header(":path").as_deref(), Some(&b"/b?y=2"[..]));

        let (host, view) = view_of(HostKind::Kong, &[(":path", "/a?x=1")]);
        view.set_request_header(":path", Some(b"/b"));
        assert_eq!(host.property(&["ngx", "upstream_uri"]).as_deref(), Some(&b"/b"[..]));
        assert_eq!(view.request_headers().iter().find(|(n, _)| n == ":path").map(|(_, v)| v.clone()), Some(b"/b".to_vec()));
    }

    #[test]
    fn the_header_map_is_read_once_per_callback_and_follows_writes() {
        let (host, view) = view_of(HostKind::Envoy, &[(":path", "/"), ("x-a", "1"), ("X-Case", "c")]);
        assert_eq!(view.request_header("x-a").as_deref(), Some(&b"1"[..]));
        assert_eq!(view.request_header("x-case").as_deref(), Some(&b"c"[..]));
        // The third read of the callback reads the map.
        assert_eq!(view.request_header("X-A").as_deref(), Some(&b"1"[..]));
        // Changed behind the view's back (another filter, a later callback) ...
        host.set_request_header("x-a", Some(b"other"));
        assert_eq!(view.request_header("x-a").as_deref(), Some(&b"1"[..]));
        // ... seen once a new callback begins.
        let mut request = RequestView::default();
        view.swap_request(&mut request);
        request.new_callback();
        view.swap_request(&mut request);
        assert_eq!(view.request_header("x-a").as_deref(), Some(&b"other"[..]));
        // The view's own writes are in step at once.
        view.set_request_header("x-a", Some(b"2"));
        view.add_request_header("x-a", b"3");
        view.set_request_header("x-case", None);
        let values: Vec<_> = view.request_headers().into_iter().filter(|(n, _)| n == "x-a").map(|(_, v)| v).collect();
        assert_eq!(values, [b"2".to_vec(), b"3".to_vec()]);
        assert_eq!(view.request_header("x-case"), None);
        assert_eq!(host.request_header("x-case"), None);
    }

    #[test]
    fn two_header_reads_ask_for_those_headers_and_a_third_reads_the_map_once() {
        let (host, view) = view_of(HostKind::Envoy, &[(":path", "/"), ("x-a", "1"), ("x-b", "2"), ("x-c", "3")]);
        assert_eq!(view.request_header("x-a").as_deref(), Some(&b"1"[..]));
        assert_eq!(view.request_header("x-b").as_deref(), Some(&b"2"[..]));
        assert_eq!(host.request_header_calls.get(), (2, 0));
        assert_eq!(view.request_header("x-c").as_deref(), Some(&b"3"[..]));
        assert_eq!(view.request_header("x-missing"), None);
        assert_eq!(view.request_header("x-a").as_deref(), Some(&b"1"[..]));
        assert_eq!(host.request_header_calls.get(), (2, 1));
        // A write before any read: the single read sees it (the host has it).
        let mut request = RequestView::default();
        view.swap_request(&mut request);
        request.new_callback();
        view.swap_request(&mut request);
        view.set_request_header("x-a", Some(b"new"));
        assert_eq!(view.request_header("x-a").as_deref(), Some(&b"new"[..]));
        assert_eq!(host.request_header_calls.get(), (3, 1));
    }

    #[test]
    fn on_nginx_request_headers_are_read_from_the_pairs_only() {
        // kong-engine.md: ngx_wasm_module's single-header read still returns a removed
        // header, the pairs read omits it.
        let (host, view) = view_of(HostKind::Kong, &[("x-a", "1")]);
        assert_eq!(view.request_header("x-a").as_deref(), Some(&b"1"[..]));
        assert_eq!(host.request_header_calls.get(), (0, 1));
    }

    #[test]
    fn header_writes_stop_once_the_host_no_longer_takes_them() {
        let (host, view) = view_of(HostKind::Kong, &[("x-a", "1")]);
        view.set_writable(Writable { request: false, response: false });
        view.set_request_header("x-a", Some(b"2"));
        view.add_request_header("x-b", b"3");
        view.set_response_header("x-c", Some(b"4"));
        assert_eq!(host.request_header("x-a").as_deref(), Some(&b"1"[..]));
        assert_eq!(host.request_header("x-b"), None);
        assert_eq!(host.response_header("x-c"), None);
        view.set_writable(Writable { request: true, response: true });
        view.set_request_header("x-a", Some(b"2"));
        assert_eq!(host.request_header("x-a").as_deref(), Some(&b"2"[..]));
    }

    #[test]
    fn shared_data_needs_a_zone_on_nginx() {
        let host = Rc::new(FakeHost::default());
        let zoned = HostView::new(host.clone(), Some("kf".into()));
        zoned.bind(HostKind::Kong);
        zoned.set_shared_data("k", Some(b"v"), 0).unwrap();
        assert!(host.shared.borrow().contains_key("kf/k"));

        let local = HostView::new(host.clone(), None);
        local.bind(HostKind::Kong);
        local.set_shared_data("only-local", Some(b"v"), 0).unwrap();
        assert_eq!(local.shared_data("only-local").0.as_deref(), Some(&b"v"[..]));
        assert!(!host.shared.borrow().keys().any(|k| k.contains("only-local")));

        let envoy = HostView::new(host.clone(), None);
        envoy.bind(HostKind::Envoy);
        envoy.set_shared_data("e", Some(b"v"), 0).unwrap();
        assert!(host.shared.borrow().contains_key("e"));
    }
}
