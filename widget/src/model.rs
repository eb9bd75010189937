//! What the Worker sends to the page: `GET /pay/{id}/session` and the
//! answers of the payment and cancel endpoints. Plain data, no I/O.

use serde::{Deserialize, Deserializer};
use shared::money::Yen;

/// A payment's status as the server names it. Statuses this page does not
/// know are kept as `Unknown` and treated as final.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum Status {
    Pending,
    Processing,
    Paid,
    Authorized,
    Failed,
    Cancelled,
    Expired,
    RefundRequired,
    Unknown(String),
}

impl From<String> for Status {
    fn from(s: String) -> Status {
        match s.as_str() {
            "pending" => Status::Pending,
            "processing" => Status::Processing,
            "paid" => Status::Paid,
            "authorized" => Status::Authorized,
            "failed" => Status::Failed,
            "cancelled" => Status::Cancelled,
            "expired" => Status::Expired,
            "refund_required" => Status::RefundRequired,
            _ => Status::Unknown(s),
        }
    }
}

/// A payment method offered by the server.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum Method {
    Netcash,
    Prepaid,
    Np,
    Au,
    Card,
    Other(String),
}

impl From<String> for Method {
    fn from(s: String) -> Method {
        match s.as_str() {
            "netcash" => Method::Netcash,
            "prepaid" => Method::Prepaid,
            "np" => Method::Np,
            "au" => Method::Au,
            "card" => Method::Card,
            _ => Method::Other(s),
        }
    }
}

impl Method {
    /// The wire name, also used in element ids (`method-netcash`).
    pub fn key(&self) -> &str {
        match self {
            Method::Netcash => "netcash",
            Method::Prepaid => "prepaid",
            Method::Np => "np",
            Method::Au => "au",
            Method::Card => "card",
            Method::Other(s) => s,
        }
    }

    /// Whether this page has an entry form for the method.
    pub fn has_form(&self) -> bool {
        matches!(self, Method::Netcash)
    }
}

/// One entry of `session.methods`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct MethodEntry {
    pub method: Method,
    pub available: bool,
    /// Why an unavailable method is unavailable (`"maintenance"`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `{"code": "..."}` as found in `session.last_error`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ErrorRef {
    pub code: String,
}

/// `GET /pay/{id}/session`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Session {
    pub payment_id: String,
    pub merchant_name: String,
    pub item_name: String,
    /// Tax included.
    pub amount: Yen,
    pub tax: Yen,
    pub status: Status,
    pub methods: Vec<MethodEntry>,
    /// Unix seconds, server clock.
    pub expires_at: i64,
    /// Unix seconds, server clock, when the session was read.
    pub now: i64,
    #[serde(default)]
    pub last_error: Option<ErrorRef>,
    #[serde(default, deserialize_with = "de_next")]
    pub next: Option<String>,
}

impl Session {
    pub fn from_json(json: &str) -> Result<Session, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// Seconds left before the page expires, by the server's clock.
    pub fn seconds_left(&self) -> i64 {
        (self.expires_at - self.now).max(0)
    }
}

/// 200 answer of `POST /pay/{id}/netcash`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PayOk {
    pub status: Status,
    #[serde(default, deserialize_with = "de_next")]
    pub next: Option<String>,
}

/// A failed request: the server's error code (or `network`, `internal`
/// when the answer could not be read) and, when the payment is over, where
/// to send the shopper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub code: String,
    pub next: Option<String>,
}

impl ApiError {
    pub fn new(code: &str) -> ApiError {
        ApiError {
            code: code.to_owned(),
            next: None,
        }
    }
}

/// Non-2xx body: `{"error":{"code":"...","message":"..."},"next":null}`.
#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    pub error: ErrorRef,
    #[serde(default, deserialize_with = "de_next")]
    pub next: Option<String>,
}

/// 200 answer of `POST /pay/{id}/cancel`.
#[derive(Deserialize)]
pub(crate) struct NextBody {
    #[serde(default, deserialize_with = "de_next")]
    pub next: Option<String>,
}

/// Only same-origin paths are followed (`/pay/x/return`); anything else
/// (`https://…`, `//host`, `/\host`, `javascript:`) is dropped, so a bad or
/// tampered answer can never turn the page into an open redirect.
pub fn is_safe_next(url: &str) -> bool {
    let b = url.as_bytes();
    b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/') | Some(b'\\'))
        && !url.chars().any(|c| c.is_control())
}

fn de_next<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let next: Option<String> = Option::deserialize(d)?;
    Ok(next.filter(|u| is_safe_next(u)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"payment_id":"pay_x","merchant_name":"Kessai Sandbox Shop","item_name":"Green tea 200g","amount":1100,"tax":100,
 "status":"pending","methods":[{"method":"netcash","available":true},{"method":"au","available":false,"reason":"maintenance"},{"method":"zzz","available":true}],
 "expires_at":1790000000,"now":1789999400,"last_error":null,"next":null}"#;

    #[test]
    fn reads_the_session_contract() {
        let s = Session::from_json(SAMPLE).unwrap();
        assert_eq!(s.amount, Yen::new(1100));
        assert_eq!(s.tax, Yen::new(100));
        assert_eq!(s.status, Status::Pending);
        assert_eq!(s.seconds_left(), 600);
        assert_eq!(s.methods[0].method, Method::Netcash);
        assert_eq!(s.methods[1].reason.as_deref(), Some("maintenance"));
        assert_eq!(s.methods[2].method, Method::Other("zzz".into()));
        assert_eq!(s.last_error, None);
        assert_eq!(s.next, None);
    }

    #[test]
    fn unknown_status_is_kept() {
        let s = Session::from_json(&SAMPLE.replace("\"pending\"", "\"chargeback\"")).unwrap();
        assert_eq!(s.status, Status::Unknown("chargeback".into()));
    }

    #[test]
    fn only_same_origin_paths_are_followed() {
        for ok in ["/pay/pay_x/return", "/"] {
            assert!(is_safe_next(ok), "{ok}");
        }
        for bad in ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", "", "pay/x", "/a\nb"] {
            assert!(!is_safe_next(bad), "{bad:?}");
        }
        let p: PayOk = serde_json::from_str(r#"{"status":"paid","next":"https://evil.example"}"#).unwrap();
        assert_eq!(p.next, None);
        let p: PayOk = serde_json::from_str(r#"{"status":"paid","next":"/pay/x/return"}"#).unwrap();
        assert_eq!(p.next.as_deref(), Some("/pay/x/return"));
    }
}
