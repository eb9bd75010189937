//! Browser tests of the checkout view: rendered from a session value with a
//! fake backend (no server), asserting on the DOM.
//!
//! `cargo test -p widget --target wasm32-unknown-unknown -j1`

#![cfg(target_arch = "wasm32")]

mod common;

use std::time::Duration;

use common::{settle, Page, SESSION};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};
use widget::i18n::Lang;
use widget::model::{ApiError, PayOk, Status};
use yew::platform::time::sleep;

wasm_bindgen_test_configure!(run_in_browser);

const MANY_METHODS: &str = r#"[{"method":"netcash","available":true},{"method":"au","available":false,"reason":"maintenance"},{"method":"card","available":true}]"#;

use common::with_methods;

const VALID_ID: &str = "abcd1234efgh5678";

#[wasm_bindgen_test]
async fn shows_merchant_item_amount_and_time_left() {
    let page = Page::open(SESSION, Lang::Ja).await;
    assert_eq!(page.text("#merchant-name"), "Kessai Sandbox Shop");
    assert_eq!(page.text("h1"), "Green tea 200g");
    let amount = page.text("#amount");
    assert!(
        amount.contains("¥1,100") && amount.contains("(税込)"),
        "{amount}"
    );
    assert!(page.text("#tax").contains("¥100"));
    assert!(
        page.text("#countdown").contains("10:00"),
        "{}",
        page.text("#countdown")
    );
    assert_eq!(
        page.get("#countdown").get_attribute("role").as_deref(),
        Some("timer")
    );
    assert_eq!(page.text("#pay-button"), "¥1,100 を支払う");
    assert_eq!(page.text("#cancel-button"), "キャンセルしてショップに戻る");
    assert!(page.find("#error").is_none());
}

#[wasm_bindgen_test]
async fn the_page_reads_its_session_and_can_retry() {
    let page = Page::load(common::Fake::default(), Lang::Ja).await;
    assert_eq!(*page.fake.calls.borrow(), vec!["session".to_string()]);
    assert!(page.text("#error").contains("通信できませんでした"), "{}", page.all_text());
    assert!(page.find("#pay-button").is_none());
    *page.fake.session_answer.borrow_mut() = Some(Ok(
        widget::model::FromJson::from_json(SESSION).unwrap(),
    ));
    page.click("#retry-button").await;
    settle().await;
    assert_eq!(page.fake.calls.borrow().len(), 2);
    assert_eq!(page.text("#merchant-name"), "Kessai Sandbox Shop");
    assert!(page.find("#netcash-id").is_some());
    assert!(page.find("#retry-button").is_none());
    // An unknown payment cannot be retried.
    let fake = common::Fake::default();
    *fake.session_answer.borrow_mut() = Some(Err(ApiError::new("not_found")));
    let page = Page::load(fake, Lang::En).await;
    assert!(page.text("#error").contains("could not be found"));
    assert!(page.find("#retry-button").is_none());
}

#[wasm_bindgen_test]
async fn a_single_method_shows_its_form_directly() {
    let page = Page::open(SESSION, Lang::Ja).await;
    assert!(page.find("input[type=radio]").is_none());
    assert!(page.find("#netcash-id").is_some());
}

#[wasm_bindgen_test]
async fn only_offered_methods_are_shown_and_unavailable_ones_are_disabled() {
    let page = Page::open(&with_methods(MANY_METHODS), Lang::Ja).await;
    let radios = page.root.query_selector_all("input[type=radio]").unwrap();
    assert_eq!(radios.length(), 3);
    assert!(page.find("#method-np").is_none() && page.find("#method-prepaid").is_none());
    let netcash: HtmlInputElement = page.get("#method-netcash").dyn_into().unwrap();
    let au: HtmlInputElement = page.get("#method-au").dyn_into().unwrap();
    let card: HtmlInputElement = page.get("#method-card").dyn_into().unwrap();
    assert!(netcash.checked() && !netcash.disabled());
    assert!(au.disabled() && !au.checked());
    assert!(!card.disabled());
    assert!(page.text("#method-au-note").contains("メンテナンス"));
    assert_eq!(
        au.get_attribute("aria-describedby").as_deref(),
        Some("method-au-desc method-au-note")
    );
    // Picking another method shows its form instead.
    card.click();
    settle().await;
    assert!(page.find("#netcash-id").is_none());
    assert!(page.find("#card-number").is_some());
    page.get("#method-netcash")
        .dyn_into::<HtmlElement>()
        .unwrap()
        .click();
    settle().await;
    assert!(page.find("#netcash-id").is_some());
}

