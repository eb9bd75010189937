//! D1: the merchants table and the payments index. One Durable Object per
//! payment owns the payment itself; D1 only indexes it (order-id
//! uniqueness, search, listing).

use serde::Deserialize;
use shared::methods::Method;
use shared::url::OriginRule;
use std::cell::Cell;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

/// The sandbox merchant of PRODUCT §9.
pub const SANDBOX_MERCHANT_ID: &str = "99999";
pub const SANDBOX_SERVICE_ID: &str = "001";
pub const SANDBOX_HASH_KEY: &str = "kessai-sandbox-hash-key";
pub const SANDBOX_WEBHOOK_SECRET: &str = "whsec_a2Vzc2FpLXNhbmRib3gtd2ViaG9vay1zZWNyZXQtMDE=";
/// The sandbox merchant's administration tool password.
pub const SANDBOX_ADMIN_PASSWORD: &str = "kessai-sandbox-admin";

/// How an administration password is kept: HMAC-SHA256 keyed by the
/// merchant id (a per-merchant salt), hex.
pub fn admin_password_hash(merchant_id: &str, password: &str) -> String {
    shared::signing::hex(&shared::signing::hmac_sha256(format!("kessai-admin:{merchant_id}").as_bytes(), password.as_bytes()))
}

/// The D1 schema, as migrations (`edge-worker/migrations/`, in order). The
/// Worker applies those not yet applied when an isolate first uses D1,
/// recording them in wrangler's own `d1_migrations` table, so that
/// `wrangler d1 migrations apply DB` (run ahead of a deploy) and the Worker
/// agree on what is applied. Every statement is idempotent (`IF NOT
/// EXISTS`, `IF EXISTS`), as two isolates may apply one at once.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_initial.sql", include_str!("../migrations/0001_initial.sql")),
    ("0002_merchant_suspensions.sql", include_str!("../migrations/0002_merchant_suspensions.sql")),
    ("0003_csp_reports.sql", include_str!("../migrations/0003_csp_reports.sql")),
    ("0004_merchant_contracts.sql", include_str!("../migrations/0004_merchant_contracts.sql")),
    ("0005_operator_audit.sql", include_str!("../migrations/0005_operator_audit.sql")),
    ("0006_admin_lockouts.sql", include_str!("../migrations/0006_admin_lockouts.sql")),
    ("0007_subscriptions.sql", include_str!("../migrations/0007_subscriptions.sql")),
    ("0008_admin_staff.sql", include_str!("../migrations/0008_admin_staff.sql")),
];

/// wrangler's migrations table, spelled as wrangler creates it.
const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS \"d1_migrations\"(
\t\tid         INTEGER PRIMARY KEY AUTOINCREMENT,
\t\tname       TEXT UNIQUE,
\t\tapplied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)";

/// The statements of a migration file: `--` comment lines dropped, split
/// at a `;` that ends a line.
pub fn statements(sql: &str) -> Vec<String> {
    let text: String = sql.lines().filter(|l| !l.trim_start().starts_with("--")).map(|l| format!("{l}\n")).collect();
    text.split(";\n").map(str::trim).filter(|s| !s.is_empty()).map(|s| s.trim_end_matches(';').to_string()).collect()
}


thread_local! {
    static SCHEMA_READY: Cell<bool> = const { Cell::new(false) };
}

