//! JSON as OpenResty's lua-cjson (2.1.0.x, `lua_cjson.c`) encodes and decodes it: the
//! codec behind the `cjson` / `cjson.safe` modules ([`super::cjson`]) and behind the PDK's
//! own JSON (`kong.cache`, `kong.log.serialize`, which call [`encode`] with cjson's default
//! settings).
//!
//! Encoding: a table whose keys are all positive integers is an array (holes become
//! `null`), any other table an object, an empty table `{}`; numbers as `%.14g`; `/`
//! escaped as `\/`; `cjson.array_mt` / `cjson.empty_array_mt` / `cjson.empty_array` and
//! the settings in [`EncodeConfig`] as lua-cjson has them. Decoding: lua-cjson's tokenizer
//! and messages ("Expected value but found invalid token at character 1"), `null` as
//! `ngx.null` (= `cjson.null`).

use gc_arena::{Collect, Rootable};
use piccolo::{Context, Table, UserData, Value};

use super::ngx;
use crate::lua::stdlib::args::number_value;

/// How deep this filter ever nests, whatever `encode_max_depth` / `decode_max_depth`
/// say: cjson's default. Encoding and decoding recurse in Rust, and a deeper recursion
/// could overflow the wasm stack (a trap), so a larger setting is kept (and reported
/// back) but nesting past this fails with cjson's message, as if the setting were 1000.
pub const MAX_NESTING: i64 = 1000;

/// lua-cjson's encoding settings (`json_config_t`); `Default` is lua-cjson's defaults
/// (`DEFAULT_*` in `lua_cjson.c`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EncodeConfig {
    /// `encode_sparse_array(convert, ratio, safe)`.
    pub sparse_convert: bool,
    pub sparse_ratio: i64,
    pub sparse_safe: i64,
    /// `encode_max_depth`.
    pub max_depth: i64,
    /// `encode_invalid_numbers`: 0 `off` (error), 1 `on` (`NaN`, `Infinity`), 2 `null`.
    pub invalid_numbers: u8,
    /// `encode_number_precision` (1 to 16).
    pub number_precision: u8,
    /// `encode_empty_table_as_object`.
    pub empty_table_as_object: bool,
    /// `encode_escape_forward_slash`.
    pub escape_forward_slash: bool,
    /// `encode_skip_unsupported_value_types`.
    pub skip_unsupported: bool,
    /// Longest output allowed (the filter's string limit); past it, [`EncodeError::TooLarge`].
    pub max_bytes: usize,
}

impl Default for EncodeConfig {
    fn default() -> Self {
        EncodeConfig {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            max_depth: 1000,
            invalid_numbers: 0,
            number_precision: 14,
            empty_table_as_object: true,
            escape_forward_slash: true,
            skip_unsupported: false,
            max_bytes: usize::MAX,
        }
    }
}

/// lua-cjson's decoding settings; `Default` is lua-cjson's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecodeConfig {
    /// `decode_invalid_numbers` (default on: `0x10`, `inf`, `nan`, `+1`, `012` decode).
    pub invalid_numbers: bool,
    /// `decode_max_depth`.
    pub max_depth: i64,
    /// `decode_array_with_array_mt`.
    pub array_with_array_mt: bool,
    /// Lua heap size (garbage included) past which decoding stops with
    /// [`MEMORY_EXCEEDED`]: one decode of a large text can build far more tables than the
    /// memory limit, before the VM's own check between fuel slices gets to run.
    pub max_heap_bytes: usize,
}

/// The error [`decode`] stops with past [`DecodeConfig::max_heap_bytes`].
pub const MEMORY_EXCEEDED: &str = "memory limit exceeded";

impl Default for DecodeConfig {
    fn default() -> Self {
        DecodeConfig { invalid_numbers: true, max_depth: 1000, array_with_array_mt: false, max_heap_bytes: usize::MAX }
    }
}

/// Why an encode failed.
#[derive(Debug, PartialEq)]
pub enum EncodeError {
    /// cjson's message ("Cannot serialise function: type not supported").
    Message(String),
    /// The output would pass [`EncodeConfig::max_bytes`].
    TooLarge,
}

// ---------------------------------------------------------------------------------------
// cjson.array_mt, cjson.empty_array_mt, cjson.empty_array: one each per Lua state, shared
// by every cjson instance (lua-cjson keeps them in the registry).

