use super::*;

fn today() -> Date {
    Date::new(2026, 12, 1).unwrap()
}

fn bin(code: &str) -> Input {
    Input::Location(Place {
        code: code.into(),
        countable: true,
    })
}

fn dock(code: &str) -> Input {
    Input::Location(Place {
        code: code.into(),
        countable: false,
    })
}

fn item(product: &str, units: i64) -> Input {
    Input::Item(ItemScan {
        merchant_id: "M1".into(),
        product_id: product.into(),
        name: format!("Product {product}"),
        units,
        lot: None,
        expiry: None,
        tracks_lot: false,
        tracks_expiry: false,
    })
}

fn tracked(product: &str, lot: Option<&str>, expiry: Option<Date>) -> Input {
    Input::Item(ItemScan {
        merchant_id: "M1".into(),
        product_id: product.into(),
        name: format!("Product {product}"),
        units: 1,
        lot: lot.map(str::to_string),
        expiry,
        tracks_lot: true,
        tracks_expiry: true,
    })
}

/// Runs `inputs` from `start`, adopting every step (as the terminal does after its commit),
/// and answers the final state, every fact and the last feedback.
fn run(start: Count, inputs: Vec<Input>) -> (Count, Vec<Fact>, Feedback) {
    let mut state = start;
    let mut facts = Vec::new();
    let mut last = Feedback::ok(state.prompt());
    for input in inputs {
        let step = state.step(input, today());
        facts.extend(step.facts);
        last = step.feedback;
        state = step.next;
    }
    (state, facts, last)
}

fn counted(facts: &[Fact]) -> Vec<(String, Option<String>, i64)> {
    let Some(Fact::Counted { lines, .. }) = facts.last() else {
        return Vec::new();
    };
    lines
        .iter()
        .map(|l| (l.goods.product_id.clone(), l.goods.lot.clone(), l.counted))
        .collect()
}

fn p(product: &str, lot: Option<&str>, n: i64) -> (String, Option<String>, i64) {
    (product.into(), lot.map(str::to_string), n)
}

#[test]
fn a_blind_count_records_what_was_found_line_by_line() {
    let expiry = Date::new(2027, 5, 1);
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Vec<Input>, Vec<(String, Option<String>, i64)>, Tone)> = vec![
        (
            "scans add up per product; a case code counts its pack",
            vec![
                bin("A-01"),
                item("P1", 1),
                item("P1", 1),
                item("P2", 6),
                Input::Finish,
            ],
            vec![p("P1", None, 2), p("P2", None, 6)],
            Tone::Done,
        ),
        (
            "the keypad sets the last line's count",
            vec![
                bin("A-01"),
                item("P1", 1),
                Input::Quantity(40),
                Input::Finish,
            ],
            vec![p("P1", None, 40)],
            Tone::Done,
        ),
        (
            "cancel takes one unit off the last line",
            vec![
                bin("A-01"),
                item("P1", 1),
                item("P1", 1),
                Input::Cancel,
                Input::Finish,
            ],
            vec![p("P1", None, 1)],
            Tone::Done,
        ),
        (
            "lots are lines of their own",
            vec![
                bin("A-01"),
                tracked("P3", Some("L1"), expiry),
                tracked("P3", Some("L2"), expiry),
                tracked("P3", Some("L1"), expiry),
                Input::Finish,
            ],
            vec![p("P3", Some("L1"), 2), p("P3", Some("L2"), 1)],
            Tone::Done,
        ),
        (
            "a location said empty is a count with no lines",
            vec![bin("A-01"), Input::Empty],
            vec![],
            Tone::Done,
        ),
    ];
    for (name, inputs, expect, tone) in cases {
        let (state, facts, last) = run(Count::spot(), inputs);
        assert_eq!(counted(&facts), expect, "{name}");
        assert_eq!(last.tone, tone, "{name}");
        assert!(state.is_finished(), "{name}");
        assert!(
            matches!(&facts[..], [Fact::Counted { location, .. }] if location == "A-01"),
            "{name}: {facts:?}"
        );
    }
}

