//! Payment methods, purchase kinds and device classes, and which methods a
//! checkout may offer.

use serde::{Deserialize, Serialize};

use crate::money::Yen;

/// A payment method of the hosted page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Netcash,
    Prepaid,
    Np,
    Au,
    Card,
}

impl Method {
    pub const ALL: [Method; 5] = [Method::Netcash, Method::Prepaid, Method::Np, Method::Au, Method::Card];

    /// The wire name used in `pay_method`, `res_pay_method` and the API.
    pub fn code(self) -> &'static str {
        match self {
            Method::Netcash => "netcash",
            Method::Prepaid => "prepaid",
            Method::Np => "np",
            Method::Au => "au",
            Method::Card => "card",
        }
    }

    pub fn from_code(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.code() == s)
    }
}

/// `pay_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayType {
    OneTime,
    RecurringSimple,
    RecurringFixed,
}

impl PayType {
    pub fn code(self) -> &'static str {
        match self {
            PayType::OneTime => "one_time",
            PayType::RecurringSimple => "recurring_simple",
            PayType::RecurringFixed => "recurring_fixed",
        }
    }
    pub fn from_code(s: &str) -> Option<PayType> {
        [PayType::OneTime, PayType::RecurringSimple, PayType::RecurringFixed].into_iter().find(|p| p.code() == s)
    }
}

/// `sales_mode`: capture at once, or authorize and let the merchant settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SalesMode {
    Auto,
    Specified,
}

impl SalesMode {
    pub fn code(self) -> &'static str {
        match self {
            SalesMode::Auto => "auto",
            SalesMode::Specified => "specified",
        }
    }
    pub fn from_code(s: &str) -> Option<SalesMode> {
        [SalesMode::Auto, SalesMode::Specified].into_iter().find(|p| p.code() == s)
    }
}

/// The shopper's device class (`terminal_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    Pc,
    Smartphone,
    /// Feature-phone browsers.
    Mobile,
}

impl Device {
    pub fn code(self) -> &'static str {
        match self {
            Device::Pc => "pc",
            Device::Smartphone => "smartphone",
            Device::Mobile => "mobile",
        }
    }
    pub fn from_code(s: &str) -> Option<Device> {
        [Device::Pc, Device::Smartphone, Device::Mobile].into_iter().find(|p| p.code() == s)
    }

    /// Guesses the device class from a `User-Agent` header.
    pub fn detect(user_agent: &str) -> Device {
        let ua = user_agent.to_ascii_lowercase();
        let feature_phone = ["docomo/", "kddi-", "up.browser", "softbank/", "vodafone/", "j-phone/", "willcom"];
        if feature_phone.iter().any(|p| ua.contains(p)) {
            Device::Mobile
        } else if ["iphone", "android", "mobile", "ipod", "windows phone"].iter().any(|p| ua.contains(p)) {
            Device::Smartphone
        } else {
            Device::Pc
        }
    }
}

/// What one method supports, from PRODUCT §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodRules {
    pub method: Method,
    pub pay_types: &'static [PayType],
    pub sales_modes: &'static [SalesMode],
    pub devices: &'static [Device],
    /// The largest amount the method takes, if it has one of its own.
    pub max_amount: Option<Yen>,
}

const ALL_DEVICES: &[Device] = &[Device::Pc, Device::Smartphone, Device::Mobile];

/// The table of PRODUCT §2 as data.
pub const RULES: [MethodRules; 5] = [
    MethodRules {
        method: Method::Netcash,
        pay_types: &[PayType::OneTime],
        sales_modes: &[SalesMode::Auto],
        devices: ALL_DEVICES,
        max_amount: None,
    },
    MethodRules {
        method: Method::Prepaid,
        pay_types: &[PayType::OneTime],
        sales_modes: &[SalesMode::Auto],
        devices: ALL_DEVICES,
        max_amount: None,
    },
    MethodRules {
        method: Method::Np,
        pay_types: &[PayType::OneTime, PayType::RecurringSimple, PayType::RecurringFixed],
        sales_modes: &[SalesMode::Auto, SalesMode::Specified],
        devices: ALL_DEVICES,
        max_amount: Some(Yen::new(54_000)),
    },
    MethodRules {
        method: Method::Au,
        pay_types: &[PayType::OneTime, PayType::RecurringSimple, PayType::RecurringFixed],
        sales_modes: &[SalesMode::Auto, SalesMode::Specified],
        devices: &[Device::Pc, Device::Smartphone],
        max_amount: None,
    },
    MethodRules {
        method: Method::Card,
        pay_types: &[PayType::OneTime],
        sales_modes: &[SalesMode::Auto, SalesMode::Specified],
        devices: &[Device::Pc, Device::Smartphone],
        max_amount: None,
    },
];

pub fn rules(method: Method) -> &'static MethodRules {
    RULES.iter().find(|r| r.method == method).expect("every method has rules")
}

/// Why a method is not offered on a checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unavailable {
    NotEnabled,
    NotRequested,
    PayType,
    SalesMode,
    Device,
    Amount,
    /// The method has no working integration in this build yet.
    NotImplemented,
    Maintenance,
}

