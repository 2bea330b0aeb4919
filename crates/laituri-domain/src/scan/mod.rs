//! Scan interpretation: one raw scan in, one typed `Scan` out.
//!
//! Owns the decision of what a scan is (empty, a GTIN, a GS1 element string, or plain text such
//! as a location, tote, license-plate or badge label), the handling of AIM symbology identifiers
//! and of what keyboard wedges do to a scan (trailing CR/LF/Tab, padding), the rule for scans
//! that carry no symbology identifier, and the typed accessors the floor flows use (`gtin14()`,
//! `lot()`, `expiry()` ...). It must never do I/O, read the clock or panic on any input: "today"
//! comes in through `ScanOptions`, and everything wrong with a scan is data in `errors`.
//!
//! # The rule for scans without a symbology identifier
//! Most wedge scanners are set up without AIM identifiers, so the same characters can be an
//! EAN-13 or an element string (`4006381333931` is both an EAN-13 and `(400)6381333931`). We
//! decide, mark the result `heuristic`, and keep the other reading in `alt`:
//! 1. Only whitespace: empty.
//! 2. Starts with `(`: the bracketed form a person types (not heuristic).
//! 3. Contains GS or the configured FNC1 substitute: an element string (not heuristic).
//! 4. Exactly 8, 12, 13 or 14 digits: a GTIN, even with a wrong check digit, because EAN/UPC is
//!    by far the most common barcode on goods and a wrong check digit on it means "rescan".
//!    The element-string reading is kept in `alt` when it is valid.
//! 5. Otherwise, an element string if it reads as a complete valid one; the plain text reading
//!    stays in `alt`, so a flow that expects a location label (`10-01-02`) still finds it.
//! 6. Otherwise plain text, with the failed element-string reading in `alt`.

mod ai_table;
mod date;
mod decimal;
pub mod escape;
mod gs1;
mod gtin;
mod problem;

#[cfg(test)]
mod tests;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

pub use ai_table::{Ai, decimal_places};
pub use date::{Date, Time, gs1_century};
pub use decimal::Decimal;
pub use gs1::Element;
pub use gtin::{
    Gtin, GtinFormat, check_digit, expand_upce, master_data_key, verify, with_check_digit,
};
pub use problem::{ScanNote, ScanProblem};

/// What the interpreter needs to know from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOptions {
    /// The date two-digit years are judged against (GS1 century window). Never read from a clock
    /// here: the caller decides what "today" is.
    pub today: Date,
    /// A character the scanner sends instead of FNC1 (GS, ASCII 29, is always accepted too).
    pub fnc1_substitute: Option<char>,
}

impl ScanOptions {
    pub fn new(today: Date) -> ScanOptions {
        ScanOptions {
            today,
            fnc1_substitute: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanKind {
    Empty,
    Gtin,
    Gs1,
    Plain,
}

/// How the barcode's symbology identifier frames the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// GS1-128, GS1 DataBar, GS1 DataMatrix, GS1 QR Code, GS1 DotCode.
    Gs1,
    /// EAN-13/UPC-A/UPC-E (`]E0`), EAN-8 (`]E4`), with add-on (`]E3`), ITF-14 (`]I1`).
    Ean,
    /// Anything else: Code 128 without FNC1, Code 39, plain QR ...
    Other,
}

/// An AIM symbology identifier such as `]C1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbology {
    id: [u8; 3],
}

impl Symbology {
    pub fn id(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or("")
    }

    fn framing(&self) -> Framing {
        match &self.id[1..] {
            b"C1" | b"e0" | b"d2" | b"Q3" | b"J1" => Framing::Gs1,
            b"E0" | b"E3" | b"E4" | b"I1" => Framing::Ean,
            _ => Framing::Other,
        }
    }

    /// Whether the symbology says "GS1 element string".
    pub fn is_gs1(&self) -> bool {
        self.framing() == Framing::Gs1
    }
}

impl Serialize for Symbology {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Symbology", 2)?;
        st.serialize_field("id", self.id())?;
        st.serialize_field("gs1", &self.is_gs1())?;
        st.end()
    }
}

