//! Time as Unix seconds, and the JST (UTC+9, no daylight saving) civil
//! calendar that every business date in the product uses. The current time
//! is always passed in; nothing here reads a clock.

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixTime(pub i64);

const JST_OFFSET: i64 = 9 * 3600;

impl UnixTime {
    pub fn plus_seconds(self, s: i64) -> UnixTime {
        UnixTime(self.0 + s)
    }
    pub fn jst(self) -> JstDateTime {
        JstDateTime::from_unix(self)
    }

    /// RFC 3339 in UTC: `2026-11-23T00:00:00Z`.
    pub fn rfc3339_utc(self) -> String {
        let t = JstDateTime::from_unix(UnixTime(self.0 - JST_OFFSET));
        format!("{}T{:02}:{:02}:{:02}Z", t.date.iso(), t.hour, t.minute, t.second)
    }
}

/// A calendar date in JST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct JstDate {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

/// A wall-clock time in JST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct JstDateTime {
    pub date: JstDate,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y as i64 - 1 } else { y as i64 };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Number of days in a month of a year.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Day of the week, Monday = 0 … Sunday = 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl JstDate {
    /// A date, if it exists in the calendar.
    pub fn new(year: i32, month: u8, day: u8) -> Option<JstDate> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(JstDate { year, month, day })
    }

    pub fn days_since_epoch(self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    pub fn from_days_since_epoch(days: i64) -> JstDate {
        let (year, month, day) = civil_from_days(days);
        JstDate { year, month, day }
    }

    pub fn add_days(self, n: i64) -> JstDate {
        JstDate::from_days_since_epoch(self.days_since_epoch() + n)
    }

    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday.
        match (self.days_since_epoch() + 3).rem_euclid(7) {
            0 => Weekday::Mon,
            1 => Weekday::Tue,
            2 => Weekday::Wed,
            3 => Weekday::Thu,
            4 => Weekday::Fri,
            5 => Weekday::Sat,
            _ => Weekday::Sun,
        }
    }

    /// The last day of the month `n` months after this date's month
    /// (`n = 0`: this month).
    pub fn end_of_month_after(self, n: u32) -> JstDate {
        let months = self.year as i64 * 12 + (self.month as i64 - 1) + n as i64;
        let year = months.div_euclid(12) as i32;
        let month = (months.rem_euclid(12) + 1) as u8;
        JstDate { year, month, day: days_in_month(year, month) }
    }

    /// The first day of the month `n` months after this date's month.
    pub fn first_of_month_after(self, n: u32) -> JstDate {
        let end = self.end_of_month_after(n);
        JstDate { day: 1, ..end }
    }

    /// The first instant (00:00:00 JST) of this date.
    pub fn start(self) -> UnixTime {
        UnixTime(self.days_since_epoch() * 86400 - JST_OFFSET)
    }

    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl JstDateTime {
    pub fn from_unix(t: UnixTime) -> JstDateTime {
        let local = t.0 + JST_OFFSET;
        let days = local.div_euclid(86400);
        let secs = local.rem_euclid(86400);
        JstDateTime {
            date: JstDate::from_days_since_epoch(days),
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
        }
    }

    pub fn to_unix(self) -> UnixTime {
        UnixTime(
            self.date.start().0 + self.hour as i64 * 3600 + self.minute as i64 * 60 + self.second as i64,
        )
    }

    /// Parses `YYYYMMDDhhmmss` (JST), the format of `request_date`.
    pub fn parse_compact(s: &str) -> Option<JstDateTime> {
        if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n = |a: usize, b: usize| s[a..b].parse::<u32>().ok();
        let date = JstDate::new(n(0, 4)? as i32, n(4, 6)? as u8, n(6, 8)? as u8)?;
        let (hour, minute, second) = (n(8, 10)?, n(10, 12)?, n(12, 14)?);
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        Some(JstDateTime { date, hour: hour as u8, minute: minute as u8, second: second as u8 })
    }

    /// `YYYYMMDDhhmmss`.
    pub fn compact(self) -> String {
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            self.date.year, self.date.month, self.date.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jst_is_nine_hours_ahead_of_utc() {
        // 2026-11-23T00:00:00Z is 09:00 JST the same day.
        let t = UnixTime(1_795_392_000);
        assert_eq!(t.jst().compact(), "20261123090000");
        // 15:00Z on the 22nd is already the 23rd in Japan.
        assert_eq!(UnixTime(1_795_392_000 - 9 * 3600).jst().compact(), "20261123000000");
        assert_eq!(t.rfc3339_utc(), "2026-11-23T00:00:00Z");
    }

    #[test]
    fn compact_round_trips_and_refuses_impossible_dates() {
        let dt = JstDateTime::parse_compact("20280229235959").unwrap();
        assert_eq!(JstDateTime::from_unix(dt.to_unix()), dt);
        for bad in ["20270229000000", "20261301000000", "20261123240000", "2026112309000", "2026112309000x", ""] {
            assert_eq!(JstDateTime::parse_compact(bad), None, "{bad}");
        }
    }

    #[test]
    fn weekdays_and_month_ends() {
        let d = JstDate::new(2026, 11, 23).unwrap();
        assert_eq!(d.weekday(), Weekday::Mon);
        assert_eq!(d.end_of_month_after(0), JstDate::new(2026, 11, 30).unwrap());
        assert_eq!(d.end_of_month_after(2), JstDate::new(2027, 1, 31).unwrap());
        assert_eq!(d.end_of_month_after(3), JstDate::new(2027, 2, 28).unwrap());
        assert_eq!(d.first_of_month_after(1), JstDate::new(2026, 12, 1).unwrap());
        assert_eq!(d.add_days(40), JstDate::new(2027, 1, 2).unwrap());
    }
}
