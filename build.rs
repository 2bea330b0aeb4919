//! Compiles the Slint UI with its translations, and turns the same gettext catalogues into the
//! tables the Rust messages are translated from (`src/i18n.rs`): one catalogue per language for
//! every text of the terminal. Debug info is always on: the headless UI tests find elements
//! through it, and it costs nothing measurable at run time.

use std::fmt::Write as _;
use std::path::Path;

/// The languages besides English (the language of the message ids), in `src/i18n.rs`'s order.
const LANGUAGES: [(&str, &str); 2] = [("FI", "fi"), ("SV", "sv")];

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent-dark".into())
        .with_debug_info(true)
        // Texts of the screens in each operator's language: ui/translations/<lang>/LC_MESSAGES.
        .with_bundled_translations("ui/translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    println!("cargo:rerun-if-changed=ui/translations");
    slint_build::compile_with_config("ui/app.slint", config).expect("the Slint UI must compile");
    write_catalogues();
}

/// `$OUT_DIR/catalogues.rs`: per language a slice of (msgid, forms) sorted by msgid, the forms
/// being the one msgstr or the plural msgstrs. Fuzzy and obsolete entries are left out, so they
/// count as missing.
fn write_catalogues() {
    let mut out = String::new();
    for (name, tag) in LANGUAGES {
        let path = format!("ui/translations/{tag}/LC_MESSAGES/laituri.po");
        println!("cargo:rerun-if-changed={path}");
        let po = rspolib::pofile(Path::new(&path))
            .unwrap_or_else(|e| panic!("{path} must be a readable catalogue: {e}"));
        let mut entries: Vec<(String, Vec<String>)> = po
            .entries
            .iter()
            .filter(|e| !e.obsolete && !e.flags.iter().any(|f| f == "fuzzy"))
            .filter(|e| e.msgctxt.is_none())
            .map(|e| {
                let forms = if e.msgid_plural.is_some() {
                    e.msgstr_plural.clone()
                } else {
                    vec![e.msgstr.clone().unwrap_or_default()]
                };
                (e.msgid.clone(), forms)
            })
            .collect();
        entries.sort();
        entries.dedup_by(|a, b| a.0 == b.0);
        let _ = writeln!(out, "pub(super) static {name}: &[(&str, &[&str])] = &[");
        for (id, forms) in entries {
            let _ = writeln!(out, "    ({id:?}, &{forms:?}),");
        }
        out.push_str("];\n");
    }
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("catalogues.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
