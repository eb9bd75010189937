//! Prepaid card numbers (BitCash / WebMoney style): 16 digits, a secret
//! like a card number, shown only as its last four.

/// A syntactically valid prepaid card number. Its `Debug` is masked.
#[derive(Clone, PartialEq, Eq)]
pub struct PrepaidNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PrepaidNumberError {
    #[error("a prepaid card number has 16 digits")]
    WrongLength,
    #[error("a prepaid card number has only digits")]
    BadCharacter,
}

impl PrepaidNumber {
    /// Parses shopper input; spaces and hyphens are ignored.
    pub fn parse(input: &str) -> Result<Self, PrepaidNumberError> {
        let mut n = String::with_capacity(16);
        for c in input.chars() {
            if matches!(c, ' ' | '-' | '\u{3000}') {
                continue;
            }
            if !c.is_ascii_digit() {
                return Err(PrepaidNumberError::BadCharacter);
            }
            n.push(c);
        }
        if n.len() != 16 {
            return Err(PrepaidNumberError::WrongLength);
        }
        Ok(PrepaidNumber(n))
    }

    /// The whole number, for the provider call only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn last4(&self) -> &str {
        &self.0[12..]
    }
}

impl std::fmt::Debug for PrepaidNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrepaidNumber(************{})", self.last4())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_masks() {
        let n = PrepaidNumber::parse("1234 5678-9012 3456").unwrap();
        assert_eq!(n.last4(), "3456");
        assert_eq!(format!("{n:?}"), "PrepaidNumber(************3456)");
        assert_eq!(PrepaidNumber::parse("123456789012345"), Err(PrepaidNumberError::WrongLength));
        assert_eq!(PrepaidNumber::parse("123456789012345a"), Err(PrepaidNumberError::BadCharacter));
    }
}
