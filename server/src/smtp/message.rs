//! A submitted message made ready for the outbox: its headers and MIME body kept as the program
//! sent them, but for what the envelope needs (RFC 6409's submission rules): a `Received` line
//! first; `From` the saved settings' (the program's kept as `Reply-To` unless it set one, or
//! refused, as [`FromRule`] says); `Bcc` removed; `Date` and `Message-ID` added when missing.
//! Headers are read with `mailparse`; nothing else of the message is touched.

use app::domain::MailServer;

/// What happens to a `From` other than the saved one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FromRule {
    /// Sent from the saved From address; the program's From becomes Reply-To (the default).
    Rewrite,
    /// Refused (`550 5.7.1`): only mail written with the saved From address is taken.
    Refuse,
}

impl FromRule {
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "rewrite" => Some(FromRule::Rewrite),
            "refuse" => Some(FromRule::Refuse),
            _ => None,
        }
    }
}

/// The message as the outbox will send it, with what Mail Activity shows of it.
#[derive(Debug)]
pub struct Prepared {
    pub raw: Vec<u8>,
    pub subject: String,
    /// The program's Message-ID (or the one added), without angle brackets.
    pub message_id: String,
    /// The first text/plain part, for Mail Activity (cut short).
    pub text: String,
}

/// Why a message is refused: its SMTP answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused(pub u16, pub [u8; 3], pub &'static str);

/// Where the message came from, for its `Received` line.
pub struct Arrival<'a> {
    pub helo: &'a str,
    pub client: std::net::IpAddr,
    pub hostname: &'a str,
    /// `ESMTPSA` (TLS and sign-in) or `ESMTPA`, as RFC 3848 names them.
    pub with: &'static str,
    pub id: &'a str,
}

const MAX_SUBJECT_CHARS: usize = 200;
const MAX_TEXT_BYTES: usize = 64 * 1024;

