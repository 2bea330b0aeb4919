//! The rules of a push (DESIGN.md section 3, points 3-5), independent of any database.
//!
//! A push goes in three steps, so every backend applies exactly the same rules:
//! 1. **Load**: [`Refs::collect`] walks the batch's new events and gathers every id they refer
//!    to; the backend's [`Ledger::load`] answers them as one [`World`] in a fixed number of
//!    queries, whatever the batch's size.
//! 2. **Decide**: each event is checked by its flow's pure rules ([`receiving`], [`putaway`],
//!    stock through [`moves`]) into a [`Decision`]: an outcome and the [`Effect`]s to write. Each
//!    decision is applied to the world in memory before the next event is decided.
//! 3. **Write**: the backend's [`Ledger::write`] writes every effect in order, then records the
//!    events, all inside the push's ONE transaction.
//!
//! The batch protocol stays here and knows no flow: the shape check ([`check_batch`]), the split
//! into duplicates and new events or a gap ([`plan`]), `acked_through`, and the exception of a
//! rejected event. It must never reject an event because stock would go negative (physical
//! reality wins), never let one bad event block the ones after it, and never change anything for
//! a duplicate.

use std::collections::BTreeMap;

use laituri_protocol::{
    Event, EventBody, EventDecodeError, EventOutcome, EventResult, PushResponse,
};
use uuid::Uuid;

use crate::store::StoreError;

pub mod moves;
mod putaway;
mod receiving;
mod world;

pub use world::{Ctx, Decision, Effect, ReceiptRef, Refs, StockKey, World};

/// The largest seq a device may use: seqs are stored as signed 64-bit numbers.
pub const MAX_SEQ: u64 = i64::MAX as u64;

/// Checks a batch of `device_id`'s events before anything is applied: every event is the
/// device's own (the device is who its token says; an event naming another device would be filed
/// under that device and block its next push), and the seqs are consecutive, ascending and
/// storable (the protocol's promise). Answers what to fix.
pub fn check_batch(device_id: Uuid, events: &[Event]) -> Result<(), String> {
    if let Some(e) = events.iter().find(|e| e.device_id != device_id) {
        return Err(format!(
            "event seq {} names device {}, but this push is device {device_id}'s: a terminal \
             pushes only its own events",
            e.seq, e.device_id
        ));
    }
    if let Some(first) = events.first()
        && first.seq == 0
    {
        return Err(
            "seq 0 is not a valid event seq: seqs start at 1 for every device; \
             send the device's outbox in seq order"
                .into(),
        );
    }
    if let Some(e) = events.iter().find(|e| e.seq > MAX_SEQ) {
        return Err(format!(
            "seq {} is beyond the largest seq a device may use ({MAX_SEQ})",
            e.seq
        ));
    }
    for pair in events.windows(2) {
        if pair[0].seq.checked_add(1) != Some(pair[1].seq) {
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
    let next = last_seq.saturating_add(1);
    if first_seq > next {
        return Err(StoreError::Gap { expected: next });
    }
    // first_seq <= last_seq + 1, so the events up to last_seq are duplicates.
    let duplicates = (next - first_seq).min(len as u64) as usize;
    Ok(Plan { duplicates })
}

/// What a backend remembers of an event it recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub event_id: Uuid,
    pub outcome: EventOutcome,
}

/// The per-device bookkeeping of one open push transaction, and the load and write of what the
/// rules read and decide. Reads see the transaction's own writes. Every method may fail only for
/// backend reasons; rule violations are decided here, never in a backend.
///
/// Async, so a backend with an async client (PostgreSQL) awaits its queries; a blocking one
/// (SQLite) answers at once and drives [`push_batch`] with [`at_once`]. Used only through
/// generics, where the futures' `Send` follows from each concrete backend.
#[allow(async_fn_in_trait)]
pub trait Ledger {
    /// The device's last recorded seq, its row locked for the rest of the transaction (pushes of
    /// one device serialize).
    async fn last_seq(&mut self, device_id: Uuid) -> Result<u64, StoreError>;
    async fn set_last_seq(&mut self, device_id: Uuid, seq: u64) -> Result<(), StoreError>;
    async fn recorded(&mut self, device_id: Uuid, seq: u64)
    -> Result<Option<Recorded>, StoreError>;
    async fn record_event(
        &mut self,
        event: &Event,
        outcome: &EventOutcome,
    ) -> Result<(), StoreError>;
    /// Everything `refs` names, as the transaction sees it, in a fixed number of queries
    /// whatever the number of refs. An event id counts as applied when an event with that id
    /// was recorded applied (or partly applied) before, by any device, at any seq.
    async fn load(&mut self, refs: &Refs) -> Result<World, StoreError>;
    /// Writes decided effects, in order.
    async fn write(&mut self, effects: &[Effect]) -> Result<(), StoreError>;
}

/// The output of a future that never waits (a blocking backend's [`Ledger`]), here and now.
///
/// # Panics
/// When the future waits: only a ledger that awaits real I/O does, and such a backend awaits
/// [`push_batch`] itself instead.
pub fn at_once<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("a blocking ledger's future waited"),
    }
}

