//! The HTTP face of the server: the axum router on the paths of [`laituri_protocol::paths`].
//!
//! It owns routing and the shared [`AppState`]. Handlers translate HTTP to calls of the async
//! [`Store`] and back; they must never hold business rules (those live in [`crate::push`] and
//! [`crate::master`]) and never block a runtime thread (a backend owns its own concurrency).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use laituri_protocol::{PROTOCOL_VERSION, paths};

use crate::outbound::ReleasePolicy;
use crate::planner::{Planner, Schedule};
use crate::shipping::Shipping;
use crate::store::Store;

mod counts;
mod device;
pub mod error;
pub mod extract;
mod integration;
pub mod limits;
mod orders;
mod webhooks;

pub use error::ApiFailure;
pub use limits::Limits;

/// The hand-written OpenAPI 3.1 description served at [`paths::OPENAPI`].
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// Large enough for a catalogue batch of tens of thousands of products (the integration API);
/// larger requests are refused with a message to split them.
const BODY_LIMIT: usize = 32 * 1024 * 1024;
/// A push: a terminal's batch of up to 2,000 events is about 1 MB. A larger body is refused
/// with 413, and the terminal halves its batch.
const PUSH_LIMIT: usize = 8 * 1024 * 1024;
/// An order (a thousand lines at most) or an erasure (ten thousand references at most).
const ORDER_LIMIT: usize = 1024 * 1024;
/// Enrolment and the lease calls carry a few hundred bytes: anything bigger is not a terminal.
const SMALL_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    admin_key: String,
    warehouse_id: String,
    warehouse_name: String,
    planner: Planner,
    schedule: Schedule,
    shipping: Shipping,
    webhooks: crate::webhooks::Settings,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        admin_key: String,
        warehouse_id: String,
        warehouse_name: String,
    ) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                store,
                admin_key,
                warehouse_id,
                warehouse_name,
                planner: Planner::default(),
                schedule: Schedule {
                    every: None,
                    ..Schedule::default()
                },
                shipping: Shipping::demo(),
                webhooks: crate::webhooks::Settings::default(),
            }),
        }
    }

    /// The same state planning orders by `schedule`.
    pub fn with_planning(self, schedule: Schedule) -> AppState {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| Inner {
            store: shared.store.clone(),
            admin_key: shared.admin_key.clone(),
            warehouse_id: shared.warehouse_id.clone(),
            warehouse_name: shared.warehouse_name.clone(),
            planner: shared.planner.clone(),
            schedule: shared.schedule,
            shipping: shared.shipping.clone(),
            webhooks: shared.webhooks.clone(),
        });
        AppState {
            inner: Arc::new(Inner { schedule, ..inner }),
        }
    }

    /// The same state booking parcels through `shipping`.
    pub fn with_shipping(self, shipping: Shipping) -> AppState {
        let planning = self.inner.schedule;
        let mut state = self.with_planning(planning);
        if let Some(inner) = Arc::get_mut(&mut state.inner) {
            inner.shipping = shipping;
        }
        state
    }

    /// The carrier and the sender's address of labels.
    pub fn shipping(&self) -> &Shipping {
        &self.inner.shipping
    }

    /// The same state checking webhook subscriptions by `settings`.
    pub fn with_webhooks(self, settings: crate::webhooks::Settings) -> AppState {
        let planning = self.inner.schedule;
        let mut state = self.with_planning(planning);
        if let Some(inner) = Arc::get_mut(&mut state.inner) {
            inner.webhooks = settings;
        }
        state
    }

    /// How webhooks are delivered (and so which URLs a subscription may name).
    pub fn webhook_settings(&self) -> &crate::webhooks::Settings {
        &self.inner.webhooks
    }

    /// The planner's run, to be spawned once with the server.
    pub fn planning(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let (planner, store, schedule) = (
            self.inner.planner.clone(),
            self.inner.store.clone(),
            self.inner.schedule,
        );
        planner.run(store, schedule)
    }

    /// Asks the planner for a run soon: orders or stock changed.
    pub fn poke_planner(&self) {
        self.inner.planner.poke();
    }

    /// What a cart takes, as configured.
    pub fn release_policy(&self) -> ReleasePolicy {
        self.inner.schedule.policy
    }

    /// The storage backend; its calls are async and never block a runtime thread.
    pub fn store(&self) -> &dyn Store {
        &*self.inner.store
    }

    /// The storage backend, for a task that runs beside the server (the webhook worker).
    pub fn shared_store(&self) -> Arc<dyn Store> {
        self.inner.store.clone()
    }
}

