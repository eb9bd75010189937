//! The purchase form (`POST /link/purchase`): the raw
//! `application/x-www-form-urlencoded` body through the Worker's
//! `util::parse_form`, then `PurchaseRequest::parse` and `authenticate`;
//! and the same parser over structured pairs whose names are mostly the
//! real field names (so the field validations, not only the name check,
//! are reached), re-signed so the checks after the signature run too.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use shared::purchase::{PurchaseRequest, FIELDS};
use shared::signing::hmac_sha256;
use shared::time::UnixTime;
use shared::url::OriginRule;

const KEY: &[u8] = b"kessai-sandbox-hash-key";

fn check(form: &[(String, String)], resign: bool, now: UnixTime) {
    let origins = [OriginRule::parse("http://127.0.0.1").unwrap(), OriginRule::parse("http://localhost").unwrap()];
    if let Ok(mut req) = PurchaseRequest::parse(form) {
        if resign {
            req.hashcode = shared::signing::hex(&hmac_sha256(KEY, req.canonical.as_bytes()));
        }
        let _ = req.authenticate(&[KEY], &origins, now);
        let _ = req.expires_at();
        let _ = format!("{:?}", req.amount);
    }
}

fuzz_target!(|data: &[u8]| {
    // 1. The body as the Worker reads it (lossy UTF-8, like `Request::text`).
    let body = String::from_utf8_lossy(data);
    if let Some(pairs) = edge::util::parse_form(&body) {
        // 2026-11-23 09:01 JST, the unit tests' "now".
        check(&pairs, false, UnixTime(1_795_392_060));
        check(&pairs, true, UnixTime(1_795_392_060));
    }
    // 2. Structured pairs.
    let mut u = Unstructured::new(data);
    let mut pairs = Vec::new();
    while !u.is_empty() && pairs.len() < 32 {
        let Ok(pick) = u8::arbitrary(&mut u) else { break };
        let name = match pick as usize {
            i if i < FIELDS.len() * 10 => FIELDS[i % FIELDS.len()].to_string(),
            i if i < 240 => "hashcode".to_string(),
            _ => String::arbitrary(&mut u).unwrap_or_default(),
        };
        let value = String::arbitrary(&mut u).unwrap_or_default();
        pairs.push((name, value));
    }
    let now = UnixTime(1_795_392_060 + i64::from(i16::arbitrary(&mut u).unwrap_or(0)) * 60);
    check(&pairs, true, now);
});
