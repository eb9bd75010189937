//! One Durable Object per payment. It owns the payment's state: every
//! change goes through `shared::payment::transition` and is stored before
//! anything is answered, and the object's single-threaded execution
//! serializes concurrent clicks, retries and notifications.

use serde::{Deserialize, Serialize};
use shared::methods::{Device, Method, PayType, SalesMode, Unavailable};
use shared::money::Yen;
use shared::netcash::NetcashId;
use shared::payment::{transition, Amounts, Input, Status};
use shared::time::UnixTime;
use shared::webhooks::WebhookSecret;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use crate::config::Config;
use crate::connectors::netcash::{DebitOutcome, Netcash};
use crate::notify::{self, Attempt, MerchantAnswer};
use crate::store;
use crate::util::{self, json};

/// A method as the hosted page offers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Offer {
    pub method: Method,
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Unavailable>,
}

/// A line of the payment's history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: i64,
    pub status: Status,
    pub note: String,
}

/// Everything a payment is. Card numbers and NET CASH IDs are never part
/// of it; only `instrument`, a masked description, is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub merchant_id: String,
    pub service_id: String,
    pub merchant_name: String,
    pub order_id: String,
    pub cust_code: Option<String>,
    pub item_id: Option<String>,
    pub item_name: String,
    pub amount: Yen,
    pub tax: Yen,
    pub pay_type: PayType,
    pub sales_mode: SalesMode,
    pub device: Device,
    pub offers: Vec<Offer>,
    pub success_url: String,
    pub cancel_url: String,
    pub error_url: String,
    pub pagecon_url: String,
    pub free: [Option<String>; 3],
    pub created_at: i64,
    pub expires_at: i64,
    pub status: Status,
    pub amounts: Amounts,
    pub method: Option<Method>,
    pub attempts: u32,
    pub provider_ref: Option<String>,
    pub instrument: Option<String>,
    pub paid_at: Option<i64>,
    pub last_error: Option<String>,
    pub merchant_answer: Option<MerchantAnswer>,
    pub history: Vec<HistoryEntry>,
    pub deliveries: Vec<Attempt>,
}

impl Payment {
    fn offered(&self, m: Method) -> bool {
        self.offers.iter().any(|o| o.method == m && o.available)
    }

    fn next_url(&self) -> Option<String> {
        self.status.checkout_finished().then(|| format!("/pay/{}/return", self.id))
    }

    fn apply(&mut self, input: Input, note: &str, now: i64) -> Result<(), shared::payment::TransitionError> {
        let (status, amounts) = transition(self.status, self.amounts, input)?;
        self.status = status;
        self.amounts = amounts;
        self.history.push(HistoryEntry { at: now, status, note: note.to_string() });
        Ok(())
    }

    /// The shopper's time is up.
    fn expire_if_due(&mut self, now: i64) -> bool {
        if self.status == Status::Pending && now >= self.expires_at {
            return self.apply(Input::TimedOut, "the page's time limit passed", now).is_ok();
        }
        false
    }

    /// The `payment.result` event.
    fn result_payload(&self, event_id: &str, now: i64) -> String {
        serde_json::json!({
            "id": event_id,
            "type": "payment.result",
            "timestamp": UnixTime(now).rfc3339_utc(),
            "data": {
                "merchant_id": self.merchant_id,
                "service_id": self.service_id,
                "order_id": self.order_id,
                "tracking_id": self.id,
                "method": self.method.map(|m| m.code()),
                "amount": self.amount,
                "tax": self.tax,
                "status": self.status.code(),
                "payment_date": self.paid_at.map(|t| UnixTime(t).jst().compact()),
                "error_code": self.last_error,
                "cust_code": self.cust_code,
                "item_id": self.item_id,
                "free1": self.free[0],
                "free2": self.free[1],
                "free3": self.free[2],
            }
        })
        .to_string()
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
}

fn shopper_error(status: u16, code: &str, message: &str, next: Option<String>) -> worker::Result<Response> {
    json(status, &serde_json::json!({"error": ErrorBody { code, message }, "next": next}))
}

#[durable_object]
pub struct PaymentObject {
    state: State,
    env: Env,
}

const KEY: &str = "payment";

impl PaymentObject {
    async fn load(&self) -> worker::Result<Option<Payment>> {
        self.state.storage().get::<Payment>(KEY).await
    }

    async fn save(&self, p: &Payment, config: &Config) -> worker::Result<()> {
        self.state.storage().put(KEY, p).await?;
        let db = store::db(&self.env, config.sandbox).await?;
        if let Err(e) = store::update_payment_index(&db, &p.id, p.method.map(|m| m.code()), p.status.code(), util::now().0).await {
            // The index is rebuilt from the object; the payment itself is stored.
            worker::console_error!("payment index update failed for {}: {e}", p.id);
        }
        Ok(())
    }

