//! GTIN and SSCC arithmetic: GS1 mod-10 check digits and the server's barcode normalisation.
//!
//! It owns one rule of the integration API: numeric codes of 8, 12, 13 or 14 digits are GTINs and
//! are stored left-padded with zeros to 14 digits, so that EAN-8, UPC-A, EAN-13 and GTIN-14 of the
//! same item compare equal on every terminal. Any other code is stored exactly as sent. It must
//! never reject a code for a wrong check digit: merchants' data is what it is, and refusing a whole
//! product over one bad barcode would hide the product from the floor.

/// GS1 mod-10 check digit of `body` (all digits, without the check digit).
pub fn check_digit(body: &str) -> Option<u8> {
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Weights 3,1,3,1... from the rightmost digit of the body.
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    Some(((10 - sum % 10) % 10) as u8)
}

/// `body` followed by its check digit.
pub fn with_check_digit(body: &str) -> Option<String> {
    check_digit(body).map(|c| format!("{body}{c}"))
}

/// True when the last digit of `code` is the GS1 check digit of the rest.
pub fn has_valid_check_digit(code: &str) -> bool {
    match code.len() {
        0 | 1 => false,
        n => check_digit(&code[..n - 1]) == code[n - 1..].parse::<u8>().ok(),
    }
}

/// The form in which a product barcode is stored and shipped to terminals.
pub fn normalise(code: &str) -> String {
    let code = code.trim();
    let numeric = code.bytes().all(|b| b.is_ascii_digit());
    if numeric && matches!(code.len(), 8 | 12 | 13 | 14) {
        format!("{code:0>14}")
    } else {
        code.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_of_known_codes() {
        let cases = [
            ("629104150021", Some(3)),      // EAN-13 6291041500213
            ("9638507", Some(4)),           // EAN-8 96385074
            ("03600029145", Some(2)),       // UPC-A 036000291452
            ("1001234567890", Some(2)),     // GTIN-14 10012345678902
            ("00614141123456789", Some(0)), // SSCC 006141411234567890
            ("", None),
            ("12a4", None),
        ];
        for (body, expect) in cases {
            assert_eq!(check_digit(body), expect, "{body}");
        }
        assert!(has_valid_check_digit("6291041500213"));
        assert!(!has_valid_check_digit("6291041500214"));
    }

    #[test]
    fn normalisation_pads_gtins_only() {
        let cases = [
            ("96385074", "00000096385074"),
            ("036000291452", "00036000291452"),
            ("6291041500213", "06291041500213"),
            ("16291041500210", "16291041500210"),
            (" 6291041500213 ", "06291041500213"),
            ("123456789", "123456789"),
            ("ABC-123", "ABC-123"),
            ("123456789012345", "123456789012345"),
        ];
        for (input, expect) in cases {
            assert_eq!(normalise(input), expect, "{input}");
        }
    }
}
