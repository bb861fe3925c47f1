//! A small safe layer over PCRE2 (the `pcre2-sys` crate: PCRE2 10.46's C sources, 8-bit
//! code units, Unicode support, compiled into the module; no JIT in wasm32, where sljit
//! has no backend, see `.cargo/config.toml`). It offers what lua-nginx-module's
//! `ngx_http_lua_regex.c` uses: `pcre2_compile` with a pattern and option bits, the
//! capture count and name table (`pcre2_pattern_info`), `pcre2_match` /
//! `pcre2_dfa_match` from an offset into one reused match data block and match context,
//! and `pcre2_get_error_message`.
//!
//! Every pointer handed to C is valid for the call: patterns and subjects are Rust
//! slices (pointer and length, never NUL-terminated), output buffers are sized by their
//! length argument, and the compiled code is freed exactly once (`Drop`).

use std::cell::RefCell;
use std::ptr::{self, NonNull};

use pcre2_sys as sys;

/// An ovector entry for a group that did not take part in the match.
pub const UNSET: usize = sys::PCRE2_UNSET;

/// `pcre2_match`'s "no match" return (also PCRE1's `PCRE_ERROR_NOMATCH`).
pub const ERROR_NOMATCH: i32 = sys::PCRE2_ERROR_NOMATCH;

/// `pcre2_match`'s return when a callout ended the match: here, the phase's time budget
/// (see [`exec`]).
pub const ERROR_CALLOUT: i32 = sys::PCRE2_ERROR_CALLOUT;

/// Compile option bits, as `pcre2.h` defines them (lua-resty-core's `PCRE_*` constants
/// for PCRE2 in `resty/core/regex.lua`).
pub mod opt {
    use super::sys;
    pub const CASELESS: u32 = sys::PCRE2_CASELESS;
    pub const MULTILINE: u32 = sys::PCRE2_MULTILINE;
    pub const DOTALL: u32 = sys::PCRE2_DOTALL;
    pub const EXTENDED: u32 = sys::PCRE2_EXTENDED;
    pub const ANCHORED: u32 = sys::PCRE2_ANCHORED;
    pub const UTF: u32 = sys::PCRE2_UTF;
    pub const DUPNAMES: u32 = sys::PCRE2_DUPNAMES;
    /// lua-resty-core's PCRE2 spelling of `PCRE_JAVASCRIPT_COMPAT`: `ALT_BSUX |
    /// ALLOW_EMPTY_CLASS | MATCH_UNSET_BACKREF`.
    pub const JAVASCRIPT_COMPAT: u32 =
        sys::PCRE2_ALT_BSUX | sys::PCRE2_ALLOW_EMPTY_CLASS | sys::PCRE2_MATCH_UNSET_BACKREF;
}

/// A pattern PCRE2 refused: its error code and the offset in the pattern where it
/// stopped (`pcre2_compile`'s `errorcode` and `erroroffset`).
#[derive(Debug, Clone, Copy)]
pub struct CompileError {
    pub code: i32,
    pub offset: usize,
}

/// A compiled pattern.
pub struct Code {
    ptr: NonNull<sys::pcre2_code_8>,
    /// The number of capturing groups (`PCRE2_INFO_CAPTURECOUNT`).
    captures: usize,
    /// `(group number, name)` in the order of PCRE2's name table (sorted by name; a name
    /// used by several groups appears once per group, in group order).
    names: Vec<(usize, Box<[u8]>)>,
    /// Whether the code runs behind the start callout ([`with_start_callout`]), so a
    /// match can be stopped between start positions.
    stoppable: bool,
}

impl Drop for Code {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `pcre2_compile_8` and is freed only here.
        unsafe { sys::pcre2_code_free_8(self.ptr.as_ptr()) }
    }
}

impl Code {
    /// Compiles `pattern` with the `options` bits (`pcre2_compile`, default compile
    /// context: newline LF, `\R` any Unicode newline, no pattern length limit).
    ///
    /// The code that runs is the pattern behind a callout at its start (see
    /// [`with_start_callout`]), so a match can be stopped between start positions; the
    /// pattern alone is compiled first, so a bad pattern fails with PCRE2's own error and
    /// offset, and a pattern the wrapped form would not compile to the same groups runs
    /// unwrapped.
    pub fn new(pattern: &[u8], options: u32) -> Result<Code, CompileError> {
        let plain = Code::compile(pattern, options)?;
        for suffix in [&b"\\E)"[..], &b"\\E\n)"[..]] {
            let wrapped = with_start_callout(pattern, suffix);
            if let Ok(mut code) = Code::compile(&wrapped, options) {
                if code.captures == plain.captures && code.names == plain.names {
                    code.stoppable = true;
                    return Ok(code);
                }
            }
        }
        Ok(plain)
    }

