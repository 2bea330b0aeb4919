//! [`super::Postgres`] as [`crate::store::DeviceSync`]: enrolment, push, pull and leases, and the
//! push rules' [`Ledger`] over one PostgreSQL transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use laituri_protocol::{
    Change, ChangeRecord, EnrolRequest, EntityKind, Event, EventOutcome, InboundNotice,
    LeaseRequest, Location, LocationKind, LostLease, Merchant, OverrideReason, Product,
    PullResponse, PushResponse, Removed, RenewRequest, RenewResponse, TaskClaim, TaskKind,
    TaskStatus, WorkPacket,
};
use tokio_postgres::{GenericClient, Row, Transaction};
use uuid::Uuid;

use super::{PendingChange, Postgres, append_changes, snapshot};
use crate::enrolment::{self, Admission, Claim, Continuation, StoredCode};
use crate::push::{self, Effect, Ledger, ReceiptRef, Recorded, Refs, StockKey, World};
use crate::store::rows::{
    LeaseTarget, StoredTask, change_from_row, corrupt, from_json, lease_refusal, lease_target,
    new_epoch_id, no_task, nothing_to_release, notice_status_str, outcome_columns,
    outcome_from_columns, packet, stock_key, stored_payload, stored_text, task_status_str, to_i64,
    to_json, unknown_task,
};
use crate::store::{Continued, DeviceSync, StoreError};
use crate::tasks::{self, Renewal, TaskRow};

/// The columns of a task, in [`task_from_row`]'s order (its errors, never a panic, on a row
/// that does not read).
pub(super) const TASK_COLUMNS: &str = "SELECT task_id, kind, merchant_id, priority, status,
    container, lines, reason, leased_to, lease_token, lease_expires_ms, fence FROM tasks";

pub(super) fn task_from_row(r: &Row) -> Result<TaskRow, StoreError> {
    StoredTask {
        task_id: r.try_get(0)?,
        kind: r.try_get(1)?,
        merchant_id: r.try_get(2)?,
        priority: r.try_get(3)?,
        status: r.try_get(4)?,
        container: r.try_get(5)?,
        lines: r.try_get(6)?,
        reason: r.try_get(7)?,
        holder: r.try_get(8)?,
        lease_token: r.try_get(9)?,
        lease_expires_ms: r.try_get(10)?,
        fence: r.try_get(11)?,
    }
    .into_row()
}

const STOCK_COLUMNS: &str = "SELECT s.merchant_id, s.product_id, s.location, s.container, s.lot,
    s.expiry, s.condition, s.quantity";

fn stock_from_row(r: &Row) -> Result<(StockKey, i64), StoreError> {
    let key = stock_key([
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
        r.try_get(5)?,
        r.try_get(6)?,
    ])?;
    Ok((key, r.try_get(7)?))
}

async fn epoch_of(c: &impl GenericClient, wh: &str) -> Result<String, StoreError> {
    Ok(c.query_opt(
        "SELECT epoch FROM change_epoch WHERE warehouse_id = $1",
        &[&wh],
    )
    .await?
    .map(|r| r.get(0))
    .unwrap_or_default())
}

async fn load_task(
    c: &impl GenericClient,
    wh: &str,
    task_id: &str,
) -> Result<Option<TaskRow>, StoreError> {
    let sql = format!("{TASK_COLUMNS} WHERE warehouse_id = $1 AND task_id = $2 FOR UPDATE");
    c.query_opt(&sql, &[&wh, &task_id])
        .await?
        .map(|r| task_from_row(&r))
        .transpose()
}

/// The most urgent task of `kind` that may be leased now: open, or leased with an expired lease.
/// A task another transaction is leasing right now is skipped, not waited for.
async fn next_task(
    c: &impl GenericClient,
    wh: &str,
    kind: TaskKind,
    now_ms: i64,
) -> Result<Option<TaskRow>, StoreError> {
    let sql = format!(
        "{TASK_COLUMNS} WHERE warehouse_id = $1 AND kind = $2
         AND (status = 'open' OR (status = 'leased' AND lease_expires_ms <= $3))
         ORDER BY priority DESC, created_order LIMIT 1 FOR UPDATE SKIP LOCKED"
    );
    c.query_opt(&sql, &[&wh, &kind.as_str(), &now_ms])
        .await?
        .map(|r| task_from_row(&r))
        .transpose()
}

async fn save_task(c: &impl GenericClient, wh: &str, row: &TaskRow) -> Result<(), StoreError> {
    let t = &row.task;
    let token = row.lease_token.map(to_i64).transpose()?;
    let fence = to_i64(row.fence)?;
    c.execute(
        "INSERT INTO tasks (warehouse_id, task_id, kind, merchant_id, priority, status, container,
             lines, reason, leased_to, lease_token, lease_expires_ms, fence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (warehouse_id, task_id) DO UPDATE SET
             kind = excluded.kind, merchant_id = excluded.merchant_id,
             priority = excluded.priority, status = excluded.status,
             container = excluded.container, lines = excluded.lines, reason = excluded.reason,
             leased_to = excluded.leased_to, lease_token = excluded.lease_token,
             lease_expires_ms = excluded.lease_expires_ms, fence = excluded.fence",
        &[
            &wh,
            &t.task_id,
            &t.kind.as_str(),
            &t.merchant_id,
            &t.priority,
            &task_status_str(t.status),
            &t.container,
            &to_json(&t.lines),
            &t.reason,
            &row.holder,
            &token,
            &row.lease_expires_ms,
            &fence,
        ],
    )
    .await?;
    Ok(())
}

