//! The rules of a push (DESIGN.md section 3, points 3-5), independent of any database.
//!
//! It owns: the shape check of a batch ([`check_batch`]), the split of a batch into duplicates and
//! new events or a gap ([`plan`], a pure function), and the dispatch of each new event
//! ([`apply_event`]) to its flow's rules: [`receiving`], [`putaway`]. Every flow changes stock
//! only through [`moves`]; flows never touch duplicates, gaps or `acked_through`. A backend runs [`push_batch`] inside ONE transaction of its own through the
//! [`Ledger`] trait, so every backend applies exactly the same rules.
//!
//! It must never reject an event because stock would go negative (physical reality wins), never
//! let one bad event block the ones after it, and never change anything for a duplicate.

use laituri_protocol::{
    Change, Event, EventBody, EventDecodeError, EventOutcome, EventResult, ExceptionView,
    GoodsCondition, LocationKind, NoticeStatus, OverrideReason, PushResponse, ReceiptLineSummary,
    TaskKind,
};
use uuid::Uuid;

use crate::store::StoreError;
use crate::tasks::TaskRow;

pub mod moves;
mod putaway;
mod receiving;

/// Checks that a batch's seqs are consecutive and ascending (the protocol's promise).
pub fn check_batch(events: &[Event]) -> Result<(), String> {
    if let Some(first) = events.first()
        && first.seq == 0
    {
        return Err(
            "seq 0 is not a valid event seq: seqs start at 1 for every device; \
             send the device's outbox in seq order"
                .into(),
        );
    }
    for pair in events.windows(2) {
        if pair[1].seq != pair[0].seq + 1 {
            return Err(format!(
                "seqs in a batch must be consecutive and ascending, but seq {} follows seq {}: \
                 send the device's outbox in seq order without holes",
                pair[1].seq, pair[0].seq
            ));
        }
    }
    Ok(())
}

/// How a checked batch relates to what the server has recorded for the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The first `duplicates` events of the batch were recorded before.
    pub duplicates: usize,
}

/// Splits a batch starting at `first_seq` with `len` events, given the device's `last_seq`.
/// A gap means the first new event is ahead of `last_seq + 1`: nothing may be applied.
pub fn plan(last_seq: u64, first_seq: u64, len: usize) -> Result<Plan, StoreError> {
    if len == 0 {
        return Ok(Plan { duplicates: 0 });
    }
    if first_seq > last_seq + 1 {
        return Err(StoreError::Gap {
            expected: last_seq + 1,
        });
    }
    // first_seq <= last_seq + 1, so the events up to last_seq are duplicates.
    let duplicates = (last_seq + 1 - first_seq).min(len as u64) as usize;
    Ok(Plan { duplicates })
}

/// What a backend remembers of an event it recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub event_id: Uuid,
    pub outcome: EventOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRef {
    pub merchant_id: String,
    pub status: NoticeStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRef {
    pub merchant_id: String,
    pub notice_id: Option<String>,
    pub closed: bool,
}

/// The key of a stock row: one product of one merchant, in one place, lot, expiry and condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StockKey {
    pub merchant_id: String,
    pub product_id: String,
    pub location: String,
    pub container: Option<String>,
    pub lot: Option<String>,
    pub expiry: Option<String>,
    pub condition: GoodsCondition,
}

/// The view of one open transaction that the push rules need. Reads see the transaction's own
/// writes. Every method may fail only for backend reasons; rule violations are decided here.
pub trait Ledger {
    fn last_seq(&mut self, device_id: Uuid) -> Result<u64, StoreError>;
    fn set_last_seq(&mut self, device_id: Uuid, seq: u64) -> Result<(), StoreError>;
    fn recorded(&mut self, device_id: Uuid, seq: u64) -> Result<Option<Recorded>, StoreError>;
    /// True when an event with this id was applied before (by any device, at any seq).
    fn event_id_applied(&mut self, event_id: Uuid) -> Result<bool, StoreError>;
    fn record_event(&mut self, event: &Event, outcome: &EventOutcome) -> Result<(), StoreError>;
    fn record_exception(
        &mut self,
        exception: &ExceptionView,
        merchant_id: Option<&str>,
    ) -> Result<(), StoreError>;

