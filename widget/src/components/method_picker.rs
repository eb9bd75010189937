//! A radio group of the offered methods (shown when there are several),
//! in the server's order: each row (the whole row is the tap target) has
//! the method's name and a line about it. Unavailable ones are disabled
//! and say why.

use yew::html::onchange;
use yew::prelude::*;

use crate::components::dom::{el, flag, listen, tag, text};
use crate::i18n::{method_desc, method_name, Lang};
use crate::model::{Method, MethodEntry};

/// `disabled`: a request runs, the choice is locked.
pub fn method_picker(
    methods: &[MethodEntry],
    selected: Option<&Method>,
    lang: Lang,
    disabled: bool,
    on_select: &Callback<Method>,
) -> Html {
    let t = lang.texts();
    let mut set = tag("fieldset", &[("class", "methods")]);
    set.add_child(el("legend", &[], vec![text(t.method_legend)]));
    for entry in methods {
        let key = entry.method.key();
        let id = format!("method-{key}");
        let desc_id = format!("{id}-desc");
        let note_id = format!("{id}-note");
        let note = (!entry.available).then_some(match entry.reason.as_deref() {
            Some("maintenance") => t.maintenance,
            _ => t.unavailable,
        });
        let mut input = tag("input", &[("type", "radio"), ("name", "method")]);
        input.add_attribute("id", id.clone());
        input.add_attribute("value", key.to_owned());
        input.set_checked(selected == Some(&entry.method));
        flag(&mut input, "disabled", !entry.available || disabled);
        input.add_attribute(
            "aria-describedby",
            match note {
                Some(_) => format!("{desc_id} {note_id}"),
                None => desc_id.clone(),
            },
        );
        let method = entry.method.clone();
        listen(&mut input, onchange::Wrapper::new(on_select.reform(move |_: Event| method.clone())));

        let mut desc = tag("span", &[("class", "method-desc")]);
        desc.add_attribute("id", desc_id);
        desc.add_child(text(method_desc(lang, &entry.method)));
        let mut about = tag("span", &[("class", "method-text")]);
        about.add_child(el("span", &[("class", "method-name")], vec![text(method_name(lang, &entry.method).to_owned())]));
        about.add_child(desc.into());
        if let Some(note) = note {
            let mut n = tag("span", &[("class", "method-note")]);
            n.add_attribute("id", note_id);
            n.add_child(text(note));
            about.add_child(n.into());
        }
        // Styled from the radio's state (`.method:has(:checked)`).
        let mut row = tag("label", &[("class", "method")]);
        row.add_attribute("for", id);
        row.add_children(vec![input.into(), about.into()]);
        set.add_child(row.into());
    }
    set.into()
}
