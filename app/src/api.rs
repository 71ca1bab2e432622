//! Server functions: the only way the browser reads or writes settings.

use crate::domain::{MailServerForm, SavedLogin};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the page needs to show the saved settings. Never holds the password.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MailSettingsView {
    /// 0 when nothing has been saved yet.
    pub version: u64,
    /// RFC 3339, UTC.
    pub saved_at: Option<String>,
    pub form: MailServerForm,
    /// Whether a password is stored (its value stays on the server).
    pub password_saved: bool,
    /// The login the saved password belongs to: a blank password keeps it only for this login.
    pub saved_login: Option<SavedLogin>,
    pub tests: crate::store_types::TestHistory,
    /// The latest saves, newest first.
    pub audit: Vec<crate::store_types::AuditEntry>,
    /// The admin viewing the page.
    pub admin: String,
}

#[cfg(feature = "ssr")]
impl MailSettingsView {
    fn from_record(
        rec: Option<crate::store::Versioned<crate::store::MailSettingsRecord>>,
        tests: crate::store_types::TestHistory,
    ) -> Self {
        match rec {
            Some(rec) => Self {
                version: rec.version,
                saved_at: Some(rec.saved_at),
                form: rec.value.to_form(),
                password_saved: !rec.value.password.is_empty(),
                saved_login: Some(rec.value.login()),
                tests,
                audit: Vec::new(),
                admin: String::new(),
            },
            None => Self { tests, ..Self::default() },
        }
    }
}

#[cfg(feature = "ssr")]
pub mod ctx {
    //! Context accessors for server functions: they fail with an error when the server forgot
    //! to provide something instead of panicking.
    use crate::{error::AppError, store::SharedStore};
    use leptos::prelude::use_context;

    /// Everything the server hands to server functions through context.
    #[derive(Clone)]
    pub struct ServerContext {
        pub store: SharedStore,
        pub test_limiter: std::sync::Arc<super::RateLimiter>,
        pub reset_limiter: std::sync::Arc<super::RateLimiter>,
        pub throttle: std::sync::Arc<crate::auth::Throttle>,
        /// SHA-256 of the one-time setup token, while no admin exists.
        pub setup_token: std::sync::Arc<std::sync::Mutex<Option<String>>>,
        /// How admins reach this server (reset links), e.g. http://127.0.0.1:3000.
        pub public_url: String,
    }

    impl ServerContext {
        pub fn new(store: SharedStore, public_url: String) -> Self {
            Self {
                store,
                test_limiter: std::sync::Arc::new(super::RateLimiter::new(super::TESTS_PER_MINUTE)),
                reset_limiter: std::sync::Arc::new(super::RateLimiter::new(super::RESETS_PER_MINUTE)),
                throttle: Default::default(),
                setup_token: Default::default(),
                public_url,
            }
        }

        /// Cookies get the Secure flag when admins reach the server over https.
        pub fn secure_cookies(&self) -> bool {
            self.public_url.starts_with("https://")
        }
    }

    pub fn server() -> Result<ServerContext, AppError> {
        use_context::<ServerContext>()
            .ok_or_else(|| AppError::internal("server context missing", "ServerContext not provided"))
    }
}

/// Runs blocking storage work off the async runtime.
#[cfg(feature = "ssr")]
async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce(&dyn crate::store::SettingsStore) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<Result<T, crate::store::StoreError>, AppError> {
    let store = ctx::server()?.store;
    tokio::task::spawn_blocking(move || f(store.as_ref())).await.map_err(|e| AppError::internal(what, e))
}

/// The admin of this request's session, or `NotAuthenticated` (and no data).
#[cfg(feature = "ssr")]
pub async fn require_admin() -> Result<String, AppError> {
    require_session().await.map(|(email, _)| email)
}