    fn merchant_exists(&mut self, merchant_id: &str) -> Result<bool, StoreError>;
    fn product_merchant(&mut self, product_id: &str) -> Result<Option<String>, StoreError>;
    fn location_kind(&mut self, code: &str) -> Result<Option<LocationKind>, StoreError>;
    fn notice(&mut self, notice_id: &str) -> Result<Option<NoticeRef>, StoreError>;
    fn receipt(&mut self, receipt_id: Uuid) -> Result<Option<ReceiptRef>, StoreError>;

    fn open_receipt(
        &mut self,
        receipt_id: Uuid,
        merchant_id: &str,
        notice_id: Option<&str>,
        device_id: Uuid,
        dock: &str,
    ) -> Result<(), StoreError>;
    /// Adds a delta to a stock row, creating it at zero first. Answers the row's new level.
    fn add_stock(&mut self, key: &StockKey, delta: i64) -> Result<i64, StoreError>;
    /// Appends a change to the pull log, for `device` only or (`None`) for every device.
    fn append_change(
        &mut self,
        device: Option<Uuid>,
        merchant_id: Option<&str>,
        change: &Change,
    ) -> Result<(), StoreError>;
    fn task(&mut self, task_id: &str) -> Result<Option<TaskRow>, StoreError>;
    /// Inserts or replaces a task (appends nothing to the change log).
    fn save_task(&mut self, row: &TaskRow) -> Result<(), StoreError>;
    /// The open or leased putaway task of a container, if any.
    fn putaway_task_of(&mut self, container: &str) -> Result<Option<TaskRow>, StoreError>;
    /// True when an open or leased task of `kind` has this reason.
    fn active_task_with_reason(&mut self, kind: TaskKind, reason: &str)
    -> Result<bool, StoreError>;
    /// Remembers that a receipt put good goods into a container at a location.
    fn record_receipt_container(
        &mut self,
        receipt_id: Uuid,
        location: &str,
        container: &str,
    ) -> Result<(), StoreError>;
    /// The (location, container) pairs a receipt put good goods into.
    fn receipt_containers(&mut self, receipt_id: Uuid)
    -> Result<Vec<(String, String)>, StoreError>;
    /// Every stock row of a container at a location, with its level.
    fn container_stock(
        &mut self,
        location: &str,
        container: &str,
    ) -> Result<Vec<(StockKey, i64)>, StoreError>;
    /// Records a putaway into another bin than suggested, for a lead.
    fn record_override(
        &mut self,
        event: &Event,
        container: &str,
        suggested: Option<&str>,
        location: &str,
        reason: Option<OverrideReason>,
    ) -> Result<(), StoreError>;
    /// Records that a bin was reported full.
    fn record_bin_full(&mut self, event: &Event, location: &str) -> Result<(), StoreError>;
    fn tally_receipt(
        &mut self,
        receipt_id: Uuid,
        product_id: &str,
        received: i64,
        quarantined: i64,
    ) -> Result<(), StoreError>;
    fn close_receipt(
        &mut self,
        receipt_id: Uuid,
        lines: &[ReceiptLineSummary],
    ) -> Result<(), StoreError>;
    /// Marks a notice closed and appends it again to the change log (if it was not closed yet).
    fn close_notice(&mut self, notice_id: &str) -> Result<(), StoreError>;
}

