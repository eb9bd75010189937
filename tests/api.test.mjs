// The merchant API (PRODUCT §4): signatures, idempotency, and the method
// rules of §2 for what this build supports, against the real Worker.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, api, openCheckout, purchase, signedApi, startMerchant, startWorker } from './lib/harness.mjs';

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

let idSeq = 0;
const freshId = () => `AP${String(Date.now() % 1e8).padStart(8, '0')}${String(++idSeq).padStart(2, '0')}ABCD`;

async function paidNetcash() {
  const pay = await openCheckout(worker, purchase(merchant));
  assert.equal((await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: freshId() })).json.status, 'paid');
  return pay;
}

describe('merchant API authentication', () => {
  const now = Math.floor(Date.now() / 1000);
  const table = [
    ['no merchant header', { headers: { 'x-kessai-merchant': undefined } }, 'missing_merchant_header'],
    ['no timestamp header', { headers: { 'x-kessai-timestamp': undefined } }, 'missing_timestamp_header'],
    ['no signature header', { headers: { 'x-kessai-signature': undefined } }, 'missing_signature_header'],
    ['wrong key', { key: 'not-the-hash-key' }, 'bad_signature'],
    ['unknown merchant', { merchantId: '00000' }, 'unknown_merchant'],
    ['timestamp 301 s old', { tamper: { timestamp: now - 400 } }, 'timestamp_out_of_window'],
    ['timestamp 301 s ahead', { tamper: { timestamp: now + 400 } }, 'timestamp_out_of_window'],
    ['body changed after signing', { tamper: { body: '{"webhook_url":null}' } }, 'bad_signature'],
    ['path changed after signing', { tamper: { path: '/v1/payments' } }, 'bad_signature'],
  ];
  for (const [name, opts, code] of table) {
    it(`refuses: ${name} (401 ${code}) and changes nothing`, async () => {
      const before = (await signedApi(worker, 'GET', '/v1/merchant')).json;
      const r = await signedApi(worker, 'PUT', '/v1/merchant', { enabled_methods: ['card'] }, opts);
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.error.code, code);
      assert.ok(!r.text.includes('kessai-sandbox-hash-key'), 'no secret in the answer');
      assert.deepEqual((await signedApi(worker, 'GET', '/v1/merchant')).json, before);
    });
  }

  it('accepts a correctly signed request with a query string', async () => {
    const r = await signedApi(worker, 'GET', '/v1/payments?limit=5');
    assert.equal(r.status, 200, r.text);
    assert.ok(Array.isArray(r.json.data));
  });

  it('unknown routes and methods get JSON errors', async () => {
    assert.equal((await signedApi(worker, 'GET', '/v1/nothing')).json.error.code, 'no_such_route');
    assert.equal((await signedApi(worker, 'DELETE', '/v1/merchant')).json.error.code, 'method_not_allowed');
  });
});

describe('merchant settings', () => {
  it('reads the sandbox merchant of PRODUCT §9', async () => {
    const m = (await signedApi(worker, 'GET', '/v1/merchant')).json;
    assert.equal(m.merchant_id, '99999');
    assert.equal(m.service_id, '001');
    assert.deepEqual(m.allowed_origins, ['http://127.0.0.1', 'http://localhost']);
    assert.deepEqual(m.enabled_methods, ['netcash', 'prepaid', 'np', 'au', 'card']);
    assert.ok(!JSON.stringify(m).includes('kessai-sandbox-hash-key'));
  });

  it('refuses bad settings with a code and changes nothing', async () => {
    const before = (await signedApi(worker, 'GET', '/v1/merchant')).json;
    for (const [body, code] of [
      [{ allowed_origins: ['not an origin'] }, 'invalid_origin'],
      [{ enabled_methods: ['bitcoin'] }, 'invalid_method'],
      [{ webhook_url: 'ftp://x' }, 'invalid_webhook_url'],
      [{ colour: 'red' }, 'invalid_body'],
    ]) {
      const r = await signedApi(worker, 'PUT', '/v1/merchant', body);
      assert.equal(r.json.error.code, code, r.text);
    }
    assert.deepEqual((await signedApi(worker, 'GET', '/v1/merchant')).json, before);
  });
});

describe('idempotency', () => {
  it('the same key and body replays the first answer; another body is a 409', async () => {
    const key = `idem-${Date.now()}`;
    const body = { webhook_url: `${merchant.base}/webhooks` };
    const first = await signedApi(worker, 'PUT', '/v1/merchant', body, { headers: { 'idempotency-key': key } });
    assert.equal(first.status, 200);
    const again = await signedApi(worker, 'PUT', '/v1/merchant', body, { headers: { 'idempotency-key': key } });
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.json, first.json);
    const other = await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: null }, { headers: { 'idempotency-key': key } });
    assert.equal(other.status, 409);
    assert.equal(other.json.error.code, 'idempotency_key_reused');
    assert.equal((await signedApi(worker, 'GET', '/v1/merchant')).json.webhook_url, `${merchant.base}/webhooks`, 'the refused call changed nothing');
  });

  it('concurrent calls with one key execute once', async () => {
    const pay = await paidNetcash();
    const events = (await signedApi(worker, 'GET', `/v1/payments/${pay}/events`)).json.data;
    const result = events.find((e) => e.type === 'payment.result');
    const before = merchant.notifications.length;
    const key = `idem-resend-${Date.now()}`;
    const calls = await Promise.all([1, 2, 3, 4].map(() =>
      signedApi(worker, 'POST', `/v1/payments/${pay}/events/${result.id}/resend`, undefined, { headers: { 'idempotency-key': key } })));
    const ok = calls.filter((c) => c.status === 200);
    assert.ok(ok.length >= 1, JSON.stringify(calls.map((c) => c.json)));
    for (const c of calls.filter((c) => c.status !== 200)) assert.equal(c.json.error.code, 'idempotency_key_in_use');
    assert.equal(merchant.notifications.length - before, 1, 'the re-send ran once');
    const after = (await signedApi(worker, 'GET', `/v1/payments/${pay}/events`)).json.data.find((e) => e.id === result.id);
    assert.equal(after.attempts.length, 2, 'one original attempt and one re-send');
  });
});

