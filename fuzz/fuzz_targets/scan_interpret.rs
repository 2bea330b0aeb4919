//! Fuzzes the scan interpreter: no input may panic, and the result must hold together.
//!
//! The first byte picks the options (FNC1 substitute, "today" across a century boundary); the
//! rest is the scan, also run through the corpus line escapes so escaped control characters and
//! separators are reached quickly.
#![no_main]

use laituri_domain::calendar::Date;
use laituri_domain::scan::{self, ScanKind, ScanOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let subst = match mode % 4 {
        0 => None,
        1 => Some('~'),
        2 => Some('^'),
        _ => Some('§'),
    };
    let today = if mode & 4 == 0 {
        Date::new(2026, 1, 1).unwrap()
    } else {
        Date::new(2099, 12, 31).unwrap()
    };
    let opts = ScanOptions {
        today,
        fnc1_substitute: subst,
    };
    let text = String::from_utf8_lossy(rest);
    for raw in [text.to_string(), scan::escape::unescape(&text)] {
        let s = scan::interpret(&raw, &opts);
        assert_eq!(s.valid, s.kind != ScanKind::Empty && s.errors.is_empty());
        if s.kind != ScanKind::Gs1 {
            assert!(s.elements.is_empty());
        }
        for e in &s.elements {
            assert!(!e.value.is_empty());
        }
        if let Some(g) = s.gtin14() {
            assert_eq!(g.len(), 14);
        }
        serde_json::to_string(&s).unwrap();
    }
});
