//! Case tables for the receiving state machine: each case is a script of inputs with the tone
//! expected after each, and the facts the whole script must produce.

use super::*;

fn today() -> Date {
    Date::new(2026, 6, 1).unwrap()
}

fn product(id: &str, lot: bool, expiry: bool, serial: bool) -> Product {
    Product {
        id: id.into(),
        name: format!("Product {id}"),
        track_lot: lot,
        track_expiry: expiry,
        track_serial: serial,
    }
}

fn plain() -> Product {
    product("P", false, false, false)
}

fn food() -> Product {
    product("F", true, true, false)
}

fn gear() -> Product {
    product("S", false, false, true)
}

fn item(p: Product, units: i64) -> Input {
    Input::Item(ItemScan {
        product: p,
        units,
        lot: None,
        expiry: None,
        serial: None,
        raw: "raw".into(),
    })
}

fn item_with(p: Product, lot: &str, expiry: Date) -> Input {
    Input::Item(ItemScan {
        product: p,
        units: 1,
        lot: Some(lot.into()),
        expiry: Some(expiry),
        serial: None,
        raw: "gs1".into(),
    })
}

fn setup(notice: bool) -> Setup {
    Setup {
        merchant_id: "M".into(),
        rules: Rules {
            min_shelf_life_days: 30,
            over_receipt_tolerance_pct: 10,
        },
        notice_id: notice.then(|| "ASN-1".into()),
        expected: if notice {
            vec![
                ExpectedLine {
                    product_id: "P".into(),
                    name: "Product P".into(),
                    expected: 10,
                },
                ExpectedLine {
                    product_id: "F".into(),
                    name: "Product F".into(),
                    expected: 2,
                },
            ]
        } else {
            vec![]
        },
        dock: "DOCK-1".into(),
        quarantine_location: "QUARANTINE".into(),
    }
}

/// Runs `script` from a fresh receipt, checking the tone after each input; returns the final
/// receipt and every fact produced.
fn run(notice: bool, script: Vec<(Input, Tone)>) -> (Receipt, Vec<Fact>) {
    let mut r = Receipt::new(setup(notice));
    let mut all = Vec::new();
    for (i, (input, tone)) in script.into_iter().enumerate() {
        let before = r.clone();
        let step = r.step(input.clone(), today());
        assert_eq!(
            step.feedback.tone, tone,
            "input #{i} {input:?} gave {:?}",
            step.feedback
        );
        assert_eq!(r, before, "step must not mutate the receipt");
        all.extend(step.facts);
        r = step.next;
    }
    (r, all)
}

fn received(facts: &[Fact]) -> Vec<(String, i64, Condition, String)> {
    facts
        .iter()
        .filter_map(|f| match f {
            Fact::Received {
                product_id,
                quantity,
                condition,
                location,
                ..
            } => Some((product_id.clone(), *quantity, *condition, location.clone())),
            _ => None,
        })
        .collect()
}

fn tote() -> Input {
    Input::Container("T-0001".into())
}

#[test]
fn an_item_before_a_tote_is_refused_and_records_nothing() {
    let (r, facts) = run(true, vec![(item(plain(), 1), Tone::Error)]);
    assert!(facts.is_empty());
    assert_eq!(r.expects(), Expect::Container);
}

#[test]
fn repeated_scans_and_keypad_add_up() {
    let (r, facts) = run(
        true,
        vec![
            (tote(), Tone::Ok),
            (item(plain(), 1), Tone::Ok),
            (item(plain(), 1), Tone::Ok),
            (Input::AddQuantity(8), Tone::Ok),
        ],
    );
    assert_eq!(
        received(&facts),
        vec![
            ("P".into(), 1, Condition::Good, "DOCK-1".into()),
            ("P".into(), 1, Condition::Good, "DOCK-1".into()),
            ("P".into(), 8, Condition::Good, "DOCK-1".into()),
        ]
    );
    assert_eq!(r.summary()[0].received, 10);
}

