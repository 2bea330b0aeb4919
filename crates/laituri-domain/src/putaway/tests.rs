use super::*;

fn today() -> Date {
    Date::new(2026, 12, 1).unwrap()
}

fn goods(product: &str, lot: Option<&str>) -> Goods {
    Goods {
        merchant_id: "M1".into(),
        product_id: product.into(),
        name: format!("Product {product}"),
        lot: lot.map(str::to_string),
        expiry: None,
        serial: None,
    }
}

fn line(product: &str, lot: Option<&str>, quantity: i64) -> ToteLine {
    ToteLine {
        goods: goods(product, lot),
        quantity,
    }
}

fn bin(code: &str, zone: &str, walk: u32, capacity: Option<i64>, occupied: i64, same: i64) -> Bin {
    Bin {
        code: code.into(),
        zone: zone.into(),
        walk_order: walk,
        capacity,
        occupied,
        same_goods: same,
        mixed: occupied > same,
    }
}

fn item(product: &str, units: i64) -> Input {
    Input::Item(ItemScan {
        merchant_id: "M1".into(),
        product_id: product.into(),
        name: format!("Product {product}"),
        units,
        lot: None,
        expiry: None,
        serial: None,
    })
}

fn place(code: &str, owner: Option<&str>) -> Input {
    Input::Location(Place {
        code: code.into(),
        is_bin: !code.starts_with("DOCK"),
        zone: "Z".into(),
        zone_owner: owner.map(str::to_string),
    })
}

fn zones() -> Vec<String> {
    vec!["Z1".into(), "Z2".into()]
}

#[test]
fn suggestion_case_table() {
    let s = |c: &[Bin], skip: &[&str]| {
        let skip: Vec<String> = skip.iter().map(|s| s.to_string()).collect();
        suggest(c, &zones(), &skip).map(|s| (s.bin, s.why))
    };
    let empty_z2 = bin("B-01", "Z2", 5, None, 0, 0);
    let empty_z1_far = bin("A-09", "Z1", 90, None, 0, 0);
    let empty_z1_near = bin("A-02", "Z1", 20, Some(10), 0, 0);
    let same_far = bin("A-08", "Z1", 80, Some(10), 4, 4);
    let same_full = bin("A-03", "Z1", 30, Some(4), 4, 4);
    let mixed = bin("A-01", "Z1", 10, None, 5, 2);
    let other_zone = bin("C-01", "Z9", 1, None, 0, 0);
    type Case<'a> = (&'a str, Vec<Bin>, Vec<&'a str>, Option<(&'a str, Why)>);
    let cases: Vec<Case> = vec![
        ("nothing at all", vec![], vec![], None),
        (
            "same goods first, even far away",
            vec![empty_z1_near.clone(), same_far.clone()],
            vec![],
            Some(("A-08", Why::SameGoods)),
        ),
        (
            "a full bin of the same goods is passed over",
            vec![same_full.clone(), empty_z1_near.clone()],
            vec![],
            Some(("A-02", Why::Empty)),
        ),
        (
            "a bin mixed with other goods is never suggested",
            vec![mixed.clone()],
            vec![],
            None,
        ),
        (
            "empty bins: the merchant's first zone before its second",
            vec![empty_z2.clone(), empty_z1_far.clone()],
            vec![],
            Some(("A-09", Why::Empty)),
        ),
        (
            "empty bins of a zone in walking order",
            vec![empty_z1_far.clone(), empty_z1_near.clone()],
            vec![],
            Some(("A-02", Why::Empty)),
        ),
        (
            "another merchant's zone is never suggested",
            vec![other_zone.clone()],
            vec![],
            None,
        ),
        (
            "a bin the operator marked full is skipped",
            vec![same_far.clone(), empty_z1_near.clone()],
            vec!["A-08"],
            Some(("A-02", Why::Empty)),
        ),
        (
            "every bin skipped",
            vec![same_far.clone(), empty_z1_near.clone()],
            vec!["A-08", "A-02"],
            None,
        ),
    ];
    for (name, candidates, skip, expected) in cases {
        let got = s(&candidates, &skip);
        let expected = expected.map(|(b, w)| (b.to_string(), w));
        assert_eq!(got, expected, "{name}");
    }
    // No zones configured: any empty bin, by walking order.
    let any = suggest(&[empty_z2.clone(), other_zone.clone()], &[], &[]).unwrap();
    assert_eq!(any.bin, "C-01");
}

