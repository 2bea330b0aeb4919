//! Rows as both backends store them: the change log's entity names and JSON, status words, and
//! the conversions that must never differ between SQLite and PostgreSQL (a terminal pulling from
//! either reads the same change).

use laituri_protocol::{
    Change, EventOutcome, GoodsCondition, Lease, Location, Merchant, NoticeStatus, Product, Task,
    TaskKind, TaskStatus, WorkPacket,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::StoreError;
use crate::push::StockKey;
use crate::tasks::{LeaseRefusal, TaskRow};

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend {
        message: format!("unreadable row in the database: {what}"),
        transient: false,
    }
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("protocol types always serialize")
}

pub(crate) fn from_json<T: DeserializeOwned>(data: &str) -> Result<T, StoreError> {
    serde_json::from_str(data).map_err(corrupt)
}

pub(crate) fn parse_uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(corrupt)
}

pub(crate) fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n)
        .map_err(|_| StoreError::invalid(format!("{n} is too large for a seq or cursor")))
}

/// A random epoch id: 128 bits, hex.
pub(crate) fn new_epoch_id() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The change log's row of a change: entity name, entity id and the JSON of the inner value.
pub(crate) fn change_row(change: &Change) -> (&'static str, String, String) {
    match change {
        Change::Merchant(m) => ("merchant", m.id.clone(), to_json(m)),
        Change::Product(p) => ("product", p.id.clone(), to_json(p)),
        Change::Location(l) => ("location", l.code.clone(), to_json(l)),
        Change::Operator(o) => ("operator", o.id.clone(), to_json(o)),
        Change::InboundNotice(n) => ("inbound_notice", n.id.clone(), to_json(n)),
        Change::Task(t) => ("task", t.task_id.clone(), to_json(t)),
        Change::Stock(s) => (
            "stock",
            format!(
                "{}|{}|{}|{}",
                s.product_id,
                s.location,
                s.container.as_deref().unwrap_or(""),
                s.lot.as_deref().unwrap_or("")
            ),
            to_json(s),
        ),
        Change::WorkPacket(w) => ("work_packet", w.task.task_id.clone(), to_json(w)),
        Change::Removed(r) => ("removed", r.id.clone(), to_json(r)),
    }
}

pub(crate) fn change_from_row(entity: &str, data: &str) -> Result<Change, StoreError> {
    Ok(match entity {
        "merchant" => Change::Merchant(from_json(data)?),
        "product" => Change::Product(from_json(data)?),
        "location" => Change::Location(from_json(data)?),
        "operator" => Change::Operator(from_json(data)?),
        "inbound_notice" => Change::InboundNotice(from_json(data)?),
        "task" => Change::Task(from_json(data)?),
        "stock" => Change::Stock(from_json(data)?),
        "work_packet" => Change::WorkPacket(from_json(data)?),
        "removed" => Change::Removed(from_json(data)?),
        other => return Err(corrupt(format!("unknown change entity {other:?}"))),
    })
}

pub(crate) fn task_status_str(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Open => "open",
        TaskStatus::Leased => "leased",
        TaskStatus::Done => "done",
        TaskStatus::Cancelled => "cancelled",
    }
}

pub(crate) fn notice_status_str(s: NoticeStatus) -> &'static str {
    match s {
        NoticeStatus::Open => "open",
        NoticeStatus::Closed => "closed",
    }
}

/// A task's columns as both schemas store them.
pub(crate) struct TaskColumns {
    pub task_id: String,
    pub kind: String,
    pub merchant_id: String,
    pub priority: i32,
    pub status: String,
    pub container: Option<String>,
    /// JSON array of TaskLine.
    pub lines: String,
    pub reason: Option<String>,
    pub holder: Option<Uuid>,
    pub lease_token: Option<i64>,
    pub lease_expires_ms: Option<i64>,
    pub fence: i64,
}

impl TaskColumns {
    pub fn into_row(self) -> Result<TaskRow, StoreError> {
        let status = match self.status.as_str() {
            "open" => TaskStatus::Open,
            "leased" => TaskStatus::Leased,
            "done" => TaskStatus::Done,
            "cancelled" => TaskStatus::Cancelled,
            other => return Err(corrupt(format!("task status {other:?}"))),
        };
        let kind = TaskKind::parse(&self.kind)
            .ok_or_else(|| corrupt(format!("task kind {:?}", self.kind)))?;
        let mut row = TaskRow {
            task: Task {
                task_id: self.task_id,
                kind,
                merchant_id: self.merchant_id,
                priority: self.priority,
                status,
                container: self.container,
                lines: from_json(&self.lines)?,
                leased_to: None,
                reason: self.reason,
            },
            holder: self.holder,
            lease_token: self.lease_token.map(|t| t as u64),
            lease_expires_ms: self.lease_expires_ms,
            fence: self.fence.max(0) as u64,
        };
        row.task = row.public();
        Ok(row)
    }
}

