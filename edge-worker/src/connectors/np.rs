//! NP postpaid (Net Protections, NP後払い): register a transaction for
//! credit screening, ask a transaction's status, report the shipment that
//! fixes the sale, cancel before the shipment, refund after it; and read
//! NP's signed screening notifications. The only code of the Worker that
//! knows NP's wire format.
//!
//! Screening answers `approved`, `declined` or `pending` (held: NP decides
//! later and notifies us). A shopper's unpaid total at NP is limited
//! (54,000 yen by default); a registration over it is refused with
//! `E_LIMIT_EXCEEDED`. Calls are signed with `x-np-merchant`,
//! `x-np-timestamp` and `x-np-signature` ([`signed_headers`]).

use serde::{Deserialize, Serialize};
use shared::np::Buyer;
use shared::time::JstDate;
use shared::webhooks::{WebhookError, WebhookSecret};
use worker::Method;

use super::{signed_headers, Outcome};
use crate::config::ProviderEndpoint;
use crate::util::{self, HttpOutcome};


// ---- What we send -------------------------------------------------------

#[derive(Serialize)]
struct RegisterRequest<'a> {
    shop_code: &'a str,
    shop_transaction_id: &'a str,
    /// `YYYY-MM-DD`, JST.
    shop_order_date: String,
    /// Yen, tax included; the sum of the goods.
    billed_amount: u64,
    customer: Customer<'a>,
    goods: Vec<Goods<'a>>,
}

#[derive(Serialize)]
struct Customer<'a> {
    customer_name: &'a str,
    customer_name_kana: &'a str,
    zip_code: &'a str,
    address: &'a str,
    tel: &'a str,
    email: &'a str,
}

#[derive(Serialize)]
struct Goods<'a> {
    goods_name: &'a str,
    goods_price: u64,
    quantity: u32,
}

/// A shipment report, a cancellation or a refund.
#[derive(Serialize)]
struct OperationRequest<'a> {
    shop_code: &'a str,
    idempotency_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<u64>,
}

// ---- What NP answers ----------------------------------------------------

#[derive(Deserialize, Debug)]
struct Answer {
    #[serde(default)]
    np_transaction_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    shipment_id: Option<String>,
    #[serde(default)]
    refund_id: Option<String>,
    #[serde(default)]
    errors: Vec<WireError>,
}

#[derive(Deserialize, Debug)]
struct WireError {
    code: String,
}

impl Answer {
    fn error(&self) -> Option<&str> {
        self.errors.first().map(|e| e.code.as_str())
    }
}

fn read(out: &HttpOutcome) -> Result<(u16, Answer), String> {
    let Some(status) = out.status else { return Err(out.error.clone().unwrap_or_else(|| "no answer".into())) };
    serde_json::from_str::<Answer>(&out.body).map(|a| (status, a)).map_err(|_| format!("HTTP {status} with an unreadable body"))
}

/// What a screening registration came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screening {
    Approved { np_transaction_id: String },
    /// Held: NP decides later and notifies us.
    Pending { np_transaction_id: String },
    Declined,
    /// The shopper's unpaid total at NP would go over the limit.
    LimitExceeded,
    /// NP refused the buyer's details.
    InvalidBuyer,
    /// No clear answer.
    Unknown(String),
}

/// Maps NP's answer to a registration. Every status and error code NP
/// documents for it is listed; anything else is `Unknown`.
pub fn map_screening(out: &HttpOutcome) -> Screening {
    let (http, a) = match read(out) {
        Ok(v) => v,
        Err(why) => return Screening::Unknown(why),
    };
    let ok = (200..300).contains(&http);
    // A refusal is a 4xx: a 5xx is unclear whatever its body says.
    let refused = (400..500).contains(&http);
    match (ok, a.status.as_deref(), a.error(), a.np_transaction_id.clone()) {
        (true, Some("approved"), None, Some(np_transaction_id)) => Screening::Approved { np_transaction_id },
        (true, Some("pending"), None, Some(np_transaction_id)) => Screening::Pending { np_transaction_id },
        (true, Some("declined"), None, Some(_)) => Screening::Declined,
        (false, _, Some("E_LIMIT_EXCEEDED"), _) if refused => Screening::LimitExceeded,
        (false, _, Some("E_INVALID_CUSTOMER"), _) if refused => Screening::InvalidBuyer,
        (_, status, error, _) => Screening::Unknown(format!("HTTP {http} status {status:?} error {error:?}")),
    }
}

