//! au Kantan Kessai (KDDI): start a payment (the shopper continues on
//! KDDI's pages), ask a payment's status, settle (capture) specified
//! sales, cancel, refund. Calls are signed with the `x-au-*` headers; the
//! shopper's result comes back through the browser as a signed form
//! (`shared::au::ResultFields`), which the payment object verifies.

use serde::{Deserialize, Serialize};
use shared::au::ResultFields;
use shared::url::HttpUrl;
use worker::Method;

use super::{signed_headers, Outcome};
use crate::config::ProviderEndpoint;
use crate::util::{self, HttpOutcome};


/// `POST /api/v1/payments`: what the shopper is about to pay.
#[derive(Serialize, Debug)]
pub struct StartRequest<'a> {
    pub merchant_code: &'a str,
    /// Our reference of the attempt (`<payment id>-<attempt>`), echoed in
    /// the result; also the idempotency key of the start.
    pub service_ref: &'a str,
    pub amount: u64,
    pub item_name: &'a str,
    /// `auto` (captured at once) or `specified` (authorized, settled later).
    pub sales_mode: &'a str,
    /// Where KDDI sends the shopper back with the signed result.
    pub return_url: &'a str,
    /// The due date (Unix seconds): the shopper must start on the au side
    /// by then; KDDI then gives them 4 minutes to complete.
    pub limit_at: i64,
    /// The shopper's OpenID linked to the merchant's `cust_code`, if any:
    /// KDDI skips the login.
    pub open_id: Option<&'a str>,
    /// `recurring_simple` or `recurring_fixed` for a registration (the
    /// shopper consents at KDDI; its transaction id then names the
    /// continuation later charges use). Absent for one-time payments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing: Option<&'a str>,
}

/// `POST /api/v1/continuations/{id}/charges`: a recurring purchase.
#[derive(Serialize, Debug)]
struct ChargeRequest<'a> {
    merchant_code: &'a str,
    /// Our key of the charge (`<payment id>-<try>`): the same key is the
    /// same charge at KDDI.
    service_ref: &'a str,
    amount: u64,
    item_name: &'a str,
    sales_mode: &'a str,
}

/// What a recurring charge came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// Sold (`captured`: automatic sales) or authorized (specified sales).
    Charged { transaction_id: String, captured: bool },
    /// KDDI declined: our error code.
    Declined(&'static str),
    Unclear(String),
}

/// Maps the answer to a recurring charge (or to its status query).
pub fn map_charge(out: &HttpOutcome) -> ChargeOutcome {
    let (status, a) = match read(out) {
        Ok(v) => v,
        Err(e) => return ChargeOutcome::Unclear(e),
    };
    let charge: Option<String> = serde_json::from_str::<serde_json::Value>(&out.body).ok().and_then(|v| v["charge"].as_str().map(str::to_string));
    match (a.result.as_str(), a.error_code.as_deref()) {
        ("OK", _) if (200..300).contains(&status) => match (a.transaction_id, charge.as_deref()) {
            (Some(transaction_id), Some("captured")) => ChargeOutcome::Charged { transaction_id, captured: true },
            (Some(transaction_id), Some("authorized")) => ChargeOutcome::Charged { transaction_id, captured: false },
            _ => ChargeOutcome::Unclear("OK without a transaction or charge state".into()),
        },
        ("NG", _) if !(400..500).contains(&status) => ChargeOutcome::Unclear(format!("HTTP {status} NG")),
        ("NG", Some(code)) => match shared::au::Decline::from_wire(code) {
            Some(d) => ChargeOutcome::Declined(d.code()),
            None if code == "E_CONTINUATION_ENDED" => ChargeOutcome::Declined("au_contract_ended"),
            None => ChargeOutcome::Unclear(format!("au error {code}: {}", a.message.unwrap_or_default())),
        },
        _ => ChargeOutcome::Unclear(format!("HTTP {status} result {}", a.result)),
    }
}

/// `POST …/capture` and `…/refunds`.
#[derive(Serialize, Debug)]
struct AmountRequest<'a> {
    merchant_code: &'a str,
    idempotency_key: &'a str,
    amount: u64,
}

