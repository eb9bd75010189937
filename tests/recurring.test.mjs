// Recurring billing (issue 10; PRODUCT §2 recurring rows, §4, §5, §6; au
// seed 003, NP seed 002) against the real Worker, its KDDI and NP
// sandboxes, the billing Queue and the sandbox clock. The shopper's side
// is driven over HTTP (the au sandbox's forms, the hosted page's JSON) and
// the management page in Chromium at 360 px; the merchant verifies every
// webhook with the npm `standardwebhooks` library (harness). After each
// cycle the sandbox ledger (KDDI's continuation, NP's transactions) and
// ours must agree: exactly one charge per cycle.
//
// The clock only moves forward: the tests run in order through 2027.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ARTIFACTS, api, eventually, hiddenFields, jstTime, launchChromium, openCheckout, purchase, returnForm, setClock, signedApi, postForm, startMerchant, startWorker,
} from './lib/harness.mjs';

let worker;
let merchant;
let browser;

before(async () => {
  merchant = await startMerchant();
  worker = await startWorker();
  merchant.workerBase = worker.base;
  browser = await launchChromium();
  await setClock(worker, jstTime('2027-01-15T10:00'));
  const r = await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` });
  assert.equal(r.status, 200, r.text);
});
after(async () => {
  await browser?.close();
  await worker?.stop();
  await merchant?.close();
});

let seq = 0;
const unique = (p) => `${p}-${process.pid}-${Date.now()}-${++seq}`;

const form = postForm;

/** A recurring checkout paid (registered) with au over HTTP, through KDDI's sandbox pages. */
async function auRegister({ payType = 'recurring_simple', auId = unique('au-ok'), source = 'au_phone_bill', itemName = '月額プラン 毎月1日請求', amount = '980' } = {}) {
  const cust = unique('cust');
  const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'au', pay_type: payType, cust_code: cust, item_name: itemName, amount, tax: '89' }));
  const started = await api(worker, 'POST', `/pay/${pay}/au`, {});
  assert.equal(started.status, 200, started.text);
  const page = await (await fetch(started.json.redirect_url)).text();
  const login = await form(`${worker.base}/sandbox/au/login`, { tx: hiddenFields(page).tx, au_id: auId, password: 'pw' });
  assert.equal(login.status, 200, login.html);
  const confirm = login.html;
  const done = await form(`${worker.base}/sandbox/au/complete`, { tx: hiddenFields(confirm).tx, ticket: hiddenFields(confirm).ticket, payment_method: source, action: 'pay' });
  const back = returnForm(done.html);
  const r = await form(back.action, back.fields);
  assert.ok([200, 303].includes(r.status), r.html);
  const tx = hiddenFields(confirm).tx;
  return { pay, cust, auId, tx, confirm };
}

const subscriptionsOf = async (cust) => (await signedApi(worker, 'GET', `/v1/subscriptions?cust_code=${encodeURIComponent(cust)}`)).json.data;
const subscription = async (id) => (await signedApi(worker, 'GET', `/v1/subscriptions/${id}`)).json;
const continuation = async (tx) => (await api(worker, 'GET', `/sandbox/au/continuations/${tx}`)).json;
const hooks = (type, pred = () => true) => merchant.accepted().filter((w) => w.payload.type === type && pred(w.payload.data));
const uniqueHooks = (type, pred) => [...new Map(hooks(type, pred).map((w) => [w.id, w])).values()];
const standing = (auId, s) => api(worker, 'POST', `/sandbox/au/accounts/${auId}`, { standing: s });

async function registered(cust) {
  return eventually(async () => (await subscriptionsOf(cust))[0], { what: `the subscription of ${cust}` });
}

/** Moves the sandbox clock to a JST time; the sweep starts the billing run. */
async function at(local) {
  await setClock(worker, jstTime(local));
}

/** Waits until the subscription's cycle `period` is no longer open. */
async function cycle(id, period, result = 'charged') {
  return eventually(async () => {
    const s = await subscription(id);
    const c = s.cycles.find((x) => x.period === period);
    return c && c.result === result ? { s, c } : null;
  }, { timeoutMs: 30000, what: `cycle ${period} of ${id} to be ${result}` });
}

describe('monthly (simple) billing with au', () => {
  let reg;
  let sub;

  it('registers on the hosted flow: only the sources the seed allows, KDDI consent, first month charged, the subscription and its link', async () => {
    reg = await auRegister();
    // au PAY balance (the prepaid source) is not offered for a monthly plan.
    assert.match(reg.confirm, /id="au-consent"/);
    assert.doesNotMatch(reg.confirm, /value="au_pay_balance"/);
    assert.match(reg.confirm, /value="au_pay_card"/);
    const p = (await signedApi(worker, 'GET', `/v1/payments/${reg.pay}`)).json;
    assert.equal(p.status, 'paid');
    assert.equal(p.captured, 980, 'the first month is charged at registration (the default option)');
    const row = await registered(reg.cust);
    assert.equal(row.kind, 'simple');
    assert.equal(row.status, 'active');
    assert.equal(row.method, 'au');
    assert.equal(row.next_billing_at, jstTime('2027-02-01T00:00'), 'billed from the next 1st, 00:00 JST');
    sub = await subscription(row.subscription_id);
    assert.equal(sub.registration_tracking_id, reg.pay);
    assert.equal(sub.next_billing_date, '2027-02-01');
    assert.match(sub.management_url, new RegExp(`^${worker.base}/subscriptions/sub_[0-9a-f]{26}\\.[0-9a-f]{32}$`));
    const event = await eventually(() => hooks('recurring.registered', (d) => d.tracking_id === reg.pay)[0], { what: 'recurring.registered' });
    assert.ok(event.verified);
    assert.equal(event.payload.data.subscription.subscription_id, sub.subscription_id);
    assert.equal(event.payload.data.subscription_url, sub.management_url);
    assert.equal((await continuation(reg.tx)).active, true);
    // The first month's charge is refundable from the 1st of the next month.
    const early = await signedApi(worker, 'POST', `/v1/payments/${reg.pay}/refund`, {}, { headers: { 'idempotency-key': unique('r') } });
    assert.equal(early.status, 422, early.text);
    assert.equal(early.json.error.code, 'refund_not_yet_allowed');
    assert.match(early.json.error.message, /2027-02-01/);
  });

  it('bills on the 1st in JST, exactly once per cycle across two 1sts, each with a verified webhook', async () => {
    await at('2027-01-31T23:59');
    assert.equal((await subscription(sub.subscription_id)).cycles.length, 0, 'nothing before 00:00 JST on the 1st');
    await at('2027-02-01T00:00');
    const feb = await cycle(sub.subscription_id, '2027-02');
    await at('2027-03-01T00:01');
    const mar = await cycle(sub.subscription_id, '2027-03');
    assert.notEqual(feb.c.tracking_id, mar.c.tracking_id);
    for (const c of [feb.c, mar.c]) {
      const p = (await signedApi(worker, 'GET', `/v1/payments/${c.tracking_id}`)).json;
      assert.equal(p.status, 'paid');
      assert.equal(p.amount, 980);
      assert.equal(p.subscription_id, sub.subscription_id);
    }
    const charged = await eventually(() => {
      const h = uniqueHooks('recurring.charged', (d) => d.subscription_id === sub.subscription_id);
      return h.length >= 2 && h;
    }, { what: 'two recurring.charged webhooks' });
    assert.deepEqual(charged.map((w) => w.payload.data.period).sort(), ['2027-02', '2027-03']);
    assert.ok(charged.every((w) => w.verified));
    // KDDI's ledger: the continuation was charged exactly twice.
    const ledger = await continuation(reg.tx);
    assert.equal(ledger.charges.length, 2, JSON.stringify(ledger.charges));
    assert.ok(ledger.charges.every((c) => c.result === 'captured' && c.amount === 980));
    // In March the first month's charge (January) may be refunded.
    const refund = await signedApi(worker, 'POST', `/v1/payments/${reg.pay}/refund`, {}, { headers: { 'idempotency-key': unique('r') } });
    assert.equal(refund.status, 200, refund.text);
    assert.equal(refund.json.status, 'refunded');
  });

  it('charges nobody twice: a doubled cron and redelivered queue messages find the same cycle', async () => {
    const again = [];
    for (let i = 0; i < 4; i += 1) again.push(api(worker, 'POST', '/__sandbox/clock', { advance_seconds: 0 }));
    for (let i = 0; i < 6; i += 1) again.push(api(worker, 'POST', '/__sandbox/billing', { kind: 'bill', subscription_id: sub.subscription_id }));
    for (let i = 0; i < 2; i += 1) again.push(api(worker, 'POST', '/__sandbox/billing', { kind: 'page', after: '', now: jstTime('2027-03-01T00:01') }));
    const answers = await Promise.all(again);
    assert.ok(answers.every((a) => a.status === 200), answers.map((a) => a.text).join('\n'));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await continuation(reg.tx)).charges.length, 2);
    assert.equal((await subscription(sub.subscription_id)).cycles.length, 2);
  });

  it('a declined month is tried again on the retry days (the 5th, the 10th), each try an event, and recovers', async () => {
    await standing(reg.auId, 'limit_exceeded');
    await at('2027-04-01T00:00');
    const first = await eventually(() => uniqueHooks('recurring.charge_failed', (d) => d.subscription_id === sub.subscription_id && d.period === '2027-04')[0],
      { timeoutMs: 30000, what: 'the first charge_failed' });
    assert.equal(first.payload.data.error_code, 'au_limit_exceeded');
    assert.equal(first.payload.data.final, false);
    assert.equal(first.payload.data.next_try_at, jstTime('2027-04-05T00:00'));
    await at('2027-04-05T00:00');
    await eventually(() => uniqueHooks('recurring.charge_failed', (d) => d.period === '2027-04' && d.subscription_id === sub.subscription_id).length >= 2,
      { timeoutMs: 30000, what: 'the second charge_failed' });
    await standing(reg.auId, 'ok');
    await at('2027-04-10T00:00');
    const apr = await cycle(sub.subscription_id, '2027-04');
    const p = (await signedApi(worker, 'GET', `/v1/payments/${apr.c.tracking_id}`)).json;
    assert.equal(p.status, 'paid');
    const ledger = (await continuation(reg.tx)).charges.filter((c) => c.service_ref.startsWith(apr.c.tracking_id));
    assert.deepEqual(ledger.map((c) => c.result), ['declined:limit_exceeded', 'declined:limit_exceeded', 'captured']);
  });

  it('a hard decline is not retried: the cycle fails at once with a final event', async () => {
    await standing(reg.auId, 'restricted');
    await at('2027-05-01T00:00');
    const may = await cycle(sub.subscription_id, '2027-05', 'failed');
    const failed = await eventually(() => {
      const h = uniqueHooks('recurring.charge_failed', (d) => d.period === '2027-05' && d.subscription_id === sub.subscription_id);
      return h.length > 0 && h;
    }, { what: 'the charge_failed webhook of May' });
    assert.equal(failed.length, 1);
    assert.equal(failed[0].payload.data.final, true);
    assert.equal(failed[0].payload.data.error_code, 'au_restricted');
    assert.equal((await signedApi(worker, 'GET', `/v1/payments/${may.c.tracking_id}`)).json.status, 'failed');
    await at('2027-05-05T00:00');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await continuation(reg.tx)).charges.filter((c) => c.service_ref.startsWith(may.c.tracking_id)).length, 1);
    assert.equal(uniqueHooks('recurring.charge_failed', (d) => d.period === '2027-05' && d.subscription_id === sub.subscription_id).length, 1);
    assert.equal(may.s.failed_cycles_in_row, 1);
    await standing(reg.auId, 'ok');
  });

  it('the shopper cancels on the management page (360 px, ja/en, with a confirmation), and nothing more is billed', async () => {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const page = await ctx.newPage();
    await page.goto(sub.management_url);
    assert.equal(await page.textContent('#sub-item'), '月額プラン 毎月1日請求');
    assert.match(await page.textContent('#sub-amount'), /¥980/);
    assert.equal(await page.textContent('#sub-method'), 'auかんたん決済');
    assert.equal(await page.textContent('#sub-next'), '2027-06-01');
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `no horizontal scroll at 360 px (${width})`);
    await page.click('#sub-lang');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.textContent('#sub-method'), 'au Kantan Kessai');
    await page.click('#sub-cancel');
    assert.match(await page.textContent('#sub-confirm-q'), /really want to cancel/);
    await page.focus('#sub-confirm');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#sub-cancelled');
    assert.equal(await page.textContent('#sub-status'), 'cancelled');
    await page.screenshot({ path: join(ARTIFACTS, 'subscription-cancelled-360.png'), fullPage: true });
    await ctx.close();
    const event = await eventually(() => hooks('recurring.cancelled', (d) => d.subscription_id === sub.subscription_id)[0], { what: 'recurring.cancelled' });
    assert.equal(event.payload.data.subscription.ended_by, 'shopper');
    await eventually(async () => (await continuation(reg.tx)).active === false, { what: 'the continuation ended at KDDI' });
    await at('2027-06-01T00:00');
    await new Promise((r) => setTimeout(r, 1500));
    const s = await subscription(sub.subscription_id);
    assert.equal(s.status, 'cancelled');
    assert.ok(!s.cycles.some((c) => c.period === '2027-06'));
    // A forged link shows nothing.
    const forged = sub.management_url.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    assert.equal((await fetch(forged)).status, 404);
  });
});

describe('fixed-term / pay-as-you-go with au', () => {
  let reg;
  let sub;

  it('registers without a charge, on the phone bills only', async () => {
    reg = await auRegister({ payType: 'recurring_fixed', itemName: 'ワイン定期便 毎月20日請求', amount: '3000' });
    assert.doesNotMatch(reg.confirm, /value="au_pay_card"/);
    assert.doesNotMatch(reg.confirm, /value="au_pay_balance"/);
    assert.match(reg.confirm, /value="uq_mobile_bill"/);
    const p = (await signedApi(worker, 'GET', `/v1/payments/${reg.pay}`)).json;
    assert.equal(p.status, 'registered');
    assert.equal(p.captured, 0);
    sub = await registered(reg.cust);
    assert.equal(sub.kind, 'fixed');
    assert.equal(sub.next_billing_at, null);
  });

  it('the merchant purchases with an amount (specified sales, Idempotency-Key required), settles within 90 days; item_name limits', async () => {
    const path = `/v1/subscriptions/${sub.subscription_id}/purchases`;
    assert.equal((await signedApi(worker, 'POST', path, { amount: 3000 })).json.error.code, 'idempotency_key_required');
    for (const bad of [{ amount: '3000' }, { amount: 0 }, { amount: 30.5 }, { amount: 3000, colour: 'red' }]) {
      const r = await signedApi(worker, 'POST', path, bad, { headers: { 'idempotency-key': unique('k') } });
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    const key = unique('buy');
    const first = await signedApi(worker, 'POST', path, { amount: 3000 }, { headers: { 'idempotency-key': key } });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.json.payment.status, 'authorized');
    const again = await signedApi(worker, 'POST', path, { amount: 3000 }, { headers: { 'idempotency-key': key } });
    assert.equal(again.json.payment.tracking_id, first.json.payment.tracking_id);
    const tid = first.json.payment.tracking_id;
    const settled = await signedApi(worker, 'POST', `/v1/payments/${tid}/settle`, { amount: 2500 }, { headers: { 'idempotency-key': unique('s') } });
    assert.equal(settled.status, 200, settled.text);
    assert.equal(settled.json.status, 'paid');
    assert.equal(settled.json.captured, 2500);
    const warn = await signedApi(worker, 'POST', path, { amount: 100, item_name: 'ワイン定期便三千円コース毎月二十日' }, { headers: { 'idempotency-key': unique('w') } });
    assert.equal(warn.status, 201, warn.text);
    assert.match(warn.json.warnings[0], /16/);
    const long = await signedApi(worker, 'POST', path, { amount: 100, item_name: 'ワイン定期便三千円コース毎月二十日請求分あ' }, { headers: { 'idempotency-key': unique('l') } });
    assert.equal(long.status, 422);
    assert.equal(long.json.error.code, 'item_name_too_long');
    // KDDI holds exactly the two purchases, as specified sales.
    const ledger = await continuation(reg.tx);
    assert.deepEqual(ledger.charges.map((c) => c.result), ['authorized', 'authorized']);
    const detail = await subscription(sub.subscription_id);
    assert.equal(detail.charges.length, 2);
    assert.equal(detail.purchases.length, 2);
  });

  it('the merchant cancels through the API; a purchase after that is refused', async () => {
    const r = await signedApi(worker, 'POST', `/v1/subscriptions/${sub.subscription_id}/cancel`, {}, { headers: { 'idempotency-key': unique('c') } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'cancelled');
    assert.equal(r.json.ended_by, 'merchant');
    await eventually(() => hooks('recurring.cancelled', (d) => d.subscription_id === sub.subscription_id)[0], { what: 'recurring.cancelled' });
    const late = await signedApi(worker, 'POST', `/v1/subscriptions/${sub.subscription_id}/purchases`, { amount: 100 }, { headers: { 'idempotency-key': unique('x') } });
    assert.equal(late.status, 409);
    assert.equal(late.json.error.code, 'subscription_ended');
  });

  it('a fixed-term item_name over 20 characters is refused at the purchase request', async () => {
    const res = await fetch(`${worker.base}/link/purchase`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(purchase(merchant, { pay_method: 'au', pay_type: 'recurring_fixed', item_name: 'あ'.repeat(21) })).toString(),
      redirect: 'manual',
    });
    assert.equal(res.status, 422);
    assert.match(await res.text(), /au_item_name_too_long/);
  });
});

describe('monthly billing with NP postpaid: a new NP transaction each cycle', () => {
  it('registers with the buyer, keeps them sealed, and screens a new transaction on the 1st', async () => {
    const cust = unique('np-cust');
    const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'np', pay_type: 'recurring_simple', cust_code: cust, amount: '1500', tax: '136' }));
    const n = String(Date.now() % 1e8).padStart(8, '0');
    const buyer = { name: '山田 太郎', kana: 'ヤマダ タロウ', postal_code: '150-0001', address: '東京都渋谷区神宮前1-2-3', phone: `090${n}`, email: `sub${n}@example.jp` };
    const r = await api(worker, 'POST', `/pay/${pay}/np`, buyer);
    assert.equal(r.status, 200, r.text);
    const row = await registered(cust);
    assert.equal(row.method, 'np');
    // The payment record no longer holds the buyer (sealed, then handed over).
    const p = (await signedApi(worker, 'GET', `/v1/payments/${pay}`)).json;
    assert.equal(p.status, 'authorized');
    assert.doesNotMatch(JSON.stringify(p), new RegExp(n));
    await at('2027-07-01T00:00');
    const jul = await cycle(row.subscription_id, '2027-07');
    const charge = (await signedApi(worker, 'GET', `/v1/payments/${jul.c.tracking_id}`)).json;
    assert.equal(charge.method, 'np');
    assert.equal(charge.status, 'authorized', 'screened; the sale is fixed by the shipment report');
    const tx = (await api(worker, 'GET', `/sandbox/np/transactions/${jul.c.tracking_id}-1`)).json;
    assert.equal(tx.status, 'approved', JSON.stringify(tx));
    const shipped = await signedApi(worker, 'POST', `/v1/payments/${jul.c.tracking_id}/shipment`, {}, { headers: { 'idempotency-key': unique('ship') } });
    assert.equal(shipped.status, 200, shipped.text);
    assert.equal(shipped.json.status, 'paid');
    assert.equal((await api(worker, 'GET', `/sandbox/np/transactions/${jul.c.tracking_id}-1`)).json.sold_amount, 1500);
  });
});

describe('registering on the hosted page in Chromium (360 px)', () => {
  // A shopper on a 360 px phone sent by the shop to the hosted page of a
  // purchase with these fields; page errors are collected.
  async function phoneCheckout(fields) {
    const key = unique('shop');
    merchant.pages.set(key, purchase(merchant, fields));
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, locale: 'ja-JP' });
    const page = await ctx.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${merchant.base}/shop/${key}`);
    await page.waitForURL(/\/pay\/pay_/);
    return { ctx, page, problems };
  }

  it('au monthly: the page says it is billed on the 1st, KDDI shows the consent without the au PAY balance, and the subscription follows', async () => {
    const cust = unique('au-browser');
    const { ctx, page, problems } = await phoneCheckout({ pay_method: 'au', pay_type: 'recurring_simple', cust_code: cust, item_name: '動画見放題 毎月1日請求', amount: '990', tax: '90' });
    await page.locator('#au-button').waitFor({ state: 'visible' });
    assert.equal(await page.textContent('#recurring-note'), '継続課金：毎月1日に請求されます');
    await page.locator('#au-button').click();
    await page.getByLabel('au ID').waitFor();
    await page.getByLabel('au ID').fill(unique('au-ok'));
    await page.getByLabel('パスワード').fill('pw');
    await page.locator('#au-login').click();
    await page.locator('#au-consent').waitFor();
    assert.equal(await page.locator('input[value="au_pay_balance"]').count(), 0, 'no au PAY balance for a monthly plan');
    await page.screenshot({ path: join(ARTIFACTS, 'recurring-au-consent-360.png'), fullPage: true });
    await page.locator('#au-pay').click();
    await page.waitForURL(`${merchant.base}/success`);
    assert.equal(await page.locator('#res-result').textContent(), 'OK');
    assert.deepEqual(problems, []);
    await ctx.close();
    const row = await registered(cust);
    assert.equal(row.kind, 'simple');
    assert.equal(row.method, 'au');
  });

  it('NP fixed term: the page says it is a subscription charging nothing now, takes the buyer, and signs up', async () => {
    const cust = unique('np-fixed');
    const { ctx, page, problems } = await phoneCheckout({ pay_method: 'np', pay_type: 'recurring_fixed', cust_code: cust, item_name: 'お米定期便 毎月20日請求', amount: '4000', tax: '296' });
    await page.locator('#np-name').waitFor({ state: 'visible' });
    assert.equal(await page.textContent('#recurring-note'), '継続課金：ご利用に応じてショップから請求されます（今回のお支払いはありません）');
    await page.locator('#np-name').fill('佐藤 花子');
    await page.locator('#np-kana').fill('サトウ ハナコ');
    await page.locator('#np-postal-code').fill('150-0001');
    await page.locator('#np-address').fill('東京都渋谷区神宮前1-2-3');
    await page.locator('#np-phone').fill('03-1234-5678');
    await page.locator('#np-email').fill(`hanako${Date.now()}@example.jp`);
    await page.screenshot({ path: join(ARTIFACTS, 'recurring-np-fixed-360.png'), fullPage: true });
    await page.locator('#pay-button').click();
    await page.waitForURL(`${merchant.base}/success`);
    assert.equal(await page.locator('#res-result').textContent(), 'OK');
    assert.deepEqual(problems, []);
    await ctx.close();
    const row = await registered(cust);
    assert.equal(row.kind, 'fixed');
    assert.equal(row.method, 'np');
    // A purchase is a new NP transaction with its own screening.
    const r = await signedApi(worker, 'POST', `/v1/subscriptions/${row.subscription_id}/purchases`, { amount: 4000 }, { headers: { 'idempotency-key': unique('rice') } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.payment.method, 'np');
    assert.equal(r.json.payment.status, 'authorized');
    assert.equal((await api(worker, 'GET', `/sandbox/np/transactions/${r.json.payment.tracking_id}-1`)).json.status, 'approved');
  });
});

