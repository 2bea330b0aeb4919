//! Packers under faults: pickers drop orders at packing while a packing station packs them, and
//! the station or the server is killed -9 and the network fails in between.

use std::path::Path;
use std::time::Duration;

use laituri_faultproxy::Fault;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use super::{Picker, Rig, bring_wave, sleep_ms};
use crate::outbound::Stocker;
use crate::packing::{self, PackCheck};

/// What the packing scenarios found, over their rounds.
#[derive(Debug, Clone, Default)]
pub struct PackTally {
    /// Packing stations driven and checked.
    pub packers: u64,
    /// kill -9 of a packing station while a packing job was open: the job resumed from its
    /// journal.
    pub kills_in_job: u64,
    /// Sync rounds on a healthy network the slowest station took until its last label arrived.
    pub label_rounds: u32,
    pub check: PackCheck,
}

/// What hits the terminals and the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hit {
    /// kill -9 of the packing station (mostly) and of pickers, and the proxy's faults.
    Terminals,
    /// kill -9 of the server (through a delayed link), now and then of the packing station.
    Server,
}

/// Pickers and a packer under kill -9 of the terminals and network faults. Each round a wave of
/// stock and orders is released into pick tasks; two pickers pick and drop their totes at
/// packing while a packing station packs what arrives there; the packing station is killed -9
/// (often in the middle of a packing job, which resumes from its journal) and started again,
/// a picker now and then, and the proxy loses requests and answers, resets and blackholes
/// connections. Once the pickers are done, the packer packs what is left under more kills, then
/// its shift ends. Every action either confirmed must be on the server once, every order the
/// packer finished packed there once with parcels that hold exactly the order, and, once the
/// network is healthy, shipped with its labels on the station ([`crate::packing`]).
pub fn packing_under_faults(rig: &mut Rig, seed: u64, rounds: u32) -> anyhow::Result<()> {
    packing(rig, seed, rounds, Hit::Terminals)
}

/// [`packing_under_faults`] with kill -9 of the server instead of the proxy's faults: the server
/// dies with the station's parcels, finishes and label requests in flight (a delayed link widens
/// the window between its commit and its answer), and starts again on the same database.
pub fn packing_server_kills(rig: &mut Rig, seed: u64, rounds: u32) -> anyhow::Result<()> {
    packing(rig, seed, rounds, Hit::Server)
}

/// True when the terminal's store has a packing job open (read only).
fn packing_open(db: &Path) -> anyhow::Result<bool> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    c.busy_timeout(Duration::from_secs(5))?;
    let flow: Option<String> = c
        .query_row("SELECT (SELECT flow FROM open_job WHERE id = 1)", [], |r| {
            r.get(0)
        })
        .unwrap_or(None);
    Ok(flow.as_deref() == Some(laituri::terminal::packing::FLOW))
}

/// kill -9 of a terminal and its start again after `down`; counts a kill of a packer in the
/// middle of a job. A driver that ended by itself stays ended.
fn kill_and_restart(
    rig: &mut Rig,
    p: &mut Picker,
    down: Duration,
    packer: bool,
) -> anyhow::Result<()> {
    let Some(mut child) = p.child.take() else {
        return Ok(());
    };
    if let Some(status) = child.try_wait()? {
        anyhow::ensure!(
            status.success(),
            "driver of {} failed ({status}); see {}",
            p.run.name,
            p.run.log.display()
        );
        return Ok(());
    }
    child.kill()?;
    child.wait()?;
    rig.totals.kills += 1;
    if packer && p.run.db.exists() && packing_open(&p.run.db)? {
        rig.packing.kills_in_job += 1;
    }
    std::thread::sleep(down);
    p.child = Some(rig.spawn_driver(&p.config, &p.run.log)?);
    Ok(())
}

fn kill_server(rig: &mut Rig, down: Duration) -> anyhow::Result<()> {
    rig.server.kill9();
    rig.totals.kills += 1;
    std::thread::sleep(down);
    let addr = rig.server.restart()?;
    rig.proxy.set_upstream(addr);
    Ok(())
}

/// One fault, as `hit` chooses; `pickers` may be empty (they are done).
fn one_fault(
    rig: &mut Rig,
    rng: &mut SmallRng,
    hit: Hit,
    packer: &mut Picker,
    pickers: &mut [Picker],
) -> anyhow::Result<()> {
    std::thread::sleep(sleep_ms(rng, 100..=600));
    let roll = rng.random_range(0..10);
    match hit {
        Hit::Terminals => match roll {
            0..=4 => {
                let down = sleep_ms(rng, 0..=300);
                kill_and_restart(rig, packer, down, true)?;
            }
            5 if !pickers.is_empty() => {
                let i = rng.random_range(0..pickers.len());
                let down = sleep_ms(rng, 0..=300);
                kill_and_restart(rig, &mut pickers[i], down, false)?;
            }
            5 | 6 => {
                rig.proxy.set(Fault::Seeded {
                    seed: rng.random(),
                    p_reset: 0.15,
                    p_drop_response: 0.25,
                    p_blackhole: 0.05,
                });
                std::thread::sleep(sleep_ms(rng, 400..=1200));
                rig.proxy.set(Fault::None);
            }
            7 | 8 => {
                rig.proxy.set(if rng.random_bool(0.5) {
                    Fault::DropResponse
                } else {
                    Fault::Reset
                });
                std::thread::sleep(sleep_ms(rng, 200..=800));
                rig.proxy.set(Fault::None);
            }
            _ => {
                // Longer than the request timeout (1 s).
                rig.proxy.set(Fault::Blackhole);
                std::thread::sleep(sleep_ms(rng, 1200..=1800));
                rig.proxy.set(Fault::None);
            }
        },
        Hit::Server => {
            rig.proxy.set(Fault::Delay {
                one_way_ms: rng.random_range(5..=60),
                jitter_ms: 20,
            });
            if roll < 3 {
                let down = sleep_ms(rng, 0..=300);
                kill_and_restart(rig, packer, down, true)?;
            } else {
                let down = sleep_ms(rng, 0..=400);
                kill_server(rig, down)?;
            }
        }
    }
    Ok(())
}

