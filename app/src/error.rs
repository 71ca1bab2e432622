//! The one error type every server function returns.
//!
//! Variants are things the UI can act on. Internal causes are logged on the server and reach the
//! browser only as a short message; no debug dump ever crosses the wire.

use crate::domain::{Field, FieldErrors, MailServerForm};
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Someone else saved after this form was loaded.
    #[error("Someone else saved these settings ({saved_at}) after you opened this page. Your changes were not saved; reload the page to see theirs, then make your changes again.")]
    Conflict { current: u64, saved_at: String },
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
    /// Wrong email or password (never says which).
    #[error("Wrong email or password.")]
    LoginFailed,
    #[error("Too many failed logins: wait {retry_after_secs} seconds, then try again.")]
    TooManyAttempts { retry_after_secs: u64 },
    /// Refused for a reason the message gives (a cross-site request, a used setup link).
    #[error("{0}")]
    Forbidden(String),
    /// Too many tests in a short time.
    #[error("At most {limit} tests per minute: wait {retry_after_secs} seconds, then test again.")]
    RateLimited { limit: u32, retry_after_secs: u64 },
    /// Storage or another internal part failed; details are in the server log.
    #[error("{0}")]
    Internal(String),
    /// The request itself could not be carried (network, encoding).
    #[error("{0}")]
    Transport(String),
}

impl AppError {
    /// Logs the real cause on the server and returns a message fit for the browser.
    #[cfg(feature = "ssr")]
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "{context}");
        AppError::Internal(format!("{context}; the server log has the details"))
    }
}

impl AppError {
    /// One field's error, on a form that is not sent back (login, setup, reset).
    pub fn invalid(field: Field, message: impl Into<String>) -> Self {
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

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

/// Storage errors become app errors here and nowhere else: a version conflict is the admin's to
/// resolve; anything else is logged and reported as internal.
#[cfg(feature = "ssr")]
impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Conflict { current, saved_at } => {
                AppError::Conflict { current, saved_at }
            }
            other => AppError::internal("storage failed", other),
        }
    }
}
