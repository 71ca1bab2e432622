//! `/livez` and `/readyz`, as Kubernetes and load balancers probe them, without a session and
//! without anything that could leak: `/livez` says the process answers; `/readyz` says this
//! instance should get traffic: the store answers within [`STORE_DEADLINE`] and takes writes
//! (not below its disk reserve), and the server is not shutting down. At SIGTERM readiness
//! turns 503 at once while the server keeps serving for `MAILROOM_SHUTDOWN_DELAY_SECS`, so a
//! balancer stops sending before the listener closes.

use crate::AppState;
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long the store may take to answer a readiness probe.
pub const STORE_DEADLINE: Duration = Duration::from_secs(2);

/// Whether this process is shutting down; shared by the router and `main`.
#[derive(Debug, Default)]
pub struct Health {
    draining: AtomicBool,
}

impl Health {
    /// From now on `/readyz` answers 503.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/livez", get(live)).route("/readyz", get(ready))
}

#[derive(serde::Serialize)]
struct Status {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

fn answer(code: StatusCode, status: &'static str, reason: Option<&'static str>) -> Response {
    let mut res = (code, Json(Status { status, reason })).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    if code == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(5));
    }
    res
}

async fn live() -> Response {
    answer(StatusCode::OK, "live", None)
}

async fn ready(State(state): State<AppState>) -> Response {
    let not_ready = |reason| answer(StatusCode::SERVICE_UNAVAILABLE, "not ready", Some(reason));
    if state.health.draining() {
        return not_ready("shutting down");
    }
    match tokio::time::timeout(STORE_DEADLINE, state.server.store.ready()).await {
        Ok(Ok(())) => {}
        Ok(Err(app::store::StoreError::NoSpace { .. })) => {
            return not_ready("the store refuses writes (disk nearly full)")
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the store is not ready");
            return not_ready("the store is unavailable or takes no writes");
        }
        Err(_) => return not_ready("the store does not answer"),
    }
    answer(StatusCode::OK, "ready", None)
}
