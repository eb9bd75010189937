//! The NET CASH sandbox: NET CASH IDs with balances, debits that are
//! idempotent per request id and never rolled back, signature checks on
//! every call. Test values (PRODUCT §9): any 16-alphanumeric ID starts with
//! 10,000 yen; an ID ending `0000` has no balance; one ending `9999` is
//! suspended. Faults on demand by amount ([`super::faults`]) on debits
//! (keyed by `request_id`) and batch refund requests (by `refund_id`);
//! the debits of the NET CASH Wallet pages do not fault.

use serde::{Deserialize, Serialize};
use worker::{Request, Response, Storage};

use shared::rules::{check_netcash_refund, netcash_batch};
use shared::time::UnixTime;

use crate::config::Config;
use crate::connectors::netcash::WALLET_RESULT_FIELDS;
use crate::util::{self, json};

use super::faults::{self, Fault};

pub const INITIAL_BALANCE: u64 = 10_000;

#[derive(Serialize, Deserialize, Clone, Debug)]
struct Account {
    balance: u64,
    suspended: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct Txn {
    request_id: String,
    netcash_id: String,
    amount: u64,
    /// `OK` or `NG`.
    result: String,
    transaction_id: Option<String>,
    error_code: Option<String>,
    balance: Option<u64>,
    /// Business time of the debit.
    #[serde(default)]
    created_at: i64,
    #[serde(default)]
    refunded: u64,
}

/// A refund queued into a weekly batch.
#[derive(Serialize, Deserialize, Clone, Debug)]
struct Refund {
    refund_id: String,
    transaction_id: String,
    request_id: String,
    amount: u64,
    payout_date: String,
    paid_on: Option<String>,
    notified: bool,
}

#[derive(Deserialize)]
struct RefundRequest {
    merchant_code: String,
    refund_id: String,
    transaction_id: String,
    amount: u64,
    payout_date: String,
}

#[derive(Deserialize)]
struct DebitRequest {
    merchant_code: String,
    request_id: String,
    netcash_id: String,
    amount: u64,
    currency: String,
}

fn valid_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn new_account(id: &str) -> Account {
    Account { balance: if id.ends_with("0000") { 0 } else { INITIAL_BALANCE }, suspended: id.ends_with("9999") }
}

fn txn_answer(t: &Txn) -> worker::Result<Response> {
    let status = match (t.result.as_str(), t.error_code.as_deref()) {
        ("OK", _) => 200,
        (_, Some("E_INSUFFICIENT_BALANCE")) => 402,
        (_, Some("E_ID_SUSPENDED")) => 403,
        _ => 400,
    };
    json(status, t)
}

fn ng(status: u16, code: &str, message: &str) -> worker::Result<Response> {
    json(status, &serde_json::json!({"result": "NG", "error_code": code, "message": message}))
}

/// Serves one call to the NET CASH sandbox (`path` without the
/// `/sandbox/netcash` prefix).
pub async fn handle(storage: &Storage, config: &Config, req: &Request, path: &str, query: &str, body: &str, now: UnixTime) -> worker::Result<Response> {
    // Inspection for people and tests: balance of an ID. Not part of
    // the provider's API.
    if let Some(id) = path.strip_prefix("/ids/") {
        let acct = storage.get::<Account>(&format!("acct:{id}")).await?.unwrap_or_else(|| new_account(id));
        return json(200, &serde_json::json!({"netcash_id": id, "balance": acct.balance, "suspended": acct.suspended}));
    }

    // NET CASH Wallet: the shopper's own pages (no API signature).
    match (req.method(), path) {
        (worker::Method::Get, "/wallet/login") => return wallet_login_page(storage, query, None).await,
        (worker::Method::Post, "/wallet/login") => return wallet_login(storage, body).await,
        (worker::Method::Post, "/wallet/pay") => return wallet_pay(storage, config, body, now).await,
        _ => {}
    }

    // The weekly batch run: pays every refund whose payout date has come
    // and notifies the merchant's system. Run by the scheduled sweep and
    // by moving the sandbox clock; not part of the provider's API.
    // The batch a refund requested today joins (the calendar NET CASH
    // publishes to merchants); not part of the provider's API.
    if path == "/batch/current" {
        let b = netcash_batch(now.jst().date);
        return json(200, &serde_json::json!({"closes": b.closes.iso(), "payout_date": b.paid.iso()}));
    }
    if path == "/batch/run" {
        let paid = run_batches(storage, config, now).await?;
        return json(200, &serde_json::json!({"paid": paid}));
    }

    if let Some(refusal) =
        crate::connectors::verify_signed("netcash", req, path, body, &config.netcash.merchant_code, &config.netcash.secret, util::now().0)
    {
        return refusal;
    }

    if path == "/api/v1/payments" && req.method() == worker::Method::Post {
        let Ok(d) = serde_json::from_str::<DebitRequest>(body) else {
            return ng(400, "E_BAD_REQUEST", "body is not a debit request");
        };
        if d.merchant_code != config.netcash.merchant_code || d.currency != "JPY" || d.amount == 0 || d.request_id.is_empty() {
            return ng(400, "E_BAD_REQUEST", "merchant_code, currency JPY, amount > 0 and request_id are required");
        }
        let key = format!("txn:{}", d.request_id);
        if let Some(t) = storage.get::<Txn>(&key).await? {
            if t.netcash_id != d.netcash_id || t.amount != d.amount {
                return ng(409, "E_DUPLICATE_REQUEST", "request_id was used for another debit");
            }
            return txn_answer(&t);
        }
        let fault = faults::take(storage, "debit", &d.request_id, d.amount).await?;
        if fault == Some(Fault::ErrorBefore) {
            return faults::server_error();
        }
        let t = debit(storage, &d.request_id, &d.netcash_id, d.amount, now).await?;
        return faults::deliver(fault, txn_answer(&t), config.netcash.timeout_ms).await;
    }

    if path == "/api/v1/wallet/sessions" && req.method() == worker::Method::Post {
        return wallet_session(storage, config, body).await;
    }

    if path == "/api/v1/refunds" && req.method() == worker::Method::Post {
        return request_refund(storage, config, body, now).await;
    }
    if let Some(refund_id) = path.strip_prefix("/api/v1/refunds/") {
        return match storage.get::<Refund>(&format!("refund:{refund_id}")).await? {
            Some(r) => json(200, &serde_json::json!({"result": "OK", "refund": r})),
            None => ng(404, "E_NO_SUCH_REFUND", "no refund with this id"),
        };
    }

    if let Some(request_id) = path.strip_prefix("/api/v1/payments/") {
        if req.method() == worker::Method::Get {
            return match storage.get::<Txn>(&format!("txn:{request_id}")).await? {
                Some(t) => txn_answer(&t),
                None => ng(404, "E_NO_SUCH_REQUEST", "no debit with this request_id"),
            };
        }
    }
    ng(404, "E_NOT_FOUND", "no such endpoint")
}

/// Queues a refund into the weekly batch. NET CASH enforces the same rules
/// we do: the refund deadline and the batch's payout date.
async fn request_refund(storage: &Storage, config: &Config, body: &str, now: UnixTime) -> worker::Result<Response> {
    let Ok(r) = serde_json::from_str::<RefundRequest>(body) else { return ng(400, "E_BAD_REQUEST", "body is not a refund request") };
    if r.merchant_code != config.netcash.merchant_code || r.amount == 0 || r.refund_id.is_empty() {
        return ng(400, "E_BAD_REQUEST", "merchant_code, amount > 0 and refund_id are required");
    }
    let key = format!("refund:{}", r.refund_id);
    if let Some(existing) = storage.get::<Refund>(&key).await? {
        return json(200, &serde_json::json!({"result": "OK", "refund": existing}));
    }
    let fault = faults::take(storage, "refund", &r.refund_id, r.amount).await?;
    if fault == Some(Fault::ErrorBefore) {
        return faults::server_error();
    }
    faults::deliver(fault, queue_refund(storage, r, key, now).await, config.netcash.timeout_ms).await
}

async fn queue_refund(storage: &Storage, r: RefundRequest, key: String, now: UnixTime) -> worker::Result<Response> {
    let Some(request_id) = storage.get::<String>(&format!("txid:{}", r.transaction_id)).await? else {
        return ng(404, "E_NO_SUCH_TRANSACTION", "no debit with this transaction_id");
    };
    let Some(mut t) = storage.get::<Txn>(&format!("txn:{request_id}")).await? else {
        return ng(404, "E_NO_SUCH_TRANSACTION", "no debit with this transaction_id");
    };
    let today = now.jst().date;
    if check_netcash_refund(UnixTime(t.created_at).jst().date, today).is_err() {
        return ng(422, "E_REFUND_DEADLINE", "refunds are accepted until the end of the third month after the purchase month");
    }
    if t.refunded + r.amount > t.amount {
        return ng(422, "E_REFUND_EXCEEDS", "refunds may not exceed the debit");
    }
    let batch = netcash_batch(today);
    if r.payout_date != batch.paid.iso() {
        return ng(422, "E_BAD_PAYOUT_DATE", "a refund requested today is paid with this week's batch");
    }
    t.refunded += r.amount;
    let refund = Refund {
        refund_id: r.refund_id.clone(),
        transaction_id: r.transaction_id,
        request_id,
        amount: r.amount,
        payout_date: r.payout_date,
        paid_on: None,
        notified: false,
    };
    storage.put(&format!("txn:{}", t.request_id), &t).await?;
    storage.put(&key, &refund).await?;
    let mut pending = storage.get::<Vec<String>>("refunds:pending").await?.unwrap_or_default();
    pending.push(r.refund_id);
    storage.put("refunds:pending", &pending).await?;
    json(201, &serde_json::json!({"result": "OK", "refund": refund}))
}

/// Pays the refunds whose payout date has come and tells the merchant's
/// system, signed; unsent notifications are retried on the next run.
async fn run_batches(storage: &Storage, config: &Config, now: UnixTime) -> worker::Result<usize> {
    let today = now.jst().date.iso();
    let pending = storage.get::<Vec<String>>("refunds:pending").await?.unwrap_or_default();
    let mut still = vec![];
    let mut paid = 0;
    for id in pending {
        let key = format!("refund:{id}");
        let Some(mut r) = storage.get::<Refund>(&key).await? else { continue };
        if r.payout_date > today {
            still.push(id);
            continue;
        }
        if r.paid_on.is_none() {
            let t = storage.get::<Txn>(&format!("txn:{}", r.request_id)).await?;
            if let Some(t) = t {
                let akey = format!("acct:{}", t.netcash_id);
                let mut acct = storage.get::<Account>(&akey).await?.unwrap_or_else(|| new_account(&t.netcash_id));
                acct.balance += r.amount;
                storage.put(&akey, &acct).await?;
            }
            r.paid_on = Some(r.payout_date.clone());
            paid += 1;
        }
        let body = serde_json::json!({
            "type": "refund.paid",
            "refund_id": r.refund_id,
            "transaction_id": r.transaction_id,
            "request_id": r.request_id,
            "amount": r.amount,
            "paid_on": r.paid_on,
        })
        .to_string();
        let path = crate::util::path_of(&config.netcash_notify_url);
        let headers = crate::connectors::signed_headers("netcash", &config.netcash, "POST", &path, &body);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let out = util::send(worker::Method::Post, &config.netcash_notify_url, &headers, Some(body), 10_000).await;
        r.notified = matches!(out.status, Some(s) if (200..300).contains(&s));
        if !r.notified {
            still.push(id);
        }
        storage.put(&key, &r).await?;
    }
    storage.put("refunds:pending", &still).await?;
    Ok(paid)
}

/// Debits an ID once per request id: the same request again answers the
/// first result.
async fn debit(storage: &Storage, request_id: &str, netcash_id: &str, amount: u64, now: UnixTime) -> worker::Result<Txn> {
    let key = format!("txn:{request_id}");
    if let Some(t) = storage.get::<Txn>(&key).await? {
        return Ok(t);
    }
    let mut t = Txn {
        request_id: request_id.to_string(),
        netcash_id: netcash_id.to_string(),
        amount,
        result: "NG".into(),
        transaction_id: None,
        error_code: None,
        balance: None,
        created_at: now.0,
        refunded: 0,
    };
    if !valid_id(netcash_id) {
        t.error_code = Some("E_INVALID_ID".into());
    } else {
        let akey = format!("acct:{netcash_id}");
        let mut acct = storage.get::<Account>(&akey).await?.unwrap_or_else(|| new_account(netcash_id));
        if acct.suspended {
            t.error_code = Some("E_ID_SUSPENDED".into());
        } else if acct.balance < amount {
            t.error_code = Some("E_INSUFFICIENT_BALANCE".into());
        } else {
            acct.balance -= amount;
            t.result = "OK".into();
            let txid = util::new_id("nc");
            storage.put(&format!("txid:{txid}"), &request_id.to_string()).await?;
            t.transaction_id = Some(txid);
            t.balance = Some(acct.balance);
        }
        storage.put(&akey, &acct).await?;
    }
    storage.put(&key, &t).await?;
    Ok(t)
}

/// The wallet users of the sandbox and the NET CASH IDs registered in
/// them (PRODUCT §9 values apply to each ID: ending `0000` has no balance).
pub fn wallet_ids(user: &str) -> Option<&'static [&'static str]> {
    match user {
        "wallet-ok" => Some(&["WALLETA100001234", "WALLETB200005678", "WALLETC300000000"]),
        "wallet-empty" => Some(&[]),
        _ => None,
    }
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct WalletSession {
    id: String,
    request_id: String,
    amount: u64,
    return_url: String,
    done: bool,
}


async fn wallet_session(storage: &Storage, config: &Config, body: &str) -> worker::Result<Response> {
    #[derive(Deserialize)]
    struct Start {
        merchant_code: String,
        request_id: String,
        amount: u64,
        return_url: String,
    }
    let Ok(r) = serde_json::from_str::<Start>(body) else { return ng(400, "E_BAD_REQUEST", "{merchant_code, request_id, amount, return_url}") };
    if r.merchant_code != config.netcash.merchant_code || r.amount == 0 || shared::url::HttpUrl::parse(&r.return_url).is_none() {
        return ng(400, "E_BAD_REQUEST", "merchant_code, amount > 0 and an absolute return_url are required");
    }
    let session = WalletSession { id: util::new_id("ws"), request_id: r.request_id, amount: r.amount, return_url: r.return_url, done: false };
    storage.put(&format!("wallet:{}", session.id), &session).await?;
    json(201, &serde_json::json!({"result": "OK", "session_id": session.id, "login_url": format!("{}/wallet/login?session={}", config.netcash.base_url, session.id)}))
}

fn wallet_page(status: u16, title: &str, body: &str, form_action: &str) -> worker::Result<Response> {
    let html = format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{t} | NET CASH Wallet</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/pkg/pay.css\"></head>\
         <body><main class=\"page\"><section class=\"card\"><h1>NET CASH Wallet</h1><h2>{t}</h2>{body}</section></main></body></html>",
        t = crate::html::escape(title)
    );
    crate::html::page(status, html, form_action)
}