/// The D1 database, its pending migrations applied (and the sandbox
/// merchant seeded when `sandbox`) once per isolate.
pub async fn db(env: &Env, sandbox: bool) -> worker::Result<D1Database> {
    let db = env.d1("DB")?;
    if !SCHEMA_READY.with(|c| c.get()) {
        db.prepare(MIGRATIONS_TABLE).run().await?;
        #[derive(Deserialize)]
        struct Applied {
            name: String,
        }
        let applied: Vec<Applied> = db.prepare("SELECT name FROM d1_migrations").all().await?.results()?;
        for (name, sql) in MIGRATIONS {
            if applied.iter().any(|a| a.name == *name) {
                continue;
            }
            // One batch (one transaction): the migration and its record.
            let mut stmts: Vec<_> = statements(sql).iter().map(|s| db.prepare(s.as_str())).collect();
            stmts.push(db.prepare("INSERT OR IGNORE INTO d1_migrations (name) VALUES (?1)").bind(&[(*name).into()])?);
            db.batch(stmts).await?;
        }
        if sandbox && cfg!(feature = "sandbox") {
            db.prepare(
                "INSERT OR IGNORE INTO merchants (merchant_id, service_id, name, hash_keys, webhook_secrets, webhook_url, origins, methods, admin_password_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8)",
            )
            .bind(&[
                SANDBOX_MERCHANT_ID.into(),
                SANDBOX_SERVICE_ID.into(),
                "Kessai Sandbox Shop".into(),
                serde_json::json!([SANDBOX_HASH_KEY]).to_string().into(),
                serde_json::json!([SANDBOX_WEBHOOK_SECRET]).to_string().into(),
                r#"["http://127.0.0.1","http://localhost"]"#.into(),
                r#"["netcash","prepaid","np","au","card"]"#.into(),
                admin_password_hash(SANDBOX_MERCHANT_ID, SANDBOX_ADMIN_PASSWORD).into(),
            ])?
            .run()
            .await?;
        }
        SCHEMA_READY.with(|c| c.set(true));
    }
    Ok(db)
}

/// A merchant's settings.
#[derive(Clone)]
pub struct Merchant {
    pub merchant_id: String,
    pub service_id: String,
    pub name: String,
    /// The current key first; during a rotation the previous one too.
    pub hash_keys: Vec<String>,
    pub webhook_secrets: Vec<String>,
    pub webhook_url: Option<String>,
    pub origins: Vec<OriginRule>,
    pub methods: Vec<Method>,
    /// Set when deliveries to `webhook_url` kept failing for days; cleared
    /// when the merchant sets the URL again.
    pub webhook_disabled_at: Option<i64>,
    pub webhook_notice: Option<String>,
    /// Until when (real Unix seconds) the previous hash key and webhook
    /// secret (second in their lists) stay valid after a rotation.
    pub previous_until: Option<i64>,
    /// When an operator suspended the merchant (real Unix seconds), if so.
    pub suspended_at: Option<i64>,
    pub suspend_reason: Option<String>,
    /// Provider contract settings (operators set them).
    pub contracts: Contracts,
    /// Recurring billing options (`PUT /v1/merchant`).
    pub recurring: shared::recurring::Options,
}

/// A merchant's provider contracts, as operators set them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Contracts {
    /// The au Kantan Kessai contract adds the credit card.
    pub au_credit_card: bool,
    /// The au Kantan Kessai contract adds WebMoney.
    pub au_webmoney: bool,
    /// This merchant's NP postpaid limit (else `NP_LIMIT_YEN`).
    pub np_limit_yen: Option<u64>,
}

impl Contracts {
    /// What au takes for this merchant (the seed's combination table).
    pub fn au(&self) -> shared::au::Capabilities {
        shared::au::capabilities(self.au_credit_card, self.au_webmoney)
    }
}

impl std::fmt::Debug for Merchant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merchant").field("merchant_id", &self.merchant_id).field("service_id", &self.service_id).finish()
    }
}

impl Merchant {
    pub fn signing_key(&self) -> &[u8] {
        self.hash_keys[0].as_bytes()
    }
    pub fn key_bytes(&self) -> Vec<&[u8]> {
        self.hash_keys.iter().map(|k| k.as_bytes()).collect()
    }
}

#[derive(Deserialize)]
struct MerchantRow {
    merchant_id: String,
    service_id: String,
    name: String,
    hash_keys: String,
    webhook_secrets: String,
    webhook_url: Option<String>,
    origins: String,
    methods: String,
    webhook_disabled_at: Option<f64>,
    webhook_notice: Option<String>,
    previous_until: Option<f64>,
    suspended_at: Option<f64>,
    suspend_reason: Option<String>,
    au_credit_card: Option<f64>,
    au_webmoney: Option<f64>,
    np_limit_yen: Option<f64>,
    recurring_options: Option<String>,
}

