//! Case tables for `interpret`: what the floor sees for each kind of scan.

use super::*;

fn opts() -> ScanOptions {
    ScanOptions {
        today: Date::parse_iso("2026-01-01").unwrap(),
        fnc1_substitute: Some('~'),
    }
}

/// (kind, valid, heuristic, pairs as "ai=value" joined by spaces, gtin14 or "")
fn check(raw: &str, kind: ScanKind, valid: bool, heuristic: bool, pairs: &str, gtin14: &str) {
    let s = interpret(raw, &opts());
    let got_pairs: Vec<String> = s.pairs().map(|(a, v)| format!("{a}={v}")).collect();
    let got_gtin = s.gtin.as_ref().map(|g| g.gtin14.as_str()).unwrap_or("");
    assert_eq!(
        (
            s.kind,
            s.valid,
            s.heuristic,
            got_pairs.join(" ").as_str(),
            got_gtin
        ),
        (kind, valid, heuristic, pairs, gtin14),
        "{raw:?}: errors {:?}",
        s.errors
    );
}

use ScanKind::{Empty, Gs1, Gtin as G, Plain};

#[test]
fn empty_and_wedge_noise() {
    check("", Empty, false, false, "", "");
    check("  \t\r\n", Empty, false, false, "", "");
    check("4006381333931\r\n", G, true, true, "", "04006381333931");
    check("  4006381333931\t", G, true, true, "", "04006381333931");
}

#[test]
fn symbology_identifiers() {
    check(
        "]C10109506000134352\u{1d}10ABC",
        Gs1,
        true,
        false,
        "01=09506000134352 10=ABC",
        "09506000134352",
    );
    check(
        "]d20109506000134352",
        Gs1,
        true,
        false,
        "01=09506000134352",
        "09506000134352",
    );
    check(
        "]Q30109506000134352",
        Gs1,
        true,
        false,
        "01=09506000134352",
        "09506000134352",
    );
    check(
        "]e00109506000134352",
        Gs1,
        true,
        false,
        "01=09506000134352",
        "09506000134352",
    );
    check(
        "]J10109506000134352",
        Gs1,
        true,
        false,
        "01=09506000134352",
        "09506000134352",
    );
    check("]C1", Gs1, false, false, "", "");
    check("]C00109506000134352", Plain, true, false, "", "");
    check(
        "]Q1https://id.gs1.org/01/09506000134352",
        Plain,
        true,
        false,
        "",
        "",
    );
    check("]Q1", Plain, false, false, "", "");
    check("]E04006381333931", G, true, false, "", "04006381333931");
    check("]E04006381333932", G, false, false, "", "04006381333932");
    check("]E0036000291452", G, true, false, "", "00036000291452");
    check("]E001234565", G, true, false, "", "00012345000065");
    check("]E001234566", G, false, false, "", "");
    check("]E450123452", G, true, false, "", "00000050123452");
    check("]E41234567", G, false, false, "", "");
    check("]E3590123412345712", G, true, false, "", "05901234123457");
    check("]E340063813339311", G, false, false, "", "");
    check("]I115901234123454", G, true, false, "", "15901234123454");
    check("]I012345678", Plain, true, false, "", "");
    check("]E0abc", G, false, false, "", "");
    check("]C1 0109506000134352", Gs1, false, false, "", "");
}

#[test]
fn ambiguous_scans_follow_the_documented_rule() {
    // GTIN lengths are GTINs, even with a wrong check digit; a valid GS1 reading is kept in alt.
    check("4006381333931", G, true, true, "", "04006381333931");
    check("17221231", G, false, true, "", "00000017221231");
    let s = interpret("17221231", &opts());
    assert_eq!(
        s.reading(Gs1)
            .and_then(|a| a.expiry())
            .map(|d| d.to_string())
            .as_deref(),
        Some("2022-12-31")
    );
    // Other lengths: a valid element string, else plain text.
    check(
        "0109506000134352",
        Gs1,
        true,
        true,
        "01=09506000134352",
        "09506000134352",
    );
    check("0109506000134353", Plain, true, true, "", "");
    check("10-01-02", Gs1, true, true, "10=-01-02", "");
    let s = interpret("10-01-02", &opts());
    assert_eq!(s.reading(Plain).and_then(Scan::text), Some("10-01-02"));
    check("A-01-02-3", Plain, true, true, "", "");
    check("1234567", Plain, true, true, "", "");
    check("]C", Plain, true, true, "", "");
    check("A-01\u{0}-02", Plain, false, true, "", "");
    // A separator or brackets settle it.
    check("10ABC\u{1d}21X", Gs1, true, false, "10=ABC 21=X", "");
    check(
        "~0109506000134352",
        Gs1,
        true,
        false,
        "01=09506000134352",
        "09506000134352",
    );
    check(
        "(01)09506000134352(17)270100",
        Gs1,
        true,
        false,
        "01=09506000134352 17=270100",
        "09506000134352",
    );
    check("(", Gs1, false, false, "", "");
}

