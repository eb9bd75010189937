//! au Kantan Kessai (KDDI): the pure rules of the method.
//!
//! * **Time to pay** (seed "Payment deadline setting"): the shopper must
//!   *start* on the au side (reach KDDI's page) before the attempt's due
//!   date — 4 minutes after we send them there, and never after the hosted
//!   page's own time limit. A start before the due date is honoured even if
//!   the result comes back after it; the payment must then be completed
//!   within 4 minutes of the start.
//! * **item_name**: at most 20 (double-byte) characters; KDDI shows only
//!   the first 16.
//! * **Deadlines** (seed "Basic Specifications", JST dates): specified
//!   sales are settled or cancelled until the 90th day including the
//!   purchase day; refunds until the last day of the month after next,
//!   counting from the settlement date; partial refunds only from the 1st
//!   of the month after the settlement.
//! * **The signed result** KDDI's side sends back through the shopper's
//!   browser: its fields, canonical string and HMAC-SHA256 signature.
//! * **Combination restrictions** of KDDI's additional payment methods.

use serde::{Deserialize, Serialize};

use crate::signing;
use crate::time::{JstDate, UnixTime};

/// How long after we send the shopper to au they may still start there.
pub const START_WITHIN_SECONDS: i64 = 240;
/// How long after starting on the au side the payment may take to complete.
pub const COMPLETE_WITHIN_SECONDS: i64 = 240;
/// The longest `item_name` au takes, in characters (KDDI counts
/// double-byte characters; every character counts as one here).
pub const ITEM_NAME_MAX_CHARS: usize = 20;
/// How many characters of `item_name` KDDI's screens show.
pub const ITEM_NAME_SHOWN_CHARS: usize = 16;
/// Settlement and cancellation of specified sales: until the 90th day
/// including the purchase day.
pub const SETTLE_DAYS: i64 = 90;

/// Whether `item_name` can go to au (1 to 20 characters).
pub fn item_name_fits(item_name: &str) -> bool {
    (1..=ITEM_NAME_MAX_CHARS).contains(&item_name.chars().count())
}

/// What KDDI's payment screen shows of `item_name`: its first 16 characters.
pub fn shown_item_name(item_name: &str) -> &str {
    match item_name.char_indices().nth(ITEM_NAME_SHOWN_CHARS) {
        Some((i, _)) => &item_name[..i],
        None => item_name,
    }
}

/// The attempt's due date (Unix seconds): the shopper must start on the au
/// side by then. `attempt_at` is when the attempt began (the shopper chose
/// au), `page_expires_at` the hosted page's time limit.
pub fn start_deadline(attempt_at: i64, page_expires_at: i64) -> i64 {
    (attempt_at + START_WITHIN_SECONDS).min(page_expires_at)
}

/// The last instant a payment started at `started_at` may complete.
pub fn complete_deadline(started_at: i64) -> i64 {
    started_at + COMPLETE_WITHIN_SECONDS
}

/// Why a result came too late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Late {
    /// The shopper started on the au side after the due date.
    StartedAfterDeadline { deadline: i64 },
    /// The payment completed more than 4 minutes after its start.
    CompletedAfterFourMinutes { started_at: i64, completed_at: i64 },
}

/// Checks the 4-minute rule for a completed payment.
pub fn check_timing(started_at: i64, completed_at: i64, start_deadline: i64) -> Result<(), Late> {
    if started_at > start_deadline {
        return Err(Late::StartedAfterDeadline { deadline: start_deadline });
    }
    if completed_at < started_at || completed_at > complete_deadline(started_at) {
        return Err(Late::CompletedAfterFourMinutes { started_at, completed_at });
    }
    Ok(())
}

/// The last day (JST) specified sales may be settled or cancelled.
pub fn last_day_to_settle(purchased_at: UnixTime) -> JstDate {
    purchased_at.jst().date.add_days(SETTLE_DAYS - 1)
}