/// `]` + letter + letter or digit, as AIM ISO/IEC 15424 defines it.
fn split_symbology(s: &str) -> Option<(Symbology, &str)> {
    let b = s.as_bytes();
    if b.len() >= 3 && b[0] == b']' && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphanumeric() {
        Some((
            Symbology {
                id: [b[0], b[1], b[2]],
            },
            &s[3..],
        ))
    } else {
        None
    }
}

/// One interpreted scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The data after trimming and after the symbology identifier: what the barcode holds.
    pub data: String,
    pub symbology: Option<Symbology>,
    pub kind: ScanKind,
    /// No errors: the scan can be acted on. Warnings do not make a scan invalid.
    pub valid: bool,
    /// The kind was decided by the rule for scans without a symbology identifier.
    pub heuristic: bool,
    /// GS1 element strings in scan order (empty unless `kind` is `Gs1`).
    pub elements: Vec<Element>,
    /// The GTIN of a `Gtin` scan, or of (01) (else (02)) of a `Gs1` scan.
    pub gtin: Option<Gtin>,
    /// The text of a `Plain` scan.
    pub text: Option<String>,
    /// Other readings of a heuristic scan (see the module docs).
    pub alt: Vec<Scan>,
    /// What is wrong, worded for the person holding the scanner.
    pub errors: Vec<ScanProblem>,
    /// Irregularities that were tolerated.
    pub warnings: Vec<ScanNote>,
}

impl Scan {
    fn new(data: &str, symbology: Option<Symbology>, kind: ScanKind) -> Scan {
        Scan {
            data: data.to_string(),
            symbology,
            kind,
            valid: false,
            heuristic: false,
            elements: Vec::new(),
            gtin: None,
            text: None,
            alt: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn finish(mut self) -> Scan {
        self.valid = self.kind != ScanKind::Empty && self.errors.is_empty();
        self
    }

    /// The reading of the given kind: this scan, or one of its alternatives. A flow that expects
    /// a GTIN asks `reading(ScanKind::Gtin)` and so also accepts an ambiguous scan.
    pub fn reading(&self, kind: ScanKind) -> Option<&Scan> {
        if self.kind == kind {
            return Some(self);
        }
        self.alt.iter().find(|a| a.kind == kind)
    }

    /// The (ai, value) pairs in scan order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.elements
            .iter()
            .map(|e| (e.ai.as_str(), e.value.as_str()))
    }

    /// The first element with this AI.
    pub fn element(&self, ai: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.ai == ai)
    }

    fn value(&self, ai: &str) -> Option<&str> {
        self.element(ai).map(|e| e.value.as_str())
    }

    fn date_of(&self, ai: &str) -> Option<Date> {
        self.element(ai).and_then(|e| e.date)
    }

    /// The GTIN-14 of a trade item: a plain GTIN scan, or (01), or else (02) (the GTIN of the
    /// contents of a logistic unit). `None` when the check digit is wrong: a misread code must
    /// never be looked up as a product.
    pub fn gtin14(&self) -> Option<&str> {
        self.gtin
            .as_ref()
            .filter(|g| g.check_digit_ok)
            .map(|g| g.gtin14.as_str())
    }

    /// Whether `gtin14()` names the contents (02) of a logistic unit rather than the item (01).
    pub fn gtin_is_content(&self) -> bool {
        self.kind == ScanKind::Gs1 && self.element("01").is_none() && self.element("02").is_some()
    }

    fn keyed(&self, ai: &str) -> Option<&str> {
        self.element(ai)
            .filter(|e| e.check_digit_ok == Some(true))
            .map(|e| e.value.as_str())
    }

    /// (00) Serial Shipping Container Code, when its check digit is right.
    pub fn sscc(&self) -> Option<&str> {
        self.keyed("00")
    }

    /// (10) batch or lot number.
    pub fn lot(&self) -> Option<&str> {
        self.value("10")
    }

    /// (21) serial number.
    pub fn serial(&self) -> Option<&str> {
        self.value("21")
    }

    /// (17) use-by or expiry date.
    pub fn expiry(&self) -> Option<Date> {
        self.date_of("17")
    }

