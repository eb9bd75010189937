//! The only module that talks to the network: JSON calls to `/admin/api/`
//! with the session's CSRF token on every change.

use std::cell::RefCell;

use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

thread_local! {
    static CSRF: RefCell<String> = const { RefCell::new(String::new()) };
}

pub fn set_csrf(token: &str) {
    CSRF.with(|c| *c.borrow_mut() = token.to_string());
}

/// An answer: the HTTP status and its JSON (`Null` when none).
pub struct Answer {
    pub status: u16,
    pub json: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The error's message, for people.
    pub fn message(&self) -> String {
        self.json["error"]["message"].as_str().map(str::to_string).unwrap_or_else(|| format!("HTTP {}", self.status))
    }
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

/// A fresh key per confirmation: a double submit is the same operation.
pub fn new_key() -> String {
    let r = js_sys::Math::random();
    format!("ui-{}-{:x}", js_sys::Date::now() as u64, (r * 1e15) as u64)
}

pub async fn call(method: &str, path: &str, body: Option<&Value>, idempotency_key: Option<&str>) -> Answer {
    match send(method, path, body, idempotency_key).await {
        Ok(a) => a,
        Err(_) => Answer { status: 0, json: serde_json::json!({"error": {"code": "network", "message": "network error"}}) },
    }
}

async fn send(method: &str, path: &str, body: Option<&Value>, idempotency_key: Option<&str>) -> Result<Answer, JsValue> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new()?;
    headers.set("accept", "application/json")?;
    if method != "GET" {
        headers.set("content-type", "application/json")?;
        headers.set("x-requested-with", "kessai-admin")?;
        CSRF.with(|c| headers.set("x-csrf-token", &c.borrow()))?;
    }
    if let Some(k) = idempotency_key {
        headers.set("idempotency-key", k)?;
    }
    init.set_headers(&headers);
    if let Some(b) = body {
        init.set_body(&JsValue::from_str(&b.to_string()));
    }
    let req = web_sys::Request::new_with_str_and_init(&format!("/admin/api/{path}"), &init)?;
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_request(&req)).await?.dyn_into()?;
    let status = resp.status();
    let text = JsFuture::from(resp.text()?).await?.as_string().unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    if let Some(t) = json["csrf_token"].as_str() {
        set_csrf(t);
    }
    Ok(Answer { status, json })
}

/// `k=v&…` of the non-empty pairs, percent-encoded.
pub fn query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// The pairs of a query string.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| js_sys::decode_uri_component(&s.replace('+', " ")).map(String::from).unwrap_or_else(|_| s.to_string());
            (dec(k), dec(v))
        })
        .collect()
}