struct EmptyArrayMarker;

#[derive(Collect, Clone, Copy)]
#[collect(no_drop)]
pub struct Markers<'gc> {
    pub array_mt: Table<'gc>,
    pub empty_array_mt: Table<'gc>,
    pub empty_array: UserData<'gc>,
}

impl<'gc> piccolo::Singleton<'gc> for Markers<'gc> {
    fn create(ctx: Context<'gc>) -> Self {
        Markers {
            array_mt: Table::new(&ctx),
            empty_array_mt: Table::new(&ctx),
            empty_array: UserData::new_static(&ctx, EmptyArrayMarker),
        }
    }
}

/// The state's `array_mt`, `empty_array_mt` and `empty_array`.
pub fn markers<'gc>(ctx: Context<'gc>) -> Markers<'gc> {
    *ctx.singleton::<Rootable![Markers<'_>]>()
}

fn is_empty_array(value: Value<'_>) -> bool {
    matches!(value, Value::UserData(u) if u.is_static::<EmptyArrayMarker>())
}

// ---------------------------------------------------------------------------------------
// Encoding

/// Encodes `value` with cjson's default settings, as text (invalid UTF-8 in strings
/// replaced, for callers that need a Rust string); errors with cjson's messages
/// ("Cannot serialise function: type not supported", "Cannot serialise, excessive
/// nesting (1001)", "Cannot serialise table: excessively sparse array").
pub fn encode<'gc>(ctx: Context<'gc>, value: Value<'gc>) -> Result<String, String> {
    match encode_with(ctx, value, &EncodeConfig::default()) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(EncodeError::Message(m)) => Err(m),
        Err(EncodeError::TooLarge) => Err("resulting string too large".into()),
    }
}

/// The global `cjson.safe` module as Kong configures it at start (kong/globalpatches.lua:
/// `encode_sparse_array(nil, nil, 2^15)` and `encode_number_precision(16)`, Kong's
/// `constants.CJSON_MAX_PRECISION`): what Kong's kong/pdk/response.lua (`exit`, `error`)
/// and kong/pdk/service/request.lua (`set_body`) encode with, so `2^53` goes out as
/// `9007199254740992` (t/01-pdk/08-response/11-exit.t TEST 45), not lua-cjson's
/// 14-digit `9.007199254741e+15`.
pub fn kong_safe_config() -> EncodeConfig {
    EncodeConfig { sparse_safe: 1 << 15, number_precision: 16, ..EncodeConfig::default() }
}

/// [`encode`] with [`kong_safe_config`]: the PDK's own JSON bodies.
pub fn encode_kong<'gc>(ctx: Context<'gc>, value: Value<'gc>) -> Result<String, String> {
    match encode_with(ctx, value, &kong_safe_config()) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(EncodeError::Message(m)) => Err(m),
        Err(EncodeError::TooLarge) => Err("resulting string too large".into()),
    }
}

/// Encodes `value` as lua-cjson's `encode` does under `config`: bytes of strings pass
/// through untouched (lua-cjson does not check UTF-8).
pub fn encode_with<'gc>(ctx: Context<'gc>, value: Value<'gc>, config: &EncodeConfig) -> Result<Vec<u8>, EncodeError> {
    let mut encoder = Encoder { ctx, config, markers: markers(ctx), out: Vec::new() };
    encoder.value(value, 0)?;
    Ok(encoder.out)
}

struct Encoder<'gc, 'a> {
    ctx: Context<'gc>,
    config: &'a EncodeConfig,
    markers: Markers<'gc>,
    out: Vec<u8>,
}

fn message<T>(text: String) -> Result<T, EncodeError> {
    Err(EncodeError::Message(text))
}

