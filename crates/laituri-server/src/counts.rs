//! Counts as the server keeps them, and a lead's plan of counts, independent of any database.
//!
//! A [`CountRow`] is one finished count of a location with the variance the server booked or
//! holds for a lead (`counts` table, one JSON column of lines). The push rules of counts live in
//! `push/counting.rs`; this module holds what the plan endpoint decides: which locations get a
//! count task ([`plan`]), pure over a [`PlanSnapshot`] each backend loads in one transaction and
//! written through the push's ledger, so asking twice makes no second task for a location whose
//! count is open.

use std::collections::{BTreeMap, BTreeSet};

use laituri_protocol::{
    CountPlan, CountPlanSummary, CountVariance, Place, StockMove, Task, TaskKind, TaskLine,
    TaskStatus,
};
use uuid::Uuid;

use crate::push::{Effect, StockKey};
use crate::tasks::TaskRow;

/// Where a count stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountStatus {
    /// The variance was booked when the count was applied (within the counter's limits, a
    /// lead's count, or no difference).
    Booked,
    /// The variance waits for a lead.
    Pending,
    /// A lead approved it: the recorded variance was booked then.
    Approved,
    /// A lead rejected it: nothing was booked, a recount was opened.
    Rejected,
}

impl CountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CountStatus::Booked => "booked",
            CountStatus::Pending => "pending",
            CountStatus::Approved => "approved",
            CountStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<CountStatus> {
        Some(match s {
            "booked" => CountStatus::Booked,
            "pending" => CountStatus::Pending,
            "approved" => CountStatus::Approved,
            "rejected" => CountStatus::Rejected,
            _ => return None,
        })
    }
}

/// One count as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    pub count_id: Uuid,
    pub location: String,
    /// The event that recorded the count.
    pub device_id: Uuid,
    pub seq: u64,
    pub operator_id: String,
    pub status: CountStatus,
    /// Every line the count covered, with the level it was compared with and the variance.
    pub lines: Vec<CountVariance>,
    /// The lead who approved or rejected it.
    pub decided_by: Option<String>,
    /// The server's clock when the count was applied.
    pub counted_at_ms: i64,
}

impl CountRow {
    /// The moves that book the recorded variance (reason `count`): into the place what was
    /// found beyond the level, out of it what was missing.
    pub fn moves(&self) -> Vec<StockMove> {
        self.lines
            .iter()
            .filter(|l| l.variance != 0)
            .map(|l| {
                let place = Place {
                    location: self.location.clone(),
                    container: l.container.clone(),
                };
                let (from, to) = if l.variance > 0 {
                    (None, Some(place))
                } else {
                    (Some(place), None)
                };
                StockMove {
                    merchant_id: l.merchant_id.clone(),
                    product_id: l.product_id.clone(),
                    quantity: l.variance.saturating_abs(),
                    lot: l.lot.clone(),
                    expiry: l.expiry.clone(),
                    serial: None,
                    condition: l.condition,
                    from,
                    to,
                    reason: Some(laituri_protocol::COUNT_REASON.to_string()),
                }
            })
            .collect()
    }
}

/// The reason of the count task a lead's plan opens at `location`.
pub fn planned_reason(location: &str) -> String {
    format!("planned count of {location}")
}

/// The reason of the count task opened when a lead rejected a count of `location`.
pub fn recount_reason(location: &str) -> String {
    format!("recount of {location}: a lead rejected the count")
}

/// A bin as the plan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanBin {
    pub code: String,
    pub zone: String,
    pub aisle: Option<u32>,
}

/// What a plan is decided over: the warehouse's bins, the stock in them (rows above zero), the
/// open or leased count tasks, and when each location was last counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanSnapshot {
    pub bins: Vec<PlanBin>,
    pub stock: Vec<(StockKey, i64)>,
    pub open_counts: Vec<TaskRow>,
    /// Location to the server's time of its newest count (rejected ones do not count).
    pub last_counted_ms: BTreeMap<String, i64>,
    pub now_ms: i64,
}

