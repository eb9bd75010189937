//! The journal of provider operations: every operation that moves money,
//! or may have, is written here before the provider is called and gets its
//! outcome written after. Pure: the payment object stores the journal in
//! the payment's record and calls the provider; this module decides what
//! may start, what an outcome changes, and when an unclear operation is
//! next checked.
//!
//! Invariants (kept by [`Journal::begin`] and [`Journal::finish`], proved
//! by the property tests below):
//! * at most one operation is `in_flight` per payment at a time;
//! * an operation that is in flight, unclear, or succeeded without being
//!   applied yet (a NET CASH refund queued in a weekly batch) reserves its
//!   amount: captures never exceed the authorization and refunds plus
//!   reservations never exceed what was captured, however requests
//!   interleave;
//! * an operation's provider key never changes, so asking the provider
//!   again (a retry, a reconciliation) is the same request;
//! * an unclear operation is never treated as "nothing happened": only the
//!   provider's answer (or its status query) ends it.

use serde::{Deserialize, Serialize};

use crate::money::Yen;
use crate::payment::{transition, Amounts, Input, Status, TransitionError};

/// What an operation does at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// The shopper's attempt: a debit, an authorization, a screening.
    Attempt,
    /// A capture (settle, partial settle) or NP's shipment report.
    Capture,
    /// A cancel of an authorization or hold (void, reversal, NP cancel).
    Void,
    /// A refund (full or partial) through the provider.
    Refund,
    /// A NET CASH refund requested into the weekly batch; applied when
    /// NET CASH pays it out.
    BatchRefund,
}

impl OpKind {
    pub fn code(self) -> &'static str {
        match self {
            OpKind::Attempt => "attempt",
            OpKind::Capture => "capture",
            OpKind::Void => "void",
            OpKind::Refund => "refund",
            OpKind::BatchRefund => "batch_refund",
        }
    }
}

/// Where an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpState {
    /// Written, the provider being asked now.
    InFlight,
    /// The provider did it.
    Succeeded,
    /// The provider refused it, or said it never happened: nothing moved.
    Failed,
    /// No clear answer: being reconciled with the provider.
    Reconciling,
}

/// Who asked for an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Shopper,
    Merchant,
    /// The merchant refused the result: the payment is undone.
    Rollback,
    /// The sweep undoing an attempt nobody finished.
    System,
}

/// One provider operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// Unique within the payment (`op1`, `op2`, …).
    pub id: String,
    pub kind: OpKind,
    pub origin: Origin,
    pub amount: Yen,
    /// The provider idempotency / reference key: a retry and a
    /// reconciliation send the same key.
    pub key: String,
    pub state: OpState,
    pub started_at: i64,
    pub updated_at: i64,
    /// The provider's reference for the operation, once known.
    #[serde(default)]
    pub provider_ref: Option<String>,
    /// Why it failed, or why it is unclear.
    #[serde(default)]
    pub error: Option<String>,
    /// How often the provider was asked again.
    #[serde(default)]
    pub checks: u32,
    /// When the provider is next asked (reconciling, or in flight past its
    /// lease because the Worker died mid-call).
    #[serde(default)]
    pub next_check_at: Option<i64>,
    /// Whether its effect is in the payment's amounts (a batch refund is
    /// applied when paid out; others when they succeed).
    #[serde(default)]
    pub applied: bool,
}

impl Operation {
    /// Whether the operation still holds its amount.
    pub fn pending(&self) -> bool {
        match self.state {
            OpState::InFlight | OpState::Reconciling => true,
            OpState::Succeeded => !self.applied,
            OpState::Failed => false,
        }
    }

    /// The input its success applies to the payment.
    pub fn input(&self) -> Input {
        match self.kind {
            OpKind::Attempt => Input::Captured { amount: self.amount },
            OpKind::Capture => Input::Settled { amount: self.amount },
            OpKind::Void => Input::Voided,
            OpKind::Refund | OpKind::BatchRefund => Input::Refunded { amount: self.amount },
        }
    }
}

/// What is asked of the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRequest {
    pub kind: OpKind,
    pub origin: Origin,
    pub amount: Yen,
    pub key: String,
}

/// Why an operation may not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Another operation is running, or holds what this one needs.
    #[error("another operation on this payment is in progress ({kind} of {amount} yen, {state}); retry when it has ended")]
    InProgress { kind: &'static str, amount: u64, state: &'static str },
    /// The key was used for a different operation.
    #[error("this key was used for another operation on this payment")]
    KeyReused,
    /// The state machine refuses it whatever else happens.
    #[error(transparent)]
    NotAllowed(#[from] TransitionError),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::InProgress { .. } => "operation_in_progress",
            Refusal::KeyReused => "idempotency_key_reused",
            Refusal::NotAllowed(_) => "not_allowed",
        }
    }
}

