//! The one path by which stock changes (DESIGN.md section 3, points 5 and 10): every event's
//! [`StockMove`]s are validated here, then subtracted from their `from` place and added to their
//! `to` place through [`Ledger::add_stock`], each touched row announced to terminals as a
//! [`Change::Stock`] level.
//!
//! Stock that would go below zero is applied anyway (the goods physically moved) and raises a
//! discrepancy: a `negative_stock` exception and an open count task for the place. A move that
//! breaks a rule (quantity, merchant, product, location, expiry) rejects the whole event before
//! anything is applied.

use laituri_domain::calendar::Date;
use laituri_protocol::{
    Change, Event, EventOutcome, ExceptionView, Place, StockLevel, StockMove, Task, TaskKind,
    TaskLine, TaskStatus,
};

use super::{Ledger, StockKey, check_merchant, rejected, unknown_location};
use crate::store::StoreError;
use crate::tasks::TaskRow;

/// Checks every move; `Some` is the event's rejection, and nothing may be applied then.
pub(crate) fn validate_moves<L: Ledger>(
    ledger: &mut L,
    moves: &[StockMove],
) -> Result<Option<EventOutcome>, StoreError> {
    for m in moves {
        if let Some(r) = check_merchant(ledger, &m.merchant_id)? {
            return Ok(Some(r));
        }
        let (merchant_id, product_id) = (&m.merchant_id, &m.product_id);
        match ledger.product_merchant(product_id)? {
            None => {
                return Ok(Some(rejected(
                    "unknown_product",
                    format!(
                        "product {product_id} is not known to the server: record the barcode as \
                         unknown and set the goods aside for a shift lead"
                    ),
                )));
            }
            Some(owner) if owner != *merchant_id => {
                return Ok(Some(rejected(
                    "product_of_other_merchant",
                    format!(
                        "product {product_id} belongs to merchant {owner}, not {merchant_id}: \
                         set the goods aside and tell a shift lead; they were not booked"
                    ),
                )));
            }
            Some(_) => {}
        }
        for place in [&m.from, &m.to].into_iter().flatten() {
            if ledger.location_kind(&place.location)?.is_none() {
                return Ok(Some(unknown_location(&place.location)));
            }
        }
        if m.from.is_none() && m.to.is_none() {
            return Ok(Some(rejected(
                "move_without_places",
                "a stock move needs a place it comes from or goes to: scan the location again",
            )));
        }
        if m.quantity == 0 {
            return Ok(Some(rejected(
                "zero_quantity",
                "a move of 0 units changes nothing: scan the item again or key in the quantity",
            )));
        }
        if m.quantity < 0 {
            return Ok(Some(rejected(
                "negative_quantity",
                format!(
                    "a move of {} units is not possible: quantities are always positive and the \
                     direction is in from and to; key in the quantity again",
                    m.quantity
                ),
            )));
        }
        if let Some(e) = m.expiry.as_deref()
            && Date::parse_iso(e).is_none()
        {
            return Ok(Some(rejected(
                "bad_expiry",
                format!(
                    "expiry {e:?} is not a date in YYYY-MM-DD form: scan the item's GS1 label \
                     again or key in the expiry date"
                ),
            )));
        }
    }
    Ok(None)
}

/// Validates and applies `event`'s moves. `Some` is the event's rejection (nothing applied).
pub(crate) fn apply_moves<L: Ledger>(
    ledger: &mut L,
    event: &Event,
    moves: &[StockMove],
) -> Result<Option<EventOutcome>, StoreError> {
    if let Some(r) = validate_moves(ledger, moves)? {
        return Ok(Some(r));
    }
    apply_valid_moves(ledger, event, moves)?;
    Ok(None)
}

/// Applies moves that passed [`validate_moves`].
pub(crate) fn apply_valid_moves<L: Ledger>(
    ledger: &mut L,
    event: &Event,
    moves: &[StockMove],
) -> Result<(), StoreError> {
    for m in moves {
        if let Some(from) = &m.from {
            let key = key_of(m, from);
            let level = ledger.add_stock(&key, -m.quantity)?;
            publish_level(ledger, event, &key, level)?;
            if level < 0 {
                raise_discrepancy(ledger, event, m, &key, level)?;
            }
        }
        if let Some(to) = &m.to {
            let key = key_of(m, to);
            let level = ledger.add_stock(&key, m.quantity)?;
            publish_level(ledger, event, &key, level)?;
        }
    }
    Ok(())
}

fn key_of(m: &StockMove, place: &Place) -> StockKey {
    let some = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    StockKey {
        merchant_id: m.merchant_id.clone(),
        product_id: m.product_id.clone(),
        location: place.location.clone(),
        container: some(&place.container),
        lot: some(&m.lot),
        expiry: some(&m.expiry),
        condition: m.condition,
    }
}

fn publish_level<L: Ledger>(
    ledger: &mut L,
    event: &Event,
    key: &StockKey,
    level: i64,
) -> Result<(), StoreError> {
    let change = Change::Stock(StockLevel {
        merchant_id: key.merchant_id.clone(),
        product_id: key.product_id.clone(),
        location: key.location.clone(),
        container: key.container.clone(),
        lot: key.lot.clone(),
        expiry: key.expiry.clone(),
        condition: key.condition,
        quantity: level,
        by_device: Some(event.device_id),
        by_seq: Some(event.seq),
    });
    ledger.append_change(None, Some(&key.merchant_id), &change)
}

/// The reason of the count task raised when stock at `location` went below zero.
pub fn negative_stock_reason(location: &str) -> String {
    format!("stock went negative at {location}")
}

fn raise_discrepancy<L: Ledger>(
    ledger: &mut L,
    event: &Event,
    m: &StockMove,
    key: &StockKey,
    level: i64,
) -> Result<(), StoreError> {
    let place = match &key.container {
        Some(c) => format!("{} (container {c})", key.location),
        None => key.location.clone(),
    };
    ledger.record_exception(
        &ExceptionView {
            device_id: event.device_id,
            seq: event.seq,
            event_id: event.event_id,
            kind: "negative_stock".into(),
            message: format!(
                "stock of product {} at {place} went to {level} when {} units were taken from \
                 it: the move was booked; count the place (a count task was opened) and correct \
                 the stock",
                key.product_id, m.quantity
            ),
        },
        Some(&key.merchant_id),
    )?;
    let reason = negative_stock_reason(&key.location);
    if ledger.active_task_with_reason(TaskKind::Count, &reason)? {
        return Ok(());
    }
    let row = TaskRow::new(Task {
        task_id: format!("count-{}-{}", key.location, event.event_id),
        kind: TaskKind::Count,
        merchant_id: key.merchant_id.clone(),
        priority: 10,
        status: TaskStatus::Open,
        container: key.container.clone(),
        lines: vec![TaskLine {
            goods: m.same_goods(
                level.saturating_neg(),
                Some(Place {
                    location: key.location.clone(),
                    container: key.container.clone(),
                }),
                None,
            ),
        }],
        leased_to: None,
        reason: Some(reason),
    });
    super::save_and_publish_task(ledger, &row)
}
