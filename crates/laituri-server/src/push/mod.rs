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
//!    events, all inside the push's ONE transaction ([`Writing::AtOnce`]).
//!
//! When the database refuses a write for a reason that does not pass (a constraint, a value it
//! does not take, a trigger raising: [`refused`]), the backend rolls the transaction back and
//! pushes the batch again in a new one, event by event ([`Writing::EventByEvent`]): each event is
//! decided over what the events before it really wrote and written under a mark of its own, and
//! the event whose writes are refused is undone to its mark and recorded as rejected
//! (`not_applicable`, with an exception) while the others are applied. A poison event never
//! blocks a device's queue, and the usual batch pays nothing for it. A failure that may pass
//! (busy, I/O, a lost race, a lost connection) fails the whole push, which the terminal sends
//! again.
//!
//! The batch protocol stays here and knows no flow: the shape check ([`check_batch`]), the split
//! into duplicates and new events or a gap ([`plan`]), `acked_through`, and the exception of a
//! rejected event. It must never reject an event because stock would go negative (physical
//! reality wins), never let one bad event block the ones after it, and never change anything for
//! a duplicate.

use std::collections::BTreeMap;

use laituri_protocol::{
    Event, EventBody, EventDecodeError, EventOutcome, EventResult, IN_TRANSIT, LocationKind,
    PushResponse,
};
use uuid::Uuid;

use crate::store::StoreError;
use crate::webhooks;

pub mod counting;
pub mod moves;
mod moving;
mod packing;
mod picking;
mod putaway;
mod receiving;
pub mod returns;
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
    /// Marks the point [`Ledger::undo`] goes back to (a savepoint). Marks are not nested.
    async fn mark(&mut self) -> Result<(), StoreError>;
    /// Writes whatever the ledger held back since the mark and forgets the mark, keeping every
    /// write. On an error the caller undoes to the mark, or fails the transaction.
    async fn keep(&mut self) -> Result<(), StoreError>;
    /// Undoes every write since the mark (events recorded, changes published included) and
    /// forgets the mark; the transaction goes on as it was when the mark was made.
    async fn undo(&mut self) -> Result<(), StoreError>;
}

/// True when the database refused a write for a reason that does not pass by itself: writing
/// the same again fails the same way (a constraint, a value it does not take, a trigger). A push
/// that fails so at once is pushed again [`Writing::EventByEvent`].
pub fn refused(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Backend {
            transient: false,
            ..
        }
    )
}

