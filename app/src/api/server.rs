//! What server functions share (server only): the server context and its [`current`] accessor,
//! the store ([`store`], async), password hashing through its gate ([`hashing`]), the request's
//! [`Session`], cookies, the client's address and safe redirects.

use crate::{
    error::AppError,
    ratelimit::{Gate, GateError, Window},
    routes,
    secrets::SecretBox,
    store::SharedStore,
};
use leptos::prelude::use_context;
use std::sync::Arc;

/// Tests per minute allowed for one admin session.
pub const TESTS_PER_MINUTE: u32 = 5;
/// Password-reset mails per minute for one client address.
pub const RESETS_PER_MINUTE: u32 = 3;

/// Everything the server hands to server functions through context. Cheap to clone.
#[derive(Clone)]
pub struct ServerContext {
    pub store: SharedStore,
    /// Seals device cookies (the same key as the secrets at rest).
    pub secrets: SecretBox,
    pub limits: Arc<Limits>,
    /// How admins reach this server (reset links), e.g. http://127.0.0.1:3000.
    pub public_url: String,
    /// The origins server functions answer (`auth::allowed_origins`).
    pub origins: Arc<Vec<url::Origin>>,
    /// The worker delivering the system's own mail.
    pub outbox: crate::delivery::Outbox,
    /// After how long of failing deliveries every admin page says so
    /// (`MAILROOM_OUTBOX_ALARM_MINUTES`).
    pub failing_alarm_secs: u64,
    /// While the mail settings come from the configuration (`MAILROOM_SMTP_*` or
    /// `MAILROOM_SETTINGS_FILE`): what set each field given. Empty: the page edits them.
    pub managed: Arc<Vec<(crate::domain::Field, String)>>,
    /// The SMTP listener's addresses (host:port as a program would use them) and their
    /// security, for Settings › API Tokens; empty when it is off.
    pub smtp_listeners: Arc<Vec<(String, String)>>,
    /// The language of mail whose recipient did not choose one (`MAILROOM_MAIL_LANGUAGE`).
    pub mail_language: crate::templates::Lang,
}

/// [`ServerContext::failing_alarm_secs`] unless configured: 15 minutes.
pub const FAILING_ALARM_SECS: u64 = 15 * 60;

/// The rate limits of the server functions.
pub struct Limits {
    /// "Test Email Server", per admin account.
    pub tests: Window,
    /// Reset mails, per client address.
    pub resets: Window,
    /// Password hashing: one at a time per core, a few waiting, the rest refused (503).
    pub hashing: Gate,
}

/// Hashes waiting for a core before more are refused at once.
const HASHES_WAITING: usize = 16;
/// The longest a hash waits for a core.
const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl ServerContext {
    pub fn new(
        store: SharedStore,
        secrets: SecretBox,
        public_url: String,
        outbox: crate::delivery::Outbox,
    ) -> Self {
        Self {
            store,
            secrets,
            limits: Arc::new(Limits {
                tests: Window::per_minute(TESTS_PER_MINUTE),
                resets: Window::per_minute(RESETS_PER_MINUTE),
                hashing: Gate::per_core(HASHES_WAITING, HASH_WAIT),
            }),
            origins: Arc::new(crate::auth::allowed_origins(&public_url)),
            public_url,
            outbox,
            failing_alarm_secs: FAILING_ALARM_SECS,
            managed: Arc::default(),
            smtp_listeners: Arc::default(),
            mail_language: crate::templates::Lang::En,
        }
    }

    /// The same context, saying where the SMTP listener is.
    pub fn with_smtp_listeners(mut self, listeners: Vec<(String, String)>) -> Self {
        self.smtp_listeners = Arc::new(listeners);
        self
    }

    /// The same context with the mail settings managed by the configuration.
    pub fn with_managed(mut self, managed: Vec<(crate::domain::Field, String)>) -> Self {
        self.managed = Arc::new(managed);
        self
    }

    /// The same context with another language for mail whose recipient did not choose one.
    pub fn with_mail_language(mut self, lang: crate::templates::Lang) -> Self {
        self.mail_language = lang;
        self
    }

    /// The same context with another alarm threshold for failing deliveries.
    pub fn with_failing_alarm(mut self, secs: u64) -> Self {
        self.failing_alarm_secs = secs;
        self
    }

    /// Cookies get the Secure flag when admins reach the server over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The server context of this request; an error (never a panic) if the server forgot it.
pub fn current() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>()
        .ok_or_else(|| AppError::internal("server context missing", "ServerContext not provided"))
}

/// The store of this request's server. Its methods are async and do their own blocking work
/// off the runtime; its errors become their [`AppError`] with `?` (`From<StoreError>`).
pub fn store() -> Result<SharedStore, AppError> {
    Ok(current()?.store)
}

impl ServerContext {
    /// The admin whose session `id` is, while it is valid.
    pub async fn session_admin(&self, id: String) -> Option<String> {
        let now = crate::clock::now_unix();
        crate::auth::check_session(self.store.as_ref(), &id, now).await.ok().flatten()
    }
}

