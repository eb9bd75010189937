//! CyberSource REST API: card payments with Japanese Payment Options (JPO),
//! acquirer Sumitomo Mitsui Card (PRODUCT §2).
//!
//! * authorize — `POST /pts/v2/payments`, with `processingInformation.capture`
//!   `true` for automatic sales (authorize and capture at once) and `false`
//!   for specified sales;
//! * capture — `POST /pts/v2/payments/{id}/captures` (full or partial);
//! * void — `POST /pts/v2/payments/{id}/voids` (a capture or sale not yet
//!   settled);
//! * reverse — `POST /pts/v2/payments/{id}/reversals`: an uncaptured
//!   authorization is cancelled by an authorization reversal;
//! * timeout reversal / timeout void — `POST /pts/v2/reversals`,
//!   `POST /pts/v2/voids`: undo what the request sent with a
//!   `clientReferenceInformation.transactionId` did when its answer never
//!   came (authorizations, captures and refunds carry one, derived from
//!   their key: [`transaction_id_for`]);
//! * status — `GET /tss/v2/transactions/{id}`, and the search by
//!   transactionId (`POST /tss/v2/searches`);
//! * refund — `POST /pts/v2/payments/{id}/refunds` (full or partial).
//!   We refund with the **payment id** (the authorization's, which for
//!   automatic sales is also the sale's): CyberSource's "refund a payment"
//!   takes it, the payment object keeps exactly one provider reference,
//!   and our sales allow one capture per payment, so the payment id names
//!   the captured money unambiguously. (`/pts/v2/captures/{capture id}/refunds`
//!   would need the capture id stored too, for no gain.)
//!
//! Every request is signed with CyberSource's HTTP Signature
//! ([`shared::httpsig`]); `request-target` is the API path relative to the
//! configured base URL. Payment-option codes are those of CyberSource's SDK
//! model `Ptsv2paymentsProcessingInformationJapanPaymentOptions`:
//! `10` single, `21` bonus (one-time), `61` installment (with
//! `installments`), `80` revolving, `31` bonus + installment (with
//! `installments`).
//!
//! The card number and CVC exist here only inside the request body being
//! sent; nothing here logs a body.

use serde::{Deserialize, Serialize};
use shared::codes::Code;
use shared::card::{Brand, CardDetails, PaymentOption};
use worker::Method;

use super::Outcome;
use crate::config::CybersourceEndpoint;
use crate::util::{self, HttpOutcome};


#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PaymentRequest<'a> {
    client_reference_information: ClientReference<'a>,
    processing_information: Processing,
    payment_information: PaymentInformation<'a>,
    order_information: OrderInformation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientReference<'a> {
    code: &'a str,
    /// Our transaction id for CyberSource's timeout reversal / timeout
    /// void ([`transaction_id_for`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_id: Option<String>,
}

impl<'a> ClientReference<'a> {
    fn of(code: &'a str) -> Self {
        ClientReference { code, transaction_id: None }
    }
    /// The code and the transaction id derived from it.
    fn keyed(code: &'a str) -> Self {
        ClientReference { code, transaction_id: Some(transaction_id_for(code)) }
    }
}

/// The `clientReferenceInformation.transactionId` we send with the
/// request keyed `key` (an authorization's reference, a capture's or
/// refund's idempotency key): 20 digits derived from the key, so that the
/// same request always carries the same one and a timeout reversal or
/// timeout void can name it from the key alone.
pub fn transaction_id_for(key: &str) -> String {
    let d = shared::signing::sha256(format!("kessai-link/transaction-id/{key}").as_bytes());
    let mut n = u128::from_be_bytes(d[..16].try_into().expect("16 bytes"));
    let mut s = String::with_capacity(20);
    for _ in 0..20 {
        s.push((b'0' + (n % 10) as u8) as char);
        n /= 10;
    }
    s
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Processing {
    capture: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    japan_payment_options: Option<JapanPaymentOptions>,
}

/// `processingInformation.japanPaymentOptions`.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct JapanPaymentOptions {
    pub payment_method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installments: Option<String>,
}

#[derive(Serialize)]
struct PaymentInformation<'a> {
    card: Card<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Card<'a> {
    number: &'a str,
    expiration_month: String,
    expiration_year: String,
    security_code: &'a str,
    #[serde(rename = "type")]
    card_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderInformation {
    amount_details: AmountDetails,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AmountDetails {
    /// Whole yen as a string: JPY has no minor unit.
    total_amount: String,
    currency: &'static str,
}

fn yen(amount: u64) -> OrderInformation {
    OrderInformation { amount_details: AmountDetails { total_amount: amount.to_string(), currency: "JPY" } }
}

/// Captures, voids and refunds.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FollowOnRequest<'a> {
    client_reference_information: ClientReference<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_information: Option<OrderInformation>,
}

/// CyberSource's card type codes.
pub fn card_type(brand: Brand) -> &'static str {
    match brand {
        Brand::Visa => "001",
        Brand::Mastercard => "002",
        Brand::Amex => "003",
        Brand::Diners => "005",
        Brand::Jcb => "007",
        Brand::Unknown => "000",
    }
}

/// The JPO fields for a payment option. JPO is Visa only; a single
/// payment with another brand is an ordinary payment (no JPO fields). A
/// single payment with a Visa is sent as JPO single (`10`): only
/// CyberSource knows whether the card was issued in Japan, which JPO
/// single requires (see [`Cybersource::authorize`]).
pub fn japan_payment_options(option: PaymentOption, brand: Brand) -> Option<JapanPaymentOptions> {
    let jpo = |payment_method, installments: Option<u8>| {
        Some(JapanPaymentOptions { payment_method, installments: installments.map(|n| n.to_string()) })
    };
    match option {
        PaymentOption::Single if brand == Brand::Visa => jpo("10", None),
        PaymentOption::Single => None,
        PaymentOption::Bonus => jpo("21", None),
        PaymentOption::Installment { count } => jpo("61", Some(count)),
        PaymentOption::Revolving => jpo("80", None),
        PaymentOption::BonusInstallment { count } => jpo("31", Some(count)),
    }
}

