//! Server-function errors answered with their proper HTTP status. server_fn answers every error
//! with 500; this reads the `AppError` in such an answer and sets the status it stands for
//! (`AppError::status`: 400, 401, 403, 409, 413, 429, 503; 500 only for a fault inside the
//! server) and `Retry-After` where there is a wait. Answers to forms posted without JavaScript
//! are redirects and pass untouched.

use app::error::AppError;
use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::Response,
};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

/// An error answer is a short JSON document; anything longer is passed on as it is.
const MAX_ERROR_BYTES: usize = 64 * 1024;

pub async fn with_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Some(secs) = error.retry_after() {
            parts.headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
