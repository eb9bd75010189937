//! Every text of the administration tool, Japanese (the default) and
//! English. `t` panics on no key in tests only (an unknown key shows as is).

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }
}

const STORAGE_KEY: &str = "kl_admin_lang";

pub fn initial() -> Lang {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .map(|c| if c == "en" { Lang::En } else { Lang::Ja })
        .unwrap_or(Lang::Ja)
}

/// Remembers the choice and sets `<html lang>` (screen readers pick
/// their voice from it).
pub fn apply(lang: Lang) {
    if let Some(w) = web_sys::window() {
        if let Ok(Some(s)) = w.local_storage() {
            let _ = s.set_item(STORAGE_KEY, lang.code());
        }
        if let Some(html) = w.document().and_then(|d| d.document_element()) {
            let _ = html.set_attribute("lang", lang.code());
        }
    }
}

const TEXTS: &[(&str, &str, &str)] = &[
    ("title", "決済管理ツール", "Payment administration"),
    ("switch_lang", "English", "日本語"),
    ("switch_lang_label", "Switch to English", "日本語に切り替え"),
    ("sign_in", "サインイン", "Sign in"),
    ("sign_out", "サインアウト", "Sign out"),
    ("merchant_id", "加盟店ID", "Merchant ID"),
    ("service_id", "サービスID", "Service ID"),
    ("user_id", "ユーザーID", "User ID"),
    ("password", "パスワード", "Password"),
    ("totp_code", "認証アプリの6桁のコード", "6-digit code from your authenticator app"),
    ("recovery_hint", "またはリカバリーコード", "or a recovery code"),
    ("second_factor_needed", "認証アプリのコードを入力してください。", "Enter the code of your authenticator app."),
    ("nav", "メニュー", "Menu"),
    ("payments", "決済一覧", "Payments"),
    ("webhooks", "Webhook 配信履歴", "Webhook deliveries"),
    ("settings", "設定", "Settings"),
    ("audit", "監査ログ", "Audit log"),
    ("subscriptions", "継続課金", "Subscriptions"),
    ("subscription", "継続課金", "Subscription"),
    ("sub_all", "すべて", "all"),
    ("no_results", "該当する継続課金はありません。", "No subscriptions match."),
    ("sub_active", "利用中", "active"),
    ("sub_cancelled", "解約済み", "cancelled"),
    ("sub_suspended", "停止中", "suspended"),
    ("sub_expired", "期限切れ", "expired"),
    ("sub_simple", "毎月1日請求", "monthly (1st)"),
    ("sub_fixed", "定期・従量", "fixed term / pay as you go"),
    ("sub_kind", "種類", "Kind"),
    ("sub_next", "次回請求", "Next billing"),
    ("sub_expires", "有効期限", "Expires"),
    ("sub_page", "お客様用ページ", "Shopper's page"),
    ("sub_page_link", "開く", "open"),
    ("sub_charges", "請求", "Charges"),
    ("sub_a_cancel", "解約する", "Cancel the subscription"),
    ("sub_a_purchase", "請求する", "Charge an amount"),
    ("search", "検索", "Search"),
    ("clear", "条件をクリア", "Clear"),
    ("order_id", "注文番号", "Order ID"),
    ("tracking_id", "トラッキングID", "Tracking ID"),
    ("cust_code", "顧客コード", "Customer code"),
    ("from", "開始日 (JST)", "From (JST)"),
    ("to", "終了日 (JST)", "To (JST)"),
    ("method", "決済手段", "Method"),
    ("status", "状態", "Status"),
    ("amount_min", "金額 (下限)", "Amount from"),
    ("amount_max", "金額 (上限)", "Amount to"),
    ("any", "すべて", "Any"),
    ("amount", "金額", "Amount"),
    ("created", "作成日時 (JST)", "Created (JST)"),
    ("results", "件", " payments"),
    ("next_page", "次のページ", "Next page"),
    ("first_page", "最初のページ", "First page"),
    ("csv_utf8", "CSV (UTF-8)", "CSV (UTF-8)"),
    ("csv_sjis", "CSV (Shift_JIS)", "CSV (Shift_JIS)"),
    ("none_found", "該当する決済はありません。", "No payments match."),
    ("loading", "読み込み中…", "Loading…"),
    ("back", "一覧に戻る", "Back to the list"),
    ("detail", "決済詳細", "Payment detail"),
    ("captured", "売上額", "Captured"),
    ("refunded", "返金額", "Refunded"),
    ("refundable", "返金可能額", "Refundable"),
    ("instrument", "支払い手段", "Instrument"),
    ("item_name", "商品名", "Item"),
    ("actions", "操作", "Actions"),
    ("timeline", "履歴", "Timeline"),
    ("confirm", "実行する", "Confirm"),
    ("cancel_dialog", "やめる", "Back"),
    ("confirm_title", "操作の確認", "Confirm the operation"),
    ("max", "上限", "up to"),
    ("deadline", "期限", "deadline"),
    ("batch_closes", "締め日", "batch closes"),
    ("payout_date", "返金日", "payout"),
    ("viewer_cannot", "閲覧者の権限では決済を操作できません。", "Your role (viewer) cannot change payments."),
    ("done", "完了しました。", "Done."),
    ("reconciling_note", "決済事業者の応答が不明なため照合中です。", "The provider's answer is unclear: being reconciled."),
    ("event_id", "イベントID", "Event ID"),
    ("type", "種類", "Type"),
    ("attempts", "配信試行", "Attempts"),
    ("resend", "再送", "Re-send"),
    ("resend_failed", "期間内の未配信をすべて再送", "Re-send every failed event in the range"),
    ("sent", "再送しました", "Re-sent"),
    ("webhook_url", "Webhook URL", "Webhook URL"),
    ("origins", "許可するオリジン (1行に1つ)", "Allowed origins (one a line)"),
    ("methods", "利用する決済手段", "Enabled methods"),
    ("save", "保存", "Save"),
    ("saved", "保存しました。", "Saved."),
    ("rotate_hash_key", "ハッシュキーを更新", "Rotate the hash key"),
    ("rotate_webhook_secret", "Webhook シークレットを更新", "Rotate the webhook secret"),
    ("shown_once", "新しい値は今回だけ表示されます。控えてください:", "The new value is shown this once. Keep it:"),
    ("users", "ユーザー", "Users"),
    ("account", "自分のアカウント", "Your account"),
    ("totp", "二要素認証 (認証アプリ)", "Two-factor authentication (authenticator app)"),
    ("on", "有効", "on"),
    ("off", "無効", "off"),
    ("totp_enable", "二要素認証を設定する", "Set up two-factor authentication"),
    ("totp_scan", "認証アプリにこのキーを登録し、表示されたコードを入力してください:", "Add this key to your authenticator app, then enter the code it shows:"),
    ("totp_confirm", "確認して有効にする", "Confirm and turn on"),
    ("totp_disable", "コードを確認して無効にする", "Turn off (with a code)"),
    ("recovery_codes_once", "リカバリーコード (各1回限り・今回だけ表示)。安全な場所に控えてください:", "Recovery codes (each usable once, shown this once). Keep them somewhere safe:"),
    ("change_password", "パスワードを変更", "Change the password"),
    ("current_password", "現在のパスワード", "Current password"),
    ("new_password", "新しいパスワード (12文字以上)", "New password (12 characters or more)"),
    ("sign_out_everywhere", "すべての端末からサインアウト", "Sign out everywhere"),
    ("role", "権限", "Role"),
    ("add_user", "ユーザーを追加", "Add a user"),
    ("password_once", "初期パスワード (今回だけ表示):", "Initial password (shown once):"),
    ("at", "日時 (JST)", "When (JST)"),
    ("who", "ユーザー", "Who"),
    ("ip", "IP", "IP"),
    ("action", "操作", "Action"),
    ("target", "対象", "Target"),
    ("result", "結果", "Result"),
    ("not_allowed_here", "この権限では表示できません。", "Your role cannot see this."),
    ("role_viewer", "閲覧者", "Viewer"),
    ("role_operator", "オペレーター", "Operator"),
    ("role_administrator", "管理者", "Administrator"),
    ("signed_in_as", "サインイン中", "Signed in as"),
    ("a_settle", "売上確定", "Settle"),
    ("a_cancel", "取消", "Cancel"),
    ("a_refund", "返金", "Refund"),
    ("a_shipment", "出荷報告", "Report shipment"),
    ("a_netcash_refund", "返金申請 (週次バッチ)", "Refund request (weekly batch)"),
    ("k_state", "状態変更", "Status"),
    ("k_operation", "決済事業者への操作", "Provider operation"),
    ("k_notification", "通知", "Notification"),
    ("k_delivery", "配信", "Delivery"),
    ("k_batch_refund", "返金バッチ", "Refund batch"),
];

