//! The operators' console (`/operator`): screens over the operator API —
//! merchants (create, with the keys and the first user's password shown
//! once; suspend, resume), provider maintenance windows, payments stuck in
//! `processing`/`reconciling` past their deadline, and the operator audit.
//! The operator types the operator token once per tab (kept in
//! `sessionStorage`, sent as `Authorization: Bearer`). Labels are in
//! Japanese and English side by side: operators are few and internal.

use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlInputElement;
use yew::prelude::*;

const TOKEN_KEY: &str = "kl_operator_token";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn token() -> String {
    storage().and_then(|s| s.get_item(TOKEN_KEY).ok().flatten()).unwrap_or_default()
}

struct Answer {
    status: u16,
    json: Value,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    fn message(&self) -> String {
        self.json["error"]["message"].as_str().map(str::to_string).unwrap_or_else(|| format!("HTTP {}", self.status))
    }
}

async fn call(method: &str, path: &str, body: Option<Value>) -> Answer {
    async fn send(method: &str, path: &str, body: Option<Value>) -> Result<Answer, JsValue> {
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        let h = web_sys::Headers::new()?;
        h.set("authorization", &format!("Bearer {}", token()))?;
        if let Some(b) = body {
            h.set("content-type", "application/json")?;
            init.set_body(&JsValue::from_str(&b.to_string()));
        }
        init.set_headers(&h);
        let req = web_sys::Request::new_with_str_and_init(&format!("/operator/{path}"), &init)?;
        let resp: web_sys::Response = JsFuture::from(web_sys::window().ok_or(JsValue::NULL)?.fetch_with_request(&req)).await?.dyn_into()?;
        let status = resp.status();
        let text = JsFuture::from(resp.text()?).await?.as_string().unwrap_or_default();
        Ok(Answer { status, json: serde_json::from_str(&text).unwrap_or(Value::Null) })
    }
    send(method, path, body).await.unwrap_or(Answer { status: 0, json: json!({"error": {"message": "network error"}}) })
}

fn jst(t: i64) -> String {
    let d = shared::time::UnixTime(t).jst();
    format!("{} {:02}:{:02}", d.date.iso(), d.hour, d.minute)
}

fn value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

fn setter(s: &UseStateHandle<String>) -> Callback<InputEvent> {
    let s = s.clone();
    Callback::from(move |e: InputEvent| s.set(value(&e)))
}

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    Merchants,
    Stuck,
    Maintenance,
    Audit,
}

#[function_component(Console)]
fn console() -> Html {
    let signed = use_state(|| !token().is_empty());
    let tab = use_state(|| Tab::Merchants);
    let typed = use_state(String::new);
    let error = use_state(|| None::<String>);
    if !*signed {
        let submit = {
            let (typed, signed, error) = (typed.clone(), signed.clone(), error.clone());
            Callback::from(move |e: SubmitEvent| {
                e.prevent_default();
                if let Some(s) = storage() {
                    let _ = s.set_item(TOKEN_KEY, &typed);
                }
                let (signed, error) = (signed.clone(), error.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let a = call("GET", "merchants", None).await;
                    if a.ok() {
                        signed.set(true);
                    } else {
                        error.set(Some(a.message()));
                    }
                });
            })
        };
        return html! {
            <>
                <header class="top"><h1>{ "オペレーターコンソール / Operators' console" }</h1></header>
                <main class="admin"><form class="sign-in card" onsubmit={submit}>
                    <label for="token">{ "オペレータートークン / Operator token" }</label>
                    <input id="token" type="password" autocomplete="off" required=true value={(*typed).clone()} oninput={setter(&typed)} />
                    if let Some(e) = &*error { <p class="error" role="alert">{ e.clone() }</p> }
                    <button type="submit" class="primary">{ "開く / Open" }</button>
                </form></main>
            </>
        };
    }
    let tab_button = |t: Tab, label: &str| {
        let tab = tab.clone();
        html! { <li><a href="#" aria-current={(*tab == t).then_some("page")} onclick={Callback::from(move |e: MouseEvent| { e.prevent_default(); tab.set(t) })}>{ label.to_string() }</a></li> }
    };
    let sign_out = {
        let signed = signed.clone();
        Callback::from(move |_| {
            if let Some(s) = storage() {
                let _ = s.remove_item(TOKEN_KEY);
            }
            signed.set(false);
        })
    };
    html! {
        <>
            <header class="top"><h1>{ "オペレーターコンソール / Operators' console" }</h1>
                <button type="button" onclick={sign_out}>{ "閉じる / Close" }</button></header>
            <nav aria-label="menu"><ul>
                { tab_button(Tab::Merchants, "加盟店 / Merchants") }
                { tab_button(Tab::Stuck, "滞留中の決済 / Stuck payments") }
                { tab_button(Tab::Maintenance, "メンテナンス / Maintenance") }
                { tab_button(Tab::Audit, "監査 / Audit") }
            </ul></nav>
            <main class="admin">
                { match *tab {
                    Tab::Merchants => html! { <Merchants /> },
                    Tab::Stuck => html! { <Stuck /> },
                    Tab::Maintenance => html! { <Maintenance /> },
                    Tab::Audit => html! { <Audit /> },
                } }
            </main>
        </>
    }
}