    /// Sends `payment.result` to `pagecon_url` and records the attempt.
    async fn notify_result(&self, p: &mut Payment, config: &Config) -> worker::Result<MerchantAnswer> {
        let db = store::db(&self.env, config.sandbox).await?;
        let merchant = store::find_merchant(&db, &p.merchant_id, &p.service_id)
            .await?
            .ok_or_else(|| worker::Error::RustError("merchant disappeared".into()))?;
        let secret = merchant
            .webhook_secrets
            .first()
            .and_then(|s| WebhookSecret::parse(s).ok())
            .ok_or_else(|| worker::Error::RustError("merchant has no usable webhook secret".into()))?;
        let now = util::now().0;
        let event_id = util::new_id("msg");
        let payload = p.result_payload(&event_id, now);
        let (out, attempt) = notify::post_signed(&p.pagecon_url, &secret, &event_id, &payload, config.pagecon_timeout_ms).await;
        p.deliveries.push(attempt);
        let answer = notify::read_answer(&out);
        p.merchant_answer = Some(answer.clone());
        Ok(answer)
    }

    async fn pay_netcash(&self, mut req: Request, config: &Config) -> worker::Result<Response> {
        #[derive(Deserialize)]
        struct Body {
            netcash_id: String,
        }
        let Some(mut p) = self.load().await? else { return shopper_error(404, "not_found", "no such payment", None) };
        let now = util::now().0;
        if p.expire_if_due(now) {
            self.save(&p, config).await?;
        }
        if p.status.checkout_finished() {
            let code = if p.status == Status::Expired { "expired" } else { "already_finished" };
            return shopper_error(409, code, "this payment is over", p.next_url());
        }
        let Ok(body) = req.json::<Body>().await else {
            return shopper_error(400, "invalid_netcash_id", "body must be {\"netcash_id\": \"...\"}", None);
        };
        let Ok(id) = NetcashId::parse(&body.netcash_id) else {
            return shopper_error(422, "invalid_netcash_id", "a NET CASH ID has 16 letters or digits", None);
        };
        if !p.offered(Method::Netcash) {
            return shopper_error(409, "method_unavailable", "NET CASH is not offered for this payment", None);
        }
        if p.apply(Input::AttemptStarted, "NET CASH debit requested", now).is_err() {
            return shopper_error(409, "already_processing", "a payment attempt is already running", None);
        }
        p.attempts += 1;
        p.method = Some(Method::Netcash);
        p.instrument = Some(format!("NET CASH ****{}", id.last4()));
        p.last_error = None;
        self.save(&p, config).await?;

        let connector = Netcash { endpoint: &config.netcash };
        let request_id = format!("{}-{}", p.id, p.attempts);
        let mut outcome = connector.debit(&request_id, id.as_str(), p.amount.get()).await;
        if let DebitOutcome::Unknown(why) = &outcome {
            worker::console_warn!("NET CASH debit {request_id} unclear ({why}); asking its status");
            outcome = connector.status(&request_id).await;
        }
        let now = util::now().0;
        match outcome {
            DebitOutcome::Approved { transaction_id } => {
                p.apply(Input::Captured { amount: p.amount }, &format!("NET CASH debited ({transaction_id})"), now)
                    .map_err(|e| worker::Error::RustError(e.to_string()))?;
                p.provider_ref = Some(transaction_id);
                p.paid_at = Some(now);
                self.save(&p, config).await?;
                let answer = self.notify_result(&mut p, config).await?;
                let now = util::now().0;
                if answer != MerchantAnswer::Ok {
                    // NET CASH cannot roll a debit back: the money stays
                    // with the merchant, who must refund it.
                    p.last_error = Some("merchant_rejected".into());
                    p.apply(
                        Input::MerchantRejected { rollback: false },
                        &format!("merchant did not accept the result ({answer:?}); NET CASH debits cannot be rolled back, refund required"),
                        now,
                    )
                    .map_err(|e| worker::Error::RustError(e.to_string()))?;
                }
                self.save(&p, config).await?;
                json(200, &serde_json::json!({"status": p.status.code(), "next": p.next_url()}))
            }
            DebitOutcome::Refused(r) => {
                p.last_error = Some(r.code().into());
                p.apply(Input::AttemptRefused, &format!("NET CASH refused: {}", r.code()), now)
                    .map_err(|e| worker::Error::RustError(e.to_string()))?;
                self.save(&p, config).await?;
                let status = if r == crate::connectors::netcash::Refusal::InsufficientBalance { 402 } else { 422 };
                shopper_error(status, r.code(), "NET CASH refused the payment", None)
            }
            DebitOutcome::NotFound | DebitOutcome::Unknown(_) => {
                p.last_error = Some("provider_unavailable".into());
                p.apply(Input::AttemptRefused, "NET CASH gave no clear answer; nothing was debited", now)
                    .map_err(|e| worker::Error::RustError(e.to_string()))?;
                self.save(&p, config).await?;
                shopper_error(502, "provider_unavailable", "NET CASH did not answer; try again", None)
            }
        }
    }

