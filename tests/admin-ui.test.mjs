// The administration tool in Chromium (issue 11 §5) at 360 px and 1280 px:
// sign in (by keyboard), find a card payment by its order id (the search
// lands in the URL), refund part of it after a confirmation, see it in the
// timeline and the webhook log; a viewer sees the payment but cannot
// refund; the English switch; nothing wider than the screen.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as OTPAuth from 'otpauth';
import { ARTIFACTS, api, launchChromium, openCheckout, orderId, purchase, signedApi, startMerchant, startWorker } from './lib/harness.mjs';

let worker;
let merchant;
let browser;
let viewerPassword;

const CARD = { number: '4111 1111 1111 1111', exp_month: '12', exp_year: '2030', cvc: '123', option: { kind: 'single' } };

async function adminApi(cookie, csrf, method, path, body) {
  const r = await fetch(`${worker.base}/admin/api/${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-requested-with': 'kessai-admin', 'x-csrf-token': csrf, cookie },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json(), cookie: r.headers.get('set-cookie')?.split(';')[0] };
}

before(async () => {
  worker = await startWorker();
  merchant = await startMerchant();
  browser = await launchChromium();
  assert.equal((await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` })).status, 200);
  const login = await adminApi('', '', 'POST', 'login', { merchant_id: '99999', password: 'kessai-sandbox-admin' });
  const user = await adminApi(login.cookie, login.json.csrf_token, 'POST', 'users', { user_id: 'vera', role: 'viewer' });
  assert.equal(user.status, 201);
  viewerPassword = user.json.password;
});
after(async () => {
  await browser?.close();
  await worker?.stop();
  await merchant?.close();
});

async function cardPayment() {
  const order = orderId('ui');
  const id = await openCheckout(worker, purchase(merchant, { pay_method: 'card', order_id: order, amount: '2200', tax: '200' }));
  const r = await api(worker, 'POST', `/pay/${id}/card`, CARD);
  assert.equal(r.json.status, 'paid', r.text);
  return { id, order };
}

const SIZES = [
  { name: 'phone', viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
  { name: 'pc', viewport: { width: 1280, height: 800 } },
];

async function signIn(page, user, password) {
  await page.goto(`${worker.base}/admin`);
  await page.locator('#merchant_id').waitFor();
  // By keyboard only.
  await page.locator('#merchant_id').focus();
  await page.keyboard.type('99999');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type(user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.getByRole('navigation').waitFor();
}

async function noOverflow(page, width) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= width, `page is ${w} px wide at ${width} px`);
}

