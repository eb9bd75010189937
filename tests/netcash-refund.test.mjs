// NET CASH refunds (PRODUCT §2, issue 4): only through the administration
// tool, until the end of the third month after the purchase month, queued
// into a weekly batch that closes on Wednesday (next business day if a
// holiday) and is paid the Friday after; the payout comes back as a signed
// NET CASH notification and reaches the merchant as events.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { api, eventually, jstTime, openCheckout, purchase, setClock, signedApi, startMerchant, startWorker } from './lib/harness.mjs';

let worker;
let merchant;
let cookie = '';

before(async () => {
  merchant = await startMerchant();
  worker = await startWorker();
  // Golden Week 2027: Monday 5/3; Wednesday 5/5 is こどもの日.
  await setClock(worker, jstTime('2027-05-03T10:00'));
  assert.equal((await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` })).status, 200);
});
after(async () => {
  await worker?.stop();
  await merchant?.close();
});

let csrfToken = '';
async function admin(method, path, body, { csrf = true } = {}) {
  const headers = { 'content-type': 'application/json', cookie };
  if (csrf) {
    headers['x-requested-with'] = 'kessai-admin';
    headers['x-csrf-token'] = csrfToken;
  }
  const res = await fetch(`${worker.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const setCookie = res.headers.get('set-cookie');
  if (setCookie) cookie = setCookie.split(';')[0];
  const json = await res.json().catch(() => null);
  if (json?.csrf_token) csrfToken = json.csrf_token;
  return { status: res.status, json, setCookie };
}

const login = (password = 'kessai-sandbox-admin') => admin('POST', '/admin/api/login', { merchant_id: '99999', password });
const ID = 'REFUND2027AB1234';
const balance = async () => (await api(worker, 'GET', `/sandbox/netcash/ids/${ID}`)).json.balance;

describe('NET CASH refunds through the administration tool', () => {
  let pay;

  it('signing in: a wrong password is refused; the session cookie is HttpOnly and SameSite=Strict', async () => {
    const bad = await login('wrong');
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error.code, 'bad_credentials');
    const ok = await login();
    assert.equal(ok.status, 200);
    assert.match(ok.setCookie, /HttpOnly/);
    assert.match(ok.setCookie, /SameSite=Strict/);
  });

  it('rule: a refund is queued into the batch closing Thursday 5/6 (Wednesday 5/5 is a holiday), paid Friday 5/7', async () => {
    pay = await openCheckout(worker, purchase(merchant));
    assert.equal((await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: ID })).json.status, 'paid');
    assert.equal(await balance(), 8900);

    assert.equal((await admin('POST', `/admin/api/payments/${pay}/netcash-refund`, { amount: 500 }, { csrf: false })).status, 403, 'CSRF header required');
    const r = await admin('POST', `/admin/api/payments/${pay}/netcash-refund`, { amount: 500 });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.batch_closes, '2027-05-06');
    assert.equal(r.json.payout_date, '2027-05-07');

    const tooMuch = await admin('POST', `/admin/api/payments/${pay}/netcash-refund`, { amount: 700 });
    assert.equal(tooMuch.status, 409);
    assert.match(tooMuch.json.error.message, /600 yen/);

    // Not paid before the payout date.
    await setClock(worker, jstTime('2027-05-06T18:00'));
    assert.equal(await balance(), 8900);
    assert.equal((await signedApi(worker, 'GET', `/v1/payments/${pay}`)).json.status, 'paid');

    // Friday: NET CASH pays the batch and notifies us; the merchant hears of it.
    await setClock(worker, jstTime('2027-05-07T09:00'));
    await eventually(async () => (await signedApi(worker, 'GET', `/v1/payments/${pay}`)).json.status === 'partially_refunded', { what: 'refund paid' });
    assert.equal(await balance(), 9400, 'the money went back to the NET CASH ID');
    const p = (await signedApi(worker, 'GET', `/v1/payments/${pay}`)).json;
    assert.equal(p.refunded, 500);
    await eventually(() => merchant.accepted().filter((w) => w.payload.data.tracking_id === pay).length >= 3, { what: 'webhooks' });
    const types = merchant.accepted().filter((w) => w.payload.data.tracking_id === pay).map((w) => w.payload.type);
    assert.deepEqual(types, ['payment.paid', 'netcash.refund_scheduled', 'payment.partially_refunded', 'netcash.refund_paid']);
    const scheduled = merchant.accepted().find((w) => w.payload.type === 'netcash.refund_scheduled');
    assert.equal(scheduled.payload.data.refund.payout_date, '2027-05-07');
  });

  it('a repeated or forged payout notification changes nothing', async () => {
    const refundId = `${pay}-r1`;
    const body = JSON.stringify({ type: 'refund.paid', refund_id: refundId, transaction_id: 'x', request_id: `${pay}-1`, amount: 500, paid_on: '2027-05-07' });
    const path = '/provider/netcash/notify';
    const ts = Math.floor(Date.now() / 1000);
    const sig = 'v1=' + createHmac('sha256', 'netcash-sandbox-api-secret').update(`${ts}.POST.${path}.${body}`).digest('hex');
    const again = await fetch(`${worker.base}${path}`, {
      method: 'POST', body,
      headers: { 'content-type': 'application/json', 'x-netcash-merchant': 'KL0001', 'x-netcash-timestamp': String(ts), 'x-netcash-signature': sig },
    });
    assert.equal(again.status, 200);
    assert.equal((await again.json()).applied, false);
    const forged = await fetch(`${worker.base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(forged.status, 401);
    const p = (await signedApi(worker, 'GET', `/v1/payments/${pay}`)).json;
    assert.equal(p.refunded, 500);
    assert.equal(p.status, 'partially_refunded');
  });

  it('sessions expire after 30 minutes', async () => {
    await setClock(worker, jstTime('2027-05-07T10:00'));
    const r = await admin('POST', `/admin/api/payments/${pay}/netcash-refund`, { amount: 100 });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, 'not_signed_in');
  });

  it('rule: refunds end with the third month after the purchase month (2027-08-31 for a May purchase)', async () => {
    await setClock(worker, jstTime('2027-08-31T23:00'));
    await login();
    const last = await admin('POST', `/admin/api/payments/${pay}/netcash-refund`, { amount: 100 });
    assert.equal(last.status, 201, JSON.stringify(last.json));
    await setClock(worker, jstTime('2027-09-01T09:00'));
    await login();
    const late = await admin('POST', `/admin/api/payments/${pay}/netcash-refund`, { amount: 100 });
    assert.equal(late.status, 422);
    assert.equal(late.json.error.code, 'refund_deadline_passed');
    assert.match(late.json.error.message, /2027-08-31/);
  });

  it("one merchant's session cannot touch a payment it does not own (unknown ids are 404)", async () => {
    const r = await admin('POST', '/admin/api/payments/pay_00000000000000000000000000/netcash-refund', { amount: 1 });
    assert.equal(r.status, 404);
  });
});
