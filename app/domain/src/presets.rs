//! The provider catalogue offered above the form: host, port and encryption per provider.

use super::{Encryption, Grant, MailServerForm};

/// A provider's well-known settings, offered above the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    pub id: &'static str,
    /// Its name in the list (a catalogue id, `preset-name-…`).
    pub name: &'static str,
    /// `{region}` stands for the chosen region where the provider has regions.
    pub host: &'static str,
    pub port: u16,
    pub encryption: Encryption,
    /// Filled into Email Account when set (SendGrid's literal "apikey").
    pub account: Option<&'static str>,
    /// What to know about it (a catalogue id, `preset-…`).
    pub hint: &'static str,
}

pub static PRESETS: &[Preset] = &[
    Preset { id: "gmail", name: "preset-name-gmail", host: "smtp.gmail.com", port: 587, encryption: Encryption::StartTls, account: None,
        hint: "preset-gmail" },
    Preset { id: "outlook", name: "preset-name-outlook", host: "smtp-mail.outlook.com", port: 587, encryption: Encryption::StartTls, account: None,
        hint: "preset-outlook" },
    Preset { id: "m365", name: "preset-name-m365", host: "smtp.office365.com", port: 587, encryption: Encryption::StartTls, account: None,
        hint: "preset-m365" },
    Preset { id: "yahoo", name: "preset-name-yahoo", host: "smtp.mail.yahoo.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "preset-yahoo" },
    Preset { id: "163", name: "preset-name-163", host: "smtp.163.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "preset-163" },
    Preset { id: "126", name: "preset-name-126", host: "smtp.126.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "preset-126" },
    Preset { id: "qq", name: "preset-name-qq", host: "smtp.qq.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "preset-qq" },
    Preset { id: "sina", name: "preset-name-sina", host: "smtp.sina.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "preset-sina" },
    Preset { id: "exmail", name: "preset-name-exmail", host: "smtp.exmail.qq.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "preset-exmail" },
    Preset { id: "aliyun", name: "preset-name-aliyun", host: "smtp.qiye.aliyun.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "preset-aliyun" },
    Preset { id: "ses", name: "preset-name-ses", host: "email-smtp.{region}.amazonaws.com", port: 587, encryption: Encryption::StartTls, account: None,
        hint: "preset-ses" },
    Preset { id: "sendgrid", name: "preset-name-sendgrid", host: "smtp.sendgrid.net", port: 587, encryption: Encryption::StartTls, account: Some("apikey"),
        hint: "preset-sendgrid" },
    Preset { id: "mailgun", name: "preset-name-mailgun", host: "smtp.mailgun.org", port: 587, encryption: Encryption::StartTls, account: None,
        hint: "preset-mailgun" },
    Preset { id: "postmark", name: "preset-name-postmark", host: "smtp.postmarkapp.com", port: 587, encryption: Encryption::StartTls, account: None,
        hint: "preset-postmark" },
    Preset { id: "zoho", name: "preset-name-zoho", host: "smtp.zoho.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "preset-zoho" },
];

pub static SES_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "me-south-1",
    "af-south-1",
];

/// How a provider signs in with OAuth2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderOAuth {
    pub preset: &'static str,
    /// "Sign in with …".
    pub brand: &'static str,
    /// What the preset chooses.
    pub grant: Grant,
    pub token_url: &'static str,
    pub auth_url: &'static str,
    /// The scopes for an app (client credentials), where the provider has them.
    pub app_scopes: Option<&'static str>,
    pub mailbox_scopes: &'static str,
}

/// Providers whose preset signs in with OAuth2.
pub static OAUTH_PROVIDERS: &[ProviderOAuth] = &[
    ProviderOAuth {
        preset: "m365",
        brand: "Microsoft",
        grant: Grant::App,
        token_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        auth_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        app_scopes: Some("https://outlook.office365.com/.default"),
        mailbox_scopes: "https://outlook.office.com/SMTP.Send offline_access",
    },
    ProviderOAuth {
        preset: "gmail",
        brand: "Google",
        grant: Grant::Mailbox,
        token_url: "https://oauth2.googleapis.com/token",
        auth_url: "https://accounts.google.com/o/oauth2/v2/auth",
        app_scopes: None,
        mailbox_scopes: "https://mail.google.com/",
    },
];

impl ProviderOAuth {
    /// The provider whose token endpoint this is.
    pub fn by_token_url(url: &str) -> Option<&'static ProviderOAuth> {
        OAUTH_PROVIDERS.iter().find(|p| p.token_url == url.trim())
    }

    /// The provider whose authorization endpoint this is (the tenant filled in or not), by
    /// origin. Off the browser only (the `url` crate; the page gets the name from the server).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn by_auth_url(url: &str) -> Option<&'static ProviderOAuth> {
        let origin = |u: &str| url::Url::parse(u.trim()).ok().map(|u| u.origin());
        let origin_of_url = origin(url)?;
        OAUTH_PROVIDERS.iter().find(|p| origin(p.auth_url).as_ref() == Some(&origin_of_url))
    }

    pub fn scopes(&self, grant: Grant) -> Option<&'static str> {
        match grant {
            Grant::App => self.app_scopes,
            Grant::Mailbox => Some(self.mailbox_scopes),
        }
    }

    /// Scopes for `grant` after a switch of the grant: the provider's, when the scopes were
    /// blank or the provider's for the other grant (typed scopes stay).
    pub fn switched_scopes(form: &MailServerForm, grant: Grant) -> Option<&'static str> {
        let provider = Self::by_token_url(&form.oauth_token_url)?;
        let typed = form.oauth_scopes.trim();
        let preset_filled = typed.is_empty() || Grant::ALL.iter().any(|g| provider.scopes(*g) == Some(typed));
        preset_filled.then(|| provider.scopes(grant)).flatten()
    }
}

impl Preset {
    /// How this provider signs in with OAuth2, where its preset does.
    pub fn oauth(&self) -> Option<&'static ProviderOAuth> {
        OAUTH_PROVIDERS.iter().find(|p| p.preset == self.id)
    }

    pub fn by_id(id: &str) -> Option<&'static Preset> {
        PRESETS.iter().find(|p| p.id == id)
    }

    pub fn host_for(&self, region: &str) -> String {
        self.host.replace("{region}", region)
    }

    /// The form with this preset's host, port, encryption (and account, where fixed) filled in.
    pub fn apply(&self, form: &MailServerForm, region: &str) -> MailServerForm {
        let mut out = form.clone();
        out.host = self.host_for(region);
        out.port = self.port.to_string();
        (out.starttls, out.ssl) = self.encryption.switches();
        if let Some(account) = self.account {
            out.account = account.to_string();
        }
        if let Some(o) = self.oauth() {
            out.authentication = super::Authentication::OAuth2.as_str().to_string();
            out.oauth_grant = o.grant.as_str().to_string();
            out.oauth_token_url = o.token_url.to_string();
            out.oauth_auth_url = o.auth_url.to_string();
            out.oauth_scopes = o.scopes(o.grant).unwrap_or_default().to_string();
        }
        out
    }

    /// The preset whose host this is, so a saved form shows its provider again.
    pub fn matching(host: &str) -> Option<(&'static Preset, Option<&'static str>)> {
        let host = host.trim().to_ascii_lowercase();
        PRESETS.iter().find_map(|p| match p.host.split_once("{region}") {
            None => (p.host == host).then_some((p, None)),
            Some((pre, post)) => {
                let region = host.strip_prefix(pre)?.strip_suffix(post)?;
                SES_REGIONS.iter().find(|r| **r == region).map(|r| (p, Some(*r)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{warnings, Field, MailServerSettings};

    #[test]
    fn presets_fill_host_port_encryption_and_are_recognised_again() {
        let ses = Preset::by_id("ses").unwrap();
        let form = ses.apply(&MailServerForm::default(), "eu-west-1");
        assert_eq!(form.host, "email-smtp.eu-west-1.amazonaws.com");
        assert_eq!(
            (form.port.as_str(), form.starttls, form.ssl),
            ("587", true, false)
        );
        assert_eq!(
            Preset::matching(&form.host).map(|(p, r)| (p.id, r)),
            Some(("ses", Some("eu-west-1")))
        );
        let sendgrid = Preset::by_id("sendgrid")
            .unwrap()
            .apply(&MailServerForm::default(), "");
        assert_eq!(sendgrid.account, "apikey");
        assert_eq!(Preset::matching("SMTP.QQ.COM").map(|(p, _)| p.id), Some("qq"));
        assert_eq!(Preset::matching("mail.example.com"), None);
        for p in PRESETS {
            // What the admin adds to a preset: the login, and for OAuth2 the app.
            let form = MailServerForm {
                account: "a@example.com".into(),
                password: "x".into(),
                from_address: "a@example.com".into(),
                oauth_tenant: "contoso".into(),
                oauth_client_id: "app".into(),
                oauth_client_secret: "s".into(),
                ..MailServerForm::default()
            };
            let form = p.apply(&form, "us-east-1");
            assert!(
                MailServerSettings::parse(&form, None).is_ok(),
                "preset {} yields an invalid form",
                p.id
            );
            assert!(
                warnings(&form, true).iter().all(|w| w.field != Field::Encryption),
                "preset {} warns",
                p.id
            );
        }
    }

    #[test]
    fn microsoft_365_signs_in_with_oauth2_as_an_app() {
        let m365 = Preset::by_id("m365").unwrap();
        let form = m365.apply(&MailServerForm::default(), "");
        assert_eq!(form.authentication, "oauth2");
        assert_eq!(form.oauth_token_url, "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token");
        assert_eq!(form.oauth_scopes, "https://outlook.office365.com/.default");
        assert!(crate::Said::new(m365.hint).english().contains("December 2026"));
        assert_eq!(form.oauth_grant, "app");
        assert_eq!(form.oauth_auth_url, "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize");
        // Switching to a mailbox swaps the preset's scopes, but never typed ones.
        assert_eq!(
            ProviderOAuth::switched_scopes(&form, Grant::Mailbox),
            Some("https://outlook.office.com/SMTP.Send offline_access")
        );
        let typed = MailServerForm { oauth_scopes: "custom".into(), ..form.clone() };
        assert_eq!(ProviderOAuth::switched_scopes(&typed, Grant::Mailbox), None);
    }

    #[test]
    fn gmail_signs_in_with_google_as_a_mailbox() {
        let gmail = Preset::by_id("gmail").unwrap().apply(&MailServerForm::default(), "");
        assert_eq!((gmail.authentication.as_str(), gmail.oauth_grant.as_str()), ("oauth2", "mailbox"));
        assert_eq!(gmail.oauth_token_url, "https://oauth2.googleapis.com/token");
        assert_eq!(gmail.oauth_auth_url, "https://accounts.google.com/o/oauth2/v2/auth");
        assert_eq!(gmail.oauth_scopes, "https://mail.google.com/");
        assert_eq!(ProviderOAuth::by_auth_url("https://accounts.google.com/o/oauth2/v2/auth").map(|p| p.brand), Some("Google"));
        assert_eq!(
            ProviderOAuth::by_auth_url("https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize").map(|p| p.brand),
            Some("Microsoft")
        );
        assert_eq!(ProviderOAuth::by_auth_url("http://127.0.0.1:9/authorize"), None);
        // Google has no app grant for Gmail: switching keeps the scopes typed.
        assert_eq!(ProviderOAuth::switched_scopes(&gmail, Grant::App), None);
    }
}