describe('administration tool in Chromium', () => {
  for (const size of SIZES) {
    it(`${size.name} (${size.viewport.width} px): sign in, find a card payment by order id, refund part of it, see it in the timeline and the webhook log`, async () => {
      const { id, order } = await cardPayment();
      const context = await browser.newContext({ viewport: size.viewport, isMobile: size.isMobile, hasTouch: size.hasTouch, locale: 'ja-JP' });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      try {
        const shell = await page.goto(`${worker.base}/admin`);
        assert.match(shell.headers()['content-security-policy'], /frame-ancestors 'none'/);
        await signIn(page, 'admin', 'kessai-sandbox-admin');
        assert.equal(await page.getAttribute('html', 'lang'), 'ja');
        await page.getByRole('heading', { name: '決済一覧' }).waitFor();

        // Search by order id: the search is in the URL.
        await page.getByLabel('注文番号').fill(order);
        await page.getByRole('button', { name: '検索', exact: true }).click();
        await page.waitForFunction((o) => location.hash.includes(`order_id=${o}`), order);
        await page.getByRole('status').filter({ hasText: '1件' }).waitFor();
        await noOverflow(page, size.viewport.width);
        await page.getByRole('link', { name: order }).click();
        await page.getByRole('heading', { name: `決済詳細: ${order}` }).waitFor();
        assert.equal(await page.evaluate(() => location.hash), `#/payments/${id}`);
        assert.equal(await page.locator('dd.status').textContent(), '決済完了');

        // Partial refund, confirmed.
        await page.locator('button[data-action="refund"]').click();
        const dialog = page.getByRole('dialog');
        await dialog.waitFor();
        assert.equal(await page.locator('#confirm-amount').inputValue(), '2200', 'prefilled with what is refundable');
        await page.locator('#confirm-amount').fill('300');
        await dialog.getByRole('button', { name: /実行する/ }).click();
        await page.getByRole('status').filter({ hasText: '完了しました。' }).waitFor();
        await page.locator('dd.refunded', { hasText: '¥300' }).waitFor();
        assert.equal(await page.locator('dd.status').textContent(), '一部返金');
        await page.locator('.timeline li.t-operation', { hasText: 'refund ¥300 — succeeded' }).waitFor();
        await page.locator('.timeline li.t-state', { hasText: '一部返金' }).waitFor();
        await page.locator('.actions .refused', { hasText: 'この状態では取消できません。返金してください。' }).waitFor();
        assert.equal((await signedApi(worker, 'GET', `/v1/payments/${id}`)).json.refunded, 300, 'the refund is the payment\'s');
        await noOverflow(page, size.viewport.width);
        await page.screenshot({ path: join(ARTIFACTS, `admin-detail-${size.name}.png`), fullPage: true });

        // The webhook log shows the refund's event, delivered.
        await page.getByRole('link', { name: 'Webhook 配信履歴' }).click();
        await page.getByRole('heading', { name: 'Webhook 配信履歴' }).waitFor();
        const item = page.locator('li.delivery', { hasText: 'payment.partially_refunded' }).filter({ hasText: order });
        await item.first().waitFor();
        assert.match(await item.first().textContent(), /delivered/);
        await noOverflow(page, size.viewport.width);

        // English.
        await page.getByRole('button', { name: 'Switch to English' }).click();
        assert.equal(await page.getAttribute('html', 'lang'), 'en');
        await page.getByRole('heading', { name: 'Webhook deliveries' }).waitFor();
        await page.getByRole('link', { name: 'Payments' }).click();
        await page.getByRole('heading', { name: 'Payments' }).waitFor();
        // The only expected failures: GET /admin/api/me before signing in
        // (401; the page was opened twice).
        assert.deepEqual(errors.filter((e) => !/status of 401/.test(e)), []);
        assert.ok(errors.length <= 2, errors.join('\n'));
      } finally {
        await context.close();
      }
    });
  }

  it('a user turns on the second factor in the tool (recovery codes shown once), then signs in with a code from an authenticator', async () => {
    const login = await adminApi('', '', 'POST', 'login', { merchant_id: '99999', password: 'kessai-sandbox-admin' });
    const tom = await adminApi(login.cookie, login.json.csrf_token, 'POST', 'users', { user_id: 'tom', role: 'operator' });
    const context = await browser.newContext({ viewport: SIZES[0].viewport, locale: 'ja-JP' });
    const page = await context.newPage();
    const now = async () => (await api(worker, 'GET', '/__sandbox/clock')).json.now * 1000;
    try {
      await signIn(page, 'tom', tom.json.password);
      await page.getByRole('link', { name: '設定' }).click();
      await page.getByRole('button', { name: '二要素認証を設定する' }).click();
      const secret = (await page.locator('.totp-secret code').textContent()).trim();
      const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
      await page.getByLabel('認証アプリの6桁のコード').fill(totp.generate({ timestamp: await now() }));
      await page.getByRole('button', { name: '確認して有効にする' }).click();
      await page.locator('ul.recovery li').first().waitFor();
      assert.equal(await page.locator('ul.recovery li').count(), 10);
      await page.getByText('二要素認証 (認証アプリ): 有効').waitFor();
      await page.getByRole('button', { name: 'サインアウト', exact: true }).click();

      // Signing in now asks for the code.
      await page.locator('#merchant_id').fill('99999');
      await page.locator('#user_id').fill('tom');
      await page.locator('#password').fill(tom.json.password);
      await page.getByRole('button', { name: 'サインイン' }).click();
      await page.getByRole('alert').filter({ hasText: '認証アプリのコードを入力してください。' }).waitFor();
      await page.locator('#totp').fill(totp.generate({ timestamp: (await now()) + 30_000 }));
      await page.getByRole('button', { name: 'サインイン' }).click();
      await page.getByRole('navigation').waitFor();
      assert.match(await page.locator('.who').textContent(), /tom \(オペレーター\)/);
    } finally {
      await context.close();
    }
  });

  it('a viewer sees the payment and its actions but cannot refund', async () => {
    const { id, order } = await cardPayment();
    const context = await browser.newContext({ viewport: SIZES[0].viewport, locale: 'ja-JP' });
    const page = await context.newPage();
    try {
      await signIn(page, 'vera', viewerPassword);
      await page.evaluate((pid) => { location.hash = `#/payments/${pid}`; }, id);
      await page.getByRole('heading', { name: `決済詳細: ${order}` }).waitFor();
      await page.getByText('閲覧者の権限では決済を操作できません。').waitFor();
      assert.equal(await page.locator('button[data-action]').count(), 0, 'no action buttons');
      // And the server refuses it anyway.
      const r = await page.evaluate(async (pid) => {
        const res = await fetch(`/admin/api/payments/${pid}/refund`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-requested-with': 'kessai-admin' }, body: '{"amount":100}' });
        return res.status;
      }, id);
      assert.equal(r, 403);
      assert.equal((await signedApi(worker, 'GET', `/v1/payments/${id}`)).json.refunded, 0);
    } finally {
      await context.close();
    }
  });
});
