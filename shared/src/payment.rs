//! The payment state machine: statuses every method needs, the transitions
//! between them as a pure function, and the amounts they move.

use serde::{Deserialize, Serialize};

use crate::money::Yen;

/// Where a payment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The hosted page is open; no attempt is running.
    Pending,
    /// An attempt is at the provider.
    Processing,
    /// The provider gave no clear answer to the attempt: we are asking it
    /// what happened; the shopper waits (no second attempt meanwhile).
    Reconciling,
    /// The provider's screening has not decided yet (NP postpaid).
    Held,
    /// Authorized, waiting for the merchant to settle (specified sales).
    Authorized,
    /// Paid: sold and settled.
    Paid,
    /// Part of the settled amount has been refunded.
    PartiallyRefunded,
    /// Everything settled has been refunded.
    Refunded,
    /// Cancelled before any money moved for good.
    Cancelled,
    /// The shopper left after a refused attempt, or screening declined.
    Failed,
    /// The page's time limit passed without payment.
    Expired,
    /// The merchant answered NG (or did not answer) and the payment was
    /// rolled back.
    RejectedByMerchant,
    /// Money moved and cannot be rolled back by the provider (NET CASH):
    /// the merchant must refund it.
    RefundRequired,
    /// The provider opened an unauthorized-use investigation (au): the sale
    /// leaves settlement until it is cleared or charged back.
    UnderInvestigation,
    /// The provider charged the sale back: the merchant is not paid for it.
    ChargedBack,
    /// A recurring registration that charged nothing (fixed term / pay as
    /// you go, or a monthly plan whose first month is not charged): the
    /// shopper consented; the subscription's charges are payments of their own.
    Registered,
}

impl Status {
    /// Every status, in the order of the life cycle.
    pub const ALL: [Status; 16] = [
        Status::Pending,
        Status::Processing,
        Status::Reconciling,
        Status::Held,
        Status::Authorized,
        Status::Paid,
        Status::PartiallyRefunded,
        Status::Refunded,
        Status::Cancelled,
        Status::Failed,
        Status::Expired,
        Status::RejectedByMerchant,
        Status::RefundRequired,
        Status::UnderInvestigation,
        Status::ChargedBack,
        Status::Registered,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Processing => "processing",
            Status::Reconciling => "reconciling",
            Status::Held => "held",
            Status::Authorized => "authorized",
            Status::Paid => "paid",
            Status::PartiallyRefunded => "partially_refunded",
            Status::Refunded => "refunded",
            Status::Cancelled => "cancelled",
            Status::Failed => "failed",
            Status::Expired => "expired",
            Status::RejectedByMerchant => "rejected_by_merchant",
            Status::RefundRequired => "refund_required",
            Status::UnderInvestigation => "under_investigation",
            Status::ChargedBack => "charged_back",
            Status::Registered => "registered",
        }
    }

    /// Whether the shopper's part is over (the page only offers a way back).
    pub fn checkout_finished(self) -> bool {
        !matches!(self, Status::Pending | Status::Processing | Status::Reconciling)
    }
}

/// The amounts of a payment. `authorized ≥ captured ≥ refunded` always.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Amounts {
    pub authorized: Yen,
    pub captured: Yen,
    pub refunded: Yen,
}

