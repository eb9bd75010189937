//! The NET CASH ID form: formats as the shopper types, validates on blur
//! and on submit (inline message, `aria-invalid`, `aria-describedby`).

use shared::money::Yen;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::spinner;
use crate::i18n::{pay_label, Lang};
use crate::state::{format_with_caret, FieldError};

pub struct NetcashForm {
    /// The formatted ID (`ABCD 1234`).
    pub value: String,
    pub error: Option<FieldError>,
    pub lang: Lang,
    pub amount: Yen,
    /// The payment request is running.
    pub busy: bool,
    pub input_ref: NodeRef,
    /// The formatted field content after each edit.
    pub on_input: Callback<String>,
    pub on_blur: Callback<()>,
    /// A pointer went down on the pay button (before the field's blur).
    pub on_press: Callback<()>,
    pub on_submit: Callback<()>,
}

/// Reformats the field in place, keeping the caret after the same
/// characters, and reports the new value.
pub fn reformat(input: &HtmlInputElement, on_input: &Callback<String>) {
    let raw = input.value();
    let caret = input.selection_start().ok().flatten();
    let (formatted, caret) = format_with_caret(&raw, caret);
    if formatted != raw {
        input.set_value(&formatted);
        if let Some(caret) = caret {
            let _ = input.set_selection_range(caret, caret);
        }
    }
    on_input.emit(formatted);
}

pub fn netcash_form(f: NetcashForm) -> Html {
    let t = f.lang.texts();
    let oninput = {
        let on_input = f.on_input.clone();
        Callback::from(move |e: InputEvent| {
            // Leave the IME alone while it composes; `compositionend`
            // (listened to by the checkout) formats.
            if !e.is_composing() {
                reformat(&e.target_unchecked_into(), &on_input);
            }
        })
    };
    let onblur = {
        let on_input = f.on_input.clone();
        let on_blur = f.on_blur.clone();
        Callback::from(move |e: FocusEvent| {
            reformat(&e.target_unchecked_into(), &on_input);
            on_blur.emit(());
        })
    };
    let onsubmit = f.on_submit.reform(|e: SubmitEvent| e.prevent_default());
    let onpointerdown = f.on_press.reform(|_: PointerEvent| ());
    let error_text = f.error.map(|e| match e {
        FieldError::Empty => t.netcash_empty,
        FieldError::Incomplete => t.netcash_incomplete,
        FieldError::BadCharacter => t.netcash_bad_char,
    });
    let describedby = if error_text.is_some() {
        "netcash-id-hint netcash-id-error"
    } else {
        "netcash-id-hint"
    };
    html! {
        <form class="pay-form" {onsubmit}>
            <div class="field">
                <label for="netcash-id">{ t.netcash_label }</label>
                <p class="hint" id="netcash-id-hint">{ t.netcash_hint }</p>
                <input ref={f.input_ref}
                    type="text" id="netcash-id" name="netcash_id" class="input input-id"
                    value={f.value}
                    autocomplete="off" autocapitalize="characters" autocorrect="off"
                    spellcheck="false" inputmode="text" enterkeyhint="go"
                    readonly={f.busy}
                    aria-invalid={error_text.map(|_| "true")}
                    aria-describedby={describedby}
                    {oninput} {onblur} />
                if let Some(text) = error_text {
                    <p class="field-error" id="netcash-id-error">{ text }</p>
                }
            </div>
            <button type="submit" id="pay-button" class="button button-primary" {onpointerdown}
                disabled={f.busy} aria-busy={f.busy.then_some("true")}>
                if f.busy {
                    { spinner() }{ t.processing }
                } else {
                    { pay_label(f.lang, f.amount) }
                }
            </button>
        </form>
    }
}
