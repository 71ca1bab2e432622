//! The product's words in English and Simplified Chinese: Fluent catalogues, one file per area
//! and language (`server/engine/locales/LANG/AREA.ftl`, files a translator edits), built into
//! the binary and parsed once. A page, an error or an advice asks for a message by its id in the
//! language of the request ([`Lang`]); a message missing from a language falls back to English
//! (a test makes sure none is: every id in both, and every id used).
//!
//! Which language a request gets: the admin's own choice (the header's switch, kept with the
//! admin), else the browser's `Accept-Language` ([`negotiate`]), else English.

use crate::domain::{Said, Words};
use crate::templates::Lang;
pub use fluent_bundle::FluentValue;
use fluent_bundle::{concurrent::FluentBundle, FluentArgs, FluentResource};
use std::sync::OnceLock;

/// The catalogue files, by language: (file name, its text).
macro_rules! catalogues {
    ($($area:literal),* $(,)?) => {
        /// Every catalogue file of `lang`.
        pub fn files(lang: Lang) -> Vec<(&'static str, &'static str)> {
            match lang {
                Lang::En => vec![$(($area, include_str!(concat!("../locales/en/", $area, ".ftl")))),*],
                Lang::ZhCn => vec![$(($area, include_str!(concat!("../locales/zh-CN/", $area, ".ftl")))),*],
            }
        }
    };
}

catalogues!["shell", "auth", "templates", "tokens", "activity", "mail", "errors", "form", "advice"];

/// The files whose messages the settings form's island carries ([`form_words`]).
const ISLAND_AREAS: [&str; 2] = ["form", "errors"];

/// One bundle per language, in [`Lang::ALL`]'s order.
fn bundles() -> &'static [FluentBundle<FluentResource>; 2] {
    static BUNDLES: OnceLock<[FluentBundle<FluentResource>; 2]> = OnceLock::new();
    BUNDLES.get_or_init(|| Lang::ALL.map(bundle))
}

fn bundle(lang: Lang) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.tag().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // The words go into HTML and mail as they are: no bidi isolation marks around values.
    bundle.set_use_isolating(false);
    for (area, source) in files(lang) {
        // A broken file keeps what parses (the catalogue test fails on any error).
        let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(partial, errors)| {
            tracing::error!(area, lang = lang.tag(), ?errors, "a catalogue file does not parse");
            partial
        });
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::error!(area, lang = lang.tag(), ?errors, "a catalogue file repeats a message");
        }
    }
    bundle
}

/// The message `id` in `lang`, with `args` filled in; English when `lang` lacks it, the id
/// itself when English does too.
pub fn message(lang: Lang, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let args = (!args.is_empty()).then(|| {
        let mut a = FluentArgs::new();
        for (name, value) in args {
            a.set(*name, value.clone());
        }
        a
    });
    for lang in [lang, Lang::En] {
        let bundle = &bundles()[lang as usize];
        if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, args.as_ref(), &mut errors);
            if !errors.is_empty() {
                tracing::warn!(id, lang = lang.tag(), ?errors, "a message did not format cleanly");
            }
            return text.into_owned();
        }
    }
    tracing::warn!(id, "no such message in the catalogues");
    id.to_string()
}

/// The message `id` in `lang`, without arguments.
pub fn text(lang: Lang, id: &str) -> String {
    message(lang, id, &[])
}

/// What a rule said ([`Said`]: an id and its values) in `lang`.
pub fn said(lang: Lang, said: &Said) -> String {
    let args: Vec<(&str, FluentValue)> = said.args.iter().map(|(n, v)| (n.as_str(), FluentValue::from(v.as_str()))).collect();
    message(lang, &said.id, &args)
}

/// What a rule said, in English: for logs, the command line, the configuration's checks and
/// the HTTP API's answers.
pub fn english(message: &Said) -> String {
    said(Lang::En, message)
}

/// The settings form's messages in `lang`, for its island: every message of the form's and
/// the errors' catalogue files as plain text with `{$name}` where a value goes (the browser
/// fills them in with [`Words::say`], no Fluent in the wasm). Those files hold only text,
/// values and string literals (a test checks it).
pub fn form_words(lang: Lang) -> Words {
    static WORDS: OnceLock<[Words; 2]> = OnceLock::new();
    WORDS.get_or_init(|| Lang::ALL.map(|lang| island_words(lang).0))[lang as usize].clone()
}

/// The island's words in `lang`, and the ids of messages too rich for it (a selector, a
/// function): `form_words` leaves those out.
fn island_words(lang: Lang) -> (Words, Vec<String>) {
    use fluent_syntax::ast::{Entry, Expression, InlineExpression, PatternElement};
    let mut words = Words::default();
    let mut rich = Vec::new();
    for (area, source) in files(lang).into_iter().filter(|(area, _)| ISLAND_AREAS.contains(area)) {
        let resource = fluent_syntax::parser::parse(source).unwrap_or_else(|(partial, _)| partial);
        for entry in resource.body {
            let Entry::Message(message) = entry else { continue };
            let Some(pattern) = message.value else { continue };
            let mut text = String::new();
            let mut plain = true;
            for element in pattern.elements {
                match element {
                    PatternElement::TextElement { value } => text.push_str(value),
                    PatternElement::Placeable { expression: Expression::Inline(InlineExpression::VariableReference { id }) } => {
                        text.push_str(&format!("{{${}}}", id.name));
                    }
                    PatternElement::Placeable { expression: Expression::Inline(InlineExpression::StringLiteral { value }) } => {
                        text.push_str(value);
                    }
                    _ => plain = false,
                }
            }
            if plain {
                words.0.insert(message.id.name.to_string(), text);
            } else {
                rich.push(format!("{area}.ftl: {}", message.id.name));
            }
        }
    }
    (words, rich)
}

