//! Turning lettre's and rustls' errors into a [`Diagnosis`] with the server's reply.

use crate::report::Diagnosis;
use lettre::transport::smtp::Error as SmtpError;
use std::error::Error as StdError;

/// Why a send failed: the diagnosis, what the server said, and one sentence.
#[derive(Debug, Clone)]
pub struct SendFailure {
    pub diagnosis: Diagnosis,
    pub summary: String,
    pub code: Option<u16>,
    pub reply: Option<String>,
    /// AUTH mechanisms the server offered (for [`Diagnosis::NoSupportedAuth`]).
    pub offered: Vec<String>,
}

impl SendFailure {
    pub fn new(diagnosis: Diagnosis, summary: impl Into<String>) -> Self {
        Self {
            diagnosis,
            summary: summary.into(),
            code: None,
            reply: None,
            offered: Vec::new(),
        }
    }

    /// A failure whose cause is an SMTP reply (or its absence).
    pub fn smtp(diagnosis: Diagnosis, what: &str, e: &SmtpError) -> Self {
        let code = e.status().map(u16::from);
        let reply = e.source().map(|s| s.to_string()).filter(|s| !s.is_empty());
        let summary = match (code, &reply) {
            (Some(c), Some(r)) => format!("{what}: the server answered {c} {r}"),
            (Some(c), None) => format!("{what}: the server answered {c}"),
            _ => format!("{what}: {e}"),
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
                format!("SSL is on, but port {port} answered without encryption (it expects STARTTLS or plain SMTP)."),
            ),
            R::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
                SendFailure::new(Diagnosis::CertificateExpired, "The server's certificate has expired.")
            }
            R::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
                SendFailure::new(Diagnosis::CertificateWrongName, "The server's certificate is for a different host name.")
            }
            R::InvalidCertificate(C::UnknownIssuer | C::BadSignature | C::NotValidYet | C::NotValidYetContext { .. }) => {
                SendFailure::new(Diagnosis::CertificateUntrusted, format!("The server's certificate is not trusted ({tls})."))
            }
            R::InvalidCertificate(other) => {
                SendFailure::new(Diagnosis::CertificateUntrusted, format!("The server's certificate was refused ({other:?})."))
            }
            other => SendFailure::new(Diagnosis::TlsHandshake, format!("The TLS handshake failed: {other}.")),
        };
    }
    if e.is_timeout() {
        return SendFailure::new(Diagnosis::Greeting, "The server did not greet in time.");
    }
    if e.status().is_some() {
        // lettre reads the greeting, then sends EHLO: a refusal before Mailroom wrote anything
        // is the greeting's, after that EHLO's (or STARTTLS's).
        return if wrote {
            SendFailure::smtp(Diagnosis::Ehlo, "EHLO was rejected", e)
        } else {
            SendFailure::smtp(Diagnosis::Greeting, "The server refused the connection", e)
        };
    }
    SendFailure::new(
        Diagnosis::Greeting,
        format!("The server closed the connection without a proper greeting ({e})."),
    )
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
