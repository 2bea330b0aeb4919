//! Case tables of reserving and releasing orders.

use std::collections::BTreeMap;

use laituri_domain::calendar::Date;
use laituri_protocol::{
    InsertRule, KitComponent, Location, LocationKind, Merchant, MerchantRules, OrderInput,
    OrderLine, OrderStatus, Product, Recipient, TaskKind,
};
use uuid::Uuid;

use super::*;
use crate::orders::OrderRow;

const M: &str = "M1";

fn today() -> Date {
    Date::new(2026, 12, 1).unwrap()
}

fn product(id: &str) -> Product {
    Product {
        dims_mm: None,
        id: id.into(),
        merchant_id: M.into(),
        name: id.into(),
        barcodes: Vec::new(),
        track_lot: false,
        track_expiry: false,
        track_serial: false,
        kit: Vec::new(),
        volume_ml: Some(1_000),
        weight_g: Some(500),
    }
}

fn kit(id: &str, parts: &[(&str, i64)]) -> Product {
    Product {
        kit: parts
            .iter()
            .map(|(p, q)| KitComponent {
                product_id: p.to_string(),
                quantity: *q,
            })
            .collect(),
        ..product(id)
    }
}

fn bin(code: &str, walk: u32) -> Location {
    Location {
        box_types: Vec::new(),
        aisle: None,
        bay: None,
        code: code.into(),
        kind: LocationKind::Bin,
        zone: "A".into(),
        walk_order: walk,
        capacity: None,
    }
}

fn stock(product: &str, location: &str, expiry: Option<&str>, quantity: i64) -> BinStock {
    BinStock {
        merchant_id: M.into(),
        product_id: product.into(),
        location: location.into(),
        lot: expiry.map(|e| format!("L{e}")),
        expiry: expiry.map(str::to_string),
        quantity,
    }
}

fn order(reference: &str, priority: i32, created: i64, lines: &[(&str, i64)]) -> OrderRow {
    order_of(M, reference, priority, created, lines, None)
}

fn order_of(
    merchant: &str,
    reference: &str,
    priority: i32,
    created: i64,
    lines: &[(&str, i64)],
    value: Option<i64>,
) -> OrderRow {
    let input = OrderInput {
        merchant_id: merchant.into(),
        reference: reference.into(),
        lines: lines
            .iter()
            .map(|(p, q)| OrderLine {
                product_id: p.to_string(),
                quantity: *q,
            })
            .collect(),
        shipping_method: "parcel".into(),
        pickup_point: None,
        priority,
        recipient: Recipient {
            name: "N".into(),
            address: "A".into(),
            address2: None,
            postcode: "00100".into(),
            city: "C".into(),
            country: "FI".into(),
            phone: None,
            email: None,
        },
        comments: None,
        documents: Vec::new(),
        cash_on_delivery: None,
        value_minor: value,
    };
    OrderRow::new(&input, created)
}

fn merchant(min_shelf_life_days: u32, inserts: Vec<InsertRule>) -> Merchant {
    Merchant {
        id: M.into(),
        name: M.into(),
        rules: MerchantRules {
            min_shelf_life_days,
            over_receipt_tolerance_pct: 0,
            inserts,
            returns: Vec::new(),
        },
        zones: Vec::new(),
    }
}

struct World {
    snap: Snapshot,
    tasks_made: u32,
}

impl World {
    fn new(products: &[Product], stock: Vec<BinStock>, orders: Vec<OrderRow>) -> World {
        let mut locations = BTreeMap::new();
        for (i, s) in stock.iter().enumerate() {
            locations
                .entry(s.location.clone())
                .or_insert_with(|| bin(&s.location, 100 - i as u32));
        }
        World {
            snap: Snapshot {
                today: Some(today()),
                now_ms: 1_000,
                orders,
                picks: Vec::new(),
                stock,
                products: products.iter().map(|p| (p.id.clone(), p.clone())).collect(),
                merchants: [(M.to_string(), merchant(0, Vec::new()))].into(),
                locations,
            },
            tasks_made: 0,
        }
    }

