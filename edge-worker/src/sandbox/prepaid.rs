//! The prepaid card sandbox (BitCash / WebMoney style issuer): 16-digit
//! card numbers with balances, charges idempotent per key, refunds back to
//! the card never above what was charged. Test values (PRODUCT §9): any
//! 16-digit number starts with 10,000 yen; one ending `0000` has no
//! balance. The issuer's status queries (signed): `GET
//! /v2/charges/by-key/{idempotency_key}` and `GET
//! /v2/refunds/by-key/{idempotency_key}`. Faults on demand by amount
//! ([`super::faults`]). Inspection (unsigned, not the issuer's API):
//! `GET /cards/{number}` (balance), `GET /charges/{id}`.

use serde::{Deserialize, Serialize};
use worker::{Request, Response, Storage};

use crate::config::Config;
use crate::util::{self, json};

use super::faults::{self, Fault};

pub const INITIAL_BALANCE: u64 = 10_000;

#[derive(Serialize, Deserialize, Clone, Debug)]
struct Card {
    balance: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct Charge {
    charge_id: String,
    /// Only the last four digits are kept, as a real issuer's log would show.
    card_last4: String,
    card_key: String,
    amount: u64,
    refunded: u64,
}

/// A refund back to a card, by its id.
#[derive(Serialize, Deserialize, Clone, Debug)]
struct Refund {
    refund_id: String,
    charge_id: String,
    amount: u64,
}

#[derive(Deserialize)]
struct ChargeRequest {
    shop_code: String,
    idempotency_key: String,
    card_number: String,
    amount: u64,
}

#[derive(Deserialize)]
struct RefundRequest {
    shop_code: String,
    idempotency_key: String,
    amount: u64,
}

fn card(number: &str) -> Card {
    Card { balance: if number.ends_with("0000") { 0 } else { INITIAL_BALANCE } }
}

/// Cards are stored under a hash of the number, never the number.
fn card_key(number: &str) -> String {
    format!("card:{}", shared::signing::hex(&shared::signing::sha256(number.as_bytes())))
}

fn declined(status: u16, reason: &str, message: &str) -> worker::Result<Response> {
    json(status, &serde_json::json!({"status": "declined", "reason": reason, "message": message}))
}

pub async fn handle(storage: &Storage, config: &Config, req: &Request, path: &str, body: &str) -> worker::Result<Response> {
    if let Some(number) = path.strip_prefix("/cards/") {
        // Inspection for people and tests, not part of the issuer's API.
        let c = storage.get::<Card>(&card_key(number)).await?.unwrap_or_else(|| card(number));
        return json(200, &serde_json::json!({"balance": c.balance}));
    }
    if let Some(id) = path.strip_prefix("/charges/") {
        // Inspection too: a charge and what was refunded of it.
        return match storage.get::<Charge>(&format!("charge:{id}")).await? {
            Some(c) => json(200, &serde_json::json!({"charge_id": c.charge_id, "card_last4": c.card_last4, "amount": c.amount, "refunded": c.refunded})),
            None => declined(404, "charge_not_found", "no such charge"),
        };
    }
    if let Some(refusal) = crate::connectors::verify_signed("prepaid", req, path, body, &config.prepaid.merchant_code, &config.prepaid.secret, util::now().0) {
        return refusal;
    }
    if req.method() == worker::Method::Get {
        // The issuer's status queries: what became of the operation sent
        // with this idempotency key.
        if let Some(key) = path.strip_prefix("/v2/charges/by-key/") {
            return charge_by_key(storage, key).await;
        }
        if let Some(key) = path.strip_prefix("/v2/refunds/by-key/") {
            return refund_by_key(storage, key).await;
        }
    }
    if req.method() != worker::Method::Post {
        return declined(405, "method_not_allowed", "POST only");
    }
    if path == "/v2/charges" {
        let Ok(r) = serde_json::from_str::<ChargeRequest>(body) else { return declined(400, "bad_request", "not a charge request") };
        if r.shop_code != config.prepaid.merchant_code || r.amount == 0 || r.idempotency_key.is_empty() {
            return declined(400, "bad_request", "shop_code, amount > 0 and idempotency_key are required");
        }
        let ikey = format!("idem:{}", r.idempotency_key);
        if let Some(id) = storage.get::<String>(&ikey).await? {
            let c = storage.get::<Charge>(&format!("charge:{id}")).await?.expect("charge of a key exists");
            return json(201, &serde_json::json!({"status": "succeeded", "charge_id": c.charge_id, "amount": c.amount}));
        }
        let fault = faults::take(storage, "charge", &r.idempotency_key, r.amount).await?;
        if fault == Some(Fault::ErrorBefore) {
            return faults::server_error();
        }
        return faults::deliver(fault, charge(storage, r, ikey).await, config.prepaid.timeout_ms).await;
    }
    if let Some(id) = path.strip_prefix("/v2/charges/").and_then(|r| r.strip_suffix("/refunds")) {
        let Ok(r) = serde_json::from_str::<RefundRequest>(body) else { return declined(400, "bad_request", "not a refund request") };
        if r.shop_code != config.prepaid.merchant_code || r.amount == 0 || r.idempotency_key.is_empty() {
            return declined(400, "bad_request", "shop_code, amount > 0 and idempotency_key are required");
        }
        let ikey = format!("idem:{}", r.idempotency_key);
        if let Some(rid) = storage.get::<String>(&ikey).await? {
            return json(201, &serde_json::json!({"status": "succeeded", "refund_id": rid, "charge_id": id}));
        }
        let fault = faults::take(storage, "refund", &r.idempotency_key, r.amount).await?;
        if fault == Some(Fault::ErrorBefore) {
            return faults::server_error();
        }
        return faults::deliver(fault, refund(storage, id, r, ikey).await, config.prepaid.timeout_ms).await;
    }
    declined(404, "not_found", "no such endpoint")
}

async fn charge_by_key(storage: &Storage, key: &str) -> worker::Result<Response> {
    let id = storage.get::<String>(&format!("idem:{key}")).await?;
    match id {
        Some(id) if id.starts_with("ch_") => match storage.get::<Charge>(&format!("charge:{id}")).await? {
            Some(c) => json(200, &serde_json::json!({"status": "succeeded", "charge_id": c.charge_id, "amount": c.amount, "refunded": c.refunded})),
            None => declined(404, "not_found", "no charge with this idempotency key"),
        },
        _ => declined(404, "not_found", "no charge with this idempotency key"),
    }
}

async fn refund_by_key(storage: &Storage, key: &str) -> worker::Result<Response> {
    let id = storage.get::<String>(&format!("idem:{key}")).await?;
    match id {
        Some(id) if id.starts_with("rf_") => match storage.get::<Refund>(&format!("refund:{id}")).await? {
            Some(r) => json(200, &serde_json::json!({"status": "succeeded", "refund_id": r.refund_id, "charge_id": r.charge_id, "amount": r.amount})),
            None => json(200, &serde_json::json!({"status": "succeeded", "refund_id": id})),
        },
        _ => declined(404, "not_found", "no refund with this idempotency key"),
    }
}

async fn charge(storage: &Storage, r: ChargeRequest, ikey: String) -> worker::Result<Response> {
    if r.card_number.len() != 16 || !r.card_number.bytes().all(|b| b.is_ascii_digit()) {
        return declined(402, "invalid_number", "a card number has 16 digits");
    }
    let key = card_key(&r.card_number);
    let mut c = storage.get::<Card>(&key).await?.unwrap_or_else(|| card(&r.card_number));
    if c.balance < r.amount {
        return declined(402, "insufficient_funds", "the card balance is insufficient");
    }
    c.balance -= r.amount;
    let charge = Charge { charge_id: util::new_id("ch"), card_last4: r.card_number[12..].to_string(), card_key: key.clone(), amount: r.amount, refunded: 0 };
    storage.put(&key, &c).await?;
    storage.put(&format!("charge:{}", charge.charge_id), &charge).await?;
    storage.put(&ikey, &charge.charge_id).await?;
    json(201, &serde_json::json!({"status": "succeeded", "charge_id": charge.charge_id, "amount": r.amount, "balance": c.balance}))
}

async fn refund(storage: &Storage, id: &str, r: RefundRequest, ikey: String) -> worker::Result<Response> {
    let Some(mut charge) = storage.get::<Charge>(&format!("charge:{id}")).await? else {
        return declined(404, "charge_not_found", "no such charge");
    };
    if charge.refunded + r.amount > charge.amount {
        return declined(422, "refund_exceeds_charge", "refunds may not exceed the charge");
    }
    charge.refunded += r.amount;
    let mut c = storage.get::<Card>(&charge.card_key).await?.unwrap_or(Card { balance: 0 });
    c.balance += r.amount;
    let refund_id = util::new_id("rf");
    storage.put(&charge.card_key, &c).await?;
    storage.put(&format!("charge:{id}"), &charge).await?;
    storage.put(&format!("refund:{refund_id}"), &Refund { refund_id: refund_id.clone(), charge_id: id.to_string(), amount: r.amount }).await?;
    storage.put(&ikey, &refund_id).await?;
    json(201, &serde_json::json!({"status": "succeeded", "refund_id": refund_id, "charge_id": id, "amount": r.amount, "balance": c.balance}))
}

