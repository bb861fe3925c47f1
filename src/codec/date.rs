//! The UTC calendar (proleptic Gregorian, no time zones: the filter has no zone
//! database) and nginx's HTTP date formats: what `os.date`/`os.time`, `ngx.today`,
//! `ngx.localtime`, `ngx.http_time`, `ngx.cookie_time` and `ngx.parse_http_time` share.
//!
//! Ours rather than `httpdate`: nginx formats times before 1970 and after 9999
//! (`httpdate` panics or refuses), writes cookie dates with 2-digit years, and parses
//! without checking the weekday, which `httpdate` rejects when it is wrong.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01: (year, month 1-12, day 1-31).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A broken-down UTC time, as C's `struct tm` (month 1-12, weekday 0 = Sunday, yday 1-366).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tm {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub min: i64,
    pub sec: i64,
    pub wday: i64,
    pub yday: i64,
}

/// Breaks a Unix time into UTC fields.
pub fn gmtime(t: i64) -> Tm {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    Tm {
        year,
        month,
        day,
        hour: secs / 3600,
        min: secs % 3600 / 60,
        sec: secs % 60,
        wday: (days + 4).rem_euclid(7),
        yday: days - days_from_civil(year, 1, 1) + 1,
    }
}

/// Weekday abbreviations, Sunday first (as `Tm::wday`).
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
/// Month abbreviations, January first.
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// nginx's `ngx_http_time`: RFC 1123 in GMT.
pub fn http_time(secs: i64) -> String {
    let t = gmtime(secs);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[t.wday as usize], t.day, MONTHS[t.month as usize - 1], t.year, t.hour, t.min, t.sec
    )
}

/// nginx's `ngx_http_cookie_time`: 2-digit years up to 2037, 4-digit ones after.
pub fn cookie_time(secs: i64) -> String {
    let t = gmtime(secs);
    let year = if t.year > 2037 { format!("{}", t.year) } else { format!("{:02}", t.year.rem_euclid(100)) };
    format!(
        "{}, {:02}-{}-{} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[t.wday as usize], t.day, MONTHS[t.month as usize - 1], year, t.hour, t.min, t.sec
    )
}

/// A small cursor for [`parse_http_time`].
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.0.first() == Some(&c)).then(|| self.0 = &self.0[1..])
    }
    fn skip_spaces(&mut self) {
        while self.0.first() == Some(&b' ') {
            self.0 = &self.0[1..];
        }
    }
    /// Exactly `n` digits.
    fn digits(&mut self, n: usize) -> Option<i64> {
        let d = self.0.get(..n)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.0 = &self.0[n..];
        Some(d.iter().fold(0, |acc, c| acc * 10 + i64::from(c - b'0')))
    }
    fn month(&mut self) -> Option<i64> {
        let name = self.0.get(..3)?;
        let m = MONTHS.iter().position(|m| m.as_bytes() == name)?;
        self.0 = &self.0[3..];
        Some(m as i64 + 1)
    }
    fn clock(&mut self) -> Option<(i64, i64, i64)> {
        let h = self.digits(2)?;
        self.eat(b':')?;
        let m = self.digits(2)?;
        self.eat(b':')?;
        let s = self.digits(2)?;
        Some((h, m, s))
    }
}

/// nginx's `ngx_parse_http_time`: `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 1123),
/// `Sunday, 06-Nov-94 08:49:37 GMT` (RFC 850; years < 70 are 20xx) and
/// `Sun Nov  6 08:49:37 1994` (asctime). The weekday is not checked, as nginx.
pub fn parse_http_time(text: &[u8]) -> Option<i64> {
    let start = text.iter().position(|c| !c.is_ascii_alphabetic())?;
    let mut c = Cursor(&text[start..]);
    let (year, month, day, (h, m, s));
    if c.eat(b',').is_some() {
        c.eat(b' ')?;
        day = c.digits(2)?;
        if c.eat(b' ').is_some() {
            month = c.month()?;
            c.eat(b' ')?;
            year = c.digits(4)?;
        } else {
            c.eat(b'-')?;
            month = c.month()?;
            c.eat(b'-')?;
            let yy = c.digits(2)?;
            year = yy + if yy < 70 { 2000 } else { 1900 };
        }
        c.eat(b' ')?;
        (h, m, s) = c.clock()?;
        c.skip_spaces();
        if !c.0.is_empty() && !c.0.starts_with(b"GMT") {
            return None;
        }
    } else {
        c.eat(b' ')?;
        month = c.month()?;
        c.eat(b' ')?;
        day = if c.eat(b' ').is_some() { c.digits(1)? } else { c.digits(2)? };
        c.eat(b' ')?;
        (h, m, s) = c.clock()?;
        c.eat(b' ')?;
        year = c.digits(4)?;
    }
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let mdays = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if day < 1 || day > mdays[month as usize - 1] {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        let tm = gmtime(-1);
        assert_eq!((tm.year, tm.month, tm.day, tm.hour, tm.min, tm.sec, tm.wday, tm.yday), (1969, 12, 31, 23, 59, 59, 3, 365));
    }

    #[test]
    fn http_dates_as_nginx() {
        // lua-nginx-module's docs: ngx.http_time(1290079655) and ngx.cookie_time(1290079655).
        assert_eq!(http_time(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_time(1290079655), "Thu, 18 Nov 2010 11:27:35 GMT");
        assert_eq!(http_time(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_time(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
        assert_eq!(cookie_time(1290079655), "Thu, 18-Nov-10 11:27:35 GMT");
        assert_eq!(cookie_time(2208988800), "Sun, 01-Jan-2040 00:00:00 GMT");
        for t in [0, 1290079655, 951782400, 2208988800, 4102444799] {
            assert_eq!(parse_http_time(http_time(t).as_bytes()), Some(t));
        }
        // RFC 9110 section 5.6.7's three forms of one instant.
        assert_eq!(parse_http_time(b"Sunday, 06-Nov-94 08:49:37 GMT"), Some(784111777));
        assert_eq!(parse_http_time(b"Sun Nov  6 08:49:37 1994"), Some(784111777));
        assert_eq!(parse_http_time(b"Sun, 06 Nov 1994 08:49:37 GMT"), Some(784111777));
        // nginx's ngx_parse_http_time does not check the weekday.
        assert_eq!(parse_http_time(b"Mon, 06 Nov 1994 08:49:37 GMT"), Some(784111777));
        assert_eq!(parse_http_time(b"Sun, 31 Feb 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_time(b"Sun, 06 Nov 1994 24:00:00 GMT"), None);
        assert_eq!(parse_http_time(b"yesterday"), None);
        assert_eq!(parse_http_time(b""), None);
    }
}
