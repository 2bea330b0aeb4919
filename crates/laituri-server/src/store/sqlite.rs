//! The embedded SQLite backend of [`Store`]: one database file per site, the default and the demo.
//! [`SqliteStore`] is the blocking core; [`Sqlite`] puts it behind the async traits.
//!
//! It owns the connection set-up (WAL, `synchronous=FULL`, foreign keys, busy timeout), the
//! migrations in `migrations/NNNN_name.sql` (append-only, tracked in `user_version` by
//! rusqlite_migration), and the mapping between rows and protocol types. All writes go through ONE
//! writer connection behind a mutex: SQLite has one writer anyway, and serialising in-process
//! keeps `SQLITE_BUSY` out of the hot path and makes change-log cursors commit in order. Reads use
//! a small pool of reader connections, which WAL lets run beside the writer.
//!
//! It must never decide a business rule (those are in [`crate::push`] and [`crate::master`]).
//! [`SqliteStore`]'s methods block; async code uses them through [`Sqlite`], which owns the hop to
//! the blocking pool and the one-writer limit.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use laituri_protocol::{
    ApiKey, Change, ChangeRecord, DeviceView, EnrolRequest, EnrolmentCode, EntityKind, Event,
    EventOutcome, ExceptionView, InboundNotice, LeaseRequest, Location, LocationKind, LostLease,
    Merchant, Operator, OverrideReason, Product, PullResponse, PushResponse, ReceiptLineSummary,
    ReceiptView, Removed, RenewRequest, RenewResponse, ReturnView, StockRow, StockSummary, Task,
    TaskClaim, TaskKind, TaskStatus, WorkPacket,
};
use rusqlite::{
    Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params,
};
use rusqlite_migration::{M, Migrations};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::rows::{
    CodeRow, LeaseTarget, ORDER_WORK_COLUMNS, OrderLife, PICK_COLUMNS, StoredStock, StoredTask,
    change_from_row, change_row, check_badge, check_notice, check_product, code_listing, corrupt,
    from_json, lease_refusal, lease_target, new_epoch_id, no_task, nothing_to_release,
    notice_status_str, open_receipt_lines, outcome_columns, outcome_from_columns, packet,
    parse_uuid, pick_progress, pick_row, settle_notice, stock_conditions, stock_key,
    stored_payload, stored_text, summaries, task_status_str, to_i64, to_json, unknown_task,
};
use super::{
    Continued, DeviceSync, MasterData, Page, ReturnFilter, Scope, StockFilter, Store, StoreError,
    SummaryFilter, UpsertSummary, Views,
};
use crate::clock::Clock;
use crate::enrolment::{self, Admission, Claim, CodeToStore, Continuation, StoredCode};
use crate::keys::{self, KeyToStore};
use crate::outbound::PickRow;
use crate::push::{self, Effect, Ledger, ReceiptRef, Recorded, Refs, StockKey, World};
use crate::tasks::{self, Renewal, TaskRow};

/// The schema, oldest first. Append new files; never edit a shipped one.
pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../../migrations/0001_init.sql")),
        M::up(include_str!("../../migrations/0002_flows_tasks_epoch.sql")),
        M::up(include_str!(
            "../../migrations/0003_enrolment_codes_hashed.sql"
        )),
        M::up_with_hook(
            include_str!("../../migrations/0004_exceptions_resolved.sql"),
            add_resolution_columns,
        ),
        M::up(include_str!("../../migrations/0005_api_keys.sql")),
        M::up(include_str!("../../migrations/0006_orders.sql")),
        M::up(include_str!(
            "../../migrations/0007_device_continuation.sql"
        )),
        M::up(include_str!("../../migrations/0008_picking.sql")),
        M::up(include_str!("../../migrations/0009_packing.sql")),
        M::up(include_str!("../../migrations/0010_webhooks.sql")),
        M::up(include_str!("../../migrations/0011_counts.sql")),
        M::up(include_str!("../../migrations/0012_returns.sql")),
    ])
}

/// Migration 0004: the exceptions' `resolved_by` and `resolved_at`, where they are missing
/// (SQLite has no `ADD COLUMN IF NOT EXISTS`).
fn add_resolution_columns(tx: &Transaction<'_>) -> rusqlite_migration::HookResult {
    let mut stmt = tx.prepare("SELECT name FROM pragma_table_info('exceptions')")?;
    let columns: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for column in ["resolved_by", "resolved_at"] {
        if !columns.iter().any(|c| c == column) {
            tx.execute_batch(&format!("ALTER TABLE exceptions ADD COLUMN {column} TEXT"))?;
        }
    }
    Ok(())
}

/// Idle reader connections kept open; more are opened on demand and closed after use.
const MAX_IDLE_READERS: usize = 8;

