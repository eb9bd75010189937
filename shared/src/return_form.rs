//! The form that sends the shopper back to the merchant (PRODUCT §3.5).

use crate::signing::form_hashcode;

/// The return form's signed fields, in signing order.
pub const FIELDS: [&str; 9] = [
    "merchant_id",
    "service_id",
    "order_id",
    "res_result",
    "res_pay_method",
    "res_tracking_id",
    "res_payment_date",
    "res_err_code",
    "res_date",
];

/// `res_result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResResult {
    Ok,
    Ng,
    /// The shopper cancelled.
    Cn,
}

impl ResResult {
    pub fn code(self) -> &'static str {
        match self {
            ResResult::Ok => "OK",
            ResResult::Ng => "NG",
            ResResult::Cn => "CN",
        }
    }
}

/// The values of a return form, before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnValues {
    pub merchant_id: String,
    pub service_id: String,
    pub order_id: String,
    pub result: ResResult,
    pub pay_method: String,
    pub tracking_id: String,
    /// `YYYYMMDDhhmmss` JST, empty unless paid.
    pub payment_date: String,
    pub err_code: String,
    /// `YYYYMMDDhhmmss` JST, when the form was made.
    pub date: String,
}

/// The form fields in order, `hashcode` last.
pub fn signed_fields(key: &[u8], v: &ReturnValues) -> Vec<(&'static str, String)> {
    let values = [
        v.merchant_id.as_str(),
        v.service_id.as_str(),
        v.order_id.as_str(),
        v.result.code(),
        v.pay_method.as_str(),
        v.tracking_id.as_str(),
        v.payment_date.as_str(),
        v.err_code.as_str(),
        v.date.as_str(),
    ];
    let hashcode = form_hashcode(key, FIELDS.iter().copied().zip(values.iter().copied()));
    let mut out: Vec<(&'static str, String)> = FIELDS.iter().copied().zip(values.iter().map(|s| s.to_string())).collect();
    out.push(("hashcode", hashcode));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{canonical_string, hex, hmac_sha256};

    #[test]
    fn return_form_vector() {
        let v = ReturnValues {
            merchant_id: "99999".into(),
            service_id: "001".into(),
            order_id: "ord-1".into(),
            result: ResResult::Ok,
            pay_method: "netcash".into(),
            tracking_id: "pay_abc".into(),
            payment_date: "20261123090102".into(),
            err_code: "".into(),
            date: "20261123090103".into(),
        };
        let fields = signed_fields(b"kessai-sandbox-hash-key", &v);
        let names: Vec<_> = fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(names[..9], FIELDS);
        assert_eq!(names[9], "hashcode");
        let canonical = "merchant_id=99999&service_id=001&order_id=ord-1&res_result=OK&res_pay_method=netcash&res_tracking_id=pay_abc&res_payment_date=20261123090102&res_err_code=&res_date=20261123090103";
        assert_eq!(canonical_string(fields[..9].iter().map(|(n, v)| (*n, v.as_str()))), canonical);
        assert_eq!(fields[9].1, hex(&hmac_sha256(b"kessai-sandbox-hash-key", canonical.as_bytes())));
    }
}
