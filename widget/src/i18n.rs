//! Every string the shopper sees, in Japanese (the default) and English.
//!
//! Fixed texts are fields of [`Texts`], so a missing translation does not
//! compile; error messages are looked up by the server's error code.

use crate::model::Method;
use shared::money::Yen;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    /// BCP 47 code for `<html lang>`, localStorage and `?lang=`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "ja" | "ja-jp" => Some(Lang::Ja),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Ja => &JA,
            Lang::En => &EN,
        }
    }
}

/// Fixed texts of the page.
pub struct Texts {
    /// Label of the language switch: the name of the *other* language,
    /// written in that language.
    pub switch_to: &'static str,
    pub loading: &'static str,
    pub retry: &'static str,
    pub tax_included: &'static str,
    pub tax: &'static str,
    pub time_left: &'static str,
    pub secured: &'static str,
    pub method_legend: &'static str,
    pub unavailable: &'static str,
    pub maintenance: &'static str,
    pub no_form: &'static str,
    pub no_methods: &'static str,
    pub netcash_label: &'static str,
    pub netcash_hint: &'static str,
    pub netcash_empty: &'static str,
    pub netcash_incomplete: &'static str,
    pub netcash_bad_char: &'static str,
    pub processing: &'static str,
    pub cancel: &'static str,
    pub back: &'static str,
    pub back_now: &'static str,
    pub returning: &'static str,
    pub done_title: &'static str,
    pub done_body: &'static str,
    pub checking_title: &'static str,
    pub checking_body: &'static str,
    pub failed_title: &'static str,
    pub failed_body: &'static str,
    pub cancelled_body: &'static str,
    pub expired_title: &'static str,
    pub expired_body: &'static str,
    pub held_title: &'static str,
    pub held_body: &'static str,
    pub refund_title: &'static str,
    pub refund_body: &'static str,
    pub closed_body: &'static str,
    pub page_title: &'static str,
    /// Shown for an error code this page does not know.
    pub generic_error: &'static str,
}

pub const JA: Texts = Texts {
    switch_to: "English",
    loading: "読み込み中…",
    retry: "もう一度読み込む",
    tax_included: "(税込)",
    tax: "うち消費税",
    time_left: "お支払い期限まで",
    secured: "Kessai Link による安全なお支払い",
    method_legend: "お支払い方法",
    unavailable: "現在ご利用いただけません。",
    maintenance: "メンテナンス中のため、現在ご利用いただけません。",
    no_form: "このお支払い方法は、現在この画面ではご利用いただけません。別の方法をお選びください。",
    no_methods: "ご利用いただけるお支払い方法がありません。ショップに戻って、時間をおいてお試しください。",
    netcash_label: "NET CASH ID",
    netcash_hint: "16桁の英数字（4桁ごとの区切りは自動で入ります）",
    netcash_empty: "NET CASH IDを入力してください。",
    netcash_incomplete: "NET CASH IDは16桁の英数字です。入力内容をご確認ください。",
    netcash_bad_char: "NET CASH IDに使えるのは英字と数字だけです。",
    processing: "処理中…",
    cancel: "キャンセルしてショップに戻る",
    back: "ショップに戻る",
    back_now: "今すぐショップに戻る",
    returning: "まもなくショップの画面に戻ります…",
    done_title: "お支払いが完了しました",
    done_body: "ご利用ありがとうございました。",
    checking_title: "お支払いを確認しています…",
    checking_body: "この画面を閉じずに、しばらくお待ちください。",
    failed_title: "お支払いできませんでした",
    failed_body: "お支払いは完了していません。ショップに戻って、もう一度お手続きください。",
    cancelled_body: "このお支払いはキャンセルされました。",
    expired_title: "お支払いの期限が切れました",
    expired_body: "ショップに戻って、もう一度お手続きください。",
    held_title: "ご注文を受け付けました",
    held_body: "後払いの審査結果は、ショップからお知らせします。",
    refund_title: "ご注文を確定できませんでした",
    refund_body: "お支払いは行われましたが、ショップで注文を確定できませんでした。お支払いの金額は返金されます。詳しくはショップにお問い合わせください。",
    closed_body: "このお支払いの手続きは終了しています。",
    page_title: "お支払い",
    generic_error: "エラーが発生しました。もう一度お試しいただくか、ショップに戻って別の方法でお支払いください。",
};

