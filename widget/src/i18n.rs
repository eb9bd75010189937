//! Every string the shopper sees, in Japanese (the default) and English.
//!
//! Fixed texts are fields of [`Texts`], so a missing translation does not
//! compile; error messages are looked up by the server's error code.
//!
//! What a Japanese page needs before it is payable is in the wasm: the
//! Japanese fixed texts and field messages. The rest, the English texts
//! and every error message (together about 5 KB compressed), is the
//! *text pack* `/pkg/texts.txt`: written by the build from the tables here
//! ([`pack_text`], `cargo xtask build`), fetched with its Subresource
//! Integrity hash on the shopper's first interaction, before English is
//! shown and before an error is ([`load_pack`]), and read back
//! by [`Pack::read`]. Its tables ([`EN`], [`ERRORS`], the English column of
//! [`FIELD_MESSAGE_ROWS`]) are never used by the page's code, so they are
//! not in its wasm.

use crate::model::Method;
use crate::field::{Field, FIELDS};
use shared::card::{Brand, PaymentOption};
use shared::money::Yen;
use shared::np::{message_ja, FieldError};

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

    /// The fixed texts. English comes with the text pack (see [`Pack`]):
    /// until it is installed, the Japanese ones.
    pub fn texts(self) -> &'static Texts {
        match (self, pack()) {
            (Lang::En, Some(p)) => &p.en,
            _ => &JA,
        }
    }
}