/// The admin and the stored key (hash) of this request's session.
#[cfg(feature = "ssr")]
async fn require_session() -> Result<(String, String), AppError> {
    let parts = use_context::<http::request::Parts>().ok_or(AppError::NotAuthenticated)?;
    let id = crate::auth::session_id_from_headers(&parts.headers).ok_or(AppError::NotAuthenticated)?;
    let key = crate::auth::token_hash(&id);
    let email = blocking("checking the session failed", move |s| crate::auth::check_session(s, &id, crate::auth::now_unix()))
        .await?
        .map_err(|e| AppError::internal("checking the session failed", e))?
        .ok_or(AppError::NotAuthenticated)?;
    Ok((email, key))
}

#[cfg(feature = "ssr")]
fn set_cookie(value: String) {
    if let (Some(resp), Ok(v)) = (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&value)) {
        resp.append_header(http::header::SET_COOKIE, v);
    }
}

#[cfg(feature = "ssr")]
async fn client_ip() -> Result<std::net::IpAddr, AppError> {
    let axum::extract::ConnectInfo(peer) = leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .await
        .map_err(|e| AppError::internal("reading the client address failed", e))?;
    Ok(peer.ip())
}

/// Only local paths: never an open redirect.
#[cfg(feature = "ssr")]
fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/settings/mail".to_string())
}

#[server(endpoint = "load_mail_settings")]
pub async fn load_mail_settings() -> Result<MailSettingsView, AppError> {
    const WHAT: &str = "loading the mail settings failed";
    let admin = require_admin().await?;
    let (loaded, tests, audit) = blocking(WHAT, |s| Ok((s.load_mail()?, s.load_tests()?, s.recent_audit(20)?)))
        .await?
        .map_err(|e| AppError::internal(WHAT, e))?;
    Ok(MailSettingsView { audit, admin, ..MailSettingsView::from_record(loaded, tests) })
}

/// Validates the form with the shared rules, then stores it as one record, flushed to disk
/// before the answer. `version` is the version the form was loaded from.
#[server(endpoint = "save_mail_settings")]
pub async fn save_mail_settings(version: u64, form: MailServerForm) -> Result<MailSettingsView, AppError> {
    use crate::domain::MailServerSettings;
    use crate::store::{MailSettingsRecord, StoreError};
    const WHAT: &str = "saving the mail settings failed";
    let admin = require_admin().await?;

    let current = blocking(WHAT, |s| s.load_mail()).await?.map_err(|e| AppError::internal(WHAT, e))?;
    let saved_login = current.as_ref().map(|c| c.value.login());
    let invalid = |errors| AppError::invalid_form(errors, &form);
    let settings = MailServerSettings::parse(&form, saved_login.as_ref()).map_err(invalid)?;
    let kept = current.as_ref().map(|c| c.value.password.as_str());
    let record = MailSettingsRecord::from_settings(&settings, kept)
        .ok_or_else(|| AppError::internal(WHAT, "password kept but none stored"))?;

    let who = admin.clone();
    match blocking(WHAT, move |s| Ok((s.save_mail(version, record, &who), s.load_tests()?, s.recent_audit(20)?))).await? {
        Ok((Ok(rec), tests, audit)) => {
            tracing::info!(version = rec.version, host = %rec.value.host, admin = %admin, "mail settings saved");
            Ok(MailSettingsView { audit, admin, ..MailSettingsView::from_record(Some(rec), tests) })
        }
        Ok((Err(e), _, _)) => Err(match e {
            StoreError::Conflict { current, saved_at } => AppError::Conflict { current, saved_at },
            e => AppError::internal(WHAT, e),
        }),
        Err(e) => Err(AppError::internal(WHAT, e)),
    }
}

/// Tests per minute allowed for one admin session.
pub const TESTS_PER_MINUTE: u32 = 5;
/// Password-reset mails per minute for one client address.
pub const RESETS_PER_MINUTE: u32 = 3;

/// A sliding one-minute window of requests per key (an admin session, or a client address).
#[cfg(feature = "ssr")]
pub struct RateLimiter {
    limit: u32,
    seen: std::sync::Mutex<std::collections::HashMap<String, std::collections::VecDeque<std::time::Instant>>>,
}

#[cfg(feature = "ssr")]
impl RateLimiter {
    pub fn new(limit: u32) -> Self {
        Self { limit, seen: Default::default() }
    }