async fn wallet_login_page(storage: &Storage, query: &str, error: Option<&str>) -> worker::Result<Response> {
    let session = util::parse_form(query).unwrap_or_default().into_iter().find(|(k, _)| k == "session").map(|(_, v)| v).unwrap_or_default();
    let Some(s) = storage.get::<WalletSession>(&format!("wallet:{session}")).await? else {
        return wallet_page(404, "セッションが見つかりません / Session not found", "<p>お支払いページからやり直してください。</p>", "'none'");
    };
    let err = error.map(|e| format!("<p id=\"wallet-error\" role=\"alert\" class=\"error\">{}</p>", crate::html::escape(e))).unwrap_or_default();
    let body = format!(
        "{err}<p>お支払い金額 / Amount: <strong>{amount} 円</strong></p>\
         <form method=\"post\" action=\"login\"><input type=\"hidden\" name=\"session\" value=\"{id}\">\
         <p><label for=\"wallet-user\">ウォレットID / Wallet ID</label><br><input id=\"wallet-user\" name=\"user\" autocomplete=\"username\" required></p>\
         <p><label for=\"wallet-password\">パスワード / Password</label><br><input id=\"wallet-password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></p>\
         <button class=\"primary\" id=\"wallet-login\">ログイン / Log in</button></form>",
        amount = shared::money::Yen::new(s.amount).grouped(),
        id = crate::html::escape(&s.id),
    );
    wallet_page(if error.is_some() { 401 } else { 200 }, "ログイン / Log in", &body, "'self'")
}