/// `POST …/cancel`.
#[derive(Serialize, Debug)]
struct CancelRequest<'a> {
    merchant_code: &'a str,
    idempotency_key: &'a str,
}

#[derive(Deserialize, Debug)]
struct Answer {
    result: String,
    #[serde(default)]
    transaction_id: Option<String>,
    #[serde(default)]
    login_url: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    outcome: Option<ResultFields>,
    #[serde(default)]
    operation_id: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// What a start came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    Started { transaction_id: String, login_url: String },
    Refused(&'static str),
    Unknown(String),
}

/// What KDDI says of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The shopper has not finished on the au side; `login_url` resumes.
    Open { login_url: String },
    /// Finished: the same fields the signed result carries.
    Final(Box<ResultFields>),
    NotFound,
    Unknown(String),
}

/// What a capture, cancel or refund came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpOutcome {
    Done { id: String },
    /// KDDI refused: its code and explanation.
    Refused(String),
    Unknown(String),
}

fn read(out: &HttpOutcome) -> Result<(u16, Answer), String> {
    let Some(status) = out.status else { return Err(out.error.clone().unwrap_or_else(|| "no answer".into())) };
    serde_json::from_str::<Answer>(&out.body).map(|a| (status, a)).map_err(|_| format!("HTTP {status} with an unreadable body"))
}

/// Whether `url` is on the au endpoint's origin: we send shoppers nowhere
/// else, whatever an answer says.
fn same_origin(url: &str, base_url: &str) -> bool {
    match (HttpUrl::parse(url), HttpUrl::parse(base_url)) {
        (Some(u), Some(b)) => u.origin() == b.origin(),
        _ => false,
    }
}

/// Maps the answer to a start. Every code is listed; anything else is
/// `Unknown`.
pub fn map_start(out: &HttpOutcome, base_url: &str) -> StartOutcome {
    let (status, a) = match read(out) {
        Ok(v) => v,
        Err(e) => return StartOutcome::Unknown(e),
    };
    match (a.result.as_str(), a.error_code.as_deref()) {
        ("OK", _) if (200..300).contains(&status) => match (a.transaction_id, a.login_url) {
            (Some(transaction_id), Some(login_url)) if same_origin(&login_url, base_url) => {
                StartOutcome::Started { transaction_id, login_url }
            }
            (_, Some(url)) => StartOutcome::Unknown(format!("login URL {url} is not on the au origin")),
            _ => StartOutcome::Unknown("OK without a transaction or login URL".into()),
        },
        // A refusal is a 4xx: a 5xx is unclear whatever its body says.
        ("NG", code) if !(400..500).contains(&status) => StartOutcome::Unknown(format!("HTTP {status} NG {code:?}")),
        ("NG", Some("E_ITEM_NAME_TOO_LONG")) => StartOutcome::Refused("au_item_name_too_long"),
        ("NG", Some("E_AMOUNT")) => StartOutcome::Refused("au_invalid_amount"),
        ("NG", Some(code)) => StartOutcome::Unknown(format!("au error {code}: {}", a.message.unwrap_or_default())),
        _ => StartOutcome::Unknown(format!("HTTP {status} result {}", a.result)),
    }
}

/// Maps the answer to a status query.
pub fn map_status(out: &HttpOutcome, base_url: &str) -> Status {
    let (status, a) = match read(out) {
        Ok(v) => v,
        Err(e) => return Status::Unknown(e),
    };
    match (a.result.as_str(), a.state.as_deref(), a.error_code.as_deref()) {
        ("OK", Some("open"), _) if (200..300).contains(&status) => match a.login_url {
            Some(login_url) if same_origin(&login_url, base_url) => Status::Open { login_url },
            _ => Status::Unknown("open without a usable login URL".into()),
        },
        ("OK", Some("final"), _) if (200..300).contains(&status) => match a.outcome {
            Some(o) => Status::Final(Box::new(o)),
            None => Status::Unknown("final without an outcome".into()),
        },
        // Not found is a 4xx: a 5xx is unclear whatever its body says.
        ("NG", _, Some("E_NOT_FOUND")) if (400..500).contains(&status) => Status::NotFound,
        _ => Status::Unknown(format!("HTTP {status} result {} state {:?}", a.result, a.state)),
    }
}

