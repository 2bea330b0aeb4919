//! The storage boundary: the async traits every backend implements, split by concern
//! ([`DeviceSync`], [`MasterData`], [`Views`], together [`Store`]), and their error type.
//!
//! The traits speak only protocol types and plain Rust; they must never expose a backend's types
//! (no rusqlite, no SQL), so the same test suite runs against every backend. The rules of
//! applying events live in [`crate::push`] and reach a backend's transaction through
//! [`crate::push::Ledger`], so a second backend gets them for free.
//!
//! A backend owns its concurrency: the SQLite one ([`sqlite::Sqlite`]) runs its blocking calls
//! on tokio's blocking pool behind its one-writer limit; the HTTP layer only awaits.
//!
//! A store serves one warehouse (the `warehouse_id` it was opened with) and stamps every row it
//! writes with it, so several sites can share a database and integration keys can be scoped.

use async_trait::async_trait;
use laituri_protocol::{
    ApiKey, DeviceView, EnrolRequest, EnrolmentCode, Event, ExceptionView, InboundNotice,
    LeaseRequest, Location, Merchant, Operator, Order, OrderInput, Product, PullResponse,
    PushResponse, ReceiptView, RenewRequest, RenewResponse, StockRow, StockSummary, Task,
    TaskClaim, Webhook, WebhookDelivery, WorkPacket,
};
use uuid::Uuid;

use crate::enrolment::{CodeProblem, CodeToStore};
use crate::keys::KeyToStore;
use crate::orders::{OrderFilter, OrderRow};
use crate::outbound::{PlanSummary, ReleasePolicy};
use crate::shipping::{Booked, StoredLabel};
use crate::webhooks::{Attempted, DueDelivery, OutboxEvent, WebhookChange, WebhookToStore};

pub mod postgres;
pub(crate) mod rows;
pub mod sqlite;
mod sqlite_counts;
mod sqlite_orders;
mod sqlite_outbound;
mod sqlite_webhooks;

/// Why a store call failed. Each variant knows whether retrying can help.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The first new event of a push is ahead of what the server has: events are missing.
    #[error(
        "events are missing before seq {expected}: send the device's events again from seq {expected}"
    )]
    Gap { expected: u64 },
    /// The request cannot succeed as sent; the message says what to change.
    #[error("{0}")]
    Invalid(String),
    /// The enrolment code does not work: not known, expired or used up.
    #[error("the enrolment code {0}: ask a shift lead for a new enrolment code for this terminal")]
    UnknownEnrolmentCode(CodeProblem),
    /// The request conflicts with the current state (e.g. `task_taken`); `code` is stable.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// What the request names does not exist (e.g. `unknown_task`, `no_task`).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// The backend failed. `transient` is true when retrying later may succeed (busy, locked, I/O).
    #[error("storage failed: {message}")]
    Backend { message: String, transient: bool },
    /// The transaction lost a race with another one (a serialization failure or a deadlock): the
    /// same request succeeds when tried again.
    #[error("storage contention: {0}")]
    Contention(String),
}

impl StoreError {
    /// True when sending the same request again can never succeed.
    pub fn is_permanent(&self) -> bool {
        match self {
            // A gap heals when the device sends the missing events: the same request stays wrong.
            StoreError::Gap { .. }
            | StoreError::Invalid(_)
            | StoreError::UnknownEnrolmentCode(_)
            | StoreError::Conflict { .. }
            | StoreError::NotFound { .. } => true,
            StoreError::Backend { transient, .. } => !transient,
            StoreError::Contention(_) => false,
        }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> StoreError {
        StoreError::Invalid(msg.into())
    }
}

/// A keyset page of a master-data listing: rows with an id greater than `after`, at most `limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub after: Option<String>,
    pub limit: u32,
}

impl Page {
    /// `after` as the id of a listing keyed by UUIDs (codes, keys, receipts, devices).
    pub fn after_id(&self) -> Result<Option<Uuid>, StoreError> {
        self.after
            .as_deref()
            .map(|a| {
                Uuid::parse_str(a).map_err(|_| {
                    StoreError::invalid(format!(
                        "after={a:?} is not an id this listing gave: use the id of the last item \
                         of a page"
                    ))
                })
            })
            .transpose()
    }
}

