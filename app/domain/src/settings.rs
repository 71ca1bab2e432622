//! The whole form at once: typed settings or one message per field at fault, and the settings
//! with their password as the server keeps them.

use super::{
    Account, Authentication, CaCertificate, Mailbox, OAuthField, OAuthSettings, OAuthWire, DisplayName, EmailAddress, Encryption, Field, MailServerForm, Password,
    PasswordChoice, Port, Said, SavedLogin, ServerType, SmtpHost, Timeout,
};
use serde::{Deserialize, Serialize};

/// Settings that passed every rule (the password apart: it is a [`PasswordChoice`] in a
/// [`ParsedForm`] and a [`Password`] in a [`MailServer`]). Serialized as stored; deserializing
/// runs each field's `parse` again, so no invalid value can come back in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailServerSettings {
    pub host: SmtpHost,
    pub port: Port,
    /// Stored records from before the choice signed in with a password.
    #[serde(default)]
    pub authentication: Authentication,
    /// The login; `None` only without sign-in (and then only if left blank).
    pub account: Option<Account>,
    /// With Authentication OAuth2: where and as which app to get a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthSettings>,
    pub server_type: ServerType,
    pub from_address: EmailAddress,
    pub from_name: DisplayName,
    pub encryption: Encryption,
    pub helo_name: Option<SmtpHost>,
    #[serde(rename = "timeout_secs")]
    pub timeout: Timeout,
    pub reply_to: Option<EmailAddress>,
    #[serde(default)]
    pub ca_pem: Option<CaCertificate>,
    #[serde(default)]
    pub skip_verify: bool,
}

/// A form that passed every rule.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedForm {
    pub settings: MailServerSettings,
    pub password: PasswordChoice,
    /// With OAuth2, the app's client secret (kept like the password).
    pub client_secret: PasswordChoice,
}

/// One message per field at fault, in form order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub Vec<(Field, Said)>);

impl FieldErrors {
    pub fn one(field: Field, message: Said) -> Self {
        Self(vec![(field, message)])
    }

    pub fn get(&self, field: Field) -> Option<&Said> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m)
    }

    pub fn first(&self) -> Option<Field> {
        self.0.first().map(|(f, _)| *f)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push<T>(&mut self, field: Field, result: Result<T, Said>) -> Option<T> {
        result.map_err(|m| self.0.push((field, m))).ok()
    }
}

fn optional<T>(input: &str, parse: impl Fn(&str) -> Result<T, Said>) -> Result<Option<T>, Said> {
    if input.trim().is_empty() {
        Ok(None)
    } else {
        parse(input).map(Some)
    }
}

