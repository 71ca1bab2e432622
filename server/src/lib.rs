#![recursion_limit = "256"]
//! The Mailroom server: configuration, sled opening, the axum router and graceful shutdown.

use app::{api::ctx::ServerContext, error::AppError, shell, App};
use axum::{
    body::Body,
    extract::{FromRef, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sha2::{Digest, Sha256};
use std::{net::SocketAddr, path::PathBuf};
use tower_http::{
    compression::CompressionLayer, services::ServeDir, set_header::SetResponseHeaderLayer,
};

pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_DATA_DIR: &str = "./data";
/// The name Trunk gives the front end's files (`frontend.js`, `frontend_bg.wasm`).
pub const OUTPUT_NAME: &str = "frontend";
/// Files whose content hash versions the `/pkg/<hash>/` URLs.
const HASHED_ASSETS: [&str; 3] = ["frontend.js", "frontend_bg.wasm", "main.css"];

/// Where the site root is when `MAILROOM_SITE_ROOT` is not set: the workspace's `target/site`.
pub fn default_site_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site"))
}

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub site_root: PathBuf,
    /// How admins reach the server, for links in mails; `None`: http://LEPTOS_SITE_ADDR.
    pub public_url: Option<String>,
    /// MAILROOM_SECRET_KEY, if set (else the key file in the data dir).
    pub secret_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("LEPTOS_SITE_ADDR={value:?} is not an address and port like 127.0.0.1:3000")]
    Addr { value: String },
    #[error("MAILROOM_PUBLIC_URL={value:?} must start with http:// or https://")]
    PublicUrl { value: String },
}

impl Config {
    /// Reads `LEPTOS_SITE_ADDR`, `MAILROOM_DATA_DIR` and `MAILROOM_SITE_ROOT` through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let addr_text = var("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_string());
        let addr = addr_text.parse().map_err(|_| ConfigError::Addr { value: addr_text.clone() })?;
        Ok(Self {
            addr,
            data_dir: var("MAILROOM_DATA_DIR").map_or_else(|| DEFAULT_DATA_DIR.into(), PathBuf::from),
            site_root: var("MAILROOM_SITE_ROOT").map_or_else(default_site_root, PathBuf::from),
            public_url: match var("MAILROOM_PUBLIC_URL") {
                Some(u) if u.starts_with("http://") || u.starts_with("https://") => Some(u.trim_end_matches('/').to_string()),
                Some(value) => return Err(ConfigError::PublicUrl { value }),
                None => None,
            },
            secret_key: var("MAILROOM_SECRET_KEY"),
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub server: ServerContext,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// A short content hash of the built front end, or `None` when it has not been built.
/// It versions the asset URLs so browsers may cache them for a year.
pub fn asset_version(pkg_dir: &std::path::Path) -> Option<String> {
    let mut hasher = Sha256::new();
    for name in HASHED_ASSETS {
        hasher.update(std::fs::read(pkg_dir.join(name)).ok()?);
    }
    Some(hex::encode(&hasher.finalize()[..8]))
}

impl Config {
    /// The public URL, given the address actually bound.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }
}

/// Builds the whole application router around the server context (store, limits, setup token).
pub fn router(config: &Config, server_ctx: ServerContext) -> Router {
    let pkg_dir = config.site_root.join("pkg");
    let version = asset_version(&pkg_dir);
    if version.is_none() {
        tracing::warn!(dir = %pkg_dir.display(), "front end not built: pages render but will not hydrate (run `make build`)");
    }
    let site_pkg_dir = match &version {
        Some(v) => format!("pkg/{v}"),
        None => "pkg".to_string(),
    };
    let leptos_options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir(site_pkg_dir.clone())
        .site_addr(config.addr)
        .build();
    let state = AppState { leptos_options: leptos_options.clone(), server: server_ctx };
    let routes = generate_route_list(App);

    let precompressed = || ServeDir::new(&pkg_dir).precompressed_br().precompressed_gzip();
    // Versioned URLs never change content: cache them for a year.
    let immutable = Router::new().fallback_service(precompressed()).layer(SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    ));
    // Unversioned URLs must be revalidated.
    let revalidate = Router::new().fallback_service(precompressed()).layer(SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    ));
    let mut assets = Router::new();
    if let Some(v) = &version {
        assets = assets.nest_service(&format!("/pkg/{v}"), immutable);
    }
    assets = assets.nest_service("/pkg", revalidate);

    let ctx = state.server.clone();
    Router::new()
        .route("/", get(|| async { Redirect::to("/settings/mail") }))
        .leptos_routes_with_context(&state, routes, move || provide_context(ctx.clone()), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .merge(assets)
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
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
}

/// Pages anyone may open.
fn is_public(path: &str) -> bool {
    matches!(path, "/" | "/login" | "/setup" | "/forgot" | "/reset") || path.starts_with("/pkg/")
}

/// Server functions answer only same-origin requests; every page but the public ones needs a
/// session, else it redirects to the login page.
async fn guard(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/api/") {
        let h = req.headers();
        let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
        if !app::auth::same_origin(text("origin"), text("sec-fetch-site"), text("host")) {
            tracing::warn!(%path, origin = ?text("origin"), "cross-site server function call refused");
            let body = serde_json::to_string(&AppError::Forbidden("Cross-site request refused.".into())).unwrap_or_default();
            return (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        }
        return next.run(req).await;
    }
    if is_public(&path) {
        return next.run(req).await;
    }
    let store = state.server.store.clone();
    let id = app::auth::session_id_from_headers(req.headers());
    let valid = match id {
        Some(id) => tokio::task::spawn_blocking(move || app::auth::check_session(store.as_ref(), &id, app::auth::now_unix()))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten()
            .is_some(),
        None => false,
    };
    if valid {
        return next.run(req).await;
    }
    let target = req.uri().path_and_query().map_or(path.clone(), |p| p.to_string());
    let next_param: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next_param}")).into_response()
}

/// The router as a service that knows each client's address (the test rate limit needs it).
pub fn make_service(app: Router) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, SocketAddr> {
    app.into_make_service_with_connect_info::<SocketAddr>()
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
