//! The au Kantan Kessai sandbox: KDDI's side of the protocol.
//!
//! * Server to server (signed `x-au-*` headers, JSON): start a payment,
//!   ask its status, capture (settle) specified sales, cancel, refund —
//!   enforcing the same deadlines as the payment object
//!   (`shared::au`), on the sandbox clock.
//! * Shopper pages, like KDDI's own (plain HTML forms, no script needed):
//!   `authorize` (the first visit records the start), au ID login, choice
//!   of au phone bill / UQ mobile bill / au PAY balance / au PAY card and
//!   confirmation, then a signed result form posted back to the merchant's
//!   return URL. A shopper whose OpenID the merchant passed skips the
//!   login. The shopper may cancel on every page.
//!
//! KDDI's status of one capture, cancel or refund (signed): `GET
//! /api/v1/payments/{id}/operations/{idempotency_key}`. Faults on demand
//! by amount ([`super::faults`]) on the start (keyed by `service_ref`)
//! and on captures, cancels (the transaction's amount) and refunds.
//!
//! Test accounts (PRODUCT §9), any non-empty password: `au-ok` (or
//! `au-ok-<anything>`, each its own shopper) pays; `au-limit`,
//! `au-overdue`, `au-restricted` are declined for credit limit exceeded,
//! overdue payment, user restriction.

use serde::{Deserialize, Serialize};
use shared::au::{self, AuPaymentMethod, Decline, ResultFields};
use shared::money::Yen;
use shared::time::UnixTime;
use shared::url::HttpUrl;
use worker::{Request, Response, Storage};

use crate::config::Config;
use crate::html::{self, escape};
use crate::util::{self, json};

