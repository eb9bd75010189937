//! The merchant API under `/v1/` (PRODUCT §4): signed requests,
//! idempotency keys, and the operations. Every route is in [`ROUTES`], which
//! the router dispatches on and a test compares with the OpenAPI document.

use serde::Deserialize;
use shared::methods::Method as PayMethod;
use shared::payment::Status;
use shared::signing::{hex, sha256, verify_api_signature};
use shared::url::HttpUrl;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env, Request, Response};

use crate::clock::Clock;
use crate::config::Config;
use crate::payment_do::{self, Call, OperateBody, Payment};
use shared::journal::OpKind;
use crate::store::{self, Merchant};
use crate::subscription_do::api as subs;
use crate::util;

/// Every route of the merchant API: method and path pattern (`{name}` is a
/// path segment).
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/checkouts"),
    ("GET", "/v1/merchant"),
    ("PUT", "/v1/merchant"),
    ("POST", "/v1/merchant/rotate"),
    ("GET", "/v1/payments"),
    ("GET", "/v1/payments/{payment_id}"),
    ("GET", "/v1/payments/{payment_id}/events"),
    ("POST", "/v1/payments/{payment_id}/events/{event_id}/resend"),
    ("POST", "/v1/payments/{payment_id}/settle"),
    ("POST", "/v1/payments/{payment_id}/cancel"),
    ("POST", "/v1/payments/{payment_id}/refund"),
    ("POST", "/v1/payments/{payment_id}/shipment"),
    ("POST", "/v1/webhooks/resend"),
    ("GET", "/v1/subscriptions"),
    ("GET", "/v1/subscriptions/{subscription_id}"),
    ("POST", "/v1/subscriptions/{subscription_id}/purchases"),
    ("POST", "/v1/subscriptions/{subscription_id}/cancel"),
];

pub use crate::api_error::{err, ApiError, ApiResult};

/// Matches a path against a pattern, returning the `{name}` segments.
fn matches<'a>(pattern: &str, path: &'a str) -> Option<Vec<&'a str>> {
    let p: Vec<&str> = pattern.split('/').collect();
    let a: Vec<&str> = path.split('/').collect();
    if p.len() != a.len() {
        return None;
    }
    let mut params = vec![];
    for (x, y) in p.iter().zip(a.iter()) {
        if x.starts_with('{') {
            if y.is_empty() {
                return None;
            }
            params.push(*y);
        } else if x != y {
            return None;
        }
    }
    Some(params)
}

/// The route a request is for: its index in [`ROUTES`] and parameters.
pub fn find_route<'a>(method: &str, path: &'a str) -> Result<(usize, Vec<&'a str>), ApiError> {
    let mut path_known = false;
    for (i, (m, pattern)) in ROUTES.iter().enumerate() {
        if let Some(params) = matches(pattern, path) {
            path_known = true;
            if *m == method {
                return Ok((i, params));
            }
        }
    }
    if path_known {
        Err(err(405, "method_not_allowed", format!("{method} is not allowed on {path}")))
    } else {
        Err(err(404, "no_such_route", format!("no API route {path}; see /openapi.json")))
    }
}

/// The methods routed for a path.
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    ROUTES.iter().filter(|(_, pattern)| matches(pattern, path).is_some()).map(|(m, _)| *m).collect()
}

/// Checks `X-Kessai-Merchant`, `X-Kessai-Timestamp` (±300 s) and
/// `X-Kessai-Signature` (constant time, any current hash key).
async fn authenticate(req: &Request, db: &D1Database, body: &[u8], path_and_query: &str) -> Result<Merchant, ApiError> {
    let h = |n: &str| req.headers().get(n).ok().flatten().filter(|v| !v.is_empty());
    let merchant_id = h("x-kessai-merchant").ok_or_else(|| err(401, "missing_merchant_header", "X-Kessai-Merchant is missing"))?;
    let ts = h("x-kessai-timestamp").ok_or_else(|| err(401, "missing_timestamp_header", "X-Kessai-Timestamp is missing"))?;
    let sig = h("x-kessai-signature").ok_or_else(|| err(401, "missing_signature_header", "X-Kessai-Signature is missing"))?;
    let service_id = h("x-kessai-service").unwrap_or_else(|| store::SANDBOX_SERVICE_ID.to_string());
    let ts: i64 = ts.parse().map_err(|_| err(401, "bad_timestamp", "X-Kessai-Timestamp must be Unix seconds"))?;
    if util::now().0.abs_diff(ts) > 300 {
        return Err(err(401, "timestamp_out_of_window", "X-Kessai-Timestamp is more than 300 seconds from now"));
    }
    let merchant = store::find_merchant(db, &merchant_id, &service_id)
        .await?
        .ok_or_else(|| err(401, "unknown_merchant", "X-Kessai-Merchant (and X-Kessai-Service) name no merchant"))?;
    let method = req.method().to_string();
    let ok = merchant.hash_keys.iter().fold(false, |ok, k| ok | verify_api_signature(k.as_bytes(), ts, &method, path_and_query, body, &sig));
    if !ok {
        return Err(err(
            401,
            "bad_signature",
            "X-Kessai-Signature does not match: sign timestamp + \".\" + METHOD + \".\" + path-with-query + \".\" + raw body",
        ));
    }
    Ok(merchant)
}

