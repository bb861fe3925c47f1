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

/// C's `%.14g` for a double.
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
    // Round to 14 significant digits first: the exponent of the rounded value decides the style.
    let sci = format!("{:.*e}", (P - 1) as usize, n);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= P {
        let mantissa = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (P - 1 - exp).max(0) as usize;
        trim_fraction(&format!("{:.*}", decimals, n)).to_string()
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
        assert_eq!(format_g14(123456789012345.0), "1.2345678901234e+14");
        assert_eq!(format_g14(12345678901234.0), "12345678901234");
        assert_eq!(format_g14(1.0 / 3.0), "0.33333333333333");
        assert_eq!(format_g14(0.0001), "0.0001");
        assert_eq!(format_g14(0.00001), "1e-05");
        assert_eq!(format_g14(-2.5), "-2.5");
        assert_eq!(format_g14(f64::INFINITY), "inf");
        assert_eq!(number(Value::Integer(42)), "42");
    }
}
