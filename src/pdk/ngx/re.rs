//! `ngx.re.match`, `ngx.re.find`, `ngx.re.gmatch`, `ngx.re.sub` and `ngx.re.gsub` on PCRE2
//! (see [`super::pcre`]), as lua-resty-core's `resty/core/regex.lua` runs them over
//! lua-nginx-module's `ngx_http_lua_regex.c` built with PCRE2 (Kong's OpenResty); and the
//! search step of `ngx.re.split` (`require "ngx.re"`, `src/lua/modules/ngx_re.lua`).
//!
//! Options (the `options` string), as lua-resty-core parses them: `i` caseless, `m`
//! multi-line, `s` dot-all, `x` extended, `u` UTF-8, `U` UTF-8 (see below), `a` anchored,
//! `D` duplicate names (named captures become arrays), `J` JavaScript compatibility
//! (`ALT_BSUX | ALLOW_EMPTY_CLASS | MATCH_UNSET_BACKREF`), `d` DFA (longest match, no
//! captures), `j` JIT (no JIT in wasm: accepted, no effect), `o` compile once. An unknown
//! letter is a Lua error, `unknown flag "q" (flags "q")`.
//!
//! Results, as OpenResty's: captures tables with `[0]`, `[1]`... and the named groups
//! (`false` for a group that did not take part); a regex that does not compile answers
//! `nil, "pcre2_compile() failed: <PCRE2's message> in \"<regex>\" [at \"<rest>\"]"`; a
//! match that fails answers `nil, "pcre_exec() failed: <code>"` (-47 past the match
//! limit, -63 past the heap limit, -3 to -23 for bad UTF-8 with `u`, -36 for a start inside
//! a character, -33 for a start past the end). After an empty
//! match, `gmatch`/`gsub`/`split` resume one byte further, as lua-resty-core does.
//!
//! Differences from OpenResty, for users (docs/pdk.md repeats them):
//! - no JIT (`j` is accepted); compiled regexes are cached per VM whether or not `o` is
//!   given (an LRU of [`CACHE_MAX`] entries, lua-nginx-module's default
//!   `lua_regex_cache_max_entries`; regexes up to [`CACHE_PATTERN_MAX`] bytes), which
//!   changes no result;
//! - `U` checks the subject's UTF-8 as `u` does (PCRE2 without the check is undefined
//!   behaviour on bad UTF-8, which could trap the whole wasm VM);
//! - the match limit is [`MATCH_LIMIT`] (OpenResty: PCRE2's 10,000,000 unless
//!   `lua_regex_match_limit` says otherwise), and PCRE2's backtracking memory is bounded
//!   by a quarter of the Lua memory limit (OpenResty: PCRE2's 20 GB).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use gc_arena::Collect;
use piccolo::{
    BoxSequence, Callback, CallbackReturn, Context, Error, Execution, Function, Sequence, SequencePoll, Stack, Table,
    Value,
};

use super::pcre::{self, opt, Code, Mode, UNSET};
use crate::lua::format;
use crate::pdk::{lua_string, raise, set_function, Pdk};

/// How many compiled regexes a VM keeps (lua-nginx-module's `lua_regex_cache_max_entries`
/// default); past it the least recently used one is dropped.
pub const CACHE_MAX: usize = 1024;

/// The longest regex the cache keeps, in bytes: longer ones are compiled at each call, so
/// the cache (outside the Lua heap and its limit) holds a few MiB at most.
pub const CACHE_PATTERN_MAX: usize = 4096;

/// PCRE2's match limit for one call (`pcre2_set_match_limit`: the number of times its
/// internal `match()` is entered, counted afresh at each start position). A
/// catastrophic regex fails the call with `pcre_exec() failed: -47` after tens of
/// milliseconds in wasm (38 ms on a loaded 2-core machine) instead of holding the worker
/// ten times as long (OpenResty's default is 10,000,000; BENCHMARKS.md has the timings).
pub const MATCH_LIMIT: u32 = 1_000_000;

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

/// The options of one `options` string: PCRE2's compile bits and lua-resty-core's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Options {
    pcre: u32,
    dfa: bool,
    dupnames: bool,
}

