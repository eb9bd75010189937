//! The hosted page's JSON bodies (`/pay/{id}/<method>`): the body as
//! JSON, then the Worker's `methods::ShopperInput::parse_at` for every
//! method (NET CASH ID, prepaid number, card details with the JPO option,
//! au, NP's buyer form) and the masked description kept with a payment;
//! and `card::CardDetails::parse` / `np::BuyerForm::validate` over
//! structured strings (any text, not only what JSON parsing lets through).
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use edge::methods::ShopperInput;
use libfuzzer_sys::fuzz_target;
use shared::card::CardDetails;
use shared::methods::Method;
use shared::np::BuyerForm;
use shared::time::UnixTime;

const METHODS: [Method; 5] = [Method::Netcash, Method::Prepaid, Method::Card, Method::Au, Method::Np];

#[derive(Arbitrary, Debug)]
struct Card {
    number: String,
    exp_month: String,
    exp_year: String,
    cvc: String,
    option: Option<String>,
    year: i16,
    month: u8,
}

#[derive(Arbitrary, Debug)]
struct Buyer {
    name: String,
    kana: String,
    postal_code: String,
    address: String,
    phone: String,
    email: String,
}

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        for method in METHODS {
            // 2026-11-23 09:01 JST; the business clock is never far off.
            if let Ok(input) = ShopperInput::parse_at(method, &body, UnixTime(1_795_392_060)) {
                let shown = input.instrument();
                // Card numbers and IDs are shown masked only.
                if let Some(n) = body.get("number").and_then(|v| v.as_str()) {
                    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
                    if method == Method::Card && digits.len() >= 12 {
                        assert!(!shown.contains(&digits), "{shown}");
                    }
                }
            }
        }
    }
    let mut u = Unstructured::new(data);
    if let Ok(c) = Card::arbitrary(&mut u) {
        let option = c.option.map(serde_json::Value::String);
        let month = 1 + c.month % 12;
        let year = 2000 + i32::from(c.year).rem_euclid(200);
        if let Ok(d) = CardDetails::parse(&c.number, &c.exp_month, &c.exp_year, &c.cvc, option.as_ref(), year, month) {
            let _ = d.instrument();
        }
    }
    if let Ok(b) = Buyer::arbitrary(&mut u) {
        let form = BuyerForm { name: b.name, kana: b.kana, postal_code: b.postal_code, address: b.address, phone: b.phone, email: b.email };
        match form.validate() {
            Ok(buyer) => {
                let _ = edge::connectors::np::masked_email(&buyer.email);
            }
            Err(errors) => {
                assert!(!errors.is_empty());
                for e in errors {
                    let _ = shared::np::message_ja(e);
                }
            }
        }
    }
});
