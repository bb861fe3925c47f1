//! WebSocket streams and downstream connections on a [`Chain`].
//!
//! A WebSocket stream is a handshake request, the upstream's 101, then bytes both ways
//! until both sides closed. How the filters see the bytes after the 101 depends on the
//! host:
//!
//! - **Envoy**: an upgraded stream passes through the HTTP filter chain, the upgrade
//!   payload as body data ("Upgrades pass both the HTTP headers and the upgrade payload
//!   through an HTTP filter chain", Envoy's HTTP upgrades docs,
//!   <https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/upgrades>; the
//!   HTTP/1 codec dispatches the bytes after an upgrade straight to `onBody`,
//!   `source/common/http/http1/codec_impl.cc` `maybeDirectDispatch`). So client bytes
//!   reach `proxy_on_request_body`, upstream bytes `proxy_on_response_body`, as they
//!   arrive (one callback per frame the file sends, or per `body_chunk_size` bytes), with
//!   `end_of_stream` only when that side closes the connection; the handshake's request
//!   headers and the 101's headers both have `end_of_stream` false (the stream goes on).
//!   A body callback's Pause buffers (StopIterationAndBuffer), as for any body. A local
//!   response after the 101 cannot be sent: the stream is reset.
//! - **Kong's engine** (nginx + ngx_wasm_module): nginx's upstream module hands a 101
//!   to its tunnel: `ngx_http_upstream_upgrade` (nginx `src/http/ngx_http_upstream.c`)
//!   installs `ngx_http_upstream_process_upgraded`, which moves bytes between the two
//!   sockets with `recv`/`send`, bypassing the output filters ngx_wasm_module hooks; the
//!   one `ngx_http_send_special(r, NGX_HTTP_FLUSH)` it sends is an empty, non-last buffer,
//!   on which `ngx_http_proxy_wasm_on_response_body` calls no filter (it calls
//!   `proxy_on_http_response_body` only for a non-empty chunk or the end,
//!   `src/http/proxy_wasm/ngx_http_proxy_wasm.c`). ngx_wasm_module has no WebSocket code
//!   of its own (no `websocket` anywhere in its `src/`, 3bed278). So the filters see the
//!   handshake's request headers and the 101's response headers, never a frame; when
//!   both sides closed normally, `ngx_http_upstream_finalize_request(r, u, 0)` sends
//!   `NGX_HTTP_LAST`, which gives each filter one `proxy_on_http_response_body` with 0
//!   bytes and `end_of_stream` true; then the log phase.

use wasmtime::{format_err, Result};

use super::{Chain, Response, Wake};
use crate::connection::{ConnectionInfo, ConnectionSpec, RequestItem, TlsSpec};
use crate::filter::Action;
use crate::spec::{LogEntry, Outcome, RequestSpec, UpstreamRequest};
use crate::upstream::UpstreamResponse;
use crate::ws::{self, EchoUpstream, Receiver, Side, WebSocketOutcome, WebSocketSpec};

/// How the handshake is answered upstream (see [`Chain::ws_open`]).
pub type HandshakeFn = Box<dyn FnMut(&UpstreamRequest) -> UpstreamResponse>;

/// An upgraded stream whose filters have seen the 101 and not yet the end.
pub(crate) struct OpenUpgrade {
    ids: Vec<i32>,
    /// Envoy: bytes a filter held with Pause (StopIterationAndBuffer), per filter;
    /// index 0 the client-to-upstream direction, 1 the other.
    held: [Vec<Option<Vec<u8>>>; 2],
    ended: [bool; 2],
    reset: Option<String>,
}

/// What came out of the filters for bytes one side sent.
#[derive(Debug, Default)]
pub struct Delivered {
    /// The bytes the other side receives.
    pub bytes: Vec<u8>,
    /// Set when the host reset the stream (Envoy: a local response after the 101).
    pub reset: Option<String>,
}

