//! The monthly run: the cron (every minute) and the sandbox clock look for
//! subscriptions whose billing is due and hand the paging to the `BILLING`
//! Queue: one message pages through up to [`PAGE`] due subscriptions (in id
//! order, after a cursor), queues a `bill` message for each and a message
//! for the next page. No invocation does more than one page, so a run of
//! a hundred thousand subscriptions stays far inside every limit.
//!
//! Exactly once: a `bill` message only asks the subscription's object to do
//! what is due; the object charges through payments whose ids derive from
//! (subscription, period) and whose tries are journaled. A cron that fires
//! twice, a redelivered message or a run restarted halfway finds the same
//! payments and tries, and a run that died halfway leaves rows still due,
//! which the next sweep pages through again (`enqueued_at` keeps a sweep
//! from queueing what was queued in the last [`REQUEUE_AFTER`] seconds).

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

use super::{Subscription, SubCall};

/// Subscriptions per page message.
pub const PAGE: u32 = 100;
/// A queued subscription not billed after this long is queued again.
pub const REQUEUE_AFTER: i64 = 120;

/// A message of the billing queue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// Page through what is due at `now`, after `after`.
    Page { after: String, now: i64 },
    /// Bill one subscription.
    Bill { subscription_id: String },
}

/// Mirrors a subscription into the index.
pub async fn index(db: &D1Database, s: &Subscription) -> worker::Result<()> {
    let b = &s.base;
    let num = |v: Option<i64>| v.map(|t| JsValue::from_f64(t as f64)).unwrap_or(JsValue::NULL);
    db.prepare(
        "INSERT INTO subscriptions (subscription_id, merchant_id, service_id, cust_code, order_id, method, kind, status, amount, item_name,
             next_billing_at, due_at, enqueued_at, registration_payment_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?15, NULL, ?12, ?13, ?14)
         ON CONFLICT (subscription_id) DO UPDATE SET status = excluded.status, next_billing_at = excluded.next_billing_at,
             due_at = excluded.due_at, enqueued_at = NULL, updated_at = excluded.updated_at",
    )
    .bind(&[
        b.id.as_str().into(),
        b.merchant_id.as_str().into(),
        b.service_id.as_str().into(),
        b.cust_code.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL),
        b.order_id.as_str().into(),
        b.method.code().into(),
        b.kind.code().into(),
        s.status.code().into(),
        JsValue::from_f64(b.amount.get() as f64),
        b.item_name.as_str().into(),
        num(s.next_billing_at),
        b.registration_payment_id.as_str().into(),
        JsValue::from_f64(b.registered_at as f64),
        JsValue::from_f64(s.updated_at as f64),
        num(s.next_work()),
    ])?
    .run()
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct Id {
    subscription_id: String,
}

/// Due subscriptions after `after` (not queued lately), marked as queued.
async fn due_page(db: &D1Database, now: i64, after: &str) -> worker::Result<Vec<String>> {
    let rows: Vec<Id> = db
        .prepare(
            "SELECT subscription_id FROM subscriptions WHERE due_at IS NOT NULL AND due_at <= ?1
               AND (enqueued_at IS NULL OR enqueued_at < ?2) AND subscription_id > ?3 ORDER BY subscription_id LIMIT ?4",
        )
        .bind(&[JsValue::from_f64(now as f64), JsValue::from_f64((now - REQUEUE_AFTER) as f64), after.into(), JsValue::from_f64(PAGE as f64)])?
        .all()
        .await?
        .results()?;
    let ids: Vec<String> = rows.into_iter().map(|r| r.subscription_id).collect();
    if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
        db.prepare(
            "UPDATE subscriptions SET enqueued_at = ?1 WHERE subscription_id >= ?2 AND subscription_id <= ?3
               AND due_at IS NOT NULL AND due_at <= ?1",
        )
        .bind(&[JsValue::from_f64(now as f64), first.as_str().into(), last.as_str().into()])?
        .run()
        .await?;
    }
    Ok(ids)
}

/// Whether anything is due now (the sweep's cheap check).
async fn anything_due(db: &D1Database, now: i64) -> worker::Result<bool> {
    let row: Option<Id> = db
        .prepare("SELECT subscription_id FROM subscriptions WHERE due_at IS NOT NULL AND due_at <= ?1 AND (enqueued_at IS NULL OR enqueued_at < ?2) LIMIT 1")
        .bind(&[JsValue::from_f64(now as f64), JsValue::from_f64((now - REQUEUE_AFTER) as f64)])?
        .first(None)
        .await?;
    Ok(row.is_some())
}

/// The sweep's part (cron, sandbox clock): starts a run if anything is due.
pub async fn start_run(env: &Env, db: &D1Database, now: i64) -> worker::Result<bool> {
    if !anything_due(db, now).await? {
        return Ok(false);
    }
    env.queue("BILLING")?.send(Message::Page { after: String::new(), now }).await?;
    Ok(true)
}