/// Something that happens to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Input {
    /// An attempt goes to the provider.
    AttemptStarted,
    /// The provider refused the attempt (or said it never happened); the
    /// shopper may try again.
    AttemptRefused,
    /// The provider's answer to the attempt was unclear: reconcile.
    AttemptUnclear,
    /// The provider took the money (automatic sales).
    Captured { amount: Yen },
    /// The provider authorized the amount (specified sales).
    Authorized { amount: Yen },
    /// The provider's screening is pending.
    ScreeningHeld { amount: Yen },
    ScreeningApproved,
    ScreeningDeclined,
    /// The merchant's result notification answered NG or nothing;
    /// `rollback` says whether the provider could undo the payment.
    MerchantRejected { rollback: bool },
    /// The shopper cancelled on the page.
    ShopperCancelled,
    /// The shopper went back to the shop after a refused attempt.
    ShopperGaveUp,
    /// The page's time limit passed.
    TimedOut,
    /// The merchant settles (part of) an authorization.
    Settled { amount: Yen },
    /// The merchant cancels an authorization or a not yet fixed sale.
    Voided,
    /// Money goes back to the shopper.
    Refunded { amount: Yen },
    /// The provider opened an unauthorized-use investigation.
    InvestigationOpened,
    /// The investigation ended in the merchant's favour.
    InvestigationCleared,
    /// The provider charged the sale back.
    ChargedBack,
    /// The shopper consented to a recurring registration that charges
    /// nothing now.
    Registered,
}

/// Why an input is refused in a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("{input} is not possible while the payment is {status}")]
    NotAllowed { status: &'static str, input: &'static str },
    #[error("the amount must be more than 0")]
    ZeroAmount,
    #[error("the amount is more than what remains ({remaining} yen)")]
    AmountTooLarge { remaining: u64 },
}

impl Input {
    pub fn name(self) -> &'static str {
        match self {
            Input::AttemptStarted => "starting an attempt",
            Input::AttemptRefused => "refusing an attempt",
            Input::AttemptUnclear => "reconciling an attempt",
            Input::Captured { .. } => "capturing",
            Input::Authorized { .. } => "authorizing",
            Input::ScreeningHeld { .. } => "holding for screening",
            Input::ScreeningApproved => "approving screening",
            Input::ScreeningDeclined => "declining screening",
            Input::MerchantRejected { .. } => "a merchant rejection",
            Input::ShopperCancelled => "cancelling",
            Input::ShopperGaveUp => "leaving after a refusal",
            Input::TimedOut => "expiring",
            Input::Settled { .. } => "settling",
            Input::Voided => "cancelling",
            Input::Refunded { .. } => "refunding",
            Input::InvestigationOpened => "opening an investigation",
            Input::InvestigationCleared => "clearing an investigation",
            Input::ChargedBack => "a chargeback",
            Input::Registered => "registering",
        }
    }
}

