//! The mail server settings' rules, written once.
//!
//! The browser runs these functions on every keystroke for instant feedback; the server runs them
//! again as the authority before anything is stored. Every input with rules is a type with a
//! private field and a `parse` constructor ("parse, don't validate"); [`MailServerSettings::parse`]
//! turns the whole form into typed settings or into one message per field at fault.
//! Warnings (legal but probably wrong) are separate from errors and never block saving.

use serde::{Deserialize, Serialize};
use std::{
    fmt,
    net::{Ipv4Addr, Ipv6Addr},
};

/// The form's fields; `id()` is both the HTML id and the form name of the control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Field {
    Host,
    Port,
    Account,
    Password,
    ServerType,
    FromAddress,
    FromName,
    Encryption,
    HeloName,
    Timeout,
    ReplyTo,
    CaPem,
    SkipVerify,
    /// Not a setting: the recipient of a test mail.
    SendTo,
}

impl Field {
    pub const ALL: [Field; 13] = [
        Field::Host,
        Field::Port,
        Field::Account,
        Field::Password,
        Field::ServerType,
        Field::FromAddress,
        Field::FromName,
        Field::Encryption,
        Field::HeloName,
        Field::Timeout,
        Field::ReplyTo,
        Field::CaPem,
        Field::SkipVerify,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Field::Host => "host",
            Field::Port => "port",
            Field::Account => "account",
            Field::Password => "password",
            Field::ServerType => "server_type",
            Field::FromAddress => "from_address",
            Field::FromName => "from_name",
            Field::Encryption => "encryption",
            Field::HeloName => "helo_name",
            Field::Timeout => "timeout",
            Field::ReplyTo => "reply_to",
            Field::CaPem => "ca_pem",
            Field::SkipVerify => "skip_verify",
            Field::SendTo => "send_to",
        }
    }

    /// The visible label, in the brief's wording.
    pub fn label(self) -> &'static str {
        match self {
            Field::Host => "Host Name (SMTP)",
            Field::Port => "Port",
            Field::Account => "Email Account",
            Field::Password => "Password",
            Field::ServerType => "Server Type",
            Field::FromAddress => "Email \u{201c}From\u{201d} Address",
            Field::FromName => "Email \u{201c}From\u{201d} Name",
            Field::Encryption => "Encryption",
            Field::HeloName => "HELO name",
            Field::Timeout => "Timeout (seconds)",
            Field::ReplyTo => "Reply-To Address",
            Field::CaPem => "Trusted CA certificate (PEM)",
            Field::SkipVerify => "Skip certificate verification",
            Field::SendTo => "Send test to",
        }
    }
}

/// The form exactly as typed: every field a string (or a switch), nothing checked yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailServerForm {
    pub host: String,
    pub port: String,
    pub account: String,
    pub password: String,
    pub server_type: String,
    pub from_address: String,
    pub from_name: String,
    pub starttls: bool,
    pub ssl: bool,
    pub helo_name: String,
    pub timeout: String,
    pub reply_to: String,
    pub ca_pem: String,
    pub skip_verify: bool,
}

pub const DEFAULT_TIMEOUT_SECS: u32 = 15;
pub const MAX_TIMEOUT_SECS: u32 = 120;
pub const MAX_DISPLAY_NAME_CHARS: usize = 78;

impl Default for MailServerForm {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: String::new(),
            account: String::new(),
            password: String::new(),
            server_type: ServerType::Smtp.as_str().to_string(),
            from_address: String::new(),
            from_name: String::new(),
            starttls: false,
            ssl: false,
            helo_name: String::new(),
            timeout: DEFAULT_TIMEOUT_SECS.to_string(),
            reply_to: String::new(),
            ca_pem: String::new(),
            skip_verify: false,
        }
    }
}

/// An SMTP server's host: a DNS name (IDN allowed, stored in its ASCII form) or an IP literal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpHost(String);

const HOST_EXAMPLE: &str = "smtp.example.com";

