//! Operators' endpoints (PRODUCT §7, §10): creating merchants (their hash
//! key, webhook secret and administration password generated here and
//! shown once), changing their provider contracts (enabled methods) and
//! origins, suspending and resuming them; announcing provider maintenance
//! windows, during which the hosted page shows the method as unavailable
//! with the reason and refuses payments with it. Authenticated with
//! `Authorization: Bearer <OPERATOR_TOKEN>` (a secret in production),
//! compared in constant time.

use serde::Deserialize;
use shared::methods::Method as PayMethod;
use worker::{Env, Method, Request, Response};

use crate::clock::Clock;
use crate::config::Config;
use crate::store::{self, Maintenance, Merchant};
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

/// Every operator call is audited (refused ones too): when, from which IP,
/// what, and the answer's status.
pub async fn handle(req: Request, env: &Env, config: &Config, path: &str) -> worker::Result<Response> {
    let ok = authorized(&req, config);
    let ip = req.headers().get("cf-connecting-ip").ok().flatten().unwrap_or_else(|| "local".into());
    let method = req.method().to_string();
    let answer = if ok { handle_authorized(req, env, config, path).await? } else { error(401, "not_operator", "send Authorization: Bearer <operator token>")? };
    let db = store::db(env, config.sandbox).await?;
    let audited = db
        .prepare("INSERT INTO operator_audit (id, at, ip, method, path, status, authorized) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(&[
            util::new_id("aud").into(),
            wasm_bindgen::JsValue::from_f64(util::now().0 as f64),
            ip.chars().take(64).collect::<String>().into(),
            method.into(),
            path.chars().take(200).collect::<String>().into(),
            wasm_bindgen::JsValue::from_f64(answer.status_code() as f64),
            wasm_bindgen::JsValue::from_f64(ok as u8 as f64),
        ])?
        .run()
        .await;
    if let Err(e) = audited {
        worker::console_error!("operator audit write failed: {e}");
    }
    Ok(answer)
}

