//! The warehouse's places for the floor benchmarks (putaway, picking): the cached terminal store
//! with 100,000 bins in zones with walk orders and capacities, both merchants with their zones,
//! and stock levels in about 70 % of the bins, added the way a pull brings them
//! (`Store::apply_changes`). Kept as `target/bench-data/putaway-1m-v1.sqlite3`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use laituri::store::Store;
use laituri_protocol::{
    Change, ChangeRecord, EventBody, GoodsCondition, Location, LocationKind, Operator, Role,
    StockLevel,
};
use laituri_server::demo;
use rand::{RngExt, SeedableRng};

const VERSION: &str = "v1";

#[derive(Clone, Copy)]
pub struct Size {
    /// Products in the catalogue (even: Kettu, odd: Nordic).
    pub products: usize,
    /// Bins, half of each merchant.
    pub locations: usize,
    /// Zones of each merchant.
    pub zones: usize,
    pub pending: usize,
    pub warm_up: usize,
    pub cycles: usize,
}

pub const FULL: Size = Size {
    products: super::PRODUCTS,
    locations: 100_000,
    zones: 10,
    pending: super::PENDING,
    warm_up: 20,
    cycles: 260,
};

pub const BRIEF: Size = Size {
    products: 2_000,
    locations: 2_000,
    zones: 4,
    pending: 1_000,
    warm_up: 1,
    cycles: 4,
};

/// Share of bins that hold stock, in percent.
const OCCUPIED_PCT: u32 = 70;

pub fn zone_name(merchant: usize, zone: usize) -> String {
    format!("{}Z-{zone:02}", ["K", "N"][merchant])
}

pub fn bin_code(merchant: usize, zone: usize, i: usize) -> String {
    format!("{}B-{zone:02}-{i:05}", ["K", "N"][merchant])
}

/// The changes a pull would bring for the warehouse's places: both merchants with their zones,
/// the bins, and stock in about 70 % of them. Deterministic.
pub fn place_changes(size: Size) -> Vec<Change> {
    let mut out = Vec::new();
    for mut m in demo::data().merchants {
        let idx = usize::from(m.id != demo::KETTU);
        m.zones = (0..size.zones).map(|z| zone_name(idx, z)).collect();
        out.push(Change::Merchant(m));
    }
    let per_zone = size.locations / 2 / size.zones;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x1a17_0002);
    let mut walk = 10_000u32;
    for merchant in 0..2 {
        for zone in 0..size.zones {
            for i in 0..per_zone {
                walk += 1;
                let code = bin_code(merchant, zone, i);
                let capacity = 100 + (i as u32 * 37) % 300;
                out.push(Change::Location(Location {
                    box_types: Vec::new(),
                    aisle: None,
                    bay: None,
                    code: code.clone(),
                    kind: LocationKind::Bin,
                    zone: zone_name(merchant, zone),
                    walk_order: walk,
                    capacity: Some(capacity),
                }));
                if rng.random_range(0..100) >= OCCUPIED_PCT {
                    continue;
                }
                let kinds = if rng.random_range(0..10) < 3 { 2 } else { 1 };
                for _ in 0..kinds {
                    // A product of the bin's merchant: even numbers are Kettu's, odd Nordic's.
                    let n = rng.random_range(0..size.products / 2) * 2 + merchant;
                    out.push(Change::Stock(StockLevel {
                        merchant_id: super::product(n).merchant_id,
                        product_id: super::product_id(n),
                        location: code.clone(),
                        container: None,
                        lot: None,
                        expiry: None,
                        condition: GoodsCondition::Good,
                        quantity: rng.random_range(1..=60),
                        by_device: None,
                        by_seq: None,
                    }));
                }
            }
        }
    }
    out
}

/// Applies changes the way the sync worker applies a pulled page, without moving the cursor.
pub fn apply(store: &mut Store, changes: Vec<Change>) {
    let cursor = store.pull_cursor().expect("cursor");
    let records: Vec<ChangeRecord> = changes
        .into_iter()
        .map(|change| ChangeRecord { cursor, change })
        .collect();
    for page in records.chunks(1000) {
        store.apply_changes(page, cursor).expect("changes applied");
    }
}

