// au Kantan Kessai (PRODUCT §2 au, §3, §4, §9; seed 003) against the real
// Worker and its KDDI sandbox: over HTTP, following the redirect and the au
// sandbox's forms with fetch, and in Chromium at 360 px. The merchant's side
// (signatures of the result, of the sandbox API) is computed here
// independently of the Rust code. Tests that move the sandbox clock come
// last: the clock only moves forward.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  ARTIFACTS, advanceClock, api, eventually, hiddenFields, launchChromium, openCheckout, returnForm, postPurchase, purchase, signedApi, postForm, startMerchant, startWorker, verifyReturnForm,
} from './lib/harness.mjs';

const AU_SECRET = 'au-sandbox-api-secret';
const AU_MERCHANT = 'AU0001';
const RESULT_FIELDS = ['merchant_code', 'transaction_id', 'service_ref', 'result', 'error_code', 'payment_method', 'open_id',
  'amount', 'started_at', 'completed_at', 'timestamp'];
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true,
  userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36' };

let worker;
let merchant;
let browser;

before(async () => {
  merchant = await startMerchant();
  worker = await startWorker();
  merchant.workerBase = worker.base;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await worker?.stop();
  await merchant?.close();
});
beforeEach(() => merchant.reset());

let seq = 0;
/** A purchase for au, with a customer code of its own (so no OpenID link carries over between tests). */
function auPurchase(overrides = {}) {
  seq += 1;
  return purchase(merchant, { pay_method: 'au', cust_code: `au-cust-${process.pid}-${Date.now()}-${seq}`, ...overrides });
}

const hidden = (html, name) => hiddenFields(html)[name];

/** The auto-submitted form of a page: its action and fields. */
/** The signature of an au result, as KDDI computes it (RFC 3986 canonical string, HMAC-SHA256 hex). */
function signResult(fields, secret = AU_SECRET) {
  const enc = (v) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  const canonical = RESULT_FIELDS.map((n) => `${n}=${enc(String(fields[n] ?? ''))}`).join('&');
  return createHmac('sha256', secret).update(canonical, 'utf8').digest('hex');
}

/** A call to the au sandbox's server API, signed as the connector signs it. */
async function kddi(method, path, body) {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const ts = Math.floor(Date.now() / 1000);
  const sig = 'v1=' + createHmac('sha256', AU_SECRET).update(`${ts}.${method}.${path}.${raw}`).digest('hex');
  const res = await fetch(`${worker.base}/sandbox/au${path}`, {
    method,
    headers: { 'x-au-merchant': AU_MERCHANT, 'x-au-timestamp': String(ts), 'x-au-signature': sig, ...(raw ? { 'content-type': 'application/json' } : {}) },
    body: raw || undefined,
  });
  return { status: res.status, json: await res.json() };
}

const form = postForm;

async function startAu(pay) {
  const r = await api(worker, 'POST', `/pay/${pay}/au`, {});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'redirect');
  assert.equal(r.json.next, null);
  assert.ok(r.json.redirect_url.startsWith(`${worker.base}/sandbox/au/authorize?tx=`), r.json.redirect_url);
  return r.json.redirect_url;
}

/** The shopper arrives on KDDI's page (the start on the au side). */
async function arrive(url) {
  const res = await fetch(url);
  return { status: res.status, html: await res.text(), headers: res.headers };
}

const login = (html, auId, password = 'any-password') =>
  form(`${worker.base}/sandbox/au/login`, { tx: hidden(html, 'tx'), au_id: auId, password });

const confirm = (html, paymentMethod = 'au_phone_bill', action = 'pay') =>
  form(`${worker.base}/sandbox/au/complete`, { tx: hidden(html, 'tx'), ticket: hidden(html, 'ticket') ?? '', payment_method: paymentMethod, action });

/** Posts the au result back to the Worker, as the shopper's browser does. */
const postReturn = (action, fields) => form(action, fields);

/** A whole au payment over HTTP up to KDDI's result form (not yet posted back). */
async function auResult(pay, { auId = 'au-ok', method = 'au_phone_bill' } = {}) {
  const page = await arrive(await startAu(pay));
  let confirmPage = page.html;
  if (page.html.includes('id="au-id"')) {
    const l = await login(page.html, auId);
    assert.equal(l.status, 200, l.html);
    confirmPage = l.html;
  }
  const done = await confirm(confirmPage, method);
  assert.equal(done.status, 200);
  return returnForm(done.html);
}

async function session(pay) {
  return (await api(worker, 'GET', `/pay/${pay}/session`)).json;
}

