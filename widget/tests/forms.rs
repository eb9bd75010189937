//! Browser tests of the method picker and the forms of prepaid card, NP
//! postpaid, au and card: rendering, formatting, validation, the JSON
//! sent (through the injected backend), every answer and error code, and
//! the layout at 360 px with the real stylesheet.
//!
//! `cargo test -p widget --target wasm32-unknown-unknown --test forms`

#![cfg(target_arch = "wasm32")]

mod common;

use std::time::Duration;

use common::{settle, with_methods, Page};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};
use widget::i18n::{error_message, error_message_for, Lang};
use widget::model::{ApiError, FromJson, Method, PayOk, Status};
use yew::platform::time::sleep;

wasm_bindgen_test_configure!(run_in_browser);

const ALL: &str = r#"[{"method":"card","available":true},{"method":"netcash","available":true},{"method":"np","available":true},{"method":"au","available":true},{"method":"prepaid","available":true}]"#;

fn only(method: &str) -> String {
    with_methods(&format!(r#"[{{"method":"{method}","available":true}}]"#))
}

fn ok(status: Status, next: Option<&str>) -> Option<Result<PayOk, ApiError>> {
    Some(Ok(PayOk {
        status,
        next: next.map(Into::into),
        redirect: None,
    }))
}

fn fail(code: &str) -> Option<Result<PayOk, ApiError>> {
    Some(Err(ApiError::new(code)))
}

/// The page's own stylesheet, so that layout can be measured.
fn use_stylesheet() {
    let document = web_sys::window().unwrap().document().unwrap();
    if document.get_element_by_id("pay-css").is_none() {
        let style = document.create_element("style").unwrap();
        style.set_id("pay-css");
        style.set_text_content(Some(include_str!("../../static/pay.css")));
        document.head().unwrap().append_child(&style).unwrap();
    }
}

/// Nothing sticks out of a 360 px wide phone screen, and buttons, radios'
/// rows and inputs are at least 44 px tall.
fn fits_360(page: &Page) {
    let root: HtmlElement = page.root.clone().dyn_into().unwrap();
    assert_eq!(root.offset_width(), 360);
    assert!(
        root.scroll_width() <= 360,
        "{} px wide at 360 px",
        root.scroll_width()
    );
    let all = page
        .root
        .query_selector_all(".method, .input, .button")
        .unwrap();
    assert!(all.length() > 0);
    for i in 0..all.length() {
        let e: HtmlElement = all.item(i).unwrap().dyn_into().unwrap();
        assert!(e.offset_height() >= 44, "{} is {} px tall", e.outer_html(), e.offset_height());
        let right = e.get_bounding_client_rect().right() - root.get_bounding_client_rect().left();
        assert!(right <= 360.5, "{} ends at {right}", e.id());
    }
}

async fn open_phone(json: &str, lang: Lang) -> Page {
    use_stylesheet();
    let page = Page::open(json, lang).await;
    page.root
        .set_attribute("style", "width:360px;overflow:visible")
        .unwrap();
    settle().await;
    page
}

fn ids(page: &Page, selector: &str) -> Vec<String> {
    let list = page.root.query_selector_all(selector).unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().dyn_into::<Element>().unwrap().id())
        .collect()
}

async fn pick(page: &Page, method: &str) {
    // What the browser does on an arrow key or a tap in the radio group.
    let radio: HtmlInputElement = page.get(&format!("#method-{method}")).dyn_into().unwrap();
    radio.set_checked(true);
    radio
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &{
            let init = web_sys::EventInit::new();
            init.set_bubbles(true);
            init
        })
        .unwrap())
        .unwrap();
    settle().await;
}

// ---------------------------------------------------------------- picker

