//! Path normalisation: Kong's (`kong.tools.uri.normalize(path, true)`, what
//! `kong.request.get_path` returns) and nginx's (`$uri`, what `ngx.var.uri` reads). They
//! differ only in what they percent-decode; both then remove `.` and `..` segments
//! (RFC 3986 section 5.2.4) and merge repeated slashes, through [`remove_dot_segments`].

/// Kong's path normalisation: percent-decodes unreserved characters, upper-cases the
/// remaining escapes, removes `.` and `..` segments and merges repeated slashes.
pub fn normalize(raw: &[u8]) -> Vec<u8> {
    remove_dot_segments(&decode_unreserved(raw))
}

/// nginx's `$uri`: the path percent-decoded (every valid `%XX`), `.`/`..` segments
/// resolved and repeated slashes merged.
pub fn nginx_uri(path: &[u8]) -> Vec<u8> {
    let decoded: Vec<u8> = percent_encoding::percent_decode(path).collect();
    remove_dot_segments(&decoded)
}

/// The byte of a valid `%XX` escape starting at `i`, if there is one.
fn escape_at(raw: &[u8], i: usize) -> Option<u8> {
    if raw[i] != b'%' || i + 2 >= raw.len() {
        return None;
    }
    let hex = |b: u8| (b as char).to_digit(16);
    Some((hex(raw[i + 1])? * 16 + hex(raw[i + 2])?) as u8)
}

/// Removes `.` and `..` segments (a `..` at the root stays at the root) and merges
/// repeated slashes; a path ending in `/`, `/.` or `/..` keeps a trailing slash, an
/// empty result is `/`.
pub fn remove_dot_segments(decoded: &[u8]) -> Vec<u8> {
    let trailing_slash = decoded.ends_with(b"/") || decoded.ends_with(b"/.") || decoded.ends_with(b"/..");
    let mut segments: Vec<&[u8]> = Vec::new();
    for segment in decoded.split(|&b| b == b'/') {
        match segment {
            b"" | b"." => {}
            b".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = Vec::with_capacity(decoded.len());
    for s in &segments {
        out.push(b'/');
        out.extend_from_slice(s);
    }
    if out.is_empty() || (trailing_slash && !segments.is_empty()) {
        out.push(b'/');
    }
    out
}

/// Kong's `kong.tools.uri.normalize` decoding: every `%XX` triplet is decoded except the
/// reserved characters `!#$%&'()*+,/:;=?@[]`, which stay encoded with uppercase hex.
fn decode_unreserved(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match escape_at(raw, i) {
            Some(byte) if !b"!#$%&'()*+,/:;=?@[]".contains(&byte) => out.push(byte),
            Some(_) => {
                out.push(b'%');
                out.extend(raw[i + 1..i + 3].iter().map(|b| b.to_ascii_uppercase()));
            }
            None => {
                out.push(raw[i]);
                i += 1;
                continue;
            }
        }
        i += 3;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_as_kong() {
        assert_eq!(normalize(b"/"), b"/");
        assert_eq!(normalize(b""), b"/");
        assert_eq!(normalize(b"/a//b/./c/../d"), b"/a/b/d");
        // Kong's kong.request.get_path @usage (kong/pdk/request.lua): decoded but for the
        // reserved characters.
        assert_eq!(normalize(b"/t/Abc%20123%C3%B8%2f/parent/..//test/./"), "/t/Abc 123ø%2F/test/".as_bytes());
        assert_eq!(normalize(b"/a%3fb%2a"), b"/a%3Fb%2A");
        assert_eq!(normalize(b"/%7euser/%41"), b"/~user/A");
        assert_eq!(normalize(b"/../.."), b"/");
        assert_eq!(normalize(b"/a%2"), b"/a%2");
    }

    #[test]
    fn uri_normalizes_as_nginx() {
        // nginx decodes %2F too, then resolves the segments it made.
        assert_eq!(nginx_uri(b"/a/../b//c/./d%2Fe"), b"/b/c/d/e");
        assert_eq!(nginx_uri(b""), b"/");
        assert_eq!(nginx_uri(b"/x/..%2f"), b"/");
    }
}
