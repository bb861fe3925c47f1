//! The DER that keys, certificates and ECDSA signatures need (X.690), read and written by
//! hand: SubjectPublicKeyInfo (RFC 5280), PKCS#8 (RFC 5208), PKCS#1 (RFC 8017 A.1),
//! SEC1 `ECPrivateKey` (RFC 5915), the fields of an X.509 certificate that Lua reads,
//! and ECDSA's `SEQUENCE { r, s }`. The `der`/`pkcs8`/`x509-cert` crates do the same
//! generically; their monomorphised decoders cost about 200 KB of module
//! (BENCHMARKS.md), this about 10.

/// A DER tag.
pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const UTC_TIME: u8 = 0x17;
pub const GENERALIZED_TIME: u8 = 0x18;

/// OIDs' DER contents: rsaEncryption, id-ecPublicKey, prime256v1 (1.2.840.10045.3.1.7),
/// secp384r1 (1.3.132.0.34, RFC 5480 2.1.1.1), Ed25519.
pub const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
pub const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
pub const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
pub const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
pub const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// One TLV at the start of `input`: `(tag, contents, rest)`. Definite lengths up to
/// 2^32 - 1 (DER has no indefinite ones).
pub fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The contents of a TLV with tag `want` at the start of `input`, and what follows.
pub fn expect(input: &[u8], want: u8) -> Option<(&[u8], &[u8])> {
    let (tag, body, rest) = read(input)?;
    (tag == want).then_some((body, rest))
}

/// An INTEGER's magnitude (leading zero bytes removed); negative numbers refused.
pub fn unsigned(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (body, rest) = expect(input, INTEGER)?;
    if body.first().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    let start = body.iter().position(|&b| b != 0).unwrap_or(body.len());
    Some((&body[start..], rest))
}

/// A TLV with `tag` around `body`.
pub fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let skip = bytes.iter().position(|&b| b != 0).unwrap_or(3);
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(body);
    out
}

/// A SEQUENCE of the given encoded items.
pub fn seq(items: &[&[u8]]) -> Vec<u8> {
    tlv(SEQUENCE, &items.concat())
}

/// An INTEGER from a big-endian magnitude (a 0 byte added when the top bit is set).
pub fn uint(magnitude: &[u8]) -> Vec<u8> {
    let start = magnitude.iter().position(|&b| b != 0).unwrap_or(magnitude.len());
    let m = &magnitude[start..];
    let mut body = Vec::with_capacity(m.len() + 1);
    if m.first().is_none_or(|b| b & 0x80 != 0) {
        body.push(0);
    }
    body.extend_from_slice(m);
    tlv(INTEGER, &body)
}

/// A BIT STRING with no unused bits.
pub fn bits(bytes: &[u8]) -> Vec<u8> {
    let mut body = vec![0];
    body.extend_from_slice(bytes);
    tlv(BIT_STRING, &body)
}

/// An AlgorithmIdentifier: the OID and, when given, its encoded parameters.
pub fn algorithm(oid: &[u8], params: Option<&[u8]>) -> Vec<u8> {
    let oid = tlv(OID, oid);
    match params {
        Some(p) => seq(&[&oid, p]),
        None => seq(&[&oid]),
    }
}

/// A SubjectPublicKeyInfo's algorithm OID, its parameters' TLV (may be empty) and the
/// key bits.
pub fn spki(der: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (body, _) = expect(der, SEQUENCE)?;
    let (alg, rest) = expect(body, SEQUENCE)?;
    let (key, _) = expect(rest, BIT_STRING)?;
    let (oid, params) = expect(alg, OID)?;
    let (&unused, key) = key.split_first()?;
    (unused == 0).then_some((oid, params, key))
}

/// A PKCS#8 PrivateKeyInfo's algorithm OID, parameters' TLV and private key octets.
pub fn pkcs8(der: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (body, _) = expect(der, SEQUENCE)?;
    let (_version, rest) = unsigned(body)?;
    let (alg, rest) = expect(rest, SEQUENCE)?;
    let (key, _) = expect(rest, OCTET_STRING)?;
    let (oid, params) = expect(alg, OID)?;
    Some((oid, params, key))
}

/// The INTEGERs of a SEQUENCE (PKCS#1 keys), as magnitudes.
pub fn integers(der: &[u8]) -> Option<Vec<&[u8]>> {
    let (mut body, _) = expect(der, SEQUENCE)?;
    let mut out = Vec::new();
    while !body.is_empty() {
        let (n, rest) = unsigned(body)?;
        out.push(n);
        body = rest;
    }
    Some(out)
}

