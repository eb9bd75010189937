//! Operators' endpoints (PRODUCT §7): announcing provider maintenance
//! windows, during which the hosted page shows the method as unavailable
//! with the reason and refuses payments with it. Authenticated with
//! `Authorization: Bearer <OPERATOR_TOKEN>` (a secret in production),
//! compared in constant time.

use serde::Deserialize;
use shared::methods::Method as PayMethod;
use worker::{Env, Method, Request, Response};

use crate::clock::Clock;
use crate::config::Config;
use crate::store::{self, Maintenance};
use crate::util::{self, json};

fn error(status: u16, code: &str, message: &str) -> worker::Result<Response> {
    json(status, &serde_json::json!({"error": {"code": code, "message": message}}))
}

/// Whether the request carries the operator token (constant time).
pub fn authorized(req: &Request, config: &Config) -> bool {
    let given = req.headers().get("authorization").ok().flatten().unwrap_or_default();
    let expected = format!("Bearer {}", config.operator_token);
    !config.operator_token.is_empty() && shared::signing::ct_eq(given.as_bytes(), expected.as_bytes())
}

pub async fn handle(mut req: Request, env: &Env, config: &Config, path: &str) -> worker::Result<Response> {
    if !authorized(&req, config) {
        return error(401, "not_operator", "send Authorization: Bearer <operator token>");
    }
    let db = store::db(env, config.sandbox).await?;
    let now = Clock::load(env, config).await?.now().0;
    match (req.method(), path) {
        (Method::Get, "/operator/maintenance") => json(200, &serde_json::json!({"data": store::maintenance_windows(&db, now).await?})),
        (Method::Post, "/operator/maintenance") => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Window {
                method: String,
                starts_at: i64,
                ends_at: i64,
                note: Option<String>,
            }
            let Ok(w) = req.json::<Window>().await else {
                return error(400, "invalid_body", "{method, starts_at, ends_at (Unix seconds), note?}");
            };
            if PayMethod::from_code(&w.method).is_none() {
                return error(422, "invalid_method", "method is one of netcash, prepaid, np, au, card");
            }
            if w.ends_at <= w.starts_at || w.ends_at <= now {
                return error(422, "invalid_window", "ends_at must be after starts_at and in the future");
            }
            let m = Maintenance { id: util::new_id("mnt"), method: w.method, starts_at: w.starts_at, ends_at: w.ends_at, note: w.note };
            store::add_maintenance(&db, &m).await?;
            json(201, &m)
        }
        (Method::Delete, p) if p.starts_with("/operator/maintenance/") => {
            if store::delete_maintenance(&db, &p["/operator/maintenance/".len()..]).await? {
                json(200, &serde_json::json!({"deleted": true}))
            } else {
                error(404, "not_found", "no such maintenance window")
            }
        }
        _ => error(404, "not_found", "no such operator endpoint"),
    }
}
