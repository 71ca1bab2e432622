//! Settings › API Tokens: list, create (the token is shown once) and revoke. Plain forms post
//! here; each answer redirects back to the page.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A token as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenLine {
    pub id: u64,
    pub name: String,
    pub created_by: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub last_used: Option<String>,
    /// What it may be used for, worded ("HTTP API only", …).
    #[serde(default)]
    pub used_for: String,
}

/// The page's content: the tokens, the one just created by this session (shown once), and the
/// name of the one this admin just revoked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensView {
    pub tokens: Vec<TokenLine>,
    pub created: Option<CreatedToken>,
    pub revoked: Option<String>,
    /// The SMTP listener's addresses and their security, to paste into a program; empty when
    /// it is off.
    #[serde(default)]
    pub smtp: Vec<(String, String)>,
}

/// How far back in the change history a revocation is looked for, to confirm `?revoked=`.
#[cfg(feature = "ssr")]
const REVOKED_WITHIN_ENTRIES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub name: String,
    pub token: String,
}

/// How long a created token waits, sealed in the store, for the page to show it.
#[cfg(feature = "ssr")]
const SHOW_WITHIN_SECS: u64 = 60;

/// `revoked`: a name from the page's URL after a revocation; answered back only when the change
/// history shows that this admin revoked that token (a link cannot make the page claim it).
#[server(endpoint = "api_tokens", output = super::codec::Json)]
pub async fn api_tokens(revoked: Option<String>) -> Result<TokensView, AppError> {
    use crate::api::server::{session, store};
    use crate::history::Change;
    use crate::store::Once;
    let session = session().await?;
    // The one this session created, once, from whichever instance answers.
    let store = store()?;
    let now = crate::clock::now_unix();
    let created = store
        .take_once(Once::CreatedToken, &session.key, now)
        .await?
        .and_then(|json| serde_json::from_str::<CreatedToken>(&json).ok());
    if created.is_some() {
        // The page carries a secret: no cache may keep it.
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.insert_header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
        }
    }
    let (tokens, recent) = (store.tokens().await?, store.recent_audit(REVOKED_WITHIN_ENTRIES).await?);
    let revoked = revoked.filter(|name| {
        !tokens.iter().any(|t| &t.name == name)
            && recent.iter().any(|entry| {
                entry.who == session.admin
                    && entry
                        .changes
                        .iter()
                        .any(|c| matches!(c, Change::TokenRevoked { name: n } if n == name))
            })
    });
    let time = |t: u64| crate::clock::rfc3339(t);
    Ok(TokensView {
        tokens: tokens
            .into_iter()
            .map(|t| TokenLine {
                id: t.id,
                name: t.name,
                created_by: t.created_by,
                created_at: time(t.created_at),
                last_used: t.last_used.map(time),
                used_for: token_use_label(t.scope),
            })
            .collect(),
        created,
        revoked,
        smtp: crate::api::server::current()?.smtp_listeners.to_vec(),
    })
}

/// Creates a token; the page shows it once, right after this redirects back.
#[server(endpoint = "create_api_token", output = super::codec::Json)]
pub async fn create_api_token(name: String, scope: Option<String>) -> Result<(), AppError> {
    use crate::api::server::{session, store};
    use crate::store::Once;
    let session = session().await?;
    let scope = scope
        .as_deref()
        .map(crate::domain::TokenUse::parse)
        .transpose()
        .map_err(AppError::Refused)?
        .unwrap_or_default();
    let store = store()?;
    let until = crate::clock::now_unix() + SHOW_WITHIN_SECS;
    crate::api::server::speak().await;
    let (token, record) = crate::auth::create_api_token(store.as_ref(), &name, scope, &session.admin)
        .await?
        .map_err(|refusal| AppError::Refused(crate::i18n::say(&refusal)))?;
    // One waiting token per session: a second creation replaces the first on the page (both
    // exist; the first can be revoked).
    let shown = serde_json::to_string(&CreatedToken {
        name: record.name.clone(),
        token,
    })
    .map_err(|e| AppError::internal("keeping the new token for its page failed", e))?;
    store.put_once(Once::CreatedToken, &session.key, &shown, Some(until)).await?;
    let name = record.name;
    tracing::info!(admin = ?session.admin, token = ?name, "API token created");
    Ok(())
}

#[server(endpoint = "revoke_api_token", output = super::codec::Json)]
pub async fn revoke_api_token(id: u64) -> Result<(), AppError> {
    use crate::api::server::{session, store};
    let session = session().await?;
    crate::api::server::speak().await;
    let revoked = store()?.revoke_token(id, &session.admin).await?;
    match revoked {
        Some(t) => {
            tracing::info!(admin = ?session.admin, token = ?t.name, "API token revoked");
            leptos_axum::redirect(&crate::pages::tokens::revoked_url(&t.name));
            Ok(())
        }
        None => Err(AppError::NotFound(crate::i18n::tr("token-not-found"))),
    }
}

/// What a token may be used for, in the page's language.
pub fn token_use_label(u: crate::domain::TokenUse) -> String {
    use crate::domain::TokenUse;
    use crate::i18n::tr;
    match u {
        TokenUse::Both => tr("token-use-both"),
        TokenUse::Api => tr("token-use-api"),
        TokenUse::Smtp => tr("token-use-smtp"),
    }
}
