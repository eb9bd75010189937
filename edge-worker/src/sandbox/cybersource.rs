//! The CyberSource sandbox: CyberSource's REST payments API as our
//! connector and CyberSource's own SDKs speak it, under
//! `/sandbox/cybersource/pts/v2/…`, for one merchant with a JPY account
//! at Sumitomo Mitsui Card.
//!
//! * Every request must carry a valid HTTP Signature
//!   ([`shared::httpsig::verify`]): known `v-c-merchant-id` and key id,
//!   `Digest` matching the body, `Date` within 5 minutes, signature over
//!   the listed headers, `request-target` (never `(request-target)`).
//!   Refusals are 401 JSON. `request-target` is the path below the
//!   sandbox's mount point, `/pts/v2/payments`, as behind a gateway.
//! * `POST /pts/v2/payments` authorizes (and captures when
//!   `processingInformation.capture` is true), checking Japanese Payment
//!   Options as CyberSource does (codes of the SDK model
//!   `Ptsv2paymentsProcessingInformationJapanPaymentOptions`: `10` single,
//!   `21`–`24` bonus, `61` installment, `31`–`34` bonus + installment,
//!   `80` revolving; installment counts 3, 5, 6, 10, 12, 15, 18, 20, 24).
//! * `POST /pts/v2/payments/{id}/captures` (≤ what is still authorized,
//!   partial allowed), `/reversals` (an authorization reversal: releases
//!   ≤ what is authorized and not captured; a captured or reversed
//!   payment is refused), `/voids` (a capture or sale not refunded; an
//!   authorization is refused: it is reversed), `/refunds` (≤ what is
//!   captured and not yet refunded). A follow-on repeated with the same
//!   `clientReferenceInformation.code` answers as the first time.
//! * `clientReferenceInformation.transactionId` (unique, as CyberSource
//!   wants it): a request repeating one answers as the first time;
//!   `POST /pts/v2/reversals` (timeout reversal of the authorization sent
//!   with it, for the amount authorized) and `POST /pts/v2/voids`
//!   (timeout void of the authorization, capture or refund sent with it)
//!   undo what it did, once (repeated, they answer as the first time),
//!   and answer `400 INVALID_REQUEST` / `INVALID_DATA` on field
//!   `clientReferenceInformation.transactionId` when there is nothing to
//!   undo.
//! * `GET /tss/v2/transactions/{id}` (transaction retrieval, for payment,
//!   capture, refund, void and reversal ids) and `POST /tss/v2/searches`
//!   (by `clientReferenceInformation.transactionId:` or `.code:`).
//! * Faults on demand by amount (`9001`–`9004`, [`super::faults`]).
//!
//! Test cards (PRODUCT §9): `4111111111111111` Visa issued in Japan,
//! approved; `4242424242424242` Visa issued abroad, approved, JPO single
//! refused; `5555555555554444` Mastercard, no JPO options;
//! `4000000000000002` declined by the issuer. Any other valid number is
//! approved as a card issued in Japan.
//!
//! Card numbers are never stored: a payment keeps brand, last 4 and
//! expiry. `GET /sandbox/cybersource/inspect/payments/{id}` and
//! `/inspect/references/{code}` (not CyberSource's API) show what was
//! received, without card data.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shared::card::{luhn, Brand};
use shared::httpsig;
use worker::{Request, Response, Storage};

use crate::config::Config;
use crate::util::{self, json};

use super::faults::{self, Fault};

const INSTALLMENTS: [&str; 9] = ["3", "5", "6", "10", "12", "15", "18", "20", "24"];

/// What the sandbox keeps of a card: never the number.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct CardSummary {
    brand: String,
    last4: String,
    expiration_month: String,
    expiration_year: String,
    issued_in_japan: bool,
    cvn_sent: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct FollowOn {
    id: String,
    code: String,
    amount: u64,
    at: i64,
    /// `clientReferenceInformation.transactionId` of the request, if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transaction_id: Option<String>,
    /// A capture or refund undone by a void.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    voided: bool,
}

/// What a request with a `clientReferenceInformation.transactionId` did:
/// the transaction a timeout reversal or timeout void names, and the
/// answer a request repeating the transactionId gets (CyberSource wants
/// it unique).
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct TidRecord {
    /// `authorization`, `captures` or `refunds`.
    kind: String,
    payment_id: String,
    /// The capture or refund id (the payment id for an authorization).
    op_id: String,
    amount: u64,
    answer: (u16, Value),
}

fn tid_of(body: &Value) -> Option<String> {
    body["clientReferenceInformation"]["transactionId"].as_str().filter(|t| !t.is_empty()).map(str::to_string)
}

async fn record_tid(storage: &Storage, tid: &Option<String>, kind: &str, payment_id: &str, op_id: &str, amount: u64, answer: &(u16, Value)) -> worker::Result<()> {
    if let Some(tid) = tid {
        let rec = TidRecord { kind: kind.into(), payment_id: payment_id.into(), op_id: op_id.into(), amount, answer: answer.clone() };
        storage.put(&format!("tid:{tid}"), &rec).await?;
        storage.put(&format!("fo:{op_id}"), &(payment_id.to_string(), kind.to_string())).await?;
    }
    Ok(())
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct Payment {
    id: String,
    reference: String,
    /// AUTHORIZED, DECLINED or VOIDED.
    status: String,
    card: CardSummary,
    /// `processingInformation` as received.
    processing_information: Value,
    currency: String,
    authorized: u64,
    captured: u64,
    refunded: u64,
    captures: Vec<FollowOn>,
    voids: Vec<FollowOn>,
    refunds: Vec<FollowOn>,
    /// Authorization reversals (by payment id, or timeout reversals).
    #[serde(default)]
    reversals: Vec<FollowOn>,
    /// `clientReferenceInformation.transactionId` of the authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transaction_id: Option<String>,
    created_at: i64,
}

/// One `POST /pts/v2/payments` as received, whatever its answer.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct Attempt {
    at: i64,
    http_status: u16,
    status: String,
    reason: Option<String>,
    message: Option<String>,
    payment_id: Option<String>,
    card: Option<CardSummary>,
    processing_information: Value,
    order_information: Value,
}

