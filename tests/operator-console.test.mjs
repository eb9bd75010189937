// The operators' console (issue 11 §6): `GET /operator/stuck-payments`
// lists payments left in processing/reconciling past their deadline, and
// the console at /operator (Chromium) shows merchants, creates one (its
// keys and first user's password shown once), the stuck payments and the
// operator audit.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARTIFACTS, ROOT, api, launchChromium, openCheckout, purchase, startMerchant, startWorker } from './lib/harness.mjs';

let worker;
let merchant;
let browser;
let stuck;
let fine;

const TOKEN = 'kessai-sandbox-operator';
const operator = async (path, token = TOKEN) => {
  const r = await fetch(`${worker.base}/operator/${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, json: await r.json().catch(() => null) };
};

function d1(sql) {
  execFileSync(join(ROOT, 'node_modules', '.bin', 'wrangler'), ['d1', 'execute', 'DB', '--local', '--persist-to', worker.stateDir, '--command', sql], {
    cwd: join(ROOT, 'edge-worker'),
    env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

before(async () => {
  worker = await startWorker();
  merchant = await startMerchant();
  browser = await launchChromium();
  stuck = await openCheckout(worker, purchase(merchant));
  fine = await openCheckout(worker, purchase(merchant));
  // The index as a payment left behind leaves it: reconciling, its check
  // due an hour ago, unchanged for an hour.
  const hourAgo = Math.floor(Date.now() / 1000) - 3600;
  d1(`UPDATE payments SET status = 'reconciling', updated_at = ${hourAgo}, due_at = ${hourAgo} WHERE payment_id = '${stuck}'`);
  d1(`UPDATE payments SET status = 'processing' WHERE payment_id = '${fine}'`);
});
after(async () => {
  await browser?.close();
  await worker?.stop();
  await merchant?.close();
});

describe('stuck payments', () => {
  it('lists payments in processing or reconciling past their deadline (operator token only), not those still within it', async () => {
    assert.equal((await operator('stuck-payments', 'wrong')).status, 401);
    const r = await operator('stuck-payments');
    assert.equal(r.status, 200);
    const ids = r.json.data.map((p) => p.payment_id);
    assert.ok(ids.includes(stuck), JSON.stringify(r.json));
    assert.ok(!ids.includes(fine), 'just changed, its check not overdue');
    const s = r.json.data.find((p) => p.payment_id === stuck);
    assert.equal(s.status, 'reconciling');
    assert.equal(s.merchant_id, '99999');
    assert.ok(s.stuck_for_seconds >= 3600 && s.overdue_seconds >= 3600);
    assert.ok((await operator('stuck-payments?older_than=0')).json.data.some((p) => p.payment_id === fine), 'older_than=0: every one in those states');
    assert.equal((await operator('stuck-payments?older_than=soon')).json.error.code, 'invalid_query');
  });
});

describe('operators\' console in Chromium', () => {
  for (const viewport of [{ width: 360, height: 740 }, { width: 1280, height: 800 }]) {
    it(`${viewport.width} px: opens with the token; merchants, creating one (shown once), stuck payments, audit`, async () => {
      const context = await browser.newContext({ viewport, locale: 'ja-JP' });
      const page = await context.newPage();
      try {
        const shell = await page.goto(`${worker.base}/operator`);
        assert.match(shell.headers()['content-security-policy'], /frame-ancestors 'none'/);
        await page.getByLabel(/Operator token/).fill('wrong');
        await page.getByRole('button', { name: /Open/ }).click();
        await page.getByRole('alert').waitFor();
        await page.getByLabel(/Operator token/).fill(TOKEN);
        await page.getByRole('button', { name: /Open/ }).click();
        await page.locator('table.merchants td', { hasText: '99999/001' }).waitFor();

        const id = `4${String(viewport.width).padStart(4, '0')}`; // five digits
        await page.getByLabel(/Merchant ID/).fill(id);
        await page.getByLabel(/^名称/).fill('Console Shop');
        await page.getByLabel(/Allowed origins/).fill('https://shop.example.jp');
        await page.getByRole('button', { name: /Create/ }).click();
        const secret = page.locator('.secret');
        await secret.waitFor();
        assert.match(await secret.textContent(), /hash_key: [0-9a-f]{64}/);
        assert.match(await secret.textContent(), /admin \/ [0-9a-f]{32}/);
        await page.locator('table.merchants td', { hasText: `${id}/001` }).waitFor();

        await page.getByRole('link', { name: /Stuck payments/ }).click();
        await page.locator('table.stuck td', { hasText: stuck }).waitFor();
        assert.equal(await page.locator('table.stuck td', { hasText: fine }).count(), 0);
        await page.screenshot({ path: join(ARTIFACTS, `operator-stuck-${viewport.width}.png`), fullPage: true });

        await page.getByRole('link', { name: /Audit/ }).click();
        await page.locator('td', { hasText: 'GET /operator/stuck-payments' }).first().waitFor();
        const w = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(w <= viewport.width, `${w} px wide`);
      } finally {
        await context.close();
      }
    });
  }

  it('the API stays closed without the token (the page holds none)', async () => {
    const html = await (await fetch(`${worker.base}/operator`)).text();
    assert.ok(!html.includes(TOKEN));
    assert.equal((await api(worker, 'GET', '/operator/merchants')).status, 401);
  });
});
