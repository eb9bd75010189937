//! Payments in the administration tool: search (D1's payments index, bound
//! to the session's merchant), the streamed CSV export, the detail with
//! its timeline and the actions allowed now, and the actions themselves.
//! Actions go through the payment object's calls exactly as the merchant
//! API's do (`Call::Operate`, `Call::NetcashRefund`), after the same
//! method rules (`api::method_rule_refusal`); nothing goes around them.

use serde::Deserialize;
use shared::journal::{OpKind, OpState};
use shared::methods::Method as PayMethod;
use shared::money::Yen;
use shared::payment::Status;
use shared::signing::{hex, sha256};
use shared::time::{JstDate, UnixTime};
use wasm_bindgen::JsValue;
use worker::{D1Database, Request, Response};

use super::csv::{self, Cell};
use super::{error, Audit, Ctx, Session};
use crate::api;
use crate::payment_do::{self, Call, OperateBody, Payment};
use crate::store::{self, Merchant};
use crate::util::json;

/// A search, as the query string gives it. Every field is checked; a bad
/// one is a 400 naming it.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub order_id: Option<String>,
    pub tracking_id: Option<String>,
    pub cust_code: Option<String>,
    /// JST dates, both included.
    pub from: Option<JstDate>,
    pub to: Option<JstDate>,
    pub methods: Vec<String>,
    pub statuses: Vec<String>,
    pub amount_min: Option<u64>,
    pub amount_max: Option<u64>,
    /// Changed at or after (Unix seconds); not a query field (the webhook
    /// log uses it: an event made after a time changed its payment then).
    pub updated_from: Option<i64>,
}

pub struct Bad {
    pub field: &'static str,
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> Bad {
    Bad { field, message: message.into() }
}

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<JstDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    JstDate::new(s[..4].parse().ok()?, s[5..7].parse().ok()?, s[8..].parse().ok()?)
}

fn yen(field: &'static str, v: &str) -> Result<u64, Bad> {
    if v.is_empty() || v.len() > 10 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(field, format!("{field} is whole yen (digits only)")));
    }
    v.parse().map_err(|_| bad(field, format!("{field} is whole yen")))
}

fn text(field: &'static str, v: &str) -> Result<String, Bad> {
    if v.len() > 64 || v.chars().any(char::is_control) {
        return Err(bad(field, format!("{field} is at most 64 characters")));
    }
    Ok(v.to_string())
}

impl Filter {
    pub fn parse(pairs: &[(String, String)]) -> Result<Filter, Bad> {
        let mut f = Filter::default();
        for (k, v) in pairs {
            if v.is_empty() {
                continue;
            }
            match k.as_str() {
                "order_id" => f.order_id = Some(text("order_id", v)?),
                "tracking_id" => f.tracking_id = Some(text("tracking_id", v)?),
                "cust_code" => f.cust_code = Some(text("cust_code", v)?),
                "from" => f.from = Some(parse_date(v).ok_or_else(|| bad("from", "from is a JST date, YYYY-MM-DD"))?),
                "to" => f.to = Some(parse_date(v).ok_or_else(|| bad("to", "to is a JST date, YYYY-MM-DD"))?),
                "method" => {
                    for m in v.split(',') {
                        if PayMethod::from_code(m).is_none() {
                            return Err(bad("method", format!("{m} is not one of netcash, prepaid, np, au, card")));
                        }
                        f.methods.push(m.to_string());
                    }
                }
                "status" => {
                    for st in v.split(',') {
                        if !Status::ALL.iter().any(|s| s.code() == st) {
                            return Err(bad("status", format!("{st} is not a payment status")));
                        }
                        f.statuses.push(st.to_string());
                    }
                }
                "amount_min" => f.amount_min = Some(yen("amount_min", v)?),
                "amount_max" => f.amount_max = Some(yen("amount_max", v)?),
                "cursor" | "limit" | "encoding" => {}
                _ => return Err(bad("query", format!("{k} is not a search field"))),
            }
        }
        if let (Some(a), Some(b)) = (f.from, f.to) {
            if a > b {
                return Err(bad("to", "to is before from"));
            }
        }
        if let (Some(a), Some(b)) = (f.amount_min, f.amount_max) {
            if a > b {
                return Err(bad("amount_max", "amount_max is below amount_min"));
            }
        }
        Ok(f)
    }

