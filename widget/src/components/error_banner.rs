//! The `#error` banner: announced at once (`role="alert"`).

use yew::prelude::*;

pub fn error_banner(message: &'static str) -> Html {
    html! {
        <div id="error" class="banner banner-error" role="alert">
            <span class="banner-icon" aria-hidden="true"></span>
            <p>{ message }</p>
        </div>
    }
}
