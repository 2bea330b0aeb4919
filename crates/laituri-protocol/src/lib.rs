//! The wire protocol between Laituri terminals, the central server and merchants' systems.
//!
//! This crate is the only place that defines types which cross the network. Both sides depend on
//! it, so a change here is a protocol change: bump [`PROTOCOL_VERSION`] when an old peer could
//! misread the new shape. It holds data and pure conversions only; it must never do I/O.
//!
//! Events are immutable facts stated as deltas (DESIGN.md section 3). An [`Event`] carries its
//! body as `type` + `schema` + JSON `payload` rather than as a Rust enum on the wire, so that a
//! server can reject one event it does not understand without failing the whole batch.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod api;
pub mod counting;
pub mod master;
pub mod orders;
pub mod packing;
pub mod returns;
pub mod stock;
pub mod tasks;
pub mod webhooks;

pub use api::*;
pub use counting::*;
pub use master::*;
pub use orders::*;
pub use packing::*;
pub use returns::*;
pub use stock::*;
pub use tasks::*;
pub use webhooks::{
    DeliveryStatus, NewWebhook, Webhook, WebhookDelivery, WebhookEnvelope, WebhookEventType,
    WebhookInput,
};

/// Version of this protocol. Sent by the terminal on enrolment and on every sync call in the
/// [`PROTOCOL_HEADER`] header; the server refuses versions it does not speak with a clear message.
pub const PROTOCOL_VERSION: u32 = 2;

/// HTTP header that carries [`PROTOCOL_VERSION`].
pub const PROTOCOL_HEADER: &str = "x-laituri-protocol";

/// Schema version of event payloads written by this build.
pub const EVENT_SCHEMA: u16 = 1;

/// Why a payload could not be read back into an [`EventBody`].
#[derive(Debug, thiserror::Error)]
pub enum EventDecodeError {
    #[error(
        "unknown event type {0:?}: update the server or the terminal so both speak the same protocol"
    )]
    UnknownType(String),
    #[error("event schema {0} is newer than this build understands ({EVENT_SCHEMA})")]
    SchemaTooNew(u16),
    #[error("event payload does not match its type: {0}")]
    BadPayload(String),
}

/// One floor action as stored in a terminal's outbox and pushed to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// UUIDv7: globally unique, roughly time-ordered, generated on the device.
    pub event_id: Uuid,
    pub device_id: Uuid,
    /// Gapless per-device sequence number, starting at 1. The only ordering that matters.
    pub seq: u64,
    /// The operator who performed the action.
    pub operator_id: String,
    /// Device clock in Unix milliseconds: for audit only, never for ordering.
    pub device_time_ms: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema: u16,
    pub payload: serde_json::Value,
}

impl Event {
    /// Builds an event from a typed body.
    pub fn new(
        event_id: Uuid,
        device_id: Uuid,
        seq: u64,
        operator_id: impl Into<String>,
        device_time_ms: i64,
        body: &EventBody,
    ) -> Event {
        let (event_type, payload) = body.to_wire();
        Event {
            event_id,
            device_id,
            seq,
            operator_id: operator_id.into(),
            device_time_ms,
            event_type: event_type.to_string(),
            schema: EVENT_SCHEMA,
            payload,
        }
    }

    /// Reads the typed body back.
    pub fn body(&self) -> Result<EventBody, EventDecodeError> {
        EventBody::from_wire(&self.event_type, self.schema, &self.payload)
    }
}

/// Condition of received goods. Anything but `Good` goes to the warehouse's quarantine location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoodsCondition {
    Good,
    Damaged,
    Expired,
    ShortShelfLife,
}

impl GoodsCondition {
    pub fn is_quarantine(self) -> bool {
        self != GoodsCondition::Good
    }
    pub fn as_str(self) -> &'static str {
        match self {
            GoodsCondition::Good => "good",
            GoodsCondition::Damaged => "damaged",
            GoodsCondition::Expired => "expired",
            GoodsCondition::ShortShelfLife => "short_shelf_life",
        }
    }
    pub fn parse(s: &str) -> Option<GoodsCondition> {
        Some(match s {
            "good" => GoodsCondition::Good,
            "damaged" => GoodsCondition::Damaged,
            "expired" => GoodsCondition::Expired,
            "short_shelf_life" => GoodsCondition::ShortShelfLife,
            _ => return None,
        })
    }
}

/// Expected against received for one product of a closed receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLineSummary {
    pub product_id: String,
    pub expected: i64,
    pub received: i64,
    /// Part of `received` that went to quarantine.
    pub quarantined: i64,
}

