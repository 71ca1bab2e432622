//! Addresses and names: an email address, the "From" display name, the SMTP login.

use super::MAX_DISPLAY_NAME_CHARS;
use crate::Said;
use serde::{Deserialize, Serialize};

/// One email address (no display name, no angle brackets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, Said> {
        let s = input.trim();
        super::at_most(s, super::MAX_ADDRESS_CHARS)?;
        if s.contains('<') || s.contains('>') {
            return Err(Said::new("address-brackets"));
        }
        let options = email_address::Options::default()
            .without_display_text()
            .without_domain_literal();
        email_address::EmailAddress::parse_with_options(s, options)
            .map(|a| Self(a.email().to_string()))
            .map_err(|_| Said::new("address-invalid").with("input", super::quoted(s)))
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

/// The "From" display name: at most 78 characters, no line breaks or control characters
/// (which would allow header injection).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<Self, Said> {
        // Checked before trimming: a line break anywhere is reported, never silently dropped.
        if input.chars().any(|c| c == '\r' || c == '\n') {
            return Err(Said::new("name-line-break"));
        }
        let s = input.trim();
        if s.chars().any(char::is_control) {
            return Err(Said::new("name-control"));
        }
        super::at_most(s, MAX_DISPLAY_NAME_CHARS)?;
        Ok(Self(s.to_string()))
    }
}

/// The login name for SMTP AUTH: usually an address, sometimes a user name or API key id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Account {
    Address(EmailAddress),
    Username(String),
}

impl Account {
    pub fn parse(input: &str) -> Result<Self, Said> {
        let s = input.trim();
        if s.is_empty() {
            return Err(Said::new("account-empty"));
        }
        super::at_most(s, super::MAX_ADDRESS_CHARS)?;
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Said::new("account-spaces"));
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
}

super::parsed_string!(EmailAddress);
super::parsed_string!(DisplayName);

super::wire_type!(Account as String, |a| a.as_str().to_string());

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_bare_and_valid() {
        assert_eq!(
            EmailAddress::parse(" a@example.com ").unwrap().as_str(),
            "a@example.com"
        );
        assert_eq!(
            EmailAddress::parse("a@example.com").unwrap().domain(),
            "example.com"
        );
        assert!(EmailAddress::parse("Alerts <a@example.com>")
            .unwrap_err()
            .english().contains("only the address"));
        assert!(EmailAddress::parse("not-an-address")
            .unwrap_err()
            .english().contains("not an email address"));
        assert!(EmailAddress::parse("a@").is_err());
        assert!(EmailAddress::parse("a@[127.0.0.1]").is_err());
    }

    #[test]
    fn from_name_blocks_header_injection_and_length() {
        assert!(DisplayName::parse("Ops\r\nBcc: x@evil.example")
            .unwrap_err()
            .english().contains("one line"));
        assert!(DisplayName::parse("Ops\u{7}")
            .unwrap_err()
            .english().contains("control character"));
        assert!(DisplayName::parse(&"x".repeat(79))
            .unwrap_err()
            .english().contains("(79 now)"));
        assert_eq!(
            DisplayName::parse(&"é".repeat(78))
                .unwrap()
                .as_str()
                .chars()
                .count(),
            78
        );
        assert_eq!(DisplayName::parse("").unwrap().as_str(), "");
    }

    #[test]
    fn deserializing_runs_the_same_rules_as_parse() {
        assert!(serde_json::from_str::<EmailAddress>("\"not-an-address\"").is_err());
        assert!(serde_json::from_str::<DisplayName>("\"a\\nb\"").is_err());
        assert!(serde_json::from_str::<Account>("\"a b\"").is_err());
        assert_eq!(
            serde_json::from_str::<Account>("\"apikey\"").unwrap(),
            Account::Username("apikey".into())
        );
    }

    proptest! {
        #[test]
        fn display_names_never_keep_line_breaks(a in "[^\r\n]{0,30}", b in "[^\r\n]{0,30}", br in prop::sample::select(vec!["\r", "\n", "\r\n"])) {
            let input = format!("{a}{br}{b}");
            prop_assert!(DisplayName::parse(&input).is_err());
        }

    }
}
