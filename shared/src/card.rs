//! Card payments with Japanese Payment Options (JPO): the card number as a
//! secret, brand detection, Luhn, expiry, CVC, and which payment options a
//! card may use (PRODUCT §2: JPO needs Visa; JPO single payment needs a
//! Visa issued in Japan).

use serde::{Deserialize, Serialize};

/// A card number that passed Luhn. `Debug` shows only brand and last four.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Brand {
    Visa,
    Mastercard,
    Jcb,
    Amex,
    Diners,
    Unknown,
}

impl Brand {
    /// Detects the brand from the leading digits (IIN ranges).
    pub fn detect(digits: &str) -> Brand {
        let n = |len: usize| digits.get(..len).and_then(|p| p.parse::<u32>().ok());
        match (n(1), n(2), n(4)) {
            (Some(4), _, _) => Brand::Visa,
            (_, Some(51..=55), _) => Brand::Mastercard,
            (_, _, Some(2221..=2720)) => Brand::Mastercard,
            (_, _, Some(3528..=3589)) => Brand::Jcb,
            (_, Some(34 | 37), _) => Brand::Amex,
            (_, Some(36 | 38 | 39), _) | (_, _, Some(3000..=3059)) => Brand::Diners,
            _ => Brand::Unknown,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Brand::Visa => "visa",
            Brand::Mastercard => "mastercard",
            Brand::Jcb => "jcb",
            Brand::Amex => "amex",
            Brand::Diners => "diners",
            Brand::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("the card number has 14 to 16 digits")]
    Length,
    #[error("the card number is not valid (check digit)")]
    Luhn,
    #[error("the card number has only digits")]
    Character,
    #[error("the expiry date is not a valid month")]
    Expiry,
    #[error("the card has expired")]
    Expired,
    #[error("the security code has 3 or 4 digits")]
    Cvc,
    #[error("cards of this brand are not accepted")]
    Brand,
    #[error("the payment option is not one of single, bonus, installment, revolving, bonus_installment (with 3, 5, 6, 10, 12, 15, 18, 20 or 24 payments)")]
    InvalidOption,
    #[error("this payment option needs a Visa card")]
    OptionUnavailable,
}

use crate::codes::Code;

impl CardError {
    /// The error code the hosted page shows (HTTP 422, before any provider is asked).
    pub fn code(self) -> &'static str {
        match self {
            CardError::Length | CardError::Luhn | CardError::Character | CardError::Brand => Code::InvalidCardNumber.as_str(),
            CardError::Expiry => Code::InvalidExpiry.as_str(),
            CardError::Expired => Code::CardExpired.as_str(),
            CardError::Cvc => Code::InvalidCvc.as_str(),
            CardError::InvalidOption => Code::InvalidPaymentOption.as_str(),
            CardError::OptionUnavailable => Code::PaymentOptionUnavailable.as_str(),
        }
    }

    /// The same as `Display`, as a static string.
    pub fn message(self) -> &'static str {
        match self {
            CardError::Length => "the card number has 14 to 16 digits",
            CardError::Luhn => "the card number is not valid (check digit)",
            CardError::Character => "the card number has only digits",
            CardError::Expiry => "the expiry date is not a valid month",
            CardError::Expired => "the card has expired",
            CardError::Cvc => "the security code has 3 or 4 digits",
            CardError::Brand => "cards of this brand are not accepted",
            CardError::InvalidOption => "the payment option is not one of single, bonus, installment, revolving, bonus_installment (with 3, 5, 6, 10, 12, 15, 18, 20 or 24 payments)",
            CardError::OptionUnavailable => "this payment option needs a Visa card",
        }
    }
}

/// The Luhn check over ASCII digits.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = (b - b'0') as u32;
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

impl CardNumber {
    pub fn parse(input: &str) -> Result<CardNumber, CardError> {
        let mut d = String::with_capacity(19);
        for c in input.chars() {
            if matches!(c, ' ' | '-') {
                continue;
            }
            if !c.is_ascii_digit() {
                return Err(CardError::Character);
            }
            d.push(c);
        }
        if !(14..=16).contains(&d.len()) {
            return Err(CardError::Length);
        }
        if !luhn(&d) {
            return Err(CardError::Luhn);
        }
        Ok(CardNumber(d))
    }
    pub fn brand(&self) -> Brand {
        Brand::detect(&self.0)
    }
    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
    /// The digits, for the authorization request only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardNumber({} ****{})", self.brand().code(), self.last4())
    }
}

/// A card security code. Never stored; `Debug` is masked.
#[derive(Clone, PartialEq, Eq)]
pub struct Cvc(String);

impl Cvc {
    pub fn parse(s: &str) -> Result<Cvc, CardError> {
        if (3..=4).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Cvc(s.to_string()))
        } else {
            Err(CardError::Cvc)
        }
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Cvc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cvc(***)")
    }
}

/// Card expiry (month, four-digit year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    pub month: u8,
    pub year: u16,
}

