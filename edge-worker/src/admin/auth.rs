//! Sign-in and sessions. Passwords are PBKDF2-HMAC-SHA256 (100,000
//! iterations, Web Crypto), `pbkdf2-sha256$<iterations>$<salt>$<hash>`; the
//! older HMAC scheme (merchants made before, the sandbox seed) is replaced
//! on the next sign-in. Five failed sign-ins in a row lock that user for
//! 15 minutes. A user with a second factor also gives a TOTP code (or one
//! of the recovery codes, each usable once, kept as SHA-256 hashes).
//! Sessions end after 30 minutes idle; each carries a CSRF token.

use serde::Deserialize;
use shared::signing::{ct_eq, hex, sha256};
use wasm_bindgen::JsValue;
use worker::{Request, Response};

use super::password::{check_password, hash_password, pbkdf2, FIRST_USER, PBKDF2_ITERATIONS};
use super::staff::{self, Role, UserRow};
use super::{audit, error, totp, Ctx, Session};
use crate::store;
use crate::util::{self, json};

/// How long a session lasts without use, in seconds (each use extends it).
pub const SESSION_SECONDS: i64 = 30 * 60;
/// Failed sign-ins in a row that lock a user's sign-in, and for how long.
const MAX_FAILURES: i64 = 5;
const LOCK_SECONDS: i64 = 15 * 60;
/// How many recovery codes a second factor comes with.
const RECOVERY_CODES: usize = 10;
const COOKIE: &str = "kl_admin";

/// Production sessions are sent over HTTPS only (`Secure`); development
/// runs on http://127.0.0.1.
fn secure(ctx: &Ctx) -> &'static str {
    if ctx.config.production {
        "; Secure"
    } else {
        ""
    }
}

fn cookie_token(req: &Request) -> Option<String> {
    let header = req.headers().get("cookie").ok().flatten()?;
    header.split(';').find_map(|c| c.trim().strip_prefix(&format!("{COOKIE}=")).map(str::to_string))
}

fn token_hash(token: &str) -> String {
    hex(&sha256(token.as_bytes()))
}

/// The session of the request's cookie, if it has not expired; the user's
/// role is read now (a change of role counts at once).
pub(super) async fn session(req: &Request, ctx: &Ctx<'_>) -> worker::Result<Option<Session>> {
    let Some(token) = cookie_token(req) else { return Ok(None) };
    #[derive(Deserialize)]
    struct Row {
        merchant_id: String,
        service_id: String,
        user_id: String,
        csrf_token: String,
        expires_at: f64,
        role: String,
    }
    let hash = token_hash(&token);
    let row: Option<Row> = ctx
        .db
        .prepare(
            "SELECT s.merchant_id, s.service_id, s.user_id, s.csrf_token, s.expires_at, u.role FROM admin_user_sessions s
             JOIN admin_users u ON u.merchant_id = s.merchant_id AND u.service_id = s.service_id AND u.user_id = s.user_id
             WHERE s.token_hash = ?1",
        )
        .bind(&[hash.as_str().into()])?
        .first(None)
        .await?;
    Ok(row.filter(|r| (r.expires_at as i64) > ctx.now).and_then(|r| {
        Some(Session {
            role: Role::from_code(&r.role)?,
            merchant_id: r.merchant_id,
            service_id: r.service_id,
            user_id: r.user_id,
            csrf_token: r.csrf_token,
            token_hash: hash,
        })
    }))
}

/// 30 minutes idle: every use extends the session.
pub(super) async fn extend(ctx: &Ctx<'_>, s: &Session) -> worker::Result<()> {
    ctx.db
        .prepare("UPDATE admin_user_sessions SET expires_at = ?2 WHERE token_hash = ?1")
        .bind(&[s.token_hash.as_str().into(), JsValue::from_f64((ctx.now + SESSION_SECONDS) as f64)])?
        .run()
        .await?;
    Ok(())
}

fn clear_cookie(ctx: &Ctx, mut r: Response) -> worker::Result<Response> {
    r.headers_mut().set("set-cookie", &format!("{COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0{}", secure(ctx)))?;
    Ok(r)
}

/// Merchants made before staff users (and the sandbox seed) have one
/// password on the merchant: it becomes the first user, `admin`, an
/// administrator, on the first sign-in.
async fn adopt_merchant_password(ctx: &Ctx<'_>, mid: &str, sid: &str) -> worker::Result<()> {
    let db = &ctx.db;
    db.batch(vec![
        db.prepare(
            "INSERT OR IGNORE INTO admin_users (merchant_id, service_id, user_id, role, password_hash, created_at)
             SELECT merchant_id, service_id, ?3, 'administrator', admin_password_hash, ?4 FROM merchants
             WHERE merchant_id = ?1 AND service_id = ?2 AND admin_password_hash IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM admin_users WHERE merchant_id = ?1 AND service_id = ?2)",
        )
        .bind(&[mid.into(), sid.into(), FIRST_USER.into(), JsValue::from_f64(ctx.now as f64)])?,
        db.prepare(
            "UPDATE merchants SET admin_password_hash = NULL WHERE merchant_id = ?1 AND service_id = ?2 AND admin_password_hash IS NOT NULL
             AND EXISTS (SELECT 1 FROM admin_users WHERE merchant_id = ?1 AND service_id = ?2)",
        )
        .bind(&[mid.into(), sid.into()])?,
    ])
    .await?;
    Ok(())
}

