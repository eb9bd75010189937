//! One Durable Object per subscription (`sub_…`, named after its
//! registration payment). It owns the subscription's state and decides
//! what is charged when; it never moves money itself: each charge is a
//! payment of its own (`payment_do`, `Call::Charge`) whose id derives from
//! (subscription, billing period) or (subscription, the merchant's
//! Idempotency-Key), and whose tries are journaled there. Running a cycle
//! twice therefore reaches the same payment and the same journaled try.
//!
//! * `mod.rs`: the record and the object;
//! * `client`: the typed calls every caller sends (`SubCall`), and what a
//!   registration hands over — what the payment object needs of this one,
//!   and nothing else (so `payment_do` and `subscription_do` do not import
//!   each other);
//! * `billing`: the monthly run (cron → Queue → this object);
//! * `api`: the merchant API under `/v1/subscriptions`;
//! * `page`: the shoppers' management page `/subscriptions/{token}`.
//!
//! D1's `subscriptions` table is the index (list, due dates); this object
//! is the truth.

use serde::{Deserialize, Serialize};
use shared::methods::{Device, Method, PayType, SalesMode};
use shared::money::Yen;
use shared::payment::{Amounts, Status};
use shared::recurring::{self as rules, Kind, Period, SubStatus};
use shared::time::UnixTime;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use crate::clock::Clock;
use crate::config::Config;
use crate::payment_do::{self, Call, HistoryEntry, Offer, Payment, Recurring};
use crate::store;
use crate::util::json;

pub mod api;
pub mod billing;
pub mod client;
pub mod page;

pub use client::{call, page_url, NewSubscription, SubCall};

/// One monthly cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    pub period: Period,
    pub payment_id: String,
    pub result: CycleResult,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleResult {
    Open,
    Charged,
    Failed,
}

/// An effect owed outside the object, done (and retried) after the change
/// that caused it was stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "owed", rename_all = "snake_case")]
pub enum Owed {
    /// An event for the registration payment's outbox.
    Event { id: String, kind: String, at: i64 },
    /// End the au continuation at KDDI.
    EndAtProvider,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    #[serde(flatten)]
    pub base: NewSubscription,
    pub status: SubStatus,
    /// When the monthly run next has work here (a cycle's try).
    pub next_billing_at: Option<i64>,
    pub cycles: Vec<Cycle>,
    /// Fixed term: the merchant's purchases (payment ids).
    pub purchases: Vec<String>,
    pub failed_cycles_in_row: u32,
    pub last_payment_at: Option<i64>,
    /// Fixed term: 365 days after the last payment.
    pub expires_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// `shopper`, `merchant`, `suspended`, `expired`.
    pub ended_by: Option<String>,
    pub owed: Vec<Owed>,
    /// When owed effects are tried again.
    pub owed_retry_at: Option<i64>,
    pub updated_at: i64,
}

fn err(status: u16, code: &str, message: impl Into<String>) -> worker::Result<Response> {
    json(status, &serde_json::json!({"error": {"code": code, "message": message.into()}}))
}

/// A charge's order id: the registration's with the cycle (or the
/// purchase) after a `:`, which merchants' order ids cannot contain.
fn charge_order_id(s: &Subscription, suffix: &str) -> String {
    format!("{}:{suffix}", s.base.order_id)
}

impl Subscription {
    fn new(n: NewSubscription, now: i64) -> Subscription {
        let (next_billing_at, expires_at) = match n.kind {
            Kind::Simple => (Some(rules::first_billed_period(UnixTime(n.registered_at)).starts().0), None),
            Kind::Fixed => (None, Some(rules::fixed_expires_at(UnixTime(n.registered_at)).0)),
        };
        let last_payment_at = n.first_month_charged.then_some(n.registered_at);
        Subscription {
            base: n,
            status: SubStatus::Active,
            next_billing_at,
            cycles: vec![],
            purchases: vec![],
            failed_cycles_in_row: 0,
            last_payment_at,
            expires_at,
            ended_at: None,
            ended_by: None,
            owed: vec![],
            owed_retry_at: None,
            updated_at: now,
        }
    }

