//! RFC 6455 WebSocket frames: a decoder that takes bytes as the host hands them over
//! (a frame may straddle body callbacks) and an encoder for the frames the filter sends on.
//!
//! Our own code, not a crate: the well-kept codecs either carry an I/O stack we do not
//! need (`tungstenite` pulls `rand`/`getrandom`, `bytes`, `thiserror`, `log` and its
//! `Read`/`Write` protocol types) or are tied to async runtimes (`websocket-codec`: tokio;
//! `soketto`, `ratchet_core`: futures), and the shipped module has about 16 KiB left under
//! its 1.5 MiB target.
//!
//! What the phases see is a [`Message`]: a whole data message (its fragments joined, as
//! Kong's WebSocket proxy aggregates them; `kong.websocket.*.get_frame` never reports a
//! continuation) or one control frame (ping, pong, close), which may arrive between the
//! fragments of a data message (RFC 6455 section 5.4).

#[cfg(test)]
mod tests;

/// Close status codes the filter sends (RFC 6455 section 7.4.1).
pub mod status {
    /// 1000: normal closure.
    pub const NORMAL: u16 = 1000;
    /// 1002: the peer broke the protocol (a malformed frame).
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// 1009: a message too big to process (over the maximum payload size).
    pub const TOO_BIG: u16 = 1009;
}

/// The default maximum payload of a data message, fragments joined: 1 MiB. Kong's own
/// default (`const.WEBSOCKET.MAX_PAYLOAD_SIZE`, also the ceiling of `set_max_payload_size`)
/// is not in its public source; control frames are at most 125 bytes anyway.
pub const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;

/// The type of a message, with Kong's names (`get_frame`'s second value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Opcode 0x1.
    Text,
    /// Opcode 0x2.
    Binary,
    /// Opcode 0x8.
    Close,
    /// Opcode 0x9.
    Ping,
    /// Opcode 0xA.
    Pong,
}

impl Kind {
    /// `"text"`, `"binary"`, `"close"`, `"ping"` or `"pong"`, as Kong's `get_frame`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Binary => "binary",
            Kind::Close => "close",
            Kind::Ping => "ping",
            Kind::Pong => "pong",
        }
    }

    fn opcode(self) -> u8 {
        match self {
            Kind::Text => 0x1,
            Kind::Binary => 0x2,
            Kind::Close => 0x8,
            Kind::Ping => 0x9,
            Kind::Pong => 0xA,
        }
    }

    fn from_opcode(opcode: u8) -> Option<Kind> {
        Some(match opcode {
            0x1 => Kind::Text,
            0x2 => Kind::Binary,
            0x8 => Kind::Close,
            0x9 => Kind::Ping,
            0xA => Kind::Pong,
            _ => return None,
        })
    }

    fn is_control(self) -> bool {
        matches!(self, Kind::Close | Kind::Ping | Kind::Pong)
    }
}

/// One message as the phases see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its type.
    pub kind: Kind,
    /// The payload, unmasked; for a close frame, the reason after the status code.
    pub payload: Vec<u8>,
    /// A close frame's status code; `None` for other kinds and for a close frame without one.
    pub status: Option<u16>,
    /// The masking key the sender used (its first fragment's), kept so the frame sent on
    /// is masked as unpredictably as the sender masked it; `None` for unmasked frames.
    pub mask: Option<[u8; 4]>,
}

impl Message {
    /// A message of `kind` with `payload`, no status, no mask.
    pub fn new(kind: Kind, payload: Vec<u8>) -> Message {
        Message { kind, payload, status: None, mask: None }
    }

    /// A close frame with `status` and `reason`.
    pub fn close(status: u16, reason: &[u8]) -> Message {
        Message { kind: Kind::Close, payload: reason.to_vec(), status: Some(status), mask: None }
    }
}

/// Which peer sent the bytes: client frames must be masked, upstream frames must not be
/// (RFC 6455 section 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Client to upstream.
    Client,
    /// Upstream to client.
    Upstream,
}

impl Side {
    /// `"client"` or `"upstream"`, as Kong's `kong.websocket.<side>`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Upstream => "upstream",
        }
    }
}

