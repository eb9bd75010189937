//! The administration tool's server side (PRODUCT §7, issue 11), the JSON
//! API under `/admin/api/` that the admin app (`/admin`) uses:
//!
//! * `auth.rs` — sign-in (PBKDF2 via Web Crypto, per-user lockout, the
//!   optional TOTP second factor and one-time recovery codes), sessions
//!   (30 minutes idle, a CSRF token each, `SameSite=Strict` cookie);
//! * `staff.rs` — staff users per merchant and their roles (viewer,
//!   operator, administrator), the first user made with the merchant;
//! * `audit.rs` — the audit log (every sign-in, failed sign-in, action and
//!   setting change: who, when, IP, before/after), listed and exported;
//! * `payments.rs` — search, detail with timeline, the actions allowed now
//!   (through the payment object's calls, as the merchant API does), the
//!   streamed CSV export;
//! * `webhooks.rs` — the delivery log, re-sends;
//! * `subscriptions.rs` — subscriptions: list, detail with charges, cancel,
//!   a fixed-term purchase (the merchant API's functions, bound to the session);
//! * `settings.rs` — webhook URL, origins, methods, key rotation;
//! * `totp.rs`, `csv.rs` — pure: RFC 6238 codes; CSV and Shift_JIS.
//!
//! Every endpoint but sign-in needs a session; every change needs
//! `X-CSRF-Token` (the session's token, given at sign-in and by `GET me`)
//! and `X-Requested-With: kessai-admin`; each endpoint names the least
//! role it needs. One merchant's session sees only that merchant's data:
//! every query is bound to the session's merchant, and another merchant's
//! payment is "not found".

mod audit;
mod auth;
pub mod console;
pub mod csv;
mod export;
mod password;
mod payments;
mod settings;
pub mod staff;
mod subscriptions;
pub mod totp;
mod webhooks;

use shared::signing::ct_eq;
use worker::{D1Database, Env, Method, Request, Response};

use crate::clock::Clock;
use crate::config::Config;
use crate::store;
use crate::util::json;
use staff::Role;


/// A JSON error: `{"error": {"code", "message"}}`.
pub(crate) fn error(status: u16, code: &str, message: &str) -> worker::Result<Response> {
    json(status, &serde_json::json!({"error": {"code": code, "message": message}}))
}

/// What one request has: the database, the business time (the sandbox
/// clock moves it), the caller's IP.
pub(crate) struct Ctx<'a> {
    pub env: &'a Env,
    pub config: &'a Config,
    pub db: D1Database,
    pub clock: Clock,
    pub now: i64,
    pub ip: String,
}

/// A signed-in staff user.
pub(crate) struct Session {
    pub merchant_id: String,
    pub service_id: String,
    pub user_id: String,
    pub role: Role,
    pub csrf_token: String,
    pub token_hash: String,
}

