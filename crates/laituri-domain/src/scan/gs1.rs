//! GS1 element strings: a run of (AI, value) pairs, as a barcode carries them or as a person
//! types them in brackets.
//!
//! Owns the two parsers (the raw form with FNC1 separators, and the bracketed human-readable
//! form `(01)...(17)...`), the matching of each value against its format from `ai_table`, and
//! the typed reading of each value (check digit, date, time, decimal). It must never decide what
//! kind of scan something is (that is `mod.rs`), and never look at more than a bounded window
//! per element: every loop moves forward, so the work is linear in the length of the scan.

use std::collections::{HashMap, HashSet};

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::ai_table::{self, Ai, AiDef, Comp, Cset, Lint};
use super::date::{self, Date, Time};
use super::decimal::Decimal;
use super::gtin;
use super::problem::{ScanNote, ScanProblem};

/// One element string: an AI and its value, with what the value means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub ai: Ai,
    pub value: String,
    pub title: &'static str,
    /// The AI has no pre-defined length: a separator (FNC1) must follow it unless it ends the data.
    pub fnc1: bool,
    /// For AIs that carry a GS1 key with a mod-10 check digit (GTIN, SSCC, GLN, GRAI ...).
    pub check_digit_ok: Option<bool>,
    /// The check digit the key should have had; only set when the scanned one is wrong.
    pub expected_check_digit: Option<u8>,
    pub date: Option<Date>,
    /// The second date of a range: the end of the harvest period of (7007).
    pub end_date: Option<Date>,
    /// The time of day that goes with `date`, for (7003), (8008), (4324) ...
    pub time: Option<Time>,
    pub decimal: Option<Decimal>,
    /// The ISO 4217 numeric currency code in front of the amount of (391n) and (393n).
    pub currency: Option<String>,
}

impl Serialize for Element {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("ai", &self.ai)?;
        m.serialize_entry("value", &self.value)?;
        m.serialize_entry("title", self.title)?;
        m.serialize_entry("fnc1", &self.fnc1)?;
        if let Some(ok) = self.check_digit_ok {
            m.serialize_entry("check_digit_ok", &ok)?;
        }
        if let Some(d) = self.expected_check_digit {
            m.serialize_entry("expected_check_digit", &d)?;
        }
        if let Some(d) = self.date {
            m.serialize_entry("date", &d)?;
        }
        if let (Some(d), Some(t)) = (self.date, self.time) {
            m.serialize_entry("datetime", &format!("{d}T{t}"))?;
        }
        if let Some(d) = self.end_date {
            m.serialize_entry("end_date", &d)?;
        }
        if let Some(d) = self.decimal {
            m.serialize_entry("decimal", &d)?;
        }
        if let Some(c) = &self.currency {
            m.serialize_entry("currency", c)?;
        }
        m.end()
    }
}

/// What one parser run found.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub elements: Vec<Element>,
    pub errors: Vec<ScanProblem>,
    pub warnings: Vec<ScanNote>,
}

/// How far a value conforms to a format.
struct Match {
    /// Length of the longest prefix that is a complete value.
    accept: Option<usize>,
}

/// Matches the longest complete value at the start of `s`. Components are taken in order, each
/// as long as it may be: only the last component may vary in length and optional components
/// come last, so greedy is exact. Looks at no more than the format's maximum length.
fn match_prefix(spec: &[Comp], s: &[u8], stop: Option<u8>) -> Match {
    let mut pos = 0;
    let mut accept = None;
    for comp in spec {
        if comp.optional {
            // Everything before an optional component is a complete value already.
            accept = Some(pos);
        }
        let mut n = 0;
        while n < usize::from(comp.max)
            && pos + n < s.len()
            && Some(s[pos + n]) != stop
            && comp.cset.accepts(s[pos + n])
        {
            n += 1;
        }
        if n < usize::from(comp.min) {
            return Match { accept };
        }
        pos += n;
    }
    Match { accept: Some(pos) }
}

