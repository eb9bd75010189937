//! The NP postpaid sandbox (Net Protections): credit screening, the limit
//! on a shopper's unpaid total, shipment reports that fix the sale and
//! issue the shopper's invoice, cancellation before shipment, refunds after
//! it, and signed screening notifications for held transactions.
//!
//! Test values (PRODUCT §9), by the buyer's e-mail domain: `decline.example`
//! is declined; `hold.example` is held (`pending`) and approved
//! `NP_HOLD_SECONDS` later, then NP notifies the Worker at `NP_NOTIFY_URL`
//! (Standard Webhooks, `NP_NOTIFY_SECRET`), retrying until it answers 2xx;
//! any other is approved. A shopper (e-mail + phone) may owe NP at most
//! `NP_LIMIT_YEN` (incl. tax) in transactions not cancelled or declined
//! whose invoice is not paid; a registration over it is refused with
//! `E_LIMIT_EXCEEDED`.
//!
//! NP's status queries (signed): `GET /v1/transactions/{id}` (NP's id or
//! our shop transaction id) and `GET /v1/transactions/{id}/{shipments,
//! cancel,refunds}/{idempotency_key}` (the operation's first answer).
//! Faults on demand by amount ([`super::faults`]) on registrations
//! (keyed by `shop_transaction_id`), shipment reports and cancellations
//! (the billed amount) and refunds.
//!
//! Not part of NP's API, for people and tests (unsigned):
//! * `GET /transactions/{id}` — a transaction (`id`: NP's or ours);
//! * `POST /transactions/{id}/invoice/paid` — the shopper pays the invoice,
//!   which frees the limit;
//! * `POST /screenings/{id}/decide` `{"result": "approved"|"declined",
//!   "notify": true}` — decides a held screening now (and notifies unless
//!   `notify` is false);
//! * `GET /shoppers?email=…&phone=…` — a shopper's unpaid total.

use serde::{Deserialize, Serialize};
use shared::time::UnixTime;
use shared::webhooks::WebhookSecret;
use worker::{Request, Response, Storage};

use crate::config::Config;
use crate::util::{self, json};

