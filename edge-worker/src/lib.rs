//! Kessai Link's edge backend. Routes:
//!
//! * `POST /link/purchase` — the signed purchase request (link type);
//! * `/pay/{id}…` — the hosted payment page and its JSON endpoints;
//! * `POST /provider/<provider>/notify` — providers' signed notifications
//!   (NP postpaid's screening decisions);
//! * `/sandbox/<provider>/…` — provider sandboxes (sandbox mode only);
//! * `/admin` — the payment administration tool (its JSON API under
//!   `/admin/api/`, its app in `static/admin/`);
//! * `/demo…` — the demo shop of the sandbox merchant (sandbox mode only);
//! * `/subscriptions/{token}` — a shopper's subscription page (cancel);
//! * `/health` — liveness, also the trivial route of the benchmark.
//!
//! Besides requests: the cron sweep (`scheduled`) and the billing queue's
//! consumer (`queue`, `subscription_do::billing`).
//!
//! Static files (`static/`) are served by the assets binding before this
//! code runs.

mod admin;
mod api;
mod api_error;
mod checkout;
mod clock;
mod config;
mod connectors;
#[cfg(feature = "sandbox")]
mod demo;
mod html;
mod integrity;
mod link;
mod methods;
mod notify;
mod operator;
mod payment_do;
mod provider_in;
mod reserve;
#[cfg(feature = "sandbox")]
mod sandbox;
mod seal;
mod store;
mod subscription_do;
mod util;

pub use payment_do::PaymentObject;
pub use subscription_do::SubscriptionObject;
#[cfg(feature = "sandbox")]
pub use sandbox::SandboxObject;

use worker::{event, Context, Env, Method, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let config = match config::Config::from_env(&env) {
        Ok(c) => c,
        Err(e) => {
            worker::console_error!("configuration error: {e}");
            return html::error_page(500, "internal", "システムエラーが発生しました。", "An internal error occurred.");
        }
    };
    let path = req.path();
    let production = config.production;
    let result = route(req, &env, &config, &path, &ctx).await;
    let result = match result {
        Ok(r) => Ok(r),
        Err(e) => {
            // Details go to the log, never to the client.
            worker::console_error!("{path}: {e}");
            if path.starts_with("/pay/") && !path.ends_with("/return") && path.matches('/').count() > 2 {
                util::json(500, &serde_json::json!({"error": {"code": "internal", "message": "internal error"}}))
            } else {
                html::error_page(500, "internal", "システムエラーが発生しました。しばらくしてからお試しください。", "An internal error occurred. Please try again later.")
            }
        }
    };
    // Production is served over HTTPS only (PRODUCT §10).
    if production {
        result.map(html::with_hsts)
    } else {
        result
    }
}

async fn route(req: Request, env: &Env, config: &config::Config, path: &str, ctx: &Context) -> worker::Result<Response> {
    if path == "/health" {
        return Response::ok("ok");
    }
    if path == "/link/purchase" {
        return match req.method() {
            Method::Post => link::purchase(req, env, config, ctx).await,
            _ => html::error_page(405, "method_not_allowed", "購入リクエストは POST で送信してください。", "Send the purchase request with POST."),
        };
    }
    if path.starts_with("/v1/") {
        return api::handle(req, env, config).await;
    }
    if path == "/csp-report" && req.method() == Method::Post {
        return integrity::report(req, env, config).await;
    }
    if (path == "/operator" || path == "/operator/") && req.method() == Method::Get {
        return admin::console::page();
    }
    if path.starts_with("/operator/") {
        return operator::handle(req, env, config, path).await;
    }
    if (path == "/admin" || path == "/admin/") && req.method() == Method::Get {
        return admin::page();
    }
    if path.starts_with("/admin/api/") {
        return admin::handle(req, env, config, path).await;
    }
    if let Some(rest) = path.strip_prefix("/provider/") {
        return provider_in::route(req, env, config, rest).await;
    }
    if let Some(token) = path.strip_prefix("/subscriptions/") {
        return subscription_do::page::route(req, env, config, token).await;
    }
    if let Some(rest) = path.strip_prefix("/pay/") {
        let (id, op) = rest.split_once('/').unwrap_or((rest, ""));
        return checkout::route(req, env, config, id, op).await;
    }
    #[cfg(feature = "sandbox")]
    if config.sandbox {
        if path == "/" {
            let mut r = Response::empty()?.with_status(302);
            r.headers_mut().set("location", "/demo")?;
            return Ok(r);
        }
        #[cfg(feature = "sandbox-clock")]
        if path == "/__sandbox/clock" {
            return sandbox_clock(req, env, config).await;
        }
        // A billing queue message delivered by hand (a redelivery, as the
        // queue may do): tests prove it charges nobody twice.
        #[cfg(feature = "sandbox-clock")]
        if path == "/__sandbox/billing" && req.method() == Method::Post {
            let mut req = req;
            let Ok(m) = req.json::<subscription_do::billing::Message>().await else {
                return util::json(400, &serde_json::json!({"error": {"code": "invalid_body", "message": "a billing queue message"}}));
            };
            let db = store::db(env, true).await?;
            subscription_do::billing::consume(env, &db, &m).await?;
            return util::json(200, &serde_json::json!({"ok": true}));
        }
        // Bulk subscriptions for the billing benchmark and the scale test,
        // and how a run stands.
        #[cfg(feature = "sandbox-clock")]
        if path == "/__sandbox/subscriptions" {
            let now = clock::Clock::load(env, config).await?.now().0;
            if req.method() == Method::Get {
                let db = store::db(env, true).await?;
                return util::json(200, &subscription_do::billing::status(&db, now).await?);
            }
            #[derive(serde::Deserialize)]
            struct Seed {
                prefix: String,
                count: u32,
                amount: u64,
            }
            let mut req = req;
            let Ok(s) = req.json::<Seed>().await else {
                return util::json(400, &serde_json::json!({"error": {"code": "invalid_body", "message": "{prefix, count, amount}"}}));
            };
            if s.count > 500 || s.amount == 0 || s.prefix.is_empty() || s.prefix.len() > 20 || !s.prefix.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return util::json(422, &serde_json::json!({"error": {"code": "invalid_seed", "message": "count at most 500, amount > 0, prefix 1-20 letters or digits"}}));
            }
            let n = subscription_do::billing::seed(env, now, &s.prefix, s.count, s.amount).await?;
            return util::json(201, &serde_json::json!({"seeded": n}));
        }
        if let Some(rest) = path.strip_prefix("/sandbox/") {
            let (provider, rest) = rest.split_once('/').map(|(p, r)| (p, format!("/{r}"))).unwrap_or((rest, "/".into()));
            return sandbox::route(req, env, provider, &rest).await;
        }
        if let Some(rest) = path.strip_prefix("/demo") {
            return demo::route(req, config, rest).await;
        }
    }
    html::error_page(404, "not_found", "ページが見つかりません。", "Page not found.")
}