/// Reads a value that already matches its format: check digits, dates, times, decimals.
/// `Err` when the value cannot be what it claims (30 February, hour 24).
fn read_value(
    ai: Ai,
    def: &'static AiDef,
    value: &str,
    today: Date,
) -> Result<Element, ScanProblem> {
    let mut el = Element {
        ai,
        value: value.to_string(),
        title: def.title,
        fnc1: !def.predefined,
        check_digit_ok: None,
        expected_check_digit: None,
        date: None,
        end_date: None,
        time: None,
        decimal: None,
        currency: None,
    };
    let mut rest = value;
    let mut time: Option<Time> = None;
    for comp in def.spec {
        if rest.is_empty() {
            break; // only optional components can be missing: the value matched the format
        }
        let take = if comp.min == comp.max {
            usize::from(comp.max)
        } else {
            rest.len().min(usize::from(comp.max))
        };
        let (piece, tail) = rest.split_at(take.min(rest.len()));
        rest = tail;
        let bad_date = || ScanProblem::NotADate {
            ai,
            title: def.title,
            value: piece.to_string(),
        };
        let bad_time = || ScanProblem::NotATime {
            ai,
            title: def.title,
            value: piece.to_string(),
        };
        match comp.lint {
            Lint::None => {}
            Lint::Csum => {
                if let Some((ok, expected)) = gtin::verify(piece) {
                    el.check_digit_ok = Some(ok);
                    if !ok {
                        el.expected_check_digit = Some(expected);
                    }
                }
            }
            Lint::Yymmd0 | Lint::Yymmdd => {
                let d = date::parse_yymmdd(piece, comp.lint == Lint::Yymmd0, today)
                    .ok_or_else(bad_date)?;
                if el.date.is_none() {
                    el.date = Some(d);
                } else {
                    el.end_date = Some(d);
                }
            }
            Lint::Yyyymmdd => el.date = Some(date::parse_yyyymmdd(piece).ok_or_else(bad_date)?),
            Lint::Hh => {
                let hour = date::parse_hour(piece).ok_or_else(bad_time)?;
                time = Some(Time {
                    hour,
                    minute: 0,
                    second: 0,
                });
            }
            Lint::Mi => {
                let minute = date::parse_minute(piece).ok_or_else(bad_time)?;
                if let Some(t) = time.as_mut() {
                    t.minute = minute;
                }
            }
            Lint::Ss => {
                let second = date::parse_minute(piece).ok_or_else(bad_time)?;
                if let Some(t) = time.as_mut() {
                    t.second = second;
                }
            }
            Lint::Hhmi => {
                let (h, m) = piece.split_at(2.min(piece.len()));
                time = Some(Time {
                    hour: date::parse_hour(h).ok_or_else(bad_time)?,
                    minute: date::parse_minute(m).ok_or_else(bad_time)?,
                    second: 0,
                });
            }
        }
    }
    el.time = time;
    if let Some((places, with_currency)) = ai_table::decimal_places(&ai) {
        let amount = if with_currency {
            let (cur, amount) = value.split_at(3.min(value.len()));
            el.currency = Some(cur.to_string());
            amount
        } else {
            value
        };
        el.decimal = Decimal::from_digits(amount, places);
    }
    Ok(el)
}

/// The error for a wrong check digit; the element itself is kept (the value is well-formed,
/// and showing it helps the person compare with the label).
fn check_digit_error(el: &Element) -> Option<ScanProblem> {
    Some(ScanProblem::CheckDigit {
        ai: el.ai,
        title: el.title,
        expected: el.expected_check_digit?,
        scanned: el.value.chars().last().unwrap_or('?'),
    })
}

