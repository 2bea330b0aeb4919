//! A database restored from a backup: it kept its device id, but the server has another history
//! of that id (the events the terminal made after the backup was taken). The terminal then goes on
//! under a new device id, and nothing it confirmed is lost (DESIGN.md section 3, point 9).
//!
//! Local seqs never change. The events from the first one the server has another event in place
//! of go under the new device id, as its seqs 1, 2, 3...: the device row's `seq_base` says where
//! the current id starts (`wire seq = local seq - seq_base`), and `earlier_devices` keeps each
//! id the database pushed under before, with its range of local seqs. So the renumbering is one
//! row's update in one transaction (a kill -9 leaves either the old numbering or the new), and
//! every table that names a local seq (receipt lines, local stock moves, exceptions) still
//! means the same event. Event ids stay: the server knows an event it applied by its id.
//!
//! The steps, each durable before the next (see the sync worker):
//! 1. a push is answered `diverged_at`: [`Store::begin_continuation`] remembers a new device id
//!    and the first local seq it takes;
//! 2. the server continues the old id as the new one (asked with the old token, again after a
//!    crash or a lost answer: the server answers the same device);
//! 3. [`Store::finish_continuation`] takes the new id and token and renumbers.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{Result, Store, StoreError};

/// A continuation asked for and not yet answered by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingContinuation {
    /// The new device id, made by this terminal.
    pub device_id: Uuid,
    /// The first local seq pushed under it (as its seq 1).
    pub from_seq: u64,
}

/// Which device id, and which seq under it, every local seq is pushed as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lineage {
    pub device_id: Uuid,
    /// Local seqs after this one go under `device_id`.
    pub seq_base: u64,
    /// Earlier ids: (device id, seq_base, last local seq), oldest first.
    pub earlier: Vec<(Uuid, u64, u64)>,
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Data(e.to_string()))
}

impl Lineage {
    /// The lineage of the terminal database `conn` is open on (tools read it too).
    pub fn load(conn: &Connection) -> Result<Lineage> {
        let (id, base): (String, i64) = conn
            .prepare_cached("SELECT device_id, seq_base FROM device WHERE id = 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let mut stmt = conn.prepare_cached(
            "SELECT device_id, seq_base, last_seq FROM earlier_devices ORDER BY seq_base",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut earlier = Vec::new();
        for row in rows {
            let (id, base, last) = row?;
            earlier.push((uuid(&id)?, base as u64, last as u64));
        }
        Ok(Lineage {
            device_id: uuid(&id)?,
            seq_base: base as u64,
            earlier,
        })
    }

    /// The device id and seq the event of local seq `local` is pushed as.
    pub fn wire(&self, local: u64) -> (Uuid, u64) {
        if local > self.seq_base {
            return (self.device_id, local - self.seq_base);
        }
        self.earlier
            .iter()
            .find(|(_, base, last)| local > *base && local <= *last)
            .map_or((self.device_id, local), |(id, base, _)| (*id, local - base))
    }

    /// The local seq of `device`'s seq `seq`, when `device` is one of this database's ids. For
    /// an earlier id a seq beyond what this database pushed under it (the other history's, made
    /// after the backup) is its last local seq: the server has all of those.
    pub fn local(&self, device: Uuid, seq: u64) -> Option<u64> {
        if device == self.device_id {
            return Some(seq.saturating_add(self.seq_base));
        }
        self.earlier
            .iter()
            .find(|(id, _, _)| *id == device)
            .map(|(_, base, last)| seq.saturating_add(*base).min(*last))
    }
}

impl Store {
    /// Which device id and seq every local seq is pushed as.
    pub fn lineage(&self) -> Result<Lineage> {
        Lineage::load(self.conn())
    }

    /// The continuation asked for and not answered yet, if any.
    pub fn pending_continuation(&self) -> Result<Option<PendingContinuation>> {
        let row: (Option<String>, Option<i64>) = self
            .conn()
            .prepare_cached("SELECT continue_as, continue_from FROM device WHERE id = 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        match row {
            (Some(id), Some(from)) => Ok(Some(PendingContinuation {
                device_id: uuid(&id)?,
                from_seq: from as u64,
            })),
            _ => Ok(None),
        }
    }

    /// The server has other events than this database in place of local seq `from_seq` on:
    /// remembers a new device id to continue under from there, durably, before the server is
    /// asked. One asked for already is kept (the same question is asked again).
    pub fn begin_continuation(&mut self, from_seq: u64) -> Result<PendingContinuation> {
        self.write(|tx| {
            tx.execute(
                "UPDATE device SET continue_as = coalesce(continue_as, ?1),
                     continue_from = coalesce(continue_from, ?2)
                 WHERE id = 1",
                params![Uuid::now_v7().to_string(), from_seq as i64],
            )?;
            Ok(())
        })?;
        self.pending_continuation()?
            .ok_or_else(|| StoreError::Data("the continuation was not recorded".into()))
    }

    /// The server would not take the new id asked for (another device has it): the next try
    /// asks for another.
    pub fn new_continuation_id(&mut self) -> Result<()> {
        self.conn().execute(
            "UPDATE device SET continue_as = ?1 WHERE id = 1 AND continue_as IS NOT NULL",
            [Uuid::now_v7().to_string()],
        )?;
        Ok(())
    }

