//! Kessai Link hosted payment page (Yew, WebAssembly).
//!
//! Shape (after yew's `function_todomvc`):
//! * [`model`]: the JSON the Worker sends (session, statuses, methods);
//! * [`state`]: plain data, the [`state::Action`]s and the pure reducer;
//! * [`components`]: one view per file; the checkout (the only component)
//!   can take its session as props so it renders without a server;
//! * [`api`]: the only module that talks to the network (behind the
//!   injectable [`api::Backend`] trait);
//! * [`json`]: the Worker's JSON as a small tree (read by `JSON.parse`; no serde in the shipped wasm);
//! * [`i18n`]: every user-visible string, Japanese (default) and English;
//! * [`prefs`]: the shopper's language choice (URL, localStorage, `<html lang>`).

#[cfg(target_arch = "wasm32")]
pub mod alloc;
pub mod api;
pub mod components;
pub mod field;
pub mod i18n;
pub mod json;
pub mod model;
pub mod prefs;
pub mod reducer;
pub mod state;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: alloc::PageAlloc = alloc::PageAlloc::new();

pub use components::checkout::{Checkout, CheckoutProps};

/// Mounts the payment page on `#app`, replacing its placeholder content.
pub fn start() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(root) = document.get_element_by_id("app") else {
        return;
    };
    let payment_id = root.get_attribute("data-payment-id").unwrap_or_default();
    prefetch_texts_on_first_interaction(&document);
    let lang = prefs::initial_lang();
    // English is in the text pack: the page shows once it is in (or in
    // Japanese, should it not come).
    yew::platform::spawn_local(async move {
        let lang = if lang == i18n::Lang::En && !i18n::load_pack().await { i18n::Lang::Ja } else { lang };
        prefs::apply_lang(lang);
        root.set_inner_html("");
        let props = CheckoutProps {
            session: None,
            backend: api::BackendRef::new(api::HttpBackend::new(&payment_id)),
            lang,
        };
        yew::Renderer::<Checkout>::with_root_and_props(root, props).render();
    });
}

/// The shopper's first press, key or focus fetches the text pack, so its
/// words are there before any error is (the page waits for it then, too).
fn prefetch_texts_on_first_interaction(document: &web_sys::Document) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let fetch = Closure::<dyn Fn()>::new(|| {
        if i18n::pack().is_none() {
            yew::platform::spawn_local(async {
                i18n::load_pack().await;
            });
        }
    });
    for event in ["pointerdown", "keydown", "focusin"] {
        let _ = document.add_event_listener_with_callback(event, fetch.as_ref().unchecked_ref());
    }
    // Lives as long as the page.
    fetch.forget();
}
