//! Laituri's fault-injection suite: proof of the offline promise (DESIGN.md sections 3 and 8).
//!
//! "A success beep is never lost and never counted twice, whatever the Wi-Fi, the battery or the
//! server does." The pieces:
//! - [`driver`]: the scanning driver, the real terminal core and sync worker with no window. It
//!   receives goods into totes and puts the totes away into bins, by scanning a tote or by taking
//!   its task under a lease, and picks orders: it takes a pick task (a lease), picks its lines
//!   into one tote per order and drops the totes at packing; at a packing station it packs the
//!   orders whose totes are at packing into parcels and confirms their labels. It writes every
//!   action the terminal confirmed to an [`oracle`] file before the next action. The binary `laituri-driver` runs it
//!   as a process that a test can kill -9.
//! - [`outbound`]: stock and orders for the pickers, as the warehouse's other devices and the
//!   merchants' systems bring them: goods received and put away into bins by a device of its
//!   own, orders posted through the integration API and released into pick tasks.
//! - [`server`]: the central server as a process (`laituri-faults-server`), to kill -9 as well.
//! - `laituri_faultproxy::FaultProxy` between terminal and server for network faults, and
//!   [`badhttp`] for a server that answers 500, 503, 429 or garbage.
//! - [`webhooks`]: a merchant's webhook receiver that refuses, hangs, fails and accepts at
//!   random, and the merchant's subscription to it; the server processes deliver with short
//!   timeouts and retries.
//! - [`check`]: the checker. Every confirmed event is on the server exactly once, nothing else
//!   appears, server stock is the fold of the applied events' stock moves (in totes and in bins),
//!   the outbox drained and the server's `last_seq` is the terminal's; and no task's progress came
//!   from two devices. For webhooks: every event of the server's outbox for the subscribed
//!   merchant and types was acknowledged by the receiver at least once, signed, with the stored
//!   body; nothing arrived that the server does not have.
//! - [`packing`]: the checker of packing: every order a packer finished is packed (then
//!   shipped, once its labels arrived) on the server, once, by one device, with parcels that hold
//!   exactly what the order asks.
//! - [`scenario`]: the faults, each over seeded runs, shared by the tests and the soak mode.
//!
//! Everything listens on 127.0.0.1 only, and every loop has a bound.

pub mod badhttp;
pub mod check;
pub mod driver;
pub mod oracle;
pub mod outbound;
pub mod packing;
pub mod scenario;
pub mod server;
pub mod serverdb;
pub mod webhooks;

use std::fmt;

use laituri_domain::calendar::Date;

/// The date the demo's expiry dates are relative to, fixed so runs never depend on the clock.
pub fn today() -> Date {
    Date::new(2026, 11, 22).expect("a valid date")
}

/// What the driver scans: an operator without a PIN who receives and puts away, a merchant, and
/// a plain GTIN of one of its products that counts one unit per scan and asks for no lot or
/// expiry; and the operator who picks too (with the PIN the badge asks for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoFacts {
    pub badge: String,
    pub merchant: String,
    pub gtin: String,
    pub product: String,
    pub picker_badge: String,
    pub picker_pin: Option<String>,
}

impl DemoFacts {
    pub fn from_guide(guide: &laituri_server::demo::DemoGuide) -> anyhow::Result<DemoFacts> {
        let op = guide
            .operators
            .iter()
            .find(|o| {
                o.pin.is_none()
                    && o.roles.contains(&laituri_protocol::Role::Receiving)
                    && o.roles.contains(&laituri_protocol::Role::Putaway)
            })
            .ok_or_else(|| {
                anyhow::anyhow!("the demo has no receiving and putaway operator without a PIN")
            })?;
        let (notice, scan) = guide
            .notices
            .iter()
            .flat_map(|n| n.scans.iter().map(move |s| (n, s)))
            .find(|(_, s)| {
                !s.code.starts_with('(') && s.units == i64::from(s.times) && !s.to_quarantine
            })
            .ok_or_else(|| anyhow::anyhow!("the demo has no plain single-unit GTIN"))?;
        let picker = guide
            .operators
            .iter()
            .find(|o| {
                [
                    laituri_protocol::Role::Receiving,
                    laituri_protocol::Role::Putaway,
                    laituri_protocol::Role::Picking,
                ]
                .iter()
                .all(|r| o.roles.contains(r))
            })
            .ok_or_else(|| {
                anyhow::anyhow!("the demo has no operator who receives, puts away and picks")
            })?;
        Ok(DemoFacts {
            badge: op.badge.clone(),
            merchant: notice.merchant_id.clone(),
            gtin: scan.code.clone(),
            product: scan.product_id.clone(),
            picker_badge: picker.badge.clone(),
            picker_pin: picker.pin.clone(),
        })
    }
}

