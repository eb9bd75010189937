//! Provider connectors: one module per provider, each the only code that
//! knows its provider's wire format. Connectors are stateless: they turn
//! our request into the provider's, send it, and map the provider's answer
//! to ours explicitly (anything not understood is `Unknown`, i.e. pending).

pub mod cybersource;
pub mod au;
pub mod netcash;
pub mod np;
pub mod prepaid;

use serde::{Deserialize, Serialize};
use worker::{Request, Response};

use crate::config::ProviderEndpoint;
use crate::util;

/// What a provider said about one operation that moves money (or may
/// have): the one outcome type of every connector's operations and of their
/// status queries. The payment journal records it as the operation's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Done at the provider; `id` is the provider's reference for it.
    Done { id: String },
    /// The provider refused it: nothing moved.
    Refused { code: String },
    /// (Status queries) the provider has no such operation: it never
    /// happened, and sending it again with the same key is safe.
    NotFound,
    /// No clear answer (timeout, 5xx, dropped connection, unknown status):
    /// money may have moved; the operation must be reconciled.
    Unclear { why: String },
}

impl Outcome {
    /// `Ok(id)` when done, otherwise why not (for notes and logs).
    pub fn into_result(self) -> Result<String, String> {
        match self {
            Outcome::Done { id } => Ok(id),
            Outcome::Refused { code } => Err(code),
            Outcome::NotFound => Err("not found at the provider".into()),
            Outcome::Unclear { why } => Err(format!("unclear: {why}")),
        }
    }

    /// Maps an HTTP outcome whose answer was not understood, or did not
    /// come, to `Unclear`; `None` when a clear answer arrived (status < 500)
    /// and the caller should read it.
    pub fn unclear_from(out: &util::HttpOutcome) -> Option<Outcome> {
        match out.status {
            None => Some(Outcome::Unclear { why: out.error.clone().unwrap_or_else(|| "no answer".into()) }),
            Some(s) if s >= 500 => Some(Outcome::Unclear { why: format!("HTTP {s}: {}", util::excerpt(&out.body)) }),
            Some(_) => None,
        }
    }
}

/// Headers that authenticate a call to a provider sandbox-style API:
/// merchant code, timestamp and `v1=<hex HMAC-SHA256(secret, ts.METHOD.path.body)>`.
pub fn signed_headers(prefix: &str, ep: &ProviderEndpoint, method: &str, path: &str, body: &str) -> Vec<(String, String)> {
    let ts = util::now().0;
    let sig = shared::signing::api_signature(ep.secret.as_bytes(), ts, method, path, body.as_bytes());
    vec![
        (format!("x-{prefix}-merchant"), ep.merchant_code.clone()),
        (format!("x-{prefix}-timestamp"), ts.to_string()),
        (format!("x-{prefix}-signature"), sig),
        ("content-type".into(), "application/json".into()),
    ]
}

/// Checks the `x-<prefix>-*` headers that [`signed_headers`] makes: a
/// sandbox verifying our calls, and we verifying a provider's
/// notifications signed the same way. Returns the refusal to send if they
/// do not verify.
pub fn verify_signed(
    prefix: &str,
    req: &Request,
    path: &str,
    body: &str,
    merchant_code: &str,
    secret: &str,
    now: i64,
) -> Option<worker::Result<Response>> {
    let h = |name: &str| req.headers().get(&format!("x-{prefix}-{name}")).ok().flatten().unwrap_or_default();
    let refuse = |code: &str, msg: &str| {
        Some(crate::util::json(401, &serde_json::json!({"result": "NG", "status": "unauthorized", "error_code": code, "message": msg})))
    };
    if h("merchant") != merchant_code {
        return refuse("E_AUTH", "unknown merchant code");
    }
    let Ok(ts) = h("timestamp").parse::<i64>() else { return refuse("E_AUTH", "timestamp missing") };
    if now.abs_diff(ts) > 300 {
        return refuse("E_AUTH", "timestamp outside 300 seconds");
    }
    let method = req.method().to_string();
    if !shared::signing::verify_api_signature(secret.as_bytes(), ts, &method, path, body.as_bytes(), &h("signature")) {
        return refuse("E_AUTH", "signature mismatch");
    }
    None
}
