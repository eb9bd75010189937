//! The fields of every form, in one table: what each field is, how it is
//! formatted while typed, how it is validated (with `shared`'s rules) and
//! which problem codes it can have. The state and the texts both use it;
//! it uses neither.

use shared::card::{Brand, CardError, CardNumber, Cvc, Expiry, PaymentOption};
use shared::netcash::{NetcashId, NetcashIdError};
use shared::np::BuyerForm;
use shared::prepaid::{PrepaidNumber, PrepaidNumberError};

use crate::api::{CardPayment, PayRequest};
use crate::model::{ApiError, Method};

/// Every input of every form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    NetcashId,
    PrepaidNumber,
    NpName,
    NpKana,
    NpPostalCode,
    NpAddress,
    NpPhone,
    NpEmail,
    CardNumber,
    CardExpMonth,
    CardExpYear,
    CardCvc,
}

pub const FIELDS: usize = 12;

pub const NP_FIELDS: [Field; 6] = [
    Field::NpName,
    Field::NpKana,
    Field::NpPostalCode,
    Field::NpAddress,
    Field::NpPhone,
    Field::NpEmail,
];
pub const CARD_FIELDS: [Field; 4] = [
    Field::CardNumber,
    Field::CardExpMonth,
    Field::CardExpYear,
    Field::CardCvc,
];

impl Field {
    /// The element id (stable, for tests and `label for`).
    pub fn id(self) -> &'static str {
        [
            "netcash-id",
            "prepaid-number",
            "np-name",
            "np-kana",
            "np-postal-code",
            "np-address",
            "np-phone",
            "np-email",
            "card-number",
            "card-exp-month",
            "card-exp-year",
            "card-cvc",
        ][self as usize]
    }

    pub fn from_id(id: &str) -> Option<Field> {
        (0..FIELDS).map(Field::at).find(|f| f.id() == id)
    }

    pub(crate) fn at(i: usize) -> Field {
        const ALL: [Field; FIELDS] = [
            Field::NetcashId,
            Field::PrepaidNumber,
            Field::NpName,
            Field::NpKana,
            Field::NpPostalCode,
            Field::NpAddress,
            Field::NpPhone,
            Field::NpEmail,
            Field::CardNumber,
            Field::CardExpMonth,
            Field::CardExpYear,
            Field::CardCvc,
        ];
        ALL[i]
    }

    /// The fields of a method's form, in page order.
    pub fn of(method: &Method) -> &'static [Field] {
        match method {
            Method::Netcash => &[Field::NetcashId],
            Method::Prepaid => &[Field::PrepaidNumber],
            Method::Np => &NP_FIELDS,
            Method::Card => &CARD_FIELDS,
            Method::Au | Method::Other(_) => &[],
        }
    }

    pub(crate) fn method(self) -> Method {
        match self {
            Field::NetcashId => Method::Netcash,
            Field::PrepaidNumber => Method::Prepaid,
            Field::CardNumber | Field::CardExpMonth | Field::CardExpYear | Field::CardCvc => {
                Method::Card
            }
            _ => Method::Np,
        }
    }

    /// An NP field by the name `shared::np` and the server use (`kana`).
    pub(crate) fn np(name: &str) -> Option<Field> {
        NP_NAMES.iter().position(|n| *n == name).map(|i| NP_FIELDS[i])
    }

    /// The name `shared::np` and the server use for an NP field.
    pub fn np_name(self) -> Option<&'static str> {
        NP_NAMES.get((self as usize).wrapping_sub(Field::NpName as usize)).copied()
    }
}

/// The NP buyer form's field names, in [`NP_FIELDS`] order (written once,
/// in `shared::np`).
pub const NP_NAMES: [&str; 6] = shared::np::FIELD_NAMES;

