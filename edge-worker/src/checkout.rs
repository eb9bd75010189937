//! The hosted page's routes: the shell, its JSON endpoints (forwarded to
//! the payment's Durable Object) and the signed return form.

use shared::payment::Status;
use shared::return_form::{signed_fields, ResResult, ReturnValues};
use shared::time::UnixTime;
use worker::{Env, Method, Request, Response};

use crate::config::Config;
use crate::html;
use crate::payment_do::{self, Call, Payment};
use crate::store;
use crate::util::{self, json};

/// Payment ids are ours: `pay_` and 26 base32 characters. Anything else is
/// not looked up (no Durable Object is made for a made-up name).
pub use crate::util::valid_payment_id;

fn not_found_page() -> worker::Result<Response> {
    html::error_page(
        404,
        "payment_not_found",
        "お支払いが見つかりません。リンクが正しいかご確認ください。",
        "This payment does not exist. Check the link.",
    )
}

pub async fn route(req: Request, env: &Env, config: &Config, id: &str, op: &str) -> worker::Result<Response> {
    if !valid_payment_id(id) {
        return if op.is_empty() {
            not_found_page()
        } else {
            json(404, &serde_json::json!({"error": {"code": "not_found", "message": "no such payment"}}))
        };
    }
    match (req.method(), op) {
        (Method::Get, "") => {
            // The session goes into the page: what is being paid shows
            // before the wasm has loaded, and the page saves a round trip.
            // (The object answers 404 for a payment that does not exist.)
            let mut s = payment_do::call(env, id, &Call::Session).await?;
            if s.status_code() == 404 {
                return not_found_page();
            }
            let session = if s.status_code() == 200 { s.text().await.ok() } else { None };
            html::page(200, html::checkout_shell(id, session.as_deref(), &crate::integrity::hashes(env).await), "'self'")
        }
        (Method::Get, "session") => payment_do::call(env, id, &Call::Session).await,
        (Method::Get | Method::Post, "au/return") => au_return(req, env, id).await,
        (Method::Post, "netcash-wallet/return") => wallet_return(req, env, id).await,
        (Method::Post, "netcash-wallet") => {
            let ctype = req.headers().get("content-type")?.unwrap_or_default();
            if !ctype.starts_with("application/json") {
                return json(415, &serde_json::json!({"error": {"code": "unsupported_media_type", "message": "send application/json"}}));
            }
            payment_do::call(env, id, &Call::WalletStart).await
        }
        (Method::Post, op) if op == "cancel" || shared::methods::Method::from_code(op).is_some() => {
            // JSON only: a cross-site form cannot send it without a CORS
            // preflight, which we never grant.
            let ctype = req.headers().get("content-type")?.unwrap_or_default();
            if !ctype.starts_with("application/json") {
                return json(415, &serde_json::json!({"error": {"code": "unsupported_media_type", "message": "send application/json"}}));
            }
            let mut req = req;
            let body = req.text().await?;
            if body.len() > 4096 {
                return json(413, &serde_json::json!({"error": {"code": "request_too_large", "message": "body too large"}}));
            }
            let call = match shared::methods::Method::from_code(op) {
                None => Call::Cancel,
                Some(method) => {
                    let Ok(body) = serde_json::from_str::<serde_json::Value>(if body.is_empty() { "{}" } else { &body }) else {
                        return json(400, &serde_json::json!({"error": {"code": "invalid_body", "message": "send a JSON object"}, "next": null}));
                    };
                    Call::Pay { method, body }
                }
            };
            payment_do::call(env, id, &call).await
        }
        (Method::Get, "return") => return_page(env, config, id).await,
        _ => json(404, &serde_json::json!({"error": {"code": "not_found", "message": "no such operation"}})),
    }
}

/// Where the shopper goes back to, with what result.
pub fn return_values(p: &Payment, now: UnixTime) -> Option<(String, ReturnValues)> {
    let (url, result, err) = match p.status {
        Status::Pending | Status::Processing | Status::Reconciling => return None,
        Status::Paid
        | Status::Authorized
        | Status::Held
        | Status::PartiallyRefunded
        | Status::Refunded
        | Status::UnderInvestigation
        | Status::ChargedBack
        | Status::Registered => {
            (&p.success_url, ResResult::Ok, String::new())
        }
        Status::Cancelled => (&p.cancel_url, ResResult::Cn, String::new()),
        Status::Expired => (&p.error_url, ResResult::Ng, "expired".into()),
        Status::Failed | Status::RejectedByMerchant | Status::RefundRequired => {
            (&p.error_url, ResResult::Ng, p.last_error.clone().unwrap_or_else(|| "failed".into()))
        }
    };
    Some((
        url.clone(),
        ReturnValues {
            merchant_id: p.merchant_id.clone(),
            service_id: p.service_id.clone(),
            order_id: p.order_id.clone(),
            result,
            pay_method: p.method.map(|m| m.code().to_string()).unwrap_or_default(),
            tracking_id: p.id.clone(),
            payment_date: if result == ResResult::Ok { p.paid_at.map(|t| UnixTime(t).jst().compact()).unwrap_or_default() } else { String::new() },
            err_code: err,
            date: now.jst().compact(),
        },
    ))
}

