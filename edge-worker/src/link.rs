//! `POST /link/purchase`: the signed purchase request from the shopper's
//! browser. Every refusal is an error page; nothing is redirected to a URL
//! from a request that did not verify.

use shared::methods::{availability, Checkout, Device, Method, Unavailable};
use shared::money::Yen;
use shared::payment::{Amounts, Status};
use shared::purchase::{PurchaseError, PurchaseRequest};
use worker::{Env, Request, Response};

use crate::config::Config;
use crate::html;
use crate::payment_do::{Offer, Payment};
use crate::store::{self, Merchant};
use crate::util;

/// Methods with a working integration in this build.
pub const IMPLEMENTED: &[Method] = &[Method::Netcash, Method::Prepaid, Method::Card, Method::Au, Method::Np];

/// au in this build: one-time purchases whose `item_name` KDDI takes (at
/// most 20 characters; KDDI shows the first 16).
fn au_offerable(req: &PurchaseRequest, merchant: &Merchant) -> bool {
    // What the merchant's au contract takes (the seed's combination table:
    // with WebMoney, no one-time charges; with the card, no fixed term).
    let au = merchant.contracts.au();
    let by_contract = match req.pay_type {
        shared::methods::PayType::OneTime => au.one_time,
        shared::methods::PayType::RecurringSimple => au.recurring_simple,
        shared::methods::PayType::RecurringFixed => au.recurring_fixed,
    } && match (req.pay_type, req.sales_mode) {
        // A subscription's own sales: monthly charges automatic, fixed-term
        // purchases specified (the seed's basic specifications).
        (shared::methods::PayType::RecurringSimple, _) => au.automatic_sales,
        (shared::methods::PayType::RecurringFixed, _) => au.specified_sales,
        (_, shared::methods::SalesMode::Auto) => au.automatic_sales,
        (_, shared::methods::SalesMode::Specified) => au.specified_sales,
    };
    by_contract && shared::au::item_name_fits(&req.item_name)
}

const MAX_BODY: usize = 16 * 1024;

fn refusal(e: &PurchaseError) -> (u16, String, String) {
    use PurchaseError as E;
    match e {
        E::UnknownField(f) => (400, format!("購入リクエストに不明な項目「{f}」があります。"), format!("The purchase request has an unknown field \"{f}\".")),
        E::DuplicateField(f) => (400, format!("項目「{f}」が重複しています。"), format!("The field \"{f}\" appears more than once.")),
        E::Missing(f) => (400, format!("必須項目「{f}」がありません。"), format!("The required field \"{f}\" is missing.")),
        E::Invalid { field, why } => (400, format!("項目「{field}」の値が正しくありません（{why}）。"), format!("The field \"{field}\" is invalid: {why}.")),
        E::UnknownMerchant => (403, "加盟店が登録されていません。".into(), "The merchant is not registered.".into()),
        E::BadSignature => (403, "購入リクエストの署名（hashcode）が一致しません。".into(), "The purchase request's signature (hashcode) does not match.".into()),
        E::Stale => (400, "購入リクエストの有効期限が切れています。".into(), "The purchase request has expired (request_date is older than limit_second allows).".into()),
        E::FromTheFuture => (400, "request_date が未来の日時です。".into(), "request_date is more than 5 minutes in the future.".into()),
        E::UrlNotAllowed(f) => (403, format!("「{f}」は加盟店に登録されたオリジンではありません。"), format!("{f} is not on an origin the merchant registered.")),
        E::OrderIdReused => (409, "この注文番号（order_id）はすでに使われています。".into(), "This order_id has already been used.".into()),
        E::NoMethodAvailable => (422, "この購入に使えるお支払い方法がありません。".into(), "No payment method can take this purchase (methods, pay_type, device or amount).".into()),
    }
}

fn refuse(e: PurchaseError) -> worker::Result<Response> {
    let (status, ja, en) = refusal(&e);
    html::error_page(status, e.code(), &ja, &en)
}