/// The result of one request-file item (serialized untagged: a request's outcome, a
/// WebSocket stream's, or `{"connection": id, "outcomes": [...]}`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum ItemOutcome {
    /// A plain request.
    Request(Outcome),
    /// A WebSocket stream.
    WebSocket(Box<WebSocketOutcome>),
    /// The streams of one connection.
    Connection {
        /// The connection's id.
        connection: u64,
        /// Its streams' outcomes, in order.
        outcomes: Vec<ItemOutcome>,
    },
}

impl Chain {
    /// Runs later streams on one downstream connection with id `id` (default: the next
    /// number) and `tls`, until [`Chain::disconnect`]; returns the id. Without it every
    /// stream is a connection of its own.
    pub fn connect(&mut self, id: Option<u64>, tls: Option<TlsSpec>) -> u64 {
        let id = id.unwrap_or(self.next_connection_id);
        self.next_connection_id = self.next_connection_id.max(id + 1);
        self.connection = ConnectionInfo { id, tls, requests: 0 };
        self.on_connection = true;
        id
    }

    /// Ends the connection [`Chain::connect`] opened.
    pub fn disconnect(&mut self) {
        self.on_connection = false;
    }

    /// The connection the next stream runs on: the open one (one more request on it),
    /// else a new plain connection.
    pub(super) fn next_stream_connection(&mut self) {
        if !self.on_connection {
            let id = self.next_connection_id;
            self.next_connection_id += 1;
            self.connection = ConnectionInfo { id, tls: None, requests: 0 };
        }
        self.connection.requests += 1;
    }

    /// Whether the request being run is a WebSocket handshake (see [`Chain::ws_open`]).
    pub(super) fn upgrading(&self) -> bool {
        self.ws_handshake.is_some()
    }

    /// Runs one request-file item.
    ///
    /// Errors: a trap (as [`Chain::run`]), a bad frame in the file.
    pub fn run_item(&mut self, item: &RequestItem) -> Result<ItemOutcome> {
        match item {
            RequestItem::Request(request) => Ok(ItemOutcome::Request(self.run(request)?)),
            RequestItem::WebSocket(spec) => Ok(ItemOutcome::WebSocket(Box::new(self.run_websocket(spec)?))),
            RequestItem::Connection(spec) => self.run_connection(spec),
        }
    }

    /// Runs the streams of `spec` on one connection.
    ///
    /// Errors: a stream that is not a request or WebSocket item, or as [`Chain::run_item`].
    pub fn run_connection(&mut self, spec: &ConnectionSpec) -> Result<ItemOutcome> {
        let id = self.connect(spec.connection.id, spec.connection.tls.clone());
        let mut outcomes = Vec::with_capacity(spec.requests.len());
        let result = (|| {
            for (i, value) in spec.requests.iter().enumerate() {
                let item = RequestItem::from_value(value.clone()).map_err(|e| format_err!("connection {id}: request {}: {e}", i + 1))?;
                if matches!(item, RequestItem::Connection(_)) {
                    return Err(format_err!("connection {id}: request {}: connections do not nest", i + 1));
                }
                outcomes.push(self.run_item(&item)?);
            }
            Ok(())
        })();
        self.disconnect();
        result.map(|()| ItemOutcome::Connection { connection: id, outcomes })
    }

