//! Every error code the hosted page can be answered with, in one type:
//! the Worker produces them (input checks, providers' refusals, the payment
//! object), the page translates each one (its test walks [`Code::ALL`]),
//! and the Worker's status for a refusal comes from here too. A code that
//! is not listed here cannot be sent to a shopper.

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal => $status:literal,)*) => {
        /// An error code the hosted page knows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, for the page's translation test.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code on the wire (`error.code`, `res_err_code`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }

            pub fn parse(s: &str) -> Option<Code> {
                match s {
                    $($text => Some(Code::$variant),)*
                    _ => None,
                }
            }

            /// The HTTP status the Worker answers it with.
            pub const fn http_status(self) -> u16 {
                match self {
                    $(Code::$variant => $status,)*
                }
            }
        }
    };
}

codes! {
    // The shopper's input.
    InvalidNetcashId = "invalid_netcash_id" => 422,
    InvalidPrepaidNumber = "invalid_prepaid_number" => 422,
    InvalidBuyer = "invalid_buyer" => 422,
    InvalidCardNumber = "invalid_card_number" => 422,
    InvalidExpiry = "invalid_expiry" => 422,
    InvalidCvc = "invalid_cvc" => 422,
    InvalidPaymentOption = "invalid_payment_option" => 422,
    // Providers' refusals.
    InsufficientBalance = "insufficient_balance" => 402,
    IdSuspended = "id_suspended" => 422,
    IdNotFound = "id_not_found" => 422,
    CardNotFound = "card_not_found" => 422,
    CardLocked = "card_locked" => 422,
    CardDeclined = "card_declined" => 402,
    CardExpired = "card_expired" => 402,
    CardNotAccepted = "card_not_accepted" => 422,
    CardAuthenticationRequired = "card_authentication_required" => 422,
    PaymentOptionUnavailable = "payment_option_unavailable" => 422,
    NpDeclined = "np_declined" => 402,
    NpLimitExceeded = "np_limit_exceeded" => 422,
    AuLimitExceeded = "au_limit_exceeded" => 422,
    AuOverdue = "au_overdue" => 422,
    AuRestricted = "au_restricted" => 422,
    AuCancelled = "au_cancelled" => 422,
    AuTimeout = "au_timeout" => 422,
    NetcashWalletCancelled = "netcash_wallet_cancelled" => 422,
    ProviderError = "provider_error" => 422,
    /// The provider could not be reached; nothing was taken.
    ProviderUnavailable = "provider_unavailable" => 502,
    /// The provider's answer was unclear: the payment is being reconciled.
    ProviderUnclear = "provider_unclear" => 202,
    // The payment's state.
    Expired = "expired" => 409,
    AlreadyProcessing = "already_processing" => 409,
    AlreadyFinished = "already_finished" => 409,
    NotFound = "not_found" => 404,
    MethodUnavailable = "method_unavailable" => 409,
    MethodMaintenance = "method_maintenance" => 503,
    MerchantRejected = "merchant_rejected" => 409,
    // The request itself.
    InvalidBody = "invalid_body" => 400,
    UnsupportedMediaType = "unsupported_media_type" => 415,
    RequestTooLarge = "request_too_large" => 413,
    RateLimited = "rate_limited" => 429,
    Internal = "internal" => 500,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_and_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert_eq!(Code::parse(c.as_str()), Some(*c));
            assert!(seen.insert(c.as_str()), "{} twice", c.as_str());
            assert!((200..600).contains(&c.http_status()));
        }
        assert_eq!(Code::parse("no_such_code"), None);
    }

    #[test]
    fn the_card_input_codes_are_page_codes() {
        use crate::card::CardError;
        for e in [
            CardError::Length,
            CardError::Luhn,
            CardError::Character,
            CardError::Brand,
            CardError::Expiry,
            CardError::Expired,
            CardError::Cvc,
            CardError::InvalidOption,
            CardError::OptionUnavailable,
        ] {
            assert!(Code::parse(e.code()).is_some(), "{}", e.code());
        }
        for c in [crate::au::CANCELLED, crate::au::TIMEOUT] {
            assert!(Code::parse(c).is_some(), "{c}");
        }
    }
}