/// `clientReferenceInformation` of an answer: the code, and the
/// transactionId when the request carried one.
fn client_reference(code: &str, tid: &Option<String>) -> Value {
    let mut v = json!({"code": code});
    if let Some(t) = tid {
        v["transactionId"] = json!(t);
    }
    v
}

fn now_utc() -> String {
    util::now().rfc3339_utc()
}

/// A CyberSource-style transaction id: 22 digits.
fn transaction_id() -> String {
    let mut b = [0u8; 21];
    getrandom::fill(&mut b).expect("the Worker has a random source");
    std::iter::once('7').chain(b.iter().map(|x| (b'0' + x % 10) as char)).collect()
}

fn invalid(status: u16, reason: &str, message: &str, field: Option<&str>) -> (u16, Value) {
    // `submitTimeUtc` is added when the answer is sent.
    let mut v = json!({"status": "INVALID_REQUEST", "reason": reason, "message": message});
    if let Some(f) = field {
        v["details"] = json!([{"field": f, "reason": if reason == "MISSING_FIELD" { "MISSING_FIELD" } else { "INVALID_DATA" }}]);
    }
    (status, v)
}

/// Whole yen from `totalAmount` (`"1100"` or `"1100.00"`; JPY has no
/// minor unit).
fn parse_yen(s: &str) -> Option<u64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || whole.len() > 12 || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b == b'0') {
        return None;
    }
    whole.parse().ok()
}

fn amount_of(body: &Value) -> Result<(u64, String), (u16, Value)> {
    let ad = &body["orderInformation"]["amountDetails"];
    let total = ad["totalAmount"].as_str().ok_or_else(|| {
        invalid(400, "MISSING_FIELD", "Declined - The request is missing one or more fields", Some("orderInformation.amountDetails.totalAmount"))
    })?;
    let currency = ad["currency"].as_str().ok_or_else(|| {
        invalid(400, "MISSING_FIELD", "Declined - The request is missing one or more fields", Some("orderInformation.amountDetails.currency"))
    })?;
    if currency != "JPY" {
        return Err(invalid(400, "INVALID_DATA", "Declined - this merchant account settles in JPY only", Some("orderInformation.amountDetails.currency")));
    }
    match parse_yen(total) {
        Some(n) if n > 0 => Ok((n, currency.to_string())),
        _ => Err(invalid(400, "INVALID_AMOUNT", "Declined - the amount must be a positive whole number of yen", Some("orderInformation.amountDetails.totalAmount"))),
    }
}

/// Checks `processingInformation.japanPaymentOptions` for a card, as
/// CyberSource and Sumitomo Mitsui Card do.
fn check_jpo(jpo: &Value, brand: Brand, issued_in_japan: bool) -> Result<(), (u16, Value)> {
    if jpo.is_null() {
        return Ok(());
    }
    const PM: &str = "processingInformation.japanPaymentOptions.paymentMethod";
    const INST: &str = "processingInformation.japanPaymentOptions.installments";
    let Some(method) = jpo["paymentMethod"].as_str() else {
        return Err(invalid(400, "MISSING_FIELD", "Declined - japanPaymentOptions needs paymentMethod", Some(PM)));
    };
    if brand != Brand::Visa {
        return Err(invalid(
            400,
            "INVALID_DATA",
            "Declined - Japanese Payment Options need a Visa card (acquirer Sumitomo Mitsui Card)",
            Some(PM),
        ));
    }
    let installments = jpo["installments"].as_str();
    let needs_installments = match method {
        "10" => {
            if !issued_in_japan {
                return Err(invalid(
                    400,
                    "INVALID_DATA",
                    "Declined - Japanese Payment Options single payment (paymentMethod 10) requires a Visa card issued in Japan",
                    Some(PM),
                ));
            }
            false
        }
        "21" | "22" | "23" | "24" | "80" => false,
        "61" | "31" | "32" | "33" | "34" => true,
        _ => return Err(invalid(400, "INVALID_DATA", "Declined - unknown Japanese payment method code", Some(PM))),
    };
    match (needs_installments, installments) {
        (true, Some(n)) if INSTALLMENTS.contains(&n) => Ok(()),
        (true, Some(_)) => Err(invalid(400, "INVALID_DATA", "Declined - installments must be 3, 5, 6, 10, 12, 15, 18, 20 or 24", Some(INST))),
        (true, None) => Err(invalid(400, "MISSING_FIELD", "Declined - this payment method needs installments", Some(INST))),
        (false, Some(_)) => Err(invalid(400, "INVALID_DATA", "Declined - this payment method takes no installments", Some(INST))),
        (false, None) => Ok(()),
    }
}

fn card_summary(card: &Value) -> Result<(CardSummary, String), (u16, Value)> {
    let missing = |f: &str| invalid(400, "MISSING_FIELD", "Declined - The request is missing one or more fields", Some(f));
    let number = card["number"].as_str().ok_or_else(|| missing("paymentInformation.card.number"))?;
    if !(12..=19).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) || !luhn(number) {
        return Err(invalid(400, "INVALID_DATA", "Declined - the card number is not valid", Some("paymentInformation.card.number")));
    }
    let month = card["expirationMonth"].as_str().ok_or_else(|| missing("paymentInformation.card.expirationMonth"))?;
    let year = card["expirationYear"].as_str().ok_or_else(|| missing("paymentInformation.card.expirationYear"))?;
    if !matches!(month.parse::<u8>(), Ok(1..=12)) || month.len() > 2 {
        return Err(invalid(400, "INVALID_DATA", "Declined - expirationMonth is 01 to 12", Some("paymentInformation.card.expirationMonth")));
    }
    if year.len() != 4 || year.parse::<u16>().is_err() {
        return Err(invalid(400, "INVALID_DATA", "Declined - expirationYear has 4 digits", Some("paymentInformation.card.expirationYear")));
    }
    let cvc = card["securityCode"].as_str();
    if let Some(c) = cvc {
        if !(3..=4).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(400, "INVALID_DATA", "Declined - securityCode has 3 or 4 digits", Some("paymentInformation.card.securityCode")));
        }
    }
    let brand = Brand::detect(number);
    Ok((
        CardSummary {
            brand: brand.code().to_string(),
            last4: number[number.len() - 4..].to_string(),
            expiration_month: format!("{:0>2}", month),
            expiration_year: year.to_string(),
            issued_in_japan: number != "4242424242424242",
            cvn_sent: cvc.is_some(),
        },
        number.to_string(),
    ))
}

