//! The page's parts, one per file. Only [`checkout::Checkout`] (reads the
//! session, holds the state) is a yew component; the other parts are
//! stateless view functions, since every yew component type costs a few
//! KB of wasm.

pub mod back_button;
pub mod checkout;
pub mod countdown;
pub mod dom;
pub mod error_banner;
pub mod field;
pub mod forms;
pub mod lang_switch;
pub mod method_picker;
pub mod outcome;
pub mod summary;

use yew::Html;

/// A decorative spinner (hidden from screen readers).
pub fn spinner() -> Html {
    dom::el("span", &[("class", "spinner"), ("aria-hidden", "true")], vec![])
}