#[wasm_bindgen_test]
async fn a_method_this_page_does_not_know_is_explained() {
    let page = Page::open(
        &with_methods(r#"[{"method":"netcash","available":true},{"method":"paypay","available":true}]"#),
        Lang::Ja,
    )
    .await;
    page.click("#method-paypay").await;
    assert!(page.find("#netcash-id").is_none());
    assert!(page.find("#method-notice").is_some());
    assert!(page.find("#pay-button").is_none());
}

#[wasm_bindgen_test]
async fn no_available_method_says_so() {
    let page = Page::open(
        &with_methods(r#"[{"method":"netcash","available":false,"reason":"maintenance"}]"#),
        Lang::Ja,
    )
    .await;
    assert!(page.find("#netcash-id").is_none());
    assert!(page.find("#no-methods").is_some());
    assert!(page.find("#cancel-button").is_some());
}

#[wasm_bindgen_test]
async fn the_id_is_formatted_as_it_is_typed() {
    let page = Page::open(SESSION, Lang::Ja).await;
    let input = page.input();
    for attr in [
        ("autocomplete", "off"),
        ("autocapitalize", "characters"),
        ("spellcheck", "false"),
        ("inputmode", "text"),
    ] {
        assert_eq!(
            input.get_attribute(attr.0).as_deref(),
            Some(attr.1),
            "{}",
            attr.0
        );
    }
    page.type_id("abcd1234").await;
    assert_eq!(page.input().value(), "ABCD 1234");
    page.type_id("ａｂｃｄ1234efgh56789999").await;
    assert_eq!(page.input().value(), "ABCD 1234 EFGH 5678");
    assert!(page.find("#netcash-id-error").is_none());
}

#[wasm_bindgen_test]
async fn an_ime_composition_is_formatted_when_it_ends() {
    let page = Page::open(SESSION, Lang::Ja).await;
    let input = page.input();
    input.set_value("ａｂｃｄ１");
    let init = web_sys::InputEventInit::new();
    init.set_bubbles(true);
    init.set_is_composing(true);
    let composing = web_sys::InputEvent::new_with_event_init_dict("input", &init).unwrap();
    input.dispatch_event(&composing).unwrap();
    settle().await;
    assert_eq!(
        page.input().value(),
        "ａｂｃｄ１",
        "left alone while composing"
    );
    let end = web_sys::Event::new_with_event_init_dict("compositionend", &{
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        init
    })
    .unwrap();
    input.dispatch_event(&end).unwrap();
    settle().await;
    assert_eq!(page.input().value(), "ABCD 1");
}

#[wasm_bindgen_test]
async fn an_invalid_id_shows_an_inline_error_and_is_never_sent() {
    let page = Page::open(SESSION, Lang::Ja).await;
    page.type_id("abcd").await;
    assert_eq!(
        page.input().get_attribute("aria-invalid"),
        None,
        "no error while typing"
    );
    page.blur().await;
    assert_eq!(
        page.input().get_attribute("aria-invalid").as_deref(),
        Some("true")
    );
    assert!(page.text("#netcash-id-error").contains("16桁"));
    let describedby = page.input().get_attribute("aria-describedby").unwrap();
    assert!(
        describedby.split(' ').any(|id| id == "netcash-id-error"),
        "{describedby}"
    );

    page.click("#pay-button").await;
    assert!(
        page.fake.calls.borrow().is_empty(),
        "sent {:?}",
        page.fake.calls.borrow()
    );
    assert_eq!(
        page.input().get_attribute("aria-invalid").as_deref(),
        Some("true")
    );

    // Completing the ID clears the message.
    page.type_id(VALID_ID).await;
    assert_eq!(page.input().get_attribute("aria-invalid"), None);
    assert!(page.find("#netcash-id-error").is_none());
}

#[wasm_bindgen_test]
async fn pressing_pay_does_not_move_the_button_away_before_the_click() {
    let page = Page::open(SESSION, Lang::Ja).await;
    page.type_id("abcd").await;
    // Pointer down on Pay blurs the field: no message yet (it would shift
    // the button from under the finger) ...
    let down = web_sys::Event::new_with_event_init_dict("pointerdown", &{
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        init
    })
    .unwrap();
    page.get("#pay-button").dispatch_event(&down).unwrap();
    page.blur().await;
    assert!(page.find("#netcash-id-error").is_none());
    // ... the click then validates, and nothing is sent.
    page.click("#pay-button").await;
    assert!(page.find("#netcash-id-error").is_some());
    assert!(page.fake.calls.borrow().is_empty());
    // An ordinary blur still validates.
    page.type_id("abcd1").await;
    page.blur().await;
    assert_eq!(
        page.input().get_attribute("aria-invalid").as_deref(),
        Some("true")
    );
}

#[wasm_bindgen_test]
async fn an_empty_submit_asks_for_the_id() {
    let page = Page::open(SESSION, Lang::En).await;
    page.click("#pay-button").await;
    assert_eq!(page.text("#netcash-id-error"), "Enter your NET CASH ID.");
    assert!(page.fake.calls.borrow().is_empty());
}

#[wasm_bindgen_test]
async fn a_double_click_pays_once_then_shows_done_and_returns() {
    let page = Page::open(SESSION, Lang::Ja).await;
    *page.fake.pay_answer.borrow_mut() = Some(Ok(PayOk {
        status: Status::Paid,
        next: Some("/pay/pay_x/return".into()),
        redirect: None,
    }));
    page.type_id(VALID_ID).await;
    let button: HtmlElement = page.get("#pay-button").dyn_into().unwrap();
    button.click();
    button.click();
    settle().await;
    page.click("#pay-button").await;
    assert_eq!(
        *page.fake.calls.borrow(),
        vec![r#"pay netcash {"netcash_id":"ABCD1234EFGH5678"}"#.to_string()]
    );
    let button = page.get("#pay-button");
    assert!(button.has_attribute("disabled"));
    assert_eq!(button.get_attribute("aria-busy").as_deref(), Some("true"));
    assert_eq!(button.text_content().unwrap(), "処理中…");

    sleep(Duration::from_millis(100)).await;
    settle().await;
    assert!(
        page.text("#done").starts_with("お支払いが完了しました"),
        "{}",
        page.all_text()
    );
    assert!(page.find("#netcash-id").is_none());
    assert_eq!(
        page.get("#cancel-button").get_attribute("href").as_deref(),
        Some("/pay/pay_x/return")
    );
    assert!(
        page.fake.navigated.borrow().is_empty(),
        "waits a moment first"
    );
    sleep(Duration::from_millis(1600)).await;
    assert_eq!(
        *page.fake.navigated.borrow(),
        vec!["/pay/pay_x/return".to_string()]
    );
}

#[wasm_bindgen_test]
async fn a_server_error_shows_the_banner_and_keeps_the_form() {
    let page = Page::open(SESSION, Lang::Ja).await;
    *page.fake.pay_answer.borrow_mut() = Some(Err(ApiError::new("insufficient_balance")));
    page.type_id("abcd1234efgh0000").await;
    page.click("#pay-button").await;
    sleep(Duration::from_millis(100)).await;
    settle().await;
    let banner = page.get("#error");
    assert_eq!(banner.get_attribute("role").as_deref(), Some("alert"));
    assert!(
        page.text("#error").contains("残高が不足しています"),
        "{}",
        page.text("#error")
    );
    assert_eq!(page.input().value(), "ABCD 1234 EFGH 0000");
    assert!(!page.get("#pay-button").has_attribute("disabled"));
    assert_eq!(page.text("#cancel-button"), "ショップに戻る");
    // Unknown codes get the generic text.
    *page.fake.pay_answer.borrow_mut() = Some(Err(ApiError::new("brand_new_code")));
    page.click("#pay-button").await;
    sleep(Duration::from_millis(100)).await;
    settle().await;
    assert!(
        page.text("#error").contains("エラーが発生しました"),
        "{}",
        page.text("#error")
    );
    assert_eq!(page.fake.calls.borrow().len(), 2);
}

#[wasm_bindgen_test]
async fn an_error_with_next_ends_the_payment_and_returns() {
    let page = Page::open(SESSION, Lang::En).await;
    *page.fake.pay_answer.borrow_mut() = Some(Err(ApiError {
        code: "merchant_rejected".into(),
        next: Some("/pay/pay_x/return".into()),
        fields: vec![],
    }));
    page.type_id(VALID_ID).await;
    page.click("#pay-button").await;
    sleep(Duration::from_millis(100)).await;
    settle().await;
    assert!(
        page.text("#error").contains("could not confirm your order"),
        "{}",
        page.all_text()
    );
    assert!(page.find("#netcash-id").is_none());
    assert_eq!(page.text("#cancel-button"), "Return to the shop now");
    sleep(Duration::from_millis(1600)).await;
    assert_eq!(
        *page.fake.navigated.borrow(),
        vec!["/pay/pay_x/return".to_string()]
    );
}

#[wasm_bindgen_test]
async fn cancel_asks_the_server_and_goes_where_it_says() {
    let page = Page::open(SESSION, Lang::Ja).await;
    *page.fake.cancel_answer.borrow_mut() = Some(Ok("/pay/pay_x/return".into()));
    page.click("#cancel-button").await;
    settle().await;
    assert_eq!(*page.fake.calls.borrow(), vec!["cancel".to_string()]);
    assert_eq!(
        *page.fake.navigated.borrow(),
        vec!["/pay/pay_x/return".to_string()]
    );
}

#[wasm_bindgen_test]
async fn the_language_switch_changes_the_texts() {
    let page = Page::open(SESSION, Lang::Ja).await;
    assert_eq!(page.text("#lang-switch"), "English");
    page.click("#lang-switch").await;
    assert_eq!(page.text("#pay-button"), "Pay ¥1,100");
    assert!(page.text("#amount").contains("(tax incl.)"));
    assert_eq!(page.text("#cancel-button"), "Cancel and return to the shop");
    assert_eq!(page.text("#lang-switch"), "日本語");
    let html = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .document_element()
        .unwrap();
    assert_eq!(html.get_attribute("lang").as_deref(), Some("en"));
    page.click("#lang-switch").await;
    assert_eq!(page.text("#pay-button"), "¥1,100 を支払う");
    assert_eq!(html.get_attribute("lang").as_deref(), Some("ja"));
}

#[wasm_bindgen_test]
async fn every_input_has_a_label() {
    let page = Page::open(&with_methods(MANY_METHODS), Lang::Ja).await;
    let inputs = page
        .root
        .query_selector_all("input, select, textarea")
        .unwrap();
    assert!(inputs.length() >= 4);
    for i in 0..inputs.length() {
        let input: Element = inputs.item(i).unwrap().dyn_into().unwrap();
        let id = input.id();
        assert!(!id.is_empty(), "input without id: {}", input.outer_html());
        let label = page
            .find(&format!("label[for=\"{id}\"]"))
            .unwrap_or_else(|| panic!("no label for #{id}"));
        assert!(
            !label.text_content().unwrap_or_default().trim().is_empty(),
            "empty label for #{id}"
        );
    }
}

#[wasm_bindgen_test]
async fn a_finished_payment_shows_its_end_on_reload() {
    let json = SESSION
        .replace("\"pending\"", "\"paid\"")
        .replace("\"next\":null", "\"next\":\"/pay/pay_x/return\"");
    let page = Page::open(&json, Lang::Ja).await;
    assert!(page.text("#done").starts_with("お支払いが完了しました"));
    assert!(page.find("#netcash-id").is_none() && page.find("#pay-button").is_none());
    assert!(page.find("#countdown").is_none());
    let back = page.get("#cancel-button");
    assert_eq!(back.tag_name(), "A");
    assert_eq!(
        back.get_attribute("href").as_deref(),
        Some("/pay/pay_x/return")
    );
    assert_eq!(back.text_content().unwrap(), "ショップに戻る");
    sleep(Duration::from_millis(1600)).await;
    assert!(
        page.fake.navigated.borrow().is_empty(),
        "a reload does not leave by itself"
    );
}

#[wasm_bindgen_test]
async fn an_expired_session_cannot_be_paid() {
    let page = Page::open(&SESSION.replace("1789999400", "1790000000"), Lang::Ja).await;
    assert!(page.find("#netcash-id").is_none());
    assert!(
        page.all_text().contains("お支払いの期限が切れました"),
        "{}",
        page.all_text()
    );
    assert_eq!(page.text("#cancel-button"), "ショップに戻る");
}

#[wasm_bindgen_test]
async fn the_last_error_is_shown_on_load() {
    let json = SESSION.replace(
        "\"last_error\":null",
        "\"last_error\":{\"code\":\"insufficient_balance\"}",
    );
    let page = Page::open(&json, Lang::En).await;
    assert!(page
        .text("#error")
        .starts_with("The balance is not enough."));
    assert_eq!(page.text("#cancel-button"), "Return to the shop");
    assert!(page.find("#netcash-id").is_some());
}