/// lua-resty-core's `parse_regex_opts`; `Err` is the message of its `error`.
fn parse_options(options: &[u8]) -> Result<Options, String> {
    let mut o = Options { pcre: 0, dfa: false, dupnames: false };
    for &c in options {
        match c {
            b'o' | b'j' => {}
            b'i' => o.pcre |= opt::CASELESS,
            b's' => o.pcre |= opt::DOTALL,
            b'm' => o.pcre |= opt::MULTILINE,
            b'u' | b'U' => o.pcre |= opt::UTF,
            b'x' => o.pcre |= opt::EXTENDED,
            b'd' => o.dfa = true,
            b'a' => o.pcre |= opt::ANCHORED,
            b'D' => {
                o.pcre |= opt::DUPNAMES;
                o.dupnames = true;
            }
            b'J' => o.pcre |= opt::JAVASCRIPT_COMPAT,
            _ => {
                let all = String::from_utf8_lossy(options);
                return Err(format!("unknown flag \"{}\" (flags \"{all}\")", String::from_utf8_lossy(&[c])));
            }
        }
    }
    Ok(o)
}

/// A compiled regex with the flags that matter when it runs.
pub struct Compiled {
    code: Code,
    mode: Mode,
    dupnames: bool,
}

/// Why a regex could not be used.
pub enum CompileError {
    /// An unknown option letter: a Lua error.
    BadFlag(String),
    /// The regex did not compile: returned as `nil, err` (the bytes of the message).
    Compile(Vec<u8>),
}

/// The per-VM cache: options string -> regex -> (compiled, last use).
#[derive(Default)]
struct Cache {
    by_options: HashMap<Vec<u8>, (Options, HashMap<Vec<u8>, (Rc<Compiled>, u64)>)>,
    len: usize,
    clock: u64,
}

impl Cache {
    fn get(&mut self, pattern: &[u8], options: &[u8]) -> Option<(Options, Option<Rc<Compiled>>)> {
        self.clock += 1;
        let clock = self.clock;
        let (parsed, regexes) = self.by_options.get_mut(options)?;
        let hit = regexes.get_mut(pattern).map(|(c, used)| {
            *used = clock;
            c.clone()
        });
        Some((*parsed, hit))
    }

    fn insert(&mut self, pattern: &[u8], options: &[u8], parsed: Options, compiled: Rc<Compiled>) {
        if pattern.len() > CACHE_PATTERN_MAX || options.len() > CACHE_PATTERN_MAX {
            return;
        }
        if self.len >= CACHE_MAX {
            self.evict();
        }
        let clock = self.clock;
        let regexes = &mut self.by_options.entry(options.to_vec()).or_insert_with(|| (parsed, HashMap::new())).1;
        if regexes.insert(pattern.to_vec(), (compiled, clock)).is_none() {
            self.len += 1;
        }
    }

    /// Drops the least recently used regex.
    fn evict(&mut self) {
        let oldest = self
            .by_options
            .iter()
            .flat_map(|(o, (_, m))| m.iter().map(move |(p, (_, used))| (*used, o, p)))
            .min_by_key(|(used, _, _)| *used)
            .map(|(_, o, p)| (o.clone(), p.clone()));
        if let Some((o, p)) = oldest {
            if let Some((_, regexes)) = self.by_options.get_mut(&o) {
                if regexes.remove(&p).is_some() {
                    self.len -= 1;
                }
                if regexes.is_empty() {
                    self.by_options.remove(&o);
                }
            }
        }
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// Compiles `pattern` with the `options` letters, through the per-VM cache.
pub fn compile(pattern: &[u8], options: &[u8]) -> Result<Rc<Compiled>, CompileError> {
    let cached = CACHE.with(|c| c.try_borrow_mut().ok().and_then(|mut c| c.get(pattern, options)));
    let parsed = match cached {
        Some((_, Some(hit))) => return Ok(hit),
        Some((parsed, None)) => parsed,
        None => parse_options(options).map_err(CompileError::BadFlag)?,
    };
    let code = Code::new(pattern, parsed.pcre).map_err(|e| CompileError::Compile(compile_message(pattern, e)))?;
    let mode = if parsed.dfa { Mode::Dfa } else { Mode::Backtrack };
    let compiled = Rc::new(Compiled { code, mode, dupnames: parsed.dupnames });
    CACHE.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            c.insert(pattern, options, parsed, compiled.clone());
        }
    });
    Ok(compiled)
}

