//! The Mailroom server: configuration, sled opening, the axum router and graceful shutdown.

use app::{api::ctx::ServerContext, shell, store::SharedStore, App};
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
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("LEPTOS_SITE_ADDR={value:?} is not an address and port like 127.0.0.1:3000")]
    Addr { value: String },
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

/// Builds the whole application router around an opened store.
pub fn router(config: &Config, store: SharedStore) -> Router {
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
    let state = AppState { leptos_options: leptos_options.clone(), server: ServerContext::new(store) };
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
        .with_state(state)
        .layer(CompressionLayer::new())
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