/// The facts a method's availability depends on.
#[derive(Debug, Clone)]
pub struct Checkout<'a> {
    pub enabled: &'a [Method],
    /// `pay_method` of the request; empty means every enabled method.
    pub requested: &'a [Method],
    pub pay_type: PayType,
    pub sales_mode: SalesMode,
    pub device: Device,
    pub amount: Yen,
    pub implemented: &'a [Method],
    pub under_maintenance: &'a [Method],
    /// Provider settings that replace a method's `max_amount` (NP's limit
    /// is a provider setting: 54,000 yen by default, since raised to 55,000
    /// by Net Protections).
    pub max_amounts: &'a [(Method, Yen)],
}

/// Whether `method` may be offered on this checkout, and if not, why.
pub fn availability(method: Method, c: &Checkout<'_>) -> Result<(), Unavailable> {
    let r = rules(method);
    if !c.enabled.contains(&method) {
        return Err(Unavailable::NotEnabled);
    }
    if !c.requested.is_empty() && !c.requested.contains(&method) {
        return Err(Unavailable::NotRequested);
    }
    if !c.implemented.contains(&method) {
        return Err(Unavailable::NotImplemented);
    }
    if !r.pay_types.contains(&c.pay_type) {
        return Err(Unavailable::PayType);
    }
    if !r.sales_modes.contains(&c.sales_mode) {
        return Err(Unavailable::SalesMode);
    }
    if !r.devices.contains(&c.device) {
        return Err(Unavailable::Device);
    }
    let max = c.max_amounts.iter().find(|(m, _)| *m == method).map(|&(_, y)| y).or(r.max_amount);
    if max.is_some_and(|max| c.amount > max) {
        return Err(Unavailable::Amount);
    }
    if c.under_maintenance.contains(&method) {
        return Err(Unavailable::Maintenance);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkout(pay_type: PayType, sales_mode: SalesMode, device: Device, amount: u64) -> Checkout<'static> {
        Checkout {
            enabled: &Method::ALL,
            requested: &[],
            pay_type,
            sales_mode,
            device,
            amount: Yen::new(amount),
            implemented: &Method::ALL,
            under_maintenance: &[],
            max_amounts: &[],
        }
    }

    #[test]
    fn availability_table() {
        use Device::*;
        use PayType::*;
        use SalesMode::*;
        use Unavailable as U;
        let table: &[(Method, PayType, SalesMode, Device, u64, Result<(), Unavailable>)] = &[
            (Method::Netcash, OneTime, Auto, Mobile, 1000, Ok(())),
            (Method::Netcash, RecurringSimple, Auto, Pc, 1000, Err(U::PayType)),
            (Method::Netcash, OneTime, Specified, Pc, 1000, Err(U::SalesMode)),
            (Method::Prepaid, RecurringFixed, Auto, Pc, 1000, Err(U::PayType)),
            (Method::Au, OneTime, Specified, Smartphone, 1000, Ok(())),
            (Method::Au, OneTime, Auto, Mobile, 1000, Err(U::Device)),
            (Method::Np, OneTime, Auto, Pc, 54_000, Ok(())),
            (Method::Np, OneTime, Auto, Pc, 54_001, Err(U::Amount)),
            (Method::Card, OneTime, Specified, Mobile, 1000, Err(U::Device)),
            (Method::Card, RecurringSimple, Auto, Pc, 1000, Err(U::PayType)),
        ];
        for &(m, pt, sm, d, amount, want) in table {
            assert_eq!(availability(m, &checkout(pt, sm, d, amount)), want, "{m:?} {pt:?} {sm:?} {d:?} {amount}");
        }
    }

    #[test]
    fn a_provider_setting_replaces_the_tables_cap() {
        let raised = [(Method::Np, Yen::new(55_000))];
        let lowered = [(Method::Np, Yen::new(30_000))];
        let mut c = checkout(PayType::OneTime, SalesMode::Auto, Device::Pc, 55_000);
        assert_eq!(availability(Method::Np, &c), Err(Unavailable::Amount));
        c.max_amounts = &raised;
        assert_eq!(availability(Method::Np, &c), Ok(()));
        c.max_amounts = &lowered;
        c.amount = Yen::new(30_001);
        assert_eq!(availability(Method::Np, &c), Err(Unavailable::Amount));
        assert_eq!(availability(Method::Netcash, &c), Ok(()), "other methods keep their own rule");
    }

    #[test]
    fn merchant_and_request_narrow_the_list() {
        let mut c = checkout(PayType::OneTime, SalesMode::Auto, Device::Pc, 1000);
        c.enabled = &[Method::Netcash, Method::Card];
        c.requested = &[Method::Card, Method::Au];
        assert_eq!(availability(Method::Netcash, &c), Err(Unavailable::NotRequested));
        assert_eq!(availability(Method::Au, &c), Err(Unavailable::NotEnabled));
        assert_eq!(availability(Method::Card, &c), Ok(()));
        c.under_maintenance = &[Method::Card];
        assert_eq!(availability(Method::Card, &c), Err(Unavailable::Maintenance));
    }

    #[test]
    fn device_detection() {
        assert_eq!(Device::detect("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"), Device::Smartphone);
        assert_eq!(Device::detect("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari"), Device::Smartphone);
        assert_eq!(Device::detect("KDDI-CA3H UP.Browser/6.2"), Device::Mobile);
        assert_eq!(Device::detect("DoCoMo/2.0 N905i"), Device::Mobile);
        assert_eq!(Device::detect("Mozilla/5.0 (X11; Linux x86_64) Chrome/156"), Device::Pc);
    }
}