    /// (15) best-before date.
    pub fn best_before(&self) -> Option<Date> {
        self.date_of("15")
    }

    /// (16) sell-by date.
    pub fn sell_by(&self) -> Option<Date> {
        self.date_of("16")
    }

    /// (11) production date.
    pub fn production_date(&self) -> Option<Date> {
        self.date_of("11")
    }

    /// (13) packaging date.
    pub fn pack_date(&self) -> Option<Date> {
        self.date_of("13")
    }

    /// The date that limits shelf life: (17) expiry, else (15) best before, else (16) sell by.
    pub fn shelf_life_end(&self) -> Option<Date> {
        self.expiry()
            .or_else(|| self.best_before())
            .or_else(|| self.sell_by())
    }

    /// (37) count of trade items in a logistic unit.
    pub fn count(&self) -> Option<u32> {
        self.value("37").and_then(|v| v.parse().ok())
    }

    /// (30) variable count of items.
    pub fn variable_count(&self) -> Option<u32> {
        self.value("30").and_then(|v| v.parse().ok())
    }

    fn measure(&self, kg_prefix: &str, lb_prefix: &str) -> Option<Measure> {
        self.elements.iter().find_map(|e| {
            let ai = e.ai.as_str();
            let unit = if ai.starts_with(kg_prefix) {
                MassUnit::Kilogram
            } else if ai.starts_with(lb_prefix) {
                MassUnit::Pound
            } else {
                return None;
            };
            Some(Measure {
                value: e.decimal?,
                unit,
            })
        })
    }

    /// (310n) net weight in kg, or (320n) in pounds.
    pub fn net_weight(&self) -> Option<Measure> {
        self.measure("310", "320")
    }

    /// (330n) gross weight in kg, or (340n) in pounds (logistic units).
    pub fn gross_weight(&self) -> Option<Measure> {
        self.measure("330", "340")
    }

    /// (400) the customer's purchase order number.
    pub fn order_number(&self) -> Option<&str> {
        self.value("400")
    }

    /// (414) GLN of a physical location, when its check digit is right.
    pub fn location_gln(&self) -> Option<&str> {
        self.keyed("414")
    }

    /// (410) ship-to GLN, when its check digit is right.
    pub fn ship_to_gln(&self) -> Option<&str> {
        self.keyed("410")
    }

    /// The first GLN of any kind (410-417) whose check digit is right.
    pub fn gln(&self) -> Option<&str> {
        self.elements
            .iter()
            .find(|e| e.ai.as_str().starts_with("41") && e.check_digit_ok == Some(true))
            .map(|e| e.value.as_str())
    }

    /// The text of a plain scan (a location, tote, license-plate or badge label).
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The first error, if any: what to show in large type.
    pub fn error(&self) -> Option<&ScanProblem> {
        self.errors.first()
    }
}

/// A mass with its unit, exactly as encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    pub value: Decimal,
    pub unit: MassUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MassUnit {
    #[serde(rename = "kg")]
    Kilogram,
    #[serde(rename = "lb")]
    Pound,
}

struct Pairs<'a>(&'a [Element]);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|e| (e.ai.as_str(), e.value.as_str())))
    }
}

/// An alternative reading, in short: enough to tell what else the scan could be.
struct AltView<'a>(&'a Scan);

impl Serialize for AltView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let mut st = s.serialize_struct("Alt", 6)?;
        st.serialize_field("kind", &a.kind)?;
        st.serialize_field("valid", &a.valid)?;
        st.serialize_field("pairs", &Pairs(&a.elements))?;
        st.serialize_field("error", &a.error())?;
        st.serialize_field("gtin", &a.gtin)?;
        st.serialize_field("text", &a.text)?;
        st.end()
    }
}

