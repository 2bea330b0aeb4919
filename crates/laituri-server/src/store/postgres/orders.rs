//! [`super::Postgres`] as [`crate::store::Orders`]: merchants' orders and the erasure of their
//! customers' personal data.
//!
//! An erasure deletes the personal rows. PostgreSQL keeps a deleted row's bytes on disk until
//! vacuum lets the space be reused, and in WAL archives and backups until they expire: the site's
//! retention of those is the horizon of an erasure (ARCHITECTURE.md says so).

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use laituri_protocol::{Change, EntityKind, Order, OrderInput, OrderStatus, Removed};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::ledger::PgLedger;
use super::{PendingChange, Postgres};
use crate::orders::{self, OrderFilter, OrderRow, Put};
use crate::outbound::{PlanSummary, ReleasePolicy};
use crate::push::Ledger;
use crate::shipping::{self, Booked, StoredLabel};
use crate::store::rows::{ORDER_COLUMNS as COLUMNS, OrderLife, corrupt};
use crate::store::{Orders, Scope, StoreError};
use crate::webhooks;

pub(super) fn order_row(r: &Row) -> Result<OrderRow, StoreError> {
    let id: Uuid = r.try_get(0)?;
    let status: &str = r.try_get(3)?;
    let (history, totes, demand, packing) = OrderLife {
        history: r.try_get(12)?,
        totes: r.try_get(13)?,
        demand: r.try_get(14)?,
        packing: r.try_get(15)?,
    }
    .parse()?;
    Ok(OrderRow {
        id,
        merchant_id: r.try_get(1)?,
        reference: r.try_get(2)?,
        status: OrderStatus::parse(status)
            .ok_or_else(|| corrupt(format!("order {id} has status {status:?}")))?,
        status_reason: r.try_get(4)?,
        priority: r.try_get(5)?,
        work: r.try_get(6)?,
        personal: r.try_get(7)?,
        email_hash: r.try_get(8)?,
        created_at_ms: r.try_get(9)?,
        modified_at_ms: r.try_get(10)?,
        erased_at_ms: r.try_get(11)?,
        history,
        totes,
        demand,
        packing,
    })
}

/// The order `condition` selects, its rows locked for the rest of the transaction.
async fn one_locked(
    tx: &Transaction<'_>,
    condition: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<OrderRow>, StoreError> {
    let sql = format!("{COLUMNS} WHERE {condition} FOR UPDATE OF o");
    let stmt = tx.prepare_cached(&sql).await?;
    tx.query_opt(&stmt, params)
        .await?
        .as_ref()
        .map(order_row)
        .transpose()
}

/// Upserts the order's row: a new one, or its status, priority, work part and times.
async fn write_order(tx: &Transaction<'_>, wh: &str, row: &OrderRow) -> Result<u64, StoreError> {
    write_order_as(
        tx,
        wh,
        row,
        "ON CONFLICT (warehouse_id, order_id) DO UPDATE SET
        status = excluded.status, status_reason = excluded.status_reason,
        priority = excluded.priority, work = excluded.work,
        modified_at_ms = excluded.modified_at_ms, erased_at_ms = excluded.erased_at_ms,
        history = excluded.history, totes = excluded.totes, demand = excluded.demand,
             packing = excluded.packing",
    )
    .await
}

/// Inserts the order's row with `on_conflict`; answers the rows written.
async fn write_order_as(
    tx: &Transaction<'_>,
    wh: &str,
    row: &OrderRow,
    on_conflict: &str,
) -> Result<u64, StoreError> {
    let sql = format!(
        "INSERT INTO orders (warehouse_id, order_id, merchant_id, reference, status,
             status_reason, priority, work, created_at_ms, modified_at_ms, erased_at_ms,
             history, totes, demand, packing)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) {on_conflict}"
    );
    let life = OrderLife::of(row);
    let stmt = tx.prepare_cached(&sql).await?;
    Ok(tx
        .execute(
            &stmt,
            &[
                &wh,
                &row.id,
                &row.merchant_id,
                &row.reference,
                &row.status.as_str(),
                &row.status_reason,
                &row.priority,
                &row.work,
                &row.created_at_ms,
                &row.modified_at_ms,
                &row.erased_at_ms,
                &life.history,
                &life.totes,
                &life.demand,
                &life.packing,
            ],
        )
        .await?)
}

/// Writes the order's personal row, when it has one.
async fn write_personal(tx: &Transaction<'_>, wh: &str, row: &OrderRow) -> Result<(), StoreError> {
    if let Some(personal) = &row.personal {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO order_personal (warehouse_id, order_id, email_hash, data)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (warehouse_id, order_id) DO UPDATE SET
                     email_hash = excluded.email_hash, data = excluded.data",
            )
            .await?;
        tx.execute(&stmt, &[&wh, &row.id, &row.email_hash, personal])
            .await?;
    }
    Ok(())
}

