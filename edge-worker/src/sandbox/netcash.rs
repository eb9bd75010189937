//! The NET CASH sandbox: NET CASH IDs with balances, debits that are
//! idempotent per request id and never rolled back, signature checks on
//! every call. Test values (PRODUCT §9): any 16-alphanumeric ID starts with
//! 10,000 yen; an ID ending `0000` has no balance; one ending `9999` is
//! suspended.

use serde::{Deserialize, Serialize};
use worker::{Request, Response, Storage};

use crate::config::Config;
use crate::util::{self, json};

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
pub async fn handle(storage: &Storage, config: &Config, req: &Request, path: &str, body: &str) -> worker::Result<Response> {
    // Inspection for people and tests: balance of an ID. Not part of
    // the provider's API.
    if let Some(id) = path.strip_prefix("/ids/") {
        let acct = storage.get::<Account>(&format!("acct:{id}")).await?.unwrap_or_else(|| new_account(id));
        return json(200, &serde_json::json!({"netcash_id": id, "balance": acct.balance, "suspended": acct.suspended}));
    }

    if let Some(refusal) =
        super::verify_signed("netcash", req, path, body, &config.netcash.merchant_code, &config.netcash.secret, util::now().0)
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
        let mut t = Txn {
            request_id: d.request_id.clone(),
            netcash_id: d.netcash_id.clone(),
            amount: d.amount,
            result: "NG".into(),
            transaction_id: None,
            error_code: None,
            balance: None,
        };
        if !valid_id(&d.netcash_id) {
            t.error_code = Some("E_INVALID_ID".into());
        } else {
            let akey = format!("acct:{}", d.netcash_id);
            let mut acct = storage.get::<Account>(&akey).await?.unwrap_or_else(|| new_account(&d.netcash_id));
            if acct.suspended {
                t.error_code = Some("E_ID_SUSPENDED".into());
            } else if acct.balance < d.amount {
                t.error_code = Some("E_INSUFFICIENT_BALANCE".into());
            } else {
                acct.balance -= d.amount;
                t.result = "OK".into();
                t.transaction_id = Some(util::new_id("nc"));
                t.balance = Some(acct.balance);
            }
            storage.put(&akey, &acct).await?;
        }
        storage.put(&key, &t).await?;
        return txn_answer(&t);
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
