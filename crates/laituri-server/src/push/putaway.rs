//! Putaway's rules: goods go from a tote or license plate into bins, a full bin is reported, and
//! an empty tote finishes its putaway task.
//!
//! Stock changes only through [`super::moves`]. Under a lease that is no longer the task's
//! current one (another device took the task over, or it was given back), the goods still move
//! but the task's progress is refused: the event is answered `Partial` with code `task_taken`.

use laituri_protocol::{
    Change, EntityKind, Event, EventBody, EventOutcome, LocationKind, Removed, TaskClaim,
};
use uuid::Uuid;

use super::moves::{apply_valid_moves, validate_moves};
use super::{Ledger, rejected, unknown_location};
use crate::store::StoreError;
use crate::tasks::{self, TaskRow};

/// Applies `put_away`, `bin_full` and `putaway_finished`; anything else is refused.
pub(super) fn apply<L: Ledger>(
    ledger: &mut L,
    caller: Uuid,
    event: &Event,
    body: EventBody,
) -> Result<EventOutcome, StoreError> {
    match body {
        EventBody::PutAway {
            container,
            task,
            suggested,
            override_reason,
            moves,
        } => {
            if moves.is_empty() {
                return Ok(rejected(
                    "no_moves",
                    "a putaway without goods changes nothing: scan the goods and the bin again",
                ));
            }
            if let Some(r) = validate_moves(ledger, &moves)? {
                return Ok(r);
            }
            for m in &moves {
                let from_container = m.from.as_ref().and_then(|p| p.container.as_deref());
                if from_container != Some(container.as_str()) {
                    return Ok(rejected(
                        "not_from_container",
                        format!(
                            "a putaway of container {container} must take the goods from that \
                             container, but a move takes them from {}: scan the tote again and \
                             put the goods away from it",
                            from_container.unwrap_or("no container")
                        ),
                    ));
                }
                let Some(to) = &m.to else {
                    return Ok(rejected(
                        "no_bin",
                        "a putaway must say which bin the goods went into: scan the bin's label",
                    ));
                };
                if let Some(r) = check_bin(ledger, &to.location)? {
                    return Ok(r);
                }
            }
            let stale = stale_claim(ledger, caller, task.as_ref())?;
            apply_valid_moves(ledger, event, &moves)?;
            for m in &moves {
                let Some(to) = &m.to else { continue };
                if override_reason.is_some()
                    || suggested.as_deref().is_some_and(|s| s != to.location)
                {
                    ledger.record_override(
                        event,
                        &container,
                        suggested.as_deref(),
                        &to.location,
                        override_reason,
                    )?;
                }
            }
            Ok(stale.unwrap_or(EventOutcome::Applied))
        }
        EventBody::BinFull { location, task } => {
            if let Some(r) = check_bin(ledger, &location)? {
                return Ok(r);
            }
            let stale = stale_claim(ledger, caller, task.as_ref())?;
            // A full bin is a fact whoever holds the task: it is recorded either way.
            ledger.record_bin_full(event, &location)?;
            Ok(stale.unwrap_or(EventOutcome::Applied))
        }
        EventBody::PutawayFinished { container, task } => {
            let row = match &task {
                Some(claim) => {
                    if let Some(stale) = stale_claim(ledger, caller, Some(claim))? {
                        return Ok(stale);
                    }
                    ledger.task(&claim.task_id)?
                }
                // Without a lease (putaway done offline from the tote): the tote is empty, so its
                // task is done whoever holds it.
                None => ledger.putaway_task_of(&container)?,
            };
            if let Some(row) = row {
                finish_task(ledger, &row)?;
            }
            Ok(EventOutcome::Applied)
        }
        other => Ok(rejected(
            "unsupported_event_type",
            format!(
                "{} is not a putaway event: update the server",
                other.type_name()
            ),
        )),
    }
}

fn check_bin<L: Ledger>(
    ledger: &mut L,
    location: &str,
) -> Result<Option<EventOutcome>, StoreError> {
    Ok(match ledger.location_kind(location)? {
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
    })
}

/// `Some(Partial)` when the event's claim is not the task's current lease.
fn stale_claim<L: Ledger>(
    ledger: &mut L,
    caller: Uuid,
    claim: Option<&TaskClaim>,
) -> Result<Option<EventOutcome>, StoreError> {
    let Some(claim) = claim else { return Ok(None) };
    let row = ledger.task(&claim.task_id)?;
    Ok(tasks::check_claim(row.as_ref(), caller, claim)
        .err()
        .map(|reason| EventOutcome::Partial {
            code: "task_taken".into(),
            reason,
        }))
}

