//! Receiving's rules: a receipt is opened at a dock, goods arrive into totes (or quarantine), and
//! closing the receipt hands out one putaway task per tote that holds its good goods.
//!
//! Stock changes only through [`super::moves`]; this file adds the receipt's own bookkeeping
//! (the receipt, its running tally, the totes it filled, its notice). Pure: it reads a
//! [`World`] and answers a [`Decision`].

use std::collections::BTreeMap;

use laituri_protocol::{
    Change, EventBody, EventOutcome, NoticeStatus, Place, StockMove, Task, TaskKind, TaskLine,
    TaskStatus,
};
use uuid::Uuid;

use super::moves;
use super::world::{Ctx, Decision, Effect, Refs, World};
use super::{check_merchant, rejected, unknown_location};
use crate::tasks::TaskRow;

/// Adds what deciding a receiving event reads. `closing` gathers, per receipt closed in the
/// batch, the containers that goods of the batch went into (see [`close_refs`]).
pub(super) fn refs(
    body: &EventBody,
    refs: &mut Refs,
    received: &mut BTreeMap<Uuid, Vec<(String, String)>>,
) {
    match body {
        EventBody::ReceiptOpened {
            receipt_id,
            merchant_id,
            notice_id,
            dock,
        } => {
            refs.receipts.insert(*receipt_id);
            refs.merchants.insert(merchant_id.clone());
            refs.locations.insert(dock.clone());
            refs.notices.extend(notice_id.clone());
        }
        EventBody::GoodsReceived {
            receipt_id,
            container,
            location,
            condition,
            ..
        } => {
            refs.receipts.insert(*receipt_id);
            moves::refs(&body.moves(), refs);
            if !condition.is_quarantine() && !container.is_empty() {
                received
                    .entry(*receipt_id)
                    .or_default()
                    .push((location.clone(), container.clone()));
            }
        }
        EventBody::UnknownBarcode {
            receipt_id,
            merchant_id,
            ..
        } => {
            refs.receipts.insert(*receipt_id);
            refs.merchants.insert(merchant_id.clone());
        }
        EventBody::ReceiptClosed {
            receipt_id,
            notice_id,
            ..
        } => {
            refs.receipts.insert(*receipt_id);
            refs.receipt_containers.insert(*receipt_id);
            refs.notices.extend(notice_id.clone());
        }
        _ => {}
    }
}

/// After every event was walked: the containers that goods of this batch went into for a
/// receipt closed in the batch, whose stock and putaway tasks closing it reads. (Containers
/// recorded before the batch come from [`Refs::follow_up`].)
pub(super) fn close_refs(received: BTreeMap<Uuid, Vec<(String, String)>>, refs: &mut Refs) {
    for (receipt_id, pairs) in received {
        if refs.receipt_containers.contains(&receipt_id) {
            for (location, container) in pairs {
                refs.putaway_containers.insert(container.clone());
                refs.container_stock.insert((location, container));
            }
        }
    }
}

/// Decides a receiving event (`receipt_opened`, `goods_received`, `unknown_barcode`,
/// `receipt_closed`); anything else is refused as unsupported.
pub(super) fn decide(body: EventBody, world: &World, ctx: &Ctx) -> Decision {
    match decide_inner(body, world, ctx) {
        Ok(effects) => Decision::applied(effects),
        Err(outcome) => outcome.into(),
    }
}