/// The typed content of an [`Event`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum EventBody {
    /// A receipt was started at a dock, against an inbound notice or blind for a merchant.
    ReceiptOpened {
        receipt_id: Uuid,
        merchant_id: String,
        notice_id: Option<String>,
        dock: String,
    },
    /// `quantity` units of a product arrived (a delta, never an absolute level). Good goods go into
    /// `container` at `location`; anything else goes to `location` = the quarantine location.
    GoodsReceived {
        receipt_id: Uuid,
        merchant_id: String,
        product_id: String,
        quantity: i64,
        lot: Option<String>,
        /// ISO date (YYYY-MM-DD).
        expiry: Option<String>,
        serial: Option<String>,
        container: String,
        location: String,
        condition: GoodsCondition,
        /// The raw scan that identified the goods, for audit.
        barcode: String,
    },
    /// A barcode the terminal could not match to a product of the receipt's merchant.
    UnknownBarcode {
        receipt_id: Uuid,
        merchant_id: String,
        raw: String,
    },
    /// The receipt was closed; the summary is what the operator saw when closing.
    ReceiptClosed {
        receipt_id: Uuid,
        notice_id: Option<String>,
        lines: Vec<ReceiptLineSummary>,
    },
    /// Goods went from a tote or license plate into a bin. `suggested` is the bin the terminal
    /// proposed; a different bin carries the operator's `override_reason`.
    PutAway {
        container: String,
        #[serde(default)]
        task: Option<TaskClaim>,
        #[serde(default)]
        suggested: Option<String>,
        #[serde(default)]
        override_reason: Option<OverrideReason>,
        moves: Vec<StockMove>,
    },
    /// The operator found a bin full: it is suggested no more until its stock changes.
    BinFull {
        location: String,
        #[serde(default)]
        task: Option<TaskClaim>,
    },
    /// A tote or license plate was scanned empty: its putaway is finished (the task, if any, is
    /// done and its lease released).
    PutawayFinished {
        container: String,
        #[serde(default)]
        task: Option<TaskClaim>,
    },
    /// A shift lead resolved the exception raised by event `seq` of device `device_id` (an
    /// unknown barcode, a rejected event); the event's operator is who resolved it.
    ExceptionResolved { device_id: Uuid, seq: u64 },
    /// Goods of a pick line went from the bin into the order's tote (moves: bin ->
    /// [`IN_TRANSIT`] in `tote`). The first pick of an order binds its tote. `suggested_lot` is the
    /// lot the task reserved; a move of another lot was accepted by the merchant's rules.
    Picked {
        task: TaskClaim,
        order_id: Uuid,
        line_id: String,
        tote: String,
        #[serde(default)]
        suggested_lot: Option<String>,
        moves: Vec<StockMove>,
    },
    /// The picker found less at the line's location than the line asked for: `picked` units
    /// were picked in all, `missing` were not there. The location gets a count; the rest of the
    /// line is reserved elsewhere or the order goes on hold.
    PickShort {
        task: TaskClaim,
        order_id: Uuid,
        line_id: String,
        location: String,
        merchant_id: String,
        product_id: String,
        #[serde(default)]
        lot: Option<String>,
        picked: i64,
        missing: i64,
    },
    /// The answer to "is the location empty now?" after a pick took what the device thought was
    /// the last of it; `empty: false` asks for a count.
    ZeroChecked {
        task: TaskClaim,
        location: String,
        merchant_id: String,
        product_id: String,
        empty: bool,
    },
    /// The task's totes were put down at a packing location: each tote's goods move there
    /// from [`IN_TRANSIT`].
    TotesDropped {
        task: TaskClaim,
        location: String,
        totes: Vec<DroppedTote>,
        moves: Vec<StockMove>,
    },
    /// The picker finished the pick task: every line picked or short, the totes dropped.
    PickFinished { task: TaskClaim },
    /// A parcel of an order was closed at a packing location: its box, weight and contents.
    /// Bookkeeping only: the goods leave with [`EventBody::PackingFinished`].
    ParcelPacked {
        order_id: Uuid,
        location: String,
        parcel: Parcel,
    },
    /// Every unit of the order is packed into `parcels` parcels: its goods leave the warehouse
    /// (moves: each tote at the packing location -> out). The server then books the parcels
    /// with the carrier when a station asks for their labels.
    PackingFinished {
        order_id: Uuid,
        location: String,
        parcels: u32,
        moves: Vec<StockMove>,
    },
    /// Goods went from one place in the warehouse to another: a quantity of an item from a bin
    /// or tote to another location, or a whole tote or license plate (`container`) to another
    /// location, every row of it. Nothing enters or leaves the warehouse: every move has both
    /// ends.
    StockMoved {
        move_id: Uuid,
        #[serde(default)]
        container: Option<String>,
        moves: Vec<StockMove>,
    },
    /// A shift lead released the lease that device `holder` held on a task (the device went
    /// away: a flat battery, a broken scanner): the task is open again for anyone, and the
    /// holder's later events of it are refused as taken by another device.
    LeaseRevoked { task_id: String, holder: Uuid },
    /// A blind count of one location was finished: what was found there, line by line (goods
    /// the count names no line of were not there). States no moves: the server books the
    /// variance against its own level ([`counting`]), at once or after a lead's approval.
    LocationCounted {
        count_id: Uuid,
        #[serde(default)]
        task: Option<TaskClaim>,
        location: String,
        lines: Vec<CountLine>,
    },
    /// A lead approved (the recorded variance is booked) or rejected (nothing changes, a recount
    /// is opened) a count that waited for approval; the event's operator is the lead.
    CountDecided { count_id: Uuid, approve: bool },
    /// A customer's return of `order_id` was taken in at the returns desk `location`: each line's
    /// reason and what became of it. Goods enter the warehouse through `moves` (from nowhere):
    /// restocked ones into `tote` at `location` (a putaway task follows), the others to
    /// quarantine, to `location` for the merchant, or in and out again when disposed of.
    ReturnReceived {
        return_id: Uuid,
        order_id: Uuid,
        merchant_id: String,
        location: String,
        #[serde(default)]
        tote: Option<String>,
        lines: Vec<ReturnedLine>,
        moves: Vec<StockMove>,
    },
}

