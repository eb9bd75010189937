//! Recurring billing in the payment object. Every charge of a
//! subscription is an ordinary payment: its own tracking id, journal,
//! outbox, settle/cancel/refund and deadlines.
//!
//! * A **registration** (a checkout with a `recurring_*` pay type) that the
//!   merchant accepted hands its subscription to the subscription's object
//!   ([`PaymentObject::register_subscription`]); the alarm tries again until
//!   it holds, and only then is `recurring.registered` written.
//! * A **charge** ([`PaymentObject::charge`]) is asked for by the
//!   subscription's object with the try it is due for; the try is written
//!   into the journal (key `<payment id>-<try>`) before the provider is
//!   called, so a doubled run, a redelivered message or a restart never
//!   makes a second provider call for it.
//! * A subscription's own events (cancelled, expired, suspended) are written
//!   into its registration payment's outbox ([`PaymentObject::subscription_event`]),
//!   so they are delivered in order, logged and re-sendable like any other.

use shared::journal::{OpKind, Origin};
use shared::methods::Method;
use shared::np::Buyer;
use shared::outbox::Event;
use shared::payment::{Input, Status};
use worker::Response;

use super::ops::begin;
use super::{internal, refused, shopper_error, Ctx, Payment, PaymentObject, Recurring};
use crate::connectors::au::{Au, ChargeOutcome};
use crate::methods::{self, AttemptOutcome};
use crate::notify::MerchantAnswer;
use crate::subscription_do::client::{self as subscriptions, NewSubscription, SubCall};
use crate::util::json;

fn charge_answer(p: &Payment) -> worker::Result<Response> {
    json(200, &serde_json::json!({"tracking_id": p.id, "status": p.status.code(), "attempts": p.attempts, "error_code": p.last_error}))
}

impl Payment {
    /// When the registration still has to reach its subscription's object.
    pub(super) fn registration_due(&self) -> Option<i64> {
        match &self.recurring {
            Some(Recurring::Registration { registered: false, retry_at, .. })
                if matches!(self.status, Status::Paid | Status::Authorized | Status::Registered)
                    && self.merchant_answer == Some(MerchantAnswer::Ok) =>
            {
                Some(retry_at.unwrap_or(self.created_at))
            }
            _ => None,
        }
    }
}

impl PaymentObject {
    /// Hands an accepted registration to its subscription (idempotent).
    pub(super) async fn register_subscription(&self, ctx: &Ctx, p: Payment) -> worker::Result<Payment> {
        if p.registration_due().is_none() {
            return Ok(p);
        }
        let Some(Recurring::Registration { subscription_id, kind, charges_now, sealed_buyer, .. }) = p.recurring.clone() else { return Ok(p) };
        let merchant = self.merchant(ctx, &p).await?;
        let new = NewSubscription {
            id: subscription_id.clone(),
            merchant_id: p.merchant_id.clone(),
            service_id: p.service_id.clone(),
            merchant_name: p.merchant_name.clone(),
            cust_code: p.cust_code.clone(),
            order_id: p.order_id.clone(),
            kind,
            method: p.method.unwrap_or(Method::Au),
            item_name: p.item_name.clone(),
            item_id: p.item_id.clone(),
            amount: p.amount,
            tax: p.tax,
            registration_payment_id: p.id.clone(),
            registered_at: p.paid_at.unwrap_or(p.created_at),
            first_month_charged: charges_now,
            au_continuation: if p.method == Some(Method::Au) { p.provider_ref.clone() } else { None },
            sealed_buyer,
            options: merchant.recurring.clone(),
        };
        let registered = async {
            let mut r = subscriptions::call(&self.env, &subscription_id, &SubCall::Register(new)).await?;
            if r.status_code() != 200 {
                return Err(internal(format!("subscription object answered {}", r.status_code())));
            }
            r.json::<serde_json::Value>().await
        }
        .await;
        let url = subscriptions::page_url(&ctx.config, &subscription_id);
        let (_, p) = self
            .update(ctx, |p, now| {
                let Some(Recurring::Registration { registered: done, sealed_buyer, retry_at, .. }) = p.recurring.as_mut() else { return Ok(()) };
                match &registered {
                    Ok(view) => {
                        *done = true;
                        *sealed_buyer = None;
                        *retry_at = None;
                        let mut data = p.snapshot();
                        data["subscription"] = view.clone();
                        data["subscription_url"] = url.clone().into();
                        p.events.push(Event::new(crate::util::new_id("evt"), "recurring.registered", now, data));
                    }
                    Err(e) => {
                        worker::console_error!("registering subscription {subscription_id}: {e}");
                        *retry_at = Some(now + 60);
                    }
                }
                Ok(())
            })
            .await?
            .map_err(|r| internal(r.message))?;
        Ok(p)
    }

    /// The alarm's part: a registration that has not reached its subscription.
    pub(super) async fn register_if_due(&self, ctx: &Ctx) -> worker::Result<()> {
        let Some(p) = self.load().await? else { return Ok(()) };
        if p.registration_due().is_some_and(|t| t <= ctx.clock.now().0) {
            self.register_subscription(ctx, p).await?;
        }
        Ok(())
    }

