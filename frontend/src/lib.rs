//! The browser entry point. Pages are rendered on the server; only islands (`#[island]` in
//! `app`) run here. The island script calls `hydrate`, then each island's own export.

// Links the app crate, whose `#[island]` components export their hydration functions.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
