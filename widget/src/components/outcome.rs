//! How the payment ended, or that it is being checked.

use yew::Html;

use crate::components::dom::{el, text};
use crate::components::error_banner::error_banner;
use crate::components::spinner;
use crate::i18n::{error_message, Lang};
use crate::state::{Final, FinalKind};

pub fn outcome(outcome: &Final, lang: Lang) -> Html {
    let t = lang.texts();
    let mut parts = vec![];
    let done = match outcome.kind {
        FinalKind::Paid => Some((t.done_title, t.done_body)),
        FinalKind::Registered => Some((t.registered_title, t.registered_body)),
        FinalKind::Ordered => Some((t.ordered_title, t.ordered_body)),
        FinalKind::Held => Some((t.held_title, t.held_body)),
        _ => None,
    };
    if let Some((title, body)) = done {
        parts.push(el("span", &[("class", "result-icon"), ("aria-hidden", "true")], vec![]));
        parts.push(el("h2", &[], vec![text(title)]));
        parts.push(el("p", &[], vec![text(body)]));
    } else {
        let (title, body, code) = match &outcome.kind {
            FinalKind::Failed(Some(code)) => (t.failed_title, None, Some(code.as_str())),
            FinalKind::Failed(None) => (t.failed_title, Some(t.failed_body), None),
            FinalKind::Cancelled => (t.cancelled_body, None, None),
            FinalKind::Expired => (t.expired_title, Some(t.expired_body), None),
            FinalKind::RefundRequired => (t.refund_title, Some(t.refund_body), None),
            _ => (t.closed_body, None, None),
        };
        parts.push(el("h2", &[], vec![text(title)]));
        if let Some(code) = code {
            parts.push(error_banner(error_message(lang, code)));
        }
        if let Some(body) = body {
            parts.push(el("p", &[], vec![text(body)]));
        }
    }
    if outcome.auto_return {
        parts.push(el("p", &[("class", "returning")], vec![text(t.returning)]));
    }
    if done.is_some() {
        el("div", &[("id", "done"), ("class", "result result-ok"), ("role", "status")], parts)
    } else {
        el("div", &[("id", "outcome"), ("class", "result result-end")], parts)
    }
}

/// The provider has not answered yet; the page polls.
pub fn checking(lang: Lang) -> Html {
    let t = lang.texts();
    el(
        "div",
        &[("id", "checking"), ("class", "result"), ("role", "status")],
        vec![
            spinner(),
            el("h2", &[], vec![text(t.checking_title)]),
            el("p", &[], vec![text(t.checking_body)]),
        ],
    )
}