/// Applies one checked batch of `device_id`'s events. Runs inside the caller's transaction:
/// on `Err` the caller must roll back, so a gap or a backend failure leaves nothing behind.
pub async fn push_batch<L: Ledger>(
    ledger: &mut L,
    device_id: Uuid,
    events: &[Event],
) -> Result<PushResponse, StoreError> {
    // The planning below relies on consecutive seqs; checked here so no caller can skip it.
    check_batch(device_id, events).map_err(StoreError::Invalid)?;
    let last_seq = ledger.last_seq(device_id).await?;
    let Some(first) = events.first() else {
        return Ok(PushResponse {
            acked_through: last_seq,
            results: Vec::new(),
            diverged_at: None,
        });
    };
    let plan = plan(last_seq, first.seq, events.len())?;
    let mut results = Vec::with_capacity(events.len());

    for (i, event) in events[..plan.duplicates].iter().enumerate() {
        let outcome = match ledger.recorded(device_id, event.seq).await? {
            Some(rec) if rec.event_id == event.event_id => EventOutcome::Duplicate {
                original: Box::new(rec.outcome),
            },
            // The device reuses a seq for a different event: its history is not the one the
            // server knows (a restored database that kept its device id). Nothing from here on
            // is applied, not even events beyond `last_seq`: they belong to the other history,
            // and the terminal sends them again, in order, under a new device id.
            Some(rec) => {
                results.extend(diverged(&events[i..], event.seq, rec.event_id));
                return Ok(PushResponse {
                    acked_through: last_seq,
                    results,
                    diverged_at: Some(event.seq),
                });
            }
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
    if let Some(last) = new_events.last() {
        let bodies: Vec<_> = new_events.iter().map(Event::body).collect();
        let refs = Refs::collect(new_events, &bodies);
        let mut world = ledger.load(&refs).await?;
        let more = refs.follow_up(&world);
        if !more.is_empty() {
            world.merge(ledger.load(&more).await?);
        }
        let (outcomes, effects) = decide_batch(&mut world, device_id, new_events, bodies);
        ledger.write(&effects).await?;
        for (event, outcome) in new_events.iter().zip(outcomes) {
            ledger.record_event(event, &outcome).await?;
            results.push(EventResult {
                seq: event.seq,
                event_id: event.event_id,
                outcome,
            });
        }
        ledger.set_last_seq(device_id, last.seq).await?;
    }
    Ok(PushResponse {
        acked_through: new_events.last().map_or(last_seq, |e| e.seq),
        results,
        diverged_at: None,
    })
}

/// The answers to the events of a batch from the first one whose seq the server recorded with
/// another event id (`recorded`): none was applied or recorded.
fn diverged(events: &[Event], at: u64, recorded: Uuid) -> Vec<EventResult> {
    events
        .iter()
        .map(|e| EventResult {
            seq: e.seq,
            event_id: e.event_id,
            outcome: EventOutcome::Rejected {
                code: "seq_conflict".into(),
                reason: format!(
                    "not applied: seq {at} of this device is event {recorded} on the server, so \
                     from seq {at} on this terminal's history differs from the server's (its \
                     database was restored from a backup); the terminal sends these events \
                     again under a new device id"
                ),
            },
        })
        .collect()
}

impl Refs {
    /// Every id the new events of a batch refer to (their decoded `bodies`, in order).
    pub fn collect(events: &[Event], bodies: &[Result<EventBody, EventDecodeError>]) -> Refs {
        let mut refs = Refs::default();
        let mut received = BTreeMap::new();
        for (event, body) in events.iter().zip(bodies) {
            refs.event_ids.insert(event.event_id);
            let Ok(body) = body else { continue };
            receiving::refs(body, &mut refs, &mut received);
            putaway::refs(body, &mut refs);
        }
        receiving::close_refs(received, &mut refs);
        refs
    }
}

/// Decides the new events of a batch in order over `world`, applying each decision to it before
/// the next event. Answers each event's outcome and every effect to write, in order. Pure.
pub fn decide_batch(
    world: &mut World,
    caller: Uuid,
    events: &[Event],
    bodies: Vec<Result<EventBody, EventDecodeError>>,
) -> (Vec<EventOutcome>, Vec<Effect>) {
    let mut outcomes = Vec::with_capacity(events.len());
    let mut effects = Vec::with_capacity(6 * events.len());
    for (event, body) in events.iter().zip(bodies) {
        let Decision {
            outcome,
            effects: mut fx,
        } = decide_event(world, caller, event, body);
        if let EventOutcome::Rejected { code, reason } | EventOutcome::Partial { code, reason } =
            &outcome
        {
            fx.push(Effect::Exception {
                exception: laituri_protocol::ExceptionView {
                    device_id: caller,
                    seq: event.seq,
                    event_id: event.event_id,
                    kind: code.clone(),
                    message: reason.clone(),
                    resolved_by: None,
                    resolved_at: None,
                },
                merchant_id: merchant_of(event),
            });
        }
        for e in &fx {
            world.apply(e);
        }
        if matches!(
            outcome,
            EventOutcome::Applied | EventOutcome::Partial { .. }
        ) {
            world.applied_events.insert(event.event_id);
        }
        effects.extend(fx);
        outcomes.push(outcome);
    }
    (outcomes, effects)
}

fn merchant_of(event: &Event) -> Option<String> {
    event
        .payload
        .get("merchant_id")
        .and_then(|m| m.as_str())
        .map(str::to_string)
}

/// A raw scan as an exception's text may show it: quoted, or, when longer than any product
/// barcode (a 2D shipping label can carry a name and an address), only as a hash and a length
/// ([`laituri_protocol::recorded_scan`]).
pub(crate) fn shown_scan(raw: &str) -> String {
    let kept = laituri_protocol::recorded_scan(raw);
    if kept == raw {
        format!("{raw:?}")
    } else {
        kept
    }
}

pub(crate) fn rejected(code: &str, reason: impl Into<String>) -> EventOutcome {
    EventOutcome::Rejected {
        code: code.to_string(),
        reason: reason.into(),
    }
}

/// Decides one new event of `caller` over `world`: the checks every event passes, then its
/// flow's rules. A rejection has no effects.
pub fn decide_event(
    world: &World,
    caller: Uuid,
    event: &Event,
    body: Result<EventBody, EventDecodeError>,
) -> Decision {
    if event.device_id != caller {
        return rejected(
            "wrong_device",
            format!(
                "event {} says it comes from device {}, but device {caller} sent it: \
                 a terminal pushes only its own events; reset the terminal's database",
                event.event_id, event.device_id
            ),
        )
        .into();
    }
    if world.applied_events.contains(&event.event_id) {
        return rejected(
            "duplicate_event_id",
            format!(
                "event id {} was already applied under another seq or device: \
                 the terminal must give every event a new id; report it to a shift lead",
                event.event_id
            ),
        )
        .into();
    }
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            let code = match e {
                EventDecodeError::UnknownType(_) => "unknown_event_type",
                EventDecodeError::SchemaTooNew(_) => "schema_too_new",
                EventDecodeError::BadPayload(_) => "bad_payload",
            };
            return rejected(code, format!("{e}; the event was not applied")).into();
        }
    };
    let ctx = Ctx::of(event);
    match body {
        body @ (EventBody::ReceiptOpened { .. }
        | EventBody::GoodsReceived { .. }
        | EventBody::UnknownBarcode { .. }
        | EventBody::ReceiptClosed { .. }) => receiving::decide(body, world, &ctx),
        body @ (EventBody::PutAway { .. }
        | EventBody::BinFull { .. }
        | EventBody::PutawayFinished { .. }) => putaway::decide(body, world, &ctx),
        EventBody::ExceptionResolved { device_id, seq } => {
            Decision::applied(vec![Effect::ResolveException {
                device_id,
                seq,
                by: event.operator_id.clone(),
            }])
        }
    }
}

