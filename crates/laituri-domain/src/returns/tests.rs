use super::*;
use crate::flow::Tone;

fn today() -> Date {
    Date::new(2026, 12, 1).unwrap()
}

fn shipped(product: &str, quantity: i64) -> Shipped {
    Shipped {
        product_id: product.into(),
        name: format!("Product {product}"),
        quantity,
    }
}

fn order(rules: Vec<Rule>) -> Order {
    Order {
        order_id: "O-1".into(),
        reference: "R-1".into(),
        merchant_id: "M1".into(),
        lines: vec![shipped("SHOE", 2), shipped("CAP", 1)],
        rules,
    }
}

fn item(product: &str) -> Input {
    Input::Item(Item {
        product_id: Some(product.into()),
        name: format!("Product {product}"),
        barcode: format!("code-{product}"),
        units: 1,
        lot: None,
        expiry: None,
    })
}

fn unknown(code: &str) -> Input {
    Input::Item(Item {
        product_id: None,
        name: code.into(),
        barcode: code.into(),
        units: 1,
        lot: None,
        expiry: None,
    })
}

fn rule(reason: Option<Reason>, products: &[&str], action: Action, forced: bool) -> Rule {
    Rule {
        reason,
        products: products.iter().map(|p| p.to_string()).collect(),
        action,
        forced,
    }
}

/// Runs `inputs` from a fresh return; answers the last state, every fact and each tone.
fn run(inputs: Vec<Input>) -> (Return, Vec<Fact>, Vec<Tone>) {
    let mut r = Return::new();
    let mut facts = Vec::new();
    let mut tones = Vec::new();
    for input in inputs {
        let step = r.step(input, today());
        facts.extend(step.facts);
        tones.push(step.feedback.tone);
        r = step.next;
    }
    (r, facts, tones)
}

fn finished(facts: &[Fact]) -> Vec<Line> {
    facts
        .iter()
        .find_map(|f| match f {
            Fact::Finished { lines } => Some(lines.clone()),
            _ => None,
        })
        .expect("finished")
}

#[test]
fn rulings_by_reason_and_merchant_rule() {
    let defective_back = rule(Some(Reason::Defective), &[], Action::BackToMerchant, true);
    let food = rule(None, &["FOOD"], Action::Quarantine, true);
    let suggest_dispose = rule(Some(Reason::WrongItem), &[], Action::Dispose, false);
    let rules = vec![defective_back, food, suggest_dispose];
    // (reason, product, rules, expected)
    let cases: Vec<(Reason, Option<&str>, &[Rule], Ruling)> = vec![
        (
            Reason::Unwanted,
            Some("SHOE"),
            &[],
            Ruling::Suggested(Action::Restock),
        ),
        (
            Reason::Defective,
            Some("SHOE"),
            &[],
            Ruling::Suggested(Action::Quarantine),
        ),
        (
            Reason::WrongItem,
            Some("SHOE"),
            &[],
            Ruling::Suggested(Action::Restock),
        ),
        (
            Reason::Undeliverable,
            Some("SHOE"),
            &[],
            Ruling::Suggested(Action::Restock),
        ),
        (
            Reason::Defective,
            Some("SHOE"),
            &rules,
            Ruling::Forced(Action::BackToMerchant),
        ),
        (
            Reason::Defective,
            Some("FOOD"),
            &rules,
            Ruling::Forced(Action::BackToMerchant),
        ),
        (
            Reason::Unwanted,
            Some("FOOD"),
            &rules,
            Ruling::Forced(Action::Quarantine),
        ),
        (
            Reason::Undeliverable,
            Some("FOOD"),
            &rules,
            Ruling::Forced(Action::Quarantine),
        ),
        (
            Reason::Unwanted,
            Some("SHOE"),
            &rules,
            Ruling::Suggested(Action::Restock),
        ),
        (
            Reason::WrongItem,
            Some("SHOE"),
            &rules,
            Ruling::Suggested(Action::Dispose),
        ),
        (
            Reason::Unwanted,
            None,
            &rules,
            Ruling::Suggested(Action::Restock),
        ),
    ];
    for (reason, product, rules, want) in cases {
        assert_eq!(
            ruling(rules, reason, product),
            want,
            "{reason:?} {product:?} {rules:?}"
        );
    }
}

#[test]
fn every_reason_and_action_is_recorded_as_chosen_without_rules() {
    for reason in Reason::ALL {
        for action in Action::ALL {
            let (r, facts, tones) = run(vec![
                Input::Order(order(vec![])),
                item("CAP"),
                Input::Reason(reason),
                Input::Action(action),
            ]);
            assert_eq!(tones, vec![Tone::Ok; 4], "{reason:?} {action:?}");
            let l = &r.lines()[0];
            assert_eq!(
                (l.reason, l.action, l.blocked, l.unexpected),
                (Some(reason), Some(action), None, false)
            );
            assert_eq!(facts, vec![Fact::Recorded(l.clone())]);
            assert_eq!(r.expect(), Expect::Item);
        }
    }
}