/// What `begin` decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// A new operation, now in flight: call the provider with its key.
    Started(Operation),
    /// The key names an operation already journaled: its outcome is the
    /// answer (or, while reconciling, ask the provider again).
    Existing(Operation),
}

/// How a provider answered an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OpOutcome {
    Succeeded { provider_ref: String },
    Failed { code: String },
    Unclear { why: String },
}

/// How long a call may stay in flight before the Worker is presumed to
/// have died mid-call and the operation is reconciled.
pub const IN_FLIGHT_LEASE_SECONDS: i64 = 120;

/// The delay before the `checks`-th reconciliation: 15 s doubling to an
/// hour, bounded.
pub fn backoff(checks: u32) -> i64 {
    (15i64 << checks.min(8)).min(3600)
}

/// The journal of one payment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Journal {
    pub ops: Vec<Operation>,
}

impl Journal {
    pub fn get(&self, id: &str) -> Option<&Operation> {
        self.ops.iter().find(|o| o.id == id)
    }

    pub fn by_key(&self, key: &str) -> Option<&Operation> {
        self.ops.iter().find(|o| o.key == key)
    }

    pub fn in_flight(&self) -> Option<&Operation> {
        self.ops.iter().find(|o| o.state == OpState::InFlight)
    }

    /// Amounts reserved by pending operations of a kind.
    pub fn reserved(&self, kind: OpKind) -> Yen {
        Yen::new(self.ops.iter().filter(|o| o.kind == kind && o.pending()).map(|o| o.amount.get()).sum())
    }

    /// Pending refunds of either kind.
    pub fn reserved_refunds(&self) -> Yen {
        self.reserved(OpKind::Refund).checked_add(self.reserved(OpKind::BatchRefund)).unwrap_or(Yen::ZERO)
    }

    /// What can still be refunded, counting reservations.
    pub fn refundable(&self, amounts: Amounts) -> Yen {
        let left = amounts.captured.checked_sub(amounts.refunded).unwrap_or(Yen::ZERO);
        left.checked_sub(self.reserved_refunds()).unwrap_or(Yen::ZERO)
    }

    /// Whether the provider should be asked about an operation now.
    pub fn due(&self, now: i64) -> Option<&Operation> {
        self.ops.iter().find(|o| o.next_check_at.is_some_and(|t| t <= now) && matches!(o.state, OpState::InFlight | OpState::Reconciling))
    }

    /// When an operation next needs the provider.
    pub fn next_check(&self) -> Option<i64> {
        self.ops
            .iter()
            .filter(|o| matches!(o.state, OpState::InFlight | OpState::Reconciling))
            .filter_map(|o| o.next_check_at)
            .min()
    }

    /// Starts an operation: checks it against the state machine and every
    /// reservation, and writes it in flight. The caller stores the record
    /// before calling the provider.
    pub fn begin(&mut self, status: Status, amounts: Amounts, req: OpRequest, now: i64) -> Result<Begin, Refusal> {
        if let Some(o) = self.by_key(&req.key) {
            if o.kind != req.kind || o.amount != req.amount {
                return Err(Refusal::KeyReused);
            }
            return Ok(Begin::Existing(o.clone()));
        }
        let busy = |o: &Operation| Refusal::InProgress {
            kind: o.kind.code(),
            amount: o.amount.get(),
            state: if o.state == OpState::InFlight { "in flight" } else { "being reconciled" },
        };
        if let Some(o) = self.in_flight() {
            return Err(busy(o));
        }
        // What would be true if every pending operation succeeded.
        let refunds = self.reserved_refunds();
        let worst = Amounts { refunded: amounts.refunded.checked_add(refunds).unwrap_or(amounts.captured), ..amounts };
        match req.kind {
            OpKind::Attempt => {
                if let Some(o) = self.ops.iter().find(|o| o.kind == OpKind::Attempt && o.pending()) {
                    return Err(busy(o));
                }
                // The caller moves the payment to `processing` itself.
            }
            OpKind::Capture | OpKind::Void => {
                if let Some(o) = self.ops.iter().find(|o| matches!(o.kind, OpKind::Capture | OpKind::Void | OpKind::Attempt) && o.pending()) {
                    return Err(busy(o));
                }
                transition(status, amounts, self.request_input(&req))?;
            }
            OpKind::Refund | OpKind::BatchRefund => {
                if let Some(o) = self.ops.iter().find(|o| matches!(o.kind, OpKind::Capture | OpKind::Void | OpKind::Attempt) && o.pending()) {
                    return Err(busy(o));
                }
                // Refused even without the reservations: say why plainly.
                transition(status, amounts, self.request_input(&req))?;
                if transition(status, worst, self.request_input(&req)).is_err() {
                    let o = self.ops.iter().find(|o| matches!(o.kind, OpKind::Refund | OpKind::BatchRefund) && o.pending());
                    return Err(o.map(busy).unwrap_or(Refusal::InProgress { kind: "refund", amount: refunds.get(), state: "pending" }));
                }
            }
        }
        let op = Operation {
            id: format!("op{}", self.ops.len() + 1),
            kind: req.kind,
            origin: req.origin,
            amount: req.amount,
            key: req.key,
            state: OpState::InFlight,
            started_at: now,
            updated_at: now,
            provider_ref: None,
            error: None,
            checks: 0,
            next_check_at: Some(now + IN_FLIGHT_LEASE_SECONDS),
            applied: false,
        };
        self.ops.push(op.clone());
        Ok(Begin::Started(op))
    }