/// Declares [`Texts`] from one list of fields, and the pack's layout
/// (the values in field order) from the same list.
macro_rules! texts {
    ($($(#[$doc:meta])* $name:ident: $t:tt,)*) => {
        /// Fixed texts of the page. (`repr(C)` and nothing but `&'static
        /// str`s: laid out as `[&'static str; Texts::COUNT]`, see `read`.)
        #[repr(C)]
        pub struct Texts {
            $($(#[$doc])* pub $name: texts!(@ty $t),)*
        }

        impl Texts {
            /// Every value, in field order: the pack's layout.
            pub fn values(&self) -> Vec<&'static str> {
                let mut v = Vec::new();
                $(texts!(@push v, self.$name, $t);)*
                v
            }

            /// How many values a `Texts` has.
            const COUNT: usize = 0 $(+ texts!(@count $t))*;

            /// The values back, in the same order (`None` if too few).
            fn read(values: &[&'static str]) -> Option<Texts> {
                let values: [&'static str; Self::COUNT] = values.get(..Self::COUNT)?.try_into().ok()?;
                // SAFETY: `Texts` is `repr(C)` and each of its fields is a
                // `&'static str` or an array of them, all of one size and
                // alignment, so it has no padding and is laid out as
                // `[&'static str; COUNT]` in field order (checked below at
                // compile time, and by the tests against `values`).
                Some(unsafe { std::mem::transmute::<[&'static str; Self::COUNT], Texts>(values) })
            }
        }
    };
    (@ty str) => { &'static str };
    (@ty [str; $n:expr]) => { [&'static str; $n] };
    (@push $v:ident, $e:expr, str) => { $v.push($e) };
    (@push $v:ident, $e:expr, [str; $n:expr]) => { $v.extend_from_slice(&$e) };
    (@count str) => { 1 };
    (@count [str; $n:expr]) => { $n };
}

texts! {
    /// Label of the language switch: the name of the *other* language,
    /// written in that language.
    switch_to: str,
    loading: str,
    retry: str,
    tax_included: str,
    tax: str,
    time_left: str,
    secured: str,
    method_legend: str,
    unavailable: str,
    maintenance: str,
    no_form: str,
    no_methods: str,
    /// Each field's label, by [`Field`].
    labels: [str; FIELDS],
    /// Each field's hint under its label, by [`Field`].
    hints: [str; FIELDS],
    /// One line under each method's name in the picker: NET CASH, prepaid,
    /// NP, au, card.
    method_descs: [str; 5],
    np_intro: str,
    au_intro: str,
    au_button: str,
    wallet_button: str,
    au_leaving: str,
    expiry_legend: str,
    option_label: str,
    /// 一括, ボーナス一括, リボ, 分割, ボーナス併用分割.
    option_names: [str; 5],
    single_only: str,
    ordered_title: str,
    ordered_body: str,
    processing: str,
    cancel: str,
    back: str,
    back_now: str,
    returning: str,
    done_title: str,
    done_body: str,
    /// A recurring registration that charged nothing.
    registered_title: str,
    registered_body: str,
    /// Under the amount of a recurring checkout.
    recurring_monthly: str,
    recurring_fixed: str,
    recurring_nothing_now: str,
    checking_title: str,
    checking_body: str,
    failed_title: str,
    failed_body: str,
    cancelled_body: str,
    expired_title: str,
    expired_body: str,
    held_title: str,
    held_body: str,
    refund_title: str,
    refund_body: str,
    closed_body: str,
    page_title: str,
    /// Shown for an error code this page does not know.
    generic_error: str,
}

const _: () = assert!(std::mem::size_of::<Texts>() == Texts::COUNT * std::mem::size_of::<&str>());

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
    labels: [
        "NET CASH ID",
        "カード番号",
        "お名前",
        "フリガナ",
        "郵便番号",
        "住所",
        "電話番号",
        "メールアドレス",
        "カード番号",
        "月",
        "年",
        "セキュリティコード",
    ],
    hints: [
        "16桁の英数字（4桁ごとの区切りは自動で入ります）",
        "カードに記載の16桁の数字（4桁ごとの区切りは自動で入ります）",
        "例: 山田 太郎",
        "全角カタカナ（例: ヤマダ タロウ）",
        "7桁の数字（例: 150-0001）",
        "都道府県から建物名・部屋番号まで",
        "例: 090-1234-5678",
        "審査の結果などをお送りします",
        "カードに記載の14〜16桁の数字",
        "MM（例: 04）",
        "YY（例: 30）",
        "カード裏面の3桁（American Expressは表面の4桁）",
    ],
    method_descs: [
        "NET CASH IDでお支払い",
        "カードに記載の16桁の番号でお支払い",
        "商品の到着後にお支払い（請求書は郵送、コンビニ・郵便局・銀行で払込み）",
        "au・UQ mobileの携帯電話料金、au PAY 残高・au PAY カードでお支払い",
        "Visa・Mastercard・JCB・American Express・Diners Club",
    ],
    np_intro: "商品の到着後に、郵送で届く請求書でコンビニ・郵便局・銀行からお支払いください。ご注文時に審査があります。",
    au_intro: "auかんたん決済の画面に移動します。au IDでログインし、お支払い方法を選んでください。4分以内にお手続きください。",
    au_button: "auかんたん決済で支払う",
    wallet_button: "NET CASH Walletで支払う",
    au_leaving: "auかんたん決済の画面に移動しています…",
    expiry_legend: "有効期限（月 / 年）",
    option_label: "お支払い回数",
    option_names: ["一括払い", "ボーナス一括払い", "リボ払い", "分割払い", "ボーナス併用分割"],
    single_only: "このカードでは一括払いのみご利用いただけます。",
    ordered_title: "ご注文が完了しました",
    ordered_body: "請求書は商品の発送後に郵送でお届けします。",
    processing: "処理中…",
    cancel: "キャンセルしてショップに戻る",
    back: "ショップに戻る",
    back_now: "今すぐショップに戻る",
    returning: "まもなくショップの画面に戻ります…",
    done_title: "お支払いが完了しました",
    done_body: "ご利用ありがとうございました。",
    registered_title: "お申し込みが完了しました",
    registered_body: "継続課金に登録しました。今回のお支払いはありません。",
    recurring_monthly: "継続課金：毎月1日に請求されます",
    recurring_fixed: "継続課金：ご利用に応じてショップから請求されます",
    recurring_nothing_now: "今回のお支払いはありません",
    checking_title: "お支払いを確認しています…",
    checking_body: "この画面を閉じずに、しばらくお待ちください。",
    failed_title: "お支払いできませんでした",
    failed_body: "お支払いは完了していません。ショップに戻って、もう一度お手続きください。",
    cancelled_body: "このお支払いはキャンセルされました。",
    expired_title: "お支払いの期限が切れました",
    expired_body: "ショップに戻って、もう一度お手続きください。",
    held_title: "ご注文を受け付けました",
    held_body: "審査結果は後ほどメールでお知らせします。",
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
    labels: [
        "NET CASH ID",
        "Card number",
        "Full name",
        "Name in katakana",
        "Postal code",
        "Address",
        "Phone number",
        "Email address",
        "Card number",
        "Month",
        "Year",
        "Security code",
    ],
    hints: [
        "16 letters and digits (spaces are added for you)",
        "The 16 digits on your card (spaces are added for you)",
        "e.g. 山田 太郎",
        "Full-width katakana, e.g. ヤマダ タロウ",
        "7 digits, e.g. 150-0001",
        "From the prefecture to the building and room number",
        "e.g. 090-1234-5678",
        "We send the screening result here",
        "The 14 to 16 digits on your card",
        "MM, e.g. 04",
        "YY, e.g. 30",
        "3 digits on the back (4 on the front for American Express)",
    ],
    method_descs: [
        "Pay with your NET CASH ID",
        "Pay with the 16-digit number on your card",
        "Pay after delivery (invoice by post, pay at a convenience store, post office or bank)",
        "Pay with your au or UQ mobile phone bill, au PAY balance or au PAY card",
        "Visa, Mastercard, JCB, American Express, Diners Club",
    ],
    np_intro: "Pay after delivery with the invoice sent by post, at a convenience store, post office or bank. Your order is screened first.",
    au_intro: "You will go to the au Easy Payment page. Log in with your au ID and choose how to pay, within 4 minutes.",
    au_button: "Pay with au Easy Payment",
    wallet_button: "Pay with NET CASH Wallet",
    au_leaving: "Taking you to au Easy Payment…",
    expiry_legend: "Expiry date (month / year)",
    option_label: "Payment option",
    option_names: ["Single payment", "Bonus payment", "Revolving", "Installments", "Bonus + installments"],
    single_only: "This card can only be paid in a single payment.",
    ordered_title: "Order complete",
    ordered_body: "The invoice will be sent by post after your order ships.",
    processing: "Processing…",
    cancel: "Cancel and return to the shop",
    back: "Return to the shop",
    back_now: "Return to the shop now",
    returning: "Taking you back to the shop…",
    done_title: "Payment complete",
    done_body: "Thank you for your payment.",
    registered_title: "You are signed up",
    registered_body: "The subscription is registered. Nothing is charged now.",
    recurring_monthly: "Subscription: billed on the 1st of each month",
    recurring_fixed: "Subscription: billed by the shop as you use it",
    recurring_nothing_now: "Nothing is charged now",
    checking_title: "Checking your payment…",
    checking_body: "Please keep this page open for a moment.",
    failed_title: "Payment not completed",
    failed_body: "The payment was not completed. Return to the shop and start again.",
    cancelled_body: "This payment was cancelled.",
    expired_title: "This payment has expired",
    expired_body: "Return to the shop and start again.",
    held_title: "Order received",
    held_body: "We will email you the screening result shortly.",
    refund_title: "Your order could not be confirmed",
    refund_body: "Your payment went through, but the shop could not confirm the order. The amount will be refunded. Please contact the shop for details.",
    closed_body: "This payment is closed.",
    page_title: "Payment",
    generic_error: "Something went wrong. Try again, or return to the shop and choose another payment method.",
};

/// Every error code the server (or this page: `network`) may send, with
/// its `(ja, en)` message telling the shopper what to do. (A table, not a
/// `match`: smaller in wasm.)
pub const ERRORS: &[(&str, &str, &str)] = &[
    (
        "invalid_netcash_id",
        "NET CASH IDが正しくありません。16桁の英数字をご確認のうえ、もう一度入力してください。",
        "That NET CASH ID is not valid. Check the 16 letters and digits and enter it again.",
    ),
    (
        "insufficient_balance",
        "残高が不足しています。別のNET CASH IDを入力するか、ショップに戻って別の方法でお支払いください。",
        "The balance is not enough. Enter another NET CASH ID, or return to the shop and choose another payment method.",
    ),
    (
        "id_suspended",
        "このNET CASH IDは利用が停止されています。別のNET CASH IDを入力するか、ショップに戻って別の方法でお支払いください。",
        "This NET CASH ID is suspended. Enter another NET CASH ID, or return to the shop and choose another payment method.",
    ),
    (
        "id_not_found",
        "このNET CASH IDは見つかりませんでした。入力内容をご確認のうえ、もう一度お試しください。",
        "This NET CASH ID was not found. Check what you entered and try again.",
    ),
    (
        "provider_error",
        "決済事業者でエラーが発生しました。もう一度お試しいただくか、ショップに戻って別の方法でお支払いください。",
        "The payment provider reported an error. Try again, or return to the shop and choose another payment method.",
    ),
    (
        "provider_unavailable",
        "決済事業者に接続できません。しばらく待ってから、もう一度お試しください。",
        "The payment provider cannot be reached right now. Wait a moment and try again.",
    ),
    (
        "expired",
        "お支払いの期限が切れました。ショップに戻って、もう一度お手続きください。",
        "This payment has expired. Return to the shop and start again.",
    ),
    (
        "already_processing",
        "このお支払いは処理中です。結果が表示されるまで、しばらくお待ちください。",
        "This payment is already being processed. Please wait for the result.",
    ),
    (
        "already_finished",
        "このお支払いの手続きはすでに終了しています。ショップに戻ってご確認ください。",
        "This payment is already finished. Return to the shop to check it.",
    ),
    (
        "not_found",
        "お支払いの情報が見つかりません。ショップに戻って、最初からやり直してください。",
        "This payment could not be found. Return to the shop and start again.",
    ),
    (
        "method_unavailable",
        "このお支払い方法は現在ご利用いただけません。別の方法を選ぶか、ショップに戻ってください。",
        "This payment method is unavailable right now. Choose another method or return to the shop.",
    ),
    (
        "merchant_rejected",
        "ショップで注文を確定できませんでした。お支払いは取り消され、引き落とされた金額は返金されます。詳しくはショップにお問い合わせください。",
        "The shop could not confirm your order. The payment is cancelled and any amount taken will be refunded. Please contact the shop for details.",
    ),
    (
        "rate_limited",
        "短い時間に操作が繰り返されました。少し待ってから、もう一度お試しください。",
        "Too many attempts in a short time. Wait a moment and try again.",
    ),
    (
        "internal",
        "システムエラーが発生しました。少し待ってからもう一度お試しいただくか、ショップに戻って別の方法でお支払いください。",
        "Something went wrong on our side. Try again in a moment, or return to the shop and choose another payment method.",
    ),
    (
        "network",
        "通信できませんでした。接続をご確認のうえ、もう一度お試しください。",
        "The connection failed. Check your connection and try again.",
    ),
    (
        "prepaid_insufficient_balance",
        "カードの残高が不足しています。別のプリペイドカードの番号を入力するか、別のお支払い方法をお選びください。",
        "The card balance is not enough. Enter another prepaid card number, or choose another payment method.",
    ),
    (
        "invalid_prepaid_number",
        "プリペイドカードの番号が正しくありません。16桁の数字をご確認のうえ、もう一度入力してください。",
        "That prepaid card number is not valid. Check the 16 digits and enter it again.",
    ),
    (
        "card_not_found",
        "このカード番号は見つかりませんでした。入力内容をご確認のうえ、もう一度お試しください。",
        "This card number was not found. Check what you entered and try again.",
    ),
    (
        "card_locked",
        "このプリペイドカードは利用が停止されています。別のカードを使うか、別のお支払い方法をお選びください。",
        "This prepaid card is locked. Use another card, or choose another payment method.",
    ),
    (
        "np_declined",
        "審査の結果、このご注文ではNP後払いをご利用いただけません。別のお支払い方法をお選びください。",
        "NP postpaid cannot be used for this order after screening. Please choose another payment method.",
    ),
    (
        "invalid_buyer",
        "ご入力内容に誤りがあります。各項目のメッセージをご確認ください。",
        "Some details are not valid. Check the messages under the fields.",
    ),
    (
        "np_limit_exceeded",
        "NP後払いのご利用限度額を超えるため、ご利用いただけません。お支払い前の請求があれば、お支払い後に再びご利用いただけます。別のお支払い方法をお選びください。",
        "This order is over your NP postpaid limit. Once unpaid invoices are paid you can use it again. Please choose another payment method.",
    ),
    (
        "au_limit_exceeded",
        "auかんたん決済のご利用可能額を超えています。別のお支払い方法を選ぶか、My auでご利用可能額をご確認ください。",
        "This is over your au Easy Payment limit. Choose another payment method, or check your available amount in My au.",
    ),
    (
        "au_overdue",
        "au・UQ mobileのご利用料金に未払いがあるため、ご利用いただけません。未払いの料金をお支払いのうえもう一度お試しいただくか、別のお支払い方法をお選びください。",
        "There is an overdue au or UQ mobile bill. Pay the overdue bill and try again, or choose another payment method.",
    ),
    (
        "au_restricted",
        "このau IDではauかんたん決済のご利用が制限されています。auお客さまセンターにお問い合わせいただくか、別のお支払い方法をお選びください。",
        "au Easy Payment is restricted for this au ID. Contact au customer support, or choose another payment method.",
    ),
    (
        "au_cancelled",
        "auかんたん決済の画面でお支払いが中止されました。もう一度お試しいただくか、別のお支払い方法をお選びください。",
        "The payment was stopped on the au Easy Payment page. Try again, or choose another payment method.",
    ),
    (
        "netcash_wallet_cancelled",
        "NET CASH Walletでのお支払いが中止されました。もう一度お試しいただくか、NET CASH IDを入力してください。",
        "The payment was stopped in NET CASH Wallet. Try again, or enter a NET CASH ID.",
    ),
    (
        "au_timeout",
        "auかんたん決済のお手続きが時間内に終わりませんでした。もう一度「auかんたん決済で支払う」を押し、4分以内にお手続きください。",
        "The au Easy Payment step took too long. Press \"Pay with au Easy Payment\" again and finish within 4 minutes.",
    ),
    (
        "card_declined",
        "カード会社によりお取引が承認されませんでした。別のカードを使うか、カード会社にお問い合わせください。",
        "The card issuer declined this payment. Use another card, or contact your card issuer.",
    ),
    (
        "invalid_card_number",
        "カード番号が正しくありません。入力内容をご確認ください。",
        "The card number is not valid. Please check it.",
    ),
    (
        "invalid_expiry",
        "有効期限が正しくありません。カードに記載の月と年（下2桁）を入力してください。",
        "The expiry date is not valid. Enter the month and the last two digits of the year shown on the card.",
    ),
    (
        "card_expired",
        "このカードは有効期限が切れています。別のカードをお使いください。",
        "This card has expired. Please use another card.",
    ),
    (
        "invalid_cvc",
        "セキュリティコードが正しくありません。カード裏面の3桁（American Expressは表面の4桁）をご確認ください。",
        "The security code is not valid. Check the 3 digits on the back (4 on the front for American Express).",
    ),
    (
        "invalid_payment_option",
        "お支払い回数の指定が正しくありません。もう一度お選びください。",
        "The payment option is not valid. Choose it again.",
    ),
    (
        "card_not_accepted",
        "このブランドのカードはご利用いただけません。別のカードをお使いください。",
        "Cards of this brand are not accepted. Use another card.",
    ),
    (
        "card_authentication_required",
        "カード会社が本人認証を求めていますが、この画面では認証できません。別のカードをお使いいただくか、ショップに戻って別の方法をお選びください。",
        "The card issuer asks for authentication this page cannot provide. Use another card, or return to the shop and choose another payment method.",
    ),
    (
        "provider_unclear",
        "決済事業者からの応答を確認しています。この画面を閉じずにお待ちください。二重に請求されることはありません。",
        "We are checking this payment with the provider. Please keep this page open; you will not be charged twice.",
    ),
    (
        "method_maintenance",
        "このお支払い方法は現在メンテナンス中です。別の方法を選ぶか、しばらくしてからお試しください。",
        "This payment method is under maintenance. Choose another method or try again later.",
    ),
    (
        "invalid_body",
        "送信内容を読み取れませんでした。ページを再読み込みして、もう一度お試しください。",
        "What was sent could not be read. Reload the page and try again.",
    ),
    (
        "unsupported_media_type",
        "送信内容を読み取れませんでした。ページを再読み込みして、もう一度お試しください。",
        "What was sent could not be read. Reload the page and try again.",
    ),
    (
        "request_too_large",
        "入力内容が長すぎます。短くして、もう一度お試しください。",
        "What you entered is too long. Shorten it and try again.",
    ),
    (
        "payment_option_unavailable",
        "このカードでは選んだお支払い回数をご利用いただけません（海外で発行されたカードなど）。一括払いなど別のお支払い回数を選ぶか、別のカードをお使いください。",
        "This card cannot use the payment option you chose (for example, a card issued outside Japan). Choose another option such as a single payment, or use another card.",
    ),
];

/// `(ja, en)` message for a known error code, from the text pack.
pub fn error_texts(code: &str) -> Option<(&'static str, &'static str)> {
    pack()?.errors.iter().find(|e| e.0 == code).map(|e| (e.1, e.2))
}

/// The Japanese `network` message, in the wasm: the one error the text
/// pack may be missing for (it could not be fetched either).
const NETWORK_JA: &str = "通信できませんでした。接続をご確認のうえ、もう一度お試しください。";

/// The message for an error code in `lang`; unknown codes get the generic one.
pub fn error_message(lang: Lang, code: &str) -> &'static str {
    match (error_texts(code), lang) {
        (Some((ja, _)), Lang::Ja) => ja,
        (Some((_, en)), Lang::En) => en,
        (None, Lang::Ja) if code == "network" && pack().is_none() => NETWORK_JA,
        (None, _) => lang.texts().generic_error,
    }
}

/// The banner message for `code` after an attempt with `method` (some
/// codes are worded per method).
pub fn error_message_for(lang: Lang, method: Option<&Method>, code: &str) -> &'static str {
    match (method, code) {
        (Some(Method::Prepaid), "insufficient_balance") => {
            error_message(lang, "prepaid_insufficient_balance")
        }
        _ => error_message(lang, code),
    }
}

/// Messages under fields: `(field, code, ja, en)`, `None` or `""`
/// matching any; the first match wins. (A table, not a `match`: smaller
/// in wasm.) NP's Japanese wording is `shared::np`'s. The page keeps the
/// first three columns ([`FIELD_MESSAGES`]); the English one is in the
/// text pack.
pub const FIELD_MESSAGE_ROWS: [(Option<Field>, &str, &str, &str); 17] = [
    (
        Some(Field::NetcashId),
        "required",
        "NET CASH IDを入力してください。",
        "Enter your NET CASH ID.",
    ),
    (
        Some(Field::NetcashId),
        "bad_char",
        "NET CASH IDに使えるのは英字と数字だけです。",
        "A NET CASH ID contains only letters and digits.",
    ),
    (
        Some(Field::NetcashId),
        "",
        "NET CASH IDは16桁の英数字です。入力内容をご確認ください。",
        "A NET CASH ID has 16 letters and digits. Please check what you entered.",
    ),
    (None, "required", "入力してください。", "Please fill this in."),
    (
        Some(Field::PrepaidNumber),
        "",
        "プリペイドカードの番号は16桁の数字です。入力内容をご確認ください。",
        "A prepaid card number has 16 digits. Please check what you entered.",
    ),
    (
        Some(Field::CardNumber),
        "luhn",
        "カード番号に誤りがあります。入力内容をご確認ください。",
        "This card number is not valid. Please check it.",
    ),
    (
        Some(Field::CardNumber),
        "",
        "カード番号は14〜16桁の数字です。",
        "A card number has 14 to 16 digits.",
    ),
    (None, "month", "月は01〜12の数字で入力してください。", "Enter the month as 01 to 12."),
    (
        None,
        "year",
        "年は西暦の下2桁で入力してください（例: 2030年なら30）。",
        "Enter the last two digits of the year (30 for 2030).",
    ),
    (
        None,
        "expired",
        "このカードは有効期限が切れています。別のカードをお使いください。",
        "This card has expired. Please use another card.",
    ),
    (
        None,
        "cvc",
        "セキュリティコードは3桁または4桁の数字です。",
        "The security code has 3 or 4 digits.",
    ),
    (None, "katakana", "", "Enter it in full-width katakana."),
    (Some(Field::NpPostalCode), "", "", "Enter the 7-digit postal code, e.g. 150-0001."),
    (Some(Field::NpPhone), "", "", "Enter a phone number of 10 or 11 digits starting with 0."),
    (Some(Field::NpEmail), "", "", "Check the email address, e.g. taro@example.jp."),
    (None, "too_long", "", "This is too long. Please shorten it."),
    (None, "", "入力内容をご確認ください。", "Please check what you entered."),
];

/// [`FIELD_MESSAGE_ROWS`] without English: what the page's wasm holds.
const FIELD_MESSAGES: [(Option<Field>, &str, &str); FIELD_MESSAGE_ROWS.len()] = {
    let mut out = [(None, "", ""); FIELD_MESSAGE_ROWS.len()];
    let mut i = 0;
    while i < out.len() {
        let (field, code, ja, _) = FIELD_MESSAGE_ROWS[i];
        out[i] = (field, code, ja);
        i += 1;
    }
    out
};

/// The message under a field for one of its problem codes (see
/// [`crate::field::Problem`]). In English before the pack is in (which
/// the page does not show), the Japanese one.
pub fn field_message(lang: Lang, field: Field, code: &'static str) -> &'static str {
    if let (Some(name), Lang::Ja) = (field.np_name(), lang) {
        return message_ja(FieldError { field: name, code });
    }
    let Some(row) = FIELD_MESSAGES
        .iter()
        .position(|m| m.0.is_none_or(|f| f == field) && (m.1.is_empty() || m.1 == code))
    else {
        return "";
    };
    match (lang, pack()) {
        (Lang::En, Some(p)) => p.field_en[row],
        _ => FIELD_MESSAGES[row].2,
    }
}

/// The text pack: what the page fetches when it first needs it (module
/// documentation). One value per line: a header, the English [`Texts`] in
/// field order, the English field messages in [`FIELD_MESSAGE_ROWS`]'
/// order, then one `code<TAB>ja<TAB>en` line per error.
pub struct Pack {
    pub en: Texts,
    field_en: Vec<&'static str>,
    errors: Vec<(&'static str, &'static str, &'static str)>,
}

const PACK_HEADER: &str = "kessai-link texts 1";

impl Pack {
    /// Reads a pack; `None` unless it is whole and of this layout.
    pub fn read(text: &'static str) -> Option<Pack> {
        let lines: Vec<&'static str> = text.split('\n').collect();
        let (header, rest) = lines.split_first()?;
        if *header != PACK_HEADER {
            return None;
        }
        let en = Texts::read(rest)?;
        let rest = &rest[Texts::COUNT..];
        let field_en = rest.get(..FIELD_MESSAGES.len())?.to_vec();
        let errors = rest[field_en.len()..]
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let mut p = l.split('\t');
                Some((p.next()?, p.next()?, p.next()?))
            })
            .collect::<Option<Vec<_>>>()?;
        (!errors.is_empty()).then_some(Pack { en, field_en, errors })
    }
}

/// The text pack as the build writes it (`static/pkg/texts.txt`).
pub fn pack_text() -> String {
    let mut out = vec![PACK_HEADER.to_owned()];
    let one = |s: &str| {
        assert!(!s.contains('\n') && !s.contains('\t'), "a text with a line break or tab: {s}");
        s.to_owned()
    };
    out.extend(EN.values().into_iter().map(one));
    out.extend(FIELD_MESSAGE_ROWS.iter().map(|r| one(r.3)));
    out.extend(ERRORS.iter().map(|(code, ja, en)| [one(code), one(ja), one(en)].join("\t")));
    out.join("\n") + "\n"
}

thread_local! {
    static PACK: std::cell::OnceCell<&'static Pack> = const { std::cell::OnceCell::new() };
}

/// The installed text pack, if any.
pub fn pack() -> Option<&'static Pack> {
    // The crate's own tests run with the pack in, as the page after its
    // first interaction (widget/tests install it themselves).
    #[cfg(test)]
    if PACK.with(|p| p.get().is_none()) {
        install(pack_text());
    }
    PACK.with(|p| p.get().copied())
}

thread_local! {
    /// A fetch of the text pack is under way (one at a time).
    static LOADING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs the text pack unless it is in: fetched once (a second caller
/// waits for the first) by [`crate::api::fetch_texts`]. `false` if it
/// could not be had.
pub async fn load_pack() -> bool {
    while LOADING.with(|l| l.get()) {
        yew::platform::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    if pack().is_some() {
        return true;
    }
    LOADING.with(|l| l.set(true));
    let installed = crate::api::fetch_texts().await.is_some_and(install);
    LOADING.with(|l| l.set(false));
    installed
}

/// Installs a pack (once per page; it lives as long as the page).
/// `false` if it cannot be read.
pub fn install(text: String) -> bool {
    if PACK.with(|p| p.get().is_some()) {
        return true;
    }
    match Pack::read(Box::leak(text.into_boxed_str())) {
        Some(p) => {
            PACK.with(|c| {
                let _ = c.set(Box::leak(Box::new(p)));
            });
            true
        }
        None => false,
    }
}

/// `一括払い`, `分割払い（3回）`, `Installments (3)`, ...
pub fn option_label(lang: Lang, option: PaymentOption) -> String {
    let (i, count) = match option {
        PaymentOption::Single => (0, None),
        PaymentOption::Bonus => (1, None),
        PaymentOption::Revolving => (2, None),
        PaymentOption::Installment { count } => (3, Some(count)),
        PaymentOption::BonusInstallment { count } => (4, Some(count)),
    };
    let name = lang.texts().option_names[i];
    match (count, lang) {
        (None, _) => name.to_owned(),
        (Some(n), Lang::Ja) => format!("{name}（{n}回）"),
        (Some(n), Lang::En) => format!("{name} ({n})"),
    }
}

/// The brand label shown by the card number (empty while unknown).
pub fn brand_name(brand: Brand) -> &'static str {
    match brand {
        Brand::Visa => "Visa",
        Brand::Mastercard => "Mastercard",
        Brand::Jcb => "JCB",
        Brand::Amex => "American Express",
        Brand::Diners => "Diners Club",
        Brand::Unknown => "",
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
        (Method::Np, Lang::En) => "NP postpaid",
        (Method::Au, Lang::Ja) => "auかんたん決済",
        (Method::Au, Lang::En) => "au Easy Payment",
        (Method::Card, Lang::Ja) => "クレジットカード",
        (Method::Card, Lang::En) => "Credit card",
        (Method::Other(key), _) => key,
    }
}

/// One line under the method's name in the picker.
pub fn method_desc(lang: Lang, method: &Method) -> &'static str {
    let i = match method {
        Method::Netcash => 0,
        Method::Prepaid => 1,
        Method::Np => 2,
        Method::Au => 3,
        Method::Card => 4,
        Method::Other(_) => return "",
    };
    lang.texts().method_descs[i]
}

#[cfg(test)]
mod tests {
    use super::*;
    // Also run them in the browser under `cargo test --target wasm32-unknown-unknown`.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;


    fn is_japanese(s: &str) -> bool {
        s.chars().any(|c| {
            ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c)
        })
    }

    #[test]
    fn every_error_code_has_japanese_and_english_text() {
        // Every code the Worker can answer the page with (one type, in
        // `shared::codes`), and every code this page knows.
        let worker_codes = shared::codes::Code::ALL.iter().map(|c| c.as_str());
        for code in worker_codes.chain(ERRORS.iter().map(|e| e.0)).collect::<Vec<_>>().iter() {
            assert!(
                ERRORS.iter().any(|e| e.0 == *code),
                "{code} missing from ERRORS"
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
    fn the_text_pack_reads_back_what_the_build_wrote() {
        let text = pack_text();
        let p = Pack::read(Box::leak(text.clone().into_boxed_str())).expect("the pack reads");
        assert_eq!(p.en.values(), EN.values());
        assert_eq!(p.field_en, FIELD_MESSAGE_ROWS.iter().map(|r| r.3).collect::<Vec<_>>());
        assert_eq!(p.errors, ERRORS.to_vec());
        assert_eq!(JA.values().len(), EN.values().len());
        // A cut or foreign file is not a pack.
        let cut: String = text.lines().take(40).collect::<Vec<_>>().join("\n");
        assert!(Pack::read(Box::leak(cut.into_boxed_str())).is_none());
        assert!(Pack::read(Box::leak(text.replacen("texts 1", "texts 2", 1).into_boxed_str())).is_none());
        assert!(Pack::read("").is_none());
        // The one error text kept in the wasm is the pack's.
        assert_eq!(ERRORS.iter().find(|e| e.0 == "network").map(|e| e.1), Some(NETWORK_JA));
    }

    #[test]
    fn messages_say_what_to_do() {
        let (ja, en) = error_texts("insufficient_balance").unwrap();
        assert_eq!(ja, "残高が不足しています。別のNET CASH IDを入力するか、ショップに戻って別の方法でお支払いください。");
        assert!(en.contains("another NET CASH ID"));
    }

    #[test]
    fn method_specific_wording() {
        let prepaid = error_message_for(Lang::Ja, Some(&Method::Prepaid), "insufficient_balance");
        assert!(prepaid.contains("プリペイドカード") && !prepaid.contains("NET CASH"), "{prepaid}");
        let netcash = error_message_for(Lang::Ja, Some(&Method::Netcash), "insufficient_balance");
        assert!(netcash.contains("NET CASH"));
        assert!(error_message(Lang::En, "au_timeout").contains("4 minutes"));
        assert!(error_message(Lang::Ja, "au_overdue").contains("未払いの料金をお支払い"));
        assert!(error_message(Lang::Ja, "au_limit_exceeded").contains("My au"));
        assert!(error_message(Lang::Ja, "au_restricted").contains("お問い合わせ"));
        assert!(error_message(Lang::En, "payment_option_unavailable").contains("another card"));
    }

    #[test]
    fn every_field_problem_has_a_message() {
        use crate::field::{check, FIELDS};
        // Every problem the validators can report, in both languages.
        let mut seen = 0;
        for method in [Method::Netcash, Method::Prepaid, Method::Np, Method::Card] {
            for values in [
                ["", "", "", "", "", "", "", "", "", "", "", ""],
                ["abc", "123", "x", "やまだ", "1", "y", "1", "a@b", "4111111111111112", "13", "1", "1"],
                ["ab!", "12a", &"x".repeat(41), &"ア".repeat(41), "1", &"y".repeat(101), "1", "a", "4111", "1", "00", "1"],
            ] {
                let values: [String; FIELDS] = values.map(String::from);
                for (field, code) in check(&method, &values, PaymentOption::Single, (2026, 1)).unwrap_err() {
                    seen += 1;
                    for lang in [Lang::Ja, Lang::En] {
                        let m = field_message(lang, field, code);
                        assert!(!m.is_empty(), "{field:?} {code} {lang:?}");
                        assert_eq!(is_japanese(m), lang == Lang::Ja, "{field:?} {code}: {m}");
                        assert_ne!(m, "入力内容をご確認ください。", "{field:?} {code}");
                        assert_ne!(m, "Please check what you entered.", "{field:?} {code}");
                    }
                }
            }
        }
        assert!(seen > 30, "{seen}");
        assert_eq!(field_message(Lang::Ja, Field::NpKana, "katakana"), "全角カタカナで入力してください。");
        assert_eq!(field_message(Lang::En, Field::NpKana, "invalid"), "Please check what you entered.");
        assert_eq!(field_message(Lang::Ja, Field::CardExpYear, "expired"), "このカードは有効期限が切れています。別のカードをお使いください。");
    }

    #[test]
    fn options_and_brands() {
        assert_eq!(option_label(Lang::Ja, PaymentOption::Installment { count: 3 }), "分割払い（3回）");
        assert_eq!(option_label(Lang::En, PaymentOption::BonusInstallment { count: 24 }), "Bonus + installments (24)");
        assert_eq!(option_label(Lang::Ja, PaymentOption::Single), "一括払い");
        assert_eq!(brand_name(Brand::Visa), "Visa");
        assert_eq!(brand_name(Brand::Unknown), "");
        for lang in [Lang::Ja, Lang::En] {
            for m in [Method::Netcash, Method::Prepaid, Method::Np, Method::Au, Method::Card] {
                assert!(!method_desc(lang, &m).is_empty());
            }
            assert!(lang.texts().labels.iter().all(|l| !l.is_empty()));
            assert!(lang.texts().hints.iter().all(|h| !h.is_empty()));
        }
        assert_eq!(method_name(Lang::En, &Method::Np), "NP postpaid");
        assert_eq!(JA.au_button, "auかんたん決済で支払う");
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
            JA.no_form,
            JA.expired_title,
            JA.generic_error,
            JA.registered_title,
            JA.registered_body,
            JA.recurring_monthly,
            JA.recurring_fixed,
            JA.recurring_nothing_now,
        ];
        let en = [
            EN.loading,
            EN.cancel,
            EN.back,
            EN.processing,
            EN.done_title,
            EN.tax_included,
            EN.no_form,
            EN.expired_title,
            EN.generic_error,
            EN.registered_title,
            EN.registered_body,
            EN.recurring_monthly,
            EN.recurring_fixed,
            EN.recurring_nothing_now,
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