fn decide_inner(body: EventBody, world: &World, ctx: &Ctx) -> Result<Vec<Effect>, EventOutcome> {
    let moves = body.moves();
    match body {
        EventBody::ReceiptOpened {
            receipt_id,
            merchant_id,
            notice_id,
            dock,
        } => {
            if let Some(r) = check_merchant(world, &merchant_id) {
                return Err(r);
            }
            if !world.locations.contains_key(&dock) {
                return Err(unknown_location(&dock));
            }
            if let Some(notice_id) = notice_id.as_deref() {
                match world.notices.get(notice_id) {
                    None => {
                        return Err(rejected(
                            "unknown_notice",
                            format!(
                                "inbound notice {notice_id} is not known to the server: start a blind \
                                 receipt for the merchant instead, or ask the merchant to send the notice"
                            ),
                        ));
                    }
                    Some(n) if n.merchant_id != merchant_id => {
                        return Err(rejected(
                            "notice_of_other_merchant",
                            format!(
                                "inbound notice {notice_id} belongs to merchant {}, not {merchant_id}: \
                                 open the receipt for the notice's merchant",
                                n.merchant_id
                            ),
                        ));
                    }
                    // A closed notice is still accepted: the goods are physically at the dock,
                    // and a second receipt against it is for a lead to sort out, not to refuse.
                    Some(_) => {}
                }
            }
            if world.receipts.contains_key(&receipt_id) {
                return Err(rejected(
                    "receipt_exists",
                    format!(
                        "receipt {receipt_id} was already opened: the terminal must give each \
                         receipt a new id"
                    ),
                ));
            }
            Ok(vec![Effect::OpenReceipt {
                receipt_id,
                merchant_id,
                notice_id,
                device_id: ctx.device_id,
                dock,
            }])
        }
        EventBody::GoodsReceived {
            receipt_id,
            merchant_id,
            product_id,
            quantity,
            container,
            location,
            condition,
            ..
        } => {
            if let Some(r) = check_open_receipt(world, receipt_id, &merchant_id) {
                return Err(r);
            }
            let mut fx = moves::decide(world, ctx, &moves)?;
            if !condition.is_quarantine() && !container.is_empty() {
                fx.push(Effect::ReceiptContainer {
                    receipt_id,
                    location,
                    container,
                });
            }
            let quarantined = if condition.is_quarantine() {
                quantity
            } else {
                0
            };
            fx.push(Effect::TallyReceipt {
                receipt_id,
                product_id,
                received: quantity,
                quarantined,
            });
            Ok(fx)
        }
        EventBody::UnknownBarcode {
            receipt_id,
            merchant_id,
            raw,
        } => {
            if !world.receipts.contains_key(&receipt_id) {
                return Err(unknown_receipt(receipt_id));
            }
            if let Some(r) = check_merchant(world, &merchant_id) {
                return Err(r);
            }
            Ok(vec![Effect::Exception {
                exception: ctx.exception(
                    "unknown_barcode",
                    format!(
                        "unknown barcode {} on receipt {receipt_id} of merchant {merchant_id}: \
                         find the goods set aside at the dock, then add the barcode to the right \
                         product through the integration API or return the goods",
                        super::shown_scan(&raw)
                    ),
                ),
                merchant_id: Some(merchant_id),
            }])
        }
        EventBody::ReceiptClosed {
            receipt_id,
            notice_id,
            lines,
        } => {
            let receipt = match world.receipts.get(&receipt_id) {
                None => return Err(unknown_receipt(receipt_id)),
                Some(r) if r.closed => return Err(closed_receipt(receipt_id)),
                Some(r) => r,
            };
            if notice_id != receipt.notice_id {
                return Err(rejected(
                    "notice_mismatch",
                    format!(
                        "receipt {receipt_id} was opened for notice {:?} but closed for {:?}: \
                         close it for the notice it was opened with",
                        receipt.notice_id, notice_id
                    ),
                ));
            }
            let mut fx = vec![Effect::CloseReceipt { receipt_id, lines }];
            if let Some(notice) = receipt
                .notice_id
                .as_deref()
                .and_then(|n| world.notices.get(n))
                && notice.status != NoticeStatus::Closed
            {
                let mut notice = notice.clone();
                notice.status = NoticeStatus::Closed;
                let publish = Effect::Publish {
                    device: None,
                    merchant_id: Some(notice.merchant_id.clone()),
                    change: Change::InboundNotice(notice.clone()),
                };
                fx.push(Effect::SaveNotice(notice));
                fx.push(publish);
            }
            putaway_tasks(world, receipt_id, &receipt.merchant_id, &mut fx);
            Ok(fx)
        }
        other => Err(rejected(
            "unsupported_event_type",
            format!(
                "{} is not a receiving event: update the server",
                other.type_name()
            ),
        )),
    }
}

fn check_open_receipt(world: &World, receipt_id: Uuid, merchant_id: &str) -> Option<EventOutcome> {
    match world.receipts.get(&receipt_id) {
        None => Some(unknown_receipt(receipt_id)),
        Some(r) if r.closed => Some(closed_receipt(receipt_id)),
        Some(r) if r.merchant_id != merchant_id => Some(rejected(
            "merchant_mismatch",
            format!(
                "receipt {receipt_id} is for merchant {}, but the goods say {merchant_id}: \
                 receive them on a receipt of their own merchant",
                r.merchant_id
            ),
        )),
        Some(_) => None,
    }
}

