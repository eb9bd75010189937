//! Provider notifications in: `POST /provider/<provider>/notify`.
//!
//! NET CASH notifies the payout of weekly refund batches, signed like our
//! calls to it; an unverifiable one is refused and NET CASH is asked for the
//! refund's status instead. Applying a payout twice changes nothing.
//!
//! NP postpaid notifies the screening decision of a held transaction,
//! signed per Standard Webhooks with `NP_NOTIFY_SECRET` (read and verified
//! by [`connectors::np`](crate::connectors::np), constant time). We do not
//! apply what a notification says blindly: for a payment still held, we ask
//! NP for the transaction's status and apply that (falling back to the
//! verified notification only when NP cannot be asked). So duplicates,
//! notifications arriving out of order, and stale ones all end in NP's one
//! decision; the payment object's state machine refuses whatever no longer
//! applies. Answers: 200 once the notification needs nothing more (applied,
//! or already applied: a duplicate), 409 when it came too early (the
//! provider retries), 401 when the signature does not verify — and then we
//! ask NP for the status of the transaction the body names, and apply that.

use serde::Deserialize;
use shared::methods::Method as PayMethod;
use shared::payment::{Input, Status};
use worker::{Env, Method, Request, Response};

use crate::checkout::valid_payment_id;
use crate::config::Config;
use crate::connectors::netcash::Netcash;
use crate::connectors::np::{self, Decision, Notification, NotificationError, Np, TransactionStatus};
use crate::payment_do::{self, Call};
use crate::util::{self, json};

pub async fn route(req: Request, env: &Env, config: &Config, rest: &str) -> worker::Result<Response> {
    match (req.method(), rest) {
        (Method::Post, "np/notify") => np_notify(req, env, config).await,
        (Method::Post, "netcash/notify") => netcash(req, env, config).await,
        (Method::Post, "au/notify") => au_notify(req, env, config).await,
        _ => json(404, &serde_json::json!({"error": {"code": "not_found", "message": "no such provider endpoint"}})),
    }
}

