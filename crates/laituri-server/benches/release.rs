//! Releasing orders, on both backends: 10,000 orders of the demo's two merchants (1-4 lines of
//! their products, one in ten urgent) against stock in the bins, reserved and released into
//! carts of six totes by one run of the planner, through the store as the server calls it.
//! Prints the time of sending the orders, of the run that plans them all, and of a run with
//! nothing left to do (the planner runs after every push, so its idle cost matters).
//!
//! Run with `cargo bench -p laituri-server --bench release` (`-- --backend=sqlite` or
//! `postgres` for one). It asserts no timings. Under `cargo test` it plans 200 orders.

use std::sync::Arc;
use std::time::Instant;

use laituri_domain::calendar::Date;
use laituri_protocol::{EnrolRequest, Event, OrderInput, OrderLine, PROTOCOL_VERSION};
use laituri_server::demo::outbound::{Shelving, shelve};
use laituri_server::outbound::ReleasePolicy;
use laituri_server::{ServerConfig, Store, demo};
use uuid::Uuid;

#[path = "support/pg.rs"]
mod pg;

/// A small deterministic generator (xorshift), so every run plans the same orders.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The demo's products without lot, expiry or serial, per merchant.
fn plain_products() -> Vec<(String, String)> {
    demo::data()
        .products
        .into_iter()
        .filter(|p| !p.track_lot && !p.track_expiry && !p.track_serial && p.kit.is_empty())
        .map(|p| (p.merchant_id, p.id))
        .collect()
}

/// Receives `units` of every product and puts them away, each product into a bin of its
/// merchant's zone, pushed as one device's events.
async fn stock_up(store: &dyn Store, products: &[(String, String)], units: i64) {
    let device = Uuid::now_v7();
    store
        .enrol_device(
            &EnrolRequest {
                enrolment_code: demo::ENROLMENT_CODE.into(),
                device_id: device,
                device_name: "release bench".into(),
                protocol_version: PROTOCOL_VERSION,
            },
            &Uuid::now_v7().to_string(),
            None,
        )
        .await
        .unwrap();
    let bins: Vec<(String, String)> = demo::data()
        .locations
        .into_iter()
        .filter(|l| l.kind == laituri_protocol::LocationKind::Bin)
        .map(|l| (l.zone, l.code))
        .collect();
    let mut events = Vec::new();
    for (i, (merchant, product)) in products.iter().enumerate() {
        let zone_bins: Vec<&String> = bins
            .iter()
            .filter(|(z, _)| z == merchant)
            .map(|(_, c)| c)
            .collect();
        let bin = zone_bins[i % zone_bins.len()].clone();
        let tote = format!("T-B{i:04}");
        let bodies = shelve(
            Uuid::now_v7(),
            &Shelving {
                merchant,
                product,
                barcode: product,
                units,
                lot: None,
                expiry: None,
                tote: &tote,
                bin: &bin,
            },
        );
        for body in &bodies {
            let seq = events.len() as u64 + 1;
            events.push(Event::new(Uuid::now_v7(), device, seq, "OP-1900", 0, body));
        }
    }
    for batch in events.chunks(2_000) {
        store.push(device, batch).await.unwrap();
    }
}

fn orders(count: usize, products: &[(String, String)]) -> Vec<OrderInput> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..count)
        .map(|n| {
            let merchant = if n % 2 == 0 {
                demo::KETTU
            } else {
                demo::NORDIC
            };
            let mine: Vec<&String> = products
                .iter()
                .filter(|(m, _)| m == merchant)
                .map(|(_, p)| p)
                .collect();
            let mut lines: Vec<OrderLine> = Vec::new();
            for _ in 0..=rng.below(4) {
                let product = mine[rng.below(mine.len() as u64) as usize].clone();
                if lines.iter().all(|l| l.product_id != product) {
                    lines.push(OrderLine {
                        product_id: product,
                        quantity: 1 + rng.below(3) as i64,
                    });
                }
            }
            let lines: Vec<(&str, i64)> = lines
                .iter()
                .map(|l| (l.product_id.as_str(), l.quantity))
                .collect();
            let priority = if rng.below(10) == 0 { 5 } else { 0 };
            let value = Some(1_000 + rng.below(10_000) as i64);
            demo::outbound::order(merchant, &format!("B-{n:06}"), &lines, priority, value)
        })
        .collect()
}

async fn run(backend: &str, store: Arc<dyn Store>, count: usize) {
    let products = plain_products();
    // Enough stock for nearly every order: most are reserved, a few go on hold.
    let per_product = (count as i64 * 8 / products.len() as i64).max(10);
    stock_up(&*store, &products, per_product).await;
    let inputs = orders(count, &products);
    let started = Instant::now();
    for o in &inputs {
        store.put_order(o).await.unwrap();
    }
    let sent = started.elapsed();
    let policy = ReleasePolicy::default();
    let started = Instant::now();
    let run = store.plan_outbound(&policy).await.unwrap();
    let planned = started.elapsed();
    let started = Instant::now();
    let idle = store.plan_outbound(&policy).await.unwrap();
    let idle_time = started.elapsed();
    assert_eq!(idle.tasks, 0, "a second run finds nothing to release");
    println!(
        "{backend}: {count} orders sent in {:.2} s ({:.0}/s); one run reserved {} and held {} \
         in {:.2} s, making {} pick tasks for {} orders (stock of {} products); a run with \
         nothing to do: {:.0} ms",
        sent.as_secs_f64(),
        count as f64 / sent.as_secs_f64(),
        run.reserved,
        run.on_hold,
        planned.as_secs_f64(),
        run.tasks,
        run.orders_released,
        products.len(),
        idle_time.as_secs_f64() * 1000.0,
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let count = if full { 10_000 } else { 200 };
    let only: Option<String> =
        std::env::args().find_map(|a| a.strip_prefix("--backend=").map(str::to_lowercase));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for backend in ["SQLite", "PostgreSQL"] {
        if only
            .as_ref()
            .is_some_and(|o| !backend.to_lowercase().starts_with(o.as_str()))
        {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::local(dir.path().join("bench.sqlite3"));
        let _pg = (backend == "PostgreSQL").then(|| {
            let pg = pg::postgres_for_bench(&rt);
            config.database_url = Some(pg.url.clone());
            pg
        });
        demo::seed(&config, Date::parse_iso("2026-01-01").unwrap()).unwrap();
        rt.block_on(async {
            let store = config.open_backend().await.unwrap();
            run(backend, store, count).await;
        });
    }
}