/// Whose rows a call may see: the whole warehouse (an admin key), or one merchant's (a merchant's
/// integration key). Every listing takes one, so no handler can forget to filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Warehouse,
    Merchant(String),
}

impl Scope {
    /// The one merchant a scope is limited to, if it is.
    pub fn merchant(&self) -> Option<&str> {
        match self {
            Scope::Warehouse => None,
            Scope::Merchant(m) => Some(m),
        }
    }
}

/// The key of a stock row, in the order stock is listed: merchant, product, location,
/// container, lot, expiry, condition (empty text for none).
pub type StockRowKey = [String; 7];

/// The [`StockRowKey`] of a listed row.
pub fn stock_row_key(row: &laituri_protocol::StockRow) -> StockRowKey {
    rows::StoredStock::key_of(row)
}

/// Filters and page of `GET STOCK`; `None` means any. Rows come in [`StockRowKey`] order, after
/// `after`, at most `limit` (0 counts as 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StockFilter {
    pub merchant_id: Option<String>,
    pub product_id: Option<String>,
    pub location: Option<String>,
    pub after: Option<StockRowKey>,
    pub limit: u32,
}

/// Which products' stock a summary shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SummaryFilter {
    pub product_id: Option<String>,
    pub page: Page,
    /// Every stock row of each product too.
    pub by_location: bool,
}

/// What an upsert did: how many items it received and how many actually changed (and so were
/// appended to the change log; re-sending identical data appends nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertSummary {
    pub received: usize,
    pub changed: usize,
}

/// What [`DeviceSync::continue_device`] answers: the device the new one continues, and the new
/// one's `last_seq` (0 unless it pushed already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Continued {
    pub continues: Uuid,
    pub last_seq: u64,
}

/// A device's side of sync: enrolment, push, pull, and the leases of tasks.
#[async_trait]
pub trait DeviceSync: Send + Sync + 'static {
    /// Enrols (or re-enrols) a device under a new token hash, replacing any older token of the
    /// same device, when [`crate::enrolment::admit`] allows it: `presented_token_hash` is the
    /// hash of the token the request carried, if any. Consumes one use of the code when it
    /// enrols a device the code had not enrolled. Answers the device's recorded `last_seq`.
    async fn enrol_device(
        &self,
        req: &EnrolRequest,
        token_hash: &str,
        presented_token_hash: Option<&str>,
    ) -> Result<u64, StoreError>;
    /// The device a token hash belongs to; never a retired one (one that continues as another).
    async fn device_for_token(&self, token_hash: &str) -> Result<Option<Uuid>, StoreError>;
    /// Continues the device whose token hash is `presented_token_hash` (retired or not) as
    /// `new_device_id` under `token_hash`, when [`crate::enrolment::continuation`] allows it:
    /// in one transaction the new device is made (seqs from 1, remembering which device it
    /// continues), the old one retired, and its leases handed over with their tokens. The same
    /// request again gives the new device `token_hash`. `None` when no device has that token.
    async fn continue_device(
        &self,
        presented_token_hash: &str,
        new_device_id: Uuid,
        device_name: &str,
        token_hash: &str,
    ) -> Result<Option<Continued>, StoreError>;

    /// Applies a batch of one device's events in one transaction (DESIGN.md section 3). A batch
    /// whose seqs are not consecutive and ascending is [`StoreError::Invalid`].
    async fn push(&self, device_id: Uuid, events: &[Event]) -> Result<PushResponse, StoreError>;
    /// The change log's epoch: made when the database is created, returned by every pull.
    async fn epoch(&self) -> Result<String, StoreError>;
    /// Makes a new epoch, after the database was restored from a backup: every terminal then
    /// pulls from the start. Answers the new epoch.
    async fn new_epoch(&self) -> Result<String, StoreError>;
    /// Changes after `cursor` for `device_id` (addressed to every device or to it), at most
    /// `limit` of them.
    async fn pull(
        &self,
        device_id: Uuid,
        cursor: u64,
        limit: u32,
    ) -> Result<PullResponse, StoreError>;

    /// Leases a task (by id, or the most urgent open one of a kind) to a device and answers its
    /// work packet. Another device's unexpired lease is [`StoreError::Conflict`] `task_taken`.
    async fn lease(&self, device_id: Uuid, req: &LeaseRequest) -> Result<WorkPacket, StoreError>;
    /// Renews the device's leases; answers which it still holds and why it lost the others.
    async fn renew(&self, device_id: Uuid, req: &RenewRequest)
    -> Result<RenewResponse, StoreError>;
    /// Gives a task back (idempotent: a lease the device no longer holds changes nothing).
    async fn release(&self, device_id: Uuid, claim: &TaskClaim) -> Result<(), StoreError>;
}

