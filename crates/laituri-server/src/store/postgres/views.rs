//! [`super::Postgres`] as [`crate::store::Views`]: tasks, stock, receipts and exceptions.
//!
//! Text is ordered bytewise (`COLLATE "C"`), as SQLite orders it; tasks and receipts come in the
//! order they were made (`created_order`, what SQLite's rowid gives). A view of several
//! statements reads one snapshot (a read-only REPEATABLE READ transaction).

use std::collections::HashMap;

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use laituri_protocol::{
    DeviceView, ExceptionView, InboundNotice, LocationKind, ReceiptView, ReturnView, StockRow,
    StockSummary, Task,
};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::device::{TASK_COLUMNS, task_from_row};
use super::ledger::pick_from_row;
use super::{Postgres, snapshot};
use crate::store::rows::{
    PICK_COLUMNS, StoredStock, from_json, open_receipt_lines, stock_conditions, summaries,
};
use crate::store::{Page, ReturnFilter, Scope, StockFilter, StoreError, SummaryFilter, Views};

const RECEIPT_COLUMNS: &str =
    "SELECT receipt_id, merchant_id, notice_id, device_id, dock, closed, summary FROM receipts";

/// The views of the receipts in `rows` (of [`RECEIPT_COLUMNS`]), in their order: a closed
/// receipt's lines are the operator's summary; an open one's are its notice's expected
/// quantities merged with what was received so far.
async fn receipt_views(
    tx: &Transaction<'_>,
    wh: &str,
    rows: &[tokio_postgres::Row],
) -> Result<Vec<ReceiptView>, StoreError> {
    let open: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.get::<_, Option<&str>>("summary").is_none())
        .map(|r| r.get("receipt_id"))
        .collect();
    let mut tallies: HashMap<Uuid, Vec<(String, i64, i64)>> = HashMap::new();
    let mut notices: HashMap<String, InboundNotice> = HashMap::new();
    if !open.is_empty() {
        let stmt = tx
            .prepare_cached(
                r#"SELECT receipt_id, product_id, received, quarantined FROM receipt_tally
                   WHERE warehouse_id = $1 AND receipt_id = ANY($2::uuid[])
                   ORDER BY receipt_id, product_id COLLATE "C""#,
            )
            .await?;
        for r in tx.query(&stmt, &[&wh, &open]).await? {
            tallies
                .entry(r.get(0))
                .or_default()
                .push((r.get(1), r.get(2), r.get(3)));
        }
        let notice_ids: Vec<&str> = rows
            .iter()
            .filter(|r| r.get::<_, Option<&str>>("summary").is_none())
            .filter_map(|r| r.get::<_, Option<&str>>("notice_id"))
            .collect();
        let stmt = tx
            .prepare_cached(
                "SELECT data FROM inbound_notices WHERE warehouse_id = $1 AND id = ANY($2::text[])",
            )
            .await?;
        for r in tx.query(&stmt, &[&wh, &notice_ids]).await? {
            let notice: InboundNotice = from_json(r.get(0))?;
            notices.insert(notice.id.clone(), notice);
        }
    }
    rows.iter()
        .map(|r| {
            let receipt_id: Uuid = r.get("receipt_id");
            let notice_id: Option<String> = r.get("notice_id");
            let lines = match r.get::<_, Option<&str>>("summary") {
                Some(summary) => from_json(summary)?,
                None => open_receipt_lines(
                    notice_id.as_ref().and_then(|id| notices.get(id)).cloned(),
                    tallies.remove(&receipt_id).unwrap_or_default(),
                ),
            };
            Ok(ReceiptView {
                receipt_id,
                merchant_id: r.get("merchant_id"),
                notice_id,
                device_id: r.get("device_id"),
                dock: r.get("dock"),
                closed: r.get("closed"),
                lines,
            })
        })
        .collect()
}

impl Postgres {
    /// The views of the receipts `sql` (of [`RECEIPT_COLUMNS`]) selects with `params`, read in
    /// one snapshot.
    async fn read_receipts(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<ReceiptView>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = snapshot(&mut client).await?;
        let stmt = tx.prepare_cached(sql).await?;
        let rows = tx.query(&stmt, params).await?;
        let views = receipt_views(&tx, &self.warehouse_id, &rows).await?;
        tx.commit().await?;
        Ok(views)
    }
}