/// Marks a task done, tells every device, and takes the work packet back from its holder.
fn finish_task<L: Ledger>(ledger: &mut L, row: &TaskRow) -> Result<(), StoreError> {
    if row.task.status == laituri_protocol::TaskStatus::Done {
        return Ok(());
    }
    let done = tasks::finish(row);
    super::save_and_publish_task(ledger, &done)?;
    if let Some(holder) = row.holder {
        ledger.append_change(
            Some(holder),
            Some(&row.task.merchant_id),
            &Change::Removed(Removed {
                kind: EntityKind::WorkPacket,
                id: row.task.task_id.clone(),
            }),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use laituri_protocol::{
        Change, EventBody, EventOutcome, GoodsCondition, OverrideReason, Place, StockMove,
        TaskClaim, TaskStatus,
    };
    use uuid::Uuid;

    use crate::push::push_batch;
    use crate::push::tests::{DEV, Fake, closed, events, fake, goods, opened};
    use crate::tasks;

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

    fn codes(l: &mut Fake, bodies: &[EventBody]) -> Vec<String> {
        push_batch(l, DEV, &events(bodies))
            .unwrap()
            .results
            .into_iter()
            .map(|r| match r.outcome {
                EventOutcome::Applied => "applied".to_string(),
                EventOutcome::Rejected { code, .. } => code,
                EventOutcome::Partial { code, .. } => format!("partial:{code}"),
                EventOutcome::Duplicate { .. } => "duplicate".into(),
            })
            .collect()
    }

    fn level(l: &Fake, location: &str, container: Option<&str>) -> i64 {
        l.stock
            .iter()
            .filter(|(k, _)| k.location == location && k.container.as_deref() == container)
            .map(|(_, q)| q)
            .sum()
    }

    const RECEIVED: usize = 3; // opened, goods (5 into T-0001 at DOCK-1), closed

    type Case = (
        &'static str,
        Vec<EventBody>,
        Vec<&'static str>,
        i64,
        i64,
        usize,
        usize,
    );

    /// (name, putaway events after a 5-unit receipt, outcome codes, tote level, A-01 level,
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
        for (name, bodies, expect, tote, bin, exceptions, counts) in cases {
            let mut l = fake();
            let mut all = vec![opened(), goods("P1", 5, "DOCK-1"), closed()];
            all.extend(bodies);
            let got = codes(&mut l, &all);
            assert_eq!(got[..RECEIVED], ["applied"; RECEIVED], "{name}");
            assert_eq!(got[RECEIVED..], expect, "{name}");
            assert_eq!(level(&l, "DOCK-1", Some("T-0001")), tote, "{name}: tote");
            assert_eq!(level(&l, "A-01", None), bin, "{name}: bin");
            assert_eq!(l.exceptions.len(), exceptions, "{name}: exceptions");
            let count_tasks = l
                .tasks
                .values()
                .filter(|t| t.task.kind == laituri_protocol::TaskKind::Count)
                .count();
            assert_eq!(count_tasks, counts, "{name}: count tasks");
        }
    }

    #[test]
    fn overrides_and_full_bins_are_recorded() {
        let mut l = fake();
        let mut all = vec![opened(), goods("P1", 5, "DOCK-1"), closed()];
        all.extend([
            put(2, "A-01", None),
            put(3, "A-02", None),
            EventBody::BinFull {
                location: "A-01".into(),
                task: None,
            },
        ]);
        codes(&mut l, &all);
        assert_eq!(l.overrides, vec!["A-02".to_string()]);
        assert_eq!(l.bins_full, vec!["A-01".to_string()]);
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
            let mut l = fake();
            codes(&mut l, &[opened(), goods("P1", 5, "DOCK-1"), closed()]);
            let id = l.tasks.keys().next().unwrap().clone();
            let row = tasks::grant(&l.tasks[&id], holder, 0).unwrap().row;
            l.tasks.insert(id.clone(), row);
            l.last_seq = 3;
            let claim = TaskClaim {
                task_id: id.clone(),
                token,
            };
            let evs: Vec<_> = events(&[
                opened(),
                opened(),
                opened(),
                put(5, "A-01", Some(claim.clone())),
                finished(Some(claim)),
            ])
            .into_iter()
            .skip(3)
            .collect();
            let resp = push_batch(&mut l, DEV, &evs).unwrap();
            let got: Vec<String> = resp
                .results
                .iter()
                .map(|r| match &r.outcome {
                    EventOutcome::Applied => "applied".to_string(),
                    EventOutcome::Partial { code, .. } => format!("partial:{code}"),
                    other => format!("{other:?}"),
                })
                .collect();
            assert_eq!(got, vec![expect_put, expect_put], "{name}");
            assert_eq!(level(&l, "A-01", None), 5, "{name}: goods moved");
            assert_eq!(l.tasks[&id].task.status, expect_done, "{name}");
            let removed = l
                .changes
                .iter()
                .any(|(to, c)| matches!(c, Change::Removed(_)) && *to == Some(holder));
            assert_eq!(removed, expect_done == TaskStatus::Done, "{name}");
        }
    }
}
