//! Staff passwords: PBKDF2-HMAC-SHA256 through Web Crypto (100,000
//! iterations, a salt each), and the older per-merchant HMAC scheme that a
//! sign-in replaces. Used by sign-in (`auth`) and by user management
//! (`staff`), which otherwise know nothing of each other's insides.

use shared::signing::{ct_eq, hex};
use wasm_bindgen::JsValue;

use crate::store;
use crate::util;

/// PBKDF2-HMAC-SHA256 iterations: the most Workers' Web Crypto allows.
pub(super) const PBKDF2_ITERATIONS: u32 = 100_000;
/// The user a sign-in without `user_id` is for: the merchant's first user.
pub const FIRST_USER: &str = "admin";

/// PBKDF2-HMAC-SHA256 through Web Crypto (32 bytes).
pub(super) async fn pbkdf2(password: &str, salt: &[u8], iterations: u32) -> worker::Result<Vec<u8>> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let subtle = global.crypto()?.subtle();
    let usages = js_sys::Array::of1(&JsValue::from_str("deriveBits"));
    let key = JsFuture::from(subtle.import_key_with_str("raw", &js_sys::Uint8Array::from(password.as_bytes()), "PBKDF2", false, &usages)?).await?;
    let params = web_sys::Pbkdf2Params::new("PBKDF2", &JsValue::from_str("SHA-256"), iterations, &js_sys::Uint8Array::from(salt));
    let bits = JsFuture::from(subtle.derive_bits_with_object(&params, &key.unchecked_into(), 256)?).await?;
    Ok(js_sys::Uint8Array::new(&bits).to_vec())
}

/// `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`, with a new salt.
pub async fn hash_password(password: &str) -> worker::Result<String> {
    let salt = util::random_bytes(16);
    let hash = pbkdf2(password, &salt, PBKDF2_ITERATIONS).await?;
    Ok(format!("pbkdf2-sha256${PBKDF2_ITERATIONS}${}${}", hex(&salt), hex(&hash)))
}

/// Whether `password` matches what is stored (constant time); `true` in
/// the second place when it is the older HMAC scheme, to be re-hashed.
pub(super) async fn check_password(stored: &str, merchant_id: &str, password: &str) -> worker::Result<(bool, bool)> {
    if let Some(rest) = stored.strip_prefix("pbkdf2-sha256$") {
        let parts: Vec<&str> = rest.split('$').collect();
        let [iterations, salt, hash] = parts.as_slice() else { return Ok((false, false)) };
        let (Ok(iterations), Some(salt)) = (iterations.parse::<u32>(), unhex(salt)) else { return Ok((false, false)) };
        let derived = pbkdf2(password, &salt, iterations).await?;
        return Ok((ct_eq(hex(&derived).as_bytes(), hash.as_bytes()), false));
    }
    let given = store::admin_password_hash(merchant_id, password);
    Ok((ct_eq(stored.as_bytes(), given.as_bytes()), true))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

