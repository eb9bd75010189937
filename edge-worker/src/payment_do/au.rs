//! au Kantan Kessai in the payment object. The generic flow (`pay`)
//! starts the attempt and keeps the payment `processing` while the shopper
//! is on KDDI's pages; this module
//!
//! * starts the attempt at KDDI with the payment's details and the OpenID
//!   linked to the merchant's `cust_code` ([`PaymentObject::au_attempt`]);
//! * takes the shopper's signed result back ([`PaymentObject::au_return`]):
//!   verified in constant time, for this payment's current attempt only,
//!   fresh, and within the 4-minute rule; anything that does not verify is
//!   refused, and KDDI is asked for the status instead;
//! * resumes an attempt when the shopper chooses au again
//!   ([`PaymentObject::au_pay`]);
//! * settles attempts nobody came back from ([`PaymentObject::au_sweep`]);
//! * applies au's deadlines to settle, cancel and refund ([`rule_refusal`]).

use shared::codes::Code;
use shared::au::{self as rules, ResultFields, RuleRefusal, Verdict};
use shared::methods::{Method, SalesMode};
use shared::money::Yen;
use shared::payment::{Input, Status};
use shared::time::UnixTime;
use worker::Response;

use super::{refused, shopper_error, Ctx, HistoryEntry, Payment, PaymentObject, Refused};
use crate::connectors::au::{Au, StartOutcome, StartRequest, Status as AuStatus};
use crate::methods::{self, AttemptOutcome};
use crate::store;
use crate::util::json;

/// How far a signed result's timestamp may be from our clock.
const RESULT_WINDOW_SECONDS: i64 = 600;
/// How long after the last moment an attempt could complete we wait for
/// the shopper before asking KDDI.
const RETURN_GRACE_SECONDS: i64 = 60;
/// The history note of the redirect (written by `pay`).
const SENT_TO_AU: &str = "shopper sent to au";

/// A merchant operation the au rules may refuse.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    Settle,
    Cancel,
    Refund { amount: Yen },
}

impl Payment {
    /// The history of the running attempt (`processing` entries at the end).
    fn au_run(&self) -> &[HistoryEntry] {
        // A subscription's charge never sends a shopper to KDDI: its
        // unclear answers are reconciled by the journal (`ops`).
        if self.status != Status::Processing || self.method != Some(Method::Au) || matches!(self.recurring, Some(super::Recurring::Charge { .. })) {
            return &[];
        }
        let n = self.history.iter().rev().take_while(|h| h.status == Status::Processing).count();
        &self.history[self.history.len() - n..]
    }

    /// The due date of the running au attempt: the shopper must start on
    /// the au side by then (4 minutes after choosing au, at most the
    /// page's time limit).
    pub(super) fn au_start_deadline(&self) -> Option<i64> {
        self.au_run().first().map(|h| rules::start_deadline(h.at, self.expires_at))
    }

    /// KDDI's transaction of the running attempt, once the shopper was sent.
    fn au_transaction(&self) -> Option<&str> {
        self.au_run().iter().any(|h| h.note.starts_with(SENT_TO_AU)).then_some(self.provider_ref.as_deref()).flatten()
    }

    /// When the object asks KDDI about a running attempt nobody came back
    /// from: after the last moment it could complete, then every minute.
    pub(super) fn au_check_at(&self) -> Option<i64> {
        let deadline = self.au_start_deadline()?;
        let last = self.history.last().map(|h| h.at).unwrap_or(0);
        Some((rules::complete_deadline(deadline) + RETURN_GRACE_SECONDS).max(last + 60))
    }

    /// Whether a result is for the running attempt.
    fn au_current(&self, f: &ResultFields, merchant_code: &str) -> bool {
        self.au_transaction() == Some(f.transaction_id.as_str())
            && f.service_ref == format!("{}-{}", self.id, self.attempts)
            && f.merchant_code == merchant_code
    }

    /// Where the shopper goes after a result: the way back to the shop
    /// when the checkout is over, the payment page otherwise.
    fn au_location(&self) -> String {
        if self.status.checkout_finished() {
            format!("/pay/{}/return", self.id)
        } else {
            format!("/pay/{}", self.id)
        }
    }
}