    async fn cancel(&self, config: &Config) -> worker::Result<Response> {
        let Some(mut p) = self.load().await? else { return shopper_error(404, "not_found", "no such payment", None) };
        let now = util::now().0;
        p.expire_if_due(now);
        match p.status {
            Status::Processing => return shopper_error(409, "already_processing", "a payment attempt is running", None),
            Status::Pending => {
                let (input, note) = if p.last_error.is_some() {
                    (Input::ShopperGaveUp, "the shopper went back to the shop after a refusal")
                } else {
                    (Input::ShopperCancelled, "the shopper cancelled")
                };
                p.apply(input, note, now).map_err(|e| worker::Error::RustError(e.to_string()))?;
                self.save(&p, config).await?;
                // Tell the merchant before the shopper arrives there; the
                // answer changes nothing for a payment that did not happen.
                if let Err(e) = self.notify_result(&mut p, config).await {
                    worker::console_error!("result notification for {} failed: {e}", p.id);
                }
                self.save(&p, config).await?;
            }
            _ => {}
        }
        json(200, &serde_json::json!({"status": p.status.code(), "next": p.next_url()}))
    }

    async fn session(&self, config: &Config) -> worker::Result<Response> {
        let Some(mut p) = self.load().await? else { return shopper_error(404, "not_found", "no such payment", None) };
        let now = util::now().0;
        if p.expire_if_due(now) {
            self.save(&p, config).await?;
        }
        json(
            200,
            &serde_json::json!({
                "payment_id": p.id,
                "merchant_name": p.merchant_name,
                "item_name": p.item_name,
                "amount": p.amount,
                "tax": p.tax,
                "status": p.status.code(),
                "methods": p.offers,
                "expires_at": p.expires_at,
                "now": now,
                "last_error": p.last_error.as_ref().map(|c| serde_json::json!({"code": c})),
                "next": p.next_url(),
            }),
        )
    }
}

impl DurableObject for PaymentObject {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let config = Config::from_env(&self.env)?;
        let path = req.path();
        match (req.method(), path.as_str()) {
            (worker::Method::Post, "/init") => {
                let p: Payment = req.json().await?;
                if self.load().await?.is_some() {
                    return json(409, &serde_json::json!({"error": {"code": "exists"}}));
                }
                self.state.storage().put(KEY, &p).await?;
                self.state.storage().set_alarm(std::time::Duration::from_secs((p.expires_at - util::now().0).max(1) as u64 + 1)).await?;
                json(201, &serde_json::json!({"id": p.id}))
            }
            (worker::Method::Get, "/record") => match self.load().await? {
                Some(mut p) => {
                    if p.expire_if_due(util::now().0) {
                        self.save(&p, &config).await?;
                    }
                    json(200, &p)
                }
                None => shopper_error(404, "not_found", "no such payment", None),
            },
            (worker::Method::Get, "/session") => self.session(&config).await,
            (worker::Method::Post, "/netcash") => self.pay_netcash(req, &config).await,
            (worker::Method::Post, "/cancel") => self.cancel(&config).await,
            _ => shopper_error(404, "not_found", "no such operation", None),
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let config = Config::from_env(&self.env)?;
        if let Some(mut p) = self.load().await? {
            if p.expire_if_due(util::now().0) {
                self.save(&p, &config).await?;
            }
        }
        Response::ok("")
    }
}

/// The stub of a payment's object.
pub fn stub(env: &Env, payment_id: &str) -> worker::Result<worker::Stub> {
    env.durable_object("PAYMENTS")?.id_from_name(payment_id)?.get_stub()
}

/// Calls an operation of a payment's object.
pub async fn call(env: &Env, payment_id: &str, method: worker::Method, op: &str, body: Option<String>) -> worker::Result<Response> {
    let mut init = worker::RequestInit::new();
    init.with_method(method);
    if let Some(b) = body {
        let h = worker::Headers::new();
        h.set("content-type", "application/json")?;
        init.with_headers(h).with_body(Some(b.into()));
    }
    let req = Request::new_with_init(&format!("https://payment{op}"), &init)?;
    stub(env, payment_id)?.fetch_with_request(req).await
}
