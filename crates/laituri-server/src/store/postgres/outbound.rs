//! [`super::Postgres`]'s planner: the snapshot of [`crate::outbound`] read and its plan written
//! in one transaction under the warehouse's planner lock (a transaction-level advisory lock), so
//! two server processes never plan at once. The orders it may change are locked as they are
//! read; a push that changes one of them waits for the plan's commit, or the plan for the push's.

use deadpool_postgres::Transaction;
use laituri_protocol::{Location, Merchant, Product};
use uuid::Uuid;

use super::Postgres;
use super::ledger::{PgLedger, pick_from_row};
use super::orders::order_row;
use crate::orders::OrderRow;
use crate::outbound::load::{self, Source};
use crate::outbound::{self, BinStock, PickRow, PlanSummary, ReleasePolicy};
use crate::push::Ledger;
use crate::store::StoreError;
use crate::store::rows::{ORDER_WORK_COLUMNS, PICK_COLUMNS, from_json};

/// The first key of the planner's advisory lock; the second is the hash of the warehouse id.
const PLANNER_LOCK: i32 = 0x706c_616e;

struct Reader<'a, 't> {
    tx: &'a Transaction<'t>,
    wh: &'a str,
    /// Lock the orders read (the run that writes); a probe locks nothing.
    lock: bool,
}

impl Reader<'_, '_> {
    async fn datas<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<T>, StoreError> {
        let rows = self.tx.query(sql, params).await?;
        rows.iter()
            .map(|r| from_json::<T>(r.try_get::<_, &str>(0)?))
            .collect()
    }
}

impl Source for Reader<'_, '_> {
    async fn active_orders(&mut self) -> Result<Vec<OrderRow>, StoreError> {
        let lock = if self.lock { "FOR UPDATE OF o" } else { "" };
        let sql = format!(
            "{ORDER_WORK_COLUMNS} WHERE o.warehouse_id = $1
             AND (o.status IN ('new', 'on_hold', 'reserved')
                  OR (o.status = 'picking' AND EXISTS (
                      SELECT 1 FROM picks p WHERE p.warehouse_id = o.warehouse_id
                      AND p.order_id = o.order_id AND (p.short > 0 OR p.task_id IS NULL))))
             ORDER BY o.order_id {lock}"
        );
        let rows = self.tx.query(&sql, &[&self.wh]).await?;
        rows.iter().map(order_row).collect()
    }

    async fn merchants(&mut self) -> Result<Vec<Merchant>, StoreError> {
        self.datas(
            "SELECT data FROM merchants WHERE warehouse_id = $1",
            &[&self.wh],
        )
        .await
    }

    async fn products(&mut self, ids: &[String]) -> Result<Vec<Product>, StoreError> {
        self.datas(
            "SELECT data FROM products WHERE warehouse_id = $1 AND id = ANY($2)",
            &[&self.wh, &ids],
        )
        .await
    }

    async fn bin_stock(
        &mut self,
        product_ids: &[String],
    ) -> Result<(Vec<BinStock>, Vec<Location>), StoreError> {
        let rows = self
            .tx
            .query(
                "SELECT s.merchant_id, s.product_id, s.location, s.lot, s.expiry, s.quantity
                 FROM stock s JOIN locations l
                     ON l.warehouse_id = s.warehouse_id AND l.code = s.location
                 WHERE s.warehouse_id = $1 AND s.product_id = ANY($2)
                   AND l.kind = 'bin' AND s.container = '' AND s.condition = 'good'
                   AND s.quantity > 0",
                &[&self.wh, &product_ids],
            )
            .await?;
        let some = |s: String| (!s.is_empty()).then_some(s);
        let stock = rows
            .iter()
            .map(|r| {
                Ok(BinStock {
                    merchant_id: r.try_get(0)?,
                    product_id: r.try_get(1)?,
                    location: r.try_get(2)?,
                    lot: some(r.try_get(3)?),
                    expiry: some(r.try_get(4)?),
                    quantity: r.try_get(5)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut codes: Vec<String> = stock.iter().map(|s| s.location.clone()).collect();
        codes.sort_unstable();
        codes.dedup();
        let bins = self
            .datas(
                "SELECT data FROM locations WHERE warehouse_id = $1 AND code = ANY($2)",
                &[&self.wh, &codes],
            )
            .await?;
        Ok((stock, bins))
    }

    async fn picks(
        &mut self,
        order_ids: &[Uuid],
        product_ids: &[String],
    ) -> Result<Vec<PickRow>, StoreError> {
        let sql = format!(
            "{PICK_COLUMNS} WHERE warehouse_id = $1
             AND (order_id = ANY($2) OR (product_id = ANY($3) AND quantity > picked + short))"
        );
        let rows = self
            .tx
            .query(&sql, &[&self.wh, &order_ids, &product_ids])
            .await?;
        rows.iter().map(pick_from_row).collect()
    }
}

impl Postgres {
    pub(super) async fn plan_outbound_once(
        &self,
        policy: &ReleasePolicy,
    ) -> Result<PlanSummary, StoreError> {
        let wh = self.warehouse_id.as_str();
        let now = self.clock.now_ms();
        let mut client = self.pool.get().await?;
        // A probe without locks first: a run with nothing to do holds up nobody.
        {
            let tx = client.transaction().await?;
            let mut reader = Reader {
                tx: &tx,
                wh,
                lock: false,
            };
            let snap = load::snapshot(&mut reader, load::day_of(now), now).await?;
            let probe = outbound::plan(&snap, policy, &mut || String::new());
            tx.commit().await?;
            if probe.effects.is_empty() {
                return Ok(probe.summary);
            }
        }
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&PLANNER_LOCK, &wh],
        )
        .await?;
        let mut reader = Reader {
            tx: &tx,
            wh,
            lock: true,
        };
        let snap = load::snapshot(&mut reader, load::day_of(now), now).await?;
        let plan = outbound::plan(&snap, policy, &mut || format!("pick-{}", Uuid::now_v7()));
        let mut ledger = PgLedger::new(&tx, wh, now);
        ledger.write(&plan.effects).await?;
        ledger.flush(true).await?;
        tx.commit().await?;
        Ok(plan.summary)
    }
}
