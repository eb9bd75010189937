// Faults on demand (README "Fault values") against the real Worker, with
// PROVIDER_TIMEOUT_MS low: every sandbox (NET CASH, prepaid, CyberSource,
// au, NP) called directly with signed requests, as a provider's client
// calls it. For each fault value the first request faults as documented,
// the sandbox's ledger shows the operation done (or not, for 9003), the
// provider's status query tells the truth, and a retry with the same key
// gives the one outcome without moving money twice; a new key faults
// again. The signatures are computed here, independently of the Rust
// code (PRODUCT §2 for CyberSource; `x-<prefix>-*` for the others).

import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { hiddenFields, startWorker } from './lib/harness.mjs';

// Low, so that 9001 is quick to prove; high enough that a normal answer on a
// loaded machine comes well before a late one.
const TIMEOUT = 2000;
let worker;
before(async () => {
  worker = await startWorker({ vars: { PROVIDER_TIMEOUT_MS: String(TIMEOUT) } });
});
after(async () => {
  await worker?.stop();
});

let seq = 0;
const unique = (prefix) => `${prefix}-${process.pid}-${Date.now()}-${++seq}`;
const digits = (n) => Array.from(randomBytes(n), (b) => String(b % 10)).join('');

/** One HTTP exchange: status, body (or the error reading it), time taken. */
async function call(url, init = {}) {
  const t0 = Date.now();
  const res = await fetch(url, init);
  let text = null;
  let readError = null;
  try {
    text = await res.text();
  } catch (e) {
    readError = e;
  }
  const ms = Date.now() - t0;
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, text, json, readError, ms };
}

/** A client of a sandbox signed with `x-<prefix>-merchant/-timestamp/-signature` (wrangler.toml secrets). */
function signedClient(provider, merchant, secret) {
  return (method, path, body) => {
    const raw = body === undefined ? '' : JSON.stringify(body);
    const ts = Math.floor(Date.now() / 1000);
    const sig = 'v1=' + createHmac('sha256', secret).update(`${ts}.${method}.${path}.${raw}`).digest('hex');
    return call(`${worker.base}/sandbox/${provider}${path}`, {
      method,
      headers: {
        [`x-${provider}-merchant`]: merchant, [`x-${provider}-timestamp`]: String(ts), [`x-${provider}-signature`]: sig,
        ...(raw ? { 'content-type': 'application/json' } : {}),
      },
      body: raw || undefined,
    });
  };
}
const netcash = signedClient('netcash', 'KL0001', 'netcash-sandbox-api-secret');
const prepaid = signedClient('prepaid', 'PP0001', 'prepaid-sandbox-api-secret');
const au = signedClient('au', 'AU0001', 'au-sandbox-api-secret');
const np = signedClient('np', 'NP0001', 'np-sandbox-api-secret');
const inspect = async (path) => (await call(`${worker.base}${path}`)).json;

/** CyberSource's HTTP Signature (PRODUCT §2), signed here from the spec. */
const CS = { merchantId: 'kessai_link_sandbox', keyId: '4f8a2c1e-7b3d-4e5f-9a6b-0c1d2e3f4a5b', secret: 'a2Vzc2FpLWxpbmstY3liZXJzb3VyY2Utc2FuZGJveCE=' };
function cybersource(method, path, body) {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const date = new Date().toUTCString();
  const values = { host: `127.0.0.1:${worker.port}`, date, 'request-target': `${method.toLowerCase()} ${path}`, 'v-c-merchant-id': CS.merchantId };
  let list = 'host date request-target v-c-merchant-id';
  const headers = { 'v-c-merchant-id': CS.merchantId, date };
  if (method === 'POST') {
    values.digest = 'SHA-256=' + createHash('sha256').update(raw).digest('base64');
    headers.digest = values.digest;
    headers['content-type'] = 'application/json';
    list = 'host date request-target digest v-c-merchant-id';
  }
  const lines = list.split(' ').map((h) => `${h}: ${values[h]}`).join('\n');
  const sig = createHmac('sha256', Buffer.from(CS.secret, 'base64')).update(lines).digest('base64');
  headers.signature = `keyid="${CS.keyId}", algorithm="HmacSHA256", headers="${list}", signature="${sig}"`;
  return call(`${worker.base}/sandbox/cybersource${path}`, { method, headers, body: raw || undefined });
}

