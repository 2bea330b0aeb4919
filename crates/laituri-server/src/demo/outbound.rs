//! The demo's outbound side: a kit, an insert and a gift, opening stock in the bins, and orders
//! of both merchants released into pick tasks, so a person can pick a batch at once.
//!
//! The opening stock is booked the way a floor books it: a receipt at the dock and a putaway
//! into the bin, pushed by the demo's own device with fixed event ids, so seeding again is
//! answered as duplicates and books nothing twice. Orders go in by reference (the same order
//! again changes nothing) and the planner releases them; its second run finds nothing to do.
//! Food lots expire relative to the day of the first seeding (the first booking stays).

use laituri_domain::calendar::Date;
use laituri_protocol::{
    EnrolRequest, Event, EventBody, GoodsCondition, InsertRule, KitComponent, OrderInput,
    OrderLine, PROTOCOL_VERSION, Place, Product, ProductBarcode, Recipient, StockMove,
};
use uuid::Uuid;

use super::{ENROLMENT_CODE, KETTU, KETTU_PREFIX, NORDIC, NORDIC_PREFIX, gtin13};
use crate::enrolment::token_hash;
use crate::outbound::ReleasePolicy;
use crate::store::{Store, StoreError};

/// The kit, the gift and the insert the demo adds to its catalogue.
pub const KIT: &str = "KO-KIT-01";
pub const GIFT: &str = "KO-GIFT-01";
pub const LEAFLET: &str = "NP-LEAFLET";
/// Orders worth this much (minor units) get the gift.
pub const GIFT_FROM_MINOR: i64 = 5_000;
/// The order that comes up short, its product and the bin whose shelf holds less than the
/// books: the guide tells the picker to record the short pick there.
pub const SHORT_ORDER: &str = "KO-7003";
pub const SHORT_PRODUCT: &str = "KO-041";
pub const SHORT_BIN: &str = "B-02-02-1";
/// Totes on the demo's cart.
pub const CART_TOTES: u32 = 3;

/// The device that booked the opening stock.
const STOCK_DEVICE: Uuid = Uuid::from_u128(0x1a17_0000_0000_7000_8000_0000_0000_0001);

/// The products the demo adds: a kit of three products, a gift and a recipe leaflet.
pub fn products() -> Vec<Product> {
    let plain = |id: &str, merchant: &str, name: &str, prefix: &str, n: usize| Product {
        dims_mm: None,
        id: id.into(),
        merchant_id: merchant.into(),
        name: name.into(),
        barcodes: vec![ProductBarcode {
            code: gtin13(prefix, n),
            pack_qty: 1,
        }],
        track_lot: false,
        track_expiry: false,
        track_serial: false,
        kit: Vec::new(),
        volume_ml: Some(500),
        weight_g: Some(200),
    };
    let part = |product_id: &str, quantity| KitComponent {
        product_id: product_id.into(),
        quantity,
    };
    vec![
        Product {
            kit: vec![part("KO-011", 2), part("KO-056", 1), part("KO-061", 1)],
            ..plain(KIT, KETTU, "Weekend hike kit", KETTU_PREFIX, 900)
        },
        plain(GIFT, KETTU, "Reflector, fox", KETTU_PREFIX, 901),
        plain(LEAFLET, NORDIC, "Recipe leaflet", NORDIC_PREFIX, 900),
    ]
}

/// The merchants' insert rules: a leaflet in every Nordic Pantry order, a reflector with Kettu
/// Outdoor's orders worth 50 EUR or more.
pub fn inserts(merchant: &str) -> Vec<InsertRule> {
    match merchant {
        NORDIC => vec![InsertRule {
            product_id: LEAFLET.into(),
            quantity: 1,
            min_order_value_minor: None,
        }],
        KETTU => vec![InsertRule {
            product_id: GIFT.into(),
            quantity: 1,
            min_order_value_minor: Some(GIFT_FROM_MINOR),
        }],
        _ => Vec::new(),
    }
}

