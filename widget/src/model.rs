//! What the Worker sends to the page: `GET /pay/{id}/session` and the
//! answers of the payment and cancel endpoints. Plain data, no I/O.

use shared::money::Yen;

use crate::json::Json;

/// A payment's status as the server names it. Statuses this page does not
/// know are kept as `Unknown` and treated as final.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Processing,
    Paid,
    Authorized,
    Failed,
    Cancelled,
    Expired,
    RefundRequired,
    /// NP postpay: the order waits for the screening result.
    Held,
    /// au: the shopper continues on the provider's page (`redirect_url`).
    Redirect,
    RejectedByMerchant,
    /// A recurring registration that charged nothing.
    Registered,
    Unknown(String),
}

impl From<&str> for Status {
    fn from(s: &str) -> Status {
        match s {
            "pending" => Status::Pending,
            "processing" | "reconciling" => Status::Processing,
            "paid" => Status::Paid,
            "authorized" => Status::Authorized,
            "failed" => Status::Failed,
            "cancelled" => Status::Cancelled,
            "expired" => Status::Expired,
            "refund_required" => Status::RefundRequired,
            "held" => Status::Held,
            "redirect" => Status::Redirect,
            "rejected_by_merchant" => Status::RejectedByMerchant,
            "registered" => Status::Registered,
            _ => Status::Unknown(s.to_owned()),
        }
    }
}

/// A payment method offered by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    Netcash,
    Prepaid,
    Np,
    Au,
    Card,
    Other(String),
}

impl From<&str> for Method {
    fn from(s: &str) -> Method {
        match s {
            "netcash" => Method::Netcash,
            "prepaid" => Method::Prepaid,
            "np" => Method::Np,
            "au" => Method::Au,
            "card" => Method::Card,
            _ => Method::Other(s.to_owned()),
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
}

/// One entry of `session.methods`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodEntry {
    pub method: Method,
    pub available: bool,
    /// Why an unavailable method is unavailable (`"maintenance"`).
    pub reason: Option<String>,
}

/// `{"code": "..."}` as found in `session.last_error`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorRef {
    pub code: String,
}

/// `GET /pay/{id}/session`.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    pub last_error: Option<ErrorRef>,
    pub next: Option<String>,
    /// `recurring_simple` or `recurring_fixed` for a subscription's checkout.
    pub recurring: Option<String>,
    /// What this checkout charges now (a registration may charge nothing).
    pub charge_now: Yen,
}

/// Reads an answer of the Worker (`None`: not what the contract says).
pub trait FromJson: Sized {
    fn from_value(v: &Json) -> Option<Self>;

    fn from_json(text: &str) -> Option<Self> {
        Self::from_value(&Json::parse(text)?)
    }
}

fn string(v: &Json) -> Option<String> {
    v.str().map(str::to_owned)
}

fn yen(v: &Json) -> Option<Yen> {
    v.int().and_then(|n| u64::try_from(n).ok()).map(Yen::new)
}

/// An optional, same-origin `next` (anything else reads as absent).
fn next(v: &Json) -> Option<String> {
    v.get("next")
        .str()
        .filter(|u| is_safe_next(u))
        .map(str::to_owned)
}

fn error_ref(v: &Json) -> Option<ErrorRef> {
    v.get("code").str().map(|c| ErrorRef { code: c.to_owned() })
}

