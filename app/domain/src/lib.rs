//! Mailroom's domain: the mail server settings' rules, written once, and the records the browser
//! and the server share (a test's report, the change history, the outbox's messages). No
//! Leptos, no storage, no network: compiled into the wasm and used by the server.
//!
//! The browser runs these functions on every keystroke for instant feedback; the server runs them
//! again as the authority before anything is stored. Every input with rules is a type with a
//! private field and a `parse` constructor ("parse, don't validate"); deserializing one runs the
//! same `parse` (`#[serde(try_from = ...)]`), so no value that `parse` refuses can be built.
//! [`MailServerSettings::parse`] turns the whole form into typed settings or into one message
//! per field at fault. Warnings (legal but probably wrong) are separate and never block saving.

pub mod history;
pub mod outbox;
pub mod report;

mod address;
mod admin;
mod fields;
mod host;
mod oauth;
mod password;
mod presets;
mod said;
mod settings;
mod transport;
mod warnings;

pub use address::{Account, DisplayName, EmailAddress};
pub use admin::{admin_password, token_name, TokenUse, MAX_TOKEN_NAME_CHARS, MIN_ADMIN_PASSWORD_CHARS, RESET_LINK_MINUTES};
pub use fields::{
    Field, MailServerForm, DEFAULT_TIMEOUT_SECS, MAX_ADDRESS_CHARS, MAX_CA_PEM_CHARS, MAX_DISPLAY_NAME_CHARS,
    MAX_HOST_CHARS, MAX_PASSWORD_CHARS, MAX_TIMEOUT_SECS,
};
pub use host::SmtpHost;
pub use oauth::{needs_tenant, Grant, Mailbox, OAuthField, OAuthSettings, OAuthWire, TENANT_SLOT};
pub use password::{Password, PasswordChoice, SavedLogin};
pub use presets::{Preset, ProviderOAuth, OAUTH_PROVIDERS, PRESETS, SES_REGIONS};
pub use said::{Said, Words};
pub use settings::{oauth_client, test_recipient, FieldErrors, MailServer, MailServerSettings, ParsedForm};
pub use transport::{Authentication, CaCertificate, Encryption, Port, ServerType, Timeout};
pub use warnings::{warnings, Fix, Warning};

/// Refuses `input` longer than `max` characters, before any other rule looks at it: every
/// field has a limit, so no message, key, log line or stored value grows with what is sent.
pub(crate) fn at_most(input: &str, max: usize) -> Result<(), Said> {
    match input.chars().count() {
        n if n > max => Err(Said::new("too-long").with("max", max).with("now", n)),
        _ => Ok(()),
    }
}

/// `input` as a message may quote it back: at most 40 characters.
pub(crate) fn quoted(input: &str) -> String {
    const SHOWN: usize = 40;
    match input.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}\u{2026}", &input[..cut]),
        None => input.to_string(),
    }
}

/// The conversions serde uses for a type built only by `parse` (`#[serde(try_from = "W", into =
/// "W")]`): from the wire type `W` through `parse`, so deserializing runs the same rules, and
/// back to `W`.
macro_rules! wire_type {
    ($t:ident as $wire:ty, |$v:ident| $into:expr) => {
        impl TryFrom<$wire> for $t {
            type Error = $crate::Said;
            fn try_from(w: $wire) -> Result<Self, $crate::Said> {
                $t::parse(&w.to_string())
            }
        }

        impl From<$t> for $wire {
            fn from($v: $t) -> $wire {
                $into
            }
        }
    };
}
use wire_type;

/// For a newtype around a `String` built only by `parse`: `as_str`, `Display`, and its wire
/// conversions.
macro_rules! parsed_string {
    ($t:ident) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        super::wire_type!($t as String, |v| v.0);
    };
}
use parsed_string;

/// Forms for tests, here and in the crates that use these rules.
#[doc(hidden)]
pub mod test_forms {
    use super::MailServerForm;

    /// A complete, valid form (163.com over SSL).
    pub fn valid_form() -> MailServerForm {
        MailServerForm {
            host: "smtp.163.com".into(),
            port: "465".into(),
            account: "alerts@163.com".into(),
            password: "auth-code".into(),
            from_address: "alerts@163.com".into(),
            from_name: "Mailroom Alerts".into(),
            ssl: true,
            ..MailServerForm::default()
        }
    }
}
