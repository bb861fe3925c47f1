//! Shrinks a Lua module's source before it is embedded (build.rs runs this; the unit
//! tests check it): comments and each line's leading and trailing blanks go, every line
//! break stays, so the code keeps the line numbers its error messages carry. Strings,
//! long strings (`[[...]]`, `[==[...]==]`) and everything else are copied unchanged.
//!
//! Shared by build.rs (`#[path]`) and the crate's tests, so it uses only `std`.

/// `source` without comments and without blanks at line starts and ends; the same lines.
/// A source that ends inside a string or long bracket is copied as it is from there on
/// (the compiler then reports it; the modules here all compile).
pub fn strip(source: &str) -> String {
    let src = source.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(src.len());
    let mut i = 0;
    let mut line_start = true;
    while i < src.len() {
        let c = src[i];
        if c == b'\n' {
            trim_end(&mut out);
            out.push(b'\n');
            line_start = true;
            i += 1;
            continue;
        }
        if line_start && (c == b' ' || c == b'\t' || c == b'\r') {
            i += 1;
            continue;
        }
        line_start = false;
        let end = match c {
            b'-' if src.get(i + 1) == Some(&b'-') => {
                i = skip_comment(src, i + 2, &mut out);
                continue;
            }
            b'[' => long_bracket_end(src, i).unwrap_or(i + 1),
            b'"' | b'\'' => quoted_end(src, i),
            _ => i + 1,
        };
        out.extend_from_slice(&src[i..end]);
        i = end;
    }
    trim_end(&mut out);
    // Only whole ASCII bytes are removed, so the text stays valid UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| source.to_string())
}

fn trim_end(out: &mut Vec<u8>) {
    while matches!(out.last(), Some(b' ' | b'\t' | b'\r')) {
        out.pop();
    }
}

/// Skips a comment whose `--` ends before `i`; a long comment leaves its line breaks (or
/// one blank, so the tokens around it stay apart). Returns where the code resumes.
fn skip_comment(src: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    if let Some(end) = long_bracket_end(src, i) {
        let breaks = src[i..end].iter().filter(|&&b| b == b'\n').count();
        if breaks == 0 {
            out.push(b' ');
        }
        out.extend(std::iter::repeat_n(b'\n', breaks));
        return end;
    }
    src[i..].iter().position(|&b| b == b'\n').map_or(src.len(), |n| i + n)
}

/// If a long bracket (`[[`, `[=[`...) opens at `i`, the index just past its closing one
/// (or the end of the source).
fn long_bracket_end(src: &[u8], i: usize) -> Option<usize> {
    if src.get(i) != Some(&b'[') {
        return None;
    }
    let level = src[i + 1..].iter().take_while(|&&b| b == b'=').count();
    let open = i + 1 + level;
    if src.get(open) != Some(&b'[') {
        return None;
    }
    let mut close = Vec::with_capacity(level + 2);
    close.push(b']');
    close.extend(std::iter::repeat_n(b'=', level));
    close.push(b']');
    let body = open + 1;
    Some(src[body..].windows(close.len()).position(|w| w == close.as_slice()).map_or(src.len(), |n| body + n + close.len()))
}

/// The index just past the quoted string opening at `i` (backslash escapes skipped).
fn quoted_end(src: &[u8], i: usize) -> usize {
    let quote = src[i];
    let mut j = i + 1;
    while j < src.len() {
        match src[j] {
            b'\\' => j += 2,
            b if b == quote => return j + 1,
            _ => j += 1,
        }
    }
    src.len()
}
