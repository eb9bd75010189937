//! What is being paid: merchant, item, amount (tax included), time left.

use yew::prelude::*;

use crate::components::countdown::countdown;
use crate::i18n::{yen, Lang};
use crate::model::Session;

/// `seconds_left` is shown while the shopper can still pay.
pub fn summary(s: &Session, lang: Lang, seconds_left: Option<i64>) -> Html {
    let t = lang.texts();
    html! {
        <section class="summary">
            <p class="merchant" id="merchant-name">{ s.merchant_name.clone() }</p>
            <h1 class="item" id="item-name">{ s.item_name.clone() }</h1>
            <p class="amount" id="amount">
                <span class="price">{ yen(s.amount) }</span>
                <span class="tax-incl">{ t.tax_included }</span>
            </p>
            if s.tax.get() > 0 {
                <p class="tax" id="tax">{ format!("{} {}", t.tax, yen(s.tax)) }</p>
            }
            if let Some(seconds) = seconds_left {
                { countdown(seconds, lang) }
            }
        </section>
    }
}