/// A field's problem: a code the i18n module turns into a message
/// (`required`, `incomplete`, `bad_char`, `luhn`, `month`, `year`,
/// `expired`, `cvc`, or one of `shared::np`'s codes).
pub type Problem = (Field, &'static str);

/// Full-width letters and digits (what a Japanese IME types) become ASCII,
/// so `ＡＢＣＤ１２３４` is not silently dropped by the formatter.
pub fn normalize_width(input: &str) -> String {
    input
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        })
        .collect()
}

/// Formats raw field content as typed and maps the caret (a UTF-16
/// offset, as the DOM gives it) to the same place in the formatted text:
/// after the same number of kept characters. NET CASH IDs keep letters and
/// digits (upper-cased), the numbers keep digits; long numbers are grouped
/// by four. Other fields are left as they are.
pub fn format_field(field: Field, raw: &str, caret: Option<u32>) -> (String, Option<u32>) {
    let (max, grouped) = match field {
        Field::NetcashId | Field::PrepaidNumber | Field::CardNumber => (16, true),
        Field::CardExpMonth | Field::CardExpYear => (2, false),
        Field::CardCvc => (4, false),
        _ => return (raw.to_owned(), caret),
    };
    let letters = field == Field::NetcashId;
    let mut out = String::new();
    let (mut count, mut pos, mut before) = (0u32, 0u32, None);
    for c in normalize_width(raw).chars() {
        if caret.is_some_and(|k| pos >= k) && before.is_none() {
            before = Some(count);
        }
        pos += c.len_utf16() as u32;
        if (c.is_ascii_digit() || letters && c.is_ascii_alphabetic()) && count < max {
            if grouped && count > 0 && count % 4 == 0 {
                out.push(' ');
            }
            out.push(c.to_ascii_uppercase());
            count += 1;
        }
    }
    let caret = caret.map(|_| {
        let n = before.unwrap_or(count).min(count);
        if grouped && n > 0 {
            n + (n - 1) / 4
        } else {
            n
        }
    });
    (out, caret)
}

/// Only the digits of a (formatted) number.
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The card brand of what is in the number field so far.
pub fn brand_of(number: &str) -> Brand {
    Brand::detect(&digits(number))
}

/// Every payment option, in the order the picker lists them: 一括,
/// ボーナス一括, 分割 (3–24回), リボ, ボーナス併用分割 (3–24回).
pub fn all_options() -> impl Iterator<Item = PaymentOption> {
    use shared::card::INSTALLMENT_COUNTS as N;
    [PaymentOption::Single, PaymentOption::Bonus]
        .into_iter()
        .chain(N.map(|count| PaymentOption::Installment { count }))
        .chain([PaymentOption::Revolving])
        .chain(N.map(|count| PaymentOption::BonusInstallment { count }))
}

/// The `<option value>` of a payment option (`installment-3`).
pub fn option_value(o: PaymentOption) -> String {
    match o {
        PaymentOption::Single => "single".into(),
        PaymentOption::Bonus => "bonus".into(),
        PaymentOption::Revolving => "revolving".into(),
        PaymentOption::Installment { count } => format!("installment-{count}"),
        PaymentOption::BonusInstallment { count } => format!("bonus_installment-{count}"),
    }
}

pub fn parse_option(value: &str) -> Option<PaymentOption> {
    all_options().find(|o| option_value(*o) == value)
}

fn number_problem(empty: bool, long_enough: bool, bad_char: bool) -> &'static str {
    if empty {
        "required"
    } else if bad_char {
        "bad_char"
    } else if long_enough {
        "luhn"
    } else {
        "incomplete"
    }
}

