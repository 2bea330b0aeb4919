//! Where webhook events come from: pure functions over the effects of one transaction, each
//! event type made in one place.
//!
//! - `order_status_changed`: [`order_changes`] compares each order an [`Effect::SaveOrder`]
//!   saves with the order as the transaction first read it ([`Before`]). An order's history
//!   holds every status it had, so the entries the transaction added are exactly its changes:
//!   one event per change, with the status before it. Pushes ([`push_notices`], through
//!   `push::push_batch`), the planner (`outbound::plan`) and the integration API's cancel and
//!   replace (each backend's orders) all call it.
//! - `stock_level_changed`: [`stock_changes`], one event per (merchant, product) whose stock an
//!   [`Effect::AddStock`] of the transaction moved, however many moves. The levels are read when
//!   the event is first fanned out, not here (see the module [`super`]).
//! - `inbound_notice_received`: [`notice_receipts`], when a receipt opened against a notice
//!   closes: the notice's lines, expected against received.
//! - `order_shipped` and `return_received`: [`order_shipped`] and [`return_received`] make the
//!   effect; the flows that ship and take returns emit them.
//!
//! No body carries personal data: orders are named by id and reference.

use std::collections::{BTreeMap, BTreeSet};

use laituri_protocol::webhooks::{
    InboundNoticeReceived, NoticeLineReceived, OrderShipped, OrderStatusChanged, ReturnReceived,
    ShippedParcel, rfc3339_utc,
};
use laituri_protocol::{OrderStatus, WebhookEventType};
use serde::Serialize;
use uuid::Uuid;

use super::Notice;
use crate::orders::OrderRow;
use crate::push::{Effect, World};

/// What a transaction first read of the orders it may change: each order's status and how many
/// entries its history had.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Before {
    orders: BTreeMap<Uuid, (OrderStatus, usize)>,
}

impl Before {
    pub fn of_orders<'a>(orders: impl IntoIterator<Item = &'a OrderRow>) -> Before {
        Before {
            orders: orders
                .into_iter()
                .map(|o| (o.id, (o.status, o.history.len())))
                .collect(),
        }
    }

    /// The orders of a push's world, before its events are decided.
    pub fn of(world: &World) -> Before {
        Before::of_orders(world.orders.values())
    }
}

/// An event of `kind` about `subject` for `merchant_id`, made at `now_ms`.
fn notice(
    merchant_id: &str,
    kind: WebhookEventType,
    subject: String,
    data: &impl Serialize,
    now_ms: i64,
) -> Effect {
    Effect::Notify(Notice {
        event_id: Uuid::now_v7(),
        merchant_id: merchant_id.to_string(),
        kind,
        subject,
        created_at_ms: now_ms,
        data: serde_json::to_value(data).expect("webhook bodies always serialize"),
    })
}

/// One `order_status_changed` per status change of each order `effects` save, against `before`.
pub fn order_changes(before: &Before, effects: &[Effect], now_ms: i64) -> Vec<Effect> {
    let mut last: BTreeMap<Uuid, &OrderRow> = BTreeMap::new();
    for e in effects {
        if let Effect::SaveOrder(row) = e {
            last.insert(row.id, row);
        }
    }
    let mut out = Vec::new();
    for row in last.into_values() {
        out.extend(status_changes(
            before.orders.get(&row.id).copied(),
            row,
            now_ms,
        ));
    }
    out
}

/// The status changes of `after` since `before` (its status and history length then): the
/// history entries added, each against the status before it. Changes of the reason alone are
/// not status changes.
fn status_changes(
    before: Option<(OrderStatus, usize)>,
    after: &OrderRow,
    now_ms: i64,
) -> Vec<Effect> {
    // An order not read first was new in the transaction: its changes after `new`.
    let (mut old, from) = before.unwrap_or((OrderStatus::New, 1));
    let mut out = Vec::new();
    for change in after.history.iter().skip(from) {
        if change.status != old {
            let data = OrderStatusChanged {
                order_id: after.id,
                reference: after.reference.clone(),
                old_status: old,
                new_status: change.status,
                reason: change.reason.clone(),
                changed_at: rfc3339_utc(change.at_ms),
            };
            out.push(notice(
                &after.merchant_id,
                WebhookEventType::OrderStatusChanged,
                after.id.to_string(),
                &data,
                now_ms,
            ));
        }
        old = change.status;
    }
    out
}

/// The status changes of one order written outside a push or a plan (a cancel, a replace),
/// against `before`, the order as the transaction read it.
pub fn order_written(before: &Before, row: &OrderRow, now_ms: i64) -> Vec<Effect> {
    status_changes(before.orders.get(&row.id).copied(), row, now_ms)
}

/// The data of a `stock_level_changed` event until it is fanned out: the product only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StockSubject {
    pub product_id: String,
}

