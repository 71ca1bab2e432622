//! Every piece of advice a failed send can give, in one place (server only).
//!
//! The general rows come from the product's troubleshooting table (the Mail Server module's
//! original specification, reproduced word for word in [`table`]); the rest are specific to a
//! diagnosis or to a provider, recognised by host name.

use super::Step;
use crate::domain::{Encryption, MailServerSettings};
use crate::report::Diagnosis;

/// The rows of the product's troubleshooting table.
pub mod table {
    pub const VERIFY_SERVER: &str = "Verify that the SMTP address, port, account, and password are correct.";
    pub const FIREWALL: &str = "Ensure the server is not blocked by a firewall.";
    pub const THIRD_PARTY: &str = "Ensure the SMTP account allows third-party application access and try using an authorization code instead of a password.";
    pub const PORTS: &str = "Try using 25 / 465 / 587 or check the email provider\u{2019}s documentation.";
    pub const TLS: &str = "Enable or disable TLS/SSL as required by the email provider.";
}

/// What Mailroom was doing at `step`, for "No answer within N seconds while …".
pub fn doing(step: Step) -> &'static str {
    match step {
        Step::Token => "getting an OAuth2 token",
        Step::Dns => "looking up the host name",
        Step::Connect => "connecting (a firewall may be dropping the connection)",
        Step::Tls => "setting up encryption",
        Step::Greeting => "waiting for the server's greeting",
        Step::Ehlo => "introducing Mailroom (EHLO)",
        Step::StartTls => "introducing Mailroom (EHLO/STARTTLS)",
        Step::Auth => "logging in",
        Step::MailFrom => "giving the sender",
        Step::RcptTo => "giving the recipient",
        Step::Data => "starting the message (DATA)",
        Step::Body => "sending the message",
    }
}

/// Microsoft 365's answer when SMTP AUTH is off for the mailbox or the tenant.
const SMTP_AUTH_DISABLED: &str = "5.7.139";

