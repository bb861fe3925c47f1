//! Size probe: one exported function that compiles and runs a pattern from memory.
#[no_mangle]
pub extern "C" fn probe(p: *const u8, pl: usize, s: *const u8, sl: usize) -> i64 {
    let pat = unsafe { std::slice::from_raw_parts(p, pl) };
    let subj = unsafe { std::slice::from_raw_parts(s, sl) };
    let pat = std::str::from_utf8(pat).unwrap_or("");
    let mut n = match regex::bytes::Regex::new(pat) { Ok(r) => r.find(subj).map_or(-1, |m| m.start() as i64), Err(_) => -2 };
    #[cfg(feature = "fancy")]
    {
        let subj = std::str::from_utf8(subj).unwrap_or("");
        n += match fancy_regex::Regex::new(pat) { Ok(r) => r.find(subj).ok().flatten().map_or(-1, |m| m.start() as i64), Err(_) => -2 };
    }
    n
}