/// Writes `row` (the order and its personal row) as it is now.
async fn write_row(tx: &Transaction<'_>, wh: &str, row: &OrderRow) -> Result<(), StoreError> {
    write_order(tx, wh, row).await?;
    if row.demand.is_none() {
        // Not reserved (new, replaced or cancelled before picking): it holds no stock.
        tx.execute(
            "DELETE FROM picks WHERE warehouse_id = $1 AND order_id = $2",
            &[&wh, &row.id],
        )
        .await?;
    }
    write_personal(tx, wh, row).await
}

/// Writes webhook events into the outbox, in the transaction `tx`.
async fn notify(
    tx: &Transaction<'_>,
    wh: &str,
    now_ms: i64,
    effects: &[crate::push::Effect],
) -> Result<(), StoreError> {
    if effects.is_empty() {
        return Ok(());
    }
    let mut ledger = super::ledger::PgLedger::new(tx, wh, now_ms);
    crate::push::Ledger::write(&mut ledger, effects).await?;
    ledger.flush(false).await
}

#[async_trait]
impl Orders for Postgres {
    async fn plan_outbound(&self, policy: &ReleasePolicy) -> Result<PlanSummary, StoreError> {
        self.retrying(|| self.plan_outbound_once(policy)).await
    }

    async fn put_order(&self, input: &OrderInput) -> Result<(Order, bool), StoreError> {
        let wh = self.warehouse_id.as_str();
        let now = self.clock.now_ms();
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let merchant_known = tx
                .query_opt(
                    "SELECT 1 FROM merchants WHERE warehouse_id = $1 AND id = $2",
                    &[&wh, &input.merchant_id],
                )
                .await?
                .is_some();
            let ids: Vec<&str> = input.lines.iter().map(|l| l.product_id.as_str()).collect();
            let mut owners = std::collections::HashMap::new();
            for r in tx
                .query(
                    "SELECT id, merchant_id FROM products
                     WHERE warehouse_id = $1 AND id = ANY($2::text[])",
                    &[&wh, &ids],
                )
                .await?
            {
                owners.insert(r.get::<_, String>(0), r.get::<_, String>(1));
            }
            orders::check_lines(input, merchant_known, |p| Ok(owners.get(p).cloned()))?;
            // Two requests with the same new reference at once: the second waits on the
            // first's insert and then conflicts on the unique key, and is retried to find it.
            let stored = one_locked(
                &tx,
                "o.warehouse_id = $1 AND o.merchant_id = $2 AND o.reference = $3",
                &[&wh, &input.merchant_id, &input.reference],
            )
            .await?;
            let before = webhooks::Before::of_orders(stored.iter());
            let (row, created) = match orders::put(stored, input, now)? {
                Put::Unchanged(row) => (row, false),
                Put::Insert(row) => {
                    insert_new(&tx, wh, &row).await?;
                    (row, true)
                }
                Put::Replace(row) => {
                    write_row(&tx, wh, &row).await?;
                    let fx = webhooks::emit::order_written(&before, &row, now);
                    notify(&tx, wh, now, &fx).await?;
                    (row, false)
                }
            };
            tx.commit().await?;
            Ok((row.to_order()?, created))
        })
        .await
    }

    async fn orders(&self, filter: &OrderFilter, scope: &Scope) -> Result<Vec<Order>, StoreError> {
        let (after_ms, after_id) = filter.after.unwrap_or((filter.modified_after, Uuid::nil()));
        let sql = format!(
            "{COLUMNS} WHERE o.warehouse_id = $1 AND o.modified_at_ms > $2
                 AND (o.modified_at_ms, o.order_id) > ($3, $4)
                 AND ($6::text IS NULL OR o.merchant_id = $6)
             ORDER BY o.modified_at_ms, o.order_id LIMIT $5"
        );
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let rows = client
            .query(
                &stmt,
                &[
                    &self.warehouse_id,
                    &filter.modified_after,
                    &after_ms,
                    &after_id,
                    &i64::from(filter.limit),
                    &scope.merchant(),
                ],
            )
            .await?;
        rows.iter().map(|r| order_row(r)?.to_order()).collect()
    }

    async fn order(&self, id: Uuid, scope: &Scope) -> Result<Option<Order>, StoreError> {
        let sql = format!(
            "{COLUMNS} WHERE o.warehouse_id = $1 AND o.order_id = $2
                 AND ($3::text IS NULL OR o.merchant_id = $3)"
        );
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        client
            .query_opt(&stmt, &[&self.warehouse_id, &id, &scope.merchant()])
            .await?
            .map(|r| order_row(&r)?.to_order())
            .transpose()
    }

    async fn order_row(&self, id: Uuid) -> Result<Option<OrderRow>, StoreError> {
        let sql = format!("{COLUMNS} WHERE o.warehouse_id = $1 AND o.order_id = $2");
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        client
            .query_opt(&stmt, &[&self.warehouse_id, &id])
            .await?
            .map(|r| order_row(&r))
            .transpose()
    }

    async fn ship_order(&self, booked: &Booked) -> Result<Option<OrderRow>, StoreError> {
        let wh = self.warehouse_id.as_str();
        let now = self.clock.now_ms();
        let id = booked.order_id;
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let condition = "o.warehouse_id = $1 AND o.order_id = $2";
            let Some(row) = one_locked(&tx, condition, &[&wh, &id]).await? else {
                return Ok(None);
            };
            let effects = shipping::ship(&row, booked, now);
            if effects.is_empty() {
                return Ok(Some(row));
            }
            let mut ledger = PgLedger::new(&tx, wh, now);
            ledger.write(&effects).await?;
            ledger.flush(true).await?;
            let after = one_locked(&tx, condition, &[&wh, &id]).await?;
            tx.commit().await?;
            Ok(after)
        })
        .await
    }

    async fn order_labels(&self, id: Uuid) -> Result<Vec<StoredLabel>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT parcel, tracking_number, tracking_url, zpl, png FROM order_labels
                 WHERE warehouse_id = $1 AND order_id = $2 ORDER BY parcel",
            )
            .await?;
        let rows = client.query(&stmt, &[&self.warehouse_id, &id]).await?;
        rows.iter()
            .map(|r| {
                Ok(StoredLabel {
                    parcel: r.try_get::<_, i32>(0)? as u32,
                    tracking_number: r.try_get(1)?,
                    tracking_url: r.try_get(2)?,
                    zpl: r.try_get(3)?,
                    png: r.try_get(4)?,
                })
            })
            .collect()
    }

    async fn cancel_order(&self, id: Uuid, scope: &Scope) -> Result<Option<Order>, StoreError> {
        let wh = self.warehouse_id.as_str();
        let now = self.clock.now_ms();
        let merchant = scope.merchant();
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let Some(stored) = one_locked(
                &tx,
                "o.warehouse_id = $1 AND o.order_id = $2 AND ($3::text IS NULL OR o.merchant_id = $3)",
                &[&wh, &id, &merchant],
            )
            .await?
            else {
                return Ok(None);
            };
            let before = webhooks::Before::of_orders([&stored]);
            let row = match orders::cancel(stored.clone(), now)? {
                Some(cancelled) => {
                    write_row(&tx, wh, &cancelled).await?;
                    let fx = webhooks::emit::order_written(&before, &cancelled, now);
                    notify(&tx, wh, now, &fx).await?;
                    cancelled
                }
                None => stored,
            };
            tx.commit().await?;
            Ok(Some(row.to_order()?))
        })
        .await
    }

    async fn erase_personal_data(
        &self,
        merchant_id: &str,
        email_hash: Option<&str>,
        references: &[String],
    ) -> Result<u64, StoreError> {
        let wh = self.warehouse_id.as_str();
        let now = self.clock.now_ms();
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let erased = tx
                .query(
                    "DELETE FROM order_personal p USING orders o
                     WHERE p.warehouse_id = $1 AND o.warehouse_id = $1
                       AND o.order_id = p.order_id AND o.merchant_id = $2
                       AND (($3::text IS NOT NULL AND p.email_hash = $3)
                            OR o.reference = ANY($4::text[]))
                     RETURNING p.order_id",
                    &[&wh, &merchant_id, &email_hash, &references],
                )
                .await?;
            let ids: Vec<Uuid> = erased.iter().map(|r| r.get(0)).collect();
            tx.execute(
                "UPDATE orders SET erased_at_ms = $3, modified_at_ms = $3
                 WHERE warehouse_id = $1 AND order_id = ANY($2::uuid[])",
                &[&wh, &ids, &now],
            )
            .await?;
            tx.execute(
                "DELETE FROM order_labels WHERE warehouse_id = $1 AND order_id = ANY($2::uuid[])",
                &[&wh, &ids],
            )
            .await?;
            // The returnable orders the terminals keep hold the customer's name: out of the
            // change log, and a removal for every terminal.
            let texts: Vec<String> = ids.iter().map(Uuid::to_string).collect();
            let dropped = tx
                .query(
                    "DELETE FROM changes WHERE warehouse_id = $1 AND entity = 'returnable_order'
                         AND entity_id = ANY($2::text[])
                     RETURNING entity_id",
                    &[&wh, &texts],
                )
                .await?;
            let mut removals = Vec::new();
            let mut seen = std::collections::BTreeSet::new();
            for r in &dropped {
                let id: String = r.try_get(0)?;
                if !seen.insert(id.clone()) {
                    continue;
                }
                removals.push(PendingChange::of(
                    None,
                    Some(merchant_id),
                    &Change::Removed(Removed {
                        kind: EntityKind::ReturnableOrder,
                        id,
                    }),
                ));
            }
            super::append_changes(&tx, wh, &removals).await?;
            tx.commit().await?;
            Ok(ids.len() as u64)
        })
        .await
    }
}

/// Inserts a new order. When another request stored the same (merchant, reference) first (it
/// was not there when this transaction looked), nothing is written and the transaction is tried
/// again, to find that order.
async fn insert_new(tx: &Transaction<'_>, wh: &str, row: &OrderRow) -> Result<(), StoreError> {
    let written = write_order_as(
        tx,
        wh,
        row,
        "ON CONFLICT (warehouse_id, merchant_id, reference) DO NOTHING",
    )
    .await?;
    if written == 0 {
        return Err(StoreError::Contention(format!(
            "order {} was stored by another request at the same time",
            row.reference
        )));
    }
    write_personal(tx, wh, row).await
}
