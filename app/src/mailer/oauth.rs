//! OAuth2 access tokens for AUTH XOAUTH2 (client credentials), from the token endpoint with the
//! `oauth2` crate, cached until a minute before they expire. A token the mail server refuses
//! is fetched again once ([`access_token`] with `fresh`).

use super::SendFailure;
use crate::domain::MailServer;
use crate::report::Diagnosis;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{AuthType, ClientId, ClientSecret, RequestTokenError, Scope, TokenResponse, TokenUrl};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// A token is used until this long before it expires.
const MARGIN: Duration = Duration::from_secs(60);
/// A token without `expires_in` is kept this long.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// Tokens kept at most (one per app and secret; old ones are dropped when full).
const MAX_CACHED: usize = 16;

/// Tokens by app: the SHA-256 of endpoint, client id, secret and scopes.
static CACHE: LazyLock<Mutex<HashMap<String, (String, Instant)>>> = LazyLock::new(Default::default);

fn cache_key(server: &MailServer) -> Option<String> {
    let o = server.settings.oauth.as_ref()?;
    let mut h = Sha256::new();
    for part in [o.token_endpoint().as_str(), o.client_id(), server.client_secret.expose()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for scope in o.scopes() {
        h.update(scope.as_bytes());
        h.update([0]);
    }
    Some(hex::encode(h.finalize()))
}

/// An access token for `server`'s app: the cached one, or (when `fresh`, or none is valid) a
/// new one from the token endpoint.
pub async fn access_token(server: &MailServer, fresh: bool) -> Result<String, SendFailure> {
    let Some(o) = server.settings.oauth.as_ref() else {
        return Err(SendFailure::new(Diagnosis::OAuthRefused, "OAuth2 is chosen but not set up."));
    };
    let key = cache_key(server).unwrap_or_default();
    if !fresh {
        let cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, until)) = cache.get(&key) {
            if Instant::now() + MARGIN < *until {
                return Ok(token.clone());
            }
        }
    }
    let endpoint = o.token_endpoint();
    let unreachable = |what: String| SendFailure::new(Diagnosis::TokenEndpoint, what);
    let token_url = TokenUrl::new(endpoint.clone()).map_err(|e| unreachable(format!("The token endpoint {endpoint} is not a URL: {e}.")))?;
    let client = BasicClient::new(ClientId::new(o.client_id().to_string()))
        .set_client_secret(ClientSecret::new(server.client_secret.expose().to_string()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(token_url);
    let http = reqwest::Client::builder()
        // Token endpoints answer directly; following a redirect could leak the secret.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(u64::from(server.settings.timeout.secs())))
        .build()
        .map_err(|e| unreachable(format!("No HTTP client for the token endpoint: {e}.")))?;
    let request = o
        .scopes()
        .fold(client.exchange_client_credentials(), |r, s| r.add_scope(Scope::new(s.to_string())));
    let started = Instant::now();
    let answer = request.request_async(&http).await.map_err(|e| match e {
        RequestTokenError::ServerResponse(r) => {
            let described = r
                .error_description()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            let diagnosis = match r.error() {
                BasicErrorResponseType::InvalidClient => Diagnosis::OAuthClientRejected,
                _ => Diagnosis::OAuthRefused,
            };
            SendFailure {
                reply: Some(format!("{}{described}", r.error())),
                ..SendFailure::new(
                    diagnosis,
                    format!("The token endpoint refused the app: {}{described}.", r.error()),
                )
            }
        }
        RequestTokenError::Request(e) => unreachable(format!("The token endpoint {endpoint} could not be reached: {e}.")),
        RequestTokenError::Parse(e, _) => unreachable(format!("The token endpoint {endpoint} did not answer with a token: {e}.")),
        RequestTokenError::Other(e) => unreachable(format!("The token endpoint {endpoint} failed: {e}.")),
    })?;
    let token = answer.access_token().secret().clone();
    let until = started + answer.expires_in().unwrap_or(DEFAULT_LIFETIME);
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= MAX_CACHED && !cache.contains_key(&key) {
        cache.clear();
    }
    cache.insert(key, (token.clone(), until));
    Ok(token)
}