async fn authorize(storage: &Storage, body: &Value) -> worker::Result<(u16, Value)> {
    let pi = body.get("processingInformation").cloned().unwrap_or(Value::Null);
    let oi = body.get("orderInformation").cloned().unwrap_or(Value::Null);
    let code = body["clientReferenceInformation"]["code"].as_str().unwrap_or("").to_string();
    let mut card = None;
    let mut payment_id = None;
    let answer: (u16, Value) = 'answer: {
        if code.is_empty() {
            break 'answer invalid(400, "MISSING_FIELD", "Declined - The request is missing one or more fields", Some("clientReferenceInformation.code"));
        }
        let (summary, number) = match card_summary(&body["paymentInformation"]["card"]) {
            Ok(c) => c,
            Err(e) => break 'answer e,
        };
        card = Some(summary.clone());
        let (amount, currency) = match amount_of(body) {
            Ok(a) => a,
            Err(e) => break 'answer e,
        };
        let brand = Brand::detect(&number);
        if let Err(e) = check_jpo(&pi["japanPaymentOptions"], brand, summary.issued_in_japan) {
            break 'answer e;
        }
        let capture = pi["capture"].as_bool().unwrap_or(false);
        let id = transaction_id();
        payment_id = Some(id.clone());
        let today = util::now().jst().date;
        let expired = (summary.expiration_year.parse::<i32>().unwrap_or(0), summary.expiration_month.parse::<u8>().unwrap_or(0)) < (today.year, today.month);
        let decline = if number == "4000000000000002" {
            Some(("PROCESSOR_DECLINED", "Decline - General decline of the card. No other information provided by the issuing bank."))
        } else if expired {
            Some(("EXPIRED_CARD", "Decline - Expired card. You might also receive this if the expiration date you provided does not match the date the issuing bank has on file."))
        } else {
            None
        };
        let card_type = json!({"type": match brand { Brand::Visa => "001", Brand::Mastercard => "002", Brand::Amex => "003", Brand::Diners => "005", Brand::Jcb => "007", Brand::Unknown => "000" }});
        let mut p = Payment {
            id: id.clone(),
            reference: code.clone(),
            status: "AUTHORIZED".into(),
            card: summary,
            processing_information: pi.clone(),
            currency,
            authorized: amount,
            captured: 0,
            refunded: 0,
            captures: vec![],
            voids: vec![],
            refunds: vec![],
            reversals: vec![],
            transaction_id: tid_of(body),
            created_at: util::now().0,
        };
        if let Some((reason, message)) = decline {
            p.status = "DECLINED".into();
            p.authorized = 0;
            storage.put(&format!("pay:{id}"), &p).await?;
            let declined = (
                201,
                json!({
                    "_links": {"self": {"method": "GET", "href": format!("/pts/v2/payments/{id}")}},
                    "clientReferenceInformation": {"code": code},
                    "errorInformation": {"reason": reason, "message": message},
                    "id": id,
                    "paymentInformation": {"card": card_type},
                    "processorInformation": {"responseCode": "05"},
                    "status": "DECLINED",
                    "submitTimeUtc": now_utc(),
                }),
            );
            record_tid(storage, &p.transaction_id, "authorization", &id, &id, 0, &declined).await?;
            break 'answer declined;
        }
        if capture {
            p.captured = amount;
            p.captures.push(FollowOn { id: id.clone(), code: code.clone(), amount, at: util::now().0, transaction_id: p.transaction_id.clone(), voided: false });
        }
        storage.put(&format!("pay:{id}"), &p).await?;
        let mut links = json!({
            "self": {"method": "GET", "href": format!("/pts/v2/payments/{id}")},
            "authReversal": {"method": "POST", "href": format!("/pts/v2/payments/{id}/reversals")},
        });
        if !capture {
            links["capture"] = json!({"method": "POST", "href": format!("/pts/v2/payments/{id}/captures")});
        }
        let approved = (
            201,
            json!({
                "_links": links,
                "clientReferenceInformation": client_reference(&code, &p.transaction_id),
                "id": id,
                "orderInformation": {"amountDetails": {"authorizedAmount": amount.to_string(), "currency": "JPY"}},
                "paymentAccountInformation": {"card": card_type},
                "paymentInformation": {"card": card_type},
                "processorInformation": {"approvalCode": &id[16..], "responseCode": "00", "transactionId": &id[7..]},
                "reconciliationId": &id[6..],
                "status": "AUTHORIZED",
                "submitTimeUtc": now_utc(),
            }),
        );
        record_tid(storage, &p.transaction_id, "authorization", &id, &id, amount, &approved).await?;
        approved
    };
    // The inspection record of this request, without card data.
    let mut order = oi;
    if let Some(o) = order.as_object_mut() {
        o.remove("billTo");
    }
    let attempt = Attempt {
        at: util::now().0,
        http_status: answer.0,
        status: answer.1["status"].as_str().unwrap_or("").to_string(),
        reason: answer.1["errorInformation"]["reason"].as_str().or(answer.1["reason"].as_str()).map(str::to_string),
        message: answer.1["errorInformation"]["message"].as_str().or(answer.1["message"].as_str()).map(str::to_string),
        payment_id,
        card,
        processing_information: pi,
        order_information: order,
    };
    let key = format!("ref:{code}");
    let mut attempts = storage.get::<Vec<Attempt>>(&key).await?.unwrap_or_default();
    attempts.push(attempt);
    storage.put(&key, &attempts).await?;
    Ok(answer)
}