    /// Runs a WebSocket stream from a request file: the handshake through the filters to
    /// the built-in upstream ([`ws::upstream_handshake`]), then, when the client accepts
    /// the 101 (RFC 6455 4.1: right `Sec-WebSocket-Accept`), the frames in file order,
    /// the upstream answering as `spec.upstream` says, then the close of both sides.
    /// The client answers a close it receives with a close of the same code when it
    /// has not sent one (RFC 6455 5.5.1).
    ///
    /// Errors: a trap, or a frame of the file that cannot be encoded.
    pub fn run_websocket(&mut self, spec: &WebSocketSpec) -> Result<WebSocketOutcome> {
        let request = spec.handshake();
        let key = request.headers.pairs().into_iter().find(|(n, _)| n == "sec-websocket-key").map(|(_, v)| v).unwrap_or_default();
        let (handshake, open) = self.ws_open(&request, Box::new(ws::upstream_handshake))?;
        let established = open && handshake.status == 101 && handshake.header("sec-websocket-accept") == Some(ws::accept_key(&key).as_str());
        let mut result = WebSocketOutcome {
            handshake,
            established,
            upstream_received: Vec::new(),
            client_received: Vec::new(),
            errors: Vec::new(),
            reset: None,
        };
        if !open {
            return Ok(result);
        }
        let mut client = Receiver::new(Side::Client);
        let mut server = Receiver::new(Side::Upstream);
        if established {
            let mut upstream = EchoUpstream::new(spec.upstream);
            let mut client_closed = false;
            for (n, step) in spec.frames.iter().enumerate() {
                let bytes = step.bytes().map_err(|e| format_err!("websocket frame {}: {e}", n + 1))?;
                let reset = match step.from {
                    Side::Client => {
                        client_closed |= matches!(ws::parse(&bytes), ws::Parsed::Frame(f, _) if f.opcode == ws::opcode::CLOSE);
                        self.client_sends(bytes, &mut server, &mut client, &mut upstream)?
                    }
                    Side::Upstream => {
                        upstream.sending(&bytes);
                        let out = self.ws_deliver(Side::Upstream, bytes, false)?;
                        client.push(&out.bytes);
                        out.reset
                    }
                };
                if reset.is_some() {
                    result.reset = reset;
                    break;
                }
                if client.closed && !client_closed && result.reset.is_none() {
                    // RFC 6455 5.5.1: answer the server's close with a close.
                    client_closed = true;
                    let code = client.frames.iter().rev().find_map(|f| f.close_code).unwrap_or(1000);
                    let answer = ws::Frame { mask: Some(ws::CLIENT_MASK), ..ws::Frame::close(code, "") }.encode();
                    result.reset = self.client_sends(answer, &mut server, &mut client, &mut upstream)?;
                }
            }
        }
        let logs = self.ws_finish()?;
        result.handshake.logs.extend(logs);
        result.upstream_received = server.frames;
        result.client_received = client.frames;
        result.errors = server.errors.into_iter().chain(client.errors).collect();
        Ok(result)
    }

    /// Client bytes through the filters to the upstream, and the upstream's answer back.
    fn client_sends(&mut self, bytes: Vec<u8>, server: &mut Receiver, client: &mut Receiver, upstream: &mut EchoUpstream) -> Result<Option<String>> {
        let out = self.ws_deliver(Side::Client, bytes, false)?;
        if out.reset.is_some() {
            return Ok(out.reset);
        }
        let completed = server.push(&out.bytes);
        let start = server.messages.len() - completed;
        let answer = upstream.answer(&server.messages[start..]);
        if answer.is_empty() {
            return Ok(None);
        }
        let back = self.ws_deliver(Side::Upstream, answer, false)?;
        client.push(&back.bytes);
        Ok(back.reset)
    }

    /// Runs a WebSocket handshake `request` through the filters; `handshake` answers it
    /// upstream. Returns what the client got and whether the stream is now upgraded (the
    /// upstream answered 101 and no filter replaced it): then [`Chain::ws_deliver`]
    /// carries bytes and [`Chain::ws_finish`] must end the stream. The outcome's logs are
    /// the handshake's.
    ///
    /// Errors: a trap (on `kong` a trap gives nginx's 500 page as for [`Chain::run`]).
    pub fn ws_open(&mut self, request: &RequestSpec, handshake: HandshakeFn) -> Result<(Outcome, bool)> {
        self.ws_open = None;
        self.ws_handshake = Some(handshake);
        let outcome = self.run(request);
        self.ws_handshake = None;
        let outcome = outcome?;
        Ok((outcome, self.ws_open.is_some()))
    }