/// Scanned text as it may appear in a one-line message: control characters escaped, long
/// garbage cut short.
fn shown(s: &str) -> String {
    const MAX: usize = 40;
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

fn push(out: &mut Parsed, el: Element) {
    if let Some(e) = check_digit_error(&el) {
        out.errors.push(e);
    }
    out.elements.push(el);
}

/// Parses the raw form: element strings back to back, variable-length values ended by a
/// separator (GS, or the configured FNC1 substitute) unless they end the data. Parsing stops at
/// the first value that does not fit its AI: what follows it cannot be framed reliably.
pub(crate) fn parse_raw(data: &str, subst: Option<char>, today: Date) -> Parsed {
    let mut out = Parsed::default();
    let is_sep = |c: char| c == '\u{1d}' || Some(c) == subst;
    let ascii_stop = subst.filter(char::is_ascii).map(|c| c as u8);
    let bytes = data.as_bytes();
    let sep_len_at = |pos: usize| -> Option<usize> {
        let c = data[pos..].chars().next()?;
        is_sep(c).then(|| c.len_utf8())
    };

    let mut pos = 0;
    let mut leading = 0;
    while let Some(len) = sep_len_at(pos) {
        pos += len;
        leading += 1;
    }
    if leading > 0 {
        out.warnings.push(ScanNote::LeadingSeparators);
    }
    if pos == data.len() {
        out.errors.push(ScanProblem::NoElements);
        return out;
    }

    while pos < data.len() {
        let Some((ai, def)) = ai_table::lookup_prefix(&bytes[pos..]) else {
            out.errors.push(ScanProblem::NoAi {
                at: shown(&data[pos..]),
            });
            return out;
        };
        let ai_start = pos;
        let start = pos + ai.len();
        let window = &bytes[start..bytes.len().min(start + def.max_len() + 1)];
        let m = match_prefix(def.spec, window, ascii_stop);
        let Some(len) = m.accept else {
            out.errors.push(ScanProblem::DoesNotFit {
                ai,
                title: def.title,
                format: def.format(),
                at: shown(&data[pos..]),
            });
            return out;
        };
        let end = start + len;
        // A match ends at an ASCII byte or at the end, so `end` is a char boundary.
        let value = &data[start..end];
        let el = match read_value(ai, def, value, today) {
            Ok(el) => el,
            Err(e) => {
                out.errors.push(e);
                return out;
            }
        };
        push(&mut out, el);
        pos = end;
        if pos == data.len() {
            break;
        }
        if sep_len_at(pos).is_some() {
            let mut count = 0;
            while let Some(len) = sep_len_at(pos) {
                pos += len;
                count += 1;
            }
            if count > 1 {
                out.warnings
                    .push(ScanNote::RepeatedSeparators { count, ai });
            }
            continue;
        }
        // The standard's table of pre-defined lengths, by the first two digits, decides whether
        // the next AI may follow without FNC1 (the AI table's flag agrees; a unit test holds it).
        if ai_table::predefined_length(&bytes[ai_start..ai_start + 2]).is_some() {
            continue; // the next AI follows directly
        }
        let c = data[pos..].chars().next().unwrap_or('?');
        let last = def.spec.last().map(|c| c.cset).unwrap_or(Cset::Cset82);
        if c.is_ascii() && last.accepts(c as u8) {
            out.errors.push(ScanProblem::TooLong {
                ai,
                title: def.title,
                format: def.format(),
            });
        } else {
            out.errors.push(ScanProblem::BadCharacter {
                character: c.escape_debug().to_string(),
                ai,
                title: def.title,
                offset: pos,
            });
        }
        return out;
    }
    out
}

/// Parses the bracketed human-readable form, `(01)09506000134352(10)ABC`, as a person types it
/// from the text under a barcode. Spaces around values are ignored; `\(` is a literal bracket in
/// a value. Each value must fit its AI exactly: there is no FNC1 to frame it, the brackets do.
pub(crate) fn parse_bracketed(data: &str, today: Date) -> Parsed {
    let mut out = Parsed::default();
    let bytes = data.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        // "(" 2-4 digits ")"
        let digits_end = bytes[pos + 1..]
            .iter()
            .take(5)
            .position(|b| !b.is_ascii_digit())
            .map(|i| pos + 1 + i);
        let ai_ok = bytes[pos] == b'('
            && matches!(digits_end, Some(e) if (2..=4).contains(&(e - pos - 1)) && bytes[e] == b')');
        let Some(close) = digits_end.filter(|_| ai_ok) else {
            out.errors
                .push(ScanProblem::ExpectedBracket { offset: pos });
            return out;
        };
        let ai_text = &data[pos + 1..close];
        let Some((ai, def)) = ai_table::lookup_exact(ai_text.as_bytes()) else {
            out.errors.push(ScanProblem::UnknownAi {
                ai: ai_text.to_string(),
            });
            return out;
        };
        // The value runs to the next unescaped "(".
        let mut value = String::new();
        let mut i = close + 1;
        while i < bytes.len() && bytes[i] != b'(' {
            if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'(') {
                value.push('(');
                i += 2;
                continue;
            }
            let c = data[i..].chars().next().unwrap_or('?');
            value.push(c);
            i += c.len_utf8();
        }
        pos = i;
        let value = value.trim_matches(' ');
        if value.is_empty() {
            out.errors.push(ScanProblem::EmptyValue {
                ai,
                title: def.title,
            });
            return out;
        }
        let fits = value.len() <= def.max_len()
            && match_prefix(def.spec, value.as_bytes(), None).accept == Some(value.len());
        if !fits {
            out.errors.push(ScanProblem::TypedDoesNotFit {
                value: shown(value),
                ai,
                title: def.title,
                format: def.format(),
            });
            return out;
        }
        match read_value(ai, def, value, today) {
            Ok(el) => push(&mut out, el),
            Err(e) => {
                out.errors.push(e);
                return out;
            }
        }
    }
    out
}

