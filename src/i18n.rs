//! Every text of the terminal in the operator's language, from one kind of catalogue.
//!
//! The screens' fixed labels (`@tr("…")` in the .slint files) and the messages the Rust code
//! composes ([`tr!`] and [`trn!`]) both use English as the message id and take their Finnish and
//! Swedish from the same gettext catalogue per language,
//! `ui/translations/<lang>/LC_MESSAGES/laituri.po`. Slint bundles the labels it uses at build
//! time; `build.rs` turns the same files into the sorted tables this module searches. A message
//! missing from a catalogue shows in English rather than not at all; the test
//! `tests/translations.rs` fails the build long before that reaches a screen.
//!
//! Placeholders are named (`{name}`, `{quantity}`); numbers and dates passed as [`Arg`] are
//! written the way the language writes them ("1 234" in Finnish, "1,234" in English).

use std::fmt::Write as _;

use laituri_domain::calendar::Date;

/// The languages the terminal speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Fi,
    Sv,
}

mod generated {
    include!(concat!(env!("OUT_DIR"), "/catalogues.rs"));
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Fi, Lang::Sv];

    /// The tag of the language's catalogue (ui/translations/<tag>) and of operators' records.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fi => "fi",
            Lang::Sv => "sv",
        }
    }

    /// The language of a tag such as "fi", "sv-FI" or "en_GB"; English for anything unknown.
    pub fn from_tag(tag: &str) -> Lang {
        match tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "fi" => Lang::Fi,
            "sv" => Lang::Sv,
            _ => Lang::En,
        }
    }

    /// The entries of the language's catalogue, sorted by message id (empty for English, the
    /// language of the ids).
    pub fn catalogue(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            Lang::En => &[],
            Lang::Fi => generated::FI,
            Lang::Sv => generated::SV,
        }
    }
}

/// The translation of `msgid` (English) into `lang`, or `msgid` itself when there is none.
pub fn translate(lang: Lang, msgid: &'static str) -> &'static str {
    forms(lang, msgid)
        .and_then(|f| f.first().copied())
        .unwrap_or(msgid)
}

/// The form for `n` of a message with a singular and a plural id. All three languages have two
/// forms, the first for exactly one.
pub fn translate_plural(
    lang: Lang,
    singular: &'static str,
    plural: &'static str,
    n: i64,
) -> &'static str {
    let index = usize::from(n != 1);
    forms(lang, singular)
        .and_then(|f| f.get(index).copied())
        .unwrap_or(if index == 0 { singular } else { plural })
}

fn forms(lang: Lang, msgid: &str) -> Option<&'static [&'static str]> {
    let catalogue = lang.catalogue();
    catalogue
        .binary_search_by(|(id, _)| (*id).cmp(msgid))
        .ok()
        .map(|i| catalogue[i].1)
        .filter(|forms| forms.iter().all(|f| !f.is_empty()))
}

/// A value for a placeholder.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Text(&'a str),
    Number(i64),
    Date(Date),
}

/// What can fill a placeholder: text as it is, integers and dates in the language's format.
pub trait ToArg {
    fn to_arg(&self) -> Arg<'_>;
}

impl ToArg for str {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}

impl ToArg for String {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}

impl ToArg for Date {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Date(*self)
    }
}

impl<T: ToArg + ?Sized> ToArg for &T {
    fn to_arg(&self) -> Arg<'_> {
        (**self).to_arg()
    }
}

