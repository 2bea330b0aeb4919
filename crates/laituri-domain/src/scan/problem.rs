//! What is wrong with a scan, or odd about it, as data: the terminal says it in the operator's
//! language, the log and `laituri scan` in English ([`fmt::Display`]). Each says what to do next.

use std::fmt;

use serde::{Serialize, Serializer};

use super::Ai;

/// Why a scan cannot be acted on as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanProblem {
    NothingScanned,
    /// A barcode with a symbology identifier and nothing after it.
    NoData {
        symbology: String,
    },
    /// A GS1 symbology identifier and nothing after it.
    Gs1NoData,
    /// An EAN/UPC or ITF-14 barcode without digits.
    NoDigits {
        name: &'static str,
    },
    NonDigits {
        name: &'static str,
        data: String,
    },
    WrongLength {
        name: &'static str,
        symbology: String,
        want: &'static str,
        got: usize,
    },
    UpceCheckDigit {
        data: String,
        expected: u8,
        scanned: String,
    },
    NotUpce {
        data: String,
    },
    GtinCheckDigit {
        digits: String,
        expected: u8,
        scanned: char,
    },
    ControlCharacter {
        code: u32,
    },
    NoElements,
    NoAi {
        at: String,
    },
    DoesNotFit {
        ai: Ai,
        title: &'static str,
        format: String,
        at: String,
    },
    /// A value longer than its AI allows, or the FNC1 after it missing.
    TooLong {
        ai: Ai,
        title: &'static str,
        format: String,
    },
    BadCharacter {
        character: String,
        ai: Ai,
        title: &'static str,
        offset: usize,
    },
    ExpectedBracket {
        offset: usize,
    },
    UnknownAi {
        ai: String,
    },
    EmptyValue {
        ai: Ai,
        title: &'static str,
    },
    TypedDoesNotFit {
        value: String,
        ai: Ai,
        title: &'static str,
        format: String,
    },
    /// The same AI twice with different values.
    Repeated {
        ai: Ai,
        title: &'static str,
    },
    NotADate {
        ai: Ai,
        title: &'static str,
        value: String,
    },
    NotATime {
        ai: Ai,
        title: &'static str,
        value: String,
    },
    CheckDigit {
        ai: Ai,
        title: &'static str,
        expected: u8,
        scanned: char,
    },
}

/// Something odd about a scan that does not stop it being used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanNote {
    LeadingSeparators,
    RepeatedSeparators { count: usize, ai: Ai },
    UpcaTwelveDigits,
    UpceEightDigits,
    NonAscii,
}

impl fmt::Display for ScanProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ScanProblem::*;
        match self {
            NothingScanned => write!(f, "nothing was scanned — scan the barcode again"),
            NoData { symbology } => {
                write!(f, "the barcode ({symbology}) carried no data — rescan")
            }
            Gs1NoData => write!(f, "the GS1 barcode carried no data — rescan"),
            NoDigits { name } => write!(f, "the {name} barcode carried no digits — rescan"),
            NonDigits { name, data } => write!(
                f,
                "the {name} barcode holds non-digits ('{data}') — rescan, or check the scanner's settings"
            ),
            WrongLength {
                name,
                symbology,
                want,
                got,
            } => write!(
                f,
                "an {name} barcode ({symbology}) must have {want} digits, this one has {got} — rescan"
            ),
            UpceCheckDigit {
                data,
                expected,
                scanned,
            } => write!(
                f,
                "check digit of UPC-E {data} is wrong: expected {expected}, scanned {scanned} — rescan"
            ),
            NotUpce { data } => {
                write!(
                    f,
                    "{data} is not a UPC-E (it must start with 0 or 1) — rescan"
                )
            }
            GtinCheckDigit {
                digits,
                expected,
                scanned,
            } => write!(
                f,
                "check digit of GTIN {digits} is wrong: expected {expected}, scanned {scanned} — rescan, or enter the code by hand"
            ),
            ControlCharacter { code } => write!(
                f,
                "control character U+{code:04X} in the scan — check the scanner's settings, then rescan"
            ),
            NoElements => write!(f, "no element strings in the data — rescan"),
            NoAi { at } => write!(
                f,
                "no GS1 Application Identifier at '{at}' — not a code the terminal knows; rescan or enter it by hand"
            ),
            DoesNotFit {
                ai,
                title,
                format,
                at,
            } => write!(
                f,
                "value of ({ai}) {title} does not fit its format {format} at '{at}' — rescan or enter the code by hand"
            ),
            TooLong { ai, title, format } => write!(
                f,
                "value of ({ai}) {title} is longer than its format {format} allows, or the separator (FNC1) after it is missing — check the scanner's FNC1/GS setting"
            ),
            BadCharacter {
                character,
                ai,
                title,
                offset,
            } => write!(
                f,
                "character '{character}' is not allowed in ({ai}) {title} (offset {offset}) — the scanner may send a wrong separator; check its FNC1/GS setting"
            ),
            ExpectedBracket { offset } => write!(
                f,
                "expected an AI in brackets like (01) at offset {offset} — type the code as printed under the barcode"
            ),
            UnknownAi { ai } => write!(f, "unknown AI ({ai}) — check the number in brackets"),
            EmptyValue { ai, title } => write!(
                f,
                "empty value for AI ({ai}) {title} — type the value after the brackets"
            ),
            TypedDoesNotFit {
                value,
                ai,
                title,
                format,
            } => write!(
                f,
                "value '{value}' does not fit ({ai}) {title}, format {format} — check what was typed"
            ),
            Repeated { ai, title } => write!(
                f,
                "AI ({ai}) {title} appears twice with different values — scan one label at a time"
            ),
            NotADate { ai, title, value } => write!(
                f,
                "({ai}) {title}: {value} is not a real date (YYMMDD) — check the label, or enter the date by hand"
            ),
            NotATime { ai, title, value } => write!(
                f,
                "({ai}) {title}: {value} is not a real time of day — check the label"
            ),
            CheckDigit {
                ai,
                title,
                expected,
                scanned,
            } => write!(
                f,
                "check digit of ({ai}) {title} is wrong: expected {expected}, scanned {scanned} — rescan, or enter the code by hand"
            ),
        }
    }
}

impl fmt::Display for ScanNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanNote::LeadingSeparators => write!(f, "leading FNC1 separator(s) skipped"),
            ScanNote::RepeatedSeparators { count, ai } => {
                write!(f, "{count} consecutive FNC1 separators after AI ({ai})")
            }
            ScanNote::UpcaTwelveDigits => write!(
                f,
                "12 digits under ]E0 (AIM sends UPC-A as 13 digits with a leading 0)"
            ),
            ScanNote::UpceEightDigits => write!(
                f,
                "UPC-E sent as 8 digits under ]E0 (AIM sends the expanded 13-digit form)"
            ),
            ScanNote::NonAscii => write!(f, "non-ASCII characters in plain data"),
        }
    }
}

/// On the wire and in `laituri scan --json`: the English sentence.
impl Serialize for ScanProblem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for ScanNote {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
