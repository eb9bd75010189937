//! Method drivers: what each payment method does at each step, on top of
//! its connector. The payment object runs the same flow for every method
//! (validate the shopper's input, mark the attempt, call the provider,
//! record the outcome, notify the merchant, roll back if refused); a driver
//! supplies the method-specific parts. Shopper inputs that are secrets
//! (IDs, card numbers) live only in [`ShopperInput`] for the length of one
//! request and are never stored.

use serde_json::Value;
use shared::card::CardDetails;
use shared::methods::{Method, SalesMode};
use shared::money::Yen;
use shared::netcash::NetcashId;
use shared::np::{Buyer, BuyerForm, FieldError};
use shared::prepaid::PrepaidNumber;
use shared::time::UnixTime;

use crate::config::Config;
use crate::connectors::Outcome;
use shared::codes::Code;
use shared::journal::OpKind;
use crate::connectors::cybersource::{self, Cybersource};
use crate::connectors::au::Au;
use crate::connectors::netcash::{DebitOutcome, Netcash};
use crate::connectors::np::{self, Np};
use crate::connectors::prepaid::{self, Prepaid};

/// What the shopper entered, validated.
pub enum ShopperInput {
    Netcash(NetcashId),
    Prepaid(PrepaidNumber),
    /// Card number, expiry, CVC and payment option (JPO).
    Card(CardDetails),
    /// au: the shopper enters nothing here; they log in at KDDI.
    Au,
    /// NP postpaid's buyer: sent to NP for screening, never stored by us.
    Np(Buyer),
}

/// A refusal of the shopper's input, before any provider is asked.
pub struct InputError {
    pub code: &'static str,
    pub message: &'static str,
    /// Which fields are wrong, for forms with several (NP's buyer form).
    pub fields: Vec<FieldError>,
}

impl ShopperInput {
    /// Validates the JSON the hosted page sent for `method`.
    pub fn parse(method: Method, body: &Value) -> Result<ShopperInput, InputError> {
        let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or("");
        match method {
            Method::Netcash => NetcashId::parse(field("netcash_id"))
                .map(ShopperInput::Netcash)
                .map_err(|_| InputError { code: Code::InvalidNetcashId.as_str(), message: "a NET CASH ID has 16 letters or digits", fields: vec![] }),
            Method::Prepaid => PrepaidNumber::parse(field("card_number"))
                .map(ShopperInput::Prepaid)
                .map_err(|_| InputError { code: Code::InvalidPrepaidNumber.as_str(), message: "a prepaid card number has 16 digits", fields: vec![] }),
            Method::Au => Ok(ShopperInput::Au),
            Method::Np => {
                let form = BuyerForm::from_fields(|name| field(name).to_string());
                form.validate().map(ShopperInput::Np).map_err(|fields| InputError {
                    code: Code::InvalidBuyer.as_str(),
                    message: "check the buyer's details: name, kana (katakana), postal code, address, phone and e-mail",
                    fields,
                })
            }
            Method::Card => {
                Err(InputError { code: "method_unavailable", message: "cards are read by parse_at", fields: vec![] })
            }
        }
    }

    /// Like [`ShopperInput::parse`], with the business time `now` for the
    /// checks that need it (a card's expiry month, in JST).
    pub fn parse_at(method: Method, body: &Value, now: UnixTime) -> Result<ShopperInput, InputError> {
        match method {
            Method::Card => {
                // Numbers are accepted as well as strings for expiry fields.
                let text = |name: &str| match body.get(name) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => String::new(),
                };
                let today = now.jst().date;
                CardDetails::parse(&text("number"), &text("exp_month"), &text("exp_year"), &text("cvc"), body.get("option"), today.year, today.month)
                    .map(ShopperInput::Card)
                    .map_err(|e| InputError { code: e.code(), message: e.message(), fields: vec![] })
            }
            _ => ShopperInput::parse(method, body),
        }
    }

    /// The masked description kept with the payment.
    pub fn instrument(&self) -> String {
        match self {
            ShopperInput::Netcash(id) => format!("NET CASH ****{}", id.last4()),
            ShopperInput::Prepaid(n) => format!("prepaid ****{}", n.last4()),
            ShopperInput::Card(c) => c.instrument(),
            ShopperInput::Au => "au Kantan Kessai".into(),
            ShopperInput::Np(b) => format!("NP postpaid ({})", np::masked_email(&b.email)),
        }
    }
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Sold at once (automatic sales).
    Captured { provider_ref: String },
    /// Authorized; the merchant settles later (specified sales), or the sale
    /// is fixed later (NP: on the shipment report).
    Authorized { provider_ref: String },
    /// Screening is pending; a provider notification decides later.
    Held { provider_ref: String },
    /// The shopper continues on the provider's own page (au); the payment
    /// stays `processing` until the provider's signed result comes back.
    Redirect { provider_ref: String, url: String },
    /// The provider refused; `code` is shown to the shopper and sent back
    /// in `res_err_code`.
    Refused { code: &'static str },
    /// No clear answer; nothing is known to have been taken.
    Unclear,
    /// A recurring registration that charges nothing: the shopper's
    /// consent (and, for NP, details) recorded; no provider call.
    Registered,
}