fn packing(rig: &mut Rig, seed: u64, rounds: u32, hit: Hit) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut stocker = Stocker::enrol(&rig.server.url())?;
    for round in 0..rounds {
        let orders = rng.random_range(6..=10);
        bring_wave(
            rig,
            &mut stocker,
            rng.random(),
            &format!("K{seed}-{round}"),
            orders,
        )?;

        let mut pickers = Vec::new();
        for _ in 0..2 {
            let run = rig.new_run("pack-picker");
            if rng.random_bool(0.8) {
                rig.prime(&run)?;
            }
            let mut config = rig
                .driver_config(&run, &mut rng)
                .picking(&rig.facts, rng.random_range(80..=95));
            config.items = rng.random_range(8..=14);
            config.pace_ms = rng.random_range(2..=8);
            config.drain = Duration::from_secs(20);
            let child = rig.spawn_driver(&config, &run.log)?;
            pickers.push(Picker {
                run,
                config,
                child: Some(child),
            });
        }
        let run = rig.new_run("packer");
        if rng.random_bool(0.7) {
            rig.prime(&run)?;
        }
        let stop = run
            .db
            .parent()
            .map(|d| d.join("end-of-shift"))
            .unwrap_or_else(|| rig.dir.join(format!("{}-end-of-shift", run.name)));
        let mut config = rig
            .driver_config(&run, &mut rng)
            .packing_station(&rig.facts, stop.clone());
        config.pace_ms = rng.random_range(2..=8);
        config.drain = Duration::from_secs(20);
        let child = rig.spawn_driver(&config, &run.log)?;
        let mut packer = Picker {
            run,
            config,
            child: Some(child),
        };

        // Pickers and the packer at work.
        for _ in 0..rng.random_range(4..=7) {
            one_fault(rig, &mut rng, hit, &mut packer, &mut pickers)?;
        }
        rig.proxy.set(Fault::None);
        if !rig.server.is_running() {
            let addr = rig.server.restart()?;
            rig.proxy.set_upstream(addr);
        }
        let mut ended = Vec::new();
        for p in pickers {
            if let Some(child) = p.child {
                rig.wait_driver(child, Duration::from_secs(120), &p.run)?;
            }
            ended.push(p.run);
        }
        for run in &ended {
            rig.finish_run(run)?;
        }

        // Every drop is on the server: the packer packs what is left, under more faults.
        for _ in 0..rng.random_range(3..=5) {
            one_fault(rig, &mut rng, hit, &mut packer, &mut [])?;
        }
        rig.proxy.set(Fault::None);
        if !rig.server.is_running() {
            let addr = rig.server.restart()?;
            rig.proxy.set_upstream(addr);
        }
        std::fs::write(&stop, b"")?;
        if let Some(child) = packer.child.take() {
            rig.wait_driver(child, Duration::from_secs(120), &packer.run)?;
        }

        // A healthy network: the station asks for its labels until they arrive.
        let run = packer.run;
        crate::check::heal(&run.db, &rig.server.url())?;
        let label_rounds = match packing::await_labels(&run.db, &rig.server.url(), 40) {
            Ok(n) => n,
            Err(e) => {
                rig.problems.push(format!("{}: {e:#}", run.name));
                40
            }
        };
        rig.packing.label_rounds = rig.packing.label_rounds.max(label_rounds);
        rig.finish_run(&run)?;
        rig.totals.packs += packing::packing_actions(&crate::oracle::read(&run.oracle)?);
        let c = packing::check_packed(
            rig.events(),
            &rig.server.url(),
            &[run.oracle.as_path()],
            &[run.db.as_path()],
            true,
        )?;
        rig.totals.lost += c.lost;
        rig.totals.duplicated += c.duplicated;
        for p in &c.problems {
            rig.problems.push(format!("{}: {p}", run.name));
        }
        if rig.verbose {
            println!(
                "{}: orders finished={} parcels={} in two or more parcels={} shipped={} \
                 label rounds={label_rounds}",
                run.name, c.finished, c.parcels, c.multi_parcel, c.shipped
            );
        }
        rig.packing.packers += 1;
        rig.packing.check += c;
    }
    Ok(())
}
