//! The system's own mails, all in one place: the values each offers its template
//! ([`crate::templates`]), rendered with the template that ships with the binary.

use super::Mail;
use crate::domain::{Encryption, MailServerSettings};
use crate::templates::{self, Kind, Lang, Values};

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

/// `kind` in `lang` with `values`. The defaults pass their own check with any values (the
/// templates' tests); should one still fail, the mail says so rather than not going out.
fn render(kind: Kind, lang: Lang, values: &Values) -> Mail {
    templates::render(&templates::default(kind, lang), values).unwrap_or_else(|problem| {
        tracing::error!(%problem, kind = kind.id(), "a default mail template failed");
        Mail { subject: "Mailroom".into(), text: format!("{problem}\r\n"), html: None, thread: None, raw: None }
    })
}

/// "Test Email Server".
pub fn test_mail(s: &MailServerSettings) -> Mail {
    render(Kind::TestMail, Lang::En, &server_values(s))
}

/// "Forgot password?": the single-use link, valid for `valid_minutes`.
pub fn password_reset(email: &str, link: &str, valid_minutes: u64) -> Mail {
    let values = Values::new()
        .set("email", email)
        .set("link", link)
        .set("valid_minutes", valid_minutes.to_string());
    render(Kind::PasswordReset, Lang::En, &values)
}

/// "Send a test through the queue": the path alerts and reset mails take.
pub fn queue_test_mail(s: &MailServerSettings) -> Mail {
    render(Kind::QueueTest, Lang::En, &server_values(s))
}