/// A tote put down at packing with the order it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedTote {
    pub order_id: Uuid,
    pub tote: String,
}

/// Why the operator put goods into another bin than the one suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideReason {
    /// The suggested bin is blocked, damaged or not where the label says.
    Blocked,
    /// The goods do not fit the suggested bin.
    DoesNotFit,
    /// A closer bin of the same zone was chosen.
    Closer,
    /// A shift lead said so.
    LeadInstruction,
}

impl OverrideReason {
    pub const ALL: [OverrideReason; 4] = [
        OverrideReason::Blocked,
        OverrideReason::DoesNotFit,
        OverrideReason::Closer,
        OverrideReason::LeadInstruction,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            OverrideReason::Blocked => "blocked",
            OverrideReason::DoesNotFit => "does_not_fit",
            OverrideReason::Closer => "closer",
            OverrideReason::LeadInstruction => "lead_instruction",
        }
    }
}

impl EventBody {
    /// The wire name of this event's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventBody::ReceiptOpened { .. } => "receipt_opened",
            EventBody::GoodsReceived { .. } => "goods_received",
            EventBody::UnknownBarcode { .. } => "unknown_barcode",
            EventBody::ReceiptClosed { .. } => "receipt_closed",
            EventBody::PutAway { .. } => "put_away",
            EventBody::BinFull { .. } => "bin_full",
            EventBody::PutawayFinished { .. } => "putaway_finished",
            EventBody::ExceptionResolved { .. } => "exception_resolved",
            EventBody::Picked { .. } => "picked",
            EventBody::PickShort { .. } => "pick_short",
            EventBody::ZeroChecked { .. } => "zero_checked",
            EventBody::TotesDropped { .. } => "totes_dropped",
            EventBody::PickFinished { .. } => "pick_finished",
            EventBody::ParcelPacked { .. } => "parcel_packed",
            EventBody::PackingFinished { .. } => "packing_finished",
            EventBody::StockMoved { .. } => "stock_moved",
            EventBody::LeaseRevoked { .. } => "lease_revoked",
            EventBody::LocationCounted { .. } => "location_counted",
            EventBody::CountDecided { .. } => "count_decided",
            EventBody::ReturnReceived { .. } => "return_received",
        }
    }

    /// Every type name this build speaks, in one place.
    pub const TYPES: [&'static str; 20] = [
        "receipt_opened",
        "goods_received",
        "unknown_barcode",
        "receipt_closed",
        "put_away",
        "bin_full",
        "putaway_finished",
        "exception_resolved",
        "picked",
        "pick_short",
        "zero_checked",
        "totes_dropped",
        "pick_finished",
        "parcel_packed",
        "packing_finished",
        "stock_moved",
        "lease_revoked",
        "location_counted",
        "count_decided",
        "return_received",
    ];

    /// The stock moves this event states (empty for bookkeeping-only events). The server applies
    /// every event's moves through one path, and the terminal's local stock view adds them.
    pub fn moves(&self) -> Vec<StockMove> {
        match self {
            EventBody::GoodsReceived {
                merchant_id,
                product_id,
                quantity,
                lot,
                expiry,
                serial,
                container,
                location,
                condition,
                ..
            } => vec![StockMove {
                merchant_id: merchant_id.clone(),
                product_id: product_id.clone(),
                quantity: *quantity,
                lot: lot.clone().filter(|s| !s.is_empty()),
                expiry: expiry.clone().filter(|s| !s.is_empty()),
                serial: serial.clone().filter(|s| !s.is_empty()),
                condition: *condition,
                from: None,
                to: Some(Place {
                    location: location.clone(),
                    container: Some(container.clone()).filter(|c| !c.is_empty()),
                }),
                reason: None,
            }],
            EventBody::PutAway { moves, .. }
            | EventBody::Picked { moves, .. }
            | EventBody::TotesDropped { moves, .. }
            | EventBody::PackingFinished { moves, .. }
            | EventBody::StockMoved { moves, .. }
            | EventBody::ReturnReceived { moves, .. } => moves.clone(),
            EventBody::ReceiptOpened { .. }
            | EventBody::PickShort { .. }
            | EventBody::ZeroChecked { .. }
            | EventBody::PickFinished { .. }
            | EventBody::ParcelPacked { .. }
            | EventBody::UnknownBarcode { .. }
            | EventBody::ReceiptClosed { .. }
            | EventBody::BinFull { .. }
            | EventBody::PutawayFinished { .. }
            | EventBody::ExceptionResolved { .. }
            | EventBody::LeaseRevoked { .. }
            | EventBody::LocationCounted { .. }
            | EventBody::CountDecided { .. } => Vec::new(),
        }
    }

    /// The lease this event was recorded under, if it belongs to a leased task.
    pub fn task(&self) -> Option<&TaskClaim> {
        match self {
            EventBody::PutAway { task, .. }
            | EventBody::BinFull { task, .. }
            | EventBody::PutawayFinished { task, .. } => task.as_ref(),
            EventBody::Picked { task, .. }
            | EventBody::PickShort { task, .. }
            | EventBody::ZeroChecked { task, .. }
            | EventBody::TotesDropped { task, .. }
            | EventBody::PickFinished { task } => Some(task),
            EventBody::LocationCounted { task, .. } => task.as_ref(),
            _ => None,
        }
    }

    fn to_wire(&self) -> (&'static str, serde_json::Value) {
        let mut tagged = serde_json::to_value(self).expect("event bodies always serialize");
        let payload = tagged
            .as_object_mut()
            .and_then(|o| o.remove("payload"))
            .unwrap_or(serde_json::Value::Null);
        (self.type_name(), payload)
    }

    fn from_wire(
        event_type: &str,
        schema: u16,
        payload: &serde_json::Value,
    ) -> Result<EventBody, EventDecodeError> {
        if schema > EVENT_SCHEMA {
            return Err(EventDecodeError::SchemaTooNew(schema));
        }
        if !EventBody::TYPES.contains(&event_type) {
            return Err(EventDecodeError::UnknownType(event_type.to_string()));
        }
        let tagged = serde_json::json!({ "type": event_type, "payload": payload });
        serde_json::from_value(tagged).map_err(|e| EventDecodeError::BadPayload(e.to_string()))
    }
}

