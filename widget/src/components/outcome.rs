//! How the payment ended, or that it is being checked.

use yew::prelude::*;

use crate::components::error_banner::error_banner;
use crate::components::spinner;
use crate::i18n::{error_message, Lang};
use crate::state::{Final, FinalKind};

pub fn outcome(outcome: &Final, lang: Lang) -> Html {
    let t = lang.texts();
    let returning = outcome.auto_return.then_some(t.returning);
    if let Some((title, body)) = match outcome.kind {
        FinalKind::Paid => Some((t.done_title, t.done_body)),
        FinalKind::Ordered => Some((t.ordered_title, t.ordered_body)),
        FinalKind::Held => Some((t.held_title, t.held_body)),
        _ => None,
    } {
        return html! {
            <div id="done" class="result result-ok" role="status">
                <span class="result-icon" aria-hidden="true"></span>
                <h2>{ title }</h2>
                <p>{ body }</p>
                if let Some(r) = returning { <p class="returning">{ r }</p> }
            </div>
        };
    }
    let (title, body, code) = match &outcome.kind {
        FinalKind::Failed(Some(code)) => (t.failed_title, None, Some(code.as_str())),
        FinalKind::Failed(None) => (t.failed_title, Some(t.failed_body), None),
        FinalKind::Cancelled => (t.cancelled_body, None, None),
        FinalKind::Expired => (t.expired_title, Some(t.expired_body), None),
        FinalKind::RefundRequired => (t.refund_title, Some(t.refund_body), None),
        _ => (t.closed_body, None, None),
    };
    html! {
        <div id="outcome" class="result result-end">
            <h2>{ title }</h2>
            if let Some(code) = code {
                { error_banner(error_message(lang, code)) }
            }
            if let Some(body) = body { <p>{ body }</p> }
            if let Some(r) = returning { <p class="returning">{ r }</p> }
        </div>
    }
}

/// The provider has not answered yet; the page polls.
pub fn checking(lang: Lang) -> Html {
    let t = lang.texts();
    html! {
        <div id="checking" class="result" role="status">
            { spinner() }
            <h2>{ t.checking_title }</h2>
            <p>{ t.checking_body }</p>
        </div>
    }
}
