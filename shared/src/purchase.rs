//! The link-type purchase request (PRODUCT §3.1): its fields, their
//! validation into typed values, and its `hashcode`.
//!
//! Parsing checks syntax only. Whether the merchant exists, the signature
//! matches, the request is fresh and the URLs are allowed is decided by
//! [`crate::purchase::check`] with the merchant's settings and the current
//! time passed in.

use serde::{Deserialize, Serialize};

use crate::methods::{Device, Method, PayType, SalesMode};
use crate::money::{Yen, MAX_YEN};
use crate::signing::{canonical_string, verify_hex_mac};
use crate::time::{JstDateTime, UnixTime};
use crate::url::{HttpUrl, OriginRule};

/// The signed fields of a purchase request, in signing order.
pub const FIELDS: [&str; 21] = [
    "merchant_id",
    "service_id",
    "cust_code",
    "order_id",
    "item_id",
    "item_name",
    "amount",
    "tax",
    "pay_method",
    "pay_type",
    "sales_mode",
    "terminal_type",
    "success_url",
    "cancel_url",
    "error_url",
    "pagecon_url",
    "free1",
    "free2",
    "free3",
    "request_date",
    "limit_second",
];

/// Fields that must be present and not empty.
pub const REQUIRED: [&str; 9] = [
    "merchant_id",
    "service_id",
    "order_id",
    "item_name",
    "amount",
    "success_url",
    "cancel_url",
    "error_url",
    "pagecon_url",
];

pub const DEFAULT_LIMIT_SECOND: u32 = 600;
pub const MAX_LIMIT_SECOND: u32 = 3600;
/// How far in the future `request_date` may be (clock skew), in seconds.
pub const MAX_FUTURE_SKEW: i64 = 300;

/// Why a purchase request is refused. Each variant has a stable code for
/// the error page and the logs; none carries secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurchaseError {
    #[error("the field {0} is not part of a purchase request")]
    UnknownField(String),
    #[error("the field {0} appears more than once")]
    DuplicateField(&'static str),
    #[error("the field {0} is required")]
    Missing(&'static str),
    #[error("the field {field} is invalid: {why}")]
    Invalid { field: &'static str, why: &'static str },
    #[error("the merchant_id / service_id pair is not a registered merchant")]
    UnknownMerchant,
    #[error("the hashcode does not match the request")]
    BadSignature,
    #[error("request_date is older than limit_second allows")]
    Stale,
    #[error("request_date is more than 5 minutes in the future")]
    FromTheFuture,
    #[error("{0} is not on an origin the merchant registered")]
    UrlNotAllowed(&'static str),
    #[error("order_id has already been used by this merchant")]
    OrderIdReused,
    #[error("no payment method can take this purchase")]
    NoMethodAvailable,
}

impl PurchaseError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            PurchaseError::UnknownField(_) => "unknown_field",
            PurchaseError::DuplicateField(_) => "duplicate_field",
            PurchaseError::Missing(_) => "missing_field",
            PurchaseError::Invalid { .. } => "invalid_field",
            PurchaseError::UnknownMerchant => "unknown_merchant",
            PurchaseError::BadSignature => "bad_signature",
            PurchaseError::Stale => "request_expired",
            PurchaseError::FromTheFuture => "request_date_in_future",
            PurchaseError::UrlNotAllowed(_) => "url_not_allowed",
            PurchaseError::OrderIdReused => "order_id_reused",
            PurchaseError::NoMethodAvailable => "no_method_available",
        }
    }
}

/// A purchase request whose fields all parsed. Not yet authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseRequest {
    pub merchant_id: String,
    pub service_id: String,
    pub cust_code: Option<String>,
    pub order_id: String,
    pub item_id: Option<String>,
    pub item_name: String,
    pub amount: Yen,
    pub tax: Yen,
    pub pay_method: Vec<Method>,
    pub pay_type: PayType,
    pub sales_mode: SalesMode,
    pub terminal_type: Option<Device>,
    pub success_url: HttpUrl,
    pub cancel_url: HttpUrl,
    pub error_url: HttpUrl,
    pub pagecon_url: HttpUrl,
    pub free1: Option<String>,
    pub free2: Option<String>,
    pub free3: Option<String>,
    pub request_date: UnixTime,
    pub limit_second: u32,
    /// The canonical string the hashcode must cover.
    #[serde(skip)]
    pub canonical: String,
    #[serde(skip)]
    pub hashcode: String,
}

fn ident(field: &'static str, v: &str, max: usize) -> Result<String, PurchaseError> {
    let ok = !v.is_empty()
        && v.len() <= max
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(v.to_string())
    } else {
        Err(PurchaseError::Invalid { field, why: "use 1 or more letters, digits, '-', '_' or '.' within the length limit" })
    }
}

