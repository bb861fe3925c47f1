//! WebSocket streams for the harness (RFC 6455): the handshake, a frame codec written
//! from the RFC independently of the filter's, the request-file format of a WebSocket
//! stream, and the built-in upstream (echo or scripted).
//!
//! The harness encodes what each side sends and decodes what each side receives, so a
//! test can assert exactly what the client and the upstream got: opcode, FIN, whether
//! the frame was masked, payload (and close code/reason). Each receiver checks the rules
//! RFC 6455 puts on its peer (section 5.1: client frames masked, server frames not;
//! 5.2: RSV bits zero, known opcodes; 5.5: control frames at most 125 bytes and not
//! fragmented; 5.2: a 64-bit length has its most significant bit clear) and records a
//! violation as an error; bytes after a violation are not decoded (the connection would
//! fail, 7.1.7).

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::spec::HeadersSpec;

/// The GUID a server appends to `Sec-WebSocket-Key` (RFC 6455 section 1.3).
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// The key of RFC 6455's example handshake (section 1.3), used when a file gives none.
pub const SAMPLE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// The masking key the harness's client uses (RFC 6455 5.3 wants it unpredictable; a
/// fixed one keeps transcripts reproducible, and the receiver never relies on it).
pub const CLIENT_MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Opcodes of RFC 6455 section 5.2.
pub mod opcode {
    /// Continuation frame.
    pub const CONTINUATION: u8 = 0x0;
    /// Text frame.
    pub const TEXT: u8 = 0x1;
    /// Binary frame.
    pub const BINARY: u8 = 0x2;
    /// Connection close.
    pub const CLOSE: u8 = 0x8;
    /// Ping.
    pub const PING: u8 = 0x9;
    /// Pong.
    pub const PONG: u8 = 0xA;
}

/// The name of an opcode (`text`, `binary`, `close`, `ping`, `pong`, `continuation`),
/// `reserved-N` for the others.
pub fn opcode_name(code: u8) -> String {
    match code {
        opcode::CONTINUATION => "continuation".into(),
        opcode::TEXT => "text".into(),
        opcode::BINARY => "binary".into(),
        opcode::CLOSE => "close".into(),
        opcode::PING => "ping".into(),
        opcode::PONG => "pong".into(),
        other => format!("reserved-{other:x}"),
    }
}

fn opcode_of(name: &str) -> Option<u8> {
    Some(match name {
        "continuation" => opcode::CONTINUATION,
        "text" => opcode::TEXT,
        "binary" => opcode::BINARY,
        "close" => opcode::CLOSE,
        "ping" => opcode::PING,
        "pong" => opcode::PONG,
        _ => return None,
    })
}

/// `Sec-WebSocket-Accept` for `key`: base64 of the SHA-1 of the key followed by
/// [`GUID`] (RFC 6455 section 4.2.2, step 5.4). `accept_key(SAMPLE_KEY)` is
/// `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`, the RFC's own example.
pub fn accept_key(key: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(key.trim().as_bytes());
    hasher.update(GUID.as_bytes());
    base64(&hasher.finalize())
}

/// Standard base64 with padding (RFC 4648 section 4).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One frame as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// FIN bit.
    pub fin: bool,
    /// RSV1-3 bits (the low three bits; zero without an extension).
    pub rsv: u8,
    /// Opcode (see [`opcode`]).
    pub opcode: u8,
    /// Masking key, for client-to-server frames.
    pub mask: Option<[u8; 4]>,
    /// The unmasked payload.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A final, unmasked frame.
    pub fn new(opcode: u8, payload: impl Into<Vec<u8>>) -> Frame {
        Frame { fin: true, rsv: 0, opcode, mask: None, payload: payload.into() }
    }

    /// A close frame with a status code and reason (RFC 6455 5.5.1).
    pub fn close(code: u16, reason: &str) -> Frame {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        Frame::new(opcode::CLOSE, payload)
    }

    /// The frame's bytes: the shortest length form (7-bit, 16-bit or 64-bit, RFC 6455
    /// 5.2 "the minimal number of bytes MUST be used"), the payload masked when a key is
    /// set (5.3).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload.len() + 14);
        out.push(u8::from(self.fin) << 7 | (self.rsv & 7) << 4 | (self.opcode & 0xF));
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.payload.len();
        if len < 126 {
            out.push(mask_bit | len as u8);
        } else if len <= 0xFFFF {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        match self.mask {
            Some(key) => {
                out.extend_from_slice(&key);
                out.extend(self.payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
            }
            None => out.extend_from_slice(&self.payload),
        }
        out
    }
}

