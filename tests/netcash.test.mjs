// A NET CASH payment over HTTP against the real Worker and its NET CASH
// sandbox (PRODUCT §2 NET CASH, §3, §5, §9).

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { api, openCheckout, purchase, returnForm, startMerchant, startWorker, verifyReturnForm } from './lib/harness.mjs';

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
beforeEach(() => merchant.reset());

async function balance(id) {
  return (await api(worker, 'GET', `/sandbox/netcash/ids/${id}`)).json.balance;
}

let idSeq = 0;
/** A fresh NET CASH ID with the given last four characters. */
function freshId(last4 = 'A1B2') {
  idSeq += 1;
  return `T${String(process.pid % 1000).padStart(3, '0')}${String(Date.now() % 1e6).padStart(6, '0')}${String(idSeq).padStart(2, '0')}`.slice(0, 12) + last4;
}

describe('NET CASH', () => {
  it('pays: debits the sandbox, notifies the merchant (Standard Webhooks), returns the shopper to success_url with a signed form', async () => {
    const id = freshId();
    const fields = purchase(merchant);
    const pay = await openCheckout(worker, fields);

    const session = await api(worker, 'GET', `/pay/${pay}/session`);
    assert.equal(session.status, 200);
    assert.equal(session.json.amount, 1100);
    assert.equal(session.json.tax, 100);
    assert.equal(session.json.merchant_name, 'Kessai Sandbox Shop');
    assert.deepEqual(session.json.methods.map((m) => m.method), ['netcash']);
    assert.equal(session.json.status, 'pending');

    const before = await balance(id);
    assert.equal(before, 10000);
    const r = await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: id.toLowerCase().replace(/(.{4})/g, '$1 ').trim() });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'paid');
    assert.equal(r.json.next, `/pay/${pay}/return`);
    assert.equal(await balance(id), 10000 - 1100);

    assert.equal(merchant.notifications.length, 1);
    const n = merchant.notifications[0];
    assert.ok(n.verified, n.error);
    assert.equal(n.payload.type, 'payment.result');
    assert.equal(n.headers['webhook-id'], n.payload.id);
    assert.deepEqual(
      { order: n.payload.data.order_id, tracking: n.payload.data.tracking_id, method: n.payload.data.method, amount: n.payload.data.amount, status: n.payload.data.status, free1: n.payload.data.free1 },
      { order: fields.order_id, tracking: pay, method: 'netcash', amount: 1100, status: 'paid', free1: 'memo & more' },
    );
    assert.ok(!n.body.includes(id), 'the NET CASH ID never leaves the Worker');

    const ret = await fetch(`${worker.base}/pay/${pay}/return`);
    const { action, fields: back } = returnForm(await ret.text());
    assert.equal(action, `${merchant.base}/success`);
    assert.equal(back.res_result, 'OK');
    assert.equal(back.res_pay_method, 'netcash');
    assert.equal(back.res_tracking_id, pay);
    assert.equal(back.order_id, fields.order_id);
    assert.match(back.res_payment_date, /^\d{14}$/);
    assert.ok(verifyReturnForm(back), 'return hashcode verifies');
    assert.match(ret.headers.get('content-security-policy'), new RegExp(`form-action ${merchant.base}`));

    // Paying again changes nothing.
    const again = await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: id });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'already_finished');
    assert.equal(await balance(id), 10000 - 1100);
    assert.equal((await api(worker, 'GET', `/pay/${pay}/session`)).json.status, 'paid');
  });

  it('insufficient balance: the shopper is told, may retry, and going back lands on error_url with NG', async () => {
    const pay = await openCheckout(worker, purchase(merchant));
    const poor = freshId('0000');
    const r = await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: poor });
    assert.equal(r.status, 402);
    assert.equal(r.json.error.code, 'insufficient_balance');
    assert.equal(r.json.next, null);
    const s = await api(worker, 'GET', `/pay/${pay}/session`);
    assert.equal(s.json.status, 'pending');
    assert.deepEqual(s.json.last_error, { code: 'insufficient_balance' });
    assert.equal(merchant.notifications.length, 0, 'nothing to notify yet');

    const back = await api(worker, 'POST', `/pay/${pay}/cancel`, {});
    assert.equal(back.status, 200);
    assert.equal(back.json.status, 'failed');
    const { action, fields } = returnForm(await (await fetch(`${worker.base}${back.json.next}`)).text());
    assert.equal(action, `${merchant.base}/error`);
    assert.equal(fields.res_result, 'NG');
    assert.equal(fields.res_err_code, 'insufficient_balance');
    assert.equal(fields.res_payment_date, '');
    assert.ok(verifyReturnForm(fields));
    assert.equal(merchant.notifications.length, 1);
    assert.equal(merchant.notifications[0].payload.data.status, 'failed');
  });

  it('a refused attempt can be followed by a good one', async () => {
    const pay = await openCheckout(worker, purchase(merchant));
    assert.equal((await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: freshId('9999') })).json.error.code, 'id_suspended');
    const ok = await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: freshId() });
    assert.equal(ok.json.status, 'paid');
  });

  it('an ID that is not 16 alphanumerics is refused before NET CASH is asked', async () => {
    const pay = await openCheckout(worker, purchase(merchant));
    for (const bad of ['ABC', 'ABCD1234EFGH567!', '']) {
      const r = await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: bad });
      assert.equal(r.status, 422);
      assert.equal(r.json.error.code, 'invalid_netcash_id');
    }
    assert.equal((await api(worker, 'GET', `/pay/${pay}/session`)).json.status, 'pending');
  });

  it('the shopper cancels: CN to cancel_url, merchant told', async () => {
    const pay = await openCheckout(worker, purchase(merchant));
    const r = await api(worker, 'POST', `/pay/${pay}/cancel`, {});
    assert.equal(r.json.status, 'cancelled');
    const { action, fields } = returnForm(await (await fetch(`${worker.base}${r.json.next}`)).text());
    assert.equal(action, `${merchant.base}/cancel`);
    assert.equal(fields.res_result, 'CN');
    assert.ok(verifyReturnForm(fields));
    assert.equal(merchant.notifications[0].payload.data.status, 'cancelled');
    // Cancelling twice, or paying after, changes nothing.
    assert.equal((await api(worker, 'POST', `/pay/${pay}/cancel`, {})).json.status, 'cancelled');
    assert.equal((await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: freshId() })).status, 409);
  });

  for (const [name, setup] of [
    ['answers NG', (m) => { m.answer = 'NG,out of stock'; }],
    ['does not answer in time', (m) => { m.delayMs = 3000; }],
  ]) {
    it(`merchant ${name}: NET CASH cannot roll back, so the payment needs a refund and the shopper goes to error_url`, async () => {
      setup(merchant);
      const id = freshId();
      const pay = await openCheckout(worker, purchase(merchant));
      const r = await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: id });
      assert.equal(r.status, 200);
      assert.equal(r.json.status, 'refund_required');
      assert.equal(await balance(id), 10000 - 1100, 'the debit stays');
      const { action, fields } = returnForm(await (await fetch(`${worker.base}${r.json.next}`)).text());
      assert.equal(action, `${merchant.base}/error`);
      assert.equal(fields.res_result, 'NG');
      assert.equal(fields.res_err_code, 'merchant_rejected');
    });
  }

  it('two concurrent pay clicks debit once', async () => {
    const id = freshId();
    const pay = await openCheckout(worker, purchase(merchant));
    const results = await Promise.all([1, 2, 3].map(() => api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: id })));
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length, 1, JSON.stringify(results.map((r) => r.json)));
    assert.equal(await balance(id), 10000 - 1100);
  });

  it('the hosted page endpoints take JSON only (no cross-site form posts)', async () => {
    const pay = await openCheckout(worker, purchase(merchant));
    const r = await fetch(`${worker.base}/pay/${pay}/netcash`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"netcash_id":"ABCD1234EFGH5678"}' });
    assert.equal(r.status, 415);
    assert.equal((await api(worker, 'GET', `/pay/${pay}/session`)).json.status, 'pending');
  });

  it('the page expires after limit_second (no payment possible)', async () => {
    // limit_second counts from the request date: a request signed 550 s ago
    // with the 600 s limit… would still leave 600 s. Use the minimum window
    // and check the expiry time the session reports instead of waiting.
    const pay = await openCheckout(worker, purchase(merchant, { limit_second: '60' }));
    const s = await api(worker, 'GET', `/pay/${pay}/session`);
    assert.ok(s.json.expires_at - s.json.now <= 60 && s.json.expires_at - s.json.now >= 58, JSON.stringify(s.json));
  });
});

