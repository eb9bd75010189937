//! Configuration, read once per request from the Worker's bindings and
//! passed explicitly. There is no default configuration.

use worker::Env;

#[derive(Debug, Clone)]
pub struct Config {
    pub public_base_url: String,
    pub netcash: ProviderEndpoint,
    pub prepaid: ProviderEndpoint,
    /// Where NET CASH sends its notifications (refund batch payouts).
    pub netcash_notify_url: String,
    pub cybersource: CybersourceEndpoint,
    /// au Kantan Kessai (KDDI).
    pub au: ProviderEndpoint,
    /// Where KDDI (the au sandbox) sends dispute notifications
    /// (`AU_NOTIFY_URL`, default `PUBLIC_BASE_URL/provider/au/notify`).
    pub au_notify_url: String,
    /// Operators' bearer token (`OPERATOR_TOKEN`, a secret in production;
    /// empty disables the operator endpoints).
    pub operator_token: String,
    pub np: NpSettings,
    pub pagecon_timeout_ms: u32,
    pub webhook_timeout_ms: u32,
    /// Serves the sandboxes, the sandbox merchant and the demo shop.
    pub sandbox: bool,
}

/// Where a provider is and how we authenticate to it.
#[derive(Clone)]
pub struct ProviderEndpoint {
    pub base_url: String,
    pub merchant_code: String,
    pub secret: String,
    /// How long a call may take before its answer counts as unclear
    /// (`PROVIDER_TIMEOUT_MS`).
    pub timeout_ms: u32,
}

impl std::fmt::Debug for ProviderEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderEndpoint")
            .field("base_url", &self.base_url)
            .field("merchant_code", &self.merchant_code)
            .field("secret", &"***")
            .finish()
    }
}

/// CyberSource's REST API and our shared-secret key there (HTTP Signature).
#[derive(Clone)]
pub struct CybersourceEndpoint {
    /// `https://api.cybersource.com`, or the sandbox's base URL.
    pub base_url: String,
    pub merchant_id: String,
    pub key_id: String,
    /// Base64, as CyberSource's Business Center hands it out.
    pub shared_secret: String,
    /// How long a call may take before its answer counts as unclear.
    pub timeout_ms: u32,
}

impl CybersourceEndpoint {
    pub fn credentials(&self) -> shared::httpsig::Credentials<'_> {
        shared::httpsig::Credentials { merchant_id: &self.merchant_id, key_id: &self.key_id, shared_secret_b64: &self.shared_secret }
    }
}

impl std::fmt::Debug for CybersourceEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CybersourceEndpoint")
            .field("base_url", &self.base_url)
            .field("merchant_id", &self.merchant_id)
            .field("key_id", &self.key_id)
            .field("shared_secret", &"***")
            .finish()
    }
}

/// NP postpaid (Net Protections): the API endpoint, the secret of its
/// screening notifications, and provider settings the sandbox and the
/// availability rule share.
#[derive(Clone)]
pub struct NpSettings {
    pub endpoint: ProviderEndpoint,
    /// `whsec_<base64>`: NP's screening notifications to us are signed per
    /// Standard Webhooks with it (`NP_NOTIFY_SECRET`).
    pub notify_secret: String,
    /// Where NP (the sandbox) posts its notifications (`NP_NOTIFY_URL`;
    /// default `PUBLIC_BASE_URL/provider/np/notify`). Registered at NP in
    /// production; only the sandbox reads it.
    pub notify_url: String,
    /// The most a shopper may owe NP, unpaid, incl. tax (`NP_LIMIT_YEN`,
    /// default 54,000): also the largest NP purchase offered.
    pub limit_yen: u64,
    /// Sandbox: seconds until a held screening is decided (`NP_HOLD_SECONDS`).
    pub hold_seconds: u64,
}

impl std::fmt::Debug for NpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpSettings")
            .field("endpoint", &self.endpoint)
            .field("notify_secret", &"***")
            .field("notify_url", &self.notify_url)
            .field("limit_yen", &self.limit_yen)
            .field("hold_seconds", &self.hold_seconds)
            .finish()
    }
}

fn number_or(env: &Env, name: &str, default: u64) -> worker::Result<u64> {
    match var(env, name) {
        Err(_) => Ok(default),
        Ok(v) => v.parse().map_err(|_| worker::Error::RustError(format!("{name} must be a whole number"))),
    }
}

