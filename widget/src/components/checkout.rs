//! The payment page: reads the session (unless given one) and shows the
//! checkout. Holds the state (reducer) and runs the side effects: requests
//! through the injected backend, the countdown, polling while processing,
//! the way back to the shop. The page's only yew component (each component
//! type costs a few KB of wasm).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement};
use yew::platform::spawn_local;
use yew::platform::time::sleep;
use yew::html::onclick;
use yew::prelude::*;

use crate::api::BackendRef;
use crate::components::back_button::{back_button, BackButton};
use crate::components::dom::{el, listen, tag, text};
use crate::components::error_banner::error_banner;
use crate::components::lang_switch::lang_switch;
use crate::components::field::reformat;
use crate::components::forms::{method_form, FormCallbacks};
use crate::components::method_picker::method_picker;
use crate::components::outcome::{checking, outcome};
use crate::components::summary::summary;
use crate::i18n::{error_message_for, load_pack, Lang};
use crate::model::{Method, Session};
use crate::prefs;
use crate::field::{first_server_field, Field};
use crate::state::{Action, Busy, Phase, State};

/// How long a finished payment stays on screen before the page goes back.
pub const RETURN_DELAY: Duration = Duration::from_millis(1500);

#[derive(Properties, PartialEq, Clone)]
pub struct CheckoutProps {
    /// The session, when already known (tests); otherwise it is read.
    #[prop_or_default]
    pub session: Option<Rc<Session>>,
    pub backend: BackendRef,
    #[prop_or(Lang::Ja)]
    pub lang: Lang,
}

/// Milliseconds of a monotonic clock.
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_default()
}

fn element(id: &str) -> Option<Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

/// After yew has rendered, focuses an element: the first invalid field,
/// or the error banner (which also scrolls it into view on a long form).
fn focus_after_render(id: &'static str) {
    spawn_local(async move {
        sleep(Duration::ZERO).await;
        if let Some(e) = element(id) {
            let _ = e.unchecked_into::<HtmlElement>().focus();
        }
    });
}

/// `<html lang>` (screen readers pick their voice from it) and the title.
fn show_lang(lang: Lang, merchant: Option<&str>) {
    prefs::apply_lang(lang);
    if let Some(merchant) = merchant {
        prefs::set_title(&format!("{} | {}", lang.texts().page_title, merchant));
    }
}

/// A flag cleared when an effect is cleaned up, so late tasks stop.
fn alive() -> (Rc<Cell<bool>>, impl FnOnce()) {
    let flag = Rc::new(Cell::new(true));
    let clear = {
        let flag = flag.clone();
        move || flag.set(false)
    };
    (flag, clear)
}