#[hook]
fn use_load(path: &'static str, reload: u32) -> UseStateHandle<Option<Answer>> {
    let data = use_state(|| None::<Answer>);
    {
        let data = data.clone();
        use_effect_with(reload, move |_| {
            wasm_bindgen_futures::spawn_local(async move { data.set(Some(call("GET", path, None).await)) });
        });
    }
    data
}

fn rows_of(a: &Option<Answer>) -> Result<Vec<Value>, Html> {
    match a {
        None => Err(html! { <p role="status">{ "読み込み中… / Loading…" }</p> }),
        Some(a) if !a.ok() => Err(html! { <p class="error" role="alert">{ a.message() }</p> }),
        Some(a) => Ok(a.json["data"].as_array().cloned().unwrap_or_default()),
    }
}

#[function_component(Merchants)]
fn merchants() -> Html {
    let reload = use_state(|| 0u32);
    let data = use_load("merchants", *reload);
    let (mid, name, origins) = (use_state(String::new), use_state(String::new), use_state(|| "https://".to_string()));
    let created = use_state(|| None::<Value>);
    let message = use_state(|| None::<String>);
    let create = {
        let (mid, name, origins, created, message, reload) = (mid.clone(), name.clone(), origins.clone(), created.clone(), message.clone(), reload.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = json!({"merchant_id": *mid, "name": *name, "allowed_origins": origins.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>()});
            let (created, message, reload) = (created.clone(), message.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("POST", "merchants", Some(body)).await;
                if a.ok() {
                    created.set(Some(a.json));
                    message.set(None);
                    reload.set(*reload + 1);
                } else {
                    message.set(Some(a.message()));
                }
            });
        })
    };
    let toggle = |m: &Value| {
        let (reload, message) = (reload.clone(), message.clone());
        let suspended = m["status"] == "suspended";
        let path = format!("merchants/{}/{}/{}", m["merchant_id"].as_str().unwrap_or(""), m["service_id"].as_str().unwrap_or(""), if suspended { "resume" } else { "suspend" });
        Callback::from(move |_| {
            let (reload, message, path) = (reload.clone(), message.clone(), path.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("POST", &path, Some(json!({"reason": "operator console"}))).await;
                if !a.ok() {
                    message.set(Some(a.message()));
                }
                reload.set(*reload + 1);
            });
        })
    };
    let list = match rows_of(&data) {
        Err(h) => h,
        Ok(rows) => html! { <div class="table-wrap"><table class="merchants">
            <thead><tr><th scope="col">{ "ID" }</th><th scope="col">{ "名称 / Name" }</th><th scope="col">{ "決済手段 / Methods" }</th>
                <th scope="col">{ "状態 / Status" }</th><th scope="col">{ "操作 / Action" }</th></tr></thead>
            <tbody>{ for rows.iter().map(|m| html! { <tr>
                <td class="mono">{ format!("{}/{}", m["merchant_id"].as_str().unwrap_or(""), m["service_id"].as_str().unwrap_or("")) }</td>
                <td>{ m["name"].as_str().unwrap_or("") }</td>
                <td>{ m["enabled_methods"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default() }</td>
                <td>{ m["status"].as_str().unwrap_or("") }</td>
                <td><button type="button" onclick={toggle(m)}>{ if m["status"] == "suspended" { "再開 / Resume" } else { "停止 / Suspend" } }</button></td>
            </tr> }) }</tbody>
        </table></div> },
    };
    html! {
        <section aria-labelledby="m-title">
            <h2 id="m-title">{ "加盟店 / Merchants" }</h2>
            if let Some(m) = &*message { <p class="error" role="alert">{ m.clone() }</p> }
            if let Some(c) = &*created {
                <div class="card secret" role="status">
                    <p>{ "今回だけ表示されます / Shown this once:" }</p>
                    <p>{ "hash_key: " }<code>{ c["hash_key"].as_str().unwrap_or("") }</code></p>
                    <p>{ "webhook_secret: " }<code>{ c["webhook_secret"].as_str().unwrap_or("") }</code></p>
                    <p>{ format!("{} / ", c["admin_user"].as_str().unwrap_or("")) }<code>{ c["admin_password"].as_str().unwrap_or("") }</code></p>
                </div>
            }
            { list }
            <form class="card" onsubmit={create}>
                <h3>{ "加盟店を作成 / Create a merchant" }</h3>
                <label for="m-id">{ "加盟店ID / Merchant ID" }</label><input id="m-id" required=true value={(*mid).clone()} oninput={setter(&mid)} />
                <label for="m-name">{ "名称 / Name" }</label><input id="m-name" required=true value={(*name).clone()} oninput={setter(&name)} />
                <label for="m-origins">{ "許可オリジン (カンマ区切り) / Allowed origins (comma-separated)" }</label>
                <input id="m-origins" required=true value={(*origins).clone()} oninput={setter(&origins)} />
                <button type="submit" class="primary">{ "作成 / Create" }</button>
            </form>
        </section>
    }
}