/** Follows the Worker's return page to the merchant's success/cancel/error page. */
async function backToShop(pay) {
  const { action, fields } = returnForm(await (await fetch(`${worker.base}/pay/${pay}/return`)).text());
  const r = await form(action, fields);
  assert.equal(r.status, 200);
  return merchant.returns.at(-1);
}

describe('au Kantan Kessai over HTTP', () => {
  it('pays (automatic sales): au login, method choice, signed result back, merchant notified, shopper on success_url', async () => {
    const fields = auPurchase();
    const pay = await openCheckout(worker, fields);
    assert.deepEqual((await session(pay)).methods.map((m) => m.method), ['au']);

    const url = await startAu(pay);
    assert.equal((await session(pay)).status, 'processing');
    const login1 = await arrive(url);
    assert.equal(login1.status, 200);
    assert.match(login1.html, /<label for="au-id">/);
    assert.match(login1.html, /<label for="au-password">/);
    assert.match(login1.html, /name="viewport" content="width=device-width/);
    assert.match(login1.headers.get('content-security-policy'), /form-action 'self'/);
    assert.match(login1.headers.get('content-security-policy'), /frame-ancestors 'none'/);
    assert.ok(!/<script/.test(login1.html), 'KDDI-style pages need no script');

    const wrong = await login(login1.html, 'nobody');
    assert.equal(wrong.status, 401);
    assert.match(wrong.html, /id="au-error" role="alert"/);
    const l = await login(wrong.html, 'au-ok');
    assert.equal(l.status, 200);
    for (const m of ['au_phone_bill', 'uq_mobile_bill', 'au_pay_balance', 'au_pay_card']) assert.match(l.html, new RegExp(`<label for="pm-${m}">`));
    assert.match(l.html, /緑茶 200g/);
    assert.match(l.html, /1,100 円/);

    const done = await confirm(l.html, 'au_pay_balance');
    const { action, fields: result } = returnForm(done.html);
    assert.equal(action, `${worker.base}/pay/${pay}/au/return`);
    assert.match(done.headers.get('content-security-policy'), new RegExp(`form-action [^;]*${worker.base.replace(/[.]/g, '\\.')}`));
    assert.equal(result.result, 'OK');
    assert.equal(result.payment_method, 'au_pay_balance');
    assert.equal(result.service_ref, `${pay}-1`);
    assert.equal(result.signature, signResult(result), 'the result is signed as documented');

    const back = await postReturn(action, result);
    assert.equal(back.status, 303, back.html);
    assert.equal(back.location, `/pay/${pay}/return`);

    const p = await signedApi(worker, 'GET', `/v1/payments/${pay}`);
    assert.equal(p.json.status, 'paid');
    assert.equal(p.json.method, 'au');
    assert.equal(p.json.captured, 1100);
    assert.equal(p.json.instrument, 'au Kantan Kessai (au PAY balance)');
    assert.equal(merchant.notifications.length, 1);
    const n = merchant.notifications[0];
    assert.ok(n.verified, n.error);
    assert.deepEqual([n.payload.data.method, n.payload.data.status, n.payload.data.amount], ['au', 'paid', 1100]);

    const shop = await backToShop(pay);
    assert.equal(shop.page, 'success');
    assert.ok(shop.verified);
    assert.equal(shop.fields.res_result, 'OK');
    assert.equal(shop.fields.res_pay_method, 'au');

    // The same result again (a replay) is refused and changes nothing.
    const replay = await postReturn(action, result);
    assert.equal(replay.status, 409);
    assert.match(replay.html, /au_return_not_current/);
    assert.equal((await signedApi(worker, 'GET', `/v1/payments/${pay}`)).json.status, 'paid');
    assert.equal(merchant.notifications.length, 1, 'no second notification');
  });

  for (const [auId, code] of [['au-limit', 'au_limit_exceeded'], ['au-overdue', 'au_overdue'], ['au-restricted', 'au_restricted']]) {
    it(`${auId}: refused at KDDI, back on the payment page with last_error ${code}; the shopper may retry`, async () => {
      const pay = await openCheckout(worker, auPurchase());
      const { action, fields } = await auResult(pay, { auId });
      assert.equal(fields.result, 'NG');
      // The result may also come back as a query string (GET).
      const res = await fetch(`${action}?${new URLSearchParams(fields)}`, { redirect: 'manual' });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), `/pay/${pay}`);
      const s = await session(pay);
      assert.equal(s.status, 'pending');
      assert.deepEqual(s.last_error, { code });
      assert.equal(merchant.notifications.length, 0, 'a refused attempt is no result yet');
      // Another au ID in the same checkout pays.
      const ok = await auResult(pay, { auId: 'au-ok' });
      assert.equal((await postReturn(ok.action, ok.fields)).location, `/pay/${pay}/return`);
      assert.equal((await session(pay)).status, 'paid');
    });
  }

  it('the shopper may cancel on the au page: au_cancelled, and leaving then ends the checkout on error_url', async () => {
    const pay = await openCheckout(worker, auPurchase());
    const page = await arrive(await startAu(pay));
    const cancelled = await form(`${worker.base}/sandbox/au/complete`, { tx: hidden(page.html, 'tx'), action: 'cancel' });
    const { action, fields } = returnForm(cancelled.html);
    assert.equal(fields.result, 'CANCEL');
    assert.equal((await postReturn(action, fields)).location, `/pay/${pay}`);
    assert.deepEqual((await session(pay)).last_error, { code: 'au_cancelled' });
    assert.equal((await api(worker, 'POST', `/pay/${pay}/cancel`, {})).json.status, 'failed');
    const shop = await backToShop(pay);
    assert.equal(shop.page, 'error');
    assert.equal(shop.fields.res_err_code, 'au_cancelled');
  });

  it('links the cust_code to the OpenID: the next payment skips the au login; another customer logs in', async () => {
    const cust = `linked-${Date.now()}`;
    const first = await openCheckout(worker, auPurchase({ cust_code: cust }));
    const r1 = await auResult(first);
    assert.match(r1.fields.open_id, /^oid_[0-9a-f]{32}$/);
    await postReturn(r1.action, r1.fields);

    const second = await openCheckout(worker, auPurchase({ cust_code: cust }));
    const page = await arrive(await startAu(second));
    assert.ok(!page.html.includes('id="au-id"'), 'no login');
    assert.match(page.html, /id="au-linked"/);
    const done = await confirm(page.html, 'au_phone_bill');
    const r2 = returnForm(done.html);
    assert.equal(r2.fields.open_id, r1.fields.open_id);
    assert.equal((await postReturn(r2.action, r2.fields)).location, `/pay/${second}/return`);
    assert.equal((await session(second)).status, 'paid');

    const other = await openCheckout(worker, auPurchase());
    assert.match((await arrive(await startAu(other))).html, /id="au-id"/, 'an unlinked customer logs in');
  });

  it('choosing au again while on KDDI\'s page answers the same page (double click, back button)', async () => {
    const pay = await openCheckout(worker, auPurchase());
    const url = await startAu(pay);
    assert.equal(await startAu(pay), url);
    const { action, fields } = await (async () => {
      const l = await login((await arrive(url)).html, 'au-ok');
      return returnForm((await confirm(l.html)).html);
    })();
    // Completed at KDDI but not yet back: choosing au again settles it from KDDI's status.
    const again = await api(worker, 'POST', `/pay/${pay}/au`, {});
    assert.equal(again.json.status, 'paid');
    assert.equal(again.json.next, `/pay/${pay}/return`);
    assert.equal((await postReturn(action, fields)).status, 409, 'the late return changes nothing');
    assert.equal(merchant.notifications.length, 1);
  });

  it('tampered results are refused and change nothing; KDDI\'s own answer decides; results of other payments are refused', async () => {
    const pay = await openCheckout(worker, auPurchase());
    const url = await startAu(pay);
    const tx = new URL(url).searchParams.get('tx');
    const page = await arrive(url);
    const now = (await api(worker, 'GET', '/__sandbox/clock')).json.now;
    const forged = {
      merchant_code: AU_MERCHANT, transaction_id: tx, service_ref: `${pay}-1`, result: 'OK', error_code: '', payment_method: 'au_phone_bill',
      open_id: 'oid_x', amount: '1100', started_at: String(now), completed_at: String(now), timestamp: String(now),
    };
    const action = `${worker.base}/pay/${pay}/au/return`;
    for (const bad of [
      { ...forged, signature: signResult(forged, 'not-the-au-secret') },
      { ...forged, amount: '1', signature: signResult(forged) },
      { ...forged, signature: signResult(forged).slice(0, 63) },
      { ...forged },
      { ...forged, extra: 'x', signature: signResult(forged) },
    ]) {
      const r = await postReturn(action, bad);
      assert.equal(r.status, 400, r.html);
      assert.match(r.html, /au_return_invalid/);
      assert.equal((await session(pay)).status, 'processing', 'nothing changed');
    }
    assert.equal(merchant.notifications.length, 0);

    // Declined at KDDI, and the result altered on the way back to "OK":
    // the signature fails, the Worker asks KDDI, and KDDI's "NG" counts.
    const declined = await confirm((await login(page.html, 'au-limit')).html);
    const { fields: ng } = returnForm(declined.html);
    const altered = await postReturn(action, { ...ng, result: 'OK', error_code: '', payment_method: 'au_phone_bill' });
    assert.equal(altered.location, `/pay/${pay}`);
    assert.deepEqual((await session(pay)).last_error, { code: 'au_limit_exceeded' });
    assert.equal((await postReturn(action, ng)).status, 409, 'the genuine result, applied already, is not applied twice');

    // A genuine result of another payment is refused here.
    const other = await openCheckout(worker, auPurchase());
    const r = await auResult(other);
    const cross = await postReturn(action, r.fields);
    assert.equal(cross.status, 409);
    assert.match(cross.html, /au_return_not_current/);
    assert.equal((await session(pay)).status, 'pending');
    assert.equal((await session(other)).status, 'processing');
    await postReturn(r.action, r.fields);
    assert.equal((await session(other)).status, 'paid');
  });

  it('a merchant NG rolls the au payment back at KDDI (refund of a capture, cancel of an authorization)', async () => {
    merchant.answer = 'NG,out of stock';
    for (const [mode, field, want] of [['auto', 'refunded', 1100], ['specified', 'authorized', 1100]]) {
      const pay = await openCheckout(worker, auPurchase({ sales_mode: mode }));
      const { action, fields } = await auResult(pay);
      const back = await postReturn(action, fields);
      assert.equal(back.location, `/pay/${pay}/return`);
      assert.equal((await session(pay)).status, 'rejected_by_merchant');
      const st = await kddi('GET', `/api/v1/payments/${fields.transaction_id}`);
      assert.equal(st.json[field], want);
      if (mode === 'specified') {
        const capture = await kddi('POST', `/api/v1/payments/${fields.transaction_id}/capture`, { merchant_code: AU_MERCHANT, idempotency_key: 'k1', amount: 100 });
        assert.equal(capture.json.error_code, 'E_STATE', 'the authorization was cancelled at KDDI');
      }
      assert.equal((await backToShop(pay)).fields.res_err_code, 'merchant_rejected');
    }
  });

  it('item_name: more than 20 characters is refused for au (clearly), 20 are taken and KDDI shows the first 16', async () => {
    const long = 'ワイン定期便毎月二十日請求三〇〇〇円コース';
    assert.equal([...long].length, 21);
    const refused = await postPurchase(worker, auPurchase({ item_name: long }));
    assert.equal(refused.status, 422);
    assert.match(await refused.text(), /au_item_name_too_long/);
    const withOthers = await openCheckout(worker, auPurchase({ item_name: long, pay_method: '' }));
    assert.ok(!(await session(withOthers)).methods.some((m) => m.method === 'au'), 'au is not offered');

    const twenty = 'ワイン定期便毎月二十日請求三千円新コース';
    assert.equal([...twenty].length, 20);
    const pay = await openCheckout(worker, auPurchase({ item_name: twenty }));
    const page = await arrive(await startAu(pay));
    assert.match(page.html, /<dd id="au-item">ワイン定期便毎月二十日請求三千円<\/dd>/);
  });

  it('au is not offered to feature phones; recurring purchases are offered it, with the recurring pay types only', async () => {
    const r = await postPurchase(worker, auPurchase({ terminal_type: 'mobile' }));
    assert.equal(r.status, 422);
    assert.match(await r.text(), /no_method_available/);
    for (const payType of ['recurring_simple', 'recurring_fixed']) {
      const pay = await openCheckout(worker, auPurchase({ pay_type: payType, pay_method: '' }));
      const offered = (await session(pay)).methods.filter((m) => m.available).map((m) => m.method).sort();
      assert.deepEqual(offered, ['au', 'np'], `${payType}: only au and NP take recurring billing`);
    }
    const feature = await postPurchase(worker, auPurchase({ pay_method: '' }), { headers: { 'user-agent': 'KDDI-CA3H UP.Browser/6.2' } });
    const pay = feature.headers.get('location').split('/').pop();
    assert.ok(!(await session(pay)).methods.some((m) => m.method === 'au'));
    assert.ok((await session(pay)).methods.some((m) => m.method === 'netcash'));
  });

  it('automatic sales cannot be settled or cancelled; a specified sale can be settled in part', async () => {
    const auto = await openCheckout(worker, auPurchase());
    const a = await auResult(auto);
    await postReturn(a.action, a.fields);
    const s = await signedApi(worker, 'POST', `/v1/payments/${auto}/settle`, {});
    assert.equal(s.status, 422);
    assert.equal(s.json.error.code, 'not_settleable');
    const c = await signedApi(worker, 'POST', `/v1/payments/${auto}/cancel`, {});
    assert.equal(c.json.error.code, 'not_cancellable');
    assert.match(c.json.error.message, /refund/);

    const spec = await openCheckout(worker, auPurchase({ sales_mode: 'specified' }));
    const r = await auResult(spec);
    assert.equal((await postReturn(r.action, r.fields)).location, `/pay/${spec}/return`);
    assert.equal((await signedApi(worker, 'GET', `/v1/payments/${spec}`)).json.status, 'authorized');
    assert.equal(merchant.notifications.at(-1).payload.data.status, 'authorized');
    const tooMuch = await signedApi(worker, 'POST', `/v1/payments/${spec}/settle`, { amount: 1101 });
    assert.equal(tooMuch.status, 409);
    const part = await signedApi(worker, 'POST', `/v1/payments/${spec}/settle`, { amount: 800 });
    assert.equal(part.status, 200, part.text);
    assert.deepEqual([part.json.status, part.json.captured], ['paid', 800]);
    assert.equal((await kddi('GET', `/api/v1/payments/${r.fields.transaction_id}`)).json.captured, 800);
  });
});

