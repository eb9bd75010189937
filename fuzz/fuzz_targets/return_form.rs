//! The return form the shopper's browser carries back to the merchant
//! (`shared::return_form`): any values are signed without a panic, the
//! `hashcode` comes last and is the form hashcode of the nine fields in
//! order (what the merchant recomputes); and the signed result form KDDI
//! (au) sends back, read by `au::ResultFields::from_pairs`, verified and
//! interpreted (`outcome`, `verdict`), through the Worker's `parse_form`.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use shared::au::ResultFields;
use shared::return_form::{signed_fields, ResResult, ReturnValues, FIELDS};

const KEY: &[u8] = b"kessai-sandbox-hash-key";

#[derive(Arbitrary, Debug)]
struct Values {
    merchant_id: String,
    service_id: String,
    order_id: String,
    result: u8,
    pay_method: String,
    tracking_id: String,
    payment_date: String,
    err_code: String,
    date: String,
}

fuzz_target!(|data: &[u8]| {
    // The au result form, as KDDI's redirect delivers it.
    let body = String::from_utf8_lossy(data);
    if let Some(pairs) = edge::util::parse_form(&body) {
        if let Ok((fields, signature)) = ResultFields::from_pairs(&pairs) {
            let _ = fields.verify(b"kessai-au-sandbox-secret", &signature);
            let _ = fields.canonical();
            if let Some(outcome) = fields.outcome() {
                let _ = shared::au::verdict(&outcome, 1_795_392_060);
            }
            // Re-signed, it verifies.
            let resigned = fields.sign(b"k");
            assert!(fields.verify(b"k", &resigned));
        }
    }
    // The return form.
    let mut u = Unstructured::new(data);
    let Ok(v) = Values::arbitrary(&mut u) else { return };
    let values = ReturnValues {
        merchant_id: v.merchant_id,
        service_id: v.service_id,
        order_id: v.order_id,
        result: [ResResult::Ok, ResResult::Ng, ResResult::Cn][v.result as usize % 3],
        pay_method: v.pay_method,
        tracking_id: v.tracking_id,
        payment_date: v.payment_date,
        err_code: v.err_code,
        date: v.date,
    };
    let fields = signed_fields(KEY, &values);
    assert_eq!(fields.len(), FIELDS.len() + 1);
    assert_eq!(fields.last().map(|f| f.0), Some("hashcode"));
    let expected = shared::signing::form_hashcode(KEY, fields[..FIELDS.len()].iter().map(|(n, v)| (*n, v.as_str())));
    assert_eq!(fields[FIELDS.len()].1, expected);
});
