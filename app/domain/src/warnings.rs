//! Warnings: settings that are legal but probably wrong, each with an optional one-click fix.
//! They never block saving.

use super::{Account, Authentication, EmailAddress, Encryption, Field, MailServerForm, Port, SmtpHost};
use crate::Said;
use serde::{Deserialize, Serialize};

/// A one-click change that resolves a warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fix {
    UseSsl,
    UseStartTls,
    FromEqualsAccount,
}

impl Fix {
    /// Its button's words (a catalogue id).
    pub fn label_id(self) -> &'static str {
        match self {
            Fix::UseSsl => "fix-use-ssl",
            Fix::UseStartTls => "fix-use-starttls",
            Fix::FromEqualsAccount => "fix-from-equals-account",
        }
    }

    /// The form after the fix.
    pub fn apply(self, form: &MailServerForm) -> MailServerForm {
        let mut out = form.clone();
        match self {
            Fix::UseSsl => (out.starttls, out.ssl) = Encryption::Ssl.switches(),
            Fix::UseStartTls => (out.starttls, out.ssl) = Encryption::StartTls.switches(),
            Fix::FromEqualsAccount => out.from_address = form.account.trim().to_string(),
        }
        out
    }
}

/// Something legal but probably wrong, with an optional one-click fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub field: Field,
    pub message: Said,
    pub fix: Option<Fix>,
}

/// Hosts that accept mail only From the logged-in account (QQ Mail answers "501 mail from
/// address must be same as authorization user").
const FROM_MUST_EQUAL_ACCOUNT: [&str; 3] = ["smtp.163.com", "smtp.126.com", "smtp.qq.com"];

