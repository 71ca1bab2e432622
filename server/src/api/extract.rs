//! How a request is read: the caller's token from `Authorization` (checked and counted against
//! its rate before the body is touched), then the body within [`MAX_BODY_BYTES`], as JSON.
//! The token comes as `Bearer TOKEN`, or as HTTP Basic's password (any user name), the way
//! Alertmanager's and Grafana's `basic_auth` send it.

use super::error::ApiError;
use crate::AppState;
use app::outbox::Origin;
use app::store::TokenRecord;
use axum::{
    body::Body,
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderMap, StatusCode},
};

/// The largest request body: a message's text and HTML (256 Ki characters each, most of them
/// one byte) and its envelope.
pub const MAX_BODY_BYTES: usize = 640 * 1024;
/// A token is 43 characters; anything much longer is not one.
const MAX_TOKEN_CHARS: usize = 256;
/// Note a token's use at most this often (the write is not flushed, but it is a write).
const TOUCH_EVERY_SECS: u64 = 60;

/// The token a request came with, checked and counted against its rate.
pub struct Caller(pub TokenRecord);

impl Caller {
    pub fn origin(&self) -> Origin {
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
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            unauthorized("Send the header `Authorization: Bearer TOKEN` (Settings › API Tokens).")
        })?;
        let token = bearer_or_basic(value)
            .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_CHARS)
            .ok_or_else(|| {
                unauthorized("The Authorization header must be `Bearer TOKEN`, or Basic with the token as the password.")
            })?;
        let token = token.as_str();
        let hash = app::auth::token_hash(token);
        let found = state.server.store.token_by_hash(&hash).await.map_err(ApiError::from_store)?;
        let Some(record) = found else {
            return Err(unauthorized(
                "This token is not known: it was revoked, or mistyped.",
            ));
        };
        if !record.scope.api() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "This token is for the SMTP listener only (Settings › API Tokens); make one for the HTTP API.",
            ));
        }
        let api = &state.api;
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
            // Not awaited: the request does not wait for this note.
            let store = state.server.store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.touch_token(&hash, now).await {
                    tracing::warn!(error = %e, "api: noting a token's use failed");
                }
            });
        }
        Ok(Caller(record))
    }
}

/// The token of `Authorization: Bearer TOKEN`, or the password of `Authorization: Basic …`.
fn bearer_or_basic(value: &axum::http::HeaderValue) -> Option<String> {
    use base64::Engine as _;
    let (scheme, rest) = value.to_str().ok()?.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_string());
    }
    if !scheme.eq_ignore_ascii_case("basic") || rest.len() > 4 * MAX_TOKEN_CHARS {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
    let (_, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some(password.trim().to_string())
}

/// The body, at most [`MAX_BODY_BYTES`]: 413 beyond, before reading when the length is declared.
pub async fn bytes_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes, ApiError> {
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
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|e| {
        // A body cut short by its timeout is an error too; only one over the limit is a 413.
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            too_large()
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("The body could not be read: {e}"),
            )
        }
    })
}

/// Whether the request declares its body as `media` (`application/json`).
pub fn declared_as(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(media))
}

/// `bytes` as JSON of type `T`: 400 with serde's reason when it is not.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("The body is not a valid request for this endpoint: {e}."),
        )
    })
}

/// `bytes` as a JSON object of type `T` (serde would also take a struct's fields as an array).
pub fn parse_object<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "The body must be a JSON object."));
    }
    parse_json(bytes)
}

/// The body as a JSON object of type `T`: declared as JSON, at most [`MAX_BODY_BYTES`].
pub async fn json_object<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: Body) -> Result<T, ApiError> {
    if !declared_as(headers, "application/json") {
        return Err(not_json());
    }
    parse_object(&bytes_body(headers, body).await?)
}

/// The body as JSON of type `T`: declared as JSON, at most [`MAX_BODY_BYTES`], well formed,
/// without unknown fields.
pub async fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    if !declared_as(headers, "application/json") {
        return Err(not_json());
    }
    parse_json(&bytes_body(headers, body).await?)
}

/// 415: the body is not declared as JSON.
pub fn not_json() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Send the body as JSON, with `Content-Type: application/json`.",
    )
}