/// Refusals of actions, by the server's code (the server's sentence, in
/// English, follows in Japanese mode).
const REFUSALS: &[(&str, &str, &str)] = &[
    ("not_paid", "この決済はまだ代金を受け取っていません。", "The payment has taken no money."),
    ("operation_in_progress", "決済事業者への処理が進行中です。終わるまでお待ちください。", "An operation is under way at the provider."),
    ("nothing_to_refund", "返金できる金額がありません。", "Nothing can be refunded."),
    ("not_cancellable", "この状態では取消できません。返金してください。", "It cannot be cancelled now; refund it instead."),
    ("not_authorized", "与信済みの決済だけが売上確定できます。", "Only an authorized payment can be settled."),
    ("not_settleable", "この決済手段には売上確定の操作がありません。", "This method has nothing to settle."),
    ("use_shipment_report", "NP後払いは出荷報告で売上が確定します。", "NP postpaid sales are fixed by the shipment report."),
    ("not_refundable", "出荷報告の前は返金できません。取消してください。", "Before the shipment report, cancel instead."),
    ("au_refund_not_in_contract", "ご契約 (WebMoney 付き) ではauかんたん決済の返金はできません。", "This au contract takes no refunds."),
    ("refund_deadline_passed", "返金の期限を過ぎています。", "The refund deadline has passed."),
    ("settle_deadline_passed", "売上確定の期限を過ぎています。", "The settlement deadline has passed."),
    ("cancel_deadline_passed", "取消の期限を過ぎています。", "The cancellation deadline has passed."),
    ("partial_refund_not_yet_allowed", "一部返金はまだできません。", "Partial refunds are not allowed yet."),
];

