//! The settings form's fields and the form exactly as typed.

use serde::{Deserialize, Serialize};

/// The form's fields; `id()` is both the HTML id and the form name of the control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Field {
    Host,
    Port,
    Authentication,
    Account,
    Password,
    OAuthGrant,
    OAuthTokenUrl,
    OAuthAuthUrl,
    OAuthTenant,
    OAuthClientId,
    OAuthClientSecret,
    OAuthScopes,
    ServerType,
    FromAddress,
    FromName,
    Encryption,
    HeloName,
    Timeout,
    ReplyTo,
    CaPem,
    SkipVerify,
    /// Not a setting: the recipient of a test mail.
    SendTo,
}

impl Field {
    /// The fields that are settings, in form order.
    pub const SETTINGS: [Field; 21] = [
        Field::Host,
        Field::Port,
        Field::Authentication,
        Field::Account,
        Field::Password,
        Field::OAuthGrant,
        Field::OAuthTokenUrl,
        Field::OAuthAuthUrl,
        Field::OAuthTenant,
        Field::OAuthClientId,
        Field::OAuthClientSecret,
        Field::OAuthScopes,
        Field::ServerType,
        Field::FromAddress,
        Field::FromName,
        Field::Encryption,
        Field::HeloName,
        Field::Timeout,
        Field::ReplyTo,
        Field::CaPem,
        Field::SkipVerify,
    ];

    /// The settings under the form's "Advanced" section.
    pub const ADVANCED: [Field; 5] = [
        Field::HeloName,
        Field::Timeout,
        Field::ReplyTo,
        Field::CaPem,
        Field::SkipVerify,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Field::Host => "host",
            Field::Port => "port",
            Field::Authentication => "authentication",
            Field::Account => "account",
            Field::Password => "password",
            Field::OAuthGrant => "oauth_grant",
            Field::OAuthTokenUrl => "oauth_token_url",
            Field::OAuthAuthUrl => "oauth_auth_url",
            Field::OAuthTenant => "oauth_tenant",
            Field::OAuthClientId => "oauth_client_id",
            Field::OAuthClientSecret => "oauth_client_secret",
            Field::OAuthScopes => "oauth_scopes",
            Field::ServerType => "server_type",
            Field::FromAddress => "from_address",
            Field::FromName => "from_name",
            Field::Encryption => "encryption",
            Field::HeloName => "helo_name",
            Field::Timeout => "timeout",
            Field::ReplyTo => "reply_to",
            Field::CaPem => "ca_pem",
            Field::SkipVerify => "skip_verify",
            Field::SendTo => "send_to",
        }
    }

    /// The visible label (a catalogue id, `field-…`): the product's wording, the field names of
    /// the Mail Server page.
    pub fn label_id(self) -> &'static str {
        match self {
            Field::Host => "field-host",
            Field::Port => "field-port",
            Field::Authentication => "field-authentication",
            Field::Account => "field-account",
            Field::Password => "field-password",
            Field::OAuthGrant => "field-oauth-grant",
            Field::OAuthTokenUrl => "field-oauth-token-url",
            Field::OAuthAuthUrl => "field-oauth-auth-url",
            Field::OAuthTenant => "field-oauth-tenant",
            Field::OAuthClientId => "field-oauth-client-id",
            Field::OAuthClientSecret => "field-oauth-client-secret",
            Field::OAuthScopes => "field-oauth-scopes",
            Field::ServerType => "field-server-type",
            Field::FromAddress => "field-from-address",
            Field::FromName => "field-from-name",
            Field::Encryption => "field-encryption",
            Field::HeloName => "field-helo-name",
            Field::Timeout => "field-timeout",
            Field::ReplyTo => "field-reply-to",
            Field::CaPem => "field-ca-pem",
            Field::SkipVerify => "field-skip-verify",
            Field::SendTo => "field-send-to",
        }
    }

    /// The environment variable that sets this field when the settings come from the
    /// configuration (`MAILROOM_SMTP_HOST`, …); its key in `MAILROOM_SETTINGS_FILE` is
    /// [`Self::id`]. Secrets and the CA certificate may come from a file (`…_FILE`).
    pub fn variable(self) -> &'static str {
        match self {
            Field::Host => "MAILROOM_SMTP_HOST",
            Field::Port => "MAILROOM_SMTP_PORT",
            Field::Authentication => "MAILROOM_SMTP_AUTHENTICATION",
            Field::Account => "MAILROOM_SMTP_ACCOUNT",
            Field::Password => "MAILROOM_SMTP_PASSWORD",
            Field::OAuthGrant => "MAILROOM_SMTP_OAUTH_GRANT",
            Field::OAuthTokenUrl => "MAILROOM_SMTP_OAUTH_TOKEN_URL",
            Field::OAuthAuthUrl => "MAILROOM_SMTP_OAUTH_AUTH_URL",
            Field::OAuthTenant => "MAILROOM_SMTP_OAUTH_TENANT",
            Field::OAuthClientId => "MAILROOM_SMTP_OAUTH_CLIENT_ID",
            Field::OAuthClientSecret => "MAILROOM_SMTP_OAUTH_CLIENT_SECRET",
            Field::OAuthScopes => "MAILROOM_SMTP_OAUTH_SCOPES",
            Field::ServerType => "MAILROOM_SMTP_SERVER_TYPE",
            Field::FromAddress => "MAILROOM_SMTP_FROM_ADDRESS",
            Field::FromName => "MAILROOM_SMTP_FROM_NAME",
            Field::Encryption => "MAILROOM_SMTP_ENCRYPTION",
            Field::HeloName => "MAILROOM_SMTP_HELO_NAME",
            Field::Timeout => "MAILROOM_SMTP_TIMEOUT",
            Field::ReplyTo => "MAILROOM_SMTP_REPLY_TO",
            Field::CaPem => "MAILROOM_SMTP_CA_PEM",
            Field::SkipVerify => "MAILROOM_SMTP_SKIP_VERIFY",
            Field::SendTo => "",
        }
    }

    /// Whether the field holds a secret: the change history says only that it changed.
    pub fn is_secret(self) -> bool {
        matches!(self, Field::Password | Field::OAuthClientSecret)
    }
}

