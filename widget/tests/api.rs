//! The real fetch layer in a browser. The test runner's server knows no
//! `/pay/...` routes, so this checks the plumbing: the request is made and
//! a non-JSON 404 becomes `not_found`.

#![cfg(target_arch = "wasm32")]

use shared::netcash::NetcashId;
use wasm_bindgen_test::*;
use widget::api::{Backend, HttpBackend, PayRequest};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_missing_endpoint_reads_as_not_found() {
    let backend = HttpBackend::new("pay_does_not_exist");
    assert_eq!(backend.session().await.unwrap_err().code, "not_found");
    let id = NetcashId::parse("ABCD1234EFGH5678").unwrap();
    let e = backend.pay(&PayRequest::Netcash(id)).await.unwrap_err();
    assert!(e.code == "not_found" || e.code == "internal", "{e:?}");
    assert_eq!(e.next, None);
}
