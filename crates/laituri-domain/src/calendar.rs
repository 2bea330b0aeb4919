//! Calendar dates without a clock: the arithmetic that floor rules need (days of shelf life left).
//!
//! Callers pass "today" in; nothing here reads the system time. Day numbers use the proleptic
//! Gregorian calendar (Howard Hinnant's days-from-civil), exact for every date a label can carry.

use std::fmt;

use serde::{Serialize, Serializer};

/// A calendar date. Ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// A date, if it exists in the calendar.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = s.get(0..4)?.parse().ok()?;
        let month = s.get(5..7)?.parse().ok()?;
        let day = s.get(8..10)?.parse().ok()?;
        Date::new(year, month, day)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn day_number(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date with the given day number.
    pub fn from_day_number(z: i64) -> Date {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.day_number() - self.day_number()
    }

    pub fn add_days(self, days: i64) -> Date {
        Date::from_day_number(self.day_number() + days)
    }

    /// The date as GS1 labels print it (YYMMDD), e.g. for (17) expiry.
    pub fn yymmdd(self) -> String {
        format!(
            "{:02}{:02}{:02}",
            self.year.rem_euclid(100),
            self.month,
            self.day
        )
    }
}

/// Days in a month of the Gregorian calendar.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip_and_match_known_dates() {
        let cases = [
            ((1970, 1, 1), 0),
            ((2000, 3, 1), 11_017),
            ((2026, 1, 1), 20_454),
            ((1969, 12, 31), -1),
        ];
        for ((y, m, d), n) in cases {
            let date = Date::new(y, m, d).unwrap();
            assert_eq!(date.day_number(), n, "{date}");
            assert_eq!(Date::from_day_number(n), date);
        }
        for n in -800_000..800_000i64 {
            if n % 997 == 0 {
                assert_eq!(Date::from_day_number(n).day_number(), n);
            }
        }
    }

    #[test]
    fn invalid_dates_are_refused() {
        for (y, m, d) in [(2026, 2, 29), (2026, 13, 1), (2026, 4, 31), (2026, 1, 0)] {
            assert_eq!(Date::new(y, m, d), None, "{y}-{m}-{d}");
        }
        assert!(Date::new(2024, 2, 29).is_some());
        assert_eq!(Date::parse_iso("2026-02-30"), None);
        assert_eq!(Date::parse_iso("2026-2-3"), None);
        assert_eq!(
            Date::parse_iso("2026-11-22").map(|d| d.to_string()),
            Some("2026-11-22".into())
        );
    }

    #[test]
    fn yymmdd_is_the_gs1_form() {
        assert_eq!(Date::new(2027, 1, 31).unwrap().yymmdd(), "270131");
        assert_eq!(Date::new(2100, 12, 5).unwrap().yymmdd(), "001205");
    }

    #[test]
    fn days_until_counts_across_years() {
        let a = Date::new(2026, 12, 30).unwrap();
        assert_eq!(a.days_until(Date::new(2027, 1, 2).unwrap()), 3);
        assert_eq!(a.add_days(3), Date::new(2027, 1, 2).unwrap());
        assert_eq!(Date::new(2027, 1, 2).unwrap().days_until(a), -3);
    }
}