/// The methods the page shows: available ones, and those under
/// maintenance with the reason.
pub fn offers(merchant: &Merchant, req: &PurchaseRequest, device: Device, config: &Config, under_maintenance: &[Method]) -> Vec<Offer> {
    // The merchant's own NP limit, never above NP's.
    let np_limit = merchant.contracts.np_limit_yen.map_or(config.np.limit_yen, |l| l.min(config.np.limit_yen));
    let max_amounts = [(Method::Np, Yen::new(np_limit))];
    let c = Checkout {
        enabled: &merchant.methods,
        requested: &req.pay_method,
        pay_type: req.pay_type,
        sales_mode: req.sales_mode,
        device,
        amount: req.amount,
        implemented: IMPLEMENTED,
        under_maintenance,
        max_amounts: &max_amounts,
    };
    Method::ALL
        .into_iter()
        .filter_map(|m| match availability(m, &c) {
            Ok(()) if m == Method::Au && !au_offerable(req, merchant) => None,
            Ok(()) => Some(Offer { method: m, available: true, reason: None }),
            Err(Unavailable::Maintenance) => Some(Offer { method: m, available: false, reason: Some(Unavailable::Maintenance) }),
            Err(_) => None,
        })
        .collect()
}

/// Creates the checkout of an authenticated purchase request: the payment
/// index row (reserving the order id) and the payment's object. Shared by
/// the link form and `POST /v1/checkouts`.
pub async fn create(
    env: &Env,
    config: &Config,
    db: &worker::D1Database,
    merchant: &Merchant,
    request: PurchaseRequest,
    device: Device,
    // The purchase request's context: its row then goes in with those of
    // concurrent purchase requests (`reserve`); without, it is written alone.
    ctx: Option<&worker::Context>,
) -> worker::Result<Result<String, PurchaseError>> {
    let now = crate::clock::Clock::load(env, config).await?.now();
    let maintenance = store::methods_under_maintenance(db, now.0).await?;
    let offers = offers(merchant, &request, device, config, &maintenance);
    if !offers.iter().any(|o| o.available) {
        return Ok(Err(PurchaseError::NoMethodAvailable));
    }
    if request.pay_type == shared::methods::PayType::RecurringFixed && shared::recurring::check_fixed_item_name(&request.item_name) == shared::recurring::ItemNameCheck::TooLong {
        return Ok(Err(PurchaseError::Invalid {
            field: "item_name",
            why: "a fixed-term subscription's item_name says the item and the billing timing in at most 20 (double-byte) characters",
        }));
    }
    let payment_id = util::new_id("pay");
    let expires_at = now.0 + request.limit_second as i64;
    let recurring = shared::recurring::Kind::from_pay_type(request.pay_type).map(|kind| crate::payment_do::Recurring::Registration {
        subscription_id: shared::recurring::subscription_id(&payment_id),
        kind,
        charges_now: kind == shared::recurring::Kind::Simple && merchant.recurring.charge_first_month,
        registered: false,
        sealed_buyer: None,
        retry_at: None,
    });
    let payment = Payment {
        id: payment_id.clone(),
        merchant_id: request.merchant_id,
        service_id: request.service_id,
        merchant_name: merchant.name.clone(),
        order_id: request.order_id,
        cust_code: request.cust_code,
        item_id: request.item_id,
        item_name: request.item_name,
        amount: request.amount,
        tax: request.tax,
        pay_type: request.pay_type,
        sales_mode: request.sales_mode,
        device,
        offers,
        success_url: request.success_url.into(),
        cancel_url: request.cancel_url.into(),
        error_url: request.error_url.into(),
        pagecon_url: request.pagecon_url.into(),
        free: [request.free1, request.free2, request.free3],
        created_at: now.0,
        expires_at,
        status: Status::Pending,
        amounts: Amounts::default(),
        method: None,
        attempts: 0,
        provider_ref: None,
        instrument: None,
        paid_at: None,
        last_error: None,
        merchant_answer: None,
        history: vec![crate::payment_do::HistoryEntry { at: now.0, status: Status::Pending, note: "checkout opened".into() }],
        events: vec![],
        batch_refunds: vec![],
        journal: Default::default(),
        recurring,
    };
    // The payment's object takes the record from D1 on first use: a
    // checkout costs one D1 write, and no object exists for pages nobody
    // opens until a sweep expires them.
    let row = crate::reserve::row(&payment, now.0)?;
    let written = match ctx {
        Some(ctx) => crate::reserve::reserve(env, ctx, config.sandbox, row).await?,
        None => store::insert_payment(db, &row).await?,
    };
    if !written {
        return Ok(Err(PurchaseError::OrderIdReused));
    }
    Ok(Ok(payment_id))
}

