//! WebSocket streams and the `certificate` phase on the stream state machine.
//!
//! A request with `Upgrade: websocket`, in an instance with any `ws_*` phase, is a
//! handshake: `rewrite`, then `ws_handshake` where `access` would run (a chunk may refuse
//! it with `kong.response.exit`). Once the handshake went upstream, request-body
//! callbacks carry the client's frames and, after the upstream's 101, response-body
//! callbacks carry the upstream's (Envoy passes upgraded streams through HTTP filters
//! this way). Each side's bytes are decoded ([`Decoder`]); `ws_client_frame` /
//! `ws_upstream_frame` run per message; what the chunks leave is encoded again (toward
//! the upstream masked, toward the client unmasked, lengths recomputed) in place of the
//! bytes the host holds. `ws_close` runs once, at the first close frame from either side,
//! the filter's own close, or the end of the stream.
//!
//! A frame the filter sends toward the peer whose bytes are not in hand (the close frame
//! back to a frame's sender) waits for that direction's next body callback: proxy-wasm
//! lets a filter write only the buffer of the callback that runs.

use super::*;
use crate::properties::Need;
use crate::runtime::WsFrame;
use crate::websocket::{encode, status, Decoder, FrameError, Kind, Message, Side, DEFAULT_MAX_PAYLOAD};

/// One upgraded stream's WebSocket state.
pub(super) struct WsStream {
    /// The upstream answered 101: response bodies are frames.
    upgraded: bool,
    /// Decoders of client and upstream bytes.
    decoders: [Decoder; 2],
    /// Encoded frames waiting for the buffer that carries a side's bytes (index: that side).
    pending: [Vec<u8>; 2],
    /// The filter closed the connection (its close, or a bad frame): nothing more passes.
    closing: bool,
    /// `ws_close` ran.
    close_ran: bool,
    /// State of the masking-key generator, for frames toward the upstream that have no
    /// client key to reuse.
    mask_state: u64,
}

fn index(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Upstream => 1,
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::Client => Side::Upstream,
        Side::Upstream => Side::Client,
    }
}

impl WsStream {
    fn new(max_payload: [Option<usize>; 2], seed: u64) -> WsStream {
        let limit = |i: usize| max_payload[i].unwrap_or(DEFAULT_MAX_PAYLOAD);
        WsStream {
            upgraded: false,
            decoders: [Decoder::new(Side::Client, limit(0)), Decoder::new(Side::Upstream, limit(1))],
            pending: [Vec::new(), Vec::new()],
            closing: false,
            close_ran: false,
            mask_state: seed | 1,
        }
    }

    /// A masking key for a frame toward `receiver`: none toward the client; toward the
    /// upstream the sender's own key when the frame had one, else a fresh one
    /// (splitmix64 over the clock-seeded state).
    fn mask_toward(&mut self, receiver: Side, sender_key: Option<[u8; 4]>) -> Option<[u8; 4]> {
        if receiver == Side::Client {
            return None;
        }
        sender_key.or_else(|| {
            self.mask_state = self.mask_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.mask_state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            let bytes = (z ^ (z >> 31)).to_le_bytes();
            Some([bytes[0], bytes[1], bytes[2], bytes[3]])
        })
    }
}

impl Stream {
    /// Whether this request is a WebSocket handshake the instance handles: some `ws_*`
    /// phase is configured and the request asks `Upgrade: websocket`. Without a `ws_*`
    /// phase an upgrade request is plain HTTP, as in Kong's HTTP routes (`access` runs).
    pub(super) fn is_ws_handshake(&self) -> bool {
        let ws_phases = [Phase::WsHandshake, Phase::WsClientFrame, Phase::WsUpstreamFrame, Phase::WsClose];
        ws_phases.into_iter().any(|p| self.has_phase(p))
            && self
                .host
                .request_header("upgrade")
                .is_some_and(|v| v.windows(9).any(|w| w.eq_ignore_ascii_case(b"websocket")))
    }

