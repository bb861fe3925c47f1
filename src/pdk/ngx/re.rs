//! `ngx.re.match`, `ngx.re.find`, `ngx.re.gmatch`, `ngx.re.sub` and `ngx.re.gsub`, as
//! lua-nginx-module (with lua-resty-core's return conventions), on the `regex` crate
//! instead of PCRE.
//!
//! Options (the `options` string): `a` anchored at the start position, `i` caseless,
//! `m` multi-line, `s` dot-all, `x` extended, `u`/`U` UTF-8 mode, `j`/`o` accepted (every
//! compiled regex is cached per VM anyway, at most [`CACHE_MAX`] of them), `D`/`J`
//! accepted. An unknown option is a Lua error, `unknown flag "q" (flags "q")`.
//!
//! Differences from PCRE, documented for users:
//! - no look-around, backreferences, atomic groups, possessive quantifiers, `\Z`, `\K`,
//!   `\R`, recursion or callouts: such a regex does not compile, and the functions return
//!   `nil, "pcre2_compile() failed: <reason> in \"<regex>\""` (no Lua error), as for any
//!   other bad regex;
//! - `d` (DFA, longest match) is not supported: same compile failure;
//! - duplicate group names (`D`, `J`) do not compile;
//! - without `u` the regex works on bytes with ASCII classes, as PCRE; with `u` it works
//!   on UTF-8 characters and `\d \w \s \b` stay ASCII, as PCRE's UTF mode without UCP
//!   (lua-nginx-module sets only PCRE_UTF8 / PCRE2_UTF); case folding is Unicode's;
//! - `$` without `m` matches only at the very end (PCRE also before a final newline);
//!   in `x` mode whitespace inside `[...]` is ignored too;
//! - after an empty match, `gmatch`/`gsub` resume one character further (PCRE first
//!   retries a non-empty match at the same place; the results differ only for regexes
//!   whose empty alternative is tried before a non-empty one).
//!
//! Captures: `m[0]` the whole match, `m[1]`... the groups, named groups also by name;
//! a group that did not take part is `false`. Replacement templates: `$0`, `$1`, `${1}`,
//! `${name}` (an extension: nginx only knows numbers), `$$` for a dollar.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use gc_arena::Collect;
use piccolo::{
    BoxSequence, Callback, CallbackReturn, Context, Error, Execution, Function, Sequence, SequencePoll, Stack, Table,
    Value,
};
use regex::bytes::{CaptureLocations, Regex, RegexBuilder};

use crate::pdk::{lua_string, raise, set_function, Pdk};
use crate::lua::format;

/// How many compiled regexes a VM keeps (lua-nginx-module's `lua_regex_cache_max_entries`
/// default); the cache is emptied when it is full.
pub const CACHE_MAX: usize = 1024;

/// Sets `ngx.re` into the `ngx` table.
pub fn install<'gc>(ctx: Context<'gc>, ngx: Table<'gc>, pdk: &Pdk) {
    let re = Table::new(&ctx);
    set_function(ctx, re, "match", pdk, re_match);
    set_function(ctx, re, "find", pdk, re_find);
    set_function(ctx, re, "gmatch", pdk, re_gmatch);
    set_function(ctx, re, "sub", pdk, re_sub);
    set_function(ctx, re, "gsub", pdk, re_gsub);
    ngx.set(ctx, "re", re).ok();
}

type Res<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

/// A compiled regex with the options that are not part of the pattern.
pub struct Compiled {
    re: Regex,
    anchored: bool,
    utf8: bool,
    /// `(group index, name)` of the named groups.
    names: Vec<(usize, Box<str>)>,
}

thread_local! {
    static CACHE: RefCell<HashMap<(Vec<u8>, Vec<u8>), Rc<Compiled>>> = RefCell::new(HashMap::new());
}

/// Why a regex could not be used.
pub enum CompileError {
    /// An unknown option letter: a Lua error.
    BadFlag(String),
    /// The regex did not compile: returned as `nil, err`.
    Compile(String),
}

