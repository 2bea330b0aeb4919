//! The checker of packing, beside [`crate::check`]'s checks of every event.
//!
//! [`crate::check::check_run`] already holds a packer's `parcel_packed` and `packing_finished`
//! to the promise (each confirmed event on the server once, applied; nothing else) and the stock
//! check folds `packing_finished`'s moves (goods out of their totes at packing, out of the
//! warehouse). What packing adds, over every packer's oracle:
//! - every order a packer finished (a confirmed `packing_finished`) is `packed` or `shipped` on
//!   the server, its `packing_finished` applied there once and not `Partial` (the server found
//!   its parcels and goods equal to what the order asks), and its parcels, numbered 1, 2, …,
//!   hold exactly the order's lines: a job resumed from its journal after a kill never packs a
//!   unit twice, nor leaves one out;
//! - no order was finished by two devices (a device and the ids it went on under count as one);
//! - once the network is healthy the station asks for labels until they arrive
//!   ([`await_labels`], bounded), and then every finished order is `shipped` (or, when the
//!   station took a return of it since, `partly_returned` or `returned`), each parcel with a
//!   tracking number, and the station holds its labels.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use laituri::store::Store;
use laituri::sync::{SyncConfig, sync_once};
use laituri_protocol::{Order, OrderStatus, PROTOCOL_HEADER, PROTOCOL_VERSION, paths};
use uuid::Uuid;

use crate::oracle::{self, OracleEntry};
use crate::serverdb::ServerEvents;

/// Confirmed actions of the packing flow (a label confirmed handled among them).
pub fn packing_actions(entries: &[OracleEntry]) -> u64 {
    entries
        .iter()
        .filter(|e| e.action.starts_with("pack-") || e.action == "label-handled")
        .count() as u64
}

/// What the packing check found, added up over packers.
#[derive(Debug, Clone, Default)]
pub struct PackCheck {
    /// Orders the packers finished (confirmed), the parcels the server holds for them, the
    /// orders that ship in more than one parcel, and those shipped.
    pub finished: u64,
    pub parcels: u64,
    pub multi_parcel: u64,
    pub shipped: u64,
    /// Finished orders the server has not packed, or packed with other contents.
    pub lost: u64,
    /// Orders finished twice, or by two devices.
    pub duplicated: u64,
    pub problems: Vec<String>,
}

impl std::ops::AddAssign for PackCheck {
    fn add_assign(&mut self, o: PackCheck) {
        self.finished += o.finished;
        self.parcels += o.parcels;
        self.multi_parcel += o.multi_parcel;
        self.shipped += o.shipped;
        self.lost += o.lost;
        self.duplicated += o.duplicated;
        self.problems.extend(o.problems);
    }
}

/// Sync rounds straight to the server until the station asks for no more labels, at most
/// `rounds`. Returns the rounds it took; fails when labels are still awaited after them.
pub fn await_labels(terminal_db: &Path, server_url: &str, rounds: u32) -> anyhow::Result<u32> {
    let mut c = SyncConfig::new(terminal_db.to_path_buf(), server_url);
    c.enrolment_code = Some(laituri_server::demo::ENROLMENT_CODE.into());
    c.device_name = "fault-healer".into();
    for round in 0..rounds {
        let asking = Store::open(terminal_db)?.shipments_to_ask(100)?;
        if asking.is_empty() {
            return Ok(round);
        }
        sync_once(&c);
        std::thread::sleep(Duration::from_millis(50));
    }
    let asking = Store::open(terminal_db)?.shipments_to_ask(100)?;
    anyhow::ensure!(
        asking.is_empty(),
        "labels of {} orders still awaited after {rounds} sync rounds on a healthy network",
        asking.len()
    );
    Ok(rounds)
}

/// An order as the server's integration API answers it.
pub fn server_order(server_url: &str, id: &str) -> anyhow::Result<Order> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let r = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?
                .get(format!("{server_url}{}/{id}", paths::ORDERS))
                .bearer_auth(laituri_server::demo::ADMIN_KEY)
                .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
                .send()
                .await?;
            anyhow::ensure!(r.status().is_success(), "order {id}: HTTP {}", r.status());
            Ok(r.json().await?)
        })
}

/// Units per product.
fn units<'a>(lines: impl IntoIterator<Item = (&'a str, i64)>) -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    for (p, q) in lines {
        *m.entry(p.to_string()).or_insert(0) += q;
    }
    m.retain(|_, q| *q != 0);
    m
}

