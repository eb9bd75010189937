//! `#lang-switch`: a button naming the other language, in that language.

use yew::prelude::*;

use crate::i18n::Lang;

pub fn lang_switch(lang: Lang, on_switch: Callback<()>) -> Html {
    let onclick = on_switch.reform(|_: MouseEvent| ());
    html! {
        <button type="button" id="lang-switch" class="lang-switch" lang={lang.other().code()} {onclick}>
            { lang.texts().switch_to }
        </button>
    }
}
