//! `multipart/form-data` bodies as Kong reads them: Kong's `kong.request.get_body` and
//! `kong.service.response.get_body` both call lua-multipart (`multipart(body,
//! content_type):get_all_with_arrays()`), a line-based parser with its own rules
//! (boundary found by `;%s*boundary=(%S+)`, parts split on lines starting with
//! `--<boundary>`, the name from `Content-Disposition`'s `name=`), so one parser serves
//! both, and it is lua-multipart's rather than RFC 7578's.

/// The boundary of a multipart content type, as lua-multipart finds it
/// (`;%s*boundary=(%S+)`, surrounding quotes removed).
fn multipart_boundary(content_type: &[u8]) -> Option<Vec<u8>> {
    let mut i = 0;
    while let Some(semi) = content_type[i..].iter().position(|&b| b == b';') {
        let mut j = i + semi + 1;
        while j < content_type.len() && content_type[j].is_ascii_whitespace() {
            j += 1;
        }
        if content_type[j..].starts_with(b"boundary=") {
            let start = j + b"boundary=".len();
            let end = content_type[start..].iter().position(|b| b.is_ascii_whitespace()).map_or(content_type.len(), |e| start + e);
            let mut boundary = &content_type[start..end];
            if boundary.is_empty() {
                i = i + semi + 1;
                continue;
            }
            if boundary.len() >= 2
                && ((boundary[0] == b'"' && boundary[boundary.len() - 1] == b'"')
                    || (boundary[0] == b'\'' && boundary[boundary.len() - 1] == b'\''))
            {
                boundary = &boundary[1..boundary.len() - 1];
            }
            return (!boundary.is_empty()).then(|| boundary.to_vec());
        }
        i = i + semi + 1;
    }
    None
}

/// `%S:%s*%S`: lua-multipart's test for a header line.
fn is_header_line(line: &[u8]) -> bool {
    line.iter().enumerate().any(|(i, &b)| {
        b == b':' && i > 0 && !line[i - 1].is_ascii_whitespace() && {
            let rest = &line[i + 1..];
            rest.iter().find(|c| !c.is_ascii_whitespace()).is_some()
        }
    })
}

/// The part name of a `Content-Disposition` line, as lua-multipart extracts it.
fn disposition_name(line: &[u8]) -> Option<Vec<u8>> {
    let mut name = None;
    for piece in line.split(|&b| b == b';').filter(|p| !p.is_empty()) {
        if is_header_line(piece) {
            continue;
        }
        let trimmed_start = piece.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(piece.len());
        let rest = &piece[trimmed_start..];
        if rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(b"name=") {
            let value = &rest[5..];
            let value = &value[value.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(value.len())..];
            let value = &value[..value.iter().position(|&b| b == b'=').unwrap_or(value.len())];
            let end = value.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |e| e + 1);
            let value = &value[..end];
            name = Some(if value.len() >= 2 { value[1..value.len() - 1].to_vec() } else { Vec::new() });
        }
    }
    name
}

/// Decodes a multipart/form-data body into `(name, value)` parts in order, following
/// lua-multipart's line-based parser (Kong's `multipart` module). Never fails, as
/// lua-multipart: a content type without a boundary, or a body without parts, gives none.
pub fn parse(body: &[u8], content_type: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut parts: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let Some(boundary) = multipart_boundary(content_type) else {
        return parts;
    };
    let mut name: Option<Vec<u8>> = None;
    let mut value: Vec<Vec<u8>> = Vec::new();
    let mut in_value = false;
    let mut position = 0;
    loop {
        let newline = body[position.min(body.len())..].iter().position(|&b| b == b'\r' || b == b'\n').map(|p| position + p);
        let line = match newline {
            Some(s) => &body[position..s],
            None => &body[position.min(body.len())..],
        };
        if let Some(s) = newline {
            position = s + 1;
        }
        if line.is_empty() {
            if let (Some(s), true) = (newline, in_value) {
                value.push(vec![body[s]]);
            }
        } else if line.starts_with(b"--") && line[2..].starts_with(&boundary) {
            in_value = false;
            if let Some(n) = name.take() {
                let count = value.len();
                if count >= 1 && value[count - 1] == b"\n" {
                    value.pop();
                }
                if count >= 2 && value[count - 2] == b"\r" {
                    value.remove(count - 2);
                }
                parts.push((n, value.concat()));
                value.clear();
            }
        } else if !in_value && line.len() >= 19 && line[..19].eq_ignore_ascii_case(b"content-disposition") {
            if let Some(n) = disposition_name(line) {
                name = Some(n);
            }
            if let Some(s) = newline {
                if body[s..].starts_with(b"\r\n\r\n") {
                    in_value = true;
                    position = s + 4;
                }
            }
        } else if !in_value && is_header_line(line) {
            if let Some(s) = newline {
                if body[s..].starts_with(b"\r\n\r\n") {
                    in_value = true;
                    position = s + 4;
                }
            }
        } else {
            in_value = true;
            value.push(line.to_vec());
            if let Some(s) = newline {
                value.push(vec![body[s]]);
            }
        }
        if newline.is_none() {
            break;
        }
    }
    if let Some(n) = name {
        // lua-multipart: an unterminated last part replaces earlier parts of its name.
        parts.retain(|(existing, _)| existing != &n);
        parts.push((n, value.concat()));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_as_lua_multipart() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nfirst\r\nline\r\n--XyZ\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\nsecond\r\n--XyZ--\r\n";
        let parts = parse(body.as_bytes(), b"multipart/form-data; boundary=\"XyZ\"");
        assert_eq!(parts, [(b"a".to_vec(), b"first\r\nline".to_vec()), (b"b".to_vec(), b"second".to_vec())]);
        // lua-multipart: no boundary in the content type, no parts (and no error).
        assert!(parse(body.as_bytes(), b"multipart/form-data").is_empty());
        assert_eq!(multipart_boundary(b"multipart/form-data;  boundary='q'"), Some(b"q".to_vec()));
    }
}