/// Master data in and out, and the keys of enrolment.
#[async_trait]
pub trait MasterData: Send + Sync + 'static {
    /// Stores an enrolment code, made now by the store's clock, and answers how it is listed.
    /// Storing a code whose hash is stored already (only the demo's fixed code can be) replaces
    /// its limits and note and keeps its id and the devices it enrolled.
    async fn store_enrolment_code(&self, code: &CodeToStore) -> Result<EnrolmentCode, StoreError>;
    /// Enrolment codes, oldest first, without the codes themselves: those made after the code
    /// whose id is `page.after`.
    async fn enrolment_codes(&self, page: &Page) -> Result<Vec<EnrolmentCode>, StoreError>;
    /// Ends a code now (it then answers as expired, also to a retry of an enrolment it made).
    /// False when the code is not known or no longer works anyway.
    async fn revoke_enrolment_code(&self, id: Uuid) -> Result<bool, StoreError>;
    /// Stores an integration key's hash and scope, made now by the store's clock. A merchant
    /// key's merchant must exist ([`StoreError::Invalid`] otherwise).
    async fn store_api_key(&self, key: &KeyToStore) -> Result<ApiKey, StoreError>;
    /// Integration keys, oldest first (ids after `page.after`), without the keys themselves.
    async fn api_keys(&self, page: &Page) -> Result<Vec<ApiKey>, StoreError>;
    /// Revokes a key: it stops working at once. False when not known or already revoked.
    async fn revoke_api_key(&self, id: Uuid) -> Result<bool, StoreError>;
    /// The scope of the unrevoked key with this hash, if there is one.
    async fn api_key_scope(&self, key_hash: &str) -> Result<Option<Scope>, StoreError>;
    /// Deactivates an operator: no longer listed or shipped, and a tombstone tells terminals to
    /// forget them. Answers false when the operator is not known (or already inactive).
    async fn deactivate_operator(&self, operator_id: &str) -> Result<bool, StoreError>;

    async fn upsert_merchants(&self, items: &[Merchant]) -> Result<UpsertSummary, StoreError>;
    /// A product's merchant never changes: an item naming another merchant than the stored
    /// product's is [`StoreError::Invalid`], and nothing is stored.
    async fn upsert_products(&self, items: &[Product]) -> Result<UpsertSummary, StoreError>;
    async fn upsert_locations(&self, items: &[Location]) -> Result<UpsertSummary, StoreError>;
    /// Operators arrive with `pin_hash` only; see [`laituri_protocol::OperatorInput`].
    async fn upsert_operators(&self, items: &[Operator]) -> Result<UpsertSummary, StoreError>;
    /// As products: a notice's merchant never changes.
    async fn upsert_notices(&self, items: &[InboundNotice]) -> Result<UpsertSummary, StoreError>;

    async fn merchants(&self, page: &Page, scope: &Scope) -> Result<Vec<Merchant>, StoreError>;
    async fn products(&self, page: &Page, scope: &Scope) -> Result<Vec<Product>, StoreError>;
    async fn locations(&self, page: &Page) -> Result<Vec<Location>, StoreError>;
    async fn operators(&self, page: &Page) -> Result<Vec<Operator>, StoreError>;
    async fn notices(&self, page: &Page, scope: &Scope) -> Result<Vec<InboundNotice>, StoreError>;
    /// The stored notices of these ids (in any order), as the server keeps them: with the
    /// server's status, whatever a merchant sent.
    async fn notices_by_id(&self, ids: &[String]) -> Result<Vec<InboundNotice>, StoreError>;
}

