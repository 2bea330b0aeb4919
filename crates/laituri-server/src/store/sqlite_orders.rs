//! [`super::sqlite::Sqlite`] as [`crate::store::Orders`]: merchants' orders and the erasure of
//! their customers' personal data.
//!
//! An erasure deletes the personal rows with `secure_delete` on (SQLite overwrites the deleted
//! content with zeros instead of leaving it in free pages) and then truncates the write-ahead
//! log, so the names and addresses are gone from the database's files, not only from its tables.

use async_trait::async_trait;
use laituri_protocol::{Order, OrderInput, OrderStatus};
use rusqlite::{Connection, Row, params};
use uuid::Uuid;

use super::rows::{ORDER_COLUMNS as COLUMNS, OrderLife, corrupt, parse_uuid};
use super::sqlite::{Sqlite, SqliteLedger, SqliteStore, merchant_exists, product_merchant};
use super::{Orders, Scope, StoreError};
use crate::orders::{self, OrderFilter, OrderRow, Put};
use crate::outbound::{PlanSummary, ReleasePolicy};
use crate::push::{self, Ledger};
use crate::shipping::{self, Booked, StoredLabel};
use crate::webhooks;

pub(super) fn order_row(r: &Row<'_>) -> Result<OrderRow, StoreError> {
    let id: String = r.get(0)?;
    let status: String = r.get(3)?;
    let (history, totes, demand, packing) = OrderLife {
        history: r.get(12)?,
        totes: r.get(13)?,
        demand: r.get(14)?,
        packing: r.get(15)?,
    }
    .parse()?;
    Ok(OrderRow {
        id: parse_uuid(&id)?,
        merchant_id: r.get(1)?,
        reference: r.get(2)?,
        status: OrderStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("order {id} has status {status:?}")))?,
        status_reason: r.get(4)?,
        priority: r.get(5)?,
        work: r.get(6)?,
        personal: r.get(7)?,
        email_hash: r.get(8)?,
        created_at_ms: r.get(9)?,
        modified_at_ms: r.get(10)?,
        erased_at_ms: r.get(11)?,
        history,
        totes,
        demand,
        packing,
    })
}

fn one(
    conn: &Connection,
    condition: &str,
    args: impl rusqlite::Params,
) -> Result<Option<OrderRow>, StoreError> {
    let sql = format!("{COLUMNS} WHERE {condition}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(args)?;
    rows.next()?.map(order_row).transpose()
}

/// Writes an order replaced or cancelled before picking: it holds no stock any more.
fn write_unreserved(conn: &Connection, wh: &str, row: &OrderRow) -> Result<(), StoreError> {
    write_row(conn, wh, row)?;
    conn.prepare_cached("DELETE FROM picks WHERE warehouse_id = ?1 AND order_id = ?2")?
        .execute(params![wh, row.id.to_string()])?;
    Ok(())
}

/// Writes `row` (the order and its personal row) as it is now.
fn write_row(conn: &Connection, wh: &str, row: &OrderRow) -> Result<(), StoreError> {
    let id = row.id.to_string();
    let life = OrderLife::of(row);
    conn.prepare_cached(
        "INSERT INTO orders (warehouse_id, order_id, merchant_id, reference, status,
             status_reason, priority, work, created_at_ms, modified_at_ms, erased_at_ms,
             history, totes, demand, packing)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (warehouse_id, order_id) DO UPDATE SET
             status = excluded.status, status_reason = excluded.status_reason,
             priority = excluded.priority, work = excluded.work,
             modified_at_ms = excluded.modified_at_ms, erased_at_ms = excluded.erased_at_ms,
             history = excluded.history, totes = excluded.totes, demand = excluded.demand,
             packing = excluded.packing",
    )?
    .execute(params![
        wh,
        id,
        row.merchant_id,
        row.reference,
        row.status.as_str(),
        row.status_reason,
        row.priority,
        row.work,
        row.created_at_ms,
        row.modified_at_ms,
        row.erased_at_ms,
        life.history,
        life.totes,
        life.demand,
        life.packing
    ])?;

    if let Some(personal) = &row.personal {
        conn.prepare_cached(
            "INSERT INTO order_personal (warehouse_id, order_id, email_hash, data)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (warehouse_id, order_id) DO UPDATE SET
                 email_hash = excluded.email_hash, data = excluded.data",
        )?
        .execute(params![wh, id, row.email_hash, personal])?;
    }
    Ok(())
}

/// Writes webhook events into the outbox, in the transaction of `tx`.
fn notify(
    tx: &rusqlite::Transaction<'_>,
    wh: &str,
    now_ms: i64,
    effects: &[crate::push::Effect],
) -> Result<(), StoreError> {
    let mut ledger = super::sqlite::SqliteLedger { tx, wh, now_ms };
    crate::push::at_once(crate::push::Ledger::write(&mut ledger, effects))
}