    /// `rewrite` then `ws_handshake`; a handshake that goes upstream gets its WebSocket
    /// state, with the payload limits `set_max_payload_size` set, where the host carries
    /// frames.
    pub(super) fn run_handshake(&mut self) -> Flow {
        let flow = self.run_request_phases(0, Phase::WsHandshake);
        if !self.responded_locally && self.behaviour.carries_upgraded_streams {
            self.ws = Some(WsStream::new(self.request.ws_max_payload, self.host.now_nanos()));
        }
        flow
    }

    /// The upstream's answer to the handshake: 101 makes response bodies frames; anything
    /// else is a plain HTTP response (the handshake was refused).
    pub(super) fn ws_response_headers(&mut self) {
        let switched = self.host.response_header(":status").is_some_and(|s| s == b"101");
        match self.ws.as_mut() {
            Some(ws) if switched => ws.upgraded = true,
            _ => self.ws = None,
        }
    }

    /// Whether body callbacks from `side` carry frames now.
    pub(super) fn ws_carries(&self, side: Side) -> bool {
        self.ws.as_ref().is_some_and(|ws| side == Side::Client || ws.upgraded)
    }

    /// One body callback of an upgraded stream: the frames in it run their phase, and the
    /// host's buffer is replaced with what goes on.
    pub(super) fn ws_bytes(&mut self, side: Side, body_size: usize, end_of_stream: bool) -> Flow {
        let bytes = match side {
            Side::Client if body_size > 0 => self.host.request_body(body_size),
            Side::Upstream if body_size > 0 => self.host.response_body(body_size),
            _ => BodyRead::Bytes(Vec::new()),
        };
        let bytes = match bytes {
            BodyRead::Bytes(bytes) => bytes,
            BodyRead::Unavailable => Vec::new(),
        };
        let Some(ws) = self.ws.as_mut() else { return Flow::Continue };
        let mut out = std::mem::take(&mut ws.pending[index(side)]);
        if !ws.closing {
            let (messages, error) = ws.decoders[index(side)].push(&bytes);
            for message in messages {
                out.extend(self.ws_message(side, message));
                if self.ws.as_ref().is_some_and(|ws| ws.closing) {
                    break;
                }
            }
            if let Some(error) = error.filter(|_| !self.ws.as_ref().is_some_and(|ws| ws.closing)) {
                self.ws_refuse(side, &error, &mut out);
            }
        }
        if out != bytes {
            self.ws_replace(side, body_size, &out);
        }
        if end_of_stream {
            self.ws_finish();
        }
        Flow::Continue
    }

    /// Runs the side's frame phase on `message`; returns the bytes that go on.
    fn ws_message(&mut self, side: Side, message: Message) -> Vec<u8> {
        let phase = match side {
            Side::Client => Phase::WsClientFrame,
            Side::Upstream => Phase::WsUpstreamFrame,
        };
        self.request.ws_frame = Some(WsFrame { side, message, drop: false, close: None });
        // A chunk's error is logged by the runtime; the frame goes on as the chunks left it.
        self.run(phase);
        let Some(frame) = self.request.ws_frame.take() else { return Vec::new() };
        if let Some(close) = frame.close {
            let toward_peer = Message::close(close.peer_status.unwrap_or(status::NORMAL), &close.peer_message.unwrap_or_default());
            let toward_sender = Message::close(close.status.unwrap_or(status::NORMAL), &close.message.unwrap_or_default());
            return self.ws_close_both(side, toward_peer, toward_sender);
        }
        if frame.drop {
            return Vec::new();
        }
        let Some(ws) = self.ws.as_mut() else { return Vec::new() };
        let mask = ws.mask_toward(other(side), frame.message.mask);
        let bytes = encode(&frame.message, mask);
        if frame.message.kind == Kind::Close {
            self.ws_run_close();
        }
        bytes
    }