/// lua-nginx-module's compile error: `pcre2_compile() failed: %s in "%V"`, plus
/// ` at "%s"` (the pattern from the error offset, as a C string) unless the offset is the
/// pattern's end; cut at the first NUL and to 255 bytes, as its error buffer is.
fn compile_message(pattern: &[u8], e: pcre::CompileError) -> Vec<u8> {
    let mut msg = format!("pcre2_compile() failed: {} in \"", pcre::error_message(e.code)).into_bytes();
    msg.extend_from_slice(pattern);
    msg.push(b'"');
    if e.offset != pattern.len() {
        let rest = pattern.get(e.offset..).unwrap_or_default();
        msg.extend_from_slice(b" at \"");
        msg.extend_from_slice(rest.split(|&b| b == 0).next().unwrap_or_default());
        msg.push(b'"');
    }
    if let Some(nul) = msg.iter().position(|&b| b == 0) {
        msg.truncate(nul);
    }
    msg.truncate(255);
    msg
}

/// The bounds of one match: [`MATCH_LIMIT`] steps and depth, and a quarter of the Lua
/// memory limit for PCRE2's backtracking frames.
fn match_limits() -> pcre::MatchLimits {
    let memory = crate::lua::limits::current().memory_bytes;
    let heap_kib = u32::try_from(memory / 4 / 1024).unwrap_or(u32::MAX).max(256);
    pcre::MatchLimits { match_limit: MATCH_LIMIT, depth_limit: MATCH_LIMIT, heap_limit_kib: heap_kib }
}

/// What one `ngx_http_lua_ffi_exec_regex` call gave, as lua-resty-core reads it.
enum Exec {
    NoMatch,
    /// The match, with `rc` (1 + the highest group set); offsets in the ovector.
    Match(usize),
    /// `pcre_exec() failed: N` or `capture size too small`.
    Failed(String),
}

impl Compiled {
    /// The number of capture groups as lua-nginx-module counts them (0 in DFA mode).
    fn ncaptures(&self) -> usize {
        match self.mode {
            Mode::Backtrack => self.code.captures(),
            Mode::Dfa => 0,
        }
    }

    /// Runs the regex over `subject` from byte `pos`, offsets into `ov`.
    fn exec(&self, subject: &[u8], pos: usize, ov: &mut Vec<usize>) -> Exec {
        let mut over_budget = || crate::lua::limits::check_phase_time().is_err();
        let rc = pcre::exec(&self.code, subject, pos, 0, self.mode, match_limits(), ov, &mut over_budget);
        match rc {
            pcre::ERROR_NOMATCH => Exec::NoMatch,
            // The phase's time ran out between two start positions: the runtime's next
            // budget check ends the phase with this same message.
            pcre::ERROR_CALLOUT => Exec::Failed(crate::lua::limits::check_phase_time().err().unwrap_or_else(|| format!("pcre_exec() failed: {rc}"))),
            rc if rc < 0 => Exec::Failed(format!("pcre_exec() failed: {rc}")),
            0 if self.mode == Mode::Backtrack => Exec::Failed("capture size too small".into()),
            0 => Exec::Match(1),
            rc => Exec::Match(rc as usize),
        }
    }

    /// Group `i`'s text, or `None` when it did not take part (or `i >= rc`).
    fn group<'s>(subject: &'s [u8], rc: usize, ov: &[usize], i: usize) -> Option<&'s [u8]> {
        if i > rc {
            return None;
        }
        let (from, to) = (*ov.get(2 * i)?, *ov.get(2 * i + 1)?);
        if from == UNSET || to == UNSET {
            return None;
        }
        // `\K` in a look-ahead can end a match before its start: Lua's sub gives "".
        Some(subject.get(from..to).unwrap_or_default())
    }

    /// lua-resty-core's `collect_captures`: `[0]`..`[ncaptures]` (`false` for groups
    /// that did not take part), then the named groups; with `D`, each name maps to the
    /// array of its groups that matched.
    fn captures<'gc>(&self, ctx: Context<'gc>, subject: &[u8], rc: usize, ov: &[usize], into: Option<Table<'gc>>) -> Table<'gc> {
        let t = into.unwrap_or_else(|| Table::new(&ctx));
        let value = |i: usize| match Self::group(subject, rc, ov, i) {
            Some(text) => lua_string(ctx, text),
            None => Value::Boolean(false),
        };
        for i in 0..=self.ncaptures() {
            t.set(ctx, i as i64, value(i)).ok();
        }
        if self.mode == Mode::Dfa {
            return t;
        }
        for (group, name) in self.code.names() {
            let name = piccolo::String::from_slice(&ctx, name);
            let cap = value(*group);
            if !self.dupnames {
                t.set(ctx, name, cap).ok();
            } else if !matches!(cap, Value::Boolean(false)) {
                match t.get(ctx, name) {
                    Value::Table(old) => {
                        old.set(ctx, old.length() + 1, cap).ok();
                    }
                    _ => {
                        let list = Table::new(&ctx);
                        list.set(ctx, 1, cap).ok();
                        t.set(ctx, name, list).ok();
                    }
                }
            }
        }
        t
    }
}

