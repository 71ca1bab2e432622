//! The system's own mails, all in one place: subject and plain-text body of each.

use super::Mail;
use crate::domain::MailServerSettings;

/// How the mail signed in, for its text: "logged in as alerts@example.com", or without.
fn signed_in(s: &MailServerSettings) -> String {
    match (&s.account, s.authentication.signs_in()) {
        (Some(account), true) => format!("logged in as {}", account.as_str()),
        _ => "without signing in".to_string(),
    }
}

/// "Test Email Server": says which server and settings it came through.
pub fn test_mail(s: &MailServerSettings) -> Mail {
    Mail {
        subject: "Mailroom test email".into(),
        text: format!(
            "This is a test email from Mailroom.\r\n\r\n\
             It was sent through {host}, port {port}, with {enc}, {login}.\r\n\
             If you can read it, Mailroom can send alert notifications and forgotten-password emails.\r\n",
            host = s.host,
            port = s.port.get(),
            enc = s.encryption.describe(),
            login = signed_in(s),
        ),
        html: None,
        thread: None,
        raw: None,
    }
}

/// "Forgot password?": the single-use link, valid for `valid_minutes`.
pub fn password_reset(email: &str, link: &str, valid_minutes: u64) -> Mail {
    Mail {
        subject: "Reset your Mailroom password".into(),
        text: format!(
            "Someone (hopefully you) asked to reset the Mailroom admin password for {email}.\r\n\r\n\
             Open this link within {valid_minutes} minutes to choose a new password:\r\n{link}\r\n\r\n\
             If you did not ask for this, ignore this mail; your password stays as it is.\r\n"
        ),
        html: None,
        thread: None,
        raw: None,
    }
}

/// "Send a test through the queue": the path alerts and reset mails take.
pub fn queue_test_mail(s: &MailServerSettings) -> Mail {
    Mail {
        subject: "Mailroom test email (through the queue)".into(),
        text: format!(
            "This is a test email from Mailroom, sent by its outbox the way alert notifications and \
             forgotten-password emails are.\r\n\r\n\
             It was sent through {host}, port {port}, with {enc}, {login}.\r\n",
            host = s.host,
            port = s.port.get(),
            enc = s.encryption.describe(),
            login = signed_in(s),
        ),
        html: None,
        thread: None,
        raw: None,
    }
}
