//! NET CASH Wallet in the payment object: the shopper logs in at NET
//! CASH's wallet page, picks one of the IDs registered there, and comes
//! back with a signed result. The attempt is `processing` meanwhile; only a
//! verified result for the running attempt changes the payment.

use shared::codes::Code;
use shared::journal::{OpKind, Origin};
use shared::methods::Method;
use shared::payment::{Input, Status};
use shared::signing::verify_hex_mac;
use worker::Response;

use super::{refused, shopper_error, Ctx, Payment, PaymentObject};
use crate::connectors::netcash::{DebitOutcome, Netcash, WALLET_RESULT_FIELDS};
use crate::util::{self, json};

/// How old a returned result may be (real seconds).
const RESULT_WINDOW_SECONDS: i64 = 600;

fn wallet_error(code: &str) -> &'static str {
    match code {
        "E_INSUFFICIENT_BALANCE" => "insufficient_balance",
        "E_ID_SUSPENDED" => "id_suspended",
        "E_INVALID_ID" | "E_ID_NOT_FOUND" => "id_not_found",
        _ => "provider_error",
    }
}

/// How long after the page's time limit a wallet attempt nobody came back
/// from is still waited for, before NET CASH is asked about it.
const WALLET_GRACE_SECONDS: i64 = 600;

impl PaymentObject {
    /// `POST /netcash-wallet`: starts an attempt and answers the wallet's
    /// login URL.
    pub(super) async fn wallet_start(&self, ctx: &Ctx) -> worker::Result<Response> {
        let started = self
            .update(ctx, |p, now| {
                if p.status.checkout_finished() {
                    return Err(refused(409, Code::AlreadyFinished.as_str(), "this payment is over"));
                }
                if !p.offers.iter().any(|o| o.method == Method::Netcash && o.available) {
                    return Err(refused(409, Code::MethodUnavailable.as_str(), "NET CASH is not offered for this payment"));
                }
                p.apply(Input::AttemptStarted, "NET CASH Wallet attempt started", now)
                    .map_err(|_| refused(409, Code::AlreadyProcessing.as_str(), "a payment attempt is already running"))?;
                p.attempts += 1;
                p.method = Some(Method::Netcash);
                p.instrument = Some("NET CASH Wallet".into());
                p.last_error = None;
                let request_id = format!("{}-{}", p.id, p.attempts);
                // Journaled with a deadline: a shopper who never comes back
                // from the wallet does not leave the payment processing
                // forever; past it, NET CASH is asked what became of it.
                super::ops::begin(p, OpKind::Attempt, Origin::Shopper, p.amount, request_id.clone(), now)?;
                if let Some(o) = p.journal.ops.last_mut() {
                    o.next_check_at = Some(p.expires_at.max(now) + WALLET_GRACE_SECONDS);
                }
                Ok(request_id)
            })
            .await?;
        let (request_id, p) = match started {
            Ok(v) => v,
            Err(r) => return shopper_error(r.status, r.code, &r.message, None),
        };
        let return_url = format!("{}/pay/{}/netcash-wallet/return", ctx.config.public_base_url, p.id);
        match (Netcash { endpoint: &ctx.config.netcash }).start_wallet(&request_id, p.amount.get(), &return_url).await {
            Ok((session, url)) => {
                self.update(ctx, |p, _| {
                    p.provider_ref = Some(session);
                    Ok(())
                })
                .await?
                .ok();
                json(200, &serde_json::json!({"status": "redirect", "redirect_url": url, "next": null}))
            }
            Err(e) => {
                worker::console_warn!("NET CASH Wallet start {request_id} failed: {e}");
                self.update(ctx, |p, now| {
                    p.last_error = Some(Code::ProviderUnavailable.as_str().into());
                    p.apply(Input::AttemptRefused, "NET CASH Wallet could not be opened", now).map_err(|e| refused(500, "internal", e.to_string()))
                })
                .await?
                .ok();
                shopper_error(502, Code::ProviderUnavailable.as_str(), "NET CASH did not answer; try again", None)
            }
        }
    }

    /// `POST /netcash-wallet/return` with `{"pairs": […]}`: the signed
    /// result the shopper brought back. Answers `{"location"}` or an error.
    pub(super) async fn wallet_return(&self, ctx: &Ctx, pairs: Vec<(String, String)>) -> worker::Result<Response> {
        struct Body {
            pairs: Vec<(String, String)>,
        }
        let body = Body { pairs };
        let get = |n: &str| body.pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()).unwrap_or("");
        let Some(p) = self.load().await? else { return shopper_error(404, "not_found", "no such payment", None) };
        let current = format!("{}-{}", p.id, p.attempts);
        let canonical = shared::signing::canonical_string(WALLET_RESULT_FIELDS.iter().map(|f| (*f, get(f))));
        let verified = verify_hex_mac(ctx.config.netcash.secret.as_bytes(), canonical.as_bytes(), get("signature"));
        let fresh = get("timestamp").parse::<i64>().is_ok_and(|t| util::now().0.abs_diff(t) <= RESULT_WINDOW_SECONDS as u64);
        if p.status != Status::Processing || get("request_id") != current || p.instrument.as_deref() != Some("NET CASH Wallet") {
            return shopper_error(409, "wallet_return_not_current", "this result is not for the running attempt; nothing was changed", None);
        }
        let outcome = if verified && fresh {
            match get("result") {
                "OK" => DebitOutcome::Approved { transaction_id: get("transaction_id").to_string() },
                "CANCEL" => DebitOutcome::NotFound,
                _ => DebitOutcome::Unknown(get("error_code").to_string()),
            }
        } else {
            // Not verifiable: NET CASH's own record of the request decides.
            match (Netcash { endpoint: &ctx.config.netcash }).status(&current).await {
                DebitOutcome::Approved { transaction_id } => DebitOutcome::Approved { transaction_id },
                _ => return shopper_error(400, "wallet_return_invalid", "the result could not be verified; nothing was changed", None),
            }
        };
        let last4 = get("id_last4").to_string();
        let (_, p) = self
            .update(ctx, |p, now| {
                match &outcome {
                    DebitOutcome::Approved { transaction_id } => {
                        p.provider_ref = Some(transaction_id.clone());
                        p.paid_at = Some(now);
                        if !last4.is_empty() {
                            p.instrument = Some(format!("NET CASH Wallet ****{last4}"));
                        }
                        p.apply(Input::Captured { amount: p.amount }, &format!("NET CASH Wallet debited ({transaction_id})"), now)
                    }
                    DebitOutcome::NotFound => {
                        p.last_error = Some("netcash_wallet_cancelled".into());
                        p.apply(Input::AttemptRefused, "the shopper cancelled at NET CASH Wallet", now)
                    }
                    DebitOutcome::Refused(_) | DebitOutcome::Unknown(_) => {
                        let code = match &outcome {
                            DebitOutcome::Unknown(c) => wallet_error(c),
                            _ => "provider_error",
                        };
                        p.last_error = Some(code.into());
                        p.apply(Input::AttemptRefused, &format!("NET CASH Wallet refused: {code}"), now)
                    }
                }
                .map_err(|e| refused(409, "wallet_return_not_current", e.to_string()))
            })
            .await?
            .map_err(|r| worker::Error::RustError(r.message))?;
        let p: Payment = match &outcome {
            DebitOutcome::Approved { transaction_id } => self.after_success(ctx, Method::Netcash, transaction_id, p).await?,
            _ => p,
        };
        let location = if p.status.checkout_finished() { format!("/pay/{}/return", p.id) } else { format!("/pay/{}", p.id) };
        json(200, &serde_json::json!({"location": location}))
    }
}