    fn compile(pattern: &[u8], options: u32) -> Result<Code, CompileError> {
        let (mut code, mut offset) = (0i32, 0usize);
        // SAFETY: pattern pointer and length describe a live slice; the out-parameters
        // are valid locals; a null compile context means the defaults.
        let raw = unsafe {
            sys::pcre2_compile_8(pattern.as_ptr(), pattern.len(), options, &mut code, &mut offset, ptr::null_mut())
        };
        let Some(ptr) = NonNull::new(raw) else {
            return Err(CompileError { code, offset });
        };
        let mut compiled = Code { ptr, captures: 0, names: Vec::new(), stoppable: false };
        compiled.captures = compiled.info_u32(sys::PCRE2_INFO_CAPTURECOUNT) as usize;
        let count = compiled.info_u32(sys::PCRE2_INFO_NAMECOUNT) as usize;
        if count > 0 {
            let size = compiled.info_u32(sys::PCRE2_INFO_NAMEENTRYSIZE) as usize;
            let mut table: *const u8 = ptr::null();
            // SAFETY: PCRE2_INFO_NAMETABLE writes a PCRE2_SPTR into `table`.
            let rc = unsafe { sys::pcre2_pattern_info_8(ptr.as_ptr(), sys::PCRE2_INFO_NAMETABLE, (&mut table as *mut *const u8).cast()) };
            if rc == 0 && !table.is_null() && size > 2 {
                // SAFETY: the name table is `count` entries of `size` bytes, owned by the
                // compiled code, which outlives this borrow.
                let bytes = unsafe { std::slice::from_raw_parts(table, count * size) };
                for entry in bytes.chunks_exact(size) {
                    let group = (usize::from(entry[0]) << 8) | usize::from(entry[1]);
                    let name = &entry[2..];
                    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
                    compiled.names.push((group, name[..end].into()));
                }
            }
        }
        Ok(compiled)
    }

    fn info_u32(&self, what: u32) -> u32 {
        let mut value = 0u32;
        // SAFETY: the CAPTURECOUNT, NAMECOUNT and NAMEENTRYSIZE queries write a uint32_t.
        let rc = unsafe { sys::pcre2_pattern_info_8(self.ptr.as_ptr(), what, (&mut value as *mut u32).cast()) };
        if rc == 0 { value } else { 0 }
    }

    /// The number of capturing groups.
    pub fn captures(&self) -> usize {
        self.captures
    }

    /// The named groups, `(group number, name)` in name-table order.
    pub fn names(&self) -> &[(usize, Box<[u8]>)] {
        &self.names
    }

    /// Whether a match of this code can be stopped between start positions (false only
    /// for a pattern the start callout could not wrap, which then runs as written).
    pub fn stoppable(&self) -> bool {
        self.stoppable
    }
}

/// What [`with_start_callout`] puts before a pattern: callout 255, then the group.
const START_CALLOUT: &[u8] = b"(?C255)(?:";

/// `pattern` as `(?C255)(?:pattern\E)`: PCRE2 runs the callout once at each start
/// position it tries (after its start-of-match optimizations skip the hopeless ones),
/// which is where a long match can be stopped; the group keeps a top-level alternation
/// whole, `\E` closes a `\Q` left open at the end (an isolated `\E` is ignored), and
/// the newline variant of `suffix` ends a trailing `#` comment of extended mode.
/// Start-of-pattern items (`(*UTF)`, `(*LIMIT_MATCH=n)` ...) stay first. Groups, names,
/// anchoring and the start-of-match optimizations are those of the pattern (PCRE2's
/// `first_significant_code` skips callouts).
fn with_start_callout(pattern: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut verbs = 0;
    while pattern[verbs..].starts_with(b"(*") {
        let rest = &pattern[verbs + 2..];
        let Some(end) = rest.iter().position(|&b| b == b')') else { break };
        if end == 0 || !rest[..end].iter().all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'=') {
            break;
        }
        verbs += 2 + end + 1;
    }
    let mut wrapped = Vec::with_capacity(pattern.len() + START_CALLOUT.len() + suffix.len());
    wrapped.extend_from_slice(&pattern[..verbs]);
    wrapped.extend_from_slice(START_CALLOUT);
    wrapped.extend_from_slice(&pattern[verbs..]);
    wrapped.extend_from_slice(suffix);
    wrapped
}

