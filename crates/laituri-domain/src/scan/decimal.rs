//! Exact decimal quantities from GS1 measure and amount AIs (310n, 392n ...).
//!
//! Owns the small fixed-point `Decimal` type: an integer and an implied number of decimal places,
//! exactly as the element string encodes them. It must never go through floating point on the
//! way in: 12.345 kg stays 12345 thousandths, so stock and weight arithmetic in the flows is exact.

use std::fmt;

use serde::{Serialize, Serializer};

/// `units / 10^scale`. The GS1 values fit: at most 15 digits (N..15) and at most 9 places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    pub units: u64,
    pub scale: u8,
}

impl Decimal {
    /// From the digits of a GS1 value and the decimal-point digit of its AI. `None` for an empty
    /// or over-long value or non-digits.
    pub fn from_digits(digits: &str, scale: u8) -> Option<Decimal> {
        if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let units = digits.parse().ok()?;
        Some(Decimal { units, scale })
    }

    /// A lossy floating-point view, for display and rough comparisons only.
    pub fn to_f64(self) -> f64 {
        self.units as f64 / 10f64.powi(i32::from(self.scale))
    }
}

impl fmt::Display for Decimal {
    /// `1.00`, `12.500`, `0.12345`, `850`: no leading zeros, every implied place shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.units);
        }
        let pow = 10u64.pow(u32::from(self.scale));
        write!(
            f,
            "{}.{:0width$}",
            self.units / pow,
            self.units % pow,
            width = usize::from(self.scale)
        )
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(digits: &str, scale: u8, expect: &str) {
        assert_eq!(
            Decimal::from_digits(digits, scale).unwrap().to_string(),
            expect,
            "{digits}/{scale}"
        );
    }

    #[test]
    fn formatting_cases() {
        check("123456", 0, "123456");
        check("000100", 2, "1.00");
        check("012345", 5, "0.12345");
        check("000850", 0, "850");
        check("012500", 3, "12.500");
        check("123456789012345", 3, "123456789012.345");
        check("123456789012345", 9, "123456.789012345");
        check("12", 5, "0.00012");
        check("0", 0, "0");
        assert!(Decimal::from_digits("", 0).is_none());
        assert!(Decimal::from_digits("12a", 0).is_none());
    }
}