    /// Try `try_no` of a subscription's charge (its record was written to
    /// D1 by the subscription's object). A try that already ran is not run
    /// again: the answer is the payment as it stands.
    pub(super) async fn charge(&self, ctx: &Ctx, try_no: u32, next_try_at: Option<i64>, buyer: Option<Buyer>) -> worker::Result<Response> {
        let started = self
            .update(ctx, |p, now| {
                let Some(Recurring::Charge { next_try_at: next, .. }) = p.recurring.as_mut() else {
                    return Err(refused(409, "not_a_charge", "this payment is not a subscription's charge"));
                };
                if p.status != Status::Pending || p.attempts >= try_no {
                    return Ok(None);
                }
                *next = next_try_at;
                p.apply(Input::AttemptStarted, &format!("recurring charge, try {try_no}"), now)
                    .map_err(|_| refused(409, "already_processing", "a try is already running"))?;
                p.attempts = try_no;
                p.last_error = None;
                let key = format!("{}-{try_no}", p.id);
                // Written before the provider is asked (the journal's rule).
                begin(p, OpKind::Attempt, Origin::System, p.amount, key.clone(), now)?;
                Ok(Some(key))
            })
            .await?;
        let (key, p) = match started {
            Ok((Some(key), p)) => (key, p),
            Ok((None, p)) => return charge_answer(&p),
            Err(r) => return shopper_error(r.status, r.code, &r.message, None),
        };
        let outcome = self.charge_at_provider(ctx, &p, &key, buyer.as_ref()).await;
        let method = p.method.map(|m| m.code()).unwrap_or_default();
        let (_, p) = self
            .update(ctx, |p, now| {
                let r = match &outcome {
                    AttemptOutcome::Captured { provider_ref } => {
                        p.provider_ref = Some(provider_ref.clone());
                        p.paid_at = Some(now);
                        p.apply(Input::Captured { amount: p.amount }, &format!("{method} recurring charge captured ({provider_ref})"), now)
                    }
                    AttemptOutcome::Authorized { provider_ref } => {
                        p.provider_ref = Some(provider_ref.clone());
                        p.paid_at = Some(now);
                        p.apply(Input::Authorized { amount: p.amount }, &format!("{method} recurring charge authorized ({provider_ref})"), now)
                    }
                    AttemptOutcome::Held { provider_ref } => {
                        p.provider_ref = Some(provider_ref.clone());
                        p.apply(Input::ScreeningHeld { amount: p.amount }, &format!("{method} recurring charge held for screening ({provider_ref})"), now)
                    }
                    AttemptOutcome::Refused { code } => {
                        p.last_error = Some(code.to_string());
                        let r = p.apply(Input::AttemptRefused, &format!("{method} recurring charge refused: {code}"), now);
                        p.charge_refused(code, now);
                        r
                    }
                    _ => {
                        p.last_error = Some(shared::codes::Code::ProviderUnclear.as_str().into());
                        p.apply(Input::AttemptUnclear, "the provider gave no clear answer to the charge; asking it what happened", now)
                    }
                };
                r.map_err(|e| refused(500, "internal", e.to_string()))
            })
            .await?
            .map_err(|r| internal(r.message))?;
        charge_answer(&p)
    }

    async fn charge_at_provider(&self, ctx: &Ctx, p: &Payment, key: &str, buyer: Option<&Buyer>) -> AttemptOutcome {
        match (p.method, &p.recurring) {
            (Some(Method::Au), Some(Recurring::Charge { continuation: Some(c), period, .. })) => {
                let au = Au { endpoint: &ctx.config.au };
                match au.charge(c, key, p.amount.get(), &p.item_name, period.is_none()).await {
                    ChargeOutcome::Charged { transaction_id, captured: true } => AttemptOutcome::Captured { provider_ref: transaction_id },
                    ChargeOutcome::Charged { transaction_id, captured: false } => AttemptOutcome::Authorized { provider_ref: transaction_id },
                    ChargeOutcome::Declined(code) => AttemptOutcome::Refused { code },
                    ChargeOutcome::Unclear(why) => {
                        worker::console_warn!("au recurring charge {key} unclear: {why}");
                        AttemptOutcome::Unclear
                    }
                }
            }
            (Some(Method::Np), _) => match buyer {
                Some(b) => {
                    let purchase = methods::Purchase { sales_mode: p.sales_mode, created_at: ctx.clock.now().0, item_name: &p.item_name };
                    methods::attempt(&ctx.config, &methods::ShopperInput::Np(b.clone()), key, p.amount, &purchase).await
                }
                None => AttemptOutcome::Refused { code: "np_buyer_missing" },
            },
            _ => AttemptOutcome::Refused { code: "not_chargeable" },
        }
    }

    /// A subscription's own event, written once (by its id) into this, its
    /// registration payment's, outbox.
    pub(super) async fn subscription_event(&self, ctx: &Ctx, event_id: String, kind: String, data: serde_json::Value) -> worker::Result<Response> {
        let r = self
            .update(ctx, |p, now| {
                if !p.events.iter().any(|e| e.id == event_id) {
                    p.events.push(Event::new(event_id.clone(), &kind, now, data.clone()));
                }
                Ok(())
            })
            .await?;
        match r {
            Ok(_) => json(200, &serde_json::json!({"ok": true})),
            Err(r) => shopper_error(r.status, r.code, &r.message, None),
        }
    }
}