/// Performs the attempt at the provider. `payment` is the purchase the
/// attempt is for (sales mode, item, dates).
/// What an attempt needs to know of the purchase.
pub struct Purchase<'a> {
    pub sales_mode: SalesMode,
    /// When the checkout was created (NP's order date).
    pub created_at: i64,
    pub item_name: &'a str,
}

pub async fn attempt(config: &Config, input: &ShopperInput, request_id: &str, amount: Yen, payment: &Purchase<'_>) -> AttemptOutcome {
    let sales_mode = payment.sales_mode;
    match input {
        ShopperInput::Netcash(id) => {
            let c = Netcash { endpoint: &config.netcash };
            let mut out = c.debit(request_id, id.as_str(), amount.get()).await;
            if let DebitOutcome::Unknown(why) = &out {
                worker::console_warn!("NET CASH debit {request_id} unclear ({why}); asking its status");
                out = c.status(request_id).await;
            }
            match out {
                DebitOutcome::Approved { transaction_id } => AttemptOutcome::Captured { provider_ref: transaction_id },
                DebitOutcome::Refused(r) => AttemptOutcome::Refused { code: r.code() },
                DebitOutcome::NotFound | DebitOutcome::Unknown(_) => AttemptOutcome::Unclear,
            }
        }
        ShopperInput::Prepaid(n) => match (Prepaid { endpoint: &config.prepaid }).charge(request_id, n.expose(), amount.get()).await {
            prepaid::Outcome::Done { id } => AttemptOutcome::Captured { provider_ref: id },
            prepaid::Outcome::Refused(code) => AttemptOutcome::Refused { code },
            prepaid::Outcome::Unknown(_) => AttemptOutcome::Unclear,
        },
        ShopperInput::Card(card) => {
            let c = Cybersource { endpoint: &config.cybersource };
            let capture = sales_mode == SalesMode::Auto;
            match c.authorize(request_id, card, amount.get(), capture).await {
                cybersource::AuthOutcome::Approved { id } if capture => AttemptOutcome::Captured { provider_ref: id },
                cybersource::AuthOutcome::Approved { id } => AttemptOutcome::Authorized { provider_ref: id },
                cybersource::AuthOutcome::Refused { code, .. } => AttemptOutcome::Refused { code },
                cybersource::AuthOutcome::MustVoid { id, code, why } => {
                    worker::console_warn!("card authorization {request_id} ({id}) must not stand: {why}; voiding it");
                    // An authorization is reversed, a sale voided (as CyberSource defines them).
                    let undo_key = format!("{request_id}-void");
                    let undone = if capture { c.void(&id, &undo_key).await } else { c.reverse_authorization(&id, &undo_key).await };
                    if let cybersource::OpOutcome::Refused(e) | cybersource::OpOutcome::Unknown(e) = undone {
                        worker::console_error!("void of {id} for {request_id} failed: {e}; it expires at the issuer");
                    }
                    AttemptOutcome::Refused { code }
                }
                cybersource::AuthOutcome::Unknown(why) => {
                    worker::console_warn!("card authorization {request_id} unclear: {why}");
                    AttemptOutcome::Unclear
                }
            }
        }
        ShopperInput::Np(buyer) => {
            let order = np::Order {
                shop_transaction_id: request_id,
                order_date: UnixTime(payment.created_at).jst().date,
                amount: amount.get(),
                item_name: payment.item_name,
            };
            match (Np { endpoint: &config.np.endpoint }).register(&order, buyer).await {
                np::Screening::Approved { np_transaction_id } => AttemptOutcome::Authorized { provider_ref: np_transaction_id },
                np::Screening::Pending { np_transaction_id } => AttemptOutcome::Held { provider_ref: np_transaction_id },
                np::Screening::Declined => AttemptOutcome::Refused { code: Code::NpDeclined.as_str() },
                np::Screening::LimitExceeded => AttemptOutcome::Refused { code: Code::NpLimitExceeded.as_str() },
                np::Screening::InvalidBuyer => AttemptOutcome::Refused { code: Code::InvalidBuyer.as_str() },
                np::Screening::Unknown(why) => {
                    worker::console_warn!("NP registration {request_id} unclear ({why})");
                    AttemptOutcome::Unclear
                }
            }
        }
        // The payment object starts au itself (`payment_do::au`): KDDI
        // needs the payment's item, sales mode, deadline and linked OpenID.
        ShopperInput::Au => AttemptOutcome::Unclear,
    }
}