    /// The WHERE clause (after the merchant's own `?1`, `?2`) and its values.
    fn sql(&self, args: &mut Vec<JsValue>) -> String {
        let mut sql = String::new();
        let mut add = |clause: &str, v: JsValue, sql: &mut String| {
            args.push(v);
            sql.push_str(&clause.replace('#', &format!("?{}", args.len())));
        };
        if let Some(v) = &self.order_id {
            add(" AND order_id = #", v.as_str().into(), &mut sql);
        }
        if let Some(v) = &self.tracking_id {
            add(" AND payment_id = #", v.as_str().into(), &mut sql);
        }
        if let Some(v) = &self.cust_code {
            add(" AND json_extract(record, '$.cust_code') = #", v.as_str().into(), &mut sql);
        }
        if let Some(d) = self.from {
            add(" AND created_at >= #", JsValue::from_f64(d.start().0 as f64), &mut sql);
        }
        if let Some(d) = self.to {
            add(" AND created_at < #", JsValue::from_f64(d.add_days(1).start().0 as f64), &mut sql);
        }
        if let Some(t) = self.updated_from {
            add(" AND updated_at >= #", JsValue::from_f64(t as f64), &mut sql);
        }
        if let Some(a) = self.amount_min {
            add(" AND amount >= #", JsValue::from_f64(a as f64), &mut sql);
        }
        if let Some(a) = self.amount_max {
            add(" AND amount <= #", JsValue::from_f64(a as f64), &mut sql);
        }
        for (col, list) in [("method", &self.methods), ("status", &self.statuses)] {
            if list.is_empty() {
                continue;
            }
            let mut marks = vec![];
            for v in list {
                args.push(v.as_str().into());
                marks.push(format!("?{}", args.len()));
            }
            sql.push_str(&format!(" AND {col} IN ({})", marks.join(", ")));
        }
        sql
    }
}

#[derive(Deserialize, Clone)]
pub struct Row {
    pub payment_id: String,
    pub order_id: String,
    pub method: Option<String>,
    pub status: String,
    pub amount: f64,
    pub created_at: f64,
    pub updated_at: f64,
    pub cust_code: Option<String>,
    pub item_name: Option<String>,
    pub tax: Option<f64>,
}

type Cursor = (i64, String);

fn parse_cursor(s: &str) -> Option<Cursor> {
    let (t, id) = s.split_once('_')?;
    Some((t.parse().ok()?, id.to_string()))
}

fn cursor_of(r: &Row) -> String {
    format!("{}_{}", r.created_at as i64, r.payment_id)
}

/// One page of the search, newest first, after `cursor`.
pub async fn page(db: &D1Database, mid: &str, sid: &str, f: &Filter, cursor: Option<&Cursor>, limit: u32) -> worker::Result<Vec<Row>> {
    let mut args: Vec<JsValue> = vec![mid.into(), sid.into()];
    let mut sql = String::from(
        "SELECT payment_id, order_id, method, status, amount, created_at, updated_at, json_extract(record, '$.cust_code') AS cust_code,
         json_extract(record, '$.item_name') AS item_name, json_extract(record, '$.tax') AS tax
         FROM payments WHERE merchant_id = ?1 AND service_id = ?2",
    );
    sql.push_str(&f.sql(&mut args));
    if let Some((t, id)) = cursor {
        args.push(JsValue::from_f64(*t as f64));
        let n = args.len();
        args.push(id.as_str().into());
        sql.push_str(&format!(" AND (created_at < ?{n} OR (created_at = ?{n} AND payment_id < ?{}))", n + 1));
    }
    sql.push_str(&format!(" ORDER BY created_at DESC, payment_id DESC LIMIT {limit}"));
    db.prepare(sql).bind(&args)?.all().await?.results()
}