/// A transaction's state at NP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionStatus {
    Pending,
    Approved,
    Declined,
    /// The shipment was reported; NP invoices the shopper.
    Shipped,
    Cancelled,
    NotFound,
    Unknown(String),
}

/// Maps NP's answer to a status query.
pub fn map_status(out: &HttpOutcome) -> TransactionStatus {
    let (http, a) = match read(out) {
        Ok(v) => v,
        Err(why) => return TransactionStatus::Unknown(why),
    };
    match ((200..300).contains(&http), a.status.as_deref(), a.error()) {
        (true, Some("pending"), None) => TransactionStatus::Pending,
        (true, Some("approved"), None) => TransactionStatus::Approved,
        (true, Some("declined"), None) => TransactionStatus::Declined,
        (true, Some("shipped"), None) => TransactionStatus::Shipped,
        (true, Some("cancelled"), None) => TransactionStatus::Cancelled,
        // Not found is a 4xx: a 5xx is unclear whatever its body says.
        (false, _, Some("E_NOT_FOUND")) if (400..500).contains(&http) => TransactionStatus::NotFound,
        (_, status, error) => TransactionStatus::Unknown(format!("HTTP {http} status {status:?} error {error:?}")),
    }
}

/// What a shipment report, cancellation or refund came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Done; `id` is NP's reference of the shipment, refund or the
    /// cancelled transaction.
    Done { id: String },
    Refused(&'static str),
    Unknown(String),
}

/// Maps NP's answer to an operation on a transaction.
pub fn map_operation(out: &HttpOutcome) -> Operation {
    let (http, a) = match read(out) {
        Ok(v) => v,
        Err(why) => return Operation::Unknown(why),
    };
    if (200..300).contains(&http) && a.errors.is_empty() {
        return match a.refund_id.or(a.shipment_id).or(a.np_transaction_id) {
            Some(id) => Operation::Done { id },
            None => Operation::Unknown(format!("HTTP {http} without a reference")),
        };
    }
    // A refusal is a 4xx: a 5xx is unclear whatever its body says.
    if !(400..500).contains(&http) {
        return Operation::Unknown(format!("HTTP {http} NP error {:?}", a.error()));
    }
    match a.error() {
        Some("E_ALREADY_SHIPPED") => Operation::Refused("np_already_shipped"),
        Some("E_NOT_SHIPPED") => Operation::Refused("np_not_shipped"),
        Some("E_NOT_APPROVED") => Operation::Refused("np_not_approved"),
        Some("E_CANCELLED") => Operation::Refused("np_cancelled"),
        Some("E_REFUND_EXCEEDS_SALE") => Operation::Refused("refund_exceeds_sale"),
        Some("E_NOT_FOUND") => Operation::Refused("np_transaction_not_found"),
        Some(other) => Operation::Unknown(format!("HTTP {http} NP error {other}")),
        None => Operation::Unknown(format!("HTTP {http} without an error code")),
    }
}

/// An operation's answer as the connectors' one [`Outcome`].
pub fn operation_outcome(out: Operation) -> Outcome {
    match out {
        Operation::Done { id } => Outcome::Done { id },
        Operation::Refused(code) => Outcome::Refused { code: code.to_string() },
        Operation::Unknown(why) => Outcome::Unclear { why },
    }
}

/// Maps NP's status of one shipment report, cancellation or refund by its
/// idempotency key: `Done` with its reference, `NotFound` when NP never
/// saw it.
pub fn map_operation_status(out: &HttpOutcome) -> Outcome {
    if let Some(unclear) = Outcome::unclear_from(out) {
        return unclear;
    }
    match map_operation(out) {
        Operation::Done { id } => Outcome::Done { id },
        Operation::Refused("np_transaction_not_found") => Outcome::NotFound,
        Operation::Refused(code) => Outcome::Unclear { why: format!("status query answered {code}") },
        Operation::Unknown(why) => Outcome::Unclear { why },
    }
}

