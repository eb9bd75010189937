//! HMAC-SHA256 signatures: the canonical form hashcode (purchase requests
//! and return forms), the merchant API request signature, and the
//! constant-time comparisons that check them.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `msg` under `key`.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    Sha256::digest(data).into()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let val = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    s.as_bytes().chunks(2).map(|p| Some(val(p[0])? << 4 | val(p[1])?)).collect()
}

/// Checks a lowercase-hex HMAC-SHA256 tag in constant time (the comparison
/// does not stop at the first differing byte).
pub fn verify_hex_mac(key: &[u8], msg: &[u8], given_hex: &str) -> bool {
    let Some(given) = unhex(given_hex) else { return false };
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.verify_slice(&given).is_ok()
}

/// Constant-time equality of two byte strings of the same length.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Percent-encodes everything except RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`), bytes of UTF-8, upper-case hex.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(b"0123456789ABCDEF"[(b >> 4) as usize] as char);
            out.push(b"0123456789ABCDEF"[(b & 15) as usize] as char);
        }
    }
    out
}

/// The canonical string of a signed form: `name=value` pairs, each value
/// percent-encoded, joined by `&`, in the order given (which callers take
/// from the form's field list, never from the request).
pub fn canonical_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    out
}

/// The `hashcode` of a form: lowercase hex HMAC-SHA256 of its canonical
/// string.
pub fn form_hashcode<'a>(key: &[u8], pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    hex(&hmac_sha256(key, canonical_string(pairs).as_bytes()))
}

/// The string a merchant API request signature covers.
pub fn api_signing_string(timestamp: i64, method: &str, path_and_query: &str, body: &[u8]) -> Vec<u8> {
    let mut s = format!("{timestamp}.{}.{path_and_query}.", method.to_ascii_uppercase()).into_bytes();
    s.extend_from_slice(body);
    s
}

/// `X-Kessai-Signature` value: `v1=<hex HMAC-SHA256>`.
pub fn api_signature(key: &[u8], timestamp: i64, method: &str, path_and_query: &str, body: &[u8]) -> String {
    format!("v1={}", hex(&hmac_sha256(key, &api_signing_string(timestamp, method, path_and_query, body))))
}

/// Checks a `v1=<hex>` request signature in constant time.
pub fn verify_api_signature(key: &[u8], timestamp: i64, method: &str, path_and_query: &str, body: &[u8], given: &str) -> bool {
    match given.strip_prefix("v1=") {
        Some(hex_tag) => verify_hex_mac(key, &api_signing_string(timestamp, method, path_and_query, body), hex_tag),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved() {
        assert_eq!(percent_encode("aZ09-._~"), "aZ09-._~");
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(percent_encode("緑茶"), "%E7%B7%91%E8%8C%B6");
    }

    #[test]
    fn canonical_string_vector() {
        let s = canonical_string([("merchant_id", "99999"), ("item_name", "Green tea & cup"), ("free1", "")]);
        assert_eq!(s, "merchant_id=99999&item_name=Green%20tea%20%26%20cup&free1=");
    }

    #[test]
    fn field_boundary_shift_changes_the_hashcode() {
        // SBPS concatenates raw values: "12" + "3" and "1" + "23" both give
        // "123", so a signature over one also covers the other. Ours names
        // each field and encodes each value, so the shift is refused.
        let key = b"kessai-sandbox-hash-key";
        let a = form_hashcode(key, [("order_id", "12"), ("item_id", "3")]);
        let b = form_hashcode(key, [("order_id", "1"), ("item_id", "23")]);
        let raw_a: String = ["12", "3"].concat();
        let raw_b: String = ["1", "23"].concat();
        assert_eq!(raw_a, raw_b, "raw concatenation cannot tell them apart");
        assert_ne!(a, b);
        // A value that tries to smuggle a separator is encoded away.
        let c = form_hashcode(key, [("order_id", "1&item_id=23")]);
        let d = form_hashcode(key, [("order_id", "1"), ("item_id", "23")]);
        assert_ne!(c, d);
    }

    #[test]
    fn verify_hex_mac_accepts_only_the_exact_tag() {
        let key = b"k";
        let tag = hex(&hmac_sha256(key, b"msg"));
        assert!(verify_hex_mac(key, b"msg", &tag));
        assert!(!verify_hex_mac(key, b"msh", &tag));
        assert!(!verify_hex_mac(key, b"msg", &tag.to_uppercase()));
        assert!(!verify_hex_mac(key, b"msg", &tag[..62]));
        assert!(!verify_hex_mac(key, b"msg", ""));
        assert!(!verify_hex_mac(b"K", b"msg", &tag));
    }

    #[test]
    fn api_signature_vector() {
        let sig = api_signature(b"kessai-sandbox-hash-key", 1_795_392_000, "post", "/v1/payments/pay_1/refund?x=1", b"{\"amount\":100}");
        let expected = hex(&hmac_sha256(
            b"kessai-sandbox-hash-key",
            b"1795392000.POST./v1/payments/pay_1/refund?x=1.{\"amount\":100}",
        ));
        assert_eq!(sig, format!("v1={expected}"));
        let key = b"kessai-sandbox-hash-key";
        let path = "/v1/payments/pay_1/refund?x=1";
        assert!(verify_api_signature(key, 1_795_392_000, "POST", path, b"{\"amount\":100}", &sig));
        assert!(!verify_api_signature(key, 1_795_392_001, "POST", path, b"{\"amount\":100}", &sig));
        assert!(!verify_api_signature(key, 1_795_392_000, "GET", path, b"{\"amount\":100}", &sig));
        assert!(!verify_api_signature(key, 1_795_392_000, "POST", "/v1/payments/pay_2/refund?x=1", b"{\"amount\":100}", &sig));
        assert!(!verify_api_signature(key, 1_795_392_000, "POST", path, b"{\"amount\":101}", &sig));
        assert!(!verify_api_signature(key, 1_795_392_000, "POST", path, b"{\"amount\":100}", &sig[3..]));
    }
}
