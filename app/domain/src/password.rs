//! The SMTP password: when a blank field may keep the saved one, and the secret itself.

use super::{Account, SmtpHost};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What the server keeps of an earlier save, to decide whether a blank password may mean
/// "keep the saved one".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedLogin {
    pub host: String,
    pub port: u16,
    pub account: String,
    /// With OAuth2: the client id and token endpoint a blank client secret is kept for.
    #[serde(default)]
    pub oauth_client: String,
}

impl SavedLogin {
    /// Whether `host` and `account` are the ones the saved password belongs to. The port and
    /// the encryption may change: the same account on the same server keeps its password.
    pub fn same_login(&self, host: Option<&SmtpHost>, account: Option<&Account>) -> bool {
        host.is_some_and(|h| h.as_str() == self.host) && account.is_some_and(|a| a.as_str() == self.account)
    }
}

/// The password to use: a new one typed into the form, or the saved one.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordChoice {
    New(Password),
    KeepSaved,
}

impl fmt::Debug for PasswordChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordChoice::New(_) => f.write_str("New(<redacted>)"),
            PasswordChoice::KeepSaved => f.write_str("KeepSaved"),
        }
    }
}

impl PasswordChoice {
    /// A blank password keeps the saved one only while host and account are unchanged.
    pub fn parse(
        input: &str,
        host: Option<&SmtpHost>,
        account: Option<&Account>,
        saved: Option<&SavedLogin>,
    ) -> Result<Self, crate::Said> {
        use crate::Said;
        if !input.is_empty() {
            super::at_most(input, super::MAX_PASSWORD_CHARS)?;
            if input.chars().any(|c| c == '\r' || c == '\n') {
                return Err(Said::new("password-line-break"));
            }
            return Ok(PasswordChoice::New(Password(input.to_string())));
        }
        match saved {
            None => Err(Said::new("password-empty")),
            Some(saved) => {
                if saved.same_login(host, account) {
                    Ok(PasswordChoice::KeepSaved)
                } else {
                    Err(Said::new("password-login-changed"))
                }
            }
        }
    }

    /// The password this choice stands for, given the saved one.
    pub fn resolve(self, saved: Option<&Password>) -> Option<Password> {
        match self {
            PasswordChoice::New(p) => Some(p),
            PasswordChoice::KeepSaved => saved.cloned(),
        }
    }
}

/// The SMTP password in memory. Never printed: `Debug` shows `<redacted>`, and it has no
/// `Serialize`, so it cannot reach a response or the database unsealed by accident.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Password(String);

impl Password {
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_debug_output_is_redacted() {
        let p = Password::new("hunter2".into());
        assert_eq!(format!("{:?}", PasswordChoice::New(p.clone())), "New(<redacted>)");
        assert_eq!(format!("{p:?}"), "<redacted>");
    }

    #[test]
    fn keeping_resolves_to_the_saved_password() {
        let saved = Password::new("old".into());
        assert_eq!(
            PasswordChoice::KeepSaved.resolve(Some(&saved)),
            Some(saved.clone())
        );
        assert_eq!(PasswordChoice::KeepSaved.resolve(None), None);
        let typed = Password::new("new".into());
        assert_eq!(
            PasswordChoice::New(typed.clone()).resolve(Some(&saved)),
            Some(typed)
        );
    }
}