    /// Counts one request; `Err(seconds)` when `key` must wait that long.
    pub fn check(&self, key: &str, now: std::time::Instant) -> Result<(), u64> {
        const WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        let q = seen.entry(key.to_string()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            q.pop_front();
        }
        if q.len() as u32 >= self.limit {
            let oldest = *q.front().expect("non-empty at the limit");
            return Err((WINDOW - now.duration_since(oldest)).as_secs() + 1);
        }
        q.push_back(now);
        Ok(())
    }
}

/// "Test Email Server": sends a real test mail with the values now in the form (not saved).
/// A blank password uses the saved one while host, port and account are unchanged.
#[server(endpoint = "test_mail_server")]
pub async fn test_mail_server(
    form: MailServerForm,
    send_to: String,
) -> Result<crate::mailtest::TestReport, AppError> {
    use crate::domain::{test_recipient, Field, FieldErrors, MailServerSettings, PasswordChoice};
    use crate::mailer::{test_send, SmtpTarget};
    use crate::store::TestOutcome;
    const WHAT: &str = "testing the mail server failed";

    let (_, session) = require_session().await?;
    let ctx = ctx::server()?;
    ctx.test_limiter
        .check(&session, std::time::Instant::now())
        .map_err(|retry_after_secs| AppError::RateLimited { limit: TESTS_PER_MINUTE, retry_after_secs })?;

    let current = blocking(WHAT, |s| s.load_mail()).await?.map_err(|e| AppError::internal(WHAT, e))?;
    let saved_login = current.as_ref().map(|c| c.value.login());
    let invalid = |errors| AppError::invalid_form(errors, &form);
    let settings = MailServerSettings::parse(&form, saved_login.as_ref()).map_err(invalid)?;
    let recipient = test_recipient(&form, &send_to)
        .and_then(|a| a.as_str().parse::<lettre::Address>().map_err(|e| e.to_string()))
        .map_err(|m| invalid(FieldErrors(vec![(Field::SendTo, m)])))?;
    if let Some(ca) = &settings.ca_pem {
        lettre::transport::smtp::client::Certificate::from_pem(ca.as_str().as_bytes()).map_err(|e| {
            invalid(FieldErrors(vec![(Field::CaPem, format!("This certificate could not be read ({e}); paste the whole PEM block"))]))
        })?;
    }
    let password = match &settings.password {
        PasswordChoice::New(p) => p.clone(),
        PasswordChoice::KeepSaved => current.map(|c| c.value.password).unwrap_or_default(),
    };
    let target = SmtpTarget {
        ca_pem: settings.ca_pem.as_ref().map(|c| c.as_str().to_string()),
        skip_verify: settings.skip_verify,
        settings,
        password,
    };
    let report = test_send(&target, &recipient).await;
    tracing::info!(
        server = %report.server,
        stage = ?report.stage,
        success = report.success,
        elapsed_ms = report.elapsed_ms,
        "mail server test finished"
    );
    let outcome = TestOutcome::from(&report);
    blocking(WHAT, move |s| s.record_test(outcome)).await?.map_err(|e| AppError::internal(WHAT, e))?;
    Ok(report)
}

/// Logs an admin in; on success sets the session cookie and redirects to `next`.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::auth;
    const WHAT: &str = "logging in failed";
    let ctx = ctx::server()?;
    let email = email.trim().to_lowercase();
    let keys = vec![format!("account:{email}"), format!("ip:{}", client_ip().await?)];
    let now = std::time::Instant::now();
    ctx.throttle.check(&keys, now).map_err(|retry_after_secs| AppError::TooManyAttempts { retry_after_secs })?;
    let (who, pw) = (email.clone(), password);
    let ok = blocking(WHAT, move |s| {
        Ok(match s.get_admin(&who)? {
            Some(admin) => auth::verify_password(&pw, &admin.password_hash),
            None => {
                auth::verify_dummy(&pw);
                false
            }
        })
    })
    .await?
    .map_err(|e| AppError::internal(WHAT, e))?;
    if !ok {
        ctx.throttle.failed(&keys, now);
        tracing::warn!(account = %email, "failed login");
        return Err(AppError::LoginFailed);
    }
    ctx.throttle.succeeded(&keys);
    let who = email.clone();
    let id = blocking(WHAT, move |s| auth::start_session(s, &who)).await?.map_err(|e| AppError::internal(WHAT, e))?;
    set_cookie(auth::session_cookie(&id, ctx.secure_cookies()));
    tracing::info!(account = %email, "admin logged in");
    leptos_axum::redirect(&safe_next(next));
    Ok(())
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::auth;
    let ctx = ctx::server()?;
    if let Some(parts) = use_context::<http::request::Parts>() {
        if let Some(id) = auth::session_id_from_headers(&parts.headers) {
            blocking("logging out failed", move |s| s.delete_session(&auth::token_hash(&id)))
                .await?
                .map_err(|e| AppError::internal("logging out failed", e))?;
        }
    }
    set_cookie(auth::clear_session_cookie(ctx.secure_cookies()));
    leptos_axum::redirect("/login");
    Ok(())
}

