//! [`super::Postgres`] as [`crate::store::DeviceSync`]: enrolment, push, pull and leases. The
//! push rules' ledger over a transaction is in [`super::ledger`].

use async_trait::async_trait;
use laituri_protocol::{
    Change, ChangeRecord, EnrolRequest, EntityKind, Event, LeaseRequest, Location, LostLease,
    Merchant, Product, PullResponse, PushResponse, Removed, RenewRequest, RenewResponse, TaskClaim,
    TaskKind, TaskStatus, WorkPacket,
};
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use super::ledger::PgLedger;
use super::ledger::pick_from_row;
use super::{PendingChange, Postgres, append_changes, snapshot};
use crate::enrolment::{self, Admission, Claim, Continuation, StoredCode};
use crate::push::{self, StockKey, Writing};
use crate::store::rows::{
    LeaseTarget, PICK_COLUMNS, StoredTask, change_from_row, corrupt, from_json, lease_refusal,
    lease_target, new_epoch_id, no_task, nothing_to_release, packet, pick_progress, stock_key,
    task_status_str, to_i64, to_json, unknown_task,
};
use crate::store::{Continued, DeviceSync, StoreError};
use crate::tasks::{self, Renewal, TaskRow};

/// The columns of a task, in [`task_from_row`]'s order (its errors, never a panic, on a row
/// that does not read).
pub(super) const TASK_COLUMNS: &str = "SELECT task_id, kind, merchant_id, priority, status,
    container, lines, reason, leased_to, lease_token, lease_expires_ms, fence, orders FROM tasks";

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
        orders: r.try_get(12)?,
    }
    .into_row()
}

pub(super) const STOCK_COLUMNS: &str =
    "SELECT s.merchant_id, s.product_id, s.location, s.container, s.lot,
    s.expiry, s.condition, s.quantity";

pub(super) fn stock_from_row(r: &Row) -> Result<(StockKey, i64), StoreError> {
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

/// Upserts a task: $1 warehouse, $2 task id, then kind, merchant, priority, status, container,
/// lines, reason, holder, lease token, lease expiry, fence and orders.
pub(super) const SAVE_TASK: &str =
    "INSERT INTO tasks (warehouse_id, task_id, kind, merchant_id, priority, status, container,
             lines, reason, leased_to, lease_token, lease_expires_ms, fence, orders)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (warehouse_id, task_id) DO UPDATE SET
             kind = excluded.kind, merchant_id = excluded.merchant_id,
             priority = excluded.priority, status = excluded.status,
             container = excluded.container, lines = excluded.lines, reason = excluded.reason,
             leased_to = excluded.leased_to, lease_token = excluded.lease_token,
             lease_expires_ms = excluded.lease_expires_ms, fence = excluded.fence,
             orders = excluded.orders";

async fn save_task(c: &impl GenericClient, wh: &str, row: &TaskRow) -> Result<(), StoreError> {
    let t = &row.task;
    let token = row.lease_token.map(to_i64).transpose()?;
    let fence = to_i64(row.fence)?;
    c.execute(
        SAVE_TASK,
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
            &to_json(&t.orders),
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
    let mut task = row.public();
    if task.kind == TaskKind::Pick {
        let picks = c
            .query(
                &format!("{PICK_COLUMNS} WHERE warehouse_id = $1 AND task_id = $2"),
                &[&wh, &task.task_id],
            )
            .await?
            .iter()
            .map(pick_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<Uuid> = task.orders.iter().map(|o| o.order_id).collect();
        let mut totes = std::collections::HashMap::new();
        for r in c
            .query(
                "SELECT order_id, totes FROM orders WHERE warehouse_id = $1 AND order_id = ANY($2)",
                &[&wh, &ids],
            )
            .await?
        {
            totes.insert(
                r.try_get::<_, Uuid>(0)?,
                from_json::<Vec<String>>(r.try_get(1)?)?,
            );
        }
        pick_progress(&mut task, &picks, &totes);
    }
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
            "SELECT data FROM locations WHERE warehouse_id = $1 AND kind IN ('bin', 'packing')
             ORDER BY code",
            &[&wh],
        )
        .await?
        .iter()
        .map(|r| from_json::<Location>(r.get(0)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(packet(task, lease, merchant, products, bins))
}

impl Postgres {
    /// One push of a batch in one transaction, written as `writing` says.
    async fn push_once(
        &self,
        device_id: Uuid,
        events: &[Event],
        writing: Writing,
    ) -> Result<PushResponse, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut ledger = PgLedger::new(&tx, &self.warehouse_id, self.clock.now_ms());
        let answer = push::push_batch(&mut ledger, device_id, events, writing).await?;
        // What the batch writes, then the change log: the transaction's last statement.
        ledger.flush(true).await?;
        tx.commit().await?;
        Ok(answer)
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
        self.retrying(|| async {
            // Rolled back after a refusal, the batch is pushed again event by event (see
            // `push`).
            match self.push_once(device_id, events, Writing::AtOnce).await {
                Err(e) if push::refused(&e) => {
                    self.push_once(device_id, events, Writing::EventByEvent)
                        .await
                }
                answer => answer,
            }
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
            for claim in &req.leases {
                let row = load_task(&*tx, wh, &claim.task_id).await?;
                match tasks::renew(row.as_ref(), device_id, claim, now) {
                    Renewal::Renewed(next) => {
                        save_task(&*tx, wh, &next).await?;
                        out.renewed.extend(next.lease());
                    }
                    Renewal::Lost { reason } => {
                        out.lost.push(LostLease {
                            task_id: claim.task_id.clone(),
                            reason: reason.to_string(),
                        });
                    }
                }
            }
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