impl MailServerSettings {
    /// Checks the whole form. `saved` is the login of the stored settings, if any.
    pub fn parse(form: &MailServerForm, saved: Option<&SavedLogin>) -> Result<ParsedForm, FieldErrors> {
        let mut errors = FieldErrors::default();
        let host = errors.push(Field::Host, SmtpHost::parse(&form.host));
        let port = errors.push(Field::Port, Port::parse(&form.port));
        let authentication = errors.push(Field::Authentication, Authentication::parse(&form.authentication));
        let signs_in = authentication.is_none_or(Authentication::signs_in);
        let uses_password = authentication.is_none_or(Authentication::uses_password);
        let oauth2 = authentication == Some(Authentication::OAuth2);
        let account = errors.push(
            Field::Account,
            if signs_in {
                Account::parse(&form.account).map(Some)
            } else {
                optional(&form.account, Account::parse)
            },
        );
        let password = errors.push(
            Field::Password,
            if uses_password {
                PasswordChoice::parse(&form.password, host.as_ref(), account.as_ref().and_then(Option::as_ref), saved)
            } else {
                // No password to sign in with: none is kept.
                Ok(PasswordChoice::New(Password::default()))
            },
        );
        let (oauth, client_secret) = if oauth2 {
            let wire = OAuthWire {
                grant: form.oauth_grant.clone(),
                token_url: form.oauth_token_url.clone(),
                auth_url: form.oauth_auth_url.clone(),
                tenant: form.oauth_tenant.clone(),
                client_id: form.oauth_client_id.clone(),
                scopes: form.oauth_scopes.clone(),
            };
            let oauth = match OAuthSettings::parse(&wire) {
                Ok(o) => Some(Some(o)),
                Err(list) => {
                    for (field, message) in list {
                        let field = match field {
                            OAuthField::Grant => Field::OAuthGrant,
                            OAuthField::TokenUrl => Field::OAuthTokenUrl,
                            OAuthField::AuthUrl => Field::OAuthAuthUrl,
                            OAuthField::Tenant => Field::OAuthTenant,
                            OAuthField::ClientId => Field::OAuthClientId,
                            OAuthField::Scopes => Field::OAuthScopes,
                        };
                        errors.0.push((field, message));
                    }
                    None
                }
            };
            let client = oauth.as_ref().and_then(Option::as_ref).map(oauth_client);
            let secret = errors.push(
                Field::OAuthClientSecret,
                client_secret_choice(&form.oauth_client_secret, client.as_deref(), saved),
            );
            (oauth, secret)
        } else {
            (Some(None), Some(PasswordChoice::New(Password::default())))
        };
        let server_type = errors.push(Field::ServerType, ServerType::parse(&form.server_type));
        let from_address = errors.push(
            Field::FromAddress,
            if form.from_address.trim().is_empty() {
                Err(Said::new("from-empty"))
            } else {
                EmailAddress::parse(&form.from_address)
            },
        );
        let from_name = errors.push(Field::FromName, DisplayName::parse(&form.from_name));
        let encryption = errors.push(Field::Encryption, Encryption::parse(form.starttls, form.ssl));
        let helo_name = errors.push(
            Field::HeloName,
            optional(&form.helo_name, |s| {
                SmtpHost::parse(s)
                    .map_err(|_| Said::new("helo-invalid"))
            }),
        );
        let timeout = errors.push(Field::Timeout, Timeout::parse(&form.timeout));
        let reply_to = errors.push(Field::ReplyTo, optional(&form.reply_to, EmailAddress::parse));
        let ca_pem = errors.push(Field::CaPem, optional(&form.ca_pem, CaCertificate::parse));

        // Every field parsed when no error was recorded; `?` only unwraps.
        let parsed = (|| {
            let settings = Self {
                host: host?,
                port: port?,
                authentication: authentication?,
                account: account?,
                oauth: oauth?,
                server_type: server_type?,
                from_address: from_address?,
                from_name: from_name?,
                encryption: encryption?,
                helo_name: helo_name?,
                timeout: timeout?,
                reply_to: reply_to?,
                ca_pem: ca_pem?,
                skip_verify: form.skip_verify,
            };
            Some(ParsedForm {
                settings,
                password: password?,
                client_secret: client_secret?,
            })
        })();
        match parsed {
            Some(parsed) if errors.is_empty() => Ok(parsed),
            _ => Err(errors),
        }
    }

    /// The login a later blank password is checked against.
    pub fn login(&self) -> SavedLogin {
        SavedLogin {
            host: self.host.as_str().to_string(),
            port: self.port.get(),
            account: self.account_str().to_string(),
            oauth_client: self.oauth.as_ref().map(oauth_client).unwrap_or_default(),
        }
    }

    /// The login name, or "" without one.
    pub fn account_str(&self) -> &str {
        self.account.as_ref().map_or("", Account::as_str)
    }

