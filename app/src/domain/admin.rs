//! The rule for an admin's own password (setup, reset, `mailroom admin create`).

pub const MIN_ADMIN_PASSWORD_CHARS: usize = 10;

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

#[cfg(test)]
mod tests {
    use super::*;

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
