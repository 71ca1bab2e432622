//! The one error type every server function returns.
//!
//! Variants are things the UI can act on. Internal causes are logged on the server and reach the
//! browser only as a short message; no debug dump ever crosses the wire.

use crate::domain::{Field, FieldErrors, MailServerForm, Said};
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The settings were saved after this form was loaded. `newer` is what is stored now (who
    /// saved and what changed are in its history), so the page can offer to keep its edits on
    /// top of it; absent where the answer travels in a URL (the page without JavaScript).
    #[error("These settings were saved elsewhere ({saved_at}) after you opened this page, so yours were not saved. Reload the page to see the newer version.")]
    Conflict {
        current: u64,
        saved_at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        newer: Option<Box<crate::api::MailSettingsView>>,
    },
    /// One or more fields are wrong; each message says what to fix. `submitted` is the form as
    /// sent, password blanked, so a page without JavaScript can show it again.
    #[error("Nothing was saved: correct the fields marked below.")]
    Invalid {
        errors: FieldErrors,
        submitted: Option<MailServerForm>,
    },
    /// No valid session: log in first. Carries no data.
    #[error("Your session has ended: log in again.")]
    NotAuthenticated,
    /// Wrong email or password (never says which). `email` is what was typed, so the login
    /// page (which has no script) can keep it in the field.
    #[error("Wrong email or password.")]
    LoginFailed {
        #[serde(default)]
        email: String,
    },
    #[error("Too many failed logins: wait {retry_after_secs} seconds, then try again.")]
    TooManyAttempts { retry_after_secs: u64 },
    /// Refused for a reason the message gives (a cross-site request, a used setup link).
    #[error("{0}")]
    Forbidden(String),
    /// Too many requests of one kind in a short time (tests, reset mails).
    #[error("At most {limit} of these per minute: wait {retry_after_secs} seconds, then try again.")]
    RateLimited { limit: u32, retry_after_secs: u64 },
    /// The server is busy with slow work (password hashing) and refused at once rather than
    /// queueing without bound.
    #[error("The server is busy: try again in {retry_after_secs} seconds.")]
    Overloaded { retry_after_secs: u64 },
    /// The disk holding the data is nearly full: nothing was written (507). Reads, logins and
    /// sending go on.
    #[error("{message}")]
    InsufficientStorage { message: String, retry_after_secs: u64 },
    /// Refused for a while for the reason given (the outbox at its bound): nothing was written.
    #[error("{message}")]
    Unavailable { message: String, retry_after_secs: u64 },
    /// The request could not be read (malformed arguments, wrong method).
    #[error("The request could not be read: {0}")]
    BadRequest(String),
    /// A request the rules refuse, in words (a token name taken, a message that cannot be
    /// retried).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    NotFound(String),
    /// The request body is larger than the server accepts.
    #[error("The request is too large.")]
    TooLarge,
    /// Storage or another internal part failed; details are in the server log.
    #[error("{0}")]
    Internal(String),
    /// The request itself could not be carried (network, encoding).
    #[error("{0}")]
    Transport(String),
}

impl AppError {
    /// The error as a catalogue message, where it has one (the others carry their words).
    pub fn message(&self) -> Option<Said> {
        Some(match self {
            AppError::Conflict { saved_at, .. } => Said::new("error-conflict").with("saved_at", saved_at),
            AppError::Invalid { .. } => Said::new("error-invalid"),
            AppError::NotAuthenticated => Said::new("error-session-ended"),
            AppError::LoginFailed { .. } => Said::new("login-failed"),
            AppError::TooManyAttempts { retry_after_secs } => Said::new("error-too-many-logins").with("seconds", retry_after_secs),
            AppError::RateLimited { limit, retry_after_secs } => {
                Said::new("error-rate-limited").with("limit", limit).with("seconds", retry_after_secs)
            }
            AppError::Overloaded { retry_after_secs } => Said::new("error-busy").with("seconds", retry_after_secs),
            AppError::BadRequest(m) => Said::new("error-bad-request").with("reason", m),
            AppError::TooLarge => Said::new("error-too-large"),
            _ => return None,
        })
    }

    /// The error in the page's language, for the pages rendered on the server.
    pub fn said(&self) -> String {
        self.message().map_or_else(|| self.to_string(), |m| crate::i18n::say(&m))
    }

    /// The error in `words` (an island's).
    pub fn said_in(&self, words: &crate::domain::Words) -> String {
        self.message().map_or_else(|| self.to_string(), |m| words.say(&m))
    }

    /// Logs the real cause on the server and returns a message fit for the browser.
    #[cfg(feature = "ssr")]
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = ?cause.to_string(), "{context}");
        AppError::Internal(format!("{context}; the server log has the details"))
    }
}