async fn wallet_login(storage: &Storage, body: &str) -> worker::Result<Response> {
    let form = util::parse_form(body).unwrap_or_default();
    let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    let session = get("session");
    let Some(ids) = wallet_ids(&get("user")) else {
        return wallet_login_page(storage, &format!("session={session}"), Some("ウォレットIDまたはパスワードが違います。 / Wrong wallet ID or password.")).await;
    };
    let Some(s) = storage.get::<WalletSession>(&format!("wallet:{session}")).await? else {
        return wallet_page(404, "セッションが見つかりません / Session not found", "", "'none'");
    };
    let mut options = String::new();
    for (i, id) in ids.iter().enumerate() {
        let acct = storage.get::<Account>(&format!("acct:{id}")).await?.unwrap_or_else(|| new_account(id));
        options.push_str(&format!(
            "<p><input type=\"radio\" name=\"netcash_id\" id=\"wid-{i}\" value=\"{id}\"{checked}> <label for=\"wid-{i}\">****{last4}（残高 / balance {bal} 円）</label></p>",
            checked = if i == 0 { " checked" } else { "" },
            last4 = &id[12..],
            bal = shared::money::Yen::new(acct.balance).grouped(),
        ));
    }
    if ids.is_empty() {
        options.push_str("<p id=\"wallet-no-ids\">登録されたNET CASH IDがありません。 / No NET CASH ID is registered.</p>");
    }
    let body = format!(
        "<p>お支払い金額 / Amount: <strong>{amount} 円</strong></p><form method=\"post\" action=\"pay\">\
         <input type=\"hidden\" name=\"session\" value=\"{sid}\"><input type=\"hidden\" name=\"user\" value=\"{user}\">\
         <fieldset><legend>お支払いに使うID / ID to pay with</legend>{options}</fieldset>\
         <button class=\"primary\" id=\"wallet-pay\" name=\"action\" value=\"pay\"{disabled}>支払う / Pay</button>\
         <button id=\"wallet-cancel\" name=\"action\" value=\"cancel\">キャンセル / Cancel</button></form>",
        amount = shared::money::Yen::new(s.amount).grouped(),
        sid = crate::html::escape(&s.id),
        user = crate::html::escape(&get("user")),
        disabled = if ids.is_empty() { " disabled" } else { "" },
    );
    wallet_page(200, "IDの選択 / Choose an ID", &body, "'self'")
}

