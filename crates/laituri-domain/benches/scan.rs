//! Scans interpreted per second, over the public scan corpus (tests/data/gs1/corpus.txt).
//!
//! Plain `std::time::Instant`, no framework: decode the corpus lines once, then interpret them
//! round after round for a fixed time and print the rate. Figures go to BENCHMARKS.md; nothing
//! here asserts a timing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use laituri_domain::calendar::Date;
use laituri_domain::scan::{self, ScanOptions};

const CORPUS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/data/gs1/corpus.txt"
));

/// Interprets `scans` round after round for at least `budget`; returns scans per second.
fn rate(scans: &[String], opts: &ScanOptions, budget: Duration) -> (f64, u64) {
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < budget {
        for raw in scans {
            black_box(scan::interpret(black_box(raw), opts));
        }
        done += scans.len() as u64;
    }
    (done as f64 / start.elapsed().as_secs_f64(), done)
}

fn main() {
    let opts = ScanOptions {
        today: Date::new(2026, 1, 1).unwrap(),
        fnc1_substitute: Some('~'),
    };
    let all: Vec<String> = CORPUS.lines().map(scan::escape::unescape).collect();
    let pick = |f: &dyn Fn(&str) -> bool| -> Vec<String> {
        all.iter().filter(|s| f(s)).cloned().collect()
    };
    let sets = [
        ("whole corpus mix", all.clone()),
        (
            "GS1 with symbology identifier",
            pick(&|s| {
                s.starts_with("]C1")
                    || s.starts_with("]d2")
                    || s.starts_with("]Q3")
                    || s.starts_with("]e0")
                    || s.starts_with("]J1")
            }),
        ),
        ("bracketed, typed by hand", pick(&|s| s.starts_with('('))),
        (
            "digits only (EAN/UPC/GTIN guesses)",
            pick(&|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())),
        ),
    ];
    // `cargo bench` passes `--bench`; under `cargo test` this is a quick run that only shows the
    // benchmark still works.
    let measuring = std::env::args().any(|a| a == "--bench");
    let budget = if measuring {
        Duration::from_secs(2)
    } else {
        Duration::from_millis(20)
    };
    // Warm up caches and the allocator.
    rate(&all, &opts, budget / 6);
    println!("scan interpretation, {} corpus lines", all.len());
    for (name, scans) in &sets {
        let (per_sec, done) = rate(scans, &opts, budget);
        println!(
            "  {name:<38} {:>5} lines  {:>12.0} scans/s  ({done} scans, {:.2} µs/scan)",
            scans.len(),
            per_sec,
            1e6 / per_sec
        );
    }
}