describe('merchant options', () => {
  it('refuses retry days that are not ascending days 2-28', async () => {
    for (const bad of [{ retry_days: [10, 5] }, { retry_days: [1] }, { retry_days: [29] }, { suspend_after_failed_cycles: 0 }, { colour: 1 }]) {
      const r = await signedApi(worker, 'PUT', '/v1/merchant', { recurring: bad });
      assert.ok([400, 422].includes(r.status), `${JSON.stringify(bad)}: ${r.status}`);
    }
    const ok = await signedApi(worker, 'PUT', '/v1/merchant', { recurring: { charge_first_month: true, bill_cancellation_in_first_month: false, retry_days: [3, 7, 14], suspend_after_failed_cycles: 2 } });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json.recurring.retry_days, [3, 7, 14]);
    const back = await signedApi(worker, 'PUT', '/v1/merchant', { recurring: { retry_days: [5, 10] } });
    assert.equal(back.json.recurring.suspend_after_failed_cycles, null);
  });

  it('lists subscriptions with filters and refuses unknown ones', async () => {
    const all = (await signedApi(worker, 'GET', '/v1/subscriptions?limit=2')).json;
    assert.equal(all.data.length, 2);
    assert.ok(all.next_cursor);
    const next = (await signedApi(worker, 'GET', `/v1/subscriptions?limit=2&cursor=${all.next_cursor}`)).json;
    assert.ok(next.data.length >= 1);
    assert.ok(!next.data.some((d) => all.data.some((a) => a.subscription_id === d.subscription_id)));
    assert.equal((await signedApi(worker, 'GET', '/v1/subscriptions?status=weird')).status, 400);
    assert.equal((await signedApi(worker, 'GET', '/v1/subscriptions/sub_nope')).status, 404);
  });
});

