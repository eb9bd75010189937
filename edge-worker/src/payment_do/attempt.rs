//! The shopper's attempt: the same flow for every method (validate,
//! journal, call the provider, record, tell the merchant, roll back if the
//! merchant refuses).

use shared::codes::Code;
use shared::journal::{Begin, OpKind, OpState, Origin};
use shared::methods::Method;
use shared::payment::{Input, Status};

use super::ops::begin;
use super::{input_error, internal, refused, shopper_error, Ctx, HistoryEntry, Payment, PaymentObject};
use crate::methods::{self, AttemptOutcome};
use crate::notify::MerchantAnswer;
use crate::util::json;
use worker::Response;

impl PaymentObject {
    /// The shopper pays with `method`: the same flow for every method.
    pub(super) async fn pay(&self, ctx: &Ctx, method: Method, body: serde_json::Value) -> worker::Result<Response> {
        let input = match methods::ShopperInput::parse_at(method, &body, ctx.clock.now()) {
            Ok(i) => i,
            Err(e) => return input_error(&e),
        };
        if self.maintenance(ctx).await?.contains(&method) {
            return shopper_error(503, Code::MethodMaintenance.as_str(), "this payment method is under maintenance; choose another one", None);
        }
        let started = self
            .update(ctx, |p, now| {
                if p.status.checkout_finished() {
                    let code = if p.status == Status::Expired { Code::Expired.as_str() } else { Code::AlreadyFinished.as_str() };
                    return Err(refused(409, code, "this payment is over"));
                }
                if !p.offered(method) {
                    return Err(refused(409, Code::MethodUnavailable.as_str(), "this method is not offered for this payment"));
                }
                p.apply(Input::AttemptStarted, &format!("{} attempt started", method.code()), now)
                    .map_err(|_| refused(409, Code::AlreadyProcessing.as_str(), "a payment attempt is already running"))?;
                p.attempts += 1;
                p.method = Some(method);
                p.instrument = Some(input.instrument());
                p.last_error = None;
                let request_id = format!("{}-{}", p.id, p.attempts);
                // Written before the provider is asked: a crash from here on
                // leaves an attempt the alarm reconciles with this key.
                begin(p, OpKind::Attempt, Origin::Shopper, p.amount, request_id.clone(), now)?;
                Ok((request_id, p.amount))
            })
            .await?;
        let ((request_id, amount), started) = match started {
            Ok(v) => v,
            Err(r) => {
                let p = self.load().await?;
                let next = if r.status == 409 && r.code != Code::AlreadyProcessing.as_str() { p.and_then(|p| p.next_url()) } else { None };
                return shopper_error(r.status, r.code, &r.message, next);
            }
        };

        // NP keeps the buyer for each later charge: sealed (AES-GCM) with
        // the registration until the subscription takes it over.
        let sealed_buyer = match (&input, &started.recurring) {
            (methods::ShopperInput::Np(buyer), Some(super::Recurring::Registration { subscription_id, .. })) => {
                let plain = serde_json::to_vec(buyer).map_err(internal)?;
                Some(crate::seal::seal(&ctx.config.subscription_secret, subscription_id, &plain).await?)
            }
            _ => None,
        };
        let outcome = match &input {
            methods::ShopperInput::Au => self.au_attempt(ctx, &started, &request_id).await,
            // A registration that charges nothing asks NP nothing now: each
            // charge is a new NP transaction with its own screening.
            methods::ShopperInput::Np(_) if started.charged_at_registration() == shared::money::Yen::ZERO => AttemptOutcome::Registered,
            _ => {
                let purchase = methods::Purchase { sales_mode: started.sales_mode, created_at: started.created_at, item_name: &started.item_name };
                methods::attempt(&ctx.config, &input, &request_id, amount, &purchase).await
            }
        };
        drop(input);

        let (_, p) = self
            .update(ctx, |p, now| {
                if let (Some(sealed), Some(super::Recurring::Registration { sealed_buyer, .. })) = (&sealed_buyer, p.recurring.as_mut()) {
                    *sealed_buyer = Some(sealed.clone());
                }
                match &outcome {
                    AttemptOutcome::Registered => {
                        p.paid_at = Some(now);
                        p.apply(Input::Registered, &format!("{} recurring registration recorded (nothing charged)", method.code()), now)
                    }
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
                        // The shopper continues at the provider: its own
                        // deadline (au's 4-minute rule, the page's limit) ends it.
                        let deadline = p.expires_at.max(now + shared::journal::IN_FLIGHT_LEASE_SECONDS);
                        if let Some(o) = p.journal.ops.iter_mut().rev().find(|o| o.kind == OpKind::Attempt && o.pending()) {
                            o.provider_ref = Some(provider_ref.clone());
                            o.next_check_at = Some(deadline);
                        }
                        p.history.push(HistoryEntry { at: now, status: p.status, note: format!("shopper sent to {} ({provider_ref})", method.code()) });
                        Ok(())
                    }
                    AttemptOutcome::Refused { code } => {
                        p.last_error = Some(code.to_string());
                        p.apply(Input::AttemptRefused, &format!("{} refused: {code}", method.code()), now)
                    }
                    AttemptOutcome::Unclear => {
                        // Money may have moved: never offer a second attempt
                        // before the provider has told us about this one.
                        p.last_error = Some(Code::ProviderUnclear.as_str().into());
                        p.apply(Input::AttemptUnclear, "the provider gave no clear answer; asking it what happened", now)
                    }
                }
                .map_err(|e| refused(500, "internal", e.to_string()))
            })
            .await?
            .map_err(|r| internal(r.message))?;