    /// What merchants (API, events) and the page see.
    pub fn view(&self, config: &Config) -> serde_json::Value {
        let b = &self.base;
        let date = |t: Option<i64>| t.map(|t| UnixTime(t).jst().date.iso());
        serde_json::json!({
            "subscription_id": b.id,
            "merchant_id": b.merchant_id,
            "service_id": b.service_id,
            "merchant_name": b.merchant_name,
            "cust_code": b.cust_code,
            "order_id": b.order_id,
            "kind": b.kind.code(),
            "method": b.method.code(),
            "status": self.status.code(),
            "item_name": b.item_name,
            "item_id": b.item_id,
            "amount": b.amount,
            "tax": b.tax,
            "registration_tracking_id": b.registration_payment_id,
            "registered_at": b.registered_at,
            "first_month_charged": b.first_month_charged,
            "next_billing_at": self.next_billing_at.filter(|_| self.status == SubStatus::Active && b.kind == Kind::Simple),
            "next_billing_date": date(self.next_billing_at.filter(|_| self.status == SubStatus::Active && b.kind == Kind::Simple)),
            "expires_at": self.expires_at.filter(|_| b.kind == Kind::Fixed),
            "last_payment_at": self.last_payment_at,
            "failed_cycles_in_row": self.failed_cycles_in_row,
            "ended_at": self.ended_at,
            "ended_by": self.ended_by,
            "options": b.options,
            "cycles": self.cycles.iter().map(|c| serde_json::json!({"period": c.period.code(), "tracking_id": c.payment_id, "result": c.result})).collect::<Vec<_>>(),
            "purchases": self.purchases,
            "management_url": page_url(config, &b.id),
        })
    }

    fn end(&mut self, status: SubStatus, by: &str, kind: &str, now: i64) {
        if self.status.ended() {
            return;
        }
        self.status = status;
        self.ended_at = Some(now);
        self.ended_by = Some(by.into());
        self.owed.push(Owed::Event { id: format!("evt_{}_{}", &self.base.id[4..], kind.rsplit('.').next().unwrap_or(kind)), kind: kind.into(), at: now });
        if self.base.au_continuation.is_some() {
            self.owed.push(Owed::EndAtProvider);
        }
        // NP buyers' details are kept only while they are needed: a
        // cancellation in the first month may still be billed once.
        let billed_once_more = self.next_billing_at.is_some_and(|t| {
            rules::bills_after_cancellation(&self.base.options, UnixTime(self.base.registered_at), UnixTime(now), Period::of(UnixTime(t)))
        });
        if !billed_once_more {
            self.base.sealed_buyer = None;
            self.next_billing_at = None;
        }
    }

    /// The next time the object has work (its alarm, and `due_at` in the
    /// index, which the sweep pages through).
    pub fn next_work(&self) -> Option<i64> {
        let expiry = self.expires_at.filter(|_| self.status == SubStatus::Active && self.base.kind == Kind::Fixed);
        let owed = (!self.owed.is_empty()).then(|| self.owed_retry_at.unwrap_or(0));
        [self.next_billing_at, expiry, owed].into_iter().flatten().min()
    }

    /// A charge's payment record (written to D1 before its object is asked).
    fn charge_record(&self, id: &str, order_id: String, amount: Yen, item_name: &str, period: Option<Period>, now: i64) -> Payment {
        let b = &self.base;
        Payment {
            id: id.to_string(),
            merchant_id: b.merchant_id.clone(),
            service_id: b.service_id.clone(),
            merchant_name: b.merchant_name.clone(),
            order_id,
            cust_code: b.cust_code.clone(),
            item_id: b.item_id.clone(),
            item_name: item_name.to_string(),
            amount,
            tax: if amount == b.amount { b.tax } else { Yen::ZERO },
            pay_type: if b.kind == Kind::Simple { PayType::RecurringSimple } else { PayType::RecurringFixed },
            sales_mode: if b.kind == Kind::Simple { SalesMode::Auto } else { SalesMode::Specified },
            device: Device::Pc,
            offers: vec![Offer { method: b.method, available: true, reason: None }],
            success_url: String::new(),
            cancel_url: String::new(),
            error_url: String::new(),
            pagecon_url: String::new(),
            free: [None, None, None],
            created_at: now,
            // No shopper page: the cycle's tries keep it open until the last.
            expires_at: now + 40 * 86_400,
            status: Status::Pending,
            amounts: Amounts::default(),
            method: Some(b.method),
            attempts: 0,
            provider_ref: None,
            instrument: Some(format!("{} (subscription {})", b.method.code(), b.id)),
            paid_at: None,
            last_error: None,
            merchant_answer: None,
            history: vec![HistoryEntry { at: now, status: Status::Pending, note: format!("charge of subscription {} created", b.id) }],
            events: vec![],
            batch_refunds: vec![],
            journal: Default::default(),
            recurring: Some(Recurring::Charge { subscription_id: b.id.clone(), period, continuation: b.au_continuation.clone(), next_try_at: None }),
        }
    }
}

