//! Provider sandboxes: faithful simulators of each provider's side of its
//! protocol, reached over HTTP at the base URL the connector is configured
//! with. They verify signatures, keep balances and enforce the provider's
//! rules, and implement the test values of PRODUCT §9. Served only when
//! `SANDBOX = "on"`, under `/sandbox/<provider>/…`; each provider's state
//! lives in its own instance of [`SandboxObject`].

pub mod cybersource;
pub mod faults;
pub mod au;
pub mod netcash;
pub mod np;
pub mod prepaid;

use worker::{durable_object, DurableObject, Env, Request, Response, State};

use crate::config::Config;

/// The providers that have a sandbox.
pub const PROVIDERS: &[&str] = &["netcash", "prepaid", "cybersource", "au", "np"];

/// One instance per provider holds that provider's simulated state.
#[durable_object]
pub struct SandboxObject {
    state: State,
    env: Env,
}

impl DurableObject for SandboxObject {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let config = Config::from_env(&self.env)?;
        let url = req.url()?;
        let full = url.path().to_string();
        let body = req.text().await.unwrap_or_default();
        let (provider, path) = full.trim_start_matches('/').split_once('/').map(|(p, r)| (p.to_string(), format!("/{r}"))).unwrap_or_default();
        let storage = self.state.storage();
        let now = crate::clock::Clock::load(&self.env, &config).await?.now();
        match provider.as_str() {
            "netcash" => netcash::handle(&storage, &config, &req, &path, url.query().unwrap_or(""), &body, now).await,
            "prepaid" => prepaid::handle(&storage, &config, &req, &path, &body).await,
            "cybersource" => cybersource::handle(&storage, &config, &req, &path, &body).await,
            // KDDI lives on the sandbox clock (business time), like the payment objects.
            "au" => au::handle(&storage, &config, now.0, &req, &path, url.query().unwrap_or(""), &body).await,
            "np" => np::handle(&storage, &config, &req, &path, &body).await,
            _ => Response::error("no such sandbox", 404),
        }
    }

    /// Work a sandbox scheduled for later (NP: held screenings decided,
    /// notifications sent again). Each provider's instance runs only the
    /// jobs it stored.
    async fn alarm(&self) -> worker::Result<Response> {
        let config = Config::from_env(&self.env)?;
        np::alarm(&self.state.storage(), &config).await?;
        Response::ok("")
    }
}

/// Forwards `/sandbox/<provider>/<rest>` to that provider's instance.
pub async fn route(req: Request, env: &Env, provider: &str, rest: &str) -> worker::Result<Response> {
    if !PROVIDERS.contains(&provider) {
        return Response::error("no such sandbox", 404);
    }
    let stub = env.durable_object("SANDBOXES")?.id_from_name(provider)?.get_stub()?;
    let query = req.url()?.query().map(|q| format!("?{q}")).unwrap_or_default();
    let mut init = worker::RequestInit::new();
    init.with_method(req.method()).with_headers(req.headers().clone());
    let mut req = req;
    let body = req.text().await.unwrap_or_default();
    if !body.is_empty() {
        init.with_body(Some(body.into()));
    }
    let inner = Request::new_with_init(&format!("https://sandbox/{provider}{rest}{query}"), &init)?;
    stub.fetch_with_request(inner).await
}
