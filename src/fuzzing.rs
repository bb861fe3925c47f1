//! Entry points for the coverage-guided fuzz targets (`tests/fuzz`, `make fuzz`), built
//! only with the `fuzzing` feature. Each takes raw bytes, as the filter receives them
//! from an admin (configuration, Lua source) or a client (request parts), and returns
//! nothing: the property under test is that no input panics, hangs or grows memory past
//! the bounds the filter sets. Not an API: the shipped module never has this feature.

use std::cell::RefCell;
use std::rc::Rc;

use crate::config::{PluginConfig, Role};
use crate::lua::stdlib::{pattern, sprintf};
use crate::pdk::testing::FakeHost;
use crate::pdk::{args, json};
use crate::phase::Phase;
use crate::runtime::{RequestState, Runtime};
use crate::vm_config::{Limits, VmConfig};

/// The plugin configuration and the VM configuration parsers (`proxy_on_configure`,
/// `proxy_on_vm_start`) on the same bytes.
pub fn configuration(data: &[u8]) {
    let _ = PluginConfig::parse(data);
    let _ = VmConfig::parse(data);
}

/// Limits small enough that one fuzz input runs in milliseconds, shaped as the real ones.
fn fuzz_limits() -> Limits {
    Limits { instructions: 200_000, memory_bytes: 16 * 1024 * 1024, string_bytes: 1024 * 1024, ..Limits::default() }
}

/// Lua source as an admin's `access` chunk: parsed, compiled and, when it compiles, run
/// once (its returned function too, Kong's first-run rule) under [`fuzz_limits`], with
/// `untrusted_lua = on` so the whole standard library is reachable.
pub fn lua_source(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        // Kong's configuration is JSON: chunk sources are always UTF-8 text.
        return;
    };
    let config = PluginConfig { phases: vec![(Phase::Access, vec![source.to_string()])], role: None, shared_data_zone: None };
    let vm = VmConfig { untrusted_lua: crate::sandbox::Mode::On, limits: fuzz_limits(), ..VmConfig::default() };
    let host = Rc::new(FakeHost::with_request(&[(":method", "GET"), (":path", "/fuzz?a=1")]));
    if let Ok(mut runtime) = Runtime::with_vm_config(&config, Role::PreFunction, host, &vm) {
        for _ in 0..2 {
            runtime.run_phase(Phase::Access, &mut RequestState::default());
        }
    }
}

/// Splits `data` at the first `sep`: (before, after); no `sep` gives (data, empty).
fn split_once(data: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == sep) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// The Lua pattern engine (`string.find`/`match`/`gmatch`/`gsub`): `pattern NUL subject`,
/// every start offset, under a step budget as the string library sets one.
pub fn lua_pattern(data: &[u8]) {
    let (pat, subject) = split_once(data, 0);
    let mut budget = pattern::Budget::new(100_000);
    let found = pattern::find(subject, pat, 0, &mut budget);
    // The scan's skipping must agree with trying every offset (a mismatch is a crash).
    let mut budget = pattern::Budget::new(100_000);
    let reference = pattern::find_every_offset(subject, pat, 0, &mut budget);
    if !matches!(&reference, Err(e) if e.message == "pattern too complex") {
        assert_eq!(found, reference, "find and find_every_offset disagree");
    }
    for at in 0..=subject.len().min(16) {
        let mut budget = pattern::Budget::new(10_000);
        let _ = pattern::match_at(subject, pat, at, &mut budget);
    }
}

/// `string.format`'s parser and conversions: the format, then a number taken from the
/// bytes after the first NUL (as f64 bits when there are 8, else its text).
pub fn string_format(data: &[u8]) {
    let (format, arg) = split_once(data, 0);
    let number = match <[u8; 8]>::try_from(arg) {
        Ok(bits) => f64::from_bits(u64::from_le_bytes(bits)),
        Err(_) => std::str::from_utf8(arg).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(1.5),
    };
    let Ok(pieces) = sprintf::parse(format) else { return };
    let mut out = Vec::new();
    for piece in pieces {
        if let sprintf::Piece::Spec(spec) = piece {
            let _ = sprintf::format_number(&spec, number, &mut out);
            sprintf::format_string(&spec, arg, &mut out);
        }
    }
    sprintf::quote_string(arg, &mut out);
    sprintf::quote_number(number, &mut out);
}

