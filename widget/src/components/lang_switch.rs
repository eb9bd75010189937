//! `#lang-switch`: a button naming the other language, in that language.

use yew::html::onclick;
use yew::prelude::*;

use crate::components::dom::{listen, tag, text};
use crate::i18n::Lang;

pub fn lang_switch(lang: Lang, on_switch: Callback<()>) -> Html {
    let mut b = tag(
        "button",
        &[("type", "button"), ("id", "lang-switch"), ("class", "lang-switch")],
    );
    b.add_attribute("lang", lang.other().code());
    listen(&mut b, onclick::Wrapper::new(on_switch.reform(|_: MouseEvent| ())));
    b.add_child(text(lang.texts().switch_to));
    b.into()
}
