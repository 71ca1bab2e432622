//! Every refusal of the HTTP API as its status and body: what to fix, the fields at fault, how
//! long to wait (`Retry-After`), and the Bearer challenge on a 401.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoResponses, ToSchema};

/// The body of every refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// What went wrong and what to do.
    pub error: String,
    /// The fields that break a rule (400 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// The refusals of every request with a token, for the OpenAPI document: the token, its rate.
#[derive(IntoResponses)]
#[allow(dead_code)] // Only describes answers.
pub enum CallerRefusals {
    #[response(status = 401, description = "No token, or not a known one.")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "The token is for the SMTP listener only.")]
    Forbidden(ErrorBody),
    #[response(status = 429, description = "This token's requests per minute are used up; see `Retry-After`.")]
    TooManyRequests(ErrorBody),
}

/// The refusals of every request that queues mail, for the OpenAPI document: its body, the
/// outbox, the disk.
#[derive(IntoResponses)]
#[allow(dead_code)] // Only describes answers.
pub enum WriteRefusals {
    #[response(status = 400, description = "A field breaks a rule (see `fields`), or the body is not this request.")]
    BadRequest(ErrorBody),
    #[response(status = 413, description = "The body is larger than 640 KiB.")]
    TooLarge(ErrorBody),
    #[response(status = 415, description = "The body is not declared as JSON.")]
    NotJson(ErrorBody),
    #[response(status = 503, description = "No mail settings saved yet, delivery paused, or the server busy; see `Retry-After`.")]
    Unavailable(ErrorBody),
    #[response(status = 507, description = "The server's disk is nearly full; see `Retry-After`.")]
    InsufficientStorage(ErrorBody),
}

/// The refusals of an alerting tool's webhook, for the OpenAPI document. No 429: the tools
/// drop a notification on any 4xx, so a token past its rate is told 503 with `Retry-After`.
#[derive(IntoResponses)]
#[allow(dead_code)] // Only describes answers.
pub enum WebhookRefusals {
    #[response(status = 400, description = "The body is not this tool's notification, or a `to` address is not valid (see `fields`).")]
    BadRequest(ErrorBody),
    #[response(status = 401, description = "No token, not a known one, or (Grafana) a wrong signature.")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "The token is for the SMTP listener only.")]
    Forbidden(ErrorBody),
    #[response(status = 413, description = "The body is larger than 640 KiB.")]
    TooLarge(ErrorBody),
    #[response(status = 415, description = "The body is not declared as JSON (or, for Uptime Kuma, form data).")]
    NotJson(ErrorBody),
    #[response(status = 503, description = "No mail settings saved yet, delivery paused, the server busy, or the token past its rate; see `Retry-After`. The tool retries.")]
    Unavailable(ErrorBody),
    #[response(status = 507, description = "The server's disk is nearly full; see `Retry-After`.")]
    InsufficientStorage(ErrorBody),
}

/// One field that breaks a rule: its path in the request (`to[2]`, `subject`) and what to fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// e.g. `to[2]`, `subject`
    pub field: String,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: error.into(),
                fields: Vec::new(),
            },
            retry_after: None,
        }
    }

    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "Some fields are not valid; see `fields`.",
        );
        e.body.fields = fields;
        e
    }

    pub fn wait(status: StatusCode, error: impl Into<String>, secs: u64) -> Self {
        Self {
            retry_after: Some(secs.max(1)),
            ..Self::new(status, error)
        }
    }

    pub fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!(error = %what, "api: request failed inside the server");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server failed; the error is in its log.",
        )
    }

    /// A storage refusal as its status: the disk near full is 507, the outbox at its bound
    /// 503, both with `Retry-After`; anything else is a fault.
    pub fn from_store(e: app::store::StoreError) -> Self {
        match app::error::AppError::from(e) {
            app::error::AppError::Internal(what) => Self::internal(what),
            refused => Self {
                retry_after: refused.retry_after(),
                ..Self::new(
                    StatusCode::from_u16(refused.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    refused.to_string(),
                )
            },
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// For an alerting tool's webhook: a 429 becomes 503 with the same wait, since the tools
    /// drop a notification on any 4xx and retry only a 5xx.
    pub fn retryable(self) -> Self {
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            Self { status: StatusCode::SERVICE_UNAVAILABLE, ..self }
        } else {
            self
        }
    }

    pub fn busy() -> Self {
        Self::wait(
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is busy with other requests; try again shortly.",
            1,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"mailroom\""),
            );
        }
        res
    }
}