fn corrupt(what: &str) -> worker::Error {
    worker::Error::RustError(format!("merchant row has an unreadable {what}"))
}

thread_local! {
    static MERCHANTS: std::cell::RefCell<Vec<(Merchant, f64)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// How long this isolate may reuse a merchant it read, for the hot path of
/// purchase requests. Changes made through this isolate clear it at once;
/// other isolates see them within this time.
const MERCHANT_CACHE_MS: f64 = 5_000.0;

/// [`find_merchant`] through a short per-isolate cache.
pub async fn find_merchant_cached(db: &D1Database, merchant_id: &str, service_id: &str) -> worker::Result<Option<Merchant>> {
    let now = js_sys::Date::now();
    let hit = MERCHANTS.with(|c| {
        c.borrow()
            .iter()
            .find(|(m, at)| m.merchant_id == merchant_id && m.service_id == service_id && now - at < MERCHANT_CACHE_MS)
            .map(|(m, _)| m.clone())
    });
    if let Some(m) = hit {
        return Ok(Some(m));
    }
    let found = find_merchant(db, merchant_id, service_id).await?;
    if let Some(m) = &found {
        MERCHANTS.with(|c| {
            let mut c = c.borrow_mut();
            c.retain(|(x, _)| !(x.merchant_id == m.merchant_id && x.service_id == m.service_id));
            c.push((m.clone(), now));
        });
    }
    Ok(found)
}

fn forget_merchant(merchant_id: &str, service_id: &str) {
    MERCHANTS.with(|c| c.borrow_mut().retain(|(m, _)| !(m.merchant_id == merchant_id && m.service_id == service_id)));
}

pub async fn find_merchant(db: &D1Database, merchant_id: &str, service_id: &str) -> worker::Result<Option<Merchant>> {
    let row: Option<MerchantRow> = db
        .prepare(
            "SELECT m.*, s.suspended_at AS suspended_at, s.reason AS suspend_reason,
                    c.au_credit_card AS au_credit_card, c.au_webmoney AS au_webmoney, c.np_limit_yen AS np_limit_yen,
                    r.options AS recurring_options FROM merchants m
             LEFT JOIN merchant_suspensions s ON s.merchant_id = m.merchant_id AND s.service_id = m.service_id
             LEFT JOIN merchant_contracts c ON c.merchant_id = m.merchant_id AND c.service_id = m.service_id
             LEFT JOIN merchant_recurring r ON r.merchant_id = m.merchant_id AND r.service_id = m.service_id
             WHERE m.merchant_id = ?1 AND m.service_id = ?2",
        )
        .bind(&[merchant_id.into(), service_id.into()])?
        .first(None)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let mut hash_keys: Vec<String> = serde_json::from_str(&r.hash_keys).map_err(|_| corrupt("hash_keys"))?;
    let mut webhook_secrets: Vec<String> = serde_json::from_str(&r.webhook_secrets).map_err(|_| corrupt("webhook_secrets"))?;
    if hash_keys.is_empty() {
        return Err(corrupt("hash_keys"));
    }
    // After a rotation's overlap, only the current key and secret count.
    let previous_until = r.previous_until.map(|t| t as i64);
    if previous_until.is_none_or(|t| t < crate::util::now().0) {
        hash_keys.truncate(1);
        webhook_secrets.truncate(1);
    }
    Ok(Some(Merchant {
        merchant_id: r.merchant_id,
        service_id: r.service_id,
        name: r.name,
        hash_keys,
        webhook_secrets,
        webhook_url: r.webhook_url.filter(|u| !u.is_empty()),
        origins: serde_json::from_str(&r.origins).map_err(|_| corrupt("origins"))?,
        methods: serde_json::from_str(&r.methods).map_err(|_| corrupt("methods"))?,
        webhook_disabled_at: r.webhook_disabled_at.map(|t| t as i64),
        webhook_notice: r.webhook_notice,
        previous_until,
        suspended_at: r.suspended_at.map(|t| t as i64),
        suspend_reason: r.suspend_reason,
        contracts: Contracts {
            au_credit_card: r.au_credit_card.is_some_and(|v| v != 0.0),
            au_webmoney: r.au_webmoney.is_some_and(|v| v != 0.0),
            np_limit_yen: r.np_limit_yen.map(|v| v as u64),
        },
        recurring: match r.recurring_options {
            Some(o) => serde_json::from_str(&o).map_err(|_| corrupt("recurring options"))?,
            None => shared::recurring::Options::default(),
        },
    }))
}

/// Sets a merchant's recurring options.
pub async fn set_recurring_options(db: &D1Database, merchant_id: &str, service_id: &str, o: &shared::recurring::Options, now: i64) -> worker::Result<()> {
    db.prepare(
        "INSERT INTO merchant_recurring (merchant_id, service_id, options, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (merchant_id, service_id) DO UPDATE SET options = excluded.options, updated_at = excluded.updated_at",
    )
    .bind(&[merchant_id.into(), service_id.into(), serde_json::to_string(o)?.into(), JsValue::from_f64(now as f64)])?
    .run()
    .await?;
    forget_merchant(merchant_id, service_id);
    Ok(())
}

/// Sets a merchant's provider contracts.
pub async fn set_contracts(db: &D1Database, merchant_id: &str, service_id: &str, c: &Contracts, now: i64) -> worker::Result<()> {
    forget_merchant(merchant_id, service_id);
    db.prepare(
        "INSERT OR REPLACE INTO merchant_contracts (merchant_id, service_id, au_credit_card, au_webmoney, np_limit_yen, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(&[
        merchant_id.into(),
        service_id.into(),
        JsValue::from_f64(c.au_credit_card as u8 as f64),
        JsValue::from_f64(c.au_webmoney as u8 as f64),
        c.np_limit_yen.map(|v| JsValue::from_f64(v as f64)).unwrap_or(JsValue::NULL),
        JsValue::from_f64(now as f64),
    ])?
    .run()
    .await?;
    Ok(())
}