/// The characters of a scan kept as it was. A product's barcode, even a GS1 DataMatrix with lot,
/// expiry and serial, stays well below; a 2D shipping label that carries a person's name and
/// address does not.
pub const SCAN_KEPT: usize = 100;

/// A raw scan as it may be recorded (in an event, an exception, a log): as it was when it is no
/// longer than [`SCAN_KEPT`] characters; else only a hash of it and its length, so a label with a
/// customer's name and address never enters the records.
pub fn recorded_scan(raw: &str) -> String {
    use sha2::{Digest, Sha256};
    let count = raw.chars().count();
    if count <= SCAN_KEPT {
        return raw.to_string();
    }
    let digest = Sha256::digest(raw.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex} ({count} characters)")
}

/// An operator's PIN as the server stores it and ships it to terminals: an Argon2id hash with a
/// random salt, in the PHC string format (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). A terminal
/// checks a PIN offline ([`pin_matches`]) without ever holding the PIN; the hash is slow to test
/// guesses against, which is what protects a short PIN on a device that can be stolen.
pub fn pin_hash(pin: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    // The crate's defaults (Argon2id, 19 MiB, 2 passes): OWASP's recommendation.
    argon2::Argon2::default()
        .hash_password(pin.as_bytes())
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// Whether `pin` is the PIN of `stored` ([`pin_hash`]'s PHC string). Slow on purpose (tens of
/// milliseconds): call it off the UI thread. A hash of an older format, or not a hash at all,
/// matches nothing.
pub fn pin_matches(stored: &str, pin: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    argon2::Argon2::default()
        .verify_password(pin.as_bytes(), stored)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_body_round_trips_through_the_wire_shape() {
        let body = EventBody::GoodsReceived {
            receipt_id: Uuid::nil(),
            merchant_id: "M1".into(),
            product_id: "P1".into(),
            quantity: 5,
            lot: Some("L1".into()),
            expiry: Some("2027-01-31".into()),
            serial: None,
            container: "T-0001".into(),
            location: "DOCK-1".into(),
            condition: GoodsCondition::Good,
            barcode: "]C1010...".into(),
        };
        let ev = Event::new(Uuid::nil(), Uuid::nil(), 1, "op", 0, &body);
        assert_eq!(ev.event_type, "goods_received");
        assert_eq!(ev.payload["quantity"], 5);
        let json = serde_json::to_string(&ev).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back.body().unwrap(), body);
    }

    #[test]
    fn unknown_type_and_newer_schema_are_decode_errors_not_panics() {
        let mut ev = Event::new(
            Uuid::nil(),
            Uuid::nil(),
            1,
            "op",
            0,
            &EventBody::UnknownBarcode {
                receipt_id: Uuid::nil(),
                merchant_id: "M".into(),
                raw: "x".into(),
            },
        );
        ev.event_type = "teleported".into();
        assert!(matches!(ev.body(), Err(EventDecodeError::UnknownType(_))));
        ev.event_type = "unknown_barcode".into();
        ev.schema = EVENT_SCHEMA + 1;
        assert!(matches!(ev.body(), Err(EventDecodeError::SchemaTooNew(_))));
        ev.schema = EVENT_SCHEMA;
        ev.payload = serde_json::json!({"nonsense": true});
        assert!(matches!(ev.body(), Err(EventDecodeError::BadPayload(_))));
    }

    #[test]
    fn a_count_states_quantities_and_no_moves() {
        let body = EventBody::LocationCounted {
            count_id: Uuid::nil(),
            task: Some(TaskClaim {
                task_id: "count-1".into(),
                token: 3,
            }),
            location: "A-01".into(),
            lines: vec![CountLine {
                merchant_id: "M1".into(),
                product_id: "P1".into(),
                lot: None,
                expiry: None,
                condition: GoodsCondition::Good,
                container: None,
                counted: 4,
                expected: 5,
            }],
        };
        let ev = Event::new(Uuid::nil(), Uuid::nil(), 1, "op", 0, &body);
        assert_eq!(ev.event_type, "location_counted");
        assert_eq!(ev.body().unwrap(), body);
        assert!(body.moves().is_empty());
        assert_eq!(body.task().map(|t| t.token), Some(3));
        // A line without its optional fields is good goods outside any container.
        let line: CountLine = serde_json::from_value(serde_json::json!({
            "merchant_id": "M1", "product_id": "P1", "counted": 2
        }))
        .unwrap();
        assert_eq!((line.condition, line.expected), (GoodsCondition::Good, 0));
        let decided = EventBody::CountDecided {
            count_id: Uuid::nil(),
            approve: true,
        };
        assert_eq!(decided.type_name(), "count_decided");
        assert!(EventBody::TYPES.contains(&decided.type_name()));
    }

    #[test]
    fn a_long_scan_is_recorded_only_as_a_hash() {
        assert_eq!(recorded_scan("6412345000012"), "6412345000012");
        let label = format!(
            "Matti Meikäläinen, Esimerkkikatu 1, 00100 Helsinki {}",
            "x".repeat(80)
        );
        let kept = recorded_scan(&label);
        assert!(kept.starts_with("sha256:"), "{kept}");
        assert!(!kept.contains("Matti"), "{kept}");
        assert_eq!(
            kept,
            recorded_scan(&label),
            "the same label, the same record"
        );
    }

    #[test]
    fn pins_are_salted_slow_hashes_that_match_only_their_pin() {
        let a = pin_hash("1234");
        let b = pin_hash("1234");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "a random salt makes equal PINs differ");
        assert!(pin_matches(&a, "1234") && pin_matches(&b, "1234"));
        assert!(!pin_matches(&a, "1235"));
        assert!(!pin_matches("", "1234"));
        assert!(!pin_matches("not a hash", "1234"));
    }
}