async fn follow_on(storage: &Storage, id: &str, kind: &str, body: &Value) -> worker::Result<(u16, Value)> {
    let code = body["clientReferenceInformation"]["code"].as_str().unwrap_or("").to_string();
    if code.is_empty() {
        return Ok(invalid(400, "MISSING_FIELD", "Declined - The request is missing one or more fields", Some("clientReferenceInformation.code")));
    }
    let tid = tid_of(body);
    if let Some(t) = &tid {
        if let Some(rec) = storage.get::<TidRecord>(&format!("tid:{t}")).await? {
            return Ok(rec.answer);
        }
    }
    let replay_key = format!("op:{id}:{kind}:{code}");
    if let Some(first) = storage.get::<(u16, Value)>(&replay_key).await? {
        return Ok(first);
    }
    let Some(mut p) = storage.get::<Payment>(&format!("pay:{id}")).await? else {
        return Ok(invalid(404, "INVALID_PAYMENT_ID", "Declined - the payment id is not known", None));
    };
    let now = util::now().0;
    let new_id = transaction_id();
    let answer = 'answer: {
        if p.status == "DECLINED" {
            break 'answer invalid(400, "INVALID_DATA", "Declined - the payment was declined; there is nothing to follow up", None);
        }
        match kind {
            "voids" => {
                // A void cancels a capture (or a sale) not yet settled; an
                // authorization is reversed instead.
                if p.status == "VOIDED" {
                    break 'answer invalid(400, "NOT_SUPPORTED", "Declined - the payment is already voided", None);
                }
                if p.captured == 0 {
                    break 'answer invalid(
                        400,
                        "NOT_SUPPORTED",
                        "Declined - an authorization is not voided: reverse it (POST /pts/v2/payments/{id}/reversals)",
                        None,
                    );
                }
                if p.refunded > 0 {
                    break 'answer invalid(400, "NOT_SUPPORTED", "Declined - the payment has refunds; void or refund them instead", None);
                }
                let amount = p.captured;
                void_captures(&mut p);
                p.voids.push(FollowOn { id: new_id.clone(), code: code.clone(), amount, at: now, transaction_id: tid.clone(), voided: false });
                void_answer(&new_id, &code, &tid, amount)
            }
            "reversals" => {
                let ri = &body["reversalInformation"];
                let Some(total) = ri["amountDetails"]["totalAmount"].as_str() else {
                    break 'answer invalid(400, "MISSING_FIELD", "Declined - The request is missing one or more fields", Some("reversalInformation.amountDetails.totalAmount"));
                };
                let Some(amount) = parse_yen(total).filter(|a| *a > 0) else {
                    break 'answer invalid(400, "INVALID_AMOUNT", "Declined - the amount must be a positive whole number of yen", Some("reversalInformation.amountDetails.totalAmount"));
                };
                if let Err(e) = reversible(&p) {
                    break 'answer e;
                }
                if amount > p.authorized {
                    break 'answer invalid(
                        400,
                        "INVALID_AMOUNT",
                        &format!("Declined - The reversal amount exceeds the amount authorized ({} JPY)", p.authorized),
                        Some("reversalInformation.amountDetails.totalAmount"),
                    );
                }
                let original = p.authorized;
                reverse(&mut p, amount, FollowOn { id: new_id.clone(), code: code.clone(), amount, at: now, transaction_id: tid.clone(), voided: false });
                reversal_answer(&new_id, &code, &tid, amount, original)
            }
            "captures" | "refunds" => {
                let (amount, _) = match amount_of(body) {
                    Ok(a) => a,
                    Err(e) => break 'answer e,
                };
                if p.status == "VOIDED" {
                    break 'answer invalid(400, "NOT_SUPPORTED", "Declined - the payment is voided", None);
                }
                if p.status == "REVERSED" {
                    break 'answer invalid(400, "AUTH_ALREADY_REVERSED", "Declined - the authorization has been reversed", None);
                }
                if kind == "captures" {
                    let left = p.authorized - p.captured;
                    if amount > left {
                        break 'answer invalid(
                            400,
                            "INVALID_AMOUNT",
                            &format!("Declined - The capture amount exceeds the amount still authorized ({left} JPY)"),
                            Some("orderInformation.amountDetails.totalAmount"),
                        );
                    }
                    p.captured += amount;
                    p.captures.push(FollowOn { id: new_id.clone(), code: code.clone(), amount, at: now, transaction_id: tid.clone(), voided: false });
                    (
                        201,
                        json!({
                            "_links": {"self": {"method": "GET", "href": format!("/pts/v2/captures/{new_id}")}, "void": {"method": "POST", "href": format!("/pts/v2/captures/{new_id}/voids")}},
                            "clientReferenceInformation": client_reference(&code, &tid),
                            "id": new_id,
                            "orderInformation": {"amountDetails": {"totalAmount": amount.to_string(), "currency": "JPY"}},
                            "reconciliationId": &new_id[6..],
                            "status": "PENDING",
                            "submitTimeUtc": now_utc(),
                        }),
                    )
                } else {
                    let left = p.captured - p.refunded;
                    if amount > left {
                        break 'answer invalid(
                            400,
                            "INVALID_AMOUNT",
                            &format!("Declined - The refund amount exceeds the amount captured and not yet refunded ({left} JPY)"),
                            Some("orderInformation.amountDetails.totalAmount"),
                        );
                    }
                    p.refunded += amount;
                    p.refunds.push(FollowOn { id: new_id.clone(), code: code.clone(), amount, at: now, transaction_id: tid.clone(), voided: false });
                    (
                        201,
                        json!({
                            "_links": {"self": {"method": "GET", "href": format!("/pts/v2/refunds/{new_id}")}, "void": {"method": "POST", "href": format!("/pts/v2/refunds/{new_id}/voids")}},
                            "clientReferenceInformation": client_reference(&code, &tid),
                            "id": new_id,
                            "refundAmountDetails": {"currency": "JPY", "refundAmount": amount.to_string()},
                            "status": "PENDING",
                            "submitTimeUtc": now_utc(),
                        }),
                    )
                }
            }
            _ => invalid(404, "NOT_SUPPORTED", "no such operation", None),
        }
    };
    if answer.0 == 201 {
        storage.put(&format!("pay:{id}"), &p).await?;
        storage.put(&replay_key, &answer).await?;
        storage.put(&format!("fo:{new_id}"), &(id.to_string(), kind.to_string())).await?;
        if matches!(kind, "captures" | "refunds") {
            let amount = answer.1["orderInformation"]["amountDetails"]["totalAmount"]
                .as_str()
                .or(answer.1["refundAmountDetails"]["refundAmount"].as_str())
                .and_then(parse_yen)
                .unwrap_or(0);
            record_tid(storage, &tid, kind, id, &new_id, amount, &answer).await?;
        }
    }
    Ok(answer)
}

