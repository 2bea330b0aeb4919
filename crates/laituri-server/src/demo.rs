//! The demo warehouse: deterministic master data for two merchants, and the guide a person
//! follows to try receiving with it.
//!
//! It owns the demo's content (merchants, a few hundred products with valid GS1 check digits,
//! locations, operators, three inbound notices, the enrolment code `DEMO-ENROL`) and the
//! [`DemoGuide`], which is both printable ([`std::fmt::Display`]) and data (so a terminal can draw
//! the codes as barcodes). Seeding is idempotent: it goes through the same upserts as the
//! integration API, and identical data appends nothing to the change log.
//!
//! It must never read the clock: `today` is a parameter, and only the guide's expiry dates depend
//! on it (the stored data does not), so seeding on different days stores the same thing.
//!
//! Conventions the demo relies on: a merchant's bins have `zone` equal to the merchant's id; docks
//! are in zone `DOCK`.

use std::fmt;

use laituri_protocol::{
    BoxType, InboundNotice, Location, LocationKind, Merchant, MerchantRules, NoticeLine,
    NoticeStatus, OperatorInput, Product, ProductBarcode, ReturnAction, ReturnReason, ReturnRule,
    Role,
};
use serde::Serialize;

use crate::ServerConfig;
use crate::enrolment::CodeToStore;
use crate::master;
use crate::store::{Store, StoreError};
use laituri_domain::calendar::Date;
use laituri_domain::layout::{ZoneShape, walk_order};
use laituri_domain::scan as gtin;

pub mod outbound;

/// The enrolment code every demo terminal can use: stored by the seed for 10,000 devices and a
/// year from each seeding (see [`crate::enrolment::DEMO_USES`]).
pub const ENROLMENT_CODE: &str = "DEMO-ENROL";
/// The admin key the demo configuration uses.
pub const ADMIN_KEY: &str = "demo-admin";
pub const WAREHOUSE_ID: &str = "WH-DEMO";
pub const WAREHOUSE_NAME: &str = "Laituri demo warehouse";

pub const NORDIC: &str = "nordic-pantry";
pub const KETTU: &str = "kettu-outdoor";
pub const QUARANTINE: &str = "QUARANTINE";

/// GS1 company prefixes of the two merchants' brands (Finnish range 64).
const NORDIC_PREFIX: &str = "6412345";
const KETTU_PREFIX: &str = "6498765";

/// Everything the demo stores.
#[derive(Debug, Clone)]
pub struct DemoData {
    pub merchants: Vec<Merchant>,
    pub products: Vec<Product>,
    pub locations: Vec<Location>,
    pub operators: Vec<OperatorInput>,
    pub notices: Vec<InboundNotice>,
}

/// What a person needs to try the demo.
#[derive(Debug, Clone, Serialize)]
pub struct DemoGuide {
    pub today: Date,
    pub warehouse_id: String,
    pub warehouse_name: String,
    pub enrolment_code: String,
    pub operators: Vec<GuideOperator>,
    pub docks: Vec<String>,
    pub quarantine: String,
    pub notices: Vec<GuideNotice>,
    /// A well-formed GTIN-13 that no demo product has.
    pub unknown_barcode: String,
    /// Tote labels to print and receive into.
    pub totes: Vec<String>,
    /// Bin labels to put the totes away into, in walking order per zone.
    pub bins: Vec<String>,
    /// Picking the demo's orders (with [`seed_with_orders`]).
    pub picking: GuidePicking,
    /// Packing them at the packing station.
    pub packing: GuidePacking,
}

/// What a person needs to pack the demo's picked orders.
#[derive(Debug, Clone, Serialize)]
pub struct GuidePacking {
    /// The packing location, where the picked totes wait.
    pub station: String,
    /// The box types the station stocks: the code on each box shelf's label and its name.
    pub boxes: Vec<(String, String)>,
}

