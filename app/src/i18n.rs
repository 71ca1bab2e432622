//! The pages' words in the page's language: [`tr`] and [`tr_args`] look a message up in the
//! catalogues ([`engine::i18n`]) in the language this render was given ([`PageLang`], set by the
//! document shell from the admin's choice or the browser's `Accept-Language`).
//!
//! Pages render on the server only, so the catalogues never reach the browser; an island does
//! not call these (in the browser build they give the message's id back).

#[cfg(feature = "ssr")]
pub use engine::templates::Lang;

/// The language this page renders in, provided by the shell.
#[cfg(feature = "ssr")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageLang(pub Lang);

/// A value for a message: a text, or a number (Fluent chooses plural forms by it).
#[derive(Clone, Debug)]
pub enum Arg {
    Text(String),
    Number(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}

impl From<u64> for Arg {
    fn from(n: u64) -> Self {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Self {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// The language of the page being rendered (English outside a render).
#[cfg(feature = "ssr")]
pub fn page_lang() -> Lang {
    leptos::prelude::use_context::<PageLang>().map(|p| p.0).unwrap_or_default()
}

/// The language a request gets: the admin's choice (set by the guard in the request's
/// extensions), else its `Accept-Language`, else English.
#[cfg(feature = "ssr")]
pub fn request_lang(parts: &http::request::Parts) -> Lang {
    if let Some(PageLang(lang)) = parts.extensions.get::<PageLang>() {
        return *lang;
    }
    parts
        .headers
        .get(http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(engine::i18n::negotiate)
        .unwrap_or_default()
}

/// The message `id` in the page's language.
pub fn tr(id: &str) -> String {
    tr_args(id, &[])
}

/// The message `id` in the page's language, with its values.
pub fn tr_args(id: &str, args: &[(&str, Arg)]) -> String {
    #[cfg(feature = "ssr")]
    {
        use engine::i18n::FluentValue;
        let args: Vec<(&str, FluentValue)> = args
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Arg::Text(s) => FluentValue::from(s.clone()),
                    Arg::Number(n) => FluentValue::from(*n),
                };
                (*name, value)
            })
            .collect();
        engine::i18n::message(page_lang(), id, &args)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = args;
        id.to_string()
    }
}

/// The message `id` around its `{ $at }` (a time the page shows as `<Time>`): the text before
/// it and after it, in the page's language.
#[cfg(feature = "ssr")]
pub fn tr_around(id: &str, args: &[(&str, Arg)]) -> (String, String) {
    // Said with a marker (a private-use character) for the time, split at it.
    const AT: &str = "\u{E000}";
    let text = tr_args(id, &[args, &[("at", AT.into())]].concat());
    let (before, after) = text.split_once(AT).unwrap_or((&text, ""));
    (before.to_string(), after.to_string())
}

/// What a rule said, in the page's language (an island says it with its own words).
pub fn say(said: &crate::domain::Said) -> String {
    #[cfg(feature = "ssr")]
    {
        engine::i18n::said(page_lang(), said)
    }
    #[cfg(not(feature = "ssr"))]
    {
        said.to_string()
    }
}
