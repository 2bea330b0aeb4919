//! [`super::sqlite::SqliteStore`]'s planner: the snapshot of [`crate::outbound`] read and its
//! plan written in one write transaction (SQLite's one writer keeps two planners apart).

use laituri_protocol::{Location, Merchant, Product};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::StoreError;
use super::rows::{ORDER_WORK_COLUMNS, from_json, to_json};
use super::sqlite::{SqliteLedger, SqliteStore, picks_where};
use super::sqlite_orders::order_row;
use crate::orders::OrderRow;
use crate::outbound::load::{self, Source};
use crate::outbound::{self, BinStock, PickRow, PlanSummary, ReleasePolicy};
use crate::push::{self, Ledger};

struct Reader<'a> {
    tx: &'a Connection,
    wh: &'a str,
}

fn datas<T: serde::de::DeserializeOwned>(
    tx: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = tx.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| r.get::<_, String>(0))?;
    rows.map(|d| from_json(&d?)).collect()
}

impl Source for Reader<'_> {
    async fn active_orders(&mut self) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "{ORDER_WORK_COLUMNS} WHERE o.warehouse_id = ?1
             AND (o.status IN ('new', 'on_hold', 'reserved')
                  OR (o.status = 'picking' AND EXISTS (
                      SELECT 1 FROM picks p WHERE p.warehouse_id = o.warehouse_id
                      AND p.order_id = o.order_id AND (p.short > 0 OR p.task_id IS NULL))))"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut rows = stmt.query([self.wh])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(order_row(r)?);
        }
        Ok(out)
    }

    async fn merchants(&mut self) -> Result<Vec<Merchant>, StoreError> {
        datas(
            self.tx,
            "SELECT data FROM merchants WHERE warehouse_id = ?1",
            [self.wh],
        )
    }

    async fn products(&mut self, ids: &[String]) -> Result<Vec<Product>, StoreError> {
        datas(
            self.tx,
            "SELECT data FROM products
             WHERE warehouse_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
            params![self.wh, to_json(&ids)],
        )
    }

    async fn bin_stock(
        &mut self,
        product_ids: &[String],
    ) -> Result<(Vec<BinStock>, Vec<Location>), StoreError> {
        let ids = to_json(&product_ids);
        let mut stmt = self.tx.prepare_cached(
            "SELECT s.merchant_id, s.product_id, s.location, s.lot, s.expiry, s.quantity
             FROM stock s JOIN locations l
                 ON l.warehouse_id = s.warehouse_id AND l.code = s.location
             WHERE s.warehouse_id = ?1 AND s.product_id IN (SELECT value FROM json_each(?2))
               AND l.kind = 'bin' AND s.container = '' AND s.condition = 'good'
               AND s.quantity > 0",
        )?;
        let some = |s: String| (!s.is_empty()).then_some(s);
        let stock: Vec<BinStock> = stmt
            .query_map(params![self.wh, ids], |r| {
                Ok(BinStock {
                    merchant_id: r.get(0)?,
                    product_id: r.get(1)?,
                    location: r.get(2)?,
                    lot: some(r.get(3)?),
                    expiry: some(r.get(4)?),
                    quantity: r.get(5)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut codes: Vec<&str> = stock.iter().map(|s| s.location.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        let bins = datas(
            self.tx,
            "SELECT data FROM locations
             WHERE warehouse_id = ?1 AND code IN (SELECT value FROM json_each(?2))",
            params![self.wh, to_json(&codes)],
        )?;
        Ok((stock, bins))
    }

    async fn picks(
        &mut self,
        order_ids: &[Uuid],
        product_ids: &[String],
    ) -> Result<Vec<PickRow>, StoreError> {
        picks_where(
            self.tx,
            "(order_id IN (SELECT value FROM json_each(?2))
              OR (product_id IN (SELECT value FROM json_each(?3))
                  AND quantity > picked + short))",
            params![self.wh, to_json(&order_ids), to_json(&product_ids)],
        )
    }
}

impl SqliteStore {
    /// Reserves stock for waiting orders and releases reserved ones into pick tasks. The plan
    /// is made first on a reader (no write lock): a run with nothing to do never holds up a
    /// push. Otherwise it is made again and written in one write transaction.
    pub fn plan_outbound(&self, policy: &ReleasePolicy) -> Result<PlanSummary, StoreError> {
        let wh = self.warehouse_id();
        let now = self.now_ms();
        let plan = |conn: &Connection| {
            let mut reader = Reader { tx: conn, wh };
            let snap = push::at_once(load::snapshot(&mut reader, load::day_of(now), now))?;
            Ok::<_, StoreError>(outbound::plan(&snap, policy, &mut || {
                format!("pick-{}", Uuid::now_v7())
            }))
        };
        let probe = self.read(|conn| plan(conn))?;
        if probe.effects.is_empty() {
            return Ok(probe.summary);
        }
        self.write(|tx| {
            let plan = plan(tx)?;
            let mut ledger = SqliteLedger {
                tx,
                wh,
                now_ms: now,
            };
            push::at_once(ledger.write(&plan.effects))?;
            Ok(plan.summary)
        })
    }
}
