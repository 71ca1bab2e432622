//! Every piece of advice a failed send can give, in one place (server only).
//!
//! The general rows come from the product's troubleshooting table (the Mail Server module's
//! original specification, reproduced word for word in [`table`]); the rest are specific to a
//! diagnosis or to a provider, recognised by host name.

use super::Step;
use crate::domain::{Encryption, MailServerSettings};
use crate::domain::Said;
use crate::report::Diagnosis;

/// The rows of the product's troubleshooting table (catalogue ids: `advice.ftl` holds the
/// table's words).
pub mod table {
    pub const VERIFY_SERVER: &str = "advice-verify-server";
    pub const FIREWALL: &str = "advice-firewall";
    pub const THIRD_PARTY: &str = "advice-third-party";
    pub const PORTS: &str = "advice-ports";
    pub const TLS: &str = "advice-tls";
}

/// What Mailroom was doing at `step`, for "No answer within N seconds while …" (a catalogue
/// id).
pub fn doing(step: Step) -> &'static str {
    match step {
        Step::Token => "doing-token",
        Step::Dns => "doing-dns",
        Step::Connect => "doing-connect",
        Step::Tls => "doing-tls",
        Step::Greeting => "doing-greeting",
        Step::Ehlo => "doing-ehlo",
        Step::StartTls => "doing-starttls",
        Step::Auth => "doing-auth",
        Step::MailFrom => "doing-mail-from",
        Step::RcptTo => "doing-rcpt-to",
        Step::Data => "doing-data",
        Step::Body => "doing-body",
    }
}

/// Microsoft 365's answer when SMTP AUTH is off for the mailbox or the tenant.
const SMTP_AUTH_DISABLED: &str = "5.7.139";

