//! The one way to talk to a payment's object: a typed call, serde-tagged,
//! sent as JSON to the object. Every caller (the page's routes, the API, the
//! administration tool, provider notifications, the sweep) uses [`call`].

use serde::{Deserialize, Serialize};
use shared::methods::Method;
use shared::money::Yen;
use shared::payment::Input;
use worker::{Env, Request, Response};

use super::ops::OperateBody;

/// An operation of the payment object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum Call {
    /// The whole record (API, admin).
    Record,
    /// What the hosted page shows.
    Session,
    /// The shopper pays with a method; `body` is what the page sent.
    Pay { method: Method, body: serde_json::Value },
    /// The shopper leaves after a refusal, or cancels.
    Cancel,
    /// KDDI's signed result (form pairs).
    AuReturn { pairs: Vec<(String, String)> },
    /// NET CASH Wallet: open a wallet session.
    WalletStart,
    /// NET CASH Wallet's signed result (form pairs).
    WalletReturn { pairs: Vec<(String, String)> },
    /// Settle, cancel or refund (journaled).
    Operate(OperateBody),
    /// A NET CASH refund into the weekly batch (administration tool).
    NetcashRefund { amount: Option<Yen>, key: Option<String> },
    /// NET CASH paid a batch refund.
    NetcashRefundPaid { refund_id: String, paid_on: String },
    /// A provider's verified news about the payment.
    ProviderEvent {
        input: Input,
        note: String,
        #[serde(default)]
        error_code: Option<String>,
    },
    /// Whatever is due: sweeps, reconciliation, deliveries.
    Tick,
    /// Send one event again now.
    Resend { event_id: String },
    /// Send again every undelivered event created in `[from, to)`.
    ResendFailed { from: i64, to: i64 },
    /// A subscription's charge: try `try_no` (NP: with the buyer, opened
    /// from the subscription for this call only).
    Charge {
        try_no: u32,
        next_try_at: Option<i64>,
        #[serde(default)]
        buyer: Option<shared::np::Buyer>,
    },
    /// A subscription's own event, into its registration's outbox.
    SubscriptionEvent { event_id: String, kind: String, data: serde_json::Value },
}

/// The stub of a payment's object.
pub fn stub(env: &Env, payment_id: &str) -> worker::Result<worker::Stub> {
    env.durable_object("PAYMENTS")?.id_from_name(payment_id)?.get_stub()
}

/// Calls an operation of a payment's object.
pub async fn call(env: &Env, payment_id: &str, c: &Call) -> worker::Result<Response> {
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post);
    let h = worker::Headers::new();
    h.set("x-payment-id", payment_id)?;
    h.set("content-type", "application/json")?;
    init.with_body(Some(serde_json::to_string(c)?.into()));
    init.with_headers(h);
    let req = Request::new_with_init("https://payment/call", &init)?;
    stub(env, payment_id)?.fetch_with_request(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_tagged_json() {
        let c = Call::Operate(OperateBody { kind: shared::journal::OpKind::Refund, amount: Some(Yen::new(300)), key: Some("k".into()) });
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["call"], "operate");
        assert_eq!(v["kind"], "refund");
        let back: Call = serde_json::from_value(v).unwrap();
        assert!(matches!(back, Call::Operate(OperateBody { amount: Some(a), .. }) if a == Yen::new(300)));
        assert_eq!(serde_json::to_value(Call::Tick).unwrap(), serde_json::json!({"call": "tick"}));
    }
}
