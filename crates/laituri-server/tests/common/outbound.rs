//! Orders out for the server's tests: stock put into bins, orders through the integration API,
//! a released pick task taken and picked whole to packing.

use laituri_protocol::{
    Change, DroppedTote, Event, EventBody, EventOutcome, GoodsCondition, IN_TRANSIT, LabelRequest,
    LeaseRequest, LeaseResponse, Order, OrderLine, OrderStatus, Parcel, Place, PushResponse,
    ReleaseOrdersResult, ShipmentLabels, StockMove, Task, TaskClaim, TaskKind, TaskLine,
    WeightSource, paths,
};
use laituri_server::demo::outbound::{Shelving, shelve};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Device, TestServer, json_ok};

/// Receives `units` of `product` (scanned as `barcode`) into a tote and puts them away into
/// `bin`.
pub async fn stock_up(
    s: &TestServer,
    dev: &mut Device,
    merchant: &str,
    product: &str,
    barcode: &str,
    units: i64,
    bin: &str,
) {
    let receipt = Uuid::now_v7();
    let tote = format!("T-IN-{}", &receipt.simple().to_string()[24..]);
    let shelving = Shelving {
        merchant,
        product,
        barcode,
        units,
        lot: None,
        expiry: None,
        tote: &tote,
        bin,
    };
    let evs: Vec<_> = shelve(receipt, &shelving)
        .iter()
        .map(|b| dev.event(b))
        .collect();
    applied(s, dev, &evs).await;
}

/// Pushes `evs` and asserts each was applied.
pub async fn applied(s: &TestServer, dev: &Device, evs: &[Event]) {
    let resp: PushResponse = json_ok(s.push(dev, evs).await).await;
    for r in &resp.results {
        assert_eq!(r.outcome, EventOutcome::Applied, "{r:?}");
    }
}

/// An order of `lines` (product, units) as a shop sends it.
pub fn order_of(merchant: &str, reference: &str, lines: &[(&str, i64)], priority: i32) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(p, q)| json!({"product_id": p, "quantity": q}))
        .collect();
    json!({
        "merchant_id": merchant,
        "reference": reference,
        "lines": lines,
        "shipping_method": "posti-parcel",
        "priority": priority,
        "recipient": {"name": "Asiakas", "address": "Katu 1", "postcode": "00100",
                      "city": "Helsinki", "country": "FI"}
    })
}

pub async fn post_order(s: &TestServer, key: &str, body: Value) -> Order {
    let resp = s
        .client
        .post(s.url(paths::ORDERS))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    json_ok(resp).await
}

pub async fn get_order(s: &TestServer, key: &str, id: Uuid) -> Order {
    let resp = s
        .client
        .get(s.url(&format!("{}/{id}", paths::ORDERS)))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    json_ok(resp).await
}

pub async fn release(s: &TestServer, body: Value) -> ReleaseOrdersResult {
    json_ok(s.admin_post(paths::RELEASE_ORDERS, &body).await).await
}

/// The device leases the next pick task: the task and its claim.
pub async fn take_pick_task(s: &TestServer, dev: &Device) -> (Task, TaskClaim) {
    let lease: LeaseResponse = json_ok(
        s.device_post(
            dev,
            paths::LEASE,
            &LeaseRequest {
                task_id: None,
                kind: Some(TaskKind::Pick),
            },
        )
        .await,
    )
    .await;
    let claim = TaskClaim {
        task_id: lease.packet.task.task_id.clone(),
        token: lease.packet.lease.token,
    };
    (lease.packet.task, claim)
}

/// The goods of a pick line, `quantity` units from `from` to `to`.
pub fn line_goods(line: &TaskLine, quantity: i64, from: Place, to: Place) -> StockMove {
    StockMove {
        quantity,
        from: Some(from),
        to: Some(to),
        condition: GoodsCondition::Good,
        reason: None,
        ..line.goods.clone()
    }
}