/// What a person needs to pick the demo's orders.
#[derive(Debug, Clone, Serialize)]
pub struct GuidePicking {
    /// Empty totes for the cart, one per order.
    pub totes: Vec<String>,
    /// Where the totes go at the end.
    pub packing: String,
    /// Every bin the demo's orders are picked from, in walking order.
    pub bins: Vec<String>,
    /// The orders and what each shows.
    pub orders: Vec<(String, String)>,
    /// The bin whose shelf holds less than the books, and what is missing there.
    pub short_bin: String,
    pub short_product: String,
    /// What the orders are picked as: product id, name and unit barcode (GTIN-13).
    pub items: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GuideOperator {
    pub badge: String,
    pub name: String,
    pub pin: Option<String>,
    pub roles: Vec<Role>,
    pub language: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GuideNotice {
    pub notice_id: String,
    pub reference: String,
    pub merchant_id: String,
    pub merchant_name: String,
    pub ssccs: Vec<String>,
    pub dock: String,
    /// What this notice demonstrates.
    pub story: String,
    pub expected: Vec<NoticeLine>,
    /// Scan these, in this order.
    pub scans: Vec<GuideScan>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GuideScan {
    pub product_id: String,
    pub product_name: String,
    /// What to scan: a plain GTIN, or a GS1 element string in bracketed human-readable form.
    pub code: String,
    /// How many times to scan it.
    pub times: u32,
    /// Units these scans add up to (times x the code's pack quantity).
    pub units: i64,
    /// True when the terminal should send these units to quarantine.
    pub to_quarantine: bool,
    pub note: String,
}

struct Base {
    name: &'static str,
    /// Nordic Pantry: tracked by lot and expiry. Kettu Outdoor: tracked by serial.
    tracked: bool,
}

const fn base(name: &'static str, tracked: bool) -> Base {
    Base { name, tracked }
}

const NORDIC_BASES: &[Base] = &[
    base("Rye crispbread", false),
    base("Oat porridge flakes", false),
    base("Lingonberry jam", false),
    base("Bilberry soup", true),
    base("Cloudberry jam", false),
    base("Smoked salmon", true),
    base("Cold-smoked vendace", true),
    base("Karelian pasties", true),
    base("Oat drink", true),
    base("Sour rye bread", true),
    base("Liquorice pastilles", false),
    base("Salmiakki drops", false),
    base("Barley flour", false),
    base("Sea buckthorn juice", true),
    base("Chanterelle sauce", true),
    base("Pickled herring", true),
    base("Rhubarb compote", true),
    base("Birch syrup", false),
    base("Cardamom buns", true),
    base("Dark chocolate", false),
    base("Rolled rye", false),
    base("Pea soup", true),
    base("Blueberry yoghurt", true),
    base("Squeaky cheese", true),
    base("Coffee, light roast", false),
    base("Coffee, dark roast", false),
    base("Juniper mustard", false),
    base("Wildflower honey", false),
    base("Sauna sausage", true),
    base("Easter rye pudding", true),
];
const NORDIC_VARIANTS: &[&str] = &["200 g", "400 g", "1 kg", "organic 400 g", "family pack"];

const KETTU_BASES: &[Base] = &[
    base("Trail headlamp", true),
    base("Merino base layer", false),
    base("Wool socks", false),
    base("Trekking poles", false),
    base("Camping stove", true),
    base("Dry bag 20 l", false),
    base("Bivvy bag", false),
    base("GPS watch", true),
    base("Rain jacket", false),
    base("Fleece hat", false),
    base("Sleeping pad", false),
    base("Mess tin set", false),
    base("Fire steel", false),
    base("Water filter", true),
    base("Carabiner 3-pack", false),
    base("Tent footprint", false),
    base("Insulated bottle", false),
    base("Camp axe", false),
    base("Down jacket", false),
    base("Snowshoes", true),
];
const KETTU_VARIANTS: &[&str] = &[
    "black",
    "forest green",
    "fox orange",
    "stone grey",
    "lake blue",
];

/// GTIN-13 of item `n` of a company prefix.
fn gtin13(prefix: &str, n: usize) -> String {
    gtin::with_check_digit(&format!("{prefix}{n:05}")).expect("digits")
}

/// The case GTIN-14 of a GTIN-13: indicator digit 1, the GTIN-13 without its check digit, a new
/// check digit.
fn case_gtin14(gtin13: &str) -> String {
    gtin::with_check_digit(&format!("1{}", &gtin13[..12])).expect("digits")
}

fn sscc(prefix: &str, serial: u32) -> String {
    gtin::with_check_digit(&format!("0{prefix}{serial:09}")).expect("digits")
}

/// `(01)` wants 14 digits: a GTIN-13 gets a leading zero.
fn ai01(code: &str) -> String {
    format!("{code:0>14}")
}

fn catalogue(
    merchant: &str,
    id_prefix: &str,
    company: &str,
    bases: &[Base],
    variants: &[&str],
    case_every: usize,
) -> Vec<Product> {
    let food = merchant == NORDIC;
    let mut out = Vec::with_capacity(bases.len() * variants.len());
    for (bi, b) in bases.iter().enumerate() {
        for (vi, v) in variants.iter().enumerate() {
            let n = bi * variants.len() + vi + 1;
            let unit = gtin13(company, n);
            let mut barcodes = vec![ProductBarcode {
                code: unit.clone(),
                pack_qty: 1,
            }];
            if n.is_multiple_of(case_every) {
                barcodes.push(ProductBarcode {
                    code: case_gtin14(&unit),
                    pack_qty: if n.is_multiple_of(2 * case_every) {
                        12
                    } else {
                        6
                    },
                });
            }
            // Measures and weight as a packer would find them: food small and heavy for its
            // size, outdoor goods larger; the same on every run.
            let dims = if food {
                [100 + 10 * (bi as u32 % 4), 80, 50 + 10 * (vi as u32 % 3)]
            } else {
                [180 + 40 * (bi as u32 % 5), 140 + 10 * (vi as u32 % 4), 60]
            };
            let volume = dims.iter().product::<u32>() / 1000;
            let weight = if food { volume * 9 / 10 } else { volume / 3 };
            out.push(Product {
                dims_mm: Some(dims),
                id: format!("{id_prefix}-{n:03}"),
                merchant_id: merchant.to_string(),
                name: format!("{}, {v}", b.name),
                barcodes,
                track_lot: food && b.tracked,
                track_expiry: food && b.tracked,
                track_serial: !food && b.tracked,
                kit: Vec::new(),
                volume_ml: Some(volume),
                weight_g: Some(weight),
            });
        }
    }
    out
}

/// A bin's capacity in units, 40 to 200 in steps of 40: varied, and the same on every run.
fn bin_capacity(aisle: u32, bay: u32) -> u32 {
    40 * (1 + (aisle * 3 + bay * 7) % 5)
}

/// The shipping boxes of the demo's packing station, smallest first.
pub fn box_types() -> Vec<BoxType> {
    let shelf =
        |id: &str, name: &str, inner_mm: [u32; 3], max_weight_g: u32, tare_g: u32| BoxType {
            id: id.into(),
            name: name.into(),
            barcode: Some(format!("BOX-{id}")),
            inner_mm,
            max_weight_g,
            fill_pct: 80,
            tare_g,
        };
    vec![
        shelf("S", "Small box", [250, 180, 100], 5_000, 120),
        shelf("M", "Medium box", [350, 250, 150], 10_000, 250),
        shelf("L", "Large box", [500, 350, 300], 20_000, 500),
    ]
}

fn locations() -> Vec<Location> {
    let mut out = vec![
        Location {
            box_types: Vec::new(),
            aisle: None,
            bay: None,
            code: "DOCK-1".into(),
            kind: LocationKind::Dock,
            zone: "DOCK".into(),
            walk_order: 1,
            capacity: None,
        },
        Location {
            box_types: Vec::new(),
            aisle: None,
            bay: None,
            code: "DOCK-2".into(),
            kind: LocationKind::Dock,
            zone: "DOCK".into(),
            walk_order: 2,
            capacity: None,
        },
        Location {
            box_types: Vec::new(),
            aisle: None,
            bay: None,
            code: QUARANTINE.into(),
            kind: LocationKind::Quarantine,
            zone: "QUARANTINE".into(),
            walk_order: 3,
            capacity: None,
        },
        Location {
            box_types: box_types(),
            aisle: None,
            bay: None,
            code: "PACK-1".into(),
            kind: LocationKind::Packing,
            zone: "PACK".into(),
            walk_order: 4,
            capacity: None,
        },
    ];
    // Each merchant's zone has three aisles of six bays with two levels. Aisles are walked as a
    // snake (up the odd aisles, down the even ones), so walk_order is the order a person passes
    // the bins in.
    let shape = ZoneShape { bays: 6, levels: 2 };
    for (z, (letter, zone)) in [("A", NORDIC), ("B", KETTU)].into_iter().enumerate() {
        let first = 100 + z as u32 * 1000;
        for aisle in 1..=3u32 {
            for bay in 1..=shape.bays {
                for level in 1..=shape.levels {
                    out.push(Location {
                        box_types: Vec::new(),
                        code: format!("{letter}-{aisle:02}-{bay:02}-{level}"),
                        kind: LocationKind::Bin,
                        zone: zone.to_string(),
                        walk_order: walk_order(first, shape, aisle, bay, level),
                        capacity: Some(bin_capacity(aisle, bay)),
                        aisle: Some(aisle),
                        bay: Some(bay),
                    });
                }
            }
        }
    }
    out
}

fn operators() -> Vec<OperatorInput> {
    let op =
        |id: &str, name: &str, pin: Option<&str>, roles: Vec<Role>, lang: &str| OperatorInput {
            id: id.into(),
            name: name.into(),
            badge: id.into(),
            pin: pin.map(Into::into),
            roles,
            language: lang.into(),
            count_limits: None,
        };
    vec![
        op(
            "OP-1001",
            "Aino",
            None,
            vec![Role::Receiving, Role::Putaway, Role::Counting],
            "fi",
        ),
        op(
            "OP-1002",
            "Mikko",
            Some("1234"),
            vec![Role::Receiving],
            "en",
        ),
        op(
            "OP-1900",
            "Leena",
            Some("432198"),
            vec![
                Role::Receiving,
                Role::Putaway,
                Role::Picking,
                Role::Packing,
                Role::Returns,
                Role::Counting,
                Role::Lead,
            ],
            "sv",
        ),
    ]
}

/// The three notices and their scan plans, from the catalogue. Deterministic: the products are
/// chosen by their properties in catalogue order.
fn notices_and_plans(
    products: &[Product],
    today: Date,
) -> (Vec<InboundNotice>, Vec<(String, Vec<GuideScan>)>) {
    let of = |m: &'static str| products.iter().filter(move |p| p.merchant_id == m);
    let case = |p: &Product| p.barcodes.iter().find(|b| b.pack_qty > 1).cloned();
    let unit_gtin13 = |p: &Product| p.barcodes[0].code.trim_start_matches('0').to_string();
    let scan = |p: &Product, code: String, times: u32, pack: u32, q: bool, note: &str| GuideScan {
        product_id: p.id.clone(),
        product_name: p.name.clone(),
        code,
        times,
        units: i64::from(times) * i64::from(pack),
        to_quarantine: q,
        note: note.to_string(),
    };

    // ASN-1001: Kettu, untracked, one line by case code.
    let plain_kettu: Vec<&Product> = of(KETTU).filter(|p| !p.track_serial).collect();
    let k_case = plain_kettu
        .iter()
        .copied()
        .find(|p| case(p).is_some())
        .expect("a case");
    let k_units: Vec<&Product> = plain_kettu
        .iter()
        .copied()
        .filter(|p| case(p).is_none())
        .take(3)
        .collect();
    let kc = case(k_case).expect("case");
    let mut plan1 = vec![scan(
        k_case,
        kc.code.clone(),
        2,
        kc.pack_qty,
        false,
        "case code: each scan counts a whole case",
    )];
    let mut lines1 = vec![NoticeLine {
        product_id: k_case.id.clone(),
        expected_qty: 2 * i64::from(kc.pack_qty),
    }];
    for (p, qty) in k_units.iter().zip([3u32, 2, 4]) {
        plan1.push(scan(p, unit_gtin13(p), qty, 1, false, ""));
        lines1.push(NoticeLine {
            product_id: p.id.clone(),
            expected_qty: i64::from(qty),
        });
    }

    // ASN-1002: Nordic Pantry, lot and expiry tracked; one short-dated unit.
    let tracked: Vec<&Product> = of(NORDIC).filter(|p| p.track_lot).collect();
    let t_plain: Vec<&Product> = tracked
        .iter()
        .copied()
        .filter(|p| case(p).is_none())
        .take(2)
        .collect();
    let t_case = tracked
        .iter()
        .copied()
        .find(|p| case(p).is_some())
        .expect("a case");
    let tc = case(t_case).expect("case");
    let gs1 = |code: &str, expiry: Date, lot: &str| {
        format!("(01){}(17){}(10){lot}", ai01(code), expiry.yymmdd())
    };
    let (a, c) = (t_plain[0], t_plain[1]);
    let plan2 = vec![
        scan(
            a,
            gs1(&unit_gtin13(a), today.add_days(120), "A2417"),
            6,
            1,
            false,
            "lot A2417, best before in 120 days",
        ),
        scan(
            t_case,
            gs1(&tc.code, today.add_days(200), "B0930"),
            1,
            tc.pack_qty,
            false,
            "a case with lot B0930: one scan counts the whole case",
        ),
        scan(
            c,
            gs1(&unit_gtin13(c), today.add_days(90), "C1105"),
            3,
            1,
            false,
            "lot C1105, best before in 90 days",
        ),
        scan(
            c,
            gs1(&unit_gtin13(c), today.add_days(20), "C0999"),
            1,
            1,
            true,
            "short-dated: 20 days left, Nordic Pantry wants 60, so it goes to QUARANTINE",
        ),
    ];
    let lines2 = vec![
        NoticeLine {
            product_id: a.id.clone(),
            expected_qty: 6,
        },
        NoticeLine {
            product_id: t_case.id.clone(),
            expected_qty: i64::from(tc.pack_qty),
        },
        NoticeLine {
            product_id: c.id.clone(),
            expected_qty: 4,
        },
    ];

    // ASN-1003: Nordic Pantry, untracked; comes in short on one line and over on another.
    let plain_nordic: Vec<&Product> = of(NORDIC)
        .filter(|p| !p.track_lot && case(p).is_none())
        .skip(3)
        .take(3)
        .collect();
    let (s, o, e) = (plain_nordic[0], plain_nordic[1], plain_nordic[2]);
    let plan3 = vec![
        scan(
            s,
            unit_gtin13(s),
            7,
            1,
            false,
            "short: 10 expected, scan only 7",
        ),
        scan(
            o,
            unit_gtin13(o),
            8,
            1,
            false,
            "over: 6 expected, scan 8 (33 % over, beyond the 10 % tolerance: confirm)",
        ),
        scan(e, unit_gtin13(e), 5, 1, false, "exactly as expected"),
    ];
    let lines3 = vec![
        NoticeLine {
            product_id: s.id.clone(),
            expected_qty: 10,
        },
        NoticeLine {
            product_id: o.id.clone(),
            expected_qty: 6,
        },
        NoticeLine {
            product_id: e.id.clone(),
            expected_qty: 5,
        },
    ];

    let notice =
        |id: &str, merchant: &str, ssccs: Vec<String>, supplier: &str, lines| InboundNotice {
            id: id.into(),
            merchant_id: merchant.into(),
            reference: id.into(),
            ssccs,
            supplier: supplier.into(),
            lines,
            status: NoticeStatus::Open,
        };
    let notices = vec![
        notice(
            "ASN-1001",
            KETTU,
            vec![sscc(KETTU_PREFIX, 1001)],
            "Kettu Outdoor factory, Tampere",
            lines1,
        ),
        notice(
            "ASN-1002",
            NORDIC,
            vec![sscc(NORDIC_PREFIX, 1002)],
            "Pohjolan Herkut Oy",
            lines2,
        ),
        notice(
            "ASN-1003",
            NORDIC,
            vec![sscc(NORDIC_PREFIX, 1003), sscc(NORDIC_PREFIX, 1004)],
            "Saaristo Foods Ab",
            lines3,
        ),
    ];
    let plans = vec![
        ("ASN-1001".to_string(), plan1),
        ("ASN-1002".to_string(), plan2),
        ("ASN-1003".to_string(), plan3),
    ];
    (notices, plans)
}

/// The demo's master data, exactly as [`seed`] stores it (before normalisation).
pub fn data() -> DemoData {
    let merchants = vec![
        Merchant {
            id: NORDIC.into(),
            name: "Nordic Pantry".into(),
            rules: MerchantRules {
                min_shelf_life_days: 60,
                over_receipt_tolerance_pct: 10,
                inserts: outbound::inserts(NORDIC),
                // Food is never restocked.
                returns: vec![ReturnRule {
                    reason: None,
                    products: Vec::new(),
                    action: ReturnAction::Quarantine,
                    forced: true,
                }],
            },
            zones: vec![NORDIC.to_string()],
        },
        Merchant {
            id: KETTU.into(),
            name: "Kettu Outdoor".into(),
            rules: MerchantRules {
                min_shelf_life_days: 0,
                over_receipt_tolerance_pct: 5,
                inserts: outbound::inserts(KETTU),
                // Defective goods go back to the merchant.
                returns: vec![ReturnRule {
                    reason: Some(ReturnReason::Defective),
                    products: Vec::new(),
                    action: ReturnAction::BackToMerchant,
                    forced: true,
                }],
            },
            zones: vec![KETTU.to_string()],
        },
    ];
    let mut products = catalogue(
        NORDIC,
        "NP",
        NORDIC_PREFIX,
        NORDIC_BASES,
        NORDIC_VARIANTS,
        5,
    );
    products.extend(catalogue(
        KETTU,
        "KO",
        KETTU_PREFIX,
        KETTU_BASES,
        KETTU_VARIANTS,
        4,
    ));
    products.extend(outbound::products());
    // Notices do not depend on the date; any day gives the same lines.
    let (notices, _) = notices_and_plans(&products, Date::from_day_number(0));
    DemoData {
        merchants,
        products,
        locations: locations(),
        operators: operators(),
        notices,
    }
}

/// The guide for `today`, without touching any store.
pub fn guide(today: Date) -> DemoGuide {
    let d = data();
    let (_, plans) = notices_and_plans(&d.products, today);
    let merchant_name = |id: &str| {
        d.merchants
            .iter()
            .find(|m| m.id == id)
            .map_or(String::new(), |m| m.name.clone())
    };
    let stories = [
        "a clean delivery: no lots, one line arrives in cases",
        "food with lots and best-before dates; one unit is short-dated",
        "comes in short on one line and over on another",
    ];
    let notices = d
        .notices
        .iter()
        .zip(plans)
        .zip(stories)
        .map(|((n, (_, scans)), story)| GuideNotice {
            notice_id: n.id.clone(),
            reference: n.reference.clone(),
            merchant_id: n.merchant_id.clone(),
            merchant_name: merchant_name(&n.merchant_id),
            ssccs: n.ssccs.clone(),
            dock: "DOCK-1".into(),
            story: story.into(),
            expected: n.lines.clone(),
            scans,
        })
        .collect();
    DemoGuide {
        today,
        warehouse_id: WAREHOUSE_ID.into(),
        warehouse_name: WAREHOUSE_NAME.into(),
        enrolment_code: ENROLMENT_CODE.into(),
        operators: d
            .operators
            .iter()
            .map(|o| GuideOperator {
                badge: o.badge.clone(),
                name: o.name.clone(),
                pin: o.pin.clone(),
                roles: o.roles.clone(),
                language: o.language.clone(),
            })
            .collect(),
        docks: vec!["DOCK-1".into(), "DOCK-2".into()],
        quarantine: QUARANTINE.into(),
        notices,
        unknown_barcode: gtin13(NORDIC_PREFIX, 99_999),
        totes: (1..=10).map(|n| format!("T-{n:04}")).collect(),
        bins: {
            // The first bins of each merchant's zone in walking order: enough to put the demo's
            // totes away with a scanner and a printed sheet.
            let mut bins: Vec<Location> = locations()
                .into_iter()
                .filter(|l| l.kind == LocationKind::Bin)
                .collect();
            bins.sort_by_key(|l| l.walk_order);
            let mut out = Vec::new();
            for zone in [NORDIC, KETTU] {
                out.extend(
                    bins.iter()
                        .filter(|l| l.zone == zone)
                        .take(12)
                        .map(|l| l.code.clone()),
                );
            }
            out
        },
        picking: outbound::guide(),
        packing: GuidePacking {
            station: "PACK-1".into(),
            boxes: box_types()
                .into_iter()
                .map(|b| (b.code().to_string(), b.name))
                .collect(),
        },
    }
}

/// Seeds the demo into an open store of any backend. Idempotent.
pub async fn seed_store(store: &dyn Store, today: Date) -> Result<DemoGuide, StoreError> {
    let d = data();
    let invalid = StoreError::Invalid;
    let merchants = master::prepare_merchants(d.merchants).map_err(invalid)?;
    store.upsert_merchants(&merchants).await?;
    let products = master::prepare_products(d.products).map_err(invalid)?;
    store.upsert_products(&products).await?;
    let locations = master::prepare_locations(d.locations).map_err(invalid)?;
    store.upsert_locations(&locations).await?;
    let operators = master::prepare_operators(d.operators).map_err(invalid)?;
    store.upsert_operators(&operators).await?;
    let notices = master::prepare_notices(d.notices).map_err(invalid)?;
    store.upsert_notices(&notices).await?;
    store
        .store_enrolment_code(&CodeToStore::demo(ENROLMENT_CODE))
        .await?;
    let mut g = guide(today);
    g.warehouse_id = store.warehouse_id().to_string();
    Ok(g)
}

/// Seeds the demo's master data into the database of `config` (the server may be running on
/// it): what tests and benchmarks start from. Blocks; runs on a thread of its own with a small
/// runtime, so callers inside an async runtime (tests) and outside one (the demo, benchmarks)
/// can both use it.
pub fn seed(config: &ServerConfig, today: Date) -> anyhow::Result<DemoGuide> {
    seed_with(config, today, false)
}

/// Seeds the whole demo: its master data, and opening stock in the bins with orders of both
/// merchants released into pick tasks ([`outbound`]). What a person trying the demo gets.
pub fn seed_with_orders(config: &ServerConfig, today: Date) -> anyhow::Result<DemoGuide> {
    seed_with(config, today, true)
}

fn seed_with(config: &ServerConfig, today: Date, orders: bool) -> anyhow::Result<DemoGuide> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async {
                    let store = config.open_backend().await?;
                    let mut g = seed_store(&*store, today).await?;
                    if orders {
                        outbound::seed(&*store, today).await?;
                    }
                    g.warehouse_name = config.warehouse_name.clone();
                    Ok(g)
                })
            })
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("seeding the demo panicked")))
    })
}

