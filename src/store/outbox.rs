//! The outbox: floor actions as immutable events with a gapless per-device seq.
//!
//! Events are appended inside the caller's transaction (together with the local view they
//! explain) and leave only when the server has recorded them. The seq counter lives in the
//! `device` row, so it never reuses a number even if old rows are pruned. Counts for the header
//! come from that counter and point look-ups, never from scanning the queue.

use laituri_protocol::{Event, EventBody, EventOutcome, EventResult};
use rusqlite::{OptionalExtension, Transaction, params};
use uuid::Uuid;

use super::{Result, Store, StoreError, now_ms};

/// Where one event stands, for the state mark on every line on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineState {
    /// Committed on the device, not yet recorded by the server.
    Saved,
    /// Recorded and applied by the server.
    Confirmed,
    /// Recorded by the server but refused: an exception shows what to do.
    Rejected,
}

impl LineState {
    pub(crate) fn from_db(s: &str) -> LineState {
        match s {
            "applied" => LineState::Confirmed,
            "rejected" => LineState::Rejected,
            _ => LineState::Saved,
        }
    }
}

/// The header counts open exceptions up to this many ("999" means "999 or more").
pub const EXCEPTIONS_COUNT_CAP: u64 = 999;

/// What the header shows about the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncCounts {
    pub last_seq: u64,
    pub acked_through: u64,
    /// Device time of the oldest pending event.
    pub oldest_pending_ms: Option<i64>,
    /// Open exceptions, at most [`EXCEPTIONS_COUNT_CAP`].
    pub open_exceptions: u64,
}