impl AppError {
    /// One field's error, on a form that is not sent back (login, setup, reset).
    pub fn invalid(field: Field, message: Said) -> Self {
        AppError::Invalid {
            errors: FieldErrors::one(field, message),
            submitted: None,
        }
    }

    /// Field errors for `form`, which goes back (password blanked) so a page without JavaScript
    /// can show what was typed.
    pub fn invalid_form(errors: FieldErrors, form: &MailServerForm) -> Self {
        AppError::Invalid {
            errors,
            submitted: Some(MailServerForm {
                password: String::new(),
                ..form.clone()
            }),
        }
    }
}

impl AppError {
    /// The HTTP status this error is answered with: 500 only for a fault inside the server.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } | AppError::BadRequest(_) | AppError::Refused(_) => 400,
            AppError::NotFound(_) => 404,
            AppError::NotAuthenticated | AppError::LoginFailed { .. } => 401,
            AppError::Forbidden(_) => 403,
            AppError::Conflict { .. } => 409,
            AppError::TooLarge => 413,
            AppError::TooManyAttempts { .. } | AppError::RateLimited { .. } => 429,
            AppError::Overloaded { .. } | AppError::Unavailable { .. } => 503,
            AppError::InsufficientStorage { .. } => 507,
            AppError::Internal(_) | AppError::Transport(_) => 500,
        }
    }

    /// Seconds for the `Retry-After` header (already rounded up).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooManyAttempts { retry_after_secs }
            | AppError::RateLimited { retry_after_secs, .. }
            | AppError::Overloaded { retry_after_secs }
            | AppError::InsufficientStorage { retry_after_secs, .. }
            | AppError::Unavailable { retry_after_secs, .. } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = crate::api::codec::JsonText;

    /// Errors of the server-function machinery: on the server, a request it could not decode;
    /// in the browser, a request that could not be carried.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let text = value.to_string();
        match value {
            _ if text.contains("length limit exceeded") => AppError::TooLarge,
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::UnsupportedRequestMethod(_) => AppError::BadRequest(text),
            _ => AppError::Transport(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_internal_faults_are_500_and_waits_carry_retry_after() {
        assert_eq!(AppError::NotAuthenticated.status(), 401);
        assert_eq!(
            AppError::Conflict {
                current: 1,
                saved_at: String::new(),
                newer: None,
            }
            .status(),
            409
        );
        assert_eq!(AppError::invalid(Field::Host, Said::new("host-empty")).status(), 400);
        let limited = AppError::RateLimited {
            limit: 5,
            retry_after_secs: 7,
        };
        assert_eq!((limited.status(), limited.retry_after()), (429, Some(7)));
        assert_eq!(AppError::Overloaded { retry_after_secs: 1 }.status(), 503);
        assert_eq!(
            AppError::from_server_fn_error(ServerFnErrorErr::Args("bad".into())).status(),
            400
        );
        assert_eq!(AppError::Internal("x".into()).status(), 500);
    }
}

/// How long a client is asked to wait when writes are refused for space or a full outbox.
#[cfg(feature = "ssr")]
pub const STORAGE_RETRY_SECS: u64 = 60;

/// How long a client is asked to wait when the database is away (restarting, out of
/// connections).
#[cfg(feature = "ssr")]
pub const DATABASE_RETRY_SECS: u64 = 5;

/// Storage errors become app errors here and nowhere else: a version conflict is the admin's to
/// resolve; a disk near full or a full outbox is a wait with its reason; anything else is
/// logged and reported as internal.
#[cfg(feature = "ssr")]
impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Conflict { current, saved_at } => AppError::Conflict {
                current,
                saved_at,
                newer: None,
            },
            e @ StoreError::NoSpace { .. } => {
                tracing::warn!("a write was refused: {e}");
                AppError::InsufficientStorage {
                    message: capitalized(&e.to_string()),
                    retry_after_secs: STORAGE_RETRY_SECS,
                }
            }
            e @ StoreError::OutboxFull { .. } => AppError::Unavailable {
                message: capitalized(&e.to_string()),
                retry_after_secs: STORAGE_RETRY_SECS,
            },
            e @ StoreError::Unavailable(_) => {
                tracing::warn!("a request found the database unavailable: {e}");
                AppError::Unavailable {
                    message: "The database is unavailable for a moment; try again shortly.".into(),
                    retry_after_secs: DATABASE_RETRY_SECS,
                }
            }
            other => AppError::internal("storage failed", other),
        }
    }
}

/// A storage error's text as a sentence.
#[cfg(feature = "ssr")]
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}
