//! What the rules say (a field's error, a warning, a label) as a catalogue message: its id and
//! its values, not words. The words are the catalogues' (`server/engine/locales/*/form.ftl`):
//! the server puts a [`Said`] into the reader's language with Fluent, and the settings form's
//! island with the [`Words`] of the page's language that the server handed it. So the browser
//! carries the messages of one language only, as data, and no English is compiled into the wasm.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A message: its catalogue id and its values by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Said {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<(String, String)>,
}

impl Said {
    pub fn new(id: &str) -> Self {
        Self { id: id.to_string(), args: Vec::new() }
    }

    /// With the value `name` (a `{ $name }` in the message).
    pub fn with(mut self, name: &str, value: impl ToString) -> Self {
        self.args.push((name.to_string(), value.to_string()));
        self
    }
}

/// Without a catalogue at hand (a deserializing error, a log line): the id and its values.
impl std::fmt::Display for Said {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)?;
        for (name, value) in &self.args {
            write!(f, " {name}={value:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Said {}

/// The settings form's messages in one language: each id with its text, where `{$name}` stands
/// for a value. Made by the server from the catalogue (`engine::i18n::form_words`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Words(pub BTreeMap<String, String>);

impl Words {
    /// The message in these words; its id when they lack it (a test keeps them complete).
    pub fn say(&self, said: &Said) -> String {
        let Some(text) = self.0.get(&said.id) else {
            return said.id.clone();
        };
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find("{$") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let Some(end) = after.find('}') else {
                rest = &rest[at..];
                break;
            };
            let name = &after[..end];
            match said.args.iter().find(|(n, _)| n == name) {
                Some((_, value)) => out.push_str(value),
                None => out.push_str(&rest[at..at + 3 + end]),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// A message without values.
    pub fn word(&self, id: &str) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| id.to_string())
    }
}

/// For this crate's tests: a message in English, read from the catalogue files with a plain
/// reader (the engine's Fluent bundle is the real one; its tests hold the two to the same text).
#[cfg(test)]
impl Said {
    pub(crate) fn english(&self) -> String {
        const FILES: [&str; 3] = [
            include_str!("../../../server/engine/locales/en/form.ftl"),
            include_str!("../../../server/engine/locales/en/auth.ftl"),
            include_str!("../../../server/engine/locales/en/tokens.ftl"),
        ];
        let line = FILES
            .iter()
            .flat_map(|f| f.lines())
            .find_map(|l| l.strip_prefix(&format!("{} = ", self.id)))
            .unwrap_or_else(|| panic!("{} is in no English catalogue", self.id));
        let mut text = line.replace("{\" \"}", " ").replace("{\"{\"}", "{").replace("{\"}\"}", "}");
        for (name, value) in &self.args {
            text = text.replace(&format!("{{ ${name} }}"), value);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fill_their_places_and_a_missing_one_stays_visible() {
        let words = Words(BTreeMap::from([
            ("a".to_string(), "Port {$port} and {$port}, not {$other}.".to_string()),
            ("b".to_string(), "open {$".to_string()),
        ]));
        let said = Said::new("a").with("port", 465);
        assert_eq!(words.say(&said), "Port 465 and 465, not {$other}.");
        assert_eq!(words.say(&Said::new("b")), "open {$");
        assert_eq!(words.say(&Said::new("none")), "none");
        assert_eq!(words.word("a"), "Port {$port} and {$port}, not {$other}.");
    }
}