impl SmtpHost {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("Enter the SMTP server's host name, e.g. smtp.163.com".into());
        }
        if let Some((scheme, _)) = s.split_once("://") {
            let suggestion = whatwg::url_host(s);
            return Err(match suggestion {
                Some(h) if !h.is_empty() => {
                    format!("Enter only the host name, without \u{201c}{scheme}://\u{201d}: type {h}")
                }
                _ => format!("Enter only the host name, without \u{201c}{scheme}://\u{201d}, e.g. {HOST_EXAMPLE}"),
            });
        }
        if s.chars().any(char::is_whitespace) {
            return Err(format!("A host name has no spaces, e.g. {HOST_EXAMPLE}"));
        }
        if let Some((before, _)) = s.split_once('/') {
            let shown = if before.is_empty() { HOST_EXAMPLE } else { before };
            return Err(format!("Enter only the host name, without a path: type {shown}"));
        }
        if let Some((_, domain)) = s.split_once('@') {
            return Err(format!(
                "That is an email address; enter the SMTP server's host name instead, e.g. smtp.{domain}"
            ));
        }
        let unbracketed = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(s);
        if let Ok(ip) = unbracketed.parse::<Ipv6Addr>() {
            return Ok(Self(ip.to_string()));
        }
        // Characters a URL parser would read as delimiters, not as part of a host.
        if s.contains(['?', '#', '\\', '%', '<', '>', '[', ']', '^', '|']) {
            return Err(format!("{s} is not a valid host name: use letters, digits, hyphens and dots, e.g. {HOST_EXAMPLE}"));
        }
        if let Some((host, port)) = s.rsplit_once(':') {
            if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!("Put the port ({port}) in the Port field and type only {host} here"));
            }
            return Err(format!("A host name has no \u{201c}:\u{201d}, e.g. {HOST_EXAMPLE}"));
        }
        let s = s.strip_suffix('.').unwrap_or(s);
        let last_label = s.rsplit('.').next().unwrap_or(s);
        if last_label.chars().all(|c| c.is_ascii_digit()) {
            return s
                .parse::<Ipv4Addr>()
                .map(|ip| Self(ip.to_string()))
                .map_err(|_| format!("{s} is not a valid IPv4 address (four numbers 0\u{2013}255, e.g. 192.0.2.10)"));
        }
        let invalid = || {
            format!("{s} is not a valid host name: use letters, digits, hyphens and dots, e.g. {HOST_EXAMPLE}")
        };
        match whatwg::domain_to_ascii(s) {
            Some(ascii) if is_dns_name(&ascii) => Ok(Self(ascii)),
            _ => Err(invalid()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SmtpHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The WHATWG URL host parser (IDNA to ASCII): the browser's own in the wasm build, so no
/// Unicode tables are shipped to it, and the `url` crate, which implements the same standard,
/// on the server.
mod whatwg {
    /// `name` as an ASCII (punycode) domain, or `None` when it is not a valid host.
    #[cfg(not(all(target_arch = "wasm32", feature = "hydrate")))]
    pub fn domain_to_ascii(name: &str) -> Option<String> {
        match url::Host::parse(name).ok()? {
            url::Host::Domain(ascii) => Some(ascii),
            _ => None,
        }
    }

    /// The host part of a full URL such as smtp://smtp.example.com:587.
    #[cfg(not(all(target_arch = "wasm32", feature = "hydrate")))]
    pub fn url_host(url: &str) -> Option<String> {
        url::Url::parse(url).ok()?.host_str().map(str::to_string).filter(|h| !h.is_empty())
    }

    #[cfg(all(target_arch = "wasm32", feature = "hydrate"))]
    pub fn domain_to_ascii(name: &str) -> Option<String> {
        let host = web_sys::Url::new(&format!("http://{name}/")).ok()?.hostname();
        // An IP address is not a domain (literals are handled before this is called).
        (!host.is_empty() && !host.starts_with('[') && host.parse::<std::net::Ipv4Addr>().is_err()).then_some(host)
    }

    #[cfg(all(target_arch = "wasm32", feature = "hydrate"))]
    pub fn url_host(url: &str) -> Option<String> {
        Some(web_sys::Url::new(url).ok()?.hostname()).filter(|h| !h.is_empty())
    }
}

/// RFC 1123 host name rules on an ASCII (punycode) name.
fn is_dns_name(ascii: &str) -> bool {
    ascii.len() <= 253
        && ascii.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A TCP port, 1–65535.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port(u16);

impl Port {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("Enter the port: 587 (STARTTLS), 465 (SSL) or 25".into());
        }
        if !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("The port is a whole number such as 587, not \u{201c}{s}\u{201d}"));
        }
        match s.parse::<u32>() {
            Ok(n @ 1..=65535) => Ok(Self(n as u16)),
            _ => Err("Ports run from 1 to 65535; common ones are 25, 465 and 587".into()),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

/// One email address (no display name, no angle brackets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.contains('<') || s.contains('>') {
            return Err("Enter only the address, e.g. alerts@example.com (the name has its own field)".into());
        }
        let options = email_address::Options::default().without_display_text().without_domain_literal();
        email_address::EmailAddress::parse_with_options(s, options)
            .map(|a| Self(a.email().to_string()))
            .map_err(|_| format!("\u{201c}{s}\u{201d} is not an email address; it looks like name@example.com"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The "From" display name: at most 78 characters, no line breaks or control characters
/// (which would allow header injection).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<Self, String> {
        // Checked before trimming: a line break anywhere is reported, never silently dropped.
        if input.chars().any(|c| c == '\r' || c == '\n') {
            return Err("The name must be on one line".into());
        }
        let s = input.trim();
        if s.chars().any(char::is_control) {
            return Err("The name contains a control character; remove it".into());
        }
        let n = s.chars().count();
        if n > MAX_DISPLAY_NAME_CHARS {
            return Err(format!("At most {MAX_DISPLAY_NAME_CHARS} characters ({n} now)"));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The login name for SMTP AUTH: usually an address, sometimes a user name or API key id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Account {
    Address(EmailAddress),
    Username(String),
}

impl Account {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("Enter the email account the server knows you by, e.g. alerts@example.com".into());
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("The account has no spaces or line breaks".into());
        }
        Ok(match EmailAddress::parse(s) {
            Ok(a) => Account::Address(a),
            Err(_) => Account::Username(s.to_string()),
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            Account::Address(a) => a.as_str(),
            Account::Username(u) => u,
        }
    }

    pub fn address(&self) -> Option<&EmailAddress> {
        match self {
            Account::Address(a) => Some(a),
            Account::Username(_) => None,
        }
    }
}

/// How the connection is secured. Never guessed from the port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encryption {
    /// Plain SMTP (the brief's "25 (Unencrypted)").
    None,
    /// Plain connection upgraded with STARTTLS, which is then required.
    StartTls,
    /// Implicit TLS from the first byte ("SSL", usually port 465).
    Ssl,
}

impl Encryption {
    pub fn parse(starttls: bool, ssl: bool) -> Result<Self, String> {
        match (starttls, ssl) {
            (true, true) => Err("Choose one: STARTTLS (usually port 587) or SSL (usually port 465), not both".into()),
            (true, false) => Ok(Encryption::StartTls),
            (false, true) => Ok(Encryption::Ssl),
            (false, false) => Ok(Encryption::None),
        }
    }

    pub fn switches(self) -> (bool, bool) {
        (self == Encryption::StartTls, self == Encryption::Ssl)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Encryption::None => "no encryption",
            Encryption::StartTls => "STARTTLS",
            Encryption::Ssl => "SSL (implicit TLS)",
        }
    }

    /// The encryption a well-known port implies, used only to pre-set untouched switches.
    pub fn usual_for_port(port: u16) -> Option<Self> {
        match port {
            465 => Some(Encryption::Ssl),
            587 | 25 => Some(Encryption::StartTls),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerType {
    Smtp,
}

impl ServerType {
    pub fn parse(input: &str) -> Result<Self, String> {
        match input.trim() {
            "SMTP" | "" => Ok(ServerType::Smtp),
            other => Err(format!("\u{201c}{other}\u{201d} is not supported; select SMTP")),
        }
    }

    pub fn as_str(self) -> &'static str {
        "SMTP"
    }
}

/// Seconds allowed for one whole conversation with the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeout(u32);

impl Timeout {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Ok(Self(DEFAULT_TIMEOUT_SECS));
        }
        match s.parse::<u32>() {
            Ok(n @ 1..=MAX_TIMEOUT_SECS) => Ok(Self(n)),
            _ => Err(format!("A whole number of seconds from 1 to {MAX_TIMEOUT_SECS} (default {DEFAULT_TIMEOUT_SECS})")),
        }
    }

    pub fn secs(self) -> u32 {
        self.0
    }
}

/// A CA certificate to trust, in PEM. The browser checks the framing; the server also parses it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaCertificate(String);

impl CaCertificate {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        let begin = s.find("-----BEGIN CERTIFICATE-----");
        let end = s.find("-----END CERTIFICATE-----");
        match (begin, end) {
            (Some(b), Some(e)) if b < e => Ok(Self(s.to_string())),
            _ => Err("Paste the CA certificate in PEM form, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who receives a test mail: "Send test to" when given, else Email Account when it is an address.
pub fn test_recipient(form: &MailServerForm, send_to: &str) -> Result<EmailAddress, String> {
    if !send_to.trim().is_empty() {
        return EmailAddress::parse(send_to);
    }
    match Account::parse(&form.account) {
        Ok(Account::Address(a)) => Ok(a),
        _ => Err("Email Account is not an address: enter who should receive the test mail".into()),
    }
}

pub const MIN_ADMIN_PASSWORD_CHARS: usize = 10;

/// The rule for an admin's password (setup, reset, `mailroom admin create`).
pub fn admin_password(password: &str, confirm: &str, email: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_ADMIN_PASSWORD_CHARS {
        return Err(format!("Use at least {MIN_ADMIN_PASSWORD_CHARS} characters ({n} now)"));
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err("The password must not be the email address".into());
    }
    if password != confirm {
        return Err("The two passwords differ".into());
    }
    Ok(())
}

/// What the server keeps of an earlier save, to decide whether a blank password may mean
/// "keep the saved one".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedLogin {
    pub host: String,
    pub port: u16,
    pub account: String,
}

/// The password to store.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordChoice {
    New(String),
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
    /// A blank password keeps the saved one only while host, port and account are unchanged.
    pub fn parse(
        input: &str,
        host: Option<&SmtpHost>,
        port: Option<Port>,
        account: Option<&Account>,
        saved: Option<&SavedLogin>,
    ) -> Result<Self, String> {
        if !input.is_empty() {
            if input.chars().any(|c| c == '\r' || c == '\n') {
                return Err("The password cannot contain a line break".into());
            }
            return Ok(PasswordChoice::New(input.to_string()));
        }
        match saved {
            None => Err("Enter the password (some providers want an authorization code instead)".into()),
            Some(saved) => {
                let same = host.is_some_and(|h| h.as_str() == saved.host)
                    && port.is_some_and(|p| p.get() == saved.port)
                    && account.is_some_and(|a| a.as_str() == saved.account);
                if same {
                    Ok(PasswordChoice::KeepSaved)
                } else {
                    Err("The host, port or account changed: enter the password for this account again".into())
                }
            }
        }
    }
}

/// Settings that passed every rule.
#[derive(Clone, Debug, PartialEq)]
pub struct MailServerSettings {
    pub host: SmtpHost,
    pub port: Port,
    pub account: Account,
    pub password: PasswordChoice,
    pub server_type: ServerType,
    pub from_address: EmailAddress,
    pub from_name: DisplayName,
    pub encryption: Encryption,
    pub helo_name: Option<SmtpHost>,
    pub timeout: Timeout,
    pub reply_to: Option<EmailAddress>,
    pub ca_pem: Option<CaCertificate>,
    pub skip_verify: bool,
}

/// One message per field at fault, in form order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub Vec<(Field, String)>);

impl FieldErrors {
    pub fn get(&self, field: Field) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push<T>(&mut self, field: Field, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.0.push((field, m))).ok()
    }
}

fn optional<T>(input: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if input.trim().is_empty() {
        Ok(None)
    } else {
        parse(input).map(Some)
    }
}

impl MailServerSettings {
    /// Checks the whole form. `saved` is the login of the stored settings, if any.
    pub fn parse(form: &MailServerForm, saved: Option<&SavedLogin>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let host = errors.push(Field::Host, SmtpHost::parse(&form.host));
        let port = errors.push(Field::Port, Port::parse(&form.port));
        let account = errors.push(Field::Account, Account::parse(&form.account));
        let password = errors.push(
            Field::Password,
            PasswordChoice::parse(&form.password, host.as_ref(), port, account.as_ref(), saved),
        );
        let server_type = errors.push(Field::ServerType, ServerType::parse(&form.server_type));
        let from_address = errors.push(
            Field::FromAddress,
            if form.from_address.trim().is_empty() {
                Err("Enter the address mail is sent from, usually the same as Email Account".into())
            } else {
                EmailAddress::parse(&form.from_address)
            },
        );
        let from_name = errors.push(Field::FromName, DisplayName::parse(&form.from_name));
        let encryption = errors.push(Field::Encryption, Encryption::parse(form.starttls, form.ssl));
        let helo_name = errors.push(
            Field::HeloName,
            optional(&form.helo_name, |s| {
                SmtpHost::parse(s).map_err(|_| "The HELO name is a host name such as mail.example.com, or blank".into())
            }),
        );
        let timeout = errors.push(Field::Timeout, Timeout::parse(&form.timeout));
        let reply_to = errors.push(Field::ReplyTo, optional(&form.reply_to, EmailAddress::parse));
        let ca_pem = errors.push(Field::CaPem, optional(&form.ca_pem, CaCertificate::parse));

        // Every field parsed when no error was recorded; `?` only unwraps.
        let settings = (|| {
            Some(Self {
                host: host?,
                port: port?,
                account: account?,
                password: password?,
                server_type: server_type?,
                from_address: from_address?,
                from_name: from_name?,
                encryption: encryption?,
                helo_name: helo_name?,
                timeout: timeout?,
                reply_to: reply_to?,
                ca_pem: ca_pem?,
                skip_verify: form.skip_verify,
            })
        })();
        match settings {
            Some(settings) if errors.is_empty() => Ok(settings),
            _ => Err(errors),
        }
    }

    /// The login a later blank password is checked against.
    pub fn login(&self) -> SavedLogin {
        SavedLogin {
            host: self.host.as_str().to_string(),
            port: self.port.get(),
            account: self.account.as_str().to_string(),
        }
    }
}

/// A one-click change that resolves a warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fix {
    UseSsl,
    UseStartTls,
    FromEqualsAccount,
}