/// Warnings for the form as it stands; only fields that parse are looked at.
/// `password_present` is true when a password is typed or one is saved and kept.
pub fn warnings(form: &MailServerForm, password_present: bool) -> Vec<Warning> {
    let mut out = Vec::new();
    let port = Port::parse(&form.port).ok().map(Port::get);
    // Without sign-in there is no account or password to warn about.
    let signs_in = Authentication::parse(&form.authentication).map_or(true, Authentication::signs_in);
    let password_present = password_present && signs_in;
    if let (false, Some(p @ (587 | 465))) = (signs_in, port) {
        out.push(Warning {
            field: Field::Authentication,
            message: Said::new("warn-submission-port-without-sign-in").with("port", p),
            fix: None,
        });
    }
    let encryption = Encryption::parse(form.starttls, form.ssl).ok();
    match (port, encryption) {
        (Some(465), Some(e)) if e != Encryption::Ssl => out.push(Warning {
            field: Field::Encryption,
            message: Said::new("warn-465-needs-ssl"),
            fix: Some(Fix::UseSsl),
        }),
        (Some(p @ (587 | 25)), Some(Encryption::Ssl)) => out.push(Warning {
            field: Field::Encryption,
            message: Said::new("warn-port-expects-starttls").with("port", p),
            fix: Some(Fix::UseStartTls),
        }),
        _ => {}
    }
    if encryption == Some(Encryption::None) && password_present {
        out.push(Warning {
            field: Field::Encryption,
            message: Said::new(if form.authentication == Authentication::OAuth2.as_str() {
                "warn-token-unencrypted"
            } else {
                "warn-password-unencrypted"
            }),
            fix: Some(Fix::UseStartTls),
        });
    }
    if form.skip_verify {
        out.push(Warning {
            field: Field::SkipVerify,
            message: Said::new("warn-skip-verify"),
            fix: None,
        });
    }
    if !signs_in {
        return out;
    }
    if let Ok(Account::Username(name)) = Account::parse(&form.account) {
        out.push(Warning {
            field: Field::Account,
            message: Said::new("warn-account-not-address").with("account", crate::quoted(&name)),
            fix: None,
        });
    }
    if let (Ok(host), Ok(Account::Address(account)), Ok(from)) = (
        SmtpHost::parse(&form.host),
        Account::parse(&form.account),
        EmailAddress::parse(&form.from_address),
    ) {
        if FROM_MUST_EQUAL_ACCOUNT.contains(&host.as_str())
            && !from.as_str().eq_ignore_ascii_case(account.as_str())
        {
            out.push(Warning {
                field: Field::FromAddress,
                message: Said::new("warn-from-must-equal-account").with("host", &host).with("account", &account),
                fix: Some(Fix::FromEqualsAccount),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CaCertificate;

    fn valid_form() -> MailServerForm {
        crate::test_forms::valid_form()
    }

    #[test]
    fn account_may_be_a_user_name_and_then_warns_about_the_recipient() {
        assert!(matches!(Account::parse("apikey").unwrap(), Account::Username(_)));
        assert!(matches!(
            Account::parse("a@example.com").unwrap(),
            Account::Address(_)
        ));
        assert!(Account::parse(" ")
            .unwrap_err()
            .english().contains("Enter the email account"));
        assert!(Account::parse("a b").unwrap_err().english().contains("no spaces"));
        let form = MailServerForm {
            account: "apikey".into(),
            ..valid_form()
        };
        let w = warnings(&form, true);
        assert!(
            w.iter()
                .any(|w| w.field == Field::Account && w.message.english().contains("need a recipient")),
            "{w:?}"
        );
    }

    #[test]
    fn port_and_encryption_warnings_offer_fixes() {
        let w = warnings(
            &MailServerForm {
                ssl: false,
                starttls: true,
                ..valid_form()
            },
            true,
        );
        assert_eq!(w[0].fix, Some(Fix::UseSsl), "{w:?}");
        let form = MailServerForm {
            port: "587".into(),
            ..valid_form()
        };
        let w = warnings(&form, true);
        assert_eq!(w[0].fix, Some(Fix::UseStartTls));
        let fixed = Fix::UseStartTls.apply(&form);
        assert!(fixed.starttls && !fixed.ssl);
        assert!(warnings(&fixed, true).is_empty());

        let plain = MailServerForm {
            port: "2525".into(),
            ssl: false,
            ..valid_form()
        };
        let w = warnings(&plain, true);
        assert!(
            w.iter().any(|w| w.message.english().contains("travel unencrypted")),
            "{w:?}"
        );
        assert!(warnings(&plain, false).is_empty(), "no password, no warning");
        let token = MailServerForm {
            authentication: "oauth2".into(),
            ..plain
        };
        assert!(warnings(&token, true).iter().any(|w| w.message.english().contains("access token would travel")));
    }

    #[test]
    fn the_163_from_rule_warns_and_fixes() {
        let form = MailServerForm {
            from_address: "other@example.com".into(),
            ..valid_form()
        };
        let w = warnings(&form, true);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].fix, Some(Fix::FromEqualsAccount));
        assert!(warnings(&Fix::FromEqualsAccount.apply(&form), true).is_empty());
        let qq = MailServerForm { host: "smtp.qq.com".into(), account: "12345@qq.com".into(), ..form };
        let w = warnings(&qq, true);
        assert!(w.iter().any(|w| w.fix == Some(Fix::FromEqualsAccount) && w.message.english().contains("smtp.qq.com")), "{w:?}");
    }

    #[test]
    fn a_relay_without_sign_in_warns_on_submission_ports_and_not_about_accounts() {
        let relay = MailServerForm {
            authentication: "none".into(),
            account: "apikey".into(),
            port: "25".into(),
            ssl: false,
            ..valid_form()
        };
        assert!(warnings(&relay, true).is_empty(), "{:?}", warnings(&relay, true));
        let submission = MailServerForm {
            port: "587".into(),
            starttls: true,
            ..relay
        };
        let w = warnings(&submission, false);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].field, Field::Authentication);
        assert!(w[0].message.english().contains("submission port"));
    }

    #[test]
    fn ca_certificate_needs_pem_framing_and_skip_verify_warns() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert!(CaCertificate::parse(pem).is_ok());
        assert!(CaCertificate::parse("MIIB").is_err());
        let form = MailServerForm {
            skip_verify: true,
            ..valid_form()
        };
        assert!(warnings(&form, true).iter().any(|w| w.field == Field::SkipVerify));
    }
}
