//! What server functions share (server only): the server context and its [`current`] accessor,
//! storage off the async runtime ([`storage`]), the request's [`Session`], cookies, the
//! client's address and safe redirects.

use crate::{
    error::AppError,
    ratelimit::{Backoff, Window},
    routes,
    store::{SharedStore, Store, StoreError},
};
use leptos::prelude::use_context;
use std::sync::{Arc, Mutex};

/// Tests per minute allowed for one admin session.
pub const TESTS_PER_MINUTE: u32 = 5;
/// Password-reset mails per minute for one client address.
pub const RESETS_PER_MINUTE: u32 = 3;

/// Everything the server hands to server functions through context. Cheap to clone.
#[derive(Clone)]
pub struct ServerContext {
    pub store: SharedStore,
    pub limits: Arc<Limits>,
    /// SHA-256 of the one-time setup token, while no admin exists.
    pub setup_token: Arc<Mutex<Option<String>>>,
    /// How admins reach this server (reset links), e.g. http://127.0.0.1:3000.
    pub public_url: String,
}

/// The rate limits of the server functions.
pub struct Limits {
    /// "Test Email Server", per admin session.
    pub tests: Window,
    /// Reset mails, per client address.
    pub resets: Window,
    /// Failed logins, per account and per client address.
    pub logins: Backoff,
}

impl ServerContext {
    pub fn new(store: SharedStore, public_url: String) -> Self {
        Self {
            store,
            limits: Arc::new(Limits {
                tests: Window::per_minute(TESTS_PER_MINUTE),
                resets: Window::per_minute(RESETS_PER_MINUTE),
                logins: Backoff::default(),
            }),
            setup_token: Default::default(),
            public_url,
        }
    }

    /// Cookies get the Secure flag when admins reach the server over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The setup token's hash, if setup is still open.
    pub fn setup_token(&self) -> Option<String> {
        self.setup_token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_setup_token(&self, hash: Option<String>) {
        *self.setup_token.lock().unwrap_or_else(|p| p.into_inner()) = hash;
    }
}

/// The server context of this request; an error (never a panic) if the server forgot it.
pub fn current() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>()
        .ok_or_else(|| AppError::internal("server context missing", "ServerContext not provided"))
}

/// Runs blocking storage work (and anything else slow, like password hashing) off the async
/// runtime. Storage errors become their [`AppError`] in one place (`From<StoreError>`).
pub async fn storage<T: Send + 'static>(
    f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, AppError> {
    let store = current()?.store;
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| AppError::internal("a storage task failed", e))?
        .map_err(AppError::from)
}

/// The logged-in admin of this request.
#[derive(Clone, Debug)]
pub struct Session {
    pub admin: String,
    /// The session's key in storage: the SHA-256 of its id (the id lives only in the cookie).
    pub key: String,
}

/// This request's session, or `NotAuthenticated` (and no data).
pub async fn session() -> Result<Session, AppError> {
    let parts = use_context::<http::request::Parts>().ok_or(AppError::NotAuthenticated)?;
    let id = crate::auth::session_id_from_headers(&parts.headers).ok_or(AppError::NotAuthenticated)?;
    let key = crate::auth::token_hash(&id);
    let admin = storage(move |s| crate::auth::check_session(s, &id, crate::clock::now_unix()))
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    Ok(Session { admin, key })
}

/// Adds a Set-Cookie header to the response.
pub fn set_cookie(value: String) {
    if let (Some(resp), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&value),
    ) {
        resp.append_header(http::header::SET_COOKIE, v);
    }
}

pub async fn client_ip() -> Result<std::net::IpAddr, AppError> {
    let axum::extract::ConnectInfo(peer) =
        leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .await
            .map_err(|e| AppError::internal("reading the client address failed", e))?;
    Ok(peer.ip())
}

/// Only local paths: never an open redirect.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| routes::MAIL_SETTINGS.to_string())
}
