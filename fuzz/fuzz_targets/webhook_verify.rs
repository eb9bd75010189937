//! The Standard Webhooks verifier (`shared::webhooks`), as the merchant's
//! side (and NP's notifications to us) use it: secret parsing, and
//! `verify` over arbitrary `webhook-id`, `webhook-timestamp`,
//! `webhook-signature` headers and payloads; a message we sign verifies
//! (alone or among other signatures, within the tolerance) and a changed
//! payload does not.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use shared::webhooks::WebhookSecret;

const SANDBOX: &str = "whsec_a2Vzc2FpLXNhbmRib3gtd2ViaG9vay1zZWNyZXQtMDE=";

#[derive(Arbitrary, Debug)]
struct Input {
    secret: String,
    msg_id: String,
    timestamp: String,
    signatures: String,
    payload: Vec<u8>,
    now: i64,
    skew: i16,
    secret_bytes: Vec<u8>,
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = WebhookSecret::parse(&text);
    let Ok(i) = Input::arbitrary(&mut Unstructured::new(data)) else { return };
    // `now` is our clock (up to 2100); everything else comes from outside.
    let now = i.now.rem_euclid(4_102_444_800);
    let sandbox = WebhookSecret::parse(SANDBOX).unwrap();
    if let Ok(s) = WebhookSecret::parse(&i.secret) {
        let _ = s.verify(&i.msg_id, &i.timestamp, &i.signatures, &i.payload, now);
        let _ = s.encoded();
    }
    let _ = sandbox.verify(&i.msg_id, &i.timestamp, &i.signatures, &i.payload, now);

    // Round trip.
    let ts = now + i64::from(i.skew) % 300;
    let secret = if i.secret_bytes.is_empty() { sandbox } else { WebhookSecret::from_bytes(i.secret_bytes.clone()) };
    assert!(WebhookSecret::parse(&secret.encoded()).is_ok());
    if i.msg_id.is_empty() {
        return;
    }
    let sig = secret.sign(&i.msg_id, ts, &i.payload);
    assert_eq!(secret.verify(&i.msg_id, &ts.to_string(), &sig, &i.payload, now), Ok(()));
    let several = format!("{} {sig}", i.signatures.replace(' ', ""));
    assert_eq!(secret.verify(&i.msg_id, &ts.to_string(), &several, &i.payload, now), Ok(()), "{several}");
    let mut other = i.payload.clone();
    other.push(0);
    assert!(secret.verify(&i.msg_id, &ts.to_string(), &sig, &other, now).is_err());
});
