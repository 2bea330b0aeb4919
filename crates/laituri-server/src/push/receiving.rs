//! Receiving's rules: a receipt is opened at a dock, goods arrive into totes (or quarantine), and
//! closing the receipt hands out one putaway task per tote that holds its good goods.
//!
//! Stock changes only through [`super::moves::apply_moves`]; this file adds the receipt's own
//! bookkeeping (the receipt, its running tally, the totes it filled, its notice).

use laituri_protocol::{
    Event, EventBody, EventOutcome, ExceptionView, Place, StockMove, Task, TaskKind, TaskLine,
    TaskStatus,
};
use uuid::Uuid;

use super::moves::apply_moves;
use super::{Ledger, check_merchant, rejected, unknown_location};
use crate::store::StoreError;
use crate::tasks::TaskRow;

/// Applies a receiving event (`receipt_opened`, `goods_received`, `unknown_barcode`,
/// `receipt_closed`); anything else is refused as unsupported.
pub(super) fn apply<L: Ledger>(
    ledger: &mut L,
    caller: Uuid,
    event: &Event,
    body: EventBody,
) -> Result<EventOutcome, StoreError> {
    let moves = body.moves();
    match body {
        EventBody::ReceiptOpened {
            receipt_id,
            merchant_id,
            notice_id,
            dock,
        } => {
            if let Some(r) = check_merchant(ledger, &merchant_id)? {
                return Ok(r);
            }
            if ledger.location_kind(&dock)?.is_none() {
                return Ok(unknown_location(&dock));
            }
            if let Some(notice_id) = notice_id.as_deref() {
                match ledger.notice(notice_id)? {
                    None => {
                        return Ok(rejected(
                            "unknown_notice",
                            format!(
                                "inbound notice {notice_id} is not known to the server: start a blind \
                                 receipt for the merchant instead, or ask the merchant to send the notice"
                            ),
                        ));
                    }
                    Some(n) if n.merchant_id != merchant_id => {
                        return Ok(rejected(
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
            if ledger.receipt(receipt_id)?.is_some() {
                return Ok(rejected(
                    "receipt_exists",
                    format!(
                        "receipt {receipt_id} was already opened: the terminal must give each \
                         receipt a new id"
                    ),
                ));
            }
            ledger.open_receipt(
                receipt_id,
                &merchant_id,
                notice_id.as_deref(),
                caller,
                &dock,
            )?;
            Ok(EventOutcome::Applied)
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
            if let Some(r) = check_open_receipt(ledger, receipt_id, &merchant_id)? {
                return Ok(r);
            }
            if let Some(r) = apply_moves(ledger, event, &moves)? {
                return Ok(r);
            }
            if !condition.is_quarantine() && !container.is_empty() {
                ledger.record_receipt_container(receipt_id, &location, &container)?;
            }
            let quarantined = if condition.is_quarantine() {
                quantity
            } else {
                0
            };
            ledger.tally_receipt(receipt_id, &product_id, quantity, quarantined)?;
            Ok(EventOutcome::Applied)
        }
        EventBody::UnknownBarcode {
            receipt_id,
            merchant_id,
            raw,
        } => {
            if ledger.receipt(receipt_id)?.is_none() {
                return Ok(unknown_receipt(receipt_id));
            }
            if let Some(r) = check_merchant(ledger, &merchant_id)? {
                return Ok(r);
            }
            ledger.record_exception(
                &ExceptionView {
                    device_id: caller,
                    seq: event.seq,
                    event_id: event.event_id,
                    kind: "unknown_barcode".into(),
                    message: format!(
                        "unknown barcode {raw:?} on receipt {receipt_id} of merchant {merchant_id}: \
                         find the goods set aside at the dock, then add the barcode to the right \
                         product through the integration API or return the goods"
                    ),
                },
                Some(&merchant_id),
            )?;
            Ok(EventOutcome::Applied)
        }
        EventBody::ReceiptClosed {
            receipt_id,
            notice_id,
            lines,
        } => {
            let receipt = match ledger.receipt(receipt_id)? {
                None => return Ok(unknown_receipt(receipt_id)),
                Some(r) if r.closed => return Ok(closed_receipt(receipt_id)),
                Some(r) => r,
            };
            if notice_id != receipt.notice_id {
                return Ok(rejected(
                    "notice_mismatch",
                    format!(
                        "receipt {receipt_id} was opened for notice {:?} but closed for {:?}: \
                         close it for the notice it was opened with",
                        receipt.notice_id, notice_id
                    ),
                ));
            }
            ledger.close_receipt(receipt_id, &lines)?;
            if let Some(notice_id) = receipt.notice_id.as_deref() {
                ledger.close_notice(notice_id)?;
            }
            create_putaway_tasks(ledger, receipt_id, &receipt.merchant_id)?;
            Ok(EventOutcome::Applied)
        }
        other => Ok(rejected(
            "unsupported_event_type",
            format!(
                "{} is not a receiving event: update the server",
                other.type_name()
            ),
        )),
    }
}

fn check_open_receipt<L: Ledger>(
    ledger: &mut L,
    receipt_id: Uuid,
    merchant_id: &str,
) -> Result<Option<EventOutcome>, StoreError> {
    Ok(match ledger.receipt(receipt_id)? {
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
    })
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
fn create_putaway_tasks<L: Ledger>(
    ledger: &mut L,
    receipt_id: Uuid,
    merchant_id: &str,
) -> Result<(), StoreError> {
    for (location, container) in ledger.receipt_containers(receipt_id)? {
        let lines: Vec<TaskLine> = ledger
            .container_stock(&location, &container)?
            .into_iter()
            .filter(|(k, q)| *q > 0 && !k.condition.is_quarantine() && k.merchant_id == merchant_id)
            .map(|(k, q)| TaskLine {
                goods: StockMove {
                    merchant_id: k.merchant_id,
                    product_id: k.product_id,
                    quantity: q,
                    lot: k.lot,
                    expiry: k.expiry,
                    serial: None,
                    condition: k.condition,
                    from: Some(Place {
                        location: k.location,
                        container: k.container,
                    }),
                    to: None,
                    reason: None,
                },
            })
            .collect();
        if lines.is_empty() || ledger.putaway_task_of(&container)?.is_some() {
            continue;
        }
        let row = TaskRow::new(Task {
            task_id: format!("putaway-{container}-{receipt_id}"),
            kind: TaskKind::Putaway,
            merchant_id: merchant_id.to_string(),
            priority: 0,
            status: TaskStatus::Open,
            container: Some(container),
            lines,
            leased_to: None,
            reason: None,
        });
        super::save_and_publish_task(ledger, &row)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use laituri_protocol::{EventOutcome, TaskStatus};

    use crate::push::push_batch;
    use crate::push::tests::{DEV, closed, events, fake, goods, opened};

    fn codes(outcomes: &[EventOutcome]) -> Vec<&str> {
        outcomes
            .iter()
            .map(|o| match o {
                EventOutcome::Applied => "applied",
                EventOutcome::Rejected { code, .. } | EventOutcome::Partial { code, .. } => code,
                EventOutcome::Duplicate { .. } => "duplicate",
            })
            .collect()
    }

    /// (name, events, outcome codes, stock changes announced, putaway tasks created)
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
            let mut l = fake();
            let resp = push_batch(&mut l, DEV, &events(&bodies)).unwrap();
            let outcomes: Vec<EventOutcome> = resp.results.into_iter().map(|r| r.outcome).collect();
            assert_eq!(codes(&outcomes), expect, "{name}");
            let stock = l
                .changes
                .iter()
                .filter(|(_, c)| matches!(c, laituri_protocol::Change::Stock(_)))
                .count();
            assert_eq!(stock, stock_changes, "{name}: stock changes");
            assert_eq!(l.tasks.len(), tasks, "{name}: tasks");
            for t in l.tasks.values() {
                assert_eq!(t.task.status, TaskStatus::Open, "{name}");
                assert_eq!(t.task.container.as_deref(), Some("T-0001"), "{name}");
                assert_eq!(t.task.lines[0].goods.quantity, 5, "{name}");
            }
        }
    }

    #[test]
    fn a_received_level_names_the_event_that_made_it() {
        let mut l = fake();
        let evs = events(&[opened(), goods("P1", 4, "DOCK-1"), goods("P1", 2, "DOCK-1")]);
        push_batch(&mut l, DEV, &evs).unwrap();
        let levels: Vec<(i64, Option<u64>)> = l
            .changes
            .iter()
            .filter_map(|(to, c)| match c {
                laituri_protocol::Change::Stock(s) => {
                    assert_eq!(*to, None);
                    assert_eq!(s.by_device, Some(DEV));
                    Some((s.quantity, s.by_seq))
                }
                _ => None,
            })
            .collect();
        assert_eq!(levels, vec![(4, Some(2)), (6, Some(3))]);
    }
}