/// The payment a shop transaction id (`{payment id}-{attempt}`) belongs to.
pub fn payment_of(shop_transaction_id: &str) -> Option<&str> {
    let (id, attempt) = shop_transaction_id.rsplit_once('-')?;
    (valid_payment_id(id) && !attempt.is_empty() && attempt.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

/// What became of a notification.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The decision is recorded (now, or before: a duplicate).
    Done { applied: bool, status: String },
    /// No payment of ours has this transaction.
    NotOurs,
    /// The payment went on without this transaction (an attempt whose
    /// answer never reached us): it should be cancelled at NP so that it
    /// does not count against the shopper's limit.
    Abandoned,
    /// Too early: the attempt is still being recorded, or NP has not
    /// decided yet. The provider should send it again later.
    NotYet(&'static str),
}

/// What to apply, from NP's status or, failing that, a verified
/// notification's decision.
fn decision_of(status: &TransactionStatus, verified: Option<Decision>) -> Result<Decision, &'static str> {
    match (status, verified) {
        (TransactionStatus::Approved | TransactionStatus::Shipped, _) => Ok(Decision::Approved),
        (TransactionStatus::Declined, _) => Ok(Decision::Declined),
        (TransactionStatus::Pending, _) => Err("NP says the screening is still pending"),
        (TransactionStatus::Cancelled, _) => Err("NP says the transaction is cancelled"),
        (TransactionStatus::NotFound | TransactionStatus::Unknown(_), Some(d)) => Ok(d),
        (TransactionStatus::NotFound | TransactionStatus::Unknown(_), None) => Err("NP could not be asked"),
    }
}

/// Brings a held payment to NP's decision. `verified` is the decision of a
/// notification whose signature verified, if any.
async fn settle_screening(env: &Env, config: &Config, claimed: &Notification, verified: Option<Decision>, via: &str) -> worker::Result<Outcome> {
    let Some(payment_id) = payment_of(&claimed.shop_transaction_id) else { return Ok(Outcome::NotOurs) };
    let mut r = payment_do::call(env, payment_id, &Call::Record).await?;
    if r.status_code() != 200 {
        return Ok(Outcome::NotOurs);
    }
    #[derive(Deserialize)]
    struct Record {
        status: Status,
        method: Option<PayMethod>,
        provider_ref: Option<String>,
    }
    let p: Record = r.json().await?;
    if p.method != Some(PayMethod::Np) || p.provider_ref.as_deref() != Some(claimed.np_transaction_id.as_str()) {
        return Ok(if p.status == Status::Processing { Outcome::NotYet("the attempt is still being recorded") } else { Outcome::Abandoned });
    }
    if p.status != Status::Held {
        // Decided already (or cancelled, or rejected): a duplicate or a
        // late arrival. Nothing applies any more.
        return Ok(Outcome::Done { applied: false, status: p.status.code().into() });
    }
    let status = (Np { endpoint: &config.np.endpoint }).status(&claimed.np_transaction_id).await;
    let decision = match decision_of(&status, verified) {
        Ok(d) => d,
        Err(why) => {
            worker::console_warn!("NP notification for {payment_id} not applied: {why} ({status:?})");
            return Ok(Outcome::NotYet(why));
        }
    };
    let (input, note, error_code) = match decision {
        Decision::Approved => (Input::ScreeningApproved, format!("NP screening approved ({via}; NP status {status:?})"), None),
        Decision::Declined => {
            (Input::ScreeningDeclined, format!("NP screening declined ({via}; NP status {status:?})"), Some("np_declined"))
        }
    };
    let call = Call::ProviderEvent { input, note, error_code: error_code.map(str::to_string) };
    let mut r = payment_do::call(env, payment_id, &call).await?;
    #[derive(Deserialize)]
    struct Applied {
        applied: bool,
        status: String,
    }
    let a: Applied = r.json().await?;
    Ok(Outcome::Done { applied: a.applied, status: a.status })
}

async fn np_notify(mut req: Request, env: &Env, config: &Config) -> worker::Result<Response> {
    let body = req.bytes().await?;
    if body.len() > 16 * 1024 {
        return json(413, &serde_json::json!({"error": {"code": "request_too_large", "message": "body too large"}}));
    }
    let h = |n: &str| req.headers().get(n).ok().flatten().unwrap_or_default();
    let (id, ts, sig) = (h("webhook-id"), h("webhook-timestamp"), h("webhook-signature"));
    match np::read_notification(&config.np.notify_secret, &id, &ts, &sig, &body, util::now().0) {
        Ok(n) => match settle_screening(env, config, &n, Some(n.decision), &format!("notification {id}")).await? {
            Outcome::Done { applied, status } => json(200, &serde_json::json!({"received": true, "applied": applied, "status": status})),
            Outcome::NotOurs => json(404, &serde_json::json!({"error": {"code": "unknown_transaction", "message": "no payment has this transaction"}})),
            Outcome::Abandoned => {
                let key = format!("{}-abandoned", n.np_transaction_id);
                let out = (Np { endpoint: &config.np.endpoint }).cancel(&n.np_transaction_id, &key).await;
                worker::console_warn!("NP transaction {} is not used by its payment; cancelled at NP: {out:?}", n.np_transaction_id);
                json(200, &serde_json::json!({"received": true, "applied": false, "cancelled": matches!(out, np::Operation::Done { .. })}))
            }
            Outcome::NotYet(why) => json(409, &serde_json::json!({"error": {"code": "not_ready", "message": format!("{why}; send it again later")}})),
        },
        Err(NotificationError::Unreadable(why)) => {
            json(400, &serde_json::json!({"error": {"code": "unreadable_notification", "message": why}}))
        }
        Err(NotificationError::Unverified(e)) => {
            worker::console_warn!("NP notification {id} refused: {e}; asking NP instead");
            // The body is not trusted: it only says which transaction to ask
            // NP about, and only a held payment with that very transaction
            // is looked at.
            if let Some(claimed) = np::claimed(&body) {
                match settle_screening(env, config, &claimed, None, "asked NP after an unverifiable notification").await {
                    Ok(out) => worker::console_log!("NP status asked after an unverifiable notification: {out:?}"),
                    Err(e) => worker::console_error!("NP status query after an unverifiable notification failed: {e}"),
                }
            }
            json(401, &serde_json::json!({"error": {"code": "bad_signature", "message": format!("the notification does not verify: {e}")}}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shop_transaction_names_its_payment() {
        let id = "pay_0123456789abcdefghjkmnpqrs";
        assert_eq!(payment_of(&format!("{id}-1")), Some(id));
        assert_eq!(payment_of(&format!("{id}-12")), Some(id));
        assert_eq!(payment_of(id), None);
        assert_eq!(payment_of(&format!("{id}-")), None);
        assert_eq!(payment_of(&format!("{id}-x")), None);
        assert_eq!(payment_of("pay_short-1"), None);
        assert_eq!(payment_of("../record-1"), None);
    }

    #[test]
    fn nps_status_decides_whatever_the_notification_says() {
        use Decision::*;
        use TransactionStatus as S;
        let table: &[(S, Option<Decision>, Result<Decision, ()>)] = &[
            (S::Approved, Some(Declined), Ok(Approved)),
            (S::Approved, None, Ok(Approved)),
            (S::Shipped, Some(Declined), Ok(Approved)),
            (S::Declined, Some(Approved), Ok(Declined)),
            (S::Declined, None, Ok(Declined)),
            (S::Pending, Some(Approved), Err(())),
            (S::Cancelled, Some(Approved), Err(())),
            // NP cannot be asked: only a verified notification decides.
            (S::Unknown("timeout".into()), Some(Declined), Ok(Declined)),
            (S::NotFound, Some(Approved), Ok(Approved)),
            (S::Unknown("timeout".into()), None, Err(())),
        ];
        for (status, verified, want) in table {
            assert_eq!(decision_of(status, *verified).map_err(|_| ()), *want, "{status:?} {verified:?}");
        }
    }
}

/// NET CASH: a refund of a weekly batch was paid.
pub async fn netcash(mut req: Request, env: &Env, config: &Config) -> worker::Result<Response> {
    #[derive(Deserialize)]
    struct Notice {
        #[serde(rename = "type")]
        kind: String,
        refund_id: String,
        request_id: String,
        paid_on: Option<String>,
    }
    let body = req.text().await?;
    let path = req.path();
    let refused = crate::connectors::verify_signed("netcash", &req, &path, &body, &config.netcash.merchant_code, &config.netcash.secret, util::now().0);
    let Ok(n) = serde_json::from_str::<Notice>(&body) else {
        return json(400, &serde_json::json!({"error": {"code": "invalid_body", "message": "not a NET CASH notification"}}));
    };
    // The payment is named by the debit's request id: `<payment id>-<attempt>`.
    let payment_id = n.request_id.rsplit_once('-').map(|(p, _)| p).unwrap_or_default().to_string();
    if !crate::checkout::valid_payment_id(&payment_id) || n.kind != "refund.paid" {
        return json(422, &serde_json::json!({"error": {"code": "unknown_notification", "message": "unknown type or payment"}}));
    }
    let paid_on = if refused.is_some() {
        // Not verifiable: do not trust it, ask NET CASH.
        let asked = (Netcash { endpoint: &config.netcash }).refund_paid_on(&n.refund_id).await;
        worker::console_warn!("unverifiable NET CASH notification for {}; status says {asked:?}", n.refund_id);
        if let Some(paid_on) = asked {
            payment_do::call(env, &payment_id, &Call::NetcashRefundPaid { refund_id: n.refund_id.clone(), paid_on }).await?;
        }
        return json(401, &serde_json::json!({"error": {"code": "bad_signature", "message": "notification not verified; status was asked instead"}}));
    } else {
        n.paid_on.unwrap_or_default()
    };
    let mut r = payment_do::call(env, &payment_id, &Call::NetcashRefundPaid { refund_id: n.refund_id.clone(), paid_on }).await?;
    let status = r.status_code();
    let v: serde_json::Value = r.json().await.unwrap_or_default();
    json(if status == 200 { 200 } else { status }, &v)
}

/// au (KDDI): an unauthorized-use investigation was opened or cleared, or
/// the sale was charged back. The sale leaves settlement while
/// investigated; the merchant hears of each step as an event. A
/// notification that does not verify is refused and KDDI is asked for the
/// transaction's dispute state instead.
pub async fn au_notify(mut req: Request, env: &Env, config: &Config) -> worker::Result<Response> {
    #[derive(Deserialize)]
    struct Notice {
        transaction_id: String,
        service_ref: String,
        kind: String,
    }
    let body = req.text().await?;
    let path = req.path();
    let refused = crate::connectors::verify_signed("au", &req, &path, &body, &config.au.merchant_code, &config.au.secret, util::now().0);
    let Ok(n) = serde_json::from_str::<Notice>(&body) else {
        return json(400, &serde_json::json!({"error": {"code": "invalid_body", "message": "not an au notification"}}));
    };
    let Some(payment_id) = payment_of(&n.service_ref).map(str::to_string) else {
        return json(422, &serde_json::json!({"error": {"code": "unknown_payment", "message": "no such payment"}}));
    };
    let kind = if refused.is_some() {
        let asked = (crate::connectors::au::Au { endpoint: &config.au }).dispute_state(&n.transaction_id).await;
        worker::console_warn!("unverifiable au notification for {}; KDDI says {asked:?}", n.transaction_id);
        if let Some(kind) = asked {
            apply_dispute(env, &payment_id, &n.transaction_id, &kind).await?;
        }
        return json(401, &serde_json::json!({"error": {"code": "bad_signature", "message": "notification not verified; status was asked instead"}}));
    } else {
        n.kind
    };
    let (status, v) = apply_dispute(env, &payment_id, &n.transaction_id, &kind).await?;
    json(status, &v)
}

/// Applies KDDI's dispute news to the payment it names, only if that is an
/// au payment whose KDDI transaction is the one the news is about.
async fn apply_dispute(env: &Env, payment_id: &str, transaction_id: &str, kind: &str) -> worker::Result<(u16, serde_json::Value)> {
    let (input, note) = match kind {
        "investigation" => (Input::InvestigationOpened, "KDDI opened an unauthorized-use investigation; the sale leaves settlement"),
        "cleared" => (Input::InvestigationCleared, "KDDI cleared the investigation; the sale is settled again"),
        "chargeback" => (Input::ChargedBack, "KDDI charged the sale back"),
        _ => return Ok((422, serde_json::json!({"error": {"code": "unknown_kind", "message": "unknown dispute kind"}}))),
    };
    let mut rec = payment_do::call(env, payment_id, &Call::Record).await?;
    #[derive(Deserialize)]
    struct Record {
        method: Option<PayMethod>,
        provider_ref: Option<String>,
    }
    let p: Option<Record> = if rec.status_code() == 200 { rec.json().await.ok() } else { None };
    if !p.is_some_and(|p| p.method == Some(PayMethod::Au) && p.provider_ref.as_deref() == Some(transaction_id)) {
        return Ok((
            422,
            serde_json::json!({"error": {"code": "not_this_payment", "message": "the transaction is not this payment's au transaction; nothing was changed"}}),
        ));
    }
    let mut r = payment_do::call(env, payment_id, &Call::ProviderEvent { input, note: note.to_string(), error_code: None }).await?;
    let status = r.status_code();
    Ok((status, r.json().await.unwrap_or_default()))
}