/// The refusal in words: the Japanese sentence for its code and the
/// server's own (English) sentence.
pub fn refusal(lang: Lang, code: &str, server: &str) -> String {
    match (lang, pick(REFUSALS, lang, code)) {
        (Lang::Ja, Some(ja)) => format!("{ja} ({server})"),
        _ => server.to_string(),
    }
}

const STATUSES: &[(&str, &str, &str)] = &[
    ("pending", "未決済", "Pending"),
    ("processing", "処理中", "Processing"),
    ("reconciling", "照合中", "Reconciling"),
    ("held", "審査保留", "Held"),
    ("authorized", "与信済み", "Authorized"),
    ("paid", "決済完了", "Paid"),
    ("partially_refunded", "一部返金", "Partially refunded"),
    ("refunded", "返金済み", "Refunded"),
    ("cancelled", "取消済み", "Cancelled"),
    ("failed", "失敗", "Failed"),
    ("expired", "期限切れ", "Expired"),
    ("rejected_by_merchant", "加盟店NG", "Rejected by merchant"),
    ("refund_required", "要返金", "Refund required"),
    ("under_investigation", "調査中", "Under investigation"),
    ("charged_back", "チャージバック", "Charged back"),
    ("registered", "登録済み（請求なし）", "Registered (nothing charged)"),
];

pub const STATUS_CODES: &[&str] = &[
    "pending", "processing", "reconciling", "held", "authorized", "paid", "partially_refunded", "refunded", "cancelled", "failed",
    "expired", "rejected_by_merchant", "refund_required", "under_investigation", "charged_back", "registered",
];

const METHODS: &[(&str, &str, &str)] = &[
    ("netcash", "NET CASH", "NET CASH"),
    ("prepaid", "プリペイドカード", "Prepaid card"),
    ("np", "NP後払い", "NP postpaid"),
    ("au", "auかんたん決済", "au Kantan Kessai"),
    ("card", "クレジットカード", "Card"),
];

pub const METHOD_CODES: &[&str] = &["netcash", "prepaid", "np", "au", "card"];

fn pick(table: &[(&str, &'static str, &'static str)], lang: Lang, key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _, _)| *k == key).map(|(_, ja, en)| if lang == Lang::Ja { *ja } else { *en })
}

pub fn t(lang: Lang, key: &str) -> String {
    pick(TEXTS, lang, key).map(str::to_string).unwrap_or_else(|| key.to_string())
}

pub fn status(lang: Lang, code: &str) -> String {
    pick(STATUSES, lang, code).map(str::to_string).unwrap_or_else(|| code.to_string())
}

pub fn method(lang: Lang, code: &str) -> String {
    pick(METHODS, lang, code).map(str::to_string).unwrap_or_else(|| code.to_string())
}

/// `2026-12-01 09:30` (JST) of Unix seconds.
pub fn jst(t: i64) -> String {
    let d = shared::time::UnixTime(t).jst();
    format!("{} {:02}:{:02}:{:02}", d.date.iso(), d.hour, d.minute, d.second)
}

/// `¥1,100`.
pub fn yen(v: i64) -> String {
    let s = v.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}¥{out}", if v < 0 { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_text_has_both_languages() {
        for (k, ja, en) in TEXTS.iter().chain(STATUSES).chain(METHODS).chain(REFUSALS) {
            assert!(!ja.is_empty() && !en.is_empty(), "{k}");
        }
        for s in STATUS_CODES {
            assert_ne!(status(Lang::Ja, s), *s, "{s} has a Japanese label");
        }
        assert_eq!(yen(1234567), "¥1,234,567");
        assert_eq!(yen(100), "¥100");
        assert_eq!(jst(0), "1970-01-01 09:00:00");
    }
}