/// The events that pick every line of `task` in full into the tote of its order's slot
/// (`T-PICK-<slot>`), drop the totes at `packing` and finish the task.
pub fn pick_all(dev: &mut Device, task: &Task, claim: &TaskClaim, packing: &str) -> Vec<Event> {
    let tote_of = |order: Uuid| {
        let slot = task
            .orders
            .iter()
            .find(|o| o.order_id == order)
            .unwrap()
            .slot;
        format!("T-PICK-{slot}")
    };
    let mut evs = Vec::new();
    let mut drop_moves = Vec::new();
    for line in &task.lines {
        let order = line.order_id.unwrap();
        let tote = tote_of(order);
        let bin = line.goods.from.clone().unwrap();
        let qty = line.goods.quantity;
        evs.push(dev.event(&EventBody::Picked {
            task: claim.clone(),
            order_id: order,
            line_id: line.line_id.clone().unwrap(),
            tote: tote.clone(),
            suggested_lot: line.goods.lot.clone(),
            moves: vec![line_goods(
                line,
                qty,
                bin,
                Place::in_container(IN_TRANSIT, &tote),
            )],
        }));
        drop_moves.push(line_goods(
            line,
            qty,
            Place::in_container(IN_TRANSIT, &tote),
            Place::in_container(packing, &tote),
        ));
    }
    let totes = task
        .orders
        .iter()
        .map(|o| DroppedTote {
            order_id: o.order_id,
            tote: tote_of(o.order_id),
        })
        .collect();
    evs.push(dev.event(&EventBody::TotesDropped {
        task: claim.clone(),
        location: packing.into(),
        totes,
        moves: drop_moves,
    }));
    evs.push(dev.event(&EventBody::PickFinished {
        task: claim.clone(),
    }));
    evs
}

/// An order of `lines` sent, released, picked whole by `picker` to `packing`, packed by
/// `station` into one parcel and booked with the carrier: the order as shipped. The stock must
/// be in bins already.
pub async fn shipped_order(
    s: &TestServer,
    key: &str,
    picker: &mut Device,
    station: &mut Device,
    body: Value,
    packing: &str,
) -> Order {
    let order = post_order(s, key, body).await;
    let run = release(s, json!({})).await;
    assert!(run.tasks >= 1, "{run:?}");
    let (task, claim) = take_pick_task(s, picker).await;
    let evs = pick_all(picker, &task, &claim, packing);
    applied(s, picker, &evs).await;
    let pack = s
        .pull(station, 0, None)
        .await
        .changes
        .into_iter()
        .filter_map(|c| match c.change {
            Change::PackOrder(p) if p.order_id == order.id => Some(p),
            _ => None,
        })
        .next_back()
        .expect("the picked order is ready to pack");
    let mut contents: Vec<OrderLine> = Vec::new();
    for g in &pack.goods {
        match contents.iter_mut().find(|l| l.product_id == g.product_id) {
            Some(l) => l.quantity += g.quantity,
            None => contents.push(OrderLine {
                product_id: g.product_id.clone(),
                quantity: g.quantity,
            }),
        }
    }
    let ship_out = pack
        .goods
        .iter()
        .map(|g| StockMove {
            merchant_id: pack.merchant_id.clone(),
            product_id: g.product_id.clone(),
            quantity: g.quantity,
            lot: g.lot.clone(),
            expiry: g.expiry.clone(),
            serial: None,
            condition: GoodsCondition::Good,
            from: Some(Place::in_container(&g.location, &g.tote)),
            to: None,
            reason: None,
        })
        .collect();
    let evs = [
        station.event(&EventBody::ParcelPacked {
            order_id: order.id,
            location: packing.into(),
            parcel: Parcel {
                number: 1,
                box_type: None,
                box_overridden: false,
                weight_g: 900,
                weight_source: WeightSource::Scale,
                contents,
                tracking_number: None,
                tracking_url: None,
            },
        }),
        station.event(&EventBody::PackingFinished {
            order_id: order.id,
            location: packing.into(),
            parcels: 1,
            moves: ship_out,
        }),
    ];
    applied(s, station, &evs).await;
    let labels: ShipmentLabels = json_ok(
        s.device_post(station, paths::LABELS, &LabelRequest { order_id: order.id })
            .await,
    )
    .await;
    assert_eq!(labels.parcels.len(), 1);
    let shipped = get_order(s, key, order.id).await;
    assert_eq!(shipped.status, OrderStatus::Shipped);
    shipped
}
