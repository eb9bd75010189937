//! Configuration, read once per request from the Worker's bindings and
//! passed explicitly. There is no default configuration.

use worker::Env;

#[derive(Debug, Clone)]
pub struct Config {
    pub public_base_url: String,
    pub netcash: ProviderEndpoint,
    pub prepaid: ProviderEndpoint,
    /// Where NET CASH sends its notifications (refund batch payouts).
    /// Registered at NET CASH in production; only the sandbox reads it.
    #[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
    pub netcash_notify_url: String,
    pub cybersource: CybersourceEndpoint,
    /// au Kantan Kessai (KDDI).
    pub au: ProviderEndpoint,
    /// Where KDDI (the au sandbox) sends dispute notifications
    /// (`AU_NOTIFY_URL`, default `PUBLIC_BASE_URL/provider/au/notify`).
    #[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
    pub au_notify_url: String,
    /// Operators' bearer token (`OPERATOR_TOKEN`, a secret in production;
    /// empty disables the operator endpoints).
    pub operator_token: String,
    /// Keys the subscription data sealed at rest (NP buyers, AES-GCM) and
    /// the shoppers' subscription page links (`SUBSCRIPTION_SECRET`).
    pub subscription_secret: String,
    pub np: NpSettings,
    pub pagecon_timeout_ms: u32,
    pub webhook_timeout_ms: u32,
    /// Serves the sandboxes, the sandbox merchant and the demo shop: only
    /// in builds with the `sandbox` feature, and there with `SANDBOX = "on"`.
    pub sandbox: bool,
    /// A production build (no `sandbox` feature): merchant URLs must be
    /// `https` host names, secrets must be real, HSTS, `Secure` cookies.
    pub production: bool,
}

/// Whether this is a production build (built without the `sandbox` feature).
pub const PRODUCTION: bool = !cfg!(feature = "sandbox");

/// The configuration values that are Worker secrets in production
/// (`wrangler secret put NAME --env production`), never plain `[vars]`.
pub const SECRETS: &[&str] = &[
    "NETCASH_API_SECRET",
    "PREPAID_API_SECRET",
    "CYBERSOURCE_SHARED_SECRET",
    "AU_API_SECRET",
    "NP_API_SECRET",
    "NP_NOTIFY_SECRET",
    "OPERATOR_TOKEN",
    "SUBSCRIPTION_SECRET",
];

/// The development values of those secrets (`edge-worker/wrangler.toml`,
/// published in the README): a production Worker refuses to run with any.
const SANDBOX_SECRET_VALUES: &[&str] = &[
    "netcash-sandbox-api-secret",
    "prepaid-sandbox-api-secret",
    "a2Vzc2FpLWxpbmstY3liZXJzb3VyY2Utc2FuZGJveCE=",
    "au-sandbox-api-secret",
    "np-sandbox-api-secret",
    "whsec_a2Vzc2FpLW5wLXNhbmRib3gtbm90aWZ5LXNlY3JldC0wMQ==",
    "kessai-sandbox-operator",
    "kessai-sandbox-subscription-secret",
];

/// Why a production secret is unusable, if it is: missing, shorter than 16
/// characters, or one of the published development values.
pub fn production_secret_problem(name: &str, value: Option<&str>) -> Option<String> {
    match value {
        None | Some("") => Some(format!("secret {name} is not set (wrangler secret put {name} --env production)")),
        Some(v) if SANDBOX_SECRET_VALUES.contains(&v) => Some(format!("secret {name} has the published development value")),
        Some(v) if v.len() < 16 => Some(format!("secret {name} is shorter than 16 characters")),
        Some(_) => None,
    }
}

