//! CyberSource's HTTP Signature headers (`shared::httpsig`), as the
//! CyberSource sandbox verifies our calls: the `Signature` header parser,
//! the RFC 1123 date parser and `verify` over arbitrary headers; and, for
//! any method, host, path, body and time, a request we sign verifies, its
//! date reads back, and a changed body does not verify.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use shared::httpsig::{http_date, parse_http_date, parse_signature_header, sign_request, verify, Credentials};
use shared::time::UnixTime;

const CRED: Credentials = Credentials {
    merchant_id: "kessai_link_sandbox",
    key_id: "4f8a2c1e-7b3d-4e5f-9a6b-0c1d2e3f4a5b",
    shared_secret_b64: "a2Vzc2FpLWxpbmstY3liZXJzb3VyY2Utc2FuZGJveCE=",
};
// Up to 2100-01-01: the clocks that sign and verify.
const LATEST: i64 = 4_102_444_800;

#[derive(Arbitrary, Debug)]
struct Headers {
    signature: Option<String>,
    merchant_id: Option<String>,
    host: Option<String>,
    date: Option<String>,
    digest: Option<String>,
    extra: Vec<(String, String)>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    other_method: String,
    path: String,
    body: Vec<u8>,
    now: u32,
    headers: Headers,
    host: String,
}

fuzz_target!(|data: &[u8]| {
    // The header parsers alone, over the raw text.
    let text = String::from_utf8_lossy(data);
    let _ = parse_signature_header(&text);
    let _ = parse_http_date(&text);

    let Ok(i) = Input::arbitrary(&mut Unstructured::new(data)) else { return };
    let method = ["POST", "GET", "PATCH", "PUT", "DELETE"].get(i.method as usize).copied().unwrap_or(i.other_method.as_str());
    let now = UnixTime(i64::from(i.now).min(LATEST));
    let h = &i.headers;
    let header = |name: &str| -> Option<String> {
        match name {
            "signature" => h.signature.clone(),
            "v-c-merchant-id" => h.merchant_id.clone(),
            "host" => h.host.clone(),
            "date" => h.date.clone(),
            "digest" => h.digest.clone(),
            _ => h.extra.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()),
        }
    };
    let _ = verify(&CRED, method, &i.path, &i.body, header, now);

    // Round trip.
    assert_eq!(parse_http_date(&http_date(now)), Some(now));
    let signed = sign_request(&CRED, method, &i.host, &i.path, &i.body, now).expect("the sandbox secret is base64");
    let pairs = signed.pairs();
    let get = |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    assert_eq!(verify(&CRED, method, &i.path, &i.body, get, now), Ok(()), "{method} {:?} {:?}", i.host, i.path);
    if shared::httpsig::has_body(method) {
        let mut other = i.body.clone();
        other.push(b'x');
        assert!(verify(&CRED, method, &i.path, &other, get, now).is_err());
    }
});
