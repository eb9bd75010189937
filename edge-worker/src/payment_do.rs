//! One Durable Object per payment. It owns the payment's state: every
//! change goes through `shared::payment::transition`, writes its event into
//! the payment's outbox in the same storage write, and is stored before
//! anything is answered. The object's single-threaded execution serializes
//! clicks, retries and notifications; every change is made by `update`,
//! which reads, changes and writes with no outside I/O in between, so an
//! answer that arrives while another request waited cannot be overwritten.

use std::cell::Cell;

use serde::{Deserialize, Serialize};
use shared::methods::{Device, Method, PayType, SalesMode, Unavailable};
use shared::money::Yen;
use shared::outbox::{self, DeliveryState, Event};
use shared::payment::{transition, Amounts, Input, Status};
use shared::time::UnixTime;
use shared::webhooks::WebhookSecret;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use crate::clock::Clock;
use crate::config::Config;
use crate::methods::{self, AttemptOutcome};
use crate::notify::{self, MerchantAnswer};
use crate::store::{self, Merchant};
use crate::util::{self, json};

mod au;
mod wallet;

/// A method as the hosted page offers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Offer {
    pub method: Method,
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Unavailable>,
}

/// A line of the payment's history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: i64,
    pub status: Status,
    pub note: String,
}

/// Everything a payment is. Card numbers and NET CASH IDs are never part
/// of it; only `instrument`, a masked description, is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub merchant_id: String,
    pub service_id: String,
    pub merchant_name: String,
    pub order_id: String,
    pub cust_code: Option<String>,
    pub item_id: Option<String>,
    pub item_name: String,
    pub amount: Yen,
    pub tax: Yen,
    pub pay_type: PayType,
    pub sales_mode: SalesMode,
    pub device: Device,
    pub offers: Vec<Offer>,
    pub success_url: String,
    pub cancel_url: String,
    pub error_url: String,
    pub pagecon_url: String,
    pub free: [Option<String>; 3],
    pub created_at: i64,
    pub expires_at: i64,
    pub status: Status,
    pub amounts: Amounts,
    pub method: Option<Method>,
    pub attempts: u32,
    pub provider_ref: Option<String>,
    pub instrument: Option<String>,
    pub paid_at: Option<i64>,
    pub last_error: Option<String>,
    pub merchant_answer: Option<MerchantAnswer>,
    pub history: Vec<HistoryEntry>,
    /// The outbox and delivery log: webhook events and result notifications.
    pub events: Vec<Event>,
    /// NET CASH refunds queued into weekly batches.
    #[serde(default)]
    pub batch_refunds: Vec<BatchRefund>,
}

/// A NET CASH refund in a weekly batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchRefund {
    pub id: String,
    pub amount: Yen,
    pub requested_at: i64,
    /// `YYYY-MM-DD` JST.
    pub batch_closes: String,
    pub payout_date: String,
    pub paid_on: Option<String>,
}

/// Why a change was refused, for the caller.
pub struct Refused {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn refused(status: u16, code: &'static str, message: impl Into<String>) -> Refused {
    Refused { status, code, message: message.into() }
}

/// The webhook event a transition produces, if merchants hear of it.
fn event_type(input: Input, to: Status) -> Option<&'static str> {
    Some(match (input, to) {
        (Input::Settled { .. }, _) => "payment.settled",
        (Input::InvestigationCleared, _) => "payment.investigation_cleared",
        (_, Status::UnderInvestigation) => "payment.investigation_opened",
        (_, Status::ChargedBack) => "payment.chargeback",
        (_, Status::Paid) => "payment.paid",
        (_, Status::Authorized) => "payment.authorized",
        (_, Status::Held) => "payment.held",
        (_, Status::Cancelled) => "payment.cancelled",
        (_, Status::Failed) => "payment.failed",
        (_, Status::Expired) => "payment.expired",
        (_, Status::RejectedByMerchant) => "payment.rejected",
        (_, Status::RefundRequired) => "payment.refund_required",
        (_, Status::Refunded) => "payment.refunded",
        (_, Status::PartiallyRefunded) => "payment.partially_refunded",
        (_, Status::Pending | Status::Processing) => return None,
    })
}

impl Payment {
    fn offered(&self, m: Method) -> bool {
        self.offers.iter().any(|o| o.method == m && o.available)
    }

    pub fn next_url(&self) -> Option<String> {
        self.status.checkout_finished().then(|| format!("/pay/{}/return", self.id))
    }

