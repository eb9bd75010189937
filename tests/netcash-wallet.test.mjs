// NET CASH Wallet (issue 3): the shopper logs in at the NET CASH sandbox's
// wallet page, picks one of the IDs registered there, and comes back with
// a signed result that the Worker verifies.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { api, hiddenFields, openCheckout, purchase, returnForm, signedApi, startMerchant, startWorker } from './lib/harness.mjs';

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

async function post(url, fields) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(), redirect: 'manual' });
  return { status: res.status, html: await res.text(), location: res.headers.get('location') };
}
const balance = async (id) => (await api(worker, 'GET', `/sandbox/netcash/ids/${id}`)).json.balance;

/** Opens the wallet, logs in, picks `id` (or cancels) and returns the signed result form. */
async function walletResult(pay, { user = 'wallet-ok', id = 'WALLETA100001234', cancel = false } = {}) {
  const start = await api(worker, 'POST', `/pay/${pay}/netcash-wallet`, {});
  assert.equal(start.status, 200, start.text);
  assert.equal(start.json.status, 'redirect');
  assert.ok(start.json.redirect_url.startsWith(`${worker.base}/sandbox/netcash/wallet/login?session=`));
  const login = await (await fetch(start.json.redirect_url)).text();
  assert.match(login, /<label for="wallet-user">/);
  const session = hiddenFields(login).session;
  const picked = await post(`${worker.base}/sandbox/netcash/wallet/login`, { session, user, password: 'any' });
  assert.equal(picked.status, 200);
  const result = await post(`${worker.base}/sandbox/netcash/wallet/pay`, { session, user, netcash_id: id, action: cancel ? 'cancel' : 'pay' });
  assert.equal(result.status, 200, result.html);
  return { ...returnForm(result.html), picker: picked.html };
}

describe('NET CASH Wallet', () => {
  it('pays with a registered ID and lands on success; the ID is debited; the merchant is notified', async () => {
    const before = await balance('WALLETA100001234');
    const pay = await openCheckout(worker, purchase(merchant));
    const { action, fields, picker } = await walletResult(pay);
    assert.match(picker, /\*\*\*\*1234/);
    assert.match(picker, /\*\*\*\*0000/, 'every registered ID is listed');
    assert.equal(action, `${worker.base}/pay/${pay}/netcash-wallet/return`);
    assert.equal((await api(worker, 'GET', `/pay/${pay}/session`)).json.status, 'processing');
    const back = await post(action, fields);
    assert.equal(back.status, 303, back.html);
    assert.equal(back.location, `/pay/${pay}/return`);
    const p = (await signedApi(worker, 'GET', `/v1/payments/${pay}`)).json;
    assert.equal(p.status, 'paid');
    assert.equal(p.instrument, 'NET CASH Wallet ****1234');
    assert.equal(await balance('WALLETA100001234'), before - 1100);
    assert.equal(merchant.notifications.length, 1);
    assert.ok(merchant.notifications[0].verified);
    // A replay changes nothing.
    assert.equal((await post(action, fields)).status, 409);
    assert.equal(await balance('WALLETA100001234'), before - 1100);
  });

  it('an ID without balance is refused; the shopper is back on the page with last_error and may retry', async () => {
    const pay = await openCheckout(worker, purchase(merchant));
    const r1 = await walletResult(pay, { id: 'WALLETC300000000' });
    assert.equal((await post(r1.action, r1.fields)).location, `/pay/${pay}`);
    const s = (await api(worker, 'GET', `/pay/${pay}/session`)).json;
    assert.equal(s.status, 'pending');
    assert.deepEqual(s.last_error, { code: 'insufficient_balance' });
    const r2 = await walletResult(pay, { id: 'WALLETB200005678' });
    assert.equal((await post(r2.action, r2.fields)).location, `/pay/${pay}/return`);
  });

  it('cancelling at the wallet brings the shopper back with netcash_wallet_cancelled', async () => {
    const pay = await openCheckout(worker, purchase(merchant));
    const r = await walletResult(pay, { cancel: true });
    assert.equal((await post(r.action, r.fields)).location, `/pay/${pay}`);
    assert.deepEqual((await api(worker, 'GET', `/pay/${pay}/session`)).json.last_error, { code: 'netcash_wallet_cancelled' });
  });

  it('a tampered result is refused and changes nothing; NET CASH\'s own record decides', async () => {
    const pay = await openCheckout(worker, purchase(merchant));
    const { action, fields } = await walletResult(pay, { id: 'WALLETC300000000' });
    const forged = { ...fields, result: 'OK', transaction_id: 'nc_forged' };
    const r = await post(action, forged);
    assert.equal(r.status, 400);
    assert.match(r.html, /wallet_return_invalid/);
    assert.equal((await api(worker, 'GET', `/pay/${pay}/session`)).json.status, 'processing');
    // The genuine result still applies.
    assert.equal((await post(action, fields)).location, `/pay/${pay}`);
  });

  it('a wrong wallet login is refused at the wallet page', async () => {
    const pay = await openCheckout(worker, purchase(merchant));
    const start = await api(worker, 'POST', `/pay/${pay}/netcash-wallet`, {});
    const login = await (await fetch(start.json.redirect_url)).text();
    const bad = await post(`${worker.base}/sandbox/netcash/wallet/login`, { session: hiddenFields(login).session, user: 'nobody', password: 'x' });
    assert.equal(bad.status, 401);
    assert.match(bad.html, /id="wallet-error" role="alert"/);
  });
});
