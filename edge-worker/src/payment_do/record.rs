//! The payment record: everything a payment is, its history, its outbox
//! and its journal of provider operations. Pure data and pure changes (no
//! I/O): the object (`mod.rs`) loads, changes through these and stores.

use serde::{Deserialize, Serialize};
use shared::journal::{Journal, OpOutcome};
use shared::methods::{Device, Method, PayType, SalesMode, Unavailable};
use shared::money::Yen;
use shared::outbox::{self, Event};
use shared::payment::{transition, Amounts, Input, Status};
use shared::recurring::{Kind, Period};
use shared::time::UnixTime;

use crate::notify::MerchantAnswer;
use crate::util;

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
    /// Every provider operation, written before the provider is asked.
    #[serde(default)]
    pub journal: Journal,
    /// The payment's part in recurring billing, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring: Option<Recurring>,
}

/// A payment's part in recurring billing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Recurring {
    /// The checkout that registers a subscription (`recurring_*` pay type).
    Registration {
        subscription_id: String,
        kind: Kind,
        /// Whether the registration charges the amount now (a monthly plan's
        /// first month) or only records the shopper's consent.
        charges_now: bool,
        /// The subscription's object has it (retried by the alarm until so).
        #[serde(default)]
        registered: bool,
        /// NP: the buyer's details sealed (AES-GCM) until the subscription
        /// holds them; then removed from the payment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sealed_buyer: Option<String>,
        /// When to try the hand-over again after a failure.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_at: Option<i64>,
    },
    /// A charge of a subscription: a monthly cycle (`period`) or a
    /// merchant's purchase on a fixed-term one.
    Charge {
        subscription_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        period: Option<Period>,
        /// au: the continuation (registration transaction) charged.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        continuation: Option<String>,
        /// When the cycle's next try is due if this one is refused (`None`:
        /// this is the last).
        #[serde(default)]
        next_try_at: Option<i64>,
    },
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

fn period_code(r: Option<&Recurring>) -> Option<String> {
    match r {
        Some(Recurring::Charge { period: Some(p), .. }) => Some(p.code()),
        _ => None,
    }
}

/// Why a change was refused, for the caller.
pub struct Refused {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

pub(super) fn refused(status: u16, code: &'static str, message: impl Into<String>) -> Refused {
    Refused { status, code, message: message.into() }
}

/// The webhook event a transition produces, if merchants hear of it.
pub(super) fn event_type(input: Input, to: Status) -> Option<&'static str> {
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
        (_, Status::Pending | Status::Processing | Status::Reconciling | Status::Registered) => return None,
    })
}

impl Payment {

    pub(super) fn offered(&self, m: Method) -> bool {
        self.offers.iter().any(|o| o.method == m && o.available)
    }

    pub fn next_url(&self) -> Option<String> {
        self.status.checkout_finished().then(|| format!("/pay/{}/return", self.id))
    }

    /// What merchants see of the payment in events and the API.
    pub fn snapshot(&self) -> serde_json::Value {
        let mut v = self.base_snapshot();
        if let Some(r) = &self.recurring {
            let (Recurring::Charge { subscription_id, .. } | Recurring::Registration { subscription_id, .. }) = r;
            v["subscription_id"] = subscription_id.clone().into();
        }
        v
    }

    fn base_snapshot(&self) -> serde_json::Value {
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
        let before = self.status;
        let (status, amounts) = transition(self.status, self.amounts, input)?;
        if matches!(before, Status::Processing | Status::Reconciling) {
            self.journal_attempt(input, now);
        }
        self.status = status;
        self.amounts = amounts;
        self.history.push(HistoryEntry { at: now, status, note: note.to_string() });
        if let Some(kind) = event_type(input, status) {
            let data = self.snapshot();
            self.events.push(Event::new(util::new_id("evt"), kind, now, data));
        }
        if let Some(Recurring::Charge { .. }) = &self.recurring {
            let charged = matches!(before, Status::Processing | Status::Reconciling | Status::Held) && matches!(status, Status::Paid | Status::Authorized);
            if charged {
                self.recurring_event("recurring.charged", serde_json::json!({}), now);
            } else if before == Status::Held && status == Status::Failed {
                let code = self.last_error.clone().unwrap_or_else(|| "np_declined".into());
                self.recurring_event("recurring.charge_failed", serde_json::json!({"error_code": code, "final": true, "next_try_at": null}), now);
            }
        }
        Ok(())
    }