/// Whether an authorization can be reversed: not declined, reversed,
/// voided or captured (CyberSource reverses only what is not captured).
fn reversible(p: &Payment) -> Result<(), (u16, Value)> {
    match p.status.as_str() {
        "DECLINED" => Err(invalid(400, "INVALID_DATA", "Declined - the payment was declined; there is nothing to reverse", None)),
        "REVERSED" => Err(invalid(400, "AUTH_ALREADY_REVERSED", "Declined - the authorization has already been reversed", None)),
        "VOIDED" => Err(invalid(400, "NOT_SUPPORTED", "Declined - the payment is voided", None)),
        _ if p.captured > 0 => Err(invalid(
            400,
            "NOT_SUPPORTED",
            "Declined - the authorization has been captured: void the capture or refund it instead",
            None,
        )),
        _ => Ok(()),
    }
}

fn reverse(p: &mut Payment, amount: u64, rec: FollowOn) {
    p.authorized -= amount;
    if p.authorized == 0 {
        p.status = "REVERSED".into();
    }
    p.reversals.push(rec);
}

fn void_captures(p: &mut Payment) {
    for c in p.captures.iter_mut() {
        c.voided = true;
    }
    p.captured = 0;
    p.status = "VOIDED".into();
}

fn reversal_answer(id: &str, code: &str, tid: &Option<String>, amount: u64, original: u64) -> (u16, Value) {
    (
        201,
        json!({
            "_links": {"self": {"method": "GET", "href": format!("/pts/v2/reversals/{id}")}},
            "clientReferenceInformation": client_reference(code, tid),
            "id": id,
            "orderInformation": {"amountDetails": {"currency": "JPY"}},
            "processorInformation": {"responseCode": "00"},
            "reconciliationId": &id[6..],
            "reversalAmountDetails": {"currency": "JPY", "reversedAmount": amount.to_string(), "originalTransactionAmount": original.to_string()},
            "status": "REVERSED",
            "submitTimeUtc": now_utc(),
        }),
    )
}

fn void_answer(id: &str, code: &str, tid: &Option<String>, amount: u64) -> (u16, Value) {
    (
        201,
        json!({
            "_links": {"self": {"method": "GET", "href": format!("/pts/v2/voids/{id}")}},
            "clientReferenceInformation": client_reference(code, tid),
            "id": id,
            "orderInformation": {"amountDetails": {"currency": "JPY"}},
            "status": "VOIDED",
            "submitTimeUtc": now_utc(),
            "voidAmountDetails": {"currency": "JPY", "voidAmount": amount.to_string()},
        }),
    )
}

/// CyberSource's answer when a timeout reversal or void names a
/// transactionId it has no (undoable) transaction for.
fn unknown_tid() -> (u16, Value) {
    invalid(400, "INVALID_DATA", "Declined - One or more fields in the request contains invalid data", Some("clientReferenceInformation.transactionId"))
}

/// `POST /pts/v2/reversals`: the timeout reversal of the authorization
/// sent with `clientReferenceInformation.transactionId`, whose answer
/// never came. Repeated, it answers as the first time.
async fn timeout_reversal(storage: &Storage, body: &Value) -> worker::Result<(u16, Value)> {
    let Some(tid) = tid_of(body) else {
        return Ok(invalid(400, "MISSING_FIELD", "Declined - The request is missing one or more fields", Some("clientReferenceInformation.transactionId")));
    };
    let replay_key = format!("trev:{tid}");
    if let Some(first) = storage.get::<(u16, Value)>(&replay_key).await? {
        return Ok(first);
    }
    let Some(total) = body["reversalInformation"]["amountDetails"]["totalAmount"].as_str() else {
        return Ok(invalid(400, "MISSING_FIELD", "Declined - The request is missing one or more fields", Some("reversalInformation.amountDetails.totalAmount")));
    };
    let Some(amount) = parse_yen(total).filter(|a| *a > 0) else {
        return Ok(invalid(400, "INVALID_AMOUNT", "Declined - the amount must be a positive whole number of yen", Some("reversalInformation.amountDetails.totalAmount")));
    };
    let Some(rec) = storage.get::<TidRecord>(&format!("tid:{tid}")).await? else { return Ok(unknown_tid()) };
    if rec.kind != "authorization" {
        return Ok(unknown_tid());
    }
    let Some(mut p) = storage.get::<Payment>(&format!("pay:{}", rec.payment_id)).await? else { return Ok(unknown_tid()) };
    if p.status == "DECLINED" {
        // The authorization failed: nothing to reverse.
        return Ok(unknown_tid());
    }
    if let Err(e) = reversible(&p) {
        return Ok(e);
    }
    if amount != p.authorized {
        return Ok(invalid(
            400,
            "INVALID_AMOUNT",
            &format!("Declined - a timeout reversal is for the amount authorized ({} JPY)", p.authorized),
            Some("reversalInformation.amountDetails.totalAmount"),
        ));
    }
    let new_id = transaction_id();
    let original = p.authorized;
    let code = p.reference.clone();
    reverse(&mut p, amount, FollowOn { id: new_id.clone(), code: code.clone(), amount, at: util::now().0, transaction_id: Some(tid.clone()), voided: false });
    let answer = reversal_answer(&new_id, &code, &Some(tid.clone()), amount, original);
    storage.put(&format!("pay:{}", p.id), &p).await?;
    storage.put(&replay_key, &answer).await?;
    storage.put(&format!("fo:{new_id}"), &(p.id.clone(), "reversals".to_string())).await?;
    Ok(answer)
}