/// One booking of opening stock: product, bin, units, lot and days to expiry.
struct Shelf {
    merchant: &'static str,
    product: &'static str,
    bin: &'static str,
    units: i64,
    lot: Option<(&'static str, i64)>,
}

const SHELVES: &[Shelf] = &[
    Shelf {
        merchant: KETTU,
        product: "KO-006",
        bin: "B-01-02-1",
        units: 6,
        lot: None,
    },
    Shelf {
        merchant: KETTU,
        product: "KO-011",
        bin: "B-01-04-1",
        units: 10,
        lot: None,
    },
    Shelf {
        merchant: KETTU,
        product: "KO-056",
        bin: "B-02-05-1",
        units: 4,
        lot: None,
    },
    Shelf {
        merchant: KETTU,
        product: "KO-061",
        bin: "B-03-02-1",
        units: 5,
        lot: None,
    },
    Shelf {
        merchant: KETTU,
        product: SHORT_PRODUCT,
        bin: SHORT_BIN,
        units: 3,
        lot: None,
    },
    Shelf {
        merchant: KETTU,
        product: GIFT,
        bin: "B-03-06-1",
        units: 20,
        lot: None,
    },
    Shelf {
        merchant: NORDIC,
        product: "NP-016",
        bin: "A-01-03-1",
        units: 6,
        lot: Some(("L-EARLY", 90)),
    },
    Shelf {
        merchant: NORDIC,
        product: "NP-016",
        bin: "A-01-05-1",
        units: 10,
        lot: Some(("L-LATE", 300)),
    },
    Shelf {
        merchant: NORDIC,
        product: "NP-001",
        bin: "A-02-01-1",
        units: 12,
        lot: None,
    },
    Shelf {
        merchant: NORDIC,
        product: LEAFLET,
        bin: "A-03-06-1",
        units: 50,
        lot: None,
    },
];

/// The demo's orders: (merchant, reference, lines, priority, value in minor units).
#[allow(clippy::type_complexity)]
const ORDERS: &[(&str, &str, &[(&str, i64)], i32, Option<i64>)] = &[
    (
        NORDIC,
        "NP-5001",
        &[("NP-016", 4), ("NP-001", 2)],
        0,
        Some(2_490),
    ),
    (NORDIC, "NP-5002", &[("NP-001", 1)], 5, Some(690)),
    (KETTU, "KO-7001", &[(KIT, 1)], 0, Some(8_900)),
    (
        KETTU,
        "KO-7002",
        &[("KO-006", 2), ("KO-011", 1)],
        0,
        Some(3_200),
    ),
    (KETTU, SHORT_ORDER, &[(SHORT_PRODUCT, 3)], 0, Some(4_500)),
    (KETTU, "KO-7004", &[("KO-006", 1)], 0, Some(1_500)),
];

/// References of the demo's orders, in the order they were sent.
pub fn order_references() -> Vec<&'static str> {
    ORDERS.iter().map(|o| o.1).collect()
}

/// Books the opening stock, sends the orders and releases them into pick tasks. Idempotent.
pub async fn seed(store: &dyn Store, today: Date) -> Result<(), StoreError> {
    store
        .enrol_device(
            &EnrolRequest {
                enrolment_code: ENROLMENT_CODE.into(),
                device_id: STOCK_DEVICE,
                device_name: "demo opening stock".into(),
                protocol_version: PROTOCOL_VERSION,
            },
            &token_hash(&Uuid::now_v7().to_string()),
            None,
        )
        .await?;
    store.push(STOCK_DEVICE, &stock_events(today)).await?;
    for (merchant, reference, lines, priority, value) in ORDERS {
        store
            .put_order(&order(merchant, reference, lines, *priority, *value))
            .await?;
    }
    store
        .plan_outbound(&ReleasePolicy {
            totes: CART_TOTES,
            ..ReleasePolicy::default()
        })
        .await?;
    Ok(())
}

fn stock_events(today: Date) -> Vec<Event> {
    let mut events = Vec::new();
    let mut add = |body: EventBody| {
        let seq = events.len() as u64 + 1;
        events.push(Event::new(
            Uuid::from_u128(STOCK_DEVICE.as_u128() + seq as u128 * 0x1_0000),
            STOCK_DEVICE,
            seq,
            "OP-1900",
            0,
            &body,
        ));
    };
    for (i, s) in SHELVES.iter().enumerate() {
        let receipt = Uuid::from_u128(STOCK_DEVICE.as_u128() + 0x100 + i as u128);
        let (lot, expiry) = match s.lot {
            Some((lot, days)) => (
                Some(lot.to_string()),
                Some(today.add_days(days).to_string()),
            ),
            None => (None, None),
        };
        let shelving = Shelving {
            merchant: s.merchant,
            product: s.product,
            barcode: s.product,
            units: s.units,
            lot,
            expiry,
            tote: &format!("T-OPEN-{:02}", i + 1),
            bin: s.bin,
        };
        for body in shelve(receipt, &shelving) {
            add(body);
        }
    }
    events
}

/// Goods booked into a bin the way a floor books them, for [`shelve`].
#[derive(Debug, Clone)]
pub struct Shelving<'a> {
    pub merchant: &'a str,
    pub product: &'a str,
    /// The raw scan the receipt records.
    pub barcode: &'a str,
    pub units: i64,
    pub lot: Option<String>,
    /// ISO date.
    pub expiry: Option<String>,
    /// The tote the goods arrive in at `DOCK-1`.
    pub tote: &'a str,
    pub bin: &'a str,
}

