//! The merchant API's subscriptions (`/v1/subscriptions…`, routed by
//! `api::ROUTES`): list (filters, cursor), one with its charges, a
//! purchase on a fixed-term subscription (Idempotency-Key required: it is
//! the purchase's key), and the cancellation.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

use super::SubCall;
use crate::api_error::{err, ApiError, ApiResult};
use crate::store::Merchant;

/// A subscription of this merchant, or 404 (another merchant's does not
/// exist for this one).
async fn own(env: &Env, merchant: &Merchant, id: &str) -> Result<serde_json::Value, ApiError> {
    let not_found = || err(404, "subscription_not_found", format!("no subscription {id}"));
    if !id.starts_with("sub_") || id.len() != 30 || !id[4..].bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let mut r = super::call(env, id, &SubCall::Record).await?;
    if r.status_code() != 200 {
        return Err(not_found());
    }
    let v: serde_json::Value = r.json().await?;
    if v["merchant_id"] != merchant.merchant_id.as_str() || v["service_id"] != merchant.service_id.as_str() {
        return Err(not_found());
    }
    Ok(v)
}

pub async fn list(db: &D1Database, merchant: &Merchant, url: &worker::Url) -> ApiResult {
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    let mut sql = String::from(
        "SELECT subscription_id, cust_code, order_id, method, kind, status, amount, item_name, next_billing_at, registration_payment_id, created_at, updated_at
         FROM subscriptions WHERE merchant_id = ?1 AND service_id = ?2",
    );
    let mut args: Vec<JsValue> = vec![merchant.merchant_id.as_str().into(), merchant.service_id.as_str().into()];
    if let Some(s) = q.get("status") {
        if shared::recurring::SubStatus::from_code(s).is_none() {
            return Err(err(400, "invalid_query", "status is active, suspended, cancelled or expired"));
        }
    }
    if let Some(k) = q.get("kind") {
        if shared::recurring::Kind::from_code(k).is_none() {
            return Err(err(400, "invalid_query", "kind is simple or fixed"));
        }
    }
    if let Some(m) = q.get("method") {
        if !matches!(m.as_str(), "au" | "np") {
            return Err(err(400, "invalid_query", "method is au or np"));
        }
    }
    for name in ["status", "kind", "method", "cust_code"] {
        if let Some(v) = q.get(name) {
            args.push(v.as_str().into());
            sql.push_str(&format!(" AND {name} = ?{}", args.len()));
        }
    }
    if let Some(c) = q.get("cursor") {
        let (t, id) = c
            .split_once('_')
            .and_then(|(t, id)| Some((t.parse::<i64>().ok()?, id)))
            .ok_or_else(|| err(400, "invalid_cursor", "cursor is the next_cursor of a previous page"))?;
        args.push(JsValue::from_f64(t as f64));
        args.push(format!("sub_{id}").into());
        let (a, b) = (args.len() - 1, args.len());
        sql.push_str(&format!(" AND (created_at < ?{a} OR (created_at = ?{a} AND subscription_id < ?{b}))"));
    }
    let limit: u32 = match q.get("limit") {
        None => 20,
        Some(l) => l.parse().ok().filter(|l| (1..=100).contains(l)).ok_or_else(|| err(400, "invalid_query", "limit is 1 to 100"))?,
    };
    sql.push_str(&format!(" ORDER BY created_at DESC, subscription_id DESC LIMIT {}", limit + 1));
    #[derive(Deserialize)]
    struct Row {
        subscription_id: String,
        cust_code: Option<String>,
        order_id: String,
        method: String,
        kind: String,
        status: String,
        amount: f64,
        item_name: String,
        next_billing_at: Option<f64>,
        registration_payment_id: String,
        created_at: f64,
        updated_at: f64,
    }
    let mut rows: Vec<Row> = db.prepare(sql).bind(&args)?.all().await?.results()?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| format!("{}_{}", r.created_at as i64, &r.subscription_id[4..]))
    } else {
        None
    };
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({"subscription_id": r.subscription_id, "cust_code": r.cust_code, "order_id": r.order_id, "method": r.method,
                "kind": r.kind, "status": r.status, "amount": r.amount as i64, "item_name": r.item_name,
                "next_billing_at": r.next_billing_at.map(|t| t as i64), "registration_tracking_id": r.registration_payment_id,
                "created_at": r.created_at as i64, "updated_at": r.updated_at as i64})
        })
        .collect();
    Ok((200, serde_json::json!({"data": data, "next_cursor": next_cursor})))
}