/// What au's rules refuse (PRODUCT §2, seed "Basic Specifications"), on
/// the payment object's clock. `None`: the state machine decides.
pub fn rule_refusal(p: &Payment, op: Op, now: UnixTime) -> Option<RuleRefusal> {
    if p.method != Some(Method::Au) {
        return None;
    }
    let purchased = p.paid_at.map(UnixTime);
    match (op, p.sales_mode) {
        (Op::Settle, SalesMode::Auto) => Some(RuleRefusal::AutoSalesNotSettleable),
        (Op::Cancel, SalesMode::Auto) => Some(RuleRefusal::AutoSalesNotCancellable),
        (Op::Settle, SalesMode::Specified) if p.status == Status::Authorized => rules::check_settle(purchased?, now).err(),
        (Op::Cancel, SalesMode::Specified) if p.status == Status::Authorized => rules::check_cancel(purchased?, now).err(),
        (Op::Refund { amount }, _) if matches!(p.status, Status::Paid | Status::PartiallyRefunded) => {
            // Settled when the payment first became paid (at once for
            // automatic sales, at the settlement for specified ones).
            let settled = p.history.iter().find(|h| h.status == Status::Paid).map(|h| UnixTime(h.at))?;
            let remaining = p.amounts.captured.checked_sub(p.amounts.refunded).unwrap_or(Yen::ZERO);
            rules::check_refund(settled, now, amount < remaining).err()
        }
        _ => None,
    }
}

fn not_current() -> Refused {
    refused(
        409,
        "au_return_not_current",
        "this au result was already received, or is not for this payment's current attempt; nothing was changed",
    )
}

fn kddi(ctx: &Ctx) -> Au<'_> {
    Au { endpoint: &ctx.config.au }
}

impl PaymentObject {
    /// Starts the au attempt of `p` (already `processing`) at KDDI.
    pub(super) async fn au_attempt(&self, ctx: &Ctx, p: &Payment, request_id: &str) -> AttemptOutcome {
        let open_id = match &p.cust_code {
            Some(cust_code) => match self.au_linked_open_id(ctx, p, cust_code).await {
                Ok(o) => o,
                Err(e) => {
                    // Without the link the shopper logs in; nothing else changes.
                    worker::console_error!("au link lookup for {} failed: {e}", p.id);
                    None
                }
            },
            None => None,
        };
        let now = ctx.clock.now().0;
        let return_url = format!("{}/pay/{}/au/return", ctx.config.public_base_url, p.id);
        let req = StartRequest {
            merchant_code: &ctx.config.au.merchant_code,
            service_ref: request_id,
            amount: p.charged_at_registration().get(),
            item_name: &p.item_name,
            sales_mode: if p.recurring.is_some() { "auto" } else { p.sales_mode.code() },
            return_url: &return_url,
            limit_at: p.au_start_deadline().unwrap_or_else(|| rules::start_deadline(now, p.expires_at)),
            open_id: open_id.as_deref(),
            billing: p.recurring.as_ref().map(|_| p.pay_type.code()),
        };
        match kddi(ctx).start(&req).await {
            StartOutcome::Started { transaction_id, login_url } => AttemptOutcome::Redirect { provider_ref: transaction_id, url: login_url },
            StartOutcome::Refused(code) => AttemptOutcome::Refused { code },
            StartOutcome::Unknown(why) => {
                worker::console_warn!("au start {request_id} unclear: {why}");
                AttemptOutcome::Unclear
            }
        }
    }

    async fn au_linked_open_id(&self, ctx: &Ctx, p: &Payment, cust_code: &str) -> worker::Result<Option<String>> {
        let db = store::db(&self.env, ctx.config.sandbox).await?;
        store::au_open_id(&db, &p.merchant_id, &p.service_id, cust_code).await
    }

    /// `POST /pay/au`: the shopper chose au. While an au attempt runs
    /// (back button, second click) the same KDDI page is answered again,
    /// or KDDI's final result is applied first.
    pub(super) async fn au_pay(&self, ctx: &Ctx, req: serde_json::Value) -> worker::Result<Response> {
        let running = self.load().await?.and_then(|p| p.au_transaction().map(str::to_string));
        let Some(tx) = running else { return self.pay(ctx, Method::Au, req.clone()).await };
        match kddi(ctx).status(&tx).await {
            AuStatus::Open { login_url } => json(200, &serde_json::json!({"status": "redirect", "redirect_url": login_url, "next": null})),
            AuStatus::Final(f) => match self.au_apply(ctx, &f).await? {
                // Refused (declined, cancelled, too late): a new attempt.
                Ok(p) if p.status == Status::Pending => self.pay(ctx, Method::Au, req.clone()).await,
                Ok(p) => json(200, &serde_json::json!({"status": p.status.code(), "next": p.next_url()})),
                Err(r) => shopper_error(r.status, r.code, &r.message, None),
            },
            _ => shopper_error(409, Code::AlreadyProcessing.as_str(), "a payment attempt is already running", None),
        }
    }

