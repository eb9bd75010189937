//! The shoppers' subscription page, `/subscriptions/{signed token}`: what
//! they subscribed to (item, amount, method, next billing date, status) and
//! a cancellation with a confirmation step. Server-rendered HTML (no
//! script needed), Japanese by default with an English switch (`?lang=en`),
//! one column for a 360 px screen, real headings, labels and buttons for
//! keyboards and screen readers. The link is in the registration's
//! `recurring.registered` event, the result notification and the API, so
//! merchants can put it on their "my page" (as the au seed asks).
//!
//! The token is the capability (HMAC, constant-time check); the page's own
//! forms post back to it (`form-action 'self'`). A bad token gets a 404
//! page that says nothing about any subscription.

use shared::money::Yen;
use shared::time::UnixTime;
use worker::{Env, Method, Request, Response};

use super::SubCall;
use crate::config::Config;
use crate::html::{self, escape};

struct Texts {
    lang: &'static str,
    title: &'static str,
    item: &'static str,
    amount: &'static str,
    monthly: &'static str,
    per_purchase: &'static str,
    method: &'static str,
    next: &'static str,
    none: &'static str,
    status: &'static str,
    cancel: &'static str,
    confirm_q: &'static str,
    confirm: &'static str,
    keep: &'static str,
    cancelled: &'static str,
    switch: &'static str,
    not_found: &'static str,
}

const JA: Texts = Texts {
    lang: "ja",
    title: "ご契約中の継続課金",
    item: "商品",
    amount: "金額（税込）",
    monthly: "毎月1日に請求",
    per_purchase: "ご利用に応じてショップが請求",
    method: "お支払い方法",
    next: "次回請求日",
    none: "なし",
    status: "状態",
    cancel: "解約する",
    confirm_q: "本当に解約しますか？ 解約後は請求されません。",
    confirm: "解約を確定する",
    keep: "解約しない",
    cancelled: "解約しました。今後の請求はありません。",
    switch: "English",
    not_found: "このページは見つかりません。リンクをご確認ください。",
};

const EN: Texts = Texts {
    lang: "en",
    title: "Your subscription",
    item: "Item",
    amount: "Amount (tax incl.)",
    monthly: "billed on the 1st of each month",
    per_purchase: "billed by the shop as you use it",
    method: "Payment method",
    next: "Next billing date",
    none: "none",
    status: "Status",
    cancel: "Cancel the subscription",
    confirm_q: "Do you really want to cancel? Nothing more will be billed.",
    confirm: "Confirm the cancellation",
    keep: "Keep the subscription",
    cancelled: "The subscription is cancelled. Nothing more will be billed.",
    switch: "日本語",
    not_found: "This page does not exist. Please check the link.",
};

fn status_text(t: &Texts, status: &str) -> &'static str {
    match (t.lang, status) {
        ("ja", "active") => "ご利用中",
        ("ja", "cancelled") => "解約済み",
        ("ja", "suspended") => "停止中（お支払いができませんでした）",
        ("ja", "expired") => "期限切れ",
        (_, "active") => "active",
        (_, "cancelled") => "cancelled",
        (_, "suspended") => "suspended (payments failed)",
        (_, "expired") => "expired",
        _ => "",
    }
}

fn method_text(t: &Texts, method: &str) -> &'static str {
    match (t.lang, method) {
        ("ja", "au") => "auかんたん決済",
        ("ja", "np") => "NP後払い",
        (_, "au") => "au Kantan Kessai",
        (_, "np") => "NP postpaid",
        _ => "",
    }
}

fn document(t: &Texts, main: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title} | Kessai Link</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/pkg/pay.css\"></head>\
         <body><main class=\"page\">{main}</main></body></html>",
        lang = t.lang,
        title = escape(t.title),
    )
}

fn not_found(t: &Texts) -> worker::Result<Response> {
    let main = format!("<section class=\"card\"><div class=\"card-body\"><h1>{}</h1></div></section>", escape(t.not_found));
    html::page(404, document(t, &main), "'none'")
}

