//! Lua 5.1's `string` library as LuaJIT 2.1 behaves: indices, patterns (`pattern.rs`),
//! `string.format` (`sprintf.rs`), `rep` with a separator, errors with Lua's messages.

use std::cell::Cell;
use std::rc::Rc;

use gc_arena::Collect;
use piccolo::{
    BoxSequence, Callback, CallbackReturn, Context, Error, Execution, Function, Sequence, SequencePoll, Stack, Table,
    Value, Variadic,
};

use super::args::{arg_error, check_bytes, check_integer, check_number, check_string, opt_integer};
use super::base::tostring_plain;
use super::pattern::{self, Budget, Capture, Match, PatternError};
use super::sprintf::{self, ArgKind, Piece};
use crate::lua::error_at;

/// Pattern-matching steps one call may take before "pattern too complex".
const PATTERN_STEPS: u64 = 10_000_000;

/// Builds the `string` table.
pub fn table<'gc>(ctx: Context<'gc>) -> Table<'gc> {
    let t = Table::new(&ctx);
    let set = |name: &'static str, f: Callback<'gc>| {
        t.set(ctx, name, f).ok();
    };
    set("len", Callback::from_fn(&ctx, len));
    set("sub", Callback::from_fn(&ctx, sub));
    set("upper", Callback::from_fn(&ctx, upper));
    set("lower", Callback::from_fn(&ctx, lower));
    set("reverse", Callback::from_fn(&ctx, reverse));
    set("rep", Callback::from_fn(&ctx, rep));
    set("byte", Callback::from_fn(&ctx, byte));
    set("char", Callback::from_fn(&ctx, char));
    set("find", Callback::from_fn(&ctx, find));
    set("match", Callback::from_fn(&ctx, str_match));
    set("gmatch", Callback::from_fn(&ctx, gmatch));
    set("gsub", Callback::from_fn(&ctx, gsub));
    set("format", Callback::from_fn(&ctx, format));
    t
}

fn new_string<'gc>(ctx: Context<'gc>, bytes: &[u8]) -> Value<'gc> {
    Value::String(piccolo::String::from_slice(&ctx, bytes))
}

/// Lua's `posrelat`: a negative index counts from the end.
fn posrelat(pos: i64, len: usize) -> i64 {
    if pos >= 0 {
        pos
    } else if pos.unsigned_abs() as usize > len {
        0
    } else {
        len as i64 + pos + 1
    }
}

fn len<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let s = check_string(ctx, &exec, &stack, 0, "len")?.as_bytes();
    stack.replace(ctx, s.len() as i64);
    Ok(CallbackReturn::Return)
}

/// The byte range `[i, j]` (1-based, inclusive, negative from the end) clamped to `s`.
fn range(i: i64, j: i64, len: usize) -> Option<(usize, usize)> {
    let start = posrelat(i, len).max(1);
    let end = posrelat(j, len).min(len as i64);
    if start > end {
        None
    } else {
        Some((start as usize - 1, end as usize))
    }
}

fn sub<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let s = check_string(ctx, &exec, &stack, 0, "sub")?.as_bytes();
    let i = check_integer(ctx, &exec, &stack, 1, "sub")?;
    let j = opt_integer(ctx, &exec, &stack, 2, "sub", -1)?;
    let out = range(i, j, s.len()).map(|(a, b)| &s[a..b]).unwrap_or(&[]);
    stack.replace(ctx, new_string(ctx, out));
    Ok(CallbackReturn::Return)
}

thread_local! {
    /// A byte buffer the string functions build results in before copying them into a
    /// Lua string, kept between calls so a call allocates only the Lua string (issue 28).
    /// Taken while in use: a nested call (a `gsub` inside a replacement function) finds
    /// it empty and builds in a new one.
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// An empty buffer with at least `capacity` bytes of room: the kept scratch buffer
/// when it is free; hand it back with [`give_back`].
fn scratch(capacity: usize) -> Vec<u8> {
    let mut buffer = SCRATCH.with(Cell::take);
    buffer.clear();
    buffer.reserve(capacity);
    buffer
}

/// Keeps `buffer` for the next [`scratch`], unless it grew past 64 KiB (a large result
/// should not pin its memory).
fn give_back(buffer: Vec<u8>) {
    if buffer.capacity() <= 64 * 1024 {
        SCRATCH.with(|s| s.set(buffer));
    }
}

/// `upper`/`lower`: `f` maps each byte; a string no byte of which changes is returned as
/// it is (no new string), else the result is built in the scratch buffer.
fn map_bytes<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, name: &str, f: fn(u8) -> u8) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let s = check_string(ctx, &exec, &stack, 0, name)?;
    let bytes = s.as_bytes();
    let value = match bytes.iter().position(|&b| f(b) != b) {
        None => Value::String(s),
        Some(first) => {
            let mut out = scratch(bytes.len());
            out.extend_from_slice(&bytes[..first]);
            out.extend(bytes[first..].iter().map(|&b| f(b)));
            let value = new_string(ctx, &out);
            give_back(out);
            value
        }
    };
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