/// A new merchant as an operator creates it (PRODUCT §10): its keys were
/// generated by the caller and are shown once.
pub struct NewMerchant<'a> {
    pub merchant_id: &'a str,
    pub service_id: &'a str,
    pub name: &'a str,
    pub hash_key: &'a str,
    pub webhook_secret: &'a str,
    pub webhook_url: Option<&'a str>,
    pub origins: &'a [OriginRule],
    pub methods: &'a [Method],
    pub admin_password: &'a str,
}

/// Inserts a merchant. `Ok(false)` if (merchant_id, service_id) exists.
pub async fn create_merchant(db: &D1Database, m: &NewMerchant<'_>) -> worker::Result<bool> {
    forget_merchant(m.merchant_id, m.service_id);
    let res = db
        .prepare(
            "INSERT INTO merchants (merchant_id, service_id, name, hash_keys, webhook_secrets, webhook_url, origins, methods, admin_password_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (merchant_id, service_id) DO NOTHING",
        )
        .bind(&[
            m.merchant_id.into(),
            m.service_id.into(),
            m.name.into(),
            serde_json::json!([m.hash_key]).to_string().into(),
            serde_json::json!([m.webhook_secret]).to_string().into(),
            m.webhook_url.map(JsValue::from_str).unwrap_or(JsValue::NULL),
            serde_json::to_string(m.origins)?.into(),
            serde_json::to_string(m.methods)?.into(),
            admin_password_hash(m.merchant_id, m.admin_password).into(),
        ])?
        .run()
        .await?;
    Ok(res.meta()?.and_then(|x| x.changes).unwrap_or(0) == 1)
}

/// Every merchant's (merchant_id, service_id), in order.
pub async fn merchant_ids(db: &D1Database) -> worker::Result<Vec<(String, String)>> {
    #[derive(Deserialize)]
    struct Row {
        merchant_id: String,
        service_id: String,
    }
    let rows: Vec<Row> = db.prepare("SELECT merchant_id, service_id FROM merchants ORDER BY merchant_id, service_id").all().await?.results()?;
    Ok(rows.into_iter().map(|r| (r.merchant_id, r.service_id)).collect())
}

