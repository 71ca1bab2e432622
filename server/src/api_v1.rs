//! The HTTP API for the system's other services, under `/api/v1`: JSON in and out, each request
//! authorized by `Authorization: Bearer TOKEN` (Settings › API Tokens, or `mailroom token
//! create`), described by `/api/v1/openapi.json`. The rules and the alert mail are
//! `app::notify`'s; this module reads requests, maps every refusal to its status and answers.
//!
//! Bounds: a body may have [`MAX_BODY_BYTES`] (413 beyond, checked before reading when the
//! length is declared); each token has its requests per minute (429 with `Retry-After`); the
//! durable writes run on a bounded pool (503 with `Retry-After` when it is full). A request
//! without a valid token is refused before its body is read.

use crate::AppState;
use app::notify::{self, AlertRequest, FieldError, MessageRequest};
use app::outbox::{Message, MessageId, Origin, State as MessageState};
use app::ratelimit::GateError;
use app::store::{Enqueued, TokenRecord};
use axum::{
    body::Body,
    extract::{FromRequestParts, Path, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{any, get, post},
    Json, Router,
};
use serde::Serialize;

pub const PREFIX: &str = "/api/v1";
/// The largest request body: a message's text and HTML (256 KiB each) and its envelope.
pub const MAX_BODY_BYTES: usize = 640 * 1024;
/// A token is 43 characters; anything much longer is not one.
const MAX_TOKEN_CHARS: usize = 256;
/// Note a token's use at most this often (the write is not flushed, but it is a write).
const TOUCH_EVERY_SECS: u64 = 60;

/// The OpenAPI 3.1 document, written by hand beside this module; a test checks that its paths
/// are this router's and that its examples are accepted.
pub const OPENAPI: &str = include_str!("openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/messages", post(post_message))
        .route("/api/v1/messages/{id}", get(get_message))
        .route("/api/v1/alerts", post(post_alert))
        .route("/api/v1", any(unknown))
        .route("/api/v1/{*rest}", any(unknown))
}

/// Every refusal: its status, what to fix, the fields at fault, and how long to wait.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: String,
    fields: Vec<FieldError>,
    retry_after: Option<u64>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    fields: &'a [FieldError],
}

impl ApiError {
    fn new(status: StatusCode, error: impl Into<String>) -> Self {
        Self {
            status,
            error: error.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    fn invalid(fields: Vec<FieldError>) -> Self {
        Self {
            fields,
            ..Self::new(StatusCode::BAD_REQUEST, "Some fields are not valid; see `fields`.")
        }
    }

    fn wait(status: StatusCode, error: impl Into<String>, secs: u64) -> Self {
        Self {
            retry_after: Some(secs.max(1)),
            ..Self::new(status, error)
        }
    }

    fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!(error = %what, "api: request failed inside the server");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "The server failed; the error is in its log.")
    }

    /// A storage refusal as its status: the disk near full is 507, the outbox at its bound
    /// 503, both with `Retry-After`; anything else is a fault.
    fn from_store(e: app::store::StoreError) -> Self {
        match app::error::AppError::from(e) {
            app::error::AppError::Internal(what) => Self::new(StatusCode::INTERNAL_SERVER_ERROR, what),
            refused => Self {
                retry_after: refused.retry_after(),
                ..Self::new(
                    StatusCode::from_u16(refused.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    refused.to_string(),
                )
            },
        }
    }

    fn busy() -> Self {
        Self::wait(
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is busy with other requests; try again shortly.",
            1,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: &self.error,
            fields: &self.fields,
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"mailroom\""));
        }
        res
    }
}

/// The token a request came with, checked and counted against its rate.
pub struct Caller(TokenRecord);

impl Caller {
    fn origin(&self) -> Origin {
        Origin::Token {
            id: self.0.id,
            name: self.0.name.clone(),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, why);
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("Send the header `Authorization: Bearer TOKEN` (Settings › API Tokens)."))?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_CHARS)
            .ok_or_else(|| unauthorized("The Authorization header must be `Bearer TOKEN`."))?;
        let hash = app::auth::token_hash(token);
        let store = state.server.store.clone();
        let found = tokio::task::spawn_blocking(move || store.token_by_hash(&hash).map(|t| (t, hash)))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        let (Some(record), hash) = found else {
            return Err(unauthorized("This token is not known: it was revoked, or mistyped."));
        };
        let api = &state.server.api;
        api.calls
            .check(&record.id.to_string(), std::time::Instant::now())
            .map_err(|secs| {
                ApiError::wait(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "This token made {} requests in the last minute, its limit; wait {secs} s.",
                        api.settings.requests_per_minute
                    ),
                    secs,
                )
            })?;
        let now = app::clock::now_unix();
        if record.last_used.is_none_or(|at| at + TOUCH_EVERY_SECS <= now) {
            let store = state.server.store.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = store.touch_token(&hash, now) {
                    tracing::warn!(error = %e, "api: noting a token's use failed");
                }
            });
        }
        Ok(Caller(record))
    }
}

/// The body as JSON of type `T`: declared as JSON, at most [`MAX_BODY_BYTES`], well formed,
/// without unknown fields.
async fn json_body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: Body) -> Result<T, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the body as JSON, with `Content-Type: application/json`.",
        ));
    }
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The body may have at most {} KiB.", MAX_BODY_BYTES / 1024),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|e| {
        // A body cut short by its timeout is an error too; only one over the limit is a 413.
        if std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
        {
            too_large()
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, format!("The body could not be read: {e}"))
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("The body is not a valid request for this endpoint: {e}."),
        )
    })
}

