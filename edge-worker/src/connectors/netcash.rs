//! NET CASH (NTT Card Solutions): debit a NET CASH ID, ask a debit's
//! status. Debits cannot be rolled back; refunds go through the weekly
//! batch.

use serde::{Deserialize, Serialize};
use worker::Method;

use super::{signed_headers, Outcome};
use crate::config::ProviderEndpoint;
use crate::util::{self, HttpOutcome};


#[derive(Serialize)]
struct DebitRequest<'a> {
    merchant_code: &'a str,
    request_id: &'a str,
    netcash_id: &'a str,
    amount: u64,
    currency: &'static str,
}

/// NET CASH's answer to a debit or a status query.
#[derive(Deserialize, Debug)]
struct DebitResponse {
    result: String,
    #[serde(default)]
    transaction_id: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
}

/// Why NET CASH refused a debit, in our words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    InsufficientBalance,
    Suspended,
    NotFound,
    InvalidId,
}

impl Refusal {
    /// The error code the hosted page and the return form show.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::InsufficientBalance => shared::codes::Code::InsufficientBalance.as_str(),
            Refusal::Suspended => shared::codes::Code::IdSuspended.as_str(),
            Refusal::NotFound => shared::codes::Code::IdNotFound.as_str(),
            Refusal::InvalidId => shared::codes::Code::InvalidNetcashId.as_str(),
        }
    }
}

/// What a debit came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DebitOutcome {
    Approved { transaction_id: String },
    Refused(Refusal),
    /// NET CASH has no record of the request (status query only).
    NotFound,
    /// No clear answer: the debit may or may not have happened.
    Unknown(String),
}

/// Maps NET CASH's HTTP answer to ours. Every code NET CASH documents is
/// listed; anything else is `Unknown`.
pub fn map_answer(out: &HttpOutcome) -> DebitOutcome {
    let Some(status) = out.status else {
        return DebitOutcome::Unknown(out.error.clone().unwrap_or_else(|| "no answer".into()));
    };
    let Ok(body) = serde_json::from_str::<DebitResponse>(&out.body) else {
        return DebitOutcome::Unknown(format!("HTTP {status} with an unreadable body"));
    };
    match (body.result.as_str(), body.error_code.as_deref()) {
        ("OK", _) => match body.transaction_id {
            Some(transaction_id) if (200..300).contains(&status) => DebitOutcome::Approved { transaction_id },
            _ => DebitOutcome::Unknown(format!("HTTP {status} OK without a transaction")),
        },
        // A refusal is a 4xx: a 5xx is unclear whatever its body says.
        ("NG", code) if !(400..500).contains(&status) => DebitOutcome::Unknown(format!("HTTP {status} NG {code:?}")),
        ("NG", Some("E_INSUFFICIENT_BALANCE")) => DebitOutcome::Refused(Refusal::InsufficientBalance),
        ("NG", Some("E_ID_SUSPENDED")) => DebitOutcome::Refused(Refusal::Suspended),
        ("NG", Some("E_ID_NOT_FOUND")) => DebitOutcome::Refused(Refusal::NotFound),
        ("NG", Some("E_INVALID_ID")) => DebitOutcome::Refused(Refusal::InvalidId),
        ("NG", Some("E_NO_SUCH_REQUEST")) => DebitOutcome::NotFound,
        ("NG", Some(other)) => DebitOutcome::Unknown(format!("NET CASH error {other}")),
        ("NG", None) | (_, _) => DebitOutcome::Unknown(format!("HTTP {status} result {}", body.result)),
    }
}

/// A debit's outcome as the connectors' one [`Outcome`]: `Done` with
/// NET CASH's transaction id.
pub fn debit_outcome_of(out: DebitOutcome) -> Outcome {
    match out {
        DebitOutcome::Approved { transaction_id } => Outcome::Done { id: transaction_id },
        DebitOutcome::Refused(r) => Outcome::Refused { code: r.code().to_string() },
        DebitOutcome::NotFound => Outcome::NotFound,
        DebitOutcome::Unknown(why) => Outcome::Unclear { why },
    }
}