    /// The server continued this device as `device_id` with `token` and has recorded
    /// `server_last_seq` of its seqs. In ONE transaction: the old id joins the earlier ones, the
    /// outbox from the pending `from_seq` on is renumbered under the new id from seq 1 (its
    /// events keep their ids), and the new token replaces the old.
    pub fn finish_continuation(
        &mut self,
        device_id: Uuid,
        token: &str,
        server_last_seq: u64,
    ) -> Result<()> {
        self.write(|tx| {
            let (old, base, continue_as, from): (String, i64, Option<String>, Option<i64>) = tx
                .query_row(
                    "SELECT device_id, seq_base, continue_as, continue_from FROM device WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )?;
            let (Some(asked), Some(from)) = (continue_as, from) else {
                return Err(StoreError::Data("no continuation was asked for".into()));
            };
            if uuid(&asked)? != device_id {
                return Err(StoreError::Data(format!(
                    "the server continued this terminal as {device_id}, but it asked for {asked}"
                )));
            }
            let new_base = from - 1;
            tx.execute(
                "INSERT OR REPLACE INTO earlier_devices (device_id, seq_base, last_seq)
                 VALUES (?1, ?2, ?3)",
                params![old, base, new_base],
            )?;
            tx.execute(
                "UPDATE device SET device_id = ?1, token = ?2, seq_base = ?3,
                     acked_through = ?3 + ?4,
                     stock_seen_seq = min(stock_seen_seq, ?3),
                     continue_as = NULL, continue_from = NULL
                 WHERE id = 1",
                params![
                    device_id.to_string(),
                    token,
                    new_base,
                    server_last_seq as i64
                ],
            )?;
            Ok(())
        })
    }
}

/// The local seq of a stock level's `by_device`/`by_seq`, when the device is one of this
/// database's ids, read inside a transaction.
pub(crate) fn own_local_seq(conn: &Connection, device: Uuid, seq: u64) -> Result<Option<u64>> {
    let id = device.to_string();
    let current: Option<i64> = conn
        .prepare_cached("SELECT seq_base FROM device WHERE id = 1 AND device_id = ?1")?
        .query_row([&id], |r| r.get(0))
        .optional()?;
    if let Some(base) = current {
        return Ok(Some(seq.saturating_add(base as u64)));
    }
    let earlier: Option<(i64, i64)> = conn
        .prepare_cached("SELECT seq_base, last_seq FROM earlier_devices WHERE device_id = ?1")?
        .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(earlier.map(|(base, last)| seq.saturating_add(base as u64).min(last as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_seqs_map_to_the_id_and_seq_they_are_pushed_as() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        // Local 1-4 went under a, 5-9 under b, 10 on under c.
        let l = Lineage {
            device_id: c,
            seq_base: 9,
            earlier: vec![(a, 0, 4), (b, 4, 9)],
        };
        let cases = [
            (1, (a, 1)),
            (4, (a, 4)),
            (5, (b, 1)),
            (9, (b, 5)),
            (10, (c, 1)),
            (12, (c, 3)),
        ];
        for (local, wire) in cases {
            assert_eq!(l.wire(local), wire, "local {local}");
            assert_eq!(l.local(wire.0, wire.1), Some(local), "back from {wire:?}");
        }
        // The other history's seqs of an earlier id are all on the server: its last local seq.
        assert_eq!(l.local(a, 40), Some(4));
        assert_eq!(l.local(Uuid::from_u128(9), 1), None);
    }

    #[test]
    fn a_continuation_renumbers_in_one_step_and_keeps_its_id_until_answered() {
        let mut s = Store::open_in_memory().unwrap();
        let old = s.device().unwrap().device_id;
        s.set_enrolment("old-token", "WH", "Warehouse").unwrap();
        let body = laituri_protocol::EventBody::UnknownBarcode {
            receipt_id: Uuid::nil(),
            merchant_id: "M".into(),
            raw: "x".into(),
        };
        s.append_events("op", &[body.clone(), body.clone(), body.clone(), body])
            .unwrap();
        let ids: Vec<Uuid> = s
            .events_after(0, 10)
            .unwrap()
            .iter()
            .map(|e| e.event_id)
            .collect();
        s.record_push_results(&[], 2).unwrap();
        let asked = s.begin_continuation(3).unwrap();
        assert_eq!(s.begin_continuation(4).unwrap(), asked, "asked once");
        assert_eq!(asked.from_seq, 3);
        assert_eq!(
            s.device().unwrap().device_id,
            old,
            "nothing changes before the answer"
        );

        s.finish_continuation(asked.device_id, "new-token", 0)
            .unwrap();
        let d = s.device().unwrap();
        assert_eq!(
            (d.device_id, d.token.as_deref()),
            (asked.device_id, Some("new-token"))
        );
        assert_eq!(s.pending_continuation().unwrap(), None);
        let counts = s.counts().unwrap();
        assert_eq!((counts.acked_through, counts.last_seq), (2, 4));
        let pending = s.pending_batch(10).unwrap();
        let wire: Vec<(Uuid, u64, Uuid)> = pending
            .iter()
            .map(|e| (e.device_id, e.seq, e.event_id))
            .collect();
        assert_eq!(
            wire,
            [(asked.device_id, 1, ids[2]), (asked.device_id, 2, ids[3])]
        );
        let all: Vec<(Uuid, u64)> = s
            .events_after(0, 10)
            .unwrap()
            .iter()
            .map(|e| (e.device_id, e.seq))
            .collect();
        assert_eq!(
            all,
            [
                (old, 1),
                (old, 2),
                (asked.device_id, 1),
                (asked.device_id, 2)
            ]
        );
        // The server's answers name the new id's seqs.
        s.record_push_results(&[], 1).unwrap();
        assert_eq!(s.counts().unwrap().acked_through, 3);
        // A new event goes on after the last local seq, under the new id.
        s.append_events(
            "op",
            &[laituri_protocol::EventBody::UnknownBarcode {
                receipt_id: Uuid::nil(),
                merchant_id: "M".into(),
                raw: "y".into(),
            }],
        )
        .unwrap();
        let last = s.pending_batch(10).unwrap();
        assert_eq!(
            last.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [2, 3],
            "local 4 and 5"
        );
    }
}