/// An authorization without a transaction id (the fixtures' wire format).
#[cfg(test)]
fn payment_body(reference: &str, card: &CardDetails, amount: u64, capture: bool, jpo: Option<JapanPaymentOptions>) -> String {
    payment_body_with(ClientReference::of(reference), card, amount, capture, jpo)
}

/// The authorization we send: with the transaction id derived from the
/// reference.
fn keyed_payment_body(reference: &str, card: &CardDetails, amount: u64, capture: bool, jpo: Option<JapanPaymentOptions>) -> String {
    payment_body_with(ClientReference::keyed(reference), card, amount, capture, jpo)
}

fn payment_body_with(client_reference: ClientReference<'_>, card: &CardDetails, amount: u64, capture: bool, jpo: Option<JapanPaymentOptions>) -> String {
    serde_json::to_string(&PaymentRequest {
        client_reference_information: client_reference,
        processing_information: Processing { capture, japan_payment_options: jpo },
        payment_information: PaymentInformation {
            card: Card {
                number: card.number.expose(),
                expiration_month: format!("{:02}", card.expiry.month),
                expiration_year: card.expiry.year.to_string(),
                security_code: card.cvc.expose(),
                card_type: card_type(card.number.brand()),
            },
        },
        order_information: yen(amount),
    })
    .expect("serializable")
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct Answer {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Vec<Detail>,
    #[serde(default)]
    error_information: Option<ErrorInformation>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct ErrorInformation {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Vec<Detail>,
}

#[derive(Deserialize, Debug, Default)]
struct Detail {
    #[serde(default)]
    field: Option<String>,
}

impl Answer {
    fn reason(&self) -> &str {
        self.error_information.as_ref().and_then(|e| e.reason.as_deref()).or(self.reason.as_deref()).unwrap_or("")
    }
    fn message(&self) -> &str {
        self.error_information.as_ref().and_then(|e| e.message.as_deref()).or(self.message.as_deref()).unwrap_or("")
    }
    fn fields(&self) -> impl Iterator<Item = &str> {
        self.details.iter().chain(self.error_information.iter().flat_map(|e| e.details.iter())).filter_map(|d| d.field.as_deref())
    }
    fn why(&self, http: u16) -> String {
        format!("HTTP {http} {} {} {}", self.status.as_deref().unwrap_or("-"), self.reason(), self.message())
    }
}

/// What an authorization came to, in our words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// `AUTHORIZED` (and captured, if capture was asked): `id` is the payment.
    Approved { id: String },
    /// An authorization exists but must not stand (partial, held for
    /// review, declined by risk rules): void `id`, tell the shopper `code`.
    MustVoid { id: String, code: &'static str, why: String },
    /// Refused; nothing was authorized.
    Refused { code: &'static str, why: String },
    /// No clear answer.
    Unknown(String),
}

/// What a capture, void or refund came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpOutcome {
    /// Done; `id` is the capture, void or refund.
    Done { id: String },
    Refused(String),
    Unknown(String),
}

/// The shopper-facing code of an issuer decline (`errorInformation.reason`).
fn decline_code(reason: &str) -> &'static str {
    match reason {
        "EXPIRED_CARD" => Code::CardExpired.as_str(),
        "INVALID_CVN" | "CVN_NOT_MATCH" | "CV_FAILED" => Code::InvalidCvc.as_str(),
        "INVALID_ACCOUNT" => Code::InvalidCardNumber.as_str(),
        // INSUFFICIENT_FUND, EXCEEDS_CREDIT_LIMIT, STOLEN_LOST_CARD,
        // PROCESSOR_DECLINED, GENERAL_DECLINE, …: the shopper hears only
        // that the card was declined.
        _ => Code::CardDeclined.as_str(),
    }
}

/// The shopper-facing code of an `INVALID_REQUEST` about the shopper's
/// card or option; `None` when the request itself was at fault (ours).
fn invalid_request_code(a: &Answer) -> Option<&'static str> {
    let fields: Vec<&str> = a.fields().collect();
    let has = |prefix: &str| fields.iter().any(|f| f.starts_with(prefix));
    if has("processingInformation.japanPaymentOptions") {
        return Some("payment_option_unavailable");
    }
    match a.reason() {
        "CARD_TYPE_NOT_ACCEPTED" | "INVALID_CARD_TYPE" => return Some("card_not_accepted"),
        "INVALID_CARD" => return Some("invalid_card_number"),
        _ => {}
    }
    if has("paymentInformation.card.number") {
        Some("invalid_card_number")
    } else if has("paymentInformation.card.expiration") {
        Some("invalid_expiry")
    } else if has("paymentInformation.card.securityCode") {
        Some("invalid_cvc")
    } else {
        None
    }
}