describe('NET CASH sandbox', () => {
  const sign = (secret, ts, method, path, body) =>
    'v1=' + createHmac('sha256', secret).update(`${ts}.${method}.${path}.${body}`).digest('hex');

  it('refuses calls that are not signed with the merchant credentials', async () => {
    const body = JSON.stringify({ merchant_code: 'KL0001', request_id: 'x-1', netcash_id: 'ABCD1234EFGH5678', amount: 100, currency: 'JPY' });
    const ts = Math.floor(Date.now() / 1000);
    for (const [name, headers] of [
      ['no headers', {}],
      ['wrong secret', { 'x-netcash-merchant': 'KL0001', 'x-netcash-timestamp': String(ts), 'x-netcash-signature': sign('wrong', ts, 'POST', '/api/v1/payments', body) }],
      ['old timestamp', { 'x-netcash-merchant': 'KL0001', 'x-netcash-timestamp': String(ts - 600), 'x-netcash-signature': sign('netcash-sandbox-api-secret', ts - 600, 'POST', '/api/v1/payments', body) }],
    ]) {
      const r = await fetch(`${worker.base}/sandbox/netcash/api/v1/payments`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      assert.equal(r.status, 401, name);
    }
    const good = await fetch(`${worker.base}/sandbox/netcash/api/v1/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-netcash-merchant': 'KL0001', 'x-netcash-timestamp': String(ts), 'x-netcash-signature': sign('netcash-sandbox-api-secret', ts, 'POST', '/api/v1/payments', body) },
      body,
    });
    assert.equal(good.status, 200);
    // The same request id again is idempotent: no second debit.
    const again = await fetch(`${worker.base}/sandbox/netcash/api/v1/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-netcash-merchant': 'KL0001', 'x-netcash-timestamp': String(ts), 'x-netcash-signature': sign('netcash-sandbox-api-secret', ts, 'POST', '/api/v1/payments', body) },
      body,
    });
    assert.equal((await again.json()).transaction_id, (await good.json()).transaction_id);
    assert.equal(await balance('ABCD1234EFGH5678'), 10000 - 100);
  });
});