/// What to do about `diagnosis` (with the server's `reply`, if any), most useful first, as
/// catalogue messages (the report puts them into the reader's language).
pub fn advice(diagnosis: Diagnosis, s: &MailServerSettings, offered: &[String], reply: Option<&str>) -> Vec<Said> {
    let mut out: Vec<Said> = Vec::new();
    let host = s.host.as_str();
    let port = s.port.get();
    match diagnosis {
        Diagnosis::DnsLookup => {
            out.push(Said::new("advice-dns").with("host", host));
            out.push(Said::new(table::VERIFY_SERVER));
        }
        Diagnosis::ConnectionRefused => {
            out.push(Said::new("advice-refused").with("port", port));
            out.push(Said::new(table::PORTS));
            out.push(Said::new(table::FIREWALL));
        }
        Diagnosis::ConnectionTimedOut => {
            out.push(Said::new(table::FIREWALL));
            out.push(Said::new(table::PORTS));
        }
        Diagnosis::SslOnPlainPort => {
            out.push(Said::new("advice-ssl-on-plain-port").with("port", port));
            out.push(Said::new(table::TLS));
        }
        Diagnosis::PlainOnSslPort => {
            out.push(Said::new("advice-plain-on-ssl-port").with("port", port));
            out.push(Said::new(table::TLS));
        }
        Diagnosis::CertificateUntrusted => {
            out.push(Said::new("advice-private-ca"));
            out.push(Said::new("advice-skip-verify"));
        }
        Diagnosis::CertificateExpired => out.push(Said::new("advice-certificate-expired")),
        Diagnosis::CertificateWrongName => out.push(Said::new("advice-certificate-wrong-name").with("host", host)),
        Diagnosis::TlsHandshake => out.push(Said::new(table::TLS)),
        Diagnosis::Greeting => {
            out.push(Said::new(table::VERIFY_SERVER));
            out.push(Said::new(table::PORTS));
        }
        Diagnosis::Ehlo => out.push(Said::new("advice-helo")),
        Diagnosis::StartTlsNotOffered => {
            out.push(Said::new("advice-starttls-not-offered"));
            out.push(Said::new(table::TLS));
        }
        Diagnosis::AuthNotOffered => {
            if s.encryption == Encryption::None {
                out.push(Said::new("advice-auth-needs-encryption"));
            }
            out.push(Said::new(table::VERIFY_SERVER));
        }
        Diagnosis::NoSupportedAuth if offered.is_empty() => out.push(Said::new("advice-no-known-auth")),
        Diagnosis::NoSupportedAuth => out.push(Said::new("advice-unsupported-auth").with("offered", offered.join(", "))),
        Diagnosis::AuthRejected if reply.is_some_and(|r| r.contains(SMTP_AUTH_DISABLED)) => {
            out.push(Said::new("advice-m365-smtp-auth-off"));
            out.push(Said::new("advice-m365-tenant-smtp-auth"));
            out.push(Said::new("advice-m365-basic-auth-ends"));
        }
        Diagnosis::AuthRejected => {
            out.push(Said::new(table::VERIFY_SERVER));
            out.extend(auth_hints(host));
            out.push(Said::new(table::THIRD_PARTY));
        }
        Diagnosis::TokenEndpoint => {
            out.push(Said::new("advice-token-endpoint"));
            out.push(Said::new("advice-token-endpoint-reach"));
        }
        Diagnosis::OAuthClientRejected => {
            out.push(Said::new("advice-oauth-client"));
            out.push(Said::new("advice-oauth-tenant"));
        }
        Diagnosis::OAuthRefused if s.oauth.as_ref().is_some_and(|o| o.grant() == crate::domain::Grant::Mailbox) => {
            out.push(Said::new("advice-mailbox-refused"));
            out.push(Said::new("advice-mailbox-scopes"));
        }
        Diagnosis::MailboxSignIn => {
            out.push(Said::new("advice-mailbox-connect"));
            out.push(Said::new("advice-mailbox-expired"));
        }
        Diagnosis::OAuthRefused => {
            out.push(Said::new("advice-app-permission"));
            out.push(Said::new("advice-app-scopes"));
        }
        Diagnosis::AuthRequired => {
            out.push(Said::new("advice-auth-required"));
            out.push(Said::new("advice-relay").with("host", host));
        }
        Diagnosis::SenderRejected => match &s.account {
            Some(account) => out.push(Said::new("advice-from-account").with("account", account.as_str())),
            None => out.push(Said::new("advice-relay-from")),
        },
        Diagnosis::RecipientRejected => out.push(Said::new("advice-recipient")),
        Diagnosis::MessageRejected => out.push(Said::new(table::THIRD_PARTY)),
        Diagnosis::ReplyTooLong => {
            out.push(Said::new("advice-not-a-mail-server").with("host", host).with("port", port));
            out.push(Said::new(table::VERIFY_SERVER));
        }
    }
    out
}

/// Provider hints for a rejected login, chosen by host name.
pub fn auth_hints(host: &str) -> Vec<Said> {
    let host = host.to_ascii_lowercase();
    let any = |names: &[&str]| names.iter().any(|n| host.ends_with(n));
    [
        (any(&["163.com", "126.com", "qq.com", "sina.com", "sina.cn"]), "advice-authorization-code"),
        (any(&["gmail.com", "googlemail.com"]), "advice-gmail-app-password"),
        (any(&["office365.com", "outlook.com"]), "advice-m365-basic-auth"),
    ]
    .into_iter()
    .filter(|(applies, _)| *applies)
    .map(|(_, id)| Said::new(id))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_hints_follow_the_provider() {
        let english = |host: &str| crate::i18n::english(&auth_hints(host)[0]);
        assert!(english("smtp.163.com").contains("authorization code"));
        assert!(english("smtp.qq.com").contains("authorization code"));
        assert!(english("smtp.gmail.com").contains("app password"));
        assert!(english("smtp.office365.com").contains("basic authentication"));
        assert!(auth_hints("mail.example.com").is_empty());
    }
}