/// `GET` shows the subscription (`?confirm=1`: the confirmation step);
/// `POST action=cancel` cancels it.
pub async fn route(mut req: Request, env: &Env, config: &Config, token: &str) -> worker::Result<Response> {
    let url = req.url()?;
    let en = url.query_pairs().any(|(k, v)| k == "lang" && v == "en");
    let t = if en { &EN } else { &JA };
    let Some(id) = crate::seal::page_subscription(&config.subscription_secret, token) else { return not_found(t) };
    let mut done = false;
    match req.method() {
        Method::Get => {}
        Method::Post => {
            let body = req.text().await?;
            let form = crate::util::parse_form(&body).unwrap_or_default();
            if form.iter().any(|(k, v)| k == "action" && v == "cancel") {
                let r = super::call(env, &id, &SubCall::Cancel { by: "shopper".into() }).await?;
                if r.status_code() == 404 {
                    return not_found(t);
                }
                done = true;
            }
        }
        _ => return html::error_page(405, "method_not_allowed", "このページは GET と POST のみです。", "Only GET and POST are allowed here."),
    }
    let mut r = super::call(env, &id, &SubCall::Record).await?;
    if r.status_code() != 200 {
        return not_found(t);
    }
    let s: serde_json::Value = r.json().await?;
    let confirming = !done && req.method() == Method::Get && url.query_pairs().any(|(k, v)| k == "confirm" && v == "1");
    let here = format!("/subscriptions/{}", escape(token));
    let lang_q = if en { "?lang=en" } else { "" };
    let status = s["status"].as_str().unwrap_or("");
    let next = s["next_billing_at"].as_i64().map(|n| UnixTime(n).jst().date.iso()).unwrap_or_else(|| t.none.into());
    let amount = Yen::new(s["amount"].as_u64().unwrap_or(0)).grouped();
    let kind = if s["kind"] == "simple" { t.monthly } else { t.per_purchase };
    let banner = if done || (status == "cancelled" && req.method() == Method::Post) {
        format!("<p class=\"notice\" role=\"status\" id=\"sub-cancelled\">{}</p>", escape(t.cancelled))
    } else {
        String::new()
    };
    let action = if status != "active" {
        String::new()
    } else if confirming {
        format!(
            "<form method=\"post\" action=\"{here}{lang_q}\" class=\"pay-form\"><p id=\"sub-confirm-q\">{q}</p>\
             <button type=\"submit\" name=\"action\" value=\"cancel\" class=\"button button-primary\" id=\"sub-confirm\">{c}</button>\
             <a class=\"button button-secondary\" href=\"{here}{lang_q}\" id=\"sub-keep\">{k}</a></form>",
            q = escape(t.confirm_q),
            c = escape(t.confirm),
            k = escape(t.keep),
        )
    } else {
        let sep = if en { "&" } else { "?" };
        format!(
            "<a class=\"button button-secondary\" href=\"{here}{lang_q}{sep}confirm=1\" id=\"sub-cancel\">{c}</a>",
            c = escape(t.cancel)
        )
    };
    let main = format!(
        "<section class=\"card\"><div class=\"summary\"><p class=\"merchant\">{merchant}</p><h1 class=\"item\">{title}</h1></div>\
         <div class=\"card-body\">{banner}<dl class=\"sub-facts\">\
         <dt>{l_item}</dt><dd id=\"sub-item\">{item}</dd>\
         <dt>{l_amount}</dt><dd id=\"sub-amount\">¥{amount}（{kind}）</dd>\
         <dt>{l_method}</dt><dd id=\"sub-method\">{method}</dd>\
         <dt>{l_next}</dt><dd id=\"sub-next\">{next}</dd>\
         <dt>{l_status}</dt><dd id=\"sub-status\">{status_t}</dd></dl>{action}\
         <p><a class=\"lang-switch\" href=\"{here}{switch_q}\" lang=\"{switch_lang}\" id=\"sub-lang\">{switch}</a></p></div></section>",
        merchant = escape(s["merchant_name"].as_str().unwrap_or("")),
        title = escape(t.title),
        l_item = escape(t.item),
        item = escape(s["item_name"].as_str().unwrap_or("")),
        l_amount = escape(t.amount),
        l_method = escape(t.method),
        method = escape(method_text(t, s["method"].as_str().unwrap_or(""))),
        l_next = escape(t.next),
        l_status = escape(t.status),
        status_t = escape(status_text(t, status)),
        switch_q = if en { "" } else { "?lang=en" },
        switch_lang = if en { "ja" } else { "en" },
        switch = escape(t.switch),
    );
    html::page(200, document(t, &main), "'self'")
}