async fn count(db: &D1Database, mid: &str, sid: &str, f: &Filter) -> worker::Result<u64> {
    let mut args: Vec<JsValue> = vec![mid.into(), sid.into()];
    let sql = format!("SELECT COUNT(*) AS n FROM payments WHERE merchant_id = ?1 AND service_id = ?2{}", f.sql(&mut args));
    let n: Option<f64> = db.prepare(sql).bind(&args)?.first(Some("n")).await?;
    Ok(n.unwrap_or(0.0) as u64)
}

fn pairs(url: &worker::Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}

fn bad_query(b: Bad) -> worker::Result<Response> {
    json(400, &serde_json::json!({"error": {"code": "invalid_query", "message": b.message, "field": b.field}}))
}

fn row_view(r: &Row) -> serde_json::Value {
    serde_json::json!({"tracking_id": r.payment_id, "order_id": r.order_id, "cust_code": r.cust_code, "item_name": r.item_name,
        "method": r.method, "status": r.status, "amount": r.amount as i64, "created_at": r.created_at as i64, "updated_at": r.updated_at as i64})
}

/// `GET /admin/api/payments`: a page of the search, with the number of
/// payments it matches in all.
pub(super) async fn search(ctx: &Ctx<'_>, s: &Session, url: &worker::Url) -> worker::Result<Response> {
    let q = pairs(url);
    let f = match Filter::parse(&q) {
        Ok(f) => f,
        Err(b) => return bad_query(b),
    };
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let cursor = match get("cursor").map(parse_cursor) {
        Some(None) => return bad_query(bad("cursor", "cursor is the next_cursor of a previous page")),
        Some(c) => c,
        None => None,
    };
    let limit: u32 = match get("limit") {
        None => 50,
        Some(l) => match l.parse().ok().filter(|l| (1..=100).contains(l)) {
            Some(l) => l,
            None => return bad_query(bad("limit", "limit is 1 to 100")),
        },
    };
    let mut rows = page(&ctx.db, &s.merchant_id, &s.service_id, &f, cursor.as_ref(), limit + 1).await?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(cursor_of)
    } else {
        None
    };
    let total = count(&ctx.db, &s.merchant_id, &s.service_id, &f).await?;
    json(200, &serde_json::json!({"data": rows.iter().map(row_view).collect::<Vec<_>>(), "next_cursor": next, "count": total}))
}

/// The export's columns, in order (README "CSV export").
pub const CSV_COLUMNS: &[&str] =
    &["tracking_id", "order_id", "cust_code", "item_name", "method", "status", "amount", "tax", "created_at_jst", "updated_at_jst"];

fn jst_text(t: i64) -> String {
    let t = UnixTime(t).jst();
    format!("{} {:02}:{:02}:{:02}", t.date.iso(), t.hour, t.minute, t.second)
}

fn csv_row(r: &Row) -> String {
    let (created, updated) = (jst_text(r.created_at as i64), jst_text(r.updated_at as i64));
    csv::row(&[
        Cell::Text(&r.payment_id),
        Cell::Text(&r.order_id),
        r.cust_code.as_deref().map(Cell::Text).unwrap_or(Cell::Empty),
        r.item_name.as_deref().map(Cell::Text).unwrap_or(Cell::Empty),
        r.method.as_deref().map(Cell::Text).unwrap_or(Cell::Empty),
        Cell::Text(&r.status),
        Cell::Int(r.amount as i64),
        Cell::Int(r.tax.unwrap_or(0.0) as i64),
        Cell::Text(&created),
        Cell::Text(&updated),
    ])
}

/// Rows the export reads from D1 at a time.
pub const EXPORT_PAGE: u32 = 100;

/// `GET /admin/api/payments.csv`: everything the search matches, streamed
/// (read from D1 a page at a time while the answer is being sent).
pub(super) async fn export(ctx: &Ctx<'_>, s: &Session, url: &worker::Url) -> worker::Result<Response> {
    let f = match Filter::parse(&pairs(url)) {
        Ok(f) => f,
        Err(b) => return bad_query(b),
    };
    let enc = match super::export::encoding(url) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let (mid, sid) = (s.merchant_id.clone(), s.service_id.clone());
    super::export::streamed(ctx.env, enc, CSV_COLUMNS, "payments.csv", move |db, cursor: Option<Cursor>| {
        let (mid, sid, f) = (mid.clone(), sid.clone(), f.clone());
        async move {
            let rows = page(&db, &mid, &sid, &f, cursor.as_ref(), EXPORT_PAGE).await?;
            let next = (rows.len() == EXPORT_PAGE as usize).then(|| rows.last().map(|r| (r.created_at as i64, r.payment_id.clone()))).flatten();
            Ok((rows.iter().map(csv_row).collect(), next))
        }
    })
}