/// What an audited change records besides who, when, from where and the
/// answer's status.
#[derive(Default)]
pub(crate) struct Audit {
    pub action: Option<String>,
    pub target: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Audit {
    pub fn set(&mut self, action: &str, target: Option<&str>) {
        self.action = Some(action.to_string());
        self.target = target.map(str::to_string);
    }
}

/// `GET /admin`: the shell the admin app (static/admin/, its own wasm)
/// fills in, with the same security headers and CSP as the hosted page.
pub fn page() -> worker::Result<Response> {
    let body = "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
        <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
        <title>決済管理ツール / Kessai Link administration</title><link rel=\"icon\" href=\"data:,\">\
        <link rel=\"stylesheet\" href=\"/admin/admin.css\"><script type=\"module\" src=\"/admin/boot.js\"></script></head>\
        <body><div id=\"admin\"><p role=\"status\">読み込み中… / Loading…</p></div>\
        <noscript>JavaScript を有効にしてください。 / Enable JavaScript.</noscript></body></html>";
    crate::html::page(200, body.to_string(), "'none'")
}

fn need(s: &Session, role: Role, what: &str) -> Option<worker::Result<Response>> {
    if s.role >= role {
        return None;
    }
    Some(error(
        403,
        "role_forbidden",
        &format!("your role ({}) cannot {what}: it needs the {} role or higher", s.role.code(), role.code()),
    ))
}

pub async fn handle(mut req: Request, env: &Env, config: &Config, path: &str) -> worker::Result<Response> {
    let db = store::db(env, config.sandbox).await?;
    let clock = Clock::load(env, config).await?;
    let now = clock.now().0;
    let ip: String = req.headers().get("cf-connecting-ip")?.unwrap_or_else(|| "local".into()).chars().take(64).collect();
    let ctx = Ctx { env, config, db, clock, now, ip };
    let mutating = req.method() != Method::Get;
    // A cross-site form cannot send this header; the session cookie is
    // SameSite=Strict besides, and every change also needs the session's
    // CSRF token (below).
    if mutating && req.headers().get("x-requested-with")?.as_deref() != Some("kessai-admin") {
        return error(403, "csrf", "send X-Requested-With: kessai-admin");
    }
    let rest = path.strip_prefix("/admin/api/").unwrap_or_default();
    if rest == "login" {
        return match req.method() {
            Method::Post => auth::login(&mut req, &ctx).await,
            _ => error(405, "method_not_allowed", "POST"),
        };
    }
    let Some(s) = auth::session(&req, &ctx).await? else {
        return error(401, "not_signed_in", "sign in again: no session, or it expired");
    };
    if mutating {
        let given = req.headers().get("x-csrf-token")?.unwrap_or_default();
        if !ct_eq(given.as_bytes(), s.csrf_token.as_bytes()) {
            return error(403, "csrf_token", "send the session's X-CSRF-Token (given at sign-in and by GET /admin/api/me)");
        }
    }
    auth::extend(&ctx, &s).await?;
    let mut audit = Audit::default();
    let answer = route(&mut req, &ctx, &s, rest, &mut audit).await?;
    // Every change is audited, refused ones too; reads only when they
    // export data.
    if let Some(action) = audit.action.take().or_else(|| mutating.then(|| format!("{} {rest}", req.method()))) {
        audit::write(
            &ctx,
            &s.merchant_id,
            &s.service_id,
            Some(&s.user_id),
            &action,
            audit.target.as_deref(),
            answer.status_code(),
            audit.before.as_ref(),
            audit.after.as_ref(),
        )
        .await?;
    }
    Ok(answer)
}

async fn route(req: &mut Request, ctx: &Ctx<'_>, s: &Session, rest: &str, audit: &mut Audit) -> worker::Result<Response> {
    let parts: Vec<&str> = rest.split('/').collect();
    let method = req.method();
    let url = req.url()?;
    let is = |m: Method| method == m;
    match parts.as_slice() {
        ["me"] if is(Method::Get) => auth::me(ctx, s).await,
        ["logout"] if is(Method::Post) => {
            audit.set("sign_out", None);
            auth::logout(ctx, s, false).await
        }
        ["logout-everywhere"] if is(Method::Post) => {
            audit.set("sign_out_everywhere", None);
            auth::logout(ctx, s, true).await
        }
        ["me", "password"] if is(Method::Post) => {
            audit.set("password.change", Some(&s.user_id));
            auth::change_password(req, ctx, s).await
        }
        ["me", "totp"] if is(Method::Post) => {
            audit.set("totp.enrol_start", Some(&s.user_id));
            auth::totp_begin(ctx, s).await
        }
        ["me", "totp", "confirm"] if is(Method::Post) => {
            audit.set("totp.enable", Some(&s.user_id));
            auth::totp_confirm(req, ctx, s).await
        }
        ["me", "totp", "disable"] if is(Method::Post) => {
            audit.set("totp.disable", Some(&s.user_id));
            auth::totp_disable(req, ctx, s).await
        }
        ["payments"] if is(Method::Get) => payments::search(ctx, s, &url).await,
        ["payments.csv"] if is(Method::Get) => {
            audit.set("export.payments", None);
            audit.after = Some(serde_json::json!({"query": url.query().unwrap_or_default()}));
            payments::export(ctx, s, &url).await
        }
        ["payments", id] if is(Method::Get) => payments::detail(ctx, s, id).await,
        ["payments", id, action] if is(Method::Post) => {
            audit.set(&format!("payment.{action}"), Some(id));
            if let Some(r) = need(s, Role::Operator, "change payments") {
                return r;
            }
            payments::act(req, ctx, s, id, action, audit).await
        }
        ["subscriptions"] if is(Method::Get) => subscriptions::list(ctx, s, &url).await,
        ["subscriptions", id] if is(Method::Get) => subscriptions::detail(ctx, s, id).await,
        ["subscriptions", id, "cancel"] if is(Method::Post) => {
            audit.set("subscription.cancel", Some(id));
            if let Some(r) = need(s, Role::Operator, "cancel subscriptions") {
                return r;
            }
            subscriptions::cancel(ctx, s, id, audit).await
        }
        ["subscriptions", id, "purchases"] if is(Method::Post) => {
            audit.set("subscription.purchase", Some(id));
            if let Some(r) = need(s, Role::Operator, "charge subscriptions") {
                return r;
            }
            subscriptions::purchase(req, ctx, s, id, audit).await
        }
        ["webhooks"] if is(Method::Get) => webhooks::log(ctx, s, &url).await,
        ["webhooks", "resend"] if is(Method::Post) => {
            audit.set("webhook.resend", None);
            if let Some(r) = need(s, Role::Operator, "re-send webhooks") {
                return r;
            }
            webhooks::resend(req, ctx, s, audit).await
        }
        ["webhooks", "resend-failed"] if is(Method::Post) => {
            audit.set("webhook.resend_failed", None);
            if let Some(r) = need(s, Role::Operator, "re-send webhooks") {
                return r;
            }
            webhooks::resend_failed(req, ctx, s, audit).await
        }
        ["settings"] if is(Method::Get) => settings::get(ctx, s).await,
        ["settings"] if is(Method::Put) => {
            audit.set("settings.change", None);
            if let Some(r) = need(s, Role::Administrator, "change settings") {
                return r;
            }
            settings::put(req, ctx, s, audit).await
        }
        ["settings", "rotate"] if is(Method::Post) => {
            audit.set("settings.rotate", None);
            if let Some(r) = need(s, Role::Administrator, "rotate keys") {
                return r;
            }
            settings::rotate(req, ctx, s, audit).await
        }
        ["users", ..] => {
            if let Some(r) = need(s, Role::Administrator, "manage users") {
                if method != Method::Get {
                    audit.set("user.change", parts.get(1).copied());
                }
                return r;
            }
            staff::route(req, ctx, s, &parts[1..], audit).await
        }
        ["audit"] if is(Method::Get) => match need(s, Role::Administrator, "read the audit log") {
            Some(r) => r,
            None => audit::list(ctx, s, &url).await,
        },
        ["audit.csv"] if is(Method::Get) => match need(s, Role::Administrator, "export the audit log") {
            Some(r) => r,
            None => {
                audit.set("export.audit", None);
                audit::export(ctx, s, &url).await
            }
        },
        _ => error(404, "not_found", "no such administration endpoint"),
    }
}