/// Runs the work of every payment whose object has something due: the
/// safety net behind Durable Object alarms (cron), and what moving the
/// sandbox clock triggers.
async fn sweep(env: &Env, config: &config::Config) -> worker::Result<usize> {
    let clock = clock::Clock::load(env, config).await?;
    let db = store::db(env, config.sandbox).await?;
    #[cfg(feature = "sandbox")]
    if config.sandbox {
        // The sandbox providers' own scheduled work (NET CASH refund batches).
        if let Err(e) = sandbox::route(Request::new("https://sandbox/batch/run", Method::Post)?, env, "netcash", "/batch/run").await {
            worker::console_error!("sandbox batch run: {e}");
        }
    }
    let mut due = store::due_payments(&db, clock.now().0, 200).await?;
    // Events that waited for an endpoint the merchant has set again.
    for id in store::resumable_payments(&db, None, 100).await? {
        if !due.contains(&id) {
            due.push(id);
        }
    }
    for id in &due {
        if let Err(e) = payment_do::call(env, id, &payment_do::Call::Tick).await {
            worker::console_error!("sweep {id}: {e}");
        }
    }
    // The monthly run (and every retry day's): through the billing queue.
    if let Err(e) = subscription_do::billing::start_run(env, &db, clock.now().0).await {
        worker::console_error!("starting the billing run: {e}");
    }
    Ok(due.len())
}

/// The billing queue's consumer: each message on its own (acknowledged
/// when done, retried by the queue when it failed).
#[event(queue)]
async fn queue(batch: worker::MessageBatch<subscription_do::billing::Message>, env: Env, _ctx: Context) -> worker::Result<()> {
    use worker::MessageExt;
    let config = config::Config::from_env(&env)?;
    let db = store::db(&env, config.sandbox).await?;
    // One message after the other: the provider (one sandbox object here)
    // is the bottleneck, and side-by-side charges only time out there.
    for m in batch.messages()? {
        match subscription_do::billing::consume(&env, &db, m.body()).await {
            Ok(()) => m.ack(),
            Err(e) => {
                worker::console_error!("billing message {:?} failed: {e}", m.body());
                m.retry();
            }
        }
    }
    Ok(())
}

#[event(scheduled)]
async fn scheduled(_event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    match config::Config::from_env(&env) {
        Ok(config) => {
            if let Err(e) = sweep(&env, &config).await {
                worker::console_error!("scheduled sweep failed: {e}");
            }
        }
        Err(e) => worker::console_error!("configuration error: {e}"),
    }
}

/// `GET /__sandbox/clock` reads the sandbox clock; `POST` with
/// `{"advance_seconds": n}`, `{"offset_seconds": n}` or `{"now": unix}`
/// moves it and runs whatever became due. Only in builds with the `sandbox-clock` feature and
/// with `SANDBOX = "on"`.
#[cfg(feature = "sandbox-clock")]
async fn sandbox_clock(mut req: Request, env: &Env, config: &config::Config) -> worker::Result<Response> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Move {
        advance_seconds: Option<i64>,
        offset_seconds: Option<i64>,
        /// Business time to set, Unix seconds (tests that need a known date).
        now: Option<i64>,
    }
    let db = store::db(env, true).await?;
    let mut swept = 0;
    if req.method() == Method::Post {
        let Ok(m) = req.json::<Move>().await else {
            return util::json(400, &serde_json::json!({"error": {"code": "invalid_body", "message": "{\"advance_seconds\": n} or {\"offset_seconds\": n}"}}));
        };
        let offset = store::clock_offset(&db).await?;
        let new = match (m.advance_seconds, m.offset_seconds, m.now) {
            (Some(a), None, None) if a >= 0 => offset + a,
            (None, Some(o), None) if o >= offset => o,
            (None, None, Some(t)) => t - util::now().0,
            _ => {
                return util::json(400, &serde_json::json!({"error": {"code": "invalid_move", "message": "give advance_seconds >= 0, a larger offset_seconds, or now (Unix seconds)"}}));
            }
        };
        store::set_clock_offset(&db, new).await?;
        swept = sweep(env, config).await?;
    }
    let clock = clock::Clock::load(env, config).await?;
    let now = clock.now();
    util::json(200, &serde_json::json!({"now": now.0, "now_jst": now.jst().compact(), "offset_seconds": store::clock_offset(&db).await?, "swept": swept}))
}