/// Validates `method`'s form: the request to send, or every problem in
/// page order.
pub fn check(
    method: &Method,
    v: &[String; FIELDS],
    option: PaymentOption,
    today: (i32, u8),
) -> Result<PayRequest, Vec<Problem>> {
    let value = |f: Field| v[f as usize].trim();
    match method {
        Method::Netcash => {
            let raw = value(Field::NetcashId);
            NetcashId::parse(&normalize_width(raw))
                .map(PayRequest::Netcash)
                .map_err(|e| {
                    let bad = e == NetcashIdError::BadCharacter;
                    vec![(Field::NetcashId, number_problem(raw.is_empty(), false, bad))]
                })
        }
        Method::Prepaid => {
            let raw = value(Field::PrepaidNumber);
            PrepaidNumber::parse(&normalize_width(raw))
                .map(PayRequest::Prepaid)
                .map_err(|e| {
                    let bad = e == PrepaidNumberError::BadCharacter;
                    vec![(Field::PrepaidNumber, number_problem(raw.is_empty(), false, bad))]
                })
        }
        Method::Np => BuyerForm {
            name: value(Field::NpName).into(),
            kana: value(Field::NpKana).into(),
            postal_code: value(Field::NpPostalCode).into(),
            address: value(Field::NpAddress).into(),
            phone: value(Field::NpPhone).into(),
            email: value(Field::NpEmail).into(),
        }
        .validate()
        .map(PayRequest::Np)
        .map_err(|errors| {
            errors
                .iter()
                .filter_map(|e| Some((Field::np(e.field)?, e.code)))
                .collect()
        }),
        Method::Card => {
            let mut problems = vec![];
            let raw = value(Field::CardNumber);
            let number = CardNumber::parse(raw)
                .map_err(|e| {
                    problems.push((
                        Field::CardNumber,
                        number_problem(raw.is_empty(), e == CardError::Luhn, e == CardError::Character),
                    ))
                })
                .ok();
            let (m, y) = (value(Field::CardExpMonth), value(Field::CardExpYear));
            // `shared`'s parser, asked about the month and the year apart
            // so that the message lands on the right field.
            let month_bad = Expiry::parse(m, "99", 0, 1).is_err();
            let year_bad = y.len() != 2 || Expiry::parse("1", y, 0, 1).is_err();
            if month_bad {
                problems.push((Field::CardExpMonth, if m.is_empty() { "required" } else { "month" }));
            }
            if year_bad {
                problems.push((Field::CardExpYear, if y.is_empty() { "required" } else { "year" }));
            }
            let expiry = if month_bad || year_bad {
                None
            } else {
                Expiry::parse(m, y, today.0, today.1)
                    .map_err(|_| problems.push((Field::CardExpYear, "expired")))
                    .ok()
            };
            let raw = value(Field::CardCvc);
            let cvc = Cvc::parse(raw)
                .map_err(|_| {
                    problems.push((Field::CardCvc, if raw.is_empty() { "required" } else { "cvc" }))
                })
                .ok();
            match (number, expiry, cvc) {
                (Some(number), Some(expiry), Some(cvc)) if problems.is_empty() => {
                    Ok(PayRequest::Card(CardPayment {
                        number,
                        expiry,
                        cvc,
                        option,
                    }))
                }
                _ => Err(problems),
            }
        }
        Method::Au => Ok(PayRequest::Au),
        Method::Other(_) => Err(vec![]),
    }
}

/// The method whose form a reloaded page reopens for its last error: au's
/// errors (`au_*`) come back with the shopper from au's page; the other
/// methods report theirs to the page that is still open.
pub fn method_of_error(code: &str) -> Option<Method> {
    code.starts_with("au_").then_some(Method::Au)
}

/// A server's field code as one of ours (unknown ones read `invalid`).
pub fn np_code(code: &str) -> &'static str {
    ["required", "too_long", "katakana", "seven_digits", "phone_digits", "email"]
        .into_iter()
        .find(|c| *c == code)
        .unwrap_or("invalid")
}

/// The first field an error answer marks (NP `invalid_buyer`).
pub fn first_server_field(e: &ApiError) -> Option<Field> {
    NP_FIELDS
        .into_iter()
        .find(|f| e.fields.iter().any(|(name, _)| Field::np(name) == Some(*f)))
}

