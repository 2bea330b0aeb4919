//! The integration API for merchants' systems and the warehouse's admin: master data in, stock,
//! receipts and exceptions out, enrolment codes and integration keys.
//!
//! It owns the request shapes of these endpoints (one object or an array on POST, keyset pages on
//! GET, each page with a `Link: <...>; rel="next"` header while more may follow) and answers with
//! protocol types only. It must never store an operator's PIN in clear (see
//! [`crate::master::prepare_operators`]).
//!
//! Who may do what ([`crate::keys`]): an admin key ([`Admin`]) may do everything; a merchant's key
//! ([`Caller`] with a merchant scope) reads only its merchant's merchant record, products,
//! notices, stock, receipts and exceptions (the store filters by the scope, so no handler can
//! forget), and writes only products and notices that name its merchant (403 otherwise, nothing
//! stored). Locations, operators, tasks, enrolment codes and keys are the warehouse's.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use laituri_protocol::{
    ApiKeyRequest, EnrolmentCodeRequest, InboundNotice, Location, Merchant, NewApiKey,
    NewEnrolmentCode, OperatorInput, Product, Task, paths,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::extract::{Admin, Caller, JsonBody, OneOrMany, QueryParams, RawBody, json_failure};
use super::{ApiFailure, AppState};
use crate::enrolment::{self, CodeToStore};
use crate::keys::{self, KeyToStore};
use crate::master;
use crate::store::{Page, ReturnFilter, StockFilter, StockRowKey, SummaryFilter};

/// Rows per listing page when the caller does not say, and the most it may ask for.
pub const DEFAULT_PAGE: u32 = 1000;
pub const MAX_PAGE: u32 = 10_000;

#[derive(Debug, Deserialize)]
pub struct PageParams {
    after: Option<String>,
    limit: Option<u32>,
}

impl PageParams {
    fn page(self) -> Page {
        Page {
            after: self.after.filter(|a| !a.is_empty()),
            limit: page_limit(self.limit),
        }
    }

    /// The page, its `after` checked to be an id of `what` (a UUID) in its normal form.
    pub(super) fn page_of_ids(self, what: &str) -> Result<Page, ApiFailure> {
        let mut page = self.page();
        if let Some(a) = &page.after {
            let id = Uuid::parse_str(a).map_err(|_| {
                ApiFailure::bad_request(format!(
                    "after={a:?} is not the id of {what}: pass the id of the last item of a page, \
                     or follow the Link header's next URL"
                ))
            })?;
            page.after = Some(id.to_string());
        }
        Ok(page)
    }
}

pub(super) fn page_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
}

/// A listing's page as JSON, with `Link: <uri with after=...>; rel="next"` when the page is
/// full (more may follow). `next_after` gives the `after` of the next page from the last item.
pub(super) fn paged<T: Serialize>(
    uri: &Uri,
    items: Vec<T>,
    limit: u32,
    next_after: impl Fn(&T) -> String,
) -> Response {
    let next = (items.len() >= limit as usize)
        .then(|| items.last().map(&next_after))
        .flatten();
    let mut resp = Json(items).into_response();
    if let Some(after) = next {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                    .filter(|(k, _)| k != "after" && k != "limit"),
            )
            .append_pair("after", &after)
            .append_pair("limit", &limit.to_string())
            .finish();
        let link = format!("<{}?{query}>; rel=\"next\"", uri.path());
        if let Ok(value) = header::HeaderValue::from_str(&link) {
            resp.headers_mut().insert(header::LINK, value);
        }
    }
    resp
}

/// The opaque `after` of a stock page: the last row's key, as hex of its JSON.
fn stock_after(key: &StockRowKey) -> String {
    let json = serde_json::to_string(key).unwrap_or_default();
    json.bytes().map(|b| format!("{b:02x}")).collect()
}

fn parse_stock_after(token: &str) -> Option<StockRowKey> {
    if !token.len().is_multiple_of(2) || !token.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
        .collect();
    serde_json::from_slice(&bytes?).ok()
}