async fn wallet_pay(storage: &Storage, config: &Config, body: &str, now: UnixTime) -> worker::Result<Response> {
    let form = util::parse_form(body).unwrap_or_default();
    let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    let key = format!("wallet:{}", get("session"));
    let Some(mut s) = storage.get::<WalletSession>(&key).await? else {
        return wallet_page(404, "セッションが見つかりません / Session not found", "", "'none'");
    };
    let Some(ids) = wallet_ids(&get("user")) else { return wallet_page(401, "ログインしてください / Please log in", "", "'none'") };
    let (result, txid, code, last4) = if get("action") == "cancel" {
        ("CANCEL".to_string(), String::new(), String::new(), String::new())
    } else {
        let id = get("netcash_id");
        if s.done {
            return wallet_page(409, "お支払い済みです / Already done", "", "'none'");
        }
        if !ids.contains(&id.as_str()) {
            return wallet_page(400, "このIDは登録されていません / ID not registered", "", "'none'");
        }
        let t = debit(storage, &s.request_id, &id, s.amount, now).await?;
        (t.result.clone(), t.transaction_id.clone().unwrap_or_default(), t.error_code.clone().unwrap_or_default(), id[12..].to_string())
    };
    s.done = true;
    storage.put(&key, &s).await?;
    let ts = util::now().0.to_string();
    let values = [s.id.as_str(), s.request_id.as_str(), result.as_str(), txid.as_str(), code.as_str(), last4.as_str(), ts.as_str()];
    let signature = shared::signing::form_hashcode(config.netcash.secret.as_bytes(), WALLET_RESULT_FIELDS.iter().copied().zip(values.iter().copied()));
    let mut fields: Vec<(&str, String)> = WALLET_RESULT_FIELDS.iter().copied().zip(values.iter().map(|v| v.to_string())).collect();
    fields.push(("signature", signature));
    crate::html::return_form(&s.return_url, &fields, "お支払い結果をお店に送ります…", "Returning the result to the shop…", &Default::default())
}