/// The JSON shape of `laituri scan` (compatible with the corpus' expected.jsonl).
impl Serialize for Scan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Scan", 13)?;
        st.serialize_field("data", &self.data)?;
        st.serialize_field("symbology", &self.symbology)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("valid", &self.valid)?;
        st.serialize_field("heuristic", &self.heuristic)?;
        st.serialize_field("error", &self.error())?;
        st.serialize_field("errors", &self.errors)?;
        st.serialize_field("warnings", &self.warnings)?;
        st.serialize_field("pairs", &Pairs(&self.elements))?;
        st.serialize_field("elements", &self.elements)?;
        st.serialize_field("gtin", &self.gtin)?;
        st.serialize_field("text", &self.text)?;
        let alt: Vec<AltView<'_>> = self.alt.iter().map(AltView).collect();
        st.serialize_field("alt", &alt)?;
        st.end()
    }
}

/// What a keyboard wedge adds around a scan: the Enter/Tab that ends it and padding spaces.
fn is_wedge_padding(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Interprets one raw scan. Never panics; everything wrong is in `errors`.
pub fn interpret(raw: &str, opts: &ScanOptions) -> Scan {
    let trimmed = raw.trim_matches(is_wedge_padding);
    if trimmed.is_empty() {
        let mut scan = Scan::new("", None, ScanKind::Empty);
        scan.errors.push(ScanProblem::NothingScanned);
        return scan.finish();
    }
    if let Some((sym, data)) = split_symbology(trimmed) {
        return match sym.framing() {
            Framing::Gs1 => element_strings(data, Some(sym), opts),
            Framing::Ean => ean(data, sym),
            Framing::Other => {
                let mut scan = plain(data, Some(sym));
                if data.is_empty() {
                    scan.errors.push(ScanProblem::NoData {
                        symbology: sym.id().to_string(),
                    });
                }
                scan.finish()
            }
        };
    }
    if trimmed.starts_with('(') {
        return bracketed(trimmed, opts);
    }
    let is_sep = |c: char| c == '\u{1d}' || Some(c) == opts.fnc1_substitute;
    if trimmed.contains(is_sep) {
        return element_strings(trimmed, None, opts);
    }
    guess(trimmed, opts)
}

fn element_strings(data: &str, sym: Option<Symbology>, opts: &ScanOptions) -> Scan {
    let mut scan = Scan::new(data, sym, ScanKind::Gs1);
    if data.is_empty() {
        scan.errors.push(ScanProblem::Gs1NoData);
        return scan.finish();
    }
    let mut parsed = gs1::parse_raw(data, opts.fnc1_substitute, opts.today);
    gs1::check_repeats(&mut parsed);
    fill_gs1(scan, parsed)
}

fn bracketed(data: &str, opts: &ScanOptions) -> Scan {
    let scan = Scan::new(data, None, ScanKind::Gs1);
    let mut parsed = gs1::parse_bracketed(data, opts.today);
    gs1::check_repeats(&mut parsed);
    fill_gs1(scan, parsed)
}

fn fill_gs1(mut scan: Scan, parsed: gs1::Parsed) -> Scan {
    scan.gtin = ["01", "02"]
        .iter()
        .find_map(|ai| parsed.elements.iter().find(|e| e.ai == *ai))
        .and_then(|e| Gtin::from_digits(&e.value));
    scan.elements = parsed.elements;
    scan.errors.extend(parsed.errors);
    scan.warnings.extend(parsed.warnings);
    scan.finish()
}

fn gtin_error(g: &Gtin) -> Option<ScanProblem> {
    (!g.check_digit_ok).then(|| ScanProblem::GtinCheckDigit {
        digits: g.digits.clone(),
        expected: g.expected_check_digit,
        scanned: g.digits.chars().last().unwrap_or('?'),
    })
}

/// EAN/UPC and ITF-14, whose symbology identifier says how many digits to expect.
fn ean(data: &str, sym: Symbology) -> Scan {
    let mut scan = Scan::new(data, Some(sym), ScanKind::Gtin);
    let name = match sym.id() {
        "]E0" => "EAN-13/UPC-A",
        "]E3" => "EAN/UPC with add-on",
        "]E4" => "EAN-8",
        _ => "ITF-14",
    };
    if data.is_empty() {
        scan.errors.push(ScanProblem::NoDigits { name });
        return scan.finish();
    }
    if !data.bytes().all(|b| b.is_ascii_digit()) {
        scan.errors.push(ScanProblem::NonDigits {
            name,
            data: data.to_string(),
        });
        return scan.finish();
    }
    let wrong_length = |want: &'static str| ScanProblem::WrongLength {
        name,
        symbology: sym.id().to_string(),
        want,
        got: data.len(),
    };
    let len = data.len();
    match (sym.id(), len) {
        ("]E0", 13) | ("]E4", 8) | ("]I1", 14) => scan.gtin = Gtin::from_digits(data),
        ("]E0", 12) => {
            // AIM sends UPC-A as 13 digits with a leading 0; some scanners drop it.
            scan.warnings.push(ScanNote::UpcaTwelveDigits);
            scan.gtin = Gtin::from_digits(data);
        }
        ("]E0", 8) => {
            // AIM sends UPC-E expanded to 13 digits; some scanners send the 8-digit form.
            scan.warnings.push(ScanNote::UpceEightDigits);
            match expand_upce(data).and_then(|upca| Gtin::from_digits(&upca)) {
                Some(g) if g.check_digit_ok => scan.gtin = Some(g),
                Some(g) => {
                    // A misread UPC-E is not expanded into a GTIN-12 the label never carried.
                    scan.errors.push(ScanProblem::UpceCheckDigit {
                        data: data.to_string(),
                        expected: g.expected_check_digit,
                        scanned: data[7..].to_string(),
                    });
                }
                None => scan.errors.push(ScanProblem::NotUpce {
                    data: data.to_string(),
                }),
            }
        }
        ("]E3", 15 | 18) => {
            scan.gtin = Gtin::from_digits(&data[..13]).map(|mut g| {
                g.addon = Some(data[13..].to_string());
                g
            });
        }
        ("]E3", _) => scan.errors.push(wrong_length("13+2 or 13+5")),
        (id, _) => {
            scan.errors.push(wrong_length(match id {
                "]E0" => "13",
                "]E4" => "8",
                _ => "14",
            }));
            // Still show the GTIN when the digits make one, to help compare with the label.
            scan.gtin = Gtin::from_digits(data);
        }
    }
    if let Some(e) = scan.gtin.as_ref().and_then(gtin_error) {
        scan.errors.push(e);
    }
    scan.finish()
}