/// Applies one checked batch of `device_id`'s events. Runs inside the caller's transaction:
/// on `Err` the caller must roll back, so a gap or a backend failure leaves nothing behind.
pub fn push_batch<L: Ledger>(
    ledger: &mut L,
    device_id: Uuid,
    events: &[Event],
) -> Result<PushResponse, StoreError> {
    // The planning below relies on consecutive seqs; checked here so no caller can skip it.
    check_batch(events).map_err(StoreError::Invalid)?;
    let last_seq = ledger.last_seq(device_id)?;
    let Some(first) = events.first() else {
        return Ok(PushResponse {
            acked_through: last_seq,
            results: Vec::new(),
        });
    };
    let plan = plan(last_seq, first.seq, events.len())?;
    let mut results = Vec::with_capacity(events.len());

    for event in &events[..plan.duplicates] {
        let outcome = match ledger.recorded(device_id, event.seq)? {
            Some(rec) if rec.event_id == event.event_id => EventOutcome::Duplicate {
                original: Box::new(rec.outcome),
            },
            // The device reuses a seq for a different event: its history is not the one the
            // server knows (a restored database that kept its device id). Say so instead of
            // claiming the new event was applied; nothing is changed.
            Some(rec) => EventOutcome::Rejected {
                code: "seq_conflict".into(),
                reason: format!(
                    "seq {} of this device was already used by event {}: this terminal's history \
                     differs from the server's; reset the terminal's database so it enrols as a \
                     new device, and report it to a shift lead",
                    event.seq, rec.event_id
                ),
            },
            None => {
                return Err(StoreError::Backend {
                    message: format!(
                        "seq {} of device {device_id} is below last_seq {last_seq} but not recorded",
                        event.seq
                    ),
                    transient: false,
                });
            }
        };
        results.push(EventResult {
            seq: event.seq,
            event_id: event.event_id,
            outcome,
        });
    }

    let new_events = &events[plan.duplicates..];
    for event in new_events {
        let outcome = apply_event(ledger, device_id, event)?;
        ledger.record_event(event, &outcome)?;
        if let EventOutcome::Rejected { code, reason } | EventOutcome::Partial { code, reason } =
            &outcome
        {
            let merchant = merchant_of(event);
            ledger.record_exception(
                &ExceptionView {
                    device_id,
                    seq: event.seq,
                    event_id: event.event_id,
                    kind: code.clone(),
                    message: reason.clone(),
                },
                merchant.as_deref(),
            )?;
        }
        results.push(EventResult {
            seq: event.seq,
            event_id: event.event_id,
            outcome,
        });
    }

    let acked_through = match new_events.last() {
        Some(last) => {
            ledger.set_last_seq(device_id, last.seq)?;
            last.seq
        }
        None => last_seq,
    };
    Ok(PushResponse {
        acked_through,
        results,
    })
}

fn merchant_of(event: &Event) -> Option<String> {
    event
        .payload
        .get("merchant_id")
        .and_then(|m| m.as_str())
        .map(str::to_string)
}

pub(crate) fn rejected(code: &str, reason: impl Into<String>) -> EventOutcome {
    EventOutcome::Rejected {
        code: code.to_string(),
        reason: reason.into(),
    }
}

/// Validates one new event and, when it is acceptable, applies its effects.
/// `Ok(Rejected)` is a permanent rule violation; `Err` is a backend failure.
pub fn apply_event<L: Ledger>(
    ledger: &mut L,
    caller: Uuid,
    event: &Event,
) -> Result<EventOutcome, StoreError> {
    if event.device_id != caller {
        return Ok(rejected(
            "wrong_device",
            format!(
                "event {} says it comes from device {}, but device {caller} sent it: \
                 a terminal pushes only its own events; reset the terminal's database",
                event.event_id, event.device_id
            ),
        ));
    }
    if ledger.event_id_applied(event.event_id)? {
        return Ok(rejected(
            "duplicate_event_id",
            format!(
                "event id {} was already applied under another seq or device: \
                 the terminal must give every event a new id; report it to a shift lead",
                event.event_id
            ),
        ));
    }
    let body = match event.body() {
        Ok(body) => body,
        Err(e) => {
            let code = match e {
                EventDecodeError::UnknownType(_) => "unknown_event_type",
                EventDecodeError::SchemaTooNew(_) => "schema_too_new",
                EventDecodeError::BadPayload(_) => "bad_payload",
            };
            return Ok(rejected(code, format!("{e}; the event was not applied")));
        }
    };
    match body {
        body @ (EventBody::ReceiptOpened { .. }
        | EventBody::GoodsReceived { .. }
        | EventBody::UnknownBarcode { .. }
        | EventBody::ReceiptClosed { .. }) => receiving::apply(ledger, caller, event, body),
        body @ (EventBody::PutAway { .. }
        | EventBody::BinFull { .. }
        | EventBody::PutawayFinished { .. }) => putaway::apply(ledger, caller, event, body),
    }
}

