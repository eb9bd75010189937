// PRODUCT §3.1: every refusal of POST /link/purchase is a clear error page
// with a code, and changes nothing (the order id stays free).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SANDBOX, api, jst, openCheckout, postPurchase, purchase, startMerchant, startWorker, formBody } from './lib/harness.mjs';

let worker;
let merchant;

before(async () => {
  merchant = await startMerchant();
  worker = await startWorker();
});
after(async () => {
  await worker?.stop();
  await merchant?.close();
});

async function refused(res, status, code) {
  const html = await res.text();
  assert.equal(res.status, status, html.slice(0, 400));
  assert.equal(res.headers.get('location'), null, 'a refusal never redirects');
  assert.match(res.headers.get('content-type'), /text\/html/);
  assert.match(html, new RegExp(`<code id="error-code">${code}</code>`), html.slice(0, 600));
  assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
}

describe('purchase request', () => {
  it('a good request is stored and answered with a 303 to the session page (POST-redirect-GET)', async () => {
    const res = await postPurchase(worker, purchase(merchant));
    assert.equal(res.status, 303);
    const loc = res.headers.get('location');
    assert.match(loc, /^\/pay\/pay_[0-9a-z]{26}$/);
    const page = await fetch(`${worker.base}${loc}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /id="app"/);
    assert.match(page.headers.get('content-security-policy'), /script-src 'self' 'wasm-unsafe-eval'/);
    // Reload works: the page is a GET.
    assert.equal((await fetch(`${worker.base}${loc}`)).status, 200);
  });

  const now = new Date();
  const table = [
    ['bad signature (amount changed after signing)', (m) => ({ ...purchase(m), amount: '1000' }), 403, 'bad_signature'],
    ['signed with another key', (m) => purchase(m, {}, 'not-the-key'), 403, 'bad_signature'],
    ['unknown merchant', (m) => purchase(m, { merchant_id: '12345' }), 403, 'unknown_merchant'],
    ['request_date older than limit_second', (m) => purchase(m, { request_date: jst(new Date(now - 601_000)) }), 400, 'request_expired'],
    ['request_date more than 5 minutes ahead', (m) => purchase(m, { request_date: jst(new Date(+now + 400_000)) }), 400, 'request_date_in_future'],
    ['amount 0', (m) => purchase(m, { amount: '0', tax: '0' }), 400, 'invalid_field'],
    ['negative amount', (m) => purchase(m, { amount: '-1100' }), 400, 'invalid_field'],
    ['fractional amount', (m) => purchase(m, { amount: '1100.5' }), 400, 'invalid_field'],
    ['success_url outside the registered origins', (m) => purchase(m, { success_url: 'https://evil.example/ok' }), 403, 'url_not_allowed'],
    ['pagecon_url outside the registered origins', (m) => purchase(m, { pagecon_url: 'http://10.0.0.1/notify' }), 403, 'url_not_allowed'],
    ['javascript: URL', (m) => purchase(m, { error_url: 'javascript:alert(1)' }), 400, 'invalid_field'],
    ['unknown pay_method', (m) => purchase(m, { pay_method: 'bitcoin' }), 400, 'invalid_field'],
    ['unknown pay_type', (m) => purchase(m, { pay_type: 'weekly' }), 400, 'invalid_field'],
    ['unknown field', (m) => purchase(m, { colour: 'red' }), 400, 'unknown_field'],
    ['missing hashcode', (m) => { const f = purchase(m); delete f.hashcode; return f; }, 400, 'missing_field'],
    ['missing order_id', (m) => purchase(m, { order_id: undefined }), 400, 'missing_field'],
    ['limit_second above 3600', (m) => purchase(m, { limit_second: '3601' }), 400, 'invalid_field'],
    ['NET CASH cannot do recurring', (m) => purchase(m, { pay_type: 'recurring_simple' }), 422, 'no_method_available'],
  ];
  for (const [name, make, status, code] of table) {
    it(`refuses: ${name}, and the order id stays unused`, async () => {
      const fields = make(merchant);
      await refused(await postPurchase(worker, fields), status, code);
      // Nothing was reserved: the same order id still opens a checkout.
      if (fields.order_id && code !== 'unknown_merchant') {
        await openCheckout(worker, purchase(merchant, { order_id: fields.order_id }));
      }
    });
  }

  it('refuses a reused order_id', async () => {
    const fields = purchase(merchant);
    await openCheckout(worker, fields);
    await refused(await postPurchase(worker, purchase(merchant, { order_id: fields.order_id })), 409, 'order_id_reused');
  });

  it('concurrent purchase requests (written together): each gets its own checkout, and an order id sent ten times at once opens one', async () => {
    // 30 requests at once: 20 new order ids (amounts 2001…2020) and one
    // order id ten times. The concurrent rows go to D1 together
    // (edge-worker/src/reserve.rs), so duplicates meet inside one batch too.
    const twice = purchase(merchant, { amount: '3000', tax: '0' });
    const forms = [
      ...Array.from({ length: 20 }, (_, i) => purchase(merchant, { amount: String(2001 + i), tax: '0' })),
      ...Array.from({ length: 10 }, () => twice),
    ];
    const answers = await Promise.all(forms.map(async (f) => {
      const res = await postPurchase(worker, f);
      return { f, status: res.status, location: res.headers.get('location'), html: await res.text() };
    }));
    const opened = answers.filter((a) => a.status === 303);
    const refusedOnes = answers.filter((a) => a.status !== 303);
    assert.equal(opened.length, 21, answers.map((a) => a.status).join(' '));
    assert.equal(new Set(opened.map((a) => a.location)).size, 21, 'every checkout its own payment');
    assert.equal(refusedOnes.length, 9);
    for (const a of refusedOnes) {
      assert.equal(a.status, 409);
      assert.match(a.html, /<code id="error-code">order_id_reused<\/code>/);
    }
    // Each checkout is the one its request asked for.
    for (const a of opened) {
      const s = await api(worker, 'GET', `${a.location}/session`);
      assert.equal(s.status, 200, s.text);
      assert.equal(s.json.amount, Number(a.f.amount));
    }
    // The order id written once stays taken.
    await refused(await postPurchase(worker, twice), 409, 'order_id_reused');
  });

  it('refuses a duplicated field', async () => {
    const body = formBody(purchase(merchant)) + '&amount=1';
    await refused(await postPurchase(worker, body), 400, 'duplicate_field');
  });

  it('refuses a body that is not a form, and GET', async () => {
    await refused(await postPurchase(worker, formBody(purchase(merchant)), { headers: { 'content-type': 'application/json' } }), 415, 'unsupported_media_type');
    await refused(await fetch(`${worker.base}/link/purchase`, { redirect: 'manual' }), 405, 'method_not_allowed');
  });

  it('answers unknown payment pages with 404', async () => {
    await refused(await fetch(`${worker.base}/pay/pay_00000000000000000000000000`), 404, 'payment_not_found');
    await refused(await fetch(`${worker.base}/pay/../../etc`), 404, 'not_found').catch(async () => {
      // URL normalisation may turn this into another path; it must still be a 404.
      assert.equal((await fetch(`${worker.base}/pay/%2e%2e`)).status, 404);
    });
    const r = await fetch(`${worker.base}/pay/nonsense/session`);
    assert.equal(r.status, 404);
    assert.equal((await r.json()).error.code, 'not_found');
  });

});