/// What the floor did, as the integration API shows it.
#[async_trait]
pub trait Views: Send + Sync + 'static {
    /// Enrolled devices by id (UUIDv7: about the order they were made), after `page.after`.
    async fn devices(&self, page: &Page) -> Result<Vec<DeviceView>, StoreError>;
    /// Tasks, oldest first: those made after the task `page.after`.
    async fn tasks(&self, page: &Page) -> Result<Vec<Task>, StoreError>;
    /// Non-zero stock rows matching the filter, one page of them.
    async fn stock(&self, filter: &StockFilter) -> Result<Vec<StockRow>, StoreError>;
    /// Stock per product (on hand, reserved, available), products in id order after
    /// `page.after`, the scope's merchant's only.
    async fn stock_summaries(
        &self,
        filter: &SummaryFilter,
        scope: &Scope,
    ) -> Result<Vec<StockSummary>, StoreError>;
    /// Receipts in the order they were opened: those opened after the receipt `page.after`.
    async fn receipts(&self, page: &Page, scope: &Scope) -> Result<Vec<ReceiptView>, StoreError>;
    /// One receipt, `None` also when it is another merchant's than the scope's.
    async fn receipt(
        &self,
        receipt_id: Uuid,
        scope: &Scope,
    ) -> Result<Option<ReceiptView>, StoreError>;
    /// Exceptions with an id above `after`, oldest first, at most `limit`.
    async fn exceptions(
        &self,
        after: u64,
        limit: u32,
        scope: &Scope,
    ) -> Result<Vec<ExceptionView>, StoreError>;
    /// Customers' returns with an id above `filter.after`, oldest first, at most
    /// `filter.limit`, of one order when it names one; the scope's merchant's only.
    async fn returns(
        &self,
        filter: &ReturnFilter,
        scope: &Scope,
    ) -> Result<Vec<laituri_protocol::ReturnView>, StoreError>;
    /// One return; `None` also when it is another merchant's than the scope's.
    async fn return_view(
        &self,
        return_id: Uuid,
        scope: &Scope,
    ) -> Result<Option<laituri_protocol::ReturnView>, StoreError>;
}

/// Filters and page of `GET RETURNS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnFilter {
    pub after: u64,
    pub limit: u32,
    pub order_id: Option<Uuid>,
}

/// Merchants' orders, and the erasure of their customers' personal data.
#[async_trait]
pub trait Orders: Send + Sync + 'static {
    /// Stores an order a merchant sent, by the rules of [`crate::orders::put`], after checking
    /// its merchant and products. Answers the order as stored and whether it is new.
    async fn put_order(&self, input: &OrderInput) -> Result<(Order, bool), StoreError>;
    /// Orders changed after the filter's time, oldest change first, one page.
    async fn orders(&self, filter: &OrderFilter, scope: &Scope) -> Result<Vec<Order>, StoreError>;
    /// One order; `None` also when it is another merchant's than the scope's.
    async fn order(&self, id: Uuid, scope: &Scope) -> Result<Option<Order>, StoreError>;
    /// Cancels an order by the rules of [`crate::orders::cancel`]; `None` when not known (or
    /// another merchant's).
    async fn cancel_order(&self, id: Uuid, scope: &Scope) -> Result<Option<Order>, StoreError>;
    /// Deletes the personal data of `merchant_id`'s orders whose recipient's e-mail has this
    /// hash or whose reference is listed. Answers how many orders had personal data to erase.
    async fn erase_personal_data(
        &self,
        merchant_id: &str,
        email_hash: Option<&str>,
        references: &[String],
    ) -> Result<u64, StoreError>;
    /// Reserves stock for the orders waiting for it and releases the reserved ones into pick
    /// tasks, by the rules of [`crate::outbound`], in one transaction.
    async fn plan_outbound(&self, policy: &ReleasePolicy) -> Result<PlanSummary, StoreError>;
    /// The order with its personal part, for the labels its parcels need: the server's own
    /// use, never an API's answer (no scope).
    async fn order_row(&self, id: Uuid) -> Result<Option<OrderRow>, StoreError>;
    /// Stores a carrier's booking of a packed order ([`crate::shipping::ship`]) in one
    /// transaction; answers the order as it is then (unchanged when it was not packed).
    async fn ship_order(&self, booked: &Booked) -> Result<Option<OrderRow>, StoreError>;
    /// The stored labels of an order's parcels, by parcel (none once erased).
    async fn order_labels(&self, id: Uuid) -> Result<Vec<StoredLabel>, StoreError>;
}