pub async fn handle(mut req: Request, env: &Env, config: &Config) -> worker::Result<Response> {
    let url = req.url()?;
    let path = url.path().to_string();
    let path_and_query = match url.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    let method = req.method().to_string();
    let (route, params) = match find_route(&method, &path) {
        Ok(r) => r,
        Err(e) => {
            let mut r = e.response()?;
            if e.status == 405 {
                // RFC 9110: a 405 lists the methods the resource supports.
                r.headers_mut().set("allow", &allowed_methods(&path).join(", "))?;
            }
            return Ok(r);
        }
    };
    let body = req.bytes().await?;
    if body.len() > 64 * 1024 {
        return err(413, "request_too_large", "the body is over 64 KiB").response();
    }
    let db = store::db(env, config.sandbox).await?;
    let merchant = match authenticate(&req, &db, &body, &path_and_query).await {
        Ok(m) => m,
        Err(e) => return e.response(),
    };
    let clock = Clock::load(env, config).await?;
    let mutating = method != "GET";
    // A suspended merchant may still read (payments, settings), nothing else.
    if mutating && merchant.suspended_at.is_some() {
        return err(403, "merchant_suspended", "this merchant is suspended by the operator; only GET requests are served").response();
    }
    let idem_key = req.headers().get("idempotency-key")?.filter(|k| !k.is_empty());
    if let (true, Some(key)) = (mutating, &idem_key) {
        if key.len() > 255 {
            return err(400, "bad_idempotency_key", "Idempotency-Key is at most 255 characters").response();
        }
        let hash = hex(&sha256(&[method.as_bytes(), b" ", path_and_query.as_bytes(), b"\n", &body].concat()));
        match claim_key(&db, &merchant, key, &hash, util::now().0).await? {
            Claim::Mine => {}
            Claim::Replay(status, body) => {
                let mut r = Response::ok(body)?.with_status(status);
                r.headers_mut().set("content-type", "application/json")?;
                r.headers_mut().set("idempotent-replayed", "true")?;
                return Ok(r);
            }
            Claim::InProgress => {
                return err(409, "idempotency_key_in_use", "a request with this Idempotency-Key is still running; retry later").response()
            }
            Claim::OtherBody => {
                return err(409, "idempotency_key_reused", "this Idempotency-Key was used with another request").response()
            }
        }
    }
    let provider_key = idem_key.as_deref().filter(|_| mutating).map(|k| provider_key(&merchant, k));
    let result = dispatch(route, &params, &body, &url, env, config, &db, &merchant, &clock, provider_key).await;
    let (status, value) = match result {
        Ok((status, v)) => (status, v),
        Err(e) => (e.status, serde_json::json!({"error": {"code": e.code, "message": e.message}})),
    };
    if let (true, Some(key)) = (mutating, &idem_key) {
        if status >= 500 || status == 202 {
            // Unclear (or failed on our side): the key stays this request's,
            // unleased, so its retry resolves the same operation (the same
            // provider key) and another body is still refused.
            release_lease(&db, &merchant, key).await?;
        } else {
            finish_key(&db, &merchant, key, status, &value.to_string()).await?;
        }
    }
    util::json(status, &value)
}

enum Claim {
    Mine,
    Replay(u16, String),
    InProgress,
    OtherBody,
}

/// How long a request holds its Idempotency-Key while it runs: a request
/// that died frees its key after this, not after 24 hours.
const KEY_LEASE_SECONDS: i64 = 60;

/// The provider key of a merchant operation: derived from the merchant,
/// the service and the `Idempotency-Key`, so a retry after a timeout
/// reaches the provider as the same request.
pub fn provider_key(merchant: &Merchant, idempotency_key: &str) -> String {
    let digest = sha256(format!("{}\n{}\n{}", merchant.merchant_id, merchant.service_id, idempotency_key).as_bytes());
    format!("ik_{}", &hex(&digest)[..40])
}