thread_local! {
    static JSON_STATE: RefCell<piccolo::Lua> = RefCell::new(crate::lua::new_state());
}

/// JSON decoding as `kong.request.get_body` / Kong's `cjson.safe` decode it (the default
/// settings) and as lua-cjson's strict settings (`decode_invalid_numbers(false)`, a
/// shallow `decode_max_depth`, `decode_array_with_array_mt(true)`), then the value encoded
/// back.
pub fn json_decode(data: &[u8]) {
    JSON_STATE.with(|lua| {
        let mut lua = lua.borrow_mut();
        lua.enter(|ctx| {
            let default = json::DecodeConfig::default();
            if let Ok(value) = json::decode(ctx, data, &default) {
                let _ = json::encode(ctx, value);
            }
            let strict = json::DecodeConfig { invalid_numbers: false, max_depth: 20, array_with_array_mt: true, ..default };
            let _ = json::decode(ctx, data, &strict);
        });
        lua.gc_collect();
    });
}

/// Query strings and `application/x-www-form-urlencoded` bodies (`kong.request.get_query`,
/// `get_body`, `ngx.decode_args`): decoded with and without Kong's default `max_args`,
/// each key and value escaped again and unescaped back.
pub fn query_args(data: &[u8]) {
    let _ = args::decode(data, 100);
    for (key, value) in args::decode(data, 0).pairs {
        assert_eq!(args::unescape(&args::escape_component(&key)), key, "escaping round trip");
        if let args::ArgValue::Text(value) = value {
            assert_eq!(args::unescape(&args::escape_component(&value)), value, "escaping round trip");
        }
    }
    let _ = args::escape_path(data);
}

/// `multipart/form-data` bodies (`crate::codec::multipart`, lua-multipart's rules): `content-type value NUL body`.
pub fn multipart(data: &[u8]) {
    let (content_type, body) = split_once(data, 0);
    let _ = crate::codec::multipart::parse(body, content_type);
    let _ = crate::codec::multipart::parse(data, b"multipart/form-data; boundary=X");
}

/// A chunk that reads and writes back every request part a client controls: headers
/// (names, values, repeats), cookies, path, query, and the body as JSON, form or
/// multipart, then answers with a header value and a body taken from the request.
const REQUEST_CHUNK: &str = r#"
local headers = kong.request.get_headers()
local query = kong.request.get_query()
kong.request.get_path()
kong.request.get_raw_path()
kong.request.get_path_with_query()
kong.request.get_raw_query()
kong.request.get_header("cookie")
local _ = ngx.var.cookie_session, ngx.var.http_x_a, ngx.var.arg_a, ngx.var.request_uri, ngx.var.args
local body = kong.request.get_body()
kong.request.get_raw_body()
ngx.req.read_body()
pcall(ngx.req.get_post_args)
ngx.req.get_uri_args()
ngx.req.get_headers()
for name, value in pairs(headers) do
  pcall(kong.service.request.set_header, name, value)
  pcall(kong.response.add_header, name, value)
end
pcall(kong.service.request.set_query, query)
if type(body) == "table" then pcall(kong.service.request.set_body, body) end
local exit = kong.request.get_header("x-exit")
if exit then
  return kong.response.exit(200, exit, { ["x-exit"] = exit })
end
"#;

thread_local! {
    static REQUEST: RefCell<Option<(Runtime, Rc<FakeHost>)>> = const { RefCell::new(None) };
}

fn request_runtime() -> (Runtime, Rc<FakeHost>) {
    let config = PluginConfig { phases: vec![(Phase::Access, vec![REQUEST_CHUNK.to_string()])], role: None, shared_data_zone: None };
    let vm = VmConfig { limits: fuzz_limits(), ..VmConfig::default() };
    let host = Rc::new(FakeHost::default());
    let runtime = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), &vm).expect("the request chunk compiles");
    (runtime, host)
}

