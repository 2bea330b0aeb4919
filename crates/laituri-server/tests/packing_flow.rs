//! Packing end to end through the real server: an order picked to packing is published to every
//! device as a pack order (goods per tote, inserts, documents, no personal data); a station's
//! parcels and the finish make it packed and its goods leave the warehouse; wrong parcels are
//! refused and nothing is booked twice. Runs on both backends.

mod common;

use common::outbound::{
    applied, get_order, order_of, pick_all, post_order, release, stock_up, take_pick_task,
};
use common::webhooks::{self, Receiver};
use common::{Device, KETTU_GTIN, TestServer, api_error, json_ok};
use std::sync::Arc;

use laituri_carrier::DemoCarrier;
use laituri_carrier::demo::is_valid_s10;
use laituri_protocol::WebhookEventType;
use laituri_protocol::webhooks::{OrderShipped, OrderStatusChanged};
use laituri_protocol::{
    Change, EntityKind, Event, EventBody, EventOutcome, GoodsCondition, LabelRequest, OrderLine,
    OrderStatus, PackOrder, Parcel, Place, PushResponse, ShipmentLabels, StockMove, StockRow,
    WeightSource, paths,
};
use laituri_server::clock::Clock;
use laituri_server::demo::KETTU;
use laituri_server::shipping::Shipping;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

const PRODUCT: &str = "KO-006";
const BIN: &str = "B-01-01-1";
const PACK: &str = "PACK-1";

/// Every pack order the device pulls, and the ids of those removed since.
async fn pack_orders(s: &TestServer, dev: &Device) -> (Vec<PackOrder>, Vec<String>) {
    let pulled = s.pull(dev, 0, None).await;
    let mut orders = Vec::new();
    let mut removed = Vec::new();
    for c in pulled.changes {
        match c.change {
            Change::PackOrder(p) => orders.push(p),
            Change::Removed(r) if r.kind == EntityKind::PackOrder => removed.push(r.id),
            _ => {}
        }
    }
    (orders, removed)
}

fn parcel(number: u32, units: i64) -> Parcel {
    Parcel {
        number,
        box_type: Some("S".into()),
        box_overridden: false,
        weight_g: 800,
        weight_source: WeightSource::Scale,
        contents: vec![OrderLine {
            product_id: PRODUCT.into(),
            quantity: units,
        }],
        tracking_number: None,
        tracking_url: None,
    }
}

/// The moves that ship `pack`'s goods out of their totes.
fn ship_out(pack: &PackOrder) -> Vec<StockMove> {
    pack.goods
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
        .collect()
}

async fn outcomes(s: &TestServer, dev: &Device, evs: &[Event]) -> Vec<EventOutcome> {
    let resp: PushResponse = json_ok(s.push(dev, evs).await).await;
    resp.results.into_iter().map(|r| r.outcome).collect()
}

async fn stock_at(s: &TestServer, location: &str) -> i64 {
    let rows: Vec<StockRow> = s
        .admin_get(&format!(
            "{}?product_id={PRODUCT}&location={location}",
            paths::STOCK
        ))
        .await;
    rows.iter().map(|r| r.quantity).sum()
}

/// An order of `units`, reserved, released and picked whole to packing by `picker`.
async fn picked_order(s: &TestServer, key: &str, picker: &mut Device, units: i64) -> Uuid {
    let body = order_of(KETTU, "K-2001", &[(PRODUCT, units)], 0);
    let mut body = body;
    body["documents"] = json!([{"kind": "receipt", "url": "https://shop.example/r/1"}]);
    let order = post_order(s, key, body).await;
    let run = release(s, json!({})).await;
    assert_eq!(run.tasks, 1, "{run:?}");
    let (task, claim) = take_pick_task(s, picker).await;
    let evs = pick_all(picker, &task, &claim, PACK);
    applied(s, picker, &evs).await;
    assert_eq!(
        get_order(s, key, order.id).await.status,
        OrderStatus::Picked
    );
    order.id
}

