//! The one error type of every HTTP answer: an HTTP status with an [`ApiError`] JSON body.
//!
//! It owns the mapping from [`StoreError`] to status codes and the wording of transport-level
//! failures (bad JSON, bad auth, wrong protocol). It must never answer anything but `ApiError`
//! JSON, and never put internal details (SQL, paths) in a message meant for the floor; those go to
//! the log.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use laituri_protocol::ApiError;

use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiFailure {
    pub status: StatusCode,
    pub error: ApiError,
}

impl ApiFailure {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiFailure {
        ApiFailure {
            status,
            error: ApiError {
                code: code.to_string(),
                message: message.into(),
                expected_seq: None,
            },
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(detail: impl std::fmt::Display) -> ApiFailure {
        tracing::error!(%detail, "internal error");
        ApiFailure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to handle this request: try again later, and if it keeps \
             failing tell the warehouse's IT (the server log has the details)",
        )
    }
}

impl From<StoreError> for ApiFailure {
    fn from(e: StoreError) -> ApiFailure {
        match e {
            StoreError::Gap { expected } => {
                let mut f = ApiFailure::new(StatusCode::CONFLICT, "gap", e.to_string());
                f.error.expected_seq = Some(expected);
                f
            }
            StoreError::Invalid(message) => ApiFailure::bad_request(message),
            StoreError::Conflict { code, message } => {
                ApiFailure::new(StatusCode::CONFLICT, code, message)
            }
            StoreError::NotFound { code, message } => {
                ApiFailure::new(StatusCode::NOT_FOUND, code, message)
            }
            StoreError::UnknownEnrolmentCode(_) => ApiFailure::new(
                StatusCode::UNAUTHORIZED,
                "bad_enrolment_code",
                e.to_string(),
            ),
            StoreError::Contention(ref message)
            | StoreError::Backend {
                ref message,
                transient: true,
            } => {
                tracing::warn!(%message, "storage busy");
                ApiFailure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the server is busy: send the same request again in a moment",
                )
            }
            StoreError::Backend { message, .. } => ApiFailure::internal(message),
        }
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        (self.status, Json(self.error)).into_response()
    }
}