#[function_component(Stuck)]
fn stuck() -> Html {
    let data = use_load("stuck-payments", 0);
    let body = match rows_of(&data) {
        Err(h) => h,
        Ok(rows) if rows.is_empty() => html! { <p>{ "滞留中の決済はありません / No stuck payments" }</p> },
        Ok(rows) => html! { <div class="table-wrap"><table class="stuck">
            <thead><tr><th scope="col">{ "決済 / Payment" }</th><th scope="col">{ "加盟店 / Merchant" }</th><th scope="col">{ "状態 / Status" }</th>
                <th scope="col">{ "手段 / Method" }</th><th scope="col" class="num">{ "金額 / Amount" }</th><th scope="col">{ "最終更新 / Updated (JST)" }</th>
                <th scope="col" class="num">{ "経過 / Stuck for" }</th></tr></thead>
            <tbody>{ for rows.iter().map(|r| html! { <tr>
                <td class="mono">{ r["payment_id"].as_str().unwrap_or("") }<br />{ r["order_id"].as_str().unwrap_or("") }</td>
                <td class="mono">{ format!("{}/{}", r["merchant_id"].as_str().unwrap_or(""), r["service_id"].as_str().unwrap_or("")) }</td>
                <td>{ r["status"].as_str().unwrap_or("") }</td>
                <td>{ r["method"].as_str().unwrap_or("") }</td>
                <td class="num">{ format!("¥{}", r["amount"]) }</td>
                <td>{ jst(r["updated_at"].as_i64().unwrap_or(0)) }</td>
                <td class="num">{ format!("{} min", r["stuck_for_seconds"].as_i64().unwrap_or(0) / 60) }</td>
            </tr> }) }</tbody>
        </table></div> },
    };
    html! { <section aria-labelledby="s-title"><h2 id="s-title">{ "滞留中の決済 / Stuck payments" }</h2>
        <p>{ "処理中・照合中のまま期限を過ぎた決済 / Payments in processing or reconciling past their deadline" }</p>{ body }</section> }
}