/// The figures of a fault run, added up over runs and scenarios.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Terminals driven from a new store to a checked end.
    pub runs: u64,
    /// kill -9 of a driver or of the server.
    pub kills: u64,
    /// Faults that hit a connection, a request or a write: resets, lost responses, blackholes,
    /// refused connections, error and garbage answers, refused writes.
    pub faults: u64,
    /// Actions the terminal confirmed (the oracle's lines).
    pub actions: u64,
    /// Of them, picking's actions that recorded something: a pick, a short pick, a zero check,
    /// the drop at packing.
    pub picks: u64,
    /// Of them, packing's actions: a tote or reference that started a job, a box, an item, a
    /// unit taken back out, a checklist entry, a weight, a parcel closed, the finish, a label
    /// confirmed handled.
    pub packs: u64,
    /// Confirmed events that did not reach the server, or stock short of the events' fold.
    pub lost: u64,
    /// Events counted more than once or that appeared from nowhere, or stock beyond the fold.
    pub duplicated: u64,
    /// Tasks whose progress the server took from more than one device (a device and the ones it
    /// went on under after a restore count as one).
    pub two_devices: u64,
}

impl std::ops::AddAssign for Totals {
    fn add_assign(&mut self, o: Totals) {
        self.runs += o.runs;
        self.kills += o.kills;
        self.faults += o.faults;
        self.actions += o.actions;
        self.picks += o.picks;
        self.packs += o.packs;
        self.lost += o.lost;
        self.duplicated += o.duplicated;
        self.two_devices += o.two_devices;
    }
}

impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "runs={} kills={} faults={} actions={} picks={} packs={} lost={} duplicated={} \
             tasks_worked_by_two_devices={}",
            self.runs,
            self.kills,
            self.faults,
            self.actions,
            self.picks,
            self.packs,
            self.lost,
            self.duplicated,
            self.two_devices
        )
    }
}

/// The figures of the webhook scenario, added up over its runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookTotals {
    /// Terminals driven while webhooks were delivered.
    pub runs: u64,
    /// kill -9 of a server, and of them right after a change's commit was answered.
    pub kills: u64,
    pub kills_after_commit: u64,
    /// Times the receiver stopped listening for a while.
    pub refusals: u64,
    /// Events of the server's outbox owed to the subscription.
    pub events: u64,
    /// Requests the receiver read whole, whatever it answered.
    pub deliveries: u64,
    /// Of them, answered 2xx; and acknowledgements beyond the first of an event.
    pub acknowledged: u64,
    pub duplicates: u64,
    /// Events never acknowledged; arrivals the server did not send as they came.
    pub lost: u64,
    pub forged: u64,
}

impl std::ops::AddAssign for WebhookTotals {
    fn add_assign(&mut self, o: WebhookTotals) {
        self.runs += o.runs;
        self.kills += o.kills;
        self.kills_after_commit += o.kills_after_commit;
        self.refusals += o.refusals;
        self.events += o.events;
        self.deliveries += o.deliveries;
        self.acknowledged += o.acknowledged;
        self.duplicates += o.duplicates;
        self.lost += o.lost;
        self.forged += o.forged;
    }
}

impl fmt::Display for WebhookTotals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "runs={} kills={} (right after a commit={}) refusals={} events={} deliveries={} \
             acknowledged={} duplicates={} lost={} forged={}",
            self.runs,
            self.kills,
            self.kills_after_commit,
            self.refusals,
            self.events,
            self.deliveries,
            self.acknowledged,
            self.duplicates,
            self.lost,
            self.forged
        )
    }
}
