//! The rules the HTTP API's requests must meet, each written twice in one place: as the check
//! the server runs ([`Check`]) and as the JSON Schema the OpenAPI document states (the
//! `schema_*` functions, used by the request types' `schema_with`). A unit test holds the two
//! to the same answer for every character.

use super::error::FieldError;
use app::domain::EmailAddress;
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};

/// The language Mailroom writes a mail in, when the caller chooses: `en` or `zh-CN`
/// (Simplified Chinese). Without it, the server's default (`MAILROOM_MAIL_LANGUAGE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub enum Language {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl From<Language> for app::templates::Lang {
    fn from(l: Language) -> Self {
        match l {
            Language::En => Self::En,
            Language::ZhCn => Self::ZhCn,
        }
    }
}

/// The `language` parameter of a query, if given: `en` or `zh-CN` (also `zh-Hans`, `en-GB`
/// and the like, as [`app::templates::Lang::from_tag`] reads them).
pub fn query_language(query: &str) -> Result<Option<app::templates::Lang>, Vec<FieldError>> {
    let Some((_, given)) = url::form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "language") else {
        return Ok(None);
    };
    app::templates::Lang::from_tag(&given).map(Some).ok_or_else(|| {
        vec![FieldError {
            field: "language".into(),
            message: "Mailroom writes mail in English (en) or Simplified Chinese (zh-CN); use one of those.".into(),
        }]
    })
}

/// The most recipients one request may name.
pub const MAX_RECIPIENTS: usize = 100;
/// The longest address (RFC 5321's path limit).
pub const MAX_ADDRESS_CHARS: usize = 254;
/// The longest subject or alert title, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest plain-text or HTML body, in characters.
pub const MAX_BODY_CHARS: usize = 256 * 1024;
/// The longest alert key and idempotency key, in characters.
pub const MAX_KEY_CHARS: usize = 200;
/// The longest alert value, threshold, link or description, in characters.
pub const MAX_DETAIL_CHARS: usize = 2_000;

/// The white space `str::trim` removes (Unicode's White_Space), as a regex class body.
macro_rules! space {
    () => {
        "\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
    };
}
/// Control characters (`char::is_control`), as a regex class body.
macro_rules! control {
    () => {
        "\\u0000-\\u001f\\u007f-\\u009f"
    };
}

/// A one-line text: no control character, and something besides white space.
pub const ONE_LINE: &str = concat!(
    "^[^",
    control!(),
    "]*[^",
    control!(),
    space!(),
    "][^",
    control!(),
    "]*$"
);
/// A text with something besides white space (line breaks allowed).
pub const NOT_BLANK: &str = concat!("[^", space!(), "]");
/// An http:// or https:// link: one word, no white space or control character.
pub const WEB_LINK: &str = concat!("^https?://[^", control!(), space!(), "]+$");

fn one_line(value: &str) -> bool {
    !value.trim().is_empty() && !value.chars().any(char::is_control)
}

fn web_link(value: &str) -> bool {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.chars().any(|c| c.is_control() || c.is_whitespace()))
}

/// Collects the field errors of one request.
#[derive(Default)]
pub struct Check(Vec<FieldError>);

impl Check {
    pub fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// A one-line text (a header): required, at most `max` characters ([`ONE_LINE`]).
    pub fn line(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.fail(field, "Required.");
        } else if value.chars().count() > max {
            self.fail(field, format!("At most {max} characters."));
        } else if !one_line(value) {
            self.fail(
                field,
                "Must be one line, without line breaks or control characters.",
            );
        }
    }

    /// A body: at most [`MAX_BODY_CHARS`]; `required` ones with more than white space.
    pub fn body(&mut self, field: &str, value: &str, required: bool) {
        if required && value.trim().is_empty() {
            self.fail(
                field,
                "Required: the plain-text body (the HTML, if any, goes beside it).",
            );
        } else if value.chars().count() > MAX_BODY_CHARS {
            self.fail(field, format!("At most {} Ki characters.", MAX_BODY_CHARS / 1024));
        }
    }

    /// A text of at most `max` characters.
    pub fn most(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.fail(field, format!("At most {max} characters."));
        }
    }

    /// A link for the reader ([`WEB_LINK`]).
    pub fn link(&mut self, field: &str, value: &str) {
        if value.chars().count() > MAX_DETAIL_CHARS || !web_link(value) {
            self.fail(
                field,
                "An http:// or https:// address of at most 2,000 characters, without spaces.",
            );
        }
    }

    /// The recipients, each a plain address; the same one named twice gets one mail.
    pub fn recipients(&mut self, field: &str, list: &[String]) -> Vec<EmailAddress> {
        if list.is_empty() {
            self.fail(field, "Name at least one recipient.");
        } else if list.len() > MAX_RECIPIENTS {
            self.fail(
                field,
                format!(
                    "At most {MAX_RECIPIENTS} recipients per request ({} given); split them over several requests.",
                    list.len()
                ),
            );
            return Vec::new();
        }
        let mut out: Vec<EmailAddress> = Vec::new();
        for (i, raw) in list.iter().enumerate() {
            // The address parser trims, so a trailing line break is refused here, first.
            if raw.chars().any(char::is_control) {
                self.fail(
                    format!("{field}[{i}]"),
                    "An address has no line breaks or control characters.",
                );
                continue;
            }
            match EmailAddress::parse(raw) {
                Ok(a) => {
                    if !out.iter().any(|o| o.as_str().eq_ignore_ascii_case(a.as_str())) {
                        out.push(a);
                    }
                }
                Err(e) => self.fail(format!("{field}[{i}]"), engine::i18n::english(&e)),
            }
        }
        out
    }

    pub fn done<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

