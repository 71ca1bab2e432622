//! Login, logout, first-admin setup and the forgotten password: the server functions that
//! work without a session.

use crate::error::AppError;
use leptos::prelude::*;

/// Logs an admin in; on success sets the session cookie and redirects to `next`.
///
/// Guessing is throttled without handing attackers a lockout of the real admin (OWASP's
/// device-cookie scheme): a browser that has logged in to this account before presents its
/// device cookie and is counted on its own; every other client is counted per account and per
/// client address. A burst of wrong passwords from unknown clients therefore locks out unknown
/// clients only. Each attempt is counted before its password is checked.
#[server(endpoint = "login", output = super::codec::Json)]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::auth;
    let ctx = ssr::current()?;
    let email = ssr::normalized_email(&email);
    let device = ssr::headers().and_then(|h| auth::device_from_headers(&h, &ctx.secrets, &email));
    let keys = match &device {
        Some(id) => vec![format!("device:{id}")],
        None => vec![
            format!("account:{email}"),
            format!("ip:{}", crate::ratelimit::address_key(ssr::client_ip().await?)),
        ],
    };
    // The back-off's counters are in the store: every instance counts the same failures.
    let now_ms = crate::clock::now_unix_ms();
    let store = &ctx.store;
    store
        .backoff_attempt(&keys, now_ms)
        .await?
        .map_err(|retry_after_secs| {
            crate::metrics::login_failed(crate::metrics::LoginFailure::BackOff);
            AppError::TooManyAttempts { retry_after_secs }
        })?;
    let checked = match store.get_admin(&email).await {
        Ok(admin) => {
            ssr::hashing(move || match admin {
                Some(admin) => auth::verify_password(&password, &admin.password_hash),
                None => {
                    auth::verify_dummy(&password);
                    false
                }
            })
            .await
        }
        Err(e) => Err(e.into()),
    };
    let ok = match checked {
        Ok(ok) => ok,
        Err(e) => {
            let _ = store.backoff_undo(&keys).await;
            return Err(e);
        }
    };
    if !ok {
        crate::metrics::login_failed(crate::metrics::LoginFailure::WrongPassword);
        tracing::warn!(account = ?email, known_device = device.is_some(), "failed login");
        return Err(AppError::LoginFailed { email });
    }
    store.backoff_succeeded(&keys).await?;
    ssr::start_session(&ctx, email.clone()).await?;
    if device.is_none() {
        ssr::set_cookie(auth::device_cookie(&email, &ctx.secrets, ctx.secure_cookies()));
    }
    tracing::info!(account = ?email, "admin logged in");
    leptos_axum::redirect(&ssr::safe_next(next.as_deref()));
    Ok(())
}

#[server(endpoint = "logout", output = super::codec::Json)]
pub async fn logout() -> Result<(), AppError> {
    use crate::auth;
    let ctx = ssr::current()?;
    let id =
        use_context::<http::request::Parts>().and_then(|parts| auth::session_id_from_headers(&parts.headers));
    if let Some(id) = id {
        ctx.store.delete_session(&auth::token_hash(&id)).await?;
    }
    ssr::set_cookie(auth::clear_session_cookie(ctx.secure_cookies()));
    leptos_axum::redirect(crate::routes::LOGIN);
    Ok(())
}

/// Sets the admin's language for the pages and their own mail (the header's switch), kept
/// with the admin on every instance, then back to `next` (a page of this site).
#[server(endpoint = "set_language", output = super::codec::Json)]
pub async fn set_language(lang: String, next: Option<String>) -> Result<(), AppError> {
    let session = crate::api::server::session().await?;
    let lang = crate::templates::Lang::from_tag(&lang).ok_or_else(|| {
        AppError::BadRequest(format!("Mailroom speaks English (en) and Simplified Chinese (zh-CN), not \u{201c}{lang}\u{201d}."))
    })?;
    ssr::current()?.store.set_admin_language(&session.admin, Some(lang)).await?;
    leptos_axum::redirect(&ssr::safe_next(next.as_deref()));
    Ok(())
}

