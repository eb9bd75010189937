//! Payment-page integrity (PCI DSS 6.4.3 and 11.6.1): every script, the
//! wasm and the stylesheet of the hosted page carry the Subresource
//! Integrity hash the build produced (`static/pkg/integrity.json`, written
//! by `cargo xtask build`), and the browser's Content-Security-Policy
//! violation reports are recorded here (`POST /csp-report`) for operators
//! (`GET /operator/csp-reports`).

use std::cell::RefCell;
use std::collections::HashMap;

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{Env, Request, Response};

use crate::config::Config;
use crate::store;
use crate::util::{self, json};

/// The assets' SRI hashes by path (`/boot.js` → `sha384-…`).
#[derive(Debug, Clone, Default)]
pub struct Integrity(HashMap<String, String>);

impl Integrity {
    pub fn parse(text: &str) -> Integrity {
        Integrity(serde_json::from_str(text).unwrap_or_default())
    }

    /// ` integrity="…"` for an asset, or nothing when the build wrote none.
    pub fn attr(&self, path: &str) -> String {
        match self.0.get(path) {
            // Only an SRI hash (algorithm and base64): nothing to escape.
            Some(h) if (h.starts_with("sha384-") || h.starts_with("sha256-")) && h.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=-".contains(&b)) => {
                format!(" integrity=\"{h}\"")
            }
            _ => String::new(),
        }
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }
}

thread_local! {
    static CACHE: RefCell<Option<Integrity>> = const { RefCell::new(None) };
}

/// The build's hashes, read from the assets once per isolate.
pub async fn hashes(env: &Env) -> Integrity {
    if let Some(i) = CACHE.with(|c| c.borrow().clone()) {
        return i;
    }
    let read = async {
        let assets = env.assets("ASSETS")?;
        let mut r = assets.fetch("https://assets.local/pkg/integrity.json", None).await?;
        if r.status_code() != 200 {
            return Err(worker::Error::RustError(format!("integrity.json: HTTP {}", r.status_code())));
        }
        r.text().await
    };
    match read.await {
        Ok(text) => {
            let i = Integrity::parse(&text);
            CACHE.with(|c| *c.borrow_mut() = Some(i.clone()));
            i
        }
        Err(e) => {
            worker::console_error!("no integrity hashes for the page's assets: {e}");
            Integrity::default()
        }
    }
}

/// `POST /csp-report`: a browser's report of a Content-Security-Policy
/// violation (`application/csp-report`, or the Reporting API's
/// `application/reports+json`). Bounded, stored, answered 204.
pub async fn report(mut req: Request, env: &Env, config: &Config) -> worker::Result<Response> {
    let body = req.bytes().await?;
    if body.len() > 16 * 1024 {
        return json(413, &serde_json::json!({"error": {"code": "request_too_large", "message": "a report is at most 16 KiB"}}));
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return json(400, &serde_json::json!({"error": {"code": "invalid_body", "message": "a CSP report is JSON"}}));
    };
    // One legacy report, or a list of Reporting API reports.
    let reports: Vec<serde_json::Value> = match v {
        serde_json::Value::Array(list) => list.into_iter().filter(|r| r["type"] == "csp-violation").map(|r| r["body"].clone()).take(20).collect(),
        serde_json::Value::Object(ref o) if o.contains_key("csp-report") => vec![v["csp-report"].clone()],
        _ => vec![],
    };
    if reports.is_empty() {
        return json(400, &serde_json::json!({"error": {"code": "invalid_body", "message": "no CSP violation in the report"}}));
    }
    let db = store::db(env, config.sandbox).await?;
    let now = util::now().0;
    let text = |r: &serde_json::Value, a: &str, b: &str| -> String {
        r.get(a).or_else(|| r.get(b)).and_then(|x| x.as_str()).unwrap_or("").chars().take(500).collect()
    };
    let mut stmts = vec![];
    for r in &reports {
        stmts.push(
            db.prepare(
                "INSERT INTO csp_reports (id, received_at, document_uri, directive, blocked_uri, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(&[
                util::new_id("csp").into(),
                JsValue::from_f64(now as f64),
                text(r, "document-uri", "documentURL").into(),
                text(r, "violated-directive", "effectiveDirective").into(),
                text(r, "blocked-uri", "blockedURL").into(),
                r.to_string().chars().take(4000).collect::<String>().into(),
            ])?,
        );
    }
    // Keep the newest 1,000.
    stmts.push(db.prepare(
        "DELETE FROM csp_reports WHERE id NOT IN (SELECT id FROM csp_reports ORDER BY received_at DESC, id DESC LIMIT 1000)",
    ));
    db.batch(stmts).await?;
    let mut r = Response::empty()?.with_status(204);
    r.headers_mut().set("cache-control", "no-store")?;
    Ok(r)
}

/// `GET /operator/csp-reports`: the newest violations (operators only).
pub async fn list(env: &Env, config: &Config) -> worker::Result<Response> {
    #[derive(Deserialize, serde::Serialize)]
    struct Row {
        id: String,
        received_at: f64,
        document_uri: String,
        directive: String,
        blocked_uri: String,
    }
    let db = store::db(env, config.sandbox).await?;
    let rows: Vec<Row> = db
        .prepare("SELECT id, received_at, document_uri, directive, blocked_uri FROM csp_reports ORDER BY received_at DESC, id DESC LIMIT 100")
        .all()
        .await?
        .results()?;
    json(200, &serde_json::json!({"data": rows}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_attributes_come_from_the_build_file_only() {
        let i = Integrity::parse(r#"{"/boot.js":"sha384-abc","/x.js":"md5-nope"}"#);
        assert_eq!(i.attr("/boot.js"), " integrity=\"sha384-abc\"");
        assert_eq!(i.attr("/x.js"), "", "only SRI algorithms");
        assert_eq!(i.attr("/pkg/widget.js"), "");
        assert_eq!(Integrity::parse("not json").attr("/boot.js"), "");
        assert_eq!(Integrity::parse(r#"{"/boot.js":"sha384-a\"><script>"}"#).attr("/boot.js"), "", "never markup");
    }
}
