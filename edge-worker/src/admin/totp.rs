//! TOTP second factors (RFC 6238 over RFC 4226 HOTP): HMAC-SHA-1, 30-second
//! steps, 6 digits, one step either side accepted; a step once used is
//! refused again (replay). Pure: the time is an argument (the Worker's
//! business clock, so the sandbox clock moves it too). Secrets are 20
//! random bytes, shown to the user once as RFC 4648 base32.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;

/// RFC 4226 HOTP value of `counter`, `DIGITS` digits.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[offset] & 0x7f, h[offset + 1], h[offset + 2], h[offset + 3]]);
    bin % 10u32.pow(DIGITS)
}

/// The step a Unix time falls in.
pub fn step_of(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECONDS)
}

/// The code at a Unix time, zero-padded (tests; the Worker only verifies).
#[cfg_attr(not(test), allow(dead_code))]
pub fn code_at(secret: &[u8], unix: i64) -> String {
    format!("{:0width$}", hotp(secret, step_of(unix) as u64), width = DIGITS as usize)
}

/// Checks `code` at `now` (±1 step). Returns the matched step, which must
/// be later than `last_step` (a code is used once).
pub fn verify(secret: &[u8], code: &str, now: i64, last_step: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_of(now);
    let mut found = None;
    // Every candidate is computed (no early exit on a match).
    for step in [current - 1, current, current + 1] {
        if step < 0 {
            continue;
        }
        let candidate = format!("{:0width$}", hotp(secret, step as u64), width = DIGITS as usize);
        if shared::signing::ct_eq(candidate.as_bytes(), code.as_bytes()) && last_step.is_none_or(|l| step > l) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32, no padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            out.push(B32[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = B32.iter().position(|&x| x == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
        buf &= (1 << bits) - 1;
    }
    Some(out)
}

/// The `otpauth://` URI authenticator apps read (as a QR code or pasted).
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B (SHA-1 seed), last six digits of its 8-digit values.
    #[test]
    fn rfc6238_vectors() {
        let seed = b"12345678901234567890";
        for (t, code) in [(59, "287082"), (1111111109, "081804"), (1111111111, "050471"), (1234567890, "005924"), (2000000000, "279037"), (20000000000, "353130")] {
            assert_eq!(code_at(seed, t), code, "T = {t}");
        }
    }

    /// RFC 4226 appendix D.
    #[test]
    fn rfc4226_vectors() {
        let seed = b"12345678901234567890";
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (c, v) in expected.iter().enumerate() {
            assert_eq!(hotp(seed, c as u64), *v);
        }
    }

    #[test]
    fn one_step_either_side_once_each() {
        let seed = b"12345678901234567890";
        let now = 1111111111;
        assert_eq!(verify(seed, &code_at(seed, now), now, None), Some(step_of(now)));
        assert_eq!(verify(seed, &code_at(seed, now - 30), now, None), Some(step_of(now) - 1));
        assert_eq!(verify(seed, &code_at(seed, now + 30), now, None), Some(step_of(now) + 1));
        assert_eq!(verify(seed, &code_at(seed, now - 60), now, None), None, "two steps back");
        assert_eq!(verify(seed, &code_at(seed, now + 60), now, None), None, "two steps ahead");
        assert_eq!(verify(seed, &code_at(seed, now), now, Some(step_of(now))), None, "replayed");
        assert_eq!(verify(seed, "12345", now, None), None);
        assert_eq!(verify(seed, "abcdef", now, None), None);
    }

    #[test]
    fn base32_round_trip_and_rfc4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(b"f"), "MY");
        assert_eq!(base32_decode("MZXW6YTBOI======").unwrap(), b"foobar");
        let seed = [7u8; 20];
        assert_eq!(base32_decode(&base32_encode(&seed)).unwrap(), seed);
        assert_eq!(base32_decode("not base32!"), None);
        assert!(otpauth_uri("Kessai Link", "99999:admin", "MZXW6YTBOI").starts_with("otpauth://totp/Kessai%20Link:99999%3Aadmin?secret=MZXW6YTBOI&"));
    }
}
