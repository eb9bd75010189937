//! `#cancel-button`: back to the shop. A plain link when the way back is
//! known (`next`); otherwise a button that asks the server (`/cancel`),
//! which decides whether that is a cancellation or a return.

use yew::html::onclick;
use yew::prelude::*;

use crate::components::dom::{flag, listen, tag, text};
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
    if let Some(href) = b.href {
        let mut a = tag("a", &[("id", "cancel-button"), ("class", "button button-primary")]);
        a.add_attribute("href", href);
        a.add_child(text(b.label));
        return a.into();
    }
    let mut button = tag(
        "button",
        &[("type", "button"), ("id", "cancel-button"), ("class", "button button-secondary")],
    );
    flag(&mut button, "data-primary", b.primary);
    flag(&mut button, "disabled", b.busy || b.disabled);
    if b.busy {
        button.add_attribute("aria-busy", "true");
        button.add_children(vec![spinner(), text(b.busy_label)]);
    } else {
        button.add_child(text(b.label));
    }
    listen(&mut button, onclick::Wrapper::new(b.on_click.reform(|_: MouseEvent| ())));
    button.into()
}
