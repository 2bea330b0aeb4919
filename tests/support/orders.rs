//! Orders out on the demo server, through its APIs as a merchant's shop and the warehouse use
//! them: stock put in place by a device of its own (receive into a tote, put away into a bin),
//! orders posted through the integration API, released into pick tasks by the admin API, and
//! the orders, tasks and stock read back.
#![allow(dead_code)]

use laituri_protocol::{
    EnrolRequest, EnrolResponse, Event, EventOutcome, LeaseRequest, LeaseResponse, Order,
    PROTOCOL_HEADER, PROTOCOL_VERSION, PushRequest, PushResponse, ReleaseOrdersResult, Task,
    WorkPacket, paths,
};
use laituri_server::demo;
use laituri_server::demo::outbound::{Shelving, shelve};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The demo's outdoor shop, whose plain products the picking tests order.
pub const MERCHANT: &str = demo::KETTU;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// POSTs `body` (with a bearer `token`, if any) and decodes a 2xx answer, or fails with the
/// server's words.
fn post<B: Serialize, T: DeserializeOwned>(url: &str, token: Option<&str>, body: &B) -> T {
    runtime().block_on(async {
        let mut request = reqwest::Client::new()
            .post(url)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let resp = request.send().await.expect("server answers");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{url}: {status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
    })
}

fn get<T: DeserializeOwned>(url: &str) -> T {
    runtime().block_on(async {
        let resp = reqwest::Client::new()
            .get(url)
            .bearer_auth(demo::ADMIN_KEY)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .send()
            .await
            .expect("server answers");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{url}: {status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
    })
}

/// A device of its own that brings goods in: received at the dock into a tote, put away into
/// a bin, each batch applied by the server before it returns.
pub struct Stocker {
    base: String,
    id: Uuid,
    token: String,
    next_seq: u64,
}

impl Stocker {
    pub fn enrol(base: &str) -> Stocker {
        let id = Uuid::now_v7();
        let resp: EnrolResponse = post(
            &format!("{base}{}", paths::ENROL),
            None,
            &EnrolRequest {
                enrolment_code: demo::ENROLMENT_CODE.into(),
                device_id: id,
                device_name: "stock for picking".into(),
                protocol_version: PROTOCOL_VERSION,
            },
        );
        Stocker {
            base: base.to_string(),
            id,
            token: resp.token,
            next_seq: resp.last_seq + 1,
        }
    }

    /// Receives `quantity` units of the shop's `product` and puts them away into `bin`.
    pub fn stock_up(&mut self, product: &str, quantity: i64, bin: &str) {
        let receipt = Uuid::now_v7();
        let tote = format!("T-IN-{}", &receipt.simple().to_string()[20..]);
        self.push_applied(&shelving(receipt, product, quantity, &tote, bin));
    }

    /// Receives `quantity` units of the shop's `product` into `tote` at the dock, where it
    /// stays (its putaway task open).
    pub fn receive_into(&mut self, product: &str, quantity: i64, tote: &str) {
        let bodies: Vec<_> = shelving(Uuid::now_v7(), product, quantity, tote, "")
            .into_iter()
            .filter(|b| !matches!(b, laituri_protocol::EventBody::PutAway { .. }))
            .collect();
        self.push_applied(&bodies);
    }

    /// Pushes `bodies` as this device's next events; every one must be applied.
    fn push_applied(&mut self, bodies: &[laituri_protocol::EventBody]) {
        for outcome in self.push(bodies) {
            assert_eq!(outcome, EventOutcome::Applied);
        }
    }

    /// Pushes `bodies` as this device's next events: the server's outcome of each.
    pub fn push(&mut self, bodies: &[laituri_protocol::EventBody]) -> Vec<EventOutcome> {
        let events: Vec<Event> = bodies
            .iter()
            .map(|b| {
                let seq = self.next_seq;
                self.next_seq += 1;
                Event::new(Uuid::now_v7(), self.id, seq, "OP-1900", 0, b)
            })
            .collect();
        let resp: PushResponse = post(
            &format!("{}{}", self.base, paths::PUSH),
            Some(&self.token),
            &PushRequest {
                device_id: self.id,
                events,
            },
        );
        resp.results.into_iter().map(|r| r.outcome).collect()
    }

    /// Leases the pick task and picks all of it into `tote`, dropped at `packing`: what a picker
    /// does, so the orders of the task wait at packing.
    pub fn pick_to_packing(&mut self, task_id: &str, tote: &str, packing: &str) {
        use laituri_protocol::{
            DroppedTote, EventBody, GoodsCondition, IN_TRANSIT, Place, StockMove, TaskClaim,
        };
        let packet = self.take_task(task_id);
        let claim = TaskClaim {
            task_id: task_id.to_string(),
            token: packet.lease.token,
        };
        let mut bodies = Vec::new();
        let mut dropped: Vec<StockMove> = Vec::new();
        for line in &packet.task.lines {
            let g = &line.goods;
            let moved = StockMove {
                merchant_id: g.merchant_id.clone(),
                product_id: g.product_id.clone(),
                quantity: g.quantity,
                lot: g.lot.clone(),
                expiry: g.expiry.clone(),
                serial: None,
                condition: GoodsCondition::Good,
                from: g.from.clone(),
                to: Some(Place::in_container(IN_TRANSIT, tote)),
                reason: None,
            };
            dropped.push(StockMove {
                from: Some(Place::in_container(IN_TRANSIT, tote)),
                to: Some(Place::in_container(packing, tote)),
                ..moved.clone()
            });
            bodies.push(EventBody::Picked {
                task: claim.clone(),
                order_id: line.order_id.expect("a pick line names its order"),
                line_id: line.line_id.clone().expect("a pick line has an id"),
                tote: tote.to_string(),
                suggested_lot: g.lot.clone(),
                moves: vec![moved],
            });
        }
        let totes = packet
            .task
            .orders
            .iter()
            .map(|o| DroppedTote {
                order_id: o.order_id,
                tote: tote.to_string(),
            })
            .collect();
        bodies.push(EventBody::TotesDropped {
            task: claim.clone(),
            location: packing.to_string(),
            totes,
            moves: dropped,
        });
        bodies.push(EventBody::PickFinished { task: claim });
        self.push_applied(&bodies);
    }

    /// Packs the picked `order` (its goods in `tote` at `packing`) into one parcel, finishes it
    /// and asks for its labels: the server books it and the order is shipped.
    pub fn pack_and_ship(&mut self, order: &Order, tote: &str, packing: &str) {
        use laituri_protocol::{
            EventBody, GoodsCondition, LabelRequest, Parcel, Place, ShipmentLabels, StockMove,
            WeightSource,
        };
        let out = order
            .lines
            .iter()
            .map(|l| StockMove {
                merchant_id: order.merchant_id.clone(),
                product_id: l.product_id.clone(),
                quantity: l.quantity,
                lot: None,
                expiry: None,
                serial: None,
                condition: GoodsCondition::Good,
                from: Some(Place::in_container(packing, tote)),
                to: None,
                reason: None,
            })
            .collect();
        self.push(&[
            EventBody::ParcelPacked {
                order_id: order.id,
                location: packing.to_string(),
                parcel: Parcel {
                    number: 1,
                    box_type: None,
                    box_overridden: false,
                    weight_g: 900,
                    weight_source: WeightSource::Scale,
                    contents: order.lines.clone(),
                    tracking_number: None,
                    tracking_url: None,
                },
            },
            EventBody::PackingFinished {
                order_id: order.id,
                location: packing.to_string(),
                parcels: 1,
                moves: out,
            },
        ]);
        let labels: ShipmentLabels = post(
            &format!("{}{}", self.base, paths::LABELS),
            Some(&self.token),
            &LabelRequest { order_id: order.id },
        );
        assert_eq!(labels.parcels.len(), 1);
    }

    /// Leases the task (as a lead's or another picker's device taking it over).
    pub fn take_task(&self, task_id: &str) -> WorkPacket {
        let resp: LeaseResponse = post(
            &format!("{}{}", self.base, paths::LEASE),
            Some(&self.token),
            &LeaseRequest {
                task_id: Some(task_id.to_string()),
                kind: None,
            },
        );
        resp.packet
    }
}

/// A receipt of `quantity` of the shop's `product` into `tote`, put away into `bin`.
fn shelving(
    receipt: Uuid,
    product: &str,
    quantity: i64,
    tote: &str,
    bin: &str,
) -> Vec<laituri_protocol::EventBody> {
    let barcode = barcode(product);
    shelve(
        receipt,
        &Shelving {
            merchant: MERCHANT,
            product,
            barcode: &barcode,
            units: quantity,
            lot: None,
            expiry: None,
            tote,
            bin,
        },
    )
    .to_vec()
}

/// The unit barcode (a GTIN-13) of a demo product.
pub fn barcode(product: &str) -> String {
    demo::data()
        .products
        .into_iter()
        .find(|p| p.id == product)
        .and_then(|p| p.barcodes.into_iter().find(|b| b.pack_qty == 1))
        .map(|b| b.code.trim_start_matches('0').to_string())
        .unwrap_or_else(|| panic!("the demo has product {product}"))
}

/// The name of a demo product.
pub fn name(product: &str) -> String {
    demo::data()
        .products
        .into_iter()
        .find(|p| p.id == product)
        .map(|p| p.name)
        .unwrap_or_else(|| panic!("the demo has product {product}"))
}

/// An order of the shop, as its system posts it: `(product, units)` per line.
pub fn post_order(base: &str, reference: &str, lines: &[(&str, i64)]) -> Order {
    post_order_with(base, reference, lines, None, &[])
}

/// An order worth `value_minor` (the shop's rules may add an insert) with documents of `kinds`.
pub fn post_order_with(
    base: &str,
    reference: &str,
    lines: &[(&str, i64)],
    value_minor: Option<i64>,
    kinds: &[&str],
) -> Order {
    let lines: Vec<serde_json::Value> = lines
        .iter()
        .map(|(p, q)| serde_json::json!({"product_id": p, "quantity": q}))
        .collect();
    let body = serde_json::json!({
        "merchant_id": MERCHANT,
        "reference": reference,
        "lines": lines,
        "shipping_method": "posti-parcel",
        "recipient": {"name": "Asiakas", "address": "Katu 1", "postcode": "00100",
                      "city": "Helsinki", "country": "FI"}
    });
    let mut body = body;
    if let Some(value) = value_minor {
        body["value_minor"] = serde_json::json!(value);
    }
    if !kinds.is_empty() {
        let documents: Vec<serde_json::Value> = kinds
            .iter()
            .map(|k| serde_json::json!({"kind": k, "url": "https://shop.example/doc"}))
            .collect();
        body["documents"] = serde_json::json!(documents);
    }
    post(
        &format!("{base}{}", paths::ORDERS),
        Some(demo::ADMIN_KEY),
        &body,
    )
}

/// Reserves stock for the waiting orders and releases them into pick tasks, `totes` orders a
/// cart (the server's own limit when `None`).
pub fn release(base: &str, totes: Option<u32>) -> ReleaseOrdersResult {
    let body = match totes {
        Some(n) => serde_json::json!({ "totes": n }),
        None => serde_json::json!({}),
    };
    post(
        &format!("{base}{}", paths::RELEASE_ORDERS),
        Some(demo::ADMIN_KEY),
        &body,
    )
}

pub fn order(base: &str, id: Uuid) -> Order {
    get(&format!("{base}{}/{id}", paths::ORDERS))
}

/// Every task on the server.
pub fn tasks(base: &str) -> Vec<Task> {
    get(&format!("{base}{}", paths::TASKS))
}

/// Units of `product` the server holds at `location`, in `container` (loose when `None`).
pub fn stock_at(base: &str, product: &str, location: &str, container: Option<&str>) -> i64 {
    super::server_stock(base, MERCHANT)
        .iter()
        .filter(|r| {
            r.product_id == product && r.location == location && r.container.as_deref() == container
        })
        .map(|r| r.quantity)
        .sum()
}
