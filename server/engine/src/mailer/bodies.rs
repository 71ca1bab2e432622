//! The system's own mails, all in one place: the values each offers its template
//! ([`crate::templates`]), rendered with the template in force (an admin's, else the default:
//! [`crate::store::templates::template`]).

use super::Mail;
use crate::domain::{Encryption, MailServerSettings};
use crate::templates::{self, Kind, Texts, Values};

/// The mail server's values: the test mails say which server and settings they came through.
fn server_values(s: &MailServerSettings) -> Values {
    let encryption = match s.encryption {
        Encryption::None => "none",
        Encryption::StartTls => "starttls",
        Encryption::Ssl => "ssl",
    };
    let account = match (&s.account, s.authentication.signs_in()) {
        (Some(account), true) => account.as_str().to_string(),
        _ => String::new(),
    };
    Values::new()
        .set("host", s.host.to_string())
        .set("port", s.port.get().to_string())
        .set("encryption", encryption)
        .set("account", account)
}

/// `texts` (a template of `kind`) with `values`. A template passed its check before it was
/// saved, with the same rules; should one still fail, the mail says so rather than not going
/// out.
fn render(kind: Kind, texts: &Texts, values: &Values) -> Mail {
    templates::render(texts, values).unwrap_or_else(|problem| {
        tracing::error!(%problem, kind = kind.id(), "a mail template failed");
        Mail { subject: "Mailroom".into(), text: format!("{problem}\r\n"), html: None, thread: None, raw: None }
    })
}

/// "Test Email Server".
pub fn test_mail(texts: &Texts, s: &MailServerSettings) -> Mail {
    render(Kind::TestMail, texts, &server_values(s))
}

/// "Forgot password?": the single-use link, valid for `valid_minutes`.
pub fn password_reset(texts: &Texts, email: &str, link: &str, valid_minutes: u64) -> Mail {
    let values = Values::new()
        .set("email", email)
        .set("link", link)
        .set("valid_minutes", valid_minutes.to_string());
    render(Kind::PasswordReset, texts, &values)
}

/// "Send a test through the queue": the path alerts and reset mails take.
pub fn queue_test_mail(texts: &Texts, s: &MailServerSettings) -> Mail {
    render(Kind::QueueTest, texts, &server_values(s))
}
