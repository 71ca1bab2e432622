//! Serving the built front end: `/pkg/<content-hash>/…` cached for a year (immutable), plain
//! `/pkg/…` revalidated, the precompressed `.br`/`.gz` beside each file preferred.

use axum::{http::header, http::HeaderValue, Router};
use sha2::{Digest, Sha256};
use std::path::Path;
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

/// The name Trunk gives the front end's files (`frontend.js`, `frontend_bg.wasm`).
pub const OUTPUT_NAME: &str = "frontend";
/// Files whose content hash versions the `/pkg/<hash>/` URLs.
const HASHED_ASSETS: [&str; 4] = ["frontend.js", "frontend_bg.wasm", "main.css", "page.js"];

/// A short content hash of the built front end, or `None` when it has not been built.
pub fn asset_version(pkg_dir: &Path) -> Option<String> {
    let mut hasher = Sha256::new();
    for name in HASHED_ASSETS {
        hasher.update(std::fs::read(pkg_dir.join(name)).ok()?);
    }
    Some(hex::encode(&hasher.finalize()[..8]))
}

/// The asset routes for `pkg_dir`, versioned under `/pkg/<version>` when there is a version.
pub fn routes<S: Clone + Send + Sync + 'static>(pkg_dir: &Path, version: Option<&str>) -> Router<S> {
    let with_cache_control = |value: &'static str| {
        Router::new()
            .fallback_service(ServeDir::new(pkg_dir).precompressed_br().precompressed_gzip())
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static(value),
            ))
    };
    let mut assets = Router::new();
    if let Some(v) = version {
        // Versioned URLs never change content.
        assets = assets.nest_service(
            &format!("/pkg/{v}"),
            with_cache_control("public, max-age=31536000, immutable"),
        );
    }
    assets.nest_service("/pkg", with_cache_control("no-cache"))
}
