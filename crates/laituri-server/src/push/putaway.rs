//! Putaway's rules: goods go from a tote or license plate into bins, a full bin is reported, and
//! an empty tote finishes its putaway task.
//!
//! Stock changes only through [`super::moves`]. Under a lease that is no longer the task's
//! current one (another device took the task over, or it was given back), the goods still move
//! but the task's progress is refused: the event is answered `Partial` with code `task_taken`.
//! Pure: it reads a [`World`] and answers a [`Decision`].

use laituri_protocol::{
    Change, EntityKind, EventBody, EventOutcome, LocationKind, Removed, TaskClaim, TaskStatus,
};

use super::moves;
use super::world::{Ctx, Decision, Effect, Refs, World};
use super::{rejected, unknown_location};
use crate::tasks::{self, TaskRow};

/// Adds what deciding a putaway event reads.
pub(super) fn refs(body: &EventBody, refs: &mut Refs) {
    refs.tasks
        .extend(body.task().map(|claim| claim.task_id.clone()));
    match body {
        EventBody::PutAway { moves, .. } => moves::refs(moves, refs),
        EventBody::BinFull { location, .. } => {
            refs.locations.insert(location.clone());
        }
        EventBody::PutawayFinished { container, .. } => {
            refs.putaway_containers.insert(container.clone());
        }
        _ => {}
    }
}

/// Decides `put_away`, `bin_full` and `putaway_finished`; anything else is refused.
pub(super) fn decide(body: EventBody, world: &World, ctx: &Ctx) -> Decision {
    match body {
        EventBody::PutAway {
            container,
            task,
            suggested,
            override_reason,
            moves,
        } => {
            if moves.is_empty() {
                return rejected(
                    "no_moves",
                    "a putaway without goods changes nothing: scan the goods and the bin again",
                )
                .into();
            }
            if let Some(r) = moves::validate(world, &moves) {
                return r.into();
            }
            for m in &moves {
                let from_container = m.from.as_ref().and_then(|p| p.container.as_deref());
                if from_container != Some(container.as_str()) {
                    return rejected(
                        "not_from_container",
                        format!(
                            "a putaway of container {container} must take the goods from that \
                             container, but a move takes them from {}: scan the tote again and \
                             put the goods away from it",
                            from_container.unwrap_or("no container")
                        ),
                    )
                    .into();
                }
                let Some(to) = &m.to else {
                    return rejected(
                        "no_bin",
                        "a putaway must say which bin the goods went into: scan the bin's label",
                    )
                    .into();
                };
                if let Some(r) = check_bin(world, &to.location) {
                    return r.into();
                }
            }
            let stale = stale_claim(world, ctx, task.as_ref());
            let mut fx = moves::effects(world, ctx, &moves);
            for m in &moves {
                let Some(to) = &m.to else { continue };
                if override_reason.is_some()
                    || suggested.as_deref().is_some_and(|s| s != to.location)
                {
                    fx.push(Effect::Override {
                        device_id: ctx.device_id,
                        seq: ctx.seq,
                        container: container.clone(),
                        suggested: suggested.clone(),
                        location: to.location.clone(),
                        reason: override_reason,
                    });
                }
            }
            Decision {
                outcome: stale.unwrap_or(EventOutcome::Applied),
                effects: fx,
            }
        }
        EventBody::BinFull { location, task } => {
            if let Some(r) = check_bin(world, &location) {
                return r.into();
            }
            let stale = stale_claim(world, ctx, task.as_ref());
            // A full bin is a fact whoever holds the task: it is recorded either way.
            Decision {
                outcome: stale.unwrap_or(EventOutcome::Applied),
                effects: vec![Effect::BinFull {
                    device_id: ctx.device_id,
                    seq: ctx.seq,
                    location,
                }],
            }
        }
        EventBody::PutawayFinished { container, task } => {
            let row = match &task {
                Some(claim) => {
                    if let Some(stale) = stale_claim(world, ctx, Some(claim)) {
                        return stale.into();
                    }
                    world.tasks.get(&claim.task_id)
                }
                // Without a lease (putaway done offline from the tote): the tote is empty, so its
                // task is done whoever holds it.
                None => world.putaway_task_of(&container),
            };
            Decision::applied(row.map(finish_task).unwrap_or_default())
        }
        other => rejected(
            "unsupported_event_type",
            format!(
                "{} is not a putaway event: update the server",
                other.type_name()
            ),
        )
        .into(),
    }
}

pub(super) fn check_bin(world: &World, location: &str) -> Option<EventOutcome> {
    match world.locations.get(location) {
        None => Some(unknown_location(location)),
        Some(LocationKind::Bin) => None,
        Some(kind) => Some(rejected(
            "not_a_bin",
            format!(
                "location {location} is a {} location, not a bin: put the goods into a bin and \
                 scan the bin's label",
                kind.as_str()
            ),
        )),
    }
}