/// Claims an idempotency key atomically: the first request with a key runs
/// (holding a lease), later ones with the same body get its answer for 24
/// hours, or run again when the first ended unclear or its lease expired.
async fn claim_key(db: &D1Database, m: &Merchant, key: &str, hash: &str, now: i64) -> worker::Result<Claim> {
    let (mid, sid) = (m.merchant_id.as_str(), m.service_id.as_str());
    db.prepare("DELETE FROM idempotency_keys WHERE merchant_id = ?1 AND service_id = ?2 AND idem_key = ?3 AND created_at < ?4")
        .bind(&[mid.into(), sid.into(), key.into(), JsValue::from_f64((now - 86_400) as f64)])?
        .run()
        .await?;
    let res = db
        .prepare(
            "INSERT INTO idempotency_keys (merchant_id, service_id, idem_key, request_hash, status, response, created_at, lease_until)
             VALUES (?1, ?2, ?3, ?4, NULL, NULL, ?5, ?6) ON CONFLICT (merchant_id, service_id, idem_key) DO NOTHING",
        )
        .bind(&[mid.into(), sid.into(), key.into(), hash.into(), JsValue::from_f64(now as f64), JsValue::from_f64((now + KEY_LEASE_SECONDS) as f64)])?
        .run()
        .await?;
    if res.meta()?.and_then(|m| m.changes).unwrap_or(0) == 1 {
        return Ok(Claim::Mine);
    }
    #[derive(Deserialize)]
    struct Row {
        request_hash: String,
        status: Option<f64>,
        response: Option<String>,
        lease_until: f64,
    }
    let row: Option<Row> = db
        .prepare("SELECT request_hash, status, response, lease_until FROM idempotency_keys WHERE merchant_id = ?1 AND service_id = ?2 AND idem_key = ?3")
        .bind(&[mid.into(), sid.into(), key.into()])?
        .first(None)
        .await?;
    Ok(match row {
        None => Claim::InProgress,
        Some(r) if r.request_hash != hash => Claim::OtherBody,
        Some(Row { status: Some(s), response: Some(body), .. }) => Claim::Replay(s as u16, body),
        Some(r) if (r.lease_until as i64) > now => Claim::InProgress,
        Some(_) => {
            // Unleased (ended unclear, or its request died): take it over,
            // atomically against another retry doing the same.
            let res = db
                .prepare(
                    "UPDATE idempotency_keys SET lease_until = ?5 WHERE merchant_id = ?1 AND service_id = ?2 AND idem_key = ?3
                     AND status IS NULL AND lease_until <= ?4",
                )
                .bind(&[mid.into(), sid.into(), key.into(), JsValue::from_f64(now as f64), JsValue::from_f64((now + KEY_LEASE_SECONDS) as f64)])?
                .run()
                .await?;
            if res.meta()?.and_then(|m| m.changes).unwrap_or(0) == 1 {
                Claim::Mine
            } else {
                Claim::InProgress
            }
        }
    })
}

async fn finish_key(db: &D1Database, m: &Merchant, key: &str, status: u16, response: &str) -> worker::Result<()> {
    db.prepare("UPDATE idempotency_keys SET status = ?4, response = ?5 WHERE merchant_id = ?1 AND service_id = ?2 AND idem_key = ?3")
        .bind(&[m.merchant_id.as_str().into(), m.service_id.as_str().into(), key.into(), JsValue::from_f64(status as f64), response.into()])?
        .run()
        .await?;
    Ok(())
}

async fn release_lease(db: &D1Database, m: &Merchant, key: &str) -> worker::Result<()> {
    db.prepare("UPDATE idempotency_keys SET lease_until = 0 WHERE merchant_id = ?1 AND service_id = ?2 AND idem_key = ?3")
        .bind(&[m.merchant_id.as_str().into(), m.service_id.as_str().into(), key.into()])?
        .run()
        .await?;
    Ok(())
}


pub(crate) fn merchant_view(m: &Merchant) -> serde_json::Value {
    serde_json::json!({
        "merchant_id": m.merchant_id,
        "service_id": m.service_id,
        "name": m.name,
        "webhook_url": m.webhook_url,
        "webhook_disabled_at": m.webhook_disabled_at,
        "webhook_notice": m.webhook_notice,
        "allowed_origins": m.origins,
        "enabled_methods": m.methods,
        "recurring": m.recurring,
    })
}

