//! The form of each method: NET CASH, prepaid card, NP postpaid, au and
//! card (with its payment-option picker). Plain view functions over the
//! checkout's state; the checkout owns the callbacks.

use shared::card::{allowed, Brand};
use shared::money::Yen;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::field::text_field;
use crate::components::spinner;
use crate::i18n::{brand_name, option_label, pay_label};
use crate::model::Method;
use crate::state::{all_options, option_value, parse_option, Busy, Field, State};

/// What the forms report to the checkout.
pub struct FormCallbacks {
    pub on_input: Callback<(Field, String)>,
    pub on_blur: Callback<Field>,
    pub on_option: Callback<shared::card::PaymentOption>,
    /// A pointer went down on the pay button (before a field's blur).
    pub on_press: Callback<()>,
    pub on_submit: Callback<()>,
}

/// The chosen method's form (`None`: this page has none for it).
pub fn method_form(method: &Method, s: &State, amount: Yen, cb: &FormCallbacks) -> Option<Html> {
    let t = s.lang.texts();
    let field = |f: Field| text_field(f, s, &cb.on_input, &cb.on_blur, Html::default());
    let (body, button_id, label) = match method {
        Method::Netcash => (field(Field::NetcashId), "pay-button", pay_label(s.lang, amount)),
        Method::Prepaid => (field(Field::PrepaidNumber), "pay-button", pay_label(s.lang, amount)),
        Method::Np => (
            html! {
                <>
                    <p class="intro">{ t.np_intro }</p>
                    { for Field::of(method).iter().map(|f| field(*f)) }
                </>
            },
            "pay-button",
            pay_label(s.lang, amount),
        ),
        Method::Au => (
            html! { <p class="intro">{ t.au_intro }</p> },
            "au-button",
            t.au_button.to_owned(),
        ),
        Method::Card => (card_fields(s, cb), "pay-button", pay_label(s.lang, amount)),
        Method::Other(_) => return None,
    };
    let onsubmit = cb.on_submit.reform(|e: SubmitEvent| e.prevent_default());
    let onpointerdown = cb.on_press.reform(|_: PointerEvent| ());
    let busy = matches!(s.busy, Busy::Paying | Busy::Redirecting);
    let busy_label = if s.busy == Busy::Redirecting { t.au_leaving } else { t.processing };
    Some(html! {
        <form class="pay-form" novalidate=true {onsubmit}>
            { body }
            <button type="submit" id={button_id} class="button button-primary" {onpointerdown}
                disabled={busy} aria-busy={busy.then_some("true")}>
                if busy {
                    { spinner() }{ busy_label }
                } else {
                    { label }
                }
            </button>
        </form>
    })
}

/// Number (with the brand), expiry, CVC and the payment option.
fn card_fields(s: &State, cb: &FormCallbacks) -> Html {
    let t = s.lang.texts();
    let brand = s.brand();
    let field = |f: Field, extra: Html| text_field(f, s, &cb.on_input, &cb.on_blur, extra);
    let badge = html! {
        <span id="card-brand" class="card-brand" data-brand={brand.code()} aria-live="polite">
            { brand_name(brand) }
        </span>
    };
    // Only Visa has the Japanese payment options; say so once a card is typed.
    let single_only = brand != Brand::Visa && !s.value(Field::CardNumber).is_empty();
    let onchange = cb.on_option.reform(|e: Event| {
        let value = e.target_unchecked_into::<HtmlInputElement>().value();
        parse_option(&value).unwrap_or(shared::card::PaymentOption::Single)
    });
    html! {
        <>
            { field(Field::CardNumber, badge) }
            <fieldset class="expiry">
                <legend>{ t.expiry_legend }</legend>
                { field(Field::CardExpMonth, Html::default()) }
                <span class="expiry-slash" aria-hidden="true">{ "/" }</span>
                { field(Field::CardExpYear, Html::default()) }
            </fieldset>
            { field(Field::CardCvc, Html::default()) }
            <div class="field">
                <label for="card-option">{ t.option_label }</label>
                <select id="card-option" name="card-option" class="input"
                    disabled={s.busy != Busy::Idle}
                    aria-describedby={single_only.then_some("card-option-note")} {onchange}>
                    { for all_options().filter(|o| allowed(brand, *o)).map(|o| html! {
                        <option value={option_value(o)} selected={o == s.option}>{ option_label(s.lang, o) }</option>
                    }) }
                </select>
                if single_only {
                    <p class="hint" id="card-option-note">{ t.single_only }</p>
                }
            </div>
        </>
    }
}