impl<'gc> Encoder<'gc, '_> {
    fn check_size(&self) -> Result<(), EncodeError> {
        if self.out.len() > self.config.max_bytes {
            return Err(EncodeError::TooLarge);
        }
        Ok(())
    }

    /// `json_append_data`: Ok(false) when the value was skipped
    /// (`encode_skip_unsupported_value_types`).
    fn value(&mut self, value: Value<'gc>, depth: i64) -> Result<bool, EncodeError> {
        match value {
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::Boolean(b) => self.out.extend_from_slice(if b { b"true" } else { b"false" }),
            Value::Integer(_) | Value::Number(_) => self.number(value)?,
            Value::String(s) => self.string(s.as_bytes())?,
            Value::Table(t) => self.table(t, depth + 1)?,
            v if ngx::util::is_null(v) => self.out.extend_from_slice(b"null"),
            v if is_empty_array(v) => self.out.extend_from_slice(b"[]"),
            other => {
                if self.config.skip_unsupported {
                    return Ok(false);
                }
                return message(format!("Cannot serialise {}: type not supported", other.type_name()));
            }
        }
        Ok(true)
    }

    /// `json_append_number`: LuaJIT numbers are doubles, so integers format as doubles too.
    fn number(&mut self, value: Value<'gc>) -> Result<(), EncodeError> {
        let n = value.to_number().unwrap_or(0.0);
        if !n.is_finite() {
            match self.config.invalid_numbers {
                0 => return message("Cannot serialise number: must not be NaN or Infinity".into()),
                1 => {
                    let text: &[u8] = if n.is_nan() {
                        b"NaN"
                    } else if n < 0.0 {
                        b"-Infinity"
                    } else {
                        b"Infinity"
                    };
                    self.out.extend_from_slice(text);
                }
                _ => self.out.extend_from_slice(b"null"),
            }
            return Ok(());
        }
        self.out.extend_from_slice(format_g(n, self.config.number_precision as usize).as_bytes());
        Ok(())
    }

    /// `json_append_string` with lua-cjson's `char2escape` table.
    fn string(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        if self.out.len().saturating_add(bytes.len()) > self.config.max_bytes {
            return Err(EncodeError::TooLarge);
        }
        self.out.push(b'"');
        for &b in bytes {
            match b {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'/' if self.config.escape_forward_slash => self.out.extend_from_slice(b"\\/"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                0x08 => self.out.extend_from_slice(b"\\b"),
                0x0c => self.out.extend_from_slice(b"\\f"),
                b if b < 0x20 || b == 0x7f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    self.out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
                }
                b => self.out.push(b),
            }
        }
        self.out.push(b'"');
        self.check_size()
    }

    /// `lua_array_length`: `Some(max index)` when every key is a positive integer and the
    /// array is not excessively sparse; `None` for an object.
    fn array_length(&self, table: Table<'gc>) -> Result<Option<i64>, EncodeError> {
        let mut max = 0i64;
        let mut items = 0i64;
        for (key, _) in table.iter() {
            let index = match key {
                Value::Integer(i) if i >= 1 => i,
                Value::Number(n) if n >= 1.0 && n.floor() == n => n.min(i64::MAX as f64) as i64,
                _ => return Ok(None),
            };
            max = max.max(index);
            items += 1;
        }
        let config = self.config;
        if config.sparse_ratio > 0 && max > items.saturating_mul(config.sparse_ratio) && max > config.sparse_safe {
            if !config.sparse_convert {
                return message("Cannot serialise table: excessively sparse array".into());
            }
            return Ok(None);
        }
        Ok(Some(max))
    }

    /// The `LUA_TTABLE` case of `json_append_data`; `depth` counts this table.
    fn table(&mut self, table: Table<'gc>, depth: i64) -> Result<(), EncodeError> {
        if depth > self.config.max_depth.min(MAX_NESTING) {
            return message(format!("Cannot serialise, excessive nesting ({depth})"));
        }
        let meta = table.metatable();
        // A table with `array_mt` is an array of its `#` length, whatever its keys.
        // (lua-cjson also treats a table whose metatable has `__len` as an array of that
        // length; calling a Lua `__len` from here is not possible, so those are encoded
        // by their keys.)
        if meta == Some(self.markers.array_mt) {
            return self.array(table, table.length(), depth);
        }
        match self.array_length(table)? {
            Some(len) if len > 0 || !self.config.empty_table_as_object => self.array(table, len, depth),
            _ if meta == Some(self.markers.empty_array_mt) => self.array(table, table.length(), depth),
            _ => self.object(table, depth),
        }
    }

    fn array(&mut self, table: Table<'gc>, len: i64, depth: i64) -> Result<(), EncodeError> {
        self.out.push(b'[');
        let mut first = true;
        for i in 1..=len {
            let start = self.out.len();
            if !first {
                self.out.push(b',');
            }
            if self.value(table.get(self.ctx, i), depth)? {
                first = false;
            } else {
                self.out.truncate(start);
            }
            self.check_size()?;
        }
        self.out.push(b']');
        Ok(())
    }

    fn object(&mut self, table: Table<'gc>, depth: i64) -> Result<(), EncodeError> {
        self.out.push(b'{');
        let mut first = true;
        for (key, value) in table.iter() {
            let start = self.out.len();
            if !first {
                self.out.push(b',');
            }
            match key {
                Value::String(s) => self.string(s.as_bytes())?,
                Value::Integer(_) | Value::Number(_) => {
                    self.out.push(b'"');
                    self.number(key)?;
                    self.out.push(b'"');
                }
                other => {
                    return message(format!("Cannot serialise {}: table key must be a number or string", other.type_name()))
                }
            }
            self.out.push(b':');
            if self.value(value, depth)? {
                first = false;
            } else {
                self.out.truncate(start);
            }
            self.check_size()?;
        }
        self.out.push(b'}');
        Ok(())
    }
}

