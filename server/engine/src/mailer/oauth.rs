//! OAuth2 for AUTH XOAUTH2, with the `oauth2` crate: access tokens for an app (client
//! credentials) or a connected mailbox (its refresh token), cached until a minute before they
//! expire; and the mailbox's sign-in (the authorization-code grant with PKCE). A token the mail
//! server refuses is fetched again once ([`access_token`] with `fresh`).

use crate::domain::Said;
use super::SendFailure;
use crate::domain::{Grant, MailServer, OAuthSettings, Password};
use crate::report::Diagnosis;
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use crate::store::SharedStore;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A token is used until this long before it expires.
const MARGIN: Duration = Duration::from_secs(60);
/// A token without `expires_in` is kept this long.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// Access tokens kept at most; all are dropped when full.
const MAX_CACHED: usize = 16;
/// How long a token request may take when no settings say (the sign-in's code exchange).
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(15);

/// The id token beside the access token (OpenID Connect), which names the mailbox.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenField {}

type Answer = StandardTokenResponse<IdTokenField, BasicTokenType>;
type Client<HasAuthUrl, HasTokenUrl> = oauth2::Client<
    BasicErrorResponse,
    Answer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuthUrl,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
>;

/// OAuth2's tokens in one process. Access tokens are cached until a minute before they expire,
/// by app (and mailbox): the SHA-256 of endpoint, client id, secret, scopes and connection. The
/// cache is this process's alone (another instance fetches its own: one token request more,
/// nothing else). The connected mailbox's refresh token is not: it is read from the store
/// before each refresh, and one the provider rotates is stored at once (compare-and-swap on the
/// one it replaces), so no instance, and no later start, refreshes with a token the provider
/// has replaced.
#[derive(Clone)]
pub struct Tokens {
    cache: Arc<Mutex<HashMap<String, (String, Instant)>>>,
    store: Option<SharedStore>,
}

impl Tokens {
    pub fn new(store: SharedStore) -> Self {
        Self {
            cache: Default::default(),
            store: Some(store),
        }
    }

    /// Without a store (a benchmark's or a unit test's sends): a rotated refresh token is used
    /// for this process's cached access token and not kept.
    pub fn unkept() -> Self {
        Self {
            cache: Default::default(),
            store: None,
        }
    }

    /// The connection's newest refresh token: the stored one if the store still holds the same
    /// connection (another instance may have rotated it), else the settings'.
    async fn refresh_token(&self, server: &MailServer) -> Option<Password> {
        let mailbox = server.mailbox.as_ref()?;
        let Some(store) = self.store.clone() else {
            return Some(mailbox.refresh_token.clone());
        };
        let stored = match store.load_mail().await {
            Ok(Some(saved)) => saved.value.mailbox.filter(|m| {
                m.account == mailbox.account && m.connected_at == mailbox.connected_at
            }),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "oauth: reading the stored refresh token failed; using the settings' one");
                None
            }
        };
        Some(stored.map_or_else(|| mailbox.refresh_token.clone(), |m| m.refresh_token))
    }

    /// The provider replaced `old` with `new`: stored before anything else uses it.
    async fn rotated(&self, old: Password, new: Password) {
        let Some(store) = self.store.clone() else { return };
        match store.rotate_refresh_token(&old, new).await {
            Ok(true) => tracing::info!("oauth: the provider rotated the mailbox's refresh token; stored"),
            Ok(false) => tracing::warn!(
                "oauth: the provider rotated the mailbox's refresh token, but the stored one had changed meanwhile (reconnected, or rotated by another instance); kept the stored one"
            ),
            Err(e) => tracing::error!(error = %e, "oauth: storing the rotated refresh token failed"),
        }
    }
}

fn digest<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// The app and, for a mailbox, which connection: its account and when it was connected (not its
/// refresh token, which the provider may rotate at every refresh).
fn cache_key(server: &MailServer, o: &OAuthSettings) -> String {
    let endpoint = o.token_endpoint();
    let (account, connected_at) = server
        .mailbox
        .as_ref()
        .map_or(("", ""), |m| (m.account.as_str(), m.connected_at.as_str()));
    digest(
        [
            endpoint.as_str(),
            o.client_id(),
            server.client_secret.expose(),
            account,
            connected_at,
        ]
        .into_iter()
        .chain(o.scopes()),
    )
}

fn bounded_insert<V>(map: &mut HashMap<String, V>, key: String, value: V) {
    if map.len() >= MAX_CACHED && !map.contains_key(&key) {
        map.clear();
    }
    map.insert(key, value);
}

