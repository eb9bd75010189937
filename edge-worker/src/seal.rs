//! Subscription data at rest and the shoppers' subscription links.
//!
//! * [`seal`] / [`open`]: AES-256-GCM through Web Crypto, with a key
//!   derived from `SUBSCRIPTION_SECRET` (HMAC-SHA256 with a label), a
//!   random 96-bit nonce per message and the subscription id as additional
//!   data (a sealed blob moved to another subscription does not open).
//!   Used for NP buyers' details, which every NP charge needs again.
//! * [`page_token`] / [`page_subscription`]: the signed token of a
//!   subscription's management page (`/subscriptions/{token}`), checked in
//!   constant time.

use base64::Engine;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::util;

fn subkey(secret: &str, label: &str) -> [u8; 32] {
    shared::signing::hmac_sha256(secret.as_bytes(), label.as_bytes())
}

async fn aes_key(secret: &str, usage: &str) -> worker::Result<(web_sys::SubtleCrypto, web_sys::CryptoKey)> {
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let subtle = global.crypto()?.subtle();
    let raw = subkey(secret, "kessai-link subscription data v1");
    let usages = js_sys::Array::of1(&JsValue::from_str(usage));
    let key = JsFuture::from(subtle.import_key_with_str("raw", &js_sys::Uint8Array::from(&raw[..]), "AES-GCM", false, &usages)?).await?;
    Ok((subtle, key.unchecked_into()))
}

fn params(nonce: &[u8], aad: &str) -> web_sys::AesGcmParams {
    let p = web_sys::AesGcmParams::new("AES-GCM", &js_sys::Uint8Array::from(nonce));
    p.set_additional_data(&js_sys::Uint8Array::from(aad.as_bytes()));
    p
}

/// Seals `plain` for subscription `aad`: `v1.<base64url(nonce ‖ ciphertext ‖ tag)>`.
pub async fn seal(secret: &str, aad: &str, plain: &[u8]) -> worker::Result<String> {
    let (subtle, key) = aes_key(secret, "encrypt").await?;
    let nonce = util::random_bytes(12);
    let sealed = JsFuture::from(subtle.encrypt_with_object_and_u8_array(&params(&nonce, aad), &key, plain)?).await?;
    let mut out = nonce;
    out.extend(js_sys::Uint8Array::new(&sealed).to_vec());
    Ok(format!("v1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)))
}

/// Opens what [`seal`] made for `aad`; `None` if it does not open.
pub async fn open(secret: &str, aad: &str, sealed: &str) -> worker::Result<Option<Vec<u8>>> {
    let Some(b) = sealed.strip_prefix("v1.").and_then(|b| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b).ok()) else {
        return Ok(None);
    };
    if b.len() < 12 + 16 {
        return Ok(None);
    }
    let (subtle, key) = aes_key(secret, "decrypt").await?;
    let mut body = b[12..].to_vec();
    let Ok(promise) = subtle.decrypt_with_object_and_u8_array(&params(&b[..12], aad), &key, &mut body) else { return Ok(None) };
    match JsFuture::from(promise).await {
        Ok(plain) => Ok(Some(js_sys::Uint8Array::new(&plain).to_vec())),
        Err(_) => Ok(None),
    }
}

/// The token of a subscription's management page: `<id>.<32 hex>`.
pub fn page_token(secret: &str, subscription_id: &str) -> String {
    let mac = shared::signing::hmac_sha256(&subkey(secret, "kessai-link subscription page v1"), subscription_id.as_bytes());
    format!("{subscription_id}.{}", &shared::signing::hex(&mac)[..32])
}

/// The subscription a page token is for, if its signature holds.
pub fn page_subscription(secret: &str, token: &str) -> Option<String> {
    let (id, _) = token.split_once('.')?;
    if !id.starts_with("sub_") || id.len() > 40 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    shared::signing::ct_eq(page_token(secret, id).as_bytes(), token.as_bytes()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_verify_only_unchanged() {
        let t = page_token("s3cret-s3cret-s3cret", "sub_abc");
        assert_eq!(page_subscription("s3cret-s3cret-s3cret", &t).as_deref(), Some("sub_abc"));
        assert_eq!(page_subscription("another-secret-here", &t), None);
        let forged = t.replacen("sub_abc", "sub_abd", 1);
        assert_eq!(page_subscription("s3cret-s3cret-s3cret", &forged), None);
        assert_eq!(page_subscription("s3cret-s3cret-s3cret", "sub_abc"), None);
        assert_eq!(page_subscription("s3cret-s3cret-s3cret", "../x.y"), None);
    }
}
