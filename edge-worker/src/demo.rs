//! The demo shop: a merchant site for the sandbox merchant, served beside
//! the Worker in sandbox mode so a newcomer can click "buy" and pay. It
//! signs its purchase forms, verifies the result notification with
//! Standard Webhooks and the return form's hashcode, as a real merchant
//! must.

use shared::money::Yen;
use shared::purchase::FIELDS;
use shared::signing::{form_hashcode, verify_hex_mac, canonical_string};
use shared::webhooks::WebhookSecret;
use worker::{Request, Response};

use crate::config::Config;
use crate::html::{self, escape};
use crate::store::{SANDBOX_HASH_KEY, SANDBOX_MERCHANT_ID, SANDBOX_SERVICE_ID, SANDBOX_WEBHOOK_SECRET};
use crate::util;

const ITEMS: &[(&str, &str, u64, u64)] = &[
    // Names stay within au's 20-character limit, so every method is offered.
    ("tea-200", "緑茶 200g", 1100, 100),
    ("cup-1", "湯呑み Tea cup", 3300, 300),
    ("set-1", "茶器セット Tea set", 12100, 1100),
];

/// The signed purchase form fields for one item.
pub fn purchase_fields(base: &str, item: (&str, &str, u64, u64), order_id: &str, request_date: &str) -> Vec<(&'static str, String)> {
    let (item_id, name, amount, tax) = item;
    let mut fields: Vec<(&'static str, String)> = vec![
        ("merchant_id", SANDBOX_MERCHANT_ID.into()),
        ("service_id", SANDBOX_SERVICE_ID.into()),
        ("cust_code", "demo-customer".into()),
        ("order_id", order_id.into()),
        ("item_id", item_id.into()),
        ("item_name", name.into()),
        ("amount", amount.to_string()),
        ("tax", tax.to_string()),
        ("pay_method", String::new()),
        ("pay_type", "one_time".into()),
        ("sales_mode", "auto".into()),
        ("terminal_type", String::new()),
        ("success_url", format!("{base}/demo/return/success")),
        ("cancel_url", format!("{base}/demo/return/cancel")),
        ("error_url", format!("{base}/demo/return/error")),
        ("pagecon_url", format!("{base}/demo/notify")),
        ("request_date", request_date.into()),
        ("limit_second", "600".into()),
    ];
    debug_assert!(fields.iter().all(|(n, _)| FIELDS.contains(n)));
    let hash = form_hashcode(SANDBOX_HASH_KEY.as_bytes(), fields.iter().map(|(n, v)| (*n, v.as_str())));
    fields.push(("hashcode", hash));
    fields
}

pub async fn route(mut req: Request, config: &Config, rest: &str) -> worker::Result<Response> {
    let base = &config.public_base_url;
    match (req.method(), rest) {
        (worker::Method::Get, "" | "/") => {
            let now = util::now();
            let request_date = now.jst().compact();
            let mut items = String::new();
            for &item in ITEMS {
                let order_id = util::new_id("demo");
                let inputs: String = purchase_fields(base, item, &order_id, &request_date)
                    .iter()
                    .map(|(n, v)| format!("<input type=\"hidden\" name=\"{n}\" value=\"{}\">", escape(v)))
                    .collect();
                items.push_str(&format!(
                    "<li class=\"card item\"><h2>{name}</h2><p class=\"price\">¥{price} <small>(税込 / tax incl.)</small></p>\
                     <form method=\"post\" action=\"/link/purchase\">{inputs}\
                     <button type=\"submit\" class=\"primary buy\" data-item=\"{id}\">購入する / Buy</button></form></li>",
                    name = escape(item.1),
                    price = Yen::new(item.2).grouped(),
                    id = escape(item.0),
                ));
            }
            let main = format!(
                "<h1>Kessai デモショップ / Demo shop</h1>\
                 <p>サンドボックス加盟店（99999 / 001）の見本です。「購入する」で決済ページへ進みます。<br>\
                 <span lang=\"en\">The sandbox merchant's sample shop. \"Buy\" opens the hosted payment page.</span></p>\
                 <ul class=\"items\">{items}</ul>\
                 <section class=\"card\"><h2>テスト用の値 / Test values</h2><ul>\
                 <li>NET CASH: <code>ABCD1234EFGH5678</code> (10,000円), <code>…0000</code> 残高不足 / no balance, <code>…9999</code> 利用停止 / suspended; \
                 Wallet: <code>wallet-ok</code></li>\
                 <li>プリペイド / Prepaid: <code>1234567812345678</code>, <code>…0000</code> 残高不足 / no balance</li>\
                 <li>au: <code>au-ok</code> (任意のパスワード / any password), <code>au-limit</code>, <code>au-overdue</code>, <code>au-restricted</code></li>\
                 <li>NP後払い / NP postpaid: <code>…@example.jp</code> 承認 / approved, <code>…@hold.example</code> 保留 / held, <code>…@decline.example</code> 否決 / declined</li>\
                 <li>カード / Card: <code>4111 1111 1111 1111</code> (JPO), <code>4242 4242 4242 4242</code>, <code>5555 5555 5555 4444</code>, <code>4000 0000 0000 0002</code> 拒否 / declined</li></ul></section>"
            );
            html::simple_page("Kessai デモショップ / Demo shop", &main, "'self'")
        }
        (worker::Method::Post, "/notify") => {
            let body = req.text().await?;
            let h = |n: &str| req.headers().get(n).ok().flatten().unwrap_or_default();
            let secret = WebhookSecret::parse(SANDBOX_WEBHOOK_SECRET).map_err(|e| worker::Error::RustError(e.to_string()))?;
            if let Err(e) = secret.verify(&h("webhook-id"), &h("webhook-timestamp"), &h("webhook-signature"), body.as_bytes(), util::now().0) {
                return Ok(Response::ok(format!("NG,{e}"))?.with_status(401));
            }
            Response::ok("OK,")
        }
        (worker::Method::Post, kind @ ("/return/success" | "/return/cancel" | "/return/error")) => {
            let body = req.text().await?;
            let form = util::parse_form(&body).unwrap_or_default();
            let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()).unwrap_or("");
            let canonical = canonical_string(shared::return_form::FIELDS.iter().map(|f| (*f, get(f))));
            let verified = verify_hex_mac(SANDBOX_HASH_KEY.as_bytes(), canonical.as_bytes(), get("hashcode"));
            let (title, text) = match kind {
                "/return/success" => ("ご注文ありがとうございました / Thank you for your order", "お支払いが完了しました。 / Your payment is complete."),
                "/return/cancel" => ("お支払いをキャンセルしました / Payment cancelled", "ご注文はキャンセルされました。 / Your order was cancelled."),
                _ => ("お支払いができませんでした / Payment failed", "お支払いは完了しませんでした。 / The payment did not complete."),
            };
            let rows: String = form
                .iter()
                .map(|(k, v)| format!("<tr><th scope=\"row\">{}</th><td id=\"f-{}\">{}</td></tr>", escape(k), escape(k), escape(v)))
                .collect();
            let main = format!(
                "<section class=\"card\"><h1 id=\"result-title\">{title}</h1><p>{text}</p>\
                 <p id=\"hash-check\" class=\"{cls}\">{check}</p><table class=\"fields\">{rows}</table>\
                 <p><a href=\"/demo\">デモショップに戻る / Back to the demo shop</a></p></section>",
                cls = if verified { "ok" } else { "bad" },
                check = if verified { "hashcode verified" } else { "hashcode INVALID" },
            );
            html::simple_page(title, &main, "'self'")
        }
        _ => Ok(Response::error("Not Found", 404)?),
    }
}