/// One `stock_level_changed` per (merchant, product) whose stock `effects` moved.
pub fn stock_changes(effects: &[Effect], now_ms: i64) -> Vec<Effect> {
    let moved: BTreeSet<(&str, &str)> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::AddStock { key, delta, .. } if *delta != 0 => {
                Some((key.merchant_id.as_str(), key.product_id.as_str()))
            }
            _ => None,
        })
        .collect();
    stock_levels_changed(moved, now_ms)
}

/// One `stock_level_changed` per (merchant, product) of `products`: their stock moved, or what
/// orders hold of it (a reservation) changed.
pub fn stock_levels_changed<'a>(
    products: impl IntoIterator<Item = (&'a str, &'a str)>,
    now_ms: i64,
) -> Vec<Effect> {
    products
        .into_iter()
        .map(|(merchant, product)| {
            notice(
                merchant,
                WebhookEventType::StockLevelChanged,
                product.to_string(),
                &StockSubject {
                    product_id: product.to_string(),
                },
                now_ms,
            )
        })
        .collect()
}

/// One `inbound_notice_received` per receipt of a notice that `effects` close: the notice's
/// lines (expected) beside the receipt's (received), products of either.
pub fn notice_receipts(world: &World, effects: &[Effect], now_ms: i64) -> Vec<Effect> {
    let mut out = Vec::new();
    for e in effects {
        let Effect::CloseReceipt { receipt_id, lines } = e else {
            continue;
        };
        let Some(receipt) = world.receipts.get(receipt_id) else {
            continue;
        };
        let Some(notice_id) = &receipt.notice_id else {
            continue;
        };
        let announced = world.notices.get(notice_id);
        let mut merged: BTreeMap<&str, NoticeLineReceived> = BTreeMap::new();
        for l in announced.iter().flat_map(|n| &n.lines) {
            let line = merged
                .entry(&l.product_id)
                .or_insert_with(|| empty_line(&l.product_id));
            line.expected += l.expected_qty;
        }
        for l in lines {
            let line = merged
                .entry(&l.product_id)
                .or_insert_with(|| empty_line(&l.product_id));
            if announced.is_none() {
                line.expected += l.expected;
            }
            line.received += l.received;
            line.quarantined += l.quarantined;
        }
        let data = InboundNoticeReceived {
            notice_id: notice_id.clone(),
            reference: announced.map(|n| n.reference.clone()).unwrap_or_default(),
            receipt_id: *receipt_id,
            lines: merged.into_values().collect(),
        };
        out.push(notice(
            &receipt.merchant_id,
            WebhookEventType::InboundNoticeReceived,
            notice_id.clone(),
            &data,
            now_ms,
        ));
    }
    out
}

fn empty_line(product_id: &str) -> NoticeLineReceived {
    NoticeLineReceived {
        product_id: product_id.to_string(),
        expected: 0,
        received: 0,
        quarantined: 0,
    }
}

/// Every event of a push's `effects`, decided over `world` from what `before` read.
pub fn push_notices(before: &Before, world: &World, effects: &[Effect]) -> Vec<Effect> {
    let now = world.now_ms;
    let mut out = order_changes(before, effects, now);
    out.extend(stock_changes(effects, now));
    out.extend(notice_receipts(world, effects, now));
    out
}

/// The `order_shipped` event of `order`, handed to `carrier` in `parcels` at `now_ms`: an effect
/// to write in the transaction that records the shipment.
pub fn order_shipped(
    order: &OrderRow,
    carrier: &str,
    parcels: Vec<ShippedParcel>,
    now_ms: i64,
) -> Effect {
    let data = OrderShipped {
        order_id: order.id,
        reference: order.reference.clone(),
        carrier: carrier.to_string(),
        parcels,
        shipped_at: rfc3339_utc(now_ms),
    };
    notice(
        &order.merchant_id,
        WebhookEventType::OrderShipped,
        order.id.to_string(),
        &data,
        now_ms,
    )
}

/// The `return_received` event of `merchant_id`'s return, inspected at `now_ms`: an effect to
/// write in the transaction that records the return.
pub fn return_received(merchant_id: &str, data: &ReturnReceived, now_ms: i64) -> Effect {
    notice(
        merchant_id,
        WebhookEventType::ReturnReceived,
        data.return_id.to_string(),
        data,
        now_ms,
    )
}

#[cfg(test)]
mod tests {
    use laituri_protocol::{GoodsCondition, InboundNotice, NoticeLine, NoticeStatus};
    use laituri_protocol::{OrderInput, ReceiptLineSummary, Recipient};

    use super::*;
    use crate::push::{ReceiptRef, StockKey};

    fn order() -> OrderRow {
        let input = OrderInput {
            merchant_id: "M1".into(),
            reference: "R-1".into(),
            lines: vec![],
            shipping_method: "posti".into(),
            pickup_point: None,
            priority: 0,
            recipient: Recipient {
                name: "Matti Meikäläinen".into(),
                address: "Katu 1".into(),
                address2: None,
                postcode: "00100".into(),
                city: "Helsinki".into(),
                country: "FI".into(),
                phone: None,
                email: Some("matti@example.fi".into()),
            },
            comments: Some("ovikoodi 1234".into()),
            documents: vec![],
            cash_on_delivery: None,
            value_minor: None,
        };
        OrderRow::new(&input, 1_000)
    }

