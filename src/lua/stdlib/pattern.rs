//! Lua 5.1 patterns, as LuaJIT 2.1 matches them: a port of the matcher in Lua 5.1's
//! `lstrlib.c` (`match`, `singlematch`, `classend`, `matchbalance`, `max_expand`,
//! `min_expand`, captures, `%f` frontier) on byte slices.
//!
//! Differences from the C code are protective only: recursion is bounded (200 levels)
//! and every matcher step is charged to a [`Budget`], so no pattern can overflow the
//! stack or hang the proxy; both failures are "pattern too complex".

/// Lua's `LUA_MAXCAPTURES`.
const MAX_CAPTURES: usize = 32;
/// Deepest recursion of the matcher (later Lua's `MAXCCALLS`).
const MAX_DEPTH: usize = 200;

/// A capture: a byte range of the subject, or a position capture `()` (1-based, as Lua returns it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// `subject[start..end]`.
    Slice { start: usize, end: usize },
    /// A position capture's value.
    Position(usize),
    /// A capture the match never closed (`"x("`). Lua raises "unfinished capture" only
    /// when the value is used: `find`, `match`, `gmatch` and a `gsub` function use all
    /// captures, a `gsub` table the first, a `gsub` string the ones it names.
    Unfinished,
}

/// A successful match: the whole match is `subject[start..end]`; `captures` in order
/// (empty when the pattern has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub start: usize,
    pub end: usize,
    pub captures: Vec<Capture>,
}

impl Match {
    /// The match when all its captures are closed, else Lua's "unfinished capture"
    /// (lstrlib's `push_captures`, which `find`, `match` and `gmatch` call).
    pub fn finished(self) -> Result<Match, PatternError> {
        if self.captures.contains(&Capture::Unfinished) {
            return error("unfinished capture");
        }
        Ok(self)
    }
}

/// Why a pattern could not be matched; `message` is Lua's text, e.g.
/// "malformed pattern (ends with '%')".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub message: String,
}

fn error<T>(message: &str) -> Result<T, PatternError> {
    Err(PatternError { message: message.to_string() })
}

/// A step budget: every matcher step costs 1; when it runs out, matching fails with
/// "pattern too complex".
pub struct Budget {
    pub remaining: u64,
}

impl Budget {
    /// A budget of `steps` matcher steps.
    pub fn new(steps: u64) -> Budget {
        Budget { remaining: steps }
    }
}

/// Whether the pattern has special characters (lstrlib's `SPECIALS`, `^$*+?.([%-`).
pub fn has_specials(pattern: &[u8]) -> bool {
    pattern.iter().any(|b| b"^$*+?.([%-".contains(b))
}

#[derive(Clone, Copy)]
enum CapLen {
    Unclosed,
    Position,
    Len(usize),
}

impl CapLen {
    /// As `State::capture` stores it: 0 unclosed, 1 a position capture, `n + 2` a
    /// length of `n` (a subject is far shorter than `usize::MAX - 2`).
    fn stored(self) -> usize {
        match self {
            CapLen::Unclosed => 0,
            CapLen::Position => 1,
            CapLen::Len(n) => n + 2,
        }
    }

    fn from_stored(v: usize) -> CapLen {
        match v {
            0 => CapLen::Unclosed,
            1 => CapLen::Position,
            n => CapLen::Len(n - 2),
        }
    }
}

struct State<'a, 'b> {
    src: &'a [u8],
    pat: &'a [u8],
    level: usize,
    /// `(start, stored length)`, the length as [`CapLen::stored`] encodes it: a zeroed
    /// array (cheap to set up for every match, issue 28) is all unclosed.
    capture: [(usize, usize); MAX_CAPTURES],
    depth: usize,
    budget: &'b mut Budget,
}

const L_ESC: u8 = b'%';

