//! The screens: sign-in (with the second factor), the payment list and
//! search, the detail with its timeline and actions (each confirmed), the
//! webhook log, settings (with users and key rotation), the audit log.

use serde_json::{json, Value};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::api::{self, call};
use crate::i18n::{self, t, Lang};

#[derive(Clone, PartialEq, Debug)]
pub enum Route {
    Payments(String),
    Detail(String),
    Webhooks(String),
    Settings,
    Audit,
    Subscriptions(String),
    Subscription(String),
}

/// The view of the URL's fragment.
pub fn parse_route(hash: &str) -> Route {
    let h = hash.trim_start_matches('#').trim_start_matches('/');
    let (path, q) = h.split_once('?').unwrap_or((h, ""));
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        ["payments", id] => Route::Detail((*id).to_string()),
        ["webhooks"] => Route::Webhooks(q.to_string()),
        ["subscriptions"] => Route::Subscriptions(q.to_string()),
        ["subscriptions", id] => Route::Subscription((*id).to_string()),
        ["settings"] => Route::Settings,
        ["audit"] => Route::Audit,
        _ => Route::Payments(q.to_string()),
    }
}

fn current_route() -> Route {
    parse_route(&web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default())
}

fn go(hash: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(hash);
    }
}

fn rank(role: &str) -> u8 {
    match role {
        "administrator" => 2,
        "operator" => 1,
        _ => 0,
    }
}

fn can(me: &Value, role: &str) -> bool {
    rank(me["role"].as_str().unwrap_or("")) >= rank(role)
}

fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

fn text_setter(s: &UseStateHandle<String>) -> Callback<InputEvent> {
    let s = s.clone();
    Callback::from(move |e: InputEvent| s.set(input_value(&e)))
}

fn get<'a>(pairs: &'a [(String, String)], k: &str) -> &'a str {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("")
}

#[function_component(App)]
pub fn app() -> Html {
    let lang = use_state(i18n::initial);
    let me = use_state(|| None::<Value>);
    let checked = use_state(|| false);
    let route = use_state(current_route);
    {
        let route = route.clone();
        use_effect_with((), move |_| {
            let cb = Closure::<dyn Fn()>::new(move || route.set(current_route()));
            if let Some(w) = web_sys::window() {
                let _ = w.add_event_listener_with_callback("hashchange", cb.as_ref().unchecked_ref());
            }
            cb.forget();
        });
    }
    {
        let (me, checked) = (me.clone(), checked.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("GET", "me", None, None).await;
                if a.ok() {
                    me.set(Some(a.json));
                }
                checked.set(true);
            });
        });
    }
    use_effect_with(*lang, |l| i18n::apply(*l));
    // A new view: focus its heading, so a screen reader says where we are.
    use_effect_with((*route).clone(), |_| {
        if let Some(h) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector("main h2").ok().flatten())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = h.focus();
        }
    });
    let l = *lang;
    let switch = {
        let lang = lang.clone();
        Callback::from(move |_| lang.set(lang.other()))
    };
    let lang_button = html! {
        <button type="button" class="lang" lang={l.other().code()} aria-label={t(l, "switch_lang_label")} onclick={switch}>{ t(l, "switch_lang") }</button>
    };
    if !*checked {
        return html! { <main class="admin"><p class="loading" role="status">{ t(l, "loading") }</p></main> };
    }
    let Some(session) = (*me).clone() else {
        let on_done = {
            let me = me.clone();
            Callback::from(move |v: Value| me.set(Some(v)))
        };
        return html! {
            <>
                <header class="top"><h1>{ t(l, "title") }</h1>{ lang_button }</header>
                <main class="admin" id="main"><SignIn lang={l} {on_done} /></main>
            </>
        };
    };
    let sign_out = {
        let me = me.clone();
        Callback::from(move |_| {
            let me = me.clone();
            wasm_bindgen_futures::spawn_local(async move {
                call("POST", "logout", Some(&json!({})), None).await;
                me.set(None);
            });
        })
    };
    let r = (*route).clone();
    let link = |hash: &str, key: &str, current: bool| {
        html! { <li><a href={hash.to_string()} aria-current={current.then_some("page")}>{ t(l, key) }</a></li> }
    };
    let role = session["role"].as_str().unwrap_or("viewer").to_string();
    html! {
        <>
            <header class="top">
                <h1>{ t(l, "title") }</h1>
                <p class="who">{ format!("{} {} / {} ({})", t(l, "signed_in_as"), session["merchant_id"].as_str().unwrap_or(""),
                    session["user_id"].as_str().unwrap_or(""), t(l, &format!("role_{role}"))) }</p>
                { lang_button }
                <button type="button" class="sign-out" onclick={sign_out}>{ t(l, "sign_out") }</button>
            </header>
            <nav aria-label={t(l, "nav")}>
                <ul>
                    { link("#/payments", "payments", matches!(r, Route::Payments(_) | Route::Detail(_))) }
                    { link("#/subscriptions", "subscriptions", matches!(r, Route::Subscriptions(_) | Route::Subscription(_))) }
                    { link("#/webhooks", "webhooks", matches!(r, Route::Webhooks(_))) }
                    { link("#/settings", "settings", r == Route::Settings) }
                    { link("#/audit", "audit", r == Route::Audit) }
                </ul>
            </nav>
            <main class="admin" id="main">
                { match r {
                    Route::Payments(q) => html! { <Payments lang={l} query={q} /> },
                    Route::Detail(id) => html! { <Detail lang={l} id={id} me={session.clone()} /> },
                    Route::Webhooks(q) => html! { <Webhooks lang={l} query={q} me={session.clone()} /> },
                    Route::Settings => html! { <Settings lang={l} me={session.clone()} /> },
                    Route::Audit => html! { <Audit lang={l} me={session.clone()} /> },
                    Route::Subscriptions(q) => html! { <Subscriptions lang={l} query={q} /> },
                    Route::Subscription(id) => html! { <SubscriptionDetail lang={l} id={id} me={session.clone()} /> },
                } }
            </main>
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct SignInProps {
    pub lang: Lang,
    pub on_done: Callback<Value>,
}

#[function_component(SignIn)]
fn sign_in(p: &SignInProps) -> Html {
    let l = p.lang;
    let merchant = use_state(String::new);
    let service = use_state(|| "001".to_string());
    let user = use_state(|| "admin".to_string());
    let password = use_state(String::new);
    let code = use_state(String::new);
    let need_code = use_state(|| false);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let submit = {
        let (merchant, service, user, password, code, need_code, error, busy) =
            (merchant.clone(), service.clone(), user.clone(), password.clone(), code.clone(), need_code.clone(), error.clone(), busy.clone());
        let on_done = p.on_done.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut body = json!({"merchant_id": *merchant, "service_id": *service, "user_id": *user, "password": *password});
            let c = code.trim().to_string();
            if !c.is_empty() {
                if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) {
                    body["totp_code"] = c.into();
                } else {
                    body["recovery_code"] = c.into();
                }
            }
            let (need_code, error, busy, on_done) = (need_code.clone(), error.clone(), busy.clone(), on_done.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("POST", "login", Some(&body), None).await;
                busy.set(false);
                if a.ok() {
                    on_done.emit(a.json);
                } else if a.code() == "second_factor_required" {
                    need_code.set(true);
                    error.set(Some(t(l, "second_factor_needed")));
                } else {
                    error.set(Some(a.message()));
                }
            });
        })
    };
    html! {
        <form class="sign-in card" onsubmit={submit} aria-labelledby="sign-in-title">
            <h2 id="sign-in-title">{ t(l, "sign_in") }</h2>
            <label for="merchant_id">{ t(l, "merchant_id") }</label>
            <input id="merchant_id" name="merchant_id" autocomplete="organization" required=true value={(*merchant).clone()} oninput={text_setter(&merchant)} />
            <label for="service_id">{ t(l, "service_id") }</label>
            <input id="service_id" name="service_id" value={(*service).clone()} oninput={text_setter(&service)} />
            <label for="user_id">{ t(l, "user_id") }</label>
            <input id="user_id" name="user_id" autocomplete="username" required=true value={(*user).clone()} oninput={text_setter(&user)} />
            <label for="password">{ t(l, "password") }</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required=true value={(*password).clone()} oninput={text_setter(&password)} />
            if *need_code {
                <label for="totp">{ format!("{} ({})", t(l, "totp_code"), t(l, "recovery_hint")) }</label>
                <input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" required=true value={(*code).clone()} oninput={text_setter(&code)} />
            }
            if let Some(e) = &*error {
                <p class="error" role="alert">{ e.clone() }</p>
            }
            <button type="submit" class="primary" disabled={*busy}>{ t(l, "sign_in") }</button>
        </form>
    }
}

