//! One carton suggestion for an order of 50 lines against 10 box types: how long the packing
//! station waits for it.
//!
//! Plain `std`: a seeded xorshift makes the same orders on every run (assorted goods, some
//! without dimensions or weight, 1-4 units a line; about half of the orders need more than one
//! box). Each call is timed on its own; the median and the 99th percentile are printed. Figures
//! go to BENCHMARKS.md; nothing here asserts.

use std::hint::black_box;
use std::time::{Duration, Instant};

use laituri_domain::carton::{self, BoxSpec, Item};

/// xorshift64: no dependency, the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n)) as u32
    }
}

/// Ten box types from a small mailer to a large carton.
fn box_types() -> Vec<BoxSpec> {
    (1..=10u32)
        .map(|k| BoxSpec {
            id: format!("BOX-{k:02}"),
            inner_mm: [120 + 45 * k, 90 + 32 * k, 40 + 28 * k],
            max_weight_g: 2_000 + 3_000 * k,
            fill_pct: 80,
            tare_g: 50 + 60 * k,
        })
        .collect()
}

fn order(rng: &mut Rng, lines: u32) -> Vec<Item> {
    (0..lines)
        .map(|i| {
            let (a, b, c) = (20 + rng.below(300), 10 + rng.below(200), 2 + rng.below(120));
            let known = rng.below(10);
            Item {
                product_id: format!("P-{i:03}-{}", rng.below(1000)),
                quantity: i64::from(1 + rng.below(4)),
                dims_mm: (known > 1).then_some([a, b, c]),
                volume_ml: (known > 0).then_some(a * b * c / 1000 + 1),
                weight_g: (known > 0).then_some(10 + rng.below(1500)),
            }
        })
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test` this is a quick run that only shows the
    // benchmark still works.
    let measuring = std::env::args().any(|a| a == "--bench");
    let (orders, rounds) = if measuring { (200, 100) } else { (20, 2) };
    let boxes = box_types();
    let mut rng = Rng(0x0ca7_7011);
    let orders: Vec<Vec<Item>> = (0..orders).map(|_| order(&mut rng, 50)).collect();
    let parcels: usize = orders
        .iter()
        .map(|o| carton::suggest(o, &boxes).parcels.len())
        .sum();
    let mut times: Vec<Duration> = Vec::with_capacity(orders.len() * rounds);
    for _ in 0..rounds {
        for items in &orders {
            let start = Instant::now();
            black_box(carton::suggest(black_box(items), black_box(&boxes)));
            times.push(start.elapsed());
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "carton suggestion, 50 lines against {} box types: {} runs over {} orders, {:.1} parcels \
         per order",
        boxes.len(),
        times.len(),
        orders.len(),
        parcels as f64 / orders.len() as f64
    );
    println!(
        "  median {:>7.1} µs   p99 {:>7.1} µs   max {:>7.1} µs",
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        times[times.len() - 1].as_secs_f64() * 1e6
    );
}