/// Suspends (`Some(reason)`) or resumes (`None`) a merchant.
pub async fn set_suspended(db: &D1Database, merchant_id: &str, service_id: &str, suspend: Option<&str>, now: i64) -> worker::Result<()> {
    forget_merchant(merchant_id, service_id);
    let stmt = match suspend {
        Some(reason) => db
            .prepare(
                "INSERT INTO merchant_suspensions (merchant_id, service_id, suspended_at, reason) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (merchant_id, service_id) DO UPDATE SET reason = ?4",
            )
            .bind(&[merchant_id.into(), service_id.into(), JsValue::from_f64(now as f64), reason.into()])?,
        None => db
            .prepare("DELETE FROM merchant_suspensions WHERE merchant_id = ?1 AND service_id = ?2")
            .bind(&[merchant_id.into(), service_id.into()])?,
    };
    stmt.run().await?;
    Ok(())
}

/// Saves a merchant's changeable settings.
pub async fn save_merchant(db: &D1Database, m: &Merchant) -> worker::Result<()> {
    forget_merchant(&m.merchant_id, &m.service_id);
    db.prepare(
        "UPDATE merchants SET name = ?3, hash_keys = ?4, webhook_secrets = ?5, webhook_url = ?6, origins = ?7, methods = ?8,
         webhook_disabled_at = ?9, webhook_notice = ?10, previous_until = ?11 WHERE merchant_id = ?1 AND service_id = ?2",
    )
    .bind(&[
        m.merchant_id.as_str().into(),
        m.service_id.as_str().into(),
        m.name.as_str().into(),
        serde_json::to_string(&m.hash_keys)?.into(),
        serde_json::to_string(&m.webhook_secrets)?.into(),
        m.webhook_url.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL),
        serde_json::to_string(&m.origins)?.into(),
        serde_json::to_string(&m.methods)?.into(),
        m.webhook_disabled_at.map(|t| JsValue::from_f64(t as f64)).unwrap_or(JsValue::NULL),
        m.webhook_notice.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL),
        m.previous_until.map(|t| JsValue::from_f64(t as f64)).unwrap_or(JsValue::NULL),
    ])?
    .run()
    .await?;
    Ok(())
}

/// Marks a merchant's webhook endpoint disabled after deliveries failed for days.
pub async fn disable_webhook(db: &D1Database, merchant_id: &str, service_id: &str, now: i64, notice: &str) -> worker::Result<()> {
    forget_merchant(merchant_id, service_id);
    db.prepare(
        "UPDATE merchants SET webhook_disabled_at = ?3, webhook_notice = ?4
         WHERE merchant_id = ?1 AND service_id = ?2 AND webhook_disabled_at IS NULL",
    )
    .bind(&[merchant_id.into(), service_id.into(), JsValue::from_f64(now as f64), notice.into()])?
    .run()
    .await?;
    Ok(())
}

/// Records (or clears) that a payment's events wait for the merchant's
/// webhook endpoint.
pub async fn set_webhook_waiting(db: &D1Database, payment_id: &str, merchant_id: &str, service_id: &str, waiting: bool, now: i64) -> worker::Result<()> {
    let stmt = if waiting {
        db.prepare("INSERT OR IGNORE INTO webhook_waiting (payment_id, merchant_id, service_id, since) VALUES (?1, ?2, ?3, ?4)")
            .bind(&[payment_id.into(), merchant_id.into(), service_id.into(), JsValue::from_f64(now as f64)])?
    } else {
        db.prepare("DELETE FROM webhook_waiting WHERE payment_id = ?1").bind(&[payment_id.into()])?
    };
    stmt.run().await?;
    Ok(())
}

