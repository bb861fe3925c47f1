//! The formatting engine of `string.format`, as LuaJIT 2.1 formats (`lj_strfmt.c`):
//! numbers are doubles, integer conversions truncate them to 64 bits, `%q` quotes
//! control characters as decimal escapes, widths and precisions have at most 2 digits.
//! Pure Rust (no libc), correctly rounded via Rust's float formatting.

use crate::lua::format::{exp_away, fixed_away, format_g14};

/// One conversion spec: flags, width, precision, conversion character.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spec {
    pub minus: bool,
    pub plus: bool,
    pub space: bool,
    pub hash: bool,
    pub zero: bool,
    pub width: Option<usize>,
    pub precision: Option<usize>,
    pub conversion: u8,
}

/// A piece of a parsed format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text copied as is.
    Literal(&'a [u8]),
    /// `%%`.
    Percent,
    /// A conversion.
    Spec(Spec),
}

/// Which kind of argument a conversion consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// `%d %i %u %c %o %x %X %e %E %f %F %g %G %a %A`.
    Number,
    /// `%s`.
    String,
    /// `%q`.
    Quoted,
}

/// The kind of argument `conversion` takes.
pub fn arg_kind(conversion: u8) -> ArgKind {
    match conversion {
        b's' => ArgKind::String,
        b'q' => ArgKind::Quoted,
        _ => ArgKind::Number,
    }
}

/// Parses a format string; errors with LuaJIT's "invalid option '%y' to 'format'", where
/// the quoted text runs from the `%` to the offending character.
pub fn parse(format: &[u8]) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut i = 0;
    let mut literal_start = 0;
    while i < format.len() {
        if format[i] != b'%' {
            i += 1;
            continue;
        }
        if literal_start < i {
            pieces.push(Piece::Literal(&format[literal_start..i]));
        }
        let start = i;
        i += 1;
        if format.get(i) == Some(&b'%') {
            pieces.push(Piece::Percent);
            i += 1;
            literal_start = i;
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&c) = format.get(i) {
            match c {
                b'-' => spec.minus = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'#' => spec.hash = true,
                b'0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        let digits = |i: &mut usize| -> Option<usize> {
            let begin = *i;
            while *i < format.len() && format[*i].is_ascii_digit() && *i - begin < 2 {
                *i += 1;
            }
            (begin < *i).then(|| std::str::from_utf8(&format[begin..*i]).ok()?.parse().ok()).flatten()
        };
        spec.width = digits(&mut i);
        if format.get(i) == Some(&b'.') {
            i += 1;
            spec.precision = Some(digits(&mut i).unwrap_or(0));
        }
        let bad = |end: usize| {
            let end = end.min(format.len());
            format!("invalid option '{}' to 'format'", String::from_utf8_lossy(&format[start..end]))
        };
        match format.get(i) {
            Some(&c) if b"diouxXeEfFgGaAcsq".contains(&c) => {
                spec.conversion = c;
                pieces.push(Piece::Spec(spec));
                i += 1;
                literal_start = i;
            }
            _ => return Err(bad(i + 1)),
        }
    }
    if literal_start < format.len() {
        pieces.push(Piece::Literal(&format[literal_start..]));
    }
    Ok(pieces)
}

/// Pads `body` (with its `sign`/`prefix`) to the spec's width: left with spaces, right
/// with `-`, or with zeros after the sign when `zero_pad`.
fn pad(spec: &Spec, sign: &str, body: &str, zero_pad: bool, out: &mut Vec<u8>) {
    let len = sign.len() + body.len();
    let width = spec.width.unwrap_or(0);
    let fill = width.saturating_sub(len);
    if spec.minus {
        out.extend_from_slice(sign.as_bytes());
        out.extend_from_slice(body.as_bytes());
        out.extend(std::iter::repeat_n(b' ', fill));
    } else if zero_pad {
        out.extend_from_slice(sign.as_bytes());
        out.extend(std::iter::repeat_n(b'0', fill));
        out.extend_from_slice(body.as_bytes());
    } else {
        out.extend(std::iter::repeat_n(b' ', fill));
        out.extend_from_slice(sign.as_bytes());
        out.extend_from_slice(body.as_bytes());
    }
}

fn sign_of(spec: &Spec, negative: bool) -> &'static str {
    if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