/// Maps the answer to `POST /pts/v2/payments`. Every status CyberSource
/// documents for it is listed; anything else is `Unknown`.
pub fn map_payment(out: &HttpOutcome) -> AuthOutcome {
    let Some(http) = out.status else { return AuthOutcome::Unknown(out.error.clone().unwrap_or_else(|| "no answer".into())) };
    let Ok(a) = serde_json::from_str::<Answer>(&out.body) else {
        return AuthOutcome::Unknown(format!("HTTP {http} with an unreadable body"));
    };
    let why = a.why(http);
    let must_void = |code| match &a.id {
        Some(id) => AuthOutcome::MustVoid { id: id.clone(), code, why: why.clone() },
        None => AuthOutcome::Unknown(why.clone()),
    };
    match (http, a.status.as_deref().unwrap_or("")) {
        (200 | 201, "AUTHORIZED") => match &a.id {
            Some(id) => AuthOutcome::Approved { id: id.clone() },
            None => AuthOutcome::Unknown(format!("{why} without a payment id")),
        },
        // We never ask for partial authorizations: an amount below the
        // order's would have to be settled as is.
        (200 | 201, "PARTIAL_AUTHORIZED") => must_void("card_declined"),
        // No review queue here: the authorization is released and the
        // shopper may try another card.
        (200 | 201, "AUTHORIZED_PENDING_REVIEW") => must_void("card_declined"),
        (200 | 201, "AUTHORIZED_RISK_DECLINED") => must_void("card_declined"),
        // 3-D Secure is not part of this flow.
        (200 | 201, "PENDING_AUTHENTICATION") => AuthOutcome::Refused { code: Code::CardAuthenticationRequired.as_str(), why },
        (200 | 201, "PENDING_REVIEW") => AuthOutcome::Unknown(why),
        (200 | 201, "DECLINED") => AuthOutcome::Refused { code: decline_code(a.reason()), why },
        (200 | 201 | 400, "INVALID_REQUEST") => match invalid_request_code(&a) {
            Some(code) => AuthOutcome::Refused { code, why },
            None => AuthOutcome::Unknown(why),
        },
        (502, "SERVER_ERROR") => AuthOutcome::Unknown(why),
        (401, _) => AuthOutcome::Unknown(format!("HTTP 401: CyberSource refused our signature ({})", out.body.chars().take(200).collect::<String>())),
        _ => AuthOutcome::Unknown(why),
    }
}

/// Maps the answer to a capture (`PENDING`, `TRANSMITTED`), void
/// (`VOIDED`, `CANCELLED`; `FAILED`) or refund (`PENDING`; `DECLINED`).
pub fn map_follow_on(out: &HttpOutcome, done: &[&str]) -> OpOutcome {
    let Some(http) = out.status else { return OpOutcome::Unknown(out.error.clone().unwrap_or_else(|| "no answer".into())) };
    let Ok(a) = serde_json::from_str::<Answer>(&out.body) else {
        return OpOutcome::Unknown(format!("HTTP {http} with an unreadable body"));
    };
    let status = a.status.as_deref().unwrap_or("");
    match (http, status) {
        (200 | 201, s) if done.contains(&s) => match &a.id {
            Some(id) => OpOutcome::Done { id: id.clone() },
            None => OpOutcome::Unknown(format!("{} without an id", a.why(http))),
        },
        (200 | 201 | 400 | 404, "INVALID_REQUEST" | "DECLINED" | "FAILED") => {
            OpOutcome::Refused(format!("{status} {}: {}", a.reason(), a.message()).trim().to_string())
        }
        _ => OpOutcome::Unknown(a.why(http)),
    }
}

/// An authorization reversal's body (by payment id, or a timeout
/// reversal by transaction id).
fn reversal_body(client_reference: ClientReference<'_>, amount: u64, reason: &str) -> String {
    let mut cr = serde_json::to_value(&client_reference).expect("serializable");
    if client_reference.code.is_empty() {
        cr.as_object_mut().expect("an object").remove("code");
    }
    serde_json::json!({
        "clientReferenceInformation": cr,
        "reversalInformation": {"amountDetails": {"totalAmount": amount.to_string(), "currency": "JPY"}, "reason": reason},
    })
    .to_string()
}

/// A capture, void, refund or reversal answer as an [`Outcome`].
pub fn op_outcome(out: OpOutcome) -> Outcome {
    match out {
        OpOutcome::Done { id } => Outcome::Done { id },
        OpOutcome::Refused(code) => Outcome::Refused { code },
        OpOutcome::Unknown(why) => Outcome::Unclear { why },
    }
}

/// Maps the answer to a timeout reversal (`done` = `REVERSED`) or timeout
/// void (`VOIDED`): `NotFound` when CyberSource has no transaction with
/// that transactionId to undo.
pub fn map_undo(out: &HttpOutcome, done: &str) -> Outcome {
    if let Some(unclear) = Outcome::unclear_from(out) {
        return unclear;
    }
    let http = out.status.unwrap_or_default();
    let Ok(a) = serde_json::from_str::<Answer>(&out.body) else {
        return Outcome::Unclear { why: format!("HTTP {http} with an unreadable body") };
    };
    let status = a.status.as_deref().unwrap_or("");
    match (http, status) {
        (200 | 201, s) if s == done => match &a.id {
            Some(id) => Outcome::Done { id: id.clone() },
            None => Outcome::Unclear { why: format!("{} without an id", a.why(http)) },
        },
        (400 | 404, "INVALID_REQUEST") if a.fields().any(|f| f == "clientReferenceInformation.transactionId") => Outcome::NotFound,
        (200 | 201 | 400, "INVALID_REQUEST" | "DECLINED" | "FAILED") if !a.reason().is_empty() => {
            Outcome::Refused { code: a.reason().to_ascii_lowercase() }
        }
        _ => Outcome::Unclear { why: a.why(http) },
    }
}

/// What the transaction retrieval API says of a transaction.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct Retrieved {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    application_information: Option<ApplicationInformation>,
    #[serde(default)]
    order_information: Option<serde_json::Value>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct ApplicationInformation {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    r_flag: Option<String>,
}