pub const EN: Texts = Texts {
    switch_to: "日本語",
    loading: "Loading…",
    retry: "Try again",
    tax_included: "(tax incl.)",
    tax: "Tax",
    time_left: "Time left",
    secured: "Secure payment by Kessai Link",
    method_legend: "Payment method",
    unavailable: "Currently unavailable.",
    maintenance: "Unavailable during maintenance.",
    no_form: "This payment method cannot be used on this page yet. Please choose another method.",
    no_methods: "No payment method is available right now. Return to the shop and try again later.",
    netcash_label: "NET CASH ID",
    netcash_hint: "16 letters and digits (spaces are added for you)",
    netcash_empty: "Enter your NET CASH ID.",
    netcash_incomplete: "A NET CASH ID has 16 letters and digits. Please check what you entered.",
    netcash_bad_char: "A NET CASH ID contains only letters and digits.",
    processing: "Processing…",
    cancel: "Cancel and return to the shop",
    back: "Return to the shop",
    back_now: "Return to the shop now",
    returning: "Taking you back to the shop…",
    done_title: "Payment complete",
    done_body: "Thank you for your payment.",
    checking_title: "Checking your payment…",
    checking_body: "Please keep this page open for a moment.",
    failed_title: "Payment not completed",
    failed_body: "The payment was not completed. Return to the shop and start again.",
    cancelled_body: "This payment was cancelled.",
    expired_title: "This payment has expired",
    expired_body: "Return to the shop and start again.",
    held_title: "Order received",
    held_body: "The shop will tell you the result of the pay-later screening.",
    refund_title: "Your order could not be confirmed",
    refund_body: "Your payment went through, but the shop could not confirm the order. The amount will be refunded. Please contact the shop for details.",
    closed_body: "This payment is closed.",
    page_title: "Payment",
    generic_error: "Something went wrong. Try again, or return to the shop and choose another payment method.",
};

/// Every error code the server (or this page: `network`) may send.
pub const ERROR_CODES: &[&str] = &[
    "invalid_netcash_id",
    "insufficient_balance",
    "id_suspended",
    "id_not_found",
    "provider_error",
    "provider_unavailable",
    "expired",
    "already_processing",
    "already_finished",
    "not_found",
    "method_unavailable",
    "merchant_rejected",
    "rate_limited",
    "internal",
    "network",
];

