//! Provider operations on a payment, all through its journal: the
//! merchant's settle, cancel and refund, NET CASH batch refunds, the
//! rollback when the merchant refuses a result, and the reconciliation of
//! every operation whose answer was unclear.
//!
//! The order is always the same: (1) `begin` in the journal, stored, before
//! the provider is called; (2) the provider is called with the operation's
//! key; (3) the outcome is stored with the state change it causes, in one
//! write. A crash between (1) and (3) leaves the operation in flight; its
//! lease runs out and the alarm reconciles it with the same key.

use shared::codes::Code;
use serde::{Deserialize, Serialize};
use shared::journal::{Begin, OpKind, OpOutcome, OpRequest, OpState, Operation, Origin};
use shared::methods::Method;
use shared::money::Yen;
use shared::outbox::Event;
use shared::payment::{Input, Status};
use shared::time::UnixTime;
use worker::Response;

use super::{au, refused, shopper_error, BatchRefund, Ctx, HistoryEntry, Payment, PaymentObject, Refused};
use crate::connectors::Outcome;
use crate::methods;
use crate::util::{self, json};

/// A merchant (or administration tool) operation, as the object takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperateBody {
    pub kind: OpKind,
    /// `None`: the whole (what is authorized, or still refundable).
    pub amount: Option<Yen>,
    /// The provider key. The API derives it from the merchant, service and
    /// `Idempotency-Key`, so a retry is the same provider request.
    pub key: Option<String>,
}

fn outcome_of(o: Outcome) -> OpOutcome {
    match o {
        Outcome::Done { id } => OpOutcome::Succeeded { provider_ref: id },
        Outcome::Refused { code } => OpOutcome::Failed { code },
        Outcome::NotFound => OpOutcome::Failed { code: "not_found_at_provider".into() },
        Outcome::Unclear { why } => OpOutcome::Unclear { why },
    }
}

/// The answer to a finished (or reconciling) operation.
fn answer(p: &Payment, op: &Operation) -> worker::Result<Response> {
    match op.state {
        OpState::Succeeded => json(200, p),
        OpState::Failed => {
            let code = op.error.clone().unwrap_or_else(|| "provider_refused".into());
            shopper_error(402, "provider_refused", &format!("the provider refused the {}: {code}", op.kind.code()), None)
        }
        OpState::Reconciling => json(
            202,
            &serde_json::json!({
                "status": "reconciling",
                "operation": op,
                "message": "the provider gave no clear answer; the operation is being reconciled with it (retry with the same Idempotency-Key, or wait for the webhook)",
            }),
        ),
        OpState::InFlight => shopper_error(
            409,
            "operation_in_progress",
            &format!("this {} is still being done at the provider; retry shortly", op.kind.code()),
            None,
        ),
    }
}

impl PaymentObject {
    /// Settle, cancel or refund asked by the merchant.
    pub(super) async fn operate(&self, ctx: &Ctx, body: OperateBody) -> worker::Result<Response> {
        let now = ctx.clock.now();
        let begun = self
            .update(ctx, |p, t| {
                let (Some(_), Some(_)) = (p.method, p.provider_ref.as_ref()) else {
                    return Err(refused(409, "not_paid", "the payment has taken no money"));
                };
                let amount = match (body.kind, body.amount) {
                    (_, Some(a)) => a,
                    (OpKind::Capture | OpKind::Void, None) => p.amounts.authorized,
                    (OpKind::Refund | OpKind::BatchRefund, None) => p.refundable(),
                    (OpKind::Attempt, None) => return Err(refused(400, "invalid_operation", "attempts are the shopper's")),
                };
                let rule = match body.kind {
                    OpKind::Capture => Some(au::Op::Settle),
                    OpKind::Void => Some(au::Op::Cancel),
                    OpKind::Refund => Some(au::Op::Refund { amount }),
                    _ => None,
                };
                if let Some(r) = rule.and_then(|op| au::rule_refusal(p, op, now)) {
                    return Err(refused(422, r.code(), r.message()));
                }
                if body.kind == OpKind::Refund {
                    if let Some(r) = p.monthly_refund_refusal(now) {
                        return Err(refused(422, r.code(), r.message()));
                    }
                }
                let key = body.key.clone().unwrap_or_else(|| util::new_id("op"));
                begin(p, body.kind, Origin::Merchant, amount, key, t)
            })
            .await?;
        match begun {
            Err(r) => shopper_error(r.status, r.code, &r.message, None),
            Ok((Begin::Started(op), p)) => {
                let (p, op) = self.run(ctx, &p, op).await?;
                answer(&p, &op)
            }
            Ok((Begin::Existing(op), p)) => {
                if op.state == OpState::Reconciling {
                    let (p, op) = self.run(ctx, &p, op).await?;
                    return answer(&p, &op);
                }
                answer(&p, &op)
            }
        }
    }