describe('au Kantan Kessai in Chromium (360 px)', () => {
  async function shopper(overrides) {
    const context = await browser.newContext({ ...PHONE, locale: 'ja-JP' });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    const key = `au${++seq}`;
    merchant.pages.set(key, auPurchase(overrides));
    await page.goto(`${merchant.base}/shop/${key}`);
    await page.waitForURL(/\/pay\/pay_/);
    const pay = new URL(page.url()).pathname.split('/').pop();
    return { context, page, problems, pay };
  }

  /** Chooses au from the hosted page (as its au button does) and goes to KDDI. */
  async function chooseAu(page, pay) {
    const start = await page.evaluate(async (id) => {
      const r = await fetch(`/pay/${id}/au`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return r.json();
    }, pay);
    assert.equal(start.status, 'redirect');
    await page.goto(start.redirect_url);
  }

  async function noHorizontalScroll(page) {
    const { scroll, inner } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    assert.ok(scroll <= inner, `page is ${scroll}px wide in a ${inner}px window`);
  }

  it('logs in at au, pays with au PAY balance and lands on the merchant\'s success page; the next payment skips the login', async () => {
    const cust = `browser-${Date.now()}`;
    const { context, page, problems, pay } = await shopper({ cust_code: cust });
    await chooseAu(page, pay);
    await page.getByLabel('au ID').waitFor();
    await noHorizontalScroll(page);
    await page.screenshot({ path: join(ARTIFACTS, 'au-phone-login.png'), fullPage: true });
    await page.getByLabel('au ID').fill('au-ok');
    await page.getByLabel('パスワード').fill('any-password');
    await page.locator('#au-login').click();
    await page.getByLabel(/au PAY 残高/).check();
    await noHorizontalScroll(page);
    await page.screenshot({ path: join(ARTIFACTS, 'au-phone-confirm.png'), fullPage: true });
    await page.locator('#au-pay').click();
    await page.waitForURL(`${merchant.base}/success`);
    assert.equal(await page.locator('#res-result').textContent(), 'OK');
    assert.equal(await page.locator('#verified').textContent(), 'verified');
    await page.screenshot({ path: join(ARTIFACTS, 'au-phone-success.png'), fullPage: true });
    assert.equal(merchant.returns.at(-1).fields.res_pay_method, 'au');
    assert.deepEqual(problems, []);
    await context.close();

    const second = await shopper({ cust_code: cust });
    await chooseAu(second.page, second.pay);
    await second.page.locator('#au-linked').waitFor();
    assert.equal(await second.page.locator('#au-id').count(), 0, 'no login for a linked shopper');
    await second.page.screenshot({ path: join(ARTIFACTS, 'au-phone-linked-confirm.png'), fullPage: true });
    await second.page.locator('#au-pay').click();
    await second.page.waitForURL(`${merchant.base}/success`);
    assert.deepEqual(second.problems, []);
    await second.context.close();
  });

  it('a credit-limit refusal brings the shopper back to the payment page with last_error', async () => {
    const { context, page, pay } = await shopper();
    await chooseAu(page, pay);
    await page.locator('#au-id').fill('au-limit');
    await page.locator('#au-password').fill('x');
    await page.locator('#au-login').click();
    await page.locator('#au-pay').click();
    await page.waitForURL(`${worker.base}/pay/${pay}`);
    const s = await page.evaluate(async (id) => (await fetch(`/pay/${id}/session`)).json(), pay);
    assert.deepEqual([s.status, s.last_error], ['pending', { code: 'au_limit_exceeded' }]);
    await page.screenshot({ path: join(ARTIFACTS, 'au-phone-limit-back-on-page.png'), fullPage: true });
    await context.close();
  });
});

/** Moves the sandbox clock to `seconds` after the payment's au attempt began (the shopper chose au). */
async function advanceTo(pay, seconds) {
  const p = await signedApi(worker, 'GET', `/v1/payments/${pay}`);
  const began = p.json.history.filter((h) => h.note.startsWith('au attempt started')).at(-1).at;
  const now = (await api(worker, 'GET', '/__sandbox/clock')).json.now;
  await advanceClock(worker, began + seconds - now);
}

describe('au Kantan Kessai and time (sandbox clock)', () => {
  it('4-minute rule: a start at 3:59 is honoured though the result comes later; a start after 4:00 is refused', async () => {
    const ok = await openCheckout(worker, auPurchase());
    const url = await startAu(ok);
    await advanceTo(ok, 239);
    const page = await arrive(url); // the start on the au side, at 3:59 after choosing au
    const l = await login(page.html, 'au-ok');
    await advanceClock(worker, 200); // past the due date, within 4 minutes of the start
    const { action, fields } = returnForm((await confirm(l.html)).html);
    assert.equal(fields.result, 'OK');
    const took = Number(fields.completed_at) - Number(fields.started_at);
    assert.ok(took >= 200 && took <= 240, `completed ${took} s after the start`);
    assert.equal((await postReturn(action, fields)).location, `/pay/${ok}/return`);
    assert.equal((await session(ok)).status, 'paid');

    const late = await openCheckout(worker, auPurchase());
    const lateUrl = await startAu(late);
    await advanceTo(late, 241);
    const r = returnForm((await arrive(lateUrl)).html); // KDDI refuses the start at once
    assert.equal(r.fields.result, 'TIMEOUT');
    assert.equal((await postReturn(r.action, r.fields)).location, `/pay/${late}`);
    assert.deepEqual((await session(late)).last_error, { code: 'au_timeout' });
    assert.equal((await session(late)).status, 'pending', 'the shopper may try again');
  });

  it('4-minute rule: completing more than 4 minutes after the start is refused (KDDI and, independently, the Worker)', async () => {
    const pay = await openCheckout(worker, auPurchase());
    const l = await login((await arrive(await startAu(pay))).html, 'au-ok');
    await advanceClock(worker, 241);
    const r = returnForm((await confirm(l.html)).html);
    assert.equal(r.fields.result, 'TIMEOUT');
    await postReturn(r.action, r.fields);
    assert.deepEqual((await session(pay)).last_error, { code: 'au_timeout' });

    // A provider that let it through anyway: a genuinely signed "OK"
    // completed 4:01 after its start is refused by the Worker, and the
    // authorization is cancelled at KDDI.
    const spec = await openCheckout(worker, auPurchase({ sales_mode: 'specified' }));
    const url = await startAu(spec);
    const tx = new URL(url).searchParams.get('tx');
    await arrive(url);
    const now = (await api(worker, 'GET', '/__sandbox/clock')).json.now;
    const f = { merchant_code: AU_MERCHANT, transaction_id: tx, service_ref: `${spec}-1`, result: 'OK', error_code: '', payment_method: 'au_phone_bill',
      open_id: 'oid_late', amount: '1100', started_at: String(now - 241), completed_at: String(now), timestamp: String(now) };
    const back = await postReturn(`${worker.base}/pay/${spec}/au/return`, { ...f, signature: signResult(f) });
    assert.equal(back.location, `/pay/${spec}`);
    assert.deepEqual((await session(spec)).last_error, { code: 'au_timeout' });
    const st = await kddi('GET', `/api/v1/payments/${tx}`);
    assert.deepEqual([st.json.state, st.json.outcome.result], ['final', 'CANCEL'], 'cancelled at KDDI');
    assert.equal(merchant.notifications.length, 0);
  });

  it('a start before the page\'s own time limit is honoured though the result comes after it', async () => {
    const pay = await openCheckout(worker, auPurchase({ limit_second: '60' }));
    const url = await startAu(pay);
    await advanceClock(worker, 50);
    const l = await login((await arrive(url)).html, 'au-ok');
    await advanceClock(worker, 100); // the page's limit (60 s) has passed
    const r = returnForm((await confirm(l.html)).html);
    assert.equal((await postReturn(r.action, r.fields)).location, `/pay/${pay}/return`);
    assert.equal((await session(pay)).status, 'paid');
  });

  it('a shopper who never comes back: KDDI is asked after the deadline (paid → paid; open → cancelled there)', async () => {
    const paid = await openCheckout(worker, auPurchase());
    const l = await login((await arrive(await startAu(paid))).html, 'au-ok');
    returnForm((await confirm(l.html)).html); // paid at KDDI, but the browser closed
    const gone = await openCheckout(worker, auPurchase());
    const goneUrl = await startAu(gone);
    await arrive(goneUrl);
    await advanceClock(worker, 600);
    await advanceClock(worker, 1);
    assert.equal((await session(paid)).status, 'paid');
    assert.equal(merchant.notifications.filter((n) => n.payload.data.tracking_id === paid).length, 1);
    const g = await signedApi(worker, 'GET', `/v1/payments/${gone}`);
    assert.equal(g.json.error_code, 'au_timeout');
    assert.equal(g.json.status, 'expired', 'the page had expired meanwhile');
    const tx = new URL(goneUrl).searchParams.get('tx');
    assert.equal((await kddi('GET', `/api/v1/payments/${tx}`)).json.state, 'final');
  });

  it('specified sales: settle (partly) and cancel until the 90th day including the purchase day, refused after', async () => {
    const ids = [];
    for (let i = 0; i < 4; i++) {
      const pay = await openCheckout(worker, auPurchase({ sales_mode: 'specified' }));
      const r = await auResult(pay);
      await postReturn(r.action, r.fields);
      assert.equal((await session(pay)).status, 'authorized');
      ids.push({ pay, tx: r.fields.transaction_id });
    }
    const [a, b, c, d] = ids;
    const day0 = (await api(worker, 'GET', '/__sandbox/clock')).json.now;
    const lastDay = new Date((day0 + 9 * 3600) * 1000 + 89 * 86400 * 1000).toISOString().slice(0, 10);

    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${a.pay}/settle`, { amount: 500 })).json.captured, 500);
    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${b.pay}/cancel`, {})).json.status, 'cancelled');
    assert.equal((await kddi('GET', `/api/v1/payments/${b.tx}`)).json.authorized, 1100);

    await advanceClock(worker, 89 * 86400); // the 90th day including the purchase day
    const ok = await signedApi(worker, 'POST', `/v1/payments/${c.pay}/settle`, {});
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.captured, 1100);

    await advanceClock(worker, 2 * 86400); // 91 days on
    const late = await signedApi(worker, 'POST', `/v1/payments/${d.pay}/settle`, { amount: 100 });
    assert.equal(late.status, 422);
    assert.equal(late.json.error.code, 'settle_deadline_passed');
    assert.match(late.json.error.message, new RegExp(`90th day.*${lastDay} \\(JST\\)`));
    const lateCancel = await signedApi(worker, 'POST', `/v1/payments/${d.pay}/cancel`, {});
    assert.equal(lateCancel.json.error.code, 'cancel_deadline_passed');
    assert.match(lateCancel.json.error.message, new RegExp(lastDay));
    assert.equal((await session(d.pay)).status, 'authorized', 'nothing changed');
    // KDDI's side enforces the same deadline.
    const direct = await kddi('POST', `/api/v1/payments/${d.tx}/capture`, { merchant_code: AU_MERCHANT, idempotency_key: 'late-1', amount: 100 });
    assert.equal(direct.json.error_code, 'E_DEADLINE');
    assert.match(direct.json.message, new RegExp(lastDay));
  });

  it('refunds: full at once, partial only from the 1st of the next month, none after the end of the month after next', async () => {
    // Move to 10:00 JST on the 1st of next month, so the dates are known.
    const now = (await api(worker, 'GET', '/__sandbox/clock')).json.now;
    const jstNow = new Date((now + 9 * 3600) * 1000);
    const firstOf = (monthsAhead) => Date.UTC(jstNow.getUTCFullYear(), jstNow.getUTCMonth() + monthsAhead, 1) / 1000 - 9 * 3600; // 00:00 JST
    const iso = (t) => new Date((t + 9 * 3600) * 1000).toISOString().slice(0, 10);
    await advanceClock(worker, firstOf(1) + 10 * 3600 - now);

    const paid = [];
    for (let i = 0; i < 2; i++) {
      const pay = await openCheckout(worker, auPurchase());
      const r = await auResult(pay);
      await postReturn(r.action, r.fields);
      paid.push({ pay, tx: r.fields.transaction_id });
    }
    const [a, b] = paid;
    const early = await signedApi(worker, 'POST', `/v1/payments/${a.pay}/refund`, { amount: 300 });
    assert.equal(early.status, 422);
    assert.equal(early.json.error.code, 'partial_refund_not_yet_allowed');
    assert.match(early.json.error.message, new RegExp(`${iso(firstOf(2))} \\(JST\\)`));
    const full = await signedApi(worker, 'POST', `/v1/payments/${a.pay}/refund`, {});
    assert.equal(full.status, 200, full.text);
    assert.equal(full.json.status, 'refunded');
    assert.equal((await kddi('GET', `/api/v1/payments/${a.tx}`)).json.refunded, 1100);

    await advanceClock(worker, firstOf(2) - firstOf(1) - 10 * 3600); // 00:00 JST on the 1st of the following month
    const part = await signedApi(worker, 'POST', `/v1/payments/${b.pay}/refund`, { amount: 300 });
    assert.equal(part.status, 200, part.text);
    assert.deepEqual([part.json.status, part.json.refunded], ['partially_refunded', 300]);

    const lastDay = firstOf(4) - 86400; // the last day of the month after next
    await advanceClock(worker, lastDay + 23 * 3600 - firstOf(2));
    const stillOk = await signedApi(worker, 'POST', `/v1/payments/${b.pay}/refund`, { amount: 100 });
    assert.equal(stillOk.status, 200, stillOk.text);

    await advanceClock(worker, 3600); // 00:00 JST the day after
    const late = await signedApi(worker, 'POST', `/v1/payments/${b.pay}/refund`, { amount: 100 });
    assert.equal(late.status, 422);
    assert.equal(late.json.error.code, 'refund_deadline_passed');
    assert.match(late.json.error.message, new RegExp(`${iso(lastDay)} \\(JST\\)`));
    const direct = await kddi('POST', `/api/v1/payments/${b.tx}/refunds`, { merchant_code: AU_MERCHANT, idempotency_key: 'late-r', amount: 100 });
    assert.equal(direct.json.error_code, 'E_DEADLINE');
    assert.equal((await signedApi(worker, 'GET', `/v1/payments/${b.pay}`)).json.refunded, 400);
  });
});