impl SqliteStore {
    pub fn put_order(&self, input: &OrderInput) -> Result<(Order, bool), StoreError> {
        let wh = self.warehouse_id();
        let now = self.now_ms();
        self.write(|tx| {
            orders::check_lines(input, merchant_exists(tx, wh, &input.merchant_id)?, |p| {
                product_merchant(tx, wh, p)
            })?;
            let stored = one(
                tx,
                "o.warehouse_id = ?1 AND o.merchant_id = ?2 AND o.reference = ?3",
                params![wh, input.merchant_id, input.reference],
            )?;
            let before = webhooks::Before::of_orders(stored.iter());
            let (row, created) = match orders::put(stored, input, now)? {
                Put::Unchanged(row) => (row, false),
                Put::Insert(row) => {
                    write_row(tx, wh, &row)?;
                    (row, true)
                }
                Put::Replace(row) => {
                    write_unreserved(tx, wh, &row)?;
                    notify(
                        tx,
                        wh,
                        now,
                        &webhooks::emit::order_written(&before, &row, now),
                    )?;
                    (row, false)
                }
            };
            Ok((row.to_order()?, created))
        })
    }

    pub fn orders(&self, filter: &OrderFilter, scope: &Scope) -> Result<Vec<Order>, StoreError> {
        let (after_ms, after_id) = match filter.after {
            Some((ms, id)) => (ms, id.to_string()),
            None => (filter.modified_after, String::new()),
        };
        self.read(|conn| {
            let sql = format!(
                "{COLUMNS} WHERE o.warehouse_id = ?1 AND o.modified_at_ms > ?2
                     AND (o.modified_at_ms, o.order_id) > (?3, ?4)
                     AND (?6 IS NULL OR o.merchant_id = ?6)
                 ORDER BY o.modified_at_ms, o.order_id LIMIT ?5"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![
                self.warehouse_id(),
                filter.modified_after,
                after_ms,
                after_id,
                filter.limit,
                scope.merchant()
            ])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(order_row(r)?.to_order()?);
            }
            Ok(out)
        })
    }

    pub fn order(&self, id: Uuid, scope: &Scope) -> Result<Option<Order>, StoreError> {
        self.read(|conn| {
            one(
                conn,
                "o.warehouse_id = ?1 AND o.order_id = ?2 AND (?3 IS NULL OR o.merchant_id = ?3)",
                params![self.warehouse_id(), id.to_string(), scope.merchant()],
            )?
            .map(|r| r.to_order())
            .transpose()
        })
    }

    pub fn cancel_order(&self, id: Uuid, scope: &Scope) -> Result<Option<Order>, StoreError> {
        let wh = self.warehouse_id();
        let now = self.now_ms();
        self.write(|tx| {
            let Some(stored) = one(
                tx,
                "o.warehouse_id = ?1 AND o.order_id = ?2 AND (?3 IS NULL OR o.merchant_id = ?3)",
                params![wh, id.to_string(), scope.merchant()],
            )?
            else {
                return Ok(None);
            };
            let before = webhooks::Before::of_orders([&stored]);
            let row = match orders::cancel(stored.clone(), now)? {
                Some(cancelled) => {
                    write_unreserved(tx, wh, &cancelled)?;
                    let fx = webhooks::emit::order_written(&before, &cancelled, now);
                    notify(tx, wh, now, &fx)?;
                    cancelled
                }
                None => stored,
            };
            Ok(Some(row.to_order()?))
        })
    }

    pub fn order_row(&self, id: Uuid) -> Result<Option<OrderRow>, StoreError> {
        self.read(|conn| {
            one(
                conn,
                "o.warehouse_id = ?1 AND o.order_id = ?2",
                params![self.warehouse_id(), id.to_string()],
            )
        })
    }

    pub fn ship_order(&self, booked: &Booked) -> Result<Option<OrderRow>, StoreError> {
        let wh = self.warehouse_id();
        let now = self.now_ms();
        self.write(|tx| {
            let find = |tx: &Connection| {
                one(
                    tx,
                    "o.warehouse_id = ?1 AND o.order_id = ?2",
                    params![wh, booked.order_id.to_string()],
                )
            };
            let Some(row) = find(tx)? else {
                return Ok(None);
            };
            let effects = shipping::ship(&row, booked, now);
            if effects.is_empty() {
                return Ok(Some(row));
            }
            let mut ledger = SqliteLedger {
                tx,
                wh,
                now_ms: now,
            };
            push::at_once(ledger.write(&effects))?;
            find(tx)
        })
    }

    pub fn order_labels(&self, id: Uuid) -> Result<Vec<StoredLabel>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT parcel, tracking_number, tracking_url, zpl, png FROM order_labels
                 WHERE warehouse_id = ?1 AND order_id = ?2 ORDER BY parcel",
            )?;
            let rows = stmt.query_map(params![self.warehouse_id(), id.to_string()], |r| {
                Ok(StoredLabel {
                    parcel: r.get(0)?,
                    tracking_number: r.get(1)?,
                    tracking_url: r.get(2)?,
                    zpl: r.get(3)?,
                    png: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    pub fn erase_personal_data(
        &self,
        merchant_id: &str,
        email_hash: Option<&str>,
        references: &[String],
    ) -> Result<u64, StoreError> {
        let wh = self.warehouse_id();
        let now = self.now_ms();
        let references = serde_json::to_string(references).map_err(corrupt)?;
        let erased = self.write_erasing(|tx| {
            let ids: Vec<String> = tx
                .prepare_cached(
                    "SELECT o.order_id FROM orders o JOIN order_personal p
                         ON p.warehouse_id = o.warehouse_id AND p.order_id = o.order_id
                     WHERE o.warehouse_id = ?1 AND o.merchant_id = ?2
                       AND ((?3 IS NOT NULL AND p.email_hash = ?3)
                            OR o.reference IN (SELECT value FROM json_each(?4)))",
                )?
                .query_map(params![wh, merchant_id, email_hash, references], |r| {
                    r.get(0)
                })?
                .collect::<Result<_, _>>()?;
            for id in &ids {
                tx.prepare_cached(
                    "DELETE FROM order_personal WHERE warehouse_id = ?1 AND order_id = ?2",
                )?
                .execute(params![wh, id])?;
                tx.prepare_cached(
                    "DELETE FROM order_labels WHERE warehouse_id = ?1 AND order_id = ?2",
                )?
                .execute(params![wh, id])?;
                tx.prepare_cached(
                    "UPDATE orders SET erased_at_ms = ?3, modified_at_ms = ?3
                     WHERE warehouse_id = ?1 AND order_id = ?2",
                )?
                .execute(params![wh, id, now])?;
                // The returnable order the terminals keep holds the customer's name.
                if let Ok(order_id) = Uuid::parse_str(id) {
                    super::sqlite::drop_returnable(tx, wh, order_id, merchant_id)?;
                }
            }
            Ok(ids.len() as u64)
        })?;
        Ok(erased)
    }
}

#[async_trait]
impl Orders for Sqlite {
    async fn plan_outbound(&self, policy: &ReleasePolicy) -> Result<PlanSummary, StoreError> {
        let policy = *policy;
        self.write(move |s| s.plan_outbound(&policy)).await
    }

    async fn put_order(&self, input: &OrderInput) -> Result<(Order, bool), StoreError> {
        let input = input.clone();
        self.write(move |s| s.put_order(&input)).await
    }

    async fn orders(&self, filter: &OrderFilter, scope: &Scope) -> Result<Vec<Order>, StoreError> {
        let (filter, scope) = (filter.clone(), scope.clone());
        self.read(move |s| s.orders(&filter, &scope)).await
    }

    async fn order(&self, id: Uuid, scope: &Scope) -> Result<Option<Order>, StoreError> {
        let scope = scope.clone();
        self.read(move |s| s.order(id, &scope)).await
    }

    async fn cancel_order(&self, id: Uuid, scope: &Scope) -> Result<Option<Order>, StoreError> {
        let scope = scope.clone();
        self.write(move |s| s.cancel_order(id, &scope)).await
    }

    async fn order_row(&self, id: Uuid) -> Result<Option<OrderRow>, StoreError> {
        self.read(move |s| s.order_row(id)).await
    }

    async fn ship_order(&self, booked: &Booked) -> Result<Option<OrderRow>, StoreError> {
        let booked = booked.clone();
        self.write(move |s| s.ship_order(&booked)).await
    }

    async fn order_labels(&self, id: Uuid) -> Result<Vec<StoredLabel>, StoreError> {
        self.read(move |s| s.order_labels(id)).await
    }

    async fn erase_personal_data(
        &self,
        merchant_id: &str,
        email_hash: Option<&str>,
        references: &[String],
    ) -> Result<u64, StoreError> {
        let (merchant, hash, refs) = (
            merchant_id.to_string(),
            email_hash.map(str::to_string),
            references.to_vec(),
        );
        self.write(move |s| s.erase_personal_data(&merchant, hash.as_deref(), &refs))
            .await
    }
}