/// Runs inputs from a start; candidates are fed whenever asked, from bins that take in what was
/// put away (as the terminal's local stock view does after each commit).
fn run(start: Putaway, bins: &[Bin], inputs: Vec<Input>) -> (Putaway, Vec<Fact>, Vec<Feedback>) {
    let mut bins = bins.to_vec();
    let mut p = start;
    let mut facts: Vec<Fact> = Vec::new();
    let mut feedback = Vec::new();
    let feed = |p: &mut Putaway, bins: &[Bin]| {
        while p.expects() == Expect::Candidates {
            let step = p.step(Input::Candidates(bins.to_vec()), today());
            assert!(step.facts.is_empty());
            *p = step.next;
        }
    };
    feed(&mut p, &bins);
    for input in inputs {
        let step = p.step(input, today());
        for f in &step.facts {
            if let Fact::PutAway { bin, quantity, .. } = f {
                let b = bins.iter_mut().find(|b| &b.code == bin).unwrap();
                b.occupied += quantity;
                b.same_goods += quantity;
            }
        }
        facts.extend(step.facts);
        feedback.push(step.feedback);
        p = step.next;
        feed(&mut p, &bins);
    }
    (p, facts, feedback)
}

fn put(
    product: &str,
    quantity: i64,
    bin: &str,
    suggested: Option<&str>,
    reason: Option<OverrideReason>,
) -> Fact {
    Fact::PutAway {
        goods: goods(product, None),
        quantity,
        bin: bin.into(),
        suggested: suggested.map(str::to_string),
        reason,
    }
}

fn tote(lines: Vec<ToteLine>) -> Putaway {
    Putaway::new("T-1".into(), zones(), lines)
}

