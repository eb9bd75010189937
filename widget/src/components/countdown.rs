//! Time left before the page expires. `role="timer"` (implicitly
//! `aria-live="off"`) so screen readers are not told every second.

use yew::Html;

use crate::components::dom::{el, tag, text};
use crate::i18n::{clock, Lang};

pub fn countdown(seconds: i64, lang: Lang) -> Html {
    let mut p = tag(
        "p",
        &[("id", "countdown"), ("class", "timer"), ("role", "timer"), ("aria-live", "off")],
    );
    // The last minute is highlighted (`.timer[data-urgent]`).
    if seconds < 60 {
        p.add_attribute("data-urgent", "true");
    }
    p.add_children(vec![
        el("span", &[], vec![text(lang.texts().time_left)]),
        el("strong", &[("class", "timer-clock")], vec![text(clock(seconds))]),
    ]);
    p.into()
}
