//! Small helpers of the HTTP layer: ids, the clock, JSON answers, form
//! bodies, outgoing requests with a timeout.

use serde::Serialize;
use shared::time::UnixTime;
use worker::{Headers, Method, Request, RequestInit, Response};

/// The current time. The Worker's only clock; everything below takes the
/// time it returns as an argument.
pub fn now() -> UnixTime {
    UnixTime((js_sys::Date::now() / 1000.0).floor() as i64)
}

pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A random identifier: `prefix_` and 26 characters of Crockford base32
/// (130 bits).
pub fn new_id(prefix: &str) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut bytes = [0u8; 26];
    getrandom::fill(&mut bytes).expect("the Worker has a random source");
    let mut s = String::with_capacity(prefix.len() + 27);
    s.push_str(prefix);
    s.push('_');
    for b in bytes {
        s.push(ALPHABET[(b & 31) as usize] as char);
    }
    s
}

/// `n` random bytes from the Worker's random source.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the Worker has a random source");
    bytes
}

/// Whether `id` has the form of a payment id (`pay_` and 26 base32 letters).
pub fn valid_payment_id(id: &str) -> bool {
    id.strip_prefix("pay_")
        .is_some_and(|r| r.len() == 26 && r.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()))
}

/// A JSON answer with a status.
pub fn json<T: Serialize>(status: u16, body: &T) -> worker::Result<Response> {
    let mut r = Response::from_json(body)?.with_status(status);
    r.headers_mut().set("cache-control", "no-store")?;
    Ok(r)
}

/// Decodes an `application/x-www-form-urlencoded` body into its pairs, in
/// order, keeping duplicates (the caller refuses them).
pub fn parse_form(body: &str) -> Option<Vec<(String, String)>> {
    fn decode(s: &str) -> Option<String> {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = s.get(i + 1..i + 3)?;
                    out.push(u8::from_str_radix(hex, 16).ok()?);
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).ok()
    }
    if body.is_empty() {
        return Some(Vec::new());
    }
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(n)?, decode(v)?))
        })
        .collect()
}

/// What came back from an outgoing HTTP call.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct HttpOutcome {
    /// The HTTP status, if an answer arrived in time.
    pub status: Option<u16>,
    pub body: String,
    pub latency_ms: u32,
    /// Why no answer arrived (timeout, connection refused).
    pub error: Option<String>,
}

/// The most of an answer's body an outgoing call reads (64 KiB): the rest
/// is never read, and the answer counts as none (`status` `None`).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Sends a request and waits at most `timeout_ms` for the answer and its
/// body. Redirects are never followed (a 3xx is the answer), and at most
/// [`MAX_ANSWER_BYTES`] of the body are read (PRODUCT §10); a larger answer
/// counts as none.
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
    timeout_ms: u32,
) -> HttpOutcome {
    use futures_util::future::{select, Either};
    use futures_util::StreamExt;
    let started = now_ms();
    let call = async {
        let h = Headers::new();
        for (k, v) in headers {
            h.set(k, v)?;
        }
        let mut init = RequestInit::new();
        init.with_method(method).with_headers(h).with_redirect(worker::RequestRedirect::Manual);
        if let Some(b) = body {
            init.with_body(Some(wasm_bindgen::JsValue::from_str(&b)));
        }
        let req = Request::new_with_init(url, &init)?;
        let mut resp = worker::Fetch::Request(req).send().await?;
        let status = resp.status_code();
        let mut bytes = Vec::new();
        let mut too_large = false;
        if let Ok(mut stream) = resp.stream() {
            while let Some(chunk) = stream.next().await {
                // A body that breaks off reads as empty, as before.
                let Ok(chunk) = chunk else {
                    bytes.clear();
                    break;
                };
                if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                    bytes.extend_from_slice(&chunk[..MAX_ANSWER_BYTES - bytes.len()]);
                    too_large = true;
                    break;
                }
                bytes.extend_from_slice(&chunk);
            }
        }
        // Dropping the stream cancels the rest of the body.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Ok::<_, worker::Error>((status, text, too_large))
    };
    let timer = worker::Delay::from(std::time::Duration::from_millis(timeout_ms as u64));
    let result = select(Box::pin(call), Box::pin(timer)).await;
    let latency_ms = (now_ms() - started).max(0.0) as u32;
    match result {
        Either::Left((Ok((status, body, false)), _)) => HttpOutcome { status: Some(status), body, latency_ms, error: None },
        // Too large is no answer: unclear for a provider, no answer for a merchant.
        Either::Left((Ok((status, _, true)), _)) => HttpOutcome {
            status: None,
            body: String::new(),
            latency_ms,
            error: Some(format!("HTTP {status} answer over {MAX_ANSWER_BYTES} bytes, not read further")),
        },
        Either::Left((Err(e), _)) => HttpOutcome { status: None, body: String::new(), latency_ms, error: Some(e.to_string()) },
        Either::Right(_) => HttpOutcome {
            status: None,
            body: String::new(),
            latency_ms,
            error: Some(format!("no answer within {timeout_ms} ms")),
        },
    }
}

/// A short, single-line excerpt of an answer for logs and delivery records.
pub fn excerpt(s: &str) -> String {
    s.chars().take(200).map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The path (and query) of an absolute URL, as a signature covers it
/// (the sandboxes sign their notifications with it).
#[cfg(feature = "sandbox")]
pub fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    match rest.find('/') {
        Some(i) => rest[i..].to_string(),
        None => "/".to_string(),
    }
}
