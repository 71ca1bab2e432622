//! The system's own mails, all in one place: the values each offers its template
//! ([`crate::templates`]), rendered with the template in force (an admin's, else the default:
//! [`crate::store::templates::template`]).

use super::Mail;
use crate::domain::{Encryption, MailServerSettings};
use crate::templates::{render_or_default as render, Kind, Lang, Texts, Values};

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


/// "Test Email Server".
pub fn test_mail(texts: &Texts, lang: Lang, s: &MailServerSettings) -> Mail {
    render(Kind::TestMail, lang, texts, &server_values(s))
}

/// "Forgot password?": the single-use link, valid for `valid_minutes`.
pub fn password_reset(texts: &Texts, lang: Lang, email: &str, link: &str, valid_minutes: u64) -> Mail {
    let values = Values::new()
        .set("email", email)
        .set("link", link)
        .set("valid_minutes", valid_minutes.to_string());
    render(Kind::PasswordReset, lang, texts, &values)
}

/// "Send a test through the queue": the path alerts and reset mails take.
pub fn queue_test_mail(texts: &Texts, lang: Lang, s: &MailServerSettings) -> Mail {
    render(Kind::QueueTest, lang, texts, &server_values(s))
}