#[function_component(Checkout)]
pub fn checkout(props: &CheckoutProps) -> Html {
    let state = {
        let session = props.session.clone();
        let lang = props.lang;
        use_reducer(move || match session {
            Some(s) => State::new(s, lang),
            None => State::loading(lang),
        })
    };
    // Set synchronously on click, so a double click sends one request even
    // before the disabled button is rendered.
    let in_flight = use_mut_ref(|| false);
    let lang = state.lang;
    let t = lang.texts();

    let merchant = state.session.as_ref().map(|s| s.merchant_name.clone());

    // Until the session is read: read it (again, after Reload). Once it
    // is: the countdown (whole seconds since then) and, since yew has no
    // `oncompositionend`, a document listener that formats a field once an
    // IME commits (the event bubbles). (One effect: each costs wasm.)
    {
        let dispatcher = state.dispatcher();
        let backend = props.backend.clone();
        let deps = (state.session.is_some(), state.phase == Phase::Loading);
        let merchant = merchant.clone();
        use_effect_with(deps, move |&(loaded, loading)| {
            show_lang(lang, merchant.as_deref());
            if loading {
                let dispatcher = dispatcher.clone();
                spawn_local(async move {
                    let session = backend.session().await;
                    // An error to show: its words come with the text pack.
                    if session.as_ref().map_or(true, |s| s.last_error.is_some()) {
                        load_pack().await;
                    }
                    dispatcher.dispatch(Action::Loaded(session));
                });
            }
            let (running, stop) = alive();
            let start = now_ms();
            let ticker = dispatcher.clone();
            spawn_local(async move {
                while loaded {
                    let elapsed = now_ms() - start;
                    sleep(Duration::from_millis(1005 - (elapsed as u64 % 1000))).await;
                    if !running.get() {
                        break;
                    }
                    ticker.dispatch(Action::Tick(((now_ms() - start) / 1000.0) as i64));
                }
            });
            let on_input = Callback::from(move |(f, v)| dispatcher.dispatch(Action::Input(f, v)));
            let listener = Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
                if let Some(input) = e.target() {
                    let input: HtmlInputElement = input.unchecked_into();
                    if let Some(f) = Field::from_id(&input.id()) {
                        reformat(f, &input, &on_input);
                    }
                }
            });
            let document = web_sys::window().and_then(|w| w.document());
            if let Some(d) = &document {
                let _ = d.add_event_listener_with_callback(
                    "compositionend",
                    listener.as_ref().unchecked_ref(),
                );
            }
            move || {
                stop();
                if let Some(d) = document {
                    let _ = d.remove_event_listener_with_callback(
                        "compositionend",
                        listener.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }

    // While the provider works, read the session again until it settles.
    {
        let dispatcher = state.dispatcher();
        let backend = props.backend.clone();
        use_effect_with(state.phase == Phase::Processing, move |processing| {
            let (running, stop) = alive();
            if *processing {
                spawn_local(async move {
                    for round in 0u32.. {
                        sleep(Duration::from_millis(if round < 15 { 2000 } else { 5000 })).await;
                        if !running.get() {
                            break;
                        }
                        if let Ok(session) = backend.session().await {
                            if session.last_error.is_some() {
                                load_pack().await;
                            }
                            if running.get() {
                                dispatcher.dispatch(Action::Refreshed(session));
                            }
                        }
                    }
                });
            }
            stop
        });
    }

    // Leaving the page. A payment that ended on this visit goes back to
    // the shop by itself, after a moment. au: the whole page goes to the
    // provider at once; should it still be here a while later (blocked, or
    // back from the back-forward cache), the form is usable again.
    {
        let backend = props.backend.clone();
        let dispatcher = state.dispatcher();
        let leave = match (state.auto_return(), &state.redirect) {
            (Some(next), _) => Some((next, false)),
            (None, Some(url)) => Some((url.clone(), true)),
            (None, None) => None,
        };
        use_effect_with(leave, move |leave| {
            let (running, stop) = alive();
            if let Some((url, provider)) = leave.clone() {
                if provider {
                    backend.redirect(&url);
                }
                spawn_local(async move {
                    sleep(if provider { Duration::from_secs(5) } else { RETURN_DELAY }).await;
                    if running.get() {
                        if provider {
                            dispatcher.dispatch(Action::RedirectStalled);
                        } else {
                            backend.navigate(&url);
                        }
                    }
                });
            }
            stop
        });
    }

    let on_lang = {
        let dispatcher = state.dispatcher();
        Callback::from(move |_| {
            let new = lang.other();
            let (dispatcher, merchant) = (dispatcher.clone(), merchant.clone());
            // English comes with the text pack; without it, no switch.
            spawn_local(async move {
                if new == Lang::En && !load_pack().await {
                    return;
                }
                prefs::remember_lang(new);
                show_lang(new, merchant.as_deref());
                dispatcher.dispatch(Action::SetLang(new));
            });
        })
    };
    let on_select = {
        let dispatcher = state.dispatcher();
        Callback::from(move |m: Method| dispatcher.dispatch(Action::SelectMethod(m)))
    };
    let on_input = {
        let dispatcher = state.dispatcher();
        Callback::from(move |(f, v)| dispatcher.dispatch(Action::Input(f, v)))
    };
    let on_option = {
        let dispatcher = state.dispatcher();
        Callback::from(move |o| dispatcher.dispatch(Action::SetOption(o)))
    };
    // A press on Pay blurs a field first; validating on that blur would
    // insert the message and move the button from under the finger, so the
    // click would miss. The submit validates instead.
    let pressing_pay = use_mut_ref(|| false);
    let on_press = {
        let pressing_pay = pressing_pay.clone();
        Callback::from(move |_| *pressing_pay.borrow_mut() = true)
    };
    let on_blur = {
        let dispatcher = state.dispatcher();
        let pressing_pay = pressing_pay.clone();
        Callback::from(move |f| {
            if !pressing_pay.replace(false) {
                dispatcher.dispatch(Action::Blur(f))
            }
        })
    };
    let on_submit = {
        let state = state.clone();
        let in_flight = in_flight.clone();
        let backend = props.backend.clone();
        let pressing_pay = pressing_pay.clone();
        Callback::from(move |_| {
            pressing_pay.replace(false);
            if *in_flight.borrow() {
                return;
            }
            state.dispatch(Action::Submit);
            match state.payable() {
                Some(request) => {
                    *in_flight.borrow_mut() = true;
                    let dispatcher = state.dispatcher();
                    let backend = backend.clone();
                    let in_flight = in_flight.clone();
                    spawn_local(async move {
                        let result = backend.pay(&request).await;
                        drop(request);
                        if result.is_err() {
                            load_pack().await;
                        }
                        *in_flight.borrow_mut() = false;
                        if let Err(e) = &result {
                            focus_after_render(first_server_field(e).map_or("error", Field::id));
                        }
                        dispatcher.dispatch(Action::PayDone(result));
                    });
                }
                None => {
                    if let Some(f) = state.first_invalid() {
                        focus_after_render(f.id());
                    }
                }
            }
        })
    };
    let on_wallet = {
        let state = state.clone();
        let in_flight = in_flight.clone();
        let backend = props.backend.clone();
        Callback::from(move |_| {
            if *in_flight.borrow() || !state.is_open() || state.busy != Busy::Idle {
                return;
            }
            state.dispatch(Action::SubmitWallet);
            *in_flight.borrow_mut() = true;
            let dispatcher = state.dispatcher();
            let backend = backend.clone();
            let in_flight = in_flight.clone();
            spawn_local(async move {
                let result = backend.pay(&crate::api::PayRequest::NetcashWallet).await;
                if result.is_err() {
                    load_pack().await;
                }
                *in_flight.borrow_mut() = false;
                dispatcher.dispatch(Action::PayDone(result));
            });
        })
    };
    let on_cancel = {
        let state = state.clone();
        let in_flight = in_flight.clone();
        let backend = props.backend.clone();
        Callback::from(move |_| {
            if *in_flight.borrow() || state.busy != Busy::Idle {
                return;
            }
            *in_flight.borrow_mut() = true;
            state.dispatch(Action::CancelStart);
            let dispatcher = state.dispatcher();
            let backend = backend.clone();
            let in_flight = in_flight.clone();
            spawn_local(async move {
                match backend.cancel().await {
                    // Stay busy: the browser is leaving.
                    Ok(next) => backend.navigate(&next),
                    Err(e) => match &e.next {
                        Some(next) => backend.navigate(next),
                        None => {
                            load_pack().await;
                            *in_flight.borrow_mut() = false;
                            dispatcher.dispatch(Action::CancelFailed(e));
                        }
                    },
                }
            });
        })
    };

    let Some(session) = &state.session else {
        return match &state.phase {
            Phase::LoadFailed(code) => {
                let mut body = vec![error_banner(error_message_for(lang, None, code))];
                if code != "not_found" {
                    let mut retry = tag(
                        "button",
                        &[("type", "button"), ("id", "retry-button"), ("class", "button button-secondary")],
                    );
                    let dispatcher = state.dispatcher();
                    listen(&mut retry, onclick::Wrapper::new(Callback::from(move |_: MouseEvent| dispatcher.dispatch(Action::Reload))));
                    retry.add_child(text(t.retry));
                    body.push(retry.into());
                }
                el(
                    "div",
                    &[("class", "page")],
                    vec![
                        el("header", &[("class", "topbar")], vec![el("span", &[("class", "brand")], vec![text("Kessai Link")])]),
                        el("div", &[("class", "card")], vec![el("div", &[("class", "card-body")], body)]),
                    ],
                )
            }
            _ => el("p", &[("class", "loading"), ("id", "loading")], vec![text(t.loading)]),
        };
    };
    let mut body = vec![];
    match &state.phase {
        Phase::Open => {
            if let Some(code) = &state.error {
                body.push(error_banner(error_message_for(lang, state.selected.as_ref(), code)));
            }
            if !session.methods.iter().any(|m| m.available) {
                body.push(el("p", &[("class", "notice"), ("id", "no-methods")], vec![text(t.no_methods)]));
            } else {
                if session.methods.len() > 1 {
                    body.push(method_picker(&session.methods, state.selected.as_ref(), lang, state.busy != Busy::Idle, &on_select));
                }
                let callbacks = FormCallbacks {
                    on_input,
                    on_blur,
                    on_option,
                    on_press,
                    on_submit,
                    on_wallet,
                };
                body.push(
                    state
                        .selected
                        .as_ref()
                        .and_then(|m| method_form(m, &state, session.amount, &callbacks))
                        .unwrap_or_else(|| el("p", &[("class", "notice"), ("id", "method-notice")], vec![text(t.no_form)])),
                );
            }
            body.push(back_button(BackButton {
                label: if state.failed { t.back } else { t.cancel },
                href: None,
                busy: state.busy == Busy::Cancelling,
                busy_label: t.processing,
                disabled: matches!(state.busy, Busy::Paying | Busy::Redirecting),
                primary: false,
                on_click: on_cancel,
            }));
        }
        Phase::Processing | Phase::Loading | Phase::LoadFailed(_) => body.push(checking(lang)),
        Phase::Final(fin) => {
            body.push(outcome(fin, lang));
            body.push(back_button(BackButton {
                label: if fin.auto_return { t.back_now } else { t.back },
                href: fin.next.clone(),
                busy: state.busy == Busy::Cancelling,
                busy_label: t.processing,
                disabled: false,
                primary: true,
                on_click: on_cancel,
            }));
        }
    }

    el(
        "div",
        &[("class", "page")],
        vec![
            el(
                "header",
                &[("class", "topbar")],
                vec![el("span", &[("class", "brand")], vec![text("Kessai Link")]), lang_switch(lang, on_lang)],
            ),
            el(
                "div",
                &[("class", "card")],
                vec![
                    summary(session, lang, state.is_open().then(|| state.seconds_left())),
                    el("div", &[("class", "card-body")], body),
                ],
            ),
            el(
                "p",
                &[("class", "secure")],
                vec![el("span", &[("class", "lock"), ("aria-hidden", "true")], vec![]), text(t.secured)],
            ),
        ],
    )
}