pub(crate) fn check_merchant(world: &World, merchant_id: &str) -> Option<EventOutcome> {
    (!world.merchants.contains(merchant_id)).then(|| {
        rejected(
            "unknown_merchant",
            format!(
                "merchant {merchant_id} is not known to the server: the terminal's master data is \
                 out of date; sync, then receive the goods again"
            ),
        )
    })
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
    use std::collections::BTreeMap;

    use laituri_protocol::{Change, ExceptionView, GoodsCondition, LocationKind};

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
            (&[MAX_SEQ - 1, MAX_SEQ], true),
            (&[MAX_SEQ, MAX_SEQ + 1], false),
            (&[u64::MAX], false),
            (&[u64::MAX, 0], false),
        ];
        for (seqs, ok) in cases {
            let events: Vec<Event> = seqs.iter().map(|&s| ev(s)).collect();
            assert_eq!(check_batch(Uuid::nil(), &events).is_ok(), *ok, "{seqs:?}");
        }
        // Another device's event in the batch refuses the whole batch.
        let mut theirs = vec![ev(1), ev(2)];
        theirs[1].device_id = Uuid::from_u128(99);
        assert!(check_batch(Uuid::nil(), &theirs).is_err());
        assert!(plan(u64::MAX, 5, 1).is_ok(), "no overflow at the top");
    }

    /// An in-memory ledger for the batch protocol: its whole store is one [`World`], loaded
    /// through [`World::select`] (so a ref the collector forgets shows up as a wrong outcome).
    #[derive(Default)]
    pub(crate) struct Fake {
        pub last_seq: u64,
        pub recorded: BTreeMap<u64, Recorded>,
        pub world: World,
        /// Every effect written, in order.
        pub written: Vec<Effect>,
        pub loads: usize,
    }

    impl Fake {
        pub(crate) fn exceptions(&self) -> Vec<&ExceptionView> {
            exceptions(&self.written)
        }
    }

    pub(crate) fn exceptions(effects: &[Effect]) -> Vec<&ExceptionView> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Exception { exception, .. } => Some(exception),
                _ => None,
            })
            .collect()
    }

    /// The change-log rows among `effects`, with the device each is for.
    pub(crate) fn changes(effects: &[Effect]) -> Vec<(Option<Uuid>, &Change)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Publish { device, change, .. } => Some((*device, change)),
                _ => None,
            })
            .collect()
    }

    impl Ledger for Fake {
        async fn last_seq(&mut self, _: Uuid) -> Result<u64, StoreError> {
            Ok(self.last_seq)
        }
        async fn set_last_seq(&mut self, _: Uuid, seq: u64) -> Result<(), StoreError> {
            self.last_seq = seq;
            Ok(())
        }
        async fn recorded(&mut self, _: Uuid, seq: u64) -> Result<Option<Recorded>, StoreError> {
            Ok(self.recorded.get(&seq).cloned())
        }
        async fn record_event(&mut self, e: &Event, o: &EventOutcome) -> Result<(), StoreError> {
            if matches!(o, EventOutcome::Applied | EventOutcome::Partial { .. }) {
                self.world.applied_events.insert(e.event_id);
            }
            let rec = Recorded {
                event_id: e.event_id,
                outcome: o.clone(),
            };
            self.recorded.insert(e.seq, rec);
            Ok(())
        }
        async fn load(&mut self, refs: &Refs) -> Result<World, StoreError> {
            self.loads += 1;
            Ok(self.world.select(refs))
        }
        async fn write(&mut self, effects: &[Effect]) -> Result<(), StoreError> {
            for e in effects {
                self.world.apply(e);
                self.written.push(e.clone());
            }
            Ok(())
        }
    }

    pub(crate) const DEV: Uuid = Uuid::from_u128(7);
    pub(crate) const RECEIPT: Uuid = Uuid::from_u128(42);

    /// Two merchants with a product each, a dock, a quarantine and two bins.
    pub(crate) fn world() -> World {
        let mut w = World::default();
        w.merchants.extend(["M1".to_string(), "M2".to_string()]);
        for (p, m) in [("P1", "M1"), ("P2", "M2")] {
            w.products.insert(p.into(), m.into());
        }
        for (code, kind) in [
            ("DOCK-1", LocationKind::Dock),
            ("QUARANTINE", LocationKind::Dock),
            ("A-01", LocationKind::Bin),
            ("A-02", LocationKind::Bin),
        ] {
            w.locations.insert(code.into(), kind);
        }
        w
    }

    pub(crate) fn fake() -> Fake {
        Fake {
            world: world(),
            ..Fake::default()
        }
    }

    /// The code of an outcome: "applied", the rejection code, or "partial:" and its code.
    pub(crate) fn code(o: &EventOutcome) -> String {
        match o {
            EventOutcome::Applied => "applied".into(),
            EventOutcome::Rejected { code, .. } => code.clone(),
            EventOutcome::Partial { code, .. } => format!("partial:{code}"),
            EventOutcome::Duplicate { .. } => "duplicate".into(),
        }
    }

    /// Decides `bodies` as the new events of one batch over `world`, purely (no ledger): the
    /// outcome codes and every effect, in order.
    pub(crate) fn run(world: &mut World, bodies: &[EventBody]) -> (Vec<String>, Vec<Effect>) {
        let evs = events(bodies);
        let decoded: Vec<_> = evs.iter().map(Event::body).collect();
        // A world literal is everything stored: every container a close reads is whole.
        let refs = Refs::collect(&evs, &decoded);
        let more = refs.follow_up(world);
        world.whole_containers.extend(refs.container_stock);
        world.whole_containers.extend(more.container_stock);
        let (outcomes, effects) = decide_batch(world, DEV, &evs, decoded);
        (outcomes.iter().map(code).collect(), effects)
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
            let resp = at_once(push_batch(&mut ledger, DEV, &evs)).unwrap();
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
                ledger.exceptions().len(),
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
        at_once(push_batch(&mut ledger, DEV, &evs)).unwrap();
        let stock_before = ledger.world.stock.clone();
        let again = at_once(push_batch(&mut ledger, DEV, &evs)).unwrap();
        assert_eq!(ledger.world.stock, stock_before);
        assert_eq!(ledger.exceptions().len(), 1);
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
        at_once(push_batch(&mut ledger, DEV, &events(&[opened()]))).unwrap();
        let other = events(&[opened()]);
        let resp = at_once(push_batch(&mut ledger, DEV, &other)).unwrap();
        assert!(matches!(
            &resp.results[0].outcome,
            EventOutcome::Rejected { code, .. } if code == "seq_conflict"
        ));
    }

    /// A restored database's batch: events the server has (duplicates), then other events
    /// under seqs it recorded, then events beyond its `last_seq`. Nothing after the first
    /// conflict is applied, and the answer says where the histories part.
    #[test]
    fn a_batch_that_diverges_applies_nothing_from_the_first_conflict_on() {
        let mut ledger = fake();
        let before = events(&[opened(), goods("P1", 5, "DOCK-1"), goods("P1", 1, "DOCK-1")]);
        at_once(push_batch(&mut ledger, DEV, &before)).unwrap();
        let stock = ledger.world.stock.clone();
        let written = ledger.written.len();
        // The backup had seqs 1-2; after it was put back, seqs 3-5 are other events.
        let mut restored = before[..2].to_vec();
        restored.extend(
            events(&[
                opened(),
                opened(),
                goods("P1", 7, "DOCK-1"),
                goods("P1", 2, "DOCK-1"),
            ])
            .into_iter()
            .skip(2),
        );
        let resp = at_once(push_batch(&mut ledger, DEV, &restored)).unwrap();
        assert_eq!(resp.diverged_at, Some(3));
        let got: Vec<String> = resp.results.iter().map(|r| code(&r.outcome)).collect();
        assert_eq!(
            got,
            ["duplicate", "duplicate", "seq_conflict", "seq_conflict"]
        );
        assert_eq!(
            resp.results[3].seq, 4,
            "an event beyond last_seq is answered too"
        );
        assert_eq!(ledger.last_seq, 3, "seq 4 was not recorded");
        assert_eq!(ledger.world.stock, stock);
        assert_eq!(
            ledger.written.len(),
            written,
            "nothing written, no exception"
        );
        // A history that agrees has no divergence.
        let resp = at_once(push_batch(&mut ledger, DEV, &before)).unwrap();
        assert_eq!(resp.diverged_at, None);
    }

    #[test]
    fn a_batch_with_an_event_of_another_device_is_refused_whole() {
        let mut ledger = fake();
        let mut evs = events(&[opened(), goods("P1", 5, "DOCK-1")]);
        evs[1].device_id = Uuid::from_u128(8);
        let refused = at_once(push_batch(&mut ledger, DEV, &evs));
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{refused:?}"
        );
        assert!(ledger.world.receipts.is_empty());
        assert!(
            ledger.recorded.is_empty(),
            "nothing is filed, under any device"
        );
    }

    /// The backend is asked twice at most per batch, whatever its size: once for what the
    /// events name, once for the containers of receipts closed in it.
    #[test]
    fn a_long_scan_is_cut_before_it_enters_an_exception() {
        assert_eq!(super::shown_scan("6412345000012"), "\"6412345000012\"");
        let label = format!("Matti Meikäläinen, Katu 1 {}", "x".repeat(2000));
        let shown = super::shown_scan(&label);
        assert!(shown.len() < 80, "{shown}");
        assert!(!shown.contains("Matti"), "{shown}");
        assert!(shown.ends_with("(2026 characters)"), "{shown}");
    }

    #[test]
    fn a_batch_is_loaded_in_at_most_two_asks() {
        for n in [1, 10, 300] {
            let mut bodies = vec![opened()];
            bodies.extend((0..n).map(|_| goods("P1", 1, "DOCK-1")));
            bodies.push(closed());
            let mut ledger = fake();
            let resp = at_once(push_batch(&mut ledger, DEV, &events(&bodies))).unwrap();
            assert!(
                resp.results
                    .iter()
                    .all(|r| r.outcome == EventOutcome::Applied)
            );
            assert_eq!(
                ledger.loads, 1,
                "{n}: nothing was recorded before the batch"
            );
            assert_eq!(ledger.world.level(&tote_key()), n as i64);
        }
        // Goods received in an earlier batch: closing finds the tote through a second ask.
        let mut ledger = fake();
        at_once(push_batch(
            &mut ledger,
            DEV,
            &events(&[opened(), goods("P1", 5, "DOCK-1")]),
        ))
        .unwrap();
        let later: Vec<Event> = events(&[opened(), opened(), closed()])
            .into_iter()
            .skip(2)
            .collect();
        ledger.last_seq = 2;
        ledger.loads = 0;
        at_once(push_batch(&mut ledger, DEV, &later)).unwrap();
        assert_eq!(ledger.loads, 2);
        let task = ledger
            .world
            .putaway_task_of("T-0001")
            .expect("a putaway task");
        assert_eq!(task.task.lines[0].goods.quantity, 5);
    }

    /// Two events of one batch that touch the same stock row see each other, as do events of
    /// two batches.
    #[test]
    fn later_events_see_earlier_ones() {
        let mut ledger = fake();
        let evs = events(&[opened(), goods("P1", 4, "DOCK-1"), goods("P1", 2, "DOCK-1")]);
        at_once(push_batch(&mut ledger, DEV, &evs[..2])).unwrap();
        at_once(push_batch(&mut ledger, DEV, &evs[2..])).unwrap();
        let levels: Vec<i64> = changes(&ledger.written)
            .into_iter()
            .filter_map(|(_, c)| match c {
                Change::Stock(s) => Some(s.quantity),
                _ => None,
            })
            .collect();
        assert_eq!(levels, vec![4, 6]);
        let (_, effects) = run(
            &mut world(),
            &[opened(), goods("P1", 4, "DOCK-1"), goods("P1", 2, "DOCK-1")],
        );
        let levels: Vec<i64> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::AddStock { level, .. } => Some(*level),
                _ => None,
            })
            .collect();
        assert_eq!(levels, vec![4, 6]);
    }

    pub(crate) fn tote_key() -> StockKey {
        StockKey {
            merchant_id: "M1".into(),
            product_id: "P1".into(),
            location: "DOCK-1".into(),
            container: Some("T-0001".into()),
            lot: None,
            expiry: None,
            condition: GoodsCondition::Good,
        }
    }
}
