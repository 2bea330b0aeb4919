//! Rows as both backends store them: the change log's entity names and JSON, status words, and
//! the conversions that must never differ between SQLite and PostgreSQL (a terminal pulling from
//! either reads the same change).

use laituri_protocol::{Change, NoticeStatus, TaskStatus};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::StoreError;

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
