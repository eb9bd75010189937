//! Subscriptions in the administration tool (issue 11 §4, issue 10 §6):
//! list, detail with charges, cancel, and a purchase on a fixed-term
//! subscription — the merchant API's own functions
//! (`subscription_do::api`), bound to the session's merchant, so the tool
//! and the API can never disagree.

use worker::{Request, Response};

use super::{error, Audit, Ctx, Session};
use crate::api_error::ApiResult;
use crate::store::{self, Merchant};
use crate::subscription_do::api as subs;
use crate::util::json;

async fn merchant(ctx: &Ctx<'_>, s: &Session) -> worker::Result<Option<Merchant>> {
    store::find_merchant(&ctx.db, &s.merchant_id, &s.service_id).await
}

fn answer(r: ApiResult) -> worker::Result<Response> {
    match r {
        Ok((status, v)) => json(status, &v),
        Err(e) => error(e.status, e.code, &e.message),
    }
}

pub(super) async fn list(ctx: &Ctx<'_>, s: &Session, url: &worker::Url) -> worker::Result<Response> {
    let Some(m) = merchant(ctx, s).await? else { return error(404, "not_found", "no such merchant") };
    answer(subs::list(&ctx.db, &m, url).await)
}

pub(super) async fn detail(ctx: &Ctx<'_>, s: &Session, id: &str) -> worker::Result<Response> {
    let Some(m) = merchant(ctx, s).await? else { return error(404, "not_found", "no such merchant") };
    answer(subs::get(ctx.env, &ctx.db, &m, id).await)
}

pub(super) async fn cancel(ctx: &Ctx<'_>, s: &Session, id: &str, audit: &mut Audit) -> worker::Result<Response> {
    let Some(m) = merchant(ctx, s).await? else { return error(404, "not_found", "no such merchant") };
    let r = subs::cancel(ctx.env, &m, id).await;
    if let Ok((_, v)) = &r {
        audit.after = Some(serde_json::json!({"status": v["status"], "ended_by": v["ended_by"]}));
    }
    answer(r)
}

/// `{"amount": n, "item_name"?: "…"}` with an `Idempotency-Key` header
/// (the app makes one per confirmation): the purchase's key, scoped to the
/// merchant as the API's are.
pub(super) async fn purchase(req: &mut Request, ctx: &Ctx<'_>, s: &Session, id: &str, audit: &mut Audit) -> worker::Result<Response> {
    let Some(m) = merchant(ctx, s).await? else { return error(404, "not_found", "no such merchant") };
    let key = req.headers().get("idempotency-key")?.filter(|k| !k.is_empty() && k.len() <= 255);
    let body = req.bytes().await?;
    audit.before = serde_json::from_slice(&body).ok();
    let key = key.map(|k| crate::api::provider_key(&m, &format!("admin:{k}")));
    let r = subs::purchase(ctx.env, &m, id, &body, key).await;
    if let Ok((_, v)) = &r {
        audit.after = Some(serde_json::json!({"tracking_id": v["payment"]["tracking_id"], "status": v["payment"]["status"]}));
    }
    answer(r)
}
