//! The checker of the offline promise, run after the faults have healed.
//!
//! For one terminal (a run): every event of every confirmed action (the oracle) is in the
//! terminal's outbox and on the server exactly once, applied, with the same event id (a putaway
//! under a lease another device holds now is answered `Partial`: its goods moved, only the task
//! progress was refused, so it counts as delivered); every other committed event is on the
//! server once too, and nothing else is; the outbox drained (`acked_through == last_seq`) and the
//! server's `last_seq` for the device (from a re-enrolment with the same device id) is the
//! terminal's. A terminal whose database was restored from a backup goes on under a new device id
//! (its lineage: the ids it pushed under, each for a range of its local seqs): each local seq is
//! looked for under the id and seq it was pushed as, the server must record that each new id
//! continues the one before, and an earlier id's seqs beyond the terminal's range are the other
//! history's (checked by [`check_delivered`] against that history's oracle). For the whole server: stock equals the seeded stock plus the fold of the stock
//! moves ([`EventBody::moves`]) of every applied event, whatever its type: goods received into
//! totes, put away from totes into bins, picked from bins into totes in transit, dropped from
//! there at packing, moved from bin to bin, brought in by returns; plus the variance of every
//! count the server booked. Rejected events contribute nothing. A stock row below zero needs the
//! server's `negative_stock` exception for its place: the driver takes from a tote no more than
//! it received into it, from a bin no more than the line reserved there or its view holds, but a
//! clerk's move or a lead's count can race a picker who picks what the task says (physical
//! reality wins, and the server says so). And no task was worked by two devices ([`check_one_worker`]): the events
//! whose task progress the server applied (not a `Partial` answer) come, for each task, from one
//! device, or from the ids one terminal went on under after a restore.
//!
//! It reads the terminal's store and the server's database directly (read only, by SQL), and the
//! server's stock and enrolment through the HTTP API, as a merchant's system and a terminal would.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use laituri::store::Lineage;
use laituri::sync::{SyncConfig, SyncStatus, sync_once};
use laituri_protocol::{
    EnrolRequest, EnrolResponse, EventBody, PROTOCOL_HEADER, PROTOCOL_VERSION, Place, StockMove,
    StockRow, paths,
};
use uuid::Uuid;

use crate::oracle;
use crate::serverdb::{ServerEvent, ServerEvents, open_read};

/// What one run's check found.
#[derive(Debug, Clone, Default)]
pub struct RunCheck {
    /// The device id the terminal pushes under now.
    pub device_id: Uuid,
    /// The ids it pushed under before (its database was restored from a backup).
    pub earlier_ids: u64,
    /// Confirmed actions (oracle lines).
    pub actions: u64,
    /// Events of confirmed actions.
    pub confirmed_events: u64,
    /// Events the terminal committed (its `last_seq`), confirmed or not.
    pub committed_events: u64,
    /// Confirmed `put_away` events (all of them on the server once, applied or partial).
    pub confirmed_putaways: u64,
    /// Confirmed `stock_moved` events: goods moved from bin to bin.
    pub confirmed_moves: u64,
    /// Confirmed `location_counted` events: bins counted.
    pub confirmed_counts: u64,
    /// Confirmed `return_received` events: customers' returns taken in.
    pub confirmed_returns: u64,
    /// Confirmed events the server answered `Partial` (goods moved, task progress refused).
    pub partial: u64,
    /// Confirmed actions of picking that recorded something (a pick, a short pick, a zero check,
    /// the drop), and their events by type; and every confirmed action of the pick flow (taking
    /// a task, scanning a location, an item, a tote, and the like).
    pub picks: u64,
    pub pick_actions: u64,
    pub picking_events: BTreeMap<String, u64>,
    pub lost: u64,
    pub duplicated: u64,
    pub problems: Vec<String>,
}

impl RunCheck {
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.lost == 0 && self.duplicated == 0
    }
}

/// A stock row's key: merchant, product, location, container, lot, expiry, condition.
pub type StockKey = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

fn block_on<T>(f: impl std::future::Future<Output = T>) -> anyhow::Result<T> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f))
}

