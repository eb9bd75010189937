//! Prepaid card issuer (BitCash / WebMoney style): charge a card number's
//! balance, refund a charge back to the card, ask a charge's status.

use shared::codes::Code;
use serde::{Deserialize, Serialize};
use worker::Method;

use super::signed_headers;
use super::Outcome as ProviderOutcome;
use crate::config::ProviderEndpoint;
use crate::util::{self, HttpOutcome};


#[derive(Serialize)]
struct ChargeRequest<'a> {
    shop_code: &'a str,
    idempotency_key: &'a str,
    card_number: &'a str,
    amount: u64,
}

#[derive(Serialize)]
struct RefundRequest<'a> {
    shop_code: &'a str,
    idempotency_key: &'a str,
    amount: u64,
}

#[derive(Deserialize, Debug)]
struct Answer {
    status: String,
    #[serde(default)]
    charge_id: Option<String>,
    #[serde(default)]
    refund_id: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// What the issuer said, in our words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Charged (`id` is the charge) or refunded (`id` is the refund).
    Done { id: String },
    Refused(&'static str),
    /// No clear answer.
    Unknown(String),
}

/// Maps the issuer's answer explicitly; anything else is `Unknown`.
pub fn map_answer(out: &HttpOutcome) -> Outcome {
    let Some(status) = out.status else { return Outcome::Unknown(out.error.clone().unwrap_or_default()) };
    let Ok(a) = serde_json::from_str::<Answer>(&out.body) else {
        return Outcome::Unknown(format!("HTTP {status} with an unreadable body"));
    };
    match (a.status.as_str(), a.reason.as_deref()) {
        ("succeeded", _) if (200..300).contains(&status) => match a.refund_id.or(a.charge_id) {
            Some(id) => Outcome::Done { id },
            None => Outcome::Unknown("succeeded without an id".into()),
        },
        // A refusal is a 4xx: a 5xx is unclear whatever its body says.
        ("declined", r) if !(400..500).contains(&status) => Outcome::Unknown(format!("HTTP {status} declined {r:?}")),
        ("declined", Some("insufficient_funds")) => Outcome::Refused(Code::InsufficientBalance.as_str()),
        ("declined", Some("card_not_found")) => Outcome::Refused(Code::CardNotFound.as_str()),
        ("declined", Some("card_locked")) => Outcome::Refused(Code::CardLocked.as_str()),
        ("declined", Some("invalid_number")) => Outcome::Refused(Code::InvalidPrepaidNumber.as_str()),
        ("declined", Some("refund_exceeds_charge")) => Outcome::Refused("refund_exceeds_charge"),
        (s, r) => Outcome::Unknown(format!("HTTP {status} status {s} reason {r:?}")),
    }
}

/// The issuer's answer as the connectors' one outcome type.
pub fn outcome_of(out: Outcome) -> ProviderOutcome {
    match out {
        Outcome::Done { id } => ProviderOutcome::Done { id },
        Outcome::Refused(code) => ProviderOutcome::Refused { code: code.to_string() },
        Outcome::Unknown(why) => ProviderOutcome::Unclear { why },
    }
}

/// Maps the answer to a status query by idempotency key: `Done` with the
/// charge or refund id, `NotFound` when the issuer has none for the key.
pub fn map_status(out: &HttpOutcome) -> ProviderOutcome {
    if let Some(unclear) = ProviderOutcome::unclear_from(out) {
        return unclear;
    }
    let http = out.status.unwrap_or_default();
    let Ok(a) = serde_json::from_str::<Answer>(&out.body) else {
        return ProviderOutcome::Unclear { why: format!("HTTP {http} with an unreadable body") };
    };
    match (http, a.status.as_str(), a.reason.as_deref()) {
        (200, "succeeded", _) => match a.refund_id.or(a.charge_id) {
            Some(id) => ProviderOutcome::Done { id },
            None => ProviderOutcome::Unclear { why: "succeeded without an id".into() },
        },
        (404, "declined", Some("not_found")) => ProviderOutcome::NotFound,
        (_, s, r) => ProviderOutcome::Unclear { why: format!("HTTP {http} status {s} reason {r:?}") },
    }
}

pub struct Prepaid<'a> {
    pub endpoint: &'a ProviderEndpoint,
}

