//! One labelled text input, for every field of every form: formats as the
//! shopper types (numbers, NET CASH IDs), validates on blur, shows its
//! message under it (`aria-invalid`, `aria-describedby`).

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::i18n::field_message;
use crate::state::{format_field, Field, State};

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
    let describedby = match (hint.is_empty(), error.is_some()) {
        (false, true) => Some(format!("{hint_id} {error_id}")),
        (false, false) => Some(hint_id.clone()),
        (true, true) => Some(error_id.clone()),
        (true, false) => None,
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
    let busy = s.busy != crate::state::Busy::Idle;
    html! {
        <div class="field">
            <div class="label-row">
                <label for={id}>{ t.labels[f as usize] }</label>
                { extra }
            </div>
            if !hint.is_empty() {
                <p class="hint" id={hint_id}>{ hint }</p>
            }
            <input type={kind} id={id} name={id} class={class}
                value={s.value(f).to_owned()}
                {autocomplete} {inputmode}
                maxlength={(!max.is_empty()).then_some(max)}
                autocapitalize={if f == Field::NetcashId { "characters" } else { "off" }}
                autocorrect="off" spellcheck="false"
                enterkeyhint={if matches!(f, Field::NetcashId | Field::PrepaidNumber | Field::NpEmail | Field::CardCvc) { "go" } else { "next" }}
                readonly={busy}
                aria-invalid={error.map(|_| "true")}
                aria-describedby={describedby}
                {oninput} {onblur} />
            if let Some(text) = error {
                <p class="field-error" id={error_id}>{ text }</p>
            }
        </div>
    }
}