fn upper<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    map_bytes(ctx, exec, stack, "upper", |b| b.to_ascii_uppercase())
}

fn lower<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    map_bytes(ctx, exec, stack, "lower", |b| b.to_ascii_lowercase())
}

fn reverse<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let s = check_string(ctx, &exec, &stack, 0, "reverse")?;
    let mut out = scratch(s.as_bytes().len());
    out.extend(s.as_bytes().iter().rev());
    let value = new_string(ctx, &out);
    give_back(out);
    let mut stack = stack;
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

fn rep<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let s = check_bytes(ctx, &exec, &stack, 0, "rep")?;
    let n = check_integer(ctx, &exec, &stack, 1, "rep")?;
    let sep = if stack.get(2).is_nil() { Vec::new() } else { check_bytes(ctx, &exec, &stack, 2, "rep")? };
    if n <= 0 {
        stack.replace(ctx, new_string(ctx, b""));
        return Ok(CallbackReturn::Return);
    }
    let total = (s.len() as u128 + sep.len() as u128) * n as u128;
    crate::lua::limits::check_string_size(ctx, &exec, usize::try_from(total).unwrap_or(usize::MAX))?;
    let mut out = Vec::with_capacity(total as usize);
    for k in 0..n {
        if k > 0 {
            out.extend_from_slice(&sep);
        }
        out.extend_from_slice(&s);
    }
    stack.replace(ctx, new_string(ctx, &out));
    Ok(CallbackReturn::Return)
}

fn byte<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let s = check_string(ctx, &exec, &stack, 0, "byte")?.as_bytes();
    let i = opt_integer(ctx, &exec, &stack, 1, "byte", 1)?;
    let j = opt_integer(ctx, &exec, &stack, 2, "byte", i)?;
    let values: Vec<Value<'gc>> = match range(i, j, s.len()) {
        Some((a, b)) => s[a..b].iter().map(|&c| Value::Integer(i64::from(c))).collect(),
        None => Vec::new(),
    };
    stack.replace(ctx, Variadic(values));
    Ok(CallbackReturn::Return)
}

fn char<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let mut out = Vec::with_capacity(stack.len());
    for i in 0..stack.len() {
        let c = check_integer(ctx, &exec, &stack, i, "char")?;
        if !(0..=255).contains(&c) {
            return Err(arg_error(ctx, &exec, i, "char", "invalid value"));
        }
        out.push(c as u8);
    }
    stack.replace(ctx, new_string(ctx, &out));
    Ok(CallbackReturn::Return)
}

fn pattern_error<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, e: PatternError) -> Error<'gc> {
    error_at(ctx, exec, &e.message)
}

fn capture_value<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, subject: &[u8], capture: Capture) -> Result<Value<'gc>, Error<'gc>> {
    match capture {
        Capture::Slice { start, end } => Ok(new_string(ctx, subject.get(start..end).unwrap_or(&[]))),
        Capture::Position(p) => Ok(Value::Integer(p as i64)),
        Capture::Unfinished => Err(error_at(ctx, exec, "unfinished capture")),
    }
}

/// The captures of `m`, or the whole match when the pattern has none (lstrlib's
/// `push_captures`).
fn captures<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, subject: &[u8], m: &Match) -> Result<Vec<Value<'gc>>, Error<'gc>> {
    if m.captures.is_empty() {
        Ok(vec![new_string(ctx, &subject[m.start..m.end])])
    } else {
        m.captures.iter().map(|c| capture_value(ctx, exec, subject, *c)).collect()
    }
}

/// The first capture of `m`, or the whole match when the pattern has none (lstrlib's
/// `push_onecapture(ms, 0, ...)`, a `gsub` table's key).
fn first_capture<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, subject: &[u8], m: &Match) -> Result<Value<'gc>, Error<'gc>> {
    match m.captures.first() {
        None => Ok(new_string(ctx, &subject[m.start..m.end])),
        Some(c) => capture_value(ctx, exec, subject, *c),
    }
}

