//! Provider sandboxes: faithful simulators of each provider's side of its
//! protocol, reached over HTTP at the base URL the connector is configured
//! with. They verify signatures, keep balances and enforce the provider's
//! rules, and implement the test values of PRODUCT §9. Served only when
//! `SANDBOX = "on"`.

pub mod netcash;

use worker::{Request, Response};

/// Checks the `x-<prefix>-*` signature headers of a call to a sandbox.
/// Returns the refusal to send if they do not verify.
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
        Some(crate::util::json(401, &serde_json::json!({"result": "NG", "error_code": code, "message": msg})))
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