pub const DEFAULT_TIMEOUT_SECS: u32 = 15;
pub const MAX_TIMEOUT_SECS: u32 = 120;
pub const MAX_DISPLAY_NAME_CHARS: usize = 78;
/// RFC 5321's limit on a path (an address).
pub const MAX_ADDRESS_CHARS: usize = 254;
/// A DNS name's limit.
pub const MAX_HOST_CHARS: usize = 253;
pub const MAX_PASSWORD_CHARS: usize = 1024;
pub const MAX_CA_PEM_CHARS: usize = 64 * 1024;

/// The form exactly as typed: every field a string (or a switch), nothing checked yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailServerForm {
    pub host: String,
    pub port: String,
    /// "password" or "none" ([`super::Authentication`]).
    pub authentication: String,
    pub account: String,
    pub password: String,
    /// OAuth2: whose token ("app" or "mailbox"), the token and authorization endpoints (may
    /// hold `{tenant}`), the tenant, the app's client id and secret, and the scopes asked for.
    pub oauth_grant: String,
    pub oauth_token_url: String,
    pub oauth_auth_url: String,
    pub oauth_tenant: String,
    pub oauth_client_id: String,
    pub oauth_client_secret: String,
    pub oauth_scopes: String,
    pub server_type: String,
    pub from_address: String,
    pub from_name: String,
    pub starttls: bool,
    pub ssl: bool,
    pub helo_name: String,
    pub timeout: String,
    pub reply_to: String,
    pub ca_pem: String,
    pub skip_verify: bool,
}

impl Default for MailServerForm {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: String::new(),
            authentication: super::Authentication::Password.as_str().to_string(),
            account: String::new(),
            password: String::new(),
            oauth_grant: super::Grant::App.as_str().to_string(),
            oauth_token_url: String::new(),
            oauth_auth_url: String::new(),
            oauth_tenant: String::new(),
            oauth_client_id: String::new(),
            oauth_client_secret: String::new(),
            oauth_scopes: String::new(),
            server_type: super::ServerType::Smtp.as_str().to_string(),
            from_address: String::new(),
            from_name: String::new(),
            starttls: false,
            ssl: false,
            helo_name: String::new(),
            timeout: DEFAULT_TIMEOUT_SECS.to_string(),
            reply_to: String::new(),
            ca_pem: String::new(),
            skip_verify: false,
        }
    }
}

