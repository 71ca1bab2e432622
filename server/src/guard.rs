//! The guard in front of every route: server functions answer only same-origin requests, and
//! every page but the public ones (`app::routes`) needs a session, else it redirects to login;
//! for a page with a session it reads the outbox's health for the page's banner.

use crate::AppState;
use app::{error::AppError, routes};
use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

pub async fn guard(State(state): State<AppState>, mut req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with(routes::API_PREFIX) {
        let h = req.headers();
        let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
        if !app::auth::same_origin(text("origin"), text("sec-fetch-site"), &state.server.origins) {
            tracing::warn!(path = ?path, origin = ?text("origin"), "cross-site server function call refused");
            let body = serde_json::to_string(&AppError::Forbidden("Cross-site request refused.".into()))
                .unwrap_or_default();
            return (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response();
        }
        return next.run(req).await;
    }
    let session_id = app::auth::session_id_from_headers(req.headers());
    if routes::is_public(&path) {
        return next.run(req).await;
    }
    if let Some(admin) = session_admin(&state, session_id).await {
        // The admin pages' health banner, read once before the page renders.
        let health = app::api::activity::ssr::health(&state.server).await;
        req.extensions_mut().insert(app::api::activity::ssr::HealthNow(health));
        // The admin's language, if they chose one (else the shell asks the browser's).
        if let Ok(Some(record)) = state.server.store.get_admin(&admin).await {
            if let Some(lang) = app::store::admin_language(&record) {
                req.extensions_mut().insert(app::i18n::PageLang(lang));
            }
        }
        return next.run(req).await;
    }
    let target = req.uri().path_and_query().map_or(path.clone(), |p| p.to_string());
    let next_param: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
    Redirect::to(&format!("{}?next={next_param}", routes::LOGIN)).into_response()
}

/// The admin whose session the request carries, if it is valid.
async fn session_admin(state: &AppState, session_id: Option<String>) -> Option<String> {
    state.server.session_admin(session_id?).await
}