/// The last day (JST) a sale settled at `settled_at` may be refunded: the
/// last day of the month after next.
pub fn last_day_to_refund(settled_at: UnixTime) -> JstDate {
    settled_at.jst().date.end_of_month_after(2)
}

/// The first day (JST) a sale settled at `settled_at` may be refunded in
/// part: the 1st of the following month (KDDI bills first).
pub fn first_day_of_partial_refund(settled_at: UnixTime) -> JstDate {
    settled_at.jst().date.first_of_month_after(1)
}

/// An operation an au rule refuses, with the rule and its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleRefusal {
    AutoSalesNotSettleable,
    AutoSalesNotCancellable,
    SettleDeadlinePassed { last_day: JstDate },
    CancelDeadlinePassed { last_day: JstDate },
    RefundDeadlinePassed { last_day: JstDate },
    PartialRefundTooEarly { first_day: JstDate },
}

impl RuleRefusal {
    /// The stable error code of the merchant API.
    pub fn code(self) -> &'static str {
        match self {
            RuleRefusal::AutoSalesNotSettleable => "not_settleable",
            RuleRefusal::AutoSalesNotCancellable => "not_cancellable",
            RuleRefusal::SettleDeadlinePassed { .. } => "settle_deadline_passed",
            RuleRefusal::CancelDeadlinePassed { .. } => "cancel_deadline_passed",
            RuleRefusal::RefundDeadlinePassed { .. } => "refund_deadline_passed",
            RuleRefusal::PartialRefundTooEarly { .. } => "partial_refund_not_yet_allowed",
        }
    }

    /// The rule and its date, for people.
    pub fn message(self) -> String {
        match self {
            RuleRefusal::AutoSalesNotSettleable => {
                "au automatic sales are settled at payment: there is nothing to settle".into()
            }
            RuleRefusal::AutoSalesNotCancellable => {
                "au automatic sales cannot be cancelled (KDDI has no cancellation for them): refund the payment instead".into()
            }
            RuleRefusal::SettleDeadlinePassed { last_day } => format!(
                "au specified sales are settled until the 90th day including the purchase day; the last day was {} (JST)",
                last_day.iso()
            ),
            RuleRefusal::CancelDeadlinePassed { last_day } => format!(
                "au specified sales are cancelled until the 90th day including the purchase day; the last day was {} (JST)",
                last_day.iso()
            ),
            RuleRefusal::RefundDeadlinePassed { last_day } => format!(
                "au refunds are possible until the last day of the month after next, counting from the settlement date; the last day was {} (JST)",
                last_day.iso()
            ),
            RuleRefusal::PartialRefundTooEarly { first_day } => format!(
                "au partial refunds are possible from the 1st of the month after the settlement (after KDDI's billing), that is from {} (JST); a full refund is possible now",
                first_day.iso()
            ),
        }
    }
}

/// May specified sales authorized at `purchased_at` be settled at `now`?
pub fn check_settle(purchased_at: UnixTime, now: UnixTime) -> Result<(), RuleRefusal> {
    let last_day = last_day_to_settle(purchased_at);
    if now.jst().date > last_day {
        return Err(RuleRefusal::SettleDeadlinePassed { last_day });
    }
    Ok(())
}

/// May specified sales authorized at `purchased_at` be cancelled at `now`?
pub fn check_cancel(purchased_at: UnixTime, now: UnixTime) -> Result<(), RuleRefusal> {
    let last_day = last_day_to_settle(purchased_at);
    if now.jst().date > last_day {
        return Err(RuleRefusal::CancelDeadlinePassed { last_day });
    }
    Ok(())
}

