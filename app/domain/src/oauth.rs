//! OAuth2 sign-in (Authentication: OAuth2), as one of two grants ([`Grant`]): an app with the
//! client-credentials grant (Microsoft 365's SMTP.SendAsApp), or a mailbox an admin signed in
//! with (the authorization-code grant with PKCE, then refresh tokens: Microsoft 365 delegated
//! SMTP.Send, Google). The endpoints, tenant, client id and scopes are settings; the client
//! secret is a secret like the password (sealed at rest, never sent back to the browser; a blank
//! field keeps the saved one while the client id and endpoint are unchanged).

use crate::Said;
use super::Password;
use serde::{Deserialize, Serialize};

/// A mailbox an admin connected with "Sign in with …": who it is and the refresh token its
/// access tokens come from (a secret, sealed at rest).
#[derive(Clone, Debug, PartialEq)]
pub struct Mailbox {
    /// The account the provider named (its id token's email), or "" when it named none.
    pub account: String,
    /// The app it was connected through (`settings::oauth_client`); another app drops it.
    pub app: String,
    /// RFC 3339, UTC.
    pub connected_at: String,
    pub connected_by: String,
    pub refresh_token: Password,
}

/// The most characters of the client id, tenant and scopes; an endpoint is a URL of at most
/// 2,000 characters.
const MAX_ID_CHARS: usize = 200;
const MAX_URL_CHARS: usize = 2_000;
/// Where the tenant goes in a token endpoint (Microsoft's URLs carry it).
pub const TENANT_SLOT: &str = "{tenant}";

/// Whose token signs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grant {
    /// The app itself (client credentials): nobody signs in in a browser.
    #[default]
    App,
    /// A mailbox an admin connected with "Sign in with …" (authorization code, refresh token).
    Mailbox,
}

impl Grant {
    pub const ALL: [Grant; 2] = [Grant::App, Grant::Mailbox];

    /// The form's value, and the change history's.
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::App => "app",
            Grant::Mailbox => "mailbox",
        }
    }

    /// Its name on the form (a catalogue id).
    pub fn label_id(self) -> &'static str {
        match self {
            Grant::App => "grant-app",
            Grant::Mailbox => "grant-mailbox",
        }
    }

    /// A blank choice (records and forms from before it) is the app.
    pub fn parse(input: &str) -> Result<Self, Said> {
        match input.trim() {
            "" => Ok(Grant::App),
            other => Self::ALL
                .into_iter()
                .find(|g| g.as_str() == other)
                .ok_or_else(|| Said::new("grant-unknown")),
        }
    }
}

/// Whether the endpoints that `grant` uses hold `{tenant}`, so the Tenant field applies.
pub fn needs_tenant(grant: Grant, token_url: &str, auth_url: &str) -> bool {
    token_url.contains(TENANT_SLOT) || (grant == Grant::Mailbox && auth_url.contains(TENANT_SLOT))
}

/// The OAuth2 settings that passed every rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OAuthWire", into = "OAuthWire")]
pub struct OAuthSettings {
    grant: Grant,
    token_url: String,
    auth_url: Option<String>,
    tenant: Option<String>,
    client_id: String,
    scopes: String,
}

/// The form's OAuth2 fields as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthWire {
    /// "app" or "mailbox" ([`Grant`]); blank in records from before the choice.
    #[serde(default)]
    pub grant: String,
    pub token_url: String,
    /// The authorization endpoint (a mailbox signs in there); may hold `{tenant}` too.
    #[serde(default)]
    pub auth_url: String,
    pub tenant: String,
    pub client_id: String,
    pub scopes: String,
}

/// Which field a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthField {
    Grant,
    TokenUrl,
    AuthUrl,
    Tenant,
    ClientId,
    Scopes,
}

