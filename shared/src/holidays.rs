//! Japanese public holidays (国民の祝日・休日) and business days.
//!
//! The table is generated from the `holidays.yml` data set of the
//! holiday-jp project (github.com/holiday-jp/holiday_jp, commit 5b3dde70),
//! which follows the Cabinet Office's 「国民の祝日について」 list, including
//! substitute holidays (振替休日) and citizens' holidays (国民の休日). It
//! covers 2024–2030; extend it from the same source before 2030 ends.

use crate::time::{JstDate, Weekday};

pub const FIRST_YEAR: i32 = 2024;
pub const LAST_YEAR: i32 = 2030;

/// Every public holiday from 2024 to 2030 as (year, month, day), sorted.
const HOLIDAYS: &[(i32, u8, u8)] = &[
    (2024, 1, 1), (2024, 1, 8), (2024, 2, 11), (2024, 2, 12), (2024, 2, 23), (2024, 3, 20), (2024, 4, 29), (2024, 5, 3),
    (2024, 5, 4), (2024, 5, 5), (2024, 5, 6), (2024, 7, 15), (2024, 8, 11), (2024, 8, 12), (2024, 9, 16), (2024, 9, 22),
    (2024, 9, 23), (2024, 10, 14), (2024, 11, 3), (2024, 11, 4), (2024, 11, 23), (2025, 1, 1), (2025, 1, 13), (2025, 2, 11),
    (2025, 2, 23), (2025, 2, 24), (2025, 3, 20), (2025, 4, 29), (2025, 5, 3), (2025, 5, 4), (2025, 5, 5), (2025, 5, 6),
    (2025, 7, 21), (2025, 8, 11), (2025, 9, 15), (2025, 9, 23), (2025, 10, 13), (2025, 11, 3), (2025, 11, 23), (2025, 11, 24),
    (2026, 1, 1), (2026, 1, 12), (2026, 2, 11), (2026, 2, 23), (2026, 3, 20), (2026, 4, 29), (2026, 5, 3), (2026, 5, 4),
    (2026, 5, 5), (2026, 5, 6), (2026, 7, 20), (2026, 8, 11), (2026, 9, 21), (2026, 9, 22), (2026, 9, 23), (2026, 10, 12),
    (2026, 11, 3), (2026, 11, 23), (2027, 1, 1), (2027, 1, 11), (2027, 2, 11), (2027, 2, 23), (2027, 3, 21), (2027, 3, 22),
    (2027, 4, 29), (2027, 5, 3), (2027, 5, 4), (2027, 5, 5), (2027, 7, 19), (2027, 8, 11), (2027, 9, 20), (2027, 9, 23),
    (2027, 10, 11), (2027, 11, 3), (2027, 11, 23), (2028, 1, 1), (2028, 1, 10), (2028, 2, 11), (2028, 2, 23), (2028, 3, 20),
    (2028, 4, 29), (2028, 5, 3), (2028, 5, 4), (2028, 5, 5), (2028, 7, 17), (2028, 8, 11), (2028, 9, 18), (2028, 9, 22),
    (2028, 10, 9), (2028, 11, 3), (2028, 11, 23), (2029, 1, 1), (2029, 1, 8), (2029, 2, 11), (2029, 2, 12), (2029, 2, 23),
    (2029, 3, 20), (2029, 4, 29), (2029, 4, 30), (2029, 5, 3), (2029, 5, 4), (2029, 5, 5), (2029, 7, 16), (2029, 8, 11),
    (2029, 9, 17), (2029, 9, 23), (2029, 9, 24), (2029, 10, 8), (2029, 11, 3), (2029, 11, 23), (2030, 1, 1), (2030, 1, 14),
    (2030, 2, 11), (2030, 2, 23), (2030, 3, 20), (2030, 4, 29), (2030, 5, 3), (2030, 5, 4), (2030, 5, 5), (2030, 5, 6),
    (2030, 7, 15), (2030, 8, 11), (2030, 8, 12), (2030, 9, 16), (2030, 9, 23), (2030, 10, 14), (2030, 11, 3), (2030, 11, 4),
    (2030, 11, 23),
];

/// Whether `date` is a public holiday. Outside the table's years only the
/// fixed-date holidays are known.
pub fn is_holiday(date: JstDate) -> bool {
    if (FIRST_YEAR..=LAST_YEAR).contains(&date.year) {
        return HOLIDAYS.binary_search(&(date.year, date.month, date.day)).is_ok();
    }
    matches!((date.month, date.day), (1, 1) | (2, 11) | (2, 23) | (4, 29) | (5, 3) | (5, 4) | (5, 5) | (8, 11) | (11, 3) | (11, 23))
}

/// Not a Saturday, Sunday or public holiday.
pub fn is_business_day(date: JstDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !is_holiday(date)
}

/// The first business day on or after `date`.
pub fn business_day_on_or_after(date: JstDate) -> JstDate {
    let mut d = date;
    while !is_business_day(d) {
        d = d.add_days(1);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u8, day: u8) -> JstDate {
        JstDate::new(y, m, day).unwrap()
    }

    #[test]
    fn the_table_is_sorted_and_real() {
        assert!(HOLIDAYS.windows(2).all(|w| w[0] < w[1]));
        assert!(HOLIDAYS.iter().all(|&(y, m, day)| JstDate::new(y, m, day).is_some()));
        assert_eq!(HOLIDAYS.first().unwrap().0, FIRST_YEAR);
        assert_eq!(HOLIDAYS.last().unwrap().0, LAST_YEAR);
    }

    #[test]
    fn holidays_2026_and_2027() {
        // New Year, the Emperor's Birthday, equinoxes with a substitute day.
        for date in [d(2026, 1, 1), d(2026, 2, 23), d(2026, 3, 20), d(2027, 1, 1), d(2027, 3, 21), d(2027, 3, 22)] {
            assert!(is_holiday(date), "{date:?}");
        }
        // Golden Week 2026: 4/29, 5/3–5/5 and the substitute holiday 5/6.
        for day in [3, 4, 5, 6] {
            assert!(is_holiday(d(2026, 5, day)));
        }
        assert!(is_holiday(d(2026, 4, 29)));
        assert!(!is_holiday(d(2026, 4, 30)) && !is_holiday(d(2026, 5, 7)));
        // Silver Week 2026: 敬老の日 9/21, 国民の休日 9/22, 秋分の日 9/23.
        for day in [21, 22, 23] {
            assert!(is_holiday(d(2026, 9, day)));
        }
        assert!(!is_holiday(d(2026, 12, 31)) && !is_holiday(d(2027, 1, 4)));
        assert_eq!(HOLIDAYS.iter().filter(|h| h.0 == 2026).count(), 18);
        assert_eq!(HOLIDAYS.iter().filter(|h| h.0 == 2027).count(), 17);
    }

    #[test]
    fn business_days() {
        assert!(!is_business_day(d(2026, 11, 21))); // Saturday
        assert!(!is_business_day(d(2026, 11, 23))); // 勤労感謝の日, a Monday
        assert!(is_business_day(d(2026, 11, 24)));
        assert_eq!(business_day_on_or_after(d(2026, 5, 2)), d(2026, 5, 7));
        assert_eq!(business_day_on_or_after(d(2027, 1, 1)), d(2027, 1, 4));
    }
}