/// The amount of what a transactionId did (the fault value of a timeout
/// void, which carries none).
async fn tid_amount(storage: &Storage, tid: &str) -> worker::Result<u64> {
    Ok(storage.get::<TidRecord>(&format!("tid:{tid}")).await?.map(|r| r.amount).unwrap_or(0))
}

/// `POST /pts/v2/voids`: the timeout void of the authorization, capture
/// or refund sent with `clientReferenceInformation.transactionId`.
/// Repeated, it answers as the first time.
async fn timeout_void(storage: &Storage, body: &Value) -> worker::Result<(u16, Value)> {
    let Some(tid) = tid_of(body) else {
        return Ok(invalid(400, "MISSING_FIELD", "Declined - The request is missing one or more fields", Some("clientReferenceInformation.transactionId")));
    };
    let replay_key = format!("tvoid:{tid}");
    if let Some(first) = storage.get::<(u16, Value)>(&replay_key).await? {
        return Ok(first);
    }
    let Some(rec) = storage.get::<TidRecord>(&format!("tid:{tid}")).await? else { return Ok(unknown_tid()) };
    let Some(mut p) = storage.get::<Payment>(&format!("pay:{}", rec.payment_id)).await? else { return Ok(unknown_tid()) };
    let already = || invalid(400, "TRANSACTION_ALREADY_REVERSED_OR_SETTLED", "Declined - the transaction has already been voided or reversed", None);
    let amount = match rec.kind.as_str() {
        "authorization" => match p.status.as_str() {
            "DECLINED" => return Ok(unknown_tid()),
            "VOIDED" | "REVERSED" => return Ok(already()),
            _ if p.refunded > 0 => return Ok(invalid(400, "NOT_SUPPORTED", "Declined - the payment has refunds; void them first", None)),
            _ if p.captured > 0 => {
                // A sale (or an authorization captured since): the capture is voided.
                let amount = p.captured;
                void_captures(&mut p);
                amount
            }
            _ => {
                let amount = p.authorized;
                p.authorized = 0;
                p.status = "VOIDED".into();
                amount
            }
        },
        "captures" => {
            let Some(c) = p.captures.iter_mut().find(|c| c.id == rec.op_id) else { return Ok(unknown_tid()) };
            if c.voided {
                return Ok(already());
            }
            let amount = c.amount;
            if p.captured - p.refunded < amount {
                return Ok(invalid(400, "NOT_SUPPORTED", "Declined - the capture has refunds; void them first", None));
            }
            c.voided = true;
            p.captured -= amount;
            amount
        }
        "refunds" => {
            let Some(r) = p.refunds.iter_mut().find(|r| r.id == rec.op_id) else { return Ok(unknown_tid()) };
            if r.voided {
                return Ok(already());
            }
            r.voided = true;
            let amount = r.amount;
            p.refunded -= amount;
            amount
        }
        _ => return Ok(unknown_tid()),
    };
    let new_id = transaction_id();
    let code = body["clientReferenceInformation"]["code"].as_str().unwrap_or(&p.reference).to_string();
    p.voids.push(FollowOn { id: new_id.clone(), code: code.clone(), amount, at: util::now().0, transaction_id: Some(tid.clone()), voided: false });
    let answer = void_answer(&new_id, &code, &Some(tid.clone()), amount);
    storage.put(&format!("pay:{}", p.id), &p).await?;
    storage.put(&replay_key, &answer).await?;
    storage.put(&format!("fo:{new_id}"), &(p.id.clone(), "voids".to_string())).await?;
    Ok(answer)
}

/// `POST /tss/v2/searches`: CyberSource's transaction search, for the
/// queries `clientReferenceInformation.transactionId:<id>` and
/// `clientReferenceInformation.code:<code>`; each summary is the
/// transaction as the retrieval API shows it.
async fn search(storage: &Storage, config: &Config, body: &Value) -> worker::Result<(u16, Value)> {
    let Some(query) = body["query"].as_str() else {
        return Ok(invalid(400, "MISSING_FIELD", "Declined - The request is missing one or more fields", Some("query")));
    };
    let mut ids: Vec<String> = vec![];
    if let Some(tid) = query.strip_prefix("clientReferenceInformation.transactionId:") {
        if let Some(rec) = storage.get::<TidRecord>(&format!("tid:{}", tid.trim())).await? {
            ids.push(rec.op_id);
        }
    } else if let Some(code) = query.strip_prefix("clientReferenceInformation.code:") {
        let attempts = storage.get::<Vec<Attempt>>(&format!("ref:{}", code.trim())).await?.unwrap_or_default();
        ids.extend(attempts.into_iter().filter_map(|a| a.payment_id));
    } else {
        return Ok(invalid(400, "INVALID_DATA", "Declined - this sandbox searches by clientReferenceInformation.transactionId or .code", Some("query")));
    }
    let mut summaries = vec![];
    for id in ids {
        if let (200, t) = retrieve(storage, config, &id).await? {
            summaries.push(t);
        }
    }
    Ok((
        201,
        json!({
            "searchId": transaction_id(),
            "save": false,
            "query": query,
            "count": summaries.len(),
            "totalCount": summaries.len(),
            "limit": body["limit"].as_u64().unwrap_or(20),
            "offset": 0,
            "submitTimeUtc": now_utc(),
            "_embedded": {"transactionSummaries": summaries},
        }),
    ))
}