#[async_trait]
impl Views for Postgres {
    async fn devices(&self, page: &Page) -> Result<Vec<DeviceView>, StoreError> {
        let after = page.after_id()?.unwrap_or(Uuid::nil());
        // Times as SQLite writes them: UTC, milliseconds, RFC 3339.
        let client = self.pool.get().await?;
        let rows = client
            .query(
                r#"SELECT device_id, name, last_seq,
                       to_char(enrolled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                       continues, continued_by,
                       to_char(continued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                   FROM devices WHERE warehouse_id = $1 AND device_id > $2
                   ORDER BY device_id LIMIT $3"#,
                &[&self.warehouse_id, &after, &i64::from(page.limit)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DeviceView {
                    device_id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    last_seq: r.try_get::<_, i64>(2)? as u64,
                    enrolled_at: r.try_get(3)?,
                    continues: r.try_get(4)?,
                    continued_by: r.try_get(5)?,
                    continued_at: r.try_get(6)?,
                })
            })
            .collect()
    }

    async fn tasks(&self, page: &Page) -> Result<Vec<Task>, StoreError> {
        let client = self.pool.get().await?;
        let sql = format!(
            "{TASK_COLUMNS} WHERE warehouse_id = $1
                 AND ($2::text IS NULL OR created_order > (SELECT created_order FROM tasks
                                                           WHERE warehouse_id = $1
                                                             AND task_id = $2))
             ORDER BY created_order LIMIT $3"
        );
        let stmt = client.prepare_cached(&sql).await?;
        let rows = client
            .query(
                &stmt,
                &[&self.warehouse_id, &page.after, &i64::from(page.limit)],
            )
            .await?;
        rows.iter()
            .map(|r| Ok(task_from_row(r)?.public()))
            .collect()
    }

    async fn stock_summaries(
        &self,
        filter: &SummaryFilter,
        scope: &Scope,
    ) -> Result<Vec<StockSummary>, StoreError> {
        let client = self.pool.get().await?;
        let wh = &self.warehouse_id;
        let products: Vec<(String, String)> = client
            .query(
                r#"SELECT id, merchant_id FROM products
                   WHERE warehouse_id = $1 AND ($2::text IS NULL OR merchant_id = $2)
                     AND ($3::text IS NULL OR id = $3)
                     AND ($4::text IS NULL OR id COLLATE "C" > $4)
                   ORDER BY id COLLATE "C" LIMIT $5"#,
                &[
                    wh,
                    &scope.merchant(),
                    &filter.product_id,
                    &filter.page.after,
                    &i64::from(filter.page.limit.max(1)),
                ],
            )
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, StoreError>>()?;
        let ids: Vec<&str> = products.iter().map(|(id, _)| id.as_str()).collect();
        let mut rows = Vec::new();
        for r in client
            .query(
                r#"SELECT s.merchant_id, s.product_id, s.location, s.container, s.lot, s.expiry,
                       s.condition, s.quantity, l.kind
                   FROM stock s LEFT JOIN locations l
                       ON l.warehouse_id = s.warehouse_id AND l.code = s.location
                   WHERE s.warehouse_id = $1 AND s.quantity <> 0 AND s.product_id = ANY($2)
                   ORDER BY s.product_id COLLATE "C", s.location COLLATE "C",
                       s.container COLLATE "C", s.lot COLLATE "C", s.expiry COLLATE "C",
                       s.condition COLLATE "C""#,
                &[wh, &ids],
            )
            .await?
        {
            let kind: Option<String> = r.try_get(8)?;
            let row = StoredStock {
                merchant_id: r.try_get(0)?,
                product_id: r.try_get(1)?,
                location: r.try_get(2)?,
                container: r.try_get(3)?,
                lot: r.try_get(4)?,
                expiry: r.try_get(5)?,
                condition: r.try_get(6)?,
                quantity: r.try_get(7)?,
            }
            .into_row()?;
            rows.push((row, kind.as_deref().and_then(LocationKind::parse)));
        }
        let picks = client
            .query(
                &format!(
                    "{PICK_COLUMNS} WHERE warehouse_id = $1 AND product_id = ANY($2)
                     AND quantity > picked + short"
                ),
                &[wh, &ids],
            )
            .await?
            .iter()
            .map(pick_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(summaries(&products, rows, &picks, filter.by_location))
    }

    async fn stock(&self, filter: &StockFilter) -> Result<Vec<StockRow>, StoreError> {
        let mut sql = String::from(
            "SELECT merchant_id, product_id, location, container, lot, expiry, condition, quantity
             FROM stock WHERE warehouse_id = $1 AND quantity <> 0",
        );
        let mut values: Vec<&str> = vec![&self.warehouse_id];
        for (column, value) in stock_conditions(filter) {
            values.push(value);
            sql.push_str(&format!(" AND {column} = ${}", values.len()));
        }
        const KEY: &str = r#"(merchant_id COLLATE "C", product_id COLLATE "C", location COLLATE "C",
            container COLLATE "C", lot COLLATE "C", expiry COLLATE "C", condition COLLATE "C")"#;
        if let Some(after) = &filter.after {
            let first = values.len() + 1;
            values.extend(after.iter().map(String::as_str));
            let params: Vec<String> = (first..first + 7).map(|i| format!("${i}")).collect();
            sql.push_str(&format!(" AND {KEY} > ({})", params.join(", ")));
        }
        sql.push_str(&format!(
            r#" ORDER BY merchant_id COLLATE "C", product_id COLLATE "C", location COLLATE "C",
                container COLLATE "C", lot COLLATE "C", expiry COLLATE "C", condition COLLATE "C"
                LIMIT ${}"#,
            values.len() + 1
        ));
        let limit = i64::from(filter.limit.max(1));
        let mut params: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        params.push(&limit);
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let rows = client.query(&stmt, &params).await?;
        rows.iter()
            .map(|r| {
                StoredStock {
                    merchant_id: r.get(0),
                    product_id: r.get(1),
                    location: r.get(2),
                    container: r.get(3),
                    lot: r.get(4),
                    expiry: r.get(5),
                    condition: r.get(6),
                    quantity: r.get(7),
                }
                .into_row()
            })
            .collect()
    }

    async fn receipts(&self, page: &Page, scope: &Scope) -> Result<Vec<ReceiptView>, StoreError> {
        let after = page.after_id()?;
        // Keyset by the order receipts were opened in; `after` names the last receipt seen.
        let sql = format!(
            "{RECEIPT_COLUMNS} WHERE warehouse_id = $1
                 AND ($2::uuid IS NULL OR created_order > (SELECT created_order FROM receipts
                                                           WHERE warehouse_id = $1
                                                             AND receipt_id = $2))
                 AND ($4::text IS NULL OR merchant_id = $4)
             ORDER BY created_order LIMIT $3"
        );
        let limit = i64::from(page.limit);
        self.read_receipts(
            &sql,
            &[&self.warehouse_id, &after, &limit, &scope.merchant()],
        )
        .await
    }

    async fn receipt(
        &self,
        receipt_id: Uuid,
        scope: &Scope,
    ) -> Result<Option<ReceiptView>, StoreError> {
        let sql = format!(
            "{RECEIPT_COLUMNS} WHERE warehouse_id = $1 AND receipt_id = $2
                 AND ($3::text IS NULL OR merchant_id = $3)"
        );
        let views = self
            .read_receipts(&sql, &[&self.warehouse_id, &receipt_id, &scope.merchant()])
            .await?;
        Ok(views.into_iter().next())
    }

    async fn exceptions(
        &self,
        after: u64,
        limit: u32,
        scope: &Scope,
    ) -> Result<Vec<ExceptionView>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        // resolved_at as SQLite writes it: UTC, milliseconds, RFC 3339.
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                r#"SELECT device_id, seq, event_id, kind, message, resolved_by,
                       to_char(resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                       id, merchant_id
                   FROM exceptions WHERE warehouse_id = $1 AND id > $2
                       AND ($4::text IS NULL OR merchant_id = $4)
                   ORDER BY id LIMIT $3"#,
            )
            .await?;
        let rows = client
            .query(
                &stmt,
                &[
                    &self.warehouse_id,
                    &after,
                    &i64::from(limit),
                    &scope.merchant(),
                ],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| ExceptionView {
                id: r.get::<_, i64>(7) as u64,
                merchant_id: r.get(8),
                device_id: r.get(0),
                seq: r.get::<_, i64>(1) as u64,
                event_id: r.get(2),
                kind: r.get(3),
                message: r.get(4),
                resolved_by: r.get(5),
                resolved_at: r.get(6),
            })
            .collect())
    }

    async fn returns(
        &self,
        filter: &ReturnFilter,
        scope: &Scope,
    ) -> Result<Vec<ReturnView>, StoreError> {
        self.return_rows(filter, scope, None).await
    }

    async fn return_view(
        &self,
        return_id: Uuid,
        scope: &Scope,
    ) -> Result<Option<ReturnView>, StoreError> {
        let filter = ReturnFilter {
            after: 0,
            limit: 1,
            order_id: None,
        };
        Ok(self
            .return_rows(&filter, scope, Some(return_id))
            .await?
            .pop())
    }
}