#[test]
fn accessors_give_the_flows_typed_values() {
    let s = interpret(
        "]C101095060001343521727123110LOT-7\u{1d}21SER9\u{1d}3103001250\u{1d}37\u{31}2\u{1d}400PO-1\u{1d}4145901234123457",
        &opts(),
    );
    assert!(s.valid, "{:?}", s.errors);
    assert_eq!(s.gtin14(), Some("09506000134352"));
    assert_eq!(s.expiry(), Date::new(2027, 12, 31));
    assert_eq!(s.best_before(), Date::new(2025, 10, 31).filter(|_| false));
    assert_eq!(s.lot(), Some("LOT-7"));
    assert_eq!(s.serial(), Some("SER9"));
    let w = s.net_weight().unwrap();
    assert_eq!(
        (w.value.to_string().as_str(), w.unit),
        ("1.250", MassUnit::Kilogram)
    );
    assert_eq!(s.count(), Some(12));
    assert_eq!(s.order_number(), Some("PO-1"));
    assert_eq!(s.location_gln(), Some("5901234123457"));
    assert_eq!(s.gln(), Some("5901234123457"));
    assert_eq!(s.shelf_life_end(), Date::new(2027, 12, 31));

    let pallet = interpret(
        "]C100009506000100000018\u{1d}0209506000134352\u{1d}3724",
        &opts(),
    );
    assert_eq!(pallet.sscc(), Some("009506000100000018"));
    assert_eq!(pallet.gtin14(), Some("09506000134352"));
    assert!(pallet.gtin_is_content());
    assert_eq!(pallet.count(), Some(24));

    // Keys with a wrong check digit are never handed out.
    let bad = interpret("]C10109506000134353", &opts());
    assert_eq!(bad.gtin14(), None);
    assert!(!bad.valid);
    assert!(
        bad.error()
            .unwrap()
            .to_string()
            .contains("expected 2, scanned 3")
    );
}

#[test]
fn repeated_ais() {
    check("]C11010\u{1d}1010", Gs1, true, false, "10=10 10=10", "");
    check("]C110A\u{1d}10B", Gs1, false, false, "10=A 10=B", "");
}

#[test]
fn json_shape() {
    let s = interpret("]C10109506000134352172712313103000450", &opts());
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["kind"], "gs1");
    assert_eq!(v["symbology"]["id"], "]C1");
    assert_eq!(v["symbology"]["gs1"], true);
    assert_eq!(v["pairs"][0][0], "01");
    assert_eq!(v["gtin"]["gtin14"], "09506000134352");
    assert_eq!(v["gtin"]["check_digit_ok"], true);
    assert_eq!(v["elements"][1]["date"], "2027-12-31");
    assert_eq!(v["elements"][2]["decimal"], "0.450");
    assert_eq!(v["heuristic"], false);
    assert!(v["errors"].as_array().unwrap().is_empty());
}

/// No input may panic, and long inputs must not blow up: every loop in the parsers moves
/// forward through the data and looks at a bounded window per element.
#[test]
fn long_and_hostile_inputs_do_not_panic() {
    let mb = 1 << 20;
    let inputs = [
        "0".repeat(mb),
        "9".repeat(mb),
        "A".repeat(mb),
        "(".repeat(mb),
        "(01)".repeat(mb / 4),
        "\u{1d}".repeat(mb),
        "~".repeat(mb),
        format!("]C1{}", "10A\u{1d}".repeat(mb / 4)),
        format!("]C1{}", "00".repeat(mb / 2)),
        format!("]E0{}", "1".repeat(mb)),
        "é".repeat(mb / 2),
        "\\(".repeat(mb / 2),
        format!("(10){}", "\\(".repeat(mb / 2)),
    ];
    for input in &inputs {
        let s = interpret(input, &opts());
        // Touch the result so nothing is optimised away.
        assert!(s.errors.len() + s.elements.len() + s.warnings.len() < mb);
    }
    for input in [
        "]",
        "]]",
        "(((",
        ")(",
        "~(",
        "]C1~",
        "]C1\u{1d}",
        "\u{1d}(",
        "(10\\",
        "(10)\\",
    ] {
        let _ = interpret(input, &opts());
    }
}

/// Many elements, each AI repeated: the repeat check is one pass, not a comparison of every
/// pair (which would be quadratic in the number of elements).
#[test]
fn many_repeated_elements_parse() {
    let many = format!("]C1{}10B", "10A\u{1d}21X\u{1d}".repeat(100_000));
    let s = interpret(&many, &opts());
    assert_eq!(s.elements.len(), 200_001);
    assert_eq!(s.errors.len(), 1);
}
