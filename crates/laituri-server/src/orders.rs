//! The rules of merchants' orders, independent of any database: checking an order as sent, what
//! sending the same reference again does, cancelling, and how an order is split into the part
//! the warehouse works with and the customer's personal data.
//!
//! The personal part (recipient, comments, documents) is stored in a row of its own that an
//! erasure deletes; the work part (lines, shipping, priority, status) stays, so stock history and
//! the order's life stay whole. Messages of this module never repeat a personal field: they name
//! the order by its reference and the field by its name.

use laituri_protocol::{
    CashOnDelivery, Order, OrderDocument, OrderInput, OrderLine, OrderStatus, PackGoods, Parcel,
    Recipient, Shipment, StatusChange,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::enrolment::token_hash;
use crate::store::StoreError;
use crate::store::rows::{from_json, to_json};

/// The most lines an order may have, and units a line may ask for.
pub const MAX_LINES: usize = 1_000;
pub const MAX_QUANTITY: i64 = 100_000;
/// The longest reference, and the longest of any other text field.
pub const MAX_REFERENCE: usize = 100;
pub const MAX_TEXT: usize = 500;
pub const MAX_DOCUMENTS: usize = 20;

/// The part of an order the warehouse works with, as stored (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkPart {
    pub lines: Vec<OrderLine>,
    pub shipping_method: String,
    #[serde(default)]
    pub pickup_point: Option<String>,
    #[serde(default)]
    pub cash_on_delivery: Option<CashOnDelivery>,
    #[serde(default)]
    pub value_minor: Option<i64>,
    /// The kinds of the documents to put in (`receipt`): what a packer is asked to check. Their
    /// addresses stay in the personal part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub document_kinds: Vec<String>,
}

/// The customer's personal data of an order, as stored (JSON) in its erasable row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalPart {
    pub recipient: Recipient,
    #[serde(default)]
    pub comments: Option<String>,
    #[serde(default)]
    pub documents: Vec<OrderDocument>,
}

/// An order's rows as both backends store them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub id: Uuid,
    pub merchant_id: String,
    pub reference: String,
    pub status: OrderStatus,
    pub status_reason: Option<String>,
    pub priority: i32,
    /// [`WorkPart`] as JSON.
    pub work: String,
    /// [`PersonalPart`] as JSON; `None` once erased.
    pub personal: Option<String>,
    /// [`email_hash`] of the recipient's address, to find a customer's orders for erasure.
    pub email_hash: Option<String>,
    pub created_at_ms: i64,
    pub modified_at_ms: i64,
    pub erased_at_ms: Option<i64>,
    /// Every status the order had, oldest first.
    pub history: Vec<StatusChange>,
    /// The totes its goods were picked into.
    pub totes: Vec<String>,
    /// What is to be picked, fixed at its first reservation (kits as components, inserts added).
    pub demand: Option<Vec<OrderLine>>,
    /// Its goods at packing, parcels and shipment.
    pub packing: PackingLife,
}

/// An order from packing on, as stored (JSON): no personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackingLife {
    /// The goods its totes brought to packing, added by each drop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<PackGoods>,
    /// Units of its demand that are the merchant's inserts and gifts, fixed with the demand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inserts: Vec<OrderLine>,
    /// Its parcels as packed, with tracking numbers once booked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parcels: Vec<Parcel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<Shipment>,
    /// What customers' returns brought back of it so far, per product (units of the order's
    /// demand only: unexpected goods are not counted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returned: Vec<OrderLine>,
}

/// How a customer's e-mail address is looked up: SHA-256 of it trimmed and lower-cased.
pub fn email_hash(email: &str) -> String {
    token_hash(&email.trim().to_lowercase())
}

fn parts(input: &OrderInput) -> (WorkPart, PersonalPart) {
    (
        WorkPart {
            lines: input.lines.clone(),
            shipping_method: input.shipping_method.clone(),
            pickup_point: input.pickup_point.clone(),
            cash_on_delivery: input.cash_on_delivery.clone(),
            value_minor: input.value_minor,
            document_kinds: input.documents.iter().map(|d| d.kind.clone()).collect(),
        },
        PersonalPart {
            recipient: input.recipient.clone(),
            comments: input.comments.clone(),
            documents: input.documents.clone(),
        },
    )
}

impl OrderRow {
    /// A new order of `input`, made at `now_ms`.
    pub fn new(input: &OrderInput, now_ms: i64) -> OrderRow {
        let (work, personal) = parts(input);
        OrderRow {
            packing: Default::default(),
            id: Uuid::now_v7(),
            merchant_id: input.merchant_id.clone(),
            reference: input.reference.clone(),
            status: OrderStatus::New,
            status_reason: None,
            priority: input.priority,
            work: to_json(&work),
            personal: Some(to_json(&personal)),
            email_hash: input.recipient.email.as_deref().map(email_hash),
            created_at_ms: now_ms,
            modified_at_ms: now_ms,
            erased_at_ms: None,
            history: vec![StatusChange {
                status: OrderStatus::New,
                at_ms: now_ms,
                reason: None,
            }],
            totes: Vec::new(),
            demand: None,
        }
    }

