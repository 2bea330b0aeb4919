//! Tasks the server hands out, the leases this device holds on them, and the one job the device
//! has open.
//!
//! Tasks arrive through the pull (status and holder, for every device); a lease and its work
//! packet arrive in the lease answer or, when that answer was lost, as a change addressed to this
//! device. The open job is what makes "one job at a time" survive a crash: a flow records its key
//! when it starts and clears it when it ends, and log-in resumes it for the same operator.

use laituri_protocol::{Change, Lease, Task, TaskKind, TaskStatus, WorkPacket};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Result, Store, StoreError, now_ms};

/// A lease this device holds, with the packet to work from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub packet: WorkPacket,
    /// Why the server took the lease back, once it did (expired, released, taken).
    pub lost: Option<String>,
}

/// The server's answer to a task the operator asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweredLease {
    pub task_id: String,
    pub operator_id: String,
    pub granted: bool,
    /// `granted`, or the server's error code (e.g. `task_taken`).
    pub code: String,
    pub reason: Option<String>,
}

/// The job this device has open: which flow, for whom, and the flow's own key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenJob {
    pub flow: String,
    pub operator_id: String,
    pub key: serde_json::Value,
}

fn status_str(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Open => "open",
        TaskStatus::Leased => "leased",
        TaskStatus::Done => "done",
        TaskStatus::Cancelled => "cancelled",
    }
}

pub(crate) fn apply_task(tx: &Transaction, t: &Task) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO tasks (task_id, kind, merchant_id, priority, status, container, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        t.task_id,
        t.kind.as_str(),
        t.merchant_id,
        t.priority,
        status_str(t.status),
        t.container,
        serde_json::to_string(t)?
    ])?;
    Ok(())
}

/// Stores a work packet: the lease, the task, and the master data the task needs offline (the
/// merchant's rules, every product with every barcode, the locations), so the task can be
/// finished with no server even when the last pull missed some of it.
pub(crate) fn apply_packet(tx: &Transaction, p: &WorkPacket) -> Result<()> {
    super::master::apply_change(tx, &Change::Merchant(p.merchant.clone()))?;
    for product in &p.products {
        super::master::apply_change(tx, &Change::Product(product.clone()))?;
    }
    for location in &p.locations {
        super::master::apply_change(tx, &Change::Location(location.clone()))?;
    }
    tx.prepare_cached(
        "INSERT INTO leases (task_id, token, expires_at_ms, packet) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (task_id) DO UPDATE SET token = excluded.token,
             expires_at_ms = excluded.expires_at_ms, packet = excluded.packet, lost = NULL
         WHERE excluded.token >= leases.token",
    )?
    .execute(params![
        p.lease.task_id,
        p.lease.token as i64,
        p.lease.expires_at_ms,
        serde_json::to_string(p)?
    ])?;
    apply_task(tx, &p.task)?;
    Ok(())
}

/// The server says this device no longer holds the task (a tombstone of its packet).
pub(crate) fn lose_lease(tx: &Transaction, task_id: &str, why: &str) -> Result<()> {
    tx.prepare_cached("UPDATE leases SET lost = ?2 WHERE task_id = ?1 AND lost IS NULL")?
        .execute([task_id, why])?;
    Ok(())
}

