//! Turning lettre's and rustls' errors into a [`Diagnosis`] with the server's reply.

use crate::domain::Said;
use crate::report::Diagnosis;
use lettre::transport::smtp::Error as SmtpError;
use std::error::Error as StdError;

/// Why a send failed: the diagnosis, what the server said, and one sentence (a catalogue
/// message: a test's report says it in the page's language, the outbox in English).
#[derive(Debug, Clone)]
pub struct SendFailure {
    pub diagnosis: Diagnosis,
    pub summary: Said,
    pub code: Option<u16>,
    pub reply: Option<String>,
    /// AUTH mechanisms the server offered (for [`Diagnosis::NoSupportedAuth`]).
    pub offered: Vec<String>,
}

impl SendFailure {
    pub fn new(diagnosis: Diagnosis, summary: Said) -> Self {
        Self {
            diagnosis,
            summary,
            code: None,
            reply: None,
            offered: Vec::new(),
        }
    }

    /// The sentence in `lang` (what Mailroom was doing, `{ $doing }`, a message of its own).
    pub fn summary_in(&self, lang: crate::templates::Lang) -> String {
        let mut said = self.summary.clone();
        for (name, value) in &mut said.args {
            if name == "doing" {
                *value = crate::i18n::text(lang, value);
            }
        }
        crate::i18n::said(lang, &said)
    }

    /// The sentence in English, as the outbox keeps it.
    pub fn summary_en(&self) -> String {
        self.summary_in(crate::templates::Lang::En)
    }

    /// A failure whose cause is an SMTP reply (or its absence). `what` is a message with an
    /// `{ $answer }`: the server's reply, or what went wrong instead.
    pub fn smtp(diagnosis: Diagnosis, what: Said, e: &SmtpError) -> Self {
        let code = e.status().map(u16::from);
        let reply = e.source().map(|s| s.to_string()).filter(|s| !s.is_empty());
        let summary = match (code, &reply) {
            (Some(c), Some(r)) => what.with("answer", format!("{c} {r}")),
            (Some(c), None) => what.with("answer", c),
            _ => what.with("answer", e),
        };
        Self {
            diagnosis,
            summary,
            code,
            reply,
            offered: Vec::new(),
        }
    }
}

/// Errors while connecting, encrypting, reading the greeting or saying EHLO.
pub(super) fn classify_connect_error(e: &SmtpError, port: u16, wrote: bool) -> SendFailure {
    if let Some(tls) = find_rustls_error(e) {
        use rustls::{CertificateError as C, Error as R};
        return match tls {
            R::InvalidMessage(_) | R::InappropriateMessage { .. } | R::InappropriateHandshakeMessage { .. } => SendFailure::new(
                Diagnosis::SslOnPlainPort,
                Said::new("summary-ssl-on-plain-port").with("port", port),
            ),
            R::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
                SendFailure::new(Diagnosis::CertificateExpired, Said::new("summary-certificate-expired"))
            }
            R::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
                SendFailure::new(Diagnosis::CertificateWrongName, Said::new("summary-certificate-wrong-name"))
            }
            R::InvalidCertificate(C::UnknownIssuer | C::BadSignature | C::NotValidYet | C::NotValidYetContext { .. }) => {
                SendFailure::new(Diagnosis::CertificateUntrusted, Said::new("summary-certificate-untrusted").with("reason", tls))
            }
            R::InvalidCertificate(other) => {
                SendFailure::new(Diagnosis::CertificateUntrusted, Said::new("summary-certificate-untrusted").with("reason", format!("{other:?}")))
            }
            other => SendFailure::new(Diagnosis::TlsHandshake, Said::new("summary-tls-handshake").with("reason", other)),
        };
    }
    if e.is_timeout() {
        return SendFailure::new(Diagnosis::Greeting, Said::new("summary-no-greeting"));
    }
    if e.status().is_some() {
        // lettre reads the greeting, then sends EHLO: a refusal before Mailroom wrote anything
        // is the greeting's, after that EHLO's (or STARTTLS's).
        return if wrote {
            SendFailure::smtp(Diagnosis::Ehlo, Said::new("summary-ehlo-rejected"), e)
        } else {
            SendFailure::smtp(Diagnosis::Greeting, Said::new("summary-greeting-refused"), e)
        };
    }
    SendFailure::new(Diagnosis::Greeting, Said::new("summary-greeting-closed").with("reason", e))
}

/// rustls errors hide inside io::Errors, whose `source()` skips the wrapped error itself.
pub(super) fn find_rustls_error<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(r) = find_rustls_error(inner) {
                    return Some(r);
                }
            }
        }
        current = err.source();
    }
    None
}

/// Extracts an enhanced status code ("5.7.8") from the start of a reply text.
pub fn enhanced_status(reply: &str) -> Option<String> {
    let token = reply.split_whitespace().next()?;
    let parts: Vec<&str> = token.split('.').collect();
    let ok = parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..]
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()));
    ok.then(|| token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_status_is_read_only_when_well_formed() {
        assert_eq!(
            enhanced_status("5.7.8 Authentication credentials invalid").as_deref(),
            Some("5.7.8")
        );
        assert_eq!(enhanced_status("2.0.0 Ok: queued as X").as_deref(), Some("2.0.0"));
        assert_eq!(enhanced_status("Authentication failed"), None);
        assert_eq!(enhanced_status("5.7 x"), None);
        assert_eq!(enhanced_status(""), None);
    }
}