/// Maps `GET /tss/v2/transactions/{id}`: `Done` for a transaction that
/// stands (authorized, captured, refunded, pending settlement); `Refused`
/// for one declined, or undone since (`voided`, `reversed`); `NotFound`
/// for a 404; anything else is `Unclear`.
pub fn map_transaction(out: &HttpOutcome) -> Outcome {
    if let Some(unclear) = Outcome::unclear_from(out) {
        return unclear;
    }
    let http = out.status.unwrap_or_default();
    let Ok(t) = serde_json::from_str::<Retrieved>(&out.body) else {
        return Outcome::Unclear { why: format!("HTTP {http} with an unreadable body") };
    };
    if http == 404 {
        return Outcome::NotFound;
    }
    let app = t.application_information.unwrap_or_default();
    let status = app.status.as_deref().or(t.status.as_deref()).unwrap_or("");
    match (http, status, app.r_flag.as_deref()) {
        (200, "AUTHORIZED" | "PENDING" | "TRANSMITTED" | "SETTLED" | "CAPTURED", Some("SOK")) => match t.id {
            Some(id) => Outcome::Done { id },
            None => Outcome::Unclear { why: "a transaction without an id".into() },
        },
        (200, "DECLINED", _) => Outcome::Refused { code: "card_declined".into() },
        (200, "VOIDED", _) => Outcome::Refused { code: "voided".into() },
        (200, "REVERSED", _) => Outcome::Refused { code: "reversed".into() },
        _ => Outcome::Unclear { why: format!("HTTP {http} status {status:?} rFlag {:?}", app.r_flag) },
    }
}

/// Maps a transaction search: the first summary as
/// [`map_transaction`] maps it, `NotFound` when nothing matched.
pub fn map_search(out: &HttpOutcome) -> Outcome {
    if let Some(unclear) = Outcome::unclear_from(out) {
        return unclear;
    }
    let http = out.status.unwrap_or_default();
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&out.body) else {
        return Outcome::Unclear { why: format!("HTTP {http} with an unreadable body") };
    };
    if !(200..300).contains(&http) {
        return Outcome::Unclear { why: format!("HTTP {http} {}", util::excerpt(&out.body)) };
    }
    match v["_embedded"]["transactionSummaries"].as_array().map(|a| a.as_slice()) {
        Some([]) if v["count"].as_u64() == Some(0) => Outcome::NotFound,
        Some([first, ..]) => map_transaction(&HttpOutcome { status: Some(200), body: first.to_string(), latency_ms: out.latency_ms, error: None }),
        _ if v["count"].as_u64() == Some(0) => Outcome::NotFound,
        _ => Outcome::Unclear { why: format!("HTTP {http} search without summaries") },
    }
}

/// The amount still authorized of a retrieved authorization.
fn authorized_amount(out: &HttpOutcome) -> Result<u64, Outcome> {
    match map_transaction(out) {
        Outcome::Done { .. } => {}
        other => return Err(other),
    }
    let t = serde_json::from_str::<Retrieved>(&out.body).unwrap_or_default();
    let ad = t.order_information.as_ref().map(|o| &o["amountDetails"]);
    ad.and_then(|a| a["authorizedAmount"].as_str().filter(|s| !s.is_empty()).or(a["totalAmount"].as_str()))
        .and_then(|s| s.split('.').next().and_then(|w| w.parse::<u64>().ok()))
        .filter(|a| *a > 0)
        .ok_or(Outcome::Unclear { why: "no authorized amount in the transaction".into() })
}

/// `host[:port]` of a base URL, as HTTP sends it in `Host`.
pub fn authority(base_url: &str) -> &str {
    let rest = base_url.split_once("://").map(|(_, r)| r).unwrap_or(base_url);
    rest.split('/').next().unwrap_or(rest)
}

pub struct Cybersource<'a> {
    pub endpoint: &'a CybersourceEndpoint,
}