/// Plain text. Control characters cannot come from a printed label: they mean a scanner set up
/// wrongly, so they are errors; other non-ASCII text is allowed but noted.
fn plain(data: &str, sym: Option<Symbology>) -> Scan {
    let mut scan = Scan::new(data, sym, ScanKind::Plain);
    scan.text = Some(data.to_string());
    if let Some(c) = data.chars().find(|c| c.is_control()) {
        scan.errors
            .push(ScanProblem::ControlCharacter { code: c as u32 });
    }
    if !data.is_ascii() {
        scan.warnings.push(ScanNote::NonAscii);
    }
    scan.finish()
}

/// Rules 4-6 of the module docs.
fn guess(data: &str, opts: &ScanOptions) -> Scan {
    let as_gs1 = || {
        let mut s = element_strings(data, None, opts);
        s.heuristic = true;
        s
    };
    let all_digits = data.bytes().all(|b| b.is_ascii_digit());
    let mut scan = if all_digits && matches!(data.len(), 8 | 12 | 13 | 14) {
        let mut scan = Scan::new(data, None, ScanKind::Gtin);
        scan.gtin = Gtin::from_digits(data);
        if let Some(e) = scan.gtin.as_ref().and_then(gtin_error) {
            scan.errors.push(e);
        }
        let mut scan = scan.finish();
        let alt = as_gs1();
        if alt.valid {
            scan.alt.push(alt);
        }
        scan
    } else {
        let gs1 = as_gs1();
        if gs1.valid {
            let mut scan = gs1;
            let mut text = plain(data, None);
            text.heuristic = true;
            scan.alt.push(text);
            scan
        } else {
            let mut scan = plain(data, None);
            // A leading "]" is a damaged symbology identifier, not an element string.
            if !data.starts_with(']') {
                scan.alt.push(gs1);
            }
            scan
        }
    };
    scan.heuristic = true;
    scan
}