    /// `POST /au/return` with `{"pairs": [[name, value], …]}`: the result
    /// the shopper brought back from KDDI. Answers `{"location"}` or an
    /// error; a result that does not verify changes nothing.
    pub(super) async fn au_return(&self, ctx: &Ctx, pairs: Vec<(String, String)>) -> worker::Result<Response> {
        struct Body {
            pairs: Vec<(String, String)>,
        }
        let body = Body { pairs };
        let Some(p) = self.load().await? else { return shopper_error(404, "not_found", "no such payment", None) };
        let now = ctx.clock.now().0;
        let secret = ctx.config.au.secret.as_bytes();
        let verified = ResultFields::from_pairs(&body.pairs).ok().filter(|(f, sig)| f.verify(secret, sig)).map(|(f, _)| f);
        let refusal = match verified {
            None => refused(400, "au_return_invalid", "the au result could not be verified (altered or incomplete); nothing was changed"),
            Some(f) if !f.service_ref.starts_with(&format!("{}-", p.id)) => {
                refused(409, "au_return_not_current", "this au result is for another payment; nothing was changed")
            }
            Some(f) if !f.timestamp.parse::<i64>().is_ok_and(|t| now.abs_diff(t) <= RESULT_WINDOW_SECONDS as u64) => {
                refused(409, "au_return_not_current", "this au result is too old; nothing was changed")
            }
            Some(f) => {
                return match self.au_apply(ctx, &f).await? {
                    Ok(p) => json(200, &serde_json::json!({"location": p.au_location()})),
                    Err(r) => shopper_error(r.status, r.code, &r.message, None),
                };
            }
        };
        // Not usable as it stands: KDDI's own answer may still settle the
        // running attempt.
        if let Some(tx) = p.au_transaction().map(str::to_string) {
            if let AuStatus::Final(f) = kddi(ctx).status(&tx).await {
                if let Ok(p) = self.au_apply(ctx, &f).await? {
                    return json(200, &serde_json::json!({"location": p.au_location()}));
                }
            }
        }
        shopper_error(refusal.status, refusal.code, &refusal.message, None)
    }

    /// Applies KDDI's result (from a verified return or KDDI's status
    /// answer) to the running attempt: the 4-minute rule, then paid
    /// (captured or authorized, merchant notified) or refused.
    async fn au_apply(&self, ctx: &Ctx, f: &ResultFields) -> worker::Result<Result<Payment, Refused>> {
        let merchant_code = ctx.config.au.merchant_code.as_str();
        let Some(p) = self.load().await? else { return Ok(Err(refused(404, "not_found", "no such payment"))) };
        if !p.au_current(f, merchant_code) {
            return Ok(Err(not_current()));
        }
        let (Some(outcome), Some(deadline)) = (f.outcome(), p.au_start_deadline()) else {
            return Ok(Err(refused(400, "au_return_invalid", "the au result does not make sense; nothing was changed")));
        };
        let mut verdict = rules::verdict(&outcome, deadline);
        if matches!(verdict, Verdict::Paid { .. }) && f.amount != p.charged_at_registration().get().to_string() {
            verdict = Verdict::Refused { code: "au_amount_mismatch", undo: true };
        }
        // A subscription only on the sources the seed allows for it.
        if let (Verdict::Paid { method, .. }, Some(kind)) = (&verdict, p.recurring_kind()) {
            if !shared::recurring::au_source_allowed(kind, *method) {
                verdict = Verdict::Refused { code: "au_source_not_allowed", undo: true };
            }
        }
        let tx = f.transaction_id.clone();
        let mut undo_note = String::new();
        if let Verdict::Refused { undo: true, code } = verdict {
            // KDDI took a payment we refuse: give it back before recording.
            let key = format!("{tx}-refused");
            let undone = match p.sales_mode {
                SalesMode::Specified => methods::void(&ctx.config, Method::Au, &tx, &key).await,
                SalesMode::Auto => methods::refund(&ctx.config, Method::Au, &tx, &key, p.amount).await,
            };
            undo_note = match undone.into_result() {
                Ok(id) => format!("; KDDI's payment was given back ({id})"),
                Err(e) => {
                    worker::console_error!("au {tx}: a payment refused as {code} could not be given back: {e}");
                    format!("; KDDI's payment could NOT be given back ({e}): refund it at KDDI")
                }
            };
        }
        let changed = self
            .update(ctx, |p, now| {
                if !p.au_current(f, merchant_code) {
                    return Err(not_current());
                }
                match &verdict {
                    Verdict::Paid { method, .. } => {
                        p.instrument = Some(format!("au Kantan Kessai ({})", method.label_en()));
                        p.paid_at = Some(now);
                        let (input, what) = match p.sales_mode {
                            _ if p.charged_at_registration() == Yen::ZERO => (Input::Registered, "registration consented"),
                            _ if p.recurring.is_some() => (Input::Captured { amount: p.amount }, "captured (first month)"),
                            SalesMode::Auto => (Input::Captured { amount: p.amount }, "captured"),
                            SalesMode::Specified => (Input::Authorized { amount: p.amount }, "authorized"),
                        };
                        p.apply(input, &format!("au {what} ({tx}, {})", method.code()), now)
                    }
                    Verdict::Refused { code, .. } => {
                        p.last_error = Some(code.to_string());
                        p.apply(Input::AttemptRefused, &format!("au refused: {code} ({tx}){undo_note}"), now)
                    }
                }
                .map_err(|e| refused(500, "internal", e.to_string()))
            })
            .await?;
        let p = match changed {
            Ok((_, p)) => p,
            Err(r) => return Ok(Err(r)),
        };
        let Verdict::Paid { open_id, .. } = verdict else { return Ok(Ok(p)) };
        if let (Some(open_id), Some(cust_code)) = (open_id, &p.cust_code) {
            let linked = async {
                let db = store::db(&self.env, ctx.config.sandbox).await?;
                store::link_au_open_id(&db, &p.merchant_id, &p.service_id, cust_code, &open_id, ctx.clock.now().0).await
            };
            if let Err(e) = linked.await {
                // The payment stands; the next one asks for the login again.
                worker::console_error!("au link for {} failed: {e}", p.id);
            }
        }
        Ok(Ok(self.after_success(ctx, Method::Au, &tx, p).await?))
    }