    fn data(e: &Effect) -> (&Notice, serde_json::Value) {
        let Effect::Notify(n) = e else {
            panic!("{e:?}")
        };
        (n, n.data.clone())
    }

    #[test]
    fn every_status_change_of_a_transaction_is_an_event_and_nothing_personal_is_in_it() {
        let stored = order();
        let before = Before::of_orders([&stored]);
        let mut row = stored.clone();
        row.set_status(OrderStatus::Reserved, None, 2_000);
        let mid = row.clone();
        row.set_status(OrderStatus::OnHold, Some("no stock of P1".into()), 3_000);
        // A reason changed alone is no status change.
        row.set_status(OrderStatus::OnHold, Some("no stock of P2".into()), 4_000);
        let effects = vec![Effect::SaveOrder(mid), Effect::SaveOrder(row)];
        let events = order_changes(&before, &effects, 5_000);
        let got: Vec<(String, String)> = events
            .iter()
            .map(|e| {
                let (_, d) = data(e);
                (
                    d["old_status"].as_str().unwrap().to_string(),
                    d["new_status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("new".to_string(), "reserved".to_string()),
                ("reserved".to_string(), "on_hold".to_string())
            ]
        );
        let (n, d) = data(&events[1]);
        assert_eq!(n.kind, WebhookEventType::OrderStatusChanged);
        assert_eq!(d["reason"], "no stock of P1");
        assert_eq!(d["changed_at"], "1970-01-01T00:00:03.000Z");
        let text = n.body();
        for personal in ["Matti", "Katu", "matti@", "ovikoodi", "00100"] {
            assert!(!text.contains(personal), "{text}");
        }
        // Saving the order unchanged again is no event.
        let again = Before::of_orders(effects.iter().filter_map(|e| match e {
            Effect::SaveOrder(r) => Some(r),
            _ => None,
        }));
        assert!(order_changes(&again, &effects[1..], 6_000).is_empty());
    }

    #[test]
    fn stock_moves_of_one_push_are_one_event_per_product() {
        let key = |product: &str, location: &str| StockKey {
            merchant_id: "M1".into(),
            product_id: product.into(),
            location: location.into(),
            container: None,
            lot: None,
            expiry: None,
            condition: GoodsCondition::Good,
        };
        let add = |k: StockKey, delta| Effect::AddStock {
            key: k,
            delta,
            level: 0,
        };
        let effects = vec![
            add(key("P1", "A"), -2),
            add(key("P1", "B"), 2),
            add(key("P2", "A"), 5),
            add(key("P1", "A"), -1),
        ];
        let events = stock_changes(&effects, 1);
        let products: Vec<String> = events
            .iter()
            .map(|e| data(e).1["product_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(products, ["P1", "P2"]);
    }

    #[test]
    fn a_closed_receipt_of_a_notice_tells_expected_against_received() {
        let receipt_id = Uuid::from_u128(7);
        let mut world = World::default();
        world.receipts.insert(
            receipt_id,
            ReceiptRef {
                merchant_id: "M1".into(),
                notice_id: Some("N-1".into()),
                closed: true,
            },
        );
        world.notices.insert(
            "N-1".into(),
            InboundNotice {
                id: "N-1".into(),
                merchant_id: "M1".into(),
                reference: "PO-77".into(),
                ssccs: vec![],
                supplier: String::new(),
                lines: vec![
                    NoticeLine {
                        product_id: "P1".into(),
                        expected_qty: 10,
                    },
                    NoticeLine {
                        product_id: "P2".into(),
                        expected_qty: 4,
                    },
                ],
                status: NoticeStatus::Closed,
            },
        );
        let effects = vec![Effect::CloseReceipt {
            receipt_id,
            lines: vec![
                ReceiptLineSummary {
                    product_id: "P1".into(),
                    expected: 10,
                    received: 9,
                    quarantined: 1,
                },
                ReceiptLineSummary {
                    product_id: "P3".into(),
                    expected: 0,
                    received: 2,
                    quarantined: 0,
                },
            ],
        }];
        let events = notice_receipts(&world, &effects, 1);
        assert_eq!(events.len(), 1);
        let (n, d) = data(&events[0]);
        assert_eq!(n.merchant_id, "M1");
        assert_eq!(d["reference"], "PO-77");
        let lines: Vec<(String, i64, i64)> = d["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["product_id"].as_str().unwrap().to_string(),
                    l["expected"].as_i64().unwrap(),
                    l["received"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("P1".to_string(), 10, 9),
                ("P2".to_string(), 4, 0),
                ("P3".to_string(), 0, 2)
            ]
        );
        // A blind receipt (no notice) tells nothing.
        world.receipts.get_mut(&receipt_id).unwrap().notice_id = None;
        assert!(notice_receipts(&world, &effects, 1).is_empty());
    }
}