/// The events that put goods into a bin: a receipt opened at `DOCK-1`, the goods received into
/// the tote, the tote put away into the bin, the receipt closed (the tote is empty, so no
/// putaway task is left). What the demo's opening stock, the tests and the fault suite push.
pub fn shelve(receipt: Uuid, s: &Shelving) -> [EventBody; 4] {
    [
        EventBody::ReceiptOpened {
            receipt_id: receipt,
            merchant_id: s.merchant.into(),
            notice_id: None,
            dock: "DOCK-1".into(),
        },
        EventBody::GoodsReceived {
            receipt_id: receipt,
            merchant_id: s.merchant.into(),
            product_id: s.product.into(),
            quantity: s.units,
            lot: s.lot.clone(),
            expiry: s.expiry.clone(),
            serial: None,
            container: s.tote.into(),
            location: "DOCK-1".into(),
            condition: GoodsCondition::Good,
            barcode: s.barcode.into(),
        },
        EventBody::PutAway {
            container: s.tote.into(),
            task: None,
            suggested: None,
            override_reason: None,
            moves: vec![StockMove {
                merchant_id: s.merchant.into(),
                product_id: s.product.into(),
                quantity: s.units,
                lot: s.lot.clone(),
                expiry: s.expiry.clone(),
                serial: None,
                condition: GoodsCondition::Good,
                from: Some(Place::in_container("DOCK-1", s.tote)),
                to: Some(Place::at(s.bin)),
                reason: None,
            }],
        },
        EventBody::ReceiptClosed {
            receipt_id: receipt,
            notice_id: None,
            lines: Vec::new(),
        },
    ]
}

/// An order of `merchant` as a shop sends it, `(product, units)` per line, to an invented
/// customer of the demo (personal data only in the order's erasable row).
pub fn order(
    merchant: &str,
    reference: &str,
    lines: &[(&str, i64)],
    priority: i32,
    value_minor: Option<i64>,
) -> OrderInput {
    OrderInput {
        merchant_id: merchant.into(),
        reference: reference.into(),
        lines: lines
            .iter()
            .map(|(p, q)| OrderLine {
                product_id: p.to_string(),
                quantity: *q,
            })
            .collect(),
        shipping_method: "posti-parcel".into(),
        pickup_point: None,
        priority,
        recipient: Recipient {
            name: format!("Demo customer {reference}"),
            address: "Esimerkkikatu 1".into(),
            address2: None,
            postcode: "00100".into(),
            city: "Helsinki".into(),
            country: "FI".into(),
            phone: None,
            email: None,
        },
        comments: None,
        documents: Vec::new(),
        cash_on_delivery: None,
        value_minor,
    }
}

/// The picking part of the demo's guide.
pub fn guide() -> super::GuidePicking {
    let mut bins: Vec<&str> = SHELVES.iter().map(|s| s.bin).collect();
    let walk = |code: &str| {
        super::locations()
            .into_iter()
            .find(|l| l.code == code)
            .map_or(u32::MAX, |l| l.walk_order)
    };
    bins.sort_by_key(|b| walk(b));
    bins.dedup();
    let story = |reference: &str| match reference {
        "NP-5001" => "food: the lot that expires first is picked; a recipe leaflet goes in",
        "NP-5002" => "urgent: picked first, on its own",
        "KO-7001" => "a kit, picked as its three products, with a gift (worth over 50 EUR)",
        "KO-7002" => "two products; below 50 EUR, so no gift",
        SHORT_ORDER => "comes up short: the shelf holds less than the books",
        _ => "one product",
    };
    let products = super::data().products;
    let mut items: Vec<(String, String, String)> = Vec::new();
    for s in SHELVES {
        if items.iter().any(|(id, _, _)| id == s.product) {
            continue;
        }
        if let Some(p) = products.iter().find(|p| p.id == s.product) {
            let code = p.barcodes[0].code.trim_start_matches('0').to_string();
            items.push((p.id.clone(), p.name.clone(), code));
        }
    }
    super::GuidePicking {
        items,
        totes: (1..=CART_TOTES)
            .map(|n| format!("T-{:04}", 100 + n))
            .collect(),
        packing: "PACK-1".into(),
        bins: bins.into_iter().map(str::to_string).collect(),
        orders: ORDERS
            .iter()
            .map(|o| (o.1.to_string(), story(o.1).to_string()))
            .collect(),
        short_bin: SHORT_BIN.into(),
        short_product: format!("{SHORT_PRODUCT} (rain jackets)"),
    }
}