/// Loads a payment of this merchant, or 404 (another merchant's payment
/// does not exist for this one).
async fn own_payment(env: &Env, merchant: &Merchant, id: &str) -> Result<Payment, ApiError> {
    let not_found = || err(404, "payment_not_found", format!("no payment {id}"));
    if !crate::checkout::valid_payment_id(id) {
        return Err(not_found());
    }
    let mut resp = payment_do::call(env, id, &Call::Record).await?;
    if resp.status_code() != 200 {
        return Err(not_found());
    }
    let p: Payment = resp.json().await?;
    if p.merchant_id != merchant.merchant_id || p.service_id != merchant.service_id {
        return Err(not_found());
    }
    Ok(p)
}

pub(crate) fn payment_view(p: &Payment) -> serde_json::Value {
    let mut v = p.snapshot();
    let o = v.as_object_mut().expect("snapshot is an object");
    o.insert("created_at".into(), p.created_at.into());
    o.insert("expires_at".into(), p.expires_at.into());
    o.insert("history".into(), serde_json::to_value(&p.history).unwrap_or_default());
    o.insert("events".into(), serde_json::to_value(&p.events).unwrap_or_default());
    o.insert("operations".into(), serde_json::to_value(&p.journal).unwrap_or_default());
    v
}

#[allow(clippy::too_many_arguments)]
async fn dispatch(
    route: usize,
    params: &[&str],
    body: &[u8],
    url: &worker::Url,
    env: &Env,
    _config: &Config,
    db: &D1Database,
    merchant: &Merchant,
    clock: &Clock,
    provider_key: Option<String>,
) -> ApiResult {
    match ROUTES[route] {
        ("POST", "/v1/checkouts") => create_checkout(body, env, _config, db, merchant).await,
        ("GET", "/v1/merchant") => Ok((200, merchant_view(merchant))),
        ("PUT", "/v1/merchant") => {
            let answer = put_merchant(db, merchant, body, _config.production).await?;
            // Events that waited for an endpoint go out now, in order.
            if answer.1["webhook_url"].is_string() && answer.1["webhook_disabled_at"].is_null() {
                for id in store::resumable_payments(db, Some((&merchant.merchant_id, &merchant.service_id)), 100).await? {
                    if let Err(e) = payment_do::call(env, &id, &Call::Tick).await {
                        worker::console_error!("resuming deliveries of {id}: {e}");
                    }
                }
            }
            Ok(answer)
        }
        ("POST", "/v1/merchant/rotate") => rotate(db, merchant, body).await,
        ("GET", "/v1/payments") => list_payments(db, merchant, url).await,
        ("GET", "/v1/payments/{payment_id}") => Ok((200, payment_view(&own_payment(env, merchant, params[0]).await?))),
        ("GET", "/v1/payments/{payment_id}/events") => {
            let p = own_payment(env, merchant, params[0]).await?;
            Ok((200, serde_json::json!({"data": p.events})))
        }
        ("POST", "/v1/payments/{payment_id}/events/{event_id}/resend") => {
            let p = own_payment(env, merchant, params[0]).await?;
            let mut r = payment_do::call(env, &p.id, &Call::Resend { event_id: params[1].to_string() }).await?;
            let status = r.status_code();
            Ok((status, r.json().await?))
        }
        ("POST", op @ ("/v1/payments/{payment_id}/settle" | "/v1/payments/{payment_id}/cancel" | "/v1/payments/{payment_id}/refund")) => {
            let p = own_payment(env, merchant, params[0]).await?;
            let action = op.rsplit('/').next().unwrap_or_default();
            if let Some(refusal) = method_rule_refusal(&p, action, clock, merchant) {
                return Err(refusal);
            }
            let amount = shared::money::amount_in_body(body, &["amount"]).map_err(|e| err(400, e.code, e.message))?;
            let kind = match action {
                "settle" => OpKind::Capture,
                "cancel" => OpKind::Void,
                _ => OpKind::Refund,
            };
            operate(env, &p, OperateBody { kind, amount, key: provider_key }).await
        }
        ("POST", "/v1/payments/{payment_id}/shipment") => {
            let p = own_payment(env, merchant, params[0]).await?;
            if p.method != Some(PayMethod::Np) {
                return Err(err(422, "not_np", "only NP postpaid payments take a shipment report"));
            }
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Body {}
            if !body.is_empty() {
                serde_json::from_slice::<Body>(body).map_err(|e| err(400, "invalid_body", format!("expected {{}}: {e}")))?;
            }
            // The shipment fixes the sale for the whole screened amount.
            operate(env, &p, OperateBody { kind: OpKind::Capture, amount: None, key: provider_key }).await
        }
        ("POST", "/v1/webhooks/resend") => resend_failed(env, db, merchant, body).await,
        ("GET", "/v1/subscriptions") => subs::list(db, merchant, url).await,
        ("GET", "/v1/subscriptions/{subscription_id}") => subs::get(env, db, merchant, params[0]).await,
        ("POST", "/v1/subscriptions/{subscription_id}/purchases") => subs::purchase(env, merchant, params[0], body, provider_key).await,
        ("POST", "/v1/subscriptions/{subscription_id}/cancel") => subs::cancel(env, merchant, params[0]).await,
        _ => Err(err(404, "no_such_route", "no such route")),
    }
}

