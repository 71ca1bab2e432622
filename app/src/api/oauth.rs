//! Settings › Mail Server › Connected mailbox: "Sign in with …" (OAuth2's authorization-code
//! grant with PKCE) and Disconnect (a server function the form posts to).
//!
//! "Sign in with …" is a link to [`crate::routes::OAUTH_START`] (a page behind the session,
//! [`ssr::start`]), which redirects to the provider: a link, because a form's redirect to
//! another site is refused by the pages' `form-action 'self'`. The provider sends the browser
//! back to [`crate::routes::OAUTH_CALLBACK`] from its own site, so the SameSite=Strict session
//! cookie does not come along: the sign-in is bound instead to a single-use `state` (256 random
//! bits, kept in the store only as its SHA-256, for ten minutes, so any instance may take the
//! callback) that names the admin who started it and the app it started for. The callback ([`ssr::finish`]) answers a page that links back to
//! the settings.

use crate::error::AppError;
use leptos::prelude::*;

/// Disconnects the connected mailbox (Mailroom forgets its refresh token; the provider's
/// consent stays until the mailbox's owner removes it there).
#[server(endpoint = "disconnect_mailbox", output = super::codec::Json)]
pub async fn disconnect_mailbox() -> Result<(), AppError> {
    use crate::api::server::{session, store};
    let session = session().await?;
    store()?.disconnect_mailbox(&session.admin).await?;
    tracing::info!(admin = ?session.admin, "mailbox disconnected");
    leptos_axum::redirect(crate::routes::MAIL_SETTINGS);
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::api::server::ServerContext;
    use crate::domain::Mailbox;
    use crate::error::AppError;
    use crate::store::{SignInRecord, MAX_PENDING_SIGN_INS};
    use crate::templates::Lang;
    use engine::i18n::text;

    /// Starts a sign-in for `admin` with the saved settings' mailbox: the provider's URL to
    /// send the browser to.
    pub async fn start(ctx: &ServerContext, admin: &str, lang: Lang) -> Result<String, AppError> {
        let saved = ctx.store.load_mail().await?;
        let refused = |id: &str| AppError::Refused(text(lang, id));
        let saved = saved.ok_or_else(|| refused("mail-sign-in-save-first"))?;
        let (Some(app), Some(oauth)) = (saved.value.mailbox_app(), saved.value.settings.oauth.as_ref())
        else {
            return Err(refused("mail-sign-in-not-mailbox"));
        };
        let sign_in =
            crate::mailer::oauth::sign_in(oauth, &redirect_uri(ctx), saved.value.settings.account_str())
                .map_err(AppError::Refused)?;
        // In the store: the provider's callback may reach another instance.
        let hash = crate::auth::token_hash(&sign_in.state);
        let record = SignInRecord {
            admin: admin.to_string(),
            app,
            verifier: sign_in.verifier,
            started_at: crate::clock::now_unix(),
        };
        ctx.store
            .start_sign_in(&hash, &record)
            .await?
            .map_err(|retry_after_secs| AppError::RateLimited {
                limit: MAX_PENDING_SIGN_INS as u32,
                retry_after_secs,
            })?;
        tracing::info!(admin = ?admin, "mailbox sign-in started");
        Ok(sign_in.url)
    }

    /// Where the provider sends the browser back: registered with the app as its redirect URI.
    pub fn redirect_uri(ctx: &ServerContext) -> String {
        format!(
            "{}{}",
            ctx.public_url.trim_end_matches('/'),
            crate::routes::OAUTH_CALLBACK
        )
    }

    /// The callback's query as the provider sends it.
    #[derive(Debug, Default, serde::Deserialize)]
    pub struct Callback {
        pub state: Option<String>,
        pub code: Option<String>,
        pub error: Option<String>,
        pub error_description: Option<String>,
    }

    /// How a sign-in ended, for the page the callback answers.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Outcome {
        /// The mailbox is connected (its account as the provider named it, maybe "").
        Connected { account: String },
        /// Not connected: the HTTP status, and what happened and what to do, in words (the
        /// browser's language).
        Failed { status: u16, message: String },
    }

    fn failed(status: u16, message: impl Into<String>) -> Outcome {
        Outcome::Failed {
            status,
            message: message.into(),
        }
    }

    /// Finishes a sign-in: checks `state`, exchanges the code for a refresh token and connects
    /// the mailbox to the saved settings (a new version, in the change history, for the admin
    /// who started it). Never needs the session.
    pub async fn finish(ctx: &ServerContext, callback: Callback, lang: Lang) -> Outcome {
        let failed = |status: u16, id: &str| failed(status, text(lang, id));
        let refusal = |e: AppError| {
            let message = e.message().map_or_else(|| e.to_string(), |m| engine::i18n::said(lang, &m));
            Outcome::Failed { status: e.status(), message }
        };
        let pending = match callback.state.as_deref() {
            Some(state) => {
                let hash = crate::auth::token_hash(state);
                let now = crate::clock::now_unix();
                match ctx.store.take_sign_in(&hash, now).await.map_err(AppError::from) {
                    Ok(found) => found,
                    Err(e) => return refusal(e),
                }
            }
            None => None,
        };
        let Some(pending) = pending else {
            return failed(400, "oauth-unknown-sign-in");
        };
        if let Some(error) = callback.error.as_deref() {
            let described = callback
                .error_description
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            let advice = text(lang, if error == "access_denied" { "oauth-access-denied" } else { "oauth-check-registration" });
            let message = engine::i18n::message(
                lang,
                "oauth-provider-refused",
                &[("error", format!("{error}{described}").into()), ("advice", advice.into())],
            );
            return Outcome::Failed { status: 403, message };
        }
        let Some(code) = callback.code.filter(|c| !c.is_empty()) else {
            return failed(400, "oauth-no-code");
        };
        let changed = || failed(409, "oauth-settings-changed");
        let saved = match ctx.store.load_mail().await.map_err(AppError::from) {
            Ok(saved) => saved,
            Err(e) => return refusal(e),
        };
        let Some((saved, oauth)) = saved.as_ref().and_then(|saved| {
            let oauth = saved.value.settings.oauth.as_ref()?;
            (saved.value.mailbox_app().as_ref() == Some(&pending.app)).then_some((saved, oauth))
        }) else {
            return changed();
        };
        let connected = crate::mailer::oauth::finish_sign_in(
            oauth,
            &saved.value.client_secret,
            &redirect_uri(ctx),
            &code,
            &pending.verifier,
        )
        .await;
        let connected = match connected {
            Ok(c) => c,
            Err(f) => {
                tracing::warn!(diagnosis = ?f.diagnosis, "mailbox sign-in: the token endpoint refused the code");
                let message = format!("{} {}", text(lang, f.diagnosis.title_id()), f.summary_in(lang));
                return Outcome::Failed { status: 502, message };
            }
        };
        let mailbox = Mailbox {
            account: connected.account,
            app: pending.app,
            connected_at: crate::clock::now_rfc3339(),
            connected_by: pending.admin.clone(),
            refresh_token: connected.refresh_token,
        };
        let account = mailbox.account.clone();
        match ctx.store.connect_mailbox(mailbox, &pending.admin).await.map_err(AppError::from) {
            Ok(_) => {}
            Err(AppError::Conflict { .. }) => return changed(),
            Err(e) => return refusal(e),
        }
        tracing::info!(admin = ?pending.admin, account = ?account, "mailbox connected");
        // (A paused outbox tries again with the new version: the store wakes it.)
        Outcome::Connected { account }
    }
}