impl SyncCounts {
    pub fn pending(&self) -> u64 {
        self.last_seq.saturating_sub(self.acked_through)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRow {
    pub id: i64,
    pub seq: Option<u64>,
    pub kind: String,
    pub message: String,
}

/// Appends one event inside `tx`; returns its seq.
pub(crate) fn append(tx: &Transaction, operator_id: &str, body: &EventBody) -> Result<u64> {
    let (device_id, last): (String, i64) = tx
        .prepare_cached("SELECT device_id, last_seq FROM device WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let device_id = Uuid::parse_str(&device_id).map_err(|e| StoreError::Data(e.to_string()))?;
    let seq = last as u64 + 1;
    let event = Event::new(Uuid::now_v7(), device_id, seq, operator_id, now_ms(), body);
    tx.prepare_cached(
        "INSERT INTO outbox (seq, event_id, operator_id, device_time_ms, type, schema, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        seq as i64,
        event.event_id.to_string(),
        event.operator_id,
        event.device_time_ms,
        event.event_type,
        event.schema,
        serde_json::to_string(&event.payload)?,
    ])?;
    tx.prepare_cached("UPDATE device SET last_seq = ?1 WHERE id = 1")?
        .execute([seq as i64])?;
    super::stock::record_moves(tx, seq, body)?;
    Ok(seq)
}

impl Store {
    /// Appends events in their own transaction (for actions with no local view to update).
    pub fn append_events(&mut self, operator_id: &str, bodies: &[EventBody]) -> Result<Vec<u64>> {
        self.write(|tx| bodies.iter().map(|b| append(tx, operator_id, b)).collect())
    }

    /// Appends one flow step's events in one transaction; with `close_job`, the device's open
    /// job ends in the same transaction.
    pub fn append_events_closing_job(
        &mut self,
        operator_id: &str,
        bodies: &[EventBody],
        close_job: bool,
    ) -> Result<Vec<u64>> {
        self.write(|tx| {
            let seqs = bodies
                .iter()
                .map(|b| append(tx, operator_id, b))
                .collect::<Result<Vec<u64>>>()?;
            if close_job {
                Store::set_open_job_tx(tx, None)?;
            }
            Ok(seqs)
        })
    }

    /// The newest `limit` events of one type, newest first, with where each stands.
    pub fn recent_events(
        &self,
        event_type: &str,
        limit: u32,
    ) -> Result<Vec<(EventBody, LineState)>> {
        Ok(self
            .events_of_type(event_type, 0, limit, true)?
            .into_iter()
            .map(|(_, body, state)| (body, state))
            .collect())
    }

    /// Up to `limit` events of one type with a local seq from `from_seq` on, each with its seq
    /// and where it stands: the newest first, or the oldest first. A range of the index on
    /// (type, seq): a job reads back what it recorded since it started.
    pub fn events_of_type(
        &self,
        event_type: &str,
        from_seq: u64,
        limit: u32,
        newest_first: bool,
    ) -> Result<Vec<(u64, EventBody, LineState)>> {
        let device_id = self.device()?.device_id;
        let sql = if newest_first {
            "SELECT seq, schema, payload, state FROM outbox WHERE type = ?1 AND seq >= ?2
             ORDER BY seq DESC LIMIT ?3"
        } else {
            "SELECT seq, schema, payload, state FROM outbox WHERE type = ?1 AND seq >= ?2
             ORDER BY seq LIMIT ?3"
        };
        let mut stmt = self.conn().prepare_cached(sql)?;
        let rows = stmt.query_map(params![event_type, from_seq as i64, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, schema, payload, state) = row?;
            let event = Event {
                event_id: Uuid::nil(),
                device_id,
                seq: 0,
                operator_id: String::new(),
                device_time_ms: 0,
                event_type: event_type.to_string(),
                schema: schema as u16,
                payload: serde_json::from_str(&payload)?,
            };
            if let Ok(body) = event.body() {
                out.push((seq as u64, body, LineState::from_db(&state)));
            }
        }
        Ok(out)
    }

    /// The next `limit` events the server has not recorded, in seq order.
    pub fn pending_batch(&self, limit: u32) -> Result<Vec<Event>> {
        let acked = self.counts()?.acked_through;
        self.events_after(acked, limit)
    }

    /// Up to `limit` events of the outbox with a local seq after `seq`, in seq order, as they
    /// are pushed (under the device id and seq of [`super::Lineage::wire`]), whatever the server
    /// answered for them.
    pub fn events_after(&self, seq: u64, limit: u32) -> Result<Vec<Event>> {
        let lineage = self.lineage()?;
        let mut stmt = self.conn().prepare_cached(
            "SELECT seq, event_id, operator_id, device_time_ms, type, schema, payload
             FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![seq as i64, limit], |r| {
            let event_id: String = r.get(1)?;
            let payload: String = r.get(6)?;
            Ok((
                r.get::<_, i64>(0)?,
                event_id,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, u16>(5)?,
                payload,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, event_id, operator_id, device_time_ms, event_type, schema, payload) = row?;
            let (device_id, seq) = lineage.wire(seq as u64);
            out.push(Event {
                event_id: Uuid::parse_str(&event_id)
                    .map_err(|e| StoreError::Data(e.to_string()))?,
                device_id,
                seq,
                operator_id,
                device_time_ms,
                event_type,
                schema,
                payload: serde_json::from_str(&payload)?,
            });
        }
        Ok(out)
    }

    /// Records what the server answered for a batch: per-event outcomes, rejections as
    /// exceptions, and the new `acked_through`, in one transaction. Seqs are the server's, of
    /// the device id events are pushed under now.
    pub fn record_push_results(
        &mut self,
        results: &[EventResult],
        acked_through: u64,
    ) -> Result<()> {
        self.write(|tx| {
            let base: i64 = tx
                .prepare_cached("SELECT seq_base FROM device WHERE id = 1")?
                .query_row([], |r| r.get(0))?;
            let base = base as u64;
            let acked_through = acked_through.saturating_add(base);
            for r in results {
                let r = &EventResult {
                    seq: r.seq.saturating_add(base),
                    ..r.clone()
                };
                let (state, reject) = match r.outcome.effective() {
                    EventOutcome::Rejected { code, reason } => ("rejected", Some((code, reason))),
                    // The goods moved on the server's books; the rest needs a person.
                    EventOutcome::Partial { code, reason } => ("applied", Some((code, reason))),
                    _ => ("applied", None),
                };
                let changed = tx
                    .prepare_cached(
                        "UPDATE outbox SET state = ?2 WHERE seq = ?1 AND state = 'pending'",
                    )?
                    .execute(params![r.seq as i64, state])?;
                if state == "rejected" && changed == 1 {
                    super::stock::drop_moves_of(tx, r.seq)?;
                }
                if let (Some((code, reason)), 1) = (reject, changed) {
                    tx.prepare_cached(
                        "INSERT INTO exceptions (seq, kind, message, created_ms) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![r.seq as i64, code, reason, now_ms()])?;
                }
            }
            tx.prepare_cached(
                "UPDATE device SET acked_through = max(acked_through, ?1) WHERE id = 1",
            )?
            .execute([acked_through as i64])?;
            super::stock::drop_seen_moves(tx)?;
            Ok(())
        })
    }

    /// Records an exception that did not come from the server (e.g. an unknown barcode).
    pub(crate) fn add_exception_tx(
        tx: &Transaction,
        seq: Option<u64>,
        kind: &str,
        message: &str,
    ) -> Result<()> {
        tx.prepare_cached(
            "INSERT INTO exceptions (seq, kind, message, created_ms) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![seq.map(|s| s as i64), kind, message, now_ms()])?;
        Ok(())
    }

    pub fn counts(&self) -> Result<SyncCounts> {
        let (last_seq, acked): (i64, i64) = self
            .conn()
            .prepare_cached("SELECT last_seq, acked_through FROM device WHERE id = 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let oldest_pending_ms: Option<i64> = self
            .conn()
            .prepare_cached("SELECT device_time_ms FROM outbox WHERE seq = ?1")?
            .query_row([acked + 1], |r| r.get(0))
            .optional()?;
        // Counted up to a cap, so the header's figure never costs more than a bounded scan.
        let open_exceptions: i64 = self
            .conn()
            .prepare_cached(
                "SELECT count(*) FROM (SELECT 1 FROM exceptions WHERE acknowledged = 0 LIMIT ?1)",
            )?
            .query_row([EXCEPTIONS_COUNT_CAP as i64], |r| r.get(0))?;
        Ok(SyncCounts {
            last_seq: last_seq as u64,
            acked_through: acked as u64,
            oldest_pending_ms,
            open_exceptions: open_exceptions as u64,
        })
    }

    /// Open exceptions, newest first, bounded.
    pub fn open_exceptions(&self, limit: u32) -> Result<Vec<ExceptionRow>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, seq, kind, message FROM exceptions WHERE acknowledged = 0 ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(ExceptionRow {
                id: r.get(0)?,
                seq: r.get::<_, Option<i64>>(1)?.map(|s| s as u64),
                kind: r.get(2)?,
                message: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn acknowledge_exception(&mut self, id: i64) -> Result<()> {
        self.conn()
            .execute("UPDATE exceptions SET acknowledged = 1 WHERE id = ?1", [id])?;
        Ok(())
    }

    /// A shift lead resolved an exception: in one transaction it is closed on the device and an
    /// `exception_resolved` event tells the server who resolved it (the server stamps when).
    pub fn resolve_exception(&mut self, id: i64, operator_id: &str) -> Result<()> {
        self.write(|tx| {
            let seq: Option<Option<i64>> = tx
                .prepare_cached("SELECT seq FROM exceptions WHERE id = ?1 AND acknowledged = 0")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            let Some(seq) = seq else {
                return Ok(());
            };
            if let Some(seq) = seq {
                // The event as the server knows it: under the id and seq it was pushed as.
                let (device_id, seq) = super::Lineage::load(tx)?.wire(seq as u64);
                append(
                    tx,
                    operator_id,
                    &EventBody::ExceptionResolved { device_id, seq },
                )?;
            }
            tx.execute("UPDATE exceptions SET acknowledged = 1 WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    /// The server expects an earlier seq than we thought it had (it was restored from a backup):
    /// everything after `acked_through` is pending again and will be resent. Rejections stay.
    pub fn rewind_acked_through(&mut self, acked_through: u64) -> Result<()> {
        self.write(|tx| {
            let base: i64 =
                tx.query_row("SELECT seq_base FROM device WHERE id = 1", [], |r| r.get(0))?;
            let acked_through = acked_through.saturating_add(base as u64);
            tx.execute(
                "UPDATE device SET acked_through = min(acked_through, ?1) WHERE id = 1",
                [acked_through as i64],
            )?;
            tx.execute(
                "UPDATE outbox SET state = 'pending' WHERE seq > ?1 AND state = 'applied'",
                [acked_through as i64],
            )?;
            Ok(())
        })
    }

    /// Where the event with this seq stands.
    pub fn line_state(&self, seq: u64) -> Result<LineState> {
        let s: Option<String> = self
            .conn()
            .prepare_cached("SELECT state FROM outbox WHERE seq = ?1")?
            .query_row([seq as i64], |r| r.get(0))
            .optional()?;
        Ok(s.map(|s| LineState::from_db(&s))
            .unwrap_or(LineState::Saved))
    }
}
