//! Notifications from providers to us (`/provider/<name>/notify`). Each is
//! verified (signature, constant time, ±300 s) before anything changes; an
//! unverifiable one is refused and the provider is asked for the status
//! instead. Applying a notification twice changes nothing.

use serde::Deserialize;
use worker::{Env, Method, Request, Response};

use crate::config::Config;
use crate::connectors::netcash::Netcash;
use crate::payment_do;
use crate::util::{self, json};

/// NET CASH: a refund of a weekly batch was paid.
pub async fn netcash(mut req: Request, env: &Env, config: &Config) -> worker::Result<Response> {
    #[derive(Deserialize)]
    struct Notice {
        #[serde(rename = "type")]
        kind: String,
        refund_id: String,
        request_id: String,
        paid_on: Option<String>,
    }
    let body = req.text().await?;
    let path = req.path();
    let refused = crate::sandbox::verify_signed("netcash", &req, &path, &body, &config.netcash.merchant_code, &config.netcash.secret, util::now().0);
    let Ok(n) = serde_json::from_str::<Notice>(&body) else {
        return json(400, &serde_json::json!({"error": {"code": "invalid_body", "message": "not a NET CASH notification"}}));
    };
    // The payment is named by the debit's request id: `<payment id>-<attempt>`.
    let payment_id = n.request_id.rsplit_once('-').map(|(p, _)| p).unwrap_or_default().to_string();
    if !crate::checkout::valid_payment_id(&payment_id) || n.kind != "refund.paid" {
        return json(422, &serde_json::json!({"error": {"code": "unknown_notification", "message": "unknown type or payment"}}));
    }
    let paid_on = if refused.is_some() {
        // Not verifiable: do not trust it, ask NET CASH.
        let asked = (Netcash { endpoint: &config.netcash }).refund_paid_on(&n.refund_id).await;
        worker::console_warn!("unverifiable NET CASH notification for {}; status says {asked:?}", n.refund_id);
        if let Some(paid_on) = asked {
            payment_do::call(env, &payment_id, Method::Post, "/netcash-refund-paid", Some(serde_json::json!({"refund_id": n.refund_id, "paid_on": paid_on}).to_string())).await?;
        }
        return json(401, &serde_json::json!({"error": {"code": "bad_signature", "message": "notification not verified; status was asked instead"}}));
    } else {
        n.paid_on.unwrap_or_default()
    };
    let mut r = payment_do::call(env, &payment_id, Method::Post, "/netcash-refund-paid", Some(serde_json::json!({"refund_id": n.refund_id, "paid_on": paid_on}).to_string())).await?;
    let status = r.status_code();
    let v: serde_json::Value = r.json().await.unwrap_or_default();
    json(if status == 200 { 200 } else { status }, &v)
}
