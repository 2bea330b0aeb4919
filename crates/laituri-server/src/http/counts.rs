//! The integration API of counts: a lead's plan of counts (admin only), which makes count
//! tasks by the rules of [`crate::counts::plan`].

use axum::Json;
use axum::extract::State;
use laituri_protocol::{CountPlan, CountPlanSummary};

use super::extract::{Admin, RawBody, json_failure};
use super::{ApiFailure, AppState};

/// Makes count tasks by a lead's plan (a zone, an aisle, a merchant, products, bins not counted
/// in N days; an empty body counts every bin that holds stock). Asking twice makes no second
/// task for a location whose count is open.
pub async fn post_count_plan(
    _: Admin,
    State(state): State<AppState>,
    RawBody(body): RawBody,
) -> Result<Json<CountPlanSummary>, ApiFailure> {
    let plan: CountPlan = if body.iter().all(u8::is_ascii_whitespace) {
        CountPlan::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| json_failure(&e, "the count plan"))?
    };
    Ok(Json(state.store().plan_counts(&plan).await?))
}