/// Maps NP's status of a transaction as an [`Outcome`] of its
/// registration: `Done` (NP's id) when approved or shipped, `Refused`
/// when declined or cancelled, `Unclear` while held, `NotFound` when NP
/// has none.
pub fn map_transaction_outcome(out: &HttpOutcome) -> Outcome {
    if let Some(unclear) = Outcome::unclear_from(out) {
        return unclear;
    }
    let id = read(out).ok().and_then(|(_, a)| a.np_transaction_id);
    match (map_status(out), id) {
        (TransactionStatus::Approved | TransactionStatus::Shipped, Some(id)) => Outcome::Done { id },
        (TransactionStatus::Declined, _) => Outcome::Refused { code: "np_declined".into() },
        (TransactionStatus::Cancelled, _) => Outcome::Refused { code: "np_cancelled".into() },
        (TransactionStatus::NotFound, _) => Outcome::NotFound,
        (TransactionStatus::Pending, _) => Outcome::Unclear { why: "held for screening".into() },
        (other, _) => Outcome::Unclear { why: format!("{other:?}") },
    }
}

/// The order as NP needs it for screening.
pub struct Order<'a> {
    /// Ours: `{payment id}-{attempt}`.
    pub shop_transaction_id: &'a str,
    pub order_date: JstDate,
    pub amount: u64,
    pub item_name: &'a str,
}

fn register_body(shop_code: &str, order: &Order<'_>, buyer: &Buyer) -> String {
    serde_json::to_string(&RegisterRequest {
        shop_code,
        shop_transaction_id: order.shop_transaction_id,
        shop_order_date: order.order_date.iso(),
        billed_amount: order.amount,
        customer: Customer {
            customer_name: &buyer.name,
            customer_name_kana: &buyer.kana,
            zip_code: &buyer.postal_code,
            address: &buyer.address,
            tel: &buyer.phone,
            email: &buyer.email,
        },
        goods: vec![Goods { goods_name: order.item_name, goods_price: order.amount, quantity: 1 }],
    })
    .expect("serializable")
}

pub struct Np<'a> {
    pub endpoint: &'a ProviderEndpoint,
}

