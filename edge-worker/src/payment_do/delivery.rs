//! The outbox: the synchronous result notification, webhook deliveries in
//! order per payment (waiting, never dropped, while the merchant has no
//! endpoint), and re-sends by hand.

use shared::outbox::{self, DeliveryState, Event};
use shared::time::UnixTime;
use worker::Response;

use super::{internal, refused, secrets, shopper_error, Ctx, Payment, PaymentObject};
use crate::notify::{self, MerchantAnswer};
use crate::store::{self, Merchant};
use crate::util::{self, json};

impl PaymentObject {
    /// Sends `payment.result` to `pagecon_url` before the shopper leaves,
    /// records it in the same log as webhooks, and returns the answer.
    pub(super) async fn notify_result(&self, ctx: &Ctx, p: &Payment) -> worker::Result<MerchantAnswer> {
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

    /// Delivers every due event, in order, stopping at the first failure.
    pub(super) async fn deliver_due(&self, ctx: &Ctx) -> worker::Result<()> {
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
            if !p.events.iter().any(|e| e.state.owed()) {
                // Expiry happens through update; the alarm is set again
                // whether or not anything changed.
                if let Ok(((), p)) = self.update(ctx, |_, _| Ok(())).await? {
                    self.schedule(ctx, &p).await?;
                }
                return Ok(());
            }
            if merchant.is_none() {
                merchant = Some(self.merchant(ctx, &p).await?);
            }
            let m = merchant.as_ref().expect("loaded above");
            let endpoint = match (&m.webhook_url, m.webhook_disabled_at) {
                (Some(url), None) => Some(url.clone()),
                _ => None,
            };
            let db = store::db(&self.env, ctx.config.sandbox).await?;
            match (&endpoint, outbox::waiting(&p.events)) {
                (Some(_), true) => {
                    // The merchant set an endpoint again: deliver what waited.
                    self.update(ctx, |p, now| {
                        outbox::resume(&mut p.events, now);
                        Ok(())
                    })
                    .await?
                    .ok();
                    store::set_webhook_waiting(&db, &p.id, &p.merchant_id, &p.service_id, false, now).await?;
                    continue;
                }
                (None, false) => {
                    // No endpoint: the events wait (never dropped) until one is set.
                    self.update(ctx, |p, _| {
                        outbox::park(&mut p.events);
                        Ok(())
                    })
                    .await?
                    .ok();
                    store::set_webhook_waiting(&db, &p.id, &p.merchant_id, &p.service_id, true, now).await?;
                    return Ok(());
                }
                (None, true) => return Ok(()),
                (Some(_), false) => {}
            }
            let url = endpoint.expect("matched above");
            let Some(i) = outbox::due(&p.events, now) else {
                if let Ok(((), p)) = self.update(ctx, |_, _| Ok(())).await? {
                    self.schedule(ctx, &p).await?;
                }
                return Ok(());
            };
            let event = p.events[i].clone();
            let payload = event.payload(&UnixTime(event.created_at).rfc3339_utc());
            let (_, attempt) = notify::post_signed(&url, &secrets(m), &event.id, &payload, ctx.config.webhook_timeout_ms, now).await;
            let ok = attempt.succeeded();
            let (exhausted, _) = self
                .update(ctx, |p, _| {
                    let e = p.events.iter_mut().find(|e| e.id == event.id).ok_or_else(|| refused(500, "internal", "event vanished"))?;
                    e.record(attempt);
                    Ok(e.state == DeliveryState::Waiting)
                })
                .await?
                .map_err(|r| internal(r.message))?;
            if exhausted {
                let notice = format!(
                    "Deliveries to {url} failed for more than three days (last: event {}). Webhooks are paused and events wait; set the webhook URL again to resume.",
                    event.id
                );
                store::disable_webhook(&db, &m.merchant_id, &m.service_id, now, &notice).await?;
                store::set_webhook_waiting(&db, &p.id, &p.merchant_id, &p.service_id, true, now).await?;
                merchant = None;
            }
            if !ok {
                return Ok(());
            }
        }
    }

    /// Sends again, now, every event still owed to the merchant (failed,
    /// waiting) created in `[from, to)`, in order; stops at the first
    /// failure (the rest keep their place).
    pub(super) async fn resend_failed(&self, ctx: &Ctx, from: i64, to: i64) -> worker::Result<Response> {
        let Some(p) = self.load().await? else { return shopper_error(404, "not_found", "no such payment", None) };
        let m = self.merchant(ctx, &p).await?;
        let Some(url) = m.webhook_url.clone() else {
            return shopper_error(409, "no_webhook_url", "the merchant has no webhook URL; set one with PUT /v1/merchant", None);
        };
        let owed: Vec<_> = p
            .events
            .iter()
            .filter(|e| e.kind != "payment.result" && e.state.owed() && (from..to).contains(&e.created_at))
            .filter(|e| e.state != DeliveryState::Pending || !e.attempts.is_empty())
            .cloned()
            .collect();
        let (mut sent, mut delivered) = (0, 0);
        for event in owed {
            let now = ctx.clock.now().0;
            let payload = event.payload(&UnixTime(event.created_at).rfc3339_utc());
            let (_, attempt) = notify::post_signed(&url, &secrets(&m), &event.id, &payload, ctx.config.webhook_timeout_ms, now).await;
            let ok = attempt.succeeded();
            sent += 1;
            self.update(ctx, |p, _| {
                if let Some(e) = p.events.iter_mut().find(|e| e.id == event.id) {
                    e.record_manual(attempt);
                }
                Ok(())
            })
            .await?
            .ok();
            if !ok {
                break;
            }
            delivered += 1;
        }
        json(200, &serde_json::json!({"sent": sent, "delivered": delivered}))
    }

    /// Sends one event again by hand, now, whatever its state.
    pub(super) async fn resend(&self, ctx: &Ctx, event_id: &str) -> worker::Result<Response> {
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