/// The HTTP status of a refused attempt: 402 when the provider or issuer
/// declined the money, 422 when the shopper's input or choice was refused.
pub fn refusal_status(code: &str) -> u16 {
    Code::parse(code).map_or(422, Code::http_status)
}

/// What the shopper is told about a refused attempt.
pub fn refusal_message(code: &str) -> &'static str {
    match code {
        "card_declined" => "the card was declined by its issuer; try another card",
        "card_expired" => "the card issuer says the card has expired",
        "invalid_cvc" => "the card issuer refused the security code",
        "payment_option_unavailable" => "this payment option is not available for this card",
        "card_not_accepted" => "cards of this brand are not accepted",
        "card_authentication_required" => "the card issuer asks for authentication this checkout does not offer; try another card",
        "np_declined" => "NP postpaid did not accept this order; choose another payment method",
        "np_limit_exceeded" => "this order would take the shopper over NP postpaid's limit; pay an open invoice or choose another method",
        _ => "the provider refused the payment",
    }
}

/// Whether the provider can undo a captured payment when the merchant
/// rejects it (PRODUCT §2: NET CASH cannot).
pub fn can_roll_back(method: Method) -> bool {
    !matches!(method, Method::Netcash)
}

/// Settles (captures) an authorization, fully or partly; for NP, reports
/// the shipment that fixes the sale. `key` makes a repeat the same request.
pub async fn settle(config: &Config, method: Method, provider_ref: &str, key: &str, amount: Yen) -> Outcome {
    match method {
        Method::Card => (Cybersource { endpoint: &config.cybersource }).capture_outcome(provider_ref, key, amount.get()).await,
        Method::Au => (Au { endpoint: &config.au }).capture_outcome(provider_ref, key, amount.get()).await,
        // NP fixes the sale for the billed amount: the API sends the whole.
        Method::Np => (Np { endpoint: &config.np.endpoint }).ship_outcome(provider_ref, key).await,
        _ => Outcome::Refused { code: "not_settleable".into() },
    }
}

/// Cancels an authorization (void), or a sale not yet fixed.
pub async fn void(config: &Config, method: Method, provider_ref: &str, key: &str) -> Outcome {
    match method {
        // CyberSource cancels an uncaptured authorization with an authorization reversal.
        Method::Card => (Cybersource { endpoint: &config.cybersource }).reverse_authorization_outcome(provider_ref, key).await,
        Method::Au => (Au { endpoint: &config.au }).cancel_outcome(provider_ref, key).await,
        Method::Np => (Np { endpoint: &config.np.endpoint }).cancel_outcome(provider_ref, key).await,
        _ => Outcome::Refused { code: "not_cancellable".into() },
    }
}

/// Gives money back to the shopper through the provider. `key` makes the
/// call idempotent at the provider.
pub async fn refund(config: &Config, method: Method, provider_ref: &str, key: &str, amount: Yen) -> Outcome {
    match method {
        Method::Prepaid => (Prepaid { endpoint: &config.prepaid }).refund_outcome(provider_ref, key, amount.get()).await,
        Method::Netcash => Outcome::Refused { code: "refund_via_admin_tool".into() },
        Method::Card => (Cybersource { endpoint: &config.cybersource }).refund_outcome(provider_ref, key, amount.get()).await,
        Method::Au => (Au { endpoint: &config.au }).refund_outcome(provider_ref, key, amount.get()).await,
        Method::Np => (Np { endpoint: &config.np.endpoint }).refund_outcome(provider_ref, key, amount.get()).await,
    }
}

