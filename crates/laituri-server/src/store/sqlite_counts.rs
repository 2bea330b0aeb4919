//! [`super::sqlite::SqliteStore`]'s plan of counts: the snapshot of [`crate::counts::plan`]
//! read and its tasks written in one write transaction (SQLite's one writer keeps two plans
//! apart, so asking twice at once makes no second task).

use laituri_protocol::{CountPlan, CountPlanSummary, Location};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::StoreError;
use super::rows::from_json;
use super::sqlite::{
    STOCK_COLUMNS, SqliteLedger, SqliteStore, TASK_COLUMNS, stock_from_row, task_from_row,
};
use crate::counts::{self, PlanBin, PlanSnapshot};
use crate::push::{self, Ledger};

fn snapshot(tx: &Connection, wh: &str, now_ms: i64) -> Result<PlanSnapshot, StoreError> {
    let mut snap = PlanSnapshot {
        now_ms,
        ..PlanSnapshot::default()
    };
    let mut stmt =
        tx.prepare_cached("SELECT data FROM locations WHERE warehouse_id = ?1 AND kind = 'bin'")?;
    let mut rows = stmt.query(params![wh])?;
    while let Some(r) = rows.next()? {
        let data: String = r.get(0)?;
        let l: Location = from_json(&data)?;
        snap.bins.push(PlanBin {
            code: l.code,
            zone: l.zone,
            aisle: l.aisle,
        });
    }
    let sql = format!(
        "{STOCK_COLUMNS} FROM stock AS s JOIN locations AS l
             ON l.warehouse_id = s.warehouse_id AND l.code = s.location AND l.kind = 'bin'
         WHERE s.warehouse_id = ?1 AND s.quantity > 0"
    );
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![wh])?;
    while let Some(r) = rows.next()? {
        snap.stock.push(stock_from_row(r)?);
    }
    let sql = format!(
        "{TASK_COLUMNS} WHERE warehouse_id = ?1 AND kind = 'count'
         AND status IN ('open', 'leased')"
    );
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![wh])?;
    while let Some(r) = rows.next()? {
        snap.open_counts.push(task_from_row(r)?);
    }
    let mut stmt = tx.prepare_cached(
        "SELECT location, MAX(counted_at_ms) FROM counts
         WHERE warehouse_id = ?1 AND status <> 'rejected' GROUP BY location",
    )?;
    let mut rows = stmt.query(params![wh])?;
    while let Some(r) = rows.next()? {
        snap.last_counted_ms.insert(r.get(0)?, r.get(1)?);
    }
    Ok(snap)
}

impl SqliteStore {
    /// Makes the count tasks of a lead's plan ([`counts::plan`]) in one write transaction.
    pub fn plan_counts(&self, plan: &CountPlan) -> Result<CountPlanSummary, StoreError> {
        let wh = self.warehouse_id();
        let now = self.now_ms();
        self.write(|tx| {
            let snap = snapshot(tx, wh, now)?;
            let (effects, summary) =
                counts::plan(plan, &snap, &mut || format!("count-{}", Uuid::now_v7()));
            let mut ledger = SqliteLedger {
                tx,
                wh,
                now_ms: now,
            };
            push::at_once(ledger.write(&effects))?;
            Ok(summary)
        })
    }
}