/// One subscription with its charges (each a payment: tracking id, status,
/// amounts), newest first.
pub async fn get(env: &Env, db: &D1Database, merchant: &Merchant, id: &str) -> ApiResult {
    let mut v = own(env, merchant, id).await?;
    #[derive(Deserialize)]
    struct Row {
        payment_id: String,
        order_id: String,
        status: String,
        amount: f64,
        created_at: f64,
    }
    let mut ids: Vec<String> = v["cycles"].as_array().into_iter().flatten().filter_map(|c| c["tracking_id"].as_str().map(str::to_string)).collect();
    ids.extend(v["purchases"].as_array().into_iter().flatten().filter_map(|p| p.as_str().map(str::to_string)));
    let mut charges = vec![];
    for chunk in ids.chunks(50) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
        let args: Vec<JsValue> = chunk.iter().map(|s| JsValue::from_str(s)).collect();
        let rows: Vec<Row> = db
            .prepare(format!("SELECT payment_id, order_id, status, amount, created_at FROM payments WHERE payment_id IN ({})", marks.join(",")))
            .bind(&args)?
            .all()
            .await?
            .results()?;
        charges.extend(rows.into_iter().map(|r| {
            serde_json::json!({"tracking_id": r.payment_id, "order_id": r.order_id, "status": r.status, "amount": r.amount as i64, "created_at": r.created_at as i64})
        }));
    }
    charges.sort_by_key(|c| std::cmp::Reverse(c["created_at"].as_i64()));
    v["charges"] = charges.into();
    Ok((200, v))
}

/// `POST /v1/subscriptions/{id}/purchases {amount, item_name?}`.
pub async fn purchase(env: &Env, merchant: &Merchant, id: &str, body: &[u8], key: Option<String>) -> ApiResult {
    let Some(key) = key else {
        return Err(err(400, "idempotency_key_required", "a purchase needs an Idempotency-Key: it makes a retry the same purchase"));
    };
    // The amount (and the fields allowed) as every money-moving call reads them.
    let amount = shared::money::amount_in_body(body, &["amount", "item_name"]).map_err(|e| err(400, e.code, e.message))?;
    let Some(amount) = amount else { return Err(err(400, "missing_amount", "amount (whole yen, more than 0) is required")) };
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| err(400, "invalid_body", e.to_string()))?;
    let item_name = match v.get("item_name") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(n)) if !n.trim().is_empty() && n.chars().count() <= 100 => Some(n.clone()),
        Some(_) => return Err(err(422, "invalid_item_name", "item_name is 1 to 100 characters (au: at most 20)")),
    };
    own(env, merchant, id).await?;
    let mut r = super::call(env, id, &SubCall::Purchase { amount, key, item_name }).await?;
    let status = r.status_code();
    let v: serde_json::Value = r.json().await?;
    if status != 200 {
        let code = v["error"]["code"].as_str().unwrap_or("purchase_refused");
        let code: &'static str = match code {
            "not_fixed_term" => "not_fixed_term",
            "subscription_ended" => "subscription_ended",
            "item_name_too_long" => "item_name_too_long",
            _ => "purchase_refused",
        };
        return Err(err(status, code, v["error"]["message"].as_str().unwrap_or("refused").to_string()));
    }
    let p: crate::payment_do::Payment = serde_json::from_value(v["payment"].clone())?;
    let mut view = p.snapshot();
    view["history"] = serde_json::to_value(&p.history)?;
    view["operations"] = serde_json::to_value(&p.journal)?;
    let code = match p.status {
        shared::payment::Status::Reconciling | shared::payment::Status::Processing => 202,
        shared::payment::Status::Failed | shared::payment::Status::Pending => 402,
        _ => 201,
    };
    Ok((code, serde_json::json!({"payment": view, "warnings": v["warnings"]})))
}

pub async fn cancel(env: &Env, merchant: &Merchant, id: &str) -> ApiResult {
    own(env, merchant, id).await?;
    let mut r = super::call(env, id, &SubCall::Cancel { by: "merchant".into() }).await?;
    Ok((200, r.json().await?))
}
