//! Tasks, leases and work packets (DESIGN.md section 3, points 7 and 11).
//!
//! A task is work the server hands out: put a tote away, pick a batch, count a zone. A device
//! leases a task while online and receives a [`WorkPacket`] with everything it needs to finish
//! the task offline. A lease expires unless renewed (the sync worker renews on every round) and
//! carries a fencing token that only goes up: events sent under an older token still move stock
//! (the goods did move) but their task progress is refused as taken by another device.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Location, Merchant, Product, StockMove};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Putaway,
    Pick,
    Count,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Putaway => "putaway",
            TaskKind::Pick => "pick",
            TaskKind::Count => "count",
        }
    }
    pub fn parse(s: &str) -> Option<TaskKind> {
        Some(match s {
            "putaway" => TaskKind::Putaway,
            "pick" => TaskKind::Pick,
            "count" => TaskKind::Count,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for someone; may be leased.
    Open,
    /// A device holds a lease on it.
    Leased,
    Done,
    Cancelled,
}

/// One line of a task: goods and where they are to go. A putaway line has `from` = the tote; a
/// pick line has `from` = the bin and the lot reserved there, `to` = [`crate::IN_TRANSIT`], and
/// names its order and line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLine {
    #[serde(flatten)]
    pub goods: StockMove,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Uuid>,
    /// The server's id of the pick line, which the device's events name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_id: Option<String>,
}

impl TaskLine {
    /// A line of goods that belongs to no order (putaway, count).
    pub fn of(goods: StockMove) -> TaskLine {
        TaskLine {
            goods,
            order_id: None,
            line_id: None,
        }
    }
}

/// An order of a pick task and its place on the cart: slot 1.. (one tote per order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskOrder {
    pub order_id: Uuid,
    /// The shop's order number, shown to the picker.
    pub reference: String,
    pub slot: u32,
    /// The tote already holding the order's goods (a follow-up task after a short pick).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tote: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub task_id: String,
    pub kind: TaskKind,
    pub merchant_id: String,
    /// Higher is more urgent.
    #[serde(default)]
    pub priority: i32,
    pub status: TaskStatus,
    /// The tote or license plate a putaway task is about.
    #[serde(default)]
    pub container: Option<String>,
    #[serde(default)]
    pub lines: Vec<TaskLine>,
    /// The device holding the task, while it is leased.
    #[serde(default)]
    pub leased_to: Option<Uuid>,
    /// Why a count task was raised (e.g. stock went negative), for the lead.
    #[serde(default)]
    pub reason: Option<String>,
    /// The orders of a pick task, one tote each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<TaskOrder>,
}

/// A device's hold on a task. `token` only goes up, across every lease of the task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub task_id: String,
    pub token: u64,
    /// Server clock, Unix milliseconds; the device renews well before.
    pub expires_at_ms: i64,
}

/// Which lease an event was recorded under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskClaim {
    pub task_id: String,
    pub token: u64,
}

/// Everything a device needs to finish a task offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkPacket {
    pub task: Task,
    pub lease: Lease,
    pub merchant: Merchant,
    /// Every product of the task with every barcode.
    pub products: Vec<Product>,
    /// The locations the task may visit, in walking order.
    pub locations: Vec<Location>,
}

/// `POST LEASE`: lease a task by id, or the next open task of a kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRequest {
    #[serde(default)]
    pub task_id: Option<String>,
    #[serde(default)]
    pub kind: Option<TaskKind>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseResponse {
    pub packet: WorkPacket,
}

/// `POST RENEW`: the leases a device holds; the answer says which it still holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewRequest {
    pub leases: Vec<TaskClaim>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostLease {
    pub task_id: String,
    /// `released`, `taken` (another device holds it now) or `done`; older servers also said
    /// `expired`.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewResponse {
    pub renewed: Vec<Lease>,
    pub lost: Vec<LostLease>,
}

/// `POST RELEASE`: give a task back (the device is done with it or gives up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRequest {
    pub claim: TaskClaim,
}
