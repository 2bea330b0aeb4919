//! The offline promise under faults: every action the terminal confirmed reaches the server
//! exactly once, nothing else appears, and the server's stock is the fold of what it applied.
//!
//! Each test is one kind of fault over seeded runs against a real server process and real
//! terminal processes (the scanning driver), with the fault proxy between them. Each prints its
//! totals as one line (`cargo test -p laituri-faults -- --nocapture` shows them).

use std::path::Path;

use laituri_faults::{Totals, WebhookTotals};

/// A fresh PostgreSQL database per test, as the server's tests get one (scripts/test.sh's
/// throwaway cluster, or one this process starts).
#[path = "../../laituri-server/tests/common/postgres.rs"]
#[allow(dead_code)]
mod postgres;
use laituri_faults::scenario::{self, Bins, Rig};

fn bins() -> Bins {
    Bins {
        driver: env!("CARGO_BIN_EXE_laituri-driver").into(),
        server: env!("CARGO_BIN_EXE_laituri-faults-server").into(),
    }
}

/// Runs `scenario` on a rig of its own, checks the stock at the end, and requires a clean bill.
fn suite(name: &str, scenario: impl FnOnce(&mut Rig) -> anyhow::Result<()>) -> Totals {
    suite_on(name, |dir| Rig::new(&bins(), dir), scenario)
}

/// As [`suite`], on the rig `rig` makes in a directory of its own.
fn suite_on(
    name: &str,
    rig: impl FnOnce(&Path) -> anyhow::Result<Rig>,
    scenario: impl FnOnce(&mut Rig) -> anyhow::Result<()>,
) -> Totals {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig(dir.path()).expect("the rig starts");
    let outcome = scenario(&mut rig);
    if let Err(e) = &outcome {
        keep_for_inspection(dir.path());
        panic!("{name}: {e:#}");
    }
    let totals = rig.finish().expect("the stock check runs");
    println!("fault totals, {name}: {totals}");
    println!(
        "putaway, {name}: confirmed put_away events={} partial={}; moves: confirmed \
         stock_moved events={}; counts: confirmed location_counted events={}",
        rig.confirmed_putaways, rig.partial_events, rig.confirmed_moves, rig.confirmed_counts
    );
    if totals.picks > 0 {
        println!(
            "picking, {name}: confirmed actions of the pick flow={}, events {:?}; pick tasks \
             released={} worked={} (of them by a restored terminal under two device ids={}; \
             events whose progress was refused={})",
            rig.pick_actions,
            rig.picking_events,
            rig.pick_tasks_released,
            rig.workers.pick_tasks,
            rig.workers.continued,
            rig.workers.refused_progress
        );
    }
    if !rig.problems.is_empty() {
        keep_for_inspection(dir.path());
    }
    assert!(
        rig.problems.is_empty(),
        "{name}: {}",
        rig.problems.join("\n")
    );
    assert_eq!(totals.lost, 0, "{name}: confirmed actions lost");
    assert_eq!(totals.duplicated, 0, "{name}: actions counted twice");
    assert_eq!(totals.two_devices, 0, "{name}: tasks worked by two devices");
    assert!(totals.actions > 0, "{name}: nothing was scanned");
    totals
}

/// A failed run's files stay for a person to read.
fn keep_for_inspection(dir: &Path) {
    let keep = std::env::temp_dir().join(format!(
        "laituri-faults-{}",
        dir.file_name().unwrap_or_default().to_string_lossy()
    ));
    let _ = std::process::Command::new("cp")
        .arg("-r")
        .arg(dir)
        .arg(&keep)
        .status();
    eprintln!("the failed run's files are in {}", keep.display());
}

#[test]
fn kill_9_of_the_terminal_at_random_moments_loses_and_doubles_nothing() {
    let mut moves = 0;
    let t = suite("terminal kill -9", |rig| {
        scenario::terminal_kills(rig, 11, 10)?;
        moves = rig.confirmed_moves;
        Ok(())
    });
    assert!(t.kills > 0, "{t}");
    assert!(moves > 0, "no goods were moved from bin to bin");
}

#[test]
fn kill_9_of_the_server_before_and_after_its_commit_loses_and_doubles_nothing() {
    let t = suite("server kill -9", |rig| scenario::server_kills(rig, 23, 4));
    assert!(t.kills > 0, "{t}");
}

#[test]
fn lost_requests_and_responses_resets_blackholes_and_flapping_lose_and_double_nothing() {
    let t = suite("network", |rig| scenario::network(rig, 37, 6));
    assert!(t.faults > 0, "{t}");
}

#[test]
fn picking_under_kills_and_network_faults_loses_doubles_and_shares_nothing() {
    let mut counts = 0;
    let t = suite("picking", |rig| {
        scenario::picking_under_faults(rig, 97, 4)?;
        counts = rig.confirmed_counts;
        Ok(())
    });
    assert!(counts > 0, "no bin was counted");
    assert!(t.kills > 0 && t.faults > 0, "{t}");
    assert!(t.picks > 0, "nothing was picked: {t}");
}

#[test]
fn a_server_answering_errors_and_garbage_loses_and_doubles_nothing() {
    let t = suite("bad server", |rig| scenario::bad_server(rig, 41, 5));
    assert!(t.faults > 0, "{t}");
}

#[test]
fn replayed_old_batches_change_nothing() {
    let t = suite("replay", |rig| scenario::replay(rig, 53, 3));
    assert!(t.faults > 0, "{t}");
}

