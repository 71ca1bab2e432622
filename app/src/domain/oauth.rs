//! OAuth2 sign-in (Authentication: OAuth2): the client-credentials grant, as Microsoft 365
//! offers it for apps sending as a mailbox (SMTP.SendAsApp). The token endpoint, tenant, client
//! id and scopes are settings; the client secret is a secret like the password (sealed at rest,
//! never sent back to the browser; a blank field keeps the saved one while the client id and
//! endpoint are unchanged).

use serde::{Deserialize, Serialize};

/// The most characters of the client id, tenant and scopes; an endpoint is a URL of at most
/// 2,000 characters.
const MAX_ID_CHARS: usize = 200;
const MAX_URL_CHARS: usize = 2_000;
/// Where the tenant goes in a token endpoint (Microsoft's URLs carry it).
pub const TENANT_SLOT: &str = "{tenant}";

/// The OAuth2 settings that passed every rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OAuthWire", into = "OAuthWire")]
pub struct OAuthSettings {
    token_url: String,
    tenant: Option<String>,
    client_id: String,
    scopes: String,
}

/// The form's OAuth2 fields as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthWire {
    pub token_url: String,
    pub tenant: String,
    pub client_id: String,
    pub scopes: String,
}

/// Which field a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthField {
    TokenUrl,
    Tenant,
    ClientId,
    Scopes,
}

impl OAuthSettings {
    /// Checks the fields; one message per field at fault.
    pub fn parse(w: &OAuthWire) -> Result<Self, Vec<(OAuthField, String)>> {
        let mut errors = Vec::new();
        let token_url = w.token_url.trim();
        let url_ok = token_url.len() <= MAX_URL_CHARS
            && (token_url.starts_with("https://")
                || token_url.starts_with("http://127.0.0.1")
                || token_url.starts_with("http://localhost"))
            && token_url.len() > "https://".len()
            && !token_url.chars().any(|c| c.is_whitespace() || c.is_control());
        if token_url.is_empty() {
            errors.push((OAuthField::TokenUrl, "Enter the token endpoint (the provider preset fills it)".into()));
        } else if !url_ok {
            errors.push((
                OAuthField::TokenUrl,
                "The token endpoint is an https:// address (http:// only on this machine)".into(),
            ));
        }
        let tenant = w.tenant.trim();
        let needs_tenant = token_url.contains(TENANT_SLOT);
        if tenant.is_empty() && needs_tenant {
            errors.push((
                OAuthField::Tenant,
                "Enter the tenant (directory) ID or domain, e.g. contoso.onmicrosoft.com".into(),
            ));
        } else if tenant.chars().count() > MAX_ID_CHARS
            || !tenant.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            errors.push((OAuthField::Tenant, "A tenant is an ID or a domain: letters, digits, dots and dashes".into()));
        }
        let client_id = w.client_id.trim();
        if client_id.is_empty() {
            errors.push((OAuthField::ClientId, "Enter the client (application) ID of the app registration".into()));
        } else if client_id.chars().count() > MAX_ID_CHARS || client_id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errors.push((OAuthField::ClientId, "A client ID has no spaces and at most 200 characters".into()));
        }
        let scopes = w.scopes.split_whitespace().collect::<Vec<_>>().join(" ");
        if scopes.is_empty() {
            errors.push((OAuthField::Scopes, "Enter the scopes to ask for (the provider preset fills them)".into()));
        } else if scopes.chars().count() > MAX_ID_CHARS * 5 || scopes.chars().any(char::is_control) {
            errors.push((OAuthField::Scopes, "Scopes are one line, separated by spaces".into()));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            token_url: token_url.to_string(),
            tenant: (!tenant.is_empty()).then(|| tenant.to_string()),
            client_id: client_id.to_string(),
            scopes,
        })
    }

    /// The token endpoint with the tenant in its place.
    pub fn token_endpoint(&self) -> String {
        self.token_url
            .replace(TENANT_SLOT, self.tenant.as_deref().unwrap_or("common"))
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes.split(' ')
    }

    pub fn to_wire(&self) -> OAuthWire {
        OAuthWire {
            token_url: self.token_url.clone(),
            tenant: self.tenant.clone().unwrap_or_default(),
            client_id: self.client_id.clone(),
            scopes: self.scopes.clone(),
        }
    }
}

impl TryFrom<OAuthWire> for OAuthSettings {
    type Error = String;
    fn try_from(w: OAuthWire) -> Result<Self, String> {
        Self::parse(&w).map_err(|e| e.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("; "))
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
    }
}
