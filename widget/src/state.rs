//! The checkout's state: plain data and the actions that change it. The
//! transition is `reducer`'s; the fields of the forms (facts, formatting,
//! validation, problem codes) are `field`'s.
//!
//! Every form field of every method is one [`Field`]; their contents and
//! problems are arrays indexed by it, so one reducer arm and one view
//! function serve all of them.

use std::rc::Rc;

use shared::card::{Brand, PaymentOption};
use shared::time::UnixTime;

use crate::api::PayRequest;
pub use crate::field::{Field, Problem, FIELDS};
use crate::field::{brand_of, check, method_of_error};
#[cfg(test)]
use crate::field::{all_options, first_server_field, format_field, option_value, parse_option, CARD_FIELDS};
use crate::i18n::Lang;
#[cfg(test)]
use crate::model::FromJson;
use crate::model::{ApiError, Method, PayOk, Session, Status};


/// How a payment ended, as far as this page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinalKind {
    Paid,
    /// A recurring registration that charged nothing.
    Registered,
    /// NP postpay approved: the order stands, the invoice comes later.
    Ordered,
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
    /// The session is being read.
    Loading,
    /// It could not be read: the error code.
    LoadFailed(String),
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
    /// The page is leaving for the provider's page (au).
    Redirecting,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub lang: Lang,
    /// The payment as last read (`None` while loading).
    pub session: Option<Rc<Session>>,
    pub phase: Phase,
    /// The chosen method (one of the available ones).
    pub selected: Option<Method>,
    /// Each field's content as shown (`ABCD 1234`), by [`Field`].
    pub values: [String; FIELDS],
    /// Each field's problem, shown under it.
    pub errors: [Option<&'static str>; FIELDS],
    /// The card payment option (支払区分).
    pub option: PaymentOption,
    pub busy: Busy,
    /// Error code shown in the `#error` banner.
    pub error: Option<String>,
    /// An attempt has failed: the back button says "return", not "cancel".
    pub failed: bool,
    /// Seconds the page had left when the session was read (server clock).
    pub deadline: i64,
    /// Seconds since then (client monotonic clock).
    pub elapsed: i64,
    /// The month the card expiry is checked against (JST, server clock).
    pub today: (i32, u8),
    /// Where the whole page goes now (au's page).
    pub redirect: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// The session was read (or not).
    Loaded(Result<Session, ApiError>),
    /// Read it again after a failure.
    Reload,
    SetLang(Lang),
    SelectMethod(Method),
    /// A field's raw content (the shopper typed or pasted).
    Input(Field, String),
    Blur(Field),
    SetOption(PaymentOption),
    /// Pay was pressed: validate; if valid, the request starts.
    Submit,
    /// "Pay with NET CASH Wallet" was pressed: no ID to check here.
    SubmitWallet,
    PayDone(Result<PayOk, ApiError>),
    /// The page did not leave for the provider after all (blocked, or
    /// shown again from the back-forward cache): the form is usable again.
    RedirectStalled,
    CancelStart,
    CancelFailed(ApiError),
    /// Whole seconds since the session was read.
    Tick(i64),
    /// The session, read again while processing.
    Refreshed(Session),
}

pub(crate) fn final_of(status: &Status, next: Option<String>, auto_return: bool) -> Option<Phase> {
    let kind = match status {
        Status::Pending | Status::Processing | Status::Redirect => return None,
        Status::Paid | Status::Authorized => FinalKind::Paid,
        Status::Failed => FinalKind::Failed(None),
        Status::Cancelled => FinalKind::Cancelled,
        Status::Expired => FinalKind::Expired,
        Status::RefundRequired => FinalKind::RefundRequired,
        Status::Held => FinalKind::Held,
        Status::RejectedByMerchant => FinalKind::Failed(Some("merchant_rejected".into())),
        Status::Registered => FinalKind::Registered,
        Status::Unknown(_) => FinalKind::Closed,
    };
    Some(Phase::Final(Final {
        kind,
        next,
        auto_return,
    }))
}