extern "C" {
    // PCRE2 10.46's `pcre2_set_callout` (8-bit), compiled into the module with the rest
    // of pcre2-sys's sources; the crate's bindings leave the callout API out. The block
    // argument is a `pcre2_callout_block_8 *`, not read here.
    fn pcre2_set_callout_8(
        context: *mut sys::pcre2_match_context_8,
        callout: Option<unsafe extern "C" fn(*mut std::ffi::c_void, *mut std::ffi::c_void) -> std::ffi::c_int>,
        data: *mut std::ffi::c_void,
    ) -> std::ffi::c_int;
}

/// How many start positions a match tries between two looks at the clock (a clock read is
/// a host call, about as dear as the callout itself; reading it at every try made a
/// quote-heavy `gsub` 1.7 times slower, BENCHMARKS.md). A try whose cost is backtracking
/// is bounded by [`MatchLimits::match_limit`] (tens of milliseconds at 1,000,000); a try
/// that rescans a long run at each backtrack (`a*a*X` over 20,000 a's: about 100 ms) is
/// not interrupted inside, so the budget can be passed by this many such tries.
pub const STARTS_PER_CHECK: u32 = 8;

/// What the start callout of one match call sees: the tries so far and the budget check.
struct Budget<'a> {
    starts: u32,
    over_budget: &'a mut dyn FnMut() -> bool,
}

/// PCRE2's callout (every callout of the pattern, the start one included): every
/// [`STARTS_PER_CHECK`]th call asks the budget, and a spent budget ends the match with
/// `PCRE2_ERROR_CALLOUT` (-37).
unsafe extern "C" fn start_callout(_block: *mut std::ffi::c_void, data: *mut std::ffi::c_void) -> std::ffi::c_int {
    // SAFETY: `data` is the `Budget` that `exec` set for this match call and that lives
    // until the call returns; PCRE2 calls back only during it, on this thread.
    let budget = unsafe { &mut *data.cast::<Budget<'_>>() };
    budget.starts = budget.starts.wrapping_add(1);
    if budget.starts % STARTS_PER_CHECK == 0 && (budget.over_budget)() {
        return sys::PCRE2_ERROR_CALLOUT;
    }
    0
}

/// Bounds on one match call (`pcre2_set_match_limit`, `pcre2_set_depth_limit`,
/// `pcre2_set_heap_limit`; the heap limit in KiB). Past one, the call returns
/// [`sys::PCRE2_ERROR_MATCHLIMIT`] (-47), `DEPTHLIMIT` (-53) or `HEAPLIMIT` (-63).
#[derive(Debug, Clone, Copy)]
pub struct MatchLimits {
    pub match_limit: u32,
    pub depth_limit: u32,
    pub heap_limit_kib: u32,
}

/// The match context and match data one thread (one wasm instance) reuses for every
/// match, as lua-nginx-module keeps one `ngx_regex_match_data` grown on demand.
struct Matcher {
    context: NonNull<sys::pcre2_match_context_8>,
    data: Option<(NonNull<sys::pcre2_match_data_8>, u32)>,
}

impl Drop for Matcher {
    fn drop(&mut self) {
        // SAFETY: both were created by PCRE2 and are freed only here.
        unsafe {
            if let Some((data, _)) = self.data.take() {
                sys::pcre2_match_data_free_8(data.as_ptr());
            }
            sys::pcre2_match_context_free_8(self.context.as_ptr());
        }
    }
}

thread_local! {
    static MATCHER: RefCell<Option<Matcher>> = const { RefCell::new(None) };
}

/// How `exec` runs: backtracking (`pcre2_match`) or DFA (`pcre2_dfa_match`, the longest
/// match, no captures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Backtrack,
    Dfa,
}