// ---------------------------------------------------------------------------------------
// Arguments

/// `tostring` of an argument (lua-resty-core converts the subject so).
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
fn compile_args<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, regex: Value<'gc>, options: Value<'gc>) -> Result<Result<Rc<Compiled>, Vec<u8>>, Error<'gc>> {
    let compiled = match regex {
        Value::String(s) => compile(s.as_bytes(), &options_arg(options)),
        other => compile(&text_arg(other), &options_arg(options)),
    };
    match compiled {
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

/// The 0-based start offset from `ctx.pos` (1-based; absent or <= 0 means the start),
/// as lua-resty-core computes it before handing it to C as an `int`.
fn start_of<'gc>(ctx: Context<'gc>, table: Option<Table<'gc>>) -> usize {
    let Some(t) = table else { return 0 };
    match crate::lua::stdlib::args::to_number(t.get(ctx, "pos")) {
        Some(p) if p > 0.0 => (p - 1.0).min(i32::MAX as f64) as usize,
        _ => 0,
    }
}

/// Answers `nils` nils and the message.
fn fail<'gc>(ctx: Context<'gc>, mut stack: Stack<'gc, '_>, nils: usize, msg: &[u8]) -> Res<'gc> {
    stack.clear();
    for _ in 0..nils {
        stack.push_back(Value::Nil);
    }
    stack.push_back(lua_string(ctx, msg));
    Ok(CallbackReturn::Return)
}

// ---------------------------------------------------------------------------------------
// match / find / gmatch

/// `ngx.re.match(subject, regex, options?, ctx?, res_table?)`: the captures table, or
/// `nil` (no match), or `nil, err` (a bad regex, a failed match). With `ctx`, starts at
/// `ctx.pos` and sets it after the match; `res_table` receives the captures when given.
fn re_match<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let compiled = match compile_args(ctx, &exec, stack.get(1), stack.get(2))? {
        Ok(c) => c,
        Err(msg) => return fail(ctx, stack, 1, &msg),
    };
    let pos_table = ctx_arg(ctx, &exec, &stack, 3, "match")?;
    let res_table = match stack.get(4) {
        Value::Table(t) => Some(t),
        _ => None,
    };
    let subject_value = stack.get(0);
    let owned;
    let subject: &[u8] = match subject_value {
        Value::String(s) => s.as_bytes(),
        other => {
            owned = text_arg(other);
            &owned
        }
    };
    let mut ov = Vec::new();
    let result = match compiled.exec(subject, start_of(ctx, pos_table), &mut ov) {
        Exec::NoMatch => Value::Nil,
        Exec::Failed(msg) => return fail(ctx, stack, 1, msg.as_bytes()),
        Exec::Match(rc) => {
            if let Some(t) = pos_table {
                t.set(ctx, "pos", ov[1] as i64 + 1).ok();
            }
            Value::Table(compiled.captures(ctx, subject, rc, &ov, res_table))
        }
    };
    stack.replace(ctx, result);
    Ok(CallbackReturn::Return)
}

/// `ngx.re.find(subject, regex, options?, ctx?, nth?)`: `from, to` (1-based, inclusive) of
/// the match, or of group `nth`; `nil` when there is no match, `nil, nil` when group
/// `nth` did not take part; `nil, nil, err` for a bad regex, a failed match or an `nth`
/// past the groups ("nth out of bound").
fn re_find<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let compiled = match compile_args(ctx, &exec, stack.get(1), stack.get(2))? {
        Ok(c) => c,
        Err(msg) => return fail(ctx, stack, 2, &msg),
    };
    let pos_table = ctx_arg(ctx, &exec, &stack, 3, "find")?;
    let nth = match stack.get(4) {
        Value::Nil => 0.0,
        v => match crate::lua::stdlib::args::to_number(v) {
            Some(n) => n,
            None => return raise(ctx, &exec, &format!("bad argument #5 to 'find' (number expected, got {})", v.type_name())),
        },
    };
    let subject = text_arg(stack.get(0));
    let mut ov = Vec::new();
    let rc = match compiled.exec(&subject, start_of(ctx, pos_table), &mut ov) {
        Exec::NoMatch => {
            stack.replace(ctx, Value::Nil);
            return Ok(CallbackReturn::Return);
        }
        Exec::Failed(msg) => return fail(ctx, stack, 2, msg.as_bytes()),
        Exec::Match(rc) => rc,
    };
    if let Some(t) = pos_table {
        t.set(ctx, "pos", ov[1] as i64 + 1).ok();
    }
    // lua-resty-core: nth < 0 means 0; past the groups is an error; a group at or past
    // rc, or unset, is nil, nil. (A fractional nth indexes the C array truncated.)
    let nth = if nth.is_nan() || nth < 0.0 { 0.0 } else { nth };
    if nth > compiled.ncaptures() as f64 {
        return fail(ctx, stack, 2, b"nth out of bound");
    }
    let nth = nth as usize;
    let (from, to) = (ov.get(2 * nth).copied().unwrap_or(UNSET), ov.get(2 * nth + 1).copied().unwrap_or(UNSET));
    if nth >= rc || from == UNSET || to == UNSET {
        stack.replace(ctx, (Value::Nil, Value::Nil));
    } else {
        stack.replace(ctx, (from as i64 + 1, to as i64));
    }
    Ok(CallbackReturn::Return)
}