/// Creates the first admin with the one-time setup token printed at start-up.
#[server(endpoint = "setup_admin", output = super::codec::Json)]
pub async fn setup_admin(
    token: String,
    email: String,
    password: String,
    confirm: String,
) -> Result<(), AppError> {
    use crate::{auth, domain::Field};
    let ctx = ssr::current()?;
    if !setup_link_valid(token).await? {
        crate::api::server::speak().await;
        return Err(AppError::Forbidden(crate::i18n::tr("setup-link-invalid")));
    }
    let address =
        crate::domain::EmailAddress::parse(&email).map_err(|m| AppError::invalid(Field::Account, m))?;
    crate::domain::admin_password(&password, &confirm, address.as_str())
        .map_err(|m| AppError::invalid(Field::Password, m))?;
    let created = if ctx.store.admin_count().await? > 0 {
        false
    } else {
        let hash = ssr::hashing(move || auth::hash_password(&password)).await?;
        auth::set_admin_password(ctx.store.as_ref(), &address, hash).await?;
        true
    };
    if !created {
        crate::api::server::speak().await;
        return Err(AppError::Forbidden(crate::i18n::tr("setup-admin-exists")));
    }
    // Every setup link goes (one per start without an admin).
    ctx.store.clear_once(crate::store::Once::SetupLink).await?;
    let email = address.as_str().to_lowercase();
    ssr::start_session(&ctx, email.clone()).await?;
    tracing::info!(account = ?email, "first admin created through the setup link");
    leptos_axum::redirect(crate::routes::MAIL_SETTINGS);
    Ok(())
}

/// What "Send reset link" answers: the same whether or not the account exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetAnswer {
    OnItsWay,
    NoMailServer,
}

impl ResetAnswer {
    /// The answer's name in the forgot page's URL (`?answer=`), for browsers without script.
    pub fn name(self) -> &'static str {
        match self {
            ResetAnswer::OnItsWay => "sent",
            ResetAnswer::NoMailServer => "no-mail-server",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [ResetAnswer::OnItsWay, ResetAnswer::NoMailServer]
            .into_iter()
            .find(|a| a.name() == name)
    }

    /// The answer in words. Sets the no-script redirect back to the forgot page with it.
    pub fn said(self) -> String {
        #[cfg(feature = "ssr")]
        leptos_axum::redirect(&format!("{}?answer={}", crate::routes::FORGOT, self.name()));
        self.to_string()
    }
}

impl std::fmt::Display for ResetAnswer {
    /// In the page's language (English outside a page).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::i18n::{tr, tr_args};
        f.write_str(&match self {
            ResetAnswer::OnItsWay => tr_args("forgot-sent", &[("minutes", RESET_LINK_MINUTES.into())]),
            ResetAnswer::NoMailServer => tr("forgot-no-mail-server"),
        })
    }
}

pub use crate::domain::RESET_LINK_MINUTES;

/// "Forgot password?": mails a single-use reset link valid for 30 minutes. The answer is the same
/// whether or not the account exists; it differs only when no mail server is configured.
#[server(endpoint = "request_password_reset", output = super::codec::Json)]
pub async fn request_password_reset(email: String) -> Result<String, AppError> {
    use crate::outbox::Priority;
    use crate::store::{MailBody, NewMessage, ResetRecord};
    use crate::{auth, clock, mailer};
    let started = tokio::time::Instant::now();
    let ctx = ssr::current()?;
    let limits = &ctx.limits;
    limits
        .resets
        .check(
            &crate::ratelimit::address_key(ssr::client_ip().await?),
            std::time::Instant::now(),
        )
        .map_err(|retry_after_secs| AppError::RateLimited {
            limit: limits.resets.limit(),
            retry_after_secs,
        })?;
    let email = ssr::normalized_email(&email);
    let (mail, admin) = (ctx.store.load_mail().await?, ctx.store.get_admin(&email).await?);
    if mail.is_none() {
        return Ok(ResetAnswer::NoMailServer.said());
    }
    let minutes = auth::RESET_TOKEN_TTL_SECS / 60;
    let answer = ResetAnswer::OnItsWay.said();
    // The same work whether or not the account exists, so the answer's timing tells nothing: a
    // token is made and stored either way, in the same single write as the mail when there is
    // one (a token for an unknown account can never be used, as `reset_password` finds no
    // admin, and is purged when it expires); the mail is written either way and dropped for an
    // unknown account.
    let token = auth::random_token();
    let expires_at = clock::now_unix() + auth::RESET_TOKEN_TTL_SECS;
    let record = ResetRecord {
        email: email.clone(),
        expires_at,
    };
    let hash = auth::token_hash(&token);
    let link = format!(
        "{}{}?token={token}",
        ctx.public_url.trim_end_matches('/'),
        crate::routes::RESET
    );
    // In the admin's own language, if they chose one.
    let lang = admin.as_ref().and_then(crate::store::admin_language).unwrap_or(ctx.mail_language);
    let texts = crate::store::templates::template(ctx.store.as_ref(), crate::templates::Kind::PasswordReset, lang).await?;
    let mail = mailer::bodies::password_reset(&texts, lang, &email, &link, minutes);
    // Through the outbox, first in line, sealed at rest, and of no use (so expired, not sent)
    // once the token is.
    let message = admin.map(|a| NewMessage {
        to: a.email,
        subject: mail.subject,
        body: MailBody {
            text: mail.text,
            html: mail.html,
            thread: mail.thread,
            raw: None,
        },
        priority: Priority::Security,
        expires_at: Some(expires_at),
        origin: crate::outbox::Origin::PasswordReset,
    });
    let now = clock::now_unix();
    match ctx.outbox.request_reset(hash, record, message, now).await? {
        Some(id) => tracing::info!(account = ?email, message = id, "password reset mail queued"),
        None => tracing::info!(account = ?email, "password reset requested for an unknown account"),
    }
    // What is left of a difference (the mail's bytes in the flush) disappears under a floor on
    // the answer's time, far above the work's.
    tokio::time::sleep_until(started + RESET_ANSWER_FLOOR).await;
    Ok(answer)
}

