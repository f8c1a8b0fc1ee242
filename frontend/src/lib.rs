//! The browser entry point: the WASM module that hydrates the server-rendered app.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the hydration script that the server's HTML shell includes.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::hydrate();
}
