use super::*;
use crate::carton::{self, Item};

fn today() -> Date {
    Date::new(2026, 12, 1).unwrap()
}

fn line(product: &str, quantity: i64, insert: bool, grams: Option<u32>) -> PackLine {
    PackLine {
        product_id: product.into(),
        name: format!("Product {product}"),
        quantity,
        insert,
        unit_weight_g: grams,
    }
}

fn box_types() -> Vec<BoxSpec> {
    vec![
        BoxSpec {
            id: "S".into(),
            inner_mm: [200, 150, 100],
            max_weight_g: 5_000,
            fill_pct: 80,
            tare_g: 100,
        },
        BoxSpec {
            id: "M".into(),
            inner_mm: [300, 200, 150],
            max_weight_g: 10_000,
            fill_pct: 80,
            tare_g: 200,
        },
    ]
}

/// A parcel of a plan: its box (`None`: too large for any) and `(product, units)`.
type Planned<'a> = (Option<&'a str>, &'a [(&'a str, i64)]);

/// A carton plan of these parcels.
fn plan(parcels: &[Planned]) -> Plan {
    Plan {
        parcels: parcels
            .iter()
            .map(|(b, items)| ParcelPlan {
                box_id: b.map(str::to_string),
                no_box: b.is_none().then_some(NoBox::TooLarge),
                items: items.iter().map(|(p, n)| (p.to_string(), *n)).collect(),
                volume_ml: 0,
                weight_g: 0,
            })
            .collect(),
        unknown_size: vec![],
        unknown_weight: vec![],
    }
}

fn pack_order(lines: Vec<PackLine>, documents: &[&str], suggestion: Plan) -> PackOrder {
    PackOrder {
        order_id: "O1".into(),
        reference: "#1001".into(),
        merchant_id: "M1".into(),
        lines,
        documents: documents.iter().map(|d| d.to_string()).collect(),
        boxes: box_types(),
        suggestion,
    }
}

/// 2 of P (300 g each), 1 of Q (weight unknown), a GIFT insert (20 g) and a receipt; the plan
/// puts it all into one S.
fn order() -> PackOrder {
    pack_order(
        vec![
            line("P", 2, false, Some(300)),
            line("Q", 1, false, None),
            line("GIFT", 1, true, Some(20)),
        ],
        &["receipt"],
        plan(&[(Some("S"), &[("P", 2), ("Q", 1), ("GIFT", 1)])]),
    )
}

/// 2 of P only, into one S: its estimate is known (700 g with the box).
fn p_only() -> PackOrder {
    pack_order(
        vec![line("P", 2, false, Some(300))],
        &[],
        plan(&[(Some("S"), &[("P", 2)])]),
    )
}

/// 2 of P (300 g) into M, then 3 of R (100 g) into S.
fn two_parcels() -> PackOrder {
    pack_order(
        vec![
            line("P", 2, false, Some(300)),
            line("R", 3, false, Some(100)),
        ],
        &["receipt"],
        plan(&[(Some("M"), &[("P", 2)]), (Some("S"), &[("R", 3)])]),
    )
}

fn scan_of(merchant: &str, product: &str, units: i64) -> Input {
    Input::Item(ItemScan {
        merchant_id: merchant.into(),
        product_id: product.into(),
        name: format!("Product {product}"),
        units,
        lot: None,
        expiry: None,
        serial: None,
    })
}

fn item(product: &str, units: i64) -> Input {
    scan_of("M1", product, units)
}

fn boxed(id: &str) -> Input {
    Input::BoxType(id.into())
}

fn insert(product: &str) -> Entry {
    Entry::Insert(product.into())
}

fn document(kind: &str) -> Entry {
    Entry::Document(kind.into())
}

fn packed(parcel: u32, product: &str, quantity: i64) -> Fact {
    Fact::ItemPacked {
        parcel,
        product_id: product.into(),
        quantity,
        insert: false,
    }
}

fn packed_insert(parcel: u32, product: &str, quantity: i64) -> Fact {
    Fact::ItemPacked {
        parcel,
        product_id: product.into(),
        quantity,
        insert: true,
    }
}

fn unpacked(parcel: u32, product: &str) -> Fact {
    Fact::ItemUnpacked {
        parcel,
        product_id: product.into(),
        quantity: 1,
        insert: false,
    }
}

fn confirmed(entry: Entry, by: Confirmation) -> Fact {
    Fact::ChecklistConfirmed { entry, by }
}

/// A parcel closed in `box_id` where `suggested` was suggested.
fn closed(
    parcel: u32,
    box_id: Option<&str>,
    suggested: Option<&str>,
    weight_g: u64,
    weight_from: WeightFrom,
    contents: &[(&str, i64)],
) -> Fact {
    Fact::ParcelClosed {
        parcel,
        box_id: box_id.map(str::to_string),
        suggested_box: suggested.map(str::to_string),
        box_overridden: box_id != suggested,
        weight_g,
        weight_from,
        contents: contents.iter().map(|(p, n)| (p.to_string(), *n)).collect(),
    }
}