/// `init` for find/match: 1-based, negative from the end, clamped to the string as
/// Lua 5.1 and LuaJIT do (`find("abc", "", 10)` finds the empty string at 4).
fn start_offset(init: i64, len: usize) -> Option<usize> {
    let init = (posrelat(init, len).max(1) - 1) as usize;
    Some(init.min(len))
}

fn find_plain(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(from);
    }
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

fn find_aux<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, is_find: bool) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let name = if is_find { "find" } else { "match" };
    let s = check_string(ctx, &exec, &stack, 0, name)?.as_bytes();
    let p = check_string(ctx, &exec, &stack, 1, name)?.as_bytes();
    let init = opt_integer(ctx, &exec, &stack, 2, name, 1)?;
    let Some(init) = start_offset(init, s.len()) else {
        stack.replace(ctx, Value::Nil);
        return Ok(CallbackReturn::Return);
    };
    if is_find && (stack.get(3).to_bool() || !pattern::has_specials(&p)) {
        let result = match find_plain(&s, &p, init) {
            Some(at) => vec![Value::Integer(at as i64 + 1), Value::Integer((at + p.len()) as i64)],
            None => vec![Value::Nil],
        };
        stack.replace(ctx, Variadic(result));
        return Ok(CallbackReturn::Return);
    }
    let mut budget = Budget::new(PATTERN_STEPS);
    let found = pattern::find(&s, &p, init, &mut budget).map_err(|e| pattern_error(ctx, &exec, e))?;
    let result = match found {
        None => vec![Value::Nil],
        Some(m) if is_find => {
            let mut values = vec![Value::Integer(m.start as i64 + 1), Value::Integer(m.end as i64)];
            for c in &m.captures {
                values.push(capture_value(ctx, &exec, &s, *c)?);
            }
            values
        }
        Some(m) => captures(ctx, &exec, &s, &m)?,
    };
    stack.replace(ctx, Variadic(result));
    Ok(CallbackReturn::Return)
}

fn find<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    find_aux(ctx, exec, stack, true)
}

fn str_match<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    find_aux(ctx, exec, stack, false)
}

fn gmatch<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let s = check_bytes(ctx, &exec, &stack, 0, "gmatch")?;
    let p = check_bytes(ctx, &exec, &stack, 1, "gmatch")?;
    let position = Rc::new(Cell::new(0usize));
    let iterator = Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
        let mut budget = Budget::new(PATTERN_STEPS);
        let mut matcher = pattern::Matcher::new(&s, &p, &mut budget);
        let mut src = position.get();
        loop {
            src = matcher.candidate(src);
            if src > s.len() {
                break;
            }
            let found = matcher.match_at(src).map_err(|e| pattern_error(ctx, &exec, e))?;
            if let Some(m) = found {
                // An empty match moves on by one so the iteration ends.
                position.set(if m.end == src { src + 1 } else { m.end });
                let values = captures(ctx, &exec, &s, &m)?;
                stack.replace(ctx, Variadic(values));
                return Ok(CallbackReturn::Return);
            }
            src += 1;
        }
        position.set(src);
        stack.replace(ctx, Value::Nil);
        Ok(CallbackReturn::Return)
    });
    stack.replace(ctx, iterator);
    Ok(CallbackReturn::Return)
}