/// How a charge's payment stands, for its cycle.
fn cycle_result(status: &str) -> Option<CycleResult> {
    match status {
        "pending" | "processing" | "reconciling" | "held" => None,
        "failed" | "expired" | "cancelled" | "rejected_by_merchant" => Some(CycleResult::Failed),
        _ => Some(CycleResult::Charged),
    }
}

#[durable_object]
pub struct SubscriptionObject {
    state: State,
    env: Env,
}

const KEY: &str = "subscription";

impl SubscriptionObject {
    async fn ctx(&self) -> worker::Result<(Config, Clock)> {
        let config = Config::from_env(&self.env)?;
        let clock = Clock::load(&self.env, &config).await?;
        Ok((config, clock))
    }

    async fn load(&self) -> worker::Result<Option<Subscription>> {
        self.state.storage().get::<Subscription>(KEY).await
    }

    /// Stores the subscription, sets its alarm and mirrors the index.
    async fn save(&self, config: &Config, clock: &Clock, s: &mut Subscription) -> worker::Result<()> {
        s.updated_at = clock.now().0;
        self.state.storage().put(KEY, &*s).await?;
        match s.next_work() {
            Some(t) => {
                let secs = clock.real_delay_until(t).max(0) as u64;
                self.state.storage().set_alarm(std::time::Duration::from_millis(secs * 1000 + 50)).await?;
            }
            None => self.state.storage().delete_alarm().await?,
        }
        let db = store::db(&self.env, config.sandbox).await?;
        billing::index(&db, s).await
    }

    async fn register(&self, config: &Config, clock: &Clock, n: NewSubscription) -> worker::Result<Response> {
        if let Some(s) = self.load().await? {
            return json(200, &s.view(config));
        }
        let mut s = Subscription::new(n, clock.now().0);
        self.save(config, clock, &mut s).await?;
        json(200, &s.view(config))
    }

    /// The monthly run's part for this subscription: every try that is due.
    async fn bill(&self, config: &Config, clock: &Clock) -> worker::Result<()> {
        for _ in 0..4 {
            let Some(mut s) = self.load().await? else { return Ok(()) };
            let now = clock.now().0;
            let Some(due) = s.next_billing_at.filter(|t| *t <= now) else { return Ok(()) };
            let period = Period::of(UnixTime(due));
            let billable = s.base.kind == Kind::Simple
                && (s.status == SubStatus::Active
                    || (s.status == SubStatus::Cancelled
                        && s.ended_at.is_some_and(|at| rules::bills_after_cancellation(&s.base.options, UnixTime(s.base.registered_at), UnixTime(at), period))));
            if !billable {
                s.next_billing_at = None;
                if s.status.ended() {
                    s.base.sealed_buyer = None;
                }
                self.save(config, clock, &mut s).await?;
                return Ok(());
            }
            let payment_id = rules::charge_payment_id(&s.base.id, period);
            let fresh = !s.cycles.iter().any(|c| c.period == period);
            if fresh {
                // The cycle and its payment are written before anything is asked.
                let record = s.charge_record(&payment_id, charge_order_id(&s, &period.code()), s.base.amount, &s.base.item_name.clone(), Some(period), now);
                let db = store::db(&self.env, config.sandbox).await?;
                store::insert_payment(&db, &crate::reserve::row(&record, now)?).await?;
                s.cycles.push(Cycle { period, payment_id: payment_id.clone(), result: CycleResult::Open });
                self.save(config, clock, &mut s).await?;
            }
            if s.cycles.iter().any(|c| c.period == period && c.result != CycleResult::Open) {
                s.next_billing_at = Some(period.next().starts().0);
                self.save(config, clock, &mut s).await?;
                continue;
            }
            let o = &s.base.options;
            let n = (0..rules::tries(o)).rev().find(|n| rules::try_due(o, period, *n).is_some_and(|t| t.0 <= now)).unwrap_or(0);
            let next_try_at = rules::try_due(o, period, n + 1).map(|t| t.0);
            let buyer = self.buyer(config, &s).await?;
            let mut r = payment_do::call(&self.env, &payment_id, &Call::Charge { try_no: n + 1, next_try_at, buyer }).await?;
            let answer: serde_json::Value = r.json().await?;
            let status = answer["status"].as_str().unwrap_or("").to_string();
            let Some(mut s) = self.load().await? else { return Ok(()) };
            let now = clock.now().0;
            match cycle_result(&status) {
                Some(result) => self.close_cycle(&mut s, period, result, now),
                // Refused, with a try to come: wait for it.
                None if status == "pending" => s.next_billing_at = Some(next_try_at.unwrap_or(period.next().starts().0)),
                // Unclear or held: ask the charge again in five minutes.
                None => s.next_billing_at = Some(now + 300),
            }
            self.save(config, clock, &mut s).await?;
        }
        Ok(())
    }

