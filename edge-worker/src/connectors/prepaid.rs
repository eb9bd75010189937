//! Prepaid card issuer (BitCash / WebMoney style): charge a card number's
//! balance, refund a charge back to the card, ask a charge's status.

use serde::{Deserialize, Serialize};
use worker::Method;

use super::signed_headers;
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
        ("declined", Some("insufficient_funds")) => Outcome::Refused("insufficient_balance"),
        ("declined", Some("card_not_found")) => Outcome::Refused("card_not_found"),
        ("declined", Some("card_locked")) => Outcome::Refused("card_locked"),
        ("declined", Some("invalid_number")) => Outcome::Refused("invalid_prepaid_number"),
        ("declined", Some("refund_exceeds_charge")) => Outcome::Refused("refund_exceeds_charge"),
        (s, r) => Outcome::Unknown(format!("HTTP {status} status {s} reason {r:?}")),
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

    async fn call(&self, method: Method, path: &str, body: String) -> HttpOutcome {
        let headers = signed_headers("prepaid", self.endpoint, method.as_ref(), path, &body);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        util::send(method, &format!("{}{}", self.endpoint.base_url, path), &headers, Some(body), self.endpoint.timeout_ms).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> HttpOutcome {
        HttpOutcome { status: Some(status), body: body.into(), latency_ms: 1, error: None }
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
    fn charge_wire_format() {
        let body = serde_json::to_string(&ChargeRequest { shop_code: "PP0001", idempotency_key: "pay_x-1", card_number: "1234567812345678", amount: 1100 }).unwrap();
        assert_eq!(body, include_str!("../../fixtures/prepaid/charge_request.json").trim());
    }
}