fn unknown_receipt(receipt_id: Uuid) -> EventOutcome {
    rejected(
        "receipt_not_open",
        format!(
            "receipt {receipt_id} was never opened on the server: open a new receipt and scan the \
             goods again"
        ),
    )
}

fn closed_receipt(receipt_id: Uuid) -> EventOutcome {
    rejected(
        "receipt_closed",
        format!(
            "receipt {receipt_id} is already closed: open a new receipt for goods that arrive later"
        ),
    )
}

/// One open putaway task per tote that took good goods of the receipt and still holds some, with
/// what the tote holds as its lines. A tote that already has an unfinished putaway task keeps it.
fn putaway_tasks(world: &World, receipt_id: Uuid, merchant_id: &str, fx: &mut Vec<Effect>) {
    let mut created: Vec<&str> = Vec::new();
    let Some(pairs) = world.receipt_containers.get(&receipt_id) else {
        return;
    };
    for (container, location) in pairs {
        let lines: Vec<TaskLine> = world
            .container_stock(location, container)
            .into_iter()
            .filter(|(k, q)| *q > 0 && !k.condition.is_quarantine() && k.merchant_id == merchant_id)
            .map(|(k, q)| {
                TaskLine::of(StockMove {
                    merchant_id: k.merchant_id.clone(),
                    product_id: k.product_id.clone(),
                    quantity: q,
                    lot: k.lot.clone(),
                    expiry: k.expiry.clone(),
                    serial: None,
                    condition: k.condition,
                    from: Some(Place {
                        location: k.location.clone(),
                        container: k.container.clone(),
                    }),
                    to: None,
                    reason: None,
                })
            })
            .collect();
        if lines.is_empty()
            || created.contains(&container.as_str())
            || world.putaway_task_of(container).is_some()
        {
            continue;
        }
        created.push(container);
        let row = TaskRow::new(Task {
            task_id: format!("putaway-{container}-{receipt_id}"),
            kind: TaskKind::Putaway,
            merchant_id: merchant_id.to_string(),
            priority: 0,
            status: TaskStatus::Open,
            container: Some(container.clone()),
            lines,
            leased_to: None,
            reason: None,
            orders: Vec::new(),
        });
        fx.extend(Effect::save_and_publish_task(row));
    }
}

#[cfg(test)]
mod tests {
    use laituri_protocol::{
        Change, EventBody, InboundNotice, NoticeLine, NoticeStatus, TaskKind, TaskStatus,
    };
    use uuid::Uuid;

    use crate::push::tests::{
        DEV, RECEIPT, changes, closed, exceptions, goods, opened, run, world,
    };
    use crate::push::world::{Effect, ReceiptRef, World};