/// The queue consumer: pages and bills. A message that fails is retried
/// by the queue; the work it does is idempotent.
pub async fn consume(env: &Env, db: &D1Database, m: &Message) -> worker::Result<()> {
    match m {
        Message::Page { after, now } => {
            let ids = due_page(db, *now, after).await?;
            let queue = env.queue("BILLING")?;
            if ids.len() as u32 == PAGE {
                queue.send(Message::Page { after: ids.last().cloned().unwrap_or_default(), now: *now }).await?;
            }
            if !ids.is_empty() {
                let batch: Vec<Message> = ids.into_iter().map(|subscription_id| Message::Bill { subscription_id }).collect();
                queue.send_batch(batch).await?;
            }
            Ok(())
        }
        Message::Bill { subscription_id } => {
            let r = super::call(env, subscription_id, &SubCall::Bill).await?;
            if r.status_code() != 200 {
                return Err(worker::Error::RustError(format!("billing {subscription_id}: the object answered {}", r.status_code())));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_json() {
        let m = Message::Bill { subscription_id: "sub_1".into() };
        assert_eq!(serde_json::to_value(&m).unwrap(), serde_json::json!({"kind": "bill", "subscription_id": "sub_1"}));
        let p: Message = serde_json::from_value(serde_json::json!({"kind": "page", "after": "", "now": 5})).unwrap();
        assert_eq!(p, Message::Page { after: String::new(), now: 5 });
    }
}

/// Sandbox only: `count` monthly au subscriptions registered at once
/// (KDDI continuations seeded in its sandbox, no shopper pages), for the
/// billing benchmark and the scale test. Their first 1st is the next one.
#[cfg(feature = "sandbox-clock")]
pub async fn seed(env: &Env, now: i64, prefix: &str, count: u32, amount: u64) -> worker::Result<u32> {
    use shared::recurring::{subscription_id, Kind, Options};
    let ids: Vec<String> = (0..count).map(|i| format!("seed_{prefix}_{i}")).collect();
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post);
    init.with_body(Some(serde_json::json!({"ids": ids, "kind": "simple"}).to_string().into()));
    let req = worker::Request::new_with_init("https://sandbox/au/continuations", &init)?;
    let r = crate::sandbox::route(req, env, "au", "/continuations").await?;
    if r.status_code() != 201 {
        return Err(worker::Error::RustError(format!("seeding continuations: {}", r.status_code())));
    }
    for (i, cont) in ids.iter().enumerate() {
        let reg = format!("pay_{}", &shared::signing::hex(&shared::signing::sha256(cont.as_bytes()))[..26]);
        let n = super::NewSubscription {
            id: subscription_id(&reg),
            merchant_id: crate::store::SANDBOX_MERCHANT_ID.into(),
            service_id: crate::store::SANDBOX_SERVICE_ID.into(),
            merchant_name: "Kessai Sandbox Shop".into(),
            cust_code: Some(format!("{prefix}-{i}")),
            order_id: format!("{prefix}-{i}"),
            kind: Kind::Simple,
            method: shared::methods::Method::Au,
            item_name: "月額プラン".into(),
            item_id: None,
            amount: shared::money::Yen::new(amount),
            tax: shared::money::Yen::ZERO,
            registration_payment_id: reg,
            registered_at: now,
            first_month_charged: true,
            au_continuation: Some(cont.clone()),
            sealed_buyer: None,
            options: Options::default(),
        };
        let id = n.id.clone();
        let r = super::call(env, &id, &SubCall::Register(n)).await?;
        if r.status_code() != 200 {
            return Err(worker::Error::RustError(format!("seeding {id}: {}", r.status_code())));
        }
    }
    Ok(count)
}

/// Sandbox only: how a run stands (subscriptions, still due, charged cycles).
#[cfg(feature = "sandbox-clock")]
pub async fn status(db: &D1Database, now: i64) -> worker::Result<serde_json::Value> {
    #[derive(Deserialize)]
    struct Row {
        total: f64,
        due: f64,
    }
    let r: Option<Row> = db
        .prepare("SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN due_at IS NOT NULL AND due_at <= ?1 THEN 1 ELSE 0 END), 0) AS due FROM subscriptions")
        .bind(&[JsValue::from_f64(now as f64)])?
        .first(None)
        .await?;
    let (total, due) = r.map_or((0.0, 0.0), |r| (r.total, r.due));
    #[derive(Deserialize)]
    struct Charges {
        paid: f64,
        open: f64,
    }
    // Charges are the payments whose order id has a `:` (a cycle or a purchase).
    let c: Option<Charges> = db
        .prepare("SELECT COALESCE(SUM(CASE WHEN status = 'paid' THEN 1 ELSE 0 END), 0) AS paid,
                         COALESCE(SUM(CASE WHEN status IN ('pending', 'processing', 'reconciling') THEN 1 ELSE 0 END), 0) AS open
                  FROM payments WHERE instr(order_id, ':') > 0")
        .first(None)
        .await?;
    let (paid, open) = c.map_or((0.0, 0.0), |c| (c.paid, c.open));
    Ok(serde_json::json!({"subscriptions": total as i64, "due": due as i64, "charges_paid": paid as i64, "charges_open": open as i64}))
}
