//! NET CASH IDs: 16 ASCII alphanumerics, shown to shoppers in groups of four.

use serde::{Deserialize, Serialize};

/// Length of a NET CASH ID.
pub const NETCASH_ID_LEN: usize = 16;

/// A syntactically valid NET CASH ID: exactly 16 ASCII letters or digits,
/// stored upper-case. Whether it exists or has a balance is the provider's
/// business, not this type's.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NetcashId(String);

/// Why a string is not a NET CASH ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NetcashIdError {
    #[error("a NET CASH ID has 16 letters or digits")]
    WrongLength,
    #[error("a NET CASH ID has only letters and digits")]
    BadCharacter,
}

impl NetcashId {
    /// Parses shopper input: spaces and hyphens (the display grouping) are
    /// ignored, letters are upper-cased.
    pub fn parse(input: &str) -> Result<Self, NetcashIdError> {
        let mut id = String::with_capacity(NETCASH_ID_LEN);
        for c in input.chars() {
            if c == ' ' || c == '-' || c == '\u{3000}' {
                continue;
            }
            if !c.is_ascii_alphanumeric() {
                return Err(NetcashIdError::BadCharacter);
            }
            id.push(c.to_ascii_uppercase());
        }
        if id.len() != NETCASH_ID_LEN {
            return Err(NetcashIdError::WrongLength);
        }
        Ok(NetcashId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four characters, the only part that is shown or stored
    /// after the payment.
    pub fn last4(&self) -> &str {
        &self.0[NETCASH_ID_LEN - 4..]
    }
}

impl std::fmt::Debug for NetcashId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NetcashId(************{})", self.last4())
    }
}

impl TryFrom<String> for NetcashId {
    type Error = NetcashIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        NetcashId::parse(&s)
    }
}

impl From<NetcashId> for String {
    fn from(id: NetcashId) -> String {
        id.0
    }
}

/// Formats what a shopper has typed so far as `ABCD EFGH IJKL MNOP`:
/// keeps only letters and digits, upper-cases, cuts at 16 characters.
pub fn format_netcash_input(input: &str) -> String {
    let mut out = String::with_capacity(19);
    let mut n = 0;
    for c in input.chars().filter(|c| c.is_ascii_alphanumeric()) {
        if n == NETCASH_ID_LEN {
            break;
        }
        if n > 0 && n % 4 == 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
        n += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grouped_and_lowercase_input() {
        let id = NetcashId::parse("abcd-1234 efgh 5678").unwrap();
        assert_eq!(id.as_str(), "ABCD1234EFGH5678");
        assert_eq!(id.last4(), "5678");
    }

    #[test]
    fn refuses_bad_ids() {
        let table = [
            ("", NetcashIdError::WrongLength),
            ("ABCD1234EFGH567", NetcashIdError::WrongLength),
            ("ABCD1234EFGH56789", NetcashIdError::WrongLength),
            ("ABCD1234EFGH567!", NetcashIdError::BadCharacter),
            ("ＡBCD1234EFGH5678", NetcashIdError::BadCharacter),
        ];
        for (input, want) in table {
            assert_eq!(NetcashId::parse(input), Err(want), "input {input:?}");
        }
    }

    #[test]
    fn formats_as_the_shopper_types() {
        assert_eq!(format_netcash_input("abcd"), "ABCD");
        assert_eq!(format_netcash_input("abcde"), "ABCD E");
        assert_eq!(format_netcash_input("ab-cd ef!gh1234567890xyz"), "ABCD EFGH 1234 5678");
    }

    #[test]
    fn debug_masks_all_but_last_four() {
        let id = NetcashId::parse("SECRETSECRET1234").unwrap();
        let shown = format!("{id:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.ends_with("1234)"));
    }
}
