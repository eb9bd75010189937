//! Loads the session and hands it to the checkout view.

use std::rc::Rc;

use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::BackendRef;
use crate::components::checkout::Checkout;
use crate::components::error_banner::error_banner;
use crate::i18n::{error_message, Lang};
use crate::model::{ApiError, Session};

#[derive(Properties, PartialEq, Clone)]
pub struct AppProps {
    pub backend: BackendRef,
    pub lang: Lang,
}

#[derive(PartialEq)]
enum Load {
    Loading,
    Ready(Rc<Session>),
    Failed(ApiError),
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let load = use_state(|| Load::Loading);
    let attempt = use_state(|| 0u32);
    {
        let load = load.clone();
        let backend = props.backend.clone();
        use_effect_with(*attempt, move |_| {
            spawn_local(async move {
                load.set(match backend.session().await {
                    Ok(session) => Load::Ready(Rc::new(session)),
                    Err(e) => Load::Failed(e),
                });
            });
        });
    }
    let t = props.lang.texts();
    match &*load {
        Load::Loading => html! { <p class="loading">{ t.loading }</p> },
        Load::Ready(session) => html! {
            <Checkout session={session.clone()} backend={props.backend.clone()} lang={props.lang} />
        },
        Load::Failed(e) => {
            let retry = {
                let load = load.clone();
                let attempt = attempt.clone();
                Callback::from(move |_: MouseEvent| {
                    load.set(Load::Loading);
                    attempt.set(*attempt + 1);
                })
            };
            html! {
                <div class="page">
                    <header class="topbar"><span class="brand">{ "Kessai Link" }</span></header>
                    <div class="card">
                        <div class="card-body">
                            { error_banner(error_message(props.lang, &e.code)) }
                            if e.code != "not_found" {
                                <button type="button" id="retry-button" class="button button-secondary" onclick={retry}>{ t.retry }</button>
                            }
                        </div>
                    </div>
                </div>
            }
        }
    }
}