impl MailServerForm {
    /// The text typed into `field`; `None` for the switches (Encryption, SkipVerify) and SendTo.
    pub fn text(&self, field: Field) -> Option<&str> {
        let form = self;
        Some(match field {
            Field::Host => &form.host,
            Field::Port => &form.port,
            Field::Authentication => &form.authentication,
            Field::Account => &form.account,
            Field::Password => &form.password,
            Field::OAuthGrant => &form.oauth_grant,
            Field::OAuthTokenUrl => &form.oauth_token_url,
            Field::OAuthAuthUrl => &form.oauth_auth_url,
            Field::OAuthTenant => &form.oauth_tenant,
            Field::OAuthClientId => &form.oauth_client_id,
            Field::OAuthClientSecret => &form.oauth_client_secret,
            Field::OAuthScopes => &form.oauth_scopes,
            Field::ServerType => &form.server_type,
            Field::FromAddress => &form.from_address,
            Field::FromName => &form.from_name,
            Field::HeloName => &form.helo_name,
            Field::Timeout => &form.timeout,
            Field::ReplyTo => &form.reply_to,
            Field::CaPem => &form.ca_pem,
            Field::Encryption | Field::SkipVerify | Field::SendTo => return None,
        })
    }

    /// Replaces the text of `field`; switches and SendTo are left alone.
    pub fn set_text(&mut self, field: Field, value: String) {
        let slot = match field {
            Field::Host => &mut self.host,
            Field::Port => &mut self.port,
            Field::Authentication => &mut self.authentication,
            Field::Account => &mut self.account,
            Field::Password => &mut self.password,
            Field::OAuthGrant => &mut self.oauth_grant,
            Field::OAuthTokenUrl => &mut self.oauth_token_url,
            Field::OAuthAuthUrl => &mut self.oauth_auth_url,
            Field::OAuthTenant => &mut self.oauth_tenant,
            Field::OAuthClientId => &mut self.oauth_client_id,
            Field::OAuthClientSecret => &mut self.oauth_client_secret,
            Field::OAuthScopes => &mut self.oauth_scopes,
            Field::ServerType => &mut self.server_type,
            Field::FromAddress => &mut self.from_address,
            Field::FromName => &mut self.from_name,
            Field::HeloName => &mut self.helo_name,
            Field::Timeout => &mut self.timeout,
            Field::ReplyTo => &mut self.reply_to,
            Field::CaPem => &mut self.ca_pem,
            Field::Encryption | Field::SkipVerify | Field::SendTo => return,
        };
        *slot = value;
    }

    /// These edits (the fields that differ from `base`, the version they were made on) applied
    /// on top of `newer`, a version saved since: what "keep my edits" after a conflict saves.
    pub fn rebase(&self, base: &MailServerForm, newer: &MailServerForm) -> MailServerForm {
        let mut out = newer.clone();
        for field in Field::SETTINGS {
            if self.value(field) == base.value(field) {
                continue;
            }
            match field {
                Field::Encryption => (out.starttls, out.ssl) = (self.starttls, self.ssl),
                Field::SkipVerify => out.skip_verify = self.skip_verify,
                text => out.set_text(text, self.text(text).unwrap_or_default().to_string()),
            }
        }
        out
    }

    /// Sets a setting from one line of text as the configuration writes it: the text fields as
    /// typed; Encryption as `none`, `starttls` or `ssl`; Skip certificate verification as
    /// `true`/`false` (also `on`/`off`, `yes`/`no`, `1`/`0`). An error says what is expected.
    pub fn set_value(&mut self, field: Field, value: &str) -> Result<(), String> {
        match field {
            Field::Encryption => {
                (self.starttls, self.ssl) = match value.trim().to_ascii_lowercase().as_str() {
                    "none" | "" => (false, false),
                    "starttls" => (true, false),
                    "ssl" | "tls" => (false, true),
                    _ => return Err(format!("{value:?} is not one of none, starttls or ssl")),
                }
            }
            Field::SkipVerify => {
                self.skip_verify = match value.trim().to_ascii_lowercase().as_str() {
                    "true" | "on" | "yes" | "1" => true,
                    "false" | "off" | "no" | "0" | "" => false,
                    _ => return Err(format!("{value:?} is not true or false")),
                }
            }
            Field::SendTo => return Err("not a setting".into()),
            text => self.set_text(text, value.to_string()),
        }
        Ok(())
    }

