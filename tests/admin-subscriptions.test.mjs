// Subscriptions in the administration tool (issue 11 §4, issue 10 §6):
// the list and the detail with its charges, a purchase on a fixed-term
// subscription and a cancellation, each confirmed, by an operator; a viewer
// sees but cannot cancel; another merchant's subscription does not exist.
// In Chromium at 360 px, and over the tool's JSON API.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARTIFACTS, api, eventually, hiddenFields, launchChromium, openCheckout, purchase, returnForm, signedApi, postForm, startMerchant, startWorker } from './lib/harness.mjs';

let worker;
let merchant;
let browser;
let seq = 0;
const unique = (p) => `${p}-${process.pid}-${Date.now()}-${++seq}`;

async function adminApi(cookie, csrf, method, path, body, headers = {}) {
  const r = await fetch(`${worker.base}/admin/api/${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-requested-with': 'kessai-admin', 'x-csrf-token': csrf, cookie, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json().catch(() => null), cookie: r.headers.get('set-cookie')?.split(';')[0] };
}

const form = postForm;

/** A fixed-term au subscription registered through KDDI's sandbox pages. */
async function fixedSubscription() {
  const cust = unique('adm-cust');
  const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'au', pay_type: 'recurring_fixed', cust_code: cust, item_name: '従量プラン 月末請求', amount: '1000', tax: '90' }));
  const started = await api(worker, 'POST', `/pay/${pay}/au`, {});
  const page = await (await fetch(started.json.redirect_url)).text();
  const login = await form(`${worker.base}/sandbox/au/login`, { tx: hiddenFields(page).tx, au_id: unique('au-ok'), password: 'pw' });
  const done = await form(`${worker.base}/sandbox/au/complete`, { tx: hiddenFields(login.html).tx, ticket: hiddenFields(login.html).ticket, payment_method: 'au_phone_bill', action: 'pay' });
  const back = returnForm(done.html);
  await form(back.action, back.fields);
  return eventually(async () => (await signedApi(worker, 'GET', `/v1/subscriptions?cust_code=${cust}`)).json.data[0], { what: 'the subscription' });
}

let admin;
let viewer;
before(async () => {
  worker = await startWorker();
  merchant = await startMerchant();
  browser = await launchChromium();
  const login = await adminApi('', '', 'POST', 'login', { merchant_id: '99999', password: 'kessai-sandbox-admin' });
  assert.equal(login.status, 200, JSON.stringify(login.json));
  admin = { cookie: login.cookie, csrf: login.json.csrf_token };
  const user = await adminApi(admin.cookie, admin.csrf, 'POST', 'users', { user_id: unique('viv').slice(0, 30), role: 'viewer' });
  assert.equal(user.status, 201, JSON.stringify(user.json));
  const v = await adminApi('', '', 'POST', 'login', { merchant_id: '99999', user_id: user.json.user_id, password: user.json.password });
  assert.equal(v.status, 200, JSON.stringify(v.json));
  viewer = { cookie: v.cookie, csrf: v.json.csrf_token };
});
after(async () => {
  await browser?.close();
  await worker?.stop();
  await merchant?.close();
});

describe('subscriptions in the administration tool', () => {
  it('lists and shows them, purchases on a fixed term once per key, and only operators may change them', async () => {
    const sub = await fixedSubscription();
    const list = await adminApi(admin.cookie, admin.csrf, 'GET', 'subscriptions?kind=fixed');
    assert.equal(list.status, 200);
    assert.ok(list.json.data.some((s) => s.subscription_id === sub.subscription_id));
    const key = unique('k');
    const bought = await adminApi(admin.cookie, admin.csrf, 'POST', `subscriptions/${sub.subscription_id}/purchases`, { amount: 1200 }, { 'idempotency-key': key });
    assert.equal(bought.status, 201, JSON.stringify(bought.json));
    assert.equal(bought.json.payment.status, 'authorized');
    const again = await adminApi(admin.cookie, admin.csrf, 'POST', `subscriptions/${sub.subscription_id}/purchases`, { amount: 1200 }, { 'idempotency-key': key });
    assert.equal(again.json.payment.tracking_id, bought.json.payment.tracking_id, 'the same key is the same purchase');
    const detail = await adminApi(admin.cookie, admin.csrf, 'GET', `subscriptions/${sub.subscription_id}`);
    assert.equal(detail.json.charges.length, 1);
    const refused = await adminApi(viewer.cookie, viewer.csrf, 'POST', `subscriptions/${sub.subscription_id}/cancel`, {});
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error.code, 'role_forbidden');
    assert.equal((await adminApi(admin.cookie, admin.csrf, 'GET', 'subscriptions/sub_00000000000000000000000000')).status, 404);
    const audit = await adminApi(admin.cookie, admin.csrf, 'GET', 'audit');
    assert.ok(audit.json.data.some((a) => a.action === 'subscription.purchase' && a.target === sub.subscription_id));
  });

  it('360 px: an operator finds a subscription, charges it and cancels it, each confirmed', async () => {
    const sub = await fixedSubscription();
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, locale: 'ja-JP' });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${worker.base}/admin`);
    await page.locator('#merchant_id').fill('99999');
    await page.locator('#password').fill('kessai-sandbox-admin');
    await page.locator('#password').press('Enter');
    await page.getByRole('navigation').waitFor();
    await page.getByRole('link', { name: '継続課金' }).click();
    await page.getByRole('heading', { name: '継続課金' }).waitFor();
    await page.locator(`a.sub-link[href="#/subscriptions/${sub.subscription_id}"]`).click();
    await page.locator('#sub-status').waitFor();
    assert.equal(await page.locator('#sub-status').textContent(), '利用中');
    await page.locator('#sub-purchase').click();
    await page.locator('#sub-amount').fill('800');
    await page.locator('#sub-confirm').click();
    await page.getByRole('status').filter({ hasText: '完了しました' }).waitFor();
    await page.locator('table.charges tbody tr').first().waitFor();
    assert.match(await page.locator('table.charges tbody').textContent(), /800/);
    await page.locator('#sub-cancel').click();
    await page.locator('#sub-confirm').click();
    await page.waitForFunction(() => document.querySelector('#sub-status')?.textContent === '解約済み');
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 360, `no wider than the screen (${w})`);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-subscription-360.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await ctx.close();
    const s = (await signedApi(worker, 'GET', `/v1/subscriptions/${sub.subscription_id}`)).json;
    assert.equal(s.status, 'cancelled');
    assert.equal(s.ended_by, 'merchant');
  });
});