/// `(ja, en)` message for a known error code, telling the shopper what to do.
pub fn error_texts(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "invalid_netcash_id" => (
            "NET CASH IDが正しくありません。16桁の英数字をご確認のうえ、もう一度入力してください。",
            "That NET CASH ID is not valid. Check the 16 letters and digits and enter it again.",
        ),
        "insufficient_balance" => (
            "残高が不足しています。別のNET CASH IDを入力するか、ショップに戻って別の方法でお支払いください。",
            "The balance is not enough. Enter another NET CASH ID, or return to the shop and choose another payment method.",
        ),
        "id_suspended" => (
            "このNET CASH IDは利用が停止されています。別のNET CASH IDを入力するか、ショップに戻って別の方法でお支払いください。",
            "This NET CASH ID is suspended. Enter another NET CASH ID, or return to the shop and choose another payment method.",
        ),
        "id_not_found" => (
            "このNET CASH IDは見つかりませんでした。入力内容をご確認のうえ、もう一度お試しください。",
            "This NET CASH ID was not found. Check what you entered and try again.",
        ),
        "provider_error" => (
            "決済事業者でエラーが発生しました。もう一度お試しいただくか、ショップに戻って別の方法でお支払いください。",
            "The payment provider reported an error. Try again, or return to the shop and choose another payment method.",
        ),
        "provider_unavailable" => (
            "決済事業者に接続できません。しばらく待ってから、もう一度お試しください。",
            "The payment provider cannot be reached right now. Wait a moment and try again.",
        ),
        "expired" => (
            "お支払いの期限が切れました。ショップに戻って、もう一度お手続きください。",
            "This payment has expired. Return to the shop and start again.",
        ),
        "already_processing" => (
            "このお支払いは処理中です。結果が表示されるまで、しばらくお待ちください。",
            "This payment is already being processed. Please wait for the result.",
        ),
        "already_finished" => (
            "このお支払いの手続きはすでに終了しています。ショップに戻ってご確認ください。",
            "This payment is already finished. Return to the shop to check it.",
        ),
        "not_found" => (
            "お支払いの情報が見つかりません。ショップに戻って、最初からやり直してください。",
            "This payment could not be found. Return to the shop and start again.",
        ),
        "method_unavailable" => (
            "このお支払い方法は現在ご利用いただけません。別の方法を選ぶか、ショップに戻ってください。",
            "This payment method is unavailable right now. Choose another method or return to the shop.",
        ),
        "merchant_rejected" => (
            "ショップで注文を確定できませんでした。お支払いは取り消され、引き落とされた金額は返金されます。詳しくはショップにお問い合わせください。",
            "The shop could not confirm your order. The payment is cancelled and any amount taken will be refunded. Please contact the shop for details.",
        ),
        "rate_limited" => (
            "短い時間に操作が繰り返されました。少し待ってから、もう一度お試しください。",
            "Too many attempts in a short time. Wait a moment and try again.",
        ),
        "internal" => (
            "システムエラーが発生しました。少し待ってからもう一度お試しいただくか、ショップに戻って別の方法でお支払いください。",
            "Something went wrong on our side. Try again in a moment, or return to the shop and choose another payment method.",
        ),
        "network" => (
            "通信できませんでした。接続をご確認のうえ、もう一度お試しください。",
            "The connection failed. Check your connection and try again.",
        ),
        _ => return None,
    })
}

/// The message for an error code in `lang`; unknown codes get the generic one.
pub fn error_message(lang: Lang, code: &str) -> &'static str {
    match (error_texts(code), lang) {
        (Some((ja, _)), Lang::Ja) => ja,
        (Some((_, en)), Lang::En) => en,
        (None, _) => lang.texts().generic_error,
    }
}

/// `¥1,100`
pub fn yen(amount: Yen) -> String {
    format!("¥{}", amount.grouped())
}

/// `¥1,100 を支払う` / `Pay ¥1,100`
pub fn pay_label(lang: Lang, amount: Yen) -> String {
    match lang {
        Lang::Ja => format!("{} を支払う", yen(amount)),
        Lang::En => format!("Pay {}", yen(amount)),
    }
}