    /// Calls the provider for a journaled operation (the first time, or
    /// again to reconcile it: same key, so the same request) and stores
    /// the outcome with the change it makes.
    pub(super) async fn run(&self, ctx: &Ctx, p: &Payment, op: Operation) -> worker::Result<(Payment, Operation)> {
        let outcome = self.ask_provider(ctx, p, &op).await;
        self.record_outcome(ctx, &op.id, outcome).await
    }

    async fn ask_provider(&self, ctx: &Ctx, p: &Payment, op: &Operation) -> OpOutcome {
        let c = &ctx.config;
        let Some(method) = p.method else { return OpOutcome::Failed { code: "no_method".into() } };
        if op.kind == OpKind::Attempt {
            if let Some(o) = charge_status(ctx, p, &op.key).await {
                return match o {
                    Outcome::NotFound => OpOutcome::Failed { code: Code::ProviderUnavailable.as_str().into() },
                    o => outcome_of(o),
                };
            }
            return match methods::attempt_status(c, method, &op.key, p.sales_mode, op.amount).await {
                Outcome::NotFound => OpOutcome::Failed { code: Code::ProviderUnavailable.as_str().into() },
                o => outcome_of(o),
            };
        }
        let Some(provider_ref) = p.provider_ref.as_deref() else {
            return OpOutcome::Failed { code: "not_paid".into() };
        };
        if op.state == OpState::Reconciling || op.checks > 0 || op.state == OpState::InFlight && op.updated_at + shared::journal::IN_FLIGHT_LEASE_SECONDS <= ctx.clock.now().0 {
            // Reconciling: ask first. Done or refused settles it; only an
            // operation the provider never saw is sent again (same key).
            match methods::operation_status(c, method, op.kind, provider_ref, &op.key).await {
                Outcome::NotFound => {}
                o => return outcome_of(o),
            }
        }
        match op.kind {
            OpKind::Attempt => unreachable!("answered above"),
            OpKind::Capture => outcome_of(methods::settle(c, method, provider_ref, &op.key, op.amount).await),
            OpKind::Void => outcome_of(methods::void(c, method, provider_ref, &op.key).await),
            OpKind::Refund => outcome_of(methods::refund(c, method, provider_ref, &op.key, op.amount).await),
            OpKind::BatchRefund => {
                let Some(entry) = p.batch_refunds.iter().find(|b| b.id == op.key) else {
                    return OpOutcome::Failed { code: "batch_refund_missing".into() };
                };
                outcome_of(methods::batch_refund(c, &op.key, provider_ref, op.amount, &entry.payout_date).await)
            }
        }
    }

