//! Bin-to-bin moves and a lead's release of a lease: the floor's stock work outside a flow's
//! course.
//!
//! A `stock_moved` event moves goods between two places of the warehouse: a quantity of an item
//! from a bin or tote to another location, or a whole tote or license plate to another location.
//! Nothing enters or leaves the warehouse, so every move has both ends; goods on a picker's cart
//! (`IN_TRANSIT`) move only with their pick task. The stock changes through [`super::moves`].
//!
//! A `lease_revoked` event is a shift lead giving a task back for a device that went away. It
//! releases the lease only while that device still holds it (a lease taken over or given back
//! meanwhile stays as it is), so it is safe to record offline and to apply late. The holder's
//! later events of the task are then refused as taken by another device (fencing tokens).
//! Pure: it reads a [`World`] and answers a [`Decision`].

use laituri_protocol::{
    Change, EntityKind, EventBody, EventOutcome, LocationKind, Removed, StockMove,
};

use super::moves;
use super::rejected;
use super::world::{Ctx, Decision, Effect, Refs, World};
use crate::tasks;

/// Adds what deciding a move or a lease's release reads (the lead who released it).
pub(super) fn refs(body: &EventBody, operator_id: &str, refs: &mut Refs) {
    match body {
        EventBody::StockMoved { moves, .. } => moves::refs(moves, refs),
        EventBody::LeaseRevoked { task_id, .. } => {
            refs.tasks.insert(task_id.clone());
            refs.operators.insert(operator_id.to_string());
        }
        _ => {}
    }
}

/// Decides `stock_moved` and `lease_revoked` (recorded by `operator_id`); anything else is
/// refused.
pub(super) fn decide(body: EventBody, world: &World, ctx: &Ctx, operator_id: &str) -> Decision {
    match body {
        EventBody::StockMoved {
            container, moves, ..
        } => match check_move(world, container.as_deref(), &moves) {
            Some(refused) => refused.into(),
            None => Decision::applied(moves::effects(world, ctx, &moves)),
        },
        EventBody::LeaseRevoked { task_id, holder } => {
            if !world.operators.get(operator_id).is_some_and(|o| o.lead) {
                return rejected(
                    "not_a_lead",
                    format!(
                        "operator {operator_id} is not a shift lead: only a lead gives back the \
                         task of a device that went away; ask a lead to do it on their terminal"
                    ),
                )
                .into();
            }
            let Some(row) = world.tasks.get(&task_id) else {
                return rejected(
                    "unknown_task",
                    format!(
                        "task {task_id} is not known to the server: the device's list of tasks \
                         is out of date; sync and look again"
                    ),
                )
                .into();
            };
            // Released already, taken over or finished: nothing of the holder's is left to give
            // back, and nobody else's lease is ever touched.
            let Some(open) = tasks::revoke(row, holder) else {
                return Decision::applied(Vec::new());
            };
            let mut fx = Effect::save_and_publish_task(open).to_vec();
            fx.push(Effect::Publish {
                device: Some(holder),
                merchant_id: Some(row.task.merchant_id.clone()),
                change: Change::Removed(Removed {
                    kind: EntityKind::WorkPacket,
                    id: task_id,
                }),
            });
            Decision::applied(fx)
        }
        other => rejected(
            "unsupported_event_type",
            format!(
                "{} is not a stock move: update the server",
                other.type_name()
            ),
        )
        .into(),
    }
}