#[test]
fn wrong_input_records_nothing_and_says_what_to_do() {
    let cases: Vec<(&str, Vec<Input>, Message)> = vec![
        (
            "an item before the location",
            vec![item("P1", 1)],
            Message::ScanLocationFirst,
        ),
        (
            "a dock is not counted",
            vec![dock("DOCK-1")],
            Message::NotCountable {
                code: "DOCK-1".into(),
            },
        ),
        (
            "another location while counting",
            vec![bin("A-01"), item("P1", 1), bin("A-02")],
            Message::FinishFirst {
                counting: "A-01".into(),
            },
        ),
        (
            "a tracked product without its GS1 lot",
            vec![bin("A-01"), tracked("P3", None, Date::new(2027, 5, 1))],
            Message::NeedsLot {
                name: "Product P3".into(),
            },
        ),
        (
            "a tracked product without its expiry",
            vec![bin("A-01"), tracked("P3", Some("L1"), None)],
            Message::NeedsExpiry {
                name: "Product P3".into(),
            },
        ),
        (
            "finish with nothing counted",
            vec![bin("A-01"), Input::Finish],
            Message::NothingCounted,
        ),
        (
            "empty with items counted",
            vec![bin("A-01"), item("P1", 2), Input::Empty],
            Message::NotEmpty { units: 2 },
        ),
        (
            "the keypad before any item",
            vec![bin("A-01"), Input::Quantity(3)],
            Message::ScanItemFirst,
        ),
        (
            "a negative keypad quantity",
            vec![bin("A-01"), item("P1", 1), Input::Quantity(-1)],
            Message::BadQuantity,
        ),
        (
            "a keypad typo beyond any bin",
            vec![
                bin("A-01"),
                item("P1", 1),
                Input::Quantity(MAX_KEYPAD_QUANTITY + 1),
            ],
            Message::BadQuantity,
        ),
        (
            "an unknown code",
            vec![bin("A-01"), Input::Unknown("XYZ".into())],
            Message::UnknownCode { raw: "XYZ".into() },
        ),
    ];
    for (name, inputs, expect) in cases {
        let n = inputs.len();
        let (state, facts, last) = run(Count::spot(), inputs.clone());
        assert!(facts.is_empty(), "{name}");
        assert_eq!(last.tone, Tone::Error, "{name}");
        assert_eq!(last.message, expect, "{name}");
        // The refused input changed nothing.
        let (before, _, _) = run(Count::spot(), inputs[..n - 1].to_vec());
        assert_eq!(state, before, "{name}");
    }
}

#[test]
fn a_tasks_count_starts_only_at_its_location() {
    let (state, _, last) = run(Count::of("A-02".into()), vec![bin("A-01")]);
    assert_eq!(
        last.message,
        Message::FinishFirst {
            counting: "A-02".into()
        }
    );
    assert_eq!(state.expects(), Expect::Location);
    assert_eq!(
        state.prompt(),
        Message::GoTo {
            location: "A-02".into()
        }
    );
    let (state, _, _) = run(Count::of("A-02".into()), vec![bin("A-02")]);
    assert_eq!(state.location(), Some("A-02"));
}

#[test]
fn cancel_with_nothing_counted_drops_the_location_and_records_nothing() {
    let (state, facts, last) = run(
        Count::spot(),
        vec![bin("A-01"), item("P1", 1), Input::Cancel, Input::Cancel],
    );
    assert!(facts.is_empty());
    assert_eq!(
        last.message,
        Message::CountCancelled {
            location: "A-01".into()
        }
    );
    assert_eq!(state.expects(), Expect::Location);
    // A keypad 0 removes the line too.
    let (state, _, _) = run(
        Count::spot(),
        vec![bin("A-01"), item("P1", 1), Input::Quantity(0)],
    );
    assert!(state.lines().is_empty());
}