    /// Whether the stream is upgraded. Called from `run_inner` with the upstream's 101:
    /// its response headers through the filters (`end_of_stream` false on both hosts). A
    /// local response there replaces the 101 (no upgrade, and no body callbacks for it);
    /// otherwise the stream stays open.
    pub(super) fn upgrade_headers(&mut self, response: &mut Response, ids: &[i32]) -> Result<bool> {
        self.load_response_headers(response);
        let kong = self.kong();
        for i in (0..self.filters.len()).rev() {
            let count = self.lock_stream().response_headers.len();
            let action = self.filters[i].on_response_headers(ids[i], count, false)?;
            let mut reply = self.filters[i].take_local_reply();
            if reply.is_none() && action == Action::Pause {
                if kong {
                    self.log(i, "error", format!("filter {:?}: Pause from on_http_response_headers is not supported, continuing", self.filters[i].name));
                } else {
                    reply = match self.wait(i)? {
                        Wake::Resumed => None,
                        Wake::Reply(reply) => Some(reply),
                        Wake::Stuck => Some(self.idle_timeout(i, "the response headers of a WebSocket handshake")),
                    };
                }
            }
            if let Some(reply) = reply {
                if kong {
                    self.kong_override(response, reply);
                } else {
                    *response = Response::from_reply(super::envoy_local_reply(reply));
                    self.load_response_headers(response);
                }
                self.sync_response(response);
                return Ok(false);
            }
        }
        self.sync_response(response);
        if response.status != 101 {
            return Ok(false);
        }
        let n = self.filters.len();
        self.ws_open = Some(OpenUpgrade { ids: ids.to_vec(), held: [vec![None; n], vec![None; n]], ended: [false; 2], reset: None });
        Ok(true)
    }

    /// The response's status and headers as the filters left them.
    fn sync_response(&self, response: &mut Response) {
        let stream = self.lock_stream();
        response.headers = stream.response_headers.iter().filter(|(n, _)| !n.starts_with(':')).cloned().collect();
        if let Some((_, value)) = stream.response_headers.iter().find(|(n, _)| n == ":status") {
            if let Ok(status) = String::from_utf8_lossy(value).parse() {
                response.status = status;
            }
        }
    }

    /// Bytes `from` one side of the upgraded stream, through the filters as the host
    /// delivers them (see the module docs); `end` when that side closed. Returns what
    /// the other side receives.
    ///
    /// Errors: no upgraded stream is open, or a trap.
    pub fn ws_deliver(&mut self, from: Side, bytes: Vec<u8>, end: bool) -> Result<Delivered> {
        let Some(open) = self.ws_open.as_ref() else {
            return Err(format_err!("no upgraded stream is open"));
        };
        let dir = usize::from(from == Side::Upstream);
        if let Some(reset) = open.reset.clone() {
            return Ok(Delivered { bytes: Vec::new(), reset: Some(reset) });
        }
        if open.ended[dir] {
            return Err(format_err!("that side of the upgraded stream already closed"));
        }
        if self.kong() {
            // nginx's tunnel: the bytes go through untouched, no filter sees them.
            if end {
                if let Some(open) = self.ws_open.as_mut() {
                    open.ended[dir] = true;
                }
            }
            return Ok(Delivered { bytes, reset: None });
        }
        let chunks: Vec<Vec<u8>> = match self.chunk_size {
            Some(size) if !bytes.is_empty() => bytes.chunks(size).map(<[u8]>::to_vec).collect(),
            _ => vec![bytes],
        };
        let last = chunks.len() - 1;
        let mut out = Delivered::default();
        for (k, chunk) in chunks.into_iter().enumerate() {
            let eos = end && k == last;
            match self.envoy_body_data(dir, chunk, eos)? {
                Ok(bytes) => out.bytes.extend(bytes),
                Err(reset) => {
                    out.reset = Some(reset);
                    break;
                }
            }
        }
        if end {
            if let Some(open) = self.ws_open.as_mut() {
                open.ended[dir] = true;
            }
        }
        Ok(out)
    }