impl Store {
    /// Open tasks of a kind, most urgent first, at most `limit`.
    pub fn open_tasks(&self, kind: TaskKind, limit: u32) -> Result<Vec<Task>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT data FROM tasks WHERE kind = ?1 AND status = 'open'
             ORDER BY priority DESC, task_id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![kind.as_str(), limit], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for data in rows {
            out.push(serde_json::from_str(&data?)?);
        }
        Ok(out)
    }

    /// Tasks leased to some device, as the server last said: what a shift lead may give back
    /// for a device that went away.
    pub fn leased_tasks(&self, limit: u32) -> Result<Vec<Task>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT data FROM tasks WHERE kind IN ('putaway', 'pick', 'count') AND status = 'leased'
             ORDER BY priority DESC, task_id LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for data in rows {
            out.push(serde_json::from_str(&data?)?);
        }
        Ok(out)
    }

    /// A task the device knows, by its id (a batch label carries it).
    pub fn task(&self, task_id: &str) -> Result<Option<Task>> {
        let data: Option<String> = self
            .conn()
            .prepare_cached("SELECT data FROM tasks WHERE task_id = ?1")?
            .query_row([task_id], |r| r.get(0))
            .optional()?;
        data.map(|d| serde_json::from_str(&d).map_err(StoreError::from))
            .transpose()
    }

    /// The newest task about a container that is not finished.
    pub fn task_for_container(&self, container: &str) -> Result<Option<Task>> {
        let data: Option<String> = self
            .conn()
            .prepare_cached(
                "SELECT data FROM tasks WHERE container = ?1 AND status IN ('open', 'leased')
                 ORDER BY task_id DESC LIMIT 1",
            )?
            .query_row([container], |r| r.get(0))
            .optional()?;
        data.map(|d| serde_json::from_str(&d).map_err(StoreError::from))
            .transpose()
    }

    /// Stores a lease answer (the packet and the task's new state).
    pub fn record_lease(&mut self, packet: &WorkPacket) -> Result<()> {
        self.write(|tx| apply_packet(tx, packet))
    }

    pub fn lease(&self, task_id: &str) -> Result<Option<LeaseRow>> {
        let row: Option<(String, Option<String>)> = self
            .conn()
            .prepare_cached("SELECT packet, lost FROM leases WHERE task_id = ?1")?
            .query_row([task_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(packet, lost)| {
            Ok(LeaseRow {
                packet: serde_json::from_str(&packet)?,
                lost,
            })
        })
        .transpose()
    }

    /// The leases to renew on the next sync round.
    pub fn held_leases(&self) -> Result<Vec<Lease>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT task_id, token, expires_at_ms FROM leases WHERE lost IS NULL ORDER BY task_id LIMIT 100",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Lease {
                task_id: r.get(0)?,
                token: r.get::<_, i64>(1)? as u64,
                expires_at_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records what a renewal answered: new expiries, and leases lost with the reason.
    pub fn record_renewal(&mut self, renewed: &[Lease], lost: &[(String, String)]) -> Result<()> {
        self.write(|tx| {
            for l in renewed {
                tx.prepare_cached(
                    "UPDATE leases SET expires_at_ms = ?2 WHERE task_id = ?1 AND token = ?3",
                )?
                .execute(params![l.task_id, l.expires_at_ms, l.token as i64])?;
            }
            for (task_id, why) in lost {
                lose_lease(tx, task_id, why)?;
            }
            Ok(())
        })
    }

    /// Forgets a lease the device gave back or finished.
    pub fn forget_lease(&mut self, task_id: &str) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM leases WHERE task_id = ?1")?
                .execute([task_id])?;
            Ok(())
        })
    }

    /// The job this device has open, if any.
    pub fn open_job(&self) -> Result<Option<OpenJob>> {
        let row: Option<(String, String, String)> = self
            .conn()
            .prepare_cached("SELECT flow, operator_id, key FROM open_job WHERE id = 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        row.map(|(flow, operator_id, key)| {
            Ok(OpenJob {
                flow,
                operator_id,
                key: serde_json::from_str(&key)?,
            })
        })
        .transpose()
    }

    /// Records (or clears, with `None`) the device's open job, inside a flow's transaction.
    pub(crate) fn set_open_job_tx(tx: &Transaction, job: Option<&OpenJob>) -> Result<()> {
        match job {
            Some(j) => tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO open_job (id, flow, operator_id, key, opened_ms)
                     VALUES (1, ?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    j.flow,
                    j.operator_id,
                    serde_json::to_string(&j.key)?,
                    now_ms()
                ])?,
            None => tx.execute("DELETE FROM open_job WHERE id = 1", [])?,
        };
        Ok(())
    }

    pub fn set_open_job(&mut self, job: Option<&OpenJob>) -> Result<()> {
        self.write(|tx| Store::set_open_job_tx(tx, job))
    }

    /// Asks the sync worker to lease a task for `operator_id`.
    pub fn want_lease(&mut self, task_id: &str, operator_id: &str) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO lease_wanted (task_id, operator_id, requested_ms) VALUES (?1, ?2, ?3)",
            params![task_id, operator_id, now_ms()],
        )?;
        Ok(())
    }

    /// Tasks waiting for the server to lease them.
    pub fn leases_wanted(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT task_id FROM lease_wanted WHERE answer IS NULL ORDER BY requested_ms LIMIT 10",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The server's answer to a wanted lease: `None` = granted (the packet is stored with it),
    /// `Some((code, reason))` = refused.
    pub fn answer_wanted(
        &mut self,
        task_id: &str,
        granted: Option<&WorkPacket>,
        refused: Option<(&str, &str)>,
    ) -> Result<()> {
        self.write(|tx| {
            if let Some(p) = granted {
                apply_packet(tx, p)?;
            }
            let (answer, reason) = match refused {
                Some((code, reason)) => (code, Some(reason)),
                None => ("granted", None),
            };
            tx.prepare_cached(
                "UPDATE lease_wanted SET answer = ?2, reason = ?3 WHERE task_id = ?1",
            )?
            .execute(params![task_id, answer, reason])?;
            Ok(())
        })
    }

    /// A wanted lease the server answered, taken off the list.
    pub fn take_answered_lease(&mut self) -> Result<Option<AnsweredLease>> {
        // Asked after every sync round on the UI thread: a read, and a write only when there
        // is an answer to take.
        let answered: Option<i64> = self
            .conn()
            .prepare_cached("SELECT 1 FROM lease_wanted WHERE answer IS NOT NULL LIMIT 1")?
            .query_row([], |r| r.get(0))
            .optional()?;
        if answered.is_none() {
            return Ok(None);
        }
        self.write(|tx| {
            let row: Option<(String, String, String, Option<String>)> = tx
                .prepare_cached(
                    "SELECT task_id, operator_id, answer, reason FROM lease_wanted
                     WHERE answer IS NOT NULL ORDER BY requested_ms LIMIT 1",
                )?
                .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
            if let Some((task_id, ..)) = &row {
                tx.prepare_cached("DELETE FROM lease_wanted WHERE task_id = ?1")?
                    .execute([task_id])?;
            }
            Ok(
                row.map(|(task_id, operator_id, answer, reason)| AnsweredLease {
                    task_id,
                    operator_id,
                    granted: answer == "granted",
                    code: answer,
                    reason,
                }),
            )
        })
    }
}
