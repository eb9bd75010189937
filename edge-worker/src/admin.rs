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

/// How long a session lasts without use, in seconds (each use extends it).
pub const SESSION_SECONDS: i64 = 30 * 60;
/// PBKDF2-HMAC-SHA256 iterations: the most Workers' Web Crypto allows.
const PBKDF2_ITERATIONS: u32 = 100_000;
/// Failed sign-ins in a row that lock a merchant's sign-in, and for how long.
const MAX_FAILURES: i64 = 5;
const LOCK_SECONDS: i64 = 15 * 60;

/// PBKDF2-HMAC-SHA256 through Web Crypto (32 bytes).
async fn pbkdf2(password: &str, salt: &[u8], iterations: u32) -> worker::Result<Vec<u8>> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let subtle = global.crypto()?.subtle();
    let usages = js_sys::Array::of1(&JsValue::from_str("deriveBits"));
    let key = JsFuture::from(subtle.import_key_with_str("raw", &js_sys::Uint8Array::from(password.as_bytes()), "PBKDF2", false, &usages)?).await?;
    let params = web_sys::Pbkdf2Params::new("PBKDF2", &JsValue::from_str("SHA-256"), iterations, &js_sys::Uint8Array::from(salt));
    let bits = JsFuture::from(subtle.derive_bits_with_object(&params, &key.unchecked_into(), 256)?).await?;
    Ok(js_sys::Uint8Array::new(&bits).to_vec())
}

/// `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`, with a new salt.
async fn hash_password(password: &str) -> worker::Result<String> {
    let salt = util::random_bytes(16);
    let hash = pbkdf2(password, &salt, PBKDF2_ITERATIONS).await?;
    Ok(format!("pbkdf2-sha256${PBKDF2_ITERATIONS}${}${}", hex(&salt), hex(&hash)))
}

/// Whether `password` matches what is stored (constant time); `true` in
/// the second place when it is the older HMAC scheme, to be re-hashed.
async fn check_password(stored: &str, merchant_id: &str, password: &str) -> worker::Result<(bool, bool)> {
    if let Some(rest) = stored.strip_prefix("pbkdf2-sha256$") {
        let parts: Vec<&str> = rest.split('$').collect();
        let [iterations, salt, hash] = parts.as_slice() else { return Ok((false, false)) };
        let (Ok(iterations), Some(salt)) = (iterations.parse::<u32>(), unhex(salt)) else { return Ok((false, false)) };
        let derived = pbkdf2(password, &salt, iterations).await?;
        return Ok((ct_eq(hex(&derived).as_bytes(), hash.as_bytes()), false));
    }
    let given = store::admin_password_hash(merchant_id, password);
    Ok((ct_eq(stored.as_bytes(), given.as_bytes()), true))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}
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
        // Five failures in a row lock sign-in for 15 minutes.
        #[derive(Deserialize)]
        struct Lock {
            failures: f64,
            locked_until: Option<f64>,
        }
        let lock: Option<Lock> = db
            .prepare("SELECT failures, locked_until FROM admin_lockouts WHERE merchant_id = ?1 AND service_id = ?2")
            .bind(&[l.merchant_id.as_str().into(), service_id.as_str().into()])?
            .first(None)
            .await?;
        if let Some(until) = lock.as_ref().and_then(|l| l.locked_until).map(|t| t as i64).filter(|t| *t > now) {
            let t = shared::time::UnixTime(until).jst();
            let message = format!("too many failed sign-ins: try again after {} {:02}:{:02} JST", t.date.iso(), t.hour, t.minute);
            let mut r = json(429, &serde_json::json!({"error": {"code": "sign_in_locked", "message": message, "retry_at": until}}))?;
            r.headers_mut().set("retry-after", &(until - now).to_string())?;
            return Ok(r);
        }
        let (ok, legacy) = match &stored {
            Some(Some(h)) => check_password(h, &l.merchant_id, &l.password).await?,
            _ => (false, false),
        };
        if !ok {
            let failures = lock.map(|l| l.failures as i64).unwrap_or(0) + 1;
            let locked_until = (failures >= MAX_FAILURES).then_some(now + LOCK_SECONDS);
            db.prepare("INSERT OR REPLACE INTO admin_lockouts (merchant_id, service_id, failures, locked_until) VALUES (?1, ?2, ?3, ?4)")
                .bind(&[
                    l.merchant_id.as_str().into(),
                    service_id.as_str().into(),
                    JsValue::from_f64(if locked_until.is_some() { 0.0 } else { failures as f64 }),
                    locked_until.map(|t| JsValue::from_f64(t as f64)).unwrap_or(JsValue::NULL),
                ])?
                .run()
                .await?;
            return error(401, "bad_credentials", "merchant id or password is wrong");
        }
        db.prepare("DELETE FROM admin_lockouts WHERE merchant_id = ?1 AND service_id = ?2")
            .bind(&[l.merchant_id.as_str().into(), service_id.as_str().into()])?
            .run()
            .await?;
        if legacy {
            // The older HMAC scheme is replaced on this sign-in.
            let hashed = hash_password(&l.password).await?;
            db.prepare("UPDATE merchants SET admin_password_hash = ?3 WHERE merchant_id = ?1 AND service_id = ?2")
                .bind(&[l.merchant_id.as_str().into(), service_id.as_str().into(), hashed.into()])?
                .run()
                .await?;
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
    // 30 minutes idle: every use extends the session.
    if let Some(token) = cookie_token(&req) {
        db.prepare("UPDATE admin_sessions SET expires_at = ?2 WHERE token_hash = ?1")
            .bind(&[hex(&sha256(token.as_bytes())).into(), JsValue::from_f64((now + SESSION_SECONDS) as f64)])?
            .run()
            .await?;
    }
    if path == "/admin/api/logout-everywhere" && mutating {
        db.prepare("DELETE FROM admin_sessions WHERE merchant_id = ?1 AND service_id = ?2")
            .bind(&[s.merchant_id.as_str().into(), s.service_id.as_str().into()])?
            .run()
            .await?;
        let mut r = json(200, &serde_json::json!({"signed_out": true, "everywhere": true}))?;
        r.headers_mut().set("set-cookie", &format!("{COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0{}", secure(config)))?;
        return Ok(r);
    }
    if path == "/admin/api/me" && !mutating {
        return json(200, &serde_json::json!({"merchant_id": s.merchant_id, "service_id": s.service_id, "expires_at": now + SESSION_SECONDS}));
    }
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