describe('payments', () => {
  it('gets a payment with its history, and lists and searches payments with a cursor', async () => {
    const pay = await paidNetcash();
    const p = await signedApi(worker, 'GET', `/v1/payments/${pay}`);
    assert.equal(p.status, 200);
    assert.equal(p.json.status, 'paid');
    assert.equal(p.json.method, 'netcash');
    assert.match(p.json.instrument, /^NET CASH \*\*\*\*[0-9A-Z]{4}$/);
    assert.deepEqual(p.json.history.map((h) => h.status), ['pending', 'processing', 'paid']);
    assert.ok(!JSON.stringify(p.json).match(/AP\d{10}ABCD/), 'the NET CASH ID is not stored');

    const byOrder = await signedApi(worker, 'GET', `/v1/payments?order_id=${encodeURIComponent(p.json.order_id)}`);
    assert.deepEqual(byOrder.json.data.map((x) => x.tracking_id), [pay]);
    const paid = await signedApi(worker, 'GET', '/v1/payments?status=paid&method=netcash&limit=1');
    assert.equal(paid.json.data.length, 1);
    assert.ok(paid.json.next_cursor);
    const page2 = await signedApi(worker, 'GET', `/v1/payments?status=paid&limit=1&cursor=${encodeURIComponent(paid.json.next_cursor)}`);
    assert.equal(page2.status, 200);
    assert.notEqual(page2.json.data[0]?.tracking_id, paid.json.data[0].tracking_id);
    assert.equal((await signedApi(worker, 'GET', '/v1/payments?limit=0')).json.error.code, 'invalid_query');
    assert.equal((await signedApi(worker, 'GET', '/v1/payments/pay_00000000000000000000000000')).status, 404);
  });

  // PRODUCT §2: NET CASH sales are automatic and final; refunds only through the administration tool.
  for (const [action, code] of [['refund', 'refund_via_admin_tool'], ['cancel', 'not_cancellable'], ['settle', 'not_settleable']]) {
    it(`rule: a NET CASH ${action} through the API is refused (${code}) and changes nothing`, async () => {
      const pay = await paidNetcash();
      const r = await signedApi(worker, 'POST', `/v1/payments/${pay}/${action}`, { amount: 100 });
      assert.equal(r.status, 422);
      assert.equal(r.json.error.code, code);
      assert.ok(r.json.error.message.length > 20);
      const p = await signedApi(worker, 'GET', `/v1/payments/${pay}`);
      assert.equal(p.json.status, 'paid');
      assert.equal(p.json.refunded, 0);
    });
  }

  it('the OpenAPI document is served', async () => {
    const r = await fetch(`${worker.base}/openapi.json`);
    assert.equal(r.status, 200);
    const served = await r.json();
    assert.deepEqual(served, JSON.parse(readFileSync(join(ROOT, 'static/openapi.json'), 'utf8')));
  });
});

describe('checkouts through the API', () => {
  const body = (overrides = {}) => ({
    order_id: `api-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
    item_name: '緑茶 200g',
    amount: 1100,
    tax: 100,
    pay_method: ['netcash'],
    success_url: `${merchant.base}/success`,
    cancel_url: `${merchant.base}/cancel`,
    error_url: `${merchant.base}/error`,
    pagecon_url: `${merchant.base}/notify`,
    ...overrides,
  });

  it('creates the same checkout as the link form and returns its URL', async () => {
    const r = await signedApi(worker, 'POST', '/v1/checkouts', body());
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.url, `${worker.base}/pay/${r.json.tracking_id}`);
    const page = await fetch(r.json.url);
    assert.equal(page.status, 200);
    const s = await api(worker, 'GET', `/pay/${r.json.tracking_id}/session`);
    assert.equal(s.json.amount, 1100);
    assert.deepEqual(s.json.methods.map((m) => m.method), ['netcash']);
    assert.equal((await api(worker, 'POST', `/pay/${r.json.tracking_id}/netcash`, { netcash_id: freshId() })).json.status, 'paid');
  });

  it('refuses what the link form refuses, with the same codes, and creates nothing', async () => {
    const first = body();
    assert.equal((await signedApi(worker, 'POST', '/v1/checkouts', first)).status, 201);
    const again = await signedApi(worker, 'POST', '/v1/checkouts', { ...body(), order_id: first.order_id });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'order_id_reused');
    for (const [overrides, code] of [
      [{ amount: 0 }, 'invalid_field'],
      [{ success_url: 'https://evil.example/ok' }, 'url_not_allowed'],
      [{ pay_method: ['bitcoin'] }, 'invalid_field'],
      [{ hashcode: 'x' }, 'unknown_field'],
      [{ pay_type: 'recurring_simple' }, 'no_method_available'],
    ]) {
      const b = body(overrides);
      const r = await signedApi(worker, 'POST', '/v1/checkouts', b);
      assert.equal(r.status, 422, r.text);
      assert.equal(r.json.error.code, code);
      const list = await signedApi(worker, 'GET', `/v1/payments?order_id=${b.order_id}`);
      assert.deepEqual(list.json.data, [], 'nothing was created');
    }
  });
});