/// The state of a `gmatch` iterator: `None` once exhausted.
struct GmatchState {
    compiled: Rc<Compiled>,
    subject: Vec<u8>,
    pos: Option<usize>,
    ov: Vec<usize>,
}

/// `ngx.re.gmatch(subject, regex, options?)`: an iterator returning each match's captures
/// table, then `nil` (or `nil, err` once for a failed match); `nil, err` for a bad regex.
/// After an empty match the next search starts one byte further.
fn re_gmatch<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let compiled = match compile_args(ctx, &exec, stack.get(1), stack.get(2))? {
        Ok(c) => c,
        Err(msg) => return fail(ctx, stack, 1, &msg),
    };
    let subject = text_arg(stack.get(0));
    let state = RefCell::new(GmatchState { compiled, subject, pos: Some(0), ov: Vec::new() });
    let iterator = Callback::from_fn(&ctx, move |ctx, _exec, mut stack| {
        let Ok(mut s) = state.try_borrow_mut() else {
            stack.replace(ctx, Value::Nil);
            return Ok(CallbackReturn::Return);
        };
        let s = &mut *s;
        let Some(pos) = s.pos else {
            stack.replace(ctx, Value::Nil);
            return Ok(CallbackReturn::Return);
        };
        match s.compiled.exec(&s.subject, pos, &mut s.ov) {
            Exec::NoMatch => {
                s.pos = None;
                stack.replace(ctx, Value::Nil);
            }
            Exec::Failed(msg) => {
                s.pos = None;
                stack.replace(ctx, (Value::Nil, lua_string(ctx, msg.as_bytes())));
            }
            Exec::Match(rc) => {
                let (from, to) = (s.ov[0], s.ov[1]);
                let next = if to == from { to + 1 } else { to };
                s.pos = if to == from && next > s.subject.len() { None } else { Some(next) };
                stack.replace(ctx, s.compiled.captures(ctx, &s.subject, rc, &s.ov, None));
            }
        }
        Ok(CallbackReturn::Return)
    });
    stack.replace(ctx, iterator);
    Ok(CallbackReturn::Return)
}

/// The search step of `ngx.re.split` (lua-resty-core's `re_split_helper` over
/// `ngx_http_lua_ffi_exec_regex`), for `src/lua/modules/ngx_re.lua`:
/// `split_exec(subject, regex, options, pos)` with a 0-based `pos` answers
/// `from, to, capture` (0-based offsets; `capture` the first group's text when the match
/// set any group, read as lua-resty-core reads it), `nil` for no match, or
/// `nil, nil, nil, err`. Without `pos` it only compiles: `nil` or `nil, nil, nil, err`.
pub fn split_exec<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let compiled = match compile_args(ctx, &exec, stack.get(1), stack.get(2))? {
        Ok(c) => c,
        Err(msg) => return fail(ctx, stack, 3, &msg),
    };
    let pos = match crate::lua::stdlib::args::to_number(stack.get(3)) {
        Some(p) if p > 0.0 => p.min(i32::MAX as f64) as usize,
        Some(_) => 0,
        None => {
            stack.replace(ctx, Value::Nil);
            return Ok(CallbackReturn::Return);
        }
    };
    let subject = text_arg(stack.get(0));
    let mut ov = Vec::new();
    match compiled.exec(&subject, pos, &mut ov) {
        Exec::NoMatch => stack.replace(ctx, Value::Nil),
        Exec::Failed(msg) => return fail(ctx, stack, 3, msg.as_bytes()),
        Exec::Match(rc) => {
            let (from, to) = (ov[0] as i64, ov[1] as i64);
            // `sub(subj, caps[2] + 1, caps[3])` with an unset group's -1 offsets reads
            // `sub(subj, 0, -1)`: the whole subject.
            let capture = if compiled.ncaptures() > 0 && rc > 1 {
                match Compiled::group(&subject, rc, &ov, 1) {
                    Some(text) => lua_string(ctx, text),
                    None => lua_string(ctx, &subject),
                }
            } else {
                Value::Nil
            };
            stack.replace(ctx, (from, to, capture));
        }
    }
    Ok(CallbackReturn::Return)
}