impl State {
    /// Before the session is read.
    pub fn loading(lang: Lang) -> State {
        State {
            lang,
            session: None,
            phase: Phase::Loading,
            selected: None,
            values: Default::default(),
            errors: [None; FIELDS],
            option: PaymentOption::Single,
            busy: Busy::Idle,
            error: None,
            failed: false,
            deadline: 0,
            elapsed: 0,
            today: (0, 1),
            redirect: None,
        }
    }

    /// The state a freshly loaded session starts in.
    pub fn new(session: Rc<Session>, lang: Lang) -> State {
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
        let available = |m: &Method| session.methods.iter().any(|e| e.available && e.method == *m);
        // Back from a failed attempt (au's page): that method's form again.
        let failed_method = session
            .last_error
            .as_ref()
            .and_then(|e| method_of_error(&e.code))
            .filter(available);
        let today = UnixTime(session.now).jst().date;
        let selected = failed_method.or_else(|| {
            session
                .methods
                .iter()
                .find(|m| m.available)
                .map(|m| m.method.clone())
        });
        State {
            lang,
            phase,
            selected,
            values: Default::default(),
            errors: [None; FIELDS],
            option: PaymentOption::Single,
            busy: Busy::Idle,
            error: session.last_error.as_ref().map(|e| e.code.clone()),
            failed: session.last_error.is_some(),
            session: Some(session),
            deadline,
            elapsed: 0,
            today: (today.year, today.month),
            redirect: None,
        }
    }

    pub fn seconds_left(&self) -> i64 {
        (self.deadline - self.elapsed).max(0)
    }

    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    pub fn value(&self, f: Field) -> &str {
        &self.values[f as usize]
    }

    pub fn error(&self, f: Field) -> Option<&'static str> {
        self.errors[f as usize]
    }

    /// The card brand typed so far.
    pub fn brand(&self) -> Brand {
        brand_of(self.value(Field::CardNumber))
    }

    pub(crate) fn check(&self, method: &Method) -> Result<PayRequest, Vec<Problem>> {
        check(method, &self.values, self.option, self.today)
    }

    /// The request to send if Pay is pressed now, or `None` when nothing
    /// may be sent (invalid form, not open, another request running).
    pub fn payable(&self) -> Option<PayRequest> {
        if !self.is_open() || self.busy != Busy::Idle {
            return None;
        }
        self.check(self.selected.as_ref()?).ok()
    }

    /// The first field of the chosen form that a submit would mark.
    pub fn first_invalid(&self) -> Option<Field> {
        let problems = self.check(self.selected.as_ref()?).err()?;
        problems.first().map(|p| p.0)
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

}