impl FromJson for Session {
    fn from_value(v: &Json) -> Option<Session> {
        let methods = v
            .get("methods")
            .arr()?
            .iter()
            .map(|m| {
                Some(MethodEntry {
                    method: Method::from(m.get("method").str()?),
                    available: m.get("available").bool()?,
                    reason: string(m.get("reason")),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Session {
            payment_id: string(v.get("payment_id"))?,
            merchant_name: string(v.get("merchant_name"))?,
            item_name: string(v.get("item_name"))?,
            amount: yen(v.get("amount"))?,
            tax: yen(v.get("tax")).unwrap_or_default(),
            status: Status::from(v.get("status").str()?),
            methods,
            expires_at: v.get("expires_at").int()?,
            now: v.get("now").int()?,
            last_error: error_ref(v.get("last_error")),
            next: next(v),
            recurring: string(v.get("recurring")),
            charge_now: yen(v.get("charge_now")).unwrap_or(yen(v.get("amount"))?),
        })
    }
}

impl Session {
    /// Seconds left before the page expires, by the server's clock.
    pub fn seconds_left(&self) -> i64 {
        (self.expires_at - self.now).max(0)
    }
}

/// 200 answer of `POST /pay/{id}/<method>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayOk {
    pub status: Status,
    pub next: Option<String>,
    /// With `"status":"redirect"` (au): where the whole page goes next, an
    /// absolute http(s) URL (anything else reads as absent).
    pub redirect: Option<String>,
}

impl FromJson for PayOk {
    fn from_value(v: &Json) -> Option<PayOk> {
        Some(PayOk {
            status: Status::from(v.get("status").str()?),
            next: next(v),
            redirect: v
                .get("redirect_url")
                .str()
                .filter(|u| is_safe_redirect(u))
                .map(str::to_owned),
        })
    }
}

/// A failed request: the server's error code (or `network`, `internal`
/// when the answer could not be read) and, when the payment is over, where
/// to send the shopper.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ApiError {
    pub code: String,
    pub next: Option<String>,
    /// Field problems (`invalid_buyer`): `(field, code)` as the server
    /// names them (`("kana", "katakana")`).
    pub fields: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(code: &str) -> ApiError {
        ApiError {
            code: code.to_owned(),
            ..ApiError::default()
        }
    }
}

/// Non-2xx body: `{"error":{"code":"...","message":"...","fields":[...]},"next":null}`.
impl FromJson for ApiError {
    fn from_value(v: &Json) -> Option<ApiError> {
        let error = v.get("error");
        Some(ApiError {
            code: error_ref(error)?.code,
            next: next(v),
            fields: error
                .get("fields")
                .arr()
                .unwrap_or_default()
                .iter()
                .filter_map(|f| Some((string(f.get("field"))?, string(f.get("code"))?)))
                .collect(),
        })
    }
}

/// 200 answer of `POST /pay/{id}/cancel`: `{"next": "/pay/x/return"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Next(pub String);

impl FromJson for Next {
    fn from_value(v: &Json) -> Option<Next> {
        next(v).map(Next)
    }
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

/// Where the whole page may be sent by a provider step (au): an absolute
/// `http://` or `https://` URL with a host, nothing else (`javascript:`,
/// `data:`, `//host`, relative paths and control characters are refused).
pub fn is_safe_redirect(url: &str) -> bool {
    let b = url.as_bytes();
    let scheme = if b.len() > 8 && b[..8].eq_ignore_ascii_case(b"https://") {
        8
    } else if b.len() > 7 && b[..7].eq_ignore_ascii_case(b"http://") {
        7
    } else {
        return false;
    };
    !matches!(b[scheme], b'/' | b'\\' | b'?' | b'#' | b'@')
        && !b.iter().any(|&c| c <= b' ' || c == 0x7f || c == b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;
    // Also run them in the browser under `cargo test --target wasm32-unknown-unknown`.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

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
        let s = Session::from_json(&SAMPLE.replace(
            "\"last_error\":null",
            "\"last_error\":{\"code\":\"insufficient_balance\"}",
        ))
        .unwrap();
        assert_eq!(
            s.last_error,
            Some(ErrorRef {
                code: "insufficient_balance".into()
            })
        );
    }

    #[test]
    fn refuses_answers_outside_the_contract() {
        for (from, to) in [
            ("\"amount\":1100", "\"amount\":-1"),
            ("\"amount\":1100", "\"amount\":1100.5"),
            ("\"amount\":1100", "\"amount\":\"1100\""),
            ("\"merchant_name\":\"Kessai Sandbox Shop\",", ""),
            ("\"available\":true", "\"available\":1"),
            ("\"now\":1789999400", "\"now\":null"),
        ] {
            assert!(SAMPLE.contains(from));
            assert_eq!(Session::from_json(&SAMPLE.replace(from, to)), None, "{to}");
        }
        assert_eq!(Session::from_json("<html>"), None);
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
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "pay/x",
            "/a\nb",
        ] {
            assert!(!is_safe_next(bad), "{bad:?}");
        }
        let p = PayOk::from_json(r#"{"status":"paid","next":"https://evil.example"}"#).unwrap();
        assert_eq!(p.next, None);
        let p = PayOk::from_json(r#"{"status":"paid","next":"/pay/x/return"}"#).unwrap();
        assert_eq!(p.next.as_deref(), Some("/pay/x/return"));
    }

    #[test]
    fn redirects_go_to_http_urls_only() {
        for ok in [
            "http://127.0.0.1:8787/sandbox/au/login?t=1",
            "https://connect.auone.jp/x",
            "HTTPS://Example.jp",
        ] {
            assert!(is_safe_redirect(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "//evil.example",
            "/pay/x",
            "http://",
            "https:///path",
            "http:\\\\evil",
            "https://a b",
            "https://a\nb",
            "ftp://x",
            "",
        ] {
            assert!(!is_safe_redirect(bad), "{bad:?}");
        }
        let p = PayOk::from_json(
            r#"{"status":"redirect","redirect_url":"http://127.0.0.1/sandbox/au/s1","next":null}"#,
        )
        .unwrap();
        assert_eq!(p.status, Status::Redirect);
        assert_eq!(p.redirect.as_deref(), Some("http://127.0.0.1/sandbox/au/s1"));
        let p = PayOk::from_json(r#"{"status":"redirect","redirect_url":"javascript:x"}"#).unwrap();
        assert_eq!(p.redirect, None);
    }

    #[test]
    fn reads_field_problems() {
        let e = ApiError::from_json(
            r#"{"error":{"code":"invalid_buyer","message":"x","fields":[{"field":"kana","code":"katakana"},{"field":"phone"}]},"next":null}"#,
        )
        .unwrap();
        assert_eq!(e.code, "invalid_buyer");
        assert_eq!(e.fields, vec![("kana".to_string(), "katakana".to_string())]);
    }
}
