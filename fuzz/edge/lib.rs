//! The Worker's parsing and mapping code, compiled natively for the fuzz
//! targets. These are the Worker's own source files (`#[path]`), not
//! copies: `crate::util`, `crate::config` and `crate::connectors` inside
//! them resolve to the modules below. Only modules with no Durable Object,
//! D1 or routing dependencies are included.
#![allow(dead_code, unused_imports, unused_variables, clippy::all)]

#[path = "../../edge-worker/src/util.rs"]
pub mod util;
#[path = "../../edge-worker/src/config.rs"]
pub mod config;
#[path = "../../edge-worker/src/connectors/mod.rs"]
pub mod connectors;
#[path = "../../edge-worker/src/methods.rs"]
pub mod methods;