impl<'a, 'b> State<'a, 'b> {
    fn new(src: &'a [u8], pat: &'a [u8], budget: &'b mut Budget) -> Self {
        State { src, pat, level: 0, capture: [(0, 0); MAX_CAPTURES], depth: 0, budget }
    }

    fn pat_at(&self, p: usize) -> Option<u8> {
        self.pat.get(p).copied()
    }

    /// The index just past the single-character class starting at `p`.
    fn class_end(&self, mut p: usize) -> Result<usize, PatternError> {
        let c = self.pat[p];
        p += 1;
        if c == L_ESC {
            if p >= self.pat.len() {
                return error("malformed pattern (ends with '%')");
            }
            return Ok(p + 1);
        }
        if c == b'[' {
            if self.pat_at(p) == Some(b'^') {
                p += 1;
            }
            // Look for the closing ']'; the first character is always part of the set.
            loop {
                if p >= self.pat.len() {
                    return error("malformed pattern (missing ']')");
                }
                let cc = self.pat[p];
                p += 1;
                if cc == L_ESC && p < self.pat.len() {
                    p += 1;
                }
                if self.pat_at(p) == Some(b']') {
                    return Ok(p + 1);
                }
            }
        }
        Ok(p)
    }

    fn single_match(&self, s: usize, p: usize, ep: usize) -> bool {
        let Some(&c) = self.src.get(s) else { return false };
        match self.pat[p] {
            b'.' => true,
            L_ESC => match_class(c, self.pat[p + 1]),
            b'[' => match_bracket_class(c, &self.pat[p..ep - 1]),
            pc => pc == c,
        }
    }