fn text(pattern: Option<&str>, min: usize, max: usize, nullable: bool, description: &str) -> ObjectBuilder {
    let kind = if nullable {
        [Type::String, Type::Null].into_iter().collect()
    } else {
        Type::String.into()
    };
    ObjectBuilder::new()
        .schema_type::<utoipa::openapi::schema::SchemaType>(kind)
        .min_length(Some(min).filter(|n| *n > 0))
        .max_length(Some(max))
        .pattern(pattern)
        .description(Some(description))
}

fn one_line_schema(max: usize, nullable: bool, description: &str) -> ObjectBuilder {
    text(
        Some(ONE_LINE),
        1,
        max,
        nullable,
        &format!("{description} One line: no line breaks or control characters, not only spaces; at most {max} characters."),
    )
}

pub fn schema_subject() -> ObjectBuilder {
    one_line_schema(MAX_SUBJECT_CHARS, false, "The subject.")
}

pub fn schema_title() -> ObjectBuilder {
    one_line_schema(MAX_SUBJECT_CHARS, false, "What fired, as the subject's text.")
}

pub fn schema_alert_key() -> ObjectBuilder {
    one_line_schema(
        MAX_KEY_CHARS,
        false,
        "Identifies the alert across requests (storm control).",
    )
}

pub fn schema_idempotency_key() -> ObjectBuilder {
    one_line_schema(
        MAX_KEY_CHARS,
        true,
        "The same key from the same token again queues nothing new: the answer names the first request's messages (`replayed`).",
    )
}

pub fn schema_text() -> ObjectBuilder {
    text(
        Some(NOT_BLANK),
        1,
        MAX_BODY_CHARS,
        false,
        "The plain-text body: more than white space, at most 256 Ki characters.",
    )
}

pub fn schema_html() -> ObjectBuilder {
    text(
        None,
        0,
        MAX_BODY_CHARS,
        true,
        "An HTML body sent beside the text (multipart/alternative), at most 256 Ki characters.",
    )
}

pub fn schema_description() -> ObjectBuilder {
    text(
        None,
        0,
        MAX_DETAIL_CHARS,
        true,
        "What happened and what to do, in the sender's words; at most 2,000 characters.",
    )
}

pub fn schema_link() -> ObjectBuilder {
    text(
        Some(WEB_LINK),
        0,
        MAX_DETAIL_CHARS,
        true,
        "Where to see more: an http:// or https:// address without spaces, at most 2,000 characters.",
    )
}

/// A value or threshold: a number, or a one-line text such as "95 %".
pub fn schema_measure() -> OneOfBuilder {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .item(one_line_schema(
            MAX_DETAIL_CHARS,
            false,
            "A measure as text, e.g. \"95 %\".",
        ))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some("A number, or a one-line text such as \"95 %\"."))
}

pub fn schema_recipients() -> ArrayBuilder {
    let address = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(MAX_ADDRESS_CHARS))
        .description(Some("One address, without a display name."));
    ArrayBuilder::new()
        .items(address)
        .min_items(Some(1))
        .max_items(Some(MAX_RECIPIENTS))
        .description(Some("One message per distinct recipient; at most 100."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    /// Every character, alone and inside a word, gets the same answer from the check and the
    /// document's pattern.
    #[test]
    fn the_patterns_and_the_checks_agree_on_every_character() {
        let (line, blank, link) = (
            Regex::new(ONE_LINE).unwrap(),
            Regex::new(NOT_BLANK).unwrap(),
            Regex::new(WEB_LINK).unwrap(),
        );
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            for v in [c.to_string(), format!("a{c}"), format!("{c}b"), format!("a{c}b")] {
                assert_eq!(line.is_match(&v), one_line(&v), "one line: {v:?}");
                assert_eq!(blank.is_match(&v), !v.trim().is_empty(), "not blank: {v:?}");
                let url = format!("https://{v}");
                assert_eq!(link.is_match(&url), web_link(&url), "link: {url:?}");
            }
        }
        for (v, ok) in [
            ("http://", false),
            ("https://x", true),
            ("ftp://x", false),
            ("javascript:alert(1)", false),
            ("HTTP://x", false),
        ] {
            assert_eq!((link.is_match(v), web_link(v)), (ok, ok), "{v}");
        }
    }

    #[test]
    fn recipients_are_addresses_named_once() {
        let mut check = Check::default();
        let to = check.recipients(
            "to",
            &[
                "a@example.com".into(),
                "A@example.com".into(),
                "b@example.com".into(),
            ],
        );
        assert_eq!(
            to.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            ["a@example.com", "b@example.com"]
        );
        assert!(check.done(()).is_ok());
        let mut check = Check::default();
        check.recipients(
            "to",
            &["x@example.com\r\nBcc: y@example.com".into(), "nope".into()],
        );
        let fields: Vec<String> = check.done(()).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["to[0]", "to[1]"]);
    }
}
