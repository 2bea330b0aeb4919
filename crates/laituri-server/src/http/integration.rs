//! The integration API for merchants' systems and the warehouse's admin: master data in, stock,
//! receipts and exceptions out, enrolment codes.
//!
//! It owns the request shapes of these endpoints (one object or an array on POST, keyset pages on
//! GET) and answers with protocol types only. Every call needs the admin key. It must never store
//! an operator's PIN in clear (see [`crate::master::prepare_operators`]).
//!
//! Scoping: only the warehouse-wide admin key exists today. Rows carry `warehouse_id` (and, where it
//! applies, `merchant_id`), so a merchant-scoped integration key can later filter by them.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use laituri_protocol::{
    EnrolmentCode, EnrolmentCodeRequest, ExceptionView, InboundNotice, Location, Merchant,
    NewEnrolmentCode, Operator, OperatorInput, Product, ReceiptView, StockRow, Task,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::extract::{Admin, OneOrMany, QueryParams, RawBody, json_failure};
use super::{ApiFailure, AppState};
use crate::enrolment::{self, CodeToStore};
use crate::master;
use crate::store::{Page, StockFilter};

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
            limit: self.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE),
        }
    }
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
    _: Admin,
    State(state): State<AppState>,
    body: OneOrMany<Product>,
) -> Result<Response, ApiFailure> {
    let (single, items) = prepared(body, master::prepare_products)?;
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
    _: Admin,
    State(state): State<AppState>,
    body: OneOrMany<InboundNotice>,
) -> Result<Response, ApiFailure> {
    let (single, items) = prepared(body, master::prepare_notices)?;
    state.store().upsert_notices(&items).await?;
    Ok(stored(single, items))
}

pub async fn get_merchants(
    _: Admin,
    State(state): State<AppState>,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Json<Vec<Merchant>>, ApiFailure> {
    let page = p.page();
    Ok(Json(state.store().merchants(&page).await?))
}

pub async fn get_products(
    _: Admin,
    State(state): State<AppState>,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Json<Vec<Product>>, ApiFailure> {
    let page = p.page();
    Ok(Json(state.store().products(&page).await?))
}

pub async fn get_locations(
    _: Admin,
    State(state): State<AppState>,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Json<Vec<Location>>, ApiFailure> {
    let page = p.page();
    Ok(Json(state.store().locations(&page).await?))
}

pub async fn get_operators(
    _: Admin,
    State(state): State<AppState>,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Json<Vec<Operator>>, ApiFailure> {
    let page = p.page();
    let operators = state.store().operators(&page).await?;
    // The PIN's hash is for terminals (which check a PIN offline), never for integration clients.
    Ok(Json(
        operators.into_iter().map(Operator::without_pin).collect(),
    ))
}

pub async fn get_notices(
    _: Admin,
    State(state): State<AppState>,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Json<Vec<InboundNotice>>, ApiFailure> {
    let page = p.page();
    Ok(Json(state.store().notices(&page).await?))
}

#[derive(Debug, Deserialize)]
pub struct StockParams {
    merchant_id: Option<String>,
    product_id: Option<String>,
    location: Option<String>,
}

pub async fn get_stock(
    _: Admin,
    State(state): State<AppState>,
    QueryParams(p): QueryParams<StockParams>,
) -> Result<Json<Vec<StockRow>>, ApiFailure> {
    // `?location=` (empty) means "any", as a form with an empty field would send it.
    let some = |v: Option<String>| v.filter(|s| !s.is_empty());
    let filter = StockFilter {
        merchant_id: some(p.merchant_id),
        product_id: some(p.product_id),
        location: some(p.location),
    };
    Ok(Json(state.store().stock(&filter).await?))
}

pub async fn get_receipts(
    _: Admin,
    State(state): State<AppState>,
) -> Result<Json<Vec<ReceiptView>>, ApiFailure> {
    Ok(Json(state.store().receipts().await?))
}

pub async fn get_receipt(
    _: Admin,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<ReceiptView>, ApiFailure> {
    let Path(raw) = path.map_err(|e| ApiFailure::bad_request(e.body_text()))?;
    let id = Uuid::parse_str(&raw).map_err(|_| {
        ApiFailure::bad_request(format!(
            "{raw:?} is not a receipt id: receipt ids are UUIDs as listed by GET {}",
            laituri_protocol::paths::RECEIPTS
        ))
    })?;
    match state.store().receipt(id).await? {
        Some(r) => Ok(Json(r)),
        None => Err(ApiFailure::not_found(format!(
            "receipt {id} is not known: it may not have been synced from its terminal yet"
        ))),
    }
}

#[derive(Debug, Deserialize)]
pub struct ExceptionParams {
    limit: Option<u32>,
}

pub async fn get_exceptions(
    _: Admin,
    State(state): State<AppState>,
    QueryParams(p): QueryParams<ExceptionParams>,
) -> Result<Json<Vec<ExceptionView>>, ApiFailure> {
    let limit = p.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    Ok(Json(state.store().exceptions(limit).await?))
}

/// Every enrolment code, oldest first, without the codes themselves.
pub async fn get_enrolment_codes(
    _: Admin,
    State(state): State<AppState>,
) -> Result<Json<Vec<EnrolmentCode>>, ApiFailure> {
    Ok(Json(state.store().enrolment_codes().await?))
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
) -> Result<Json<Vec<Task>>, ApiFailure> {
    Ok(Json(state.store().tasks().await?))
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
            laituri_protocol::paths::OPERATORS
        )))
    }
}