#[wasm_bindgen_test]
async fn the_picker_lists_the_offered_methods_in_their_order() {
    let page = open_phone(&with_methods(ALL), Lang::Ja).await;
    assert_eq!(
        ids(&page, "input[type=radio]"),
        ["method-card", "method-netcash", "method-np", "method-au", "method-prepaid"]
    );
    let names: Vec<String> = {
        let list = page.root.query_selector_all(".method-name").unwrap();
        (0..list.length())
            .map(|i| list.item(i).unwrap().text_content().unwrap())
            .collect()
    };
    assert_eq!(
        names,
        ["クレジットカード", "NET CASH", "NP後払い", "auかんたん決済", "プリペイドカード"]
    );
    assert!(page.text("#method-np-desc").contains("請求書"));
    assert!(page.text("#method-au-desc").contains("UQ mobile"));
    // One group, one name, one checked: the browser's arrow keys move in it.
    let radios = page.root.query_selector_all("input[type=radio]").unwrap();
    for i in 0..radios.length() {
        let r: HtmlInputElement = radios.item(i).unwrap().dyn_into().unwrap();
        assert_eq!(r.name(), "method");
        assert_eq!(r.checked(), i == 0, "{}", r.id());
        let label = page.get(&format!("label[for={}]", r.id()));
        assert!(label.contains(Some(&r)), "the whole row is the tap target");
        assert!(r.get_attribute("aria-describedby").unwrap().contains("-desc"));
    }
    assert_eq!(page.text("fieldset.methods legend"), "お支払い方法");
    assert!(page.find("#card-number").is_some());
    fits_360(&page);

    page.click("#lang-switch").await;
    assert_eq!(page.text("label[for=method-np] .method-name"), "NP postpaid");
    assert!(page.text("#method-np-desc").contains("Pay after delivery"));
    assert_eq!(page.text("label[for=method-au] .method-name"), "au Easy Payment");
    assert_eq!(page.text("label[for=method-prepaid] .method-name"), "Prepaid card");
}

#[wasm_bindgen_test]
async fn choosing_a_method_shows_its_form_and_keeps_what_was_typed() {
    let page = open_phone(&with_methods(ALL), Lang::Ja).await;
    for (method, field) in [
        ("prepaid", "#prepaid-number"),
        ("np", "#np-name"),
        ("au", "#au-button"),
        ("netcash", "#netcash-id"),
        ("card", "#card-number"),
    ] {
        pick(&page, method).await;
        assert!(page.find(field).is_some(), "{method}: {}", page.all_text());
        let checked: HtmlInputElement = page.get(&format!("#method-{method}")).dyn_into().unwrap();
        assert!(checked.checked());
        fits_360(&page);
    }
    page.type_into("#card-number", "4111").await;
    pick(&page, "np").await;
    pick(&page, "card").await;
    assert_eq!(page.value("#card-number"), "4111");
}

// --------------------------------------------------------------- prepaid

