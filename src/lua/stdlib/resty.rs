//! The pure modules of Kong's `require` allowlists (`kong/tools/sandbox/require/*.lua`)
//! that snippets use, as `require` serves them ([`super::base::provided_module`]):
//!
//! - `ngx.base64` (lua-resty-core's `lib/ngx/base64.lua`): `encode_base64url`,
//!   `decode_base64url` (nginx's `ngx_decode_base64url`: URL alphabet, padding optional,
//!   `nil, "invalid input"` when invalid; a non-string gives `nil, "must provide a
//!   string"`).
//! - `resty.string` (lua-resty-string): `to_hex` (lowercase), `atoi` (nginx's
//!   `ngx_atoi`: decimal digits only, else -1).
//! - `resty.md5`, `resty.sha1`, `resty.sha224`, `resty.sha256`, `resty.sha384`,
//!   `resty.sha512` (lua-resty-string's object API): `:new()` gives an object with
//!   `:update(s)` (true), `:final()` (the binary digest) and `:reset()` (true); after
//!   `:final()` the object starts over, as after `:reset()`. `resty.sha` is the shared
//!   base module (only `_VERSION`).
//! - `kong.tools.sha256` (Kong's `kong/tools/sha256.lua`): `sha256_bin`, `sha256_hex`,
//!   `sha256_base64`, `sha256_base64url`.

use std::cell::RefCell;
use std::rc::Rc;

use md5::Md5;
use piccolo::{Callback, CallbackReturn, Context, Error, Execution, Stack, Table, Value};
use sha1::{Digest, Sha1};
use sha2::{Sha224, Sha256, Sha384, Sha512};

use crate::lua::error_at;
use crate::lua::modules::crypto::Md;
use crate::pdk::ngx::util::{base64_decode, base64_encode};

/// lua-resty-string's version (OpenResty 1.21.4 / 1.25.3 bundle 0.15 / 0.16).
const RESTY_STRING_VERSION: &str = "0.16";

/// The modules this file provides, by `require` name.
pub const MODULES: [&str; 10] = [
    "ngx.base64",
    "resty.string",
    "resty.md5",
    "resty.sha",
    "resty.sha1",
    "resty.sha224",
    "resty.sha256",
    "resty.sha384",
    "resty.sha512",
    "kong.tools.sha256",
];

type Res<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

/// The module `require(name)` gives, or nil when `name` is not one of [`MODULES`].
pub fn module<'gc>(ctx: Context<'gc>, name: &str) -> Value<'gc> {
    let t = Table::new(&ctx);
    let set = |key: &'static str, value: Value<'gc>| {
        t.set(ctx, key, value).ok();
    };
    let func = |f: for<'g> fn(Context<'g>, Execution<'g, '_>, Stack<'g, '_>) -> Res<'g>| Value::Function(Callback::from_fn(&ctx, f).into());
    match name {
        "ngx.base64" => {
            set("version", Value::String(ctx.intern(b"0.1.28")));
            set("encode_base64url", func(encode_base64url));
            set("decode_base64url", func(decode_base64url));
        }
        "resty.string" => {
            set("_VERSION", Value::String(ctx.intern(RESTY_STRING_VERSION.as_bytes())));
            set("to_hex", func(to_hex));
            set("atoi", func(atoi));
        }
        "resty.sha" => set("_VERSION", Value::String(ctx.intern(RESTY_STRING_VERSION.as_bytes()))),
        "resty.md5" | "resty.sha1" | "resty.sha224" | "resty.sha256" | "resty.sha384" | "resty.sha512" => {
            set("_VERSION", Value::String(ctx.intern(RESTY_STRING_VERSION.as_bytes())));
            // `resty.md5` ... `resty.sha512`: the digest named after the dot.
            let algorithm = Md::by_name(name.trim_start_matches("resty.")).unwrap_or(Md::Sha256);
            let new = Callback::from_fn(&ctx, move |ctx, _, mut stack| {
                stack.replace(ctx, digest_object(ctx, algorithm));
                Ok(CallbackReturn::Return)
            });
            set("new", Value::Function(new.into()));
        }
        "kong.tools.sha256" => {
            set("sha256_bin", func(sha256_bin));
            set("sha256_hex", func(sha256_hex));
            set("sha256_base64", func(sha256_base64));
            set("sha256_base64url", func(sha256_base64url));
        }
        _ => return Value::Nil,
    }
    Value::Table(t)
}

