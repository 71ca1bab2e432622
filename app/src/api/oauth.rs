//! Settings › Mail Server › Connected mailbox: "Sign in with …" (OAuth2's authorization-code
//! grant with PKCE) and Disconnect (a server function the form posts to).
//!
//! "Sign in with …" is a link to [`crate::routes::OAUTH_START`] (a page behind the session,
//! [`ssr::start`]), which redirects to the provider: a link, because a form's redirect to
//! another site is refused by the pages' `form-action 'self'`. The provider sends the browser
//! back to [`crate::routes::OAUTH_CALLBACK`] from its own site, so the SameSite=Strict session
//! cookie does not come along: the sign-in is bound instead to a single-use `state` (256 random
//! bits, kept here only as its SHA-256, for ten minutes) that names the admin who started it
//! and the app it started for. The callback ([`ssr::finish`]) answers a page that links back to
//! the settings.

use crate::error::AppError;
use leptos::prelude::*;

/// Disconnects the connected mailbox (Mailroom forgets its refresh token; the provider's
/// consent stays until the mailbox's owner removes it there).
#[server(endpoint = "disconnect_mailbox", output = super::codec::Json)]
pub async fn disconnect_mailbox() -> Result<(), AppError> {
    use crate::api::server::{session, storage};
    let session = session().await?;
    let who = session.admin.clone();
    storage(move |s| s.disconnect_mailbox(&who)).await?;
    tracing::info!(admin = ?session.admin, "mailbox disconnected");
    leptos_axum::redirect(crate::routes::MAIL_SETTINGS);
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::api::server::ServerContext;
    use crate::domain::Mailbox;
    use crate::error::AppError;
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    /// How long a sign-in may take in the provider's pages.
    pub const SIGN_IN_TTL: Duration = Duration::from_secs(10 * 60);
    /// Sign-ins under way at most (admins start one at a time; more is an attack or a loop).
    pub const MAX_PENDING: usize = 32;

    /// A sign-in under way.
    pub struct Pending {
        admin: String,
        app: String,
        verifier: String,
        started: Instant,
    }

    impl Pending {
        pub fn new(admin: String, app: String, verifier: String) -> Self {
            Self {
                admin,
                app,
                verifier,
                started: Instant::now(),
            }
        }
    }

    /// Sign-ins under way, by the SHA-256 of their `state`.
    #[derive(Default)]
    pub struct PendingSignIns {
        by_state: HashMap<String, Pending>,
    }

    impl PendingSignIns {
        /// Keeps `pending` under `state`; a newer sign-in of the same admin replaces theirs.
        /// Refused with the seconds until one expires when [`MAX_PENDING`] are under way.
        pub fn start(&mut self, state: &str, pending: Pending) -> Result<(), u64> {
            let now = pending.started;
            self.by_state
                .retain(|_, p| now.duration_since(p.started) < SIGN_IN_TTL && p.admin != pending.admin);
            if self.by_state.len() >= MAX_PENDING {
                let oldest = self.by_state.values().map(|p| p.started).min().unwrap_or(now);
                let left = SIGN_IN_TTL.saturating_sub(now.duration_since(oldest));
                return Err(left.as_secs().max(1));
            }
            self.by_state.insert(crate::auth::token_hash(state), pending);
            Ok(())
        }

        /// The sign-in `state` names, once, if it has not expired.
        pub fn take(&mut self, state: &str, now: Instant) -> Option<Pending> {
            self.by_state
                .remove(&crate::auth::token_hash(state))
                .filter(|p| now.duration_since(p.started) < SIGN_IN_TTL)
        }
    }

    /// Starts a sign-in for `admin` with the saved settings' mailbox: the provider's URL to
    /// send the browser to.
    pub async fn start(ctx: &ServerContext, admin: &str) -> Result<String, AppError> {
        let saved = ctx.storage(|s| s.load_mail()).await?;
        let refused = |m: &str| AppError::Refused(m.into());
        let saved =
            saved.ok_or_else(|| refused("Save the mail settings first: the sign-in uses the saved app."))?;
        let (Some(app), Some(oauth)) = (saved.value.mailbox_app(), saved.value.settings.oauth.as_ref())
        else {
            return Err(refused(
                "The saved settings do not sign in as a mailbox: choose Authentication OAuth2 and Sign in as a mailbox, save, then sign in.",
            ));
        };
        let sign_in =
            crate::mailer::oauth::sign_in(oauth, &redirect_uri(ctx), saved.value.settings.account_str())
                .map_err(AppError::Refused)?;
        ctx.sign_ins
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .start(
                &sign_in.state,
                Pending::new(admin.to_string(), app, sign_in.verifier),
            )
            .map_err(|retry_after_secs| AppError::RateLimited {
                limit: MAX_PENDING as u32,
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
        /// Not connected: the HTTP status, and what happened and what to do, in words.
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
    pub async fn finish(ctx: &ServerContext, callback: Callback) -> Outcome {
        let pending = callback.state.as_deref().and_then(|state| {
            ctx.sign_ins
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(state, Instant::now())
        });
        let Some(pending) = pending else {
            return failed(
                400,
                "This sign-in is unknown, was already used, or took longer than 10 minutes. Start it again from Settings \u{203a} Mail Server.",
            );
        };
        if let Some(error) = callback.error.as_deref() {
            let described = callback
                .error_description
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            let advice = if error == "access_denied" {
                "The sign-in was cancelled or consent was refused: sign in again and accept the permissions Mailroom asks for, or ask an administrator to consent for the organisation."
            } else {
                "Check the app registration: the redirect URI shown on the settings page must be registered, and the app must be allowed to ask for the scopes."
            };
            return failed(
                403,
                format!("The provider did not connect the mailbox: {error}{described}. {advice}"),
            );
        }
        let Some(code) = callback.code.filter(|c| !c.is_empty()) else {
            return failed(
                400,
                "The provider sent neither a code nor an error. Start the sign-in again.",
            );
        };
        let changed = || {
            failed(
                409,
                "The mail settings changed while signing in (another app, or no longer a mailbox). Sign in again from Settings \u{203a} Mail Server.",
            )
        };
        let saved = match ctx.storage(|s| s.load_mail()).await {
            Ok(saved) => saved,
            Err(e) => return failed(e.status(), e.to_string()),
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
                return failed(502, format!("{} {}", f.diagnosis.title(), f.summary));
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
        let admin = pending.admin.clone();
        match ctx.storage(move |s| s.connect_mailbox(mailbox, &admin)).await {
            Ok(_) => {}
            Err(AppError::Conflict { .. }) => return changed(),
            Err(e) => return failed(e.status(), e.to_string()),
        }
        tracing::info!(admin = ?pending.admin, account = ?account, "mailbox connected");
        // A paused outbox tries again with the new version of the settings.
        ctx.outbox.wake();
        Outcome::Connected { account }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_state_is_taken_once_and_each_admin_has_one_sign_in() {
            let mut p = PendingSignIns::default();
            p.start("s1", Pending::new("a".into(), "app".into(), "v".into()))
                .unwrap();
            p.start("s2", Pending::new("b".into(), "app".into(), "v".into()))
                .unwrap();
            p.start("s3", Pending::new("a".into(), "app".into(), "v".into()))
                .unwrap();
            let now = Instant::now();
            assert!(
                p.take("s1", now).is_none(),
                "replaced by the same admin's newer sign-in"
            );
            assert_eq!(p.take("s2", now).map(|x| x.admin).as_deref(), Some("b"));
            assert!(p.take("s2", now).is_none(), "single use");
            assert!(p.take("s3", now + SIGN_IN_TTL).is_none(), "expired");
            assert!(p.take("", now).is_none());
        }

        #[test]
        fn sign_ins_under_way_are_bounded() {
            let mut p = PendingSignIns::default();
            for i in 0..MAX_PENDING {
                p.start(
                    &format!("s{i}"),
                    Pending::new(format!("admin{i}"), "app".into(), "v".into()),
                )
                .unwrap();
            }
            let refused = p.start("one more", Pending::new("late".into(), "app".into(), "v".into()));
            assert!(matches!(refused, Err(secs) if secs > 0 && secs <= SIGN_IN_TTL.as_secs()));
        }
    }
}