    /// The settings as a form, with the password left blank: it never goes back to the browser.
    pub fn to_form(&self) -> MailServerForm {
        let (starttls, ssl) = self.encryption.switches();
        let oauth = self.oauth.as_ref().map(OAuthSettings::to_wire).unwrap_or_default();
        let text = |v: Option<&str>| v.unwrap_or_default().to_string();
        MailServerForm {
            host: self.host.as_str().to_string(),
            port: self.port.get().to_string(),
            authentication: self.authentication.as_str().to_string(),
            account: self.account_str().to_string(),
            password: String::new(),
            oauth_grant: if oauth.grant.is_empty() { super::Grant::App.as_str().to_string() } else { oauth.grant },
            oauth_token_url: oauth.token_url,
            oauth_auth_url: oauth.auth_url,
            oauth_tenant: oauth.tenant,
            oauth_client_id: oauth.client_id,
            oauth_client_secret: String::new(),
            oauth_scopes: oauth.scopes,
            server_type: self.server_type.as_str().to_string(),
            from_address: self.from_address.as_str().to_string(),
            from_name: self.from_name.as_str().to_string(),
            starttls,
            ssl,
            helo_name: text(self.helo_name.as_ref().map(SmtpHost::as_str)),
            timeout: self.timeout.secs().to_string(),
            reply_to: text(self.reply_to.as_ref().map(EmailAddress::as_str)),
            ca_pem: text(self.ca_pem.as_ref().map(CaCertificate::as_str)),
            skip_verify: self.skip_verify,
        }
    }
}

/// What identifies the OAuth2 app a saved client secret (and a connected mailbox) belongs to.
pub fn oauth_client(o: &OAuthSettings) -> String {
    format!("{} at {}", o.client_id(), o.token_endpoint())
}

/// The client secret: typed, or the saved one while the app (client id and endpoint) is the same.
fn client_secret_choice(input: &str, client: Option<&str>, saved: Option<&SavedLogin>) -> Result<PasswordChoice, Said> {
    if !input.is_empty() {
        super::at_most(input, super::MAX_PASSWORD_CHARS)?;
        if input.chars().any(char::is_control) {
            return Err(Said::new("client-secret-line-break"));
        }
        return Ok(PasswordChoice::New(Password::new(input.to_string())));
    }
    match saved {
        Some(saved) if client.is_some_and(|c| !saved.oauth_client.is_empty() && c == saved.oauth_client) => {
            Ok(PasswordChoice::KeepSaved)
        }
        Some(saved) if !saved.oauth_client.is_empty() => {
            Err(Said::new("client-secret-app-changed"))
        }
        _ => Err(Said::new("client-secret-empty")),
    }
}

/// Settings and the secrets to sign in with: what is stored, and all a send needs.
#[derive(Clone, Debug, PartialEq)]
pub struct MailServer {
    pub settings: MailServerSettings,
    pub password: Password,
    /// With OAuth2: the app's client secret (empty otherwise).
    pub client_secret: Password,
    /// With OAuth2 as a mailbox: the mailbox an admin connected, if any.
    pub mailbox: Option<Mailbox>,
}

impl MailServer {
    /// The server a parsed form describes; `saved` is the stored server whose password and
    /// client secret blank fields keep, and whose connected mailbox stays while the settings
    /// still sign in as a mailbox of the same app. `None` when the form keeps a secret but none
    /// is stored.
    pub fn from_form(parsed: ParsedForm, saved: Option<&MailServer>) -> Option<Self> {
        let password = parsed.password.resolve(saved.map(|s| &s.password))?;
        let client_secret = parsed.client_secret.resolve(saved.map(|s| &s.client_secret))?;
        let mut server = Self {
            settings: parsed.settings,
            password,
            client_secret,
            mailbox: saved.and_then(|s| s.mailbox.clone()),
        };
        if server.mailbox.as_ref().is_some_and(|m| Some(&m.app) != server.mailbox_app().as_ref()) {
            server.mailbox = None;
        }
        Some(server)
    }

    /// The app a mailbox signs in through, when the settings sign in as a mailbox.
    pub fn mailbox_app(&self) -> Option<String> {
        let o = self.settings.oauth.as_ref()?;
        (self.settings.authentication == Authentication::OAuth2 && o.grant() == super::Grant::Mailbox)
            .then(|| oauth_client(o))
    }
}