    fn tasks_saved(effects: &[Effect]) -> Vec<&crate::tasks::TaskRow> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::SaveTask(row) => Some(row),
                _ => None,
            })
            .collect()
    }

    /// (name, events of one batch, outcome codes, stock changes announced, putaway tasks created)
    #[test]
    fn receiving_case_table() {
        let cases = vec![
            (
                "goods then close",
                vec![opened(), goods("P1", 5, "DOCK-1"), closed()],
                vec!["applied"; 3],
                1,
                1,
            ),
            (
                "negative quantity",
                vec![opened(), goods("P1", -3, "DOCK-1")],
                vec!["applied", "negative_quantity"],
                0,
                0,
            ),
            (
                "close without goods",
                vec![opened(), closed()],
                vec!["applied"; 2],
                0,
                0,
            ),
            (
                "unknown location",
                vec![opened(), goods("P1", 1, "X"), closed()],
                vec!["applied", "unknown_location", "applied"],
                0,
                0,
            ),
        ];
        for (name, bodies, expect, stock_changes, tasks) in cases {
            let mut w = world();
            let (codes, effects) = run(&mut w, &bodies);
            assert_eq!(codes, expect, "{name}");
            let stock = changes(&effects)
                .iter()
                .filter(|(_, c)| matches!(c, Change::Stock(_)))
                .count();
            assert_eq!(stock, stock_changes, "{name}: stock changes");
            let saved = tasks_saved(&effects);
            assert_eq!(saved.len(), tasks, "{name}: tasks");
            for t in saved {
                assert_eq!(t.task.kind, TaskKind::Putaway, "{name}");
                assert_eq!(t.task.status, TaskStatus::Open, "{name}");
                assert_eq!(t.task.container.as_deref(), Some("T-0001"), "{name}");
                assert_eq!(t.task.lines[0].goods.quantity, 5, "{name}");
            }
        }
    }

    fn notice(id: &str, merchant: &str, status: NoticeStatus) -> InboundNotice {
        InboundNotice {
            id: id.into(),
            merchant_id: merchant.into(),
            reference: format!("REF-{id}"),
            ssccs: vec![],
            supplier: String::new(),
            status,
            lines: vec![NoticeLine {
                product_id: "P1".into(),
                expected_qty: 5,
            }],
        }
    }

    fn open_receipt(w: &mut World, notice_id: Option<&str>, closed: bool) {
        w.receipts.insert(
            RECEIPT,
            ReceiptRef {
                merchant_id: "M1".into(),
                notice_id: notice_id.map(Into::into),
                closed,
            },
        );
    }

    /// One event over a given world: (name, world, event, outcome code, effects written)
    #[test]
    fn receiving_rules_over_a_world() {
        let with_notices = || {
            let mut w = world();
            for n in [
                notice("N1", "M1", NoticeStatus::Open),
                notice("N2", "M2", NoticeStatus::Open),
                notice("N3", "M1", NoticeStatus::Closed),
            ] {
                w.notices.insert(n.id.clone(), n);
            }
            w
        };
        let open_for = |notice_id: &str| EventBody::ReceiptOpened {
            receipt_id: RECEIPT,
            merchant_id: "M1".into(),
            notice_id: Some(notice_id.into()),
            dock: "DOCK-1".into(),
        };
        let close_for = |notice_id: Option<&str>| EventBody::ReceiptClosed {
            receipt_id: RECEIPT,
            notice_id: notice_id.map(Into::into),
            lines: vec![],
        };
        let with_receipt = |notice_id: Option<&str>, closed: bool| {
            let mut w = with_notices();
            open_receipt(&mut w, notice_id, closed);
            w
        };
        let unknown = EventBody::UnknownBarcode {
            receipt_id: RECEIPT,
            merchant_id: "M1".into(),
            raw: "123".into(),
        };
        let mut of_m2 = goods("P2", 1, "DOCK-1");
        if let EventBody::GoodsReceived { merchant_id, .. } = &mut of_m2 {
            *merchant_id = "M2".into();
        }
        let mut quarantined = goods("P1", 2, "QUARANTINE");
        if let EventBody::GoodsReceived { condition, .. } = &mut quarantined {
            *condition = laituri_protocol::GoodsCondition::Damaged;
        }
        let cases: Vec<(&str, World, EventBody, &str, usize)> = vec![
            (
                "open against a notice",
                with_notices(),
                open_for("N1"),
                "applied",
                1,
            ),
            (
                "open against a closed notice",
                with_notices(),
                open_for("N3"),
                "applied",
                1,
            ),
            (
                "notice of another merchant",
                with_notices(),
                open_for("N2"),
                "notice_of_other_merchant",
                0,
            ),
            (
                "unknown notice",
                with_notices(),
                open_for("N9"),
                "unknown_notice",
                0,
            ),
            (
                "open twice",
                with_receipt(None, false),
                opened(),
                "receipt_exists",
                0,
            ),
            // stock, its change, the tote, the tally
            (
                "goods",
                with_receipt(None, false),
                goods("P1", 5, "DOCK-1"),
                "applied",
                4,
            ),
            // quarantined goods fill no tote of the receipt
            (
                "quarantined goods",
                with_receipt(None, false),
                quarantined,
                "applied",
                3,
            ),
            (
                "goods of another merchant",
                with_receipt(None, false),
                of_m2,
                "merchant_mismatch",
                0,
            ),
            (
                "goods on a closed receipt",
                with_receipt(None, true),
                goods("P1", 5, "DOCK-1"),
                "receipt_closed",
                0,
            ),
            (
                "unknown barcode",
                with_receipt(None, false),
                unknown.clone(),
                "applied",
                1,
            ),
            (
                "unknown barcode, no receipt",
                with_notices(),
                unknown,
                "receipt_not_open",
                0,
            ),
            // close, the notice saved and announced
            (
                "close with its notice",
                with_receipt(Some("N1"), false),
                close_for(Some("N1")),
                "applied",
                3,
            ),
            (
                "close with a closed notice",
                with_receipt(Some("N3"), false),
                close_for(Some("N3")),
                "applied",
                1,
            ),
            (
                "close for another notice",
                with_receipt(Some("N1"), false),
                close_for(None),
                "notice_mismatch",
                0,
            ),
        ];
        for (name, mut w, body, expect, effects) in cases {
            let (codes, fx) = run(&mut w, &[body]);
            assert_eq!(codes, [expect], "{name}");
            let own = fx
                .iter()
                .filter(|e| !matches!(e, Effect::Exception { .. }))
                .count()
                + exceptions(&fx)
                    .iter()
                    .filter(|x| x.kind == "unknown_barcode")
                    .count();
            assert_eq!(own, effects, "{name}: effects {fx:#?}");
        }
    }

    #[test]
    fn closing_a_notice_announces_it_closed() {
        let mut w = world();
        w.notices
            .insert("N1".into(), notice("N1", "M1", NoticeStatus::Open));
        open_receipt(&mut w, Some("N1"), false);
        let close = EventBody::ReceiptClosed {
            receipt_id: RECEIPT,
            notice_id: Some("N1".into()),
            lines: vec![],
        };
        let (_, fx) = run(&mut w, &[close]);
        assert!(matches!(
            changes(&fx)[..],
            [(None, Change::InboundNotice(n))] if n.status == NoticeStatus::Closed
        ));
        assert_eq!(w.notices["N1"].status, NoticeStatus::Closed);
        assert!(w.receipts[&RECEIPT].closed);
    }

    #[test]
    fn a_received_level_names_the_event_that_made_it() {
        let (_, fx) = run(
            &mut world(),
            &[opened(), goods("P1", 4, "DOCK-1"), goods("P1", 2, "DOCK-1")],
        );
        let levels: Vec<(i64, Option<u64>)> = changes(&fx)
            .into_iter()
            .filter_map(|(to, c)| match c {
                Change::Stock(s) => {
                    assert_eq!(to, None);
                    assert_eq!(s.by_device, Some(DEV));
                    Some((s.quantity, s.by_seq))
                }
                _ => None,
            })
            .collect();
        assert_eq!(levels, vec![(4, Some(2)), (6, Some(3))]);
    }

    /// A tote that already has an unfinished putaway task keeps it; the tote's whole content
    /// (goods of earlier receipts too) makes the lines.
    #[test]
    fn closing_hands_out_one_task_per_tote() {
        let mut w = world();
        let (_, fx) = run(&mut w, &[opened(), goods("P1", 5, "DOCK-1"), closed()]);
        assert_eq!(tasks_saved(&fx).len(), 1);
        let other = Uuid::from_u128(43);
        let again = |body: EventBody| match body {
            EventBody::ReceiptOpened {
                merchant_id,
                notice_id,
                dock,
                ..
            } => EventBody::ReceiptOpened {
                receipt_id: other,
                merchant_id,
                notice_id,
                dock,
            },
            EventBody::GoodsReceived {
                receipt_id: _,
                merchant_id,
                product_id,
                quantity,
                lot,
                expiry,
                serial,
                container,
                location,
                condition,
                barcode,
            } => EventBody::GoodsReceived {
                receipt_id: other,
                merchant_id,
                product_id,
                quantity,
                lot,
                expiry,
                serial,
                container,
                location,
                condition,
                barcode,
            },
            EventBody::ReceiptClosed {
                notice_id, lines, ..
            } => EventBody::ReceiptClosed {
                receipt_id: other,
                notice_id,
                lines,
            },
            b => b,
        };
        let (codes, fx) = run(
            &mut w,
            &[
                again(opened()),
                again(goods("P1", 1, "DOCK-1")),
                again(closed()),
            ],
        );
        assert_eq!(codes, ["applied"; 3]);
        assert!(tasks_saved(&fx).is_empty(), "the tote keeps its open task");
    }
}