fn http() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// The server's `last_seq` for a device, as a re-enrolment with the same device id answers it.
/// This replaces the device's token; a terminal that goes on afterwards enrols again by itself.
pub fn server_last_seq(server_url: &str, device_id: Uuid) -> anyhow::Result<u64> {
    let req = EnrolRequest {
        enrolment_code: laituri_server::demo::ENROLMENT_CODE.into(),
        device_id,
        device_name: "fault-checker".into(),
        protocol_version: PROTOCOL_VERSION,
    };
    let resp: EnrolResponse = block_on(async {
        let r = http()?
            .post(format!("{server_url}{}", paths::ENROL))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(&req)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "re-enrolment: HTTP {}", r.status());
        Ok::<_, anyhow::Error>(r.json().await?)
    })??;
    Ok(resp.last_seq)
}

/// Every stock row of the warehouse, summed by key, from the integration API.
/// The messages of the server's `negative_stock` exceptions.
fn negative_stock_exceptions(server_url: &str) -> anyhow::Result<Vec<String>> {
    let rows: Vec<laituri_protocol::ExceptionView> = block_on(async {
        let r = http()?
            .get(format!("{server_url}{}?limit=10000", paths::EXCEPTIONS))
            .bearer_auth(laituri_server::demo::ADMIN_KEY)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "exceptions: HTTP {}", r.status());
        anyhow::ensure!(
            !r.headers().contains_key(reqwest::header::LINK),
            "exceptions have more rows than one page holds"
        );
        Ok::<_, anyhow::Error>(r.json().await?)
    })??;
    Ok(rows
        .into_iter()
        .filter(|e| e.kind == "negative_stock")
        .map(|e| e.message)
        .collect())
}

pub fn server_stock(server_url: &str) -> anyhow::Result<BTreeMap<StockKey, i64>> {
    let rows: Vec<StockRow> = block_on(async {
        let r = http()?
            .get(format!("{server_url}{}?limit=10000", paths::STOCK))
            .bearer_auth(laituri_server::demo::ADMIN_KEY)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "stock: HTTP {}", r.status());
        // A next page would be stock the check does not see: one page must hold it all.
        anyhow::ensure!(
            !r.headers().contains_key(reqwest::header::LINK),
            "stock has more rows than one page holds"
        );
        Ok::<_, anyhow::Error>(r.json().await?)
    })??;
    let mut m = BTreeMap::new();
    for r in rows {
        let key = (
            r.merchant_id,
            r.product_id,
            r.location,
            r.container,
            r.lot,
            r.expiry,
            r.condition.as_str().to_string(),
        );
        *m.entry(key).or_insert(0) += r.quantity;
    }
    m.retain(|_, q| *q != 0);
    Ok(m)
}