/// May a sale settled at `settled_at` be refunded at `now`, fully or in
/// part (`partial`: less than what remains)?
pub fn check_refund(settled_at: UnixTime, now: UnixTime, partial: bool) -> Result<(), RuleRefusal> {
    let today = now.jst().date;
    let last_day = last_day_to_refund(settled_at);
    if today > last_day {
        return Err(RuleRefusal::RefundDeadlinePassed { last_day });
    }
    let first_day = first_day_of_partial_refund(settled_at);
    if partial && today < first_day {
        return Err(RuleRefusal::PartialRefundTooEarly { first_day });
    }
    Ok(())
}

/// How the shopper paid on the au side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuPaymentMethod {
    /// Added to the au phone bill (通信料金合算).
    AuPhoneBill,
    /// Added to the UQ mobile phone bill.
    UqMobileBill,
    /// Paid from the au PAY balance.
    AuPayBalance,
    /// Paid with the registered au PAY card.
    AuPayCard,
}

impl AuPaymentMethod {
    pub const ALL: [AuPaymentMethod; 4] =
        [AuPaymentMethod::AuPhoneBill, AuPaymentMethod::UqMobileBill, AuPaymentMethod::AuPayBalance, AuPaymentMethod::AuPayCard];

    pub fn code(self) -> &'static str {
        match self {
            AuPaymentMethod::AuPhoneBill => "au_phone_bill",
            AuPaymentMethod::UqMobileBill => "uq_mobile_bill",
            AuPaymentMethod::AuPayBalance => "au_pay_balance",
            AuPaymentMethod::AuPayCard => "au_pay_card",
        }
    }

    pub fn from_code(s: &str) -> Option<AuPaymentMethod> {
        AuPaymentMethod::ALL.into_iter().find(|m| m.code() == s)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            AuPaymentMethod::AuPhoneBill => "au の通信料金と合算",
            AuPaymentMethod::UqMobileBill => "UQ mobile の通信料金と合算",
            AuPaymentMethod::AuPayBalance => "au PAY 残高",
            AuPaymentMethod::AuPayCard => "au PAY カード",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            AuPaymentMethod::AuPhoneBill => "au phone bill",
            AuPaymentMethod::UqMobileBill => "UQ mobile phone bill",
            AuPaymentMethod::AuPayBalance => "au PAY balance",
            AuPaymentMethod::AuPayCard => "au PAY card",
        }
    }
}

/// Why au declined a shopper (seed "Supplementary Information").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decline {
    LimitExceeded,
    Overdue,
    Restricted,
}

impl Decline {
    /// The code on the wire (`error_code` of a result).
    pub fn wire(self) -> &'static str {
        match self {
            Decline::LimitExceeded => "limit_exceeded",
            Decline::Overdue => "overdue",
            Decline::Restricted => "restricted",
        }
    }

    pub fn from_wire(s: &str) -> Option<Decline> {
        [Decline::LimitExceeded, Decline::Overdue, Decline::Restricted].into_iter().find(|d| d.wire() == s)
    }

    /// Our error code (the payment's `last_error`, `res_err_code`).
    pub fn code(self) -> &'static str {
        match self {
            Decline::LimitExceeded => crate::codes::Code::AuLimitExceeded.as_str(),
            Decline::Overdue => crate::codes::Code::AuOverdue.as_str(),
            Decline::Restricted => crate::codes::Code::AuRestricted.as_str(),
        }
    }
}

/// Error codes of refused au attempts besides the declines.
pub const CANCELLED: &str = crate::codes::Code::AuCancelled.as_str();
pub const TIMEOUT: &str = crate::codes::Code::AuTimeout.as_str();

/// The fields of a signed au result, in signing order.
pub const RESULT_FIELDS: [&str; 11] = [
    "merchant_code",
    "transaction_id",
    "service_ref",
    "result",
    "error_code",
    "payment_method",
    "open_id",
    "amount",
    "started_at",
    "completed_at",
    "timestamp",
];

