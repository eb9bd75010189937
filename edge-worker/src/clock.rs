//! The Worker's one clock. In production it is the runtime's clock. Built
//! with the `sandbox-clock` feature and run with `SANDBOX = "on"`, it adds
//! an offset kept in D1 that tests and developers move with
//! `POST /__sandbox/clock` (see README); production builds have no such
//! door: without the feature the offset does not exist.

use shared::time::UnixTime;
use worker::Env;

use crate::config::Config;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    offset: i64,
}

fn real_now() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

impl Clock {
    /// The clock for this request.
    pub async fn load(env: &Env, config: &Config) -> worker::Result<Clock> {
        #[cfg(feature = "sandbox-clock")]
        if config.sandbox {
            let db = crate::store::db(env, true).await?;
            return Ok(Clock { offset: crate::store::clock_offset(&db).await? });
        }
        let _ = (env, config);
        Ok(Clock { offset: 0 })
    }

    pub fn now(&self) -> UnixTime {
        UnixTime(real_now() + self.offset)
    }

    /// Real seconds until the clock reads `t` (for Durable Object alarms,
    /// which run on real time).
    pub fn real_delay_until(&self, t: i64) -> i64 {
        t - self.now().0
    }
}
