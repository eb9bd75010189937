//! The merchant API's errors and results: a status, a stable code and a
//! message for people. Shared by the API's routes (`api`), the
//! subscriptions' routes (`subscription_do::api`) and the administration
//! tool, which answer the same way.

use worker::Response;

use crate::util;

/// What a route answers: a status and a JSON body, or an error.
pub type ApiResult = Result<(u16, serde_json::Value), ApiError>;

/// An API error: a status and a stable code, with a message for people.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

pub fn err(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError { status, code, message: message.into() }
}

impl ApiError {
    pub fn response(&self) -> worker::Result<Response> {
        util::json(self.status, &serde_json::json!({"error": {"code": self.code, "message": self.message}}))
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        worker::console_error!("api: {e}");
        err(500, "internal", "internal error")
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        worker::console_error!("api json: {e}");
        err(500, "internal", "internal error")
    }
}

