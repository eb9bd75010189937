//! Recurring billing rules (PRODUCT §2, §6; the au seed's "Recurring
//! charge (simple)" and "(based on term or usage rate)" rows, its
//! combination table and "Cautions"; the NP seed). Pure: every function
//! takes the time it needs.
//!
//! * **Simple** subscriptions are billed by us on the 1st of each month,
//!   00:00 JST. A failed charge is tried again on the merchant's retry days
//!   of the same month ([`RetryPolicy`]); hard declines are not retried.
//! * **Fixed term / pay as you go** subscriptions are charged when the
//!   merchant asks, and expire 365 days after their last payment.
//!
//! The charge of one cycle is identified by (subscription, billing
//! period): its payment id and every provider key derive from it, so a
//! cycle is charged at most once however often a run is repeated.

use serde::{Deserialize, Serialize};

use crate::au::AuPaymentMethod;
use crate::methods::{Method, PayType};
use crate::time::{JstDate, UnixTime};

/// The two kinds of subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Billed by us every month on the 1st.
    Simple,
    /// Charged when the merchant calls the API (fixed term, pay as you go).
    Fixed,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Simple => "simple",
            Kind::Fixed => "fixed",
        }
    }
    pub fn from_pay_type(p: PayType) -> Option<Kind> {
        match p {
            PayType::RecurringSimple => Some(Kind::Simple),
            PayType::RecurringFixed => Some(Kind::Fixed),
            PayType::OneTime => None,
        }
    }
    pub fn from_code(s: &str) -> Option<Kind> {
        [Kind::Simple, Kind::Fixed].into_iter().find(|k| k.code() == s)
    }
}

/// Where a subscription is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubStatus {
    Active,
    /// Too many failed cycles (a merchant option): no more charges.
    Suspended,
    /// Unsubscribed by the shopper or the merchant.
    Cancelled,
    /// Fixed term: 365 days passed since the last payment.
    Expired,
}

impl SubStatus {
    pub fn code(self) -> &'static str {
        match self {
            SubStatus::Active => "active",
            SubStatus::Suspended => "suspended",
            SubStatus::Cancelled => "cancelled",
            SubStatus::Expired => "expired",
        }
    }
    pub fn from_code(s: &str) -> Option<SubStatus> {
        [SubStatus::Active, SubStatus::Suspended, SubStatus::Cancelled, SubStatus::Expired].into_iter().find(|k| k.code() == s)
    }
    pub fn ended(self) -> bool {
        self != SubStatus::Active
    }
}

/// A monthly billing period (JST calendar month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Period {
    pub year: i32,
    pub month: u8,
}

impl Period {
    /// The period `t` falls in (JST).
    pub fn of(t: UnixTime) -> Period {
        let d = t.jst().date;
        Period { year: d.year, month: d.month }
    }
    pub fn first_day(self) -> JstDate {
        JstDate::new(self.year, self.month, 1).expect("a month's 1st exists")
    }
    /// 00:00 JST on the 1st: when the period's charge is due.
    pub fn starts(self) -> UnixTime {
        self.first_day().start()
    }
    pub fn next(self) -> Period {
        let d = self.first_day().first_of_month_after(1);
        Period { year: d.year, month: d.month }
    }
    /// `YYYY-MM`, as it appears in keys and order ids.
    pub fn code(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
    pub fn parse(s: &str) -> Option<Period> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let p = Period { year: y.parse().ok()?, month: m.parse().ok()? };
        (1..=12).contains(&p.month).then_some(p)
    }
}

/// The first 1st (00:00 JST) strictly after `t`.
pub fn next_first_after(t: UnixTime) -> UnixTime {
    Period::of(t).next().starts()
}

