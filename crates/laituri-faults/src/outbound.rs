//! Stock and orders for the pickers, through the server's own APIs as the rest of a warehouse
//! brings them: goods received at the dock into a tote and put away into a bin by a device of its
//! own (one push each, applied before it returns), a merchant's orders posted through the
//! integration API, and a lead's release of the waiting orders into pick tasks (the admin API).
//!
//! [`Wave`] plans one round of it from a seeded random stream: which of the merchant's plain
//! products, how many of each in which bin, which orders. Every bin gets what its orders want
//! and now and then nothing more; and one order of each wave also wants the last units of a
//! product no earlier wave brought, all of them in one bin, so that its pick task empties the
//! bin on the picker's view and the picker is asked whether it is empty (a zero check). The same
//! seed plans the same wave.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use laituri_protocol::{
    EnrolRequest, EnrolResponse, Event, EventOutcome, LocationKind, Order, PROTOCOL_HEADER,
    PROTOCOL_VERSION, PushRequest, PushResponse, ReleaseOrdersRequest, ReleaseOrdersResult, paths,
};
use laituri_server::demo;
use laituri_server::demo::outbound::{Shelving, shelve};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The packing location of the demo, where pickers drop their totes.
pub const PACKING: &str = "PACK-1";

/// POSTs `body` as JSON (with `token` as bearer) and reads the 2xx answer as JSON.
pub(crate) fn post<B: Serialize, T: DeserializeOwned>(
    url: &str,
    token: Option<&str>,
    body: &B,
) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let mut request = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?
                .post(url)
                .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
                .json(body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let resp = request.send().await?;
            let status = resp.status();
            let text = resp.text().await?;
            anyhow::ensure!(status.is_success(), "{url}: HTTP {status}: {text}");
            serde_json::from_str(&text).with_context(|| format!("{url}: {text}"))
        })
}

/// A device that brings goods in: received at the dock into a tote and put away into a bin,
/// straight to the server (no fault in between), each push applied before it returns.
pub struct Stocker {
    base: String,
    id: Uuid,
    token: String,
    next_seq: u64,
}

impl Stocker {
    pub fn enrol(base: &str) -> anyhow::Result<Stocker> {
        let id = Uuid::now_v7();
        let resp: EnrolResponse = post(
            &format!("{base}{}", paths::ENROL),
            None,
            &EnrolRequest {
                enrolment_code: demo::ENROLMENT_CODE.into(),
                device_id: id,
                device_name: "stock for the pickers".into(),
                protocol_version: PROTOCOL_VERSION,
            },
        )?;
        Ok(Stocker {
            base: base.to_string(),
            id,
            token: resp.token,
            next_seq: resp.last_seq + 1,
        })
    }

    /// The server this device pushes to (after a server restart, its new address).
    pub fn set_base(&mut self, base: &str) {
        self.base = base.to_string();
    }

    /// Receives `quantity` units of `merchant`'s `product` and puts them away into `bin`.
    pub fn stock_up(
        &mut self,
        merchant: &str,
        product: &str,
        barcode: &str,
        quantity: i64,
        bin: &str,
    ) -> anyhow::Result<()> {
        let receipt = Uuid::now_v7();
        let tote = format!("T-IN-{}", &receipt.simple().to_string()[20..]);
        let bodies = shelve(
            receipt,
            &Shelving {
                merchant,
                product,
                barcode,
                units: quantity,
                lot: None,
                expiry: None,
                tote: &tote,
                bin,
            },
        );
        let events: Vec<Event> = bodies
            .iter()
            .map(|b| {
                let seq = self.next_seq;
                self.next_seq += 1;
                Event::new(Uuid::now_v7(), self.id, seq, "OP-1900", 0, b)
            })
            .collect();
        let resp: PushResponse = post(
            &format!("{}{}", self.base, paths::PUSH),
            Some(&self.token),
            &PushRequest {
                device_id: self.id,
                events,
            },
        )?;
        for r in &resp.results {
            anyhow::ensure!(
                r.outcome == EventOutcome::Applied,
                "stocking {product} into {bin}: seq {} answered {:?}",
                r.seq,
                r.outcome
            );
        }
        Ok(())
    }
}

/// Posts an order of `merchant` as its shop's system does: `(product, units)` per line.
pub fn post_order(
    base: &str,
    merchant: &str,
    reference: &str,
    lines: &[(String, i64)],
) -> anyhow::Result<Order> {
    let lines: Vec<(&str, i64)> = lines.iter().map(|(p, q)| (p.as_str(), *q)).collect();
    let order = demo::outbound::order(merchant, reference, &lines, 0, None);
    post(
        &format!("{base}{}", paths::ORDERS),
        Some(demo::ADMIN_KEY),
        &order,
    )
}

/// Reserves stock for the waiting orders (again for what short picks left) and releases them
/// into pick tasks of up to `totes` orders each.
pub fn release(base: &str, totes: u32) -> anyhow::Result<ReleaseOrdersResult> {
    post(
        &format!("{base}{}", paths::RELEASE_ORDERS),
        Some(demo::ADMIN_KEY),
        &ReleaseOrdersRequest {
            totes: Some(totes),
            ..ReleaseOrdersRequest::default()
        },
    )
}

/// A product the pickers may be asked for: one unit per scan of its barcode, no lot, expiry or
/// serial number to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goods {
    pub product: String,
    pub barcode: String,
}