/// Creates the first admin with the one-time setup token printed at start-up.
#[server(endpoint = "setup_admin")]
pub async fn setup_admin(token: String, email: String, password: String, confirm: String) -> Result<(), AppError> {
    use crate::{auth, domain, store::AdminRecord};
    const WHAT: &str = "creating the admin failed";
    let ctx = ctx::server()?;
    let expected = ctx.setup_token.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if expected.as_deref() != Some(auth::token_hash(token.trim()).as_str()) {
        return Err(AppError::Forbidden("This setup link is not valid (an admin may already exist). Log in instead.".into()));
    }
    let address = domain::EmailAddress::parse(&email)
        .map_err(|m| AppError::Invalid { errors: domain::FieldErrors(vec![(domain::Field::Account, m)]), submitted: None })?;
    domain::admin_password(&password, &confirm, address.as_str())
        .map_err(|m| AppError::Invalid { errors: domain::FieldErrors(vec![(domain::Field::Password, m)]), submitted: None })?;
    let email = address.as_str().to_lowercase();
    let record = AdminRecord { email: email.clone(), password_hash: auth::hash_password(&password), created_at: crate::now_rfc3339() };
    let who = email.clone();
    let id = blocking(WHAT, move |s| {
        if s.admin_count()? > 0 {
            return Ok(None);
        }
        s.put_admin(record)?;
        auth::start_session(s, &who).map(Some)
    })
    .await?
    .map_err(|e| AppError::internal(WHAT, e))?
    .ok_or_else(|| AppError::Forbidden("An admin already exists. Log in instead.".into()))?;
    *ctx.setup_token.lock().unwrap_or_else(|p| p.into_inner()) = None;
    set_cookie(auth::session_cookie(&id, ctx.secure_cookies()));
    tracing::info!(account = %email, "first admin created through the setup link");
    leptos_axum::redirect("/settings/mail");
    Ok(())
}

