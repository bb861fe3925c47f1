//! Property tests of every parser that sees admin or client input: bounded (a few hundred
//! cases each, in `cargo test`), the part of fuzzing that runs on every change. The
//! property is the one a gateway needs: any input ends in a value or an error, never a
//! panic (a panic in the filter aborts the instance and every request on it), within the
//! bounds the caller set.

use proptest::prelude::*;

use crate::lua::stdlib::{pattern, sprintf};
use crate::pdk::{args, json};

fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() }
}

/// Bytes shaped like the input: mostly the characters the parser cares about.
fn shaped(alphabet: &'static [u8], max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![prop::sample::select(alphabet), any::<u8>()], 0..max)
}

/// Bytes from a small alphabet only, so that short patterns match often.
fn few(alphabet: &'static [u8], max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(alphabet), 0..max)
}

/// A Lua pattern that often starts with literal bytes: up to 4 literals, then up to 5
/// items and specials (optionally anchored).
fn lua_pattern_shape() -> impl Strategy<Value = Vec<u8>> {
    (any::<bool>(), few(b"ab%.", 4), few(b"ab%.+-*?[]()", 5)).prop_map(|(anchor, head, tail)| {
        let mut pattern = if anchor { b"^".to_vec() } else { Vec::new() };
        pattern.extend(head);
        pattern.extend(tail);
        pattern
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn query_decoding_keeps_its_bound_and_escaping_round_trips(query in shaped(b"a=&%+2F;?", 200), max in 0usize..8, value in any::<Vec<u8>>()) {
        let decoded = args::decode(&query, max);
        if max > 0 {
            prop_assert!(decoded.pairs.len() <= max);
        }
        prop_assert_eq!(args::unescape(&args::escape_component(&value)), value);
    }

    #[test]
    fn lua_patterns_end_within_their_budget(subject in shaped(b"ab(%", 64), pat in shaped(b"%a.*+-?[]^$()b1", 24)) {
        let mut budget = pattern::Budget::new(2_000);
        let found = pattern::find(&subject, &pat, 0, &mut budget);
        // A spent budget ends the match with Lua's error, never a hang or a wrong match.
        if budget.remaining == 0 {
            prop_assert!(found.is_err());
        }
    }

    #[test]
    fn format_strings_parse_or_fail_cleanly(format in shaped(b"%-+ #0123456789.dsqxXfgeac", 40), n in any::<f64>()) {
        if let Ok(pieces) = sprintf::parse(&format) {
            let mut out = Vec::new();
            for piece in pieces {
                if let sprintf::Piece::Spec(spec) = piece {
                    let _ = sprintf::format_number(&spec, n, &mut out);
                    sprintf::format_string(&spec, b"text", &mut out);
                }
            }
        }
    }

    #[test]
    fn plugin_and_vm_configurations_are_accepted_or_refused(bytes in shaped(br#"{}[]":,accesslog "#, 120)) {
        let _ = crate::config::PluginConfig::parse(&bytes);
        let _ = crate::vm_config::VmConfig::parse(&bytes);
    }

    #[test]
    fn json_decoding_ends_in_a_value_or_an_error(text in shaped(br#"{}[]":,0123456789.eE+-truefalsnul\u"#, 200)) {
        let mut lua = crate::lua::new_state();
        lua.enter(|ctx| {
            let _ = json::decode(ctx, &text, &json::DecodeConfig::default());
        });
    }

    #[test]
    fn lua_source_compiles_or_names_its_error(source in shaped(b"local function end if then x = 1 .. ( ) [ ] { } \" ' -- \n", 200)) {
        let mut lua = crate::lua::new_state();
        lua.enter(|ctx| {
            let env = piccolo::Table::new(&ctx);
            let _ = crate::lua::compile::load(ctx, "access[1]", source.as_slice(), env);
        });
    }

    #[test]
    fn websocket_bytes_decode_or_fail_cleanly_in_any_split(bytes in shaped(&[0x00, 0x01, 0x02, 0x08, 0x09, 0x81, 0x82, 0x88, 0x7E, 0x7F, 0x80, 0xFE, 0xFF], 300), cut in 0usize..300, client in any::<bool>(), limit in 0usize..400) {
        use crate::websocket::{Decoder, Side};
        let side = if client { Side::Client } else { Side::Upstream };
        let mut decoder = Decoder::new(side, limit);
        let cut = cut.min(bytes.len());
        let (mut messages, first_error) = decoder.push(&bytes[..cut]);
        let (more, second_error) = decoder.push(&bytes[cut..]);
        messages.extend(more);
        // Within bounds: no message over the limit, nothing held past one frame's worth.
        prop_assert!(messages.iter().all(|m| m.payload.len() <= limit.max(125)));
        prop_assert!(decoder.buffered() <= bytes.len());
        prop_assert!(first_error.is_none() || second_error.is_none());
    }

    #[test]
    fn websocket_messages_round_trip_in_any_split(payloads in prop::collection::vec((0u8..5, prop::collection::vec(any::<u8>(), 0..300)), 1..6), cuts in prop::collection::vec(0usize..2000, 0..6), key in any::<[u8; 4]>()) {
        use crate::websocket::{encode, Decoder, Kind, Message, Side};
        let messages: Vec<Message> = payloads.into_iter().map(|(k, mut payload)| {
            let kind = [Kind::Text, Kind::Binary, Kind::Ping, Kind::Pong, Kind::Close][k as usize];
            if kind != Kind::Text && kind != Kind::Binary {
                payload.truncate(123);
            }
            let mut m = Message::new(kind, payload);
            if kind == Kind::Close {
                m.status = Some(1000);
            }
            m.mask = Some(key);
            m
        }).collect();
        let bytes: Vec<u8> = messages.iter().flat_map(|m| encode(m, Some(key))).collect();
        let mut decoder = Decoder::new(Side::Client, 1 << 20);
        let mut got = Vec::new();
        let mut start = 0;
        let mut points: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
        points.sort_unstable();
        points.push(bytes.len());
        for end in points {
            let (m, error) = decoder.push(&bytes[start..end.max(start)]);
            prop_assert!(error.is_none());
            got.extend(m);
            start = end.max(start);
        }
        prop_assert_eq!(got, messages);
    }
}

proptest! {
    // Cheap cases, and the interesting ones (a literal prefix that first mismatches one
    // byte before it matches) are rare: many more cases than the parsers get.
    #![proptest_config(ProptestConfig { cases: 8192, ..config() })]

    #[test]
    fn lua_pattern_scanning_skips_only_positions_that_cannot_match(subject in few(b"ab%.", 40), pat in lua_pattern_shape(), init in prop_oneof![Just(0usize), 0usize..42]) {
        // Skipping to a pattern's first literal or class must find what trying every
        // offset finds (lstrlib's loop): the same match, captures, or error.
        let init = init.min(subject.len());
        let mut reference_budget = pattern::Budget::new(100_000);
        let reference = pattern::find_every_offset(&subject, &pat, init, &mut reference_budget);
        let spent = matches!(&reference, Err(e) if e.message == "pattern too complex");
        if !spent {
            let mut budget = pattern::Budget::new(100_000);
            prop_assert_eq!(pattern::find(&subject, &pat, init, &mut budget), reference);
        }
    }
}