// ---------------------------------------------------------------------------------------
// sub / gsub

/// A piece of a compiled replacement template.
enum Piece {
    Text(Vec<u8>),
    Group(usize),
}

/// lua-nginx-module's `ngx_http_lua_script_compile` for replacement templates: `$N`,
/// `${N}` (group numbers, as many digits as follow), `$$` for a dollar. A named variable
/// (`$name`, `${name}`: "named captures not supported yet"), a `$` at the end or before
/// anything else, or an unclosed `${` fail; lua-resty-core then answers "failed to
/// compile the replacement template" (the detail goes to nginx's error log).
fn parse_template(template: &[u8]) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut text = Vec::new();
    let mut i = 0;
    while i < template.len() {
        if template[i] != b'$' {
            text.push(template[i]);
            i += 1;
            continue;
        }
        i += 1;
        let c = *template.get(i)?;
        if c == b'$' {
            text.push(b'$');
            i += 1;
            continue;
        }
        let mut numeric = c.is_ascii_digit();
        let mut bracket = false;
        if c == b'{' {
            bracket = true;
            i += 1;
            numeric = template.get(i)?.is_ascii_digit();
        }
        let (mut n, mut len) = (0usize, 0usize);
        while let Some(&ch) = template.get(i) {
            if ch == b'}' && bracket {
                i += 1;
                bracket = false;
                break;
            }
            if numeric {
                if !ch.is_ascii_digit() {
                    break;
                }
                n = n.saturating_mul(10).saturating_add(usize::from(ch - b'0'));
            } else if !(ch.is_ascii_alphanumeric() || ch == b'_') {
                break;
            }
            i += 1;
            len += 1;
        }
        if bracket || len == 0 || !numeric {
            return None;
        }
        pieces.push(Piece::Text(std::mem::take(&mut text)));
        pieces.push(Piece::Group(n));
    }
    pieces.push(Piece::Text(text));
    Some(pieces)
}

/// A substitution in progress (lua-resty-core's `re_sub_*_helper` loop).
struct Substitution {
    compiled: Rc<Compiled>,
    subject: Vec<u8>,
    global: bool,
    out: Vec<u8>,
    /// Where the search resumes, and where the text not yet copied to `out` starts.
    pos: usize,
    copied: usize,
    done: bool,
    count: i64,
    ov: Vec<usize>,
}

impl Substitution {
    /// The next match to replace (its `rc`), copying the text before it; `Err` for a
    /// failed match.
    fn next(&mut self) -> Result<Option<usize>, String> {
        if self.done {
            return Ok(None);
        }
        let rc = match self.compiled.exec(&self.subject, self.pos, &mut self.ov) {
            Exec::NoMatch => {
                self.done = true;
                return Ok(None);
            }
            Exec::Failed(msg) => return Err(msg),
            Exec::Match(rc) => rc,
        };
        self.count += 1;
        let (from, to) = (self.ov[0], self.ov[1]);
        self.out.extend_from_slice(self.subject.get(self.copied..from).unwrap_or_default());
        self.copied = to;
        self.pos = to;
        if to == from {
            self.pos += 1;
            if self.pos > self.subject.len() {
                self.done = true;
            }
        }
        if !self.global {
            self.done = true;
        }
        Ok(Some(rc))
    }

    /// Appends the template's expansion for the current match (`rc` groups set).
    fn expand(&mut self, pieces: &[Piece], rc: usize) {
        for piece in pieces {
            match piece {
                Piece::Text(t) => self.out.extend_from_slice(t),
                Piece::Group(n) if *n < rc => {
                    if let Some(text) = Compiled::group(&self.subject, rc, &self.ov, *n) {
                        self.out.extend_from_slice(text);
                    }
                }
                Piece::Group(_) => {}
            }
        }
    }