/// The merchant's recurring options (`PUT /v1/merchant`, the admin page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Simple: the first month is charged at registration (otherwise the
    /// registration charges nothing and billing starts on the next 1st).
    pub charge_first_month: bool,
    /// Simple, first month not charged at registration: a cancellation
    /// before the first 1st is still billed that 1st (once).
    pub bill_cancellation_in_first_month: bool,
    /// Days of the month (JST) a failed simple charge is tried again.
    pub retry_days: Vec<u8>,
    /// Suspend a subscription after this many failed cycles in a row
    /// (`None`: never).
    pub suspend_after_failed_cycles: Option<u32>,
}

impl Default for Options {
    fn default() -> Self {
        Options { charge_first_month: true, bill_cancellation_in_first_month: false, retry_days: vec![5, 10], suspend_after_failed_cycles: None }
    }
}

/// Why options are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsError(pub &'static str);

impl Options {
    /// Retry days ascend, lie within 2..=28 (every month has them) and
    /// number at most 5; a suspension needs at least one failed cycle.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if self.retry_days.len() > 5 {
            return Err(OptionsError("retry_days has at most 5 days"));
        }
        if self.retry_days.iter().any(|d| !(2..=28).contains(d)) {
            return Err(OptionsError("retry_days are days 2 to 28 of the month"));
        }
        if self.retry_days.windows(2).any(|w| w[0] >= w[1]) {
            return Err(OptionsError("retry_days ascend without repeats"));
        }
        if self.suspend_after_failed_cycles == Some(0) {
            return Err(OptionsError("suspend_after_failed_cycles is at least 1 (or null: never)"));
        }
        Ok(())
    }
}

/// When try `n` (0: the 1st itself) of a period's charge is due, if the
/// policy has that many tries.
pub fn try_due(options: &Options, period: Period, n: u32) -> Option<UnixTime> {
    if n == 0 {
        return Some(period.starts());
    }
    let day = *options.retry_days.get(n as usize - 1)?;
    Some(JstDate::new(period.year, period.month, day)?.start())
}

/// How many tries a period's charge gets.
pub fn tries(options: &Options) -> u32 {
    1 + options.retry_days.len() as u32
}

/// Whether a refusal is worth trying again later in the month: limits and
/// overdue bills may clear; a restricted user, an ended phone contract or
/// a screening decline will not.
pub fn retryable(code: &str) -> bool {
    matches!(code, "au_limit_exceeded" | "au_overdue" | "np_limit_exceeded" | "provider_unclear" | "provider_unavailable")
}

/// The payment id of a cycle's charge (deterministic: the same cycle is
/// always the same payment, so a repeated run finds it instead of making a
/// second one). `sub_id` is `sub_…`.
pub fn charge_payment_id(sub_id: &str, period: Period) -> String {
    let mac = crate::signing::sha256(format!("charge\n{sub_id}\n{}", period.code()).as_bytes());
    format!("pay_{}", &crate::signing::hex(&mac)[..26])
}

/// The payment id of the `n`-th merchant purchase on a fixed-term
/// subscription, from the merchant's Idempotency-Key.
pub fn purchase_payment_id(sub_id: &str, key: &str) -> String {
    let mac = crate::signing::sha256(format!("purchase\n{sub_id}\n{key}").as_bytes());
    format!("pay_{}", &crate::signing::hex(&mac)[..26])
}

/// The subscription id a registration payment creates (one per payment).
pub fn subscription_id(registration_payment_id: &str) -> String {
    let mac = crate::signing::sha256(format!("subscription\n{registration_payment_id}").as_bytes());
    format!("sub_{}", &crate::signing::hex(&mac)[..26])
}

/// The methods that take a `pay_type` (PRODUCT §2).
pub fn method_allows(method: Method, kind: Kind) -> bool {
    match (method, kind) {
        (Method::Au | Method::Np, _) => true,
        (Method::Netcash | Method::Prepaid | Method::Card, _) => false,
    }
}

