//! The checkout's state: plain data, the actions that change it and the
//! pure transition ([`Reducible`]). Side effects (requests, timers,
//! navigation) live in the components and only report back via actions.

use std::rc::Rc;

use shared::netcash::{format_netcash_input, NetcashId, NetcashIdError};
use yew::Reducible;

use crate::i18n::Lang;
#[cfg(test)]
use crate::model::FromJson;
use crate::model::{ApiError, Method, PayOk, Session, Status};

/// Why the NET CASH ID field is not valid (shown inline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldError {
    Empty,
    Incomplete,
    BadCharacter,
}

/// How a payment ended, as far as this page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinalKind {
    Paid,
    /// The payment failed; with the error code when it came from our attempt.
    Failed(Option<String>),
    Cancelled,
    Expired,
    RefundRequired,
    /// The order waits for a screening result (NP postpay).
    Held,
    /// A status this page does not know: final.
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Final {
    pub kind: FinalKind,
    /// Where the shopper goes back to (same-origin path), if known.
    pub next: Option<String>,
    /// Go there by itself after a moment (the payment ended on this visit).
    pub auto_return: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The shopper can pay.
    Open,
    /// The provider is working on it; the page polls the session.
    Processing,
    Final(Final),
}

/// What is running in the background.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Busy {
    Idle,
    Paying,
    Cancelling,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub lang: Lang,
    pub phase: Phase,
    /// The chosen method (one of the available ones).
    pub selected: Option<Method>,
    /// The NET CASH ID as shown in the field (`ABCD 1234`).
    pub netcash: String,
    pub field_error: Option<FieldError>,
    pub busy: Busy,
    /// Error code shown in the `#error` banner.
    pub error: Option<String>,
    /// An attempt has failed: the back button says "return", not "cancel".
    pub failed: bool,
    /// Seconds the page had left when the session was read (server clock).
    pub deadline: i64,
    /// Seconds since then (client monotonic clock).
    pub elapsed: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    SetLang(Lang),
    SelectMethod(Method),
    /// The field's raw content (the shopper typed or pasted).
    Input(String),
    Blur,
    /// Pay was pressed: validate; if valid, the request starts.
    Submit,
    PayDone(Result<PayOk, ApiError>),
    CancelStart,
    CancelFailed(ApiError),
    /// Whole seconds since the session was read.
    Tick(i64),
    /// The session, read again while processing.
    Refreshed(Session),
}

/// Full-width letters and digits (what a Japanese IME types) become ASCII,
/// so `ＡＢＣＤ１２３４` is not silently dropped by the formatter.
pub fn normalize_width(input: &str) -> String {
    input
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        })
        .collect()
}

/// Formats raw field content and maps the caret (a UTF-16 offset, as the
/// DOM gives it) to the same place in the formatted text: after the same
/// number of letters and digits.
pub fn format_with_caret(raw: &str, caret: Option<u32>) -> (String, Option<u32>) {
    let normalized = normalize_width(raw);
    let formatted = format_netcash_input(&normalized);
    let caret = caret.map(|caret| {
        let mut pos = 0u32;
        let mut count = 0u32;
        for c in normalized.chars() {
            if pos >= caret {
                break;
            }
            pos += c.len_utf16() as u32;
            if c.is_ascii_alphanumeric() {
                count += 1;
            }
        }
        let count = count.min(shared::netcash::NETCASH_ID_LEN as u32);
        if count == 0 {
            0
        } else {
            count + (count - 1) / 4
        }
    });
    (formatted, caret)
}

/// Validates the field as it will be sent.
pub fn validate_netcash(field: &str) -> Result<NetcashId, FieldError> {
    if field.trim().is_empty() {
        return Err(FieldError::Empty);
    }
    NetcashId::parse(&normalize_width(field)).map_err(|e| match e {
        NetcashIdError::WrongLength => FieldError::Incomplete,
        NetcashIdError::BadCharacter => FieldError::BadCharacter,
    })
}

fn final_of(status: &Status, next: Option<String>, auto_return: bool) -> Option<Phase> {
    let kind = match status {
        Status::Pending | Status::Processing => return None,
        Status::Paid | Status::Authorized => FinalKind::Paid,
        Status::Failed => FinalKind::Failed(None),
        Status::Cancelled => FinalKind::Cancelled,
        Status::Expired => FinalKind::Expired,
        Status::RefundRequired => FinalKind::RefundRequired,
        Status::Held => FinalKind::Held,
        Status::RejectedByMerchant => FinalKind::Failed(Some("merchant_rejected".into())),
        Status::Unknown(_) => FinalKind::Closed,
    };
    Some(Phase::Final(Final {
        kind,
        next,
        auto_return,
    }))
}