/// Payments whose events wait although their merchant has an endpoint
/// again (resumed by the sweep), or, with `merchant`, one merchant's.
pub async fn resumable_payments(db: &D1Database, merchant: Option<(&str, &str)>, limit: u32) -> worker::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        payment_id: String,
    }
    let sql = "SELECT w.payment_id FROM webhook_waiting w JOIN merchants m ON m.merchant_id = w.merchant_id AND m.service_id = w.service_id
               WHERE m.webhook_url IS NOT NULL AND m.webhook_disabled_at IS NULL";
    let rows: Vec<Row> = match merchant {
        Some((mid, sid)) => db
            .prepare(format!("{sql} AND w.merchant_id = ?1 AND w.service_id = ?2 ORDER BY w.since LIMIT ?3"))
            .bind(&[mid.into(), sid.into(), JsValue::from_f64(limit as f64)])?,
        None => db.prepare(format!("{sql} ORDER BY w.since LIMIT ?1")).bind(&[JsValue::from_f64(limit as f64)])?,
    }
    .all()
    .await?
    .results()?;
    Ok(rows.into_iter().map(|r| r.payment_id).collect())
}

/// A new payment's row in D1: what reserves its order id.
pub struct NewPayment {
    pub payment_id: String,
    pub merchant_id: String,
    pub service_id: String,
    pub order_id: String,
    pub amount: u64,
    pub now: i64,
    pub due_at: i64,
    /// The payment record (JSON) its object takes on first use.
    pub record: String,
}

/// Reserves a new payment's order id. `Ok(false)` if the merchant has
/// used it before.
pub async fn insert_payment(db: &D1Database, row: &NewPayment) -> worker::Result<bool> {
    Ok(insert_payments(db, &[row]).await?.first().copied().unwrap_or(false))
}

/// Reserves several new payments' order ids in one statement (one
/// transaction): for each row, whether it was written (`false`: its order
/// id was used before, by an earlier payment or an earlier row of `rows`).
/// The rows travel as one JSON parameter (`json_each`, in their order), so
/// a batch costs D1 one query however many rows it holds, within D1's
/// limit of 100 bound parameters; the written rows come back through
/// `RETURNING`. An error writes none of them.
pub async fn insert_payments(db: &D1Database, rows: &[&NewPayment]) -> worker::Result<Vec<bool>> {
    let values: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::json!([r.payment_id, r.merchant_id, r.service_id, r.order_id, r.amount, r.now, r.due_at, r.record]))
        .collect();
    #[derive(Deserialize)]
    struct Written {
        payment_id: String,
    }
    let written: Vec<Written> = db
        .prepare(
            "INSERT INTO payments (payment_id, merchant_id, service_id, order_id, method, status, amount, created_at, updated_at, due_at, record)
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'),
                    NULL, 'pending', json_extract(value, '$[4]'), json_extract(value, '$[5]'), json_extract(value, '$[5]'),
                    json_extract(value, '$[6]'), json_extract(value, '$[7]')
             FROM json_each(?1) WHERE true ORDER BY key
             ON CONFLICT (merchant_id, order_id) DO NOTHING
             RETURNING payment_id",
        )
        .bind(&[serde_json::to_string(&values)?.into()])?
        .all()
        .await?
        .results()?;
    Ok(rows.iter().map(|r| written.iter().any(|w| w.payment_id == r.payment_id)).collect())
}

/// Mirrors a payment's status, and when its object next has work to do,
/// into the index.
pub async fn update_payment_index(
    db: &D1Database,
    payment_id: &str,
    method: Option<&str>,
    status: &str,
    now: i64,
    due_at: Option<i64>,
) -> worker::Result<()> {
    db.prepare("UPDATE payments SET method = COALESCE(?2, method), status = ?3, updated_at = ?4, due_at = ?5 WHERE payment_id = ?1")
        .bind(&[
            payment_id.into(),
            method.map(JsValue::from_str).unwrap_or(JsValue::NULL),
            status.into(),
            JsValue::from_f64(now as f64),
            due_at.map(|t| JsValue::from_f64(t as f64)).unwrap_or(JsValue::NULL),
        ])?
        .run()
        .await?;
    Ok(())
}

