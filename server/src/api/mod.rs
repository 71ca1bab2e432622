//! The HTTP API for the system's other services, under `/api/v1`: JSON in and out, each request
//! authorized by `Authorization: Bearer TOKEN` (Settings › API Tokens, or `mailroom token
//! create`), described by `/api/v1/openapi.json`, which [`openapi`] generates from the request
//! and answer types themselves. Reading a request is [`extract`]'s, every refusal's status is
//! [`error`]'s, the rules are [`rules`]'s; [`messages`] and [`alerts`] are the endpoints, and
//! [`webhooks`] the alerting tools' (Alertmanager, Grafana, Uptime Kuma, Zabbix).
//!
//! Bounds: a body may have [`extract::MAX_BODY_BYTES`] (413 beyond, checked before reading
//! when the length is declared); each token has its requests per minute (429 with
//! `Retry-After`); the store work runs within a bound (503 with `Retry-After` when it is
//! full). A request without a valid token is refused before its body is read. The limits'
//! values and their counters are [`limits`]'s.

pub mod alerts;
pub mod error;
pub mod extract;
pub mod limits;
pub mod messages;
pub mod openapi;
pub mod rules;
pub mod webhooks;

pub use alerts::{AlertAction, AlertAnswer, AlertRequest};
pub use error::{ApiError, ErrorBody, FieldError};
pub use limits::{Api, ApiSettings};
pub use messages::{Accepted, AttemptView, MessageRequest, MessageView, QueuedMessage};

use crate::AppState;
use app::ratelimit::GateError;
use axum::{
    http::{header, StatusCode},
    routing::{any, get, post},
    Router,
};

pub const PREFIX: &str = "/api/v1";

pub fn routes() -> Router<AppState> {
    // Generated once, when the router is built.
    let document = openapi::document();
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document) }),
        )
        .route("/api/v1/messages", post(messages::post_message))
        .route("/api/v1/messages/{id}", get(messages::get_message))
        .route("/api/v1/alerts", post(alerts::post_alert))
        .route("/api/v1/webhooks/alertmanager", post(webhooks::alertmanager::post))
        .route("/api/v1/webhooks/grafana", post(webhooks::grafana::post))
        .route("/api/v1/webhooks/uptime-kuma", post(webhooks::uptime_kuma::post))
        .route("/api/v1/webhooks/zabbix", post(webhooks::zabbix::post))
        .route("/api/v1", any(unknown))
        .route("/api/v1/{*rest}", any(unknown))
}

/// Whether mail settings are saved: read from storage until they are, then remembered (they
/// are never removed).
async fn configured(state: &AppState) -> Result<bool, ApiError> {
    use std::sync::atomic::Ordering;
    let api = &state.api;
    if api.configured.load(Ordering::Relaxed) {
        return Ok(true);
    }
    let saved = bounded(state, state.server.store.load_mail()).await?.is_some();
    if saved {
        api.configured.store(true, Ordering::Relaxed);
    }
    Ok(saved)
}

/// Mail cannot go out now: no settings yet, or the outbox paused on them.
async fn refuse_if_not_sending(state: &AppState) -> Result<(), ApiError> {
    if !configured(state).await? {
        return Err(ApiError::wait(
            StatusCode::SERVICE_UNAVAILABLE,
            "No mail server is set up yet: an admin must save Settings › Mail Server first.",
            60,
        ));
    }
    if let Some(pause) = state.server.outbox.paused().await {
        return Err(ApiError::wait(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Mail delivery is paused until an admin fixes Settings › Mail Server: {}",
                pause.reason
            ),
            60,
        ));
    }
    Ok(())
}

/// Runs a store call within the API's bound on storage work at once (503 beyond).
async fn bounded<T>(
    state: &AppState,
    work: impl std::future::Future<Output = Result<T, app::store::StoreError>>,
) -> Result<T, ApiError> {
    match state.api.work.run(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(ApiError::from_store(e)),
        Err(GateError::Busy) => Err(ApiError::busy()),
        Err(GateError::Failed) => Err(ApiError::internal("storage work failed")),
    }
}

async fn unknown() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "No such endpoint; /api/v1/openapi.json lists them.",
    )
}