/// What [`parse`] found at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole frame and how many bytes it took.
    Frame(Frame, usize),
    /// Not enough bytes yet.
    Incomplete,
    /// The bytes cannot be a frame (a 64-bit length with its top bit set, RFC 6455 5.2).
    Invalid(String),
}

/// Decodes the frame at the start of `buf` (payload unmasked).
pub fn parse(buf: &[u8]) -> Parsed {
    if buf.len() < 2 {
        return Parsed::Incomplete;
    }
    let (b0, b1) = (buf[0], buf[1]);
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7F {
        126 if buf.len() < 4 => return Parsed::Incomplete,
        126 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 if buf.len() < 10 => return Parsed::Incomplete,
        127 => {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(&buf[2..10]);
            let len = u64::from_be_bytes(eight);
            if len >> 63 != 0 {
                return Parsed::Invalid("64-bit payload length with the most significant bit set".into());
            }
            (len, 10)
        }
        n => (u64::from(n), 2),
    };
    let mask = if masked {
        if buf.len() < at + 4 {
            return Parsed::Incomplete;
        }
        let key = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
        at += 4;
        Some(key)
    } else {
        None
    };
    let Ok(len) = usize::try_from(len) else {
        return Parsed::Invalid(format!("payload length {len} too large"));
    };
    if buf.len() - at < len {
        return Parsed::Incomplete;
    }
    let raw = &buf[at..at + len];
    let payload = match mask {
        Some(key) => raw.iter().enumerate().map(|(i, b)| b ^ key[i % 4]).collect(),
        None => raw.to_vec(),
    };
    let frame = Frame { fin: b0 & 0x80 != 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0xF, mask, payload };
    Parsed::Frame(frame, at + len)
}

/// Which end of the WebSocket connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The downstream client (its frames must be masked).
    Client,
    /// The upstream server (its frames must not be masked).
    Upstream,
}

/// A frame as one side received it, decoded.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReceivedFrame {
    /// `text`, `binary`, `close`, `ping`, `pong`, `continuation` (or `reserved-N`).
    pub opcode: String,
    /// FIN bit.
    pub fin: bool,
    /// Whether the frame carried a masking key.
    pub masked: bool,
    /// The payload as text (invalid UTF-8 replaced; for a close frame, the reason).
    pub payload: String,
    /// The payload length in bytes (for a close frame, the whole payload, code included).
    pub len: usize,
    /// A close frame's status code (RFC 6455 5.5.1), when its payload has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_code: Option<u16>,
}

impl ReceivedFrame {
    fn of(frame: &Frame) -> ReceivedFrame {
        let (close_code, text) = if frame.opcode == opcode::CLOSE && frame.payload.len() >= 2 {
            (Some(u16::from_be_bytes([frame.payload[0], frame.payload[1]])), &frame.payload[2..])
        } else {
            (None, &frame.payload[..])
        };
        ReceivedFrame {
            opcode: opcode_name(frame.opcode),
            fin: frame.fin,
            masked: frame.mask.is_some(),
            payload: String::from_utf8_lossy(text).into_owned(),
            len: frame.payload.len(),
            close_code,
        }
    }
}

/// One side's receiving end: buffers partial frames across deliveries, decodes, checks
/// the peer's obligations, reassembles messages.
#[derive(Debug)]
pub struct Receiver {
    side: Side,
    buffer: Vec<u8>,
    failed: bool,
    /// Frames received, in order.
    pub frames: Vec<ReceivedFrame>,
    /// Protocol violations the receiver saw (it decodes nothing after the first).
    pub errors: Vec<String>,
    /// The opcode and payload of the fragmented message being received.
    partial: Option<(u8, Vec<u8>)>,
    /// Whole messages and control frames, in order: (opcode, payload).
    pub messages: Vec<(u8, Vec<u8>)>,
    /// Whether a close frame arrived.
    pub closed: bool,
}

