//! Kessai Link's edge backend. Routes:
//!
//! * `POST /link/purchase` — the signed purchase request (link type);
//! * `/pay/{id}…` — the hosted payment page and its JSON endpoints;
//! * `/sandbox/<provider>/…` — provider sandboxes (sandbox mode only);
//! * `/demo…` — the demo shop of the sandbox merchant (sandbox mode only);
//! * `/health` — liveness, also the trivial route of the benchmark.
//!
//! Static files (`static/`) are served by the assets binding before this
//! code runs.

mod checkout;
mod config;
mod connectors;
mod demo;
mod html;
mod link;
mod notify;
mod payment_do;
mod sandbox;
mod store;
mod util;

pub use payment_do::PaymentObject;
pub use sandbox::netcash::NetcashSandbox;

use worker::{event, Context, Env, Method, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let config = match config::Config::from_env(&env) {
        Ok(c) => c,
        Err(e) => {
            worker::console_error!("configuration error: {e}");
            return html::error_page(500, "internal", "システムエラーが発生しました。", "An internal error occurred.");
        }
    };
    let path = req.path();
    let result = route(req, &env, &config, &path).await;
    match result {
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
    }
}

async fn route(req: Request, env: &Env, config: &config::Config, path: &str) -> worker::Result<Response> {
    if path == "/health" {
        return Response::ok("ok");
    }
    if path == "/link/purchase" {
        return match req.method() {
            Method::Post => link::purchase(req, env, config).await,
            _ => html::error_page(405, "method_not_allowed", "購入リクエストは POST で送信してください。", "Send the purchase request with POST."),
        };
    }
    if let Some(rest) = path.strip_prefix("/pay/") {
        let (id, op) = rest.split_once('/').unwrap_or((rest, ""));
        return checkout::route(req, env, config, id, op).await;
    }
    if config.sandbox {
        if path == "/" {
            let mut r = Response::empty()?.with_status(302);
            r.headers_mut().set("location", "/demo")?;
            return Ok(r);
        }
        if let Some(rest) = path.strip_prefix("/sandbox/netcash") {
            return sandbox::netcash::route(req, env, rest).await;
        }
        if let Some(rest) = path.strip_prefix("/demo") {
            return demo::route(req, config, rest).await;
        }
    }
    html::error_page(404, "not_found", "ページが見つかりません。", "Page not found.")
}