/// `Some(Partial)` when the event's claim is not the task's current lease.
pub(super) fn stale_claim(
    world: &World,
    ctx: &Ctx,
    claim: Option<&TaskClaim>,
) -> Option<EventOutcome> {
    let claim = claim?;
    let row = world.tasks.get(&claim.task_id);
    tasks::check_claim(row, ctx.device_id, claim)
        .err()
        .map(|reason| EventOutcome::Partial {
            code: "task_taken".into(),
            reason,
        })
}

/// Marks a task done, tells every device, and takes the work packet back from its holder.
pub(super) fn finish_task(row: &TaskRow) -> Vec<Effect> {
    if row.task.status == TaskStatus::Done {
        return Vec::new();
    }
    let mut fx = Effect::save_and_publish_task(tasks::finish(row)).to_vec();
    if let Some(holder) = row.holder {
        fx.push(Effect::Publish {
            device: Some(holder),
            merchant_id: Some(row.task.merchant_id.clone()),
            change: Change::Removed(Removed {
                kind: EntityKind::WorkPacket,
                id: row.task.task_id.clone(),
            }),
        });
    }
    fx
}

#[cfg(test)]
mod tests {
    use laituri_protocol::{
        Change, EventBody, GoodsCondition, OverrideReason, Place, StockMove, Task, TaskClaim,
        TaskKind, TaskLine, TaskStatus,
    };
    use uuid::Uuid;

    use crate::push::tests::{DEV, changes, exceptions, run, tote_key, world};
    use crate::push::world::{Effect, World};
    use crate::tasks::{self, TaskRow};

    const TASK: &str = "putaway-T-0001";

    fn mv(qty: i64, from: &str, to: &str) -> StockMove {
        StockMove {
            merchant_id: "M1".into(),
            product_id: "P1".into(),
            quantity: qty,
            lot: None,
            expiry: None,
            serial: None,
            condition: GoodsCondition::Good,
            from: Some(Place::in_container("DOCK-1", from)),
            to: Some(Place::at(to)),
            reason: None,
        }
    }

    fn put(qty: i64, to: &str, task: Option<TaskClaim>) -> EventBody {
        EventBody::PutAway {
            container: "T-0001".into(),
            task,
            suggested: Some("A-01".into()),
            override_reason: (to != "A-01").then_some(OverrideReason::Closer),
            moves: vec![mv(qty, "T-0001", to)],
        }
    }

    fn finished(task: Option<TaskClaim>) -> EventBody {
        EventBody::PutawayFinished {
            container: "T-0001".into(),
            task,
        }
    }

    /// A tote T-0001 at DOCK-1 holding 5 units of P1, with its open putaway task.
    fn received() -> World {
        let mut w = world();
        w.stock.insert(tote_key(), 5);
        w.whole_containers
            .insert(("DOCK-1".into(), "T-0001".into()));
        let row = TaskRow::new(Task {
            orders: Vec::new(),
            task_id: TASK.into(),
            kind: TaskKind::Putaway,
            merchant_id: "M1".into(),
            priority: 0,
            status: TaskStatus::Open,
            container: Some("T-0001".into()),
            lines: vec![TaskLine {
                line_id: None,
                order_id: None,
                goods: mv(5, "T-0001", "A-01"),
            }],
            leased_to: None,
            reason: None,
        });
        w.apply(&Effect::SaveTask(row));
        w
    }

    fn level(w: &World, location: &str, container: Option<&str>) -> i64 {
        w.stock
            .iter()
            .filter(|(k, _)| k.location == location && k.container.as_deref() == container)
            .map(|(_, q)| q)
            .sum()
    }

    type Case = (
        &'static str,
        Vec<EventBody>,
        Vec<&'static str>,
        i64,
        i64,
        usize,
        usize,
    );