const FILTERS: &[&str] = &["order_id", "tracking_id", "cust_code", "from", "to", "method", "status", "amount_min", "amount_max"];

#[derive(Properties, PartialEq)]
pub struct PaymentsProps {
    pub lang: Lang,
    pub query: String,
}

#[function_component(Payments)]
fn payments(p: &PaymentsProps) -> Html {
    let l = p.lang;
    let pairs = api::parse_query(&p.query);
    let form = use_state(|| pairs.clone());
    let result = use_state(|| None::<api::Answer>);
    {
        let (form, result) = (form.clone(), result.clone());
        use_effect_with(p.query.clone(), move |q| {
            form.set(api::parse_query(q));
            result.set(None);
            let q = q.clone();
            wasm_bindgen_futures::spawn_local(async move {
                result.set(Some(call("GET", &format!("payments?{q}"), None, None).await));
            });
        });
    }
    let set = |name: &'static str| {
        let form = form.clone();
        Callback::from(move |v: String| {
            let mut f: Vec<(String, String)> = (*form).clone().into_iter().filter(|(k, _)| k != name && k != "cursor").collect();
            f.push((name.to_string(), v));
            form.set(f);
        })
    };
    let field = |name: &'static str, kind: &'static str| {
        let s = set(name);
        let id = format!("f-{name}");
        html! {
            <div class="field">
                <label for={id.clone()}>{ t(l, name) }</label>
                <input id={id} name={name} type={kind} value={get(&form, name).to_string()} inputmode={(kind == "number").then_some("numeric")}
                    oninput={Callback::from(move |e: InputEvent| s.emit(input_value(&e)))} />
            </div>
        }
    };
    let select = |name: &'static str, options: &[&str], label: &dyn Fn(&str) -> String| {
        let s = set(name);
        let id = format!("f-{name}");
        let current = get(&form, name).to_string();
        html! {
            <div class="field">
                <label for={id.clone()}>{ t(l, name) }</label>
                <select id={id} name={name} onchange={Callback::from(move |e: Event| s.emit(e.target_unchecked_into::<HtmlSelectElement>().value()))}>
                    <option value="" selected={current.is_empty()}>{ t(l, "any") }</option>
                    { for options.iter().map(|o| html! { <option value={o.to_string()} selected={current == *o}>{ label(o) }</option> }) }
                </select>
            </div>
        }
    };
    let submit = {
        let form = form.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let q = api::query(&FILTERS.iter().map(|k| (*k, get(&form, k).to_string())).collect::<Vec<_>>());
            go(&format!("#/payments?{q}"));
        })
    };
    let base_q = api::query(&FILTERS.iter().map(|k| (*k, get(&pairs, k).to_string())).collect::<Vec<_>>());
    let results = match &*result {
        None => html! { <p class="loading" role="status">{ t(l, "loading") }</p> },
        Some(a) if !a.ok() => html! { <p class="error" role="alert">{ a.message() }</p> },
        Some(a) => {
            let data = a.json["data"].as_array().cloned().unwrap_or_default();
            let next = a.json["next_cursor"].as_str().map(|c| format!("#/payments?{}", api::query(&[("cursor", c.to_string())]) + if base_q.is_empty() { "" } else { "&" } + &base_q));
            html! {
                <>
                    <p class="count" role="status">{ if l == Lang::Ja { format!("{}{}", a.json["count"], t(l, "results")) } else { format!("{}{}", a.json["count"], t(l, "results")) } }</p>
                    if data.is_empty() {
                        <p>{ t(l, "none_found") }</p>
                    } else {
                        <div class="table-wrap"><table class="payments">
                            <caption class="sr-only">{ t(l, "payments") }</caption>
                            <thead><tr>
                                <th scope="col">{ t(l, "order_id") }</th><th scope="col">{ t(l, "status") }</th><th scope="col">{ t(l, "method") }</th>
                                <th scope="col" class="num">{ t(l, "amount") }</th><th scope="col">{ t(l, "created") }</th><th scope="col">{ t(l, "tracking_id") }</th>
                            </tr></thead>
                            <tbody>
                            { for data.iter().map(|r| {
                                let id = r["tracking_id"].as_str().unwrap_or("").to_string();
                                html! { <tr>
                                    <td><a href={format!("#/payments/{id}")}>{ r["order_id"].as_str().unwrap_or("") }</a></td>
                                    <td>{ i18n::status(l, r["status"].as_str().unwrap_or("")) }</td>
                                    <td>{ r["method"].as_str().map(|m| i18n::method(l, m)).unwrap_or_default() }</td>
                                    <td class="num">{ i18n::yen(r["amount"].as_i64().unwrap_or(0)) }</td>
                                    <td>{ i18n::jst(r["created_at"].as_i64().unwrap_or(0)) }</td>
                                    <td class="mono">{ id }</td>
                                </tr> }
                            }) }
                            </tbody>
                        </table></div>
                    }
                    <p class="pager">
                        if get(&pairs, "cursor") != "" { <a href={format!("#/payments?{base_q}")}>{ t(l, "first_page") }</a> }
                        if let Some(n) = next { <a href={n} rel="next">{ t(l, "next_page") }</a> }
                    </p>
                </>
            }
        }
    };
    html! {
        <section aria-labelledby="payments-title">
            <h2 id="payments-title" tabindex="-1">{ t(l, "payments") }</h2>
            <form class="search card" onsubmit={submit} role="search">
                { field("order_id", "text") }{ field("tracking_id", "text") }{ field("cust_code", "text") }
                { field("from", "date") }{ field("to", "date") }
                { select("method", i18n::METHOD_CODES, &|m| i18n::method(l, m)) }
                { select("status", i18n::STATUS_CODES, &|s| i18n::status(l, s)) }
                { field("amount_min", "number") }{ field("amount_max", "number") }
                <div class="buttons">
                    <button type="submit" class="primary">{ t(l, "search") }</button>
                    <a href="#/payments">{ t(l, "clear") }</a>
                    <a href={format!("/admin/api/payments.csv?{base_q}")} download="payments.csv">{ t(l, "csv_utf8") }</a>
                    <a href={format!("/admin/api/payments.csv?{base_q}{}encoding=shift_jis", if base_q.is_empty() { "" } else { "&" })} download="payments-sjis.csv">{ t(l, "csv_sjis") }</a>
                </div>
            </form>
            { results }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct DetailProps {
    pub lang: Lang,
    pub id: String,
    pub me: Value,
}

/// An open confirmation: the action, the amount typed, its key.
#[derive(Clone, PartialEq)]
struct Pending {
    action: String,
    amount: String,
    key: String,
    partial: bool,
    max: Option<i64>,
}

fn describe(l: Lang, e: &Value) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
    match e["kind"].as_str().unwrap_or("") {
        "state" => format!("{} — {}", i18n::status(l, &s("status")), s("note")),
        "operation" => format!(
            "{} {} — {}{}",
            s("operation"),
            i18n::yen(e["amount"].as_i64().unwrap_or(0)),
            s("state"),
            e["error"].as_str().map(|x| format!(" ({x})")).unwrap_or_default()
        ),
        "notification" => format!("{} ({}) — {}", s("type"), s("event_id"), s("state")),
        "delivery" => format!(
            "{} → {} {}{}",
            s("type"),
            e["http_status"].as_i64().map(|c| c.to_string()).unwrap_or_else(|| "—".into()),
            s("url"),
            if e["manual"].as_bool() == Some(true) { " (manual)" } else { "" }
        ),
        "batch_refund" => format!(
            "{} — {} {} / {} {}",
            i18n::yen(e["amount"].as_i64().unwrap_or(0)),
            t(l, "batch_closes"),
            s("batch_closes"),
            t(l, "payout_date"),
            s("payout_date")
        ),
        _ => e.to_string(),
    }
}

