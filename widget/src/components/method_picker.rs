//! A radio group of the offered methods (shown when there are several).
//! Unavailable ones are disabled and say why.

use yew::prelude::*;

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
    html! {
        <fieldset class="methods">
            <legend>{ t.method_legend }</legend>
            { for methods.iter().map(|entry| {
                let key = entry.method.key();
                let id = format!("method-{key}");
                let note_id = format!("method-{key}-note");
                let desc_id = format!("method-{key}-desc");
                let checked = selected == Some(&entry.method);
                let note = (!entry.available).then_some(match entry.reason.as_deref() {
                    Some("maintenance") => t.maintenance,
                    _ => t.unavailable,
                });
                let onchange = {
                    let method = entry.method.clone();
                    on_select.reform(move |_: Event| method.clone())
                };
                html! {
                    // Styled from the radio's state (`.method:has(:checked)`).
                    <label for={id.clone()} class="method">
                        <input type="radio" name="method" id={id} value={key.to_owned()}
                            {checked}
                            disabled={!entry.available || disabled}
                            aria-describedby={match note {
                                Some(_) => format!("{desc_id} {note_id}"),
                                None => desc_id.clone(),
                            }}
                            {onchange} />
                        <span class="method-text">
                            <span class="method-name">{ method_name(lang, &entry.method).to_owned() }</span>
                            <span class="method-desc" id={desc_id}>{ method_desc(lang, &entry.method) }</span>
                            if let Some(note) = note {
                                <span class="method-note" id={note_id}>{ note }</span>
                            }
                        </span>
                    </label>
                }
            }) }
        </fieldset>
    }
}