/// The language an `Accept-Language` header asks for among those the product speaks; English
/// when it asks for none of them. Traditional Chinese is answered in Simplified Chinese.
pub fn negotiate(accept_language: &str) -> Lang {
    // Only the first few entries count: a header cannot make this work long.
    let header: String = accept_language.chars().take(256).collect();
    let requested = fluent_langneg::parse_accepted_languages(&header);
    let available: Vec<fluent_langneg::LanguageIdentifier> =
        Lang::ALL.iter().filter_map(|l| l.tag().parse().ok()).collect();
    let chosen = fluent_langneg::negotiate_languages(
        &requested,
        &available,
        available.first(),
        fluent_langneg::NegotiationStrategy::Filtering,
    );
    chosen
        .first()
        .and_then(|id| Lang::from_tag(&id.to_string()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The message ids a catalogue file defines (terms, `-name`, are the file's own).
    fn ids(source: &str) -> Vec<String> {
        let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(_, e)| panic!("{e:?}"));
        resource
            .entries()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_message_is_in_both_languages_and_every_file_parses() {
        for ((area, en), (_, zh)) in files(Lang::En).into_iter().zip(files(Lang::ZhCn)) {
            let (en, zh): (BTreeSet<String>, BTreeSet<String>) = (ids(en).into_iter().collect(), ids(zh).into_iter().collect());
            let missing: Vec<_> = en.difference(&zh).collect();
            let extra: Vec<_> = zh.difference(&en).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{area}.ftl: not in Chinese {missing:?}, only in Chinese {extra:?}");
        }
    }

    /// Every `.rs` file of the crates that show words: the app, the engine, the server.
    fn sources() -> Vec<(std::path::PathBuf, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut out = Vec::new();
        let mut dirs: Vec<std::path::PathBuf> = ["app/src", "app/domain/src", "server/engine/src", "server/src"].iter().map(|d| root.join(d)).collect();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("engine/src/i18n.rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    out.push((path, text));
                }
            }
        }
        assert!(out.len() > 50, "the sources were not found from {}", root.display());
        out
    }

    #[test]
    fn every_message_is_used_and_every_id_used_is_in_the_catalogue() {
        let defined: BTreeSet<String> = files(Lang::En).into_iter().flat_map(|(_, en)| ids(en)).collect();
        let sources = sources();
        let unused: Vec<&String> = defined
            .iter()
            .filter(|id| !sources.iter().any(|(_, text)| text.contains(&format!("\"{id}\""))))
            .collect();
        assert!(unused.is_empty(), "in the catalogues but used nowhere: {unused:?}");
        let mut missing = Vec::new();
        for (path, text) in &sources {
            for call in ["tr(\"", "tr_args(\""] {
                for (at, _) in text.match_indices(call) {
                    // `write_str("…")` is no call of `tr`.
                    if text[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rest = &text[at + call.len()..];
                    let id = &rest[..rest.find('"').unwrap_or(0)];
                    if !defined.contains(id) {
                        missing.push(format!("{}: {id}", path.display()));
                    }
                }
            }
        }
        // Ids handed over as values (a refusal's meaning, from the domain crate) by their prefix.
        for (path, text) in &sources {
            for (at, _) in text.match_indices("\"meaning-") {
                let rest = &text[at + 1..];
                let id = &rest[..rest.find('"').unwrap_or(0)];
                if !defined.contains(id) {
                    missing.push(format!("{}: {id}", path.display()));
                }
            }
        }
        assert!(missing.is_empty(), "used but in no catalogue: {missing:?}");
    }

    #[test]
    fn the_islands_words_are_plain_and_say_what_fluent_says() {
        for lang in Lang::ALL {
            let (words, rich) = island_words(lang);
            assert!(rich.is_empty(), "too rich for the island (a selector or a function): {rich:?}");
            assert!(words.0.len() > 150, "{}: only {} messages", lang.tag(), words.0.len());
            for (id, text) in &words.0 {
                // Each value named in the message, filled in by the island and by Fluent alike.
                let mut message = Said::new(id);
                for part in text.split("{$").skip(1) {
                    let name = &part[..part.find('}').unwrap()];
                    message = message.with(name, format!("<{name}>"));
                }
                assert_eq!(words.say(&message), said(lang, &message), "{} {id}", lang.tag());
            }
        }
        let port = Said::new("form-port-note").with("port", 465).with("encryption", "SSL");
        assert!(form_words(Lang::ZhCn).say(&port).starts_with("465 端口通常使用 SSL"));
    }

    #[test]
    fn messages_fill_in_their_values_and_fall_back_to_english() {
        assert_eq!(text(Lang::En, "menu-settings"), "Settings");
        assert_eq!(text(Lang::ZhCn, "menu-settings"), "设置");
        assert_eq!(text(Lang::ZhCn, "no-such-message"), "no-such-message");
    }

    #[test]
    fn the_browser_language_is_negotiated() {
        assert_eq!(negotiate("zh-CN,zh;q=0.9,en;q=0.8"), Lang::ZhCn);
        assert_eq!(negotiate("zh-TW"), Lang::ZhCn);
        assert_eq!(negotiate("zh"), Lang::ZhCn);
        assert_eq!(negotiate("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(negotiate("fr-FR, de"), Lang::En);
        assert_eq!(negotiate(""), Lang::En);
        assert_eq!(negotiate(&"x".repeat(100_000)), Lang::En);
    }
}
