//! Counting's rules: a blind count of a location is compared with the server's stock when it is
//! applied, and its variance is booked at once or held for a lead, who approves or rejects it.
//!
//! - `location_counted`: every stock row of the location outside containers, and every row a
//!   line names, is covered: what no line names was not found (counted 0). The variance of each
//!   row (counted - the server's level now) is recorded with the count (`counts`). Within the
//!   counter's limits, or counted by a lead, it is booked at once as moves with reason `count`
//!   through [`super::moves`], so the stock equals what was counted. Beyond them (or with no
//!   limits set) it waits: a [`PendingCount`] for every device and an exception for a lead.
//!   The count finishes the open count tasks of the location.
//! - `count_decided` (by a lead): approval books exactly the recorded variance, so goods picked
//!   between the count and the approval stay picked; rejection books nothing and opens a recount
//!   task. Either takes the pending count off the devices and resolves its exception.
//!
//! Under a lease that is no longer the task's current one, the count is booked as above (what was
//! found is a fact) but no task is finished: the event is answered `Partial`.
//! Pure: it reads a [`World`] and answers a [`Decision`].

use std::collections::BTreeMap;

use laituri_domain::calendar::Date;
use laituri_domain::counting::{Limits, Verdict, verdict_of_count};
use laituri_protocol::{
    Change, CountLine, CountVariance, EntityKind, EventBody, EventOutcome, LocationKind,
    PendingCount, Place, Removed, Role, StockMove, Task, TaskKind, TaskLine, TaskStatus,
};
use uuid::Uuid;

use super::moves::{self, MAX_QUANTITY};
use super::picking::{short_pick_reason, zero_check_reason};
use super::putaway::{finish_task, stale_claim};
use super::world::{Ctx, Decision, Effect, Refs, StockKey, World};
use super::{check_merchant, rejected, unknown_location};
use crate::counts::{CountRow, CountStatus, planned_reason, recount_reason};
use crate::tasks::TaskRow;

/// What the rules need of an operator: whether a lead, and the limits of their counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OperatorRef {
    pub lead: bool,
    pub limits: Option<laituri_protocol::CountLimits>,
}

impl OperatorRef {
    pub fn of(operator: &laituri_protocol::Operator) -> OperatorRef {
        OperatorRef {
            lead: operator.roles.contains(&Role::Lead),
            limits: operator.count_limits,
        }
    }
}

/// The reasons of every count task that counts `location`: a count of it finishes them.
fn count_reasons_of(location: &str) -> [String; 5] {
    [
        moves::negative_stock_reason(location),
        short_pick_reason(location),
        zero_check_reason(location),
        planned_reason(location),
        recount_reason(location),
    ]
}

/// Adds what deciding a count event reads; the lines of a decided count follow in a second load
/// ([`Refs::follow_up`]).
pub(super) fn refs(body: &EventBody, operator_id: &str, refs: &mut Refs) {
    match body {
        EventBody::LocationCounted {
            count_id,
            task,
            location,
            lines,
        } => {
            refs.counts.insert(*count_id);
            refs.operators.insert(operator_id.to_string());
            refs.locations.insert(location.clone());
            refs.location_stock.insert(location.clone());
            refs.count_reasons.extend(count_reasons_of(location));
            refs.tasks.extend(task.as_ref().map(|c| c.task_id.clone()));
            for line in lines {
                refs.merchants.insert(line.merchant_id.clone());
                refs.products.insert(line.product_id.clone());
                if let Some(key) = key_of(location, line) {
                    refs.stock.insert(key);
                }
            }
        }
        EventBody::CountDecided { count_id, .. } => {
            refs.counts.insert(*count_id);
            refs.operators.insert(operator_id.to_string());
        }
        _ => {}
    }
}

/// What a decision of the counts loaded first reads too: their goods and places, the recount
/// tasks open at their locations, and the merchants and products of the goods found at a
/// counted location (a count books them out when no line names them).
pub(super) fn follow_up(world: &World, asked: &Refs, more: &mut Refs) {
    let found = world
        .stock
        .keys()
        .filter(|k| asked.location_stock.contains(&k.location));
    for key in found {
        if !asked.merchants.contains(&key.merchant_id) {
            more.merchants.insert(key.merchant_id.clone());
        }
        if !asked.products.contains(&key.product_id) {
            more.products.insert(key.product_id.clone());
        }
    }
    for id in &asked.counts {
        let Some(count) = world.counts.get(id) else {
            continue;
        };
        if count.status != CountStatus::Pending {
            continue;
        }
        moves::refs(&count.moves(), more);
        more.locations.insert(count.location.clone());
        more.count_reasons.insert(recount_reason(&count.location));
    }
}