/// Compiles `pattern` with the `options` letters, through the per-VM cache.
pub fn compile(pattern: &[u8], options: &[u8]) -> Result<Rc<Compiled>, CompileError> {
    let key = (pattern.to_vec(), options.to_vec());
    if let Some(c) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(c);
    }
    let (mut anchored, mut utf8, mut dfa) = (false, false, false);
    let mut flags = String::new();
    for &o in options {
        match o {
            b'a' => anchored = true,
            b'd' => dfa = true,
            b'i' | b'm' | b's' | b'x' => flags.push(o as char),
            b'u' | b'U' => utf8 = true,
            b'j' | b'o' | b'D' | b'J' => {}
            _ => {
                return Err(CompileError::BadFlag(format!(
                    "unknown flag \"{}\" (flags \"{}\")",
                    o as char,
                    String::from_utf8_lossy(options)
                )))
            }
        }
    }
    let shown = String::from_utf8_lossy(pattern);
    let failed = |reason: &str| CompileError::Compile(format!("pcre2_compile() failed: {reason} in \"{shown}\""));
    if dfa {
        return Err(failed("DFA mode (option \"d\") not supported"));
    }
    // Without `u`, PCRE takes any bytes: bytes that are not UTF-8 become `\xHH` escapes.
    let text = match std::str::from_utf8(pattern) {
        Ok(text) => text.to_string(),
        Err(_) if !utf8 => pattern
            .utf8_chunks()
            .map(|chunk| {
                let bad: String = chunk.invalid().iter().map(|b| format!("\\x{b:02X}")).collect();
                format!("{}{bad}", chunk.valid())
            })
            .collect(),
        Err(_) => return Err(failed("regex is not valid UTF-8")),
    };
    let text = if utf8 { ascii_perl_classes(&text) } else { text };
    if !utf8 {
        flags.push_str("-u");
    }
    let full = if flags.is_empty() { text } else { format!("(?{flags}){text}") };
    let re = RegexBuilder::new(&full)
        .size_limit(4 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| {
            let msg = e.to_string();
            let reason = msg.rsplit("error: ").next().unwrap_or(&msg).trim().to_string();
            failed(&reason)
        })?;
    let names = re
        .capture_names()
        .enumerate()
        .filter_map(|(i, n)| n.map(|n| (i, n.into())))
        .collect();
    let compiled = Rc::new(Compiled { re, anchored, utf8, names });
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_MAX {
            c.clear();
        }
        c.insert(key, compiled.clone());
    });
    Ok(compiled)
}

/// `pattern` (a `u` regex) with the Perl classes as PCRE's UTF mode without UCP reads
/// them: `\d \w \s` and their negations match ASCII characters only (pcre2pattern: code
/// points above 127 never match `\d`, `\s` or `\w`), and `\b \B` test ASCII word
/// characters. The classes become the regex crate's ASCII classes (`[[:digit:]]`, valid
/// inside a class too, as a nested one), the boundaries `(?-u:\b)` outside classes.
fn ascii_perl_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    // Nesting depth of `[...]`; `class_start` while a `]` would still be a literal.
    let (mut depth, mut class_start) = (0usize, false);
    while let Some(c) = chars.next() {
        let at_start = std::mem::take(&mut class_start);
        match c {
            '\\' => match chars.next() {
                Some(e @ ('d' | 'D' | 'w' | 'W' | 's' | 'S')) => {
                    let name = match e.to_ascii_lowercase() { 'd' => "digit", 'w' => "word", _ => "space" };
                    let not = if e.is_ascii_uppercase() { "^" } else { "" };
                    out.push_str(&format!("[[:{not}{name}:]]"));
                }
                Some(e @ ('b' | 'B')) if depth == 0 => out.push_str(&format!("(?-u:\\{e})")),
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => out.push('\\'),
            },
            '[' if depth > 0 && chars.peek() == Some(&':') => {
                // A POSIX item, `[:alpha:]`, copied through its `:]`.
                out.push('[');
                while let Some(p) = chars.next() {
                    out.push(p);
                    if p == ']' {
                        break;
                    }
                }
            }
            '[' => {
                out.push('[');
                depth += 1;
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                class_start = true;
            }
            ']' if depth > 0 && !at_start => {
                out.push(']');
                depth -= 1;
            }
            _ => out.push(c),
        }
    }
    out
}