/// Payments whose object has work due at or before `now` (deliveries,
/// expiry), for the scheduled sweep and the sandbox clock.
pub async fn due_payments(db: &D1Database, now: i64, limit: u32) -> worker::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        payment_id: String,
    }
    let rows: Vec<Row> = db
        .prepare("SELECT payment_id FROM payments WHERE due_at IS NOT NULL AND due_at <= ?1 ORDER BY due_at LIMIT ?2")
        .bind(&[JsValue::from_f64(now as f64), JsValue::from_f64(limit as f64)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.payment_id).collect())
}

/// The sandbox clock's offset in seconds.
#[cfg(feature = "sandbox-clock")]
pub async fn clock_offset(db: &D1Database) -> worker::Result<i64> {
    let v: Option<f64> = db.prepare("SELECT offset_seconds FROM sandbox_clock WHERE id = 1").first(Some("offset_seconds")).await?;
    Ok(v.map(|v| v as i64).unwrap_or(0))
}

#[cfg(feature = "sandbox-clock")]
pub async fn set_clock_offset(db: &D1Database, offset: i64) -> worker::Result<()> {
    db.prepare("INSERT INTO sandbox_clock (id, offset_seconds) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET offset_seconds = ?1")
        .bind(&[JsValue::from_f64(offset as f64)])?
        .run()
        .await?;
    Ok(())
}

/// The payment as its checkout was created, for its object's first use.
/// The record a checkout was written with (the payment object takes it on
/// first use); `T` is the payment record type, which lives with its object.
pub async fn payment_record<T: serde::de::DeserializeOwned>(db: &D1Database, payment_id: &str) -> worker::Result<Option<T>> {
    let record: Option<Option<String>> =
        db.prepare("SELECT record FROM payments WHERE payment_id = ?1").bind(&[payment_id.into()])?.first(Some("record")).await?;
    match record.flatten() {
        Some(json) => Ok(Some(serde_json::from_str(&json)?)),
        None => Ok(None),
    }
}

/// The au OpenID linked to a merchant's `cust_code`, if any.
pub async fn au_open_id(db: &D1Database, merchant_id: &str, service_id: &str, cust_code: &str) -> worker::Result<Option<String>> {
    db.prepare("SELECT open_id FROM au_links WHERE merchant_id = ?1 AND service_id = ?2 AND cust_code = ?3")
        .bind(&[merchant_id.into(), service_id.into(), cust_code.into()])?
        .first(Some("open_id"))
        .await
}

/// Links a merchant's `cust_code` to the au OpenID the shopper paid with
/// (the latest payment wins), so later payments skip KDDI's login.
pub async fn link_au_open_id(db: &D1Database, merchant_id: &str, service_id: &str, cust_code: &str, open_id: &str, now: i64) -> worker::Result<()> {
    db.prepare(
        "INSERT INTO au_links (merchant_id, service_id, cust_code, open_id, linked_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (merchant_id, service_id, cust_code) DO UPDATE SET open_id = ?4, linked_at = ?5",
    )
    .bind(&[merchant_id.into(), service_id.into(), cust_code.into(), open_id.into(), JsValue::from_f64(now as f64)])?
    .run()
    .await?;
    Ok(())
}

/// A provider maintenance window an operator announced.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct Maintenance {
    pub id: String,
    pub method: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub note: Option<String>,
}

pub async fn add_maintenance(db: &D1Database, m: &Maintenance) -> worker::Result<()> {
    forget_maintenance();
    db.prepare("INSERT INTO maintenance (id, method, starts_at, ends_at, note) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(&[
            m.id.as_str().into(),
            m.method.as_str().into(),
            JsValue::from_f64(m.starts_at as f64),
            JsValue::from_f64(m.ends_at as f64),
            m.note.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL),
        ])?
        .run()
        .await?;
    Ok(())
}

pub async fn delete_maintenance(db: &D1Database, id: &str) -> worker::Result<bool> {
    forget_maintenance();
    let r = db.prepare("DELETE FROM maintenance WHERE id = ?1").bind(&[id.into()])?.run().await?;
    Ok(r.meta()?.and_then(|m| m.changes).unwrap_or(0) == 1)
}

