//! The result of "Test Email Server": which step of the SMTP conversation was reached, what the
//! server said, the field most likely at fault and the brief's advice for that case.
//! Shared by the server (which fills it) and the page (which shows it).

use crate::domain::{Encryption, Field};
use serde::{Deserialize, Serialize};

/// The steps of a test, in the order they happen; a failed test names the one that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    DnsLookup,
    ConnectionRefused,
    ConnectionTimedOut,
    SslOnPlainPort,
    PlainOnSslPort,
    CertificateUntrusted,
    CertificateExpired,
    CertificateWrongName,
    TlsHandshake,
    Greeting,
    Ehlo,
    StartTlsNotOffered,
    AuthNotOffered,
    NoSupportedAuth,
    AuthRejected,
    SenderRejected,
    RecipientRejected,
    MessageRejected,
    Accepted,
}

impl Stage {
    pub fn title(self) -> &'static str {
        match self {
            Stage::DnsLookup => "DNS lookup failed",
            Stage::ConnectionRefused => "Connection refused",
            Stage::ConnectionTimedOut => "Connection timed out",
            Stage::SslOnPlainPort => "SSL is on, but this port does not speak SSL",
            Stage::PlainOnSslPort => "This port expects SSL (implicit TLS)",
            Stage::CertificateUntrusted => "Certificate not trusted",
            Stage::CertificateExpired => "Certificate expired",
            Stage::CertificateWrongName => "Certificate is for another name",
            Stage::TlsHandshake => "TLS handshake failed",
            Stage::Greeting => "No or refused greeting",
            Stage::Ehlo => "EHLO rejected",
            Stage::StartTlsNotOffered => "STARTTLS not offered",
            Stage::AuthNotOffered => "Login (AUTH) not offered",
            Stage::NoSupportedAuth => "No supported login method",
            Stage::AuthRejected => "Login rejected",
            Stage::SenderRejected => "Sender rejected",
            Stage::RecipientRejected => "Recipient rejected",
            Stage::MessageRejected => "Message rejected",
            Stage::Accepted => "Accepted",
        }
    }

    /// The form field most likely at fault.
    pub fn field(self) -> Option<Field> {
        match self {
            Stage::DnsLookup | Stage::CertificateWrongName => Some(Field::Host),
            Stage::ConnectionRefused | Stage::ConnectionTimedOut | Stage::Greeting => Some(Field::Port),
            Stage::SslOnPlainPort
            | Stage::PlainOnSslPort
            | Stage::CertificateUntrusted
            | Stage::CertificateExpired
            | Stage::TlsHandshake
            | Stage::StartTlsNotOffered
            | Stage::AuthNotOffered => Some(Field::Encryption),
            Stage::Ehlo => Some(Field::HeloName),
            Stage::NoSupportedAuth => Some(Field::Account),
            Stage::AuthRejected => Some(Field::Password),
            Stage::SenderRejected => Some(Field::FromAddress),
            Stage::RecipientRejected | Stage::MessageRejected | Stage::Accepted => None,
        }
    }
}

/// The rows of the brief's troubleshooting table, word for word where it has words.
pub mod brief {
    pub const VERIFY_SERVER: &str =
        "Verify that the SMTP address, port, account, and password are correct.";
    pub const FIREWALL: &str = "Ensure the server is not blocked by a firewall.";
    pub const THIRD_PARTY: &str = "Ensure the SMTP account allows third-party application access and try using an authorization code instead of a password.";
    pub const PORTS: &str = "Try using 25 / 465 / 587 or check the email provider\u{2019}s documentation.";
    pub const TLS: &str = "Enable or disable TLS/SSL as required by the email provider.";
}

/// One line of the SMTP conversation; secrets are already replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptLine {
    /// True for what Mailroom sent, false for what the server answered.
    pub client: bool,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    pub success: bool,
    pub stage: Stage,
    /// One sentence: what happened.
    pub summary: String,
    /// The server's reply code and enhanced status (e.g. 535, "5.7.8"), when it answered.
    pub code: Option<u16>,
    pub enhanced_status: Option<String>,
    pub server_reply: Option<String>,
    pub field: Option<Field>,
    pub advice: Vec<String>,
    pub transcript: Vec<TranscriptLine>,
    pub elapsed_ms: u64,
    pub server: String,
    pub encryption: Encryption,
    pub recipient: String,
    /// RFC 3339, UTC.
    pub finished_at: String,
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
        out.push("Gmail needs an app password (Google Account \u{203a} Security \u{203a} App passwords).".to_string());
    }
    if any(&["office365.com", "outlook.com"]) {
        out.push("Microsoft 365 may have basic authentication (SMTP AUTH) turned off for the mailbox or the whole tenant.".to_string());
    }
    out
}

/// Extracts an enhanced status code ("5.7.8") from the start of a reply text.
pub fn enhanced_status(reply: &str) -> Option<String> {
    let token = reply.split_whitespace().next()?;
    let parts: Vec<&str> = token.split('.').collect();
    let ok = parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..].iter().all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()));
    ok.then(|| token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_status_is_read_only_when_well_formed() {
        assert_eq!(enhanced_status("5.7.8 Authentication credentials invalid").as_deref(), Some("5.7.8"));
        assert_eq!(enhanced_status("2.0.0 Ok: queued as X").as_deref(), Some("2.0.0"));
        assert_eq!(enhanced_status("Authentication failed"), None);
        assert_eq!(enhanced_status("5.7 x"), None);
        assert_eq!(enhanced_status(""), None);
    }

    #[test]
    fn auth_hints_follow_the_provider() {
        assert!(auth_hints("smtp.163.com")[0].contains("authorization code"));
        assert!(auth_hints("smtp.qq.com")[0].contains("authorization code"));
        assert!(auth_hints("smtp.gmail.com")[0].contains("app password"));
        assert!(auth_hints("smtp.office365.com")[0].contains("basic authentication"));
        assert!(auth_hints("mail.example.com").is_empty());
    }

    #[test]
    fn every_failure_stage_points_somewhere_or_says_why_not() {
        assert_eq!(Stage::AuthRejected.field(), Some(Field::Password));
        assert_eq!(Stage::SenderRejected.field(), Some(Field::FromAddress));
        assert_eq!(Stage::PlainOnSslPort.field(), Some(Field::Encryption));
        assert_eq!(Stage::Accepted.field(), None);
    }
}