/// A stock row's key from its columns in primary-key order (merchant, product, location,
/// container, lot, expiry, condition); empty strings stand for none.
pub(crate) fn stock_key(columns: [String; 7]) -> Result<StockKey, StoreError> {
    let [
        merchant_id,
        product_id,
        location,
        container,
        lot,
        expiry,
        condition,
    ] = columns;
    let none_if_empty = |s: String| (!s.is_empty()).then_some(s);
    Ok(StockKey {
        merchant_id,
        product_id,
        location,
        container: none_if_empty(container),
        lot: none_if_empty(lot),
        expiry: none_if_empty(expiry),
        condition: GoodsCondition::parse(&condition)
            .ok_or_else(|| corrupt(format!("condition {condition:?}")))?,
    })
}

/// How an event's outcome is stored: `outcome` ('applied' or 'rejected'), and the refusal's
/// code and reason (a partly applied event is 'applied' with a refusal noted).
pub(crate) fn outcome_columns(
    outcome: &EventOutcome,
) -> (&'static str, Option<&str>, Option<&str>) {
    match outcome.effective() {
        EventOutcome::Rejected { code, reason } => {
            ("rejected", Some(code.as_str()), Some(reason.as_str()))
        }
        EventOutcome::Partial { code, reason } => {
            ("applied", Some(code.as_str()), Some(reason.as_str()))
        }
        _ => ("applied", None, None),
    }
}

/// The outcome an event was stored with (see [`outcome_columns`]).
pub(crate) fn outcome_from_columns(
    outcome: &str,
    code: Option<String>,
    reason: Option<String>,
) -> EventOutcome {
    match (outcome, code) {
        ("applied", None) => EventOutcome::Applied,
        // Applied with a refusal noted: the stock moves took effect, the rest did not.
        ("applied", Some(code)) => EventOutcome::Partial {
            code,
            reason: reason.unwrap_or_default(),
        },
        (_, code) => EventOutcome::Rejected {
            code: code.unwrap_or_default(),
            reason: reason.unwrap_or_default(),
        },
    }
}

/// A work packet from its parts: the bins of the merchant's zones, in walking order.
pub(crate) fn packet(
    task: Task,
    lease: Lease,
    merchant: Merchant,
    products: Vec<Product>,
    bins: Vec<Location>,
) -> WorkPacket {
    let mut locations: Vec<Location> = bins
        .into_iter()
        .filter(|l| merchant.zones.contains(&l.zone))
        .collect();
    locations.sort_by(|a, b| a.walk_order.cmp(&b.walk_order).then(a.code.cmp(&b.code)));
    WorkPacket {
        task,
        lease,
        merchant,
        products,
        locations,
    }
}

/// Why a task cannot be leased, as the device API answers it.
pub(crate) fn lease_refusal(row: &TaskRow, r: LeaseRefusal) -> StoreError {
    match r {
        LeaseRefusal::Taken { .. } => StoreError::Conflict {
            code: "task_taken",
            message: format!(
                "task {} is held by another device: lease another task, or ask a shift lead if \
                 that device is out of use (its lease runs out by itself)",
                row.task.task_id
            ),
        },
        LeaseRefusal::Finished(status) => StoreError::Conflict {
            code: "task_finished",
            message: format!(
                "task {} is {}: nothing is left to do on it; lease another task",
                row.task.task_id,
                task_status_str(status)
            ),
        },
    }
}

/// The bytes of a rejected event's payload kept in the database; beyond them only the event's
/// size is kept. A rejected event is kept as evidence of what a device sent, not to be applied
/// again, and a hostile device must not grow the database by the megabytes it sends.
pub(crate) const REJECTED_PAYLOAD_KEPT: usize = 16 * 1024;

/// The payload of an event as it is stored: whole when applied; when rejected, whole up to
/// [`REJECTED_PAYLOAD_KEPT`] bytes, else a note of its size.
pub(crate) fn stored_payload(event: &laituri_protocol::Event, outcome: &EventOutcome) -> String {
    let json = to_json(&event.payload);
    let rejected = matches!(outcome.effective(), EventOutcome::Rejected { .. });
    if rejected && json.len() > REJECTED_PAYLOAD_KEPT {
        return to_json(&serde_json::json!({ "truncated": true, "bytes": json.len() }));
    }
    json
}