/// `GET /tss/v2/transactions/{id}`: CyberSource's transaction retrieval,
/// for a payment (authorization) id or the id of a capture, refund,
/// void or reversal.
async fn retrieve(storage: &Storage, config: &Config, id: &str) -> worker::Result<(u16, Value)> {
    let not_found = || (404, json!({"status": "NOT_FOUND", "message": "The requested resource does not exist", "submitTimeUtc": now_utc()}));
    let (payment_id, kind) = match storage.get::<Payment>(&format!("pay:{id}")).await? {
        Some(_) => (id.to_string(), "authorization".to_string()),
        None => match storage.get::<(String, String)>(&format!("fo:{id}")).await? {
            Some(v) => v,
            None => return Ok(not_found()),
        },
    };
    let Some(p) = storage.get::<Payment>(&format!("pay:{payment_id}")).await? else { return Ok(not_found()) };
    let find = |list: &[FollowOn]| list.iter().find(|f| f.id == id).cloned();
    let (app, status, amount, code, tid, at) = match kind.as_str() {
        "authorization" => {
            let app = if p.captures.first().is_some_and(|c| c.id == p.id) { "ics_auth,ics_bill" } else { "ics_auth" };
            let amount = p.authorized.max(p.reversals.iter().map(|r| r.amount).sum::<u64>() + p.authorized);
            (app, p.status.clone(), amount, p.reference.clone(), p.transaction_id.clone(), p.created_at)
        }
        "captures" => match find(&p.captures) {
            Some(c) => ("ics_bill", if c.voided { "VOIDED".into() } else { "PENDING".into() }, c.amount, c.code, c.transaction_id, c.at),
            None => return Ok(not_found()),
        },
        "refunds" => match find(&p.refunds) {
            Some(r) => ("ics_credit", if r.voided { "VOIDED".into() } else { "PENDING".into() }, r.amount, r.code, r.transaction_id, r.at),
            None => return Ok(not_found()),
        },
        "voids" => match find(&p.voids) {
            Some(v) => ("ics_void", "VOIDED".into(), v.amount, v.code, v.transaction_id, v.at),
            None => return Ok(not_found()),
        },
        "reversals" => match find(&p.reversals) {
            Some(r) => ("ics_auth_reversal", "REVERSED".into(), r.amount, r.code, r.transaction_id, r.at),
            None => return Ok(not_found()),
        },
        _ => return Ok(not_found()),
    };
    let ok = status != "DECLINED";
    let applications: Vec<Value> = app
        .split(',')
        .map(|name| {
            json!({
                "name": name,
                "reasonCode": if ok { "100" } else { "203" },
                "rCode": if ok { "1" } else { "0" },
                "rFlag": if ok { "SOK" } else { "DCARDREFUSED" },
                "reconciliationId": &id[6..],
                "rMessage": if ok { "Request was processed successfully." } else { "General decline of the card." },
                "status": status,
            })
        })
        .collect();
    let mut related = vec![];
    if kind == "authorization" {
        for f in p.captures.iter().filter(|c| c.id != p.id).chain(&p.refunds).chain(&p.voids).chain(&p.reversals) {
            related.push(json!({"href": format!("/tss/v2/transactions/{}", f.id), "method": "GET"}));
        }
    } else {
        related.push(json!({"href": format!("/tss/v2/transactions/{}", p.id), "method": "GET"}));
    }
    Ok((
        200,
        json!({
            "_links": {"self": {"href": format!("/tss/v2/transactions/{id}"), "method": "GET"}, "relatedTransactions": related},
            "id": id,
            "merchantId": config.cybersource.merchant_id,
            "submitTimeUtc": shared::time::UnixTime(at).rfc3339_utc(),
            "applicationInformation": {"status": status, "reasonCode": if ok { 100 } else { 203 }, "rCode": if ok { 1 } else { 0 }, "rFlag": if ok { "SOK" } else { "DCARDREFUSED" }, "applications": applications},
            "clientReferenceInformation": client_reference(&code, &tid),
            "orderInformation": {"amountDetails": {"totalAmount": amount.to_string(), "currency": p.currency, "authorizedAmount": if kind == "authorization" { p.authorized.to_string() } else { String::new() }}},
            "paymentInformation": {"card": {"suffix": p.card.last4, "expirationMonth": p.card.expiration_month, "expirationYear": p.card.expiration_year}},
        }),
    ))
}

fn unauthorized(e: &httpsig::SigError) -> worker::Result<Response> {
    json(401, &json!({"response": {"rmsg": "Authentication Failed"}, "reason": e.code(), "message": e.to_string()}))
}

