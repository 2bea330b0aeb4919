//! Every text of the terminal exists in Finnish and Swedish, with the same placeholders as the
//! English original: the ids are found the way gettext's extractor finds them, in the sources
//! (`@tr("…")` in ui/**/*.slint, `tr!(lang, "…")` and `trn!(lang, "…", "…", n)` in src/), and
//! looked up in the tables the terminal itself translates from (built from
//! ui/translations/<lang>/LC_MESSAGES/laituri.po). A catalogue entry no source uses fails too,
//! so the catalogues stay what the screens say.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use laituri::i18n::Lang;

/// One message id where it was found: the singular id, and the plural id of a plural message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Id {
    one: String,
    many: Option<String>,
    at: String,
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// The string literal that starts at `s[0] == '"'`, unescaped, and the rest after it.
fn literal(s: &str) -> (String, &str) {
    assert!(
        s.starts_with('"'),
        "a string literal must follow: {:.40}",
        s
    );
    let mut out = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &s[i + 2..]),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('\n') => {
                    // A line continuation: the next line's leading whitespace is not text.
                    let rest = chars.as_str();
                    let skipped = rest.len() - rest.trim_start().len();
                    for _ in 0..rest[..skipped].chars().count() {
                        chars.next();
                    }
                }
                other => panic!("an escape the test does not know: \\{other:?}"),
            },
            c => out.push(c),
        }
    }
    panic!("unterminated string literal: {:.40}", s)
}

/// The text from the first `"` on (after `call` and its first arguments).
fn from_quote(s: &str) -> &str {
    &s[s.find('"').expect("a literal message id")..]
}

fn rust_ids() -> Vec<Id> {
    let mut paths = Vec::new();
    files(Path::new("src"), "rs", &mut paths);
    let mut ids = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            let at = format!("{}:{}", path.display(), n + 1);
            let offset: usize = text.lines().take(n).map(|l| l.len() + 1).sum();
            for (call, plural) in [("tr!(", false), ("trn!(", true)] {
                let mut search = 0;
                while let Some(found) = line[search..].find(call) {
                    let start = offset + search + found + call.len();
                    let preceded_by_word = line[..search + found]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_');
                    search += found + call.len();
                    if preceded_by_word {
                        continue; // include_str!( and the like
                    }
                    let rest = &text[start..];
                    if rest.trim_start().starts_with('@') || rest.trim_start().starts_with('$') {
                        continue; // the macro's own rules
                    }
                    let (one, rest) = literal(from_quote(rest));
                    let many = plural.then(|| literal(from_quote(rest)).0);
                    ids.push(Id {
                        one,
                        many,
                        at: at.clone(),
                    });
                }
            }
        }
    }
    ids
}

fn slint_ids() -> Vec<Id> {
    let mut paths = Vec::new();
    files(Path::new("ui"), "slint", &mut paths);
    let mut ids = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rest = text.as_str();
        while let Some(found) = rest.find("@tr(") {
            let at = format!(
                "{}:{}",
                path.display(),
                text[..text.len() - rest.len() + found].lines().count()
            );
            let (one, after) = literal(rest[found + 4..].trim_start());
            assert!(
                !after.trim_start().starts_with("=>"),
                "{at}: translation contexts are not used; the catalogue has none"
            );
            let many = after
                .trim_start()
                .strip_prefix('|')
                .map(|p| literal(p.trim_start()).0);
            ids.push(Id { one, many, at });
            rest = after;
        }
    }
    ids
}

/// The placeholders of a text, sorted: `{name}`, `{}`, `{0}`.
fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push(rest[open..open + close + 1].to_string());
        rest = &rest[open + close + 1..];
    }
    out.sort();
    out
}

fn all_ids() -> Vec<Id> {
    let mut ids = rust_ids();
    ids.extend(slint_ids());
    ids
}

#[test]
fn the_sources_have_ids_to_check() {
    // A broken extractor would pass everything below: it must find the texts we know exist.
    let ids = all_ids();
    let has = |s: &str| ids.iter().any(|i| i.one == s);
    assert!(
        has("Scan your badge"),
        "a label of the login screen (.slint)"
    );
    assert!(has("Hello {name}. Choose a task."), "a message of src/");
    assert!(
        ids.iter().any(|i| i.many.as_deref() == Some("{n} lines")),
        "a plural message"
    );
    assert!(ids.len() > 150, "only {} ids found", ids.len());
}

#[test]
fn every_text_has_a_translation_with_the_same_placeholders_in_every_language() {
    let ids = all_ids();
    let mut problems = Vec::new();
    for id in &ids {
        if id.one.trim().is_empty() || id.one.trim() != id.one {
            problems.push(format!("{}: id {:?} is empty or padded", id.at, id.one));
        }
        for lang in Lang::ALL {
            if lang == Lang::En {
                continue; // the ids are the English texts
            }
            let catalogue = lang.catalogue();
            let Some((_, forms)) = catalogue.iter().find(|(msgid, _)| *msgid == id.one) else {
                problems.push(format!("{}: no {} for {:?}", id.at, lang.tag(), id.one));
                continue;
            };
            let wanted_forms = if id.many.is_some() { 2 } else { 1 };
            if forms.len() != wanted_forms || forms.iter().any(|f| f.is_empty()) {
                problems.push(format!(
                    "{}: {} has {} forms of {:?}, wanted {wanted_forms} non-empty",
                    id.at,
                    lang.tag(),
                    forms.len(),
                    id.one
                ));
                continue;
            }
            for (i, form) in forms.iter().enumerate() {
                let original = if i == 0 {
                    &id.one
                } else {
                    id.many.as_ref().unwrap()
                };
                if placeholders(form) != placeholders(original) {
                    problems.push(format!(
                        "{}: {} {:?} has placeholders {:?}, the original {:?} has {:?}",
                        id.at,
                        lang.tag(),
                        form,
                        placeholders(form),
                        original,
                        placeholders(original)
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_catalogue_entry_is_used_by_a_source() {
    let used: BTreeSet<String> = all_ids().into_iter().map(|i| i.one).collect();
    for lang in [Lang::Fi, Lang::Sv] {
        let stale: Vec<&str> = lang
            .catalogue()
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !used.contains(*id))
            .collect();
        assert!(
            stale.is_empty(),
            "ui/translations/{}: entries no source uses (remove them): {stale:#?}",
            lang.tag()
        );
    }
}

#[test]
fn the_plural_rule_is_the_one_the_terminal_applies() {
    // `i18n::translate_plural` picks the first form for exactly one, the second otherwise.
    for lang in [Lang::Fi, Lang::Sv] {
        let path = format!("ui/translations/{}/LC_MESSAGES/laituri.po", lang.tag());
        let po = std::fs::read_to_string(&path).unwrap();
        assert!(
            po.contains("Plural-Forms: nplurals=2; plural=(n != 1);"),
            "{path}: another plural rule needs i18n::translate_plural to follow it"
        );
    }
}

#[test]
fn a_missing_translation_shows_the_english_text() {
    // Not in any catalogue: the terminal still says something, in English.
    assert_eq!(
        laituri::i18n::translate(Lang::Sv, "no such message {x}"),
        "no such message {x}"
    );
    assert_eq!(
        laituri::i18n::translate(Lang::Sv, "Scan your badge"),
        "Skanna ditt passerkort"
    );
}
