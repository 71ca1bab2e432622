//! The SMTP server's host name rule (also used for the HELO name).

use crate::Said;
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};

/// An SMTP server's host: a DNS name (IDN allowed, stored in its ASCII form) or an IP literal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SmtpHost(String);

const HOST_EXAMPLE: &str = "smtp.example.com";

impl SmtpHost {
    pub fn parse(input: &str) -> Result<Self, Said> {
        let s = input.trim();
        if s.is_empty() {
            return Err(Said::new("host-empty"));
        }
        super::at_most(s, super::MAX_HOST_CHARS)?;
        if let Some((scheme, _)) = s.split_once("://") {
            let suggestion = whatwg::url_host(s);
            let shown = suggestion.filter(|h| !h.is_empty()).unwrap_or_else(|| HOST_EXAMPLE.to_string());
            return Err(Said::new("host-scheme").with("scheme", scheme).with("host", shown));
        }
        if s.chars().any(char::is_whitespace) {
            return Err(Said::new("host-spaces").with("example", HOST_EXAMPLE));
        }
        if let Some((before, _)) = s.split_once('/') {
            let shown = if before.is_empty() { HOST_EXAMPLE } else { before };
            return Err(Said::new("host-path").with("host", shown));
        }
        if let Some((_, domain)) = s.split_once('@') {
            return Err(Said::new("host-address").with("host", format!("smtp.{domain}")));
        }
        let unbracketed = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(s);
        if let Ok(ip) = unbracketed.parse::<Ipv6Addr>() {
            return Ok(Self(ip.to_string()));
        }
        // Characters a URL parser would read as delimiters, not as part of a host.
        if s.contains(['?', '#', '\\', '%', '<', '>', '[', ']', '^', '|']) {
            return Err(invalid_host(s));
        }
        if let Some((host, port)) = s.rsplit_once(':') {
            if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) {
                return Err(Said::new("host-port").with("port", port).with("host", host));
            }
            return Err(Said::new("host-colon").with("example", HOST_EXAMPLE));
        }
        let s = s.strip_suffix('.').unwrap_or(s);
        let last_label = s.rsplit('.').next().unwrap_or(s);
        if last_label.chars().all(|c| c.is_ascii_digit()) {
            return s
                .parse::<Ipv4Addr>()
                .map(|ip| Self(ip.to_string()))
                .map_err(|_| Said::new("host-ipv4").with("host", super::quoted(s)));
        }
        match whatwg::domain_to_ascii(s) {
            Some(ascii) if is_dns_name(&ascii) => Ok(Self(ascii)),
            _ => Err(invalid_host(s)),
        }
    }
}

fn invalid_host(s: &str) -> Said {
    Said::new("host-invalid").with("host", super::quoted(s)).with("example", HOST_EXAMPLE)
}

/// The WHATWG URL host parser (IDNA to ASCII): the browser's own in the wasm build, so no
/// Unicode tables are shipped to it, and the `url` crate, which implements the same standard,
/// on the server.
mod whatwg {
    /// `name` as an ASCII (punycode) domain, or `None` when it is not a valid host.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn domain_to_ascii(name: &str) -> Option<String> {
        match url::Host::parse(name).ok()? {
            url::Host::Domain(ascii) => Some(ascii),
            _ => None,
        }
    }

    /// The host part of a full URL such as smtp://smtp.example.com:587.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn url_host(url: &str) -> Option<String> {
        url::Url::parse(url)
            .ok()?
            .host_str()
            .map(str::to_string)
            .filter(|h| !h.is_empty())
    }

    #[cfg(target_arch = "wasm32")]
    pub fn domain_to_ascii(name: &str) -> Option<String> {
        let host = web_sys::Url::new(&format!("http://{name}/")).ok()?.hostname();
        // An IP address is not a domain (literals are handled before this is called).
        (!host.is_empty() && !host.starts_with('[') && host.parse::<std::net::Ipv4Addr>().is_err())
            .then_some(host)
    }

    #[cfg(target_arch = "wasm32")]
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

super::parsed_string!(SmtpHost);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
            (
                "smtp.example.com:587",
                "Put the port (587) in the Port field and type only smtp.example.com",
            ),
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
            assert!(err.english().contains(expected), "{input:?}: {err}");
        }
    }

    proptest! {
        #[test]
        fn parsed_hosts_are_reparseable_and_stable(label in "[a-z][a-z0-9-]{0,20}[a-z0-9]", tld in "[a-z]{2,6}") {
            // Hyphens in the third and fourth place are reserved by IDNA ("xn--" is punycode).
            prop_assume!(label.get(2..4) != Some("--"));
            let host = format!("{label}.{tld}");
            let parsed = SmtpHost::parse(&host).unwrap();
            prop_assert_eq!(SmtpHost::parse(parsed.as_str()).unwrap(), parsed.clone());
        }

    }
}