fn key_of(location: &str, line: &CountLine) -> Option<StockKey> {
    let some = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    Some(StockKey {
        merchant_id: line.merchant_id.clone(),
        product_id: line.product_id.clone(),
        location: location.to_string(),
        container: some(&line.container),
        lot: some(&line.lot),
        expiry: some(&line.expiry),
        condition: line.condition,
    })
}

/// Decides `location_counted` and `count_decided`; anything else is refused.
pub(super) fn decide(body: EventBody, world: &World, ctx: &Ctx, operator_id: &str) -> Decision {
    match body {
        EventBody::LocationCounted {
            count_id,
            task,
            location,
            lines,
        } => {
            if let Some(r) = check_count(world, count_id, &location, &lines) {
                return r.into();
            }
            let operator = world
                .operators
                .get(operator_id)
                .copied()
                .unwrap_or_default();
            let covered = covered(world, &location, &lines);
            let verdict = verdict_of_count(
                covered.iter().map(|v| (v.level, v.counted)),
                operator.limits.map(|l| Limits {
                    max_quantity: l.max_quantity,
                    max_percent: l.max_percent,
                }),
                operator.lead,
            );
            let mut row = CountRow {
                count_id,
                location: location.clone(),
                device_id: ctx.device_id,
                seq: ctx.seq,
                operator_id: operator_id.to_string(),
                status: CountStatus::Booked,
                lines: covered,
                decided_by: None,
                counted_at_ms: world.now_ms,
            };
            let mut fx = Vec::new();
            match verdict {
                Verdict::Equal => {}
                Verdict::Book => match moves::decide(world, ctx, &row.moves()) {
                    Ok(booked) => fx.extend(booked),
                    Err(r) => return r.into(),
                },
                Verdict::Approval => {
                    row.status = CountStatus::Pending;
                    fx.extend(hold_for_a_lead(ctx, &row));
                }
            }
            fx.push(Effect::SaveCount(row));
            let stale = stale_claim(world, ctx, task.as_ref());
            if stale.is_none() {
                let mut finished: Vec<&TaskRow> = world
                    .tasks
                    .values()
                    .filter(|t| counts_location(t, &location))
                    .collect();
                if let Some(claimed) = task.as_ref().and_then(|c| world.tasks.get(&c.task_id))
                    && !finished
                        .iter()
                        .any(|t| t.task.task_id == claimed.task.task_id)
                {
                    finished.push(claimed);
                }
                for t in finished {
                    fx.extend(finish_task(t));
                }
            }
            Decision {
                outcome: stale.unwrap_or(EventOutcome::Applied),
                effects: fx,
            }
        }
        EventBody::CountDecided { count_id, approve } => {
            let operator = world
                .operators
                .get(operator_id)
                .copied()
                .unwrap_or_default();
            if !operator.lead {
                return rejected(
                    "not_a_lead",
                    format!(
                        "operator {operator_id} is not a shift lead: only a lead approves or \
                         rejects a count; ask a lead to decide it on their terminal"
                    ),
                )
                .into();
            }
            let Some(count) = world.counts.get(&count_id) else {
                return rejected(
                    "unknown_count",
                    format!(
                        "count {count_id} is not known to the server: sync the terminal and \
                         decide a count from the list of counts waiting for a lead"
                    ),
                )
                .into();
            };
            if count.status != CountStatus::Pending {
                return rejected(
                    "count_already_decided",
                    format!(
                        "the count of {} is {} already{}: nothing was changed",
                        count.location,
                        count.status.as_str(),
                        count
                            .decided_by
                            .as_deref()
                            .map(|by| format!(" by {by}"))
                            .unwrap_or_default()
                    ),
                )
                .into();
            }
            decided(world, ctx, count, approve, operator_id)
        }
        other => rejected(
            "unsupported_event_type",
            format!(
                "{} is not a counting event: update the server",
                other.type_name()
            ),
        )
        .into(),
    }
}

