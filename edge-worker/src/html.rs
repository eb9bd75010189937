//! Server-rendered HTML: the hosted page's shell, error pages for shoppers,
//! and the auto-submitted return form. Every interpolated value is escaped.

use worker::Response;

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The Content-Security-Policy of every page we serve. `form_action` is
/// where the page's forms may post.
pub fn csp(form_action: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'; \
         report-uri /csp-report; report-to csp"
    )
}

/// HSTS of production answers: two years, subdomains included.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Adds `Strict-Transport-Security` to an answer (production only; the
/// headers are copied, as an answer forwarded from elsewhere has immutable
/// ones).
pub fn with_hsts(r: worker::Response) -> worker::Response {
    let h = r.headers().clone();
    let _ = h.set("strict-transport-security", HSTS);
    r.with_headers(h)
}

/// An HTML answer with the security headers of the hosted page.
pub fn page(status: u16, body: String, form_action: &str) -> worker::Result<Response> {
    let mut r = Response::from_html(body)?.with_status(status);
    let h = r.headers_mut();
    h.set("content-security-policy", &csp(form_action))?;
    h.set("reporting-endpoints", "csp=\"/csp-report\"")?;
    h.set("x-frame-options", "DENY")?;
    h.set("x-content-type-options", "nosniff")?;
    h.set("referrer-policy", "no-referrer")?;
    h.set("cache-control", "no-store")?;
    Ok(r)
}

fn document(title: &str, main: &str) -> String {
    format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/pkg/pay.css\"></head>\
         <body><main class=\"page\">{main}</main></body></html>",
        title = escape(title),
    )
}

/// The hosted payment page: a shell the WebAssembly app fills in.
/// Every script, the wasm and the stylesheet carry the build's Subresource
/// Integrity hash; the page's script (`widget.js`: widget/boot.js and the
/// glue) fetches the wasm with the hash on `#app`.
pub fn checkout_shell(payment_id: &str, session: Option<&str>, sri: &crate::integrity::Integrity) -> String {
    // What is being paid, as the page shows it, before the wasm runs.
    let summary = session
        .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
        .map(|v| {
            let amount = shared::money::Yen::new(v["amount"].as_u64().unwrap_or(0));
            format!(
                "<div class=\"page\"><div class=\"card\"><section class=\"summary\"><p class=\"merchant\">{m}</p><h1 class=\"item\">{i}</h1>\
                 <p class=\"amount\"><span class=\"price\">¥{a}</span><span class=\"tax-incl\">(税込)</span></p></section>\
                 <div class=\"card-body\"><p class=\"loading\">読み込み中… / Loading…</p></div></div></div>",
                m = escape(v["merchant_name"].as_str().unwrap_or("")),
                i = escape(v["item_name"].as_str().unwrap_or("")),
                a = amount.grouped(),
            )
        })
        .unwrap_or_else(|| "<p class=\"loading\">読み込み中… / Loading…</p>".into());
    // JSON in a data block: `<` is escaped so it cannot close the element.
    let data = session.map(|s| format!("<script type=\"application/json\" id=\"session\">{}</script>", s.replace('<', "\\u003c"))).unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Kessai Link</title>\
         <link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/pkg/pay.css\"{css}>\
         <script type=\"module\" src=\"/pkg/widget.js\"{js}></script></head>\
         <body><main id=\"app\" data-payment-id=\"{id}\" data-wasm-integrity=\"{wasm}\" data-texts-integrity=\"{texts}\" aria-live=\"polite\">{summary}\
         <noscript><p>このページの表示には JavaScript が必要です。 / This page needs JavaScript.</p></noscript></main>{data}</body></html>",
        id = escape(payment_id),
        css = sri.attr("/pkg/pay.css"),
        js = sri.attr("/pkg/widget.js"),
        wasm = escape(sri.get("/pkg/widget_bg.wasm").unwrap_or("")),
        texts = escape(sri.get("/pkg/texts.txt").unwrap_or("")),
    )
}

/// A page that explains a refusal to a shopper, in Japanese then English,
/// with the machine-readable code for support. It links nowhere the
/// request named: a refused request's URLs are not trusted.
pub fn error_page(status: u16, code: &str, ja: &str, en: &str) -> worker::Result<Response> {
    let main = format!(
        "<section class=\"card error-page\" role=\"alert\"><h1>お支払いを開始できませんでした</h1><p>{ja}</p>\
         <h2 lang=\"en\">The payment could not start</h2><p lang=\"en\">{en}</p>\
         <p class=\"code\">エラーコード / Error code: <code id=\"error-code\">{code}</code></p>\
         <p>お手数ですが、ご利用のショップのページに戻ってもう一度お試しください。<br>\
         <span lang=\"en\">Please go back to the shop's page and try again.</span></p></section>",
        ja = escape(ja),
        en = escape(en),
        code = escape(code)
    );
    page(status, document("エラー / Error | Kessai Link", &main), "'none'")
}

/// The page that returns the shopper to the merchant: a form posted by
/// `/autosubmit.js`, with a visible button when scripts do not run.
pub fn return_form(
    action: &str,
    fields: &[(&str, String)],
    heading_ja: &str,
    heading_en: &str,
    sri: &crate::integrity::Integrity,
) -> worker::Result<Response> {
    let inputs: String = fields
        .iter()
        .map(|(n, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(n), escape(v)))
        .collect();
    let main = format!(
        "<section class=\"card\"><h1>{hj}</h1><p lang=\"en\">{he}</p>\
         <form id=\"return-form\" method=\"post\" action=\"{action}\">{inputs}\
         <button type=\"submit\" class=\"primary\" id=\"return-button\">ショップに戻る / Back to the shop</button></form></section>\
         <script src=\"/autosubmit.js\"{sri}></script>",
        sri = sri.attr("/autosubmit.js"),
        hj = escape(heading_ja),
        he = escape(heading_en),
        action = escape(action),
    );
    let origin = shared::url::HttpUrl::parse(action).map(|u| {
        let default = (u.scheme() == "http" && u.port() == 80) || (u.scheme() == "https" && u.port() == 443);
        if default {
            format!("{}://{}", u.scheme(), u.host())
        } else {
            format!("{}://{}:{}", u.scheme(), u.host(), u.port())
        }
    });
    page(200, document("ショップに戻ります / Returning to the shop", &main), &origin.unwrap_or_else(|| "'none'".into()))
}

/// A plain informational page (demo shop, sandbox pages).
#[cfg(feature = "sandbox")]
pub fn simple_page(title: &str, main_html: &str, form_action: &str) -> worker::Result<Response> {
    page(200, document(title, main_html), form_action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
