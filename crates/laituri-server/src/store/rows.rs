//! Rows as both backends store them: the change log's entity names and JSON, status words, and
//! the conversions that must never differ between SQLite and PostgreSQL (a terminal pulling from
//! either reads the same change).

use laituri_protocol::{
    Change, EnrolmentCode, EnrolmentCodeUse, EventOutcome, GoodsCondition, InboundNotice, Lease,
    Location, LocationKind, Merchant, NoticeStatus, Operator, Product, ReceiptLineSummary,
    StockRow, Task, TaskKind, TaskStatus, WorkPacket,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::{StockFilter, StoreError};
use crate::push::StockKey;
use crate::tasks::{LeaseRefusal, TaskRow};

/// A count as read back from its columns (both backends store the same).
#[allow(clippy::too_many_arguments)]
pub(crate) fn count_row(
    count_id: Uuid,
    location: String,
    device_id: Uuid,
    seq: i64,
    operator_id: String,
    status: &str,
    lines: &str,
    decided_by: Option<String>,
    counted_at_ms: i64,
) -> Result<crate::counts::CountRow, StoreError> {
    Ok(crate::counts::CountRow {
        count_id,
        location,
        device_id,
        seq: u64::try_from(seq).map_err(corrupt)?,
        operator_id,
        status: crate::counts::CountStatus::parse(status)
            .ok_or_else(|| corrupt(format!("count status {status:?}")))?,
        lines: from_json(lines)?,
        decided_by,
        counted_at_ms,
    })
}

/// An operator as the push rules read it from its stored JSON.
pub(crate) fn operator_ref(data: &str) -> Result<crate::push::counting::OperatorRef, StoreError> {
    let operator: Operator = from_json(data)?;
    Ok(crate::push::counting::OperatorRef::of(&operator))
}

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
        Change::PackOrder(p) => ("pack_order", p.order_id.to_string(), to_json(p)),
        Change::Removed(r) => ("removed", r.id.clone(), to_json(r)),
        Change::PendingCount(c) => ("pending_count", c.count_id.to_string(), to_json(c)),
        Change::ReturnableOrder(o) => ("returnable_order", o.order_id.to_string(), to_json(o)),
    }
}