#[cfg(test)]
mod tests {
    use super::*;
    use yew::Reducible;
    // Also run them in the browser under `cargo test --target wasm32-unknown-unknown`.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn session(status: &str, extra: &str) -> Session {
        Session::from_json(&format!(
            r#"{{"payment_id":"pay_x","merchant_name":"Shop","item_name":"Tea","amount":1100,"tax":100,
            "status":"{status}","methods":[{{"method":"au","available":false,"reason":"maintenance"}},{{"method":"netcash","available":true}},{{"method":"card","available":true}}],
            "expires_at":1000000600,"now":1000000000{extra}}}"#
        ))
        .unwrap()
    }

    fn new(session: &Session, lang: Lang) -> State {
        State::new(Rc::new(session.clone()), lang)
    }

    fn open() -> State {
        new(&session("pending", ""), Lang::Ja)
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
            fields: vec![],
        }
    }

    fn ok(status: Status, next: Option<&str>) -> Result<PayOk, ApiError> {
        Ok(PayOk {
            status,
            next: next.map(Into::into),
            redirect: None,
        })
    }

    fn input(value: &str) -> Action {
        Action::Input(Field::NetcashId, value.into())
    }

    fn format_with_caret(raw: &str, caret: Option<u32>) -> (String, Option<u32>) {
        format_field(Field::NetcashId, raw, caret)
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
    fn loading_then_the_session() {
        let s = State::loading(Lang::En);
        assert_eq!(s.phase, Phase::Loading);
        assert_eq!(s.payable(), None);
        let failed = run(s.clone(), [Action::Loaded(Err(err("network", None)))]);
        assert_eq!(failed.phase, Phase::LoadFailed("network".into()));
        let again = run(failed, [Action::Reload]);
        assert_eq!(again.phase, Phase::Loading);
        let s = run(again, [Action::Loaded(Ok(session("pending", "")))]);
        assert_eq!(s.phase, Phase::Open);
        assert_eq!(s.lang, Lang::En, "the language stays");
        assert_eq!(s.session.as_ref().unwrap().merchant_name, "Shop");
        // A late answer changes nothing once loaded.
        assert_eq!(run(s.clone(), [Action::Loaded(Err(err("network", None)))]), s);
    }

    #[test]
    fn a_final_session_shows_its_end_without_leaving_by_itself() {
        let s = new(&session("paid", r#","next":"/pay/pay_x/return""#), Lang::Ja);
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
            match new(&session(status, ""), Lang::En).phase {
                Phase::Final(f) => assert_eq!(f.kind, kind, "{status}"),
                other => panic!("{status}: {other:?}"),
            }
        }
        assert_eq!(
            new(&session("processing", ""), Lang::Ja).phase,
            Phase::Processing
        );
        // The provider's answer was unclear: the page waits ("checking your
        // payment") and offers no second attempt until it is known.
        assert_eq!(
            new(&session("reconciling", ""), Lang::Ja).phase,
            Phase::Processing
        );
    }

    #[test]
    fn a_pending_session_past_its_deadline_is_expired() {
        let s = new(&session("pending", "").tap_expired(), Lang::Ja);
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
        let s = new(
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
        let s = run(open(), [input("abcd1234")]);
        assert_eq!(s.value(Field::NetcashId), "ABCD 1234");
        let s = run(
            open(),
            [input("ａｂｃｄ－１２３４ efgh5678 9")],
        );
        assert_eq!(s.value(Field::NetcashId), "ABCD 1234 EFGH 5678");
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
        let s = run(open(), [Action::Blur(Field::NetcashId)]);
        assert_eq!(s.error(Field::NetcashId), None);
        let s = run(open(), [input("abcd"), Action::Blur(Field::NetcashId)]);
        assert_eq!(s.error(Field::NetcashId), Some("incomplete"));
        // The message goes away once the ID is complete.
        let s = run(s, [input(VALID)]);
        assert_eq!(s.error(Field::NetcashId), None);
    }

    #[test]
    fn submit_never_starts_with_an_invalid_id() {
        let s = run(open(), [Action::Submit]);
        assert_eq!(s.error(Field::NetcashId), Some("required"));
        assert_eq!(s.busy, Busy::Idle);
        assert_eq!(s.payable(), None);
        let s = run(open(), [input("abcd123"), Action::Submit]);
        assert_eq!(s.error(Field::NetcashId), Some("incomplete"));
        assert_eq!(s.busy, Busy::Idle);
        let s = run(open(), [input("ABCD 1234 EFGH 567"), Action::Submit]);
        assert_eq!(s.error(Field::NetcashId), Some("incomplete"));
    }

    #[test]
    fn submit_with_a_valid_id_starts_once() {
        let s = run(open(), [input(VALID)]);
        assert_eq!(s.payable().unwrap().to_json(), r#"{"netcash_id":"ABCD1234EFGH5678"}"#);
        let s = run(s, [Action::Submit]);
        assert_eq!(s.busy, Busy::Paying);
        // A second press while the request runs changes nothing and sends nothing.
        assert_eq!(s.payable(), None);
        assert_eq!(run(s.clone(), [Action::Submit]), s);
        // Nor can the ID or the method change under it.
        assert_eq!(
            run(
                s.clone(),
                [
                    input("zzzz"),
                    Action::SelectMethod(Method::Card)
                ]
            ),
            s
        );
    }

    #[test]
    fn success_ends_the_payment_and_returns_by_itself() {
        let s = run(open(), [input(VALID), Action::Submit]);
        let s = run(
            s,
            [Action::PayDone(ok(Status::Paid, Some("/pay/pay_x/return")))],
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
        let s = run(open(), [input(VALID), Action::Submit]);
        let s = run(
            s,
            [Action::PayDone(ok(Status::Processing, None))],
        );
        assert_eq!(s.phase, Phase::Processing);
    }

    #[test]
    fn a_retryable_error_keeps_the_form() {
        let s = run(open(), [input(VALID), Action::Submit]);
        let s = run(s, [Action::PayDone(Err(err("insufficient_balance", None)))]);
        assert_eq!(s.phase, Phase::Open);
        assert_eq!(s.error.as_deref(), Some("insufficient_balance"));
        assert!(s.failed);
        assert_eq!(s.value(Field::NetcashId), "ABCD 1234 EFGH 5678");
        assert!(s.payable().is_some(), "the shopper can retry");
        // A new attempt clears the banner.
        let s = run(
            s,
            [input("abcd1234efgh0000"), Action::Submit],
        );
        assert_eq!(s.error, None);
        assert_eq!(s.busy, Busy::Paying);
    }

    #[test]
    fn an_error_with_next_ends_the_payment() {
        let s = run(open(), [input(VALID), Action::Submit]);
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
                input(VALID),
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
                input(VALID),
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
        let s = new(&session("processing", ""), Lang::Ja);
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
        assert_eq!(s.payable(), None, "the card form is empty");
    }

    fn open_with(method: Method) -> State {
        run(open(), [Action::SelectMethod(method)])
    }

    fn type_in(s: State, values: &[(Field, &str)]) -> State {
        run(s, values.iter().map(|(f, v)| Action::Input(*f, (*v).into())))
    }

    #[test]
    fn numbers_are_digits_grouped_by_four() {
        let f = |raw: &str, caret| format_field(Field::PrepaidNumber, raw, caret);
        assert_eq!(f("12345", Some(5)), ("1234 5".into(), Some(6)));
        assert_eq!(f("１２３４-5678 abcd 9012345678", None).0, "1234 5678 9012 3456");
        assert_eq!(f("1234 5678 1234 56789", Some(19)).0, "1234 5678 1234 5678");
        assert_eq!(format_field(Field::CardNumber, "4111111111111111", None).0, "4111 1111 1111 1111");
        assert_eq!(format_field(Field::CardExpMonth, "1a23", Some(4)), ("12".into(), Some(2)));
        assert_eq!(format_field(Field::CardCvc, "12345", None).0, "1234");
        // Free text is left alone, IME or not.
        assert_eq!(format_field(Field::NpKana, " ヤマダ ", Some(2)), (" ヤマダ ".into(), Some(2)));
        assert_eq!(Field::from_id("card-cvc"), Some(Field::CardCvc));
        assert_eq!(Field::from_id("nope"), None);
    }

    #[test]
    fn prepaid_validates_and_sends_the_digits() {
        let s = open_with(Method::Prepaid);
        let s = run(s, [Action::Submit]);
        assert_eq!(s.error(Field::PrepaidNumber), Some("required"));
        assert_eq!(s.busy, Busy::Idle);
        let s = type_in(s, &[(Field::PrepaidNumber, "1234567812")]);
        assert_eq!(s.value(Field::PrepaidNumber), "1234 5678 12");
        assert_eq!(s.error(Field::PrepaidNumber), Some("incomplete"));
        let s = type_in(s, &[(Field::PrepaidNumber, "1234567812345678")]);
        assert_eq!(s.error(Field::PrepaidNumber), None);
        assert_eq!(
            s.payable().unwrap().to_json(),
            r#"{"card_number":"1234567812345678"}"#
        );
        let s = run(s, [Action::Submit]);
        assert_eq!(s.busy, Busy::Paying);
    }

    const GOOD_BUYER: [(Field, &str); 6] = [
        (Field::NpName, "山田 太郎"),
        (Field::NpKana, "ヤマダ タロウ"),
        (Field::NpPostalCode, "150-0001"),
        (Field::NpAddress, "東京都渋谷区神宮前1-2-3"),
        (Field::NpPhone, "090-1234-5678"),
        (Field::NpEmail, "taro@example.jp"),
    ];

    #[test]
    fn np_reports_every_field_and_the_first_one() {
        let s = open_with(Method::Np);
        let s = type_in(s, &[(Field::NpName, "山田 太郎"), (Field::NpKana, "やまだ")]);
        assert_eq!(s.first_invalid(), Some(Field::NpKana));
        let s = run(s, [Action::Submit]);
        assert_eq!(s.error(Field::NpName), None);
        assert_eq!(s.error(Field::NpKana), Some("katakana"));
        assert_eq!(s.error(Field::NpPostalCode), Some("required"));
        assert_eq!(s.error(Field::NpEmail), Some("required"));
        assert_eq!(s.busy, Busy::Idle);
        // Fixing a field clears its message only.
        let s = type_in(s, &[(Field::NpKana, "ヤマダ")]);
        assert_eq!(s.error(Field::NpKana), None);
        assert_eq!(s.error(Field::NpPostalCode), Some("required"));
        let s = type_in(s, &GOOD_BUYER);
        assert!(s.errors.iter().all(Option::is_none));
        let json = s.payable().unwrap().to_json();
        assert!(json.contains(r#""postal_code":"1500001""#), "{json}");
        assert!(json.contains(r#""phone":"09012345678""#), "{json}");
    }

    #[test]
    fn np_answers() {
        let s = run(type_in(open_with(Method::Np), &GOOD_BUYER), [Action::Submit]);
        let held = run(s.clone(), [Action::PayDone(ok(Status::Held, Some("/r")))]);
        assert!(matches!(&held.phase, Phase::Final(f) if f.kind == FinalKind::Held && f.auto_return));
        let done = run(s.clone(), [Action::PayDone(ok(Status::Authorized, Some("/r")))]);
        assert!(matches!(&done.phase, Phase::Final(f) if f.kind == FinalKind::Ordered));
        let e = ApiError {
            code: "invalid_buyer".into(),
            next: None,
            fields: vec![("kana".into(), "katakana".into()), ("phone".into(), "weird".into())],
        };
        assert_eq!(first_server_field(&e), Some(Field::NpKana));
        let bad = run(s.clone(), [Action::PayDone(Err(e))]);
        assert_eq!(bad.error(Field::NpKana), Some("katakana"));
        assert_eq!(bad.error(Field::NpPhone), Some("invalid"));
        assert_eq!(bad.error.as_deref(), Some("invalid_buyer"));
        assert_eq!(bad.phase, Phase::Open);
    }

    const VISA: &str = "4111111111111111";

    #[test]
    fn card_brand_and_options() {
        let s = open_with(Method::Card);
        assert_eq!(s.today, (2001, 9), "the server's month (JST)");
        let s = type_in(s, &[(Field::CardNumber, "4111")]);
        assert_eq!(s.brand(), Brand::Visa);
        let s = run(s, [Action::SetOption(PaymentOption::Installment { count: 3 })]);
        assert_eq!(s.option, PaymentOption::Installment { count: 3 });
        // Another brand can only pay at once: the option falls back.
        let s = type_in(s, &[(Field::CardNumber, "5555555555554444")]);
        assert_eq!(s.brand(), Brand::Mastercard);
        assert_eq!(s.option, PaymentOption::Single);
        let s = run(s, [Action::SetOption(PaymentOption::Revolving)]);
        assert_eq!(s.option, PaymentOption::Single);
        assert_eq!(all_options().count(), 21);
        for o in all_options() {
            assert_eq!(parse_option(&option_value(o)), Some(o));
        }
        assert_eq!(option_value(PaymentOption::BonusInstallment { count: 12 }), "bonus_installment-12");
        assert_eq!(parse_option("installment-4"), None);
    }

    #[test]
    fn card_validation() {
        let s = run(open_with(Method::Card), [Action::Submit]);
        assert_eq!(
            CARD_FIELDS.map(|f| s.error(f)),
            [Some("required"); 4]
        );
        let s = type_in(
            s,
            &[
                (Field::CardNumber, "4111111111111112"),
                (Field::CardExpMonth, "13"),
                (Field::CardExpYear, "0"),
                (Field::CardCvc, "12"),
            ],
        );
        assert_eq!(
            CARD_FIELDS.map(|f| s.error(f)),
            [Some("luhn"), Some("month"), Some("year"), Some("cvc")]
        );
        assert_eq!(s.first_invalid(), Some(Field::CardNumber));
        // Expired: the session's month is 2001-09.
        let s = type_in(s, &[(Field::CardExpMonth, "08"), (Field::CardExpYear, "01")]);
        assert_eq!(s.error(Field::CardExpMonth), None);
        assert_eq!(s.error(Field::CardExpYear), Some("expired"));
        let s = type_in(s, &[(Field::CardExpMonth, "09")]);
        assert_eq!(s.error(Field::CardExpYear), None, "month and year are checked together");
        let s = type_in(s, &[(Field::CardNumber, VISA), (Field::CardCvc, "123"), (Field::CardExpYear, "30")]);
        let s = run(s, [Action::SetOption(PaymentOption::BonusInstallment { count: 6 })]);
        assert_eq!(
            s.payable().unwrap().to_json(),
            r#"{"number":"4111111111111111","exp_month":"09","exp_year":"2030","cvc":"123","option":{"kind":"bonus_installment","count":6}}"#
        );
    }

    #[test]
    fn au_redirects_the_whole_page() {
        let s = open_with(Method::Au);
        assert_eq!(s.payable(), Some(PayRequest::Au));
        let s = run(s, [Action::Submit]);
        assert_eq!(s.busy, Busy::Paying);
        let answer = PayOk {
            status: Status::Redirect,
            next: None,
            redirect: Some("http://127.0.0.1/sandbox/au/x".into()),
        };
        let s = run(s, [Action::PayDone(Ok(answer))]);
        assert_eq!(s.busy, Busy::Redirecting);
        assert_eq!(s.redirect.as_deref(), Some("http://127.0.0.1/sandbox/au/x"));
        assert_eq!(s.phase, Phase::Open);
        assert_eq!(run(s.clone(), [Action::Submit, Action::CancelStart]), s, "locked while leaving");
        let back = run(s, [Action::RedirectStalled]);
        assert_eq!((back.busy, back.redirect), (Busy::Idle, None));
        // A redirect answer without a usable URL is an error.
        let s = run(open_with(Method::Au), [Action::Submit]);
        let s = run(
            s,
            [Action::PayDone(Ok(PayOk {
                status: Status::Redirect,
                next: None,
                redirect: None,
            }))],
        );
        assert_eq!(s.error.as_deref(), Some("internal"));
        assert_eq!(s.busy, Busy::Idle);
    }

    #[test]
    fn back_from_au_with_an_error_reopens_au() {
        let s = new(
            &session("pending", r#","last_error":{"code":"au_limit_exceeded"}"#)
                .with_au_available(),
            Lang::Ja,
        );
        assert_eq!(s.selected, Some(Method::Au));
        assert_eq!(s.error.as_deref(), Some("au_limit_exceeded"));
        // An error of a method not offered keeps the default choice.
        let s = new(
            &session("pending", r#","last_error":{"code":"au_overdue"}"#),
            Lang::Ja,
        );
        assert_eq!(s.selected, Some(Method::Netcash));
    }

    trait WithAu {
        fn with_au_available(self) -> Self;
    }
    impl WithAu for Session {
        fn with_au_available(mut self) -> Self {
            self.methods[0].available = true;
            self
        }
    }
}