/**
 * Proves one fault value on one operation. `op`:
 * - `send(key)`: the money-moving request with that key (and the fault amount);
 * - `ledger()`: what the sandbox's ledger shows (JSON-comparable);
 * - `done(before)`: the ledger once the operation is performed (once);
 * - `status(key)`: the provider's status query: `{ found, id }`;
 * - `idOf(json)`: the provider's id in the operation's answer.
 */
async function proveFault(value, op) {
  const key = op.key ?? unique(`k${value}`);
  const before = await op.ledger();
  const first = await op.send(key);
  switch (value) {
    case 9001:
      assert.ok(first.ms >= TIMEOUT + 1000 - 50, `the answer came after ${first.ms} ms, past PROVIDER_TIMEOUT_MS + 1000`);
      assert.ok(first.status < 300, `a late answer is the real answer: ${first.status} ${first.text}`);
      break;
    case 9002:
    case 9003:
      assert.equal(first.status, 500, first.text);
      break;
    case 9004:
      assert.ok(first.readError, `the connection dropped in the body: the read fails (got ${JSON.stringify(first.text)})`);
      assert.ok(first.status < 300, "the status and headers arrived first");
      break;
    default:
      throw new Error(`no fault value ${value}`);
  }
  const performed = value !== 9003;
  assert.deepEqual(await op.ledger(), performed ? op.done(before) : before, 'the ledger shows exactly what was performed');
  const st = await op.status(key);
  assert.equal(st.found, performed, `the status query tells the truth: ${JSON.stringify(st)}`);

  const retry = await op.send(key);
  assert.ok(retry.status < 300 && retry.json, `a retry with the same key is served normally: ${retry.status} ${retry.text}`);
  assert.ok(retry.ms < TIMEOUT + 1000, `the retry is not delayed by a fault (${retry.ms} ms)`);
  assert.deepEqual(await op.ledger(), op.done(before), 'the retry moved no money twice');
  const id = op.idOf(retry.json);
  assert.ok(id, JSON.stringify(retry.json));
  if (performed) assert.equal(st.id, id, 'the status query names what the retry replays');
  if (value === 9001) assert.equal(op.idOf(first.json), id, 'the late answer and the replay are one outcome');
  const again = await op.status(key);
  assert.deepEqual(again, { found: true, id });
  assert.deepEqual(await op.ledger(), op.done(before));
  return { key, id, first, retry };
}

/** The same operation under a new key faults again (9002: performed, 500). */
async function faultsAgainWithANewKey(op) {
  const before = await op.ledger();
  const r = await op.send(unique('new'));
  assert.equal(r.status, 500, 'a new key faults again');
  assert.deepEqual(await op.ledger(), op.done(before));
}

const VALUES = [9001, 9002, 9003, 9004];