#[function_component(Detail)]
fn detail(p: &DetailProps) -> Html {
    let l = p.lang;
    let data = use_state(|| None::<api::Answer>);
    let reload = use_state(|| 0u32);
    let pending = use_state(|| None::<Pending>);
    let message = use_state(|| None::<(bool, String)>);
    {
        let data = data.clone();
        use_effect_with((p.id.clone(), *reload), move |(id, _)| {
            let id = id.clone();
            wasm_bindgen_futures::spawn_local(async move {
                data.set(Some(call("GET", &format!("payments/{id}"), None, None).await));
            });
        });
    }
    let operator = can(&p.me, "operator");
    let body = match &*data {
        None => return html! { <p class="loading" role="status">{ t(l, "loading") }</p> },
        Some(a) if !a.ok() => return html! { <><p class="error" role="alert">{ a.message() }</p><a href="#/payments">{ t(l, "back") }</a></> },
        Some(a) => a.json.clone(),
    };
    let pay = &body["payment"];
    let actions = body["actions"].as_array().cloned().unwrap_or_default();
    let open = |a: &Value| {
        let pending = pending.clone();
        let message = message.clone();
        let action = a["action"].as_str().unwrap_or("").to_string();
        let max = a["max_amount"].as_i64();
        let partial = a["partial"].as_bool().unwrap_or(false);
        Callback::from(move |_| {
            message.set(None);
            pending.set(Some(Pending { action: action.clone(), amount: max.map(|m| m.to_string()).unwrap_or_default(), key: api::new_key(), partial, max }));
        })
    };
    let dialog = (*pending).clone().map(|pd| {
        let amount_input = {
            let pending = pending.clone();
            let pd = pd.clone();
            Callback::from(move |e: InputEvent| pending.set(Some(Pending { amount: input_value(&e), ..pd.clone() })))
        };
        let close = {
            let pending = pending.clone();
            Callback::from(move |_| pending.set(None))
        };
        let confirm = {
            let (pending, message, reload) = (pending.clone(), message.clone(), reload.clone());
            let id = p.id.clone();
            let pd = pd.clone();
            Callback::from(move |e: SubmitEvent| {
                e.prevent_default();
                let (pending, message, reload, id, pd) = (pending.clone(), message.clone(), reload.clone(), id.clone(), pd.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let mut body = json!({});
                    if let Ok(n) = pd.amount.trim().parse::<i64>() {
                        if pd.max.is_some() {
                            body["amount"] = n.into();
                        }
                    } else if !pd.amount.trim().is_empty() {
                        message.set(Some((false, t(l, "amount"))));
                        return;
                    }
                    let path = pd.action.replace('_', "-");
                    let a = call("POST", &format!("payments/{id}/{path}"), Some(&body), Some(&pd.key)).await;
                    pending.set(None);
                    message.set(Some(if a.status == 202 { (true, t(l, "reconciling_note")) } else if a.ok() { (true, t(l, "done")) } else { (false, a.message()) }));
                    reload.set(*reload + 1);
                });
            })
        };
        let label = t(l, &format!("a_{}", pd.action));
        html! {
            <form class="dialog card" role="dialog" aria-modal="false" aria-labelledby="confirm-title" onsubmit={confirm}>
                <h3 id="confirm-title">{ format!("{}: {}", t(l, "confirm_title"), label) }</h3>
                <p>{ format!("{} {}", pay["order_id"].as_str().unwrap_or(""), pd.max.map(|m| format!("({} {})", t(l, "max"), i18n::yen(m))).unwrap_or_default()) }</p>
                if pd.max.is_some() {
                    <label for="confirm-amount">{ t(l, "amount") }</label>
                    <input id="confirm-amount" type="number" inputmode="numeric" min="1" max={pd.max.map(|m| m.to_string())} readonly={!pd.partial}
                        value={pd.amount.clone()} oninput={amount_input} autofocus=true />
                }
                <div class="buttons">
                    <button type="submit" class="primary danger">{ format!("{} ({})", t(l, "confirm"), label) }</button>
                    <button type="button" onclick={close}>{ t(l, "cancel_dialog") }</button>
                </div>
            </form>
        }
    });
    let amount = |k: &str| i18n::yen(pay[k].as_i64().unwrap_or(0));
    html! {
        <section aria-labelledby="detail-title">
            <p><a href="#/payments">{ t(l, "back") }</a></p>
            <h2 id="detail-title" tabindex="-1">{ format!("{}: {}", t(l, "detail"), pay["order_id"].as_str().unwrap_or("")) }</h2>
            <dl class="facts card">
                <dt>{ t(l, "status") }</dt><dd class="status">{ i18n::status(l, pay["status"].as_str().unwrap_or("")) }</dd>
                <dt>{ t(l, "tracking_id") }</dt><dd class="mono">{ pay["tracking_id"].as_str().unwrap_or("") }</dd>
                <dt>{ t(l, "method") }</dt><dd>{ pay["method"].as_str().map(|m| i18n::method(l, m)).unwrap_or_default() }</dd>
                <dt>{ t(l, "instrument") }</dt><dd>{ pay["instrument"].as_str().unwrap_or("") }</dd>
                <dt>{ t(l, "item_name") }</dt><dd>{ pay["item_name"].as_str().unwrap_or("") }</dd>
                <dt>{ t(l, "cust_code") }</dt><dd>{ pay["cust_code"].as_str().unwrap_or("") }</dd>
                <dt>{ t(l, "amount") }</dt><dd>{ amount("amount") }</dd>
                <dt>{ t(l, "captured") }</dt><dd class="captured">{ amount("captured") }</dd>
                <dt>{ t(l, "refunded") }</dt><dd class="refunded">{ amount("refunded") }</dd>
                <dt>{ t(l, "refundable") }</dt><dd>{ i18n::yen(body["refundable"].as_i64().unwrap_or(0)) }</dd>
            </dl>
            <h3>{ t(l, "actions") }</h3>
            if let Some((ok, m)) = &*message {
                <p class={if *ok { "notice" } else { "error" }} role={if *ok { "status" } else { "alert" }}>{ m.clone() }</p>
            }
            if !operator {
                <p class="notice">{ t(l, "viewer_cannot") }</p>
            }
            <ul class="actions">
            { for actions.iter().map(|a| {
                let name = a["action"].as_str().unwrap_or("").to_string();
                let label = t(l, &format!("a_{name}"));
                let dates = ["deadline", "batch_closes", "payout_date"].iter()
                    .filter_map(|k| a[*k].as_str().map(|d| format!("{} {d}", t(l, k)))).collect::<Vec<_>>().join(" / ");
                if a["allowed"].as_bool() == Some(true) {
                    html! { <li>
                        if operator { <button type="button" class="action" data-action={name.clone()} onclick={open(a)}>{ label.clone() }</button> }
                        else { <span>{ label.clone() }</span> }
                        <span class="limit">{ a["max_amount"].as_i64().map(|m| format!(" {} {}", t(l, "max"), i18n::yen(m))).unwrap_or_default() }
                            { if dates.is_empty() { String::new() } else { format!(" ({dates})") } }</span>
                    </li> }
                } else {
                    html! { <li class="refused"><span>{ format!("{label}: ") }</span><span class="reason">{ i18n::refusal(l, a["code"].as_str().unwrap_or(""), a["reason"].as_str().unwrap_or("")) }</span>
                        { if dates.is_empty() { String::new() } else { format!(" ({dates})") } }</li> }
                }
            }) }
            </ul>
            { dialog.unwrap_or_default() }
            <h3>{ t(l, "timeline") }</h3>
            <ol class="timeline">
            { for body["timeline"].as_array().cloned().unwrap_or_default().iter().map(|e| {
                let kind = e["kind"].as_str().unwrap_or("").to_string();
                html! { <li class={format!("t-{kind}")}><time>{ i18n::jst(e["at"].as_i64().unwrap_or(0)) }</time>{ " " }<strong>{ t(l, &format!("k_{kind}")) }</strong>{ " " }{ describe(l, e) }</li> }
            }) }
            </ol>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct WebhooksProps {
    pub lang: Lang,
    pub query: String,
    pub me: Value,
}

const WEBHOOK_FILTERS: &[&str] = &["event_id", "type", "status", "from", "to"];

#[function_component(Webhooks)]
fn webhooks(p: &WebhooksProps) -> Html {
    let l = p.lang;
    let pairs = api::parse_query(&p.query);
    let result = use_state(|| None::<api::Answer>);
    let message = use_state(|| None::<String>);
    let reload = use_state(|| 0u32);
    let form = use_state(|| pairs.clone());
    {
        let (result, form) = (result.clone(), form.clone());
        use_effect_with((p.query.clone(), *reload), move |(q, _)| {
            form.set(api::parse_query(q));
            let q = q.clone();
            wasm_bindgen_futures::spawn_local(async move {
                result.set(Some(call("GET", &format!("webhooks?{q}"), None, None).await));
            });
        });
    }
    let operator = can(&p.me, "operator");
    let field = |name: &'static str, kind: &'static str| {
        let form = form.clone();
        let id = format!("w-{name}");
        html! { <div class="field"><label for={id.clone()}>{ t(l, name) }</label>
            <input id={id} name={name} type={kind} value={get(&form, name).to_string()}
                oninput={Callback::from(move |e: InputEvent| {
                    let mut f: Vec<(String, String)> = (*form).clone().into_iter().filter(|(k, _)| k != name && k != "cursor").collect();
                    f.push((name.to_string(), input_value(&e)));
                    form.set(f);
                })} /></div> }
    };
    let submit = {
        let form = form.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            go(&format!("#/webhooks?{}", api::query(&WEBHOOK_FILTERS.iter().map(|k| (*k, get(&form, k).to_string())).collect::<Vec<_>>())));
        })
    };
    let resend_range = {
        let (form, message, reload) = (form.clone(), message.clone(), reload.clone());
        Callback::from(move |_| {
            let (from, to) = (get(&form, "from").to_string(), get(&form, "to").to_string());
            let (message, reload) = (message.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let (from, to) = (if from.is_empty() { "2000-01-01".to_string() } else { from }, if to.is_empty() { "2100-12-31".to_string() } else { to });
                let a = call("POST", "webhooks/resend-failed", Some(&json!({"from": from, "to": to})), None).await;
                message.set(Some(if a.ok() { format!("{}: {}", t(l, "sent"), a.json["sent"]) } else { a.message() }));
                reload.set(*reload + 1);
            });
        })
    };
    let list = match &*result {
        None => html! { <p class="loading" role="status">{ t(l, "loading") }</p> },
        Some(a) if !a.ok() => html! { <p class="error" role="alert">{ a.message() }</p> },
        Some(a) => {
            let data = a.json["data"].as_array().cloned().unwrap_or_default();
            let next = a.json["next_cursor"].as_str().map(|c| {
                let mut q: Vec<(&str, String)> = WEBHOOK_FILTERS.iter().map(|k| (*k, get(&pairs, k).to_string())).collect();
                q.push(("cursor", c.to_string()));
                format!("#/webhooks?{}", api::query(&q))
            });
            html! { <>
                <ul class="deliveries">
                { for data.iter().map(|e| {
                    let (pid, eid) = (e["payment_id"].as_str().unwrap_or("").to_string(), e["event_id"].as_str().unwrap_or("").to_string());
                    let resend = {
                        let (message, reload, pid, eid) = (message.clone(), reload.clone(), pid.clone(), eid.clone());
                        Callback::from(move |_| {
                            let (message, reload, pid, eid) = (message.clone(), reload.clone(), pid.clone(), eid.clone());
                            wasm_bindgen_futures::spawn_local(async move {
                                let a = call("POST", "webhooks/resend", Some(&json!({"payment_id": pid, "event_id": eid})), None).await;
                                message.set(Some(if a.ok() { format!("{}: {eid}", t(l, "sent")) } else { a.message() }));
                                reload.set(*reload + 1);
                            });
                        })
                    };
                    html! { <li class="delivery card">
                        <p><strong>{ e["type"].as_str().unwrap_or("") }</strong>{ " " }<span class="state">{ e["state"].as_str().unwrap_or("") }</span>
                            { " " }<a href={format!("#/payments/{pid}")}>{ e["order_id"].as_str().unwrap_or("") }</a></p>
                        <p class="mono">{ format!("{} {}", i18n::jst(e["created_at"].as_i64().unwrap_or(0)), eid) }</p>
                        <ol class="attempts" aria-label={t(l, "attempts")}>
                        { for e["attempts"].as_array().cloned().unwrap_or_default().iter().map(|at| html! {
                            <li>{ format!("{} → {} ({} ms){}", i18n::jst(at["at"].as_i64().unwrap_or(0)), at["status"].as_i64().map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
                                at["latency_ms"], if at["manual"].as_bool() == Some(true) { " manual" } else { "" }) }</li>
                        }) }
                        </ol>
                        if operator { <button type="button" onclick={resend}>{ t(l, "resend") }</button> }
                    </li> }
                }) }
                </ul>
                if let Some(n) = next { <p class="pager"><a href={n} rel="next">{ t(l, "next_page") }</a></p> }
            </> }
        }
    };
    html! {
        <section aria-labelledby="webhooks-title">
            <h2 id="webhooks-title" tabindex="-1">{ t(l, "webhooks") }</h2>
            <form class="search card" onsubmit={submit} role="search">
                { field("event_id", "text") }{ field("type", "text") }{ field("status", "text") }{ field("from", "date") }{ field("to", "date") }
                <div class="buttons">
                    <button type="submit" class="primary">{ t(l, "search") }</button>
                    if operator { <button type="button" onclick={resend_range}>{ t(l, "resend_failed") }</button> }
                </div>
            </form>
            if let Some(m) = &*message { <p class="notice" role="status">{ m.clone() }</p> }
            { list }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    pub lang: Lang,
    pub me: Value,
}