/// A result as au sends it back (every field a string; absent ones empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultFields {
    pub merchant_code: String,
    pub transaction_id: String,
    /// Our reference of the attempt (`<payment id>-<attempt>`).
    pub service_ref: String,
    /// `OK`, `NG`, `CANCEL` or `TIMEOUT`.
    pub result: String,
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub payment_method: String,
    #[serde(default)]
    pub open_id: String,
    pub amount: String,
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub completed_at: String,
    pub timestamp: String,
}

impl ResultFields {
    fn get(&self, name: &str) -> &str {
        match name {
            "merchant_code" => &self.merchant_code,
            "transaction_id" => &self.transaction_id,
            "service_ref" => &self.service_ref,
            "result" => &self.result,
            "error_code" => &self.error_code,
            "payment_method" => &self.payment_method,
            "open_id" => &self.open_id,
            "amount" => &self.amount,
            "started_at" => &self.started_at,
            "completed_at" => &self.completed_at,
            "timestamp" => &self.timestamp,
            _ => "",
        }
    }

    fn slot(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "merchant_code" => &mut self.merchant_code,
            "transaction_id" => &mut self.transaction_id,
            "service_ref" => &mut self.service_ref,
            "result" => &mut self.result,
            "error_code" => &mut self.error_code,
            "payment_method" => &mut self.payment_method,
            "open_id" => &mut self.open_id,
            "amount" => &mut self.amount,
            "started_at" => &mut self.started_at,
            "completed_at" => &mut self.completed_at,
            "timestamp" => &mut self.timestamp,
            _ => return None,
        })
    }

    /// The canonical string the signature covers: every field of
    /// [`RESULT_FIELDS`], in that order, as `name=percent-encoded value`.
    pub fn canonical(&self) -> String {
        signing::canonical_string(RESULT_FIELDS.iter().map(|n| (*n, self.get(n))))
    }

    /// The signature: lowercase hex HMAC-SHA256 of the canonical string.
    pub fn sign(&self, secret: &[u8]) -> String {
        signing::hex(&signing::hmac_sha256(secret, self.canonical().as_bytes()))
    }

    /// Checks a signature in constant time.
    pub fn verify(&self, secret: &[u8], signature: &str) -> bool {
        signing::verify_hex_mac(secret, self.canonical().as_bytes(), signature)
    }

    /// The fields with their signature, as form pairs in signing order.
    pub fn signed_pairs(&self, secret: &[u8]) -> Vec<(&'static str, String)> {
        let mut v: Vec<(&'static str, String)> = RESULT_FIELDS.iter().map(|n| (*n, self.get(n).to_string())).collect();
        v.push(("signature", self.sign(secret)));
        v
    }

    /// Reads a result form (query string or POST body pairs). Unknown or
    /// repeated names are refused; absent fields are empty. Returns the
    /// fields and the signature.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<(ResultFields, String), String> {
        let mut f = ResultFields::default();
        let mut seen: Vec<&str> = vec![];
        let mut signature = None;
        for (name, value) in pairs {
            if seen.contains(&name.as_str()) {
                return Err(format!("{name} appears twice"));
            }
            seen.push(name);
            if name == "signature" {
                signature = Some(value.clone());
                continue;
            }
            *f.slot(name).ok_or_else(|| format!("unknown field {name}"))? = value.clone();
        }
        let signature = signature.ok_or("signature is missing")?;
        Ok((f, signature))
    }

    /// What the result says, read strictly; `None` if it does not make sense.
    pub fn outcome(&self) -> Option<Outcome> {
        let int = |s: &str| s.parse::<i64>().ok();
        Some(match self.result.as_str() {
            "OK" => Outcome::Paid {
                method: AuPaymentMethod::from_code(&self.payment_method)?,
                open_id: Some(self.open_id.clone()).filter(|o| !o.is_empty()),
                started_at: int(&self.started_at)?,
                completed_at: int(&self.completed_at)?,
            },
            "NG" => Outcome::Declined(Decline::from_wire(&self.error_code)?),
            "CANCEL" => Outcome::Cancelled,
            "TIMEOUT" => Outcome::TimedOut,
            _ => return None,
        })
    }
}