/// Merchants' webhook subscriptions, the outbox's events and their deliveries
/// ([`crate::webhooks`]). Every call that names a subscription takes the caller's [`Scope`]:
/// another merchant's subscription is as if it did not exist.
#[async_trait]
pub trait Webhooks: Send + Sync + 'static {
    /// Stores a new subscription, made now by the store's clock. Its merchant must exist ([`StoreError::Invalid`] otherwise).
    async fn create_webhook(&self, webhook: &WebhookToStore) -> Result<Webhook, StoreError>;
    /// Subscriptions in id order (about the order they were made), after `page.after`.
    async fn webhooks(&self, page: &Page, scope: &Scope) -> Result<Vec<Webhook>, StoreError>;
    async fn webhook(&self, id: Uuid, scope: &Scope) -> Result<Option<Webhook>, StoreError>;
    /// Changes a subscription's URL, event types and state, and its secret when one is given.
    async fn change_webhook(
        &self,
        id: Uuid,
        change: &WebhookChange,
        scope: &Scope,
    ) -> Result<Option<Webhook>, StoreError>;
    /// Deletes a subscription and its deliveries; false when not known (or not the scope's).
    async fn delete_webhook(&self, id: Uuid, scope: &Scope) -> Result<bool, StoreError>;
    /// A subscription's deliveries, oldest first, after the delivery `page.after`; `None` when
    /// the subscription is not known (or not the scope's).
    async fn webhook_deliveries(
        &self,
        id: Uuid,
        page: &Page,
        scope: &Scope,
    ) -> Result<Option<Vec<WebhookDelivery>>, StoreError>;
    /// Delivers a delivery again from now (pending, due now, retried for another two days),
    /// whatever it came to; `None` when not known (or not the scope's).
    async fn redeliver(
        &self,
        id: Uuid,
        delivery_id: Uuid,
        scope: &Scope,
    ) -> Result<Option<WebhookDelivery>, StoreError>;
    /// Outbox events not fanned out yet, oldest first, at most `limit`.
    async fn events_to_fan_out(&self, limit: u32) -> Result<Vec<OutboxEvent>, StoreError>;
    /// Makes one delivery of the event per active subscription of its merchant that wants its
    /// type, replacing its body by `body` when given, and marks it fanned out: all in one
    /// transaction, and nothing when it was fanned out already. Answers the deliveries made.
    async fn fan_out(&self, event_id: Uuid, body: Option<&str>) -> Result<u32, StoreError>;
    /// Claims up to `limit` pending deliveries that are due, of active subscriptions, and not
    /// claimed by a server whose claim still holds, for `claim_ms` from now.
    async fn claim_deliveries(
        &self,
        limit: u32,
        claim_ms: i64,
    ) -> Result<Vec<DueDelivery>, StoreError>;
    /// Records an attempt, while the claim it was made under still holds (else nothing); a
    /// 410 Gone also deactivates the subscription.
    async fn settle_delivery(&self, attempt: &Attempted) -> Result<(), StoreError>;
}

/// Counts a lead plans ([`crate::counts`]).
#[async_trait]
pub trait Counts: Send + Sync + 'static {
    /// Makes the count tasks of `plan` by the rules of [`crate::counts::plan`], in one
    /// transaction: none for a location and merchant whose count task is open already.
    async fn plan_counts(
        &self,
        plan: &laituri_protocol::CountPlan,
    ) -> Result<laituri_protocol::CountPlanSummary, StoreError>;
}

/// Storage of one warehouse's devices, events, master data, stock and change log.
pub trait Store: DeviceSync + MasterData + Views + Orders + Webhooks + Counts {
    fn warehouse_id(&self) -> &str;
}

#[cfg(test)]
mod tests {
    use super::StoreError;
    use crate::enrolment::CodeProblem;

    #[test]
    fn errors_know_whether_retrying_can_help() {
        let backend = |transient| StoreError::Backend {
            message: "x".into(),
            transient,
        };
        let cases = [
            (StoreError::Gap { expected: 3 }, true),
            (StoreError::invalid("x"), true),
            (StoreError::UnknownEnrolmentCode(CodeProblem::Expired), true),
            (backend(true), false),
            (backend(false), true),
        ];
        for (e, permanent) in cases {
            assert_eq!(e.is_permanent(), permanent, "{e}");
        }
    }
}