    /// (name, putaway events over a tote of 5, outcome codes, tote level, A-01 level,
    /// exceptions, count tasks)
    #[test]
    fn putaway_case_table() {
        let bad_from = EventBody::PutAway {
            container: "T-0001".into(),
            task: None,
            suggested: None,
            override_reason: None,
            moves: vec![mv(1, "T-0009", "A-01")],
        };
        let cases: Vec<Case> = vec![
            (
                "all into the suggested bin",
                vec![put(5, "A-01", None)],
                vec!["applied"],
                0,
                5,
                0,
                0,
            ),
            (
                "split over two bins",
                vec![put(3, "A-01", None), put(2, "A-02", None)],
                vec!["applied"; 2],
                0,
                3,
                0,
                0,
            ),
            (
                "more than the tote holds",
                vec![put(7, "A-01", None)],
                vec!["applied"],
                -2,
                7,
                1,
                1,
            ),
            (
                "negative twice, one count task",
                vec![put(6, "A-01", None), put(1, "A-01", None)],
                vec!["applied"; 2],
                -2,
                7,
                2,
                1,
            ),
            (
                "into a dock",
                vec![put(1, "DOCK-1", None)],
                vec!["not_a_bin"],
                5,
                0,
                1,
                0,
            ),
            (
                "into nowhere",
                vec![put(1, "Z-99", None)],
                vec!["unknown_location"],
                5,
                0,
                1,
                0,
            ),
            (
                "zero units",
                vec![put(0, "A-01", None)],
                vec!["zero_quantity"],
                5,
                0,
                1,
                0,
            ),
            (
                "from another tote",
                vec![bad_from],
                vec!["not_from_container"],
                5,
                0,
                1,
                0,
            ),
            (
                "bin full",
                vec![EventBody::BinFull {
                    location: "A-01".into(),
                    task: None,
                }],
                vec!["applied"],
                5,
                0,
                0,
                0,
            ),
            (
                "bin full of a dock",
                vec![EventBody::BinFull {
                    location: "DOCK-1".into(),
                    task: None,
                }],
                vec!["not_a_bin"],
                5,
                0,
                1,
                0,
            ),
            (
                "finished without a lease",
                vec![put(5, "A-01", None), finished(None)],
                vec!["applied"; 2],
                0,
                5,
                0,
                0,
            ),
        ];
        for (name, bodies, expect, tote, bin, exception_count, counts) in cases {
            let mut w = received();
            let (got, fx) = run(&mut w, &bodies);
            assert_eq!(got, expect, "{name}");
            assert_eq!(level(&w, "DOCK-1", Some("T-0001")), tote, "{name}: tote");
            assert_eq!(level(&w, "A-01", None), bin, "{name}: bin");
            assert_eq!(exceptions(&fx).len(), exception_count, "{name}: exceptions");
            let count_tasks = w
                .tasks
                .values()
                .filter(|t| t.task.kind == TaskKind::Count)
                .count();
            assert_eq!(count_tasks, counts, "{name}: count tasks");
        }
    }

    /// A count task already open for the place: a second negative level raises none.
    #[test]
    fn an_open_count_task_is_not_raised_again() {
        let mut w = received();
        let (_, fx) = run(&mut w, &[put(6, "A-01", None)]);
        let count_id = w
            .tasks
            .values()
            .find(|t| t.task.kind == TaskKind::Count)
            .map(|t| t.task.task_id.clone())
            .unwrap();
        assert!(fx.iter().any(|e| matches!(e, Effect::SaveTask(_))));
        // The next batch sees the task as it is stored.
        let (_, fx) = run(&mut w, &[put(1, "A-01", None)]);
        assert!(!fx.iter().any(|e| matches!(e, Effect::SaveTask(_))));
        assert_eq!(w.tasks.len(), 2, "{count_id} and the putaway task");
    }

    #[test]
    fn overrides_and_full_bins_are_recorded() {
        let (_, fx) = run(
            &mut received(),
            &[
                put(2, "A-01", None),
                put(3, "A-02", None),
                EventBody::BinFull {
                    location: "A-01".into(),
                    task: None,
                },
            ],
        );
        let overrides: Vec<&str> = fx
            .iter()
            .filter_map(|e| match e {
                Effect::Override { location, .. } => Some(location.as_str()),
                _ => None,
            })
            .collect();
        let full: Vec<&str> = fx
            .iter()
            .filter_map(|e| match e {
                Effect::BinFull { location, .. } => Some(location.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(overrides, ["A-02"]);
        assert_eq!(full, ["A-01"]);
    }

    /// A putaway under the current lease finishes the task; under a stale token the goods move
    /// but the task is not finished and the event is Partial.
    #[test]
    fn leases_fence_task_progress_but_never_goods() {
        let other = Uuid::from_u128(99);
        for (name, holder, token, expect_put, expect_done) in [
            ("current lease", DEV, 1, "applied", TaskStatus::Done),
            (
                "taken over",
                other,
                1,
                "partial:task_taken",
                TaskStatus::Leased,
            ),
            (
                "wrong token",
                DEV,
                7,
                "partial:task_taken",
                TaskStatus::Leased,
            ),
        ] {
            let mut w = received();
            let row = tasks::grant(&w.tasks[TASK], holder, 0).unwrap().row;
            w.tasks.insert(TASK.into(), row);
            let claim = TaskClaim {
                task_id: TASK.into(),
                token,
            };
            let (got, fx) = run(
                &mut w,
                &[put(5, "A-01", Some(claim.clone())), finished(Some(claim))],
            );
            assert_eq!(got, vec![expect_put, expect_put], "{name}");
            assert_eq!(level(&w, "A-01", None), 5, "{name}: goods moved");
            assert_eq!(w.tasks[TASK].task.status, expect_done, "{name}");
            let removed = changes(&fx)
                .iter()
                .any(|(to, c)| matches!(c, Change::Removed(_)) && *to == Some(holder));
            assert_eq!(removed, expect_done == TaskStatus::Done, "{name}");
        }
    }
}