macro_rules! integer_args {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn to_arg(&self) -> Arg<'_> {
                Arg::Number(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
integer_args!(i32, i64, u32, u64, usize);

/// `template` with each `{name}` replaced by its argument in `lang`'s format. A placeholder
/// without an argument stays as written, so a mistake shows instead of vanishing.
pub fn fill(lang: Lang, template: &str, args: &[(&str, Arg<'_>)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        match args.iter().find(|(n, _)| *n == name) {
            Some((_, Arg::Text(t))) => out.push_str(t),
            Some((_, Arg::Number(n))) => out.push_str(&number(lang, *n)),
            Some((_, Arg::Date(d))) => out.push_str(&date(lang, *d)),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// An integer as the language writes it: digits grouped by three from 10,000 up in Finnish and
/// Swedish (with a no-break space, so a quantity never wraps) and from 1,000 up in English.
pub fn number(lang: Lang, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let (separator, from) = match lang {
        Lang::En => (",", 4),
        Lang::Fi | Lang::Sv => ("\u{a0}", 5),
    };
    let mut out = String::with_capacity(digits.len() + 8);
    if n < 0 {
        out.push('-');
    }
    if digits.len() < from {
        out.push_str(&digits);
        return out;
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

/// A decimal number written with a point ("1.25"), as the language writes it: a decimal comma
/// in Finnish and Swedish.
pub fn decimal(lang: Lang, written: &str) -> String {
    match lang {
        Lang::En => written.to_string(),
        Lang::Fi | Lang::Sv => written.replace('.', ","),
    }
}

/// A date as the language writes it: 31.1.2027 in Finnish, 2027-01-31 in Swedish, 31 Jan 2027
/// in English (no day/month order to guess).
pub fn date(lang: Lang, d: Date) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut out = String::with_capacity(12);
    let _ = match lang {
        Lang::Fi => write!(out, "{}.{}.{}", d.day, d.month, d.year),
        Lang::Sv => write!(out, "{d}"),
        Lang::En => write!(
            out,
            "{} {} {}",
            d.day,
            MONTHS[usize::from(d.month.clamp(1, 12)) - 1],
            d.year
        ),
    };
    out
}

/// A message in `lang`: `tr!(lang, "Put {quantity} × {name} into {bin}.", quantity, name, bin)`
/// or with values named explicitly, `tr!(lang, "{name} is open.", name = job.label)`. The id is
/// the English text; `tests/translations.rs` finds every id in the sources.
#[macro_export]
macro_rules! tr {
    (@value $name:ident) => { $name };
    (@value $name:ident = $value:expr) => { $value };
    ($lang:expr, $msgid:literal $(, $name:ident $(= $value:expr)?)* $(,)?) => {
        $crate::i18n::fill(
            $lang,
            $crate::i18n::translate($lang, $msgid),
            &[$((
                stringify!($name),
                $crate::i18n::ToArg::to_arg(&$crate::tr!(@value $name $(= $value)?)),
            )),*],
        )
    };
}

/// A message with a singular and a plural form, chosen by the count `n` (also a placeholder):
/// `trn!(lang, "{n} line", "{n} lines", n)`.
#[macro_export]
macro_rules! trn {
    ($lang:expr, $singular:literal, $plural:literal, $n:expr $(, $name:ident $(= $value:expr)?)* $(,)?) => {{
        let n = i64::try_from($n).unwrap_or(i64::MAX);
        $crate::i18n::fill(
            $lang,
            $crate::i18n::translate_plural($lang, $singular, $plural, n),
            &[("n", $crate::i18n::Arg::Number(n)) $(, (
                stringify!($name),
                $crate::i18n::ToArg::to_arg(&$crate::tr!(@value $name $(= $value)?)),
            ))*],
        )
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_as_each_language_writes_them() {
        for (lang, n, want) in [
            (Lang::En, 999, "999"),
            (Lang::En, 1234, "1,234"),
            (Lang::En, -1_234_567, "-1,234,567"),
            (Lang::Fi, 1234, "1234"),
            (Lang::Fi, 12_345, "12\u{a0}345"),
            (Lang::Sv, 1_234_567, "1\u{a0}234\u{a0}567"),
            (Lang::Fi, 0, "0"),
        ] {
            assert_eq!(number(lang, n), want, "{lang:?} {n}");
        }
    }

    #[test]
    fn dates_are_written_as_each_language_writes_them() {
        let d = Date::new(2027, 1, 31).unwrap();
        assert_eq!(date(Lang::Fi, d), "31.1.2027");
        assert_eq!(date(Lang::Sv, d), "2027-01-31");
        assert_eq!(date(Lang::En, d), "31 Jan 2027");
    }

    #[test]
    fn placeholders_take_their_arguments_and_a_missing_one_stays_visible() {
        let quantity = 12_000u32;
        let name = "Oat drink";
        assert_eq!(
            tr!(Lang::Fi, "{quantity} × {name} into {bin}.", quantity, name),
            // The Finnish text and number format; `bin` was not given, so it shows as it is.
            "12\u{a0}000 × Oat drink paikkaan {bin}."
        );
        assert_eq!(fill(Lang::En, "unclosed {brace", &[]), "unclosed {brace");
    }

    #[test]
    fn tags_choose_the_language() {
        assert_eq!(Lang::from_tag("sv-FI"), Lang::Sv);
        assert_eq!(Lang::from_tag("FI"), Lang::Fi);
        assert_eq!(Lang::from_tag("de"), Lang::En);
        assert_eq!(Lang::from_tag(""), Lang::En);
    }
}
