//! Time left before the page expires. `role="timer"` (implicitly
//! `aria-live="off"`) so screen readers are not told every second.

use yew::prelude::*;

use crate::i18n::{clock, Lang};

pub fn countdown(seconds: i64, lang: Lang) -> Html {
    // The last minute is highlighted (`.timer[data-urgent]`).
    let urgent = (seconds < 60).then_some("true");
    html! {
        <p id="countdown" class="timer" data-urgent={urgent} role="timer" aria-live="off">
            <span>{ lang.texts().time_left }</span>
            <strong class="timer-clock">{ clock(seconds) }</strong>
        </p>
    }
}