use super::faults::{self, Fault};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum State {
    /// Started by the merchant; the shopper has not arrived yet.
    Created,
    /// The shopper is on the login page.
    Started,
    /// Logged in (or linked): on the confirmation page.
    LoggedIn,
    /// Paid, specified sales: waiting for capture.
    Authorized,
    /// Paid and captured (automatic sales, or captured later).
    Captured,
    /// An authorization cancelled by the merchant.
    Voided,
    /// Declined, cancelled by the shopper or the merchant, or too late.
    Closed,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct Tx {
    id: String,
    service_ref: String,
    amount: u64,
    item_name: String,
    sales_mode: String,
    return_url: String,
    limit_at: i64,
    open_id_hint: Option<String>,
    /// The shopper was recognised by the OpenID (no login).
    #[serde(default)]
    linked: bool,
    created_at: i64,
    /// KDDI's dispute state: `investigation`, `cleared` or `chargeback`.
    #[serde(default)]
    dispute: Option<String>,
    state: State,
    /// `one_time` (or empty), `recurring_simple` or `recurring_fixed`: a
    /// recurring registration leaves a continuation (the shopper's consent)
    /// the merchant charges later.
    #[serde(default)]
    billing: String,
    started_at: Option<i64>,
    au_id: Option<String>,
    /// Binds the confirmation form to the login that opened it.
    ticket: Option<String>,
    /// The shopper's result once final: `OK`, `NG`, `CANCEL`, `TIMEOUT`.
    result: Option<String>,
    error_code: Option<String>,
    payment_method: Option<String>,
    open_id: Option<String>,
    completed_at: Option<i64>,
    authorized: u64,
    captured: u64,
    captured_at: Option<i64>,
    refunded: u64,
}

impl Tx {
    fn open(&self) -> bool {
        matches!(self.state, State::Created | State::Started | State::LoggedIn)
    }

    fn close(&mut self, result: &str, error_code: Option<&str>, now: i64) {
        self.state = State::Closed;
        self.result = Some(result.into());
        self.error_code = error_code.map(Into::into);
        self.completed_at = Some(now);
        self.ticket = None;
    }

    /// KDDI's clock rules: a shopper who has not started by the due date,
    /// or not finished 4 minutes after starting, is out of time.
    fn tick(&mut self, now: i64) -> bool {
        let late = match (self.state, self.started_at) {
            (State::Created, _) => now > self.limit_at,
            (State::Started | State::LoggedIn, Some(s)) => now > au::complete_deadline(s),
            _ => false,
        };
        if late {
            let why = if self.state == State::Created { "not_started_by_due_date" } else { "not_completed_within_4_minutes" };
            self.close("TIMEOUT", Some(why), now);
        }
        late
    }

    fn result_fields(&self, config: &Config, now: i64) -> ResultFields {
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        let time = |t: Option<i64>| t.map(|t| t.to_string()).unwrap_or_default();
        ResultFields {
            merchant_code: config.au.merchant_code.clone(),
            transaction_id: self.id.clone(),
            service_ref: self.service_ref.clone(),
            result: opt(&self.result),
            error_code: opt(&self.error_code),
            payment_method: opt(&self.payment_method),
            open_id: opt(&self.open_id),
            amount: self.amount.to_string(),
            started_at: time(self.started_at),
            completed_at: time(self.completed_at),
            timestamp: now.to_string(),
        }
    }
}

/// A recurring registration's consent: what the merchant charges later
/// (KDDI's "recurring charge" purchase requests), keyed by the
/// registration's transaction id.
#[derive(Serialize, Deserialize, Clone, Debug)]
struct Continuation {
    id: String,
    kind: shared::recurring::Kind,
    au_id: String,
    /// The source the shopper chose at registration.
    source: String,
    active: bool,
    created_at: i64,
    cancelled_at: Option<i64>,
    /// Every charge: (service_ref, transaction id, amount, state).
    charges: Vec<ChargeRecord>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct ChargeRecord {
    service_ref: String,
    transaction_id: String,
    amount: u64,
    result: String,
    at: i64,
}

#[derive(Deserialize)]
struct ChargeRequest {
    merchant_code: String,
    service_ref: String,
    amount: u64,
    item_name: String,
    sales_mode: String,
}

async fn set_standing(storage: &Storage, au_id: &str, body: &str) -> worker::Result<Response> {
    #[derive(Deserialize)]
    struct Standing {
        standing: String,
    }
    let Ok(st) = serde_json::from_str::<Standing>(body) else { return ng(400, "E_BAD_REQUEST", "{standing: ok|limit_exceeded|overdue|restricted}") };
    if st.standing != "ok" && Decline::from_wire(&st.standing).is_none() {
        return ng(400, "E_BAD_REQUEST", "standing is ok, limit_exceeded, overdue or restricted");
    }
    storage.put(&format!("standing:{au_id}"), &st.standing).await?;
    json(200, &serde_json::json!({"au_id": au_id, "standing": st.standing}))
}

/// A test account's standing, as the sandbox control set it.
async fn standing(storage: &Storage, au_id: &str) -> worker::Result<Option<Result<(), Decline>>> {
    let base = account(au_id);
    Ok(match storage.get::<String>(&format!("standing:{au_id}")).await? {
        Some(s) if base.is_some() => Some(Decline::from_wire(&s).map_or(Ok(()), Err)),
        _ => base,
    })
}

/// KDDI's recurring purchases on a continuation: charge (simple: automatic
/// sales; fixed term: specified sales), the status of a charge by its
/// `service_ref`, and the end of the continuation.
async fn continuation_api(storage: &Storage, config: &Config, now: i64, method: worker::Method, rest: &str, body: &str) -> worker::Result<Response> {
    let (id, op) = rest.split_once('/').unwrap_or((rest, ""));
    let key = format!("cont:{id}");
    let Some(mut c) = storage.get::<Continuation>(&key).await? else { return ng(404, "E_NOT_FOUND", "no such continuation") };
    match (method, op) {
        (worker::Method::Post, "cancel") => {
            if c.active {
                c.active = false;
                c.cancelled_at = Some(now);
                storage.put(&key, &c).await?;
            }
            json(200, &serde_json::json!({"result": "OK", "continuation_id": c.id, "active": false, "operation_id": format!("aucancel_{}", c.id)}))
        }
        (worker::Method::Get, op) if op.starts_with("charges/") => {
            let service_ref = &op["charges/".len()..];
            match c.charges.iter().find(|r| r.service_ref == service_ref) {
                Some(r) => json(200, &serde_json::json!({"result": "OK", "transaction_id": r.transaction_id, "charge": r.result, "amount": r.amount})),
                None => ng(404, "E_NOT_FOUND", "no charge with this service_ref"),
            }
        }
        (worker::Method::Post, "charges") => {
            let Ok(r) = serde_json::from_str::<ChargeRequest>(body) else { return ng(400, "E_BAD_REQUEST", "{merchant_code, service_ref, amount, item_name, sales_mode}") };
            if r.merchant_code != config.au.merchant_code || r.service_ref.is_empty() || r.service_ref.len() > 64 {
                return ng(400, "E_BAD_REQUEST", "merchant_code and service_ref (at most 64 characters) are required");
            }
            // The same service_ref is the same charge.
            if let Some(done) = c.charges.iter().find(|x| x.service_ref == r.service_ref) {
                if done.amount != r.amount {
                    return ng(409, "E_DUPLICATE", "service_ref was used for another charge");
                }
                return charge_answer(done);
            }
            if r.amount == 0 || r.amount > shared::money::MAX_YEN {
                return ng(422, "E_AMOUNT", "amount must be 1 to 9,999,999 yen");
            }
            if !au::item_name_fits(&r.item_name) {
                return ng(422, "E_ITEM_NAME_TOO_LONG", "item_name is 1 to 20 double-byte characters");
            }
            let expected = if c.kind == shared::recurring::Kind::Simple { "auto" } else { "specified" };
            if r.sales_mode != expected {
                return ng(422, "E_SALES_MODE", "simple recurring charges are automatic sales; fixed-term ones specified sales");
            }
            if !c.active {
                return ng(409, "E_CONTINUATION_ENDED", "the continuation was cancelled");
            }
            let fault = faults::take(storage, "au:charge", &r.service_ref, r.amount).await?;
            if fault == Some(Fault::ErrorBefore) {
                return faults::server_error();
            }
            let decline = match standing(storage, &c.au_id).await? {
                Some(Ok(())) => None,
                Some(Err(d)) => Some(d),
                None => Some(Decline::Restricted),
            };
            let mut tx = Tx {
                id: util::new_id("au"),
                service_ref: r.service_ref.clone(),
                amount: r.amount,
                item_name: r.item_name,
                sales_mode: r.sales_mode,
                return_url: String::new(),
                limit_at: now,
                open_id_hint: None,
                linked: true,
                created_at: now,
                dispute: None,
                state: State::Closed,
                billing: format!("recurring_{}", c.kind.code()),
                started_at: Some(now),
                au_id: Some(c.au_id.clone()),
                ticket: None,
                result: None,
                error_code: None,
                payment_method: Some(c.source.clone()),
                open_id: Some(open_id_of(config, &c.au_id)),
                completed_at: Some(now),
                authorized: 0,
                captured: 0,
                captured_at: None,
                refunded: 0,
            };
            match decline {
                None => {
                    tx.result = Some("OK".into());
                    tx.authorized = tx.amount;
                    if tx.sales_mode == "auto" {
                        tx.state = State::Captured;
                        tx.captured = tx.amount;
                        tx.captured_at = Some(now);
                    } else {
                        tx.state = State::Authorized;
                    }
                }
                Some(d) => tx.close("NG", Some(d.wire()), now),
            }
            let record = ChargeRecord {
                service_ref: r.service_ref,
                transaction_id: tx.id.clone(),
                amount: tx.amount,
                result: match (tx.state, &tx.error_code) {
                    (State::Captured, _) => "captured".into(),
                    (State::Authorized, _) => "authorized".into(),
                    (_, code) => format!("declined:{}", code.clone().unwrap_or_default()),
                },
                at: now,
            };
            save(storage, &tx).await?;
            c.charges.push(record.clone());
            storage.put(&key, &c).await?;
            faults::deliver(fault, charge_answer(&record), config.au.timeout_ms).await
        }
        _ => ng(404, "E_NOT_FOUND", "no such endpoint"),
    }
}

async fn seed_continuations(storage: &Storage, now: i64, body: &str) -> worker::Result<Response> {
    #[derive(Deserialize)]
    struct Seed {
        ids: Vec<String>,
        kind: shared::recurring::Kind,
    }
    let Ok(seed) = serde_json::from_str::<Seed>(body) else { return ng(400, "E_BAD_REQUEST", "{ids: [...], kind: simple|fixed}") };
    if seed.ids.len() > 1000 || seed.ids.iter().any(|i| i.is_empty() || i.len() > 64) {
        return ng(400, "E_BAD_REQUEST", "at most 1000 ids of 1 to 64 characters");
    }
    for id in &seed.ids {
        let c = Continuation {
            id: id.clone(),
            kind: seed.kind,
            au_id: format!("au-ok-{id}"),
            source: "au_phone_bill".into(),
            active: true,
            created_at: now,
            cancelled_at: None,
            charges: vec![],
        };
        storage.put(&format!("cont:{id}"), &c).await?;
    }
    json(201, &serde_json::json!({"seeded": seed.ids.len()}))
}

async fn ledger(storage: &Storage) -> worker::Result<Response> {
    let opts = worker::ListOptions::new().prefix("cont:");
    let map = storage.list_with_options(opts).await?;
    let (mut continuations, mut charges, mut captured, mut duplicates, mut amount) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for entry in map.values() {
        let Ok(v) = entry else { continue };
        let Ok(c) = serde_wasm_bindgen::from_value::<Continuation>(v) else { continue };
        continuations += 1;
        charges += c.charges.len() as u64;
        let mut seen: Vec<&str> = vec![];
        for r in c.charges.iter().filter(|r| r.result == "captured" || r.result == "authorized") {
            captured += 1;
            amount += r.amount;
            let payment = r.service_ref.rsplit_once('-').map_or(r.service_ref.as_str(), |(p, _)| p);
            if seen.contains(&payment) {
                duplicates += 1;
            }
            seen.push(payment);
        }
    }
    json(200, &serde_json::json!({"continuations": continuations, "charges": charges, "charged": captured, "charged_yen": amount, "duplicates": duplicates}))
}

fn charge_answer(r: &ChargeRecord) -> worker::Result<Response> {
    match r.result.strip_prefix("declined:") {
        Some(code) => json(402, &serde_json::json!({"result": "NG", "error_code": code, "transaction_id": r.transaction_id,
            "message": "KDDI declined the charge"})),
        None => json(200, &serde_json::json!({"result": "OK", "transaction_id": r.transaction_id, "charge": r.result, "amount": r.amount})),
    }
}

/// What a test account does at payment.
fn account(au_id: &str) -> Option<Result<(), Decline>> {
    match au_id {
        "au-limit" => Some(Err(Decline::LimitExceeded)),
        "au-overdue" => Some(Err(Decline::Overdue)),
        "au-restricted" => Some(Err(Decline::Restricted)),
        id if id == "au-ok" || (id.starts_with("au-ok-") && id.len() <= 64) => Some(Ok(())),
        _ => None,
    }
}

/// The shopper's OpenID for this merchant (pairwise, as OpenID Connect
/// issues them).
fn open_id_of(config: &Config, au_id: &str) -> String {
    let mac = shared::signing::hmac_sha256(config.au.secret.as_bytes(), format!("openid:{}:{au_id}", config.au.merchant_code).as_bytes());
    format!("oid_{}", &shared::signing::hex(&mac)[..32])
}

fn ng(status: u16, code: &str, message: &str) -> worker::Result<Response> {
    json(status, &serde_json::json!({"result": "NG", "error_code": code, "message": message}))
}

async fn load(storage: &Storage, id: &str) -> worker::Result<Option<Tx>> {
    if id.is_empty() || id.len() > 64 {
        return Ok(None);
    }
    storage.get::<Tx>(&format!("tx:{id}")).await
}

async fn save(storage: &Storage, tx: &Tx) -> worker::Result<()> {
    storage.put(&format!("tx:{}", tx.id), tx).await
}

#[derive(Deserialize)]
struct StartRequest {
    merchant_code: String,
    service_ref: String,
    amount: u64,
    item_name: String,
    sales_mode: String,
    return_url: String,
    limit_at: i64,
    open_id: Option<String>,
    #[serde(default)]
    billing: Option<String>,
}

#[derive(Deserialize)]
struct OpRequest {
    merchant_code: String,
    idempotency_key: String,
    #[serde(default)]
    amount: Option<u64>,
}

/// Serves one call to the au sandbox (`path` without `/sandbox/au`). `now`
/// is the sandbox clock (business time).
pub async fn handle(storage: &Storage, config: &Config, now: i64, req: &Request, path: &str, query: &str, body: &str) -> worker::Result<Response> {
    let method = req.method();
    match (method.clone(), path) {
        (worker::Method::Get, "/au.css") => {
            let mut r = Response::ok(STYLE)?;
            r.headers_mut().set("content-type", "text/css; charset=utf-8")?;
            return Ok(r);
        }
        (worker::Method::Get, "/authorize") => return authorize(storage, config, now, query).await,
        (worker::Method::Post, "/login") => return login(storage, config, now, body).await,
        (worker::Method::Post, "/complete") => return complete(storage, config, now, body).await,
        _ => {}
    }
    // Sandbox control, not KDDI's API: open an unauthorized-use
    // investigation, clear it, or charge a sale back, as KDDI may do, and
    // notify the merchant's system.
    if let (worker::Method::Post, Some(id)) = (method.clone(), path.strip_prefix("/disputes/")) {
        return dispute(storage, config, now, id, body).await;
    }
    // Sandbox control: a shopper's standing at KDDI from now on (a credit
    // limit reached, a bill overdue, a restriction, or good again), and a
    // view of a continuation with its charges.
    if let (worker::Method::Post, Some(au_id)) = (method.clone(), path.strip_prefix("/accounts/")) {
        return set_standing(storage, au_id, body).await;
    }
    // Seeds continuations in bulk (the billing benchmark and the scale
    // test: subscriptions without a shopper on KDDI's pages), and sums up
    // the ledger: every charge, and duplicates (a cycle's payment charged
    // more than once).
    if (method.clone(), path) == (worker::Method::Post, "/continuations") {
        return seed_continuations(storage, now, body).await;
    }
    if (method.clone(), path) == (worker::Method::Get, "/ledger") {
        return ledger(storage).await;
    }
    if let (worker::Method::Get, Some(id)) = (method.clone(), path.strip_prefix("/continuations/")) {
        return match storage.get::<Continuation>(&format!("cont:{id}")).await? {
            Some(c) => json(200, &c),
            None => ng(404, "E_NOT_FOUND", "no such continuation"),
        };
    }
    if !path.starts_with("/api/") {
        return page_error(404, "ページが見つかりません。", "Page not found.");
    }
    if let Some(refusal) = crate::connectors::verify_signed("au", req, path, body, &config.au.merchant_code, &config.au.secret, util::now().0) {
        return refusal;
    }
    if path == "/api/v1/payments" && method == worker::Method::Post {
        return start(storage, config, now, body).await;
    }
    if let Some(rest) = path.strip_prefix("/api/v1/continuations/") {
        return continuation_api(storage, config, now, method, rest, body).await;
    }
    let Some(rest) = path.strip_prefix("/api/v1/payments/") else { return ng(404, "E_NOT_FOUND", "no such endpoint") };
    let (id, op) = rest.split_once('/').unwrap_or((rest, ""));
    let Some(mut tx) = load(storage, id).await? else { return ng(404, "E_NOT_FOUND", "no such transaction") };
    if tx.tick(now) {
        save(storage, &tx).await?;
    }
    match (method, op) {
        (worker::Method::Get, "") => status_answer(config, &tx, now),
        (worker::Method::Post, "capture" | "cancel" | "refunds") => operation(storage, config, now, tx, op, body).await,
        // KDDI's status of one capture, cancel or refund, by the
        // idempotency key it was sent with.
        (worker::Method::Get, op) if op.starts_with("operations/") => {
            let key = &op["operations/".len()..];
            match storage.get::<serde_json::Value>(&format!("idem:{}:{key}", tx.id)).await? {
                Some(answer) => json(200, &answer),
                None => ng(404, "E_NOT_FOUND", "no operation with this idempotency key"),
            }
        }
        _ => ng(404, "E_NOT_FOUND", "no such endpoint"),
    }
}

async fn start(storage: &Storage, config: &Config, now: i64, body: &str) -> worker::Result<Response> {
    let Ok(r) = serde_json::from_str::<StartRequest>(body) else { return ng(400, "E_BAD_REQUEST", "not a payment start request") };
    if r.merchant_code != config.au.merchant_code || r.service_ref.is_empty() || r.service_ref.len() > 64 {
        return ng(400, "E_BAD_REQUEST", "merchant_code and service_ref (at most 64 characters) are required");
    }
    let billing = r.billing.clone().unwrap_or_default();
    if !matches!(billing.as_str(), "" | "one_time" | "recurring_simple" | "recurring_fixed") {
        return ng(400, "E_BAD_REQUEST", "billing is one_time, recurring_simple or recurring_fixed");
    }
    // A recurring registration may charge nothing (consent only).
    let min = if billing.starts_with("recurring_") { 0 } else { 1 };
    if r.amount < min || r.amount > shared::money::MAX_YEN {
        return ng(422, "E_AMOUNT", "amount must be 1 to 9,999,999 yen (0 for a recurring registration without a charge)");
    }
    if !au::item_name_fits(&r.item_name) {
        return ng(422, "E_ITEM_NAME_TOO_LONG", "item_name is 1 to 20 double-byte characters");
    }
    if !matches!(r.sales_mode.as_str(), "auto" | "specified") || HttpUrl::parse(&r.return_url).is_none() {
        return ng(400, "E_BAD_REQUEST", "sales_mode is auto or specified; return_url is an absolute http(s) URL");
    }
    let login_url = |id: &str| format!("{}/authorize?tx={id}", config.au.base_url);
    // The start is idempotent per service_ref.
    let ref_key = format!("ref:{}", r.service_ref);
    if let Some(id) = storage.get::<String>(&ref_key).await? {
        if let Some(tx) = load(storage, &id).await? {
            if tx.amount != r.amount || tx.return_url != r.return_url {
                return ng(409, "E_DUPLICATE", "service_ref was used for another payment");
            }
            return json(201, &serde_json::json!({"result": "OK", "transaction_id": tx.id, "login_url": login_url(&tx.id), "limit_at": tx.limit_at}));
        }
    }
    let fault = faults::take(storage, "au:start", &r.service_ref, r.amount).await?;
    if fault == Some(Fault::ErrorBefore) {
        return faults::server_error();
    }
    let tx = Tx {
        id: util::new_id("au"),
        service_ref: r.service_ref,
        amount: r.amount,
        item_name: r.item_name,
        sales_mode: r.sales_mode,
        return_url: r.return_url,
        limit_at: r.limit_at,
        open_id_hint: r.open_id.filter(|o| !o.is_empty()),
        linked: false,
        created_at: now,
        dispute: None,
        state: State::Created,
        billing,
        started_at: None,
        au_id: None,
        ticket: None,
        result: None,
        error_code: None,
        payment_method: None,
        open_id: None,
        completed_at: None,
        authorized: 0,
        captured: 0,
        captured_at: None,
        refunded: 0,
    };
    save(storage, &tx).await?;
    storage.put(&ref_key, &tx.id).await?;
    let answer = json(201, &serde_json::json!({"result": "OK", "transaction_id": tx.id, "login_url": login_url(&tx.id), "limit_at": tx.limit_at}));
    faults::deliver(fault, answer, config.au.timeout_ms).await
}

fn status_answer(config: &Config, tx: &Tx, now: i64) -> worker::Result<Response> {
    if tx.open() {
        return json(
            200,
            &serde_json::json!({"result": "OK", "transaction_id": tx.id, "state": "open",
                "login_url": format!("{}/authorize?tx={}", config.au.base_url, tx.id), "started_at": tx.started_at}),
        );
    }
    json(
        200,
        &serde_json::json!({"result": "OK", "transaction_id": tx.id, "state": "final", "outcome": tx.result_fields(config, now),
            "authorized": tx.authorized, "captured": tx.captured, "refunded": tx.refunded, "dispute": tx.dispute}),
    )
}

/// Capture, cancel and refund, idempotent per key, with KDDI's deadlines.
async fn operation(storage: &Storage, config: &Config, now: i64, tx: Tx, op: &str, body: &str) -> worker::Result<Response> {
    let Ok(r) = serde_json::from_str::<OpRequest>(body) else { return ng(400, "E_BAD_REQUEST", "{merchant_code, idempotency_key, amount?}") };
    if r.merchant_code != config.au.merchant_code || r.idempotency_key.is_empty() || r.idempotency_key.len() > 128 {
        return ng(400, "E_BAD_REQUEST", "merchant_code and idempotency_key are required");
    }
    let idem = format!("idem:{}:{}", tx.id, r.idempotency_key);
    if let Some(answer) = storage.get::<serde_json::Value>(&idem).await? {
        return json(200, &answer);
    }
    // The fault value is the operation's amount; a cancel has none: the
    // transaction's.
    let fault_amount = match op {
        "capture" => r.amount.unwrap_or(tx.authorized),
        "cancel" => tx.amount,
        _ => r.amount.unwrap_or(tx.captured.saturating_sub(tx.refunded)),
    };
    let fault = faults::take(storage, &format!("au:{op}"), &format!("{}:{}", tx.id, r.idempotency_key), fault_amount).await?;
    if fault == Some(Fault::ErrorBefore) {
        return faults::server_error();
    }
    faults::deliver(fault, perform(storage, now, tx, op, r, idem).await, config.au.timeout_ms).await
}

async fn perform(storage: &Storage, now: i64, mut tx: Tx, op: &str, r: OpRequest, idem: String) -> worker::Result<Response> {
    let rule = |e: au::RuleRefusal| {
        let code = if matches!(e, au::RuleRefusal::PartialRefundTooEarly { .. }) { "E_PARTIAL_REFUND_TOO_EARLY" } else { "E_DEADLINE" };
        ng(422, code, &e.message())
    };
    let completed = UnixTime(tx.completed_at.unwrap_or(tx.created_at));
    match op {
        "capture" => {
            if tx.state != State::Authorized {
                return ng(409, "E_STATE", "only an authorization of specified sales can be captured");
            }
            let amount = r.amount.unwrap_or(tx.authorized);
            if amount == 0 || amount > tx.authorized {
                return ng(422, "E_AMOUNT", "the capture amount is 1 yen to the authorized amount");
            }
            if let Err(e) = au::check_settle(completed, UnixTime(now)) {
                return rule(e);
            }
            tx.state = State::Captured;
            tx.captured = amount;
            tx.captured_at = Some(now);
        }
        "cancel" => match tx.state {
            State::Authorized => {
                if let Err(e) = au::check_cancel(completed, UnixTime(now)) {
                    return rule(e);
                }
                tx.state = State::Voided;
            }
            State::Created | State::Started | State::LoggedIn => tx.close("CANCEL", Some("cancelled_by_merchant"), now),
            State::Captured => return ng(409, "E_STATE", "the payment is captured: refund it instead"),
            // Nothing was taken: nothing to cancel.
            State::Voided | State::Closed => {}
        },
        _ => {
            if tx.state != State::Captured {
                return ng(409, "E_STATE", "only a captured payment can be refunded");
            }
            let remaining = tx.captured - tx.refunded;
            let amount = r.amount.unwrap_or(remaining);
            if amount == 0 || amount > remaining {
                return ng(422, "E_AMOUNT", &format!("the refund amount is 1 to {remaining} yen"));
            }
            if let Err(e) = au::check_refund(UnixTime(tx.captured_at.unwrap_or(now)), UnixTime(now), amount < remaining) {
                return rule(e);
            }
            tx.refunded += amount;
        }
    }
    let answer = serde_json::json!({"result": "OK", "transaction_id": tx.id, "operation_id": util::new_id("auop"), "operation": op,
        "idempotency_key": r.idempotency_key, "authorized": tx.authorized, "captured": tx.captured, "refunded": tx.refunded});
    save(storage, &tx).await?;
    storage.put(&idem, &answer).await?;
    json(200, &answer)
}

// ---- shopper pages ----

fn form_of(body: &str) -> Vec<(String, String)> {
    util::parse_form(body).unwrap_or_default()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn document(title: &str, main: &str) -> String {
    format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"au.css\"></head>\
         <body><header class=\"au-bar\"><span class=\"au-logo\">au</span> かんたん決済 <span class=\"au-sandbox\">SANDBOX</span></header>\
         <main class=\"au-main\">{main}</main>\
         <footer class=\"au-foot\">KDDI au Kantan Kessai — sandbox / テスト環境</footer></body></html>",
        title = escape(title)
    )
}

fn page(status: u16, title: &str, main: &str, form_action: &str) -> worker::Result<Response> {
    html::page(status, document(title, main), form_action)
}

fn page_error(status: u16, ja: &str, en: &str) -> worker::Result<Response> {
    let main = format!(
        "<section class=\"au-card\" role=\"alert\"><h1>エラー / Error</h1><p>{}</p><p lang=\"en\">{}</p></section>",
        escape(ja),
        escape(en)
    );
    page(status, "エラー / Error | auかんたん決済", &main, "'none'")
}

fn summary(tx: &Tx) -> String {
    let shown = au::shown_item_name(&tx.item_name);
    format!(
        "<dl class=\"au-summary\"><dt>ご購入内容 / Item</dt><dd id=\"au-item\">{}</dd>\
         <dt>お支払い金額 / Amount</dt><dd id=\"au-amount\">{} 円</dd></dl>",
        escape(shown),
        Yen::new(tx.amount).grouped()
    )
}

fn deadline_note(tx: &Tx) -> String {
    match tx.started_at {
        Some(s) => {
            let t = UnixTime(au::complete_deadline(s)).jst();
            format!(
                "<p class=\"au-note\" id=\"au-deadline\">{:02}:{:02}:{:02} までに手続きを完了してください（開始から4分以内）。<br>\
                 <span lang=\"en\">Complete by {:02}:{:02}:{:02} JST (within 4 minutes of starting).</span></p>",
                t.hour, t.minute, t.second, t.hour, t.minute, t.second
            )
        }
        None => String::new(),
    }
}

fn cancel_form(tx: &Tx) -> String {
    format!(
        "<form method=\"post\" action=\"complete\" class=\"au-cancel-form\"><input type=\"hidden\" name=\"tx\" value=\"{}\">\
         <button type=\"submit\" name=\"action\" value=\"cancel\" id=\"au-cancel\" class=\"au-secondary\">\
         キャンセルしてショップに戻る / Cancel and go back</button></form>",
        escape(&tx.id)
    )
}

fn login_page(tx: &Tx, error: Option<(&str, &str)>, au_id: &str) -> worker::Result<Response> {
    let error = error
        .map(|(ja, en)| format!("<p class=\"au-error\" id=\"au-error\" role=\"alert\">{}<br><span lang=\"en\">{}</span></p>", escape(ja), escape(en)))
        .unwrap_or_default();
    let main = format!(
        "<section class=\"au-card\"><h1>au ID でログイン<span lang=\"en\" class=\"au-en\">Log in with your au ID</span></h1>{summary}{error}\
         <form method=\"post\" action=\"login\" class=\"au-form\"><input type=\"hidden\" name=\"tx\" value=\"{tx}\">\
         <label for=\"au-id\">au ID <span lang=\"en\">/ au ID</span></label>\
         <input id=\"au-id\" name=\"au_id\" type=\"text\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required value=\"{au_id}\">\
         <label for=\"au-password\">パスワード <span lang=\"en\">/ Password</span></label>\
         <input id=\"au-password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\" id=\"au-login\" class=\"au-primary\">ログイン / Log in</button></form>{deadline}{cancel}\
         <p class=\"au-hint\">テスト用 au ID / Test au IDs: <code>au-ok</code>, <code>au-limit</code>, <code>au-overdue</code>, <code>au-restricted</code></p></section>",
        summary = summary(tx),
        tx = escape(&tx.id),
        au_id = escape(au_id),
        deadline = deadline_note(tx),
        cancel = cancel_form(tx),
    );
    page(if error.is_empty() { 200 } else { 401 }, "ログイン / Log in | auかんたん決済", &main, "'self'")
}

/// The sources the shopper may choose: all for one-time payments; for
/// recurring billing the seed's notes ※2 and ※3.
fn sources(tx: &Tx) -> Vec<AuPaymentMethod> {
    AuPaymentMethod::ALL.into_iter().filter(|m| kind_of(tx).is_none_or(|k| shared::recurring::au_source_allowed(k, *m))).collect()
}

fn kind_of(tx: &Tx) -> Option<shared::recurring::Kind> {
    match tx.billing.as_str() {
        "recurring_simple" => Some(shared::recurring::Kind::Simple),
        "recurring_fixed" => Some(shared::recurring::Kind::Fixed),
        _ => None,
    }
}

fn consent_note(tx: &Tx) -> &'static str {
    match kind_of(tx) {
        Some(shared::recurring::Kind::Simple) => "<p class=\"au-note\" id=\"au-consent\">毎月1日に自動で課金される継続課金に申し込みます（ショップのマイページから解約できます）。<br>\
            <span lang=\"en\">You sign up for a monthly charge billed on the 1st (cancel any time from the shop's my page).</span></p>",
        Some(shared::recurring::Kind::Fixed) => "<p class=\"au-note\" id=\"au-consent\">ショップの請求に応じて課金される継続課金（定期・従量）に申し込みます。今は課金されません。<br>\
            <span lang=\"en\">You sign up for recurring charges the shop bills as described (fixed term / pay as you go). Nothing is charged now.</span></p>",
        None => "",
    }
}

fn confirm_page(tx: &Tx, linked: bool) -> worker::Result<Response> {
    let options: String = sources(tx)
        .iter()
        .enumerate()
        .map(|(i, m)| {
            format!(
                "<div class=\"au-option\"><input type=\"radio\" name=\"payment_method\" id=\"pm-{code}\" value=\"{code}\"{checked}>\
                 <label for=\"pm-{code}\">{ja} <span lang=\"en\">/ {en}</span></label></div>",
                code = m.code(),
                checked = if i == 0 { " checked" } else { "" },
                ja = m.label_ja(),
                en = m.label_en()
            )
        })
        .collect();
    let who = if linked {
        "<p class=\"au-note\" id=\"au-linked\">ショップに連携済みの au ID でお支払いします（ログイン不要）。<br>\
         <span lang=\"en\">Paying with the au ID linked to this shop (no login needed).</span></p>"
    } else {
        ""
    };
    let main = format!(
        "<section class=\"au-card\"><h1>お支払い内容の確認<span lang=\"en\" class=\"au-en\">Confirm your payment</span></h1>{who}{summary}{consent}\
         <form method=\"post\" action=\"complete\" class=\"au-form\"><input type=\"hidden\" name=\"tx\" value=\"{tx}\">\
         <input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
         <fieldset><legend>お支払い方法 / Payment method</legend>{options}</fieldset>\
         <button type=\"submit\" name=\"action\" value=\"pay\" id=\"au-pay\" class=\"au-primary\">支払う / Pay</button></form>\
         {deadline}{cancel}</section>",
        summary = summary(tx),
        consent = consent_note(tx),
        tx = escape(&tx.id),
        ticket = escape(tx.ticket.as_deref().unwrap_or("")),
        deadline = deadline_note(tx),
        cancel = cancel_form(tx),
    );
    page(200, "確認 / Confirm | auかんたん決済", &main, "'self'")
}

/// Sends the shopper back to the merchant with the signed result: a form
/// posted by `/autosubmit.js`, with a visible button when scripts do not run.
fn result_page(config: &Config, tx: &Tx, now: i64) -> worker::Result<Response> {
    let pairs = tx.result_fields(config, now).signed_pairs(config.au.secret.as_bytes());
    let inputs: String =
        pairs.iter().map(|(n, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(n), escape(v))).collect();
    let (ja, en) = match tx.result.as_deref() {
        Some("OK") => ("お支払いが完了しました。", "Your payment is complete."),
        Some("CANCEL") => ("お支払いをキャンセルしました。", "You cancelled the payment."),
        Some("TIMEOUT") => ("お支払いの期限を過ぎました。", "The time to pay has passed."),
        _ => ("お支払いできませんでした。", "The payment could not be made."),
    };
    let main = format!(
        "<section class=\"au-card\"><h1 id=\"au-result\">{ja}</h1><p lang=\"en\">{en}</p>\
         <form id=\"return-form\" method=\"post\" action=\"{action}\">{inputs}\
         <button type=\"submit\" class=\"au-primary\" id=\"return-button\">ショップに戻る / Back to the shop</button></form></section>\
         <script src=\"/autosubmit.js\"></script>",
        ja = escape(ja),
        en = escape(en),
        action = escape(&tx.return_url),
    );
    let origin = HttpUrl::parse(&tx.return_url).map(|u| u.origin()).unwrap_or_else(|| "'none'".into());
    // The origin with the default port is also written without it, as
    // browsers compare them.
    let origin_no_port = HttpUrl::parse(&tx.return_url).map(|u| format!("{}://{}", u.scheme(), u.host())).unwrap_or_default();
    page(200, "ショップに戻ります / Returning to the shop | auかんたん決済", &main, &format!("{origin} {origin_no_port}"))
}

/// The first visit of the shopper: the start of the payment on the au side.
async fn authorize(storage: &Storage, config: &Config, now: i64, query: &str) -> worker::Result<Response> {
    let q = util::parse_form(query).unwrap_or_default();
    let Some(mut tx) = load(storage, field(&q, "tx")).await? else {
        return page_error(404, "お支払い情報が見つかりません。", "This payment does not exist.");
    };
    tx.tick(now);
    if !tx.open() {
        save(storage, &tx).await?;
        return result_page(config, &tx, now);
    }
    if tx.state == State::Created {
        tx.state = State::Started;
        tx.started_at = Some(now);
        if let Some(hint) = &tx.open_id_hint {
            if let Some(au_id) = storage.get::<String>(&format!("openid:{hint}")).await? {
                tx.au_id = Some(au_id);
                tx.ticket = Some(util::new_id("tk"));
                tx.state = State::LoggedIn;
                tx.linked = true;
            }
        }
    }
    save(storage, &tx).await?;
    match tx.state {
        State::LoggedIn => confirm_page(&tx, tx.linked),
        _ => login_page(&tx, None, ""),
    }
}

async fn login(storage: &Storage, config: &Config, now: i64, body: &str) -> worker::Result<Response> {
    let form = form_of(body);
    let Some(mut tx) = load(storage, field(&form, "tx")).await? else {
        return page_error(404, "お支払い情報が見つかりません。", "This payment does not exist.");
    };
    if tx.tick(now) || !tx.open() {
        save(storage, &tx).await?;
        return result_page(config, &tx, now);
    }
    if tx.state == State::Created {
        // Logged in without the authorize page: the start is now.
        tx.state = State::Started;
        tx.started_at = Some(now);
    }
    let au_id = field(&form, "au_id").trim();
    if account(au_id).is_none() || field(&form, "password").is_empty() {
        save(storage, &tx).await?;
        return login_page(&tx, Some(("au ID またはパスワードが正しくありません。", "The au ID or password is incorrect.")), au_id);
    }
    tx.au_id = Some(au_id.to_string());
    tx.ticket = Some(util::new_id("tk"));
    tx.state = State::LoggedIn;
    save(storage, &tx).await?;
    confirm_page(&tx, false)
}

async fn complete(storage: &Storage, config: &Config, now: i64, body: &str) -> worker::Result<Response> {
    let form = form_of(body);
    let Some(mut tx) = load(storage, field(&form, "tx")).await? else {
        return page_error(404, "お支払い情報が見つかりません。", "This payment does not exist.");
    };
    if tx.tick(now) || !tx.open() {
        save(storage, &tx).await?;
        return result_page(config, &tx, now);
    }
    if field(&form, "action") == "cancel" {
        tx.close("CANCEL", Some("cancelled_by_shopper"), now);
        save(storage, &tx).await?;
        return result_page(config, &tx, now);
    }
    let ticket_ok = tx.state == State::LoggedIn
        && tx.ticket.as_deref().is_some_and(|t| shared::signing::ct_eq(t.as_bytes(), field(&form, "ticket").as_bytes()));
    if !ticket_ok {
        return page_error(403, "ログインし直してください。", "Please log in again.");
    }
    let Some(method) = AuPaymentMethod::from_code(field(&form, "payment_method")).filter(|m| sources(&tx).contains(m)) else {
        return confirm_page(&tx, tx.linked);
    };
    let au_id = tx.au_id.clone().unwrap_or_default();
    match standing(storage, &au_id).await? {
        Some(Ok(())) => {
            let open_id = open_id_of(config, &au_id);
            storage.put(&format!("openid:{open_id}"), &au_id).await?;
            tx.state = if tx.sales_mode == "specified" { State::Authorized } else { State::Captured };
            tx.result = Some("OK".into());
            tx.payment_method = Some(method.code().into());
            tx.open_id = Some(open_id);
            tx.completed_at = Some(now);
            tx.authorized = tx.amount;
            if tx.state == State::Captured {
                tx.captured = tx.amount;
                tx.captured_at = Some(now);
            }
            tx.ticket = None;
            if let Some(kind) = kind_of(&tx) {
                let c = Continuation {
                    id: tx.id.clone(),
                    kind,
                    au_id: au_id.clone(),
                    source: method.code().into(),
                    active: true,
                    created_at: now,
                    cancelled_at: None,
                    charges: vec![],
                };
                storage.put(&format!("cont:{}", c.id), &c).await?;
            }
        }
        Some(Err(decline)) => {
            tx.close("NG", Some(decline.wire()), now);
            tx.payment_method = Some(method.code().into());
        }
        None => return page_error(403, "ログインし直してください。", "Please log in again."),
    }
    save(storage, &tx).await?;
    result_page(config, &tx, now)
}

/// KDDI-like look: orange bar, one column, phone first (360 px), tap
/// targets of at least 44 px.
const STYLE: &str = r#"*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#f6f6f6;color:#222;font:16px/1.6 system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",Meiryo,sans-serif}
.au-bar{background:#eb5505;color:#fff;font-weight:700;padding:12px 16px;font-size:18px}
.au-logo{display:inline-block;background:#fff;color:#eb5505;border-radius:4px;padding:0 6px;margin-right:4px}
.au-sandbox{font-size:11px;border:1px solid #fff;border-radius:3px;padding:0 4px;margin-left:6px;vertical-align:middle}
.au-main{max-width:480px;margin:0 auto;padding:12px}
.au-card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:16px}
h1{font-size:20px;margin:0 0 12px}
.au-en{display:block;font-size:14px;font-weight:400;color:#555}
.au-summary{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0 0 16px;padding:12px;background:#fff4ec;border-radius:6px}
.au-summary dt{color:#555;font-size:14px}.au-summary dd{margin:0;font-weight:700;overflow-wrap:anywhere}
.au-form{display:flex;flex-direction:column;gap:8px}
label{font-weight:600}
input[type=text],input[type=password]{width:100%;min-height:44px;padding:8px 12px;border:1px solid #888;border-radius:6px;font:inherit}
input:focus-visible,button:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
fieldset{border:1px solid #ddd;border-radius:6px;margin:0 0 8px;padding:8px 12px}
legend{font-weight:600;padding:0 4px}
.au-option{display:flex;align-items:center;gap:8px;min-height:44px}
.au-option input{flex:none;width:20px;height:20px;margin:0}
button{font:inherit;cursor:pointer;min-height:44px;border-radius:6px;width:100%}
.au-primary{background:#eb5505;color:#fff;border:0;font-weight:700;margin-top:8px}
.au-secondary{background:#fff;color:#333;border:1px solid #888;margin-top:12px}
.au-error{background:#fef3f2;border:1px solid #f4b6ae;color:#b42318;border-radius:6px;padding:8px 12px;margin:0 0 12px}
.au-note{font-size:14px;color:#444;margin:12px 0 0}
.au-hint{font-size:13px;color:#666;margin:12px 0 0;overflow-wrap:anywhere}
.au-foot{text-align:center;color:#777;font-size:12px;padding:16px}
"#;

/// Opens, clears or concludes a dispute on a sold transaction and notifies
/// the merchant's system, signed like KDDI's API calls (`x-au-*`).
async fn dispute(storage: &Storage, config: &Config, now: i64, id: &str, body: &str) -> worker::Result<Response> {
    #[derive(Deserialize)]
    struct Dispute {
        kind: String,
    }
    let Ok(d) = serde_json::from_str::<Dispute>(body) else { return ng(400, "E_BAD_REQUEST", "{kind: investigation|cleared|chargeback}") };
    if !matches!(d.kind.as_str(), "investigation" | "cleared" | "chargeback") {
        return ng(400, "E_BAD_REQUEST", "kind is investigation, cleared or chargeback");
    }
    let Some(mut tx) = load(storage, id).await? else { return ng(404, "E_NOT_FOUND", "no such transaction") };
    if tx.captured == 0 {
        return ng(409, "E_NOT_SOLD", "only a sold transaction can be disputed");
    }
    tx.dispute = Some(d.kind.clone());
    save(storage, &tx).await?;
    let notice = serde_json::json!({
        "type": "dispute",
        "transaction_id": tx.id,
        "service_ref": tx.service_ref,
        "kind": d.kind,
        "at": now,
    })
    .to_string();
    let path = crate::util::path_of(&config.au_notify_url);
    let headers = crate::connectors::signed_headers("au", &config.au, "POST", &path, &notice);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = util::send(worker::Method::Post, &config.au_notify_url, &headers, Some(notice), 10_000).await;
    json(200, &serde_json::json!({"result": "OK", "dispute": d.kind, "notified": out.status}))
}
