//! The `#error` banner: announced at once (`role="alert"`); focusable from
//! script (`tabindex="-1"`) so that the page can bring it into view.

use yew::Html;

use crate::components::dom::{el, text};

pub fn error_banner(message: &'static str) -> Html {
    el(
        "div",
        &[("id", "error"), ("class", "banner banner-error"), ("role", "alert"), ("tabindex", "-1")],
        vec![
            el("span", &[("class", "banner-icon"), ("aria-hidden", "true")], vec![]),
            el("p", &[], vec![text(message)]),
        ],
    )
}