async fn handle_authorized(mut req: Request, env: &Env, config: &Config, path: &str) -> worker::Result<Response> {
    let db = store::db(env, config.sandbox).await?;
    let now = Clock::load(env, config).await?.now().0;
    match (req.method(), path) {
        (Method::Get, "/operator/maintenance") => json(200, &serde_json::json!({"data": store::maintenance_windows(&db, now).await?})),
        (Method::Get, "/operator/csp-reports") => crate::integrity::list(env, config).await,
        (Method::Get, "/operator/stuck-payments") => {
            let older_than = req.url()?.query_pairs().find(|(k, _)| k == "older_than").map(|(_, v)| v.to_string());
            crate::admin::console::stuck(&db, now, older_than.as_deref()).await
        }
        (Method::Get, "/operator/audit") => {
            #[derive(Deserialize, serde::Serialize)]
            struct Row {
                id: String,
                at: f64,
                ip: String,
                method: String,
                path: String,
                status: f64,
                authorized: f64,
            }
            let rows: Vec<Row> = db
                .prepare("SELECT id, at, ip, method, path, status, authorized FROM operator_audit ORDER BY at DESC, id DESC LIMIT 200")
                .all()
                .await?
                .results()?;
            let data: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| serde_json::json!({"id": r.id, "at": r.at as i64, "ip": r.ip, "method": r.method, "path": r.path, "status": r.status as u16, "authorized": r.authorized != 0.0}))
                .collect();
            json(200, &serde_json::json!({"data": data}))
        }
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
        (m, p) if p == "/operator/merchants" || p.starts_with("/operator/merchants/") => {
            let rest: Vec<&str> = p["/operator/merchants".len()..].split('/').filter(|s| !s.is_empty()).collect();
            let body = req.bytes().await?;
            if body.len() > 16 * 1024 {
                return error(413, "request_too_large", "the body is over 16 KiB");
            }
            merchants(&db, config, m, &rest, &body).await
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

const ALL_METHODS: &[&str] = &["netcash", "prepaid", "np", "au", "card"];

/// A merchant as operators see it: never its keys or secrets.
fn view(m: &Merchant) -> serde_json::Value {
    serde_json::json!({
        "merchant_id": m.merchant_id,
        "service_id": m.service_id,
        "name": m.name,
        "allowed_origins": m.origins,
        "enabled_methods": m.methods,
        "webhook_url": m.webhook_url,
        "status": if m.suspended_at.is_some() { "suspended" } else { "active" },
        "suspended_at": m.suspended_at,
        "suspend_reason": m.suspend_reason,
        "contracts": m.contracts,
    })
}

/// `{"au_credit_card"?: bool, "au_webmoney"?: bool, "np_limit_yen"?: yen | null}`
/// over `base`; anything else is refused.
fn parse_contracts(v: &serde_json::Value, base: store::Contracts) -> Result<store::Contracts, (&'static str, String)> {
    let o = v.as_object().ok_or(("invalid_contracts", "contracts is an object".to_string()))?;
    let mut c = base;
    for (k, x) in o {
        match (k.as_str(), x) {
            ("au_credit_card", serde_json::Value::Bool(b)) => c.au_credit_card = *b,
            ("au_webmoney", serde_json::Value::Bool(b)) => c.au_webmoney = *b,
            ("np_limit_yen", serde_json::Value::Null) => c.np_limit_yen = None,
            ("np_limit_yen", serde_json::Value::Number(n)) if n.as_u64().is_some_and(|y| (1..=shared::money::MAX_YEN).contains(&y)) => {
                c.np_limit_yen = n.as_u64()
            }
            ("au_credit_card" | "au_webmoney", _) => return Err(("invalid_contracts", format!("{k} is true or false"))),
            ("np_limit_yen", _) => return Err(("invalid_contracts", "np_limit_yen is a whole number of yen ≥ 1, or null".into())),
            _ => return Err(("invalid_contracts", format!("{k} is not a contract setting (au_credit_card, au_webmoney, np_limit_yen)"))),
        }
    }
    Ok(c)
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// Allowed origins as an operator or merchant gives them; in production
/// each must be `https://` and a host name, without a port wildcard.
pub fn parse_origins(list: &[String], production: bool) -> Result<Vec<shared::url::OriginRule>, (&'static str, String)> {
    if list.is_empty() {
        return Err(("empty_list", "allowed_origins needs at least one entry".into()));
    }
    list.iter()
        .map(|o| {
            let rule = shared::url::OriginRule::parse(o).ok_or(("invalid_origin", format!("{o} is not an origin such as https://shop.example")))?;
            let base = shared::url::HttpUrl::parse(o.strip_suffix(":*").unwrap_or(o));
            if production && (o.ends_with(":*") || !base.is_some_and(|u| crate::config::production_url_ok(&u))) {
                return Err(("invalid_origin", format!("{o}: origins must be https:// and a host name (no IP address, no localhost, no port wildcard)")));
            }
            Ok(rule)
        })
        .collect()
}

pub fn parse_methods(list: &[String]) -> Result<Vec<PayMethod>, (&'static str, String)> {
    if list.is_empty() {
        return Err(("empty_list", "enabled_methods needs at least one entry".into()));
    }
    list.iter()
        .map(|c| PayMethod::from_code(c).ok_or(("invalid_method", format!("{c} is not one of netcash, prepaid, np, au, card"))))
        .collect()
}

/// A webhook URL; in production `https://` and a host name.
pub fn check_webhook_url(u: &str, production: bool) -> Result<(), (&'static str, String)> {
    let parsed = shared::url::HttpUrl::parse(u).ok_or(("invalid_webhook_url", "webhook_url must be an absolute http(s) URL".to_string()))?;
    if !crate::config::merchant_url_ok(&parsed, production) {
        return Err(("invalid_webhook_url", "webhook_url must be https:// and a host name".into()));
    }
    Ok(())
}

async fn merchants(db: &worker::D1Database, config: &Config, method: Method, rest: &[&str], body: &[u8]) -> worker::Result<Response> {
    let bad = |(code, message): (&str, String)| error(422, code, &message);
    match (method, rest) {
        (Method::Get, []) => {
            let mut out = Vec::new();
            for (mid, sid) in store::merchant_ids(db).await? {
                if let Some(m) = store::find_merchant(db, &mid, &sid).await? {
                    out.push(view(&m));
                }
            }
            json(200, &serde_json::json!({"data": out}))
        }
        (Method::Post, []) => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct New {
                merchant_id: String,
                service_id: Option<String>,
                name: String,
                allowed_origins: Vec<String>,
                enabled_methods: Option<Vec<String>>,
                webhook_url: Option<String>,
                contracts: Option<serde_json::Value>,
            }
            let Ok(n) = serde_json::from_slice::<New>(body) else {
                return error(400, "invalid_body", "{merchant_id, service_id?, name, allowed_origins, enabled_methods?, webhook_url?, contracts?}");
            };
            let contracts = match n.contracts.as_ref().map(|c| parse_contracts(c, store::Contracts::default())).transpose() {
                Ok(c) => c,
                Err(e) => return bad(e),
            };
            let service_id = n.service_id.unwrap_or_else(|| "001".into());
            if !digits(&n.merchant_id, 5) || !digits(&service_id, 3) {
                return error(422, "invalid_id", "merchant_id is 5 digits, service_id 3 digits");
            }
            let name = n.name.trim();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                return error(422, "invalid_name", "name is 1–100 characters");
            }
            let origins = match parse_origins(&n.allowed_origins, config.production) {
                Ok(o) => o,
                Err(e) => return bad(e),
            };
            let codes = n.enabled_methods.unwrap_or_else(|| ALL_METHODS.iter().map(|s| s.to_string()).collect());
            let methods = match parse_methods(&codes) {
                Ok(m) => m,
                Err(e) => return bad(e),
            };
            let webhook_url = n.webhook_url.filter(|u| !u.is_empty());
            if let Some(u) = &webhook_url {
                if let Err(e) = check_webhook_url(u, config.production) {
                    return bad(e);
                }
            }
            use base64::Engine;
            let hash_key = shared::signing::hex(&util::random_bytes(32));
            let webhook_secret = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(util::random_bytes(32)));
            let admin_password = shared::signing::hex(&util::random_bytes(16));
            let created = store::create_merchant(
                db,
                &store::NewMerchant {
                    merchant_id: &n.merchant_id,
                    service_id: &service_id,
                    name,
                    hash_key: &hash_key,
                    webhook_secret: &webhook_secret,
                    webhook_url: webhook_url.as_deref(),
                    origins: &origins,
                    methods: &methods,
                    admin_password: &admin_password,
                },
            )
            .await?;
            if !created {
                return error(409, "merchant_exists", "a merchant with this merchant_id and service_id exists");
            }
            if let Some(c) = contracts {
                store::set_contracts(db, &n.merchant_id, &service_id, &c, util::now().0).await?;
            }
            // The first staff user of the administration tool: `admin`, an
            // administrator, with the password shown once below.
            crate::admin::staff::create_first_user(db, &n.merchant_id, &service_id, &admin_password, util::now().0).await?;
            let Some(m) = store::find_merchant(db, &n.merchant_id, &service_id).await? else {
                return Err(worker::Error::RustError("created merchant not found".into()));
            };
            let mut v = view(&m);
            // Shown once: only their hashes or the values themselves are
            // kept, and no endpoint returns them again.
            v["hash_key"] = hash_key.into();
            v["webhook_secret"] = webhook_secret.into();
            v["admin_user"] = crate::admin::staff::FIRST_USER.into();
            v["admin_password"] = admin_password.into();
            json(201, &v)
        }
        (method, [mid, sid, tail @ ..]) => {
            let Some(m) = store::find_merchant(db, mid, sid).await? else {
                return error(404, "unknown_merchant", "no merchant with this merchant_id and service_id");
            };
            match (method, tail) {
                (Method::Get, []) => json(200, &view(&m)),
                (Method::Put, []) => {
                    #[derive(Deserialize)]
                    #[serde(deny_unknown_fields)]
                    struct Put {
                        name: Option<String>,
                        allowed_origins: Option<Vec<String>>,
                        enabled_methods: Option<Vec<String>>,
                        contracts: Option<serde_json::Value>,
                    }
                    let Ok(p) = serde_json::from_slice::<Put>(body) else {
                        return error(400, "invalid_body", "{name?, allowed_origins?, enabled_methods?, contracts?}");
                    };
                    let contracts = match p.contracts.as_ref().map(|c| parse_contracts(c, m.contracts)).transpose() {
                        Ok(c) => c,
                        Err(e) => return bad(e),
                    };
                    let mut m = m;
                    if let Some(name) = p.name {
                        let name = name.trim();
                        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                            return error(422, "invalid_name", "name is 1–100 characters");
                        }
                        m.name = name.to_string();
                    }
                    if let Some(o) = p.allowed_origins {
                        m.origins = match parse_origins(&o, config.production) {
                            Ok(o) => o,
                            Err(e) => return bad(e),
                        };
                    }
                    if let Some(c) = p.enabled_methods {
                        m.methods = match parse_methods(&c) {
                            Ok(x) => x,
                            Err(e) => return bad(e),
                        };
                    }
                    if let Some(c) = contracts {
                        m.contracts = c;
                    }
                    store::save_merchant(db, &m).await?;
                    if let Some(c) = contracts {
                        store::set_contracts(db, &m.merchant_id, &m.service_id, &c, util::now().0).await?;
                    }
                    json(200, &view(&m))
                }
                (Method::Post, ["suspend"]) => {
                    #[derive(Deserialize, Default)]
                    #[serde(deny_unknown_fields)]
                    struct Suspend {
                        reason: Option<String>,
                    }
                    let s: Suspend = if body.is_empty() {
                        Suspend::default()
                    } else {
                        match serde_json::from_slice(body) {
                            Ok(s) => s,
                            Err(_) => return error(400, "invalid_body", "{reason?}"),
                        }
                    };
                    let reason = s.reason.unwrap_or_default();
                    if reason.chars().count() > 200 {
                        return error(422, "invalid_reason", "reason is at most 200 characters");
                    }
                    store::set_suspended(db, mid, sid, Some(&reason), util::now().0).await?;
                    let m = store::find_merchant(db, mid, sid).await?.ok_or_else(|| worker::Error::RustError("merchant disappeared".into()))?;
                    json(200, &view(&m))
                }
                (Method::Post, ["resume"]) => {
                    store::set_suspended(db, mid, sid, None, util::now().0).await?;
                    let m = store::find_merchant(db, mid, sid).await?.ok_or_else(|| worker::Error::RustError("merchant disappeared".into()))?;
                    json(200, &view(&m))
                }
                _ => error(404, "not_found", "no such operator endpoint"),
            }
        }
        _ => error(404, "not_found", "no such operator endpoint"),
    }
}
