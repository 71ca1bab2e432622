//! The log: plain lines, or JSON lines with `MAILROOM_LOG_FORMAT=json` (one object per event,
//! with its span's fields), on stderr; and each request's id. A request keeps the id its proxy
//! sent in `X-Request-Id` when that is a plain token (letters, digits, `-`, `_`, `.`, `:`, at
//! most [`MAX_ID_CHARS`]), else gets a new one; the answer carries it back, and every line
//! logged while the request runs names it. A line never holds a query string (setup and reset
//! tokens travel in them), a body, or a secret.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The longest request id taken from a proxy.
pub const MAX_ID_CHARS: usize = 128;

/// The request's id, in its extensions for the handlers and the span.
#[derive(Clone, Debug)]
pub struct RequestId(pub HeaderValue);

/// Starts the log: `json` (`MAILROOM_LOG_FORMAT=json`) or plain lines, filtered by `RUST_LOG`.
pub fn init(format: Option<&str>) -> Result<(), String> {
    let json = match format.map(str::trim) {
        None | Some("") | Some("text") => false,
        Some("json") => true,
        Some(other) => return Err(format!("MAILROOM_LOG_FORMAT={other:?}: use `json` or `text`")),
    };
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = if json {
        fmt.json().flatten_event(true).with_current_span(true).with_span_list(false).boxed()
    } else {
        fmt.boxed()
    };
    tracing_subscriber::registry()
        .with(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with(crate::quiet_sled())
        .with(fmt)
        .init();
    Ok(())
}

/// Whether a proxy's id can be kept as it is.
fn acceptable(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_ID_CHARS
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Gives the request its id (the proxy's, or a new random one) and the answer the same.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .filter(|id| acceptable(id))
        .cloned()
        .unwrap_or_else(|| {
            // 132 random bits, URL-safe characters only.
            let id = &app::auth::random_token()[..22];
            HeaderValue::from_str(id).expect("URL-safe base64 is a header value")
        });
    req.headers_mut().insert(REQUEST_ID, id.clone());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.run(req).await;
    res.headers_mut().insert(REQUEST_ID, id);
    res
}

/// The span of one request: its method, path (never the query) and id.
pub fn span(req: &Request) -> tracing::Span {
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.0.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_kept() {
        for kept in ["abc-123", "4bf92f3577b34da6a3ce929d0e0e4736", "lb:1.2_3"] {
            assert!(acceptable(&HeaderValue::from_static(kept)), "{kept}");
        }
        let long = "a".repeat(MAX_ID_CHARS + 1);
        for refused in ["", "a b", "x\"y", "{\"json\":1}", long.as_str()] {
            assert!(!acceptable(&HeaderValue::from_str(refused).unwrap()), "{refused}");
        }
    }
}
