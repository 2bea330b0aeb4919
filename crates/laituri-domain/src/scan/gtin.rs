//! GTINs as EAN/UPC and ITF-14 symbols carry them, and the GS1 mod-10 check digit.
//!
//! Owns the check-digit arithmetic shared by every GS1 key (GTIN, SSCC, GLN, GDTI, GRAI ...),
//! the normalisation of EAN-8, UPC-A, EAN-13 and GTIN-14 to GTIN-14, and the expansion of 8-digit
//! UPC-E to UPC-A. It must never guess: a code of a length no GTIN has is an error, not padded.

use serde::Serialize;

/// The GS1 mod-10 check digit of `payload` (all digits before the check digit): weights 3 and 1
/// alternate from the rightmost payload digit. `None` if the payload has a non-digit.
pub fn check_digit(payload: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, b) in payload.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let weight = if i % 2 == 0 { 3 } else { 1 };
        sum += weight * u32::from(b - b'0');
    }
    Some(((10 - sum % 10) % 10) as u8)
}

/// Whether the last digit of `digits` is its correct check digit; with the expected digit.
/// `None` for an empty or non-numeric string.
pub fn verify(digits: &str) -> Option<(bool, u8)> {
    let (payload, last) = digits.split_at(digits.len().checked_sub(1)?);
    let expected = check_digit(payload)?;
    let last = last.as_bytes()[0];
    last.is_ascii_digit()
        .then(|| (last - b'0' == expected, expected))
}

/// `payload` followed by its check digit.
pub fn with_check_digit(payload: &str) -> Option<String> {
    check_digit(payload).map(|c| format!("{payload}{c}"))
}

/// The key a barcode is stored under in master data: a GTIN (8, 12, 13 or 14 digits) as its
/// GTIN-14, any other code trimmed but otherwise as printed. Scans are looked up by the same key.
pub fn master_data_key(code: &str) -> String {
    let code = code.trim();
    if code.bytes().all(|b| b.is_ascii_digit()) && matches!(code.len(), 8 | 12 | 13 | 14) {
        format!("{code:0>14}")
    } else {
        code.to_string()
    }
}

/// Which GTIN a code is, judged from its GTIN-14 form (leading zeros), so that a UPC-A sent as
/// 13 digits and the same code sent as 12 are the same GTIN-12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GtinFormat {
    #[serde(rename = "GTIN-8")]
    Gtin8,
    #[serde(rename = "GTIN-12")]
    Gtin12,
    #[serde(rename = "GTIN-13")]
    Gtin13,
    #[serde(rename = "GTIN-14")]
    Gtin14,
}

/// A GTIN read from a scan: what was scanned, its GTIN-14 form and its check-digit verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gtin {
    /// The digits as scanned (a UPC-E as its expanded UPC-A).
    pub digits: String,
    /// The GTIN-14 form: left-padded with zeros. Product master data is keyed by this.
    pub gtin14: String,
    pub format: GtinFormat,
    pub check_digit_ok: bool,
    pub expected_check_digit: u8,
    /// The 2- or 5-digit add-on of an EAN-13/UPC-A with add-on (`]E3`), e.g. an issue number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addon: Option<String>,
}

impl Gtin {
    /// A GTIN from 8, 12, 13 or 14 digits; `None` for any other input.
    pub fn from_digits(digits: &str) -> Option<Gtin> {
        if !matches!(digits.len(), 8 | 12 | 13 | 14) || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let (check_digit_ok, expected_check_digit) = verify(digits)?;
        let mut gtin14 = String::with_capacity(14);
        for _ in digits.len()..14 {
            gtin14.push('0');
        }
        gtin14.push_str(digits);
        let zeros = gtin14.bytes().take_while(|&b| b == b'0').count();
        let format = match zeros {
            6.. => GtinFormat::Gtin8,
            2.. => GtinFormat::Gtin12,
            1 => GtinFormat::Gtin13,
            _ => GtinFormat::Gtin14,
        };
        Some(Gtin {
            digits: digits.to_string(),
            gtin14,
            format,
            check_digit_ok,
            expected_check_digit,
            addon: None,
        })
    }
}

/// Expands an 8-digit UPC-E (number system 0 or 1, six data digits, check digit) to the 12-digit
/// UPC-A it abbreviates. The check digit is carried over unchanged: it is defined on the UPC-A.
/// `None` if the input is not 8 digits with number system 0 or 1.
pub fn expand_upce(upce: &str) -> Option<String> {
    let b = upce.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) || !matches!(b[0], b'0' | b'1') {
        return None;
    }
    let ns = b[0] as char;
    let d: Vec<char> = b[1..7].iter().map(|&c| c as char).collect();
    let check = b[7] as char;
    let body: String = match d[5] {
        '0'..='2' => [d[0], d[1], d[5], '0', '0', '0', '0', d[2], d[3], d[4]]
            .iter()
            .collect(),
        '3' => [d[0], d[1], d[2], '0', '0', '0', '0', '0', d[3], d[4]]
            .iter()
            .collect(),
        '4' => [d[0], d[1], d[2], d[3], '0', '0', '0', '0', '0', d[4]]
            .iter()
            .collect(),
        _ => [d[0], d[1], d[2], d[3], d[4], '0', '0', '0', '0', d[5]]
            .iter()
            .collect(),
    };
    let mut upca = String::with_capacity(12);
    upca.push(ns);
    upca.push_str(&body);
    upca.push(check);
    Some(upca)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits() {
        for (payload, expect) in [
            ("1234567890123", 1),
            ("0950600013435", 2),
            ("12345678901234567", 5),
            ("590123412345", 7),
            ("0234567", 3),
            ("", 0),
        ] {
            assert_eq!(check_digit(payload), Some(expect), "{payload}");
        }
        assert_eq!(check_digit("12a"), None);
    }

    fn check(digits: &str, expect: Option<(&str, GtinFormat, bool)>) {
        let got = Gtin::from_digits(digits).map(|g| (g.gtin14.clone(), g.format, g.check_digit_ok));
        let expect = expect.map(|(g, f, ok)| (g.to_string(), f, ok));
        assert_eq!(got, expect, "{digits}");
    }

    #[test]
    fn gtin_cases() {
        use GtinFormat::*;
        check("96385074", Some(("00000096385074", Gtin8, true)));
        check("000096385074", Some(("00000096385074", Gtin8, true)));
        check("123601057072", Some(("00123601057072", Gtin12, true)));
        check("0123601057072", Some(("00123601057072", Gtin12, true)));
        check("5901234123457", Some(("05901234123457", Gtin13, true)));
        check("5901234123458", Some(("05901234123458", Gtin13, false)));
        check("15901234123454", Some(("15901234123454", Gtin14, true)));
        check("1234567", None);
        check("123456789012345", None);
        check("590123412345A", None);
    }

    #[test]
    fn upce_expansion() {
        for (upce, upca) in [
            ("01234565", "012345000065"),
            ("04252614", "042100005264"),
            ("01234531", "012300000451"),
            ("01234543", "012340000053"),
            ("01234500", "012000003450"),
        ] {
            assert_eq!(expand_upce(upce).as_deref(), Some(upca), "{upce}");
        }
        assert_eq!(expand_upce("21234565"), None);
        assert_eq!(expand_upce("0123456"), None);
    }
}