/// What the provider says became of a capture, void or refund sent with
/// `key` (its status query, for reconciliation). `NotFound`: it never
/// happened (sending it again with the same key is safe).
pub async fn operation_status(config: &Config, method: Method, kind: OpKind, provider_ref: &str, key: &str) -> Outcome {
    match (method, kind) {
        (Method::Prepaid, OpKind::Refund) => (Prepaid { endpoint: &config.prepaid }).refund_status(key).await,
        (Method::Au, _) => (Au { endpoint: &config.au }).operation_status(provider_ref, key).await,
        (Method::Np, _) => {
            let op = match kind {
                OpKind::Capture => "shipments",
                OpKind::Void => "cancel",
                _ => "refunds",
            };
            (Np { endpoint: &config.np.endpoint }).operation_status(provider_ref, op, key).await
        }
        // CyberSource: search by the transactionId the request carried.
        (Method::Card, _) => (Cybersource { endpoint: &config.cybersource }).search_transaction_id(&cybersource::transaction_id_for(key)).await,
        (Method::Netcash, OpKind::BatchRefund) => (Netcash { endpoint: &config.netcash }).refund_status(key).await,
        _ => Outcome::NotFound,
    }
}

/// Queues a NET CASH refund into the weekly batch; `refund_id` is its key.
pub async fn batch_refund(config: &Config, refund_id: &str, transaction_id: &str, amount: Yen, payout_date: &str) -> Outcome {
    (Netcash { endpoint: &config.netcash }).refund_outcome(refund_id, transaction_id, amount.get(), payout_date).await
}

/// Asks the provider what became of an attempt whose answer was unclear
/// (or never came). `Done`: it took the money (`id` its reference);
/// `NotFound`/`Refused`: nothing was taken; `Unclear`: ask again later.
pub async fn attempt_status(config: &Config, method: Method, request_id: &str, sales_mode: SalesMode, amount: Yen) -> Outcome {
    match method {
        Method::Netcash => (Netcash { endpoint: &config.netcash }).debit_status(request_id).await,
        Method::Prepaid => (Prepaid { endpoint: &config.prepaid }).charge_status(request_id).await,
        // NP: the registration by our shop transaction id (held: ask again).
        Method::Np => (Np { endpoint: &config.np.endpoint }).transaction_outcome(request_id).await,
        // CyberSource cannot be trusted to tell an unanswered authorization
        // apart: it is undone by its transactionId (timeout void of a sale,
        // timeout reversal of an authorization), so nothing stands and the
        // shopper may pay again.
        Method::Card => {
            let c = Cybersource { endpoint: &config.cybersource };
            let tid = cybersource::transaction_id_for(request_id);
            let undone = match sales_mode {
                SalesMode::Auto => c.timeout_void(&tid).await,
                SalesMode::Specified => c.timeout_reversal(&tid, amount.get()).await,
            };
            match undone {
                Outcome::Done { id } => Outcome::Refused { code: format!("undone_at_provider ({id})") },
                other => other,
            }
        }
        // au attempts are ended by their own sweep (`payment_do::au`).
        Method::Au => Outcome::Unclear { why: "au attempts are settled by the au sweep".into() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn np_buyer_input_is_validated_and_only_a_masked_e_mail_is_kept() {
        let good = serde_json::json!({
            "name": "山田 太郎", "kana": "ヤマダ タロウ", "postal_code": "150-0001",
            "address": "東京都渋谷区神宮前1-2-3", "phone": "03-1234-5678", "email": "taro@Example.JP"
        });
        let Ok(input) = ShopperInput::parse(Method::Np, &good) else { panic!("a good buyer is accepted") };
        assert_eq!(input.instrument(), "NP postpaid (t***@example.jp)");

        let bad = serde_json::json!({"name": "山田 太郎", "kana": "やまだ", "postal_code": "150", "address": "東京都", "phone": "0312345678"});
        let Err(e) = ShopperInput::parse(Method::Np, &bad) else { panic!("a bad buyer is refused") };
        assert_eq!(e.code, "invalid_buyer");
        let fields: Vec<_> = e.fields.iter().map(|f| (f.field, f.code)).collect();
        assert_eq!(fields, vec![("kana", "katakana"), ("postal_code", "seven_digits"), ("email", "required")]);
    }
}
