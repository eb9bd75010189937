//! Notifications to merchants, signed per Standard Webhooks: the
//! synchronous result notification (PRODUCT §3.4) and, through the same
//! signing code, webhooks.

use serde::{Deserialize, Serialize};
use shared::outbox::AttemptRecord;
use shared::webhooks::WebhookSecret;
use worker::Method;

use crate::util::{self, HttpOutcome};

/// POSTs `payload` to `url` with the Standard Webhooks headers, signed with
/// every current secret (more than one during a rotation). `at` is the
/// business time recorded in the log; `webhook-timestamp` is real time,
/// which is what the receiver's library checks.
pub async fn post_signed(
    url: &str,
    secrets: &[WebhookSecret],
    event_id: &str,
    payload: &str,
    timeout_ms: u32,
    at: i64,
) -> (HttpOutcome, AttemptRecord) {
    let ts = util::now().0;
    let sig = secrets.iter().map(|s| s.sign(event_id, ts, payload.as_bytes())).collect::<Vec<_>>().join(" ");
    let ts_s = ts.to_string();
    let headers = [
        ("content-type", "application/json"),
        ("user-agent", "KessaiLink-Webhooks/1"),
        ("webhook-id", event_id),
        ("webhook-timestamp", ts_s.as_str()),
        ("webhook-signature", sig.as_str()),
    ];
    let out = util::send(Method::Post, url, &headers, Some(payload.to_string()), timeout_ms).await;
    let attempt = AttemptRecord {
        url: url.to_string(),
        at,
        manual: false,
        status: out.status,
        latency_ms: out.latency_ms,
        excerpt: match &out.error {
            Some(e) => util::excerpt(e),
            None => util::excerpt(&out.body),
        },
    };
    (out, attempt)
}

/// The merchant's answer to a result notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", content = "reason", rename_all = "snake_case")]
pub enum MerchantAnswer {
    Ok,
    /// `NG,<reason>`.
    Ng(String),
    /// No answer in time, or an answer that is neither OK nor NG.
    NoAnswer(String),
}

/// Reads the merchant's answer: a 2xx whose body starts `OK,` accepts;
/// `NG,<reason>` rejects; anything else is no answer.
pub fn read_answer(out: &HttpOutcome) -> MerchantAnswer {
    match out.status {
        None => MerchantAnswer::NoAnswer(out.error.clone().unwrap_or_default()),
        Some(s) if (200..300).contains(&s) => {
            let body = out.body.trim_start_matches('\u{feff}').trim();
            if body.starts_with("OK,") || body == "OK" {
                MerchantAnswer::Ok
            } else if let Some(reason) = body.strip_prefix("NG,") {
                MerchantAnswer::Ng(util::excerpt(reason.trim()))
            } else {
                MerchantAnswer::NoAnswer(format!("HTTP {s} answer is neither OK, nor NG,"))
            }
        }
        Some(s) => MerchantAnswer::NoAnswer(format!("HTTP {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(status: u16, body: &str) -> HttpOutcome {
        HttpOutcome { status: Some(status), body: body.into(), latency_ms: 1, error: None }
    }

    #[test]
    fn merchant_answers() {
        assert_eq!(read_answer(&out(200, "OK,")), MerchantAnswer::Ok);
        assert_eq!(read_answer(&out(200, "OK,\r\n")), MerchantAnswer::Ok);
        assert_eq!(read_answer(&out(200, "NG,out of stock")), MerchantAnswer::Ng("out of stock".into()));
        assert!(matches!(read_answer(&out(500, "OK,")), MerchantAnswer::NoAnswer(_)));
        assert!(matches!(read_answer(&out(200, "<html>")), MerchantAnswer::NoAnswer(_)));
        let timeout = HttpOutcome { status: None, body: String::new(), latency_ms: 10000, error: Some("timeout".into()) };
        assert!(matches!(read_answer(&timeout), MerchantAnswer::NoAnswer(_)));
    }
}