impl State {
    /// The state a freshly loaded session starts in.
    pub fn new(session: &Session, lang: Lang) -> State {
        let deadline = session.seconds_left();
        let phase = match (
            &session.status,
            final_of(&session.status, session.next.clone(), false),
        ) {
            (_, Some(fin)) => fin,
            (Status::Processing, None) => Phase::Processing,
            _ if deadline <= 0 => Phase::Final(Final {
                kind: FinalKind::Expired,
                next: session.next.clone(),
                auto_return: false,
            }),
            _ => Phase::Open,
        };
        State {
            lang,
            phase,
            selected: session
                .methods
                .iter()
                .find(|m| m.available)
                .map(|m| m.method.clone()),
            netcash: String::new(),
            field_error: None,
            busy: Busy::Idle,
            error: session.last_error.as_ref().map(|e| e.code.clone()),
            failed: session.last_error.is_some(),
            deadline,
            elapsed: 0,
        }
    }

    pub fn seconds_left(&self) -> i64 {
        (self.deadline - self.elapsed).max(0)
    }

    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// The ID to send if Pay is pressed now, or `None` when nothing may be
    /// sent (invalid ID, not open, another request running, other method).
    pub fn payable_id(&self) -> Option<NetcashId> {
        if !self.is_open() || self.busy != Busy::Idle || self.selected != Some(Method::Netcash) {
            return None;
        }
        validate_netcash(&self.netcash).ok()
    }

    /// Where to go by itself once the payment ended on this visit.
    pub fn auto_return(&self) -> Option<String> {
        match &self.phase {
            Phase::Final(Final {
                next: Some(next),
                auto_return: true,
                ..
            }) => Some(next.clone()),
            _ => None,
        }
    }

