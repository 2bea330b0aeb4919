use super::*;

fn today() -> Date {
    Date::new(2026, 12, 1).unwrap()
}

fn days(n: i64) -> Date {
    today().add_days(n)
}

fn shelf_life() -> ShelfLife {
    ShelfLife::from([("M1".to_string(), 30)])
}

fn order(id: &str, slot: u32) -> PickOrder {
    PickOrder {
        order_id: id.into(),
        reference: format!("#{id}"),
        slot,
        tote: None,
    }
}

/// A line of lot L1, expiring in 200 days.
fn line(id: &str, order: &str, product: &str, location: &str, walk: u32, qty: i64) -> PickLine {
    PickLine {
        line_id: id.into(),
        order_id: order.into(),
        goods: Goods {
            merchant_id: "M1".into(),
            product_id: product.into(),
            name: format!("Product {product}"),
            lot: Some("L1".into()),
            expiry: Some(days(200)),
        },
        location: location.into(),
        walk_order: walk,
        quantity: qty,
        picked: 0,
        expected_left: None,
    }
}

fn task(orders: Vec<PickOrder>, lines: Vec<PickLine>) -> Picking {
    Picking::new("PT-1".into(), shelf_life(), orders, lines)
}

/// One order, one line: 3 of P at A-01.
fn one_line() -> Picking {
    task(
        vec![order("O1", 1)],
        vec![line("1", "O1", "P", "A-01", 10, 3)],
    )
}

/// One order, two lines: 3 of P at A-01, 2 of Q at A-02.
fn two_lines() -> Picking {
    task(
        vec![order("O1", 1)],
        vec![
            line("1", "O1", "P", "A-01", 10, 3),
            line("2", "O1", "Q", "A-02", 20, 2),
        ],
    )
}

/// Two orders: O1 wants 1 P at A-01, O2 wants 1 Q at A-02.
fn two_orders() -> Picking {
    task(
        vec![order("O1", 1), order("O2", 2)],
        vec![
            line("1", "O1", "P", "A-01", 10, 1),
            line("2", "O2", "Q", "A-02", 20, 1),
        ],
    )
}

fn at(code: &str) -> Input {
    Input::Location(Place {
        code: code.into(),
        is_packing: false,
    })
}

fn packing(code: &str) -> Input {
    Input::Location(Place {
        code: code.into(),
        is_packing: true,
    })
}

fn scan(product: &str, units: i64, lot: Option<&str>, expiry: Option<Date>) -> ItemScan {
    ItemScan {
        merchant_id: "M1".into(),
        product_id: product.into(),
        name: format!("Product {product}"),
        units,
        lot: lot.map(str::to_string),
        expiry,
        serial: None,
    }
}

/// An item label without a lot.
fn item(product: &str, units: i64) -> Input {
    Input::Item(scan(product, units, None, None))
}

fn lot_item(product: &str, lot: &str, expiry: Option<Date>) -> Input {
    Input::Item(scan(product, 1, Some(lot), expiry))
}

fn serial_item(product: &str, serial: &str) -> Input {
    Input::Item(ItemScan {
        serial: Some(serial.into()),
        ..scan(product, 1, None, None)
    })
}

fn tote(code: &str) -> Input {
    Input::Tote(code.into())
}

fn bound(order: &str, tote: &str) -> Fact {
    Fact::ToteBound {
        order_id: order.into(),
        tote: tote.into(),
    }
}

/// A pick of the suggested lot of `line` of `start`.
fn picked(start: &Picking, line: &str, quantity: i64, tote: &str) -> Fact {
    let l = &start
        .lines()
        .iter()
        .find(|s| s.line.line_id == line)
        .unwrap()
        .line;
    Fact::Picked {
        line_id: l.line_id.clone(),
        order_id: l.order_id.clone(),
        goods: l.goods.clone(),
        suggested_lot: l.goods.lot.clone(),
        quantity,
        location: l.location.clone(),
        tote: tote.into(),
        other_lot: false,
        serials: vec![],
    }
}

fn short(start: &Picking, line: &str, picked_total: i64, missing: i64) -> Fact {
    let l = &start
        .lines()
        .iter()
        .find(|s| s.line.line_id == line)
        .unwrap()
        .line;
    Fact::Short {
        line_id: l.line_id.clone(),
        order_id: l.order_id.clone(),
        goods: l.goods.clone(),
        location: l.location.clone(),
        picked_total,
        missing,
    }
}

fn dropped(location: &str, totes: &[(&str, &str)]) -> Fact {
    Fact::Dropped {
        location: location.into(),
        totes: totes
            .iter()
            .map(|(o, t)| (o.to_string(), t.to_string()))
            .collect(),
    }
}

/// Runs inputs from a start, checking at every step that `step` left its state alone.
fn run(start: &Picking, inputs: Vec<Input>) -> (Picking, Vec<Fact>, Vec<Feedback>) {
    let mut p = start.clone();
    let mut facts = Vec::new();
    let mut feedback = Vec::new();
    for input in inputs {
        let before = p.clone();
        let step = p.step(input, today());
        assert_eq!(p, before, "step mutated its state");
        facts.extend(step.facts);
        feedback.push(step.feedback);
        p = step.next;
    }
    (p, facts, feedback)
}