pub async fn handle(storage: &Storage, config: &Config, req: &Request, path: &str, body: &str) -> worker::Result<Response> {
    // Inspection for people and tests, not part of CyberSource's API.
    if req.method() == worker::Method::Get {
        if let Some(id) = path.strip_prefix("/inspect/payments/") {
            return match storage.get::<Payment>(&format!("pay:{id}")).await? {
                Some(p) => json(200, &p),
                None => json(404, &json!({"error": "no such payment"})),
            };
        }
        if let Some(code) = path.strip_prefix("/inspect/references/") {
            let attempts = storage.get::<Vec<Attempt>>(&format!("ref:{code}")).await?.unwrap_or_default();
            let mut payments = Vec::new();
            for id in attempts.iter().filter_map(|a| a.payment_id.as_deref()) {
                if let Some(p) = storage.get::<Payment>(&format!("pay:{id}")).await? {
                    payments.push(p);
                }
            }
            return json(200, &json!({"attempts": attempts, "payments": payments}));
        }
    }
    let method = req.method().to_string();
    let header = |name: &str| req.headers().get(name).ok().flatten();
    if let Err(e) = httpsig::verify(&config.cybersource.credentials(), &method, path, body.as_bytes(), header, util::now()) {
        return unauthorized(&e);
    }
    if req.method() == worker::Method::Get {
        if let Some(id) = path.strip_prefix("/tss/v2/transactions/") {
            let (status, answer) = retrieve(storage, config, id).await?;
            return json(status, &answer);
        }
    }
    if req.method() != worker::Method::Post {
        return json(404, &json!({"status": "INVALID_REQUEST", "reason": "NOT_SUPPORTED", "message": "this sandbox serves POST payments, captures, voids, reversals and refunds, and GET transactions"}));
    }
    let Ok(parsed) = serde_json::from_str::<Value>(body) else {
        let (s, v) = invalid(400, "INVALID_DATA", "Declined - the body is not JSON", None);
        return json(s, &v);
    };
    let code = parsed["clientReferenceInformation"]["code"].as_str().unwrap_or("").to_string();
    let tid = tid_of(&parsed);
    let yen_at = |v: &Value| v.as_str().and_then(parse_yen).unwrap_or(0);
    // Faults on demand (README "Fault values"): the operation, its key
    // (the transactionId if sent, else the reference code) and its amount.
    let follow = path.strip_prefix("/pts/v2/payments/").and_then(|r| r.split_once('/'));
    let (op, key, amount) = if path == "/pts/v2/payments" {
        ("cs:auth".to_string(), tid.clone().unwrap_or(code.clone()), yen_at(&parsed["orderInformation"]["amountDetails"]["totalAmount"]))
    } else if path == "/pts/v2/reversals" {
        ("cs:timeout_reversal".to_string(), tid.clone().unwrap_or_default(), yen_at(&parsed["reversalInformation"]["amountDetails"]["totalAmount"]))
    } else if path == "/pts/v2/voids" {
        let t = tid.clone().unwrap_or_default();
        let amount = tid_amount(storage, &t).await?;
        ("cs:timeout_void".to_string(), t, amount)
    } else if let Some((id, kind)) = follow {
        let amount = match kind {
            "reversals" => yen_at(&parsed["reversalInformation"]["amountDetails"]["totalAmount"]),
            "voids" => storage.get::<Payment>(&format!("pay:{id}")).await?.map(|p| p.captured).unwrap_or(0),
            _ => yen_at(&parsed["orderInformation"]["amountDetails"]["totalAmount"]),
        };
        (format!("cs:{kind}"), format!("{id}:{}", tid.clone().unwrap_or(code.clone())), amount)
    } else {
        (String::new(), String::new(), 0)
    };
    let fault = if op.is_empty() { None } else { faults::take(storage, &op, &key, amount).await? };
    if fault == Some(Fault::ErrorBefore) {
        return faults::server_error();
    }
    let (status, answer) = if path == "/pts/v2/payments" {
        match tid.as_ref() {
            // CyberSource wants a transactionId unique: repeated, it names
            // the transaction it was first sent with.
            Some(t) => match storage.get::<TidRecord>(&format!("tid:{t}")).await? {
                Some(rec) if rec.kind == "authorization" => rec.answer,
                _ => authorize(storage, &parsed).await?,
            },
            None => authorize(storage, &parsed).await?,
        }
    } else if path == "/tss/v2/searches" {
        search(storage, config, &parsed).await?
    } else if path == "/pts/v2/reversals" {
        timeout_reversal(storage, &parsed).await?
    } else if path == "/pts/v2/voids" {
        timeout_void(storage, &parsed).await?
    } else if let Some((id, kind)) = follow {
        follow_on(storage, id, kind, &parsed).await?
    } else {
        invalid(404, "NOT_SUPPORTED", "no such resource", None)
    };
    let mut answer = answer;
    if answer.get("submitTimeUtc").is_none() {
        answer["submitTimeUtc"] = json!(now_utc());
    }
    faults::deliver(fault, json(status, &answer), config.cybersource.timeout_ms).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_amounts() {
        assert_eq!(parse_yen("1100"), Some(1100));
        assert_eq!(parse_yen("1100.00"), Some(1100));
        assert_eq!(parse_yen("1100.50"), None);
        assert_eq!(parse_yen("-1"), None);
        assert_eq!(parse_yen(""), None);
        assert_eq!(parse_yen("1e3"), None);
    }

    #[test]
    fn jpo_rules() {
        let ok = |v: Value, b, jp| check_jpo(&v, b, jp).is_ok();
        assert!(ok(json!({"paymentMethod": "10"}), Brand::Visa, true));
        assert!(!ok(json!({"paymentMethod": "10"}), Brand::Visa, false));
        assert!(ok(json!({"paymentMethod": "61", "installments": "3"}), Brand::Visa, false));
        assert!(!ok(json!({"paymentMethod": "61", "installments": "4"}), Brand::Visa, true));
        assert!(!ok(json!({"paymentMethod": "61"}), Brand::Visa, true));
        assert!(ok(json!({"paymentMethod": "31", "installments": "24"}), Brand::Visa, true));
        assert!(ok(json!({"paymentMethod": "21"}), Brand::Visa, true));
        assert!(!ok(json!({"paymentMethod": "21", "installments": "3"}), Brand::Visa, true));
        assert!(ok(json!({"paymentMethod": "80"}), Brand::Visa, true));
        assert!(!ok(json!({"paymentMethod": "80"}), Brand::Mastercard, true));
        assert!(!ok(json!({"paymentMethod": "99"}), Brand::Visa, true));
        assert!(!ok(json!({}), Brand::Visa, true));
        assert!(ok(Value::Null, Brand::Mastercard, true));
    }
}