    /// A recurring event of this payment: the payment's snapshot with the
    /// subscription, the cycle and `extra`.
    pub(super) fn recurring_event(&mut self, kind: &str, extra: serde_json::Value, now: i64) {
        let mut data = self.snapshot();
        if let Some(period) = period_code(self.recurring.as_ref()) {
            data["period"] = period.into();
        }
        if let (Some(obj), serde_json::Value::Object(extra)) = (data.as_object_mut(), extra) {
            obj.extend(extra);
        }
        self.events.push(Event::new(util::new_id("evt"), kind, now, data));
    }

    /// A refused try of a recurring charge: the cycle waits for its next
    /// try, or — the last try, or a refusal no retry can change — fails.
    pub(super) fn charge_refused(&mut self, code: &str, now: i64) {
        let Some(Recurring::Charge { next_try_at, .. }) = &self.recurring else { return };
        let next = next_try_at.filter(|_| shared::recurring::retryable(code));
        self.recurring_event("recurring.charge_failed", serde_json::json!({"error_code": code, "try": self.attempts, "final": next.is_none(), "next_try_at": next}), now);
        if next.is_none() && self.status == Status::Pending {
            let _ = self.apply(Input::ShopperGaveUp, &format!("the recurring charge failed ({code}): no further try"), now);
        }
    }

    pub(super) fn expire_if_due(&mut self, now: i64) {
        if self.status == Status::Pending && now >= self.expires_at {
            let _ = self.apply(Input::TimedOut, "the page's time limit passed", now);
        }
    }

    /// When the object next has work: expiry of an open page, or the
    /// next delivery.
    pub(super) fn next_work(&self) -> Option<i64> {
        let expiry = (self.status == Status::Pending).then_some(self.expires_at).or_else(|| self.au_check_at());
        [expiry, outbox::next_due(&self.events), self.journal.next_check(), self.registration_due()].into_iter().flatten().min()
    }

    /// Keeps the attempt's journal entry in step with the state machine:
    /// every way an attempt ends (here, at au's return, at NET CASH
    /// Wallet's, in a sweep) goes through `apply`.
    fn journal_attempt(&mut self, input: Input, now: i64) {
        let Some(op) = self.journal.ops.iter().rev().find(|o| o.kind == shared::journal::OpKind::Attempt && o.pending()) else { return };
        let id = op.id.clone();
        let outcome = match input {
            Input::Captured { .. } | Input::Authorized { .. } | Input::ScreeningHeld { .. } | Input::Registered => {
                OpOutcome::Succeeded { provider_ref: self.provider_ref.clone().unwrap_or_default() }
            }
            Input::AttemptRefused => OpOutcome::Failed { code: self.last_error.clone().unwrap_or_else(|| "refused".into()) },
            Input::AttemptUnclear => OpOutcome::Unclear { why: self.last_error.clone().unwrap_or_else(|| "unclear".into()) },
            _ => return,
        };
        self.journal.finish(&id, &outcome, now);
    }


    /// A monthly subscription's refund window (PRODUCT §6, au seed "Period
    /// for refund"): a charge until the last day of the month after next;
    /// the first month's charge, made at registration, only from the 1st of
    /// the following month.
    pub fn monthly_refund_refusal(&self, now: UnixTime) -> Option<shared::recurring::RefundRefusal> {
        let charged = UnixTime(self.paid_at?);
        let first_month = match &self.recurring {
            Some(Recurring::Registration { kind: Kind::Simple, charges_now: true, .. }) => true,
            Some(Recurring::Charge { period: Some(_), .. }) => false,
            _ => return None,
        };
        shared::recurring::check_simple_refund(charged, first_month, now).err()
    }

    /// What a checkout charges: its amount, except a recurring registration
    /// that only records consent (0).
    pub fn charged_at_registration(&self) -> Yen {
        match &self.recurring {
            Some(Recurring::Registration { charges_now: false, .. }) => Yen::ZERO,
            _ => self.amount,
        }
    }

    /// The kind of subscription this checkout registers, if it does.
    pub fn recurring_kind(&self) -> Option<Kind> {
        match &self.recurring {
            Some(Recurring::Registration { kind, .. }) => Some(*kind),
            _ => None,
        }
    }

    /// What can still be refunded: captured, less refunded, less what
    /// pending refunds hold.
    pub fn refundable(&self) -> Yen {
        self.journal.refundable(self.amounts)
    }
}