/// "Forgot password?": mails a single-use reset link valid for 30 minutes. The answer is the same
/// whether or not the account exists; it differs only when no mail server is configured.
#[server(endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<String, AppError> {
    use crate::{auth, store::ResetRecord};
    const WHAT: &str = "requesting a password reset failed";
    let ctx = ctx::server()?;
    ctx.reset_limiter
        .check(&client_ip().await?.to_string(), std::time::Instant::now())
        .map_err(|retry_after_secs| AppError::RateLimited { limit: RESETS_PER_MINUTE, retry_after_secs })?;
    let email = email.trim().to_lowercase();
    let who = email.clone();
    let (mail, admin) = blocking(WHAT, move |s| Ok((s.load_mail()?, s.get_admin(&who)?)))
        .await?
        .map_err(|e| AppError::internal(WHAT, e))?;
    let Some(mail) = mail else {
        return Ok("Password reset by email is not available yet: no mail server is configured. \
                   Ask another admin to set one up under Settings › Mail Server, or create a new \
                   admin on the server with `mailroom admin create`."
            .to_string());
    };
    let answer = format!(
        "If an admin account exists for {email}, a reset link is on its way to that address. It works once, for 30 minutes."
    );
    if admin.is_none() {
        tracing::info!(account = %email, "password reset requested for an unknown account");
        return Ok(answer);
    }
    let token = auth::random_token();
    let record = ResetRecord { email: email.clone(), expires_at: auth::now_unix() + auth::RESET_TOKEN_TTL_SECS };
    let hash = auth::token_hash(&token);
    blocking(WHAT, move |s| s.put_reset(&hash, &record)).await?.map_err(|e| AppError::internal(WHAT, e))?;
    let link = format!("{}/reset?token={token}", ctx.public_url.trim_end_matches('/'));
    // Sent in the background: the answer takes as long for unknown accounts as for real ones.
    tokio::spawn(async move {
        let report = match (mail_target(mail.value), email.parse::<lettre::Address>()) {
            (Ok(target), Ok(to)) => {
                let body = format!(
                    "Someone (hopefully you) asked to reset the Mailroom admin password for {email}.\r\n\r\n\
                     Open this link within 30 minutes to choose a new password:\r\n{link}\r\n\r\n\
                     If you did not ask for this, ignore this mail; your password stays as it is.\r\n"
                );
                Some(crate::mailer::send_mail(&target, &to, "Reset your Mailroom password", body).await)
            }
            (Err(e), _) => {
                tracing::error!(error = %e, "stored mail settings are unusable for the reset mail");
                None
            }
            (_, Err(_)) => None,
        };
        match report {
            Some(r) if r.success => tracing::info!(account = %email, "password reset mail sent"),
            Some(r) => tracing::error!(account = %email, stage = ?r.stage, summary = %r.summary, "password reset mail failed"),
            None => tracing::error!(account = %email, "password reset mail not sent"),
        }
    });
    Ok(answer)
}

/// The stored settings as something to send with.
#[cfg(feature = "ssr")]
pub fn mail_target(rec: crate::store::MailSettingsRecord) -> Result<crate::mailer::SmtpTarget, String> {
    use crate::domain::MailServerSettings;
    let form = MailServerForm { password: rec.password.clone(), ..rec.to_form() };
    let settings = MailServerSettings::parse(&form, None).map_err(|e| format!("{e:?}"))?;
    Ok(crate::mailer::SmtpTarget {
        ca_pem: settings.ca_pem.as_ref().map(|c| c.as_str().to_string()),
        skip_verify: settings.skip_verify,
        settings,
        password: rec.password,
    })
}

/// Sets a new password with a reset token; ends every session of the account.
#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String, confirm: String) -> Result<(), AppError> {
    use crate::{auth, domain, store::AdminRecord};
    const WHAT: &str = "resetting the password failed";
    let hash = auth::token_hash(token.trim());
    let taken = blocking(WHAT, move |s| s.take_reset(&hash)).await?.map_err(|e| AppError::internal(WHAT, e))?;
    let invalid = || AppError::Forbidden("This reset link is invalid, expired or already used: ask for a new one.".into());
    let reset = taken.filter(|r| r.expires_at > auth::now_unix()).ok_or_else(invalid)?;
    if let Err(m) = domain::admin_password(&password, &confirm, &reset.email) {
        // A typo does not use the link up: put the token back for another try.
        let hash = auth::token_hash(token.trim());
        let again = reset.clone();
        blocking(WHAT, move |s| s.put_reset(&hash, &again)).await?.map_err(|e| AppError::internal(WHAT, e))?;
        return Err(AppError::Invalid { errors: domain::FieldErrors(vec![(domain::Field::Password, m)]), submitted: None });
    }
    let email = reset.email.clone();
    let ended = blocking(WHAT, move |s| {
        let Some(admin) = s.get_admin(&email)? else { return Ok(None) };
        s.put_admin(AdminRecord { password_hash: auth::hash_password(&password), ..admin })?;
        s.delete_sessions_of(&email).map(Some)
    })
    .await?
    .map_err(|e| AppError::internal(WHAT, e))?
    .ok_or_else(invalid)?;
    tracing::info!(account = %reset.email, sessions_ended = ended, "admin password reset");
    leptos_axum::redirect("/login?reset=done");
    Ok(())
}
