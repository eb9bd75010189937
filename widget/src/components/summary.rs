//! What is being paid: merchant, item, amount (tax included), time left.

use yew::Html;

use crate::components::countdown::countdown;
use crate::components::dom::{el, none, text};
use crate::i18n::{yen, Lang};
use crate::model::Session;

/// `seconds_left` is shown while the shopper can still pay.
pub fn summary(s: &Session, lang: Lang, seconds_left: Option<i64>) -> Html {
    let t = lang.texts();
    el(
        "section",
        &[("class", "summary")],
        vec![
            el("p", &[("class", "merchant"), ("id", "merchant-name")], vec![text(s.merchant_name.clone())]),
            el("h1", &[("class", "item"), ("id", "item-name")], vec![text(s.item_name.clone())]),
            el(
                "p",
                &[("class", "amount"), ("id", "amount")],
                vec![
                    el("span", &[("class", "price")], vec![text(yen(s.amount))]),
                    el("span", &[("class", "tax-incl")], vec![text(t.tax_included)]),
                ],
            ),
            match s.recurring.as_deref() {
                Some(kind) => {
                    let what = if kind == "recurring_simple" { t.recurring_monthly } else { t.recurring_fixed };
                    let line = if s.charge_now.get() == 0 { format!("{what}（{}）", t.recurring_nothing_now) } else { what.to_string() };
                    el("p", &[("class", "tax"), ("id", "recurring-note")], vec![text(line)])
                }
                None => none(),
            },
            if s.tax.get() > 0 {
                el("p", &[("class", "tax"), ("id", "tax")], vec![text(format!("{} {}", t.tax, yen(s.tax)))])
            } else {
                none()
            },
            match seconds_left {
                Some(seconds) => countdown(seconds, lang),
                None => none(),
            },
        ],
    )
}