/// Windows that have not ended at `now`.
pub async fn maintenance_windows(db: &D1Database, now: i64) -> worker::Result<Vec<Maintenance>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        method: String,
        starts_at: f64,
        ends_at: f64,
        note: Option<String>,
    }
    let rows: Vec<Row> = db
        .prepare("SELECT id, method, starts_at, ends_at, note FROM maintenance WHERE ends_at > ?1 ORDER BY starts_at")
        .bind(&[JsValue::from_f64(now as f64)])?
        .all()
        .await?
        .results()?;
    Ok(rows
        .into_iter()
        .map(|r| Maintenance { id: r.id, method: r.method, starts_at: r.starts_at as i64, ends_at: r.ends_at as i64, note: r.note })
        .collect())
}

thread_local! {
    static WINDOWS: std::cell::RefCell<Option<(Vec<Maintenance>, f64)>> = const { std::cell::RefCell::new(None) };
}

/// Forgets this isolate's copy of the maintenance windows (after a change).
pub fn forget_maintenance() {
    WINDOWS.with(|w| w.replace(None));
}

/// The methods under maintenance at `now`. The windows are read through a
/// short per-isolate cache (as merchants are): they are few and change
/// rarely, and each is checked against `now` here.
pub async fn methods_under_maintenance(db: &D1Database, now: i64) -> worker::Result<Vec<Method>> {
    let real = js_sys::Date::now();
    let cached = WINDOWS.with(|w| w.borrow().as_ref().filter(|(_, at)| real - at < MERCHANT_CACHE_MS).map(|(v, _)| v.clone()));
    let windows = match cached {
        Some(v) => v,
        None => {
            let v = maintenance_windows(db, i64::MIN).await?;
            WINDOWS.with(|w| w.replace(Some((v.clone(), real))));
            v
        }
    };
    Ok(windows
        .into_iter()
        .filter(|m| m.starts_at <= now && now < m.ends_at)
        .filter_map(|m| Method::from_code(&m.method))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_split_into_idempotent_statements() {
        let all: Vec<String> = MIGRATIONS.iter().flat_map(|(_, sql)| statements(sql)).collect();
        assert_eq!(all.len(), 28, "12 statements of the runtime schema, 2 of issue 9, 1 for CSP reports, 1 for contracts, 2 for the operator audit, 1 for lockouts, 4 for subscriptions, 5 for admin staff");
        for s in &all {
            assert!(!s.contains(';') && !s.contains("--"), "{s}");
            assert!(s.starts_with("CREATE TABLE IF NOT EXISTS ") || s.starts_with("CREATE INDEX IF NOT EXISTS ") || s.starts_with("DROP TABLE IF EXISTS "), "{s}");
        }
        assert!(all.iter().any(|s| s.starts_with("CREATE TABLE IF NOT EXISTS merchant_suspensions")));
        assert!(all.iter().any(|s| s == "DROP TABLE IF EXISTS idempotency"));
        assert!(all.iter().any(|s| s.starts_with("CREATE TABLE IF NOT EXISTS merchant_contracts")));
        assert!(all.iter().any(|s| s.starts_with("CREATE INDEX IF NOT EXISTS operator_audit_at")));
        assert!(all.iter().any(|s| s.starts_with("CREATE TABLE IF NOT EXISTS admin_lockouts")));
        assert!(all.iter().any(|s| s.starts_with("CREATE TABLE IF NOT EXISTS merchant_recurring")));
        assert!(all.iter().any(|s| s.starts_with("CREATE TABLE IF NOT EXISTS admin_users")));
        assert!(all.last().unwrap().starts_with("CREATE INDEX IF NOT EXISTS admin_audit_by_merchant"));
        // Names are wrangler's: NNNN_name.sql, in order.
        let names: Vec<&str> = MIGRATIONS.iter().map(|(n, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(statements("-- c\nCREATE TABLE IF NOT EXISTS a (x);\n\nDROP TABLE IF EXISTS b;\n"), vec!["CREATE TABLE IF NOT EXISTS a (x)", "DROP TABLE IF EXISTS b"]);
    }

    #[test]
    fn every_migration_file_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        files.sort();
        assert_eq!(files, MIGRATIONS.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>());
    }
}