/// Saves a task and tells every device.
async fn publish_task(
    c: &impl GenericClient,
    wh: &str,
    row: &TaskRow,
    changes: &mut Vec<PendingChange>,
) -> Result<(), StoreError> {
    save_task(c, wh, row).await?;
    changes.push(PendingChange::of(
        None,
        Some(&row.task.merchant_id),
        &Change::Task(row.public()),
    ));
    Ok(())
}

/// Tells one device to forget a task's work packet.
fn remove_packet(device: Uuid, row: &TaskRow) -> PendingChange {
    let removed = Change::Removed(Removed {
        kind: EntityKind::WorkPacket,
        id: row.task.task_id.clone(),
    });
    PendingChange::of(Some(device), Some(&row.task.merchant_id), &removed)
}

/// Everything a device needs to finish the task offline.
async fn work_packet(
    c: &impl GenericClient,
    wh: &str,
    row: &TaskRow,
) -> Result<WorkPacket, StoreError> {
    let task = row.public();
    let lease = row
        .lease()
        .ok_or_else(|| corrupt(format!("task {} has no lease", task.task_id)))?;
    let merchant: Merchant =
        {
            let data: Option<String> = c
                .query_opt(
                    "SELECT data FROM merchants WHERE warehouse_id = $1 AND id = $2",
                    &[&wh, &task.merchant_id],
                )
                .await?
                .map(|r| r.get(0));
            from_json(&data.ok_or_else(|| {
                corrupt(format!("task {} names an unknown merchant", task.task_id))
            })?)?
        };
    let mut product_ids: Vec<&str> = task
        .lines
        .iter()
        .map(|l| l.goods.product_id.as_str())
        .collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let products = c
        .query(
            "SELECT data FROM products WHERE warehouse_id = $1 AND id = ANY($2) ORDER BY id",
            &[&wh, &product_ids],
        )
        .await?
        .iter()
        .map(|r| from_json::<Product>(r.get(0)))
        .collect::<Result<Vec<_>, _>>()?;
    let bins = c
        .query(
            "SELECT data FROM locations WHERE warehouse_id = $1 AND kind = 'bin' ORDER BY code",
            &[&wh],
        )
        .await?
        .iter()
        .map(|r| from_json::<Location>(r.get(0)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(packet(task, lease, merchant, products, bins))
}

/// The PostgreSQL side of [`Ledger`]: the push rules' view of one transaction. Changes to
/// publish are collected and appended to the log at the end, in order.
///
/// Writes go to the database in bulk, a statement per kind of row for the whole batch (stock,
/// tallies, totes of receipts, exceptions, events), not a statement per event: each statement is
/// a round trip to the database, and a batch of 2,000 events would otherwise make 10,000.
struct PgLedger<'a, 't> {
    tx: &'a Transaction<'t>,
    wh: &'a str,
    changes: Vec<PendingChange>,
    /// Events decided in this batch, written by [`PgLedger::flush_events`].
    events: Vec<EventRow>,
    /// The changes published before the savepoint of the mark, while one is open. A kept mark
    /// leaves its savepoint open (no round trip to release it): the next mark or the commit
    /// releases it.
    marked: Option<usize>,
    savepoint_open: bool,
}

/// An event's columns, as [`PgLedger::flush_events`] writes them.
struct EventRow {
    device_id: Uuid,
    seq: i64,
    event_id: Uuid,
    operator_id: String,
    device_time_ms: i64,
    event_type: String,
    schema: i32,
    payload: String,
    outcome: &'static str,
    code: Option<String>,
    reason: Option<String>,
}

impl Ledger for PgLedger<'_, '_> {
    async fn last_seq(&mut self, device_id: Uuid) -> Result<u64, StoreError> {
        // The row lock serializes pushes of one device, whichever server process takes them.
        let seq: Option<i64> = self
            .tx
            .query_opt(
                "SELECT last_seq FROM devices WHERE warehouse_id = $1 AND device_id = $2
                 FOR UPDATE",
                &[&self.wh, &device_id],
            )
            .await?
            .map(|r| r.get(0));
        match seq {
            Some(s) => Ok(s.max(0) as u64),
            None => Err(StoreError::invalid(format!(
                "device {device_id} is not enrolled: enrol it with an enrolment code first"
            ))),
        }
    }

    async fn set_last_seq(&mut self, device_id: Uuid, seq: u64) -> Result<(), StoreError> {
        // The batch's events, before the device's position moves past them.
        self.flush_events().await?;
        self.tx
            .execute(
                "UPDATE devices SET last_seq = $3 WHERE warehouse_id = $1 AND device_id = $2",
                &[&self.wh, &device_id, &to_i64(seq)?],
            )
            .await?;
        Ok(())
    }

    async fn recorded(
        &mut self,
        device_id: Uuid,
        seq: u64,
    ) -> Result<Option<Recorded>, StoreError> {
        let row = self
            .tx
            .query_opt(
                "SELECT event_id, outcome, reject_code, reject_reason FROM events
                 WHERE warehouse_id = $1 AND device_id = $2 AND seq = $3",
                &[&self.wh, &device_id, &to_i64(seq)?],
            )
            .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let outcome: String = r.try_get(1)?;
        Ok(Some(Recorded {
            event_id: r.try_get(0)?,
            outcome: outcome_from_columns(&outcome, r.try_get(2)?, r.try_get(3)?),
        }))
    }

    async fn record_event(
        &mut self,
        event: &Event,
        outcome: &EventOutcome,
    ) -> Result<(), StoreError> {
        let (kind, code, reason) = outcome_columns(outcome);
        self.events.push(EventRow {
            device_id: event.device_id,
            seq: to_i64(event.seq)?,
            event_id: event.event_id,
            operator_id: stored_text(&event.operator_id).into_owned(),
            device_time_ms: event.device_time_ms,
            event_type: stored_text(&event.event_type).into_owned(),
            schema: i32::from(event.schema),
            payload: stored_payload(event, outcome),
            outcome: kind,
            code: code.map(str::to_string),
            reason: reason.map(str::to_string),
        });
        Ok(())
    }

    async fn load(&mut self, refs: &Refs) -> Result<World, StoreError> {
        let mut w = World::default();
        let (tx, wh) = (self.tx, self.wh);
        let list = |set: &std::collections::BTreeSet<String>| -> Vec<String> {
            set.iter().cloned().collect()
        };
        if !refs.merchants.is_empty() {
            for r in tx
                .query(
                    "SELECT id FROM merchants WHERE warehouse_id = $1 AND id = ANY($2)",
                    &[&wh, &list(&refs.merchants)],
                )
                .await?
            {
                w.merchants.insert(r.try_get(0)?);
            }
        }
        if !refs.products.is_empty() {
            for r in tx
                .query(
                    "SELECT id, merchant_id FROM products WHERE warehouse_id = $1 AND id = ANY($2)",
                    &[&wh, &list(&refs.products)],
                )
                .await?
            {
                w.products.insert(r.try_get(0)?, r.try_get(1)?);
            }
        }
        if !refs.locations.is_empty() {
            for r in tx
                .query(
                    "SELECT code, kind FROM locations WHERE warehouse_id = $1 AND code = ANY($2)",
                    &[&wh, &list(&refs.locations)],
                )
                .await?
            {
                let kind: String = r.try_get(1)?;
                let kind = LocationKind::parse(&kind)
                    .ok_or_else(|| corrupt(format!("location kind {kind:?}")))?;
                w.locations.insert(r.try_get(0)?, kind);
            }
        }
        if !refs.notices.is_empty() {
            for r in tx
                .query(
                    "SELECT data FROM inbound_notices WHERE warehouse_id = $1 AND id = ANY($2)",
                    &[&wh, &list(&refs.notices)],
                )
                .await?
            {
                let notice: InboundNotice = from_json(r.try_get(0)?)?;
                w.notices.insert(notice.id.clone(), notice);
            }
        }
        if !refs.receipts.is_empty() {
            let ids: Vec<Uuid> = refs.receipts.iter().copied().collect();
            for r in tx
                .query(
                    "SELECT receipt_id, merchant_id, notice_id, closed FROM receipts
                     WHERE warehouse_id = $1 AND receipt_id = ANY($2)",
                    &[&wh, &ids],
                )
                .await?
            {
                w.receipts.insert(
                    r.try_get(0)?,
                    ReceiptRef {
                        merchant_id: r.try_get(1)?,
                        notice_id: r.try_get(2)?,
                        closed: r.try_get(3)?,
                    },
                );
            }
        }
        if !refs.receipt_containers.is_empty() {
            let ids: Vec<Uuid> = refs.receipt_containers.iter().copied().collect();
            for r in tx
                .query(
                    "SELECT receipt_id, location, container FROM receipt_containers
                     WHERE warehouse_id = $1 AND receipt_id = ANY($2)",
                    &[&wh, &ids],
                )
                .await?
            {
                w.receipt_containers
                    .entry(r.try_get(0)?)
                    .or_default()
                    .insert((r.try_get(2)?, r.try_get(1)?));
            }
        }
        if !refs.tasks.is_empty() {
            let sql = format!("{TASK_COLUMNS} WHERE warehouse_id = $1 AND task_id = ANY($2)");
            for r in tx.query(&sql, &[&wh, &list(&refs.tasks)]).await? {
                let row = task_from_row(&r)?;
                w.tasks.insert(row.task.task_id.clone(), row);
            }
        }
        if !refs.putaway_containers.is_empty() {
            // Oldest first, so the newest open task of a container is the last one.
            let sql = format!(
                "{TASK_COLUMNS} WHERE warehouse_id = $1 AND kind = 'putaway'
                 AND status IN ('open', 'leased') AND container = ANY($2) ORDER BY created_order"
            );
            for r in tx
                .query(&sql, &[&wh, &list(&refs.putaway_containers)])
                .await?
            {
                let row = task_from_row(&r)?;
                let id = row.task.task_id.clone();
                if let Some(c) = &row.task.container {
                    w.putaway_tasks
                        .entry(c.clone())
                        .or_default()
                        .push(id.clone());
                }
                w.tasks.insert(id, row);
            }
        }
        if !refs.count_reasons.is_empty() {
            let sql = format!(
                "{TASK_COLUMNS} WHERE warehouse_id = $1 AND kind = 'count'
                 AND status IN ('open', 'leased') AND reason = ANY($2)"
            );
            for r in tx.query(&sql, &[&wh, &list(&refs.count_reasons)]).await? {
                let row = task_from_row(&r)?;
                w.tasks.insert(row.task.task_id.clone(), row);
            }
        }
        if !refs.stock.is_empty() {
            // One array per column of the primary key; each key is one primary-key look-up.
            let mut cols: [Vec<&str>; 7] = Default::default();
            for k in &refs.stock {
                let values = [
                    k.merchant_id.as_str(),
                    k.product_id.as_str(),
                    k.location.as_str(),
                    k.container.as_deref().unwrap_or(""),
                    k.lot.as_deref().unwrap_or(""),
                    k.expiry.as_deref().unwrap_or(""),
                    k.condition.as_str(),
                ];
                for (col, v) in cols.iter_mut().zip(values) {
                    col.push(v);
                }
            }
            let sql = format!(
                "{STOCK_COLUMNS} FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],
                     $6::text[], $7::text[], $8::text[]) AS k(m, p, l, c, lot, e, cond)
                 JOIN stock AS s ON s.warehouse_id = $1 AND s.merchant_id = k.m
                     AND s.product_id = k.p AND s.location = k.l AND s.container = k.c
                     AND s.lot = k.lot AND s.expiry = k.e AND s.condition = k.cond"
            );
            let [m, p, l, c, lot, e, cond] = &cols;
            for r in tx.query(&sql, &[&wh, m, p, l, c, lot, e, cond]).await? {
                let (key, quantity) = stock_from_row(&r)?;
                w.stock.insert(key, quantity);
            }
        }
        if !refs.container_stock.is_empty() {
            let locations: Vec<&str> = refs
                .container_stock
                .iter()
                .map(|(l, _)| l.as_str())
                .collect();
            let containers: Vec<&str> = refs
                .container_stock
                .iter()
                .map(|(_, c)| c.as_str())
                .collect();
            let sql = format!(
                "{STOCK_COLUMNS} FROM unnest($2::text[], $3::text[]) AS k(l, c)
                 JOIN stock AS s ON s.warehouse_id = $1 AND s.location = k.l
                     AND s.container = k.c"
            );
            for r in tx.query(&sql, &[&wh, &locations, &containers]).await? {
                let (key, quantity) = stock_from_row(&r)?;
                w.stock.insert(key, quantity);
            }
            w.whole_containers = refs.container_stock.clone();
        }
        if !refs.event_ids.is_empty() {
            let ids: Vec<Uuid> = refs.event_ids.iter().copied().collect();
            for r in tx
                .query(
                    "SELECT event_id FROM events
                     WHERE warehouse_id = $1 AND event_id = ANY($2) AND outcome = 'applied'",
                    &[&wh, &ids],
                )
                .await?
            {
                w.applied_events.insert(r.try_get(0)?);
            }
        }
        Ok(w)
    }

    async fn write(&mut self, effects: &[Effect]) -> Result<(), StoreError> {
        // Stock and tallies are sums, totes of receipts and exceptions are rows of their own:
        // gathered over the batch and written in one statement each, after the effects that
        // make the rows they refer to (a receipt before its tally). Everything else in order.
        let mut stock: HashMap<&StockKey, i64> = HashMap::new();
        let mut tallies: HashMap<(Uuid, &str), (i64, i64)> = HashMap::new();
        let mut containers: Vec<(Uuid, &str, &str)> = Vec::new();
        let mut exceptions = Vec::new();
        let mut resolutions = Vec::new();
        for effect in effects {
            match effect {
                Effect::AddStock { key, delta, .. } => *stock.entry(key).or_default() += delta,
                Effect::TallyReceipt {
                    receipt_id,
                    product_id,
                    received,
                    quarantined,
                } => {
                    let t = tallies.entry((*receipt_id, product_id)).or_default();
                    t.0 += received;
                    t.1 += quarantined;
                }
                Effect::ReceiptContainer {
                    receipt_id,
                    location,
                    container,
                } => containers.push((*receipt_id, location, container)),
                Effect::Exception {
                    exception,
                    merchant_id,
                } => exceptions.push((exception, merchant_id.as_deref())),
                // After the exceptions, which it may resolve.
                Effect::ResolveException { .. } => resolutions.push(effect),
                other => self.write_one(other).await?,
            }
        }
        self.write_stock(&stock).await?;
        self.write_tallies(&tallies).await?;
        self.write_containers(&containers).await?;
        self.write_exceptions(&exceptions).await?;
        for resolution in resolutions {
            self.write_one(resolution).await?;
        }
        Ok(())
    }

    async fn mark(&mut self) -> Result<(), StoreError> {
        // Events recorded before the mark are written before it, so undoing keeps them.
        self.flush_events().await?;
        let sql = if self.savepoint_open {
            "RELEASE SAVEPOINT push_mark; SAVEPOINT push_mark"
        } else {
            "SAVEPOINT push_mark"
        };
        self.tx.batch_execute(sql).await?;
        self.savepoint_open = true;
        self.marked = Some(self.changes.len());
        Ok(())
    }

    async fn keep(&mut self) -> Result<(), StoreError> {
        self.flush_events().await?;
        self.marked = None;
        Ok(())
    }

    async fn undo(&mut self) -> Result<(), StoreError> {
        self.tx
            .batch_execute("ROLLBACK TO SAVEPOINT push_mark; RELEASE SAVEPOINT push_mark")
            .await?;
        self.savepoint_open = false;
        let published = self.marked.take().unwrap_or(0);
        self.changes.truncate(published);
        self.events.clear();
        Ok(())
    }
}

impl PgLedger<'_, '_> {
    async fn flush_events(&mut self) -> Result<(), StoreError> {
        if self.events.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.events);
        let col = |f: fn(&EventRow) -> &str| rows.iter().map(f).collect::<Vec<_>>();
        let devices: Vec<Uuid> = rows.iter().map(|r| r.device_id).collect();
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        let ids: Vec<Uuid> = rows.iter().map(|r| r.event_id).collect();
        let times: Vec<i64> = rows.iter().map(|r| r.device_time_ms).collect();
        let schemas: Vec<i32> = rows.iter().map(|r| r.schema).collect();
        let codes: Vec<Option<&str>> = rows.iter().map(|r| r.code.as_deref()).collect();
        let reasons: Vec<Option<&str>> = rows.iter().map(|r| r.reason.as_deref()).collect();
        self.tx
            .execute(
                "INSERT INTO events (warehouse_id, device_id, seq, event_id, operator_id,
                     device_time_ms, type, schema, payload, outcome, reject_code, reject_reason)
                 SELECT $1, * FROM unnest($2::uuid[], $3::bigint[], $4::uuid[], $5::text[],
                     $6::bigint[], $7::text[], $8::int[], $9::text[], $10::text[], $11::text[],
                     $12::text[])",
                &[
                    &self.wh,
                    &devices,
                    &seqs,
                    &ids,
                    &col(|r| &r.operator_id),
                    &times,
                    &col(|r| &r.event_type),
                    &schemas,
                    &col(|r| &r.payload),
                    &col(|r| r.outcome),
                    &codes,
                    &reasons,
                ],
            )
            .await?;
        Ok(())
    }

    async fn write_stock(&self, stock: &HashMap<&StockKey, i64>) -> Result<(), StoreError> {
        if stock.is_empty() {
            return Ok(());
        }
        // In key order, so two transactions touching the same rows lock them in the same order.
        let mut rows: Vec<(&&StockKey, &i64)> = stock.iter().collect();
        rows.sort_by_key(|(k, _)| stock_sort_key(k));
        let text = |f: fn(&StockKey) -> &str| rows.iter().map(|(k, _)| f(k)).collect::<Vec<_>>();
        let deltas: Vec<i64> = rows.iter().map(|(_, d)| **d).collect();
        self.tx
            .execute(
                "INSERT INTO stock (warehouse_id, merchant_id, product_id, location, container,
                     lot, expiry, condition, quantity)
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],
                     $6::text[], $7::text[], $8::text[], $9::bigint[])
                 ON CONFLICT (warehouse_id, merchant_id, product_id, location, container, lot,
                     expiry, condition)
                 DO UPDATE SET quantity = stock.quantity + excluded.quantity",
                &[
                    &self.wh,
                    &text(|k| &k.merchant_id),
                    &text(|k| &k.product_id),
                    &text(|k| &k.location),
                    &text(|k| k.container.as_deref().unwrap_or("")),
                    &text(|k| k.lot.as_deref().unwrap_or("")),
                    &text(|k| k.expiry.as_deref().unwrap_or("")),
                    &text(|k| k.condition.as_str()),
                    &deltas,
                ],
            )
            .await?;
        Ok(())
    }

    async fn write_tallies(
        &self,
        tallies: &HashMap<(Uuid, &str), (i64, i64)>,
    ) -> Result<(), StoreError> {
        if tallies.is_empty() {
            return Ok(());
        }
        let mut rows: Vec<_> = tallies.iter().collect();
        rows.sort_by_key(|((r, p), _)| (*r, *p));
        let receipts: Vec<Uuid> = rows.iter().map(|((r, _), _)| *r).collect();
        let products: Vec<&str> = rows.iter().map(|((_, p), _)| *p).collect();
        let received: Vec<i64> = rows.iter().map(|(_, t)| t.0).collect();
        let quarantined: Vec<i64> = rows.iter().map(|(_, t)| t.1).collect();
        self.tx
            .execute(
                "INSERT INTO receipt_tally (warehouse_id, receipt_id, product_id, received,
                     quarantined)
                 SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::bigint[], $5::bigint[])
                 ON CONFLICT (warehouse_id, receipt_id, product_id) DO UPDATE SET
                     received = receipt_tally.received + excluded.received,
                     quarantined = receipt_tally.quarantined + excluded.quarantined",
                &[&self.wh, &receipts, &products, &received, &quarantined],
            )
            .await?;
        Ok(())
    }

    async fn write_containers(&self, rows: &[(Uuid, &str, &str)]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let receipts: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
        let locations: Vec<&str> = rows.iter().map(|r| r.1).collect();
        let containers: Vec<&str> = rows.iter().map(|r| r.2).collect();
        self.tx
            .execute(
                "INSERT INTO receipt_containers (warehouse_id, receipt_id, location, container)
                 SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[])
                 ON CONFLICT DO NOTHING",
                &[&self.wh, &receipts, &locations, &containers],
            )
            .await?;
        Ok(())
    }

    async fn write_exceptions(
        &self,
        rows: &[(&laituri_protocol::ExceptionView, Option<&str>)],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let merchants: Vec<Option<&str>> = rows.iter().map(|r| r.1).collect();
        let devices: Vec<Uuid> = rows.iter().map(|r| r.0.device_id).collect();
        let seqs: Vec<i64> = rows
            .iter()
            .map(|r| to_i64(r.0.seq))
            .collect::<Result<_, _>>()?;
        let events: Vec<Uuid> = rows.iter().map(|r| r.0.event_id).collect();
        let kinds: Vec<&str> = rows.iter().map(|r| r.0.kind.as_str()).collect();
        let messages: Vec<&str> = rows.iter().map(|r| r.0.message.as_str()).collect();
        // WITH ORDINALITY keeps the batch's order in the exceptions' ids.
        self.tx
            .execute(
                "INSERT INTO exceptions (warehouse_id, merchant_id, device_id, seq, event_id,
                     kind, message)
                 SELECT $1, m, d, s, e, k, msg FROM unnest($2::text[], $3::uuid[], $4::bigint[],
                     $5::uuid[], $6::text[], $7::text[]) WITH ORDINALITY AS x(m, d, s, e, k, msg, n)
                 ORDER BY n",
                &[
                    &self.wh, &merchants, &devices, &seqs, &events, &kinds, &messages,
                ],
            )
            .await?;
        Ok(())
    }

    async fn write_one(&mut self, effect: &Effect) -> Result<(), StoreError> {
        let (tx, wh) = (self.tx, self.wh);
        match effect {
            Effect::OpenReceipt {
                receipt_id,
                merchant_id,
                notice_id,
                device_id,
                dock,
            } => {
                tx.execute(
                    "INSERT INTO receipts (warehouse_id, receipt_id, merchant_id, notice_id,
                         device_id, dock)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[&wh, receipt_id, merchant_id, notice_id, device_id, dock],
                )
                .await?;
            }
            Effect::CloseReceipt { receipt_id, lines } => {
                tx.execute(
                    "UPDATE receipts SET closed = TRUE, summary = $3
                     WHERE warehouse_id = $1 AND receipt_id = $2",
                    &[&wh, receipt_id, &to_json(lines)],
                )
                .await?;
            }
            Effect::SaveNotice(notice) => {
                tx.execute(
                    "UPDATE inbound_notices SET status = $3, data = $4
                     WHERE warehouse_id = $1 AND id = $2",
                    &[
                        &wh,
                        &notice.id,
                        &notice_status_str(notice.status),
                        &to_json(notice),
                    ],
                )
                .await?;
            }
            Effect::SaveTask(row) => save_task(tx, wh, row).await?,
            Effect::Publish {
                device,
                merchant_id,
                change,
            } => self
                .changes
                .push(PendingChange::of(*device, merchant_id.as_deref(), change)),
            Effect::Override {
                device_id,
                seq,
                container,
                suggested,
                location,
                reason,
            } => {
                tx.execute(
                    "INSERT INTO putaway_overrides (warehouse_id, device_id, seq, container,
                         suggested, location, override_reason)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        &wh,
                        device_id,
                        &to_i64(*seq)?,
                        container,
                        suggested,
                        location,
                        &reason.map(OverrideReason::as_str),
                    ],
                )
                .await?;
            }
            // Gathered by `write` and written in bulk.
            Effect::AddStock { .. }
            | Effect::TallyReceipt { .. }
            | Effect::ReceiptContainer { .. }
            | Effect::Exception { .. } => {}
            Effect::ResolveException { device_id, seq, by } => {
                tx.execute(
                    "UPDATE exceptions SET resolved_by = $4, resolved_at = now()
                     WHERE warehouse_id = $1 AND device_id = $2 AND seq = $3
                       AND resolved_by IS NULL",
                    &[&wh, device_id, &to_i64(*seq)?, by],
                )
                .await?;
            }
            Effect::BinFull {
                device_id,
                seq,
                location,
            } => {
                tx.execute(
                    "INSERT INTO bins_full (warehouse_id, location, device_id, seq)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (warehouse_id, location) DO UPDATE SET
                         device_id = excluded.device_id, seq = excluded.seq",
                    &[&wh, location, device_id, &to_i64(*seq)?],
                )
                .await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl DeviceSync for Postgres {
    async fn enrol_device(
        &self,
        req: &EnrolRequest,
        token_hash: &str,
        presented_token_hash: Option<&str>,
    ) -> Result<u64, StoreError> {
        let wh = self.warehouse_id.as_str();
        let code_hash = enrolment::code_hash(&req.enrolment_code);
        let device = req.device_id;
        self.retrying(|| async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let now_ms = self.clock.now_ms();
            // The code's row first, then the device's: uses of one code, and enrolments of one
            // device, run one at a time. The statements after the lock read what the enrolment
            // that held it committed.
            let code = tx
                .query_opt(
                    "SELECT code_id, device_id, uses_left, expires_at_ms FROM enrolment_codes
                     WHERE warehouse_id = $1 AND code_hash = $2 FOR UPDATE",
                    &[&wh, &code_hash],
                )
                .await?;
            let code = match code {
                None => None,
                Some(r) => {
                    let id: Uuid = r.try_get(0)?;
                    let again = tx
                        .query_one(
                            "SELECT EXISTS (SELECT 1 FROM enrolment_code_uses
                             WHERE warehouse_id = $1 AND code_id = $2 AND device_id = $3)",
                            &[&wh, &id, &device],
                        )
                        .await?
                        .try_get(0)?;
                    Some(StoredCode {
                        id,
                        device_id: r.try_get(1)?,
                        uses_left: r.try_get(2)?,
                        expires_at_ms: r.try_get(3)?,
                        enrolled_this_device: again,
                    })
                }
            };
            let known = tx
                .query_opt(
                    "SELECT token_hash, continued_by FROM devices
                     WHERE warehouse_id = $1 AND device_id = $2 FOR UPDATE",
                    &[&wh, &device],
                )
                .await?;
            let mut enrolled: Option<String> = None;
            if let Some(r) = known {
                if let Some(successor) = r.try_get::<_, Option<Uuid>>(1)? {
                    return Err(enrolment::continued_device(device, successor));
                }
                enrolled = Some(r.try_get(0)?);
            }
            let admission = enrolment::admit(&Claim {
                device_id: device,
                enrolled_token_hash: enrolled.as_deref(),
                presented_token_hash,
                code: code.as_ref(),
                now_ms,
            })?;
            if let Admission::NewUse { code_id } = admission {
                tx.execute(
                    "UPDATE enrolment_codes SET uses_left = uses_left - 1
                     WHERE warehouse_id = $1 AND code_id = $2",
                    &[&wh, &code_id],
                )
                .await?;
                tx.execute(
                    "INSERT INTO enrolment_code_uses (warehouse_id, code_id, device_id, at_ms)
                     VALUES ($1, $2, $3, $4)",
                    &[&wh, &code_id, &device, &now_ms],
                )
                .await?;
            }
            // Re-enrolling keeps the device's history (and last_seq) and replaces its token.
            let last_seq = if enrolled.is_some() {
                tx.query_opt(
                    "UPDATE devices SET name = $3, token_hash = $4
                     WHERE warehouse_id = $1 AND device_id = $2 RETURNING last_seq",
                    &[&wh, &device, &req.device_name, &token_hash],
                )
                .await?
            } else {
                tx.query_opt(
                    "INSERT INTO devices (warehouse_id, device_id, name, token_hash)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (warehouse_id, device_id) DO NOTHING RETURNING last_seq",
                    &[&wh, &device, &req.device_name, &token_hash],
                )
                .await?
            };
            // No row: the same new device was enrolled at the same time. Tried again, the
            // enrolment sees it and is decided as for a known device.
            let Some(row) = last_seq else {
                return Err(StoreError::Contention(format!(
                    "device {device} was enrolled by another request at the same time"
                )));
            };
            let last_seq: i64 = row.try_get(0)?;
            tx.commit().await?;
            Ok(last_seq.max(0) as u64)
        })
        .await
    }

    async fn device_for_token(&self, token_hash: &str) -> Result<Option<Uuid>, StoreError> {
        let client = self.pool.get().await?;
        Ok(client
            .query_opt(
                "SELECT device_id FROM devices
                 WHERE warehouse_id = $1 AND token_hash = $2 AND continued_by IS NULL",
                &[&self.warehouse_id, &token_hash],
            )
            .await?
            .map(|r| r.get(0)))
    }

    async fn continue_device(
        &self,
        presented_token_hash: &str,
        new_device_id: Uuid,
        device_name: &str,
        token_hash: &str,
    ) -> Result<Option<Continued>, StoreError> {
        let wh = self.warehouse_id.as_str();
        let new = new_device_id;
        self.retrying(|| async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            // The old device's row first: its pushes, enrolments and continuations wait.
            let Some(old) = tx
                .query_opt(
                    "SELECT device_id, continued_by FROM devices
                     WHERE warehouse_id = $1 AND token_hash = $2 FOR UPDATE",
                    &[&wh, &presented_token_hash],
                )
                .await?
            else {
                return Ok(None);
            };
            let (old, successor): (Uuid, Option<Uuid>) = (old.try_get(0)?, old.try_get(1)?);
            let new_known = tx
                .query_opt(
                    "SELECT 1 FROM devices WHERE warehouse_id = $1 AND device_id = $2",
                    &[&wh, &new],
                )
                .await?
                .is_some();
            let mut changes = Vec::new();
            match enrolment::continuation(old, successor, new, new_known)? {
                Continuation::Again => {
                    tx.execute(
                        "UPDATE devices SET name = $3, token_hash = $4
                         WHERE warehouse_id = $1 AND device_id = $2",
                        &[&wh, &new, &device_name, &token_hash],
                    )
                    .await?;
                }
                Continuation::New => {
                    let made = tx
                        .execute(
                            "INSERT INTO devices (warehouse_id, device_id, name, token_hash, continues)
                             VALUES ($1, $2, $3, $4, $5)
                             ON CONFLICT (warehouse_id, device_id) DO NOTHING",
                            &[&wh, &new, &device_name, &token_hash, &old],
                        )
                        .await?;
                    // No row: the same id was enrolled at the same time. Tried again, the
                    // request sees it.
                    if made == 0 {
                        return Err(StoreError::Contention(format!(
                            "device {new} was enrolled by another request at the same time"
                        )));
                    }
                    tx.execute(
                        "UPDATE devices SET continued_by = $3, continued_at = now()
                         WHERE warehouse_id = $1 AND device_id = $2",
                        &[&wh, &old, &new],
                    )
                    .await?;
                    let sql = format!(
                        "{TASK_COLUMNS} WHERE warehouse_id = $1 AND leased_to = $2 FOR UPDATE"
                    );
                    for r in tx.query(&sql, &[&wh, &old]).await? {
                        let row = task_from_row(&r)?;
                        let Some(next) = tasks::hand_over(&row, old, new) else {
                            continue;
                        };
                        if next.task.status == TaskStatus::Leased {
                            publish_task(&*tx, wh, &next, &mut changes).await?;
                        } else {
                            save_task(&*tx, wh, &next).await?;
                        }
                    }
                }
            }
            let last_seq: i64 = tx
                .query_one(
                    "SELECT last_seq FROM devices WHERE warehouse_id = $1 AND device_id = $2",
                    &[&wh, &new],
                )
                .await?
                .try_get(0)?;
            append_changes(&tx, wh, &changes).await?;
            tx.commit().await?;
            Ok(Some(Continued {
                continues: old,
                last_seq: last_seq.max(0) as u64,
            }))
        })
        .await
    }

    async fn push(&self, device_id: Uuid, events: &[Event]) -> Result<PushResponse, StoreError> {
        let wh = self.warehouse_id.as_str();
        self.retrying(|| async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let mut ledger = PgLedger {
                tx: &tx,
                wh,
                changes: Vec::new(),
                events: Vec::new(),
                marked: None,
                savepoint_open: false,
            };
            let answer = push::push_batch(&mut ledger, device_id, events).await?;
            let changes = ledger.changes;
            append_changes(&tx, wh, &changes).await?;
            tx.commit().await?;
            Ok(answer)
        })
        .await
    }

    async fn epoch(&self) -> Result<String, StoreError> {
        let client = self.pool.get().await?;
        epoch_of(&**client, &self.warehouse_id).await
    }

    async fn new_epoch(&self) -> Result<String, StoreError> {
        let epoch = new_epoch_id();
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO change_epoch (warehouse_id, epoch) VALUES ($1, $2)
                 ON CONFLICT (warehouse_id) DO UPDATE SET
                     epoch = excluded.epoch, created_at = now()",
                &[&self.warehouse_id, &epoch],
            )
            .await?;
        Ok(epoch)
    }

    async fn pull(
        &self,
        device_id: Uuid,
        cursor: u64,
        limit: u32,
    ) -> Result<PullResponse, StoreError> {
        let cursor_i = to_i64(cursor)?;
        let wh = self.warehouse_id.as_str();
        let mut client = self.pool.get().await?;
        // One snapshot for the page and its epoch.
        let tx = snapshot(&mut client).await?;
        // One row more than asked tells whether another page waits, without a COUNT.
        let rows = tx
            .query(
                "SELECT cursor, entity, data FROM changes
                 WHERE warehouse_id = $1 AND cursor > $2
                     AND (device_id IS NULL OR device_id = $3)
                 ORDER BY cursor LIMIT $4",
                &[&wh, &cursor_i, &device_id, &(i64::from(limit) + 1)],
            )
            .await?;
        let has_more = rows.len() > limit as usize;
        let changes = rows
            .iter()
            .take(limit as usize)
            .map(|r| {
                let c: i64 = r.try_get(0)?;
                Ok(ChangeRecord {
                    cursor: c.max(0) as u64,
                    change: change_from_row(r.try_get(1)?, r.try_get(2)?)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let epoch = epoch_of(&*tx, wh).await?;
        tx.commit().await?;
        let next_cursor = changes.last().map_or(cursor, |c| c.cursor);
        Ok(PullResponse {
            changes,
            next_cursor,
            has_more,
            epoch,
        })
    }

    async fn lease(&self, device_id: Uuid, req: &LeaseRequest) -> Result<WorkPacket, StoreError> {
        let now = self.clock.now_ms();
        let wh = self.warehouse_id.as_str();
        self.retrying(|| async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let row = match lease_target(req)? {
                LeaseTarget::Task(id) => load_task(&*tx, wh, id)
                    .await?
                    .ok_or_else(|| unknown_task(id))?,
                LeaseTarget::Next(kind) => next_task(&*tx, wh, kind, now)
                    .await?
                    .ok_or_else(|| no_task(kind))?,
            };
            let grant = tasks::grant(&row, device_id, now).map_err(|r| lease_refusal(&row, r))?;
            let packet = work_packet(&*tx, wh, &grant.row).await?;
            let mut changes = Vec::new();
            publish_task(&*tx, wh, &grant.row, &mut changes).await?;
            if let Some(loser) = grant.taken_from {
                changes.push(remove_packet(loser, &grant.row));
            }
            changes.push(PendingChange::of(
                Some(device_id),
                Some(&grant.row.task.merchant_id),
                &Change::WorkPacket(packet.clone()),
            ));
            append_changes(&tx, wh, &changes).await?;
            tx.commit().await?;
            Ok(packet)
        })
        .await
    }

    async fn renew(
        &self,
        device_id: Uuid,
        req: &RenewRequest,
    ) -> Result<RenewResponse, StoreError> {
        let now = self.clock.now_ms();
        let wh = self.warehouse_id.as_str();
        self.retrying(|| async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let mut out = RenewResponse {
                renewed: Vec::new(),
                lost: Vec::new(),
            };
            let mut changes = Vec::new();
            for claim in &req.leases {
                let row = load_task(&*tx, wh, &claim.task_id).await?;
                match tasks::renew(row.as_ref(), device_id, claim, now) {
                    Renewal::Renewed(next) => {
                        save_task(&*tx, wh, &next).await?;
                        out.renewed.extend(next.lease());
                    }
                    Renewal::Lost { reason, update } => {
                        if let Some(next) = update {
                            publish_task(&*tx, wh, &next, &mut changes).await?;
                            changes.push(remove_packet(device_id, &next));
                        }
                        out.lost.push(LostLease {
                            task_id: claim.task_id.clone(),
                            reason: reason.to_string(),
                        });
                    }
                }
            }
            append_changes(&tx, wh, &changes).await?;
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    async fn release(&self, device_id: Uuid, claim: &TaskClaim) -> Result<(), StoreError> {
        let wh = self.warehouse_id.as_str();
        self.retrying(|| async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let row = load_task(&*tx, wh, &claim.task_id)
                .await?
                .ok_or_else(|| nothing_to_release(&claim.task_id))?;
            if let Some(next) = tasks::release(&row, device_id, claim) {
                let mut changes = Vec::new();
                publish_task(&*tx, wh, &next, &mut changes).await?;
                changes.push(remove_packet(device_id, &next));
                append_changes(&tx, wh, &changes).await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}

/// The order stock rows are written in: their primary key's.
fn stock_sort_key(k: &StockKey) -> (&str, &str, &str, &str, &str, &str, &str) {
    (
        &k.merchant_id,
        &k.product_id,
        &k.location,
        k.container.as_deref().unwrap_or(""),
        k.lot.as_deref().unwrap_or(""),
        k.expiry.as_deref().unwrap_or(""),
        k.condition.as_str(),
    )
}