    fn close_cycle(&self, s: &mut Subscription, period: Period, result: CycleResult, now: i64) {
        if let Some(c) = s.cycles.iter_mut().find(|c| c.period == period) {
            c.result = result;
        }
        match result {
            CycleResult::Charged => {
                s.failed_cycles_in_row = 0;
                s.last_payment_at = Some(now);
            }
            CycleResult::Failed => {
                s.failed_cycles_in_row += 1;
                if s.base.options.suspend_after_failed_cycles.is_some_and(|n| s.failed_cycles_in_row >= n) {
                    s.end(SubStatus::Suspended, "suspended", "recurring.suspended", now);
                }
            }
            CycleResult::Open => {}
        }
        // An ended subscription has no next month (a cancellation billed
        // once more in its first month has just had that month).
        s.next_billing_at = (!s.status.ended()).then(|| period.next().starts().0);
    }

    /// NP: the buyer, opened for one charge.
    async fn buyer(&self, config: &Config, s: &Subscription) -> worker::Result<Option<shared::np::Buyer>> {
        let Some(sealed) = &s.base.sealed_buyer else { return Ok(None) };
        let Some(plain) = crate::seal::open(&config.subscription_secret, &s.base.id, sealed).await? else {
            worker::console_error!("subscription {}: the sealed buyer does not open", s.base.id);
            return Ok(None);
        };
        Ok(serde_json::from_slice(&plain).ok())
    }