use super::faults::{self, Fault};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum TxStatus {
    Pending,
    Approved,
    Declined,
    Shipped,
    Cancelled,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Invoice {
    /// Not shipped yet: NP invoices after the shipment report.
    None,
    Issued,
    Paid,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct Tx {
    np_transaction_id: String,
    shop_transaction_id: String,
    /// A hash of the shopper's e-mail and phone: who the limit counts for.
    shopper: String,
    /// Only the masked e-mail is kept in the sandbox's records.
    email_masked: String,
    billed_amount: u64,
    status: TxStatus,
    sold_amount: u64,
    refunded_amount: u64,
    /// Refunded after the shopper had paid: NP pays it back to the shopper.
    repaid_to_shopper: u64,
    invoice: Invoice,
    created_at: i64,
    decided_at: Option<i64>,
    /// How often the merchant asked for this transaction's status.
    status_queries: u32,
    /// Notifications sent for it, with the merchant's answers.
    notifications: Vec<NoticeAttempt>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct NoticeAttempt {
    id: String,
    at: i64,
    status: Option<u16>,
}

impl Tx {
    /// What the shopper still owes NP for this transaction.
    fn outstanding(&self) -> u64 {
        match (self.status, self.invoice) {
            (TxStatus::Pending | TxStatus::Approved | TxStatus::Shipped, Invoice::None | Invoice::Issued) => {
                self.billed_amount.saturating_sub(self.refunded_amount)
            }
            (_, Invoice::Paid) | (TxStatus::Declined | TxStatus::Cancelled, _) => 0,
        }
    }

    fn view(&self) -> serde_json::Value {
        serde_json::json!({
            "np_transaction_id": self.np_transaction_id,
            "shop_transaction_id": self.shop_transaction_id,
            "status": self.status,
            "billed_amount": self.billed_amount,
            "sold_amount": self.sold_amount,
            "refunded_amount": self.refunded_amount,
            "invoice": self.invoice,
        })
    }

    fn inspection(&self) -> serde_json::Value {
        let mut v = self.view();
        v["email"] = self.email_masked.clone().into();
        v["repaid_to_shopper"] = self.repaid_to_shopper.into();
        v["outstanding"] = self.outstanding().into();
        v["status_queries"] = self.status_queries.into();
        v["decided_at"] = self.decided_at.into();
        v["notifications"] = serde_json::to_value(&self.notifications).unwrap_or_default();
        v
    }
}

#[derive(Deserialize)]
struct RegisterRequest {
    shop_code: String,
    shop_transaction_id: String,
    shop_order_date: String,
    billed_amount: u64,
    customer: Customer,
    goods: Vec<Goods>,
}

#[derive(Deserialize)]
struct Customer {
    customer_name: String,
    customer_name_kana: String,
    zip_code: String,
    address: String,
    tel: String,
    email: String,
}

#[derive(Deserialize)]
struct Goods {
    goods_name: String,
    goods_price: u64,
    quantity: u32,
}

#[derive(Deserialize)]
struct OperationRequest {
    shop_code: String,
    idempotency_key: String,
    #[serde(default)]
    amount: Option<u64>,
}

/// Work the sandbox does later, by its alarm.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Job {
    /// Decide a held screening (approve it).
    Decide { at_ms: i64, np_transaction_id: String },
    /// (Re)send the screening notification.
    Notify { at_ms: i64, np_transaction_id: String, notice_id: String, attempt: u32 },
}

impl Job {
    fn at_ms(&self) -> i64 {
        match self {
            Job::Decide { at_ms, .. } | Job::Notify { at_ms, .. } => *at_ms,
        }
    }
}

const JOBS: &str = "np:jobs";
/// Notifications are retried this many times, backing off to a minute.
const MAX_NOTIFY_ATTEMPTS: u32 = 12;

fn error(status: u16, code: &str, message: &str) -> worker::Result<Response> {
    json(status, &serde_json::json!({"errors": [{"code": code, "message": message}]}))
}

fn shopper_key(email: &str, phone: &str) -> String {
    let phone: String = phone.chars().filter(char::is_ascii_digit).collect();
    let id = format!("{}|{phone}", email.trim().to_ascii_lowercase());
    format!("np:shopper:{}", shared::signing::hex(&shared::signing::sha256(id.as_bytes())))
}

fn tx_key(np_id: &str) -> String {
    format!("np:tx:{np_id}")
}

async fn load(storage: &Storage, id: &str) -> worker::Result<Option<Tx>> {
    // NP's id, or ours (the shop transaction id).
    let np_id = if id.starts_with("np_") { Some(id.to_string()) } else { storage.get::<String>(&format!("np:shop:{id}")).await? };
    match np_id {
        Some(np_id) => storage.get::<Tx>(&tx_key(&np_id)).await,
        None => Ok(None),
    }
}

async fn save(storage: &Storage, tx: &Tx) -> worker::Result<()> {
    storage.put(&tx_key(&tx.np_transaction_id), tx).await
}

/// A shopper's unpaid total at NP.
async fn outstanding(storage: &Storage, shopper: &str) -> worker::Result<u64> {
    let ids = storage.get::<Vec<String>>(shopper).await?.unwrap_or_default();
    let mut total = 0u64;
    for id in ids {
        if let Some(tx) = storage.get::<Tx>(&tx_key(&id)).await? {
            total = total.saturating_add(tx.outstanding());
        }
    }
    Ok(total)
}

async fn add_job(storage: &Storage, job: Job) -> worker::Result<()> {
    let mut jobs = storage.get::<Vec<Job>>(JOBS).await?.unwrap_or_default();
    jobs.push(job);
    storage.put(JOBS, &jobs).await?;
    schedule(storage, &jobs).await
}

async fn schedule(storage: &Storage, jobs: &[Job]) -> worker::Result<()> {
    match jobs.iter().map(Job::at_ms).min() {
        Some(at) => storage.set_alarm((at - util::now_ms() as i64).max(0) + 20).await,
        None => storage.delete_alarm().await,
    }
}

fn valid_customer(c: &Customer) -> bool {
    let digits = |s: &str, n: std::ops::RangeInclusive<usize>| n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    !c.customer_name.trim().is_empty()
        && !c.customer_name_kana.trim().is_empty()
        && !c.address.trim().is_empty()
        && digits(&c.zip_code, 7..=7)
        && digits(&c.tel, 10..=11)
        && c.email.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
}

pub async fn handle(storage: &Storage, config: &Config, req: &Request, path: &str, body: &str) -> worker::Result<Response> {
    if let Some(r) = inspection(storage, config, req, path, body).await? {
        return Ok(r);
    }
    let ep = &config.np.endpoint;
    if let Some(refusal) = crate::connectors::verify_signed("np", req, path, body, &ep.merchant_code, &ep.secret, util::now().0) {
        return refusal;
    }
    let method = req.method();
    if path == "/v1/transactions" && method == worker::Method::Post {
        return register(storage, config, body).await;
    }
    let Some(rest) = path.strip_prefix("/v1/transactions/") else { return error(404, "E_NOT_FOUND", "no such endpoint") };
    let (id, op) = rest.split_once('/').unwrap_or((rest, ""));
    // NP's id, or ours (the shop transaction id of the registration).
    let Some(mut tx) = load(storage, id).await? else { return error(404, "E_NOT_FOUND", "no such transaction") };
    if method == worker::Method::Get && op.is_empty() {
        tx.status_queries += 1;
        save(storage, &tx).await?;
        return json(200, &tx.view());
    }
    // NP's status of one shipment report, cancellation or refund, by the
    // idempotency key it was sent with: its first answer.
    if method == worker::Method::Get {
        let Some((kind, key)) = op.split_once('/').filter(|(k, key)| matches!(*k, "shipments" | "cancel" | "refunds") && !key.is_empty()) else {
            return error(404, "E_NOT_FOUND", "no such endpoint");
        };
        return match storage.get::<(u16, serde_json::Value)>(&format!("np:idem:{}:{kind}:{key}", tx.np_transaction_id)).await? {
            Some((status, answer)) => json(status, &answer),
            None => error(404, "E_NOT_FOUND", "no operation with this idempotency key"),
        };
    }
    if method != worker::Method::Post {
        return error(405, "E_METHOD", "POST");
    }
    let Ok(r) = serde_json::from_str::<OperationRequest>(body) else { return error(400, "E_BAD_REQUEST", "{shop_code, idempotency_key, amount?}") };
    if r.shop_code != ep.merchant_code || r.idempotency_key.is_empty() {
        return error(400, "E_BAD_REQUEST", "shop_code and idempotency_key are required");
    }
    // The same key answers the first answer again.
    let ikey = format!("np:idem:{}:{op}:{}", tx.np_transaction_id, r.idempotency_key);
    if let Some((status, answer)) = storage.get::<(u16, serde_json::Value)>(&ikey).await? {
        return json(status, &answer);
    }
    if !matches!(op, "shipments" | "cancel" | "refunds") {
        return error(404, "E_NOT_FOUND", "no such operation");
    }
    // The fault value is the refund's amount, or the transaction's.
    let fault_amount = if op == "refunds" { r.amount.unwrap_or(0) } else { tx.billed_amount };
    let fault = faults::take(storage, &format!("np:{op}"), &format!("{}:{}", tx.np_transaction_id, r.idempotency_key), fault_amount).await?;
    if fault == Some(Fault::ErrorBefore) {
        return faults::server_error();
    }
    let (status, answer) = match op {
        "shipments" => ship(&mut tx),
        "cancel" => cancel(&mut tx),
        "refunds" => refund(&mut tx, r.amount),
        _ => return error(404, "E_NOT_FOUND", "no such operation"),
    };
    save(storage, &tx).await?;
    if status < 300 {
        storage.put(&ikey, &(status, answer.clone())).await?;
    }
    faults::deliver(fault, json(status, &answer), ep.timeout_ms).await
}

fn refusal(code: &str, message: &str) -> (u16, serde_json::Value) {
    let status = match code {
        "E_REFUND_EXCEEDS_SALE" | "E_BAD_REQUEST" => 422,
        _ => 409,
    };
    (status, serde_json::json!({"errors": [{"code": code, "message": message}]}))
}

fn ship(tx: &mut Tx) -> (u16, serde_json::Value) {
    match tx.status {
        TxStatus::Approved => {
            tx.status = TxStatus::Shipped;
            tx.sold_amount = tx.billed_amount;
            tx.invoice = Invoice::Issued;
            let mut v = tx.view();
            v["shipment_id"] = util::new_id("sh").into();
            (201, v)
        }
        TxStatus::Shipped => refusal("E_ALREADY_SHIPPED", "the shipment was already reported"),
        TxStatus::Pending | TxStatus::Declined => refusal("E_NOT_APPROVED", "only an approved transaction can be shipped"),
        TxStatus::Cancelled => refusal("E_CANCELLED", "the transaction is cancelled"),
    }
}

fn cancel(tx: &mut Tx) -> (u16, serde_json::Value) {
    match tx.status {
        TxStatus::Pending | TxStatus::Approved | TxStatus::Cancelled => {
            tx.status = TxStatus::Cancelled;
            (200, tx.view())
        }
        TxStatus::Shipped => refusal("E_ALREADY_SHIPPED", "a shipped transaction cannot be cancelled; refund it"),
        TxStatus::Declined => refusal("E_NOT_APPROVED", "a declined transaction has nothing to cancel"),
    }
}

fn refund(tx: &mut Tx, amount: Option<u64>) -> (u16, serde_json::Value) {
    let Some(amount) = amount.filter(|a| *a > 0) else { return refusal("E_BAD_REQUEST", "amount > 0 is required") };
    match tx.status {
        TxStatus::Shipped => {
            if tx.refunded_amount + amount > tx.sold_amount {
                return refusal("E_REFUND_EXCEEDS_SALE", "refunds may not exceed the sold amount");
            }
            tx.refunded_amount += amount;
            if tx.invoice == Invoice::Paid {
                tx.repaid_to_shopper += amount;
            }
            let mut v = tx.view();
            v["refund_id"] = util::new_id("rf").into();
            (201, v)
        }
        TxStatus::Cancelled => refusal("E_CANCELLED", "the transaction is cancelled"),
        TxStatus::Pending | TxStatus::Approved | TxStatus::Declined => {
            refusal("E_NOT_SHIPPED", "nothing is sold before the shipment report; cancel instead")
        }
    }
}

async fn register(storage: &Storage, config: &Config, body: &str) -> worker::Result<Response> {
    let Ok(r) = serde_json::from_str::<RegisterRequest>(body) else { return error(400, "E_BAD_REQUEST", "not a transaction") };
    let goods_total = r.goods.iter().try_fold(0u64, |t, g| t.checked_add(g.goods_price.checked_mul(g.quantity as u64)?));
    if r.shop_code != config.np.endpoint.merchant_code
        || r.shop_transaction_id.is_empty()
        || r.shop_order_date.len() != 10
        || r.billed_amount == 0
        || r.goods.is_empty()
        || r.goods.iter().any(|g| g.goods_name.is_empty() || g.quantity == 0)
        || goods_total != Some(r.billed_amount)
    {
        return error(400, "E_BAD_REQUEST", "shop_code, shop_transaction_id, shop_order_date, billed_amount > 0 and goods adding up to it are required");
    }
    if !valid_customer(&r.customer) {
        return error(400, "E_INVALID_CUSTOMER", "the customer's name, kana, zip code (7 digits), address, tel (10-11 digits) and email are required");
    }
    // Registering the same transaction again answers the first registration.
    if let Some(tx) = load(storage, &r.shop_transaction_id).await? {
        return json(201, &tx.view());
    }
    let fault = faults::take(storage, "np:register", &r.shop_transaction_id, r.billed_amount).await?;
    if fault == Some(Fault::ErrorBefore) {
        return faults::server_error();
    }
    faults::deliver(fault, register_new(storage, config, r).await, config.np.endpoint.timeout_ms).await
}

async fn register_new(storage: &Storage, config: &Config, r: RegisterRequest) -> worker::Result<Response> {
    let shopper = shopper_key(&r.customer.email, &r.customer.tel);
    let owed = outstanding(storage, &shopper).await?;
    if owed.saturating_add(r.billed_amount) > config.np.limit_yen {
        return error(
            422,
            "E_LIMIT_EXCEEDED",
            &format!("the shopper's unpaid total would exceed {} yen (unpaid now: {owed} yen)", config.np.limit_yen),
        );
    }
    let domain = r.customer.email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
    let now = util::now().0;
    let status = match domain.as_str() {
        "decline.example" => TxStatus::Declined,
        "hold.example" => TxStatus::Pending,
        _ => TxStatus::Approved,
    };
    let tx = Tx {
        np_transaction_id: util::new_id("np"),
        shop_transaction_id: r.shop_transaction_id.clone(),
        shopper: shopper.clone(),
        email_masked: crate::connectors::np::masked_email(&r.customer.email),
        billed_amount: r.billed_amount,
        status,
        sold_amount: 0,
        refunded_amount: 0,
        repaid_to_shopper: 0,
        invoice: Invoice::None,
        created_at: now,
        decided_at: (status != TxStatus::Pending).then_some(now),
        status_queries: 0,
        notifications: vec![],
    };
    save(storage, &tx).await?;
    storage.put(&format!("np:shop:{}", tx.shop_transaction_id), &tx.np_transaction_id).await?;
    let mut ids = storage.get::<Vec<String>>(&shopper).await?.unwrap_or_default();
    ids.push(tx.np_transaction_id.clone());
    storage.put(&shopper, &ids).await?;
    if status == TxStatus::Pending {
        let at_ms = util::now_ms() as i64 + config.np.hold_seconds as i64 * 1000;
        add_job(storage, Job::Decide { at_ms, np_transaction_id: tx.np_transaction_id.clone() }).await?;
    }
    json(201, &tx.view())
}

/// Records a decision for a held screening. `false` if it was decided
/// already (or cancelled).
async fn decide(storage: &Storage, np_id: &str, status: TxStatus) -> worker::Result<bool> {
    let Some(mut tx) = storage.get::<Tx>(&tx_key(np_id)).await? else { return Ok(false) };
    if tx.status != TxStatus::Pending {
        return Ok(false);
    }
    tx.status = status;
    tx.decided_at = Some(util::now().0);
    save(storage, &tx).await?;
    Ok(true)
}

/// Sends the screening notification of a decided transaction once; on
/// anything but 2xx it is sent again later with the same id.
async fn notify(storage: &Storage, config: &Config, np_id: &str, notice_id: &str, attempt: u32) -> worker::Result<Option<u16>> {
    let Some(tx) = storage.get::<Tx>(&tx_key(np_id)).await? else { return Ok(None) };
    let result = match tx.status {
        TxStatus::Approved | TxStatus::Shipped => "approved",
        TxStatus::Declined => "declined",
        // Cancelled or still pending: nothing to tell.
        TxStatus::Pending | TxStatus::Cancelled => return Ok(None),
    };
    let decided = UnixTime(tx.decided_at.unwrap_or(tx.created_at)).rfc3339_utc();
    let payload = serde_json::json!({
        "type": "transaction.screening_decided",
        "timestamp": UnixTime(util::now().0).rfc3339_utc(),
        "data": {
            "np_transaction_id": tx.np_transaction_id,
            "shop_transaction_id": tx.shop_transaction_id,
            "result": result,
            "decided_at": decided,
        }
    })
    .to_string();
    let secrets: Vec<WebhookSecret> = WebhookSecret::parse(&config.np.notify_secret).into_iter().collect();
    let (out, _) =
        crate::notify::post_signed(&config.np.notify_url, &secrets, notice_id, &payload, config.webhook_timeout_ms, util::now().0).await;
    if let Some(mut tx) = storage.get::<Tx>(&tx_key(np_id)).await? {
        tx.notifications.push(NoticeAttempt { id: notice_id.to_string(), at: util::now().0, status: out.status });
        save(storage, &tx).await?;
    }
    let delivered = out.status.is_some_and(|s| (200..300).contains(&s));
    if !delivered && attempt + 1 < MAX_NOTIFY_ATTEMPTS {
        let delay_ms = 1000i64 << attempt.min(6);
        let job = Job::Notify {
            at_ms: util::now_ms() as i64 + delay_ms,
            np_transaction_id: np_id.to_string(),
            notice_id: notice_id.to_string(),
            attempt: attempt + 1,
        };
        add_job(storage, job).await?;
    }
    Ok(out.status)
}

/// Runs the jobs that are due: decisions of held screenings and
/// notifications to send again.
pub async fn alarm(storage: &Storage, config: &Config) -> worker::Result<()> {
    let jobs = storage.get::<Vec<Job>>(JOBS).await?.unwrap_or_default();
    if jobs.is_empty() {
        return Ok(());
    }
    let now = util::now_ms() as i64;
    let (due, later): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|j| j.at_ms() <= now);
    storage.put(JOBS, &later).await?;
    schedule(storage, &later).await?;
    for job in due {
        match job {
            Job::Decide { np_transaction_id, .. } => {
                if decide(storage, &np_transaction_id, TxStatus::Approved).await? {
                    notify(storage, config, &np_transaction_id, &util::new_id("ntf"), 0).await?;
                }
            }
            Job::Notify { np_transaction_id, notice_id, attempt, .. } => {
                notify(storage, config, &np_transaction_id, &notice_id, attempt).await?;
            }
        }
    }
    Ok(())
}

/// The sandbox's own endpoints for people and tests (not NP's API).
async fn inspection(storage: &Storage, config: &Config, req: &Request, path: &str, body: &str) -> worker::Result<Option<Response>> {
    let method = req.method();
    if let Some(rest) = path.strip_prefix("/transactions/") {
        let (id, op) = rest.split_once('/').unwrap_or((rest, ""));
        let Some(mut tx) = load(storage, id).await? else { return error(404, "E_NOT_FOUND", "no such transaction").map(Some) };
        return match (method, op) {
            (worker::Method::Get, "") => json(200, &tx.inspection()).map(Some),
            (worker::Method::Post, "invoice/paid") => {
                if tx.invoice == Invoice::None {
                    return error(409, "E_NO_INVOICE", "NP invoices the shopper after the shipment report").map(Some);
                }
                tx.invoice = Invoice::Paid;
                save(storage, &tx).await?;
                json(200, &tx.inspection()).map(Some)
            }
            _ => error(404, "E_NOT_FOUND", "no such endpoint").map(Some),
        };
    }
    if let Some(id) = path.strip_prefix("/screenings/").and_then(|r| r.strip_suffix("/decide")) {
        if method != worker::Method::Post {
            return error(405, "E_METHOD", "POST").map(Some);
        }
        #[derive(Deserialize)]
        struct Decide {
            result: String,
            #[serde(default = "yes")]
            notify: bool,
        }
        fn yes() -> bool {
            true
        }
        let Ok(d) = serde_json::from_str::<Decide>(if body.is_empty() { "{}" } else { body }) else {
            return error(400, "E_BAD_REQUEST", "{\"result\": \"approved\"|\"declined\", \"notify\": true}").map(Some);
        };
        let status = match d.result.as_str() {
            "approved" => TxStatus::Approved,
            "declined" => TxStatus::Declined,
            _ => return error(400, "E_BAD_REQUEST", "result is approved or declined").map(Some),
        };
        let Some(tx) = load(storage, id).await? else { return error(404, "E_NOT_FOUND", "no such transaction").map(Some) };
        if !decide(storage, &tx.np_transaction_id, status).await? {
            return error(409, "E_ALREADY_DECIDED", "the screening is not pending").map(Some);
        }
        let answered = if d.notify { notify(storage, config, &tx.np_transaction_id, &util::new_id("ntf"), 0).await? } else { None };
        let tx = load(storage, id).await?.expect("decided above");
        let mut v = tx.inspection();
        v["notification_status"] = answered.into();
        return json(200, &v).map(Some);
    }
    if path == "/shoppers" && method == worker::Method::Get {
        let url = req.url()?;
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        let (Some(email), Some(phone)) = (q.get("email"), q.get("phone")) else {
            return error(400, "E_BAD_REQUEST", "?email=…&phone=…").map(Some);
        };
        let owed = outstanding(storage, &shopper_key(email, phone)).await?;
        return json(200, &serde_json::json!({"outstanding": owed, "limit": config.np.limit_yen, "available": config.np.limit_yen.saturating_sub(owed)}))
            .map(Some);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(status: TxStatus, invoice: Invoice) -> Tx {
        Tx {
            np_transaction_id: "np_1".into(),
            shop_transaction_id: "pay_1-1".into(),
            shopper: "s".into(),
            email_masked: "t***@example.jp".into(),
            billed_amount: 30_000,
            status,
            sold_amount: 0,
            refunded_amount: 0,
            repaid_to_shopper: 0,
            invoice,
            created_at: 0,
            decided_at: None,
            status_queries: 0,
            notifications: vec![],
        }
    }

    #[test]
    fn what_counts_against_the_limit() {
        assert_eq!(tx(TxStatus::Pending, Invoice::None).outstanding(), 30_000, "a held screening reserves the amount");
        assert_eq!(tx(TxStatus::Approved, Invoice::None).outstanding(), 30_000);
        assert_eq!(tx(TxStatus::Shipped, Invoice::Issued).outstanding(), 30_000);
        assert_eq!(tx(TxStatus::Shipped, Invoice::Paid).outstanding(), 0, "paid: usable again");
        assert_eq!(tx(TxStatus::Declined, Invoice::None).outstanding(), 0);
        assert_eq!(tx(TxStatus::Cancelled, Invoice::None).outstanding(), 0);
        let mut t = tx(TxStatus::Shipped, Invoice::Issued);
        t.refunded_amount = 10_000;
        assert_eq!(t.outstanding(), 20_000, "a refund lowers the invoice");
    }

    #[test]
    fn shipment_cancel_and_refund_rules() {
        let mut t = tx(TxStatus::Approved, Invoice::None);
        assert_eq!(refund(&mut t, Some(1)).0, 409, "nothing sold before the shipment");
        assert_eq!(ship(&mut t).0, 201);
        assert_eq!((t.status, t.sold_amount, t.invoice), (TxStatus::Shipped, 30_000, Invoice::Issued));
        assert_eq!(ship(&mut t).0, 409);
        assert_eq!(cancel(&mut t).1["errors"][0]["code"], "E_ALREADY_SHIPPED");
        assert_eq!(refund(&mut t, Some(20_000)).0, 201);
        assert_eq!(refund(&mut t, Some(10_001)).1["errors"][0]["code"], "E_REFUND_EXCEEDS_SALE");
        assert_eq!(refund(&mut t, Some(0)).0, 422);
        t.invoice = Invoice::Paid;
        assert_eq!(refund(&mut t, Some(10_000)).0, 201);
        assert_eq!((t.refunded_amount, t.repaid_to_shopper), (30_000, 10_000));

        let mut held = tx(TxStatus::Pending, Invoice::None);
        assert_eq!(ship(&mut held).1["errors"][0]["code"], "E_NOT_APPROVED");
        assert_eq!(cancel(&mut held).0, 200);
        assert_eq!(cancel(&mut held).0, 200, "cancelling twice is harmless");
        assert_eq!(ship(&mut held).1["errors"][0]["code"], "E_CANCELLED");
    }

    #[test]
    fn the_shopper_is_the_e_mail_and_phone() {
        assert_eq!(shopper_key("Taro@Example.jp", "03-1234-5678"), shopper_key("taro@example.jp", "0312345678"));
        assert_ne!(shopper_key("taro@example.jp", "0312345678"), shopper_key("taro@example.jp", "0312345679"));
    }
}
