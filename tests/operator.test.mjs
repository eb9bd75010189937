// Operators create and suspend merchants (PRODUCT §7, §10; issue 9): the
// hash key, webhook secret and administration password are generated and
// shown once; a suspended merchant's purchase requests and changes are
// refused with `merchant_suspended`, reads still work; resuming restores it.
// (Production's URL rules are in production.test.mjs.)

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { SANDBOX, api, postPurchase, purchase, signedApi, startMerchant, startWorker } from './lib/harness.mjs';

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

async function operator(method, path, body, token = 'kessai-sandbox-operator') {
  const res = await fetch(`${worker.base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

const SECRET_FIELDS = ['hash_key', 'webhook_secret', 'admin_password'];

describe('operator merchant API', () => {
  let created;

  it('only operators may use it', async () => {
    assert.equal((await operator('GET', '/operator/merchants', undefined, 'wrong')).status, 401);
    const r = await operator('POST', '/operator/merchants', { merchant_id: '10001', name: 'x', allowed_origins: ['http://127.0.0.1'] }, 'wrong');
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, 'not_operator');
    assert.equal((await operator('GET', '/operator/merchants/10001/001')).status, 404, 'nothing was created');
  });

  it('refuses bad input with a code and creates nothing', async () => {
    const cases = [
      ['{not json', 400, 'invalid_body'],
      [{ merchant_id: '10001', name: 'Shop', allowed_origins: ['http://127.0.0.1'], extra: 1 }, 400, 'invalid_body'],
      [{ merchant_id: '1001', name: 'Shop', allowed_origins: ['http://127.0.0.1'] }, 422, 'invalid_id'],
      [{ merchant_id: '10001', service_id: '1', name: 'Shop', allowed_origins: ['http://127.0.0.1'] }, 422, 'invalid_id'],
      [{ merchant_id: '10001', name: '', allowed_origins: ['http://127.0.0.1'] }, 422, 'invalid_name'],
      [{ merchant_id: '10001', name: 'Shop', allowed_origins: [] }, 422, 'empty_list'],
      [{ merchant_id: '10001', name: 'Shop', allowed_origins: ['shop.example'] }, 422, 'invalid_origin'],
      [{ merchant_id: '10001', name: 'Shop', allowed_origins: ['http://127.0.0.1'], enabled_methods: ['bitcoin'] }, 422, 'invalid_method'],
      [{ merchant_id: '10001', name: 'Shop', allowed_origins: ['http://127.0.0.1'], webhook_url: 'ftp://x' }, 422, 'invalid_webhook_url'],
    ];
    for (const [body, status, code] of cases) {
      const r = await operator('POST', '/operator/merchants', body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.equal(r.json.error.code, code, JSON.stringify(body));
    }
    assert.equal((await operator('GET', '/operator/merchants/10001/001')).status, 404);
  });

  it('creates a merchant with generated keys, shown once', async () => {
    const r = await operator('POST', '/operator/merchants', {
      merchant_id: '10001', name: 'Tea House', allowed_origins: ['http://127.0.0.1'], enabled_methods: ['netcash', 'prepaid'],
    });
    assert.equal(r.status, 201, r.text);
    created = r.json;
    assert.match(created.hash_key, /^[0-9a-f]{64}$/);
    assert.match(created.webhook_secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.match(created.admin_password, /^[0-9a-f]{32}$/);
    assert.deepEqual([created.merchant_id, created.service_id, created.name, created.status], ['10001', '001', 'Tea House', 'active']);
    assert.deepEqual(created.enabled_methods, ['netcash', 'prepaid']);
    // Another merchant gets other keys.
    const other = await operator('POST', '/operator/merchants', { merchant_id: '10002', name: 'Other', allowed_origins: ['http://127.0.0.1'] });
    assert.equal(other.status, 201);
    for (const f of SECRET_FIELDS) assert.notEqual(other.json[f], created[f]);
    assert.deepEqual(other.json.enabled_methods, ['netcash', 'prepaid', 'np', 'au', 'card'], 'all five by default');
    // Never shown again: not by the operator API, not by the merchant API.
    const again = await operator('GET', '/operator/merchants/10001/001');
    assert.equal(again.status, 200);
    const list = await operator('GET', '/operator/merchants');
    assert.ok(list.json.data.some((m) => m.merchant_id === '99999'));
    const mine = await signedApi(worker, 'GET', '/v1/merchant', undefined, { key: created.hash_key, merchantId: '10001' });
    assert.equal(mine.status, 200, mine.text);
    for (const text of [again.text, list.text, mine.text]) {
      for (const f of SECRET_FIELDS) assert.ok(!text.includes(created[f]), `${f} is not shown again`);
    }
    const dup = await operator('POST', '/operator/merchants', { merchant_id: '10001', name: 'Again', allowed_origins: ['http://127.0.0.1'] });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.error.code, 'merchant_exists');
    assert.equal((await operator('GET', '/operator/merchants/10001/001')).json.name, 'Tea House');
  });

  it("the new merchant's keys work, and only its keys", async () => {
    const fields = purchase(merchant, { merchant_id: '10001' }, created.hash_key);
    const ok = await postPurchase(worker, fields);
    assert.equal(ok.status, 303);
    const pay = ok.headers.get('location').split('/').pop();
    const session = (await api(worker, 'GET', `/pay/${pay}/session`)).json;
    assert.equal(session.merchant_name, 'Tea House');
    const wrong = await postPurchase(worker, purchase(merchant, { merchant_id: '10001' }, SANDBOX.hashKey));
    assert.equal(wrong.status, 403);
    assert.match(await wrong.text(), /bad_signature/);
    assert.equal((await signedApi(worker, 'GET', '/v1/merchant', undefined, { merchantId: '10001' })).status, 401);
    // The result notification is signed with its webhook secret.
    const r = await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: 'OPER1234TEST5678' });
    assert.equal(r.status, 200, r.text);
    const n = merchant.notifications.at(-1);
    assert.ok(new Webhook(created.webhook_secret).verify(n.body, n.headers));
    assert.throws(() => new Webhook(SANDBOX.webhookSecret).verify(n.body, n.headers));
  });

  it('sets the provider contracts (enabled methods)', async () => {
    const r = await operator('PUT', '/operator/merchants/10001/001', { enabled_methods: ['prepaid'] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.enabled_methods, ['prepaid']);
    const refused = await postPurchase(worker, purchase(merchant, { merchant_id: '10001', pay_method: 'netcash' }, created.hash_key));
    assert.match(await refused.text(), /no_method_available/);
    const bad = await operator('PUT', '/operator/merchants/10001/001', { enabled_methods: [] });
    assert.equal(bad.json.error.code, 'empty_list');
    assert.deepEqual((await operator('GET', '/operator/merchants/10001/001')).json.enabled_methods, ['prepaid']);
    assert.equal((await operator('PUT', '/operator/merchants/10009/001', { name: 'x' })).status, 404);
  });

  it('every operator call is audited, refused ones too', async () => {
    await fetch(`${worker.base}/operator/merchants`, { headers: { authorization: 'Bearer wrong' } });
    const a = await operator('GET', '/operator/audit');
    assert.equal(a.status, 200, a.text);
    const refused = a.json.data.find((e) => e.path === '/operator/merchants' && !e.authorized);
    assert.ok(refused, JSON.stringify(a.json.data.slice(0, 5)));
    assert.equal(refused.status, 401);
    assert.ok(a.json.data.some((e) => e.method === 'POST' && e.path === '/operator/merchants' && e.authorized && e.status === 201), 'the creation above');
  });

  it("provider contracts decide what au and NP take: the card leaves au no fixed term, WebMoney no specified sales and no recurring billing; the merchant's NP limit caps NP", async () => {
    const c = await operator('POST', '/operator/merchants', {
      merchant_id: '10007', name: 'Contract Shop', allowed_origins: ['http://127.0.0.1', 'http://localhost'],
      contracts: { au_credit_card: true, np_limit_yen: 3000 },
    });
    assert.equal(c.status, 201, c.text);
    assert.deepEqual(c.json.contracts, { au_credit_card: true, au_webmoney: false, np_limit_yen: 3000 });
    const offered = async (overrides) => {
      const r = await postPurchase(worker, purchase(merchant, { merchant_id: '10007', pay_method: '', terminal_type: 'pc', ...overrides }, c.json.hash_key));
      if (r.status !== 303) return [];
      const pay = r.headers.get('location').split('/').pop();
      return (await api(worker, 'GET', `/pay/${pay}/session`)).json.methods.filter((m) => m.available).map((m) => m.method);
    };
    // With the card added, au still takes one-time sales and monthly plans,
    // but no fixed term; NP up to 3,000 yen.
    assert.ok((await offered({ amount: '1100' })).includes('au'));
    assert.ok((await offered({ amount: '1100' })).includes('np'));
    assert.ok((await offered({ amount: '1100', pay_type: 'recurring_simple' })).includes('au'));
    assert.deepEqual(await offered({ amount: '1100', pay_type: 'recurring_fixed' }), ['np']);
    assert.ok(!(await offered({ amount: '5000', tax: '0' })).includes('np'), 'over the merchant\'s NP limit');
    // WebMoney added: the combination table (column by column) leaves au
    // one-time automatic sales only: no specified sales, no recurring billing.
    const w = await operator('PUT', '/operator/merchants/10007/001', { contracts: { au_webmoney: true } });
    assert.equal(w.status, 200, w.text);
    assert.deepEqual(w.json.contracts, { au_credit_card: true, au_webmoney: true, np_limit_yen: 3000 });
    assert.ok((await offered({ amount: '1100' })).includes('au'));
    assert.ok(!(await offered({ amount: '1100', sales_mode: 'specified' })).includes('au'));
    assert.ok(!(await offered({ amount: '1100', pay_type: 'recurring_simple' })).includes('au'));
    assert.ok(!(await offered({ amount: '1100', pay_type: 'recurring_fixed' })).includes('au'));
    for (const bad of [{ au_webmoney: 'yes' }, { np_limit_yen: 0 }, { np_limit_yen: 1.5 }, { colour: 'red' }]) {
      const r = await operator('PUT', '/operator/merchants/10007/001', { contracts: bad });
      assert.equal(r.status, 422, JSON.stringify(bad));
      assert.equal(r.json.error.code, 'invalid_contracts');
    }
    assert.deepEqual((await operator('GET', '/operator/merchants/10007/001')).json.contracts, { au_credit_card: true, au_webmoney: true, np_limit_yen: 3000 }, 'nothing changed');
  });

  it('a suspended merchant is refused payments and changes, may still read, and is served again once resumed', async () => {
    const s = await operator('POST', '/operator/merchants/10001/001/suspend', { reason: 'unpaid fees' });
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.status, 'suspended');
    assert.equal(s.json.suspend_reason, 'unpaid fees');

    const fields = purchase(merchant, { merchant_id: '10001', pay_method: 'prepaid' }, created.hash_key);
    const refused = await postPurchase(worker, fields);
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('location'), null);
    assert.match(await refused.text(), /merchant_suspended/);
    // Only a signed request learns of the suspension.
    const unsigned = await postPurchase(worker, purchase(merchant, { merchant_id: '10001', pay_method: 'prepaid' }, 'not-the-key'));
    assert.doesNotMatch(await unsigned.text(), /merchant_suspended/);

    const key = { key: created.hash_key, merchantId: '10001' };
    const checkout = await signedApi(worker, 'POST', '/v1/checkouts', { order_id: 'suspended-1' }, key);
    assert.equal(checkout.status, 403);
    assert.equal(checkout.json.error.code, 'merchant_suspended');
    const put = await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` }, key);
    assert.equal(put.json.error.code, 'merchant_suspended');
    const read = await signedApi(worker, 'GET', '/v1/merchant', undefined, key);
    assert.equal(read.status, 200);
    assert.equal(read.json.webhook_url, null, 'the refused change changed nothing');
    assert.equal((await signedApi(worker, 'GET', '/v1/payments', undefined, key)).status, 200);
    // Other merchants are untouched.
    assert.equal((await postPurchase(worker, purchase(merchant))).status, 303);

    const resumed = await operator('POST', '/operator/merchants/10001/001/resume');
    assert.equal(resumed.json.status, 'active');
    assert.equal((await postPurchase(worker, fields)).status, 303, 'the same request (its order id still free) now goes through');
  });
});