/// What an au attempt came to, as au says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Paid { method: AuPaymentMethod, open_id: Option<String>, started_at: i64, completed_at: i64 },
    Declined(Decline),
    Cancelled,
    TimedOut,
}

/// What we make of an outcome after our own checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Paid { method: AuPaymentMethod, open_id: Option<String> },
    /// Refused with our error code. `undo` is set when au reports money
    /// taken that we refuse (too late): it must be given back.
    Refused { code: &'static str, undo: bool },
}

/// Applies the 4-minute rule to au's outcome; `start_deadline` is ours.
pub fn verdict(outcome: &Outcome, start_deadline: i64) -> Verdict {
    match outcome {
        Outcome::Paid { method, open_id, started_at, completed_at } => match check_timing(*started_at, *completed_at, start_deadline) {
            Ok(()) => Verdict::Paid { method: *method, open_id: open_id.clone() },
            Err(_) => Verdict::Refused { code: TIMEOUT, undo: true },
        },
        Outcome::Declined(d) => Verdict::Refused { code: d.code(), undo: false },
        Outcome::Cancelled => Verdict::Refused { code: CANCELLED, undo: false },
        Outcome::TimedOut => Verdict::Refused { code: TIMEOUT, undo: false },
    }
}

/// What au can do for a merchant, given KDDI's additional payment methods
/// (seed table "Combination of payment methods").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Physical goods ("Item" in the seed's table).
    pub physical_goods: bool,
    pub digital_content: bool,
    pub automatic_sales: bool,
    pub specified_sales: bool,
    pub one_time: bool,
    pub recurring_simple: bool,
    pub recurring_fixed: bool,
    pub refund: bool,
}