/// An endpoint: https, or http on this machine only (the test peer, a local gateway).
fn endpoint_ok(url: &str) -> bool {
    url.len() <= MAX_URL_CHARS
        && (url.starts_with("https://") || url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost"))
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl OAuthSettings {
    /// Checks the fields; one message per field at fault.
    pub fn parse(w: &OAuthWire) -> Result<Self, Vec<(OAuthField, Said)>> {
        let mut errors = Vec::new();
        let grant = Grant::parse(&w.grant).map_err(|m| errors.push((OAuthField::Grant, m))).unwrap_or_default();
        let token_url = w.token_url.trim();
        if token_url.is_empty() {
            errors.push((OAuthField::TokenUrl, Said::new("oauth-token-url-empty")));
        } else if !endpoint_ok(token_url) {
            errors.push((OAuthField::TokenUrl, Said::new("oauth-token-url-https")));
        }
        // The authorization endpoint counts only for a mailbox (it is kept otherwise, unchecked
        // unless filled, so switching back and forth loses nothing).
        let auth_url = w.auth_url.trim();
        if auth_url.is_empty() && grant == Grant::Mailbox {
            errors.push((OAuthField::AuthUrl, Said::new("oauth-auth-url-empty")));
        } else if !auth_url.is_empty() && !endpoint_ok(auth_url) {
            errors.push((OAuthField::AuthUrl, Said::new("oauth-auth-url-https")));
        }
        let tenant = w.tenant.trim();
        if tenant.is_empty() && needs_tenant(grant, token_url, auth_url) {
            errors.push((OAuthField::Tenant, Said::new("oauth-tenant-empty")));
        } else if tenant.chars().count() > MAX_ID_CHARS
            || !tenant.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            errors.push((OAuthField::Tenant, Said::new("oauth-tenant-invalid")));
        }
        let client_id = w.client_id.trim();
        if client_id.is_empty() {
            errors.push((OAuthField::ClientId, Said::new("oauth-client-id-empty")));
        } else if client_id.chars().count() > MAX_ID_CHARS || client_id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errors.push((OAuthField::ClientId, Said::new("oauth-client-id-invalid").with("max", MAX_ID_CHARS)));
        }
        // Optional (RFC 6749 leaves the scope to the provider), unless the provider is known to
        // need them: then it says which.
        let scopes = w.scopes.split_whitespace().collect::<Vec<_>>().join(" ");
        let needed = super::ProviderOAuth::by_token_url(token_url).and_then(|p| Some((p.brand, p.scopes(grant)?)));
        if let (true, Some((brand, needed))) = (scopes.is_empty(), needed) {
            errors.push((OAuthField::Scopes, Said::new("oauth-scopes-needed").with("brand", brand).with("scopes", needed)));
        } else if scopes.chars().count() > MAX_ID_CHARS * 5 || scopes.chars().any(char::is_control) {
            errors.push((OAuthField::Scopes, Said::new("oauth-scopes-invalid")));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            grant,
            token_url: token_url.to_string(),
            auth_url: (!auth_url.is_empty()).then(|| auth_url.to_string()),
            tenant: (!tenant.is_empty()).then(|| tenant.to_string()),
            client_id: client_id.to_string(),
            scopes,
        })
    }

    fn with_tenant(&self, url: &str) -> String {
        url.replace(TENANT_SLOT, self.tenant.as_deref().unwrap_or("common"))
    }

    /// The token endpoint with the tenant in its place.
    pub fn token_endpoint(&self) -> String {
        self.with_tenant(&self.token_url)
    }

    /// The authorization endpoint with the tenant in its place (set for a mailbox).
    pub fn authorization_endpoint(&self) -> Option<String> {
        self.auth_url.as_deref().map(|u| self.with_tenant(u))
    }

    pub fn grant(&self) -> Grant {
        self.grant
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes.split_whitespace()
    }

    pub fn to_wire(&self) -> OAuthWire {
        OAuthWire {
            grant: self.grant.as_str().to_string(),
            token_url: self.token_url.clone(),
            auth_url: self.auth_url.clone().unwrap_or_default(),
            tenant: self.tenant.clone().unwrap_or_default(),
            client_id: self.client_id.clone(),
            scopes: self.scopes.clone(),
        }
    }
}

impl TryFrom<OAuthWire> for OAuthSettings {
    type Error = Said;
    fn try_from(w: OAuthWire) -> Result<Self, Said> {
        Self::parse(&w).map_err(|e| e.into_iter().next().map(|(_, m)| m).unwrap_or_else(|| Said::new("oauth-invalid")))
    }
}