pub async fn purchase(mut req: Request, env: &Env, config: &Config, ctx: &worker::Context) -> worker::Result<Response> {
    let ctype = req.headers().get("content-type")?.unwrap_or_default();
    if !ctype.starts_with("application/x-www-form-urlencoded") {
        return html::error_page(
            415,
            "unsupported_media_type",
            "購入リクエストはフォーム（application/x-www-form-urlencoded）で送信してください。",
            "Send the purchase request as an HTML form (application/x-www-form-urlencoded).",
        );
    }
    let body = req.bytes().await?;
    if body.len() > MAX_BODY {
        return html::error_page(413, "request_too_large", "購入リクエストが大きすぎます。", "The purchase request is too large.");
    }
    let Some(form) = std::str::from_utf8(&body).ok().and_then(util::parse_form) else {
        return html::error_page(400, "malformed_form", "フォームを読み取れません（UTF-8）。", "The form could not be read (it must be UTF-8).");
    };
    let request = match PurchaseRequest::parse(&form) {
        Ok(r) => r,
        Err(e) => return refuse(e),
    };
    let db = store::db(env, config.sandbox).await?;
    let Some(merchant) = store::find_merchant_cached(&db, &request.merchant_id, &request.service_id).await? else {
        return refuse(PurchaseError::UnknownMerchant);
    };
    // Freshness is checked against real time, as the merchant's clock
    // signed it; the payment's own times are business time.
    if let Err(e) = request.authenticate(&merchant.key_bytes(), &merchant.origins, util::now()) {
        return refuse(e);
    }
    // Only a signed request learns that its merchant is suspended.
    if merchant.suspended_at.is_some() {
        return html::error_page(
            403,
            "merchant_suspended",
            "このショップは現在お支払いを受け付けていません。",
            "This shop is not accepting payments at the moment.",
        );
    }
    let device = request
        .terminal_type
        .unwrap_or_else(|| Device::detect(&req.headers().get("user-agent").ok().flatten().unwrap_or_default()));
    let au_asked = merchant.methods.contains(&Method::Au) && (request.pay_method.is_empty() || request.pay_method.contains(&Method::Au));
    let au_name_too_long = au_asked && !shared::au::item_name_fits(&request.item_name);
    let payment_id = match create(env, config, &db, &merchant, request, device, Some(ctx)).await? {
        Ok(id) => id,
        Err(PurchaseError::NoMethodAvailable) if au_name_too_long => {
            return html::error_page(
                422,
                "au_item_name_too_long",
                "auかんたん決済の商品名（item_name）は全角20文字以内です（KDDI の画面には先頭16文字のみ表示されます）。",
                "For au Kantan Kessai, item_name is at most 20 (double-byte) characters; KDDI shows only the first 16.",
            );
        }
        Err(e) => return refuse(e),
    };
    let mut r = Response::empty()?.with_status(303);
    r.headers_mut().set("location", &format!("/pay/{payment_id}"))?;
    r.headers_mut().set("cache-control", "no-store")?;
    Ok(r)
}
