//! The frame codec against RFC 6455's own examples (section 5.7) and its rules.

use super::*;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn client() -> Decoder {
    Decoder::new(Side::Client, DEFAULT_MAX_PAYLOAD)
}

fn upstream() -> Decoder {
    Decoder::new(Side::Upstream, DEFAULT_MAX_PAYLOAD)
}

/// A raw frame: `first` byte (FIN, opcode), payload, masked with `mask` when given.
fn frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut bytes = encode(&Message::new(Kind::Binary, payload.to_vec()), mask);
    bytes[0] = first;
    bytes
}

#[test]
fn rfc_examples_decode() {
    // RFC 6455 5.7: a single-frame unmasked text message, and the same masked.
    let (messages, error) = upstream().push(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(error, None);
    assert_eq!(messages, vec![Message::new(Kind::Text, b"Hello".to_vec())]);
    let masked = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    let (messages, error) = client().push(&masked);
    assert_eq!(error, None);
    assert_eq!(messages[0].payload, b"Hello");
    assert_eq!(messages[0].mask, Some(KEY));
    // 5.7: a fragmented unmasked text message, "Hel" then "lo".
    let (messages, _) = upstream().push(&[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);
    assert_eq!(messages, vec![Message::new(Kind::Text, b"Hello".to_vec())]);
    // 5.7: unmasked ping with "Hello".
    let (messages, _) = upstream().push(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(messages[0].kind, Kind::Ping);
}

#[test]
fn rfc_examples_encode() {
    assert_eq!(encode(&Message::new(Kind::Text, b"Hello".to_vec()), None), [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(
        encode(&Message::new(Kind::Text, b"Hello".to_vec()), Some(KEY)),
        [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    );
    // 5.7: 256 bytes binary in one unmasked frame: 16-bit length 0x0100.
    assert_eq!(encode(&Message::new(Kind::Binary, vec![0; 256]), None)[..4], [0x82, 0x7E, 0x01, 0x00]);
    // 5.7: 64 KiB: 64-bit length.
    assert_eq!(
        encode(&Message::new(Kind::Binary, vec![0; 65536]), None)[..10],
        [0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]
    );
}

#[test]
fn every_length_form_round_trips_masked_and_not() {
    // The edges of the 7-bit (0..=125), 16-bit (126..=65535) and 64-bit forms.
    for len in [0, 1, 125, 126, 127, 65535, 65536, 70000] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let message = Message::new(Kind::Binary, payload.clone());
        let header = match len {
            0..=125 => 2,
            126..=65535 => 4,
            _ => 10,
        };
        let plain = encode(&message, None);
        assert_eq!(plain.len(), header + len, "length form for {len}");
        let (got, error) = upstream().push(&plain);
        assert_eq!((got[0].payload.len(), error), (len, None));
        assert_eq!(got[0].payload, payload);

        let masked = encode(&message, Some(KEY));
        assert_eq!(masked.len(), header + 4 + len);
        let (got, error) = client().push(&masked);
        assert_eq!(error, None);
        assert_eq!(got[0].payload, payload);
    }
}

#[test]
fn a_partial_frame_waits_for_its_rest_byte_by_byte() {
    // Two frames, fed one byte at a time, as a host may split them across callbacks.
    let mut bytes = encode(&Message::new(Kind::Text, vec![b'a'; 300]), Some(KEY));
    bytes.extend(encode(&Message::close(1000, b"bye"), Some(KEY)));
    let mut decoder = client();
    let mut messages = Vec::new();
    for (i, byte) in bytes.iter().enumerate() {
        let (got, error) = decoder.push(&[*byte]);
        assert_eq!(error, None);
        if i + 1 < 304 {
            assert!(got.is_empty(), "a message before its last byte, at {i}");
        }
        messages.extend(got);
    }
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].payload, vec![b'a'; 300]);
    assert_eq!((messages[1].kind, messages[1].status, &messages[1].payload[..]), (Kind::Close, Some(1000), &b"bye"[..]));
    assert_eq!(decoder.buffered(), 0);
}

#[test]
fn control_frames_between_fragments_come_out_first() {
    // Text "Hel" (no FIN), ping, continuation "lo" (FIN): RFC 6455 5.4 allows the ping there.
    let mut bytes = frame(0x01, b"Hel", Some(KEY));
    bytes.extend(frame(0x89, b"p", Some(KEY)));
    bytes.extend(frame(0x00, b"l", Some(KEY)));
    bytes.extend(frame(0x8A, b"", Some(KEY)));
    bytes.extend(frame(0x80, b"o", Some(KEY)));
    let (messages, error) = client().push(&bytes);
    assert_eq!(error, None);
    let kinds: Vec<(Kind, &[u8])> = messages.iter().map(|m| (m.kind, &m.payload[..])).collect();
    assert_eq!(kinds, vec![(Kind::Ping, &b"p"[..]), (Kind::Pong, &b""[..]), (Kind::Text, &b"Hello"[..])]);
    // The joined message keeps its first fragment's mask and goes on as one frame.
    assert_eq!(encode(&messages[2], messages[2].mask), encode(&Message::new(Kind::Text, b"Hello".to_vec()), Some(KEY)));
}

#[test]
fn fragments_split_across_pushes_join() {
    let mut bytes = frame(0x02, &[1; 10], None);
    bytes.extend(frame(0x00, &[2; 200], None));
    bytes.extend(frame(0x80, &[3; 5], None));
    let mut decoder = upstream();
    let (first, _) = decoder.push(&bytes[..150]);
    assert!(first.is_empty());
    assert!(decoder.buffered() > 0);
    let (rest, error) = decoder.push(&bytes[150..]);
    assert_eq!(error, None);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].kind, Kind::Binary);
    assert_eq!(rest[0].payload.len(), 215);
}

#[test]
fn malformed_frames_are_protocol_errors_after_the_good_ones() {
    let good = encode(&Message::new(Kind::Text, b"ok".to_vec()), Some(KEY));
    let cases: [(Vec<u8>, &str); 8] = [
        (frame(0x81, b"x", None), "client frame not masked"),
        (vec![0xC1, 0x80, 0, 0, 0, 0], "reserved bits set"),
        (frame(0x83, b"", Some(KEY)), "reserved opcode"),
        (frame(0x09, b"", Some(KEY)), "fragmented control frame"),
        (frame(0x80, b"x", Some(KEY)), "continuation frame without a message to continue"),
        ([frame(0x01, b"a", Some(KEY)), frame(0x81, b"b", Some(KEY))].concat(), "new data frame inside a fragmented message"),
        (frame(0x88, b"\x03", Some(KEY)), "close frame with a 1-byte payload"),
        (frame(0x88, &1005u16.to_be_bytes(), Some(KEY)), "close frame with an invalid status code"),
    ];
    for (bad, what) in cases {
        let mut decoder = client();
        let (messages, error) = decoder.push(&[good.clone(), bad, good.clone()].concat());
        assert_eq!(error, Some(FrameError::Protocol(what)));
        assert_eq!(error.as_ref().map(FrameError::status), Some(status::PROTOCOL_ERROR));
        assert_eq!(messages, vec![Message { mask: Some(KEY), ..Message::new(Kind::Text, b"ok".to_vec()) }], "{what}");
        // Nothing more comes from a failed decoder.
        assert_eq!(decoder.push(&good), (Vec::new(), None));
        assert!(decoder.failed());
    }
    let mut long_ping = vec![0x89, 0xFE, 0x00, 0x7E];
    long_ping.extend(KEY);
    assert_eq!(client().push(&long_ping).1, Some(FrameError::Protocol("control frame payload over 125 bytes")));
    let huge = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(upstream().push(&huge).1, Some(FrameError::Protocol("64-bit length with the most significant bit set")));
    assert_eq!(upstream().push(&frame(0x81, b"x", Some(KEY))).1, Some(FrameError::Protocol("upstream frame masked")));
}

#[test]
fn the_payload_limit_counts_joined_fragments_and_is_checked_before_buffering() {
    // Kong's set_max_payload_size: limit 1024, three 500-byte fragments: the third fails.
    let mut decoder = Decoder::new(Side::Upstream, 1024);
    let mut bytes = frame(0x01, &[b'a'; 500], None);
    bytes.extend(frame(0x00, &[b'a'; 500], None));
    bytes.extend(frame(0x80, &[b'a'; 500], None));
    let (messages, error) = decoder.push(&bytes);
    assert!(messages.is_empty());
    assert_eq!(error, Some(FrameError::TooBig(1500, 1024)));
    assert_eq!(error.map(|e| e.status()), Some(status::TOO_BIG));
    // A header announcing a huge frame fails at once: the payload is never waited for.
    let mut decoder = Decoder::new(Side::Upstream, 1024);
    let (_, error) = decoder.push(&[0x82, 0x7F, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert_eq!(error, Some(FrameError::TooBig(1 << 32, 1024)));
    // Control frames are not subject to it.
    let mut decoder = Decoder::new(Side::Upstream, 1);
    assert_eq!(decoder.push(&frame(0x89, b"ping!", None)).0.len(), 1);
}

#[test]
fn close_frames_carry_status_and_reason() {
    let bytes = encode(&Message::close(1001, b"going away"), None);
    assert_eq!(&bytes[..4], [0x88, 12, 0x03, 0xE9]);
    let (messages, _) = upstream().push(&bytes);
    assert_eq!(messages[0], Message::close(1001, b"going away"));
    // An empty close frame has no status.
    let (messages, _) = upstream().push(&[0x88, 0x00]);
    assert_eq!((messages[0].kind, messages[0].status), (Kind::Close, None));
    assert_eq!(encode(&messages[0], None), [0x88, 0x00]);
}
