//! The device API: enrolment, push and pull.
//!
//! It owns the order of checks of a device call: protocol version, token, body, the token's device
//! against the body's, the batch's seqs; then one store call. It must never apply an event itself
//! (that is [`crate::push`], inside the store's transaction).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use laituri_protocol::{
    ContinueRequest, ContinueResponse, EnrolRequest, EnrolResponse, LabelRequest, LeaseRequest,
    LeaseResponse, PROTOCOL_VERSION, PullQuery, PullResponse, PushRequest, PushResponse,
    ReleaseRequest, RenewRequest, RenewResponse, ShipmentLabels,
};

use super::extract::{
    DeviceAuth, JsonBody, QueryParams, check_protocol, presented_token_hash, version_failure,
};
use super::{ApiFailure, AppState};
use crate::enrolment::{new_token, token_hash};
use crate::shipping::{self, LabelFailure};

/// Changes per pull page when the terminal does not say.
pub const DEFAULT_PULL_LIMIT: u32 = 500;
/// Upper bound of a pull page: bounds the server's memory per request whatever the catalogue size.
pub const MAX_PULL_LIMIT: u32 = 5000;

pub async fn enrol(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<EnrolRequest>,
) -> Result<Json<EnrolResponse>, ApiFailure> {
    check_protocol(&headers)?;
    if req.protocol_version != PROTOCOL_VERSION {
        return Err(version_failure(&req.protocol_version.to_string()));
    }
    // A device that still has its token may send it instead of a code (see `EnrolRequest`).
    let presented = presented_token_hash(&headers);
    if req.enrolment_code.trim().is_empty() && presented.is_none() {
        return Err(ApiFailure::bad_request(
            "the enrolment code is empty: type or scan the code a shift lead gives you",
        ));
    }
    let token = new_token();
    let hash = token_hash(&token);
    let device_id = req.device_id;
    let last_seq = state
        .store()
        .enrol_device(&req, &hash, presented.as_deref())
        .await?;
    tracing::info!(%device_id, last_seq, "device enrolled");
    Ok(Json(EnrolResponse {
        token,
        warehouse_id: state.inner.warehouse_id.clone(),
        warehouse_name: state.inner.warehouse_name.clone(),
        last_seq,
    }))
}

/// `POST CONTINUE`: a device whose database was restored from a backup goes on under a new id.
/// Its current token proves it (a retired device's too, so a retry after a lost answer works).
pub async fn continue_device(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<ContinueRequest>,
) -> Result<Json<ContinueResponse>, ApiFailure> {
    check_protocol(&headers)?;
    if req.protocol_version != PROTOCOL_VERSION {
        return Err(version_failure(&req.protocol_version.to_string()));
    }
    let Some(presented) = presented_token_hash(&headers) else {
        return Err(ApiFailure::unauthorized(
            "continuing a device needs the device's token (Authorization: Bearer <token>)",
        ));
    };
    let token = new_token();
    let hash = token_hash(&token);
    let continued = state
        .store()
        .continue_device(&presented, req.device_id, &req.device_name, &hash)
        .await?;
    let Some(continued) = continued else {
        return Err(ApiFailure::unauthorized(
            "the device's token is not valid, so it cannot continue under a new id: enrol the \
             terminal again with an enrolment code",
        ));
    };
    tracing::warn!(
        device_id = %req.device_id,
        continues = %continued.continues,
        "a device continues under a new id: its database was restored from a backup"
    );
    Ok(Json(ContinueResponse {
        device_id: req.device_id,
        continues: continued.continues,
        token,
        last_seq: continued.last_seq,
    }))
}

pub async fn push(
    auth: DeviceAuth,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<PushRequest>,
) -> Result<Json<PushResponse>, ApiFailure> {
    if req.device_id != auth.device_id {
        return Err(ApiFailure::forbidden(format!(
            "this token belongs to device {}, but the push is for device {}: a terminal pushes \
             only its own events with its own token",
            auth.device_id, req.device_id
        )));
    }
    // A batch with holes or out of order is refused (400) by the push rules, before anything
    // is applied; see `push::check_batch`.
    let device_id = req.device_id;
    let resp = state.store().push(device_id, &req.events).await?;
    if !req.events.is_empty() {
        // Stock may have arrived or been found missing: orders may go on.
        state.poke_planner();
    }
    Ok(Json(resp))
}

pub async fn pull(
    auth: DeviceAuth,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<PullQuery>,
) -> Result<Json<PullResponse>, ApiFailure> {
    let limit = q
        .limit
        .unwrap_or(DEFAULT_PULL_LIMIT)
        .clamp(1, MAX_PULL_LIMIT);
    let cursor = q.cursor;
    let device = auth.device_id;
    Ok(Json(state.store().pull(device, cursor, limit).await?))
}

/// `POST LEASE`: 200 with the work packet; 409 `task_taken` while another device holds an
/// unexpired lease, 409 `task_finished` for a done task, 404 `unknown_task` / `no_task`.
pub async fn lease(
    auth: DeviceAuth,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<LeaseRequest>,
) -> Result<Json<LeaseResponse>, ApiFailure> {
    let device = auth.device_id;
    let packet = state.store().lease(device, &req).await?;
    Ok(Json(LeaseResponse { packet }))
}

/// `POST LABELS`: the labels of an order's parcels, booked with the carrier when the order is
/// packed and not yet booked; 409 `not_packed` while the station's events have not reached the
/// server (the station asks again), 422 `carrier_refused` when the carrier will not take the
/// shipment (a lead fixes the order), 503 `carrier_unavailable` (asked again later).
pub async fn labels(
    _auth: DeviceAuth,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<LabelRequest>,
) -> Result<Json<ShipmentLabels>, ApiFailure> {
    let failure = match shipping::labels(state.store(), state.shipping(), req.order_id).await {
        Ok(labels) => return Ok(Json(labels)),
        Err(LabelFailure::Store(e)) => return Err(e.into()),
        Err(failure) => failure,
    };
    let (status, code) = match &failure {
        LabelFailure::UnknownOrder(_) => (StatusCode::NOT_FOUND, "unknown_order"),
        LabelFailure::NotPacked { .. } => (StatusCode::CONFLICT, "not_packed"),
        LabelFailure::Erased(_) => (StatusCode::GONE, "personal_data_erased"),
        LabelFailure::Refused { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "carrier_refused"),
        LabelFailure::CarrierDown(_) | LabelFailure::Store(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "carrier_unavailable")
        }
    };
    Err(ApiFailure::new(status, code, failure.to_string()))
}

/// `POST RENEW`: 200 with the leases renewed and the ones lost (never an error per lease).
pub async fn renew(
    auth: DeviceAuth,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<RenewRequest>,
) -> Result<Json<RenewResponse>, ApiFailure> {
    let device = auth.device_id;
    Ok(Json(state.store().renew(device, &req).await?))
}

/// `POST RELEASE`: 204; releasing a lease the device no longer holds changes nothing.
pub async fn release(
    auth: DeviceAuth,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<ReleaseRequest>,
) -> Result<StatusCode, ApiFailure> {
    let device = auth.device_id;
    state.store().release(device, &req.claim).await?;
    Ok(StatusCode::NO_CONTENT)
}