/// Whether mail settings are saved: read from storage until they are, then remembered (they
/// are never removed).
async fn configured(state: &AppState) -> Result<bool, ApiError> {
    use std::sync::atomic::Ordering;
    let api = &state.server.api;
    if api.configured.load(Ordering::Relaxed) {
        return Ok(true);
    }
    let saved = storage(state, |s| Ok(s.load_mail()?.is_some())).await?;
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
    if let Some(pause) = state.server.outbox.paused() {
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

/// Runs storage work on the API's bounded pool.
async fn storage<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&dyn app::store::Store) -> Result<T, app::store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = state.server.store.clone();
    match state.server.api.work.run(move || work(store.as_ref())).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(ApiError::from_store(e)),
        Err(GateError::Busy) => Err(ApiError::busy()),
        Err(GateError::Failed) => Err(ApiError::internal("storage work panicked")),
    }
}

#[derive(Serialize)]
struct QueuedMessage {
    id: MessageId,
    to: String,
}

#[derive(Serialize)]
struct Accepted {
    messages: Vec<QueuedMessage>,
    /// True when the idempotency key was seen before: these are the messages it created then.
    replayed: bool,
}

async fn post_message(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let request: MessageRequest = json_body(&headers, body).await?;
    let valid = request.validate(&caller.origin()).map_err(ApiError::invalid)?;
    refuse_if_not_sending(&state).await?;
    // Keys are the token's own: another service's key never answers this one.
    let key = valid.idempotency_key.as_ref().map(|k| format!("{}:{k}", caller.0.id));
    let recipients: Vec<String> = valid.messages.iter().map(|m| m.to.clone()).collect();
    let now = app::clock::now_unix();
    let outbox = state.server.outbox.clone();
    let enqueued = storage(&state, move |s| outbox.submit_in(s, valid.messages, key.as_deref(), now)).await?;
    let (replayed, ids) = match enqueued {
        Enqueued::New(ids) => (false, ids),
        Enqueued::Existing(ids) => (true, ids),
    };
    let messages = if replayed {
        // The first request's recipients, from the records.
        let wanted = ids.clone();
        storage(&state, move |s| {
            wanted
                .iter()
                .map(|id| Ok(s.message(*id)?.map(|m| QueuedMessage { id: *id, to: m.to })))
                .filter_map(Result::transpose)
                .collect::<Result<Vec<_>, _>>()
        })
        .await?
    } else {
        ids.into_iter()
            .zip(recipients)
            .map(|(id, to)| QueuedMessage { id, to })
            .collect()
    };
    Ok((StatusCode::ACCEPTED, Json(Accepted { messages, replayed })))
}

#[derive(Serialize)]
struct AttemptView {
    at: String,
    step: String,
    code: Option<u16>,
    enhanced_status: Option<String>,
    text: String,
}

#[derive(Serialize)]
struct MessageView {
    id: MessageId,
    to: String,
    subject: String,
    state: &'static str,
    created_at: String,
    /// When a deferred message is tried again.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_attempt_at: Option<String>,
    attempts: Vec<AttemptView>,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            state: m.state.name(),
            created_at: app::clock::rfc3339(m.created_at),
            next_attempt_at: (m.state == MessageState::Deferred).then(|| app::clock::rfc3339(m.not_before)),
            attempts: m
                .attempts
                .into_iter()
                .map(|a| AttemptView {
                    at: a.at,
                    step: a.step,
                    code: a.code,
                    enhanced_status: a.enhanced_status,
                    text: a.text,
                })
                .collect(),
            to: m.to,
            subject: m.subject,
        }
    }
}

async fn get_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    let id: MessageId = id.parse().map_err(|_| {
        ApiError::new(StatusCode::BAD_REQUEST, "A message id is a whole number, as POST /api/v1/messages answered it.")
    })?;
    let message = storage(&state, move |s| s.message(id)).await?;
    // A token sees the messages it asked for, no others (not even that they exist).
    match message {
        Some(m) if matches!(&m.origin, Origin::Token { id, .. } if *id == caller.0.id) => Ok(Json(m.into())),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, format!("No message {id} was sent with this token."))),
    }
}

#[derive(Serialize)]
struct AlertAnswer {
    alert_key: String,
    state: notify::AlertState,
    results: Vec<notify::AlertAction>,
}

async fn post_alert(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<AlertAnswer>), ApiError> {
    let request: AlertRequest = json_body(&headers, body).await?;
    let valid = request.validate().map_err(ApiError::invalid)?;
    refuse_if_not_sending(&state).await?;
    let repeat = state.server.api.settings.alert_repeat_secs;
    let origin = caller.origin();
    let now = app::clock::now_unix();
    let answer = AlertAnswer {
        alert_key: valid.alert.alert_key.clone(),
        state: valid.alert.state,
        results: Vec::new(),
    };
    let outbox = state.server.outbox.clone();
    let results = storage(&state, move |s| notify::queue_alert(&outbox, s, &valid, &origin, repeat, now)).await?;
    let queued = results.iter().any(|r| matches!(r, notify::AlertAction::Queued { .. }));
    let status = if queued { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(AlertAnswer { results, ..answer })))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn unknown() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "No such endpoint; /api/v1/openapi.json lists them.",
    )
}
