//! The administration audit log (D1 `admin_audit`): every sign-in, failed
//! sign-in, action and setting change of a merchant's staff — who, when
//! (business time), from which IP (`CF-Connecting-IP`), what, on what, the
//! answer's status, and for setting changes the values before and after
//! (never a secret: a rotation records what was rotated, not the value).

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Response};

use super::csv::{self, Cell};
use super::{error, Ctx, Session};
use crate::util::{self, json};

#[allow(clippy::too_many_arguments)]
pub(super) async fn write(
    ctx: &Ctx<'_>,
    mid: &str,
    sid: &str,
    user: Option<&str>,
    action: &str,
    target: Option<&str>,
    status: u16,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> worker::Result<()> {
    let opt = |v: Option<&serde_json::Value>| v.map(|v| JsValue::from(v.to_string())).unwrap_or(JsValue::NULL);
    ctx.db
        .prepare(
            "INSERT INTO admin_audit (id, merchant_id, service_id, at, user_id, ip, action, target, status, before, after)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .bind(&[
            util::new_id("aud").into(),
            mid.into(),
            sid.into(),
            JsValue::from_f64(ctx.now as f64),
            user.map(JsValue::from_str).unwrap_or(JsValue::NULL),
            ctx.ip.as_str().into(),
            action.chars().take(100).collect::<String>().into(),
            target.map(|t| JsValue::from(t.chars().take(200).collect::<String>())).unwrap_or(JsValue::NULL),
            JsValue::from_f64(status as f64),
            opt(before),
            opt(after),
        ])?
        .run()
        .await?;
    Ok(())
}

#[derive(Deserialize)]
struct Row {
    id: String,
    at: f64,
    user_id: Option<String>,
    ip: String,
    action: String,
    target: Option<String>,
    status: f64,
    before: Option<String>,
    after: Option<String>,
}

fn parse_json(s: &Option<String>) -> serde_json::Value {
    s.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or(serde_json::Value::Null)
}

fn cursor_of(r: &Row) -> String {
    format!("{}_{}", r.at as i64, r.id)
}

/// A page of a merchant's log, newest first, after `cursor`.
async fn page(db: &D1Database, mid: &str, sid: &str, cursor: Option<(i64, String)>, limit: u32) -> worker::Result<Vec<Row>> {
    let mut sql = String::from("SELECT id, at, user_id, ip, action, target, status, before, after FROM admin_audit WHERE merchant_id = ?1 AND service_id = ?2");
    let mut args: Vec<JsValue> = vec![mid.into(), sid.into()];
    if let Some((t, id)) = cursor {
        args.push(JsValue::from_f64(t as f64));
        args.push(id.into());
        sql.push_str(" AND (at < ?3 OR (at = ?3 AND id < ?4))");
    }
    sql.push_str(&format!(" ORDER BY at DESC, id DESC LIMIT {limit}"));
    db.prepare(sql).bind(&args)?.all().await?.results()
}

fn parse_cursor(url: &worker::Url) -> Result<Option<(i64, String)>, ()> {
    match url.query_pairs().find(|(k, _)| k == "cursor") {
        None => Ok(None),
        Some((_, c)) => c.split_once('_').and_then(|(t, id)| Some((t.parse().ok()?, id.to_string()))).map(Some).ok_or(()),
    }
}

pub(super) async fn list(ctx: &Ctx<'_>, s: &Session, url: &worker::Url) -> worker::Result<Response> {
    let Ok(cursor) = parse_cursor(url) else { return error(400, "invalid_cursor", "cursor is the next_cursor of a previous page") };
    let mut rows = page(&ctx.db, &s.merchant_id, &s.service_id, cursor, 101).await?;
    let next = (rows.len() > 100).then(|| {
        rows.truncate(100);
        rows.last().map(cursor_of)
    });
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({"id": r.id, "at": r.at as i64, "user_id": r.user_id, "ip": r.ip, "action": r.action, "target": r.target,
                "status": r.status as u16, "before": parse_json(&r.before), "after": parse_json(&r.after)})
        })
        .collect();
    json(200, &serde_json::json!({"data": data, "next_cursor": next.flatten()}))
}

pub const CSV_COLUMNS: &[&str] = &["at_jst", "user_id", "ip", "action", "target", "status", "before", "after"];

fn csv_row(r: &Row) -> String {
    let at = shared::time::UnixTime(r.at as i64).jst();
    let at = format!("{} {:02}:{:02}:{:02}", at.date.iso(), at.hour, at.minute, at.second);
    csv::row(&[
        Cell::Text(&at),
        Cell::Text(r.user_id.as_deref().unwrap_or("")),
        Cell::Text(&r.ip),
        Cell::Text(&r.action),
        Cell::Text(r.target.as_deref().unwrap_or("")),
        Cell::Int(r.status as i64),
        Cell::Text(r.before.as_deref().unwrap_or("")),
        Cell::Text(r.after.as_deref().unwrap_or("")),
    ])
}

/// The whole log as CSV, streamed page by page.
pub(super) async fn export(ctx: &Ctx<'_>, s: &Session, url: &worker::Url) -> worker::Result<Response> {
    let enc = match super::export::encoding(url) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let (mid, sid) = (s.merchant_id.clone(), s.service_id.clone());
    super::export::streamed(ctx.env, enc, CSV_COLUMNS, "audit.csv", move |db, cursor: Option<(i64, String)>| {
        let (mid, sid) = (mid.clone(), sid.clone());
        async move {
            let rows = page(&db, &mid, &sid, cursor, 200).await?;
            let next = (rows.len() == 200).then(|| rows.last().map(|r| (r.at as i64, r.id.clone()))).flatten();
            Ok((rows.iter().map(csv_row).collect(), next))
        }
    })
}
