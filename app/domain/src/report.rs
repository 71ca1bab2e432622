//! The result of "Test Email Server": what went wrong (a [`Diagnosis`]), what the server said,
//! the field most likely at fault, advice, and the redacted transcript. Filled by the server
//! (`mailer`), shown by the page.

use crate::{Encryption, Field};
use serde::{Deserialize, Serialize};

/// Why a send failed, in the order the conversation could fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Diagnosis {
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
    /// Authentication None, and the server asks for sign-in (530 and kin).
    AuthRequired,
    /// OAuth2: the token endpoint could not be reached, or did not answer as one.
    TokenEndpoint,
    /// OAuth2: the token endpoint refused the app (client id or secret).
    OAuthClientRejected,
    /// OAuth2: the token endpoint refused the request for another reason (scope, consent).
    OAuthRefused,
    /// OAuth2 as a mailbox: none is connected, or its sign-in expired or was revoked.
    MailboxSignIn,
    SenderRejected,
    RecipientRejected,
    MessageRejected,
    /// A reply longer than any mail server's: not a mail server, or a hostile one.
    ReplyTooLong,
}

impl Diagnosis {
    /// Its title (a catalogue id, `diagnosis-…`).
    pub fn title_id(self) -> &'static str {
        match self {
            Diagnosis::DnsLookup => "diagnosis-dns-lookup",
            Diagnosis::ConnectionRefused => "diagnosis-connection-refused",
            Diagnosis::ConnectionTimedOut => "diagnosis-connection-timed-out",
            Diagnosis::SslOnPlainPort => "diagnosis-ssl-on-plain-port",
            Diagnosis::PlainOnSslPort => "diagnosis-plain-on-ssl-port",
            Diagnosis::CertificateUntrusted => "diagnosis-certificate-untrusted",
            Diagnosis::CertificateExpired => "diagnosis-certificate-expired",
            Diagnosis::CertificateWrongName => "diagnosis-certificate-wrong-name",
            Diagnosis::TlsHandshake => "diagnosis-tls-handshake",
            Diagnosis::Greeting => "diagnosis-greeting",
            Diagnosis::Ehlo => "diagnosis-ehlo",
            Diagnosis::StartTlsNotOffered => "diagnosis-start-tls-not-offered",
            Diagnosis::AuthNotOffered => "diagnosis-auth-not-offered",
            Diagnosis::NoSupportedAuth => "diagnosis-no-supported-auth",
            Diagnosis::AuthRejected => "diagnosis-auth-rejected",
            Diagnosis::AuthRequired => "diagnosis-auth-required",
            Diagnosis::TokenEndpoint => "diagnosis-token-endpoint",
            Diagnosis::OAuthClientRejected => "diagnosis-oauth-client-rejected",
            Diagnosis::OAuthRefused => "diagnosis-oauth-refused",
            Diagnosis::MailboxSignIn => "diagnosis-mailbox-sign-in",
            Diagnosis::SenderRejected => "diagnosis-sender-rejected",
            Diagnosis::RecipientRejected => "diagnosis-recipient-rejected",
            Diagnosis::MessageRejected => "diagnosis-message-rejected",
            Diagnosis::ReplyTooLong => "diagnosis-reply-too-long",
        }
    }

    /// The form field most likely at fault.
    pub fn field(self) -> Option<Field> {
        match self {
            Diagnosis::DnsLookup | Diagnosis::CertificateWrongName => Some(Field::Host),
            Diagnosis::ConnectionRefused | Diagnosis::ConnectionTimedOut | Diagnosis::Greeting => {
                Some(Field::Port)
            }
            Diagnosis::SslOnPlainPort
            | Diagnosis::PlainOnSslPort
            | Diagnosis::CertificateUntrusted
            | Diagnosis::CertificateExpired
            | Diagnosis::TlsHandshake
            | Diagnosis::StartTlsNotOffered
            | Diagnosis::AuthNotOffered => Some(Field::Encryption),
            Diagnosis::Ehlo => Some(Field::HeloName),
            Diagnosis::NoSupportedAuth => Some(Field::Account),
            Diagnosis::AuthRejected => Some(Field::Password),
            Diagnosis::AuthRequired => Some(Field::Authentication),
            Diagnosis::TokenEndpoint => Some(Field::OAuthTokenUrl),
            Diagnosis::OAuthClientRejected => Some(Field::OAuthClientSecret),
            Diagnosis::OAuthRefused => Some(Field::OAuthScopes),
            Diagnosis::MailboxSignIn => Some(Field::OAuthGrant),
            Diagnosis::SenderRejected => Some(Field::FromAddress),
            Diagnosis::ReplyTooLong => Some(Field::Host),
            Diagnosis::RecipientRejected | Diagnosis::MessageRejected => None,
        }
    }
}

impl Diagnosis {
    /// The one-click change that answers this failure for `form`, if there is one.
    pub fn fix(self, form: &crate::MailServerForm) -> Option<crate::Fix> {
        use crate::Fix;
        let fix = match self {
            Diagnosis::SslOnPlainPort => Fix::UseStartTls,
            Diagnosis::PlainOnSslPort => Fix::UseSsl,
            Diagnosis::SenderRejected => Fix::FromEqualsAccount,
            _ => return None,
        };
        // Offered only when it changes something.
        (fix.apply(form) != *form).then_some(fix)
    }
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
    /// `None`: the server accepted the test mail.
    pub diagnosis: Option<Diagnosis>,
    /// One sentence: what happened.
    pub summary: String,
    /// The server's reply code and enhanced status (e.g. 535, "5.7.8"), when it answered.
    pub code: Option<u16>,
    pub enhanced_status: Option<String>,
    pub server_reply: Option<String>,
    pub advice: Vec<String>,
    pub transcript: Vec<TranscriptLine>,
    pub elapsed_ms: u64,
    pub server: String,
    pub encryption: Encryption,
    pub recipient: String,
    /// RFC 3339, UTC.
    pub finished_at: String,
}

impl TestReport {
    pub fn success(&self) -> bool {
        self.diagnosis.is_none()
    }

    /// The form field most likely at fault, if the test failed.
    pub fn field(&self) -> Option<Field> {
        self.diagnosis.and_then(Diagnosis::field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_points_somewhere_or_says_why_not() {
        assert_eq!(Diagnosis::AuthRejected.field(), Some(Field::Password));
        assert_eq!(Diagnosis::SenderRejected.field(), Some(Field::FromAddress));
        assert_eq!(Diagnosis::PlainOnSslPort.field(), Some(Field::Encryption));
        assert_eq!(Diagnosis::RecipientRejected.field(), None);
    }

    #[test]
    fn a_fix_is_offered_only_where_it_changes_the_form() {
        use crate::{Fix, MailServerForm};
        let form = MailServerForm {
            account: "a@example.com".into(),
            from_address: "b@example.com".into(),
            ssl: true,
            ..MailServerForm::default()
        };
        assert_eq!(Diagnosis::SslOnPlainPort.fix(&form), Some(Fix::UseStartTls));
        assert_eq!(Diagnosis::PlainOnSslPort.fix(&form), None, "SSL is already on");
        assert_eq!(Diagnosis::SenderRejected.fix(&form), Some(Fix::FromEqualsAccount));
        assert_eq!(Diagnosis::AuthRejected.fix(&form), None);
    }
}