    /// The value of a setting as one line of text, as the change history shows it.
    pub fn value(&self, field: Field) -> String {
        match field {
            Field::Encryption => match super::Encryption::parse(self.starttls, self.ssl) {
                Ok(e) => e.as_str().to_string(),
                Err(_) => "STARTTLS+SSL".to_string(),
            },
            Field::SkipVerify => if self.skip_verify { "on" } else { "off" }.to_string(),
            other => self.text(other).unwrap_or_default().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebase_keeps_only_the_fields_edited_here() {
        let base = MailServerForm {
            host: "a.example".into(),
            from_name: "Alerts".into(),
            ..MailServerForm::default()
        };
        let mine = MailServerForm {
            from_name: "Ops".into(),
            password: "new secret".into(),
            ssl: true,
            ..base.clone()
        };
        let newer = MailServerForm {
            host: "b.example".into(),
            starttls: true,
            ..base.clone()
        };
        let out = mine.rebase(&base, &newer);
        assert_eq!(out.host, "b.example", "their edit stays");
        assert_eq!(out.from_name, "Ops", "my edit applies");
        assert_eq!(out.password, "new secret");
        assert_eq!((out.starttls, out.ssl), (false, true), "my encryption as a whole");
        assert_eq!(base.rebase(&base, &newer), newer, "no edits: their version");
    }

    /// Fails to compile when a variant is added without a decision here.
    fn is_setting(f: Field) -> bool {
        match f {
            Field::Host
            | Field::Port
            | Field::Authentication
            | Field::Account
            | Field::Password
            | Field::OAuthGrant
            | Field::OAuthTokenUrl
            | Field::OAuthAuthUrl
            | Field::OAuthTenant
            | Field::OAuthClientId
            | Field::OAuthClientSecret
            | Field::OAuthScopes
            | Field::ServerType
            | Field::FromAddress
            | Field::FromName
            | Field::Encryption
            | Field::HeloName
            | Field::Timeout
            | Field::ReplyTo
            | Field::CaPem
            | Field::SkipVerify => true,
            Field::SendTo => false,
        }
    }

    #[test]
    fn settings_list_every_setting_once() {
        let count = Field::SETTINGS.iter().filter(|f| is_setting(**f)).count();
        assert_eq!(count, Field::SETTINGS.len());
        let mut ids: Vec<_> = Field::SETTINGS.iter().map(|f| f.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Field::SETTINGS.len());
        assert!(!Field::SETTINGS.contains(&Field::SendTo));
    }

    #[test]
    fn the_configuration_sets_every_setting_by_its_own_variable() {
        let mut vars: Vec<_> = Field::SETTINGS.iter().map(|f| f.variable()).collect();
        vars.sort();
        vars.dedup();
        assert_eq!(vars.len(), Field::SETTINGS.len());
        assert!(vars.iter().all(|v| v.starts_with("MAILROOM_SMTP_")));
        let mut form = MailServerForm::default();
        form.set_value(Field::Encryption, "STARTTLS").unwrap();
        assert_eq!((form.starttls, form.ssl), (true, false));
        form.set_value(Field::Encryption, "ssl").unwrap();
        assert_eq!((form.starttls, form.ssl), (false, true));
        let wrong = form.set_value(Field::Encryption, "tls1.3").unwrap_err();
        assert!(wrong.contains("none, starttls or ssl"), "{wrong}");
        form.set_value(Field::SkipVerify, "yes").unwrap();
        assert!(form.skip_verify);
        assert!(form.set_value(Field::SkipVerify, "maybe").is_err());
        form.set_value(Field::Port, "465").unwrap();
        assert_eq!(form.port, "465");
    }

    #[test]
    fn text_fields_read_and_write_through_the_field() {
        let mut form = MailServerForm::default();
        for field in Field::SETTINGS {
            form.set_text(field, format!("v-{}", field.id()));
            if let Some(text) = form.text(field) {
                assert_eq!(text, format!("v-{}", field.id()));
                assert_eq!(form.value(field), text);
            }
        }
        assert_eq!(form.text(Field::Encryption), None);
        assert_eq!(form.value(Field::SkipVerify), "off");
    }
}