/// A SEC1 ECPrivateKey: the private scalar and the curve OID of its `[0]` parameters,
/// when present.
pub fn ec_private_key(der: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let (body, _) = expect(der, SEQUENCE)?;
    let (_version, rest) = unsigned(body)?;
    let (d, mut rest) = expect(rest, OCTET_STRING)?;
    let mut curve = None;
    while let Some((tag, inner, more)) = read(rest) {
        if tag == 0xa0 {
            curve = expect(inner, OID).map(|(oid, _)| oid);
        }
        rest = more;
    }
    Some((d, curve))
}

/// An ECDSA signature's `r || s`, each left-padded to `size` bytes.
pub fn ecdsa_der2raw(der: &[u8], size: usize) -> Option<Vec<u8>> {
    let (body, rest) = expect(der, SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (r, body) = unsigned(body)?;
    let (s, body) = unsigned(body)?;
    if !body.is_empty() || r.len() > size || s.len() > size {
        return None;
    }
    let mut out = vec![0u8; size * 2];
    out[size - r.len()..size].copy_from_slice(r);
    out[size * 2 - s.len()..].copy_from_slice(s);
    Some(out)
}

/// `SEQUENCE { r, s }` from `r || s`.
pub fn ecdsa_raw2der(raw: &[u8]) -> Vec<u8> {
    let (r, s) = raw.split_at(raw.len() / 2);
    seq(&[&uint(r), &uint(s)])
}

/// An OID's dotted text.
pub fn oid_text(oid: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut value = 0u64;
    for &b in oid {
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = (value / 40).min(2);
                parts.push(first);
                parts.push(value - first * 40);
            } else {
                parts.push(value);
            }
            value = 0;
        }
    }
    parts.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// A UTCTime (`YYMMDDHHMMSSZ`, years 1950-2049 as RFC 5280 4.1.2.5.1) or
/// GeneralizedTime (`YYYYMMDDHHMMSSZ`) as Unix seconds.
pub fn time(tag: u8, body: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(body).ok()?.strip_suffix('Z')?;
    let num = |s: &str| s.parse::<i64>().ok();
    let (year, rest) = match tag {
        UTC_TIME if text.len() == 12 => {
            let yy = num(&text[..2])?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &text[2..])
        }
        GENERALIZED_TIME if text.len() == 14 => (num(&text[..4])?, &text[4..]),
        _ => return None,
    };
    let (mo, d, h, mi, s) = (num(&rest[..2])?, num(&rest[2..4])?, num(&rest[4..6])?, num(&rest[6..8])?, num(&rest[8..10])?);
    Some(days_from_civil(year, mo, d) * 86400 + h * 3600 + mi * 60 + s)
}

/// A Name's attributes in order: `(OID text, value text)`.
pub fn name(der: &[u8]) -> Option<Vec<(String, String)>> {
    let (mut body, _) = expect(der, SEQUENCE)?;
    let mut out = Vec::new();
    while !body.is_empty() {
        let (mut set, rest) = expect(body, SET)?;
        body = rest;
        while !set.is_empty() {
            let (atv, more) = expect(set, SEQUENCE)?;
            set = more;
            let (oid, value) = expect(atv, OID)?;
            let (_, text, _) = read(value)?;
            out.push((oid_text(oid), String::from_utf8_lossy(text).into_owned()));
        }
    }
    Some(out)
}

/// The parts of an X.509 certificate Lua reads.
pub struct Certificate<'a> {
    pub serial: &'a [u8],
    pub issuer: Vec<(String, String)>,
    pub not_before: i64,
    pub not_after: i64,
    pub subject: Vec<(String, String)>,
    /// The SubjectPublicKeyInfo TLV.
    pub spki: &'a [u8],
}

/// Reads a Certificate (RFC 5280 4.1): the TBSCertificate's serial number, issuer,
/// validity, subject and public key.
pub fn certificate(der: &[u8]) -> Option<Certificate<'_>> {
    let (cert, _) = expect(der, SEQUENCE)?;
    let (tbs, _) = expect(cert, SEQUENCE)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xa0) {
        rest = read(rest)?.2;
    }
    let (serial, rest) = expect(rest, INTEGER)?;
    let (_sig_alg, rest) = expect(rest, SEQUENCE)?;
    let issuer_len = rest.len() - read(rest)?.2.len();
    let issuer = name(&rest[..issuer_len])?;
    let rest = &rest[issuer_len..];
    let (validity, rest) = expect(rest, SEQUENCE)?;
    let (t1, b1, more) = read(validity)?;
    let (t2, b2, _) = read(more)?;
    let subject_len = rest.len() - read(rest)?.2.len();
    let subject = name(&rest[..subject_len])?;
    let rest = &rest[subject_len..];
    let spki_len = rest.len() - read(rest)?.2.len();
    Some(Certificate { serial, issuer, not_before: time(t1, b1)?, not_after: time(t2, b2)?, subject, spki: &rest[..spki_len] })
}
