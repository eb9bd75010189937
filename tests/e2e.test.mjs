// End to end in real Chromium: a merchant page auto-submits a signed
// purchase form, the shopper pays on the hosted page (phone and PC sizes),
// and lands on the merchant's success or error page with a verified
// return form. Screenshots go to tests/artifacts/.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { advanceClock, api, ARTIFACTS, launchChromium, purchase, startMerchant, startWorker } from './lib/harness.mjs';


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

const SIZES = [
  { name: 'phone', viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true,
    userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36' },
  { name: 'pc', viewport: { width: 1280, height: 800 } },
];

let seq = 0;
async function shopperAtCheckout(size, overrides = {}, ready = '#netcash-id') {
  const context = await browser.newContext({ ...size, locale: 'ja-JP' });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // Chromium logs every non-2xx fetch ("Failed to load resource … 402"); a
  // refused payment is such an answer by design, so only other errors count.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  seq += 1;
  const key = `p${seq}`;
  merchant.pages.set(key, purchase(merchant, overrides));
  await page.goto(`${merchant.base}/shop/${key}`);
  await page.waitForURL(/\/pay\/pay_/);
  await page.locator(ready).waitFor({ state: 'visible' });
  return { context, page, problems };
}

async function noHorizontalScroll(page) {
  const { scroll, inner } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  assert.ok(scroll <= inner, `page is ${scroll}px wide in a ${inner}px window`);
}

describe('hosted page in Chromium', () => {
  for (const size of SIZES) {
    it(`${size.name}: pays with NET CASH and lands on the merchant's success page`, async () => {
      merchant.reset();
      const { context, page, problems } = await shopperAtCheckout(size);
      await assert.doesNotReject(page.getByText('緑茶 200g').first().waitFor());
      await assert.doesNotReject(page.getByText('1,100').first().waitFor());
      await noHorizontalScroll(page);
      // The ID formats as the shopper types.
      await page.locator('#netcash-id').pressSequentially('abcd1234efgh5678');
      assert.equal(await page.locator('#netcash-id').inputValue(), 'ABCD 1234 EFGH 5678');
      assert.ok(await page.locator('label[for="netcash-id"]').count() > 0, 'the input has a label');
      await page.screenshot({ path: join(ARTIFACTS, `netcash-${size.name}-checkout.png`), fullPage: true });
      await page.locator('#pay-button').click();
      await page.waitForURL(`${merchant.base}/success`);
      assert.equal(await page.locator('#res-result').textContent(), 'OK');
      assert.equal(await page.locator('#verified').textContent(), 'verified');
      await page.screenshot({ path: join(ARTIFACTS, `netcash-${size.name}-success.png`), fullPage: true });
      assert.equal(merchant.notifications.length, 1);
      assert.ok(merchant.notifications[0].verified);
      assert.deepEqual(problems, []);
      await context.close();
    });

    it(`${size.name}: insufficient balance is explained, and going back lands on error_url`, async () => {
      merchant.reset();
      const { context, page, problems } = await shopperAtCheckout(size);
      await page.locator('#netcash-id').fill('ABCD1234EFGH0000');
      await page.locator('#pay-button').click();
      const error = page.locator('#error');
      await error.waitFor({ state: 'visible' });
      assert.match(await error.textContent(), /残高/);
      await noHorizontalScroll(page);
      await page.screenshot({ path: join(ARTIFACTS, `netcash-${size.name}-insufficient.png`), fullPage: true });
      await page.locator('#cancel-button').click();
      await page.waitForURL(`${merchant.base}/error`);
      assert.equal(await page.locator('#res-result').textContent(), 'NG');
      assert.equal(await page.locator('#err').textContent(), 'insufficient_balance');
      assert.equal(await page.locator('#verified').textContent(), 'verified');
      await page.screenshot({ path: join(ARTIFACTS, `netcash-${size.name}-error.png`), fullPage: true });
      assert.deepEqual(problems, []);
      await context.close();
    });
  }

  it('switches to English and keeps working by keyboard alone', async () => {
    merchant.reset();
    const { context, page, problems } = await shopperAtCheckout(SIZES[1]);
    await page.locator('#lang-switch').click();
    await page.getByText('Pay').first().waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await page.locator('#netcash-id').focus();
    await page.keyboard.type('ABCD1234EFGH9999');
    await page.keyboard.press('Enter');
    const error = page.locator('#error');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /suspend/i);
    await page.screenshot({ path: join(ARTIFACTS, 'netcash-pc-english-suspended.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('phone: pays with a prepaid card and lands on the success page', async () => {
    merchant.reset();
    const { context, page, problems } = await shopperAtCheckout(SIZES[0], { pay_method: 'prepaid' }, '#prepaid-number');
    const input = page.locator('#prepaid-number');
    assert.equal(await input.getAttribute('inputmode'), 'numeric');
    assert.equal(await input.getAttribute('autocomplete'), 'off');
    // Too short: the message is under the field, the field has the focus.
    await input.pressSequentially('12345678');
    await page.locator('#pay-button').click();
    await page.locator('#prepaid-number-error').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'prepaid-number');
    await input.pressSequentially('12345678');
    assert.equal(await input.inputValue(), '1234 5678 1234 5678');
    await noHorizontalScroll(page);
    await page.screenshot({ path: join(ARTIFACTS, 'prepaid-phone-checkout.png'), fullPage: true });
    await page.locator('#pay-button').click();
    await page.waitForURL(`${merchant.base}/success`);
    assert.equal(await page.locator('#res-result').textContent(), 'OK');
    assert.equal(await page.locator('#verified').textContent(), 'verified');
    assert.equal(merchant.notifications.length, 1);
    assert.equal(merchant.notifications[0].payload.data.method, 'prepaid');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('phone: an unclear provider answer (prepaid fault 9002) shows "checking your payment", offers no second attempt, and lands on success once the provider has told us', async () => {
    merchant.reset();
    const { context, page, problems } = await shopperAtCheckout(SIZES[0], { pay_method: 'prepaid', amount: '9002', tax: '0' }, '#prepaid-number');
    await page.locator('#prepaid-number').fill('5432109876541234');
    await page.locator('#pay-button').click();
    await page.getByText('お支払いを確認しています').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#pay-button').count(), 0, 'no pay button while the first attempt is unknown');
    await page.screenshot({ path: join(ARTIFACTS, 'reconciling-phone.png'), fullPage: true });
    await advanceClock(worker, 30);
    await page.waitForURL(`${merchant.base}/success`, { timeout: 30000 });
    assert.equal(await page.locator('#res-result').textContent(), 'OK');
    assert.equal((await api(worker, 'GET', '/sandbox/prepaid/cards/5432109876541234')).json.balance, 10000 - 9002, 'charged once');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('phone: a prepaid card without balance is explained in prepaid terms', async () => {
    merchant.reset();
    const { context, page, problems } = await shopperAtCheckout(SIZES[0], { pay_method: 'prepaid' }, '#prepaid-number');
    await page.locator('#prepaid-number').fill('9876543210980000');
    await page.locator('#pay-button').click();
    const error = page.locator('#error');
    await error.waitFor({ state: 'visible' });
    const text = await error.textContent();
    assert.match(text, /残高/);
    assert.match(text, /プリペイドカード/);
    assert.doesNotMatch(text, /NET CASH/);
    await noHorizontalScroll(page);
    await page.screenshot({ path: join(ARTIFACTS, 'prepaid-phone-insufficient.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('phone: the method picker works by keyboard alone (arrow keys, then Enter)', async () => {
    merchant.reset();
    const { context, page, problems } = await shopperAtCheckout(SIZES[0], { pay_method: 'netcash,prepaid' });
    const radios = page.locator('input[type=radio][name=method]');
    assert.equal(await radios.count(), 2);
    assert.ok(await page.locator('#method-netcash').isChecked());
    await page.locator('#method-netcash').focus();
    await page.keyboard.press('ArrowDown');
    assert.ok(await page.locator('#method-prepaid').isChecked());
    await page.locator('#prepaid-number').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#netcash-id').count(), 0);
    await noHorizontalScroll(page);
    await page.screenshot({ path: join(ARTIFACTS, 'picker-phone-prepaid.png'), fullPage: true });
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'prepaid-number');
    await page.keyboard.type('2345678923456789');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${merchant.base}/success`);
    assert.equal(await page.locator('#res-result').textContent(), 'OK');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('phone: every method\'s form fits a 360 px screen (card, NP and au answers are covered by the widget\'s browser tests)', async () => {
    merchant.reset();
    const context = await browser.newContext({ ...SIZES[0], locale: 'ja-JP' });
    const page = await context.newPage();
    // No pay_method: every method the sandbox merchant has is offered.
    seq += 1;
    merchant.pages.set(`p${seq}`, purchase(merchant, { pay_method: '' }));
    await page.goto(`${merchant.base}/shop/p${seq}`);
    await page.locator('#method-card').waitFor();
    for (const [method, field] of [['prepaid', '#prepaid-number'], ['np', '#np-name'], ['au', '#au-button'], ['card', '#card-number']]) {
      await page.locator(`#method-${method}`).check();
      await page.locator(field).waitFor({ state: 'visible' });
      if (method === 'np') {
        await page.locator('#pay-button').click();
        await page.locator('#np-email-error').waitFor({ state: 'visible' });
        assert.equal(await page.evaluate(() => document.activeElement?.id), 'np-name');
      }
      if (method === 'card') {
        await page.locator('#card-number').pressSequentially('4111111111111111');
        assert.equal(await page.locator('#card-brand').textContent(), 'Visa');
        assert.equal(await page.locator('#card-option option').count(), 21);
        await page.locator('#card-option').selectOption('installment-3');
      }
      await noHorizontalScroll(page);
      await page.screenshot({ path: join(ARTIFACTS, `form-${method}-phone.png`), fullPage: true });
    }
    await context.close();
  });

  it('phone: pays with NET CASH Wallet (log in at NET CASH, pick a registered ID) and lands on success', async () => {
    merchant.reset();
    const { context, page, problems } = await shopperAtCheckout(SIZES[0], { pay_method: 'netcash' });
    await page.locator('#netcash-wallet-button').click();
    await page.waitForURL(/\/sandbox\/netcash\/wallet\/login/);
    await noHorizontalScroll(page);
    await page.locator('#wallet-user').fill('wallet-ok');
    await page.locator('#wallet-password').fill('secret');
    await page.locator('#wallet-login').click();
    await page.locator('#wid-1').check();
    await page.screenshot({ path: join(ARTIFACTS, 'netcash-wallet-phone-pick.png'), fullPage: true });
    await page.locator('#wallet-pay').click();
    await page.waitForURL(`${merchant.base}/success`);
    assert.equal(await page.locator('#res-result').textContent(), 'OK');
    assert.equal(await page.locator('#verified').textContent(), 'verified');
    assert.deepEqual(problems, []);
    await context.close();
  });

  for (const size of SIZES) {
    it(`${size.name}: pays by card with 3 installments (JPO) and lands on success`, async () => {
      merchant.reset();
      const { context, page, problems } = await shopperAtCheckout(size, { pay_method: 'card' }, '#card-number');
      await page.locator('#card-number').pressSequentially('4111111111111111');
      assert.equal(await page.locator('#card-number').inputValue(), '4111 1111 1111 1111');
      await page.locator('#card-exp-month').fill('12');
      await page.locator('#card-exp-year').fill('39');
      await page.locator('#card-cvc').fill('123');
      await page.locator('#card-option').selectOption('installment-3');
      await noHorizontalScroll(page);
      await page.screenshot({ path: join(ARTIFACTS, `card-${size.name}-checkout.png`), fullPage: true });
      await page.locator('#pay-button').click();
      await page.waitForURL(`${merchant.base}/success`);
      assert.equal(await page.locator('#verified').textContent(), 'verified');
      assert.deepEqual(problems, []);
      await context.close();
    });

    it(`${size.name}: a declined card is explained and the shopper can go back to error_url`, async () => {
      merchant.reset();
      const { context, page, problems } = await shopperAtCheckout(size, { pay_method: 'card' }, '#card-number');
      await page.locator('#card-number').fill('4000000000000002');
      await page.locator('#card-exp-month').fill('12');
      await page.locator('#card-exp-year').fill('39');
      await page.locator('#card-cvc').fill('123');
      await page.locator('#pay-button').click();
      const error = page.locator('#error');
      await error.waitFor({ state: 'visible' });
      assert.match(await error.textContent(), /カード/);
      await page.screenshot({ path: join(ARTIFACTS, `card-${size.name}-declined.png`), fullPage: true });
      await page.locator('#cancel-button').click();
      await page.waitForURL(`${merchant.base}/error`);
      assert.equal(await page.locator('#err').textContent(), 'card_declined');
      assert.deepEqual(problems, []);
      await context.close();
    });

    it(`${size.name}: NP postpaid: the buyer form is checked, then the order is accepted; a declined screening is explained`, async () => {
      merchant.reset();
      const { context, page, problems } = await shopperAtCheckout(size, { pay_method: 'np' }, '#np-name');
      await page.locator('#pay-button').click();
      assert.equal(await page.locator('#np-name').getAttribute('aria-invalid'), 'true', 'empty fields are marked');
      await page.locator('#np-name').fill('山田 太郎');
      await page.locator('#np-kana').fill('ヤマダ タロウ');
      await page.locator('#np-postal-code').fill('150-0001');
      await page.locator('#np-address').fill('東京都渋谷区神宮前1-2-3');
      await page.locator('#np-phone').fill('03-1234-5678');
      await page.locator('#np-email').fill('taro@decline.example');
      await page.locator('#pay-button').click();
      await page.locator('#error').waitFor({ state: 'visible' });
      await page.screenshot({ path: join(ARTIFACTS, `np-${size.name}-declined.png`), fullPage: true });
      await page.locator('#np-email').fill('taro@example.jp');
      await page.locator('#pay-button').click();
      await page.waitForURL(`${merchant.base}/success`);
      assert.equal(await page.locator('#res-result').textContent(), 'OK');
      assert.deepEqual(problems, []);
      await context.close();
    });
  }

  it('a bad purchase request shows an error page in the browser, not a redirect', async () => {
    const context = await browser.newContext(SIZES[0]);
    const page = await context.newPage();
    merchant.pages.set('bad', { ...purchase(merchant), amount: '1000' });
    await page.goto(`${merchant.base}/shop/bad`);
    await page.waitForURL(`${worker.base}/link/purchase`);
    assert.equal(await page.locator('#error-code').textContent(), 'bad_signature');
    await noHorizontalScroll(page);
    await page.screenshot({ path: join(ARTIFACTS, 'purchase-refused-phone.png'), fullPage: true });
    await context.close();
  });
});