impl Cybersource<'_> {
    /// Authorizes `amount` yen on the card, capturing at once if `capture`.
    /// `reference` is our attempt id (`clientReferenceInformation.code`).
    ///
    /// JPO single needs a Visa issued in Japan, and only CyberSource knows
    /// where a card was issued: when it refuses JPO single for a Visa, the
    /// payment is sent again as an ordinary payment, which for the shopper
    /// is the same lump sum (PRODUCT §2: "single payment with JPO requires
    /// a Visa card issued in Japan"; foreign Visa cards still pay).
    pub async fn authorize(&self, reference: &str, card: &CardDetails, amount: u64, capture: bool) -> AuthOutcome {
        let jpo = japan_payment_options(card.option, card.number.brand());
        let single_jpo = card.option == PaymentOption::Single && jpo.is_some();
        let first = map_payment(&self.call("/pts/v2/payments", keyed_payment_body(reference, card, amount, capture, jpo)).await);
        match first {
            AuthOutcome::Refused { code: "payment_option_unavailable", why } if single_jpo => {
                worker::console_log!("CyberSource refused JPO single for {reference} ({why}); sending it as an ordinary payment");
                map_payment(&self.call("/pts/v2/payments", keyed_payment_body(reference, card, amount, capture, None)).await)
            }
            other => other,
        }
    }

    pub async fn capture(&self, payment_id: &str, key: &str, amount: u64) -> OpOutcome {
        let body = serde_json::to_string(&FollowOnRequest { client_reference_information: ClientReference::keyed(key), order_information: Some(yen(amount)) })
            .expect("serializable");
        map_follow_on(&self.call(&format!("/pts/v2/payments/{payment_id}/captures"), body).await, &["PENDING", "TRANSMITTED"])
    }

    pub async fn void(&self, payment_id: &str, key: &str) -> OpOutcome {
        let body = serde_json::to_string(&FollowOnRequest { client_reference_information: ClientReference::of(key), order_information: None })
            .expect("serializable");
        map_follow_on(&self.call(&format!("/pts/v2/payments/{payment_id}/voids"), body).await, &["VOIDED", "CANCELLED"])
    }

    pub async fn refund(&self, payment_id: &str, key: &str, amount: u64) -> OpOutcome {
        let body = serde_json::to_string(&FollowOnRequest { client_reference_information: ClientReference::keyed(key), order_information: Some(yen(amount)) })
            .expect("serializable");
        map_follow_on(&self.call(&format!("/pts/v2/payments/{payment_id}/refunds"), body).await, &["PENDING"])
    }

    /// Reverses (releases) `amount` yen of an authorization not captured:
    /// `POST /pts/v2/payments/{id}/reversals`. `key` is the reversal's
    /// reference (`clientReferenceInformation.code`): repeated, it
    /// answers as the first time.
    pub async fn reverse(&self, payment_id: &str, key: &str, amount: u64) -> OpOutcome {
        let body = reversal_body(ClientReference::of(key), amount, "cancelled by the merchant");
        map_follow_on(&self.call(&format!("/pts/v2/payments/{payment_id}/reversals"), body).await, &["REVERSED"])
    }

    /// Cancels an uncaptured authorization, as CyberSource does: an
    /// authorization reversal of the amount still authorized, read with
    /// the transaction retrieval API.
    pub async fn reverse_authorization(&self, payment_id: &str, key: &str) -> OpOutcome {
        let out = self.get(&format!("/tss/v2/transactions/{payment_id}")).await;
        match authorized_amount(&out) {
            Ok(amount) => self.reverse(payment_id, key, amount).await,
            Err(Outcome::NotFound) => OpOutcome::Refused(format!("CyberSource has no payment {payment_id}")),
            Err(Outcome::Refused { code }) => OpOutcome::Refused(code),
            Err(other) => OpOutcome::Unknown(format!("cannot read the authorized amount: {other:?}")),
        }
    }

    /// CyberSource's timeout reversal (`POST /pts/v2/reversals`): undoes
    /// the authorization we sent with `transaction_id` when its answer
    /// never came. `amount` is the authorized amount. `NotFound` when
    /// CyberSource has no authorization with it (nothing to undo). A sale
    /// (authorized and captured at once) is not reversed: it is undone
    /// with [`Cybersource::timeout_void`].
    pub async fn timeout_reversal(&self, transaction_id: &str, amount: u64) -> Outcome {
        let body = reversal_body(
            ClientReference { code: "", transaction_id: Some(transaction_id.to_string()) },
            amount,
            "timeout reversal: no answer to the authorization",
        );
        map_undo(&self.call("/pts/v2/reversals", body).await, "REVERSED")
    }

    /// CyberSource's timeout void (`POST /pts/v2/voids`): undoes the
    /// authorization, capture or refund we sent with `transaction_id`
    /// when its answer never came. `NotFound` when CyberSource has none.
    pub async fn timeout_void(&self, transaction_id: &str) -> Outcome {
        let body = serde_json::json!({
            "clientReferenceInformation": {"comments": "VOID Timeout", "transactionId": transaction_id},
        })
        .to_string();
        map_undo(&self.call("/pts/v2/voids", body).await, "VOIDED")
    }

    /// What became of the request we sent with `transaction_id`
    /// ([`transaction_id_for`] of its key), with CyberSource's transaction
    /// search (`POST /tss/v2/searches`): the transaction found as
    /// [`map_transaction`] reads it, `NotFound` when CyberSource has none.
    pub async fn search_transaction_id(&self, transaction_id: &str) -> Outcome {
        let body = serde_json::json!({
            "save": false,
            "query": format!("clientReferenceInformation.transactionId:{transaction_id}"),
            "limit": 10,
            "sort": "submitTimeUtc:desc",
        })
        .to_string();
        map_search(&self.call("/tss/v2/searches", body).await)
    }


    /// [`Cybersource::capture`] as an [`Outcome`].
    pub async fn capture_outcome(&self, payment_id: &str, key: &str, amount: u64) -> Outcome {
        op_outcome(self.capture(payment_id, key, amount).await)
    }

    /// [`Cybersource::refund`] as an [`Outcome`].
    pub async fn refund_outcome(&self, payment_id: &str, key: &str, amount: u64) -> Outcome {
        op_outcome(self.refund(payment_id, key, amount).await)
    }


    /// [`Cybersource::reverse_authorization`] as an [`Outcome`].
    pub async fn reverse_authorization_outcome(&self, payment_id: &str, key: &str) -> Outcome {
        op_outcome(self.reverse_authorization(payment_id, key).await)
    }

    async fn get(&self, path: &str) -> HttpOutcome {
        self.send(Method::Get, path, String::new()).await
    }

    async fn call(&self, path: &str, body: String) -> HttpOutcome {
        self.send(Method::Post, path, body).await
    }

    async fn send(&self, method: Method, path: &str, body: String) -> HttpOutcome {
        let host = authority(&self.endpoint.base_url);
        let signed = match shared::httpsig::sign_request(&self.endpoint.credentials(), method.as_ref(), host, path, body.as_bytes(), util::now()) {
            Ok(s) => s,
            Err(e) => return HttpOutcome { status: None, body: String::new(), latency_ms: 0, error: Some(format!("cannot sign: {e}")) },
        };
        // `Host` is set by the transport from the URL, to the value signed.
        let mut headers: Vec<(&str, String)> = signed.pairs().into_iter().filter(|(k, _)| *k != "host").collect();
        headers.push(("content-type", "application/json".into()));
        headers.push(("accept", "application/hal+json;charset=utf-8".into()));
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = (method == Method::Post).then_some(body);
        util::send(method, &format!("{}{}", self.endpoint.base_url, path), &headers, body, self.endpoint.timeout_ms).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: &str) -> HttpOutcome {
        HttpOutcome { status: Some(status), body: body.into(), latency_ms: 1, error: None }
    }

    fn card(number: &str, option: serde_json::Value) -> CardDetails {
        CardDetails::parse(number, "12", "2030", "123", Some(&option), 2026, 11).unwrap()
    }

    #[test]
    fn authorization_wire_format() {
        let c = card("4111 1111 1111 1111", json!({"kind": "installment", "count": 3}));
        let body = payment_body("pay_x-1", &c, 1100, false, japan_payment_options(c.option, c.number.brand()));
        // Exactly this text is sent, and what the Digest covers.
        assert_eq!(body, include_str!("../../fixtures/cybersource/authorize_installment_request.json").trim());
    }

    #[test]
    fn payment_option_codes() {
        let jpo = |o: serde_json::Value, n: &str| {
            let c = card(n, o);
            japan_payment_options(c.option, c.number.brand()).map(|j| (j.payment_method, j.installments))
        };
        let visa = "4111111111111111";
        assert_eq!(jpo(json!({"kind": "single"}), visa), Some(("10", None)));
        assert_eq!(jpo(json!({"kind": "bonus"}), visa), Some(("21", None)));
        assert_eq!(jpo(json!({"kind": "installment", "count": 24}), visa), Some(("61", Some("24".into()))));
        assert_eq!(jpo(json!({"kind": "revolving"}), visa), Some(("80", None)));
        assert_eq!(jpo(json!({"kind": "bonus_installment", "count": 5}), visa), Some(("31", Some("5".into()))));
        assert_eq!(jpo(json!({"kind": "single"}), "5555555555554444"), None);
        let auto = payment_body("r", &card(visa, json!({"kind": "single"})), 500, true, None);
        assert!(auto.contains(r#""processingInformation":{"capture":true}"#), "{auto}");
        assert!(auto.contains(r#""orderInformation":{"amountDetails":{"totalAmount":"500","currency":"JPY"}}"#), "{auto}");
    }

    #[test]
    fn follow_on_wire_format() {
        let capture = serde_json::to_string(&FollowOnRequest { client_reference_information: ClientReference::of("op_1"), order_information: Some(yen(800)) }).unwrap();
        assert_eq!(capture, include_str!("../../fixtures/cybersource/capture_request.json").trim());
        let void = serde_json::to_string(&FollowOnRequest { client_reference_information: ClientReference::of("op_2"), order_information: None }).unwrap();
        assert_eq!(void, include_str!("../../fixtures/cybersource/void_request.json").trim());
    }

    #[test]
    fn maps_authorization_answers() {
        let f = |name: &str| match name {
            "authorized" => include_str!("../../fixtures/cybersource/authorize_approved.json"),
            "declined" => include_str!("../../fixtures/cybersource/authorize_declined.json"),
            "jpo" => include_str!("../../fixtures/cybersource/authorize_jpo_refused.json"),
            "invalid" => include_str!("../../fixtures/cybersource/authorize_invalid_request.json"),
            "review" => include_str!("../../fixtures/cybersource/authorize_pending_review.json"),
            "unauthorized" => include_str!("../../fixtures/cybersource/unauthorized.json"),
            "server" => include_str!("../../fixtures/cybersource/server_error.json"),
            _ => unreachable!(),
        };
        assert_eq!(map_payment(&answer(201, f("authorized"))), AuthOutcome::Approved { id: "7000000000000000000001".into() });
        assert!(matches!(map_payment(&answer(201, f("declined"))), AuthOutcome::Refused { code: "card_declined", .. }));
        assert!(matches!(map_payment(&answer(400, f("jpo"))), AuthOutcome::Refused { code: "payment_option_unavailable", .. }));
        assert!(matches!(map_payment(&answer(400, f("invalid"))), AuthOutcome::Unknown(_)), "our own request was at fault");
        assert!(matches!(map_payment(&answer(201, f("review"))), AuthOutcome::MustVoid { code: "card_declined", .. }));
        assert!(matches!(map_payment(&answer(401, f("unauthorized"))), AuthOutcome::Unknown(_)));
        assert!(matches!(map_payment(&answer(502, f("server"))), AuthOutcome::Unknown(_)));
        let st = |s: &str, extra: &str| map_payment(&answer(201, &format!(r#"{{"id":"1","status":"{s}"{extra}}}"#)));
        assert!(matches!(st("PARTIAL_AUTHORIZED", ""), AuthOutcome::MustVoid { .. }));
        assert!(matches!(st("AUTHORIZED_RISK_DECLINED", ""), AuthOutcome::MustVoid { .. }));
        assert!(matches!(st("PENDING_AUTHENTICATION", ""), AuthOutcome::Refused { code: "card_authentication_required", .. }));
        assert!(matches!(st("PENDING_REVIEW", ""), AuthOutcome::Unknown(_)));
        assert!(matches!(st("DECLINED", r#","errorInformation":{"reason":"EXPIRED_CARD"}"#), AuthOutcome::Refused { code: "card_expired", .. }));
        assert!(matches!(st("DECLINED", r#","errorInformation":{"reason":"CVN_NOT_MATCH"}"#), AuthOutcome::Refused { code: "invalid_cvc", .. }));
        assert!(matches!(st("DECLINED", r#","errorInformation":{"reason":"INSUFFICIENT_FUND"}"#), AuthOutcome::Refused { code: "card_declined", .. }));
        assert!(matches!(st("SOMETHING_NEW", ""), AuthOutcome::Unknown(_)));
        assert!(matches!(map_payment(&answer(201, r#"{"status":"AUTHORIZED"}"#)), AuthOutcome::Unknown(_)), "no id");
        assert!(matches!(map_payment(&answer(500, "<html>")), AuthOutcome::Unknown(_)));
        assert!(matches!(map_payment(&HttpOutcome { status: None, body: String::new(), latency_ms: 0, error: Some("timeout".into()) }), AuthOutcome::Unknown(_)));
        let invalid = |field: &str, reason: &str| {
            map_payment(&answer(400, &format!(r#"{{"status":"INVALID_REQUEST","reason":"{reason}","details":[{{"field":"{field}","reason":"INVALID_DATA"}}]}}"#)))
        };
        assert!(matches!(invalid("paymentInformation.card.number", "INVALID_DATA"), AuthOutcome::Refused { code: "invalid_card_number", .. }));
        assert!(matches!(invalid("paymentInformation.card.expirationYear", "INVALID_DATA"), AuthOutcome::Refused { code: "invalid_expiry", .. }));
        assert!(matches!(invalid("paymentInformation.card.securityCode", "INVALID_DATA"), AuthOutcome::Refused { code: "invalid_cvc", .. }));
        assert!(matches!(invalid("x", "CARD_TYPE_NOT_ACCEPTED"), AuthOutcome::Refused { code: "card_not_accepted", .. }));
    }

    #[test]
    fn maps_follow_on_answers() {
        let capture = include_str!("../../fixtures/cybersource/capture_pending.json");
        assert_eq!(map_follow_on(&answer(201, capture), &["PENDING", "TRANSMITTED"]), OpOutcome::Done { id: "7000000000000000000002".into() });
        let void = include_str!("../../fixtures/cybersource/void_voided.json");
        assert_eq!(map_follow_on(&answer(201, void), &["VOIDED", "CANCELLED"]), OpOutcome::Done { id: "7000000000000000000003".into() });
        let refund = include_str!("../../fixtures/cybersource/refund_pending.json");
        assert_eq!(map_follow_on(&answer(201, refund), &["PENDING"]), OpOutcome::Done { id: "7000000000000000000004".into() });
        let too_much = include_str!("../../fixtures/cybersource/capture_exceeds.json");
        assert!(matches!(map_follow_on(&answer(400, too_much), &["PENDING"]), OpOutcome::Refused(r) if r.contains("INVALID_AMOUNT")));
        assert!(matches!(map_follow_on(&answer(201, r#"{"id":"1","status":"FAILED"}"#), &["VOIDED"]), OpOutcome::Refused(_)));
        assert!(matches!(map_follow_on(&answer(201, r#"{"id":"1","status":"VOIDED"}"#), &["PENDING"]), OpOutcome::Unknown(_)));
        assert!(matches!(map_follow_on(&answer(502, ""), &["PENDING"]), OpOutcome::Unknown(_)));
    }

    #[test]
    fn authorizations_captures_and_refunds_carry_a_transaction_id_derived_from_the_key() {
        let t = transaction_id_for("pay_x-1");
        assert_eq!(t.len(), 20);
        assert!(t.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(t, transaction_id_for("pay_x-1"), "the same key, the same transaction id");
        assert_ne!(t, transaction_id_for("pay_x-2"));
        let c = card("4111111111111111", json!({"kind": "single"}));
        let body = keyed_payment_body("pay_x-1", &c, 1100, true, None);
        assert!(body.starts_with(&format!(r#"{{"clientReferenceInformation":{{"code":"pay_x-1","transactionId":"{t}"}}"#)), "{body}");
        let capture = serde_json::to_string(&FollowOnRequest { client_reference_information: ClientReference::keyed("op_1"), order_information: Some(yen(800)) }).unwrap();
        assert_eq!(
            capture,
            format!(r#"{{"clientReferenceInformation":{{"code":"op_1","transactionId":"{}"}},"orderInformation":{{"amountDetails":{{"totalAmount":"800","currency":"JPY"}}}}}}"#, transaction_id_for("op_1"))
        );
    }

    #[test]
    fn reversal_wire_format_is_cybersources() {
        let by_id: serde_json::Value = serde_json::from_str(&reversal_body(ClientReference::of("op_3"), 1100, "cancelled")).unwrap();
        assert_eq!(
            by_id,
            json!({"clientReferenceInformation": {"code": "op_3"}, "reversalInformation": {"amountDetails": {"totalAmount": "1100", "currency": "JPY"}, "reason": "cancelled"}})
        );
        let timeout: serde_json::Value =
            serde_json::from_str(&reversal_body(ClientReference { code: "", transaction_id: Some("123".into()) }, 500, "timeout")).unwrap();
        assert_eq!(timeout["clientReferenceInformation"], json!({"transactionId": "123"}));
    }

    #[test]
    fn reversal_answers_map_to_outcomes() {
        let reversed = r#"{"id":"7000000000000000000005","status":"REVERSED","reversalAmountDetails":{"reversedAmount":"1100","currency":"JPY"}}"#;
        assert_eq!(map_follow_on(&answer(201, reversed), &["REVERSED"]), OpOutcome::Done { id: "7000000000000000000005".into() });
        assert!(matches!(
            map_follow_on(&answer(400, r#"{"status":"INVALID_REQUEST","reason":"AUTH_ALREADY_REVERSED"}"#), &["REVERSED"]),
            OpOutcome::Refused(r) if r.contains("AUTH_ALREADY_REVERSED")
        ));
        assert_eq!(op_outcome(map_follow_on(&answer(201, reversed), &["REVERSED"])), Outcome::Done { id: "7000000000000000000005".into() });
        assert!(matches!(op_outcome(map_follow_on(&answer(500, ""), &["REVERSED"])), Outcome::Unclear { .. }), "a 500 is unclear");
    }

    #[test]
    fn timeout_reversal_and_void_answers_map_to_outcomes() {
        let reversed = r#"{"id":"7000000000000000000006","status":"REVERSED"}"#;
        assert_eq!(map_undo(&answer(201, reversed), "REVERSED"), Outcome::Done { id: "7000000000000000000006".into() });
        let voided = r#"{"id":"7000000000000000000007","status":"VOIDED","voidAmountDetails":{"voidAmount":"800","currency":"JPY"}}"#;
        assert_eq!(map_undo(&answer(201, voided), "VOIDED"), Outcome::Done { id: "7000000000000000000007".into() });
        let nothing = r#"{"status":"INVALID_REQUEST","reason":"INVALID_DATA","message":"Declined - One or more fields in the request contains invalid data","details":[{"field":"clientReferenceInformation.transactionId","reason":"INVALID_DATA"}]}"#;
        assert_eq!(map_undo(&answer(400, nothing), "REVERSED"), Outcome::NotFound, "nothing to undo: it never happened");
        assert_eq!(
            map_undo(&answer(400, r#"{"status":"INVALID_REQUEST","reason":"AUTH_ALREADY_REVERSED"}"#), "REVERSED"),
            Outcome::Refused { code: "auth_already_reversed".into() }
        );
        assert!(matches!(map_undo(&answer(500, r#"{"error":"internal_server_error"}"#), "VOIDED"), Outcome::Unclear { .. }), "a 500 is unclear");
        assert!(matches!(map_undo(&answer(502, r#"{"status":"SERVER_ERROR","reason":"SYSTEM_ERROR"}"#), "VOIDED"), Outcome::Unclear { .. }));
        let timeout = HttpOutcome { status: None, body: String::new(), latency_ms: 15000, error: Some("no answer within 15000 ms".into()) };
        assert!(matches!(map_undo(&timeout, "REVERSED"), Outcome::Unclear { .. }), "a timeout is unclear");
        assert!(matches!(map_undo(&answer(201, r#"{"id":"1","status":"SOMETHING_NEW"}"#), "REVERSED"), Outcome::Unclear { .. }), "an unknown status is unclear");
        assert!(matches!(map_undo(&answer(201, r#"{"id":"1","sta"#), "VOIDED"), Outcome::Unclear { .. }), "a broken body is unclear");
    }

    #[test]
    fn transaction_retrieval_maps_to_outcomes() {
        let t = |status: &str, flag: &str| {
            format!(r#"{{"id":"7000000000000000000001","applicationInformation":{{"status":"{status}","rFlag":"{flag}","applications":[]}},"orderInformation":{{"amountDetails":{{"totalAmount":"1100","authorizedAmount":"1100","currency":"JPY"}}}}}}"#)
        };
        assert_eq!(map_transaction(&answer(200, &t("AUTHORIZED", "SOK"))), Outcome::Done { id: "7000000000000000000001".into() });
        assert_eq!(map_transaction(&answer(200, &t("PENDING", "SOK"))), Outcome::Done { id: "7000000000000000000001".into() });
        assert_eq!(map_transaction(&answer(200, &t("DECLINED", "DCARDREFUSED"))), Outcome::Refused { code: "card_declined".into() });
        assert_eq!(map_transaction(&answer(200, &t("REVERSED", "SOK"))), Outcome::Refused { code: "reversed".into() });
        assert_eq!(map_transaction(&answer(200, &t("VOIDED", "SOK"))), Outcome::Refused { code: "voided".into() });
        assert_eq!(map_transaction(&answer(404, r#"{"status":"NOT_FOUND","message":"The requested resource does not exist"}"#)), Outcome::NotFound);
        assert!(matches!(map_transaction(&answer(200, &t("SOMETHING_NEW", "SOK"))), Outcome::Unclear { .. }), "an unknown status is unclear");
        assert!(matches!(map_transaction(&answer(500, "")), Outcome::Unclear { .. }), "a 500 is unclear");
        let timeout = HttpOutcome { status: None, body: String::new(), latency_ms: 15000, error: Some("timeout".into()) };
        assert!(matches!(map_transaction(&timeout), Outcome::Unclear { .. }), "a timeout is unclear");
        assert_eq!(authorized_amount(&answer(200, &t("AUTHORIZED", "SOK"))), Ok(1100));
        let found = format!(r#"{{"count":1,"_embedded":{{"transactionSummaries":[{}]}}}}"#, t("AUTHORIZED", "SOK"));
        assert_eq!(map_search(&answer(201, &found)), Outcome::Done { id: "7000000000000000000001".into() });
        assert_eq!(map_search(&answer(201, r#"{"count":0,"_embedded":{"transactionSummaries":[]}}"#)), Outcome::NotFound, "never seen");
        assert!(matches!(map_search(&answer(500, "")), Outcome::Unclear { .. }));
        assert!(matches!(map_search(&answer(400, r#"{"status":"INVALID_REQUEST"}"#)), Outcome::Unclear { .. }));
        assert_eq!(authorized_amount(&answer(404, "{}")), Err(Outcome::NotFound));
    }

    #[test]
    fn host_of_base_url() {
        assert_eq!(authority("http://127.0.0.1:8787/sandbox/cybersource"), "127.0.0.1:8787");
        assert_eq!(authority("https://api.cybersource.com"), "api.cybersource.com");
    }
}
