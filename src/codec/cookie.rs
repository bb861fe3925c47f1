//! Cookies in a request's `Cookie` header, as nginx reads them for `$cookie_<name>`.

/// The value of cookie `name` (ASCII case-insensitive, as nginx's
/// `ngx_http_parse_multi_header_lines`) in a `Cookie` header: pairs split on `;`,
/// leading white space skipped, name and value split on the first `=`. `None` when no
/// pair has that name.
pub fn value(header: &[u8], name: &[u8]) -> Option<Vec<u8>> {
    header.split(|&b| b == b';').find_map(|pair| {
        let start = pair.iter().position(|b| !b.is_ascii_whitespace())?;
        let pair = &pair[start..];
        let eq = pair.iter().position(|&b| b == b'=')?;
        pair[..eq].eq_ignore_ascii_case(name).then(|| pair[eq + 1..].to_vec())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_a_cookie_by_name_in_any_case() {
        // nginx: `$cookie_b` for `Cookie: a=1; b=2` is `2`; names compare case-insensitively.
        assert_eq!(super::value(b"a=1; b=2", b"B"), Some(b"2".to_vec()));
        assert_eq!(super::value(b"a=1;b=x=y", b"b"), Some(b"x=y".to_vec()));
        assert_eq!(super::value(b"a=1", b"c"), None);
    }
}
