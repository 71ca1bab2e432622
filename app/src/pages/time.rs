//! A time as every page shows it.

use leptos::prelude::*;

/// "2026-11-26T18:55:03.123Z" → "2026-11-26 18:55:03 UTC".
pub fn utc_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..19)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// A time: UTC in the server's HTML, shown in the browser's language and time zone by the
/// page's script (`frontend/page.js`, for every page alike), the UTC time on hover.
#[component]
pub fn Time(#[prop(into)] at: String) -> impl IntoView {
    let utc = utc_time(&at);
    let title = utc.clone();
    view! { <time class="local" datetime=at title=title>{utc}</time> }
}
