//! Moves inside the warehouse end to end, on either backend: a whole tote moved from the dock
//! into a bin keeps its goods in it, part of a bin moves into another bin, a move that leaves
//! the warehouse or takes goods off a picker's cart is refused with nothing booked, and the
//! merchant's stock totals do not change. A shift lead's release of a lease held by a device
//! that went away opens the task again (anyone else's release is refused), and that device's
//! later progress is refused as taken.

mod common;

use common::{Device, TestServer, json_ok};
use laituri_protocol::{
    EventBody, EventOutcome, GoodsCondition, IN_TRANSIT, LeaseRequest, LeaseResponse, Place,
    PushResponse, StockMove, StockRow, Task, TaskClaim, TaskKind, TaskStatus, paths,
};
use uuid::Uuid;

const MERCHANT: &str = "kettu-outdoor";
const PRODUCT: &str = "KO-006";
const TOTE: &str = "T-0077";
const BIN_A: &str = "B-01-01-1";
const BIN_B: &str = "B-01-02-1";

fn goods(qty: i64, from: Place, to: Option<Place>) -> StockMove {
    StockMove {
        merchant_id: MERCHANT.into(),
        product_id: PRODUCT.into(),
        quantity: qty,
        lot: None,
        expiry: None,
        serial: None,
        condition: GoodsCondition::Good,
        from: Some(from),
        to,
        reason: None,
    }
}

fn moved(container: Option<&str>, moves: Vec<StockMove>) -> EventBody {
    EventBody::StockMoved {
        move_id: Uuid::now_v7(),
        container: container.map(str::to_string),
        moves,
    }
}

/// The demo's shift lead, and an operator who is not one.
const LEAD: &str = "OP-1900";
const CLERK: &str = "OP-1001";

async fn push(s: &TestServer, dev: &mut Device, bodies: &[EventBody]) -> Vec<EventOutcome> {
    push_by(s, dev, CLERK, bodies).await
}

async fn push_by(
    s: &TestServer,
    dev: &mut Device,
    operator: &str,
    bodies: &[EventBody],
) -> Vec<EventOutcome> {
    let evs: Vec<_> = bodies.iter().map(|b| dev.event_by(operator, b)).collect();
    let resp: PushResponse = json_ok(s.push(dev, &evs).await).await;
    resp.results.into_iter().map(|r| r.outcome).collect()
}

fn code(o: &EventOutcome) -> &str {
    match o {
        EventOutcome::Applied => "applied",
        EventOutcome::Rejected { code, .. } | EventOutcome::Partial { code, .. } => code,
        EventOutcome::Duplicate { .. } => "duplicate",
    }
}

/// The merchant's stock of the product: (location, container) -> units, zero rows left out.
async fn stock(s: &TestServer) -> Vec<(String, Option<String>, i64)> {
    let rows: Vec<StockRow> = s
        .admin_get(&format!("{}?product_id={PRODUCT}", paths::STOCK))
        .await;
    let mut out: Vec<_> = rows
        .into_iter()
        .filter(|r| r.quantity != 0)
        .map(|r| (r.location, r.container, r.quantity))
        .collect();
    out.sort();
    out
}

