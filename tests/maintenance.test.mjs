// Provider maintenance (PRODUCT §7, issue 3): an operator marks a method
// under maintenance for a time window; the hosted page then shows it as
// unavailable with the reason, and payments with it are refused.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, jstTime, openCheckout, purchase, setClock, startMerchant, startWorker } from './lib/harness.mjs';

let worker;
let merchant;
before(async () => {
  merchant = await startMerchant();
  worker = await startWorker();
  await setClock(worker, jstTime('2027-06-01T09:00'));
});
after(async () => {
  await worker?.stop();
  await merchant?.close();
});

async function operator(method, path, body, token = 'kessai-sandbox-operator') {
  const res = await fetch(`${worker.base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('maintenance windows', () => {
  it('only operators may announce them, and bad windows are refused', async () => {
    assert.equal((await operator('GET', '/operator/maintenance', undefined, 'wrong')).status, 401);
    const bad = await operator('POST', '/operator/maintenance', { method: 'bitcoin', starts_at: 1, ends_at: 2 });
    assert.equal(bad.json.error.code, 'invalid_method');
    const past = await operator('POST', '/operator/maintenance', { method: 'prepaid', starts_at: 1, ends_at: 2 });
    assert.equal(past.json.error.code, 'invalid_window');
  });

  it('during the window the method is shown as under maintenance and refused; after it, it works again', async () => {
    const start = jstTime('2027-06-01T10:00');
    const w = await operator('POST', '/operator/maintenance', { method: 'prepaid', starts_at: start, ends_at: start + 1200, note: 'issuer maintenance' });
    assert.equal(w.status, 201);

    // Before the window: offered.
    await setClock(worker, start - 60);
    const early = await openCheckout(worker, purchase(merchant, { pay_method: 'netcash,prepaid', limit_second: '3600' }));
    assert.deepEqual((await api(worker, 'GET', `/pay/${early}/session`)).json.methods, [
      { method: 'netcash', available: true }, { method: 'prepaid', available: true },
    ]);

    await setClock(worker, start + 60);
    // A page opened before the window explains it now, too.
    const s = (await api(worker, 'GET', `/pay/${early}/session`)).json;
    assert.deepEqual(s.methods.find((m) => m.method === 'prepaid'), { method: 'prepaid', available: false, reason: 'maintenance' });
    const refused = await api(worker, 'POST', `/pay/${early}/prepaid`, { card_number: '1234567812345678' });
    assert.equal(refused.status, 503);
    assert.equal(refused.json.error.code, 'method_maintenance');
    // A new checkout shows it as under maintenance as well.
    const during = await openCheckout(worker, purchase(merchant, { pay_method: 'netcash,prepaid' }));
    assert.equal((await api(worker, 'GET', `/pay/${during}/session`)).json.methods.find((m) => m.method === 'prepaid').reason, 'maintenance');
    // NET CASH still works.
    assert.equal((await api(worker, 'POST', `/pay/${during}/netcash`, { netcash_id: 'MAINT2027ABC1234' })).json.status, 'paid');

    await setClock(worker, start + 1201);
    assert.equal((await api(worker, 'POST', `/pay/${early}/prepaid`, { card_number: '1234567812345678' })).json.status, 'paid');
    assert.deepEqual((await operator('GET', '/operator/maintenance')).json.data, []);
  });
});
