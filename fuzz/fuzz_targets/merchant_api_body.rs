//! Merchant API bodies: `money::amount_in_body` (capture, refund: a JSON
//! object with only the allowed fields and an optional integer `amount`)
//! under every field set the API uses; an amount it returns is always
//! within 1..=MAX_YEN. Also the API's signature check over arbitrary
//! headers (`signing::verify_api_signature`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::money::{amount_in_body, Yen};

fuzz_target!(|data: &[u8]| {
    for allowed in [&["amount"][..], &["amount", "reason"][..], &[][..]] {
        if let Ok(Some(y)) = amount_in_body(data, allowed) {
            assert!(y >= Yen::new(1) && y <= Yen::new(shared::money::MAX_YEN), "{y:?}");
        }
    }
    // The signature header, timestamp and path come from outside too.
    if let Some((head, body)) = data.split_first() {
        let split = (*head as usize).min(body.len());
        let (sig, rest) = body.split_at(split);
        let sig = String::from_utf8_lossy(sig);
        let _ = shared::signing::verify_api_signature(b"kessai-sandbox-hash-key", 1_795_392_060, "POST", "/v1/payments/x/capture", rest, &sig);
    }
});
