//! Providers' notifications to us: NP's Standard Webhooks screening
//! notifications (`connectors::np::read_notification`, which verifies
//! first and then reads, and `claimed`, which reads an unverified one only
//! to know whom to ask). The input is the body: read unverified, with
//! arbitrary headers taken from its tail, and signed properly (so the
//! reading after the signature check is reached): a properly signed body
//! is never refused as unverified, and an accepted notification is what
//! `claimed` reads too. The NET CASH / au notifications' header check
//! (`signing::verify_api_signature`, as `connectors::verify_signed` calls
//! it) runs over the same input.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use edge::connectors::np::{claimed, read_notification, NotificationError};
use libfuzzer_sys::fuzz_target;
use shared::webhooks::WebhookSecret;

// The NP sandbox's notification secret (edge-worker/wrangler.toml, the unit tests).
const SECRET: &str = "whsec_a2Vzc2FpLW5wLXNhbmRib3gtbm90aWZ5LXNlY3JldC0wMQ==";
const NOW: i64 = 1_795_392_060;

#[derive(Arbitrary, Debug)]
struct Headers {
    webhook_id: String,
    timestamp: String,
    signature: String,
    skew: i16,
}

fuzz_target!(|data: &[u8]| {
    let claim = claimed(data);
    // Signed as NP signs it.
    let secret = WebhookSecret::parse(SECRET).unwrap();
    let sig = secret.sign("ntf_fuzz", NOW, data);
    match read_notification(SECRET, "ntf_fuzz", &NOW.to_string(), &sig, data, NOW + 10) {
        Ok(n) => assert_eq!(claim.as_ref(), Some(&n)),
        Err(NotificationError::Unverified(e)) => panic!("a properly signed notification was refused: {e:?}"),
        Err(NotificationError::Unreadable(_)) => {}
    }
    // Arbitrary headers (from the input's tail, so the body stays a seed).
    let tail = &data[data.len().saturating_sub(64)..];
    if let Ok(h) = Headers::arbitrary(&mut Unstructured::new(tail)) {
        let r = read_notification(SECRET, &h.webhook_id, &h.timestamp, &h.signature, data, NOW + i64::from(h.skew));
        if let Ok(n) = r {
            assert_eq!(claim.as_ref(), Some(&n));
        }
        let _ = shared::signing::verify_api_signature(b"netcash-secret", NOW, "POST", "/provider/netcash/notify", data, &h.signature);
    }
});