impl Np<'_> {
    /// Registers the transaction for screening. Registering the same
    /// `shop_transaction_id` again answers the first registration.
    pub async fn register(&self, order: &Order<'_>, buyer: &Buyer) -> Screening {
        let body = register_body(&self.endpoint.merchant_code, order, buyer);
        map_screening(&self.call(Method::Post, "/v1/transactions", body).await)
    }

    pub async fn status(&self, np_transaction_id: &str) -> TransactionStatus {
        map_status(&self.call(Method::Get, &format!("/v1/transactions/{np_transaction_id}"), String::new()).await)
    }

    /// Reports the shipment: the sale is fixed and NP invoices the shopper.
    pub async fn ship(&self, np_transaction_id: &str, key: &str) -> Operation {
        self.operation(np_transaction_id, "shipments", key, None).await
    }

    /// Cancels a transaction not yet shipped (held or approved).
    pub async fn cancel(&self, np_transaction_id: &str, key: &str) -> Operation {
        self.operation(np_transaction_id, "cancel", key, None).await
    }

    /// Lowers a shipped transaction's billed amount by `amount`.
    pub async fn refund(&self, np_transaction_id: &str, key: &str, amount: u64) -> Operation {
        self.operation(np_transaction_id, "refunds", key, Some(amount)).await
    }


    /// What NP says of a transaction (NP's id, or our shop transaction id
    /// of the registration) as an [`Outcome`].
    pub async fn transaction_outcome(&self, id: &str) -> Outcome {
        map_transaction_outcome(&self.call(Method::Get, &format!("/v1/transactions/{id}"), String::new()).await)
    }

    /// [`Np::ship`] as an [`Outcome`].
    pub async fn ship_outcome(&self, np_transaction_id: &str, key: &str) -> Outcome {
        operation_outcome(self.ship(np_transaction_id, key).await)
    }

    /// [`Np::cancel`] as an [`Outcome`].
    pub async fn cancel_outcome(&self, np_transaction_id: &str, key: &str) -> Outcome {
        operation_outcome(self.cancel(np_transaction_id, key).await)
    }

    /// [`Np::refund`] as an [`Outcome`].
    pub async fn refund_outcome(&self, np_transaction_id: &str, key: &str, amount: u64) -> Outcome {
        operation_outcome(self.refund(np_transaction_id, key, amount).await)
    }

    /// What became of the shipment report (`op` = `shipments`),
    /// cancellation (`cancel`) or refund (`refunds`) of a transaction sent
    /// with idempotency key `key`.
    pub async fn operation_status(&self, np_transaction_id: &str, op: &str, key: &str) -> Outcome {
        map_operation_status(&self.call(Method::Get, &format!("/v1/transactions/{np_transaction_id}/{op}/{key}"), String::new()).await)
    }

    async fn operation(&self, np_transaction_id: &str, op: &str, key: &str, amount: Option<u64>) -> Operation {
        let body = serde_json::to_string(&OperationRequest { shop_code: &self.endpoint.merchant_code, idempotency_key: key, amount })
            .expect("serializable");
        map_operation(&self.call(Method::Post, &format!("/v1/transactions/{np_transaction_id}/{op}"), body).await)
    }

    async fn call(&self, method: Method, path: &str, body: String) -> HttpOutcome {
        let headers = signed_headers("np", self.endpoint, method.as_ref(), path, &body);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body = (!body.is_empty()).then_some(body);
        util::send(method, &format!("{}{}", self.endpoint.base_url, path), &headers, body, self.endpoint.timeout_ms).await
    }
}

// ---- NP's screening notifications to us ---------------------------------

/// The screening decision NP notifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approved,
    Declined,
}

/// A screening notification: `POST` with Standard Webhooks headers and
/// `{"type": "transaction.screening_decided", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub np_transaction_id: String,
    pub shop_transaction_id: String,
    pub decision: Decision,
}

#[derive(Deserialize)]
struct NotificationBody {
    #[serde(rename = "type")]
    kind: String,
    data: NotificationData,
}

#[derive(Deserialize)]
struct NotificationData {
    np_transaction_id: String,
    shop_transaction_id: String,
    result: String,
}

/// Why a notification was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationError {
    /// The signature does not verify (or the secret is not configured).
    Unverified(WebhookError),
    /// Signed, but not a notification we know.
    Unreadable(String),
}

/// Reads a notification without trusting it: only to know which
/// transaction to ask NP about when the signature does not verify.
pub fn claimed(body: &[u8]) -> Option<Notification> {
    let b: NotificationBody = serde_json::from_slice(body).ok()?;
    let decision = match b.data.result.as_str() {
        "approved" => Decision::Approved,
        "declined" => Decision::Declined,
        _ => return None,
    };
    Some(Notification { np_transaction_id: b.data.np_transaction_id, shop_transaction_id: b.data.shop_transaction_id, decision })
}