/// A journaled operation on the payment's object, answered as the API
/// answers: the payment (200), the operation being reconciled (202), or
/// the refusal.
pub(crate) async fn operate(env: &Env, p: &Payment, body: OperateBody) -> ApiResult {
    let mut r = payment_do::call(env, &p.id, &Call::Operate(body)).await?;
    let status = r.status_code();
    let v: serde_json::Value = r.json().await?;
    if status == 200 {
        let p: Payment = serde_json::from_value(v)?;
        return Ok((200, payment_view(&p)));
    }
    Ok((status, v))
}

/// `POST /v1/webhooks/resend`: sends again every webhook event still owed
/// (failed, or waiting for an endpoint) created in `[from, to)`, in order
/// per payment. Bounded: at most 500 payments per call (`more` says so).
pub(crate) async fn resend_failed(env: &Env, db: &D1Database, merchant: &Merchant, body: &[u8]) -> ApiResult {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Range {
        from: i64,
        to: i64,
    }
    let r: Range = serde_json::from_slice(body).map_err(|e| err(400, "invalid_body", format!("expected {{\"from\": unix seconds, \"to\": unix seconds}}: {e}")))?;
    if r.from >= r.to || r.from < 0 {
        return Err(err(422, "invalid_range", "from must be before to (Unix seconds)"));
    }
    if merchant.webhook_url.is_none() {
        return Err(err(409, "no_webhook_url", "the merchant has no webhook URL; set one with PUT /v1/merchant"));
    }
    #[derive(Deserialize)]
    struct Row {
        payment_id: String,
    }
    let rows: Vec<Row> = db
        .prepare(
            "SELECT payment_id FROM payments WHERE merchant_id = ?1 AND service_id = ?2 AND created_at < ?3 AND updated_at >= ?4
             ORDER BY created_at LIMIT 501",
        )
        .bind(&[merchant.merchant_id.as_str().into(), merchant.service_id.as_str().into(), JsValue::from_f64(r.to as f64), JsValue::from_f64(r.from as f64)])?
        .all()
        .await?
        .results()?;
    let more = rows.len() > 500;
    let (mut sent, mut delivered, mut payments) = (0u64, 0u64, 0u64);
    for row in rows.iter().take(500) {
        let mut resp = payment_do::call(env, &row.payment_id, &Call::ResendFailed { from: r.from, to: r.to }).await?;
        if resp.status_code() != 200 {
            continue;
        }
        let v: serde_json::Value = resp.json().await?;
        let s = v["sent"].as_u64().unwrap_or(0);
        if s > 0 {
            payments += 1;
        }
        sent += s;
        delivered += v["delivered"].as_u64().unwrap_or(0);
    }
    Ok((200, serde_json::json!({"payments": payments, "sent": sent, "delivered": delivered, "more": more})))
}