    /// A bad frame from `side`: logged, then the connection is closed both ways with the
    /// error's status (1002 malformed, 1009 too big).
    fn ws_refuse(&mut self, side: Side, error: &FrameError, out: &mut Vec<u8>) {
        let reason = match error {
            FrameError::Protocol(what) => format!("malformed frame: {what}"),
            FrameError::TooBig(size, limit) => format!("message payload too large ({size} bytes, limit {limit})"),
        };
        let message = format!("kong-functions: websocket {} frame refused: {reason}; closing with {}", side.name(), error.status());
        self.host.log(LogLevel::Error, &message);
        let close = Message::close(error.status(), b"");
        out.extend(self.ws_close_both(side, close.clone(), close));
    }

    /// Closes the connection from the filter: returns the close frame toward the peer of
    /// `side` (it rides the buffer in hand) and queues the one toward `side`; `ws_close`
    /// runs, and nothing more passes either way.
    fn ws_close_both(&mut self, side: Side, toward_peer: Message, toward_sender: Message) -> Vec<u8> {
        let Some(ws) = self.ws.as_mut() else { return Vec::new() };
        ws.closing = true;
        let peer_mask = ws.mask_toward(other(side), None);
        let sender_mask = ws.mask_toward(side, None);
        ws.pending[index(other(side))].extend(encode(&toward_sender, sender_mask));
        let out = encode(&toward_peer, peer_mask);
        self.ws_run_close();
        out
    }

    /// `ws_close`, once per stream.
    fn ws_run_close(&mut self) {
        let Some(ws) = self.ws.as_mut() else { return };
        if std::mem::replace(&mut ws.close_ran, true) {
            return;
        }
        self.run(Phase::WsClose);
    }

    /// The end of an upgraded stream: `ws_close` if no close frame ran it.
    pub(super) fn ws_finish(&mut self) {
        if self.ws.as_ref().is_some_and(|ws| ws.upgraded) {
            self.ws_run_close();
        }
    }

    /// Replaces the `held` bytes of `side`'s body buffer with `out`.
    fn ws_replace(&self, side: Side, held: usize, out: &[u8]) {
        let replace = match self.behaviour.body_replace {
            BodyReplace::WholeBuffer => held,
            BodyReplace::NewLength => out.len(),
        };
        let accepted = match side {
            Side::Client => self.host.set_request_body(replace, out),
            Side::Upstream => self.host.set_response_body(replace, out),
        };
        if !accepted {
            self.host.log(LogLevel::Error, "kong-functions: the host refused the re-encoded websocket frames");
        }
    }

    /// `certificate`, once per downstream TLS connection (none on plain HTTP, as in Kong),
    /// before the first request's `rewrite`; `Some(flow)` when the request must stop (Kong would have failed the TLS
    /// handshake: here the request is answered 500, as is every later request on that
    /// connection).
    pub(super) fn run_certificate(&mut self) -> Option<Flow> {
        let runtime = self.runtime.clone()?;
        let kind = runtime.borrow().host_kind();
        let id = Need::ConnectionId.read(self.host.as_ref(), kind);
        match id.as_deref().map(|id| runtime.borrow().connection_seen(id)) {
            Some(Some(true)) => return None,
            Some(Some(false)) => {
                self.host.log(LogLevel::Error, "kong-functions: the certificate phase failed for this connection: request refused");
                return Some(self.respond_with_error());
            }
            Some(None) => {}
            None => runtime.borrow_mut().note_no_connection_id(),
        }
        // Kong runs `certificate` in the TLS handshake (ssl_certificate_by_lua): a plain
        // HTTP connection never has one. A host that names no TLS version is plain here.
        if !Need::TlsVersion.read(self.host.as_ref(), kind).is_some_and(|v| !v.is_empty()) {
            if let Some(id) = id {
                runtime.borrow_mut().record_connection(id, true);
            }
            return None;
        }
        let ok = self.run(Phase::Certificate) == PhaseOutcome::Continue && self.request.exit.is_none();
        if let Some(id) = id {
            runtime.borrow_mut().record_connection(id, ok);
        }
        if ok {
            return None;
        }
        self.request.exit = None;
        Some(self.respond_with_error())
    }
}