#[test]
fn putaway_case_table() {
    let bins = vec![
        bin("A-01", "Z1", 10, Some(4), 0, 0),
        bin("A-02", "Z1", 20, None, 0, 0),
        bin("DOCK-1", "D", 1, None, 9, 0),
    ];
    type Case = (&'static str, Putaway, Vec<Input>, Vec<Fact>, Expect, Tone);
    let cases: Vec<Case> = vec![
        (
            "one kind of goods: the suggestion (limited by its room) then the next bin",
            tote(vec![line("P", None, 6)]),
            vec![place("A-01", Some("M1")), place("A-02", Some("M1"))],
            vec![
                put("P", 4, "A-01", Some("A-01"), None),
                put("P", 2, "A-02", Some("A-02"), None),
                Fact::Finished,
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "another valid bin asks for a reason and records it",
            tote(vec![line("P", None, 3)]),
            vec![
                place("A-02", Some("M1")),
                Input::Reason(OverrideReason::Closer),
            ],
            vec![
                put("P", 3, "A-02", Some("A-01"), Some(OverrideReason::Closer)),
                Fact::Finished,
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "bin full gives the next suggestion",
            tote(vec![line("P", None, 3)]),
            vec![Input::BinFull, place("A-02", Some("M1"))],
            vec![
                Fact::BinFull { bin: "A-01".into() },
                put("P", 3, "A-02", Some("A-02"), None),
                Fact::Finished,
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "keypad quantity: part of the line, the rest stays",
            tote(vec![line("P", None, 3)]),
            vec![Input::Quantity(2), place("A-01", Some("M1"))],
            vec![put("P", 2, "A-01", Some("A-01"), None)],
            Expect::Bin,
            Tone::Ok,
        ),
        (
            "repeated scans count units",
            tote(vec![line("P", None, 3), line("Q", None, 1)]),
            vec![item("P", 1), item("P", 1), place("A-01", Some("M1"))],
            vec![put("P", 2, "A-01", Some("A-01"), None)],
            Expect::Bin,
            Tone::Ok,
        ),
        (
            "a tote of one kind: the first item scan identifies, the next ones count",
            tote(vec![line("P", None, 4)]),
            vec![item("P", 1), place("A-01", Some("M1"))],
            vec![put("P", 4, "A-01", Some("A-01"), None), Fact::Finished],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "a tote of one kind counted by scans",
            tote(vec![line("P", None, 4)]),
            vec![item("P", 1), item("P", 1), place("A-01", Some("M1"))],
            vec![put("P", 2, "A-01", Some("A-01"), None)],
            Expect::Bin,
            Tone::Ok,
        ),
        (
            "mixed tote: an item selects its line",
            tote(vec![line("P", None, 1), line("Q", None, 1)]),
            vec![item("Q", 1), place("A-01", Some("M1"))],
            vec![put("Q", 1, "A-01", Some("A-01"), None)],
            Expect::Bin,
            Tone::Ok,
        ),
        (
            "an item not in the tote records nothing",
            tote(vec![line("P", None, 1), line("Q", None, 1)]),
            vec![item("X", 1)],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "a bin before an item in a mixed tote records nothing",
            tote(vec![line("P", None, 1), line("Q", None, 1)]),
            vec![place("A-01", Some("M1"))],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "more than the tote holds by keypad",
            tote(vec![line("P", None, 3)]),
            vec![Input::Quantity(4)],
            vec![],
            Expect::Bin,
            Tone::Error,
        ),
        (
            "more than the tote holds by scans",
            tote(vec![line("P", None, 1), line("Q", None, 1)]),
            vec![item("P", 1), item("P", 1)],
            vec![],
            Expect::Bin,
            Tone::Error,
        ),
        (
            "a dock is not a bin",
            tote(vec![line("P", None, 1)]),
            vec![place("DOCK-1", None)],
            vec![],
            Expect::Bin,
            Tone::Error,
        ),
        (
            "a bin of another merchant's zone",
            tote(vec![line("P", None, 1)]),
            vec![place("C-01", Some("M2"))],
            vec![],
            Expect::Bin,
            Tone::Error,
        ),
        (
            "an unknown code records nothing",
            tote(vec![line("P", None, 1)]),
            vec![Input::Unknown("ZZZ".into())],
            vec![],
            Expect::Bin,
            Tone::Error,
        ),
        (
            "cancel on a reason goes back to the bin",
            tote(vec![line("P", None, 1)]),
            vec![place("A-02", Some("M1")), Input::Cancel],
            vec![],
            Expect::Bin,
            Tone::Warning,
        ),
        (
            "cancel drops the selection of a mixed tote",
            tote(vec![line("P", None, 1), line("Q", None, 1)]),
            vec![item("P", 1), Input::Cancel],
            vec![],
            Expect::Item,
            Tone::Warning,
        ),
        (
            "a bad keypad quantity",
            tote(vec![line("P", None, 1)]),
            vec![Input::Quantity(0)],
            vec![],
            Expect::Bin,
            Tone::Error,
        ),
        (
            "an empty tote takes nothing",
            tote(vec![]),
            vec![item("P", 1)],
            vec![],
            Expect::Nothing,
            Tone::Error,
        ),
        (
            "a reason while a bin is asked for is refused",
            tote(vec![line("P", None, 1)]),
            vec![Input::Reason(OverrideReason::Blocked)],
            vec![],
            Expect::Bin,
            Tone::Error,
        ),
    ];
    for (name, start, inputs, facts, expects, tone) in cases {
        let (end, got, feedback) = run(start, &bins, inputs);
        assert_eq!(got, facts, "{name}: facts");
        assert_eq!(end.expects(), expects, "{name}: expects");
        assert_eq!(feedback.last().map(|f| f.tone), Some(tone), "{name}: tone");
    }
}

#[test]
fn a_blocked_suggestion_is_not_suggested_again_in_the_job() {
    let bins = vec![
        bin("A-01", "Z1", 10, None, 0, 0),
        bin("A-02", "Z1", 20, None, 0, 0),
    ];
    let (p, _, _) = run(
        tote(vec![line("P", None, 2)]),
        &bins,
        vec![
            Input::Quantity(1),
            place("A-02", Some("M1")),
            Input::Reason(OverrideReason::Blocked),
        ],
    );
    assert_eq!(p.suggestion().map(|s| s.bin.as_str()), Some("A-02"));
}

#[test]
fn step_never_mutates_and_errors_keep_the_prompt() {
    let bins = vec![bin("A-01", "Z1", 10, None, 0, 0)];
    let (p, _, _) = run(tote(vec![line("P", None, 2)]), &bins, vec![]);
    let before = p.clone();
    let step = p.step(place("DOCK-1", None), today());
    assert_eq!(p, before);
    assert_eq!(step.next.prompt(), before.prompt());
    assert!(matches!(
        before.prompt(),
        Message::Suggest { ref bin, quantity: 2, .. } if bin == "A-01"
    ));
}