/// Expands a string replacement: `%0`-`%9` captures, `%%` and `%x` a literal `x`.
fn expand_replacement(repl: &[u8], subject: &[u8], m: &Match, out: &mut Vec<u8>) -> Result<(), PatternError> {
    let mut i = 0;
    while i < repl.len() {
        let c = repl[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        let Some(&next) = repl.get(i) else {
            // A trailing '%' is kept, as Lua 5.1 does.
            out.push(b'%');
            break;
        };
        i += 1;
        if !next.is_ascii_digit() {
            out.push(next);
            continue;
        }
        let index = (next - b'0') as usize;
        if index == 0 || (index == 1 && m.captures.is_empty()) {
            out.extend_from_slice(&subject[m.start..m.end]);
            continue;
        }
        match m.captures.get(index - 1) {
            Some(Capture::Slice { start, end }) => out.extend_from_slice(&subject[*start..*end]),
            Some(Capture::Position(p)) => out.extend_from_slice(p.to_string().as_bytes()),
            Some(Capture::Unfinished) => return Err(PatternError { message: "unfinished capture".into() }),
            None => return Err(PatternError { message: "invalid capture index".into() }),
        }
    }
    Ok(())
}

/// Moves past match `m` found at `src`, copying one byte after an empty one (Lua 5.1's
/// `str_gsub`); returns the next position (the subject's length + 1 after an empty
/// match at its end).
fn advance(subject: &[u8], out: &mut Vec<u8>, src: usize, m: &Match) -> usize {
    if m.end > src {
        m.end
    } else if src < subject.len() {
        out.push(subject[src]);
        src + 1
    } else {
        subject.len() + 1
    }
}

/// Gives `out` its room on first use: the scratch buffer with `capacity` bytes.
fn reserve_once(out: &mut Vec<u8>, capacity: usize) {
    if out.capacity() == 0 {
        *out = scratch(capacity);
    }
}

/// A table or function replacement result, as Lua 5.1's `add_value`: false/nil keep the
/// match, strings and numbers replace it, anything else is an error.
fn add_value<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, subject: &[u8], out: &mut Vec<u8>, m: &Match, value: Value<'gc>) -> Result<(), Error<'gc>> {
    match value {
        Value::Nil | Value::Boolean(false) => out.extend_from_slice(&subject[m.start..m.end]),
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        v @ (Value::Integer(_) | Value::Number(_)) => out.extend_from_slice(crate::lua::format::number(v).as_bytes()),
        other => return Err(error_at(ctx, exec, &format!("invalid replacement value (a {})", other.type_name()))),
    }
    Ok(())
}

/// The state of one `gsub` call; shared by the synchronous path and the sequence that
/// calls a replacement function.
#[derive(Collect)]
#[collect(no_drop)]
struct GSub<'gc> {
    /// The Lua string itself: no copy of the subject.
    subject: piccolo::String<'gc>,
    /// The pattern as given (no copy); a leading `^` is `anchor`, matched from byte 1.
    pattern: piccolo::String<'gc>,
    anchor: bool,
    src: usize,
    max: i64,
    count: i64,
    #[collect(require_static)]
    out: Vec<u8>,
    repl: Value<'gc>,
    /// The match whose replacement function is running.
    #[collect(require_static)]
    pending: Option<Match>,
}

enum Step<'gc> {
    Done,
    CallReplacement(Function<'gc>, Vec<Value<'gc>>),
}

impl<'gc> GSub<'gc> {
    /// Runs matches until done or until a replacement function must be called. As Lua
    /// 5.1's `str_gsub`: at each position a match is replaced and skipped, an empty
    /// match or a failed position copies one byte; the unmatched bytes between
    /// candidate positions (see [`pattern::Matcher::candidate`]) are copied in one slice.
    fn run(&mut self, ctx: Context<'gc>, exec: &Execution<'gc, '_>) -> Result<Step<'gc>, Error<'gc>> {
        let mut budget = Budget::new(PATTERN_STEPS);
        let subject = self.subject.as_bytes();
        let pattern = &self.pattern.as_bytes()[usize::from(self.anchor)..];
        let mut matcher = pattern::Matcher::new(subject, pattern, &mut budget);
        let formatted;
        let repl_string: Option<&[u8]> = match self.repl {
            Value::String(s) => Some(s.as_bytes()),
            v @ (Value::Integer(_) | Value::Number(_)) => {
                formatted = crate::lua::format::number(v);
                Some(formatted.as_bytes())
            }
            _ => None,
        };
        let literal = repl_string.filter(|r| !r.contains(&b'%'));
        while self.count < self.max {
            if !self.anchor {
                let at = matcher.candidate(self.src);
                if at > subject.len() {
                    break;
                }
                if at > self.src {
                    reserve_once(&mut self.out, subject.len());
                    self.out.extend_from_slice(&subject[self.src..at]);
                }
                self.src = at;
            }
            let found = matcher.match_at(self.src).map_err(|e| pattern_error(ctx, exec, e))?;
            reserve_once(&mut self.out, subject.len());
            if let Some(m) = found {
                self.count += 1;
                match self.repl {
                    Value::Function(f) => {
                        let args = captures(ctx, exec, subject, &m)?;
                        self.pending = Some(m);
                        return Ok(Step::CallReplacement(f, args));
                    }
                    Value::Table(t) => {
                        let key = first_capture(ctx, exec, subject, &m)?;
                        let value = t.get_value(key);
                        add_value(ctx, exec, subject, &mut self.out, &m, value)?;
                    }
                    // A string or a number (gsub checked the type).
                    _ => match literal {
                        Some(text) => self.out.extend_from_slice(text),
                        None => {
                            let repl = repl_string.unwrap_or_default();
                            expand_replacement(repl, subject, &m, &mut self.out).map_err(|e| pattern_error(ctx, exec, e))?
                        }
                    },
                }
                self.src = advance(subject, &mut self.out, self.src, &m);
                crate::lua::limits::check_string_size(ctx, exec, self.out.len())?;
            } else if self.src < subject.len() {
                self.out.push(subject[self.src]);
                self.src += 1;
            } else {
                break;
            }
            if self.anchor {
                break;
            }
        }
        // What `finish` will copy: only a replacement can grow the result past the
        // subject, and each one was checked; this covers the tail after the last.
        crate::lua::limits::check_string_size(ctx, exec, self.out.len() + subject.len().saturating_sub(self.src))?;
        Ok(Step::Done)
    }

