//! Provider connectors: one module per provider, each the only code that
//! knows its provider's wire format. Connectors are stateless: they turn
//! our request into the provider's, send it, and map the provider's answer
//! to ours explicitly (anything not understood is `Unknown`, i.e. pending).

pub mod cybersource;
pub mod au;
pub mod netcash;
pub mod np;
pub mod prepaid;

use worker::{Request, Response};

use crate::config::ProviderEndpoint;
use crate::util;

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
    if (now - ts).abs() > 300 {
        return refuse("E_AUTH", "timestamp outside 300 seconds");
    }
    let method = req.method().to_string();
    if !shared::signing::verify_api_signature(secret.as_bytes(), ts, &method, path, body.as_bytes(), &h("signature")) {
        return refuse("E_AUTH", "signature mismatch");
    }
    None
}