#[function_component(Settings)]
fn settings(p: &SettingsProps) -> Html {
    let l = p.lang;
    let data = use_state(|| None::<Value>);
    let users = use_state(|| None::<Value>);
    let url = use_state(String::new);
    let origins = use_state(String::new);
    let methods = use_state(Vec::<String>::new);
    let message = use_state(|| None::<(bool, String)>);
    let secret = use_state(|| None::<String>);
    let new_user = use_state(String::new);
    let new_role = use_state(|| "viewer".to_string());
    let reload = use_state(|| 0u32);
    let admin = can(&p.me, "administrator");
    {
        let (data, users, url, origins, methods) = (data.clone(), users.clone(), url.clone(), origins.clone(), methods.clone());
        use_effect_with(*reload, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("GET", "settings", None, None).await;
                if a.ok() {
                    url.set(a.json["webhook_url"].as_str().unwrap_or("").to_string());
                    origins.set(a.json["allowed_origins"].as_array().map(|o| o.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join("\n")).unwrap_or_default());
                    methods.set(a.json["enabled_methods"].as_array().map(|o| o.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default());
                    data.set(Some(a.json));
                }
                if admin {
                    let u = call("GET", "users", None, None).await;
                    if u.ok() {
                        users.set(Some(u.json));
                    }
                }
            });
        });
    }
    let Some(_) = &*data else { return html! { <p class="loading" role="status">{ t(l, "loading") }</p> } };
    let save = {
        let (url, origins, methods, message) = (url.clone(), origins.clone(), methods.clone(), message.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = json!({
                "webhook_url": if url.is_empty() { Value::Null } else { Value::from((*url).clone()) },
                "allowed_origins": origins.lines().map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>(),
                "enabled_methods": *methods,
            });
            let message = message.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("PUT", "settings", Some(&body), None).await;
                message.set(Some(if a.ok() { (true, t(l, "saved")) } else { (false, a.message()) }));
            });
        })
    };
    let rotate = |what: &'static str| {
        let (secret, message) = (secret.clone(), message.clone());
        Callback::from(move |_| {
            let (secret, message) = (secret.clone(), message.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("POST", "settings/rotate", Some(&json!({"what": what})), None).await;
                if a.ok() {
                    secret.set(a.json["value"].as_str().map(String::from));
                } else {
                    message.set(Some((false, a.message())));
                }
            });
        })
    };
    let add_user = {
        let (new_user, new_role, secret, message, reload) = (new_user.clone(), new_role.clone(), secret.clone(), message.clone(), reload.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = json!({"user_id": *new_user, "role": *new_role});
            let (secret, message, reload) = (secret.clone(), message.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("POST", "users", Some(&body), None).await;
                if a.ok() {
                    secret.set(a.json["password"].as_str().map(|p| format!("{}: {p}", a.json["user_id"].as_str().unwrap_or(""))));
                    reload.set(*reload + 1);
                } else {
                    message.set(Some((false, a.message())));
                }
            });
        })
    };
    let role_select = |uid: String, current: String| {
        let (message, reload) = (message.clone(), reload.clone());
        let id = format!("role-{uid}");
        html! { <>
            <label for={id.clone()} class="sr-only">{ format!("{} {uid}", t(l, "role")) }</label>
            <select id={id} onchange={Callback::from(move |e: Event| {
                let role = e.target_unchecked_into::<HtmlSelectElement>().value();
                let (message, reload, uid) = (message.clone(), reload.clone(), uid.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let a = call("PUT", &format!("users/{uid}"), Some(&json!({"role": role})), None).await;
                    message.set(Some(if a.ok() { (true, t(l, "saved")) } else { (false, a.message()) }));
                    reload.set(*reload + 1);
                });
            })}>
                { for ["viewer", "operator", "administrator"].iter().map(|r| html! { <option value={*r} selected={current == *r}>{ t(l, &format!("role_{r}")) }</option> }) }
            </select>
        </> }
    };
    html! {
        <section aria-labelledby="settings-title">
            <h2 id="settings-title" tabindex="-1">{ t(l, "settings") }</h2>
            <Account lang={l} />
            if let Some((ok, m)) = &*message {
                <p class={if *ok { "notice" } else { "error" }} role={if *ok { "status" } else { "alert" }}>{ m.clone() }</p>
            }
            if let Some(s) = &*secret {
                <p class="secret" role="status">{ t(l, "shown_once") }{ " " }<code>{ s.clone() }</code></p>
            }
            <form class="card" onsubmit={save}>
                <label for="s-url">{ t(l, "webhook_url") }</label>
                <input id="s-url" type="url" value={(*url).clone()} readonly={!admin} oninput={text_setter(&url)} />
                <label for="s-origins">{ t(l, "origins") }</label>
                <textarea id="s-origins" rows="3" value={(*origins).clone()} readonly={!admin}
                    oninput={{ let o = origins.clone(); Callback::from(move |e: InputEvent| o.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())) }} />
                <fieldset><legend>{ t(l, "methods") }</legend>
                { for i18n::METHOD_CODES.iter().map(|m| {
                    let methods = methods.clone();
                    let checked = methods.iter().any(|x| x == m);
                    let code = m.to_string();
                    html! { <label class="check"><input type="checkbox" checked={checked} disabled={!admin} onchange={Callback::from(move |_| {
                        let mut v: Vec<String> = (*methods).clone();
                        if v.contains(&code) { v.retain(|x| x != &code) } else { v.push(code.clone()) }
                        methods.set(v);
                    })} />{ i18n::method(l, m) }</label> }
                }) }
                </fieldset>
                if admin { <button type="submit" class="primary">{ t(l, "save") }</button> }
            </form>
            if admin {
                <div class="buttons">
                    <button type="button" onclick={rotate("hash_key")}>{ t(l, "rotate_hash_key") }</button>
                    <button type="button" onclick={rotate("webhook_secret")}>{ t(l, "rotate_webhook_secret") }</button>
                </div>
                <h3>{ t(l, "users") }</h3>
                <div class="table-wrap"><table>
                    <thead><tr><th scope="col">{ t(l, "user_id") }</th><th scope="col">{ t(l, "role") }</th><th scope="col">{ "TOTP" }</th></tr></thead>
                    <tbody>
                    { for users.as_ref().and_then(|u| u["data"].as_array().cloned()).unwrap_or_default().iter().map(|u| {
                        let uid = u["user_id"].as_str().unwrap_or("").to_string();
                        html! { <tr><td>{ uid.clone() }</td><td>{ role_select(uid, u["role"].as_str().unwrap_or("").to_string()) }</td>
                            <td>{ if u["totp_enabled"].as_bool() == Some(true) { "✓" } else { "—" } }</td></tr> }
                    }) }
                    </tbody>
                </table></div>
                <form class="card" onsubmit={add_user}>
                    <h4>{ t(l, "add_user") }</h4>
                    <label for="u-id">{ t(l, "user_id") }</label>
                    <input id="u-id" required=true value={(*new_user).clone()} oninput={text_setter(&new_user)} />
                    <label for="u-role">{ t(l, "role") }</label>
                    <select id="u-role" onchange={{ let r = new_role.clone(); Callback::from(move |e: Event| r.set(e.target_unchecked_into::<HtmlSelectElement>().value())) }}>
                        { for ["viewer", "operator", "administrator"].iter().map(|r| html! { <option value={*r} selected={*new_role == *r}>{ t(l, &format!("role_{r}")) }</option> }) }
                    </select>
                    <button type="submit">{ t(l, "add_user") }</button>
                </form>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct AccountProps {
    pub lang: Lang,
}

/// The signed-in user's own account: the second factor (enrol, with the
/// recovery codes shown once; turn off with a code), the password, signing
/// out everywhere.
#[function_component(Account)]
fn account(p: &AccountProps) -> Html {
    let l = p.lang;
    let enabled = use_state(|| None::<bool>);
    let enrol = use_state(|| None::<Value>);
    let codes = use_state(|| None::<Vec<String>>);
    let code = use_state(String::new);
    let current = use_state(String::new);
    let new_password = use_state(String::new);
    let message = use_state(|| None::<(bool, String)>);
    {
        let enabled = enabled.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("GET", "me", None, None).await;
                enabled.set(a.json["totp_enabled"].as_bool());
            });
        });
    }
    let begin = {
        let (enrol, message) = (enrol.clone(), message.clone());
        Callback::from(move |_| {
            let (enrol, message) = (enrol.clone(), message.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("POST", "me/totp", Some(&json!({})), None).await;
                if a.ok() {
                    enrol.set(Some(a.json));
                } else {
                    message.set(Some((false, a.message())));
                }
            });
        })
    };
    let confirm = {
        let (enrol, codes, code, enabled, message) = (enrol.clone(), codes.clone(), code.clone(), enabled.clone(), message.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let path = if *enabled == Some(true) { "me/totp/disable" } else { "me/totp/confirm" };
            let body = json!({"code": code.trim()});
            let (enrol, codes, code, enabled, message) = (enrol.clone(), codes.clone(), code.clone(), enabled.clone(), message.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("POST", path, Some(&body), None).await;
                code.set(String::new());
                if a.ok() {
                    enabled.set(a.json["totp_enabled"].as_bool());
                    enrol.set(None);
                    codes.set(a.json["recovery_codes"].as_array().map(|c| c.iter().filter_map(|x| x.as_str().map(String::from)).collect()));
                    message.set(Some((true, t(l, "saved"))));
                } else {
                    message.set(Some((false, a.message())));
                }
            });
        })
    };
    let change_password = {
        let (current, new_password, message) = (current.clone(), new_password.clone(), message.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = json!({"current_password": *current, "new_password": *new_password});
            let message = message.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("POST", "me/password", Some(&body), None).await;
                message.set(Some(if a.ok() { (true, t(l, "saved")) } else { (false, a.message()) }));
            });
        })
    };
    let everywhere = Callback::from(move |_| {
        wasm_bindgen_futures::spawn_local(async move {
            call("POST", "logout-everywhere", Some(&json!({})), None).await;
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        });
    });
    let on = *enabled == Some(true);
    html! {
        <div class="card account">
            <h3>{ t(l, "account") }</h3>
            if let Some((ok, m)) = &*message {
                <p class={if *ok { "notice" } else { "error" }} role={if *ok { "status" } else { "alert" }}>{ m.clone() }</p>
            }
            <p>{ format!("{}: {}", t(l, "totp"), if on { t(l, "on") } else { t(l, "off") }) }</p>
            if let Some(c) = &*codes {
                <div class="secret" role="status"><p>{ t(l, "recovery_codes_once") }</p>
                    <ul class="recovery">{ for c.iter().map(|x| html! { <li><code>{ x.clone() }</code></li> }) }</ul></div>
            }
            if !on && enrol.is_none() {
                <button type="button" onclick={begin}>{ t(l, "totp_enable") }</button>
            }
            if let Some(en) = &*enrol {
                <p>{ t(l, "totp_scan") }</p>
                <p class="totp-secret"><code>{ en["secret"].as_str().unwrap_or("") }</code></p>
                <p class="mono">{ en["otpauth_uri"].as_str().unwrap_or("") }</p>
            }
            if enrol.is_some() || on {
                <form onsubmit={confirm}>
                    <label for="totp-code">{ t(l, "totp_code") }</label>
                    <input id="totp-code" inputmode="numeric" autocomplete="one-time-code" required=true value={(*code).clone()} oninput={text_setter(&code)} />
                    <button type="submit">{ if on { t(l, "totp_disable") } else { t(l, "totp_confirm") } }</button>
                </form>
            }
            <form onsubmit={change_password}>
                <h4>{ t(l, "change_password") }</h4>
                <label for="pw-current">{ t(l, "current_password") }</label>
                <input id="pw-current" type="password" autocomplete="current-password" required=true value={(*current).clone()} oninput={text_setter(&current)} />
                <label for="pw-new">{ t(l, "new_password") }</label>
                <input id="pw-new" type="password" autocomplete="new-password" minlength="12" required=true value={(*new_password).clone()} oninput={text_setter(&new_password)} />
                <button type="submit">{ t(l, "change_password") }</button>
            </form>
            <div class="buttons"><button type="button" onclick={everywhere}>{ t(l, "sign_out_everywhere") }</button></div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct AuditProps {
    pub lang: Lang,
    pub me: Value,
}

#[function_component(Audit)]
fn audit(p: &AuditProps) -> Html {
    let l = p.lang;
    let data = use_state(|| None::<api::Answer>);
    let admin = can(&p.me, "administrator");
    {
        let data = data.clone();
        use_effect_with((), move |_| {
            if admin {
                wasm_bindgen_futures::spawn_local(async move {
                    data.set(Some(call("GET", "audit", None, None).await));
                });
            }
        });
    }
    if !admin {
        return html! { <section><h2>{ t(l, "audit") }</h2><p class="notice">{ t(l, "not_allowed_here") }</p></section> };
    }
    let rows = match &*data {
        None => return html! { <p class="loading" role="status">{ t(l, "loading") }</p> },
        Some(a) if !a.ok() => return html! { <p class="error" role="alert">{ a.message() }</p> },
        Some(a) => a.json["data"].as_array().cloned().unwrap_or_default(),
    };
    html! {
        <section aria-labelledby="audit-title">
            <h2 id="audit-title" tabindex="-1">{ t(l, "audit") }</h2>
            <p><a href="/admin/api/audit.csv" download="audit.csv">{ t(l, "csv_utf8") }</a>{ " " }<a href="/admin/api/audit.csv?encoding=shift_jis" download="audit-sjis.csv">{ t(l, "csv_sjis") }</a></p>
            <div class="table-wrap"><table class="audit">
                <thead><tr><th scope="col">{ t(l, "at") }</th><th scope="col">{ t(l, "who") }</th><th scope="col">{ t(l, "ip") }</th>
                    <th scope="col">{ t(l, "action") }</th><th scope="col">{ t(l, "target") }</th><th scope="col">{ t(l, "result") }</th></tr></thead>
                <tbody>
                { for rows.iter().map(|r| html! { <tr>
                    <td>{ i18n::jst(r["at"].as_i64().unwrap_or(0)) }</td><td>{ r["user_id"].as_str().unwrap_or("") }</td><td>{ r["ip"].as_str().unwrap_or("") }</td>
                    <td>{ r["action"].as_str().unwrap_or("") }</td><td class="mono">{ r["target"].as_str().unwrap_or("") }</td><td>{ r["status"].to_string() }</td>
                </tr> }) }
                </tbody>
            </table></div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct SubscriptionsProps {
    pub lang: Lang,
    pub query: String,
}

/// Subscriptions, newest first (`status`, `kind` filters in the URL).
#[function_component(Subscriptions)]
fn subscriptions(p: &SubscriptionsProps) -> Html {
    let l = p.lang;
    let data = use_state(|| None::<api::Answer>);
    {
        let data = data.clone();
        use_effect_with(p.query.clone(), move |q| {
            let q = q.clone();
            wasm_bindgen_futures::spawn_local(async move {
                data.set(Some(call("GET", &format!("subscriptions?{q}"), None, None).await));
            });
        });
    }
    let rows = match &*data {
        None => return html! { <p class="loading" role="status">{ t(l, "loading") }</p> },
        Some(a) if !a.ok() => return html! { <p class="error" role="alert">{ a.message() }</p> },
        Some(a) => a.json["data"].as_array().cloned().unwrap_or_default(),
    };
    let filter = |key: &str, value: &str| {
        let hash = format!("#/subscriptions?{key}={value}");
        html! { <a href={hash}>{ t(l, &format!("sub_{value}")) }</a> }
    };
    html! {
        <section aria-labelledby="subs-title">
            <h2 id="subs-title" tabindex="-1">{ t(l, "subscriptions") }</h2>
            <p class="filters">{ filter("status", "active") }{ " · " }{ filter("status", "cancelled") }{ " · " }{ filter("kind", "simple") }{ " · " }{ filter("kind", "fixed") }{ " · " }<a href="#/subscriptions">{ t(l, "sub_all") }</a></p>
            if rows.is_empty() { <p class="notice">{ t(l, "no_results") }</p> }
            <div class="table-wrap"><table class="subscriptions">
                <thead><tr><th scope="col">{ t(l, "order_id") }</th><th scope="col">{ t(l, "cust_code") }</th><th scope="col">{ t(l, "sub_kind") }</th>
                    <th scope="col">{ t(l, "method") }</th><th scope="col">{ t(l, "status") }</th><th scope="col">{ t(l, "amount") }</th><th scope="col">{ t(l, "sub_next") }</th></tr></thead>
                <tbody>
                { for rows.iter().map(|r| {
                    let id = r["subscription_id"].as_str().unwrap_or("").to_string();
                    html! { <tr>
                        <td><a class="sub-link" href={format!("#/subscriptions/{id}")}>{ r["order_id"].as_str().unwrap_or("") }</a></td>
                        <td>{ r["cust_code"].as_str().unwrap_or("") }</td>
                        <td>{ t(l, &format!("sub_{}", r["kind"].as_str().unwrap_or(""))) }</td>
                        <td>{ i18n::method(l, r["method"].as_str().unwrap_or("")) }</td>
                        <td class="sub-status">{ t(l, &format!("sub_{}", r["status"].as_str().unwrap_or(""))) }</td>
                        <td>{ i18n::yen(r["amount"].as_i64().unwrap_or(0)) }</td>
                        <td>{ r["next_billing_at"].as_i64().map(i18n::jst).unwrap_or_default() }</td>
                    </tr> }
                }) }
                </tbody>
            </table></div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct SubscriptionDetailProps {
    pub lang: Lang,
    pub id: String,
    pub me: Value,
}

/// One subscription: its facts, its charges (each a payment), and — for
/// operators — cancel and, on a fixed term, a purchase, each confirmed.
#[function_component(SubscriptionDetail)]
fn subscription_detail(p: &SubscriptionDetailProps) -> Html {
    let l = p.lang;
    let data = use_state(|| None::<api::Answer>);
    let reload = use_state(|| 0u32);
    let confirming = use_state(|| None::<(&'static str, String)>);
    let amount = use_state(String::new);
    let message = use_state(|| None::<(bool, String)>);
    {
        let data = data.clone();
        use_effect_with((p.id.clone(), *reload), move |(id, _)| {
            let id = id.clone();
            wasm_bindgen_futures::spawn_local(async move {
                data.set(Some(call("GET", &format!("subscriptions/{id}"), None, None).await));
            });
        });
    }
    let operator = can(&p.me, "operator");
    let s = match &*data {
        None => return html! { <p class="loading" role="status">{ t(l, "loading") }</p> },
        Some(a) if !a.ok() => return html! { <><p class="error" role="alert">{ a.message() }</p><a href="#/subscriptions">{ t(l, "back") }</a></> },
        Some(a) => a.json.clone(),
    };
    let active = s["status"] == "active";
    let fixed = s["kind"] == "fixed";
    let ask = |what: &'static str| {
        let (confirming, message) = (confirming.clone(), message.clone());
        Callback::from(move |_| {
            message.set(None);
            confirming.set(Some((what, api::new_key())));
        })
    };
    let dialog = (*confirming).clone().map(|(what, key)| {
        let close = {
            let confirming = confirming.clone();
            Callback::from(move |_| confirming.set(None))
        };
        let submit = {
            let (confirming, message, reload, amount) = (confirming.clone(), message.clone(), reload.clone(), amount.clone());
            let id = p.id.clone();
            Callback::from(move |e: SubmitEvent| {
                e.prevent_default();
                let (confirming, message, reload, id, key) = (confirming.clone(), message.clone(), reload.clone(), id.clone(), key.clone());
                let typed = (*amount).clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let a = if what == "purchase" {
                        let Ok(n) = typed.trim().parse::<i64>() else {
                            message.set(Some((false, t(l, "amount"))));
                            return;
                        };
                        call("POST", &format!("subscriptions/{id}/purchases"), Some(&json!({"amount": n})), Some(&key)).await
                    } else {
                        call("POST", &format!("subscriptions/{id}/cancel"), Some(&json!({})), Some(&key)).await
                    };
                    confirming.set(None);
                    message.set(Some(if a.ok() { (true, t(l, "done")) } else { (false, a.message()) }));
                    reload.set(*reload + 1);
                });
            })
        };
        let label = t(l, &format!("sub_a_{what}"));
        let on_amount = {
            let amount = amount.clone();
            Callback::from(move |e: InputEvent| amount.set(input_value(&e)))
        };
        html! {
            <form class="dialog card" role="dialog" aria-modal="false" aria-labelledby="sub-confirm-title" onsubmit={submit}>
                <h3 id="sub-confirm-title">{ format!("{}: {}", t(l, "confirm_title"), label) }</h3>
                if what == "purchase" {
                    <label for="sub-amount">{ t(l, "amount") }</label>
                    <input id="sub-amount" type="number" inputmode="numeric" min="1" value={(*amount).clone()} oninput={on_amount} autofocus=true />
                }
                <div class="buttons">
                    <button type="submit" id="sub-confirm" class="primary danger">{ format!("{} ({})", t(l, "confirm"), label) }</button>
                    <button type="button" onclick={close}>{ t(l, "cancel_dialog") }</button>
                </div>
            </form>
        }
    });
    let charges = s["charges"].as_array().cloned().unwrap_or_default();
    html! {
        <section aria-labelledby="sub-title">
            <p><a href="#/subscriptions">{ t(l, "back") }</a></p>
            <h2 id="sub-title" tabindex="-1">{ format!("{}: {}", t(l, "subscription"), s["order_id"].as_str().unwrap_or("")) }</h2>
            <dl class="facts card">
                <dt>{ t(l, "status") }</dt><dd id="sub-status">{ t(l, &format!("sub_{}", s["status"].as_str().unwrap_or(""))) }</dd>
                <dt>{ t(l, "sub_kind") }</dt><dd>{ t(l, &format!("sub_{}", s["kind"].as_str().unwrap_or(""))) }</dd>
                <dt>{ t(l, "method") }</dt><dd>{ i18n::method(l, s["method"].as_str().unwrap_or("")) }</dd>
                <dt>{ t(l, "item_name") }</dt><dd>{ s["item_name"].as_str().unwrap_or("") }</dd>
                <dt>{ t(l, "cust_code") }</dt><dd>{ s["cust_code"].as_str().unwrap_or("") }</dd>
                <dt>{ t(l, "amount") }</dt><dd>{ i18n::yen(s["amount"].as_i64().unwrap_or(0)) }</dd>
                <dt>{ t(l, "sub_next") }</dt><dd>{ s["next_billing_at"].as_i64().map(i18n::jst).unwrap_or_else(|| "—".into()) }</dd>
                <dt>{ t(l, "sub_expires") }</dt><dd>{ s["expires_at"].as_i64().map(i18n::jst).unwrap_or_else(|| "—".into()) }</dd>
                <dt>{ t(l, "sub_page") }</dt><dd class="mono"><a href={s["management_url"].as_str().unwrap_or("").to_string()}>{ t(l, "sub_page_link") }</a></dd>
            </dl>
            if let Some((ok, m)) = &*message {
                <p class={if *ok { "notice" } else { "error" }} role={if *ok { "status" } else { "alert" }}>{ m.clone() }</p>
            }
            if !operator { <p class="notice">{ t(l, "viewer_cannot") }</p> }
            if operator && active {
                <p class="buttons">
                    if fixed { <button type="button" id="sub-purchase" onclick={ask("purchase")}>{ t(l, "sub_a_purchase") }</button> }
                    <button type="button" id="sub-cancel" onclick={ask("cancel")}>{ t(l, "sub_a_cancel") }</button>
                </p>
            }
            { dialog.unwrap_or_default() }
            <h3>{ t(l, "sub_charges") }</h3>
            <div class="table-wrap"><table class="charges">
                <thead><tr><th scope="col">{ t(l, "order_id") }</th><th scope="col">{ t(l, "status") }</th><th scope="col">{ t(l, "amount") }</th><th scope="col">{ t(l, "at") }</th></tr></thead>
                <tbody>
                { for charges.iter().map(|c| html! { <tr>
                    <td><a href={format!("#/payments/{}", c["tracking_id"].as_str().unwrap_or(""))}>{ c["order_id"].as_str().unwrap_or("") }</a></td>
                    <td>{ i18n::status(l, c["status"].as_str().unwrap_or("")) }</td>
                    <td>{ i18n::yen(c["amount"].as_i64().unwrap_or(0)) }</td>
                    <td>{ i18n::jst(c["created_at"].as_i64().unwrap_or(0)) }</td>
                </tr> }) }
                </tbody>
            </table></div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn routes_from_the_fragment() {
        assert_eq!(parse_route(""), Route::Payments(String::new()));
        assert_eq!(parse_route("#/payments?status=paid"), Route::Payments("status=paid".into()));
        assert_eq!(parse_route("#/payments/pay_1"), Route::Detail("pay_1".into()));
        assert_eq!(parse_route("#/webhooks?type=x"), Route::Webhooks("type=x".into()));
        assert_eq!(parse_route("#/settings"), Route::Settings);
        assert_eq!(parse_route("#/audit"), Route::Audit);
        assert_eq!(parse_route("#/subscriptions?status=active"), Route::Subscriptions("status=active".into()));
        assert_eq!(parse_route("#/subscriptions/sub_1"), Route::Subscription("sub_1".into()));
    }
}