/// What the method's rules (PRODUCT §2) refuse before anything is tried.
/// `None`: the operation may go on to the payment (which still checks
/// amounts and states).
pub(crate) fn method_rule_refusal(p: &Payment, action: &str, clock: &Clock, merchant: &Merchant) -> Option<ApiError> {
    let _ = clock;
    Some(match (p.method, action) {
        (None, _) => err(409, "not_paid", format!("the payment is {} and has taken no money", p.status.code())),
        // The au contract decides (the seed's combination table): with
        // WebMoney added, au takes no refunds.
        (Some(PayMethod::Au), "refund") if !merchant.contracts.au().refund => err(
            422,
            "au_refund_not_in_contract",
            "this merchant's au Kantan Kessai contract (with WebMoney) takes no refunds; settle it with the shopper another way",
        ),
        (Some(PayMethod::Netcash), "refund") => err(
            422,
            "refund_via_admin_tool",
            "NET CASH refunds are requested in the payment administration tool (weekly refund batch), not through the API",
        ),
        (Some(PayMethod::Netcash), "cancel") => {
            err(422, "not_cancellable", "NET CASH sales are final at payment; a paid NET CASH payment can only be refunded")
        }
        (Some(PayMethod::Netcash), "settle") => err(422, "not_settleable", "NET CASH has automatic sales only: there is nothing to settle"),
        (Some(PayMethod::Prepaid), "cancel") => err(422, "not_cancellable", "prepaid card sales are final at payment; refund the payment instead"),
        (Some(PayMethod::Prepaid), "settle") => err(422, "not_settleable", "prepaid cards have automatic sales only: there is nothing to settle"),
        (Some(PayMethod::Np), "settle") => err(
            422,
            "use_shipment_report",
            "NP postpaid sales are fixed by the shipment report: POST /v1/payments/{payment_id}/shipment",
        ),
        (Some(PayMethod::Np), "cancel") if matches!(p.status, Status::Paid | Status::PartiallyRefunded | Status::Refunded) => err(
            422,
            "not_cancellable",
            "NP postpaid transactions can be cancelled only before the shipment report; after it, refund the payment",
        ),
        (Some(PayMethod::Np), "refund") if matches!(p.status, Status::Held | Status::Authorized) => err(
            422,
            "not_refundable",
            "nothing is sold before the shipment report: cancel the NP postpaid transaction instead",
        ),
        _ => return None,
    })
}

/// `POST /v1/checkouts`: the same checkout as the link form, from JSON.
/// The fields are those of the purchase request without `merchant_id`,
/// `service_id`, `request_date` and `hashcode` (the API request is already
/// signed); they go through exactly the link form's validation.
async fn create_checkout(body: &[u8], env: &Env, config: &Config, db: &D1Database, merchant: &Merchant) -> ApiResult {
    use shared::purchase::{PurchaseRequest, FIELDS};
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| err(400, "invalid_body", format!("expected a JSON object: {e}")))?;
    let obj = v.as_object().ok_or_else(|| err(400, "invalid_body", "expected a JSON object"))?;
    let mut form: Vec<(String, String)> = vec![
        ("merchant_id".into(), merchant.merchant_id.clone()),
        ("service_id".into(), merchant.service_id.clone()),
        ("request_date".into(), util::now().jst().compact()),
    ];
    for (name, value) in obj {
        if matches!(name.as_str(), "merchant_id" | "service_id" | "request_date" | "hashcode") || !FIELDS.contains(&name.as_str()) {
            return Err(err(422, "unknown_field", format!("{name} is not a checkout field")));
        }
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Array(items) if name == "pay_method" => {
                items.iter().map(|i| i.as_str().unwrap_or("?")).collect::<Vec<_>>().join(",")
            }
            serde_json::Value::Null => continue,
            _ => return Err(err(422, "invalid_field", format!("{name} must be a string or a number"))),
        };
        form.push((name.clone(), text));
    }
    // Sign with the merchant's own key so that the link form's checks run
    // unchanged.
    let signed: Vec<(&str, &str)> =
        FIELDS.iter().filter_map(|f| form.iter().find(|(n, _)| n == f).map(|(n, v)| (n.as_str(), v.as_str()))).collect();
    let hash = shared::signing::form_hashcode(merchant.signing_key(), signed);
    form.push(("hashcode".into(), hash));
    let refuse = |e: shared::purchase::PurchaseError| {
        let status = if e == shared::purchase::PurchaseError::OrderIdReused { 409 } else { 422 };
        err(status, e.code(), e.to_string())
    };
    let request = PurchaseRequest::parse(&form).map_err(refuse)?;
    request.authenticate(&merchant.key_bytes(), &merchant.origins, util::now()).map_err(refuse)?;
    let device = request.terminal_type.unwrap_or(shared::methods::Device::Pc);
    let expires_in = request.limit_second;
    let warnings: Vec<String> = match (request.pay_type, shared::recurring::check_fixed_item_name(&request.item_name)) {
        (shared::methods::PayType::RecurringFixed, shared::recurring::ItemNameCheck::Warn(w)) => vec![w],
        _ => vec![],
    };
    let id = crate::link::create(env, config, db, merchant, request, device, None).await?.map_err(refuse)?;
    Ok((201, serde_json::json!({
        "tracking_id": id,
        "url": format!("{}/pay/{id}", config.public_base_url),
        "expires_in": expires_in,
        "warnings": warnings,
    })))
}

