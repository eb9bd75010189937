//! Absolute http(s) URLs that a merchant may send shoppers and
//! notifications to, and the origin rules that decide which are allowed.

use serde::{Deserialize, Serialize};

/// A checked absolute `http` or `https` URL without user info, whitespace
/// or control characters, at most 512 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HttpUrl {
    url: String,
    scheme_len: usize,
    host: String,
    port: u16,
}

impl HttpUrl {
    pub fn parse(s: &str) -> Option<HttpUrl> {
        if s.len() > 512 || s.chars().any(|c| c.is_control() || c.is_whitespace() || !c.is_ascii()) {
            return None;
        }
        let (scheme, rest) = s.split_once("://")?;
        let default_port = match scheme {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if authority.contains('@') || authority.is_empty() {
            return None;
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (h, p.parse::<u16>().ok().filter(|&p| p != 0)?)
            }
            _ => (authority, default_port),
        };
        let host_ok = !host.is_empty()
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
        if !host_ok {
            return None;
        }
        Some(HttpUrl { url: s.to_string(), scheme_len: scheme.len(), host: host.to_ascii_lowercase(), port })
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }
    pub fn scheme(&self) -> &str {
        &self.url[..self.scheme_len]
    }
    pub fn host(&self) -> &str {
        &self.host
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    /// `scheme://host:port`, the port always written.
    pub fn origin(&self) -> String {
        format!("{}://{}:{}", self.scheme(), self.host, self.port)
    }
}

impl TryFrom<String> for HttpUrl {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        HttpUrl::parse(&s).ok_or("not an absolute http(s) URL")
    }
}

impl From<HttpUrl> for String {
    fn from(u: HttpUrl) -> String {
        u.url
    }
}

/// An allowed origin: `https://shop.example` (default port only),
/// `https://shop.example:8443`, or `http://127.0.0.1:*` (any port).
/// Written without a port and with the scheme `http` for the loopback
/// hosts, it means any port, as PRODUCT §9 gives the sandbox merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OriginRule {
    text: String,
    scheme: String,
    host: String,
    /// `None`: any port.
    port: Option<u16>,
}

impl OriginRule {
    pub fn parse(s: &str) -> Option<OriginRule> {
        let any_port = s.ends_with(":*");
        let base = s.strip_suffix(":*").unwrap_or(s);
        let url = HttpUrl::parse(base)?;
        let rest = &base[url.scheme().len() + 3..];
        if rest.contains(['/', '?', '#']) {
            return None;
        }
        let explicit_port = rest.rsplit_once(':').is_some_and(|(h, _)| !h.is_empty() && !rest.ends_with(']'));
        let loopback = matches!(url.host(), "127.0.0.1" | "localhost" | "[::1]");
        let port = if any_port || (!explicit_port && loopback && url.scheme() == "http") { None } else { Some(url.port()) };
        Some(OriginRule { text: s.to_string(), scheme: url.scheme().to_string(), host: url.host().to_string(), port })
    }

    pub fn allows(&self, url: &HttpUrl) -> bool {
        self.scheme == url.scheme() && self.host == url.host() && self.port.is_none_or(|p| p == url.port())
    }
}

impl TryFrom<String> for OriginRule {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        OriginRule::parse(&s).ok_or("not an origin such as https://shop.example or http://127.0.0.1:*")
    }
}

impl From<OriginRule> for String {
    fn from(o: OriginRule) -> String {
        o.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_good_urls() {
        let u = HttpUrl::parse("https://Shop.example/thanks?o=1").unwrap();
        assert_eq!((u.scheme(), u.host(), u.port()), ("https", "shop.example", 443));
        assert_eq!(u.origin(), "https://shop.example:443");
        let u = HttpUrl::parse("http://127.0.0.1:4000/ok").unwrap();
        assert_eq!(u.port(), 4000);
    }

    #[test]
    fn refuses_bad_urls() {
        for bad in [
            "",
            "/relative",
            "javascript:alert(1)",
            "ftp://x/",
            "https://user:pw@shop.example/",
            "https:///nohost",
            "https://shop.example:99999/",
            "https://shop.example:0/",
            "https://shop example/",
            "https://shop.example/\n",
            "https://ショップ.example/",
            "https://shop.example:/",
        ] {
            assert_eq!(HttpUrl::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn origin_rules() {
        let any = OriginRule::parse("http://127.0.0.1").unwrap();
        assert!(any.allows(&HttpUrl::parse("http://127.0.0.1:4000/x").unwrap()));
        assert!(any.allows(&HttpUrl::parse("http://127.0.0.1/x").unwrap()));
        assert!(!any.allows(&HttpUrl::parse("https://127.0.0.1/x").unwrap()));
        assert!(!any.allows(&HttpUrl::parse("http://127.0.0.2/x").unwrap()));
        let shop = OriginRule::parse("https://shop.example").unwrap();
        assert!(shop.allows(&HttpUrl::parse("https://shop.example/ok").unwrap()));
        assert!(!shop.allows(&HttpUrl::parse("https://shop.example:8443/ok").unwrap()));
        assert!(!shop.allows(&HttpUrl::parse("https://shop.example.evil.test/ok").unwrap()));
        let wild = OriginRule::parse("https://shop.example:*").unwrap();
        assert!(wild.allows(&HttpUrl::parse("https://shop.example:8443/ok").unwrap()));
        assert_eq!(OriginRule::parse("https://shop.example/path"), None);
    }
}