/// The refusal of a count that cannot be booked as it is, with what to do.
fn check_count(
    world: &World,
    count_id: Uuid,
    location: &str,
    lines: &[CountLine],
) -> Option<EventOutcome> {
    if world.counts.contains_key(&count_id) {
        return Some(rejected(
            "count_already_recorded",
            format!(
                "count {count_id} was recorded before: the terminal must give every count a new \
                 id; count the location again"
            ),
        ));
    }
    match world.locations.get(location) {
        None => return Some(unknown_location(location)),
        Some(LocationKind::Bin | LocationKind::Quarantine) => {}
        Some(kind) => {
            return Some(rejected(
                "not_countable",
                format!(
                    "location {location} is a {} location: counts are of bins and quarantine; \
                     scan a bin's label",
                    kind.as_str()
                ),
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for line in lines {
        if let Some(r) = check_merchant(world, &line.merchant_id) {
            return Some(r);
        }
        let product = &line.product_id;
        match world.products.get(product) {
            Some(owner) if *owner == line.merchant_id => {}
            Some(owner) => {
                return Some(rejected(
                    "product_of_other_merchant",
                    format!(
                        "product {product} belongs to merchant {owner}, not {}: count the \
                         location again, scanning the item's own label",
                        line.merchant_id
                    ),
                ));
            }
            None => {
                return Some(rejected(
                    "unknown_product",
                    format!(
                        "product {product} is not known to the server: set the item aside for \
                         a shift lead and count the location again without it"
                    ),
                ));
            }
        }
        if line.counted < 0 {
            return Some(rejected(
                "negative_count",
                format!(
                    "{} units of product {product} is not a count: a count is 0 or more; count \
                     the location again",
                    line.counted
                ),
            ));
        }
        if line.counted > MAX_QUANTITY {
            return Some(rejected(
                "quantity_too_large",
                format!(
                    "{} units of product {product} is more than one count may book \
                     ({MAX_QUANTITY}): count the location again",
                    line.counted
                ),
            ));
        }
        if let Some(e) = line.expiry.as_deref().filter(|e| !e.is_empty())
            && Date::parse_iso(e).is_none()
        {
            return Some(rejected(
                "bad_expiry",
                format!(
                    "expiry {e:?} is not a date in YYYY-MM-DD form: scan the item's GS1 label \
                     and count the location again"
                ),
            ));
        }
        if let Some(key) = key_of(location, line)
            && !seen.insert(key)
        {
            return Some(rejected(
                "duplicate_count_line",
                format!(
                    "product {product} is counted twice with the same lot, expiry and \
                     container: a count states each kind of goods once; count the location \
                     again"
                ),
            ));
        }
    }
    None
}

/// Every row the count covers with its variance, in key order: the location's rows outside
/// containers (not counted: 0) and every row a line names.
fn covered(world: &World, location: &str, lines: &[CountLine]) -> Vec<CountVariance> {
    let mut rows: BTreeMap<(String, String, String, String, &'static str, String), CountVariance> =
        BTreeMap::new();
    let mut put = |key: &StockKey, counted: i64| {
        let level = world.level(key);
        let sort = (
            key.merchant_id.clone(),
            key.product_id.clone(),
            key.lot.clone().unwrap_or_default(),
            key.expiry.clone().unwrap_or_default(),
            key.condition.as_str(),
            key.container.clone().unwrap_or_default(),
        );
        rows.insert(
            sort,
            CountVariance {
                merchant_id: key.merchant_id.clone(),
                product_id: key.product_id.clone(),
                lot: key.lot.clone(),
                expiry: key.expiry.clone(),
                condition: key.condition,
                container: key.container.clone(),
                counted,
                level,
                variance: counted.saturating_sub(level),
            },
        );
    };
    for (key, level) in &world.stock {
        if key.location == location && key.container.is_none() && *level != 0 {
            put(key, 0);
        }
    }
    for line in lines {
        if let Some(key) = key_of(location, line) {
            put(&key, line.counted);
        }
    }
    rows.into_values().collect()
}

/// True when `row` is an open or leased count task of `location`.
fn counts_location(row: &TaskRow, location: &str) -> bool {
    row.task.kind == TaskKind::Count
        && matches!(row.task.status, TaskStatus::Open | TaskStatus::Leased)
        && count_reasons_of(location)
            .iter()
            .any(|r| row.task.reason.as_deref() == Some(r.as_str()))
}

/// A count beyond the counter's limits: shown to every device for a lead, and an exception.
fn hold_for_a_lead(ctx: &Ctx, row: &CountRow) -> Vec<Effect> {
    let lines: Vec<CountVariance> = row
        .lines
        .iter()
        .filter(|l| l.variance != 0)
        .cloned()
        .collect();
    let units: i64 = lines.iter().map(|l| l.variance.saturating_abs()).sum();
    vec![
        Effect::Publish {
            device: None,
            merchant_id: None,
            change: Change::PendingCount(PendingCount {
                count_id: row.count_id,
                location: row.location.clone(),
                lines: lines.clone(),
            }),
        },
        Effect::Exception {
            exception: ctx.exception(
                "count_needs_approval",
                format!(
                    "the count of {} differs from the stock by {units} units in {} lines, \
                     beyond the counter's limits: a shift lead approves or rejects it on a \
                     terminal (Approvals); the stock is unchanged until then",
                    row.location,
                    lines.len()
                ),
            ),
            merchant_id: None,
        },
    ]
}

/// A lead's decision of a pending count.
fn decided(world: &World, ctx: &Ctx, count: &CountRow, approve: bool, lead: &str) -> Decision {
    let mut fx = Vec::new();
    let mut row = count.clone();
    row.decided_by = Some(lead.to_string());
    if approve {
        row.status = CountStatus::Approved;
        match moves::decide(world, ctx, &count.moves()) {
            Ok(booked) => fx.extend(booked),
            Err(r) => return r.into(),
        }
    } else {
        row.status = CountStatus::Rejected;
        fx.extend(recount(world, ctx, count));
    }
    fx.push(Effect::SaveCount(row));
    fx.push(Effect::Publish {
        device: None,
        merchant_id: None,
        change: Change::Removed(Removed {
            kind: EntityKind::PendingCount,
            id: count.count_id.to_string(),
        }),
    });
    fx.push(Effect::ResolveException {
        device_id: count.device_id,
        seq: count.seq,
        by: lead.to_string(),
    });
    Decision::applied(fx)
}

/// A recount task of a rejected count's location, unless one is open: the goods it covered.
fn recount(world: &World, ctx: &Ctx, count: &CountRow) -> Vec<Effect> {
    let reason = recount_reason(&count.location);
    if world.active_task_with_reason(TaskKind::Count, &reason) {
        return Vec::new();
    }
    let Some(merchant_id) = count.lines.first().map(|l| l.merchant_id.clone()) else {
        return Vec::new();
    };
    let lines = count
        .lines
        .iter()
        .map(|l| {
            TaskLine::of(StockMove {
                merchant_id: l.merchant_id.clone(),
                product_id: l.product_id.clone(),
                quantity: 0,
                lot: l.lot.clone(),
                expiry: l.expiry.clone(),
                serial: None,
                condition: l.condition,
                from: Some(Place {
                    location: count.location.clone(),
                    container: l.container.clone(),
                }),
                to: None,
                reason: None,
            })
        })
        .collect();
    Effect::save_and_publish_task(TaskRow::new(Task {
        task_id: format!("recount-{}-{}", count.location, ctx.event_id),
        kind: TaskKind::Count,
        merchant_id,
        priority: 10,
        status: TaskStatus::Open,
        container: None,
        lines,
        leased_to: None,
        reason: Some(reason),
        orders: Vec::new(),
    }))
    .to_vec()
}

#[cfg(test)]
mod tests {
    use laituri_protocol::{CountLimits, Event, GoodsCondition};

    use super::*;
    use crate::push::tests::{DEV, code, world};
    use crate::push::{Refs, decide_batch, decode};

    fn key() -> StockKey {
        StockKey {
            merchant_id: "M1".into(),
            product_id: "P1".into(),
            location: "A-01".into(),
            container: None,
            lot: None,
            expiry: None,
            condition: GoodsCondition::Good,
        }
    }

    fn counted(id: u128, n: i64) -> EventBody {
        EventBody::LocationCounted {
            count_id: Uuid::from_u128(id),
            task: None,
            location: "A-01".into(),
            lines: vec![CountLine {
                merchant_id: "M1".into(),
                product_id: "P1".into(),
                lot: None,
                expiry: None,
                condition: GoodsCondition::Good,
                container: None,
                counted: n,
                expected: 0,
            }],
        }
    }

    /// Decides `events` (operator, body) as one batch over `w`; answers each outcome's code.
    fn run(w: &mut World, events: &[(&str, EventBody)]) -> Vec<String> {
        let evs: Vec<Event> = events
            .iter()
            .enumerate()
            .map(|(i, (op, b))| Event::new(Uuid::now_v7(), DEV, i as u64 + 1, *op, 0, b))
            .collect();
        let decoded: Vec<_> = evs.iter().map(decode).collect();
        let _ = Refs::collect(&evs, &decoded);
        let (outcomes, _) = decide_batch(w, DEV, &evs, decoded);
        outcomes.iter().map(code).collect()
    }

    fn setup(limits: Option<CountLimits>) -> World {
        let mut w = world();
        w.stock.insert(key(), 10);
        w.operators.insert(
            "counter".into(),
            OperatorRef {
                lead: false,
                limits,
            },
        );
        w.operators.insert(
            "lead".into(),
            OperatorRef {
                lead: true,
                limits: None,
            },
        );
        w
    }

    #[test]
    fn a_count_is_booked_within_limits_and_waits_beyond_them() {
        let three = Some(CountLimits {
            max_quantity: Some(3),
            max_percent: None,
        });
        #[allow(clippy::type_complexity)]
        let cases: Vec<(&str, Option<CountLimits>, &str, i64, i64, &str)> = vec![
            ("within 3 units", three, "counter", 8, 8, "booked"),
            ("beyond 3 units", three, "counter", 6, 10, "pending"),
            ("no limits: waits", None, "counter", 9, 10, "pending"),
            ("a lead's count", None, "lead", 0, 0, "booked"),
            (
                "an unknown operator has no limits",
                three,
                "nobody",
                9,
                10,
                "pending",
            ),
            ("no difference", None, "counter", 10, 10, "booked"),
        ];
        for (name, limits, op, n, level, status) in cases {
            let mut w = setup(limits);
            assert_eq!(run(&mut w, &[(op, counted(1, n))]), ["applied"], "{name}");
            assert_eq!(w.level(&key()), level, "{name}");
            assert_eq!(
                w.counts[&Uuid::from_u128(1)].status.as_str(),
                status,
                "{name}"
            );
        }
    }

    #[test]
    fn a_lead_decides_a_pending_count_once_in_the_same_batch_too() {
        let mut w = setup(None);
        let outcomes = run(
            &mut w,
            &[
                ("counter", counted(1, 4)),
                ("counter", decided_body(1, true)),
                ("lead", decided_body(1, true)),
                ("lead", decided_body(1, false)),
                ("lead", counted(1, 4)),
            ],
        );
        assert_eq!(
            outcomes,
            [
                "applied",
                "not_a_lead",
                "applied",
                "count_already_decided",
                "count_already_recorded"
            ]
        );
        assert_eq!(w.level(&key()), 4);
        assert_eq!(
            w.counts[&Uuid::from_u128(1)].decided_by.as_deref(),
            Some("lead")
        );
    }

    #[test]
    fn a_rejected_count_changes_nothing_and_a_recount_is_open_until_counted() {
        let mut w = setup(None);
        let outcomes = run(
            &mut w,
            &[
                ("counter", counted(1, 4)),
                ("lead", decided_body(1, false)),
                ("counter", counted(2, 3)),
                ("lead", decided_body(2, false)),
            ],
        );
        assert_eq!(outcomes, ["applied"; 4]);
        assert_eq!(w.level(&key()), 10);
        // The second count finished the first recount; its rejection opened the next one.
        let recounts: Vec<TaskStatus> = w
            .tasks
            .values()
            .filter(|t| t.task.reason.as_deref() == Some(recount_reason("A-01").as_str()))
            .map(|t| t.task.status)
            .collect();
        assert_eq!(recounts.len(), 2);
        assert_eq!(
            recounts.iter().filter(|s| **s == TaskStatus::Open).count(),
            1,
            "{recounts:?}"
        );
    }

    fn decided_body(id: u128, approve: bool) -> EventBody {
        EventBody::CountDecided {
            count_id: Uuid::from_u128(id),
            approve,
        }
    }
}