fn text(field: &'static str, v: &str, max_chars: usize) -> Result<String, PurchaseError> {
    if v.chars().count() > max_chars {
        return Err(PurchaseError::Invalid { field, why: "too long" });
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(PurchaseError::Invalid { field, why: "control characters are not allowed" });
    }
    Ok(v.to_string())
}

fn opt(v: &str) -> Option<&str> {
    (!v.is_empty()).then_some(v)
}

impl PurchaseRequest {
    /// Parses the form fields in the order they arrived.
    pub fn parse(form: &[(String, String)]) -> Result<PurchaseRequest, PurchaseError> {
        let mut values: [Option<&str>; FIELDS.len()] = [None; FIELDS.len()];
        let mut hashcode = None;
        for (name, value) in form {
            if name == "hashcode" {
                if hashcode.replace(value.as_str()).is_some() {
                    return Err(PurchaseError::DuplicateField("hashcode"));
                }
                continue;
            }
            let Some(i) = FIELDS.iter().position(|f| f == name) else {
                let shown: String = name.chars().take(40).filter(|c| !c.is_control()).collect();
                return Err(PurchaseError::UnknownField(shown));
            };
            if values[i].replace(value.as_str()).is_some() {
                return Err(PurchaseError::DuplicateField(FIELDS[i]));
            }
        }
        let get = |name: &'static str| values[FIELDS.iter().position(|f| *f == name).unwrap()].unwrap_or("");
        for name in REQUIRED {
            if get(name).is_empty() {
                return Err(PurchaseError::Missing(name));
            }
        }
        let hashcode = hashcode.filter(|h| !h.is_empty()).ok_or(PurchaseError::Missing("hashcode"))?;
        if hashcode.len() != 64 || !hashcode.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(PurchaseError::Invalid { field: "hashcode", why: "64 lowercase hex digits" });
        }
        if get("request_date").is_empty() {
            return Err(PurchaseError::Missing("request_date"));
        }