/// Who receives a test mail: "Send test to" when given, else Email Account when it is an address.
pub fn test_recipient(form: &MailServerForm, send_to: &str) -> Result<EmailAddress, Said> {
    if !send_to.trim().is_empty() {
        return EmailAddress::parse(send_to);
    }
    match Account::parse(&form.account) {
        Ok(Account::Address(a)) => Ok(a),
        _ if form.account.trim().is_empty() => Err(Said::new("send-to-empty")),
        _ => Err(Said::new("send-to-account-not-address")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_forms::valid_form;
    use crate::DEFAULT_TIMEOUT_SECS;
    use proptest::prelude::*;

    fn error_of(form: &MailServerForm, field: Field) -> String {
        MailServerSettings::parse(form, None)
            .expect_err("form should be invalid")
            .get(field)
            .unwrap_or_else(|| panic!("no error on {field:?}"))
            .english()
    }

    #[test]
    fn a_complete_form_parses() {
        let parsed = MailServerSettings::parse(&valid_form(), None).unwrap();
        let s = &parsed.settings;
        assert_eq!(s.host.as_str(), "smtp.163.com");
        assert_eq!(s.port.get(), 465);
        assert_eq!(s.encryption, Encryption::Ssl);
        assert_eq!(s.timeout.secs(), DEFAULT_TIMEOUT_SECS);
        assert_eq!(
            parsed.password,
            PasswordChoice::New(Password::new("auth-code".into()))
        );
        assert_eq!(s.reply_to, None);
    }

    #[test]
    fn both_switches_on_is_an_error() {
        let form = MailServerForm {
            starttls: true,
            ssl: true,
            ..valid_form()
        };
        assert!(error_of(&form, Field::Encryption).contains("not both"));
    }

    #[test]
    fn every_invalid_field_gets_its_own_message() {
        let form = MailServerForm {
            host: "smtp://x".into(),
            port: "0".into(),
            authentication: "kerberos".into(),
            account: "".into(),
            password: "".into(),
            server_type: "POP3".into(),
            from_address: "nope".into(),
            from_name: "a\nb".into(),
            starttls: true,
            ssl: true,
            helo_name: "bad name".into(),
            timeout: "0".into(),
            reply_to: "also nope".into(),
            ca_pem: "not a certificate".into(),
            skip_verify: false,
            ..MailServerForm::default()
        };
        let errors = MailServerSettings::parse(&form, None).unwrap_err();
        // The OAuth2 fields are checked only with OAuth2 (below).
        for field in Field::SETTINGS
            .into_iter()
            .filter(|f| *f != Field::SkipVerify && !f.id().starts_with("oauth_"))
        {
            assert!(errors.get(field).is_some(), "no error for {field:?}: {errors:?}");
        }
    }

    #[test]
    fn without_sign_in_account_and_password_may_be_blank_and_no_password_is_kept() {
        let relay = MailServerForm {
            authentication: "none".into(),
            account: "".into(),
            password: "".into(),
            port: "25".into(),
            ssl: false,
            ..valid_form()
        };
        let parsed = MailServerSettings::parse(&relay, None).unwrap();
        assert_eq!(parsed.settings.authentication, Authentication::None);
        assert_eq!(parsed.settings.account, None);
        let server = MailServer::from_form(parsed, None).unwrap();
        assert_eq!(server.password.expose(), "");
        assert_eq!(server.settings.to_form().authentication, "none");
        // An account typed anyway is still checked.
        let typed = MailServerForm {
            account: "a b".into(),
            ..relay.clone()
        };
        assert!(error_of(&typed, Field::Account).contains("no spaces"));
        // Back to a password: both are needed again.
        let password = MailServerForm {
            authentication: "password".into(),
            ..relay
        };
        assert!(error_of(&password, Field::Account).contains("Enter the email account"));
        assert!(error_of(&password, Field::Password).contains("Enter the password"));
    }

    fn oauth_form() -> MailServerForm {
        MailServerForm {
            authentication: "oauth2".into(),
            password: String::new(),
            oauth_token_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token".into(),
            oauth_tenant: "contoso.onmicrosoft.com".into(),
            oauth_client_id: "app-1".into(),
            oauth_client_secret: "s3cret".into(),
            oauth_scopes: "https://outlook.office365.com/.default".into(),
            ..valid_form()
        }
    }

    #[test]
    fn oauth2_needs_the_app_and_keeps_its_secret_like_a_password() {
        let parsed = MailServerSettings::parse(&oauth_form(), None).unwrap();
        assert_eq!(parsed.settings.authentication, Authentication::OAuth2);
        let o = parsed.settings.oauth.clone().unwrap();
        assert_eq!(o.token_endpoint(), "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
        let server = MailServer::from_form(parsed, None).unwrap();
        assert_eq!(server.client_secret.expose(), "s3cret");
        assert_eq!(server.password.expose(), "", "no password with OAuth2");
        let form = server.settings.to_form();
        assert_eq!(form.oauth_client_id, "app-1");
        assert_eq!(form.oauth_client_secret, "", "the secret never goes back");

        // Blank: kept for the same app, asked for again for another.
        let login = server.settings.login();
        let blank = MailServerForm { oauth_client_secret: String::new(), ..oauth_form() };
        let kept = MailServerSettings::parse(&blank, Some(&login)).unwrap();
        assert_eq!(MailServer::from_form(kept, Some(&server)).unwrap().client_secret.expose(), "s3cret");
        let other = MailServerForm { oauth_client_id: "app-2".into(), ..blank.clone() };
        assert!(MailServerSettings::parse(&other, Some(&login)).unwrap_err().get(Field::OAuthClientSecret).unwrap().english().contains("changed"));
        assert!(MailServerSettings::parse(&blank, None).unwrap_err().get(Field::OAuthClientSecret).is_some());

        let missing = MailServerForm { oauth_tenant: String::new(), oauth_client_id: String::new(), account: String::new(), ..oauth_form() };
        let errors = MailServerSettings::parse(&missing, None).unwrap_err();
        for field in [Field::Account, Field::OAuthTenant, Field::OAuthClientId] {
            assert!(errors.get(field).is_some(), "{field:?}: {errors:?}");
        }
    }

    #[test]
    fn settings_stored_before_the_choice_sign_in_with_a_password() {
        let mut stored = serde_json::to_value(MailServerSettings::parse(&valid_form(), None).unwrap().settings).unwrap();
        stored.as_object_mut().unwrap().remove("authentication");
        let old: MailServerSettings = serde_json::from_value(stored).unwrap();
        assert_eq!(old.authentication, Authentication::Password);
        assert_eq!(old.account_str(), "alerts@163.com");
    }

    #[test]
    fn optional_fields_accept_blank_and_check_content() {
        let ok = MailServerForm {
            helo_name: "mail.example.com".into(),
            reply_to: "ops@example.com".into(),
            timeout: "30".into(),
            ..valid_form()
        };
        let s = MailServerSettings::parse(&ok, None).unwrap().settings;
        assert_eq!(s.helo_name.unwrap().as_str(), "mail.example.com");
        assert_eq!(s.reply_to.unwrap().as_str(), "ops@example.com");
        assert_eq!(s.timeout.secs(), 30);
        assert!(error_of(
            &MailServerForm {
                timeout: "121".into(),
                ..valid_form()
            },
            Field::Timeout
        )
        .contains("1 to 120"));
        assert!(error_of(
            &MailServerForm {
                from_address: " ".into(),
                ..valid_form()
            },
            Field::FromAddress
        )
        .contains("usually the same"));
    }

    #[test]
    fn password_is_required_first_then_blank_keeps_it_while_login_is_unchanged() {
        let blank = MailServerForm {
            password: "".into(),
            ..valid_form()
        };
        assert!(error_of(&blank, Field::Password).contains("Enter the password"));

        let saved = MailServerSettings::parse(&valid_form(), None)
            .unwrap()
            .settings
            .login();
        let kept = MailServerSettings::parse(&blank, Some(&saved)).unwrap();
        assert_eq!(kept.password, PasswordChoice::KeepSaved);

        // The same account on the same server, on another port or with other encryption.
        let other_port = MailServerForm {
            port: "25".into(),
            ssl: false,
            ..blank.clone()
        };
        assert_eq!(MailServerSettings::parse(&other_port, Some(&saved)).unwrap().password, PasswordChoice::KeepSaved);

        for changed in [
            MailServerForm {
                host: "smtp.126.com".into(),
                ..blank.clone()
            },
            MailServerForm {
                account: "other@163.com".into(),
                ..blank.clone()
            },
        ] {
            let err = MailServerSettings::parse(&changed, Some(&saved)).unwrap_err();
            assert!(err
                .get(Field::Password)
                .unwrap()
                .english().contains("enter the password for this account again"));
        }
    }

    #[test]
    fn test_recipient_defaults_to_the_account_address() {
        assert_eq!(
            test_recipient(&valid_form(), "").unwrap().as_str(),
            "alerts@163.com"
        );
        assert_eq!(
            test_recipient(&valid_form(), "ops@example.com").unwrap().as_str(),
            "ops@example.com"
        );
        assert!(test_recipient(&valid_form(), "nope").is_err());
        let apikey = MailServerForm {
            account: "apikey".into(),
            ..valid_form()
        };
        assert!(test_recipient(&apikey, "")
            .unwrap_err()
            .english().contains("enter who should receive"));
    }

    #[test]
    fn settings_round_trip_through_their_stored_form_and_back_to_the_form() {
        let parsed = MailServerSettings::parse(&valid_form(), None).unwrap();
        let json = serde_json::to_value(&parsed.settings).unwrap();
        assert_eq!(json["timeout_secs"], 15);
        assert_eq!(json["server_type"], "SMTP");
        let back: MailServerSettings = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, parsed.settings);
        assert_eq!(
            back.to_form(),
            MailServerForm {
                password: String::new(),
                ..valid_form()
            }
        );
        let mut bad = json;
        bad["port"] = serde_json::json!(0);
        assert!(
            serde_json::from_value::<MailServerSettings>(bad).is_err(),
            "a stored port 0 was accepted"
        );
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in ".{0,64}") {
            let _ = SmtpHost::parse(&s);
            let _ = Port::parse(&s);
            let _ = EmailAddress::parse(&s);
            let _ = Account::parse(&s);
            let _ = DisplayName::parse(&s);
            let _ = Timeout::parse(&s);
        }
    }

    #[test]
    fn every_text_field_has_a_length_limit_and_messages_never_echo_much() {
        let long = "a".repeat(100_000);
        for field in Field::SETTINGS {
            // The OAuth2 fields count only with OAuth2.
            let mut form = if field.id().starts_with("oauth_") { oauth_form() } else { valid_form() };
            if form.text(field).is_none() || matches!(field, Field::FromName) {
                continue;
            }
            form.set_text(field, long.clone());
            let errors = MailServerSettings::parse(&form, None).unwrap_err();
            let message = errors
                .get(field)
                .unwrap_or_else(|| panic!("{field:?} accepted 100,000 characters"));
            assert!(message.english().len() < 200, "{field:?}: {message}");
        }
        let name = MailServerForm {
            from_name: long,
            ..valid_form()
        };
        assert!(MailServerSettings::parse(&name, None)
            .unwrap_err()
            .get(Field::FromName)
            .is_some());
    }
}
