//! The only module that talks to the server (web-sys `fetch`, no HTTP
//! crate) and moves the browser elsewhere. Components see it through the
//! [`Backend`] trait, so tests render them with a fake.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use shared::netcash::NetcashId;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestCache, RequestInit, Response};

use crate::json::Json;
use crate::model::{is_safe_next, ApiError, FromJson, Next, PayOk, Session};

pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// What the page needs from the outside world.
pub trait Backend {
    /// `GET /pay/{id}/session`
    fn session(&self) -> LocalFuture<Result<Session, ApiError>>;
    /// `POST /pay/{id}/netcash`
    fn pay_netcash(&self, id: NetcashId) -> LocalFuture<Result<PayOk, ApiError>>;
    /// `POST /pay/{id}/cancel`: where to send the shopper.
    fn cancel(&self) -> LocalFuture<Result<String, ApiError>>;
    /// Leaves the page for a same-origin path.
    fn navigate(&self, next: &str);
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
        let answer = request(format!("{}/session", self.base), "GET", None);
        Box::pin(async move { decode(answer.await?) })
    }

    fn pay_netcash(&self, id: NetcashId) -> LocalFuture<Result<PayOk, ApiError>> {
        // A NetcashId is 16 ASCII alphanumerics: nothing to escape.
        let body = format!(r#"{{"netcash_id":"{}"}}"#, id.as_str());
        let answer = request(format!("{}/netcash", self.base), "POST", Some(body));
        Box::pin(async move { decode(answer.await?) })
    }

    fn cancel(&self) -> LocalFuture<Result<String, ApiError>> {
        let answer = request(format!("{}/cancel", self.base), "POST", Some("{}".to_string()));
        Box::pin(async move { decode::<Next>(answer.await?).map(|n| n.0) })
    }

    fn navigate(&self, next: &str) {
        if is_safe_next(next) {
            if let Some(window) = web_sys::window() {
                let _ = window.location().assign(next);
            }
        }
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
        // An error body is an error even with 200.
        let e = decode::<PayOk>(answer(
            200,
            r#"{"error":{"code":"id_suspended","message":"x"},"next":null}"#,
        ))
        .unwrap_err();
        assert_eq!(e.code, "id_suspended");
    }
}