/// The au sources a subscription may use (seed "Billing Methods", notes
/// ※2 and ※3): simple — not the au PAY balance (the prepaid card); fixed
/// term — the phone bills only.
pub fn au_source_allowed(kind: Kind, source: AuPaymentMethod) -> bool {
    match kind {
        Kind::Simple => source != AuPaymentMethod::AuPayBalance,
        Kind::Fixed => matches!(source, AuPaymentMethod::AuPhoneBill | AuPaymentMethod::UqMobileBill),
    }
}

/// What `item_name` of a fixed-term (au) subscription may be: at most 20
/// double-byte characters; KDDI shows only the first 16, so a longer one
/// is accepted with a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemNameCheck {
    Ok,
    Warn(String),
    TooLong,
}

pub fn check_fixed_item_name(item_name: &str) -> ItemNameCheck {
    let n = item_name.chars().count();
    if n > crate::au::ITEM_NAME_MAX_CHARS {
        ItemNameCheck::TooLong
    } else if n > crate::au::ITEM_NAME_SHOWN_CHARS {
        ItemNameCheck::Warn(format!(
            "KDDI shows only the first {} characters of item_name: \"{}\"",
            crate::au::ITEM_NAME_SHOWN_CHARS,
            crate::au::shown_item_name(item_name)
        ))
    } else {
        ItemNameCheck::Ok
    }
}

/// When a fixed-term subscription expires: 365 days (the 365th day,
/// counting the last payment's day) after its last payment.
pub fn fixed_expires_at(last_payment_at: UnixTime) -> UnixTime {
    last_payment_at.jst().date.add_days(365).start()
}

/// The refund window of a simple charge made at `charged_at`: until the
/// last day of the month after next (JST); the first month's charge (made
/// at registration) only from the 1st of the following month.
pub fn simple_refund_window(charged_at: UnixTime, first_month: bool) -> (Option<JstDate>, JstDate) {
    let d = charged_at.jst().date;
    let from = first_month.then(|| d.first_of_month_after(1));
    (from, d.end_of_month_after(2))
}

/// Why a refund of a simple charge is refused now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundRefusal {
    TooEarly { first_day: JstDate },
    Passed { last_day: JstDate },
}

impl RefundRefusal {
    pub fn code(self) -> &'static str {
        match self {
            RefundRefusal::TooEarly { .. } => "refund_not_yet_allowed",
            RefundRefusal::Passed { .. } => "refund_deadline_passed",
        }
    }
    pub fn message(self) -> String {
        match self {
            RefundRefusal::TooEarly { first_day } => format!(
                "the first month's charge of a monthly subscription can be refunded from the 1st of the following month, that is from {} (JST)",
                first_day.iso()
            ),
            RefundRefusal::Passed { last_day } => format!(
                "a monthly charge can be refunded until the last day of the month after next; the last day was {} (JST)",
                last_day.iso()
            ),
        }
    }
}

pub fn check_simple_refund(charged_at: UnixTime, first_month: bool, now: UnixTime) -> Result<(), RefundRefusal> {
    let (from, until) = simple_refund_window(charged_at, first_month);
    let today = now.jst().date;
    if today > until {
        return Err(RefundRefusal::Passed { last_day: until });
    }
    if let Some(first_day) = from.filter(|f| today < *f) {
        return Err(RefundRefusal::TooEarly { first_day });
    }
    Ok(())
}

/// The first period a simple subscription registered at `registered_at`
/// is billed by the monthly run: the next month (the registration paid
/// this one, or — first month free — the next 1st bills the first month).
pub fn first_billed_period(registered_at: UnixTime) -> Period {
    Period::of(registered_at).next()
}