impl Compiled {
    /// The first match at or after byte `start` (only at `start` when anchored), with its
    /// groups in `locs`.
    fn search(&self, subject: &[u8], start: usize, locs: &mut CaptureLocations) -> Option<(usize, usize)> {
        if start > subject.len() {
            return None;
        }
        let m = self.re.captures_read_at(locs, subject, start)?;
        if self.anchored && m.start() != start {
            return None;
        }
        Some((m.start(), m.end()))
    }

    /// The position one character after `pos` (a UTF-8 sequence in `u` mode).
    fn next_char(&self, subject: &[u8], pos: usize) -> usize {
        if self.utf8 {
            if let Some(&b) = subject.get(pos) {
                let len = match b {
                    0xf0..=0xf7 => 4,
                    0xe0..=0xef => 3,
                    0xc0..=0xdf => 2,
                    _ => 1,
                };
                return (pos + len).min(subject.len());
            }
        }
        pos + 1
    }

    /// The captures table: `[0]`, `[1]`... and names; groups that did not match are `false`.
    fn captures<'gc>(&self, ctx: Context<'gc>, subject: &[u8], locs: &CaptureLocations, into: Option<Table<'gc>>) -> Table<'gc> {
        let t = into.unwrap_or_else(|| Table::new(&ctx));
        let group = |i: usize| match locs.get(i) {
            Some((s, e)) => lua_string(ctx, &subject[s..e]),
            None => Value::Boolean(false),
        };
        for i in 0..locs.len() {
            t.set(ctx, i as i64, group(i)).ok();
        }
        for (i, name) in &self.names {
            t.set(ctx, piccolo::String::from_slice(&ctx, name.as_bytes()), group(*i)).ok();
        }
        t
    }
}

/// Iterates over successive matches, PCRE-style: after an empty match the next search
/// starts one character further; a non-empty match may be followed by an empty one where
/// it ended.
struct Scanner {
    compiled: Rc<Compiled>,
    subject: Vec<u8>,
    pos: usize,
    last_empty: bool,
    done: bool,
    locs: CaptureLocations,
}

impl Scanner {
    fn new(compiled: Rc<Compiled>, subject: Vec<u8>, pos: usize) -> Scanner {
        let locs = compiled.re.capture_locations();
        Scanner { compiled, subject, pos, last_empty: false, done: false, locs }
    }

    fn next(&mut self) -> Option<(usize, usize)> {
        if self.done {
            return None;
        }
        let from = if self.last_empty { self.compiled.next_char(&self.subject, self.pos) } else { self.pos };
        match self.compiled.search(&self.subject, from, &mut self.locs) {
            Some((s, e)) => {
                self.pos = e;
                self.last_empty = s == e;
                Some((s, e))
            }
            None => {
                self.done = true;
                None
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Arguments

/// `tostring` of an argument (lua-resty-core converts subject and regex so).
fn text_arg(value: Value<'_>) -> Vec<u8> {
    match value {
        Value::String(s) => s.as_bytes().to_vec(),
        other => format::display(other).into_bytes(),
    }
}

fn options_arg(value: Value<'_>) -> Vec<u8> {
    match value {
        Value::Nil => Vec::new(),
        other => text_arg(other),
    }
}

/// Compiles, raising on a bad flag; `Ok(Err(msg))` for a regex that does not compile.
fn compile_args<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, regex: Value<'gc>, options: Value<'gc>) -> Result<Result<Rc<Compiled>, String>, Error<'gc>> {
    match compile(&text_arg(regex), &options_arg(options)) {
        Ok(c) => Ok(Ok(c)),
        Err(CompileError::Compile(msg)) => Ok(Err(msg)),
        Err(CompileError::BadFlag(msg)) => raise(ctx, exec, &msg),
    }
}

/// The optional `ctx` table argument.
fn ctx_arg<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, i: usize, fname: &str) -> Result<Option<Table<'gc>>, Error<'gc>> {
    match stack.get(i) {
        Value::Nil => Ok(None),
        Value::Table(t) => Ok(Some(t)),
        other => raise(ctx, exec, &format!("bad argument #{} to '{fname}' (table expected, got {})", i + 1, other.type_name())),
    }
}

/// The 0-based start offset from `ctx.pos` (1-based; absent or < 1 means the start).
fn start_of<'gc>(ctx: Context<'gc>, table: Option<Table<'gc>>) -> usize {
    let Some(t) = table else { return 0 };
    match crate::lua::stdlib::args::to_number(t.get(ctx, "pos")) {
        Some(p) if p >= 1.0 && p.is_finite() => (p as usize).saturating_sub(1),
        Some(p) if p.is_infinite() && p > 0.0 => usize::MAX,
        _ => 0,
    }
}