async fn record_failure(ctx: &Ctx<'_>, u: &UserRow) -> worker::Result<Option<i64>> {
    let failures = u.failures as i64 + 1;
    let locked_until = (failures >= MAX_FAILURES).then_some(ctx.now + LOCK_SECONDS);
    ctx.db
        .prepare("UPDATE admin_users SET failures = ?4, locked_until = ?5 WHERE merchant_id = ?1 AND service_id = ?2 AND user_id = ?3")
        .bind(&[
            u.merchant_id.as_str().into(),
            u.service_id.as_str().into(),
            u.user_id.as_str().into(),
            JsValue::from_f64(if locked_until.is_some() { 0.0 } else { failures as f64 }),
            locked_until.map(|t| JsValue::from_f64(t as f64)).unwrap_or(JsValue::NULL),
        ])?
        .run()
        .await?;
    Ok(locked_until)
}

pub(super) async fn login(req: &mut Request, ctx: &Ctx<'_>) -> worker::Result<Response> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Login {
        merchant_id: String,
        service_id: Option<String>,
        user_id: Option<String>,
        password: String,
        totp_code: Option<String>,
        recovery_code: Option<String>,
    }
    let Ok(l) = req.json::<Login>().await else {
        return error(400, "invalid_body", "{merchant_id, service_id?, user_id?, password, totp_code?, recovery_code?}");
    };
    let sid = l.service_id.clone().unwrap_or_else(|| store::SANDBOX_SERVICE_ID.to_string());
    let mid = l.merchant_id.as_str();
    let uid = l.user_id.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| FIRST_USER.to_string());
    if mid.len() > 32 || sid.len() > 16 || uid.len() > 64 || l.password.len() > 256 {
        return error(401, "bad_credentials", "merchant id, user or password is wrong");
    }
    adopt_merchant_password(ctx, mid, &sid).await?;
    // Sessions that ended are forgotten.
    ctx.db
        .prepare("DELETE FROM admin_user_sessions WHERE expires_at <= ?1")
        .bind(&[JsValue::from_f64(ctx.now as f64)])?
        .run()
        .await?;
    let Some(u) = staff::find(&ctx.db, mid, &sid, &uid).await? else {
        // The same work as for a user who exists: the answer's time does
        // not tell which users exist.
        pbkdf2(&l.password, b"kessai-no-such-user", PBKDF2_ITERATIONS).await?;
        audit::write(ctx, mid, &sid, Some(&uid), "sign_in_failed", None, 401, None, None).await?;
        return error(401, "bad_credentials", "merchant id, user or password is wrong");
    };
    if let Some(until) = u.locked_until.map(|t| t as i64).filter(|t| *t > ctx.now) {
        audit::write(ctx, mid, &sid, Some(&uid), "sign_in_locked", None, 429, None, None).await?;
        let t = shared::time::UnixTime(until).jst();
        let message = format!("too many failed sign-ins: try again after {} {:02}:{:02} JST", t.date.iso(), t.hour, t.minute);
        let mut r = json(429, &serde_json::json!({"error": {"code": "sign_in_locked", "message": message, "retry_at": until}}))?;
        r.headers_mut().set("retry-after", &(until - ctx.now).to_string())?;
        return Ok(r);
    }
    let (ok, legacy) = check_password(&u.password_hash, mid, &l.password).await?;
    if !ok {
        record_failure(ctx, &u).await?;
        audit::write(ctx, mid, &sid, Some(&uid), "sign_in_failed", None, 401, None, None).await?;
        return error(401, "bad_credentials", "merchant id, user or password is wrong");
    }
    // The second factor, when the user has one.
    let mut last_step = u.totp_last_step.map(|s| s as i64);
    let mut recovery: Option<Vec<String>> = None;
    if let Some(secret) = u.totp_secret.as_deref().and_then(totp::base32_decode) {
        match (&l.totp_code, &l.recovery_code) {
            (Some(code), _) => match totp::verify(&secret, code, ctx.now, last_step) {
                Some(step) => last_step = Some(step),
                None => {
                    record_failure(ctx, &u).await?;
                    audit::write(ctx, mid, &sid, Some(&uid), "sign_in_failed_second_factor", None, 401, None, None).await?;
                    return error(401, "bad_second_factor", "the authenticator code is wrong or was already used");
                }
            },
            (None, Some(code)) => {
                let mut codes: Vec<String> = u.recovery_codes.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
                let given = hex(&sha256(normalize_recovery(code).as_bytes()));
                match codes.iter().position(|h| ct_eq(h.as_bytes(), given.as_bytes())) {
                    Some(i) => {
                        codes.remove(i);
                        recovery = Some(codes);
                    }
                    None => {
                        record_failure(ctx, &u).await?;
                        audit::write(ctx, mid, &sid, Some(&uid), "sign_in_failed_second_factor", None, 401, None, None).await?;
                        return error(401, "bad_second_factor", "the recovery code is wrong or was already used");
                    }
                }
            }
            (None, None) => {
                return error(401, "second_factor_required", "enter the 6-digit code of your authenticator app (or a recovery code)");
            }
        }
    }
    let new_hash = if legacy { Some(hash_password(&l.password).await?) } else { None };
    ctx.db
        .prepare(
            "UPDATE admin_users SET failures = 0, locked_until = NULL, totp_last_step = ?4, password_hash = COALESCE(?5, password_hash),
             recovery_codes = COALESCE(?6, recovery_codes) WHERE merchant_id = ?1 AND service_id = ?2 AND user_id = ?3",
        )
        .bind(&[
            mid.into(),
            sid.as_str().into(),
            uid.as_str().into(),
            last_step.map(|s| JsValue::from_f64(s as f64)).unwrap_or(JsValue::NULL),
            new_hash.map(JsValue::from).unwrap_or(JsValue::NULL),
            match &recovery {
                Some(c) => serde_json::to_string(c)?.into(),
                None => JsValue::NULL,
            },
        ])?
        .run()
        .await?;
    let token = util::new_id("adm");
    let csrf = hex(&util::random_bytes(24));
    ctx.db
        .prepare("INSERT INTO admin_user_sessions (token_hash, merchant_id, service_id, user_id, csrf_token, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(&[
            token_hash(&token).into(),
            mid.into(),
            sid.as_str().into(),
            uid.as_str().into(),
            csrf.as_str().into(),
            JsValue::from_f64((ctx.now + SESSION_SECONDS) as f64),
        ])?
        .run()
        .await?;
    let how = if recovery.is_some() { "sign_in_recovery_code" } else { "sign_in" };
    audit::write(ctx, mid, &sid, Some(&uid), how, None, 200, None, None).await?;
    let mut r = json(
        200,
        &serde_json::json!({
            "merchant_id": mid, "service_id": sid, "user_id": uid, "role": u.role, "csrf_token": csrf,
            "expires_at": ctx.now + SESSION_SECONDS, "totp_enabled": u.totp_secret.is_some(),
            "recovery_codes_left": recovery.as_ref().map(Vec::len),
        }),
    )?;
    r.headers_mut().set(
        "set-cookie",
        &format!("{COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{}", secure(ctx)),
    )?;
    Ok(r)
}