async fn return_page(env: &Env, config: &Config, id: &str) -> worker::Result<Response> {
    let mut resp = payment_do::call(env, id, &Call::Record).await?;
    if resp.status_code() == 404 {
        return not_found_page();
    }
    let p: Payment = resp.json().await?;
    let Some((url, values)) = return_values(&p, util::now()) else {
        return html::error_page(
            409,
            "payment_not_finished",
            "お支払いはまだ完了していません。お支払いページに戻ってください。",
            "The payment is not finished yet. Go back to the payment page.",
        );
    };
    let db = store::db(env, config.sandbox).await?;
    let merchant = store::find_merchant(&db, &p.merchant_id, &p.service_id)
        .await?
        .ok_or_else(|| worker::Error::RustError("merchant disappeared".into()))?;
    let fields = signed_fields(merchant.signing_key(), &values);
    let (ja, en) = match values.result {
        ResResult::Ok => ("お支払いが完了しました。ショップに戻ります…", "Payment complete. Returning to the shop…"),
        ResResult::Cn => ("お支払いをキャンセルしました。ショップに戻ります…", "Payment cancelled. Returning to the shop…"),
        ResResult::Ng => ("お支払いは完了しませんでした。ショップに戻ります…", "The payment did not complete. Returning to the shop…"),
    };
    html::return_form(&url, &fields, ja, en, &crate::integrity::hashes(env).await)
}

/// `GET|POST /pay/{id}/au/return`: the shopper comes back from KDDI with
/// its signed result (query string or form). The payment object checks
/// and applies it; the shopper is sent on (303) or shown an error page.
async fn au_return(mut req: Request, env: &Env, id: &str) -> worker::Result<Response> {
    let raw = if req.method() == Method::Post {
        let ctype = req.headers().get("content-type")?.unwrap_or_default();
        if !ctype.starts_with("application/x-www-form-urlencoded") {
            return html::error_page(415, "unsupported_media_type", "フォームで送信してください。", "Send the result as an HTML form.");
        }
        req.text().await?
    } else {
        req.url()?.query().unwrap_or_default().to_string()
    };
    let invalid = || {
        html::error_page(
            400,
            "au_return_invalid",
            "au からのお支払い結果を確認できませんでした。お支払いは変更されていません。",
            "The payment result from au could not be verified. Nothing was changed.",
        )
    };
    if raw.len() > 4096 {
        return invalid();
    }
    let Some(pairs) = util::parse_form(&raw) else { return invalid() };
    let mut resp = payment_do::call(env, id, &Call::AuReturn { pairs }).await?;
    let status = resp.status_code();
    let v: serde_json::Value = resp.json().await?;
    match (status, v["location"].as_str()) {
        (200, Some(location)) if location.starts_with(&format!("/pay/{id}")) => {
            let mut r = Response::empty()?.with_status(303);
            r.headers_mut().set("location", location)?;
            r.headers_mut().set("cache-control", "no-store")?;
            Ok(r)
        }
        (404, _) => not_found_page(),
        _ if v["error"]["code"] == "au_return_not_current" => html::error_page(
            409,
            "au_return_not_current",
            "このお支払い結果はすでに受け付けたか、このお支払いのものではありません。お支払いは変更されていません。",
            "This payment result was already received, or is not for this payment. Nothing was changed.",
        ),
        _ => invalid(),
    }
}

/// `POST /pay/{id}/netcash-wallet/return`: the shopper comes back from NET
/// CASH Wallet with its signed result (a form). The payment object checks
/// and applies it; the shopper is sent on (303) or shown an error page.
async fn wallet_return(mut req: Request, env: &Env, id: &str) -> worker::Result<Response> {
    let raw = req.text().await?;
    let invalid = || {
        html::error_page(
            400,
            "wallet_return_invalid",
            "NET CASH Wallet からのお支払い結果を確認できませんでした。お支払いは変更されていません。",
            "The payment result from NET CASH Wallet could not be verified. Nothing was changed.",
        )
    };
    if raw.len() > 4096 {
        return invalid();
    }
    let Some(pairs) = util::parse_form(&raw) else { return invalid() };
    let mut resp = payment_do::call(env, id, &Call::WalletReturn { pairs }).await?;
    let v: serde_json::Value = resp.json().await?;
    match v["location"].as_str() {
        Some(location) if location.starts_with(&format!("/pay/{id}")) => {
            let mut r = Response::empty()?.with_status(303);
            r.headers_mut().set("location", location)?;
            Ok(r)
        }
        _ => {
            let code = v["error"]["code"].as_str().unwrap_or("wallet_return_invalid");
            if code == "wallet_return_not_current" {
                html::error_page(409, code, "このお支払い結果は現在のお支払いのものではありません。お支払いは変更されていません。", "This result is not for the current payment. Nothing was changed.")
            } else {
                invalid()
            }
        }
    }
}