fn fail<'gc>(ctx: Context<'gc>, mut stack: Stack<'gc, '_>, nils: usize, msg: &str) -> Res<'gc> {
    stack.clear();
    for _ in 0..nils {
        stack.push_back(Value::Nil);
    }
    stack.push_back(lua_string(ctx, msg.as_bytes()));
    Ok(CallbackReturn::Return)
}

// ---------------------------------------------------------------------------------------
// match / find / gmatch

/// `ngx.re.match(subject, regex, options?, ctx?, res_table?)`: the captures table or `nil`;
/// `nil, err` for a bad regex. With `ctx`, starts at `ctx.pos` and sets it after the match.
fn re_match<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let subject = text_arg(stack.get(0));
    let compiled = match compile_args(ctx, &exec, stack.get(1), stack.get(2))? {
        Ok(c) => c,
        Err(msg) => return fail(ctx, stack, 1, &msg),
    };
    let pos_table = ctx_arg(ctx, &exec, &stack, 3, "match")?;
    let res_table = match stack.get(4) {
        Value::Table(t) => Some(t),
        _ => None,
    };
    let mut locs = compiled.re.capture_locations();
    let result = match compiled.search(&subject, start_of(ctx, pos_table), &mut locs) {
        Some((_, end)) => {
            if let Some(t) = pos_table {
                t.set(ctx, "pos", end as i64 + 1).ok();
            }
            Value::Table(compiled.captures(ctx, &subject, &locs, res_table))
        }
        None => Value::Nil,
    };
    stack.replace(ctx, result);
    Ok(CallbackReturn::Return)
}

/// `ngx.re.find(subject, regex, options?, ctx?, nth?)`: `from, to` (1-based, inclusive) of
/// the match, or of group `nth`; `nil` when there is no match (or group `nth` did not take
/// part); `nil, nil, err` for a bad regex.
fn re_find<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let subject = text_arg(stack.get(0));
    let compiled = match compile_args(ctx, &exec, stack.get(1), stack.get(2))? {
        Ok(c) => c,
        Err(msg) => return fail(ctx, stack, 2, &msg),
    };
    let pos_table = ctx_arg(ctx, &exec, &stack, 3, "find")?;
    let nth = match stack.get(4) {
        Value::Nil => 0,
        v => match crate::lua::stdlib::args::to_number(v) {
            Some(n) if n >= 0.0 => n as usize,
            Some(_) => 0,
            None => return raise(ctx, &exec, &format!("bad argument #5 to 'find' (number expected, got {})", v.type_name())),
        },
    };
    let mut locs = compiled.re.capture_locations();
    let Some((_, end)) = compiled.search(&subject, start_of(ctx, pos_table), &mut locs) else {
        stack.replace(ctx, Value::Nil);
        return Ok(CallbackReturn::Return);
    };
    if let Some(t) = pos_table {
        t.set(ctx, "pos", end as i64 + 1).ok();
    }
    match locs.get(nth) {
        Some((s, e)) => stack.replace(ctx, (s as i64 + 1, e as i64)),
        None => stack.replace(ctx, Value::Nil),
    }
    Ok(CallbackReturn::Return)
}

/// `ngx.re.gmatch(subject, regex, options?)`: an iterator returning each match's captures
/// table, then `nil`; `nil, err` for a bad regex.
fn re_gmatch<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let subject = text_arg(stack.get(0));
    let compiled = match compile_args(ctx, &exec, stack.get(1), stack.get(2))? {
        Ok(c) => c,
        Err(msg) => return fail(ctx, stack, 1, &msg),
    };
    let scanner = RefCell::new(Scanner::new(compiled, subject, 0));
    let iterator = Callback::from_fn(&ctx, move |ctx, _exec, mut stack| {
        let mut s = scanner.borrow_mut();
        let value = match s.next() {
            Some(_) => Value::Table(s.compiled.captures(ctx, &s.subject, &s.locs, None)),
            None => Value::Nil,
        };
        stack.replace(ctx, value);
        Ok(CallbackReturn::Return)
    });
    stack.replace(ctx, iterator);
    Ok(CallbackReturn::Return)
}