fn bytes<'gc>(ctx: Context<'gc>, b: &[u8]) -> Value<'gc> {
    Value::String(piccolo::String::from_slice(&ctx, b))
}

/// The string argument `i` (numbers coerce, as Lua's `#s` and FFI strings do).
fn string_arg<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, fname: &str) -> Result<Vec<u8>, Error<'gc>> {
    match stack.get(i) {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        v @ (Value::Integer(_) | Value::Number(_)) => Ok(crate::lua::format::number(v).into_bytes()),
        other => Err(error_at(ctx, exec, &format!("bad argument #{} to '{fname}' (string expected, got {})", i + 1, other.type_name()))),
    }
}

fn url_encode(src: &[u8]) -> Vec<u8> {
    base64_encode(src, false)
        .into_iter()
        .map(|c| match c {
            b'+' => b'-',
            b'/' => b'_',
            c => c,
        })
        .collect()
}

/// nginx's `ngx_decode_base64url`: the URL alphabet up to the first `=`.
fn url_decode(src: &[u8]) -> Option<Vec<u8>> {
    let end = src.iter().position(|&c| c == b'=').unwrap_or(src.len());
    if src[..end].iter().any(|&c| c == b'+' || c == b'/') {
        return None;
    }
    let standard: Vec<u8> = src[..end]
        .iter()
        .map(|&c| match c {
            b'-' => b'+',
            b'_' => b'/',
            c => c,
        })
        .collect();
    base64_decode(&standard)
}

fn encode_base64url<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let Value::String(s) = stack.get(0) else {
        stack.replace(ctx, (Value::Nil, ctx.intern(b"must provide a string")));
        return Ok(CallbackReturn::Return);
    };
    let out = url_encode(s.as_bytes());
    stack.replace(ctx, bytes(ctx, &out));
    Ok(CallbackReturn::Return)
}

fn decode_base64url<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let Value::String(s) = stack.get(0) else {
        stack.replace(ctx, (Value::Nil, ctx.intern(b"must provide a string")));
        return Ok(CallbackReturn::Return);
    };
    match url_decode(s.as_bytes()) {
        Some(out) => stack.replace(ctx, bytes(ctx, &out)),
        None => stack.replace(ctx, (Value::Nil, ctx.intern(b"invalid input"))),
    }
    Ok(CallbackReturn::Return)
}

fn hex(b: &[u8]) -> Vec<u8> {
    b.iter().flat_map(|x| format!("{x:02x}").into_bytes()).collect()
}

fn to_hex<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let s = string_arg(ctx, &exec, &stack, 0, "to_hex")?;
    stack.replace(ctx, bytes(ctx, &hex(&s)));
    Ok(CallbackReturn::Return)
}

/// nginx's `ngx_atoi`: a non-empty run of decimal digits, else (or on overflow) -1.
fn ngx_atoi(s: &[u8]) -> i64 {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return -1;
    }
    let mut value: i64 = 0;
    for &c in s {
        value = match value.checked_mul(10).and_then(|v| v.checked_add(i64::from(c - b'0'))) {
            Some(v) => v,
            None => return -1,
        };
    }
    value
}

fn atoi<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let s = string_arg(ctx, &exec, &stack, 0, "atoi")?;
    stack.replace(ctx, Value::Integer(ngx_atoi(&s)));
    Ok(CallbackReturn::Return)
}

