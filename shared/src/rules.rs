//! Business rules of PRODUCT §2 that depend on dates, as pure functions of
//! JST dates. Every refusal names the rule and its deadline.

use crate::holidays::{business_day_on_or_after, is_business_day};
use crate::time::{JstDate, Weekday};

/// A refusal by rule: a stable code and a sentence that names the deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRefusal {
    pub code: &'static str,
    pub message: String,
}

/// NET CASH refunds may be requested until the end of the third month after
/// the purchase month.
pub fn netcash_refund_deadline(purchase: JstDate) -> JstDate {
    purchase.end_of_month_after(3)
}

/// Checks a NET CASH refund request made on `today` for a purchase made on
/// `purchase`.
pub fn check_netcash_refund(purchase: JstDate, today: JstDate) -> Result<(), RuleRefusal> {
    let deadline = netcash_refund_deadline(purchase);
    if today > deadline {
        return Err(RuleRefusal {
            code: "refund_deadline_passed",
            message: format!(
                "NET CASH refunds can be requested until the end of the third month after the purchase month: the deadline for this purchase ({}) was {}",
                purchase.iso(),
                deadline.iso()
            ),
        });
    }
    Ok(())
}

/// A weekly NET CASH refund batch: when it closes and when it is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    pub closes: JstDate,
    pub paid: JstDate,
}

fn wednesday_on_or_before(d: JstDate) -> JstDate {
    let back = match d.weekday() {
        Weekday::Wed => 0,
        Weekday::Thu => 1,
        Weekday::Fri => 2,
        Weekday::Sat => 3,
        Weekday::Sun => 4,
        Weekday::Mon => 5,
        Weekday::Tue => 6,
    };
    d.add_days(-back)
}

/// The batch a refund requested on `request` joins. Batches close every
/// Wednesday, or on the next business day when that Wednesday is a
/// holiday; a request on the closing day is in that batch. Each batch is
/// paid on the Friday after it closes (the next business day if that
/// Friday is a holiday).
pub fn netcash_batch(request: JstDate) -> Batch {
    let this_week = business_day_on_or_after(wednesday_on_or_before(request));
    let closes = if this_week >= request { this_week } else { business_day_on_or_after(wednesday_on_or_before(request).add_days(7)) };
    let mut friday = closes.add_days(1);
    while friday.weekday() != Weekday::Fri {
        friday = friday.add_days(1);
    }
    let paid = if is_business_day(friday) { friday } else { business_day_on_or_after(friday) };
    Batch { closes, paid }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u8, day: u8) -> JstDate {
        JstDate::new(y, m, day).unwrap()
    }

    #[test]
    fn rule_netcash_refund_until_end_of_third_month_after_purchase_month() {
        assert_eq!(netcash_refund_deadline(d(2026, 11, 23)), d(2027, 2, 28));
        assert_eq!(netcash_refund_deadline(d(2026, 11, 1)), d(2027, 2, 28));
        assert_eq!(netcash_refund_deadline(d(2027, 11, 30)), d(2028, 2, 29));
        assert_eq!(check_netcash_refund(d(2026, 11, 23), d(2027, 2, 28)), Ok(()));
        let refused = check_netcash_refund(d(2026, 11, 23), d(2027, 3, 1)).unwrap_err();
        assert_eq!(refused.code, "refund_deadline_passed");
        assert!(refused.message.contains("2027-02-28"), "{}", refused.message);
    }

    /// (request date, batch close, payout), across 2026–2027.
    #[test]
    fn rule_netcash_batch_closes_wednesday_paid_friday() {
        let table = [
            // An ordinary week: Monday → Wednesday, Friday.
            (d(2026, 11, 23), d(2026, 11, 25), d(2026, 11, 27)),
            // On the closing Wednesday itself: that batch.
            (d(2026, 11, 25), d(2026, 11, 25), d(2026, 11, 27)),
            // Thursday: next week's batch.
            (d(2026, 11, 26), d(2026, 12, 2), d(2026, 12, 4)),
            // New Year: batch closes Wed 12/30, Friday 1/1 is a holiday → paid Mon 1/4.
            (d(2026, 12, 28), d(2026, 12, 30), d(2027, 1, 4)),
            // Golden Week 2026: Wed 5/6 is a substitute holiday → closes Thu 5/7, paid Fri 5/8.
            (d(2026, 5, 4), d(2026, 5, 7), d(2026, 5, 8)),
            // A request on the holiday Wednesday itself joins the shifted batch.
            (d(2026, 5, 6), d(2026, 5, 7), d(2026, 5, 8)),
            (d(2026, 5, 7), d(2026, 5, 7), d(2026, 5, 8)),
            // Silver Week 2026: Wed 9/23 秋分の日 → closes Thu 9/24, paid Fri 9/25.
            (d(2026, 9, 21), d(2026, 9, 24), d(2026, 9, 25)),
            // Golden Week 2027: Wed 5/5 こどもの日 → closes Thu 5/6, paid Fri 5/7.
            (d(2027, 5, 3), d(2027, 5, 6), d(2027, 5, 7)),
            // 文化の日 2027 is a Wednesday → Thu 11/4, paid Fri 11/5.
            (d(2027, 11, 1), d(2027, 11, 4), d(2027, 11, 5)),
            // Weekend request → the following Wednesday.
            (d(2027, 1, 2), d(2027, 1, 6), d(2027, 1, 8)),
        ];
        for (request, closes, paid) in table {
            assert_eq!(netcash_batch(request), Batch { closes, paid }, "request {}", request.iso());
        }
    }
}