fn http_client(timeout: Duration) -> Result<reqwest::Client, SendFailure> {
    reqwest::Client::builder()
        // Token endpoints answer directly; following a redirect could leak the secret.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| endpoint_failure(Said::new("summary-no-http-client").with("reason", e)))
}

/// A failure to reach or even address the token endpoint (retried by the outbox).
fn endpoint_failure(what: Said) -> SendFailure {
    SendFailure::new(Diagnosis::TokenEndpoint, what)
}

fn client(o: &OAuthSettings, secret: &Password) -> Result<Client<EndpointNotSet, EndpointSet>, SendFailure> {
    let endpoint = o.token_endpoint();
    let token_url = TokenUrl::new(endpoint.clone())
        .map_err(|e| endpoint_failure(Said::new("summary-token-url-invalid").with("endpoint", &endpoint).with("reason", e)))?;
    Ok(Client::new(ClientId::new(o.client_id().to_string()))
        .set_client_secret(ClientSecret::new(secret.expose().to_string()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(token_url))
}

/// A token endpoint's refusal as a diagnosis.
fn refused(
    endpoint: &str,
    grant: Grant,
    e: RequestTokenError<oauth2::HttpClientError<reqwest::Error>, BasicErrorResponse>,
) -> SendFailure {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let described = r
                .error_description()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            let diagnosis = match r.error() {
                BasicErrorResponseType::InvalidClient => Diagnosis::OAuthClientRejected,
                // The refresh token expired or was revoked (consent withdrawn, password changed).
                BasicErrorResponseType::InvalidGrant if grant == Grant::Mailbox => Diagnosis::MailboxSignIn,
                _ => Diagnosis::OAuthRefused,
            };
            SendFailure {
                reply: Some(format!("{}{described}", r.error())),
                ..SendFailure::new(
                    diagnosis,
                    Said::new("summary-token-refused").with("reason", format!("{}{described}", r.error())),
                )
            }
        }
        RequestTokenError::Request(e) => {
            endpoint_failure(Said::new("summary-token-unreachable").with("endpoint", endpoint).with("reason", e))
        }
        RequestTokenError::Parse(e, _) => {
            endpoint_failure(Said::new("summary-token-no-token").with("endpoint", endpoint).with("reason", e))
        }
        RequestTokenError::Other(e) => endpoint_failure(Said::new("summary-token-failed").with("endpoint", endpoint).with("reason", e)),
    }
}

/// An access token, and a line for the transcript saying where it came from (never the token).
pub struct AccessToken {
    pub secret: String,
    pub note: String,
}

/// Whose token it is, in words.
fn whose(server: &MailServer, o: &OAuthSettings) -> String {
    match (o.grant(), server.mailbox.as_ref()) {
        (Grant::App, _) => "the app".to_string(),
        (Grant::Mailbox, Some(m)) if !m.account.is_empty() => format!("the mailbox {}", m.account),
        (Grant::Mailbox, _) => "the connected mailbox".to_string(),
    }
}

