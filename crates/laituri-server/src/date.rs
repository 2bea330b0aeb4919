//! A calendar date without a clock: the server's own small civil-date type.
//!
//! It owns parsing and formatting of ISO dates (`YYYY-MM-DD`, the form of `expiry` on the wire),
//! GS1's `YYMMDD`, and adding days. It must never read the clock: callers pass "today" in, so the
//! demo seed and every rule that depends on the date stay deterministic and testable.
//!
//! Dates are counted as days since 1970-01-01 (proleptic Gregorian), using Howard Hinnant's
//! `days_from_civil` algorithm; that is all the calendar arithmetic the server needs, and it spares
//! a date-time dependency.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days: i64,
}

impl Date {
    /// The date of a valid year, month and day; `None` for 2025-02-30 and the like.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date {
            days: days_from_civil(year as i64, month as i64, day as i64),
        })
    }

    /// The UTC date of a Unix day number (seconds since the epoch divided by 86,400, floored).
    pub fn from_unix_days(days: i64) -> Date {
        Date { days }
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        Date::from_ymd(num(0..4)? as i32, num(5..7)?, num(8..10)?)
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.days)
    }

    pub fn add_days(self, n: i64) -> Date {
        Date {
            days: self.days + n,
        }
    }

    /// Days from `self` to `other` (positive when `other` is later).
    pub fn days_until(self, other: Date) -> i64 {
        other.days - self.days
    }

    /// GS1 `YYMMDD` as used by AI (17) and (15).
    pub fn yymmdd(self) -> String {
        let (y, m, d) = self.ymd();
        format!("{:02}{m:02}{d:02}", y.rem_euclid(100))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y as i32, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_parse_and_format_round_trip_or_refuse() {
        let cases: &[(&str, Option<&str>)] = &[
            ("1970-01-01", Some("1970-01-01")),
            ("2024-02-29", Some("2024-02-29")),
            ("2025-02-29", None),
            ("2100-02-29", None),
            ("2000-02-29", Some("2000-02-29")),
            ("2026-13-01", None),
            ("2026-00-10", None),
            ("2026-1-01", None),
            ("20260101", None),
            ("2026-01-+1", None),
        ];
        for (input, expect) in cases {
            let got = Date::parse_iso(input).map(|d| d.to_string());
            assert_eq!(got.as_deref(), *expect, "{input}");
        }
    }

    #[test]
    fn adding_days_crosses_months_years_and_leap_days() {
        let d = Date::parse_iso("2024-02-28").unwrap();
        assert_eq!(d.add_days(1).to_string(), "2024-02-29");
        assert_eq!(d.add_days(2).to_string(), "2024-03-01");
        assert_eq!(d.add_days(-59).to_string(), "2023-12-31");
        assert_eq!(d.days_until(d.add_days(365)), 365);
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(20_000).to_string(), "2024-10-04");
        assert_eq!(Date::parse_iso("2027-03-09").unwrap().yymmdd(), "270309");
    }
}