describe('NET CASH sandbox faults', () => {
  const newId = () => `FT${digits(10)}${'ABCD'}`;
  const balance = async (id) => (await inspect(`/sandbox/netcash/ids/${id}`)).balance;
  const debitOp = (value, id = newId()) => ({
    send: (key) => netcash('POST', '/api/v1/payments', { merchant_code: 'KL0001', request_id: key, netcash_id: id, amount: value, currency: 'JPY' }),
    ledger: () => balance(id),
    done: (b) => b - value,
    status: async (key) => {
      const r = await netcash('GET', `/api/v1/payments/${key}`);
      if (r.status === 404) { assert.equal(r.json.error_code, 'E_NO_SUCH_REQUEST'); return { found: false }; }
      assert.equal(r.json.result, 'OK', r.text);
      return { found: true, id: r.json.transaction_id };
    },
    idOf: (j) => j?.transaction_id,
  });

  for (const value of VALUES) {
    it(`debit of ${value} yen: faults once per request_id; the debit status tells the truth; the retry debits once`, async () => {
      await proveFault(value, debitOp(value));
    });
  }
  it('a debit with a new request_id faults again', async () => {
    await faultsAgainWithANewKey(debitOp(9002));
  });

  it('batch refund requests of 9001-9004 yen: fault once per refund_id; the refund status tells the truth; queued once', async () => {
    const { payout_date } = await inspect('/sandbox/netcash/batch/current');
    for (const value of VALUES) {
      const id = newId();
      const requestId = unique('debit');
      const d = await netcash('POST', '/api/v1/payments', { merchant_code: 'KL0001', request_id: requestId, netcash_id: id, amount: 9500, currency: 'JPY' });
      assert.equal(d.status, 200, d.text);
      const refunded = async () => (await netcash('GET', `/api/v1/payments/${requestId}`)).json.refunded;
      await proveFault(value, {
        send: (key) => netcash('POST', '/api/v1/refunds', { merchant_code: 'KL0001', refund_id: key, transaction_id: d.json.transaction_id, amount: value, payout_date }),
        ledger: refunded,
        done: (b) => b + value,
        status: async (key) => {
          const r = await netcash('GET', `/api/v1/refunds/${key}`);
          if (r.status === 404) { assert.equal(r.json.error_code, 'E_NO_SUCH_REFUND'); return { found: false }; }
          return { found: true, id: r.json.refund.refund_id };
        },
        idOf: (j) => j?.refund?.refund_id,
      });
    }
  });
});

describe('prepaid sandbox faults', () => {
  const newCard = () => `7${digits(14)}1`;
  const balance = async (n) => (await inspect(`/sandbox/prepaid/cards/${n}`)).balance;
  const byKey = (kind) => async (key) => {
    const r = await prepaid('GET', `/v2/${kind}/by-key/${key}`);
    if (r.status === 404) { assert.equal(r.json.reason, 'not_found'); return { found: false }; }
    assert.equal(r.json.status, 'succeeded', r.text);
    return { found: true, id: kind === 'charges' ? r.json.charge_id : r.json.refund_id };
  };
  const chargeOp = (value, number = newCard()) => ({
    send: (key) => prepaid('POST', '/v2/charges', { shop_code: 'PP0001', idempotency_key: key, card_number: number, amount: value }),
    ledger: () => balance(number),
    done: (b) => b - value,
    status: byKey('charges'),
    idOf: (j) => j?.charge_id,
  });

  for (const value of VALUES) {
    it(`charge of ${value} yen: faults once per idempotency key; the charge status tells the truth; the retry charges once`, async () => {
      await proveFault(value, chargeOp(value));
    });
  }
  it('a charge with a new idempotency key faults again', async () => {
    await faultsAgainWithANewKey(chargeOp(9002));
  });

  it('refunds of 9001-9004 yen: fault once per idempotency key; the refund status tells the truth; refunded once', async () => {
    for (const value of VALUES) {
      const number = newCard();
      const c = await prepaid('POST', '/v2/charges', { shop_code: 'PP0001', idempotency_key: unique('charge'), card_number: number, amount: 9500 });
      assert.equal(c.status, 201, c.text);
      await proveFault(value, {
        send: (key) => prepaid('POST', `/v2/charges/${c.json.charge_id}/refunds`, { shop_code: 'PP0001', idempotency_key: key, amount: value }),
        ledger: async () => [await balance(number), (await inspect(`/sandbox/prepaid/charges/${c.json.charge_id}`)).refunded],
        done: ([b, r]) => [b + value, r + value],
        status: byKey('refunds'),
        idOf: (j) => j?.refund_id,
      });
    }
  });
});

