// Rotating the hash key and the webhook secret (issue 4): the new value
// works at once, the previous one keeps working during the overlap, and
// webhooks carry a signature that each secret verifies.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { SANDBOX, api, eventually, openCheckout, postPurchase, purchase, signedApi, startMerchant, startWorker } from './lib/harness.mjs';

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

describe('key rotation', () => {
  it('a new hash key works at once and the old one during the overlap; without overlap the old one stops', async () => {
    const r = await signedApi(worker, 'POST', '/v1/merchant/rotate', { what: 'hash_key', overlap_seconds: 3600 });
    assert.equal(r.status, 200, r.text);
    const newKey = r.json.value;
    assert.match(newKey, /^hk_[0-9a-f]{64}$/);
    assert.equal((await signedApi(worker, 'GET', '/v1/merchant', undefined, { key: newKey })).status, 200);
    assert.equal((await signedApi(worker, 'GET', '/v1/merchant')).status, 200, 'old key during the overlap');
    assert.equal((await postPurchase(worker, purchase(merchant, {}, newKey))).status, 303);
    assert.equal((await postPurchase(worker, purchase(merchant))).status, 303);

    const cut = await signedApi(worker, 'POST', '/v1/merchant/rotate', { what: 'hash_key', overlap_seconds: 0 }, { key: newKey });
    assert.equal(cut.status, 200);
    const newest = cut.json.value;
    assert.equal((await signedApi(worker, 'GET', '/v1/merchant', undefined, { key: newKey })).json.error.code, 'bad_signature');
    assert.equal((await signedApi(worker, 'GET', '/v1/merchant')).json.error.code, 'bad_signature');
    assert.equal((await signedApi(worker, 'GET', '/v1/merchant', undefined, { key: newest })).status, 200);
    assert.equal((await postPurchase(worker, purchase(merchant))).status, 403, 'purchase forms signed with a retired key are refused');
    worker.key = newest;
  });

  it('a new webhook secret: during the overlap each secret verifies the webhook', async () => {
    const key = worker.key;
    assert.equal((await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` }, { key })).status, 200);
    const r = await signedApi(worker, 'POST', '/v1/merchant/rotate', { what: 'webhook_secret' }, { key });
    assert.equal(r.status, 200);
    const newSecret = r.json.value;
    assert.match(newSecret, /^whsec_/);
    const pay = await openCheckout(worker, purchase(merchant, {}, key));
    await api(worker, 'POST', `/pay/${pay}/cancel`, {});
    const got = await eventually(() => merchant.webhooks.find((w) => w.payload?.data?.tracking_id === pay || (w.headers['webhook-id'] && !w.verified)), { what: 'a webhook' });
    const raw = merchant.webhooks.find((w) => w.headers['webhook-id'] === got.headers['webhook-id']);
    const body = JSON.stringify(raw.payload);
    assert.ok(raw.verified, 'the old secret (the test merchant\'s) verifies it');
    assert.ok(new Webhook(newSecret).verify(body, raw.headers), 'the new secret verifies it too');
    assert.equal(raw.headers['webhook-signature'].split(' ').length, 2);
    assert.notEqual(newSecret, SANDBOX.webhookSecret);
  });
});
