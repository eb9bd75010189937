//! Standard Webhooks (<https://www.standardwebhooks.com/>) signing and
//! verification: `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>`.
//! Used for merchant webhooks, the synchronous result notification and the
//! sandboxes' notifications to us.

use base64::{engine::general_purpose::STANDARD as B64, Engine};

use crate::signing::{ct_eq, hmac_sha256};

/// How far a `webhook-timestamp` may be from now, in seconds.
pub const TOLERANCE_SECONDS: i64 = 300;

/// A webhook signing secret, the bytes behind `whsec_<base64>`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the secret is not whsec_<base64>")]
    BadSecret,
    #[error("a webhook header is missing")]
    MissingHeader,
    #[error("webhook-timestamp is not a number")]
    BadTimestamp,
    #[error("webhook-timestamp is outside the tolerance")]
    TimestampOutOfTolerance,
    #[error("no webhook-signature matches")]
    NoMatchingSignature,
}

impl WebhookSecret {
    /// Parses `whsec_<base64>` (the prefix is optional, as in the libraries).
    pub fn parse(s: &str) -> Result<Self, WebhookError> {
        let b64 = s.strip_prefix("whsec_").unwrap_or(s);
        let bytes = B64.decode(b64).map_err(|_| WebhookError::BadSecret)?;
        if bytes.is_empty() {
            return Err(WebhookError::BadSecret);
        }
        Ok(WebhookSecret(bytes))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        WebhookSecret(bytes)
    }

    /// `whsec_<base64>`.
    pub fn encoded(&self) -> String {
        format!("whsec_{}", B64.encode(&self.0))
    }

    fn mac(&self, msg_id: &str, timestamp: i64, payload: &[u8]) -> [u8; 32] {
        let mut content = format!("{msg_id}.{timestamp}.").into_bytes();
        content.extend_from_slice(payload);
        hmac_sha256(&self.0, &content)
    }

    /// The `webhook-signature` header value: `v1,<base64>`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, payload: &[u8]) -> String {
        format!("v1,{}", B64.encode(self.mac(msg_id, timestamp, payload)))
    }

    /// Verifies the three headers against the payload at time `now`.
    /// `signatures` may hold several space-separated `v1,<sig>` entries
    /// (secret rotation); any one matching is enough.
    pub fn verify(
        &self,
        msg_id: &str,
        timestamp: &str,
        signatures: &str,
        payload: &[u8],
        now: i64,
    ) -> Result<(), WebhookError> {
        if msg_id.is_empty() || timestamp.is_empty() || signatures.is_empty() {
            return Err(WebhookError::MissingHeader);
        }
        let ts: i64 = timestamp.parse().map_err(|_| WebhookError::BadTimestamp)?;
        // `abs_diff`: a timestamp far from `now` (e.g. i64::MIN) must not
        // overflow, nor wrap into the window.
        if now.abs_diff(ts) > TOLERANCE_SECONDS.unsigned_abs() {
            return Err(WebhookError::TimestampOutOfTolerance);
        }
        let expected = self.mac(msg_id, ts, payload);
        let mut ok = false;
        for entry in signatures.split(' ') {
            let Some(("v1", sig)) = entry.split_once(',') else { continue };
            if let Ok(given) = B64.decode(sig) {
                ok |= ct_eq(&given, &expected);
            }
        }
        if ok {
            Ok(())
        } else {
            Err(WebhookError::NoMatchingSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the webhook_verify fuzz target (fuzz/): `now - ts`
    /// overflowed for a timestamp far in the past (a panic with overflow
    /// checks; without them `ts = now + i64::MIN` wrapped into the window).
    #[test]
    fn extreme_timestamps_are_out_of_tolerance() {
        let s = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let now: i64 = 1_795_392_060;
        for ts in [i64::MIN, i64::MIN + 1, now.wrapping_add(i64::MIN), i64::MAX] {
            let sig = s.sign("msg_1", ts, b"{}");
            assert_eq!(s.verify("msg_1", &ts.to_string(), &sig, b"{}", now), Err(WebhookError::TimestampOutOfTolerance), "{ts}");
        }
        for now in [i64::MIN, i64::MAX] {
            assert_eq!(s.verify("msg_1", "0", "v1,AAAA", b"{}", now), Err(WebhookError::TimestampOutOfTolerance));
        }
    }

    /// The example from the Standard Webhooks specification / reference
    /// libraries' test suites.
    #[test]
    fn reference_vector() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn verify_checks_time_signature_and_payload() {
        let secret = WebhookSecret::parse("whsec_a2Vzc2FpLXNhbmRib3gtd2ViaG9vay1zZWNyZXQtMDE=").unwrap();
        let body = br#"{"type":"payment.result"}"#;
        let sig = secret.sign("evt_1", 1000, body);
        assert_eq!(secret.verify("evt_1", "1000", &sig, body, 1200), Ok(()));
        assert_eq!(secret.verify("evt_1", "1000", &format!("v1,AAAA {sig}"), body, 1000), Ok(()));
        assert_eq!(secret.verify("evt_1", "1000", &sig, body, 1301), Err(WebhookError::TimestampOutOfTolerance));
        assert_eq!(secret.verify("evt_2", "1000", &sig, body, 1000), Err(WebhookError::NoMatchingSignature));
        assert_eq!(secret.verify("evt_1", "1000", &sig, b"{}", 1000), Err(WebhookError::NoMatchingSignature));
        assert_eq!(secret.verify("evt_1", "x", &sig, body, 1000), Err(WebhookError::BadTimestamp));
        assert_eq!(secret.verify("", "1000", &sig, body, 1000), Err(WebhookError::MissingHeader));
        assert_eq!(secret.verify("evt_1", "1000", "v2,abc", body, 1000), Err(WebhookError::NoMatchingSignature));
    }

    #[test]
    fn the_sandbox_secret_decodes() {
        let s = WebhookSecret::parse("whsec_a2Vzc2FpLXNhbmRib3gtd2ViaG9vay1zZWNyZXQtMDE=").unwrap();
        assert_eq!(s.0, b"kessai-sandbox-webhook-secret-01");
        assert_eq!(format!("{s:?}"), "WebhookSecret(***)");
    }
}