/// A double to int64 as x86's `cvttsd2si` (LuaJIT's `lj_num2int64`): out of range and NaN
/// give `i64::MIN`.
fn to_i64(n: f64) -> i64 {
    if n >= -9_223_372_036_854_775_808.0 && n < 9_223_372_036_854_775_808.0 {
        n as i64
    } else {
        i64::MIN
    }
}

/// A double to uint64 as LuaJIT does for `%u %o %x %X`.
fn to_u64(n: f64) -> u64 {
    if n >= 0.0 && n < 18_446_744_073_709_551_616.0 {
        n as u64
    } else {
        to_i64(n) as u64
    }
}

/// Formats one number conversion of `value` into `out`.
pub fn format_number(spec: &Spec, value: f64, out: &mut Vec<u8>) -> Result<(), String> {
    match spec.conversion {
        b'd' | b'i' => {
            let n = to_i64(value);
            let mut digits = n.unsigned_abs().to_string();
            apply_int_precision(spec, &mut digits);
            let zero = spec.zero && !spec.minus && spec.precision.is_none();
            pad(spec, sign_of(spec, n < 0), &digits, zero, out);
        }
        b'u' | b'o' | b'x' | b'X' => {
            let n = to_u64(value);
            let mut digits = match spec.conversion {
                b'u' => n.to_string(),
                b'o' => format!("{n:o}"),
                b'x' => format!("{n:x}"),
                _ => format!("{n:X}"),
            };
            apply_int_precision(spec, &mut digits);
            let prefix = match spec.conversion {
                b'o' if spec.hash && !digits.starts_with('0') => "0",
                b'x' if spec.hash && n != 0 => "0x",
                b'X' if spec.hash && n != 0 => "0X",
                _ => "",
            };
            let zero = spec.zero && !spec.minus && spec.precision.is_none();
            pad(spec, prefix, &digits, zero, out);
        }
        b'c' => {
            let c = to_i64(value) as u8;
            let width = spec.width.unwrap_or(1).max(1);
            if spec.minus {
                out.push(c);
                out.extend(std::iter::repeat_n(b' ', width - 1));
            } else {
                out.extend(std::iter::repeat_n(b' ', width - 1));
                out.push(c);
            }
        }
        b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'a' | b'A' => format_float(spec, value, out),
        c => return Err(format!("invalid option '%{}' to 'format'", c as char)),
    }
    Ok(())
}

fn apply_int_precision(spec: &Spec, digits: &mut String) {
    if let Some(p) = spec.precision {
        if p == 0 && digits == "0" {
            digits.clear();
        } else if digits.len() < p {
            digits.insert_str(0, &"0".repeat(p - digits.len()));
        }
    }
}

fn format_float(spec: &Spec, value: f64, out: &mut Vec<u8>) {
    let upper = spec.conversion.is_ascii_uppercase();
    let negative = value.is_sign_negative() && !value.is_nan();
    let sign = sign_of(spec, negative);
    if !value.is_finite() {
        let text = if value.is_nan() { "nan" } else { "inf" };
        let text = if upper { text.to_ascii_uppercase() } else { text.to_string() };
        pad(spec, sign, &text, false, out);
        return;
    }
    let x = value.abs();
    let precision = spec.precision.unwrap_or(6);
    let body = match spec.conversion.to_ascii_lowercase() {
        b'f' => {
            let mut s = fixed_away(x, precision);
            if spec.hash && precision == 0 {
                s.push('.');
            }
            s
        }
        b'e' => exp_form(x, precision, spec.hash),
        b'g' => general_form(x, precision, spec.hash),
        _ => hex_form(x, spec.precision),
    };
    let body = if upper { body.to_ascii_uppercase() } else { body };
    let zero = spec.zero && !spec.minus;
    pad(spec, sign, &body, zero, out);
}

