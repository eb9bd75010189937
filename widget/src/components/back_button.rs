//! `#cancel-button`: back to the shop. A plain link when the way back is
//! known (`next`); otherwise a button that asks the server (`/cancel`),
//! which decides whether that is a cancellation or a return.

use yew::prelude::*;

use crate::components::spinner;

pub struct BackButton {
    pub label: &'static str,
    pub href: Option<String>,
    pub busy: bool,
    pub busy_label: &'static str,
    pub disabled: bool,
    pub primary: bool,
    pub on_click: Callback<()>,
}

pub fn back_button(b: BackButton) -> Html {
    // Literal class names: a computed `class` costs yew's `Classes` code.
    if let Some(href) = b.href {
        return html! { <a id="cancel-button" class="button button-primary" {href}>{ b.label }</a> };
    }
    let onclick = b.on_click.reform(|_: MouseEvent| ());
    html! {
        <button type="button" id="cancel-button" class="button button-secondary" data-primary={b.primary.then_some("true")} {onclick}
            disabled={b.busy || b.disabled} aria-busy={b.busy.then_some("true")}>
            if b.busy {
                { spinner() }{ b.busy_label }
            } else {
                { b.label }
            }
        </button>
    }
}