impl Receiver {
    /// The receiving end of `side`.
    pub fn new(side: Side) -> Receiver {
        Receiver { side, buffer: Vec::new(), failed: false, frames: Vec::new(), errors: Vec::new(), partial: None, messages: Vec::new(), closed: false }
    }

    /// Feeds bytes; returns how many whole messages/control frames this completed.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let before = self.messages.len();
        if self.failed {
            return 0;
        }
        self.buffer.extend_from_slice(bytes);
        loop {
            match parse(&self.buffer) {
                Parsed::Incomplete => break,
                Parsed::Invalid(reason) => {
                    self.fail(reason);
                    break;
                }
                Parsed::Frame(frame, used) => {
                    self.buffer.drain(..used);
                    self.frames.push(ReceivedFrame::of(&frame));
                    if let Err(reason) = self.accept(frame) {
                        self.fail(reason);
                        break;
                    }
                }
            }
        }
        self.messages.len() - before
    }

    /// Bytes received that do not make a whole frame yet.
    pub fn pending_bytes(&self) -> usize {
        self.buffer.len()
    }

    fn fail(&mut self, reason: String) {
        let who = match self.side {
            Side::Client => "client",
            Side::Upstream => "upstream",
        };
        self.errors.push(format!("{who}: {reason}"));
        self.failed = true;
    }

    /// RFC 6455 checks on one frame, then message reassembly.
    fn accept(&mut self, frame: Frame) -> Result<(), String> {
        match (self.side, frame.mask.is_some()) {
            (Side::Upstream, false) => return Err("unmasked frame from the client (RFC 6455 5.1)".into()),
            (Side::Client, true) => return Err("masked frame from the server (RFC 6455 5.1)".into()),
            _ => {}
        }
        if frame.rsv != 0 {
            return Err(format!("RSV bits {:03b} set without a negotiated extension (RFC 6455 5.2)", frame.rsv));
        }
        let name = opcode_name(frame.opcode);
        if name.starts_with("reserved") {
            return Err(format!("reserved opcode 0x{:x} (RFC 6455 5.2)", frame.opcode));
        }
        if frame.opcode >= opcode::CLOSE {
            if frame.payload.len() > 125 || !frame.fin {
                return Err(format!("{name} frame fragmented or over 125 bytes (RFC 6455 5.5)"));
            }
            if frame.opcode == opcode::CLOSE {
                self.closed = true;
            }
            self.messages.push((frame.opcode, frame.payload));
            return Ok(());
        }
        match (frame.opcode, self.partial.take()) {
            (opcode::CONTINUATION, None) => return Err("continuation frame outside a fragmented message (RFC 6455 5.4)".into()),
            (opcode::CONTINUATION, Some((first, mut data))) => {
                data.extend_from_slice(&frame.payload);
                self.partial = Some((first, data));
            }
            (_, Some(_)) => return Err(format!("{name} frame inside a fragmented message (RFC 6455 5.4)")),
            (code, None) => self.partial = Some((code, frame.payload)),
        }
        if frame.fin {
            if let Some(message) = self.partial.take() {
                self.messages.push(message);
            }
        }
        Ok(())
    }
}

/// How the built-in upstream behaves after the handshake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamMode {
    /// Answers every whole text/binary message with the same message (one unmasked
    /// frame), a ping with a pong of the same payload, a close with a close of the same
    /// code (RFC 6455 5.5.1-5.5.3), then closes the connection.
    #[default]
    Echo,
    /// Sends only the `from: "upstream"` frames of the file; answers a close with a close
    /// (RFC 6455 5.5.1 requires it) unless the file sent one already.
    Script,
}