impl Expiry {
    /// Parses month `1`–`12` and a year written with 2 or 4 digits; refuses
    /// a card whose month has ended before `today_year`/`today_month`.
    pub fn parse(month: &str, year: &str, today_year: i32, today_month: u8) -> Result<Expiry, CardError> {
        let m: u8 = month.trim().parse().map_err(|_| CardError::Expiry)?;
        let y: u16 = match year.trim() {
            y if y.len() == 2 => 2000 + y.parse::<u16>().map_err(|_| CardError::Expiry)?,
            y if y.len() == 4 => y.parse().map_err(|_| CardError::Expiry)?,
            _ => return Err(CardError::Expiry),
        };
        if !(1..=12).contains(&m) {
            return Err(CardError::Expiry);
        }
        if (y as i32, m) < (today_year, today_month) {
            return Err(CardError::Expired);
        }
        Ok(Expiry { month: m, year: y })
    }
}

/// A Japanese Payment Option (支払区分).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PaymentOption {
    /// 一括.
    Single,
    /// ボーナス一括.
    Bonus,
    /// 分割: 3, 5, 6, 10, 12, 15, 18, 20 or 24 payments.
    Installment { count: u8 },
    /// リボ.
    Revolving,
    /// ボーナス併用分割 (bonus and installment).
    BonusInstallment { count: u8 },
}

/// Installment counts JPO allows.
pub const INSTALLMENT_COUNTS: [u8; 9] = [3, 5, 6, 10, 12, 15, 18, 20, 24];

/// Whether a card of `brand` may use `option`. JPO needs Visa, so other
/// brands pay "single" only, as an ordinary payment.
pub fn allowed(brand: Brand, option: PaymentOption) -> bool {
    match option {
        PaymentOption::Single => true,
        PaymentOption::Installment { count } | PaymentOption::BonusInstallment { count } => {
            brand == Brand::Visa && INSTALLMENT_COUNTS.contains(&count)
        }
        PaymentOption::Bonus | PaymentOption::Revolving => brand == Brand::Visa,
    }
}

impl PaymentOption {
    /// Reads the hosted page's `option` (`{"kind": "single"}`,
    /// `{"kind": "installment", "count": 3}`, …); absent means single.
    pub fn from_json(v: Option<&serde_json::Value>) -> Result<PaymentOption, CardError> {
        let option = match v {
            None | Some(serde_json::Value::Null) => PaymentOption::Single,
            Some(v) => PaymentOption::deserialize(v).map_err(|_| CardError::InvalidOption)?,
        };
        match option {
            PaymentOption::Installment { count } | PaymentOption::BonusInstallment { count } if !INSTALLMENT_COUNTS.contains(&count) => {
                Err(CardError::InvalidOption)
            }
            o => Ok(o),
        }
    }

    /// Whether the option exists only as a Japanese Payment Option (every
    /// option but single).
    pub fn jpo_only(self) -> bool {
        self != PaymentOption::Single
    }
}

/// What the shopper entered on the card form, validated. It exists only
/// for the length of one request; `Debug` is masked and nothing of it but
/// [`CardDetails::instrument`] may be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardDetails {
    pub number: CardNumber,
    pub expiry: Expiry,
    pub cvc: Cvc,
    pub option: PaymentOption,
}

impl CardDetails {
    /// Checks the card form in the order the shopper reads it: number
    /// (and brand), expiry against the business month (JST) `today`, CVC,
    /// then whether the card's brand allows the payment option.
    pub fn parse(
        number: &str,
        exp_month: &str,
        exp_year: &str,
        cvc: &str,
        option: Option<&serde_json::Value>,
        today_year: i32,
        today_month: u8,
    ) -> Result<CardDetails, CardError> {
        let number = CardNumber::parse(number)?;
        if number.brand() == Brand::Unknown {
            return Err(CardError::Brand);
        }
        let expiry = Expiry::parse(exp_month, exp_year, today_year, today_month)?;
        let cvc = Cvc::parse(cvc.trim())?;
        let option = PaymentOption::from_json(option)?;
        if !allowed(number.brand(), option) {
            return Err(CardError::OptionUnavailable);
        }
        Ok(CardDetails { number, expiry, cvc, option })
    }

    /// The masked description kept with the payment: `visa ****1111 12/2030`.
    pub fn instrument(&self) -> String {
        format!("{} ****{} {:02}/{}", self.number.brand().code(), self.number.last4(), self.expiry.month, self.expiry.year)
    }
}