    fn finish(&mut self, ctx: Context<'gc>, mut stack: Stack<'gc, '_>) {
        let subject = self.subject.as_bytes();
        // No match: the result is the subject's bytes, so the subject itself.
        if self.count == 0 {
            give_back(std::mem::take(&mut self.out));
            stack.replace(ctx, (Value::String(self.subject), 0));
            return;
        }
        if self.src < subject.len() {
            self.out.extend_from_slice(&subject[self.src..]);
        }
        let result = new_string(ctx, &self.out);
        give_back(std::mem::take(&mut self.out));
        stack.replace(ctx, (result, self.count));
    }
}

impl<'gc> Sequence<'gc> for GSub<'gc> {
    fn poll(&mut self, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        if let Some(m) = self.pending.take() {
            let value = stack.get(0);
            let subject = self.subject.as_bytes();
            add_value(ctx, &exec, subject, &mut self.out, &m, value)?;
            self.src = advance(subject, &mut self.out, self.src, &m);
            if self.anchor {
                self.finish(ctx, stack);
                return Ok(SequencePoll::Return);
            }
        }
        match self.run(ctx, &exec)? {
            Step::Done => {
                self.finish(ctx, stack);
                Ok(SequencePoll::Return)
            }
            Step::CallReplacement(function, args) => {
                stack.replace(ctx, Variadic(args));
                Ok(SequencePoll::Call { function, is_tail: false })
            }
        }
    }
}

fn gsub<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let subject = check_string(ctx, &exec, &stack, 0, "gsub")?;
    let pattern = check_string(ctx, &exec, &stack, 1, "gsub")?;
    let repl = stack.get(2);
    if !matches!(repl, Value::String(_) | Value::Integer(_) | Value::Number(_) | Value::Table(_) | Value::Function(_)) {
        return Err(arg_error(ctx, &exec, 2, "gsub", "string/function/table expected"));
    }
    let max = if stack.get(3).is_nil() { i64::MAX } else { check_integer(ctx, &exec, &stack, 3, "gsub")? };
    let anchor = pattern.as_bytes().starts_with(b"^");
    // Taken from the scratch buffer once the result needs it (`reserve_once`).
    let out = Vec::new();
    let mut state = GSub { subject, pattern, anchor, src: 0, max, count: 0, out, repl, pending: None };
    match state.run(ctx, &exec)? {
        Step::Done => {
            state.finish(ctx, stack);
            Ok(CallbackReturn::Return)
        }
        Step::CallReplacement(function, args) => {
            stack.replace(ctx, Variadic(args));
            Ok(CallbackReturn::Call { function, then: Some(BoxSequence::new(&ctx, state)) })
        }
    }
}

fn format<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let fmt = check_bytes(ctx, &exec, &stack, 0, "format")?;
    let pieces = sprintf::parse(&fmt).map_err(|e| error_at(ctx, &exec, &e))?;
    let pending = tostring_arguments(ctx, &pieces, &stack);
    if pending.is_empty() {
        return format_pieces(ctx, &exec, stack, &fmt, &pieces);
    }
    let sequence = FormatTostring { args: (0..stack.len()).map(|i| stack.get(i)).collect(), pending, done: 0 };
    let function = sequence.next_call(ctx, &mut stack)?;
    Ok(CallbackReturn::Call { function, then: Some(BoxSequence::new(&ctx, sequence)) })
}