/// Saves a task and tells every device about it.
pub(crate) fn save_and_publish_task<L: Ledger>(
    ledger: &mut L,
    row: &TaskRow,
) -> Result<(), StoreError> {
    ledger.save_task(row)?;
    ledger.append_change(
        None,
        Some(&row.task.merchant_id),
        &Change::Task(row.public()),
    )
}

pub(crate) fn check_merchant<L: Ledger>(
    ledger: &mut L,
    merchant_id: &str,
) -> Result<Option<EventOutcome>, StoreError> {
    Ok((!ledger.merchant_exists(merchant_id)?).then(|| {
        rejected(
            "unknown_merchant",
            format!(
                "merchant {merchant_id} is not known to the server: the terminal's master data is \
                 out of date; sync, then receive the goods again"
            ),
        )
    }))
}

pub(crate) fn unknown_location(code: &str) -> EventOutcome {
    rejected(
        "unknown_location",
        format!(
            "location {code} is not known to the server: scan a location label of this warehouse \
             (or have a lead add the location); the goods were not booked"
        ),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::{BTreeMap, HashMap};

    use laituri_protocol::GoodsCondition;

    use super::*;

    #[test]
    fn plan_splits_duplicates_new_and_gaps() {
        // (last_seq, first_seq, len) -> Ok(duplicates) or Err(expected)
        let cases: &[(u64, u64, usize, Result<usize, u64>)] = &[
            (0, 1, 3, Ok(0)),
            (0, 2, 3, Err(1)),
            (5, 6, 1, Ok(0)),
            (5, 1, 5, Ok(5)),
            (5, 1, 8, Ok(5)),
            (5, 4, 4, Ok(2)),
            (5, 3, 1, Ok(1)),
            (5, 7, 2, Err(6)),
            (5, 100, 0, Ok(0)),
        ];
        for &(last, first, len, expect) in cases {
            let got = plan(last, first, len)
                .map(|p| p.duplicates)
                .map_err(|e| match e {
                    StoreError::Gap { expected } => expected,
                    other => panic!("{other}"),
                });
            assert_eq!(got, expect, "last={last} first={first} len={len}");
        }
    }

    #[test]
    fn batch_check_wants_consecutive_ascending_seqs() {
        let ev = |seq| {
            let body = EventBody::UnknownBarcode {
                receipt_id: Uuid::nil(),
                merchant_id: "M".into(),
                raw: "x".into(),
            };
            Event::new(Uuid::now_v7(), Uuid::nil(), seq, "op", 0, &body)
        };
        let cases: &[(&[u64], bool)] = &[
            (&[], true),
            (&[1], true),
            (&[3, 4, 5], true),
            (&[0, 1], false),
            (&[1, 3], false),
            (&[2, 1], false),
            (&[1, 1], false),
        ];
        for (seqs, ok) in cases {
            let events: Vec<Event> = seqs.iter().map(|&s| ev(s)).collect();
            assert_eq!(check_batch(&events).is_ok(), *ok, "{seqs:?}");
        }
    }

    /// An in-memory ledger: enough to pin the rules down without a database.
    #[derive(Default)]
    pub(crate) struct Fake {
        pub last_seq: u64,
        pub recorded: BTreeMap<u64, Recorded>,
        pub applied_ids: Vec<Uuid>,
        pub exceptions: Vec<ExceptionView>,
        pub merchants: Vec<&'static str>,
        pub products: HashMap<&'static str, &'static str>,
        pub locations: Vec<&'static str>,
        pub bins: Vec<&'static str>,
        pub receipts: HashMap<Uuid, ReceiptRef>,
        pub stock: HashMap<StockKey, i64>,
        pub closed_notices: Vec<String>,
        pub changes: Vec<(Option<Uuid>, Change)>,
        pub tasks: BTreeMap<String, TaskRow>,
        pub receipt_containers: Vec<(Uuid, String, String)>,
        pub overrides: Vec<String>,
        pub bins_full: Vec<String>,
    }

    impl Ledger for Fake {
        fn last_seq(&mut self, _: Uuid) -> Result<u64, StoreError> {
            Ok(self.last_seq)
        }
        fn set_last_seq(&mut self, _: Uuid, seq: u64) -> Result<(), StoreError> {
            self.last_seq = seq;
            Ok(())
        }
        fn recorded(&mut self, _: Uuid, seq: u64) -> Result<Option<Recorded>, StoreError> {
            Ok(self.recorded.get(&seq).cloned())
        }
        fn event_id_applied(&mut self, id: Uuid) -> Result<bool, StoreError> {
            Ok(self.applied_ids.contains(&id))
        }
        fn record_event(&mut self, e: &Event, o: &EventOutcome) -> Result<(), StoreError> {
            if *o == EventOutcome::Applied {
                self.applied_ids.push(e.event_id);
            }
            let rec = Recorded {
                event_id: e.event_id,
                outcome: o.clone(),
            };
            self.recorded.insert(e.seq, rec);
            Ok(())
        }
        fn record_exception(
            &mut self,
            x: &ExceptionView,
            _: Option<&str>,
        ) -> Result<(), StoreError> {
            self.exceptions.push(x.clone());
            Ok(())
        }
        fn merchant_exists(&mut self, m: &str) -> Result<bool, StoreError> {
            Ok(self.merchants.contains(&m))
        }
        fn product_merchant(&mut self, p: &str) -> Result<Option<String>, StoreError> {
            Ok(self.products.get(p).map(|m| m.to_string()))
        }
        fn location_kind(&mut self, c: &str) -> Result<Option<LocationKind>, StoreError> {
            if self.bins.contains(&c) {
                return Ok(Some(LocationKind::Bin));
            }
            Ok(self.locations.contains(&c).then_some(LocationKind::Dock))
        }
        fn notice(&mut self, _: &str) -> Result<Option<NoticeRef>, StoreError> {
            Ok(None)
        }
        fn receipt(&mut self, id: Uuid) -> Result<Option<ReceiptRef>, StoreError> {
            Ok(self.receipts.get(&id).cloned())
        }
        fn open_receipt(
            &mut self,
            id: Uuid,
            m: &str,
            n: Option<&str>,
            _: Uuid,
            _: &str,
        ) -> Result<(), StoreError> {
            let r = ReceiptRef {
                merchant_id: m.into(),
                notice_id: n.map(Into::into),
                closed: false,
            };
            self.receipts.insert(id, r);
            Ok(())
        }
        fn add_stock(&mut self, k: &StockKey, d: i64) -> Result<i64, StoreError> {
            let level = self.stock.entry(k.clone()).or_default();
            *level += d;
            Ok(*level)
        }
        fn append_change(
            &mut self,
            device: Option<Uuid>,
            _: Option<&str>,
            change: &Change,
        ) -> Result<(), StoreError> {
            self.changes.push((device, change.clone()));
            Ok(())
        }
        fn task(&mut self, id: &str) -> Result<Option<TaskRow>, StoreError> {
            Ok(self.tasks.get(id).cloned())
        }
        fn save_task(&mut self, row: &TaskRow) -> Result<(), StoreError> {
            self.tasks.insert(row.task.task_id.clone(), row.clone());
            Ok(())
        }
        fn putaway_task_of(&mut self, c: &str) -> Result<Option<TaskRow>, StoreError> {
            Ok(self
                .tasks
                .values()
                .find(|t| {
                    t.task.kind == TaskKind::Putaway
                        && t.task.container.as_deref() == Some(c)
                        && matches!(
                            t.task.status,
                            laituri_protocol::TaskStatus::Open
                                | laituri_protocol::TaskStatus::Leased
                        )
                })
                .cloned())
        }
        fn active_task_with_reason(&mut self, k: TaskKind, r: &str) -> Result<bool, StoreError> {
            Ok(self.tasks.values().any(|t| {
                t.task.kind == k
                    && t.task.reason.as_deref() == Some(r)
                    && matches!(
                        t.task.status,
                        laituri_protocol::TaskStatus::Open | laituri_protocol::TaskStatus::Leased
                    )
            }))
        }
        fn record_receipt_container(
            &mut self,
            r: Uuid,
            l: &str,
            c: &str,
        ) -> Result<(), StoreError> {
            let entry = (r, l.to_string(), c.to_string());
            if !self.receipt_containers.contains(&entry) {
                self.receipt_containers.push(entry);
            }
            Ok(())
        }
        fn receipt_containers(&mut self, r: Uuid) -> Result<Vec<(String, String)>, StoreError> {
            Ok(self
                .receipt_containers
                .iter()
                .filter(|x| x.0 == r)
                .map(|x| (x.1.clone(), x.2.clone()))
                .collect())
        }
        fn container_stock(
            &mut self,
            l: &str,
            c: &str,
        ) -> Result<Vec<(StockKey, i64)>, StoreError> {
            Ok(self
                .stock
                .iter()
                .filter(|(k, _)| k.location == l && k.container.as_deref() == Some(c))
                .map(|(k, q)| (k.clone(), *q))
                .collect())
        }
        fn record_override(
            &mut self,
            _: &Event,
            _: &str,
            _: Option<&str>,
            l: &str,
            _: Option<OverrideReason>,
        ) -> Result<(), StoreError> {
            self.overrides.push(l.to_string());
            Ok(())
        }
        fn record_bin_full(&mut self, _: &Event, l: &str) -> Result<(), StoreError> {
            self.bins_full.push(l.to_string());
            Ok(())
        }
        fn tally_receipt(&mut self, _: Uuid, _: &str, _: i64, _: i64) -> Result<(), StoreError> {
            Ok(())
        }
        fn close_receipt(&mut self, id: Uuid, _: &[ReceiptLineSummary]) -> Result<(), StoreError> {
            self.receipts.get_mut(&id).unwrap().closed = true;
            Ok(())
        }
        fn close_notice(&mut self, n: &str) -> Result<(), StoreError> {
            self.closed_notices.push(n.into());
            Ok(())
        }
    }

    pub(crate) const DEV: Uuid = Uuid::from_u128(7);
    pub(crate) const RECEIPT: Uuid = Uuid::from_u128(42);

    pub(crate) fn fake() -> Fake {
        let mut f = Fake {
            merchants: vec!["M1", "M2"],
            locations: vec!["DOCK-1", "QUARANTINE"],
            bins: vec!["A-01", "A-02"],
            ..Fake::default()
        };
        f.products.insert("P1", "M1");
        f.products.insert("P2", "M2");
        f
    }

    pub(crate) fn goods(product: &str, quantity: i64, location: &str) -> EventBody {
        EventBody::GoodsReceived {
            receipt_id: RECEIPT,
            merchant_id: "M1".into(),
            product_id: product.into(),
            quantity,
            lot: None,
            expiry: None,
            serial: None,
            container: "T-0001".into(),
            location: location.into(),
            condition: GoodsCondition::Good,
            barcode: "x".into(),
        }
    }

    pub(crate) fn opened() -> EventBody {
        EventBody::ReceiptOpened {
            receipt_id: RECEIPT,
            merchant_id: "M1".into(),
            notice_id: None,
            dock: "DOCK-1".into(),
        }
    }

    pub(crate) fn closed() -> EventBody {
        EventBody::ReceiptClosed {
            receipt_id: RECEIPT,
            notice_id: None,
            lines: vec![],
        }
    }

    pub(crate) fn events(bodies: &[EventBody]) -> Vec<Event> {
        bodies
            .iter()
            .enumerate()
            .map(|(i, b)| Event::new(Uuid::now_v7(), DEV, i as u64 + 1, "op", 0, b))
            .collect()
    }

    /// Each case: a sequence of event bodies pushed as one batch, and the code of each outcome
    /// ("applied" or the rejection code).
    #[test]
    fn event_rules_case_table() {
        let cases: Vec<(&str, Vec<EventBody>, Vec<&str>)> = vec![
            (
                "open, receive, close",
                vec![opened(), goods("P1", 5, "DOCK-1"), closed()],
                vec!["applied", "applied", "applied"],
            ),
            (
                "goods before the receipt is opened",
                vec![goods("P1", 5, "DOCK-1"), opened()],
                vec!["receipt_not_open", "applied"],
            ),
            (
                "goods after close",
                vec![opened(), closed(), goods("P1", 1, "DOCK-1")],
                vec!["applied", "applied", "receipt_closed"],
            ),
            (
                "closing twice",
                vec![opened(), closed(), closed()],
                vec!["applied", "applied", "receipt_closed"],
            ),
            (
                "unknown location does not block the next event",
                vec![
                    opened(),
                    goods("P1", 1, "NOWHERE"),
                    goods("P1", 2, "DOCK-1"),
                ],
                vec!["applied", "unknown_location", "applied"],
            ),
            (
                "product of another merchant, unknown product, zero quantity",
                vec![
                    opened(),
                    goods("P2", 1, "DOCK-1"),
                    goods("P9", 1, "DOCK-1"),
                    goods("P1", 0, "DOCK-1"),
                ],
                vec![
                    "applied",
                    "product_of_other_merchant",
                    "unknown_product",
                    "zero_quantity",
                ],
            ),
            (
                "quantities are positive: the direction is in from and to",
                vec![opened(), goods("P1", -3, "DOCK-1")],
                vec!["applied", "negative_quantity"],
            ),
            (
                "receipt of an unknown merchant",
                vec![EventBody::ReceiptOpened {
                    receipt_id: RECEIPT,
                    merchant_id: "M404".into(),
                    notice_id: None,
                    dock: "DOCK-1".into(),
                }],
                vec!["unknown_merchant"],
            ),
            (
                "opening the same receipt twice",
                vec![opened(), opened()],
                vec!["applied", "receipt_exists"],
            ),
        ];
        for (name, bodies, expect) in cases {
            let mut ledger = fake();
            let evs = events(&bodies);
            let resp = push_batch(&mut ledger, DEV, &evs).unwrap();
            let got: Vec<&str> =
                resp.results
                    .iter()
                    .map(|r| match &r.outcome {
                        EventOutcome::Applied => "applied",
                        EventOutcome::Rejected { code, .. }
                        | EventOutcome::Partial { code, .. } => code.as_str(),
                        EventOutcome::Duplicate { .. } => "duplicate",
                    })
                    .collect();
            assert_eq!(got, expect, "{name}");
            assert_eq!(
                resp.acked_through,
                evs.len() as u64,
                "{name}: rejections ack too"
            );
            let rejections = expect.iter().filter(|c| **c != "applied").count();
            assert_eq!(
                ledger.exceptions.len(),
                rejections,
                "{name}: one exception each"
            );
        }
    }

    #[test]
    fn a_duplicate_repeats_the_stored_outcome_and_changes_nothing() {
        let mut ledger = fake();
        let evs = events(&[
            opened(),
            goods("P1", 5, "DOCK-1"),
            goods("P1", 1, "NOWHERE"),
        ]);
        push_batch(&mut ledger, DEV, &evs).unwrap();
        let stock_before = ledger.stock.clone();
        let again = push_batch(&mut ledger, DEV, &evs).unwrap();
        assert_eq!(ledger.stock, stock_before);
        assert_eq!(ledger.exceptions.len(), 1);
        assert!(matches!(
            &again.results[1].outcome,
            EventOutcome::Duplicate { original } if **original == EventOutcome::Applied
        ));
        assert!(matches!(
            again.results[2].outcome.effective(),
            EventOutcome::Rejected { code, .. } if code == "unknown_location"
        ));
        assert_eq!(again.acked_through, 3);
    }

    #[test]
    fn a_reused_seq_with_another_event_id_is_not_called_a_duplicate() {
        let mut ledger = fake();
        push_batch(&mut ledger, DEV, &events(&[opened()])).unwrap();
        let other = events(&[opened()]);
        let resp = push_batch(&mut ledger, DEV, &other).unwrap();
        assert!(matches!(
            &resp.results[0].outcome,
            EventOutcome::Rejected { code, .. } if code == "seq_conflict"
        ));
    }

    #[test]
    fn an_event_of_another_device_is_rejected() {
        let mut ledger = fake();
        let mut evs = events(&[opened()]);
        evs[0].device_id = Uuid::from_u128(8);
        let resp = push_batch(&mut ledger, DEV, &evs).unwrap();
        assert!(matches!(
            &resp.results[0].outcome,
            EventOutcome::Rejected { code, .. } if code == "wrong_device"
        ));
        assert!(ledger.receipts.is_empty());
    }
}