/// One client request through the PDK on one long-lived instance (as a worker serves
/// them): `path NUL header-lines NUL body`, header lines `name:value` split at `\n`
/// (names and values arbitrary bytes, names lowercased as hosts hand them over).
pub fn request(data: &[u8]) {
    let (path, rest) = split_once(data, 0);
    let (head, body) = split_once(rest, 0);
    let mut headers = vec![(":method".to_string(), b"POST".to_vec()), (":path".to_string(), path.to_vec())];
    for line in head.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let (name, value) = split_once(line, b':');
        headers.push((String::from_utf8_lossy(name).to_ascii_lowercase(), value.to_vec()));
    }
    REQUEST.with(|slot| {
        let mut slot = slot.borrow_mut();
        let (runtime, host) = slot.get_or_insert_with(request_runtime);
        *host.request.borrow_mut() = headers;
        host.response.borrow_mut().clear();
        host.logs.borrow_mut().clear();
        *host.request_body.borrow_mut() = Some(body.to_vec());
        let mut state = RequestState { request_body: Some(body.to_vec()), ..RequestState::default() };
        runtime.run_phase(Phase::Access, &mut state);
    });
}

/// The WebSocket frame decoder (`ws_client_frame` / `ws_upstream_frame` input): `data`'s
/// first byte picks the side (bit 0), the maximum payload (bits 1-3: 16 B to 2 KiB) and
/// the size of the pieces the rest arrives in (bits 4-7: 1 to 16 bytes, as body
/// callbacks split a stream anywhere). Every decoded message is encoded again (masked
/// toward the upstream, as the filter sends it on) and must decode back to itself.
pub fn websocket_frames(data: &[u8]) {
    use crate::websocket::{encode, Decoder, Side};
    let Some((&control, stream)) = data.split_first() else { return };
    let side = if control & 1 == 0 { Side::Client } else { Side::Upstream };
    let max_payload = 16usize << ((control >> 1) & 7);
    let piece = usize::from(control >> 4) + 1;
    let mut decoder = Decoder::new(side, max_payload);
    let mut messages = Vec::new();
    for chunk in stream.chunks(piece) {
        let (decoded, error) = decoder.push(chunk);
        messages.extend(decoded);
        if error.is_some() {
            assert!(decoder.failed(), "an error leaves the decoder failed");
            break;
        }
    }
    for message in messages {
        let mask = if side == Side::Client { Some(message.mask.unwrap_or([1, 2, 3, 4])) } else { None };
        let bytes = encode(&message, mask);
        let mut again = Decoder::new(side, max_payload.max(message.payload.len() + 2));
        let (decoded, error) = again.push(&bytes);
        assert!(error.is_none(), "a re-encoded message decodes: {error:?}");
        assert_eq!(decoded.len(), 1, "one message back");
        assert_eq!(decoded[0].kind, message.kind);
        assert_eq!(decoded[0].payload, message.payload);
        assert_eq!(decoded[0].status, message.status);
    }
}

/// Every fuzz target by the name of its binary in `tests/fuzz/src/bin`.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("configuration", configuration),
    ("lua_source", lua_source),
    ("lua_pattern", lua_pattern),
    ("string_format", string_format),
    ("json_decode", json_decode),
    ("query_args", query_args),
    ("multipart", multipart),
    ("request", request),
    ("websocket_frames", websocket_frames),
];

/// The fuzzers' findings replayed on every `cargo test`: each minimized corpus input and
/// each crash or hang input kept under `tests/fuzz/` runs through its target, natively.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod replay {
    use std::path::Path;

    fn inputs(kind: &str, target: &str) -> Vec<std::path::PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz").join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
        files.sort();
        files
    }

    /// The `request` target reaches every PDK call of its chunk on a well-formed request
    /// (an error on its first line would leave the fuzzer nothing to explore).
    #[test]
    fn the_request_target_runs_its_whole_chunk() {
        super::request(b"/p?a=1\0content-type:application/json\ncookie:session=abc\nx-exit:done\0{\"k\":[1]}");
        super::REQUEST.with(|slot| {
            let slot = slot.borrow();
            let (_, host) = slot.as_ref().expect("the request runtime");
            assert!(host.messages().is_empty(), "{:?}", host.messages());
            let sent = host.sent.borrow();
            assert_eq!(sent.len(), 0, "exits are the runtime's to send");
        });
    }

    #[test]
    fn every_corpus_and_crash_input_runs_without_a_panic() {
        let mut total = 0;
        for (target, run) in super::TARGETS {
            let corpus = inputs("corpus", target);
            assert!(!corpus.is_empty(), "tests/fuzz/corpus/{target} is empty: make fuzz seeds it");
            for path in corpus.iter().chain(inputs("crashes", target).iter()) {
                let data = std::fs::read(path).expect("readable fuzz input");
                run(&data);
                total += 1;
            }
        }
        assert!(total >= super::TARGETS.len());
    }
}