    /// Before picking started: no pick task holds it and no tote holds its goods, so it may
    /// still be replaced or cancelled.
    pub fn not_started(&self) -> bool {
        self.status.not_started() && self.totes.is_empty()
    }

    /// Moves the order to `status` at `now_ms` with `reason`; false (and nothing changes) when
    /// it is there already for the same reason.
    pub fn set_status(&mut self, status: OrderStatus, reason: Option<String>, now_ms: i64) -> bool {
        if self.status == status && self.status_reason == reason {
            return false;
        }
        self.status = status;
        self.status_reason = reason.clone();
        self.modified_at_ms = now_ms;
        self.history.push(StatusChange {
            status,
            at_ms: now_ms,
            reason,
        });
        true
    }

    /// The work part: lines, shipping, value.
    pub fn work_part(&self) -> Result<WorkPart, StoreError> {
        from_json(&self.work)
    }

    /// The order as the integration API shows it.
    pub fn to_order(&self) -> Result<Order, StoreError> {
        let work: WorkPart = from_json(&self.work)?;
        let personal: Option<PersonalPart> = self.personal.as_deref().map(from_json).transpose()?;
        let (recipient, comments, documents) = match personal {
            Some(p) => (Some(p.recipient), p.comments, p.documents),
            None => (None, None, Vec::new()),
        };
        Ok(Order {
            parcels: self.packing.parcels.clone(),
            shipment: self.packing.shipment.clone(),
            returned: self.packing.returned.clone(),
            id: self.id,
            merchant_id: self.merchant_id.clone(),
            reference: self.reference.clone(),
            status: self.status,
            status_reason: self.status_reason.clone(),
            lines: work.lines,
            shipping_method: work.shipping_method,
            pickup_point: work.pickup_point,
            priority: self.priority,
            recipient,
            comments,
            documents,
            cash_on_delivery: work.cash_on_delivery,
            value_minor: work.value_minor,
            totes: self.totes.clone(),
            history: self.history.clone(),
            created_at_ms: self.created_at_ms,
            modified_at_ms: self.modified_at_ms,
            erased_at_ms: self.erased_at_ms,
        })
    }
}

/// What storing an order sent by a merchant does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    /// A reference not seen before: a new order.
    Insert(OrderRow),
    /// The same order sent again: nothing changes.
    Unchanged(OrderRow),
    /// A changed order before picking started: it replaces the stored one (same id, status).
    Replace(OrderRow),
}

/// The order `input` against the stored order of the same (merchant, reference), if any.
pub fn put(stored: Option<OrderRow>, input: &OrderInput, now_ms: i64) -> Result<Put, StoreError> {
    let Some(stored) = stored else {
        return Ok(Put::Insert(OrderRow::new(input, now_ms)));
    };
    let (work, personal) = parts(input);
    let (work, personal) = (to_json(&work), to_json(&personal));
    if stored.work == work
        && stored.personal.as_deref() == Some(personal.as_str())
        && stored.priority == input.priority
    {
        return Ok(Put::Unchanged(stored));
    }
    if stored.erased_at_ms.is_some() {
        return Err(StoreError::Conflict {
            code: "order_erased",
            message: format!(
                "order {} had its customer's personal data erased: it no longer changes; send a \
                 new order (another reference) if the customer orders again",
                stored.reference
            ),
        });
    }
    if !stored.not_started() {
        return Err(started(&stored, "changed"));
    }
    let mut row = OrderRow {
        priority: input.priority,
        work,
        personal: Some(personal),
        email_hash: input.recipient.email.as_deref().map(email_hash),
        modified_at_ms: now_ms,
        // Reserved again from its new lines (the backend drops the old reservation).
        demand: None,
        ..stored
    };
    row.set_status(OrderStatus::New, None, now_ms);
    Ok(Put::Replace(row))
}

fn started(stored: &OrderRow, what: &str) -> StoreError {
    if stored.status == OrderStatus::Cancelled {
        return StoreError::Conflict {
            code: "order_cancelled",
            message: format!(
                "order {} was cancelled and can no longer be {what}: send a new order (another \
                 reference)",
                stored.reference
            ),
        };
    }
    StoreError::Conflict {
        code: "order_in_progress",
        message: format!(
            "order {} is {} and can no longer be {what}: picking has started; ask the \
             warehouse's shift lead",
            stored.reference,
            stored.status.as_str()
        ),
    }
}