// ---------------------------------------------------------------------------------------
// sub / gsub

/// A piece of a replacement template.
enum Piece {
    Text(Vec<u8>),
    Group(usize),
    Name(String),
}

/// Parses a replacement template: `$N`, `${N}`, `${name}`, `$$`.
fn parse_template(template: &[u8]) -> Result<Vec<Piece>, String> {
    let shown = || String::from_utf8_lossy(template).into_owned();
    let mut pieces = Vec::new();
    let mut text = Vec::new();
    let mut i = 0;
    while i < template.len() {
        let c = template[i];
        if c != b'$' {
            text.push(c);
            i += 1;
            continue;
        }
        i += 1;
        match template.get(i) {
            Some(b'$') => {
                text.push(b'$');
                i += 1;
                continue;
            }
            Some(d) if d.is_ascii_digit() => {
                let start = i;
                while template.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let n = std::str::from_utf8(&template[start..i]).ok().and_then(|s| s.parse().ok()).unwrap_or(usize::MAX);
                pieces.push(Piece::Text(std::mem::take(&mut text)));
                pieces.push(Piece::Group(n));
            }
            Some(b'{') => {
                let Some(close) = template[i..].iter().position(|&c| c == b'}') else {
                    return Err(format!("the closing bracket in \"{}\" variable is missing", shown()));
                };
                let name = &template[i + 1..i + close];
                let valid = !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
                if !valid {
                    return Err(format!("invalid capturing variable name found in \"{}\"", shown()));
                }
                pieces.push(Piece::Text(std::mem::take(&mut text)));
                let name = String::from_utf8_lossy(name).into_owned();
                pieces.push(match name.parse() {
                    Ok(n) if name.bytes().all(|c| c.is_ascii_digit()) => Piece::Group(n),
                    _ => Piece::Name(name),
                });
                i += close + 1;
            }
            _ => return Err(format!("invalid capturing variable name found in \"{}\"", shown())),
        }
    }
    pieces.push(Piece::Text(text));
    Ok(pieces)
}

/// Appends the template's expansion for the current match.
fn expand(pieces: &[Piece], compiled: &Compiled, subject: &[u8], locs: &CaptureLocations, out: &mut Vec<u8>) {
    for piece in pieces {
        let group = match piece {
            Piece::Text(t) => {
                out.extend_from_slice(t);
                continue;
            }
            Piece::Group(n) => *n,
            Piece::Name(name) => match compiled.names.iter().find(|(_, n)| **n == **name) {
                Some((i, _)) => *i,
                None => continue,
            },
        };
        if let Some((s, e)) = locs.get(group) {
            out.extend_from_slice(&subject[s..e]);
        }
    }
}

/// A substitution in progress.
struct Substitution {
    scanner: Scanner,
    global: bool,
    out: Vec<u8>,
    /// Where the text not yet copied to `out` starts.
    copied: usize,
    count: i64,
}

impl Substitution {
    /// The next match to replace, copying the text before it.
    fn next(&mut self) -> Option<(usize, usize)> {
        if !self.global && self.count > 0 {
            return None;
        }
        let (s, e) = self.scanner.next()?;
        self.out.extend_from_slice(&self.scanner.subject[self.copied..s]);
        self.copied = e;
        self.count += 1;
        Some((s, e))
    }

    /// The new string and the count.
    fn finish<'gc>(&mut self, ctx: Context<'gc>, stack: &mut Stack<'gc, '_>) {
        self.out.extend_from_slice(&self.scanner.subject[self.copied..]);
        stack.replace(ctx, (lua_string(ctx, &self.out), self.count));
    }
}

/// Calls a replacement function for each match (lua-nginx-module's function `replace`).
#[derive(Collect)]
#[collect(no_drop)]
struct ReplaceWith<'gc> {
    function: Function<'gc>,
    #[collect(require_static)]
    state: Box<Substitution>,
    #[collect(require_static)]
    waiting: bool,
}