/// Rotates the hash key or the webhook secret. The new value is returned
/// once; the previous one stays valid for `overlap_seconds` (default one
/// day, at most seven): requests signed with it are accepted and webhooks
/// carry a signature with each secret.
pub(crate) async fn rotate(db: &D1Database, merchant: &Merchant, body: &[u8]) -> ApiResult {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Rotate {
        what: String,
        overlap_seconds: Option<i64>,
    }
    let r: Rotate = serde_json::from_slice(body).map_err(|e| err(400, "invalid_body", format!("expected {{\"what\": \"hash_key\"|\"webhook_secret\", \"overlap_seconds\"?}}: {e}")))?;
    let overlap = r.overlap_seconds.unwrap_or(86_400);
    if !(0..=7 * 86_400).contains(&overlap) {
        return Err(err(422, "invalid_overlap", "overlap_seconds is 0 to 604800"));
    }
    let mut m = merchant.clone();
    let until = util::now().0 + overlap;
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|_| err(500, "internal", "no randomness"))?;
    let value = match r.what.as_str() {
        "hash_key" => {
            let key = format!("hk_{}", shared::signing::hex(&random));
            m.hash_keys = if overlap > 0 { vec![key.clone(), m.hash_keys[0].clone()] } else { vec![key.clone()] };
            m.previous_until = Some(until);
            key
        }
        "webhook_secret" => {
            let secret = shared::webhooks::WebhookSecret::from_bytes(random[..24].to_vec()).encoded();
            let current = m.webhook_secrets.first().cloned();
            m.webhook_secrets = match current {
                Some(old) if overlap > 0 => vec![secret.clone(), old],
                _ => vec![secret.clone()],
            };
            m.previous_until = Some(until);
            secret
        }
        _ => return Err(err(422, "invalid_rotation", "what is hash_key or webhook_secret")),
    };
    store::save_merchant(db, &m).await?;
    Ok((200, serde_json::json!({"what": r.what, "value": value, "previous_valid_until": if overlap > 0 { Some(until) } else { None }})))
}

pub(crate) async fn put_merchant(db: &D1Database, merchant: &Merchant, body: &[u8], production: bool) -> ApiResult {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Put {
        webhook_url: Option<Option<String>>,
        allowed_origins: Option<Vec<String>>,
        enabled_methods: Option<Vec<String>>,
        recurring: Option<shared::recurring::Options>,
    }
    let put: Put = serde_json::from_slice(body)
        .map_err(|e| err(400, "invalid_body", format!("expected {{webhook_url, allowed_origins, enabled_methods, recurring}}: {e}")))?;
    let mut m = merchant.clone();
    if let Some(url) = put.webhook_url {
        match url.filter(|u| !u.is_empty()) {
            None => m.webhook_url = None,
            Some(u) => {
                let parsed = HttpUrl::parse(&u).ok_or_else(|| err(422, "invalid_webhook_url", "webhook_url must be an absolute http(s) URL"))?;
                if production && !crate::config::production_url_ok(&parsed) {
                    return Err(err(422, "invalid_webhook_url", "webhook_url must be https:// and a host name"));
                }
                if !m.origins.iter().any(|o| o.allows(&parsed)) && !parsed.scheme().eq("https") {
                    return Err(err(422, "invalid_webhook_url", "webhook_url must be https, or on an allowed origin"));
                }
                m.webhook_url = Some(u);
            }
        }
        // Setting the URL again resumes deliveries after a pause.
        m.webhook_disabled_at = None;
        m.webhook_notice = None;
    }
    if put.allowed_origins.as_ref().is_some_and(Vec::is_empty) || put.enabled_methods.as_ref().is_some_and(Vec::is_empty) {
        return Err(err(422, "empty_list", "allowed_origins and enabled_methods need at least one entry"));
    }
    if let Some(origins) = put.allowed_origins {
        m.origins = crate::operator::parse_origins(&origins, production).map_err(|(code, message)| err(422, code, message))?;
    }
    if let Some(methods) = put.enabled_methods {
        m.methods = methods
            .iter()
            .map(|c| PayMethod::from_code(c).ok_or_else(|| err(422, "invalid_method", format!("{c} is not one of netcash, prepaid, np, au, card"))))
            .collect::<Result<_, _>>()?;
    }
    if let Some(o) = put.recurring {
        o.validate().map_err(|e| err(422, "invalid_recurring_options", e.0))?;
        store::set_recurring_options(db, &m.merchant_id, &m.service_id, &o, util::now().0).await?;
        m.recurring = o;
    }
    store::save_merchant(db, &m).await?;
    Ok((200, merchant_view(&m)))
}