/// Runs `code` over `subject` from byte `start` with the match-time `options`
/// (`PCRE2_NO_UTF_CHECK` ...), under `limits`. Returns PCRE2's return code: > 0 the
/// number of leading ovector pairs set (their offsets, then PCRE2_UNSET for the other
/// groups, copied into `ovector`: 2 entries per group, group 0 first), 0 when the
/// ovector was too small, or a negative error (`ERROR_NOMATCH` ...). Never unwinds.
///
/// `over_budget` is asked every [`STARTS_PER_CHECK`] start positions; when it answers
/// true the match ends with `PCRE2_ERROR_CALLOUT` (-37).
pub fn exec(
    code: &Code,
    subject: &[u8],
    start: usize,
    options: u32,
    mode: Mode,
    limits: MatchLimits,
    ovector: &mut Vec<usize>,
    over_budget: &mut dyn FnMut() -> bool,
) -> i32 {
    let pairs = match mode {
        Mode::Backtrack => code.captures.saturating_add(1),
        Mode::Dfa => 1,
    };
    let Ok(pairs32) = u32::try_from(pairs) else { return sys::PCRE2_ERROR_NOMEMORY };
    MATCHER.with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else { return sys::PCRE2_ERROR_NOMEMORY };
        if slot.is_none() {
            // SAFETY: a null general context means malloc/free.
            let context = unsafe { sys::pcre2_match_context_create_8(ptr::null_mut()) };
            let Some(context) = NonNull::new(context) else { return sys::PCRE2_ERROR_NOMEMORY };
            *slot = Some(Matcher { context, data: None });
        }
        let Some(matcher) = slot.as_mut() else { return sys::PCRE2_ERROR_NOMEMORY };
        let data = match matcher.data {
            Some((data, size)) if size >= pairs32 => data,
            _ => {
                if let Some((old, _)) = matcher.data.take() {
                    // SAFETY: created by pcre2_match_data_create_8, dropped from the slot.
                    unsafe { sys::pcre2_match_data_free_8(old.as_ptr()) };
                }
                // SAFETY: plain allocation; null general context.
                let data = unsafe { sys::pcre2_match_data_create_8(pairs32.max(1), ptr::null_mut()) };
                let Some(data) = NonNull::new(data) else { return sys::PCRE2_ERROR_NOMEMORY };
                matcher.data = Some((data, pairs32.max(1)));
                data
            }
        };
        let context = matcher.context.as_ptr();
        let mut budget = Budget { starts: 0, over_budget };
        // SAFETY: `context` is a live match context; the setters only store the values.
        // The callout data points at `budget`, which outlives the match call below;
        // the callout is cleared again before `budget` goes away.
        unsafe {
            sys::pcre2_set_match_limit_8(context, limits.match_limit);
            sys::pcre2_set_depth_limit_8(context, limits.depth_limit);
            sys::pcre2_set_heap_limit_8(context, limits.heap_limit_kib);
            pcre2_set_callout_8(context, Some(start_callout), (&mut budget as *mut Budget<'_>).cast());
        }
        // SAFETY: code, subject slice, match data (at least `pairs` pairs) and context
        // are all live for the call; the DFA workspace is a local array of its length.
        let rc = unsafe {
            match mode {
                Mode::Backtrack => {
                    sys::pcre2_match_8(code.ptr.as_ptr(), subject.as_ptr(), subject.len(), start, options, data.as_ptr(), context)
                }
                Mode::Dfa => {
                    // lua-nginx-module's NGX_LUA_RE_DFA_MODE_WORKSPACE_COUNT.
                    let mut workspace = [0 as std::ffi::c_int; 100];
                    sys::pcre2_dfa_match_8(
                        code.ptr.as_ptr(),
                        subject.as_ptr(),
                        subject.len(),
                        start,
                        options,
                        data.as_ptr(),
                        context,
                        workspace.as_mut_ptr(),
                        workspace.len(),
                    )
                }
            }
        };
        // SAFETY: a live context; no callout may point at `budget` after this call.
        unsafe { pcre2_set_callout_8(context, None, ptr::null_mut()) };
        if rc >= 0 {
            // SAFETY: the ovector of `data` has `pcre2_get_ovector_count` pairs, at
            // least `pairs`; it is read before the match data is used again.
            let ov = unsafe {
                let count = sys::pcre2_get_ovector_count_8(data.as_ptr()) as usize;
                std::slice::from_raw_parts(sys::pcre2_get_ovector_pointer_8(data.as_ptr()), 2 * count.min(pairs))
            };
            ovector.clear();
            ovector.extend_from_slice(ov);
            ovector.resize(2 * pairs, UNSET);
        }
        rc
    })
}