/// An access token for `server`: the cached one, or (when `fresh`, or none is valid) a new
/// one from the token endpoint, for the app (client credentials) or the connected mailbox (its
/// refresh token).
pub async fn access_token(server: &MailServer, fresh: bool, tokens: &Tokens) -> Result<AccessToken, SendFailure> {
    let Some(o) = server.settings.oauth.as_ref() else {
        return Err(SendFailure::new(
            Diagnosis::OAuthRefused,
            Said::new("summary-oauth-not-set-up"),
        ));
    };
    let key = cache_key(server, o);
    if !fresh {
        let cache = tokens.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, until)) = cache.get(&key) {
            let now = Instant::now();
            if now + MARGIN < *until {
                return Ok(AccessToken {
                    secret: token.clone(),
                    note: format!(
                        "OAuth2: access token for {} from the cache, valid {} more min",
                        whose(server, o),
                        until.duration_since(now).as_secs() / 60
                    ),
                });
            }
        }
    }
    let endpoint = o.token_endpoint();
    let client = client(o, &server.client_secret)?;
    let http = http_client(Duration::from_secs(u64::from(server.settings.timeout.secs())))?;
    let started = Instant::now();
    let answer = match o.grant() {
        Grant::App => {
            let request = o
                .scopes()
                .fold(client.exchange_client_credentials(), |r, s| r.add_scope(Scope::new(s.to_string())));
            request.request_async(&http).await
        }
        Grant::Mailbox => {
            let Some(stored) = tokens.refresh_token(server).await else {
                return Err(SendFailure::new(
                    Diagnosis::MailboxSignIn,
                    Said::new("summary-no-mailbox"),
                ));
            };
            let current = RefreshToken::new(stored.expose().to_string());
            // With the settings' scopes (a subset of those granted, as RFC 6749 section 6 allows):
            // Microsoft's endpoint wants them to say which resource the token is for.
            let request = o
                .scopes()
                .fold(client.exchange_refresh_token(&current), |r, s| r.add_scope(Scope::new(s.to_string())));
            let answer = request.request_async(&http).await;
            // A provider that rotates refresh tokens (Microsoft does) sends a new one: stored
            // at once, before the access token is used.
            if let Some(new) = answer.as_ref().ok().and_then(|a| a.refresh_token()) {
                if new.secret() != current.secret() {
                    tokens.rotated(stored, Password::new(new.secret().clone())).await;
                }
            }
            answer
        }
    }
    .map_err(|e| refused(&endpoint, o.grant(), e))?;
    let token = answer.access_token().secret().clone();
    let until = started + answer.expires_in().unwrap_or(DEFAULT_LIFETIME);
    let mut cache = tokens.cache.lock().unwrap_or_else(|p| p.into_inner());
    bounded_insert(&mut cache, key, (token.clone(), until));
    let how = match o.grant() {
        Grant::App => "client credentials",
        Grant::Mailbox => "refresh token",
    };
    Ok(AccessToken {
        note: format!(
            "OAuth2: new access token for {} from {endpoint} ({how}), valid {} min",
            whose(server, o),
            until.saturating_duration_since(Instant::now()).as_secs() / 60
        ),
        secret: token,
    })
}

/// A mailbox's sign-in under way: where to send the browser, and what proves the answer.
pub struct SignIn {
    pub url: String,
    /// The `state` the provider sends back (compared in constant time by the caller's lookup).
    pub state: String,
    pub verifier: String,
}

/// The authorization request for `o` (a mailbox): PKCE (S256), the settings' scopes plus
/// `openid email` (so the answer names the mailbox) and the providers' ways of asking for a
/// refresh token (`offline_access` for Microsoft, `access_type=offline` for Google, consent
/// asked again so one always comes). `login_hint` preselects the Email Account.
pub fn sign_in(o: &OAuthSettings, redirect_uri: &str, login_hint: &str) -> Result<SignIn, String> {
    let auth = o
        .authorization_endpoint()
        .ok_or("Enter the authorization endpoint (the provider preset fills it)")?;
    let client: Client<EndpointSet, EndpointNotSet> = Client::new(ClientId::new(o.client_id().to_string()))
        .set_auth_uri(
            AuthUrl::new(auth).map_err(|e| format!("The authorization endpoint is not a URL: {e}"))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_string())
                .map_err(|e| format!("The redirect URI is not a URL: {e}"))?,
        );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let google = o
        .authorization_endpoint()
        .is_some_and(|u| u.starts_with("https://accounts.google.com/"));
    let mut scopes: Vec<&str> = o.scopes().collect();
    for extra in ["openid", "email"] {
        if !scopes.contains(&extra) {
            scopes.push(extra);
        }
    }
    if !google && !scopes.contains(&"offline_access") {
        scopes.push("offline_access");
    }
    let mut request = scopes
        .into_iter()
        .fold(client.authorize_url(CsrfToken::new_random), |r, s| {
            r.add_scope(Scope::new(s.to_string()))
        })
        .set_pkce_challenge(challenge)
        .add_extra_param("prompt", "consent");
    if google {
        request = request.add_extra_param("access_type", "offline");
    }
    if !login_hint.is_empty() {
        request = request.add_extra_param("login_hint", login_hint.to_string());
    }
    let (url, state) = request.url();
    Ok(SignIn {
        url: url.to_string(),
        state: state.secret().clone(),
        verifier: verifier.secret().clone(),
    })
}

/// What a finished sign-in brings: the refresh token and the account the provider named.
pub struct Connected {
    pub refresh_token: Password,
    pub account: String,
}

