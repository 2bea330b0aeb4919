//! The integration API of webhook subscriptions and their delivery log ([`crate::webhooks`]).
//!
//! A merchant's key sees and changes only its own merchant's subscriptions and deliveries:
//! another merchant's id answers 404, as if it did not exist. An admin key sees every
//! merchant's and names the merchant when it subscribes. A subscription's secret is answered
//! once, by the POST that made it, and never again; URLs are checked (http or https, no
//! credentials, the loopback rule) before anything is stored.

use axum::Json;
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use laituri_protocol::{NewWebhook, Webhook, WebhookDelivery, WebhookInput, paths};
use uuid::Uuid;

use super::extract::{Caller, JsonBody, QueryParams};
use super::integration::{PageParams, paged};
use super::{ApiFailure, AppState, SMALL_LIMIT, limit};
use crate::webhooks::{self, CheckFailure, WebhookToStore};

/// The routes of [`paths::WEBHOOKS`].
pub fn routes() -> Router<AppState> {
    let one = format!("{}/{{webhook_id}}", paths::WEBHOOKS);
    let deliveries = format!("{one}/deliveries");
    let redeliver = format!("{deliveries}/{{delivery_id}}/redeliver");
    Router::new()
        .route(
            paths::WEBHOOKS,
            get(list).post(create).layer(limit(SMALL_LIMIT)),
        )
        .route(
            &one,
            get(show)
                .put(change)
                .delete(delete)
                .layer(limit(SMALL_LIMIT)),
        )
        .route(&deliveries, get(delivery_log))
        .route(&redeliver, post(redeliver_one).layer(limit(SMALL_LIMIT)))
}

fn refused(e: CheckFailure) -> ApiFailure {
    match e {
        CheckFailure::Bad(m) => ApiFailure::bad_request(m),
        CheckFailure::Forbidden(m) => ApiFailure::forbidden(m),
    }
}

fn id_of(raw: &str, what: &str) -> Result<Uuid, ApiFailure> {
    Uuid::parse_str(raw).map_err(|_| {
        let shown: String = raw.chars().take(60).collect();
        ApiFailure::bad_request(format!(
            "{shown:?} is not a {what} id: ids are UUIDs as GET {} answers them",
            paths::WEBHOOKS
        ))
    })
}

fn webhook_id(path: Result<Path<String>, PathRejection>) -> Result<Uuid, ApiFailure> {
    let Path(raw) = path.map_err(|e| ApiFailure::bad_request(e.body_text()))?;
    id_of(&raw, "webhook")
}

fn not_known(id: Uuid) -> ApiFailure {
    ApiFailure::not_found(format!(
        "webhook {id} is not known: list the subscriptions with GET {}",
        paths::WEBHOOKS
    ))
}

pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Response, ApiFailure> {
    let page = p.page_of_ids("a webhook")?;
    let items = state.store().webhooks(&page, &caller.scope).await?;
    Ok(paged(&uri, items, page.limit, |w: &Webhook| {
        w.id.to_string()
    }))
}

/// Subscribes (201): the secret is in this answer only.
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<WebhookInput>,
) -> Result<Response, ApiFailure> {
    let checked =
        webhooks::check_input(input, &caller.scope, state.webhook_settings()).map_err(refused)?;
    let Some(merchant_id) = checked.merchant_id else {
        return Err(ApiFailure::bad_request(
            "an admin key must say whose events: send merchant_id with the subscription",
        ));
    };
    let secret = checked.secret.unwrap_or_else(webhooks::new_secret);
    let listed = Webhook {
        id: Uuid::now_v7(),
        merchant_id,
        url: checked.url,
        event_types: checked.event_types,
        active: checked.active,
        // The store's clock stamps it.
        created_at_ms: 0,
    };
    let stored = state
        .store()
        .create_webhook(&WebhookToStore {
            listed,
            secret: secret.clone(),
        })
        .await?;
    tracing::info!(webhook = %stored.id, merchant = %stored.merchant_id, "webhook subscribed");
    Ok((
        StatusCode::CREATED,
        Json(NewWebhook {
            secret,
            listed: stored,
        }),
    )
        .into_response())
}

pub async fn show(
    caller: Caller,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Webhook>, ApiFailure> {
    let id = webhook_id(path)?;
    match state.store().webhook(id, &caller.scope).await? {
        Some(w) => Ok(Json(w)),
        None => Err(not_known(id)),
    }
}

/// Changes a subscription's URL, event types and state (and its secret when one is sent).
pub async fn change(
    caller: Caller,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    JsonBody(input): JsonBody<WebhookInput>,
) -> Result<Json<Webhook>, ApiFailure> {
    let id = webhook_id(path)?;
    let checked = webhooks::check_input(input, &caller.scope, state.webhook_settings()).map_err(
        |e| match e {
            // Another merchant's id or merchant: as if the subscription did not exist.
            CheckFailure::Forbidden(_) => not_known(id),
            other => refused(other),
        },
    )?;
    match state
        .store()
        .change_webhook(id, &checked, &caller.scope)
        .await?
    {
        Some(w) => Ok(Json(w)),
        None => Err(not_known(id)),
    }
}

/// Unsubscribes (204): the subscription and its delivery log go; nothing more is delivered.
pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiFailure> {
    let id = webhook_id(path)?;
    if state.store().delete_webhook(id, &caller.scope).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_known(id))
    }
}

/// The delivery log of one subscription, oldest first.
pub async fn delivery_log(
    caller: Caller,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Response, ApiFailure> {
    let id = webhook_id(path)?;
    let page = p.page_of_ids("a delivery")?;
    match state
        .store()
        .webhook_deliveries(id, &page, &caller.scope)
        .await?
    {
        Some(items) => Ok(paged(&uri, items, page.limit, |d: &WebhookDelivery| {
            d.id.to_string()
        })),
        None => Err(not_known(id)),
    }
}

/// Delivers one delivery again from now, whatever it came to before: the same event id and body.
pub async fn redeliver_one(
    caller: Caller,
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<WebhookDelivery>, ApiFailure> {
    let Path((raw_webhook, raw_delivery)) =
        path.map_err(|e| ApiFailure::bad_request(e.body_text()))?;
    let id = id_of(&raw_webhook, "webhook")?;
    let delivery = id_of(&raw_delivery, "delivery")?;
    match state.store().redeliver(id, delivery, &caller.scope).await? {
        Some(d) => Ok(Json(d)),
        None => Err(ApiFailure::not_found(format!(
            "delivery {delivery} of webhook {id} is not known: list the deliveries with GET {}/{id}/deliveries",
            paths::WEBHOOKS
        ))),
    }
}