    /// Stores an operation's outcome and the change it makes, in one write.
    pub(super) async fn record_outcome(&self, ctx: &Ctx, id: &str, outcome: OpOutcome) -> worker::Result<(Payment, Operation)> {
        let id = id.to_string();
        let (op, p) = self
            .update(ctx, |p, now| {
                let before = p.journal.get(&id).cloned().ok_or_else(|| refused(500, "internal", "operation vanished"))?;
                if !matches!(before.state, OpState::InFlight | OpState::Reconciling) {
                    return Ok(before);
                }
                if before.kind == OpKind::Attempt {
                    apply_attempt_outcome(p, &before, &outcome, now);
                    return Ok(p.journal.get(&id).cloned().unwrap_or(before));
                }
                if let OpOutcome::Unclear { why } = &outcome {
                    if before.state == OpState::Reconciling {
                        p.journal.checked_again(&id, why, now);
                    } else {
                        p.journal.finish(&id, &outcome, now);
                        p.history.push(HistoryEntry {
                            at: now,
                            status: p.status,
                            note: format!("{} of {} yen: no clear answer from the provider ({why}); reconciling", before.kind.code(), before.amount.get()),
                        });
                    }
                    return Ok(p.journal.get(&id).cloned().unwrap_or(before));
                }
                let input = p.journal.finish(&id, &outcome, now);
                let op = p.journal.get(&id).cloned().unwrap_or(before.clone());
                match (&outcome, input) {
                    (OpOutcome::Succeeded { provider_ref }, Some(input)) => {
                        let input = if op.origin == Origin::Rollback && matches!(p.status, Status::Paid | Status::Authorized | Status::Held) {
                            Input::MerchantRejected { rollback: true }
                        } else {
                            input
                        };
                        let note = format!("{} of {} yen done at the provider ({provider_ref})", op.kind.code(), op.amount.get());
                        if let Err(e) = p.apply(input, &note, now) {
                            // The provider did it; our state machine cannot
                            // follow: keep the record and say so loudly.
                            worker::console_error!("payment {}: provider did {} but {e}", p.id, op.kind.code());
                            p.history.push(HistoryEntry { at: now, status: p.status, note: format!("{note}, but it could not be applied: {e}") });
                        }
                    }
                    (OpOutcome::Succeeded { provider_ref }, None) => {
                        // A batch refund is queued; it is applied when paid out.
                        queued_batch_refund(p, &op, provider_ref, now);
                    }
                    (OpOutcome::Failed { code }, _) => {
                        p.history.push(HistoryEntry {
                            at: now,
                            status: p.status,
                            note: format!("{} of {} yen refused by the provider: {code}", op.kind.code(), op.amount.get()),
                        });
                        if op.origin == Origin::Rollback && matches!(p.status, Status::Paid | Status::Authorized | Status::Held) {
                            let _ = p.apply(Input::MerchantRejected { rollback: false }, "the rollback failed: the merchant must refund or cancel", now);
                        }
                        if before.state == OpState::Reconciling || op.kind == OpKind::BatchRefund {
                            // The merchant was told "reconciling"; tell the end.
                            operation_event(p, "payment.operation_failed", &op, now);
                        }
                    }
                    _ => {}
                }
                Ok(op)
            })
            .await?
            .map_err(|r| worker::Error::RustError(r.message))?;
        Ok((p, op))
    }