enum Hasher {
    Md5(Md5),
    Sha1(Sha1),
    Sha224(Sha224),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Hasher {
    fn new(algorithm: Md) -> Hasher {
        match algorithm {
            Md::Md5 => Hasher::Md5(Md5::new()),
            Md::Sha1 => Hasher::Sha1(Sha1::new()),
            Md::Sha224 => Hasher::Sha224(Sha224::new()),
            Md::Sha256 => Hasher::Sha256(Sha256::new()),
            Md::Sha384 => Hasher::Sha384(Sha384::new()),
            Md::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha224(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// The digest; the state starts over.
    fn finalize_reset(&mut self) -> Vec<u8> {
        match self {
            Hasher::Md5(h) => h.finalize_reset().to_vec(),
            Hasher::Sha1(h) => h.finalize_reset().to_vec(),
            Hasher::Sha224(h) => h.finalize_reset().to_vec(),
            Hasher::Sha256(h) => h.finalize_reset().to_vec(),
            Hasher::Sha384(h) => h.finalize_reset().to_vec(),
            Hasher::Sha512(h) => h.finalize_reset().to_vec(),
        }
    }
}

/// A lua-resty-string digest object: `update`, `final`, `reset`, called as methods (the
/// object itself is ignored: the state lives with the functions).
fn digest_object(ctx: Context<'_>, algorithm: Md) -> Table<'_> {
    let state = Rc::new(RefCell::new(Hasher::new(algorithm)));
    let object = Table::new(&ctx);
    let s = state.clone();
    let update = Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
        let data = string_arg(ctx, &exec, &stack, 1, "update")?;
        s.borrow_mut().update(&data);
        stack.replace(ctx, true);
        Ok(CallbackReturn::Return)
    });
    let s = state.clone();
    let finalize = Callback::from_fn(&ctx, move |ctx, _, mut stack| {
        let digest = s.borrow_mut().finalize_reset();
        stack.replace(ctx, bytes(ctx, &digest));
        Ok(CallbackReturn::Return)
    });
    let reset = Callback::from_fn(&ctx, move |ctx, _, mut stack| {
        *state.borrow_mut() = Hasher::new(algorithm);
        stack.replace(ctx, true);
        Ok(CallbackReturn::Return)
    });
    object.set(ctx, "update", update).ok();
    object.set(ctx, "final", finalize).ok();
    object.set(ctx, "reset", reset).ok();
    object
}

fn sha256_of<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, fname: &str) -> Result<Vec<u8>, Error<'gc>> {
    let key = string_arg(ctx, exec, stack, 0, fname)?;
    Ok(Sha256::digest(&key).to_vec())
}

fn sha256_bin<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let d = sha256_of(ctx, &exec, &stack, "sha256_bin")?;
    stack.replace(ctx, bytes(ctx, &d));
    Ok(CallbackReturn::Return)
}

fn sha256_hex<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let d = sha256_of(ctx, &exec, &stack, "sha256_hex")?;
    stack.replace(ctx, bytes(ctx, &hex(&d)));
    Ok(CallbackReturn::Return)
}

fn sha256_base64<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let d = sha256_of(ctx, &exec, &stack, "sha256_base64")?;
    stack.replace(ctx, bytes(ctx, &base64_encode(&d, true)));
    Ok(CallbackReturn::Return)
}