/// One frame of a WebSocket stream in a request file:
/// `{"from": "client"|"upstream", "opcode": "text", "payload": "hi"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameStep {
    /// Who sends it.
    pub from: Side,
    /// `text` (default), `binary`, `ping`, `pong`, `close` or `continuation`.
    #[serde(default)]
    pub opcode: Option<String>,
    /// The payload as text (for `close`, the reason).
    #[serde(default)]
    pub payload: Option<String>,
    /// The payload as hex, instead of `payload`.
    #[serde(default)]
    pub payload_hex: Option<String>,
    /// A close frame's status code (default 1000 for `close`).
    #[serde(default)]
    pub code: Option<u16>,
    /// FIN bit (default true).
    #[serde(default)]
    pub fin: Option<bool>,
    /// Split the payload into this many frames (first with the opcode, then
    /// continuation frames, FIN on the last) sent back to back.
    #[serde(default)]
    pub fragments: Option<usize>,
    /// Mask the frame (default: true from the client, false from the upstream).
    #[serde(default)]
    pub mask: Option<bool>,
    /// Send these bytes (hex) as they are instead of a frame, e.g. a malformed one.
    #[serde(default)]
    pub raw_hex: Option<String>,
}

/// Decodes hex (whitespace ignored).
pub fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("hex {text:?}: odd number of digits"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
            u8::from_str_radix(s, 16).map_err(|_| format!("hex {text:?}: {s:?} is not a hex byte"))
        })
        .collect()
}

impl FrameStep {
    /// The bytes this step puts on the wire.
    ///
    /// Errors: an unknown opcode, bad hex, `fragments` 0 or on a control frame.
    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        if let Some(raw) = &self.raw_hex {
            return from_hex(raw);
        }
        let name = self.opcode.as_deref().unwrap_or("text");
        let code = opcode_of(name).ok_or_else(|| format!("unknown opcode {name:?}"))?;
        let mut payload = match (&self.payload_hex, &self.payload) {
            (Some(hex), _) => from_hex(hex)?,
            (None, Some(text)) => text.clone().into_bytes(),
            (None, None) => Vec::new(),
        };
        if code == opcode::CLOSE {
            let mut with_code = self.code.unwrap_or(1000).to_be_bytes().to_vec();
            with_code.append(&mut payload);
            payload = with_code;
        }
        let mask = match self.mask.unwrap_or(self.from == Side::Client) {
            true => Some(CLIENT_MASK),
            false => None,
        };
        let pieces = self.fragments.unwrap_or(1);
        if pieces == 0 || (pieces > 1 && code >= opcode::CLOSE) {
            return Err(format!("fragments {pieces}: must be at least 1, and 1 for control frames"));
        }
        let size = payload.len().div_ceil(pieces).max(1);
        let mut chunks: Vec<Vec<u8>> = payload.chunks(size).map(<[u8]>::to_vec).collect();
        chunks.resize(pieces.max(chunks.len()), Vec::new());
        let last = chunks.len() - 1;
        let mut out = Vec::new();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let opcode = if i == 0 { code } else { opcode::CONTINUATION };
            let fin = if i == last { self.fin.unwrap_or(true) } else { false };
            out.extend(Frame { fin, rsv: 0, opcode, mask, payload: chunk }.encode());
        }
        Ok(out)
    }
}

/// A WebSocket stream in a request file: `{"websocket": {...}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSocketSpec {
    /// The handshake's path.
    pub path: String,
    /// More handshake headers (`Origin`, `Sec-WebSocket-Protocol`, or replacements of
    /// the four the harness adds: `Upgrade: websocket`, `Connection: Upgrade`,
    /// `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`).
    #[serde(default)]
    pub headers: HeadersSpec,
    /// `Sec-WebSocket-Key`; default [`SAMPLE_KEY`].
    #[serde(default)]
    pub key: Option<String>,
    /// The upstream's behaviour after the handshake (`echo` by default).
    #[serde(default)]
    pub upstream: UpstreamMode,
    /// The frames, in the order they are sent.
    #[serde(default)]
    pub frames: Vec<FrameStep>,
}