    fn do_match(&mut self, s: usize, p: usize) -> Result<Option<usize>, PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return error("pattern too complex");
        }
        let result = self.match_inner(s, p);
        self.depth -= 1;
        result
    }

    fn charge(&mut self) -> Result<(), PatternError> {
        if self.budget.remaining == 0 {
            return error("pattern too complex");
        }
        self.budget.remaining -= 1;
        Ok(())
    }

    fn match_inner(&mut self, mut s: usize, mut p: usize) -> Result<Option<usize>, PatternError> {
        loop {
            self.charge()?;
            let Some(pc) = self.pat_at(p) else { return Ok(Some(s)) };
            match pc {
                b'(' => {
                    return if self.pat_at(p + 1) == Some(b')') {
                        self.start_capture(s, p + 2, CapLen::Position)
                    } else {
                        self.start_capture(s, p + 1, CapLen::Unclosed)
                    };
                }
                b')' => return self.end_capture(s, p + 1),
                L_ESC if self.pat_at(p + 1) == Some(b'b') => {
                    match self.match_balance(s, p + 2)? {
                        Some(next) => {
                            s = next;
                            p += 4;
                            continue;
                        }
                        None => return Ok(None),
                    }
                }
                L_ESC if self.pat_at(p + 1) == Some(b'f') => {
                    p += 2;
                    if self.pat_at(p) != Some(b'[') {
                        return error("missing '[' after '%f' in pattern");
                    }
                    let ep = self.class_end(p)?;
                    let previous = if s == 0 { 0 } else { self.src[s - 1] };
                    let current = self.src.get(s).copied().unwrap_or(0);
                    let set = &self.pat[p..ep - 1];
                    if !match_bracket_class(previous, set) && match_bracket_class(current, set) {
                        p = ep;
                        continue;
                    }
                    return Ok(None);
                }
                L_ESC if self.pat_at(p + 1).is_some_and(|c| c.is_ascii_digit()) => {
                    match self.match_capture(s, self.pat[p + 1])? {
                        Some(next) => {
                            s = next;
                            p += 2;
                            continue;
                        }
                        None => return Ok(None),
                    }
                }
                b'$' if p + 1 == self.pat.len() => {
                    return Ok((s == self.src.len()).then_some(s));
                }
                _ => {}
            }
            // Default: a single-character class, possibly with a quantifier.
            let ep = self.class_end(p)?;
            let matched = self.single_match(s, p, ep);
            match self.pat_at(ep) {
                Some(b'?') => {
                    if matched {
                        if let Some(r) = self.do_match(s + 1, ep + 1)? {
                            return Ok(Some(r));
                        }
                    }
                    p = ep + 1;
                }
                Some(b'*') => return self.max_expand(s, p, ep),
                Some(b'+') => return if matched { self.max_expand(s + 1, p, ep) } else { Ok(None) },
                Some(b'-') => return self.min_expand(s, p, ep),
                _ => {
                    if !matched {
                        return Ok(None);
                    }
                    s += 1;
                    p = ep;
                }
            }
        }
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> Result<Option<usize>, PatternError> {
        let mut i = 0usize;
        while self.single_match(s + i, p, ep) {
            i += 1;
        }
        // Try the longest run first, then shorter ones.
        loop {
            self.charge()?;
            if let Some(r) = self.do_match(s + i, ep + 1)? {
                return Ok(Some(r));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize) -> Result<Option<usize>, PatternError> {
        loop {
            self.charge()?;
            if let Some(r) = self.do_match(s, ep + 1)? {
                return Ok(Some(r));
            }
            if self.single_match(s, p, ep) {
                s += 1;
            } else {
                return Ok(None);
            }
        }
    }

    fn start_capture(&mut self, s: usize, p: usize, what: CapLen) -> Result<Option<usize>, PatternError> {
        if self.level >= MAX_CAPTURES {
            return error("too many captures");
        }
        self.capture[self.level] = (s, what.stored());
        self.level += 1;
        let result = self.do_match(s, p)?;
        if result.is_none() {
            self.level -= 1;
        }
        Ok(result)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> Result<Option<usize>, PatternError> {
        let l = self.capture_to_close()?;
        self.capture[l].1 = CapLen::Len(s - self.capture[l].0).stored();
        let result = self.do_match(s, p)?;
        if result.is_none() {
            self.capture[l].1 = CapLen::Unclosed.stored();
        }
        Ok(result)
    }

    fn capture_to_close(&self) -> Result<usize, PatternError> {
        (0..self.level)
            .rev()
            .find(|&l| matches!(CapLen::from_stored(self.capture[l].1), CapLen::Unclosed))
            .map_or_else(|| error("invalid pattern capture"), Ok)
    }

    fn match_balance(&mut self, s: usize, p: usize) -> Result<Option<usize>, PatternError> {
        if p + 1 >= self.pat.len() {
            return error("unbalanced pattern");
        }
        let (open, close) = (self.pat[p], self.pat[p + 1]);
        if self.src.get(s) != Some(&open) {
            return Ok(None);
        }
        let mut depth = 1usize;
        let mut i = s + 1;
        while i < self.src.len() {
            let c = self.src[i];
            if c == close {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(i + 1));
                }
            } else if c == open {
                depth += 1;
            }
            i += 1;
        }
        Ok(None)
    }

    fn match_capture(&mut self, s: usize, digit: u8) -> Result<Option<usize>, PatternError> {
        // `%0` is no back-reference (lstrlib's check_capture: `l -= '1'; if (l < 0 ...`);
        // checked before the subtraction, which would underflow.
        if digit < b'1' {
            return error("invalid capture index");
        }
        let l = (digit - b'1') as usize;
        if l >= self.level {
            return error("invalid capture index");
        }
        let (start, len) = match (self.capture[l].0, CapLen::from_stored(self.capture[l].1)) {
            (start, CapLen::Len(len)) => (start, len),
            _ => return error("invalid capture index"),
        };
        let captured = &self.src[start..start + len];
        if self.src.len() - s >= len && &self.src[s..s + len] == captured {
            Ok(Some(s + len))
        } else {
            Ok(None)
        }
    }

    fn captures(&self) -> Vec<Capture> {
        self.capture[..self.level]
            .iter()
            .map(|&(init, len)| match CapLen::from_stored(len) {
                CapLen::Position => Capture::Position(init + 1),
                CapLen::Len(len) => Capture::Slice { start: init, end: init + len },
                CapLen::Unclosed => Capture::Unfinished,
            })
            .collect()
    }
}

/// C-locale `ctype` classes: `%a %c %d %g %l %p %s %u %w %x`, Lua 5.1's `%z`; upper case for the complement.
fn match_class(c: u8, class: u8) -> bool {
    let result = match class.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'g' => c.is_ascii_graphic(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        b's' => c == b' ' || (b'\t'..=b'\r').contains(&c),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        // Lua 5.1's `%z` (LuaJIT keeps it): the zero byte.
        b'z' => c == 0,
        _ => return class == c,
    };
    if class.is_ascii_uppercase() {
        !result
    } else {
        result
    }
}

/// `set` runs from the `[` to the last character before the closing `]`.
fn match_bracket_class(c: u8, set: &[u8]) -> bool {
    let mut p = 1;
    let mut negate = false;
    if set.get(1) == Some(&b'^') {
        negate = true;
        p += 1;
    }
    while p < set.len() {
        if set[p] == L_ESC && p + 1 < set.len() {
            p += 1;
            if match_class(c, set[p]) {
                return !negate;
            }
        } else if set.get(p + 1) == Some(&b'-') && p + 2 < set.len() {
            if set[p] <= c && c <= set[p + 2] {
                return !negate;
            }
            p += 2;
        } else if set[p] == c {
            return !negate;
        }
        p += 1;
    }
    negate
}

/// Where a match can start, found once per pattern from the items every match must
/// consume at its starting position (after leading captures, which consume nothing).
/// Positions where those fail cannot start a match, so scanning skips them without
/// running the matcher; that changes no result and no error, because the matcher fails
/// on such a position before it reads any later part of the pattern.
enum First {
    /// No shortcut: every position is tried.
    Any,
    /// Literal bytes (plain characters and `%` escapes of non-alphanumerics, none made
    /// optional by `?`, `*` or `-`): the first found with `memchr`, the rest compared.
    Literal(Prefix),
    /// A single-character class `%x` or `[set]` at `pat[start..end]`.
    Class { start: usize, end: usize },
}

/// Leading `(` and `()` skipped when looking for the first item; few enough that the
/// matcher cannot hit "too many captures" or its recursion bound before that item.
const MAX_LEADING_CAPTURES: usize = 8;

/// The literal bytes every match starts with.
struct Prefix {
    bytes: Vec<u8>,
    /// When the pattern starts with the prefix (no leading capture): how many of its
    /// bytes are whole pattern items (not the first of a `c+`), and the pattern offset
    /// after them, so the matcher can start there once the bytes compared equal.
    skip: Option<(usize, usize)>,
}

/// The literal bytes every match starts with, from `pat[start..]`: items the matcher's
/// default case takes one byte at a time, without recursion or errors.
fn literal_prefix(pat: &[u8], start: usize) -> Prefix {
    let mut prefix = Vec::new();
    let mut p = start;
    loop {
        let (c, end) = match pat.get(p) {
            // `%` before a non-alphanumeric is that character (lstrlib's `match_class`
            // default); `%b`, `%f`, `%1` and the letter classes stop the prefix.
            Some(&L_ESC) => match pat.get(p + 1) {
                Some(&n) if !n.is_ascii_alphanumeric() => (n, p + 2),
                _ => break,
            },
            Some(&c) if !b"^$*+?.([%-)".contains(&c) => (c, p + 1),
            _ => break,
        };
        match pat.get(end) {
            Some(b'?' | b'*' | b'-') => break,
            // One is required; how many more is the matcher's business.
            Some(b'+') => {
                let whole = (prefix.len(), p);
                prefix.push(c);
                return Prefix { bytes: prefix, skip: (start == 0).then_some(whole) };
            }
            _ => {
                prefix.push(c);
                p = end;
            }
        }
    }
    Prefix { skip: (start == 0).then_some((prefix.len(), p)), bytes: prefix }
}

fn first_item(state: &State<'_, '_>) -> First {
    let pat = state.pat;
    let mut p = 0;
    while pat.get(p) == Some(&b'(') && p < MAX_LEADING_CAPTURES * 2 {
        p += if pat.get(p + 1) == Some(&b')') { 2 } else { 1 };
    }
    let prefix = literal_prefix(pat, p);
    if !prefix.bytes.is_empty() {
        return First::Literal(prefix);
    }
    let end = match pat.get(p) {
        Some(&L_ESC) if pat.get(p + 1).is_some_and(|&n| n.is_ascii_alphabetic() && n != b'b' && n != b'f') => p + 2,
        Some(b'[') => match state.class_end(p) {
            Ok(end) => end,
            // The matcher reports the malformed class itself, at the first position.
            Err(_) => return First::Any,
        },
        _ => return First::Any,
    };
    // `?`, `*` and `-` make the item optional; `+` still needs one.
    if matches!(pat.get(end), Some(b'?' | b'*' | b'-')) {
        return First::Any;
    }
    First::Class { start: p, end }
}

/// One pattern matched repeatedly against one subject (`gsub`, `gmatch`, `find`): the
/// matcher's state is set up once, and [`Matcher::candidate`] skips positions where no
/// match can start.
pub struct Matcher<'a, 'b> {
    state: State<'a, 'b>,
    first: First,
}

impl<'a, 'b> Matcher<'a, 'b> {
    /// A matcher of `pattern` (no `^` handling: a leading `^` is a literal here, as in
    /// Lua 5.1's `gmatch`) over `subject`, charging `budget`.
    pub fn new(subject: &'a [u8], pattern: &'a [u8], budget: &'b mut Budget) -> Self {
        let state = State::new(subject, pattern, budget);
        let first = first_item(&state);
        Matcher { state, first }
    }

    /// Tries to match at exactly byte offset `at` (no scanning). The captures may include
    /// [`Capture::Unfinished`]; see [`Match::finished`].
    pub fn match_at(&mut self, at: usize) -> Result<Option<Match>, PatternError> {
        if at > self.state.src.len() {
            return Ok(None);
        }
        self.state.level = 0;
        self.state.depth = 0;
        let (mut s, mut p) = (at, 0);
        if let First::Literal(prefix) = &self.first {
            // The matcher would fail within the prefix; when the pattern starts with it,
            // it can start after it.
            if !self.state.src[at..].starts_with(&prefix.bytes) {
                return Ok(None);
            }
            if let Some((bytes, offset)) = prefix.skip {
                (s, p) = (at + bytes, offset);
            }
        }
        Ok(self.state.do_match(s, p)?.map(|end| Match { start: at, end, captures: self.state.captures() }))
    }

    /// The first offset at or after `from` where a match may start, or the subject's
    /// length + 1 when there is none. `match_at` fails at every offset skipped.
    pub fn candidate(&self, from: usize) -> usize {
        let src = self.state.src;
        let none = src.len() + 1;
        if from >= src.len() {
            // At the end only a pattern that may match empty can succeed.
            return if matches!(self.first, First::Any) { from } else { none.max(from) };
        }
        match &self.first {
            First::Any => from,
            First::Literal(Prefix { bytes: prefix, .. }) => {
                let mut s = from;
                while let Some(i) = memchr::memchr(prefix[0], &src[s..]) {
                    s += i;
                    let rest = &src[s..];
                    if rest.len() < prefix.len() {
                        return none;
                    }
                    // Byte by byte: most candidates differ at the second byte, and a
                    // `memcmp` call costs more than that in wasm.
                    if prefix.iter().zip(rest).all(|(a, b)| a == b) {
                        return s;
                    }
                    s += 1;
                }
                none
            }
            &First::Class { start, end } => {
                (from..src.len()).find(|&s| self.state.single_match(s, start, end)).unwrap_or(none)
            }
        }
    }
}

/// Tries to match `pattern` at exactly byte offset `at` of `subject` (no anchor
/// handling, no scanning), all captures closed.
pub fn match_at(subject: &[u8], pattern: &[u8], at: usize, budget: &mut Budget) -> Result<Option<Match>, PatternError> {
    Matcher::new(subject, pattern, budget).match_at(at)?.map(Match::finished).transpose()
}

/// `string.find`/`string.match`: scans from byte offset `init` (0-based, at most the
/// subject's length), honouring a leading `^` anchor. Returns the first match, all
/// captures closed.
pub fn find(subject: &[u8], pattern: &[u8], init: usize, budget: &mut Budget) -> Result<Option<Match>, PatternError> {
    let (anchor, pattern) = match pattern.strip_prefix(b"^") {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let mut matcher = Matcher::new(subject, pattern, budget);
    if anchor {
        return matcher.match_at(init)?.map(Match::finished).transpose();
    }
    let mut s = init;
    loop {
        s = matcher.candidate(s);
        if s > subject.len() {
            return Ok(None);
        }
        if let Some(m) = matcher.match_at(s)? {
            return m.finished().map(Some);
        }
        s += 1;
    }
}

/// `find` without [`Matcher`]'s shortcuts (no skipped offsets, no skipped prefix): the
/// matcher from the pattern's start at every offset, as lstrlib's `str_find_aux` loops.
/// The reference the property test and the fuzz target hold `find` to.
#[cfg(any(test, feature = "fuzzing"))]
pub fn find_every_offset(subject: &[u8], pattern: &[u8], init: usize, budget: &mut Budget) -> Result<Option<Match>, PatternError> {
    let (anchor, pattern) = match pattern.strip_prefix(b"^") {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let mut state = State::new(subject, pattern, budget);
    let mut s = init;
    loop {
        state.level = 0;
        state.depth = 0;
        if let Some(end) = state.do_match(s, 0)? {
            return Match { start: s, end, captures: state.captures() }.finished().map(Some);
        }
        s += 1;
        if anchor || s > subject.len() {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find_str(s: &str, p: &str) -> Result<Option<(usize, usize, Vec<String>)>, String> {
        let mut budget = Budget::new(1_000_000);
        find(s.as_bytes(), p.as_bytes(), 0, &mut budget)
            .map(|m| {
                m.map(|m| {
                    let caps = m
                        .captures
                        .iter()
                        .map(|c| match c {
                            Capture::Slice { start, end } => s[*start..*end].to_string(),
                            Capture::Position(p) => p.to_string(),
                            Capture::Unfinished => "unfinished".to_string(),
                        })
                        .collect();
                    (m.start + 1, m.end, caps)
                })
            })
            .map_err(|e| e.message)
    }

    #[test]
    fn basics() {
        // luajit -e 'print(string.find("hello", "l+"))' -> 3 4
        assert_eq!(find_str("hello", "l+"), Ok(Some((3, 4, vec![]))));
        assert_eq!(find_str("hello", "^h"), Ok(Some((1, 1, vec![]))));
        assert_eq!(find_str("hello", "^e"), Ok(None));
        assert_eq!(find_str("hello", "o$"), Ok(Some((5, 5, vec![]))));
        assert_eq!(find_str("a$b", "$b"), Ok(Some((2, 3, vec![]))));
        assert_eq!(find_str("", ""), Ok(Some((1, 0, vec![]))));
        assert_eq!(find_str("key=val", "(%w+)=(%w+)"), Ok(Some((1, 7, vec!["key".into(), "val".into()]))));
        assert_eq!(find_str("abc", "()b()"), Ok(Some((2, 2, vec!["2".into(), "3".into()]))));
    }

    #[test]
    fn classes_sets_and_quantifiers() {
        assert_eq!(find_str("  x12", "%d+"), Ok(Some((4, 5, vec![]))));
        assert_eq!(find_str("abc123", "[^%a]+"), Ok(Some((4, 6, vec![]))));
        assert_eq!(find_str("a-b", "[a%-]+"), Ok(Some((1, 2, vec![]))));
        assert_eq!(find_str("x]y", "[]]"), Ok(Some((2, 2, vec![]))));
        assert_eq!(find_str("<a><b>", "<(.-)>"), Ok(Some((1, 3, vec!["a".into()]))));
        assert_eq!(find_str("color colour", "colou?r"), Ok(Some((1, 5, vec![]))));
        assert_eq!(find_str("f(a(b)c)d", "%b()"), Ok(Some((2, 8, vec![]))));
        assert_eq!(find_str("THE (quick) fox", "%f[%a]%a+"), Ok(Some((1, 3, vec![]))));
        assert_eq!(find_str("hello hello", "(h%a+) %1"), Ok(Some((1, 11, vec!["hello".into()]))));
    }

    #[test]
    fn lua_error_messages() {
        assert_eq!(find_str("x", "%"), Err("malformed pattern (ends with '%')".into()));
        assert_eq!(find_str("x", "[a"), Err("malformed pattern (missing ']')".into()));
        assert_eq!(find_str("x", "(()"), Err("unfinished capture".into()));
        assert_eq!(find_str("x", "x)"), Err("invalid pattern capture".into()));
        assert_eq!(find_str("x", "%1"), Err("invalid capture index".into()));
        // Found by `make fuzz` (lua_pattern): `%0` underflowed the capture index.
        // luajit -e 'print(pcall(string.find, "x", "%0"))' -> false  invalid capture index
        assert_eq!(find_str("x", "%0"), Err("invalid capture index".into()));
        assert_eq!(find_str("0", "(0)%0"), Err("invalid capture index".into()));
        assert_eq!(find_str("x", "%f"), Err("missing '[' after '%f' in pattern".into()));
        assert_eq!(find_str("x", "%b"), Err("unbalanced pattern".into()));
    }

    #[test]
    fn scanning_skips_to_where_the_first_items_can_match() {
        let subject = br#"{"id":1,"status":"active"}"#;
        let mut budget = Budget::new(1_000);
        let candidates = |pattern: &[u8], budget: &mut Budget| {
            let matcher = Matcher::new(subject, pattern, budget);
            (0..=subject.len()).map(|s| matcher.candidate(s)).collect::<std::collections::BTreeSet<_>>()
        };
        // The literal prefix `"status":"` occurs once, at offset 8; nothing after it.
        assert_eq!(candidates(br#""status":"%a+""#, &mut budget), [8, subject.len() + 1].into());
        // `%d` after a leading capture: the one digit, at 6.
        assert_eq!(candidates(b"(%d)", &mut budget), [6, subject.len() + 1].into());
        // An optional first item (`"?`) leaves every offset to the matcher.
        assert_eq!(candidates(br#""?s"#, &mut budget).len(), subject.len() + 1);
        // Candidates cost no matcher steps.
        assert_eq!(budget.remaining, 1_000);
    }

    #[test]
    fn pathological_patterns_are_bounded() {
        let subject = "a".repeat(5000);
        let mut budget = Budget::new(100_000);
        let result = find(subject.as_bytes(), b"a*a*a*a*a*a*b", 0, &mut budget);
        assert_eq!(result.unwrap_err().message, "pattern too complex");
        let long = "x".repeat(100_000);
        let mut budget = Budget::new(10_000_000);
        assert!(find(long.as_bytes(), b".-$", 0, &mut budget).unwrap().is_some());
    }
}