impl Prepaid<'_> {
    pub async fn charge(&self, key: &str, card_number: &str, amount: u64) -> Outcome {
        let body = serde_json::to_string(&ChargeRequest { shop_code: &self.endpoint.merchant_code, idempotency_key: key, card_number, amount })
            .expect("serializable");
        map_answer(&self.call(Method::Post, "/v2/charges", body).await)
    }

    pub async fn refund(&self, charge_id: &str, key: &str, amount: u64) -> Outcome {
        let body = serde_json::to_string(&RefundRequest { shop_code: &self.endpoint.merchant_code, idempotency_key: key, amount })
            .expect("serializable");
        map_answer(&self.call(Method::Post, &format!("/v2/charges/{charge_id}/refunds"), body).await)
    }

    /// [`Prepaid::refund`] as the connectors' [`ProviderOutcome`].
    pub async fn refund_outcome(&self, charge_id: &str, key: &str, amount: u64) -> ProviderOutcome {
        outcome_of(self.refund(charge_id, key, amount).await)
    }

    /// What became of the charge sent with idempotency key `key`.
    pub async fn charge_status(&self, key: &str) -> ProviderOutcome {
        map_status(&self.call(Method::Get, &format!("/v2/charges/by-key/{key}"), String::new()).await)
    }

    /// What became of the refund sent with idempotency key `key`.
    pub async fn refund_status(&self, key: &str) -> ProviderOutcome {
        map_status(&self.call(Method::Get, &format!("/v2/refunds/by-key/{key}"), String::new()).await)
    }

    async fn call(&self, method: Method, path: &str, body: String) -> HttpOutcome {
        let headers = signed_headers("prepaid", self.endpoint, method.as_ref(), path, &body);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body = (method == Method::Post).then_some(body);
        util::send(method, &format!("{}{}", self.endpoint.base_url, path), &headers, body, self.endpoint.timeout_ms).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> HttpOutcome {
        HttpOutcome { status: Some(status), body: body.into(), latency_ms: 1, error: None }
    }

    /// Found by the provider_answers fuzz target (fuzz/): a decline in a
    /// 5xx answer was read as a refusal (nothing moved).
    #[test]
    fn a_5xx_is_unclear_whatever_its_body_says() {
        let body = r#"{"status":"declined","reason":"insufficient_funds","message":"x"}"#;
        for status in [500, 503, 713] {
            assert!(matches!(map_answer(&answer(status, body)), Outcome::Unknown(_)), "{status}");
        }
        assert_eq!(map_answer(&answer(402, body)), Outcome::Refused("insufficient_balance"));
    }

    #[test]
    fn maps_fixtures() {
        assert_eq!(
            map_answer(&answer(201, include_str!("../../fixtures/prepaid/charge_ok.json"))),
            Outcome::Done { id: "ch_0001".into() }
        );
        assert_eq!(
            map_answer(&answer(402, include_str!("../../fixtures/prepaid/charge_insufficient.json"))),
            Outcome::Refused("insufficient_balance")
        );
        assert_eq!(map_answer(&answer(201, include_str!("../../fixtures/prepaid/refund_ok.json"))), Outcome::Done { id: "rf_0001".into() });
        assert!(matches!(map_answer(&answer(500, "")), Outcome::Unknown(_)));
        assert!(matches!(map_answer(&answer(402, r#"{"status":"declined","reason":"new_reason"}"#)), Outcome::Unknown(_)));
    }

    #[test]
    fn answers_map_to_the_one_outcome_type() {
        let timeout = HttpOutcome { status: None, body: String::new(), latency_ms: 15000, error: Some("no answer within 15000 ms".into()) };
        assert!(matches!(outcome_of(map_answer(&timeout)), ProviderOutcome::Unclear { .. }), "a timeout is unclear");
        assert!(matches!(outcome_of(map_answer(&answer(500, r#"{"error":"internal_server_error"}"#))), ProviderOutcome::Unclear { .. }), "a 500 is unclear");
        assert!(matches!(outcome_of(map_answer(&answer(201, r#"{"status":"succeeded","charge_id":"ch"#))), ProviderOutcome::Unclear { .. }), "a broken body is unclear");
        assert!(matches!(outcome_of(map_answer(&answer(201, r#"{"status":"pending"}"#))), ProviderOutcome::Unclear { .. }), "an unknown status is unclear");
        assert_eq!(
            outcome_of(map_answer(&answer(402, include_str!("../../fixtures/prepaid/charge_insufficient.json")))),
            ProviderOutcome::Refused { code: "insufficient_balance".into() }
        );
        assert_eq!(outcome_of(map_answer(&answer(201, include_str!("../../fixtures/prepaid/charge_ok.json")))), ProviderOutcome::Done { id: "ch_0001".into() });
    }

    #[test]
    fn status_queries_tell_done_from_never_seen() {
        assert_eq!(map_status(&answer(200, r#"{"status":"succeeded","charge_id":"ch_1","amount":100}"#)), ProviderOutcome::Done { id: "ch_1".into() });
        assert_eq!(map_status(&answer(200, r#"{"status":"succeeded","refund_id":"rf_1","charge_id":"ch_1"}"#)), ProviderOutcome::Done { id: "rf_1".into() });
        assert_eq!(map_status(&answer(404, r#"{"status":"declined","reason":"not_found"}"#)), ProviderOutcome::NotFound);
        assert!(matches!(map_status(&answer(500, "")), ProviderOutcome::Unclear { .. }));
        assert!(matches!(map_status(&answer(401, r#"{"result":"NG","status":"unauthorized"}"#)), ProviderOutcome::Unclear { .. }));
    }

    #[test]
    fn charge_wire_format() {
        let body = serde_json::to_string(&ChargeRequest { shop_code: "PP0001", idempotency_key: "pay_x-1", card_number: "1234567812345678", amount: 1100 }).unwrap();
        assert_eq!(body, include_str!("../../fixtures/prepaid/charge_request.json").trim());
    }
}