impl fmt::Display for DemoGuide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Laituri demo: {} ({})",
            self.warehouse_name, self.warehouse_id
        )?;
        writeln!(f, "Dates below are relative to {}.", self.today)?;
        writeln!(f)?;
        writeln!(
            f,
            "1. Enrol the terminal with the code {}",
            self.enrolment_code
        )?;
        writeln!(f)?;
        writeln!(f, "2. Log in by scanning a badge:")?;
        for o in &self.operators {
            let roles: Vec<&str> = o.roles.iter().map(|r| r.as_str()).collect();
            let pin = o
                .pin
                .as_deref()
                .map_or("no PIN".to_string(), |p| format!("PIN {p}"));
            writeln!(
                f,
                "   {:<8} {:<6} {pin:<8} {:<3} {}",
                o.badge,
                o.name,
                o.language,
                roles.join(", ")
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "3. Receive at {} into totes {}..{}; quarantine is {}.",
            self.docks.join(" or "),
            self.totes.first().map_or("", |s| s),
            self.totes.last().map_or("", |s| s),
            self.quarantine
        )?;
        for n in &self.notices {
            writeln!(f)?;
            writeln!(f, "   {} ({}): {}", n.reference, n.merchant_name, n.story)?;
            let labels: Vec<String> = n.ssccs.iter().map(|s| format!("(00){s}")).collect();
            writeln!(
                f,
                "   scan the reference {} or a pallet label (SSCC): {}",
                n.reference,
                labels.join(", ")
            )?;
            for s in &n.scans {
                let q = if s.to_quarantine {
                    " -> QUARANTINE"
                } else {
                    ""
                };
                writeln!(
                    f,
                    "     {:>2} x {:<44} = {:>3} units  {} {}{q}",
                    s.times, s.code, s.units, s.product_id, s.product_name
                )?;
                if !s.note.is_empty() {
                    writeln!(f, "          {}", s.note)?;
                }
            }
        }
        writeln!(f)?;
        let putters: Vec<&str> = self
            .operators
            .iter()
            .filter(|o| o.roles.contains(&Role::Putaway))
            .map(|o| o.badge.as_str())
            .collect();
        writeln!(
            f,
            "4. Put the tote away ({}): close the receipt, go to the menu and scan the tote",
            putters.join(", ")
        )?;
        writeln!(
            f,
            "   (or take its task under Putaway). The terminal suggests a bin of the merchant's zone"
        )?;
        writeln!(
            f,
            "   in large type: scan that bin label. \"Bin full\" gives the next suggestion; another"
        )?;
        writeln!(
            f,
            "   bin of the zone asks why. Bins are A-aisle-bay-level (Nordic Pantry) and B-... (Kettu)."
        )?;
        writeln!(f)?;
        let p = &self.picking;
        let pickers: Vec<&str> = self
            .operators
            .iter()
            .filter(|o| o.roles.contains(&Role::Picking))
            .map(|o| o.badge.as_str())
            .collect();
        writeln!(
            f,
            "5. Pick ({}): open Picking and take the next task; urgent orders come first.",
            pickers.join(", ")
        )?;
        for (reference, story) in &p.orders {
            writeln!(f, "   {reference}: {story}")?;
        }
        writeln!(
            f,
            "   Go to the bin shown, scan it, scan the item, then the order's tote ({}..{}).",
            p.totes.first().map_or("", |s| s),
            p.totes.last().map_or("", |s| s)
        )?;
        writeln!(
            f,
            "   At {} only 2 of the 3 {} are on the shelf: pick 2 and press \"Short\";",
            p.short_bin, p.short_product
        )?;
        writeln!(
            f,
            "   the bin gets a count task. Finish by scanning the packing location {}.",
            p.packing
        )?;
        writeln!(f, "   Pick bins: {}", p.bins.join(" "))?;
        writeln!(f)?;
        let packers: Vec<&str> = self
            .operators
            .iter()
            .filter(|o| o.roles.contains(&Role::Packing))
            .map(|o| o.badge.as_str())
            .collect();
        let k = &self.packing;
        writeln!(
            f,
            "6. Pack ({}): at {}, open Packing (or scan a tote there from the menu) and scan a",
            packers.join(", "),
            k.station
        )?;
        writeln!(
            f,
            "   picked tote. Scan each item (a wrong one is refused and nothing is packed), the box"
        )?;
        let boxes: Vec<String> = k
            .boxes
            .iter()
            .map(|(code, name)| format!("{code} {name}"))
            .collect();
        writeln!(f, "   the screen suggests ({}),", boxes.join(", "))?;
        writeln!(
            f,
            "   confirm the checklist, close the parcel and finish. The label comes from the server at"
        )?;
        writeln!(
            f,
            "   once: on screen, or printed with [station] printer = \"HOST:9100\" in the config."
        )?;
        writeln!(
            f,
            "   With the server down the parcel waits \"awaiting label\" and prints when it is back."
        )?;
        writeln!(f)?;
        let movers: Vec<&str> = self
            .operators
            .iter()
            .filter(|o| o.roles.contains(&Role::Putaway))
            .map(|o| o.badge.as_str())
            .collect();
        writeln!(
            f,
            "7. Stock (anyone): open Stock, scan a bin ({}) to see what it holds, or an item to see",
            p.bins.first().map(String::as_str).unwrap_or("")
        )?;
        writeln!(
            f,
            "   where it is; it works offline and says how old the terminal's view is. Move ({}):",
            movers.join(", ")
        )?;
        writeln!(
            f,
            "   tap Move, scan an item (again for one more, or Qty) and the bin it goes to; a tote"
        )?;
        writeln!(f, "   looked up moves whole to the location scanned.")?;
        writeln!(f)?;
        let with_role = |role: Role| -> String {
            self.operators
                .iter()
                .filter(|o| o.roles.contains(&role))
                .map(|o| o.badge.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            f,
            "8. Return ({}): once an order is packed and shipped, open Returns and scan its tracking",
            with_role(Role::Returns)
        )?;
        writeln!(
            f,
            "   code or return label, or type its number or the customer's name. Scan each item that"
        )?;
        writeln!(
            f,
            "   came back, choose why and what becomes of it (the merchant's rules may decide), scan a"
        )?;
        writeln!(
            f,
            "   tote for what goes back on the shelf (e.g. {}), and finish: a putaway task follows.",
            self.totes.last().map(String::as_str).unwrap_or("")
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "9. Count ({}): open Count and scan a bin ({} has a count task after the short pick),",
            with_role(Role::Counting),
            p.short_bin
        )?;
        writeln!(
            f,
            "   then every item in it (or Qty, or Empty), and Finish: the count is blind. A difference"
        )?;
        writeln!(
            f,
            "   beyond the counter's limits waits for a lead under Approvals ({}).",
            with_role(Role::Lead)
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "10. Scan {} to see an unknown barcode recorded for a shift lead.",
            self.unknown_barcode
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gtin_ok(code: &str) -> bool {
        laituri_domain::scan::verify(code).is_some_and(|(ok, _)| ok)
    }

    #[test]
    fn every_demo_gtin_and_sscc_has_a_valid_check_digit() {
        let d = data();
        assert!(d.products.len() >= 200, "a few hundred products");
        for p in &d.products {
            for b in &p.barcodes {
                assert!(gtin_ok(&b.code), "{} {}", p.id, b.code);
                assert!(matches!(b.code.len(), 13 | 14), "{}", b.code);
            }
        }
        for n in &d.notices {
            for s in &n.ssccs {
                assert_eq!(s.len(), 18);
                assert!(gtin_ok(s), "{s}");
            }
        }
        assert!(gtin_ok(&guide(Date::from_day_number(0)).unknown_barcode));
    }

    #[test]
    fn the_guide_matches_the_notices() {
        let today = Date::parse_iso("2026-03-15").unwrap();
        let g = guide(today);
        assert_eq!(g.notices.len(), 3);
        for n in &g.notices {
            for line in &n.expected {
                let scanned: i64 = n
                    .scans
                    .iter()
                    .filter(|s| s.product_id == line.product_id)
                    .map(|s| s.units)
                    .sum();
                match n.notice_id.as_str() {
                    "ASN-1003" => {}
                    _ => assert_eq!(
                        scanned, line.expected_qty,
                        "{} {}",
                        n.notice_id, line.product_id
                    ),
                }
            }
        }
        let short = &g.notices[2];
        assert!(short.scans[0].units < short.expected[0].expected_qty);
        assert!(short.scans[1].units > short.expected[1].expected_qty);
        let q: Vec<&GuideScan> = g.notices[1]
            .scans
            .iter()
            .filter(|s| s.to_quarantine)
            .collect();
        assert_eq!(q.len(), 1);
        assert!(
            q[0].code
                .contains(&format!("(17){}", today.add_days(20).yymmdd()))
        );
        assert!(
            g.notices[1]
                .scans
                .iter()
                .all(|s| s.code.starts_with("(01)"))
        );
        let text = g.to_string();
        for needle in [
            "DEMO-ENROL",
            "OP-1001",
            "ASN-1002",
            "T-0010",
            &g.unknown_barcode,
        ] {
            assert!(
                text.contains(needle),
                "{needle} missing from the printed guide"
            );
        }
    }

    #[test]
    fn the_demo_data_is_deterministic_and_independent_of_the_day() {
        let a = data();
        let b = data();
        assert_eq!(a.products, b.products);
        assert_eq!(a.notices, b.notices);
        let (n1, _) = notices_and_plans(&a.products, Date::from_day_number(20_000));
        assert_eq!(n1, a.notices);
    }

    #[test]
    fn every_merchant_zone_has_bins_and_every_bin_a_capacity() {
        let d = data();
        let bins: Vec<&Location> = d
            .locations
            .iter()
            .filter(|l| l.kind == LocationKind::Bin)
            .collect();
        for m in &d.merchants {
            assert_eq!(m.zones, vec![m.id.clone()], "{}", m.id);
            assert!(bins.iter().any(|b| b.zone == m.id), "{} has no bins", m.id);
        }
        for b in bins {
            assert!(
                d.merchants.iter().any(|m| m.zones.contains(&b.zone)),
                "{}",
                b.code
            );
            let c = b.capacity.expect("a capacity");
            assert!((40..=200).contains(&c), "{}: {c}", b.code);
        }
    }
}