    /// What merchants see of the payment in events and the API.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "merchant_id": self.merchant_id,
            "service_id": self.service_id,
            "order_id": self.order_id,
            "tracking_id": self.id,
            "method": self.method.map(|m| m.code()),
            "amount": self.amount,
            "tax": self.tax,
            "status": self.status.code(),
            "captured": self.amounts.captured,
            "refunded": self.amounts.refunded,
            "payment_date": self.paid_at.map(|t| UnixTime(t).jst().compact()),
            "error_code": self.last_error,
            "cust_code": self.cust_code,
            "item_id": self.item_id,
            "item_name": self.item_name,
            "instrument": self.instrument,
            "free1": self.free[0],
            "free2": self.free[1],
            "free3": self.free[2],
        })
    }

    /// Applies an input through the state machine, records the history
    /// line and writes the event into the outbox.
    pub fn apply(&mut self, input: Input, note: &str, now: i64) -> Result<(), shared::payment::TransitionError> {
        let (status, amounts) = transition(self.status, self.amounts, input)?;
        self.status = status;
        self.amounts = amounts;
        self.history.push(HistoryEntry { at: now, status, note: note.to_string() });
        if let Some(kind) = event_type(input, status) {
            let data = self.snapshot();
            self.events.push(Event::new(util::new_id("evt"), kind, now, data));
        }
        Ok(())
    }

    fn expire_if_due(&mut self, now: i64) {
        if self.status == Status::Pending && now >= self.expires_at {
            let _ = self.apply(Input::TimedOut, "the page's time limit passed", now);
        }
    }

    /// When the object next has work: expiry of an open page, or the
    /// next delivery.
    fn next_work(&self) -> Option<i64> {
        let expiry = (self.status == Status::Pending).then_some(self.expires_at).or_else(|| self.au_check_at());
        match (expiry, outbox::next_due(&self.events)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

fn shopper_error(status: u16, code: &str, message: &str, next: Option<String>) -> worker::Result<Response> {
    json(status, &serde_json::json!({"error": {"code": code, "message": message}, "next": next}))
}

/// A refusal of the shopper's input; `fields` lists each wrong field.
fn input_error(e: &methods::InputError) -> worker::Result<Response> {
    let mut body = serde_json::json!({"error": {"code": e.code, "message": e.message}, "next": null});
    if !e.fields.is_empty() {
        body["error"]["fields"] = serde_json::to_value(&e.fields)?;
    }
    json(422, &body)
}

fn internal(e: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(e.to_string())
}

fn secrets(m: &Merchant) -> Vec<WebhookSecret> {
    m.webhook_secrets.iter().filter_map(|s| WebhookSecret::parse(s).ok()).collect()
}

#[durable_object]
pub struct PaymentObject {
    state: State,
    env: Env,
    /// Set while deliveries run, so the alarm and a sweep never send the
    /// same event twice at once.
    delivering: Cell<bool>,
    /// This object's payment id, from the first request (its name).
    payment_id: std::cell::RefCell<Option<String>>,
}

const KEY: &str = "payment";

struct Ctx {
    config: Config,
    clock: Clock,
}

impl PaymentObject {
    async fn ctx(&self) -> worker::Result<Ctx> {
        let config = Config::from_env(&self.env)?;
        let clock = Clock::load(&self.env, &config).await?;
        Ok(Ctx { config, clock })
    }

    /// The payment. A checkout is first written to D1 with its order id;
    /// its object takes it from there the first time it is asked for
    /// anything (the shopper's page, a sweep), and owns it from then on.
    async fn load(&self) -> worker::Result<Option<Payment>> {
        if let Some(p) = self.state.storage().get::<Payment>(KEY).await? {
            return Ok(Some(p));
        }
        let Some(id) = self.payment_id.borrow().clone() else { return Ok(None) };
        let config = Config::from_env(&self.env)?;
        let db = store::db(&self.env, config.sandbox).await?;
        let Some(p) = store::payment_record(&db, &id).await? else { return Ok(None) };
        self.state.storage().put(KEY, &p).await?;
        let clock = Clock::load(&self.env, &config).await?;
        self.schedule(&Ctx { config, clock }, &p).await?;
        Ok(Some(p))
    }

    async fn merchant(&self, ctx: &Ctx, p: &Payment) -> worker::Result<Merchant> {
        let db = store::db(&self.env, ctx.config.sandbox).await?;
        store::find_merchant(&db, &p.merchant_id, &p.service_id).await?.ok_or_else(|| internal("merchant disappeared"))
    }

    /// Sets the alarm for the payment's next work.
    async fn schedule(&self, ctx: &Ctx, p: &Payment) -> worker::Result<Option<i64>> {
        let next = p.next_work();
        match next {
            Some(t) => {
                let secs = ctx.clock.real_delay_until(t).max(0) as u64;
                self.state.storage().set_alarm(std::time::Duration::from_millis(secs * 1000 + 50)).await?;
            }
            None => self.state.storage().delete_alarm().await?,
        }
        Ok(next)
    }

    /// Stores the payment, schedules the next work and mirrors the index.
    async fn save(&self, ctx: &Ctx, p: &Payment) -> worker::Result<()> {
        self.state.storage().put(KEY, p).await?;
        let next = self.schedule(ctx, p).await?;
        let db = store::db(&self.env, ctx.config.sandbox).await?;
        if let Err(e) =
            store::update_payment_index(&db, &p.id, p.method.map(|m| m.code()), p.status.code(), ctx.clock.now().0, next).await
        {
            // The index mirrors the object; the payment itself is stored.
            worker::console_error!("payment index update failed for {}: {e}", p.id);
        }
        Ok(())
    }

    /// Reads, changes and writes the payment with no outside I/O between.
    async fn update<T>(&self, ctx: &Ctx, f: impl FnOnce(&mut Payment, i64) -> Result<T, Refused>) -> worker::Result<Result<(T, Payment), Refused>> {
        let Some(mut p) = self.load().await? else { return Ok(Err(refused(404, "not_found", "no such payment"))) };
        let now = ctx.clock.now().0;
        let before = serde_json::to_string(&p)?;
        p.expire_if_due(now);
        let out = f(&mut p, now);
        if serde_json::to_string(&p)? != before {
            self.save(ctx, &p).await?;
        }
        Ok(out.map(|t| (t, p)))
    }

    /// Sends `payment.result` to `pagecon_url` before the shopper leaves,
    /// records it in the same log as webhooks, and returns the answer.
    async fn notify_result(&self, ctx: &Ctx, p: &Payment) -> worker::Result<MerchantAnswer> {
        let merchant = self.merchant(ctx, p).await?;
        let now = ctx.clock.now().0;
        let mut event = Event::new(util::new_id("msg"), "payment.result", now, p.snapshot());
        let payload = event.payload(&UnixTime(now).rfc3339_utc());
        let (out, attempt) =
            notify::post_signed(&p.pagecon_url, &secrets(&merchant), &event.id, &payload, ctx.config.pagecon_timeout_ms, now).await;
        let answer = notify::read_answer(&out);
        event.attempts.push(attempt);
        event.state = if answer == MerchantAnswer::Ok { DeliveryState::Delivered } else { DeliveryState::GaveUp };
        event.next_at = None;
        let answer2 = answer.clone();
        self.update(ctx, move |p, _| {
            p.events.push(event);
            p.merchant_answer = Some(answer2);
            Ok(())
        })
        .await?
        .map_err(|r| internal(r.message))?;
        Ok(answer)
    }

    /// The shopper pays with `method`: the same flow for every method.
    async fn pay(&self, ctx: &Ctx, method: Method, mut req: Request) -> worker::Result<Response> {
        let body: serde_json::Value = req.json().await.unwrap_or(serde_json::Value::Null);
        let input = match methods::ShopperInput::parse_at(method, &body, ctx.clock.now()) {
            Ok(i) => i,
            Err(e) => return input_error(&e),
        };
        if self.maintenance(ctx).await?.contains(&method) {
            return shopper_error(503, "method_maintenance", "this payment method is under maintenance; choose another one", None);
        }
        let started = self
            .update(ctx, |p, now| {
                if p.status.checkout_finished() {
                    let code = if p.status == Status::Expired { "expired" } else { "already_finished" };
                    return Err(refused(409, code, "this payment is over"));
                }
                if !p.offered(method) {
                    return Err(refused(409, "method_unavailable", "this method is not offered for this payment"));
                }
                p.apply(Input::AttemptStarted, &format!("{} attempt started", method.code()), now)
                    .map_err(|_| refused(409, "already_processing", "a payment attempt is already running"))?;
                p.attempts += 1;
                p.method = Some(method);
                p.instrument = Some(input.instrument());
                p.last_error = None;
                Ok((format!("{}-{}", p.id, p.attempts), p.amount))
            })
            .await?;
        let ((request_id, amount), started) = match started {
            Ok(v) => v,
            Err(r) => {
                let p = self.load().await?;
                let next = if r.status == 409 && r.code != "already_processing" { p.and_then(|p| p.next_url()) } else { None };
                return shopper_error(r.status, r.code, &r.message, next);
            }
        };

        let outcome = match &input {
            methods::ShopperInput::Au => self.au_attempt(ctx, &started, &request_id).await,
            _ => methods::attempt(&ctx.config, &input, &request_id, amount, &started).await,
        };
        drop(input);

        let (_, p) = self
            .update(ctx, |p, now| {
                match &outcome {
                    AttemptOutcome::Captured { provider_ref } => {
                        p.provider_ref = Some(provider_ref.clone());
                        p.paid_at = Some(now);
                        p.apply(Input::Captured { amount: p.amount }, &format!("{} captured ({provider_ref})", method.code()), now)
                    }
                    AttemptOutcome::Authorized { provider_ref } => {
                        p.provider_ref = Some(provider_ref.clone());
                        p.paid_at = Some(now);
                        p.apply(Input::Authorized { amount: p.amount }, &format!("{} authorized ({provider_ref})", method.code()), now)
                    }
                    AttemptOutcome::Held { provider_ref } => {
                        p.provider_ref = Some(provider_ref.clone());
                        p.apply(Input::ScreeningHeld { amount: p.amount }, &format!("{} screening held ({provider_ref})", method.code()), now)
                    }
                    AttemptOutcome::Redirect { provider_ref, .. } => {
                        p.provider_ref = Some(provider_ref.clone());
                        p.history.push(HistoryEntry { at: now, status: p.status, note: format!("shopper sent to {} ({provider_ref})", method.code()) });
                        Ok(())
                    }
                    AttemptOutcome::Refused { code } => {
                        p.last_error = Some(code.to_string());
                        p.apply(Input::AttemptRefused, &format!("{} refused: {code}", method.code()), now)
                    }
                    AttemptOutcome::Unclear => {
                        p.last_error = Some("provider_unavailable".into());
                        p.apply(Input::AttemptRefused, "the provider gave no clear answer; nothing was taken", now)
                    }
                }
                .map_err(|e| refused(500, "internal", e.to_string()))
            })
            .await?
            .map_err(|r| internal(r.message))?;

        match outcome {
            AttemptOutcome::Captured { provider_ref } | AttemptOutcome::Authorized { provider_ref } | AttemptOutcome::Held { provider_ref } => {
                let p = self.after_success(ctx, method, &provider_ref, p).await?;
                json(200, &serde_json::json!({"status": p.status.code(), "next": p.next_url()}))
            }
            AttemptOutcome::Redirect { url, .. } => json(200, &serde_json::json!({"status": "redirect", "redirect_url": url, "next": null})),
            AttemptOutcome::Refused { code } => shopper_error(methods::refusal_status(code), code, methods::refusal_message(code), None),
            AttemptOutcome::Unclear => shopper_error(502, "provider_unavailable", "the provider did not answer; try again", None),
        }
    }

    /// Money moved (or was authorized, or is held): tell the merchant
    /// before the shopper leaves, and undo it if the merchant refuses.
    /// Method drivers that finish an attempt outside `pay` (au's return)
    /// call this too.
    async fn after_success(&self, ctx: &Ctx, method: Method, provider_ref: &str, p: Payment) -> worker::Result<Payment> {
        let answer = self.notify_result(ctx, &p).await?;
        if answer == MerchantAnswer::Ok {
            return Ok(p);
        }
        self.merchant_rejected(ctx, method, provider_ref, &answer).await
    }

    /// The merchant answered NG or nothing: undo the payment where the
    /// method allows (void an authorization or a hold, refund a capture),
    /// otherwise mark it as needing a refund.
    async fn merchant_rejected(&self, ctx: &Ctx, method: Method, provider_ref: &str, answer: &MerchantAnswer) -> worker::Result<Payment> {
        let p = self.load().await?.ok_or_else(|| internal("payment vanished"))?;
        let key = format!("{}-rollback", p.id);
        let undo = match p.status {
            Status::Authorized | Status::Held => Some(methods::void(&ctx.config, method, provider_ref, &key).await),
            _ if methods::can_roll_back(method) => Some(methods::refund(&ctx.config, method, provider_ref, &key, p.amounts.captured).await),
            _ => None,
        };
        let rolled_back = if let Some(undo) = undo {
            match undo {
                Ok(_) => true,
                Err(e) => {
                    worker::console_error!("rollback of {} failed: {e}", p.id);
                    false
                }
            }
        } else {
            false
        };
        // An authorization that could not be voided is still only an
        // authorization: record it as rejected; a capture needs a refund.
        let note = if rolled_back {
            format!("merchant did not accept the result ({answer:?}); the payment was rolled back")
        } else {
            format!("merchant did not accept the result ({answer:?}); the provider cannot roll it back: refund required")
        };
        let (_, p) = self
            .update(ctx, |p, now| {
                p.last_error = Some("merchant_rejected".into());
                p.apply(Input::MerchantRejected { rollback: rolled_back }, &note, now).map_err(|e| refused(500, "internal", e.to_string()))
            })
            .await?
            .map_err(|r| internal(r.message))?;
        Ok(p)
    }

    /// Settle (capture) or void asked by the merchant (API): checked
    /// against the state machine, done at the provider, then recorded.
    async fn settle_or_void(&self, ctx: &Ctx, mut req: Request, settle: bool) -> worker::Result<Response> {
        #[derive(Deserialize)]
        struct Body {
            amount: Option<u64>,
            key: String,
        }
        let Ok(body) = req.json::<Body>().await else { return shopper_error(400, "invalid_body", "{amount?, key}", None) };
        let Some(p) = self.load().await? else { return shopper_error(404, "payment_not_found", "no such payment", None) };
        let (Some(method), Some(provider_ref)) = (p.method, p.provider_ref.clone()) else {
            return shopper_error(409, "not_authorized", "the payment has no authorization", None);
        };
        let op = if settle { au::Op::Settle } else { au::Op::Cancel };
        if let Some(r) = au::rule_refusal(&p, op, ctx.clock.now()) {
            return shopper_error(422, r.code(), &r.message(), None);
        }
        let input = if settle {
            Input::Settled { amount: Yen::new(body.amount.unwrap_or(p.amounts.authorized.get())) }
        } else {
            Input::Voided
        };
        if let Err(e) = transition(p.status, p.amounts, input) {
            let code = if settle { "settle_not_allowed" } else { "cancel_not_allowed" };
            return shopper_error(409, code, &e.to_string(), None);
        }
        let done = if settle {
            let Input::Settled { amount } = input else { unreachable!("built above") };
            methods::settle(&ctx.config, method, &provider_ref, &body.key, amount).await
        } else {
            methods::void(&ctx.config, method, &provider_ref, &body.key).await
        };
        match done {
            Err(e) => shopper_error(502, "provider_refused", &format!("the provider refused: {e}"), None),
            Ok(reference) => {
                let what = if settle { "settled" } else { "cancelled" };
                match self
                    .update(ctx, |p, now| p.apply(input, &format!("{what} ({reference})"), now).map_err(|e| refused(409, "not_allowed", e.to_string())))
                    .await?
                {
                    Ok((_, p)) => json(200, &p),
                    Err(r) => shopper_error(r.status, r.code, &r.message, None),
                }
            }
        }
    }

    /// A provider's verified notification about this payment (screening
    /// decided, chargeback, …). Applying one twice, or after a later one,
    /// changes nothing: the state machine refuses what no longer applies.
    async fn provider_event(&self, ctx: &Ctx, mut req: Request) -> worker::Result<Response> {
        #[derive(Deserialize)]
        struct Body {
            input: Input,
            note: String,
            /// Kept as the payment's error code when the input applies
            /// (e.g. `np_declined`).
            #[serde(default)]
            error_code: Option<String>,
        }
        let Ok(body) = req.json::<Body>().await else { return shopper_error(400, "invalid_body", "{input, note, error_code?}", None) };
        let r = self
            .update(ctx, |p, now| {
                let before = p.last_error.clone();
                if body.error_code.is_some() {
                    p.last_error = body.error_code.clone();
                }
                let applied = p.apply(body.input, &body.note, now).is_ok();
                if !applied {
                    p.last_error = before;
                }
                Ok(applied)
            })
            .await?;
        match r {
            Ok((applied, p)) => json(200, &serde_json::json!({"applied": applied, "status": p.status.code()})),
            Err(r) => shopper_error(r.status, r.code, &r.message, None),
        }
    }

    /// A NET CASH refund requested in the administration tool: checked
    /// against the deadline and what remains, queued into this week's
    /// batch at NET CASH, recorded with its payout date.
    async fn netcash_refund(&self, ctx: &Ctx, mut req: Request) -> worker::Result<Response> {
        #[derive(Deserialize)]
        struct Body {
            amount: Option<u64>,
        }
        let body: Body = req.json().await.unwrap_or(Body { amount: None });
        let Some(p) = self.load().await? else { return shopper_error(404, "payment_not_found", "no such payment", None) };
        if p.method != Some(Method::Netcash) {
            return shopper_error(422, "not_netcash", "batch refunds are for NET CASH payments", None);
        }
        let (Some(txid), Some(paid_at)) = (p.provider_ref.clone(), p.paid_at) else {
            return shopper_error(409, "not_paid", "the payment has taken no money", None);
        };
        let today = ctx.clock.now().jst().date;
        if let Err(r) = shared::rules::check_netcash_refund(UnixTime(paid_at).jst().date, today) {
            return shopper_error(422, r.code, &r.message, None);
        }
        let queued: u64 = p.batch_refunds.iter().filter(|r| r.paid_on.is_none()).map(|r| r.amount.get()).sum();
        let remaining = p.amounts.captured.get().saturating_sub(p.amounts.refunded.get()).saturating_sub(queued);
        let amount = body.amount.unwrap_or(remaining);
        if amount == 0 || amount > remaining {
            return shopper_error(
                409,
                "refund_not_allowed",
                &format!("{amount} yen is more than what can still be refunded ({remaining} yen, counting refunds already in a batch)"),
                None,
            );
        }
        if !matches!(p.status, Status::Paid | Status::PartiallyRefunded | Status::RefundRequired) {
            return shopper_error(409, "refund_not_allowed", &format!("a {} payment cannot be refunded", p.status.code()), None);
        }
        let batch = shared::rules::netcash_batch(today);
        let refund_id = format!("{}-r{}", p.id, p.batch_refunds.len() + 1);
        let connector = crate::connectors::netcash::Netcash { endpoint: &ctx.config.netcash };
        if let Err(e) = connector.request_refund(&refund_id, &txid, amount, &batch.paid.iso()).await {
            return shopper_error(502, "provider_refused", &format!("NET CASH did not queue the refund: {e}"), None);
        }
        let entry = BatchRefund {
            id: refund_id.clone(),
            amount: Yen::new(amount),
            requested_at: ctx.clock.now().0,
            batch_closes: batch.closes.iso(),
            payout_date: batch.paid.iso(),
            paid_on: None,
        };
        let answer = serde_json::json!({
            "refund_id": refund_id, "amount": amount, "batch_closes": entry.batch_closes, "payout_date": entry.payout_date,
        });
        self.update(ctx, |p, now| {
            p.history.push(HistoryEntry {
                at: now,
                status: p.status,
                note: format!("NET CASH refund of {amount} yen queued; batch closes {}, paid {}", entry.batch_closes, entry.payout_date),
            });
            let mut data = p.snapshot();
            data["refund"] = serde_json::json!({"refund_id": entry.id, "amount": amount, "batch_closes": entry.batch_closes, "payout_date": entry.payout_date});
            p.events.push(Event::new(util::new_id("evt"), "netcash.refund_scheduled", now, data));
            p.batch_refunds.push(entry);
            Ok(())
        })
        .await?
        .map_err(|r| internal(r.message))?;
        json(201, &answer)
    }

    /// NET CASH paid a batch refund (verified notification, or its status
    /// when a notification could not be verified). Twice changes nothing.
    async fn netcash_refund_paid(&self, ctx: &Ctx, mut req: Request) -> worker::Result<Response> {
        #[derive(Deserialize)]
        struct Body {
            refund_id: String,
            paid_on: String,
        }
        let Ok(body) = req.json::<Body>().await else { return shopper_error(400, "invalid_body", "{refund_id, paid_on}", None) };
        let r = self
            .update(ctx, |p, now| {
                let Some(i) = p.batch_refunds.iter().position(|r| r.id == body.refund_id) else {
                    return Err(refused(404, "refund_not_found", "no such batch refund"));
                };
                if p.batch_refunds[i].paid_on.is_some() {
                    return Ok(false);
                }
                let amount = p.batch_refunds[i].amount;
                p.batch_refunds[i].paid_on = Some(body.paid_on.clone());
                p.apply(Input::Refunded { amount }, &format!("NET CASH paid the batch refund {} on {}", body.refund_id, body.paid_on), now)
                    .map_err(|e| refused(409, "refund_not_allowed", e.to_string()))?;
                let mut data = p.snapshot();
                data["refund"] = serde_json::json!({"refund_id": body.refund_id, "amount": amount, "paid_on": body.paid_on});
                p.events.push(Event::new(util::new_id("evt"), "netcash.refund_paid", now, data));
                Ok(true)
            })
            .await?;
        match r {
            Ok((applied, p)) => json(200, &serde_json::json!({"applied": applied, "status": p.status.code()})),
            Err(r) => shopper_error(r.status, r.code, &r.message, None),
        }
    }

    /// A refund asked by the merchant (API): through the provider, then
    /// recorded. The amount is checked against what remains first.
    async fn refund(&self, ctx: &Ctx, mut req: Request) -> worker::Result<Response> {
        #[derive(Deserialize)]
        struct Body {
            amount: Option<u64>,
            key: String,
        }
        let Ok(body) = req.json::<Body>().await else { return shopper_error(400, "invalid_body", "{amount?, key}", None) };
        let Some(p) = self.load().await? else { return shopper_error(404, "payment_not_found", "no such payment", None) };
        let (Some(method), Some(provider_ref)) = (p.method, p.provider_ref.clone()) else {
            return shopper_error(409, "not_paid", "the payment has taken no money", None);
        };
        let remaining = p.amounts.captured.checked_sub(p.amounts.refunded).unwrap_or(Yen::ZERO);
        let amount = Yen::new(body.amount.unwrap_or(remaining.get()));
        if let Err(e) = transition(p.status, p.amounts, Input::Refunded { amount }) {
            return shopper_error(409, "refund_not_allowed", &e.to_string(), None);
        }
        if let Some(r) = au::rule_refusal(&p, au::Op::Refund { amount }, ctx.clock.now()) {
            return shopper_error(422, r.code(), &r.message(), None);
        }
        match methods::refund(&ctx.config, method, &provider_ref, &body.key, amount).await {
            Err(e) => shopper_error(502, "provider_refused", &format!("the provider did not refund: {e}"), None),
            Ok(refund_id) => {
                let changed = self
                    .update(ctx, |p, now| {
                        p.apply(Input::Refunded { amount }, &format!("refunded {} yen ({refund_id})", amount.get()), now)
                            .map_err(|e| refused(409, "refund_not_allowed", e.to_string()))
                    })
                    .await?;
                match changed {
                    Ok((_, p)) => json(200, &p),
                    Err(r) => shopper_error(r.status, r.code, &r.message, None),
                }
            }
        }
    }

    async fn cancel(&self, ctx: &Ctx) -> worker::Result<Response> {
        let changed = self
            .update(ctx, |p, now| match p.status {
                Status::Processing => Err(refused(409, "already_processing", "a payment attempt is running")),
                Status::Pending => {
                    let (input, note) = if p.last_error.is_some() {
                        (Input::ShopperGaveUp, "the shopper went back to the shop after a refusal")
                    } else {
                        (Input::ShopperCancelled, "the shopper cancelled")
                    };
                    p.apply(input, note, now).map_err(|e| refused(500, "internal", e.to_string()))?;
                    Ok(true)
                }
                _ => Ok(false),
            })
            .await?;
        match changed {
            Err(r) => shopper_error(r.status, r.code, &r.message, None),
            Ok((changed, p)) => {
                if changed {
                    // Tell the merchant before the shopper arrives there; the
                    // answer changes nothing for a payment that did not happen.
                    if let Err(e) = self.notify_result(ctx, &p).await {
                        worker::console_error!("result notification for {} failed: {e}", p.id);
                    }
                }
                json(200, &serde_json::json!({"status": p.status.code(), "next": p.next_url()}))
            }
        }
    }

    /// Methods an operator put under maintenance now.
    async fn maintenance(&self, ctx: &Ctx) -> worker::Result<Vec<Method>> {
        let db = store::db(&self.env, ctx.config.sandbox).await?;
        store::methods_under_maintenance(&db, ctx.clock.now().0).await
    }

    async fn session(&self, ctx: &Ctx) -> worker::Result<Response> {
        let down = self.maintenance(ctx).await?;
        match self.update(ctx, |_, now| Ok(now)).await? {
            Err(r) => shopper_error(r.status, r.code, &r.message, None),
            Ok((now, mut p)) => {
                // A window that began after the page opened is explained, too.
                for o in p.offers.iter_mut().filter(|o| down.contains(&o.method)) {
                    o.available = false;
                    o.reason = Some(Unavailable::Maintenance);
                }
                json(
                200,
                &serde_json::json!({
                    "payment_id": p.id,
                    "merchant_name": p.merchant_name,
                    "item_name": p.item_name,
                    "amount": p.amount,
                    "tax": p.tax,
                    "status": p.status.code(),
                    "methods": p.offers,
                    "expires_at": p.expires_at,
                    "now": now,
                    "last_error": p.last_error.as_ref().map(|c| serde_json::json!({"code": c})),
                    "next": p.next_url(),
                }),
            )
            }
        }
    }

    /// Delivers every due event, in order, stopping at the first failure.
    async fn deliver_due(&self, ctx: &Ctx) -> worker::Result<()> {
        if self.delivering.replace(true) {
            return Ok(());
        }
        let result = self.deliver_due_inner(ctx).await;
        self.delivering.set(false);
        result
    }

    async fn deliver_due_inner(&self, ctx: &Ctx) -> worker::Result<()> {
        let mut merchant: Option<Merchant> = None;
        loop {
            let Some(p) = self.load().await? else { return Ok(()) };
            let now = ctx.clock.now().0;
            let Some(i) = outbox::due(&p.events, now) else {
                // Expiry happens through update; the alarm is set again
                // whether or not anything changed.
                if let Ok(((), p)) = self.update(ctx, |_, _| Ok(())).await? {
                    self.schedule(ctx, &p).await?;
                }
                return Ok(());
            };
            if merchant.is_none() {
                merchant = Some(self.merchant(ctx, &p).await?);
            }
            let m = merchant.as_ref().expect("loaded above");
            let event = p.events[i].clone();
            let url = match (&m.webhook_url, m.webhook_disabled_at) {
                (Some(url), None) => url.clone(),
                _ => {
                    self.update(ctx, |p, _| {
                        if let Some(e) = p.events.iter_mut().find(|e| e.id == event.id) {
                            e.state = DeliveryState::NoEndpoint;
                            e.next_at = None;
                        }
                        Ok(())
                    })
                    .await?
                    .ok();
                    continue;
                }
            };
            let payload = event.payload(&UnixTime(event.created_at).rfc3339_utc());
            let (_, attempt) = notify::post_signed(&url, &secrets(m), &event.id, &payload, ctx.config.webhook_timeout_ms, now).await;
            let ok = attempt.succeeded();
            let (gave_up, _) = self
                .update(ctx, |p, _| {
                    let e = p.events.iter_mut().find(|e| e.id == event.id).ok_or_else(|| refused(500, "internal", "event vanished"))?;
                    e.record(attempt);
                    Ok(e.state == DeliveryState::GaveUp)
                })
                .await?
                .map_err(|r| internal(r.message))?;
            if gave_up {
                let db = store::db(&self.env, ctx.config.sandbox).await?;
                let notice = format!(
                    "Deliveries to {url} failed for more than three days (last: event {}). Webhooks are paused; set the webhook URL again to resume.",
                    event.id
                );
                store::disable_webhook(&db, &m.merchant_id, &m.service_id, now, &notice).await?;
                merchant = None;
            }
            if !ok {
                return Ok(());
            }
        }
    }

    /// Sends one event again by hand, now, whatever its state.
    async fn resend(&self, ctx: &Ctx, event_id: &str) -> worker::Result<Response> {
        let Some(p) = self.load().await? else { return shopper_error(404, "not_found", "no such payment", None) };
        let Some(event) = p.events.iter().find(|e| e.id == event_id).cloned() else {
            return shopper_error(404, "event_not_found", "no such event on this payment", None);
        };
        let m = self.merchant(ctx, &p).await?;
        let url = if event.kind == "payment.result" { Some(p.pagecon_url.clone()) } else { m.webhook_url.clone() };
        let Some(url) = url else {
            return shopper_error(409, "no_webhook_url", "the merchant has no webhook URL; set one with PUT /v1/merchant", None);
        };
        let now = ctx.clock.now().0;
        let payload = event.payload(&UnixTime(event.created_at).rfc3339_utc());
        let (_, attempt) = notify::post_signed(&url, &secrets(&m), &event.id, &payload, ctx.config.webhook_timeout_ms, now).await;
        let record = attempt.clone();
        self.update(ctx, |p, _| {
            if let Some(e) = p.events.iter_mut().find(|e| e.id == event.id) {
                e.record_manual(record);
            }
            Ok(())
        })
        .await?
        .ok();
        json(200, &serde_json::json!({"event_id": event.id, "attempt": attempt, "delivered": attempt.succeeded()}))
    }
}

impl DurableObject for PaymentObject {
    fn new(state: State, env: Env) -> Self {
        Self { state, env, delivering: Cell::new(false), payment_id: std::cell::RefCell::new(None) }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        if let Some(id) = req.headers().get("x-payment-id")?.filter(|id| crate::checkout::valid_payment_id(id)) {
            self.payment_id.replace(Some(id));
        }
        let ctx = self.ctx().await?;
        let path = req.path();
        match (req.method(), path.as_str()) {
            (worker::Method::Get, "/record") => match self.update(&ctx, |_, _| Ok(())).await? {
                Ok(((), p)) => json(200, &p),
                Err(r) => shopper_error(r.status, r.code, &r.message, None),
            },
            (worker::Method::Get, "/session") => self.session(&ctx).await,
            (worker::Method::Post, "/pay/au") => self.au_pay(&ctx, req).await,
            (worker::Method::Post, "/au/return") => self.au_return(&ctx, req).await,
            (worker::Method::Post, "/netcash-wallet") => self.wallet_start(&ctx).await,
            (worker::Method::Post, "/netcash-wallet/return") => self.wallet_return(&ctx, req).await,
            (worker::Method::Post, op) if op.starts_with("/pay/") => match Method::from_code(&op["/pay/".len()..]) {
                Some(m) => self.pay(&ctx, m, req).await,
                None => shopper_error(404, "not_found", "no such method", None),
            },
            (worker::Method::Post, "/refund") => self.refund(&ctx, req).await,
            (worker::Method::Post, "/netcash-refund") => self.netcash_refund(&ctx, req).await,
            (worker::Method::Post, "/netcash-refund-paid") => self.netcash_refund_paid(&ctx, req).await,
            (worker::Method::Post, "/settle") => self.settle_or_void(&ctx, req, true).await,
            (worker::Method::Post, "/void") => self.settle_or_void(&ctx, req, false).await,
            (worker::Method::Post, "/provider-event") => self.provider_event(&ctx, req).await,
            (worker::Method::Post, "/cancel") => self.cancel(&ctx).await,
            (worker::Method::Post, "/tick") => {
                self.au_sweep(&ctx).await;
                self.deliver_due(&ctx).await?;
                json(200, &serde_json::json!({"ok": true}))
            }
            (worker::Method::Post, op) if op.starts_with("/resend/") => self.resend(&ctx, &op["/resend/".len()..]).await,
            _ => shopper_error(404, "not_found", "no such operation", None),
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let ctx = self.ctx().await?;
        self.au_sweep(&ctx).await;
        self.deliver_due(&ctx).await?;
        Response::ok("")
    }
}

/// The stub of a payment's object.
pub fn stub(env: &Env, payment_id: &str) -> worker::Result<worker::Stub> {
    env.durable_object("PAYMENTS")?.id_from_name(payment_id)?.get_stub()
}

/// Calls an operation of a payment's object.
pub async fn call(env: &Env, payment_id: &str, method: worker::Method, op: &str, body: Option<String>) -> worker::Result<Response> {
    let mut init = worker::RequestInit::new();
    init.with_method(method);
    let h = worker::Headers::new();
    h.set("x-payment-id", payment_id)?;
    if let Some(b) = body {
        h.set("content-type", "application/json")?;
        init.with_body(Some(b.into()));
    }
    init.with_headers(h);
    let req = Request::new_with_init(&format!("https://payment{op}"), &init)?;
    stub(env, payment_id)?.fetch_with_request(req).await
}
