//! The rules for an admin's own password (setup, reset, `mailroom admin create`) and for an API
//! token's name (Settings › API Tokens, `mailroom token create`).

pub const MIN_ADMIN_PASSWORD_CHARS: usize = 10;

/// How long a password-reset link works.
pub const RESET_LINK_MINUTES: u64 = 30;

/// At least [`MIN_ADMIN_PASSWORD_CHARS`] characters, not the email address, typed twice alike.
pub fn admin_password(password: &str, confirm: &str, email: &str) -> Result<(), String> {
    super::at_most(password, super::MAX_PASSWORD_CHARS, "The password")?;
    let n = password.chars().count();
    if n < MIN_ADMIN_PASSWORD_CHARS {
        return Err(format!(
            "Use at least {MIN_ADMIN_PASSWORD_CHARS} characters ({n} now)"
        ));
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err("The password must not be the email address".into());
    }
    if password != confirm {
        return Err("The two passwords differ".into());
    }
    Ok(())
}

pub const MAX_TOKEN_NAME_CHARS: usize = 64;

/// A token's name: what the service using it is called. 1 to [`MAX_TOKEN_NAME_CHARS`]
/// characters, one line; trimmed.
pub fn token_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    super::at_most(name, MAX_TOKEN_NAME_CHARS, "A token's name")?;
    if name.is_empty() {
        return Err("Name the token after the service that will use it, e.g. \u{201c}grafana\u{201d}".into());
    }
    if name.chars().any(char::is_control) {
        return Err("A token's name is one line, without control characters".into());
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_one_short_line() {
        assert_eq!(token_name("  grafana ").unwrap(), "grafana");
        assert!(token_name("").unwrap_err().contains("Name the token"));
        assert!(token_name("a\nb").is_err());
        assert!(token_name(&"x".repeat(65)).unwrap_err().contains("at most 64"));
    }

    #[test]
    fn admin_passwords_need_length_and_a_matching_confirmation() {
        assert!(admin_password("short", "short", "a@b.c")
            .unwrap_err()
            .contains("at least 10"));
        assert!(admin_password("a@example.com", "a@example.com", "A@example.com").is_err());
        assert!(admin_password("long enough pw", "long enough pX", "a@b.c")
            .unwrap_err()
            .contains("differ"));
        assert!(admin_password("long enough pw", "long enough pw", "a@b.c").is_ok());
    }
}
