//! Kessai Link's pure domain. Nothing in this crate performs I/O or knows
//! about the Worker runtime or the browser; everything that depends on the
//! current time or on randomness takes it as an argument.

pub mod au;
pub mod card;
pub mod codes;
pub mod holidays;
pub mod journal;
pub mod httpsig;
pub mod methods;
pub mod money;
pub mod netcash;
pub mod np;
pub mod outbox;
pub mod payment;
pub mod prepaid;
pub mod purchase;
pub mod recurring;
pub mod return_form;
pub mod rules;
pub mod signing;
pub mod time;
pub mod url;
pub mod webhooks;