/// The cached terminal store plus the warehouse's places and stock; built when missing.
pub fn ensure_putaway_store(size: Size) -> PathBuf {
    let path = super::data_dir().join(format!("putaway-1m-{VERSION}.sqlite3"));
    let terminal = super::ensure_terminal();
    if path.exists() {
        return path;
    }
    let tmp = super::data_dir().join("putaway-building.sqlite3");
    super::copy_db(&terminal, &tmp);
    let start = Instant::now();
    let mut store = Store::open(&tmp).expect("store");
    apply(&mut store, place_changes(size));
    drop(store);
    super::checkpoint(&tmp);
    std::fs::rename(&tmp, &path).expect("rename putaway store");
    eprintln!(
        "built {} in {:.0} s",
        path.display(),
        start.elapsed().as_secs_f64()
    );
    path
}

/// A working copy of the warehouse's store for one benchmark named `name`: the cached big one
/// under `cargo bench` (`full`), else a small one built in `keep`.
pub fn work_copy(full: bool, size: Size, name: &str, keep: &Path) -> PathBuf {
    let (master, work) = if full {
        let master = ensure_putaway_store(size);
        (
            master,
            super::data_dir().join(format!("{name}-work.sqlite3")),
        )
    } else {
        let master = keep.join(format!("{name}-brief.sqlite3"));
        build_brief_store(&master, size);
        (master, keep.join(format!("{name}-work.sqlite3")))
    };
    super::copy_db(&master, &work);
    work
}

/// A small store for `cargo test`: everything through `apply_changes`, no server.
pub fn build_brief_store(path: &Path, size: Size) {
    let mut store = Store::open(path).expect("store");
    let mut changes = vec![Change::Operator(Operator {
        id: super::OPERATOR.into(),
        name: "Aino".into(),
        badge: super::OPERATOR.into(),
        pin_hash: None,
        roles: vec![Role::Receiving, Role::Putaway],
        language: "fi".into(),
        pin: None,
        count_limits: None,
    })];
    // Barcodes as the server stores and sends them (GTIN-14).
    let products = (0..size.products).map(super::product).collect();
    let products = laituri_server::master::prepare_products(products).expect("valid products");
    changes.extend(products.into_iter().map(Change::Product));
    changes.extend(place_changes(size));
    apply(&mut store, changes);
    let receipt_id = uuid::Uuid::now_v7();
    let bodies: Vec<EventBody> = (0..size.pending)
        .map(|i| received(receipt_id, (i * 2) % size.products, 1, "T-0001"))
        .collect();
    store
        .append_events(super::OPERATOR, &bodies)
        .expect("pending events");
    drop(store);
    super::checkpoint(path);
}

pub fn received(receipt_id: uuid::Uuid, n: usize, quantity: i64, tote: &str) -> EventBody {
    EventBody::GoodsReceived {
        receipt_id,
        merchant_id: super::product(n).merchant_id,
        product_id: super::product_id(n),
        quantity,
        lot: None,
        expiry: None,
        serial: None,
        container: tote.into(),
        location: "DOCK-1".into(),
        condition: GoodsCondition::Good,
        barcode: super::unit_gtin(n),
    }
}

/// Products of a merchant that lie alone in a bin with room (a same-goods suggestion), by number.
pub fn stocked_products(db: &Path, merchant: &str) -> Vec<usize> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut stmt = c
        .prepare(
            "SELECT s.product_id FROM stock_pulled s JOIN locations l ON l.code = s.location
             WHERE s.merchant_id = ?1 AND l.kind = 'bin'
               AND (SELECT count(*) FROM stock_pulled o WHERE o.location = s.location) = 1
             LIMIT 5000",
        )
        .unwrap();
    let rows = stmt
        .query_map([merchant], |r| r.get::<_, String>(0))
        .unwrap();
    rows.map(|r| r.unwrap()["BP-".len()..].parse().unwrap())
        .collect()
}