/// The least time a reset request's answer takes, whether or not the account exists.
#[cfg(feature = "ssr")]
const RESET_ANSWER_FLOOR: std::time::Duration = std::time::Duration::from_millis(20);

/// Whether a reset link still works (not used, not expired): the reset page asks when it opens,
/// so a dead link says so before a password is typed. Reads only.
/// Whether `token` is a setup link's (printed at a start without an admin, on any instance),
/// while no admin exists.
#[server(endpoint = "setup_link_valid", output = super::codec::Json)]
pub async fn setup_link_valid(token: String) -> Result<bool, AppError> {
    use crate::store::Once;
    let hash = crate::auth::token_hash(token.trim());
    let now = crate::clock::now_unix();
    let store = ssr::store()?;
    let (admins, link) = (store.admin_count().await?, store.peek_once(Once::SetupLink, &hash, now).await?);
    Ok(admins == 0 && link.is_some())
}

#[server(endpoint = "reset_link_valid", output = super::codec::Json)]
pub async fn reset_link_valid(token: String) -> Result<bool, AppError> {
    let hash = crate::auth::token_hash(token.trim());
    let now = crate::clock::now_unix();
    let found = ssr::store()?.get_reset(&hash).await?;
    Ok(found.is_some_and(|r| r.expires_at > now))
}

/// Sets a new password with a reset token; ends every session of the account.
#[server(endpoint = "reset_password", output = super::codec::Json)]
pub async fn reset_password(token: String, password: String, confirm: String) -> Result<(), AppError> {
    use crate::{auth, clock, domain};
    let hash = auth::token_hash(token.trim());
    let store = ssr::store()?;
    let taken = store.take_reset(&hash).await?;
    crate::api::server::speak().await;
    let invalid = || AppError::Forbidden(crate::i18n::tr("reset-link-invalid"));
    let reset = taken
        .filter(|r| r.expires_at > clock::now_unix())
        .ok_or_else(invalid)?;
    let address = domain::EmailAddress::parse(&reset.email).map_err(|_| invalid())?;
    if let Err(m) = domain::admin_password(&password, &confirm, address.as_str()) {
        // A typo does not use the link up: put the token back for another try.
        store.put_reset(&hash, &reset).await?;
        return Err(AppError::invalid(domain::Field::Password, m));
    }
    if store.get_admin(address.as_str()).await?.is_none() {
        return Err(invalid());
    }
    let hash = ssr::hashing(move || auth::hash_password(&password)).await?;
    let set = auth::set_admin_password(store.as_ref(), &address, hash).await?;
    tracing::info!(account = ?address, result = ?set, "admin password reset");
    leptos_axum::redirect(&format!("{}?reset=done", crate::routes::LOGIN));
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::api::server::{
        client_ip, current, hashing, headers, safe_next, set_cookie, store, ServerContext,
    };
    use crate::{auth, error::AppError};

    /// An e-mail as typed, made comparable: trimmed, lower-case, at most 254 characters (no
    /// address is longer), so no key or log line grows with the input.
    pub fn normalized_email(email: &str) -> String {
        email.trim().to_lowercase().chars().take(254).collect()
    }

    /// Starts a session for `email` and sets its cookie.
    pub async fn start_session(ctx: &ServerContext, email: String) -> Result<(), AppError> {
        let id = auth::start_session(ctx.store.as_ref(), &email).await?;
        set_cookie(auth::session_cookie(&id, ctx.secure_cookies()));
        Ok(())
    }
}