    fn request_input(&self, req: &OpRequest) -> Input {
        match req.kind {
            OpKind::Attempt => Input::Captured { amount: req.amount },
            OpKind::Capture => Input::Settled { amount: req.amount },
            OpKind::Void => Input::Voided,
            OpKind::Refund | OpKind::BatchRefund => Input::Refunded { amount: req.amount },
        }
    }

    /// Writes an operation's outcome. Returns the input the caller applies
    /// to the payment (through the state machine), if the outcome moved
    /// money there for the first time. An outcome for an operation that has
    /// already ended changes nothing.
    pub fn finish(&mut self, id: &str, outcome: &OpOutcome, now: i64) -> Option<Input> {
        let o = self.ops.iter_mut().find(|o| o.id == id)?;
        if matches!(o.state, OpState::Succeeded | OpState::Failed) {
            return None;
        }
        o.updated_at = now;
        match outcome {
            OpOutcome::Succeeded { provider_ref } => {
                o.state = OpState::Succeeded;
                o.provider_ref = Some(provider_ref.clone());
                o.error = None;
                o.next_check_at = None;
                if o.kind == OpKind::BatchRefund {
                    // Applied when NET CASH pays it out.
                    return None;
                }
                o.applied = true;
                Some(o.input())
            }
            OpOutcome::Failed { code } => {
                o.state = OpState::Failed;
                o.error = Some(code.clone());
                o.next_check_at = None;
                None
            }
            OpOutcome::Unclear { why } => {
                o.state = OpState::Reconciling;
                o.error = Some(why.clone());
                o.next_check_at = Some(now + backoff(o.checks));
                o.checks += 1;
                None
            }
        }
    }

    /// Marks a succeeded batch refund as paid out: returns its input once.
    pub fn apply_batch(&mut self, key: &str) -> Option<Input> {
        let o = self.ops.iter_mut().find(|o| o.key == key && o.kind == OpKind::BatchRefund)?;
        if o.applied || o.state == OpState::Failed {
            return None;
        }
        o.state = OpState::Succeeded;
        o.applied = true;
        o.next_check_at = None;
        Some(o.input())
    }

