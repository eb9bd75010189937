//! Staff users per merchant and their roles:
//!
//! | role | may |
//! |---|---|
//! | `viewer` | read payments, webhooks, settings; export payments |
//! | `operator` | also settle, cancel, refund, report NP shipments, request NET CASH refunds, re-send webhooks |
//! | `administrator` | also manage users, change settings, rotate keys, read and export the audit log |
//!
//! The first user, `admin` (an administrator), is made with the merchant
//! (operators' `POST /operator/merchants`), its password shown once.
//! Passwords of new users and of resets are generated and shown once.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Request, Response};

use super::password::hash_password;
use super::{error, Audit, Ctx, Session};
pub use super::password::FIRST_USER;
use crate::util::{self, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Operator,
    Administrator,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Administrator => "administrator",
        }
    }
    pub fn from_code(s: &str) -> Option<Role> {
        Some(match s {
            "viewer" => Role::Viewer,
            "operator" => Role::Operator,
            "administrator" => Role::Administrator,
            _ => return None,
        })
    }
}

#[derive(Deserialize)]
pub struct UserRow {
    pub merchant_id: String,
    pub service_id: String,
    pub user_id: String,
    pub role: String,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_pending: Option<String>,
    pub totp_last_step: Option<f64>,
    pub recovery_codes: Option<String>,
    pub failures: f64,
    pub locked_until: Option<f64>,
    pub created_at: f64,
}

pub async fn find(db: &D1Database, mid: &str, sid: &str, uid: &str) -> worker::Result<Option<UserRow>> {
    db.prepare("SELECT * FROM admin_users WHERE merchant_id = ?1 AND service_id = ?2 AND user_id = ?3")
        .bind(&[mid.into(), sid.into(), uid.into()])?
        .first(None)
        .await
}

/// The merchant's first user, `admin`, an administrator: made with the
/// merchant (its password is shown to the operator once).
pub async fn create_first_user(db: &D1Database, mid: &str, sid: &str, password: &str, now: i64) -> worker::Result<()> {
    let hash = hash_password(password).await?;
    db.batch(vec![
        db.prepare(
            "INSERT OR IGNORE INTO admin_users (merchant_id, service_id, user_id, role, password_hash, created_at) VALUES (?1, ?2, ?3, 'administrator', ?4, ?5)",
        )
        .bind(&[mid.into(), sid.into(), FIRST_USER.into(), hash.into(), JsValue::from_f64(now as f64)])?,
        // The merchant row's own password is not a second way in.
        db.prepare("UPDATE merchants SET admin_password_hash = NULL WHERE merchant_id = ?1 AND service_id = ?2").bind(&[mid.into(), sid.into()])?,
    ])
    .await?;
    Ok(())
}

pub async fn end_sessions(db: &D1Database, mid: &str, sid: &str, uid: &str) -> worker::Result<()> {
    db.prepare("DELETE FROM admin_user_sessions WHERE merchant_id = ?1 AND service_id = ?2 AND user_id = ?3")
        .bind(&[mid.into(), sid.into(), uid.into()])?
        .run()
        .await?;
    Ok(())
}

pub async fn set_password(db: &D1Database, mid: &str, sid: &str, uid: &str, hash: &str) -> worker::Result<()> {
    db.prepare("UPDATE admin_users SET password_hash = ?4, failures = 0, locked_until = NULL WHERE merchant_id = ?1 AND service_id = ?2 AND user_id = ?3")
        .bind(&[mid.into(), sid.into(), uid.into(), hash.into()])?
        .run()
        .await?;
    Ok(())
}

pub async fn clear_totp(db: &D1Database, mid: &str, sid: &str, uid: &str) -> worker::Result<()> {
    db.prepare(
        "UPDATE admin_users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL, recovery_codes = NULL
         WHERE merchant_id = ?1 AND service_id = ?2 AND user_id = ?3",
    )
    .bind(&[mid.into(), sid.into(), uid.into()])?
    .run()
    .await?;
    Ok(())
}

fn view(u: &UserRow) -> serde_json::Value {
    serde_json::json!({"user_id": u.user_id, "role": u.role, "totp_enabled": u.totp_secret.is_some(),
        "locked_until": u.locked_until.map(|t| t as i64), "created_at": u.created_at as i64})
}

async fn all(db: &D1Database, mid: &str, sid: &str) -> worker::Result<Vec<UserRow>> {
    db.prepare("SELECT * FROM admin_users WHERE merchant_id = ?1 AND service_id = ?2 ORDER BY created_at, user_id")
        .bind(&[mid.into(), sid.into()])?
        .all()
        .await?
        .results()
}

/// Letters, digits and `._@+-`, 1 to 64.
fn user_id_ok(u: &str) -> bool {
    (1..=64).contains(&u.len()) && u.bytes().all(|b| b.is_ascii_alphanumeric() || b"._@+-".contains(&b))
}