#[test]
fn picking_case_table() {
    let one = one_line();
    let two = two_lines();
    let orders = two_orders();
    let zero = task(
        vec![order("O1", 1)],
        vec![PickLine {
            expected_left: Some(0),
            ..line("1", "O1", "P", "A-01", 10, 3)
        }],
    );
    type Case<'a> = (&'a str, &'a Picking, Vec<Input>, Vec<Fact>, Expect, Tone);
    let cases: Vec<Case> = vec![
        (
            "the right location",
            &one,
            vec![at("A-01")],
            vec![],
            Expect::Item,
            Tone::Ok,
        ),
        (
            "another location names the expected one",
            &one,
            vec![at("A-09")],
            vec![],
            Expect::Location,
            Tone::Error,
        ),
        (
            "an item before the location",
            &one,
            vec![item("P", 1)],
            vec![],
            Expect::Location,
            Tone::Error,
        ),
        (
            "the hand reaching the line's quantity asks for the tote",
            &one,
            vec![at("A-01"), item("P", 3)],
            vec![],
            Expect::Tote,
            Tone::Ok,
        ),
        (
            "the first pick binds the tote; the last line leads to the drop",
            &one,
            vec![at("A-01"), item("P", 3), tote("T-1")],
            vec![bound("O1", "T-1"), picked(&one, "1", 3, "T-1")],
            Expect::Drop,
            Tone::Ok,
        ),
        (
            "a whole job: pick, drop at packing, finish",
            &two,
            vec![
                at("A-01"),
                item("P", 3),
                tote("T-1"),
                at("A-02"),
                item("Q", 2),
                tote("T-1"),
                packing("PACK-1"),
            ],
            vec![
                bound("O1", "T-1"),
                picked(&two, "1", 3, "T-1"),
                picked(&two, "2", 2, "T-1"),
                dropped("PACK-1", &[("O1", "T-1")]),
                Fact::Finished,
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "a drop at a location that is not packing",
            &one,
            vec![at("A-01"), item("P", 3), tote("T-1"), at("A-01")],
            vec![bound("O1", "T-1"), picked(&one, "1", 3, "T-1")],
            Expect::Drop,
            Tone::Error,
        ),
        (
            "a wrong item changes nothing",
            &one,
            vec![at("A-01"), item("P", 1), item("X", 1)],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "more than the line wants by scans",
            &one,
            vec![at("A-01"), item("P", 2), item("P", 2)],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "more than the line wants by keypad",
            &one,
            vec![at("A-01"), item("P", 1), Input::Quantity(4)],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "repeated scans add up",
            &one,
            vec![at("A-01"), item("P", 1), item("P", 1), item("P", 1)],
            vec![],
            Expect::Tote,
            Tone::Ok,
        ),
        (
            "the keypad sets the hand",
            &one,
            vec![at("A-01"), item("P", 1), Input::Quantity(3)],
            vec![],
            Expect::Tote,
            Tone::Ok,
        ),
        (
            "the keypad can lower a full hand",
            &one,
            vec![at("A-01"), item("P", 3), Input::Quantity(2)],
            vec![],
            Expect::Item,
            Tone::Ok,
        ),
        (
            "the keypad needs a scan of the goods first",
            &one,
            vec![at("A-01"), Input::Quantity(2)],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "a keypad quantity of 0",
            &one,
            vec![at("A-01"), item("P", 1), Input::Quantity(0)],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "a tote scan confirms a part in hand; the line stays current",
            &one,
            vec![at("A-01"), item("P", 2), tote("T-1")],
            vec![bound("O1", "T-1"), picked(&one, "1", 2, "T-1")],
            Expect::Item,
            Tone::Ok,
        ),
        (
            "a tote scan with nothing in hand",
            &one,
            vec![at("A-01"), tote("T-1")],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "another lot that expired is refused",
            &one,
            vec![at("A-01"), lot_item("P", "L2", Some(days(-1)))],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "another lot below the merchant's shelf life is refused",
            &one,
            vec![at("A-01"), lot_item("P", "L2", Some(days(29)))],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "another lot without an expiry is refused for dated goods",
            &one,
            vec![at("A-01"), lot_item("P", "L2", None)],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "another lot with just the shelf life is accepted",
            &one,
            vec![at("A-01"), lot_item("P", "L2", Some(days(30)))],
            vec![],
            Expect::Item,
            Tone::Warning,
        ),
        (
            "the suggested lot needs no check",
            &one,
            vec![at("A-01"), lot_item("P", "L1", Some(days(-5)))],
            vec![],
            Expect::Item,
            Tone::Ok,
        ),
        (
            "one lot per hand",
            &one,
            vec![
                at("A-01"),
                lot_item("P", "L2", Some(days(90))),
                lot_item("P", "L1", None),
            ],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "a serial scanned twice",
            &one,
            vec![at("A-01"), serial_item("P", "S1"), serial_item("P", "S1")],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "serials are counted by scans, not by keypad",
            &one,
            vec![at("A-01"), serial_item("P", "S1"), Input::Quantity(3)],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "a tote of another order of the job is refused",
            &orders,
            vec![
                at("A-01"),
                item("P", 1),
                tote("T-1"),
                at("A-02"),
                item("Q", 1),
                tote("T-1"),
            ],
            vec![bound("O1", "T-1"), picked(&orders, "1", 1, "T-1")],
            Expect::Tote,
            Tone::Error,
        ),
        (
            "an order with a tote takes no other tote",
            &two,
            vec![
                at("A-01"),
                item("P", 1),
                tote("T-1"),
                item("P", 2),
                tote("T-2"),
            ],
            vec![bound("O1", "T-1"), picked(&two, "1", 1, "T-1")],
            Expect::Tote,
            Tone::Error,
        ),
        (
            "short with nothing in hand: recorded at once, on to the next line",
            &two,
            vec![at("A-01"), Input::Short],
            vec![short(&two, "1", 0, 3)],
            Expect::Location,
            Tone::Warning,
        ),
        (
            "short with units in hand: they go into the tote first",
            &two,
            vec![at("A-01"), item("P", 1), Input::Short],
            vec![],
            Expect::Tote,
            Tone::Warning,
        ),
        (
            "short with units in hand, then the tote",
            &two,
            vec![at("A-01"), item("P", 1), Input::Short, tote("T-1")],
            vec![
                bound("O1", "T-1"),
                picked(&two, "1", 1, "T-1"),
                short(&two, "1", 1, 2),
            ],
            Expect::Location,
            Tone::Warning,
        ),
        (
            "short counts what went into the tote before",
            &two,
            vec![at("A-01"), item("P", 1), tote("T-1"), Input::Short],
            vec![
                bound("O1", "T-1"),
                picked(&two, "1", 1, "T-1"),
                short(&two, "1", 1, 2),
            ],
            Expect::Location,
            Tone::Warning,
        ),
        (
            "short only at the location",
            &two,
            vec![Input::Short],
            vec![],
            Expect::Location,
            Tone::Error,
        ),
        (
            "every line short: nothing to drop, the job finishes",
            &two,
            vec![at("A-01"), Input::Short, at("A-02"), Input::Short],
            vec![
                short(&two, "1", 0, 3),
                short(&two, "2", 0, 2),
                Fact::Finished,
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "the last line short after a pick: the totes go to packing",
            &two,
            vec![
                at("A-01"),
                item("P", 3),
                tote("T-1"),
                at("A-02"),
                Input::Short,
            ],
            vec![
                bound("O1", "T-1"),
                picked(&two, "1", 3, "T-1"),
                short(&two, "2", 0, 2),
            ],
            Expect::Drop,
            Tone::Warning,
        ),
        (
            "skip moves the line to the end",
            &two,
            vec![Input::Skip],
            vec![],
            Expect::Location,
            Tone::Ok,
        ),
        (
            "skipped lines must still be picked",
            &two,
            vec![
                Input::Skip,
                at("A-02"),
                item("Q", 2),
                tote("T-1"),
                at("A-01"),
                item("P", 3),
                tote("T-1"),
            ],
            vec![
                bound("O1", "T-1"),
                picked(&two, "2", 2, "T-1"),
                picked(&two, "1", 3, "T-1"),
            ],
            Expect::Drop,
            Tone::Ok,
        ),
        (
            "skip of the only line left",
            &one,
            vec![at("A-01"), Input::Skip],
            vec![],
            Expect::Item,
            Tone::Warning,
        ),
        (
            "skip with units in hand",
            &two,
            vec![at("A-01"), item("P", 1), Input::Skip],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "skip with the hand full",
            &two,
            vec![at("A-01"), item("P", 3), Input::Skip],
            vec![],
            Expect::Tote,
            Tone::Error,
        ),
        (
            "a line expected to empty its location asks for a zero check",
            &zero,
            vec![at("A-01"), item("P", 3), tote("T-1")],
            vec![bound("O1", "T-1"), picked(&zero, "1", 3, "T-1")],
            Expect::ZeroCheck,
            Tone::Ok,
        ),
        (
            "zero check: empty",
            &zero,
            vec![
                at("A-01"),
                item("P", 3),
                tote("T-1"),
                Input::ZeroCheck(true),
            ],
            vec![
                bound("O1", "T-1"),
                picked(&zero, "1", 3, "T-1"),
                Fact::ZeroChecked {
                    line_id: "1".into(),
                    location: "A-01".into(),
                    empty: true,
                },
            ],
            Expect::Drop,
            Tone::Ok,
        ),
        (
            "zero check: not empty asks for a count",
            &zero,
            vec![
                at("A-01"),
                item("P", 3),
                tote("T-1"),
                Input::ZeroCheck(false),
            ],
            vec![
                bound("O1", "T-1"),
                picked(&zero, "1", 3, "T-1"),
                Fact::ZeroChecked {
                    line_id: "1".into(),
                    location: "A-01".into(),
                    empty: false,
                },
            ],
            Expect::Drop,
            Tone::Warning,
        ),
        (
            "no zero check before the line is done",
            &zero,
            vec![at("A-01"), item("P", 1), tote("T-1")],
            vec![bound("O1", "T-1"), picked(&zero, "1", 1, "T-1")],
            Expect::Item,
            Tone::Ok,
        ),
        (
            "no zero check after a short",
            &zero,
            vec![at("A-01"), item("P", 1), Input::Short, tote("T-1")],
            vec![
                bound("O1", "T-1"),
                picked(&zero, "1", 1, "T-1"),
                short(&zero, "1", 1, 2),
            ],
            Expect::Drop,
            Tone::Warning,
        ),
        (
            "a zero check answer out of place",
            &one,
            vec![Input::ZeroCheck(true)],
            vec![],
            Expect::Location,
            Tone::Error,
        ),
        (
            "cancel drops the hand",
            &one,
            vec![at("A-01"), item("P", 2), Input::Cancel],
            vec![],
            Expect::Item,
            Tone::Warning,
        ),
        (
            "cancel at the tote goes back to the goods",
            &one,
            vec![at("A-01"), item("P", 3), Input::Cancel],
            vec![],
            Expect::Item,
            Tone::Warning,
        ),
        (
            "cancel of a short with units in hand",
            &one,
            vec![at("A-01"), item("P", 1), Input::Short, Input::Cancel],
            vec![],
            Expect::Item,
            Tone::Warning,
        ),
        (
            "an unknown code changes nothing",
            &one,
            vec![at("A-01"), item("P", 1), Input::Unknown("ZZZ".into())],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "input after the job is done",
            &two,
            vec![
                at("A-01"),
                Input::Short,
                at("A-02"),
                Input::Short,
                at("A-02"),
            ],
            vec![
                short(&two, "1", 0, 3),
                short(&two, "2", 0, 2),
                Fact::Finished,
            ],
            Expect::Nothing,
            Tone::Error,
        ),
    ];
    for (name, start, inputs, facts, expects, tone) in cases {
        let (end, got, feedback) = run(start, inputs);
        assert_eq!(got, facts, "{name}: facts");
        assert_eq!(end.expects(), expects, "{name}: expects");
        assert_eq!(feedback.last().map(|f| f.tone), Some(tone), "{name}: tone");
    }
}

#[test]
fn lines_are_worked_in_walking_order_then_as_given() {
    let p = task(
        vec![order("O1", 1)],
        vec![
            line("c", "O1", "P", "C-01", 30, 1),
            line("a1", "O1", "P", "A-01", 10, 1),
            line("b", "O1", "P", "B-01", 20, 1),
            line("a2", "O1", "P", "A-02", 10, 1),
        ],
    );
    let ids: Vec<&str> = p.lines().iter().map(|s| s.line.line_id.as_str()).collect();
    assert_eq!(ids, ["a1", "a2", "b", "c"]);
    let mut visited = Vec::new();
    let mut p = p;
    while let Some(line) = p.current() {
        visited.push(line.line_id.clone());
        let location = line.location.clone();
        (p, _, _) = run(&p, vec![at(&location), item("P", 1), tote("T-1")]);
    }
    assert_eq!(visited, ["a1", "a2", "b", "c"]);
    assert_eq!(p.expects(), Expect::Drop);
}

#[test]
fn another_lot_is_recorded_as_picked_with_the_suggested_one() {
    let one = one_line();
    let (p, facts, feedback) = run(
        &one,
        vec![
            at("A-01"),
            lot_item("P", "L2", Some(days(60))),
            item("P", 1),
            tote("T-1"),
        ],
    );
    assert_eq!(
        feedback[1].message,
        Message::OtherLot {
            name: "Product P".into(),
            lot: "L2".into(),
            suggested: Some("L1".into()),
        }
    );
    let Fact::Picked {
        goods,
        suggested_lot,
        other_lot,
        quantity,
        ..
    } = &facts[1]
    else {
        panic!("expected a pick, got {facts:?}");
    };
    assert_eq!(goods.lot.as_deref(), Some("L2"));
    assert_eq!(goods.expiry, Some(days(60)));
    assert_eq!(suggested_lot.as_deref(), Some("L1"));
    assert!(other_lot);
    assert_eq!(*quantity, 2);
    // The rest of the line may come from the suggested lot again.
    let (p, _, feedback) = run(&p, vec![lot_item("P", "L1", None)]);
    assert_eq!(feedback[0].tone, Tone::Ok);
    assert_eq!(p.expects(), Expect::Tote);
}

#[test]
fn lot_refusals_say_why() {
    let one = one_line();
    let cases = [
        (
            Some(days(-1)),
            Message::LotExpired {
                lot: "L2".into(),
                expiry: days(-1),
            },
        ),
        (
            Some(days(10)),
            Message::ShelfLifeTooShort {
                lot: "L2".into(),
                expiry: days(10),
                days_left: 10,
                min_days: 30,
            },
        ),
        (None, Message::LotExpiryUnknown { lot: "L2".into() }),
    ];
    for (expiry, message) in cases {
        let (p, _, feedback) = run(&one, vec![at("A-01"), lot_item("P", "L2", expiry)]);
        assert_eq!(feedback[1].message, message);
        assert_eq!(p.in_hand(), 0);
    }
    // A merchant without a shelf-life rule takes any lot that has not expired.
    let mut line = line("1", "O1", "P", "A-01", 10, 1);
    line.goods.merchant_id = "M2".into();
    let p = task(vec![order("O1", 1)], vec![line]);
    let other = Input::Item(ItemScan {
        merchant_id: "M2".into(),
        ..scan("P", 1, Some("L2"), Some(today()))
    });
    let (p, _, _) = run(&p, vec![at("A-01"), other]);
    assert_eq!(p.expects(), Expect::Tote);
}

#[test]
fn errors_name_what_is_expected_and_keep_the_prompt() {
    let orders = two_orders();
    let (p, _, _) = run(
        &orders,
        vec![
            at("A-01"),
            item("P", 1),
            tote("T-1"),
            at("A-02"),
            item("Q", 1),
        ],
    );
    let prompt = p.prompt();
    let cases = [
        (
            tote("T-1"),
            Message::ToteHoldsOtherOrder {
                tote: "T-1".into(),
                order: "#O1".into(),
            },
        ),
        (
            at("A-09"),
            Message::ScanEmptyTote {
                name: "Product Q".into(),
                quantity: 1,
                order: "#O2".into(),
                slot: 2,
            },
        ),
        (
            Input::Unknown("??".into()),
            Message::UnknownCode { raw: "??".into() },
        ),
    ];
    for (input, message) in cases {
        let step = p.step(input, today());
        assert_eq!(step.feedback, Feedback::error(message));
        assert!(step.facts.is_empty());
        assert_eq!(step.next, p);
        assert_eq!(step.next.prompt(), prompt);
    }
    let one = one_line();
    let step = one.step(at("B-07"), today());
    assert_eq!(
        step.feedback.message,
        Message::WrongLocation {
            scanned: "B-07".into(),
            expected: "A-01".into(),
        }
    );
    let (p, _, _) = run(&two_lines(), vec![at("A-01"), item("P", 1), tote("T-1")]);
    let step = p
        .step(item("P", 2), today())
        .next
        .step(tote("T-9"), today());
    assert_eq!(
        step.feedback.message,
        Message::WrongTote {
            scanned: "T-9".into(),
            order: "#O1".into(),
            tote: "T-1".into(),
        }
    );
    let (_, _, feedback) = run(&one, vec![at("A-01"), item("X", 1)]);
    assert_eq!(
        feedback[1].message,
        Message::WrongItem {
            scanned: "Product X".into(),
            expected: "Product P".into(),
        }
    );
    let (_, _, feedback) = run(&one, vec![at("A-01"), item("P", 2), Input::Quantity(5)]);
    assert_eq!(
        feedback[2].message,
        Message::MoreThanLeft {
            name: "Product P".into(),
            asked: 5,
            left: 3,
        }
    );
}

#[test]
fn prompts_say_where_the_flow_stands() {
    let orders = two_orders();
    let steps: Vec<(Input, Message)> = vec![
        (
            at("A-01"),
            Message::Pick {
                location: "A-01".into(),
                name: "Product P".into(),
                quantity: 1,
                lot: Some("L1".into()),
                in_hand: 0,
            },
        ),
        (
            item("P", 1),
            Message::ScanEmptyTote {
                name: "Product P".into(),
                quantity: 1,
                order: "#O1".into(),
                slot: 1,
            },
        ),
        (
            tote("T-1"),
            Message::GoTo {
                location: "A-02".into(),
                name: "Product Q".into(),
                quantity: 1,
            },
        ),
        (
            at("A-02"),
            Message::Pick {
                location: "A-02".into(),
                name: "Product Q".into(),
                quantity: 1,
                lot: Some("L1".into()),
                in_hand: 0,
            },
        ),
        (
            item("Q", 1),
            Message::ScanEmptyTote {
                name: "Product Q".into(),
                quantity: 1,
                order: "#O2".into(),
                slot: 2,
            },
        ),
        (tote("T-2"), Message::DropAtPacking { totes: 2 }),
        (packing("PACK-1"), Message::TaskDone),
    ];
    assert_eq!(
        orders.prompt(),
        Message::GoTo {
            location: "A-01".into(),
            name: "Product P".into(),
            quantity: 1,
        }
    );
    let mut p = orders;
    for (input, prompt) in steps {
        let step = p.step(input, today());
        assert_ne!(step.feedback.tone, Tone::Error, "{prompt:?}");
        p = step.next;
        assert_eq!(p.prompt(), prompt);
    }
    // An order that has its tote is told which one.
    let (p, _, _) = run(
        &two_lines(),
        vec![
            at("A-01"),
            item("P", 3),
            tote("T-1"),
            at("A-02"),
            item("Q", 2),
        ],
    );
    assert_eq!(
        p.prompt(),
        Message::PutInTote {
            name: "Product Q".into(),
            quantity: 2,
            order: "#O1".into(),
            slot: 1,
            tote: "T-1".into(),
        }
    );
}

#[test]
fn a_cluster_of_three_orders_goes_into_three_totes() {
    let start = task(
        vec![order("O1", 1), order("O2", 2), order("O3", 3)],
        vec![
            line("1a", "O1", "P", "A-01", 10, 2),
            line("2a", "O2", "P", "A-01", 10, 1),
            line("3a", "O3", "Q", "A-02", 20, 4),
            line("1b", "O1", "Q", "A-02", 20, 1),
            line("2b", "O2", "R", "B-01", 30, 1),
        ],
    );
    let (p, facts, feedback) = run(
        &start,
        vec![
            // Two orders' lines at A-01: the second needs no new location scan.
            at("A-01"),
            item("P", 2),
            tote("T-1"),
            item("P", 1),
            tote("T-2"),
            at("A-02"),
            Input::Quantity(4), // refused: scan the goods first
            item("Q", 1),
            Input::Quantity(4),
            tote("T-3"),
            item("Q", 1),
            tote("T-1"),
            at("B-01"),
            item("R", 1),
            tote("T-2"),
            packing("PACK-1"),
        ],
    );
    let tones: Vec<Tone> = feedback.iter().map(|f| f.tone).collect();
    assert_eq!(tones.iter().filter(|t| **t == Tone::Error).count(), 1);
    assert_eq!(tones.last(), Some(&Tone::Done));
    assert_eq!(
        facts,
        vec![
            bound("O1", "T-1"),
            picked(&start, "1a", 2, "T-1"),
            bound("O2", "T-2"),
            picked(&start, "2a", 1, "T-2"),
            bound("O3", "T-3"),
            picked(&start, "3a", 4, "T-3"),
            picked(&start, "1b", 1, "T-1"),
            picked(&start, "2b", 1, "T-2"),
            dropped("PACK-1", &[("O1", "T-1"), ("O2", "T-2"), ("O3", "T-3")]),
            Fact::Finished,
        ]
    );
    assert!(p.is_finished());
    assert_eq!((p.lines_done(), p.lines_left()), (5, 0));
    assert!(
        p.lines()
            .iter()
            .all(|s| s.status == LineStatus::Picked && s.line.picked == s.line.quantity)
    );
    let totes: Vec<_> = p.orders().iter().map(|o| o.tote.as_deref()).collect();
    assert_eq!(totes, [Some("T-1"), Some("T-2"), Some("T-3")]);
}

#[test]
fn line_status_follows_skips_picks_and_shorts() {
    let three = task(
        vec![order("O1", 1)],
        vec![
            line("1", "O1", "P", "A-01", 10, 1),
            line("2", "O1", "Q", "A-02", 20, 1),
            line("3", "O1", "R", "A-03", 30, 1),
        ],
    );
    let status = |p: &Picking| -> Vec<LineStatus> { p.lines().iter().map(|s| s.status).collect() };
    use LineStatus::*;
    let (p, _, _) = run(&three, vec![Input::Skip]);
    assert_eq!(status(&p), [Skipped, Open, Open]);
    assert_eq!(p.current().map(|l| l.line_id.as_str()), Some("2"));
    let (p, _, _) = run(&p, vec![at("A-02"), Input::Short]);
    assert_eq!(status(&p), [Skipped, Short, Open]);
    let (p, _, _) = run(&p, vec![at("A-03"), Input::Skip]);
    assert_eq!(status(&p), [Skipped, Short, Skipped]);
    assert_eq!(p.current().map(|l| l.line_id.as_str()), Some("1"));
    assert_eq!((p.lines_done(), p.lines_left()), (1, 2));
    let (p, _, _) = run(&p, vec![at("A-01"), item("P", 1), tote("T-1")]);
    assert_eq!(status(&p), [Picked, Short, Skipped]);
    // The only line left stays when skipped.
    let (p, _, feedback) = run(&p, vec![Input::Skip]);
    assert_eq!(
        feedback[0].message,
        Message::OnlyLineLeft {
            name: "Product R".into()
        }
    );
    assert_eq!(p.current().map(|l| l.line_id.as_str()), Some("3"));
}

#[test]
fn a_resumed_job_keeps_what_was_picked_and_the_totes_bound() {
    let mut o1 = order("O1", 1);
    o1.tote = Some("T-1".into());
    let mut done = line("1", "O1", "P", "A-01", 10, 2);
    done.picked = 2;
    let mut partly = line("2", "O1", "Q", "A-02", 20, 5);
    partly.picked = 3;
    let fresh = line("3", "O2", "R", "A-03", 30, 1);
    let start = task(vec![o1, order("O2", 2)], vec![done, partly, fresh]);
    assert_eq!((start.lines_done(), start.lines_left()), (1, 2));
    assert_eq!(start.lines()[0].status, LineStatus::Picked);
    assert_eq!(
        start.prompt(),
        Message::GoTo {
            location: "A-02".into(),
            name: "Product Q".into(),
            quantity: 2,
        }
    );
    let (p, facts, feedback) = run(
        &start,
        vec![
            at("A-02"),
            item("Q", 3), // more than the 2 left
            item("Q", 2),
            tote("T-3"), // not the order's tote
            tote("T-1"),
            at("A-03"),
            item("R", 1),
            tote("T-1"), // O1's tote
            tote("T-2"),
            packing("PACK-1"),
        ],
    );
    let errors: Vec<usize> = (0..feedback.len())
        .filter(|&i| feedback[i].tone == Tone::Error)
        .collect();
    assert_eq!(errors, [1, 3, 7]);
    assert_eq!(
        facts,
        vec![
            picked(&start, "2", 2, "T-1"),
            bound("O2", "T-2"),
            picked(&start, "3", 1, "T-2"),
            dropped("PACK-1", &[("O1", "T-1"), ("O2", "T-2")]),
            Fact::Finished,
        ]
    );
    assert!(p.is_finished());
}

#[test]
fn resuming_a_job_with_everything_picked_goes_to_the_drop() {
    let mut o1 = order("O1", 1);
    o1.tote = Some("T-1".into());
    let mut l = line("1", "O1", "P", "A-01", 10, 2);
    l.picked = 2;
    let p = task(vec![o1], vec![l.clone()]);
    assert_eq!(p.expects(), Expect::Drop);
    assert_eq!(p.current(), None);
    // Nothing left and no tote: nothing to do.
    let p = task(vec![order("O1", 1)], vec![l]);
    assert!(p.is_finished());
    let p = task(vec![], vec![]);
    assert!(p.is_finished());
}

#[test]
fn a_line_of_an_order_not_given_gets_its_own_slot() {
    let p = task(
        vec![order("O1", 4)],
        vec![line("1", "O9", "P", "A-01", 10, 1)],
    );
    assert_eq!(
        p.orders().last(),
        Some(&PickOrder {
            order_id: "O9".into(),
            reference: "O9".into(),
            slot: 5,
            tote: None,
        })
    );
}

#[test]
fn serials_scanned_are_recorded_with_the_pick() {
    let (_, facts, _) = run(
        &one_line(),
        vec![
            at("A-01"),
            serial_item("P", "S1"),
            serial_item("P", "S2"),
            tote("T-1"),
        ],
    );
    let Some(Fact::Picked {
        serials, quantity, ..
    }) = facts.get(1)
    else {
        panic!("expected a pick, got {facts:?}");
    };
    assert_eq!(serials, &["S1", "S2"]);
    assert_eq!(*quantity, 2);
}

#[test]
fn step_never_mutates_and_cancel_records_nothing() {
    let one = one_line();
    let (p, _, _) = run(&one, vec![at("A-01"), item("P", 2)]);
    let before = p.clone();
    for input in [tote("T-1"), Input::Cancel, item("P", 1), Input::Short] {
        let step = p.step(input, today());
        assert_eq!(p, before);
        assert_ne!(step.next, before);
    }
    let step = p.step(Input::Cancel, today());
    assert!(step.facts.is_empty());
    assert_eq!(
        step.feedback,
        Feedback::warning(Message::Cancelled { dropped: 2 })
    );
    assert_eq!(step.next.in_hand(), 0);
    assert_eq!(step.next.current().map(|l| l.picked), Some(0));
}

/// A small deterministic pseudo-random generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// What the flow asks for now, so that random walks also get through whole jobs.
fn helpful_input(p: &Picking, rng: &mut Rng) -> Input {
    let Some(line) = p.current() else {
        return packing("PACK-1");
    };
    match p.expects() {
        Expect::Location => at(&line.location),
        Expect::Item => item(&line.goods.product_id, rng.below(2) as i64 + 1),
        Expect::ZeroCheck => Input::ZeroCheck(rng.below(2) == 0),
        _ => {
            let order = p
                .orders()
                .iter()
                .find(|o| o.order_id == line.order_id)
                .unwrap();
            let fresh = format!("T-{}", order.slot);
            Input::Tote(order.tote.clone().unwrap_or(fresh))
        }
    }
}

fn random_input(rng: &mut Rng) -> Input {
    const PRODUCTS: [&str; 4] = ["P", "Q", "R", "X"];
    const LOCATIONS: [&str; 5] = ["A-01", "A-02", "B-01", "C-09", "PACK-1"];
    const TOTES: [&str; 4] = ["T-1", "T-2", "T-3", "T-4"];
    let pick = |rng: &mut Rng, options: &[&str]| options[rng.below(options.len())].to_string();
    match rng.below(12) {
        0 | 1 => {
            let code = pick(rng, &LOCATIONS);
            Input::Location(Place {
                is_packing: code.starts_with("PACK") || rng.below(8) == 0,
                code,
            })
        }
        2..=4 => {
            let lots = [None, Some("L1"), Some("L2")];
            Input::Item(ItemScan {
                merchant_id: if rng.below(10) == 0 { "M2" } else { "M1" }.into(),
                product_id: pick(rng, &PRODUCTS),
                name: "goods".into(),
                units: rng.below(4) as i64 - 1,
                lot: lots[rng.below(3)].map(str::to_string),
                expiry: [None, Some(days(-3)), Some(days(10)), Some(days(90))][rng.below(4)],
                serial: (rng.below(4) == 0).then(|| format!("S{}", rng.below(3))),
            })
        }
        5 | 6 => Input::Tote(pick(rng, &TOTES)),
        7 => Input::Quantity(rng.below(8) as i64 - 2),
        8 => [Input::Short, Input::Skip][rng.below(2)].clone(),
        9 => Input::ZeroCheck(rng.below(2) == 0),
        10 => Input::Cancel,
        _ => Input::Unknown("?".into()),
    }
}

#[test]
fn arbitrary_inputs_never_break_the_rules() {
    let start = task(
        vec![order("O1", 1), order("O2", 2), order("O3", 3)],
        vec![
            PickLine {
                expected_left: Some(0),
                ..line("1", "O1", "P", "A-01", 10, 3)
            },
            line("2", "O2", "P", "A-01", 10, 2),
            line("3", "O3", "Q", "A-02", 20, 4),
            PickLine {
                expected_left: Some(0),
                ..line("4", "O1", "R", "B-01", 30, 1)
            },
        ],
    );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut finished = 0;
    for _ in 0..200 {
        let mut p = start.clone();
        let mut totes: Vec<(String, String)> = Vec::new();
        for _ in 0..300 {
            if p.is_finished() {
                // A finished job takes nothing more; the walk goes on with a new one.
                finished += 1;
                assert_eq!(p.step(Input::Cancel, today()).feedback.tone, Tone::Error);
                p = start.clone();
                totes.clear();
            }
            let input = if rng.below(3) == 0 {
                helpful_input(&p, &mut rng)
            } else {
                random_input(&mut rng)
            };
            let before = p.clone();
            let step = p.step(input.clone(), today());
            assert_eq!(p, before, "step mutated its state");
            if step.feedback.tone == Tone::Error {
                assert!(step.facts.is_empty(), "{input:?}: an error recorded facts");
                assert_eq!(step.next, p, "{input:?}: an error changed the state");
            }
            if !step.facts.is_empty() {
                assert!(
                    matches!(
                        input,
                        Input::Tote(_) | Input::Short | Input::ZeroCheck(_) | Input::Location(_)
                    ),
                    "{input:?} recorded {:?}",
                    step.facts
                );
            }
            for fact in &step.facts {
                match fact {
                    Fact::ToteBound { order_id, tote } => {
                        assert!(
                            totes.iter().all(|(o, t)| o != order_id && t != tote),
                            "{tote} bound twice"
                        );
                        totes.push((order_id.clone(), tote.clone()));
                    }
                    Fact::Picked {
                        order_id,
                        tote,
                        quantity,
                        ..
                    } => {
                        assert!(*quantity > 0);
                        assert!(totes.contains(&(order_id.clone(), tote.clone())));
                    }
                    Fact::Short { missing, .. } => assert!(*missing > 0),
                    Fact::Finished => assert!(step.next.is_finished()),
                    Fact::ZeroChecked { .. } | Fact::Dropped { .. } => {}
                }
            }
            let next = step.next;
            for (old, new) in p.lines().iter().zip(next.lines()) {
                let picked_now: i64 = step
                    .facts
                    .iter()
                    .filter_map(|f| match f {
                        Fact::Picked {
                            line_id, quantity, ..
                        } if *line_id == new.line.line_id => Some(*quantity),
                        _ => None,
                    })
                    .sum();
                assert_eq!(new.line.picked, old.line.picked + picked_now);
                assert!((0..=new.line.quantity).contains(&new.line.picked));
            }
            assert_eq!(next.lines_done() + next.lines_left(), next.lines().len());
            if let Some(line) = next.current() {
                assert!(next.in_hand() <= line.left());
            } else {
                assert_eq!(next.in_hand(), 0);
            }
            p = next;
        }
    }
    // The walk reaches the end of a job now and then, so the invariants cover finishing too.
    assert!(finished > 0, "no random walk finished a job");
}

#[test]
fn no_zero_check_while_another_line_still_takes_from_the_same_place() {
    // Two orders take P from A-01; the device expects A-01 empty after both. The first is
    // skipped, so the second is picked first: A-01 is not asked about until the last of them.
    let mut first = line("1", "O1", "P", "A-01", 10, 1);
    first.expected_left = Some(1);
    let mut second = line("1", "O2", "P", "A-01", 10, 1);
    second.expected_left = Some(0);
    let start = task(vec![order("O1", 1), order("O2", 2)], vec![first, second]);
    let (p, _, _) = run(
        &start,
        vec![
            at("A-01"),
            Input::Skip,
            at("A-01"),
            item("P", 1),
            tote("T-2"),
        ],
    );
    assert_eq!(
        p.expects(),
        Expect::Item,
        "on to the skipped line at the same place"
    );
    let (p, facts, _) = run(&p, vec![item("P", 1), tote("T-1")]);
    assert_eq!(p.expects(), Expect::ZeroCheck, "the last of them asks");
    assert!(
        !facts.iter().any(|f| matches!(f, Fact::ZeroChecked { .. })),
        "{facts:?}"
    );
}