/// The same AI twice with different values contradicts itself (two lots on one item); the same
/// AI twice with the same value is harmless (a label printed with overlapping barcodes).
/// One pass with a map from AI to its first value: linear in the number of elements.
pub(crate) fn check_repeats(parsed: &mut Parsed) {
    let mut first: HashMap<Ai, usize> = HashMap::new();
    let mut reported: HashSet<Ai> = HashSet::new();
    for (i, el) in parsed.elements.iter().enumerate() {
        let j = *first.entry(el.ai).or_insert(i);
        if parsed.elements[j].value != el.value && reported.insert(el.ai) {
            parsed.errors.push(ScanProblem::Repeated {
                ai: el.ai,
                title: el.title,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date {
        year: 2026,
        month: 1,
        day: 1,
    };

    /// (ai, value) pairs and whether errors were found.
    fn pairs(p: &Parsed) -> (Vec<(String, String)>, bool) {
        (
            p.elements
                .iter()
                .map(|e| (e.ai.to_string(), e.value.clone()))
                .collect(),
            p.errors.is_empty(),
        )
    }

    fn check_raw(data: &str, expect: &[(&str, &str)], ok: bool) {
        let p = parse_raw(data, Some('~'), TODAY);
        let want: Vec<_> = expect
            .iter()
            .map(|(a, v)| (a.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs(&p), (want, ok), "{data:?}: {:?}", p.errors);
    }

    #[test]
    fn raw_cases() {
        check_raw("0112345678901231", &[("01", "12345678901231")], true);
        check_raw("0112345678901234", &[("01", "12345678901234")], false);
        check_raw("011234567890123", &[], false);
        check_raw("01123456789012312", &[("01", "12345678901231")], false);
        check_raw(
            "0112345678901231\u{1d}991234",
            &[("01", "12345678901231"), ("99", "1234")],
            true,
        );
        check_raw("2421234567", &[("242", "123456")], false);
        check_raw("8111123", &[], false);
        check_raw("700721122521", &[("7007", "211225")], false);
        check_raw("7007211225211231", &[("7007", "211225211231")], true);
        check_raw("4235285", &[("423", "528")], false);
        check_raw("423528528", &[("423", "528528")], true);
        check_raw("723012", &[], false);
        check_raw("99~ABC", &[], false);
        check_raw("99ABC~", &[("99", "ABC")], true);
        check_raw("10AB|CD", &[("10", "AB")], false);
        check_raw("1726023017", &[], false);
        check_raw("7258 1/2", &[], false);
        check_raw("72581/2", &[("7258", "1/2")], true);
        check_raw(
            "8003021123456789000ABC",
            &[("8003", "021123456789000ABC")],
            true,
        );
        check_raw("3106012345", &[], false);
        check_raw("~", &[], false);
        check_raw("\u{1d}\u{1d}10A", &[("10", "A")], true);
    }

    #[test]
    fn raw_reads_dates_times_and_decimals() {
        let p = parse_raw(
            "31030123458008271231151017\u{1d}1727020039329781234",
            None,
            TODAY,
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let e = &p.elements;
        assert_eq!(e[0].decimal.unwrap().to_string(), "12.345");
        assert_eq!(e[1].date.unwrap().to_string(), "2027-12-31");
        assert_eq!(e[1].time.unwrap().to_string(), "15:10:17");
        assert_eq!(e[2].date.unwrap().to_string(), "2027-02-28");
        assert_eq!(e[3].decimal.unwrap().to_string(), "12.34");
        assert_eq!(e[3].currency.as_deref(), Some("978"));
    }

    fn check_hri(data: &str, expect: &[(&str, &str)], ok: bool) {
        let p = parse_bracketed(data, TODAY);
        let want: Vec<_> = expect
            .iter()
            .map(|(a, v)| (a.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs(&p), (want, ok), "{data:?}: {:?}", p.errors);
    }

    #[test]
    fn bracketed_cases() {
        check_hri(
            "(01)09506000134352(10)LOT1",
            &[("01", "09506000134352"), ("10", "LOT1")],
            true,
        );
        check_hri(
            "(01) 09506000134352 (10) ABC",
            &[("01", "09506000134352"), ("10", "ABC")],
            true,
        );
        check_hri("(10)AB\\(C)", &[("10", "AB(C)")], true);
        check_hri("(10)AB CD", &[], false);
        check_hri("(01)095060001343520", &[], false);
        check_hri("(10)", &[], false);
        check_hri("(89)ABC", &[], false);
        check_hri("(1A)1", &[], false);
        check_hri("(12345)1", &[], false);
        check_hri("(", &[], false);
        check_hri("(01", &[], false);
        check_hri("(4326)201200", &[], false);
        check_hri("(4324)2012002359", &[("4324", "2012002359")], true);
        check_hri("(01)09506000134353", &[("01", "09506000134353")], false);
    }

    #[test]
    fn repeats() {
        let mut p = parse_raw("10A\u{1d}10A", None, TODAY);
        check_repeats(&mut p);
        assert!(p.errors.is_empty());
        let mut p = parse_raw("10A\u{1d}10B\u{1d}10A", None, TODAY);
        check_repeats(&mut p);
        assert_eq!(p.errors.len(), 1);
    }
}
