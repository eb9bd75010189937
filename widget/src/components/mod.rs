//! The page's parts, one per file. Only [`app::App`] (loads the session)
//! and [`checkout::Checkout`] (holds the state, takes the session as props)
//! are yew components; the other parts are stateless view functions, since
//! every yew component type costs a few KB of wasm.

pub mod app;
pub mod back_button;
pub mod checkout;
pub mod countdown;
pub mod error_banner;
pub mod field;
pub mod forms;
pub mod lang_switch;
pub mod method_picker;
pub mod outcome;
pub mod summary;

use yew::{html, Html};

/// A decorative spinner (hidden from screen readers).
pub fn spinner() -> Html {
    html! { <span class="spinner" aria-hidden="true"></span> }
}
