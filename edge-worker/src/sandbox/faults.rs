//! Faults on demand, shared by every sandbox (README "Fault values").
//!
//! The amount of a money-moving request chooses a fault (the debit,
//! charge, authorization or registration amount; the capture, refund or
//! reversal amount; for an operation without an amount — a void, a cancel,
//! an NP shipment report — the amount of the transaction it acts on):
//!
//! | amount | the sandbox |
//! |---|---|
//! | `9001` | performs the operation, answers only `PROVIDER_TIMEOUT_MS + 1000` ms later |
//! | `9002` | performs it, answers HTTP 500 |
//! | `9003` | answers HTTP 500 without performing it |
//! | `9004` | performs it, then the answer's body breaks off (the stream errors after a partial chunk) |
//!
//! A fault plays once per operation key (the idempotency key, request id
//! or reference the request carries): the first request records that it
//! played; a later request with the same key is served normally — the
//! provider's idempotent replay of what was performed, or, after `9003`,
//! the operation performed now. A new key faults again.

use serde::{Deserialize, Serialize};
use worker::{Response, Storage};

/// One fault a sandbox plays on demand.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// `9001`: performed; the answer comes after the connector gave up.
    LateAnswer,
    /// `9002`: performed; HTTP 500.
    ErrorAfter,
    /// `9003`: HTTP 500; not performed.
    ErrorBefore,
    /// `9004`: performed; the connection drops in the answer's body.
    DroppedConnection,
}

impl Fault {
    /// The fault an amount asks for, if any.
    pub fn of_amount(amount: u64) -> Option<Fault> {
        match amount {
            9001 => Some(Fault::LateAnswer),
            9002 => Some(Fault::ErrorAfter),
            9003 => Some(Fault::ErrorBefore),
            9004 => Some(Fault::DroppedConnection),
            _ => None,
        }
    }
}

/// The storage key recording that the fault of operation `op` with key
/// `key` played.
pub fn record_key(op: &str, key: &str) -> String {
    format!("fault:{op}:{key}")
}

/// The fault to play for this request: `Some` the first time a request of
/// operation `op` with key `key` carries a fault amount (and records that
/// it played), `None` otherwise.
pub async fn take(storage: &Storage, op: &str, key: &str, amount: u64) -> worker::Result<Option<Fault>> {
    let Some(fault) = Fault::of_amount(amount) else { return Ok(None) };
    if key.is_empty() {
        return Ok(None);
    }
    let k = record_key(op, key);
    if storage.get::<Fault>(&k).await?.is_some() {
        return Ok(None);
    }
    storage.put(&k, &fault).await?;
    Ok(Some(fault))
}

/// The HTTP 500 of `9002` and `9003`.
pub fn server_error() -> worker::Result<Response> {
    crate::util::json(500, &serde_json::json!({"error": "internal_server_error", "message": "sandbox fault: internal server error"}))
}

/// Turns the answer of a performed operation into what `fault` makes of
/// it. `timeout_ms` is `PROVIDER_TIMEOUT_MS` (the connectors' timeout).
/// `ErrorBefore` must not get here (the operation was not performed):
/// it answers the 500 anyway.
pub async fn deliver(fault: Option<Fault>, answer: worker::Result<Response>, timeout_ms: u32) -> worker::Result<Response> {
    match fault {
        None => answer,
        Some(Fault::LateAnswer) => {
            worker::Delay::from(std::time::Duration::from_millis(timeout_ms as u64 + 1000)).await;
            answer
        }
        Some(Fault::ErrorAfter | Fault::ErrorBefore) => server_error(),
        Some(Fault::DroppedConnection) => {
            let mut answer = answer?;
            let status = answer.status_code();
            let content_type = answer.headers().get("content-type").ok().flatten().unwrap_or_else(|| "application/json".into());
            let body = answer.bytes().await.unwrap_or_default();
            dropped(status, &content_type, body)
        }
    }
}

/// A response whose body sends its first part, then errors: workerd
/// aborts the transfer, so the client's read of the body fails.
fn dropped(status: u16, content_type: &str, body: Vec<u8>) -> worker::Result<Response> {
    let part = partial(&body);
    let stream = futures_util::stream::unfold(0u8, move |step| {
        let part = part.clone();
        async move {
            match step {
                0 => Some((Ok::<Vec<u8>, worker::Error>(part), 1)),
                1 => {
                    // Let the partial chunk leave before the connection drops.
                    worker::Delay::from(std::time::Duration::from_millis(100)).await;
                    Some((Err(worker::Error::RustError("sandbox fault: connection dropped".into())), 2))
                }
                _ => None,
            }
        }
    });
    let mut r = Response::from_stream(stream)?.with_status(status);
    r.headers_mut().set("content-type", content_type)?;
    r.headers_mut().set("cache-control", "no-store")?;
    Ok(r)
}

/// The part of an answer's body sent before the connection drops: its
/// first half (at least one byte), never the whole.
pub fn partial(body: &[u8]) -> Vec<u8> {
    let n = (body.len() / 2).max(1).min(body.len().saturating_sub(1).max(1));
    body.iter().copied().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_values_are_9001_to_9004() {
        assert_eq!(Fault::of_amount(9001), Some(Fault::LateAnswer));
        assert_eq!(Fault::of_amount(9002), Some(Fault::ErrorAfter));
        assert_eq!(Fault::of_amount(9003), Some(Fault::ErrorBefore));
        assert_eq!(Fault::of_amount(9004), Some(Fault::DroppedConnection));
        assert_eq!(Fault::of_amount(9000), None);
        assert_eq!(Fault::of_amount(9005), None);
        assert_eq!(Fault::of_amount(1100), None);
    }

    #[test]
    fn a_dropped_answer_never_sends_the_whole_body() {
        let body = br#"{"result":"OK","transaction_id":"nc_1"}"#;
        let p = partial(body);
        assert!(!p.is_empty() && p.len() < body.len());
        assert!(serde_json::from_slice::<serde_json::Value>(&p).is_err(), "a partial body is not JSON");
        assert_eq!(partial(b"{}"), b"{".to_vec());
    }
}
