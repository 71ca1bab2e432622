//! The browser entry point. Pages are rendered on the server; only islands (`#[island]` in
//! `app`) run here. The island script calls `hydrate`, then each island's own export.

// Links the app crate, whose `#[island]` components export their hydration functions.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A panic says so in the console without formatting its message (which would pull Rust's
    // formatting of every panic payload into the wasm).
    std::panic::set_hook(Box::new(|_| {
        web_sys::console::error_1(
            &"Mailroom: the page stopped working after an internal error; reload it.".into(),
        )
    }));
    leptos::mount::hydrate_islands();
}