/// Whether the monthly run still bills `period` for a subscription
/// cancelled at `cancelled_at`: only the first 1st after registration,
/// when the first month was not charged at registration and the merchant
/// bills cancellations in the first month.
pub fn bills_after_cancellation(options: &Options, registered_at: UnixTime, cancelled_at: UnixTime, period: Period) -> bool {
    !options.charge_first_month
        && options.bill_cancellation_in_first_month
        && period == first_billed_period(registered_at)
        && cancelled_at < period.starts()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::JstDateTime;

    fn at(compact: &str) -> UnixTime {
        JstDateTime::parse_compact(compact).unwrap().to_unix()
    }

    #[test]
    fn the_first_of_the_month_is_midnight_jst() {
        // 2027-01-01 00:00 JST is 2026-12-31 15:00 UTC.
        let jan = Period { year: 2027, month: 1 };
        assert_eq!(jan.starts().rfc3339_utc(), "2026-12-31T15:00:00Z");
        assert_eq!(Period::of(UnixTime(jan.starts().0 - 1)), Period { year: 2026, month: 12 });
        assert_eq!(Period::of(jan.starts()), jan);
        assert_eq!(next_first_after(at("20261231235959")), jan.starts());
        assert_eq!(next_first_after(jan.starts()), Period { year: 2027, month: 2 }.starts());
        assert_eq!(Period { year: 2026, month: 12 }.next(), jan);
        assert_eq!(Period::parse("2027-01"), Some(jan));
        assert_eq!(jan.code(), "2027-01");
        assert_eq!(Period::parse("2027-13"), None);
        assert_eq!(Period::parse("27-01"), None);
    }

    #[test]
    fn retries_fall_on_the_merchants_days_and_hard_declines_are_not_retried() {
        let o = Options::default();
        let p = Period { year: 2027, month: 2 };
        assert_eq!(tries(&o), 3);
        assert_eq!(try_due(&o, p, 0), Some(at("20270201000000")));
        assert_eq!(try_due(&o, p, 1), Some(at("20270205000000")));
        assert_eq!(try_due(&o, p, 2), Some(at("20270210000000")));
        assert_eq!(try_due(&o, p, 3), None);
        assert!(retryable("au_limit_exceeded") && retryable("au_overdue") && retryable("np_limit_exceeded"));
        assert!(!retryable("au_restricted") && !retryable("np_declined") && !retryable("au_contract_ended"));
        let bad = |days: Vec<u8>| Options { retry_days: days, ..Options::default() }.validate();
        assert!(bad(vec![5, 10]).is_ok() && bad(vec![]).is_ok());
        assert!(bad(vec![10, 5]).is_err() && bad(vec![1]).is_err() && bad(vec![29]).is_err() && bad(vec![2, 3, 4, 5, 6, 7]).is_err());
        assert!(Options { suspend_after_failed_cycles: Some(0), ..Options::default() }.validate().is_err());
    }

    #[test]
    fn first_month_options() {
        let registered = at("20261215120000");
        assert_eq!(first_billed_period(registered), Period { year: 2027, month: 1 });
        let free_first = Options { charge_first_month: false, bill_cancellation_in_first_month: true, ..Options::default() };
        let jan = Period { year: 2027, month: 1 };
        // Cancelled within the first month: that 1st is still billed, once.
        assert!(bills_after_cancellation(&free_first, registered, at("20261220000000"), jan));
        assert!(!bills_after_cancellation(&free_first, registered, at("20261220000000"), jan.next()));
        // Not when the merchant does not bill such cancellations, nor when
        // the registration already charged the first month.
        let no_bill = Options { bill_cancellation_in_first_month: false, ..free_first.clone() };
        assert!(!bills_after_cancellation(&no_bill, registered, at("20261220000000"), jan));
        assert!(!bills_after_cancellation(&Options { bill_cancellation_in_first_month: true, ..Options::default() }, registered, at("20261220000000"), jan));
        // A cancellation after the 1st ends the subscription for later months.
        assert!(!bills_after_cancellation(&free_first, registered, at("20270102000000"), jan));
    }

    #[test]
    fn refund_windows_of_monthly_charges() {
        // Charged on 2027-01-01: refundable until 2027-03-31.
        let charged = at("20270101000000");
        assert_eq!(simple_refund_window(charged, false), (None, JstDate::new(2027, 3, 31).unwrap()));
        assert!(check_simple_refund(charged, false, at("20270331235959")).is_ok());
        assert_eq!(
            check_simple_refund(charged, false, at("20270401000000")),
            Err(RefundRefusal::Passed { last_day: JstDate::new(2027, 3, 31).unwrap() })
        );
        // The first month's charge (registration on 12-15) from 01-01 on.
        let first = at("20261215120000");
        assert_eq!(
            check_simple_refund(first, true, at("20261231235959")),
            Err(RefundRefusal::TooEarly { first_day: JstDate::new(2027, 1, 1).unwrap() })
        );
        assert!(check_simple_refund(first, true, at("20270101000000")).is_ok());
        assert!(check_simple_refund(first, true, at("20270228235959")).is_ok());
        assert!(check_simple_refund(first, true, at("20270301000000")).is_err());
        assert!(RefundRefusal::Passed { last_day: JstDate::new(2027, 3, 31).unwrap() }.message().contains("2027-03-31"));
    }

    #[test]
    fn fixed_term_rules() {
        // 90 days including the purchase day (the au rule each purchase keeps).
        let purchased = at("20270110100000");
        assert!(crate::au::check_settle(purchased, at("20270409235959")).is_ok());
        assert!(crate::au::check_settle(purchased, at("20270410000000")).is_err());
        // Expires 365 days after the last payment.
        assert_eq!(fixed_expires_at(purchased), at("20280110000000"));
        assert_eq!(fixed_expires_at(at("20271231235959")), at("20281230000000"));
    }

    #[test]
    fn which_methods_and_which_au_sources() {
        for kind in [Kind::Simple, Kind::Fixed] {
            assert!(method_allows(Method::Au, kind) && method_allows(Method::Np, kind));
            assert!(!method_allows(Method::Netcash, kind) && !method_allows(Method::Prepaid, kind) && !method_allows(Method::Card, kind));
        }
        use AuPaymentMethod::*;
        assert!(au_source_allowed(Kind::Simple, AuPhoneBill) && au_source_allowed(Kind::Simple, UqMobileBill) && au_source_allowed(Kind::Simple, AuPayCard));
        assert!(!au_source_allowed(Kind::Simple, AuPayBalance));
        assert!(au_source_allowed(Kind::Fixed, AuPhoneBill) && au_source_allowed(Kind::Fixed, UqMobileBill));
        assert!(!au_source_allowed(Kind::Fixed, AuPayCard) && !au_source_allowed(Kind::Fixed, AuPayBalance));
    }

    #[test]
    fn item_name_limits_of_fixed_term_purchases() {
        assert_eq!(check_fixed_item_name("ワイン定期便 毎月20日請求"), ItemNameCheck::Ok);
        let seventeen = "ワイン定期便三千円コース毎月二十日";
        assert_eq!(seventeen.chars().count(), 17);
        assert!(matches!(check_fixed_item_name(seventeen), ItemNameCheck::Warn(w) if w.contains("16")));
        let twenty = "ワイン定期便三千円コース毎月二十日請求分";
        assert_eq!(twenty.chars().count(), 20);
        assert!(matches!(check_fixed_item_name(twenty), ItemNameCheck::Warn(_)));
        assert_eq!(check_fixed_item_name(&format!("{twenty}あ")), ItemNameCheck::TooLong);
    }

    #[test]
    fn a_cycle_is_always_the_same_payment() {
        let jan = Period { year: 2027, month: 1 };
        let a = charge_payment_id("sub_1", jan);
        assert_eq!(a, charge_payment_id("sub_1", jan));
        assert_ne!(a, charge_payment_id("sub_1", jan.next()));
        assert_ne!(a, charge_payment_id("sub_2", jan));
        assert!(a.starts_with("pay_") && a.len() == 30);
        assert_eq!(subscription_id("pay_x"), subscription_id("pay_x"));
        assert_ne!(purchase_payment_id("sub_1", "k1"), purchase_payment_id("sub_1", "k2"));
    }
}