// PRODUCT §2 / issue 5: KDDI may open an unauthorized-use investigation or
// charge a sale back; the merchant is notified and the sale leaves
// settlement. KDDI's notifications are signed and verified; duplicates and
// late ones change nothing.
describe('au disputes (investigations and chargebacks)', () => {
  async function paidAu() {
    const pay = await openCheckout(worker, auPurchase());
    const { action, fields } = await auResult(pay);
    assert.equal((await postReturn(action, fields)).location, `/pay/${pay}/return`);
    return { pay, tx: fields.transaction_id };
  }
  const dispute = async (tx, kind) => (await api(worker, 'POST', `/sandbox/au/disputes/${tx}`, { kind })).json;
  const status = async (pay) => (await signedApi(worker, 'GET', `/v1/payments/${pay}`)).json.status;

  it('an investigation takes the sale out of settlement and blocks refunds; cleared, it is paid again', async () => {
    assert.equal((await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` })).status, 200);
    const { pay, tx } = await paidAu();
    assert.equal((await dispute(tx, 'investigation')).notified, 200);
    assert.equal(await status(pay), 'under_investigation');
    const r = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, { amount: 100 });
    assert.notEqual(r.status, 200, 'no refund while KDDI investigates');
    assert.equal(await status(pay), 'under_investigation');
    // The same notification again changes nothing.
    assert.equal((await dispute(tx, 'investigation')).notified, 200);
    assert.equal(await status(pay), 'under_investigation');
    await dispute(tx, 'cleared');
    assert.equal(await status(pay), 'paid');
    const types = await eventually(() => {
      const t = merchant.accepted().filter((w) => w.payload.data.tracking_id === pay).map((w) => w.payload.type);
      return t.length >= 3 && t;
    }, { what: 'dispute webhooks' });
    assert.deepEqual(types, ['payment.paid', 'payment.investigation_opened', 'payment.investigation_cleared']);
  });

  it('a chargeback is final: later notifications are refused by the state machine and change nothing', async () => {
    const { pay, tx } = await paidAu();
    await dispute(tx, 'investigation');
    await dispute(tx, 'chargeback');
    assert.equal(await status(pay), 'charged_back');
    await dispute(tx, 'cleared');
    await dispute(tx, 'investigation');
    assert.equal(await status(pay), 'charged_back');
    const history = (await signedApi(worker, 'GET', `/v1/payments/${pay}`)).json.history.map((h) => h.status);
    assert.deepEqual(history.slice(-3), ['paid', 'under_investigation', 'charged_back']);
  });

  it('an unverifiable dispute notification is refused; KDDI is asked instead', async () => {
    const { pay, tx } = await paidAu();
    // KDDI's own record says chargeback, but the forged notice claims it and is unsigned.
    await api(worker, 'POST', `/sandbox/au/disputes/${tx}`, { kind: 'chargeback' });
    const forged = await fetch(`${worker.base}/provider/au/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'dispute', transaction_id: tx, service_ref: `${pay}-1`, kind: 'cleared' }),
    });
    assert.equal(forged.status, 401);
    assert.equal(await status(pay), 'charged_back', 'KDDI\'s answer, not the forged claim, decided');
  });
});