/// How long a connection waits for a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct SqliteStore {
    warehouse_id: String,
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    clock: Clock,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        // Busy, locked and I/O trouble can pass; anything else (constraint, corruption, SQL bugs)
        // will fail again the same way.
        let transient = matches!(
            e.sqlite_error_code(),
            Some(
                ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::DiskFull
                    | ErrorCode::CannotOpen
                    | ErrorCode::OutOfMemory
            )
        );
        StoreError::Backend {
            message: e.to_string(),
            transient,
        }
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // journal_mode answers with the mode in force; anything but WAL would silently lose the
    // concurrency of readers beside the writer.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Backend {
            message: format!(
                "{} cannot use WAL journaling (got {mode}): put the database on a local disk",
                path.display()
            ),
            transient: false,
        });
    }
    // FULL: a committed push survives power loss, which is what an ack promises the terminal.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it to the latest schema.
    pub fn open(path: &Path, warehouse_id: &str) -> Result<SqliteStore, StoreError> {
        let mut writer = open_connection(path)?;
        migrations()
            .to_latest(&mut writer)
            .map_err(|e| StoreError::Backend {
                message: format!("migrating {} failed: {e}", path.display()),
                transient: false,
            })?;
        // The change log's epoch is made with the database (for this warehouse) and kept.
        writer.execute(
            "INSERT INTO change_epoch (warehouse_id, epoch) VALUES (?1, ?2)
             ON CONFLICT (warehouse_id) DO NOTHING",
            params![warehouse_id, new_epoch_id()],
        )?;
        adopt_legacy_codes(&mut writer, Clock::system().now_ms())?;
        Ok(SqliteStore {
            warehouse_id: warehouse_id.to_string(),
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            clock: Clock::system(),
        })
    }

    /// The same store reading lease expiry from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> SqliteStore {
        self.clock = clock;
        self
    }

    /// The store's clock, Unix milliseconds.
    pub(super) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// As [`Self::write`], for a transaction that deletes personal data: the deleted content is
    /// overwritten with zeros (`secure_delete`), and after the commit the write-ahead log is
    /// checkpointed and truncated, so no copy of it stays in the database's files. A checkpoint
    /// that readers hold up is logged; the log's frames are overwritten as it is reused.
    pub(super) fn write_erasing<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        conn.pragma_update(None, "secure_delete", "ON")?;
        let out = (|| -> Result<T, StoreError> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })();
        conn.pragma_update(None, "secure_delete", "OFF")?;
        let out = out?;
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy != 0 {
            tracing::warn!("erased personal data: the write-ahead log could not be truncated yet");
        }
        Ok(out)
    }

    /// Runs `f` in one IMMEDIATE transaction on the writer; commits only when `f` returns `Ok`.
    pub(super) fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A panic while holding the lock leaves no open transaction behind (it rolls back on
        // drop), so a poisoned mutex is safe to keep using.
        let mut conn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` on a reader connection inside one read transaction (one consistent snapshot).
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_connection(&self.path)?,
        };
        let out = {
            let tx = conn.unchecked_transaction()?;
            let out = f(&tx);
            tx.finish()?;
            out
        };
        let mut pool = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        out
    }

    fn list<T: DeserializeOwned>(&self, sql: &str, page: &Page) -> Result<Vec<T>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let after = page.after.as_deref().unwrap_or("");
            let rows = stmt.query_map(params![self.warehouse_id, after, page.limit], |r| {
                r.get::<_, String>(0)
            })?;
            rows.map(|data| from_json(&data?)).collect()
        })
    }

    /// As [`Self::list`], with the scope's merchant (or NULL for the warehouse) as `?4`.
    fn list_scoped<T: DeserializeOwned>(
        &self,
        sql: &str,
        page: &Page,
        scope: &Scope,
    ) -> Result<Vec<T>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let after = page.after.as_deref().unwrap_or("");
            let rows = stmt.query_map(
                params![self.warehouse_id, after, page.limit, scope.merchant()],
                |r| r.get::<_, String>(0),
            )?;
            rows.map(|data| from_json(&data?)).collect()
        })
    }
}

/// Stores the codes an older server kept in clear (see migration 0003) hashed, and drops them.
fn adopt_legacy_codes(conn: &mut Connection, now_ms: i64) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let legacy: i64 = tx.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'enrolment_codes_legacy'",
        [],
        |r| r.get(0),
    )?;
    if legacy == 0 {
        return Ok(());
    }
    let codes: Vec<(String, String)> = tx
        .prepare("SELECT warehouse_id, code FROM enrolment_codes_legacy ORDER BY created_at, code")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (wh, code) in &codes {
        put_code(&tx, wh, &CodeToStore::legacy(code), now_ms)?;
    }
    // The dropped pages are overwritten with zeros, so the file keeps no code in clear.
    tx.pragma_update(None, "secure_delete", "ON")?;
    tx.execute_batch("DROP TABLE enrolment_codes_legacy")?;
    tx.commit()?;
    conn.pragma_update(None, "secure_delete", "OFF")?;
    if !codes.is_empty() {
        tracing::warn!(
            codes = codes.len(),
            "enrolment codes stored in clear were hashed; they expire in 30 days"
        );
    }
    Ok(())
}

/// Stores an enrolment code made at `now_ms` (see [`MasterData::store_enrolment_code`]) and
/// answers its id.
fn put_code(
    tx: &Transaction<'_>,
    wh: &str,
    code: &CodeToStore,
    now_ms: i64,
) -> Result<Uuid, StoreError> {
    let id: String = tx
        .prepare_cached(
            "INSERT INTO enrolment_codes (warehouse_id, code_id, code_hash, device_id, uses,
                 uses_left, created_at_ms, expires_at_ms, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)
             ON CONFLICT (warehouse_id, code_hash) DO UPDATE SET
                 device_id = excluded.device_id, uses = excluded.uses,
                 uses_left = excluded.uses_left, created_at_ms = excluded.created_at_ms,
                 expires_at_ms = excluded.expires_at_ms, note = excluded.note
             RETURNING code_id",
        )?
        .query_row(
            params![
                wh,
                code.id.to_string(),
                code.code_hash,
                code.device_id.map(|d| d.to_string()),
                code.uses,
                now_ms,
                now_ms.saturating_add(code.valid_for_ms),
                code.note
            ],
            |r| r.get(0),
        )?;
    parse_uuid(&id)
}

/// The warehouse's enrolment codes (or the one `only`), oldest first, with the devices each
/// enrolled.
/// The code `only`, or a page of codes (oldest first, after the code `page.after`).
fn listed_codes(
    conn: &Connection,
    wh: &str,
    only: Option<Uuid>,
    page: Option<&Page>,
) -> Result<Vec<EnrolmentCode>, StoreError> {
    let only = only.map(|id| id.to_string());
    let after = page.and_then(|p| p.after.as_deref());
    let limit = page.map_or(1, |p| p.limit);
    let codes = conn
        .prepare_cached(
            "SELECT code_id, created_at_ms, expires_at_ms, uses, uses_left, device_id, note
             FROM enrolment_codes c WHERE warehouse_id = ?1 AND (?2 IS NULL OR code_id = ?2)
                 AND (?3 IS NULL OR (created_at_ms, code_id) >
                     (SELECT created_at_ms, code_id FROM enrolment_codes
                      WHERE warehouse_id = ?1 AND code_id = ?3))
             ORDER BY created_at_ms, code_id LIMIT ?4",
        )?
        .query_map(params![wh, only, after, limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?],
                r.get::<_, Option<String>>(5)?,
                r.get(6)?,
            ))
        })?
        .map(|row| {
            let (id, [created_at_ms, expires_at_ms, uses, uses_left], device, note) = row?;
            Ok(CodeRow {
                id: parse_uuid(&id)?,
                created_at_ms,
                expires_at_ms,
                uses,
                uses_left,
                device_id: device.as_deref().map(parse_uuid).transpose()?,
                note,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let ids = serde_json::to_string(&codes.iter().map(|c| c.id.to_string()).collect::<Vec<_>>())
        .map_err(corrupt)?;
    let uses = conn
        .prepare_cached(
            "SELECT code_id, device_id, at_ms FROM enrolment_code_uses
             WHERE warehouse_id = ?1 AND code_id IN (SELECT value FROM json_each(?2))
             ORDER BY at_ms, device_id",
        )?
        .query_map(params![wh, ids], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })?
        .map(|row| {
            let (code, device, at) = row?;
            Ok((parse_uuid(&code)?, parse_uuid(&device)?, at))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    code_listing(codes, uses)
}

fn epoch_of(conn: &Connection, wh: &str) -> Result<String, StoreError> {
    Ok(conn
        .prepare_cached("SELECT epoch FROM change_epoch WHERE warehouse_id = ?1")?
        .query_row([wh], |r| r.get(0))
        .optional()?
        .unwrap_or_default())
}

/// True when the stored `data` of the row equals `data`: re-sending identical master data then
/// appends nothing to the change log, so idempotent feeds (and the demo seed) cost terminals nothing.
fn unchanged(
    tx: &Transaction<'_>,
    table: &str,
    key: &str,
    wh: &str,
    id: &str,
    data: &str,
) -> Result<bool, StoreError> {
    let sql = format!("SELECT data FROM {table} WHERE warehouse_id = ?1 AND {key} = ?2");
    let stored: Option<String> = tx
        .prepare_cached(&sql)?
        .query_row(params![wh, id], |r| r.get(0))
        .optional()?;
    Ok(stored.as_deref() == Some(data))
}

fn append_change(
    tx: &Transaction<'_>,
    wh: &str,
    entity: &str,
    entity_id: &str,
    merchant_id: Option<&str>,
    data: &str,
) -> Result<(), StoreError> {
    append_change_for(tx, wh, None, entity, entity_id, merchant_id, data)
}

/// Appends a change for one device (`Some`) or every device (`None`).
fn append_change_for(
    tx: &Transaction<'_>,
    wh: &str,
    device: Option<Uuid>,
    entity: &str,
    entity_id: &str,
    merchant_id: Option<&str>,
    data: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO changes (warehouse_id, merchant_id, entity, entity_id, data, device_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        wh,
        merchant_id,
        entity,
        entity_id,
        data,
        device.map(|d| d.to_string())
    ])?;
    Ok(())
}

fn append(
    tx: &Transaction<'_>,
    wh: &str,
    device: Option<Uuid>,
    merchant_id: Option<&str>,
    change: &Change,
) -> Result<(), StoreError> {
    let (entity, id, data) = change_row(change);
    append_change_for(tx, wh, device, entity, &id, merchant_id, &data)
}

/// Deletes the change log's entries of a returnable order (they hold the customer's name) and
/// tells every device to forget it.
pub(crate) fn drop_returnable(
    tx: &Transaction<'_>,
    wh: &str,
    order_id: Uuid,
    merchant_id: &str,
) -> Result<(), StoreError> {
    let deleted = tx
        .prepare_cached(
            "DELETE FROM changes WHERE warehouse_id = ?1 AND entity = 'returnable_order'
                 AND entity_id = ?2",
        )?
        .execute(params![wh, order_id.to_string()])?;
    if deleted > 0 {
        append(
            tx,
            wh,
            None,
            Some(merchant_id),
            &Change::Removed(Removed {
                kind: EntityKind::ReturnableOrder,
                id: order_id.to_string(),
            }),
        )?;
    }
    Ok(())
}

/// Saves a task and tells every device.
fn publish_task(tx: &Transaction<'_>, wh: &str, row: &TaskRow) -> Result<(), StoreError> {
    save_task(tx, wh, row)?;
    append(
        tx,
        wh,
        None,
        Some(&row.task.merchant_id),
        &Change::Task(row.public()),
    )
}

/// Tells one device to forget a task's work packet.
fn remove_packet(
    tx: &Transaction<'_>,
    wh: &str,
    device: Uuid,
    row: &TaskRow,
) -> Result<(), StoreError> {
    let removed = Change::Removed(Removed {
        kind: EntityKind::WorkPacket,
        id: row.task.task_id.clone(),
    });
    append(tx, wh, Some(device), Some(&row.task.merchant_id), &removed)
}

/// The most urgent task of `kind` that may be leased now: open, or leased with an expired lease.
fn next_task(
    conn: &Connection,
    wh: &str,
    kind: TaskKind,
    now_ms: i64,
) -> Result<Option<TaskRow>, StoreError> {
    let sql = format!(
        "{TASK_COLUMNS} WHERE warehouse_id = ?1 AND kind = ?2
         AND (status = 'open' OR (status = 'leased' AND lease_expires_ms <= ?3))
         ORDER BY priority DESC, rowid LIMIT 1"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![wh, kind.as_str(), now_ms])?;
    match rows.next()? {
        Some(r) => Ok(Some(task_from_row(r)?)),
        None => Ok(None),
    }
}

/// Everything a device needs to finish the task offline.
fn work_packet(conn: &Connection, wh: &str, row: &TaskRow) -> Result<WorkPacket, StoreError> {
    let mut task = row.public();
    if task.kind == TaskKind::Pick {
        let picks = picks_where(conn, "task_id = ?2", params![wh, task.task_id])?;
        let ids: Vec<String> = task.orders.iter().map(|o| o.order_id.to_string()).collect();
        let mut stmt = conn.prepare_cached(
            "SELECT order_id, totes FROM orders
             WHERE warehouse_id = ?1 AND order_id IN (SELECT value FROM json_each(?2))",
        )?;
        let mut totes = std::collections::HashMap::new();
        let mut rows = stmt.query(params![wh, to_json(&ids)])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let list: String = r.get(1)?;
            totes.insert(parse_uuid(&id)?, from_json::<Vec<String>>(&list)?);
        }
        pick_progress(&mut task, &picks, &totes);
    }
    let lease = row
        .lease()
        .ok_or_else(|| corrupt(format!("task {} has no lease", task.task_id)))?;
    let merchant: Merchant =
        {
            let data: Option<String> = conn
                .prepare_cached("SELECT data FROM merchants WHERE warehouse_id = ?1 AND id = ?2")?
                .query_row(params![wh, task.merchant_id], |r| r.get(0))
                .optional()?;
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
    let mut products = Vec::with_capacity(product_ids.len());
    for id in product_ids {
        let data: Option<String> = conn
            .prepare_cached("SELECT data FROM products WHERE warehouse_id = ?1 AND id = ?2")?
            .query_row(params![wh, id], |r| r.get(0))
            .optional()?;
        if let Some(data) = data {
            products.push(from_json::<Product>(&data)?);
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT data FROM locations WHERE warehouse_id = ?1 AND kind IN ('bin', 'packing')
         ORDER BY code",
    )?;
    let bins = stmt
        .query_map([wh], |r| r.get::<_, String>(0))?
        .map(|data| from_json::<Location>(&data?))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(packet(task, lease, merchant, products, bins))
}

pub(super) const TASK_COLUMNS: &str =
    "SELECT task_id, kind, merchant_id, priority, status, container, lines,
    reason, leased_to, lease_token, lease_expires_ms, fence, orders FROM tasks";

pub(super) fn task_from_row(r: &rusqlite::Row<'_>) -> Result<TaskRow, StoreError> {
    let holder: Option<String> = r.get(8)?;
    StoredTask {
        task_id: r.get(0)?,
        kind: r.get(1)?,
        merchant_id: r.get(2)?,
        priority: r.get(3)?,
        status: r.get(4)?,
        container: r.get(5)?,
        lines: r.get(6)?,
        reason: r.get(7)?,
        holder: holder.map(|h| parse_uuid(&h)).transpose()?,
        lease_token: r.get(9)?,
        lease_expires_ms: r.get(10)?,
        fence: r.get(11)?,
        orders: r.get(12)?,
    }
    .into_row()
}

fn load_task(conn: &Connection, wh: &str, task_id: &str) -> Result<Option<TaskRow>, StoreError> {
    let sql = format!("{TASK_COLUMNS} WHERE warehouse_id = ?1 AND task_id = ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![wh, task_id])?;
    match rows.next()? {
        Some(r) => Ok(Some(task_from_row(r)?)),
        None => Ok(None),
    }
}

fn save_task(tx: &Connection, wh: &str, row: &TaskRow) -> Result<(), StoreError> {
    let t = &row.task;
    tx.prepare_cached(
        "INSERT INTO tasks (warehouse_id, task_id, kind, merchant_id, priority, status, container,
             lines, reason, leased_to, lease_token, lease_expires_ms, fence, orders)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (warehouse_id, task_id) DO UPDATE SET
             kind = excluded.kind, merchant_id = excluded.merchant_id,
             priority = excluded.priority, status = excluded.status,
             container = excluded.container, lines = excluded.lines, reason = excluded.reason,
             leased_to = excluded.leased_to, lease_token = excluded.lease_token,
             lease_expires_ms = excluded.lease_expires_ms, fence = excluded.fence,
             orders = excluded.orders",
    )?
    .execute(params![
        wh,
        t.task_id,
        t.kind.as_str(),
        t.merchant_id,
        t.priority,
        task_status_str(t.status),
        t.container,
        to_json(&t.lines),
        t.reason,
        row.holder.map(|h| h.to_string()),
        row.lease_token.map(to_i64).transpose()?,
        row.lease_expires_ms,
        to_i64(row.fence)?,
        to_json(&t.orders),
    ])?;
    Ok(())
}

pub(super) fn merchant_exists(tx: &Connection, wh: &str, id: &str) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM merchants WHERE warehouse_id = ?1 AND id = ?2")?
        .query_row(params![wh, id], |_| Ok(()))
        .optional()?
        .is_some())
}

pub(super) fn product_merchant(
    tx: &Connection,
    wh: &str,
    id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(tx
        .prepare_cached("SELECT merchant_id FROM products WHERE warehouse_id = ?1 AND id = ?2")?
        .query_row(params![wh, id], |r| r.get(0))
        .optional()?)
}

/// The SQLite side of [`Ledger`]: the push rules' view of one write transaction.
pub(super) struct SqliteLedger<'a, 't> {
    pub(super) tx: &'a Transaction<'t>,
    pub(super) wh: &'a str,
    /// The store's clock when the transaction began.
    pub(super) now_ms: i64,
}

impl Ledger for SqliteLedger<'_, '_> {
    async fn last_seq(&mut self, device_id: Uuid) -> Result<u64, StoreError> {
        let seq: Option<i64> = self
            .tx
            .prepare_cached("SELECT last_seq FROM devices WHERE device_id = ?1")?
            .query_row([device_id.to_string()], |r| r.get(0))
            .optional()?;
        match seq {
            Some(s) => Ok(s as u64),
            None => Err(StoreError::invalid(format!(
                "device {device_id} is not enrolled: enrol it with an enrolment code first"
            ))),
        }
    }

    async fn set_last_seq(&mut self, device_id: Uuid, seq: u64) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE devices SET last_seq = ?2 WHERE device_id = ?1")?
            .execute(params![device_id.to_string(), to_i64(seq)?])?;
        Ok(())
    }

    async fn recorded(
        &mut self,
        device_id: Uuid,
        seq: u64,
    ) -> Result<Option<Recorded>, StoreError> {
        let row = self
            .tx
            .prepare_cached(
                "SELECT event_id, outcome, reject_code, reject_reason FROM events
                 WHERE device_id = ?1 AND seq = ?2",
            )?
            .query_row(params![device_id.to_string(), to_i64(seq)?], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .optional()?;
        let Some((event_id, outcome, code, reason)) = row else {
            return Ok(None);
        };
        Ok(Some(Recorded {
            event_id: parse_uuid(&event_id)?,
            outcome: outcome_from_columns(&outcome, code, reason),
        }))
    }

    async fn record_event(
        &mut self,
        event: &Event,
        outcome: &EventOutcome,
    ) -> Result<(), StoreError> {
        let (kind, code, reason) = outcome_columns(outcome);
        self.tx
            .prepare_cached(
                "INSERT INTO events (warehouse_id, device_id, seq, event_id, operator_id,
                     device_time_ms, type, schema, payload, outcome, reject_code, reject_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                self.wh,
                event.device_id.to_string(),
                to_i64(event.seq)?,
                event.event_id.to_string(),
                stored_text(&event.operator_id),
                event.device_time_ms,
                stored_text(&event.event_type),
                event.schema,
                stored_payload(event, outcome),
                kind,
                code,
                reason,
            ])?;
        Ok(())
    }

    async fn load(&mut self, refs: &Refs) -> Result<World, StoreError> {
        let mut w = World {
            now_ms: self.now_ms,
            ..World::default()
        };
        let (tx, wh) = (self.tx, self.wh);
        if !refs.orders.is_empty() {
            let ids = to_json(&refs.orders);
            let sql = format!(
                "{ORDER_WORK_COLUMNS} WHERE o.warehouse_id = ?1
                 AND o.order_id IN (SELECT value FROM json_each(?2))"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![wh, ids])?;
            while let Some(r) = rows.next()? {
                let order = super::sqlite_orders::order_row(r)?;
                w.orders.insert(order.id, order);
            }
            for p in picks_where(
                tx,
                "order_id IN (SELECT value FROM json_each(?2))",
                params![wh, ids],
            )? {
                w.picks.insert((p.order_id, p.line_id.clone()), p);
            }
        }
        if !refs.merchants.is_empty() {
            let mut stmt = tx.prepare_cached(
                "SELECT id FROM merchants
                 WHERE warehouse_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
            )?;
            let rows = stmt.query_map(params![wh, to_json(&refs.merchants)], |r| r.get(0))?;
            for id in rows {
                w.merchants.insert(id?);
            }
        }
        if !refs.products.is_empty() {
            let mut stmt = tx.prepare_cached(
                "SELECT id, merchant_id FROM products
                 WHERE warehouse_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
            )?;
            let rows = stmt.query_map(params![wh, to_json(&refs.products)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            for row in rows {
                let (id, merchant): (String, String) = row?;
                w.products.insert(id, merchant);
            }
        }
        if !refs.locations.is_empty() {
            let mut stmt = tx.prepare_cached(
                "SELECT code, kind FROM locations
                 WHERE warehouse_id = ?1 AND code IN (SELECT value FROM json_each(?2))",
            )?;
            let rows = stmt.query_map(params![wh, to_json(&refs.locations)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            for row in rows {
                let (code, kind): (String, String) = row?;
                let kind = LocationKind::parse(&kind)
                    .ok_or_else(|| corrupt(format!("location kind {kind:?}")))?;
                w.locations.insert(code, kind);
            }
        }
        if !refs.notices.is_empty() {
            let mut stmt = tx.prepare_cached(
                "SELECT data FROM inbound_notices
                 WHERE warehouse_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
            )?;
            let rows = stmt.query_map(params![wh, to_json(&refs.notices)], |r| {
                r.get::<_, String>(0)
            })?;
            for data in rows {
                let notice: InboundNotice = from_json(&data?)?;
                w.notices.insert(notice.id.clone(), notice);
            }
        }
        if !refs.receipts.is_empty() {
            let mut stmt = tx.prepare_cached(
                "SELECT receipt_id, merchant_id, notice_id, closed FROM receipts
                 WHERE warehouse_id = ?1 AND receipt_id IN (SELECT value FROM json_each(?2))",
            )?;
            let rows = stmt.query_map(params![wh, to_json(&refs.receipts)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    ReceiptRef {
                        merchant_id: r.get(1)?,
                        notice_id: r.get(2)?,
                        closed: r.get(3)?,
                    },
                ))
            })?;
            for row in rows {
                let (id, receipt) = row?;
                w.receipts.insert(parse_uuid(&id)?, receipt);
            }
        }
        if !refs.receipt_containers.is_empty() {
            let mut stmt = tx.prepare_cached(
                "SELECT receipt_id, location, container FROM receipt_containers
                 WHERE warehouse_id = ?1 AND receipt_id IN (SELECT value FROM json_each(?2))",
            )?;
            let rows = stmt.query_map(params![wh, to_json(&refs.receipt_containers)], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
            })?;
            for row in rows {
                let (id, location, container): (String, String, String) = row?;
                w.receipt_containers
                    .entry(parse_uuid(&id)?)
                    .or_default()
                    .insert((container, location));
            }
        }
        if !refs.tasks.is_empty() {
            let sql = format!(
                "{TASK_COLUMNS} WHERE warehouse_id = ?1
                 AND task_id IN (SELECT value FROM json_each(?2))"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![wh, to_json(&refs.tasks)])?;
            while let Some(r) = rows.next()? {
                let row = task_from_row(r)?;
                w.tasks.insert(row.task.task_id.clone(), row);
            }
        }
        if !refs.putaway_containers.is_empty() {
            // Oldest first, so the newest open task of a container is the last one.
            let sql = format!(
                "{TASK_COLUMNS} WHERE warehouse_id = ?1 AND kind = 'putaway'
                 AND status IN ('open', 'leased')
                 AND container IN (SELECT value FROM json_each(?2)) ORDER BY rowid"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![wh, to_json(&refs.putaway_containers)])?;
            while let Some(r) = rows.next()? {
                let row = task_from_row(r)?;
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
                "{TASK_COLUMNS} WHERE warehouse_id = ?1 AND kind = 'count'
                 AND status IN ('open', 'leased')
                 AND reason IN (SELECT value FROM json_each(?2))"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![wh, to_json(&refs.count_reasons)])?;
            while let Some(r) = rows.next()? {
                let row = task_from_row(r)?;
                w.tasks.insert(row.task.task_id.clone(), row);
            }
        }
        if !refs.stock.is_empty() {
            // One JSON array per key, in the primary key's column order; the CROSS JOIN keeps
            // the keys as the outer loop so each is one primary-key look-up.
            let keys: Vec<[&str; 7]> = refs
                .stock
                .iter()
                .map(|k| {
                    [
                        k.merchant_id.as_str(),
                        k.product_id.as_str(),
                        k.location.as_str(),
                        k.container.as_deref().unwrap_or(""),
                        k.lot.as_deref().unwrap_or(""),
                        k.expiry.as_deref().unwrap_or(""),
                        k.condition.as_str(),
                    ]
                })
                .collect();
            let sql = format!(
                "{STOCK_COLUMNS} FROM json_each(?2) AS k CROSS JOIN stock AS s
                 ON s.warehouse_id = ?1 AND s.merchant_id = k.value ->> 0
                 AND s.product_id = k.value ->> 1 AND s.location = k.value ->> 2
                 AND s.container = k.value ->> 3 AND s.lot = k.value ->> 4
                 AND s.expiry = k.value ->> 5 AND s.condition = k.value ->> 6"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![wh, to_json(&keys)])?;
            while let Some(r) = rows.next()? {
                let (key, quantity) = stock_from_row(r)?;
                w.stock.insert(key, quantity);
            }
        }
        if !refs.container_stock.is_empty() {
            let sql = format!(
                "{STOCK_COLUMNS} FROM json_each(?2) AS k
                 CROSS JOIN stock AS s INDEXED BY stock_by_location
                 ON s.warehouse_id = ?1 AND s.location = k.value ->> 0
                 AND s.container = k.value ->> 1"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![wh, to_json(&refs.container_stock)])?;
            while let Some(r) = rows.next()? {
                let (key, quantity) = stock_from_row(r)?;
                w.stock.insert(key, quantity);
            }
            w.whole_containers = refs.container_stock.clone();
        }
        if !refs.event_ids.is_empty() {
            let mut stmt = tx.prepare_cached(
                "SELECT event_id FROM events
                 WHERE event_id IN (SELECT value FROM json_each(?1)) AND outcome = 'applied'",
            )?;
            let rows = stmt.query_map([to_json(&refs.event_ids)], |r| r.get::<_, String>(0))?;
            for id in rows {
                w.applied_events.insert(parse_uuid(&id?)?);
            }
        }
        if !refs.location_stock.is_empty() {
            let sql = format!(
                "{STOCK_COLUMNS} FROM json_each(?2) AS k
                 CROSS JOIN stock AS s INDEXED BY stock_by_location
                 ON s.warehouse_id = ?1 AND s.location = k.value"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![wh, to_json(&refs.location_stock)])?;
            while let Some(r) = rows.next()? {
                let (key, quantity) = stock_from_row(r)?;
                w.stock.insert(key, quantity);
            }
        }
        if !refs.operators.is_empty() {
            let mut stmt = tx.prepare_cached(
                "SELECT id, data FROM operators WHERE warehouse_id = ?1 AND active = 1
                 AND id IN (SELECT value FROM json_each(?2))",
            )?;
            let mut rows = stmt.query(params![wh, to_json(&refs.operators)])?;
            while let Some(r) = rows.next()? {
                let data: String = r.get(1)?;
                w.operators
                    .insert(r.get(0)?, super::rows::operator_ref(&data)?);
            }
        }
        if !refs.counts.is_empty() {
            let mut stmt = tx.prepare_cached(
                "SELECT count_id, location, device_id, seq, operator_id, status, lines,
                     decided_by, counted_at_ms
                 FROM counts WHERE warehouse_id = ?1
                 AND count_id IN (SELECT value FROM json_each(?2))",
            )?;
            let mut rows = stmt.query(params![wh, to_json(&refs.counts)])?;
            while let Some(r) = rows.next()? {
                let (id, device, status, lines): (String, String, String, String) =
                    (r.get(0)?, r.get(2)?, r.get(5)?, r.get(6)?);
                let row = super::rows::count_row(
                    parse_uuid(&id)?,
                    r.get(1)?,
                    parse_uuid(&device)?,
                    r.get(3)?,
                    r.get(4)?,
                    &status,
                    &lines,
                    r.get(7)?,
                    r.get(8)?,
                )?;
                w.counts.insert(row.count_id, row);
            }
        }
        Ok(w)
    }

    async fn write(&mut self, effects: &[Effect]) -> Result<(), StoreError> {
        for effect in effects {
            self.write_one(effect)?;
        }
        Ok(())
    }

    async fn mark(&mut self) -> Result<(), StoreError> {
        self.tx.execute_batch("SAVEPOINT push_mark")?;
        Ok(())
    }

    async fn keep(&mut self) -> Result<(), StoreError> {
        self.tx.execute_batch("RELEASE push_mark")?;
        Ok(())
    }

    async fn undo(&mut self) -> Result<(), StoreError> {
        self.tx
            .execute_batch("ROLLBACK TO push_mark; RELEASE push_mark")?;
        Ok(())
    }
}

pub(super) const STOCK_COLUMNS: &str =
    "SELECT s.merchant_id, s.product_id, s.location, s.container, s.lot, s.expiry, s.condition,
         s.quantity";

/// The reservations `condition` selects (?1 is the warehouse).
pub(super) fn picks_where(
    tx: &Connection,
    condition: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<PickRow>, StoreError> {
    let sql = format!("{PICK_COLUMNS} WHERE warehouse_id = ?1 AND {condition}");
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let order: String = r.get(0)?;
        out.push(pick_row(
            parse_uuid(&order)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            [r.get(7)?, r.get(8)?, r.get(9)?],
            r.get(10)?,
        ));
    }
    Ok(out)
}

pub(super) fn stock_from_row(r: &rusqlite::Row<'_>) -> Result<(StockKey, i64), StoreError> {
    let key = stock_key([
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ])?;
    Ok((key, r.get(7)?))
}

impl SqliteLedger<'_, '_> {
    fn write_one(&mut self, effect: &Effect) -> Result<(), StoreError> {
        let (tx, wh) = (self.tx, self.wh);
        match effect {
            Effect::OpenReceipt {
                receipt_id,
                merchant_id,
                notice_id,
                device_id,
                dock,
            } => {
                tx.prepare_cached(
                    "INSERT INTO receipts (receipt_id, warehouse_id, merchant_id, notice_id,
                         device_id, dock)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    receipt_id.to_string(),
                    wh,
                    merchant_id,
                    notice_id,
                    device_id.to_string(),
                    dock
                ])?;
            }
            Effect::AddStock { key, delta, .. } => {
                tx.prepare_cached(
                    "INSERT INTO stock (warehouse_id, merchant_id, product_id, location, container,
                         lot, expiry, condition, quantity)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (warehouse_id, merchant_id, product_id, location, container, lot,
                         expiry, condition)
                     DO UPDATE SET quantity = quantity + excluded.quantity",
                )?
                .execute(params![
                    wh,
                    key.merchant_id,
                    key.product_id,
                    key.location,
                    key.container.as_deref().unwrap_or(""),
                    key.lot.as_deref().unwrap_or(""),
                    key.expiry.as_deref().unwrap_or(""),
                    key.condition.as_str(),
                    delta,
                ])?;
            }
            Effect::TallyReceipt {
                receipt_id,
                product_id,
                received,
                quarantined,
            } => {
                tx.prepare_cached(
                    "INSERT INTO receipt_tally (receipt_id, product_id, received, quarantined)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (receipt_id, product_id) DO UPDATE SET
                         received = received + excluded.received,
                         quarantined = quarantined + excluded.quarantined",
                )?
                .execute(params![
                    receipt_id.to_string(),
                    product_id,
                    received,
                    quarantined
                ])?;
            }
            Effect::ReceiptContainer {
                receipt_id,
                location,
                container,
            } => {
                tx.prepare_cached(
                    "INSERT INTO receipt_containers (warehouse_id, receipt_id, location, container)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    wh,
                    receipt_id.to_string(),
                    location,
                    container
                ])?;
            }
            Effect::CloseReceipt { receipt_id, lines } => {
                tx.prepare_cached(
                    "UPDATE receipts SET closed = 1, summary = ?2 WHERE receipt_id = ?1",
                )?
                .execute(params![receipt_id.to_string(), to_json(lines)])?;
            }
            Effect::SaveNotice(notice) => {
                tx.prepare_cached(
                    "UPDATE inbound_notices SET status = ?3, data = ?4
                     WHERE warehouse_id = ?1 AND id = ?2",
                )?
                .execute(params![
                    wh,
                    notice.id,
                    notice_status_str(notice.status),
                    to_json(notice)
                ])?;
            }
            Effect::SaveTask(row) => save_task(tx, wh, row)?,
            Effect::SaveOrder(row) => {
                let life = OrderLife::of(row);
                tx.prepare_cached(
                    "UPDATE orders SET status = ?3, status_reason = ?4, history = ?5, totes = ?6,
                         demand = ?7, modified_at_ms = ?8, packing = ?9
                     WHERE warehouse_id = ?1 AND order_id = ?2",
                )?
                .execute(params![
                    wh,
                    row.id.to_string(),
                    row.status.as_str(),
                    row.status_reason,
                    life.history,
                    life.totes,
                    life.demand,
                    row.modified_at_ms,
                    life.packing
                ])?;
            }
            Effect::SaveLabels { order_id, labels } => {
                for l in labels {
                    tx.prepare_cached(
                        "INSERT INTO order_labels (warehouse_id, order_id, parcel,
                             tracking_number, tracking_url, zpl, png)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT (warehouse_id, order_id, parcel) DO UPDATE SET
                             tracking_number = excluded.tracking_number,
                             tracking_url = excluded.tracking_url,
                             zpl = excluded.zpl, png = excluded.png",
                    )?
                    .execute(params![
                        wh,
                        order_id.to_string(),
                        l.parcel,
                        l.tracking_number,
                        l.tracking_url,
                        l.zpl,
                        l.png
                    ])?;
                }
            }
            Effect::SavePick(p) => {
                tx.prepare_cached(
                    "INSERT INTO picks (warehouse_id, order_id, line_id, merchant_id, product_id,
                         location, lot, expiry, quantity, picked, short, task_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                     ON CONFLICT (warehouse_id, order_id, line_id) DO UPDATE SET
                         quantity = excluded.quantity, picked = excluded.picked,
                         short = excluded.short, task_id = excluded.task_id",
                )?
                .execute(params![
                    wh,
                    p.order_id.to_string(),
                    p.line_id,
                    p.merchant_id,
                    p.product_id,
                    p.location,
                    p.lot.as_deref().unwrap_or(""),
                    p.expiry.as_deref().unwrap_or(""),
                    p.quantity,
                    p.picked,
                    p.short,
                    p.task_id
                ])?;
            }
            Effect::Publish {
                device,
                merchant_id,
                change,
            } => append(tx, wh, *device, merchant_id.as_deref(), change)?,
            Effect::Exception {
                exception: x,
                merchant_id,
            } => {
                tx.prepare_cached(
                    "INSERT INTO exceptions (warehouse_id, merchant_id, device_id, seq, event_id,
                         kind, message)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    wh,
                    merchant_id,
                    x.device_id.to_string(),
                    to_i64(x.seq)?,
                    x.event_id.to_string(),
                    x.kind,
                    x.message,
                ])?;
            }
            Effect::Override {
                device_id,
                seq,
                container,
                suggested,
                location,
                reason,
            } => {
                tx.prepare_cached(
                    "INSERT INTO putaway_overrides (warehouse_id, device_id, seq, container,
                         suggested, location, override_reason)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    wh,
                    device_id.to_string(),
                    to_i64(*seq)?,
                    container,
                    suggested,
                    location,
                    reason.map(OverrideReason::as_str),
                ])?;
            }
            Effect::ResolveException { device_id, seq, by } => {
                tx.prepare_cached(
                    "UPDATE exceptions SET resolved_by = ?4,
                         resolved_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                     WHERE warehouse_id = ?1 AND device_id = ?2 AND seq = ?3
                       AND resolved_by IS NULL",
                )?
                .execute(params![wh, device_id.to_string(), to_i64(*seq)?, by])?;
            }
            Effect::SaveReturn(r) => {
                tx.prepare_cached(
                    "INSERT INTO returns (warehouse_id, return_id, merchant_id, order_id,
                         reference, device_id, seq, location, tote, lines, received_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?
                .execute(params![
                    wh,
                    r.return_id.to_string(),
                    r.merchant_id,
                    r.order_id.to_string(),
                    r.reference,
                    r.device_id.to_string(),
                    to_i64(r.seq)?,
                    r.location,
                    r.tote,
                    to_json(&r.lines),
                    r.received_at_ms
                ])?;
            }
            Effect::DropReturnable {
                order_id,
                merchant_id,
            } => drop_returnable(tx, wh, *order_id, merchant_id)?,
            Effect::PruneReturnables { now_ms } => {
                tx.prepare_cached(
                    "DELETE FROM changes WHERE cursor IN (
                         SELECT cursor FROM changes
                         WHERE warehouse_id = ?1 AND entity = 'returnable_order'
                         ORDER BY cursor LIMIT ?3)
                       AND json_extract(data, '$.keep_until_ms') <= ?2",
                )?
                .execute(params![
                    wh,
                    now_ms,
                    crate::shipping::PRUNED_PER_SHIPMENT
                ])?;
            }
            Effect::Notify(n) => {
                tx.prepare_cached(
                    "INSERT INTO webhook_events (warehouse_id, event_id, merchant_id, kind,
                         subject, body, created_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    wh,
                    n.event_id.to_string(),
                    n.merchant_id,
                    n.kind.as_str(),
                    n.subject,
                    n.body(),
                    n.created_at_ms
                ])?;
            }
            Effect::SaveCount(c) => {
                tx.prepare_cached(
                    "INSERT INTO counts (warehouse_id, count_id, location, device_id, seq,
                         operator_id, status, lines, decided_by, counted_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (warehouse_id, count_id) DO UPDATE SET
                         status = excluded.status, decided_by = excluded.decided_by",
                )?
                .execute(params![
                    wh,
                    c.count_id.to_string(),
                    c.location,
                    c.device_id.to_string(),
                    to_i64(c.seq)?,
                    c.operator_id,
                    c.status.as_str(),
                    to_json(&c.lines),
                    c.decided_by,
                    c.counted_at_ms
                ])?;
            }
            Effect::BinFull {
                device_id,
                seq,
                location,
            } => {
                tx.prepare_cached(
                    "INSERT INTO bins_full (warehouse_id, location, device_id, seq)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (warehouse_id, location) DO UPDATE SET
                         device_id = excluded.device_id, seq = excluded.seq",
                )?
                .execute(params![
                    wh,
                    location,
                    device_id.to_string(),
                    to_i64(*seq)?
                ])?;
            }
        }
        Ok(())
    }
}

/// Lines of a receipt: the operator's summary once closed; while open, the notice's expected
/// quantities merged with what was received so far.
fn receipt_lines(
    conn: &Connection,
    wh: &str,
    receipt_id: &str,
    notice_id: Option<&str>,
    summary: Option<String>,
) -> Result<Vec<ReceiptLineSummary>, StoreError> {
    if let Some(summary) = summary {
        return from_json(&summary);
    }
    let mut notice: Option<InboundNotice> = None;
    if let Some(notice_id) = notice_id {
        let data: Option<String> = conn
            .prepare_cached("SELECT data FROM inbound_notices WHERE warehouse_id = ?1 AND id = ?2")?
            .query_row(params![wh, notice_id], |r| r.get(0))
            .optional()?;
        notice = data.map(|d| from_json(&d)).transpose()?;
    }
    let mut stmt = conn.prepare_cached(
        "SELECT product_id, received, quarantined FROM receipt_tally
         WHERE receipt_id = ?1 ORDER BY product_id",
    )?;
    let tally = stmt
        .query_map([receipt_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(open_receipt_lines(notice, tally))
}

const RECEIPT_COLUMNS: &str =
    "SELECT receipt_id, merchant_id, notice_id, device_id, dock, closed, summary FROM receipts";

fn receipt_from_row(
    conn: &Connection,
    wh: &str,
    r: &rusqlite::Row<'_>,
) -> Result<ReceiptView, StoreError> {
    let receipt_id: String = r.get("receipt_id")?;
    let notice_id: Option<String> = r.get("notice_id")?;
    let device_id: String = r.get("device_id")?;
    let summary: Option<String> = r.get("summary")?;
    let lines = receipt_lines(conn, wh, &receipt_id, notice_id.as_deref(), summary)?;
    Ok(ReceiptView {
        receipt_id: parse_uuid(&receipt_id)?,
        merchant_id: r.get("merchant_id")?,
        notice_id,
        device_id: parse_uuid(&device_id)?,
        dock: r.get("dock")?,
        closed: r.get("closed")?,
        lines,
    })
}

/// The blocking calls, one per method of the storage traits; [`Sqlite`] runs them off the async
/// runtime. Tools and tests with no runtime (restoring a backup, seeding a file) call them
/// directly.
impl SqliteStore {
    pub fn warehouse_id(&self) -> &str {
        &self.warehouse_id
    }

    pub fn store_enrolment_code(&self, code: &CodeToStore) -> Result<EnrolmentCode, StoreError> {
        let now = self.clock.now_ms();
        self.write(|tx| {
            let id = put_code(tx, &self.warehouse_id, code, now)?;
            listed_codes(tx, &self.warehouse_id, Some(id), None)?
                .pop()
                .ok_or_else(|| corrupt(format!("enrolment code {id} was not stored")))
        })
    }

    pub fn enrolment_codes(&self, page: &Page) -> Result<Vec<EnrolmentCode>, StoreError> {
        self.read(|conn| listed_codes(conn, &self.warehouse_id, None, Some(page)))
    }

    pub fn revoke_enrolment_code(&self, id: Uuid) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE enrolment_codes SET expires_at_ms = ?3
                     WHERE warehouse_id = ?1 AND code_id = ?2 AND expires_at_ms > ?3",
                )?
                .execute(params![self.warehouse_id, id.to_string(), now])?;
            Ok(n > 0)
        })
    }

    pub fn store_api_key(&self, key: &KeyToStore) -> Result<ApiKey, StoreError> {
        let now = self.clock.now_ms();
        let wh = self.warehouse_id.as_str();
        self.write(|tx| {
            if let Some(m) = &key.merchant_id
                && !merchant_exists(tx, wh, m)?
            {
                return Err(StoreError::invalid(format!(
                    "merchant {m} is not known: send the merchant first (POST {})",
                    laituri_protocol::paths::MERCHANTS
                )));
            }
            tx.prepare_cached(
                "INSERT INTO api_keys (warehouse_id, key_id, key_hash, scope, merchant_id, note,
                     created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                wh,
                key.id.to_string(),
                key.key_hash,
                keys::scope_str(key.scope),
                key.merchant_id,
                key.note,
                now
            ])?;
            Ok(ApiKey {
                id: key.id,
                scope: key.scope,
                merchant_id: key.merchant_id.clone(),
                note: key.note.clone(),
                created_at_ms: now,
                revoked_at_ms: None,
            })
        })
    }

    pub fn api_keys(&self, page: &Page) -> Result<Vec<ApiKey>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT key_id, scope, merchant_id, note, created_at_ms, revoked_at_ms
                 FROM api_keys WHERE warehouse_id = ?1 AND key_id > ?2 ORDER BY key_id LIMIT ?3",
            )?;
            let after = page.after.as_deref().unwrap_or("");
            let rows = stmt.query_map(params![self.warehouse_id, after, page.limit], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })?;
            rows.map(|row| {
                let (id, scope, merchant_id, note, created_at_ms, revoked_at_ms) = row?;
                Ok(ApiKey {
                    id: parse_uuid(&id)?,
                    scope: keys::parse_scope(&scope)
                        .ok_or_else(|| corrupt(format!("key {id} has scope {scope:?}")))?,
                    merchant_id,
                    note,
                    created_at_ms,
                    revoked_at_ms,
                })
            })
            .collect()
        })
    }

    pub fn revoke_api_key(&self, id: Uuid) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE api_keys SET revoked_at_ms = ?3
                     WHERE warehouse_id = ?1 AND key_id = ?2 AND revoked_at_ms IS NULL",
                )?
                .execute(params![self.warehouse_id, id.to_string(), now])?;
            Ok(n > 0)
        })
    }

    pub fn api_key_scope(&self, key_hash: &str) -> Result<Option<Scope>, StoreError> {
        self.read(|conn| {
            let row = conn
                .prepare_cached(
                    "SELECT scope, merchant_id FROM api_keys
                     WHERE warehouse_id = ?1 AND key_hash = ?2 AND revoked_at_ms IS NULL",
                )?
                .query_row(params![self.warehouse_id, key_hash], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                })
                .optional()?;
            Ok(row
                .and_then(|(scope, merchant)| keys::scope_of(keys::parse_scope(&scope)?, merchant)))
        })
    }

    pub fn enrol_device(
        &self,
        req: &EnrolRequest,
        token_hash: &str,
        presented_token_hash: Option<&str>,
    ) -> Result<u64, StoreError> {
        let code_hash = enrolment::code_hash(&req.enrolment_code);
        let device = req.device_id.to_string();
        let wh = &self.warehouse_id;
        let now_ms = self.clock.now_ms();
        self.write(|tx| {
            // Device ids are unique in the whole file (the primary key), whatever the warehouse.
            let known: Option<(String, Option<String>)> = tx
                .prepare_cached(
                    "SELECT token_hash, continued_by FROM devices WHERE device_id = ?1",
                )?
                .query_row([&device], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((_, Some(successor))) = &known {
                return Err(enrolment::continued_device(
                    req.device_id,
                    parse_uuid(successor)?,
                ));
            }
            let enrolled = known.map(|(hash, _)| hash);
            let code = tx
                .prepare_cached(
                    "SELECT code_id, device_id, uses_left, expires_at_ms,
                         EXISTS (SELECT 1 FROM enrolment_code_uses u
                                 WHERE u.warehouse_id = c.warehouse_id
                                   AND u.code_id = c.code_id AND u.device_id = ?3)
                     FROM enrolment_codes c WHERE c.warehouse_id = ?1 AND c.code_hash = ?2",
                )?
                .query_row(params![wh, code_hash, device], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        [r.get(2)?, r.get(3)?],
                        r.get(4)?,
                    ))
                })
                .optional()?
                .map(|(id, for_device, [uses_left, expires_at_ms], again)| {
                    Ok::<_, StoreError>(StoredCode {
                        id: parse_uuid(&id)?,
                        device_id: for_device.as_deref().map(parse_uuid).transpose()?,
                        uses_left,
                        expires_at_ms,
                        enrolled_this_device: again,
                    })
                })
                .transpose()?;
            let admission = enrolment::admit(&Claim {
                device_id: req.device_id,
                enrolled_token_hash: enrolled.as_deref(),
                presented_token_hash,
                code: code.as_ref(),
                now_ms,
            })?;
            if let Admission::NewUse { code_id } = admission {
                let code_id = code_id.to_string();
                tx.prepare_cached(
                    "UPDATE enrolment_codes SET uses_left = uses_left - 1
                     WHERE warehouse_id = ?1 AND code_id = ?2",
                )?
                .execute(params![wh, code_id])?;
                tx.prepare_cached(
                    "INSERT INTO enrolment_code_uses (warehouse_id, code_id, device_id, at_ms)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![wh, code_id, device, now_ms])?;
            }
            // Re-enrolling keeps the device's history (and last_seq) and replaces its token.
            let sql = if enrolled.is_some() {
                "UPDATE devices SET name = ?3, token_hash = ?4 WHERE device_id = ?1"
            } else {
                "INSERT INTO devices (device_id, warehouse_id, name, token_hash)
                 VALUES (?1, ?2, ?3, ?4)"
            };
            tx.prepare_cached(sql)?
                .execute(params![device, wh, req.device_name, token_hash])?;
            let last_seq: i64 = tx
                .prepare_cached("SELECT last_seq FROM devices WHERE device_id = ?1")?
                .query_row([&device], |r| r.get(0))?;
            Ok(last_seq as u64)
        })
    }

    pub fn device_for_token(&self, token_hash: &str) -> Result<Option<Uuid>, StoreError> {
        self.read(|conn| {
            let id: Option<String> = conn
                .prepare_cached(
                    "SELECT device_id FROM devices
                     WHERE token_hash = ?1 AND warehouse_id = ?2 AND continued_by IS NULL",
                )?
                .query_row(params![token_hash, self.warehouse_id], |r| r.get(0))
                .optional()?;
            id.map(|s| parse_uuid(&s)).transpose()
        })
    }

    pub fn continue_device(
        &self,
        presented_token_hash: &str,
        new_device_id: Uuid,
        device_name: &str,
        token_hash: &str,
    ) -> Result<Option<Continued>, StoreError> {
        let wh = self.warehouse_id.as_str();
        let new = new_device_id.to_string();
        self.write(|tx| {
            let old: Option<(String, Option<String>)> = tx
                .prepare_cached(
                    "SELECT device_id, continued_by FROM devices
                     WHERE token_hash = ?1 AND warehouse_id = ?2",
                )?
                .query_row(params![presented_token_hash, wh], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let Some((old, successor)) = old else {
                return Ok(None);
            };
            let old = parse_uuid(&old)?;
            let successor = successor.as_deref().map(parse_uuid).transpose()?;
            // Device ids are unique in the whole file (the primary key), whatever the warehouse.
            let new_known = tx
                .prepare_cached("SELECT 1 FROM devices WHERE device_id = ?1")?
                .query_row([&new], |_| Ok(()))
                .optional()?
                .is_some();
            match enrolment::continuation(old, successor, new_device_id, new_known)? {
                Continuation::Again => {
                    tx.prepare_cached(
                        "UPDATE devices SET name = ?2, token_hash = ?3 WHERE device_id = ?1",
                    )?
                    .execute(params![new, device_name, token_hash])?;
                }
                Continuation::New => {
                    tx.prepare_cached(
                        "INSERT INTO devices (device_id, warehouse_id, name, token_hash, continues)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![
                        new,
                        wh,
                        device_name,
                        token_hash,
                        old.to_string()
                    ])?;
                    tx.prepare_cached(
                        "UPDATE devices SET continued_by = ?2,
                             continued_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                         WHERE device_id = ?1",
                    )?
                    .execute(params![old.to_string(), new])?;
                    let held = {
                        let sql =
                            format!("{TASK_COLUMNS} WHERE warehouse_id = ?1 AND leased_to = ?2");
                        let mut stmt = tx.prepare_cached(&sql)?;
                        let mut rows = stmt.query(params![wh, old.to_string()])?;
                        let mut held = Vec::new();
                        while let Some(r) = rows.next()? {
                            held.push(task_from_row(r)?);
                        }
                        held
                    };
                    for row in held {
                        let Some(next) = tasks::hand_over(&row, old, new_device_id) else {
                            continue;
                        };
                        if next.task.status == TaskStatus::Leased {
                            publish_task(tx, wh, &next)?;
                        } else {
                            save_task(tx, wh, &next)?;
                        }
                    }
                }
            }
            let last_seq: i64 = tx
                .prepare_cached("SELECT last_seq FROM devices WHERE device_id = ?1")?
                .query_row([&new], |r| r.get(0))?;
            Ok(Some(Continued {
                continues: old,
                last_seq: last_seq as u64,
            }))
        })
    }

    pub fn push(&self, device_id: Uuid, events: &[Event]) -> Result<PushResponse, StoreError> {
        let attempt = |writing| {
            self.write(|tx| {
                let mut ledger = SqliteLedger {
                    tx,
                    wh: &self.warehouse_id,
                    now_ms: self.now_ms(),
                };
                push::at_once(push::push_batch(&mut ledger, device_id, events, writing))
            })
        };
        // Rolled back after a refusal, the batch is pushed again event by event (see `push`).
        match attempt(push::Writing::AtOnce) {
            Err(e) if push::refused(&e) => attempt(push::Writing::EventByEvent),
            answer => answer,
        }
    }

    pub fn pull(
        &self,
        device_id: Uuid,
        cursor: u64,
        limit: u32,
    ) -> Result<PullResponse, StoreError> {
        let cursor_i = to_i64(cursor)?;
        self.read(|conn| {
            // One row more than asked tells whether another page waits, without a COUNT.
            let mut stmt = conn.prepare_cached(
                "SELECT cursor, entity, data FROM changes
                 WHERE cursor > ?1 AND warehouse_id = ?2
                     AND (device_id IS NULL OR device_id = ?4)
                 ORDER BY cursor LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![
                cursor_i,
                self.warehouse_id,
                i64::from(limit) + 1,
                device_id.to_string()
            ])?;
            let mut changes = Vec::with_capacity(limit.min(5000) as usize);
            let mut has_more = false;
            while let Some(row) = rows.next()? {
                if changes.len() == limit as usize {
                    has_more = true;
                    break;
                }
                let c: i64 = row.get(0)?;
                let entity: String = row.get(1)?;
                let data: String = row.get(2)?;
                changes.push(ChangeRecord {
                    cursor: c as u64,
                    change: change_from_row(&entity, &data)?,
                });
            }
            let next_cursor = changes.last().map_or(cursor, |c| c.cursor);
            Ok(PullResponse {
                changes,
                next_cursor,
                has_more,
                epoch: epoch_of(conn, &self.warehouse_id)?,
            })
        })
    }

    pub fn epoch(&self) -> Result<String, StoreError> {
        self.read(|conn| epoch_of(conn, &self.warehouse_id))
    }

    pub fn new_epoch(&self) -> Result<String, StoreError> {
        let epoch = new_epoch_id();
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO change_epoch (warehouse_id, epoch) VALUES (?1, ?2)
                 ON CONFLICT (warehouse_id) DO UPDATE SET
                     epoch = excluded.epoch,
                     created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            )?
            .execute(params![self.warehouse_id, epoch])?;
            Ok(())
        })?;
        Ok(epoch)
    }

    pub fn lease(&self, device_id: Uuid, req: &LeaseRequest) -> Result<WorkPacket, StoreError> {
        let now = self.clock.now_ms();
        let wh = self.warehouse_id.as_str();
        self.write(|tx| {
            let row = match lease_target(req)? {
                LeaseTarget::Task(id) => load_task(tx, wh, id)?.ok_or_else(|| unknown_task(id))?,
                LeaseTarget::Next(kind) => {
                    next_task(tx, wh, kind, now)?.ok_or_else(|| no_task(kind))?
                }
            };
            let grant = tasks::grant(&row, device_id, now).map_err(|r| lease_refusal(&row, r))?;
            let packet = work_packet(tx, wh, &grant.row)?;
            publish_task(tx, wh, &grant.row)?;
            if let Some(loser) = grant.taken_from {
                remove_packet(tx, wh, loser, &grant.row)?;
            }
            append(
                tx,
                wh,
                Some(device_id),
                Some(&grant.row.task.merchant_id),
                &Change::WorkPacket(packet.clone()),
            )?;
            Ok(packet)
        })
    }

    pub fn renew(&self, device_id: Uuid, req: &RenewRequest) -> Result<RenewResponse, StoreError> {
        let now = self.clock.now_ms();
        let wh = self.warehouse_id.as_str();
        self.write(|tx| {
            let mut out = RenewResponse {
                renewed: Vec::new(),
                lost: Vec::new(),
            };
            for claim in &req.leases {
                let row = load_task(tx, wh, &claim.task_id)?;
                match tasks::renew(row.as_ref(), device_id, claim, now) {
                    Renewal::Renewed(next) => {
                        save_task(tx, wh, &next)?;
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
            Ok(out)
        })
    }

    pub fn release(&self, device_id: Uuid, claim: &TaskClaim) -> Result<(), StoreError> {
        let wh = self.warehouse_id.as_str();
        self.write(|tx| {
            let row = load_task(tx, wh, &claim.task_id)?
                .ok_or_else(|| nothing_to_release(&claim.task_id))?;
            if let Some(next) = tasks::release(&row, device_id, claim) {
                publish_task(tx, wh, &next)?;
                remove_packet(tx, wh, device_id, &next)?;
            }
            Ok(())
        })
    }

    pub fn tasks(&self, page: &Page) -> Result<Vec<Task>, StoreError> {
        self.read(|conn| {
            let sql = format!(
                "{TASK_COLUMNS} WHERE warehouse_id = ?1
                     AND (?2 IS NULL OR rowid > (SELECT rowid FROM tasks
                                                 WHERE warehouse_id = ?1 AND task_id = ?2))
                 ORDER BY rowid LIMIT ?3"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![self.warehouse_id, page.after, page.limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(task_from_row(r)?.public());
            }
            Ok(out)
        })
    }

    pub fn deactivate_operator(&self, operator_id: &str) -> Result<bool, StoreError> {
        let wh = self.warehouse_id.as_str();
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE operators SET active = 0
                     WHERE warehouse_id = ?1 AND id = ?2 AND active = 1",
                )?
                .execute(params![wh, operator_id])?;
            if n == 0 {
                return Ok(false);
            }
            let removed = Change::Removed(Removed {
                kind: EntityKind::Operator,
                id: operator_id.to_string(),
            });
            append(tx, wh, None, None, &removed)?;
            Ok(true)
        })
    }

    pub fn upsert_merchants(&self, items: &[Merchant]) -> Result<UpsertSummary, StoreError> {
        let wh = self.warehouse_id.as_str();
        self.write(|tx| {
            let mut changed = 0;
            for m in items {
                let data = to_json(m);
                if unchanged(tx, "merchants", "id", wh, &m.id, &data)? {
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO merchants (warehouse_id, id, data) VALUES (?1, ?2, ?3)
                     ON CONFLICT (warehouse_id, id) DO UPDATE SET data = excluded.data",
                )?
                .execute(params![wh, m.id, data])?;
                append_change(tx, wh, "merchant", &m.id, Some(&m.id), &data)?;
                changed += 1;
            }
            Ok(UpsertSummary {
                received: items.len(),
                changed,
            })
        })
    }

    pub fn upsert_products(&self, items: &[Product]) -> Result<UpsertSummary, StoreError> {
        let wh = self.warehouse_id.as_str();
        self.write(|tx| {
            let mut changed = 0;
            for p in items {
                check_product(
                    p,
                    merchant_exists(tx, wh, &p.merchant_id)?,
                    product_merchant(tx, wh, &p.id)?.as_deref(),
                )?;
                let data = to_json(p);
                if unchanged(tx, "products", "id", wh, &p.id, &data)? {
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO products (warehouse_id, id, merchant_id, data) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (warehouse_id, id) DO UPDATE SET
                         merchant_id = excluded.merchant_id, data = excluded.data",
                )?
                .execute(params![wh, p.id, p.merchant_id, data])?;
                append_change(tx, wh, "product", &p.id, Some(&p.merchant_id), &data)?;
                changed += 1;
            }
            Ok(UpsertSummary {
                received: items.len(),
                changed,
            })
        })
    }

    pub fn upsert_locations(&self, items: &[Location]) -> Result<UpsertSummary, StoreError> {
        let wh = self.warehouse_id.as_str();
        self.write(|tx| {
            let mut changed = 0;
            for l in items {
                let data = to_json(l);
                if unchanged(tx, "locations", "code", wh, &l.code, &data)? {
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO locations (warehouse_id, code, kind, data) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (warehouse_id, code) DO UPDATE SET
                         kind = excluded.kind, data = excluded.data",
                )?
                .execute(params![wh, l.code, l.kind.as_str(), data])?;
                append_change(tx, wh, "location", &l.code, None, &data)?;
                changed += 1;
            }
            Ok(UpsertSummary {
                received: items.len(),
                changed,
            })
        })
    }

    pub fn upsert_operators(&self, items: &[Operator]) -> Result<UpsertSummary, StoreError> {
        let wh = self.warehouse_id.as_str();
        self.write(|tx| {
            let mut changed = 0;
            for o in items {
                let holder: Option<String> = tx
                    .prepare_cached(
                        "SELECT id FROM operators WHERE warehouse_id = ?1 AND badge = ?2",
                    )?
                    .query_row(params![wh, o.badge], |r| r.get(0))
                    .optional()?;
                check_badge(o, holder.as_deref())?;
                let stored: Option<Operator> = tx
                    .prepare_cached("SELECT data FROM operators WHERE warehouse_id = ?1 AND id = ?2")?
                    .query_row(params![wh, o.id], |r| r.get::<_, String>(0))
                    .optional()?
                    .map(|data| from_json(&data))
                    .transpose()?;
                let o = &o
                    .clone()
                    .with_pin_hashed(stored.and_then(|s| s.pin_hash).as_deref());
                let data = to_json(o);
                // Sending a deactivated operator again brings them back, even unchanged.
                let active = tx
                    .prepare_cached(
                        "SELECT 1 FROM operators WHERE warehouse_id = ?1 AND id = ?2 AND active = 1",
                    )?
                    .query_row(params![wh, o.id], |_| Ok(()))
                    .optional()?
                    .is_some();
                if active && unchanged(tx, "operators", "id", wh, &o.id, &data)? {
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO operators (warehouse_id, id, badge, data) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (warehouse_id, id) DO UPDATE SET
                         badge = excluded.badge, data = excluded.data, active = 1",
                )?
                .execute(params![wh, o.id, o.badge, data])?;
                append_change(tx, wh, "operator", &o.id, None, &data)?;
                changed += 1;
            }
            Ok(UpsertSummary {
                received: items.len(),
                changed,
            })
        })
    }

    pub fn upsert_notices(&self, items: &[InboundNotice]) -> Result<UpsertSummary, StoreError> {
        let wh = self.warehouse_id.as_str();
        self.write(|tx| {
            let mut changed = 0;
            for n in items {
                check_notice(n, merchant_exists(tx, wh, &n.merchant_id)?, |product| {
                    product_merchant(tx, wh, product)
                })?;
                let stored: Option<String> = tx
                    .prepare_cached(
                        "SELECT data FROM inbound_notices WHERE warehouse_id = ?1 AND id = ?2",
                    )?
                    .query_row(params![wh, n.id], |r| r.get(0))
                    .optional()?;
                let n = &settle_notice(n, stored.as_deref())?;
                let data = to_json(n);
                if unchanged(tx, "inbound_notices", "id", wh, &n.id, &data)? {
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO inbound_notices (warehouse_id, id, merchant_id, status, data)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (warehouse_id, id) DO UPDATE SET
                         merchant_id = excluded.merchant_id, status = excluded.status,
                         data = excluded.data",
                )?
                .execute(params![
                    wh,
                    n.id,
                    n.merchant_id,
                    notice_status_str(n.status),
                    data
                ])?;
                append_change(tx, wh, "inbound_notice", &n.id, Some(&n.merchant_id), &data)?;
                changed += 1;
            }
            Ok(UpsertSummary {
                received: items.len(),
                changed,
            })
        })
    }

    pub fn merchants(&self, page: &Page, scope: &Scope) -> Result<Vec<Merchant>, StoreError> {
        self.list_scoped(
            "SELECT data FROM merchants WHERE warehouse_id = ?1 AND id > ?2
                 AND (?4 IS NULL OR id = ?4)
             ORDER BY id LIMIT ?3",
            page,
            scope,
        )
    }

    pub fn products(&self, page: &Page, scope: &Scope) -> Result<Vec<Product>, StoreError> {
        self.list_scoped(
            "SELECT data FROM products WHERE warehouse_id = ?1 AND id > ?2
                 AND (?4 IS NULL OR merchant_id = ?4)
             ORDER BY id LIMIT ?3",
            page,
            scope,
        )
    }

    pub fn locations(&self, page: &Page) -> Result<Vec<Location>, StoreError> {
        self.list(
            "SELECT data FROM locations WHERE warehouse_id = ?1 AND code > ?2 ORDER BY code LIMIT ?3",
            page,
        )
    }

    pub fn operators(&self, page: &Page) -> Result<Vec<Operator>, StoreError> {
        self.list(
            "SELECT data FROM operators WHERE warehouse_id = ?1 AND active = 1 AND id > ?2
             ORDER BY id LIMIT ?3",
            page,
        )
    }

    pub fn notices(&self, page: &Page, scope: &Scope) -> Result<Vec<InboundNotice>, StoreError> {
        self.list_scoped(
            "SELECT data FROM inbound_notices WHERE warehouse_id = ?1 AND id > ?2
                 AND (?4 IS NULL OR merchant_id = ?4)
             ORDER BY id LIMIT ?3",
            page,
            scope,
        )
    }

    pub fn devices(&self, page: &Page) -> Result<Vec<DeviceView>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT device_id, name, last_seq, enrolled_at, continues, continued_by,
                     continued_at
                 FROM devices WHERE warehouse_id = ?1 AND device_id > ?2
                 ORDER BY device_id LIMIT ?3",
            )?;
            let after = page.after.as_deref().unwrap_or("");
            let rows = stmt.query_map(params![self.warehouse_id, after, page.limit], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })?;
            rows.map(|row| {
                let (id, name, last_seq, enrolled_at, continues, continued_by, continued_at) = row?;
                Ok(DeviceView {
                    device_id: parse_uuid(&id)?,
                    name,
                    last_seq: last_seq as u64,
                    enrolled_at,
                    continues: continues.as_deref().map(parse_uuid).transpose()?,
                    continued_by: continued_by.as_deref().map(parse_uuid).transpose()?,
                    continued_at,
                })
            })
            .collect()
        })
    }

    pub fn notices_by_id(&self, ids: &[String]) -> Result<Vec<InboundNotice>, StoreError> {
        let ids = serde_json::to_string(ids).map_err(corrupt)?;
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT data FROM inbound_notices
                 WHERE warehouse_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
            )?;
            let rows =
                stmt.query_map(params![self.warehouse_id, ids], |r| r.get::<_, String>(0))?;
            rows.map(|data| from_json(&data?)).collect()
        })
    }

    pub fn stock(&self, filter: &StockFilter) -> Result<Vec<StockRow>, StoreError> {
        self.read(|conn| {
            let mut sql = String::from(
                "SELECT merchant_id, product_id, location, container, lot, expiry, condition, quantity
                 FROM stock WHERE warehouse_id = ?1 AND quantity <> 0",
            );
            let mut args: Vec<&str> = vec![&self.warehouse_id];
            for (column, value) in stock_conditions(filter) {
                args.push(value);
                sql.push_str(&format!(" AND {column} = ?{}", args.len()));
            }
            if let Some(after) = &filter.after {
                let first = args.len() + 1;
                args.extend(after.iter().map(String::as_str));
                sql.push_str(&format!(
                    " AND (merchant_id, product_id, location, container, lot, expiry, condition) > \
                     (?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
                    first,
                    first + 1,
                    first + 2,
                    first + 3,
                    first + 4,
                    first + 5,
                    first + 6
                ));
            }
            let limit = filter.limit.max(1).to_string();
            args.push(&limit);
            sql.push_str(&format!(
                " ORDER BY merchant_id, product_id, location, container, lot, expiry, condition \
                 LIMIT CAST(?{} AS INTEGER)",
                args.len()
            ));
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
                Ok(StoredStock {
                    merchant_id: r.get(0)?,
                    product_id: r.get(1)?,
                    location: r.get(2)?,
                    container: r.get(3)?,
                    lot: r.get(4)?,
                    expiry: r.get(5)?,
                    condition: r.get(6)?,
                    quantity: r.get(7)?,
                })
            })?;
            rows.map(|row| row?.into_row()).collect()
        })
    }

    pub fn stock_summaries(
        &self,
        filter: &SummaryFilter,
        scope: &Scope,
    ) -> Result<Vec<StockSummary>, StoreError> {
        self.read(|conn| {
            let wh = &self.warehouse_id;
            let mut stmt = conn.prepare_cached(
                "SELECT id, merchant_id FROM products
                 WHERE warehouse_id = ?1 AND (?2 IS NULL OR merchant_id = ?2)
                   AND (?3 IS NULL OR id = ?3) AND (?4 IS NULL OR id > ?4)
                 ORDER BY id LIMIT ?5",
            )?;
            let products: Vec<(String, String)> = stmt
                .query_map(
                    params![
                        wh,
                        scope.merchant(),
                        filter.product_id,
                        filter.page.after,
                        filter.page.limit.max(1)
                    ],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?
                .collect::<Result<_, _>>()?;
            let ids = to_json(&products.iter().map(|(id, _)| id).collect::<Vec<_>>());
            let mut stmt = conn.prepare_cached(
                "SELECT s.merchant_id, s.product_id, s.location, s.container, s.lot, s.expiry,
                     s.condition, s.quantity, l.kind
                 FROM stock s LEFT JOIN locations l
                     ON l.warehouse_id = s.warehouse_id AND l.code = s.location
                 WHERE s.warehouse_id = ?1 AND s.quantity <> 0
                   AND s.product_id IN (SELECT value FROM json_each(?2))
                 ORDER BY s.product_id, s.location, s.container, s.lot, s.expiry, s.condition",
            )?;
            let mut rows = Vec::new();
            let mut q = stmt.query(params![wh, ids])?;
            while let Some(r) = q.next()? {
                let kind: Option<String> = r.get(8)?;
                let row = StoredStock {
                    merchant_id: r.get(0)?,
                    product_id: r.get(1)?,
                    location: r.get(2)?,
                    container: r.get(3)?,
                    lot: r.get(4)?,
                    expiry: r.get(5)?,
                    condition: r.get(6)?,
                    quantity: r.get(7)?,
                }
                .into_row()?;
                rows.push((row, kind.as_deref().and_then(LocationKind::parse)));
            }
            let picks = picks_where(
                conn,
                "product_id IN (SELECT value FROM json_each(?2)) AND quantity > picked + short",
                params![wh, ids],
            )?;
            Ok(summaries(&products, rows, &picks, filter.by_location))
        })
    }

    pub fn receipts(&self, page: &Page, scope: &Scope) -> Result<Vec<ReceiptView>, StoreError> {
        self.read(|conn| {
            // Keyset by the order receipts were opened in; `after` names the last receipt seen.
            let sql = format!(
                "{RECEIPT_COLUMNS} WHERE warehouse_id = ?1
                     AND (?2 IS NULL OR rowid > (SELECT rowid FROM receipts
                                                 WHERE warehouse_id = ?1 AND receipt_id = ?2))
                     AND (?4 IS NULL OR merchant_id = ?4)
                 ORDER BY rowid LIMIT ?3"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![
                self.warehouse_id,
                page.after,
                page.limit,
                scope.merchant()
            ])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(receipt_from_row(conn, &self.warehouse_id, r)?);
            }
            Ok(out)
        })
    }

    pub fn receipt(
        &self,
        receipt_id: Uuid,
        scope: &Scope,
    ) -> Result<Option<ReceiptView>, StoreError> {
        self.read(|conn| {
            let sql = format!(
                "{RECEIPT_COLUMNS} WHERE warehouse_id = ?1 AND receipt_id = ?2
                     AND (?3 IS NULL OR merchant_id = ?3)"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![
                self.warehouse_id,
                receipt_id.to_string(),
                scope.merchant()
            ])?;
            match rows.next()? {
                Some(r) => Ok(Some(receipt_from_row(conn, &self.warehouse_id, r)?)),
                None => Ok(None),
            }
        })
    }

    /// Returns by [`ReturnFilter`], or the one return `only`.
    pub fn returns(
        &self,
        filter: &ReturnFilter,
        scope: &Scope,
        only: Option<Uuid>,
    ) -> Result<Vec<ReturnView>, StoreError> {
        let after = i64::try_from(filter.after).unwrap_or(i64::MAX);
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, return_id, merchant_id, order_id, reference, location, tote, lines,
                     received_at_ms
                 FROM returns WHERE warehouse_id = ?1 AND id > ?2
                     AND (?4 IS NULL OR merchant_id = ?4)
                     AND (?5 IS NULL OR order_id = ?5)
                     AND (?6 IS NULL OR return_id = ?6)
                 ORDER BY id LIMIT ?3",
            )?;
            let rows = stmt.query_map(
                params![
                    self.warehouse_id,
                    after,
                    filter.limit.max(1),
                    scope.merchant(),
                    filter.order_id.map(|o| o.to_string()),
                    only.map(|r| r.to_string())
                ],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, i64>(8)?,
                    ))
                },
            )?;
            rows.map(|row| {
                let (id, return_id, merchant_id, order_id, reference, location, tote, lines, at) =
                    row?;
                Ok(ReturnView {
                    return_id: parse_uuid(&return_id)?,
                    id: id as u64,
                    merchant_id,
                    order_id: parse_uuid(&order_id)?,
                    reference,
                    location,
                    tote,
                    lines: from_json(&lines)?,
                    received_at_ms: at,
                })
            })
            .collect()
        })
    }

    pub fn exceptions(
        &self,
        after: u64,
        limit: u32,
        scope: &Scope,
    ) -> Result<Vec<ExceptionView>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT device_id, seq, event_id, kind, message, resolved_by, resolved_at,
                     id, merchant_id
                 FROM exceptions WHERE warehouse_id = ?1 AND id > ?2
                     AND (?4 IS NULL OR merchant_id = ?4)
                 ORDER BY id LIMIT ?3",
            )?;
            let rows = stmt.query_map(
                params![self.warehouse_id, after, limit, scope.merchant()],
                |r| {
                    Ok((
                        (
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, String>(2)?,
                        ),
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        (r.get::<_, i64>(7)?, r.get::<_, Option<String>>(8)?),
                    ))
                },
            )?;
            rows.map(|row| {
                let (
                    (device_id, seq, event_id),
                    kind,
                    message,
                    resolved_by,
                    resolved_at,
                    (id, merchant_id),
                ) = row?;
                Ok(ExceptionView {
                    id: id as u64,
                    merchant_id,
                    device_id: parse_uuid(&device_id)?,
                    seq: seq as u64,
                    event_id: parse_uuid(&event_id)?,
                    kind,
                    message,
                    resolved_by,
                    resolved_at,
                })
            })
            .collect()
        })
    }
}

/// The SQLite backend as the server uses it: the blocking [`SqliteStore`] behind the async
/// storage traits. Every call runs on tokio's blocking pool; writes first wait, as cheap async
/// tasks, for one of [`WRITERS_IN_FLIGHT`] slots: with hundreds of devices pushing at once the
/// blocking pool would otherwise fill with threads that only wait for the writer lock, and reads
/// (token checks, pulls) would queue behind them.
#[derive(Clone)]
pub struct Sqlite {
    db: Arc<SqliteStore>,
    writers: Arc<Semaphore>,
}

/// Store writes handed to the blocking pool at once: one running, one ready to take the lock.
const WRITERS_IN_FLIGHT: usize = 2;

impl Sqlite {
    pub fn new(db: SqliteStore) -> Sqlite {
        Sqlite {
            db: Arc::new(db),
            writers: Arc::new(Semaphore::new(WRITERS_IN_FLIGHT)),
        }
    }

    /// The blocking store underneath.
    pub fn blocking(&self) -> &SqliteStore {
        &self.db
    }

    pub(super) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&SqliteStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| StoreError::Backend {
                message: format!("a storage call ended abnormally: {e}"),
                transient: true,
            })?
    }

    pub(super) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&SqliteStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let _slot = self
            .writers
            .acquire()
            .await
            .map_err(|e| StoreError::Backend {
                message: format!("the writer queue is closed: {e}"),
                transient: true,
            })?;
        self.read(f).await
    }
}

#[async_trait]
impl DeviceSync for Sqlite {
    async fn enrol_device(
        &self,
        req: &EnrolRequest,
        token_hash: &str,
        presented_token_hash: Option<&str>,
    ) -> Result<u64, StoreError> {
        let (req, hash) = (req.clone(), token_hash.to_string());
        let presented = presented_token_hash.map(str::to_string);
        self.write(move |s| s.enrol_device(&req, &hash, presented.as_deref()))
            .await
    }

    async fn device_for_token(&self, token_hash: &str) -> Result<Option<Uuid>, StoreError> {
        let hash = token_hash.to_string();
        self.read(move |s| s.device_for_token(&hash)).await
    }

    async fn continue_device(
        &self,
        presented_token_hash: &str,
        new_device_id: Uuid,
        device_name: &str,
        token_hash: &str,
    ) -> Result<Option<Continued>, StoreError> {
        let (presented, name, hash) = (
            presented_token_hash.to_string(),
            device_name.to_string(),
            token_hash.to_string(),
        );
        self.write(move |db| db.continue_device(&presented, new_device_id, &name, &hash))
            .await
    }

    async fn push(&self, device_id: Uuid, events: &[Event]) -> Result<PushResponse, StoreError> {
        let events = events.to_vec();
        self.write(move |s| s.push(device_id, &events)).await
    }

    async fn epoch(&self) -> Result<String, StoreError> {
        self.read(|s| s.epoch()).await
    }

    async fn new_epoch(&self) -> Result<String, StoreError> {
        self.write(|s| s.new_epoch()).await
    }

    async fn pull(
        &self,
        device_id: Uuid,
        cursor: u64,
        limit: u32,
    ) -> Result<PullResponse, StoreError> {
        self.read(move |s| s.pull(device_id, cursor, limit)).await
    }

    async fn lease(&self, device_id: Uuid, req: &LeaseRequest) -> Result<WorkPacket, StoreError> {
        let req = req.clone();
        self.write(move |s| s.lease(device_id, &req)).await
    }

    async fn renew(
        &self,
        device_id: Uuid,
        req: &RenewRequest,
    ) -> Result<RenewResponse, StoreError> {
        let req = req.clone();
        self.write(move |s| s.renew(device_id, &req)).await
    }

    async fn release(&self, device_id: Uuid, claim: &TaskClaim) -> Result<(), StoreError> {
        let claim = claim.clone();
        self.write(move |s| s.release(device_id, &claim)).await
    }
}

#[async_trait]
impl MasterData for Sqlite {
    async fn store_enrolment_code(&self, code: &CodeToStore) -> Result<EnrolmentCode, StoreError> {
        let code = code.clone();
        self.write(move |s| s.store_enrolment_code(&code)).await
    }

    async fn enrolment_codes(&self, page: &Page) -> Result<Vec<EnrolmentCode>, StoreError> {
        let page = page.clone();
        self.read(move |s| s.enrolment_codes(&page)).await
    }

    async fn revoke_enrolment_code(&self, id: Uuid) -> Result<bool, StoreError> {
        self.write(move |s| s.revoke_enrolment_code(id)).await
    }

    async fn store_api_key(&self, key: &KeyToStore) -> Result<ApiKey, StoreError> {
        let key = key.clone();
        self.write(move |s| s.store_api_key(&key)).await
    }

    async fn api_keys(&self, page: &Page) -> Result<Vec<ApiKey>, StoreError> {
        let page = page.clone();
        self.read(move |s| s.api_keys(&page)).await
    }

    async fn revoke_api_key(&self, id: Uuid) -> Result<bool, StoreError> {
        self.write(move |s| s.revoke_api_key(id)).await
    }

    async fn api_key_scope(&self, key_hash: &str) -> Result<Option<Scope>, StoreError> {
        let hash = key_hash.to_string();
        self.read(move |s| s.api_key_scope(&hash)).await
    }

    async fn deactivate_operator(&self, operator_id: &str) -> Result<bool, StoreError> {
        let id = operator_id.to_string();
        self.write(move |s| s.deactivate_operator(&id)).await
    }

    async fn upsert_merchants(&self, items: &[Merchant]) -> Result<UpsertSummary, StoreError> {
        let items = items.to_vec();
        self.write(move |s| s.upsert_merchants(&items)).await
    }

    async fn upsert_products(&self, items: &[Product]) -> Result<UpsertSummary, StoreError> {
        let items = items.to_vec();
        self.write(move |s| s.upsert_products(&items)).await
    }

    async fn upsert_locations(&self, items: &[Location]) -> Result<UpsertSummary, StoreError> {
        let items = items.to_vec();
        self.write(move |s| s.upsert_locations(&items)).await
    }

    async fn upsert_operators(&self, items: &[Operator]) -> Result<UpsertSummary, StoreError> {
        let items = items.to_vec();
        self.write(move |s| s.upsert_operators(&items)).await
    }

    async fn upsert_notices(&self, items: &[InboundNotice]) -> Result<UpsertSummary, StoreError> {
        let items = items.to_vec();
        self.write(move |s| s.upsert_notices(&items)).await
    }

    async fn merchants(&self, page: &Page, scope: &Scope) -> Result<Vec<Merchant>, StoreError> {
        let (page, scope) = (page.clone(), scope.clone());
        self.read(move |s| s.merchants(&page, &scope)).await
    }

    async fn products(&self, page: &Page, scope: &Scope) -> Result<Vec<Product>, StoreError> {
        let (page, scope) = (page.clone(), scope.clone());
        self.read(move |s| s.products(&page, &scope)).await
    }

    async fn locations(&self, page: &Page) -> Result<Vec<Location>, StoreError> {
        let page = page.clone();
        self.read(move |s| s.locations(&page)).await
    }

    async fn operators(&self, page: &Page) -> Result<Vec<Operator>, StoreError> {
        let page = page.clone();
        self.read(move |s| s.operators(&page)).await
    }

    async fn notices(&self, page: &Page, scope: &Scope) -> Result<Vec<InboundNotice>, StoreError> {
        let (page, scope) = (page.clone(), scope.clone());
        self.read(move |s| s.notices(&page, &scope)).await
    }

    async fn notices_by_id(&self, ids: &[String]) -> Result<Vec<InboundNotice>, StoreError> {
        let ids = ids.to_vec();
        self.read(move |s| s.notices_by_id(&ids)).await
    }
}

#[async_trait]
impl super::Counts for Sqlite {
    async fn plan_counts(
        &self,
        plan: &laituri_protocol::CountPlan,
    ) -> Result<laituri_protocol::CountPlanSummary, StoreError> {
        let plan = plan.clone();
        self.write(move |s| s.plan_counts(&plan)).await
    }
}

#[async_trait]
impl Views for Sqlite {
    async fn tasks(&self, page: &Page) -> Result<Vec<Task>, StoreError> {
        let page = page.clone();
        self.read(move |s| s.tasks(&page)).await
    }

    async fn devices(&self, page: &Page) -> Result<Vec<DeviceView>, StoreError> {
        let page = page.clone();
        self.read(move |s| s.devices(&page)).await
    }

    async fn stock(&self, filter: &StockFilter) -> Result<Vec<StockRow>, StoreError> {
        let filter = filter.clone();
        self.read(move |s| s.stock(&filter)).await
    }

    async fn stock_summaries(
        &self,
        filter: &SummaryFilter,
        scope: &Scope,
    ) -> Result<Vec<StockSummary>, StoreError> {
        let (filter, scope) = (filter.clone(), scope.clone());
        self.read(move |s| s.stock_summaries(&filter, &scope)).await
    }

    async fn receipts(&self, page: &Page, scope: &Scope) -> Result<Vec<ReceiptView>, StoreError> {
        let (page, scope) = (page.clone(), scope.clone());
        self.read(move |s| s.receipts(&page, &scope)).await
    }

    async fn receipt(
        &self,
        receipt_id: Uuid,
        scope: &Scope,
    ) -> Result<Option<ReceiptView>, StoreError> {
        let scope = scope.clone();
        self.read(move |s| s.receipt(receipt_id, &scope)).await
    }

    async fn exceptions(
        &self,
        after: u64,
        limit: u32,
        scope: &Scope,
    ) -> Result<Vec<ExceptionView>, StoreError> {
        let scope = scope.clone();
        self.read(move |s| s.exceptions(after, limit, &scope)).await
    }

    async fn returns(
        &self,
        filter: &ReturnFilter,
        scope: &Scope,
    ) -> Result<Vec<ReturnView>, StoreError> {
        let (filter, scope) = (filter.clone(), scope.clone());
        self.read(move |s| s.returns(&filter, &scope, None)).await
    }

    async fn return_view(
        &self,
        return_id: Uuid,
        scope: &Scope,
    ) -> Result<Option<ReturnView>, StoreError> {
        let scope = scope.clone();
        let filter = ReturnFilter {
            after: 0,
            limit: 1,
            order_id: None,
        };
        Ok(self
            .read(move |s| s.returns(&filter, &scope, Some(return_id)))
            .await?
            .pop())
    }
}

impl Store for Sqlite {
    fn warehouse_id(&self) -> &str {
        self.db.warehouse_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    #[test]
    fn connections_are_durable_wal_with_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("s.sqlite3"), "WH").unwrap();
        let conn = s.writer.lock().unwrap();
        let get = |pragma: &str| -> String {
            conn.query_row(&format!("PRAGMA {pragma}"), [], |r| {
                r.get::<_, rusqlite::types::Value>(0)
            })
            .map(|v| match v {
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Text(t) => t,
                other => format!("{other:?}"),
            })
            .unwrap()
        };
        // Every migration file was applied (one schema version each).
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .filter(|f| {
                f.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".sql")
            })
            .count()
            .to_string();
        // (pragma, expected): synchronous 2 = FULL
        for (pragma, expect) in [
            ("journal_mode", "wal"),
            ("synchronous", "2"),
            ("foreign_keys", "1"),
            ("busy_timeout", "5000"),
            ("user_version", files.as_str()),
        ] {
            assert_eq!(get(pragma), expect, "{pragma}");
        }
    }

    /// Databases made by 0002 as it is (with the resolution columns), and by the build that
    /// shipped 0002 without them, both end with the columns once.
    #[test]
    fn the_resolution_columns_arrive_once_whichever_0002_made_the_database() {
        let with = include_str!("../../migrations/0002_flows_tasks_epoch.sql");
        let without: String = with
            .lines()
            .filter(|l| !l.starts_with("ALTER TABLE exceptions ADD COLUMN resolved_"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_ne!(with.trim_end(), without.trim_end(), "0002 adds the columns");
        for (with_columns, sql) in [(false, without.as_str()), (true, with)] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("old.sqlite3");
            {
                let conn = Connection::open(&path).unwrap();
                conn.execute_batch(include_str!("../../migrations/0001_init.sql"))
                    .unwrap();
                conn.execute_batch(sql).unwrap();
                conn.pragma_update(None, "user_version", 2).unwrap();
            }
            SqliteStore::open(&path, "WH").unwrap();
            let conn = Connection::open(&path).unwrap();
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM pragma_table_info('exceptions')
                     WHERE name IN ('resolved_by', 'resolved_at')",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 2, "made with the columns: {with_columns}");
        }
    }

    #[test]
    fn opening_twice_keeps_data_and_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let stored = {
            let s = SqliteStore::open(&path, "WH").unwrap();
            s.store_enrolment_code(&CodeToStore::demo("C1")).unwrap()
        };
        let s = SqliteStore::open(&path, "WH").unwrap();
        let all = Page {
            after: None,
            limit: 100,
        };
        assert_eq!(s.enrolment_codes(&all).unwrap(), vec![stored]);
        // Another warehouse in the same file sees none of it.
        let other = SqliteStore::open(&path, "WH2").unwrap();
        assert!(other.enrolment_codes(&all).unwrap().is_empty());
    }
}
