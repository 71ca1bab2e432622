//! A mailbox's OAuth2 sign-in as HTTP routes (the work is in `app::api::oauth`):
//! [`routes::OAUTH_START`] behind the session guard redirects an admin to the provider;
//! [`routes::OAUTH_CALLBACK`], without one (the provider's redirect carries no SameSite=Strict
//! cookie; its single-use `state` names the admin), connects the mailbox and answers a page.

use crate::AppState;
use app::api::oauth::ssr::{finish, start, Callback, Outcome};
use app::{pages::oauth::sign_in_page, routes};
use axum::{
    extract::{rejection::QueryRejection, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
    Router,
};

/// Styles only from this site; no script, no frames, no forms.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The routes behind the session guard.
pub fn guarded_routes() -> Router<AppState> {
    Router::new().route(routes::OAUTH_START, get(sign_in))
}

/// The routes anyone may reach.
pub fn public_routes() -> Router<AppState> {
    Router::new().route(routes::OAUTH_CALLBACK, get(callback))
}

/// The browser's language: the callback carries no session to ask the admin's, and the start's
/// answer is the same page.
fn browser_lang(headers: &HeaderMap) -> engine::templates::Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(engine::i18n::negotiate)
        .unwrap_or_default()
}

/// The page in the browser's language.
fn page(state: &AppState, headers: &HeaderMap, outcome: &Outcome) -> Response {
    let lang = browser_lang(headers);
    let status = match outcome {
        Outcome::Connected { .. } => StatusCode::OK,
        Outcome::Failed { status, .. } => StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
    };
    let css = app::stylesheet_href(&state.leptos_options);
    (
        status,
        [
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(sign_in_page(outcome, &css, lang)),
    )
        .into_response()
}

/// "Sign in with …": the guard let only a session through; a link from another site is
/// refused too (SameSite=Strict already keeps the cookie from such a request).
async fn sign_in(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let failed = |status: u16, message: String| page(&state, &headers, &Outcome::Failed { status, message });
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return failed(403, engine::i18n::text(browser_lang(&headers), "oauth-cross-site"));
    }
    let admin = match app::auth::session_id_from_headers(&headers) {
        Some(id) => state.server.session_admin(id).await,
        None => None,
    };
    let Some(admin) = admin else {
        return Redirect::to(routes::LOGIN).into_response();
    };
    match start(&state.server, &admin, browser_lang(&headers)).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => {
            let mut response = failed(e.status(), e.to_string());
            if let Some(secs) = e.retry_after() {
                response.headers_mut().insert(header::RETRY_AFTER, secs.into());
            }
            response
        }
    }
}

/// The provider's redirect back: `state` and `code`, or `error`. A query that cannot be read
/// (a part twice, bytes that are not UTF-8) gets the same page as an unknown state.
async fn callback(State(state): State<AppState>, headers: HeaderMap, query: Result<Query<Callback>, QueryRejection>) -> Response {
    let outcome = match query {
        Ok(Query(query)) => finish(&state.server, query, browser_lang(&headers)).await,
        Err(_) => finish(&state.server, Callback::default(), browser_lang(&headers)).await,
    };
    page(&state, &headers, &outcome)
}