    /// Asks the provider about every operation whose check is due (from
    /// the alarm and the sweep). Bounded: a few per wake-up.
    pub(super) async fn reconcile_due(&self, ctx: &Ctx) -> worker::Result<()> {
        for _ in 0..4 {
            let Some(p) = self.load().await? else { return Ok(()) };
            let now = ctx.clock.now().0;
            let Some(op) = p.journal.due(now).cloned() else { return Ok(()) };
            // au and NET CASH Wallet attempts wait for the shopper at the
            // provider; their own sweeps end them.
            // (A subscription's charge has no shopper: it is reconciled here.)
            let charge = matches!(p.recurring, Some(super::Recurring::Charge { .. }));
            if op.kind == OpKind::Attempt && op.state == OpState::InFlight && p.method == Some(Method::Au) && !charge {
                self.update(ctx, |p, now| {
                    if let Some(o) = p.journal.ops.iter_mut().find(|o| o.id == op.id) {
                        o.next_check_at = Some(now + shared::journal::IN_FLIGHT_LEASE_SECONDS);
                    }
                    Ok(())
                })
                .await?
                .ok();
                continue;
            }
            let (_, after) = self.run(ctx, &p, op.clone()).await?;
            // A charge has no shopper waiting and no result notification:
            // its webhooks tell the merchant.
            if after.kind == OpKind::Attempt && !charge && !matches!(after.state, OpState::InFlight | OpState::Reconciling) {
                // The attempt is known now: tell the merchant before the
                // shopper (who is waiting on the page) leaves.
                if let Some(p) = self.load().await? {
                    if p.status.checkout_finished() && matches!(p.status, Status::Paid | Status::Authorized | Status::Held) {
                        let provider_ref = p.provider_ref.clone().unwrap_or_default();
                        let method = p.method.unwrap_or(Method::Netcash);
                        self.after_success(ctx, method, &provider_ref, p).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A NET CASH refund requested in the administration tool: checked
    /// against the deadline and what remains, journaled, queued into this
    /// week's batch at NET CASH, recorded with its payout date.
    pub(super) async fn netcash_refund(&self, ctx: &Ctx, amount: Option<Yen>, key: Option<String>) -> worker::Result<Response> {
        let today = ctx.clock.now().jst().date;
        let begun = self
            .update(ctx, |p, now| {
                if p.method != Some(Method::Netcash) {
                    return Err(refused(422, "not_netcash", "batch refunds are for NET CASH payments"));
                }
                let (Some(_), Some(paid_at)) = (p.provider_ref.as_ref(), p.paid_at) else {
                    return Err(refused(409, "not_paid", "the payment has taken no money"));
                };
                if let Err(r) = shared::rules::check_netcash_refund(UnixTime(paid_at).jst().date, today) {
                    return Err(refused(422, r.code, r.message));
                }
                if !matches!(p.status, Status::Paid | Status::PartiallyRefunded | Status::RefundRequired) {
                    return Err(refused(409, "refund_not_allowed", format!("a {} payment cannot be refunded", p.status.code())));
                }
                let remaining = p.refundable();
                let amount = amount.unwrap_or(remaining);
                if amount == Yen::ZERO || amount > remaining {
                    // Reservations first: a refund that waits for the provider
                    // is an operation in progress, not a wrong amount.
                    if let Some(o) = p.journal.ops.iter().find(|o| o.kind == OpKind::BatchRefund && o.state == OpState::InFlight) {
                        return Err(refused(409, "operation_in_progress", format!("a NET CASH refund of {} yen is being queued; retry shortly", o.amount.get())));
                    }
                    return Err(refused(
                        409,
                        "refund_not_allowed",
                        format!("{} yen is more than what can still be refunded ({} yen, counting refunds already in a batch)", amount.get(), remaining.get()),
                    ));
                }
                let n = p.journal.ops.iter().filter(|o| o.kind == OpKind::BatchRefund).count() + 1;
                let refund_id = match &key {
                    Some(k) => format!("{}-r{}", p.id, &shared::signing::hex(&shared::signing::sha256(k.as_bytes()))[..12]),
                    None => format!("{}-r{n}", p.id),
                };
                if let Some(existing) = p.journal.by_key(&refund_id).cloned() {
                    return Ok(Begin::Existing(existing));
                }
                let batch = shared::rules::netcash_batch(today);
                let b = begin(p, OpKind::BatchRefund, Origin::Merchant, amount, refund_id.clone(), now)?;
                p.batch_refunds.push(BatchRefund {
                    id: refund_id,
                    amount,
                    requested_at: now,
                    batch_closes: batch.closes.iso(),
                    payout_date: batch.paid.iso(),
                    paid_on: None,
                });
                Ok(b)
            })
            .await?;
        let (op, p) = match begun {
            Err(r) => return shopper_error(r.status, r.code, &r.message, None),
            Ok((Begin::Started(op), p)) => {
                let (p, op) = self.run(ctx, &p, op).await?;
                (op, p)
            }
            Ok((Begin::Existing(op), p)) if op.state == OpState::Reconciling => {
                let (p, op) = self.run(ctx, &p, op).await?;
                (op, p)
            }
            Ok((Begin::Existing(op), p)) => (op, p),
        };
        let Some(entry) = p.batch_refunds.iter().find(|b| b.id == op.key) else {
            return shopper_error(500, "internal", "the batch refund vanished", None);
        };
        let body = serde_json::json!({
            "refund_id": entry.id, "amount": entry.amount, "batch_closes": entry.batch_closes, "payout_date": entry.payout_date,
            "operation": op,
        });
        match op.state {
            OpState::Succeeded => json(201, &body),
            OpState::Reconciling => json(202, &body),
            _ => answer(&p, &op),
        }
    }

    /// NET CASH paid a batch refund (verified notification, or its status
    /// when a notification could not be verified). Twice changes nothing.
    pub(super) async fn netcash_refund_paid(&self, ctx: &Ctx, refund_id: String, paid_on: String) -> worker::Result<Response> {
        let r = self
            .update(ctx, |p, now| {
                let Some(i) = p.batch_refunds.iter().position(|r| r.id == refund_id) else {
                    return Err(refused(404, "refund_not_found", "no such batch refund"));
                };
                if p.batch_refunds[i].paid_on.is_some() {
                    return Ok(false);
                }
                let amount = p.batch_refunds[i].amount;
                // Journaled refunds are applied once, through the journal;
                // records from before the journal apply directly.
                let input = if p.journal.by_key(&refund_id).is_some() {
                    match p.journal.apply_batch(&refund_id) {
                        Some(input) => input,
                        None => return Ok(false),
                    }
                } else {
                    Input::Refunded { amount }
                };
                p.batch_refunds[i].paid_on = Some(paid_on.clone());
                p.apply(input, &format!("NET CASH paid the batch refund {refund_id} on {paid_on}"), now)
                    .map_err(|e| refused(409, "refund_not_allowed", e.to_string()))?;
                let mut data = p.snapshot();
                data["refund"] = serde_json::json!({"refund_id": refund_id, "amount": amount, "paid_on": paid_on});
                p.events.push(Event::new(util::new_id("evt"), "netcash.refund_paid", now, data));
                Ok(true)
            })
            .await?;
        match r {
            Ok((applied, p)) => json(200, &serde_json::json!({"applied": applied, "status": p.status.code()})),
            Err(r) => shopper_error(r.status, r.code, &r.message, None),
        }
    }
}

/// Starts an operation in the journal (the caller's `update` stores it).
pub(super) fn begin(p: &mut Payment, kind: OpKind, origin: Origin, amount: Yen, key: String, now: i64) -> Result<Begin, Refused> {
    let b = p.journal.begin(p.status, p.amounts, OpRequest { kind, origin, amount, key }, now).map_err(|e| {
        let code = match (&e, kind) {
            (shared::journal::Refusal::NotAllowed(_), OpKind::Capture) => "settle_not_allowed",
            (shared::journal::Refusal::NotAllowed(_), OpKind::Void) => "cancel_not_allowed",
            (shared::journal::Refusal::NotAllowed(_), _) => "refund_not_allowed",
            _ => e.code(),
        };
        refused(409, code, e.to_string())
    })?;
    // (An attempt's own history line is "<method> attempt started".)
    if let Begin::Started(op) = b.clone() {
        if op.kind == OpKind::Attempt {
            return Ok(b);
        }
        p.history.push(HistoryEntry {
            at: now,
            status: p.status,
            note: format!("{} of {} yen sent to the provider ({}, key {})", op.kind.code(), op.amount.get(), op.id, op.key),
        });
    }
    Ok(b)
}

/// An attempt's outcome, learnt by asking the provider later.
fn apply_attempt_outcome(p: &mut Payment, op: &Operation, outcome: &OpOutcome, now: i64) {
    match outcome {
        OpOutcome::Succeeded { provider_ref } => {
            p.provider_ref = Some(provider_ref.clone());
            p.paid_at = Some(now);
            // NP approved a screening (the sale is fixed by the shipment
            // report); card specified sales are authorizations.
            let input = match (p.method, p.sales_mode, &p.recurring) {
                // A fixed-term purchase at au is specified sales; a monthly charge automatic.
                (Some(Method::Au), _, Some(super::Recurring::Charge { period: None, .. })) => Input::Authorized { amount: p.amount },
                (Some(Method::Np), _, _) | (Some(Method::Card), shared::methods::SalesMode::Specified, _) => Input::Authorized { amount: p.amount },
                _ => Input::Captured { amount: p.amount },
            };
            let _ = p.apply(input, &format!("the provider confirmed the attempt {} ({provider_ref})", op.key), now);
        }
        OpOutcome::Failed { code } => {
            p.last_error = Some(code.clone());
            let _ = p.apply(Input::AttemptRefused, &format!("the provider says the attempt {} took nothing ({code})", op.key), now);
            p.charge_refused(code, now);
        }
        OpOutcome::Unclear { why } => p.journal.checked_again(&op.id, why, now),
    }
}

fn queued_batch_refund(p: &mut Payment, op: &Operation, reference: &str, now: i64) {
    let Some(entry) = p.batch_refunds.iter().find(|b| b.id == op.key).cloned() else { return };
    p.history.push(HistoryEntry {
        at: now,
        status: p.status,
        note: format!(
            "NET CASH refund of {} yen queued ({reference}); batch closes {}, paid {}",
            entry.amount.get(),
            entry.batch_closes,
            entry.payout_date
        ),
    });
    let mut data = p.snapshot();
    data["refund"] = serde_json::json!({"refund_id": entry.id, "amount": entry.amount, "batch_closes": entry.batch_closes, "payout_date": entry.payout_date});
    p.events.push(Event::new(util::new_id("evt"), "netcash.refund_scheduled", now, data));
}

fn operation_event(p: &mut Payment, kind: &str, op: &Operation, now: i64) {
    let mut data = p.snapshot();
    data["operation"] = serde_json::to_value(op).unwrap_or_default();
    p.events.push(Event::new(util::new_id("evt"), kind, now, data));
}

/// What became of an unclear (or interrupted) au charge try, for the
/// journal's reconciliation: KDDI is asked by the charge's `service_ref`;
/// a charge KDDI never saw is sent again with the same key (the same
/// charge, if it got there meanwhile). NP charges are reconciled as any NP
/// attempt (by our shop transaction id); `None` here.
async fn charge_status(ctx: &Ctx, p: &Payment, key: &str) -> Option<Outcome> {
    let (Some(Method::Au), Some(super::Recurring::Charge { continuation: Some(c), period, .. })) = (p.method, &p.recurring) else { return None };
    let au = crate::connectors::au::Au { endpoint: &ctx.config.au };
    let mut answer = au.charge_status(c, key).await;
    if answer == crate::connectors::au::ChargeOutcome::Declined("not_found") {
        answer = au.charge(c, key, p.amount.get(), &p.item_name, period.is_none()).await;
    }
    Some(match answer {
        crate::connectors::au::ChargeOutcome::Charged { transaction_id, .. } => Outcome::Done { id: transaction_id },
        crate::connectors::au::ChargeOutcome::Declined(code) => Outcome::Refused { code: code.into() },
        crate::connectors::au::ChargeOutcome::Unclear(why) => Outcome::Unclear { why },
    })
}