    async fn purchase(&self, config: &Config, clock: &Clock, amount: Yen, key: String, item_name: Option<String>) -> worker::Result<Response> {
        let Some(mut s) = self.load().await? else { return err(404, "not_found", "no such subscription") };
        if s.base.kind != Kind::Fixed {
            return err(409, "not_fixed_term", "purchases are made on fixed-term / pay-as-you-go subscriptions; monthly ones are billed on the 1st");
        }
        let payment_id = rules::purchase_payment_id(&s.base.id, &key);
        let known = s.purchases.contains(&payment_id);
        if !known && s.status != SubStatus::Active {
            return err(409, "subscription_ended", format!("the subscription is {}", s.status.code()));
        }
        let item_name = item_name.unwrap_or_else(|| s.base.item_name.clone());
        let mut warnings = vec![];
        if s.base.method == Method::Au {
            match rules::check_fixed_item_name(&item_name) {
                rules::ItemNameCheck::TooLong => {
                    return err(422, "item_name_too_long", "item_name is at most 20 (double-byte) characters for au; say the item and the billing timing")
                }
                rules::ItemNameCheck::Warn(w) => warnings.push(w),
                rules::ItemNameCheck::Ok => {}
            }
        }
        let now = clock.now().0;
        if !known {
            let record = s.charge_record(&payment_id, charge_order_id(&s, &format!("p{}", &payment_id[4..14])), amount, &item_name, None, now);
            let db = store::db(&self.env, config.sandbox).await?;
            store::insert_payment(&db, &crate::reserve::row(&record, now)?).await?;
            s.purchases.push(payment_id.clone());
            self.save(config, clock, &mut s).await?;
        }
        let buyer = self.buyer(config, &s).await?;
        let mut r = payment_do::call(&self.env, &payment_id, &Call::Charge { try_no: 1, next_try_at: None, buyer }).await?;
        let answer: serde_json::Value = r.json().await?;
        if matches!(cycle_result(answer["status"].as_str().unwrap_or("")), Some(CycleResult::Charged)) {
            let Some(mut s) = self.load().await? else { return err(404, "not_found", "no such subscription") };
            let now = clock.now().0;
            if s.last_payment_at.is_none_or(|t| t < now) && s.status == SubStatus::Active {
                s.last_payment_at = Some(now);
                s.expires_at = Some(rules::fixed_expires_at(UnixTime(now)).0);
                self.save(config, clock, &mut s).await?;
            }
        }
        let mut r = payment_do::call(&self.env, &payment_id, &Call::Record).await?;
        let p: serde_json::Value = r.json().await?;
        json(200, &serde_json::json!({"payment": p, "warnings": warnings}))
    }

    async fn cancel(&self, config: &Config, clock: &Clock, by: &str) -> worker::Result<Response> {
        let Some(mut s) = self.load().await? else { return err(404, "not_found", "no such subscription") };
        if !s.status.ended() {
            s.end(SubStatus::Cancelled, by, "recurring.cancelled", clock.now().0);
            self.save(config, clock, &mut s).await?;
        }
        self.settle_owed(config, clock).await?;
        let s = self.load().await?.unwrap_or(s);
        json(200, &s.view(config))
    }

    /// Fixed term: 365 days after the last payment, it expires.
    async fn expire_if_due(&self, config: &Config, clock: &Clock) -> worker::Result<()> {
        let Some(mut s) = self.load().await? else { return Ok(()) };
        let now = clock.now().0;
        if s.base.kind == Kind::Fixed && s.status == SubStatus::Active && s.expires_at.is_some_and(|t| t <= now) {
            s.end(SubStatus::Expired, "expired", "recurring.expired", now);
            self.save(config, clock, &mut s).await?;
        }
        Ok(())
    }

    /// Does what is owed outside (events, the end at KDDI); what fails is
    /// tried again a minute later.
    async fn settle_owed(&self, config: &Config, clock: &Clock) -> worker::Result<()> {
        let Some(s) = self.load().await? else { return Ok(()) };
        if s.owed.is_empty() {
            return Ok(());
        }
        let mut done = vec![];
        for o in &s.owed {
            let ok = match o {
                Owed::Event { id, kind, at: _ } => {
                    let data = serde_json::json!({"subscription": s.view(config), "subscription_id": s.base.id,
                        "merchant_id": s.base.merchant_id, "service_id": s.base.service_id, "order_id": s.base.order_id,
                        "tracking_id": s.base.registration_payment_id, "cust_code": s.base.cust_code, "status": s.status.code()});
                    let c = Call::SubscriptionEvent { event_id: id.clone(), kind: kind.clone(), data };
                    payment_do::call(&self.env, &s.base.registration_payment_id, &c).await.map(|r| r.status_code() == 200).unwrap_or(false)
                }
                Owed::EndAtProvider => match &s.base.au_continuation {
                    Some(cont) => {
                        let au = crate::connectors::au::Au { endpoint: &config.au };
                        match au.end_continuation(cont, &format!("{}-end", s.base.id)).await {
                            crate::connectors::Outcome::Unclear { why } => {
                                worker::console_warn!("ending au continuation {cont}: {why}; trying again");
                                false
                            }
                            _ => true,
                        }
                    }
                    None => true,
                },
            };
            if ok {
                done.push(o.clone());
            }
        }
        let Some(mut s) = self.load().await? else { return Ok(()) };
        s.owed.retain(|o| !done.contains(o));
        s.owed_retry_at = (!s.owed.is_empty()).then(|| clock.now().0 + 60);
        self.save(config, clock, &mut s).await
    }

