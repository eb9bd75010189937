//! The operators' console (`/operator`): the shell its app fills in
//! (widget's `operator` bin, static/operator/pkg), and the one operator
//! endpoint it needs beyond the existing ones: payments stuck in
//! `processing` or `reconciling` past their deadline
//! (`GET /operator/stuck-payments`).

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Response};

use crate::util::json;

/// `GET /operator`: the console's shell (the API it calls needs the
/// operator token, which the operator types in; the page itself holds none).
pub fn page() -> worker::Result<Response> {
    let body = "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
        <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
        <title>オペレーターコンソール / Kessai Link operators</title><link rel=\"icon\" href=\"data:,\">\
        <link rel=\"stylesheet\" href=\"/admin/admin.css\"><script type=\"module\" src=\"/operator-console/boot.js\"></script></head>\
        <body><div id=\"operator\"><p role=\"status\">読み込み中… / Loading…</p></div>\
        <noscript>JavaScript を有効にしてください。 / Enable JavaScript.</noscript></body></html>";
    crate::html::page(200, body.to_string(), "'none'")
}

/// How long a payment may sit in `processing`/`reconciling` without a
/// change before it is listed (seconds), unless `older_than` says.
pub const STUCK_AFTER_SECONDS: i64 = 15 * 60;

/// Payments in `processing` or `reconciling` whose next check is overdue
/// (their object's work was due more than a minute ago) or that have not
/// changed for `older_than` seconds: what the sweep and reconciliation
/// should have ended. Oldest first, at most 200.
pub async fn stuck(db: &D1Database, now: i64, older_than: Option<&str>) -> worker::Result<Response> {
    let older_than = match older_than {
        None => STUCK_AFTER_SECONDS,
        Some(v) => match v.parse::<i64>() {
            Ok(s) if (0..=30 * 86_400).contains(&s) => s,
            _ => return json(400, &serde_json::json!({"error": {"code": "invalid_query", "message": "older_than is 0 to 2592000 seconds", "field": "older_than"}})),
        },
    };
    #[derive(Deserialize)]
    struct Row {
        payment_id: String,
        merchant_id: String,
        service_id: String,
        order_id: String,
        method: Option<String>,
        status: String,
        amount: f64,
        created_at: f64,
        updated_at: f64,
        due_at: Option<f64>,
    }
    let rows: Vec<Row> = db
        .prepare(
            "SELECT payment_id, merchant_id, service_id, order_id, method, status, amount, created_at, updated_at, due_at FROM payments
             WHERE status IN ('processing', 'reconciling') AND (updated_at <= ?1 OR (due_at IS NOT NULL AND due_at <= ?2))
             ORDER BY updated_at LIMIT 200",
        )
        .bind(&[JsValue::from_f64((now - older_than) as f64), JsValue::from_f64((now - 60) as f64)])?
        .all()
        .await?
        .results()?;
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let due = r.due_at.map(|d| d as i64);
            serde_json::json!({
                "payment_id": r.payment_id, "merchant_id": r.merchant_id, "service_id": r.service_id, "order_id": r.order_id,
                "method": r.method, "status": r.status, "amount": r.amount as i64, "created_at": r.created_at as i64,
                "updated_at": r.updated_at as i64, "due_at": due,
                "stuck_for_seconds": now - r.updated_at as i64,
                "overdue_seconds": due.map(|d| (now - d).max(0)),
            })
        })
        .collect();
    json(200, &serde_json::json!({"data": data, "older_than": older_than}))
}
