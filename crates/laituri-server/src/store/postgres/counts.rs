//! [`super::Postgres`]'s plan of counts: the snapshot of [`crate::counts::plan`] read and its
//! tasks written in one transaction under the warehouse's count-plan lock (a transaction-level
//! advisory lock), so two plans asked at once on two server processes make no task twice.

use async_trait::async_trait;
use laituri_protocol::{CountPlan, CountPlanSummary, Location};
use uuid::Uuid;

use super::Postgres;
use super::device::{STOCK_COLUMNS, TASK_COLUMNS, stock_from_row, task_from_row};
use super::ledger::PgLedger;
use crate::counts::{self, PlanBin, PlanSnapshot};
use crate::push::Ledger;
use crate::store::rows::from_json;
use crate::store::{Counts, StoreError};

/// The first key of the count plan's advisory lock; the second is the hash of the warehouse id.
const COUNT_PLAN_LOCK: i32 = 0x636f_756e;

impl Postgres {
    async fn plan_counts_once(&self, plan: &CountPlan) -> Result<CountPlanSummary, StoreError> {
        let wh = self.warehouse_id.as_str();
        let now = self.clock.now_ms();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&COUNT_PLAN_LOCK, &wh],
        )
        .await?;
        let mut snap = PlanSnapshot {
            now_ms: now,
            ..PlanSnapshot::default()
        };
        for r in tx
            .query(
                "SELECT data FROM locations WHERE warehouse_id = $1 AND kind = 'bin'",
                &[&wh],
            )
            .await?
        {
            let l: Location = from_json(r.try_get::<_, &str>(0)?)?;
            snap.bins.push(PlanBin {
                code: l.code,
                zone: l.zone,
                aisle: l.aisle,
            });
        }
        let sql = format!(
            "{STOCK_COLUMNS} FROM stock AS s JOIN locations AS l
                 ON l.warehouse_id = s.warehouse_id AND l.code = s.location AND l.kind = 'bin'
             WHERE s.warehouse_id = $1 AND s.quantity > 0"
        );
        for r in tx.query(&sql, &[&wh]).await? {
            snap.stock.push(stock_from_row(&r)?);
        }
        let sql = format!(
            "{TASK_COLUMNS} WHERE warehouse_id = $1 AND kind = 'count'
             AND status IN ('open', 'leased')"
        );
        for r in tx.query(&sql, &[&wh]).await? {
            snap.open_counts.push(task_from_row(&r)?);
        }
        for r in tx
            .query(
                "SELECT location, MAX(counted_at_ms) FROM counts
                 WHERE warehouse_id = $1 AND status <> 'rejected' GROUP BY location",
                &[&wh],
            )
            .await?
        {
            snap.last_counted_ms.insert(r.try_get(0)?, r.try_get(1)?);
        }
        let (effects, summary) =
            counts::plan(plan, &snap, &mut || format!("count-{}", Uuid::now_v7()));
        let mut ledger = PgLedger::new(&tx, wh, now);
        ledger.write(&effects).await?;
        ledger.flush(true).await?;
        tx.commit().await?;
        Ok(summary)
    }
}

#[async_trait]
impl Counts for Postgres {
    async fn plan_counts(&self, plan: &CountPlan) -> Result<CountPlanSummary, StoreError> {
        self.retrying(|| self.plan_counts_once(plan)).await
    }
}