#[test]
fn forced_rules_record_at_once_and_a_forbidden_restock_is_blocked() {
    let defective_back = rule(Some(Reason::Defective), &[], Action::BackToMerchant, true);
    let never_restock = rule(None, &["SHOE"], Action::Quarantine, true);
    // (rules, reason, product, action recorded, blocked)
    let cases = vec![
        (
            vec![defective_back.clone()],
            Reason::Defective,
            "SHOE",
            Action::BackToMerchant,
            None,
        ),
        (
            vec![never_restock.clone()],
            Reason::Unwanted,
            "SHOE",
            Action::Quarantine,
            Some(Block::MerchantRule),
        ),
        (
            vec![never_restock.clone()],
            Reason::Undeliverable,
            "SHOE",
            Action::Quarantine,
            Some(Block::MerchantRule),
        ),
        // Defective goods go to quarantine anyway: no restock was refused.
        (
            vec![never_restock.clone()],
            Reason::Defective,
            "SHOE",
            Action::Quarantine,
            None,
        ),
        (
            vec![defective_back, never_restock],
            Reason::Defective,
            "SHOE",
            Action::BackToMerchant,
            None,
        ),
    ];
    for (rules, reason, product, action, blocked) in cases {
        let (r, _, tones) = run(vec![
            Input::Order(order(rules.clone())),
            item(product),
            Input::Reason(reason),
        ]);
        let l = &r.lines()[0];
        assert_eq!(
            (l.action, l.blocked),
            (Some(action), blocked),
            "{rules:?} {reason:?}"
        );
        let want = if blocked.is_some() {
            Tone::Warning
        } else {
            Tone::Ok
        };
        assert_eq!(tones[2], want);
        assert_eq!(r.expect(), Expect::Item, "no choice is asked");
    }
}

#[test]
fn a_suggesting_rule_preselects_and_the_person_may_choose_otherwise() {
    let dispose = rule(Some(Reason::WrongItem), &[], Action::Dispose, false);
    let r = run(vec![
        Input::Order(order(vec![dispose])),
        item("CAP"),
        Input::Reason(Reason::WrongItem),
    ])
    .0;
    assert_eq!(
        r.prompt(),
        Message::ChooseAction {
            name: "Product CAP".into(),
            suggested: Action::Dispose
        }
    );
    let step = r.step(Input::Action(Action::Restock), today());
    assert_eq!(step.next.lines()[0].action, Some(Action::Restock));
    assert_eq!(step.next.lines()[0].blocked, None);
}

#[test]
fn unexpected_items_are_recorded_never_dropped() {
    // A product the order did not ship, one more than it shipped, and an unknown barcode.
    let (r, facts, tones) = run(vec![
        Input::Order(order(vec![])),
        item("GLOVE"),
        Input::Reason(Reason::WrongItem),
        Input::Action(Action::Quarantine),
        item("CAP"),
        Input::Quantity(3),
        Input::Reason(Reason::Unwanted),
        Input::Action(Action::Restock),
        unknown("2000000000017"),
        Input::Reason(Reason::WrongItem),
    ]);
    assert_eq!(
        tones[1],
        Tone::Warning,
        "a product not in the order is warned"
    );
    assert_eq!(tones[8], Tone::Warning, "an unknown barcode is warned");
    let lines = r.lines();
    let glove = &lines[0];
    assert!(glove.unexpected && glove.quantity == 1);
    // CAP: 1 shipped, 3 back: 1 expected, 2 unexpected.
    let caps: Vec<(i64, bool)> = lines
        .iter()
        .filter(|l| l.product_id.as_deref() == Some("CAP"))
        .map(|l| (l.quantity, l.unexpected))
        .collect();
    assert_eq!(caps, vec![(1, false), (2, true)]);
    let code = lines.last().unwrap();
    assert_eq!(code.product_id, None);
    assert_eq!(code.barcode.as_deref(), Some("2000000000017"));
    assert_eq!(code.action, Some(Action::Quarantine));
    assert_eq!(code.blocked, Some(Block::UnknownProduct));
    assert!(code.unexpected);
    assert_eq!(facts.len(), 4, "each recorded part is a fact");
}