impl WebSocketSpec {
    /// The handshake as a request: `GET path` with the handshake headers of RFC 6455
    /// 4.1 (`host` defaults to `localhost` as for any request).
    pub fn handshake(&self) -> crate::RequestSpec {
        let mut pairs = self.headers.pairs();
        let key = self.key.clone().unwrap_or_else(|| SAMPLE_KEY.to_string());
        for (name, value) in [("upgrade", "websocket"), ("connection", "Upgrade"), ("sec-websocket-key", key.as_str()), ("sec-websocket-version", "13")] {
            if !pairs.iter().any(|(n, _)| n == name) {
                pairs.push((name.to_string(), value.to_string()));
            }
        }
        let pairs = pairs.into_iter().map(|(n, v)| (n.into(), v.into())).collect();
        crate::RequestSpec { method: Some("GET".into()), path: self.path.clone().into(), headers: HeadersSpec::Pairs(pairs), body: None, upstream: None, incomplete: false }
    }
}

/// Whether `headers` (lowercase names) make a WebSocket handshake: `Upgrade` containing
/// `websocket` and `Connection` containing `upgrade`, case-insensitively (RFC 6455 4.1
/// items 5 and 6).
pub fn is_handshake(headers: &[(String, String)]) -> bool {
    let has = |name: &str, token: &str| {
        headers.iter().any(|(n, v)| n == name && v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    has("upgrade", "websocket") && has("connection", "upgrade")
}

/// The upstream's answer to a handshake it received (RFC 6455 4.2): 101 with `Upgrade`,
/// `Connection` and `Sec-WebSocket-Accept` for a valid one; 426 with
/// `Sec-WebSocket-Version: 13` for another version (4.2.2, 4.4); 400 otherwise.
pub fn upstream_handshake(request: &crate::UpstreamRequest) -> crate::upstream::UpstreamResponse {
    let get = |name: &str| request.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_string());
    let refuse = |status: u16, why: &str, extra: Vec<(String, String)>| {
        let body = format!("websocket handshake refused: {why}\n").into_bytes();
        let mut headers = vec![("content-type".to_string(), "text/plain".to_string()), ("content-length".to_string(), body.len().to_string())];
        headers.extend(extra);
        let headers = headers.into_iter().map(|(n, v)| (n, v.into_bytes())).collect();
        crate::upstream::UpstreamResponse { status, headers, body }
    };
    if request.method != "GET" || !is_handshake(&request.headers) {
        return refuse(400, "not a GET with Upgrade: websocket and Connection: Upgrade", Vec::new());
    }
    if get("sec-websocket-version").as_deref() != Some("13") {
        return refuse(426, "Sec-WebSocket-Version must be 13", vec![("sec-websocket-version".into(), "13".into())]);
    }
    let Some(key) = get("sec-websocket-key").filter(|k| k.len() == 24 && k.ends_with("==")) else {
        return refuse(400, "Sec-WebSocket-Key must be 16 bytes in base64", Vec::new());
    };
    crate::upstream::UpstreamResponse {
        status: 101,
        headers: vec![
            ("upgrade".into(), b"websocket".to_vec()),
            ("connection".into(), b"Upgrade".to_vec()),
            ("sec-websocket-accept".into(), accept_key(&key).into_bytes()),
        ],
        body: Vec::new(),
    }
}

/// The built-in upstream after the handshake: what it answers to the messages it got.
pub struct EchoUpstream {
    mode: UpstreamMode,
    /// Set once the upstream sent a close frame.
    pub sent_close: bool,
}

impl EchoUpstream {
    /// An upstream in `mode`.
    pub fn new(mode: UpstreamMode) -> EchoUpstream {
        EchoUpstream { mode, sent_close: false }
    }

    /// Notes a frame the file has the upstream send (a close counts).
    pub fn sending(&mut self, step_bytes: &[u8]) {
        if let Parsed::Frame(frame, _) = parse(step_bytes) {
            if frame.opcode == opcode::CLOSE {
                self.sent_close = true;
            }
        }
    }

    /// The bytes the upstream sends back for `messages` it just completed.
    pub fn answer(&mut self, messages: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (code, payload) in messages {
            if self.sent_close {
                break;
            }
            let reply = match (*code, self.mode) {
                (opcode::CLOSE, _) => {
                    self.sent_close = true;
                    // Echo the status code (5.5.1); an empty close is answered empty.
                    Frame::new(opcode::CLOSE, payload.get(..2).map(<[u8]>::to_vec).unwrap_or_default())
                }
                (_, UpstreamMode::Script) => continue,
                (opcode::PING, UpstreamMode::Echo) => Frame::new(opcode::PONG, payload.clone()),
                (opcode::PONG, UpstreamMode::Echo) => continue,
                (code, UpstreamMode::Echo) => Frame::new(code, payload.clone()),
            };
            out.extend(reply.encode());
        }
        out
    }
}

/// The result of a WebSocket stream.
#[derive(Debug, Clone, Serialize)]
pub struct WebSocketOutcome {
    /// The handshake as the client saw it (status, headers, body), what the upstream
    /// received, and every log line of the stream (handshake, frames, close, log phase).
    pub handshake: crate::Outcome,
    /// Whether the client got a 101 with the right `Sec-WebSocket-Accept` (RFC 6455 4.1:
    /// otherwise the client fails the connection) and frames were exchanged.
    pub established: bool,
    /// Frames the upstream received, decoded.
    pub upstream_received: Vec<ReceivedFrame>,
    /// Frames the client received, decoded.
    pub client_received: Vec<ReceivedFrame>,
    /// RFC 6455 violations the receivers saw (`client: ...`, `upstream: ...`).
    pub errors: Vec<String>,
    /// Set when the host reset the stream (e.g. a local response after the 101).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_is_the_rfc_example() {
        // RFC 6455 section 1.3.
        assert_eq!(accept_key(SAMPLE_KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }

    #[test]
    fn rfc_examples_decode() {
        // RFC 6455 5.7: a single-frame unmasked text "Hello", and the masked one.
        let Parsed::Frame(f, n) = parse(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]) else { panic!() };
        assert_eq!((f.fin, f.opcode, f.mask, f.payload.as_slice(), n), (true, opcode::TEXT, None, &b"Hello"[..], 7));
        let masked = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        let Parsed::Frame(f, _) = parse(&masked) else { panic!() };
        assert_eq!((f.mask, f.payload.as_slice()), (Some([0x37, 0xfa, 0x21, 0x3d]), &b"Hello"[..]));
        // Our encoder produces exactly the RFC's bytes for the same key.
        assert_eq!(Frame { mask: Some(CLIENT_MASK), ..Frame::new(opcode::TEXT, "Hello") }.encode(), masked);
        // Fragmented "Hel" + "lo".
        let mut r = Receiver::new(Side::Client);
        r.push(&[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);
        assert_eq!(r.messages, vec![(opcode::TEXT, b"Hello".to_vec())]);
        assert_eq!(r.frames.iter().map(|f| (f.opcode.as_str(), f.fin)).collect::<Vec<_>>(), [("text", false), ("continuation", true)]);
        // 256 bytes binary: 16-bit length 0x7E 0x0100; 64 KiB: 64-bit length 0x7F.
        assert_eq!(&Frame::new(opcode::BINARY, vec![0; 256]).encode()[..4], &[0x82, 0x7E, 0x01, 0x00]);
        assert_eq!(&Frame::new(opcode::BINARY, vec![0; 65536]).encode()[..10], &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn every_length_form_round_trips_through_partial_pushes() {
        for len in [0, 1, 125, 126, 127, 65535, 65536, 70000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let bytes = Frame { mask: Some(CLIENT_MASK), ..Frame::new(opcode::BINARY, payload.clone()) }.encode();
            let mut r = Receiver::new(Side::Upstream);
            for piece in bytes.chunks(7) {
                r.push(piece);
            }
            assert_eq!(r.errors, Vec::<String>::new(), "len {len}");
            assert_eq!(r.messages, vec![(opcode::BINARY, payload)], "len {len}");
            assert_eq!(r.pending_bytes(), 0);
        }
    }

    #[test]
    fn control_frames_inside_a_fragmented_message() {
        // RFC 6455 5.4: control frames may be injected between fragments.
        let step = |opcode: &str, payload: &str, fragments: usize| FrameStep {
            from: Side::Client,
            opcode: Some(opcode.into()),
            payload: Some(payload.into()),
            payload_hex: None,
            code: None,
            fin: None,
            fragments: Some(fragments),
            mask: None,
            raw_hex: None,
        };
        let whole = step("text", "abcdef", 3).bytes().unwrap();
        // Split after the first fragment (2 + 4 mask + 2 payload = 8 bytes) and put a ping there.
        let mut bytes = whole[..8].to_vec();
        bytes.extend(step("ping", "p", 1).bytes().unwrap());
        bytes.extend_from_slice(&whole[8..]);
        let mut r = Receiver::new(Side::Upstream);
        r.push(&bytes);
        assert_eq!(r.errors, Vec::<String>::new());
        assert_eq!(r.messages, vec![(opcode::PING, b"p".to_vec()), (opcode::TEXT, b"abcdef".to_vec())]);
        assert!(r.frames.iter().all(|f| f.masked));
    }

    #[test]
    fn receivers_enforce_the_peer_rules() {
        let unmasked = Frame::new(opcode::TEXT, "x").encode();
        let mut server = Receiver::new(Side::Upstream);
        server.push(&unmasked);
        assert!(server.errors[0].contains("unmasked frame from the client"), "{:?}", server.errors);
        let mut client = Receiver::new(Side::Client);
        client.push(&Frame { mask: Some(CLIENT_MASK), ..Frame::new(opcode::TEXT, "x") }.encode());
        assert!(client.errors[0].contains("masked frame from the server"));
        let mut client = Receiver::new(Side::Client);
        client.push(&Frame::new(opcode::PING, vec![0; 126]).encode());
        assert!(client.errors[0].contains("over 125 bytes"));
        let mut client = Receiver::new(Side::Client);
        client.push(&[0x83, 0x00]);
        assert!(client.errors[0].contains("reserved opcode 0x3"));
        let mut client = Receiver::new(Side::Client);
        client.push(&[0x80, 0x00]);
        assert!(client.errors[0].contains("continuation frame outside"));
        assert_eq!(parse(&[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0]), Parsed::Invalid("64-bit payload length with the most significant bit set".into()));
    }

    #[test]
    fn echo_upstream_answers_as_rfc_6455_says() {
        let mut echo = EchoUpstream::new(UpstreamMode::Echo);
        let out = echo.answer(&[(opcode::TEXT, b"hi".to_vec()), (opcode::PING, b"p".to_vec())]);
        let mut client = Receiver::new(Side::Client);
        client.push(&out);
        assert_eq!(client.messages, vec![(opcode::TEXT, b"hi".to_vec()), (opcode::PONG, b"p".to_vec())]);
        let out = echo.answer(&[(opcode::CLOSE, Frame::close(1001, "going").payload)]);
        client.push(&out);
        assert_eq!(client.frames.last().unwrap().close_code, Some(1001));
        assert!(echo.sent_close);
        assert!(echo.answer(&[(opcode::TEXT, b"late".to_vec())]).is_empty(), "nothing after its close (5.5.1)");
    }

    #[test]
    fn handshake_answers() {
        let spec: WebSocketSpec = serde_json::from_value(serde_json::json!({"path": "/chat"})).unwrap();
        let request = spec.handshake();
        let headers = request.headers.pairs().into_iter().map(|(n, v)| (n, v.into_bytes())).collect();
        let upstream = crate::UpstreamRequest::new("GET".into(), b"/chat".to_vec(), headers, Vec::new());
        let answer = upstream_handshake(&upstream);
        assert_eq!(answer.status, 101);
        assert!(answer.headers.contains(&("sec-websocket-accept".into(), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_vec())));
        let mut old = upstream.clone();
        old.headers.retain(|(n, _)| n != "sec-websocket-version");
        old.headers.push(("sec-websocket-version".into(), "8".into()));
        assert_eq!(upstream_handshake(&old).status, 426);
        let mut plain = upstream;
        plain.headers.retain(|(n, _)| n != "upgrade");
        assert_eq!(upstream_handshake(&plain).status, 400);
    }
}