impl Fix {
    pub fn label(self) -> &'static str {
        match self {
            Fix::UseSsl => "Use SSL",
            Fix::UseStartTls => "Use STARTTLS",
            Fix::FromEqualsAccount => "Use the account as From address",
        }
    }

    /// The form after the fix.
    pub fn apply(self, form: &MailServerForm) -> MailServerForm {
        let mut out = form.clone();
        match self {
            Fix::UseSsl => (out.starttls, out.ssl) = Encryption::Ssl.switches(),
            Fix::UseStartTls => (out.starttls, out.ssl) = Encryption::StartTls.switches(),
            Fix::FromEqualsAccount => out.from_address = form.account.trim().to_string(),
        }
        out
    }
}

/// Something legal but probably wrong, with an optional one-click fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub field: Field,
    pub message: String,
    pub fix: Option<Fix>,
}

/// Hosts that accept mail only From the logged-in account.
const FROM_MUST_EQUAL_ACCOUNT: [&str; 2] = ["smtp.163.com", "smtp.126.com"];

/// Warnings for the form as it stands; only fields that parse are looked at.
/// `password_present` is true when a password is typed or one is saved and kept.
pub fn warnings(form: &MailServerForm, password_present: bool) -> Vec<Warning> {
    let mut out = Vec::new();
    let port = Port::parse(&form.port).ok().map(Port::get);
    let encryption = Encryption::parse(form.starttls, form.ssl).ok();
    match (port, encryption) {
        (Some(465), Some(e)) if e != Encryption::Ssl => out.push(Warning {
            field: Field::Encryption,
            message: "Port 465 expects SSL (implicit TLS); without it the connection will fail".into(),
            fix: Some(Fix::UseSsl),
        }),
        (Some(p @ (587 | 25)), Some(Encryption::Ssl)) => out.push(Warning {
            field: Field::Encryption,
            message: format!("Port {p} normally starts unencrypted and upgrades with STARTTLS, not SSL"),
            fix: Some(Fix::UseStartTls),
        }),
        _ => {}
    }
    if encryption == Some(Encryption::None) && password_present {
        out.push(Warning {
            field: Field::Encryption,
            message: "Neither STARTTLS nor SSL is on: the password would travel unencrypted".into(),
            fix: Some(Fix::UseStartTls),
        });
    }
    if form.skip_verify {
        out.push(Warning {
            field: Field::SkipVerify,
            message: "Certificates are not checked: anyone between Mailroom and the server could read the password. Use only to diagnose.".into(),
            fix: None,
        });
    }
    if let Ok(Account::Username(name)) = Account::parse(&form.account) {
        out.push(Warning {
            field: Field::Account,
            message: format!(
                "\u{201c}{name}\u{201d} is not an email address (like SendGrid\u{2019}s \u{201c}apikey\u{201d}): test mails will need a recipient"
            ),
            fix: None,
        });
    }
    if let (Ok(host), Ok(Account::Address(account)), Ok(from)) = (
        SmtpHost::parse(&form.host),
        Account::parse(&form.account),
        EmailAddress::parse(&form.from_address),
    ) {
        if FROM_MUST_EQUAL_ACCOUNT.contains(&host.as_str()) && !from.as_str().eq_ignore_ascii_case(account.as_str()) {
            out.push(Warning {
                field: Field::FromAddress,
                message: format!("{host} rejects mail whose From address differs from the account ({account})"),
                fix: Some(Fix::FromEqualsAccount),
            });
        }
    }
    out
}