    /// Runs the planner and applies its effects to the snapshot, as a backend would.
    fn plan(&mut self, policy: ReleasePolicy) -> (PlanSummary, Vec<laituri_protocol::Task>) {
        let n = &mut self.tasks_made;
        let plan = plan(&self.snap, &policy, &mut || {
            *n += 1;
            format!("pick-{n}")
        });
        let mut tasks = Vec::new();
        for e in plan.effects {
            match e {
                Effect::SaveOrder(o) => {
                    let slot = self.snap.orders.iter_mut().find(|x| x.id == o.id).unwrap();
                    *slot = o;
                }
                Effect::SavePick(p) => {
                    match self
                        .snap
                        .picks
                        .iter_mut()
                        .find(|x| x.order_id == p.order_id && x.line_id == p.line_id)
                    {
                        Some(x) => *x = p,
                        None => self.snap.picks.push(p),
                    }
                }
                Effect::SaveTask(row) => tasks.push(row.task),
                _ => {}
            }
        }
        (plan.summary, tasks)
    }

    fn order(&self, reference: &str) -> &OrderRow {
        self.snap
            .orders
            .iter()
            .find(|o| o.reference == reference)
            .unwrap()
    }

    /// (location, lot, quantity) reserved for an order, in line order.
    fn reserved(&self, reference: &str) -> Vec<(String, Option<String>, i64)> {
        let id = self.order(reference).id;
        self.snap
            .picks
            .iter()
            .filter(|p| p.order_id == id)
            .map(|p| (p.location.clone(), p.lot.clone(), p.quantity))
            .collect()
    }
}

fn single() -> ReleasePolicy {
    ReleasePolicy {
        totes: 1,
        ..ReleasePolicy::default()
    }
}