    /// The new string and the count (the subject itself and 0 without a match).
    fn finish<'gc>(&mut self, ctx: Context<'gc>, stack: &mut Stack<'gc, '_>) {
        if self.count == 0 {
            stack.replace(ctx, (lua_string(ctx, &self.subject), 0));
            return;
        }
        self.out.extend_from_slice(self.subject.get(self.copied..).unwrap_or_default());
        stack.replace(ctx, (lua_string(ctx, &self.out), self.count));
    }

    /// Fails with "resulting string too large" past the string limit.
    fn check_size<'gc>(&self, ctx: Context<'gc>, exec: &Execution<'gc, '_>) -> Result<(), Error<'gc>> {
        crate::lua::limits::check_string_size(ctx, exec, self.out.len())
    }
}

/// Calls a replacement function for each match (lua-resty-core's `re_sub_func_helper`).
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
    fn poll(&mut self, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        if self.waiting {
            // `tostring(replace(res))`: a function that returned nothing leaves tostring
            // without its argument.
            if stack.is_empty() {
                return Err(crate::lua::error_at(ctx, &exec, "bad argument #1 to 'tostring' (value expected)"));
            }
            match stack.get(0) {
                Value::String(s) => self.state.out.extend_from_slice(s.as_bytes()),
                other => self.state.out.extend_from_slice(format::display(other).as_bytes()),
            }
            self.waiting = false;
            self.state.check_size(ctx, &exec)?;
        }
        stack.clear();
        match self.state.next() {
            Ok(Some(rc)) => {
                let s = &self.state;
                let table = s.compiled.captures(ctx, &s.subject, rc, &s.ov, None);
                stack.push_back(Value::Table(table));
                self.waiting = true;
                Ok(SequencePoll::Call { function: self.function, is_tail: false })
            }
            Ok(None) => {
                self.state.finish(ctx, &mut stack);
                Ok(SequencePoll::Return)
            }
            Err(msg) => {
                stack.replace(ctx, (Value::Nil, Value::Nil, lua_string(ctx, msg.as_bytes())));
                Ok(SequencePoll::Return)
            }
        }
    }
}

fn substitute<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, global: bool) -> Res<'gc> {
    let compiled = match compile_args(ctx, &exec, stack.get(1), stack.get(3))? {
        Ok(c) => c,
        Err(msg) => return fail(ctx, stack, 2, &msg),
    };
    let subject = text_arg(stack.get(0));
    let state =
        Substitution { compiled, subject, global, out: Vec::new(), pos: 0, copied: 0, done: false, count: 0, ov: Vec::new() };
    // A function is called per match; anything else is a template after `tostring`.
    let template = match stack.get(2) {
        Value::Function(function) => {
            stack.clear();
            let sequence = ReplaceWith { function, state: Box::new(state), waiting: false };
            return Ok(CallbackReturn::Sequence(BoxSequence::new(&ctx, sequence)));
        }
        Value::String(s) => s.as_bytes().to_vec(),
        other => format::display(other).into_bytes(),
    };
    let Some(pieces) = parse_template(&template) else {
        return fail(ctx, stack, 2, b"failed to compile the replacement template");
    };
    let mut state = state;
    loop {
        match state.next() {
            Ok(Some(rc)) => {
                state.expand(&pieces, rc);
                state.check_size(ctx, &exec)?;
            }
            Ok(None) => break,
            Err(msg) => return fail(ctx, stack, 2, msg.as_bytes()),
        }
    }
    state.finish(ctx, &mut stack);
    Ok(CallbackReturn::Return)
}

/// `ngx.re.sub(subject, regex, replace, options?)`: `newstr, n` with the first match
/// replaced (a template string, or a function given the captures table whose result is
/// `tostring`ed); `nil, nil, err` for a bad regex or template, or a failed match.
fn re_sub<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    substitute(ctx, exec, stack, false)
}

