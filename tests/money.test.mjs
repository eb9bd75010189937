// Money moves exactly once (issue 8): every provider operation is journaled
// before the provider is called, carries a key that makes a retry the same
// request, and is reconciled when its answer is unclear. Each test ends by
// comparing our record with the provider sandbox's ledger (balances).
//
// Faults are made by a fault proxy between the Worker and the sandboxes:
// it forwards a request to the real sandbox (so the provider does the
// operation), then drops the connection before the answer reaches us, or
// holds the answer while the test kills the Worker.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { advanceClock, api, eventually, openCheckout, purchase, returnForm, signedApi, startMerchant, startWorker } from './lib/harness.mjs';

/** A proxy to the Worker's sandboxes that misbehaves on demand. */
async function startFaultProxy() {
  const p = {
    target: '',
    /** [{ method, path: RegExp, action: 'drop' | 'hold', times }] */
    faults: [],
    seen: [],
    held: [],
  };
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const path = req.url;
    p.seen.push(`${req.method} ${path}`);
    const fault = p.faults.find((f) => f.times > 0 && f.method === req.method && f.path.test(path));
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
    let answer;
    try {
      answer = await fetch(`${p.target}${path}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : body, redirect: 'manual' });
    } catch (e) {
      res.writeHead(502);
      res.end(String(e));
      return;
    }
    const text = await answer.text();
    if (fault) {
      fault.times -= 1;
      if (fault.action === 'drop') {
        // The provider did it; the answer never arrives.
        req.socket.destroy();
        return;
      }
      if (fault.action === 'hold') {
        p.held.push(res);
        return;
      }
    }
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(text);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  p.base = `http://127.0.0.1:${server.address().port}`;
  p.close = () => new Promise((r) => { for (const h of p.held) h.socket?.destroy(); server.closeAllConnections?.(); server.close(r); });
  return p;
}

let worker;
let merchant;
let proxy;

function proxiedVars() {
  return {
    NETCASH_BASE_URL: `${proxy.base}/sandbox/netcash`,
    PREPAID_BASE_URL: `${proxy.base}/sandbox/prepaid`,
    NP_BASE_URL: `${proxy.base}/sandbox/np`,
    PROVIDER_TIMEOUT_MS: '3000',
    WEBHOOK_TIMEOUT_MS: '1000',
  };
}

before(async () => {
  merchant = await startMerchant();
  proxy = await startFaultProxy();
  worker = await startWorker({ vars: proxiedVars() });
  proxy.target = worker.base;
});
after(async () => {
  await worker?.stop();
  await merchant?.close();
  await proxy?.close();
});

let seq = 0;
const uniq = () => `${Date.now() % 1e8}`.padStart(8, '0') + String(++seq).padStart(4, '0');
// Ends with a letter: never a test value (IDs ending 0000 or 9999 are refused by design).
const netcashId = () => `MONEY${uniq().slice(-10)}X`;
const prepaidCard = () => `7${uniq()}123`.slice(0, 16);
const netcashBalance = async (id) => (await api(worker, 'GET', `/sandbox/netcash/ids/${id}`)).json.balance;
const prepaidBalance = async (n) => (await api(worker, 'GET', `/sandbox/prepaid/cards/${n}`)).json.balance;
const payment = async (id) => (await signedApi(worker, 'GET', `/v1/payments/${id}`)).json;

async function paidWithPrepaid(amount = 1100) {
  const card = prepaidCard();
  const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'prepaid', amount: String(amount), tax: '0' }));
  const r = await api(worker, 'POST', `/pay/${pay}/prepaid`, { card_number: card });
  assert.equal(r.json.status, 'paid', r.text);
  return { pay, card };
}

