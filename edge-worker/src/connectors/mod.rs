//! Provider connectors: one module per provider, each the only code that
//! knows its provider's wire format. Connectors are stateless: they turn
//! our request into the provider's, send it, and map the provider's answer
//! to ours explicitly (anything not understood is `Unknown`, i.e. pending).

pub mod cybersource;
pub mod au;
pub mod netcash;
pub mod np;
pub mod prepaid;

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