/// Why decoding stopped; every later byte from that peer is discarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The bytes break RFC 6455 (close with 1002): what was wrong.
    Protocol(&'static str),
    /// A message's payload passed the maximum (close with 1009): its size so far and the limit.
    TooBig(u64, usize),
}

impl FrameError {
    /// The close status this error calls for: 1002 or 1009.
    pub fn status(&self) -> u16 {
        match self {
            FrameError::Protocol(_) => status::PROTOCOL_ERROR,
            FrameError::TooBig(..) => status::TOO_BIG,
        }
    }
}

/// A frame header, parsed.
struct Header {
    fin: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    len: u64,
    size: usize,
}

/// The header at the start of `buf`: `Ok(None)` until all of it arrived.
fn parse_header(buf: &[u8]) -> Result<Option<Header>, FrameError> {
    let [b0, b1, ..] = *buf else { return Ok(None) };
    if b0 & 0x70 != 0 {
        // No extension was negotiated through the filter, so RSV bits must be 0.
        return Err(FrameError::Protocol("reserved bits set"));
    }
    let (len, mut size) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let len = u64::from_be_bytes(b.try_into().unwrap_or_default());
                if len >> 63 != 0 {
                    return Err(FrameError::Protocol("64-bit length with the most significant bit set"));
                }
                (len, 10)
            }
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    let mask = if b1 & 0x80 != 0 {
        let Some(key) = buf.get(size..size + 4) else { return Ok(None) };
        size += 4;
        Some([key[0], key[1], key[2], key[3]])
    } else {
        None
    };
    Ok(Some(Header { fin: b0 & 0x80 != 0, opcode: b0 & 0x0F, mask, len, size }))
}

/// XORs `data` with `key` in place (RFC 6455 section 5.3); masking and unmasking are one.
pub fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    for (i, byte) in data.iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