/// Runs inputs from a start, checking at every step that `step` left its state alone and that
/// an error changed and recorded nothing.
fn run(start: &Packing, inputs: Vec<Input>) -> (Packing, Vec<Fact>, Vec<Feedback>) {
    let mut p = start.clone();
    let mut facts = Vec::new();
    let mut feedback = Vec::new();
    for input in inputs {
        let before = p.clone();
        let step = p.step(input.clone(), today());
        assert_eq!(p, before, "step mutated its state");
        if step.feedback.tone == Tone::Error {
            assert!(step.facts.is_empty(), "{input:?}: an error recorded facts");
            assert_eq!(step.next, p, "{input:?}: an error changed the state");
        }
        facts.extend(step.facts);
        feedback.push(step.feedback);
        p = step.next;
    }
    (p, facts, feedback)
}

#[test]
fn packing_case_table() {
    let one = Packing::new(order());
    let p = Packing::new(p_only());
    let two = Packing::new(two_parcels());
    let everything = || {
        vec![
            boxed("S"),
            item("P", 2),
            item("Q", 1),
            item("GIFT", 1),
            Input::Tap(document("receipt")),
        ]
    };
    let everything_facts = || {
        vec![
            packed(1, "P", 2),
            packed(1, "Q", 1),
            packed_insert(1, "GIFT", 1),
            confirmed(insert("GIFT"), Confirmation::Scan),
            confirmed(document("receipt"), Confirmation::Tap),
        ]
    };
    let with = |mut inputs: Vec<Input>, more: Vec<Input>| {
        inputs.extend(more);
        inputs
    };
    let and = |mut facts: Vec<Fact>, more: Vec<Fact>| {
        facts.extend(more);
        facts
    };
    type Case<'a> = (&'a str, &'a Packing, Vec<Input>, Vec<Fact>, Expect, Tone);
    let cases: Vec<Case> = vec![
        (
            "a new order asks for the suggested box",
            &one,
            vec![],
            vec![],
            Expect::Box,
            Tone::Ok,
        ),
        (
            "the suggested box",
            &one,
            vec![boxed("S")],
            vec![],
            Expect::Item,
            Tone::Ok,
        ),
        (
            "an item packs its units into the open parcel",
            &one,
            vec![boxed("S"), item("P", 1), item("P", 1)],
            vec![packed(1, "P", 1), packed(1, "P", 1)],
            Expect::Item,
            Tone::Ok,
        ),
        (
            "a case code counts its pack",
            &one,
            vec![item("P", 2)],
            vec![packed(1, "P", 2)],
            Expect::Box,
            Tone::Ok,
        ),
        (
            "a wrong item packs nothing",
            &one,
            vec![boxed("S"), item("X", 1)],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "another merchant's item packs nothing",
            &one,
            vec![boxed("S"), scan_of("M2", "P", 1)],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "one too many packs nothing",
            &one,
            vec![boxed("S"), item("P", 2), item("P", 1)],
            vec![packed(1, "P", 2)],
            Expect::Item,
            Tone::Error,
        ),
        (
            "a case code of more than is left packs nothing",
            &one,
            vec![boxed("S"), item("P", 1), item("P", 2)],
            vec![packed(1, "P", 1)],
            Expect::Item,
            Tone::Error,
        ),
        (
            "a scan of no units",
            &one,
            vec![item("P", 0)],
            vec![],
            Expect::Box,
            Tone::Error,
        ),
        (
            "an insert by scan is packed and confirmed",
            &one,
            vec![boxed("S"), item("GIFT", 1)],
            vec![
                packed_insert(1, "GIFT", 1),
                confirmed(insert("GIFT"), Confirmation::Scan),
            ],
            Expect::Item,
            Tone::Ok,
        ),
        (
            "an insert by tap counts as packed",
            &one,
            vec![boxed("S"), Input::Tap(insert("GIFT"))],
            vec![
                packed_insert(1, "GIFT", 1),
                confirmed(insert("GIFT"), Confirmation::Tap),
            ],
            Expect::Item,
            Tone::Ok,
        ),
        (
            "an insert tapped after its scan records nothing more",
            &one,
            vec![boxed("S"), item("GIFT", 1), Input::Tap(insert("GIFT"))],
            vec![
                packed_insert(1, "GIFT", 1),
                confirmed(insert("GIFT"), Confirmation::Scan),
            ],
            Expect::Item,
            Tone::Warning,
        ),
        (
            "a document by tap",
            &one,
            vec![Input::Tap(document("receipt"))],
            vec![confirmed(document("receipt"), Confirmation::Tap)],
            Expect::Box,
            Tone::Ok,
        ),
        (
            "a document tapped twice is confirmed once",
            &one,
            vec![
                Input::Tap(document("receipt")),
                Input::Tap(document("receipt")),
            ],
            vec![confirmed(document("receipt"), Confirmation::Tap)],
            Expect::Box,
            Tone::Warning,
        ),
        (
            "an entry not on the checklist",
            &one,
            vec![Input::Tap(document("invoice")), Input::Tap(insert("P"))],
            vec![],
            Expect::Box,
            Tone::Error,
        ),
        (
            "an empty parcel is not closed",
            &one,
            vec![boxed("S"), Input::CloseParcel],
            vec![],
            Expect::Item,
            Tone::Error,
        ),
        (
            "a parcel without a box is not closed",
            &p,
            vec![item("P", 2), Input::KeypadWeight(700), Input::CloseParcel],
            vec![packed(1, "P", 2)],
            Expect::Box,
            Tone::Error,
        ),
        (
            "a parcel without a weight is not closed (Q's weight is unknown: no estimate)",
            &one,
            vec![boxed("S"), item("Q", 1), Input::CloseParcel],
            vec![packed(1, "Q", 1)],
            Expect::Item,
            Tone::Error,
        ),
        (
            "nor finished",
            &one,
            with(everything(), vec![Input::Finish]),
            everything_facts(),
            Expect::Weight,
            Tone::Error,
        ),
        (
            "a weight of 0 is refused",
            &one,
            vec![boxed("S"), item("Q", 1), Input::KeypadWeight(0)],
            vec![packed(1, "Q", 1)],
            Expect::Item,
            Tone::Error,
        ),
        (
            "an empty parcel is not weighed",
            &one,
            vec![Input::ScaleWeight(500)],
            vec![],
            Expect::Box,
            Tone::Error,
        ),
        (
            "the estimate needs no typing: units' weights and the box's tare",
            &p,
            vec![boxed("S"), item("P", 2), Input::Finish],
            vec![
                packed(1, "P", 2),
                closed(
                    1,
                    Some("S"),
                    Some("S"),
                    700,
                    WeightFrom::Estimate,
                    &[("P", 2)],
                ),
                Fact::Finished { parcels: 1 },
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "a typed weight wins over the estimate",
            &p,
            vec![
                boxed("S"),
                item("P", 2),
                Input::KeypadWeight(745),
                Input::Finish,
            ],
            vec![
                packed(1, "P", 2),
                closed(
                    1,
                    Some("S"),
                    Some("S"),
                    745,
                    WeightFrom::Keypad,
                    &[("P", 2)],
                ),
                Fact::Finished { parcels: 1 },
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "the scale's weight wins over a typed one",
            &p,
            vec![
                boxed("S"),
                item("P", 2),
                Input::ScaleWeight(712),
                Input::KeypadWeight(800),
                Input::Finish,
            ],
            vec![
                packed(1, "P", 2),
                closed(1, Some("S"), Some("S"), 712, WeightFrom::Scale, &[("P", 2)]),
                Fact::Finished { parcels: 1 },
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "a scale after typing",
            &p,
            vec![
                boxed("S"),
                item("P", 2),
                Input::KeypadWeight(800),
                Input::ScaleWeight(712),
                Input::Finish,
            ],
            vec![
                packed(1, "P", 2),
                closed(1, Some("S"), Some("S"), 712, WeightFrom::Scale, &[("P", 2)]),
                Fact::Finished { parcels: 1 },
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "a weight read before the last unit went in no longer holds",
            &p,
            vec![
                boxed("S"),
                item("P", 1),
                Input::ScaleWeight(420),
                item("P", 1),
                Input::Finish,
            ],
            vec![
                packed(1, "P", 1),
                packed(1, "P", 1),
                closed(
                    1,
                    Some("S"),
                    Some("S"),
                    700,
                    WeightFrom::Estimate,
                    &[("P", 2)],
                ),
                Fact::Finished { parcels: 1 },
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "another box type overrides the suggestion, and is recorded as such",
            &p,
            vec![boxed("M"), item("P", 2), Input::Finish],
            vec![
                packed(1, "P", 2),
                closed(
                    1,
                    Some("M"),
                    Some("S"),
                    800,
                    WeightFrom::Estimate,
                    &[("P", 2)],
                ),
                Fact::Finished { parcels: 1 },
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "the override is a warning when scanned",
            &p,
            vec![boxed("M")],
            vec![],
            Expect::Item,
            Tone::Warning,
        ),
        (
            "the last box scanned counts",
            &p,
            vec![boxed("M"), boxed("S"), item("P", 2), Input::Finish],
            vec![
                packed(1, "P", 2),
                closed(
                    1,
                    Some("S"),
                    Some("S"),
                    700,
                    WeightFrom::Estimate,
                    &[("P", 2)],
                ),
                Fact::Finished { parcels: 1 },
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "a box type the warehouse does not have",
            &p,
            vec![boxed("XL")],
            vec![],
            Expect::Box,
            Tone::Error,
        ),
        (
            "without a box where one was suggested is an override",
            &p,
            vec![Input::NoBox, item("P", 2), Input::Finish],
            vec![
                packed(1, "P", 2),
                closed(1, None, Some("S"), 600, WeightFrom::Estimate, &[("P", 2)]),
                Fact::Finished { parcels: 1 },
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "finishing too early is refused: units left",
            &one,
            vec![boxed("S"), item("P", 2), Input::Finish],
            vec![packed(1, "P", 2)],
            Expect::Item,
            Tone::Error,
        ),
        (
            "finishing too early is refused: the receipt is not in",
            &one,
            vec![
                boxed("S"),
                item("P", 2),
                item("Q", 1),
                item("GIFT", 1),
                Input::KeypadWeight(1_500),
                Input::Finish,
            ],
            vec![
                packed(1, "P", 2),
                packed(1, "Q", 1),
                packed_insert(1, "GIFT", 1),
                confirmed(insert("GIFT"), Confirmation::Scan),
            ],
            Expect::Checklist,
            Tone::Error,
        ),
        (
            "finish closes the last parcel",
            &one,
            with(
                everything(),
                vec![Input::KeypadWeight(1_500), Input::Finish],
            ),
            and(
                everything_facts(),
                vec![
                    closed(
                        1,
                        Some("S"),
                        Some("S"),
                        1_500,
                        WeightFrom::Keypad,
                        &[("P", 2), ("Q", 1), ("GIFT", 1)],
                    ),
                    Fact::Finished { parcels: 1 },
                ],
            ),
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "closing the parcel that completes the order finishes it",
            &one,
            with(
                everything(),
                vec![Input::KeypadWeight(1_500), Input::CloseParcel],
            ),
            and(
                everything_facts(),
                vec![
                    closed(
                        1,
                        Some("S"),
                        Some("S"),
                        1_500,
                        WeightFrom::Keypad,
                        &[("P", 2), ("Q", 1), ("GIFT", 1)],
                    ),
                    Fact::Finished { parcels: 1 },
                ],
            ),
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "the last parcel closed before the receipt: the finish closes nothing more",
            &p,
            vec![boxed("S"), item("P", 2), Input::CloseParcel],
            vec![
                packed(1, "P", 2),
                closed(
                    1,
                    Some("S"),
                    Some("S"),
                    700,
                    WeightFrom::Estimate,
                    &[("P", 2)],
                ),
                Fact::Finished { parcels: 1 },
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "a finished order takes nothing more",
            &p,
            vec![boxed("S"), item("P", 2), Input::Finish, Input::Cancel],
            vec![
                packed(1, "P", 2),
                closed(
                    1,
                    Some("S"),
                    Some("S"),
                    700,
                    WeightFrom::Estimate,
                    &[("P", 2)],
                ),
                Fact::Finished { parcels: 1 },
            ],
            Expect::Nothing,
            Tone::Error,
        ),
        (
            "two parcels",
            &two,
            vec![
                boxed("M"),
                item("P", 2),
                Input::CloseParcel,
                boxed("S"),
                item("R", 3),
                Input::Tap(document("receipt")),
                Input::Finish,
            ],
            vec![
                packed(1, "P", 2),
                closed(
                    1,
                    Some("M"),
                    Some("M"),
                    800,
                    WeightFrom::Estimate,
                    &[("P", 2)],
                ),
                packed(2, "R", 3),
                confirmed(document("receipt"), Confirmation::Tap),
                closed(
                    2,
                    Some("S"),
                    Some("S"),
                    400,
                    WeightFrom::Estimate,
                    &[("R", 3)],
                ),
                Fact::Finished { parcels: 2 },
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "the plan's first parcel is full: close it",
            &two,
            vec![boxed("M"), item("P", 2)],
            vec![packed(1, "P", 2)],
            Expect::Close,
            Tone::Ok,
        ),
        (
            "the next parcel asks for its own box",
            &two,
            vec![boxed("M"), item("P", 2), Input::CloseParcel],
            vec![
                packed(1, "P", 2),
                closed(
                    1,
                    Some("M"),
                    Some("M"),
                    800,
                    WeightFrom::Estimate,
                    &[("P", 2)],
                ),
            ],
            Expect::Box,
            Tone::Ok,
        ),
        (
            "the packer may pack it all in one parcel",
            &two,
            vec![
                boxed("M"),
                item("P", 2),
                item("R", 3),
                Input::Tap(document("receipt")),
                Input::Finish,
            ],
            vec![
                packed(1, "P", 2),
                packed(1, "R", 3),
                confirmed(document("receipt"), Confirmation::Tap),
                closed(
                    1,
                    Some("M"),
                    Some("M"),
                    1_100,
                    WeightFrom::Estimate,
                    &[("P", 2), ("R", 3)],
                ),
                Fact::Finished { parcels: 1 },
            ],
            Expect::Nothing,
            Tone::Done,
        ),
        (
            "cancel takes the last unit packed back out",
            &one,
            vec![boxed("S"), item("Q", 1), item("P", 2), Input::Cancel],
            vec![packed(1, "Q", 1), packed(1, "P", 2), unpacked(1, "P")],
            Expect::Item,
            Tone::Warning,
        ),
        (
            "cancel with an empty parcel does nothing",
            &two,
            vec![boxed("M"), item("P", 2), Input::CloseParcel, Input::Cancel],
            vec![
                packed(1, "P", 2),
                closed(
                    1,
                    Some("M"),
                    Some("M"),
                    800,
                    WeightFrom::Estimate,
                    &[("P", 2)],
                ),
            ],
            Expect::Box,
            Tone::Warning,
        ),
        (
            "an unknown code",
            &one,
            vec![Input::Unknown("??".into())],
            vec![],
            Expect::Box,
            Tone::Error,
        ),
    ];
    for (name, start, inputs, facts, expect, tone) in cases {
        let (p, got, feedback) = run(start, inputs);
        assert_eq!(got, facts, "{name}: facts");
        assert_eq!(p.expects(), expect, "{name}: expects");
        let last = feedback.last().map_or(Tone::Ok, |f| f.tone);
        assert_eq!(last, tone, "{name}: tone of {:?}", feedback.last());
    }
}

#[test]
fn errors_say_why_and_the_prompt_says_what_next() {
    let start = Packing::new(order());
    let (p, _, _) = run(&start, vec![boxed("S"), item("P", 2)]);
    let step = |input: Input| p.step(input, today()).feedback.message;
    assert_eq!(
        step(item("P", 1)),
        Message::MoreThanOrdered {
            name: "Product P".into(),
            asked: 1,
            left: 0,
        }
    );
    assert_eq!(
        step(item("X", 1)),
        Message::NotInOrder {
            name: "Product X".into()
        }
    );
    assert_eq!(
        step(Input::Finish),
        Message::NotAllPacked {
            units_left: 2,
            name: "Product Q".into(),
        }
    );
    // P's weight is known: the parcel could close with its estimate.
    assert!(matches!(
        step(Input::CloseParcel),
        Message::ParcelClosed {
            weight_g: 700,
            from: WeightFrom::Estimate,
            ..
        }
    ));
    assert_eq!(
        step(Input::KeypadWeight(MAX_WEIGHT_G + 1)),
        Message::BadWeight {
            grams: MAX_WEIGHT_G + 1
        }
    );
    assert_eq!(
        step(boxed("XL")),
        Message::UnknownBoxType { code: "XL".into() }
    );
    // The prompt after any of them is the one before.
    assert_eq!(
        p.prompt(),
        Message::ScanItems {
            parcel: 1,
            name: "Product Q".into(),
            left: 1,
            insert: false,
            units_left: 2,
        }
    );
    // Q's weight is not known: no estimate once it is in.
    let (q, _, _) = run(&p, vec![item("Q", 1)]);
    assert_eq!(q.estimated_weight(), None);
    assert_eq!(
        q.step(Input::CloseParcel, today()).feedback.message,
        Message::WeighFirst { parcel: 1 }
    );
    let (p, _, _) = run(&start, vec![item("P", 1)]);
    assert_eq!(
        p.step(Input::CloseParcel, today()).feedback.message,
        Message::BoxFirst {
            parcel: 1,
            suggested: Some("S".into())
        }
    );
    let (p, _, _) = run(&start, vec![item("P", 2), item("Q", 1), item("GIFT", 1)]);
    let (p, _, _) = run(&p, vec![boxed("S"), Input::KeypadWeight(900)]);
    assert_eq!(
        p.step(Input::Finish, today()).feedback.message,
        Message::ChecklistOpen {
            entry: document("receipt")
        }
    );
}

#[test]
fn prompts_walk_the_packer_through_an_order() {
    let start = Packing::new(two_parcels());
    let mut prompts = vec![start.prompt()];
    let mut p = start.clone();
    for input in [
        boxed("M"),
        item("P", 1),
        item("P", 1),
        Input::CloseParcel,
        boxed("S"),
        item("R", 3),
        Input::ScaleWeight(433),
        Input::Tap(document("receipt")),
        Input::Finish,
    ] {
        p = p.step(input, today()).next;
        prompts.push(p.prompt());
    }
    let items = |parcel, name: &str, left, units_left| Message::ScanItems {
        parcel,
        name: name.into(),
        left,
        insert: false,
        units_left,
    };
    assert_eq!(
        prompts,
        vec![
            Message::ScanBox {
                parcel: 1,
                suggested: Some("M".into()),
                no_box: None,
            },
            items(1, "Product P", 2, 5),
            items(1, "Product P", 1, 4),
            Message::CloseParcel {
                parcel: 1,
                weight: Some((800, WeightFrom::Estimate)),
            },
            Message::ScanBox {
                parcel: 2,
                suggested: Some("S".into()),
                no_box: None,
            },
            items(2, "Product R", 3, 3),
            Message::Confirm {
                entry: document("receipt")
            },
            Message::Confirm {
                entry: document("receipt")
            },
            Message::CloseAndFinish {
                parcel: 2,
                weight_g: 433,
                from: WeightFrom::Scale,
            },
            Message::OrderPacked { parcels: 2 },
        ]
    );
    assert_eq!(p.closed().len(), 2);
    assert!(p.is_finished());
}

#[test]
fn a_unit_that_fits_no_box_ships_without_one() {
    let start = Packing::new(pack_order(
        vec![
            line("SKI", 1, false, Some(1_500)),
            line("P", 1, false, Some(300)),
        ],
        &[],
        plan(&[(Some("S"), &[("P", 1)]), (None, &[("SKI", 1)])]),
    ));
    let (p, facts, feedback) = run(
        &start,
        vec![
            boxed("S"),
            item("P", 1),
            Input::CloseParcel,
            Input::NoBox,
            item("SKI", 1),
            Input::Finish,
        ],
    );
    assert!(p.is_finished());
    assert_eq!(
        feedback[3],
        Feedback::ok(Message::ShipsWithoutBox { parcel: 2 })
    );
    assert_eq!(
        facts[3..],
        [
            Fact::ParcelClosed {
                parcel: 2,
                box_id: None,
                suggested_box: None,
                box_overridden: false,
                weight_g: 1_500,
                weight_from: WeightFrom::Estimate,
                contents: vec![("SKI".into(), 1)],
            },
            Fact::Finished { parcels: 2 },
        ]
    );
    // The plan says so before the packer looks for a box.
    let (p, _, _) = run(&start, vec![boxed("S"), item("P", 1), Input::CloseParcel]);
    assert_eq!(
        p.prompt(),
        Message::ScanBox {
            parcel: 2,
            suggested: None,
            no_box: Some(NoBox::TooLarge),
        }
    );
    // A box where the plan said none is an override.
    let (_, facts, feedback) = run(&p, vec![boxed("M"), item("SKI", 1), Input::Finish]);
    assert_eq!(feedback[0].tone, Tone::Warning);
    assert!(matches!(
        facts[1],
        Fact::ParcelClosed {
            box_overridden: true,
            ..
        }
    ));
}

#[test]
fn a_parcel_beyond_the_plan_has_nothing_to_override() {
    let (p, _, _) = run(
        &Packing::new(two_parcels()),
        vec![boxed("M"), item("P", 1), Input::CloseParcel],
    );
    let (p, _, _) = run(&p, vec![boxed("M"), item("P", 1), Input::CloseParcel]);
    assert_eq!(p.parcel(), 3);
    assert_eq!(p.planned(), None);
    let (p, facts, feedback) = run(
        &p,
        vec![
            boxed("S"),
            item("R", 3),
            Input::Tap(document("receipt")),
            Input::Finish,
        ],
    );
    assert_eq!(
        feedback[0],
        Feedback::ok(Message::BoxChosen {
            parcel: 3,
            box_id: "S".into()
        })
    );
    assert!(p.is_finished());
    assert_eq!(
        p.closed()
            .iter()
            .map(|c| (c.parcel, c.box_overridden))
            .collect::<Vec<_>>(),
        [(1, false), (2, true), (3, false)]
    );
    assert_eq!(facts.last(), Some(&Fact::Finished { parcels: 3 }));
}

#[test]
fn an_insert_taken_back_out_is_no_longer_confirmed() {
    let (p, facts, _) = run(
        &Packing::new(order()),
        vec![boxed("S"), Input::Tap(insert("GIFT")), Input::Cancel],
    );
    assert_eq!(
        facts[2],
        Fact::ItemUnpacked {
            parcel: 1,
            product_id: "GIFT".into(),
            quantity: 1,
            insert: true,
        }
    );
    assert_eq!(
        p.checklist(),
        [(insert("GIFT"), false), (document("receipt"), false)]
    );
    assert_eq!(p.contents(), []);
    // Cancel goes back one unit at a time, whatever the scan counted.
    let (p, facts, _) = run(
        &Packing::new(order()),
        vec![item("P", 2), Input::Cancel, Input::Cancel, Input::Cancel],
    );
    assert_eq!(
        facts,
        [packed(1, "P", 2), unpacked(1, "P"), unpacked(1, "P")]
    );
    assert_eq!(p.lines()[0].packed, 0);
}

#[test]
fn an_ordered_product_that_is_also_an_insert_fills_its_ordered_line_first() {
    let start = Packing::new(pack_order(
        vec![
            line("P", 1, false, Some(300)),
            line("P", 1, true, Some(300)),
            line("P", 1, false, Some(300)),
        ],
        &["receipt", "return_form", "receipt"],
        plan(&[(Some("S"), &[("P", 3)])]),
    ));
    // Lines of the same product and kind are one; documents are listed once.
    assert_eq!(start.lines().len(), 2);
    assert_eq!(start.lines()[0].line.quantity, 2);
    assert_eq!(
        start.checklist(),
        [
            (insert("P"), false),
            (document("receipt"), false),
            (document("return_form"), false),
        ]
    );
    let (p, facts, _) = run(&start, vec![item("P", 3)]);
    assert_eq!(
        facts,
        [
            packed(1, "P", 2),
            packed_insert(1, "P", 1),
            confirmed(insert("P"), Confirmation::Scan),
        ]
    );
    assert_eq!(p.contents(), [("P".to_string(), 3)]);
}

#[test]
fn a_resumed_job_goes_on_where_it_was() {
    let order = two_parcels();
    let start = Packing::new(order.clone());
    let (mid, facts, _) = run(
        &start,
        vec![
            boxed("M"),
            item("P", 2),
            Input::ScaleWeight(790),
            Input::CloseParcel,
            boxed("S"),
            item("R", 2),
            Input::Cancel,
            item("R", 1),
            Input::Tap(document("receipt")),
        ],
    );
    let resumed = Packing::resume(order.clone(), &facts);
    assert_eq!(resumed.closed(), mid.closed());
    assert_eq!(resumed.lines(), mid.lines());
    assert_eq!(resumed.contents(), [("R".to_string(), 2)]);
    assert_eq!(resumed.checklist(), mid.checklist());
    assert_eq!(resumed.parcel(), 2);
    // The open parcel's box is not a fact: it is asked for again.
    assert_eq!(resumed.shell(), None);
    assert_eq!(
        resumed.prompt(),
        Message::ScanBox {
            parcel: 2,
            suggested: Some("S".into()),
            no_box: None,
        }
    );
    let (done, more, _) = run(&resumed, vec![boxed("S"), item("R", 1), Input::Finish]);
    assert!(done.is_finished());
    assert_eq!(
        more,
        [
            packed(2, "R", 1),
            closed(
                2,
                Some("S"),
                Some("S"),
                400,
                WeightFrom::Estimate,
                &[("R", 3)]
            ),
            Fact::Finished { parcels: 2 },
        ]
    );
    // A finished job resumes finished; no facts resume a new one.
    let all: Vec<Fact> = facts.iter().chain(&more).cloned().collect();
    let again = Packing::resume(order.clone(), &all);
    assert!(again.is_finished());
    assert_eq!(again.closed(), done.closed());
    assert_eq!(Packing::resume(order.clone(), &[]), start);
}

#[test]
fn resuming_skips_what_could_not_have_happened() {
    let order = p_only();
    let p = Packing::resume(
        order,
        &[
            packed(1, "P", 5),
            packed(1, "X", 1),
            unpacked(1, "Q"),
            Fact::ItemUnpacked {
                parcel: 1,
                product_id: "P".into(),
                quantity: 9,
                insert: false,
            },
            confirmed(document("invoice"), Confirmation::Tap),
        ],
    );
    assert_eq!(p.lines()[0].packed, 0);
    assert_eq!(p.contents(), []);
    assert_eq!(p.checklist(), []);
}

#[test]
fn the_flow_takes_the_carton_suggestion_as_it_comes() {
    let items = [
        Item {
            product_id: "BOOK".into(),
            quantity: 4,
            dims_mm: Some([30, 200, 130]),
            volume_ml: None,
            weight_g: Some(400),
        },
        Item {
            product_id: "FLYER".into(),
            quantity: 1,
            dims_mm: None,
            volume_ml: None,
            weight_g: Some(10),
        },
    ];
    let suggestion = carton::suggest(&items, &box_types());
    let start = Packing::new(pack_order(
        vec![
            line("BOOK", 4, false, Some(400)),
            line("FLYER", 1, true, Some(10)),
        ],
        &[],
        suggestion,
    ));
    assert!(start.order().suggestion.is_uncertain());
    assert_eq!(
        start.prompt(),
        Message::ScanBox {
            parcel: 1,
            suggested: Some("M".into()),
            no_box: None,
        }
    );
    let (p, facts, _) = run(
        &start,
        vec![
            boxed("M"),
            item("BOOK", 4),
            Input::Tap(insert("FLYER")),
            Input::Finish,
        ],
    );
    assert!(p.is_finished());
    assert_eq!(
        facts[3],
        closed(
            1,
            Some("M"),
            Some("M"),
            4 * 400 + 10 + 200,
            WeightFrom::Estimate,
            &[("BOOK", 4), ("FLYER", 1)],
        )
    );
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

/// What the flow asks for now, so that random walks also get through whole orders.
fn helpful_input(p: &Packing, rng: &mut Rng) -> Input {
    match p.prompt() {
        Message::ScanBox { suggested, .. } => suggested.map_or(Input::NoBox, Input::BoxType),
        Message::ScanItems { .. } => {
            let line = p.lines().iter().find(|l| l.left() > 0).unwrap();
            item(&line.line.product_id, rng.below(2) as i64 + 1)
        }
        Message::CloseParcel { .. } => Input::CloseParcel,
        Message::Confirm { entry } => Input::Tap(entry),
        Message::Weigh { .. } => Input::ScaleWeight(rng.below(3_000) as i64 + 1),
        _ => Input::Finish,
    }
}

fn random_input(rng: &mut Rng) -> Input {
    const PRODUCTS: [&str; 5] = ["P", "Q", "R", "GIFT", "X"];
    let pick = |rng: &mut Rng, options: &[&str]| options[rng.below(options.len())].to_string();
    match rng.below(14) {
        0..=3 => scan_of(
            if rng.below(10) == 0 { "M2" } else { "M1" },
            &pick(rng, &PRODUCTS),
            rng.below(4) as i64 - 1,
        ),
        4 => Input::BoxType(pick(rng, &["S", "M", "XL"])),
        5 => Input::NoBox,
        6 => Input::ScaleWeight(rng.below(2_000) as i64 - 100),
        7 => Input::KeypadWeight(rng.below(2_000) as i64 - 100),
        8 => Input::Tap(match rng.below(3) {
            0 => insert(&pick(rng, &PRODUCTS)),
            _ => document(&pick(rng, &["receipt", "return_form", "invoice"])),
        }),
        9 => Input::CloseParcel,
        10 => Input::Finish,
        11 | 12 => Input::Cancel,
        _ => Input::Unknown("?".into()),
    }
}

/// `p` with the open parcel's box and weight forgotten: what a resume can know.
fn without_open_choices(p: &Packing) -> Packing {
    let mut p = p.clone();
    p.open.shell = None;
    p.open.weight = None;
    p
}

#[test]
fn arbitrary_inputs_never_break_the_rules() {
    let order = pack_order(
        vec![
            line("P", 3, false, Some(300)),
            line("Q", 1, false, None),
            line("R", 2, false, Some(100)),
            line("GIFT", 1, true, Some(20)),
            line("P", 1, true, Some(300)),
        ],
        &["receipt", "return_form"],
        plan(&[
            (Some("M"), &[("P", 4), ("Q", 1)]),
            (Some("S"), &[("R", 2), ("GIFT", 1)]),
        ]),
    );
    let start = Packing::new(order.clone());
    let ordered: Vec<i64> = start.lines().iter().map(|l| l.line.quantity).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut finished = 0;
    for _ in 0..150 {
        let mut p = start.clone();
        let mut recorded: Vec<Fact> = Vec::new();
        for _ in 0..250 {
            if p.is_finished() {
                // A finished order takes nothing more; the walk goes on with a new one.
                finished += 1;
                assert_eq!(p.step(Input::Cancel, today()).feedback.tone, Tone::Error);
                assert_eq!(p.units_left(), 0);
                assert!(p.checklist().iter().all(|(_, done)| *done));
                assert_eq!(
                    recorded.last(),
                    Some(&Fact::Finished {
                        parcels: p.closed().len() as u32
                    })
                );
                p = start.clone();
                recorded.clear();
            }
            let input = if rng.below(3) == 0 {
                helpful_input(&p, &mut rng)
            } else {
                random_input(&mut rng)
            };
            let before = p.clone();
            let step = p.step(input.clone(), today());
            assert_eq!(p, before, "step mutated its state");
            let next = step.next;
            if step.feedback.tone == Tone::Error {
                assert!(step.facts.is_empty(), "{input:?}: an error recorded facts");
                assert_eq!(next, p, "{input:?}: an error changed the state");
            }
            // What each line gained is what the facts say went in and out.
            for (i, (old, new)) in p.lines().iter().zip(next.lines()).enumerate() {
                let moved: i64 = step
                    .facts
                    .iter()
                    .map(|f| match f {
                        Fact::ItemPacked {
                            product_id,
                            quantity,
                            insert,
                            ..
                        } if *product_id == new.line.product_id && *insert == new.line.insert => {
                            *quantity
                        }
                        Fact::ItemUnpacked {
                            product_id,
                            quantity,
                            insert,
                            ..
                        } if *product_id == new.line.product_id && *insert == new.line.insert => {
                            -quantity
                        }
                        _ => 0,
                    })
                    .sum();
                assert_eq!(new.packed, old.packed + moved, "{input:?}");
                assert!(
                    (0..=ordered[i]).contains(&new.packed),
                    "{input:?}: {} packed of {}",
                    new.packed,
                    ordered[i]
                );
            }
            // Every packed unit is in exactly one parcel: closed or open.
            for product in ["P", "Q", "R", "GIFT"] {
                let packed: i64 = next
                    .lines()
                    .iter()
                    .filter(|l| l.line.product_id == product)
                    .map(|l| l.packed)
                    .sum();
                let in_parcels: i64 = next
                    .closed()
                    .iter()
                    .flat_map(|c| &c.contents)
                    .chain(&next.contents())
                    .filter(|(p, _)| p == product)
                    .map(|(_, n)| n)
                    .sum();
                assert_eq!(packed, in_parcels, "{product} after {input:?}");
            }
            for (k, c) in next.closed().iter().enumerate() {
                assert_eq!(c.parcel, k as u32 + 1);
                assert!(c.weight_g > 0);
                assert!(!c.contents.is_empty());
            }
            for fact in &step.facts {
                if let Fact::ItemPacked { parcel, .. } | Fact::ItemUnpacked { parcel, .. } = fact {
                    assert_eq!(*parcel, p.parcel());
                }
            }
            recorded.extend(step.facts);
            // The facts so far rebuild the state, but for the open parcel's box and weight.
            assert_eq!(
                Packing::resume(order.clone(), &recorded),
                without_open_choices(&next),
                "resume after {input:?}"
            );
            let _ = next.prompt();
            p = next;
        }
    }
    // The walk reaches the end of an order now and then, so the invariants cover finishing too.
    assert!(finished > 0, "no random walk finished an order");
}
