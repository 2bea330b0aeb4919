use super::*;

fn today() -> Date {
    Date::new(2026, 12, 1).unwrap()
}

fn goods(product: &str, lot: Option<&str>) -> Goods {
    Goods {
        merchant_id: "M1".into(),
        product_id: product.into(),
        name: format!("name of {product}"),
        lot: lot.map(str::to_string),
        expiry: None,
        condition: "good".into(),
    }
}

fn row(product: &str, lot: Option<&str>, container: Option<&str>, quantity: i64) -> Row {
    Row {
        goods: goods(product, lot),
        container: container.map(str::to_string),
        quantity,
    }
}

fn bin(code: &str, rows: Vec<Row>) -> Input {
    Input::Place(Place {
        location: code.into(),
        container: None,
        in_transit: false,
        rows,
    })
}

fn tote(code: &str, at: &str, quantity: i64) -> Input {
    Input::Place(Place {
        location: at.into(),
        container: Some(code.into()),
        in_transit: false,
        rows: vec![row("P1", None, Some(code), quantity)],
    })
}

fn item(product: &str, lot: Option<&str>) -> Input {
    Input::Item(ItemScan {
        merchant_id: "M1".into(),
        product_id: product.into(),
        name: format!("name of {product}"),
        units: 1,
        lot: lot.map(str::to_string),
    })
}

/// A01 holds 5 of P1 lot L1, 2 of P1 lot L2 and 3 of P2.
fn a01() -> Input {
    bin(
        "A-01",
        vec![
            row("P1", Some("L1"), None, 5),
            row("P1", Some("L2"), None, 2),
            row("P2", None, None, 3),
        ],
    )
}

fn run(inputs: Vec<Input>) -> (Moving, Vec<Fact>, Vec<(Tone, Message)>) {
    let mut m = Moving::new();
    let mut facts = Vec::new();
    let mut said = Vec::new();
    for input in inputs {
        let step = m.step(input, today());
        facts.extend(step.facts);
        said.push((step.feedback.tone, step.feedback.message));
        m = step.next;
    }
    (m, facts, said)
}

/// One recorded move line: product, lot, quantity, to location, to container.
type Moved = (String, Option<String>, i64, String, Option<String>);

fn moved(facts: &[Fact]) -> Vec<Moved> {
    facts
        .iter()
        .flat_map(|Fact::Moved { lines, .. }| lines)
        .map(|l| {
            (
                l.goods.product_id.clone(),
                l.goods.lot.clone(),
                l.quantity,
                l.to_location.clone(),
                l.to_container.clone(),
            )
        })
        .collect()
}