impl NpSettings {
    fn from_env(env: &Env, public_base_url: &str) -> worker::Result<NpSettings> {
        Ok(NpSettings {
            endpoint: ProviderEndpoint {
                base_url: var(env, "NP_BASE_URL")?.trim_end_matches('/').to_string(),
                merchant_code: var(env, "NP_SHOP_CODE")?,
                secret: var(env, "NP_API_SECRET")?,
                timeout_ms: provider_timeout_ms(env),
            },
            notify_secret: var(env, "NP_NOTIFY_SECRET")?,
            notify_url: var(env, "NP_NOTIFY_URL").unwrap_or_else(|_| format!("{public_base_url}/provider/np/notify")),
            limit_yen: number_or(env, "NP_LIMIT_YEN", 54_000)?,
            hold_seconds: number_or(env, "NP_HOLD_SECONDS", 5)?,
        })
    }
}

fn var(env: &Env, name: &str) -> worker::Result<String> {
    env.var(name)
        .or_else(|_| env.secret(name))
        .map(|v| v.to_string())
        .map_err(|_| worker::Error::RustError(format!("configuration {name} is missing")))
}

impl Config {
    pub fn from_env(env: &Env) -> worker::Result<Config> {
        let public_base_url = var(env, "PUBLIC_BASE_URL")?.trim_end_matches('/').to_string();
        let au_notify_url = var(env, "AU_NOTIFY_URL").unwrap_or_else(|_| format!("{public_base_url}/provider/au/notify"));
        Ok(Config {
            au_notify_url,
            operator_token: var(env, "OPERATOR_TOKEN").unwrap_or_default(),
            np: NpSettings::from_env(env, &public_base_url)?,
            public_base_url,
            netcash: ProviderEndpoint {
                base_url: var(env, "NETCASH_BASE_URL")?.trim_end_matches('/').to_string(),
                merchant_code: var(env, "NETCASH_MERCHANT_CODE")?,
                secret: var(env, "NETCASH_API_SECRET")?,
                timeout_ms: provider_timeout_ms(env),
            },
            netcash_notify_url: var(env, "NETCASH_NOTIFY_URL")?,
            prepaid: ProviderEndpoint {
                base_url: var(env, "PREPAID_BASE_URL")?.trim_end_matches('/').to_string(),
                merchant_code: var(env, "PREPAID_SHOP_CODE")?,
                secret: var(env, "PREPAID_API_SECRET")?,
                timeout_ms: provider_timeout_ms(env),
            },
            cybersource: CybersourceEndpoint {
                base_url: var(env, "CYBERSOURCE_BASE_URL")?.trim_end_matches('/').to_string(),
                merchant_id: var(env, "CYBERSOURCE_MERCHANT_ID")?,
                key_id: var(env, "CYBERSOURCE_KEY_ID")?,
                shared_secret: var(env, "CYBERSOURCE_SHARED_SECRET")?,
                timeout_ms: provider_timeout_ms(env),
            },
            au: ProviderEndpoint {
                base_url: var(env, "AU_BASE_URL")?.trim_end_matches('/').to_string(),
                merchant_code: var(env, "AU_MERCHANT_CODE")?,
                secret: var(env, "AU_API_SECRET")?,
                timeout_ms: provider_timeout_ms(env),
            },
            pagecon_timeout_ms: var(env, "PAGECON_TIMEOUT_MS")?
                .parse()
                .map_err(|_| worker::Error::RustError("PAGECON_TIMEOUT_MS must be milliseconds".into()))?,
            webhook_timeout_ms: var(env, "WEBHOOK_TIMEOUT_MS")?
                .parse()
                .map_err(|_| worker::Error::RustError("WEBHOOK_TIMEOUT_MS must be milliseconds".into()))?,
            sandbox: var(env, "SANDBOX").map(|v| v == "on").unwrap_or(false),
        })
    }
}

/// How long a provider call may take (`PROVIDER_TIMEOUT_MS`, default 15 s):
/// past it the answer is unclear and the operation is reconciled.
fn provider_timeout_ms(env: &Env) -> u32 {
    env.var("PROVIDER_TIMEOUT_MS").ok().and_then(|v| v.to_string().parse().ok()).filter(|ms| *ms >= 100).unwrap_or(15_000)
}