/// The combination table as the seed gives it (columns: item, digital
/// content, automatic sales, specified sales, one-time, recurring simple,
/// recurring fixed, refund): with WebMoney enabled, au takes no physical
/// goods, no specified sales, no recurring billing of either kind and no
/// refunds; with the credit card enabled (and no WebMoney), no fixed-term
/// recurring.
pub fn capabilities(credit_card: bool, webmoney: bool) -> Capabilities {
    if webmoney {
        return Capabilities {
            physical_goods: false,
            digital_content: true,
            automatic_sales: true,
            specified_sales: false,
            one_time: true,
            recurring_simple: false,
            recurring_fixed: false,
            refund: false,
        };
    }
    Capabilities {
        physical_goods: true,
        digital_content: true,
        automatic_sales: true,
        specified_sales: true,
        one_time: true,
        recurring_simple: true,
        recurring_fixed: !credit_card,
        refund: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::JstDateTime;

    fn at(compact: &str) -> UnixTime {
        JstDateTime::parse_compact(compact).unwrap().to_unix()
    }

    fn d(y: i32, m: u8, day: u8) -> JstDate {
        JstDate::new(y, m, day).unwrap()
    }

    #[test]
    fn item_name_is_at_most_twenty_characters_and_kddi_shows_sixteen() {
        let twenty = "ワイン定期便毎月二十日請求三〇〇〇円コース";
        assert_eq!(twenty.chars().count(), 21);
        assert!(!item_name_fits(twenty));
        let ok = "ワイン定期便毎月二十日請求三千円コース";
        assert_eq!(ok.chars().count(), 19);
        assert!(item_name_fits(ok));
        assert!(item_name_fits(&"a".repeat(20)));
        assert!(!item_name_fits(&"a".repeat(21)));
        assert!(!item_name_fits(""));
        assert_eq!(shown_item_name(ok), "ワイン定期便毎月二十日請求三千円");
        assert_eq!(shown_item_name(ok).chars().count(), 16);
        assert_eq!(shown_item_name("緑茶 200g"), "緑茶 200g");
    }

    #[test]
    fn four_minute_rule() {
        let chose_au = 1_000_000;
        let page_expires = chose_au + 600;
        let due = start_deadline(chose_au, page_expires);
        assert_eq!(due, chose_au + 240);
        // The page's own limit comes first when it is sooner.
        assert_eq!(start_deadline(chose_au, chose_au + 60), chose_au + 60);
        // A start at 3:59 is honoured, even though the payment completes
        // after the due date, as long as it completes within 4 minutes.
        assert_eq!(check_timing(chose_au + 239, chose_au + 239 + 240, due), Ok(()));
        assert_eq!(check_timing(chose_au + 240, chose_au + 300, due), Ok(()));
        assert_eq!(check_timing(chose_au + 241, chose_au + 300, due), Err(Late::StartedAfterDeadline { deadline: due }));
        assert_eq!(
            check_timing(chose_au + 10, chose_au + 251, due),
            Err(Late::CompletedAfterFourMinutes { started_at: chose_au + 10, completed_at: chose_au + 251 })
        );
        assert!(check_timing(chose_au + 10, chose_au + 9, due).is_err(), "completion before the start is nonsense");
    }

    #[test]
    fn settle_and_cancel_until_the_90th_day_including_the_purchase_day() {
        let bought = at("20261123235959");
        assert_eq!(last_day_to_settle(bought), d(2027, 2, 20));
        assert_eq!(check_settle(bought, at("20270220235959")), Ok(()));
        assert_eq!(check_settle(bought, at("20270221000000")), Err(RuleRefusal::SettleDeadlinePassed { last_day: d(2027, 2, 20) }));
        assert_eq!(check_cancel(bought, at("20270221000000")), Err(RuleRefusal::CancelDeadlinePassed { last_day: d(2027, 2, 20) }));
        // JST decides the day: 15:00 UTC on the 22nd is already the 23rd.
        assert_eq!(last_day_to_settle(UnixTime(at("20261123000000").0)), d(2027, 2, 20));
        let msg = RuleRefusal::SettleDeadlinePassed { last_day: d(2027, 2, 20) }.message();
        assert!(msg.contains("2027-02-20") && msg.contains("90th day"), "{msg}");
    }

    #[test]
    fn refunds_until_the_end_of_the_month_after_next_and_partial_from_next_month() {
        let settled = at("20261130120000");
        assert_eq!(last_day_to_refund(settled), d(2027, 1, 31));
        assert_eq!(first_day_of_partial_refund(settled), d(2026, 12, 1));
        assert_eq!(check_refund(settled, at("20261130230000"), false), Ok(()));
        assert_eq!(
            check_refund(settled, at("20261130230000"), true),
            Err(RuleRefusal::PartialRefundTooEarly { first_day: d(2026, 12, 1) })
        );
        assert_eq!(check_refund(settled, at("20261201000000"), true), Ok(()));
        assert_eq!(check_refund(settled, at("20270131235959"), true), Ok(()));
        assert_eq!(
            check_refund(settled, at("20270201000000"), false),
            Err(RuleRefusal::RefundDeadlinePassed { last_day: d(2027, 1, 31) })
        );
        // Across a year end and into a short February.
        assert_eq!(last_day_to_refund(at("20261215000000")), d(2027, 2, 28));
        assert_eq!(last_day_to_refund(at("20271231000000")), d(2028, 2, 29));
        let msg = RuleRefusal::PartialRefundTooEarly { first_day: d(2026, 12, 1) }.message();
        assert!(msg.contains("2026-12-01"), "{msg}");
    }

    fn sample() -> ResultFields {
        ResultFields {
            merchant_code: "AU0001".into(),
            transaction_id: "au_tx1".into(),
            service_ref: "pay_x-1".into(),
            result: "OK".into(),
            error_code: String::new(),
            payment_method: "au_pay_balance".into(),
            open_id: "oid_1".into(),
            amount: "1100".into(),
            started_at: "1000".into(),
            completed_at: "1100".into(),
            timestamp: "1101".into(),
        }
    }

    #[test]
    fn result_signature_covers_every_field() {
        let secret = b"au-sandbox-api-secret";
        let f = sample();
        assert_eq!(
            f.canonical(),
            "merchant_code=AU0001&transaction_id=au_tx1&service_ref=pay_x-1&result=OK&error_code=&payment_method=au_pay_balance\
             &open_id=oid_1&amount=1100&started_at=1000&completed_at=1100&timestamp=1101"
        );
        let sig = f.sign(secret);
        assert!(f.verify(secret, &sig));
        assert!(!f.verify(b"other", &sig));
        for name in RESULT_FIELDS {
            let mut g = f.clone();
            g.slot(name).unwrap().push('9');
            assert!(!g.verify(secret, &sig), "{name} is covered");
        }
        let pairs: Vec<(String, String)> = f.signed_pairs(secret).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let (back, s) = ResultFields::from_pairs(&pairs).unwrap();
        assert_eq!((back, s), (f, sig));
    }

    #[test]
    fn result_forms_are_read_strictly() {
        let p = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        assert!(ResultFields::from_pairs(&p(&[("result", "OK")])).is_err(), "no signature");
        assert!(ResultFields::from_pairs(&p(&[("result", "OK"), ("result", "NG"), ("signature", "x")])).is_err());
        assert!(ResultFields::from_pairs(&p(&[("bonus", "1"), ("signature", "x")])).is_err());
        let mut f = sample();
        assert!(matches!(f.outcome(), Some(Outcome::Paid { method: AuPaymentMethod::AuPayBalance, .. })));
        f.payment_method = "bitcoin".into();
        assert_eq!(f.outcome(), None);
        f.result = "NG".into();
        f.error_code = "overdue".into();
        assert_eq!(f.outcome(), Some(Outcome::Declined(Decline::Overdue)));
        f.error_code = "new_code".into();
        assert_eq!(f.outcome(), None);
        f.result = "MAYBE".into();
        assert_eq!(f.outcome(), None);
    }

    #[test]
    fn verdicts() {
        let paid = |s, c| Outcome::Paid { method: AuPaymentMethod::AuPhoneBill, open_id: Some("o".into()), started_at: s, completed_at: c };
        assert_eq!(verdict(&paid(100, 339), 100), Verdict::Paid { method: AuPaymentMethod::AuPhoneBill, open_id: Some("o".into()) });
        assert_eq!(verdict(&paid(100, 341), 100), Verdict::Refused { code: TIMEOUT, undo: true });
        assert_eq!(verdict(&paid(101, 120), 100), Verdict::Refused { code: TIMEOUT, undo: true });
        assert_eq!(verdict(&Outcome::Declined(Decline::LimitExceeded), 0), Verdict::Refused { code: "au_limit_exceeded", undo: false });
        assert_eq!(verdict(&Outcome::Declined(Decline::Restricted), 0), Verdict::Refused { code: "au_restricted", undo: false });
        assert_eq!(verdict(&Outcome::Cancelled, 0), Verdict::Refused { code: "au_cancelled", undo: false });
        assert_eq!(verdict(&Outcome::TimedOut, 0), Verdict::Refused { code: "au_timeout", undo: false });
    }

    #[test]
    fn combination_table() {
        let basic = capabilities(false, false);
        assert!(basic.one_time && basic.recurring_fixed && basic.refund && basic.digital_content && basic.physical_goods);
        let card = capabilities(true, false);
        assert!(card.one_time && card.recurring_simple && !card.recurring_fixed && card.refund);
        for wm in [capabilities(false, true), capabilities(true, true)] {
            assert!(!wm.physical_goods && wm.digital_content && wm.one_time && !wm.recurring_simple && !wm.recurring_fixed && !wm.refund);
            assert!(wm.automatic_sales && !wm.specified_sales);
        }
    }
}
