//! One labelled text input, for every field of every form: formats as the
//! shopper types (numbers, NET CASH IDs), validates on blur, shows its
//! message under it (`aria-invalid`, `aria-describedby`).

use web_sys::HtmlInputElement;
use yew::html::{onblur, oninput};
use yew::prelude::*;

use crate::components::dom::{el, flag, listen, tag, text};

use crate::i18n::field_message;
use crate::field::{format_field, Field};
use crate::state::State;

/// Reformats the field in place, keeping the caret after the same
/// characters, and reports the new value.
pub fn reformat(field: Field, input: &HtmlInputElement, on_input: &Callback<(Field, String)>) {
    let raw = input.value();
    let caret = input.selection_start().ok().flatten();
    let (formatted, caret) = format_field(field, &raw, caret);
    if formatted != raw {
        input.set_value(&formatted);
        if let Some(caret) = caret {
            let _ = input.set_selection_range(caret, caret);
        }
    }
    on_input.emit((field, formatted));
}

/// `type`, `autocomplete`, `inputmode`, `maxlength` (`""`: none), CSS class.
fn attrs(f: Field) -> (&'static str, &'static str, &'static str, &'static str, &'static str) {
    const ID: &str = "input input-id";
    match f {
        Field::NetcashId => ("text", "off", "text", "", ID),
        Field::PrepaidNumber => ("text", "off", "numeric", "", ID),
        Field::NpName => ("text", "name", "text", "40", "input"),
        Field::NpKana => ("text", "off", "text", "40", "input"),
        Field::NpPostalCode => ("text", "postal-code", "numeric", "", "input input-short"),
        Field::NpAddress => ("text", "street-address", "text", "100", "input"),
        Field::NpPhone => ("tel", "tel", "tel", "", "input"),
        Field::NpEmail => ("email", "email", "email", "254", "input"),
        Field::CardNumber => ("text", "cc-number", "numeric", "", ID),
        Field::CardExpMonth => ("text", "cc-exp-month", "numeric", "", ID),
        Field::CardExpYear => ("text", "cc-exp-year", "numeric", "", ID),
        Field::CardCvc => ("text", "cc-csc", "numeric", "", ID),
    }
}

/// The field `f` of the state `s`; `extra` goes beside the label (the
/// card brand).
pub fn text_field(
    f: Field,
    s: &State,
    on_input: &Callback<(Field, String)>,
    on_blur: &Callback<Field>,
    extra: Html,
) -> Html {
    let t = s.lang.texts();
    let id = f.id();
    let hint = t.hints[f as usize];
    let error = s.error(f).map(|code| field_message(s.lang, f, code));
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    // Every field has a hint; the message joins it when there is one.
    let describedby = match error {
        Some(_) => format!("{hint_id} {error_id}"),
        None => hint_id.clone(),
    };
    let (kind, autocomplete, inputmode, max, class) = attrs(f);
    let oninput = {
        let on_input = on_input.clone();
        Callback::from(move |e: InputEvent| {
            // Leave the IME alone while it composes; `compositionend`
            // (listened to by the checkout) formats.
            if !e.is_composing() {
                reformat(f, &e.target_unchecked_into(), &on_input);
            }
        })
    };
    let onblur = {
        let on_input = on_input.clone();
        let on_blur = on_blur.clone();
        Callback::from(move |e: FocusEvent| {
            reformat(f, &e.target_unchecked_into(), &on_input);
            on_blur.emit(f);
        })
    };
    let mut input = tag(
        "input",
        &[
            ("type", kind),
            ("id", id),
            ("name", id),
            ("class", class),
            ("autocomplete", autocomplete),
            ("inputmode", inputmode),
            ("autocapitalize", if f == Field::NetcashId { "characters" } else { "off" }),
            ("autocorrect", "off"),
            ("spellcheck", "false"),
            (
                "enterkeyhint",
                if matches!(f, Field::NetcashId | Field::PrepaidNumber | Field::NpEmail | Field::CardCvc) { "go" } else { "next" },
            ),
        ],
    );
    if !max.is_empty() {
        input.add_attribute("maxlength", max);
    }
    flag(&mut input, "readonly", s.busy != crate::state::Busy::Idle);
    if error.is_some() {
        input.add_attribute("aria-invalid", "true");
    }
    input.add_attribute("aria-describedby", describedby);
    input.set_value(s.value(f).to_owned());
    listen(&mut input, oninput::Wrapper::new(oninput));
    listen(&mut input, onblur::Wrapper::new(onblur));
    let mut label = tag("label", &[("for", id)]);
    label.add_child(text(t.labels[f as usize]));
    let mut field = tag("div", &[("class", "field")]);
    field.add_child(el("div", &[("class", "label-row")], vec![label.into(), extra]));
    let note = |class, id: String, content: &'static str| {
        let mut p = tag("p", &[("class", class)]);
        p.add_attribute("id", id);
        p.add_child(text(content));
        p.into()
    };
    field.add_child(note("hint", hint_id, hint));
    field.add_child(input.into());
    if let Some(e) = error {
        field.add_child(note("field-error", error_id, e));
    }
    field.into()
}