impl Postgres {
    /// Returns by [`ReturnFilter`], or the one return `only`.
    async fn return_rows(
        &self,
        filter: &ReturnFilter,
        scope: &Scope,
        only: Option<Uuid>,
    ) -> Result<Vec<ReturnView>, StoreError> {
        let after = i64::try_from(filter.after).unwrap_or(i64::MAX);
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, return_id, merchant_id, order_id, reference, location, tote, lines,
                     received_at_ms
                 FROM returns WHERE warehouse_id = $1 AND id > $2
                     AND ($4::text IS NULL OR merchant_id = $4)
                     AND ($5::uuid IS NULL OR order_id = $5)
                     AND ($6::uuid IS NULL OR return_id = $6)
                 ORDER BY id LIMIT $3",
            )
            .await?;
        let rows = client
            .query(
                &stmt,
                &[
                    &self.warehouse_id,
                    &after,
                    &i64::from(filter.limit.max(1)),
                    &scope.merchant(),
                    &filter.order_id,
                    &only,
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ReturnView {
                    id: r.try_get::<_, i64>(0)? as u64,
                    return_id: r.try_get(1)?,
                    merchant_id: r.try_get(2)?,
                    order_id: r.try_get(3)?,
                    reference: r.try_get(4)?,
                    location: r.try_get(5)?,
                    tote: r.try_get(6)?,
                    lines: from_json(&r.try_get::<_, String>(7)?)?,
                    received_at_ms: r.try_get(8)?,
                })
            })
            .collect()
    }
}