fn new_password() -> String {
    shared::signing::hex(&util::random_bytes(12))
}

/// `/admin/api/users…` (administrators only).
pub(super) async fn route(req: &mut Request, ctx: &Ctx<'_>, s: &Session, rest: &[&str], audit: &mut Audit) -> worker::Result<Response> {
    let (mid, sid) = (s.merchant_id.as_str(), s.service_id.as_str());
    let method = req.method();
    match (method, rest) {
        (worker::Method::Get, []) => {
            let users = all(&ctx.db, mid, sid).await?;
            json(200, &serde_json::json!({"data": users.iter().map(view).collect::<Vec<_>>()}))
        }
        (worker::Method::Post, []) => {
            audit.set("user.create", None);
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct New {
                user_id: String,
                role: String,
            }
            let Ok(n) = req.json::<New>().await else { return error(400, "invalid_body", "{user_id, role}") };
            audit.target = Some(n.user_id.clone());
            if !user_id_ok(&n.user_id) {
                return error(422, "invalid_user_id", "user_id is 1–64 letters, digits or ._@+-");
            }
            let Some(role) = Role::from_code(&n.role) else {
                return error(422, "invalid_role", "role is viewer, operator or administrator");
            };
            let password = new_password();
            let hash = hash_password(&password).await?;
            let res = ctx
                .db
                .prepare(
                    "INSERT INTO admin_users (merchant_id, service_id, user_id, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (merchant_id, service_id, user_id) DO NOTHING",
                )
                .bind(&[mid.into(), sid.into(), n.user_id.as_str().into(), role.code().into(), hash.into(), JsValue::from_f64(ctx.now as f64)])?
                .run()
                .await?;
            if res.meta()?.and_then(|m| m.changes).unwrap_or(0) != 1 {
                return error(409, "user_exists", "this merchant has a user with this user_id");
            }
            audit.after = Some(serde_json::json!({"user_id": n.user_id, "role": role.code()}));
            // Shown once: only its hash is kept.
            json(201, &serde_json::json!({"user_id": n.user_id, "role": role.code(), "password": password}))
        }
        (m, [uid]) if m == worker::Method::Put || m == worker::Method::Delete => {
            let uid = *uid;
            audit.set(if m == worker::Method::Delete { "user.delete" } else { "user.change" }, Some(uid));
            let users = all(&ctx.db, mid, sid).await?;
            let Some(u) = users.iter().find(|u| u.user_id == uid) else { return error(404, "user_not_found", "no such user") };
            let admins = users.iter().filter(|u| u.role == "administrator").count();
            audit.before = Some(view(u));
            if m == worker::Method::Delete {
                if u.role == "administrator" && admins == 1 {
                    return error(409, "last_administrator", "the merchant's only administrator cannot be removed");
                }
                ctx.db
                    .prepare("DELETE FROM admin_users WHERE merchant_id = ?1 AND service_id = ?2 AND user_id = ?3")
                    .bind(&[mid.into(), sid.into(), uid.into()])?
                    .run()
                    .await?;
                end_sessions(&ctx.db, mid, sid, uid).await?;
                return json(200, &serde_json::json!({"deleted": uid}));
            }
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Change {
                role: Option<String>,
                #[serde(default)]
                reset_password: bool,
                #[serde(default)]
                reset_totp: bool,
            }
            let Ok(c) = req.json::<Change>().await else { return error(400, "invalid_body", "{role?, reset_password?, reset_totp?}") };
            let role = match c.role.as_deref().map(Role::from_code) {
                Some(None) => return error(422, "invalid_role", "role is viewer, operator or administrator"),
                Some(Some(r)) => Some(r),
                None => None,
            };
            if role.is_some_and(|r| r != Role::Administrator) && u.role == "administrator" && admins == 1 {
                return error(409, "last_administrator", "the merchant needs an administrator: make another one first");
            }
            if let Some(r) = role {
                ctx.db
                    .prepare("UPDATE admin_users SET role = ?4 WHERE merchant_id = ?1 AND service_id = ?2 AND user_id = ?3")
                    .bind(&[mid.into(), sid.into(), uid.into(), r.code().into()])?
                    .run()
                    .await?;
            }
            let mut answer = serde_json::json!({"user_id": uid, "role": role.map(Role::code).unwrap_or(&u.role)});
            if c.reset_totp {
                clear_totp(&ctx.db, mid, sid, uid).await?;
            }
            if c.reset_password {
                let password = new_password();
                set_password(&ctx.db, mid, sid, uid, &hash_password(&password).await?).await?;
                end_sessions(&ctx.db, mid, sid, uid).await?;
                answer["password"] = password.into();
            }
            audit.after = Some(serde_json::json!({"user_id": uid, "role": answer["role"], "password_reset": c.reset_password, "totp_reset": c.reset_totp}));
            json(200, &answer)
        }
        _ => error(404, "not_found", "no such administration endpoint"),
    }
}