#[test]
fn a_finished_count_takes_nothing_more() {
    let (state, _, _) = run(Count::spot(), vec![bin("A-01"), Input::Empty]);
    let step = state.step(item("P1", 1), today());
    assert!(step.facts.is_empty());
    assert_eq!(step.feedback.message, Message::Finished);
}

#[test]
fn the_variance_is_booked_within_the_counters_limits_else_a_lead_approves() {
    let q = |n| {
        Some(Limits {
            max_quantity: Some(n),
            max_percent: None,
        })
    };
    let pct = |n| {
        Some(Limits {
            max_quantity: None,
            max_percent: Some(n),
        })
    };
    let both = Some(Limits {
        max_quantity: Some(10),
        max_percent: Some(20),
    });
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, i64, i64, Option<Limits>, bool, Verdict)> = vec![
        ("no difference", 50, 50, None, false, Verdict::Equal),
        (
            "no limits: any difference waits",
            50,
            49,
            None,
            false,
            Verdict::Approval,
        ),
        (
            "limits with nothing set are no limits",
            50,
            49,
            Some(Limits::default()),
            false,
            Verdict::Approval,
        ),
        ("a lead's count is booked", 50, 0, None, true, Verdict::Book),
        (
            "within 10 units (D365's 40-60)",
            50,
            40,
            q(10),
            false,
            Verdict::Book,
        ),
        (
            "within 10 units, above",
            50,
            60,
            q(10),
            false,
            Verdict::Book,
        ),
        ("beyond 10 units", 50, 39, q(10), false, Verdict::Approval),
        ("within 20 %", 50, 60, pct(20), false, Verdict::Book),
        ("beyond 20 %", 50, 61, pct(20), false, Verdict::Approval),
        (
            "a difference from nothing is beyond any %",
            0,
            1,
            pct(100),
            false,
            Verdict::Approval,
        ),
        (
            "a difference from nothing within units",
            0,
            1,
            q(1),
            false,
            Verdict::Book,
        ),
        ("both: within both", 50, 42, both, false, Verdict::Book),
        (
            "both: beyond the percentage",
            20,
            25,
            both,
            false,
            Verdict::Approval,
        ),
        (
            "both: beyond the units",
            100,
            85,
            both,
            false,
            Verdict::Approval,
        ),
        (
            "negative stock counted 0",
            -3,
            0,
            q(5),
            false,
            Verdict::Book,
        ),
    ];
    for (name, expected, counted, limits, lead, want) in cases {
        assert_eq!(verdict(expected, counted, limits, lead), want, "{name}");
    }
}

#[test]
fn a_count_waits_for_a_lead_when_any_line_does() {
    let limits = Some(Limits {
        max_quantity: Some(2),
        max_percent: None,
    });
    assert_eq!(
        verdict_of_count([(10, 10), (5, 6)], limits, false),
        Verdict::Book
    );
    assert_eq!(
        verdict_of_count([(10, 10), (5, 6), (4, 0)], limits, false),
        Verdict::Approval
    );
    assert_eq!(verdict_of_count([(1, 1)], limits, false), Verdict::Equal);
    assert_eq!(verdict_of_count([], None, false), Verdict::Equal);
    assert_eq!(
        verdict_of_count([(10, 0)], None, true),
        Verdict::Book,
        "a lead's own count"
    );
}

#[test]
fn the_device_expects_its_pulled_level_plus_its_own_unconfirmed_moves() {
    let cases: Vec<(&str, i64, Vec<i64>, i64)> = vec![
        ("pulled only", 10, vec![], 10),
        ("a pick not yet confirmed", 10, vec![-3], 7),
        ("a putaway and a pick", 10, vec![5, -2], 13),
        ("more picked than pulled", 1, vec![-2], -1),
    ];
    for (name, pulled, pending, want) in cases {
        assert_eq!(expected_on_device(pulled, &pending), want, "{name}");
    }
    // Counted against that view: the pending pick is no difference.
    let expected = expected_on_device(10, &[-3]);
    assert_eq!(verdict(expected, 7, None, false), Verdict::Equal);
}