fn normalize_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

pub(super) async fn me(ctx: &Ctx<'_>, s: &Session) -> worker::Result<Response> {
    let u = staff::find(&ctx.db, &s.merchant_id, &s.service_id, &s.user_id).await?;
    let m = store::find_merchant(&ctx.db, &s.merchant_id, &s.service_id).await?;
    json(
        200,
        &serde_json::json!({
            "merchant_id": s.merchant_id, "service_id": s.service_id, "merchant_name": m.map(|m| m.name),
            "user_id": s.user_id, "role": s.role.code(), "csrf_token": s.csrf_token,
            "expires_at": ctx.now + SESSION_SECONDS,
            "totp_enabled": u.as_ref().is_some_and(|u| u.totp_secret.is_some()),
            "now": ctx.now,
        }),
    )
}

pub(super) async fn logout(ctx: &Ctx<'_>, s: &Session, everywhere: bool) -> worker::Result<Response> {
    if everywhere {
        staff::end_sessions(&ctx.db, &s.merchant_id, &s.service_id, &s.user_id).await?;
    } else {
        ctx.db.prepare("DELETE FROM admin_user_sessions WHERE token_hash = ?1").bind(&[s.token_hash.as_str().into()])?.run().await?;
    }
    clear_cookie(ctx, json(200, &serde_json::json!({"signed_out": true, "everywhere": everywhere}))?)
}

/// A new password: 12 to 256 characters.
pub(super) fn password_ok(p: &str) -> bool {
    (12..=256).contains(&p.chars().count())
}