/// Cancelling `stored` at `now_ms`: the cancelled order, or `None` when it is cancelled already.
/// Refused once picking has started (the answer names the state the order is in).
pub fn cancel(stored: OrderRow, now_ms: i64) -> Result<Option<OrderRow>, StoreError> {
    if stored.status == OrderStatus::Cancelled {
        return Ok(None);
    }
    if !stored.not_started() {
        return Err(started(&stored, "cancelled"));
    }
    let mut row = stored;
    row.set_status(OrderStatus::Cancelled, None, now_ms);
    // Its reservation goes (the backend deletes it with the demand).
    row.demand = None;
    Ok(Some(row))
}

/// Checks and normalises an order as sent (trimmed texts, upper-case country and currency); the
/// error says what to fix without repeating any personal field.
pub fn prepare(mut o: OrderInput) -> Result<OrderInput, String> {
    let trim = |s: &mut String| *s = s.trim().to_string();
    let trim_opt = |s: &mut Option<String>| {
        *s = s
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    trim(&mut o.merchant_id);
    trim(&mut o.reference);
    trim(&mut o.shipping_method);
    trim_opt(&mut o.pickup_point);
    trim_opt(&mut o.comments);
    let r = &mut o.recipient;
    for field in [&mut r.name, &mut r.address, &mut r.postcode, &mut r.city] {
        trim(field);
    }
    r.country = r.country.trim().to_uppercase();
    for field in [&mut r.address2, &mut r.phone, &mut r.email] {
        trim_opt(field);
    }
    let reference = o.reference.clone();
    let fail = |what: String| Err(format!("order {reference:?}: {what}"));
    if o.merchant_id.is_empty() {
        return fail("merchant_id is missing".into());
    }
    if o.reference.is_empty() || o.reference.chars().count() > MAX_REFERENCE {
        return Err(format!(
            "an order's reference must be 1 to {MAX_REFERENCE} characters: send the shop's order \
             number"
        ));
    }
    if o.shipping_method.is_empty() {
        return fail("shipping_method is missing: name the carrier service".into());
    }
    if o.lines.is_empty() || o.lines.len() > MAX_LINES {
        return fail(format!(
            "has {} lines: an order has 1 to {MAX_LINES} lines",
            o.lines.len()
        ));
    }
    for (i, l) in o.lines.iter_mut().enumerate() {
        trim(&mut l.product_id);
        if l.product_id.is_empty() {
            return fail(format!("line {i} has no product_id"));
        }
        if !(1..=MAX_QUANTITY).contains(&l.quantity) {
            return fail(format!(
                "line {i} (product {}) asks for {} units: send 1 to {MAX_QUANTITY}",
                l.product_id, l.quantity
            ));
        }
    }
    let r = &o.recipient;
    for (name, value) in [
        ("recipient.name", &r.name),
        ("recipient.address", &r.address),
        ("recipient.postcode", &r.postcode),
        ("recipient.city", &r.city),
    ] {
        if value.is_empty() {
            return fail(format!("{name} is missing"));
        }
    }
    if r.country.len() != 2 || !r.country.bytes().all(|b| b.is_ascii_uppercase()) {
        return fail(
            "recipient.country is not an ISO 3166-1 alpha-2 code: send two letters such as FI"
                .into(),
        );
    }
    if let Some(e) = &r.email
        && !e.contains('@')
    {
        return fail("recipient.email is not an e-mail address".into());
    }
    let texts = [
        ("recipient.name", Some(&r.name)),
        ("recipient.address", Some(&r.address)),
        ("recipient.address2", r.address2.as_ref()),
        ("recipient.postcode", Some(&r.postcode)),
        ("recipient.city", Some(&r.city)),
        ("recipient.phone", r.phone.as_ref()),
        ("recipient.email", r.email.as_ref()),
        ("comments", o.comments.as_ref()),
        ("shipping_method", Some(&o.shipping_method)),
        ("pickup_point", o.pickup_point.as_ref()),
    ];
    for (name, value) in texts {
        if value.is_some_and(|v| v.chars().count() > MAX_TEXT) {
            return fail(format!("{name} is longer than {MAX_TEXT} characters"));
        }
    }
    if o.documents.len() > MAX_DOCUMENTS {
        return fail(format!("has more than {MAX_DOCUMENTS} documents"));
    }
    for (i, d) in o.documents.iter().enumerate() {
        let url = d.url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || url.chars().count() > 2 * MAX_TEXT
        {
            return fail(format!(
                "document {i} ({}) is not an http(s) URL of at most {} characters",
                d.kind,
                2 * MAX_TEXT
            ));
        }
    }
    if let Some(c) = &mut o.cash_on_delivery {
        c.currency = c.currency.trim().to_uppercase();
        if c.amount_minor < 0 || c.currency.len() != 3 {
            return fail(
                "cash_on_delivery needs amount_minor of 0 or more and a currency of three \
                 letters (ISO 4217, e.g. EUR)"
                    .into(),
            );
        }
    }
    Ok(o)
}

/// Refuses an order whose merchant is not known, or a line whose product is not known or is
/// another merchant's. `owner_of` answers the merchant of a stored product.
pub fn check_lines(
    o: &OrderInput,
    merchant_known: bool,
    mut owner_of: impl FnMut(&str) -> Result<Option<String>, StoreError>,
) -> Result<(), StoreError> {
    if !merchant_known {
        return Err(StoreError::invalid(format!(
            "order {:?} names merchant {}, which is not known; nothing was stored",
            o.reference, o.merchant_id
        )));
    }
    for l in &o.lines {
        match owner_of(&l.product_id)? {
            Some(owner) if owner == o.merchant_id => {}
            _ => {
                return Err(StoreError::invalid(format!(
                    "order {:?} asks for product {}, which is not merchant {}'s: send the \
                     product first (POST {}); nothing was stored",
                    o.reference,
                    l.product_id,
                    o.merchant_id,
                    laituri_protocol::paths::PRODUCTS
                )));
            }
        }
    }
    Ok(())
}

/// Keyset page of `GET ORDERS`: orders changed after `modified_after` (Unix ms), in the order
/// they were last changed, after the order `after` of a previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub modified_after: i64,
    pub after: Option<(i64, Uuid)>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn input() -> OrderInput {
        OrderInput {
            value_minor: None,
            merchant_id: "M1".into(),
            reference: "R-1".into(),
            lines: vec![OrderLine {
                product_id: "P1".into(),
                quantity: 2,
            }],
            shipping_method: "posti".into(),
            pickup_point: None,
            priority: 0,
            recipient: Recipient {
                name: "Maija Meikäläinen".into(),
                address: "Katu 1".into(),
                address2: None,
                postcode: "00100".into(),
                city: "Helsinki".into(),
                country: "fi".into(),
                phone: None,
                email: Some("Maija@Example.fi".into()),
            },
            comments: None,
            documents: vec![],
            cash_on_delivery: None,
        }
    }

    #[test]
    fn an_order_sent_again_is_one_order_and_changes_only_before_picking() {
        let first = match put(None, &input(), 1).unwrap() {
            Put::Insert(row) => row,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            put(Some(first.clone()), &input(), 2),
            Ok(Put::Unchanged(_))
        ));
        let mut changed = input();
        changed.lines[0].quantity = 3;
        let replaced = match put(Some(first.clone()), &changed, 3).unwrap() {
            Put::Replace(row) => row,
            other => panic!("{other:?}"),
        };
        assert_eq!((replaced.id, replaced.modified_at_ms), (first.id, 3));
        for status in [
            OrderStatus::Picking,
            OrderStatus::Packed,
            OrderStatus::Shipped,
        ] {
            let started = OrderRow {
                status,
                ..first.clone()
            };
            let err = put(Some(started.clone()), &changed, 4).unwrap_err();
            assert!(err.to_string().contains(status.as_str()), "{err}");
            assert!(cancel(started, 4).is_err());
        }
        let erased = OrderRow {
            personal: None,
            erased_at_ms: Some(5),
            ..first.clone()
        };
        assert!(put(Some(erased), &input(), 6).is_err());
        let cancelled = cancel(first, 7).unwrap().unwrap();
        assert_eq!(cancelled.status, OrderStatus::Cancelled);
        assert_eq!(
            cancel(cancelled, 8).unwrap(),
            None,
            "cancelling twice changes nothing"
        );
    }

    #[test]
    fn a_bad_order_is_refused_without_repeating_personal_data() {
        let prepared = prepare(input()).unwrap();
        assert_eq!(prepared.recipient.country, "FI");
        let mut bad = input();
        bad.recipient.country = "Suomi Maija".into();
        bad.recipient.email = Some("Maija Meikäläinen".into());
        let err = prepare(bad).unwrap_err();
        assert!(err.contains("country") && !err.contains("Maija"), "{err}");
        let mut none = input();
        none.lines.clear();
        assert!(prepare(none).is_err());
        let mut huge = input();
        huge.lines[0].quantity = MAX_QUANTITY + 1;
        assert!(prepare(huge).is_err());
    }

    #[test]
    fn an_email_is_found_whatever_its_case() {
        assert_eq!(
            email_hash(" Maija@Example.fi "),
            email_hash("maija@example.fi")
        );
    }
}