/// The checked and normalised items of a POST body, and whether one object was sent.
fn prepared<I, T>(
    body: OneOrMany<I>,
    prepare: fn(Vec<I>) -> Result<Vec<T>, String>,
) -> Result<(bool, Vec<T>), ApiFailure> {
    let items = prepare(body.items).map_err(ApiFailure::bad_request)?;
    Ok((body.single, items))
}

/// What a POST stored (normalised), in the shape it was sent.
fn stored<T: Serialize>(single: bool, items: Vec<T>) -> Response {
    match (single, items.first()) {
        (true, Some(item)) => Json(item).into_response(),
        _ => Json(items).into_response(),
    }
}

pub async fn post_merchants(
    _: Admin,
    State(state): State<AppState>,
    body: OneOrMany<Merchant>,
) -> Result<Response, ApiFailure> {
    let (single, items) = prepared(body, master::prepare_merchants)?;
    state.store().upsert_merchants(&items).await?;
    Ok(stored(single, items))
}

pub async fn post_products(
    caller: Caller,
    State(state): State<AppState>,
    body: OneOrMany<Product>,
) -> Result<Response, ApiFailure> {
    let (single, items) = prepared(body, master::prepare_products)?;
    for p in &items {
        caller.may_touch(&p.merchant_id, &format!("product {}", p.id))?;
    }
    state.store().upsert_products(&items).await?;
    Ok(stored(single, items))
}

pub async fn post_locations(
    _: Admin,
    State(state): State<AppState>,
    body: OneOrMany<Location>,
) -> Result<Response, ApiFailure> {
    let (single, items) = prepared(body, master::prepare_locations)?;
    state.store().upsert_locations(&items).await?;
    Ok(stored(single, items))
}

pub async fn post_operators(
    _: Admin,
    State(state): State<AppState>,
    body: OneOrMany<OperatorInput>,
) -> Result<Response, ApiFailure> {
    let (single, items) = prepared(body, master::prepare_operators)?;
    state.store().upsert_operators(&items).await?;
    Ok(stored(single, items))
}

pub async fn post_notices(
    caller: Caller,
    State(state): State<AppState>,
    body: OneOrMany<InboundNotice>,
) -> Result<Response, ApiFailure> {
    let (single, items) = prepared(body, master::prepare_notices)?;
    for n in &items {
        caller.may_touch(&n.merchant_id, &format!("inbound notice {}", n.id))?;
    }
    state.store().upsert_notices(&items).await?;
    // The answer is what is stored: the status is the server's (a received notice stays
    // received), whatever the request said.
    let ids: Vec<String> = items.iter().map(|n| n.id.clone()).collect();
    let stored_now = state.store().notices_by_id(&ids).await?;
    let items: Vec<InboundNotice> = ids
        .iter()
        .filter_map(|id| stored_now.iter().find(|n| &n.id == id).cloned())
        .collect();
    Ok(stored(single, items))
}