/// `Some` is why the move is refused; nothing is applied then.
fn check_move(world: &World, container: Option<&str>, moves: &[StockMove]) -> Option<EventOutcome> {
    if moves.is_empty() {
        return Some(rejected(
            "no_moves",
            "a move without goods changes nothing: scan the goods and the new place again",
        ));
    }
    if let Some(r) = moves::validate(world, moves) {
        return Some(r);
    }
    for m in moves {
        let (Some(from), Some(to)) = (&m.from, &m.to) else {
            return Some(rejected(
                "move_needs_both_places",
                "a move inside the warehouse needs the place the goods came from and the place \
                 they went to: scan both labels again",
            ));
        };
        for place in [from, to] {
            if world.locations.get(&place.location) == Some(&LocationKind::Transit) {
                return Some(rejected(
                    "goods_in_transit",
                    format!(
                        "goods at {} are on a picker's cart and move only with their pick task: \
                         finish the pick or ask a shift lead",
                        place.location
                    ),
                ));
            }
        }
        if from == to {
            return Some(rejected(
                "same_place",
                format!(
                    "the goods are already at {}: scan the place they went to",
                    to.location
                ),
            ));
        }
        if let Some(c) = container
            && (from.container.as_deref() != Some(c) || to.container.as_deref() != Some(c))
        {
            return Some(rejected(
                "not_the_container",
                format!(
                    "a move of container {c} moves the goods in it and keeps them in it, but a \
                     move names another container: scan the tote again and move it whole"
                ),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use laituri_protocol::{
        EventBody, GoodsCondition, LocationKind, Place, StockMove, Task, TaskKind, TaskStatus,
    };
    use uuid::Uuid;

    use crate::push::tests::{DEV, run, tote_key, world};
    use crate::push::world::{Effect, StockKey, World};
    use crate::tasks::{self, TaskRow};

    fn goods(qty: i64, from: Place, to: Place) -> StockMove {
        StockMove {
            merchant_id: "M1".into(),
            product_id: "P1".into(),
            quantity: qty,
            lot: None,
            expiry: None,
            serial: None,
            condition: GoodsCondition::Good,
            from: Some(from),
            to: Some(to),
            reason: None,
        }
    }

    fn moved(container: Option<&str>, moves: Vec<StockMove>) -> EventBody {
        EventBody::StockMoved {
            move_id: Uuid::from_u128(7),
            container: container.map(str::to_string),
            moves,
        }
    }

    fn bin_key(location: &str, container: Option<&str>) -> StockKey {
        StockKey {
            location: location.into(),
            container: container.map(str::to_string),
            ..tote_key()
        }
    }

    /// Tote T-0001 at DOCK-1 with 5 units of P1.
    fn stocked() -> World {
        let mut w = world();
        w.stock.insert(tote_key(), 5);
        w.locations
            .insert(laituri_protocol::IN_TRANSIT.into(), LocationKind::Transit);
        w
    }

    #[test]
    fn a_whole_tote_and_part_of_a_bin_move_and_bad_moves_are_refused() {
        let tote = |l: &str| Place::in_container(l, "T-0001");
        // (case, event, expected outcome code, stock after: (key, qty))
        type Case = (&'static str, EventBody, &'static str, Vec<(StockKey, i64)>);
        let cases: Vec<Case> = vec![
            (
                "whole tote to a bin keeps the goods in the tote",
                moved(Some("T-0001"), vec![goods(5, tote("DOCK-1"), tote("A-01"))]),
                "applied",
                vec![(tote_key(), 0), (bin_key("A-01", Some("T-0001")), 5)],
            ),
            (
                "part of a tote into a bin",
                moved(None, vec![goods(2, tote("DOCK-1"), Place::at("A-01"))]),
                "applied",
                vec![(tote_key(), 3), (bin_key("A-01", None), 2)],
            ),
            (
                "more than the place holds is booked (physical reality wins)",
                moved(None, vec![goods(7, tote("DOCK-1"), Place::at("A-01"))]),
                "applied",
                vec![(tote_key(), -2), (bin_key("A-01", None), 7)],
            ),
            (
                "a tote move that takes goods out of the tote",
                moved(
                    Some("T-0001"),
                    vec![goods(5, tote("DOCK-1"), Place::at("A-01"))],
                ),
                "not_the_container",
                vec![(tote_key(), 5)],
            ),
            (
                "out of the warehouse is not a move",
                moved(
                    None,
                    vec![StockMove {
                        to: None,
                        ..goods(1, tote("DOCK-1"), Place::at("A-01"))
                    }],
                ),
                "move_needs_both_places",
                vec![(tote_key(), 5)],
            ),
            (
                "onto a picker's cart",
                moved(
                    None,
                    vec![goods(
                        1,
                        tote("DOCK-1"),
                        Place::in_container(laituri_protocol::IN_TRANSIT, "T-9"),
                    )],
                ),
                "goods_in_transit",
                vec![(tote_key(), 5)],
            ),
            (
                "to where they are",
                moved(None, vec![goods(1, tote("DOCK-1"), tote("DOCK-1"))]),
                "same_place",
                vec![(tote_key(), 5)],
            ),
            (
                "an unknown location",
                moved(None, vec![goods(1, tote("DOCK-1"), Place::at("Z-99"))]),
                "unknown_location",
                vec![(tote_key(), 5)],
            ),
            (
                "nothing",
                moved(None, vec![]),
                "no_moves",
                vec![(tote_key(), 5)],
            ),
            (
                "a negative quantity",
                moved(None, vec![goods(-1, tote("DOCK-1"), Place::at("A-01"))]),
                "negative_quantity",
                vec![(tote_key(), 5)],
            ),
        ];
        for (name, body, want, stock) in cases {
            let mut w = stocked();
            let (outcomes, _) = run(&mut w, &[body]);
            assert_eq!(outcomes, [want], "{name}");
            for (key, qty) in stock {
                assert_eq!(
                    w.stock.get(&key).copied().unwrap_or(0),
                    qty,
                    "{name}: {key:?}"
                );
            }
        }
    }

    fn leased(holder: Uuid) -> World {
        let mut w = world();
        let row = TaskRow::new(Task {
            orders: Vec::new(),
            task_id: "putaway-T-0001".into(),
            kind: TaskKind::Putaway,
            merchant_id: "M1".into(),
            priority: 0,
            status: TaskStatus::Open,
            container: Some("T-0001".into()),
            lines: Vec::new(),
            leased_to: None,
            reason: None,
        });
        let granted = tasks::grant(&row, holder, 0).expect("open task").row;
        w.apply(&Effect::SaveTask(granted));
        // The events of these tests are recorded by operator "op": a shift lead here.
        w.operators.insert(
            "op".into(),
            crate::push::counting::OperatorRef {
                lead: true,
                limits: None,
            },
        );
        w
    }

    #[test]
    fn a_lead_gives_back_only_the_lease_the_gone_device_still_holds() {
        let gone = Uuid::from_u128(99);
        let revoke = |holder| EventBody::LeaseRevoked {
            task_id: "putaway-T-0001".into(),
            holder,
        };
        // The device that went away holds it: open again, its packet taken back.
        let mut w = leased(gone);
        let (outcomes, fx) = run(&mut w, &[revoke(gone)]);
        assert_eq!(outcomes, ["applied"]);
        let row = &w.tasks["putaway-T-0001"];
        assert_eq!(row.task.status, TaskStatus::Open);
        assert_eq!(row.holder, None);
        assert!(
            fx.iter()
                .any(|e| matches!(e, Effect::Publish { device: Some(d), .. } if *d == gone))
        );
        // The task was taken over by another device meanwhile: untouched.
        let mut w = leased(DEV);
        let (outcomes, fx) = run(&mut w, &[revoke(gone)]);
        assert_eq!(outcomes, ["applied"]);
        assert!(fx.is_empty(), "{fx:?}");
        assert_eq!(w.tasks["putaway-T-0001"].task.status, TaskStatus::Leased);
        // Not a lead: refused, the lease untouched.
        let mut w = leased(gone);
        w.operators.clear();
        let (outcomes, fx) = run(&mut w, &[revoke(gone)]);
        assert_eq!(outcomes, ["not_a_lead"]);
        assert!(
            !fx.iter().any(|e| matches!(e, Effect::SaveTask(_))),
            "{fx:?}"
        );
        assert_eq!(w.tasks["putaway-T-0001"].task.status, TaskStatus::Leased);
        // An unknown task.
        let mut w = leased(gone);
        w.tasks.clear();
        let (outcomes, _) = run(&mut w, &[revoke(gone)]);
        assert_eq!(outcomes, ["unknown_task"]);
    }
}