pub(super) async fn change_password(req: &mut Request, ctx: &Ctx<'_>, s: &Session) -> worker::Result<Response> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        current_password: String,
        new_password: String,
    }
    let Ok(b) = req.json::<Body>().await else { return error(400, "invalid_body", "{current_password, new_password}") };
    let Some(u) = staff::find(&ctx.db, &s.merchant_id, &s.service_id, &s.user_id).await? else {
        return error(401, "not_signed_in", "no such user");
    };
    if !check_password(&u.password_hash, &s.merchant_id, &b.current_password).await?.0 {
        return error(403, "bad_credentials", "the current password is wrong");
    }
    if !password_ok(&b.new_password) {
        return error(422, "weak_password", "a password has 12 to 256 characters");
    }
    staff::set_password(&ctx.db, &s.merchant_id, &s.service_id, &s.user_id, &hash_password(&b.new_password).await?).await?;
    // Other sessions of the user end; this one goes on.
    ctx.db
        .prepare("DELETE FROM admin_user_sessions WHERE merchant_id = ?1 AND service_id = ?2 AND user_id = ?3 AND token_hash != ?4")
        .bind(&[s.merchant_id.as_str().into(), s.service_id.as_str().into(), s.user_id.as_str().into(), s.token_hash.as_str().into()])?
        .run()
        .await?;
    json(200, &serde_json::json!({"changed": true}))
}

/// Starts enrolling a second factor: a new secret, kept pending until a
/// code from it is confirmed.
pub(super) async fn totp_begin(ctx: &Ctx<'_>, s: &Session) -> worker::Result<Response> {
    let secret = totp::base32_encode(&util::random_bytes(20));
    ctx.db
        .prepare("UPDATE admin_users SET totp_pending = ?4 WHERE merchant_id = ?1 AND service_id = ?2 AND user_id = ?3")
        .bind(&[s.merchant_id.as_str().into(), s.service_id.as_str().into(), s.user_id.as_str().into(), secret.as_str().into()])?
        .run()
        .await?;
    let account = format!("{}-{}:{}", s.merchant_id, s.service_id, s.user_id);
    json(200, &serde_json::json!({"secret": secret, "otpauth_uri": totp::otpauth_uri("Kessai Link", &account, &secret)}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

/// Confirms the pending secret with a code from it: the second factor is
/// on, and the recovery codes are shown, once.
pub(super) async fn totp_confirm(req: &mut Request, ctx: &Ctx<'_>, s: &Session) -> worker::Result<Response> {
    let Ok(b) = req.json::<CodeBody>().await else { return error(400, "invalid_body", "{code}") };
    let Some(u) = staff::find(&ctx.db, &s.merchant_id, &s.service_id, &s.user_id).await? else {
        return error(401, "not_signed_in", "no such user");
    };
    let Some(secret) = u.totp_pending.as_deref().and_then(totp::base32_decode) else {
        return error(409, "no_pending_totp", "start with POST /admin/api/me/totp");
    };
    let Some(step) = totp::verify(&secret, &b.code, ctx.now, None) else {
        return error(422, "bad_second_factor", "the code does not match the new secret; check the device's time and try again");
    };
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let h = hex(&util::random_bytes(5));
            format!("{}-{}", &h[..5], &h[5..])
        })
        .collect();
    let hashes: Vec<String> = codes.iter().map(|c| hex(&sha256(normalize_recovery(c).as_bytes()))).collect();
    ctx.db
        .prepare(
            "UPDATE admin_users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = ?4, recovery_codes = ?5
             WHERE merchant_id = ?1 AND service_id = ?2 AND user_id = ?3",
        )
        .bind(&[
            s.merchant_id.as_str().into(),
            s.service_id.as_str().into(),
            s.user_id.as_str().into(),
            JsValue::from_f64(step as f64),
            serde_json::to_string(&hashes)?.into(),
        ])?
        .run()
        .await?;
    json(200, &serde_json::json!({"totp_enabled": true, "recovery_codes": codes}))
}

/// Turns the second factor off, with a current code.
pub(super) async fn totp_disable(req: &mut Request, ctx: &Ctx<'_>, s: &Session) -> worker::Result<Response> {
    let Ok(b) = req.json::<CodeBody>().await else { return error(400, "invalid_body", "{code}") };
    let Some(u) = staff::find(&ctx.db, &s.merchant_id, &s.service_id, &s.user_id).await? else {
        return error(401, "not_signed_in", "no such user");
    };
    let Some(secret) = u.totp_secret.as_deref().and_then(totp::base32_decode) else {
        return error(409, "totp_not_enabled", "this user has no second factor");
    };
    if totp::verify(&secret, &b.code, ctx.now, u.totp_last_step.map(|s| s as i64)).is_none() {
        return error(422, "bad_second_factor", "the authenticator code is wrong or was already used");
    }
    staff::clear_totp(&ctx.db, &s.merchant_id, &s.service_id, &s.user_id).await?;
    json(200, &serde_json::json!({"totp_enabled": false}))
}
