//! The app's page paths, written once: the router, redirects, links and the server's guard
//! all use these.

use leptos_router::StaticSegment;

pub const LOGIN: &str = "/login";
pub const SETUP: &str = "/setup";
pub const FORGOT: &str = "/forgot";
pub const RESET: &str = "/reset";
/// Settings › Mail Server, where an admin lands after logging in.
pub const MAIL_SETTINGS: &str = "/settings/mail";
/// Settings › Mail Activity: what became of every message.
pub const MAIL_ACTIVITY: &str = "/settings/activity";
/// Settings › API Tokens: the keys of the HTTP API.
pub const API_TOKENS: &str = "/settings/tokens";
/// Settings › Mail Templates: what the system's mails say, per language.
pub const MAIL_TEMPLATES: &str = "/settings/templates";

/// "Sign in with …" for OAuth2 as a mailbox: redirects an admin to the provider.
pub const OAUTH_START: &str = "/oauth/start";
/// Where an OAuth2 provider sends the browser back after a mailbox signed in (the redirect
/// URI to register). Served by the server beside the app, without a session (`api::oauth`).
pub const OAUTH_CALLBACK: &str = "/oauth/callback";

/// Pages anyone may open, without a session.
pub const PUBLIC_PAGES: [&str; 4] = [LOGIN, SETUP, FORGOT, RESET];

/// The built front end's files.
pub const ASSETS_PREFIX: &str = "/pkg/";

/// Server functions (same-origin only; each checks the session itself where it needs one).
pub const API_PREFIX: &str = "/api/";

/// Whether `path` may be opened without a session.
pub fn is_public(path: &str) -> bool {
    path == "/" || PUBLIC_PAGES.contains(&path) || path.starts_with(ASSETS_PREFIX)
}

/// The router's segment for a one-segment path above: "/login" → `StaticSegment("login")`.
/// `const`, so the router's paths are computed at compile time.
pub const fn segment(path: &'static str) -> (StaticSegment<&'static str>,) {
    (StaticSegment(path.split_at(1).1),)
}

/// The router's segments for a two-segment path above: "/settings/mail" → settings, mail.
pub const fn two_segments(path: &'static str) -> (StaticSegment<&'static str>, StaticSegment<&'static str>) {
    let rest = path.split_at(1).1;
    let bytes = rest.as_bytes();
    let mut slash = 0;
    while slash < bytes.len() && bytes[slash] != b'/' {
        slash += 1;
    }
    let (first, second) = rest.split_at(slash);
    (StaticSegment(first), StaticSegment(second.split_at(1).1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_pages_and_assets_need_no_session_and_the_rest_do() {
        for p in ["/", "/login", "/setup", "/forgot", "/reset", "/pkg/x/frontend.js"] {
            assert!(is_public(p), "{p}");
        }
        for p in [MAIL_SETTINGS, MAIL_ACTIVITY, API_TOKENS, MAIL_TEMPLATES, "/login/x", "/settings", "/anything", "/pkgx"] {
            assert!(!is_public(p), "{p}");
        }
    }

    #[test]
    fn segments_match_their_paths() {
        use leptos_router::PossibleRouteMatch;
        assert_eq!(
            segment(LOGIN)
                .test(LOGIN)
                .map(|m| m.remaining().to_string())
                .as_deref(),
            Some("")
        );
        let mail = two_segments(MAIL_SETTINGS);
        assert_eq!(
            mail.test(MAIL_SETTINGS)
                .map(|m| m.matched().to_string())
                .as_deref(),
            Some(MAIL_SETTINGS)
        );
        assert!(mail.test("/settings/other").is_none());
    }
}