impl From<OAuthSettings> for OAuthWire {
    fn from(s: OAuthSettings) -> OAuthWire {
        s.to_wire()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(token_url: &str, tenant: &str) -> OAuthWire {
        OAuthWire {
            grant: String::new(),
            auth_url: String::new(),
            token_url: token_url.into(),
            tenant: tenant.into(),
            client_id: "0b1c2d3e-app".into(),
            scopes: " https://outlook.office365.com/.default ".into(),
        }
    }

    #[test]
    fn the_tenant_goes_into_the_endpoint_and_is_required_there() {
        let m365 = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";
        let s = OAuthSettings::parse(&wire(m365, "contoso.onmicrosoft.com")).unwrap();
        assert_eq!(s.token_endpoint(), "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
        assert_eq!(s.scopes().collect::<Vec<_>>(), ["https://outlook.office365.com/.default"]);
        let fields: Vec<OAuthField> = OAuthSettings::parse(&wire(m365, "")).unwrap_err().into_iter().map(|e| e.0).collect();
        assert_eq!(fields, [OAuthField::Tenant]);
        assert!(OAuthSettings::parse(&wire("https://oauth2.googleapis.com/token", "")).is_ok());
    }

    #[test]
    fn endpoints_are_https_except_on_this_machine() {
        for bad in ["http://login.example.com/token", "ftp://x", "https://", "https://a b"] {
            let e = OAuthSettings::parse(&wire(bad, "t")).unwrap_err();
            assert_eq!(e[0].0, OAuthField::TokenUrl, "{bad}");
        }
        assert!(OAuthSettings::parse(&wire("http://127.0.0.1:8080/t/oauth2/v2.0/token", "")).is_ok());
    }

    #[test]
    fn stored_settings_are_checked_again_when_read() {
        let ok = serde_json::to_value(OAuthSettings::parse(&wire("https://t.example/token", "")).unwrap()).unwrap();
        assert!(serde_json::from_value::<OAuthSettings>(ok).is_ok());
        let bad = serde_json::json!({"token_url": "ftp://x", "tenant": "", "client_id": "a", "scopes": "s"});
        assert!(serde_json::from_value::<OAuthSettings>(bad).is_err());
        // Records from before the grant choice are the app's.
        let old = serde_json::json!({"token_url": "https://t.example/token", "tenant": "", "client_id": "a", "scopes": "s"});
        assert_eq!(serde_json::from_value::<OAuthSettings>(old).unwrap().grant(), Grant::App);
    }

    #[test]
    fn a_mailbox_needs_the_authorization_endpoint_with_its_tenant() {
        let m365 = |tenant: &str, auth: &str| OAuthWire {
            grant: "mailbox".into(),
            token_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token".into(),
            auth_url: auth.into(),
            ..wire("", tenant)
        };
        let auth = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize";
        let s = OAuthSettings::parse(&m365("contoso", auth)).unwrap();
        assert_eq!(s.grant(), Grant::Mailbox);
        assert_eq!(
            s.authorization_endpoint().as_deref(),
            Some("https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize")
        );
        let fields = |w: OAuthWire| OAuthSettings::parse(&w).unwrap_err().into_iter().map(|e| e.0).collect::<Vec<_>>();
        assert_eq!(fields(m365("contoso", "")), [OAuthField::AuthUrl]);
        assert_eq!(fields(m365("contoso", "http://evil.example/authorize")), [OAuthField::AuthUrl]);
        assert_eq!(fields(OAuthWire { grant: "robot".into(), ..m365("contoso", auth) }), [OAuthField::Grant]);
        // The app ignores a blank authorization endpoint.
        assert!(OAuthSettings::parse(&OAuthWire { grant: "app".into(), ..m365("contoso", "") }).is_ok());
    }

    #[test]
    fn scopes_are_optional_unless_the_provider_needs_them() {
        let blank = |token_url: &str, grant: &str| OAuthWire {
            grant: grant.into(),
            auth_url: "https://idp.example/authorize".into(),
            scopes: "  ".into(),
            ..wire(token_url, "contoso")
        };
        let other = OAuthSettings::parse(&blank("https://idp.example/token", "app")).unwrap();
        assert_eq!(other.scopes().count(), 0, "no empty scope is asked for");
        assert!(OAuthSettings::parse(&blank("https://idp.example/token", "mailbox")).is_ok());
        let m365 = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";
        let e = OAuthSettings::parse(&blank(m365, "app")).unwrap_err();
        assert_eq!(e[0].0, OAuthField::Scopes);
        assert!(e[0].1.english().contains("Microsoft needs the scopes") && e[0].1.english().contains(".default"), "{e:?}");
    }

    #[test]
    fn the_tenant_applies_where_an_endpoint_in_use_holds_it() {
        let slot = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize";
        assert!(needs_tenant(Grant::App, "https://login.microsoftonline.com/{tenant}/token", ""));
        assert!(!needs_tenant(Grant::App, "https://oauth2.googleapis.com/token", slot));
        assert!(needs_tenant(Grant::Mailbox, "https://oauth2.googleapis.com/token", slot));
        assert!(!needs_tenant(Grant::Mailbox, "https://oauth2.googleapis.com/token", "https://accounts.google.com/o/oauth2/v2/auth"));
    }
}
