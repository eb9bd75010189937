//! The webhook delivery log: every event of the merchant's payments (each
//! payment's object keeps its outbox and attempts), filterable by payment,
//! event id, type, delivery state and JST dates; re-sending one event, or
//! every event still owed in a range (the merchant API's
//! `POST /v1/webhooks/resend`).
//!
//! The log reads the payments of a page of the D1 index (newest first,
//! `SCAN` at a time) and their events; `next_cursor` continues the scan,
//! so a page may hold fewer events than match overall.

use serde::Deserialize;
use shared::time::UnixTime;
use worker::{Request, Response};

use super::payments::{self, parse_date, Filter};
use super::{error, Audit, Ctx, Session};
use crate::api;
use crate::payment_do::{self, Call, Payment};
use crate::store;
use crate::util::json;

/// Payments read per page of the log.
const SCAN: u32 = 50;

const STATES: &[&str] = &["pending", "delivered", "gave_up", "no_endpoint", "waiting"];

pub(super) async fn log(ctx: &Ctx<'_>, s: &Session, url: &worker::Url) -> worker::Result<Response> {
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let bad = |field: &str, message: &str| json(400, &serde_json::json!({"error": {"code": "invalid_query", "message": message, "field": field}}));
    for (k, _) in &q {
        if !["payment_id", "event_id", "type", "status", "from", "to", "cursor"].contains(&k.as_str()) {
            return bad("query", &format!("{k} is not a filter of the webhook log"));
        }
    }
    let from = match get("from").map(|d| parse_date(&d)) {
        Some(None) => return bad("from", "from is a JST date, YYYY-MM-DD"),
        d => d.flatten(),
    };
    let to = match get("to").map(|d| parse_date(&d)) {
        Some(None) => return bad("to", "to is a JST date, YYYY-MM-DD"),
        d => d.flatten(),
    };
    let status = get("status");
    if status.as_deref().is_some_and(|st| !STATES.contains(&st)) {
        return bad("status", "status is pending, delivered, gave_up, no_endpoint or waiting");
    }
    let (event_id, kind) = (get("event_id"), get("type"));
    let cursor = match get("cursor").map(|c| c.split_once('_').and_then(|(t, id)| Some((t.parse::<i64>().ok()?, id.to_string())))) {
        Some(None) => return bad("cursor", "cursor is the next_cursor of a previous page"),
        c => c.flatten(),
    };
    // Which payments: one, or a page of the index. Events are made after
    // their payment was created and change it, so payments created after
    // `to`, or unchanged since before `from`, have none in range.
    let (ids, next) = match get("payment_id") {
        Some(id) => (vec![id], None),
        None => {
            let f = Filter { to, updated_from: from.map(|d| d.start().0), ..Filter::default() };
            let rows = payments::page(&ctx.db, &s.merchant_id, &s.service_id, &f, cursor.as_ref(), SCAN).await?;
            let next = (rows.len() == SCAN as usize).then(|| rows.last().map(|r| format!("{}_{}", r.created_at as i64, r.payment_id))).flatten();
            (rows.into_iter().map(|r| r.payment_id).collect(), next)
        }
    };
    let (lo, hi) = (from.map(|d| d.start().0), to.map(|d| d.add_days(1).start().0));
    let mut data = vec![];
    for id in ids {
        let Some(p) = payments::own(ctx, s, &id).await? else { continue };
        for e in p.events.iter().rev() {
            let state = serde_json::to_value(e.state).unwrap_or_default();
            if event_id.as_ref().is_some_and(|x| x != &e.id)
                || kind.as_ref().is_some_and(|k| k != &e.kind)
                || status.as_ref().is_some_and(|st| state != st.as_str())
                || lo.is_some_and(|t| e.created_at < t)
                || hi.is_some_and(|t| e.created_at >= t)
            {
                continue;
            }
            data.push(serde_json::json!({
                "payment_id": p.id, "order_id": p.order_id, "event_id": e.id, "type": e.kind, "created_at": e.created_at,
                "created_at_jst": UnixTime(e.created_at).jst().compact(), "state": state, "next_at": e.next_at,
                "attempts": e.attempts,
            }));
        }
    }
    json(200, &serde_json::json!({"data": data, "next_cursor": next, "scanned_payments": SCAN}))
}

pub(super) async fn resend(req: &mut Request, ctx: &Ctx<'_>, s: &Session, audit: &mut Audit) -> worker::Result<Response> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        payment_id: String,
        event_id: String,
    }
    let Ok(b) = req.json::<Body>().await else { return error(400, "invalid_body", "{payment_id, event_id}") };
    audit.target = Some(format!("{}/{}", b.payment_id, b.event_id));
    let Some(p): Option<Payment> = payments::own(ctx, s, &b.payment_id).await? else {
        return error(404, "payment_not_found", "no such payment");
    };
    payment_do::call(ctx.env, &p.id, &Call::Resend { event_id: b.event_id }).await
}

/// `{from, to}`: JST dates (both included) or Unix seconds `[from, to)`.
pub(super) async fn resend_failed(req: &mut Request, ctx: &Ctx<'_>, s: &Session, audit: &mut Audit) -> worker::Result<Response> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum When {
        Unix(i64),
        Date(String),
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        from: When,
        to: When,
    }
    let Ok(b) = req.json::<Body>().await else { return error(400, "invalid_body", "{from, to}: JST dates YYYY-MM-DD or Unix seconds") };
    let t = |w: &When, end: bool| match w {
        When::Unix(t) => Some(*t),
        When::Date(d) => parse_date(d).map(|d| if end { d.add_days(1).start().0 } else { d.start().0 }),
    };
    let (Some(from), Some(to)) = (t(&b.from, false), t(&b.to, true)) else {
        return error(400, "invalid_body", "from and to are JST dates YYYY-MM-DD or Unix seconds");
    };
    audit.after = Some(serde_json::json!({"from": from, "to": to}));
    let Some(m) = store::find_merchant(&ctx.db, &s.merchant_id, &s.service_id).await? else {
        return error(404, "not_found", "no merchant");
    };
    let body = serde_json::json!({"from": from, "to": to}).to_string();
    match api::resend_failed(ctx.env, &ctx.db, &m, body.as_bytes()).await {
        Ok((status, v)) => json(status, &v),
        Err(e) => e.response(),
    }
}