/// Maps NET CASH's answer to a refund request, or to the status query of
/// one: `Done` with the refund id; `NotFound` when NET CASH has no refund
/// with that id; every refusal NET CASH documents is listed; anything
/// else is `Unclear`.
pub fn map_refund(out: &HttpOutcome) -> Outcome {
    if let Some(unclear) = Outcome::unclear_from(out) {
        return unclear;
    }
    let http = out.status.unwrap_or_default();
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&out.body) else {
        return Outcome::Unclear { why: format!("HTTP {http} with an unreadable body") };
    };
    match (v["result"].as_str(), v["error_code"].as_str()) {
        (Some("OK"), _) if (200..300).contains(&http) => match v["refund"]["refund_id"].as_str() {
            Some(id) => Outcome::Done { id: id.to_string() },
            None => Outcome::Unclear { why: format!("HTTP {http} OK without a refund") },
        },
        (Some("NG"), Some("E_NO_SUCH_REFUND")) => Outcome::NotFound,
        (Some("NG"), Some(code @ ("E_REFUND_DEADLINE" | "E_REFUND_EXCEEDS" | "E_BAD_PAYOUT_DATE" | "E_NO_SUCH_TRANSACTION"))) => {
            Outcome::Refused { code: code.to_string() }
        }
        (r, code) => Outcome::Unclear { why: format!("HTTP {http} result {r:?} error {code:?}") },
    }
}

/// The fields of the signed result NET CASH Wallet sends back with the
/// shopper, in signing order (the signature is the form hashcode over them).
pub const WALLET_RESULT_FIELDS: [&str; 7] = ["session_id", "request_id", "result", "transaction_id", "error_code", "id_last4", "timestamp"];

pub struct Netcash<'a> {
    pub endpoint: &'a ProviderEndpoint,
}

