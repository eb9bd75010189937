//! The administration tool's server side (PRODUCT §7): sign-in with
//! expiring sessions, and the NET CASH refund request into the weekly
//! batch. A session sees only its own merchant's payments. Mutating calls
//! need the `X-Requested-With: kessai-admin` header (a cross-site form
//! cannot send it) besides the `SameSite=Strict` session cookie.

use serde::Deserialize;
use shared::signing::{ct_eq, hex, sha256};
use wasm_bindgen::JsValue;
use worker::{D1Database, Env, Method, Request, Response};

use crate::clock::Clock;
use crate::config::Config;
use crate::payment_do::{self, Call, Payment};
use crate::store;
use crate::util::{self, json};

/// How long a session lasts, in seconds.
pub const SESSION_SECONDS: i64 = 30 * 60;
const COOKIE: &str = "kl_admin";

fn error(status: u16, code: &str, message: &str) -> worker::Result<Response> {
    json(status, &serde_json::json!({"error": {"code": code, "message": message}}))
}

struct Session {
    merchant_id: String,
    service_id: String,
}

/// Production sessions are sent over HTTPS only (`Secure`); development
/// runs on http://127.0.0.1.
fn secure(config: &Config) -> &'static str {
    if config.production {
        "; Secure"
    } else {
        ""
    }
}

fn cookie_token(req: &Request) -> Option<String> {
    let header = req.headers().get("cookie").ok().flatten()?;
    header.split(';').find_map(|c| c.trim().strip_prefix(&format!("{COOKIE}=")).map(str::to_string))
}

async fn session(req: &Request, db: &D1Database, now: i64) -> worker::Result<Option<Session>> {
    let Some(token) = cookie_token(req) else { return Ok(None) };
    #[derive(Deserialize)]
    struct Row {
        merchant_id: String,
        service_id: String,
        expires_at: f64,
    }
    let row: Option<Row> = db
        .prepare("SELECT merchant_id, service_id, expires_at FROM admin_sessions WHERE token_hash = ?1")
        .bind(&[hex(&sha256(token.as_bytes())).into()])?
        .first(None)
        .await?;
    Ok(row.filter(|r| (r.expires_at as i64) > now).map(|r| Session { merchant_id: r.merchant_id, service_id: r.service_id }))
}

pub async fn handle(mut req: Request, env: &Env, config: &Config, path: &str) -> worker::Result<Response> {
    let db = store::db(env, config.sandbox).await?;
    let now = Clock::load(env, config).await?.now().0;
    let mutating = req.method() != Method::Get;
    if mutating && req.headers().get("x-requested-with")?.as_deref() != Some("kessai-admin") {
        return error(403, "csrf", "send X-Requested-With: kessai-admin");
    }
    if path == "/admin/api/login" && req.method() == Method::Post {
        #[derive(Deserialize)]
        struct Login {
            merchant_id: String,
            service_id: Option<String>,
            password: String,
        }
        let Ok(l) = req.json::<Login>().await else { return error(400, "invalid_body", "{merchant_id, service_id?, password}") };
        let service_id = l.service_id.unwrap_or_else(|| store::SANDBOX_SERVICE_ID.to_string());
        let stored: Option<Option<String>> = db
            .prepare("SELECT admin_password_hash FROM merchants WHERE merchant_id = ?1 AND service_id = ?2")
            .bind(&[l.merchant_id.as_str().into(), service_id.as_str().into()])?
            .first(Some("admin_password_hash"))
            .await?;
        let given = store::admin_password_hash(&l.merchant_id, &l.password);
        let ok = matches!(&stored, Some(Some(h)) if ct_eq(h.as_bytes(), given.as_bytes()));
        if !ok {
            return error(401, "bad_credentials", "merchant id or password is wrong");
        }
        let token = util::new_id("adm");
        db.prepare("INSERT INTO admin_sessions (token_hash, merchant_id, service_id, expires_at) VALUES (?1, ?2, ?3, ?4)")
            .bind(&[
                hex(&sha256(token.as_bytes())).into(),
                l.merchant_id.as_str().into(),
                service_id.as_str().into(),
                JsValue::from_f64((now + SESSION_SECONDS) as f64),
            ])?
            .run()
            .await?;
        let mut r = json(200, &serde_json::json!({"merchant_id": l.merchant_id, "service_id": service_id, "expires_at": now + SESSION_SECONDS}))?;
        r.headers_mut().set(
            "set-cookie",
            &format!("{COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{}", secure(config)),
        )?;
        return Ok(r);
    }
    let Some(s) = session(&req, &db, now).await? else {
        return error(401, "not_signed_in", "sign in again: no session, or it expired");
    };
    if path == "/admin/api/logout" && mutating {
        if let Some(token) = cookie_token(&req) {
            db.prepare("DELETE FROM admin_sessions WHERE token_hash = ?1").bind(&[hex(&sha256(token.as_bytes())).into()])?.run().await?;
        }
        let mut r = json(200, &serde_json::json!({"signed_out": true}))?;
        r.headers_mut().set("set-cookie", &format!("{COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0{}", secure(config)))?;
        return Ok(r);
    }
    if let Some(id) = path.strip_prefix("/admin/api/payments/").and_then(|r| r.strip_suffix("/netcash-refund")) {
        if !mutating {
            return error(405, "method_not_allowed", "POST");
        }
        if !crate::checkout::valid_payment_id(id) {
            return error(404, "payment_not_found", "no such payment");
        }
        let mut rec = payment_do::call(env, id, &Call::Record).await?;
        if rec.status_code() != 200 {
            return error(404, "payment_not_found", "no such payment");
        }
        let p: Payment = rec.json().await?;
        if p.merchant_id != s.merchant_id || p.service_id != s.service_id {
            return error(404, "payment_not_found", "no such payment");
        }
        // A malformed amount is refused, never read as "everything".
        let body = req.bytes().await?;
        let amount = match shared::money::amount_in_body(&body, &["amount"]) {
            Ok(a) => a,
            Err(e) => return json(400, &serde_json::json!({"error": {"code": e.code, "message": e.message, "field": e.field}})),
        };
        // The page sends one Idempotency-Key per confirmation: a double
        // submit is the same refund.
        let key = req.headers().get("idempotency-key")?.filter(|k| !k.is_empty() && k.len() <= 255);
        return payment_do::call(env, id, &Call::NetcashRefund { amount, key }).await;
    }
    error(404, "not_found", "no such administration endpoint")
}