/// Receives `qty` into the tote at the dock and closes the receipt (its putaway task opens).
async fn receive(s: &TestServer, dev: &mut Device, qty: i64) {
    let r = Uuid::now_v7();
    let outcomes = push(
        s,
        dev,
        &[
            common::receipt_opened(r),
            common::goods_received(r, qty, TOTE),
            common::receipt_closed(r),
        ],
    )
    .await;
    assert!(
        outcomes.iter().all(|o| *o == EventOutcome::Applied),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_whole_tote_and_part_of_a_bin_move_and_moves_out_or_off_a_cart_are_refused() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    receive(&s, &mut dev, 6).await;
    let tote = |l: &str| Place::in_container(l, TOTE);

    // The whole tote into bin A: the goods stay in the tote.
    let out = push(
        &s,
        &mut dev,
        &[moved(
            Some(TOTE),
            vec![goods(6, tote("DOCK-1"), Some(tote(BIN_A)))],
        )],
    )
    .await;
    assert_eq!(code(&out[0]), "applied", "{out:?}");
    assert_eq!(stock(&s).await, vec![(BIN_A.into(), Some(TOTE.into()), 6)]);

    // Two out of the tote into bin B, loose.
    let out = push(
        &s,
        &mut dev,
        &[moved(
            None,
            vec![goods(2, tote(BIN_A), Some(Place::at(BIN_B)))],
        )],
    )
    .await;
    assert_eq!(code(&out[0]), "applied", "{out:?}");
    assert_eq!(
        stock(&s).await,
        vec![
            (BIN_A.into(), Some(TOTE.into()), 4),
            (BIN_B.into(), None, 2),
        ]
    );

    // Refused, nothing booked: out of the warehouse, onto a picker's cart, an unknown bin.
    let before = stock(&s).await;
    let refused = push(
        &s,
        &mut dev,
        &[
            moved(None, vec![goods(1, Place::at(BIN_B), None)]),
            moved(
                None,
                vec![goods(
                    1,
                    Place::at(BIN_B),
                    Some(Place::in_container(IN_TRANSIT, "T-9")),
                )],
            ),
            moved(
                None,
                vec![goods(1, Place::at(BIN_B), Some(Place::at("Z-99-99")))],
            ),
            moved(
                Some(TOTE),
                vec![goods(4, tote(BIN_A), Some(Place::at(BIN_B)))],
            ),
        ],
    )
    .await;
    let codes: Vec<_> = refused.iter().map(code).collect();
    assert_eq!(
        codes,
        [
            "move_needs_both_places",
            "goods_in_transit",
            "unknown_location",
            "not_the_container"
        ]
    );
    assert_eq!(stock(&s).await, before);
}

#[tokio::test]
async fn a_lead_gives_back_a_lease_and_the_gone_device_is_refused_as_taken() {
    let s = TestServer::seeded();
    let mut gone = s.device().await;
    let mut lead = s.device().await;
    receive(&s, &mut gone, 3).await;
    let lease: LeaseResponse = json_ok(
        s.device_post(
            &gone,
            paths::LEASE,
            &LeaseRequest {
                task_id: None,
                kind: Some(TaskKind::Putaway),
            },
        )
        .await,
    )
    .await;
    let task_id = lease.packet.task.task_id.clone();
    let claim = TaskClaim {
        task_id: task_id.clone(),
        token: lease.packet.lease.token,
    };
    let revoke = EventBody::LeaseRevoked {
        task_id: task_id.clone(),
        holder: gone.id,
    };
    // Only a shift lead gives a task back: a clerk's release is refused and changes nothing.
    let out = push(&s, &mut lead, std::slice::from_ref(&revoke)).await;
    assert_eq!(code(&out[0]), "not_a_lead", "{out:?}");
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    let task = tasks.iter().find(|t| t.task_id == task_id).unwrap();
    assert_eq!(task.status, TaskStatus::Leased);
    let out = push_by(&s, &mut lead, LEAD, std::slice::from_ref(&revoke)).await;
    assert_eq!(code(&out[0]), "applied", "{out:?}");
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    let task = tasks.iter().find(|t| t.task_id == task_id).unwrap();
    assert_eq!(task.status, TaskStatus::Open);
    assert_eq!(task.leased_to, None);

    // Given back twice (a second lead, or the first again): nothing more happens.
    let out = push_by(&s, &mut lead, LEAD, &[revoke]).await;
    assert_eq!(code(&out[0]), "applied");

    // The device comes back: its goods still move, its progress is refused as taken.
    let out = push(
        &s,
        &mut gone,
        &[EventBody::PutawayFinished {
            container: TOTE.into(),
            task: Some(claim),
        }],
    )
    .await;
    assert_eq!(code(&out[0]), "task_taken", "{out:?}");
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    let task = tasks.iter().find(|t| t.task_id == task_id).unwrap();
    assert_eq!(
        task.status,
        TaskStatus::Open,
        "the task was not finished by the gone device"
    );
}