/// What the demo offers `merchant`'s orders: its plain products (not `except`, which the
/// receiving clerks bring in themselves), and the bins of its zones, in catalogue order.
pub fn catalogue(merchant: &str, except: &str) -> (Vec<Goods>, Vec<String>) {
    let data = demo::data();
    let goods = data
        .products
        .iter()
        .filter(|p| {
            p.merchant_id == merchant
                && p.id != except
                && p.kit.is_empty()
                && !p.track_lot
                && !p.track_expiry
                && !p.track_serial
        })
        .filter_map(|p| {
            let unit = p.barcodes.iter().find(|b| b.pack_qty == 1)?;
            Some(Goods {
                product: p.id.clone(),
                barcode: unit.code.clone(),
            })
        })
        .collect();
    let zones: Vec<String> = data
        .merchants
        .iter()
        .find(|m| m.id == merchant)
        .map(|m| m.zones.clone())
        .unwrap_or_default();
    let bins = data
        .locations
        .iter()
        .filter(|l| l.kind == LocationKind::Bin && zones.contains(&l.zone))
        .map(|l| l.code.clone())
        .collect();
    (goods, bins)
}

/// What earlier waves of a rig used: bins, and products whose last units a wave brought.
#[derive(Debug, Clone, Default)]
pub struct Used {
    pub bins: Vec<String>,
    pub last_units: Vec<String>,
}

/// One round of stock and orders: goods into bins, then orders that want them.
#[derive(Debug, Clone, Default)]
pub struct Wave {
    /// `(goods, units, bin)`.
    pub stock: Vec<(Goods, i64, String)>,
    /// `(reference, lines)`.
    pub orders: Vec<(String, Vec<(String, i64)>)>,
    /// Orders per pick task.
    pub totes: u32,
}

impl Wave {
    /// Plans a wave of `orders` orders over a few of `goods`, each product in a bin of `bins`
    /// that no earlier wave of this rig used (`used` keeps them; when none is left, every bin is
    /// free again). Deterministic by `seed` and `used`.
    pub fn plan(
        seed: u64,
        name: &str,
        goods: &[Goods],
        bins: &[String],
        used: &mut Used,
        orders: usize,
    ) -> Wave {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut goods = goods.to_vec();
        goods.shuffle(&mut rng);
        // The last units: a product no wave brought before (when one is left).
        let last = goods
            .iter()
            .position(|g| !used.last_units.contains(&g.product))
            .map(|i| goods.remove(i));
        // Their bins were emptied: the others' stock goes into new bins (while enough are left).
        if goods
            .iter()
            .filter(|g| !used.last_units.contains(&g.product))
            .count()
            >= 4
        {
            goods.retain(|g| !used.last_units.contains(&g.product));
        }
        goods.truncate(rng.random_range(2..=4).min(goods.len()));
        let mut wave = Wave {
            totes: rng.random_range(1..=3),
            ..Wave::default()
        };
        let mut wanted: BTreeMap<usize, i64> = BTreeMap::new();
        for n in 0..orders {
            let mut lines = Vec::new();
            let mut which: Vec<usize> = (0..goods.len()).collect();
            which.shuffle(&mut rng);
            for &g in which.iter().take(rng.random_range(1..=2)) {
                let units = rng.random_range(1..=3);
                *wanted.entry(g).or_insert(0) += units;
                lines.push((goods[g].product.clone(), units));
            }
            wave.orders.push((format!("{name}-{}", n + 1), lines));
        }
        let mut last_units = None;
        if let Some(g) = last
            && let Some(n) = (!wave.orders.is_empty()).then(|| rng.random_range(0..orders))
        {
            let units = rng.random_range(1..=3);
            wave.orders[n].1.push((g.product.clone(), units));
            used.last_units.push(g.product.clone());
            last_units = Some((g, units));
        }
        let needed = wanted.len() + usize::from(last_units.is_some());
        let mut free: Vec<&String> = bins.iter().filter(|b| !used.bins.contains(b)).collect();
        if free.len() < needed {
            // Every bin was used: from the start again (a bin then holds goods of earlier waves).
            used.bins.clear();
            free = bins.iter().collect();
        }
        free.shuffle(&mut rng);
        for (g, units) in wanted {
            // Exactly what the orders want now and then: the last pick there empties the bin.
            let extra = if rng.random_bool(0.4) {
                0
            } else {
                rng.random_range(1..=4)
            };
            let Some(bin) = free.pop() else { break };
            used.bins.push(bin.clone());
            wave.stock
                .push((goods[g].clone(), units + extra, bin.clone()));
        }
        if let Some((g, units)) = last_units
            && let Some(bin) = free.pop()
        {
            used.bins.push(bin.clone());
            wave.stock.push((g, units, bin.clone()));
        }
        wave
    }

    /// Stocks the bins, posts the orders of `merchant` and releases them; what the release did.
    pub fn bring_in(
        &self,
        base: &str,
        stocker: &mut Stocker,
        merchant: &str,
    ) -> anyhow::Result<ReleaseOrdersResult> {
        for (goods, units, bin) in &self.stock {
            stocker.stock_up(merchant, &goods.product, &goods.barcode, *units, bin)?;
        }
        for (reference, lines) in &self.orders {
            post_order(base, merchant, reference, lines)?;
        }
        release(base, self.totes)
    }
}