/// Runs sync rounds straight to the server until the terminal's outbox is empty.
pub fn heal(terminal_db: &Path, server_url: &str) -> anyhow::Result<SyncStatus> {
    let mut c = SyncConfig::new(terminal_db.to_path_buf(), server_url);
    c.enrolment_code = Some(laituri_server::demo::ENROLMENT_CODE.into());
    c.device_name = "fault-healer".into();
    let mut last = None;
    for _ in 0..30 {
        let status = sync_once(&c);
        if status.online && status.counts.pending() == 0 {
            return Ok(status);
        }
        last = Some(status);
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::bail!("the outbox did not drain after 30 sync rounds: {last:?}")
}

/// Checks one terminal against the oracle and the server. Call after [`heal`].
pub fn check_run(
    server_db: &(impl ServerEvents + ?Sized),
    server_url: &str,
    terminal_db: &Path,
    oracle_path: &Path,
) -> anyhow::Result<RunCheck> {
    let entries = oracle::read(oracle_path)?;
    let mut check = RunCheck {
        actions: entries.len() as u64,
        ..RunCheck::default()
    };
    for entry in &entries {
        let mut picking = false;
        for e in &entry.events {
            if PICKING.contains(&e.event_type.as_str()) {
                picking = true;
                *check
                    .picking_events
                    .entry(e.event_type.clone())
                    .or_insert(0) += 1;
            }
        }
        check.picks += u64::from(picking);
        check.pick_actions += u64::from(entry.action.starts_with("pick-"));
    }

    // The terminal.
    let t = open_read(terminal_db)?;
    let (last_seq, acked_through): (i64, i64) = t.query_row(
        "SELECT last_seq, acked_through FROM device WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (last_seq, acked_through) = (last_seq as u64, acked_through as u64);
    let lineage = Lineage::load(&t)?;
    let device_id = lineage.device_id;
    check.device_id = device_id;
    check.earlier_ids = lineage.earlier.len() as u64;
    check.committed_events = last_seq;
    let mut outbox: BTreeMap<u64, (Uuid, String)> = BTreeMap::new();
    {
        let mut stmt = t.prepare("SELECT seq, event_id, state FROM outbox ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (seq, id, state) = row?;
            outbox.insert(seq as u64, (id.parse()?, state));
        }
    }
    drop(t);
    if outbox.keys().copied().ne(1..=last_seq) {
        check.problems.push(format!(
            "the outbox is not the gapless seqs 1..={last_seq}: {} rows",
            outbox.len()
        ));
    }
    if acked_through != last_seq {
        check.problems.push(format!(
            "the outbox did not drain: acked_through {acked_through}, last_seq {last_seq}"
        ));
    }
    let pending = outbox.values().filter(|(_, s)| s == "pending").count();
    if pending > 0 {
        check
            .problems
            .push(format!("{pending} outbox events still pending"));
    }

    // The server.
    // Every id the terminal pushed under, with the last seq of it that is this terminal's (an
    // earlier id's later seqs are the other history's, after the backup this database came from).
    let mut ids: Vec<(Uuid, u64)> = lineage
        .earlier
        .iter()
        .map(|(id, base, last)| (*id, last - base))
        .collect();
    ids.push((device_id, u64::MAX));
    // Keyed by local seq.
    let mut on_server: BTreeMap<u64, ServerEvent> = BTreeMap::new();
    let mut id_count: HashMap<Uuid, u64> = HashMap::new();
    for (id, through) in &ids {
        for e in server_db.device_events(*id)? {
            if e.seq > *through {
                continue;
            }
            let local = lineage
                .local(*id, e.seq)
                .context("a seq of the lineage maps to a local seq")?;
            if on_server.contains_key(&local) {
                check.duplicated += 1;
                check
                    .problems
                    .push(format!("local seq {local} recorded twice on the server"));
            }
            on_server.insert(local, ServerEvent { seq: local, ..e });
        }
        // An event id counted under any device or seq more than once.
        id_count.extend(server_db.repeated_ids(*id)?);
    }
    // Each id continues the one before it, as the server recorded.
    for pair in ids.windows(2) {
        let (old, new) = (pair[0].0, pair[1].0);
        let continues = server_db.continues(new)?;
        if continues != Some(old) {
            check.problems.push(format!(
                "the server does not record device {new} as continuing {old}: {continues:?}"
            ));
        }
    }
    let server_last = if lineage.earlier.is_empty() {
        None
    } else {
        // A device that continues another was enrolled by no code: its row says it.
        let last = server_db
            .last_seq(device_id)?
            .context("the device the terminal went on under is on the server")?;
        Some(last + lineage.seq_base)
    };
    for (id, n) in &id_count {
        check.duplicated += n - 1;
        check
            .problems
            .push(format!("event {id} recorded {n} times on the server"));
    }

    // Every confirmed event: in the outbox, and on the server once, applied (or partial: its
    // moves applied), with its id.
    for entry in &entries {
        for e in &entry.events {
            check.confirmed_events += 1;
            if e.event_type == "put_away" {
                check.confirmed_putaways += 1;
            }
            if e.event_type == "stock_moved" {
                check.confirmed_moves += 1;
            }
            if e.event_type == "location_counted" {
                check.confirmed_counts += 1;
            }
            if e.event_type == "return_received" {
                check.confirmed_returns += 1;
            }
            match outbox.get(&e.seq) {
                Some((id, _)) if *id == e.event_id => {}
                other => {
                    check.lost += 1;
                    check.problems.push(format!(
                        "confirmed seq {} ({}) is not in the terminal's outbox as confirmed: {other:?}",
                        e.seq, e.event_id
                    ));
                    continue;
                }
            }
            match on_server.get(&e.seq) {
                Some(s) if s.event_id == e.event_id && s.outcome == "applied" => {
                    if s.code.is_some() {
                        check.partial += 1;
                    }
                }
                Some(s) => {
                    check.lost += 1;
                    check.problems.push(format!(
                        "confirmed seq {} ({}) is on the server as {} ({} {:?})",
                        e.seq, e.event_type, s.event_id, s.outcome, s.code
                    ));
                }
                None => {
                    check.lost += 1;
                    check.problems.push(format!(
                        "confirmed seq {} ({}) never reached the server",
                        e.seq, e.event_id
                    ));
                }
            }
        }
    }
    // Every committed event reached the server once; nothing else appeared.
    for (seq, (id, _)) in &outbox {
        match on_server.get(seq) {
            Some(s) if s.event_id == *id => {
                if s.outcome != "applied" {
                    check.problems.push(format!(
                        "seq {seq} was {} by the server ({:?})",
                        s.outcome, s.code
                    ));
                }
            }
            Some(s) => check.problems.push(format!(
                "seq {seq} is {id} on the terminal but {} on the server",
                s.event_id
            )),
            None => check.problems.push(format!(
                "committed seq {seq} ({id}) never reached the server"
            )),
        }
    }
    for (seq, s) in &on_server {
        if !outbox.contains_key(seq) {
            check.duplicated += 1;
            check.problems.push(format!(
                "the server has seq {seq} ({}) that the terminal never committed",
                s.event_id
            ));
        }
    }

    let server_last = match server_last {
        Some(last) => last,
        None => server_last_seq(server_url, device_id)?,
    };
    if server_last != last_seq {
        check.problems.push(format!(
            "the server's last_seq is {server_last}, the terminal's {last_seq}"
        ));
    }
    Ok(check)
}

/// Checks that every event of every action in the oracle at `oracle_path` is on the server
/// exactly once, applied (or partly: its goods moved), by event id, whatever device and seq it
/// went under: the check of a history whose database was later replaced by an older copy, so
/// that only its oracle tells what it confirmed.
pub fn check_delivered(
    server_db: &(impl ServerEvents + ?Sized),
    oracle_path: &Path,
) -> anyhow::Result<RunCheck> {
    let entries = oracle::read(oracle_path)?;
    let mut check = RunCheck {
        actions: entries.len() as u64,
        ..RunCheck::default()
    };
    for entry in &entries {
        for e in &entry.events {
            check.confirmed_events += 1;
            let outcomes = server_db.outcomes_of(e.event_id)?;
            match outcomes.as_slice() {
                [o] if o == "applied" => {}
                [] => {
                    check.lost += 1;
                    check.problems.push(format!(
                        "confirmed event {} ({}) never reached the server",
                        e.event_id, e.event_type
                    ));
                }
                [o] => {
                    check.lost += 1;
                    check.problems.push(format!(
                        "confirmed event {} ({}) is {o} on the server",
                        e.event_id, e.event_type
                    ));
                }
                many => {
                    check.duplicated += many.len() as u64 - 1;
                    check.problems.push(format!(
                        "confirmed event {} ({}) is on the server {} times",
                        e.event_id,
                        e.event_type,
                        many.len()
                    ));
                }
            }
        }
    }
    Ok(check)
}

/// The events a pick job records.
pub const PICKING: [&str; 5] = [
    "picked",
    "pick_short",
    "zero_checked",
    "totes_dropped",
    "pick_finished",
];

/// An event's body, as the server recorded its type and payload.
fn body_of(e: &ServerEvent) -> anyhow::Result<EventBody> {
    let tagged = serde_json::json!({
        "type": e.event_type,
        "payload": serde_json::from_str::<serde_json::Value>(&e.payload)?,
    });
    serde_json::from_value(tagged).with_context(|| {
        format!(
            "event {}/{} ({}) on the server",
            e.device_id, e.seq, e.event_type
        )
    })
}

/// What the check of who worked each task found.
#[derive(Debug, Clone, Default)]
pub struct WorkerCheck {
    /// Tasks whose progress the server took from some device, and the pick tasks among them.
    pub tasks: u64,
    pub pick_tasks: u64,
    /// Events of a task answered `Partial`: their goods moved, their progress was refused
    /// (the device no longer held the task).
    pub refused_progress: u64,
    /// Tasks whose progress came from more than one device (lineage).
    pub two_devices: u64,
    /// Tasks worked under two device ids of one lineage: a terminal restored from a backup went
    /// on with a task its lost history had taken.
    pub continued: u64,
    pub problems: Vec<String>,
}

/// The first device of `device`'s lineage: the one it continues, and so on back.
fn lineage_root(
    server_db: &(impl ServerEvents + ?Sized),
    device: Uuid,
    roots: &mut HashMap<Uuid, Uuid>,
) -> anyhow::Result<Uuid> {
    if let Some(root) = roots.get(&device) {
        return Ok(*root);
    }
    let mut root = device;
    for _ in 0..100 {
        match server_db.continues(root)? {
            Some(earlier) => root = earlier,
            None => break,
        }
    }
    roots.insert(device, root);
    Ok(root)
}

/// No task was worked by two devices: for every task, the events that carry its lease's claim
/// and whose progress the server applied (outcome `applied` without a code; a `Partial` answer
/// moved goods but refused the progress) all come from one device, counting a terminal that went
/// on under a new device id after a restore as the device it continues.
pub fn check_one_worker(server_db: &(impl ServerEvents + ?Sized)) -> anyhow::Result<WorkerCheck> {
    let mut roots = HashMap::new();
    // Task -> (a pick task, the lineages that worked it with their events).
    let mut workers: BTreeMap<String, (bool, BTreeMap<Uuid, u64>)> = BTreeMap::new();
    let mut ids: BTreeMap<String, std::collections::BTreeSet<Uuid>> = BTreeMap::new();
    let mut c = WorkerCheck::default();
    for e in server_db.applied()? {
        let body = body_of(&e)?;
        let Some(claim) = body.task() else { continue };
        if e.code.is_some() {
            c.refused_progress += 1;
            continue;
        }
        let root = lineage_root(server_db, e.device_id, &mut roots)?;
        ids.entry(claim.task_id.clone())
            .or_default()
            .insert(e.device_id);
        let (pick, by) = workers.entry(claim.task_id.clone()).or_default();
        *pick |= PICKING.contains(&e.event_type.as_str());
        *by.entry(root).or_insert(0) += 1;
    }
    for (task, (pick, by)) in &workers {
        c.tasks += 1;
        c.pick_tasks += u64::from(*pick);
        if by.len() == 1 && ids.get(task).is_some_and(|i| i.len() > 1) {
            c.continued += 1;
        }
        if by.len() > 1 {
            c.two_devices += 1;
            c.problems.push(format!(
                "task {task} was worked by {} devices: {by:?} (events applied per device)",
                by.len()
            ));
        }
    }
    Ok(c)
}

fn key_of(m: &StockMove, place: &Place) -> StockKey {
    let some = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    (
        m.merchant_id.clone(),
        m.product_id.clone(),
        place.location.clone(),
        some(&place.container),
        some(&m.lot),
        some(&m.expiry),
        m.condition.as_str().to_string(),
    )
}

/// The fold of the stock moves of every applied event on the server (a partial answer's moves
/// were applied too), by stock key: each move's units leave its `from` place and arrive at its
/// `to` place, and the variance of every count the server booked. Rejected events are left out.
pub fn fold_applied_moves(
    server_db: &(impl ServerEvents + ?Sized),
) -> anyhow::Result<BTreeMap<StockKey, i64>> {
    let mut m = BTreeMap::new();
    for e in server_db.applied()? {
        let body = body_of(&e)?;
        for mv in body.moves() {
            if let Some(from) = &mv.from {
                *m.entry(key_of(&mv, from)).or_insert(0) -= mv.quantity;
            }
            if let Some(to) = &mv.to {
                *m.entry(key_of(&mv, to)).or_insert(0) += mv.quantity;
            }
        }
    }
    // A count states no moves: the server books its variance against its own level, and
    // records it with the count.
    let some = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    for (location, lines) in server_db.booked_counts()? {
        for l in lines {
            let key: StockKey = (
                l.merchant_id.clone(),
                l.product_id.clone(),
                location.clone(),
                some(&l.container),
                some(&l.lot),
                some(&l.expiry),
                l.condition.as_str().to_string(),
            );
            *m.entry(key).or_insert(0) += l.variance;
        }
    }
    m.retain(|_, q| *q != 0);
    Ok(m)
}

/// What the stock check found: units short of and beyond `baseline` + the fold.
#[derive(Debug, Clone, Default)]
pub struct StockCheck {
    pub units: i64,
    pub short: u64,
    pub excess: u64,
    pub problems: Vec<String>,
}

/// Server stock must be the seeded stock plus the fold of the applied events' moves and booked
/// counts, key by key, and below zero only where the server raised a `negative_stock` exception.
pub fn check_stock(
    server_db: &(impl ServerEvents + ?Sized),
    server_url: &str,
    baseline: &BTreeMap<StockKey, i64>,
) -> anyhow::Result<StockCheck> {
    let mut expected = baseline.clone();
    for (k, q) in fold_applied_moves(server_db)? {
        *expected.entry(k).or_insert(0) += q;
    }
    expected.retain(|_, q| *q != 0);
    let actual = server_stock(server_url)?;
    let mut c = StockCheck {
        units: actual.values().sum(),
        ..StockCheck::default()
    };
    let keys: std::collections::BTreeSet<&StockKey> =
        expected.keys().chain(actual.keys()).collect();
    let mut below_zero = Vec::new();
    for k in keys {
        let want = expected.get(k).copied().unwrap_or(0);
        let have = actual.get(k).copied().unwrap_or(0);
        if have < want {
            c.short += (want - have) as u64;
        } else if have > want {
            c.excess += (have - want) as u64;
        }
        if have != want {
            c.problems.push(format!(
                "stock {k:?}: {have} on the server, {want} from the events"
            ));
        }
        if have < 0 {
            below_zero.push((k.clone(), have));
        }
    }
    // Physical reality wins: a move or pick of more than the books hold is booked and drives
    // the place below zero, and the server raises a `negative_stock` exception (and a count) for
    // it. Below zero without that exception is a problem.
    if !below_zero.is_empty() {
        let raised = negative_stock_exceptions(server_url)?;
        for ((_, product, location, ..), have) in below_zero {
            let named = format!("stock of product {product} at {location}");
            if !raised.iter().any(|m| m.starts_with(&format!("{named} "))) {
                c.problems.push(format!(
                    "stock of {product} at {location} is below zero on the server ({have}) \
                     without a negative_stock exception for it"
                ));
            }
        }
    }
    Ok(c)
}

/// What the webhook check found for one subscription.
#[derive(Debug, Clone, Default)]
pub struct WebhookCheck {
    /// Events of the subscribed types the server made for the merchant while it was subscribed
    /// (in its outbox: `webhook_events`), and how many of each type.
    pub events: u64,
    pub by_type: BTreeMap<String, u64>,
    /// Requests the receiver read whole for the subscription: every attempt that reached it,
    /// whatever it answered.
    pub arrivals: u64,
    /// Of them, acknowledged (answered 2xx at once).
    pub acknowledged: u64,
    /// Acknowledgements beyond the first of an event: allowed (at least once), counted.
    pub duplicates: u64,
    /// Events never acknowledged.
    pub lost: u64,
    /// Arrivals the server did not send as they came: an event it does not have, a signature
    /// that does not sign the raw body, a body other than the event's.
    pub forged: u64,
    pub problems: Vec<String>,
}

/// Whether `signature` is `sha256=` + Base64(HMAC-SHA256(`secret`, `body`)), checked here with
/// the RustCrypto crates, not with the server's own function.
pub fn signed(secret: &str, body: &[u8], signature: &str) -> bool {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    let Some(tag) = signature
        .strip_prefix("sha256=")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
    else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

/// Every webhook event the server has for `merchant`, of the subscribed types and not among
/// `before` (the events that were in the outbox, fanned out, before the subscription), reached
/// the receiver and was acknowledged at least once, signed with `secret` over the raw body,
/// with the body the server stores for it every time it came; nothing came that the server does
/// not have; and the server records each such event's delivery to `webhook` as delivered.
pub fn check_webhooks(
    server_db: &(impl ServerEvents + ?Sized),
    merchant: &str,
    before: &std::collections::BTreeSet<Uuid>,
    webhook: Uuid,
    secret: &str,
    arrivals: &[crate::webhooks::Arrival],
) -> anyhow::Result<WebhookCheck> {
    use crate::webhooks::{Answered, TYPES};
    let wanted: Vec<&str> = TYPES.iter().map(|t| t.as_str()).collect();
    let events: HashMap<Uuid, crate::serverdb::OutboxEvent> = server_db
        .webhook_events(merchant)?
        .into_iter()
        .map(|e| (e.event_id, e))
        .collect();
    let deliveries: HashMap<Uuid, crate::serverdb::Delivery> = server_db
        .webhook_deliveries(webhook)?
        .into_iter()
        .map(|d| (d.event_id, d))
        .collect();
    let mut c = WebhookCheck {
        arrivals: arrivals.len() as u64,
        ..WebhookCheck::default()
    };
    let mut acks: HashMap<Uuid, u64> = HashMap::new();
    for a in arrivals {
        let id: Option<Uuid> = a.id.parse().ok();
        let body_id = serde_json::from_slice::<serde_json::Value>(&a.body)
            .ok()
            .and_then(|v| v.get("id")?.as_str()?.parse::<Uuid>().ok());
        let known = id.and_then(|id| events.get(&id));
        let fault = if !signed(secret, &a.body, &a.signature) {
            Some("its signature does not sign its body".to_string())
        } else if id.is_none() || id != body_id {
            Some(format!(
                "its id header does not name its body's id ({body_id:?})"
            ))
        } else if let Some(e) = known {
            if e.body.as_bytes() != a.body.as_slice() {
                Some(format!(
                    "its body differs from the event's: {:?} against {:?}",
                    String::from_utf8_lossy(&a.body),
                    e.body
                ))
            } else if !wanted.contains(&e.kind.as_str()) {
                Some(format!("it is a {} event, not subscribed to", e.kind))
            } else {
                None
            }
        } else {
            Some(format!("the server has no such event of {merchant}"))
        };
        match (fault, id) {
            (Some(f), _) => {
                c.forged += 1;
                c.problems
                    .push(format!("webhook {:?} arrived, but {f}", a.id));
            }
            (None, Some(id)) => {
                if matches!(a.answered, Answered::Ack(_)) {
                    *acks.entry(id).or_insert(0) += 1;
                }
            }
            (None, None) => {}
        }
    }
    for e in events.values() {
        if !wanted.contains(&e.kind.as_str()) || before.contains(&e.event_id) {
            continue;
        }
        c.events += 1;
        *c.by_type.entry(e.kind.clone()).or_insert(0) += 1;
        let n = acks.get(&e.event_id).copied().unwrap_or(0);
        c.acknowledged += n;
        c.duplicates += n.saturating_sub(1);
        let recorded = match deliveries.get(&e.event_id) {
            Some(d) => format!("{} after {} attempts", d.status, d.attempts),
            None if e.fanned_out => "fanned out without a delivery".to_string(),
            None => "not fanned out".to_string(),
        };
        if n == 0 {
            c.lost += 1;
            c.problems.push(format!(
                "{} event {} never acknowledged by the receiver (the server: {recorded})",
                e.kind, e.event_id
            ));
        } else if deliveries.get(&e.event_id).map(|d| d.status.as_str()) != Some("delivered") {
            c.problems.push(format!(
                "{} event {} was acknowledged, but the server records it {recorded}",
                e.kind, e.event_id
            ));
        }
    }
    Ok(c)
}