#[tokio::test]
async fn a_picked_order_is_packed_into_two_parcels_and_its_goods_leave() {
    let s = TestServer::seeded();
    let key = s.merchant_key(KETTU).await;
    let mut picker = s.device().await;
    stock_up(&s, &mut picker, KETTU, PRODUCT, KETTU_GTIN, 5, BIN).await;
    let order_id = picked_order(&s, &key, &mut picker, 3).await;

    // Every device learns the order is ready to pack: its goods per tote, no personal data.
    let mut station = s.device().await;
    let (packs, _) = pack_orders(&s, &station).await;
    let pack = packs
        .iter()
        .find(|p| p.order_id == order_id)
        .expect("a pack order")
        .clone();
    assert_eq!(pack.reference, "K-2001");
    assert_eq!(pack.documents, vec!["receipt".to_string()]);
    assert_eq!(pack.goods.iter().map(|g| g.quantity).sum::<i64>(), 3);
    assert!(pack.goods.iter().all(|g| g.location == PACK));
    let raw = serde_json::to_string(&pack).unwrap();
    for personal in ["Asiakas", "Katu 1", "shop.example"] {
        assert!(!raw.contains(personal), "{personal} in {raw}");
    }
    assert_eq!(stock_at(&s, PACK).await, 3);

    // A parcel of a product the order does not hold is refused; one of its own is taken.
    let wrong = Parcel {
        contents: vec![OrderLine {
            product_id: "KO-001".into(),
            quantity: 1,
        }],
        ..parcel(1, 1)
    };
    let evs = [station.event(&EventBody::ParcelPacked {
        order_id,
        location: PACK.into(),
        parcel: wrong,
    })];
    let got = outcomes(&s, &station, &evs).await;
    assert!(
        matches!(&got[0], EventOutcome::Rejected { code, .. } if code == "not_in_order"),
        "{got:?}"
    );
    // Two parcels, then the finish ships the goods out of the tote.
    let evs = [
        station.event(&EventBody::ParcelPacked {
            order_id,
            location: PACK.into(),
            parcel: parcel(1, 2),
        }),
        station.event(&EventBody::ParcelPacked {
            order_id,
            location: PACK.into(),
            parcel: parcel(2, 1),
        }),
        station.event(&EventBody::PackingFinished {
            order_id,
            location: PACK.into(),
            parcels: 2,
            moves: ship_out(&pack),
        }),
    ];
    applied(&s, &station, &evs).await;
    let packed = get_order(&s, &key, order_id).await;
    assert_eq!(packed.status, OrderStatus::Packed, "{:?}", packed.history);
    assert_eq!(packed.parcels.len(), 2);
    assert_eq!(packed.parcels[1].contents[0].quantity, 1);
    assert_eq!(stock_at(&s, PACK).await, 0, "the goods left the warehouse");
    let (_, removed) = pack_orders(&s, &station).await;
    assert!(removed.contains(&order_id.to_string()), "{removed:?}");

    // The station asks for the labels: booked with the carrier, the order shipped with its
    // tracking numbers; asked again (a reprint), the same labels.
    let labels: ShipmentLabels = json_ok(
        s.device_post(&station, paths::LABELS, &LabelRequest { order_id })
            .await,
    )
    .await;
    assert_eq!(labels.parcels.len(), 2);
    for l in &labels.parcels {
        assert!(is_valid_s10(&l.tracking_number), "{}", l.tracking_number);
        assert!(l.tracking_url.contains(&l.tracking_number));
        assert!(l.zpl.starts_with("^XA") && l.zpl.contains(&l.tracking_number));
        assert!(!l.png_base64.is_empty());
    }
    let shipped = get_order(&s, &key, order_id).await;
    assert_eq!(
        shipped.status,
        OrderStatus::Shipped,
        "{:?}",
        shipped.history
    );
    let tracking: Vec<_> = shipped
        .parcels
        .iter()
        .map(|p| p.tracking_number.clone().unwrap())
        .collect();
    let given: Vec<_> = labels
        .parcels
        .iter()
        .map(|l| l.tracking_number.clone())
        .collect();
    assert_eq!(tracking, given);
    assert_eq!(shipped.shipment.as_ref().unwrap().carrier, "demo");
    let again: ShipmentLabels = json_ok(
        s.device_post(&station, paths::LABELS, &LabelRequest { order_id })
            .await,
    )
    .await;
    assert_eq!(again, labels);
    // The customer's data erased: the labels (name and address) go with it.
    let resp = s
        .client
        .post(s.url(paths::ERASURES))
        .bearer_auth(&key)
        .json(&json!({"merchant_id": KETTU, "references": ["K-2001"]}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let resp = s
        .device_post(&station, paths::LABELS, &LabelRequest { order_id })
        .await;
    api_error(resp, StatusCode::GONE, "personal_data_erased").await;

    // A second station finishing the same order ships nothing more on the books of the order:
    // its goods are booked (they moved), the order's bookkeeping is refused for a lead.
    let mut other = s.device().await;
    let evs = [other.event(&EventBody::PackingFinished {
        order_id,
        location: PACK.into(),
        parcels: 2,
        moves: ship_out(&pack),
    })];
    let got = outcomes(&s, &other, &evs).await;
    assert!(
        matches!(&got[0], EventOutcome::Partial { code, reason } if code == "packing_not_booked" && reason.contains("packed already")),
        "{got:?}"
    );
    assert_eq!(
        get_order(&s, &key, order_id).await.status,
        OrderStatus::Shipped
    );
}

#[tokio::test]
async fn a_finish_that_does_not_match_the_parcels_is_told_and_the_order_stays_picked() {
    let s = TestServer::seeded();
    let key = s.merchant_key(KETTU).await;
    let mut picker = s.device().await;
    stock_up(&s, &mut picker, KETTU, PRODUCT, KETTU_GTIN, 4, BIN).await;
    let order_id = picked_order(&s, &key, &mut picker, 2).await;
    let mut station = s.device().await;
    let (packs, _) = pack_orders(&s, &station).await;
    let pack = packs.into_iter().find(|p| p.order_id == order_id).unwrap();

    // One parcel holds one unit, the finish says two parcels: refused bookkeeping, for a lead.
    let evs = [
        station.event(&EventBody::ParcelPacked {
            order_id,
            location: PACK.into(),
            parcel: parcel(1, 1),
        }),
        station.event(&EventBody::PackingFinished {
            order_id,
            location: PACK.into(),
            parcels: 2,
            moves: ship_out(&pack),
        }),
    ];
    let got = outcomes(&s, &station, &evs).await;
    assert_eq!(got[0], EventOutcome::Applied);
    assert!(
        matches!(&got[1], EventOutcome::Partial { code, .. } if code == "packing_not_booked"),
        "{got:?}"
    );
    assert_eq!(
        get_order(&s, &key, order_id).await.status,
        OrderStatus::Picked
    );
    // Its labels are not given while it is not packed: the station asks again later.
    let resp = s
        .device_post(&station, paths::LABELS, &LabelRequest { order_id })
        .await;
    let refusal = api_error(resp, StatusCode::CONFLICT, "not_packed").await;
    assert!(refusal.message.contains("K-2001"), "{}", refusal.message);
    // A parcel at a location that is not a packing one is refused.
    let evs = [station.event(&EventBody::ParcelPacked {
        order_id,
        location: BIN.into(),
        parcel: parcel(2, 1),
    })];
    let got = outcomes(&s, &station, &evs).await;
    assert!(
        matches!(&got[0], EventOutcome::Rejected { code, .. } if code == "not_packing"),
        "{got:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_merchant_is_told_its_order_shipped_with_its_tracking_numbers() {
    let clock = Clock::manual(1_773_563_400_000);
    let s = webhooks::server(&clock, true);
    let key = s.merchant_key(KETTU).await;
    let rx = Receiver::closed();
    rx.listen().await;
    webhooks::subscribe(
        &s,
        &key,
        json!({"url": rx.url("/shop/hooks"), "secret": webhooks::SECRET,
               "event_types": ["order_status_changed", "order_shipped"]}),
    )
    .await;
    let mut picker = s.device().await;
    stock_up(&s, &mut picker, KETTU, PRODUCT, KETTU_GTIN, 4, BIN).await;
    let order_id = picked_order(&s, &key, &mut picker, 2).await;
    let mut station = s.device().await;
    pack_in_one(&s, &mut station, order_id, 2).await;
    let labels: ShipmentLabels = json_ok(
        s.device_post(&station, paths::LABELS, &LabelRequest { order_id })
            .await,
    )
    .await;

    // The shop's receiver gets "shipped" with the tracking number, signed, and every status
    // the order went through (in any order: deliveries are not ordered).
    let statuses = |rx: &Receiver| -> Vec<OrderStatus> {
        rx.got("/shop/hooks")
            .iter()
            .filter(|g| g.envelope().kind == WebhookEventType::OrderStatusChanged)
            .map(|g| {
                serde_json::from_value::<OrderStatusChanged>(g.envelope().data)
                    .unwrap()
                    .new_status
            })
            .collect()
    };
    let arrived = |rx: &Receiver| {
        let shipped = rx
            .got("/shop/hooks")
            .into_iter()
            .find(|g| g.envelope().kind == WebhookEventType::OrderShipped);
        let seen = statuses(rx);
        shipped.filter(|_| {
            [OrderStatus::Packed, OrderStatus::Shipped]
                .iter()
                .all(|s| seen.contains(s))
        })
    };
    let mut shipped = None;
    for _ in 0..1_500 {
        shipped = arrived(&rx);
        if shipped.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let shipped =
        shipped.unwrap_or_else(|| panic!("shipped and its statuses: {:?}", statuses(&rx)));
    assert!(webhooks::signed(&shipped));
    let data: OrderShipped = serde_json::from_value(shipped.envelope().data).unwrap();
    assert_eq!(data.order_id, order_id);
    assert_eq!(data.carrier, "demo");
    assert_eq!(
        data.parcels[0].tracking_number,
        labels.parcels[0].tracking_number
    );
    let raw = String::from_utf8_lossy(&shipped.body).to_string();
    assert!(!raw.contains("Asiakas") && !raw.contains("Katu 1"), "{raw}");
}

/// Packs `order_id` (picked, `units` of the product) into one parcel and finishes it.
async fn pack_in_one(s: &TestServer, station: &mut Device, order_id: Uuid, units: i64) {
    let (packs, _) = pack_orders(s, station).await;
    let pack = packs.into_iter().find(|p| p.order_id == order_id).unwrap();
    let evs = [
        station.event(&EventBody::ParcelPacked {
            order_id,
            location: PACK.into(),
            parcel: parcel(1, units),
        }),
        station.event(&EventBody::PackingFinished {
            order_id,
            location: PACK.into(),
            parcels: 1,
            moves: ship_out(&pack),
        }),
    ];
    applied(s, station, &evs).await;
}

#[tokio::test]
async fn a_carrier_that_is_down_or_refuses_leaves_the_order_packed_and_says_what_to_do() {
    let (dir, pg, mut config) = common::fresh_config();
    config.shipping = Shipping {
        carrier: Arc::new(DemoCarrier::failing(1)),
        ..Shipping::demo()
    };
    let s = TestServer::start_on(dir, pg, config);
    laituri_server::demo::seed(&s.config, common::today()).unwrap();
    let key = s.merchant_key(KETTU).await;
    let mut picker = s.device().await;
    stock_up(&s, &mut picker, KETTU, PRODUCT, KETTU_GTIN, 4, BIN).await;
    let order_id = picked_order(&s, &key, &mut picker, 2).await;
    let mut station = s.device().await;
    pack_in_one(&s, &mut station, order_id, 2).await;

    // The carrier does not answer: 503, the order stays packed; asked again, it is booked.
    let request = LabelRequest { order_id };
    let ask = || s.device_post(&station, paths::LABELS, &request);
    api_error(
        ask().await,
        StatusCode::SERVICE_UNAVAILABLE,
        "carrier_unavailable",
    )
    .await;
    assert_eq!(
        get_order(&s, &key, order_id).await.status,
        OrderStatus::Packed
    );
    let labels: ShipmentLabels = json_ok(ask().await).await;
    assert_eq!(labels.parcels.len(), 1);
    assert_eq!(
        get_order(&s, &key, order_id).await.status,
        OrderStatus::Shipped
    );

    // An order to a postcode the carrier does not take: 422 naming the field, never its value.
    let mut body = order_of(KETTU, "K-2002", &[(PRODUCT, 1)], 0);
    body["recipient"]["postcode"] = json!("HKI-9Z");
    let order = post_order(&s, &key, body).await;
    release(&s, json!({})).await;
    let (task, claim) = take_pick_task(&s, &picker).await;
    let evs = pick_all(&mut picker, &task, &claim, PACK);
    applied(&s, &picker, &evs).await;
    pack_in_one(&s, &mut station, order.id, 1).await;
    let resp = s
        .device_post(
            &station,
            paths::LABELS,
            &LabelRequest { order_id: order.id },
        )
        .await;
    let refusal = api_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "carrier_refused").await;
    assert!(refusal.message.contains("postcode"), "{}", refusal.message);
    assert!(!refusal.message.contains("HKI-9Z"), "{}", refusal.message);
    assert_eq!(
        get_order(&s, &key, order.id).await.status,
        OrderStatus::Packed
    );
}
