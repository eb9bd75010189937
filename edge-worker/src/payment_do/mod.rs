//! One Durable Object per payment. It owns the payment's state: every
//! change goes through `shared::payment::transition`, writes its event into
//! the payment's outbox in the same storage write, and is stored before
//! anything is answered. The object's single-threaded execution serializes
//! clicks, retries and notifications; every change is made by `update`,
//! which reads, changes and writes with no outside I/O in between, so an
//! answer that arrives while another request waited cannot be overwritten.

//!
//! The folder shows the design: `record` is the payment (pure data and
//! pure changes) with its journal (`shared::journal`), `attempt` the
//! shopper's attempt, `ops` every other provider operation and their
//! reconciliation, `delivery` the outbox, `au` and `wallet` the two
//! redirect flows, `client` the typed calls every caller uses.

use shared::codes::Code;
use std::cell::Cell;

use shared::methods::{Method, Unavailable};
use shared::payment::{Input, Status};
use shared::webhooks::WebhookSecret;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use crate::clock::Clock;
use crate::config::Config;
use crate::methods;
use crate::store::{self, Merchant};
use crate::util::json;

mod attempt;
mod au;
mod client;
mod delivery;
mod ops;
mod record;
mod recurring;
mod wallet;

pub use client::{call, Call};
pub use ops::OperateBody;
pub use record::{BatchRefund, HistoryEntry, Offer, Payment, Recurring};
use record::{refused, Refused};

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
        // The D1 read let other requests in: one of them may have taken the
        // record already and changed it. Storage calls keep the input gate
        // closed, so this check and the write are one step.
        if let Some(mine) = self.state.storage().get::<Payment>(KEY).await? {
            return Ok(Some(mine));
        }
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






    /// A provider's verified notification about this payment (screening
    /// decided, chargeback, …). Applying one twice, or after a later one,
    /// changes nothing: the state machine refuses what no longer applies.
    async fn provider_event(&self, ctx: &Ctx, input: Input, note: String, error_code: Option<String>) -> worker::Result<Response> {
        struct Body {
            input: Input,
            note: String,
            error_code: Option<String>,
        }
        let body = Body { input, note, error_code };
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




    async fn cancel(&self, ctx: &Ctx) -> worker::Result<Response> {
        let changed = self
            .update(ctx, |p, now| match p.status {
                Status::Processing | Status::Reconciling => Err(refused(409, Code::AlreadyProcessing.as_str(), "a payment attempt is running")),
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
                    "recurring": p.recurring_kind().map(|_| p.pay_type.code()),
                    "charge_now": p.charged_at_registration(),
                }),
            )
            }
        }
    }



}

impl DurableObject for PaymentObject {
    fn new(state: State, env: Env) -> Self {
        Self { state, env, delivering: Cell::new(false), payment_id: std::cell::RefCell::new(None) }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        if let Some(id) = req.headers().get("x-payment-id")?.filter(|id| crate::util::valid_payment_id(id)) {
            self.payment_id.replace(Some(id));
        }
        let Ok(c) = req.json::<Call>().await else { return shopper_error(400, "invalid_call", "not a payment object call", None) };
        let ctx = self.ctx().await?;
        match c {
            Call::Record => match self.update(&ctx, |_, _| Ok(())).await? {
                Ok(((), p)) => json(200, &p),
                Err(r) => shopper_error(r.status, r.code, &r.message, None),
            },
            Call::Session => self.session(&ctx).await,
            Call::Pay { method: Method::Au, body } => self.au_pay(&ctx, body).await,
            Call::Pay { method, body } => self.pay(&ctx, method, body).await,
            Call::Cancel => self.cancel(&ctx).await,
            Call::AuReturn { pairs } => self.au_return(&ctx, pairs).await,
            Call::WalletStart => self.wallet_start(&ctx).await,
            Call::WalletReturn { pairs } => self.wallet_return(&ctx, pairs).await,
            Call::Operate(body) => self.operate(&ctx, body).await,
            Call::NetcashRefund { amount, key } => self.netcash_refund(&ctx, amount, key).await,
            Call::NetcashRefundPaid { refund_id, paid_on } => self.netcash_refund_paid(&ctx, refund_id, paid_on).await,
            Call::ProviderEvent { input, note, error_code } => self.provider_event(&ctx, input, note, error_code).await,
            Call::Tick => {
                self.work(&ctx).await?;
                json(200, &serde_json::json!({"ok": true}))
            }
            Call::Resend { event_id } => self.resend(&ctx, &event_id).await,
            Call::ResendFailed { from, to } => self.resend_failed(&ctx, from, to).await,
            Call::Charge { try_no, next_try_at, buyer } => self.charge(&ctx, try_no, next_try_at, buyer).await,
            Call::SubscriptionEvent { event_id, kind, data } => self.subscription_event(&ctx, event_id, kind, data).await,
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let ctx = self.ctx().await?;
        self.work(&ctx).await?;
        Response::ok("")
    }
}

impl PaymentObject {
    /// Whatever is due: au's sweep, reconciliation of unclear operations,
    /// then deliveries. A failure in one does not hold up the others.
    async fn work(&self, ctx: &Ctx) -> worker::Result<()> {
        self.au_sweep(ctx).await;
        if let Err(e) = self.reconcile_due(ctx).await {
            worker::console_error!("reconciliation failed: {e}");
        }
        if let Err(e) = self.register_if_due(ctx).await {
            worker::console_error!("subscription registration failed: {e}");
        }
        self.deliver_due(ctx).await
    }
}