/// A provider's well-known settings, offered above the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    pub id: &'static str,
    pub name: &'static str,
    /// `{region}` stands for the chosen region where the provider has regions.
    pub host: &'static str,
    pub port: u16,
    pub encryption: Encryption,
    /// Filled into Email Account when set (SendGrid's literal "apikey").
    pub account: Option<&'static str>,
    pub hint: &'static str,
}

const AUTH_CODE_HINT: &str =
    "needs an authorization code, not your login password: turn on SMTP in the mailbox settings and generate one there";

pub const PRESETS: &[Preset] = &[
    Preset { id: "gmail", name: "Gmail", host: "smtp.gmail.com", port: 587, encryption: Encryption::StartTls, account: None,
        hint: "Gmail needs an app password (Google Account \u{203a} Security \u{203a} App passwords); the normal password is refused." },
    Preset { id: "outlook", name: "Outlook.com", host: "smtp-mail.outlook.com", port: 587, encryption: Encryption::StartTls, account: None,
        hint: "Outlook.com: use the full address as the account; with two-step verification, an app password." },
    Preset { id: "m365", name: "Microsoft 365", host: "smtp.office365.com", port: 587, encryption: Encryption::StartTls, account: None,
        hint: "Microsoft 365: SMTP AUTH must be enabled for the mailbox, and your tenant may have basic authentication turned off." },
    Preset { id: "yahoo", name: "Yahoo", host: "smtp.mail.yahoo.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "Yahoo needs an app password generated under Account security." },
    Preset { id: "163", name: "163.com", host: "smtp.163.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "163.com needs an authorization code, not your login password (Settings \u{203a} POP3/SMTP/IMAP), and the From address must equal the account." },
    Preset { id: "126", name: "126.com", host: "smtp.126.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "126.com needs an authorization code, not your login password, and the From address must equal the account." },
    Preset { id: "qq", name: "QQ Mail", host: "smtp.qq.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "QQ Mail needs an authorization code, not your QQ password: turn on SMTP under Settings \u{203a} Account and generate one." },
    Preset { id: "sina", name: "Sina Mail", host: "smtp.sina.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: AUTH_CODE_HINT },
    Preset { id: "exmail", name: "Tencent Exmail", host: "smtp.exmail.qq.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "Tencent Exmail: the full address is the account; with secure login on, use a client-specific password." },
    Preset { id: "aliyun", name: "Aliyun enterprise mail", host: "smtp.qiye.aliyun.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "Aliyun enterprise mail: the full address is the account; third-party client access must be allowed by the administrator." },
    Preset { id: "ses", name: "Amazon SES", host: "email-smtp.{region}.amazonaws.com", port: 587, encryption: Encryption::StartTls, account: None,
        hint: "Amazon SES: use SMTP credentials created in the SES console (not AWS access keys); the From address must be verified in SES, and the account is not an address, so test mails need a recipient." },
    Preset { id: "sendgrid", name: "SendGrid", host: "smtp.sendgrid.net", port: 587, encryption: Encryption::StartTls, account: Some("apikey"),
        hint: "SendGrid: the Email Account is literally \u{201c}apikey\u{201d} and the password is your API key." },
    Preset { id: "mailgun", name: "Mailgun", host: "smtp.mailgun.org", port: 587, encryption: Encryption::StartTls, account: None,
        hint: "Mailgun: use the SMTP credentials of your sending domain (EU region: smtp.eu.mailgun.org)." },
    Preset { id: "postmark", name: "Postmark", host: "smtp.postmarkapp.com", port: 587, encryption: Encryption::StartTls, account: None,
        hint: "Postmark: the account and the password are both your Server API token." },
    Preset { id: "zoho", name: "Zoho Mail", host: "smtp.zoho.com", port: 465, encryption: Encryption::Ssl, account: None,
        hint: "Zoho: organisation accounts use smtppro.zoho.com; with two-factor authentication, an application-specific password." },
];

pub const SES_REGIONS: &[&str] = &[
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "me-south-1", "af-south-1",
];

impl Preset {
    pub fn by_id(id: &str) -> Option<&'static Preset> {
        PRESETS.iter().find(|p| p.id == id)
    }

    pub fn host_for(&self, region: &str) -> String {
        self.host.replace("{region}", region)
    }

    /// The form with this preset's host, port, encryption (and account, where fixed) filled in.
    pub fn apply(&self, form: &MailServerForm, region: &str) -> MailServerForm {
        let mut out = form.clone();
        out.host = self.host_for(region);
        out.port = self.port.to_string();
        (out.starttls, out.ssl) = self.encryption.switches();
        if let Some(account) = self.account {
            out.account = account.to_string();
        }
        out
    }

    /// The preset whose host this is, so a saved form shows its provider again.
    pub fn matching(host: &str) -> Option<(&'static Preset, Option<&'static str>)> {
        let host = host.trim().to_ascii_lowercase();
        PRESETS.iter().find_map(|p| match p.host.split_once("{region}") {
            None => (p.host == host).then_some((p, None)),
            Some((pre, post)) => {
                let region = host.strip_prefix(pre)?.strip_suffix(post)?;
                SES_REGIONS.iter().find(|r| **r == region).map(|r| (p, Some(*r)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn valid_form() -> MailServerForm {
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

    fn error_of(form: &MailServerForm, field: Field) -> String {
        MailServerSettings::parse(form, None)
            .expect_err("form should be invalid")
            .get(field)
            .unwrap_or_else(|| panic!("no error on {field:?}"))
            .to_string()
    }

    #[test]
    fn a_complete_form_parses() {
        let s = MailServerSettings::parse(&valid_form(), None).unwrap();
        assert_eq!(s.host.as_str(), "smtp.163.com");
        assert_eq!(s.port.get(), 465);
        assert_eq!(s.encryption, Encryption::Ssl);
        assert_eq!(s.timeout.secs(), DEFAULT_TIMEOUT_SECS);
        assert_eq!(s.password, PasswordChoice::New("auth-code".into()));
        assert_eq!(s.reply_to, None);
    }

    #[test]
    fn hosts_accept_names_idn_and_ip_literals() {
        for (input, stored) in [
            ("smtp.163.com", "smtp.163.com"),
            ("  SMTP.Example.COM. ", "smtp.example.com"),
            ("bücher.example", "xn--bcher-kva.example"),
            ("localhost", "localhost"),
            ("192.0.2.10", "192.0.2.10"),
            ("::1", "::1"),
            ("[2001:db8::25]", "2001:db8::25"),
        ] {
            assert_eq!(SmtpHost::parse(input).unwrap().as_str(), stored, "{input}");
        }
    }

    #[test]
    fn host_mistakes_say_what_to_type_instead() {
        let cases = [
            ("", "Enter the SMTP server"),
            ("smtp://smtp.example.com:587", "type smtp.example.com"),
            ("smtp.example.com:587", "Put the port (587) in the Port field and type only smtp.example.com"),
            ("smtp.example.com/mail", "without a path: type smtp.example.com"),
            ("smtp example.com", "no spaces"),
            ("alerts@example.com", "smtp.example.com"),
            ("300.1.1.1", "not a valid IPv4 address"),
            ("-bad-.example", "not a valid host name"),
            ("under_score.example", "not a valid host name"),
            ("smtp.example.com?x", "not a valid host name"),
            ("smtp.example.com#x", "not a valid host name"),
        ];
        for (input, expected) in cases {
            let err = SmtpHost::parse(input).unwrap_err();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
    }

    #[test]
    fn ports_are_whole_numbers_from_1_to_65535() {
        assert_eq!(Port::parse(" 587 ").unwrap().get(), 587);
        assert_eq!(Port::parse("65535").unwrap().get(), 65535);
        assert!(Port::parse("").unwrap_err().contains("Enter the port"));
        assert!(Port::parse("0").unwrap_err().contains("1 to 65535"));
        assert!(Port::parse("65536").unwrap_err().contains("1 to 65535"));
        assert!(Port::parse("99999999999").unwrap_err().contains("1 to 65535"));
        assert!(Port::parse("58x").unwrap_err().contains("whole number"));
        assert!(Port::parse("-1").unwrap_err().contains("whole number"));
    }

    #[test]
    fn addresses_are_bare_and_valid() {
        assert_eq!(EmailAddress::parse(" a@example.com ").unwrap().as_str(), "a@example.com");
        assert_eq!(EmailAddress::parse("a@example.com").unwrap().domain(), "example.com");
        assert!(EmailAddress::parse("Alerts <a@example.com>").unwrap_err().contains("only the address"));
        assert!(EmailAddress::parse("not-an-address").unwrap_err().contains("not an email address"));
        assert!(EmailAddress::parse("a@").is_err());
        assert!(EmailAddress::parse("a@[127.0.0.1]").is_err());
    }

    #[test]
    fn account_may_be_a_user_name_and_then_warns_about_the_recipient() {
        assert!(matches!(Account::parse("apikey").unwrap(), Account::Username(_)));
        assert!(matches!(Account::parse("a@example.com").unwrap(), Account::Address(_)));
        assert!(Account::parse(" ").unwrap_err().contains("Enter the email account"));
        assert!(Account::parse("a b").unwrap_err().contains("no spaces"));
        let form = MailServerForm { account: "apikey".into(), ..valid_form() };
        let w = warnings(&form, true);
        assert!(w.iter().any(|w| w.field == Field::Account && w.message.contains("need a recipient")), "{w:?}");
    }

    #[test]
    fn from_name_blocks_header_injection_and_length() {
        assert!(DisplayName::parse("Ops\r\nBcc: x@evil.example").unwrap_err().contains("one line"));
        assert!(DisplayName::parse("Ops\u{7}").unwrap_err().contains("control character"));
        assert!(DisplayName::parse(&"x".repeat(79)).unwrap_err().contains("(79 now)"));
        assert_eq!(DisplayName::parse(&"é".repeat(78)).unwrap().as_str().chars().count(), 78);
        assert_eq!(DisplayName::parse("").unwrap().as_str(), "");
    }

    #[test]
    fn both_switches_on_is_an_error() {
        let form = MailServerForm { starttls: true, ssl: true, ..valid_form() };
        assert!(error_of(&form, Field::Encryption).contains("not both"));
    }

    #[test]
    fn every_invalid_field_gets_its_own_message() {
        let form = MailServerForm {
            host: "smtp://x".into(),
            port: "0".into(),
            account: "".into(),
            password: "".into(),
            server_type: "POP3".into(),
            from_address: "nope".into(),
            from_name: "a\nb".into(),
            starttls: true,
            ssl: true,
            helo_name: "bad name".into(),
            timeout: "0".into(),
            reply_to: "also nope".into(),
            ca_pem: "not a certificate".into(),
            skip_verify: false,
        };
        let errors = MailServerSettings::parse(&form, None).unwrap_err();
        for field in Field::ALL.into_iter().filter(|f| *f != Field::SkipVerify) {
            assert!(errors.get(field).is_some(), "no error for {field:?}: {errors:?}");
        }
    }

    #[test]
    fn optional_fields_accept_blank_and_check_content() {
        let ok = MailServerForm { helo_name: "mail.example.com".into(), reply_to: "ops@example.com".into(), timeout: "30".into(), ..valid_form() };
        let s = MailServerSettings::parse(&ok, None).unwrap();
        assert_eq!(s.helo_name.unwrap().as_str(), "mail.example.com");
        assert_eq!(s.reply_to.unwrap().as_str(), "ops@example.com");
        assert_eq!(s.timeout.secs(), 30);
        assert!(error_of(&MailServerForm { timeout: "121".into(), ..valid_form() }, Field::Timeout).contains("1 to 120"));
        assert!(error_of(&MailServerForm { from_address: " ".into(), ..valid_form() }, Field::FromAddress).contains("usually the same"));
    }

    #[test]
    fn password_is_required_first_then_blank_keeps_it_while_login_is_unchanged() {
        let blank = MailServerForm { password: "".into(), ..valid_form() };
        assert!(error_of(&blank, Field::Password).contains("Enter the password"));

        let saved = MailServerSettings::parse(&valid_form(), None).unwrap().login();
        let kept = MailServerSettings::parse(&blank, Some(&saved)).unwrap();
        assert_eq!(kept.password, PasswordChoice::KeepSaved);

        for changed in [
            MailServerForm { host: "smtp.126.com".into(), ..blank.clone() },
            MailServerForm { port: "994".into(), ..blank.clone() },
            MailServerForm { account: "other@163.com".into(), ..blank.clone() },
        ] {
            let err = MailServerSettings::parse(&changed, Some(&saved)).unwrap_err();
            assert!(err.get(Field::Password).unwrap().contains("enter the password for this account again"));
        }
    }

    #[test]
    fn password_debug_output_is_redacted() {
        assert_eq!(format!("{:?}", PasswordChoice::New("hunter2".into())), "New(<redacted>)");
    }

    #[test]
    fn port_and_encryption_warnings_offer_fixes() {
        let w = warnings(&MailServerForm { ssl: false, starttls: true, ..valid_form() }, true);
        assert_eq!(w[0].fix, Some(Fix::UseSsl), "{w:?}");
        let form = MailServerForm { port: "587".into(), ..valid_form() };
        let w = warnings(&form, true);
        assert_eq!(w[0].fix, Some(Fix::UseStartTls));
        let fixed = Fix::UseStartTls.apply(&form);
        assert!(fixed.starttls && !fixed.ssl);
        assert!(warnings(&fixed, true).is_empty());

        let plain = MailServerForm { port: "2525".into(), ssl: false, ..valid_form() };
        let w = warnings(&plain, true);
        assert!(w.iter().any(|w| w.message.contains("travel unencrypted")), "{w:?}");
        assert!(warnings(&plain, false).is_empty(), "no password, no warning");
    }

    #[test]
    fn the_163_from_rule_warns_and_fixes() {
        let form = MailServerForm { from_address: "other@example.com".into(), ..valid_form() };
        let w = warnings(&form, true);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].fix, Some(Fix::FromEqualsAccount));
        assert!(warnings(&Fix::FromEqualsAccount.apply(&form), true).is_empty());
    }

    #[test]
    fn presets_fill_host_port_encryption_and_are_recognised_again() {
        let ses = Preset::by_id("ses").unwrap();
        let form = ses.apply(&MailServerForm::default(), "eu-west-1");
        assert_eq!(form.host, "email-smtp.eu-west-1.amazonaws.com");
        assert_eq!((form.port.as_str(), form.starttls, form.ssl), ("587", true, false));
        assert_eq!(Preset::matching(&form.host).map(|(p, r)| (p.id, r)), Some(("ses", Some("eu-west-1"))));
        let sendgrid = Preset::by_id("sendgrid").unwrap().apply(&MailServerForm::default(), "");
        assert_eq!(sendgrid.account, "apikey");
        assert_eq!(Preset::matching("SMTP.QQ.COM").map(|(p, _)| p.id), Some("qq"));
        assert_eq!(Preset::matching("mail.example.com"), None);
        for p in PRESETS {
            let form = MailServerForm { account: "a@example.com".into(), password: "x".into(), from_address: "a@example.com".into(), ..MailServerForm::default() };
            let form = p.apply(&form, "us-east-1");
            assert!(MailServerSettings::parse(&form, None).is_ok(), "preset {} yields an invalid form", p.id);
            assert!(warnings(&form, true).iter().all(|w| w.field != Field::Encryption), "preset {} warns", p.id);
        }
    }

    #[test]
    fn test_recipient_defaults_to_the_account_address() {
        assert_eq!(test_recipient(&valid_form(), "").unwrap().as_str(), "alerts@163.com");
        assert_eq!(test_recipient(&valid_form(), "ops@example.com").unwrap().as_str(), "ops@example.com");
        assert!(test_recipient(&valid_form(), "nope").is_err());
        let apikey = MailServerForm { account: "apikey".into(), ..valid_form() };
        assert!(test_recipient(&apikey, "").unwrap_err().contains("enter who should receive"));
    }

    #[test]
    fn ca_certificate_needs_pem_framing_and_skip_verify_warns() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert!(CaCertificate::parse(pem).is_ok());
        assert!(CaCertificate::parse("MIIB").is_err());
        let form = MailServerForm { skip_verify: true, ..valid_form() };
        assert!(warnings(&form, true).iter().any(|w| w.field == Field::SkipVerify));
    }

    #[test]
    fn admin_passwords_need_length_and_a_matching_confirmation() {
        assert!(admin_password("short", "short", "a@b.c").unwrap_err().contains("at least 10"));
        assert!(admin_password("a@example.com", "a@example.com", "A@example.com").is_err());
        assert!(admin_password("long enough pw", "long enough pX", "a@b.c").unwrap_err().contains("differ"));
        assert!(admin_password("long enough pw", "long enough pw", "a@b.c").is_ok());
    }

    #[test]
    fn usual_encryption_for_well_known_ports() {
        assert_eq!(Encryption::usual_for_port(465), Some(Encryption::Ssl));
        assert_eq!(Encryption::usual_for_port(587), Some(Encryption::StartTls));
        assert_eq!(Encryption::usual_for_port(2525), None);
    }

    proptest! {
        #[test]
        fn every_port_in_range_parses_and_round_trips(n in 1u32..=65535) {
            prop_assert_eq!(Port::parse(&n.to_string()).unwrap().get() as u32, n);
        }

        #[test]
        fn no_port_outside_range_parses(n in 65536u64..u64::MAX) {
            prop_assert!(Port::parse(&n.to_string()).is_err());
        }

        #[test]
        fn display_names_never_keep_line_breaks(a in "[^\r\n]{0,30}", b in "[^\r\n]{0,30}", br in prop::sample::select(vec!["\r", "\n", "\r\n"])) {
            let input = format!("{a}{br}{b}");
            prop_assert!(DisplayName::parse(&input).is_err());
        }

        #[test]
        fn parsed_hosts_are_reparseable_and_stable(label in "[a-z][a-z0-9-]{0,20}[a-z0-9]", tld in "[a-z]{2,6}") {
            let host = format!("{label}.{tld}");
            let parsed = SmtpHost::parse(&host).unwrap();
            prop_assert_eq!(SmtpHost::parse(parsed.as_str()).unwrap(), parsed.clone());
        }

        #[test]
        fn parsing_never_panics(s in ".{0,64}") {
            let _ = SmtpHost::parse(&s);
            let _ = Port::parse(&s);
            let _ = EmailAddress::parse(&s);
            let _ = Account::parse(&s);
            let _ = DisplayName::parse(&s);
            let _ = Timeout::parse(&s);
        }
    }
}