/// `%e`: `d.ddddde+XX`.
fn exp_form(x: f64, precision: usize, hash: bool) -> String {
    let (mantissa, exponent) = exp_away(x, precision);
    let dot = if hash && precision == 0 { "." } else { "" };
    format!("{mantissa}{dot}e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs())
}

/// `%g`: `%e` or `%f` by the exponent, trailing zeros removed unless `#`.
fn general_form(x: f64, precision: usize, hash: bool) -> String {
    let p = precision.max(1);
    let exponent = if x == 0.0 { 0 } else { exp_away(x, p - 1).1 };
    let mut s = if exponent < -4 || exponent >= p as i32 {
        exp_form(x, p - 1, hash)
    } else {
        let decimals = (p as i32 - 1 - exponent).max(0) as usize;
        let mut s = fixed_away(x, decimals);
        if hash && !s.contains('.') {
            s.push('.');
        }
        s
    };
    if !hash {
        s = strip_zeros(&s);
    }
    s
}

fn strip_zeros(s: &str) -> String {
    let (mantissa, exponent) = match s.find('e') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let mantissa = if mantissa.contains('.') { mantissa.trim_end_matches('0').trim_end_matches('.') } else { mantissa };
    format!("{mantissa}{exponent}")
}

/// `%a`: glibc's hexadecimal floating point, e.g. `0x1p+0`, `0x1.8p+1`.
fn hex_form(x: f64, precision: Option<usize>) -> String {
    if x == 0.0 {
        return match precision {
            Some(p) if p > 0 => format!("0x0.{}p+0", "0".repeat(p)),
            _ => "0x0p+0".into(),
        };
    }
    let bits = x.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i64;
    let mut mantissa = bits & ((1u64 << 52) - 1);
    let (lead, exponent) = if raw_exp == 0 { (0u64, -1022) } else { (1u64, raw_exp - 1023) };
    let mut lead = lead;
    let mut digits = format!("{mantissa:013x}");
    if let Some(p) = precision {
        if p < 13 {
            // Round the 52-bit fraction to `p` hex digits, half to even.
            let shift = 4 * (13 - p) as u32;
            let rem = mantissa & ((1u64 << shift) - 1);
            let half = 1u64 << (shift - 1);
            mantissa >>= shift;
            if rem > half || (rem == half && mantissa & 1 == 1) {
                mantissa += 1;
                if mantissa >> (4 * p) != 0 {
                    mantissa &= (1u64 << (4 * p)) - 1;
                    lead += 1;
                }
            }
            digits = if p == 0 { String::new() } else { format!("{mantissa:0width$x}", width = p) };
        } else {
            digits.push_str(&"0".repeat(p - 13));
        }
    } else {
        digits = digits.trim_end_matches('0').to_string();
    }
    let dot = if digits.is_empty() { "" } else { "." };
    format!("0x{lead}{dot}{digits}p{}{}", if exponent < 0 { '-' } else { '+' }, exponent.abs())
}

/// `%s`: width, precision (truncation) and `-`.
pub fn format_string(spec: &Spec, value: &[u8], out: &mut Vec<u8>) {
    let value = match spec.precision {
        Some(p) if p < value.len() => &value[..p],
        _ => value,
    };
    let fill = spec.width.unwrap_or(0).saturating_sub(value.len());
    if spec.minus {
        out.extend_from_slice(value);
        out.extend(std::iter::repeat_n(b' ', fill));
    } else {
        out.extend(std::iter::repeat_n(b' ', fill));
        out.extend_from_slice(value);
    }
}

/// `%q` of a string, as LuaJIT quotes it: `"`, `\` and newline escaped with a backslash,
/// other control characters as decimal escapes (`\0`, `\13`, three digits before a digit).
pub fn quote_string(value: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for (i, &c) in value.iter().enumerate() {
        match c {
            b'"' | b'\\' | b'\n' => {
                out.push(b'\\');
                out.push(c);
            }
            c if c < 32 || c == 127 => {
                out.push(b'\\');
                let next_is_digit = value.get(i + 1).is_some_and(u8::is_ascii_digit);
                if next_is_digit {
                    out.extend_from_slice(format!("{c:03}").as_bytes());
                } else {
                    out.extend_from_slice(c.to_string().as_bytes());
                }
            }
            c => out.push(c),
        }
    }
    out.push(b'"');
}

/// `%q` of a number: LuaJIT quotes its `tostring` form.
pub fn quote_number(value: f64, out: &mut Vec<u8>) {
    quote_string(number_to_string(value).as_bytes(), out);
}

/// A double as `%.14g`: Lua's number-to-string and LuaJIT's `tostring`.
pub fn number_to_string(value: f64) -> String {
    format_g14(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(format: &str, args: &[f64]) -> Result<String, String> {
        let mut out = Vec::new();
        let mut args = args.iter();
        for piece in parse(format.as_bytes())? {
            match piece {
                Piece::Literal(l) => out.extend_from_slice(l),
                Piece::Percent => out.push(b'%'),
                Piece::Spec(spec) => format_number(&spec, *args.next().unwrap(), &mut out)?,
            }
        }
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn integers_as_luajit() {
        // luajit -e 'print(string.format("%d|%x|%X|%o|%u", 3.7, 255, -1, 8, -1))'
        assert_eq!(fmt("%d|%x|%X|%o|%u", &[3.7, 255.0, -1.0, 8.0, -1.0]).unwrap(), "3|ff|FFFFFFFFFFFFFFFF|10|18446744073709551615");
        // luajit -e 'print(string.format("%03d|%+d|% d|%#o|%#x|%-4d|", 7, 5, 5, 8, 255, 3))'
        assert_eq!(fmt("%03d|%+d|% d|%#o|%#x|%-4d|", &[7.0, 5.0, 5.0, 8.0, 255.0, 3.0]).unwrap(), "007|+5| 5|010|0xff|3   |");
        assert_eq!(fmt("%d", &[2f64.powi(63)]).unwrap(), "-9223372036854775808");
        assert_eq!(fmt("%.3d|%5.2d", &[7.0, -3.0]).unwrap(), "007|  -03");
    }

    #[test]
    fn floats_as_glibc() {
        // luajit -e 'print(string.format("%5.2f|%e|%g|%G|%g|%g", 3.14159, 12345.678, 1e20, 1e-10, 0.0001, 100))'
        assert_eq!(fmt("%5.2f|%e|%g|%G|%g|%g", &[3.14159, 12345.678, 1e20, 1e-10, 0.0001, 100.0]).unwrap(), " 3.14|1.234568e+04|1e+20|1E-10|0.0001|100");
        assert_eq!(fmt("%.3f|%5.1f|%-6.1f|", &[f64::NAN, f64::INFINITY, -f64::INFINITY]).unwrap(), "nan|  inf|-inf  |");
        assert_eq!(fmt("%a|%a|%A", &[1.0, 3.0, 0.5]).unwrap(), "0x1p+0|0x1.8p+1|0X1P-1");
        // luajit -e 'print(string.format("%08.3f|%+.0f|%#.0f|%.0f %.2e", -3.14159, 2.5, 3, 0.5, 1.125))'
        assert_eq!(fmt("%08.3f|%+.0f|%#.0f|%.0f %.2e", &[-3.14159, 2.5, 3.0, 0.5, 1.125]).unwrap(), "-003.142|+3|3.|1 1.13e+00");
        assert_eq!(fmt("%g", &[1234565.0]).unwrap(), "1.23457e+06");
        assert_eq!(fmt("%.14g|%g", &[0.1, 123456789.0]).unwrap(), "0.1|1.23457e+08");
    }

    #[test]
    fn options_and_errors() {
        assert_eq!(fmt("%y", &[1.0]).unwrap_err(), "invalid option '%y' to 'format'");
        assert_eq!(fmt("%100d", &[1.0]).unwrap_err(), "invalid option '%100' to 'format'");
        assert_eq!(fmt("%--5d|", &[1.0]).unwrap(), "1    |");
        assert_eq!(fmt("100%%", &[]).unwrap(), "100%");
        assert_eq!(fmt("%5c|%-3c|", &[65.0, 66.0]).unwrap(), "    A|B  |");
    }

    #[test]
    fn strings_and_quoting() {
        let spec = |w, p, minus| Spec { width: w, precision: p, minus, conversion: b's', ..Spec::default() };
        let mut out = Vec::new();
        format_string(&spec(Some(5), None, false), b"ab", &mut out);
        format_string(&spec(Some(5), None, true), b"ab", &mut out);
        format_string(&spec(None, Some(2), false), b"abc", &mut out);
        assert_eq!(out, b"   abab   ab");
        let mut q = Vec::new();
        quote_string(b"a\n\0b\"\r1\\", &mut q);
        assert_eq!(q, b"\"a\\\n\\0b\\\"\\0131\\\\\"");
        let mut n = Vec::new();
        quote_number(1.0 / 3.0, &mut n);
        assert_eq!(n, b"\"0.33333333333333\"");
    }
}