/// C's `%.<precision>g` of a finite double, as lua-cjson's `fpconv_g_fmt` prints numbers
/// (correctly rounded, ties to even, as glibc; the 14 digits of `encode_number_precision`'s
/// default are also LuaJIT's `tostring` digits).
pub fn format_g(n: f64, precision: usize) -> String {
    if n == 0.0 {
        return if n.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let p = precision.max(1);
    let scientific = format!("{:.*e}", p - 1, n);
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= p as i64 {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim_fraction(mantissa), exponent.abs())
    } else {
        let fixed = format!("{:.*}", (p as i64 - 1 - exponent) as usize, n);
        trim_fraction(&fixed).to_string()
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

// ---------------------------------------------------------------------------------------
// Decoding

/// Decodes `text` as lua-cjson's `decode` does under `config`: objects and arrays become
/// tables (arrays 1-based, with `cjson.array_mt` when `array_with_array_mt`), `null`
/// becomes `cjson.null` (= `ngx.null`), numbers Lua numbers. Errors are lua-cjson's
/// messages, e.g. "Expected value but found invalid token at character 1". As in C, a
/// NUL byte ends the text.
pub fn decode<'gc>(ctx: Context<'gc>, text: &[u8], config: &DecodeConfig) -> Result<Value<'gc>, String> {
    // lua-cjson: "Detect Unicode other than UTF-8 (see RFC 4627, Sec 3)".
    if text.len() >= 2 && (text[0] == 0 || text[1] == 0) {
        return Err("JSON parser does not support UTF-16 or UTF-32".into());
    }
    let mut parser = Parser { ctx, data: text, pos: 0, config, depth: 0, array_mt: None };
    if config.array_with_array_mt {
        parser.array_mt = Some(markers(ctx).array_mt);
    }
    let token = parser.next_token();
    let value = parser.value(token)?;
    let token = parser.next_token();
    if !matches!(token.kind, Kind::End) {
        return Err(expected("the end", &token));
    }
    Ok(value)
}

/// Decodes a body as Kong's `kong.tools.cjson.decode_with_array_mt` (a `cjson.safe`
/// instance with `decode_array_with_array_mt(true)`, kong/tools/cjson.lua): arrays carry
/// `cjson.array_mt` (so `[]` encodes back as `[]`), `null` is `cjson.null`. What
/// `kong.request.get_body` and `kong.service.response.get_body` decode JSON with.
///
/// `Ok(None)` where cjson.safe returns `nil, err` (invalid JSON); `Err` only for the
/// filter's memory limit ([`MEMORY_EXCEEDED`]), which fails the call as `cjson.safe`'s does.
pub fn decode_with_array_mt<'gc>(ctx: Context<'gc>, text: &[u8]) -> Result<Option<Value<'gc>>, String> {
    let config = DecodeConfig {
        array_with_array_mt: true,
        max_heap_bytes: crate::lua::limits::current().memory_bytes.saturating_mul(2),
        ..DecodeConfig::default()
    };
    match decode(ctx, text, &config) {
        Ok(value) => Ok(Some(value)),
        Err(m) if m == MEMORY_EXCEEDED => Err(m),
        Err(_) => Ok(None),
    }
}

enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    String(Vec<u8>),
    Number(f64),
    Integer(i64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

struct Token {
    kind: Kind,
    /// 0-based offset of the token (of the error, for an error token).
    index: usize,
}

/// `json_throw_parse_error`: "Expected <what> but found <token> at character <n>".
fn expected(what: &str, token: &Token) -> String {
    let found = match &token.kind {
        Kind::ObjBegin => "T_OBJ_BEGIN",
        Kind::ObjEnd => "T_OBJ_END",
        Kind::ArrBegin => "T_ARR_BEGIN",
        Kind::ArrEnd => "T_ARR_END",
        Kind::String(_) => "T_STRING",
        Kind::Number(_) => "T_NUMBER",
        Kind::Integer(_) => "T_INTEGER",
        Kind::Boolean(_) => "T_BOOLEAN",
        Kind::Null => "T_NULL",
        Kind::Colon => "T_COLON",
        Kind::Comma => "T_COMMA",
        Kind::End => "T_END",
        Kind::Error(e) => e,
    };
    format!("Expected {what} but found {found} at character {}", token.index + 1)
}

struct Parser<'gc, 'a> {
    ctx: Context<'gc>,
    data: &'a [u8],
    pos: usize,
    config: &'a DecodeConfig,
    depth: i64,
    array_mt: Option<Table<'gc>>,
}

fn hex_digit(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

impl<'gc> Parser<'gc, '_> {
    /// The byte at `i`, NUL past the end (the C code reads a NUL-terminated string).
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn starts_with(&self, word: &[u8]) -> bool {
        self.data.get(self.pos..).is_some_and(|rest| rest.starts_with(word))
    }

    fn error(&self, what: &'static str) -> Token {
        Token { kind: Kind::Error(what), index: self.pos }
    }

    /// `json_next_token`.
    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let single = |kind| Token { kind, index };
        let ch = self.at(self.pos);
        let kind = match ch {
            b'{' => Kind::ObjBegin,
            b'}' => Kind::ObjEnd,
            b'[' => Kind::ArrBegin,
            b']' => Kind::ArrEnd,
            b',' => Kind::Comma,
            b':' => Kind::Colon,
            0 => return single(Kind::End),
            b'"' => return self.string_token(),
            b'-' | b'0'..=b'9' => {
                if !self.config.invalid_numbers && self.is_invalid_number() {
                    return self.error("invalid number");
                }
                return self.number_token();
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                for (word, kind) in [(&b"true"[..], Kind::Boolean(true)), (b"false", Kind::Boolean(false)), (b"null", Kind::Null)] {
                    if self.starts_with(word) {
                        self.pos += word.len();
                        return single(kind);
                    }
                }
                if self.config.invalid_numbers && self.is_invalid_number() {
                    return self.number_token();
                }
                return self.error("invalid token");
            }
            _ => return self.error("invalid token"),
        };
        self.pos += 1;
        single(kind)
    }

    /// `json_next_string_token`: raw bytes pass through (control characters included).
    fn string_token(&mut self) -> Token {
        let index = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let ch = self.at(self.pos);
            match ch {
                b'"' => break,
                0 => return self.error("unexpected end of string"),
                b'\\' => {
                    let translated = match self.at(self.pos + 1) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b't' => b'\t',
                        b'n' => b'\n',
                        b'f' => 0x0c,
                        b'r' => b'\r',
                        b'u' => {
                            if !self.unicode_escape(&mut out) {
                                return self.error("invalid unicode escape code");
                            }
                            continue;
                        }
                        _ => return self.error("invalid escape code"),
                    };
                    out.push(translated);
                    self.pos += 2;
                }
                _ => {
                    out.push(ch);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        Token { kind: Kind::String(out), index }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        (0..4).try_fold(0u32, |acc, i| Some((acc << 4) | hex_digit(self.at(at + i))?))
    }

    /// `json_append_unicode_escape`: `\uXXXX` (a surrogate pair takes two) as UTF-8.
    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> bool {
        let Some(mut codepoint) = self.hex4(self.pos + 2) else { return false };
        let mut escape_len = 6;
        if codepoint & 0xF800 == 0xD800 {
            // A low surrogate first, or a high one not followed by `\u` + low: invalid.
            if codepoint & 0x400 != 0 || self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else { return false };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            codepoint = (((codepoint & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            escape_len = 12;
        }
        let Some(c) = char::from_u32(codepoint) else { return false };
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        self.pos += escape_len;
        true
    }

    /// `json_is_invalid_number`: what strict JSON refuses but `strtod` would take.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        match self.at(p) {
            b'+' => return true,
            b'-' => p += 1,
            _ => {}
        }
        let ch = self.at(p);
        if ch == b'0' {
            let next = self.at(p + 1);
            return next | 0x20 == b'x' || next.is_ascii_digit();
        }
        if ch <= b'9' {
            return false;
        }
        let word = |w: &[u8]| (0..3).all(|i| self.at(p + i).to_ascii_lowercase() == w[i]);
        word(b"inf") || word(b"nan")
    }

    /// `json_next_number_token`: `strtoll` first, `strtod` when a fraction, exponent or hex
    /// follows (or `strtoll` took nothing).
    fn number_token(&mut self) -> Token {
        let index = self.pos;
        let (end, integer) = strtoll(self.data, self.pos);
        if end == self.pos || matches!(self.at(end), b'.' | b'e' | b'E' | b'x') {
            return match strtod(self.data, self.pos) {
                Some((n, end)) => {
                    self.pos = end;
                    Token { kind: Kind::Number(n), index }
                }
                None => self.error("invalid number"),
            };
        }
        self.pos = end;
        Token { kind: Kind::Integer(integer), index }
    }

    /// `json_decode_descend` (and the heap bound, checked for each new table).
    fn descend(&mut self) -> Result<(), String> {
        if self.ctx.metrics().total_allocation() > self.config.max_heap_bytes {
            return Err(MEMORY_EXCEEDED.into());
        }
        self.depth += 1;
        if self.depth > self.config.max_depth.min(MAX_NESTING) {
            return Err(format!("Found too many nested data structures ({}) at character {}", self.depth, self.pos));
        }
        Ok(())
    }

    /// `json_process_value`.
    fn value(&mut self, token: Token) -> Result<Value<'gc>, String> {
        Ok(match token.kind {
            Kind::String(s) => Value::String(piccolo::String::from_slice(&self.ctx, &s)),
            Kind::Number(n) => number_value(n),
            Kind::Integer(i) => number_value(i as f64),
            Kind::Boolean(b) => Value::Boolean(b),
            Kind::Null => ngx::util::null(self.ctx),
            Kind::ObjBegin => self.object()?,
            Kind::ArrBegin => self.array()?,
            _ => return Err(expected("value", &token)),
        })
    }

    fn object(&mut self) -> Result<Value<'gc>, String> {
        self.descend()?;
        let table = Table::new(&self.ctx);
        let mut token = self.next_token();
        if matches!(token.kind, Kind::ObjEnd) {
            self.depth -= 1;
            return Ok(Value::Table(table));
        }
        loop {
            let Kind::String(key) = &token.kind else { return Err(expected("object key string", &token)) };
            let key = piccolo::String::from_slice(&self.ctx, key);
            let colon = self.next_token();
            if !matches!(colon.kind, Kind::Colon) {
                return Err(expected("colon", &colon));
            }
            let next = self.next_token();
            let value = self.value(next)?;
            table.set(self.ctx, key, value).ok();
            let after = self.next_token();
            match after.kind {
                Kind::ObjEnd => {
                    self.depth -= 1;
                    return Ok(Value::Table(table));
                }
                Kind::Comma => {}
                _ => return Err(expected("comma or object end", &after)),
            }
            token = self.next_token();
        }
    }

    fn array(&mut self) -> Result<Value<'gc>, String> {
        self.descend()?;
        let table = Table::new(&self.ctx);
        if let Some(mt) = self.array_mt {
            table.set_metatable(&self.ctx, Some(mt));
        }
        let mut token = self.next_token();
        if matches!(token.kind, Kind::ArrEnd) {
            self.depth -= 1;
            return Ok(Value::Table(table));
        }
        let mut i = 1i64;
        loop {
            let value = self.value(token)?;
            table.set(self.ctx, i, value).ok();
            i += 1;
            let after = self.next_token();
            match after.kind {
                Kind::ArrEnd => {
                    self.depth -= 1;
                    return Ok(Value::Table(table));
                }
                Kind::Comma => {}
                _ => return Err(expected("comma or array end", &after)),
            }
            token = self.next_token();
        }
    }
}