/// Checks every order finished in the oracles at `oracles` against the server; with `labels`,
/// also that each is shipped (call [`await_labels`] first) and that the stations at
/// `terminals` hold its labels.
pub fn check_packed(
    server_db: &(impl ServerEvents + ?Sized),
    server_url: &str,
    oracles: &[&Path],
    terminals: &[&Path],
    labels: bool,
) -> anyhow::Result<PackCheck> {
    let mut c = PackCheck::default();
    // Orders finished by the packers, with the confirmed event that finished each.
    let mut finished: BTreeMap<String, Vec<Uuid>> = BTreeMap::new();
    for path in oracles {
        for entry in oracle::read(path)? {
            for e in &entry.events {
                if e.event_type != "packing_finished" {
                    continue;
                }
                match &e.order {
                    Some(order) => finished.entry(order.clone()).or_default().push(e.event_id),
                    None => c.problems.push(format!(
                        "confirmed packing_finished {} names no order in the oracle",
                        e.event_id
                    )),
                }
            }
        }
    }
    c.finished = finished.len() as u64;

    // Every applied packing_finished on the server, by order: the devices (lineages) and
    // whether it was booked or only partly (`Partial`).
    let mut roots: HashMap<Uuid, Uuid> = HashMap::new();
    let mut by_order: BTreeMap<String, Vec<(Uuid, Uuid, Option<String>)>> = BTreeMap::new();
    for e in server_db.applied()? {
        if e.event_type != "packing_finished" {
            continue;
        }
        let payload: serde_json::Value = serde_json::from_str(&e.payload)?;
        let Some(order) = payload["order_id"].as_str() else {
            continue;
        };
        let root = match roots.get(&e.device_id) {
            Some(r) => *r,
            None => {
                let mut root = e.device_id;
                for _ in 0..100 {
                    match server_db.continues(root)? {
                        Some(earlier) => root = earlier,
                        None => break,
                    }
                }
                roots.insert(e.device_id, root);
                root
            }
        };
        by_order
            .entry(order.to_string())
            .or_default()
            .push((e.event_id, root, e.code.clone()));
    }
    for (order, events) in &by_order {
        let devices: BTreeSet<Uuid> = events.iter().map(|(_, d, _)| *d).collect();
        if devices.len() > 1 {
            c.duplicated += devices.len() as u64 - 1;
            c.problems.push(format!(
                "order {order} was finished by {} devices: {devices:?}",
                devices.len()
            ));
        } else if events.len() > 1 {
            c.duplicated += events.len() as u64 - 1;
            c.problems
                .push(format!("order {order} was finished {} times", events.len()));
        }
    }

    for (order_id, ids) in &finished {
        if ids.len() > 1 {
            c.duplicated += ids.len() as u64 - 1;
            c.problems.push(format!(
                "order {order_id} was finished {} times by the packers",
                ids.len()
            ));
        }
        match by_order.get(order_id).map(Vec::as_slice) {
            Some([(id, _, None)]) if ids.contains(id) => {}
            other => {
                c.lost += 1;
                c.problems.push(format!(
                    "order {order_id}: its confirmed packing_finished {ids:?} is not the one \
                     booked on the server: {other:?}"
                ));
            }
        }
        let order = server_order(server_url, order_id)?;
        // A shipped order may have come back since, partly or wholly (a return taken in).
        let after_shipping = [
            OrderStatus::Shipped,
            OrderStatus::PartlyReturned,
            OrderStatus::Returned,
        ];
        let wanted = if labels {
            after_shipping.to_vec()
        } else {
            [&[OrderStatus::Packed][..], &after_shipping].concat()
        };
        if !wanted.contains(&order.status) {
            c.lost += 1;
            c.problems.push(format!(
                "order {} ({order_id}) was finished at packing but is {} on the server",
                order.reference,
                order.status.as_str()
            ));
        }
        c.shipped += u64::from(after_shipping.contains(&order.status));
        c.parcels += order.parcels.len() as u64;
        c.multi_parcel += u64::from(order.parcels.len() > 1);
        let numbers: Vec<u32> = order.parcels.iter().map(|p| p.number).collect();
        if numbers != (1..=numbers.len() as u32).collect::<Vec<_>>() {
            c.problems.push(format!(
                "order {}: parcels numbered {numbers:?}",
                order.reference
            ));
        }
        let packed = units(
            order
                .parcels
                .iter()
                .flat_map(|p| &p.contents)
                .map(|l| (l.product_id.as_str(), l.quantity)),
        );
        let asked = units(
            order
                .lines
                .iter()
                .map(|l| (l.product_id.as_str(), l.quantity)),
        );
        if packed != asked {
            if packed
                .iter()
                .any(|(p, n)| asked.get(p).is_none_or(|a| n > a))
            {
                c.duplicated += 1;
            } else {
                c.lost += 1;
            }
            c.problems.push(format!(
                "order {}: its parcels hold {packed:?}, it asks for {asked:?}",
                order.reference
            ));
        }
        if labels {
            if let Some(p) = order.parcels.iter().find(|p| p.tracking_number.is_none()) {
                c.problems.push(format!(
                    "order {}: parcel {} has no tracking number",
                    order.reference, p.number
                ));
            }
            let mut held = false;
            for t in terminals {
                held |= Store::open(t)?
                    .station_parcels(1000)?
                    .iter()
                    .any(|p| p.order_id == *order_id && p.tracking_number.is_some());
            }
            if !held {
                c.problems.push(format!(
                    "order {}: no station that finished it holds its labels",
                    order.reference
                ));
            }
        }
    }
    Ok(c)
}