/// The session's merchant's payment, or `None` (another merchant's
/// payment does not exist for this one).
pub(super) async fn own(ctx: &Ctx<'_>, s: &Session, id: &str) -> worker::Result<Option<Payment>> {
    if !crate::checkout::valid_payment_id(id) {
        return Ok(None);
    }
    let mut rec = payment_do::call(ctx.env, id, &Call::Record).await?;
    if rec.status_code() != 200 {
        return Ok(None);
    }
    let p: Payment = rec.json().await?;
    Ok((p.merchant_id == s.merchant_id && p.service_id == s.service_id).then_some(p))
}

async fn merchant(ctx: &Ctx<'_>, s: &Session) -> worker::Result<Merchant> {
    store::find_merchant(&ctx.db, &s.merchant_id, &s.service_id)
        .await?
        .ok_or_else(|| worker::Error::RustError("the session's merchant is gone".into()))
}

/// Everything that happened to a payment, oldest first: state changes,
/// provider operations (with their outcomes), notifications and each
/// delivery attempt, NET CASH batch refunds.
pub fn timeline(p: &Payment) -> Vec<serde_json::Value> {
    let mut t: Vec<(i64, u8, serde_json::Value)> = vec![];
    for h in &p.history {
        t.push((h.at, 0, serde_json::json!({"at": h.at, "kind": "state", "status": h.status.code(), "note": h.note})));
    }
    for o in &p.journal.ops {
        t.push((
            o.started_at,
            1,
            serde_json::json!({"at": o.started_at, "kind": "operation", "operation": o.kind.code(), "amount": o.amount, "state": o.state,
                "origin": o.origin, "provider_ref": o.provider_ref, "error": o.error, "updated_at": o.updated_at, "key": o.key}),
        ));
    }
    for e in &p.events {
        t.push((e.created_at, 2, serde_json::json!({"at": e.created_at, "kind": "notification", "event_id": e.id, "type": e.kind, "state": e.state})));
        for a in &e.attempts {
            t.push((
                a.at,
                3,
                serde_json::json!({"at": a.at, "kind": "delivery", "event_id": e.id, "type": e.kind, "url": a.url, "http_status": a.status,
                    "latency_ms": a.latency_ms, "excerpt": a.excerpt, "manual": a.manual, "succeeded": a.succeeded()}),
            ));
        }
    }
    for b in &p.batch_refunds {
        t.push((
            b.requested_at,
            4,
            serde_json::json!({"at": b.requested_at, "kind": "batch_refund", "refund_id": b.id, "amount": b.amount,
                "batch_closes": b.batch_closes, "payout_date": b.payout_date, "paid_on": b.paid_on}),
        ));
    }
    t.sort_by_key(|(at, order, _)| (*at, *order));
    t.into_iter().map(|(_, _, v)| v).collect()
}