    fn apply(mut self, action: Action) -> State {
        match action {
            Action::SetLang(lang) => self.lang = lang,
            Action::SelectMethod(method) => {
                if self.busy == Busy::Idle && self.is_open() {
                    self.selected = Some(method);
                }
            }
            Action::Input(raw) => {
                if self.busy != Busy::Paying {
                    self.netcash = format_netcash_input(&normalize_width(&raw));
                    // Once an error is shown, it goes away as soon as the ID is right.
                    if self.field_error.is_some() {
                        self.field_error = validate_netcash(&self.netcash).err();
                    }
                }
            }
            Action::Blur => {
                if !self.netcash.is_empty() {
                    self.field_error = validate_netcash(&self.netcash).err();
                }
            }
            Action::Submit => {
                if self.is_open() && self.busy == Busy::Idle {
                    match validate_netcash(&self.netcash) {
                        Err(e) => self.field_error = Some(e),
                        Ok(_) => {
                            self.field_error = None;
                            self.error = None;
                            self.busy = Busy::Paying;
                        }
                    }
                }
            }
            Action::PayDone(result) => {
                self.busy = Busy::Idle;
                match result {
                    Ok(PayOk { status, next }) => match final_of(&status, next, true) {
                        Some(fin) => self.phase = fin,
                        None => self.phase = Phase::Processing,
                    },
                    Err(e) => {
                        self.failed = true;
                        match e.code.as_str() {
                            _ if e.next.is_some() => {
                                self.phase = Phase::Final(Final {
                                    kind: FinalKind::Failed(Some(e.code)),
                                    next: e.next,
                                    auto_return: true,
                                })
                            }
                            // The session knows how it ended: read it again.
                            "already_processing" | "already_finished" => {
                                self.phase = Phase::Processing
                            }
                            "expired" => {
                                self.phase = Phase::Final(Final {
                                    kind: FinalKind::Expired,
                                    next: None,
                                    auto_return: false,
                                })
                            }
                            _ => self.error = Some(e.code),
                        }
                    }
                }
            }
            Action::CancelStart => {
                if self.busy == Busy::Idle {
                    self.busy = Busy::Cancelling;
                }
            }
            Action::CancelFailed(e) => {
                self.busy = Busy::Idle;
                self.error = Some(e.code);
            }
            Action::Tick(elapsed) if self.is_open() => {
                self.elapsed = elapsed.max(self.elapsed);
                // A request already sent is left to the server to decide.
                if self.busy != Busy::Paying && self.seconds_left() == 0 {
                    self.phase = Phase::Final(Final {
                        kind: FinalKind::Expired,
                        next: None,
                        auto_return: false,
                    });
                    self.busy = Busy::Idle;
                }
            }
            Action::Tick(_) => {}
            Action::Refreshed(session) => {
                if self.phase == Phase::Processing {
                    match (
                        final_of(&session.status, session.next.clone(), true),
                        &session.status,
                    ) {
                        (Some(fin), _) => self.phase = fin,
                        (None, Status::Pending) => {
                            self.phase = Phase::Open;
                            if let Some(e) = session.last_error {
                                self.error = Some(e.code);
                                self.failed = true;
                            }
                        }
                        (None, _) => {}
                    }
                }
            }
        }
        self
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let next = (*self).clone().apply(action);
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // Also run them in the browser under `cargo test --target wasm32-unknown-unknown`.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn session(status: &str, extra: &str) -> Session {
        Session::from_json(&format!(
            r#"{{"payment_id":"pay_x","merchant_name":"Shop","item_name":"Tea","amount":1100,"tax":100,
            "status":"{status}","methods":[{{"method":"au","available":false,"reason":"maintenance"}},{{"method":"netcash","available":true}},{{"method":"card","available":true}}],
            "expires_at":1000600,"now":1000000{extra}}}"#
        ))
        .unwrap()
    }

    fn open() -> State {
        State::new(&session("pending", ""), Lang::Ja)
    }

    fn run(state: State, actions: impl IntoIterator<Item = Action>) -> State {
        actions
            .into_iter()
            .fold(Rc::new(state), |s, a| s.reduce(a))
            .as_ref()
            .clone()
    }

    fn err(code: &str, next: Option<&str>) -> ApiError {
        ApiError {
            code: code.into(),
            next: next.map(Into::into),
        }
    }

    const VALID: &str = "abcd1234efgh5678";

    #[test]
    fn a_pending_session_opens_with_the_first_available_method() {
        let s = open();
        assert_eq!(s.phase, Phase::Open);
        assert_eq!(s.selected, Some(Method::Netcash));
        assert_eq!(s.seconds_left(), 600);
        assert_eq!(s.error, None);
        assert!(!s.failed);
    }

    #[test]
    fn a_final_session_shows_its_end_without_leaving_by_itself() {
        let s = State::new(&session("paid", r#","next":"/pay/pay_x/return""#), Lang::Ja);
        assert_eq!(
            s.phase,
            Phase::Final(Final {
                kind: FinalKind::Paid,
                next: Some("/pay/pay_x/return".into()),
                auto_return: false
            })
        );
        assert_eq!(s.auto_return(), None);
        for (status, kind) in [
            ("authorized", FinalKind::Paid),
            ("failed", FinalKind::Failed(None)),
            ("cancelled", FinalKind::Cancelled),
            ("expired", FinalKind::Expired),
            ("refund_required", FinalKind::RefundRequired),
            ("held", FinalKind::Held),
            (
                "rejected_by_merchant",
                FinalKind::Failed(Some("merchant_rejected".into())),
            ),
            ("refunded", FinalKind::Closed),
            ("something_new", FinalKind::Closed),
        ] {
            match State::new(&session(status, ""), Lang::En).phase {
                Phase::Final(f) => assert_eq!(f.kind, kind, "{status}"),
                other => panic!("{status}: {other:?}"),
            }
        }
        assert_eq!(
            State::new(&session("processing", ""), Lang::Ja).phase,
            Phase::Processing
        );
    }

    #[test]
    fn a_pending_session_past_its_deadline_is_expired() {
        let s = State::new(&session("pending", "").tap_expired(), Lang::Ja);
        assert!(matches!(
            s.phase,
            Phase::Final(Final {
                kind: FinalKind::Expired,
                ..
            })
        ));
    }

    trait TapExpired {
        fn tap_expired(self) -> Self;
    }
    impl TapExpired for Session {
        fn tap_expired(mut self) -> Self {
            self.expires_at = self.now;
            self
        }
    }

    #[test]
    fn last_error_is_shown_and_the_back_button_says_return() {
        let s = State::new(
            &session(
                "pending",
                r#","last_error":{"code":"insufficient_balance"}"#,
            ),
            Lang::Ja,
        );
        assert_eq!(s.phase, Phase::Open);
        assert_eq!(s.error.as_deref(), Some("insufficient_balance"));
        assert!(s.failed);
    }

    #[test]
    fn input_is_formatted_as_typed() {
        let s = run(open(), [Action::Input("abcd1234".into())]);
        assert_eq!(s.netcash, "ABCD 1234");
        let s = run(
            open(),
            [Action::Input("ａｂｃｄ－１２３４ efgh5678 9".into())],
        );
        assert_eq!(s.netcash, "ABCD 1234 EFGH 5678");
    }

    #[test]
    fn caret_stays_after_the_same_characters() {
        assert_eq!(
            format_with_caret("abcde", Some(5)),
            ("ABCD E".into(), Some(6))
        );
        assert_eq!(format_with_caret("abcd", Some(4)), ("ABCD".into(), Some(4)));
        // Deleting the space between groups: caret after the 4th character.
        assert_eq!(
            format_with_caret("ABCDEFGH", Some(4)),
            ("ABCD EFGH".into(), Some(4))
        );
        // Inserting in the middle.
        assert_eq!(
            format_with_caret("ABXCD EFGH", Some(3)),
            ("ABXC DEFG H".into(), Some(3))
        );
        assert_eq!(format_with_caret("", Some(0)), ("".into(), Some(0)));
        // Full-width input counts one per character.
        assert_eq!(
            format_with_caret("ＡＢＣＤＥ", Some(5)),
            ("ABCD E".into(), Some(6))
        );
        assert_eq!(format_with_caret("abc", None), ("ABC".into(), None));
    }

    #[test]
    fn blur_validates_only_what_was_typed() {
        let s = run(open(), [Action::Blur]);
        assert_eq!(s.field_error, None);
        let s = run(open(), [Action::Input("abcd".into()), Action::Blur]);
        assert_eq!(s.field_error, Some(FieldError::Incomplete));
        // The message goes away once the ID is complete.
        let s = run(s, [Action::Input(VALID.into())]);
        assert_eq!(s.field_error, None);
    }

    #[test]
    fn submit_never_starts_with_an_invalid_id() {
        let s = run(open(), [Action::Submit]);
        assert_eq!(s.field_error, Some(FieldError::Empty));
        assert_eq!(s.busy, Busy::Idle);
        assert_eq!(s.payable_id(), None);
        let s = run(open(), [Action::Input("abcd123".into()), Action::Submit]);
        assert_eq!(s.field_error, Some(FieldError::Incomplete));
        assert_eq!(s.busy, Busy::Idle);
        assert_eq!(
            validate_netcash("ABCD 1234 EFGH 567!"),
            Err(FieldError::BadCharacter)
        );
    }

    #[test]
    fn submit_with_a_valid_id_starts_once() {
        let s = run(open(), [Action::Input(VALID.into())]);
        assert_eq!(s.payable_id().unwrap().as_str(), "ABCD1234EFGH5678");
        let s = run(s, [Action::Submit]);
        assert_eq!(s.busy, Busy::Paying);
        // A second press while the request runs changes nothing and sends nothing.
        assert_eq!(s.payable_id(), None);
        assert_eq!(run(s.clone(), [Action::Submit]), s);
        // Nor can the ID or the method change under it.
        assert_eq!(
            run(
                s.clone(),
                [
                    Action::Input("zzzz".into()),
                    Action::SelectMethod(Method::Card)
                ]
            ),
            s
        );
    }

    #[test]
    fn success_ends_the_payment_and_returns_by_itself() {
        let s = run(open(), [Action::Input(VALID.into()), Action::Submit]);
        let s = run(
            s,
            [Action::PayDone(Ok(PayOk {
                status: Status::Paid,
                next: Some("/pay/pay_x/return".into()),
            }))],
        );
        assert_eq!(
            s.phase,
            Phase::Final(Final {
                kind: FinalKind::Paid,
                next: Some("/pay/pay_x/return".into()),
                auto_return: true
            })
        );
        assert_eq!(s.busy, Busy::Idle);
        assert_eq!(s.auto_return().as_deref(), Some("/pay/pay_x/return"));
        let s = run(open(), [Action::Input(VALID.into()), Action::Submit]);
        let s = run(
            s,
            [Action::PayDone(Ok(PayOk {
                status: Status::Processing,
                next: None,
            }))],
        );
        assert_eq!(s.phase, Phase::Processing);
    }

    #[test]
    fn a_retryable_error_keeps_the_form() {
        let s = run(open(), [Action::Input(VALID.into()), Action::Submit]);
        let s = run(s, [Action::PayDone(Err(err("insufficient_balance", None)))]);
        assert_eq!(s.phase, Phase::Open);
        assert_eq!(s.error.as_deref(), Some("insufficient_balance"));
        assert!(s.failed);
        assert_eq!(s.netcash, "ABCD 1234 EFGH 5678");
        assert!(s.payable_id().is_some(), "the shopper can retry");
        // A new attempt clears the banner.
        let s = run(
            s,
            [Action::Input("abcd1234efgh0000".into()), Action::Submit],
        );
        assert_eq!(s.error, None);
        assert_eq!(s.busy, Busy::Paying);
    }

    #[test]
    fn an_error_with_next_ends_the_payment() {
        let s = run(open(), [Action::Input(VALID.into()), Action::Submit]);
        let s = run(
            s,
            [Action::PayDone(Err(err(
                "merchant_rejected",
                Some("/pay/pay_x/return"),
            )))],
        );
        assert_eq!(
            s.phase,
            Phase::Final(Final {
                kind: FinalKind::Failed(Some("merchant_rejected".into())),
                next: Some("/pay/pay_x/return".into()),
                auto_return: true
            })
        );
        let s = run(
            open(),
            [
                Action::Input(VALID.into()),
                Action::Submit,
                Action::PayDone(Err(err("already_finished", None))),
            ],
        );
        assert_eq!(s.phase, Phase::Processing);
    }

    #[test]
    fn countdown_expires_an_idle_page_but_not_a_running_payment() {
        let s = run(open(), [Action::Tick(599)]);
        assert_eq!(s.seconds_left(), 1);
        assert_eq!(s.phase, Phase::Open);
        let s = run(s, [Action::Tick(600)]);
        assert!(matches!(
            s.phase,
            Phase::Final(Final {
                kind: FinalKind::Expired,
                auto_return: false,
                ..
            })
        ));
        let s = run(
            open(),
            [
                Action::Input(VALID.into()),
                Action::Submit,
                Action::Tick(700),
            ],
        );
        assert_eq!(s.phase, Phase::Open);
        assert_eq!(s.busy, Busy::Paying);
        // Time never runs backwards.
        let s = run(open(), [Action::Tick(10), Action::Tick(5)]);
        assert_eq!(s.elapsed, 10);
    }

    #[test]
    fn cancel_runs_once_and_reports_failure() {
        let s = run(open(), [Action::CancelStart]);
        assert_eq!(s.busy, Busy::Cancelling);
        assert_eq!(run(s.clone(), [Action::CancelStart, Action::Submit]), s);
        let s = run(s, [Action::CancelFailed(err("network", None))]);
        assert_eq!(s.busy, Busy::Idle);
        assert_eq!(s.error.as_deref(), Some("network"));
    }

    #[test]
    fn polling_settles_a_processing_payment() {
        let s = State::new(&session("processing", ""), Lang::Ja);
        let s = run(s, [Action::Refreshed(session("processing", ""))]);
        assert_eq!(s.phase, Phase::Processing);
        let s2 = run(
            s.clone(),
            [Action::Refreshed(session("paid", r#","next":"/r""#))],
        );
        assert_eq!(s2.auto_return().as_deref(), Some("/r"));
        let s3 = run(
            s,
            [Action::Refreshed(session(
                "pending",
                r#","last_error":{"code":"provider_error"}"#,
            ))],
        );
        assert_eq!(s3.phase, Phase::Open);
        assert_eq!(s3.error.as_deref(), Some("provider_error"));
    }

    #[test]
    fn language_and_method_switch() {
        let s = run(
            open(),
            [
                Action::SetLang(Lang::En),
                Action::SelectMethod(Method::Card),
            ],
        );
        assert_eq!(s.lang, Lang::En);
        assert_eq!(s.selected, Some(Method::Card));
        assert_eq!(
            s.payable_id(),
            None,
            "no NET CASH request for another method"
        );
    }
}