/// How [`push_batch`] writes the new events of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writing {
    /// All of them at once, without marks: the usual case. A refusal fails the push, and the
    /// backend, having rolled it back, pushes the batch again event by event.
    AtOnce,
    /// One event at a time, each under a mark: an event whose writes the database refuses is
    /// rejected `not_applicable` and the others are applied.
    EventByEvent,
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
/// on `Err` the caller must roll back, so a gap or a backend failure leaves nothing behind; when
/// the error is [`refused`] and `writing` was [`Writing::AtOnce`], the caller pushes the batch
/// again, [`Writing::EventByEvent`], in a new transaction.
pub async fn push_batch<L: Ledger>(
    ledger: &mut L,
    device_id: Uuid,
    events: &[Event],
    writing: Writing,
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
        let outcomes = match writing {
            Writing::AtOnce => {
                let bodies: Vec<_> = new_events.iter().map(decode).collect();
                let mut world = load_world(ledger, new_events, &bodies).await?;
                let before = webhooks::Before::of(&world);
                let (outcomes, mut effects) =
                    decide_batch(&mut world, device_id, new_events, bodies);
                effects.extend(webhooks::emit::push_notices(&before, &world, &effects));
                ledger.write(&effects).await?;
                for (event, outcome) in new_events.iter().zip(&outcomes) {
                    ledger.record_event(event, outcome).await?;
                }
                outcomes
            }
            Writing::EventByEvent => write_event_by_event(ledger, device_id, new_events).await?,
        };
        for (event, outcome) in new_events.iter().zip(outcomes) {
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

/// Everything the new `events` of a batch (their decoded `bodies`) refer to, in at most two asks.
async fn load_world<L: Ledger>(
    ledger: &mut L,
    events: &[Event],
    bodies: &[Result<EventBody, EventDecodeError>],
) -> Result<World, StoreError> {
    let refs = Refs::collect(events, bodies);
    let mut world = ledger.load(&refs).await?;
    if refs.locations.contains(IN_TRANSIT) {
        // Every warehouse has it, without master data.
        world
            .locations
            .insert(IN_TRANSIT.to_string(), LocationKind::Transit);
    }
    let more = refs.follow_up(&world);
    if !more.is_empty() {
        world.merge(ledger.load(&more).await?);
    }
    Ok(world)
}

/// Writes `effects` and records `events` with their `outcomes` under one mark: all of it, or,
/// when the database refuses any of it, none of it (undone to the mark, and the refusal
/// answered). Any other failure is answered as it is: the push fails whole.
async fn write_marked<L: Ledger>(
    ledger: &mut L,
    events: &[Event],
    outcomes: &[EventOutcome],
    effects: &[Effect],
) -> Result<(), StoreError> {
    ledger.mark().await?;
    let written = write_all(ledger, events, outcomes, effects).await;
    match written {
        Err(e) if refused(&e) => {
            ledger.undo().await?;
            Err(e)
        }
        other => other,
    }
}

async fn write_all<L: Ledger>(
    ledger: &mut L,
    events: &[Event],
    outcomes: &[EventOutcome],
    effects: &[Effect],
) -> Result<(), StoreError> {
    ledger.write(effects).await?;
    for (event, outcome) in events.iter().zip(outcomes) {
        ledger.record_event(event, outcome).await?;
    }
    ledger.keep().await
}

/// The new events of a batch, decided and written one at a time, each over what the ones before
/// it wrote: an event whose writes are refused is recorded as rejected with an exception, and
/// the next event is decided without its effects.
async fn write_event_by_event<L: Ledger>(
    ledger: &mut L,
    device_id: Uuid,
    events: &[Event],
) -> Result<Vec<EventOutcome>, StoreError> {
    let bodies: Vec<_> = events.iter().map(decode).collect();
    let mut world = load_world(ledger, events, &bodies).await?;
    let before = webhooks::Before::of(&world);
    // What the applied events wrote, for the webhook events of the batch.
    let mut written = Vec::new();
    let mut outcomes = Vec::with_capacity(events.len());
    for (event, body) in events.iter().zip(bodies) {
        let decision = decide_with_exception(&world, device_id, event, body);
        let one = std::slice::from_ref(event);
        let decision = match write_marked(
            ledger,
            one,
            std::slice::from_ref(&decision.outcome),
            &decision.effects,
        )
        .await
        {
            Ok(()) => {
                written.extend(decision.effects.iter().cloned());
                decision
            }
            Err(e) if refused(&e) => {
                let refusal = not_applicable(device_id, event, &e);
                // The rejection and its exception are plain rows: a database that refuses them
                // too fails the push.
                write_marked(
                    ledger,
                    one,
                    std::slice::from_ref(&refusal.outcome),
                    &refusal.effects,
                )
                .await?;
                refusal
            }
            Err(e) => return Err(e),
        };
        settle(&mut world, event, &decision);
        outcomes.push(decision.outcome);
    }
    let notices = webhooks::emit::push_notices(&before, &world, &written);
    if !notices.is_empty() {
        ledger.write(&notices).await?;
    }
    Ok(outcomes)
}

/// The rejection of an event whose writes the database refused (`e`), with its exception.
fn not_applicable(caller: Uuid, event: &Event, e: &StoreError) -> Decision {
    let why = match e {
        StoreError::Backend { message, .. } => message.clone(),
        other => other.to_string(),
    };
    // The database's first line says what it refused; what follows may quote whole rows.
    let mut why: String = why
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    why.retain(|c| c != '\0');
    tracing::warn!(%caller, seq = event.seq, event_id = %event.event_id, reason = %why,
        "the database refused an event's writes: rejected as not_applicable");
    let outcome = rejected(
        "not_applicable",
        format!(
            "the server's database refused to store this event ({why}): it was not applied, and \
             the rest of its batch was; record it again on the terminal if it still applies, and \
             report this exception to a shift lead (the server's log has the details)"
        ),
    );
    with_exception(caller, event, outcome, Vec::new())
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
            picking::refs(body, &mut refs);
            packing::refs(body, &mut refs);
            moving::refs(body, &event.operator_id, &mut refs);
            counting::refs(body, &event.operator_id, &mut refs);
            returns::refs(body, &mut refs);
            if let EventBody::ExceptionResolved { .. } = body {
                // Only a shift lead resolves: who did is looked up.
                refs.operators.insert(event.operator_id.clone());
            }
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
        let decision = decide_with_exception(world, caller, event, body);
        settle(world, event, &decision);
        effects.extend(decision.effects);
        outcomes.push(decision.outcome);
    }
    (outcomes, effects)
}

/// Decides one new event of `caller` over `world`, with the exception of a refusal. Pure.
fn decide_with_exception(
    world: &World,
    caller: Uuid,
    event: &Event,
    body: Result<EventBody, EventDecodeError>,
) -> Decision {
    let Decision { outcome, effects } = decide_event(world, caller, event, body);
    with_exception(caller, event, outcome, effects)
}

/// `effects` of `outcome`, and an exception when the outcome is a refusal.
fn with_exception(
    caller: Uuid,
    event: &Event,
    outcome: EventOutcome,
    mut effects: Vec<Effect>,
) -> Decision {
    if let EventOutcome::Rejected { code, reason } | EventOutcome::Partial { code, reason } =
        &outcome
    {
        effects.push(Effect::Exception {
            exception: laituri_protocol::ExceptionView {
                id: 0,
                merchant_id: None,
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
    Decision { outcome, effects }
}

/// Applies a decided event, as written, to `world`, so the next event is decided over it.
fn settle(world: &mut World, event: &Event, decision: &Decision) {
    for e in &decision.effects {
        world.apply(e);
    }
    if matches!(
        decision.outcome,
        EventOutcome::Applied | EventOutcome::Partial { .. }
    ) {
        world.applied_events.insert(event.event_id);
    }
}

fn merchant_of(event: &Event) -> Option<String> {
    event
        .payload
        .get("merchant_id")
        .and_then(|m| m.as_str())
        .filter(|m| !m.contains('\0'))
        .map(str::to_string)
}

/// The body of an event as the rules read it. A text holding a NUL character is refused as a
/// bad payload before anything reads it: no id, code or scan has one, and PostgreSQL stores none
/// in a text column (looking one up fails the query), so it could only ever fail a push.
pub fn decode(event: &Event) -> Result<EventBody, EventDecodeError> {
    if let Some(field) = nul_field(event) {
        return Err(EventDecodeError::BadPayload(format!(
            "{field} holds a NUL character, which no id, code or scan has: fix what made this \
             event on the terminal"
        )));
    }
    event.body()
}

/// The first field of `event` whose text holds a NUL character, by its name (of the payload,
/// its top-level field, named by at most 40 characters).
fn nul_field(event: &Event) -> Option<String> {
    fn has_nul(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(has_nul),
            serde_json::Value::Object(map) => {
                map.iter().any(|(k, v)| k.contains('\0') || has_nul(v))
            }
            _ => false,
        }
    }
    if event.event_type.contains('\0') {
        return Some("type".into());
    }
    if event.operator_id.contains('\0') {
        return Some("operator_id".into());
    }
    match &event.payload {
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            (k.contains('\0') || has_nul(v)).then(|| {
                let name: String = k.chars().filter(|c| *c != '\0').take(40).collect();
                format!("payload field {name:?}")
            })
        }),
        other => has_nul(other).then(|| "payload".into()),
    }
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
        body @ (EventBody::Picked { .. }
        | EventBody::PickShort { .. }
        | EventBody::ZeroChecked { .. }
        | EventBody::TotesDropped { .. }
        | EventBody::PickFinished { .. }) => picking::decide(body, world, &ctx),
        body @ (EventBody::ParcelPacked { .. } | EventBody::PackingFinished { .. }) => {
            packing::decide(body, world, &ctx)
        }
        body @ EventBody::ReturnReceived { .. } => returns::decide(body, world, &ctx),
        EventBody::ExceptionResolved { .. }
            if !world
                .operators
                .get(&event.operator_id)
                .is_some_and(|o| o.lead) =>
        {
            rejected(
                "not_a_lead",
                format!(
                    "operator {} is not a shift lead: only a lead resolves an exception; ask a \
                     lead to resolve it on their terminal",
                    event.operator_id
                ),
            )
            .into()
        }
        EventBody::ExceptionResolved { device_id, seq } => {
            Decision::applied(vec![Effect::ResolveException {
                device_id,
                seq,
                by: event.operator_id.clone(),
            }])
        }
        body @ (EventBody::StockMoved { .. } | EventBody::LeaseRevoked { .. }) => {
            moving::decide(body, world, &ctx, &event.operator_id)
        }
        body @ (EventBody::LocationCounted { .. } | EventBody::CountDecided { .. }) => {
            counting::decide(body, world, &ctx, &event.operator_id)
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
    #[derive(Default, Clone)]
    pub(crate) struct Fake {
        pub last_seq: u64,
        pub recorded: BTreeMap<u64, Recorded>,
        pub world: World,
        /// Every effect written, in order.
        pub written: Vec<Effect>,
        pub loads: usize,
        /// Writing stock of this product fails, as a database refusing it (or, with
        /// `refuse_transiently`, as a database busy for the moment).
        pub refuse_product: Option<String>,
        pub refuse_transiently: bool,
        /// What a mark keeps to go back to: the world, the effects written, the events recorded.
        pub marked: Option<(World, usize, BTreeMap<u64, Recorded>)>,
        pub marks: usize,
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
                if let Effect::AddStock { key, .. } = e
                    && self.refuse_product.as_ref() == Some(&key.product_id)
                {
                    return Err(StoreError::Backend {
                        message: format!(
                            "trigger refused product {}\nDETAIL: a row",
                            key.product_id
                        ),
                        transient: self.refuse_transiently,
                    });
                }
                self.world.apply(e);
                self.written.push(e.clone());
            }
            Ok(())
        }
        async fn mark(&mut self) -> Result<(), StoreError> {
            assert!(self.marked.is_none(), "marks are not nested");
            self.marks += 1;
            self.marked = Some((
                self.world.clone(),
                self.written.len(),
                self.recorded.clone(),
            ));
            Ok(())
        }
        async fn keep(&mut self) -> Result<(), StoreError> {
            self.marked.take().expect("a mark to keep");
            Ok(())
        }
        async fn undo(&mut self) -> Result<(), StoreError> {
            let (world, written, recorded) = self.marked.take().expect("a mark to undo");
            self.world = world;
            self.written.truncate(written);
            self.recorded = recorded;
            Ok(())
        }
    }

    /// Pushes `evs` of [`DEV`] as a backend does: at once in a transaction (the ledger as it was
    /// is what a rollback goes back to), and after a refusal again, event by event.
    pub(crate) fn push(ledger: &mut Fake, evs: &[Event]) -> Result<PushResponse, StoreError> {
        let before = ledger.clone();
        match at_once(push_batch(ledger, DEV, evs, Writing::AtOnce)) {
            Err(e) if refused(&e) => {
                *ledger = before;
                at_once(push_batch(ledger, DEV, evs, Writing::EventByEvent))
            }
            Err(e) => {
                *ledger = before;
                Err(e)
            }
            answer => answer,
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
        let decoded: Vec<_> = evs.iter().map(decode).collect();
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
            let resp = push(&mut ledger, &evs).unwrap();
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
        push(&mut ledger, &evs).unwrap();
        let stock_before = ledger.world.stock.clone();
        let again = push(&mut ledger, &evs).unwrap();
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
        push(&mut ledger, &events(&[opened()])).unwrap();
        let other = events(&[opened()]);
        let resp = push(&mut ledger, &other).unwrap();
        assert!(matches!(
            &resp.results[0].outcome,
            EventOutcome::Rejected { code, .. } if code == "seq_conflict"
        ));
    }

    /// A ledger whose database refuses stock of product P3 (of merchant M1) as `transiently`
    /// says.
    fn poisoned(transiently: bool) -> Fake {
        let mut ledger = fake();
        ledger.world.products.insert("P3".into(), "M1".into());
        ledger.refuse_product = Some("P3".into());
        ledger.refuse_transiently = transiently;
        ledger
    }

    #[test]
    fn an_event_the_database_refuses_is_rejected_and_the_rest_are_applied() {
        let mut ledger = poisoned(false);
        let evs = events(&[
            opened(),
            goods("P1", 2, "DOCK-1"),
            goods("P3", 4, "DOCK-1"),
            goods("P1", 3, "DOCK-1"),
        ]);
        let resp = push(&mut ledger, &evs).unwrap();
        let got: Vec<String> = resp.results.iter().map(|r| code(&r.outcome)).collect();
        assert_eq!(got, ["applied", "applied", "not_applicable", "applied"]);
        assert_eq!(resp.acked_through, 4);
        let EventOutcome::Rejected { reason, .. } = &resp.results[2].outcome else {
            unreachable!()
        };
        assert!(reason.contains("trigger refused product P3"), "{reason}");
        assert!(!reason.contains("DETAIL"), "only the first line: {reason}");
        // What the batch wrote at once was rolled back; each event was then written once.
        assert_eq!(ledger.world.level(&tote_key()), 5);
        let written_stock = ledger
            .written
            .iter()
            .filter(|e| matches!(e, Effect::AddStock { .. }))
            .count();
        assert_eq!(written_stock, 2);
        let exceptions = ledger.exceptions();
        assert_eq!(exceptions.len(), 1);
        assert_eq!(exceptions[0].kind, "not_applicable");
        assert_eq!(exceptions[0].seq, 3);
        assert_eq!(ledger.recorded.len(), 4);
        assert_eq!(ledger.last_seq, 4);
        assert_eq!(ledger.marks, 4 + 1, "each event, then the rejection");

        // Sent again: duplicates that repeat the stored rejection, nothing written.
        let written = ledger.written.len();
        let again = push(&mut ledger, &evs).unwrap();
        assert!(matches!(
            again.results[2].outcome.effective(),
            EventOutcome::Rejected { code, .. } if code == "not_applicable"
        ));
        assert_eq!(ledger.written.len(), written);
    }

    /// Events after a refused one are decided over what was written, not over what the refused
    /// event would have done.
    #[test]
    fn events_after_a_refused_one_are_decided_without_it() {
        let mut ledger = poisoned(false);
        let closing = EventBody::ReceiptClosed {
            receipt_id: RECEIPT,
            notice_id: None,
            lines: vec![],
        };
        let evs = events(&[opened(), goods("P3", 4, "DOCK-1"), closing]);
        let resp = push(&mut ledger, &evs).unwrap();
        let got: Vec<String> = resp.results.iter().map(|r| code(&r.outcome)).collect();
        assert_eq!(got, ["applied", "not_applicable", "applied"]);
        assert!(
            ledger.world.putaway_task_of("T-0001").is_none(),
            "no putaway of goods that were never stored"
        );
    }

    #[test]
    fn a_transient_failure_fails_the_whole_batch() {
        let mut ledger = poisoned(true);
        let evs = events(&[opened(), goods("P3", 4, "DOCK-1"), goods("P1", 1, "DOCK-1")]);
        let failed = push(&mut ledger, &evs);
        assert!(
            matches!(
                failed,
                Err(StoreError::Backend {
                    transient: true,
                    ..
                })
            ),
            "{failed:?}"
        );
        assert_eq!(ledger.marks, 0, "not written event by event");
        assert!(ledger.recorded.is_empty(), "rolled back whole");
    }

    #[test]
    fn a_nul_character_is_a_bad_payload_before_anything_is_looked_up() {
        let mut ledger = fake();
        let mut evs = events(&[
            opened(),
            goods("P1\0x", 1, "DOCK-1"),
            goods("P1", 1, "DOCK-1"),
        ]);
        evs[2].operator_id = "op\0".into();
        let bodies: Vec<_> = evs.iter().map(decode).collect();
        let refs = Refs::collect(&evs, &bodies);
        assert!(!refs.products.iter().any(|p| p.contains('\0')), "{refs:?}");
        let resp = push(&mut ledger, &evs).unwrap();
        let got: Vec<String> = resp.results.iter().map(|r| code(&r.outcome)).collect();
        assert_eq!(got, ["applied", "bad_payload", "bad_payload"]);
        let EventOutcome::Rejected { reason, .. } = &resp.results[1].outcome else {
            unreachable!()
        };
        assert!(reason.contains("\"product_id\""), "{reason}");
        assert!(!reason.contains('\0'), "{reason}");
    }

    /// A restored database's batch: events the server has (duplicates), then other events
    /// under seqs it recorded, then events beyond its `last_seq`. Nothing after the first
    /// conflict is applied, and the answer says where the histories part.
    #[test]
    fn a_batch_that_diverges_applies_nothing_from_the_first_conflict_on() {
        let mut ledger = fake();
        let before = events(&[opened(), goods("P1", 5, "DOCK-1"), goods("P1", 1, "DOCK-1")]);
        push(&mut ledger, &before).unwrap();
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
        let resp = push(&mut ledger, &restored).unwrap();
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
        let resp = push(&mut ledger, &before).unwrap();
        assert_eq!(resp.diverged_at, None);
    }

    #[test]
    fn a_batch_with_an_event_of_another_device_is_refused_whole() {
        let mut ledger = fake();
        let mut evs = events(&[opened(), goods("P1", 5, "DOCK-1")]);
        evs[1].device_id = Uuid::from_u128(8);
        let refused = push(&mut ledger, &evs);
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
            let resp = push(&mut ledger, &events(&bodies)).unwrap();
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
        push(&mut ledger, &events(&[opened(), goods("P1", 5, "DOCK-1")])).unwrap();
        let later: Vec<Event> = events(&[opened(), opened(), closed()])
            .into_iter()
            .skip(2)
            .collect();
        ledger.last_seq = 2;
        ledger.loads = 0;
        push(&mut ledger, &later).unwrap();
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
        push(&mut ledger, &evs[..2]).unwrap();
        push(&mut ledger, &evs[2..]).unwrap();
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

    #[test]
    fn only_a_shift_lead_resolves_an_exception() {
        let resolve = EventBody::ExceptionResolved {
            device_id: Uuid::from_u128(9),
            seq: 3,
        };
        // The events of these tests are recorded by operator "op".
        let mut w = world();
        let (outcomes, fx) = run(&mut w, std::slice::from_ref(&resolve));
        assert_eq!(outcomes, ["not_a_lead"]);
        assert!(
            !fx.iter()
                .any(|e| matches!(e, Effect::ResolveException { .. }))
        );
        let mut w = world();
        w.operators.insert(
            "op".into(),
            counting::OperatorRef {
                lead: true,
                limits: None,
            },
        );
        let (outcomes, fx) = run(&mut w, &[resolve]);
        assert_eq!(outcomes, ["applied"]);
        assert!(
            fx.iter()
                .any(|e| matches!(e, Effect::ResolveException { seq: 3, .. }))
        );
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