/// Whether a single payment is sent with JPO (Visa issued in Japan) or as
/// an ordinary payment.
pub fn single_uses_jpo(brand: Brand, issued_in_japan: bool) -> bool {
    brand == Brand::Visa && issued_in_japan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_cards_parse_with_their_brands() {
        for (n, b) in [
            ("4111111111111111", Brand::Visa),
            ("4242 4242 4242 4242", Brand::Visa),
            ("5555555555554444", Brand::Mastercard),
            ("4000000000000002", Brand::Visa),
            ("3530111333300000", Brand::Jcb),
        ] {
            assert_eq!(CardNumber::parse(n).unwrap().brand(), b, "{n}");
        }
        assert_eq!(CardNumber::parse("4111111111111112"), Err(CardError::Luhn));
        assert_eq!(CardNumber::parse("4111"), Err(CardError::Length));
        assert_eq!(CardNumber::parse("4111x11111111111"), Err(CardError::Character));
    }

    #[test]
    fn secrets_are_masked() {
        let n = CardNumber::parse("4111111111111111").unwrap();
        let shown = format!("{n:?} {:?}", Cvc::parse("123").unwrap());
        assert!(!shown.contains("411111"), "{shown}");
        assert!(!shown.contains("123"), "{shown}");
        assert_eq!(shown, "CardNumber(visa ****1111) Cvc(***)");
    }

    #[test]
    fn expiry() {
        assert_eq!(Expiry::parse("12", "30", 2026, 11), Ok(Expiry { month: 12, year: 2030 }));
        assert_eq!(Expiry::parse("11", "2026", 2026, 11), Ok(Expiry { month: 11, year: 2026 }));
        assert_eq!(Expiry::parse("10", "2026", 2026, 11), Err(CardError::Expired));
        assert_eq!(Expiry::parse("13", "2030", 2026, 11), Err(CardError::Expiry));
    }

    #[test]
    fn card_form() {
        use serde_json::json;
        let ok = CardDetails::parse("4111 1111 1111 1111", "12", "2030", "123", Some(&json!({"kind": "installment", "count": 3})), 2026, 11).unwrap();
        assert_eq!(ok.option, PaymentOption::Installment { count: 3 });
        assert_eq!(ok.instrument(), "visa ****1111 12/2030");
        let shown = format!("{ok:?}");
        assert!(!shown.contains("4111111111111111") && !shown.contains("123"), "{shown}");
        assert_eq!(CardDetails::parse("4111111111111111", "1", "30", "1234", None, 2026, 11).unwrap().instrument(), "visa ****1111 01/2030");
        let err = |n: &str, m: &str, y: &str, c: &str, o: serde_json::Value| {
            CardDetails::parse(n, m, y, c, Some(&o), 2026, 11).map(|_| ()).map_err(CardError::code)
        };
        let single = json!({"kind": "single"});
        assert_eq!(err("4111111111111112", "12", "2030", "123", single.clone()), Err("invalid_card_number"));
        assert_eq!(err("6011111111111117", "12", "2030", "123", single.clone()), Err("invalid_card_number"));
        assert_eq!(err("4111111111111111", "13", "2030", "123", single.clone()), Err("invalid_expiry"));
        assert_eq!(err("4111111111111111", "", "2030", "123", single.clone()), Err("invalid_expiry"));
        assert_eq!(err("4111111111111111", "10", "2026", "123", single.clone()), Err("card_expired"));
        assert_eq!(err("4111111111111111", "11", "2026", "123", single.clone()), Ok(()));
        assert_eq!(err("4111111111111111", "12", "2030", "12", single.clone()), Err("invalid_cvc"));
        assert_eq!(err("4111111111111111", "12", "2030", "12a", single.clone()), Err("invalid_cvc"));
        assert_eq!(err("4111111111111111", "12", "2030", "123", json!({"kind": "installment", "count": 4})), Err("invalid_payment_option"));
        assert_eq!(err("4111111111111111", "12", "2030", "123", json!({"kind": "installment"})), Err("invalid_payment_option"));
        assert_eq!(err("4111111111111111", "12", "2030", "123", json!({"kind": "lump"})), Err("invalid_payment_option"));
        assert_eq!(err("4111111111111111", "12", "2030", "123", json!("single")), Err("invalid_payment_option"));
        assert_eq!(err("5555555555554444", "12", "2030", "123", json!({"kind": "installment", "count": 3})), Err("payment_option_unavailable"));
        assert_eq!(err("5555555555554444", "12", "2030", "123", json!({"kind": "revolving"})), Err("payment_option_unavailable"));
        assert_eq!(err("5555555555554444", "12", "2030", "123", single), Ok(()));
        for (o, want) in [
            (json!({"kind": "bonus"}), PaymentOption::Bonus),
            (json!({"kind": "revolving"}), PaymentOption::Revolving),
            (json!({"kind": "bonus_installment", "count": 24}), PaymentOption::BonusInstallment { count: 24 }),
        ] {
            assert_eq!(PaymentOption::from_json(Some(&o)), Ok(want));
        }
        assert_eq!(PaymentOption::from_json(None), Ok(PaymentOption::Single));
    }

    #[test]
    fn payment_options_per_brand() {
        use PaymentOption::*;
        assert!(allowed(Brand::Visa, Installment { count: 3 }));
        assert!(!allowed(Brand::Visa, Installment { count: 4 }));
        assert!(allowed(Brand::Visa, Revolving));
        assert!(allowed(Brand::Visa, Single));
        assert!(!allowed(Brand::Mastercard, Bonus));
        assert!(!allowed(Brand::Mastercard, BonusInstallment { count: 3 }));
        assert!(allowed(Brand::Mastercard, Single));
        assert!(single_uses_jpo(Brand::Visa, true));
        assert!(!single_uses_jpo(Brand::Visa, false));
        assert!(!single_uses_jpo(Brand::Mastercard, true));
    }
}