impl<'gc> Sequence<'gc> for ReplaceWith<'gc> {
    fn poll(&mut self, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        if self.waiting {
            let replacement = match stack.get(0) {
                Value::String(s) => s.as_bytes().to_vec(),
                other => format::display(other).into_bytes(),
            };
            self.state.out.extend_from_slice(&replacement);
            self.waiting = false;
        }
        stack.clear();
        if self.state.next().is_some() {
            let s = &self.state.scanner;
            let table = s.compiled.captures(ctx, &s.subject, &s.locs, None);
            stack.push_back(Value::Table(table));
            self.waiting = true;
            return Ok(SequencePoll::Call { function: self.function, is_tail: false });
        }
        self.state.finish(ctx, &mut stack);
        Ok(SequencePoll::Return)
    }
}

fn substitute<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, global: bool) -> Res<'gc> {
    let fname = if global { "gsub" } else { "sub" };
    let subject = text_arg(stack.get(0));
    let compiled = match compile_args(ctx, &exec, stack.get(1), stack.get(3))? {
        Ok(c) => c,
        Err(msg) => return fail(ctx, stack, 2, &msg),
    };
    let mut state = Substitution { scanner: Scanner::new(compiled, subject, 0), global, out: Vec::new(), copied: 0, count: 0 };
    let template = match stack.get(2) {
        Value::Function(function) => {
            stack.clear();
            let sequence = ReplaceWith { function, state: Box::new(state), waiting: false };
            return Ok(CallbackReturn::Sequence(BoxSequence::new(&ctx, sequence)));
        }
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => format::number(v).into_bytes(),
        other => {
            return raise(ctx, &exec, &format!(
                "bad argument #3 to '{fname}' (string, number or function expected, got {})",
                other.type_name()
            ))
        }
    };
    let pieces = match parse_template(&template) {
        Ok(p) => p,
        Err(msg) => return fail(ctx, stack, 2, &msg),
    };
    while state.next().is_some() {
        let s = &state.scanner;
        let mut piece = Vec::new();
        expand(&pieces, &s.compiled, &s.subject, &s.locs, &mut piece);
        state.out.extend_from_slice(&piece);
    }
    state.finish(ctx, &mut stack);
    Ok(CallbackReturn::Return)
}

/// `ngx.re.sub(subject, regex, replace, options?)`: `newstr, n` with the first match
/// replaced (a template string, or a function given the captures table); `nil, nil, err`
/// for a bad regex or template.
fn re_sub<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    substitute(ctx, exec, stack, false)
}

/// `ngx.re.gsub(subject, regex, replace, options?)`: as `sub`, for every match.
fn re_gsub<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    substitute(ctx, exec, stack, true)
}

#[cfg(test)]
mod tests {
    use crate::pdk::ngx::util::tests::{run, run_err};

    #[test]
    fn match_returns_numbered_and_named_captures() {
        assert_eq!(
            run("local m = ngx.re.match('hello 1234', '([0-9])[0-9]+')\nsay(m[0], m[1], m[2])\n\
                 m = ngx.re.match('hello, 1234', '([0-9])(?<remaining>[0-9]+)')\nsay(m[0], m[1], m[2], m.remaining)\n\
                 m = ngx.re.match('hello, world', '(world)|(hello)|(?<named>howdy)')\nsay(m[0], m[1], m[2], m[3], m.named)\n\
                 say(ngx.re.match('hello', '[0-9]+'))"),
            [
                "1234 1 nil",
                "1234 1 234 234",
                "hello false hello false false",
                "nil",
            ]
        );
    }

    #[test]
    fn match_options_and_ctx_pos() {
        assert_eq!(
            run("say(ngx.re.match('HELLO', 'hello', 'i')[0], ngx.re.match('HELLO', 'hello'))\n\
                 say(ngx.re.match('a\\nb', '^b', 'm')[0], ngx.re.match('a\\nb', '^b'))\n\
                 say(ngx.re.match('a\\nb', 'a.b', 's')[0], ngx.re.match('a\\nb', 'a.b'))\n\
                 say(ngx.re.match('ab12', '[0-9]+', 'a'), ngx.re.match('12ab', '[0-9]+', 'ajo')[0])\n\
                 say(ngx.re.match('abc', 'a b  c', 'x')[0])\n\
                 say(#ngx.re.match('日本', '.', 'u')[0], #ngx.re.match('日本', '.')[0], ngx.re.find('a\\255b', '\\255'))\n\
                 local ctx = {pos = 3}\nlocal m = ngx.re.match('1a2b3c', '[0-9]', nil, ctx)\nsay(m[0], ctx.pos)\n\
                 m = ngx.re.match('1a2b3c', '[0-9]', nil, ctx)\nsay(m[0], ctx.pos)\n\
                 say(ngx.re.match('1a2b3c', '[0-9]', nil, ctx), ctx.pos)\n\
                 local res = {}\nlocal r = ngx.re.match('x=1', '(\\\\w)=(\\\\d)', 'jo', nil, res)\nsay(r == res, res[1], res[2])"),
            [
                "HELLO nil",
                "b nil",
                "a\nb nil",
                "nil 12",
                "abc",
                "3 1 2 2",
                "2 4",
                "3 6",
                "nil 6",
                "true x 1",
            ]
        );
    }