/// What to do about `diagnosis` (with the server's `reply`, if any), most useful first.
pub fn advice(diagnosis: Diagnosis, s: &MailServerSettings, offered: &[String], reply: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    match diagnosis {
        Diagnosis::DnsLookup => out.push(format!("Check the spelling of {}. {}", s.host, table::VERIFY_SERVER)),
        Diagnosis::ConnectionRefused => {
            out.push(format!("Nothing accepts connections on port {}. {}", s.port.get(), table::PORTS));
            out.push(table::FIREWALL.into());
        }
        Diagnosis::ConnectionTimedOut => {
            out.push(table::FIREWALL.into());
            out.push(table::PORTS.into());
        }
        Diagnosis::SslOnPlainPort => {
            out.push(format!(
                "Turn off \u{201c}Use SSL\u{201d}: port {} answers unencrypted. Use STARTTLS (usually port 587), or SSL on port 465.",
                s.port.get()
            ));
            out.push(table::TLS.into());
        }
        Diagnosis::PlainOnSslPort => {
            out.push(format!("Turn on \u{201c}Use SSL\u{201d} (and off STARTTLS): port {} expects encryption from the first byte.", s.port.get()));
            out.push(table::TLS.into());
        }
        Diagnosis::CertificateUntrusted => {
            out.push("If the server uses a private CA, paste that CA\u{2019}s certificate under Advanced \u{203a} Trusted CA certificate (PEM).".into());
            out.push("\u{201c}Skip certificate verification\u{201d} makes the test pass but lets anyone on the network read the password: use it only to diagnose.".into());
        }
        Diagnosis::CertificateExpired => out.push("The server\u{2019}s certificate has expired: ask the mail server\u{2019}s administrator to renew it.".into()),
        Diagnosis::CertificateWrongName => out.push(format!(
            "The certificate does not name {}: use the host name written on the certificate (often the provider\u{2019}s documented SMTP host).",
            s.host
        )),
        Diagnosis::TlsHandshake => out.push(table::TLS.into()),
        Diagnosis::Greeting => {
            out.push(table::VERIFY_SERVER.into());
            out.push(table::PORTS.into());
        }
        Diagnosis::Ehlo => out.push("Set a HELO name under Advanced that the server accepts, such as this machine\u{2019}s public DNS name.".into()),
        Diagnosis::StartTlsNotOffered => {
            out.push("Turn off STARTTLS and use SSL on port 465 if the provider offers it; use no encryption only if the provider documents that.".into());
            out.push(table::TLS.into());
        }
        Diagnosis::AuthNotOffered => {
            if s.encryption == Encryption::None {
                out.push("Many servers offer login only over an encrypted connection: turn on STARTTLS (port 587) or SSL (port 465).".into());
            }
            out.push(table::VERIFY_SERVER.into());
        }
        Diagnosis::NoSupportedAuth => out.push(format!(
            "The server offers {}; Mailroom logs in with PLAIN or LOGIN. Ask the provider for SMTP AUTH PLAIN/LOGIN access.",
            if offered.is_empty() { "no login method Mailroom knows".to_string() } else { offered.join(", ") }
        )),
        Diagnosis::AuthRejected if reply.is_some_and(|r| r.contains(SMTP_AUTH_DISABLED)) => {
            out.push("Microsoft 365 has SMTP AUTH turned off (535 5.7.139): in the Microsoft 365 admin center open Users \u{203a} Active users \u{203a} this mailbox \u{203a} Mail \u{203a} Manage email apps and tick \u{201c}Authenticated SMTP\u{201d}.".into());
            out.push("If it is off for the whole tenant, an Exchange admin turns it on with Set-TransportConfig -SmtpClientAuthenticationDisabled $false (Exchange admin center \u{203a} Settings \u{203a} Mail flow: \u{201c}Turn off SMTP AUTH protocol for your organization\u{201d} unticked). Security defaults must also allow it.".into());
            out.push("Microsoft ends password sign-in for SMTP AUTH in existing tenants after December 2026.".into());
        }
        Diagnosis::AuthRejected => {
            out.push(table::VERIFY_SERVER.into());
            out.extend(auth_hints(s.host.as_str()));
            out.push(table::THIRD_PARTY.into());
        }
        Diagnosis::TokenEndpoint => {
            out.push("Check the token endpoint: the provider preset fills it (Microsoft 365: https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token, with your tenant ID or domain as Tenant).".into());
            out.push("This server must reach the provider over HTTPS (port 443): check the firewall and any proxy.".into());
        }
        Diagnosis::OAuthClientRejected => {
            out.push("Check Client ID and Client secret: use the secret\u{2019}s value (shown once when it was created), not its ID, and check that it has not expired (Microsoft Entra admin center \u{203a} App registrations \u{203a} the app \u{203a} Certificates & secrets).".into());
            out.push("Check Tenant: the app must be registered in that tenant.".into());
        }
        Diagnosis::OAuthRefused if s.oauth.as_ref().is_some_and(|o| o.grant() == crate::domain::Grant::Mailbox) => {
            out.push("The provider refused the mailbox's sign-in: check that the app may ask for the scopes (Microsoft 365: the delegated permission SMTP.Send; Google: https://mail.google.com/ on the OAuth consent screen) and that the mailbox consented.".into());
            out.push("Check Scopes: the provider preset fills them for a mailbox; offline access is asked for by Mailroom.".into());
        }
        Diagnosis::MailboxSignIn => {
            out.push("Connect the mailbox: save the settings, then use \u{201c}Sign in\u{201d} under Connected mailbox, below the form, and sign in as the Email Account.".into());
            out.push("A connection that worked before ends when the mailbox's password changes, consent is revoked, or it goes unused for 90 days (Microsoft) or 6 months (Google): sign in again.".into());
        }
        Diagnosis::OAuthRefused => {
            out.push("The app may lack the permission or its consent: for Microsoft 365 grant the application permission SMTP.SendAsApp (Office 365 Exchange Online) with admin consent, and register the app's service principal in Exchange (New-ServicePrincipal, then Add-MailboxPermission for the mailbox).".into());
            out.push("Check Scopes: Microsoft 365 app-only sign-in uses https://outlook.office365.com/.default.".into());
        }
        Diagnosis::AuthRequired => {
            out.push("This server accepts mail only after sign-in: choose Authentication \u{201c}Password\u{201d} and enter the account and its password.".into());
            out.push(format!(
                "If {} should relay for this server without sign-in, ask its admin to allow this server's address (relays usually listen on port 25 inside the network).",
                s.host
            ));
        }
        Diagnosis::SenderRejected => match &s.account {
            Some(account) => out.push(format!("Many providers accept only the account itself as From: set Email \u{201c}From\u{201d} Address to {}.", account.as_str())),
            None => out.push("The relay refuses this From address: use an address of a domain it sends for.".into()),
        },
        Diagnosis::RecipientRejected => out.push("Check the recipient address (\u{201c}Send test to\u{201d}); the server may also refuse outside recipients for this account.".into()),
        Diagnosis::MessageRejected => out.push(table::THIRD_PARTY.into()),
        Diagnosis::ReplyTooLong => {
            out.push(format!(
                "Check that {}, port {}, is your mail server: no mail server answers at such length.",
                s.host,
                s.port.get()
            ));
            out.push(table::VERIFY_SERVER.into());
        }
    }
    out
}

/// Provider hints for a rejected login, chosen by host name.
pub fn auth_hints(host: &str) -> Vec<String> {
    let host = host.to_ascii_lowercase();
    let mut out = Vec::new();
    let any = |names: &[&str]| names.iter().any(|n| host.ends_with(n));
    if any(&["163.com", "126.com", "qq.com", "sina.com", "sina.cn"]) {
        out.push("163, 126, QQ and Sina mail need an authorization code (generated in the mailbox\u{2019}s SMTP settings), not the login password.".to_string());
    }
    if any(&["gmail.com", "googlemail.com"]) {
        out.push(
            "Gmail needs an app password (Google Account \u{203a} Security \u{203a} App passwords)."
                .to_string(),
        );
    }
    if any(&["office365.com", "outlook.com"]) {
        out.push("Microsoft 365 may have basic authentication (SMTP AUTH) turned off for the mailbox or the whole tenant.".to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_hints_follow_the_provider() {
        assert!(auth_hints("smtp.163.com")[0].contains("authorization code"));
        assert!(auth_hints("smtp.qq.com")[0].contains("authorization code"));
        assert!(auth_hints("smtp.gmail.com")[0].contains("app password"));
        assert!(auth_hints("smtp.office365.com")[0].contains("basic authentication"));
        assert!(auth_hints("mail.example.com").is_empty());
    }
}