/// `ngx.re.gsub(subject, regex, replace, options?)`: as `sub`, for every match.
fn re_gsub<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Res<'gc> {
    substitute(ctx, exec, stack, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdk::ngx::util::tests::{run, run_err};

    // The OpenResty-compared cases are tests/ngx_re/cases.lua (src/lua/modules/tests.rs
    // and tests/ngx_re.rs); these cover what that file cannot show.

    #[test]
    fn templates_compile_as_ngx_http_lua_script_compile() {
        // ngx_http_lua_script.c: digits after `$` or `${` form the group number; `$$` is
        // a dollar; names, a lone `$`, `${}` and an unclosed `${` fail.
        let groups = |t: &str| {
            parse_template(t.as_bytes()).map(|p| {
                p.iter()
                    .map(|piece| match piece {
                        Piece::Text(t) => String::from_utf8_lossy(t).into_owned(),
                        Piece::Group(n) => format!("<{n}>"),
                    })
                    .collect::<String>()
            })
        };
        assert_eq!(groups("a$1b${23}c$$d$045"), Some("a<1>b<23>c$d<45>".into()));
        assert_eq!(groups("no dollars"), Some("no dollars".into()));
        for bad in ["$", "x$", "$x", "${x}", "${1", "${1a}", "${}", "$-"] {
            assert_eq!(groups(bad), None, "{bad}");
        }
    }

    #[test]
    fn compile_messages_are_cut_as_lua_nginx_modules_buffer() {
        // "%s in \"%V\" at \"%s\"": the rest of the pattern is a C string (up to a NUL),
        // and the whole message fits a 256-byte buffer with its NUL.
        let long = format!("({}", "a".repeat(400));
        let Err(CompileError::Compile(msg)) = compile(long.as_bytes(), b"") else { panic!("compiled") };
        assert_eq!(msg.len(), 255);
        assert!(msg.starts_with(b"pcre2_compile() failed: missing closing parenthesis in \"(aaa"));
        let Err(CompileError::Compile(msg)) = compile(b"a)\0b", b"") else { panic!("compiled") };
        assert_eq!(msg, b"pcre2_compile() failed: unmatched closing parenthesis in \"a)");
    }

    #[test]
    fn the_cache_keeps_the_most_recently_used_regexes() {
        let first = compile(b"^first$", b"jo").ok().unwrap();
        assert!(Rc::ptr_eq(&first, &compile(b"^first$", b"jo").ok().unwrap()));
        // Other options are another entry.
        assert!(!Rc::ptr_eq(&first, &compile(b"^first$", b"i").ok().unwrap()));
        for i in 0..CACHE_MAX {
            compile(format!("^fill{i}$").as_bytes(), b"").ok().unwrap();
            if i % 100 == 0 {
                compile(b"^first$", b"jo").ok().unwrap();
            }
        }
        let len = CACHE.with(|c| c.borrow().len);
        assert_eq!(len, CACHE_MAX);
        assert!(Rc::ptr_eq(&first, &compile(b"^first$", b"jo").ok().unwrap()), "recently used, kept");
        let evicted = CACHE.with(|c| c.borrow_mut().get(b"^fill0$", b"").and_then(|(_, hit)| hit).is_none());
        assert!(evicted, "the oldest went first");
        let long = format!("^{}$", "x".repeat(CACHE_PATTERN_MAX));
        let once = compile(long.as_bytes(), b"o").ok().unwrap();
        assert!(!Rc::ptr_eq(&once, &compile(long.as_bytes(), b"o").ok().unwrap()), "too long to keep");
    }

    #[test]
    fn argument_errors_are_lua_errors() {
        assert_eq!(run_err("ngx.re.match('a', 'a', 'q')"), "access[1]:2: unknown flag \"q\" (flags \"q\")");
        assert_eq!(run_err("ngx.re.match('a', 'a', nil, 5)"), "access[1]:2: bad argument #4 to 'match' (table expected, got number)");
        assert_eq!(run_err("ngx.re.find('abc', 'b', nil, nil, {})"), "access[1]:2: bad argument #5 to 'find' (number expected, got table)");
        assert_eq!(
            run_err("ngx.re.gsub('abc', 'b', function() end)"),
            "access[1]:2: bad argument #1 to 'tostring' (value expected)"
        );
    }

    #[test]
    fn bodies_and_headers_as_snippets_use_them() {
        assert_eq!(
            run(r#"local m = ngx.re.match("/users/42/orders/7", [[^/users/(?<user>\d+)/orders/(?<order>\d+)$]], "jo")
                   say(m.user, m.order)
                   say(ngx.re.gsub('{"password":"s3cret","user":"ann"}', [["password":"[^"]*"]], '"password":"***"', "jo"))
                   say(ngx.re.find("Bearer abc.def.ghi", [[^Bearer\s+(?=\S+\.\S+\.\S+$)]], "joi"))"#),
            ["42 7", "{\"password\":\"***\",\"user\":\"ann\"} 1", "1 7"]
        );
    }
}