    #[test]
    fn utf8_mode_keeps_perl_classes_and_word_boundaries_ascii_as_pcre() {
        // lua-nginx-module's `u` sets PCRE_UTF8 (PCRE2_UTF) without UCP; pcre2pattern:
        // "characters whose code points are greater than 127 never match \d, \s, or \w,
        // and always match \D, \S, and \W", and \b is defined by \w. Caseless matching
        // of non-ASCII letters stays Unicode's (PCRE built with Unicode support).
        assert_eq!(
            run(r#"say(ngx.re.match('héllo', '\\w+', 'u')[0], ngx.re.match('héllo', '\\W', 'u')[0])
                   say(ngx.re.find('x\217\163', '\\d', 'u'), ngx.re.match('ab12', '\\d+', 'u')[0])
                   say(ngx.re.match('a\194\160b', 'a\\sb', 'u'), ngx.re.match('a b', 'a\\sb', 'u')[0])
                   say(ngx.re.match('é1', '[^\\d]', 'u')[0], ngx.re.match('aé', '[\\w]+', 'u')[0], ngx.re.match('é', '[[:alpha:]\\S]', 'u')[0])
                   say(ngx.re.gsub('éa é', '\\b', '|', 'u'))
                   say(ngx.re.match('É', 'é', 'iu')[0], ngx.re.match('\\d', '\\\\d', 'u')[0])"#),
            ["h é", "nil 12", "nil a b", "é a é", "é|a| é 2", "É \\d"]
        );
    }

    #[test]
    fn bad_regexes_return_nil_and_an_error_but_bad_flags_raise() {
        let lines = run(
            "say(ngx.re.match('abc', '(abc'))\n\
             say(ngx.re.match('foobar', 'foo(?=bar)'))\n\
             say(ngx.re.match('aa', '(a)\\\\1'))\n\
             say(ngx.re.find('abc', '(abc'))\n\
             say(ngx.re.gmatch('abc', '(abc'))\n\
             say(ngx.re.gsub('abc', '(abc', 'x'))",
        );
        assert_eq!(lines.len(), 6);
        assert!(lines[0].starts_with("nil pcre2_compile() failed: ") && lines[0].ends_with(" in \"(abc\""), "{}", lines[0]);
        assert!(lines[1].starts_with("nil pcre2_compile() failed: look-around"), "{}", lines[1]);
        assert!(lines[2].starts_with("nil pcre2_compile() failed: backreferences"), "{}", lines[2]);
        assert!(lines[3].starts_with("nil nil pcre2_compile() failed"), "{}", lines[3]);
        assert!(lines[4].starts_with("nil pcre2_compile() failed"), "{}", lines[4]);
        assert!(lines[5].starts_with("nil nil pcre2_compile() failed"), "{}", lines[5]);
        assert_eq!(run_err("ngx.re.match('a', 'a', 'q')"), "access[1]:2: unknown flag \"q\" (flags \"q\")");
        assert_eq!(
            run_err("ngx.re.match('a', 'a', nil, 5)"),
            "access[1]:2: bad argument #4 to 'match' (table expected, got number)"
        );
    }

    #[test]
    fn find_returns_positions() {
        assert_eq!(
            run("say(ngx.re.find('hello, 1234', '([0-9]+)', 'jo'))\n\
                 say(ngx.re.find('hello, 1234', '([0-9])([0-9]+)', 'jo', nil, 2))\n\
                 say(ngx.re.find('hello', '(x)?h', nil, nil, 1))\n\
                 say(ngx.re.find('hello', 'z'))\n\
                 local ctx = {}\nsay(ngx.re.find('a1b2', '[0-9]', nil, ctx), ctx.pos)\nsay(ngx.re.find('a1b2', '[0-9]', nil, ctx), ctx.pos)\n\
                 say(ngx.re.find('abc', '', nil, {pos = 4}))"),
            ["8 11", "9 11", "nil", "nil", "2 3", "4 5", "4 3"]
        );
    }

    #[test]
    fn gmatch_iterates_over_matches() {
        assert_eq!(
            run("local it = ngx.re.gmatch('hello, world!', '([a-z]+)', 'i')\n\
                 local m = it() say(m[0], m[1]) m = it() say(m[0], m[1]) say(it()) say(it())\n\
                 local out = {} for m in ngx.re.gmatch('baaa', 'a*') do out[#out + 1] = '[' .. m[0] .. ']' end say(table.concat(out))\n\
                 out = {} for m in ngx.re.gmatch('k1=v1&k2=v2', '(?<k>\\\\w+)=(?<v>\\\\w+)') do out[#out + 1] = m.k .. ':' .. m.v end say(table.concat(out, ','))"),
            ["hello hello", "world world", "nil", "nil", "[][aaa][]", "k1:v1,k2:v2"]
        );
    }

    #[test]
    fn sub_and_gsub_expand_templates() {
        assert_eq!(
            run("say(ngx.re.sub('hello, 1234', '([0-9])[0-9]', '[$0][$1]'))\n\
                 say(ngx.re.sub('hello, 1234', '[0-9]', '${0}00'))\n\
                 say(ngx.re.sub('hello, 1234', '[0-9]', '$$'))\n\
                 say(ngx.re.gsub('hello, world', '([a-z])[a-z]+', '[$0,$1]', 'i'))\n\
                 say(ngx.re.gsub('a=1, b=2', '(?<k>[a-z])=(?<v>[0-9])', '${v}=${k}'))\n\
                 say(ngx.re.gsub('abc', 'z', 'y'))\n\
                 say(ngx.re.gsub('baaa', 'a*', '-'))\n\
                 say(ngx.re.gsub('aXbX', 'X', 5))\n\
                 say(ngx.re.gsub('ab', '(x)?b', '[$1]'))\n\
                 say(ngx.re.gsub('ab', 'b', '$x'))\n\
                 say(ngx.re.gsub('ab', 'b', '${1'))"),
            [
                "hello, [12][1]34 1",
                "hello, 100234 1",
                "hello, $234 1",
                "[hello,h], [world,w] 2",
                "1=a, 2=b 2",
                "abc 0",
                "-b-- 3",
                "a5b5 2",
                "a[] 1",
                "nil nil invalid capturing variable name found in \"$x\"",
                "nil nil the closing bracket in \"${1\" variable is missing",
            ]
        );
    }

    #[test]
    fn gsub_calls_a_replacement_function() {
        assert_eq!(
            run("local func = function(m) return '[' .. m[0] .. '][' .. m[1] .. ']' end\n\
                 say(ngx.re.sub('hello, 1234', '( [0-9] ) [0-9]', func, 'x'))\n\
                 say(ngx.re.gsub('a1b22c333', '[0-9]+', function(m) return #m[0] end))\n\
                 say(ngx.re.gsub('abc', 'z', function() error('never') end))\n\
                 local n = 0\nsay(ngx.re.gsub('x-y-z', '-', function(m) n = n + 1 return '$0' .. n end), n)"),
            ["hello, [12][1]34 1", "a1b2c3 3", "abc 0", "x$01y$02z 2"]
        );
        assert_eq!(
            run_err("ngx.re.gsub('abc', 'b', function(m) error('inside') end)"),
            "access[1]:2: inside"
        );
    }

    #[test]
    fn argument_errors_are_lua_errors() {
        assert_eq!(
            run_err("ngx.re.gsub('abc', 'b', {})"),
            "access[1]:2: bad argument #3 to 'gsub' (string, number or function expected, got table)"
        );
        assert_eq!(run_err("ngx.re.find('abc', 'b', nil, nil, {})"), "access[1]:2: bad argument #5 to 'find' (number expected, got table)");
    }
}