/// Whether a URL a production Worker talks to or sends shoppers to is
/// acceptable: `https`, with a host name (not an IP address, not
/// `localhost`, not a single label).
pub fn production_url_ok(url: &shared::url::HttpUrl) -> bool {
    let host = url.host().trim_start_matches('[').trim_end_matches(']');
    url.scheme() == "https"
        && host.contains('.')
        && !host.ends_with('.')
        && !host.eq_ignore_ascii_case("localhost")
        && !host.to_ascii_lowercase().ends_with(".localhost")
        && host.parse::<std::net::IpAddr>().is_err()
        && !host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// The rule for merchants' URLs (allowed origins, webhook URL): in
/// production [`production_url_ok`]; in development any http(s) URL.
pub fn merchant_url_ok(url: &shared::url::HttpUrl, production: bool) -> bool {
    !production || production_url_ok(url)
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
    env.secret(name)
        .or_else(|_| env.var(name))
        .map(|v| v.to_string())
        .map_err(|_| worker::Error::RustError(format!("configuration {name} is missing")))
}

impl Config {
    pub fn from_env(env: &Env) -> worker::Result<Config> {
        let public_base_url = var(env, "PUBLIC_BASE_URL")?.trim_end_matches('/').to_string();
        let au_notify_url = var(env, "AU_NOTIFY_URL").unwrap_or_else(|_| format!("{public_base_url}/provider/au/notify"));
        Config {
            au_notify_url,
            operator_token: var(env, "OPERATOR_TOKEN").unwrap_or_default(),
            subscription_secret: var(env, "SUBSCRIPTION_SECRET")?,
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
            sandbox: cfg!(feature = "sandbox") && var(env, "SANDBOX").map(|v| v == "on").unwrap_or(false),
            production: PRODUCTION,
        }
        .checked(env)
    }

    /// A production Worker refuses to run (every request is answered 500
    /// and the reason logged) unless its secrets are real and its own and
    /// the providers' URLs are `https`.
    fn checked(self, env: &Env) -> worker::Result<Config> {
        if !self.production {
            return Ok(self);
        }
        for name in SECRETS {
            let value = var(env, name).ok();
            if let Some(problem) = production_secret_problem(name, value.as_deref()) {
                return Err(worker::Error::RustError(problem));
            }
        }
        let urls = [
            ("PUBLIC_BASE_URL", &self.public_base_url),
            ("NETCASH_BASE_URL", &self.netcash.base_url),
            ("PREPAID_BASE_URL", &self.prepaid.base_url),
            ("CYBERSOURCE_BASE_URL", &self.cybersource.base_url),
            ("AU_BASE_URL", &self.au.base_url),
            ("NP_BASE_URL", &self.np.endpoint.base_url),
        ];
        // Our own and the providers' URLs are operators' configuration:
        // https is required (`wrangler dev --env production
        // --local-protocol https` serves https://127.0.0.1 locally). Only
        // to pay against a local sandboxes' Worker (`cargo xtask dev
        // --production`), `LOCAL_SANDBOX_PROVIDERS = "on"` lets provider
        // URLs be `http://127.0.0.1:<port>` — loopback, which reaches nothing
        // on Cloudflare's network.
        let local_sandboxes = var(env, "LOCAL_SANDBOX_PROVIDERS").is_ok_and(|v| v == "on");
        for (name, url) in urls {
            let loopback_ok = local_sandboxes && name != "PUBLIC_BASE_URL" && local_sandbox_url(url);
            if !loopback_ok && !shared::url::HttpUrl::parse(url).is_some_and(|u| u.scheme() == "https") {
                return Err(worker::Error::RustError(format!("{name} must be an https URL in production")));
            }
        }
        Ok(self)
    }
}

/// `http://127.0.0.1:<port>/…`: a sandboxes' Worker on this machine.
fn local_sandbox_url(url: &str) -> bool {
    url.strip_prefix("http://127.0.0.1:").and_then(|rest| rest.split('/').next()).is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::url::HttpUrl;

    #[test]
    fn only_loopback_sandboxes_may_be_plain_http() {
        assert!(local_sandbox_url("http://127.0.0.1:8788/sandbox/netcash"));
        assert!(!local_sandbox_url("http://127.0.0.1.evil.example:80/x"));
        assert!(!local_sandbox_url("http://10.0.0.1:8788/sandbox"));
        assert!(!local_sandbox_url("http://localhost:8788/sandbox"));
        assert!(!local_sandbox_url("https://127.0.0.1:8788/sandbox"));
    }

    #[test]
    fn production_secrets_must_be_real() {
        assert!(production_secret_problem("OPERATOR_TOKEN", None).unwrap().contains("not set"));
        assert!(production_secret_problem("OPERATOR_TOKEN", Some("")).is_some());
        assert!(production_secret_problem("OPERATOR_TOKEN", Some("kessai-sandbox-operator")).unwrap().contains("development"));
        assert!(production_secret_problem("NP_API_SECRET", Some("np-sandbox-api-secret")).is_some());
        assert!(production_secret_problem("AU_API_SECRET", Some("short")).unwrap().contains("16"));
        assert_eq!(production_secret_problem("AU_API_SECRET", Some("0123456789abcdef0123")), None);
    }

    #[test]
    fn production_urls_are_https_host_names() {
        let ok = |s: &str| production_url_ok(&HttpUrl::parse(s).unwrap());
        assert!(ok("https://shop.example.jp/return"));
        assert!(ok("https://shop.example:8443/notify"));
        assert!(!ok("http://shop.example.jp/return"));
        assert!(!ok("https://127.0.0.1/notify"));
        assert!(!ok("https://10.0.0.1:8443/notify"));
        assert!(!ok("https://localhost/notify"));
        assert!(!ok("https://app.localhost/notify"));
        assert!(!ok("https://intranet/notify"));
        assert!(merchant_url_ok(&HttpUrl::parse("http://127.0.0.1:4000/notify").unwrap(), false));
        assert!(!merchant_url_ok(&HttpUrl::parse("http://127.0.0.1:4000/notify").unwrap(), true));
    }
}

/// How long a provider call may take (`PROVIDER_TIMEOUT_MS`, default 15 s):
/// past it the answer is unclear and the operation is reconciled.
fn provider_timeout_ms(env: &Env) -> u32 {
    env.var("PROVIDER_TIMEOUT_MS").ok().and_then(|v| v.to_string().parse().ok()).filter(|ms| *ms >= 100).unwrap_or(15_000)
}