fn sha256_base64url<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let d = sha256_of(ctx, &exec, &stack, "sha256_base64url")?;
    stack.replace(ctx, bytes(ctx, &url_encode(&d)));
    Ok(CallbackReturn::Return)
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use crate::config::{PluginConfig, Role};
    use crate::pdk::testing::FakeHost;
    use crate::phase::Phase;
    use crate::runtime::{PhaseOutcome, RequestState, Runtime};
    use crate::sandbox::Mode;
    use crate::vm_config::VmConfig;

    /// Runs `source` in access under `mode`; the log messages.
    fn run(mode: Mode, source: &str) -> Vec<String> {
        let config = PluginConfig::parse(serde_json::json!({ "access": [source] }).to_string().as_bytes()).unwrap();
        let host = Rc::new(FakeHost::default());
        let vm = VmConfig { untrusted_lua: mode, ..VmConfig::default() };
        let mut rt = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), &vm).unwrap();
        let outcome = rt.run_phase(Phase::Access, &mut RequestState::default());
        let messages: Vec<String> = host.messages().into_iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect();
        assert_eq!(outcome, PhaseOutcome::Continue, "{messages:?}");
        messages
    }

    fn logs(source: &str) -> Vec<String> {
        // Strict allows these modules (require/handler.lua); `on` loads them too.
        let strict = run(Mode::Strict, source);
        assert_eq!(strict, run(Mode::On, source));
        strict
    }

    #[test]
    fn digests_match_the_standard_test_vectors() {
        // FIPS 180-2 / RFC 1321 / RFC 3174 vectors for "abc" (and MD5 of "").
        let out = logs(
            "local str = require 'resty.string'
             for _, m in ipairs({'resty.md5', 'resty.sha1', 'resty.sha224', 'resty.sha256', 'resty.sha384', 'resty.sha512'}) do
               local h = require(m):new()
               kong.log.info(m, ' ', tostring(h:update('abc')), ' ', str.to_hex(h:final()))
             end
             local md5 = require('resty.md5'):new()
             kong.log.info(str.to_hex(md5:final()))",
        );
        assert_eq!(
            out,
            [
                "resty.md5 true 900150983cd24fb0d6963f7d28e17f72",
                "resty.sha1 true a9993e364706816aba3e25717850c26c9cd0d89d",
                "resty.sha224 true 23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
                "resty.sha256 true ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "resty.sha384 true cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
                "resty.sha512 true ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
                "d41d8cd98f00b204e9800998ecf8427e",
            ]
        );
    }

    #[test]
    fn digest_objects_update_in_pieces_and_reset() {
        // FIPS 180-2's two-block message, fed in three pieces; reset drops what was fed.
        let out = logs(
            "local to_hex = require('resty.string').to_hex
             local sha256 = require 'resty.sha256'
             local h = sha256:new()
             h:update('junk')
             kong.log.info(tostring(h:reset()))
             h:update('abcdbcdecdefdefgefghfghighij') h:update('hijkijkljklmklmnlmno') h:update('mnopnopq')
             kong.log.info(to_hex(h:final()))
             h:update('abc')
             kong.log.info(to_hex(h:final()), ' ', require('resty.sha')._VERSION ~= nil)",
        );
        assert_eq!(
            out,
            [
                "true",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad true",
            ]
        );
    }

    #[test]
    fn resty_string_to_hex_and_atoi() {
        let out = logs(
            "local s = require 'resty.string'
             kong.log.info(s.to_hex('\\0\\255AZ'), ' ', s.atoi('123'), ' ', s.atoi('12a'), ' ', s.atoi(''), ' ', s.atoi('007'))",
        );
        assert_eq!(out, ["00ff415a 123 -1 -1 7"]);
    }

    #[test]
    fn ngx_base64_url_variants() {
        // RFC 4648 section 10 vectors, without padding, and the URL alphabet (section 5).
        let out = logs(
            "local b = require 'ngx.base64'
             local t = {}
             for _, s in ipairs({'', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar', '\\251\\255'}) do t[#t + 1] = b.encode_base64url(s) end
             kong.log.info(table.concat(t, ','))
             kong.log.info(b.decode_base64url('Zm9vYmFy'), ' ', b.decode_base64url('Zm9vYg'), ' ', b.decode_base64url('-_8') == '\\251\\255', ' ', b.decode_base64url('Zm9vYg=='))
             kong.log.info(b.decode_base64url('+/8'))
             kong.log.info(b.decode_base64url('Z'))
             kong.log.info(b.encode_base64url(1))",
        );
        assert_eq!(
            out,
            [",Zg,Zm8,Zm9v,Zm9vYg,Zm9vYmE,Zm9vYmFy,-_8", "foobar foob true foob", "nilinvalid input", "nilinvalid input", "nilmust provide a string"]
        );
    }

    #[test]
    fn kong_tools_sha256() {
        let out = logs(
            "local s = require 'kong.tools.sha256'
             kong.log.info(s.sha256_hex('abc'))
             kong.log.info(s.sha256_base64('abc'), ' ', s.sha256_base64url('abc'), ' ', #s.sha256_bin('abc'))",
        );
        assert_eq!(
            out,
            [
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0= ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0 32",
            ]
        );
    }

    #[test]
    fn sandbox_mode_needs_the_requires_setting() {
        let denied = run(Mode::Sandbox, "kong.log.info(pcall(require, 'resty.sha256'))");
        assert_eq!(denied, ["falserequire 'resty.sha256' not allowed within sandbox"]);
        let config = PluginConfig::parse(br#"{"access": ["kong.log.info(require('resty.string').to_hex('a'))"]}"#).unwrap();
        let host = Rc::new(FakeHost::default());
        let vm = VmConfig { untrusted_lua_sandbox_requires: vec!["resty.string".into()], ..VmConfig::default() };
        let mut rt = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), &vm).unwrap();
        assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Continue);
        assert_eq!(host.messages(), ["[pre-function] 61"]);
    }
}
