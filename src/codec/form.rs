//! Query strings and `application/x-www-form-urlencoded` bodies as lua-nginx-module
//! decodes them (`ngx_http_lua_parse_args`, `ngx_http_lua_unescape_uri`), and nginx's URI
//! escaping (`ngx_escape_uri`). What `ngx.decode_args`, `ngx.req.get_uri_args`,
//! `ngx.req.get_post_args`, `kong.request.get_query`, `kong.request.get_body`,
//! `kong.service.response.get_body` and `kong.service.request.set_query` all read.

/// lua-nginx-module's default for `max_args` (`NGX_HTTP_LUA_MAX_ARGS`).
use percent_encoding::{percent_decode, percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};

/// lua-nginx-module's default for `max_args` (`NGX_HTTP_LUA_MAX_ARGS`).
pub const DEFAULT_MAX_ARGS: usize = 100;

/// One decoded argument value: `true` (a key without `=`) or a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgValue {
    /// `?flag`: the key had no `=`.
    Flag,
    /// `?key=value`, unescaped (possibly empty).
    Text(Vec<u8>),
}

/// What [`decode`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    /// The pairs in order, keys unescaped; empty keys already left out.
    pub pairs: Vec<(Vec<u8>, ArgValue)>,
    /// More pairs followed than `max_args` allowed (lua-nginx-module's `"truncated"`).
    pub truncated: bool,
}

/// Percent-decoding as lua-nginx-module's `ngx_http_lua_unescape_uri` for URI components:
/// `+` is a space, `%XX` the byte, a `%` not followed by two hex digits stays as is.
pub fn unescape(bytes: &[u8]) -> Vec<u8> {
    let spaced: Vec<u8> = bytes.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    percent_decode(&spaced).collect()
}

/// nginx's `NGX_ESCAPE_URI_COMPONENT`: what `ngx.escape_uri` and `ngx.encode_args`
/// escape, everything but ASCII letters, digits and `-._~!'()*`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*');

/// nginx's `NGX_ESCAPE_URI`: what nginx escapes in a rewritten path, control bytes,
/// space, `#`, `%`, `?` (and, as every `AsciiSet`, bytes >= 0x80).
const URI: &AsciiSet = &CONTROLS.add(b' ').add(b'#').add(b'%').add(b'?');

/// Escapes a query key or value as `ngx.escape_uri` (uppercase hex).
pub fn escape_component(bytes: &[u8]) -> Vec<u8> {
    percent_encode(bytes, URI_COMPONENT).flat_map(str::bytes).collect()
}

/// Escapes a path as nginx does when it sends a rewritten URI upstream
/// (`ngx.req.set_uri`): space, `#`, `%`, `?`, control bytes and non-ASCII bytes.
pub fn escape_path(bytes: &[u8]) -> Vec<u8> {
    percent_encode(bytes, URI).flat_map(str::bytes).collect()
}

/// Parses a query string or form body; `max_args` 0 means no limit.
pub fn decode(query: &[u8], max_args: usize) -> Decoded {
    let mut decoded = Decoded::default();
    let segments: Vec<&[u8]> = query.split(|&b| b == b'&').collect();
    let last = segments.len() - 1;
    let mut count = 0;
    for (i, segment) in segments.iter().enumerate() {
        if i == last && segment.is_empty() {
            break;
        }
        let (key, value) = match segment.iter().position(|&b| b == b'=') {
            Some(eq) => (unescape(&segment[..eq]), ArgValue::Text(unescape(&segment[eq + 1..]))),
            None => (unescape(segment), ArgValue::Flag),
        };
        if !key.is_empty() {
            decoded.pairs.push((key, value));
        }
        // As nginx: every `&`-terminated pair counts, empty keys included.
        count += 1;
        if max_args > 0 && count == max_args && i < last {
            decoded.truncated = segments[i + 1..].iter().any(|s| !s.is_empty());
            break;
        }
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> ArgValue {
        ArgValue::Text(s.as_bytes().to_vec())
    }

    fn keys(d: &Decoded) -> Vec<(String, ArgValue)> {
        d.pairs.iter().map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.clone())).collect()
    }

    #[test]
    fn decodes_as_lua_nginx_module() {
        let d = decode(b"foo=hello%20world&bar=baz&zzz&blo=&bar=bla&bar", 100);
        assert_eq!(
            keys(&d),
            [
                ("foo".into(), text("hello world")),
                ("bar".into(), text("baz")),
                ("zzz".into(), ArgValue::Flag),
                ("blo".into(), text("")),
                ("bar".into(), text("bla")),
                ("bar".into(), ArgValue::Flag),
            ]
        );
        assert!(!d.truncated);
        assert_eq!(keys(&decode(b"a+b=c+d%2B&=x&&%zz=1%", 0)), [("a b".into(), text("c d+")), ("%zz".into(), text("1%"))]);
        assert_eq!(decode(b"", 100).pairs, []);
        assert_eq!(keys(&decode(b"a=1=2", 100)), [("a".into(), text("1=2"))]);
    }

    #[test]
    fn max_args_truncates() {
        let d = decode(b"a=1&b=2&c=3", 2);
        assert_eq!(keys(&d), [("a".into(), text("1")), ("b".into(), text("2"))]);
        assert!(d.truncated);
        let d = decode(b"a=1&b=2", 2);
        assert_eq!(d.pairs.len(), 2);
        assert!(!d.truncated);
        assert_eq!(decode(b"a&b&c&d", 0).pairs.len(), 4);
    }

    /// nginx's escape tables as `ngx_escape_uri` (src/core/ngx_string.c) writes them:
    /// one bit a byte, 32 bytes a word.
    const NGINX_URI_COMPONENT: [u32; 8] =
        [0xffff_ffff, 0xfc00_987d, 0x7800_0001, 0xb800_0001, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff];
    const NGINX_URI: [u32; 8] =
        [0xffff_ffff, 0x8000_0029, 0x0000_0000, 0x8000_0000, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff];

    #[test]
    fn ascii_sets_match_nginx_tables_byte_for_byte() {
        for b in 0..=255u8 {
            let escaped = |table: &[u32; 8]| table[(b >> 5) as usize] & (1 << (b & 0x1f)) != 0;
            let want = |table: &[u32; 8]| if escaped(table) { format!("%{b:02X}").into_bytes() } else { vec![b] };
            assert_eq!(escape_component(&[b]), want(&NGINX_URI_COMPONENT), "component byte {b:#04x}");
            assert_eq!(escape_path(&[b]), want(&NGINX_URI), "path byte {b:#04x}");
        }
    }

    #[test]
    fn escapes_as_nginx() {
        assert_eq!(escape_component(b"a b&c=d/\xc3\xa9~!*'()"), b"a%20b%26c%3Dd%2F%C3%A9~!*'()");
        assert_eq!(escape_path(b"/a b/%?#\x01"), b"/a%20b/%25%3F%23%01");
        assert_eq!(unescape(b"%41%4a%4A+%"), b"AJJ %");
    }
}