impl Netcash<'_> {
    /// Debits `amount` yen from a NET CASH ID. `request_id` makes the call
    /// idempotent at NET CASH.
    pub async fn debit(&self, request_id: &str, netcash_id: &str, amount: u64) -> DebitOutcome {
        let path = "/api/v1/payments";
        let body = serde_json::to_string(&DebitRequest {
            merchant_code: &self.endpoint.merchant_code,
            request_id,
            netcash_id,
            amount,
            currency: "JPY",
        })
        .expect("serializable");
        let out = self.call(Method::Post, path, body).await;
        map_answer(&out)
    }

    /// Asks what became of a debit request.
    pub async fn status(&self, request_id: &str) -> DebitOutcome {
        let path = format!("/api/v1/payments/{request_id}");
        let out = self.call(Method::Get, &path, String::new()).await;
        map_answer(&out)
    }

    /// Opens a NET CASH Wallet session: the shopper logs in at NET CASH's
    /// wallet page (`Ok(login_url)`), picks a registered ID and comes back
    /// to `return_url` with a signed result.
    pub async fn start_wallet(&self, request_id: &str, amount: u64, return_url: &str) -> Result<(String, String), String> {
        let body = serde_json::json!({
            "merchant_code": self.endpoint.merchant_code,
            "request_id": request_id,
            "amount": amount,
            "return_url": return_url,
        })
        .to_string();
        let out = self.call(Method::Post, "/api/v1/wallet/sessions", body).await;
        let v: serde_json::Value = serde_json::from_str(&out.body).map_err(|_| format!("HTTP {:?} unreadable", out.status))?;
        match (out.status, v["session_id"].as_str(), v["login_url"].as_str()) {
            (Some(201), Some(id), Some(url)) if url.starts_with(&self.endpoint.base_url) => Ok((id.to_string(), url.to_string())),
            (s, _, _) => Err(format!("HTTP {s:?} {}", v["error_code"].as_str().unwrap_or("no session"))),
        }
    }


    /// [`Netcash::status`] as an [`Outcome`]: what became of the debit
    /// sent with `request_id` (`NotFound`: NET CASH never saw it).
    pub async fn debit_status(&self, request_id: &str) -> Outcome {
        debit_outcome_of(self.status(request_id).await)
    }

    /// [`Netcash::request_refund`] as an [`Outcome`]: `Done` with the
    /// refund id once NET CASH has queued it into the batch.
    pub async fn refund_outcome(&self, refund_id: &str, transaction_id: &str, amount: u64, payout_date: &str) -> Outcome {
        let body = serde_json::json!({
            "merchant_code": self.endpoint.merchant_code,
            "refund_id": refund_id,
            "transaction_id": transaction_id,
            "amount": amount,
            "payout_date": payout_date,
        })
        .to_string();
        map_refund(&self.call(Method::Post, "/api/v1/refunds", body).await)
    }

    /// What became of the batch refund request `refund_id`
    /// (`NotFound`: NET CASH never saw it).
    pub async fn refund_status(&self, refund_id: &str) -> Outcome {
        map_refund(&self.call(Method::Get, &format!("/api/v1/refunds/{refund_id}"), String::new()).await)
    }

    /// Whether NET CASH has paid a refund (`Some(paid_on)`), for when a
    /// notification could not be verified.
    pub async fn refund_paid_on(&self, refund_id: &str) -> Option<String> {
        let out = self.call(Method::Get, &format!("/api/v1/refunds/{refund_id}"), String::new()).await;
        let v: serde_json::Value = serde_json::from_str(&out.body).ok()?;
        v["refund"]["paid_on"].as_str().map(str::to_string)
    }

    async fn call(&self, method: Method, path: &str, body: String) -> HttpOutcome {
        let headers = signed_headers("netcash", self.endpoint, method.as_ref(), path, &body);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let url = format!("{}{}", self.endpoint.base_url, path);
        let body = (!body.is_empty()).then_some(body);
        util::send(method, &url, &headers, body, self.endpoint.timeout_ms).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, fixture: &str) -> HttpOutcome {
        HttpOutcome { status: Some(status), body: fixture.to_string(), latency_ms: 1, error: None }
    }

    #[test]
    fn a_5xx_is_unclear_whatever_its_body_says() {
        // Found by the provider_answers fuzz target (fuzz/): an NG code in
        // a 5xx answer was read as a refusal (or, for E_NO_SUCH_REQUEST, as
        // "never happened"), i.e. nothing moved.
        for code in ["E_INSUFFICIENT_BALANCE", "E_ID_SUSPENDED", "E_NO_SUCH_REQUEST"] {
            let body = format!(r#"{{"result":"NG","error_code":"{code}","message":"x"}}"#);
            for status in [500, 503, 713] {
                assert!(matches!(map_answer(&answer(status, &body)), DebitOutcome::Unknown(_)), "{code} {status}");
                assert!(matches!(debit_outcome_of(map_answer(&answer(status, &body))), Outcome::Unclear { .. }), "{code} {status}");
            }
        }
        assert_eq!(map_answer(&answer(404, r#"{"result":"NG","error_code":"E_NO_SUCH_REQUEST"}"#)), DebitOutcome::NotFound);
    }

    #[test]
    fn maps_fixtures() {
        assert_eq!(
            map_answer(&answer(200, include_str!("../../fixtures/netcash/debit_ok.json"))),
            DebitOutcome::Approved { transaction_id: "nc_0001".into() }
        );
        assert_eq!(
            map_answer(&answer(402, include_str!("../../fixtures/netcash/debit_insufficient.json"))),
            DebitOutcome::Refused(Refusal::InsufficientBalance)
        );
        assert_eq!(
            map_answer(&answer(403, include_str!("../../fixtures/netcash/debit_suspended.json"))),
            DebitOutcome::Refused(Refusal::Suspended)
        );
        assert!(matches!(map_answer(&answer(500, "oops")), DebitOutcome::Unknown(_)));
        assert!(matches!(map_answer(&answer(200, r#"{"result":"OK"}"#)), DebitOutcome::Unknown(_)));
        assert!(matches!(map_answer(&answer(400, r#"{"result":"NG","error_code":"E_NEW"}"#)), DebitOutcome::Unknown(_)));
        let timeout = HttpOutcome { status: None, body: String::new(), latency_ms: 15000, error: Some("timeout".into()) };
        assert!(matches!(map_answer(&timeout), DebitOutcome::Unknown(_)));
    }

    #[test]
    fn debit_outcomes_map_to_the_one_outcome_type() {
        let timeout = HttpOutcome { status: None, body: String::new(), latency_ms: 15000, error: Some("no answer within 15000 ms".into()) };
        assert!(matches!(debit_outcome_of(map_answer(&timeout)), Outcome::Unclear { .. }), "a timeout is unclear");
        assert!(matches!(debit_outcome_of(map_answer(&answer(500, r#"{"error":"internal_server_error"}"#))), Outcome::Unclear { .. }), "a 500 is unclear");
        assert!(matches!(debit_outcome_of(map_answer(&answer(200, r#"{"result":"OK","transaction_id":"nc_1"#))), Outcome::Unclear { .. }), "a broken body is unclear");
        assert_eq!(debit_outcome_of(map_answer(&answer(200, include_str!("../../fixtures/netcash/debit_ok.json")))), Outcome::Done { id: "nc_0001".into() });
        assert_eq!(
            debit_outcome_of(map_answer(&answer(402, include_str!("../../fixtures/netcash/debit_insufficient.json")))),
            Outcome::Refused { code: "insufficient_balance".into() }
        );
        assert_eq!(
            debit_outcome_of(map_answer(&answer(404, r#"{"result":"NG","error_code":"E_NO_SUCH_REQUEST"}"#))),
            Outcome::NotFound,
            "the status query of a debit NET CASH never saw"
        );
        assert!(matches!(debit_outcome_of(map_answer(&answer(200, r#"{"result":"MAYBE"}"#))), Outcome::Unclear { .. }), "an unknown status is unclear");
    }

    #[test]
    fn refund_answers_map_to_the_one_outcome_type() {
        let ok = r#"{"result":"OK","refund":{"refund_id":"rf_1","transaction_id":"nc_1","request_id":"r","amount":100,"payout_date":"2026-12-04","paid_on":null,"notified":false}}"#;
        assert_eq!(map_refund(&answer(201, ok)), Outcome::Done { id: "rf_1".into() });
        assert_eq!(map_refund(&answer(200, ok)), Outcome::Done { id: "rf_1".into() }, "the status query");
        assert_eq!(map_refund(&answer(404, r#"{"result":"NG","error_code":"E_NO_SUCH_REFUND"}"#)), Outcome::NotFound);
        assert_eq!(
            map_refund(&answer(422, r#"{"result":"NG","error_code":"E_REFUND_DEADLINE"}"#)),
            Outcome::Refused { code: "E_REFUND_DEADLINE".into() }
        );
        assert!(matches!(map_refund(&answer(500, "")), Outcome::Unclear { .. }));
        assert!(matches!(map_refund(&answer(200, r#"{"result":"OK","refund"#)), Outcome::Unclear { .. }));
        assert!(matches!(map_refund(&answer(422, r#"{"result":"NG","error_code":"E_NEW"}"#)), Outcome::Unclear { .. }));
        let timeout = HttpOutcome { status: None, body: String::new(), latency_ms: 15000, error: Some("timeout".into()) };
        assert!(matches!(map_refund(&timeout), Outcome::Unclear { .. }));
    }

    #[test]
    fn debit_request_wire_format() {
        let body = serde_json::to_string(&DebitRequest {
            merchant_code: "KL0001",
            request_id: "pay_x-1",
            netcash_id: "ABCD1234EFGH5678",
            amount: 1100,
            currency: "JPY",
        })
        .unwrap();
        assert_eq!(body, include_str!("../../fixtures/netcash/debit_request.json").trim());
    }
}
