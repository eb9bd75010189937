//! The browser-test harness: a checkout rendered from a session value
//! with a fake backend (no server), and DOM helpers.

#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement};
use widget::api::{Backend, BackendRef, LocalFuture, PayRequest};
use widget::i18n::Lang;
use widget::model::{ApiError, FromJson, PayOk, Session};
use widget::{Checkout, CheckoutProps};
use yew::platform::time::sleep;
use yew::AppHandle;

pub const SESSION: &str = r#"{"payment_id":"pay_x","merchant_name":"Kessai Sandbox Shop","item_name":"Green tea 200g","amount":1100,"tax":100,
 "status":"pending","methods":[{"method":"netcash","available":true}],
 "expires_at":1790000000,"now":1789999400,"last_error":null,"next":null}"#;

pub fn with_methods(methods: &str) -> String {
    SESSION.replace(r#"[{"method":"netcash","available":true}]"#, methods)
}

/// Records what the page asked for; answers as told.
#[derive(Default)]
pub struct Fake {
    pub calls: RefCell<Vec<String>>,
    pub navigated: RefCell<Vec<String>>,
    pub redirected: RefCell<Vec<String>>,
    pub session_answer: RefCell<Option<Result<Session, ApiError>>>,
    pub pay_answer: RefCell<Option<Result<PayOk, ApiError>>>,
    pub cancel_answer: RefCell<Option<Result<String, ApiError>>>,
}

struct FakeRef(Rc<Fake>);

impl Backend for FakeRef {
    fn session(&self) -> LocalFuture<Result<Session, ApiError>> {
        self.0.calls.borrow_mut().push("session".into());
        let answer = self
            .0
            .session_answer
            .borrow()
            .clone()
            .unwrap_or_else(|| Err(ApiError::new("network")));
        Box::pin(async move { answer })
    }

    fn pay(&self, request: &PayRequest) -> LocalFuture<Result<PayOk, ApiError>> {
        self.0
            .calls
            .borrow_mut()
            .push(format!("pay {} {}", request.method(), request.to_json()));
        let answer = self
            .0
            .pay_answer
            .borrow()
            .clone()
            .expect("no pay answer set");
        Box::pin(async move {
            sleep(Duration::from_millis(50)).await;
            answer
        })
    }

    fn cancel(&self) -> LocalFuture<Result<String, ApiError>> {
        self.0.calls.borrow_mut().push("cancel".into());
        let answer = self
            .0
            .cancel_answer
            .borrow()
            .clone()
            .expect("no cancel answer set");
        Box::pin(async move { answer })
    }

    fn navigate(&self, next: &str) {
        self.0.navigated.borrow_mut().push(next.into());
    }

    fn redirect(&self, url: &str) {
        self.0.redirected.borrow_mut().push(url.into());
    }
}

pub struct Page {
    pub root: Element,
    pub fake: Rc<Fake>,
    handle: Option<AppHandle<Checkout>>,
}

impl Drop for Page {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.destroy();
        }
        self.root.remove();
    }
}

/// The text pack in, as on a page the shopper has touched (English, the
/// error messages: `widget::i18n`), from the tables the build writes it from.
pub fn with_texts() {
    assert!(widget::i18n::install(widget::i18n::pack_text()));
}

impl Page {
    pub async fn open(json: &str, lang: Lang) -> Page {
        let session = Session::from_json(json).expect("test session must parse");
        let fake = Rc::new(Fake::default());
        with_texts();
        let document = web_sys::window().unwrap().document().unwrap();
        let root = document.create_element("div").unwrap();
        document.body().unwrap().append_child(&root).unwrap();
        let props = CheckoutProps {
            session: Some(Rc::new(session)),
            backend: BackendRef::new(FakeRef(fake.clone())),
            lang,
        };
        let handle = yew::Renderer::<Checkout>::with_root_and_props(root.clone(), props).render();
        settle().await;
        Page {
            root,
            fake,
            handle: Some(handle),
        }
    }

    pub fn find(&self, selector: &str) -> Option<Element> {
        self.root.query_selector(selector).unwrap()
    }

    pub fn get(&self, selector: &str) -> Element {
        self.find(selector)
            .unwrap_or_else(|| panic!("no {selector} in {}", self.root.inner_html()))
    }

    pub fn text(&self, selector: &str) -> String {
        self.get(selector).text_content().unwrap_or_default()
    }

    pub fn all_text(&self) -> String {
        self.root.text_content().unwrap_or_default()
    }

    pub fn input(&self) -> HtmlInputElement {
        self.get("#netcash-id").dyn_into().unwrap()
    }

    pub async fn type_id(&self, value: &str) {
        let input = self.input();
        input.set_value(value);
        let init = web_sys::InputEventInit::new();
        init.set_bubbles(true);
        init.set_input_type("insertText");
        let event = web_sys::InputEvent::new_with_event_init_dict("input", &init).unwrap();
        input.dispatch_event(&event).unwrap();
        settle().await;
    }

    pub async fn blur(&self) {
        self.input()
            .dispatch_event(&web_sys::Event::new("blur").unwrap())
            .unwrap();
        settle().await;
    }

    pub async fn click(&self, selector: &str) {
        self.get(selector)
            .dyn_into::<HtmlElement>()
            .unwrap()
            .click();
        settle().await;
    }
}

/// Lets yew render (rendering is asynchronous).
pub async fn settle() {
    for _ in 0..3 {
        sleep(Duration::ZERO).await;
    }
}


impl Page {
    /// The page as the browser starts it: without a session, which it reads.
    pub async fn load(fake: Fake, lang: Lang) -> Page {
        let fake = Rc::new(fake);
        with_texts();
        let document = web_sys::window().unwrap().document().unwrap();
        let root = document.create_element("div").unwrap();
        document.body().unwrap().append_child(&root).unwrap();
        let props = CheckoutProps {
            session: None,
            backend: BackendRef::new(FakeRef(fake.clone())),
            lang,
        };
        let handle = yew::Renderer::<Checkout>::with_root_and_props(root.clone(), props).render();
        settle().await;
        Page {
            root,
            fake,
            handle: Some(handle),
        }
    }

    /// Sets a field's content as typing or pasting would, and lets the page react.
    pub async fn type_into(&self, selector: &str, value: &str) {
        let input: HtmlInputElement = self.get(selector).dyn_into().unwrap();
        input.set_value(value);
        let init = web_sys::InputEventInit::new();
        init.set_bubbles(true);
        init.set_input_type("insertText");
        let event = web_sys::InputEvent::new_with_event_init_dict("input", &init).unwrap();
        input.dispatch_event(&event).unwrap();
        settle().await;
    }

    pub async fn blur_field(&self, selector: &str) {
        self.get(selector)
            .dispatch_event(&web_sys::Event::new("blur").unwrap())
            .unwrap();
        settle().await;
    }

    pub fn value(&self, selector: &str) -> String {
        self.get(selector).dyn_into::<HtmlInputElement>().unwrap().value()
    }

    pub fn attr(&self, selector: &str, name: &str) -> Option<String> {
        self.get(selector).get_attribute(name)
    }

    /// The id of the focused element.
    pub fn focused(&self) -> String {
        web_sys::window()
            .unwrap()
            .document()
            .unwrap()
            .active_element()
            .map(|e| e.id())
            .unwrap_or_default()
    }

    /// Waits for the fake's answer (it takes 50 ms) and the render after it.
    pub async fn answered(&self) {
        sleep(Duration::from_millis(100)).await;
        settle().await;
    }

    pub fn sent(&self) -> Vec<String> {
        self.fake.calls.borrow().clone()
    }
}