pub(crate) fn change_from_row(entity: &str, data: &str) -> Result<Change, StoreError> {
    Ok(match entity {
        "merchant" => Change::Merchant(from_json(data)?),
        "product" => Change::Product(from_json(data)?),
        "location" => Change::Location(from_json(data)?),
        "operator" => Change::Operator(from_json(data)?),
        "inbound_notice" => Change::InboundNotice(from_json(data)?),
        "pack_order" => Change::PackOrder(from_json(data)?),
        "task" => Change::Task(from_json(data)?),
        "stock" => Change::Stock(from_json(data)?),
        "work_packet" => Change::WorkPacket(from_json(data)?),
        "removed" => Change::Removed(from_json(data)?),
        "pending_count" => Change::PendingCount(from_json(data)?),
        "returnable_order" => Change::ReturnableOrder(from_json(data)?),
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

pub(crate) fn task_status_from_str(s: &str) -> Result<TaskStatus, StoreError> {
    Ok(match s {
        "open" => TaskStatus::Open,
        "leased" => TaskStatus::Leased,
        "done" => TaskStatus::Done,
        "cancelled" => TaskStatus::Cancelled,
        other => return Err(corrupt(format!("task status {other:?}"))),
    })
}

pub(crate) fn notice_status_str(s: NoticeStatus) -> &'static str {
    match s {
        NoticeStatus::Open => "open",
        NoticeStatus::Closed => "closed",
    }
}

/// A task's columns as both backends store them (kind and status as words, lines as JSON).
pub(crate) struct StoredTask {
    pub task_id: String,
    pub kind: String,
    pub merchant_id: String,
    pub priority: i32,
    pub status: String,
    pub container: Option<String>,
    pub lines: String,
    pub reason: Option<String>,
    pub holder: Option<Uuid>,
    pub lease_token: Option<i64>,
    pub lease_expires_ms: Option<i64>,
    pub fence: i64,
    /// The pick task's orders as JSON.
    pub orders: String,
}

impl StoredTask {
    pub fn into_row(self) -> Result<TaskRow, StoreError> {
        let kind = &self.kind;
        let mut row = TaskRow {
            task: Task {
                kind: TaskKind::parse(kind)
                    .ok_or_else(|| corrupt(format!("task kind {kind:?}")))?,
                status: task_status_from_str(&self.status)?,
                lines: from_json(&self.lines)?,
                task_id: self.task_id,
                merchant_id: self.merchant_id,
                priority: self.priority,
                container: self.container,
                leased_to: None,
                reason: self.reason,
                orders: from_json(&self.orders)?,
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

/// A work packet from its parts and the warehouse's bins and packing locations: for a putaway
/// the bins of the merchant's zones, for a pick the bins of its lines and every packing
/// location (where the totes go), in walking order.
pub(crate) fn packet(
    task: Task,
    lease: Lease,
    merchant: Merchant,
    products: Vec<Product>,
    places: Vec<Location>,
) -> WorkPacket {
    let visited = |l: &Location| match task.kind {
        TaskKind::Pick => {
            l.kind == LocationKind::Packing
                || task.lines.iter().any(|line| {
                    line.goods
                        .from
                        .as_ref()
                        .is_some_and(|p| p.location == l.code)
                })
        }
        _ => l.kind == LocationKind::Bin && merchant.zones.contains(&l.zone),
    };
    let mut locations: Vec<Location> = places.into_iter().filter(visited).collect();
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

/// A device's text as an event's row keeps it: a NUL character (which PostgreSQL stores in no
/// text column, and which makes the event rejected) as U+FFFD, so the rejection can be recorded.
pub(crate) fn stored_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The bytes of a rejected event's payload kept in the database; beyond them only the event's
/// size is kept. A rejected event is kept as evidence of what a device sent, not to be applied
/// again, and a hostile device must not grow the database by the megabytes it sends.
pub(crate) const REJECTED_PAYLOAD_KEPT: usize = 16 * 1024;

/// The payload of an event as it is stored: whole when applied (a long raw scan as a hash); when
/// rejected, whole up to [`REJECTED_PAYLOAD_KEPT`] bytes, else a note of its size.
pub(crate) fn stored_payload(event: &laituri_protocol::Event, outcome: &EventOutcome) -> String {
    // A raw scan longer than a barcode is kept only as a hash, whatever the device sent.
    let mut payload = event.payload.clone();
    if let Some(raw) = payload.get_mut("raw")
        && let Some(text) = raw.as_str()
    {
        *raw = serde_json::Value::String(laituri_protocol::recorded_scan(text));
    }
    let json = to_json(&payload);
    let rejected = matches!(outcome.effective(), EventOutcome::Rejected { .. });
    if rejected && json.len() > REJECTED_PAYLOAD_KEPT {
        return to_json(&serde_json::json!({ "truncated": true, "bytes": json.len() }));
    }
    json
}

/// The conditions of a stock filter: the column and value of each filter given. Only these
/// become conditions, so the database can use the index of the one given.
pub(crate) fn stock_conditions(filter: &StockFilter) -> impl Iterator<Item = (&'static str, &str)> {
    [
        ("merchant_id", &filter.merchant_id),
        ("product_id", &filter.product_id),
        ("location", &filter.location),
    ]
    .into_iter()
    .filter_map(|(column, value)| Some((column, value.as_deref()?)))
}

/// A stock row's columns as both backends store them: empty text stands for no container, lot
/// or expiry (the columns are part of the primary key, so never NULL).
pub(crate) struct StoredStock {
    pub merchant_id: String,
    pub product_id: String,
    pub location: String,
    pub container: String,
    pub lot: String,
    pub expiry: String,
    pub condition: String,
    pub quantity: i64,
}

impl StoredStock {
    /// A listed row's key in the order stock is listed (see [`crate::store::StockRowKey`]).
    pub fn key_of(row: &StockRow) -> crate::store::StockRowKey {
        [
            row.merchant_id.clone(),
            row.product_id.clone(),
            row.location.clone(),
            row.container.clone().unwrap_or_default(),
            row.lot.clone().unwrap_or_default(),
            row.expiry.clone().unwrap_or_default(),
            row.condition.as_str().to_string(),
        ]
    }

    pub fn into_row(self) -> Result<StockRow, StoreError> {
        let none_if_empty = |s: String| (!s.is_empty()).then_some(s);
        let condition = &self.condition;
        Ok(StockRow {
            condition: GoodsCondition::parse(condition)
                .ok_or_else(|| corrupt(format!("condition {condition:?}")))?,
            merchant_id: self.merchant_id,
            product_id: self.product_id,
            location: self.location,
            container: none_if_empty(self.container),
            lot: none_if_empty(self.lot),
            expiry: none_if_empty(self.expiry),
            quantity: self.quantity,
        })
    }
}

/// Lines of a receipt still open: the notice's expected quantities (lines of one product added
/// up) merged with the received tally, given as (product, received, quarantined) in product
/// order. A product received but not expected gets a line of its own, expecting 0.
pub(crate) fn open_receipt_lines(
    notice: Option<InboundNotice>,
    tally: impl IntoIterator<Item = (String, i64, i64)>,
) -> Vec<ReceiptLineSummary> {
    let mut lines: Vec<ReceiptLineSummary> = Vec::new();
    for l in notice.into_iter().flat_map(|n| n.lines) {
        match lines.iter_mut().find(|x| x.product_id == l.product_id) {
            Some(x) => x.expected += l.expected_qty,
            None => lines.push(ReceiptLineSummary {
                product_id: l.product_id,
                expected: l.expected_qty,
                received: 0,
                quarantined: 0,
            }),
        }
    }
    for (product_id, received, quarantined) in tally {
        match lines.iter_mut().find(|x| x.product_id == product_id) {
            Some(x) => {
                x.received = received;
                x.quarantined = quarantined;
            }
            None => lines.push(ReceiptLineSummary {
                product_id,
                expected: 0,
                received,
                quarantined,
            }),
        }
    }
    lines
}

/// Refuses a product whose merchant is not known or whose id already belongs to another
/// merchant (`owner`, the merchant of the stored product of the same id).
pub(crate) fn check_product(
    p: &Product,
    merchant_known: bool,
    owner: Option<&str>,
) -> Result<(), StoreError> {
    if !merchant_known {
        return Err(StoreError::invalid(format!(
            "product {} names merchant {}, which is not known: send the merchant first (POST {}); \
             nothing of this request was stored",
            p.id,
            p.merchant_id,
            laituri_protocol::paths::MERCHANTS
        )));
    }
    match owner {
        // Whose it is stays unsaid: the caller may be another merchant.
        Some(owner) if owner != p.merchant_id => Err(StoreError::invalid(format!(
            "product id {} is already used by another merchant: product ids are unique in the \
             warehouse and a product never changes merchant, so give this one another id; \
             nothing was stored",
            p.id
        ))),
        _ => Ok(()),
    }
}

/// Refuses an operator whose badge already belongs to another operator (`holder`).
pub(crate) fn check_badge(o: &Operator, holder: Option<&str>) -> Result<(), StoreError> {
    match holder {
        Some(holder) if holder != o.id => Err(StoreError::invalid(format!(
            "badge {} already belongs to operator {holder}: a badge logs in one person, so give \
             operator {} another badge; nothing was stored",
            o.badge, o.id
        ))),
        _ => Ok(()),
    }
}

/// Refuses a notice whose merchant is not known, or a line whose product is not known or belongs
/// to another merchant. `owner_of` answers the merchant of a stored product; it is asked line by
/// line, and only once the merchant is known.
pub(crate) fn check_notice(
    n: &InboundNotice,
    merchant_known: bool,
    mut owner_of: impl FnMut(&str) -> Result<Option<String>, StoreError>,
) -> Result<(), StoreError> {
    if !merchant_known {
        return Err(StoreError::invalid(format!(
            "inbound notice {} names merchant {}, which is not known: send the merchant first; \
             nothing of this request was stored",
            n.id, n.merchant_id
        )));
    }
    for line in &n.lines {
        match owner_of(&line.product_id)? {
            Some(owner) if owner == n.merchant_id => {}
            Some(_) => {
                return Err(StoreError::invalid(format!(
                    "inbound notice {} expects product {}, which is not merchant {}'s: fix the \
                     line; nothing was stored",
                    n.id, line.product_id, n.merchant_id
                )));
            }
            None => {
                return Err(StoreError::invalid(format!(
                    "inbound notice {} expects product {}, which is not known: send the product \
                     first (POST {}); nothing was stored",
                    n.id,
                    line.product_id,
                    laituri_protocol::paths::PRODUCTS
                )));
            }
        }
    }
    Ok(())
}

/// A notice as a merchant's system sends it, made what the store keeps: its status is the
/// server's (open until received; what the merchant sends is ignored), and a notice that was
/// received and closed does not change (sending it again as it was changes nothing; changing
/// it is refused). `stored` is the notice's stored JSON, if any.
pub(crate) fn settle_notice(
    incoming: &InboundNotice,
    stored: Option<&str>,
) -> Result<InboundNotice, StoreError> {
    let stored: Option<InboundNotice> = stored.map(from_json).transpose()?;
    if let Some(s) = &stored
        && s.merchant_id != incoming.merchant_id
    {
        return Err(StoreError::invalid(format!(
            "inbound notice id {} is already used by another merchant: notice ids are unique in \
             the warehouse and a notice never changes merchant, so give this one another id; \
             nothing was stored",
            incoming.id
        )));
    }
    let mut notice = incoming.clone();
    notice.status = stored.as_ref().map_or(NoticeStatus::Open, |s| s.status);
    if let Some(s) = stored
        && s.status == NoticeStatus::Closed
        && s != notice
    {
        return Err(StoreError::invalid(format!(
            "inbound notice {} was received and closed: it no longer changes; send a new notice \
             (another id) for more goods",
            incoming.id
        )));
    }
    Ok(notice)
}

/// An enrolment code's row as both backends store it, without the devices it enrolled.
pub(crate) struct CodeRow {
    pub id: Uuid,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub uses: i64,
    pub uses_left: i64,
    pub device_id: Option<Uuid>,
    pub note: Option<String>,
}

/// The listing of enrolment codes: `codes` in their order, each with the devices it enrolled,
/// from `uses` (code id, device id, when) in their order.
pub(crate) fn code_listing(
    codes: Vec<CodeRow>,
    uses: Vec<(Uuid, Uuid, i64)>,
) -> Result<Vec<EnrolmentCode>, StoreError> {
    let count = |n: i64| u32::try_from(n).map_err(corrupt);
    let mut listed = codes
        .into_iter()
        .map(|c| {
            Ok(EnrolmentCode {
                id: c.id,
                created_at_ms: c.created_at_ms,
                expires_at_ms: c.expires_at_ms,
                uses: count(c.uses)?,
                uses_left: count(c.uses_left)?,
                device_id: c.device_id,
                note: c.note,
                used_by: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let at: std::collections::HashMap<Uuid, usize> =
        listed.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    for (code_id, device_id, at_ms) in uses {
        if let Some(&i) = at.get(&code_id) {
            listed[i]
                .used_by
                .push(EnrolmentCodeUse { device_id, at_ms });
        }
    }
    Ok(listed)
}

/// What a lease request asks for: a task by its id, or the most urgent open task of a kind.
pub(crate) enum LeaseTarget<'a> {
    Task(&'a str),
    Next(laituri_protocol::TaskKind),
}

pub(crate) fn lease_target(
    req: &laituri_protocol::LeaseRequest,
) -> Result<LeaseTarget<'_>, StoreError> {
    match (&req.task_id, req.kind) {
        (Some(id), _) => Ok(LeaseTarget::Task(id)),
        (None, Some(kind)) => Ok(LeaseTarget::Next(kind)),
        (None, None) => Err(StoreError::invalid(
            "a lease request needs a task_id or a kind: send {\"kind\": \"putaway\"} to get \
             the next task",
        )),
    }
}

/// A lease of a task this warehouse does not have.
pub(crate) fn unknown_task(id: &str) -> StoreError {
    StoreError::NotFound {
        code: "unknown_task",
        message: format!(
            "task {id} is not known: pull to see the current tasks, or lease the next task of a \
             kind"
        ),
    }
}

/// A lease of the next task of a kind when none waits.
pub(crate) fn no_task(kind: laituri_protocol::TaskKind) -> StoreError {
    StoreError::NotFound {
        code: "no_task",
        message: format!(
            "there is no {} task waiting: try again later or ask a shift lead for work",
            kind.as_str()
        ),
    }
}

/// A release of a task this warehouse does not have.
pub(crate) fn nothing_to_release(id: &str) -> StoreError {
    StoreError::NotFound {
        code: "unknown_task",
        message: format!("task {id} is not known: forget its work packet; nothing to release"),
    }
}

/// The columns of an order and its personal row, as both backends select them (the order `o`,
/// its personal row `p`, absent once erased) for [`crate::orders::OrderRow`].
pub(crate) const ORDER_COLUMNS: &str = "SELECT o.order_id, o.merchant_id, o.reference, o.status,
        o.status_reason, o.priority, o.work, p.data, p.email_hash, o.created_at_ms,
        o.modified_at_ms, o.erased_at_ms, o.history, o.totes, o.demand, o.packing
    FROM orders o LEFT JOIN order_personal p
        ON p.warehouse_id = o.warehouse_id AND p.order_id = o.order_id";

/// An order's columns without its personal row, in [`ORDER_COLUMNS`]' order: what push rules and
/// the planner read, which never need a customer's name.
pub(crate) const ORDER_WORK_COLUMNS: &str = "SELECT o.order_id, o.merchant_id, o.reference,
        o.status, o.status_reason, o.priority, o.work, CAST(NULL AS TEXT), CAST(NULL AS TEXT),
        o.created_at_ms, o.modified_at_ms, o.erased_at_ms, o.history, o.totes, o.demand,
        o.packing
    FROM orders o";

/// A reservation's columns, for [`crate::outbound::PickRow`]; empty lot and expiry are none.
pub(crate) const PICK_COLUMNS: &str = "SELECT order_id, line_id, merchant_id, product_id,
    location, lot, expiry, quantity, picked, short, task_id FROM picks";

/// A reservation from its columns (the order id parsed by the caller).
#[allow(clippy::too_many_arguments)]
pub(crate) fn pick_row(
    order_id: Uuid,
    line_id: String,
    merchant_id: String,
    product_id: String,
    location: String,
    lot: String,
    expiry: String,
    counts: [i64; 3],
    task_id: Option<String>,
) -> crate::outbound::PickRow {
    let some = |s: String| (!s.is_empty()).then_some(s);
    let [quantity, picked, short] = counts;
    crate::outbound::PickRow {
        order_id,
        line_id,
        merchant_id,
        product_id,
        location,
        lot: some(lot),
        expiry: some(expiry),
        quantity,
        picked,
        short,
        task_id,
    }
}

/// An order's life as stored: history, totes, demand and packing as JSON.
pub(crate) struct OrderLife {
    pub history: String,
    pub totes: String,
    pub demand: Option<String>,
    pub packing: String,
}

impl OrderLife {
    pub fn of(row: &crate::orders::OrderRow) -> OrderLife {
        OrderLife {
            history: to_json(&row.history),
            totes: to_json(&row.totes),
            demand: row.demand.as_ref().map(to_json),
            packing: to_json(&row.packing),
        }
    }

    /// Parsed: history, totes, demand, packing.
    #[allow(clippy::type_complexity)]
    pub fn parse(
        self,
    ) -> Result<
        (
            Vec<laituri_protocol::StatusChange>,
            Vec<String>,
            Option<Vec<laituri_protocol::OrderLine>>,
            crate::orders::PackingLife,
        ),
        StoreError,
    > {
        Ok((
            from_json(&self.history)?,
            from_json(&self.totes)?,
            self.demand.as_deref().map(from_json).transpose()?,
            from_json(&self.packing)?,
        ))
    }
}

/// Summaries of `products` (id, merchant) from their stock rows (with the kind of each row's
/// location) and open reservations, in the products' order.
pub(crate) fn summaries(
    products: &[(String, String)],
    rows: Vec<(StockRow, Option<LocationKind>)>,
    picks: &[crate::outbound::PickRow],
    by_location: bool,
) -> Vec<laituri_protocol::StockSummary> {
    products
        .iter()
        .map(|(id, merchant)| {
            let mine: Vec<_> = rows
                .iter()
                .filter(|(r, _)| &r.product_id == id)
                .cloned()
                .collect();
            let held: Vec<_> = picks
                .iter()
                .filter(|p| &p.product_id == id)
                .cloned()
                .collect();
            crate::outbound::summarise(merchant, id, &mine, &held, by_location)
        })
        .collect()
}

/// A pick task as a device taking it over must see it: each line with what is still to pick
/// (lines picked or found short are left out), and each order whose goods this task already put
/// into a tote with that tote, so the next picker goes on into it. `picks` are the task's
/// reservations; `totes` each order's totes, newest last.
pub(crate) fn pick_progress(
    task: &mut Task,
    picks: &[crate::outbound::PickRow],
    totes: &std::collections::HashMap<Uuid, Vec<String>>,
) {
    if task.kind != TaskKind::Pick {
        return;
    }
    let open = |line: &laituri_protocol::TaskLine| {
        picks
            .iter()
            .find(|p| {
                Some(p.order_id) == line.order_id && Some(&p.line_id) == line.line_id.as_ref()
            })
            .map(crate::outbound::PickRow::open)
    };
    task.lines = std::mem::take(&mut task.lines)
        .into_iter()
        .filter_map(|mut line| match open(&line) {
            Some(0) => None,
            Some(n) => {
                line.goods.quantity = n;
                Some(line)
            }
            None => Some(line),
        })
        .collect();
    for o in &mut task.orders {
        let picked_here = picks
            .iter()
            .any(|p| p.order_id == o.order_id && p.picked > 0);
        if picked_here {
            o.tote = totes.get(&o.order_id).and_then(|t| t.last().cloned());
        }
    }
}

/// Refuses a change of a subscription that names another merchant than the stored one's.
pub(crate) fn same_webhook_merchant(
    stored: &laituri_protocol::Webhook,
    change: &crate::webhooks::WebhookChange,
) -> Result<(), StoreError> {
    match &change.merchant_id {
        Some(m) if *m != stored.merchant_id => Err(StoreError::invalid(format!(
            "webhook {} is merchant {:?}'s and a subscription's merchant never changes: leave \
             merchant_id out, or make a new subscription",
            stored.id, stored.merchant_id
        ))),
        _ => Ok(()),
    }
}
