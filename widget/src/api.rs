//! The only module that talks to the server (web-sys `fetch`, no HTTP
//! crate) and moves the browser elsewhere. Components see it through the
//! [`Backend`] trait, so tests render them with a fake.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use shared::card::{CardNumber, Cvc, Expiry, PaymentOption};
use shared::netcash::NetcashId;
use shared::np::Buyer;
use shared::prepaid::PrepaidNumber;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestCache, RequestInit, Response};

use crate::json::Json;
use crate::model::{is_safe_next, is_safe_redirect, ApiError, FromJson, Next, PayOk, Session};

pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// A card payment as the page sends it (validated by `shared::card`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardPayment {
    pub number: CardNumber,
    pub expiry: Expiry,
    pub cvc: Cvc,
    pub option: PaymentOption,
}

/// What the shopper entered, validated: the body of `POST /pay/{id}/<method>`.
/// Holds secrets (card and prepaid numbers) only until the request is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayRequest {
    Netcash(NetcashId),
    Prepaid(PrepaidNumber),
    Np(Buyer),
    Au,
    /// NET CASH Wallet: the shopper picks an ID on NET CASH's own page.
    NetcashWallet,
    Card(CardPayment),
}

/// Appends `s` as a JSON string.
fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `{"k":"v",...}` of string members.
fn object(members: &[(&str, &str)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(&mut out, k);
        out.push(':');
        push_str(&mut out, v);
    }
    out.push('}');
    out
}