#[function_component(Maintenance)]
fn maintenance() -> Html {
    let reload = use_state(|| 0u32);
    let data = use_load("maintenance", *reload);
    let (method, hours, note) = (use_state(|| "card".to_string()), use_state(|| "1".to_string()), use_state(String::new));
    let message = use_state(|| None::<String>);
    let add = {
        let (method, hours, note, message, reload) = (method.clone(), hours.clone(), note.clone(), message.clone(), reload.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let now = (js_sys::Date::now() / 1000.0) as i64;
            let h: i64 = hours.parse().unwrap_or(1);
            let body = json!({"method": *method, "starts_at": now, "ends_at": now + h * 3600, "note": *note});
            let (message, reload) = (message.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let a = call("POST", "maintenance", Some(body)).await;
                message.set((!a.ok()).then(|| a.message()));
                reload.set(*reload + 1);
            });
        })
    };
    let remove = |id: String| {
        let reload = reload.clone();
        Callback::from(move |_| {
            let (reload, id) = (reload.clone(), id.clone());
            wasm_bindgen_futures::spawn_local(async move {
                call("DELETE", &format!("maintenance/{id}"), None).await;
                reload.set(*reload + 1);
            });
        })
    };
    let list = match rows_of(&data) {
        Err(h) => h,
        Ok(rows) => html! { <ul>{ for rows.iter().map(|w| html! { <li>
            { format!("{}: {} – {} {}", w["method"].as_str().unwrap_or(""), jst(w["starts_at"].as_i64().unwrap_or(0)), jst(w["ends_at"].as_i64().unwrap_or(0)), w["note"].as_str().unwrap_or("")) }
            { " " }<button type="button" onclick={remove(w["id"].as_str().unwrap_or("").to_string())}>{ "削除 / Remove" }</button>
        </li> }) }</ul> },
    };
    html! { <section aria-labelledby="w-title"><h2 id="w-title">{ "メンテナンス / Maintenance" }</h2>
        if let Some(m) = &*message { <p class="error" role="alert">{ m.clone() }</p> }
        { list }
        <form class="card" onsubmit={add}>
            <label for="w-method">{ "決済手段 / Method (netcash, prepaid, np, au, card)" }</label><input id="w-method" value={(*method).clone()} oninput={setter(&method)} />
            <label for="w-hours">{ "今から何時間 / Hours from now" }</label><input id="w-hours" type="number" value={(*hours).clone()} oninput={setter(&hours)} />
            <label for="w-note">{ "メモ / Note" }</label><input id="w-note" value={(*note).clone()} oninput={setter(&note)} />
            <button type="submit" class="primary">{ "追加 / Add" }</button>
        </form>
    </section> }
}

#[function_component(Audit)]
fn audit() -> Html {
    let data = use_load("audit", 0);
    let body = match rows_of(&data) {
        Err(h) => h,
        Ok(rows) => html! { <div class="table-wrap"><table>
            <thead><tr><th scope="col">{ "日時 / When (JST)" }</th><th scope="col">{ "IP" }</th><th scope="col">{ "操作 / Call" }</th><th scope="col">{ "結果 / Status" }</th></tr></thead>
            <tbody>{ for rows.iter().map(|r| html! { <tr><td>{ jst(r["at"].as_i64().unwrap_or(0)) }</td><td>{ r["ip"].as_str().unwrap_or("") }</td>
                <td class="mono">{ format!("{} {}", r["method"].as_str().unwrap_or(""), r["path"].as_str().unwrap_or("")) }</td><td>{ r["status"].to_string() }</td></tr> }) }</tbody>
        </table></div> },
    };
    html! { <section aria-labelledby="a-title"><h2 id="a-title">{ "監査 / Audit" }</h2>{ body }</section> }
}

fn main() {
    let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("operator")) else {
        return;
    };
    root.set_inner_html("");
    yew::Renderer::<Console>::with_root(root).render();
}