pub async fn get_merchants(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Response, ApiFailure> {
    let page = p.page();
    let items: Vec<Merchant> = state.store().merchants(&page, &caller.scope).await?;
    Ok(paged(&uri, items, page.limit, |m| m.id.clone()))
}

pub async fn get_products(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Response, ApiFailure> {
    let page = p.page();
    let items: Vec<Product> = state.store().products(&page, &caller.scope).await?;
    Ok(paged(&uri, items, page.limit, |p| p.id.clone()))
}

pub async fn get_locations(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Response, ApiFailure> {
    let page = p.page();
    let items = state.store().locations(&page).await?;
    Ok(paged(&uri, items, page.limit, |l| l.code.clone()))
}

pub async fn get_operators(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Response, ApiFailure> {
    let page = p.page();
    let operators = state.store().operators(&page).await?;
    // The PIN's hash is for terminals (which check a PIN offline), never for integration clients.
    let items: Vec<_> = operators
        .into_iter()
        .map(laituri_protocol::Operator::without_pin)
        .collect();
    Ok(paged(&uri, items, page.limit, |o| o.id.clone()))
}

pub async fn get_notices(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Response, ApiFailure> {
    let page = p.page();
    let items: Vec<InboundNotice> = state.store().notices(&page, &caller.scope).await?;
    Ok(paged(&uri, items, page.limit, |n| n.id.clone()))
}

#[derive(Debug, Deserialize)]
pub struct StockParams {
    merchant_id: Option<String>,
    product_id: Option<String>,
    location: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

pub async fn get_stock(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<StockParams>,
) -> Result<Response, ApiFailure> {
    // `?location=` (empty) means "any", as a form with an empty field would send it.
    let some = |v: Option<String>| v.filter(|s| !s.is_empty());
    let mut merchant_id = some(p.merchant_id);
    if let Some(own) = caller.scope.merchant() {
        match &merchant_id {
            Some(m) => caller.may_touch(m, "the stock query")?,
            None => merchant_id = Some(own.to_string()),
        }
    }
    let after = match some(p.after) {
        Some(token) => Some(parse_stock_after(&token).ok_or_else(|| {
            ApiFailure::bad_request(
                "after is not a stock page token: follow the Link header's next URL of the \
                 previous page, or leave after out to start from the first row",
            )
        })?),
        None => None,
    };
    let filter = StockFilter {
        merchant_id,
        product_id: some(p.product_id),
        location: some(p.location),
        after,
        limit: page_limit(p.limit),
    };
    let rows = state.store().stock(&filter).await?;
    Ok(paged(&uri, rows, filter.limit, |r| {
        stock_after(&crate::store::stock_row_key(r))
    }))
}

#[derive(Debug, Deserialize)]
pub struct StockLevelParams {
    product_id: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
    /// Every stock row of each product too.
    #[serde(default)]
    locations: bool,
}

/// Stock per product of the caller's merchant (an admin sees every merchant's): on hand,
/// reserved for orders, available to new orders; per place with `?locations=true`.
pub async fn get_stock_levels(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<StockLevelParams>,
) -> Result<Response, ApiFailure> {
    let some = |v: Option<String>| v.filter(|s| !s.is_empty());
    let filter = SummaryFilter {
        product_id: some(p.product_id),
        page: Page {
            after: some(p.after),
            limit: page_limit(p.limit),
        },
        by_location: p.locations,
    };
    let items = state
        .store()
        .stock_summaries(&filter, &caller.scope)
        .await?;
    Ok(paged(&uri, items, filter.page.limit, |s| {
        s.product_id.clone()
    }))
}

pub async fn get_receipts(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Response, ApiFailure> {
    let page = p.page_of_ids("a receipt")?;
    let items = state.store().receipts(&page, &caller.scope).await?;
    Ok(paged(&uri, items, page.limit, |r| r.receipt_id.to_string()))
}

/// The UUID a path names, or what is wrong with it: `{raw:?} is not a {kind} id: {kind} ids
/// are UUIDs as listed by GET {listed_by}`.
fn uuid_in_path(
    path: Result<Path<String>, PathRejection>,
    kind: &str,
    listed_by: &str,
) -> Result<Uuid, ApiFailure> {
    let Path(raw) = path.map_err(|e| ApiFailure::bad_request(e.body_text()))?;
    Uuid::parse_str(&raw).map_err(|_| {
        ApiFailure::bad_request(format!(
            "{raw:?} is not a {kind} id: {kind} ids are UUIDs as listed by GET {listed_by}"
        ))
    })
}

/// The `after=` of a listing paged by ascending ids (0 when left out), or what is wrong with it:
/// `after={a:?} is not {an_id}: pass the id of the last {item} seen, ...`.
fn after_id(after: Option<&str>, an_id: &str, item: &str) -> Result<u64, ApiFailure> {
    match after.filter(|a| !a.is_empty()) {
        Some(a) => a.parse::<u64>().map_err(|_| {
            ApiFailure::bad_request(format!(
                "after={a:?} is not {an_id}: pass the id of the last {item} seen, or leave it \
                 out to start from the first"
            ))
        }),
        None => Ok(0),
    }
}

pub async fn get_receipt(
    caller: Caller,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiFailure> {
    let id = uuid_in_path(path, "receipt", paths::RECEIPTS)?;
    // Another merchant's receipt is "not known" to a merchant's key: whether it exists is not
    // this caller's business.
    match state.store().receipt(id, &caller.scope).await? {
        Some(r) => Ok(Json(r).into_response()),
        None => Err(ApiFailure::not_found(format!(
            "receipt {id} is not known: it may not have been synced from its terminal yet"
        ))),
    }
}

#[derive(Debug, Deserialize)]
pub struct ExceptionParams {
    after: Option<String>,
    limit: Option<u32>,
}

pub async fn get_exceptions(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<ExceptionParams>,
) -> Result<Response, ApiFailure> {
    let after = after_id(p.after.as_deref(), "an exception id", "exception")?;
    let limit = page_limit(p.limit);
    let items = state
        .store()
        .exceptions(after, limit, &caller.scope)
        .await?;
    Ok(paged(&uri, items, limit, |e| e.id.to_string()))
}

#[derive(Debug, Deserialize)]
pub struct ReturnParams {
    after: Option<String>,
    limit: Option<u32>,
    order_id: Option<String>,
}

/// Customers' returns, oldest first, each line with its reason and what became of it: the
/// caller's merchant's only (every merchant's for an admin key), of one order with
/// `?order_id=`.
pub async fn get_returns(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<ReturnParams>,
) -> Result<Response, ApiFailure> {
    let after = after_id(p.after.as_deref(), "a return's id", "return")?;
    let order_id = match p.order_id.as_deref().filter(|o| !o.is_empty()) {
        Some(o) => Some(Uuid::parse_str(o).map_err(|_| {
            ApiFailure::bad_request(format!(
                "order_id={o:?} is not an order id: order ids are UUIDs as listed by GET {}",
                paths::ORDERS
            ))
        })?),
        None => None,
    };
    let filter = ReturnFilter {
        after,
        limit: page_limit(p.limit),
        order_id,
    };
    let items = state.store().returns(&filter, &caller.scope).await?;
    Ok(paged(&uri, items, filter.limit, |r| r.id.to_string()))
}

/// One return by its id (`return_id`): 404 when not known, or another merchant's.
pub async fn get_return(
    caller: Caller,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiFailure> {
    let id = uuid_in_path(path, "return", paths::RETURNS)?;
    match state.store().return_view(id, &caller.scope).await? {
        Some(r) => Ok(Json(r).into_response()),
        None => Err(ApiFailure::not_found(format!(
            "return {id} is not known: it may not have been synced from its terminal yet"
        ))),
    }
}

/// Enrolment codes, oldest first, without the codes themselves.
pub async fn get_enrolment_codes(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Response, ApiFailure> {
    let page = p.page_of_ids("an enrolment code")?;
    let items = state.store().enrolment_codes(&page).await?;
    Ok(paged(&uri, items, page.limit, |c| c.id.to_string()))
}

/// Ends an enrolment code now: 204; 404 when not known or no longer working anyway.
pub async fn delete_enrolment_code(
    _: Admin,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiFailure> {
    let not_known = |raw: &str| {
        format!(
            "enrolment code {raw} is not known, or has expired or been revoked already: list \
             the codes with GET {}",
            paths::ENROLMENT_CODES
        )
    };
    revoke(path, not_known, async |id| {
        state.store().revoke_enrolment_code(id).await
    })
    .await
}

/// A `DELETE` of something listed by a UUID: 204 when `revoke` ended it, 404 (with the message
/// `not_known` makes of the path's text) when the id is not known or was ended already.
async fn revoke(
    path: Result<Path<String>, PathRejection>,
    not_known: impl Fn(&str) -> String,
    revoke: impl AsyncFnOnce(Uuid) -> Result<bool, crate::store::StoreError>,
) -> Result<StatusCode, ApiFailure> {
    let Path(raw) = path.map_err(|e| ApiFailure::bad_request(e.body_text()))?;
    let refused = || ApiFailure::not_found(not_known(&raw));
    let id = Uuid::parse_str(&raw).map_err(|_| refused())?;
    if revoke(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(refused())
    }
}

/// The enrolled terminals, without their tokens: which continues which after a restore.
pub async fn get_devices(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Response, ApiFailure> {
    let page = p.page_of_ids("a device")?;
    let items = state.store().devices(&page).await?;
    Ok(paged(&uri, items, page.limit, |d| d.device_id.to_string()))
}

/// Integration keys, oldest first, without the keys themselves.
pub async fn get_api_keys(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Response, ApiFailure> {
    let page = p.page_of_ids("a key")?;
    let items = state.store().api_keys(&page).await?;
    Ok(paged(&uri, items, page.limit, |k| k.id.to_string()))
}

/// Makes a new random key of the requested scope. Answers 201 with the key, the only time it is
/// shown, and how it is listed.
pub async fn post_api_key(
    _: Admin,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<ApiKeyRequest>,
) -> Result<(StatusCode, Json<NewApiKey>), ApiFailure> {
    let key = keys::new_key();
    let to_store = KeyToStore::requested(&key, &req).map_err(ApiFailure::bad_request)?;
    let listed = state.store().store_api_key(&to_store).await?;
    Ok((StatusCode::CREATED, Json(NewApiKey { key, listed })))
}

/// Revokes a key: 204, and it stops working at once; 404 when not known or already revoked.
pub async fn delete_api_key(
    _: Admin,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiFailure> {
    let not_known = |raw: &str| {
        format!(
            "key {raw} is not known or already revoked: list the keys with GET {}",
            paths::API_KEYS
        )
    };
    revoke(path, not_known, async |id| {
        state.store().revoke_api_key(id).await
    })
    .await
}

/// Makes a new random code with the limits in the body (an empty body: one device, 24 hours).
/// Answers 201 with the code, the only time it is shown, and how it is listed.
pub async fn post_enrolment_code(
    _: Admin,
    State(state): State<AppState>,
    RawBody(body): RawBody,
) -> Result<(axum::http::StatusCode, Json<NewEnrolmentCode>), ApiFailure> {
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        EnrolmentCodeRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            json_failure(
                &e,
                "an EnrolmentCodeRequest object ({\"expires_in_hours\": 24, \"uses\": 1, \
                 \"device_id\": \"...\", \"note\": \"...\"}, each field optional; the server \
                 makes the code itself)",
            )
        })?
    };
    let code = enrolment::new_code();
    let to_store = CodeToStore::requested(&code, &req).map_err(ApiFailure::bad_request)?;
    let listed = state.store().store_enrolment_code(&to_store).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(NewEnrolmentCode { code, listed }),
    ))
}

pub async fn get_tasks(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Response, ApiFailure> {
    let page = p.page();
    let items: Vec<Task> = state.store().tasks(&page).await?;
    Ok(paged(&uri, items, page.limit, |t| t.task_id.clone()))
}

/// Deactivates an operator: 204, and terminals are told to forget them; 404 when not known.
pub async fn delete_operator(
    _: Admin,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<axum::http::StatusCode, ApiFailure> {
    let Path(id) = path.map_err(|e| ApiFailure::bad_request(e.body_text()))?;
    let key = id.clone();
    if state.store().deactivate_operator(&key).await? {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiFailure::not_found(format!(
            "operator {id} is not known or already deactivated: list the operators with GET {}",
            paths::OPERATORS
        )))
    }
}