    /// Records that the provider was asked again without a clear answer.
    pub fn checked_again(&mut self, id: &str, why: &str, now: i64) {
        if let Some(o) = self.ops.iter_mut().find(|o| o.id == id) {
            if matches!(o.state, OpState::InFlight | OpState::Reconciling) {
                o.state = OpState::Reconciling;
                o.error = Some(why.to_string());
                o.next_check_at = Some(now + backoff(o.checks));
                o.checks += 1;
                o.updated_at = now;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y: fn(u64) -> Yen = Yen::new;

    fn paid(amount: u64) -> (Status, Amounts) {
        (Status::Paid, Amounts { authorized: Y(amount), captured: Y(amount), refunded: Y(0) })
    }

    fn req(kind: OpKind, amount: u64, key: &str) -> OpRequest {
        OpRequest { kind, origin: Origin::Merchant, amount: Y(amount), key: key.into() }
    }

    fn started(b: Result<Begin, Refusal>) -> Operation {
        match b {
            Ok(Begin::Started(o)) => o,
            other => panic!("expected a start, got {other:?}"),
        }
    }

    #[test]
    fn a_second_operation_waits_while_one_is_in_flight() {
        let (s, a) = paid(1000);
        let mut j = Journal::default();
        started(j.begin(s, a, req(OpKind::Refund, 300, "k1"), 0));
        let e = j.begin(s, a, req(OpKind::Refund, 300, "k2"), 0).unwrap_err();
        assert_eq!(e.code(), "operation_in_progress");
    }

    #[test]
    fn the_same_key_is_the_same_operation() {
        let (s, a) = paid(1000);
        let mut j = Journal::default();
        let o = started(j.begin(s, a, req(OpKind::Refund, 300, "k1"), 0));
        assert_eq!(j.begin(s, a, req(OpKind::Refund, 300, "k1"), 5), Ok(Begin::Existing(o)));
        assert_eq!(j.begin(s, a, req(OpKind::Refund, 301, "k1"), 5), Err(Refusal::KeyReused));
    }

    #[test]
    fn an_unclear_refund_reserves_its_amount() {
        let (s, a) = paid(1000);
        let mut j = Journal::default();
        let o = started(j.begin(s, a, req(OpKind::Refund, 700, "k1"), 0));
        assert_eq!(j.finish(&o.id, &OpOutcome::Unclear { why: "timeout".into() }, 1), None);
        assert_eq!(j.refundable(a), Y(300));
        // Fits with the reservation: allowed.
        let o2 = started(j.begin(s, a, req(OpKind::Refund, 300, "k2"), 2));
        assert_eq!(j.finish(&o2.id, &OpOutcome::Succeeded { provider_ref: "r2".into() }, 3), Some(Input::Refunded { amount: Y(300) }));
        let (s, a) = transition(s, a, Input::Refunded { amount: Y(300) }).unwrap();
        // Would fit only if the unclear one failed: in progress, not "too large".
        assert_eq!(j.begin(s, a, req(OpKind::Refund, 100, "k3"), 4).unwrap_err().code(), "operation_in_progress");
        // More than was ever captured: the state machine's refusal.
        assert!(matches!(j.begin(s, a, req(OpKind::Refund, 800, "k4"), 4), Err(Refusal::NotAllowed(_))));
    }

    #[test]
    fn an_unclear_operation_is_checked_with_a_bounded_backoff() {
        let (s, a) = paid(1000);
        let mut j = Journal::default();
        let o = started(j.begin(s, a, req(OpKind::Refund, 100, "k1"), 0));
        assert_eq!(j.next_check(), Some(IN_FLIGHT_LEASE_SECONDS), "a call that never returns is reconciled");
        j.finish(&o.id, &OpOutcome::Unclear { why: "500".into() }, 10);
        assert_eq!(j.next_check(), Some(25));
        for i in 0..30 {
            j.checked_again(&o.id, "still unclear", 100 + i);
        }
        assert_eq!(j.next_check(), Some(129 + 3600));
        assert!(j.due(129 + 3599).is_none());
        assert_eq!(j.due(129 + 3600).map(|o| o.id.as_str()), Some("op1"));
        j.finish(&o.id, &OpOutcome::Succeeded { provider_ref: "r".into() }, 9999);
        assert_eq!(j.next_check(), None);
    }

    #[test]
    fn an_ended_operation_ignores_late_outcomes() {
        let (s, a) = paid(1000);
        let mut j = Journal::default();
        let o = started(j.begin(s, a, req(OpKind::Refund, 100, "k1"), 0));
        assert!(j.finish(&o.id, &OpOutcome::Succeeded { provider_ref: "r".into() }, 1).is_some());
        assert_eq!(j.finish(&o.id, &OpOutcome::Succeeded { provider_ref: "r".into() }, 2), None);
        assert_eq!(j.finish(&o.id, &OpOutcome::Failed { code: "x".into() }, 2), None);
        assert_eq!(j.get(&o.id).unwrap().state, OpState::Succeeded);
    }

    #[test]
    fn a_batch_refund_holds_its_amount_until_paid_out() {
        let (s, a) = paid(1100);
        let mut j = Journal::default();
        let o = started(j.begin(s, a, req(OpKind::BatchRefund, 600, "r1"), 0));
        assert_eq!(j.finish(&o.id, &OpOutcome::Succeeded { provider_ref: "q".into() }, 1), None);
        assert_eq!(j.refundable(a), Y(500));
        assert_eq!(j.begin(s, a, req(OpKind::BatchRefund, 600, "r2"), 2).unwrap_err().code(), "operation_in_progress");
        assert_eq!(j.apply_batch("r1"), Some(Input::Refunded { amount: Y(600) }));
        assert_eq!(j.apply_batch("r1"), None, "paid twice changes nothing");
    }

    #[test]
    fn capture_and_void_exclude_each_other() {
        let s = Status::Authorized;
        let a = Amounts { authorized: Y(1000), captured: Y(0), refunded: Y(0) };
        let mut j = Journal::default();
        let o = started(j.begin(s, a, req(OpKind::Capture, 800, "c1"), 0));
        j.finish(&o.id, &OpOutcome::Unclear { why: "timeout".into() }, 1);
        assert_eq!(j.begin(s, a, req(OpKind::Void, 1000, "v1"), 2).unwrap_err().code(), "operation_in_progress");
        assert_eq!(j.begin(s, a, req(OpKind::Capture, 800, "c2"), 2).unwrap_err().code(), "operation_in_progress");
        assert!(matches!(j.begin(s, a, req(OpKind::Refund, 100, "r1"), 2), Err(Refusal::InProgress { .. })));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Step {
            Begin { kind: u8, amount: u64, key: u8 },
            Finish { which: u8, outcome: u8 },
            PayOut { which: u8 },
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                (0u8..4, 1u64..1500, 0u8..6).prop_map(|(kind, amount, key)| Step::Begin { kind, amount, key }),
                (0u8..8, 0u8..3).prop_map(|(which, outcome)| Step::Finish { which, outcome }),
                (0u8..8).prop_map(|which| Step::PayOut { which }),
            ]
        }

        proptest! {
            /// Any interleaving of requests and outcomes (including unclear
            /// ones, duplicates and late answers) never captures more than
            /// was authorized, never refunds or reserves more than was
            /// captured, and our amounts always equal the sum of what the
            /// provider did (its "ledger": every succeeded operation).
            #[test]
            fn no_interleaving_moves_more_than_the_payment_allows(
                specified in any::<bool>(),
                steps in proptest::collection::vec(step(), 1..60),
            ) {
                let (mut s, mut a) = if specified {
                    (Status::Authorized, Amounts { authorized: Y(1000), captured: Y(0), refunded: Y(0) })
                } else {
                    paid(1000)
                };
                let mut j = Journal::default();
                let mut keys = 0u32;
                for st in steps {
                    match st {
                        Step::Begin { kind, amount, key } => {
                            let kind = [OpKind::Capture, OpKind::Void, OpKind::Refund, OpKind::BatchRefund][kind as usize];
                            let amount = if kind == OpKind::Void { a.authorized.get().max(1) } else { amount };
                            keys += 1;
                            let key = if key == 0 { "dup".to_string() } else { format!("k{keys}") };
                            let _ = j.begin(s, a, OpRequest { kind, origin: Origin::Merchant, amount: Y(amount), key }, 0);
                        }
                        Step::Finish { which, outcome } => {
                            let Some(id) = j.ops.get(which as usize).map(|o| o.id.clone()) else { continue };
                            let out = match outcome {
                                0 => OpOutcome::Succeeded { provider_ref: "p".into() },
                                1 => OpOutcome::Failed { code: "refused".into() },
                                _ => OpOutcome::Unclear { why: "timeout".into() },
                            };
                            if let Some(input) = j.finish(&id, &out, 0) {
                                let (s2, a2) = transition(s, a, input).expect("a journaled operation is always applicable");
                                s = s2;
                                a = a2;
                            }
                        }
                        Step::PayOut { which } => {
                            let Some(key) = j.ops.get(which as usize).map(|o| o.key.clone()) else { continue };
                            let succeeded = j.ops.get(which as usize).is_some_and(|o| o.state == OpState::Succeeded);
                            if !succeeded { continue }
                            if let Some(input) = j.apply_batch(&key) {
                                let (s2, a2) = transition(s, a, input).expect("a queued batch refund is always applicable");
                                s = s2;
                                a = a2;
                            }
                        }
                    }
                    prop_assert!(a.captured <= a.authorized);
                    prop_assert!(a.refunded.get() + j.reserved_refunds().get() <= a.captured.get());
                    prop_assert!(j.ops.iter().filter(|o| o.state == OpState::InFlight).count() <= 1);
                    let ledger_refunds: u64 = j.ops.iter()
                        .filter(|o| matches!(o.kind, OpKind::Refund | OpKind::BatchRefund) && o.applied)
                        .map(|o| o.amount.get()).sum();
                    prop_assert_eq!(ledger_refunds, a.refunded.get());
                    let captures: u64 = j.ops.iter().filter(|o| o.kind == OpKind::Capture && o.applied).map(|o| o.amount.get()).sum();
                    if specified && s != Status::Cancelled {
                        prop_assert_eq!(captures, a.captured.get());
                    }
                }
            }
        }
    }
}
