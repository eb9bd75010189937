//! The one way to talk to a subscription's object: a typed call, serde
//! tagged (`SubCall`), and what a registration hands over
//! (`NewSubscription`). The payment object (a registration) and the
//! billing run use only this module.

use serde::{Deserialize, Serialize};
use shared::methods::Method;
use shared::money::Yen;
use shared::recurring::{Kind, Options};
use worker::{Env, Request, Response};

use crate::config::Config;

/// What a registration hands over.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewSubscription {
    pub id: String,
    pub merchant_id: String,
    pub service_id: String,
    pub merchant_name: String,
    pub cust_code: Option<String>,
    pub order_id: String,
    pub kind: Kind,
    pub method: Method,
    pub item_name: String,
    pub item_id: Option<String>,
    /// The monthly amount (simple), the plan's amount (fixed term: each
    /// purchase names its own).
    pub amount: Yen,
    pub tax: Yen,
    pub registration_payment_id: String,
    pub registered_at: i64,
    /// The registration charged the first month.
    pub first_month_charged: bool,
    /// au: the continuation (KDDI's registration transaction).
    pub au_continuation: Option<String>,
    /// NP: the buyer, sealed (AES-GCM, `seal`); removed when it ends.
    pub sealed_buyer: Option<String>,
    /// The merchant's options at registration.
    pub options: Options,
}

/// Calls of the subscription object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum SubCall {
    Register(NewSubscription),
    Record,
    /// Whatever is due: the monthly run's try, a fixed term's expiry,
    /// owed events (queue consumer, sweep).
    Bill,
    /// Fixed term: the merchant's purchase.
    Purchase { amount: Yen, key: String, item_name: Option<String> },
    Cancel { by: String },
}

pub fn stub(env: &Env, id: &str) -> worker::Result<worker::Stub> {
    env.durable_object("SUBSCRIPTIONS")?.id_from_name(id)?.get_stub()
}

pub async fn call(env: &Env, id: &str, c: &SubCall) -> worker::Result<Response> {
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post);
    let h = worker::Headers::new();
    h.set("content-type", "application/json")?;
    init.with_body(Some(serde_json::to_string(c)?.into()));
    init.with_headers(h);
    stub(env, id)?.fetch_with_request(Request::new_with_init("https://subscription/call", &init)?).await
}

/// The shopper's management page of a subscription.
pub fn page_url(config: &Config, id: &str) -> String {
    format!("{}/subscriptions/{}", config.public_base_url, crate::seal::page_token(&config.subscription_secret, id))
}