/// `9:05`, or `1:00:00` from an hour up.
pub fn clock(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

pub fn method_name(lang: Lang, method: &Method) -> &str {
    match (method, lang) {
        (Method::Netcash, _) => "NET CASH",
        (Method::Prepaid, Lang::Ja) => "プリペイドカード",
        (Method::Prepaid, Lang::En) => "Prepaid card",
        (Method::Np, Lang::Ja) => "NP後払い",
        (Method::Np, Lang::En) => "NP postpay (pay later)",
        (Method::Au, Lang::Ja) => "auかんたん決済",
        (Method::Au, Lang::En) => "au Easy Payment",
        (Method::Card, Lang::Ja) => "クレジットカード",
        (Method::Card, Lang::En) => "Credit card",
        (Method::Other(key), _) => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // Also run them in the browser under `cargo test --target wasm32-unknown-unknown`.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Error codes named in the page contract; every one must be translated.
    const CONTRACT_CODES: &[&str] = &[
        "invalid_netcash_id",
        "insufficient_balance",
        "id_suspended",
        "id_not_found",
        "provider_error",
        "provider_unavailable",
        "expired",
        "already_processing",
        "already_finished",
        "not_found",
        "method_unavailable",
        "merchant_rejected",
        "rate_limited",
        "internal",
    ];

    fn is_japanese(s: &str) -> bool {
        s.chars().any(|c| {
            ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c)
        })
    }

    #[test]
    fn every_error_code_has_japanese_and_english_text() {
        for code in CONTRACT_CODES.iter().chain(ERROR_CODES) {
            assert!(
                ERROR_CODES.contains(code),
                "{code} missing from ERROR_CODES"
            );
            let (ja, en) = error_texts(code).unwrap_or_else(|| panic!("no text for {code}"));
            assert!(is_japanese(ja), "{code}: ja text is not Japanese: {ja}");
            assert!(
                !is_japanese(en) && en.is_ascii(),
                "{code}: en text is not English: {en}"
            );
            assert_ne!(
                ja, JA.generic_error,
                "{code} falls back to the generic text"
            );
            assert_ne!(
                en, EN.generic_error,
                "{code} falls back to the generic text"
            );
            assert_eq!(error_message(Lang::Ja, code), ja);
            assert_eq!(error_message(Lang::En, code), en);
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let (ja, en) = error_texts("insufficient_balance").unwrap();
        assert_eq!(ja, "残高が不足しています。別のNET CASH IDを入力するか、ショップに戻って別の方法でお支払いください。");
        assert!(en.contains("another NET CASH ID"));
    }

    #[test]
    fn unknown_code_gets_the_generic_message() {
        assert_eq!(error_message(Lang::Ja, "no_such_code"), JA.generic_error);
        assert_eq!(error_message(Lang::En, "no_such_code"), EN.generic_error);
    }

    #[test]
    fn fixed_texts_are_translated() {
        let ja = [
            JA.loading,
            JA.cancel,
            JA.back,
            JA.processing,
            JA.done_title,
            JA.tax_included,
            JA.netcash_empty,
            JA.expired_title,
            JA.generic_error,
        ];
        let en = [
            EN.loading,
            EN.cancel,
            EN.back,
            EN.processing,
            EN.done_title,
            EN.tax_included,
            EN.netcash_empty,
            EN.expired_title,
            EN.generic_error,
        ];
        for (j, e) in ja.iter().zip(en) {
            assert!(is_japanese(j), "{j}");
            assert!(!is_japanese(e), "{e}");
        }
        assert_eq!(JA.cancel, "キャンセルしてショップに戻る");
        assert_eq!(JA.back, "ショップに戻る");
        assert_eq!(JA.tax_included, "(税込)");
        assert_eq!(EN.tax_included, "(tax incl.)");
        assert!(JA.done_title.starts_with("お支払いが完了しました"));
    }

    #[test]
    fn formats_amounts_and_clock() {
        assert_eq!(pay_label(Lang::Ja, Yen::new(1100)), "¥1,100 を支払う");
        assert_eq!(pay_label(Lang::En, Yen::new(1100)), "Pay ¥1,100");
        assert_eq!(clock(600), "10:00");
        assert_eq!(clock(59), "0:59");
        assert_eq!(clock(3600), "1:00:00");
        assert_eq!(clock(-5), "0:00");
    }

    #[test]
    fn language_codes() {
        assert_eq!(Lang::from_code("EN"), Some(Lang::En));
        assert_eq!(Lang::from_code("ja"), Some(Lang::Ja));
        assert_eq!(Lang::from_code("fr"), None);
        assert_eq!(Lang::Ja.other(), Lang::En);
    }
}