/// `{"kind":"installment","count":3}`
pub fn option_json(option: PaymentOption) -> String {
    let (kind, count) = match option {
        PaymentOption::Single => ("single", None),
        PaymentOption::Bonus => ("bonus", None),
        PaymentOption::Revolving => ("revolving", None),
        PaymentOption::Installment { count } => ("installment", Some(count)),
        PaymentOption::BonusInstallment { count } => ("bonus_installment", Some(count)),
    };
    match count {
        Some(n) => format!(r#"{{"kind":"{kind}","count":{n}}}"#),
        None => format!(r#"{{"kind":"{kind}"}}"#),
    }
}

impl PayRequest {
    /// The method's wire name: the last segment of the endpoint.
    pub fn method(&self) -> &'static str {
        match self {
            PayRequest::Netcash(_) => "netcash",
            PayRequest::Prepaid(_) => "prepaid",
            PayRequest::Np(_) => "np",
            PayRequest::Au => "au",
            PayRequest::NetcashWallet => "netcash-wallet",
            PayRequest::Card(_) => "card",
        }
    }

    /// The request body.
    pub fn to_json(&self) -> String {
        match self {
            PayRequest::Netcash(id) => object(&[("netcash_id", id.as_str())]),
            PayRequest::Prepaid(n) => object(&[("card_number", n.expose())]),
            PayRequest::Np(b) => object(&b.fields()),
            PayRequest::Au | PayRequest::NetcashWallet => "{}".to_owned(),
            PayRequest::Card(c) => {
                let mut out = object(&[
                    ("number", c.number.expose()),
                    ("exp_month", &format!("{:02}", c.expiry.month)),
                    ("exp_year", &c.expiry.year.to_string()),
                    ("cvc", c.cvc.expose()),
                ]);
                out.pop();
                out.push_str(",\"option\":");
                out.push_str(&option_json(c.option));
                out.push('}');
                out
            }
        }
    }
}

/// What the page needs from the outside world.
pub trait Backend {
    /// `GET /pay/{id}/session`
    fn session(&self) -> LocalFuture<Result<Session, ApiError>>;
    /// `POST /pay/{id}/<method>` with the request's JSON body.
    fn pay(&self, request: &PayRequest) -> LocalFuture<Result<PayOk, ApiError>>;
    /// `POST /pay/{id}/cancel`: where to send the shopper.
    fn cancel(&self) -> LocalFuture<Result<String, ApiError>>;
    /// Leaves the page for a same-origin path.
    fn navigate(&self, next: &str);
    /// Leaves the page for a provider's page (au): an http(s) URL, maybe
    /// of another origin.
    fn redirect(&self, url: &str);
}

/// A shared [`Backend`], comparable (by identity) so it can be a prop.
#[derive(Clone)]
pub struct BackendRef(pub Rc<dyn Backend>);

impl BackendRef {
    pub fn new(backend: impl Backend + 'static) -> BackendRef {
        BackendRef(Rc::new(backend))
    }
}

impl PartialEq for BackendRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for BackendRef {
    type Target = dyn Backend;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// The text of `<script type="application/json" id="session">`, removed.
fn take_inline_session() -> Option<String> {
    let element = web_sys::window()?.document()?.get_element_by_id("session")?;
    let text = element.text_content();
    element.remove();
    text
}

/// The real thing: same-origin JSON endpoints under `/pay/{id}`.
pub struct HttpBackend {
    base: String,
}

impl HttpBackend {
    pub fn new(payment_id: &str) -> HttpBackend {
        let id: String = js_sys::encode_uri_component(payment_id).into();
        HttpBackend {
            base: format!("/pay/{id}"),
        }
    }
}

impl Backend for HttpBackend {
    fn session(&self) -> LocalFuture<Result<Session, ApiError>> {
        // The first time: the session the Worker put into the page (taken
        // out, so that a reload of the session asks the Worker again).
        if let Some(inline) = take_inline_session() {
            return Box::pin(async move { decode((200, inline)) });
        }
        let answer = request(format!("{}/session", self.base), "GET", None);
        Box::pin(async move { decode(answer.await?) })
    }

    fn pay(&self, req: &PayRequest) -> LocalFuture<Result<PayOk, ApiError>> {
        let answer = request(
            format!("{}/{}", self.base, req.method()),
            "POST",
            Some(req.to_json()),
        );
        Box::pin(async move { decode(answer.await?) })
    }

    fn cancel(&self) -> LocalFuture<Result<String, ApiError>> {
        let answer = request(format!("{}/cancel", self.base), "POST", Some("{}".to_string()));
        Box::pin(async move { decode::<Next>(answer.await?).map(|n| n.0) })
    }

    fn navigate(&self, next: &str) {
        if is_safe_next(next) {
            assign(next);
        }
    }

    fn redirect(&self, url: &str) {
        if is_safe_redirect(url) {
            assign(url);
        }
    }
}

/// The text pack's file (`/pkg/texts.txt`, read by [`crate::i18n`]),
/// fetched with the Subresource Integrity hash the Worker put on `#app`,
/// so a changed file is refused. `None` if it could not be had.
pub async fn fetch_texts() -> Option<String> {
    let window = web_sys::window()?;
    let init = RequestInit::new();
    if let Some(sri) = window
        .document()
        .and_then(|d| d.get_element_by_id("app"))
        .and_then(|app| app.get_attribute("data-texts-integrity"))
        .filter(|s| !s.is_empty())
    {
        init.set_integrity(&sri);
    }
    let response: Response = JsFuture::from(window.fetch_with_str_and_init("/pkg/texts.txt", &init)).await.ok()?.unchecked_into();
    if !response.ok() {
        return None;
    }
    JsFuture::from(response.text().ok()?).await.ok()?.as_string()
}

fn assign(url: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(url);
    }
}

/// Fetches `url`: the answer's status and text, or a `network` error.
/// (One non-generic future for all endpoints: smaller wasm.)
async fn request(
    url: String,
    method: &'static str,
    body: Option<String>,
) -> Result<(u16, String), ApiError> {
    let network = |_| ApiError::new("network");
    let window = web_sys::window().ok_or_else(|| ApiError::new("internal"))?;
    let init = RequestInit::new();
    init.set_method(method);
    init.set_cache(RequestCache::NoStore);
    let headers = Headers::new().map_err(network)?;
    let _ = headers.set("Accept", "application/json");
    if let Some(body) = body {
        let _ = headers.set("Content-Type", "application/json");
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(network)?
        .unchecked_into();
    let text = JsFuture::from(response.text().map_err(network)?)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
    Ok((response.status(), text))
}

/// Reads an answer. A body `{"error": {"code": ...}, "next": ...}` is an
/// error whatever the status (so the Worker may answer shopper errors with
/// 200 and keep the browser console clean); otherwise a 2xx body is `T`.
/// What cannot be read becomes `internal` (or a code from the status).
pub fn decode<T: FromJson>((status, text): (u16, String)) -> Result<T, ApiError> {
    let json = Json::parse(&text);
    if let Some(e) = json.as_ref().and_then(ApiError::from_value) {
        return Err(e);
    }
    if (200..300).contains(&status) {
        return json
            .as_ref()
            .and_then(T::from_value)
            .ok_or_else(|| ApiError::new("internal"));
    }
    Err(ApiError::new(match status {
        404 => "not_found",
        429 => "rate_limited",
        502..=504 => "network",
        _ => "internal",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    // Also run them in the browser under `cargo test --target wasm32-unknown-unknown`.
    use crate::model::Status;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn decodes_answers_and_errors() {
        let answer = |status: u16, text: &str| (status, text.to_owned());
        let ok: PayOk = decode(answer(
            200,
            r#"{"status":"paid","next":"/pay/pay_x/return"}"#,
        ))
        .unwrap();
        assert_eq!(ok.status, Status::Paid);
        assert_eq!(ok.next.as_deref(), Some("/pay/pay_x/return"));
        let e = decode::<PayOk>(answer(
            402,
            r#"{"error":{"code":"insufficient_balance","message":"x"},"next":null}"#,
        ))
        .unwrap_err();
        assert_eq!(e, ApiError::new("insufficient_balance"));
        let e = decode::<PayOk>(answer(
            409,
            r#"{"error":{"code":"merchant_rejected","message":"x"},"next":"/pay/x/return"}"#,
        ))
        .unwrap_err();
        assert_eq!(e.next.as_deref(), Some("/pay/x/return"));
        assert_eq!(
            decode::<PayOk>(answer(404, "<html>")).unwrap_err().code,
            "not_found"
        );
        assert_eq!(
            decode::<PayOk>(answer(429, "")).unwrap_err().code,
            "rate_limited"
        );
        assert_eq!(
            decode::<PayOk>(answer(500, "")).unwrap_err().code,
            "internal"
        );
        assert_eq!(
            decode::<PayOk>(answer(200, "{}")).unwrap_err().code,
            "internal"
        );
        let n: Next = decode(answer(200, r#"{"next":"/pay/x/return"}"#)).unwrap();
        assert_eq!(n.0, "/pay/x/return");
        assert_eq!(
            decode::<Next>(answer(200, r#"{"next":null}"#))
                .unwrap_err()
                .code,
            "internal"
        );
        let e = decode::<PayOk>(answer(
            422,
            r#"{"error":{"code":"invalid_buyer","message":"x","fields":[{"field":"kana","code":"katakana"}]},"next":null}"#,
        ))
        .unwrap_err();
        assert_eq!(e.fields, vec![("kana".to_string(), "katakana".to_string())]);
        // An error body is an error even with 200.
        let e = decode::<PayOk>(answer(
            200,
            r#"{"error":{"code":"id_suspended","message":"x"},"next":null}"#,
        ))
        .unwrap_err();
        assert_eq!(e.code, "id_suspended");
    }

    #[test]
    fn request_bodies() {
        let id = NetcashId::parse("ABCD1234EFGH5678").unwrap();
        let r = PayRequest::Netcash(id);
        assert_eq!((r.method(), r.to_json().as_str()), ("netcash", r#"{"netcash_id":"ABCD1234EFGH5678"}"#));
        let r = PayRequest::Prepaid(PrepaidNumber::parse("1234 5678 1234 5678").unwrap());
        assert_eq!(r.to_json(), r#"{"card_number":"1234567812345678"}"#);
        assert_eq!(PayRequest::Au.to_json(), "{}");
        let b = shared::np::BuyerForm {
            name: "山田 \"太郎\"\\".into(),
            kana: "ヤマダ タロウ".into(),
            postal_code: "150-0001".into(),
            address: "東京都渋谷区神宮前1-2-3".into(),
            phone: "090-1234-5678".into(),
            email: "taro@Example.JP".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(
            PayRequest::Np(b).to_json(),
            r#"{"name":"山田 \"太郎\"\\","kana":"ヤマダ タロウ","postal_code":"1500001","address":"東京都渋谷区神宮前1-2-3","phone":"09012345678","email":"taro@example.jp"}"#
        );
        let card = |option| {
            PayRequest::Card(CardPayment {
                number: CardNumber::parse("4111 1111 1111 1111").unwrap(),
                expiry: Expiry::parse("5", "30", 2026, 1).unwrap(),
                cvc: Cvc::parse("123").unwrap(),
                option,
            })
            .to_json()
        };
        assert_eq!(
            card(PaymentOption::Single),
            r#"{"number":"4111111111111111","exp_month":"05","exp_year":"2030","cvc":"123","option":{"kind":"single"}}"#
        );
        assert!(card(PaymentOption::Installment { count: 3 })
            .ends_with(r#""option":{"kind":"installment","count":3}}"#));
        assert!(card(PaymentOption::BonusInstallment { count: 24 })
            .ends_with(r#""option":{"kind":"bonus_installment","count":24}}"#));
        assert_eq!(option_json(PaymentOption::Revolving), r#"{"kind":"revolving"}"#);
        assert_eq!(option_json(PaymentOption::Bonus), r#"{"kind":"bonus"}"#);
        let mut s = String::new();
        push_str(&mut s, "a\u{1}\n");
        assert_eq!(s, r#""a\u0001\u000a""#);
    }
}
