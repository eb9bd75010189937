//! Money is integer yen. There is no fractional yen and no float anywhere.

use serde::{Deserialize, Serialize};

/// An amount of Japanese yen. Never negative: refunds and captures are
/// amounts too, and their direction is carried by the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Yen(u64);

/// Why a JSON body's `amount` was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountError {
    /// `invalid_amount`, or `unknown_field` for a field that is not allowed.
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

/// Reads a JSON object that may carry only the fields in `allowed`, one of
/// them an optional `amount`: absent or `null` → `None`; a JSON integer of
/// at least 1 yen (at most [`MAX_YEN`]) → the amount. Strings (`"500"`),
/// floats (`500.0`), zero, negatives and unknown fields are refused, so a
/// malformed amount can never be read as "the whole".
pub fn amount_in_body(body: &[u8], allowed: &[&str]) -> Result<Option<Yen>, AmountError> {
    let refuse = |code, field: &str, message: String| AmountError { code, field: field.to_string(), message };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| refuse("invalid_body", "", format!("the body is not JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| refuse("invalid_body", "", "the body must be a JSON object".into()))?;
    if let Some(name) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(refuse("unknown_field", name, format!("{name} is not a field of this request (allowed: {})", allowed.join(", "))));
    }
    match obj.get("amount") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) if n.is_u64() => {
            let a = n.as_u64().unwrap_or(0);
            if a == 0 || a > MAX_YEN {
                return Err(refuse("invalid_amount", "amount", format!("amount must be from 1 to {MAX_YEN} yen")));
            }
            Ok(Some(Yen(a)))
        }
        Some(other) => Err(refuse(
            "invalid_amount",
            "amount",
            format!("amount must be a whole number of yen written as a JSON integer (got {other})"),
        )),
    }
}

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
    fn malformed_amounts_are_refused_never_read_as_the_whole() {
        let read = |b: &str| amount_in_body(b.as_bytes(), &["amount"]);
        assert_eq!(read(""), Ok(None));
        assert_eq!(read("{}"), Ok(None));
        assert_eq!(read(r#"{"amount": null}"#), Ok(None));
        assert_eq!(read(r#"{"amount": 500}"#), Ok(Some(Yen(500))));
        for bad in [r#"{"amount": "500"}"#, r#"{"amount": 500.0}"#, r#"{"amount": -1}"#, r#"{"amount": 0}"#, r#"{"amount": 1e3}"#, r#"{"amount": 10000000}"#, r#"{"amount": true}"#] {
            assert_eq!(read(bad).unwrap_err().code, "invalid_amount", "{bad}");
        }
        assert_eq!(read(r#"{"amount": 5, "amonut": 6}"#).unwrap_err().code, "unknown_field");
        assert_eq!(read("[500]").unwrap_err().code, "invalid_body");
        assert_eq!(read("500").unwrap_err().code, "invalid_body");
    }

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