describe('unclear answers are reconciled, never taken as "nothing happened"', () => {
  it('a debit whose answer and first status query are lost: the page waits ("reconciling"), offers no second attempt, and ends paid exactly once', async () => {
    const id = netcashId();
    const pay = await openCheckout(worker, purchase(merchant));
    proxy.faults.push({ method: 'POST', path: /\/api\/v1\/payments$/, action: 'drop', times: 1 });
    proxy.faults.push({ method: 'GET', path: /\/api\/v1\/payments\//, action: 'drop', times: 1 });
    const r = await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: id });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.status, 'reconciling');
    assert.equal(await netcashBalance(id), 10000 - 1100, 'the provider did debit');
    assert.equal((await api(worker, 'GET', `/pay/${pay}/session`)).json.status, 'reconciling');

    const again = await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: id });
    assert.equal(again.status, 409, 'no second attempt while the first is unknown');
    assert.equal((await api(worker, 'POST', `/pay/${pay}/cancel`, {})).status, 409, 'no cancel either');

    await advanceClock(worker, 30);
    await eventually(async () => (await api(worker, 'GET', `/pay/${pay}/session`)).json.status === 'paid', { what: 'reconciled', timeoutMs: 30000 });
    const p = await payment(pay);
    assert.equal(p.captured, 1100);
    assert.equal(await netcashBalance(id), 10000 - 1100, "our books equal the provider's: one debit");
    assert.ok(merchant.notifications.some((n) => n.payload?.data?.tracking_id === pay && n.payload.data.status === 'paid'), 'the merchant was told before the shopper left');
  });

  it('a Worker stopped between the journal write and the provider answer: after the restart the attempt is reconciled, nothing lost, nothing doubled', async () => {
    const id = netcashId();
    const pay = await openCheckout(worker, purchase(merchant));
    proxy.faults.push({ method: 'POST', path: /\/api\/v1\/payments$/, action: 'hold', times: 1 });
    const pending = api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: id }).catch(() => null);
    await eventually(() => proxy.held.length > 0, { what: 'the debit reached the provider' });
    assert.equal(await netcashBalance(id), 10000 - 1100);
    const stateDir = worker.stateDir;
    await worker.stop();
    await pending;
    worker = await startWorker({ stateDir, vars: proxiedVars() });
    proxy.target = worker.base;
    assert.equal((await api(worker, 'GET', `/pay/${pay}/session`)).json.status, 'processing');
    // The call's lease runs out; the sweep asks NET CASH with the same request id.
    await advanceClock(worker, 200);
    await eventually(async () => (await payment(pay)).status === 'paid', { what: 'reconciled after restart', timeoutMs: 30000 });
    assert.equal(await netcashBalance(id), 10000 - 1100, 'one debit');
    const ops = (await signedApi(worker, 'GET', `/v1/payments/${pay}`)).json.operations;
    assert.equal(ops.filter((o) => o.kind === 'attempt' && o.state === 'succeeded').length, 1);
  });

  it('a refund whose answer is lost answers 202 "reconciling"; the retry with the same Idempotency-Key resolves the same refund, once', async () => {
    const { pay, card } = await paidWithPrepaid(2000);
    proxy.faults.push({ method: 'POST', path: /\/v2\/charges\/.*\/refunds$/, action: 'drop', times: 1 });
    const key = `refund-${uniq()}`;
    const first = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, { amount: 700 }, { headers: { 'idempotency-key': key } });
    assert.equal(first.status, 202, first.text);
    assert.equal(first.json.status, 'reconciling');
    assert.equal(await prepaidBalance(card), 10000 - 2000 + 700, 'the issuer refunded');
    const other = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, { amount: 900 }, { headers: { 'idempotency-key': key } });
    assert.equal(other.status, 409, 'the key stays this refund’s');
    const retry = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, { amount: 700 }, { headers: { 'idempotency-key': key } });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.json.refunded, 700);
    assert.equal(await prepaidBalance(card), 10000 - 2000 + 700, 'refunded once');
    const replay = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, { amount: 700 }, { headers: { 'idempotency-key': key } });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal((await payment(pay)).refunded, 700);
  });

  it('an unclear refund that nobody retries is reconciled by the alarm', async () => {
    const { pay, card } = await paidWithPrepaid(1500);
    proxy.faults.push({ method: 'POST', path: /\/v2\/charges\/.*\/refunds$/, action: 'drop', times: 1 });
    const r = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, { amount: 500 });
    assert.equal(r.status, 202, r.text);
    assert.equal((await payment(pay)).refunded, 0, 'not counted before it is known');
    const blocked = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, { amount: 1001 });
    assert.equal(blocked.status, 409);
    assert.equal(blocked.json.error.code, 'operation_in_progress', 'the unclear refund holds its amount');
    await advanceClock(worker, 30);
    await eventually(async () => (await payment(pay)).refunded === 500, { what: 'reconciled refund', timeoutMs: 30000 });
    assert.equal(await prepaidBalance(card), 10000 - 1500 + 500);
    const fits = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, { amount: 1000 });
    assert.equal(fits.status, 200, 'what fits beside the reservation may go on');
    assert.equal(await prepaidBalance(card), 10000, 'the issuer and we agree: everything refunded, once');
    assert.equal((await payment(pay)).status, 'refunded');
  });
});