    /// The alarm's part for au: an attempt nobody came back from is asked
    /// about at KDDI; a final result is applied, an open one is cancelled
    /// there and recorded as timed out.
    pub(super) async fn au_sweep(&self, ctx: &Ctx) {
        // A failure here must not hold up the deliveries that follow.
        if let Err(e) = self.au_sweep_inner(ctx).await {
            worker::console_error!("au sweep failed: {e}");
        }
    }

    async fn au_sweep_inner(&self, ctx: &Ctx) -> worker::Result<()> {
        let Some(p) = self.load().await? else { return Ok(()) };
        let Some(check_at) = p.au_check_at() else { return Ok(()) };
        if ctx.clock.now().0 < check_at {
            return Ok(());
        }
        let Some(tx) = p.au_transaction().map(str::to_string) else {
            return self.au_give_up(ctx, Code::ProviderUnavailable.as_str(), "the au attempt never reached KDDI; nothing was taken".into()).await;
        };
        match kddi(ctx).status(&tx).await {
            AuStatus::Final(f) => {
                if let Err(r) = self.au_apply(ctx, &f).await? {
                    worker::console_error!("au sweep {}: {}", p.id, r.message);
                    return self.au_give_up(ctx, rules::TIMEOUT, format!("au result for {tx} unusable: {}", r.message)).await;
                }
                Ok(())
            }
            AuStatus::Open { .. } | AuStatus::NotFound => match methods::void(&ctx.config, Method::Au, &tx, &format!("{tx}-abandoned")).await.into_result() {
                Ok(_) => self.au_give_up(ctx, rules::TIMEOUT, format!("the shopper did not come back from au ({tx}); cancelled at KDDI")).await,
                Err(e) => self.au_note(ctx, format!("au {tx} could not be cancelled ({e}); asking again")).await,
            },
            AuStatus::Unknown(why) => self.au_note(ctx, format!("could not ask KDDI about {tx} ({why}); asking again")).await,
        }
    }

    async fn au_give_up(&self, ctx: &Ctx, code: &'static str, note: String) -> worker::Result<()> {
        self.update(ctx, |p, now| {
            if p.au_start_deadline().is_none() {
                return Ok(());
            }
            p.last_error = Some(code.into());
            p.apply(Input::AttemptRefused, &note, now).map_err(|e| refused(500, "internal", e.to_string()))
        })
        .await?
        .ok();
        Ok(())
    }

    /// Records a note, which also moves the next check a minute on.
    async fn au_note(&self, ctx: &Ctx, note: String) -> worker::Result<()> {
        self.update(ctx, |p, now| {
            if p.au_start_deadline().is_some() {
                p.history.push(HistoryEntry { at: now, status: p.status, note });
            }
            Ok(())
        })
        .await?
        .ok();
        Ok(())
    }
}