/// The location a count task counts: its lines' place.
pub fn task_location(task: &Task) -> Option<&str> {
    task.lines
        .iter()
        .find_map(|l| l.goods.from.as_ref().map(|p| p.location.as_str()))
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The count tasks `plan` makes over `snap`: one per bin and merchant of the stock there that
/// matches every filter, unless a count task of that bin for that merchant is open or leased.
/// Its lines name the goods to look for, without quantities (the count is blind).
pub fn plan(
    plan: &CountPlan,
    snap: &PlanSnapshot,
    new_id: &mut dyn FnMut() -> String,
) -> (Vec<Effect>, CountPlanSummary) {
    let bins: BTreeMap<&str, &PlanBin> = snap
        .bins
        .iter()
        .filter(|b| plan.zone.as_ref().is_none_or(|z| *z == b.zone))
        .filter(|b| plan.aisle.is_none_or(|a| b.aisle == Some(a)))
        .filter(|b| {
            plan.not_counted_days.is_none_or(|days| {
                snap.last_counted_ms
                    .get(&b.code)
                    .is_none_or(|at| snap.now_ms.saturating_sub(*at) >= i64::from(days) * DAY_MS)
            })
        })
        .map(|b| (b.code.as_str(), b))
        .collect();
    let open: BTreeSet<(&str, &str)> = snap
        .open_counts
        .iter()
        .filter_map(|t| Some((task_location(&t.task)?, t.task.merchant_id.as_str())))
        .collect();
    // Per (bin, merchant), the goods held there.
    let mut wanted: BTreeMap<(&str, &str), Vec<&StockKey>> = BTreeMap::new();
    for (key, quantity) in &snap.stock {
        if *quantity <= 0 || !bins.contains_key(key.location.as_str()) {
            continue;
        }
        if plan
            .merchant_id
            .as_ref()
            .is_some_and(|m| *m != key.merchant_id)
        {
            continue;
        }
        wanted
            .entry((key.location.as_str(), key.merchant_id.as_str()))
            .or_default()
            .push(key);
    }
    if !plan.products.is_empty() {
        wanted.retain(|_, keys| keys.iter().any(|k| plan.products.contains(&k.product_id)));
    }
    let mut fx = Vec::new();
    let mut summary = CountPlanSummary::default();
    for ((location, merchant), mut keys) in wanted {
        if open.contains(&(location, merchant)) {
            summary.already_open.push(location.to_string());
            continue;
        }
        keys.sort_by_key(|k| (&k.product_id, &k.lot, &k.expiry, k.container.clone()));
        let lines = keys
            .into_iter()
            .map(|k| {
                TaskLine::of(StockMove {
                    merchant_id: k.merchant_id.clone(),
                    product_id: k.product_id.clone(),
                    quantity: 0,
                    lot: k.lot.clone(),
                    expiry: k.expiry.clone(),
                    serial: None,
                    condition: k.condition,
                    from: Some(Place {
                        location: k.location.clone(),
                        container: k.container.clone(),
                    }),
                    to: None,
                    reason: None,
                })
            })
            .collect();
        let task_id = new_id();
        fx.extend(Effect::save_and_publish_task(TaskRow::new(Task {
            task_id: task_id.clone(),
            kind: TaskKind::Count,
            merchant_id: merchant.to_string(),
            priority: 0,
            status: TaskStatus::Open,
            container: None,
            lines,
            leased_to: None,
            reason: Some(planned_reason(location)),
            orders: Vec::new(),
        })));
        summary.created.push(task_id);
    }
    summary.already_open.dedup();
    (fx, summary)
}

#[cfg(test)]
mod tests {
    use laituri_protocol::GoodsCondition;

    use super::*;

    fn key(merchant: &str, product: &str, location: &str) -> StockKey {
        StockKey {
            merchant_id: merchant.into(),
            product_id: product.into(),
            location: location.into(),
            container: None,
            lot: None,
            expiry: None,
            condition: GoodsCondition::Good,
        }
    }

    fn bin(code: &str, zone: &str, aisle: u32) -> PlanBin {
        PlanBin {
            code: code.into(),
            zone: zone.into(),
            aisle: Some(aisle),
        }
    }

    fn snapshot() -> PlanSnapshot {
        PlanSnapshot {
            bins: vec![bin("A-1", "A", 1), bin("A-2", "A", 2), bin("B-1", "B", 1)],
            stock: vec![
                (key("M1", "P1", "A-1"), 5),
                (key("M2", "P2", "A-1"), 1),
                (key("M1", "P3", "A-2"), 2),
                (key("M1", "P1", "B-1"), 3),
                (key("M1", "P9", "DOCK-1"), 3),
                (key("M1", "P4", "B-1"), 0),
            ],
            open_counts: Vec::new(),
            last_counted_ms: BTreeMap::from([("A-2".to_string(), 9 * DAY_MS)]),
            now_ms: 10 * DAY_MS,
        }
    }

    /// A task made: its location, merchant and number of lines.
    type Made = (String, String, usize);

    fn made(plan_: &CountPlan, snap: &PlanSnapshot) -> Vec<Made> {
        let mut n = 0;
        let (fx, _) = plan(plan_, snap, &mut || {
            n += 1;
            format!("t{n}")
        });
        fx.iter()
            .filter_map(|e| match e {
                Effect::SaveTask(row) => Some((
                    task_location(&row.task).unwrap().to_string(),
                    row.task.merchant_id.clone(),
                    row.task.lines.len(),
                )),
                _ => None,
            })
            .collect()
    }

    fn t(location: &str, merchant: &str, lines: usize) -> Made {
        (location.into(), merchant.into(), lines)
    }

    #[test]
    fn a_plan_counts_the_bins_that_match_every_filter() {
        let snap = snapshot();
        let cases: Vec<(&str, CountPlan, Vec<Made>)> = vec![
            (
                "everything: one task per bin and merchant, no dock, no empty rows",
                CountPlan::default(),
                vec![
                    t("A-1", "M1", 1),
                    t("A-1", "M2", 1),
                    t("A-2", "M1", 1),
                    t("B-1", "M1", 1),
                ],
            ),
            (
                "a zone",
                CountPlan {
                    zone: Some("B".into()),
                    ..CountPlan::default()
                },
                vec![t("B-1", "M1", 1)],
            ),
            (
                "an aisle of a zone",
                CountPlan {
                    zone: Some("A".into()),
                    aisle: Some(2),
                    ..CountPlan::default()
                },
                vec![t("A-2", "M1", 1)],
            ),
            (
                "a merchant",
                CountPlan {
                    merchant_id: Some("M2".into()),
                    ..CountPlan::default()
                },
                vec![t("A-1", "M2", 1)],
            ),
            (
                "products",
                CountPlan {
                    products: vec!["P1".into()],
                    ..CountPlan::default()
                },
                vec![t("A-1", "M1", 1), t("B-1", "M1", 1)],
            ),
            (
                "not counted in 2 days (A-2 was counted yesterday)",
                CountPlan {
                    zone: Some("A".into()),
                    not_counted_days: Some(2),
                    ..CountPlan::default()
                },
                vec![t("A-1", "M1", 1), t("A-1", "M2", 1)],
            ),
            (
                "not counted in 1 day",
                CountPlan {
                    zone: Some("A".into()),
                    aisle: Some(2),
                    not_counted_days: Some(1),
                    ..CountPlan::default()
                },
                vec![t("A-2", "M1", 1)],
            ),
        ];
        for (name, p, want) in cases {
            assert_eq!(made(&p, &snap), want, "{name}");
        }
    }

    #[test]
    fn asking_twice_makes_no_second_task_where_a_count_is_open() {
        let p = CountPlan {
            zone: Some("A".into()),
            ..CountPlan::default()
        };
        let mut snap = snapshot();
        let (fx, first) = plan(&p, &snap, &mut || Uuid::now_v7().to_string());
        assert_eq!(first.created.len(), 3);
        for e in fx {
            if let Effect::SaveTask(row) = e {
                snap.open_counts.push(row);
            }
        }
        let (fx, again) = plan(&p, &snap, &mut || Uuid::now_v7().to_string());
        assert!(fx.is_empty());
        assert!(again.created.is_empty());
        assert_eq!(again.already_open, vec!["A-1", "A-2"]);
    }

    #[test]
    fn a_counts_moves_book_its_recorded_variance_with_reason_count() {
        let line = |product: &str, variance: i64| CountVariance {
            merchant_id: "M1".into(),
            product_id: product.into(),
            lot: None,
            expiry: None,
            condition: GoodsCondition::Good,
            container: None,
            counted: 0,
            level: 0,
            variance,
        };
        let row = CountRow {
            count_id: Uuid::nil(),
            location: "A-1".into(),
            device_id: Uuid::nil(),
            seq: 1,
            operator_id: "op".into(),
            status: CountStatus::Pending,
            lines: vec![line("P1", 3), line("P2", 0), line("P3", -2)],
            decided_by: None,
            counted_at_ms: 0,
        };
        let moves = row.moves();
        assert_eq!(moves.len(), 2);
        assert_eq!(
            (
                moves[0].quantity,
                moves[0].from.is_none(),
                moves[0].to.is_some()
            ),
            (3, true, true)
        );
        assert_eq!(
            (
                moves[1].quantity,
                moves[1].from.is_some(),
                moves[1].to.is_none()
            ),
            (2, true, true)
        );
        assert!(moves.iter().all(|m| m.reason.as_deref() == Some("count")));
    }
}