#[test]
fn reservation_case_table() {
    struct Case {
        name: &'static str,
        min_shelf_life_days: u32,
        stock: Vec<BinStock>,
        lines: Vec<(&'static str, i64)>,
        status: OrderStatus,
        reserved: Vec<(&'static str, Option<&'static str>, i64)>,
    }
    let cases = [
        Case {
            name: "first expiry first out, across bins",
            min_shelf_life_days: 0,
            stock: vec![
                stock("P", "B-2", Some("2027-03-01"), 5),
                stock("P", "B-1", Some("2027-01-01"), 2),
                stock("P", "B-3", None, 9),
            ],
            lines: vec![("P", 4)],
            status: OrderStatus::Picking,
            reserved: vec![
                ("B-1", Some("L2027-01-01"), 2),
                ("B-2", Some("L2027-03-01"), 2),
            ],
        },
        Case {
            name: "lots without expiry come last",
            min_shelf_life_days: 0,
            stock: vec![
                stock("P", "B-3", None, 9),
                stock("P", "B-2", Some("2027-03-01"), 1),
            ],
            lines: vec![("P", 3)],
            status: OrderStatus::Picking,
            reserved: vec![("B-2", Some("L2027-03-01"), 1), ("B-3", None, 2)],
        },
        Case {
            name: "an expired lot is never reserved",
            min_shelf_life_days: 0,
            stock: vec![
                stock("P", "B-1", Some("2026-11-30"), 5),
                stock("P", "B-2", Some("2026-12-01"), 5),
            ],
            lines: vec![("P", 5)],
            status: OrderStatus::Picking,
            reserved: vec![("B-2", Some("L2026-12-01"), 5)],
        },
        Case {
            name: "below the merchant's minimum shelf life: on hold",
            min_shelf_life_days: 30,
            stock: vec![
                stock("P", "B-1", Some("2026-12-30"), 5),
                stock("P", "B-2", Some("2026-12-31"), 1),
            ],
            lines: vec![("P", 2)],
            status: OrderStatus::OnHold,
            reserved: vec![],
        },
        Case {
            name: "exactly the minimum shelf life is enough",
            min_shelf_life_days: 30,
            stock: vec![stock("P", "B-2", Some("2026-12-31"), 2)],
            lines: vec![("P", 2)],
            status: OrderStatus::Picking,
            reserved: vec![("B-2", Some("L2026-12-31"), 2)],
        },
        Case {
            name: "whole or nothing: one short product holds the order",
            min_shelf_life_days: 0,
            stock: vec![stock("P", "B-1", None, 5), stock("Q", "B-2", None, 1)],
            lines: vec![("P", 1), ("Q", 2)],
            status: OrderStatus::OnHold,
            reserved: vec![],
        },
        Case {
            name: "a kit is reserved as its components",
            min_shelf_life_days: 0,
            stock: vec![stock("P", "B-1", None, 5), stock("Q", "B-2", None, 5)],
            lines: vec![("KIT", 2)],
            status: OrderStatus::Picking,
            reserved: vec![("B-1", None, 2), ("B-2", None, 4)],
        },
    ];
    for c in cases {
        let mut w = World::new(
            &[
                product("P"),
                product("Q"),
                kit("KIT", &[("P", 1), ("Q", 2)]),
            ],
            c.stock,
            vec![order("R1", 0, 1, &c.lines)],
        );
        w.snap
            .merchants
            .insert(M.into(), merchant(c.min_shelf_life_days, Vec::new()));
        // Reserved orders are released at once: picking.
        w.plan(single());
        let o = w.order("R1");
        assert_eq!(o.status, c.status, "{}: {:?}", c.name, o.status_reason);
        let want: Vec<_> = c
            .reserved
            .iter()
            .map(|(l, lot, q)| (l.to_string(), lot.map(str::to_string), *q))
            .collect();
        assert_eq!(w.reserved("R1"), want, "{}", c.name);
        if c.status == OrderStatus::OnHold {
            let reason = o.status_reason.as_deref().unwrap_or("");
            assert!(reason.contains("not enough stock"), "{}: {reason}", c.name);
        }
    }
}

#[test]
fn inserts_are_added_by_the_merchants_rules_and_never_hold_an_order() {
    let rules = vec![
        InsertRule {
            product_id: "CAT".into(),
            quantity: 1,
            min_order_value_minor: None,
        },
        InsertRule {
            product_id: "GIFT".into(),
            quantity: 1,
            min_order_value_minor: Some(5_000),
        },
    ];
    let mut w = World::new(
        &[product("P"), product("CAT"), product("GIFT")],
        vec![stock("P", "B-1", None, 9), stock("CAT", "B-2", None, 1)],
        vec![
            order_of(M, "BIG", 0, 1, &[("P", 1)], Some(7_500)),
            order_of(M, "SMALL", 0, 2, &[("P", 1)], Some(1_000)),
        ],
    );
    w.snap.merchants.insert(M.into(), merchant(0, rules));
    w.plan(single());
    let big = w.order("BIG");
    assert_eq!(big.status, OrderStatus::Picking);
    let demand = big.demand.clone().unwrap();
    assert!(demand.iter().any(|l| l.product_id == "CAT"), "{demand:?}");
    // The gift has no stock: left out, said in the history, the order goes on.
    assert!(!demand.iter().any(|l| l.product_id == "GIFT"), "{demand:?}");
    assert!(
        big.history
            .iter()
            .any(|h| h.reason.as_deref().is_some_and(|r| r.contains("GIFT"))),
        "{:?}",
        big.history
    );
    // The one catalogue went to the older order; the small one goes without.
    let small = w.order("SMALL");
    assert_eq!(small.status, OrderStatus::Picking);
    assert!(
        !small
            .demand
            .clone()
            .unwrap()
            .iter()
            .any(|l| l.product_id == "GIFT" || l.product_id == "CAT")
    );
}

#[test]
fn urgent_orders_reserve_first_and_a_held_order_is_reserved_when_stock_arrives() {
    let mut w = World::new(
        &[product("P")],
        vec![stock("P", "B-1", None, 3)],
        vec![
            order("OLD", 0, 1, &[("P", 2)]),
            order("URGENT", 5, 2, &[("P", 2)]),
        ],
    );
    let (s, _) = w.plan(single());
    assert_eq!((s.reserved, s.on_hold), (1, 1));
    assert_eq!(w.order("URGENT").status, OrderStatus::Picking);
    assert_eq!(w.order("OLD").status, OrderStatus::OnHold);
    // Planning again without new stock changes nothing.
    let (s, tasks) = w.plan(single());
    assert_eq!((s.reserved, s.on_hold, tasks.len()), (0, 0, 0));
    // Stock arrives: the held order goes on by itself.
    w.snap.stock.push(stock("P", "B-9", None, 5));
    w.snap.locations.insert("B-9".into(), bin("B-9", 1));
    let (s, tasks) = w.plan(single());
    assert_eq!((s.reserved, tasks.len()), (1, 1));
    assert_eq!(w.order("OLD").status, OrderStatus::Picking);
    // Another order's reservation is not free stock: B-1 kept 1 unit free for OLD.
    assert_eq!(
        w.reserved("OLD"),
        vec![("B-9".to_string(), None, 2)],
        "walking order first among lots alike"
    );
}

#[test]
fn a_short_pick_is_reserved_again_elsewhere_or_holds_the_order() {
    let mut w = World::new(
        &[product("P")],
        vec![stock("P", "B-1", None, 3), stock("P", "B-2", None, 1)],
        vec![order("R", 0, 1, &[("P", 3)])],
    );
    w.plan(single());
    assert_eq!(
        w.reserved("R"),
        vec![("B-2".to_string(), None, 1), ("B-1".to_string(), None, 2)]
    );
    // B-1 had only one of its two: picked 1, short 1; the bin is now empty.
    let id = w.order("R").id;
    let p = w
        .snap
        .picks
        .iter_mut()
        .find(|p| p.location == "B-1")
        .unwrap();
    p.picked = 1;
    p.short = 1;
    w.snap.stock.retain(|s| s.location != "B-1");
    let (s, _) = w.plan(single());
    assert_eq!(s.on_hold, 1);
    let held = w.order("R");
    assert_eq!(held.status, OrderStatus::OnHold);
    assert!(
        held.status_reason
            .as_deref()
            .unwrap()
            .contains("short at picking")
    );
    assert!(!held.not_started() || held.totes.is_empty());
    // Stock arrives elsewhere: the missing unit is reserved and released in a follow-up task.
    w.snap.stock.push(stock("P", "B-7", None, 4));
    w.snap.locations.insert("B-7".into(), bin("B-7", 7));
    let (s, tasks) = w.plan(single());
    assert_eq!((s.reserved, tasks.len()), (1, 1));
    assert_eq!(w.order("R").status, OrderStatus::Picking);
    let follow_up: Vec<_> = w
        .snap
        .picks
        .iter()
        .filter(|p| p.order_id == id && p.task_id.as_deref() == Some("pick-2"))
        .map(|p| (p.location.as_str(), p.quantity, p.line_id.as_str()))
        .collect();
    assert_eq!(follow_up, vec![("B-7", 1, "3")]);
}

#[test]
fn release_case_table() {
    // (reference, merchant, priority, created, lines as (product, bin))
    type Spec = (
        &'static str,
        &'static str,
        i32,
        i64,
        Vec<(&'static str, &'static str)>,
    );
    struct Case {
        name: &'static str,
        policy: ReleasePolicy,
        orders: Vec<Spec>,
        /// Each task's orders, in slot order.
        tasks: Vec<Vec<&'static str>>,
    }
    let cart = |totes, max_lines, max_volume_ml| ReleasePolicy {
        totes,
        max_lines,
        max_volume_ml,
        max_weight_g: 1_000_000,
    };
    let cases = [
        Case {
            name: "one tote per cart: single-order tasks, oldest first",
            policy: cart(1, 60, 1_000_000),
            orders: vec![
                ("A", M, 0, 1, vec![("P", "B-1")]),
                ("B", M, 0, 2, vec![("P", "B-2")]),
            ],
            tasks: vec![vec!["A"], vec!["B"]],
        },
        Case {
            name: "a cart of three totes",
            policy: cart(3, 60, 1_000_000),
            orders: vec![
                ("A", M, 0, 1, vec![("P", "B-1")]),
                ("B", M, 0, 2, vec![("P", "B-2")]),
                ("C", M, 0, 3, vec![("P", "B-3")]),
                ("D", M, 0, 4, vec![("P", "B-4")]),
            ],
            tasks: vec![vec!["A", "B", "C"], vec!["D"]],
        },
        Case {
            name: "priorities are never mixed; urgent first",
            policy: cart(6, 60, 1_000_000),
            orders: vec![
                ("A", M, 0, 1, vec![("P", "B-1")]),
                ("U", M, 9, 5, vec![("P", "B-2")]),
                ("B", M, 0, 2, vec![("P", "B-3")]),
            ],
            tasks: vec![vec!["U"], vec!["A", "B"]],
        },
        Case {
            name: "merchants are never mixed",
            policy: cart(6, 60, 1_000_000),
            orders: vec![
                ("A", M, 0, 1, vec![("P", "B-1")]),
                ("X", "M2", 0, 2, vec![("X1", "B-2")]),
                ("B", M, 0, 3, vec![("P", "B-3")]),
            ],
            tasks: vec![vec!["A", "B"], vec!["X"]],
        },
        Case {
            name: "a cart's lines",
            policy: cart(6, 3, 1_000_000),
            orders: vec![
                ("A", M, 0, 1, vec![("P", "B-1"), ("Q", "B-2")]),
                ("B", M, 0, 2, vec![("P", "B-3"), ("Q", "B-4")]),
                ("C", M, 0, 3, vec![("P", "B-5")]),
            ],
            tasks: vec![vec!["A"], vec!["B", "C"]],
        },
        Case {
            name: "a cart's volume (1 l a unit); an order too big alone still goes",
            policy: cart(6, 60, 2_000),
            orders: vec![
                ("A", M, 0, 1, vec![("P", "B-1")]),
                (
                    "BIG",
                    M,
                    0,
                    2,
                    vec![("P", "B-2"), ("Q", "B-3"), ("P", "B-4")],
                ),
                ("C", M, 0, 3, vec![("P", "B-5")]),
            ],
            tasks: vec![vec!["A"], vec!["BIG"], vec!["C"]],
        },
    ];
    for c in cases {
        let mut products = vec![product("P"), product("Q")];
        products.push(Product {
            merchant_id: "M2".into(),
            ..product("X1")
        });
        let mut stock_rows = Vec::new();
        let mut orders = Vec::new();
        for (reference, merchant_id, priority, created, lines) in &c.orders {
            for (p, b) in lines {
                stock_rows.push(BinStock {
                    merchant_id: merchant_id.to_string(),
                    ..stock(p, b, None, 1)
                });
            }
            let lines: Vec<(&str, i64)> = lines.iter().map(|(p, _)| (*p, 1)).collect();
            orders.push(order_of(
                merchant_id,
                reference,
                *priority,
                *created,
                &lines,
                None,
            ));
        }
        let mut w = World::new(&products, stock_rows, orders);
        w.snap.merchants.insert(
            "M2".into(),
            Merchant {
                id: "M2".into(),
                ..merchant(0, Vec::new())
            },
        );
        let (summary, tasks) = w.plan(c.policy);
        let got: Vec<Vec<String>> = tasks
            .iter()
            .map(|t| {
                t.orders
                    .iter()
                    .map(|o| w.snap.orders.iter().find(|x| x.id == o.order_id).unwrap())
                    .map(|o| o.reference.clone())
                    .collect()
            })
            .collect();
        assert_eq!(got, c.tasks, "{}", c.name);
        assert_eq!(summary.tasks as usize, c.tasks.len(), "{}", c.name);
        for t in &tasks {
            assert_eq!(t.kind, TaskKind::Pick);
            let slots: Vec<u32> = t.orders.iter().map(|o| o.slot).collect();
            assert_eq!(
                slots,
                (1..=t.orders.len() as u32).collect::<Vec<_>>(),
                "{}",
                c.name
            );
            // Every line names its order and comes in walking order.
            let walks: Vec<u32> = t
                .lines
                .iter()
                .map(|l| {
                    assert!(t.orders.iter().any(|o| Some(o.order_id) == l.order_id));
                    let at = &l.goods.from.as_ref().unwrap().location;
                    w.snap.locations[at].walk_order
                })
                .collect();
            let mut sorted = walks.clone();
            sorted.sort_unstable();
            assert_eq!(walks, sorted, "{}", c.name);
        }
        for o in &w.snap.orders {
            assert_eq!(
                o.status,
                OrderStatus::Picking,
                "{}: {}",
                c.name,
                o.reference
            );
        }
    }
}

#[test]
fn demand_expands_nested_kits_and_refuses_unknown_products_and_deep_nesting() {
    let products: BTreeMap<String, Product> = [
        product("P"),
        kit("K1", &[("P", 2)]),
        kit("K2", &[("K1", 3), ("P", 1)]),
        kit("LOOP", &[("LOOP", 1)]),
    ]
    .into_iter()
    .map(|p| (p.id.clone(), p))
    .collect();
    let line = |p: &str, q| OrderLine {
        product_id: p.into(),
        quantity: q,
    };
    let needs = reserve::demand(&[line("K2", 2)], None, None, &products).unwrap();
    assert_eq!(needs.len(), 1);
    assert_eq!(needs[0].quantity, 2 * (3 * 2 + 1));
    assert!(reserve::demand(&[line("NOPE", 1)], None, None, &products).is_err());
    let deep = reserve::demand(&[line("LOOP", 1)], None, None, &products).unwrap_err();
    assert!(deep.contains("nests kits"), "{deep}");
}

#[test]
fn an_order_with_an_unknown_product_goes_on_hold_with_the_reason() {
    let mut w = World::new(
        &[product("P")],
        vec![],
        vec![order("R", 0, 1, &[("GONE", 1)])],
    );
    let (s, tasks) = w.plan(single());
    assert_eq!((s.on_hold, tasks.len()), (1, 0));
    let reason = w.order("R").status_reason.clone().unwrap();
    assert!(reason.contains("GONE"), "{reason}");
    let _ = Uuid::nil();
}

#[test]
fn a_cart_walks_its_zone_within_five_per_cent_of_the_shortest_route() {
    use laituri_domain::route::{Stop, Warehouse, shortest};
    // A zone of 6 aisles of 10 bays whose walk order is a snake; bins spread over it.
    let placed = |code: &str, aisle: u32, bay: u32| Location {
        aisle: Some(aisle),
        bay: Some(bay),
        ..bin(
            code,
            laituri_domain::layout::walk_order(
                0,
                laituri_domain::layout::ZoneShape {
                    bays: 10,
                    levels: 1,
                },
                aisle,
                bay,
                1,
            ),
        )
    };
    let spots = [
        (1, 9),
        (2, 2),
        (3, 8),
        (4, 1),
        (5, 10),
        (6, 3),
        (2, 7),
        (5, 4),
    ];
    let mut stock_rows = Vec::new();
    let mut orders = Vec::new();
    let mut locations = BTreeMap::new();
    for (i, (aisle, bay)) in spots.iter().enumerate() {
        let code = format!("Z-{aisle}-{bay}");
        locations.insert(code.clone(), placed(&code, *aisle, *bay));
        stock_rows.push(stock("P", &code, None, 1));
        orders.push(order(&format!("R{i}"), 0, i as i64, &[("P", 1)]));
    }
    let mut w = World::new(&[product("P")], stock_rows, orders);
    w.snap.locations = locations;
    let (_, tasks) = w.plan(ReleasePolicy {
        totes: 8,
        ..ReleasePolicy::default()
    });
    assert_eq!(tasks.len(), 1);
    let stops: Vec<Stop> = tasks[0]
        .lines
        .iter()
        .map(|l| {
            let b = &w.snap.locations[&l.goods.from.as_ref().unwrap().location];
            Stop {
                aisle: b.aisle.unwrap(),
                bay: b.bay.unwrap(),
            }
        })
        .collect();
    let zone = Warehouse {
        aisles: 6,
        bays: 10,
        bay_width: 13,
        aisle_pitch: 30,
        depot_aisle: 1,
    };
    let walked = zone.walk_length(&stops, &(0..stops.len()).collect::<Vec<_>>());
    let best = shortest(&zone, &stops).length;
    assert!(
        walked * 100 <= best * 105,
        "walked {walked}, shortest {best}"
    );
}