/// PCRE2's message for an error code (`pcre2_get_error_message` into a 128-byte buffer,
/// as lua-nginx-module does, so at most 127 bytes).
pub fn error_message(code: i32) -> String {
    let mut buf = [0u8; 128];
    // SAFETY: the buffer and its length in code units.
    let n = unsafe { sys::pcre2_get_error_message_8(code, buf.as_mut_ptr(), buf.len()) };
    // A negative return is PCRE2_ERROR_BADDATA (unknown code) or NOMEMORY (truncated:
    // the buffer holds a NUL-terminated prefix).
    let len = if n >= 0 { n as usize } else { buf.iter().position(|&b| b == 0).unwrap_or(0) };
    String::from_utf8_lossy(&buf[..len.min(buf.len())]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: MatchLimits = MatchLimits { match_limit: 1_000_000, depth_limit: 1_000_000, heap_limit_kib: 16_384 };

    fn never() -> bool {
        false
    }

    /// A pattern whose every start position costs about the rest of the subject in
    /// steps (`a*` backtracks over the run of a's, then `X` fails), far under the match
    /// limit per position, so only the start callout can stop it: quadratic in all.
    #[test]
    fn a_spent_budget_stops_a_match_between_start_positions() {
        let code = Code::new(b"a*a*X!", 0).unwrap();
        let mut subject = vec![b'a'; 1500];
        subject.push(b'!');
        let mut ov = Vec::new();
        let mut checks = 0;
        let mut over = || {
            checks += 1;
            checks >= 3
        };
        assert_eq!(exec(&code, &subject, 0, 0, Mode::Backtrack, LIMITS, &mut ov, &mut over), ERROR_CALLOUT);
        assert_eq!(checks, 3, "asked every STARTS_PER_CHECK tries until it said stop");
        // With the budget left, the same match runs to its end (no match) as before.
        assert_eq!(exec(&code, &subject, 0, 0, Mode::Backtrack, LIMITS, &mut ov, &mut never), ERROR_NOMATCH);
        assert_eq!(exec(&code, &subject, 0, 0, Mode::Dfa, LIMITS, &mut ov, &mut || true), ERROR_CALLOUT);
    }

    /// The start callout leaves patterns as they were: groups, names, anchoring, a
    /// top-level alternation, start-of-pattern items, `\Q` at the end, extended mode's
    /// trailing comment, and PCRE2's own errors and offsets.
    #[test]
    fn the_start_callout_changes_no_match() {
        let cases: [(&[u8], u32, &[u8], i32, &[usize]); 8] = [
            (b"ab|cd", 0, b"xxcd", 1, &[2, 4]),
            (b"^ab|cd", 0, b"xxab", ERROR_NOMATCH, &[]),
            (b"(*UTF)(*LIMIT_MATCH=100000)(a)|b", 0, b"zb", 1, &[1, 2]),
            (b"x\\Q*)", 0, b"x*)", 1, &[0, 3]),
            (b"a b # trailing comment", sys::PCRE2_EXTENDED, b"zab", 1, &[1, 3]),
            (b"(?x) a b # comment", 0, b"zab", 1, &[1, 3]),
            (b"(?<n>a)(?C1)b", 0, b"ab", 2, &[0, 2, 0, 1]),
            (b"\\Gab", 0, b"xab", ERROR_NOMATCH, &[]),
        ];
        for (pattern, options, subject, rc, expected) in cases {
            let code = Code::new(pattern, options).unwrap_or_else(|e| panic!("{:?}: {e:?}", String::from_utf8_lossy(pattern)));
            assert!(code.stoppable(), "{:?} runs behind the start callout", String::from_utf8_lossy(pattern));
            let mut ov = Vec::new();
            let got = exec(&code, subject, 0, 0, Mode::Backtrack, LIMITS, &mut ov, &mut never);
            assert_eq!(got, rc, "{:?}", String::from_utf8_lossy(pattern));
            if rc > 0 {
                assert_eq!(&ov[..expected.len()], expected, "{:?}", String::from_utf8_lossy(pattern));
            }
        }
        let err = Code::new(b"ab)", 0).err().unwrap();
        assert_eq!((err.code, err.offset), (122, 2), "unmatched closing parenthesis at the pattern's own offset");
        let err = Code::new(b"ab\\", 0).err().unwrap();
        assert_eq!(err.offset, 3, "a trailing backslash stays an error");
    }

    #[test]
    fn compiles_matches_and_reports_errors() {
        let code = Code::new(b"(?<year>\\d{4})-(?<month>\\d\\d)(x)?", 0).unwrap();
        assert_eq!(code.captures(), 3);
        let names: Vec<_> = code.names().iter().map(|(g, n)| (*g, String::from_utf8_lossy(n).into_owned())).collect();
        assert_eq!(names, [(2, "month".to_string()), (1, "year".to_string())]);
        let mut ov = Vec::new();
        assert_eq!(exec(&code, b"on 2024-05!", 0, 0, Mode::Backtrack, LIMITS, &mut ov, &mut never), 3);
        assert_eq!(ov, [3, 10, 3, 7, 8, 10, UNSET, UNSET]);
        assert_eq!(exec(&code, b"no date", 0, 0, Mode::Backtrack, LIMITS, &mut ov, &mut never), ERROR_NOMATCH);
        assert_eq!(exec(&code, b"x", 5, 0, Mode::Backtrack, LIMITS, &mut ov, &mut never), sys::PCRE2_ERROR_BADOFFSET);

        let err = Code::new(b"a(?=b", 0).err().unwrap();
        assert_eq!((err.code, err.offset), (114, 5));
        assert_eq!(error_message(err.code), "missing closing parenthesis");
    }

    #[test]
    fn limits_stop_catastrophic_backtracking() {
        // 2^28 ways to split the a's, none followed by the end: past a million steps.
        let code = Code::new(b"^(a|a)*$", 0).unwrap();
        let subject = [&[b'a'; 28][..], b"!"].concat();
        let mut ov = Vec::new();
        assert_eq!(exec(&code, &subject, 0, 0, Mode::Backtrack, LIMITS, &mut ov, &mut never), sys::PCRE2_ERROR_MATCHLIMIT);
        assert_eq!(error_message(sys::PCRE2_ERROR_MATCHLIMIT), "match limit exceeded");
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        // PCRE2's default nesting limit (PARENS_NEST_LIMIT, 250) bounds the compiler's
        // recursion; in wasm32 (1 MiB of stack) the deepest pattern compiles and runs.
        let deep = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
        let code = Code::new(deep(249).as_bytes(), 0).unwrap();
        let mut ov = Vec::new();
        assert_eq!(exec(&code, b"xa", 0, 0, Mode::Backtrack, LIMITS, &mut ov, &mut never), 250);
        // The DFA matcher's 100-int workspace (lua-nginx-module's) is too small for it.
        assert_eq!(exec(&code, b"xa", 0, 0, Mode::Dfa, LIMITS, &mut ov, &mut never), sys::PCRE2_ERROR_DFA_WSSIZE);
        let err = Code::new(deep(300).as_bytes(), 0).err().unwrap();
        assert_eq!(error_message(err.code), "parentheses are too deeply nested");
        // A repeated group over a long subject keeps one backtracking frame per
        // repetition: on the heap, not the C stack, up to the heap limit (16 MiB here).
        let code = Code::new(b"^(?:(a)|b)*$", 0).unwrap();
        assert_eq!(exec(&code, &vec![b'a'; 10_000], 0, 0, Mode::Backtrack, LIMITS, &mut ov, &mut never), 2);
        assert_eq!(exec(&code, &vec![b'a'; 200_000], 0, 0, Mode::Backtrack, LIMITS, &mut ov, &mut never), sys::PCRE2_ERROR_HEAPLIMIT);
    }

    #[test]
    fn dfa_finds_the_longest_match() {
        let code = Code::new(b"a+?", 0).unwrap();
        let mut ov = Vec::new();
        // Three matches ("aaa", "aa", "a"), the longest first. With one ovector pair the
        // return is 0 ("too small", lua-nginx-module then counts it as 1); the match data
        // is shared and may have room for more (a test run earlier on this thread), as
        // lua-nginx-module's is: then the number of matches.
        let rc = exec(&code, b"baaa", 0, 0, Mode::Dfa, LIMITS, &mut ov, &mut never);
        assert!(rc == 0 || rc == 3, "{rc}");
        assert_eq!(ov, [1, 4]);
    }
}