        match outcome {
            AttemptOutcome::Registered => {
                let p = self.after_success(ctx, method, "", p).await?;
                json(200, &serde_json::json!({"status": p.status.code(), "next": p.next_url()}))
            }
            AttemptOutcome::Captured { provider_ref } | AttemptOutcome::Authorized { provider_ref } | AttemptOutcome::Held { provider_ref } => {
                let p = self.after_success(ctx, method, &provider_ref, p).await?;
                json(200, &serde_json::json!({"status": p.status.code(), "next": p.next_url()}))
            }
            AttemptOutcome::Redirect { url, .. } => json(200, &serde_json::json!({"status": "redirect", "redirect_url": url, "next": null})),
            AttemptOutcome::Refused { code } => shopper_error(methods::refusal_status(code), code, methods::refusal_message(code), None),
            AttemptOutcome::Unclear => json(
                202,
                &serde_json::json!({"status": "reconciling", "next": null, "message": "checking with the provider what happened to this payment"}),
            ),
        }
    }

    /// Money moved (or was authorized, or is held): tell the merchant
    /// before the shopper leaves, and undo it if the merchant refuses.
    /// Method drivers that finish an attempt outside `pay` (au's return)
    /// call this too.
    pub(super) async fn after_success(&self, ctx: &Ctx, method: Method, provider_ref: &str, p: Payment) -> worker::Result<Payment> {
        let answer = self.notify_result(ctx, &p).await?;
        if answer == MerchantAnswer::Ok {
            // A recurring registration the merchant accepted: its subscription.
            let p = self.load().await?.unwrap_or(p);
            return self.register_subscription(ctx, p).await;
        }
        self.merchant_rejected(ctx, method, provider_ref, &answer).await
    }

    /// The merchant answered NG or nothing: undo the payment where the
    /// method allows (void an authorization or a hold, refund a capture),
    /// otherwise mark it as needing a refund.
    async fn merchant_rejected(&self, ctx: &Ctx, method: Method, _provider_ref: &str, answer: &MerchantAnswer) -> worker::Result<Payment> {
        let note = format!("merchant did not accept the result ({answer:?})");
        let begun = self
            .update(ctx, |p, now| {
                p.last_error = Some(Code::MerchantRejected.as_str().into());
                let kind = match p.status {
                    Status::Registered => {
                        // Nothing was charged: nothing to roll back.
                        p.apply(Input::MerchantRejected { rollback: true }, &format!("{note}; the registration is void"), now)
                            .map_err(|e| refused(500, "internal", e.to_string()))?;
                        return Ok(None);
                    }
                    Status::Authorized | Status::Held => OpKind::Void,
                    Status::Paid if methods::can_roll_back(method) => OpKind::Refund,
                    _ => {
                        p.apply(Input::MerchantRejected { rollback: false }, &format!("{note}; the provider cannot roll it back: refund required"), now)
                            .map_err(|e| refused(500, "internal", e.to_string()))?;
                        return Ok(None);
                    }
                };
                let amount = if kind == OpKind::Void { p.amounts.authorized } else { p.amounts.captured };
                match begin(p, kind, Origin::Rollback, amount, format!("{}-rollback", p.id), now) {
                    Ok(Begin::Started(op)) => Ok(Some(op)),
                    Ok(Begin::Existing(_)) => Ok(None),
                    Err(r) => {
                        // Something else runs on the payment: the merchant
                        // must act; the shopper does not get a success.
                        p.apply(Input::MerchantRejected { rollback: false }, &format!("{note}; rollback not started: {}", r.message), now)
                            .map_err(|e| refused(500, "internal", e.to_string()))?;
                        Ok(None)
                    }
                }
            })
            .await?
            .map_err(|r| internal(r.message))?;
        let (op, p) = begun;
        let Some(op) = op else { return Ok(p) };
        let (p, op) = self.run(ctx, &p, op).await?;
        if op.state != OpState::Reconciling {
            return Ok(p);
        }
        // The rollback's answer was unclear: the shopper must not be sent to
        // success_url; the merchant is told a refund (or cancel) may be
        // needed, and the rollback is reconciled.
        let (_, p) = self
            .update(ctx, |p, now| {
                let _ = p.apply(
                    Input::MerchantRejected { rollback: false },
                    &format!("{note}; the rollback's answer was unclear: reconciling it"),
                    now,
                );
                Ok(())
            })
            .await?
            .map_err(|r| internal(r.message))?;
        Ok(p)
    }
}