/// Maps the answer to a capture, cancel or refund.
pub fn map_op(out: &HttpOutcome) -> OpOutcome {
    let (status, a) = match read(out) {
        Ok(v) => v,
        Err(e) => return OpOutcome::Unknown(e),
    };
    match (a.result.as_str(), a.error_code) {
        ("OK", _) if (200..300).contains(&status) => match a.operation_id {
            Some(id) => OpOutcome::Done { id },
            None => OpOutcome::Unknown("OK without an operation id".into()),
        },
        ("NG", Some(code)) if (400..500).contains(&status) && code != "E_AUTH" => {
            OpOutcome::Refused(format!("{code}: {}", a.message.unwrap_or_default()))
        }
        (r, code) => OpOutcome::Unknown(format!("HTTP {status} result {r} {code:?}")),
    }
}

/// A capture, cancel or refund as the connectors' one [`Outcome`].
pub fn op_outcome(out: OpOutcome) -> Outcome {
    match out {
        OpOutcome::Done { id } => Outcome::Done { id },
        OpOutcome::Refused(code) => Outcome::Refused { code },
        OpOutcome::Unknown(why) => Outcome::Unclear { why },
    }
}

/// Maps KDDI's status of one capture, cancel or refund by its
/// idempotency key: `Done` with the operation id, `NotFound` when KDDI
/// never saw it.
pub fn map_operation_status(out: &HttpOutcome) -> Outcome {
    if let Some(unclear) = Outcome::unclear_from(out) {
        return unclear;
    }
    match map_op(out) {
        OpOutcome::Done { id } => Outcome::Done { id },
        OpOutcome::Refused(why) if out.status == Some(404) && why.starts_with("E_NOT_FOUND") => Outcome::NotFound,
        OpOutcome::Refused(why) | OpOutcome::Unknown(why) => Outcome::Unclear { why },
    }
}

pub struct Au<'a> {
    pub endpoint: &'a ProviderEndpoint,
}