/// The arguments of `%s` conversions whose value has a `__tostring` metamethod, in order:
/// LuaJIT's `string.format` calls it for them (`lj_strfmt_obj` through `tostring`).
fn tostring_arguments<'gc>(ctx: Context<'gc>, pieces: &[Piece<'_>], stack: &Stack<'gc, '_>) -> Vec<usize> {
    let mut arg = 0usize;
    let mut pending = Vec::new();
    for piece in pieces {
        if let Piece::Spec(spec) = piece {
            arg += 1;
            if arg < stack.len() && sprintf::arg_kind(spec.conversion) == ArgKind::String
                && super::base::has_tostring_meta(ctx, stack.get(arg))
            {
                pending.push(arg);
            }
        }
    }
    pending
}

/// `string.format` with `%s` arguments that have `__tostring`: each metamethod is called
/// in turn and its result, shown as plain `tostring` shows it, takes the argument's place;
/// then the format runs on the converted arguments.
#[derive(Collect)]
#[collect(no_drop)]
struct FormatTostring<'gc> {
    args: Vec<Value<'gc>>,
    pending: Vec<usize>,
    done: usize,
}

impl<'gc> FormatTostring<'gc> {
    fn next_call(&self, ctx: Context<'gc>, stack: &mut Stack<'gc, '_>) -> Result<Function<'gc>, Error<'gc>> {
        let value = self.args[self.pending[self.done]];
        let metatable = match value {
            Value::Table(t) => t.metatable(),
            Value::UserData(u) => u.metatable(),
            _ => None,
        };
        let handler = metatable.map(|mt| mt.get(ctx, piccolo::MetaMethod::ToString)).unwrap_or(Value::Nil);
        stack.replace(ctx, value);
        Ok(piccolo::meta_ops::call(ctx, handler)?)
    }
}

impl<'gc> Sequence<'gc> for FormatTostring<'gc> {
    fn poll(&mut self, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        // LuaJIT shows whatever the metamethod returned, as `tostring` of it would
        // without a second metamethod call.
        self.args[self.pending[self.done]] = tostring_plain(ctx, stack.get(0));
        self.done += 1;
        if self.done < self.pending.len() {
            let function = self.next_call(ctx, &mut stack)?;
            return Ok(SequencePoll::Call { function, is_tail: false });
        }
        stack.clear();
        stack.extend(self.args.iter().copied());
        format_now(ctx, exec, stack)?;
        Ok(SequencePoll::Return)
    }
}

/// `string.format` once the `__tostring` metamethods ran (the arguments in `stack` are
/// their results).
fn format_now<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let fmt = check_bytes(ctx, &exec, &stack, 0, "format")?;
    let pieces = sprintf::parse(&fmt).map_err(|e| error_at(ctx, &exec, &e))?;
    format_pieces(ctx, &exec, stack, &fmt, &pieces)
}

/// `string.format` of the parsed `fmt` over the arguments in `stack`.
fn format_pieces<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    mut stack: Stack<'gc, '_>,
    fmt: &[u8],
    pieces: &[Piece<'_>],
) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let mut out = Vec::with_capacity(fmt.len() + 16);
    let mut arg = 0usize;
    for piece in pieces {
        match piece {
            Piece::Literal(bytes) => out.extend_from_slice(bytes),
            Piece::Percent => out.push(b'%'),
            Piece::Spec(spec) => {
                arg += 1;
                if arg >= stack.len() {
                    return Err(arg_error(ctx, exec, arg, "format", "value expected"));
                }
                match sprintf::arg_kind(spec.conversion) {
                    ArgKind::Number => {
                        let n = check_number(ctx, exec, &stack, arg, "format")?;
                        sprintf::format_number(&spec, n, &mut out).map_err(|e| arg_error(ctx, exec, arg, "format", &e))?;
                    }
                    ArgKind::String => {
                        let text = match tostring_plain(ctx, stack.get(arg)) {
                            Value::String(s) => s.as_bytes().to_vec(),
                            _ => Vec::new(),
                        };
                        sprintf::format_string(&spec, &text, &mut out);
                    }
                    ArgKind::Quoted => match stack.get(arg) {
                        Value::String(s) => sprintf::quote_string(s.as_bytes(), &mut out),
                        v @ (Value::Integer(_) | Value::Number(_)) => sprintf::quote_number(v.to_number().unwrap_or(0.0), &mut out),
                        other => {
                            let text = tostring_plain(ctx, other);
                            if let Value::String(s) = text {
                                out.extend_from_slice(s.as_bytes());
                            }
                        }
                    },
                }
            }
        }
        crate::lua::limits::check_string_size(ctx, exec, out.len())?;
    }
    stack.replace(ctx, new_string(ctx, &out));
    Ok(CallbackReturn::Return)
}