/// Close codes a peer may send (RFC 6455 section 7.4: 1000-1003, 1007-1014 registered,
/// 3000-4999 for libraries and applications).
fn valid_close_status(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Decodes one peer's byte stream into [`Message`]s, across as many pushes as it takes.
#[derive(Debug)]
pub struct Decoder {
    side: Side,
    /// Bytes of a frame not yet complete.
    buf: Vec<u8>,
    /// The data message being assembled from fragments: its kind, payload so far, mask.
    partial: Option<Message>,
    max_payload: usize,
    failed: bool,
}

impl Decoder {
    /// A decoder for frames from `side`, with messages up to `max_payload` bytes.
    pub fn new(side: Side, max_payload: usize) -> Decoder {
        Decoder { side, buf: Vec::new(), partial: None, max_payload, failed: false }
    }

    /// Changes the maximum message payload (Kong's `set_max_payload_size`).
    pub fn set_max_payload(&mut self, max_payload: usize) {
        self.max_payload = max_payload;
    }

    /// Whether a decode error stopped this decoder (later bytes are discarded).
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Bytes held for a frame or message not complete yet: at most the maximum payload
    /// plus one frame header (14 bytes) and the fragments of the message being assembled.
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.partial.as_ref().map_or(0, |m| m.payload.len())
    }

    /// Appends `bytes` and returns every message they complete, in order, then the error
    /// that stopped decoding, if any: the messages before a bad frame are never lost.
    pub fn push(&mut self, bytes: &[u8]) -> (Vec<Message>, Option<FrameError>) {
        if self.failed {
            return (Vec::new(), None);
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.extend_from_slice(bytes);
        let mut messages = Vec::new();
        let mut start = 0;
        let error = loop {
            match self.next_frame(&buf[start..]) {
                Ok(Some((used, message))) => {
                    start += used;
                    messages.extend(message);
                }
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        buf.drain(..start);
        self.buf = buf;
        if error.is_some() {
            self.failed = true;
            self.buf = Vec::new();
            self.partial = None;
        }
        (messages, error)
    }

    /// Decodes the frame at the start of `buf`: the bytes it took and the message it
    /// completed (none for a fragment that is not the last); `Ok(None)` until it is whole.
    fn next_frame(&mut self, buf: &[u8]) -> Result<Option<(usize, Option<Message>)>, FrameError> {
        let Some(header) = parse_header(buf)? else { return Ok(None) };
        let masked = header.mask.is_some();
        match self.side {
            Side::Client if !masked => return Err(FrameError::Protocol("client frame not masked")),
            Side::Upstream if masked => return Err(FrameError::Protocol("upstream frame masked")),
            _ => {}
        }
        let kind = match header.opcode {
            0x0 => None,
            op => Some(Kind::from_opcode(op).ok_or(FrameError::Protocol("reserved opcode"))?),
        };
        if let Some(kind) = kind.filter(|k| k.is_control()) {
            if !header.fin {
                return Err(FrameError::Protocol("fragmented control frame"));
            }
            if header.len > 125 {
                return Err(FrameError::Protocol("control frame payload over 125 bytes"));
            }
            let Some(payload) = self.payload(buf, &header) else { return Ok(None) };
            return Ok(Some((header.size + payload.len(), Some(control(kind, payload, header.mask)?))));
        }
        let mut message = match (kind, self.partial.take()) {
            (None, None) => return Err(FrameError::Protocol("continuation frame without a message to continue")),
            (Some(_), Some(_)) => return Err(FrameError::Protocol("new data frame inside a fragmented message")),
            (None, Some(partial)) => partial,
            (Some(kind), None) => Message { kind, payload: Vec::new(), status: None, mask: header.mask },
        };
        let total = (message.payload.len() as u64).saturating_add(header.len);
        if total > self.max_payload as u64 {
            return Err(FrameError::TooBig(total, self.max_payload));
        }
        let Some(payload) = self.payload(buf, &header) else {
            // Not all in yet: a continuation puts the fragments so far back; a first
            // frame is parsed again, header and all, when the rest arrives.
            if kind.is_none() {
                self.partial = Some(message);
            }
            return Ok(None);
        };
        message.payload.extend_from_slice(&payload);
        let used = header.size + payload.len();
        if header.fin {
            Ok(Some((used, Some(message))))
        } else {
            self.partial = Some(message);
            Ok(Some((used, None)))
        }
    }

    /// The frame's payload, unmasked, once all of it is in `buf`.
    fn payload(&self, buf: &[u8], header: &Header) -> Option<Vec<u8>> {
        let len = usize::try_from(header.len).ok()?;
        let mut payload = buf.get(header.size..header.size.checked_add(len)?)?.to_vec();
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key);
        }
        Some(payload)
    }
}

/// A control frame as a message: a close frame's status code split from its reason.
fn control(kind: Kind, payload: Vec<u8>, mask: Option<[u8; 4]>) -> Result<Message, FrameError> {
    if kind != Kind::Close || payload.is_empty() {
        return Ok(Message { kind, payload, status: None, mask });
    }
    let [hi, lo, ..] = payload[..] else {
        return Err(FrameError::Protocol("close frame with a 1-byte payload"));
    };
    let code = u16::from_be_bytes([hi, lo]);
    if !valid_close_status(code) {
        return Err(FrameError::Protocol("close frame with an invalid status code"));
    }
    Ok(Message { kind, payload: payload[2..].to_vec(), status: Some(code), mask })
}

/// One frame (FIN set) carrying `message`, masked with `mask` when given: the length in
/// the shortest of the 7-, 16- and 64-bit forms. A close frame's payload is its status
/// code then the reason; control payloads over 125 bytes are cut to 125.
pub fn encode(message: &Message, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut payload = Vec::with_capacity(message.payload.len() + 2);
    if let (Kind::Close, Some(code)) = (message.kind, message.status) {
        payload.extend_from_slice(&code.to_be_bytes());
    }
    payload.extend_from_slice(&message.payload);
    if message.kind.is_control() {
        payload.truncate(125);
    }
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(0x80 | message.kind.opcode());
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
        apply_mask(&mut payload, key);
    }
    out.extend_from_slice(&payload);
    out
}