describe('sandbox fault values end with our books equal to the provider ledger', () => {
  it('prepaid 9002 (charged, then HTTP 500): the checkout reconciles to paid; the card is debited once', async () => {
    const card = prepaidCard();
    const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'prepaid', amount: '9002', tax: '0' }));
    const r = await api(worker, 'POST', `/pay/${pay}/prepaid`, { card_number: card });
    assert.equal(r.status, 202, r.text);
    assert.equal(await prepaidBalance(card), 10000 - 9002, 'the issuer did charge');
    await advanceClock(worker, 30);
    await eventually(async () => (await payment(pay)).status === 'paid', { what: 'reconciled charge', timeoutMs: 30000 });
    assert.equal((await payment(pay)).captured, 9002);
    assert.equal(await prepaidBalance(card), 10000 - 9002, 'once');
  });

  it('prepaid 9003 (HTTP 500, nothing charged): the checkout reconciles back to pending and the shopper may pay again', async () => {
    const card = prepaidCard();
    const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'prepaid', amount: '9003', tax: '0' }));
    const r = await api(worker, 'POST', `/pay/${pay}/prepaid`, { card_number: card });
    assert.equal(r.status, 202, r.text);
    assert.equal(await prepaidBalance(card), 10000, 'nothing charged');
    await advanceClock(worker, 30);
    await eventually(async () => (await payment(pay)).status === 'pending', { what: 'reconciled: nothing happened', timeoutMs: 30000 });
    const again = await api(worker, 'POST', `/pay/${pay}/prepaid`, { card_number: card });
    assert.equal(again.status, 202, 'a new attempt (a new key) meets the fault again');
    await advanceClock(worker, 30);
    await eventually(async () => (await payment(pay)).status === 'pending', { what: 'second attempt reconciled', timeoutMs: 30000 });
    assert.equal(await prepaidBalance(card), 10000);
  });
});

describe('card and NP faults end with our books equal to the provider ledger', () => {
  const cardBody = { number: '4111 1111 1111 1111', exp_month: '12', exp_year: '2030', cvc: '123', option: { kind: 'single' } };
  const cyber = async (ref) => (await api(worker, 'GET', `/sandbox/cybersource/inspect/references/${ref}`)).json;

  it('card 9001 (authorized and captured, the answer after our timeout): undone at CyberSource by its transactionId; the checkout is open again, nothing stands', async () => {
    const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'card', amount: '9001', tax: '0' }));
    const r = await api(worker, 'POST', `/pay/${pay}/card`, cardBody);
    assert.equal(r.status, 202, r.text);
    // The timeout void carries the same fault amount and meets its fault once
    // too: keep moving the clock until the backoff asks again.
    await eventually(async () => {
      await advanceClock(worker, 60);
      return (await payment(pay)).status === 'pending';
    }, { what: 'reconciled card attempt', timeoutMs: 60000, everyMs: 1000 });
    const seen = await cyber(`${pay}-1`);
    assert.equal(seen.payments.length, 1);
    const cs = seen.payments[0];
    assert.ok(cs.voids.length + cs.reversals.length === 1, JSON.stringify(cs));
    assert.equal((await payment(pay)).captured, 0, 'nothing captured on our side either');
  });

  it('card settle 9003 (HTTP 500, nothing captured): 202, then reconciled: CyberSource has no such capture, it is sent again with the same key and captured once', async () => {
    const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'card', amount: '20000', tax: '0', sales_mode: 'specified' }));
    const r = await api(worker, 'POST', `/pay/${pay}/card`, cardBody);
    assert.equal(r.json.status, 'authorized', r.text);
    const key = `settle-${uniq()}`;
    const first = await signedApi(worker, 'POST', `/v1/payments/${pay}/settle`, { amount: 9003 }, { headers: { 'idempotency-key': key } });
    assert.equal(first.status, 202, first.text);
    const retry = await signedApi(worker, 'POST', `/v1/payments/${pay}/settle`, { amount: 9003 }, { headers: { 'idempotency-key': key } });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.json.captured, 9003);
    const cs = (await cyber(`${pay}-1`)).payments[0];
    assert.equal(cs.captured, 9003, 'captured once at CyberSource');
  });

  it('NP 9002 (registered and approved, then HTTP 500): reconciled through NP\'s status by our transaction id to authorized', async () => {
    const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'np', amount: '9002', tax: '0' }));
    const n = uniq();
    const r = await api(worker, 'POST', `/pay/${pay}/np`, {
      name: '山田 太郎', kana: 'ヤマダ タロウ', postal_code: '150-0001', address: '東京都渋谷区神宮前1-2-3',
      phone: `080${n.slice(-8)}`, email: `fault${n}@example.jp`,
    });
    assert.equal(r.status, 202, r.text);
    await advanceClock(worker, 30);
    await eventually(async () => (await payment(pay)).status === 'authorized', { what: 'reconciled NP registration', timeoutMs: 30000 });
    const tx = (await api(worker, 'GET', `/sandbox/np/transactions/${pay}-1`)).json;
    assert.equal(tx.billed_amount, 9002, 'one NP transaction, of the payment amount');
    assert.equal(tx.status, 'approved');
    assert.equal((await payment(pay)).operations.filter((o) => o.kind === 'attempt').length, 1);
    assert.equal((await payment(pay)).instrument.startsWith('NP postpaid'), true);
  });
});