describe('CyberSource sandbox faults', () => {
  const card = { number: '4111111111111111', expirationMonth: '12', expirationYear: '2031', securityCode: '123' };
  const authBody = (code, tid, amount, capture = false) => ({
    clientReferenceInformation: { code, transactionId: tid },
    processingInformation: { capture },
    paymentInformation: { card },
    orderInformation: { amountDetails: { totalAmount: String(amount), currency: 'JPY' } },
  });
  const references = async (code) => inspect(`/sandbox/cybersource/inspect/references/${code}`);
  const payment = async (id) => inspect(`/sandbox/cybersource/inspect/payments/${id}`);
  const search = async (tid) => {
    const r = await cybersource('POST', '/tss/v2/searches', { query: `clientReferenceInformation.transactionId:${tid}`, limit: 10 });
    assert.equal(r.status, 201, r.text);
    const [first] = r.json._embedded.transactionSummaries;
    return first ? { found: true, id: first.id } : { found: false };
  };
  const authorized = async (amount, capture = false) => {
    const r = await cybersource('POST', '/pts/v2/payments', authBody(unique('cs'), digits(18), amount, capture));
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.status, 'AUTHORIZED');
    return r.json.id;
  };

  for (const value of VALUES) {
    it(`authorization of ${value} yen: faults once per transactionId; the transaction search tells the truth; authorized once`, async () => {
      const code = unique('cs');
      const { id } = await proveFault(value, {
        send: (tid) => cybersource('POST', '/pts/v2/payments', authBody(code, tid, value)),
        ledger: async () => (await references(code)).payments.map((p) => [p.status, p.authorized]),
        done: () => [['AUTHORIZED', value]],
        status: search,
        idOf: (j) => j?.id,
        key: digits(18),
      });
      const t = await cybersource('GET', `/tss/v2/transactions/${id}`);
      assert.equal(t.status, 200, t.text);
      assert.equal(t.json.applicationInformation.status, 'AUTHORIZED');
      assert.equal(t.json.orderInformation.amountDetails.authorizedAmount, String(value));
    });
  }

  it('an authorization whose answer never came is undone by a timeout reversal of its transactionId, once', async () => {
    const code = unique('cs');
    const tid = digits(18);
    const first = await cybersource('POST', '/pts/v2/payments', authBody(code, tid, 9003));
    assert.equal(first.status, 500);
    const noneBody = { clientReferenceInformation: { transactionId: tid }, reversalInformation: { amountDetails: { totalAmount: '9003', currency: 'JPY' }, reason: 'timeout' } };
    // The reversal's amount is a fault value too: it faults once (9003: not performed).
    assert.equal((await cybersource('POST', '/pts/v2/reversals', noneBody)).status, 500);
    const none = await cybersource('POST', '/pts/v2/reversals', noneBody);
    assert.equal(none.status, 400, 'nothing to reverse: the authorization never happened');
    assert.equal(none.json.status, 'INVALID_REQUEST');
    assert.deepEqual(none.json.details, [{ field: 'clientReferenceInformation.transactionId', reason: 'INVALID_DATA' }]);

    const tid2 = digits(18);
    const late = await cybersource('POST', '/pts/v2/payments', authBody(code, tid2, 9002));
    assert.equal(late.status, 500);
    const rev = { clientReferenceInformation: { transactionId: tid2 }, reversalInformation: { amountDetails: { totalAmount: '9002', currency: 'JPY' }, reason: 'timeout' } };
    // The reversal of 9002 yen faults once too (performed, then 500); the retry replays it.
    assert.equal((await cybersource('POST', '/pts/v2/reversals', rev)).status, 500);
    const r = await cybersource('POST', '/pts/v2/reversals', rev);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.status, 'REVERSED');
    assert.equal(r.json.reversalAmountDetails.reversedAmount, '9002');
    const again = await cybersource('POST', '/pts/v2/reversals', rev);
    assert.deepEqual([again.status, again.json.id], [201, r.json.id], 'a repeated timeout reversal answers as the first');
    const [p] = (await references(code)).payments.filter((x) => x.transactionId === tid2);
    assert.equal(p.status, 'REVERSED');
    assert.equal(p.authorized, 0);
    assert.equal(p.reversals.length, 1, 'reversed once');
    const found = await search(tid2);
    const t = await cybersource('GET', `/tss/v2/transactions/${found.id}`);
    assert.equal(t.json.applicationInformation.status, 'REVERSED');
  });

  it('captures of 9002 and 9003 yen fault once per reference; a capture whose answer never came is undone by a timeout void', async () => {
    for (const value of [9002, 9003]) {
      const id = await authorized(9500);
      const tids = {};
      const { id: captureId } = await proveFault(value, {
        send: (key) => cybersource('POST', `/pts/v2/payments/${id}/captures`, {
          clientReferenceInformation: { code: key, transactionId: (tids[key] ??= digits(18)) },
          orderInformation: { amountDetails: { totalAmount: String(value), currency: 'JPY' } },
        }),
        ledger: async () => (await payment(id)).captured,
        done: (b) => b + value,
        status: async (key) => search(tids[key]),
        idOf: (j) => j?.id,
      });
      if (value === 9002) {
        const tid = Object.values(tids)[0];
        const timeoutVoid = { clientReferenceInformation: { comments: 'VOID Timeout', transactionId: tid } };
        // A timeout void has no amount: it faults on the capture's (9002: performed, then 500).
        assert.equal((await cybersource('POST', '/pts/v2/voids', timeoutVoid)).status, 500);
        assert.equal((await payment(id)).captured, 0, 'the capture is undone');
        const v = await cybersource('POST', '/pts/v2/voids', timeoutVoid);
        assert.equal(v.status, 201, v.text);
        assert.equal(v.json.status, 'VOIDED');
        assert.equal(v.json.voidAmountDetails.voidAmount, '9002');
        assert.equal((await payment(id)).captured, 0, 'the capture is undone');
        const t = await cybersource('GET', `/tss/v2/transactions/${captureId}`);
        assert.equal(t.json.applicationInformation.status, 'VOIDED');
        const again = await cybersource('POST', '/pts/v2/voids', { clientReferenceInformation: { transactionId: tid } });
        assert.deepEqual([again.status, again.json.id], [201, v.json.id], 'a repeated timeout void answers as the first');
        assert.equal((await payment(id)).captured, 0);
      }
    }
    const nothing = await cybersource('POST', '/pts/v2/voids', { clientReferenceInformation: { transactionId: digits(18) } });
    assert.equal(nothing.status, 400);
    assert.equal(nothing.json.reason, 'INVALID_DATA');
  });

  it('a refund of 9004 yen breaks off once per reference, refunded once; a (partial) authorization reversal of 9001 yen answers late, reversed once', async () => {
    const sale = await authorized(9500, true);
    const tids = {};
    await proveFault(9004, {
      send: (key) => cybersource('POST', `/pts/v2/payments/${sale}/refunds`, {
        clientReferenceInformation: { code: key, transactionId: (tids[key] ??= digits(18)) },
        orderInformation: { amountDetails: { totalAmount: '9004', currency: 'JPY' } },
      }),
      ledger: async () => (await payment(sale)).refunded,
      done: (b) => b + 9004,
      status: async (key) => search(tids[key]),
      idOf: (j) => j?.id,
    });

    const auth = await authorized(9500);
    await proveFault(9001, {
      send: (key) => cybersource('POST', `/pts/v2/payments/${auth}/reversals`, {
        clientReferenceInformation: { code: key },
        reversalInformation: { amountDetails: { totalAmount: '9001' }, reason: 'cancelled' },
      }),
      ledger: async () => { const p = await payment(auth); return [p.status, p.authorized, p.reversals.length]; },
      done: () => ['AUTHORIZED', 9500 - 9001, 1],
      status: async () => {
        const t = await cybersource('GET', `/tss/v2/transactions/${auth}`);
        const [rel] = t.json._links.relatedTransactions;
        return rel ? { found: true, id: rel.href.split('/').pop() } : { found: false };
      },
      idOf: (j) => j?.id,
    });
  });
});