/// The router, with `limits` on request bodies and enrolment attempts. The limits on connections
/// (how many, how long a request head may take) are the server's, in `serve_state`.
pub fn router(state: AppState, limits: &Limits) -> Router {
    let return_path = format!("{}/{{return_id}}", paths::RETURNS);
    let receipt_path = format!("{}/{{receipt_id}}", paths::RECEIPTS);
    let operator_path = format!("{}/{{operator_id}}", paths::OPERATORS);
    let key_path = format!("{}/{{key_id}}", paths::API_KEYS);
    let code_path = format!("{}/{{code_id}}", paths::ENROLMENT_CODES);
    let order_path = format!("{}/{{order_id}}", paths::ORDERS);
    let cancel_path = format!("{}/{{order_id}}/cancel", paths::ORDERS);
    // Small bodies must come quickly; every other body gets the router's long deadline, which
    // only a device or admin whose token was checked before the body is read can use.
    let small_body = || middleware::from_fn_with_state(limits.small_body(), limits::body_in_time);
    let enrolments = Arc::new(limits::EnrolmentGate {
        limiter: limits::RateLimiter::new(limits.enrol_burst, limits.enrol_interval),
        trusted_proxies: limits.trusted_proxies.clone(),
    });
    Router::new()
        .route(paths::HEALTH, get(health))
        .route(paths::OPENAPI, get(openapi))
        .route(
            paths::ENROL,
            post(device::enrol)
                .layer(limit(SMALL_LIMIT))
                .layer(small_body())
                .layer(middleware::from_fn_with_state(
                    enrolments,
                    limits::limit_enrolment,
                )),
        )
        .route(
            paths::CONTINUE,
            post(device::continue_device)
                .layer(limit(SMALL_LIMIT))
                .layer(small_body()),
        )
        .route(paths::PUSH, post(device::push).layer(limit(PUSH_LIMIT)))
        .route(paths::PULL, get(device::pull))
        .route(
            paths::LEASE,
            post(device::lease)
                .layer(limit(SMALL_LIMIT))
                .layer(small_body()),
        )
        .route(
            paths::RENEW,
            post(device::renew)
                .layer(limit(SMALL_LIMIT))
                .layer(small_body()),
        )
        .route(
            paths::RELEASE,
            post(device::release)
                .layer(limit(SMALL_LIMIT))
                .layer(small_body()),
        )
        .route(
            paths::LABELS,
            post(device::labels)
                .layer(limit(SMALL_LIMIT))
                .layer(small_body()),
        )
        .route(paths::TASKS, get(integration::get_tasks))
        .route(
            paths::RELEASE_ORDERS,
            post(orders::release_orders).layer(limit(SMALL_LIMIT)),
        )
        .route(
            &operator_path,
            axum::routing::delete(integration::delete_operator),
        )
        .route(
            paths::MERCHANTS,
            get(integration::get_merchants).post(integration::post_merchants),
        )
        .route(
            paths::PRODUCTS,
            get(integration::get_products).post(integration::post_products),
        )
        .route(
            paths::LOCATIONS,
            get(integration::get_locations).post(integration::post_locations),
        )
        .route(
            paths::OPERATORS,
            get(integration::get_operators).post(integration::post_operators),
        )
        .route(
            paths::INBOUND_NOTICES,
            get(integration::get_notices).post(integration::post_notices),
        )
        .route(paths::STOCK, get(integration::get_stock))
        .route(paths::STOCK_LEVELS, get(integration::get_stock_levels))
        .route(paths::RECEIPTS, get(integration::get_receipts))
        .route(&receipt_path, get(integration::get_receipt))
        .route(paths::EXCEPTIONS, get(integration::get_exceptions))
        .route(
            paths::ENROLMENT_CODES,
            get(integration::get_enrolment_codes).post(integration::post_enrolment_code),
        )
        .route(
            paths::API_KEYS,
            get(integration::get_api_keys)
                .post(integration::post_api_key)
                .layer(limit(SMALL_LIMIT)),
        )
        .route(
            paths::ORDERS,
            get(orders::get_orders)
                .post(orders::post_order)
                .layer(limit(ORDER_LIMIT)),
        )
        .route(&order_path, get(orders::get_order))
        .route(
            &cancel_path,
            post(orders::cancel_order)
                .layer(limit(SMALL_LIMIT))
                .layer(small_body()),
        )
        .route(
            paths::ERASURES,
            post(orders::post_erasure).layer(limit(ORDER_LIMIT)),
        )
        .route(
            &code_path,
            axum::routing::delete(integration::delete_enrolment_code),
        )
        .route(paths::DEVICES, get(integration::get_devices))
        .route(
            &key_path,
            axum::routing::delete(integration::delete_api_key),
        )
        .merge(webhooks::routes())
        .route(
            paths::COUNT_PLANS,
            post(counts::post_count_plan).layer(limit(SMALL_LIMIT)),
        )
        .route(paths::RETURNS, get(integration::get_returns))
        .route(&return_path, get(integration::get_return))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            limits.large_body(),
            limits::body_in_time,
        ))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// A route's body limit, below the router's.
fn limit(bytes: usize) -> DefaultBodyLimit {
    DefaultBodyLimit::max(bytes)
}

async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    axum::Json(serde_json::json!({
        "status": "ok",
        "protocol_version": PROTOCOL_VERSION,
        "warehouse_id": state.inner.warehouse_id,
        "warehouse_name": state.inner.warehouse_name,
    }))
    .into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

async fn not_found(req: Request) -> ApiFailure {
    ApiFailure::not_found(format!(
        "there is no endpoint {} {}: see {} for the paths this server serves",
        req.method(),
        req.uri().path(),
        paths::OPENAPI
    ))
}

async fn method_not_allowed(req: Request) -> ApiFailure {
    ApiFailure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} does not accept {}: see {} for the methods of each path",
            req.uri().path(),
            req.method(),
            paths::OPENAPI
        ),
    )
}

/// One log line per request: method, path (never the query, which may name people), status, time.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if status.is_server_error() {
        tracing::warn!(%method, %path, status = status.as_u16(), ms, "request failed");
    } else {
        tracing::debug!(%method, %path, status = status.as_u16(), ms, "request");
    }
    resp
}