/// Exchanges the authorization `code` for tokens (with the PKCE `verifier`), for the app in
/// `o` with `secret`.
pub async fn finish_sign_in(
    o: &OAuthSettings,
    secret: &Password,
    redirect_uri: &str,
    code: &str,
    verifier: &str,
) -> Result<Connected, SendFailure> {
    let endpoint = o.token_endpoint();
    let redirect = RedirectUrl::new(redirect_uri.to_string())
        .map_err(|e| endpoint_failure(Said::new("summary-redirect-invalid").with("reason", e)))?;
    let client = client(o, secret)?.set_redirect_uri(redirect);
    let answer = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()))
        .request_async(&http_client(SIGN_IN_TIMEOUT)?)
        .await
        .map_err(|e| refused(&endpoint, Grant::App, e))?;
    let Some(refresh) = answer.refresh_token() else {
        return Err(SendFailure::new(
            Diagnosis::OAuthRefused,
            Said::new("summary-no-refresh-token"),
        ));
    };
    // The id token came straight from the token endpoint over TLS, which OpenID Connect
    // accepts in place of checking its signature (Core 1.0, 3.1.3.7); only its name is read.
    let account = answer
        .extra_fields()
        .id_token
        .as_deref()
        .and_then(id_token_account)
        .unwrap_or_default();
    Ok(Connected {
        refresh_token: Password::new(refresh.secret().clone()),
        account,
    })
}

/// The account an id token names: its `email`, else `preferred_username` (Microsoft), else
/// `upn`. Never panics on any input.
pub fn id_token_account(id_token: &str) -> Option<String> {
    use base64::Engine;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    ["email", "preferred_username", "upn"]
        .iter()
        .find_map(|k| claims.get(*k).and_then(|v| v.as_str()))
        .map(|s| s.chars().filter(|c| !c.is_control()).take(254).collect())
        .filter(|s: &String| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(b"{\"alg\":\"none\"}"),
            e.encode(claims.to_string())
        )
    }

    #[tokio::test]
    async fn the_id_token_names_the_mailbox() {
        assert_eq!(
            id_token_account(&jwt(serde_json::json!({"email": "a@example.com"}))).as_deref(),
            Some("a@example.com")
        );
        let ms = jwt(serde_json::json!({"preferred_username": "b@contoso.com", "name": "B"}));
        assert_eq!(id_token_account(&ms).as_deref(), Some("b@contoso.com"));
        for bad in [
            "",
            "a",
            "a.b.c",
            "a.!!!.c",
            &jwt(serde_json::json!({"sub": "x"})),
            &jwt(serde_json::json!({"email": 5})),
        ] {
            assert_eq!(id_token_account(bad), None, "{bad}");
        }
        let control = jwt(serde_json::json!({"email": "a@example.com\r\nBcc: x"}));
        assert_eq!(id_token_account(&control).as_deref(), Some("a@example.comBcc: x"));
    }

    #[tokio::test]
    async fn the_sign_in_asks_for_a_refresh_token_with_pkce() {
        let wire = crate::domain::OAuthWire {
            grant: "mailbox".into(),
            token_url: "https://oauth2.googleapis.com/token".into(),
            auth_url: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            tenant: String::new(),
            client_id: "app-1".into(),
            scopes: "https://mail.google.com/".into(),
        };
        let google = OAuthSettings::parse(&wire).unwrap();
        let s = sign_in(
            &google,
            "https://mailroom.example/oauth/callback",
            "a@example.com",
        )
        .unwrap();
        let url = url::Url::parse(&s.url).unwrap();
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["state"], s.state);
        assert_eq!(q["scope"], "https://mail.google.com/ openid email");
        assert_eq!(
            (q["access_type"].as_str(), q["prompt"].as_str()),
            ("offline", "consent")
        );
        assert_eq!(q["login_hint"], "a@example.com");
        assert_eq!(q["redirect_uri"], "https://mailroom.example/oauth/callback");
        assert!(s.verifier.len() >= 43);
        let m365 = OAuthSettings::parse(&crate::domain::OAuthWire {
            token_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token".into(),
            auth_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize".into(),
            tenant: "contoso".into(),
            scopes: "https://outlook.office.com/SMTP.Send offline_access".into(),
            ..wire
        })
        .unwrap();
        let url = url::Url::parse(&sign_in(&m365, "https://m.example/cb", "").unwrap().url).unwrap();
        assert!(url
            .as_str()
            .starts_with("https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize?"));
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(
            q["scope"],
            "https://outlook.office.com/SMTP.Send offline_access openid email"
        );
        assert!(!q.contains_key("access_type") && !q.contains_key("login_hint"));
    }
}