describe("the merchant's NG when the rollback's answer is lost", () => {
  it('the shopper goes to error_url (NG), the payment needs the merchant (refund_required), and the reconciled cancel ends it cancelled at NP and here', async () => {
    merchant.answer = 'NG,out of stock';
    try {
      const pay = await openCheckout(worker, purchase(merchant, { pay_method: 'np' }));
      proxy.faults.push({ method: 'POST', path: /\/v1\/transactions\/np_[^/]+\/cancel$/, action: 'drop', times: 1 });
      const n = uniq();
      const r = await api(worker, 'POST', `/pay/${pay}/np`, {
        name: '山田 太郎', kana: 'ヤマダ タロウ', postal_code: '150-0001', address: '東京都渋谷区神宮前1-2-3',
        phone: `090${n.slice(-8)}`, email: `money${n}@example.jp`,
      });
      assert.equal(r.json.status, 'refund_required', r.text);
      const { action, fields } = returnForm(await (await fetch(`${worker.base}${r.json.next}`)).text());
      assert.equal(action, `${merchant.base}/error`, 'the shopper is sent to error_url');
      assert.equal(fields.res_result, 'NG');
      assert.equal((await api(worker, 'GET', `/sandbox/np/transactions/${pay}-1`)).json.status, 'cancelled', 'NP did cancel');
      await advanceClock(worker, 30);
      await eventually(async () => (await payment(pay)).status === 'cancelled', { what: 'reconciled rollback', timeoutMs: 30000 });
      const p = await payment(pay);
      assert.equal(p.operations.filter((o) => o.origin === 'rollback' && o.state === 'succeeded').length, 1);
    } finally {
      merchant.answer = 'OK,';
    }
  });
});

describe('parallel duplicates move money once', () => {
  it('50 identical concurrent refunds with one Idempotency-Key: one refund at the issuer', async () => {
    const { pay, card } = await paidWithPrepaid(3000);
    const key = `dup-${uniq()}`;
    const answers = await Promise.all(Array.from({ length: 50 }, () =>
      signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, { amount: 1000 }, { headers: { 'idempotency-key': key } })));
    assert.ok(answers.some((a) => a.status === 200), answers.map((a) => a.status).join(','));
    assert.ok(answers.every((a) => a.status === 200 || (a.status === 409 && a.json.error.code === 'idempotency_key_in_use')), answers.map((a) => a.text).join('\n'));
    assert.equal(await prepaidBalance(card), 10000 - 3000 + 1000);
    assert.equal((await payment(pay)).refunded, 1000);
  });

  it('50 concurrent full refunds without a key: exactly one reaches the issuer, the rest are refused with a code', async () => {
    const { pay, card } = await paidWithPrepaid(2500);
    const answers = await Promise.all(Array.from({ length: 50 }, () => signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, {})));
    assert.equal(answers.filter((a) => a.status === 200).length, 1, answers.map((a) => a.status).join(','));
    for (const a of answers.filter((x) => x.status !== 200)) {
      assert.ok(['operation_in_progress', 'refund_not_allowed'].includes(a.json.error.code), a.text);
    }
    assert.equal(await prepaidBalance(card), 10000);
    const p = await payment(pay);
    assert.equal(p.refunded, 2500);
    assert.equal(p.status, 'refunded');
  });

  it('50 concurrent pay clicks: one debit', async () => {
    const id = netcashId();
    const pay = await openCheckout(worker, purchase(merchant));
    const answers = await Promise.all(Array.from({ length: 50 }, () => api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: id })));
    assert.equal(answers.filter((a) => a.status === 200).length, 1, answers.map((a) => a.text).join('\n'));
    assert.equal(await netcashBalance(id), 10000 - 1100);
    assert.equal((await payment(pay)).captured, 1100);
  });
});

describe('strict amounts', () => {
  it('"500", 500.0, -1, 0 and unknown fields are refused with a field code and change nothing', async () => {
    const { pay, card } = await paidWithPrepaid(1100);
    for (const [body, code] of [
      [{ amount: '500' }, 'invalid_amount'],
      [{ amount: 500.5 }, 'invalid_amount'],
      [{ amount: -1 }, 'invalid_amount'],
      [{ amount: 0 }, 'invalid_amount'],
      [{ amount: 100, reason: 'x' }, 'unknown_field'],
    ]) {
      const r = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.json.error.code, code);
    }
    // 500.0 is the same JSON text as 500 in some serializers: send it raw.
    const raw = await signedApi(worker, 'POST', `/v1/payments/${pay}/refund`, '{"amount": 500.0}');
    assert.equal(raw.status, 400, raw.text);
    assert.equal(raw.json.error.code, 'invalid_amount');
    assert.equal(await prepaidBalance(card), 10000 - 1100);
    assert.equal((await payment(pay)).refunded, 0);
  });
});
