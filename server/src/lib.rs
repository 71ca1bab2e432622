#![recursion_limit = "256"]
//! The Mailroom server: the axum router around the Leptos app. Configuration ([`config`]),
//! asset serving ([`assets`]), the session and origin guard ([`guard`]), error statuses
//! ([`errors`]), the HTTP API for other services ([`api`]), a mailbox's OAuth2 sign-in
//! ([`oauth`]), the probes `/livez` and `/readyz` ([`health`]), the log and request ids
//! ([`logs`]), `/metrics` on its own listener ([`metrics`]), serving with connection limits
//! ([`serve`]) and the command line ([`cli`]) each
//! have their own module; `main.rs` starts and stops the server.

pub mod api;
pub mod assets;
pub mod cli;
pub mod config;
pub mod control;
pub mod errors;
pub mod guard;
pub mod health;
pub mod logs;
pub mod memory;
pub mod metrics;
pub mod oauth;
pub mod provision;
pub mod serve;
pub mod smtp;

pub use config::{Config, ConfigError};

use app::{api::server::ServerContext, routes, shell, App};
use axum::{
    body::Body,
    extract::{FromRef, Request, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::{sync::Arc, time::Duration};
use tower_http::{
    compression::CompressionLayer, limit::RequestBodyLimitLayer, set_header::SetResponseHeaderLayer,
    timeout::RequestBodyTimeoutLayer, trace::TraceLayer,
};

/// sled logs one TRACE line from a closure that runs while a thread's locals are torn down
/// (crossbeam's epoch handle); the fmt layer's own thread-local buffer is gone by then, and its
/// panic there would abort the process. This filter, beside `RUST_LOG`'s, keeps sled at DEBUG
/// at most, whatever `RUST_LOG` asks, and lets everything else through.
pub fn quiet_sled() -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::LevelFilter;
    tracing_subscriber::filter::Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("sled", LevelFilter::DEBUG)
}

/// The largest request body: a settings form with a CA certificate is far below it.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// A request body must keep coming: at most this long between its parts.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub server: ServerContext,
    /// The HTTP API's limits in this process ([`api::Api`]).
    pub api: Arc<api::Api>,
    /// Whether this process is shutting down (`/readyz`).
    pub health: Arc<health::Health>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Builds the whole application router around the server context (store, limits, setup token).
pub fn router(config: &Config, server_ctx: ServerContext) -> Router {
    router_with(config, server_ctx, Arc::default())
}

/// [`router`], with the shutdown state `main` turns when a signal comes.
pub fn router_with(config: &Config, server_ctx: ServerContext, health: Arc<health::Health>) -> Router {
    let pkg_dir = config.site_root.join("pkg");
    let version = assets::asset_version(&pkg_dir);
    if version.is_none() {
        tracing::warn!(dir = %pkg_dir.display(), "front end not built: pages render but will not hydrate (run `make build`)");
    }
    let site_pkg_dir = version
        .as_ref()
        .map_or_else(|| "pkg".to_string(), |v| format!("pkg/{v}"));
    let leptos_options = LeptosOptions::builder()
        .output_name(assets::OUTPUT_NAME)
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir(site_pkg_dir)
        .site_addr(config.addr)
        .build();
    let state = AppState {
        leptos_options: leptos_options.clone(),
        server: server_ctx,
        api: Arc::new(api::Api::new(config.api.clone())),
        health,
    };
    let routes = generate_route_list(App);

    let ctx = state.server.clone();
    Router::new()
        .route("/", get(|| async { Redirect::to(routes::MAIL_SETTINGS) }))
        .leptos_routes_with_context(&state, routes, move || provide_context(ctx.clone()), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .merge(assets::routes(&pkg_dir, version.as_deref()))
        .merge(oauth::guarded_routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(axum::middleware::from_fn(errors::with_status))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // The HTTP API authorizes with its Bearer token (no cookies, so no cross-site risk) and
        // bounds its own bodies.
        .merge(api::routes().route_layer(axum::middleware::from_fn(metrics::track)))
        .merge(health::routes())
        // The provider's redirect back carries no session cookie (SameSite=Strict).
        .merge(oauth::public_routes())
        .with_state(state)
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        .layer(CompressionLayer::new())
        // Pages set their own Content-Security-Policy (with the render's nonce); everything else
        // gets the strictest one.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        // One span per request with its method, path and id only: query strings carry setup
        // and reset tokens, which must not reach a log. One line when it is answered.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| logs::span(req))
                .on_request(())
                .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        // Outside the span, so the span has the id.
        .layer(axum::middleware::from_fn(logs::request_id))
}

/// How often expired sessions, reset tokens and old outbox messages are removed.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(10 * 60);

/// Removes expired sessions and reset tokens, the outbox's old bodies and records (as
/// configured) and storm control's memory of long-resolved alerts, now and then every ten
/// minutes, while the server runs.
pub fn spawn_housekeeping(store: app::store::SharedStore, outbox: config::OutboxConfig) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
        loop {
            every.tick().await;
            let purged = async {
                let now = app::clock::now_unix();
                let day = 24 * 60 * 60;
                let sessions = app::auth::purge_expired(store.as_ref(), now).await?;
                let messages = store
                    .purge_outbox(
                        now.saturating_sub(outbox.keep_bodies_days * day),
                        now.saturating_sub(outbox.keep_days * day),
                    )
                    .await?;
                // Storm control forgets resolved alerts after the records' retention.
                store.purge_alerts(now.saturating_sub(outbox.keep_days * day)).await?;
                Ok::<_, app::store::StoreError>((sessions, messages))
            }
            .await;
            match purged {
                Ok((0, 0)) => {}
                Ok((sessions, messages)) => {
                    tracing::info!(
                        sessions,
                        messages,
                        "expired sessions, reset tokens and old messages removed"
                    )
                }
                Err(e) => tracing::error!(error = %e, "housekeeping failed"),
            }
        }
    });
}

/// Renders the app's 404 page for any path nothing else handles.
async fn not_found(State(state): State<AppState>, req: Request<Body>) -> Response {
    let options = state.leptos_options.clone();
    let ctx = state.server.clone();
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || provide_context(ctx.clone()),
        move || shell(options.clone()),
    );
    handler(req).await.into_response()
}
