// Prepaid card payments (PRODUCT §2 prepaid, §9 test values) over HTTP
// against the real Worker and its prepaid issuer sandbox: one-time only,
// automatic sales, refunds back to the card.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { api, openCheckout, purchase, signedApi, startMerchant, startWorker } from './lib/harness.mjs';

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

let seq = 0;
const freshCard = (last4 = '4321') => `9${String(Date.now() % 1e9).padStart(9, '0')}${String(++seq).padStart(2, '0')}${last4}`;
const balance = async (n) => (await api(worker, 'GET', `/sandbox/prepaid/cards/${n}`)).json.balance;

describe('prepaid card', () => {
  it('pays from the card balance and can be refunded, partly then fully, back to the card', async () => {
    const card = freshCard();
    const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'prepaid' }));
    const s = await api(worker, 'GET', `/pay/${pay}/session`);
    assert.deepEqual(s.json.methods.map((m) => m.method), ['prepaid']);
    const r = await api(worker, 'POST', `/pay/${pay}/prepaid`, { card_number: card.replace(/(.{4})/g, '$1 ').trim() });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'paid');
    assert.equal(await balance(card), 10000 - 1100);
    assert.equal(merchant.notifications[0].payload.data.method, 'prepaid');

    const p = await signedApi(worker, 'GET', `/v1/payments/${pay}`);
    assert.equal(p.json.instrument, `prepaid ****${card.slice(12)}`);
    assert.ok(!JSON.stringify(p.json).includes(card), 'the card number is not stored');

    const part = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, { amount: 300 });
    assert.equal(part.status, 200, part.text);
    assert.equal(part.json.status, 'partially_refunded');
    assert.equal(part.json.refunded, 300);
    assert.equal(await balance(card), 10000 - 1100 + 300);
    const tooMuch = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, { amount: 801 });
    assert.equal(tooMuch.status, 409);
    assert.equal(tooMuch.json.error.code, 'refund_not_allowed');
    assert.equal(await balance(card), 10000 - 1100 + 300, 'a refused refund changes nothing');
    const rest = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, {});
    assert.equal(rest.json.status, 'refunded');
    assert.equal(await balance(card), 10000);
  });

  it('insufficient balance (card ending 0000) is refused and can be retried with another card', async () => {
    const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'prepaid' }));
    const r = await api(worker, 'POST', `/pay/${pay}/prepaid`, { card_number: freshCard('0000') });
    assert.equal(r.status, 402);
    assert.equal(r.json.error.code, 'insufficient_balance');
    const ok = await api(worker, 'POST', `/pay/${pay}/prepaid`, { card_number: freshCard() });
    assert.equal(ok.json.status, 'paid');
  });

  it('a merchant NG rolls the payment back to the card (unlike NET CASH)', async () => {
    merchant.answer = 'NG,out of stock';
    const card = freshCard();
    const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'prepaid' }));
    const r = await api(worker, 'POST', `/pay/${pay}/prepaid`, { card_number: card });
    assert.equal(r.json.status, 'rejected_by_merchant');
    assert.equal(await balance(card), 10000, 'the money went back to the card');
  });

  it('bad card numbers are refused before the issuer is asked; cancel and settle are refused by rule', async () => {
    const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'prepaid' }));
    for (const bad of ['1234', '1234abcd12345678', '']) {
      const r = await api(worker, 'POST', `/pay/${pay}/prepaid`, { card_number: bad });
      assert.equal(r.status, 422);
      assert.equal(r.json.error.code, 'invalid_prepaid_number');
    }
    assert.equal((await api(worker, 'POST', `/pay/${pay}/prepaid`, { card_number: freshCard() })).json.status, 'paid');
    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${pay}/cancel`)).json.error.code, 'not_cancellable');
    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${pay}/settle`)).json.error.code, 'not_settleable');
  });

  it('rule: prepaid is one-time only', async () => {
    const res = await fetch(`${worker.base}/link/purchase`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(purchase(merchant, { pay_method: 'prepaid', pay_type: 'recurring_fixed' })).toString(),
      redirect: 'manual',
    });
    assert.equal(res.status, 422);
    assert.match(await res.text(), /no_method_available/);
  });
});