    /// Envoy: one chunk of upgrade payload through the filters of direction `dir`
    /// (0: request order, 1: response order). `Err(reason)` when the stream is reset.
    fn envoy_body_data(&mut self, dir: usize, data: Vec<u8>, eos: bool) -> Result<std::result::Result<Vec<u8>, String>> {
        let n = self.filters.len();
        let order: Vec<usize> = if dir == 0 { (0..n).collect() } else { (0..n).rev().collect() };
        let mut data = data;
        for i in order {
            let (id, held) = {
                let open = self.ws_open.as_mut().expect("open upgrade");
                (open.ids[i], open.held[dir][i].take())
            };
            if let Some(mut earlier) = held {
                earlier.extend_from_slice(&data);
                data = earlier;
            }
            let size = data.len();
            let direction = if dir == 0 { super::Direction::Request } else { super::Direction::Response };
            self.set_buffer(direction, data);
            let action = if dir == 0 { self.filters[i].on_request_body(id, size, eos)? } else { self.filters[i].on_response_body(id, size, eos)? };
            let now = self.take_buffer(direction);
            if self.filters[i].take_local_reply().is_some() {
                let reason = format!("filter {:?} sent a local response after the 101: Envoy resets the upgraded stream", self.filters[i].name);
                self.log(i, "error", reason.clone());
                if let Some(open) = self.ws_open.as_mut() {
                    open.reset = Some(reason.clone());
                }
                return Ok(Err(reason));
            }
            if action == Action::Pause && !eos {
                // StopIterationAndBuffer: this filter's next callback gets it all.
                if let Some(open) = self.ws_open.as_mut() {
                    open.held[dir][i] = Some(now);
                }
                return Ok(Ok(Vec::new()));
            }
            if action == Action::Pause {
                self.set_buffer(direction, now);
                let wake = self.wait(i)?;
                data = self.take_buffer(direction);
                if let Wake::Reply(_) = wake {
                    let reason = format!("filter {:?} sent a local response after the 101: Envoy resets the upgraded stream", self.filters[i].name);
                    if let Some(open) = self.ws_open.as_mut() {
                        open.reset = Some(reason.clone());
                    }
                    return Ok(Err(reason));
                }
                continue;
            }
            data = now;
        }
        Ok(Ok(data))
    }

    /// Ends the upgraded stream: both sides close (the upstream first, as RFC 6455 7.1.1
    /// has the server close the TCP connection first). Envoy: `end_of_stream` on the
    /// response body, then on the request body; Kong: one empty `end_of_stream` response
    /// body callback per filter (nginx's `NGX_HTTP_LAST` at finalize). Then the
    /// dispatched calls are answered and every filter's stream ends (`on_log`). Returns
    /// the log lines written since the handshake.
    ///
    /// Errors: no upgraded stream is open, or a trap.
    pub fn ws_finish(&mut self) -> Result<Vec<LogEntry>> {
        let Some(open) = self.ws_open.as_ref() else {
            return Err(format_err!("no upgraded stream is open"));
        };
        let ids = open.ids.clone();
        let (reset, ended) = (open.reset.is_some(), open.ended);
        if self.kong() {
            for i in (0..self.filters.len()).rev() {
                self.set_buffer(super::Direction::Response, Vec::new());
                self.filters[i].on_response_body(ids[i], 0, true)?;
                self.take_buffer(super::Direction::Response);
                self.filters[i].take_local_reply();
            }
        } else if !reset {
            if !ended[1] {
                self.ws_deliver(Side::Upstream, Vec::new(), true)?;
            }
            if !ended[0] {
                self.ws_deliver(Side::Client, Vec::new(), true)?;
            }
        }
        for i in 0..self.filters.len() {
            while let Some(call) = self.filters[i].next_pending_call() {
                self.deliver(i, &call)?;
            }
            self.filters[i].take_local_reply();
        }
        for (filter, id) in self.filters.iter_mut().zip(&ids) {
            filter.finish_stream(*id)?;
        }
        self.ws_open = None;
        Ok(std::mem::take(&mut *self.shared.logs.lock().unwrap_or_else(|e| e.into_inner())))
    }
}