fn allowed(action: &str, max: Option<Yen>, extra: serde_json::Value) -> serde_json::Value {
    let mut v = serde_json::json!({"action": action, "allowed": true, "max_amount": max});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

fn refused(action: &str, code: &str, message: String, extra: serde_json::Value) -> serde_json::Value {
    let mut v = serde_json::json!({"action": action, "allowed": false, "code": code, "reason": message});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

/// What can be done to the payment now, each with its limit, or why not
/// in words (with the deadline and its date, what is still refundable).
pub fn actions(p: &Payment, m: &Merchant, clock: &crate::clock::Clock) -> Vec<serde_json::Value> {
    let now = clock.now();
    let today = now.jst().date;
    let busy = p.journal.ops.iter().find(|o| matches!(o.state, OpState::InFlight | OpState::Reconciling));
    let remaining = p.amounts.captured.checked_sub(p.amounts.refunded).unwrap_or(Yen::ZERO);
    let refundable = p.refundable();
    let money = serde_json::json!({"captured": p.amounts.captured, "refunded": p.amounts.refunded, "refundable": refundable,
        "in_progress": p.journal.reserved_refunds()});
    let names: &[&str] = match p.method {
        Some(PayMethod::Netcash) => &["netcash_refund"],
        Some(PayMethod::Prepaid) => &["refund"],
        Some(PayMethod::Np) => &["shipment", "cancel", "refund"],
        _ => &["settle", "cancel", "refund"],
    };
    let paid_at = p.paid_at.map(UnixTime);
    let settled_at = p.history.iter().find(|h| h.status == Status::Paid).map(|h| UnixTime(h.at));
    let mut out = vec![];
    for &name in names {
        let api_name = match name {
            "netcash_refund" | "shipment" => None,
            n => Some(n),
        };
        let v = if p.method.is_none() || p.provider_ref.is_none() {
            refused(name, "not_paid", format!("the payment is {} and has taken no money", p.status.code()), serde_json::json!({}))
        } else if let Some(r) = api_name.and_then(|a| api::method_rule_refusal(p, a, clock, m)) {
            refused(name, r.code, r.message, serde_json::json!({}))
        } else if let Some(o) = busy {
            refused(
                name,
                "operation_in_progress",
                format!(
                    "a {} of {} yen is {} with the provider; wait until it ends",
                    o.kind.code(),
                    o.amount.get(),
                    if o.state == OpState::InFlight { "in progress" } else { "being reconciled" }
                ),
                serde_json::json!({}),
            )
        } else {
            match name {
                "settle" | "shipment" => {
                    if p.status != Status::Authorized {
                        refused(name, "not_authorized", format!("only an authorized payment can be settled; this one is {}", p.status.code()), serde_json::json!({}))
                    } else {
                        let max = p.amounts.authorized.checked_sub(p.journal.reserved(OpKind::Capture)).unwrap_or(Yen::ZERO);
                        let deadline = (p.method == Some(PayMethod::Au)).then(|| paid_at.map(shared::au::last_day_to_settle)).flatten();
                        match (p.method, paid_at) {
                            (Some(PayMethod::Au), Some(at)) if shared::au::check_settle(at, now).is_err() => {
                                let r = shared::au::check_settle(at, now).unwrap_err();
                                refused(name, r.code(), r.message(), serde_json::json!({"deadline": deadline.map(|d| d.iso())}))
                            }
                            _ => allowed(
                                name,
                                Some(max),
                                serde_json::json!({"partial": name == "settle", "deadline": deadline.map(|d| d.iso())}),
                            ),
                        }
                    }
                }
                "cancel" => {
                    let ok = matches!(p.status, Status::Authorized | Status::Held)
                        || (p.status == Status::RefundRequired && p.amounts.captured == Yen::ZERO);
                    if !ok {
                        refused(
                            name,
                            "not_cancellable",
                            format!("only an authorized payment (not yet settled) can be cancelled; this one is {}; refund it instead", p.status.code()),
                            serde_json::json!({}),
                        )
                    } else {
                        match (p.method, paid_at) {
                            (Some(PayMethod::Au), Some(at)) => match shared::au::check_cancel(at, now) {
                                Err(r) => refused(name, r.code(), r.message(), serde_json::json!({"deadline": shared::au::last_day_to_settle(at).iso()})),
                                Ok(()) => allowed(name, None, serde_json::json!({"deadline": shared::au::last_day_to_settle(at).iso()})),
                            },
                            _ => allowed(name, None, serde_json::json!({})),
                        }
                    }
                }
                "refund" => {
                    if !matches!(p.status, Status::Paid | Status::PartiallyRefunded | Status::RefundRequired) || refundable == Yen::ZERO {
                        refused(
                            name,
                            "nothing_to_refund",
                            format!(
                                "nothing can be refunded: {} yen captured, {} yen refunded, {} yen in refunds under way (status {})",
                                p.amounts.captured.get(),
                                p.amounts.refunded.get(),
                                p.journal.reserved_refunds().get(),
                                p.status.code()
                            ),
                            money.clone(),
                        )
                    } else {
                        match (p.method, settled_at) {
                            (Some(PayMethod::Au), Some(at)) => {
                                let deadline = shared::au::last_day_to_refund(at).iso();
                                let partial_from = shared::au::first_day_of_partial_refund(at);
                                match shared::au::check_refund(at, now, false) {
                                    Err(r) => refused(name, r.code(), r.message(), serde_json::json!({"deadline": deadline})),
                                    Ok(()) => {
                                        let partial = today >= partial_from;
                                        let mut v = allowed(name, Some(refundable), serde_json::json!({"partial": partial, "deadline": deadline}));
                                        if !partial {
                                            v["partial_from"] = partial_from.iso().into();
                                            v["note"] = format!("au takes partial refunds from {} (JST); until then only the whole {} yen", partial_from.iso(), remaining.get()).into();
                                        }
                                        v
                                    }
                                }
                            }
                            _ => allowed(name, Some(refundable), serde_json::json!({"partial": true})),
                        }
                    }
                }
                _ => {
                    // NET CASH: a refund request into the weekly batch.
                    let purchase = paid_at.map(|t| t.jst().date);
                    let deadline = purchase.map(shared::rules::netcash_refund_deadline);
                    let batch = shared::rules::netcash_batch(today);
                    let dates = serde_json::json!({"deadline": deadline.map(|d| d.iso()), "batch_closes": batch.closes.iso(), "payout_date": batch.paid.iso()});
                    if let Some(Err(r)) = purchase.map(|d| shared::rules::check_netcash_refund(d, today)) {
                        refused(name, r.code, r.message, dates)
                    } else if !matches!(p.status, Status::Paid | Status::PartiallyRefunded | Status::RefundRequired) || refundable == Yen::ZERO {
                        refused(
                            name,
                            "nothing_to_refund",
                            format!(
                                "nothing can be refunded: {} yen paid, {} yen refunded, {} yen in refund batches not yet paid out",
                                p.amounts.captured.get(),
                                p.amounts.refunded.get(),
                                p.journal.reserved_refunds().get()
                            ),
                            money.clone(),
                        )
                    } else {
                        let mut v = allowed(name, Some(refundable), dates);
                        v["partial"] = true.into();
                        v
                    }
                }
            }
        };
        out.push(v);
    }
    out
}

/// `GET /admin/api/payments/{id}`.
pub(super) async fn detail(ctx: &Ctx<'_>, s: &Session, id: &str) -> worker::Result<Response> {
    let Some(p) = own(ctx, s, id).await? else { return error(404, "payment_not_found", "no such payment") };
    let m = merchant(ctx, s).await?;
    json(
        200,
        &serde_json::json!({"payment": api::payment_view(&p), "refundable": p.refundable(), "batch_refunds": p.batch_refunds,
            "timeline": timeline(&p), "actions": actions(&p, &m, &ctx.clock)}),
    )
}

/// The provider key of an administration action: from the merchant, the
/// service and the confirmation's `Idempotency-Key`, so a double submit is
/// the same provider request (and never equal to a merchant API key).
fn admin_key(s: &Session, key: &str) -> String {
    let digest = sha256(format!("admin\n{}\n{}\n{key}", s.merchant_id, s.service_id).as_bytes());
    format!("ak_{}", &hex(&digest)[..40])
}

/// `POST /admin/api/payments/{id}/{settle|cancel|refund|shipment|netcash-refund}`
/// with `{"amount"?}` and an `Idempotency-Key` per confirmation.
pub(super) async fn act(req: &mut Request, ctx: &Ctx<'_>, s: &Session, id: &str, action: &str, audit: &mut Audit) -> worker::Result<Response> {
    if !matches!(action, "settle" | "cancel" | "refund" | "shipment" | "netcash-refund") {
        return error(404, "not_found", "actions are settle, cancel, refund, shipment, netcash-refund");
    }
    let body = req.bytes().await?;
    if body.len() > 4096 {
        return error(413, "request_too_large", "the body is over 4 KiB");
    }
    // A malformed amount is refused, never read as "everything".
    let amount = match shared::money::amount_in_body(&body, &["amount"]) {
        Ok(a) => a,
        Err(e) => return json(400, &serde_json::json!({"error": {"code": e.code, "message": e.message, "field": e.field}})),
    };
    let key = req.headers().get("idempotency-key")?.filter(|k| !k.is_empty());
    if key.as_ref().is_some_and(|k| k.len() > 255) {
        return error(400, "bad_idempotency_key", "Idempotency-Key is at most 255 characters");
    }
    let Some(p) = own(ctx, s, id).await? else { return error(404, "payment_not_found", "no such payment") };
    let m = merchant(ctx, s).await?;
    if m.suspended_at.is_some() {
        return error(403, "merchant_suspended", "this merchant is suspended by the operator; payments cannot be changed");
    }
    audit.before = Some(serde_json::json!({"status": p.status.code(), "captured": p.amounts.captured, "refunded": p.amounts.refunded}));
    audit.after = Some(serde_json::json!({"amount": amount}));
    let netcash = p.method == Some(PayMethod::Netcash);
    if action == "netcash-refund" || (netcash && action == "refund") {
        // The page sends one Idempotency-Key per confirmation: a double
        // submit is the same refund.
        return payment_do::call(ctx.env, id, &Call::NetcashRefund { amount, key }).await;
    }
    let kind = match action {
        "settle" => OpKind::Capture,
        "cancel" => OpKind::Void,
        "refund" => OpKind::Refund,
        _ => {
            if p.method != Some(PayMethod::Np) {
                return error(422, "not_np", "only NP postpaid payments take a shipment report");
            }
            OpKind::Capture
        }
    };
    if action != "shipment" {
        if let Some(r) = api::method_rule_refusal(&p, action, &ctx.clock, &m) {
            return r.response();
        }
    }
    let amount = if action == "shipment" { None } else { amount };
    let key = Some(admin_key(s, &key.unwrap_or_else(|| crate::util::new_id("adm"))));
    match api::operate(ctx.env, &p, OperateBody { kind, amount, key }).await {
        Ok((status, v)) => json(status, &v),
        Err(e) => e.response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Vec<(String, String)> {
        s.split('&').filter(|p| !p.is_empty()).map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        }).collect()
    }

    #[test]
    fn search_fields_are_checked_one_by_one() {
        let f = Filter::parse(&q("order_id=o-1&from=2026-12-01&to=2026-12-31&method=card,np&status=paid&amount_min=100&amount_max=100")).ok().unwrap();
        assert_eq!(f.order_id.as_deref(), Some("o-1"));
        assert_eq!(f.from, JstDate::new(2026, 12, 1));
        assert_eq!(f.methods, vec!["card", "np"]);
        assert_eq!((f.amount_min, f.amount_max), (Some(100), Some(100)));
        assert!(Filter::parse(&q("order_id=&status=")).ok().unwrap().statuses.is_empty(), "empty fields are no filter");
        for (query, field) in [
            ("from=2026-02-30", "from"),
            ("to=20261201", "to"),
            ("method=cash", "method"),
            ("status=paid,lost", "status"),
            ("amount_min=1e3", "amount_min"),
            ("amount_max=-1", "amount_max"),
            ("amount_min=12345678901", "amount_min"),
            ("from=2026-12-02&to=2026-12-01", "to"),
            ("amount_min=5&amount_max=4", "amount_max"),
            ("sort=amount", "query"),
        ] {
            assert_eq!(Filter::parse(&q(query)).err().map(|b| b.field), Some(field), "{query}");
        }
    }

    #[test]
    fn dates_are_iso_jst_days() {
        assert_eq!(parse_date("2026-12-01"), JstDate::new(2026, 12, 1));
        assert_eq!(parse_date("2026-1-01"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        // A JST day starts at 15:00 UTC the day before.
        assert_eq!(parse_date("2026-12-01").unwrap().start().rfc3339_utc(), "2026-11-30T15:00:00Z");
    }
}