/// The pure transition function: the next status and amounts, or why not.
pub fn transition(status: Status, amounts: Amounts, input: Input) -> Result<(Status, Amounts), TransitionError> {
    use Input as I;
    use Status as S;
    let refuse = || TransitionError::NotAllowed { status: status.code(), input: input.name() };
    let positive = |a: Yen| if a == Yen::ZERO { Err(TransitionError::ZeroAmount) } else { Ok(a) };
    match (status, input) {
        (S::Pending, I::AttemptStarted) => Ok((S::Processing, amounts)),
        (S::Processing | S::Reconciling, I::AttemptRefused) => Ok((S::Pending, amounts)),
        (S::Processing, I::AttemptUnclear) => Ok((S::Reconciling, amounts)),
        (S::Processing | S::Reconciling, I::Captured { amount }) => {
            let a = positive(amount)?;
            Ok((S::Paid, Amounts { authorized: a, captured: a, refunded: Yen::ZERO }))
        }
        (S::Processing | S::Reconciling, I::Authorized { amount }) => {
            let a = positive(amount)?;
            Ok((S::Authorized, Amounts { authorized: a, captured: Yen::ZERO, refunded: Yen::ZERO }))
        }
        (S::Processing | S::Reconciling, I::ScreeningHeld { amount }) => {
            let a = positive(amount)?;
            Ok((S::Held, Amounts { authorized: a, captured: Yen::ZERO, refunded: Yen::ZERO }))
        }
        (S::Processing | S::Reconciling, I::Registered) => Ok((S::Registered, Amounts::default())),
        // A registration the merchant refused: nothing was charged.
        (S::Registered, I::MerchantRejected { .. }) => Ok((S::RejectedByMerchant, Amounts::default())),
        (S::Held, I::ScreeningApproved) => Ok((S::Authorized, amounts)),
        (S::Held, I::ScreeningDeclined) => Ok((S::Failed, Amounts::default())),
        (S::Paid | S::Authorized | S::Held, I::MerchantRejected { rollback: true }) => {
            Ok((S::RejectedByMerchant, Amounts::default()))
        }
        // NET CASH cannot undo a debit; an authorization whose void failed
        // is still held at the provider: both need the merchant's action
        // (a refund, or a cancel of the authorization).
        (S::Paid | S::Authorized | S::Held, I::MerchantRejected { rollback: false }) => Ok((S::RefundRequired, amounts)),
        (S::Pending, I::ShopperCancelled) => Ok((S::Cancelled, amounts)),
        (S::Pending, I::ShopperGaveUp) => Ok((S::Failed, amounts)),
        (S::Pending, I::TimedOut) => Ok((S::Expired, amounts)),
        (S::Authorized, I::Settled { amount }) => {
            let a = positive(amount)?;
            if a > amounts.authorized {
                return Err(TransitionError::AmountTooLarge { remaining: amounts.authorized.get() });
            }
            Ok((S::Paid, Amounts { captured: a, ..amounts }))
        }
        (S::Authorized | S::Held, I::Voided) => Ok((S::Cancelled, Amounts::default())),
        (S::RefundRequired, I::Voided) if amounts.captured == Yen::ZERO => Ok((S::Cancelled, Amounts::default())),
        (S::Paid | S::PartiallyRefunded | S::RefundRequired, I::Refunded { amount }) => {
            let a = positive(amount)?;
            let remaining = amounts.captured.checked_sub(amounts.refunded).unwrap_or(Yen::ZERO);
            if a > remaining {
                return Err(TransitionError::AmountTooLarge { remaining: remaining.get() });
            }
            let refunded = amounts.refunded.checked_add(a).ok_or(TransitionError::AmountTooLarge { remaining: remaining.get() })?;
            let next = if refunded == amounts.captured { S::Refunded } else { S::PartiallyRefunded };
            Ok((next, Amounts { refunded, ..amounts }))
        }
        (S::Paid | S::PartiallyRefunded, I::InvestigationOpened) => Ok((S::UnderInvestigation, amounts)),
        (S::UnderInvestigation, I::InvestigationCleared) => {
            Ok((if amounts.refunded == Yen::ZERO { S::Paid } else { S::PartiallyRefunded }, amounts))
        }
        (S::Paid | S::PartiallyRefunded | S::UnderInvestigation, I::ChargedBack) => Ok((S::ChargedBack, amounts)),
        _ => Err(refuse()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y: fn(u64) -> Yen = Yen::new;

    fn run(inputs: &[Input]) -> Result<(Status, Amounts), TransitionError> {
        inputs.iter().try_fold((Status::Pending, Amounts::default()), |(s, a), i| transition(s, a, *i))
    }

    #[test]
    fn a_registration_charges_nothing_and_ends_the_checkout() {
        let (s, a) = run(&[Input::AttemptStarted, Input::Registered]).unwrap();
        assert_eq!((s, a), (Status::Registered, Amounts::default()));
        assert!(s.checkout_finished());
        assert!(transition(s, a, Input::Refunded { amount: Y(1) }).is_err());
        assert!(transition(s, a, Input::Settled { amount: Y(1) }).is_err());
        assert_eq!(transition(s, a, Input::MerchantRejected { rollback: true }).unwrap().0, Status::RejectedByMerchant);
    }

    #[test]
    fn netcash_paid_then_merchant_ng_needs_a_refund() {
        let (s, a) = run(&[Input::AttemptStarted, Input::Captured { amount: Y(1100) }, Input::MerchantRejected { rollback: false }]).unwrap();
        assert_eq!(s, Status::RefundRequired);
        assert_eq!(a.captured, Y(1100));
        let (s, _) = transition(s, a, Input::Refunded { amount: Y(1100) }).unwrap();
        assert_eq!(s, Status::Refunded);
    }

    #[test]
    fn a_refused_attempt_can_be_retried_or_abandoned() {
        let (s, _) = run(&[Input::AttemptStarted, Input::AttemptRefused]).unwrap();
        assert_eq!(s, Status::Pending);
        assert_eq!(run(&[Input::AttemptStarted, Input::AttemptRefused, Input::ShopperGaveUp]).unwrap().0, Status::Failed);
        assert_eq!(
            run(&[Input::AttemptStarted, Input::AttemptRefused, Input::AttemptStarted, Input::Captured { amount: Y(5) }]).unwrap().0,
            Status::Paid
        );
    }

    #[test]
    fn specified_sales_settle_at_most_the_authorization() {
        let auth = [Input::AttemptStarted, Input::Authorized { amount: Y(1000) }];
        let (s, a) = run(&auth).unwrap();
        assert_eq!(
            transition(s, a, Input::Settled { amount: Y(1001) }),
            Err(TransitionError::AmountTooLarge { remaining: 1000 })
        );
        let (s, a) = transition(s, a, Input::Settled { amount: Y(800) }).unwrap();
        assert_eq!((s, a.captured), (Status::Paid, Y(800)));
    }

    #[test]
    fn refunds_never_exceed_the_captured_total() {
        let (s, a) = run(&[Input::AttemptStarted, Input::Captured { amount: Y(1000) }]).unwrap();
        let (s, a) = transition(s, a, Input::Refunded { amount: Y(300) }).unwrap();
        assert_eq!((s, a.refunded), (Status::PartiallyRefunded, Y(300)));
        assert_eq!(transition(s, a, Input::Refunded { amount: Y(701) }), Err(TransitionError::AmountTooLarge { remaining: 700 }));
        assert_eq!(transition(s, a, Input::Refunded { amount: Y(0) }), Err(TransitionError::ZeroAmount));
        let (s, a) = transition(s, a, Input::Refunded { amount: Y(700) }).unwrap();
        assert_eq!((s, a.refunded), (Status::Refunded, Y(1000)));
        assert!(transition(s, a, Input::Refunded { amount: Y(1) }).is_err());
    }

    #[test]
    fn finished_payments_refuse_shopper_actions() {
        for s in [Status::Paid, Status::Cancelled, Status::Expired, Status::Failed, Status::RefundRequired, Status::Refunded] {
            for i in [Input::AttemptStarted, Input::ShopperCancelled, Input::TimedOut, Input::Captured { amount: Y(1) }] {
                assert!(transition(s, Amounts::default(), i).is_err(), "{s:?} {i:?}");
            }
        }
    }

    #[test]
    fn a_second_attempt_cannot_start_while_one_runs() {
        let (s, a) = run(&[Input::AttemptStarted]).unwrap();
        assert_eq!(
            transition(s, a, Input::AttemptStarted),
            Err(TransitionError::NotAllowed { status: "processing", input: "starting an attempt" })
        );
    }

    #[test]
    fn an_unclear_attempt_is_reconciled_never_retried_blind() {
        let (s, a) = run(&[Input::AttemptStarted, Input::AttemptUnclear]).unwrap();
        assert_eq!(s, Status::Reconciling);
        assert!(!s.checkout_finished());
        assert!(transition(s, a, Input::AttemptStarted).is_err(), "no second attempt while the first is unknown");
        assert!(transition(s, a, Input::ShopperCancelled).is_err());
        assert_eq!(transition(s, a, Input::Captured { amount: Y(500) }).unwrap().0, Status::Paid);
        assert_eq!(transition(s, a, Input::AttemptRefused).unwrap().0, Status::Pending);
    }

    #[test]
    fn a_rejected_authorization_whose_void_failed_needs_the_merchant() {
        let (s, a) = run(&[Input::AttemptStarted, Input::Authorized { amount: Y(700) }, Input::MerchantRejected { rollback: false }]).unwrap();
        assert_eq!(s, Status::RefundRequired);
        assert!(s.checkout_finished());
        assert!(transition(s, a, Input::Refunded { amount: Y(1) }).is_err(), "nothing was captured");
        assert_eq!(transition(s, a, Input::Voided).unwrap().0, Status::Cancelled);
    }

    #[test]
    fn screening_hold_then_decision() {
        let held = run(&[Input::AttemptStarted, Input::ScreeningHeld { amount: Y(3000) }]).unwrap();
        assert_eq!(held.0, Status::Held);
        assert_eq!(transition(held.0, held.1, Input::ScreeningApproved).unwrap().0, Status::Authorized);
        assert_eq!(transition(held.0, held.1, Input::ScreeningDeclined).unwrap().0, Status::Failed);
    }

    #[test]
    fn investigations_and_chargebacks() {
        let paid = run(&[Input::AttemptStarted, Input::Captured { amount: Y(1000) }]).unwrap();
        let (s, a) = transition(paid.0, paid.1, Input::InvestigationOpened).unwrap();
        assert_eq!(s, Status::UnderInvestigation);
        assert!(transition(s, a, Input::Refunded { amount: Y(1) }).is_err(), "no refund while investigated");
        assert_eq!(transition(s, a, Input::InvestigationCleared).unwrap().0, Status::Paid);
        let (s, a) = transition(s, a, Input::ChargedBack).unwrap();
        assert_eq!(s, Status::ChargedBack);
        for late in [Input::InvestigationOpened, Input::InvestigationCleared, Input::ChargedBack] {
            assert!(transition(s, a, late).is_err(), "{late:?} after a chargeback");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A provider's decision, repeated and mixed with stale news in any
        /// order, lands on the same final state: the machine refuses what
        /// no longer applies instead of applying it twice.
        fn apply_all(start: (Status, Amounts), inputs: &[Input]) -> (Status, Amounts) {
            inputs.iter().fold(start, |(s, a), i| transition(s, a, *i).unwrap_or((s, a)))
        }

        proptest! {
            #[test]
            fn duplicated_and_reordered_screening_notifications_agree(
                approve in any::<bool>(),
                copies in 1usize..5,
                stale in 0usize..4,
                seed in any::<u64>(),
            ) {
                let held = run(&[Input::AttemptStarted, Input::ScreeningHeld { amount: Y(3000) }]).unwrap();
                let decision = if approve { Input::ScreeningApproved } else { Input::ScreeningDeclined };
                let mut inputs = vec![decision; copies];
                inputs.extend(std::iter::repeat_n(Input::ScreeningHeld { amount: Y(3000) }, stale));
                // A deterministic shuffle from the seed.
                let mut x = seed | 1;
                for i in (1..inputs.len()).rev() {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                    inputs.swap(i, (x % (i as u64 + 1)) as usize);
                }
                let (status, _) = apply_all(held, &inputs);
                prop_assert_eq!(status, if approve { Status::Authorized } else { Status::Failed });
            }

            #[test]
            fn refunds_never_exceed_the_capture_however_repeated(copies in 1usize..6, amount in 1u64..=1000) {
                let paid = run(&[Input::AttemptStarted, Input::Captured { amount: Y(1000) }]).unwrap();
                // The same full refund reported several times: the first
                // applies, the others are refused.
                let full = vec![Input::Refunded { amount: Y(1000) }; copies];
                let (s, a) = apply_all(paid, &full);
                prop_assert_eq!((s, a.refunded), (Status::Refunded, Y(1000)));
                let part = vec![Input::Refunded { amount: Y(amount) }; copies];
                let (_, a) = apply_all(paid, &part);
                prop_assert!(a.refunded <= Y(1000));
                prop_assert_eq!(a.refunded.get() % amount, 0);
            }
        }
    }
}
