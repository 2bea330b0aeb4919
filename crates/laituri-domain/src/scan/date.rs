//! Calendar dates and times as GS1 element strings carry them.
//!
//! Owns the YYMMDD rules of the GS1 General Specifications (DD = 00 means the last day of the
//! month; the century comes from a sliding window around "today"), the time-of-day checks and
//! the small `Time` type. Dates themselves are the crate's `calendar::Date`, so a flow compares
//! an expiry from a label with its own dates directly. It must never read the clock: "today" is
//! always a parameter, so every rule here is a pure function that tests can pin to any day.

use std::fmt;

pub use crate::calendar::Date;
use crate::calendar::days_in_month;

/// A time of day, as (7003), (8008), (4324) and friends carry it next to a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }
}

/// The value of one to nine ASCII digits, or `None` if any byte is not a digit.
pub(crate) fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// The full year of a two-digit GS1 year, by the sliding window of the GS1 General
/// Specifications (section 7.12): a year more than 50 years ahead of today's belongs to the
/// previous century, one 50 or more years behind to the next. With today in 2026, `76` is 2076
/// and `77` is 1977.
pub fn gs1_century(yy: u8, today: Date) -> i32 {
    let current_century = today.year - today.year.rem_euclid(100);
    let diff = i32::from(yy) - today.year.rem_euclid(100);
    let century = if diff >= 51 {
        current_century - 100
    } else if diff <= -50 {
        current_century + 100
    } else {
        current_century
    };
    century + i32::from(yy)
}

/// Parses GS1 `YYMMDD`. With `allow_day_zero` (the AIs whose syntax is `yymmd0`: 11-17, 4324,
/// 4325) a day of `00` means the last day of the month; elsewhere it is an invalid date.
pub fn parse_yymmdd(text: &str, allow_day_zero: bool, today: Date) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 6 {
        return None;
    }
    let yy = digits(&b[0..2])? as u8;
    let month = digits(&b[2..4])? as u8;
    let day = digits(&b[4..6])? as u8;
    let year = gs1_century(yy, today);
    if day == 0 && allow_day_zero {
        let last = days_in_month(year, month);
        return Date::new(year, month, last);
    }
    Date::new(year, month, day)
}

/// Parses `YYYYMMDD` (date of birth, 7250/7251).
pub fn parse_yyyymmdd(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 8 {
        return None;
    }
    Date::new(
        digits(&b[0..4])? as i32,
        digits(&b[4..6])? as u8,
        digits(&b[6..8])? as u8,
    )
}

/// Hours 00-23.
pub fn parse_hour(text: &str) -> Option<u8> {
    let h = digits(text.as_bytes())?;
    (text.len() == 2 && h < 24).then_some(h as u8)
}

/// Minutes or seconds 00-59.
pub fn parse_minute(text: &str) -> Option<u8> {
    let m = digits(text.as_bytes())?;
    (text.len() == 2 && m < 60).then_some(m as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date {
        year: 2026,
        month: 1,
        day: 1,
    };

    fn check(text: &str, day_zero: bool, expect: Option<&str>) {
        let got = parse_yymmdd(text, day_zero, TODAY).map(|d| d.to_string());
        assert_eq!(got.as_deref(), expect, "{text}");
    }

    #[test]
    fn yymmdd_cases() {
        check("270230", true, None);
        check("270229", true, None);
        check("280229", true, Some("2028-02-29"));
        check("270200", true, Some("2027-02-28"));
        check("280200", true, Some("2028-02-29"));
        check("000200", true, Some("2000-02-29"));
        check("270400", true, Some("2027-04-30"));
        check("270400", false, None);
        check("261301", true, None);
        check("260001", true, None);
        check("260132", true, None);
        check("26A615", true, None);
        check("2606", true, None);
    }

    #[test]
    fn century_window_around_2026() {
        check("760615", false, Some("2076-06-15"));
        check("770615", false, Some("1977-06-15"));
        check("990615", false, Some("1999-06-15"));
        check("000615", false, Some("2000-06-15"));
        check("510615", false, Some("2051-06-15"));
        // Near a century boundary the window reaches into the next century.
        let late = Date::new(2090, 6, 1).unwrap();
        assert_eq!(gs1_century(10, late), 2110);
        assert_eq!(gs1_century(40, late), 2140);
        assert_eq!(gs1_century(41, late), 2041);
        let early = Date::new(2001, 6, 1).unwrap();
        assert_eq!(gs1_century(60, early), 1960);
    }

    #[test]
    fn times() {
        assert_eq!(parse_hour("23"), Some(23));
        assert_eq!(parse_hour("24"), None);
        assert_eq!(parse_minute("59"), Some(59));
        assert_eq!(parse_minute("60"), None);
        assert_eq!(parse_minute("6"), None);
    }
}