/// Verifies a notification's signature (constant time, ±300 s) and reads
/// it.
pub fn read_notification(
    secret: &str,
    webhook_id: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> Result<Notification, NotificationError> {
    let secret = WebhookSecret::parse(secret).map_err(NotificationError::Unverified)?;
    secret.verify(webhook_id, timestamp, signature, body, now).map_err(NotificationError::Unverified)?;
    let b: NotificationBody =
        serde_json::from_slice(body).map_err(|e| NotificationError::Unreadable(format!("not a notification: {e}")))?;
    if b.kind != "transaction.screening_decided" {
        return Err(NotificationError::Unreadable(format!("unknown type {}", b.kind)));
    }
    let decision = match b.data.result.as_str() {
        "approved" => Decision::Approved,
        "declined" => Decision::Declined,
        other => return Err(NotificationError::Unreadable(format!("unknown result {other}"))),
    };
    Ok(Notification { np_transaction_id: b.data.np_transaction_id, shop_transaction_id: b.data.shop_transaction_id, decision })
}

/// The masked e-mail kept with the payment: `t***@example.jp`.
pub fn masked_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> HttpOutcome {
        HttpOutcome { status: Some(status), body: body.into(), latency_ms: 1, error: None }
    }

    const SECRET: &str = "whsec_a2Vzc2FpLW5wLXNhbmRib3gtbm90aWZ5LXNlY3JldC0wMQ==";

    #[test]
    fn a_5xx_is_unclear_whatever_its_body_says() {
        // Found by the provider_answers fuzz target (fuzz/): an NP error
        // code in a 5xx answer was read as a refusal (or, for a status
        // query, as "no such transaction"), i.e. "nothing happened".
        let limit = r#"{"errors":[{"code":"E_LIMIT_EXCEEDED","message":"the shopper's unpaid total would exceed 54000 yen"}]}"#;
        let invalid = r#"{"errors":[{"code":"E_INVALID_CUSTOMER","message":"tel"}]}"#;
        let not_found = r#"{"errors":[{"code":"E_NOT_FOUND","message":"no such transaction"}]}"#;
        for status in [500, 502, 503, 63944] {
            assert!(matches!(map_screening(&answer(status, limit)), Screening::Unknown(_)), "{status}");
            assert!(matches!(map_screening(&answer(status, invalid)), Screening::Unknown(_)), "{status}");
            assert!(matches!(map_status(&answer(status, not_found)), TransactionStatus::Unknown(_)), "{status}");
            let shipped = r#"{"errors":[{"code":"E_ALREADY_SHIPPED","message":"cannot cancel"}]}"#;
            assert!(matches!(operation_outcome(map_operation(&answer(status, shipped))), Outcome::Unclear { .. }), "{status}");
        }
        assert_eq!(map_operation(&answer(409, include_str!("../../fixtures/np/cancel_already_shipped.json"))), Operation::Refused("np_already_shipped"));
        assert_eq!(map_screening(&answer(422, limit)), Screening::LimitExceeded);
        assert_eq!(map_status(&answer(404, not_found)), TransactionStatus::NotFound);
    }

    #[test]
    fn maps_screening_fixtures() {
        let f = |s, name| map_screening(&answer(s, name));
        assert_eq!(
            f(201, include_str!("../../fixtures/np/register_approved.json")),
            Screening::Approved { np_transaction_id: "np_0001".into() }
        );
        assert_eq!(
            f(201, include_str!("../../fixtures/np/register_pending.json")),
            Screening::Pending { np_transaction_id: "np_0002".into() }
        );
        assert_eq!(f(201, include_str!("../../fixtures/np/register_declined.json")), Screening::Declined);
        assert_eq!(f(422, include_str!("../../fixtures/np/register_limit_exceeded.json")), Screening::LimitExceeded);
        assert_eq!(f(400, r#"{"errors":[{"code":"E_INVALID_CUSTOMER","message":"tel"}]}"#), Screening::InvalidBuyer);
        // Anything not listed is unclear, never a success.
        assert!(matches!(f(201, r#"{"np_transaction_id":"np_1","status":"reviewing"}"#), Screening::Unknown(_)));
        assert!(matches!(f(201, r#"{"status":"approved"}"#), Screening::Unknown(_)));
        assert!(matches!(f(500, r#"{"status":"approved","np_transaction_id":"np_1"}"#), Screening::Unknown(_)));
        assert!(matches!(f(422, r#"{"errors":[{"code":"E_NEW"}]}"#), Screening::Unknown(_)));
        assert!(matches!(f(502, "<html>"), Screening::Unknown(_)));
        let timeout = HttpOutcome { status: None, body: String::new(), latency_ms: 15000, error: Some("timeout".into()) };
        assert!(matches!(map_screening(&timeout), Screening::Unknown(_)));
    }

    #[test]
    fn maps_status_and_operation_fixtures() {
        assert_eq!(map_status(&answer(200, include_str!("../../fixtures/np/status_approved.json"))), TransactionStatus::Approved);
        assert_eq!(map_status(&answer(200, r#"{"np_transaction_id":"np_1","status":"pending"}"#)), TransactionStatus::Pending);
        assert_eq!(map_status(&answer(200, r#"{"np_transaction_id":"np_1","status":"declined"}"#)), TransactionStatus::Declined);
        assert_eq!(map_status(&answer(200, r#"{"np_transaction_id":"np_1","status":"shipped"}"#)), TransactionStatus::Shipped);
        assert_eq!(map_status(&answer(200, r#"{"np_transaction_id":"np_1","status":"cancelled"}"#)), TransactionStatus::Cancelled);
        assert_eq!(map_status(&answer(404, r#"{"errors":[{"code":"E_NOT_FOUND"}]}"#)), TransactionStatus::NotFound);
        assert!(matches!(map_status(&answer(200, r#"{"status":"weird"}"#)), TransactionStatus::Unknown(_)));

        assert_eq!(map_operation(&answer(201, include_str!("../../fixtures/np/shipment_ok.json"))), Operation::Done { id: "sh_0001".into() });
        assert_eq!(map_operation(&answer(200, include_str!("../../fixtures/np/cancel_ok.json"))), Operation::Done { id: "np_0001".into() });
        assert_eq!(
            map_operation(&answer(409, include_str!("../../fixtures/np/cancel_already_shipped.json"))),
            Operation::Refused("np_already_shipped")
        );
        assert_eq!(map_operation(&answer(201, include_str!("../../fixtures/np/refund_ok.json"))), Operation::Done { id: "rf_0001".into() });
        assert_eq!(
            map_operation(&answer(422, r#"{"errors":[{"code":"E_REFUND_EXCEEDS_SALE"}]}"#)),
            Operation::Refused("refund_exceeds_sale")
        );
        assert!(matches!(map_operation(&answer(201, "{}")), Operation::Unknown(_)));
        assert!(matches!(map_operation(&answer(409, r#"{"errors":[{"code":"E_OTHER"}]}"#)), Operation::Unknown(_)));
    }

    #[test]
    fn answers_map_to_the_one_outcome_type() {
        let timeout = HttpOutcome { status: None, body: String::new(), latency_ms: 15000, error: Some("no answer within 15000 ms".into()) };
        assert!(matches!(operation_outcome(map_operation(&timeout)), Outcome::Unclear { .. }), "a timeout is unclear");
        assert!(matches!(operation_outcome(map_operation(&answer(500, r#"{"error":"internal_server_error"}"#))), Outcome::Unclear { .. }), "a 500 is unclear");
        assert!(matches!(operation_outcome(map_operation(&answer(201, r#"{"shipment_id":"sh"#))), Outcome::Unclear { .. }), "a broken body is unclear");
        assert!(matches!(map_screening(&answer(201, r#"{"np_transaction_id":"np_1","status":"reviewing"}"#)), Screening::Unknown(_)), "an unknown status is unclear");
        assert!(matches!(map_screening(&timeout), Screening::Unknown(_)));
        assert_eq!(
            map_screening(&answer(201, include_str!("../../fixtures/np/register_approved.json"))),
            Screening::Approved { np_transaction_id: "np_0001".into() }
        );
        assert_eq!(operation_outcome(map_operation(&answer(201, include_str!("../../fixtures/np/shipment_ok.json")))), Outcome::Done { id: "sh_0001".into() });
        assert_eq!(
            operation_outcome(map_operation(&answer(409, include_str!("../../fixtures/np/cancel_already_shipped.json")))),
            Outcome::Refused { code: "np_already_shipped".into() }
        );
    }

    #[test]
    fn status_queries_tell_done_from_never_seen() {
        assert_eq!(map_operation_status(&answer(201, include_str!("../../fixtures/np/shipment_ok.json"))), Outcome::Done { id: "sh_0001".into() });
        assert_eq!(map_operation_status(&answer(404, r#"{"errors":[{"code":"E_NOT_FOUND"}]}"#)), Outcome::NotFound);
        assert!(matches!(map_operation_status(&answer(500, "")), Outcome::Unclear { .. }));
        assert_eq!(map_transaction_outcome(&answer(200, include_str!("../../fixtures/np/status_approved.json"))), Outcome::Done { id: "np_0001".into() });
        assert_eq!(map_transaction_outcome(&answer(404, r#"{"errors":[{"code":"E_NOT_FOUND"}]}"#)), Outcome::NotFound);
        assert!(matches!(map_transaction_outcome(&answer(200, r#"{"np_transaction_id":"np_1","status":"pending"}"#)), Outcome::Unclear { .. }));
        assert!(matches!(map_transaction_outcome(&answer(502, "<html>")), Outcome::Unclear { .. }));
    }

    #[test]
    fn register_wire_format() {
        let buyer = shared::np::BuyerForm {
            name: "山田 太郎".into(),
            kana: "ヤマダ タロウ".into(),
            postal_code: "150-0001".into(),
            address: "東京都渋谷区神宮前1-2-3".into(),
            phone: "03-1234-5678".into(),
            email: "taro@example.jp".into(),
        }
        .validate()
        .unwrap();
        let order = Order {
            shop_transaction_id: "pay_x-1",
            order_date: JstDate::new(2026, 11, 23).unwrap(),
            amount: 1100,
            item_name: "緑茶 200g",
        };
        assert_eq!(register_body("NP0001", &order, &buyer), include_str!("../../fixtures/np/register_request.json").trim());
        let op = serde_json::to_string(&OperationRequest { shop_code: "NP0001", idempotency_key: "op_1", amount: Some(300) }).unwrap();
        assert_eq!(op, r#"{"shop_code":"NP0001","idempotency_key":"op_1","amount":300}"#);
        let op = serde_json::to_string(&OperationRequest { shop_code: "NP0001", idempotency_key: "op_1", amount: None }).unwrap();
        assert_eq!(op, r#"{"shop_code":"NP0001","idempotency_key":"op_1"}"#);
    }

    #[test]
    fn notifications_are_verified_before_they_are_read() {
        let body = include_str!("../../fixtures/np/notification_approved.json").trim().as_bytes();
        let secret = WebhookSecret::parse(SECRET).unwrap();
        let sig = secret.sign("ntf_1", 1_000_000, body);
        let n = read_notification(SECRET, "ntf_1", "1000000", &sig, body, 1_000_010).unwrap();
        assert_eq!(
            n,
            Notification { np_transaction_id: "np_0002".into(), shop_transaction_id: "pay_x-1".into(), decision: Decision::Approved }
        );
        assert_eq!(
            read_notification(SECRET, "ntf_1", "1000000", &sig, body, 1_000_400),
            Err(NotificationError::Unverified(WebhookError::TimestampOutOfTolerance))
        );
        assert_eq!(
            read_notification(SECRET, "ntf_2", "1000000", &sig, body, 1_000_000),
            Err(NotificationError::Unverified(WebhookError::NoMatchingSignature))
        );
        let other = "whsec_a2Vzc2FpLXNhbmRib3gtd2ViaG9vay1zZWNyZXQtMDE=";
        assert!(matches!(read_notification(other, "ntf_1", "1000000", &sig, body, 1_000_000), Err(NotificationError::Unverified(_))));
        // An unverified body may still say which transaction to ask about.
        assert_eq!(claimed(body).unwrap().np_transaction_id, "np_0002");

        let odd = br#"{"type":"transaction.screening_decided","data":{"np_transaction_id":"np_1","shop_transaction_id":"pay_x-1","result":"maybe"}}"#;
        let sig = secret.sign("ntf_3", 1_000_000, odd);
        assert!(matches!(read_notification(SECRET, "ntf_3", "1000000", &sig, odd, 1_000_000), Err(NotificationError::Unreadable(_))));
    }

    #[test]
    fn e_mail_is_masked() {
        assert_eq!(masked_email("taro@example.jp"), "t***@example.jp");
        assert_eq!(masked_email("x@hold.example"), "x***@hold.example");
    }
}