#[test]
fn keypad_quantity_checks() {
    let cases: Vec<(Vec<(Input, Tone)>, usize)> = vec![
        // nothing scanned yet
        (
            vec![(tote(), Tone::Ok), (Input::AddQuantity(3), Tone::Error)],
            0,
        ),
        // zero, negative and absurd quantities are typos
        (
            vec![
                (tote(), Tone::Ok),
                (item(plain(), 1), Tone::Ok),
                (Input::AddQuantity(0), Tone::Error),
                (Input::AddQuantity(-2), Tone::Error),
                (Input::AddQuantity(MAX_KEYPAD_QUANTITY + 1), Tone::Error),
            ],
            1,
        ),
    ];
    for (script, n) in cases {
        let (_, facts) = run(false, script);
        assert_eq!(facts.len(), n);
    }
}

#[test]
fn a_case_code_counts_its_pack_quantity() {
    let (r, _) = run(true, vec![(tote(), Tone::Ok), (item(plain(), 6), Tone::Ok)]);
    assert_eq!(r.summary()[0].received, 6);
}

#[test]
fn tracked_product_asks_for_lot_then_expiry() {
    let exp = Date::new(2027, 1, 31).unwrap();
    let (r, facts) = run(
        true,
        vec![
            (tote(), Tone::Ok),
            (item(food(), 1), Tone::Warning),
            (Input::Container("T-2".into()), Tone::Error),
            (Input::Lot("L42".into()), Tone::Warning),
            (Input::Expiry(exp), Tone::Ok),
        ],
    );
    assert_eq!(r.expects(), Expect::Item);
    match &facts[..] {
        [
            Fact::Received {
                lot,
                expiry,
                container,
                ..
            },
        ] => {
            assert_eq!(lot.as_deref(), Some("L42"));
            assert_eq!(*expiry, Some(exp));
            assert_eq!(container, "T-0001");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_gs1_rescan_supplies_the_missing_lot_and_expiry() {
    let exp = Date::new(2027, 1, 31).unwrap();
    let (_, facts) = run(
        true,
        vec![
            (tote(), Tone::Ok),
            (item(food(), 1), Tone::Warning),
            (item_with(food(), "L7", exp), Tone::Ok),
        ],
    );
    assert_eq!(facts.len(), 1);
}

#[test]
fn shelf_life_rules_send_goods_to_quarantine() {
    let cases = [
        (
            Date::new(2026, 5, 31).unwrap(),
            Condition::Expired,
            Tone::Warning,
        ),
        (
            Date::new(2026, 6, 30).unwrap(),
            Condition::ShortShelfLife,
            Tone::Warning,
        ),
        (Date::new(2026, 7, 1).unwrap(), Condition::Good, Tone::Ok),
        (Date::new(2027, 7, 1).unwrap(), Condition::Good, Tone::Ok),
    ];
    for (exp, condition, tone) in cases {
        let (r, facts) = run(
            true,
            vec![(tote(), Tone::Ok), (item_with(food(), "L", exp), tone)],
        );
        let location = if condition == Condition::Good {
            "DOCK-1"
        } else {
            "QUARANTINE"
        };
        assert_eq!(
            received(&facts),
            vec![("F".into(), 1, condition, location.into())],
            "{exp}"
        );
        let quarantined = if condition == Condition::Good { 0 } else { 1 };
        assert_eq!(r.summary()[1].quarantined, quarantined);
    }
}

#[test]
fn over_receipt_beyond_tolerance_asks_to_confirm() {
    // Expected 10 with 10 % tolerance: 11 passes, 12 asks.
    let (r, facts) = run(
        true,
        vec![
            (tote(), Tone::Ok),
            (item(plain(), 1), Tone::Ok),
            (Input::AddQuantity(10), Tone::Ok),
            (item(plain(), 1), Tone::Warning),
            (item(plain(), 1), Tone::Error),
            (Input::Confirm, Tone::Ok),
            (item(plain(), 1), Tone::Warning),
            (Input::Cancel, Tone::Warning),
        ],
    );
    assert_eq!(r.summary()[0].received, 12);
    assert_eq!(facts.len(), 3);
}

#[test]
fn a_product_not_on_the_notice_asks_to_confirm_but_not_on_a_blind_receipt() {
    let other = product("X", false, false, false);
    let (r, _) = run(
        true,
        vec![
            (tote(), Tone::Ok),
            (item(other.clone(), 1), Tone::Warning),
            (Input::Confirm, Tone::Ok),
        ],
    );
    assert_eq!(r.summary()[2].expected, 0);
    assert_eq!(r.summary()[2].received, 1);
    let (r, _) = run(false, vec![(tote(), Tone::Ok), (item(other, 1), Tone::Ok)]);
    assert_eq!(r.summary().len(), 1);
}

#[test]
fn damaged_units_go_to_quarantine() {
    let (r, facts) = run(
        true,
        vec![
            (tote(), Tone::Ok),
            (Input::Damaged(2), Tone::Error),
            (item(plain(), 1), Tone::Ok),
            (Input::Damaged(2), Tone::Warning),
        ],
    );
    assert_eq!(
        received(&facts)[1],
        ("P".into(), 2, Condition::Damaged, "QUARANTINE".into())
    );
    assert_eq!(r.summary()[0].received, 3);
    assert_eq!(r.summary()[0].quarantined, 2);
}

#[test]
fn unknown_barcodes_are_recorded_in_every_state() {
    let (r, facts) = run(
        true,
        vec![
            (Input::Unknown("A".into()), Tone::Error),
            (tote(), Tone::Ok),
            (item(food(), 1), Tone::Warning),
            (Input::Unknown("B".into()), Tone::Error),
        ],
    );
    assert_eq!(
        facts,
        vec![
            Fact::UnknownBarcode { raw: "A".into() },
            Fact::UnknownBarcode { raw: "B".into() }
        ]
    );
    assert_eq!(r.expects(), Expect::Lot, "the pending item is kept");
}

#[test]
fn serial_products_take_one_unit_per_serial() {
    let (_, facts) = run(
        false,
        vec![
            (tote(), Tone::Ok),
            (item(gear(), 2), Tone::Error),
            (item(gear(), 1), Tone::Warning),
            (Input::Serial("SN1".into()), Tone::Ok),
            (Input::AddQuantity(3), Tone::Error),
        ],
    );
    assert_eq!(facts.len(), 1);
}

#[test]
fn closing_shows_expected_against_received_and_then_refuses_input() {
    let (r, facts) = run(
        true,
        vec![
            (tote(), Tone::Ok),
            (item(plain(), 1), Tone::Ok),
            (Input::RequestClose, Tone::Warning),
            (Input::Cancel, Tone::Warning),
            (Input::RequestClose, Tone::Warning),
            (Input::Confirm, Tone::Done),
            (item(plain(), 1), Tone::Error),
        ],
    );
    assert!(r.is_closed());
    let Some(Fact::Closed { lines }) = facts.last() else {
        panic!("{facts:?}")
    };
    let got: Vec<_> = lines
        .iter()
        .map(|l| (l.product_id.as_str(), l.expected, l.received))
        .collect();
    assert_eq!(got, vec![("P", 10, 1), ("F", 2, 0)]);
}

#[test]
fn a_complete_receipt_closes_with_an_ok_tone() {
    let exp = Date::new(2027, 1, 31).unwrap();
    let (_, _) = run(
        true,
        vec![
            (tote(), Tone::Ok),
            (item(plain(), 10), Tone::Ok),
            (item_with(food(), "L", exp), Tone::Ok),
            (item_with(food(), "L", exp), Tone::Ok),
            (Input::RequestClose, Tone::Ok),
            (Input::Confirm, Tone::Done),
        ],
    );
}

#[test]
fn a_restored_receipt_continues_its_tallies() {
    let (before, _) = run(
        true,
        vec![
            (tote(), Tone::Ok),
            (item(plain(), 4), Tone::Ok),
            (Input::Damaged(1), Tone::Warning),
        ],
    );
    let recorded = vec![
        ("P".to_string(), "Product P".to_string(), 4, Condition::Good),
        (
            "P".to_string(),
            "Product P".to_string(),
            1,
            Condition::Damaged,
        ),
    ];
    let restored = Receipt::restore(setup(true), Some("T-0001".into()), &recorded);
    assert_eq!(restored.summary(), before.summary());
    assert_eq!(restored.expects(), Expect::Item);
}
