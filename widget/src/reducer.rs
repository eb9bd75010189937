//! The reducer: the one pure transition of the checkout's state
//! ([`Reducible`]). Side effects (requests, timers, navigation) live in the
//! components and only report back through actions.

use std::rc::Rc;

use shared::card::{allowed, PaymentOption};
use yew::Reducible;

use crate::field::{format_field, np_code, Field, FIELDS};
use crate::model::{Method, PayOk, Status};
use crate::state::{final_of, Action, Busy, Final, FinalKind, Phase, State};

impl State {
    /// Validates `fields` again (of one method) and shows what is wrong
    /// with them; the others keep their state.
    fn recheck(&mut self, method: &Method, fields: &[Field]) {
        let problems = self.check(method).err().unwrap_or_default();
        for f in fields {
            self.errors[*f as usize] = problems.iter().find(|p| p.0 == *f).map(|p| p.1);
        }
    }

    fn apply(mut self, action: Action) -> State {
        match action {
            Action::Loaded(Ok(session)) => {
                if self.phase == Phase::Loading {
                    self = State::new(Rc::new(session), self.lang);
                }
            }
            Action::Loaded(Err(e)) => {
                if self.phase == Phase::Loading {
                    self.phase = Phase::LoadFailed(e.code);
                }
            }
            Action::Reload => {
                if matches!(self.phase, Phase::LoadFailed(_)) {
                    self.phase = Phase::Loading;
                }
            }
            Action::SetLang(lang) => self.lang = lang,
            Action::SelectMethod(method) => {
                if self.busy == Busy::Idle && self.is_open() {
                    self.selected = Some(method);
                }
            }
            Action::Input(field, raw) => {
                if self.busy != Busy::Paying {
                    self.values[field as usize] = format_field(field, &raw, None).0;
                    if field == Field::CardNumber && !allowed(self.brand(), self.option) {
                        self.option = PaymentOption::Single;
                    }
                    // Once shown, a message goes away as soon as the field
                    // is right (expiry: month and year together).
                    let method = field.method();
                    let shown: Vec<Field> = Field::of(&method)
                        .iter()
                        .copied()
                        .filter(|f| self.errors[*f as usize].is_some())
                        .collect();
                    self.recheck(&method, &shown);
                }
            }
            Action::Blur(field) => {
                if !self.values[field as usize].trim().is_empty() {
                    self.recheck(&field.method(), &[field]);
                }
            }
            Action::SetOption(option) => {
                if self.busy == Busy::Idle && allowed(self.brand(), option) {
                    self.option = option;
                }
            }
            Action::Submit => {
                if let (true, Busy::Idle, Some(method)) =
                    (self.is_open(), self.busy, self.selected.clone())
                {
                    match self.check(&method) {
                        Err(problems) => {
                            for f in Field::of(&method) {
                                self.errors[*f as usize] =
                                    problems.iter().find(|p| p.0 == *f).map(|p| p.1);
                            }
                        }
                        Ok(_) => {
                            self.errors = [None; FIELDS];
                            self.error = None;
                            self.busy = Busy::Paying;
                        }
                    }
                }
            }
            Action::SubmitWallet => {
                if self.is_open() && self.busy == Busy::Idle && self.selected == Some(Method::Netcash) {
                    self.errors = [None; FIELDS];
                    self.error = None;
                    self.busy = Busy::Paying;
                }
            }
            Action::PayDone(result) => {
                self.busy = Busy::Idle;
                match result {
                    Ok(PayOk {
                        status: Status::Redirect,
                        redirect,
                        ..
                    }) => match redirect {
                        Some(url) => {
                            self.busy = Busy::Redirecting;
                            self.redirect = Some(url);
                        }
                        None => self.error = Some("internal".into()),
                    },
                    Ok(PayOk { status, next, .. }) => match final_of(&status, next, true) {
                        Some(Phase::Final(mut fin)) => {
                            if status == Status::Authorized && self.selected == Some(Method::Np) {
                                fin.kind = FinalKind::Ordered;
                            }
                            self.phase = Phase::Final(fin)
                        }
                        _ => self.phase = Phase::Processing,
                    },
                    Err(e) => {
                        self.failed = true;
                        for (name, code) in &e.fields {
                            if let Some(f) = Field::np(name) {
                                self.errors[f as usize] = Some(np_code(code));
                            }
                        }
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
            Action::RedirectStalled => {
                if self.busy == Busy::Redirecting {
                    self.busy = Busy::Idle;
                    self.redirect = None;
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
                if matches!(self.busy, Busy::Idle | Busy::Cancelling) && self.seconds_left() == 0
                {
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

    // Every action renders again (no comparison of states: the page is
    // small, and comparing costs wasm).
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new((*self).clone().apply(action))
    }
}

