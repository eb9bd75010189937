//! The `#error` banner: announced at once (`role="alert"`).

use yew::Html;

use crate::components::dom::{el, text};

pub fn error_banner(message: &'static str) -> Html {
    el(
        "div",
        &[("id", "error"), ("class", "banner banner-error"), ("role", "alert")],
        vec![
            el("span", &[("class", "banner-icon"), ("aria-hidden", "true")], vec![]),
            el("p", &[], vec![text(message)]),
        ],
    )
}
