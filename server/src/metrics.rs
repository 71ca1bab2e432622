//! `/metrics` in Prometheus' text format, on its own address (`MAILROOM_METRICS_LISTEN`, off
//! by default), so the admin panel's port never shows it. What is recorded, and its names, is
//! the engine's `metrics` module; here: the recorder (metrics-exporter-prometheus), the
//! figures read from the store at each scrape, the HTTP API's request counter, and the
//! listener. Counters are this instance's own (sum them across instances); the outbox's
//! figures come from the shared store (the same on every instance: take their max).

use app::{metrics as names, store::SharedStore};
use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::{sync::Arc, time::Duration};

/// How long the store may take to give its figures to a scrape.
const STORE_DEADLINE: Duration = Duration::from_secs(5);
/// How often histograms' samples are folded into their buckets between scrapes (bounded
/// memory when nobody scrapes).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The installed recorder and what a scrape reads.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    store: SharedStore,
    /// One scrape reads the store at a time; others wait for it.
    scrape: Arc<tokio::sync::Mutex<()>>,
}

/// Installs the process's recorder: from now on what the engine and the server record is
/// kept. Once per process.
pub fn install(store: SharedStore) -> Result<Metrics, String> {
    let seconds = |name: &str, buckets: &[f64]| (Matcher::Full(name.to_string()), buckets.to_vec());
    let mut builder = PrometheusBuilder::new();
    for (matcher, buckets) in [
        seconds(names::SEND_SECONDS, names::SEND_BUCKETS),
        seconds(names::HTTP_SECONDS, names::HTTP_BUCKETS),
    ] {
        builder = builder
            .set_buckets_for_metric(matcher, &buckets)
            .map_err(|e| format!("metrics: {e}"))?;
    }
    let handle = builder
        .install_recorder()
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
    names::describe();
    metrics::gauge!(names::BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(Metrics {
        handle,
        store,
        scrape: Arc::default(),
    })
}

/// The listener's routes: `/metrics` only.
pub fn routes(metrics: Metrics) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(metrics)
}

async fn scrape(State(metrics): State<Metrics>) -> Response {
    let _one = metrics.scrape.lock().await;
    match tokio::time::timeout(STORE_DEADLINE, read_store(&metrics.store)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: the store's figures could not be read");
            return unavailable("the store is unavailable");
        }
        Err(_) => return unavailable("the store does not answer"),
    }
    if let Some(rss) = resident_bytes() {
        metrics::gauge!(names::RSS).set(rss as f64);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        metrics.handle.render(),
    )
        .into_response()
}

/// A failed scrape: Prometheus records `up 0`, which is what an alert on Mailroom should see.
fn unavailable(reason: &'static str) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], reason).into_response()
}

async fn read_store(store: &SharedStore) -> Result<(), app::store::StoreError> {
    let now = app::clock::now_unix();
    let counts = store.count_by_state().await?;
    let oldest = store.oldest_due(now).await?;
    let control = store.outbox_control().await?;
    names::outbox_figures(
        &counts,
        oldest.map_or(0, |at| now.saturating_sub(at)),
        control.paused.map(|p| p.cause),
    );
    Ok(())
}

/// This process's resident memory, from `/proc/self/statm` (Linux).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// Counts each answered request to the HTTP API by its route (the router's pattern, never the
/// path itself) and status, and times it.
pub async fn track(route: MatchedPath, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    let route = route.as_str().to_string();
    let status = res.status().as_u16().to_string();
    metrics::counter!(names::HTTP_REQUESTS, "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!(names::HTTP_SECONDS, "route" => route).record(started.elapsed().as_secs_f64());
    res
}
