//! Money is integer yen. There is no fractional yen and no float anywhere.

use serde::{Deserialize, Serialize};

/// An amount of Japanese yen. Never negative: refunds and captures are
/// amounts too, and their direction is carried by the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Yen(u64);

/// The largest amount any method accepts (9,999,999 yen); a guard against
/// nonsense, each method's own limit is lower.
pub const MAX_YEN: u64 = 9_999_999;

impl Yen {
    pub const ZERO: Yen = Yen(0);

    pub const fn new(v: u64) -> Yen {
        Yen(v)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    pub fn checked_add(self, other: Yen) -> Option<Yen> {
        self.0.checked_add(other.0).map(Yen)
    }

    pub fn checked_sub(self, other: Yen) -> Option<Yen> {
        self.0.checked_sub(other.0).map(Yen)
    }

    /// Parses a whole number of yen written in ASCII digits, without sign,
    /// separators or leading zeros (`"0"` itself is allowed).
    pub fn parse(s: &str) -> Option<Yen> {
        if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if s.len() > 1 && s.starts_with('0') {
            return None;
        }
        s.parse().ok().map(Yen)
    }

    /// `1,234,567` — digits grouped by three, no currency sign.
    pub fn grouped(self) -> String {
        let digits = self.0.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    }
}

impl std::fmt::Display for Yen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} JPY", self.grouped())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_only_plain_whole_yen() {
        assert_eq!(Yen::parse("0"), Some(Yen(0)));
        assert_eq!(Yen::parse("1100"), Some(Yen(1100)));
        for bad in ["", "-1", "+1", "1.0", "1,000", "01", " 1", "1e3", "１", "99999999999"] {
            assert_eq!(Yen::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn groups_by_three() {
        assert_eq!(Yen(0).grouped(), "0");
        assert_eq!(Yen(999).grouped(), "999");
        assert_eq!(Yen(1000).grouped(), "1,000");
        assert_eq!(Yen(1234567).to_string(), "1,234,567 JPY");
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(Yen(5).checked_sub(Yen(6)), None);
        assert_eq!(Yen(u64::MAX).checked_add(Yen(1)), None);
        assert_eq!(Yen(5).checked_add(Yen(6)), Some(Yen(11)));
    }
}