pub fn prepare(data: &[u8], server: &MailServer, rule: FromRule, arrival: &Arrival) -> Result<Prepared, Refused> {
    let (headers, body_at) =
        mailparse::parse_headers(data).map_err(|_| Refused(554, [5, 6, 0], "The message's headers cannot be read"))?;
    if headers.is_empty() {
        return Err(Refused(554, [5, 6, 0], "The message has no headers (From, Subject, ...)"));
    }
    let settings = &server.settings;
    let from_address = settings.from_address.as_str().to_string();
    let header = |name: &str| headers.iter().find(|h| h.get_key_ref().eq_ignore_ascii_case(name));
    let their_from = header("From").map(|h| h.get_value());
    let their_address = their_from.as_deref().and_then(first_address);
    let differs = their_address.as_deref().is_some_and(|a| !a.eq_ignore_ascii_case(&from_address));
    if differs && rule == FromRule::Refuse {
        return Err(Refused(
            550,
            [5, 7, 1],
            "From must be the address in Mailroom's mail settings (MAILROOM_SMTP_FROM_RULE=refuse)",
        ));
    }
    let subject: String = header("Subject").map(|h| h.get_value()).unwrap_or_default().chars().take(MAX_SUBJECT_CHARS).collect();
    let domain = from_address.rsplit_once('@').map_or("mailroom.invalid", |(_, d)| d).to_string();
    let message_id = match header("Message-ID").map(|h| h.get_value()) {
        Some(id) if !id.trim().is_empty() => id.trim().trim_start_matches('<').trim_end_matches('>').to_string(),
        _ => format!("{}@{domain}", arrival.id),
    };

    let mut out = Vec::with_capacity(data.len() + 512);
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    out.extend_from_slice(
        format!(
            "Received: from {} ({})\r\n\tby {} (Mailroom) with {} id {};\r\n\t{date}\r\n",
            clean(arrival.helo),
            arrival.client,
            clean(arrival.hostname),
            arrival.with,
            arrival.id
        )
        .as_bytes(),
    );
    // lettre writes the name quoted or encoded as RFC 5322 and 2047 want it.
    let name = Some(settings.from_name.as_str().to_string()).filter(|n| !n.is_empty());
    let mailbox = lettre::message::Mailbox::new(
        name,
        from_address.parse().map_err(|_| Refused(451, [4, 3, 0], "The From address in Mailroom's mail settings cannot be used"))?,
    );
    let mut from_header = lettre::message::header::Headers::new();
    from_header.set(lettre::message::header::From::from(lettre::message::Mailboxes::from(mailbox)));
    let from_line = from_header.to_string();
    for h in &headers {
        let key = h.get_key_ref();
        if key.eq_ignore_ascii_case("Bcc") {
            continue;
        }
        if key.eq_ignore_ascii_case("From") {
            out.extend_from_slice(from_line.as_bytes());
            continue;
        }
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.get_value_raw());
        out.extend_from_slice(b"\r\n");
    }
    if their_from.is_none() {
        out.extend_from_slice(from_line.as_bytes());
    }
    if differs && header("Reply-To").is_none() {
        if let Some(from) = &their_from {
            out.extend_from_slice(format!("Reply-To: {}\r\n", clean(from)).as_bytes());
        }
    }
    if header("Date").is_none() {
        out.extend_from_slice(format!("Date: {date}\r\n").as_bytes());
    }
    if header("Message-ID").is_none() {
        out.extend_from_slice(format!("Message-ID: <{message_id}>\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&data[body_at.min(data.len())..]);
    Ok(Prepared { text: plain_text(data), raw: out, subject, message_id })
}

/// The first address of an address list, as `mailparse` reads it.
fn first_address(list: &str) -> Option<String> {
    let parsed = mailparse::addrparse(list).ok()?;
    parsed.iter().find_map(|a| match a {
        mailparse::MailAddr::Single(s) => Some(s.addr.clone()),
        mailparse::MailAddr::Group(g) => g.addrs.first().map(|s| s.addr.clone()),
    })
}

/// One line of printable text: what goes into a header Mailroom writes.
fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The first text/plain part's text, cut short, or nothing.
fn plain_text(data: &[u8]) -> String {
    let Ok(mail) = mailparse::parse_mail(data) else { return String::new() };
    let mut parts = vec![&mail];
    while let Some(part) = parts.pop() {
        if part.subparts.is_empty() {
            if part.ctype.mimetype.eq_ignore_ascii_case("text/plain") {
                let mut text = part.get_body().unwrap_or_default();
                if text.len() > MAX_TEXT_BYTES {
                    let mut end = MAX_TEXT_BYTES;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.truncate(end);
                }
                return text;
            }
        } else {
            parts.extend(part.subparts.iter().rev());
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{MailServerForm, MailServerSettings};

    fn server() -> MailServer {
        let form = MailServerForm {
            host: "smtp.example.com".into(),
            port: "587".into(),
            account: "alerts@example.com".into(),
            password: "secret".into(),
            from_address: "alerts@example.com".into(),
            from_name: "Mailroom Alerts".into(),
            ..MailServerForm::default()
        };
        MailServer::from_form(MailServerSettings::parse(&form, None).unwrap(), None).unwrap()
    }

    fn arrival() -> Arrival<'static> {
        Arrival { helo: "backup-host", client: [192, 0, 2, 7].into(), hostname: "mailroom.example", with: "ESMTPSA", id: "A1B2" }
    }

    const MAIL: &[u8] = b"From: Backup <backup@host.example>\r\nTo: ops@example.com\r\nBcc: secret@example.com\r\nSubject: =?utf-8?q?Nightly_backup_=E2=9C=93?=\r\nX-Job: nightly\r\n folded\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAll 42 databases.\r\n";

    #[test]
    fn the_saved_from_replaces_theirs_which_becomes_reply_to_and_bcc_goes() {
        let p = prepare(MAIL, &server(), FromRule::Rewrite, &arrival()).unwrap();
        let text = String::from_utf8(p.raw.clone()).unwrap();
        assert!(text.starts_with("Received: from backup-host (192.0.2.7)\r\n\tby mailroom.example (Mailroom) with ESMTPSA id A1B2;"), "{text}");
        assert!(text.contains("From: \"Mailroom Alerts\" <alerts@example.com>\r\n") || text.contains("From: Mailroom Alerts <alerts@example.com>\r\n"), "{text}");
        assert!(text.contains("Reply-To: Backup <backup@host.example>\r\n"), "{text}");
        assert!(!text.contains("secret@example.com"), "no Bcc: {text}");
        assert!(text.contains("X-Job: nightly\r\n folded\r\n"), "headers kept as sent: {text}");
        assert!(text.contains("Message-ID: <A1B2@example.com>") && text.contains("\r\nDate: "), "{text}");
        assert!(text.ends_with("\r\n\r\nAll 42 databases.\r\n"), "the body as sent: {text}");
        assert_eq!(p.subject, "Nightly backup \u{2713}");
        assert_eq!(p.message_id, "A1B2@example.com");
        assert_eq!(p.text.trim(), "All 42 databases.");
    }

    #[test]
    fn the_refuse_rule_takes_only_the_saved_from_and_headers_must_be_there() {
        assert_eq!(prepare(MAIL, &server(), FromRule::Refuse, &arrival()).unwrap_err().0, 550);
        let own = b"From: alerts@example.com\r\nMessage-ID: <x@y>\r\nSubject: ok\r\n\r\nhi\r\n";
        let p = prepare(own, &server(), FromRule::Refuse, &arrival()).unwrap();
        assert_eq!(p.message_id, "x@y");
        assert!(!String::from_utf8(p.raw).unwrap().contains("Reply-To"));
        assert!(prepare(b"\r\njust a body\r\n", &server(), FromRule::Rewrite, &arrival()).is_err());
    }
}