impl Au<'_> {
    /// Asks KDDI to start a payment; the shopper is then sent to `login_url`.
    pub async fn start(&self, req: &StartRequest<'_>) -> StartOutcome {
        let body = serde_json::to_string(req).expect("serializable");
        map_start(&self.call(Method::Post, "/api/v1/payments", body).await, &self.endpoint.base_url)
    }

    pub async fn status(&self, transaction_id: &str) -> Status {
        let path = format!("/api/v1/payments/{transaction_id}");
        map_status(&self.call(Method::Get, &path, String::new()).await, &self.endpoint.base_url)
    }

    /// Settles (captures) specified sales, fully or partly.
    /// KDDI's dispute state of a sold transaction (`investigation`,
    /// `cleared`, `chargeback`), if any: asked when a notification cannot
    /// be verified.
    pub async fn dispute_state(&self, transaction_id: &str) -> Option<String> {
        let path = format!("/api/v1/payments/{transaction_id}");
        let out = self.call(Method::Get, &path, String::new()).await;
        let v: serde_json::Value = serde_json::from_str(&out.body).ok()?;
        v["dispute"].as_str().map(str::to_string)
    }

    pub async fn capture(&self, transaction_id: &str, key: &str, amount: u64) -> OpOutcome {
        let body = serde_json::to_string(&AmountRequest { merchant_code: &self.endpoint.merchant_code, idempotency_key: key, amount })
            .expect("serializable");
        map_op(&self.call(Method::Post, &format!("/api/v1/payments/{transaction_id}/capture"), body).await)
    }

    /// Cancels an authorization, or a payment the shopper has not finished.
    pub async fn cancel(&self, transaction_id: &str, key: &str) -> OpOutcome {
        let body = serde_json::to_string(&CancelRequest { merchant_code: &self.endpoint.merchant_code, idempotency_key: key })
            .expect("serializable");
        map_op(&self.call(Method::Post, &format!("/api/v1/payments/{transaction_id}/cancel"), body).await)
    }

    pub async fn refund(&self, transaction_id: &str, key: &str, amount: u64) -> OpOutcome {
        let body = serde_json::to_string(&AmountRequest { merchant_code: &self.endpoint.merchant_code, idempotency_key: key, amount })
            .expect("serializable");
        map_op(&self.call(Method::Post, &format!("/api/v1/payments/{transaction_id}/refunds"), body).await)
    }

    /// [`Au::capture`] as an [`Outcome`].
    pub async fn capture_outcome(&self, transaction_id: &str, key: &str, amount: u64) -> Outcome {
        op_outcome(self.capture(transaction_id, key, amount).await)
    }

    /// [`Au::cancel`] as an [`Outcome`].
    pub async fn cancel_outcome(&self, transaction_id: &str, key: &str) -> Outcome {
        op_outcome(self.cancel(transaction_id, key).await)
    }

    /// [`Au::refund`] as an [`Outcome`].
    pub async fn refund_outcome(&self, transaction_id: &str, key: &str, amount: u64) -> Outcome {
        op_outcome(self.refund(transaction_id, key, amount).await)
    }

    /// What became of the capture, cancel or refund of `transaction_id`
    /// sent with idempotency key `key`.
    pub async fn operation_status(&self, transaction_id: &str, key: &str) -> Outcome {
        let path = format!("/api/v1/payments/{transaction_id}/operations/{key}");
        map_operation_status(&self.call(Method::Get, &path, String::new()).await)
    }


    /// Charges a continuation (a recurring purchase); `service_ref` makes
    /// a repeat the same charge.
    pub async fn charge(&self, continuation_id: &str, service_ref: &str, amount: u64, item_name: &str, specified: bool) -> ChargeOutcome {
        let body = serde_json::to_string(&ChargeRequest {
            merchant_code: &self.endpoint.merchant_code,
            service_ref,
            amount,
            item_name,
            sales_mode: if specified { "specified" } else { "auto" },
        })
        .expect("serializable");
        map_charge(&self.call(Method::Post, &format!("/api/v1/continuations/{continuation_id}/charges"), body).await)
    }

    /// What KDDI says of the charge sent with `service_ref`: `NotFound`
    /// when it never saw it.
    pub async fn charge_status(&self, continuation_id: &str, service_ref: &str) -> ChargeOutcome {
        let out = self.call(Method::Get, &format!("/api/v1/continuations/{continuation_id}/charges/{service_ref}"), String::new()).await;
        if out.status == Some(404) && out.body.contains("E_NOT_FOUND") {
            return ChargeOutcome::Declined("not_found");
        }
        map_charge(&out)
    }

    /// Ends a continuation (the shopper or the merchant unsubscribed).
    pub async fn end_continuation(&self, continuation_id: &str, key: &str) -> Outcome {
        let body = serde_json::to_string(&CancelRequest { merchant_code: &self.endpoint.merchant_code, idempotency_key: key }).expect("serializable");
        op_outcome(map_op(&self.call(Method::Post, &format!("/api/v1/continuations/{continuation_id}/cancel"), body).await))
    }

    async fn call(&self, method: Method, path: &str, body: String) -> HttpOutcome {
        let headers = signed_headers("au", self.endpoint, method.as_ref(), path, &body);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body = (!body.is_empty()).then_some(body);
        util::send(method, &format!("{}{}", self.endpoint.base_url, path), &headers, body, self.endpoint.timeout_ms).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:8787/sandbox/au";

    fn answer(status: u16, body: &str) -> HttpOutcome {
        HttpOutcome { status: Some(status), body: body.into(), latency_ms: 1, error: None }
    }

    /// Found by the provider_answers fuzz target (fuzz/): an NG code in a
    /// 5xx answer was read as a refusal or as "no such payment".
    #[test]
    fn a_5xx_is_unclear_whatever_its_body_says() {
        let too_long = r#"{"result":"NG","error_code":"E_ITEM_NAME_TOO_LONG","message":"x"}"#;
        let not_found = r#"{"result":"NG","error_code":"E_NOT_FOUND","message":"x"}"#;
        for status in [500, 503, 713] {
            assert!(matches!(map_start(&answer(status, too_long), BASE), StartOutcome::Unknown(_)), "{status}");
            assert!(matches!(map_status(&answer(status, not_found), BASE), Status::Unknown(_)), "{status}");
        }
        assert!(matches!(map_start(&answer(422, too_long), BASE), StartOutcome::Refused(_)));
        assert_eq!(map_status(&answer(404, not_found), BASE), Status::NotFound);
    }

    #[test]
    fn start_wire_format() {
        let body = serde_json::to_string(&StartRequest {
            merchant_code: "AU0001",
            service_ref: "pay_x-1",
            amount: 1100,
            item_name: "緑茶 200g",
            sales_mode: "auto",
            return_url: "http://127.0.0.1:8787/pay/pay_x/au/return",
            limit_at: 1_795_392_240,
            open_id: None,
            billing: None,
        })
        .unwrap();
        assert_eq!(body, include_str!("../../fixtures/au/start_request.json").trim());
        let linked = serde_json::to_string(&StartRequest {
            merchant_code: "AU0001",
            service_ref: "pay_x-2",
            amount: 1100,
            item_name: "緑茶 200g",
            sales_mode: "specified",
            return_url: "http://127.0.0.1:8787/pay/pay_x/au/return",
            limit_at: 1_795_392_240,
            open_id: Some("oid_4f1c"),
            billing: Some("recurring_fixed"),
        })
        .unwrap();
        assert!(linked.contains(r#""sales_mode":"specified""#) && linked.ends_with(r#""open_id":"oid_4f1c","billing":"recurring_fixed"}"#), "{linked}");
    }

    #[test]
    fn maps_start_answers() {
        assert_eq!(
            map_start(&answer(201, include_str!("../../fixtures/au/start_ok.json")), BASE),
            StartOutcome::Started {
                transaction_id: "au_0001".into(),
                login_url: "http://127.0.0.1:8787/sandbox/au/authorize?tx=au_0001".into()
            }
        );
        assert_eq!(
            map_start(&answer(422, include_str!("../../fixtures/au/start_item_name_too_long.json")), BASE),
            StartOutcome::Refused("au_item_name_too_long")
        );
        // A login URL elsewhere is never followed.
        let evil = r#"{"result":"OK","transaction_id":"au_1","login_url":"https://evil.example/login"}"#;
        assert!(matches!(map_start(&answer(201, evil), BASE), StartOutcome::Unknown(_)));
        assert!(matches!(map_start(&answer(500, "oops"), BASE), StartOutcome::Unknown(_)));
        assert!(matches!(map_start(&answer(400, r#"{"result":"NG","error_code":"E_NEW"}"#), BASE), StartOutcome::Unknown(_)));
        let timeout = HttpOutcome { status: None, body: String::new(), latency_ms: 15000, error: Some("timeout".into()) };
        assert!(matches!(map_start(&timeout, BASE), StartOutcome::Unknown(_)));
    }

    #[test]
    fn maps_charge_answers() {
        assert_eq!(
            map_charge(&answer(200, r#"{"result":"OK","transaction_id":"au_9","charge":"captured","amount":980}"#)),
            ChargeOutcome::Charged { transaction_id: "au_9".into(), captured: true }
        );
        assert_eq!(
            map_charge(&answer(200, r#"{"result":"OK","transaction_id":"au_9","charge":"authorized","amount":980}"#)),
            ChargeOutcome::Charged { transaction_id: "au_9".into(), captured: false }
        );
        assert_eq!(map_charge(&answer(402, r#"{"result":"NG","error_code":"limit_exceeded"}"#)), ChargeOutcome::Declined("au_limit_exceeded"));
        assert_eq!(map_charge(&answer(409, r#"{"result":"NG","error_code":"E_CONTINUATION_ENDED"}"#)), ChargeOutcome::Declined("au_contract_ended"));
        assert!(matches!(map_charge(&answer(500, r#"{"result":"NG","error_code":"limit_exceeded"}"#)), ChargeOutcome::Unclear(_)));
        assert!(matches!(map_charge(&answer(200, r#"{"result":"OK"}"#)), ChargeOutcome::Unclear(_)));
    }

    #[test]
    fn maps_status_answers() {
        assert_eq!(
            map_status(&answer(200, include_str!("../../fixtures/au/status_open.json")), BASE),
            Status::Open { login_url: "http://127.0.0.1:8787/sandbox/au/authorize?tx=au_0001".into() }
        );
        let Status::Final(f) = map_status(&answer(200, include_str!("../../fixtures/au/status_final_ok.json")), BASE) else {
            panic!("final expected")
        };
        assert_eq!(f.result, "OK");
        assert!(matches!(f.outcome(), Some(shared::au::Outcome::Paid { method: shared::au::AuPaymentMethod::AuPhoneBill, .. })));
        assert_eq!(map_status(&answer(404, r#"{"result":"NG","error_code":"E_NOT_FOUND"}"#), BASE), Status::NotFound);
        assert!(matches!(map_status(&answer(200, r#"{"result":"OK","state":"weird"}"#), BASE), Status::Unknown(_)));
    }

    #[test]
    fn maps_operation_answers() {
        assert_eq!(map_op(&answer(200, include_str!("../../fixtures/au/refund_ok.json"))), OpOutcome::Done { id: "auop_0001".into() });
        match map_op(&answer(422, include_str!("../../fixtures/au/refund_deadline.json"))) {
            OpOutcome::Refused(why) => assert!(why.starts_with("E_DEADLINE") && why.contains("2027-01-31"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(map_op(&answer(401, r#"{"result":"NG","error_code":"E_AUTH"}"#)), OpOutcome::Unknown(_)));
        assert!(matches!(map_op(&answer(200, r#"{"result":"OK"}"#)), OpOutcome::Unknown(_)));
        let body = serde_json::to_string(&AmountRequest { merchant_code: "AU0001", idempotency_key: "op_1", amount: 500 }).unwrap();
        assert_eq!(body, include_str!("../../fixtures/au/capture_request.json").trim());
    }

    #[test]
    fn operation_answers_map_to_the_one_outcome_type() {
        let timeout = HttpOutcome { status: None, body: String::new(), latency_ms: 15000, error: Some("no answer within 15000 ms".into()) };
        assert!(matches!(op_outcome(map_op(&timeout)), Outcome::Unclear { .. }), "a timeout is unclear");
        assert!(matches!(op_outcome(map_op(&answer(500, r#"{"error":"internal_server_error"}"#))), Outcome::Unclear { .. }), "a 500 is unclear");
        assert!(matches!(op_outcome(map_op(&answer(200, r#"{"result":"OK","operation_id":"au"#))), Outcome::Unclear { .. }), "a broken body is unclear");
        assert!(matches!(op_outcome(map_op(&answer(200, r#"{"result":"MAYBE"}"#))), Outcome::Unclear { .. }), "an unknown status is unclear");
        assert_eq!(op_outcome(map_op(&answer(200, include_str!("../../fixtures/au/refund_ok.json")))), Outcome::Done { id: "auop_0001".into() });
        assert!(matches!(op_outcome(map_op(&answer(422, include_str!("../../fixtures/au/refund_deadline.json")))), Outcome::Refused { .. }));
    }

    #[test]
    fn operation_status_tells_done_from_never_seen() {
        assert_eq!(map_operation_status(&answer(200, include_str!("../../fixtures/au/refund_ok.json"))), Outcome::Done { id: "auop_0001".into() });
        assert_eq!(map_operation_status(&answer(404, r#"{"result":"NG","error_code":"E_NOT_FOUND","message":"no operation"}"#)), Outcome::NotFound);
        assert!(matches!(map_operation_status(&answer(500, "")), Outcome::Unclear { .. }));
        assert!(matches!(map_operation_status(&answer(401, r#"{"result":"NG","error_code":"E_AUTH"}"#)), Outcome::Unclear { .. }));
    }

    /// The signed result of the fixture verifies with the sandbox secret,
    /// and a changed field does not.
    #[test]
    fn result_form_fixture_verifies() {
        let form = include_str!("../../fixtures/au/result_ok.form").trim();
        let pairs = util::parse_form(form).unwrap();
        let (fields, signature) = ResultFields::from_pairs(&pairs).unwrap();
        assert!(fields.verify(b"au-sandbox-api-secret", &signature));
        let mut tampered = fields.clone();
        tampered.amount = "1".into();
        assert!(!tampered.verify(b"au-sandbox-api-secret", &signature));
    }
}