#[test]
fn moves_case_table() {
    type Want = Vec<(
        &'static str,
        Option<&'static str>,
        i64,
        &'static str,
        Option<&'static str>,
    )>;
    // (case, inputs, the moves recorded, the tone of the last answer)
    let cases: Vec<(&str, Vec<Input>, Want, Tone)> = vec![
        (
            "two scans of one item, then the bin it goes to",
            vec![
                a01(),
                item("P2", None),
                item("P2", None),
                bin("A-02", vec![]),
            ],
            vec![("P2", None, 2, "A-02", None)],
            Tone::Ok,
        ),
        (
            "the keypad sets the quantity",
            vec![
                a01(),
                item("P2", None),
                Input::Quantity(3),
                bin("A-02", vec![]),
            ],
            vec![("P2", None, 3, "A-02", None)],
            Tone::Ok,
        ),
        (
            "an item of several lots needs its lot",
            vec![a01(), item("P1", None)],
            vec![],
            Tone::Error,
        ),
        (
            "the lot's label picks the row",
            vec![a01(), item("P1", Some("L2")), bin("A-02", vec![])],
            vec![("P1", Some("L2"), 1, "A-02", None)],
            Tone::Ok,
        ),
        (
            "an item that is not at the place",
            vec![a01(), item("P9", None)],
            vec![],
            Tone::Error,
        ),
        (
            "more than the view holds is allowed, with a warning",
            vec![a01(), item("P2", None), Input::Quantity(4)],
            vec![],
            Tone::Warning,
        ),
        (
            "and is recorded as counted",
            vec![
                a01(),
                item("P2", None),
                Input::Quantity(4),
                bin("A-02", vec![]),
            ],
            vec![("P2", None, 4, "A-02", None)],
            Tone::Ok,
        ),
        (
            "into a tote that stands somewhere",
            vec![a01(), item("P2", None), tote("T-9", "DOCK-1", 1)],
            vec![("P2", None, 1, "DOCK-1", Some("T-9"))],
            Tone::Ok,
        ),
        (
            "back where it was",
            vec![a01(), item("P2", None), a01()],
            vec![],
            Tone::Error,
        ),
        (
            "a whole tote to a bin stays in the tote",
            vec![tote("T-1", "DOCK-1", 6), bin("A-02", vec![])],
            vec![("P1", None, 6, "A-02", Some("T-1"))],
            Tone::Done,
        ),
        (
            "a whole tote to where it stands",
            vec![tote("T-1", "DOCK-1", 6), bin("DOCK-1", vec![])],
            vec![],
            Tone::Error,
        ),
        (
            "an item before its place",
            vec![item("P2", None)],
            vec![],
            Tone::Error,
        ),
        (
            "an empty place",
            vec![bin("A-09", vec![])],
            vec![],
            Tone::Error,
        ),
        (
            "onto a picker's cart",
            vec![
                a01(),
                item("P2", None),
                Input::Place(Place {
                    location: "IN-TRANSIT".into(),
                    container: Some("T-5".into()),
                    in_transit: true,
                    rows: vec![],
                }),
            ],
            vec![],
            Tone::Error,
        ),
        (
            "a tote the device knows nowhere as the destination",
            vec![a01(), item("P2", None), Input::EmptyContainer("T-8".into())],
            vec![],
            Tone::Error,
        ),
        (
            "cancel puts the goods down",
            vec![a01(), item("P2", None), Input::Cancel, bin("A-02", vec![])],
            vec![],
            Tone::Error,
        ),
        (
            "a quantity with nothing in hand",
            vec![a01(), Input::Quantity(2)],
            vec![],
            Tone::Error,
        ),
        (
            "an unknown code",
            vec![a01(), Input::Unknown("XYZ".into())],
            vec![],
            Tone::Error,
        ),
    ];
    for (name, inputs, want, tone) in cases {
        let (_, facts, said) = run(inputs);
        let want: Vec<_> = want
            .into_iter()
            .map(|(p, l, q, to, c)| {
                (
                    p.to_string(),
                    l.map(str::to_string),
                    q,
                    to.to_string(),
                    c.map(str::to_string),
                )
            })
            .collect();
        assert_eq!(moved(&facts), want, "{name}");
        assert_eq!(said.last().map(|s| s.0), Some(tone), "{name}: {said:?}");
    }
}

#[test]
fn what_is_left_stays_in_hand_for_the_next_move_and_an_empty_place_ends_it() {
    let (m, facts, _) = run(vec![
        bin("A-01", vec![row("P2", None, None, 3)]),
        item("P2", None),
        bin("A-02", vec![]),
    ]);
    assert_eq!(facts.len(), 1);
    assert_eq!(
        m.prompt(),
        Message::ScanItem {
            place: "A-01".into()
        }
    );
    assert_eq!(m.from().unwrap().rows[0].quantity, 2);
    assert!(m.is_finished(), "nothing in hand: nothing half-done");
    let in_hand = m.step(item("P2", None), today()).next;
    assert!(!in_hand.is_finished(), "goods in hand");
    let step = m.step(Input::Quantity(2), today());
    let step = step.next.step(bin("A-02", vec![]), today());
    assert_eq!(step.next.prompt(), Message::ScanFrom);
    assert!(step.next.is_finished());
}

#[test]
fn a_whole_tote_moves_every_row_and_names_the_container() {
    let t = Input::Place(Place {
        location: "DOCK-1".into(),
        container: Some("T-1".into()),
        in_transit: false,
        rows: vec![
            row("P1", Some("L1"), Some("T-1"), 4),
            row("P2", None, Some("T-1"), 1),
        ],
    });
    let (_, facts, said) = run(vec![t, bin("A-03", vec![])]);
    let [Fact::Moved { container, lines }] = facts.as_slice() else {
        panic!("{facts:?}")
    };
    assert_eq!(container.as_deref(), Some("T-1"));
    assert_eq!(lines.len(), 2);
    assert!(
        lines
            .iter()
            .all(|l| l.from_container.as_deref() == Some("T-1")
                && l.to_container.as_deref() == Some("T-1")
                && l.from_location == "DOCK-1")
    );
    assert_eq!(
        said.last().unwrap().1,
        Message::MovedWhole {
            container: "T-1".into(),
            to: "A-03".into()
        }
    );
}