#[test]
fn repeated_scans_count_and_equal_lines_merge() {
    let (r, _, _) = run(vec![
        Input::Order(order(vec![])),
        item("SHOE"),
        item("SHOE"),
        Input::Reason(Reason::Unwanted),
        Input::Action(Action::Restock),
    ]);
    assert_eq!(r.lines().len(), 1);
    assert_eq!(r.lines()[0].quantity, 2);
    let (r, _, _) = run(vec![
        Input::Order(order(vec![])),
        item("SHOE"),
        Input::Reason(Reason::Unwanted),
        Input::Action(Action::Restock),
        item("SHOE"),
        Input::Reason(Reason::Unwanted),
        Input::Action(Action::Restock),
    ]);
    assert_eq!(r.lines().len(), 1, "{:?}", r.lines());
    assert_eq!(r.lines()[0].quantity, 2);
}

#[test]
fn missing_units_are_shown_before_the_finish_and_recorded() {
    let (r, facts, tones) = run(vec![
        Input::Order(order(vec![])),
        item("SHOE"),
        Input::Reason(Reason::Unwanted),
        Input::Action(Action::Restock),
        Input::Finish,
        Input::Finish,
    ]);
    assert_eq!(tones[4], Tone::Warning);
    assert_eq!(tones[5], Tone::Done);
    assert!(r.is_finished());
    let lines = finished(&facts);
    let missing: Vec<(&str, i64)> = lines
        .iter()
        .filter(|l| l.missing)
        .map(|l| (l.product_id.as_deref().unwrap(), l.quantity))
        .collect();
    assert_eq!(missing, vec![("SHOE", 1), ("CAP", 1)]);
    assert!(
        lines
            .iter()
            .filter(|l| l.missing)
            .all(|l| l.action.is_none())
    );

    // Everything back: no question, done at the first finish.
    let (r, facts, _) = run(vec![
        Input::Order(order(vec![])),
        item("SHOE"),
        Input::Quantity(2),
        Input::Reason(Reason::Unwanted),
        Input::Action(Action::Restock),
        item("CAP"),
        Input::Reason(Reason::Defective),
        Input::Action(Action::BackToMerchant),
        Input::Finish,
    ]);
    assert!(r.is_finished());
    assert!(finished(&facts).iter().all(|l| !l.missing));
}

#[test]
fn wrong_input_is_answered_and_records_nothing() {
    // (inputs, the last tone, the last message)
    let start = || vec![Input::Order(order(vec![]))];
    let with = |more: Vec<Input>| {
        let mut v = start();
        v.extend(more);
        v
    };
    let cases: Vec<(Vec<Input>, Tone, Message)> = vec![
        (vec![item("SHOE")], Tone::Error, Message::ScanOrder),
        (
            vec![Input::NotFound("X-1".into())],
            Tone::Error,
            Message::NotFound { code: "X-1".into() },
        ),
        (
            with(vec![Input::Finish]),
            Tone::Error,
            Message::NothingReturned,
        ),
        (
            with(vec![Input::Reason(Reason::Unwanted)]),
            Tone::Error,
            Message::ScanItemFirst,
        ),
        (
            with(vec![item("SHOE"), item("CAP")]),
            Tone::Error,
            Message::ChooseReasonFirst,
        ),
        (
            with(vec![item("SHOE"), Input::Quantity(0)]),
            Tone::Error,
            Message::BadQuantity,
        ),
        (
            with(vec![item("SHOE"), Input::Quantity(MAX_KEYPAD_QUANTITY + 1)]),
            Tone::Error,
            Message::BadQuantity,
        ),
        (
            with(vec![item("SHOE"), Input::Cancel]),
            Tone::Warning,
            Message::Cancelled {
                name: "Product SHOE".into(),
            },
        ),
    ];
    for (inputs, tone, message) in cases {
        let mut r = Return::new();
        let mut last = None;
        for input in inputs.clone() {
            let step = r.step(input, today());
            assert!(
                step.facts.is_empty(),
                "{inputs:?} recorded {:?}",
                step.facts
            );
            last = Some(step.feedback);
            r = step.next;
        }
        let last = last.unwrap();
        assert_eq!((last.tone, last.message), (tone, message), "{inputs:?}");
        assert!(r.lines().is_empty());
    }
}

#[test]
fn a_finished_return_takes_nothing_more() {
    let (r, _, _) = run(vec![
        Input::Order(order(vec![])),
        item("SHOE"),
        Input::Quantity(2),
        Input::Reason(Reason::Unwanted),
        Input::Action(Action::Restock),
        item("CAP"),
        Input::Reason(Reason::Unwanted),
        Input::Action(Action::Restock),
        Input::Finish,
    ]);
    let step = r.step(item("SHOE"), today());
    assert_eq!(step.feedback.tone, Tone::Error);
    assert!(step.facts.is_empty());
    assert_eq!(step.next, r);
}