/// C's `strtoll(s, &end, 10)` at `start` (no leading blanks to skip here): `(end, value)`,
/// `end == start` when there are no digits; saturates on overflow as C does.
fn strtoll(data: &[u8], start: usize) -> (usize, i64) {
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let mut p = start;
    let negative = match at(p) {
        b'-' => {
            p += 1;
            true
        }
        b'+' => {
            p += 1;
            false
        }
        _ => false,
    };
    let digits = p;
    let mut value: i128 = 0;
    while at(p).is_ascii_digit() {
        value = (value * 10 + (at(p) - b'0') as i128).min(i64::MAX as i128 + 1);
        p += 1;
    }
    if p == digits {
        return (start, 0);
    }
    let value = if negative { -value } else { value };
    (p, value.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// C's `strtod` (C locale) at `start`: decimal, hexadecimal (`0x1.8p3`), `inf`,
/// `infinity`, `nan`, `nan(...)`, with an optional sign. `(value, end)`, or `None`
/// when nothing converts.
fn strtod(data: &[u8], start: usize) -> Option<(f64, usize)> {
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let word = |p: usize, w: &[u8]| (0..w.len()).all(|i| at(p + i).to_ascii_lowercase() == w[i]);
    let mut p = start;
    let sign = match at(p) {
        b'-' => {
            p += 1;
            -1.0
        }
        b'+' => {
            p += 1;
            1.0
        }
        _ => 1.0,
    };
    if word(p, b"inf") {
        let end = if word(p, b"infinity") { p + 8 } else { p + 3 };
        return Some((sign * f64::INFINITY, end));
    }
    if word(p, b"nan") {
        let mut end = p + 3;
        if at(end) == b'(' {
            let mut q = end + 1;
            while at(q).is_ascii_alphanumeric() || at(q) == b'_' {
                q += 1;
            }
            if at(q) == b')' {
                end = q + 1;
            }
        }
        return Some((f64::NAN.copysign(sign), end));
    }
    if at(p) == b'0' && at(p + 1) | 0x20 == b'x' {
        if let Some((n, end)) = hex_float(data, p + 2) {
            return Some((sign * n, end));
        }
        // "0x" without hex digits: the "0" converts.
        return Some((sign * 0.0, p + 1));
    }
    let digits_start = p;
    let mut digits = 0;
    while at(p).is_ascii_digit() {
        p += 1;
        digits += 1;
    }
    if at(p) == b'.' {
        p += 1;
        while at(p).is_ascii_digit() {
            p += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    let mantissa_end = p;
    if at(p) | 0x20 == b'e' {
        let mut q = p + 1;
        if matches!(at(q), b'+' | b'-') {
            q += 1;
        }
        if at(q).is_ascii_digit() {
            while at(q).is_ascii_digit() {
                q += 1;
            }
            p = q;
        }
    }
    // Rust's parser wants a digit on each side of the point: "1." and ".5" are C's too.
    let mut text = String::from_utf8_lossy(&data[digits_start..mantissa_end]).into_owned();
    if text.starts_with('.') {
        text.insert(0, '0');
    }
    if text.ends_with('.') {
        text.push('0');
    }
    text.push_str(&String::from_utf8_lossy(&data[mantissa_end..p]));
    let n: f64 = text.parse().ok()?;
    Some((sign * n, p))
}

/// The part of a hexadecimal float after `0x`: digits, an optional fraction and `p`
/// exponent. None without any hex digit.
fn hex_float(data: &[u8], start: usize) -> Option<(f64, usize)> {
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let mut p = start;
    let mut value = 0.0f64;
    let mut digits = 0;
    while let Some(d) = hex_digit(at(p)) {
        value = value * 16.0 + d as f64;
        p += 1;
        digits += 1;
    }
    let mut scale = 0i32;
    if at(p) == b'.' {
        let mut q = p + 1;
        while let Some(d) = hex_digit(at(q)) {
            value = value * 16.0 + d as f64;
            scale -= 4;
            q += 1;
            digits += 1;
        }
        if digits > 0 {
            p = q;
        }
    }
    if digits == 0 {
        return None;
    }
    if at(p) | 0x20 == b'p' {
        let mut q = p + 1;
        let negative = at(q) == b'-';
        if matches!(at(q), b'+' | b'-') {
            q += 1;
        }
        if at(q).is_ascii_digit() {
            let mut exp = 0i32;
            while at(q).is_ascii_digit() {
                exp = exp.saturating_mul(10).saturating_add((at(q) - b'0') as i32);
                q += 1;
            }
            scale = scale.saturating_add(if negative { -exp } else { exp });
            p = q;
        }
    }
    Some((value * 2f64.powi(scale), p))
}