    async fn work(&self, config: &Config, clock: &Clock) -> worker::Result<()> {
        self.expire_if_due(config, clock).await?;
        self.bill(config, clock).await?;
        self.settle_owed(config, clock).await
    }
}

impl DurableObject for SubscriptionObject {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let Ok(c) = req.json::<SubCall>().await else { return err(400, "invalid_call", "not a subscription object call") };
        let (config, clock) = self.ctx().await?;
        match c {
            SubCall::Register(n) => self.register(&config, &clock, n).await,
            SubCall::Record => match self.load().await? {
                Some(s) => json(200, &s.view(&config)),
                None => err(404, "not_found", "no such subscription"),
            },
            SubCall::Bill => {
                self.work(&config, &clock).await?;
                json(200, &serde_json::json!({"ok": true}))
            }
            SubCall::Purchase { amount, key, item_name } => self.purchase(&config, &clock, amount, key, item_name).await,
            SubCall::Cancel { by } => self.cancel(&config, &clock, &by).await,
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let (config, clock) = self.ctx().await?;
        self.work(&config, &clock).await?;
        Response::ok("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::recurring::Options;

    fn new_sub(kind: Kind, registered_at: i64) -> Subscription {
        Subscription::new(
            NewSubscription {
                id: "sub_0123456789abcdef01234567".into(),
                merchant_id: "99999".into(),
                service_id: "001".into(),
                merchant_name: "Shop".into(),
                cust_code: Some("c1".into()),
                order_id: "ord-1".into(),
                kind,
                method: Method::Au,
                item_name: "月額プラン".into(),
                item_id: None,
                amount: Yen::new(980),
                tax: Yen::new(89),
                registration_payment_id: "pay_x".into(),
                registered_at,
                first_month_charged: true,
                au_continuation: Some("au_1".into()),
                sealed_buyer: None,
                options: Options::default(),
            },
            registered_at,
        )
    }

    #[test]
    fn a_new_simple_subscription_is_first_billed_on_the_next_first_and_a_fixed_one_expires() {
        // Registered 2026-12-15 12:00 JST.
        let t = shared::time::JstDateTime::parse_compact("20261215120000").unwrap().to_unix().0;
        let s = new_sub(Kind::Simple, t);
        assert_eq!(s.next_billing_at, Some(Period { year: 2027, month: 1 }.starts().0));
        assert_eq!(s.next_work(), s.next_billing_at);
        let f = new_sub(Kind::Fixed, t);
        assert_eq!(f.next_billing_at, None);
        assert_eq!(f.expires_at, Some(rules::fixed_expires_at(UnixTime(t)).0));
    }

    #[test]
    fn ending_owes_one_event_and_the_end_at_kddi_once() {
        let mut s = new_sub(Kind::Simple, 1_800_000_000);
        s.end(SubStatus::Cancelled, "shopper", "recurring.cancelled", 1_800_000_100);
        s.end(SubStatus::Cancelled, "merchant", "recurring.cancelled", 1_800_000_200);
        assert_eq!(s.ended_by.as_deref(), Some("shopper"));
        assert_eq!(s.owed.len(), 2);
        assert!(matches!(&s.owed[0], Owed::Event { kind, .. } if kind == "recurring.cancelled"));
        assert_eq!(s.next_billing_at, None, "nothing more is billed");
    }

    #[test]
    fn charge_records_are_specified_sales_for_fixed_purchases() {
        let s = new_sub(Kind::Fixed, 1_800_000_000);
        let p = s.charge_record("pay_1", charge_order_id(&s, "p1"), Yen::new(500), "x", None, 1_800_000_100);
        assert_eq!(p.sales_mode, SalesMode::Specified);
        assert_eq!(p.order_id, "ord-1:p1");
        assert_eq!(p.tax, Yen::ZERO);
        assert!(matches!(p.recurring, Some(Recurring::Charge { period: None, .. })));
        assert_eq!(cycle_result("authorized"), Some(CycleResult::Charged));
        assert_eq!(cycle_result("pending"), None);
        assert_eq!(cycle_result("failed"), Some(CycleResult::Failed));
    }
}