        let amount = Yen::parse(get("amount"))
            .filter(|a| a.get() > 0 && a.get() <= MAX_YEN)
            .ok_or(PurchaseError::Invalid { field: "amount", why: "a whole number of yen from 1 to 9999999, tax included" })?;
        let tax = match opt(get("tax")) {
            None => Yen::ZERO,
            Some(t) => Yen::parse(t)
                .filter(|t| *t <= amount)
                .ok_or(PurchaseError::Invalid { field: "tax", why: "a whole number of yen not above amount" })?,
        };
        let mut pay_method = Vec::new();
        if let Some(list) = opt(get("pay_method")) {
            for code in list.split(',') {
                let m = Method::from_code(code)
                    .ok_or(PurchaseError::Invalid { field: "pay_method", why: "a comma list of netcash, prepaid, np, au, card" })?;
                if pay_method.contains(&m) {
                    return Err(PurchaseError::Invalid { field: "pay_method", why: "a method is listed twice" });
                }
                pay_method.push(m);
            }
        }
        let pay_type = match opt(get("pay_type")) {
            None => PayType::OneTime,
            Some(v) => PayType::from_code(v)
                .ok_or(PurchaseError::Invalid { field: "pay_type", why: "one_time, recurring_simple or recurring_fixed" })?,
        };
        let sales_mode = match opt(get("sales_mode")) {
            None => SalesMode::Auto,
            Some(v) => SalesMode::from_code(v).ok_or(PurchaseError::Invalid { field: "sales_mode", why: "auto or specified" })?,
        };
        let terminal_type = match opt(get("terminal_type")) {
            None => None,
            Some(v) => Some(
                Device::from_code(v).ok_or(PurchaseError::Invalid { field: "terminal_type", why: "pc, smartphone or mobile" })?,
            ),
        };
        let url = |field: &'static str| {
            HttpUrl::parse(get(field))
                .ok_or(PurchaseError::Invalid { field, why: "an absolute http(s) URL of at most 512 characters" })
        };
        let request_date = JstDateTime::parse_compact(get("request_date"))
            .ok_or(PurchaseError::Invalid { field: "request_date", why: "YYYYMMDDhhmmss in JST" })?
            .to_unix();
        let limit_second = match opt(get("limit_second")) {
            None => DEFAULT_LIMIT_SECOND,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|s| (60..=MAX_LIMIT_SECOND).contains(s) && !v.starts_with('0'))
                .ok_or(PurchaseError::Invalid { field: "limit_second", why: "seconds from 60 to 3600" })?,
        };
        let canonical = canonical_string(FIELDS.iter().zip(values.iter()).filter_map(|(n, v)| v.map(|v| (*n, v))));

        Ok(PurchaseRequest {
            merchant_id: ident("merchant_id", get("merchant_id"), 16)?,
            service_id: ident("service_id", get("service_id"), 8)?,
            cust_code: opt(get("cust_code")).map(|v| ident("cust_code", v, 64)).transpose()?,
            order_id: ident("order_id", get("order_id"), 64)?,
            item_id: opt(get("item_id")).map(|v| ident("item_id", v, 32)).transpose()?,
            item_name: text("item_name", get("item_name"), 100)?,
            amount,
            tax,
            pay_method,
            pay_type,
            sales_mode,
            terminal_type,
            success_url: url("success_url")?,
            cancel_url: url("cancel_url")?,
            error_url: url("error_url")?,
            pagecon_url: url("pagecon_url")?,
            free1: opt(get("free1")).map(|v| text("free1", v, 100)).transpose()?,
            free2: opt(get("free2")).map(|v| text("free2", v, 100)).transpose()?,
            free3: opt(get("free3")).map(|v| text("free3", v, 100)).transpose()?,
            request_date,
            limit_second,
            canonical,
            hashcode: hashcode.to_string(),
        })
    }

    /// Checks the signature (constant time), the freshness window and the
    /// URLs against the merchant's key and origins at time `now`.
    pub fn authenticate(&self, hash_keys: &[&[u8]], origins: &[OriginRule], now: UnixTime) -> Result<(), PurchaseError> {
        let mut signed = false;
        for key in hash_keys {
            signed |= verify_hex_mac(key, self.canonical.as_bytes(), &self.hashcode);
        }
        if !signed {
            return Err(PurchaseError::BadSignature);
        }
        if self.request_date.0 > now.0 + MAX_FUTURE_SKEW {
            return Err(PurchaseError::FromTheFuture);
        }
        if self.request_date.0 + (self.limit_second as i64) < now.0 {
            return Err(PurchaseError::Stale);
        }
        for (field, url) in [
            ("success_url", &self.success_url),
            ("cancel_url", &self.cancel_url),
            ("error_url", &self.error_url),
            ("pagecon_url", &self.pagecon_url),
        ] {
            if !origins.iter().any(|o| o.allows(url)) {
                return Err(PurchaseError::UrlNotAllowed(field));
            }
        }
        Ok(())
    }

    /// When the hosted page closes: `limit_second` after the request date.
    pub fn expires_at(&self) -> UnixTime {
        self.request_date.plus_seconds(self.limit_second as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::form_hashcode;

    const KEY: &[u8] = b"kessai-sandbox-hash-key";

    fn base() -> Vec<(String, String)> {
        [
            ("merchant_id", "99999"),
            ("service_id", "001"),
            ("cust_code", "cust-1"),
            ("order_id", "ord-20261123-0001"),
            ("item_id", "tea-200"),
            ("item_name", "緑茶 200g"),
            ("amount", "1100"),
            ("tax", "100"),
            ("pay_method", "netcash"),
            ("pay_type", "one_time"),
            ("sales_mode", "auto"),
            ("terminal_type", ""),
            ("success_url", "http://127.0.0.1:4000/success"),
            ("cancel_url", "http://127.0.0.1:4000/cancel"),
            ("error_url", "http://127.0.0.1:4000/error"),
            ("pagecon_url", "http://127.0.0.1:4000/notify"),
            ("free1", "a&b=c"),
            ("request_date", "20261123090000"),
            ("limit_second", "600"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    }

    fn signed(mut form: Vec<(String, String)>) -> Vec<(String, String)> {
        let h = form_hashcode(KEY, FIELDS.iter().filter_map(|f| form.iter().find(|(n, _)| n == f).map(|(n, v)| (n.as_str(), v.as_str()))));
        form.push(("hashcode".into(), h));
        form
    }

    fn set(form: &mut [(String, String)], name: &str, value: &str) {
        form.iter_mut().find(|(n, _)| n == name).unwrap().1 = value.to_string();
    }

    fn now() -> UnixTime {
        JstDateTime::parse_compact("20261123090100").unwrap().to_unix()
    }

    fn origins() -> Vec<OriginRule> {
        vec![OriginRule::parse("http://127.0.0.1").unwrap(), OriginRule::parse("http://localhost").unwrap()]
    }

    #[test]
    fn a_good_request_parses_and_authenticates() {
        let req = PurchaseRequest::parse(&signed(base())).unwrap();
        assert_eq!(req.amount, Yen::new(1100));
        assert_eq!(req.pay_method, vec![Method::Netcash]);
        assert_eq!(req.terminal_type, None);
        assert_eq!(req.authenticate(&[KEY], &origins(), now()), Ok(()));
        assert_eq!(req.expires_at(), JstDateTime::parse_compact("20261123091000").unwrap().to_unix());
        assert!(req.canonical.starts_with("merchant_id=99999&service_id=001&cust_code=cust-1&order_id="));
        assert!(req.canonical.contains("&item_name=%E7%B7%91%E8%8C%B6%20200g&"));
        assert!(req.canonical.contains("&terminal_type=&"), "present empty fields are signed");
        assert!(!req.canonical.contains("free2"), "absent fields are not");
    }

    #[test]
    fn field_order_in_the_form_does_not_matter_but_signing_order_does() {
        let mut form = signed(base());
        form.reverse();
        let req = PurchaseRequest::parse(&form).unwrap();
        assert_eq!(req.authenticate(&[KEY], &origins(), now()), Ok(()));
    }

    #[test]
    fn a_field_boundary_shift_is_refused() {
        // Move one character from order_id into item_id: raw concatenation
        // is unchanged, our canonical string is not.
        let mut form = signed(base());
        set(&mut form, "order_id", "ord-20261123-000");
        set(&mut form, "item_id", "1tea-200");
        let req = PurchaseRequest::parse(&form).unwrap();
        assert_eq!(req.authenticate(&[KEY], &origins(), now()), Err(PurchaseError::BadSignature));
    }

    #[test]
    fn syntax_refusals() {
        let cases: &[(&str, &str, &str)] = &[
            ("amount", "0", "invalid_field"),
            ("amount", "-100", "invalid_field"),
            ("amount", "1100.0", "invalid_field"),
            ("amount", "10000000", "invalid_field"),
            ("amount", "", "missing_field"),
            ("tax", "1101", "invalid_field"),
            ("pay_method", "netcash,bitcoin", "invalid_field"),
            ("pay_method", "netcash,netcash", "invalid_field"),
            ("pay_type", "weekly", "invalid_field"),
            ("sales_mode", "later", "invalid_field"),
            ("terminal_type", "tablet", "invalid_field"),
            ("success_url", "javascript:alert(1)", "invalid_field"),
            ("error_url", "//evil.example/", "invalid_field"),
            ("request_date", "2026-11-23", "invalid_field"),
            ("request_date", "20261131090000", "invalid_field"),
            ("limit_second", "3601", "invalid_field"),
            ("limit_second", "10", "invalid_field"),
            ("order_id", "order 1", "invalid_field"),
            ("order_id", "", "missing_field"),
            ("merchant_id", "", "missing_field"),
            ("item_name", "tea\u{0}", "invalid_field"),
        ];
        for (field, value, code) in cases {
            let mut form = base();
            set(&mut form, field, value);
            let err = PurchaseRequest::parse(&signed(form)).unwrap_err();
            assert_eq!(err.code(), *code, "{field}={value:?}: {err}");
        }
    }

    #[test]
    fn structural_refusals() {
        let mut form = signed(base());
        form.push(("color".into(), "red".into()));
        assert_eq!(PurchaseRequest::parse(&form).unwrap_err(), PurchaseError::UnknownField("color".into()));

        let mut form = signed(base());
        form.push(("amount".into(), "1".into()));
        assert_eq!(PurchaseRequest::parse(&form).unwrap_err(), PurchaseError::DuplicateField("amount"));

        let mut form = base();
        form.push(("hashcode".into(), "ABC".into()));
        assert_eq!(PurchaseRequest::parse(&form).unwrap_err().code(), "invalid_field");

        assert_eq!(PurchaseRequest::parse(&base()).unwrap_err(), PurchaseError::Missing("hashcode"));
    }

    #[test]
    fn authentication_refusals() {
        let req = PurchaseRequest::parse(&signed(base())).unwrap();
        assert_eq!(req.authenticate(&[b"other-key"], &origins(), now()), Err(PurchaseError::BadSignature));
        assert_eq!(req.authenticate(&[b"other-key", KEY], &origins(), now()), Ok(()), "a rotated key still verifies");
        assert_eq!(req.authenticate(&[KEY], &origins(), now().plus_seconds(600)), Err(PurchaseError::Stale));
        assert_eq!(req.authenticate(&[KEY], &origins(), now().plus_seconds(-400)), Err(PurchaseError::FromTheFuture));
        let shop_only = [OriginRule::parse("https://shop.example").unwrap()];
        assert_eq!(req.authenticate(&[KEY], &shop_only, now()), Err(PurchaseError::UrlNotAllowed("success_url")));

        let mut form = signed(base());
        set(&mut form, "amount", "110");
        let tampered = PurchaseRequest::parse(&form).unwrap();
        assert_eq!(tampered.authenticate(&[KEY], &origins(), now()), Err(PurchaseError::BadSignature));
    }
}
