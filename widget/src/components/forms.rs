//! The form of each method: NET CASH, prepaid card, NP postpaid, au and
//! card (with its payment-option picker). Plain view functions over the
//! checkout's state; the checkout owns the callbacks.

use shared::card::{allowed, Brand, PaymentOption};
use shared::money::Yen;
use web_sys::HtmlInputElement;
use yew::html::{onchange, onpointerdown, onsubmit};
use yew::prelude::*;

use crate::components::dom::{el, flag, listen, none, tag, text};
use crate::components::field::text_field;
use crate::components::spinner;
use crate::i18n::{brand_name, option_label, pay_label};
use crate::model::Method;
use crate::field::{all_options, option_value, parse_option, Field};
use crate::state::{Busy, State};

/// What the forms report to the checkout.
pub struct FormCallbacks {
    pub on_input: Callback<(Field, String)>,
    pub on_blur: Callback<Field>,
    pub on_option: Callback<PaymentOption>,
    /// A pointer went down on the pay button (before a field's blur).
    pub on_press: Callback<()>,
    pub on_submit: Callback<()>,
    /// NET CASH Wallet was chosen instead of typing an ID.
    pub on_wallet: Callback<()>,
}

/// The chosen method's form (`None`: this page has none for it).
pub fn method_form(method: &Method, s: &State, amount: Yen, cb: &FormCallbacks) -> Option<Html> {
    let t = s.lang.texts();
    let intro = |p: &'static str| el("p", &[("class", "intro")], vec![text(p)]);
    let mut children = match method {
        Method::Netcash | Method::Prepaid => vec![],
        Method::Np => vec![intro(t.np_intro)],
        Method::Au => vec![intro(t.au_intro)],
        Method::Card => vec![],
        Method::Other(_) => return None,
    };
    for f in Field::of(method) {
        children.push(if *f == Field::CardExpMonth {
            expiry(s, cb)
        } else if *f == Field::CardExpYear {
            continue;
        } else {
            text_field(*f, s, &cb.on_input, &cb.on_blur, if *f == Field::CardNumber { brand(s) } else { none() })
        });
    }
    if *method == Method::Card {
        children.push(options(s, cb));
    }
    let busy = matches!(s.busy, Busy::Paying | Busy::Redirecting);
    let mut button = tag("button", &[("type", "submit"), ("class", "button button-primary")]);
    button.add_attribute("id", if *method == Method::Au { "au-button" } else { "pay-button" });
    flag(&mut button, "disabled", busy);
    if busy {
        button.add_attribute("aria-busy", "true");
        let label = if s.busy == Busy::Redirecting { t.au_leaving } else { t.processing };
        button.add_children(vec![spinner(), text(label)]);
    } else if *method == Method::Au {
        button.add_child(text(t.au_button));
    } else {
        button.add_child(text(pay_label(s.lang, amount)));
    }
    listen(&mut button, onpointerdown::Wrapper::new(cb.on_press.reform(|_: PointerEvent| ())));
    children.push(button.into());
    if *method == Method::Netcash {
        let mut wallet = tag("button", &[("type", "button"), ("id", "netcash-wallet-button"), ("class", "button button-secondary")]);
        flag(&mut wallet, "disabled", busy);
        wallet.add_child(text(t.wallet_button));
        listen(&mut wallet, yew::html::onclick::Wrapper::new(cb.on_wallet.reform(|_: MouseEvent| ())));
        children.push(wallet.into());
    }
    let mut form = tag("form", &[("class", "pay-form"), ("novalidate", "novalidate")]);
    listen(&mut form, onsubmit::Wrapper::new(cb.on_submit.reform(|e: SubmitEvent| e.prevent_default())));
    form.add_children(children);
    Some(form.into())
}

/// The brand of the card number typed so far (announced politely).
fn brand(s: &State) -> Html {
    let brand = s.brand();
    let mut badge = tag("span", &[("id", "card-brand"), ("class", "card-brand"), ("aria-live", "polite")]);
    badge.add_attribute("data-brand", brand.code());
    badge.add_child(text(brand_name(brand)));
    badge.into()
}

/// Month / year, one group.
fn expiry(s: &State, cb: &FormCallbacks) -> Html {
    let field = |f| text_field(f, s, &cb.on_input, &cb.on_blur, none());
    el(
        "fieldset",
        &[("class", "expiry")],
        vec![
            el("legend", &[], vec![text(s.lang.texts().expiry_legend)]),
            field(Field::CardExpMonth),
            el("span", &[("class", "expiry-slash"), ("aria-hidden", "true")], vec![text("/")]),
            field(Field::CardExpYear),
        ],
    )
}

/// The payment option: only what the card's brand allows. Only Visa has
/// the Japanese payment options; once another card is typed, say so.
fn options(s: &State, cb: &FormCallbacks) -> Html {
    let t = s.lang.texts();
    let brand = s.brand();
    let single_only = brand != Brand::Visa && !s.value(Field::CardNumber).is_empty();
    let mut select = tag("select", &[("id", "card-option"), ("name", "card-option"), ("class", "input")]);
    flag(&mut select, "disabled", s.busy != Busy::Idle);
    if single_only {
        select.add_attribute("aria-describedby", "card-option-note");
    }
    listen(
        &mut select,
        onchange::Wrapper::new(cb.on_option.reform(|e: Event| {
            let value = e.target_unchecked_into::<HtmlInputElement>().value();
            parse_option(&value).unwrap_or(PaymentOption::Single)
        })),
    );
    for o in all_options().filter(|o| allowed(brand, *o)) {
        let mut option = tag("option", &[]);
        option.add_attribute("value", option_value(o));
        flag(&mut option, "selected", o == s.option);
        option.add_child(text(option_label(s.lang, o)));
        select.add_child(option.into());
    }
    el(
        "div",
        &[("class", "field")],
        vec![
            el("label", &[("for", "card-option")], vec![text(t.option_label)]),
            select.into(),
            if single_only {
                el("p", &[("class", "hint"), ("id", "card-option-note")], vec![text(t.single_only)])
            } else {
                none()
            },
        ],
    )
}
