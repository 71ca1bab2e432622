//! How Mailroom reaches the server: port, encryption, server type, timeout, a private CA.

use super::{DEFAULT_TIMEOUT_SECS, MAX_TIMEOUT_SECS};
use crate::Said;
use serde::{Deserialize, Serialize};

/// A TCP port, 1–65535.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct Port(u16);

impl Port {
    pub fn parse(input: &str) -> Result<Self, Said> {
        let s = input.trim();
        if s.is_empty() {
            return Err(Said::new("port-empty"));
        }
        if !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(Said::new("port-not-number").with("input", super::quoted(s)));
        }
        match s.parse::<u32>() {
            Ok(n @ 1..=65535) => Ok(Self(n as u16)),
            _ => Err(Said::new("port-range")),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

/// How Mailroom signs in to the mail server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Authentication {
    /// SMTP AUTH (PLAIN or LOGIN) with Email Account and Password.
    #[default]
    Password,
    /// OAuth2 (client credentials): an access token from the token endpoint, sent with AUTH
    /// XOAUTH2 for Email Account.
    OAuth2,
    /// No sign-in: a relay that accepts this server by its address (often port 25).
    None,
}

impl Authentication {
    pub const ALL: [Authentication; 3] = [Authentication::Password, Authentication::OAuth2, Authentication::None];

    /// The form's value, and the change history's.
    pub fn as_str(self) -> &'static str {
        match self {
            Authentication::Password => "password",
            Authentication::OAuth2 => "oauth2",
            Authentication::None => "none",
        }
    }

    /// Its name on the form (a catalogue id).
    pub fn label_id(self) -> &'static str {
        match self {
            Authentication::Password => "authentication-password",
            Authentication::OAuth2 => "authentication-oauth2",
            Authentication::None => "authentication-none",
        }
    }

    pub fn parse(input: &str) -> Result<Self, Said> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == input.trim())
            .ok_or_else(|| Said::new("authentication-unknown"))
    }

    /// Whether Mailroom signs in at all (with a password or a token).
    pub fn signs_in(self) -> bool {
        self != Authentication::None
    }

    pub fn uses_password(self) -> bool {
        self == Authentication::Password
    }
}

/// How the connection is secured. Never guessed from the port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encryption {
    /// Plain SMTP (port 25 unencrypted).
    None,
    /// Plain connection upgraded with STARTTLS, which is then required.
    StartTls,
    /// Implicit TLS from the first byte ("SSL", usually port 465).
    Ssl,
}

impl Encryption {
    pub fn parse(starttls: bool, ssl: bool) -> Result<Self, Said> {
        match (starttls, ssl) {
            (true, true) => Err(Said::new("encryption-both")),
            (true, false) => Ok(Encryption::StartTls),
            (false, true) => Ok(Encryption::Ssl),
            (false, false) => Ok(Encryption::None),
        }
    }

    pub fn switches(self) -> (bool, bool) {
        (self == Encryption::StartTls, self == Encryption::Ssl)
    }

    /// The value as the change history shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Encryption::None => "none",
            Encryption::StartTls => "STARTTLS",
            Encryption::Ssl => "SSL",
        }
    }

    /// Its name in words (a catalogue id).
    pub fn describe_id(self) -> &'static str {
        match self {
            Encryption::None => "encryption-none",
            Encryption::StartTls => "encryption-starttls",
            Encryption::Ssl => "encryption-ssl",
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
#[serde(try_from = "String", into = "String")]
pub enum ServerType {
    Smtp,
}

impl ServerType {
    pub fn parse(input: &str) -> Result<Self, Said> {
        match input.trim() {
            "SMTP" | "" => Ok(ServerType::Smtp),
            other => Err(Said::new("server-type-unsupported").with("input", super::quoted(other))),
        }
    }

    pub fn as_str(self) -> &'static str {
        "SMTP"
    }
}

/// Seconds allowed for one whole conversation with the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Timeout(u32);

impl Timeout {
    pub fn parse(input: &str) -> Result<Self, Said> {
        let s = input.trim();
        if s.is_empty() {
            return Ok(Self(DEFAULT_TIMEOUT_SECS));
        }
        match s.parse::<u32>() {
            Ok(n @ 1..=MAX_TIMEOUT_SECS) => Ok(Self(n)),
            _ => Err(Said::new("timeout-range").with("max", MAX_TIMEOUT_SECS).with("default", DEFAULT_TIMEOUT_SECS)),
        }
    }

    pub fn secs(self) -> u32 {
        self.0
    }
}

/// A CA certificate to trust, in PEM. The browser checks the framing; the server also parses it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaCertificate(String);

impl CaCertificate {
    pub fn parse(input: &str) -> Result<Self, Said> {
        let s = input.trim();
        super::at_most(s, super::MAX_CA_PEM_CHARS)?;
        let begin = s.find("-----BEGIN CERTIFICATE-----");
        let end = s.find("-----END CERTIFICATE-----");
        match (begin, end) {
            (Some(b), Some(e)) if b < e => Ok(Self(s.to_string())),
            _ => Err(Said::new("ca-not-pem")),
        }
    }
}

super::parsed_string!(CaCertificate);

super::wire_type!(Port as u16, |p| p.0);
super::wire_type!(Timeout as u32, |t| t.0);
super::wire_type!(ServerType as String, |t| t.as_str().to_string());

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ports_are_whole_numbers_from_1_to_65535() {
        assert_eq!(Port::parse(" 587 ").unwrap().get(), 587);
        assert_eq!(Port::parse("65535").unwrap().get(), 65535);
        assert!(Port::parse("").unwrap_err().english().contains("Enter the port"));
        assert!(Port::parse("0").unwrap_err().english().contains("1 to 65535"));
        assert!(Port::parse("65536").unwrap_err().english().contains("1 to 65535"));
        assert!(Port::parse("99999999999").unwrap_err().english().contains("1 to 65535"));
        assert!(Port::parse("58x").unwrap_err().english().contains("whole number"));
        assert!(Port::parse("-1").unwrap_err().english().contains("whole number"));
    }

    #[test]
    fn usual_encryption_for_well_known_ports() {
        assert_eq!(Encryption::usual_for_port(465), Some(Encryption::Ssl));
        assert_eq!(Encryption::usual_for_port(587), Some(Encryption::StartTls));
        assert_eq!(Encryption::usual_for_port(2525), None);
    }

    #[test]
    fn deserializing_runs_the_same_rules_as_parse() {
        assert!(serde_json::from_str::<Port>("0").is_err());
        assert_eq!(serde_json::from_str::<Port>("587").unwrap().get(), 587);
        assert!(serde_json::from_str::<Timeout>("121").is_err());
        assert!(serde_json::from_str::<ServerType>("\"POP3\"").is_err());
        assert!(serde_json::from_str::<CaCertificate>("\"MIIB\"").is_err());
        assert_eq!(serde_json::to_string(&ServerType::Smtp).unwrap(), "\"SMTP\"");
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

    }
}