describe('suspension and expiry (the clock moves on by a year)', () => {
  it('suspends a monthly subscription after the merchant\'s number of failed months', async () => {
    const set = await signedApi(worker, 'PUT', '/v1/merchant', { recurring: { retry_days: [], suspend_after_failed_cycles: 1 } });
    assert.equal(set.status, 200, set.text);
    const reg = await auRegister();
    const row = await registered(reg.cust);
    assert.deepEqual((await subscription(row.subscription_id)).options.retry_days, []);
    await standing(reg.auId, 'limit_exceeded');
    const next = new Date(row.next_billing_at * 1000 + 9 * 3600 * 1000).toISOString().slice(0, 16);
    await at(next);
    const period = next.slice(0, 7);
    await cycle(row.subscription_id, period, 'failed');
    const suspended = await eventually(() => hooks('recurring.suspended', (d) => d.subscription_id === row.subscription_id)[0], { what: 'recurring.suspended' });
    assert.equal(suspended.payload.data.subscription.status, 'suspended');
    const s = await subscription(row.subscription_id);
    assert.equal(s.status, 'suspended');
    assert.equal(s.next_billing_at, null);
    await signedApi(worker, 'PUT', '/v1/merchant', { recurring: { retry_days: [5, 10] } });
  });

  it('a fixed-term subscription expires 365 days after its last payment', async () => {
    const reg = await auRegister({ payType: 'recurring_fixed', itemName: '従量課金 月末締め', amount: '100' });
    const row = await registered(reg.cust);
    const bought = await signedApi(worker, 'POST', `/v1/subscriptions/${row.subscription_id}/purchases`, { amount: 700 }, { headers: { 'idempotency-key': unique('e') } });
    assert.equal(bought.status, 201, bought.text);
    const s = await subscription(row.subscription_id);
    assert.ok(s.expires_at > s.last_payment_at + 364 * 86400, JSON.stringify(s));
    await setClock(worker, s.expires_at - 60);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await subscription(row.subscription_id)).status, 'active');
    await setClock(worker, s.expires_at + 5);
    const expired = await eventually(() => hooks('recurring.expired', (d) => d.subscription_id === row.subscription_id)[0], { timeoutMs: 30000, what: 'recurring.expired' });
    assert.equal(expired.payload.data.subscription.status, 'expired');
  });
});
