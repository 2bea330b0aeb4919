//! The integration API of merchants' orders and of erasing a customer's personal data.
//!
//! It owns the request shapes of these endpoints; the rules are in [`crate::orders`]. A merchant's
//! key sees and changes only its own orders. Nothing personal ever goes into a URL, a log line or
//! an error message: orders are named by their ids and references.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use laituri_protocol::{
    ErasureRequest, ErasureResult, Order, OrderInput, ReleaseOrdersRequest, ReleaseOrdersResult,
    paths,
};
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{Admin, Caller, JsonBody, QueryParams, RawBody, json_failure};
use super::integration::{page_limit, paged};
use super::{ApiFailure, AppState};
use crate::orders::{self, OrderFilter};

/// Creates an order (201), or finds the same (merchant, reference) sent before (200): unchanged,
/// or replaced while picking has not started (409 `order_in_progress` after).
pub async fn post_order(
    caller: Caller,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<OrderInput>,
) -> Result<Response, ApiFailure> {
    let input = orders::prepare(input).map_err(ApiFailure::bad_request)?;
    caller.may_touch(&input.merchant_id, &format!("order {:?}", input.reference))?;
    let (order, created) = state.store().put_order(&input).await?;
    state.poke_planner();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(order)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct OrderParams {
    modified_after: Option<i64>,
    after: Option<String>,
    limit: Option<u32>,
}

/// The `after` of the next page: the last order's change time and id.
fn order_after(o: &Order) -> String {
    format!("{}_{}", o.modified_at_ms, o.id)
}

fn parse_order_after(token: &str) -> Option<(i64, Uuid)> {
    let (ms, id) = token.split_once('_')?;
    Some((ms.parse().ok()?, Uuid::parse_str(id).ok()?))
}

/// Orders changed after `modified_after` (Unix ms, 0 when left out), oldest change first: a
/// merchant's system polls with the newest `modified_at_ms` it has seen.
pub async fn get_orders(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<OrderParams>,
) -> Result<Response, ApiFailure> {
    let after = match p.after.as_deref().filter(|a| !a.is_empty()) {
        Some(token) => Some(parse_order_after(token).ok_or_else(|| {
            ApiFailure::bad_request(
                "after is not an order page token: follow the Link header's next URL, or leave \
                 after out",
            )
        })?),
        None => None,
    };
    let filter = OrderFilter {
        modified_after: p.modified_after.unwrap_or(0),
        after,
        limit: page_limit(p.limit),
    };
    let items = state.store().orders(&filter, &caller.scope).await?;
    Ok(paged(&uri, items, filter.limit, order_after))
}

fn order_id(path: Result<Path<String>, PathRejection>) -> Result<Uuid, ApiFailure> {
    let Path(raw) = path.map_err(|e| ApiFailure::bad_request(e.body_text()))?;
    Uuid::parse_str(&raw).map_err(|_| {
        ApiFailure::bad_request(format!(
            "{raw:?} is not an order id: order ids are UUIDs as POST and GET {} answer them",
            paths::ORDERS
        ))
    })
}

fn not_known(id: Uuid) -> ApiFailure {
    ApiFailure::not_found(format!(
        "order {id} is not known: list the orders with GET {}",
        paths::ORDERS
    ))
}

pub async fn get_order(
    caller: Caller,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Order>, ApiFailure> {
    let id = order_id(path)?;
    match state.store().order(id, &caller.scope).await? {
        Some(o) => Ok(Json(o)),
        None => Err(not_known(id)),
    }
}

/// Cancels an order before picking starts; answers it (also when it was cancelled already).
pub async fn cancel_order(
    caller: Caller,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Order>, ApiFailure> {
    let id = order_id(path)?;
    match state.store().cancel_order(id, &caller.scope).await? {
        Some(o) => {
            state.poke_planner();
            Ok(Json(o))
        }
        None => Err(not_known(id)),
    }
}

/// Reserves stock for the orders waiting for it and releases the reserved ones into pick tasks
/// now (admin): a lead's wave, or a test's. Limits left out are the server's configured ones.
pub async fn release_orders(
    _: Admin,
    State(state): State<AppState>,
    RawBody(body): RawBody,
) -> Result<Json<ReleaseOrdersResult>, ApiFailure> {
    let req: ReleaseOrdersRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ReleaseOrdersRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| json_failure(&e, "the release's limits"))?
    };
    let mut policy = state.release_policy();
    policy.totes = req.totes.unwrap_or(policy.totes).max(1);
    policy.max_lines = req.max_lines.unwrap_or(policy.max_lines).max(1);
    policy.max_volume_ml = req.max_volume_ml.unwrap_or(policy.max_volume_ml);
    policy.max_weight_g = req.max_weight_g.unwrap_or(policy.max_weight_g);
    Ok(Json(state.store().plan_outbound(&policy).await?))
}

/// Erases the personal data of a customer's orders of one merchant (by e-mail, references or
/// both). The orders stay, with `erased_at_ms`.
pub async fn post_erasure(
    caller: Caller,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<ErasureRequest>,
) -> Result<Json<ErasureResult>, ApiFailure> {
    let merchant = match (req.merchant_id.as_deref(), caller.scope.merchant()) {
        (Some(m), _) => {
            caller.may_touch(m, "the erasure")?;
            m.to_string()
        }
        (None, Some(own)) => own.to_string(),
        (None, None) => {
            return Err(ApiFailure::bad_request(
                "an admin key must say whose orders: send merchant_id with the e-mail or the \
                 references",
            ));
        }
    };
    let email = req
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let references: Vec<String> = req
        .references
        .iter()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    if email.is_none() && references.is_empty() {
        return Err(ApiFailure::bad_request(
            "say whose data to erase: send the customer's email, the orders' references, or both",
        ));
    }
    if references.len() > 10_000 {
        return Err(ApiFailure::bad_request(
            "at most 10,000 references in one erasure: send the rest in another request",
        ));
    }
    let hash = email.map(orders::email_hash);
    let orders_erased = state
        .store()
        .erase_personal_data(&merchant, hash.as_deref(), &references)
        .await?;
    // The count only: which customer it was stays out of the log.
    tracing::info!(%merchant, orders_erased, "personal data erased");
    Ok(Json(ErasureResult { orders_erased }))
}