#[wasm_bindgen_test]
async fn prepaid_groups_the_number_and_sends_the_digits() {
    let page = open_phone(&only("prepaid"), Lang::Ja).await;
    assert!(page.find("input[type=radio]").is_none(), "one method: no picker");
    for (name, value) in [("inputmode", "numeric"), ("autocomplete", "off")] {
        assert_eq!(page.attr("#prepaid-number", name).as_deref(), Some(value), "{name}");
    }
    page.type_into("#prepaid-number", "12345").await;
    assert_eq!(page.value("#prepaid-number"), "1234 5");
    page.type_into("#prepaid-number", "１２３４5678-1234 567899").await;
    assert_eq!(page.value("#prepaid-number"), "1234 5678 1234 5678");
    fits_360(&page);
    *page.fake.pay_answer.borrow_mut() = ok(Status::Paid, Some("/pay/pay_x/return"));
    page.click("#pay-button").await;
    assert_eq!(page.sent(), [r#"pay prepaid {"card_number":"1234567812345678"}"#]);
    page.answered().await;
    assert!(page.text("#done").starts_with("お支払いが完了しました"));
    sleep(Duration::from_millis(1600)).await;
    assert_eq!(*page.fake.navigated.borrow(), ["/pay/pay_x/return"]);
}

#[wasm_bindgen_test]
async fn prepaid_refuses_a_short_number_and_focuses_it() {
    let page = Page::open(&only("prepaid"), Lang::En).await;
    page.click("#pay-button").await;
    assert_eq!(page.text("#prepaid-number-error"), "Please fill this in.");
    page.type_into("#prepaid-number", "1234").await;
    page.click("#pay-button").await;
    assert!(page.text("#prepaid-number-error").contains("16 digits"));
    assert_eq!(page.attr("#prepaid-number", "aria-invalid").as_deref(), Some("true"));
    assert_eq!(
        page.attr("#prepaid-number", "aria-describedby").as_deref(),
        Some("prepaid-number-hint prepaid-number-error")
    );
    assert_eq!(page.focused(), "prepaid-number");
    assert!(page.sent().is_empty());
}

#[wasm_bindgen_test]
async fn prepaid_errors_are_explained() {
    let page = Page::open(&only("prepaid"), Lang::Ja).await;
    page.type_into("#prepaid-number", "1234567812340000").await;
    for code in ["invalid_prepaid_number", "insufficient_balance", "card_not_found", "card_locked"] {
        *page.fake.pay_answer.borrow_mut() = fail(code);
        page.click("#pay-button").await;
        page.answered().await;
        let expected = error_message_for(Lang::Ja, Some(&Method::Prepaid), code);
        assert_eq!(page.text("#error"), expected, "{code}");
        assert!(!expected.contains("NET CASH"), "{code}: {expected}");
        assert!(page.find("#prepaid-number").is_some(), "the form stays");
        assert_eq!(page.focused(), "error", "{code}: the banner is brought into view");
    }
    assert!(page.text("#error").contains("利用が停止"));
    assert_eq!(page.sent().len(), 4);
}

// -------------------------------------------------------------------- NP

const NP_IDS: [&str; 6] = [
    "np-name",
    "np-kana",
    "np-postal-code",
    "np-address",
    "np-phone",
    "np-email",
];

async fn fill_buyer(page: &Page, email: &str) {
    for (id, value) in NP_IDS.iter().zip([
        "山田 太郎",
        "ヤマダ タロウ",
        "150-0001",
        "東京都渋谷区神宮前1-2-3 グリーンハイツ101",
        "090-1234-5678",
        email,
    ]) {
        page.type_into(&format!("#{id}"), value).await;
    }
}

#[wasm_bindgen_test]
async fn np_fields_have_the_right_autofill_keyboard_and_labels() {
    let page = open_phone(&only("np"), Lang::Ja).await;
    assert_eq!(ids(&page, "form input"), NP_IDS);
    for (id, autocomplete, inputmode) in [
        ("np-name", "name", "text"),
        ("np-postal-code", "postal-code", "numeric"),
        ("np-address", "street-address", "text"),
        ("np-phone", "tel", "tel"),
        ("np-email", "email", "email"),
    ] {
        let sel = format!("#{id}");
        assert_eq!(page.attr(&sel, "autocomplete").as_deref(), Some(autocomplete), "{id}");
        assert_eq!(page.attr(&sel, "inputmode").as_deref(), Some(inputmode), "{id}");
    }
    assert_eq!(page.attr("#np-email", "type").as_deref(), Some("email"));
    assert_eq!(page.attr("#np-phone", "type").as_deref(), Some("tel"));
    assert!(page.text("#np-kana-hint").contains("全角カタカナ"));
    assert_eq!(page.text("label[for=np-kana]"), "フリガナ");
    assert!(page.all_text().contains("請求書"));
    fits_360(&page);
}

#[wasm_bindgen_test]
async fn np_shows_every_problem_under_its_field_and_focuses_the_first() {
    let page = open_phone(&only("np"), Lang::Ja).await;
    page.click("#pay-button").await;
    assert!(page.sent().is_empty());
    for id in NP_IDS {
        assert_eq!(page.attr(&format!("#{id}"), "aria-invalid").as_deref(), Some("true"), "{id}");
        assert_eq!(page.text(&format!("#{id}-error")), "入力してください。");
        let describedby = page.attr(&format!("#{id}"), "aria-describedby").unwrap();
        assert!(describedby.split(' ').any(|d| d == format!("{id}-error")), "{describedby}");
    }
    assert_eq!(page.focused(), "np-name");
    fits_360(&page);

    page.type_into("#np-name", "山田 太郎").await;
    page.type_into("#np-kana", "やまだ たろう").await;
    page.type_into("#np-postal-code", "15000").await;
    page.click("#pay-button").await;
    assert!(page.find("#np-name-error").is_none());
    assert_eq!(page.text("#np-kana-error"), "全角カタカナで入力してください。");
    assert!(page.text("#np-postal-code-error").contains("7桁"));
    assert_eq!(page.focused(), "np-kana");
    assert!(page.sent().is_empty());

    // A blur checks what was typed; a fix clears the message at once.
    page.type_into("#np-email", "taro@").await;
    page.blur_field("#np-email").await;
    assert!(page.text("#np-email-error").contains("メールアドレス"));
    page.type_into("#np-kana", "ヤマダ タロウ").await;
    assert!(page.find("#np-kana-error").is_none());
    assert_eq!(page.attr("#np-kana", "aria-invalid"), None);
}

#[wasm_bindgen_test]
async fn np_english_messages() {
    let page = Page::open(&only("np"), Lang::En).await;
    page.type_into("#np-kana", "yamada").await;
    page.click("#pay-button").await;
    assert_eq!(page.text("#np-kana-error"), "Enter it in full-width katakana.");
    assert_eq!(page.text("#np-name-error"), "Please fill this in.");
    assert_eq!(page.text("label[for=np-kana]"), "Name in katakana");
}

#[wasm_bindgen_test]
async fn np_sends_the_normalized_buyer_and_a_hold_is_explained() {
    let page = Page::open(&only("np"), Lang::Ja).await;
    fill_buyer(&page, "taro@hold.example").await;
    *page.fake.pay_answer.borrow_mut() = ok(Status::Held, Some("/pay/pay_x/return"));
    page.click("#pay-button").await;
    assert_eq!(
        page.sent(),
        [r#"pay np {"name":"山田 太郎","kana":"ヤマダ タロウ","postal_code":"1500001","address":"東京都渋谷区神宮前1-2-3 グリーンハイツ101","phone":"09012345678","email":"taro@hold.example"}"#]
    );
    page.answered().await;
    let done = page.text("#done");
    assert!(done.contains("ご注文を受け付けました"), "{done}");
    assert!(done.contains("審査結果は後ほどメールでお知らせします"), "{done}");
    sleep(Duration::from_millis(1600)).await;
    assert_eq!(*page.fake.navigated.borrow(), ["/pay/pay_x/return"]);
}

#[wasm_bindgen_test]
async fn np_approved_says_the_invoice_comes_later() {
    let page = Page::open(&only("np"), Lang::En).await;
    fill_buyer(&page, "taro@example.jp").await;
    *page.fake.pay_answer.borrow_mut() = ok(Status::Authorized, Some("/pay/pay_x/return"));
    page.click("#pay-button").await;
    page.answered().await;
    assert!(page.text("#done").contains("invoice"), "{}", page.all_text());
}

#[wasm_bindgen_test]
async fn np_refusals_are_explained_and_another_method_can_be_chosen() {
    let methods = r#"[{"method":"np","available":true},{"method":"card","available":true}]"#;
    let page = Page::open(&with_methods(methods), Lang::Ja).await;
    fill_buyer(&page, "taro@decline.example").await;
    for code in ["np_declined", "np_limit_exceeded"] {
        *page.fake.pay_answer.borrow_mut() = fail(code);
        page.click("#pay-button").await;
        page.answered().await;
        assert_eq!(page.text("#error"), error_message(Lang::Ja, code));
        assert!(page.text("#error").contains("別のお支払い方法"));
    }
    pick(&page, "card").await;
    assert!(page.find("#card-number").is_some());
}

#[wasm_bindgen_test]
async fn np_invalid_buyer_marks_the_fields_the_server_names() {
    let page = Page::open(&only("np"), Lang::Ja).await;
    fill_buyer(&page, "taro@example.jp").await;
    let answer = ApiError::from_json(
        r#"{"error":{"code":"invalid_buyer","message":"x","fields":[{"field":"kana","code":"katakana"},{"field":"phone","code":"phone_digits"}]},"next":null}"#,
    )
    .unwrap();
    *page.fake.pay_answer.borrow_mut() = Some(Err(answer));
    page.click("#pay-button").await;
    page.answered().await;
    assert_eq!(page.text("#error"), error_message(Lang::Ja, "invalid_buyer"));
    assert_eq!(page.text("#np-kana-error"), "全角カタカナで入力してください。");
    assert!(page.text("#np-phone-error").contains("電話番号"));
    assert_eq!(page.attr("#np-kana", "aria-invalid").as_deref(), Some("true"));
    assert!(page.find("#np-name-error").is_none());
    assert_eq!(page.focused(), "np-kana");
}

// -------------------------------------------------------------------- au

#[wasm_bindgen_test]
async fn au_sends_the_whole_page_to_the_provider() {
    let page = open_phone(&only("au"), Lang::Ja).await;
    assert_eq!(page.text("#au-button"), "auかんたん決済で支払う");
    assert!(page.find("#pay-button").is_none());
    assert!(page.all_text().contains("4分以内"));
    fits_360(&page);
    *page.fake.pay_answer.borrow_mut() = Some(Ok(PayOk {
        status: Status::Redirect,
        next: None,
        redirect: Some("http://127.0.0.1:8787/sandbox/au/login?s=1".into()),
    }));
    page.click("#au-button").await;
    assert_eq!(page.sent(), ["pay au {}"]);
    page.answered().await;
    assert_eq!(
        *page.fake.redirected.borrow(),
        ["http://127.0.0.1:8787/sandbox/au/login?s=1"]
    );
    let button = page.get("#au-button");
    assert!(button.has_attribute("disabled"));
    assert!(page.text("#au-button").contains("移動しています"));
    assert!(page.get("#cancel-button").has_attribute("disabled"));
    assert!(page.fake.navigated.borrow().is_empty());
}

#[wasm_bindgen_test]
async fn netcash_wallet_sends_the_page_to_net_cash_without_an_id() {
    let page = open_phone(&only("netcash"), Lang::Ja).await;
    assert_eq!(page.text("#netcash-wallet-button"), "NET CASH Walletで支払う");
    *page.fake.pay_answer.borrow_mut() = Some(Ok(PayOk {
        status: Status::Redirect,
        next: None,
        redirect: Some("http://127.0.0.1:8787/sandbox/netcash/wallet/login?session=ws_1".into()),
    }));
    page.click("#netcash-wallet-button").await;
    // No ID was typed and none is checked: the wallet chooses one.
    assert_eq!(page.sent(), ["pay netcash-wallet {}"]);
    assert!(page.find("#netcash-id-error").is_none() || page.text("#netcash-id-error").is_empty());
    page.answered().await;
    assert_eq!(*page.fake.redirected.borrow(), ["http://127.0.0.1:8787/sandbox/netcash/wallet/login?session=ws_1"]);
    assert!(page.get("#netcash-wallet-button").has_attribute("disabled"));
}

#[wasm_bindgen_test]
async fn au_redirect_urls_are_checked() {
    // The model drops anything but http(s) URLs: the page shows an error.
    let page = Page::open(&only("au"), Lang::En).await;
    let answer = PayOk::from_json(r#"{"status":"redirect","redirect_url":"javascript:alert(1)","next":null}"#).unwrap();
    *page.fake.pay_answer.borrow_mut() = Some(Ok(answer));
    page.click("#au-button").await;
    page.answered().await;
    assert!(page.fake.redirected.borrow().is_empty());
    assert_eq!(page.text("#error"), error_message(Lang::En, "internal"));
    assert!(!page.get("#au-button").has_attribute("disabled"));
}

#[wasm_bindgen_test]
async fn back_from_au_each_error_says_what_to_do() {
    for (code, hint) in [
        ("au_limit_exceeded", "My au"),
        ("au_overdue", "未払いの料金をお支払い"),
        ("au_restricted", "お問い合わせ"),
        ("au_cancelled", "中止"),
        ("au_timeout", "4分以内"),
    ] {
        let json = with_methods(r#"[{"method":"netcash","available":true},{"method":"au","available":true}]"#)
            .replace("\"last_error\":null", &format!("\"last_error\":{{\"code\":\"{code}\"}}"));
        let page = Page::open(&json, Lang::Ja).await;
        assert_eq!(page.text("#error"), error_message(Lang::Ja, code));
        assert!(page.text("#error").contains(hint), "{code}");
        let au: HtmlInputElement = page.get("#method-au").dyn_into().unwrap();
        assert!(au.checked(), "{code}: au is chosen again");
        assert!(page.find("#au-button").is_some());
        assert_eq!(page.text("#cancel-button"), "ショップに戻る");
    }
}

// ------------------------------------------------------------------ card

fn options(page: &Page) -> Vec<String> {
    let opts = page.root.query_selector_all("#card-option option").unwrap();
    (0..opts.length())
        .map(|i| {
            let o: Element = opts.item(i).unwrap().dyn_into().unwrap();
            o.get_attribute("value").unwrap()
        })
        .collect()
}

async fn choose_option(page: &Page, value: &str) {
    let select: HtmlSelectElement = page.get("#card-option").dyn_into().unwrap();
    select.set_value(value);
    select.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
    settle().await;
}

#[wasm_bindgen_test]
async fn card_fields_have_autofill_and_keyboard_hints() {
    let page = open_phone(&only("card"), Lang::Ja).await;
    for (id, autocomplete) in [
        ("card-number", "cc-number"),
        ("card-exp-month", "cc-exp-month"),
        ("card-exp-year", "cc-exp-year"),
        ("card-cvc", "cc-csc"),
    ] {
        let sel = format!("#{id}");
        assert_eq!(page.attr(&sel, "autocomplete").as_deref(), Some(autocomplete), "{id}");
        assert_eq!(page.attr(&sel, "inputmode").as_deref(), Some("numeric"), "{id}");
        assert!(page.find(&format!("label[for={id}]")).is_some(), "{id}");
    }
    assert_eq!(page.text("label[for=card-option]"), "お支払い回数");
    assert!(page.text(".expiry legend").contains("有効期限"));
    fits_360(&page);
}

#[wasm_bindgen_test]
async fn card_brand_is_detected_as_typed_and_sets_the_options() {
    let page = open_phone(&only("card"), Lang::Ja).await;
    assert_eq!(page.text("#card-brand"), "");
    assert_eq!(options(&page), ["single"]);
    page.type_into("#card-number", "4111111111111111").await;
    assert_eq!(page.value("#card-number"), "4111 1111 1111 1111");
    assert_eq!(page.text("#card-brand"), "Visa");
    assert_eq!(page.attr("#card-brand", "aria-live").as_deref(), Some("polite"));
    let visa = options(&page);
    assert_eq!(visa.len(), 21);
    assert_eq!(
        visa[..4],
        ["single", "bonus", "installment-3", "installment-5"]
    );
    assert!(visa.contains(&"revolving".to_string()));
    assert!(visa.contains(&"bonus_installment-24".to_string()));
    assert!(page.find("#card-option-note").is_none());
    let labels = page.text("#card-option");
    assert!(labels.contains("分割払い（3回）") && labels.contains("リボ払い") && labels.contains("ボーナス併用分割（24回）"), "{labels}");
    choose_option(&page, "installment-10").await;
    fits_360(&page);

    // Mastercard: single payment only, and the page says so.
    page.type_into("#card-number", "5555555555554444").await;
    assert_eq!(page.text("#card-brand"), "Mastercard");
    assert_eq!(options(&page), ["single"]);
    assert_eq!(
        page.text("#card-option-note"),
        "このカードでは一括払いのみご利用いただけます。"
    );
    assert_eq!(page.attr("#card-option", "aria-describedby").as_deref(), Some("card-option-note"));
    for (number, brand) in [
        ("3530111333300000", "JCB"),
        ("378282246310005", "American Express"),
        ("36227206271667", "Diners Club"),
    ] {
        page.type_into("#card-number", number).await;
        assert_eq!(page.text("#card-brand"), brand);
        assert_eq!(options(&page), ["single"]);
    }
}

#[wasm_bindgen_test]
async fn card_checks_luhn_expiry_and_cvc() {
    let page = Page::open(&only("card"), Lang::Ja).await;
    page.type_into("#card-number", "4111111111111112").await;
    page.blur_field("#card-number").await;
    assert!(page.text("#card-number-error").contains("誤り"), "Luhn");
    assert_eq!(page.attr("#card-number", "aria-invalid").as_deref(), Some("true"));
    page.type_into("#card-exp-month", "13").await;
    page.type_into("#card-exp-year", "20").await;
    page.type_into("#card-cvc", "12").await;
    page.click("#pay-button").await;
    assert!(page.sent().is_empty());
    assert!(page.text("#card-exp-month-error").contains("01〜12"));
    assert!(page.text("#card-cvc-error").contains("3桁または4桁"));
    assert_eq!(page.focused(), "card-number");
    // The session's month is 2026-09 (JST): 08/26 has expired.
    page.type_into("#card-number", "4111111111111111").await;
    page.type_into("#card-exp-month", "08").await;
    page.type_into("#card-exp-year", "26").await;
    page.click("#pay-button").await;
    assert!(page.text("#card-exp-year-error").contains("有効期限が切れています"));
    assert_eq!(page.focused(), "card-exp-year");
    page.type_into("#card-exp-month", "09").await;
    assert!(page.find("#card-exp-year-error").is_none());
}

#[wasm_bindgen_test]
async fn card_sends_number_expiry_cvc_and_option() {
    let page = Page::open(&only("card"), Lang::Ja).await;
    page.type_into("#card-number", "4111 1111 1111 1111").await;
    page.type_into("#card-exp-month", "4").await;
    page.type_into("#card-exp-year", "30").await;
    page.type_into("#card-cvc", "123").await;
    choose_option(&page, "bonus_installment-12").await;
    *page.fake.pay_answer.borrow_mut() = ok(Status::Authorized, Some("/pay/pay_x/return"));
    page.click("#pay-button").await;
    assert_eq!(
        page.sent(),
        [r#"pay card {"number":"4111111111111111","exp_month":"04","exp_year":"2030","cvc":"123","option":{"kind":"bonus_installment","count":12}}"#]
    );
    page.answered().await;
    assert!(page.text("#done").starts_with("お支払いが完了しました"));
    // Card data never reaches storage.
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    for i in 0..storage.length().unwrap() {
        let key = storage.key(i).unwrap().unwrap();
        let value = storage.get_item(&key).unwrap().unwrap_or_default();
        assert!(!value.contains("4111") && !key.contains("4111"), "{key}={value}");
    }
}

#[wasm_bindgen_test]
async fn card_errors_are_explained() {
    let page = Page::open(&only("card"), Lang::En).await;
    page.type_into("#card-number", "4242424242424242").await;
    page.type_into("#card-exp-month", "12").await;
    page.type_into("#card-exp-year", "30").await;
    page.type_into("#card-cvc", "1234").await;
    choose_option(&page, "installment-3").await;
    for code in [
        "card_declined",
        "invalid_card_number",
        "invalid_expiry",
        "card_expired",
        "invalid_cvc",
        "payment_option_unavailable",
    ] {
        *page.fake.pay_answer.borrow_mut() = fail(code);
        page.click("#pay-button").await;
        page.answered().await;
        assert_eq!(page.text("#error"), error_message(Lang::En, code), "{code}");
    }
    assert!(page.text("#error").contains("another card"));
    assert!(page.text("#error").contains("single payment"));
    assert_eq!(page.sent().len(), 6);
    assert!(page.sent()[0].ends_with(r#""option":{"kind":"installment","count":3}}"#));
}