describe('au sandbox faults', () => {
  /** A payment the shopper completed on KDDI's pages: specified sales, authorized. */
  async function authorizedAu(amount) {
    const body = {
      merchant_code: 'AU0001', service_ref: unique('au'), amount, item_name: 'fault test', sales_mode: 'specified',
      return_url: `${worker.base}/faults/return`, limit_at: Math.floor(Date.now() / 1000) + 600, open_id: null,
    };
    let start = await au('POST', '/api/v1/payments', body);
    if (amount >= 9001 && amount <= 9004) {
      // The start of a payment of a fault value faults too, once per service_ref.
      assert.equal(start.status, 500, start.text);
      start = await au('POST', '/api/v1/payments', body);
    }
    assert.equal(start.status, 201, start.text);
    const page = await call(start.json.login_url);
    const post = (path, fields) => call(`${worker.base}/sandbox/au${path}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
    });
    const login = await post('/login', { tx: hiddenFields(page.text).tx, au_id: `au-ok-${digits(8)}`, password: 'pw' });
    assert.equal(login.status, 200, login.text);
    const h = hiddenFields(login.text);
    const done = await post('/complete', { tx: h.tx, ticket: h.ticket ?? '', payment_method: 'au_phone_bill', action: 'pay' });
    assert.equal(done.status, 200, done.text);
    return start.json.transaction_id;
  }
  const ledger = (tx) => async () => {
    const r = await au('GET', `/api/v1/payments/${tx}`);
    return [r.json.authorized, r.json.captured, r.json.refunded];
  };
  const opStatus = (tx) => async (key) => {
    const r = await au('GET', `/api/v1/payments/${tx}/operations/${key}`);
    if (r.status === 404) { assert.equal(r.json.error_code, 'E_NOT_FOUND'); return { found: false }; }
    return { found: true, id: r.json.operation_id };
  };

  for (const value of VALUES) {
    it(`capture of ${value} yen: faults once per idempotency key; the operation status tells the truth; captured once`, async () => {
      const tx = await authorizedAu(9500);
      await proveFault(value, {
        send: (key) => au('POST', `/api/v1/payments/${tx}/capture`, { merchant_code: 'AU0001', idempotency_key: key, amount: value }),
        ledger: ledger(tx),
        done: ([a, , r]) => [a, value, r],
        status: opStatus(tx),
        idOf: (j) => j?.operation_id,
      });
    });
  }

  it('a cancel faults on the transaction amount (9002), once per key; a refund of 9003 yen, once per key', async () => {
    const tx = await authorizedAu(9002);
    const cancel = (key) => au('POST', `/api/v1/payments/${tx}/cancel`, { merchant_code: 'AU0001', idempotency_key: key });
    const key = unique('cancel');
    assert.equal((await cancel(key)).status, 500);
    assert.equal((await opStatus(tx)(key)).found, true, 'the cancel was performed');
    const retry = await cancel(key);
    assert.equal(retry.status, 200, retry.text);
    assert.equal((await opStatus(tx)(key)).id, retry.json.operation_id);
    const capture = await au('POST', `/api/v1/payments/${tx}/capture`, { merchant_code: 'AU0001', idempotency_key: unique('cap'), amount: 100 });
    assert.equal(capture.status, 409, 'the authorization was cancelled (once)');
    assert.equal(capture.json.error_code, 'E_STATE');

    // A full refund (au refunds in part only from the month after settlement).
    const paid = await authorizedAu(9003);
    const capture1 = { merchant_code: 'AU0001', idempotency_key: unique('cap'), amount: 9003 };
    assert.equal((await au('POST', `/api/v1/payments/${paid}/capture`, capture1)).status, 500, 'the capture of 9003 faults first');
    const c = await au('POST', `/api/v1/payments/${paid}/capture`, capture1);
    assert.equal(c.status, 200, c.text);
    await proveFault(9003, {
      send: (k) => au('POST', `/api/v1/payments/${paid}/refunds`, { merchant_code: 'AU0001', idempotency_key: k, amount: 9003 }),
      ledger: ledger(paid),
      done: ([a, cap, r]) => [a, cap, r + 9003],
      status: opStatus(paid),
      idOf: (j) => j?.operation_id,
    });
  });
});

describe('NP sandbox faults', () => {
  const registration = (shopId, amount) => ({
    shop_code: 'NP0001', shop_transaction_id: shopId, shop_order_date: new Date().toISOString().slice(0, 10), billed_amount: amount,
    customer: {
      customer_name: '山田 太郎', customer_name_kana: 'ヤマダ タロウ', zip_code: '1500001', address: '東京都渋谷区神宮前1-2-3',
      tel: `03${digits(8)}`, email: `f${digits(8)}@example.jp`,
    },
    goods: [{ goods_name: 'fault test', goods_price: amount, quantity: 1 }],
  });
  const tx = async (id) => {
    const r = await call(`${worker.base}/sandbox/np/transactions/${id}`);
    return r.status === 404 ? null : r.json;
  };
  const view = async (id) => { const t = await tx(id); return t && [t.status, t.billed_amount, t.sold_amount, t.refunded_amount]; };

  for (const value of VALUES) {
    it(`registration of ${value} yen: faults once per shop_transaction_id; the transaction status tells the truth; registered once`, async () => {
      const shopId = unique('np');
      const body = registration(shopId, value);
      await proveFault(value, {
        key: shopId,
        send: () => np('POST', '/v1/transactions', body),
        ledger: () => view(shopId),
        done: () => ['approved', value, 0, 0],
        status: async (id) => {
          const r = await np('GET', `/v1/transactions/${id}`);
          if (r.status === 404) return { found: false };
          return { found: true, id: r.json.np_transaction_id };
        },
        idOf: (j) => j?.np_transaction_id,
      });
    });
  }

  it('a shipment report faults on the transaction amount (9004) and a refund of 9002 yen, once per key; each status tells the truth', async () => {
    const shopId = unique('np');
    const reg = registration(shopId, 9004);
    const broken = await np('POST', '/v1/transactions', reg);
    assert.ok(broken.readError, 'the registration itself faults first (9004: the read fails)');
    const r = await np('POST', '/v1/transactions', reg);
    assert.equal(r.status, 201, r.text);
    const npId = r.json.np_transaction_id;
    const opStatus = (op) => async (key) => {
      const s = await np('GET', `/v1/transactions/${npId}/${op}/${key}`);
      if (s.status === 404) return { found: false };
      return { found: true, id: s.json.shipment_id ?? s.json.refund_id };
    };
    await proveFault(9004, {
      send: (key) => np('POST', `/v1/transactions/${npId}/shipments`, { shop_code: 'NP0001', idempotency_key: key }),
      ledger: () => view(npId),
      done: () => ['shipped', 9004, 9004, 0],
      status: opStatus('shipments'),
      idOf: (j) => j?.shipment_id,
    });
    await proveFault(9002, {
      send: (key) => np('POST', `/v1/transactions/${npId}/refunds`, { shop_code: 'NP0001', idempotency_key: key, amount: 9002 }),
      ledger: () => view(npId),
      done: () => ['shipped', 9004, 9004, 9002],
      status: opStatus('refunds'),
      idOf: (j) => j?.refund_id,
    });
  });

  it('a registration with a new shop_transaction_id faults again', async () => {
    const shopId = unique('np');
    assert.equal((await np('POST', '/v1/transactions', registration(shopId, 9002))).status, 500);
    assert.equal((await tx(shopId)).status, 'approved', 'performed');
  });
});
