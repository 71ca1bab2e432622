//! The rules for an admin's own password (setup, reset, `mailroom admin create`) and for an API
//! token's name (Settings › API Tokens, `mailroom token create`).

use crate::Said;

pub const MIN_ADMIN_PASSWORD_CHARS: usize = 10;

/// How long a password-reset link works.
pub const RESET_LINK_MINUTES: u64 = 30;

/// At least [`MIN_ADMIN_PASSWORD_CHARS`] characters, not the email address, typed twice alike.
pub fn admin_password(password: &str, confirm: &str, email: &str) -> Result<(), Said> {
    super::at_most(password, super::MAX_PASSWORD_CHARS)?;
    let n = password.chars().count();
    if n < MIN_ADMIN_PASSWORD_CHARS {
        return Err(Said::new("admin-password-short").with("min", MIN_ADMIN_PASSWORD_CHARS).with("now", n));
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(Said::new("admin-password-is-email"));
    }
    if password != confirm {
        return Err(Said::new("admin-password-differ"));
    }
    Ok(())
}

pub const MAX_TOKEN_NAME_CHARS: usize = 64;

/// A token's name: what the service using it is called. 1 to [`MAX_TOKEN_NAME_CHARS`]
/// characters, one line; trimmed.
pub fn token_name(name: &str) -> Result<String, Said> {
    let name = name.trim();
    super::at_most(name, MAX_TOKEN_NAME_CHARS)?;
    if name.is_empty() {
        return Err(Said::new("token-name-empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(Said::new("token-name-control"));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_one_short_line() {
        assert_eq!(token_name("  grafana ").unwrap(), "grafana");
        assert!(token_name("").unwrap_err().english().contains("Name the token"));
        assert!(token_name("a\nb").is_err());
        assert!(token_name(&"x".repeat(65)).unwrap_err().english().contains("At most 64"));
    }

    #[test]
    fn admin_passwords_need_length_and_a_matching_confirmation() {
        assert!(admin_password("short", "short", "a@b.c")
            .unwrap_err()
            .english().contains("at least 10"));
        assert!(admin_password("a@example.com", "a@example.com", "A@example.com").is_err());
        assert!(admin_password("long enough pw", "long enough pX", "a@b.c")
            .unwrap_err()
            .english().contains("differ"));
        assert!(admin_password("long enough pw", "long enough pw", "a@b.c").is_ok());
    }
}

/// What an API token may be used for: the HTTP API (and the webhooks), the SMTP listener, or
/// both (the default, and what tokens made before the choice existed are).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TokenUse {
    #[default]
    Both,
    Api,
    Smtp,
}

impl TokenUse {
    pub const ALL: [TokenUse; 3] = [TokenUse::Both, TokenUse::Api, TokenUse::Smtp];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenUse::Both => "both",
            TokenUse::Api => "api",
            TokenUse::Smtp => "smtp",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TokenUse::Both => "HTTP API and SMTP",
            TokenUse::Api => "HTTP API only",
            TokenUse::Smtp => "SMTP only",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|u| u.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| format!("{text:?} is not one of both, api or smtp"))
    }

    /// Whether it opens the HTTP API and the webhooks.
    pub fn api(self) -> bool {
        self != TokenUse::Smtp
    }

    /// Whether it signs in to the SMTP listener.
    pub fn smtp(self) -> bool {
        self != TokenUse::Api
    }
}
