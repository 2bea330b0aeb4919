//! Picking routes against the shortest route: how much farther the S-shape, largest-gap and
//! combined routes, and the order `route::sequence` hands out, walk than the shortest walk the
//! exact solver finds, over batches as a 3PL sees them; and how long the solver takes.
//!
//! Plain `std`: a seeded xorshift makes the same batches on every run. A batch is 1, 3, 6 or 10
//! orders of 1-5 lines each, every line one stop: either uniform over all bins, or with an ABC
//! skew (80 % of the lines from the 20 % of bins nearest the depot, where fast movers are
//! slotted). Figures go to BENCHMARKS.md; nothing here asserts.

use std::hint::black_box;
use std::time::{Duration, Instant};

use laituri_domain::route::{self, Route, Stop, Strategy, Warehouse};

/// 20 aisles of 30 bays, in decimetres: 1.3 m bays, aisles 3.0 m apart, the depot at the front
/// of aisle 1.
const WAREHOUSE: Warehouse = Warehouse {
    aisles: 20,
    bays: 30,
    bay_width: 13,
    aisle_pitch: 30,
    depot_aisle: 1,
};

/// xorshift64: no dependency, the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[derive(Clone, Copy)]
enum Spread {
    Uniform,
    Abc,
}

/// Every bin position, nearest the depot first.
fn bins_nearest_first() -> Vec<Stop> {
    let mut bins: Vec<Stop> = (1..=WAREHOUSE.aisles)
        .flat_map(|aisle| (1..=WAREHOUSE.bays).map(move |bay| Stop { aisle, bay }))
        .collect();
    bins.sort_by_key(|&bin| WAREHOUSE.walk_length(&[bin], &[0]));
    bins
}

fn batch(rng: &mut Rng, orders: usize, spread: Spread, bins: &[Stop]) -> Vec<Stop> {
    let fast = bins.len() / 5;
    let lines: usize = (0..orders).map(|_| 1 + rng.below(5)).sum();
    (0..lines)
        .map(|_| match spread {
            Spread::Uniform => bins[rng.below(bins.len())],
            Spread::Abc if rng.below(10) < 8 => bins[rng.below(fast)],
            Spread::Abc => bins[fast + rng.below(bins.len() - fast)],
        })
        .collect()
}

/// Mean and worst of route length / shortest length.
#[derive(Default)]
struct Ratio {
    sum: f64,
    worst: f64,
    count: usize,
}

impl Ratio {
    fn add(&mut self, route: &Route, shortest: u64) {
        let ratio = if shortest == 0 {
            1.0
        } else {
            route.length as f64 / shortest as f64
        };
        self.sum += ratio;
        self.worst = self.worst.max(ratio);
        self.count += 1;
    }

    fn show(&self) -> String {
        let mean = self.sum / self.count.max(1) as f64;
        format!(
            "{:>5.1} {:>5.1}",
            100.0 * (mean - 1.0),
            100.0 * (self.worst - 1.0)
        )
    }
}

/// Time per batch of `f` over all `batches`: the fastest of rounds over all of them, run for at
/// least `budget` (the fastest round is the one least disturbed by other work on the machine).
fn per_batch(batches: &[Vec<Stop>], budget: Duration, f: impl Fn(&[Stop])) -> Duration {
    let start = Instant::now();
    let mut fastest = Duration::MAX;
    while fastest == Duration::MAX || start.elapsed() < budget {
        let round = Instant::now();
        for stops in batches {
            f(black_box(stops));
        }
        fastest = fastest.min(round.elapsed());
    }
    fastest / batches.len().max(1) as u32
}

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test` this is a quick run that only shows the
    // benchmark still works.
    let measuring = std::env::args().any(|a| a == "--bench");
    let (count, budget) = if measuring {
        (2000, Duration::from_secs(1))
    } else {
        (20, Duration::ZERO)
    };
    let bins = bins_nearest_first();
    let mut rng = Rng(0x1a17_0b1e);
    println!(
        "picking routes, {} aisles x {} bays, {count} batches per row; per route: mean and worst % \
         longer than the shortest walk",
        WAREHOUSE.aisles, WAREHOUSE.bays
    );
    println!(
        "  {:<7} {:>6} {:>6} | {:^11} | {:^11} | {:^11} | {:^11} | {:>9} {:>9} | sequence is S/C/G/shortest",
        "spread",
        "orders",
        "stops",
        "S-shape",
        "largest gap",
        "combined",
        "sequence",
        "solver",
        "sequence"
    );
    for (name, spread) in [("uniform", Spread::Uniform), ("ABC", Spread::Abc)] {
        for orders in [1, 3, 6, 10] {
            let batches: Vec<Vec<Stop>> = (0..count)
                .map(|_| batch(&mut rng, orders, spread, &bins))
                .collect();
            let mut ratios: [Ratio; 4] = Default::default();
            let mut chosen = [0usize; 4];
            for stops in &batches {
                let best = route::shortest(&WAREHOUSE, stops).length;
                ratios[0].add(&route::s_shape(&WAREHOUSE, stops), best);
                ratios[1].add(&route::largest_gap(&WAREHOUSE, stops), best);
                ratios[2].add(&route::combined(&WAREHOUSE, stops), best);
                let (strategy, sequence) = route::plan(&WAREHOUSE, stops);
                ratios[3].add(&sequence, best);
                chosen[match strategy {
                    Strategy::SShape => 0,
                    Strategy::Combined => 1,
                    Strategy::LargestGap => 2,
                    Strategy::Shortest => 3,
                }] += 1;
            }
            let solver = per_batch(&batches, budget, |stops| {
                black_box(route::shortest(&WAREHOUSE, stops));
            });
            let sequence = per_batch(&batches, budget, |stops| {
                black_box(route::sequence(&WAREHOUSE, stops));
            });
            let stops = batches.iter().map(Vec::len).sum::<usize>() as f64 / count as f64;
            let share = chosen.map(|n| format!("{:.0}", 100.0 * n as f64 / count as f64));
            println!(
                "  {name:<7} {orders:>6} {stops:>6.1} | {} | {} | {} | {} | {:>6.1} µs {:>6.1} µs | {}",
                ratios[0].show(),
                ratios[1].show(),
                ratios[2].show(),
                ratios[3].show(),
                solver.as_secs_f64() * 1e6,
                sequence.as_secs_f64() * 1e6,
                share.join("/")
            );
        }
    }
}
