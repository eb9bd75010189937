//! The merchant's settings in the administration tool, through the same
//! code as the merchant API's `GET`/`PUT /v1/merchant` and
//! `POST /v1/merchant/rotate` (so the same rules hold). A rotated key or
//! secret is in the answer once; the audit records what was rotated, never
//! the value.

use worker::{Request, Response};

use super::{error, Audit, Ctx, Session};
use crate::api;
use crate::payment_do::{self, Call};
use crate::store::{self, Merchant};
use crate::util::json;

async fn merchant(ctx: &Ctx<'_>, s: &Session) -> worker::Result<Option<Merchant>> {
    store::find_merchant(&ctx.db, &s.merchant_id, &s.service_id).await
}

pub(super) async fn get(ctx: &Ctx<'_>, s: &Session) -> worker::Result<Response> {
    let Some(m) = merchant(ctx, s).await? else { return error(404, "not_found", "no merchant") };
    let mut v = api::merchant_view(&m);
    v["previous_valid_until"] = m.previous_until.filter(|t| *t >= crate::util::now().0).into();
    v["suspended"] = m.suspended_at.is_some().into();
    json(200, &v)
}

pub(super) async fn put(req: &mut Request, ctx: &Ctx<'_>, s: &Session, audit: &mut Audit) -> worker::Result<Response> {
    let Some(m) = merchant(ctx, s).await? else { return error(404, "not_found", "no merchant") };
    if m.suspended_at.is_some() {
        return error(403, "merchant_suspended", "this merchant is suspended by the operator; settings cannot be changed");
    }
    let body = req.bytes().await?;
    if body.len() > 16 * 1024 {
        return error(413, "request_too_large", "the body is over 16 KiB");
    }
    audit.before = Some(api::merchant_view(&m));
    match api::put_merchant(&ctx.db, &m, &body, ctx.config.production).await {
        Ok((status, v)) => {
            audit.after = Some(v.clone());
            // Events that waited for an endpoint go out now, in order.
            if v["webhook_url"].is_string() && v["webhook_disabled_at"].is_null() {
                for id in store::resumable_payments(&ctx.db, Some((&m.merchant_id, &m.service_id)), 100).await? {
                    if let Err(e) = payment_do::call(ctx.env, &id, &Call::Tick).await {
                        worker::console_error!("resuming deliveries of {id}: {e}");
                    }
                }
            }
            json(status, &v)
        }
        Err(e) => e.response(),
    }
}

pub(super) async fn rotate(req: &mut Request, ctx: &Ctx<'_>, s: &Session, audit: &mut Audit) -> worker::Result<Response> {
    let Some(m) = merchant(ctx, s).await? else { return error(404, "not_found", "no merchant") };
    if m.suspended_at.is_some() {
        return error(403, "merchant_suspended", "this merchant is suspended by the operator; keys cannot be rotated");
    }
    let body = req.bytes().await?;
    match api::rotate(&ctx.db, &m, &body).await {
        Ok((status, v)) => {
            audit.after = Some(serde_json::json!({"what": v["what"], "previous_valid_until": v["previous_valid_until"]}));
            json(status, &v)
        }
        Err(e) => e.response(),
    }
}