#[test]
fn a_full_disk_refuses_the_action_with_a_message_and_writes_nothing() {
    let t = suite("disk full", |rig| scenario::disk_full(rig, 67, 3));
    assert!(t.faults > 0, "{t}");
}

#[test]
fn a_thin_link_still_drains_a_long_queue() {
    suite("thin link", |rig| scenario::thin_link(rig, 71, 1));
}

#[test]
fn two_servers_on_one_postgres_database_and_kill_9_of_either_lose_and_double_nothing() {
    let db = postgres::fresh_database();
    let t = suite_on(
        "two servers on PostgreSQL",
        |dir| Rig::on_postgres(&bins(), dir, &db.url),
        |rig| scenario::two_servers(rig, 89, 2),
    );
    assert!(t.kills > 0, "{t}");
}

#[test]
fn picking_through_two_servers_on_one_postgres_database_loses_doubles_and_shares_nothing() {
    let db = postgres::fresh_database();
    let t = suite_on(
        "picking on PostgreSQL",
        |dir| Rig::on_postgres(&bins(), dir, &db.url),
        |rig| scenario::picking_under_faults(rig, 107, 2),
    );
    assert!(t.kills > 0 && t.faults > 0 && t.picks > 0, "{t}");
}

#[test]
fn a_terminal_database_restored_from_a_backup_loses_and_doubles_nothing() {
    let mut continued = 0;
    let t = suite("restored backup", |rig| {
        let ran = scenario::restored_backups(rig, 83, 5);
        continued = rig.continued_terminals;
        ran
    });
    assert!(t.faults > 0, "{t}");
    println!("restored backup: terminals that went on under a new device id={continued}");
    assert!(
        continued > 0,
        "in no run did the restored copy's history differ from the server's"
    );
}

#[test]
fn a_picker_restored_from_a_backup_loses_doubles_and_shares_nothing() {
    let mut continued = 0;
    let t = suite("restored picker", |rig| {
        let ran = scenario::restored_pickers(rig, 101, 3);
        continued = rig.continued_terminals;
        ran
    });
    println!("restored picker: terminals that went on under a new device id={continued}");
    assert!(t.picks > 0, "nothing was picked: {t}");
    assert!(
        continued > 0,
        "in no run did the restored copy's history differ from the server's"
    );
}

/// Runs the webhook scenario on `rig` and requires every event delivered, none from nowhere.
fn webhooks_on(name: &str, rig: impl FnOnce(&Path) -> anyhow::Result<Rig>, seed: u64, rounds: u32) {
    let mut w = WebhookTotals::default();
    suite_on(name, rig, |rig| {
        let ran = scenario::webhooks_under_kills(rig, seed, rounds);
        w = rig.webhooks;
        ran
    });
    println!("webhooks, {name}: {w}");
    assert_eq!(w.lost, 0, "{name}: webhook events lost: {w}");
    assert_eq!(w.forged, 0, "{name}: webhooks the server did not send: {w}");
    assert!(w.kills > 0 && w.events > 0, "{name}: {w}");
}

#[test]
fn webhooks_reach_a_misbehaving_receiver_at_least_once_through_server_kills() {
    webhooks_on("webhooks", |dir| Rig::new(&bins(), dir), 113, 3);
}

#[test]
fn webhooks_from_two_servers_on_one_postgres_database_are_never_lost() {
    let db = postgres::fresh_database();
    webhooks_on(
        "webhooks on PostgreSQL",
        |dir| Rig::on_postgres(&bins(), dir, &db.url),
        127,
        2,
    );
}

/// Prints what the packers did and found, and requires that they finished orders.
fn packing_report(name: &str, t: &Totals, tally: &scenario::PackTally) {
    let c = &tally.check;
    println!(
        "packing, {name}: packing stations={} packing actions={} kills of a station in the \
         middle of a packing job={} orders finished={} parcels={} orders in two or more \
         parcels={} shipped={} sync rounds until the last label={}",
        tally.packers,
        t.packs,
        tally.kills_in_job,
        c.finished,
        c.parcels,
        c.multi_parcel,
        c.shipped,
        tally.label_rounds
    );
    assert!(
        t.packs > 0 && c.finished > 0,
        "{name}: nothing was packed: {t}"
    );
    assert_eq!(c.shipped, c.finished, "{name}: finished orders not shipped");
}

#[test]
fn packing_under_kills_and_network_faults_packs_each_order_once() {
    let mut tally = scenario::PackTally::default();
    let mut returns = 0;
    let t = suite("packing", |rig| {
        let ran = scenario::packing_under_faults(rig, 113, 2);
        tally = rig.packing.clone();
        returns = rig.confirmed_returns;
        ran
    });
    packing_report("packing", &t, &tally);
    println!("returns, packing: confirmed return_received events={returns}");
    assert!(t.kills > 0 && t.faults > 0, "{t}");
    assert!(returns > 0, "no return of a shipped order was taken in");
}

#[test]
fn packing_while_the_server_is_killed_packs_each_order_once() {
    let mut tally = scenario::PackTally::default();
    let mut returns = 0;
    let t = suite("packing, server kill -9", |rig| {
        let ran = scenario::packing_server_kills(rig, 127, 2);
        tally = rig.packing.clone();
        returns = rig.confirmed_returns;
        ran
    });
    packing_report("packing, server kill -9", &t, &tally);
    println!("returns, packing, server kill -9: confirmed return_received events={returns}");
    assert!(t.kills > 0, "{t}");
}