/// Runs password hashing or checking through the hashing gate: bounded concurrency, bounded
/// wait, refused with 503 beyond. Storage is read before and written after, outside the gate.
pub async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    match current()?.limits.hashing.run(work).await {
        Ok(result) => Ok(result),
        Err(GateError::Busy) => Err(AppError::Overloaded { retry_after_secs: 1 }),
        Err(GateError::Failed) => Err(AppError::internal(
            "password hashing failed",
            "the hashing task panicked",
        )),
    }
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
    let admin = crate::auth::check_session(store()?.as_ref(), &id, crate::clock::now_unix())
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    Ok(Session { admin, key })
}

/// The language this request's words are in, provided for [`crate::i18n::tr`]: the page's
/// when a page is rendering; for a server function called by a page's script, the admin's
/// choice, else the browser's `Accept-Language`, else English.
pub async fn speak() -> crate::templates::Lang {
    use crate::i18n::PageLang;
    if let Some(PageLang(lang)) = use_context::<PageLang>() {
        return lang;
    }
    let chosen = match (session().await, current()) {
        (Ok(session), Ok(ctx)) => ctx.store.get_admin(&session.admin).await.ok().flatten().as_ref().and_then(crate::store::admin_language),
        _ => None,
    };
    let lang = chosen
        .or_else(|| use_context::<http::request::Parts>().map(|parts| crate::i18n::request_lang(&parts)))
        .unwrap_or_default();
    leptos::prelude::provide_context(PageLang(lang));
    lang
}

/// The language of mail the admin `email` asks for (a test, the queue's test): their own
/// choice, else the configured default.
pub async fn admin_mail_language(email: &str) -> Result<crate::templates::Lang, AppError> {
    let ctx = current()?;
    let admin = ctx.store.get_admin(email).await?;
    Ok(admin.as_ref().and_then(crate::store::admin_language).unwrap_or(ctx.mail_language))
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

/// The request's headers.
pub fn headers() -> Option<http::HeaderMap> {
    use_context::<http::request::Parts>().map(|p| p.headers)
}

pub async fn client_ip() -> Result<std::net::IpAddr, AppError> {
    let axum::extract::ConnectInfo(peer) =
        leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .await
            .map_err(|e| AppError::internal("reading the client address failed", e))?;
    Ok(peer.ip())
}

/// Where to go after logging in: `next` if it is a path on this site, else Settings › Mail
/// Server. `next` is parsed as a URL relative to this site (the WHATWG rules a browser applies
/// to a Location header: tabs and newlines dropped, backslashes as slashes), kept only if it
/// stays on this site, and returned re-serialized, so it is plain percent-encoded ASCII: never
/// an open redirect, never an invalid header.
pub fn safe_next(next: Option<&str>) -> String {
    let base = url::Url::parse("http://mailroom.invalid/").expect("a valid base URL");
    let on_site = |n: &str| {
        let target = base.join(n).ok()?;
        if target.origin() != base.origin() || !n.starts_with('/') {
            return None;
        }
        let mut path = target.path().to_string();
        if let Some(query) = target.query() {
            path.push('?');
            path.push_str(query);
        }
        // "//host" would be read as another site.
        (path.starts_with('/') && !path.starts_with("//")).then_some(path)
    };
    next.and_then(on_site)
        .unwrap_or_else(|| routes::MAIL_SETTINGS.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site_whatever_it_holds() {
        assert_eq!(safe_next(Some("/settings/mail?x=1")), "/settings/mail?x=1");
        assert_eq!(safe_next(Some("/a b")), "/a%20b");
        assert_eq!(safe_next(None), routes::MAIL_SETTINGS);
        let hostile = [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "\t//evil.example",
            "/\n/evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/.//evil.example",
            "/%2e%2e//evil.example",
            "evil.example",
            "",
            "/\u{0}",
            " //evil.example",
            "http:evil.example",
            "/..//evil.example",
            "/\r\n/evil.example",
        ];
        for n in hostile {
            let out = safe_next(Some(n));
            assert!(
                out.starts_with('/') && !out.starts_with("//") && !out.starts_with("/\\"),
                "{n:?} -> {out:?}"
            );
            assert!(
                http::HeaderValue::from_str(&out).is_ok(),
                "{n:?} -> {out:?} is not a header value"
            );
            assert!(!out.contains("evil.example"), "{n:?} -> {out:?}");
        }
        // Every control character, anywhere.
        for c in (0u8..0x20).chain([0x7f]) {
            for n in [
                format!("/{}x", c as char),
                format!("{}//evil.example", c as char),
                format!("/x?{}", c as char),
            ] {
                let out = safe_next(Some(&n));
                assert!(
                    http::HeaderValue::from_str(&out).is_ok() && !out.starts_with("//"),
                    "{n:?} -> {out:?}"
                );
            }
        }
    }
}
