//! Turning Lua values into the text Kong users see (logs, headers, bodies), as LuaJIT 2.1
//! prints them: numbers with `%.14g`, so `10/2` is `5` and `2^53` is `9.007199254741e+15`.

use piccolo::Value;

/// A Lua number as LuaJIT's `tostring` prints it (`%.14g`, `inf`, `-inf`, `nan`/`-nan`).
/// Non-numbers give an empty string.
pub fn number(value: Value<'_>) -> String {
    match value {
        Value::Integer(i) => format_g14(i as f64),
        Value::Number(n) => format_g14(n),
        _ => String::new(),
    }
}

/// Digits of a string that ends in decimal digits (and maybe a `.`), plus one unit in
/// the last place: `"1.29"` -> `"1.30"`, `"9.9"` -> `"10.0"`.
fn increment(s: &str) -> String {
    let mut bytes = s.as_bytes().to_vec();
    let mut i = bytes.len();
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b'.' => continue,
            b'9' => bytes[i] = b'0',
            d => {
                bytes[i] = d + 1;
                return String::from_utf8(bytes).unwrap_or_default();
            }
        }
    }
    bytes.insert(0, b'1');
    String::from_utf8(bytes).unwrap_or_default()
}

/// Extra digits used to tell an exact tie from a value just above or below it.
const TIE_DIGITS: usize = 30;

/// `|x|` with `frac` digits after the point, ties rounded away from zero as LuaJIT's
/// own formatter does (`%.0f` of 2.5 is `3`); Rust and glibc round ties to even.
pub fn fixed_away(x: f64, frac: usize) -> String {
    let x = x.abs();
    let longer = format!("{:.*}", frac + TIE_DIGITS, x);
    let (head, tail) = longer.split_at(longer.len() - TIE_DIGITS);
    if tail.starts_with('5') && tail[1..].bytes().all(|b| b == b'0') {
        increment(head.strip_suffix('.').unwrap_or(head))
    } else {
        format!("{:.*}", frac, x)
    }
}

/// `|x|` in exponent form with `frac` mantissa digits after the point, ties away from
/// zero: `(mantissa, exponent)`, e.g. `("1.13", 0)` for 1.125 with 2 digits.
pub fn exp_away(x: f64, frac: usize) -> (String, i32) {
    let x = x.abs();
    let longer = format!("{:.*e}", frac + TIE_DIGITS, x);
    let (mantissa, exponent) = longer.split_once('e').unwrap_or((&longer, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (head, tail) = mantissa.split_at(mantissa.len() - TIE_DIGITS);
    if tail.starts_with('5') && tail[1..].bytes().all(|b| b == b'0') {
        let bumped = increment(head.strip_suffix('.').unwrap_or(head));
        // A carry out of the leading digit ("9.99" -> "10.00") moves the point.
        if bumped.split('.').next().is_some_and(|int| int.len() > 1) {
            let digits: String = bumped.chars().filter(|c| *c != '.').collect();
            let mantissa = if frac == 0 { digits[..1].to_string() } else { format!("{}.{}", &digits[..1], &digits[1..=frac]) };
            return (mantissa, exponent + 1);
        }
        return (bumped, exponent);
    }
    let rounded = format!("{:.*e}", frac, x);
    let (mantissa, exponent) = rounded.split_once('e').unwrap_or((&rounded, "0"));
    (mantissa.to_string(), exponent.parse().unwrap_or(0))
}

/// C's `%.14g` for a double, with LuaJIT's ties-away rounding.
pub fn format_g14(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    const P: i32 = 14;
    let sign = if n < 0.0 { "-" } else { "" };
    // Round to 14 significant digits first: the exponent of the rounded value decides the style.
    let (mantissa, exp) = exp_away(n, (P - 1) as usize);
    if exp < -4 || exp >= P {
        let mantissa = trim_fraction(&mantissa);
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs())
    } else {
        let decimals = (P - 1 - exp).max(0) as usize;
        format!("{sign}{}", trim_fraction(&fixed_away(n, decimals)))
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A value as `tostring` shows it for logs: strings as is (lossy UTF-8), numbers as
/// LuaJIT, `nil`, `true`/`false`, and `<type>: <address>` for the rest.
pub fn display(value: Value<'_>) -> String {
    match value {
        Value::Nil => "nil".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Integer(_) | Value::Number(_) => number(value),
        Value::String(s) => s.to_str_lossy().into_owned(),
        other => {
            let mut out = Vec::new();
            let _ = other.display(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_luajit() {
        assert_eq!(format_g14(5.0), "5");
        assert_eq!(format_g14(0.1), "0.1");
        assert_eq!(format_g14(1e15), "1e+15");
        assert_eq!(format_g14(2f64.powi(53)), "9.007199254741e+15");
        assert_eq!(format_g14(12345678901234.0), "12345678901234");
        assert_eq!(format_g14(1.0 / 3.0), "0.33333333333333");
        assert_eq!(format_g14(0.0001), "0.0001");
        assert_eq!(format_g14(0.00001), "1e-05");
        assert_eq!(format_g14(-2.5), "-2.5");
        assert_eq!(format_g14(f64::INFINITY), "inf");
        assert_eq!(number(Value::Integer(42)), "42");
        // LuaJIT rounds ties away from zero.
        assert_eq!(format_g14(123456789012345.0), "1.2345678901235e+14");
        assert_eq!(fixed_away(2.5, 0), "3");
        assert_eq!(fixed_away(0.25, 1), "0.3");
        assert_eq!(fixed_away(9.5, 0), "10");
        assert_eq!(exp_away(1.125, 2), ("1.13".to_string(), 0));
        assert_eq!(exp_away(9.5, 0), ("1".to_string(), 1));
    }
}