async fn list_payments(db: &D1Database, merchant: &Merchant, url: &worker::Url) -> ApiResult {
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    let mut sql = String::from(
        "SELECT payment_id, order_id, method, status, amount, created_at, updated_at FROM payments WHERE merchant_id = ?1 AND service_id = ?2",
    );
    let mut args: Vec<JsValue> = vec![merchant.merchant_id.as_str().into(), merchant.service_id.as_str().into()];
    let mut add = |clause: &str, v: JsValue, sql: &mut String| {
        args.push(v);
        sql.push_str(&format!(" AND {clause} ?{}", args.len()));
    };
    if let Some(st) = q.get("status") {
        if !shared::payment::Status::ALL.iter().any(|s| s.code() == st) {
            return Err(err(400, "invalid_query", format!("status {st} is not a payment status")));
        }
    }
    if let Some(m) = q.get("method") {
        if PayMethod::from_code(m).is_none() {
            return Err(err(400, "invalid_query", format!("method {m} is not one of netcash, prepaid, np, au, card")));
        }
    }
    for (name, clause) in [("order_id", "order_id ="), ("status", "status ="), ("method", "method =")] {
        if let Some(v) = q.get(name) {
            add(clause, v.as_str().into(), &mut sql);
        }
    }
    for (name, clause) in [("created_from", "created_at >="), ("created_to", "created_at <")] {
        if let Some(v) = q.get(name) {
            let t: i64 = v.parse().map_err(|_| err(400, "invalid_query", format!("{name} must be Unix seconds")))?;
            add(clause, JsValue::from_f64(t as f64), &mut sql);
        }
    }
    if let Some(c) = q.get("cursor") {
        let (t, id) = c.split_once('_').and_then(|(t, id)| Some((t.parse::<i64>().ok()?, id))).ok_or_else(|| err(400, "invalid_cursor", "cursor is the next_cursor of a previous page"))?;
        args.push(JsValue::from_f64(t as f64));
        args.push(id.into());
        sql.push_str(&format!(" AND (created_at < ?{} OR (created_at = ?{} AND payment_id < ?{}))", args.len() - 1, args.len() - 1, args.len()));
    }
    let limit: u32 = match q.get("limit") {
        None => 20,
        Some(l) => l.parse().ok().filter(|l| (1..=100).contains(l)).ok_or_else(|| err(400, "invalid_query", "limit is 1 to 100"))?,
    };
    sql.push_str(&format!(" ORDER BY created_at DESC, payment_id DESC LIMIT {}", limit + 1));
    #[derive(Deserialize, serde::Serialize)]
    struct Row {
        payment_id: String,
        order_id: String,
        method: Option<String>,
        status: String,
        amount: f64,
        created_at: f64,
        updated_at: f64,
    }
    let mut rows: Vec<Row> = db.prepare(sql).bind(&args)?.all().await?.results()?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| format!("{}_{}", r.created_at as i64, r.payment_id))
    } else {
        None
    };
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({"tracking_id": r.payment_id, "order_id": r.order_id, "method": r.method, "status": r.status,
                "amount": r.amount as i64, "created_at": r.created_at as i64, "updated_at": r.updated_at as i64})
        })
        .collect();
    Ok((200, serde_json::json!({"data": data, "next_cursor": next_cursor})))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OpenAPI document and the router agree: every route is
    /// documented and every documented operation is routed.
    #[test]
    fn openapi_documents_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(include_str!("../../static/openapi.json")).unwrap();
        let mut documented = vec![];
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in ["get", "put", "post", "delete", "patch"] {
                if item.get(method).is_some() {
                    documented.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        let mut routed: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        documented.sort();
        routed.sort();
        assert_eq!(documented, routed);
    }

    #[test]
    fn route_matching() {
        assert_eq!(find_route("GET", "/v1/payments/pay_1").unwrap().1, vec!["pay_1"]);
        assert_eq!(find_route("POST", "/v1/payments/pay_1/events/evt_2/resend").unwrap().1, vec!["pay_1", "evt_2"]);
        assert_eq!(find_route("DELETE", "/v1/payments/pay_1").err().unwrap().code, "method_not_allowed");
        assert_eq!(find_route("GET", "/v1/nothing").err().unwrap().code, "no_such_route");
        assert_eq!(find_route("GET", "/v1/payments//events").err().unwrap().code, "no_such_route");
        assert_eq!(allowed_methods("/v1/merchant"), vec!["GET", "PUT"]);
    }
}
